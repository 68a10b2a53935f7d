#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The POS API driving a whole lane: the real router, payment machine, Vipps client and
//! simulator, run by `lane::run` (the headless mode's loop; the window drives the same
//! `Lane`). Order in, scan, approval in the simulator, `captured` out by GET and SSE;
//! and every bad input gets its clear 4xx.

use serde_json::{Value, json};
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::mpsc;
use vipps_kiosk::{
    lane::{Lane as KioskLane, ScanEvent},
    payment,
    pos::{self, Hub},
    scan::RawScan,
    sim::{Simulator, backend::PhoneAction},
};

mod common;

use common::pos::TOKEN;

struct Lane {
    sim: Simulator,
    base: String,
    http: reqwest::Client,
    /// Scans go to the lane loop through here, as from the scanner.
    scans: mpsc::Sender<ScanEvent>,
    lane: Arc<Mutex<KioskLane>>,
}

async fn lane() -> Lane {
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let hub = Hub::new();
    hub.set_client(client.clone());
    let kiosk = Arc::new(Mutex::new(KioskLane::new(
        payment::Config {
            poll_interval: Duration::from_millis(50),
            approved_display: Duration::from_millis(300),
            failed_display: Duration::from_millis(300),
            ..payment::Config::default()
        },
        Some(hub.clone()),
    )));
    let (base, scans_tx) = common::pos::serve(kiosk.clone(), hub, client).await;
    Lane {
        sim,
        base,
        http: vipps_kiosk::vipps::plain_http_client(),
        scans: scans_tx,
        lane: kiosk,
    }
}

fn order_json(id: &str) -> Value {
    serde_json::to_value(common::order(id)).unwrap()
}

impl Lane {
    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
    async fn wait_status(&self, id: &str, want: &str) -> Value {
        let start = Instant::now();
        loop {
            let (_, v) = self.get(&format!("/v1/orders/{id}")).await;
            if v["status"] == want {
                return v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{id} never became {want}: {v}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    fn current_reference(&self) -> Option<String> {
        self.lane
            .lock()
            .unwrap()
            .machine()
            .payment()
            .filter(|p| p.created)
            .map(|p| p.reference.clone())
    }
    async fn wait_reference(&self, suffix: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(r) = self.current_reference().filter(|r| r.ends_with(suffix)) {
                return r;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "no payment {suffix}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test]
async fn a_whole_lane_order_scan_approve_captured_by_get_and_sse() {
    let lane = lane().await;
    let mut events = lane
        .http
        .get(format!("{}/v1/events", lane.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);

    let r = lane
        .post("/v1/orders")
        .json(&order_json("pos-order-0001"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["status"], "waiting");
    assert_eq!(created["totalAmount"], 35300);

    lane.wait_reference("-1").await;
    lane.scans
        .send(ScanEvent::Scan(RawScan(common::PERSONAL_QR.into())))
        .await
        .unwrap();
    let push = lane.wait_reference("-2").await;
    let scanned = lane.wait_status("pos-order-0001", "scanned").await;
    assert_eq!(scanned["method"], "personalQr");
    assert!(lane.sim.phone(&push, PhoneAction::Approve));
    let done = lane.wait_status("pos-order-0001", "captured").await;
    assert_eq!(done["capturedAmount"], 35300);
    assert_eq!(
        done["references"],
        json!(["pos-order-0001-1", "pos-order-0001-2"])
    );

    // The same story arrived as server-sent events, in order.
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while !seen.contains("\"captured\"") && Instant::now() < deadline {
        if let Ok(Ok(Some(chunk))) =
            tokio::time::timeout(Duration::from_millis(500), events.chunk()).await
        {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    let statuses: Vec<&str> = ["\"waiting\"", "\"scanned\"", "\"approved\"", "\"captured\""]
        .into_iter()
        .filter(|s| seen.contains(*s))
        .collect();
    assert_eq!(statuses.len(), 4, "events: {seen}");
    for status in ["\"waiting\"", "\"scanned\"", "\"approved\"", "\"captured\""] {
        assert_eq!(
            seen.matches(&format!("\"status\":{status}")).count(),
            1,
            "{status} once: {seen}"
        );
    }
    let pos = |s: &str| seen.find(s).unwrap();
    assert!(pos("\"scanned\"") < pos("\"approved\"") && pos("\"approved\"") < pos("\"captured\""));
    assert!(seen.contains("event: order"));

    // Exactly one captured payment in Vipps' books.
    let captured: Vec<_> = lane
        .sim
        .payments()
        .into_iter()
        .filter(|p| p["aggregate"]["capturedAmount"]["value"].as_i64() > Some(0))
        .collect();
    assert_eq!(captured.len(), 1);
}

#[tokio::test]
async fn staff_refund_a_captured_order_once_per_refund_id() {
    let lane = lane().await;
    let r = lane
        .post("/v1/orders")
        .json(&order_json("pos-refund-0001"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // Not captured yet: nothing to refund.
    let early = lane
        .post("/v1/orders/pos-refund-0001/refund")
        .json(&json!({"amount": 100, "refundId": "r-early"}))
        .send()
        .await
        .unwrap();
    assert_eq!(early.status(), 409);
    let qr = lane.wait_reference("-1").await;
    assert!(lane.sim.phone(&qr, PhoneAction::Approve));
    lane.wait_status("pos-refund-0001", "captured").await;

    let refund = |body: Value| {
        lane.post("/v1/orders/pos-refund-0001/refund")
            .json(&body)
            .send()
    };
    let first = refund(json!({"amount": 10000, "refundId": "r-1"}))
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let record: Value = first.json().await.unwrap();
    assert_eq!(record["refundedAmount"], 10000);
    // The POS did not hear the answer and sends it again: no second refund.
    let again = refund(json!({"amount": 10000, "refundId": "r-1"}))
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    let sim_view = lane
        .sim
        .payments()
        .into_iter()
        .find(|p| p["reference"] == qr.as_str())
        .unwrap();
    assert_eq!(sim_view["aggregate"]["refundedAmount"]["value"], 10000);
    // More than is left, bad ids and missing fields: 422 naming the field.
    for (body, field) in [
        (json!({"amount": 30000, "refundId": "r-2"}), "amount"),
        (json!({"amount": 0, "refundId": "r-3"}), "amount"),
        (json!({"amount": 100, "refundId": "no spaces"}), "refundId"),
        (json!({"amount": 100}), "refundId"),
    ] {
        let r = refund(body.clone()).await.unwrap();
        assert_eq!(r.status(), 422, "{body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["field"], field, "{body}: {v}");
    }
    // The rest, in a second refund.
    let rest = refund(json!({"amount": 25300, "refundId": "r-4"}))
        .await
        .unwrap();
    assert_eq!(rest.status(), 200);
    let record: Value = rest.json().await.unwrap();
    assert_eq!(record["refundedAmount"], 35300);
    let unknown = lane
        .post("/v1/orders/pos-nobody-0001/refund")
        .json(&json!({"amount": 1, "refundId": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn cancel_withdraws_and_reports_cancelled() {
    let lane = lane().await;
    assert_eq!(
        lane.post("/v1/orders")
            .json(&order_json("pos-cancel-0001"))
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    lane.wait_reference("-1").await;
    let r = lane
        .post("/v1/orders/pos-cancel-0001/cancel")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    lane.wait_status("pos-cancel-0001", "cancelled").await;
    assert_eq!(lane.sim.payments()[0]["state"], "TERMINATED");
    assert_eq!(
        lane.post("/v1/orders/pos-cancel-0001/cancel")
            .send()
            .await
            .unwrap()
            .status(),
        409,
        "already ended"
    );
    assert_eq!(
        lane.post("/v1/orders/nope-0000001/cancel")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn a_paid_order_cannot_be_withdrawn() {
    let lane = lane().await;
    lane.post("/v1/orders")
        .json(&order_json("pos-paid-0001"))
        .send()
        .await
        .unwrap();
    let qr = lane.wait_reference("-1").await;
    assert!(lane.sim.phone(&qr, PhoneAction::Approve));
    lane.wait_status("pos-paid-0001", "captured").await;
    let r = lane
        .post("/v1/orders/pos-paid-0001/cancel")
        .send()
        .await
        .unwrap();
    assert!(r.status() == 409, "{}", r.status());
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx() {
    let lane = lane().await;
    // No token, a wrong token.
    let r = lane
        .http
        .post(format!("{}/v1/orders", lane.base))
        .json(&order_json("pos-auth-00001"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = lane
        .http
        .get(format!("{}/v1/health", lane.base))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Malformed JSON.
    let r = lane
        .post("/v1/orders")
        .header("content-type", "application/json")
        .body("{\"orderId\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Too large.
    let r = lane
        .post("/v1/orders")
        .body(vec![b' '; pos::MAX_BODY_BYTES + 10])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    let field_of = |r: Value| r["field"].as_str().unwrap_or_default().to_string();
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut o = order_json("pos-bad-000001");
    o["totalAmount"] = json!(35301);
    cases.push((o, "totalAmount"));
    let mut o = order_json("pos-bad-000002");
    o["lines"][0]["totalTaxAmount"] = json!(100);
    o["lines"][0]["totalAmountExcludingTax"] = json!(17880);
    cases.push((o, "lines[0].totalTaxAmount"));
    let mut o = order_json("pos-bad-000003");
    o["lines"][1]["unitPrice"] = json!(-5);
    cases.push((o, "lines[1].unitPrice"));
    let mut o = order_json("pos-bad-000004");
    o["currency"] = json!("DKK");
    cases.push((o, "currency"));
    let mut o = order_json("pos-bad-000005");
    o["lines"][0]["name"] = json!("x".repeat(101));
    cases.push((o, "lines[0].name"));
    let mut o = order_json("pos-bad-000006");
    let line = o["lines"][0].clone();
    o["lines"] = json!(vec![line; 501]);
    cases.push((o, "lines"));
    cases.push((order_json("bad id!"), "orderId"));
    let mut o = order_json("pos-bad-000008");
    o["lines"][0]["taxRate"] = json!("25%");
    cases.push((o, "lines[0].taxRate"));
    let mut o = order_json("pos-bad-000009");
    o.as_object_mut().unwrap().remove("lines");
    cases.push((o, "lines"));
    for (body, field) in cases {
        let r = lane.post("/v1/orders").json(&body).send().await.unwrap();
        assert_eq!(r.status(), 422, "{field}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(field_of(v.clone()), field, "{v}");
        assert!(!v["reason"].as_str().unwrap_or_default().is_empty());
    }
    assert!(lane.sim.payments().is_empty(), "no bad order reached Vipps");

    // One order at a time; an orderId only once.
    assert_eq!(
        lane.post("/v1/orders")
            .json(&order_json("pos-first-0001"))
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(
        lane.post("/v1/orders")
            .json(&order_json("pos-second-001"))
            .send()
            .await
            .unwrap()
            .status(),
        409
    );
    let r = lane
        .post("/v1/orders")
        .json(&order_json("pos-first-0001"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(lane.get("/v1/orders/unknown-0001").await.0, 404);

    let (status, health) = lane.get("/v1/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    // A payment was created above, so a token was fetched: about an hour left.
    let left = health["tokenExpiresInS"].as_u64().expect("token expiry");
    assert!((3500..=3600).contains(&left), "{health}");
}
