//! The QR API's HTTP layer: the personal QR exchange (`POST /qr/v1/exchange`), the one-time
//! QR (`POST /qr/v1`), the QR images the simulator draws (`/_sim/qr-image/v1?token=…`), and
//! the landing pages the phone opens (eCom's, and ePayment's redirect flows').

use super::{
    auth::{authorize, authorize_gateway},
    backend::{self, Reply, links},
    control::qr_opened,
    http::{header_str, json_body},
    shared::Shared,
};
use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

async fn qr_exchange(State(s): State<Arc<Shared>>, h: HeaderMap, body: Bytes) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize(&s, &h)?;
        let body = json_body(&body, false)?;
        Ok(backend::exchange(
            &body,
            time::OffsetDateTime::now_utc().unix_timestamp(),
        ))
    };
    run().unwrap_or_else(|e| e)
}

/// `POST /qr/v1`. `expiresIn` is given in real seconds, whatever the time scale.
async fn one_time_qr(State(s): State<Arc<Shared>>, h: HeaderMap, body: Bytes) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize_gateway(&s, &h)?;
        let body: Value = serde_json::from_slice(&body).map_err(|e| Reply {
            status: 400,
            body: json!({ "title": "Bad Request", "detail": format!("malformed JSON: {e}"),
                          "instance": "sim" }),
        })?;
        let now = s.now();
        let mut reply =
            s.backend()
                .one_time_qr(&body, header_str(&h, "Accept"), header_str(&h, "Size"), now);
        if let Some(e) = reply.body.get("expiresIn").and_then(Value::as_f64) {
            reply.body["expiresIn"] = json!((e / s.config.time_scale).floor() as u64);
        }
        Ok(reply)
    };
    run().unwrap_or_else(|e| e)
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// A QR image link (`…/v1?token=…`, see [`backend::links`]): a PNG (its size, 1024 px by
/// default) or an SVG drawn by the simulator; 404 once the QR can no longer be opened.
async fn qr_image(
    State(s): State<Arc<Shared>>,
    axum::extract::Query(q): axum::extract::Query<TokenQuery>,
) -> Response {
    let carried = q
        .token
        .as_deref()
        .and_then(links::jwt_payload)
        .and_then(|v| serde_json::from_value::<links::ImageToken>(v).ok());
    let Some(carried) = carried else {
        return (StatusCode::NOT_FOUND, "QR expired or unknown").into_response();
    };
    let now = s.now();
    let b = s.backend();
    let target = b
        .by_code(&carried.code)
        .filter(|p| p.state == crate::vipps::model::PaymentState::Created)
        .filter(|p| p.opened.is_some() || now < p.qr_expires_at)
        .and_then(|p| p.qr_target_url.clone());
    drop(b);
    let Some(target) = target else {
        return (StatusCode::NOT_FOUND, "QR expired or unknown").into_response();
    };
    let Ok(code) = qrcode::QrCode::new(target.as_bytes()) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "QR text too long").into_response();
    };
    match carried.format {
        links::ImageFormat::Svg => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(400, 400)
                .build();
            ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
        }
        links::ImageFormat::Png => {
            match png_of(&code, carried.size.unwrap_or(1024).clamp(100, 2000)) {
                Some(png) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
                None => (StatusCode::INTERNAL_SERVER_ERROR, "PNG encoding failed").into_response(),
            }
        }
    }
}

/// A black-on-white PNG of `code` with the quiet zone, about `size` px square.
fn png_of(code: &qrcode::QrCode, size: u32) -> Option<Vec<u8>> {
    let img = code
        .render::<image::Luma<u8>>()
        .min_dimensions(size, size)
        .max_dimensions(size.max(100) * 2, size.max(100) * 2)
        .build();
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .ok()?;
    Some(png)
}

/// The eCom landing-page link, opened by the phone (the one-time QR carries it, or its target).
async fn ecom_landing_opened(
    State(s): State<Arc<Shared>>,
    axum::extract::Query(q): axum::extract::Query<TokenQuery>,
) -> Reply {
    qr_opened(State(s), Path(q.token.unwrap_or_default())).await
}

/// A WEB_REDIRECT or NATIVE_REDIRECT landing page (`…?token=<JWT>`), opened by the phone.
async fn landing_opened(
    State(s): State<Arc<Shared>>,
    axum::extract::Query(q): axum::extract::Query<TokenQuery>,
) -> Reply {
    let code = q
        .token
        .as_deref()
        .and_then(links::code_of_token)
        .unwrap_or_default();
    qr_opened(State(s), Path(code)).await
}

/// `/qr/v1…`, the QR images and the landing page.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/qr/v1/exchange", post(qr_exchange))
        .route("/qr/v1", post(one_time_qr))
        .route("/_sim/qr-image/v1", get(qr_image))
        .route("/_sim/landing", get(landing_opened))
        .route(
            "/dwo-api-application/v1/deeplink/vippsgateway",
            get(ecom_landing_opened),
        )
}
