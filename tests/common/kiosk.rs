//! The real binary as a lane runs it (`--headless --scanner stdin`, a journal, the POS API,
//! the metrics endpoint), for tests that need the whole process: killed with SIGKILL and
//! started again on the same journal as systemd would, its watchdog, its metrics. The process,
//! its log, and the POS API it serves.

use serde_json::Value;
use std::{
    collections::VecDeque,
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
use vipps_kiosk::lane::{FREEZE_ENV, FREEZE_MARK};

pub const POS_TOKEN: &str = "crash-test-pos-token";

/// The newest log lines kept per process.
const LOG_LINES: usize = 3000;

/// One kiosk process.
pub struct Kiosk {
    child: Child,
    stdin: ChildStdin,
    frozen: Arc<AtomicBool>,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl Kiosk {
    /// Starts the binary on `config`; with `freeze_at`, it stops itself at step k
    /// (`KIOSK_TEST_FREEZE_AT`: a journal write or an API answer) and waits to be killed.
    pub fn start(config: &PathBuf, freeze_at: Option<u64>) -> Kiosk {
        Kiosk::start_with(config, freeze_at, &[])
    }

    /// `start`, with `env` added (a notify socket, a webhook secret).
    pub fn start_with(config: &PathBuf, freeze_at: Option<u64>, env: &[(&str, String)]) -> Kiosk {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipps-kiosk"));
        cmd.args(["--headless", "--scanner", "stdin", "--config"])
            .arg(config)
            .env("KIOSK_POS_TOKEN", POS_TOKEN)
            .env("VIPPS_CLIENT_ID", "id")
            .env("VIPPS_CLIENT_SECRET", "secret")
            .env("VIPPS_SUBSCRIPTION_KEY", "sub")
            .env("KIOSK_LOG", "warn,vipps_kiosk=info")
            .env("NO_COLOR", "1")
            .env_remove(FREEZE_ENV)
            .env_remove(vipps_kiosk::watchdog::NOTIFY_SOCKET)
            .env_remove(vipps_kiosk::watchdog::WATCHDOG_USEC)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(k) = freeze_at {
            cmd.env(FREEZE_ENV, k.to_string());
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the kiosk starts");
        let stdin = child.stdin.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let frozen = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (f, l) = (frozen.clone(), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains(FREEZE_MARK) {
                    f.store(true, Ordering::SeqCst);
                }
                let mut log = l.lock().unwrap();
                if log.len() == LOG_LINES {
                    log.pop_front();
                }
                log.push_back(line);
            }
        });
        Kiosk {
            child,
            stdin,
            frozen,
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`STOP`, `CONT`, …) with kill(1).
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([format!("-{signal}"), self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{signal} {}", self.pid());
    }

    /// Whether it has stopped itself at its freeze step.
    pub fn frozen(&self) -> bool {
        self.frozen.load(Ordering::SeqCst)
    }

    /// One scan, as the stdin scanner reads it (one line).
    pub fn scan(&mut self, code: &str) {
        self.scan_bytes(code.as_bytes());
    }

    /// A scanner line of any bytes (binary junk included).
    pub fn scan_bytes(&mut self, bytes: &[u8]) {
        let _ = self.stdin.write_all(bytes);
        let _ = self.stdin.write_all(b"\n");
        let _ = self.stdin.flush();
    }

    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap()
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The last `n` log lines.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log.lock().unwrap();
        let skip = log.len().saturating_sub(n);
        log.iter()
            .skip(skip)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// SIGKILL: no destructors, no flushing, nothing.
    pub fn kill(self) {
        drop(self);
    }

    /// Why it is no longer running, if it is not.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!("the kiosk exited ({status}):\n{}", self.log())),
            _ => None,
        }
    }

    pub fn assert_running(&mut self) {
        if let Some(why) = self.exited() {
            panic!("{why}");
        }
    }
}

impl Drop for Kiosk {
    /// A test that fails leaves no kiosk behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A lane's files (configuration, journal) and its POS API, for a kiosk against the
/// simulator at `sim_url`.
pub struct LaneRig {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub pos: String,
    /// The metrics endpoint (`/metrics`).
    pub metrics: String,
    pub http: reqwest::Client,
}

impl LaneRig {
    /// `extra`: more top-level keys (`lane_id = "lane-2"`) and `[vipps]` keys, in that order
    /// (`vipps_extra` goes under `[vipps]`).
    pub fn new(name: &str, sim_url: &str, extra: &str, vipps_extra: &str) -> LaneRig {
        LaneRig::with_sections(name, sim_url, extra, vipps_extra, "")
    }

    /// `new`, with `sections` (whole TOML sections, `[webhooks]` say) at the end.
    pub fn with_sections(
        name: &str,
        sim_url: &str,
        extra: &str,
        vipps_extra: &str,
        sections: &str,
    ) -> LaneRig {
        let dir = std::env::temp_dir().join(format!("vipps-kiosk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (port, metrics_port) = (free_port(), free_port());
        let config = dir.join("kiosk.toml");
        std::fs::write(
            &config,
            format!(
                "market = \"NO\"\nwalk_away_after_s = 0\n{extra}\n\
                 [vipps]\nbase_url = \"{sim_url}\"\npoll_interval_ms = 600\n{vipps_extra}\n\
                 [pos]\nlisten = \"127.0.0.1:{port}\"\n\
                 [journal]\npath = \"{}\"\n\
                 [metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n{sections}",
                dir.join("journal.jsonl").display()
            ),
        )
        .unwrap();
        LaneRig {
            dir,
            config,
            pos: format!("http://127.0.0.1:{port}"),
            metrics: format!("http://127.0.0.1:{metrics_port}/metrics"),
            http: vipps_kiosk::vipps::plain_http_client(),
        }
    }

    /// A fresh journal for the next run.
    pub fn reset_journal(&self) {
        let _ = std::fs::remove_file(self.dir.join("journal.jsonl"));
    }

    /// `GET` on the POS API: status and body, or None when nothing answered within a second.
    pub async fn get(&self, path: &str) -> Option<(u16, Value)> {
        let r = self
            .http
            .get(format!("{}{path}", self.pos))
            .bearer_auth(POS_TOKEN)
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .ok()?;
        let status = r.status().as_u16();
        Some((status, r.json().await.unwrap_or(Value::Null)))
    }

    /// `POST` on the POS API: the status, or None when no answer came (within `timeout`).
    pub async fn post_json(
        &self,
        path: &str,
        body: Value,
        timeout: Duration,
    ) -> Option<(u16, Value)> {
        let r = self
            .http
            .post(format!("{}{path}", self.pos))
            .bearer_auth(POS_TOKEN)
            .json(&body)
            .timeout(timeout)
            .send()
            .await
            .ok()?;
        let status = r.status().as_u16();
        Some((status, r.json().await.unwrap_or(Value::Null)))
    }

    pub async fn post(&self, path: &str, body: Value) -> Option<u16> {
        self.post_json(path, body, Duration::from_secs(1))
            .await
            .map(|(s, _)| s)
    }

    /// Starts the kiosk and waits until its POS API answers (or it froze on the way); the
    /// reason when it does neither within `limit`.
    pub async fn try_start(
        &self,
        freeze_at: Option<u64>,
        limit: Duration,
    ) -> Result<Kiosk, String> {
        self.try_start_with(freeze_at, &[], limit).await
    }

    /// `try_start`, with `env` added.
    pub async fn try_start_with(
        &self,
        freeze_at: Option<u64>,
        env: &[(&str, String)],
        limit: Duration,
    ) -> Result<Kiosk, String> {
        let mut kiosk = Kiosk::start_with(&self.config, freeze_at, env);
        let start = Instant::now();
        loop {
            if let Some(why) = kiosk.exited() {
                return Err(why);
            }
            if kiosk.frozen() || self.get("/v1/health").await.is_some_and(|(s, _)| s == 200) {
                return Ok(kiosk);
            }
            if start.elapsed() > limit {
                let log = kiosk.log();
                kiosk.kill();
                return Err(format!("the kiosk never came up within {limit:?}:\n{log}"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `try_start`, failing the test if the kiosk does not come up within 20 s.
    pub async fn start(&self, freeze_at: Option<u64>) -> Kiosk {
        self.start_with(freeze_at, &[]).await
    }

    /// `start`, with `env` added.
    pub async fn start_with(&self, freeze_at: Option<u64>, env: &[(&str, String)]) -> Kiosk {
        match self
            .try_start_with(freeze_at, env, Duration::from_secs(20))
            .await
        {
            Ok(k) => k,
            Err(why) => panic!("{why}"),
        }
    }

    /// The order's status as the POS API tells it ("" when unknown).
    pub async fn status(&self, order_id: &str) -> String {
        match self.get(&format!("/v1/orders/{order_id}")).await {
            Some((200, v)) => v["status"].as_str().unwrap_or_default().to_string(),
            _ => String::new(),
        }
    }

    /// Waits (20 s at most) until the order's status is `want`.
    pub async fn wait_status(&self, kiosk: &mut Kiosk, order_id: &str, want: &str) {
        let start = Instant::now();
        loop {
            kiosk.assert_running();
            if self.status(order_id).await == want {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{order_id} never became {want} (is {:?}):\n{}",
                self.status(order_id).await,
                kiosk.log()
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

impl Drop for LaneRig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
