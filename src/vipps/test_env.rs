//! What only the test environment has (`apitest.vipps.no`, and the simulator): force approve,
//! for automated runs of the payments the go-live review asks for.

use super::{Client, Error, http::path_segment, model::Customer};
use reqwest::Method;

impl Client {
    /// `POST /epayment/v1/test/payments/{reference}/approve`: approves a CREATED payment as
    /// the customer would in the app (`customer` names who, for a QR payment). Refused in
    /// production. The test user must have approved one payment in the app before.
    pub async fn force_approve(
        &self,
        reference: &str,
        customer: Option<&Customer>,
    ) -> Result<(), Error> {
        let path = format!(
            "/epayment/v1/test/payments/{}/approve",
            path_segment(reference)
        );
        let body = match customer {
            Some(c) => serde_json::json!({ "customer": c }),
            None => serde_json::json!({}),
        };
        // Not a change the merchant makes (the customer's approval, played), so outside the
        // payment's budget of changes.
        let _: Option<serde_json::Value> = self
            .call(Method::POST, &path, Some(&body), &[], None)
            .await?;
        Ok(())
    }
}
