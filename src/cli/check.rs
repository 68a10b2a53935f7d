//! `vipps-kiosk check`: one line per check, `ok` or `problem`, and a non-zero exit on
//! problems (2 for the configuration itself).

use super::{Cli, parts};
use crate::config::{self, Config};
use std::process::ExitCode;

/// The checks' findings, printed as they come.
#[derive(Default)]
struct Report {
    problems: usize,
}

impl Report {
    fn line(&mut self, ok: bool, what: impl AsRef<str>) {
        println!(
            "{} {}",
            if ok { "ok     " } else { "PROBLEM" },
            what.as_ref()
        );
        if !ok {
            self.problems += 1;
        }
    }
}

/// Runs every check; `probe`: with the probe payments that show what the sales unit takes.
pub fn run(cli: &Cli, runtime: &tokio::runtime::Runtime, probe: bool) -> ExitCode {
    let Some(path) = &cli.config else {
        eprintln!("vipps-kiosk check: give the lane's configuration with --config FILE");
        return ExitCode::from(2);
    };
    let mut report = Report::default();
    let config = match Config::load(path) {
        Ok(c) => {
            report.line(
                true,
                format!(
                    "configuration {} (market {:?}, lane {})",
                    path.display(),
                    c.market,
                    c.lane_id
                ),
            );
            c
        }
        Err(e) => {
            report.line(false, format!("configuration: {e}"));
            return ExitCode::from(2);
        }
    };
    let mut sim = None;
    vipps(&config, runtime, &mut sim, probe, &mut report);
    pos(&config, &mut report);
    webhooks(&config, &mut report);
    metrics(&config, &mut report);
    journal(&config, &mut report);
    scanner(&config, &mut report);
    screen(&config, &mut report);
    drop(sim);
    if report.problems == 0 {
        println!("the lane is ready");
        ExitCode::SUCCESS
    } else {
        println!("{} problem(s)", report.problems);
        ExitCode::FAILURE
    }
}

/// The keys: a token is fetched.
fn vipps(
    config: &Config,
    runtime: &tokio::runtime::Runtime,
    sim: &mut Option<crate::sim::Simulator>,
    probe: bool,
    report: &mut Report,
) {
    let client = match parts::connect(config, runtime, sim) {
        Ok(c) => c,
        Err(e) => return report.line(false, format!("Vipps client: {e}")),
    };
    match runtime.block_on(client.access_token()) {
        Ok(_) => {
            let left = client.token_expires_in().map(|d| d.as_secs() / 60);
            report.line(
                true,
                format!(
                    "Vipps at {} accepted the keys (token valid {} min)",
                    client.base_url(),
                    left.unwrap_or(0)
                ),
            );
            if !probe {
                return report.line(true, "what the sales unit takes: not asked (--no-payments)");
            }
            for (ok, what) in runtime.block_on(super::probe::sales_unit(&client, config)) {
                report.line(ok, what);
            }
        }
        Err(e) => report.line(
            false,
            format!(
                "Vipps at {} refused or did not answer: {e}",
                client.base_url()
            ),
        ),
    }
}

fn pos(config: &Config, report: &mut Report) {
    use config::PosTransport;
    match (config.pos_listen(), config.pos_token(&config::process_env)) {
        (Ok(listen), Some(_)) => match std::net::TcpListener::bind(listen) {
            Ok(_) => report.line(true, format!("POS API can listen on {listen}")),
            Err(e) => report.line(false, format!("POS API cannot listen on {listen}: {e}")),
        },
        (Ok(_), None) => report.line(
            false,
            "POS API: no token (set KIOSK_POS_TOKEN or [pos] token); the POS cannot send orders",
        ),
        (Err(e), _) => report.line(false, format!("POS API: {e}")),
    }
    match config.pos_transport() {
        PosTransport::Tls {
            client_certificates,
        } => match config.pos_tls() {
            Ok(_) => report.line(
                true,
                if client_certificates {
                    "POS API over TLS; the POS must show a client certificate from pos.client_ca"
                } else {
                    "POS API over TLS (no client certificates asked for)"
                },
            ),
            Err(e) => report.line(false, format!("POS API TLS: {e}")),
        },
        PosTransport::Loopback => {
            report.line(true, "POS API over plain HTTP, on this machine only")
        }
        PosTransport::PlainBeyondLoopback => report.line(
            false,
            "POS API over plain HTTP beyond this machine (allow_plain_http_beyond_loopback): its token and every order cross the network in clear; set pos.tls_cert and pos.tls_key",
        ),
    }
    if let Some(problem) = config.secrets_open_to_others() {
        report.line(false, problem);
    }
}

fn webhooks(config: &Config, report: &mut Report) {
    match config.webhook_receiver(&config::process_env) {
        Ok(None) => {}
        Ok(Some(w)) => match std::net::TcpListener::bind(w.listen) {
            Ok(_) => report.line(
                true,
                format!(
                    "webhook receiver can listen on {}{} (secret set)",
                    w.listen, w.path
                ),
            ),
            Err(e) => report.line(
                false,
                format!("webhook receiver cannot listen on {}: {e}", w.listen),
            ),
        },
        Err(e) => report.line(false, format!("webhooks: {e}")),
    }
}

fn metrics(config: &Config, report: &mut Report) {
    match config.metrics_listen() {
        Ok(None) => {}
        Ok(Some(listen)) => {
            let reach = if listen.ip().is_loopback() {
                "this machine only"
            } else {
                "reachable from the network, as [metrics] listen says"
            };
            match std::net::TcpListener::bind(listen) {
                Ok(_) => report.line(
                    true,
                    format!("metrics can listen on {listen}/metrics ({reach})"),
                ),
                Err(e) => report.line(false, format!("metrics cannot listen on {listen}: {e}")),
            }
        }
        Err(e) => report.line(false, format!("metrics: {e}")),
    }
}

fn journal(config: &Config, report: &mut Report) {
    let Some(path) = &config.journal.path else {
        return report.line(
            false,
            "no [journal] path: after a crash or restart the payment under way would not be finished",
        );
    };
    // Opening it for real would take its lock and compact it: only try that it can be
    // written (and created).
    let writable = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            let mut options = std::fs::OpenOptions::new();
            options.append(true).create(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options.open(path)
        });
    match writable {
        Ok(_) => report.line(true, format!("journal {} can be written", path.display())),
        Err(e) => report.line(
            false,
            format!("journal {} cannot be written: {e}", path.display()),
        ),
    }
}

fn scanner(config: &Config, report: &mut Report) {
    use crate::scanner::hid;
    let devices = match hid::list_devices() {
        Ok(d) => d,
        Err(e) => return report.line(false, format!("HID: {e}")),
    };
    for d in &devices {
        println!(
            "        HID {:04x}:{:04x} {:?} {} ({})",
            d.vendor_id,
            d.product_id,
            d.kind(),
            d.name,
            d.path
        );
    }
    match hid::choose(&devices, &parts::scanner_filter(config)) {
        Some((d, kind)) => report.line(
            true,
            format!(
                "scanner {:04x}:{:04x} ({kind:?}) at {}",
                d.vendor_id, d.product_id, d.path
            ),
        ),
        None => report.line(
            false,
            "no scanner found: plug it in, set it to HID POS mode (or name it in [scanner]), and install assets/udev/70-vipps-kiosk-scanner.rules",
        ),
    }
}

/// What the customer sees and hears: the brand today, and whether the speech engine is there.
fn screen(config: &Config, report: &mut Report) {
    let today = config.today().unwrap_or_default();
    let date = today.date(config.market);
    let branding = config.market.branding(config.brand, date);
    report.line(
        true,
        format!(
            "brand {} on {date} (brand = {:?}; Vipps in every market from {})",
            branding.brand.name(),
            config.brand,
            crate::market::VIPPS_EVERYWHERE_FROM
        ),
    );
    let Some(engine) = parts::speech_engine(config) else {
        return report.line(true, "speech: off ([accessibility] speech = false)");
    };
    match engine.locate() {
        Some(path) => report.line(true, format!("speech engine {}", path.display())),
        None => report.line(
            false,
            format!(
                "speech engine {} not found: customers get no speech and the control is hidden (install espeak-ng, or set [accessibility] speech_command)",
                engine.program()
            ),
        ),
    }
}
