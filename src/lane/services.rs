//! The one wiring of a lane's services, used by the window and by `--headless` alike: the
//! journal and the lane built on it, the POS API, the webhook receiver and the scanner. What
//! they hear arrives on `Inputs`; the window turns those into iced messages, the headless loop
//! (`run`) feeds them to the lane itself.

use super::{Lane, driver};
use crate::{
    payment::{self, Effect, Input},
    pos::{Command, Hub},
    scan::RawScan,
    scanner::hid::DeviceFilter,
    sync::lock,
    vipps::{Client, Secret},
    webhooks::ReceiverSetup,
};
use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::mpsc;

/// Where scans come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScannerSource {
    None,
    Stdin,
    Hid(DeviceFilter),
}

/// What the scanner source reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEvent {
    Scan(RawScan),
    Connected,
    /// The scanner stopped delivering (stdin closed, device gone).
    Lost,
}

/// The POS API this lane serves.
#[derive(Debug, Clone)]
pub struct PosSetup {
    pub listen: std::net::SocketAddr,
    /// TLS (`[pos] tls_cert`, `tls_key`, `client_ca`); `None`: plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub token: Secret,
    pub hub: Arc<Hub>,
    /// The orders the lane can take (currency, order ids that fit its references).
    pub rules: crate::pos::OrderRules,
}

/// The lane's metrics, and where `/metrics` is served (`None`: not served).
#[derive(Debug, Clone)]
pub struct MetricsSetup {
    pub metrics: Arc<crate::metrics::Metrics>,
    pub listen: Option<std::net::SocketAddr>,
}

/// A lane's services, as the configuration asks for them.
#[derive(Debug, Clone)]
pub struct Services {
    /// The crash-safe journal (`[journal] path`); `None` runs without one (the demo).
    pub journal: Option<PathBuf>,
    pub pos: Option<PosSetup>,
    /// The webhook receiver (`[webhooks]`); `None`: polling alone.
    pub webhooks: Option<ReceiverSetup>,
    pub scanner: ScannerSource,
    /// What the lane counts (`[metrics]`); `None` counts nothing (tests).
    pub metrics: Option<MetricsSetup>,
}

impl std::hash::Hash for Services {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.pos.as_ref().map(|p| p.listen).hash(state);
        self.webhooks.hash(state);
        self.scanner.hash(state);
        self.metrics.as_ref().map(|m| m.listen).hash(state);
    }
}

/// What reaches the lane from outside, apart from API answers and ticks.
#[derive(Debug)]
pub struct Inputs {
    pub commands: mpsc::Receiver<Command>,
    pub scans: mpsc::Receiver<ScanEvent>,
    /// Webhook events (and trouble) for the machine.
    pub hints: mpsc::Receiver<Input>,
}

/// The sending ends of `Inputs`, for tests and tools that play the outside world.
#[derive(Debug, Clone)]
pub struct Feed {
    pub commands: mpsc::Sender<Command>,
    pub scans: mpsc::Sender<ScanEvent>,
    pub hints: mpsc::Sender<Input>,
}

impl Inputs {
    /// Inputs fed by hand.
    pub fn channel() -> (Feed, Inputs) {
        let (commands, commands_rx) = mpsc::channel(16);
        let (scans, scans_rx) = mpsc::channel(16);
        let (hints, hints_rx) = mpsc::channel(64);
        (
            Feed {
                commands,
                scans,
                hints,
            },
            Inputs {
                commands: commands_rx,
                scans: scans_rx,
                hints: hints_rx,
            },
        )
    }
}

impl Services {
    pub fn hub(&self) -> Option<Arc<Hub>> {
        self.pos.as_ref().map(|p| p.hub.clone())
    }

    /// Opens the journal and builds the lane on it. When the journal cannot be opened, the
    /// lane runs without it and the reason says why it is out of service.
    pub fn open_lane(&self, machine: payment::Config) -> (Lane, Option<String>) {
        let hub = self.hub();
        let (mut lane, problem) = match &self.journal {
            Some(path) => match Lane::open(machine.clone(), path, hub.clone()) {
                Ok(lane) => (lane, None),
                Err(e) => (Lane::new(machine, hub), Some(e)),
            },
            None => (Lane::new(machine, hub), None),
        };
        if let Some(m) = &self.metrics {
            lane.set_metrics(m.metrics.clone());
            if problem.is_some() {
                m.metrics.out_of_service("journal");
            }
        }
        (lane, problem)
    }

    /// Serves the POS API and the webhook receiver and starts the scanner; what they hear
    /// arrives on the `Inputs`. Each service stops when its receiver is dropped. A service that
    /// cannot start is left out, and said in the list of problems.
    pub async fn start(&self) -> (Inputs, Vec<String>) {
        let (feed, inputs) = Inputs::channel();
        let mut problems = Vec::new();
        let Feed {
            commands,
            scans,
            hints,
        } = feed;
        if let Some(p) = &self.pos {
            let served = crate::pos::serve(
                p.listen,
                p.tls.clone(),
                p.hub.clone(),
                p.token.clone(),
                p.rules.clone(),
            );
            match served.await {
                Ok(rx) => forward(rx, commands, |c| c),
                Err(e) => problems.push(format!("the POS API cannot listen on {}: {e}", p.listen)),
            }
        }
        if let Some(w) = self.webhooks.clone() {
            let listen = w.listen;
            let metrics = self.metrics.as_ref().map(|m| m.metrics.clone());
            match crate::webhooks::serve_metered(w, self.hub(), metrics).await {
                Ok(rx) => forward(rx, hints, |i| i),
                Err(e) => problems.push(format!(
                    "the webhook receiver cannot listen on {listen}: {e}"
                )),
            }
        }
        if let Some(MetricsSetup {
            metrics,
            listen: Some(listen),
        }) = &self.metrics
            && let Err(e) = crate::metrics::serve(*listen, metrics).await
        {
            // The lane takes payments without its metrics; the operator hears of it.
            tracing::warn!(%listen, error = %e, "the metrics endpoint cannot listen");
        }
        match self.scanner {
            ScannerSource::None => {}
            ScannerSource::Stdin => read_stdin(scans),
            ScannerSource::Hid(filter) => {
                if let Err(e) = read_hid(filter, scans) {
                    problems.push(format!("cannot start the scanner thread: {e}"));
                }
            }
        }
        (inputs, problems)
    }
}

/// Passes what `rx` hears on to `tx` until either end is gone.
fn forward<T: Send + 'static, U: Send + 'static>(
    mut rx: mpsc::Receiver<T>,
    tx: mpsc::Sender<U>,
    map: fn(T) -> U,
) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                item = rx.recv() => match item {
                    Some(item) => if tx.send(map(item)).await.is_err() { return },
                    None => return,
                },
                () = tx.closed() => return,
            }
        }
    });
}

fn read_stdin(scans: mpsc::Sender<ScanEvent>) {
    tokio::spawn(async move {
        let mut stdin = crate::scanner::stdin::StdinScanner::new();
        loop {
            let line = tokio::select! {
                line = stdin.next_scan() => line,
                () = scans.closed() => return,
            };
            let Some(line) = line else { break };
            if scans.send(ScanEvent::Scan(RawScan(line))).await.is_err() {
                return;
            }
        }
        let _ = scans.send(ScanEvent::Lost).await;
    });
}

/// The HID reader thread. It ends when the receiver is dropped.
fn read_hid(filter: DeviceFilter, scans: mpsc::Sender<ScanEvent>) -> std::io::Result<()> {
    use crate::scanner::hid::{self, Event};
    std::thread::Builder::new()
        .name("scanner-hid".into())
        .spawn(move || {
            hid::read_loop(filter, |event| {
                let event = match event {
                    Event::Connected { .. } => ScanEvent::Connected,
                    Event::Disconnected { .. } => ScanEvent::Lost,
                    Event::Scan(code) => ScanEvent::Scan(RawScan(code)),
                    // Garbage from the scanner reads as "not a Vipps code" to the customer; it
                    // never reaches the API.
                    Event::Dropped(_) => ScanEvent::Scan(RawScan(String::new())),
                };
                scans.blocking_send(event).is_ok()
            })
        })
        .map(drop)
}

/// Runs a lane without a window, for good: POS commands, scans, webhooks and ticks in, API
/// calls out as tasks whose answers come back in. The headless mode (`--headless`) and the
/// tests use it; the window does the same through iced.
pub async fn run(lane: Arc<Mutex<Lane>>, client: Client, inputs: Inputs, tick: Duration) {
    let Inputs {
        mut commands,
        mut scans,
        mut hints,
    } = inputs;
    let (answers_tx, mut answers) = mpsc::unbounded_channel();
    let spawn = |calls: Vec<Effect>| {
        for call in calls {
            let (client, tx) = (client.clone(), answers_tx.clone());
            tokio::spawn(async move {
                if let Some(answer) = driver::execute(client, call).await {
                    let _ = tx.send(answer);
                }
            });
        }
    };
    spawn(lock(&lane).resume(Instant::now()));
    let mut ticks = tokio::time::interval(tick);
    let mut watchdog = crate::watchdog::Watchdog::from_env();
    let (mut commands_open, mut scans_open, mut hints_open) = (true, true, true);
    loop {
        let calls = tokio::select! {
            Some(answer) = answers.recv() => lock(&lane).step(answer, Instant::now()),
            command = commands.recv(), if commands_open => match command {
                Some(c) => lock(&lane).pos(c, Instant::now()),
                None => { commands_open = false; Vec::new() }
            },
            scan = scans.recv(), if scans_open => match scan {
                Some(ScanEvent::Scan(s)) => lock(&lane).step(Input::Scan(s), Instant::now()),
                Some(ScanEvent::Connected) => { lock(&lane).scanner(true); Vec::new() }
                Some(ScanEvent::Lost) => { lock(&lane).scanner(false); Vec::new() }
                None => { scans_open = false; Vec::new() }
            },
            hint = hints.recv(), if hints_open => match hint {
                Some(h) => lock(&lane).step(h, Instant::now()),
                None => { hints_open = false; Vec::new() }
            },
            _ = ticks.tick() => {
                let (calls, paused) = {
                    let mut l = lock(&lane);
                    let calls = l.step(Input::Tick, Instant::now());
                    (calls, l.machine().out_of_service().map(str::to_string))
                };
                watchdog.tick(Instant::now(), || crate::watchdog::ready_status(paused.as_deref()));
                calls
            }
        };
        spawn(calls);
    }
}
