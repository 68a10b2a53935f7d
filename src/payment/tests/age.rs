//! Orders with an age limit: the payment carries `minimumUserAge`, and a decline or a push
//! Vipps could not deliver says "this purchase has an age limit" (never why).

use super::*;
use crate::phone::{CountryCode, PhoneNumber};

/// The sample order with beer on it (18) and a line of 20.
fn age_limited() -> Order {
    let mut o = order("order-0001");
    o.lines[0].minimum_age = Some(18);
    o.lines[1].minimum_age = Some(20);
    o
}

#[test]
fn every_payment_of_an_age_limited_order_carries_the_largest_limit() {
    let mut h = h();
    let fx = h.step(Input::OrderReceived(age_limited()));
    assert_eq!(
        creates(&fx)[0].0.minimum_user_age,
        Some(20),
        "the QR payment"
    );
    h.created(Some(TARGET));
    h.step(scan(QR));
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    assert_eq!(creates(&fx)[0].0.minimum_user_age, Some(20), "the push");
    // Without a limit the field is absent.
    let mut h2 = super::h();
    let fx = h2.step(Input::OrderReceived(order("order-0002")));
    assert_eq!(creates(&fx)[0].0.minimum_user_age, None);
}

#[test]
fn an_age_limited_order_is_never_paid_through_ecom_which_cannot_carry_the_limit() {
    let mut m = Machine::new(Config {
        one_time_qr_api: Api::Ecom,
        ..Config::default()
    });
    let now = Instant::now();
    let fx = m.step(Input::OrderReceived(age_limited()), now);
    let api = fx.iter().find_map(|e| match e {
        Effect::Create { api, .. } => Some(*api),
        _ => None,
    });
    assert_eq!(api, Some(Api::Epayment));
    let fx = Machine::new(Config {
        one_time_qr_api: Api::Ecom,
        ..Config::default()
    })
    .step(Input::OrderReceived(order("order-0002")), now);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Create { api: Api::Ecom, .. }))
    );
}

#[test]
fn a_push_vipps_cannot_deliver_for_an_age_limited_order_says_so_neutrally() {
    let mut h = h();
    h.step(Input::AssistedOrder {
        order: age_limited(),
        to: PushTo::Phone(PhoneNumber::new(CountryCode::Norway, "41234567").expect("valid")),
    });
    let fx = h.step(Input::Created {
        reference: h.reference(),
        result: Err(api_err(400, Some(7010), false)),
        valid_for: None,
    });
    assert_eq!(statuses(&fx), vec![OrderStatus::Failed]);
    assert!(matches!(
        h.state(),
        State::Failed {
            reason: FailureReason::AgeLimit,
            order: Some(_),
            ..
        }
    ));
    // An invalid number is still an invalid number.
    let mut h = super::h();
    h.step(Input::OrderReceived(age_limited()));
    h.created(Some(TARGET));
    h.step(scan(QR));
    h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    h.step(Input::Created {
        reference: h.reference(),
        result: Err(api_err(400, Some(4060), false)),
        valid_for: None,
    });
    assert!(matches!(
        h.state(),
        State::Failed {
            reason: FailureReason::NotVippsCode,
            ..
        }
    ));
}

#[test]
fn a_decline_of_an_age_limited_order_says_so_and_one_without_says_cancelled_in_app() {
    for (o, reason) in [
        (age_limited(), FailureReason::AgeLimit),
        (order("order-0001"), FailureReason::CancelledInApp),
    ] {
        let mut h = h();
        h.step(Input::OrderReceived(o));
        h.created(Some(TARGET));
        h.step(scan(QR));
        h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
        h.created(None);
        h.tick_after(Duration::from_secs(1));
        h.polled(Ok(observed(PaymentState::Aborted, 0, 0)));
        assert!(
            matches!(h.state(), State::Failed { reason: r, order: Some(_), .. } if *r == reason),
            "{:?}",
            h.state()
        );
    }
    // The one-time QR declined in the app, likewise.
    let mut h = h();
    h.step(Input::OrderReceived(age_limited()));
    h.created(Some(TARGET));
    h.tick_after(Duration::from_secs(1));
    h.polled(Ok(observed(PaymentState::Aborted, 0, 0)));
    assert!(matches!(
        h.state(),
        State::Failed {
            reason: FailureReason::AgeLimit,
            ..
        }
    ));
}
