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
    assert!(cancels(&fx).is_empty(), "{fx:?}");
    let fx = h.tick_after(Duration::from_secs(10));
    assert_eq!(
        cancels(&fx).len(),
        1,
        "renewed before the QR runs out: {fx:?}"
    );
}

#[test]
fn a_dead_qr_image_link_replaces_the_qr_and_stale_ones_are_ignored() {
    let mut h = ecom();
    h.waiting();
    let fx = h.step(Input::QrUnavailable {
        reference: "someone-else-1".into(),
    });
    assert!(fx.is_empty());
    let fx = h.step(Input::QrUnavailable {
        reference: h.reference(),
    });
    assert_eq!(cancels(&fx).len(), 1, "{fx:?}");
    assert!(matches!(
        h.state(),
        State::Cancelling {
            after: AfterCancel::Renew,
            ..
        }
    ));
}
