//! What the lane tells its metrics, read off the inputs it feeds the machine and the effects
//! it gets back (the machine itself knows nothing of metrics): payments ended by method and
//! outcome (from `Effect::Notify`), scans, approvals seen, captures, reads per payment and the
//! gaps between them, the journal's write times and the state on screen.

use crate::{
    metrics::Metrics,
    payment::{Effect, FailureReason, Input, Method, OrderStatus, OrderUpdate, State},
    vipps::model::PaymentState,
};
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

/// A payment followed: its reads, and when it was last read and seen authorized.
#[derive(Debug, Default)]
struct Followed {
    /// The order it pays, once a status update has named it.
    order: Option<String>,
    reads: u32,
    last_read: Option<Instant>,
    last_answer: Option<Instant>,
    authorized_at: Option<Instant>,
}

#[derive(Debug, Default)]
pub(super) struct Meter {
    metrics: Option<Arc<Metrics>>,
    /// Payments under way, by reference.
    payments: HashMap<String, Followed>,
    /// The last final status counted, so a repeated one is not counted twice.
    last_final: Option<(String, Option<String>, OrderStatus)>,
    scan_step: bool,
}

fn method(m: Option<Method>) -> &'static str {
    match m {
        Some(Method::OneTimeQr) => "one_time_qr",
        Some(Method::PersonalQr) => "personal_qr",
        Some(Method::PhoneNumber) => "phone_number",
        None => "none",
    }
}

fn reason(r: Option<FailureReason>) -> &'static str {
    match r {
        None => "none",
        Some(FailureReason::CancelledInApp) => "cancelled_in_app",
        Some(FailureReason::Expired) => "expired",
        Some(FailureReason::Cancelled) => "cancelled",
        Some(FailureReason::NotVippsCode) => "not_vipps_code",
        Some(FailureReason::CustomerNotFound) => "customer_not_found",
        Some(FailureReason::PushNotAllowed) => "push_not_allowed",
        Some(FailureReason::ServiceTrouble) => "service_trouble",
        Some(FailureReason::CreateRefused) => "create_refused",
        Some(FailureReason::CaptureRefused) => "capture_refused",
        Some(FailureReason::QrUnavailable) => "qr_unavailable",
        Some(FailureReason::AgeLimit) => "age_limit",
    }
}

/// The machine's state as the screen shows it.
pub(super) fn state_name(state: &State) -> &'static str {
    match state {
        State::Idle => "idle",
        State::Waiting { .. } => "waiting",
        State::Scanned { .. } => "scanned",
        State::Cancelling { .. } => "cancelling",
        State::Capturing { .. } => "capturing",
        State::Approved { .. } => "approved",
        State::Failed { .. } => "failed",
    }
}

impl Meter {
    pub(super) fn set(&mut self, metrics: Arc<Metrics>) {
        self.metrics = Some(metrics);
    }

    pub(super) fn metrics(&self) -> Option<&Arc<Metrics>> {
        self.metrics.as_ref()
    }

    /// Before the machine hears `input`.
    pub(super) fn input(&mut self, input: &Input, now: Instant) {
        let Some(m) = self.metrics.clone() else {
            return;
        };
        self.scan_step = false;
        match input {
            Input::Scan(_) => {
                m.scanned(now);
                self.scan_step = true;
            }
            Input::Polled {
                reference,
                result: Ok(o),
            } => {
                let p = self.payments.entry(reference.clone()).or_default();
                let before = p.last_answer.replace(now);
                if o.state == PaymentState::Authorized && p.authorized_at.is_none() {
                    p.authorized_at = Some(now);
                    m.approval_seen(reference, before.map(|t| now.duration_since(t)));
                }
            }
            Input::Captured {
                reference,
                result: Ok(_),
            } => {
                if let Some(at) = self
                    .payments
                    .get_mut(reference)
                    .and_then(|p| p.authorized_at.take())
                {
                    m.captured_after(now.duration_since(at));
                }
            }
            _ => {}
        }
    }

    /// The effects the machine answered with, and the state it is in now.
    pub(super) fn effects(
        &mut self,
        effects: &[Effect],
        state: &State,
        refusing: bool,
        now: Instant,
    ) {
        let Some(m) = self.metrics.clone() else {
            return;
        };
        m.lane_state(state_name(state));
        m.paused(refusing.then_some("vipps_refusing"));
        let mut acted = false;
        for e in effects {
            match e {
                Effect::Poll { reference, .. } => {
                    acted = true;
                    let p = self.payments.entry(reference.clone()).or_default();
                    p.reads += 1;
                    if let Some(at) = p.last_read.replace(now) {
                        m.read_gap(now.duration_since(at));
                    }
                }
                Effect::Notify(u) => self.notified(&m, u),
                Effect::Create { .. } | Effect::Cancel { .. } | Effect::Exchange { .. } => {
                    acted = true;
                }
                _ => {}
            }
        }
        if self.scan_step && !acted {
            m.scan_ignored();
        }
        self.scan_step = false;
    }

    fn notified(&mut self, m: &Metrics, u: &OrderUpdate) {
        // A payment is followed from its first status update (or read) until its order ends.
        let under_way = matches!(
            u.status,
            OrderStatus::Waiting | OrderStatus::Scanned | OrderStatus::Approved
        );
        if let Some(r) = &u.reference {
            let p = match under_way {
                true => Some(self.payments.entry(r.clone()).or_default()),
                false => self.payments.get_mut(r),
            };
            if let Some(p) = p {
                p.order = Some(u.order_id.clone());
            }
        }
        let outcome = match u.status {
            OrderStatus::Captured => "captured",
            OrderStatus::Failed => "failed",
            OrderStatus::Cancelled => "withdrawn",
            OrderStatus::Expired => "walked_away",
            OrderStatus::Waiting | OrderStatus::Scanned | OrderStatus::Approved => return,
        };
        let key = (u.order_id.clone(), u.reference.clone(), u.status);
        if self.last_final.as_ref() == Some(&key) {
            return;
        }
        self.last_final = Some(key);
        m.payment_ended(method(u.method), outcome, reason(u.reason));
        // The order's payments are over when it ends; a failed attempt ends its own payment.
        let ended: Vec<String> = self
            .payments
            .iter()
            .filter(|(r, p)| match (u.status, &u.reference) {
                (OrderStatus::Failed, Some(reference)) => *r == reference,
                _ => p.order.as_deref() == Some(u.order_id.as_str()),
            })
            .map(|(r, _)| r.clone())
            .collect();
        for r in ended {
            if let Some(p) = self.payments.remove(&r) {
                m.payment_reads(p.reads);
            }
        }
    }

    /// A journal batch: written in `took` (`fsync` of it), or failed (`None`).
    pub(super) fn journal(&self, took: Duration, fsync: Option<Duration>) {
        if let Some(m) = &self.metrics {
            m.journal_write(took, fsync);
        }
    }

    pub(super) fn scanner(&self, connected: bool) {
        if let Some(m) = &self.metrics {
            m.scanner(connected);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Build;

    fn update(
        status: OrderStatus,
        method: Option<Method>,
        reason: Option<FailureReason>,
    ) -> Effect {
        Effect::Notify(OrderUpdate {
            order_id: "order-0301".into(),
            status,
            reference: Some("order-0301-2".into()),
            method,
            captured: None,
            reason,
        })
    }

    #[test]
    fn each_ending_is_counted_once_with_its_method_outcome_and_reason() {
        let metrics = crate::metrics::Metrics::new(Build {
            version: "t",
            market: "NO",
            lane: "l".into(),
            brand: Arc::new(|| "Vipps".into()),
        });
        let mut meter = Meter::default();
        meter.set(metrics.clone());
        let now = Instant::now();
        let poll = Effect::Poll {
            reference: "order-0301-2".into(),
            api: crate::payment::Api::Epayment,
        };
        meter.effects(std::slice::from_ref(&poll), &State::Idle, false, now);
        meter.effects(&[poll], &State::Idle, false, now + Duration::from_secs(1));
        let declined = update(
            OrderStatus::Failed,
            Some(Method::PersonalQr),
            Some(FailureReason::CancelledInApp),
        );
        meter.effects(std::slice::from_ref(&declined), &State::Idle, false, now);
        meter.effects(&[declined], &State::Idle, false, now);
        meter.effects(
            &[update(OrderStatus::Cancelled, None, None)],
            &State::Idle,
            false,
            now,
        );
        let text = metrics.render(false);
        let has = |line: &str| text.lines().any(|l| l == line);
        assert!(
            has(
                "vipps_kiosk_payments_total{method=\"personal_qr\",outcome=\"failed\",reason=\"cancelled_in_app\"} 1"
            ),
            "{text}"
        );
        assert!(has(
            "vipps_kiosk_payments_total{method=\"none\",outcome=\"withdrawn\",reason=\"none\"} 1"
        ));
        assert!(has("vipps_kiosk_polls_per_payment_count 1"), "{text}");
        assert!(has("vipps_kiosk_polls_per_payment_sum 2.0"), "{text}");
        assert!(has("vipps_kiosk_read_gap_seconds_count 1"));
    }
}
