//! The ePayment API's HTTP layer (`/epayment/v1/payments…`): create, get, events, capture,
//! cancel and refund, and the test environment's force approve, each checked (auth, idempotency key, body) and handed to the backend.
//! A new endpoint is a route in [`routes`] and a handler here.

use super::{
    auth::authorize,
    backend::{Backend, Reply},
    http::{header_str, idempotency_key, json_body},
    shared::Shared,
};
use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::HeaderMap,
    routing::{get, post},
};
use serde_json::Value;
use std::sync::Arc;

async fn create_payment(State(s): State<Arc<Shared>>, h: HeaderMap, body: Bytes) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize(&s, &h)?;
        let key = idempotency_key(&h, true)?.unwrap_or_default();
        let body = json_body(&body, false)?;
        let now = s.now();
        let msn = header_str(&h, "Merchant-Serial-Number").unwrap_or_default();
        Ok(s.backend().create(&key, msn, body, now))
    };
    run().unwrap_or_else(|e| e)
}

async fn get_payment(State(s): State<Arc<Shared>>, h: HeaderMap, Path(r): Path<String>) -> Reply {
    authorize(&s, &h).map_or_else(|e| e, |()| s.backend().get(&r))
}

async fn payment_events(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(r): Path<String>,
) -> Reply {
    authorize(&s, &h).map_or_else(|e| e, |()| s.backend().events(&r))
}

/// A capture or refund: authorized, keyed, with a JSON body.
fn modify(
    s: &Shared,
    h: &HeaderMap,
    reference: &str,
    body: &Bytes,
    apply: fn(&mut Backend, &str, &str, Value) -> Reply,
) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize(s, h)?;
        let key = idempotency_key(h, true)?.unwrap_or_default();
        let body = json_body(body, false)?;
        Ok(apply(&mut s.backend(), reference, &key, body))
    };
    run().unwrap_or_else(|e| e)
}

async fn capture(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(r): Path<String>,
    body: Bytes,
) -> Reply {
    modify(&s, &h, &r, &body, Backend::capture)
}

async fn refund(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(r): Path<String>,
    body: Bytes,
) -> Reply {
    modify(&s, &h, &r, &body, Backend::refund)
}

async fn cancel(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(r): Path<String>,
    body: Bytes,
) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize(&s, &h)?;
        let key = idempotency_key(&h, false)?;
        let body = json_body(&body, true)?;
        Ok(s.backend().cancel(&r, key.as_deref(), body))
    };
    run().unwrap_or_else(|e| e)
}

/// `POST /epayment/v1/test/payments/{reference}/approve`, the test environment's force approve.
async fn force_approve(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(r): Path<String>,
    body: Bytes,
) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize(&s, &h)?;
        let body = json_body(&body, true)?;
        Ok(s.backend().force_approve(&r, &body))
    };
    run().unwrap_or_else(|e| e)
}

/// `/epayment/v1/payments…` and the test environment's force approve.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/epayment/v1/payments", post(create_payment))
        .route("/epayment/v1/payments/{reference}", get(get_payment))
        .route(
            "/epayment/v1/payments/{reference}/events",
            get(payment_events),
        )
        .route("/epayment/v1/payments/{reference}/capture", post(capture))
        .route("/epayment/v1/payments/{reference}/cancel", post(cancel))
        .route("/epayment/v1/payments/{reference}/refund", post(refund))
        .route(
            "/epayment/v1/test/payments/{reference}/approve",
            post(force_approve),
        )
}
