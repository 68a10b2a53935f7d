//! Carries out the machine's API effects with the Vipps client and turns the answers into
//! machine inputs. The only place where the client and the machine meet.
//!
//! Each payment names its API. ePayment calls map one to one. An eCom one-time QR is an
//! initiate plus `POST /qr/v1`; its details read back as ePayment's state and aggregate, with
//! "opened in the app" besides; a cancel of an unauthorized payment only is emulated by
//! reading the details first (eCom has no `cancelTransactionOnly`).

use crate::{
    payment::{Api, ApiError, Effect, Input, Observed},
    vipps::{
        self, Client,
        ecom::{self, InitiatePaymentCommand, InitiateTransaction, MerchantInfo, QrAccept, codes},
        model::{
            Aggregate, Amount, CreatePaymentRequest, Currency, PaymentEventName, PaymentState,
            QrFormatKind,
        },
    },
};
use std::time::Duration;

/// What the machine needs of a GET, capture or cancel answer.
fn observed(state: PaymentState, aggregate: Aggregate) -> Observed {
    Observed {
        state,
        aggregate,
        redirect_url: None,
        opened: false,
    }
}

fn api(e: vipps::Error) -> ApiError {
    ApiError::from(&e)
}

/// A refusal the driver itself decides on: never resent with the same key.
fn refused(status: u16, code: u32, message: &str) -> ApiError {
    ApiError {
        status: Some(status),
        code: Some(code),
        transient: false,
        message: message.into(),
        ..ApiError::default()
    }
}

/// How long the machine waits before asking again to cancel an eCom payment the customer has
/// open in the app (it polls meanwhile).
pub const ECOM_BUSY_RETRY: Duration = Duration::from_secs(2);

/// Answered for an eCom payment the customer is approving: as Vipps answers an ePayment
/// cancel then (6250, "payment busy"), transient.
fn busy() -> ApiError {
    ApiError {
        status: Some(423),
        code: Some(6250),
        transient: true,
        retry_after: Some(ECOM_BUSY_RETRY),
        message: "the customer has the eCom payment open in the app; not cancelled".into(),
        ..ApiError::default()
    }
}

/// eCom says "not found" with code 35; the machine reads a 404.
fn ecom_api(e: vipps::Error) -> ApiError {
    let mut a = api(e);
    if a.code == Some(codes::ORDER_NOT_FOUND) {
        a.status = Some(404);
    }
    a
}

/// Runs one effect. `None` for effects that are not API calls (notifications).
pub async fn execute(client: Client, effect: Effect) -> Option<Input> {
    Some(match effect {
        Effect::Create {
            request,
            api: Api::Ecom,
            ..
        } => ecom_create(&client, &request).await,
        Effect::Create {
            request,
            idempotency_key,
            api: Api::Epayment,
        } => {
            let reference = request.reference.clone();
            let result = client
                .create_payment(&request, &idempotency_key)
                .await
                .map(|c| c.redirect_url)
                .map_err(api);
            Input::Created {
                reference,
                result,
                valid_for: None,
            }
        }
        Effect::Poll { reference, api } => {
            let result = poll(&client, &reference, api).await;
            Input::Polled { reference, result }
        }
        Effect::Capture {
            reference,
            amount,
            idempotency_key,
            api,
        } => {
            let result = capture(&client, &reference, amount, &idempotency_key, api).await;
            Input::Captured { reference, result }
        }
        Effect::Cancel {
            reference,
            transaction_only,
            idempotency_key,
            api: Api::Epayment,
        } => {
            let result = client
                .cancel(&reference, transaction_only, &idempotency_key)
                .await
                .map(|m| observed(m.state, m.aggregate))
                .map_err(api);
            Input::CancelAnswered { reference, result }
        }
        Effect::Cancel {
            reference,
            transaction_only,
            api: Api::Ecom,
            ..
        } => {
            let result = ecom_cancel(&client, &reference, transaction_only).await;
            Input::CancelAnswered { reference, result }
        }
        Effect::Exchange { reference, code } => {
            let result = client.exchange_qr(code.as_str()).await.map_err(api);
            Input::Exchanged { reference, result }
        }
        Effect::Refund {
            order_id,
            reference,
            amount,
            idempotency_key,
        } => {
            // ePayment refunds payments made with eCom too.
            let result = client
                .refund(&reference, amount, &idempotency_key)
                .await
                .map(|m| m.aggregate.refunded_amount)
                .map_err(api);
            Input::Refunded {
                order_id,
                idempotency_key,
                result,
            }
        }
        Effect::Notify(_)
        | Effect::Refused { .. }
        | Effect::RefundDone { .. }
        | Effect::Settled { .. } => return None,
    })
}

async fn poll(client: &Client, reference: &str, which: Api) -> Result<Observed, ApiError> {
    match which {
        Api::Epayment => client
            .get_payment(reference)
            .await
            .map(|p| Observed {
                redirect_url: p.redirect_url,
                ..observed(p.state, p.aggregate)
            })
            .map_err(api),
        Api::Ecom => client
            .ecom_details(reference)
            .await
            .map(|d| {
                let v = d.view();
                Observed {
                    opened: v.opened,
                    ..observed(v.state, v.aggregate)
                }
            })
            .map_err(ecom_api),
    }
}

/// A capture; when its answer is lost, the payment's log is asked whether this very capture
/// (same key) went through before the machine hears of a failure.
async fn capture(
    client: &Client,
    reference: &str,
    amount: Amount,
    key: &str,
    which: Api,
) -> Result<Observed, ApiError> {
    let result = match which {
        Api::Epayment => client
            .capture(reference, amount, key)
            .await
            .map(|m| observed(m.state, m.aggregate)),
        Api::Ecom => client
            .ecom_capture(reference, amount.value, TRANSACTION_TEXT, key)
            .await
            .map(|r| summary_observed(r.transaction_summary, amount.value)),
    };
    // A capture the budget held back, or Vipps refused with 429, was not carried out: the
    // log cannot show it, and reading it would only spend the payment's reads.
    let not_carried_out =
        |e: &vipps::Error| matches!(e, vipps::Error::Throttled { .. }) || e.status() == Some(429);
    match result {
        Ok(o) => Ok(o),
        Err(e) if e.is_transient() && !not_carried_out(&e) => {
            match capture_confirmed(client, reference, key, which).await {
                Some(o) => {
                    tracing::info!(
                        reference,
                        "capture answer lost; the payment's log shows it went through"
                    );
                    Ok(o)
                }
                None => Err(api(e)),
            }
        }
        Err(e) if e.is_transient() => Err(api(e)),
        Err(e) => Err(match which {
            Api::Epayment => api(e),
            Api::Ecom => ecom_api(e),
        }),
    }
}

/// The payment as it stands if its log holds a successful capture sent with `key`.
async fn capture_confirmed(
    client: &Client,
    reference: &str,
    key: &str,
    which: Api,
) -> Option<Observed> {
    match which {
        Api::Epayment => {
            let events = client.payment_events(reference).await.ok()?;
            events
                .iter()
                .any(|e| {
                    e.name == PaymentEventName::Captured
                        && e.success
                        && e.idempotency_key.as_deref() == Some(key)
                })
                .then_some(())?;
            poll(client, reference, which).await.ok()
        }
        Api::Ecom => {
            let details = client.ecom_details(reference).await.ok()?;
            let id = ecom::request_id(key);
            details
                .transaction_log_history
                .iter()
                .any(|e| {
                    e.operation == ecom::Operation::Capture
                        && e.operation_success
                        && e.request_id.as_deref() == Some(id.as_str())
                })
                .then(|| {
                    let v = details.view();
                    observed(v.state, v.aggregate)
                })
        }
    }
}

/// Shown in the app and in the merchant's reports for eCom captures and cancels.
const TRANSACTION_TEXT: &str = "Purchase";

/// An eCom capture's answer as the machine's view: what is captured out of what was reserved.
fn summary_observed(summary: Option<ecom::TransactionSummary>, amount: i64) -> Observed {
    let nok = |v| Amount::new(Currency::Nok, v);
    let mut aggregate = Aggregate::zero(Currency::Nok);
    let (captured, remaining) = summary.map_or((amount, 0), |s| {
        (s.captured_amount, s.remaining_amount_to_capture)
    });
    aggregate.authorized_amount = nok(captured + remaining);
    aggregate.captured_amount = nok(captured);
    observed(PaymentState::Authorized, aggregate)
}

/// eCom initiate, then the one-time QR for its landing page. A payment Vipps made but whose
/// QR the kiosk cannot show (the initiate answer was lost, or the QR call failed) is cancelled
/// and reported refused, so the machine starts a fresh attempt.
async fn ecom_create(client: &Client, request: &CreatePaymentRequest) -> Input {
    let reference = request.reference.clone();
    let merchant = client.ecom_merchant();
    let command = InitiatePaymentCommand {
        customer_info: ecom::CustomerInfo::default(),
        merchant_info: MerchantInfo {
            merchant_serial_number: client.merchant_serial_number().to_string(),
            callback_prefix: merchant.callback_prefix.clone(),
            fall_back: merchant.fall_back.clone(),
            is_app: None,
            payment_type: None,
        },
        transaction: InitiateTransaction {
            amount: request.amount.value,
            order_id: reference.clone(),
            transaction_text: request
                .payment_description
                .clone()
                .unwrap_or_else(|| TRANSACTION_TEXT.into()),
            skip_landing_page: None,
        },
    };
    let accept = match request.qr_format.as_ref().map(|f| f.format) {
        Some(QrFormatKind::ImagePng) => QrAccept::Png,
        Some(QrFormatKind::ImageSvg) => QrAccept::Svg,
        Some(QrFormatKind::TextTargetUrl) | None => QrAccept::TargetUrl,
    };
    let result = match client.ecom_initiate(&command).await {
        Ok(initiated) => match client
            .one_time_qr(&reference, &initiated.url, accept, None)
            .await
        {
            Ok(qr) => {
                return Input::Created {
                    reference,
                    result: Ok(Some(qr.url)),
                    valid_for: Some(Duration::from_secs(qr.expires_in)),
                };
            }
            Err(e) => {
                tracing::warn!(%reference, error = %e, "no QR for the eCom payment; cancelling it");
                abandon(client, &reference).await;
                Err(refused(e.status().unwrap_or(502), 0, &e.to_string()))
            }
        },
        Err(e) if e.code() == Some(codes::ORDER_ID_USED) => {
            // The initiate went through before, and its link was lost with the answer.
            tracing::warn!(%reference, "eCom initiate answer was lost; replacing the payment");
            abandon(client, &reference).await;
            // Not Vipps refusing the request (no status): the kiosk replaced a payment it
            // could not show, so the machine does not count it as a refusal.
            Err(ApiError {
                status: None,
                code: Some(codes::ORDER_ID_USED),
                transient: false,
                message: e.to_string(),
                ..ApiError::default()
            })
        }
        Err(e) => Err(api(e)),
    };
    Input::Created {
        reference,
        result,
        valid_for: None,
    }
}

/// Best effort: a payment nobody can see is cancelled; if that fails it expires unpaid.
async fn abandon(client: &Client, reference: &str) {
    if let Err(e) = client.ecom_cancel(reference, TRANSACTION_TEXT).await {
        tracing::warn!(reference, error = %e, "could not cancel the unusable eCom payment; it will expire");
    }
}

/// eCom cancel. `transaction_only` is emulated: the details are read first; an approved
/// payment is answered like ePayment's 6060, so the machine captures it instead, and one the
/// customer has opened in the app without an outcome yet is answered like ePayment's "payment
/// busy" (6250), so the machine asks again later and meanwhile sees the outcome by polling:
/// eCom's cancel would void an approval that arrives in between. A refused cancel is checked
/// against the details: a payment already ended needs no cancel.
async fn ecom_cancel(
    client: &Client,
    reference: &str,
    transaction_only: bool,
) -> Result<Observed, ApiError> {
    let read = |d: ecom::TransactionDetails| {
        let v = d.view();
        observed(v.state, v.aggregate)
    };
    if transaction_only {
        let view = client
            .ecom_details(reference)
            .await
            .map_err(ecom_api)?
            .view();
        let a = view.aggregate;
        if view.state == PaymentState::Authorized
            && a.cancelled_amount.value == 0
            && a.captured_amount.value < a.authorized_amount.value
        {
            return Err(refused(
                400,
                6060,
                "the eCom payment is already approved; nothing was cancelled",
            ));
        }
        if view.opened && !view.state.is_final() {
            tracing::info!(
                reference,
                "the customer has the eCom payment open in the app; not cancelling it now"
            );
            return Err(busy());
        }
    }
    match client.ecom_cancel(reference, TRANSACTION_TEXT).await {
        Ok(_) => client
            .ecom_details(reference)
            .await
            .map(read)
            .map_err(ecom_api),
        Err(e) if e.is_transient() => Err(ecom_api(e)),
        Err(e) => {
            let now = read(client.ecom_details(reference).await.map_err(ecom_api)?);
            let a = now.aggregate;
            let ended = matches!(
                now.state,
                PaymentState::Aborted | PaymentState::Expired | PaymentState::Terminated
            ) || (a.cancelled_amount.value > 0
                && a.captured_amount.value + a.cancelled_amount.value >= a.authorized_amount.value);
            if ended { Ok(now) } else { Err(ecom_api(e)) }
        }
    }
}
