#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The simulator over HTTP, as any client (or Vipps' own SDKs) would see it.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::{net::SocketAddr, time::Duration};
use vipps_kiosk::sim::{SimConfig, Simulator};

mod common;

async fn sim(config: SimConfig) -> (Simulator, reqwest::Client, String) {
    let sim = Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .unwrap();
    let base = sim.base_url();
    (sim, vipps_kiosk::vipps::plain_http_client(), base)
}

async fn token(http: &reqwest::Client, base: &str) -> String {
    let r = common::request_token(http, base).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["expires_in"].is_string(),
        "numbers are strings in the token response"
    );
    body["access_token"].as_str().unwrap().to_string()
}

fn api(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
) -> reqwest::RequestBuilder {
    http.request(method, url)
        .bearer_auth(token)
        .header("Ocp-Apim-Subscription-Key", "sub")
        .header("Merchant-Serial-Number", "123456")
}

fn qr_body(reference: &str) -> Value {
    json!({
        "amount": {"currency": "NOK", "value": 35300},
        "paymentMethod": {"type": "WALLET"},
        "reference": reference,
        "userFlow": "QR",
        "qrFormat": {"format": "TEXT/TARGETURL"},
        "customerInteraction": "CUSTOMER_PRESENT"
    })
}

#[tokio::test]
async fn api_calls_need_token_subscription_key_and_msn() {
    let (_sim, http, base) = sim(SimConfig::default()).await;
    let url = format!("{base}/epayment/v1/payments/order-0001-1");
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let t = token(&http, &base).await;
    let r = http
        .get(&url)
        .bearer_auth(&t)
        .header("Ocp-Apim-Subscription-Key", "sub")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "MSN missing");
    let r = api(&http, reqwest::Method::GET, url, &t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        p["extraDetails"][0],
        json!({"name": "ErrorCode", "reason": "5090"})
    );
    assert!(p["traceId"].is_string() && p["title"].is_string() && p["type"].is_string());
}

#[tokio::test]
async fn wrong_credentials_get_no_token() {
    let (_sim, http, base) = sim(SimConfig {
        client_secret: Some("right".into()),
        ..SimConfig::default()
    })
    .await;
    let r = http
        .post(format!("{base}/accesstoken/get"))
        .header("client_id", "id")
        .header("client_secret", "wrong")
        .header("Ocp-Apim-Subscription-Key", "sub")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn create_replays_by_idempotency_key_and_the_phone_acts_through_the_control_api() {
    let (_sim, http, base) = sim(SimConfig::default()).await;
    let t = token(&http, &base).await;
    let create = || {
        api(
            &http,
            reqwest::Method::POST,
            format!("{base}/epayment/v1/payments"),
            &t,
        )
        .header("Idempotency-Key", "create1-order-0001-1")
        .json(&qr_body("order-0001-1"))
    };
    let first = create().send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again: Value = create().send().await.unwrap().json().await.unwrap();
    assert_eq!(first, again);
    let missing_key = api(
        &http,
        reqwest::Method::POST,
        format!("{base}/epayment/v1/payments"),
        &t,
    )
    .json(&qr_body("order-0002-1"))
    .send()
    .await
    .unwrap();
    assert_eq!(missing_key.status(), StatusCode::BAD_REQUEST);
    let malformed = api(
        &http,
        reqwest::Method::POST,
        format!("{base}/epayment/v1/payments"),
        &t,
    )
    .header("Idempotency-Key", "k-malformed")
    .header("content-type", "application/json")
    .body("{not json")
    .send()
    .await
    .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    let list: Vec<Value> = http
        .get(format!("{base}/_sim/payments"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    let p = &list[0];
    for field in [
        "reference",
        "state",
        "userFlow",
        "amount",
        "aggregate",
        "qrTargetUrl",
    ] {
        assert!(!p[field].is_null(), "control API shows {field}");
    }
    assert_eq!(p["qrTargetUrl"], first["redirectUrl"]);
    // Vipps' target URL; the phone (the control API) opens it by its code.
    let target = p["qrTargetUrl"].as_str().unwrap();
    let code = target.strip_prefix("https://qr.vipps.no/").unwrap();
    let opened: Value = http
        .get(format!("{base}/_sim/qr/{code}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(opened["reference"], "order-0001-1");

    let r = http
        .post(format!("{base}/_sim/payments/order-0001-1/approve"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let got: Value = api(
        &http,
        reqwest::Method::GET,
        format!("{base}/epayment/v1/payments/order-0001-1"),
        &t,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(got["state"], "AUTHORIZED");
    assert_eq!(got["aggregate"]["authorizedAmount"]["value"], 35300);
    let events: Vec<Value> = api(
        &http,
        reqwest::Method::GET,
        format!("{base}/epayment/v1/payments/order-0001-1/events"),
        &t,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let names: Vec<_> = events
        .iter()
        .map(|e| e["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["CREATED", "AUTHORIZED"]);
    assert!(
        events
            .iter()
            .all(|e| e["success"] == true && e["timestamp"].is_string())
    );
}

#[tokio::test]
async fn settings_turn_auto_approval_on_and_time_scale_expires_payments() {
    let (sim, http, base) = sim(SimConfig {
        time_scale: 600.0,
        ..SimConfig::default()
    })
    .await;
    let t = token(&http, &base).await;
    api(
        &http,
        reqwest::Method::POST,
        format!("{base}/epayment/v1/payments"),
        &t,
    )
    .header("Idempotency-Key", "k1")
    .json(&qr_body("order-0001-1"))
    .send()
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await; // 11 simulated minutes
    assert_eq!(sim.payments()[0]["state"], "EXPIRED");

    let r = http
        .post(format!("{base}/_sim/settings"))
        .json(&json!({"autoApproveAfterMs": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    api(
        &http,
        reqwest::Method::POST,
        format!("{base}/epayment/v1/payments"),
        &t,
    )
    .header("Idempotency-Key", "k2")
    .json(&qr_body("order-0002-1"))
    .send()
    .await
    .unwrap();
    assert_eq!(sim.payments()[1]["state"], "AUTHORIZED");
}
