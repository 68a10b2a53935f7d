//! One lane's payment core without a window: the payment machine, the journal that makes it
//! crash-safe, and the hub the POS API reads. The iced app and the headless runner both drive a
//! `Lane` and carry out the API calls it hands back (with `driver`, the one place where the
//! Vipps client and the machine meet); neither sees the journal. `services` is the one wiring
//! of the journal, the POS API, webhooks and the scanner that both use.
//!
//! Every step's effects are journaled (one `fsync`ed batch) before its requests are handed out,
//! so no create or refund reaches Vipps unrecorded. A failed write holds those back and tells
//! the machine they failed transiently: it tries again later, journal first. A capture or
//! cancel of a payment whose create is on disk still goes out (said loudly): it only moves
//! the money the way it must go, its key derives from what is on disk, and holding it back
//! would leave the customer's money reserved while the disk is full.
//!
//! A POS command is all or nothing: when its records cannot be written, the machine is put
//! back as it was and the POS hears why (503); it hears 201/202 only once they are on disk.

pub mod driver;
pub mod journal;
mod metered;
mod refunds;
mod services;

pub use services::{Feed, Inputs, MetricsSetup, PosSetup, ScanEvent, ScannerSource, Services, run};

use crate::{
    lane::journal::{Disk, Journal, RealDisk, Record},
    payment::{self, ApiError, Effect, Input, Machine, Resume},
    pos::{Command, Hub, RefundRefused, Refusal, Reply},
    vipps::model::Amount,
};
use std::{path::Path, sync::Arc, time::Instant};

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
    /// Payments of ended orders the journal does not know to have ended, until `resume`
    /// follows them again.
    loose: Vec<payment::Followed>,
    /// Staff refunds under way, and those done since the lane started.
    refunds: refunds::Refunds,
    /// A withdrawal whose record is not on disk yet: it goes with every batch until it is.
    withdrawn: Option<String>,
    /// Why the journal cannot record (for the staff line).
    trouble: Option<String>,
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
            loose: Vec::new(),
            refunds: refunds::Refunds::default(),
            withdrawn: None,
            trouble: None,
            freeze: Freeze::from_env(),
            meter: metered::Meter::default(),
        }
    }

    /// A lane with the journal at `path`: reads it back (the POS learns the orders it holds)
    /// and keeps the unfinished payment for `resume`. `Err` says why the lane cannot run. A
    /// journal that opens in trouble (a full disk) still gives a lane, which carries on the
    /// payment under way and says what is wrong (`trouble`, health).
    pub fn open(
        config: payment::Config,
        path: &Path,
        hub: Option<Arc<Hub>>,
    ) -> Result<Lane, String> {
        Lane::open_on(config, path, Arc::new(RealDisk), hub)
    }

    /// `open`, with the journal writing through `disk` (tests make it fail).
    pub fn open_on(
        config: payment::Config,
        path: &Path,
        disk: Arc<dyn Disk>,
        hub: Option<Arc<Hub>>,
    ) -> Result<Lane, String> {
        let mut lane = Lane::new(config, hub);
        match Journal::open_on(path, disk) {
            Ok((journal, recovered)) => {
                tracing::info!(path = %path.display(), unfinished = recovered.resume.is_some(), "journal open");
                lane.journaled_order = recovered.resume.as_ref().map(|r| r.order.order_id.clone());
                lane.unfinished = recovered.resume;
                lane.loose = recovered.loose;
                lane.journal = Some(journal);
                lane.journal_state();
                if let Some(h) = &lane.hub {
                    h.restore(recovered.orders);
                    if recovered.unreadable > 0 && lane.trouble.is_none() {
                        h.set_journal(format!(
                            "ok ({} unreadable lines skipped at start)",
                            recovered.unreadable
                        ));
                    }
                }
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

    /// What staff must fix for the lane to take orders: its journal cannot record them.
    pub fn trouble(&self) -> Option<&str> {
        self.trouble.as_deref()
    }

    /// Follows the journal's state into `trouble` and the health report.
    fn journal_state(&mut self) {
        let Some(j) = &self.journal else { return };
        self.trouble = j.failing().then(|| {
            format!(
                "The journal {} {}: no new orders until it can record them",
                j.path().display(),
                j.trouble().unwrap_or_default()
            )
        });
        if let Some(h) = &self.hub {
            h.set_journal(match (j.trouble(), j.failing()) {
                (Some(t), true) => format!("failing: {t}"),
                (Some(t), false) => format!("ok, but {t}"),
                (None, _) => "ok".into(),
            });
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

    /// Carries on with the payment the journal found unfinished, if any, and follows again
    /// the payments of ended orders that may still be live (they are released).
    pub fn resume(&mut self, now: Instant) -> Vec<Effect> {
        let mut calls = match self.unfinished.take() {
            Some(r) => self.step(Input::Resume(Box::new(r)), now),
            None => Vec::new(),
        };
        let loose = std::mem::take(&mut self.loose);
        if !loose.is_empty() {
            tracing::info!(
                payments = loose.len(),
                "following payments of ended orders again"
            );
            calls.extend(self.step(Input::Follow(loose), now));
        }
        calls
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
            Command::Submit(order, reply) => self.submit(*order, None, reply, now),
            Command::SubmitAssisted(order, to, reply) => self.submit(*order, Some(to), reply, now),
            Command::HandOver {
                order_id,
                to,
                reply,
            } => {
                let done = self.hand_over_answer(&order_id, &to).and_then(|()| {
                    let input = Input::CustomerHandedOver { order_id, to };
                    self.step_recorded(input, now, |_| {})
                });
                reply.send(done.as_ref().map(|_| ()).map_err(|r| *r));
                done.unwrap_or_default()
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
                let (answer, calls) = match answer {
                    Ok(()) => {
                        match self.step_recorded(Input::OrderWithdrawn(order_id), now, |_| {}) {
                            Ok(calls) => (Ok(()), calls),
                            Err(refusal) => (Err(refusal), Vec::new()),
                        }
                    }
                    Err(refusal) => (Err(refusal), Vec::new()),
                };
                reply.send(answer);
                calls
            }
            Command::Refund(r, reply) => {
                let key = payment::refund_key(&r.reference, &r.refund_id);
                if !self.refunds.ask(&key, r.amount.value, reply) {
                    tracing::info!(order = %r.order_id, "a refund sent again: done already, answered without a call");
                    return Vec::new();
                }
                let input = Input::RefundRequested {
                    order_id: r.order_id,
                    reference: r.reference,
                    amount: r.amount,
                    refund_id: r.refund_id,
                };
                match self.step_recorded(input, now, |_| {}) {
                    Ok(calls) => calls,
                    Err(_) => {
                        self.refunds.unrecorded(&key);
                        Vec::new()
                    }
                }
            }
        }
    }

    /// A new order from the POS, with the customer the cashier hands over (`to`) or without.
    fn submit(
        &mut self,
        order: payment::Order,
        to: Option<payment::PushTo>,
        reply: Reply,
        now: Instant,
    ) -> Vec<Effect> {
        if !self.machine.accepts_orders() {
            reply.send(Err(match self.machine.out_of_service() {
                Some(_) => Refusal::OutOfService,
                None => Refusal::Busy,
            }));
            return Vec::new();
        }
        if self
            .journal
            .as_ref()
            .is_some_and(|j| j.knows(&order.order_id))
        {
            reply.send(Err(Refusal::Reused));
            return Vec::new();
        }
        let accepted = order.clone();
        let input = match to {
            Some(to) => Input::AssistedOrder { order, to },
            None => Input::OrderReceived(order),
        };
        match self.step_recorded(input, now, |lane| {
            if let Some(h) = &lane.hub {
                h.accepted(&accepted);
            }
        }) {
            Ok(calls) => {
                reply.send(Ok(()));
                calls
            }
            Err(refusal) => {
                reply.send(Err(refusal));
                Vec::new()
            }
        }
    }

    /// Whether the customer of `order_id` can be handed over now: while its one-time QR is on
    /// screen (or after a failed try); the same customer again while their push is under way
    /// changes nothing.
    fn hand_over_answer(&self, order_id: &str, to: &payment::PushTo) -> Result<(), Refusal> {
        use payment::State;
        if self.machine.order().is_none_or(|o| o.order_id != order_id) {
            return Err(Refusal::NotActive);
        }
        match self.machine.state() {
            State::Waiting { .. } | State::Failed { order: Some(_), .. } => Ok(()),
            State::Scanned { payment, .. } if pushes_to(payment, to) => Ok(()),
            State::Cancelling {
                after: payment::AfterCancel::Push(next),
                ..
            } if next == to => Ok(()),
            State::Scanned { .. } | State::Cancelling { .. } => Err(Refusal::InProgress),
            State::Capturing { .. } | State::Approved { .. } => Err(Refusal::AlreadyPaid),
            State::Idle | State::Failed { order: None, .. } => Err(Refusal::NotActive),
        }
    }

    /// Feeds the machine a POS command's input, all or nothing: once its records are on disk,
    /// `recorded` runs and the effects are carried out; when they cannot be written the
    /// machine is put back as it was and nothing happened.
    fn step_recorded(
        &mut self,
        input: Input,
        now: Instant,
        recorded: impl FnOnce(&Lane),
    ) -> Result<Vec<Effect>, Refusal> {
        let (before, pending) = (self.machine.clone(), self.withdrawn.clone());
        let withdrawn = match &input {
            Input::OrderWithdrawn(id) => Some(id.clone()),
            _ => None,
        };
        let effects = self.machine.step(input, now);
        match self.journal_effects(&effects, withdrawn) {
            Ok(()) => {
                recorded(self);
                Ok(self.carry_out(effects, true, now))
            }
            Err(_) => {
                self.machine = before;
                self.withdrawn = pending;
                Err(Refusal::Unrecorded)
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
        let refusing = self.machine.out_of_service().is_some();
        if let Some(h) = &self.hub {
            h.set_paused(self.machine.out_of_service());
        }
        self.meter
            .effects(&effects, self.machine.state(), refusing, now);
        let written = self.journal_effects(&effects, withdrawn).is_ok();
        self.carry_out(effects, written, now)
    }

    /// Tells the POS and the log what `effects` say, and returns the API calls that may go
    /// out: all of them once `written`, else only reads, captures and cancels (see the module
    /// doc); the rest are answered as not sent.
    fn carry_out(&mut self, effects: Vec<Effect>, written: bool, now: Instant) -> Vec<Effect> {
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
                e @ (Effect::Capture { .. } | Effect::Cancel { .. }) => {
                    tracing::error!(effect = ?e, "the journal cannot record it; sent all the same, so the money does not stay reserved");
                    calls.push(e);
                }
                e => held_back.extend(not_sent(e)),
            }
        }
        for input in held_back {
            let more = self.machine.step(input, now);
            calls.extend(self.commit(more, None, now));
        }
        calls
    }

    /// Writes what `effects` record (and a withdrawal not yet on disk) as one batch; `Err`
    /// says why the write failed and the requests must be held back.
    fn journal_effects(
        &mut self,
        effects: &[Effect],
        withdrawn: Option<String>,
    ) -> Result<(), String> {
        let mut records = Vec::new();
        let mut new_order = None;
        let refused = effects.iter().any(|e| matches!(e, Effect::Refused { .. }));
        let withdrawn = withdrawn.filter(|_| !refused).or(self.withdrawn.take());
        if let Some(order_id) = &withdrawn {
            records.push(Record::Withdrawn {
                order_id: order_id.clone(),
            });
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
            return Ok(());
        };
        if records.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let written = journal.append_timed(&records);
        self.meter
            .journal(started.elapsed(), written.as_ref().ok().copied());
        if let Err(e) = &written {
            tracing::error!(path = %journal.path().display(), error = %e, "journal write failed; holding the requests back");
        }
        self.journal_state();
        match written {
            Ok(_) => {
                if new_order.is_some() {
                    self.journaled_order = new_order;
                }
                self.freeze.step("a journal write");
                Ok(())
            }
            Err(e) => {
                self.withdrawn = withdrawn;
                Err(e.to_string())
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
                retry_after: e.retry_after,
            }),
        };
        self.refunds.answered(key, answer);
    }
}

/// Whether `payment` already goes to `to` (the same customer handed over again).
fn pushes_to(payment: &payment::Payment, to: &payment::PushTo) -> bool {
    let customer = payment.request.customer.as_ref();
    match to {
        payment::PushTo::PersonalQr(q) => {
            customer.and_then(|c| c.personal_qr.as_deref()) == Some(q.as_str())
        }
        payment::PushTo::Phone(n) => {
            customer.and_then(|c| c.phone_number.as_deref()) == Some(n.msisdn().as_str())
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
mod tests;
