//! The registrations of the simulator's Webhooks API (`/webhooks/v1/webhooks`) and delivery of
//! signed `epayments.payment.*.v1` events to registered URLs, with fault knobs for tests:
//! dropped, delayed, duplicated and reordered deliveries (`/_sim/webhooks/faults`).

use crate::{
    sim::rng::Rng,
    sync::lock,
    vipps::model::PaymentEvent,
    webhooks::{EPAYMENT_EVENTS, Event, event_type, sign},
};
use serde::{Deserialize, Serialize};
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime},
};

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
    /// Every delivery waits this long.
    pub delay_ms: u64,
    /// Share of deliveries sent twice: the copy a second later, signed anew, as a Vipps retry.
    pub duplicate: f64,
    /// Each delivery waits a random extra 0..this, so consecutive events can swap places.
    pub reorder_ms: u64,
}

/// Delivery counters, for tests and the control API.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub sent: u64,
    pub dropped: u64,
    pub failed: u64,
}

#[derive(Debug)]
pub struct Webhooks {
    registrations: Mutex<Vec<Registration>>,
    faults: Mutex<Faults>,
    /// The simulator's RNG, shared with the API faults.
    rng: Arc<Rng>,
    sent: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

/// Why a registration was refused (problem+json `detail`).
pub type Refusal = String;

impl Webhooks {
    pub fn new(runtime: tokio::runtime::Handle, rng: Arc<Rng>) -> Webhooks {
        Webhooks {
            registrations: Mutex::new(Vec::new()),
            faults: Mutex::new(Faults::default()),
            rng,
            sent: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            http: crate::vipps::plain_http_client(),
            runtime,
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
    /// takes plain HTTP to this machine, so a lane under test can receive.
    pub fn register(&self, url: &str, events: Vec<String>) -> Result<Registration, Refusal> {
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
        Ok(registration)
    }

    pub fn list(&self) -> Vec<Registration> {
        lock(&self.registrations).clone()
    }

    pub fn delete(&self, id: &str) -> bool {
        let mut r = lock(&self.registrations);
        let before = r.len();
        r.retain(|w| w.id != id);
        r.len() != before
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    pub fn faults(&self) -> Faults {
        lock(&self.faults).clone()
    }

    pub fn counts(&self) -> Counts {
        Counts {
            sent: self.sent.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }

    /// Sends each event to every registration that wants it, in the background.
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
            let body = Event { msn, payment: e };
            let Ok(body) = serde_json::to_vec(&body) else {
                continue;
            };
            for r in registrations
                .iter()
                .filter(|r| r.events.iter().any(|x| x == kind))
            {
                if self.chance(faults.drop) {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let copies = if self.chance(faults.duplicate) { 2 } else { 1 };
                for copy in 0..copies {
                    let extra = match faults.reorder_ms {
                        0 => 0,
                        n => self.random() % n,
                    };
                    let wait = Duration::from_millis(faults.delay_ms + extra + copy * 1100);
                    let (me, r, body) = (self.clone(), r.clone(), body.clone());
                    self.runtime.spawn(async move {
                        if !wait.is_zero() {
                            tokio::time::sleep(wait).await;
                        }
                        me.post(&r, body).await;
                    });
                }
            }
        }
    }

    async fn post(&self, r: &Registration, body: Vec<u8>) {
        let Ok(url) = reqwest::Url::parse(&r.url) else {
            self.failed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => String::new(),
        };
        let path_and_query = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let signed = sign(&r.secret, &path_and_query, &host, &body, SystemTime::now());
        let sent = self
            .http
            .post(url)
            .header("x-ms-date", signed.date)
            .header("x-ms-content-sha256", signed.content_sha256)
            .header("authorization", signed.authorization)
            .header("content-type", "application/json")
            .timeout(Duration::from_secs(10))
            .body(body)
            .send()
            .await;
        match sent {
            Ok(resp) if resp.status().is_success() => {
                self.sent.fetch_add(1, Ordering::Relaxed);
            }
            Ok(resp) => {
                tracing::warn!(status = %resp.status(), "webhook delivery refused");
                self.failed.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::warn!(error = %e, "webhook delivery failed");
                self.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
