//! The access token (`POST /accesstoken/get`) and the checks every API call passes: the
//! ePayment headers (token, subscription key, MSN) and the API gateway's for eCom and QR calls.

use super::{
    backend::{Reply, problem},
    http::header_str,
    shared::Shared,
};
use crate::sync::lock;
use axum::{Router, extract::State, http::HeaderMap, routing::post};
use serde_json::json;
use std::{
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

async fn access_token(State(s): State<Arc<Shared>>, h: HeaderMap) -> Reply {
    let id = header_str(&h, "client_id");
    let secret = header_str(&h, "client_secret");
    let key = header_str(&h, "Ocp-Apim-Subscription-Key");
    let accepted = |given: Option<&str>, want: &Option<String>| match (given, want) {
        (None, _) => false,
        (Some(g), Some(w)) => g == w,
        (Some(_), None) => true,
    };
    if key.is_none()
        || !accepted(id, &s.config.client_id)
        || !accepted(secret, &s.config.client_secret)
    {
        return problem(
            401,
            None,
            "Unauthorized",
            "invalid client_id, client_secret or subscription key",
        );
    }
    let lifetime = s.config.token_lifetime_s;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let serial = s.token_serial.fetch_add(1, Ordering::Relaxed);
    let token = jwt(serial, now, lifetime);
    let issued = Instant::now();
    let mut tokens = lock(&s.tokens);
    // Expired tokens are forgotten; the serial keeps every new one unique.
    tokens.retain(|_, expires| issued < *expires);
    tokens.insert(token.clone(), issued + Duration::from_secs(lifetime));
    Reply {
        status: 200,
        body: json!({
            "token_type": "Bearer",
            "expires_in": lifetime.to_string(),
            "ext_expires_in": "0",
            "expires_on": (now + lifetime as i64).to_string(),
            "not_before": now.to_string(),
            "resource": "00000002-0000-0000-c000-000000000000",
            "access_token": token,
        }),
    }
}

/// An access token shaped as Vipps' are: a JWT, its payload naming the issuer, when it was
/// issued and expires, and a serial `jti` that makes each token unique.
pub(super) fn jwt(serial: u64, now: i64, lifetime: u64) -> String {
    super::backend::links::jwt(&json!({
        "iss": "https://simulator.invalid/vipps-kiosk/",
        "aud": "00000002-0000-0000-c000-000000000000",
        "iat": now,
        "nbf": now,
        "exp": now + lifetime as i64,
        "jti": format!("sim-{serial:016x}"),
    }))
}

/// The headers every ePayment call needs: a valid bearer token, a subscription key and an MSN.
pub(super) fn authorize(s: &Shared, h: &HeaderMap) -> Result<(), Reply> {
    let bearer = header_str(h, "Authorization").and_then(|v| v.strip_prefix("Bearer "));
    let valid = bearer.is_some_and(|t| {
        let tokens = lock(&s.tokens);
        tokens
            .get(t.trim())
            .is_some_and(|exp| Instant::now() < *exp)
    });
    if !valid {
        return Err(problem(
            401,
            None,
            "Unauthorized",
            "missing, invalid or expired access token",
        ));
    }
    if header_str(h, "Ocp-Apim-Subscription-Key").is_none() {
        return Err(problem(
            401,
            None,
            "Unauthorized",
            "missing Ocp-Apim-Subscription-Key",
        ));
    }
    match header_str(h, "Merchant-Serial-Number") {
        Some(m) if (4..=10).contains(&m.len()) && m.chars().all(|c| c.is_ascii_digit()) => Ok(()),
        _ => Err(problem(
            400,
            None,
            "Bad Request",
            "Merchant-Serial-Number must match ^[0-9]{4,10}$",
        )),
    }
}

/// eCom and QR API calls: a valid token and subscription key (the MSN header is optional
/// there). Refusals come in the API gateway's shape, as at Vipps.
pub(super) fn authorize_gateway(s: &Shared, h: &HeaderMap) -> Result<(), Reply> {
    match authorize(s, h) {
        Ok(()) => Ok(()),
        Err(r) if r.status == 400 => Ok(()), // only the MSN header was off
        Err(r) => Err(Reply {
            status: r.status,
            body: json!({
                "responseInfo": { "responseCode": r.status, "responseMessage": "Unauthorized" },
                "result": { "message": r.body["detail"] },
            }),
        }),
    }
}

/// `POST /accesstoken/get`.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/accesstoken/get", post(access_token))
}
