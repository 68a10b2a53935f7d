//! The Webhooks API (`/webhooks/v1/webhooks`): register, list, delete.

use super::{Client, Error, Secret, http::path_segment};
use reqwest::Method;

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
            .call(
                Method::POST,
                "/webhooks/v1/webhooks",
                Some(&body),
                &[],
                None,
            )
            .await?;
        Ok((r.id, Secret::new(r.secret)))
    }

    /// `GET /webhooks/v1/webhooks`.
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, Error> {
        let r: QueryResponse = self
            .call(Method::GET, "/webhooks/v1/webhooks", None::<&()>, &[], None)
            .await?;
        Ok(r.webhooks)
    }

    /// `DELETE /webhooks/v1/webhooks/{id}`.
    pub async fn delete_webhook(&self, id: &str) -> Result<(), Error> {
        let path = format!("/webhooks/v1/webhooks/{}", path_segment(id));
        self.call(Method::DELETE, &path, None::<&()>, &[], None)
            .await
    }
}
