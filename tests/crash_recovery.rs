#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The crash-safe journal, tested the hard way: the real binary (`--headless`, POS API, stdin
//! scanner, journal) is killed with SIGKILL at every step of a flow, then restarted. A step is
//! a journal write (the requests it records have not gone out yet) or an API answer arriving
//! (Vipps has acted; the kiosk has not recorded it). The kiosk freezes itself at step k
//! (`KIOSK_TEST_FREEZE_AT`) and the test kills it there, for k = 1, 2, … until a run finishes
//! without reaching step k.
//!
//! After each run the simulator's books must show exactly one captured payment for a paid
//! order (none for a withdrawn one), no payment left authorized, and the POS API, asked again
//! after one more restart, must tell the same.

use serde_json::{Value, json};
use std::{
    io::{BufRead, BufReader, Write},
    net::SocketAddr,
    path::PathBuf,
    process::{Child, ChildStdin, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
use vipps_kiosk::{
    lane::{FREEZE_ENV, FREEZE_MARK},
    sim::{Simulator, backend::PhoneAction},
};

mod common;

const TOKEN: &str = "crash-test-pos-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// The customer scans the on-screen QR and approves.
    OneTimeQr,
    /// The customer shows a personal QR to the scanner and approves the push.
    PersonalQr,
    /// The POS withdraws the order while the QR is showing.
    Withdraw,
}

struct Kiosk {
    child: Child,
    stdin: ChildStdin,
    frozen: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Kiosk {
    fn start(config: &PathBuf, freeze_at: Option<u64>) -> Kiosk {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipps-kiosk"));
        cmd.args(["--headless", "--scanner", "stdin", "--config"])
            .arg(config)
            .env("KIOSK_POS_TOKEN", TOKEN)
            .env("VIPPS_CLIENT_ID", "id")
            .env("VIPPS_CLIENT_SECRET", "secret")
            .env("VIPPS_SUBSCRIPTION_KEY", "sub")
            .env("KIOSK_LOG", "warn,vipps_kiosk=info")
            .env_remove(FREEZE_ENV)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(k) = freeze_at {
            cmd.env(FREEZE_ENV, k.to_string());
        }
        let mut child = cmd.spawn().expect("the kiosk starts");
        let stdin = child.stdin.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let frozen = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (f, l) = (frozen.clone(), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains(FREEZE_MARK) {
                    f.store(true, Ordering::SeqCst);
                }
                l.lock().unwrap().push(line);
            }
        });
        Kiosk {
            child,
            stdin,
            frozen,
            log,
        }
    }

    fn frozen(&self) -> bool {
        self.frozen.load(Ordering::SeqCst)
    }

    fn scan(&mut self, code: &str) {
        let _ = writeln!(self.stdin, "{code}");
        let _ = self.stdin.flush();
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// SIGKILL: no destructors, no flushing, nothing.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("the kiosk exited ({status}):\n{}", self.log());
        }
    }
}

struct Rig {
    sim: Simulator,
    dir: PathBuf,
    config: PathBuf,
    pos: String,
    http: reqwest::Client,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Rig {
    async fn new(name: &str) -> Rig {
        let sim = common::simulator().await;
        let dir =
            std::env::temp_dir().join(format!("vipps-kiosk-crash-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let config = dir.join("kiosk.toml");
        std::fs::write(
            &config,
            format!(
                "market = \"NO\"\nwalk_away_after_s = 0\n\
                 [vipps]\nbase_url = \"{}\"\npoll_interval_ms = 600\n\
                 [pos]\nlisten = \"127.0.0.1:{port}\"\n\
                 [journal]\npath = \"{}\"\n",
                sim.base_url(),
                dir.join("journal.jsonl").display()
            ),
        )
        .unwrap();
        Rig {
            sim,
            dir,
            config,
            pos: format!("http://127.0.0.1:{port}"),
            http: vipps_kiosk::vipps::plain_http_client(),
        }
    }

    /// A fresh journal and a fresh order id for the next run.
    fn reset_journal(&self) {
        let _ = std::fs::remove_file(self.dir.join("journal.jsonl"));
    }

    async fn get(&self, path: &str) -> Option<(u16, Value)> {
        let r = self
            .http
            .get(format!("{}{path}", self.pos))
            .bearer_auth(TOKEN)
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .ok()?;
        let status = r.status().as_u16();
        Some((status, r.json().await.unwrap_or(Value::Null)))
    }

    async fn post(&self, path: &str, body: Value) -> Option<u16> {
        let r = self
            .http
            .post(format!("{}{path}", self.pos))
            .bearer_auth(TOKEN)
            .json(&body)
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .ok()?;
        Some(r.status().as_u16())
    }

    /// Starts the kiosk and waits until its POS API answers (or it froze on the way).
    async fn start(&self, freeze_at: Option<u64>) -> Kiosk {
        let mut kiosk = Kiosk::start(&self.config, freeze_at);
        let start = Instant::now();
        loop {
            kiosk.assert_running();
            if kiosk.frozen() || self.get("/v1/health").await.is_some_and(|(s, _)| s == 200) {
                return kiosk;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the kiosk never came up:\n{}",
                kiosk.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn payments_of(&self, order_id: &str) -> Vec<Value> {
        common::payments_of(&self.sim, order_id)
    }
}

use common::amount;

/// One run of `flow` with a freeze at step `freeze_at`. Returns whether the freeze happened.
async fn run(rig: &Rig, flow: Flow, freeze_at: u64) -> bool {
    rig.reset_journal();
    let order = common::order(&format!("crash-{freeze_at:03}-{}", flow as u8));
    let order_id = order.order_id.clone();
    let total = order.total_amount;
    let mut kiosk = rig.start(Some(freeze_at)).await;
    let mut froze = false;
    let mut withdrawn = false;
    // Push flow: the QR payments this kiosk process has been shown a personal QR for.
    let mut scanned_for: Vec<String> = Vec::new();
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{flow:?} with a freeze at step {freeze_at} never finished; payments {:#?}\nlog:\n{}",
            rig.payments_of(&order_id),
            kiosk.log()
        );
        if kiosk.frozen() {
            assert!(!froze, "frozen twice");
            froze = true;
            kiosk.kill();
            kiosk = rig.start(None).await;
            scanned_for.clear();
            continue;
        }
        kiosk.assert_running();
        let status = match rig.get(&format!("/v1/orders/{order_id}")).await {
            Some((200, v)) => v["status"].as_str().unwrap_or_default().to_string(),
            Some((404, _)) => String::new(),
            _ => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        if status.is_empty() {
            // Not (durably) taken yet: send it (again, as a POS does when the answer was lost
            // with the process).
            rig.post("/v1/orders", serde_json::to_value(&order).unwrap())
                .await;
            continue;
        }
        let payments = rig.payments_of(&order_id);
        let created = |flow: &str| {
            payments
                .iter()
                .filter(|p| p["state"] == "CREATED" && p["userFlow"] == flow)
                .filter_map(|p| p["reference"].as_str().map(str::to_string))
                .collect::<Vec<_>>()
        };
        let settled = payments.iter().all(|p| {
            p["state"] != "CREATED"
                && (p["state"] != "AUTHORIZED"
                    || amount(p, "capturedAmount") + amount(p, "cancelledAmount")
                        >= amount(p, "authorizedAmount"))
        });
        let want = if flow == Flow::Withdraw {
            "cancelled"
        } else {
            "captured"
        };
        if status == want && settled {
            break;
        }
        match flow {
            Flow::OneTimeQr => {
                for r in created("QR") {
                    rig.sim.phone(&r, PhoneAction::Approve);
                }
            }
            Flow::PersonalQr => {
                for r in created("QR") {
                    if status == "waiting" && !scanned_for.contains(&r) {
                        kiosk.scan(common::PERSONAL_QR);
                        scanned_for.push(r);
                    }
                }
                for r in created("PUSH_MESSAGE") {
                    rig.sim.phone(&r, PhoneAction::Approve);
                }
            }
            Flow::Withdraw => {
                if !withdrawn && !created("QR").is_empty() {
                    withdrawn = rig
                        .post(&format!("/v1/orders/{order_id}/cancel"), json!({}))
                        .await
                        .is_some_and(|s| s == 202);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    kiosk.kill();

    // The simulator's books.
    let payments = rig.payments_of(&order_id);
    let captured: Vec<&Value> = payments
        .iter()
        .filter(|p| amount(p, "capturedAmount") > 0)
        .collect();
    match flow {
        Flow::Withdraw => assert!(captured.is_empty(), "{payments:#?}"),
        _ => {
            assert_eq!(captured.len(), 1, "exactly one capture: {payments:#?}");
            assert_eq!(amount(captured[0], "capturedAmount"), total);
        }
    }
    if flow == Flow::PersonalQr {
        assert_eq!(captured[0]["userFlow"], "PUSH_MESSAGE", "{payments:#?}");
    }
    common::assert_nothing_left_authorized(&payments);
    // The POS hears the truth from the journal after one more restart.
    let kiosk = rig.start(None).await;
    let (code, record) = rig
        .get(&format!("/v1/orders/{order_id}"))
        .await
        .expect("the POS API answers");
    assert_eq!(code, 200, "{record}");
    match flow {
        Flow::Withdraw => assert_eq!(record["status"], "cancelled", "{record}"),
        _ => {
            assert_eq!(record["status"], "captured", "{record}");
            assert_eq!(record["capturedAmount"], total, "{record}");
            let reference = captured[0]["reference"].as_str().unwrap();
            assert!(
                record["references"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == reference),
                "{record}"
            );
        }
    }
    let (_, health) = rig.get("/v1/health").await.unwrap();
    assert_eq!(health["journal"], "ok", "{health}");
    kiosk.kill();
    froze
}

/// Kills the kiosk at step 1, 2, … of `flow` until a run gets through without reaching the
/// step; returns how many steps were covered.
async fn every_step(flow: Flow) -> u64 {
    let rig = Rig::new(&format!("{flow:?}")).await;
    let mut k = 1;
    while run(&rig, flow, k).await {
        k += 1;
        assert!(k < 200, "{flow:?} never ran through");
    }
    let _ = std::fs::remove_dir_all(&rig.dir);
    eprintln!("{flow:?}: killed and recovered at each of {} steps", k - 1);
    k - 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_qr_survives_a_kill_at_every_step() {
    let steps = every_step(Flow::OneTimeQr).await;
    // Order + create, created, a poll or more, approved + capture, captured.
    assert!(steps >= 5, "only {steps} steps");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_qr_survives_a_kill_at_every_step() {
    let steps = every_step(Flow::PersonalQr).await;
    assert!(steps >= 8, "only {steps} steps");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawal_survives_a_kill_at_every_step() {
    let steps = every_step(Flow::Withdraw).await;
    assert!(steps >= 4, "only {steps} steps");
}
