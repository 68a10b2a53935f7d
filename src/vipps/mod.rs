//! Client for the Vipps MobilePay ePayment and Access token APIs. No iced in here.

pub mod ecom;
pub mod error;
pub mod model;
pub mod qr_image;

pub use error::{Error, RetryPolicy};

use model::*;
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde::{Serialize, de::DeserializeOwned};
use std::{
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::Mutex;

/// A value that must never show in logs or Debug output.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub client_id: Secret,
    pub client_secret: Secret,
    pub subscription_key: Secret,
    pub merchant_serial_number: String,
}

/// The `Vipps-System-*` headers that tell Vipps support which system made a call.
#[derive(Debug, Clone)]
pub struct SystemInfo {
    pub name: String,
    pub version: String,
    pub plugin_name: String,
    pub plugin_version: String,
}

impl Default for SystemInfo {
    fn default() -> Self {
        SystemInfo {
            name: "vipps-kiosk".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            plugin_name: "vipps-kiosk".into(),
            plugin_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// e.g. `https://apitest.vipps.no` or the simulator's `http://127.0.0.1:PORT`.
    pub base_url: String,
    pub credentials: Credentials,
    pub system: SystemInfo,
    /// Per request, connect to last byte.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// The merchant URLs an eCom initiate must carry.
    pub ecom: EcomMerchant,
}

/// eCom's required `merchantInfo` URLs. The kiosk polls, so the callback only has to be a
/// valid HTTPS URL; Vipps calls it once and never again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcomMerchant {
    pub callback_prefix: String,
    pub fall_back: String,
}

impl Default for EcomMerchant {
    /// Placeholders the simulator accepts (`.invalid` never resolves).
    fn default() -> Self {
        EcomMerchant {
            callback_prefix: "https://vipps-kiosk.invalid/vipps".into(),
            fall_back: "https://vipps-kiosk.invalid/done".into(),
        }
    }
}

struct CachedToken {
    value: Secret,
    refresh_at: Instant,
    expires_at: Instant,
}

/// One HTTP client and one token cache, shared by every call (cheap to clone).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    token: Mutex<Option<CachedToken>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.config.base_url)
            .finish_non_exhaustive()
    }
}

/// Installs the TLS crypto provider once per process (ring: pure Rust + a little C, no OpenSSL).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A plain HTTP client (for the simulator's control API), with the crypto provider installed
/// first: without it reqwest panics when a client is built.
pub fn plain_http_client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::new()
}

/// How long before expiry a token is refreshed.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

impl Client {
    /// A client with placeholder keys, which only a simulator accepts (tests, benchmarks).
    pub fn for_simulator(base_url: &str) -> Result<Client, Error> {
        Client::new(ClientConfig {
            base_url: base_url.into(),
            credentials: Credentials {
                client_id: Secret::new("id"),
                client_secret: Secret::new("secret"),
                subscription_key: Secret::new("sub"),
                merchant_serial_number: "123456".into(),
            },
            system: SystemInfo::default(),
            timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            ecom: EcomMerchant::default(),
        })
    }

    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("vipps-kiosk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                config: ClientConfig {
                    base_url: config.base_url.trim_end_matches('/').to_string(),
                    ..config
                },
                token: Mutex::new(None),
            }),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.inner.config.base_url
    }

    pub fn ecom_merchant(&self) -> &EcomMerchant {
        &self.inner.config.ecom
    }

    pub fn merchant_serial_number(&self) -> &str {
        &self.inner.config.credentials.merchant_serial_number
    }

    /// A valid access token, fetched or refreshed when missing or about to expire.
    pub async fn access_token(&self) -> Result<Secret, Error> {
        let mut cached = self.inner.token.lock().await;
        if let Some(t) = cached.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        let fresh = self.fetch_token().await;
        match fresh {
            Ok(t) => {
                let value = t.value.clone();
                *cached = Some(t);
                Ok(value)
            }
            // A token that has not expired yet still works while the refresh fails.
            Err(e) => match cached.as_ref() {
                Some(t) if Instant::now() < t.expires_at => {
                    tracing::warn!(error = %e, "token refresh failed; using the current token");
                    Ok(t.value.clone())
                }
                _ => Err(e),
            },
        }
    }

    /// When the cached token expires, if there is one (for health reports).
    pub async fn token_expires_in(&self) -> Option<Duration> {
        let cached = self.inner.token.lock().await;
        cached
            .as_ref()
            .map(|t| t.expires_at.saturating_duration_since(Instant::now()))
    }

    async fn drop_token(&self) {
        *self.inner.token.lock().await = None;
    }

    async fn fetch_token(&self) -> Result<CachedToken, Error> {
        let c = &self.inner.config;
        let url = format!("{}/accesstoken/get", c.base_url);
        let req = self
            .inner
            .http
            .post(url)
            .header("client_id", c.credentials.client_id.expose())
            .header("client_secret", c.credentials.client_secret.expose())
            .header(
                "Ocp-Apim-Subscription-Key",
                c.credentials.subscription_key.expose(),
            )
            .header(
                "Merchant-Serial-Number",
                &c.credentials.merchant_serial_number,
            )
            .headers(self.system_headers())
            .header(reqwest::header::CONTENT_LENGTH, "0");
        let sent_at = Instant::now();
        let resp = req.send().await.map_err(transport_error)?;
        let body: AccessTokenResponse = decode(resp).await?;
        let lifetime: u64 = body.expires_in.trim().parse().map_err(|_| {
            Error::Decode(format!("expires_in is not a number: {:?}", body.expires_in))
        })?;
        let lifetime = Duration::from_secs(lifetime);
        let margin = TOKEN_MARGIN.min(lifetime / 2);
        tracing::debug!(lifetime_s = lifetime.as_secs(), "fetched access token");
        Ok(CachedToken {
            value: Secret::new(body.access_token),
            refresh_at: sent_at + lifetime - margin,
            expires_at: sent_at + lifetime,
        })
    }

    fn system_headers(&self) -> HeaderMap {
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

    /// Sends one API call with the auth headers, retrying transient failures with the same
    /// Idempotency-Key, and once after a 401 with a fresh token.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
        headers: &[(&str, &str)],
    ) -> Result<T, Error> {
        let c = &self.inner.config;
        let url = format!("{}{path}", c.base_url);
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
            let result = match req.send().await {
                Ok(resp) => decode(resp).await,
                Err(e) => Err(transport_error(e)),
            };
            let err = match result {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if err.status() == Some(401) && !refreshed_token {
                tracing::info!(path, "access token refused; fetching a new one");
                self.drop_token().await;
                refreshed_token = true;
                continue;
            }
            match c.retry.next_delay(&err, attempt) {
                Some(delay) => {
                    tracing::warn!(path, attempt, error = %err, "retrying Vipps call");
                    tokio::time::sleep(delay).await;
                }
                None => return Err(err),
            }
        }
    }

    pub async fn create_payment(
        &self,
        request: &CreatePaymentRequest,
        idempotency_key: &str,
    ) -> Result<CreatePaymentResponse, Error> {
        self.call(
            Method::POST,
            "/epayment/v1/payments",
            Some(request),
            &[("Idempotency-Key", idempotency_key)],
        )
        .await
    }

    pub async fn get_payment(&self, reference: &str) -> Result<GetPaymentResponse, Error> {
        let path = format!("/epayment/v1/payments/{}", path_segment(reference));
        self.call(Method::GET, &path, None::<&()>, &[]).await
    }

    pub async fn payment_events(&self, reference: &str) -> Result<Vec<PaymentEvent>, Error> {
        let path = format!("/epayment/v1/payments/{}/events", path_segment(reference));
        self.call(Method::GET, &path, None::<&()>, &[]).await
    }

    pub async fn capture(
        &self,
        reference: &str,
        amount: Amount,
        idempotency_key: &str,
    ) -> Result<ModificationResponse, Error> {
        self.modify("capture", reference, amount, idempotency_key)
            .await
    }

    /// A capture or refund (`op`) of `amount`: the same body and key rules.
    async fn modify(
        &self,
        op: &str,
        reference: &str,
        amount: Amount,
        idempotency_key: &str,
    ) -> Result<ModificationResponse, Error> {
        let path = format!("/epayment/v1/payments/{}/{op}", path_segment(reference));
        let body = ModificationRequest {
            modification_amount: amount,
        };
        self.call(
            Method::POST,
            &path,
            Some(&body),
            &[("Idempotency-Key", idempotency_key)],
        )
        .await
    }

    /// `POST /qr/v1/exchange`: the phone number behind a scanned personal QR. The number
    /// identifies a person: it comes back redacted in `Debug`.
    pub async fn exchange_qr(&self, code: &str) -> Result<Secret, Error> {
        #[derive(serde::Deserialize)]
        struct Answer {
            msisdn: String,
        }
        let body = serde_json::json!({ "qrCode": code, "requestedData": ["MSISDN"] });
        let a: Answer = self
            .call(Method::POST, "/qr/v1/exchange", Some(&body), &[])
            .await?;
        Ok(Secret::new(a.msisdn))
    }

    /// Gives back `amount` of what was captured.
    pub async fn refund(
        &self,
        reference: &str,
        amount: Amount,
        idempotency_key: &str,
    ) -> Result<ModificationResponse, Error> {
        self.modify("refund", reference, amount, idempotency_key)
            .await
    }

    /// `transaction_only`: cancel only if not yet authorized (answers 6060 otherwise).
    pub async fn cancel(
        &self,
        reference: &str,
        transaction_only: bool,
        idempotency_key: &str,
    ) -> Result<ModificationResponse, Error> {
        let path = format!("/epayment/v1/payments/{}/cancel", path_segment(reference));
        let body = CancelModificationRequest {
            cancel_transaction_only: Some(transaction_only),
        };
        self.call(
            Method::POST,
            &path,
            Some(&body),
            &[("Idempotency-Key", idempotency_key)],
        )
        .await
    }
}

/// A webhook registration (Webhooks API `Webhook`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
}

#[derive(serde::Deserialize)]
struct RegisterResponse {
    id: String,
    secret: String,
}

#[derive(serde::Deserialize)]
struct QueryResponse {
    webhooks: Vec<Webhook>,
}

impl Client {
    /// `POST /webhooks/v1/webhooks`: the registration's id and its secret (Vipps shows the
    /// secret this once).
    pub async fn register_webhook(
        &self,
        url: &str,
        events: &[&str],
    ) -> Result<(String, Secret), Error> {
        let body = serde_json::json!({ "url": url, "events": events });
        let r: RegisterResponse = self
            .call(Method::POST, "/webhooks/v1/webhooks", Some(&body), &[])
            .await?;
        Ok((r.id, Secret::new(r.secret)))
    }

    /// `GET /webhooks/v1/webhooks`.
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, Error> {
        let r: QueryResponse = self
            .call(Method::GET, "/webhooks/v1/webhooks", None::<&()>, &[])
            .await?;
        Ok(r.webhooks)
    }

    /// `DELETE /webhooks/v1/webhooks/{id}`.
    pub async fn delete_webhook(&self, id: &str) -> Result<(), Error> {
        let path = format!("/webhooks/v1/webhooks/{}", path_segment(id));
        self.call(Method::DELETE, &path, None::<&()>, &[]).await
    }
}

/// References are `[a-zA-Z0-9-]`, but a path segment is escaped anyway rather than trusted.
fn path_segment(s: &str) -> String {
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

fn transport_error(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout
    } else {
        // The URL may carry nothing secret, but keep the message short and without query.
        Error::Transport(e.without_url().to_string())
    }
}

async fn decode<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, Error> {
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let bytes = resp.bytes().await.map_err(transport_error)?;
    if status.is_success() {
        let bytes = if bytes.is_empty() && status == StatusCode::NO_CONTENT {
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
fn parse_problem(status: u16, bytes: &[u8]) -> Option<Problem> {
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
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "<redacted>");
        let c = Credentials {
            client_id: Secret::new("id-123"),
            client_secret: Secret::new("very-secret"),
            subscription_key: Secret::new("sub-key"),
            merchant_serial_number: "123456".into(),
        };
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("very-secret") && !dbg.contains("sub-key") && !dbg.contains("id-123")
        );
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(path_segment("order-123"), "order-123");
        assert_eq!(path_segment("a/b?c"), "a%2Fb%3Fc");
    }
}
