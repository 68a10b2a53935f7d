//! The signature checks and the receiver's verdicts, tried directly.

use super::*;
use crate::vipps::model::Currency;

const SECRET: &str = "090a478d-37ff-4e77-970e-d457aeb26a3a";
const PATH: &str = "/vipps/webhooks?lane=3";
const HOST: &str = "kiosk.example.com:8443";

fn body(name: PaymentEventName) -> Vec<u8> {
    serde_json::to_vec(&Event {
        msn: "123456".into(),
        payment: PaymentEvent {
            reference: "order-0001-1".into(),
            psp_reference: "psp-1".into(),
            name,
            amount: crate::vipps::model::Amount::new(Currency::Nok, 49800),
            timestamp: "2026-11-22T10:00:00Z".into(),
            idempotency_key: None,
            success: true,
        },
    })
    .expect("json")
}

fn verifier() -> Verifier {
    Verifier::new(Secret::new(SECRET))
}

#[test]
fn a_good_delivery_verifies_and_reads() {
    let now = SystemTime::now();
    let b = body(PaymentEventName::Authorized);
    let s = sign(SECRET, PATH, HOST, &b, now);
    assert!(
        s.authorization
            .starts_with("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=")
    );
    assert!(s.date.ends_with(" GMT"), "{}", s.date);
    let Ok(Verdict::Fresh(e)) = verifier().verify(PATH, HOST, Some(&s), &b, now) else {
        panic!("a fresh event");
    };
    assert_eq!(e.payment.name, PaymentEventName::Authorized);
    assert_eq!(e.payment.reference, "order-0001-1");
    // The wire format is Vipps' flat one.
    let v: serde_json::Value = serde_json::from_slice(&b).expect("json");
    assert_eq!(v["reference"], "order-0001-1");
    assert_eq!(v["pspReference"], "psp-1");
    assert_eq!(v["msn"], "123456");
}

/// The signature computed by hand from the documented recipe, independent of `sign`.
#[test]
fn the_signature_follows_the_documented_string_to_sign() {
    let b = br#"{"x":1}"#;
    let date = "Thu, 30 Mar 2023 08:38:36 GMT";
    let hash = B64.encode(Sha256::digest(b));
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(format!("POST\n{PATH}\n{date};{HOST};{hash}").as_bytes());
    let expected = B64.encode(mac.finalize().into_bytes());
    let t = parse_http_date(date).expect("date");
    let s = sign(SECRET, PATH, HOST, b, t);
    assert_eq!(s.date, date);
    assert!(s.authorization.ends_with(&format!("Signature={expected}")));
}

#[test]
fn bad_signatures_are_refused() {
    let now = SystemTime::now();
    let b = body(PaymentEventName::Authorized);
    let s = sign(SECRET, PATH, HOST, &b, now);
    // Another secret.
    let wrong = sign("another-secret", PATH, HOST, &b, now);
    assert_eq!(
        verifier().verify(PATH, HOST, Some(&wrong), &b, now),
        Err(Rejection::Signature)
    );
    // Another host or path than signed.
    assert_eq!(
        verifier().verify(PATH, "evil.example", Some(&s), &b, now),
        Err(Rejection::Signature)
    );
    assert_eq!(
        verifier().verify("/vipps/webhooks", HOST, Some(&s), &b, now),
        Err(Rejection::Signature)
    );
    // A changed body.
    let other = body(PaymentEventName::Captured);
    assert_eq!(
        verifier().verify(PATH, HOST, Some(&s), &other, now),
        Err(Rejection::ContentHash)
    );
    // A changed body with its hash recomputed, but the old signature.
    let forged = Signed {
        content_sha256: B64.encode(Sha256::digest(&other)),
        ..s.clone()
    };
    assert_eq!(
        verifier().verify(PATH, HOST, Some(&forged), &other, now),
        Err(Rejection::Signature)
    );
    assert_eq!(
        verifier().verify(PATH, HOST, None, &b, now),
        Err(Rejection::Missing)
    );
    let garbled = Signed {
        authorization: "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=!!"
            .into(),
        ..s
    };
    assert_eq!(
        verifier().verify(PATH, HOST, Some(&garbled), &b, now),
        Err(Rejection::Signature)
    );
}

/// An authentic delivery dated more than 5 minutes off is answered (Vipps would otherwise
/// retry it and hold back every later event) but not acted on: a delivery captured and
/// played back later looks the same.
#[test]
fn late_and_future_dates_are_answered_but_not_acted_on() {
    let now = SystemTime::now();
    let b = body(PaymentEventName::Created);
    let old = sign(SECRET, PATH, HOST, &b, now - Duration::from_secs(301));
    assert_eq!(
        verifier().verify(PATH, HOST, Some(&old), &b, now),
        Ok(Verdict::Late)
    );
    let future = sign(SECRET, PATH, HOST, &b, now + Duration::from_secs(301));
    assert_eq!(
        verifier().verify(PATH, HOST, Some(&future), &b, now),
        Ok(Verdict::Late)
    );
    let recent = sign(SECRET, PATH, HOST, &b, now - Duration::from_secs(60));
    assert!(matches!(
        verifier().verify(PATH, HOST, Some(&recent), &b, now),
        Ok(Verdict::Fresh(_))
    ));
    // Signed with another secret, a late date is still refused: authenticity comes first.
    let forged = sign(
        "another-secret",
        PATH,
        HOST,
        &b,
        now - Duration::from_secs(301),
    );
    assert_eq!(
        verifier().verify(PATH, HOST, Some(&forged), &b, now),
        Err(Rejection::Signature)
    );
}

/// A body seen before is a no-op, whether it comes again byte for byte or signed anew (Vipps
/// retrying an event it did not see answered, minutes or days later).
#[test]
fn repeats_are_answered_and_not_acted_on_again() {
    let now = SystemTime::now();
    let b = body(PaymentEventName::Authorized);
    let s = sign(SECRET, PATH, HOST, &b, now);
    let mut v = verifier();
    assert!(matches!(
        v.verify(PATH, HOST, Some(&s), &b, now),
        Ok(Verdict::Fresh(_))
    ));
    assert_eq!(
        v.verify(PATH, HOST, Some(&s), &b, now + Duration::from_secs(2)),
        Ok(Verdict::Repeat)
    );
    let again = sign(SECRET, PATH, HOST, &b, now + Duration::from_secs(3));
    assert_eq!(
        v.verify(PATH, HOST, Some(&again), &b, now + Duration::from_secs(3)),
        Ok(Verdict::Repeat)
    );
    // A day later, the same event retried: still known.
    let day = now + Duration::from_secs(86_400);
    let retried = sign(SECRET, PATH, HOST, &b, day);
    assert_eq!(
        v.verify(PATH, HOST, Some(&retried), &b, day),
        Ok(Verdict::Repeat)
    );
    // Another event of the same payment is news.
    let captured = body(PaymentEventName::Captured);
    let c = sign(SECRET, PATH, HOST, &captured, day);
    assert!(matches!(
        v.verify(PATH, HOST, Some(&c), &captured, day),
        Ok(Verdict::Fresh(_))
    ));
    // Past the memory (longer than Vipps retries), a body is forgotten.
    let later = now + REMEMBER + Duration::from_secs(86_400 + 10);
    let old = sign(SECRET, PATH, HOST, &b, later);
    assert!(matches!(
        v.verify(PATH, HOST, Some(&old), &b, later),
        Ok(Verdict::Fresh(_))
    ));
}

/// Signed by Vipps but not an event the kiosk reads (a kind Vipps adds later): answered, so
/// it does not stall the registration, and not acted on.
#[test]
fn a_signed_body_that_is_not_an_event_is_answered_as_unreadable() {
    let now = SystemTime::now();
    let b = br#"{"hello":"world"}"#;
    let s = sign(SECRET, PATH, HOST, b, now);
    assert_eq!(
        verifier().verify(PATH, HOST, Some(&s), b, now),
        Ok(Verdict::Unreadable)
    );
}

#[test]
fn signed_parts_are_the_urls_host_and_path() {
    let u = reqwest::Url::parse("https://kiosk.example.com/vipps/webhooks?lane=3").expect("url");
    assert_eq!(
        signed_parts(&u),
        ("kiosk.example.com".into(), "/vipps/webhooks?lane=3".into())
    );
    let u = reqwest::Url::parse("https://kiosk.example.com:8443/v").expect("url");
    assert_eq!(
        signed_parts(&u),
        ("kiosk.example.com:8443".into(), "/v".into())
    );
}
