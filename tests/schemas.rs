#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! Every answer the simulator gives, checked against the official OpenAPI specs in
//! `../shared/vipps-api/` (copied into `tests/fixtures/vipps-api/`): the response schema for
//! the endpoint, method and status, with `$ref`s followed; and every request body the kiosk
//! sends, against the request schema (`schemas/requests.rs`), with `pattern`s and no
//! properties the schema does not define.
//!
//! The validator covers the parts of JSON Schema these specs use: `type`, `required`,
//! `properties`, `additionalProperties: false`, `items`, `enum`, `allOf`/`oneOf`/`anyOf`,
//! `nullable`, `minLength`/`maxLength`, `minimum`/`maximum`, `minItems`/`maxItems`; for the
//! kiosk's requests also `pattern`. Not checked: `format`, and in answers `pattern` (the
//! simulator's references and URLs are checked by its own tests). A `required`
//! name that the schema's own `properties` never define is reported as a defect of the spec
//! and skipped (ePayment's PaymentEvent requires `paymentAction` but defines `name`).

use serde_json::{Value, json};
use std::time::Duration;
use vipps_kiosk::sim::backend::PhoneAction;

mod common;
#[path = "schemas/requests.rs"]
mod requests;
#[path = "schemas/validator.rs"]
mod validator;

use validator::spec;

struct Call {
    http: reqwest::Client,
    base: String,
    token: String,
    /// The content type of the last answer.
    last: std::sync::Mutex<String>,
}

impl Call {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
        self.send_with(method, path, body, &headers).await
    }

    async fn send_with(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Ocp-Apim-Subscription-Key", "sub")
            .header("Merchant-Serial-Number", "123456");
        for (name, value) in headers {
            r = r.header(*name, *value);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        *self.last.lock().unwrap() = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The last answer against `spec`: its schema and its content type.
    fn check(&self, spec: &validator::Spec, path: &str, method: &str, status: u16, body: &Value) {
        let content_type = self.last.lock().unwrap().clone();
        spec.validate_typed(path, method, status, &content_type, body);
    }
}

fn create_body(reference: &str, flow: &str) -> Value {
    let mut b = json!({
        "amount": {"currency": "NOK", "value": 49800},
        "paymentMethod": {"type": "WALLET"},
        "reference": reference,
        "userFlow": flow,
        "customerInteraction": "CUSTOMER_PRESENT",
        "paymentDescription": "Purchase",
    });
    if flow == "QR" {
        b["qrFormat"] = json!({"format": "TEXT/TARGETURL"});
    } else {
        b["customer"] = json!({"personalQr": common::PERSONAL_QR});
    }
    b
}

#[tokio::test]
async fn every_simulator_answer_fits_the_official_schema() {
    let epayment = spec("epayment-openapi.yaml");
    let token_spec = spec("accesstoken-openapi.yaml");
    let webhooks = spec("webhooks-openapi.yaml");
    let qr = spec("qr-openapi.yaml");
    let sim = common::simulator().await;
    let http = vipps_kiosk::vipps::plain_http_client();
    let base = sim.base_url();
    use reqwest::Method as M;

    // Access token.
    let resp = common::request_token(&http, &base).await;
    assert_eq!(resp.status().as_u16(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
    let body: Value = resp.json().await.unwrap();
    token_spec.validate_typed("/accesstoken/get", "post", 200, &content_type, &body);
    let call = Call {
        http,
        base,
        token: body["access_token"].as_str().unwrap().to_string(),
        last: Default::default(),
    };

    // Create, both flows; read; events; capture; cancel.
    for (reference, flow) in [
        ("schema-qr-1", "QR"),
        ("schema-push-1", "PUSH_MESSAGE"),
        ("schema-fa-1", "QR"),
    ] {
        let (status, body) = call
            .send(
                M::POST,
                "/epayment/v1/payments",
                Some(create_body(reference, flow)),
                Some(&format!("k-{reference}")),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        call.check(&epayment, "/v1/payments", "post", 201, &body);
        let (status, body) = call
            .send(
                M::GET,
                &format!("/epayment/v1/payments/{reference}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 200);
        call.check(&epayment, "/v1/payments/{Reference}", "get", 200, &body);
    }
    // The test environment's force approve: 200, no content.
    let (status, body) = call
        .send(
            M::POST,
            "/epayment/v1/test/payments/schema-fa-1/approve",
            Some(json!({})),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    call.check(
        &epayment,
        "/v1/test/payments/{Reference}/approve",
        "post",
        200,
        &body,
    );
    assert!(sim.phone("schema-qr-1", PhoneAction::Approve));
    let capture = json!({"modificationAmount": {"currency": "NOK", "value": 49800}});
    let (status, body) = call
        .send(
            M::POST,
            "/epayment/v1/payments/schema-qr-1/capture",
            Some(capture.clone()),
            Some("c1"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    call.check(
        &epayment,
        "/v1/payments/{Reference}/capture",
        "post",
        200,
        &body,
    );
    let (status, body) = call
        .send(
            M::POST,
            "/epayment/v1/payments/schema-qr-1/refund",
            Some(json!({"modificationAmount": {"currency": "NOK", "value": 800}})),
            Some("r1"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    call.check(
        &epayment,
        "/v1/payments/{Reference}/refund",
        "post",
        200,
        &body,
    );
    let (status, body) = call
        .send(M::GET, "/epayment/v1/payments/schema-qr-1", None, None)
        .await;
    assert_eq!(status, 200);
    call.check(&epayment, "/v1/payments/{Reference}", "get", 200, &body);
    let (status, body) = call
        .send(
            M::POST,
            "/epayment/v1/payments/schema-push-1/cancel",
            Some(json!({"cancelTransactionOnly": true})),
            Some("x1"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    call.check(
        &epayment,
        "/v1/payments/{Reference}/cancel",
        "post",
        200,
        &body,
    );
    for reference in ["schema-qr-1", "schema-push-1"] {
        let (status, body) = call
            .send(
                M::GET,
                &format!("/epayment/v1/payments/{reference}/events"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert!(body.as_array().is_some_and(|e| e.len() >= 2), "{body}");
        call.check(
            &epayment,
            "/v1/payments/{Reference}/events",
            "get",
            200,
            &body,
        );
    }

    // Errors: problem+json as documented.
    let (status, body) = call
        .send(
            M::POST,
            "/epayment/v1/payments",
            Some(create_body("schema-qr-1", "QR")),
            Some("k-another"),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    call.check(&epayment, "/v1/payments", "post", 409, &body);
    let (status, body) = call
        .send(
            M::POST,
            "/epayment/v1/payments",
            Some(json!({"amount": {"currency": "NOK", "value": -1}})),
            Some("k-bad"),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    call.check(&epayment, "/v1/payments", "post", 400, &body);
    let (status, body) = call
        .send(
            M::POST,
            "/epayment/v1/payments/schema-qr-1/capture",
            Some(json!({"modificationAmount": {"currency": "NOK", "value": 100}})),
            Some("c2"),
        )
        .await;
    assert!(status == 400 || status == 409, "{status} {body}");
    call.check(
        &epayment,
        "/v1/payments/{Reference}/capture",
        "post",
        status,
        &body,
    );
    let (status, body) = call
        .send(
            M::POST,
            "/epayment/v1/payments/nope-1/cancel",
            Some(json!({})),
            Some("x2"),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    call.check(
        &epayment,
        "/v1/payments/{Reference}/cancel",
        "post",
        404,
        &body,
    );

    // QR API: the personal QR exchange, and its documented 400.
    let (status, body) = call
        .send(
            M::POST,
            "/qr/v1/exchange",
            Some(json!({"qrCode": common::PERSONAL_QR, "requestedData": ["MSISDN"]})),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    call.check(&qr, "/v1/exchange", "post", 200, &body);
    let (status, body) = call
        .send(
            M::POST,
            "/qr/v1/exchange",
            Some(json!({"qrCode": "not a code"})),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    call.check(&qr, "/v1/exchange", "post", 400, &body);

    // Webhooks API.
    let (status, body) = call
        .send(
            M::POST,
            "/webhooks/v1/webhooks",
            Some(json!({"url": "https://store.example/hooks", "events": ["epayments.payment.created.v1"]})),
            None,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    call.check(&webhooks, "/v1/webhooks", "post", 201, &body);
    let (status, body) = call.send(M::GET, "/webhooks/v1/webhooks", None, None).await;
    assert_eq!(status, 200);
    call.check(&webhooks, "/v1/webhooks", "get", 200, &body);
    let (status, body) = call
        .send(
            M::POST,
            "/webhooks/v1/webhooks",
            Some(json!({"url": "ftp://x", "events": []})),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    // The Webhooks API documents its own problem shape (ProblemDetails): checked as such.
    call.check(&webhooks, "/v1/webhooks", "post", 400, &body);
    tokio::time::sleep(Duration::from_millis(10)).await;
}

/// eCom v2 and the QR API's one-time QR: every answer of the flow the kiosk uses, and the
/// errors, against `ecom-openapi.yaml` and `qr-openapi.yaml`.
#[tokio::test]
async fn ecom_and_one_time_qr_answers_fit_the_official_schema() {
    let ecom = spec("ecom-openapi.yaml");
    let qr = spec("qr-openapi.yaml");
    let sim = common::simulator().await;
    let http = vipps_kiosk::vipps::plain_http_client();
    let base = sim.base_url();
    let resp = common::request_token(&http, &base).await;
    let token: Value = resp.json().await.unwrap();
    let call = Call {
        http,
        base,
        token: token["access_token"].as_str().unwrap().to_string(),
        last: Default::default(),
    };
    use reqwest::Method as M;
    let merchant = json!({"merchantSerialNumber": "123456"});
    let initiate = |order_id: &str| {
        json!({
            "customerInfo": {},
            "merchantInfo": {
                "merchantSerialNumber": "123456",
                "callbackPrefix": "https://store.example/vipps",
                "fallBack": "https://store.example/done",
            },
            "transaction": {"amount": 49800, "orderId": order_id, "transactionText": "Purchase"},
        })
    };
    for id in ["schema-ecom-1", "schema-ecom-2"] {
        let (status, body) = call
            .send(M::POST, "/ecomm/v2/payments", Some(initiate(id)), None)
            .await;
        assert_eq!(status, 200, "{body}");
        call.check(&ecom, "/ecomm/v2/payments", "post", 200, &body);
        // Every Accept variant of the one-time QR.
        for accept in ["text/targetUrl", "image/png", "image/svg+xml", "image/*"] {
            let (status, qr_body) = call
                .send_with(
                    M::POST,
                    "/qr/v1",
                    Some(json!({"url": body["url"]})),
                    &[("Accept", accept), ("Size", "400")],
                )
                .await;
            assert_eq!(status, 200, "{accept}: {qr_body}");
            call.check(&qr, "/v1", "post", 200, &qr_body);
            assert!(
                qr_body["expiresIn"]
                    .as_u64()
                    .is_some_and(|s| s > 200 && s <= 300)
            );
        }
        let (status, body) = call
            .send(
                M::GET,
                &format!("/ecomm/v2/payments/{id}/details"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        call.check(
            &ecom,
            "/ecomm/v2/payments/{orderId}/details",
            "get",
            200,
            &body,
        );
    }
    assert!(sim.phone("schema-ecom-1", PhoneAction::Approve));
    let capture = json!({"merchantInfo": merchant, "transaction": {"amount": 49800, "transactionText": "Purchase"}});
    let (status, body) = call
        .send_with(
            M::POST,
            "/ecomm/v2/payments/schema-ecom-1/capture",
            Some(capture.clone()),
            &[("X-Request-Id", "capture-1")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    call.check(
        &ecom,
        "/ecomm/v2/payments/{orderId}/capture",
        "post",
        200,
        &body,
    );
    let (status, body) = call
        .send_with(
            M::POST,
            "/ecomm/v2/payments/schema-ecom-1/refund",
            Some(json!({"merchantInfo": merchant, "transaction": {"amount": 800, "transactionText": "Returned"}})),
            &[("X-Request-Id", "refund-1")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    call.check(
        &ecom,
        "/ecomm/v2/payments/{orderId}/refund",
        "post",
        200,
        &body,
    );
    let (status, body) = call
        .send(
            M::GET,
            "/ecomm/v2/payments/schema-ecom-1/details",
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    call.check(
        &ecom,
        "/ecomm/v2/payments/{orderId}/details",
        "get",
        200,
        &body,
    );
    let ops: Vec<&str> = body["transactionLogHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        ops,
        ["REFUND", "CAPTURE", "RESERVE", "INITIATE"],
        "newest first"
    );
    let cancel = json!({"merchantInfo": merchant, "transaction": {"transactionText": "Cancelled"}});
    let (status, body) = call
        .send(
            M::PUT,
            "/ecomm/v2/payments/schema-ecom-2/cancel",
            Some(cancel.clone()),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    call.check(
        &ecom,
        "/ecomm/v2/payments/{orderId}/cancel",
        "put",
        200,
        &body,
    );

    // Errors: eCom's array (a reused orderId, an unknown one, a capture of a cancelled
    // payment, a missing X-Request-Id), and the QR API's own shape.
    let (status, body) = call
        .send(
            M::POST,
            "/ecomm/v2/payments",
            Some(initiate("schema-ecom-1")),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body[0]["errorCode"], "34");
    call.check(&ecom, "/ecomm/v2/payments", "post", 400, &body);
    let (status, body) = call
        .send(M::GET, "/ecomm/v2/payments/nope/details", None, None)
        .await;
    assert_eq!(status, 404, "{body}");
    call.check(
        &ecom,
        "/ecomm/v2/payments/{orderId}/details",
        "get",
        404,
        &body,
    );
    for headers in [&[("X-Request-Id", "capture-2")][..], &[][..]] {
        let (status, body) = call
            .send_with(
                M::POST,
                "/ecomm/v2/payments/schema-ecom-2/capture",
                Some(capture.clone()),
                headers,
            )
            .await;
        assert_eq!(status, 400, "{body}");
        call.check(
            &ecom,
            "/ecomm/v2/payments/{orderId}/capture",
            "post",
            400,
            &body,
        );
    }
    let (status, body) = call
        .send(
            M::PUT,
            "/ecomm/v2/payments/schema-ecom-1/cancel",
            Some(cancel),
            None,
        )
        .await;
    assert_eq!(
        status, 400,
        "a captured payment cannot be cancelled: {body}"
    );
    call.check(
        &ecom,
        "/ecomm/v2/payments/{orderId}/cancel",
        "put",
        400,
        &body,
    );
    for (url, accept) in [
        (
            "https://api.vipps.no/dwo-api-application/v1/deeplink/vippsgateway?v=2&token=nope",
            "image/png",
        ),
        ("https://api.vipps.no/x", "text/html"),
    ] {
        let (status, body) = call
            .send_with(
                M::POST,
                "/qr/v1",
                Some(json!({ "url": url })),
                &[("Accept", accept)],
            )
            .await;
        assert_eq!(status, 400, "{body}");
        call.check(&qr, "/v1", "post", 400, &body);
    }
    // A gateway refusal (no valid token) in eCom's Azure shape.
    let stale = Call {
        token: "stale".into(),
        ..call
    };
    let (status, body) = stale
        .send(
            M::GET,
            "/ecomm/v2/payments/schema-ecom-1/details",
            None,
            None,
        )
        .await;
    assert_eq!(status, 401, "{body}");
    stale.check(
        &ecom,
        "/ecomm/v2/payments/{orderId}/details",
        "get",
        401,
        &body,
    );
}
