#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! Order lines with units and discounts, from the POS API to the receipt Vipps gets: checked
//! against the specs' own receipt examples (ePayment's `SocksOrderLine`, Order Management's
//! weighed socks and discounted flip-flops), validated against the official `Receipt` schema,
//! refused by the POS API with 422 naming the field, accepted by the simulator as Vipps does;
//! and the payment's text, the brand in `GET /v1/health` and in `check`.

use serde_json::{Value, json};
use std::time::Duration;
use vipps_kiosk::{
    market::{BrandChoice, Market, Today},
    payment::{self, Order},
    pos::{self, Hub},
    vipps::{Secret, model::Currency},
};

mod common;
#[path = "schemas/validator.rs"]
#[allow(dead_code)] // the schema suite's validator; this file uses a part of it
mod validator;

/// A spec example's order line as a POS order line (tax given as a percentage in the
/// examples; the POS sends hundredths).
fn pos_line(example: &Value) -> Value {
    let unit = &example["unitInfo"];
    let rate = example["taxRate"]
        .as_u64()
        .unwrap_or_else(|| example["taxPercentage"].as_u64().unwrap() * 100);
    json!({
        "id": example["id"],
        "name": example["name"],
        "quantity": unit["quantity"],
        "unit": unit["quantityUnit"],
        "unitPrice": unit["unitPrice"],
        "discount": example["discount"],
        "totalAmount": example["totalAmount"],
        "totalAmountExcludingTax": example["totalAmountExcludingTax"],
        "totalTaxAmount": example["totalTaxAmount"],
        "taxRate": rate,
    })
}

/// The spec examples' order lines that carry `unitInfo`.
fn example_lines() -> Vec<Value> {
    let epayment = validator::spec("epayment-openapi.yaml");
    let om = validator::spec("order-management-openapi.yaml");
    let socks = epayment.doc()["components"]["examples"]["SocksOrderLine"]["value"].clone();
    let om_lines = om.doc()["paths"]["/v2/{paymentType}/receipts/{orderId}"]["post"]["requestBody"]
        ["content"]["application/json"]["examples"]["ReceiptExample"]["value"]["orderLines"]
        .as_array()
        .expect("Order Management's receipt example")
        .clone();
    std::iter::once(socks)
        .chain(om_lines)
        .filter(|l| l["unitInfo"].is_object())
        .collect()
}

fn order_of(lines: &[Value]) -> Order {
    let total: i64 = lines
        .iter()
        .map(|l| l["totalAmount"].as_i64().unwrap())
        .sum();
    serde_json::from_value(json!({
        "orderId": "spec-example-1",
        "currency": "NOK",
        "lines": lines.iter().map(pos_line).collect::<Vec<_>>(),
        "totalAmount": total,
        "receiptNumber": "0527013501",
    }))
    .expect("the examples as a POS order")
}

/// The examples' weighed (2.5 KG), counted (2 and 3 PCS) and discounted (2500 off 3 × 2500)
/// lines are valid POS lines, and come out in the receipt as the examples have them.
#[test]
fn the_specs_receipt_examples_pass_through_unchanged() {
    let examples = example_lines();
    assert_eq!(examples.len(), 3, "socks, weighed socks, flip-flops");
    assert!(
        examples
            .iter()
            .any(|l| l["unitInfo"]["quantityUnit"] == "KG")
    );
    assert!(examples.iter().any(|l| l["discount"].as_i64() > Some(0)));
    let order = order_of(&examples);
    order
        .validate(Currency::Nok)
        .expect("the spec's own examples are valid");
    let receipt = serde_json::to_value(order.receipt()).unwrap();
    for (ours, theirs) in receipt["orderLines"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&examples)
    {
        for field in [
            "name",
            "id",
            "totalAmount",
            "totalAmountExcludingTax",
            "totalTaxAmount",
        ] {
            assert_eq!(ours[field], theirs[field], "{field}");
        }
        assert_eq!(ours["unitInfo"], theirs["unitInfo"], "unitInfo");
        let discount = theirs["discount"].as_i64().filter(|&d| d > 0);
        assert_eq!(ours["discount"].as_i64().filter(|&d| d > 0), discount);
    }
    validator::spec("epayment-openapi.yaml").validate_component("Receipt", &receipt);
    validator::spec("order-management-openapi.yaml").validate_component("Receipt", &receipt);
}

/// The demo's weighed and discounted order, as the kiosk sends it, fits the schema.
#[test]
fn the_kiosks_receipt_fits_the_official_schema() {
    let order = common::order("receipt-order-1");
    let receipt = serde_json::to_value(order.receipt()).unwrap();
    let lines = receipt["orderLines"].as_array().unwrap();
    assert!(lines.iter().any(|l| l["unitInfo"]["quantityUnit"] == "KG"));
    assert!(lines.iter().any(|l| l["discount"] == 1000));
    validator::spec("epayment-openapi.yaml").validate_component("Receipt", &receipt);
}

async fn post_order(base: &str, body: &Value) -> (u16, Value) {
    let resp = vipps_kiosk::vipps::plain_http_client()
        .post(format!("{base}/v1/orders"))
        .bearer_auth("pos-secret-token")
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A POS API with nobody behind it: refusals come before the lane is asked.
async fn pos_api(hub: std::sync::Arc<Hub>) -> (String, tokio::sync::mpsc::Receiver<pos::Command>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let app = pos::router(
        hub,
        Secret::new("pos-secret-token"),
        pos::OrderRules::new(Currency::Nok),
        tx,
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, rx)
}

#[tokio::test]
async fn the_pos_api_checks_units_prices_and_discounts_naming_the_field() {
    let (base, mut commands) = pos_api(Hub::new()).await;
    let good = serde_json::to_value(common::order("pos-units-0001")).unwrap();
    let apples = good["lines"]
        .as_array()
        .unwrap()
        .iter()
        .position(|l| l["unit"] == "KG")
        .expect("a weighed line");
    let bad = |f: &dyn Fn(&mut Value)| {
        let mut o = good.clone();
        f(&mut o["lines"][apples]);
        o
    };
    for (body, field) in [
        (bad(&|l| l["unit"] = json!("BOX")), "lines[3].unit"),
        (bad(&|l| l["unit"] = json!("PCS")), "lines[3].quantity"),
        (bad(&|l| l["discount"] = json!(-100)), "lines[3].discount"),
        (bad(&|l| l["discount"] = json!(100)), "lines[3].totalAmount"),
        (bad(&|l| l["unitPrice"] = json!(0)), "lines[3].unitPrice"),
        (
            bad(&|l| l["unitPrice"] = json!(3990)),
            "lines[3].totalAmount",
        ),
    ] {
        let (status, answer) = post_order(&base, &body).await;
        assert_eq!(
            (status, answer["field"].as_str()),
            (422, Some(field)),
            "{answer}"
        );
    }
    assert_eq!(apples, 3);
    assert!(
        commands.try_recv().is_err(),
        "nothing refused reached the lane"
    );
    // The good order does reach it, unit and discount intact.
    let post = tokio::spawn(async move { post_order(&base, &good).await });
    let command = tokio::time::timeout(Duration::from_secs(5), commands.recv())
        .await
        .unwrap()
        .unwrap();
    let pos::Command::Submit(order, _) = command else {
        panic!("not a submit");
    };
    assert_eq!(
        order.lines[3].unit,
        Some(vipps_kiosk::vipps::model::QuantityUnit::Kg)
    );
    assert_eq!(order.lines[2].discount, Some(1000));
    post.abort();
}

/// Through a lane to the simulator: the receipt with its units and discount, and the
/// payment's text with the receipt number, are accepted and kept as sent.
#[tokio::test]
async fn the_simulator_accepts_units_discounts_and_the_payment_text() {
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let config = payment::Config {
        payment_description: "Kiwi Majorstuen, kvittering {receipt}".into(),
        ..payment::Config::default()
    };
    let lane = common::RunningLane::start(client, config, None, None);
    lane.submit("sim-units-0001").await;
    lane.wait(
        "created",
        Duration::from_secs(10),
        |s| matches!(s, payment::State::Waiting { payment, .. } if payment.created),
    )
    .await;
    let p = &common::payments_of(&sim, "sim-units-0001")[0];
    assert_eq!(
        p["receipt"]["orderLines"][3]["unitInfo"]["quantityUnit"],
        "KG"
    );
    assert_eq!(p["receipt"]["orderLines"][2]["discount"], 1000);
    validator::spec("epayment-openapi.yaml").validate_component("Receipt", &p["receipt"]);
    let all = reqwest::get(format!("{}/_sim/payments", sim.base_url()))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let ours = all
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["reference"] == p["reference"])
        .unwrap()
        .clone();
    assert_eq!(
        ours["paymentDescription"],
        "Kiwi Majorstuen, kvittering D-1001"
    );
}

#[tokio::test]
async fn health_reports_the_brand_of_the_day() {
    for (today, brand) in [
        (
            Today::Fixed(time::macros::date!(2027 - 01 - 11)),
            "mobilepay",
        ),
        (Today::Fixed(time::macros::date!(2027 - 01 - 12)), "vipps"),
    ] {
        let hub = Hub::new();
        hub.set_brand(Market::Denmark, BrandChoice::Auto, today);
        let (base, _commands) = pos_api(hub).await;
        let health: Value = vipps_kiosk::vipps::plain_http_client()
            .get(format!("{base}/v1/health"))
            .bearer_auth("pos-secret-token")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(health["brand"], brand, "{health}");
    }
}

fn check(config: &str) -> String {
    let dir = std::env::temp_dir().join(format!(
        "kiosk-check-screen-{}-{}",
        std::process::id(),
        config.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, config).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vipps-kiosk"))
        .args(["check", "--config"])
        .arg(&path)
        .env("KIOSK_LOG", "off")
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn check_reports_the_brand_and_the_speech_engine() {
    let out = check(
        "market = \"DK\"\n[demo]\ntoday = \"2027-01-11\"\n\
         [accessibility]\nspeech_command = \"no-such-speech-engine -v {lang}\"\n",
    );
    assert!(
        out.contains("ok      brand MobilePay on 2027-01-11"),
        "{out}"
    );
    assert!(
        out.contains("PROBLEM speech engine no-such-speech-engine not found"),
        "{out}"
    );
    let out = check(
        "market = \"FI\"\n[demo]\ntoday = \"2027-01-12\"\n[accessibility]\nspeech_command = \"sh\"\n",
    );
    assert!(out.contains("ok      brand Vipps on 2027-01-12"), "{out}");
    assert!(out.contains("ok      speech engine /"), "{out}");
}

/// The simulator takes a receipt's units and discounts as Vipps does: the spec's units and a
/// discount of at least 0; anything else is a 400.
#[tokio::test]
async fn the_simulator_refuses_units_and_discounts_the_spec_does_not_allow() {
    let sim = common::simulator().await;
    let base = sim.base_url();
    let http = vipps_kiosk::vipps::plain_http_client();
    let token: Value = common::request_token(&http, &base)
        .await
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    let receipt = serde_json::to_value(common::order("sim-receipt-1").receipt()).unwrap();
    let create = |reference: &str, receipt: &Value| {
        http.post(format!("{base}/epayment/v1/payments"))
            .bearer_auth(&token)
            .header("Ocp-Apim-Subscription-Key", "sub")
            .header("Merchant-Serial-Number", "123456")
            .header("Idempotency-Key", format!("k-{reference}"))
            .json(&json!({
                "amount": {"currency": "NOK", "value": 35300},
                "paymentMethod": {"type": "WALLET"},
                "reference": reference,
                "userFlow": "QR",
                "customerInteraction": "CUSTOMER_PRESENT",
                "receipt": receipt,
            }))
            .send()
    };
    assert_eq!(
        create("sim-receipt-0001", &receipt).await.unwrap().status(),
        201
    );
    let mut bad_unit = receipt.clone();
    bad_unit["orderLines"][3]["unitInfo"]["quantityUnit"] = json!("BOX");
    assert_eq!(
        create("sim-receipt-0002", &bad_unit)
            .await
            .unwrap()
            .status(),
        400
    );
    let mut bad_discount = receipt.clone();
    bad_discount["orderLines"][2]["discount"] = json!(-1);
    assert_eq!(
        create("sim-receipt-0003", &bad_discount)
            .await
            .unwrap()
            .status(),
        400
    );
}
