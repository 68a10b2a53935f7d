//! The lane's metrics, for Prometheus: payments by method and outcome, the latencies that
//! matter to a customer, the Vipps calls, webhooks, the journal, the scanner, the token and the
//! lane's state, served as text at `GET /metrics` (`serve`).
//!
//! A leaf: it knows nothing of the rest of the crate, so every layer may record into it. The
//! parts that record hold an `Arc<Metrics>` handed to them when the lane is built (an
//! instance, not a global: tests in one process each count their own). Labels come from small
//! fixed vocabularies (method, outcome, endpoint, status class, state); no reference, order
//! id, phone number or scanned code ever becomes a label.

mod serve;

pub use serve::serve;

use prometheus_client::{
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::{Registry, Unit},
};
use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, PoisonError, atomic::AtomicU64},
    time::{Duration, Instant, SystemTime},
};

type Labels<const N: usize> = [(&'static str, &'static str); N];
type Timings<const N: usize> = Family<Labels<N>, Histogram, fn() -> Histogram>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// Every screen state the lane reports (`vipps_kiosk_lane_state`).
pub const LANE_STATES: [&str; 8] = [
    "idle",
    "waiting",
    "scanned",
    "cancelling",
    "capturing",
    "approved",
    "failed",
    "out_of_service",
];

/// Every kind of reason for being out of service (`vipps_kiosk_out_of_service`).
pub const OUT_OF_SERVICE_REASONS: [&str; 3] = ["configuration", "journal", "vipps_refusing"];

/// What the build info says about this lane. The brand is asked for at every scrape, since it
/// can change while the lane runs (MobilePay becomes Vipps on a set date).
#[derive(Clone)]
pub struct Build {
    pub version: &'static str,
    /// `NO`, `DK` or `FI`.
    pub market: &'static str,
    /// The configured `lane_id` (the operator's own name for the lane, not personal).
    pub lane: String,
    pub brand: Arc<dyn Fn() -> String + Send + Sync>,
}

impl std::fmt::Debug for Build {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Build")
            .field("version", &self.version)
            .field("market", &self.market)
            .field("lane", &self.lane)
            .field("brand", &(self.brand)())
            .finish()
    }
}

/// What is read at scrape time rather than counted.
#[derive(Debug, Default)]
struct Live {
    /// A scan whose payment request has not gone out yet.
    scan: Option<Instant>,
    last_scan: Option<Instant>,
    token_expires: Option<Instant>,
    /// Vipps' own time of recent AUTHORIZED events (from webhooks), by payment reference.
    authorized: VecDeque<(String, SystemTime)>,
    out_of_service: Option<&'static str>,
    /// Out of service for a while (Vipps refusing this lane's payments), cleared by itself.
    paused: Option<&'static str>,
    state: &'static str,
}

/// How many webhook approval times are kept for the reads that follow them.
const KEPT_APPROVALS: usize = 32;
/// A scan older than this is not the cause of a create request.
const SCAN_RELEVANCE: Duration = Duration::from_secs(60);

pub struct Metrics {
    registry: Registry,
    build: Build,
    payments: Family<Labels<3>, Counter>,
    scan_to_create: Histogram,
    approval_seen: Timings<1>,
    capture: Histogram,
    polls_per_payment: Histogram,
    read_gap: Histogram,
    vipps_calls: Family<Labels<2>, Counter>,
    vipps_seconds: Timings<1>,
    vipps_retries: Family<Labels<2>, Counter>,
    rate_limited: Family<Labels<1>, Counter>,
    held_back: Family<Labels<1>, Counter>,
    retry_after_wait: Counter<f64, AtomicU64>,
    webhooks: Family<Labels<1>, Counter>,
    journal_append: Histogram,
    journal_fsync: Histogram,
    journal_failures: Counter,
    scanner_connected: Gauge,
    scans: Counter,
    last_scan_age: FloatGauge,
    token_left: FloatGauge,
    lane_state: Family<Labels<1>, Gauge>,
    out_of_service: Family<Labels<1>, Gauge>,
    build_info: Family<[(&'static str, String); 4], Gauge>,
    live: Mutex<Live>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("build", &self.build)
            .finish_non_exhaustive()
    }
}

/// Seconds, from half a millisecond up: `start`, doubling `n` times.
fn seconds(start: f64, n: u16) -> Histogram {
    Histogram::new(exponential_buckets(start, 2.0, n))
}

fn vipps_call_timing() -> Histogram {
    seconds(0.002, 14)
}

fn approval_timing() -> Histogram {
    Histogram::new([
        0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0,
    ])
}

impl Metrics {
    pub fn new(build: Build) -> Arc<Metrics> {
        let mut m = Metrics {
            registry: Registry::with_prefix("vipps_kiosk"),
            build,
            payments: Family::default(),
            scan_to_create: seconds(0.0005, 14),
            approval_seen: Family::new_with_constructor(approval_timing),
            capture: seconds(0.005, 12),
            polls_per_payment: Histogram::new([
                1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 400.0, 800.0,
            ]),
            read_gap: Histogram::new([0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0]),
            vipps_calls: Family::default(),
            vipps_seconds: Family::new_with_constructor(vipps_call_timing),
            vipps_retries: Family::default(),
            rate_limited: Family::default(),
            held_back: Family::default(),
            retry_after_wait: Counter::default(),
            webhooks: Family::default(),
            journal_append: seconds(0.0001, 14),
            journal_fsync: seconds(0.0001, 14),
            journal_failures: Counter::default(),
            scanner_connected: Gauge::default(),
            scans: Counter::default(),
            last_scan_age: FloatGauge::default(),
            token_left: FloatGauge::default(),
            lane_state: Family::default(),
            out_of_service: Family::default(),
            build_info: Family::default(),
            live: Mutex::new(Live {
                state: "idle",
                ..Live::default()
            }),
        };
        m.register();
        Arc::new(m)
    }

    fn register(&mut self) {
        self.register_payments();
        self.register_vipps();
        self.register_parts();
        self.last_scan_age.set(f64::NAN);
        self.token_left.set(f64::NAN);
        self.refresh();
    }

    fn register_payments(&mut self) {
        let r = &mut self.registry;
        r.register(
            "payments",
            "Payments ended, by how the customer paid (method), how it ended (outcome) and why it failed (reason)",
            self.payments.clone(),
        );
        r.register_with_unit(
            "scan_to_create",
            "From a personal QR read by the scanner to its push payment's create request going out (includes cancelling the on-screen QR first)",
            Unit::Seconds,
            self.scan_to_create.clone(),
        );
        r.register_with_unit(
            "approval_seen",
            "From the customer's approval to the lane seeing it: from Vipps' event timestamp where a webhook told it (source=vipps_timestamp), else at most the time since the read before (source=read_interval)",
            Unit::Seconds,
            self.approval_seen.clone(),
        );
        r.register_with_unit(
            "capture",
            "From an approval seen to its capture confirmed by Vipps",
            Unit::Seconds,
            self.capture.clone(),
        );
        r.register(
            "polls_per_payment",
            "Reads of a payment (GET or eCom details) before it ended",
            self.polls_per_payment.clone(),
        );
        r.register_with_unit(
            "read_gap",
            "Time between two reads of the same payment (a lane that falls behind its poll interval shows here)",
            Unit::Seconds,
            self.read_gap.clone(),
        );
    }

    fn register_vipps(&mut self) {
        let r = &mut self.registry;
        r.register(
            "vipps_requests",
            "Vipps API requests sent, by endpoint and status class (2xx, 4xx, 429, 5xx, timeout, transport, decode)",
            self.vipps_calls.clone(),
        );
        r.register_with_unit(
            "vipps_request_duration",
            "Vipps API request time, sent to answer read, by endpoint",
            Unit::Seconds,
            self.vipps_seconds.clone(),
        );
        r.register(
            "vipps_retries",
            "Vipps API requests sent again with the same Idempotency-Key, by endpoint and why",
            self.vipps_retries.clone(),
        );
        r.register(
            "vipps_rate_limited",
            "429 Too Many Requests answers, by endpoint",
            self.rate_limited.clone(),
        );
        r.register(
            "vipps_held_back",
            "Requests not sent: the payment's budget (Vipps' 120 reads and 5 changes a minute, or a Retry-After) was spent, by endpoint",
            self.held_back.clone(),
        );
        r.register_with_unit(
            "vipps_retry_after_wait",
            "Time spent waiting as Vipps' Retry-After asked",
            Unit::Seconds,
            self.retry_after_wait.clone(),
        );
        r.register_with_unit(
            "token_remaining",
            "Time left on the Vipps access token (NaN before the first)",
            Unit::Seconds,
            self.token_left.clone(),
        );
    }

    fn register_parts(&mut self) {
        let r = &mut self.registry;
        r.register(
            "webhook_deliveries",
            "Webhook deliveries received, by result (verified; replayed, late or unreadable: authentic, answered, not acted on; rejected)",
            self.webhooks.clone(),
        );
        r.register_with_unit(
            "journal_append",
            "Time to write one batch to the journal, fsync included",
            Unit::Seconds,
            self.journal_append.clone(),
        );
        r.register_with_unit(
            "journal_fsync",
            "Time of the fsync of one journal batch",
            Unit::Seconds,
            self.journal_fsync.clone(),
        );
        r.register(
            "journal_failures",
            "Journal writes that failed (their requests were held back)",
            self.journal_failures.clone(),
        );
        r.register(
            "scanner_connected",
            "1 while the scanner is connected",
            self.scanner_connected.clone(),
        );
        r.register("scans", "Codes read by the scanner", self.scans.clone());
        r.register_with_unit(
            "last_scan_age",
            "Time since the scanner last read a code (NaN before the first)",
            Unit::Seconds,
            self.last_scan_age.clone(),
        );
        r.register(
            "lane_state",
            "1 for the state the lane's screen is in, 0 for the others",
            self.lane_state.clone(),
        );
        r.register(
            "out_of_service",
            "1 while the lane is out of service, with the kind of reason",
            self.out_of_service.clone(),
        );
        r.register(
            "build_info",
            "The kiosk's version, market, brand and lane",
            self.build_info.clone(),
        );
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ---- payments ---------------------------------------------------------------------

    /// A payment ended: `method` `one_time_qr`/`personal_qr`/`none`, `outcome` `captured`,
    /// `failed`, `withdrawn` or `walked_away`, `reason` why it failed (`none` otherwise).
    pub fn payment_ended(&self, method: &'static str, outcome: &'static str, reason: &'static str) {
        self.payments
            .get_or_create(&[("method", method), ("outcome", outcome), ("reason", reason)])
            .inc();
        self.live().scan = None;
    }

    /// The scanner read a code that the lane acts on.
    pub fn scanned(&self, now: Instant) {
        self.scans.inc();
        let mut live = self.live();
        live.scan = Some(now);
        live.last_scan = Some(now);
    }

    /// A code was read but nothing follows from it (not a Vipps code, no order).
    pub fn scan_ignored(&self) {
        self.live().scan = None;
    }

    /// A create request goes out now: if a scan caused it, the time since the scan.
    pub fn create_sending(&self, now: Instant) {
        if let Some(at) = self.live().scan.take()
            && now.duration_since(at) < SCAN_RELEVANCE
        {
            self.scan_to_create
                .observe(now.duration_since(at).as_secs_f64());
        }
    }

    /// A verified webhook event: Vipps' own time of an approval is kept for the read it causes.
    pub fn webhook_event(&self, reference: &str, authorized: bool, timestamp: &str) {
        self.webhook("verified");
        if !authorized {
            return;
        }
        let Ok(at) =
            time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
        else {
            return;
        };
        let mut live = self.live();
        live.authorized
            .push_back((reference.to_string(), at.into()));
        while live.authorized.len() > KEPT_APPROVALS {
            live.authorized.pop_front();
        }
    }

    /// The lane saw `reference` authorized; `since_last_read` is the time since the read
    /// before, which did not show it yet (the bound when Vipps' own time is not known).
    pub fn approval_seen(&self, reference: &str, since_last_read: Option<Duration>) {
        let vipps_time = {
            let mut live = self.live();
            let i = live.authorized.iter().position(|(r, _)| r == reference);
            i.and_then(|i| live.authorized.remove(i)).map(|(_, at)| at)
        };
        let (source, took) = match (vipps_time, since_last_read) {
            (Some(at), _) => (
                "vipps_timestamp",
                SystemTime::now().duration_since(at).unwrap_or_default(),
            ),
            (None, Some(d)) => ("read_interval", d),
            (None, None) => return,
        };
        self.approval_seen
            .get_or_create(&[("source", source)])
            .observe(took.as_secs_f64());
    }

    pub fn captured_after(&self, since_approval: Duration) {
        self.capture.observe(since_approval.as_secs_f64());
    }

    pub fn payment_reads(&self, reads: u32) {
        self.polls_per_payment.observe(f64::from(reads));
    }

    pub fn read_gap(&self, gap: Duration) {
        self.read_gap.observe(gap.as_secs_f64());
    }

    // ---- Vipps calls ------------------------------------------------------------------

    /// One request answered (or failed): `class` is `2xx`, `4xx`, `429`, `5xx`, `timeout`,
    /// `transport` or `decode`.
    pub fn vipps_request(&self, endpoint: &'static str, class: &'static str, took: Duration) {
        self.vipps_calls
            .get_or_create(&[("endpoint", endpoint), ("class", class)])
            .inc();
        self.vipps_seconds
            .get_or_create(&[("endpoint", endpoint)])
            .observe(took.as_secs_f64());
        if class == "429" {
            self.rate_limited
                .get_or_create(&[("endpoint", endpoint)])
                .inc();
        }
    }

    /// A request the payment's budget held back.
    pub fn vipps_held_back(&self, endpoint: &'static str) {
        self.held_back
            .get_or_create(&[("endpoint", endpoint)])
            .inc();
    }

    /// A request is about to be sent again after `wait`; `retry_after` when Vipps asked for it.
    pub fn vipps_retry(
        &self,
        endpoint: &'static str,
        why: &'static str,
        retry_after: Option<Duration>,
        wait: Duration,
    ) {
        self.vipps_retries
            .get_or_create(&[("endpoint", endpoint), ("why", why)])
            .inc();
        if retry_after.is_some() {
            self.retry_after_wait.inc_by(wait.as_secs_f64());
        }
    }

    pub fn token_expires(&self, at: Instant) {
        self.live().token_expires = Some(at);
    }

    // ---- the lane's parts ---------------------------------------------------------------

    /// `verified`, `replayed`, `late`, `unreadable` or `rejected`.
    pub fn webhook(&self, result: &'static str) {
        self.webhooks.get_or_create(&[("result", result)]).inc();
    }

    /// A journal batch written (`fsync` its share), or failed.
    pub fn journal_write(&self, took: Duration, fsync: Option<Duration>) {
        match fsync {
            Some(f) => {
                self.journal_append.observe(took.as_secs_f64());
                self.journal_fsync.observe(f.as_secs_f64());
            }
            None => {
                self.journal_failures.inc();
            }
        }
    }

    pub fn scanner(&self, connected: bool) {
        self.scanner_connected.set(i64::from(connected));
    }

    /// The state the lane's screen shows: one of `LANE_STATES`.
    pub fn lane_state(&self, state: &'static str) {
        self.live().state = state;
    }

    /// The lane cannot take orders: `reason` is the kind (`configuration`, `journal`, …).
    pub fn out_of_service(&self, reason: &'static str) {
        self.live().out_of_service = Some(reason);
    }

    /// The lane is out of service for a while for `reason` (`vipps_refusing`), or no longer.
    pub fn paused(&self, reason: Option<&'static str>) {
        self.live().paused = reason;
    }

    // ---- reading ------------------------------------------------------------------------

    /// Sets what is computed at scrape time: ages, the token's time left, state gauges and
    /// the build info (whose brand may have changed).
    fn refresh(&self) {
        let now = Instant::now();
        let live = self.live();
        if let Some(at) = live.last_scan {
            self.last_scan_age.set(now.duration_since(at).as_secs_f64());
        }
        if let Some(at) = live.token_expires {
            self.token_left
                .set(at.saturating_duration_since(now).as_secs_f64());
        }
        let reason = live.out_of_service.or(live.paused);
        let state = if reason.is_some() {
            "out_of_service"
        } else {
            live.state
        };
        for s in LANE_STATES {
            self.lane_state
                .get_or_create(&[("state", s)])
                .set(i64::from(s == state));
        }
        for r in OUT_OF_SERVICE_REASONS {
            let on = reason == Some(r);
            if on || self.out_of_service.get(&[("reason", r)]).is_some() {
                self.out_of_service
                    .get_or_create(&[("reason", r)])
                    .set(i64::from(on));
            }
        }
        drop(live);
        let b = &self.build;
        let labels = [
            ("version", b.version.to_string()),
            ("market", b.market.to_string()),
            ("brand", (b.brand)()),
            ("lane", b.lane.clone()),
        ];
        if self.build_info.get(&labels).is_none() {
            self.build_info.clear();
            self.build_info.get_or_create(&labels).set(1);
        }
    }

    /// The metrics as text: Prometheus' text format (0.0.4), or OpenMetrics 1.0.
    pub fn render(&self, openmetrics: bool) -> String {
        self.refresh();
        let mut out = String::new();
        let encoded = if openmetrics {
            prometheus_client::encoding::text::encode(&mut out, &self.registry)
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        };
        if let Err(e) = encoded {
            out = format!("# metrics could not be encoded: {e}\n");
        }
        out
    }
}

#[cfg(test)]
mod tests;
