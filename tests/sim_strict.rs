#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The simulator as strict as Vipps' test environment: force approve, tokens in Vipps' shape,
//! errors in each family's own shape (also for bodies over the limit and for injected
//! refusals), unreadable 2xx answers, a replay changing nothing, and the rate limits keyed as
//! Vipps keys them. Links are in `sim_links.rs`.

use serde_json::{Value, json};
use std::time::Duration;
use vipps_kiosk::{
    sim::{ApiFault, ApiFaults, Refuse, SimConfig},
    vipps::model::Currency,
};

mod common;
#[path = "sim_strict/api.rs"]
mod sim_api;

use sim_api::{api, payment, problem_code, qr};

#[tokio::test]
async fn force_approve_approves_created_payments_as_the_spec_has_it() {
    let a = api(SimConfig::default()).await;
    // `{}`: approved, answered 200 without a body.
    assert_eq!(
        a.create(qr("fa-order-0001-1", "TEXT/TARGETURL"))
            .await
            .status,
        201
    );
    let ok = a.approve("fa-order-0001-1", Some(json!({}))).await;
    assert_eq!((ok.status, ok.text.as_str()), (200, ""));
    assert_eq!(a.state("fa-order-0001-1").await, "AUTHORIZED");
    // Only a CREATED payment: a second approval is refused as a problem.
    let again = a.approve("fa-order-0001-1", Some(json!({}))).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.content_type, "application/problem+json");
    assert!(again.json()["traceId"].is_string(), "{}", again.text);
    // No body at all is `{}` too.
    assert_eq!(
        a.create(qr("fa-order-0002-1", "TEXT/TARGETURL"))
            .await
            .status,
        201
    );
    assert_eq!(a.approve("fa-order-0002-1", None).await.status, 200);
    // Unknown reference: 404 with 5090.
    let unknown = a.approve("fa-order-nowhere", Some(json!({}))).await;
    assert_eq!(
        (unknown.status, problem_code(&unknown)),
        (404, Some("5090".into()))
    );

    // A push payment is approved by its own customer only.
    assert_eq!(
        a.create(payment("fa-order-0003-1", "PUSH_MESSAGE", "NOK"))
            .await
            .status,
        201
    );
    let stranger = json!({"customer": {"phoneNumber": "4799999999"}});
    assert_eq!(
        a.approve("fa-order-0003-1", Some(stranger)).await.status,
        400
    );
    let both =
        json!({"customer": {"phoneNumber": "4791234567", "personalQr": common::PERSONAL_QR}});
    assert_eq!(a.approve("fa-order-0003-1", Some(both)).await.status, 400);
    let unknown_field = json!({"customer": {"phoneNumber": "4791234567"}, "amount": 1});
    assert_eq!(
        a.approve("fa-order-0003-1", Some(unknown_field))
            .await
            .status,
        400
    );
    assert_eq!(a.state("fa-order-0003-1").await, "CREATED");
    let own = json!({"customer": {"phoneNumber": "4791234567"}});
    assert_eq!(a.approve("fa-order-0003-1", Some(own)).await.status, 200);
    assert_eq!(a.state("fa-order-0003-1").await, "AUTHORIZED");

    // The token of a redirect flow's link.
    let created = a
        .create(payment("fa-order-0004-1", "WEB_REDIRECT", "NOK"))
        .await;
    let link = created.json()["redirectUrl"].as_str().unwrap().to_string();
    let token = link.split_once("token=").unwrap().1.to_string();
    let wrong = json!({"token": "eyJ.eyJ.sig"});
    assert_eq!(a.approve("fa-order-0004-1", Some(wrong)).await.status, 400);
    let right = json!({ "token": token });
    assert_eq!(a.approve("fa-order-0004-1", Some(right)).await.status, 200);
    // An expired payment is not CREATED either.
    assert_eq!(
        a.create(qr("fa-order-0005-1", "TEXT/TARGETURL"))
            .await
            .status,
        201
    );
    a.http
        .post(format!("{}/_sim/payments/fa-order-0005-1/expire", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        a.approve("fa-order-0005-1", Some(json!({}))).await.status,
        400
    );
}

/// Tokens are JWT-shaped and unique, also after every token was made invalid; expired ones
/// are forgotten.
#[tokio::test]
async fn tokens_are_jwt_shaped_unique_and_pruned() {
    let a = api(SimConfig {
        token_lifetime_s: 1,
        ..SimConfig::default()
    })
    .await;
    let mut tokens = vec![a.token.clone()];
    let parts: Vec<&str> = a.token.split('.').collect();
    assert_eq!(parts.len(), 3, "{}", a.token);
    use base64::Engine;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .unwrap();
    let payload: Value = serde_json::from_slice(&payload).unwrap();
    assert!(
        payload["exp"].as_i64() > payload["iat"].as_i64(),
        "{payload}"
    );
    let fresh = || async {
        let t: Value = common::request_token(&a.http, &a.base)
            .await
            .json()
            .await
            .unwrap();
        t["access_token"].as_str().unwrap().to_string()
    };
    tokens.push(fresh().await);
    a.sim.set_faults(ApiFaults {
        rules: vec![],
        expire_tokens: true,
    });
    assert_eq!(a.sim.live_tokens(), 0);
    for _ in 0..3 {
        tokens.push(fresh().await);
    }
    let mut unique = tokens.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), tokens.len(), "{tokens:#?}");
    assert_eq!(a.sim.live_tokens(), 3);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    tokens.push(fresh().await);
    assert_eq!(a.sim.live_tokens(), 1, "the expired ones are forgotten");
}

/// A body over the limit is refused in the family's own shape: problem+json for ePayment,
/// eCom's error array, the QR API's error object.
#[tokio::test]
async fn bodies_over_the_limit_get_the_familys_error_shape() {
    let a = api(SimConfig::default()).await;
    let big = json!({ "reference": "big-order-0001-1", "padding": "x".repeat(1_100_000) });
    let epayment = a.post("/epayment/v1/payments", big.clone(), "k-big").await;
    assert_eq!(epayment.status, 413);
    assert_eq!(epayment.content_type, "application/problem+json");
    assert!(
        epayment.json()["traceId"].is_string(),
        "{}",
        &epayment.text[..80.min(epayment.text.len())]
    );
    let capture = a
        .post(
            "/epayment/v1/payments/big-order-0001-1/capture",
            big.clone(),
            "k-big2",
        )
        .await;
    assert_eq!(
        (capture.status, capture.content_type.as_str()),
        (413, "application/problem+json")
    );
    let ecom = a.post("/ecomm/v2/payments", big.clone(), "k-big3").await;
    assert_eq!(ecom.status, 413);
    assert_eq!(ecom.content_type, "application/json;charset=UTF-8");
    assert!(ecom.json()[0]["errorCode"].is_string(), "{}", ecom.text);
    let qr = a.post("/qr/v1", big, "k-big4").await;
    assert_eq!(
        (qr.status, qr.content_type.as_str()),
        (413, "application/json")
    );
    assert_eq!(qr.json()["status"], 413, "{}", qr.text);
}

/// `refuse` answers Vipps' problem instead of carrying the call out; `garble` carries it
/// out and answers 2xx with a body that is not JSON. Both are counted.
#[tokio::test]
async fn refused_and_garbled_answers() {
    let a = api(SimConfig::default()).await;
    a.sim.set_faults(ApiFaults {
        rules: vec![ApiFault {
            endpoint: "capture".into(),
            refuse: Some(Refuse {
                status: 400,
                code: Some("6260".into()),
                share: 1.0,
            }),
            ..ApiFault::default()
        }],
        expire_tokens: false,
    });
    assert_eq!(
        a.create(qr("fl-order-0001-1", "TEXT/TARGETURL"))
            .await
            .status,
        201
    );
    assert_eq!(a.approve("fl-order-0001-1", None).await.status, 200);
    let capture = json!({"modificationAmount": {"currency": "NOK", "value": 4900}});
    let refused = a
        .post(
            "/epayment/v1/payments/fl-order-0001-1/capture",
            capture.clone(),
            "c1",
        )
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.content_type, "application/problem+json");
    assert_eq!(problem_code(&refused).as_deref(), Some("6260"));
    let p = &a.sim.payments()[0];
    assert_eq!(
        p["aggregate"]["capturedAmount"]["value"], 0,
        "not carried out"
    );
    assert_eq!(a.sim.fault_counts().refused, 1);

    // Over HTTP, with eCom's shape for eCom, and garbled creates.
    let rules = json!({"rules": [
        {"endpoint": "create", "garble": 1.0},
        {"endpoint": "capture", "refuse": {"status": 409, "code": "6260", "share": 1.0}},
    ]});
    let set = a
        .http
        .post(format!("{}/_sim/faults", a.base))
        .json(&rules)
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let garbled = a.create(qr("fl-order-0002-1", "TEXT/TARGETURL")).await;
    assert_eq!(garbled.status, 201);
    assert!(
        serde_json::from_str::<Value>(&garbled.text).is_err(),
        "not JSON: {}",
        garbled.text
    );
    assert_eq!(a.sim.payments().len(), 2, "the create was carried out");
    // A refusal of the call itself is left as it is, and not counted.
    let bad = a.create(json!({"reference": "fl-order-0003-1"})).await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["traceId"].is_string());
    let ecom_capture = json!({"merchantInfo": {"merchantSerialNumber": "123456"},
                              "transaction": {"amount": 4900, "transactionText": "x"}});
    let ecom = a
        .send(
            reqwest::Method::POST,
            "/ecomm/v2/payments/fl-order-0001-1/capture",
            Some(ecom_capture),
            &[("X-Request-Id", "r1")],
        )
        .await;
    assert_eq!(ecom.status, 409);
    assert_eq!(ecom.json()[0]["errorCode"], "6260", "{}", ecom.text);
    let counts: Value = a.get_sim("/_sim/faults").await.json().await.unwrap();
    assert_eq!(counts["counts"]["refused"], 2, "{counts}");
    assert_eq!(counts["counts"]["garbled"], 1, "{counts}");
}

/// A share of calls refused: about that share, the same for the same seed.
#[tokio::test]
async fn a_refusal_share_strikes_about_that_share_of_calls() {
    let a = api(SimConfig::default()).await;
    a.sim.set_faults(ApiFaults {
        rules: vec![ApiFault {
            endpoint: "get".into(),
            refuse: Some(Refuse {
                status: 404,
                code: Some("5090".into()),
                share: 0.5,
            }),
            ..ApiFault::default()
        }],
        expire_tokens: false,
    });
    assert_eq!(
        a.create(qr("fs-order-0001-1", "TEXT/TARGETURL"))
            .await
            .status,
        201
    );
    let mut refused = 0;
    for _ in 0..100 {
        let got = a
            .send(
                reqwest::Method::GET,
                "/epayment/v1/payments/fs-order-0001-1",
                None,
                &[],
            )
            .await;
        if got.status == 404 {
            assert_eq!(problem_code(&got).as_deref(), Some("5090"));
            refused += 1;
        }
    }
    assert!((30..=70).contains(&refused), "{refused} of 100");
    assert_eq!(a.sim.fault_counts().refused, refused);
}

/// A replayed create (same key, another MSN) and a refused one keep the payment's MSN.
#[tokio::test]
async fn a_replayed_create_does_not_change_the_payments_msn() {
    let a = api(SimConfig::default()).await;
    assert_eq!(
        a.create(qr("msn-order-0001-1", "TEXT/TARGETURL"))
            .await
            .status,
        201
    );
    for (key, msn) in [
        ("create-msn-order-0001-1", "654321"),
        ("other-key", "777777"),
    ] {
        let r = a
            .send(
                reqwest::Method::POST,
                "/epayment/v1/payments",
                Some(qr("msn-order-0001-1", "TEXT/TARGETURL")),
                &[("Idempotency-Key", key), ("Merchant-Serial-Number", msn)],
            )
            .await;
        assert!(r.status == 201 || r.status == 409, "{}", r.text);
    }
    assert_eq!(a.sim.payments()[0]["msn"], "123456");
}

/// Vipps' limits per reference: 5 changes a minute per MSN, 120 reads per subscription key,
/// eCom's initiate 2; over them 429 in the family's shape with `Retry-After`.
#[tokio::test]
async fn rate_limits_are_keyed_as_vipps_keys_them() {
    let a = api(SimConfig {
        currency: Some(Currency::Nok),
        ..SimConfig::default()
    })
    .await;
    assert_eq!(
        a.create(qr("rl-order-0001-1", "TEXT/TARGETURL"))
            .await
            .status,
        201
    );
    let cancel = |msn: &'static str, n: usize| {
        let a = &a;
        async move {
            a.send(
                reqwest::Method::POST,
                "/epayment/v1/payments/rl-order-0001-1/cancel",
                None,
                &[
                    ("Merchant-Serial-Number", msn),
                    ("Idempotency-Key", &format!("c{n}")),
                ],
            )
            .await
        }
    };
    for n in 0..5 {
        assert_eq!(cancel("123456", n).await.status, 200);
    }
    let over = cancel("123456", 5).await;
    assert_eq!(over.status, 429);
    assert_eq!(over.content_type, "application/problem+json");
    // Another sales unit's budget for the same reference is its own.
    assert_ne!(cancel("654321", 6).await.status, 429);
    let limited = a.sim.rate_limited();
    assert_eq!(limited, 1);
    // Reads: 120 a minute per subscription key.
    let read = |key: &'static str| {
        let a = &a;
        async move {
            a.http
                .get(format!("{}/epayment/v1/payments/rl-order-0001-1", a.base))
                .bearer_auth(&a.token)
                .header("Ocp-Apim-Subscription-Key", key)
                .header("Merchant-Serial-Number", "123456")
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..120 {
        assert_eq!(read("sub").await.status(), 200);
    }
    let over = read("sub").await;
    assert_eq!(over.status(), 429);
    let wait: u64 = over.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_eq!(read("another-sub").await.status(), 200);
    // eCom's initiate: 2 a minute per orderId, refused in eCom's shape.
    let initiate = json!({
        "customerInfo": {},
        "merchantInfo": {"merchantSerialNumber": "123456",
                         "callbackPrefix": "https://store.example/v", "fallBack": "https://store.example/d"},
        "transaction": {"amount": 4900, "orderId": "rl-ecom-0001", "transactionText": "x"},
    });
    for _ in 0..2 {
        let r = a.post("/ecomm/v2/payments", initiate.clone(), "-").await;
        assert_ne!(r.status, 429, "{}", r.text);
    }
    let over = a.post("/ecomm/v2/payments", initiate, "-").await;
    assert_eq!(over.status, 429);
    assert!(over.json()[0]["errorCode"].is_string(), "{}", over.text);
}
