#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop the benchmark loudly
//! Local overhead, measured where the requests reach the wire (a relay in front of the
//! simulator on loopback notes when each request line crosses it): an order from the POS to its
//! create request, and a personal QR from the scanner to the requests it causes — first the
//! cancel of the on-screen QR (money rule 1), then, once that is answered, the push payment's
//! create. The simulator's own answer time is printed beside them for comparison. Measured
//! twice: without a journal, and with one (each step `fsync`ed before its requests go out, as
//! on a lane), with the ratio.
//!
//! `cargo bench --bench scan_to_wire [-- N]` (N payments, default 60).

mod common;

use common::{WireTap, ms, pct, summary};
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use vipps_kiosk::{
    lane::{self, Lane, ScanEvent},
    payment::{self, State},
    pos::{Command, Reply},
    scan::RawScan,
    sim::{SimConfig, Simulator, backend::PhoneAction},
    vipps::{self, model::Currency},
};

const PERSONAL_QR: &str = "https://qr.vipps.no/p/AbC-123_xyz?v=2";

#[derive(Default)]
struct Figures {
    order_to_create: Vec<Duration>,
    scan_to_cancel: Vec<Duration>,
    cancel_answer_to_create: Vec<Duration>,
    scan_to_create: Vec<Duration>,
    sim_answer: Vec<Duration>,
}

async fn measure(n: usize, journal: Option<&std::path::Path>) -> Figures {
    let sim = Simulator::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        SimConfig {
            currency: Some(Currency::Nok),
            ..SimConfig::default()
        },
    )
    .await
    .expect("simulator");
    let upstream: SocketAddr = sim
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let tap = WireTap::start(upstream).await;
    let client = vipps::Client::for_simulator(&tap.url()).expect("client");
    client.access_token().await.expect("a token first");
    let config = payment::Config {
        approved_display: Duration::from_millis(20),
        ..payment::Config::default()
    };
    let lane = match journal {
        Some(path) => Lane::open(config, path, None).expect("journal"),
        None => Lane::new(config, None),
    };
    let kiosk = Arc::new(Mutex::new(lane));
    let (feed, inputs) = lane::Inputs::channel();
    let run = kiosk.clone();
    // The headless loop's tick.
    tokio::spawn(async move { lane::run(run, client, inputs, Duration::from_millis(100)).await });
    let state = || {
        kiosk
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .machine()
            .state()
            .clone()
    };
    let orders = vipps_kiosk::app::demo::orders(Currency::Nok, "bench").expect("orders");
    let mut f = Figures::default();
    for i in 0..n {
        let id = format!("wire-{i:04}");
        let order = payment::Order {
            order_id: id.clone(),
            ..orders[0].clone()
        };
        let (reply, rx) = Reply::new();
        let submitted = Instant::now();
        feed.commands
            .send(Command::Submit(Box::new(order), reply))
            .await
            .expect("lane runs");
        let create = tap.wait("POST /epayment/v1/payments HTTP", submitted).await;
        f.order_to_create.push(create.at - submitted);
        let _ = rx.await;
        while !matches!(state(), State::Waiting { payment, .. } if payment.created) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        scan(&tap, &feed, &id, &mut f).await;
        while !matches!(state(), State::Scanned { payment, .. } if payment.created) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(sim.phone(&format!("{id}-2"), PhoneAction::Approve));
        while !matches!(state(), State::Idle) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    f
}

/// A personal QR scanned over the live on-screen QR: its requests on the wire.
async fn scan(tap: &WireTap, feed: &lane::Feed, id: &str, f: &mut Figures) {
    let scanned = Instant::now();
    feed.scans
        .send(ScanEvent::Scan(RawScan(PERSONAL_QR.into())))
        .await
        .expect("lane runs");
    let cancel = tap
        .wait(
            &format!("POST /epayment/v1/payments/{id}-1/cancel"),
            scanned,
        )
        .await;
    let answered = tap.wait_answer(&cancel).await;
    let create = tap.wait("POST /epayment/v1/payments HTTP", scanned).await;
    f.scan_to_cancel.push(cancel.at - scanned);
    f.sim_answer.push(answered.at - cancel.at);
    f.cancel_answer_to_create.push(create.at - answered.at);
    f.scan_to_create.push(create.at - scanned);
}

fn main() {
    vipps::install_crypto_provider();
    let n = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(60usize);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("kiosk-bench-wire-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("journal.jsonl");
    let mut bare = rt.block_on(measure(n, None));
    let mut journaled = rt.block_on(measure(n, Some(&journal)));
    let _ = std::fs::remove_dir_all(&dir);
    println!("scan → request on the wire, {n} payments each, simulator on loopback behind a relay");
    for (name, f) in [
        ("no journal", &mut bare),
        ("journal (fsync)", &mut journaled),
    ] {
        println!(" {name}:");
        println!(
            "{}",
            summary("POS order → create on the wire", &mut f.order_to_create)
        );
        println!(
            "{}",
            summary(
                "scan → cancel of on-screen QR on the wire",
                &mut f.scan_to_cancel
            )
        );
        println!(
            "{}",
            summary(
                "cancel answered → push create on the wire",
                &mut f.cancel_answer_to_create
            )
        );
        println!(
            "{}",
            summary(
                "scan → push create on the wire (all)",
                &mut f.scan_to_create
            )
        );
        println!(
            "{}",
            summary("the simulator answering the cancel", &mut f.sim_answer)
        );
    }
    let median = |v: &[Duration]| ms(pct(v, 0.5));
    println!(
        "  with / without the journal: order → create {:.1}×, scan → push create {:.1}× (medians)",
        median(&journaled.order_to_create) / median(&bare.order_to_create),
        median(&journaled.scan_to_create) / median(&bare.scan_to_create),
    );
}
