//! The access token: fetched when missing, refreshed a minute before it expires, and shared by
//! every call.

use super::{
    Client, Error, Secret,
    http::{decode, transport_error},
    model::AccessTokenResponse,
};
use std::time::{Duration, Instant};

/// How long before expiry a token is refreshed.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

pub(super) struct CachedToken {
    value: Secret,
    refresh_at: Instant,
    expires_at: Instant,
}

impl Client {
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

    pub(super) async fn drop_token(&self) {
        *self.inner.token.lock().await = None;
    }

    pub(super) async fn fetch_token(&self) -> Result<CachedToken, Error> {
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
        let sent_at = self.metered_send(&reqwest::Method::POST, "/accesstoken/get");
        let body: Result<AccessTokenResponse, Error> = match req.send().await {
            Ok(resp) => decode(resp).await,
            Err(e) => Err(transport_error(e)),
        };
        self.metered_answer(&reqwest::Method::POST, "/accesstoken/get", &body, sent_at);
        let body = body?;
        let lifetime: u64 = body.expires_in.trim().parse().map_err(|_| {
            Error::Decode(format!("expires_in is not a number: {:?}", body.expires_in))
        })?;
        let lifetime = Duration::from_secs(lifetime);
        let margin = TOKEN_MARGIN.min(lifetime / 2);
        tracing::debug!(lifetime_s = lifetime.as_secs(), "fetched access token");
        self.metered_token(sent_at + lifetime);
        Ok(CachedToken {
            value: Secret::new(body.access_token),
            refresh_at: sent_at + lifetime - margin,
            expires_at: sent_at + lifetime,
        })
    }
}
