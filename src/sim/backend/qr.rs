//! The QR API's side of the backend: the personal QR exchange and its test codes, finding a
//! payment by its QR token or landing-page link, and the one-time QR (`POST /qr/v1`) for an
//! eCom landing page.

use super::{Backend, Reply, SimApi, SimPayment, fxhash, links::ImageFormat};
use crate::vipps::{ecom::QrAccept, model::PaymentState};
use serde_json::{Value, json};

/// Test codes: a personal QR whose token starts with these maps to the named error, so the
/// kiosk's error screens can be exercised.
pub const TEST_QR_NOT_FOUND_PREFIX: &str = "https://qr.vipps.no/p/notfound";
pub const TEST_QR_INVALID_PREFIX: &str = "https://qr.vipps.no/p/invalid";

/// The number the simulator's QR exchange gives for a `…/p/notfound` code: no user has it,
/// so a push payment to it answers 7010.
pub const TEST_PHONE_NOT_FOUND: &str = "4700000000";

/// `POST /qr/v1/exchange`: a personal QR's phone number (`MSISDN`). The answer and errors
/// follow `QrExchangeResponse` and `QrExchangeErrorResponse`.
pub fn exchange(body: &Value, now_epoch: i64) -> Reply {
    let code = body["qrCode"].as_str().unwrap_or_default();
    let bad = |reason: &str| Reply {
        status: 400,
        body: json!({
            "title": "Bad Request",
            "status": 400,
            "detail": "One or more validation errors occurred.",
            "extraDetails": [{"name": "qrCode", "reason": reason}],
        }),
    };
    if let Some(requested) = body.get("requestedData")
        && requested != &json!(["MSISDN"])
    {
        return Reply {
            status: 400,
            body: json!({
                "title": "Bad Request",
                "status": 400,
                "detail": "One or more validation errors occurred.",
                "extraDetails": [{"name": "requestedData", "reason": "only MSISDN can be requested"}],
            }),
        };
    }
    if code.is_empty() {
        return bad("The qrCode field is required.");
    }
    if code.starts_with(TEST_QR_INVALID_PREFIX) || !code.starts_with("https://qr.vipps.no/") {
        return bad("Incomplete or invalid QR data.");
    }
    let msisdn = if code.starts_with(TEST_QR_NOT_FOUND_PREFIX) {
        TEST_PHONE_NOT_FOUND.to_string()
    } else if let Some(t) = super::customers::by_personal_qr(code) {
        t.phone.to_string()
    } else {
        format!("47{:08}", fxhash(code) % 100_000_000)
    };
    // Tokenized codes (`/p/`) are version 2.0 and carry when they were made.
    let v2 = code.starts_with("https://qr.vipps.no/p/");
    let mut answer = json!({ "msisdn": msisdn, "version": if v2 { "2.0" } else { "1.0" } });
    if v2 {
        answer["timestamp"] = json!(now_epoch);
    }
    Reply {
        status: 200,
        body: answer,
    }
}

/// A QR API error (`QrErrorResponse`).
fn qr_error(title: &str, detail: &str, invalid: Option<(&str, &str)>) -> Reply {
    let mut body = json!({
        "type": "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.1",
        "title": title,
        "detail": detail,
        "instance": format!("sim-{:08x}", fxhash(detail)),
    });
    if let Some((name, reason)) = invalid {
        body["invalidParams"] = json!([{ "name": name, "reason": reason }]);
    }
    Reply { status: 400, body }
}

/// The token at the end of a landing-page link (`…?v=2&token=…`).
fn landing_token(url: &str) -> Option<&str> {
    url.split_once("token=")
        .map(|(_, t)| t.split('&').next().unwrap_or(t))
        .filter(|t| !t.is_empty())
}

impl Backend {
    /// The payment with this code (the last part of its QR target URL).
    pub fn by_code(&self, code: &str) -> Option<&SimPayment> {
        self.payments.values().find(|p| p.code == code)
    }

    /// The payment behind a landing-page link's token.
    pub fn by_landing_url(&self, url: &str) -> Option<&SimPayment> {
        let token = landing_token(url)?;
        self.by_code(token).filter(|p| p.api == SimApi::Ecom)
    }

    /// `POST /qr/v1`: the one-time QR for an eCom landing-page link. `expiresIn` is in
    /// simulator seconds here; the HTTP layer scales it.
    pub fn one_time_qr(
        &self,
        body: &Value,
        accept: Option<&str>,
        size: Option<&str>,
        now: f64,
    ) -> Reply {
        let Some(accept) = accept.and_then(QrAccept::parse) else {
            return qr_error(
                "One or more validation errors occurred.",
                "BadRequest",
                Some((
                    "Accept",
                    "Accept must be image/*, image/png, image/svg+xml or text/targetUrl",
                )),
            );
        };
        let size = match size.map(str::parse::<u32>) {
            None => 800,
            Some(Ok(s)) if (100..=2000).contains(&s) => s,
            Some(_) => {
                return qr_error(
                    "One or more validation errors occurred.",
                    "BadRequest",
                    Some(("Size", "Size must be a number from 100 to 2000")),
                );
            }
        };
        let Some(url) = body.get("url").and_then(Value::as_str) else {
            return qr_error(
                "One or more validation errors occurred.",
                "BadRequest",
                Some(("Url", "The Url field is required.")),
            );
        };
        let Some(p) = self.by_landing_url(url) else {
            return qr_error(
                "Validation error",
                "Supplied landing page token is not valid",
                None,
            );
        };
        if p.state != PaymentState::Created || now >= p.qr_expires_at {
            return qr_error("Order timeout", "Payment has already timed out", None);
        }
        let (base, code) = (&self.base_url, &p.code);
        let link = match accept {
            QrAccept::TargetUrl => p.qr_target_url.clone().unwrap_or_default(),
            QrAccept::Png => self.links.image(base, code, ImageFormat::Png, Some(size)),
            QrAccept::Svg => self.links.image(base, code, ImageFormat::Svg, None),
        };
        Reply::ok(
            200,
            json!({ "url": link, "expiresIn": (p.qr_expires_at - now).max(0.0).ceil() as u64 }),
        )
    }
}
