#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop the benchmark loudly
//! One simulator serving 50 lanes paying at once: each lane (the headless loop, its own
//! client) takes one order after another, the simulator approves each payment 1.5 s after its
//! creation, the lane captures it. Prints payments a second, and how far each lane's reads of a
//! payment drift from its 1 s poll interval (measured on the wire, by a relay in front of the
//! simulator): the median, p95 and worst gap between two reads, and the lanes whose p95 gap
//! exceeds 1.5× the interval (falling behind).
//!
//! `cargo bench --bench sim_lanes [-- LANES [SECONDS]]` (default 50 lanes, 30 s).

mod common;

use common::{WireTap, ms, pct, summary};
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use vipps_kiosk::{
    lane::{self, Lane},
    payment::{self, State},
    pos::{Command, Reply},
    sim::{SimConfig, Simulator},
    vipps::{self, model::Currency},
};

const POLL: Duration = Duration::from_secs(1);

async fn one_lane(
    lane_no: usize,
    client: vipps::Client,
    until: Instant,
    paid: Arc<AtomicUsize>,
    took: Arc<Mutex<Vec<Duration>>>,
) {
    let kiosk = Arc::new(Mutex::new(Lane::new(
        payment::Config {
            poll_interval: POLL,
            approved_display: Duration::from_millis(100),
            ..payment::Config::default()
        },
        None,
    )));
    let (feed, inputs) = lane::Inputs::channel();
    let run = kiosk.clone();
    tokio::spawn(async move { lane::run(run, client, inputs, Duration::from_millis(100)).await });
    let state = || {
        kiosk
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .machine()
            .state()
            .clone()
    };
    let orders = vipps_kiosk::app::demo::orders(Currency::Nok, "lanes").expect("orders");
    let mut i = 0;
    while Instant::now() < until {
        let order = payment::Order {
            order_id: format!("lane{lane_no:02}-order-{i:04}"),
            ..orders[i % orders.len()].clone()
        };
        i += 1;
        let (reply, rx) = Reply::new();
        let start = Instant::now();
        feed.commands
            .send(Command::Submit(Box::new(order), reply))
            .await
            .expect("lane runs");
        let _ = rx.await;
        while !matches!(state(), State::Approved { .. }) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        took.lock().unwrap().push(start.elapsed());
        paid.fetch_add(1, Ordering::SeqCst);
        while !matches!(state(), State::Idle) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn main() {
    vipps::install_crypto_provider();
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let lanes = args.first().copied().unwrap_or(50) as usize;
    let seconds = args.get(1).copied().unwrap_or(30);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (paid, mut took, crossings, elapsed) = rt.block_on(async {
        let sim = Simulator::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            SimConfig {
                currency: Some(Currency::Nok),
                auto_approve_after: Some(Duration::from_millis(1500)),
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
        let paid = Arc::new(AtomicUsize::new(0));
        let took = Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        let until = start + Duration::from_secs(seconds);
        let mut all = Vec::new();
        for n in 0..lanes {
            let client = vipps::Client::for_simulator(&tap.url()).expect("client");
            all.push(tokio::spawn(one_lane(
                n,
                client,
                until,
                paid.clone(),
                took.clone(),
            )));
        }
        for lane in all {
            lane.await.expect("lane finished");
        }
        let elapsed = start.elapsed();
        let took = took.lock().unwrap().clone();
        (paid.load(Ordering::SeqCst), took, tap.crossings(), elapsed)
    });
    let (mut gaps, lane_gaps, behind) = read_gaps(&crossings);
    let requests = crossings
        .iter()
        .filter(|c| !c.line.starts_with("HTTP/"))
        .count();
    println!(
        "{lanes} lanes paying at once against one simulator for {:.0} s (approval 1.5 s after create, poll {POLL:?})",
        elapsed.as_secs_f64()
    );
    println!(
        "  {paid} payments captured: {:.1} payments a second; {:.0} requests a second at the simulator",
        paid as f64 / elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64()
    );
    println!(
        "{}",
        summary("order in → Approved (incl. the 1.5 s approval)", &mut took)
    );
    println!(
        "{}",
        summary("gap between two reads of a payment", &mut gaps)
    );
    println!(
        "  lanes falling behind (p95 read gap > {:.0} ms): {behind} of {}; worst gap {:.0} ms = {:.2}× the interval",
        ms(POLL.mul_f64(1.5)),
        lane_gaps.len(),
        ms(gaps.last().copied().unwrap_or_default()),
        gaps.last().copied().unwrap_or_default().as_secs_f64() / POLL.as_secs_f64()
    );
}

/// The gaps between reads of each payment, on the wire: all of them, each lane's (sorted),
/// and how many lanes' p95 gap exceeds 1.5× the interval.
fn read_gaps(
    crossings: &[common::Crossing],
) -> (Vec<Duration>, HashMap<String, Vec<Duration>>, usize) {
    let mut reads: HashMap<String, Vec<Instant>> = HashMap::new();
    for c in crossings {
        if let Some(rest) = c.line.strip_prefix("GET /epayment/v1/payments/") {
            let reference = rest.split_whitespace().next().unwrap_or_default();
            reads.entry(reference.to_string()).or_default().push(c.at);
        }
    }
    let mut gaps = Vec::new();
    let mut lane_gaps: HashMap<String, Vec<Duration>> = HashMap::new();
    for (reference, times) in &reads {
        let lane_name = reference.split('-').next().unwrap_or_default().to_string();
        for w in times.windows(2) {
            gaps.push(w[1] - w[0]);
            lane_gaps
                .entry(lane_name.clone())
                .or_default()
                .push(w[1] - w[0]);
        }
    }
    for g in lane_gaps.values_mut() {
        g.sort();
    }
    let behind = lane_gaps
        .values()
        .filter(|g| pct(g, 0.95) > POLL.mul_f64(1.5))
        .count();
    (gaps, lane_gaps, behind)
}
