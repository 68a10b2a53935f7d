//! The links the simulator hands out, in the shapes Vipps' own have (the ePayment spec's
//! examples, the QR API guide, the October 2026 technical update):
//!
//! - a one-time QR's target URL, the text the QR encodes: `https://qr.vipps.no/<code>` (the
//!   QR API guide: the target URL "points to https://qr.vipps.no" and is a short URL);
//! - a QR image link: `https://qr-image.vipps.no/v1?token=<JWT>` (ePayment `QrImageUrl`);
//! - a landing page (WEB_REDIRECT, NATIVE_REDIRECT): `https://landing.vipps.no?token=<JWT>`
//!   for Vipps, `https://pay.mobilepay.dk?token=…` / `pay.mobilepay.fi` for MobilePay, which
//!   become `pay.vipps.dk` / `pay.vipps.fi` on 12 January 2027 ([`MOBILEPAY_BECOMES_VIPPS`]).
//!
//! The simulator serves each of them under `/_sim/` by the same path and query
//! ([`Links::local_base`]): `https://qr-image.vipps.no/v1?token=T` is
//! `{base}/_sim/qr-image/v1?token=T`, a landing page is `{base}/_sim/landing?token=T`, and a
//! target URL `https://qr.vipps.no/C` is opened by its code at `{base}/_sim/qr/C`. With
//! [`Links::Local`] the links point there directly, for a kiosk that fetches images from a
//! simulator (it cannot reach Vipps' hosts).

use crate::vipps::model::Currency;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The day MobilePay's landing pages move to Vipps' domains.
pub const MOBILEPAY_BECOMES_VIPPS: time::Date = time::macros::date!(2027 - 01 - 12);

/// Where the links the simulator hands out point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Links {
    /// Vipps' own hosts, as the test environment answers.
    #[default]
    Vipps,
    /// The simulator's own address, under `/_sim/`, with Vipps' paths and queries.
    Local,
}

/// The image format a QR image link draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Png,
    Svg,
}

/// What a QR image link's token carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageToken {
    /// The payment's code (the last part of its target URL).
    #[serde(rename = "c")]
    pub code: String,
    #[serde(rename = "f")]
    pub format: ImageFormat,
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
}

/// A JWT-shaped string (`header.payload.signature`, base64url) carrying `payload`, as Vipps'
/// tokens look. The signature is a keyed hash nobody checks: the simulator knows its own
/// tokens by what they carry, or by their whole text.
pub fn jwt(payload: &Value) -> String {
    let header = json!({ "typ": "JWT", "alg": "RS256", "kid": "sim" });
    let head = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(payload.to_string())
    );
    let signature = B64.encode(Sha256::digest(format!("sim-token-key.{head}")));
    format!("{head}.{signature}")
}

/// The payload of a [`jwt`], when `token` is one.
pub fn jwt_payload(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    serde_json::from_slice(&B64.decode(payload).ok()?).ok()
}

impl Links {
    /// Where the simulator at `base` serves what Vipps serves at `host`.
    pub fn local_base(base: &str, host: &str) -> String {
        match host {
            "qr-image.vipps.no" => format!("{base}/_sim/qr-image"),
            "qr.vipps.no" => format!("{base}/_sim/qr"),
            _ => format!("{base}/_sim/landing"),
        }
    }

    fn base(self, sim: &str, host: &str) -> String {
        match self {
            Links::Vipps => format!("https://{host}"),
            Links::Local => Links::local_base(sim, host),
        }
    }

    /// A one-time QR's target URL: always Vipps' (only the phone opens it, and the phone is
    /// the control API, which opens it by its code).
    pub fn target_url(code: &str) -> String {
        format!("https://qr.vipps.no/{code}")
    }

    /// The QR image link for the payment with `code`.
    pub fn image(self, sim: &str, code: &str, format: ImageFormat, size: Option<u32>) -> String {
        let token = ImageToken {
            code: code.into(),
            format,
            size,
        };
        let payload = serde_json::to_value(token).unwrap_or_default();
        format!(
            "{}/v1?token={}",
            self.base(sim, "qr-image.vipps.no"),
            jwt(&payload)
        )
    }

    /// The landing page of the payment with `code`, in `currency`'s market on `today`.
    pub fn landing(self, sim: &str, code: &str, currency: Currency, today: time::Date) -> String {
        let host = landing_host(currency, today);
        format!(
            "{}?token={}",
            self.base(sim, host),
            jwt(&json!({ "c": code }))
        )
    }
}

/// The landing page's host for a payment in `currency` on `today`.
pub fn landing_host(currency: Currency, today: time::Date) -> &'static str {
    let vipps = today >= MOBILEPAY_BECOMES_VIPPS;
    match currency {
        Currency::Nok => "landing.vipps.no",
        Currency::Dkk if vipps => "pay.vipps.dk",
        Currency::Dkk => "pay.mobilepay.dk",
        Currency::Eur if vipps => "pay.vipps.fi",
        Currency::Eur => "pay.mobilepay.fi",
    }
}

/// The payment code a landing page's or image link's token carries.
pub fn code_of_token(token: &str) -> Option<String> {
    jwt_payload(token)?
        .get("c")
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landing_domains_move_to_vipps_on_12_january_2027() {
        let before = time::macros::date!(2027 - 01 - 11);
        assert_eq!(landing_host(Currency::Dkk, before), "pay.mobilepay.dk");
        assert_eq!(landing_host(Currency::Eur, before), "pay.mobilepay.fi");
        assert_eq!(landing_host(Currency::Nok, before), "landing.vipps.no");
        let on = MOBILEPAY_BECOMES_VIPPS;
        assert_eq!(landing_host(Currency::Dkk, on), "pay.vipps.dk");
        assert_eq!(landing_host(Currency::Eur, on), "pay.vipps.fi");
        assert_eq!(landing_host(Currency::Nok, on), "landing.vipps.no");
    }

    #[test]
    fn links_have_vipps_shapes_and_carry_their_code() {
        let image = Links::Vipps.image("http://sim", "abc", ImageFormat::Png, Some(400));
        let token = image
            .strip_prefix("https://qr-image.vipps.no/v1?token=")
            .expect("Vipps' image link");
        assert_eq!(token.split('.').count(), 3, "JWT-shaped: {token}");
        let carried: ImageToken =
            serde_json::from_value(jwt_payload(token).expect("payload")).expect("image token");
        assert_eq!(carried.code, "abc");
        assert_eq!(
            (carried.format, carried.size),
            (ImageFormat::Png, Some(400))
        );
        let local = Links::Local.image("http://sim", "abc", ImageFormat::Svg, None);
        assert!(
            local.starts_with("http://sim/_sim/qr-image/v1?token="),
            "{local}"
        );
        let landing =
            Links::Vipps.landing("http://sim", "abc", Currency::Nok, MOBILEPAY_BECOMES_VIPPS);
        let token = landing
            .strip_prefix("https://landing.vipps.no?token=")
            .expect("landing");
        assert_eq!(code_of_token(token).as_deref(), Some("abc"));
        assert_eq!(Links::target_url("abc"), "https://qr.vipps.no/abc");
    }
}
