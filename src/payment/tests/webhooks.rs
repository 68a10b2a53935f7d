//! Webhook events as hints to read the payment now.

use super::*;

fn webhook(h: &H, name: crate::vipps::model::PaymentEventName) -> Input {
    Input::Webhook {
        reference: h.reference(),
        name,
    }
}

fn with_webhooks() -> H {
    H {
        m: Machine::new(Config {
            relaxed_poll_interval: Some(Duration::from_secs(4)),
            ..Config::default()
        }),
        now: Instant::now(),
    }
}

#[test]
fn an_approval_webhook_reads_the_payment_at_once_and_only_the_read_moves_money() {
    use crate::vipps::model::PaymentEventName as E;
    let mut h = with_webhooks();
    h.waiting();
    let fx = h.step(webhook(&h, E::Authorized));
    assert_eq!(polls(&fx), 1, "{fx:?}");
    assert!(captures(&fx).is_empty(), "an event alone never captures");
    // A duplicate while the read is under way asks for nothing more now...
    assert!(h.step(webhook(&h, E::Authorized)).is_empty());
    // ...and the read decides.
    let fx = h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    assert_eq!(captures(&fx).len(), 1);
    // Late and repeated events change nothing while the capture is under way.
    assert!(h.step(webhook(&h, E::Authorized)).is_empty());
    assert!(h.step(webhook(&h, E::Created)).is_empty());
}

#[test]
fn an_event_during_a_read_gets_another_read_right_after() {
    use crate::vipps::model::PaymentEventName as E;
    let mut h = with_webhooks();
    h.waiting();
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 1);
    assert!(h.step(webhook(&h, E::Aborted)).is_empty());
    // The read that was under way may predate the event: read again without waiting for the
    // poll interval, as soon as Vipps' read budget allows.
    h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    assert_eq!(polls(&h.tick_after(Duration::from_millis(1))), 0);
    assert_eq!(polls(&h.tick_after(Duration::from_millis(600))), 1);
}

#[test]
fn polling_relaxes_only_for_a_payment_whose_events_arrive() {
    use crate::vipps::model::PaymentEventName as E;
    let mut h = with_webhooks();
    h.waiting();
    // No event yet: the normal interval.
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 1);
    h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 1);
    // The created event arrives: the next reads come at the relaxed interval, never stop.
    h.step(webhook(&h, E::Created));
    h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    assert_eq!(polls(&h.tick_after(Duration::from_secs(2))), 0);
    assert_eq!(polls(&h.tick_after(Duration::from_secs(2))), 1);
    h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    // A delivery fails verification: back to the normal interval at once.
    h.step(Input::WebhookTrouble);
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 1);
}

#[test]
fn a_change_no_webhook_reported_ends_the_relaxed_polling() {
    use crate::vipps::model::PaymentEventName as E;
    let mut h = with_webhooks();
    h.scanned();
    h.step(webhook(&h, E::Created));
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 1);
    h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 0, "relaxed");
    assert_eq!(polls(&h.tick_after(Duration::from_secs(3))), 1);
    // The customer rejected, and no event said so: webhooks are not keeping up.
    h.polled(Ok(observed(PaymentState::Aborted, 0, 0)));
    assert!(matches!(h.state(), State::Failed { .. }));
    assert!(!h.m.payment().is_some_and(|p| p.webhook_seen));
}

#[test]
fn webhooks_for_an_earlier_payment_are_ignored() {
    use crate::vipps::model::PaymentEventName as E;
    let mut h = with_webhooks();
    h.waiting();
    let fx = h.step(Input::Webhook {
        reference: "order-0001-0".into(),
        name: E::Authorized,
    });
    assert!(fx.is_empty());
}
