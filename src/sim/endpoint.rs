//! Which endpoint a Vipps API call is, by method and path: the names fault rules
//! (`/_sim/faults`) and the per-payment rate limits go by.

use axum::http::Method;

/// Which endpoint a Vipps API call is, for fault rules.
pub(super) fn endpoint_of(method: &Method, path: &str) -> Option<&'static str> {
    let p = path.trim_end_matches('/');
    if p == "/accesstoken/get" {
        return Some("token");
    }
    if p.starts_with("/webhooks/") {
        return Some("webhooks");
    }
    if p == "/qr/v1/exchange" {
        return Some("exchange");
    }
    if p == "/qr/v1" {
        return Some("qr");
    }
    if p.starts_with("/epayment/v1/test/payments/") {
        return Some("approve");
    }
    if let Some(rest) = p.strip_prefix("/ecomm/v2/payments") {
        return Some(match (method.as_str(), rest.rsplit('/').next()) {
            ("POST", _) if rest.is_empty() => "create",
            ("POST", Some("capture")) => "capture",
            ("PUT", Some("cancel")) => "cancel",
            ("POST", Some("refund")) => "refund",
            ("GET", Some("details")) => "get",
            _ => return None,
        });
    }
    let rest = p.strip_prefix("/epayment/v1/payments")?;
    Some(match (method.as_str(), rest.rsplit('/').next()) {
        ("POST", _) if rest.is_empty() => "create",
        ("POST", Some("capture")) => "capture",
        ("POST", Some("cancel")) => "cancel",
        ("POST", Some("refund")) => "refund",
        ("GET", Some("events")) => "events",
        ("GET", _) => "get",
        _ => return None,
    })
}
