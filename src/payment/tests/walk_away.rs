//! A customer who walks away from the Waiting screen.

use super::*;

fn waiting_ticks(h: &mut H, secs: u64) -> Vec<Effect> {
    let mut all = Vec::new();
    for _ in 0..secs {
        let fx = h.tick_after(Duration::from_secs(1));
        if polls(&fx) == 1 {
            h.polled(Ok(observed(PaymentState::Created, 0, 0)));
        }
        all.extend(fx);
    }
    all
}

#[test]
fn a_customer_who_walks_away_is_warned_then_the_order_ends_safely() {
    let mut h = h();
    h.m = Machine::new(Config {
        walk_away_after: Some(Duration::from_secs(120)),
        walk_away_warning: Duration::from_secs(30),
        qr_window: Duration::from_secs(3600),
        ..Config::default()
    });
    h.waiting();
    assert!(cancels(&waiting_ticks(&mut h, 89)).is_empty());
    assert_eq!(h.m.walk_away_warning(h.now), None, "no warning yet");
    waiting_ticks(&mut h, 2);
    assert!(
        h.m.walk_away_warning(h.now)
            .is_some_and(|left| left <= Duration::from_secs(30))
    );
    // "I need more time" starts the wait again.
    h.step(Input::MoreTimeTapped);
    assert_eq!(h.m.walk_away_warning(h.now), None);
    let fx = waiting_ticks(&mut h, 121);
    // Only a transaction-only cancel: a last-second approval would still be captured.
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-1".into(), true, "cancelq1-order-0001-1".into())]
    );
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Expired]);
    assert!(creates(&fx).is_empty());
    assert!(matches!(
        h.state(),
        State::Failed {
            order: None,
            reason: FailureReason::Expired,
            ..
        }
    ));
}

#[test]
fn an_approval_at_the_moment_of_walking_away_is_captured() {
    let mut h = h();
    h.m = Machine::new(Config {
        walk_away_after: Some(Duration::from_secs(60)),
        qr_window: Duration::from_secs(3600),
        ..Config::default()
    });
    h.waiting();
    waiting_ticks(&mut h, 61);
    let fx = h.cancel_answer(Err(api_err(400, Some(6060), false)));
    assert_eq!(captures(&fx).len(), 1);
}

#[test]
fn no_walk_away_while_the_push_is_out_or_when_disabled() {
    let mut h = h();
    h.m = Machine::new(Config {
        walk_away_after: Some(Duration::from_secs(60)),
        ..Config::default()
    });
    h.scanned();
    for _ in 0..200 {
        let fx = h.tick_after(Duration::from_secs(1));
        assert!(cancels(&fx).is_empty());
        if polls(&fx) == 1 {
            h.polled(Ok(observed(PaymentState::Created, 0, 0)));
        }
    }
    let mut off = self::h();
    off.m = Machine::new(Config {
        walk_away_after: None,
        ..Config::default()
    });
    off.waiting();
    assert!(
        cancels(&waiting_ticks(&mut off, 530)).is_empty(),
        "only QR renewals would cancel, not before 9 min"
    );
}

/// Time on another screen does not count: after a push runs out and the Waiting screen comes
/// back, the customer gets the full wait and its warning again.
#[test]
fn walk_away_counts_from_the_screen_in_front_of_the_customer() {
    let mut h = h();
    h.m = Machine::new(Config {
        walk_away_after: Some(Duration::from_secs(120)),
        walk_away_warning: Duration::from_secs(30),
        ..Config::default()
    });
    h.scanned();
    // The push waits its five minutes, then expires.
    h.tick_after(Duration::from_secs(300));
    h.polled(Ok(observed(PaymentState::Expired, 0, 0)));
    // Back to a fresh QR after the failure screen.
    let fx = h.tick_after(Duration::from_secs(9));
    assert_eq!(creates(&fx).len(), 1);
    h.created(Some(TARGET));
    let fx = waiting_ticks(&mut h, 5);
    assert!(cancels(&fx).is_empty(), "not walked away at once: {fx:?}");
    assert_eq!(h.m.walk_away_warning(h.now), None, "no warning at once");
    waiting_ticks(&mut h, 86);
    assert!(
        h.m.walk_away_warning(h.now).is_some(),
        "the warning comes before"
    );
}
