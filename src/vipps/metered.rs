//! What the client tells the lane's metrics: every request by endpoint and status class, its
//! time, retries and `Retry-After` waits, the token's lifetime, and when a create goes out.
//! The endpoint is named from the path's shape, never with the reference in it.

use super::{Client, Error};
use crate::metrics::Metrics;
use reqwest::Method;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

impl Client {
    /// The same client (and its clones), recording into `metrics` from now on; a client
    /// records into the first metrics it is given.
    pub fn with_metrics(self, metrics: Arc<Metrics>) -> Client {
        let _ = self.inner.metrics.set(metrics);
        self
    }

    pub(super) fn metrics(&self) -> Option<&Metrics> {
        self.inner.metrics.get().map(|m| m.as_ref())
    }

    /// Just before a request goes on the wire.
    pub(super) fn metered_send(&self, method: &Method, path: &str) -> Instant {
        let now = Instant::now();
        if let Some(m) = self.metrics()
            && matches!(endpoint(method, path), "epayment_create" | "ecom_initiate")
        {
            m.create_sending(now);
        }
        now
    }

    /// A request's outcome, sent at `sent`.
    pub(super) fn metered_answer<T>(
        &self,
        method: &Method,
        path: &str,
        result: &Result<T, Error>,
        sent: Instant,
    ) {
        if let Some(m) = self.metrics() {
            m.vipps_request(endpoint(method, path), class(result), sent.elapsed());
        }
    }

    /// The request failed with `err` and is sent again after `wait`.
    pub(super) fn metered_retry(&self, method: &Method, path: &str, err: &Error, wait: Duration) {
        let Some(m) = self.metrics() else { return };
        let retry_after = match err {
            Error::Api { retry_after, .. } => *retry_after,
            _ => None,
        };
        let why = match class::<()>(&Err(err.clone())) {
            "429" => "rate_limited",
            "5xx" => "server_error",
            "timeout" => "timeout",
            "transport" => "transport",
            "throttled" => "throttled",
            _ => "busy",
        };
        m.vipps_retry(endpoint(method, path), why, retry_after, wait);
    }

    /// A request the payment's budget held back (not sent).
    pub(super) fn metered_held_back(&self, method: &Method, path: &str) {
        if let Some(m) = self.metrics() {
            m.vipps_held_back(endpoint(method, path));
        }
    }

    pub(super) fn metered_token(&self, expires_at: Instant) {
        if let Some(m) = self.metrics() {
            m.token_expires(expires_at);
        }
    }
}

/// The status class of an answer.
pub(super) fn class<T>(result: &Result<T, Error>) -> &'static str {
    match result {
        Ok(_) => "2xx",
        Err(Error::Api { status: 429, .. }) => "429",
        Err(Error::Api { status, .. }) if *status >= 500 => "5xx",
        Err(Error::Api { status, .. }) if *status >= 400 => "4xx",
        Err(Error::Api { .. }) => "other",
        Err(Error::Timeout) => "timeout",
        Err(Error::Transport(_)) => "transport",
        Err(Error::Decode(_) | Error::Config(_)) => "decode",
        Err(Error::Throttled { .. }) => "throttled",
    }
}

/// The endpoint a request goes to, from its method and the shape of its path.
pub(super) fn endpoint(method: &Method, path: &str) -> &'static str {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let post = *method == Method::POST;
    match parts.as_slice() {
        ["accesstoken", "get"] => "token",
        ["epayment", "v1", "payments"] if post => "epayment_create",
        ["epayment", "v1", "payments", _] => "epayment_get",
        ["epayment", "v1", "payments", _, "events"] => "epayment_events",
        ["epayment", "v1", "payments", _, "capture"] => "epayment_capture",
        ["epayment", "v1", "payments", _, "cancel"] => "epayment_cancel",
        ["epayment", "v1", "payments", _, "refund"] => "epayment_refund",
        ["qr", "v1", "exchange"] => "qr_exchange",
        ["qr", "v1"] => "qr_one_time",
        ["ecomm", "v2", "payments"] if post => "ecom_initiate",
        ["ecomm", "v2", "payments", _, "details"] => "ecom_details",
        ["ecomm", "v2", "payments", _, "capture"] => "ecom_capture",
        ["ecomm", "v2", "payments", _, "cancel"] => "ecom_cancel",
        ["ecomm", "v2", "payments", _, "refund"] => "ecom_refund",
        ["webhooks", "v1", "webhooks"] if post => "webhooks_register",
        ["webhooks", "v1", "webhooks"] => "webhooks_list",
        ["webhooks", "v1", "webhooks", _] => "webhooks_delete",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_named_without_the_reference() {
        let cases = [
            (Method::POST, "/epayment/v1/payments", "epayment_create"),
            (
                Method::GET,
                "/epayment/v1/payments/order-77-1",
                "epayment_get",
            ),
            (
                Method::POST,
                "/epayment/v1/payments/o-1/capture",
                "epayment_capture",
            ),
            (
                Method::POST,
                "/epayment/v1/payments/o-1/cancel",
                "epayment_cancel",
            ),
            (
                Method::GET,
                "/ecomm/v2/payments/o-1/details",
                "ecom_details",
            ),
            (Method::POST, "/ecomm/v2/payments", "ecom_initiate"),
            (Method::POST, "/qr/v1/exchange", "qr_exchange"),
            (Method::POST, "/accesstoken/get", "token"),
            (Method::GET, "/something/else", "other"),
        ];
        for (method, path, name) in cases {
            assert_eq!(endpoint(&method, path), name, "{method} {path}");
        }
    }

    #[test]
    fn answers_fall_into_status_classes() {
        let api = |status| -> Result<(), Error> {
            Err(Error::Api {
                status,
                problem: None,
                retry_after: None,
            })
        };
        assert_eq!(class(&Ok::<(), Error>(())), "2xx");
        assert_eq!(class(&api(429)), "429");
        assert_eq!(class(&api(503)), "5xx");
        assert_eq!(class(&api(404)), "4xx");
        assert_eq!(class::<()>(&Err(Error::Timeout)), "timeout");
    }
}
