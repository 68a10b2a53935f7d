//! The eCom v2 API's HTTP layer (`/ecomm/v2/payments…`): initiate, details, capture, cancel
//! and refund, with the API gateway's checks and eCom's error shape for malformed bodies.

use super::{
    auth::authorize_gateway,
    backend::{self, Backend, Reply},
    http::header_str,
    shared::Shared,
};
use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::HeaderMap,
    routing::{get, post, put},
};
use serde_json::Value;
use std::sync::Arc;

async fn ecom_initiate(State(s): State<Arc<Shared>>, h: HeaderMap, body: Bytes) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize_gateway(&s, &h)?;
        let body = ecom_json(&body)?;
        let now = s.now();
        Ok(s.backend().ecom_initiate(&body, now))
    };
    run().unwrap_or_else(|e| e)
}

/// eCom bodies: malformed JSON is an eCom error, not a problem.
fn ecom_json(body: &Bytes) -> Result<Value, Reply> {
    serde_json::from_slice(body).map_err(|e| {
        backend::ecom::ecom_error(400, "InvalidRequest", 0, &format!("malformed JSON: {e}"))
    })
}

async fn ecom_details(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(order_id): Path<String>,
) -> Reply {
    authorize_gateway(&s, &h).map_or_else(|e| e, |()| s.backend().ecom_details(&order_id))
}

async fn ecom_capture(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Reply {
    ecom_keyed(&s, &h, &order_id, &body, Backend::ecom_capture)
}

async fn ecom_refund(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Reply {
    ecom_keyed(&s, &h, &order_id, &body, Backend::ecom_refund)
}

/// An eCom capture or refund: authorized, with a JSON body and its `X-Request-Id`.
fn ecom_keyed(
    s: &Shared,
    h: &HeaderMap,
    order_id: &str,
    body: &Bytes,
    apply: fn(&mut Backend, &str, Option<&str>, &Value) -> Reply,
) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize_gateway(s, h)?;
        let body = ecom_json(body)?;
        let id = header_str(h, "X-Request-Id");
        Ok(apply(&mut s.backend(), order_id, id, &body))
    };
    run().unwrap_or_else(|e| e)
}

async fn ecom_cancel(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize_gateway(&s, &h)?;
        let body = ecom_json(&body)?;
        Ok(s.backend().ecom_cancel(&order_id, &body))
    };
    run().unwrap_or_else(|e| e)
}

/// `/ecomm/v2/payments…`.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/ecomm/v2/payments", post(ecom_initiate))
        .route("/ecomm/v2/payments/{order_id}/details", get(ecom_details))
        .route("/ecomm/v2/payments/{order_id}/capture", post(ecom_capture))
        .route("/ecomm/v2/payments/{order_id}/cancel", put(ecom_cancel))
        .route("/ecomm/v2/payments/{order_id}/refund", post(ecom_refund))
}
