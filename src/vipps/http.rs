//! One call path for every API: the auth and system headers, retries of transient failures
//! with the same Idempotency-Key (and once after a 401 with a fresh token), and every error
//! shape Vipps answers in, read into one `Problem`.

use super::{
    Client, Error,
    budget::Kind,
    ecom,
    model::{ExtraDetail, Problem},
};
use reqwest::{Method, header::HeaderMap};
use serde::{Serialize, de::DeserializeOwned};
use std::time::Duration;

impl Client {
    pub(super) fn system_headers(&self) -> HeaderMap {
        let s = &self.inner.config.system;
        let mut h = HeaderMap::new();
        for (name, value) in [
            ("Vipps-System-Name", &s.name),
            ("Vipps-System-Version", &s.version),
            ("Vipps-System-Plugin-Name", &s.plugin_name),
            ("Vipps-System-Plugin-Version", &s.plugin_version),
        ] {
            // The spec caps each at 30 characters.
            let v: String = value.chars().take(30).collect();
            if let Ok(v) = v.parse() {
                h.insert(name, v);
            }
        }
        h
    }

    /// Sends one API call with the auth headers. `budget`: the payment the call is for and
    /// what it does to it; every attempt (a retry, the resend after a refused token) passes
    /// that payment's budget first, and one over it is not sent (`Error::Throttled`). A 429
    /// blocks the payment's window for as long as its `Retry-After` says.
    ///
    /// Reads are retried here when transient (with a short wait); changes are not: the
    /// machine sends them again with the same key once it has heard the answer, and a lost
    /// answer is followed by a read rather than by up to three more changes of a budget of
    /// five. Either way a fresh token is fetched once after a 401.
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
        headers: &[(&str, &str)],
        budget: Option<(&str, Kind)>,
    ) -> Result<T, Error> {
        let c = &self.inner.config;
        let url = format!("{}{path}", c.base_url);
        let retried_here = budget.is_none_or(|(_, kind)| kind == Kind::Read);
        let mut attempt = 0;
        let mut refreshed_token = false;
        loop {
            attempt += 1;
            let token = match self.access_token().await {
                Ok(t) => t,
                // A token that could not be fetched is retried like the call itself.
                Err(err) => match c.retry.next_delay(&err, attempt) {
                    Some(delay) => {
                        tracing::warn!(path, attempt, error = %err, "retrying the access token");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    None => return Err(err),
                },
            };
            if let Some((reference, kind)) = budget
                && let Err(retry_after) = self.inner.budget.admit(reference, kind)
            {
                tracing::debug!(path, %kind, ?retry_after, "over the payment's budget; not sent");
                self.metered_held_back(&method, path);
                return Err(Error::Throttled { kind, retry_after });
            }
            let mut req = self
                .inner
                .http
                .request(method.clone(), &url)
                .bearer_auth(token.expose())
                .header(
                    "Ocp-Apim-Subscription-Key",
                    c.credentials.subscription_key.expose(),
                )
                .header(
                    "Merchant-Serial-Number",
                    &c.credentials.merchant_serial_number,
                )
                .headers(self.system_headers());
            for (name, value) in headers {
                req = req.header(*name, *value);
            }
            if let Some(body) = body {
                req = req.json(body);
            }
            let sent = self.metered_send(&method, path);
            let result = match req.send().await {
                Ok(resp) => decode(resp).await,
                Err(e) => Err(transport_error(e)),
            };
            self.metered_answer(&method, path, &result, sent);
            let err = match result {
                Ok(v) => return Ok(v),
                Err(e) => self.rate_limited(e, budget),
            };
            if err.status() == Some(401) && !refreshed_token {
                tracing::info!(path, "access token refused; fetching a new one");
                self.drop_token().await;
                refreshed_token = true;
                continue;
            }
            match c.retry.next_delay(&err, attempt).filter(|_| retried_here) {
                Some(delay) => {
                    tracing::warn!(path, attempt, error = %err, "retrying Vipps call");
                    self.metered_retry(&method, path, &err, delay);
                    tokio::time::sleep(delay).await;
                }
                None => return Err(err),
            }
        }
    }

    /// A 429 blocks the payment's window (`budget`) for its `Retry-After`; the error then
    /// carries the wait, also when Vipps named none.
    fn rate_limited(&self, err: Error, budget: Option<(&str, Kind)>) -> Error {
        match (err, budget) {
            (
                Error::Api {
                    status: 429,
                    problem,
                    retry_after,
                },
                Some((reference, kind)),
            ) => {
                let wait = self.inner.budget.refused(reference, kind, retry_after);
                tracing::warn!(reference, %kind, ?wait, "Vipps' rate limit for the payment; holding its calls back");
                Error::Api {
                    status: 429,
                    problem,
                    retry_after: Some(wait),
                }
            }
            (err, _) => err,
        }
    }
}

/// References are `[a-zA-Z0-9-]`, but a path segment is escaped anyway rather than trusted.
pub(super) fn path_segment(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c.to_string()
            } else {
                format!("%{:02X}", c as u32 & 0xff)
            }
        })
        .collect()
}

pub(super) fn transport_error(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout
    } else {
        // The URL may carry nothing secret, but keep the message short and without query.
        Error::Transport(e.without_url().to_string())
    }
}

/// The largest answer the client reads (Vipps' are a few kilobytes; a QR image tens).
pub(super) const MAX_ANSWER_BYTES: usize = 2 * 1024 * 1024;

/// An answer's body, read up to `MAX_ANSWER_BYTES` (more is an unreadable answer, not memory
/// spent on it).
pub(super) async fn read_body(mut resp: reqwest::Response) -> Result<Vec<u8>, Error> {
    let too_large = || Error::Decode(format!("answer larger than {MAX_ANSWER_BYTES} bytes"));
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(super) async fn decode<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, Error> {
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let bytes = read_body(resp).await?;
    if status.is_success() {
        // An empty success (204, or a 200 that says nothing, as force approve does) reads as
        // `null`.
        let bytes = if bytes.trim_ascii().is_empty() {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        return serde_json::from_slice(bytes).map_err(|e| Error::Decode(e.to_string()));
    }
    let problem = parse_problem(status.as_u16(), &bytes).map(Box::new);
    Err(Error::Api {
        status: status.as_u16(),
        problem,
        retry_after,
    })
}

/// Every error body the APIs send, as one `Problem` whose `code()` is the numeric error code:
/// ePayment and Webhooks problem+json; eCom's array of `{errorGroup, errorCode, errorMessage,
/// contextId}`; the QR API's `{title, detail, instance, invalidParams}`; and the gateway's
/// `{responseInfo, result}`. Decisions read only the status and the code.
pub(super) fn parse_problem(status: u16, bytes: &[u8]) -> Option<Problem> {
    if let Ok(p) = serde_json::from_slice::<Problem>(bytes) {
        return Some(p);
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    if let Ok(errors) = serde_json::from_value::<Vec<ecom::EcomError>>(value.clone()) {
        let first = errors.first()?;
        return Some(Problem {
            kind: format!("ecom:{}", first.error_group),
            title: first.error_group.clone(),
            detail: Some(first.error_message.clone()),
            status,
            trace_id: first.context_id.clone().unwrap_or_default(),
            instance: None,
            extra_details: Some(
                errors
                    .iter()
                    .map(|e| ExtraDetail {
                        name: "ErrorCode".into(),
                        reason: e.error_code.clone(),
                    })
                    .collect(),
            ),
        });
    }
    if let Some(info) = value.get("responseInfo") {
        return Some(Problem {
            kind: "gateway".into(),
            title: info
                .get("responseMessage")
                .and_then(text)
                .unwrap_or_default(),
            detail: value.pointer("/result/message").and_then(text),
            status,
            trace_id: String::new(),
            instance: None,
            extra_details: None,
        });
    }
    let title = value.get("title").and_then(text)?;
    let invalid = value
        .get("invalidParams")
        .or_else(|| value.get("extraDetails"))
        .and_then(|v| serde_json::from_value::<Vec<ExtraDetail>>(v.clone()).ok());
    Some(Problem {
        kind: value
            .get("type")
            .and_then(text)
            .unwrap_or_else(|| "about:blank".into()),
        title,
        detail: value.get("detail").and_then(text),
        status,
        trace_id: value
            .get("traceId")
            .or_else(|| value.get("instance"))
            .and_then(text)
            .unwrap_or_default(),
        instance: value.get("instance").and_then(text),
        extra_details: invalid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_shape_gives_status_and_code() {
        let epayment = br#"{"type":"https://x","title":"Bad Request","status":400,"traceId":"t1",
            "extraDetails":[{"name":"ErrorCode","reason":"6060"}]}"#;
        assert_eq!(
            parse_problem(400, epayment).and_then(|p| p.code()),
            Some(6060)
        );
        let ecom = br#"[{"errorGroup":"Merchant","errorCode":"34","errorMessage":"Unique constraint violation of the orderId","contextId":"c-1"}]"#;
        let p = parse_problem(400, ecom).expect("eCom error");
        assert_eq!(
            (p.code(), p.status, p.trace_id.as_str()),
            (Some(34), 400, "c-1")
        );
        let qr = br#"{"title":"Order timeout","detail":"Payment has already timed out","instance":"3cff"}"#;
        let p = parse_problem(400, qr).expect("QR error");
        assert_eq!(
            (p.title.as_str(), p.code(), p.status),
            ("Order timeout", None, 400)
        );
        let azure = br#"{"responseInfo":{"responseCode":401,"responseMessage":"Unauthorized"},"result":{"message":"expired"}}"#;
        let p = parse_problem(401, azure).expect("gateway error");
        assert_eq!(
            (p.title.as_str(), p.detail.as_deref()),
            ("Unauthorized", Some("expired"))
        );
        assert!(parse_problem(502, b"<html>bad gateway</html>").is_none());
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(path_segment("order-123"), "order-123");
        assert_eq!(path_segment("a/b?c"), "a%2Fb%3Fc");
    }
}
