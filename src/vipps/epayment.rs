//! ePayment (`/epayment/v1`): create, read, events, capture, cancel, refund; and the QR API's
//! exchange of a personal QR for the phone number.

use super::{Client, Error, Secret, budget::Kind, http::path_segment, model::*};
use reqwest::Method;

impl Client {
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
            Some((request.reference.as_str(), Kind::Change)),
        )
        .await
    }

    pub async fn get_payment(&self, reference: &str) -> Result<GetPaymentResponse, Error> {
        let path = format!("/epayment/v1/payments/{}", path_segment(reference));
        self.call(
            Method::GET,
            &path,
            None::<&()>,
            &[],
            Some((reference, Kind::Read)),
        )
        .await
    }

    pub async fn payment_events(&self, reference: &str) -> Result<Vec<PaymentEvent>, Error> {
        let path = format!("/epayment/v1/payments/{}/events", path_segment(reference));
        self.call(
            Method::GET,
            &path,
            None::<&()>,
            &[],
            Some((reference, Kind::Read)),
        )
        .await
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
            Some((reference, Kind::Change)),
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
            .call(Method::POST, "/qr/v1/exchange", Some(&body), &[], None)
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
            Some((reference, Kind::Change)),
        )
        .await
    }
}
