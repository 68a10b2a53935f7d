//! One lane's payment core without a window: the payment machine, the journal that makes it
//! crash-safe, and the hub the POS API reads. The iced app and the headless runner both drive a
//! `Lane` and carry out the API calls it hands back (with `driver`, the one place where the
//! Vipps client and the machine meet); neither sees the journal. `services` is the one wiring
//! of the journal, the POS API, webhooks and the scanner that both use.
//!
//! Every step's effects are journaled (one `fsync`ed batch) before its requests are handed out,
//! so no create, capture, cancel or refund reaches Vipps unrecorded. A failed write holds the
//! requests back and tells the machine they failed transiently: it tries again later, journal
//! first.

pub mod driver;
pub mod journal;
mod metered;
mod services;

pub use services::{Feed, Inputs, MetricsSetup, PosSetup, ScanEvent, ScannerSource, Services, run};

use crate::{
    lane::journal::{Journal, Record},
    payment::{self, ApiError, Effect, Input, Machine, Resume},
    pos::{Command, Hub, RefundRefused, Refusal, Reply},
    vipps::model::Amount,
};
use std::{collections::HashMap, path::Path, sync::Arc, time::Instant};

/// Test hook: the environment variable that freezes the process at its n-th step (a journal
/// write or an API answer), so a test can kill it there with SIGKILL.
pub const FREEZE_ENV: &str = "KIOSK_TEST_FREEZE_AT";
/// Printed to stderr when frozen.
pub const FREEZE_MARK: &str = "kiosk frozen at step";

#[derive(Debug, Default)]
struct Freeze {
    at: Option<u64>,
    steps: u64,
}

impl Freeze {
    fn from_env() -> Freeze {
        Freeze {
            at: std::env::var(FREEZE_ENV).ok().and_then(|v| v.parse().ok()),
            steps: 0,
        }
    }

    fn step(&mut self, what: &str) {
        self.steps += 1;
        if self.at == Some(self.steps) {
            eprintln!("{FREEZE_MARK} {} ({what})", self.steps);
            loop {
                std::thread::park();
            }
        }
    }
}

pub struct Lane {
    machine: Machine,
    journal: Option<Journal>,
    /// The order whose `Order` line is in the journal.
    journaled_order: Option<String>,
    hub: Option<Arc<Hub>>,
    /// The payment found unfinished in the journal, until `resume` picks it up.
    unfinished: Option<Resume>,
    /// Staff refunds under way, by idempotency key: who is waiting for each.
    refunds: HashMap<String, Vec<Reply<Result<(), RefundRefused>>>>,
    freeze: Freeze,
    meter: metered::Meter,
}

impl std::fmt::Debug for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lane")
            .field("state", self.machine.state())
            .finish_non_exhaustive()
    }
}

fn is_answer(input: &Input) -> Option<bool> {
    match input {
        Input::Created { result, .. } => Some(result.is_ok()),
        Input::Polled { result, .. }
        | Input::Captured { result, .. }
        | Input::CancelAnswered { result, .. } => Some(result.is_ok()),
        _ => None,
    }
}

fn unjournaled() -> ApiError {
    ApiError {
        status: None,
        code: None,
        transient: true,
        message: "not sent: the journal could not record it".into(),
        ..ApiError::default()
    }
}

impl Lane {
    /// A lane without a journal (the demo, tests).
    pub fn new(config: payment::Config, hub: Option<Arc<Hub>>) -> Lane {
        if let Some(h) = &hub {
            h.set_journal("not configured");
        }
        Lane {
            machine: Machine::new(config),
            journal: None,
            journaled_order: None,
            hub,
            unfinished: None,
            refunds: HashMap::new(),
            freeze: Freeze::from_env(),
            meter: metered::Meter::default(),
        }
    }

    /// A lane with the journal at `path`: reads it back (the POS learns the orders it holds)
    /// and keeps the unfinished payment for `resume`. `Err` says why the lane cannot run.
    pub fn open(
        config: payment::Config,
        path: &Path,
        hub: Option<Arc<Hub>>,
    ) -> Result<Lane, String> {
        let mut lane = Lane::new(config, hub);
        match Journal::open(path) {
            Ok((journal, recovered)) => {
                if let Some(h) = &lane.hub {
                    h.restore(recovered.orders);
                    h.set_journal(match recovered.unreadable {
                        0 => "ok".to_string(),
                        n => format!("ok ({n} unreadable lines skipped at start)"),
                    });
                }
                tracing::info!(path = %path.display(), unfinished = recovered.resume.is_some(), "journal open");
                lane.journaled_order = recovered.resume.as_ref().map(|r| r.order.order_id.clone());
                lane.unfinished = recovered.resume;
                lane.journal = Some(journal);
                Ok(lane)
            }
            Err(e) => {
                if let Some(h) = &lane.hub {
                    h.set_journal(format!("failing: {e}"));
                }
                Err(e.to_string())
            }
        }
    }

    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    /// Records what the lane does into `metrics` from now on.
    pub fn set_metrics(&mut self, metrics: Arc<crate::metrics::Metrics>) {
        self.meter.set(metrics);
    }

    /// The metrics the lane records into, if any.
    pub fn metrics(&self) -> Option<&Arc<crate::metrics::Metrics>> {
        self.meter.metrics()
    }

    /// The scanner came or went (for health).
    pub fn scanner(&mut self, connected: bool) {
        if let Some(h) = &self.hub {
            h.set_scanner(connected);
        }
        self.meter.scanner(connected);
    }

    /// Carries on with the payment the journal found unfinished, if any.
    pub fn resume(&mut self, now: Instant) -> Vec<Effect> {
        match self.unfinished.take() {
            Some(r) => self.step(Input::Resume(Box::new(r)), now),
            None => Vec::new(),
        }
    }

    /// Feeds the machine; returns the API calls to make (already journaled).
    pub fn step(&mut self, input: Input, now: Instant) -> Vec<Effect> {
        if let Some(ok) = is_answer(&input) {
            self.freeze.step("an API answer");
            if ok && let Some(h) = &self.hub {
                h.vipps_ok();
            }
        }
        if let (Input::Scan(_), Some(h)) = (&input, &self.hub) {
            h.scanned();
        }
        let withdrawn = match &input {
            Input::OrderWithdrawn(id) => Some(id.clone()),
            _ => None,
        };
        self.meter.input(&input, now);
        let effects = self.machine.step(input, now);
        self.commit(effects, withdrawn, now)
    }

    /// Carries out a POS command, answering the POS once its effects are journaled.
    pub fn pos(&mut self, command: Command, now: Instant) -> Vec<Effect> {
        use payment::State;
        match command {
            Command::Submit(order, reply) => {
                if !self.machine.accepts_orders() {
                    reply.send(Err(match self.machine.out_of_service() {
                        Some(_) => Refusal::OutOfService,
                        None => Refusal::Busy,
                    }));
                    return Vec::new();
                }
                if let Some(h) = &self.hub {
                    h.accepted(&order);
                }
                let calls = self.step(Input::OrderReceived(*order), now);
                reply.send(Ok(()));
                calls
            }
            Command::Cancel(order_id, reply) => {
                let active = self.machine.order().is_some_and(|o| o.order_id == order_id);
                let paid = matches!(
                    self.machine.state(),
                    State::Capturing { .. } | State::Approved { .. }
                );
                let ended = matches!(self.machine.state(), State::Failed { order: None, .. });
                let answer = match (active, paid, ended) {
                    (true, true, _) => Err(Refusal::AlreadyPaid),
                    (true, false, false) => Ok(()),
                    _ => Err(Refusal::NotActive),
                };
                let calls = match answer {
                    Ok(()) => self.step(Input::OrderWithdrawn(order_id), now),
                    Err(_) => Vec::new(),
                };
                reply.send(answer);
                calls
            }
            Command::Refund(r, reply) => {
                let key = payment::refund_key(&r.reference, &r.refund_id);
                self.refunds.entry(key).or_default().push(reply);
                let input = Input::RefundRequested {
                    order_id: r.order_id,
                    reference: r.reference,
                    amount: r.amount,
                    refund_id: r.refund_id,
                };
                self.step(input, now)
            }
        }
    }

    /// Journals `effects`, tells the POS and the log, and returns the API calls that may go out.
    fn commit(
        &mut self,
        effects: Vec<Effect>,
        withdrawn: Option<String>,
        now: Instant,
    ) -> Vec<Effect> {
        self.meter.effects(&effects, self.machine.state(), now);
        let written = self.journal_effects(&effects, withdrawn);
        let mut calls = Vec::new();
        let mut held_back = Vec::new();
        for e in effects {
            match e {
                Effect::Notify(u) => {
                    tracing::info!(order = %u.order_id, status = ?u.status, reference = ?u.reference, method = ?u.method, reason = ?u.reason, "order status");
                    if let Some(h) = &self.hub {
                        h.update(&u);
                    }
                }
                Effect::Refused { order_id, why } => {
                    tracing::warn!(order = %order_id, why, "refused");
                }
                Effect::Settled { .. } => {}
                Effect::RefundDone {
                    order_id,
                    idempotency_key,
                    result,
                } => self.refund_done(&order_id, &idempotency_key, result),
                e @ (Effect::Poll { .. } | Effect::Exchange { .. }) => calls.push(e),
                e if written => calls.push(e),
                e => held_back.extend(not_sent(e)),
            }
        }
        for input in held_back {
            let more = self.machine.step(input, now);
            calls.extend(self.commit(more, None, now));
        }
        calls
    }

    /// Writes what `effects` record (and a withdrawal) as one batch; `false` when the write
    /// failed and the requests must be held back.
    fn journal_effects(&mut self, effects: &[Effect], withdrawn: Option<String>) -> bool {
        let mut records = Vec::new();
        let mut new_order = None;
        let refused = effects.iter().any(|e| matches!(e, Effect::Refused { .. }));
        if let Some(order_id) = withdrawn.filter(|_| !refused) {
            records.push(Record::Withdrawn { order_id });
        }
        let current = self.machine.order().zip(self.machine.attempt());
        for e in effects {
            if let (Effect::Create { .. }, Some((order, _))) = (e, current)
                && self.journaled_order.as_deref() != Some(order.order_id.as_str())
            {
                records.push(Record::Order {
                    order: order.clone(),
                });
                new_order = Some(order.order_id.clone());
            }
            records.extend(Record::of(e, current));
        }
        let Some(journal) = &mut self.journal else {
            return true;
        };
        if records.is_empty() {
            return true;
        }
        let started = Instant::now();
        let appended = journal.append_timed(&records);
        self.meter
            .journal(started.elapsed(), appended.as_ref().ok().copied());
        match appended {
            Ok(_) => {
                if new_order.is_some() {
                    self.journaled_order = new_order;
                }
                if let Some(h) = &self.hub {
                    h.set_journal("ok");
                }
                self.freeze.step("a journal write");
                true
            }
            Err(e) => {
                tracing::error!(path = %journal.path().display(), error = %e, "journal write failed; holding the requests back");
                if let Some(h) = &self.hub {
                    h.set_journal(format!("failing: {e}"));
                }
                false
            }
        }
    }

    /// A staff refund answered: the POS record learns the refunded total, and every request
    /// waiting for it hears the outcome.
    fn refund_done(&mut self, order_id: &str, key: &str, result: Result<Amount, ApiError>) {
        let answer = match result {
            Ok(total) => {
                if let Some(h) = &self.hub {
                    h.refunded(order_id, total.value);
                }
                Ok(())
            }
            Err(e) => Err(RefundRefused::Vipps {
                status: e.status,
                code: e.code,
            }),
        };
        for reply in self.refunds.remove(key).unwrap_or_default() {
            reply.send(answer);
        }
    }
}

/// The answer a request held back (not journaled) gets: a transient failure, so the machine
/// tries again later, journal first.
fn not_sent(effect: Effect) -> Option<Input> {
    Some(match effect {
        Effect::Create { request, .. } => Input::Created {
            reference: request.reference,
            result: Err(unjournaled()),
            valid_for: None,
        },
        Effect::Capture { reference, .. } => Input::Captured {
            reference,
            result: Err(unjournaled()),
        },
        Effect::Cancel { reference, .. } => Input::CancelAnswered {
            reference,
            result: Err(unjournaled()),
        },
        Effect::Refund {
            order_id,
            idempotency_key,
            ..
        } => Input::Refunded {
            order_id,
            idempotency_key,
            result: Err(unjournaled()),
        },
        Effect::Poll { .. }
        | Effect::Exchange { .. }
        | Effect::Notify(_)
        | Effect::Refused { .. }
        | Effect::RefundDone { .. }
        | Effect::Settled { .. } => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        lane::journal::tests::TempDir,
        payment::{Config, order::tests::order},
        pos::Reply,
    };

    fn submit(lane: &mut Lane, id: &str) -> (Vec<Effect>, Result<(), Refusal>) {
        let (reply, mut rx) = Reply::new();
        let calls = lane.pos(Command::Submit(Box::new(order(id)), reply), Instant::now());
        (calls, rx.try_recv().expect("answered"))
    }

    #[test]
    fn the_create_is_on_disk_before_it_is_handed_out_and_comes_back_after_a_restart() {
        let dir = TempDir::new("lane");
        let hub = Hub::new();
        let mut lane = Lane::open(Config::default(), &dir.file(), Some(hub.clone())).expect("open");
        assert_eq!(hub.health().journal.as_deref(), Some("ok"));
        let (calls, answer) = submit(&mut lane, "order-0101");
        assert_eq!(answer, Ok(()));
        let [
            Effect::Create {
                idempotency_key,
                request,
                ..
            },
        ] = calls.as_slice()
        else {
            panic!("one create: {calls:?}");
        };
        let text = std::fs::read_to_string(dir.file()).expect("journal");
        let kinds: Vec<String> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json");
                v["kind"].as_str().unwrap_or_default().to_string()
            })
            .collect();
        assert_eq!(kinds, ["order", "create", "status"]);
        assert!(text.contains(idempotency_key.as_str()));
        drop(lane);

        // A restart: the POS still sees the order, and the payment is read back first.
        let hub = Hub::new();
        let mut lane =
            Lane::open(Config::default(), &dir.file(), Some(hub.clone())).expect("reopen");
        let record = hub.get("order-0101").expect("the order is known again");
        assert_eq!(record.references, vec![request.reference.clone()]);
        let calls = lane.resume(Instant::now());
        assert_eq!(
            calls,
            vec![Effect::Poll {
                reference: request.reference.clone(),
                api: crate::payment::Api::Epayment,
            }]
        );
        // It is the active order again: a second one is refused.
        assert_eq!(submit(&mut lane, "order-0102").1, Err(Refusal::Busy));
    }

    #[test]
    fn a_staff_refund_is_journaled_before_it_goes_out_and_answered_from_its_outcome() {
        use crate::{
            payment::OrderUpdate,
            pos::{OrderRecord, RefundOrder},
            vipps::model::{Amount, Currency},
        };
        let dir = TempDir::new("lane-refund");
        let hub = Hub::new();
        let mut lane = Lane::open(Config::default(), &dir.file(), Some(hub.clone())).expect("open");
        let mut record = OrderRecord::new(&order("order-0201"), "2026-12-01T10:00:00Z".into());
        record.apply(
            &OrderUpdate {
                order_id: "order-0201".into(),
                status: payment::OrderStatus::Captured,
                reference: Some("order-0201-1".into()),
                method: None,
                captured: Some(Amount::new(Currency::Nok, 35300)),
                reason: None,
            },
            "2026-12-01T10:01:00Z".into(),
        );
        hub.restore([record]);
        let refund = || RefundOrder {
            order_id: "order-0201".into(),
            reference: "order-0201-1".into(),
            amount: Amount::new(Currency::Nok, 1000),
            refund_id: "r-1".into(),
        };
        let (first, mut first_rx) = Reply::new();
        let calls = lane.pos(Command::Refund(refund(), first), Instant::now());
        let [
            Effect::Refund {
                idempotency_key, ..
            },
        ] = calls.as_slice()
        else {
            panic!("one refund call: {calls:?}");
        };
        let text = std::fs::read_to_string(dir.file()).expect("journal");
        assert!(
            text.contains("\"kind\":\"refund\"") && text.contains(idempotency_key.as_str()),
            "the refund is on disk before it is handed out: {text}"
        );
        // The same refund sent again while it is under way waits for the same answer.
        let (second, mut second_rx) = Reply::new();
        assert!(
            lane.pos(Command::Refund(refund(), second), Instant::now())
                .is_empty()
        );
        let answer = Input::Refunded {
            order_id: "order-0201".into(),
            idempotency_key: idempotency_key.clone(),
            result: Ok(Amount::new(Currency::Nok, 1000)),
        };
        assert!(lane.step(answer, Instant::now()).is_empty());
        assert_eq!(first_rx.try_recv(), Ok(Ok(())));
        assert_eq!(second_rx.try_recv(), Ok(Ok(())));
        assert_eq!(
            hub.get("order-0201").and_then(|r| r.refunded_amount),
            Some(1000)
        );
        let text = std::fs::read_to_string(dir.file()).expect("journal");
        assert!(text.contains("\"kind\":\"refunded\""), "{text}");
    }

    #[test]
    fn without_a_journal_the_health_says_so() {
        let hub = Hub::new();
        let _lane = Lane::new(Config::default(), Some(hub.clone()));
        assert_eq!(hub.health().journal.as_deref(), Some("not configured"));
    }

    #[test]
    fn a_journal_in_use_by_another_kiosk_refuses_to_start() {
        let dir = TempDir::new("lane-lock");
        let _first = Lane::open(Config::default(), &dir.file(), None).expect("open");
        let second = Lane::open(Config::default(), &dir.file(), None);
        assert!(
            second.as_ref().is_err_and(|e| e.contains("in use")),
            "{second:?}"
        );
    }
}
