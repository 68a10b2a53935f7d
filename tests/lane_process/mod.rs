//! The real binary as a lane (`--headless`, stdin scanner, POS API, journal) against an
//! in-process simulator, for tests that need the whole process: its metrics endpoint, its
//! watchdog, a restart.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use serde_json::Value;
use std::{
    io::{BufRead, BufReader, Write},
    net::SocketAddr,
    path::PathBuf,
    process::{Child, ChildStdin, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

pub const TOKEN: &str = "process-test-pos-token";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A lane's files and addresses.
pub struct Rig {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub pos: String,
    pub metrics: String,
    pub http: reqwest::Client,
}

impl Rig {
    /// A fresh directory and a config for a lane against `sim_url`, with `extra` TOML after.
    pub fn new(name: &str, sim_url: &str, extra: &str) -> Rig {
        let dir = std::env::temp_dir().join(format!("vipps-kiosk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (pos_port, metrics_port) = (free_port(), free_port());
        let config = dir.join("kiosk.toml");
        std::fs::write(
            &config,
            format!(
                "market = \"NO\"\nlane_id = \"lane-4\"\nwalk_away_after_s = 0\n\
                 [vipps]\nbase_url = \"{sim_url}\"\npoll_interval_ms = 600\n\
                 [pos]\nlisten = \"127.0.0.1:{pos_port}\"\n\
                 [journal]\npath = \"{}\"\n\
                 [metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n{extra}",
                dir.join("journal.jsonl").display()
            ),
        )
        .unwrap();
        Rig {
            dir,
            config,
            pos: format!("http://127.0.0.1:{pos_port}"),
            metrics: format!("http://127.0.0.1:{metrics_port}/metrics"),
            http: vipps_kiosk::vipps::plain_http_client(),
        }
    }

    pub async fn get(&self, path: &str) -> Option<(u16, Value)> {
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

    pub async fn post(&self, path: &str, body: Value) -> Option<u16> {
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

    /// The order's status as the POS API tells it ("" when unknown).
    pub async fn status(&self, order_id: &str) -> String {
        match self.get(&format!("/v1/orders/{order_id}")).await {
            Some((200, v)) => v["status"].as_str().unwrap_or_default().to_string(),
            _ => String::new(),
        }
    }

    /// Waits until the order's status is `want`.
    pub async fn wait_status(&self, lane: &mut Lane, order_id: &str, want: &str) {
        let start = Instant::now();
        loop {
            lane.assert_running();
            if self.status(order_id).await == want {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{order_id} never became {want} (is {:?}):\n{}",
                self.status(order_id).await,
                lane.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts the lane with `env` added and waits until its POS API answers.
    pub async fn start(&self, env: &[(&str, String)]) -> Lane {
        let mut lane = Lane::spawn(&self.config, env);
        let start = Instant::now();
        loop {
            lane.assert_running();
            if self.get("/v1/health").await.is_some_and(|(s, _)| s == 200) {
                return lane;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the lane never came up:\n{}",
                lane.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The metrics as a scraper reads them.
    pub async fn scrape(&self) -> String {
        let r = self
            .http
            .get(&self.metrics)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .expect("the metrics endpoint answers");
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    }
}

/// The running process.
pub struct Lane {
    pub child: Child,
    stdin: ChildStdin,
    log: Arc<Mutex<Vec<String>>>,
}

impl Lane {
    fn spawn(config: &PathBuf, env: &[(&str, String)]) -> Lane {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipps-kiosk"));
        cmd.args(["--headless", "--scanner", "stdin", "--config"])
            .arg(config)
            .env("KIOSK_POS_TOKEN", TOKEN)
            .env("KIOSK_LOG", "warn,vipps_kiosk=info")
            .env_remove(vipps_kiosk::lane::FREEZE_ENV)
            .env_remove(vipps_kiosk::watchdog::NOTIFY_SOCKET)
            .env_remove(vipps_kiosk::watchdog::WATCHDOG_USEC)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the lane starts");
        let stdin = child.stdin.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                l.lock().unwrap().push(line);
            }
        });
        Lane { child, stdin, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn scan(&mut self, code: &str) {
        let _ = writeln!(self.stdin, "{code}");
        let _ = self.stdin.flush();
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([format!("-{signal}"), self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{signal} {}", self.pid());
    }

    /// SIGKILL, and reaped.
    pub fn kill(self) {
        drop(self);
    }

    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("the lane exited ({status}):\n{}", self.log());
        }
    }
}

impl Drop for Lane {
    /// A test that fails leaves no lane behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
