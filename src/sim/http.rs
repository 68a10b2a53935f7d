//! What every family's handlers share: a `Reply` as an HTTP response (problem+json or plain
//! JSON), and reading headers, the idempotency key and JSON bodies.

use super::backend::{Reply, problem};
use axum::{
    body::Bytes,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // problem+json for ePayment and Webhooks problems; eCom's error array, the QR API's
        // errors and the gateway's are plain JSON.
        let content_type = if self.is_success() || self.body.get("traceId").is_none() {
            "application/json"
        } else {
            "application/problem+json"
        };
        (
            status,
            [(header::CONTENT_TYPE, content_type)],
            self.body.to_string(),
        )
            .into_response()
    }
}

pub(super) fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

pub(super) fn idempotency_key(h: &HeaderMap, required: bool) -> Result<Option<String>, Reply> {
    match header_str(h, "Idempotency-Key") {
        Some(k) if k.len() <= 50 => Ok(Some(k.to_string())),
        Some(_) => Err(problem(
            400,
            None,
            "Bad Request",
            "Idempotency-Key is longer than 50 characters",
        )),
        None if required => Err(problem(
            400,
            Some(4140),
            "Bad Request",
            "missing Idempotency-Key header",
        )),
        None => Ok(None),
    }
}

pub(super) fn json_body(body: &Bytes, optional: bool) -> Result<Value, Reply> {
    if body.is_empty() && optional {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body)
        .map_err(|e| problem(400, None, "Bad Request", &format!("malformed JSON: {e}")))
}
