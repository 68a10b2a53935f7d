//! `vipps-kiosk`: the demo with no arguments, a real lane with `--config`, `sim` for the
//! simulator alone. Parses arguments, sets up logging, loads the config and starts the window.

use clap::{Parser, Subcommand, ValueEnum};
use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};
use vipps_kiosk::{
    app::{self, App, DevPanel, ScannerSource, Setup},
    config::{self, ApiTarget, Config},
    payment,
    scanner::hid::DeviceFilter,
    sim::{SimConfig, Simulator},
    ui::{icons::Direction, theme},
    vipps::{self, ClientConfig, model::Currency},
};

#[derive(Parser)]
#[command(version, about = "Vipps MobilePay self-checkout payment kiosk")]
struct Cli {
    /// Lane configuration (TOML). Without it the demo runs: embedded simulator, sample orders.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where scans come from: hid (a USB scanner; the default with --config), stdin (one scan
    /// per line), none (developer panel only; the default for the demo).
    #[arg(long, value_enum)]
    scanner: Option<ScannerArg>,
    /// Fill the screen and hide decorations (default with --config).
    #[arg(long, conflicts_with = "windowed")]
    fullscreen: bool,
    /// A normal window (default for the demo).
    #[arg(long)]
    windowed: bool,
    /// Lay the screens out for a landscape display.
    #[arg(long)]
    landscape: bool,
    /// No window: run the lane's payments, POS API, journal and scanner (stdin or none) only.
    /// For tests and diagnosis; a customer needs the screen.
    #[arg(long, conflicts_with_all = ["fullscreen", "windowed", "landscape"])]
    headless: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ScannerArg {
    None,
    Stdin,
    Hid,
}

#[derive(Subcommand)]
enum Command {
    /// Check a lane: the config, the Vipps keys (fetches a token), the POS API settings and
    /// the scanners. Exits non-zero when anything is wrong.
    Check,
    /// Manage this sales unit's webhook registrations (Webhooks API).
    Webhooks {
        #[command(subcommand)]
        action: WebhookAction,
    },
    /// Run the Vipps simulator alone.
    Sim {
        #[arg(long, default_value = "127.0.0.1:8089")]
        listen: SocketAddr,
        /// Approve every payment this many milliseconds after it was created.
        #[arg(long)]
        auto_approve_ms: Option<u64>,
        /// Simulator seconds per real second (60: the 10-minute QR window lasts 10 s).
        #[arg(long, default_value_t = 1.0)]
        time_scale: f64,
        /// Accept only this currency (NOK, DKK or EUR), as a real sales unit does.
        #[arg(long)]
        currency: Option<String>,
    },
}

#[derive(Subcommand)]
enum WebhookAction {
    /// Register URL for the ePayment events; the secret goes to --secret-file (mode 0600).
    Register {
        /// Where Vipps delivers: the kiosk's receiver, or a store backend relaying to it.
        #[arg(long)]
        url: String,
        /// The secret Vipps returns is shown once: it is written here, never printed.
        #[arg(long)]
        secret_file: PathBuf,
    },
    /// List the registrations.
    List,
    /// Delete a registration by id.
    Delete { id: String },
}

fn init_logging() {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_env("KIOSK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("warn,vipps_kiosk=info"));
    fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    init_logging();
    vipps::install_crypto_provider();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("kiosk-servers")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vipps-kiosk: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Some(Command::Sim {
            listen,
            auto_approve_ms,
            time_scale,
            currency,
        }) => {
            let currency = match currency.as_deref().map(parse_currency).transpose() {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("vipps-kiosk sim: {e}");
                    return ExitCode::from(2);
                }
            };
            let config = SimConfig {
                time_scale,
                auto_approve_after: auto_approve_ms.map(Duration::from_millis),
                currency,
                ..SimConfig::default()
            };
            runtime.block_on(async {
                match Simulator::start(listen, config).await {
                    Ok(sim) => {
                        eprintln!("Vipps simulator on {}", sim.base_url());
                        sim.serve_forever().await;
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("vipps-kiosk sim: cannot listen on {listen}: {e}");
                        ExitCode::FAILURE
                    }
                }
            })
        }
        Some(Command::Check) => run_check(&cli, &runtime),
        Some(Command::Webhooks { ref action }) => run_webhooks(&cli, action, &runtime),
        None => run_kiosk(&cli, &runtime),
    }
}

fn parse_currency(s: &str) -> Result<Currency, String> {
    match s {
        "NOK" => Ok(Currency::Nok),
        "DKK" => Ok(Currency::Dkk),
        "EUR" => Ok(Currency::Eur),
        other => Err(format!("unknown currency {other:?}: NOK, DKK or EUR")),
    }
}

fn run_kiosk(cli: &Cli, runtime: &tokio::runtime::Runtime) -> ExitCode {
    let demo_mode = cli.config.is_none();
    let loaded = match &cli.config {
        Some(path) => Config::load(path),
        None => Ok(Config::demo()),
    };
    // A broken config still opens the window, on the out-of-service screen with the reason.
    let (config, problem) = match loaded {
        Ok(c) => (c, None),
        Err(e) => {
            eprintln!("vipps-kiosk: configuration error: {e}");
            (Config::default(), Some(format!("Configuration error: {e}")))
        }
    };
    let market = config.market;
    let (webhooks, problem) = match (problem, config.webhook_receiver(&config::process_env)) {
        (Some(p), _) => (None, Some(p)),
        (None, Ok(w)) => (w, None),
        (None, Err(e)) => {
            eprintln!("vipps-kiosk: configuration error: {e}");
            (None, Some(format!("Configuration error: {e}")))
        }
    };
    let mut sim = None;
    let client = match problem {
        Some(p) => Err(p),
        None => connect(&config, runtime, &mut sim),
    };
    // The developer panel plays the phone against a simulator: the embedded one, or a
    // `vipps-kiosk sim` on this machine (plain http is only allowed locally), with demo orders.
    let sim_url = match (&sim, config.api_target()) {
        (Some(s), _) => Some(s.base_url()),
        (None, Ok(ApiTarget::Url(url))) if url.starts_with("http://") => Some(url),
        _ => None,
    };
    let dev = sim_url
        .filter(|_| demo_mode || config.demo.orders)
        .map(|sim_url| DevPanel { sim_url });
    let run_id = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
    let demo = if config.demo.orders && client.is_ok() {
        match app::demo::orders(market.currency(), &run_id) {
            Ok(orders) => Some(app::demo::Demo::new(orders, run_id)),
            Err(e) => {
                tracing::error!(error = %e, "demo orders unusable");
                None
            }
        }
    } else {
        None
    };
    let fullscreen = cli.fullscreen || (!demo_mode && !cli.windowed);
    let design = if cli.landscape {
        iced::Size::new(1920.0, 1080.0)
    } else {
        iced::Size::new(1080.0, 1920.0)
    };
    // The demo window is the design canvas at half size; the layout scales to fit. iced sizes
    // the window in scaled units, so it is given the canvas size.
    let physical = if fullscreen { design } else { design * 0.5 };
    let pos = match (config.pos_listen(), config.pos_token(&config::process_env)) {
        (Ok(listen), Some(token)) => Some(app::PosSetup {
            listen,
            token,
            hub: vipps_kiosk::pos::Hub::new(),
            currency: market.currency(),
        }),
        (_, None) if !demo_mode && !config.demo.orders => {
            tracing::warn!("no POS token (KIOSK_POS_TOKEN or [pos] token): the POS API is off");
            None
        }
        _ => None,
    };
    let setup = Setup {
        pos,
        market,
        lang: config.language(),
        client,
        machine: payment::Config {
            poll_interval: config.poll_interval(),
            walk_away_after: config.walk_away_after(),
            exchange_personal_qr: config.vipps.personal_qr == config::PersonalQrMode::Exchange,
            one_time_qr_api: config.vipps.one_time_qr,
            qr_image: config.qr_image(),
            relaxed_poll_interval: webhooks
                .is_some()
                .then(|| Duration::from_millis(config.webhooks.poll_interval_ms)),
            ..payment::Config::default()
        },
        demo,
        dev,
        scanner: match cli.scanner.unwrap_or(if demo_mode {
            ScannerArg::None
        } else {
            ScannerArg::Hid
        }) {
            ScannerArg::None => ScannerSource::None,
            ScannerArg::Stdin => ScannerSource::Stdin,
            ScannerArg::Hid => ScannerSource::Hid(DeviceFilter {
                vendor_id: config.scanner.vendor_id,
                product_id: config.scanner.product_id,
            }),
        },
        scanner_direction: match config.scanner_position {
            config::ScannerPosition::Below => Direction::Down,
            config::ScannerPosition::Left => Direction::Left,
            config::ScannerPosition::Right => Direction::Right,
        },
        window: physical,
        hide_cursor: fullscreen,
        journal: config.journal.path.clone(),
        webhooks,
    };
    if cli.headless {
        let result = run_headless(setup, runtime);
        drop(sim);
        return result;
    }
    let result = iced::application(move || App::new(setup.clone()), App::update, App::view)
        .title(App::title)
        .subscription(App::subscription)
        .scale_factor(App::scale_factor)
        .theme(|_: &App| theme::app_theme())
        .font(theme::FONT_REGULAR_BYTES)
        .font(theme::FONT_BOLD_BYTES)
        .default_font(theme::REGULAR)
        .window(iced::window::Settings {
            size: design,
            fullscreen,
            decorations: !fullscreen,
            resizable: !fullscreen,
            ..iced::window::Settings::default()
        })
        .run();
    drop(sim);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vipps-kiosk: the window failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--headless`: the lane without its window, until interrupted.
fn run_headless(setup: Setup, runtime: &tokio::runtime::Runtime) -> ExitCode {
    let client = match setup.client {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vipps-kiosk: out of service: {e}");
            return ExitCode::FAILURE;
        }
    };
    let hub = setup.pos.as_ref().map(|p| p.hub.clone());
    let lane = match &setup.journal {
        Some(path) => vipps_kiosk::lane::Lane::open(setup.machine.clone(), path, hub.clone()),
        None => Ok(vipps_kiosk::lane::Lane::new(setup.machine.clone(), hub)),
    };
    let lane = match lane {
        Ok(l) => std::sync::Arc::new(std::sync::Mutex::new(l)),
        Err(e) => {
            eprintln!("vipps-kiosk: out of service: {e}");
            return ExitCode::FAILURE;
        }
    };
    let tick = Duration::from_millis(100).min(setup.machine.poll_interval / 2);
    runtime.block_on(async move {
        let (_no_pos, mut commands) = tokio::sync::mpsc::channel(1);
        if let Some(p) = &setup.pos {
            p.hub.set_client(client.clone());
            match vipps_kiosk::pos::serve(p.listen, p.hub.clone(), p.token.clone(), p.currency)
                .await
            {
                Ok(rx) => commands = rx,
                Err(e) => {
                    eprintln!(
                        "vipps-kiosk: the POS API cannot listen on {}: {e}",
                        p.listen
                    );
                    return ExitCode::FAILURE;
                }
            }
        }
        let (_no_hints, mut hints) = tokio::sync::mpsc::channel(1);
        if let Some(w) = setup.webhooks.clone() {
            let listen = w.listen;
            match vipps_kiosk::webhooks::serve(w, setup.pos.as_ref().map(|p| p.hub.clone())).await {
                Ok(rx) => hints = rx,
                Err(e) => {
                    eprintln!("vipps-kiosk: the webhook receiver cannot listen on {listen}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        let (scans_tx, scans) = tokio::sync::mpsc::channel(16);
        match setup.scanner {
            ScannerSource::Stdin => {
                tokio::spawn(async move {
                    let mut stdin = vipps_kiosk::scanner::stdin::StdinScanner::new();
                    while let Some(line) = stdin.next_scan().await {
                        if scans_tx
                            .send(vipps_kiosk::scan::RawScan(line))
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                });
            }
            ScannerSource::None => drop(scans_tx),
            ScannerSource::Hid(_) => {
                eprintln!("vipps-kiosk: --headless reads scans from --scanner stdin or none");
                return ExitCode::from(2);
            }
        }
        tokio::select! {
            () = vipps_kiosk::lane::run(lane, client, commands, scans, hints, tick) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        ExitCode::SUCCESS
    })
}

/// Builds the Vipps client, starting the embedded simulator when the config asks for it.
fn connect(
    config: &Config,
    runtime: &tokio::runtime::Runtime,
    sim: &mut Option<Simulator>,
) -> Result<vipps::Client, String> {
    let base_url = match config.api_target().map_err(|e| e.to_string())? {
        ApiTarget::EmbeddedSim => {
            let sim_config = SimConfig {
                currency: Some(config.market.currency()),
                auto_approve_after: config.sim.auto_approve_after_ms.map(Duration::from_millis),
                ..SimConfig::default()
            };
            let started = runtime
                .block_on(Simulator::start(
                    SocketAddr::from(([127, 0, 0, 1], 0)),
                    sim_config,
                ))
                .map_err(|e| format!("the embedded simulator could not start: {e}"))?;
            let url = started.base_url();
            *sim = Some(started);
            url
        }
        ApiTarget::Url(url) => url,
    };
    let credentials = config
        .credentials(&config::process_env)
        .map_err(|e| e.to_string())?;
    vipps::Client::new(ClientConfig {
        base_url,
        credentials,
        system: config.system_info(),
        timeout: config.request_timeout(),
        retry: vipps::RetryPolicy::default(),
        ecom: config.ecom_merchant(),
    })
    .map_err(|e| e.to_string())
}

/// `vipps-kiosk webhooks register|list|delete`.
fn run_webhooks(cli: &Cli, action: &WebhookAction, runtime: &tokio::runtime::Runtime) -> ExitCode {
    let Some(path) = &cli.config else {
        eprintln!("vipps-kiosk webhooks: give the lane's configuration with --config FILE");
        return ExitCode::from(2);
    };
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vipps-kiosk webhooks: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let mut sim = None;
    let client = match connect(&config, runtime, &mut sim) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vipps-kiosk webhooks: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match action {
            WebhookAction::Register { url, secret_file } => {
                // Refuse before registering: a secret with nowhere to go would be lost.
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(secret_file).map_err(|e| {
                    format!(
                        "cannot create {} (it must not exist yet): {e}",
                        secret_file.display()
                    )
                })?;
                let registered = client
                    .register_webhook(url, &vipps_kiosk::webhooks::EPAYMENT_EVENTS)
                    .await;
                let (id, secret) = match registered {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = std::fs::remove_file(secret_file);
                        return Err(format!("Vipps refused the registration: {e}"));
                    }
                };
                use std::io::Write;
                file.write_all(secret.expose().as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|e| format!("registered {id}, but writing the secret failed: {e}; delete it and register again"))?;
                println!("registered {id} for {url}");
                println!(
                    "the secret is in {} (mode 0600); point [webhooks] secret_file at it",
                    secret_file.display()
                );
                Ok(())
            }
            WebhookAction::List => {
                let hooks = client.list_webhooks().await.map_err(|e| e.to_string())?;
                if hooks.is_empty() {
                    println!("no webhooks registered");
                }
                for h in hooks {
                    println!("{} {} {}", h.id, h.url, h.events.join(","));
                }
                Ok(())
            }
            WebhookAction::Delete { id } => {
                client.delete_webhook(id).await.map_err(|e| e.to_string())?;
                println!("deleted {id}");
                Ok(())
            }
        }
    });
    drop(sim);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vipps-kiosk webhooks: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `vipps-kiosk check`: one line per check, `ok` or `problem`, and a non-zero exit on problems.
fn run_check(cli: &Cli, runtime: &tokio::runtime::Runtime) -> ExitCode {
    let Some(path) = &cli.config else {
        eprintln!("vipps-kiosk check: give the lane's configuration with --config FILE");
        return ExitCode::from(2);
    };
    let mut problems = 0;
    let mut report = |ok: bool, what: String| {
        println!("{} {what}", if ok { "ok     " } else { "PROBLEM" });
        if !ok {
            problems += 1;
        }
    };
    let config = match Config::load(path) {
        Ok(c) => {
            report(
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
            report(false, format!("configuration: {e}"));
            return ExitCode::from(2);
        }
    };
    let mut sim = None;
    match connect(&config, runtime, &mut sim) {
        Ok(client) => match runtime.block_on(client.access_token()) {
            Ok(_) => {
                let left = runtime
                    .block_on(client.token_expires_in())
                    .map(|d| d.as_secs() / 60);
                report(
                    true,
                    format!(
                        "Vipps at {} accepted the keys (token valid {} min)",
                        client.base_url(),
                        left.unwrap_or(0)
                    ),
                );
            }
            Err(e) => report(
                false,
                format!(
                    "Vipps at {} refused or did not answer: {e}",
                    client.base_url()
                ),
            ),
        },
        Err(e) => report(false, format!("Vipps client: {e}")),
    }
    match (config.pos_listen(), config.pos_token(&config::process_env)) {
        (Ok(listen), Some(_)) => match std::net::TcpListener::bind(listen) {
            Ok(_) => report(true, format!("POS API can listen on {listen}")),
            Err(e) => report(false, format!("POS API cannot listen on {listen}: {e}")),
        },
        (Ok(_), None) => report(
            false,
            "POS API: no token (set KIOSK_POS_TOKEN or [pos] token); the POS cannot send orders"
                .into(),
        ),
        (Err(e), _) => report(false, format!("POS API: {e}")),
    }
    match config.webhook_receiver(&config::process_env) {
        Ok(None) => {}
        Ok(Some(w)) => match std::net::TcpListener::bind(w.listen) {
            Ok(_) => report(
                true,
                format!(
                    "webhook receiver can listen on {}{} (secret set)",
                    w.listen, w.path
                ),
            ),
            Err(e) => report(
                false,
                format!("webhook receiver cannot listen on {}: {e}", w.listen),
            ),
        },
        Err(e) => report(false, format!("webhooks: {e}")),
    }
    match &config.journal.path {
        // Opening it for real would take its lock and compact it: only try that it can be
        // written (and created).
        Some(path) => match path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                let mut options = std::fs::OpenOptions::new();
                options.append(true).create(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                options.open(path)
            }) {
            Ok(_) => report(true, format!("journal {} can be written", path.display())),
            Err(e) => report(
                false,
                format!("journal {} cannot be written: {e}", path.display()),
            ),
        },
        None => report(
            false,
            "no [journal] path: after a crash or restart the payment under way would not be finished"
                .into(),
        ),
    }
    match vipps_kiosk::scanner::hid::list_devices() {
        Ok(devices) => {
            let filter = DeviceFilter {
                vendor_id: config.scanner.vendor_id,
                product_id: config.scanner.product_id,
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
            match vipps_kiosk::scanner::hid::choose(&devices, &filter) {
                Some((d, kind)) => report(true, format!("scanner {:04x}:{:04x} ({kind:?}) at {}", d.vendor_id, d.product_id, d.path)),
                None => report(
                    false,
                    "no scanner found: plug it in, set it to HID POS mode (or name it in [scanner]), and install assets/udev/70-vipps-kiosk-scanner.rules".into(),
                ),
            }
        }
        Err(e) => report(false, format!("HID: {e}")),
    }
    drop(sim);
    if problems == 0 {
        println!("the lane is ready");
        ExitCode::SUCCESS
    } else {
        println!("{problems} problem(s)");
        ExitCode::FAILURE
    }
}
