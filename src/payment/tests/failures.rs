//! Timeouts, refusals, rejections, expiry and renewal of the QR.

use super::*;

#[test]
fn a_lost_create_answer_is_followed_by_a_read_and_only_a_404_sends_it_again() {
    let mut h = h();
    let first = h.step(Input::OrderReceived(order("order-0001")));
    let reference = h.reference();
    h.step(Input::Created {
        reference: reference.clone(),
        result: Err(timeout()),
        valid_for: None,
    });
    // The payment may exist: it is read, never created anew meanwhile.
    let fx = h.tick_after(Duration::from_millis(500));
    assert_eq!((polls(&fx), creates(&fx).len()), (1, 0), "{fx:?}");
    let again = h.polled(Err(api_err(404, None, false)));
    assert_eq!(creates(&again), creates(&first), "the same key and body");
    h.step(Input::Created {
        reference,
        result: Ok(Some(TARGET.into())),
        valid_for: None,
    });
    assert!(h.m.payment().is_some_and(|p| p.created));
}

#[test]
fn an_unreadable_create_answer_is_read_back_and_the_payment_found_is_followed() {
    let mut h = h();
    h.step(Input::OrderReceived(order("order-0001")));
    let reference = h.reference();
    let unreadable = ApiError {
        unreadable: true,
        message: "a 201 that is not JSON".into(),
        ..ApiError::default()
    };
    let fx = h.step(Input::Created {
        reference: reference.clone(),
        result: Err(unreadable),
        valid_for: None,
    });
    assert!(creates(&fx).is_empty(), "no second payment: {fx:?}");
    let mut all = Vec::new();
    for _ in 0..4 {
        let fx = h.tick_after(Duration::from_millis(500));
        all.extend(creates(&fx).into_iter().map(|c| c.0.reference.clone()));
        if polls(&fx) == 1 {
            // It exists, and the customer approved it meanwhile: it is captured.
            let fx = h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
            assert_eq!(captures(&fx)[0].0, reference);
            break;
        }
    }
    assert!(all.is_empty(), "{all:?}");
    assert!(matches!(h.state(), State::Capturing { .. }));
}

#[test]
fn creates_refused_for_good_end_the_order_and_repeated_orders_stop_the_lane() {
    let mut h = h();
    for round in 1..=2 {
        let id = format!("order-000{round}");
        h.step(Input::OrderReceived(order(&id)));
        let refused = api_err(403, None, false);
        let fx = h.step(Input::Created {
            reference: h.reference(),
            result: Err(refused.clone()),
            valid_for: None,
        });
        assert!(
            matches!(h.state(), State::Failed { order: Some(_), .. }),
            "{fx:?}"
        );
        // The next attempt comes after the failure screen; it is refused too.
        let fx = h.tick_after(Duration::from_secs(9));
        assert_eq!(creates(&fx).len(), 1);
        let fx = h.step(Input::Created {
            reference: h.reference(),
            result: Err(refused),
            valid_for: None,
        });
        let update = fx.iter().find_map(|e| match e {
            Effect::Notify(u) if u.status == OrderStatus::Failed => Some(u.clone()),
            _ => None,
        });
        assert_eq!(
            update.and_then(|u| u.reason),
            Some(FailureReason::CreateRefused),
            "the POS hears why: {fx:?}"
        );
        assert!(matches!(h.state(), State::Failed { order: None, .. }));
        // No third try for this order.
        let fx = h.tick_after(Duration::from_secs(9));
        assert!(creates(&fx).is_empty(), "{fx:?}");
        assert_eq!(h.state(), &State::Idle);
    }
    assert!(
        h.m.out_of_service().is_some(),
        "two orders refused in a row"
    );
    assert!(!h.m.accepts_orders());
    let fx = h.step(Input::OrderReceived(order("order-0003")));
    assert!(
        matches!(fx.as_slice(), [Effect::Refused { why, .. }] if why.contains("out of service"))
    );
    // It tries again after a while.
    h.tick_after(Duration::from_secs(601));
    assert!(h.m.accepts_orders());
}

/// Order in, its QR created, then renewed: attempt 2 on screen, attempt 1 trailing.
fn renewed() -> H {
    let mut h = h();
    h.m = Machine::new(Config {
        walk_away_after: None,
        ..Config::default()
    });
    h.waiting();
    let renew_at = Config::default().qr_window - Config::default().qr_renew_before;
    let fx = h.tick_after(renew_at);
    assert_eq!(creates(&fx).len(), 1, "{fx:?}");
    h.created(Some(TARGET));
    h
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
fn qr_is_renewed_before_its_window_closes_without_cancelling_the_old_one() {
    let mut h = h();
    // Without walk-away: by default an untouched screen ends the order at 5 minutes.
    h.m = Machine::new(Config {
        walk_away_after: None,
        ..Config::default()
    });
    h.waiting();
    let mut fx = Vec::new();
    let mut cancelled = Vec::new();
    for _ in 0..(9 * 60) {
        fx = h.tick_after(Duration::from_secs(1));
        cancelled.extend(cancels(&fx));
        if !creates(&fx).is_empty() {
            break;
        }
        if polls(&fx) == 1 {
            h.polled(Ok(observed(PaymentState::Created, 0, 0)));
        }
    }
    assert_eq!(
        creates(&fx).first().map(|c| c.0.reference.as_str()),
        Some("order-0001-2"),
        "a fresh QR before the window closes"
    );
    assert!(
        cancelled.is_empty(),
        "the old QR is never cancelled: {cancelled:?}"
    );
    assert!(
        h.m.others()
            .iter()
            .any(|o| o.payment.reference == "order-0001-1" && o.role == Role::Trailing),
        "the old one is still followed"
    );
}

/// The old QR is read until it ends by itself, and goes quietly when it does.
#[test]
fn the_old_qr_is_followed_until_it_runs_out() {
    let mut h = renewed();
    let fx = h.other_polled("order-0001-1", Ok(observed(PaymentState::Created, 0, 0)));
    assert!(cancels(&fx).is_empty());
    let fx = h.other_polled("order-0001-1", Ok(observed(PaymentState::Expired, 0, 0)));
    assert!(
        matches!(fx.as_slice(), [Effect::Settled { reference }] if reference == "order-0001-1"),
        "{fx:?}"
    );
    assert!(h.m.others().is_empty());
    assert!(
        matches!(h.state(), State::Waiting { attempt: 2, .. }),
        "the fresh QR stays"
    );
}

/// The customer approves the old QR after the renewal: it is the one captured, and the fresh
/// one is cancelled (transaction only).
#[test]
fn an_approval_of_the_old_qr_after_a_renewal_is_captured() {
    let mut h = renewed();
    let fx = h.other_polled("order-0001-1", Ok(observed(PaymentState::Authorized, 0, 0)));
    assert_eq!(
        captures(&fx),
        vec![(
            "order-0001-1".into(),
            amount(),
            "capture1-order-0001-1".into()
        )]
    );
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-2".into(), true, "cancelq1-order-0001-2".into())]
    );
    assert!(matches!(h.state(), State::Capturing { attempt: 1, .. }));
    let fx = h.capture_answer(Ok(observed(PaymentState::Authorized, amount().value, 0)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Captured]);
    // The fresh QR's cancel goes through: followed to its end.
    let fx = h.step(Input::CancelAnswered {
        reference: "order-0001-2".into(),
        result: Ok(observed(PaymentState::Terminated, 0, 0)),
    });
    assert!(matches!(fx.as_slice(), [Effect::Settled { .. }]), "{fx:?}");
    assert!(h.m.others().is_empty());
}

/// Both QRs approved: the first approval seen is captured, the other authorization released
/// at once (a full cancel), never captured.
#[test]
fn both_qrs_approved_capture_one_and_release_the_other() {
    let mut h = renewed();
    h.other_polled("order-0001-1", Ok(observed(PaymentState::Authorized, 0, 0)));
    // The fresh one's transaction-only cancel meets its approval (6060).
    let fx = h.step(Input::CancelAnswered {
        reference: "order-0001-2".into(),
        result: Err(api_err(400, Some(6060), false)),
    });
    assert!(captures(&fx).is_empty());
    let fx = h.other_polled("order-0001-2", Ok(observed(PaymentState::Authorized, 0, 0)));
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-2".into(), false, "cancel2-order-0001-2".into())]
    );
    assert!(captures(&fx).is_empty(), "never a second capture");
    let fx = h.capture_answer(Ok(observed(PaymentState::Authorized, amount().value, 0)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Captured]);
    let fx = h.step(Input::CancelAnswered {
        reference: "order-0001-2".into(),
        result: Ok(observed(PaymentState::Authorized, 0, amount().value)),
    });
    assert!(matches!(fx.as_slice(), [Effect::Settled { .. }]), "{fx:?}");
}

/// A withdrawal ends the order: the old QR is cancelled too.
#[test]
fn a_withdrawal_after_a_renewal_cancels_both_qrs() {
    let mut h = renewed();
    let fx = h.step(Input::OrderWithdrawn("order-0001".into()));
    let mut refs: Vec<_> = cancels(&fx).into_iter().map(|c| (c.0, c.1)).collect();
    refs.sort();
    assert_eq!(
        refs,
        vec![
            ("order-0001-1".to_string(), true),
            ("order-0001-2".to_string(), false)
        ]
    );
}

/// QRs that keep dying young (an image link answering 404, a validity of seconds) stop being
/// renewed: the order ends and the lane goes out of service, where the sales unit may not draw
/// its own QR.
#[test]
fn qrs_that_keep_dying_young_stop_the_renewals() {
    let mut h = h();
    h.m = Machine::new(Config {
        qr_image: true,
        ..Config::default()
    });
    h.waiting();
    let mut created = 1;
    for _ in 0..10 {
        let fx = h.step(Input::QrUnavailable {
            reference: h.reference(),
        });
        if creates(&fx).is_empty() {
            break;
        }
        created += 1;
        h.created(Some(TARGET));
        h.tick_after(Duration::from_secs(1));
    }
    assert_eq!(created, 3, "bounded");
    assert!(matches!(
        h.state(),
        State::Failed {
            order: None,
            reason: FailureReason::QrUnavailable,
            ..
        }
    ));
    assert!(h.m.out_of_service().is_some());

    // Where the sales unit may draw its own, it does instead.
    let mut h = self::h();
    h.m = Machine::new(Config {
        qr_image: true,
        local_qr_fallback: true,
        ..Config::default()
    });
    h.waiting();
    let mut last = None;
    for _ in 0..3 {
        let fx = h.step(Input::QrUnavailable {
            reference: h.reference(),
        });
        last = creates(&fx).first().map(|c| c.0.qr_format.clone());
        h.created(Some(TARGET));
    }
    assert_eq!(
        last.flatten().map(|f| f.format),
        Some(QrFormatKind::TextTargetUrl),
        "drawn here from the third on"
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
