//! Scenarios of paying both ways: happy paths, scans, taps, stale answers, poll errors.

use super::*;

#[test]
fn one_time_qr_happy_path() {
    let mut h = h();
    let fx = h.step(Input::OrderReceived(order("order-0001")));
    let c = creates(&fx);
    assert_eq!(c.len(), 1);
    let (req, key) = c[0];
    assert_eq!(req.reference, "order-0001-1");
    assert_eq!(key, "create1-order-0001-1");
    assert_eq!(req.user_flow, UserFlow::Qr);
    assert_eq!(
        req.customer_interaction,
        Some(CustomerInteraction::CustomerPresent)
    );
    assert_eq!(
        req.qr_format.as_ref().map(|f| f.format),
        Some(QrFormatKind::TextTargetUrl)
    );
    assert_eq!(req.amount, amount());
    assert_eq!(req.receipt.as_ref().map(|r| r.order_lines.len()), Some(2));
    assert_eq!(statuses(&fx), vec![OrderStatus::Waiting]);

    assert!(h.created(Some(TARGET)).is_empty());
    assert_eq!(h.m.payment().and_then(|p| p.qr.as_deref()), Some(TARGET));
    assert_eq!(
        polls(&h.tick_after(Duration::from_millis(500))),
        0,
        "not before the interval"
    );
    assert_eq!(polls(&h.tick_after(Duration::from_millis(500))), 1);
    assert_eq!(
        polls(&h.tick_after(Duration::from_millis(500))),
        0,
        "one poll at a time"
    );
    assert!(
        h.polled(Ok(observed(PaymentState::Created, 0, 0)))
            .is_empty()
    );
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 1);

    let fx = h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    assert_eq!(
        captures(&fx),
        vec![(
            "order-0001-1".into(),
            amount(),
            "capture1-order-0001-1".into()
        )]
    );
    assert_eq!(statuses(&fx), vec![OrderStatus::Approved]);
    assert!(matches!(h.state(), State::Capturing { .. }));
    assert_eq!(
        polls(&h.tick_after(Duration::from_secs(2))),
        0,
        "no polling while capturing"
    );

    let fx = h.capture_answer(Ok(observed(PaymentState::Authorized, amount().value, 0)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Captured]);
    assert!(matches!(
        h.state(),
        State::Approved {
            method: Method::OneTimeQr,
            ..
        }
    ));
    h.tick_after(Duration::from_secs(5));
    assert!(matches!(h.state(), State::Approved { .. }));
    h.tick_after(Duration::from_secs(1));
    assert_eq!(h.state(), &State::Idle);
}

#[test]
fn personal_qr_cancels_the_live_qr_first_then_pushes() {
    let mut h = h();
    h.waiting();
    let fx = h.step(scan(QR));
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-1".into(), true, "cancelq1-order-0001-1".into())]
    );
    assert!(
        creates(&fx).is_empty(),
        "no push before the QR payment is confirmed cancelled"
    );
    assert!(matches!(
        h.state(),
        State::Cancelling {
            after: AfterCancel::Push(_),
            ..
        }
    ));
    assert_eq!(polls(&h.tick_after(Duration::from_secs(3))), 0);

    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    let c = creates(&fx);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].0.reference, "order-0001-2");
    assert_eq!(c[0].0.user_flow, UserFlow::PushMessage);
    assert_eq!(
        c[0].0
            .customer
            .as_ref()
            .and_then(|c| c.personal_qr.as_deref()),
        Some(QR)
    );
    assert_eq!(statuses(&fx), vec![OrderStatus::Scanned]);

    h.created(None);
    assert!(matches!(h.state(), State::Scanned { .. }));
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 1);
    let fx = h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    assert_eq!(captures(&fx).len(), 1);
    h.capture_answer(Ok(observed(PaymentState::Authorized, amount().value, 0)));
    assert!(matches!(
        h.state(),
        State::Approved {
            method: Method::PersonalQr,
            ..
        }
    ));
}

#[test]
fn scan_while_the_qr_payment_is_being_created_waits_for_it() {
    let mut h = h();
    h.step(Input::OrderReceived(order("order-0001")));
    let fx = h.step(scan(QR));
    assert!(
        fx.is_empty(),
        "nothing to cancel until the create answers: {fx:?}"
    );
    let fx = h.created(Some(TARGET));
    assert_eq!(
        cancels(&fx).len(),
        1,
        "the cancel goes out as soon as the payment exists"
    );
}

#[test]
fn qr_approved_while_switching_is_captured_and_no_push_is_sent() {
    let mut h = h();
    h.waiting();
    h.step(scan(QR));
    let fx = h.cancel_answer(Err(api_err(400, Some(6060), false)));
    assert_eq!(captures(&fx).len(), 1);
    assert_eq!(captures(&fx)[0].0, "order-0001-1");
    assert!(creates(&fx).is_empty());
    h.capture_answer(Ok(observed(PaymentState::Authorized, amount().value, 0)));
    assert!(matches!(
        h.state(),
        State::Approved {
            method: Method::OneTimeQr,
            ..
        }
    ));
}

#[test]
fn not_a_vipps_code_shows_a_notice_and_calls_nothing() {
    let mut h = h();
    h.waiting();
    for garbage in ["7038010055680", "https://example.com/x", "\u{1b}[A"] {
        assert!(h.step(scan(garbage)).is_empty());
        assert_eq!(h.m.notice(h.now), Some(Notice::NotVippsCode));
    }
    assert!(matches!(h.state(), State::Waiting { .. }));
    h.now += Duration::from_secs(6);
    assert_eq!(h.m.notice(h.now), None, "notices go away by themselves");
}

#[test]
fn scan_without_an_order_calls_nothing() {
    let mut h = h();
    assert!(h.step(scan(QR)).is_empty());
    assert_eq!(h.m.notice(h.now), Some(Notice::NoOrder));
}

#[test]
fn second_scan_while_busy_is_ignored() {
    let mut h = h();
    h.scanned();
    assert!(h.step(scan(QR)).is_empty(), "same code again: nothing");
    assert_eq!(h.m.notice(h.now), None);
    let other = "https://qr.vipps.no/p/someone-else";
    assert!(h.step(scan(other)).is_empty());
    assert_eq!(h.m.notice(h.now), Some(Notice::AlreadyInProgress));
    assert!(matches!(h.state(), State::Scanned { .. }));
}

#[test]
fn approval_racing_a_customer_cancel_is_captured() {
    let mut h = h();
    h.scanned();
    let fx = h.step(Input::CancelTapped);
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-2".into(), true, "cancelq1-order-0001-2".into())]
    );
    // The poll that was already under way reports the approval first…
    let fx = h.cancel_answer(Err(api_err(400, Some(6060), false)));
    assert_eq!(captures(&fx).len(), 1);
    // …and a late poll answer for the same payment changes nothing.
    let fx = h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    assert!(captures(&fx).is_empty());
    h.capture_answer(Ok(observed(PaymentState::Authorized, amount().value, 0)));
    assert!(matches!(h.state(), State::Approved { .. }));
}

#[test]
fn customer_cancel_goes_back_to_a_fresh_qr() {
    let mut h = h();
    h.scanned();
    h.step(Input::CancelTapped);
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    let c = creates(&fx);
    assert_eq!(c.len(), 1);
    assert_eq!(
        (c[0].0.reference.as_str(), c[0].0.user_flow),
        ("order-0001-3", UserFlow::Qr)
    );
}

#[test]
fn stale_replies_for_an_earlier_payment_are_ignored() {
    let mut h = h();
    h.scanned();
    let before = h.state().clone();
    for input in [
        Input::Polled {
            reference: "order-0001-1".into(),
            result: Ok(observed(PaymentState::Authorized, 0, 0)),
        },
        Input::Created {
            reference: "order-0001-1".into(),
            result: Ok(Some(TARGET.into())),
            valid_for: None,
        },
        Input::Captured {
            reference: "order-0001-1".into(),
            result: Ok(observed(PaymentState::Authorized, 1, 0)),
        },
        Input::CancelAnswered {
            reference: "other-0001-1".into(),
            result: Err(api_err(400, Some(6060), false)),
        },
    ] {
        assert!(h.step(input).is_empty());
    }
    assert_eq!(h.state(), &before);
}

#[test]
fn poll_errors_keep_the_pace_then_recover() {
    let mut h = h();
    h.scanned();
    let mut gaps = Vec::new();
    for _ in 0..4 {
        let mut waited = Duration::ZERO;
        loop {
            waited += Duration::from_millis(250);
            if polls(&h.tick_after(Duration::from_millis(250))) == 1 {
                break;
            }
        }
        gaps.push(waited);
        h.polled(Err(timeout()));
    }
    // Reads are within Vipps' budget at the normal interval: an approval is seen within one
    // interval of the trouble clearing.
    assert_eq!(gaps, [1000, 1000, 1000, 1000].map(Duration::from_millis));
    assert_eq!(h.m.payment().map(|p| p.failures), Some(4));
    // Unless Vipps asks to wait longer.
    let _ = h.tick_after(Duration::from_secs(1));
    h.polled(Err(ApiError {
        retry_after: Some(Duration::from_secs(7)),
        ..timeout()
    }));
    assert_eq!(polls(&h.tick_after(Duration::from_secs(6))), 0);
    h.tick_after(Duration::from_secs(5));
    h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    assert_eq!(h.m.payment().map(|p| p.failures), Some(0));
    assert_eq!(
        polls(&h.tick_after(Duration::from_secs(1))),
        1,
        "normal interval again"
    );
    let fx = h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    assert_eq!(captures(&fx).len(), 1);
}
