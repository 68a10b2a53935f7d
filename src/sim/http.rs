//! What every family's handlers share: a `Reply` as an HTTP response with the content type
//! the family's spec declares, each family's own error shape ([`Family`]), and reading
//! headers, the idempotency key and JSON bodies.

use super::backend::{Reply, ecom::ecom_error, problem};
use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// The largest request body any endpoint takes; more is answered 413 in the family's shape.
pub(super) const MAX_BODY: usize = 1 << 20;

/// The API families, each with its own error body and content types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    Token,
    Epayment,
    Ecom,
    Qr,
    Webhooks,
    /// The simulator's own control API and links.
    Sim,
}

impl Family {
    pub fn of(path: &str) -> Family {
        if path.starts_with("/accesstoken/") {
            Family::Token
        } else if path.starts_with("/epayment/") {
            Family::Epayment
        } else if path.starts_with("/ecomm/") {
            Family::Ecom
        } else if path.starts_with("/qr/") {
            Family::Qr
        } else if path.starts_with("/webhooks/") {
            Family::Webhooks
        } else {
            Family::Sim
        }
    }

    /// An error in the family's own shape, with Vipps' numeric `code` where it has one (in
    /// `extraDetails` for problem+json, as `errorCode` for eCom).
    pub fn error(self, status: u16, code: Option<&str>, title: &str, detail: &str) -> Reply {
        match self {
            Family::Ecom => {
                let code = code.and_then(|c| c.parse().ok()).unwrap_or(0);
                let group = if status >= 500 || status == 429 {
                    "VippsError"
                } else {
                    "InvalidRequest"
                };
                ecom_error(status, group, code, detail)
            }
            Family::Qr => {
                let mut body = json!({ "title": title, "status": status, "detail": detail });
                if let Some(code) = code {
                    body["extraDetails"] = json!([{ "name": "ErrorCode", "reason": code }]);
                }
                Reply { status, body }
            }
            Family::Token | Family::Epayment | Family::Webhooks | Family::Sim => {
                let mut p = problem(status, None, title, detail);
                if let Some(code) = code {
                    p.body["extraDetails"] = json!([{ "name": "ErrorCode", "reason": code }]);
                }
                p
            }
        }
    }

    /// The content type the family's spec declares for an answer of `status` to `path`.
    pub fn content_type(self, path: &str, status: u16) -> &'static str {
        let success = (200..300).contains(&status);
        match self {
            Family::Token | Family::Ecom => "application/json;charset=UTF-8",
            Family::Qr => "application/json",
            // The spec declares capture, cancel and refund answers (`AdjustResponse`) as
            // problem+json, successes included.
            Family::Epayment if success && is_modification(path) => "application/problem+json",
            Family::Epayment | Family::Webhooks if !success => "application/problem+json",
            Family::Epayment | Family::Webhooks | Family::Sim => "application/json",
        }
    }
}

fn is_modification(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    p.starts_with("/epayment/v1/payments/")
        && (p.ends_with("/capture") || p.ends_with("/cancel") || p.ends_with("/refund"))
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // An answer without content (force approve's 200).
        if self.body.is_null() {
            return status.into_response();
        }
        // The content type is set by `content_types`, which knows the path; JSON meanwhile.
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            self.body.to_string(),
        )
            .into_response()
    }
}

/// Middleware: every answer of the Vipps APIs gets the content type its spec declares, and
/// axum's own plain-text refusals (a body over [`MAX_BODY`], a wrong method) come in the
/// family's error shape.
pub(super) async fn content_types(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path().to_string();
    let family = Family::of(&path);
    let response = next.run(request).await;
    if family == Family::Sim {
        return response;
    }
    let status = response.status().as_u16();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    let mut response = if plain && !response.status().is_success() {
        let reason = response
            .status()
            .canonical_reason()
            .unwrap_or("Error")
            .to_string();
        let detail = match status {
            413 => format!("the body is larger than {MAX_BODY} bytes"),
            _ => reason.clone(),
        };
        family.error(status, None, &reason, &detail).into_response()
    } else {
        response
    };
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(family.content_type(&path, status)),
        );
    }
    response
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
