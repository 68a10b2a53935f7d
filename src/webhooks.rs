//! Webhooks: Vipps' signed event deliveries (NOTES §10, webhooks-openapi.yaml), received by the
//! kiosk as one more hint next to polling.
//!
//! A delivery carries `x-ms-date`, `x-ms-content-sha256` (base64 SHA-256 of the raw body) and
//! `Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=…`,
//! the signature being base64 HMAC-SHA256 with the registration's secret over
//! `POST\n<path and query>\n<date>;<host>;<content hash>`. `sign` is what the simulator sends,
//! `Verifier` what the kiosk checks: the hash, the signature (constant time), the date (not
//! stale, not from the future) and replays of the very same delivery.
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

/// Why a delivery was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("a signature header is missing")]
    Missing,
    #[error("the body does not match x-ms-content-sha256")]
    ContentHash,
    #[error("the signature does not match")]
    Signature,
    #[error("x-ms-date is unreadable, stale or in the future")]
    Stale,
    #[error("this exact delivery was received before")]
    Replayed,
    #[error("the body is not an ePayment event")]
    Body,
}

/// Checks deliveries, remembering recent signatures to refuse replays.
#[derive(Debug)]
pub struct Verifier {
    secret: Secret,
    /// Signatures seen within `MAX_SKEW`, oldest first.
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

    /// Verifies one delivery. `host` is the Host header as received.
    pub fn verify(
        &mut self,
        path_and_query: &str,
        host: &str,
        headers: Option<&Signed>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Event, Rejection> {
        let h = headers.ok_or(Rejection::Missing)?;
        let hash = B64.encode(Sha256::digest(body));
        if !constant_time_eq(hash.as_bytes(), h.content_sha256.as_bytes()) {
            return Err(Rejection::ContentHash);
        }
        let signature = h
            .authorization
            .strip_prefix("HMAC-SHA256 ")
            .and_then(|rest| rest.split('&').find_map(|p| p.strip_prefix("Signature=")))
            .ok_or(Rejection::Missing)?;
        let signed_headers = h
            .authorization
            .strip_prefix("HMAC-SHA256 ")
            .and_then(|rest| {
                rest.split('&')
                    .find_map(|p| p.strip_prefix("SignedHeaders="))
            });
        if signed_headers != Some("x-ms-date;host;x-ms-content-sha256") {
            return Err(Rejection::Signature);
        }
        let given = B64.decode(signature).map_err(|_| Rejection::Signature)?;
        let expected = hmac(
            self.secret.expose(),
            &string_to_sign(path_and_query, &h.date, host, &h.content_sha256),
        );
        expected
            .verify_slice(&given)
            .map_err(|_| Rejection::Signature)?;
        let date = parse_http_date(&h.date).ok_or(Rejection::Stale)?;
        let skew = match now.duration_since(date) {
            Ok(age) => age,
            Err(e) => e.duration(),
        };
        if skew > MAX_SKEW {
            return Err(Rejection::Stale);
        }
        // Forget what is too old to be accepted anyway; then refuse what is left and known.
        while let Some((t, sig)) = self.seen.front() {
            if now.duration_since(*t).unwrap_or_default() <= MAX_SKEW * 2 {
                break;
            }
            self.seen_set.remove(sig);
            self.seen.pop_front();
        }
        if self.seen_set.contains_key(signature) {
            return Err(Rejection::Replayed);
        }
        let event: Event = serde_json::from_slice(body).map_err(|_| Rejection::Body)?;
        self.seen.push_back((now, signature.to_string()));
        self.seen_set.insert(signature.to_string(), now);
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vipps::model::Currency;

    const SECRET: &str = "090a478d-37ff-4e77-970e-d457aeb26a3a";
    const PATH: &str = "/vipps/webhooks?lane=3";
    const HOST: &str = "kiosk.example.com:8443";

    fn body(name: PaymentEventName) -> Vec<u8> {
        serde_json::to_vec(&Event {
            msn: "123456".into(),
            payment: PaymentEvent {
                reference: "order-0001-1".into(),
                psp_reference: "psp-1".into(),
                name,
                amount: crate::vipps::model::Amount::new(Currency::Nok, 49800),
                timestamp: "2026-11-22T10:00:00Z".into(),
                idempotency_key: None,
                success: true,
            },
        })
        .expect("json")
    }

    fn verifier() -> Verifier {
        Verifier::new(Secret::new(SECRET))
    }

    #[test]
    fn a_good_delivery_verifies_and_reads() {
        let now = SystemTime::now();
        let b = body(PaymentEventName::Authorized);
        let s = sign(SECRET, PATH, HOST, &b, now);
        assert!(s.authorization.starts_with(
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
        ));
        assert!(s.date.ends_with(" GMT"), "{}", s.date);
        let e = verifier()
            .verify(PATH, HOST, Some(&s), &b, now)
            .expect("verifies");
        assert_eq!(e.payment.name, PaymentEventName::Authorized);
        assert_eq!(e.payment.reference, "order-0001-1");
        // The wire format is Vipps' flat one.
        let v: serde_json::Value = serde_json::from_slice(&b).expect("json");
        assert_eq!(v["reference"], "order-0001-1");
        assert_eq!(v["pspReference"], "psp-1");
        assert_eq!(v["msn"], "123456");
    }

    /// The signature computed by hand from the documented recipe, independent of `sign`.
    #[test]
    fn the_signature_follows_the_documented_string_to_sign() {
        let b = br#"{"x":1}"#;
        let date = "Thu, 30 Mar 2023 08:38:36 GMT";
        let hash = B64.encode(Sha256::digest(b));
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).expect("key");
        mac.update(format!("POST\n{PATH}\n{date};{HOST};{hash}").as_bytes());
        let expected = B64.encode(mac.finalize().into_bytes());
        let t = parse_http_date(date).expect("date");
        let s = sign(SECRET, PATH, HOST, b, t);
        assert_eq!(s.date, date);
        assert!(s.authorization.ends_with(&format!("Signature={expected}")));
    }

    #[test]
    fn bad_signatures_are_refused() {
        let now = SystemTime::now();
        let b = body(PaymentEventName::Authorized);
        let s = sign(SECRET, PATH, HOST, &b, now);
        // Another secret.
        let wrong = sign("another-secret", PATH, HOST, &b, now);
        assert_eq!(
            verifier().verify(PATH, HOST, Some(&wrong), &b, now),
            Err(Rejection::Signature)
        );
        // Another host or path than signed.
        assert_eq!(
            verifier().verify(PATH, "evil.example", Some(&s), &b, now),
            Err(Rejection::Signature)
        );
        assert_eq!(
            verifier().verify("/vipps/webhooks", HOST, Some(&s), &b, now),
            Err(Rejection::Signature)
        );
        // A changed body.
        let other = body(PaymentEventName::Captured);
        assert_eq!(
            verifier().verify(PATH, HOST, Some(&s), &other, now),
            Err(Rejection::ContentHash)
        );
        // A changed body with its hash recomputed, but the old signature.
        let forged = Signed {
            content_sha256: B64.encode(Sha256::digest(&other)),
            ..s.clone()
        };
        assert_eq!(
            verifier().verify(PATH, HOST, Some(&forged), &other, now),
            Err(Rejection::Signature)
        );
        assert_eq!(
            verifier().verify(PATH, HOST, None, &b, now),
            Err(Rejection::Missing)
        );
        let garbled = Signed {
            authorization:
                "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=!!".into(),
            ..s
        };
        assert_eq!(
            verifier().verify(PATH, HOST, Some(&garbled), &b, now),
            Err(Rejection::Signature)
        );
    }

    #[test]
    fn stale_and_future_dates_are_refused() {
        let now = SystemTime::now();
        let b = body(PaymentEventName::Created);
        let old = sign(SECRET, PATH, HOST, &b, now - Duration::from_secs(301));
        assert_eq!(
            verifier().verify(PATH, HOST, Some(&old), &b, now),
            Err(Rejection::Stale)
        );
        let future = sign(SECRET, PATH, HOST, &b, now + Duration::from_secs(301));
        assert_eq!(
            verifier().verify(PATH, HOST, Some(&future), &b, now),
            Err(Rejection::Stale)
        );
        let recent = sign(SECRET, PATH, HOST, &b, now - Duration::from_secs(60));
        assert!(
            verifier()
                .verify(PATH, HOST, Some(&recent), &b, now)
                .is_ok()
        );
    }

    #[test]
    fn a_replayed_delivery_is_refused_but_a_resent_event_is_not() {
        let now = SystemTime::now();
        let b = body(PaymentEventName::Authorized);
        let s = sign(SECRET, PATH, HOST, &b, now);
        let mut v = verifier();
        assert!(v.verify(PATH, HOST, Some(&s), &b, now).is_ok());
        assert_eq!(
            v.verify(PATH, HOST, Some(&s), &b, now + Duration::from_secs(2)),
            Err(Rejection::Replayed)
        );
        // Vipps sending the same event again signs it anew (a later date): accepted.
        let again = sign(SECRET, PATH, HOST, &b, now + Duration::from_secs(3));
        assert!(
            v.verify(PATH, HOST, Some(&again), &b, now + Duration::from_secs(3))
                .is_ok()
        );
    }

    #[test]
    fn a_signed_body_that_is_not_an_event_is_refused() {
        let now = SystemTime::now();
        let b = br#"{"hello":"world"}"#;
        let s = sign(SECRET, PATH, HOST, b, now);
        assert_eq!(
            verifier().verify(PATH, HOST, Some(&s), b, now),
            Err(Rejection::Body)
        );
    }
}

/// Where and how the kiosk receives webhooks (`[webhooks]`).
#[derive(Debug, Clone)]
pub struct ReceiverSetup {
    pub listen: std::net::SocketAddr,
    /// The path the registration's URL points at, e.g. `/vipps/webhooks`.
    pub path: String,
    pub secret: Secret,
}

impl std::hash::Hash for ReceiverSetup {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.listen.hash(state);
        self.path.hash(state);
    }
}

struct Receiver {
    verifier: std::sync::Mutex<Verifier>,
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
    tracing::info!(listen = %setup.listen, path = %setup.path, "webhook receiver listening");
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    if let Some(h) = &hub {
        h.webhooks_on();
    }
    let closed = tx.clone();
    let receiver = std::sync::Arc::new(Receiver {
        verifier: std::sync::Mutex::new(Verifier::new(setup.secret)),
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
    fn count(&self, verified: &Result<Event, Rejection>) {
        let Some(m) = &self.metrics else { return };
        match verified {
            Ok(Event { payment: e, .. }) => {
                m.webhook_event(
                    &e.reference,
                    e.name == PaymentEventName::Authorized,
                    &e.timestamp,
                );
            }
            Err(Rejection::Replayed) => m.webhook("replayed"),
            Err(_) => m.webhook("rejected"),
        }
    }
}

async fn receive(
    axum::extract::State(r): axum::extract::State<std::sync::Arc<Receiver>>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::{http::StatusCode, response::IntoResponse};
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let signed = match (
        header("x-ms-date"),
        header("x-ms-content-sha256"),
        header("authorization"),
    ) {
        (Some(date), Some(content_sha256), Some(authorization)) => Some(Signed {
            date,
            content_sha256,
            authorization,
        }),
        _ => None,
    };
    let path_and_query = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string());
    let host = header("host").unwrap_or_default();
    let verified = lock(&r.verifier).verify(
        &path_and_query,
        &host,
        signed.as_ref(),
        &body,
        SystemTime::now(),
    );
    r.count(&verified);
    match verified {
        Ok(event) => {
            if let Some(h) = &r.hub {
                h.webhook_verified();
            }
            let e = event.payment;
            tracing::debug!(reference = %e.reference, name = ?e.name, "webhook");
            let _ = r.inputs.try_send(crate::payment::Input::Webhook {
                reference: e.reference,
                name: e.name,
            });
            StatusCode::OK.into_response()
        }
        Err(Rejection::Replayed) => {
            // Genuine once, so nothing is wrong with the webhooks; it is just not acted on again.
            tracing::info!("webhook delivery replayed; ignored");
            if let Some(h) = &r.hub {
                h.webhook_replayed();
            }
            (
                StatusCode::CONFLICT,
                axum::Json(serde_json::json!({ "error": Rejection::Replayed.to_string() })),
            )
                .into_response()
        }
        Err(why) => {
            tracing::warn!(%why, "webhook refused");
            if let Some(h) = &r.hub {
                h.webhook_rejected(&why.to_string());
            }
            let _ = r.inputs.try_send(crate::payment::Input::WebhookTrouble);
            let status = match why {
                Rejection::Body => StatusCode::BAD_REQUEST,
                _ => StatusCode::UNAUTHORIZED,
            };
            (
                status,
                axum::Json(serde_json::json!({ "error": why.to_string() })),
            )
                .into_response()
        }
    }
}
