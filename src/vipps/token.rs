//! The access token: fetched when missing, refreshed a minute before it expires, and shared by
//! every call. One fetch at a time (callers that need a token wait for it); the token itself is
//! read under a short lock that is never held across a call, so whoever only wants to know
//! about it (health) never waits on Vipps.

use super::{
    Client, Error, Secret,
    http::{decode, transport_error},
    model::AccessTokenResponse,
};
use crate::sync::lock;
use std::time::{Duration, Instant};

/// How long before expiry a token is refreshed.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

pub(super) struct CachedToken {
    value: Secret,
    pub(super) refresh_at: Instant,
    pub(super) expires_at: Instant,
}

/// The token in use, and the right to fetch the next one.
#[derive(Default)]
pub(super) struct TokenCache {
    current: std::sync::Mutex<Option<CachedToken>>,
    /// Held while a token is fetched: one fetch at a time.
    fetching: tokio::sync::Mutex<()>,
}

impl Client {
    /// The cached token, unless it is due for a refresh.
    fn fresh_token(&self) -> Option<Secret> {
        lock(&self.inner.token.current)
            .as_ref()
            .filter(|t| Instant::now() < t.refresh_at)
            .map(|t| t.value.clone())
    }

    /// A valid access token, fetched or refreshed when missing or about to expire.
    pub async fn access_token(&self) -> Result<Secret, Error> {
        if let Some(t) = self.fresh_token() {
            return Ok(t);
        }
        let _fetching = self.inner.token.fetching.lock().await;
        // Another call may have fetched it while this one waited.
        if let Some(t) = self.fresh_token() {
            return Ok(t);
        }
        let fresh = self.fetch_token().await;
        let mut cached = lock(&self.inner.token.current);
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

    /// When the cached token expires, if there is one (for health reports). Never waits,
    /// also while a token is being fetched.
    pub fn token_expires_in(&self) -> Option<Duration> {
        lock(&self.inner.token.current)
            .as_ref()
            .map(|t| t.expires_at.saturating_duration_since(Instant::now()))
    }

    pub(super) async fn drop_token(&self) {
        *lock(&self.inner.token.current) = None;
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
        let token = CachedToken::from_answer(body, sent_at)?;
        self.metered_token(token.expires_at);
        Ok(token)
    }
}

/// Longest token lifetime believed: Vipps issues tokens for an hour or a day. A larger
/// `expires_in` (a broken answer) is cut to this rather than overflowing the clock.
const MAX_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

impl CachedToken {
    /// The token of an answer to a request sent at `sent_at`.
    pub(super) fn from_answer(
        body: AccessTokenResponse,
        sent_at: Instant,
    ) -> Result<CachedToken, Error> {
        let lifetime: u64 = body.expires_in.trim().parse().map_err(|_| {
            Error::Decode(format!("expires_in is not a number: {:?}", body.expires_in))
        })?;
        let lifetime = Duration::from_secs(lifetime).min(MAX_LIFETIME);
        let margin = TOKEN_MARGIN.min(lifetime / 2);
        tracing::debug!(lifetime_s = lifetime.as_secs(), "fetched access token");
        let expires_at = sent_at.checked_add(lifetime).unwrap_or(sent_at);
        Ok(CachedToken {
            value: Secret::new(body.access_token),
            refresh_at: expires_at.checked_sub(margin).unwrap_or(sent_at),
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(expires_in: &str) -> AccessTokenResponse {
        AccessTokenResponse {
            token_type: "Bearer".into(),
            expires_in: expires_in.into(),
            ext_expires_in: "0".into(),
            expires_on: "0".into(),
            not_before: "0".into(),
            resource: "r".into(),
            access_token: "t".into(),
        }
    }

    /// Found by the fuzzer (`vipps::fuzz_tests`): `"expires_in": "18446744073709551615"`
    /// overflowed the clock (`Instant + Duration` panics).
    #[test]
    fn an_absurd_token_lifetime_is_cut_not_a_panic() {
        let now = Instant::now();
        let t = CachedToken::from_answer(answer(&u64::MAX.to_string()), now).expect("a token");
        assert_eq!(t.expires_at, now + MAX_LIFETIME);
        assert!(t.refresh_at < t.expires_at);
        let t = CachedToken::from_answer(answer("3600"), now).expect("a token");
        assert_eq!(t.expires_at - t.refresh_at, TOKEN_MARGIN);
        assert!(CachedToken::from_answer(answer("-1"), now).is_err());
    }
}
