//! Pushing to the customer by phone number (the keypad) or as the cashier hands them over:
//! the same first-wins rule as a scanned personal QR.

use super::*;
use crate::phone::{CountryCode, PhoneNumber};

fn number() -> PhoneNumber {
    PhoneNumber::new(CountryCode::Norway, "41234567").expect("valid")
}

#[test]
fn a_typed_number_cancels_the_live_qr_first_then_pushes_to_the_number() {
    let mut h = h();
    h.waiting();
    let fx = h.step(Input::PhoneEntered(number()));
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-1".into(), true, "cancelq1-order-0001-1".into())],
        "transaction-only first"
    );
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    let c = creates(&fx);
    assert_eq!(c[0].0.user_flow, UserFlow::PushMessage);
    let customer = c[0].0.customer.clone().expect("a customer");
    assert_eq!(customer.phone_number.as_deref(), Some("4741234567"));
    assert_eq!(customer.personal_qr, None);
    assert!(
        matches!(h.state(), State::Scanned { payment, .. } if payment.method == Method::PhoneNumber)
    );
}

#[test]
fn a_typed_number_meeting_an_approval_of_the_qr_captures_the_qr() {
    let mut h = h();
    h.waiting();
    h.step(Input::PhoneEntered(number()));
    let fx = h.cancel_answer(Err(api_err(400, Some(6060), false)));
    assert_eq!(captures(&fx).len(), 1);
    assert!(creates(&fx).is_empty(), "no push once the QR was paid");
}

#[test]
fn the_cashier_hands_the_customer_over_for_the_order_on_screen() {
    let mut h = h();
    h.waiting();
    let fx = h.step(Input::CustomerHandedOver {
        order_id: "another-order".into(),
        to: PushTo::Phone(number()),
    });
    assert!(matches!(fx.as_slice(), [Effect::Refused { .. }]), "{fx:?}");
    let fx = h.step(Input::CustomerHandedOver {
        order_id: "order-0001".into(),
        to: PushTo::PersonalQr(crate::scan::PersonalQr::new(QR)),
    });
    assert_eq!(cancels(&fx).len(), 1);
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    assert_eq!(
        creates(&fx)[0]
            .0
            .customer
            .as_ref()
            .and_then(|c| c.personal_qr.as_deref()),
        Some(QR)
    );
    // Once paid, a hand-over is refused.
    h.created(None);
    h.tick_after(Duration::from_secs(1));
    h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    let fx = h.step(Input::CustomerHandedOver {
        order_id: "order-0001".into(),
        to: PushTo::Phone(number()),
    });
    assert!(matches!(fx.as_slice(), [Effect::Refused { .. }]), "{fx:?}");
}

#[test]
fn an_order_that_comes_with_its_customer_pushes_at_once_without_a_qr() {
    let mut h = h();
    let fx = h.step(Input::AssistedOrder {
        order: order("order-0001"),
        to: PushTo::Phone(number()),
    });
    let c = creates(&fx);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].0.user_flow, UserFlow::PushMessage);
    assert_eq!(c[0].0.reference, "order-0001-1");
    assert_eq!(statuses(&fx), vec![OrderStatus::Scanned]);
    assert!(matches!(h.state(), State::Scanned { .. }));
    // An unknown number gets the same neutral "not found" as a personal QR.
    h.step(Input::Created {
        reference: h.reference(),
        result: Err(api_err(400, Some(7010), false)),
        valid_for: None,
    });
    assert!(matches!(
        h.state(),
        State::Failed {
            reason: FailureReason::CustomerNotFound,
            order: Some(_),
            ..
        }
    ));
}

/// A POS that sends the same hand-over again (its first answer lost) while the one-time QR is
/// still being stopped changes nothing: one cancel, one push, no notice to the customer.
#[test]
fn the_same_hand_over_again_while_the_qr_is_stopped_pushes_once() {
    let mut h = h();
    h.waiting();
    let hand_over = || Input::CustomerHandedOver {
        order_id: "order-0001".into(),
        to: PushTo::Phone(number()),
    };
    assert_eq!(cancels(&h.step(hand_over())).len(), 1);
    let fx = h.step(hand_over());
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(h.m.notice(h.now), None);
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    assert_eq!(creates(&fx).len(), 1);
    // Another customer meanwhile would be a second push: refused while the first is under way.
    let fx = h.step(Input::CustomerHandedOver {
        order_id: "order-0001".into(),
        to: PushTo::Phone(PhoneNumber::new(CountryCode::Norway, "91234567").expect("valid")),
    });
    assert!(creates(&fx).is_empty() && cancels(&fx).is_empty(), "{fx:?}");
}

/// Vipps keeps refusing to stop the one-time QR for a push: the push goes out, the QR stays the
/// order's, and when the QR turns out approved first it is the one captured and the push
/// released (first wins), never the other way round.
#[test]
fn a_qr_whose_cancel_is_refused_for_good_still_wins_if_approved_first() {
    let mut h = h();
    h.waiting();
    let qr = h.reference();
    let mut fx = h.step(Input::PhoneEntered(number()));
    let mut refused = 0;
    for _ in 0..400 {
        if cancels(&fx).iter().any(|c| c.0 == qr) {
            refused += 1;
            fx = h.cancel_answer(Err(api_err(409, None, false)));
            if !creates(&fx).is_empty() {
                break;
            }
            continue;
        }
        fx = h.tick_after(Duration::from_millis(250));
        if polls(&fx) == 1 {
            fx.extend(h.polled(Ok(observed(PaymentState::Created, 0, 0))));
        }
    }
    assert_eq!(refused, 3, "bounded rounds");
    let push = creates(&fx)[0].0.reference.clone();
    assert_ne!(push, qr);
    h.created(None);
    // The customer had approved the QR after all.
    let fx = h.other_polled(&qr, Ok(observed(PaymentState::Authorized, 0, 0)));
    assert_eq!(
        captures(&fx).into_iter().map(|c| c.0).collect::<Vec<_>>(),
        vec![qr.clone()],
        "the QR approved first is captured: {fx:?}"
    );
    assert!(
        cancels(&fx).iter().any(|c| c.0 == push),
        "the push is released: {fx:?}"
    );
}
