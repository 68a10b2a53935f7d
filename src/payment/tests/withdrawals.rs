//! POS withdrawals, refused orders, capture and cancel retries, the limits of keys.

use super::*;

#[test]
fn withdrawn_order_cancels_fully_and_ends() {
    let mut h = h();
    h.waiting();
    let fx = h.step(Input::OrderWithdrawn("order-0001".into()));
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-1".into(), false, "cancel2-order-0001-1".into())]
    );
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Cancelled]);
    assert!(creates(&fx).is_empty());
    assert!(matches!(h.state(), State::Failed { order: None, .. }));
    assert!(h.m.accepts_orders());
}

#[test]
fn withdrawal_racing_an_approval_releases_the_money() {
    let mut h = h();
    h.scanned();
    h.step(Input::OrderWithdrawn("order-0001".into()));
    let fx = h.cancel_answer(Ok(observed(PaymentState::Authorized, 0, amount().value)));
    assert!(captures(&fx).is_empty());
    assert_eq!(statuses(&fx), vec![OrderStatus::Cancelled]);
}

#[test]
fn withdrawal_during_a_switch_upgrades_to_a_full_cancel() {
    let mut h = h();
    h.waiting();
    h.step(scan(QR));
    // The transaction-only cancel is under way; the POS withdraws meanwhile.
    assert!(cancels(&h.step(Input::OrderWithdrawn("order-0001".into()))).is_empty());
    let fx = h.cancel_answer(Err(api_err(400, Some(6060), false)));
    assert!(
        captures(&fx).is_empty(),
        "a withdrawn order is never captured"
    );
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-1".into(), false, "cancel2-order-0001-1".into())]
    );
    let fx = h.cancel_answer(Ok(observed(PaymentState::Authorized, 0, amount().value)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Cancelled]);
}

#[test]
fn withdrawal_while_capturing_is_refused() {
    let mut h = h();
    h.scanned();
    h.tick_after(Duration::from_secs(1));
    h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    let fx = h.step(Input::OrderWithdrawn("order-0001".into()));
    assert!(matches!(fx.as_slice(), [Effect::Refused { .. }]));
    assert!(matches!(h.state(), State::Capturing { .. }));
}

#[test]
fn second_order_while_busy_is_refused() {
    let mut h = h();
    h.waiting();
    let fx = h.step(Input::OrderReceived(order("order-0002")));
    assert!(
        matches!(fx.as_slice(), [Effect::Refused { order_id, .. }] if order_id == "order-0002")
    );
    assert_eq!(h.m.order().map(|o| o.order_id.as_str()), Some("order-0001"));
}

#[test]
fn capture_timeout_retries_same_key_and_refusal_rereads_with_new_key() {
    let mut h = h();
    h.scanned();
    h.tick_after(Duration::from_secs(1));
    let first = captures(&h.polled(Ok(observed(PaymentState::Authorized, 0, 0))));
    h.capture_answer(Err(timeout()));
    let again = captures(&h.tick_after(Duration::from_secs(1)));
    assert_eq!(again, first, "same key after a timeout");
    // A definitive refusal (not the transient 6280): the payment is read back first.
    let fx = h.capture_answer(Err(api_err(400, Some(6100), false)));
    assert!(fx.is_empty());
    let fx = h.tick_after(Duration::from_millis(250));
    assert_eq!(
        (polls(&fx), captures(&fx).len()),
        (1, 0),
        "read before anything else"
    );
    let fx = h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    assert!(captures(&fx).is_empty(), "the retry waits for its backoff");
    let fx = h.tick_after(Duration::from_secs(2));
    let retry = captures(&fx);
    assert_eq!(retry.len(), 1, "{fx:?}");
    assert_ne!(retry[0].2, first[0].2, "a refused request needs a new key");
    // Vipps says it was captured after all: done, with no further capture.
    let fx = h.capture_answer(Ok(observed(PaymentState::Authorized, amount().value, 0)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Captured]);
}

/// A capture refused for good (e.g. 6260, the reservation released) is not sent for ever: after
/// a bounded number of rounds the authorization is released, the POS hears `captureRefused`,
/// and the lane takes the next order.
#[test]
fn a_capture_refused_for_good_releases_the_money_and_ends_the_order() {
    let mut h = h();
    h.scanned();
    h.tick_after(Duration::from_secs(1));
    h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    let mut sent = 1;
    let mut last = Vec::new();
    for _ in 0..10 {
        last = h.capture_answer(Err(api_err(400, Some(6260), false)));
        if !matches!(h.state(), State::Capturing { .. }) {
            break;
        }
        for _ in 0..40 {
            let fx = h.tick_after(Duration::from_millis(250));
            if polls(&fx) == 1 {
                h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
            }
            if !captures(&fx).is_empty() {
                sent += 1;
                break;
            }
        }
    }
    assert_eq!(sent, 3, "bounded rounds");
    let update = last.iter().find_map(|e| match e {
        Effect::Notify(u) => Some(u.clone()),
        _ => None,
    });
    assert_eq!(
        update.map(|u| (u.status, u.reason)),
        Some((OrderStatus::Failed, Some(FailureReason::CaptureRefused)))
    );
    assert_eq!(
        cancels(&last).into_iter().map(|c| c.1).collect::<Vec<_>>(),
        vec![false],
        "the authorization is released in full: {last:?}"
    );
    assert!(matches!(
        h.state(),
        State::Failed {
            order: None,
            reason: FailureReason::CaptureRefused,
            ..
        }
    ));
    h.tick_after(Duration::from_secs(9));
    assert!(h.m.accepts_orders(), "the lane takes the next order");
}

/// The authorization disappears while the capture is under way (released by Vipps): the order
/// ends instead of polling for ever.
#[test]
fn an_authorization_gone_while_capturing_ends_the_order() {
    let mut h = h();
    h.scanned();
    h.tick_after(Duration::from_secs(1));
    h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    h.capture_answer(Err(api_err(400, Some(6260), false)));
    h.tick_after(Duration::from_millis(600));
    let fx = h.polled(Ok(observed(PaymentState::Authorized, 0, amount().value)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Failed]);
    assert!(matches!(
        h.state(),
        State::Failed {
            order: None,
            reason: FailureReason::CaptureRefused,
            ..
        }
    ));
}

#[test]
fn busy_payment_cancel_is_retried_with_the_same_key() {
    let mut h = h();
    h.scanned();
    let first = cancels(&h.step(Input::CancelTapped));
    h.cancel_answer(Err(api_err(423, None, true)));
    assert!(cancels(&h.tick_after(Duration::from_millis(500))).is_empty());
    assert_eq!(cancels(&h.tick_after(Duration::from_millis(500))), first);
}

#[test]
fn references_and_keys_stay_within_vipps_limits() {
    let long = "A".repeat(58);
    let r = reference_for("", &long, 12, 64);
    assert!(r.len() <= 64, "{r}");
    assert_ne!(
        reference_for("", &long, 1, 64),
        reference_for("", &long, 2, 64)
    );
    let k = key("capture", &r, 3);
    assert!(k.len() <= 50, "{k}");
    assert_ne!(k, key("capture", &r, 4));
    assert_eq!(reference_for("", "order-0001", 2, 64), "order-0001-2");
}

#[test]
fn references_name_the_lane_so_two_lanes_never_share_one() {
    assert_eq!(
        reference_for("store7-lane-2", "order-0001", 1, 64),
        "store7-lane-2-order-0001-1"
    );
    assert_ne!(
        reference_for("lane-1", "order-0001", 1, 64),
        reference_for("lane-2", "order-0001", 1, 64)
    );
    // An order id that does not fit is shortened with a digest, still unique and in bounds.
    let long = "B".repeat(58);
    let (a, b) = (
        reference_for("store7-lane-2", &long, 1, 50),
        reference_for("store7-lane-1", &long, 1, 50),
    );
    assert!(a.len() <= 50 && b.len() <= 50, "{a} {b}");
    assert!(a.starts_with("store7-lane-2-BBB"), "{a}");
    assert_ne!(a, b);
    // The POS API refuses ids that would have to be shortened.
    assert!(reference_fits("store7-lane-2", "order-0001", 50));
    assert!(!reference_fits("store7-lane-2", &"C".repeat(33), 50));
    assert!(reference_fits("", &"C".repeat(60), 64));
    // A lane's prefix reaches the payments the machine creates.
    let mut m = Machine::new(Config {
        reference_prefix: "lane-7".into(),
        ..Config::default()
    });
    let fx = m.step(Input::OrderReceived(order("order-0001")), Instant::now());
    assert_eq!(creates(&fx)[0].0.reference, "lane-7-order-0001-1");
}

#[test]
fn refund_keys_are_scoped_by_the_payment() {
    use crate::payment::refund_key;
    assert_eq!(refund_key("order-0001-1", "r-1"), "refund-r-1-order-0001-1");
    assert_ne!(
        refund_key("order-0001-1", "r-1"),
        refund_key("order-0002-1", "r-1")
    );
    let long = refund_key(&"R".repeat(60), &"x".repeat(40));
    assert!(long.len() <= 50, "{long}");
    assert_ne!(long, refund_key(&"R".repeat(60), &"y".repeat(40)));
}
