//! What `check` can learn of the sales unit without moving money: whether it takes the lane's
//! currency (a one-time QR payment of the smallest amount, cancelled at once: nobody can have
//! approved it), and whether it may send push payments (a push to a number no customer has:
//! Vipps answers 5080 when the sales unit may not push, and "not found" when it may).

use crate::{
    config::Config,
    market::Market,
    vipps::{
        Client,
        model::{
            Amount, CreatePaymentRequest, Customer, CustomerInteraction, PaymentMethod,
            PaymentMethodType, QrFormat, QrFormatKind, UserFlow,
        },
    },
};

/// A number no customer has, in the market's country code (the national part all zeros).
fn nobody(market: Market) -> &'static str {
    match market {
        Market::Norway => "4700000000",
        Market::Denmark => "4500000000",
        Market::Finland => "358000000000",
    }
}

/// The probe payment's request: the smallest amount the currency takes.
fn request(config: &Config, reference: &str, flow: UserFlow) -> CreatePaymentRequest {
    let currency = config.market.currency();
    let smallest = match config.market {
        Market::Norway => 100,
        Market::Denmark | Market::Finland => 1,
    };
    let push = flow == UserFlow::PushMessage;
    CreatePaymentRequest {
        amount: Amount::new(currency, smallest),
        customer: push.then(|| Customer {
            phone_number: Some(nobody(config.market).to_string()),
            ..Customer::default()
        }),
        minimum_user_age: None,
        customer_interaction: Some(CustomerInteraction::CustomerPresent),
        payment_method: PaymentMethod {
            kind: PaymentMethodType::Wallet,
        },
        reference: reference.to_string(),
        user_flow: flow,
        return_url: None,
        payment_description: Some("Lane check".into()),
        qr_format: (!push).then_some(QrFormat {
            format: QrFormatKind::TextTargetUrl,
            size: None,
        }),
        receipt: None,
    }
}

/// Creates the probe payment; a created one is cancelled at once. `Ok(())` when Vipps took it.
async fn probe(client: &Client, request: &CreatePaymentRequest) -> Result<(), crate::vipps::Error> {
    let key = format!("check-{}", request.reference);
    client.create_payment(request, &key).await?;
    let cancel_key = format!("checkcancel-{}", request.reference);
    if let Err(e) = client.cancel(&request.reference, true, &cancel_key).await {
        tracing::warn!(reference = %request.reference, error = %e, "could not cancel the check's payment; it expires by itself");
    }
    Ok(())
}

/// The findings, one line each: (ok, what).
pub async fn sales_unit(client: &Client, config: &Config) -> Vec<(bool, String)> {
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let prefix = config.reference_prefix();
    let currency = config.market.currency();
    let mut findings = Vec::new();
    let qr = request(config, &format!("{prefix}-check-{stamp}-qr"), UserFlow::Qr);
    findings.push(match probe(client, &qr).await {
        Ok(()) => (true, format!("the sales unit takes {currency} (a one-time QR of the smallest amount, cancelled at once)")),
        Err(e) if e.code() == Some(5040) => (
            false,
            format!("the sales unit does not take {currency}: check `market` against the MSN"),
        ),
        Err(e) => (false, format!("a one-time QR payment was refused: {e}")),
    });
    let push = request(
        config,
        &format!("{prefix}-check-{stamp}-push"),
        UserFlow::PushMessage,
    );
    findings.push(match probe(client, &push).await {
        Ok(()) => (true, "the sales unit may send push payments".into()),
        Err(e) if e.code() == Some(5080) => (
            false,
            "the sales unit may not send push payments (5080): personal QRs and phone numbers cannot be used; ask Vipps MobilePay to enable PUSH_MESSAGE".into(),
        ),
        Err(e) if matches!(e.code(), Some(7010 | 4070)) => (
            true,
            "the sales unit may send push payments (the check's number has no customer, so nothing was sent)".into(),
        ),
        Err(e) => (false, format!("could not tell whether push payments are allowed: {e}")),
    });
    findings
}
