#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! systemd's watchdog, played by a stand-in: the real binary (`--headless`, journal, POS API)
//! runs with `NOTIFY_SOCKET` pointing at a datagram socket of this test and
//! `WATCHDOG_USEC` set. The stand-in reads READY and the pings; when the lane hangs — the whole
//! process stopped with SIGSTOP, or only the lane's loop wedged while its servers still answer
//! — the pings stop, and after `WatchdogSec` the stand-in kills the lane and starts it again
//! as systemd would. The restarted lane resumes from its journal: the payment that was in
//! flight is captured exactly once.

use std::{
    os::unix::net::UnixDatagram,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use vipps_kiosk::{
    lane::FREEZE_ENV,
    sim::{Simulator, backend::PhoneAction},
    watchdog::{NOTIFY_SOCKET, WATCHDOG_USEC},
};

mod common;

use common::kiosk::{Kiosk as Lane, LaneRig as Rig};

/// `WatchdogSec` of the stand-in.
const WATCHDOG: Duration = Duration::from_millis(1500);

/// systemd's side of the notify socket: every datagram, with when it came.
struct Systemd {
    heard: Arc<Mutex<Vec<(Instant, String)>>>,
    path: std::path::PathBuf,
}

impl Systemd {
    fn listen(rig: &Rig) -> Systemd {
        let path = rig.dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).expect("the notify socket");
        let heard = Arc::new(Mutex::new(Vec::new()));
        let h = heard.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = socket.recv(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                h.lock().unwrap().push((Instant::now(), text));
            }
        });
        Systemd { heard, path }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (NOTIFY_SOCKET, self.path.display().to_string()),
            (WATCHDOG_USEC, WATCHDOG.as_micros().to_string()),
        ]
    }

    fn count(&self, what: &str, since: Instant) -> usize {
        let heard = self.heard.lock().unwrap();
        heard
            .iter()
            .filter(|(at, m)| *at >= since && m.lines().any(|l| l == what))
            .count()
    }

    fn last_ping(&self) -> Option<Instant> {
        let heard = self.heard.lock().unwrap();
        heard
            .iter()
            .rev()
            .find(|(_, m)| m == "WATCHDOG=1")
            .map(|(at, _)| *at)
    }

    /// Waits until `what` has been heard `n` times since `since`.
    async fn wait_for(&self, lane: &mut Lane, what: &str, n: usize, since: Instant) {
        let start = Instant::now();
        while self.count(what, since) < n {
            lane.assert_running();
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{what} heard {} times, not {n}:\n{}",
                self.count(what, since),
                lane.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What systemd does with a service that stopped pinging: waits out `WatchdogSec` from
    /// the last ping (checking that none comes), then kills it. Returns how long the pings had
    /// been silent when it struck.
    async fn enforce(&self, lane: Lane) -> Duration {
        // A ping sent just before the hang may still be on its way to the reader thread.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let last = self.last_ping().expect("the lane had pinged");
        loop {
            let silent = last.elapsed();
            assert_eq!(
                self.last_ping(),
                Some(last),
                "a hung lane must not ping (pings after {silent:?} of silence)"
            );
            if silent > WATCHDOG {
                lane.kill();
                return silent;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn payment_created(sim: &Simulator, lane: &mut Lane, order_id: &str) -> String {
    let start = Instant::now();
    loop {
        lane.assert_running();
        if let Some(p) = common::payments_of(sim, order_id).first() {
            return p["reference"].as_str().unwrap().to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no payment:\n{}",
            lane.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The simulator's books for the order: exactly one capture of the whole amount, nothing left
/// authorized.
fn assert_captured_once(sim: &Simulator, order_id: &str, total: i64) {
    let payments = common::payments_of(sim, order_id);
    let captured: Vec<_> = payments
        .iter()
        .filter(|p| common::amount(p, "capturedAmount") > 0)
        .collect();
    assert_eq!(captured.len(), 1, "one captured payment: {payments:#?}");
    assert_eq!(common::amount(captured[0], "capturedAmount"), total);
    common::assert_nothing_left_authorized(&payments);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_lane_stops_pinging_is_restarted_and_captures_the_payment_once() {
    let sim = common::simulator().await;
    let rig = Rig::with_sections(
        "watchdog-stop",
        &sim.base_url(),
        "lane_id = \"lane-4\"",
        "",
        "",
    );
    let systemd = Systemd::listen(&rig);
    let t0 = Instant::now();
    let mut lane = rig.start_with(None, &systemd.env()).await;
    systemd.wait_for(&mut lane, "READY=1", 1, t0).await;
    systemd.wait_for(&mut lane, "WATCHDOG=1", 3, t0).await;

    let order = common::order("watchdog-0001");
    assert_eq!(
        rig.post("/v1/orders", serde_json::to_value(&order).unwrap())
            .await,
        Some(201)
    );
    let reference = payment_created(&sim, &mut lane, "watchdog-0001").await;
    rig.wait_status(&mut lane, "watchdog-0001", "waiting").await;

    // The lane hangs; meanwhile the customer approves in the app.
    lane.signal("STOP");
    assert!(sim.phone(&reference, PhoneAction::Approve));
    let silent = systemd.enforce(lane).await;
    assert!(silent > WATCHDOG);

    let restarted = Instant::now();
    let mut lane = rig.start_with(None, &systemd.env()).await;
    systemd.wait_for(&mut lane, "READY=1", 1, restarted).await;
    rig.wait_status(&mut lane, "watchdog-0001", "captured")
        .await;
    systemd
        .wait_for(&mut lane, "WATCHDOG=1", 2, restarted)
        .await;
    assert_captured_once(&sim, "watchdog-0001", order.total_amount);
    lane.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wedged_lane_loop_stops_pinging_though_its_servers_still_answer() {
    let sim = common::simulator().await;
    let rig = Rig::with_sections(
        "watchdog-wedge",
        &sim.base_url(),
        "lane_id = \"lane-4\"",
        "",
        "",
    );
    let systemd = Systemd::listen(&rig);
    let t0 = Instant::now();
    // The lane's loop parks at its first step (the new order's journal write), inside the
    // loop that pings; the POS API and the metrics run on other threads and still answer.
    let mut env = systemd.env();
    env.push((FREEZE_ENV, "1".into()));
    let mut lane = rig.start_with(None, &env).await;
    systemd.wait_for(&mut lane, "READY=1", 1, t0).await;
    systemd.wait_for(&mut lane, "WATCHDOG=1", 2, t0).await;

    let order = common::order("watchdog-0002");
    // The answer never comes: the lane froze before replying.
    let _ = rig
        .post("/v1/orders", serde_json::to_value(&order).unwrap())
        .await;
    let wedged = Instant::now();
    while !lane.log().contains(vipps_kiosk::lane::FREEZE_MARK) {
        assert!(wedged.elapsed() < Duration::from_secs(10), "{}", lane.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        rig.scrape().await.contains("vipps_kiosk_build_info"),
        "the process is alive: its metrics endpoint answers"
    );
    let silent = systemd.enforce(lane).await;
    assert!(silent > WATCHDOG);

    let restarted = Instant::now();
    let mut lane = rig.start_with(None, &systemd.env()).await;
    systemd.wait_for(&mut lane, "READY=1", 1, restarted).await;
    // The journaled order is resumed: its payment is created with the journaled key.
    let reference = payment_created(&sim, &mut lane, "watchdog-0002").await;
    rig.wait_status(&mut lane, "watchdog-0002", "waiting").await;
    assert!(sim.phone(&reference, PhoneAction::Approve));
    rig.wait_status(&mut lane, "watchdog-0002", "captured")
        .await;
    assert_captured_once(&sim, "watchdog-0002", order.total_amount);
    lane.kill();
}
