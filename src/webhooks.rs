//! Webhooks: Vipps' signed event deliveries (NOTES §10, webhooks-openapi.yaml), received by the
//! kiosk as one more hint next to polling.
//!
//! A delivery carries `x-ms-date`, `x-ms-content-sha256` (base64 SHA-256 of the raw body) and
//! `Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=…`,
//! the signature being base64 HMAC-SHA256 with the registration's secret over
//! `POST\n<path and query>\n<date>;<host>;<content hash>`, the host and path being those of the
//! URL that was registered (`[webhooks] public_url`; without it, the receiver's own as
//! received). `sign` is what the simulator sends, `Verifier` what the kiosk checks.
//!
//! Only deliveries that are not shown to come from Vipps (no signature, a body that does not
//! match its hash, a signature that is not the secret's) are refused (401). Every authentic
//! delivery is answered 200, because Vipps retries anything else for days and holds the later
//! events back behind it ([`Verdict`]). Replay protection lives in what is acted on, not in
//! the answer: a body already seen is a no-op, and one dated more than 5 minutes off is
//! answered but not acted on.
//!
//! An event never moves money by itself: it makes the machine read the payment now instead of
//! at the next poll (`Input::Webhook`).

use crate::{
    redact::constant_time_eq,
    sync::lock,
    vipps::{
        Secret,
        model::{PaymentEvent, PaymentEventName},
    },
};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, SystemTime},
};

/// The ePayment events the kiosk listens to.
pub const EPAYMENT_EVENTS: [&str; 8] = [
    "epayments.payment.created.v1",
    "epayments.payment.aborted.v1",
    "epayments.payment.expired.v1",
    "epayments.payment.cancelled.v1",
    "epayments.payment.captured.v1",
    "epayments.payment.refunded.v1",
    "epayments.payment.authorized.v1",
    "epayments.payment.terminated.v1",
];

/// The event type a payment event is delivered as: `epayments.payment.<name>.v1`.
pub fn event_type(name: PaymentEventName) -> Option<&'static str> {
    let i = match name {
        PaymentEventName::Created => 0,
        PaymentEventName::Aborted => 1,
        PaymentEventName::Expired => 2,
        PaymentEventName::Cancelled => 3,
        PaymentEventName::Captured => 4,
        PaymentEventName::Refunded => 5,
        PaymentEventName::Authorized => 6,
        PaymentEventName::Terminated => 7,
        PaymentEventName::Unknown => return None,
    };
    Some(EPAYMENT_EVENTS[i])
}

/// An `epayments.payment.*.v1` delivery's body: the payment's event-log entry, and the MSN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub msn: String,
    #[serde(flatten)]
    pub payment: PaymentEvent,
}

/// Dates further than this from the kiosk's clock are refused (either way).
pub const MAX_SKEW: Duration = Duration::from_secs(300);

/// The headers of a signed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub date: String,
    pub content_sha256: String,
    pub authorization: String,
}

fn hmac(secret: &str, message: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(message.as_bytes());
    mac
}

fn string_to_sign(path_and_query: &str, date: &str, host: &str, content_sha256: &str) -> String {
    format!("POST\n{path_and_query}\n{date};{host};{content_sha256}")
}

/// An HTTP date (RFC 7231 IMF-fixdate), as `x-ms-date` carries it.
pub fn http_date(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&format).unwrap_or_default()
}

fn parse_http_date(s: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(s, &format)
        .ok()
        .map(|t| t.assume_utc().into())
}

/// Signs a delivery of `body` to `host` + `path_and_query` at `now`, as Vipps does.
pub fn sign(
    secret: &str,
    path_and_query: &str,
    host: &str,
    body: &[u8],
    now: SystemTime,
) -> Signed {
    let date = http_date(now);
    let content_sha256 = B64.encode(Sha256::digest(body));
    let signature = B64.encode(
        hmac(
            secret,
            &string_to_sign(path_and_query, &date, host, &content_sha256),
        )
        .finalize()
        .into_bytes(),
    );
    Signed {
        authorization: format!(
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"
        ),
        date,
        content_sha256,
    }
}

/// Why a delivery was refused: it is not shown to come from Vipps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("a signature header is missing")]
    Missing,
    #[error("the body does not match x-ms-content-sha256")]
    ContentHash,
    #[error("the signature does not match")]
    Signature,
}

/// What an authentic delivery is. Each is answered 2xx: Vipps counts anything else (a 4xx
/// too) as a failed delivery, retries it for days and holds back every later event of the
/// registration behind it. Only a [`Verdict::Fresh`] one is acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// New, and dated within [`MAX_SKEW`] of the kiosk's clock: the lane reads its payment.
    Fresh(Event),
    /// The same body was received before (an exact repeat, or Vipps sending the event again
    /// signed anew): nothing to do.
    Repeat,
    /// New, but dated further than [`MAX_SKEW`] from the kiosk's clock (a retry after the
    /// receiver was away, or a clock off): not acted on, since a delivery captured and
    /// played back later looks the same; polling covers what it would have told.
    Late,
    /// Signed by Vipps but not an event the kiosk reads (a new kind of event, say): logged.
    Unreadable,
}

/// How long bodies are remembered: longer than Vipps retries an event (7 days).
pub const REMEMBER: Duration = Duration::from_secs(8 * 86_400);
/// How many bodies are remembered at most (the oldest are forgotten first).
const REMEMBER_AT_MOST: usize = 100_000;

/// Checks deliveries, remembering the bodies it has seen (by their hash) to tell repeats.
#[derive(Debug)]
pub struct Verifier {
    secret: Secret,
    /// Content hashes seen within [`REMEMBER`], oldest first.
    seen: VecDeque<(SystemTime, String)>,
    seen_set: HashMap<String, SystemTime>,
}

impl Verifier {
    pub fn new(secret: Secret) -> Verifier {
        Verifier {
            secret,
            seen: VecDeque::new(),
            seen_set: HashMap::new(),
        }
    }

    /// Verifies one delivery signed for `host` and `path_and_query` (those of the URL that
    /// was registered). Authentic means: the body matches its hash and the signature over
    /// path, date, host and hash is the secret's. Then the date and the memory of bodies
    /// decide what it is ([`Verdict`]).
    pub fn verify(
        &mut self,
        path_and_query: &str,
        host: &str,
        headers: Option<&Signed>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Verdict, Rejection> {
        let h = headers.ok_or(Rejection::Missing)?;
        self.authenticate(path_and_query, host, h, body)?;
        self.forget_before(now);
        if self.seen_set.contains_key(&h.content_sha256) {
            return Ok(Verdict::Repeat);
        }
        self.remember(&h.content_sha256, now);
        let fresh = parse_http_date(&h.date).is_some_and(|date| {
            let skew = match now.duration_since(date) {
                Ok(age) => age,
                Err(e) => e.duration(),
            };
            skew <= MAX_SKEW
        });
        match serde_json::from_slice::<Event>(body) {
            Err(_) => Ok(Verdict::Unreadable),
            Ok(_) if !fresh => Ok(Verdict::Late),
            Ok(event) => Ok(Verdict::Fresh(event)),
        }
    }

    /// The body matches its hash, and the signature is the secret's.
    fn authenticate(
        &self,
        path_and_query: &str,
        host: &str,
        h: &Signed,
        body: &[u8],
    ) -> Result<(), Rejection> {
        let hash = B64.encode(Sha256::digest(body));
        if !constant_time_eq(hash.as_bytes(), h.content_sha256.as_bytes()) {
            return Err(Rejection::ContentHash);
        }
        let params = h
            .authorization
            .strip_prefix("HMAC-SHA256 ")
            .ok_or(Rejection::Missing)?;
        let param = |name: &str| params.split('&').find_map(|p| p.strip_prefix(name));
        let signature = param("Signature=").ok_or(Rejection::Missing)?;
        if param("SignedHeaders=") != Some("x-ms-date;host;x-ms-content-sha256") {
            return Err(Rejection::Signature);
        }
        let given = B64.decode(signature).map_err(|_| Rejection::Signature)?;
        hmac(
            self.secret.expose(),
            &string_to_sign(path_and_query, &h.date, host, &h.content_sha256),
        )
        .verify_slice(&given)
        .map_err(|_| Rejection::Signature)
    }

    fn forget_before(&mut self, now: SystemTime) {
        while let Some((t, hash)) = self.seen.front() {
            let old = now.duration_since(*t).unwrap_or_default() > REMEMBER;
            if !old && self.seen.len() < REMEMBER_AT_MOST {
                break;
            }
            self.seen_set.remove(hash);
            self.seen.pop_front();
        }
    }

    fn remember(&mut self, hash: &str, now: SystemTime) {
        self.seen.push_back((now, hash.to_string()));
        self.seen_set.insert(hash.to_string(), now);
    }
}

/// The host and the path and query a delivery to `url` is signed with: the host with its port
/// when the URL names one, as a `Host` header carries it.
pub fn signed_parts(url: &reqwest::Url) -> (String, String) {
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    };
    let path_and_query = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    (host, path_and_query)
}

#[cfg(test)]
#[path = "webhooks_tests.rs"]
mod tests;

/// Where and how the kiosk receives webhooks (`[webhooks]`).
#[derive(Debug, Clone)]
pub struct ReceiverSetup {
    pub listen: std::net::SocketAddr,
    /// The path the receiver serves, e.g. `/vipps/webhooks` (a proxy in front may forward
    /// another path to it).
    pub path: String,
    /// The URL registered with Vipps (`public_url`), whose host and path deliveries are
    /// signed with; `None`: the Host header and path as received.
    pub public_url: Option<reqwest::Url>,
    pub secret: Secret,
}

impl std::hash::Hash for ReceiverSetup {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.listen.hash(state);
        self.path.hash(state);
        self.public_url
            .as_ref()
            .map(reqwest::Url::as_str)
            .hash(state);
    }
}

struct Receiver {
    verifier: std::sync::Mutex<Verifier>,
    /// The host and path and query deliveries are signed with, when registered elsewhere
    /// than the receiver sees itself.
    signed_as: Option<(String, String)>,
    hub: Option<std::sync::Arc<crate::pos::Hub>>,
    inputs: tokio::sync::mpsc::Sender<crate::payment::Input>,
    metrics: Option<std::sync::Arc<crate::metrics::Metrics>>,
}

/// Serves the receiver on `setup.listen` in the background. Verified events reach the lane as
/// `Input::Webhook`, refused deliveries as `Input::WebhookTrouble`; the answer goes out at
/// once (Vipps wants it within 10 s). Stops when the input receiver is dropped.
pub async fn serve(
    setup: ReceiverSetup,
    hub: Option<std::sync::Arc<crate::pos::Hub>>,
) -> std::io::Result<tokio::sync::mpsc::Receiver<crate::payment::Input>> {
    serve_metered(setup, hub, None).await
}

/// `serve`, counting deliveries (and keeping Vipps' time of approvals) in `metrics`.
pub async fn serve_metered(
    setup: ReceiverSetup,
    hub: Option<std::sync::Arc<crate::pos::Hub>>,
    metrics: Option<std::sync::Arc<crate::metrics::Metrics>>,
) -> std::io::Result<tokio::sync::mpsc::Receiver<crate::payment::Input>> {
    use axum::routing::post;
    let listener = tokio::net::TcpListener::bind(setup.listen).await?;
    let signed_as = setup.public_url.as_ref().map(signed_parts);
    tracing::info!(
        listen = %setup.listen,
        path = %setup.path,
        public_url = setup.public_url.as_ref().map_or("(as received)", reqwest::Url::as_str),
        "webhook receiver listening"
    );
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    if let Some(h) = &hub {
        h.webhooks_on();
    }
    let closed = tx.clone();
    let receiver = std::sync::Arc::new(Receiver {
        verifier: std::sync::Mutex::new(Verifier::new(setup.secret)),
        signed_as,
        hub,
        inputs: tx,
        metrics,
    });
    let app = axum::Router::new()
        .route(&setup.path, post(receive))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .with_state(receiver);
    tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(async move {
            closed.closed().await;
        });
        if let Err(e) = served.await {
            tracing::error!(error = %e, "the webhook receiver stopped");
        }
    });
    Ok(rx)
}

impl Receiver {
    /// A delivery's result for the metrics (with Vipps' time of an approval).
    fn count(&self, verified: &Result<Verdict, Rejection>) {
        let Some(m) = &self.metrics else { return };
        match verified {
            Ok(Verdict::Fresh(Event { payment: e, .. })) => {
                m.webhook_event(
                    &e.reference,
                    e.name == PaymentEventName::Authorized,
                    &e.timestamp,
                );
            }
            Ok(Verdict::Repeat) => m.webhook("replayed"),
            Ok(Verdict::Late) => m.webhook("late"),
            Ok(Verdict::Unreadable) => m.webhook("unreadable"),
            Err(_) => m.webhook("rejected"),
        }
    }
}

fn signed_headers(headers: &axum::http::HeaderMap) -> Option<Signed> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    Some(Signed {
        date: header("x-ms-date")?,
        content_sha256: header("x-ms-content-sha256")?,
        authorization: header("authorization")?,
    })
}

async fn receive(
    axum::extract::State(r): axum::extract::State<std::sync::Arc<Receiver>>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::{http::StatusCode, response::IntoResponse};
    let (host, path_and_query) = match &r.signed_as {
        Some(registered) => registered.clone(),
        None => (
            headers
                .get("host")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            uri.path_and_query()
                .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string()),
        ),
    };
    let verified = lock(&r.verifier).verify(
        &path_and_query,
        &host,
        signed_headers(&headers).as_ref(),
        &body,
        SystemTime::now(),
    );
    r.count(&verified);
    let hub = r.hub.as_deref();
    match verified {
        Ok(verdict) => {
            heed(verdict, hub, &r.inputs);
            StatusCode::OK.into_response()
        }
        Err(why) => {
            tracing::warn!(%why, "webhook refused");
            if let Some(h) = hub {
                h.webhook_rejected(&why.to_string());
            }
            let _ = r.inputs.try_send(crate::payment::Input::WebhookTrouble);
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({ "error": why.to_string() })),
            )
                .into_response()
        }
    }
}

/// What an authentic delivery makes the lane do: only a fresh event asks for a read.
fn heed(
    verdict: Verdict,
    hub: Option<&crate::pos::Hub>,
    inputs: &tokio::sync::mpsc::Sender<crate::payment::Input>,
) {
    match verdict {
        Verdict::Fresh(event) => {
            if let Some(h) = hub {
                h.webhook_verified();
            }
            let e = event.payment;
            tracing::debug!(reference = %e.reference, name = ?e.name, "webhook");
            let _ = inputs.try_send(crate::payment::Input::Webhook {
                reference: e.reference,
                name: e.name,
            });
        }
        Verdict::Repeat => {
            tracing::debug!("webhook delivery repeated; answered, not acted on");
            if let Some(h) = hub {
                h.webhook_replayed();
            }
        }
        Verdict::Late => {
            tracing::info!(
                "webhook delivery dated more than 5 minutes off (a late retry, or this \
                 machine's clock is off); answered, not acted on"
            );
            if let Some(h) = hub {
                h.webhook_replayed();
            }
        }
        Verdict::Unreadable => {
            tracing::warn!("signed webhook delivery with a body the kiosk cannot read; answered");
            if let Some(h) = hub {
                h.webhook_rejected("a signed delivery the kiosk cannot read (answered 200)");
            }
            // Its events cannot be followed: poll as without webhooks.
            let _ = inputs.try_send(crate::payment::Input::WebhookTrouble);
        }
    }
}
