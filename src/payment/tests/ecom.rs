//! The eCom one-time QR and Vipps' own QR images.

use super::*;

fn ecom() -> H {
    H {
        m: Machine::new(Config {
            one_time_qr_api: Api::Ecom,
            qr_image: true,
            ..Config::default()
        }),
        now: Instant::now(),
    }
}

#[test]
fn ecom_payments_carry_their_api_and_push_payments_stay_epayment() {
    let mut h = ecom();
    let fx = h.step(Input::OrderReceived(order("order-0001")));
    assert!(
        matches!(fx.as_slice(), [Effect::Create { api: Api::Ecom, request, .. }, ..]
            if request.qr_format.as_ref().map(|f| f.format) == Some(QrFormatKind::ImagePng)),
        "{fx:?}"
    );
    h.created(Some(TARGET));
    let fx = h.tick_after(Duration::from_secs(1));
    assert!(
        matches!(fx.as_slice(), [Effect::Poll { api: Api::Ecom, .. }]),
        "{fx:?}"
    );
    // A personal QR: the eCom payment is cancelled with its API, the push is ePayment.
    h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    let fx = h.step(scan(QR));
    assert!(
        matches!(
            fx.as_slice(),
            [Effect::Cancel {
                api: Api::Ecom,
                transaction_only: true,
                ..
            }]
        ),
        "{fx:?}"
    );
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    assert!(
        matches!(
            fx.as_slice(),
            [
                Effect::Create {
                    api: Api::Epayment,
                    ..
                },
                ..
            ]
        ),
        "{fx:?}"
    );
}

#[test]
fn an_opened_ecom_qr_moves_to_approve_in_the_app_once() {
    let mut h = ecom();
    h.waiting();
    h.tick_after(Duration::from_secs(1));
    let fx = h.polled(Ok(Observed {
        opened: true,
        ..observed(PaymentState::Created, 0, 0)
    }));
    assert_eq!(statuses(&fx), vec![OrderStatus::Scanned]);
    let State::Scanned { payment, .. } = h.state() else {
        panic!("{:?}", h.state());
    };
    assert!(payment.opened && payment.method == Method::OneTimeQr);
    // The app gives the customer the push window from now on to approve.
    assert_eq!(payment.deadline, h.now + Config::default().push_window);
    // Later polls that still say "opened" change nothing; the approval captures.
    h.tick_after(Duration::from_secs(1));
    let fx = h.polled(Ok(Observed {
        opened: true,
        ..observed(PaymentState::Created, 0, 0)
    }));
    assert!(statuses(&fx).is_empty(), "{fx:?}");
    h.tick_after(Duration::from_secs(1));
    let fx = h.polled(Ok(Observed {
        opened: true,
        ..observed(PaymentState::Authorized, 0, 0)
    }));
    assert_eq!(captures(&fx).len(), 1);
}

#[test]
fn the_qr_valid_time_vipps_gives_brings_the_renewal_forward() {
    let mut h = ecom();
    h.step(Input::OrderReceived(order("order-0001")));
    let reference = h.reference();
    h.step(Input::Created {
        reference,
        result: Ok(Some(TARGET.into())),
        valid_for: Some(Duration::from_secs(120)),
    });
    let renew_before = Config::default().qr_renew_before;
    // Not yet: a minute and a bit before the 120 s are up.
    let fx = h.tick_after(Duration::from_secs(120) - renew_before - Duration::from_secs(5));
    assert!(creates(&fx).is_empty(), "{fx:?}");
    let fx = h.tick_after(Duration::from_secs(10));
    assert_eq!(
        creates(&fx).len(),
        1,
        "renewed before the QR runs out: {fx:?}"
    );
    assert!(
        cancels(&fx).is_empty(),
        "the old QR is not cancelled: {fx:?}"
    );
}

#[test]
fn a_qr_valid_for_a_moment_is_not_renewed_on_every_tick() {
    let mut h = ecom();
    h.step(Input::OrderReceived(order("order-0001")));
    let reference = h.reference();
    h.step(Input::Created {
        reference,
        result: Ok(Some(TARGET.into())),
        valid_for: Some(Duration::from_secs(10)),
    });
    let mut creates_sent = 0;
    for _ in 0..(5 * 10) {
        creates_sent += creates(&h.tick_after(Duration::from_millis(100))).len();
    }
    assert_eq!(creates_sent, 0, "not renewed within its first half minute");
    let fx = h.tick_after(Duration::from_secs(30));
    assert_eq!(creates(&fx).len(), 1, "{fx:?}");
}

#[test]
fn a_dead_qr_image_link_replaces_the_qr_and_stale_ones_are_ignored() {
    let mut h = ecom();
    h.waiting();
    let fx = h.step(Input::QrUnavailable {
        reference: "someone-else-1".into(),
    });
    assert!(fx.is_empty());
    let old = h.reference();
    let fx = h.step(Input::QrUnavailable {
        reference: old.clone(),
    });
    assert!(cancels(&fx).is_empty(), "{fx:?}");
    assert_eq!(creates(&fx).len(), 1, "a fresh QR: {fx:?}");
    assert!(matches!(h.state(), State::Waiting { attempt: 2, .. }));
    assert_eq!(
        h.m.others()
            .iter()
            .map(|o| (o.payment.reference.as_str(), o.role))
            .collect::<Vec<_>>(),
        vec![(old.as_str(), Role::Trailing)],
        "the old one is followed until it ends"
    );
}
