//! Injected API faults (`/_sim/faults`): the rules, the middleware that applies them to Vipps
//! API calls, how often each struck, and the control endpoints that set and read them.
//!
//! Each call of a known endpoint takes one roll of the simulator's RNG; the first rule for its
//! endpoint (or `*`) decides by that roll which fault, if any, strikes ([`Strike`]).

use super::{backend::problem, endpoint::endpoint_of, http::Family, shared::Shared};
use crate::sync::lock;
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::{sync::Arc, time::Duration};

use super::backend::Reply;

/// One injected API fault (`/_sim/faults`): what happens to calls of `endpoint`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ApiFault {
    /// `token`, `create`, `get`, `events`, `capture`, `cancel`, `refund`, `approve`,
    /// `exchange`, `qr`, `webhooks`, or `*` for all.
    pub endpoint: String,
    /// Every matching call waits this long first.
    pub latency_ms: u64,
    /// Share answered 503 before anything happens.
    pub server_error: f64,
    /// Share answered 429 with `Retry-After: retry_after_s`, before anything happens.
    pub rate_limited: f64,
    pub retry_after_s: u64,
    /// Share carried out, whose answer is then lost with the connection (the worst case for
    /// a client: did it happen or not?).
    pub drop_answer: f64,
    /// A share answered with this refusal instead of being carried out.
    pub refuse: Option<Refuse>,
    /// Share carried out and answered with its 2xx status but a body that is not JSON.
    pub garble: f64,
}

/// A refusal a rule answers instead of the call: `status`, and Vipps' error `code` where the
/// family carries one (`extraDetails` in problem+json, `errorCode` for eCom).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Refuse {
    pub status: u16,
    pub code: Option<String>,
    pub share: f64,
}

/// The faults in force. Posting `expireTokens: true` also makes every issued token invalid.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ApiFaults {
    pub rules: Vec<ApiFault>,
    #[serde(skip_serializing)]
    pub expire_tokens: bool,
}

/// How often each fault struck.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultCounts {
    pub server_errors: u64,
    pub rate_limited: u64,
    pub dropped_answers: u64,
    pub delayed: u64,
    pub refused: u64,
    pub garbled: u64,
}

/// The rules in force and how often they struck.
#[derive(Debug, Default)]
pub(super) struct FaultState {
    pub faults: ApiFaults,
    pub counts: FaultCounts,
}

/// What a rule does to one call. Each kind takes its share of [0, 1) after the kinds before
/// it ([`ApiFault::shares`]); a new kind is a variant, its share, and an arm in
/// [`Strike::instead`] (answered instead of the call) or [`Strike::after`] (done, then spoilt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strike {
    ServerError,
    RateLimited,
    Refused,
    DropAnswer,
    Garbled,
}

impl ApiFault {
    /// The kinds' shares, in the order they are checked.
    fn shares(&self) -> [(Strike, f64); 5] {
        [
            (Strike::ServerError, self.server_error),
            (Strike::RateLimited, self.rate_limited),
            (
                Strike::Refused,
                self.refuse.as_ref().map_or(0.0, |r| r.share),
            ),
            (Strike::DropAnswer, self.drop_answer),
            (Strike::Garbled, self.garble),
        ]
    }

    /// Which fault, if any, strikes a call that rolled `roll`.
    fn strike(&self, roll: f64) -> Option<Strike> {
        let mut upto = 0.0;
        for (strike, share) in self.shares() {
            upto += share;
            if roll < upto {
                return Some(strike);
            }
        }
        None
    }
}

impl FaultCounts {
    fn count(&mut self, strike: Strike) {
        match strike {
            Strike::ServerError => self.server_errors += 1,
            Strike::RateLimited => self.rate_limited += 1,
            Strike::DropAnswer => self.dropped_answers += 1,
            Strike::Refused => self.refused += 1,
            Strike::Garbled => self.garbled += 1,
        }
    }
}

impl Strike {
    /// The answer given instead of carrying out the call, for the kinds that strike first, in
    /// the error shape of the call's `family`.
    fn instead(self, rule: &ApiFault, family: Family) -> Option<Response> {
        match self {
            Strike::ServerError => Some(
                family
                    .error(503, None, "Service Unavailable", "injected fault")
                    .into_response(),
            ),
            Strike::RateLimited => {
                let mut r = family
                    .error(429, None, "Too Many Requests", "injected fault")
                    .into_response();
                if let Ok(v) = rule.retry_after_s.to_string().parse() {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                Some(r)
            }
            Strike::Refused => {
                let refuse = rule.refuse.clone().unwrap_or_default();
                let status = StatusCode::from_u16(refuse.status)
                    .ok()
                    .filter(|s| s.is_client_error() || s.is_server_error())
                    .unwrap_or(StatusCode::BAD_REQUEST);
                let title = status.canonical_reason().unwrap_or("Refused");
                let detail = match &refuse.code {
                    Some(code) => format!("injected refusal {code}"),
                    None => "injected refusal".to_string(),
                };
                Some(
                    family
                        .error(status.as_u16(), refuse.code.as_deref(), title, &detail)
                        .into_response(),
                )
            }
            Strike::DropAnswer | Strike::Garbled => None,
        }
    }

    /// The call's answer as the client gets it, for the kinds that strike after the call, and
    /// whether the fault struck (a garble leaves an answer that was no success alone).
    fn after(self, response: Response) -> (Response, bool) {
        let spoilt = match self {
            Strike::Garbled => {
                if !response.status().is_success() {
                    return (response, false);
                }
                // The status and headers stay; the body is cut off mid-way, as from a broken
                // proxy: not JSON.
                let (mut parts, _) = response.into_parts();
                parts.headers.remove(header::CONTENT_LENGTH);
                Response::from_parts(parts, axum::body::Body::from("{\"reference\": \"<html>"))
            }
            Strike::DropAnswer => {
                // The call happened; its answer breaks off after the headers.
                let (mut parts, _) = response.into_parts();
                parts.headers.insert(header::CONTENT_LENGTH, 100.into());
                let body = axum::body::Body::from_stream(futures_util::stream::once(async {
                    Err::<Bytes, std::io::Error>(std::io::Error::other(
                        "injected: connection dropped",
                    ))
                }));
                Response::from_parts(parts, body)
            }
            Strike::ServerError | Strike::RateLimited | Strike::Refused => response,
        };
        (spoilt, true)
    }
}

/// Sets the faults in force; `expire_tokens` invalidates every issued token now.
pub(super) fn set_faults(s: &Shared, faults: ApiFaults) {
    if faults.expire_tokens {
        lock(&s.tokens).clear();
    }
    lock(&s.faults).faults = ApiFaults {
        expire_tokens: false,
        ..faults
    };
}

/// Applies `/_sim/faults` to Vipps API calls.
pub(super) async fn inject_faults(
    State(s): State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(endpoint) = endpoint_of(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let (rule, roll) = {
        let f = lock(&s.faults);
        let rule = f
            .faults
            .rules
            .iter()
            .find(|r| r.endpoint == endpoint || r.endpoint == "*")
            .cloned();
        // One roll per call, in [0, 1).
        (rule, s.rng.roll())
    };
    let Some(rule) = rule else {
        return next.run(request).await;
    };
    if rule.latency_ms > 0 {
        lock(&s.faults).counts.delayed += 1;
        tokio::time::sleep(Duration::from_millis(rule.latency_ms)).await;
    }
    let Some(strike) = rule.strike(roll) else {
        return next.run(request).await;
    };
    let family = Family::of(request.uri().path());
    if let Some(answer) = strike.instead(&rule, family) {
        lock(&s.faults).counts.count(strike);
        return answer;
    }
    let response = next.run(request).await;
    let (response, struck) = strike.after(response);
    if struck {
        lock(&s.faults).counts.count(strike);
    }
    response
}

async fn faults_api_get(State(s): State<Arc<Shared>>) -> Reply {
    let f = lock(&s.faults);
    Reply {
        status: 200,
        body: json!({ "rules": f.faults.rules, "counts": f.counts }),
    }
}

async fn faults_api_set(State(s): State<Arc<Shared>>, body: Bytes) -> Reply {
    match serde_json::from_slice::<ApiFaults>(&body) {
        Ok(f) => {
            set_faults(&s, f.clone());
            Reply {
                status: 200,
                body: serde_json::to_value(f).unwrap_or_default(),
            }
        }
        Err(e) => problem(400, None, "Bad Request", &format!("faults: {e}")),
    }
}

async fn faults_api_clear(State(s): State<Arc<Shared>>) -> Reply {
    set_faults(&s, ApiFaults::default());
    Reply {
        status: 200,
        body: json!({ "rules": [] }),
    }
}

/// `/_sim/faults`: read, set and clear the API faults.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route(
        "/_sim/faults",
        get(faults_api_get)
            .post(faults_api_set)
            .delete(faults_api_clear),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_follow_each_other_in_order() {
        let rule = ApiFault {
            server_error: 0.2,
            rate_limited: 0.3,
            drop_answer: 0.1,
            ..ApiFault::default()
        };
        assert_eq!(rule.strike(0.0), Some(Strike::ServerError));
        assert_eq!(rule.strike(0.19), Some(Strike::ServerError));
        assert_eq!(rule.strike(0.2), Some(Strike::RateLimited));
        assert_eq!(rule.strike(0.49), Some(Strike::RateLimited));
        assert_eq!(rule.strike(0.55), Some(Strike::DropAnswer));
        assert_eq!(rule.strike(0.7), None);
        assert_eq!(ApiFault::default().strike(0.0), None);
    }
}
