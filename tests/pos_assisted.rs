#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The cashier hands the kiosk the customer (a personal QR or a phone number): with the order,
//! pushed at once without a one-time QR, or for the order on screen, by the same rule as a
//! scan. The real router, payment machine, journal, Vipps client and simulator, run by
//! `lane::run`; the simulator's books, the POS's records (GET and SSE) and the journal checked.

use serde_json::{Value, json};
use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use vipps_kiosk::{
    lane::Lane as KioskLane,
    payment,
    pos::Hub,
    sim::{Simulator, backend::PhoneAction},
};

mod common;

use common::pos::TOKEN;

struct Lane {
    sim: Simulator,
    base: String,
    http: reqwest::Client,
    journal: PathBuf,
}

async fn lane(name: &str) -> Lane {
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let hub = Hub::new();
    hub.set_client(client.clone());
    let dir = std::env::temp_dir().join(format!("kiosk-assisted-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("journal.jsonl");
    let config = payment::Config {
        poll_interval: Duration::from_millis(50),
        approved_display: Duration::from_millis(200),
        failed_display: Duration::from_millis(200),
        ..payment::Config::default()
    };
    let kiosk = Arc::new(Mutex::new(
        KioskLane::open(config, &journal, Some(hub.clone())).expect("journal opens"),
    ));
    let (base, _scans) = common::pos::serve(kiosk, hub, client).await;
    Lane {
        sim,
        base,
        http: vipps_kiosk::vipps::plain_http_client(),
        journal,
    }
}

impl Lane {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn wait_status(&self, id: &str, want: &str) -> Value {
        let start = Instant::now();
        loop {
            let r = self
                .http
                .get(format!("{}/v1/orders/{id}", self.base))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap();
            let v: Value = r.json().await.unwrap_or(Value::Null);
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

    /// The simulator's payment `n` (1-based) of `order_id`, once it exists.
    async fn payment(&self, order_id: &str, n: usize) -> Value {
        let start = Instant::now();
        loop {
            if let Some(p) = common::payments_of(&self.sim, order_id).get(n - 1) {
                return p.clone();
            }
            assert!(start.elapsed() < Duration::from_secs(5), "no payment {n}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn journal_text(&self) -> String {
        std::fs::read_to_string(&self.journal).unwrap_or_default()
    }

    /// Waits for the journal to be compacted after the order ended (the push's customer
    /// goes with it).
    async fn journal_without(&self, secret: &str) {
        let start = Instant::now();
        while self.journal_text().contains(secret) {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{secret:?} stays on disk"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn order_with(id: &str, customer: Value) -> Value {
    let mut o = serde_json::to_value(common::order(id)).unwrap();
    o["customer"] = customer;
    o
}

#[tokio::test]
async fn an_order_with_the_customers_phone_number_is_pushed_at_once_and_captured() {
    let lane = lane("phone").await;
    let (status, created) = lane
        .post(
            "/v1/orders",
            order_with("assist-phone-01", json!({"phoneNumber": "4741234567"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let push = lane.payment("assist-phone-01", 1).await;
    assert_eq!(push["userFlow"], "PUSH_MESSAGE", "no one-time QR first");
    assert_eq!(push["customer"]["phoneNumber"], "4741234567");
    let scanned = lane.wait_status("assist-phone-01", "scanned").await;
    assert_eq!(scanned["method"], "phoneNumber");
    // On disk while the payment is under way (recovery needs it), never in clear elsewhere.
    assert!(lane.journal_text().contains("4741234567"));
    let reference = push["reference"].as_str().unwrap().to_string();
    assert!(lane.sim.phone(&reference, PhoneAction::Approve));
    let done = lane.wait_status("assist-phone-01", "captured").await;
    assert_eq!(done["capturedAmount"], 35300);
    assert_eq!(done["method"], "phoneNumber");
    assert_eq!(common::payments_of(&lane.sim, "assist-phone-01").len(), 1);
    lane.journal_without("4741234567").await;
}

#[tokio::test]
async fn an_order_with_the_customers_personal_qr_is_pushed_at_once_and_captured() {
    let lane = lane("qr").await;
    let (status, _) = lane
        .post(
            "/v1/orders",
            order_with("assist-qr-0001", json!({"personalQr": common::PERSONAL_QR})),
        )
        .await;
    assert_eq!(status, 201);
    let push = lane.payment("assist-qr-0001", 1).await;
    assert_eq!(push["customer"]["personalQr"], common::PERSONAL_QR);
    assert_eq!(
        lane.wait_status("assist-qr-0001", "scanned").await["method"],
        "personalQr"
    );
    assert!(
        lane.sim
            .phone(push["reference"].as_str().unwrap(), PhoneAction::Approve)
    );
    lane.wait_status("assist-qr-0001", "captured").await;
    lane.journal_without(common::PERSONAL_QR).await;
}

#[tokio::test]
async fn the_cashier_hands_over_the_customer_of_the_order_on_screen_first_wins() {
    let lane = lane("handover").await;
    let (status, _) = lane
        .post(
            "/v1/orders",
            serde_json::to_value(common::order("assist-hand-01")).unwrap(),
        )
        .await;
    assert_eq!(status, 201);
    let qr = lane.payment("assist-hand-01", 1).await;
    assert_eq!(qr["userFlow"], "QR");
    let (status, record) = lane
        .post(
            "/v1/orders/assist-hand-01/customer",
            json!({"personalQr": common::PERSONAL_QR}),
        )
        .await;
    assert_eq!(status, 202, "{record}");
    let push = lane.payment("assist-hand-01", 2).await;
    assert_eq!(push["customer"]["personalQr"], common::PERSONAL_QR);
    let qr_now = &common::payments_of(&lane.sim, "assist-hand-01")[0];
    assert_eq!(
        qr_now["state"], "TERMINATED",
        "the one-time QR was cancelled first"
    );
    lane.wait_status("assist-hand-01", "scanned").await;
    // The same customer again changes nothing; another one is refused while it is under way.
    let (again, _) = lane
        .post(
            "/v1/orders/assist-hand-01/customer",
            json!({"personalQr": common::PERSONAL_QR}),
        )
        .await;
    assert_eq!(again, 202);
    let (other, body) = lane
        .post(
            "/v1/orders/assist-hand-01/customer",
            json!({"phoneNumber": "4741234567"}),
        )
        .await;
    assert_eq!(other, 409, "{body}");
    assert!(
        lane.sim
            .phone(push["reference"].as_str().unwrap(), PhoneAction::Approve)
    );
    lane.wait_status("assist-hand-01", "captured").await;
    // Once paid (or ended): 409.
    let (late, body) = lane
        .post(
            "/v1/orders/assist-hand-01/customer",
            json!({"phoneNumber": "4741234567"}),
        )
        .await;
    assert_eq!(late, 409, "{body}");
    assert_eq!(common::payments_of(&lane.sim, "assist-hand-01").len(), 2);
    common::assert_nothing_left_authorized(&common::payments_of(&lane.sim, "assist-hand-01"));
}

#[tokio::test]
async fn a_phone_number_handed_over_meeting_an_approved_qr_pays_once_with_the_qr() {
    let lane = lane("race").await;
    lane.post(
        "/v1/orders",
        serde_json::to_value(common::order("assist-race-01")).unwrap(),
    )
    .await;
    let qr = lane.payment("assist-race-01", 1).await;
    lane.wait_status("assist-race-01", "waiting").await;
    // The customer approves the QR just as the cashier hands over their number.
    assert!(
        lane.sim
            .phone(qr["reference"].as_str().unwrap(), PhoneAction::Approve)
    );
    let (status, _) = lane
        .post(
            "/v1/orders/assist-race-01/customer",
            json!({"phoneNumber": "4741234567"}),
        )
        .await;
    assert!(status == 202 || status == 409, "{status}");
    let done = lane.wait_status("assist-race-01", "captured").await;
    assert_eq!(done["method"], "oneTimeQr");
    let payments = common::payments_of(&lane.sim, "assist-race-01");
    assert_eq!(payments.len(), 1, "no push once the QR was paid");
}

#[tokio::test]
async fn a_malformed_customer_is_refused_naming_the_field() {
    let lane = lane("bad").await;
    for (customer, field) in [
        (json!({"phoneNumber": "4721234567"}), "customer.phoneNumber"),
        (
            json!({"phoneNumber": "+4741234567"}),
            "customer.phoneNumber",
        ),
        (
            json!({"personalQr": "7038010055680"}),
            "customer.personalQr",
        ),
        (
            json!({"personalQr": common::PERSONAL_QR, "phoneNumber": "4741234567"}),
            "customer",
        ),
        (json!({}), "customer"),
        (json!({"email": "a@b.no"}), "customer.email"),
    ] {
        let (status, body) = lane
            .post("/v1/orders", order_with("assist-bad-001", customer.clone()))
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (422, Some(field)),
            "{customer}: {body}"
        );
    }
    assert!(lane.sim.payments().is_empty(), "nothing was sent");
    // The same rules for an order on screen, and 404 for an order the lane does not know.
    lane.post(
        "/v1/orders",
        serde_json::to_value(common::order("assist-bad-002")).unwrap(),
    )
    .await;
    let (status, body) = lane
        .post(
            "/v1/orders/assist-bad-002/customer",
            json!({"phoneNumber": "12345"}),
        )
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("phoneNumber")));
    let (status, body) = lane
        .post("/v1/orders/assist-bad-002/customer", json!({}))
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("(body)")));
    let (status, _) = lane
        .post(
            "/v1/orders/no-such-order-1/customer",
            json!({"phoneNumber": "4741234567"}),
        )
        .await;
    assert_eq!(status, 404);
    // An age limit out of range names its line.
    let mut o = serde_json::to_value(common::order("assist-bad-003")).unwrap();
    o["lines"][0]["minimumAge"] = json!(101);
    let (status, body) = lane.post("/v1/orders", o.clone()).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("lines[0].minimumAge"))
    );
    o["lines"][0]["minimumAge"] = json!(17.5);
    let (status, body) = lane.post("/v1/orders", o).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("lines[0].minimumAge"))
    );
}

#[tokio::test]
async fn an_under_age_customer_handed_over_gets_the_age_limit_reason() {
    let lane = lane("age").await;
    let mut o = order_with("assist-age-001", json!({"phoneNumber": "4791000016"}));
    o["lines"][0]["minimumAge"] = json!(18);
    let (status, body) = lane.post("/v1/orders", o).await;
    assert_eq!(status, 201, "{body}");
    let failed = lane.wait_status("assist-age-001", "failed").await;
    assert_eq!(failed["reason"], "ageLimit");
    let push = &common::payments_of(&lane.sim, "assist-age-001");
    assert!(push.is_empty(), "Vipps refused it at creation: {push:?}");
}
