//! The registrations of the simulator's Webhooks API (`/webhooks/v1/webhooks`) and delivery of
//! signed `epayments.payment.*.v1` events to registered URLs, as Vipps delivers them (Webhooks
//! API guide and FAQ; NOTES §10):
//!
//! - each registration has its own queue, sent in order: while one event fails, the later
//!   ones wait behind it;
//! - anything but a 2xx within 10 s (a 4xx too) is a failed delivery, tried again with
//!   backoff ([`backoff_s`]), each try signed anew, for up to 7 days ([`RETRY_FOR_S`]); then
//!   that event is given up and the next one is tried;
//! - a registration that has failed for two weeks without a success ([`REMOVE_AFTER_S`]) is
//!   deleted, its queue with it.
//!
//! Waits are in simulator time (the time scale shortens them). Fault knobs for tests
//! (`/_sim/webhooks/faults`): dropped, delayed, duplicated and reordered deliveries.

use super::queue::{Outcome, Pending, Queue};
use crate::{
    sim::rng::Rng,
    sync::lock,
    vipps::model::PaymentEvent,
    webhooks::{EPAYMENT_EVENTS, Event, event_type, sign, signed_parts},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

/// How long one event is retried, in simulator seconds: 7 days.
pub const RETRY_FOR_S: f64 = 7.0 * 86_400.0;
/// How long a registration may fail without a success before it is deleted: two weeks.
pub const REMOVE_AFTER_S: f64 = 14.0 * 86_400.0;
/// How long a receiver has to answer (real time).
pub const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// The wait before try `n + 1` of an event after `n` failed tries, in simulator seconds:
/// 1 s, doubling, at most an hour. (Vipps documents the 7 days, not its schedule.)
pub fn backoff_s(failed_tries: u32) -> f64 {
    f64::from(1u32 << failed_tries.clamp(1, 13).saturating_sub(1)).min(3600.0)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    #[serde(skip)]
    pub secret: String,
}

/// What can go wrong with deliveries. The default delivers everything at once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Faults {
    /// Share of deliveries never sent (0.0-1.0).
    pub drop: f64,
    /// Every delivery waits this long (real time) before it joins its queue.
    pub delay_ms: u64,
    /// Share of deliveries sent twice: the copy a second later, signed anew, as a Vipps retry
    /// (outside the queue, not retried).
    pub duplicate: f64,
    /// Each delivery waits a random extra 0..this before it joins its queue, so consecutive
    /// events can swap places.
    pub reorder_ms: u64,
}

/// Delivery counters, for tests and the control API.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Deliveries answered 2xx.
    pub sent: u64,
    pub dropped: u64,
    /// Tries that failed (not 2xx, no answer in time, or no connection).
    pub failed: u64,
    /// Tries after an event's first.
    pub retried: u64,
    /// Events given up after 7 days of failed tries.
    pub abandoned: u64,
    /// Registrations deleted after two weeks of failures.
    pub removed: u64,
    /// Events waiting in the queues now.
    pub pending: u64,
}

/// The simulator's clock, for delivery's waits.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub start: Instant,
    pub time_scale: f64,
}

impl Clock {
    pub fn now(self) -> f64 {
        self.start.elapsed().as_secs_f64() * self.time_scale
    }

    /// The real time `sim_s` simulator seconds take.
    pub fn real(self, sim_s: f64) -> Duration {
        Duration::from_secs_f64((sim_s / self.time_scale.max(1e-9)).clamp(0.0, 86_400.0))
    }
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    abandoned: AtomicU64,
    removed: AtomicU64,
}

#[derive(Debug)]
pub struct Webhooks {
    registrations: Mutex<Vec<Registration>>,
    /// Each registration's queue, by id.
    queues: Mutex<HashMap<String, Queue>>,
    faults: Mutex<Faults>,
    /// The simulator's RNG, shared with the API faults.
    rng: Arc<Rng>,
    counters: Counters,
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
    clock: Clock,
}

/// Why a registration was refused (problem+json `detail`).
pub type Refusal = String;

impl Webhooks {
    pub fn new(runtime: tokio::runtime::Handle, rng: Arc<Rng>, clock: Clock) -> Webhooks {
        Webhooks {
            registrations: Mutex::new(Vec::new()),
            queues: Mutex::new(HashMap::new()),
            faults: Mutex::new(Faults::default()),
            rng,
            counters: Counters::default(),
            http: crate::vipps::plain_http_client(),
            runtime,
            clock,
        }
    }

    fn random(&self) -> u64 {
        self.rng.next_u64()
    }

    fn chance(&self, p: f64) -> bool {
        p > 0.0 && (self.random() as f64 / u64::MAX as f64) < p
    }

    fn uuid(&self) -> String {
        let (a, b) = (self.random(), self.random());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }

    /// `POST /webhooks/v1/webhooks`. Vipps wants HTTPS on a common port; the simulator also
    /// takes plain HTTP to this machine, so a lane under test can receive. Starts the
    /// registration's delivery queue.
    pub fn register(
        self: &Arc<Self>,
        url: &str,
        events: Vec<String>,
    ) -> Result<Registration, Refusal> {
        let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|p| url.starts_with(p));
        if !(url.starts_with("https://") || local) {
            return Err(
                "url: must be https:// (or http:// to this machine, simulator only)".into(),
            );
        }
        if events.is_empty() {
            return Err("events: at least one event".into());
        }
        if let Some(e) = events
            .iter()
            .find(|e| !EPAYMENT_EVENTS.contains(&e.as_str()))
        {
            return Err(format!("events: unknown event {e:?}"));
        }
        let registration = Registration {
            id: self.uuid(),
            url: url.to_string(),
            events,
            secret: self.uuid(),
        };
        lock(&self.registrations).push(registration.clone());
        let queue = Queue::default();
        let wake = queue.wake.clone();
        lock(&self.queues).insert(registration.id.clone(), queue);
        let me = self.clone();
        let id = registration.id.clone();
        self.runtime.spawn(async move { me.work(id, wake).await });
        Ok(registration)
    }

    pub fn list(&self) -> Vec<Registration> {
        lock(&self.registrations).clone()
    }

    /// The registrations with their queues, for `/_sim/webhooks`.
    pub fn control_view(&self) -> Value {
        let queues = lock(&self.queues);
        let now = self.clock.now();
        let list: Vec<Value> = self
            .list()
            .into_iter()
            .map(|r| {
                let q = queues.get(&r.id);
                let mut v = serde_json::to_value(&r).unwrap_or_default();
                v["pending"] = json!(q.map_or(0, |q| q.pending.len()));
                v["failingForS"] = json!(q.and_then(|q| q.failing_since).map(|t| now - t));
                v
            })
            .collect();
        json!({ "webhooks": list, "deliveries": self.counts_with(&queues) })
    }

    pub fn delete(&self, id: &str) -> bool {
        let mut r = lock(&self.registrations);
        let before = r.len();
        r.retain(|w| w.id != id);
        if let Some(q) = lock(&self.queues).remove(id) {
            q.wake.notify_one();
        }
        r.len() != before
    }

    /// Forgets every registration and stops their queues (the simulator stops).
    pub fn shutdown(&self) {
        lock(&self.registrations).clear();
        for (_, q) in lock(&self.queues).drain() {
            q.wake.notify_one();
        }
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    pub fn faults(&self) -> Faults {
        lock(&self.faults).clone()
    }

    pub fn counts(&self) -> Counts {
        self.counts_with(&lock(&self.queues))
    }

    fn counts_with(&self, queues: &HashMap<String, Queue>) -> Counts {
        let c = &self.counters;
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counts {
            sent: n(&c.sent),
            dropped: n(&c.dropped),
            failed: n(&c.failed),
            retried: n(&c.retried),
            abandoned: n(&c.abandoned),
            removed: n(&c.removed),
            pending: queues.values().map(|q| q.pending.len() as u64).sum(),
        }
    }

    /// Queues each event for every registration that wants it, in the order given.
    pub fn deliver(self: &Arc<Self>, events: Vec<(String, PaymentEvent)>) {
        if events.is_empty() {
            return;
        }
        let registrations = self.list();
        let faults = self.faults();
        for (msn, e) in events {
            let Some(kind) = event_type(e.name) else {
                continue;
            };
            let Ok(body) = serde_json::to_vec(&Event { msn, payment: e }) else {
                continue;
            };
            for r in registrations
                .iter()
                .filter(|r| r.events.iter().any(|x| x == kind))
            {
                self.deliver_one(r, &body, &faults);
            }
        }
    }

    fn deliver_one(self: &Arc<Self>, r: &Registration, body: &[u8], faults: &Faults) {
        if self.chance(faults.drop) {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.chance(faults.duplicate) {
            let (me, r, body) = (self.clone(), r.clone(), body.to_vec());
            self.runtime.spawn(async move {
                tokio::time::sleep(COPY_AFTER).await;
                if me.post(&r, &body).await {
                    me.counters.sent.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        let wait = faults.delay_ms
            + match faults.reorder_ms {
                0 => 0,
                n => self.random() % n,
            };
        let pending = Pending::new(body.to_vec());
        if wait == 0 {
            self.enqueue(&r.id, pending);
        } else {
            let (me, id) = (self.clone(), r.id.clone());
            self.runtime.spawn(async move {
                tokio::time::sleep(Duration::from_millis(wait)).await;
                me.enqueue(&id, pending);
            });
        }
    }

    fn enqueue(&self, id: &str, pending: Pending) {
        if let Some(q) = lock(&self.queues).get_mut(id) {
            q.pending.push_back(pending);
            q.wake.notify_one();
        }
    }

    /// One registration's queue, until it is deleted: the first event is tried until it
    /// succeeds or is given up, then the next.
    async fn work(self: Arc<Self>, id: String, wake: Arc<tokio::sync::Notify>) {
        loop {
            let Some(registration) = self.list().into_iter().find(|r| r.id == id) else {
                return;
            };
            let head = lock(&self.queues)
                .get(&id)
                .and_then(|q| q.pending.front().map(|p| (p.body.clone(), p.not_before)));
            let Some((body, not_before)) = head else {
                wake.notified().await;
                continue;
            };
            let now = self.clock.now();
            if not_before > now {
                tokio::time::sleep(self.clock.real(not_before - now)).await;
                continue;
            }
            let delivered = self.post(&registration, &body).await;
            let now = self.clock.now();
            let outcome = match lock(&self.queues).get_mut(&id) {
                Some(q) => q.tried(delivered, now),
                None => return,
            };
            let c = &self.counters;
            match outcome {
                Outcome::Sent { retry } => {
                    c.sent.fetch_add(1, Ordering::Relaxed);
                    if retry {
                        c.retried.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Outcome::Failed { retry, abandoned } => {
                    c.failed.fetch_add(1, Ordering::Relaxed);
                    if retry {
                        c.retried.fetch_add(1, Ordering::Relaxed);
                    }
                    if abandoned {
                        c.abandoned.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Outcome::Remove => {
                    c.failed.fetch_add(1, Ordering::Relaxed);
                    c.removed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%id, "webhook registration failing for two weeks: deleted");
                    self.delete(&id);
                    return;
                }
            }
        }
    }

    /// One try, signed now; whether it was answered 2xx in time.
    async fn post(&self, r: &Registration, body: &[u8]) -> bool {
        let Ok(url) = reqwest::Url::parse(&r.url) else {
            return false;
        };
        let (host, path_and_query) = signed_parts(&url);
        let signed = sign(&r.secret, &path_and_query, &host, body, SystemTime::now());
        let sent = self
            .http
            .post(url)
            .header("x-ms-date", signed.date)
            .header("x-ms-content-sha256", signed.content_sha256)
            .header("authorization", signed.authorization)
            .header("content-type", "application/json")
            .timeout(ANSWER_WITHIN)
            .body(body.to_vec())
            .send()
            .await;
        match sent {
            Ok(resp) if resp.status().is_success() => true,
            Ok(resp) => {
                tracing::warn!(status = %resp.status(), "webhook delivery refused; will retry");
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "webhook delivery failed; will retry");
                false
            }
        }
    }
}

/// When a duplicated delivery's copy follows: a second later, so its date (and signature)
/// differ.
const COPY_AFTER: Duration = Duration::from_millis(1100);
