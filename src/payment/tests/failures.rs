//! Timeouts, refusals, rejections, expiry and renewal of the QR.

use super::*;

#[test]
fn create_timeout_is_retried_with_the_same_key_and_body() {
    let mut h = h();
    let first = h.step(Input::OrderReceived(order("order-0001")));
    let reference = h.reference();
    h.step(Input::Created {
        reference: reference.clone(),
        result: Err(timeout()),
        valid_for: None,
    });
    assert!(h.tick_after(Duration::from_millis(500)).is_empty());
    let again = h.tick_after(Duration::from_millis(500));
    assert_eq!(creates(&again), creates(&first));
    h.step(Input::Created {
        reference,
        result: Ok(Some(TARGET.into())),
        valid_for: None,
    });
    assert!(h.m.payment().is_some_and(|p| p.created));
}

#[test]
fn push_refusals_map_to_customer_reasons() {
    for (code, reason) in [
        (4060, FailureReason::NotVippsCode),
        (7010, FailureReason::CustomerNotFound),
        (5080, FailureReason::PushNotAllowed),
        (3000, FailureReason::ServiceTrouble),
    ] {
        let mut h = h();
        h.waiting();
        h.step(scan(QR));
        h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
        let fx = h.step(Input::Created {
            reference: h.reference(),
            result: Err(api_err(400, Some(code), false)),
            valid_for: None,
        });
        assert_eq!(statuses(&fx), vec![OrderStatus::Failed]);
        assert!(
            matches!(h.state(), State::Failed { reason: r, order: Some(_), .. } if *r == reason),
            "{code}"
        );
        // The order still stands: a fresh QR follows.
        let fx = h.tick_after(Duration::from_secs(8));
        assert_eq!(
            creates(&fx).first().map(|c| c.0.reference.as_str()),
            Some("order-0001-3")
        );
    }
}

#[test]
fn rejected_in_app_shows_failure_then_a_new_qr() {
    let mut h = h();
    h.scanned();
    h.tick_after(Duration::from_secs(1));
    let fx = h.polled(Ok(observed(PaymentState::Aborted, 0, 0)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Failed]);
    assert!(matches!(
        h.state(),
        State::Failed {
            reason: FailureReason::CancelledInApp,
            ..
        }
    ));
    let fx = h.step(Input::DismissTapped);
    assert_eq!(creates(&fx).len(), 1);
    assert!(matches!(h.state(), State::Waiting { .. }));
}

#[test]
fn scan_on_a_failure_screen_pushes_straight_away() {
    let mut h = h();
    h.scanned();
    h.tick_after(Duration::from_secs(1));
    h.polled(Ok(observed(PaymentState::Aborted, 0, 0)));
    let fx = h.step(scan(QR));
    let c = creates(&fx);
    assert_eq!(c.len(), 1);
    assert_eq!(
        (c[0].0.reference.as_str(), c[0].0.user_flow),
        ("order-0001-3", UserFlow::PushMessage)
    );
}

#[test]
fn expired_unscanned_qr_is_replaced_quietly() {
    let mut h = h();
    h.waiting();
    h.tick_after(Duration::from_secs(1));
    let fx = h.polled(Ok(observed(PaymentState::Expired, 0, 0)));
    assert!(statuses(&fx).contains(&OrderStatus::Waiting));
    assert!(!statuses(&fx).contains(&OrderStatus::Failed));
    assert_eq!(creates(&fx).len(), 1);
}

#[test]
fn qr_is_renewed_before_its_window_closes() {
    let mut h = h();
    // Without walk-away: by default an untouched screen ends the order at 5 minutes.
    h.m = Machine::new(Config {
        walk_away_after: None,
        ..Config::default()
    });
    h.waiting();
    let mut fx = Vec::new();
    for _ in 0..(9 * 60) {
        fx = h.tick_after(Duration::from_secs(1));
        if !cancels(&fx).is_empty() {
            break;
        }
        if polls(&fx) == 1 {
            h.polled(Ok(observed(PaymentState::Created, 0, 0)));
        }
    }
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-1".into(), true, "cancelq1-order-0001-1".into())]
    );
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    assert_eq!(
        creates(&fx).first().map(|c| c.0.reference.as_str()),
        Some("order-0001-2")
    );
}

#[test]
fn push_is_never_given_up_before_vipps_says_final() {
    let mut h = h();
    h.scanned();
    // Well past the 5-minute window, Vipps still says CREATED: keep asking.
    for _ in 0..400 {
        if polls(&h.tick_after(Duration::from_secs(1))) == 1 {
            h.polled(Ok(observed(PaymentState::Created, 0, 0)));
        }
    }
    assert!(matches!(h.state(), State::Scanned { .. }));
    h.tick_after(Duration::from_secs(1));
    h.polled(Ok(observed(PaymentState::Expired, 0, 0)));
    assert!(matches!(
        h.state(),
        State::Failed {
            reason: FailureReason::Expired,
            ..
        }
    ));
}
