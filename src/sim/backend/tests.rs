//! The backend's rules, tried directly: expiry, idempotency, validation codes, cancel,
//! capture and auto-approval.

use super::*;

const MSN: &str = "123456";

fn create_body(reference: &str, flow: &str) -> Value {
    let mut v = json!({
        "amount": {"currency": "NOK", "value": 49800},
        "paymentMethod": {"type": "WALLET"},
        "reference": reference,
        "userFlow": flow,
        "customerInteraction": "CUSTOMER_PRESENT",
    });
    if flow == "PUSH_MESSAGE" {
        v["customer"] = json!({"personalQr": "https://qr.vipps.no/p/AbC-123_xyz?v=2"});
    } else {
        v["qrFormat"] = json!({"format": "TEXT/TARGETURL"});
    }
    v
}

fn code(r: &Reply) -> Option<u64> {
    r.body["extraDetails"][0]["reason"]
        .as_str()
        .and_then(|s| s.parse().ok())
}

#[test]
fn qr_payment_returns_target_url_and_expires_after_ten_minutes() {
    let mut b = Backend::new("http://sim");
    let r = b.create("k1", MSN, create_body("order-0001-1", "QR"), 0.0);
    assert_eq!(r.status, 201);
    let url = r.body["redirectUrl"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(url.starts_with("https://qr.vipps.no/"), "{url}");
    assert_eq!(
        b.payment("order-0001-1")
            .and_then(|p| p.qr_target_url.clone()),
        Some(url)
    );
    b.advance(599.0);
    assert_eq!(b.get("order-0001-1").body["state"], "CREATED");
    b.advance(600.0);
    assert_eq!(b.get("order-0001-1").body["state"], "EXPIRED");
}

#[test]
fn push_payment_expires_after_five_minutes() {
    let mut b = Backend::new("http://sim");
    assert_eq!(
        b.create("k1", MSN, create_body("order-0001-1", "PUSH_MESSAGE"), 10.0)
            .status,
        201
    );
    b.advance(309.0);
    assert_eq!(b.get("order-0001-1").body["state"], "CREATED");
    b.advance(310.0);
    assert_eq!(b.get("order-0001-1").body["state"], "EXPIRED");
}

/// A replayed or refused create is no create: the payment keeps the sales unit that made it
/// (webhook payloads carry it).
#[test]
fn a_replayed_or_refused_create_keeps_the_payments_msn() {
    let mut b = Backend::new("http://sim");
    assert_eq!(
        b.create("k1", MSN, create_body("order-0001-1", "QR"), 0.0)
            .status,
        201
    );
    let replay = b.create("k1", "654321", create_body("order-0001-1", "QR"), 1.0);
    assert_eq!(replay.status, 201);
    let taken = b.create("k2", "654321", create_body("order-0001-1", "QR"), 2.0);
    assert_eq!(taken.status, 409);
    assert_eq!(b.payment("order-0001-1").map(|p| p.msn.as_str()), Some(MSN));
}

#[test]
fn idempotency_replays_same_body_and_refuses_another() {
    let mut b = Backend::new("http://sim");
    let first = b.create("k1", MSN, create_body("order-0001-1", "QR"), 0.0);
    let again = b.create("k1", MSN, create_body("order-0001-1", "QR"), 1.0);
    assert_eq!(first, again);
    assert_eq!(b.list().len(), 1);
    let mut other = create_body("order-0001-1", "QR");
    other["amount"]["value"] = json!(100);
    let conflict = b.create("k1", MSN, other, 2.0);
    assert_eq!(conflict.status, 409);
    let dup = b.create("k2", MSN, create_body("order-0001-1", "QR"), 3.0);
    assert_eq!((dup.status, code(&dup)), (409, Some(4150)));
}

#[test]
fn validation_answers_with_codes() {
    let mut b = Backend::new("http://sim");
    b.currency = Some(Currency::Nok);
    assert_eq!(
        b.create("a", MSN, create_body("short", "QR"), 0.0).status,
        400
    );
    let mut small = create_body("order-0001-1", "QR");
    small["amount"]["value"] = json!(99);
    assert_eq!(code(&b.create("b", MSN, small, 0.0)), Some(6010));
    let mut dkk = create_body("order-0001-2", "QR");
    dkk["amount"]["currency"] = json!("DKK");
    assert_eq!(code(&b.create("c", MSN, dkk, 0.0)), Some(5040));
    let mut bad_qr = create_body("order-0001-3", "PUSH_MESSAGE");
    bad_qr["customer"] = json!({"personalQr": "https://example.com/not-vipps"});
    assert_eq!(code(&b.create("d", MSN, bad_qr, 0.0)), Some(4060));
    let mut unknown = create_body("order-0001-4", "PUSH_MESSAGE");
    unknown["customer"] = json!({"personalQr": format!("{TEST_QR_NOT_FOUND_PREFIX}-1")});
    assert_eq!(code(&b.create("e", MSN, unknown, 0.0)), Some(7010));
    let mut no_customer = create_body("order-0001-5", "PUSH_MESSAGE");
    no_customer.as_object_mut().map(|o| o.remove("customer"));
    assert_eq!(b.create("f", MSN, no_customer, 0.0).status, 400);
    assert!(b.list().is_empty(), "nothing invalid was created");
}

#[test]
fn cancel_transaction_only_refuses_an_authorized_payment() {
    let mut b = Backend::new("http://sim");
    b.create("k", MSN, create_body("order-0001-1", "QR"), 0.0);
    assert_eq!(b.phone("order-0001-1", PhoneAction::Approve).status, 200);
    let r = b.cancel(
        "order-0001-1",
        Some("c1"),
        json!({"cancelTransactionOnly": true}),
    );
    assert_eq!((r.status, code(&r)), (400, Some(6060)));
    assert_eq!(
        b.get("order-0001-1").body["aggregate"]["cancelledAmount"]["value"],
        0
    );
    let full = b.cancel("order-0001-1", Some("c2"), json!({}));
    assert_eq!(full.status, 200);
    assert_eq!(full.body["state"], "AUTHORIZED");
    assert_eq!(full.body["aggregate"]["cancelledAmount"]["value"], 49800);
}

#[test]
fn cancel_before_approval_terminates_and_phone_cannot_approve_after() {
    let mut b = Backend::new("http://sim");
    b.create("k", MSN, create_body("order-0001-1", "QR"), 0.0);
    let r = b.cancel(
        "order-0001-1",
        Some("c1"),
        json!({"cancelTransactionOnly": true}),
    );
    assert_eq!(r.body["state"], "TERMINATED");
    assert_eq!(b.phone("order-0001-1", PhoneAction::Approve).status, 409);
}

#[test]
fn capture_rules_and_replay() {
    let mut b = Backend::new("http://sim");
    b.create("k", MSN, create_body("order-0001-1", "QR"), 0.0);
    let body = json!({"modificationAmount": {"currency": "NOK", "value": 49800}});
    let early = b.capture("order-0001-1", "cap-1", body.clone());
    assert_eq!(code(&early), Some(6080));
    b.phone("order-0001-1", PhoneAction::Approve);
    // The early refusal is remembered for that key: a corrected request needs a new key.
    assert_eq!(
        code(&b.capture("order-0001-1", "cap-1", body.clone())),
        Some(6080)
    );
    let ok = b.capture("order-0001-1", "cap-2", body.clone());
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["aggregate"]["capturedAmount"]["value"], 49800);
    let replay = b.capture("order-0001-1", "cap-2", body.clone());
    assert_eq!(
        replay, ok,
        "same key, same body: same answer, no second capture"
    );
    let again = b.capture("order-0001-1", "cap-3", body);
    assert_eq!(
        code(&again),
        Some(6090),
        "cannot capture more than authorized"
    );
    let captured: Vec<_> = b
        .payment("order-0001-1")
        .map(|p| {
            p.events
                .iter()
                .filter(|e| e.name == PaymentEventName::Captured)
                .count()
        })
        .into_iter()
        .collect();
    assert_eq!(captured, vec![1]);
}

#[test]
fn auto_approve_after_delay() {
    let mut b = Backend::new("http://sim");
    b.auto_approve_after_s = Some(3.0);
    b.create("k", MSN, create_body("order-0001-1", "QR"), 0.0);
    b.advance(2.9);
    assert_eq!(b.get("order-0001-1").body["state"], "CREATED");
    b.advance(3.0);
    assert_eq!(b.get("order-0001-1").body["state"], "AUTHORIZED");
}

#[test]
fn an_under_age_customer_is_refused_as_vipps_refuses_them() {
    let mut b = Backend::new("http://sim");
    // A push to a 16-year-old for an 18 limit: 7010, as for an unknown customer.
    let mut teen = create_body("order-0001-1", "PUSH_MESSAGE");
    teen["customer"] = json!({"phoneNumber": "4791000016"});
    teen["minimumUserAge"] = json!(18);
    assert_eq!(code(&b.create("a", MSN, teen.clone(), 0.0)), Some(7010));
    // The same customer without a limit, and an adult with it, are pushed to.
    teen["reference"] = json!("order-0001-2");
    teen.as_object_mut().map(|o| o.remove("minimumUserAge"));
    assert_eq!(b.create("b", MSN, teen, 0.0).status, 201);
    let mut adult = create_body("order-0001-3", "PUSH_MESSAGE");
    adult["minimumUserAge"] = json!(18);
    assert_eq!(b.create("c", MSN, adult, 0.0).status, 201);
    let mut too_old = create_body("order-0001-4", "QR");
    too_old["minimumUserAge"] = json!(101);
    assert_eq!(b.create("d", MSN, too_old, 0.0).status, 400);
    // A one-time QR approved in the app by a 16-year-old ends without money.
    let mut qr = create_body("order-0001-5", "QR");
    qr["minimumUserAge"] = json!(18);
    assert_eq!(b.create("e", MSN, qr, 0.0).status, 201);
    let teen = json!({"customer": {"phoneNumber": "4791000016"}});
    assert_eq!(b.force_approve("order-0001-5", &teen).status, 400);
    assert_eq!(b.get("order-0001-5").body["state"], "ABORTED");
    // An adult approving one is approved.
    let mut qr = create_body("order-0001-6", "QR");
    qr["minimumUserAge"] = json!(18);
    assert_eq!(b.create("f", MSN, qr, 0.0).status, 201);
    let adult = json!({"customer": {"phoneNumber": "4741234567"}});
    assert_eq!(b.force_approve("order-0001-6", &adult).status, 200);
    assert_eq!(b.get("order-0001-6").body["state"], "AUTHORIZED");
}
