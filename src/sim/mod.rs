//! An embedded Vipps MobilePay simulator (axum, 127.0.0.1), as strict as Vipps' test
//! environment: the access token, ePayment (with the test environment's force approve), eCom,
//! QR and Webhooks endpoints the kiosk uses, with the official field names, states, each
//! family's error shape and declared content types, idempotency, expiry, rate limits and
//! links in Vipps' shapes (`backend::links`); and a control API under `/_sim/` that plays the
//! customer's phone.
//!
//! Each API family has its HTTP layer in a file of its own and its state and rules in
//! [`backend`]: `auth` (the access token and the checks every call passes), `epayment`, `ecom`,
//! `qr` (exchange, one-time QR, QR images, landing page) and [`webhooks`]. Around them:
//! `faults` (`/_sim/faults`), `limits` (`/_sim/limits`), `control` (the phone and the
//! settings); `shared` holds the state they share, `http` turns replies into responses (the
//! content types, each family's error shape), `endpoint` names the calls, and `rng` is the one
//! source of chance.

mod auth;
pub mod backend;
mod control;
mod ecom;
mod endpoint;
mod epayment;
mod faults;
mod http;
mod limits;
mod qr;
mod rng;
mod shared;
pub mod webhooks;

pub use backend::links::Links;
pub use faults::{ApiFault, ApiFaults, FaultCounts, Refuse};
pub use limits::RateLimits;

use axum::Router;
use backend::{Backend, PhoneAction};
use serde_json::Value;
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::{sync::lock, vipps::model::Currency};
use faults::FaultState;
use limits::Limiter;
use rng::Rng;
use shared::Shared;

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Simulator seconds per real second: 60 makes the 10-minute QR window last 10 s.
    pub time_scale: f64,
    /// Approve every CREATED payment this long (simulator time) after it was created.
    pub auto_approve_after: Option<Duration>,
    /// The simulated sales unit's currency (5040 for others); any when None.
    pub currency: Option<Currency>,
    /// Accepted credentials; `None` accepts any non-empty value.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Access token lifetime in seconds (1 hour in Vipps' test environment).
    pub token_lifetime_s: u64,
    /// Vipps' rate limits per payment.
    pub rate_limits: RateLimits,
    /// Where the links it hands out point: Vipps' hosts (as the test environment's), or this
    /// simulator (for a kiosk that fetches Vipps' QR images from it).
    pub links: Links,
    /// The day the simulator takes as today (MobilePay's landing domains change on 12 January
    /// 2027); the real date when None.
    pub today: Option<time::Date>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            time_scale: 1.0,
            auto_approve_after: None,
            currency: None,
            client_id: None,
            client_secret: None,
            token_lifetime_s: 3600,
            rate_limits: RateLimits::default(),
            links: Links::default(),
            today: None,
        }
    }
}

/// A running simulator. Dropping it stops the server.
pub struct Simulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.task.abort();
        // Delivery stops with the simulator.
        self.shared.webhooks.shutdown();
    }
}

impl Simulator {
    /// Binds `listen` (use port 0 for any free port) and serves on the current tokio runtime.
    pub async fn start(listen: SocketAddr, config: SimConfig) -> std::io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let mut backend = Backend::new(format!("http://{addr}"));
        backend.currency = config.currency;
        backend.auto_approve_after_s = config.auto_approve_after.map(|d| d.as_secs_f64());
        backend.links = config.links;
        backend.today = config.today;
        let rng = Arc::new(Rng::new(Rng::SEED));
        let start = Instant::now();
        let clock = webhooks::Clock {
            start,
            time_scale: config.time_scale,
        };
        let shared = Arc::new(Shared {
            backend: Mutex::new(backend),
            tokens: Mutex::new(HashMap::new()),
            token_serial: std::sync::atomic::AtomicU64::new(0),
            start,
            webhooks: Arc::new(webhooks::Webhooks::new(
                tokio::runtime::Handle::current(),
                rng.clone(),
                clock,
            )),
            faults: Mutex::new(FaultState::default()),
            rng,
            limiter: Mutex::new(Limiter::new(config.rate_limits.clone())),
            config,
        });
        let app = router(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "simulator stopped");
            }
        });
        tracing::info!(%addr, "Vipps simulator listening");
        Ok(Simulator { addr, shared, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Runs until the server task ends (for `vipps-kiosk sim`).
    pub async fn serve_forever(mut self) {
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
    }

    /// The control API's list, in-process (tests).
    pub fn payments(&self) -> Vec<Value> {
        let b = self.shared.backend();
        b.list().into_iter().map(backend::control_view).collect()
    }

    /// The customer's phone acting on a payment, in-process (tests).
    pub fn phone(&self, reference: &str, action: PhoneAction) -> bool {
        // `backend()` has applied time up to now.
        self.shared.backend().phone(reference, action).is_success()
    }

    /// Webhook delivery faults, in-process (tests, benchmarks).
    pub fn set_webhook_faults(&self, faults: webhooks::Faults) {
        self.shared.webhooks.set_faults(faults);
    }

    /// API faults, in-process (tests).
    pub fn set_faults(&self, faults: ApiFaults) {
        faults::set_faults(&self.shared, faults);
    }

    /// How many access tokens are held as valid (expired ones are forgotten).
    pub fn live_tokens(&self) -> usize {
        lock(&self.shared.tokens).len()
    }

    /// How often the API faults struck.
    pub fn fault_counts(&self) -> FaultCounts {
        lock(&self.shared.faults).counts
    }

    /// How many webhook deliveries were sent, dropped and failed.
    pub fn webhook_counts(&self) -> webhooks::Counts {
        self.shared.webhooks.counts()
    }

    /// Rate limits, in-process (tests).
    pub fn set_rate_limits(&self, limits: RateLimits) {
        lock(&self.shared.limiter).set(limits);
    }

    /// How many calls the rate limits refused.
    pub fn rate_limited(&self) -> u64 {
        lock(&self.shared.limiter).refused()
    }

    /// The day the simulator takes as today; the real date when None.
    pub fn set_today(&self, today: Option<time::Date>) {
        self.shared.backend().today = today;
    }

    pub fn set_auto_approve(&self, after: Option<Duration>) {
        self.shared.backend().auto_approve_after_s = after.map(|d| d.as_secs_f64());
    }
}

/// Every family's routes, with the rate limits inside the faults.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(auth::routes())
        .merge(epayment::routes())
        .merge(ecom::routes())
        .merge(qr::routes())
        .merge(webhooks::routes())
        .merge(control::routes())
        .merge(limits::routes())
        .merge(faults::routes())
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            limits::rate_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            faults::inject_faults,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(http::MAX_BODY))
        .layer(axum::middleware::from_fn(http::content_types))
        .with_state(shared)
}
