//! Vipps' per-payment rate limits (`/_sim/limits`): the limits, the calls each payment made
//! within the window, the middleware that refuses calls over the limit with 429 and
//! `Retry-After`, and the control endpoints that set and read them.

use super::{
    backend::{Reply, problem},
    endpoint::endpoint_of,
    http::{Family, MAX_BODY, header_str},
    shared::Shared,
};
use crate::sync::lock;
use axum::{
    Router,
    body::Bytes,
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
    time::{Duration, Instant},
};

/// Vipps' rate limits per payment (`/_sim/limits`): calls to one endpoint for one reference
/// (or eCom orderId) within `windowMs`, real time, counted per MSN for changes and per
/// subscription key for reads (Vipps' "Key" column). Over it: 429 with `Retry-After`, the
/// seconds until the oldest call in the window leaves it. Calls refused are not counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RateLimits {
    pub enabled: bool,
    pub window_ms: u64,
    /// GET payment, its events, and eCom details: 120 a minute each.
    pub reads: usize,
    /// Create, capture, cancel and refund: 5 a minute each.
    pub changes: usize,
    /// eCom's initiate: 2 a minute per orderId.
    pub ecom_creates: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            enabled: true,
            window_ms: 60_000,
            reads: 120,
            changes: 5,
            ecom_creates: 2,
        }
    }
}

/// What Vipps counts calls by: the reference, the MSN (changes) or subscription key (reads),
/// and the endpoint.
type Key = (String, String, &'static str);

/// The limits in force, the calls within the window per [`Key`], and how many
/// calls were refused.
#[derive(Default)]
pub(super) struct Limiter {
    limits: RateLimits,
    calls: HashMap<Key, VecDeque<Instant>>,
    refused: u64,
}

impl Limiter {
    pub fn new(limits: RateLimits) -> Limiter {
        Limiter {
            limits,
            ..Limiter::default()
        }
    }

    /// New limits; the calls counted so far are forgotten.
    pub fn set(&mut self, limits: RateLimits) {
        self.limits = limits;
        self.calls.clear();
    }

    /// How many calls the limits refused.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Counts a call at `now` unless `key` already made `max` calls within `window`; then
    /// refuses it, and tells how long until a call is free again.
    fn admit(
        &mut self,
        key: Key,
        max: usize,
        window: Duration,
        now: Instant,
    ) -> Result<(), Duration> {
        // Payments whose calls have all left the window are forgotten (a long-running
        // simulator sees many references).
        if self.calls.len() > 4096 {
            self.calls
                .retain(|_, c| c.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let calls = self.calls.entry(key).or_default();
        while calls
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            calls.pop_front();
        }
        if calls.len() >= max {
            let free_in = calls
                .front()
                .map_or(window, |t| window.saturating_sub(now.duration_since(*t)));
            self.refused += 1;
            return Err(free_in);
        }
        calls.push_back(now);
        Ok(())
    }
}

/// The payment a call is for: from the path, or for a create from the body (`reference`, or
/// eCom's `transaction.orderId`), which is handed on unchanged.
async fn reference_of(
    request: Request,
    endpoint: &str,
    path: &str,
) -> Result<(Request, String), Response> {
    if endpoint != "create" {
        let reference = path
            .split_once("/payments/")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default().to_string())
            .unwrap_or_default();
        return Ok((request, reference));
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        let detail = format!("the body is larger than {MAX_BODY} bytes");
        return Err(Family::of(path)
            .error(413, None, "Payload Too Large", &detail)
            .into_response());
    };
    let v: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let reference = v["reference"]
        .as_str()
        .or_else(|| v["transaction"]["orderId"].as_str())
        .unwrap_or_default()
        .to_string();
    Ok((
        Request::from_parts(parts, axum::body::Body::from(bytes)),
        reference,
    ))
}

/// The 429 for a call over the limit, in the API's own error shape.
fn too_many(family: Family, max: usize, endpoint: &str, free_in: Duration) -> Response {
    let detail = format!("more than {max} {endpoint} calls a minute for this payment");
    let mut r = family
        .error(429, None, "Too Many Requests", &detail)
        .into_response();
    let secs = free_in.as_secs_f64().ceil().max(1.0) as u64;
    if let Ok(v) = secs.to_string().parse() {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// Applies Vipps' per-payment rate limits (`RateLimits`) to payment calls.
pub(super) async fn rate_limit(
    State(s): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let endpoint = match endpoint_of(request.method(), &path) {
        Some(e @ ("create" | "get" | "events" | "capture" | "cancel" | "refund")) => e,
        _ => return next.run(request).await,
    };
    let limits = lock(&s.limiter).limits.clone();
    if !limits.enabled {
        return next.run(request).await;
    }
    let family = Family::of(&path);
    let read = matches!(endpoint, "get" | "events");
    // Vipps counts changes per reference and MSN, reads per reference and subscription key.
    let party = header_str(
        request.headers(),
        if read {
            "Ocp-Apim-Subscription-Key"
        } else {
            "Merchant-Serial-Number"
        },
    )
    .unwrap_or_default()
    .to_string();
    let (request, reference) = match reference_of(request, endpoint, &path).await {
        Ok(x) => x,
        Err(refused) => return refused,
    };
    let max = match (read, family, endpoint) {
        (true, _, _) => limits.reads,
        (false, Family::Ecom, "create") => limits.ecom_creates,
        (false, _, _) => limits.changes,
    };
    let window = Duration::from_millis(limits.window_ms);
    let key = (reference, party, endpoint);
    let admitted = lock(&s.limiter).admit(key, max, window, Instant::now());
    if let Err(free_in) = admitted {
        return too_many(family, max, endpoint, free_in);
    }
    next.run(request).await
}

async fn limits_get(State(s): State<Arc<Shared>>) -> Reply {
    let l = lock(&s.limiter);
    Reply {
        status: 200,
        body: json!({ "limits": l.limits, "refused": l.refused }),
    }
}

async fn limits_set(State(s): State<Arc<Shared>>, body: Bytes) -> Reply {
    match serde_json::from_slice::<RateLimits>(&body) {
        Ok(limits) => {
            lock(&s.limiter).set(limits.clone());
            Reply {
                status: 200,
                body: serde_json::to_value(limits).unwrap_or_default(),
            }
        }
        Err(e) => problem(400, None, "Bad Request", &format!("limits: {e}")),
    }
}

async fn limits_clear(State(s): State<Arc<Shared>>) -> Reply {
    let mut l = lock(&s.limiter);
    l.set(RateLimits::default());
    Reply {
        status: 200,
        body: serde_json::to_value(&l.limits).unwrap_or_default(),
    }
}

/// `/_sim/limits`: read, set and reset the rate limits.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route(
        "/_sim/limits",
        get(limits_get).post(limits_set).delete(limits_clear),
    )
}
