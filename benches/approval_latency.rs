#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop the benchmark loudly
//! Approval latency: the time from the customer approving (in the simulator) to the lane's
//! Approved state, with webhooks and with polling alone, at the default 1 s poll interval.
//! Prints median and p95 of each and their ratio, measured in one run.
//!
//! `cargo bench --bench approval_latency [-- N]` (N payments per mode, default 40).

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::mpsc;
use vipps_kiosk::{
    lane::{self, Lane},
    payment::{self, State},
    pos::{Command, Reply},
    sim::{SimConfig, Simulator, backend::PhoneAction},
    vipps::{self, model::Currency},
    webhooks::{self, EPAYMENT_EVENTS, ReceiverSetup},
};

const POLL: Duration = Duration::from_secs(1);

async fn measure(with_webhooks: bool, n: usize) -> Vec<Duration> {
    let sim = Simulator::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        SimConfig {
            currency: Some(Currency::Nok),
            ..SimConfig::default()
        },
    )
    .await
    .expect("simulator");
    let client = vipps::Client::for_simulator(&sim.base_url()).expect("client");
    let (_none, mut hints) = mpsc::channel(1);
    if with_webhooks {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let (_, secret) = client
            .register_webhook(&format!("http://{addr}/hooks"), &EPAYMENT_EVENTS)
            .await
            .expect("registered");
        hints = webhooks::serve(
            ReceiverSetup {
                listen: addr,
                path: "/hooks".into(),
                public_url: None,
                secret,
            },
            None,
        )
        .await
        .expect("receiver");
    }
    let kiosk = Arc::new(Mutex::new(Lane::new(
        payment::Config {
            poll_interval: POLL,
            relaxed_poll_interval: with_webhooks.then_some(POLL * 3),
            approved_display: Duration::from_millis(50),
            ..payment::Config::default()
        },
        None,
    )));
    let (commands, commands_rx) = mpsc::channel(8);
    let (scans_tx, scans) = mpsc::channel(1);
    let run = kiosk.clone();
    // The window ticks four times a second while a payment is under way.
    let tick = Duration::from_millis(250);
    tokio::spawn(async move {
        let _keep = (_none, scans_tx);
        let inputs = lane::Inputs {
            commands: commands_rx,
            scans,
            hints,
        };
        lane::run(run, client, inputs, tick).await
    });
    let state = || {
        kiosk
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .machine()
            .state()
            .clone()
    };
    let orders = vipps_kiosk::app::demo::orders(Currency::Nok, "bench").expect("orders");
    let mut took = Vec::new();
    for i in 0..n {
        let id = format!("bench-{}-{i:04}", if with_webhooks { "wh" } else { "poll" });
        let order = payment::Order {
            order_id: id.clone(),
            ..orders[0].clone()
        };
        let (reply, rx) = Reply::new();
        commands
            .send(Command::Submit(Box::new(order), reply))
            .await
            .expect("lane runs");
        let _ = rx.await;
        while !matches!(state(), State::Waiting { payment, .. } if payment.created) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Approve at a random point of the poll cycle, as a customer would.
        tokio::time::sleep(Duration::from_millis((i as u64 * 397) % 1000)).await;
        assert!(sim.phone(&format!("{id}-1"), PhoneAction::Approve));
        let start = Instant::now();
        while !matches!(state(), State::Approved { .. }) {
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        took.push(start.elapsed());
        while !matches!(state(), State::Idle) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    took.sort();
    took
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    vipps::install_crypto_provider();
    let n = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(40usize);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (webhooks, polling) =
        rt.block_on(async { (measure(true, n).await, measure(false, n).await) });
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("approval → Approved screen, {n} payments each, poll interval {POLL:?}, tick 250 ms");
    for (name, v) in [
        ("webhooks + polling", &webhooks),
        ("polling alone", &polling),
    ] {
        println!(
            "  {name:<19} median {:>7.1} ms   p95 {:>7.1} ms   min {:>6.1} ms   max {:>7.1} ms",
            ms(pct(v, 0.5)),
            ms(pct(v, 0.95)),
            ms(v[0]),
            ms(v[v.len() - 1])
        );
    }
    println!(
        "  polling alone / webhooks: median {:.0}×, p95 {:.0}×",
        ms(pct(&polling, 0.5)) / ms(pct(&webhooks, 0.5)),
        ms(pct(&polling, 0.95)) / ms(pct(&webhooks, 0.95))
    );
}
