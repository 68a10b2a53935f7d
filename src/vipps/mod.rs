//! Client for the Vipps MobilePay APIs the kiosk uses: access token (`token`), ePayment and
//! the QR exchange (`epayment`), eCom v2 and the one-time QR (`ecom`), Webhooks (`webhooks`),
//! all through one call path (`http`) with its retries and error shapes, and every request for
//! a payment through that payment's rate budget (`budget`). No iced in here.

pub mod budget;
pub mod ecom;
mod epayment;
pub mod error;
mod http;
mod metered;
pub mod model;
pub mod qr_image;
mod test_env;
mod token;
mod webhooks;

#[cfg(test)]
mod fuzz_tests;

pub use webhooks::Webhook;

pub use error::{Error, RetryPolicy};

use std::{fmt, sync::Arc, time::Duration};

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

/// One HTTP client and one token cache, shared by every call (cheap to clone).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    token: token::TokenCache,
    /// Where requests are counted (`with_metrics`); none in tests and tools.
    metrics: std::sync::OnceLock<Arc<crate::metrics::Metrics>>,
    budget: budget::Budget,
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

impl Client {
    /// A client with placeholder keys, which only a simulator accepts (tests, benchmarks).
    pub fn for_simulator(base_url: &str) -> Result<Client, Error> {
        Client::new(Client::simulator_config(base_url))
    }

    /// The configuration `for_simulator` uses, for a client with another budget.
    pub fn simulator_config(base_url: &str) -> ClientConfig {
        ClientConfig {
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
        }
    }

    /// A client keeping Vipps' own rate limits per payment.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        Client::with_budget(config, budget::Budget::new(budget::Limits::default()))
    }

    /// A client whose requests per payment pass `budget` (tests squeeze its window).
    pub fn with_budget(config: ClientConfig, budget: budget::Budget) -> Result<Self, Error> {
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
                token: token::TokenCache::default(),
                metrics: std::sync::OnceLock::new(),
                budget,
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

    /// The limits every payment's requests are kept within.
    pub fn budget_limits(&self) -> budget::Limits {
        self.inner.budget.limits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
