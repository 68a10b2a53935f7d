#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The POS API at the lane's edges: a journal that cannot record (503 with the reason, and
//! nothing taken), an order id the journal remembers after a restart (422), and health that
//! answers while the Vipps client waits for a token.

use serde_json::{Value, json};
use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};
use vipps_kiosk::{
    lane::{
        self, Lane,
        journal::{Journal, Record, TestDisk},
    },
    payment::{self, OrderStatus, OrderUpdate},
    pos::Hub,
    vipps::Client,
};

mod common;

use common::pos::TOKEN;

/// A lane on `kiosk`, run by `lane::run` against `client`, behind the POS API: its address.
async fn serve(kiosk: Lane, hub: Arc<Hub>, client: Client) -> String {
    common::pos::serve(Arc::new(Mutex::new(kiosk)), hub, client)
        .await
        .0
}

fn config() -> payment::Config {
    payment::Config {
        poll_interval: Duration::from_millis(50),
        ..payment::Config::default()
    }
}

async fn post_order(base: &str, id: &str) -> (u16, Value) {
    let r = vipps_kiosk::vipps::plain_http_client()
        .post(format!("{base}/v1/orders"))
        .bearer_auth(TOKEN)
        .json(&serde_json::to_value(common::order(id)).unwrap())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn get(base: &str, path: &str) -> (u16, Value) {
    let r = vipps_kiosk::vipps::plain_http_client()
        .get(format!("{base}{path}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn temp_journal(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vipps-kiosk-edges-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("journal.jsonl")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_the_journal_cannot_record_is_answered_503_with_the_reason_and_not_taken() {
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let path = temp_journal("503");
    let (disk, hub) = (Arc::new(TestDisk::default()), Hub::new());
    let kiosk = Lane::open_on(config(), &path, disk.clone(), Some(hub.clone())).unwrap();
    let base = serve(kiosk, hub, client).await;

    disk.set_room(0);
    let (status, body) = post_order(&base, "edge-0001").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["reason"], "journalFailing", "{body}");
    let journal = body["journal"].as_str().unwrap_or_default();
    assert!(journal.contains("No space left"), "{body}");
    assert_eq!(get(&base, "/v1/orders/edge-0001").await.0, 404, "not taken");
    let (_, health) = get(&base, "/v1/health").await;
    assert!(
        health["journal"]
            .as_str()
            .unwrap_or_default()
            .starts_with("failing"),
        "{health}"
    );

    disk.set_room(u64::MAX);
    let (status, body) = post_order(&base, "edge-0001").await;
    assert_eq!(
        status, 201,
        "the same order, once the disk has room: {body}"
    );
    assert_eq!(get(&base, "/v1/health").await.1["journal"], "ok");
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// A journal that held `first` and then more finished orders than it keeps.
fn journal_that_retired(path: &Path, first: &str) {
    let (mut j, _) = Journal::open(path).unwrap();
    let ids = std::iter::once(first.to_string())
        .chain((0..lane::journal::KEEP_FINISHED).map(|i| format!("later-{i}")));
    let mut records = Vec::new();
    for id in ids {
        let order = common::order(&id);
        records.push(Record::Status {
            update: OrderUpdate {
                order_id: id.clone(),
                status: OrderStatus::Captured,
                reference: Some(format!("{id}-1")),
                method: None,
                captured: Some(order.total()),
                reason: None,
            },
        });
        records.insert(records.len() - 1, Record::Order { order });
    }
    j.append(&records).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_id_the_journal_remembers_is_refused_after_a_restart() {
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let path = temp_journal("reused");
    journal_that_retired(&path, "edge-0002");
    let hub = Hub::new();
    let kiosk = Lane::open(config(), &path, Some(hub.clone())).unwrap();
    assert!(
        hub.get("edge-0002").is_none(),
        "too old for the POS's records"
    );
    let base = serve(kiosk, hub, client).await;
    let (status, body) = post_order(&base, "edge-0002").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "orderId", "{body}");
    // A recent one is refused from the records, a new one taken.
    assert_eq!(post_order(&base, "later-7").await.0, 422);
    assert_eq!(post_order(&base, "edge-0003").await.0, 201);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_while_a_token_is_being_fetched() {
    let sim = common::simulator().await;
    let http = vipps_kiosk::vipps::plain_http_client();
    let rule = json!({"rules": [{"endpoint": "token", "latencyMs": 3000}]});
    let set = http
        .post(format!("{}/_sim/faults", sim.base_url()))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert!(set.status().is_success());
    let client = common::client_for(&sim.base_url());
    let hub = Hub::new();
    hub.set_client(client.clone());
    let base = serve(Lane::new(config(), Some(hub.clone())), hub, client.clone()).await;
    let fetching = tokio::spawn(async move { client.access_token().await });
    // Let the fetch get under way (it then takes 3 s at the simulator).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!fetching.is_finished());
    let (status, health) = get(&base, "/v1/health").await;
    assert_eq!(status, 200);
    assert!(
        !fetching.is_finished(),
        "health answered only once the token came"
    );
    assert_eq!(health["tokenExpiresInS"], Value::Null, "{health}");
    // The fetch itself carries on and its token is reported once it is there.
    assert!(fetching.await.unwrap().is_ok());
    let (_, health) = get(&base, "/v1/health").await;
    assert!(health["tokenExpiresInS"].as_u64().is_some(), "{health}");
}
