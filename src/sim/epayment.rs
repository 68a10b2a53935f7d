//! The ePayment API's HTTP layer (`/epayment/v1/payments…`): create, get, events, capture,
//! cancel and refund, each checked (auth, idempotency key, body) and handed to the backend.
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
        let reference = body["reference"].as_str().unwrap_or_default().to_string();
        let mut b = s.backend();
        let reply = b.create(&key, body, now);
        if let Some(msn) = header_str(&h, "Merchant-Serial-Number") {
            b.set_msn(&reference, msn);
        }
        Ok(reply)
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

/// `/epayment/v1/payments…`.
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
}
