//! From a configuration to the parts of a running lane, in one place: the Vipps client (and
//! the embedded simulator, when the configuration asks for it: the only place that starts
//! one), the payment machine's settings, the lane's services, the demo and the window.

use super::{Cli, ScannerArg};
use crate::{
    app::{DevPanel, Setup, demo},
    config::{self, ApiTarget, Config, ScannerPosition},
    lane::{MetricsSetup, PosSetup, ScannerSource, Services},
    market::Market,
    metrics::{self, Metrics},
    payment,
    pos::Hub,
    scanner::hid::DeviceFilter,
    sim::{SimConfig, Simulator},
    speech::{Engine, Speaker},
    ui::{i18n, icons::Direction},
    vipps::{self, ClientConfig},
    webhooks::ReceiverSetup,
};
use std::{net::SocketAddr, sync::Arc, time::Duration};

/// A lane as the command line and its configuration describe it.
pub struct Kiosk {
    pub setup: Setup,
    /// The embedded simulator, running while this lives.
    pub sim: Option<Simulator>,
    /// The design canvas the window opens at (1080×1920, or 1920×1080 with `--landscape`).
    pub design: iced::Size,
    pub fullscreen: bool,
}

/// The configuration of `--config` (or the demo's) and its webhook receiver. A broken file
/// comes back as the default configuration, and a problem in either as the reason the lane is
/// out of service: the window still opens, on the Out-of-service screen.
fn load(cli: &Cli) -> (Config, Option<ReceiverSetup>, Option<String>) {
    let loaded = match &cli.config {
        Some(path) => Config::load(path),
        None => Ok(Config::demo()),
    };
    let problem = |e: config::ConfigError| {
        eprintln!("vipps-kiosk: configuration error: {e}");
        Some(format!("Configuration error: {e}"))
    };
    match loaded {
        Err(e) => (Config::default(), None, problem(e)),
        Ok(c) => match c.webhook_receiver(&config::process_env) {
            Ok(w) => (c, w, None),
            Err(e) => (c, None, problem(e)),
        },
    }
}

/// Builds the kiosk's parts: with no `--config` the demo (embedded simulator, sample orders,
/// developer panel), else the lane the file describes.
pub fn kiosk(cli: &Cli, runtime: &tokio::runtime::Runtime) -> Kiosk {
    let demo_mode = cli.config.is_none();
    let (config, webhooks, mut problem) = load(cli);
    key_fingerprints(&config);
    let pos = match pos_setup(&config, demo_mode || config.demo.orders) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("vipps-kiosk: configuration error: {e}");
            problem = problem.or(Some(format!("Configuration error: {e}")));
            None
        }
    };
    let mut sim = None;
    let client = match problem {
        Some(p) => Err(p),
        None => connect(&config, runtime, &mut sim),
    };
    let metrics = metrics_setup(&config);
    if client.is_err() {
        metrics.metrics.out_of_service("configuration");
    }
    let client = client.map(|c| c.with_metrics(metrics.metrics.clone()));
    let dev = dev_panel(&config, sim.as_ref()).filter(|_| demo_mode || config.demo.orders);
    let demo = demo_orders(&config).filter(|_| client.is_ok());
    let fullscreen = cli.fullscreen || (!demo_mode && !cli.windowed);
    let design = if cli.landscape {
        iced::Size::new(1920.0, 1080.0)
    } else {
        iced::Size::new(1080.0, 1920.0)
    };
    // The demo window is the design canvas at half size; the layout scales to fit. iced sizes
    // the window in scaled units, so it is given the canvas size.
    let physical = if fullscreen { design } else { design * 0.5 };
    let scanner = match cli.scanner.unwrap_or(if demo_mode {
        ScannerArg::None
    } else {
        ScannerArg::Hid
    }) {
        ScannerArg::None => ScannerSource::None,
        ScannerArg::Stdin => ScannerSource::Stdin,
        ScannerArg::Hid => ScannerSource::Hid(scanner_filter(&config)),
    };
    let services = Services {
        journal: config.journal.path.clone(),
        pos,
        webhooks,
        scanner,
        metrics: Some(metrics),
    };
    let setup = Setup {
        market: config.market,
        brand: config.brand,
        today: config.today().unwrap_or_default(),
        lang: config.language(),
        client,
        machine: machine_config(&config, services.webhooks.is_some()),
        services,
        demo,
        dev,
        scanner_direction: match config.scanner_position {
            ScannerPosition::Below => Direction::Down,
            ScannerPosition::Left => Direction::Left,
            ScannerPosition::Right => Direction::Right,
        },
        window: physical,
        hide_cursor: fullscreen,
        speech: speaker(&config),
        speech_key: config::function_key(&config.accessibility.speech_key).unwrap_or(1),
    };
    Kiosk {
        setup,
        sim,
        design,
        fullscreen,
    }
}

/// Keys the log's fingerprints with this install's key, kept in the state directory (beside
/// the journal). Without a journal, a key of this run.
fn key_fingerprints(config: &Config) {
    let Some(dir) = config.state_dir() else {
        return;
    };
    if let Err(e) = crate::redact::use_install_key(&dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "no install key for log fingerprints; using one of this run");
    }
}

/// The brand the metrics' build info names: the same function the screens ask (MobilePay
/// becomes Vipps on 12 January 2027); asked at every scrape, so the label changes on the day
/// without a restart.
pub fn brand_name(
    market: Market,
    choice: crate::market::BrandChoice,
    today: crate::market::Today,
) -> String {
    market
        .branding(choice, today.date(market))
        .brand
        .name()
        .to_string()
}

fn market_code(market: Market) -> &'static str {
    match market {
        Market::Norway => "NO",
        Market::Denmark => "DK",
        Market::Finland => "FI",
    }
}

/// The lane's metrics (`[metrics]`), served where `listen` says (validated with the file).
pub fn metrics_setup(config: &Config) -> MetricsSetup {
    let market = config.market;
    let (choice, today) = (config.brand, config.today().unwrap_or_default());
    let metrics = Metrics::new(metrics::Build {
        version: env!("CARGO_PKG_VERSION"),
        market: market_code(market),
        lane: config.lane_id.clone(),
        brand: Arc::new(move || brand_name(market, choice, today)),
    });
    MetricsSetup {
        metrics,
        listen: config.metrics_listen().ok().flatten(),
    }
}

/// The payment machine's settings.
pub fn machine_config(config: &Config, webhooks: bool) -> payment::Config {
    payment::Config {
        reference_prefix: config.reference_prefix(),
        poll_interval: config.poll_interval(),
        walk_away_after: config.walk_away_after(),
        exchange_personal_qr: config.vipps.personal_qr == config::PersonalQrMode::Exchange,
        one_time_qr_api: config.vipps.one_time_qr,
        qr_image: config.qr_image(),
        local_qr_fallback: config.vipps.local_qr_fallback,
        relaxed_poll_interval: webhooks
            .then(|| Duration::from_millis(config.webhooks.poll_interval_ms)),
        payment_description: payment_description(config),
        ..payment::Config::default()
    }
}

/// The payment's text: `payment_description`, or "<store>, receipt {receipt}" in the lane's
/// language, with the store's name filled in (the receipt number follows per order).
pub fn payment_description(config: &Config) -> String {
    let template = match &config.payment_description {
        Some(t) => t.as_str(),
        None => i18n::payment_description(config.language(), config.store_name.is_some()),
    };
    config.fill_store(template)
}

/// The speech engine, when speech is offered and the lane PC has the engine.
pub fn speech_engine(config: &Config) -> Option<Engine> {
    let a = &config.accessibility;
    Engine::new(config::speech_words(&a.speech_command)).filter(|_| a.speech)
}

/// Starts speaking through the engine the lane PC has; without it, no speech control shows.
fn speaker(config: &Config) -> Option<Speaker> {
    let engine = speech_engine(config)?;
    if engine.locate().is_none() {
        tracing::warn!(
            program = engine.program(),
            "no speech engine found: the kiosk offers no speech (install espeak-ng, or set [accessibility] speech_command)"
        );
        return None;
    }
    match Speaker::start(engine) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!(error = %e, "speech could not start");
            None
        }
    }
}

/// Which HID scanner to read (`[scanner]`).
pub fn scanner_filter(config: &Config) -> DeviceFilter {
    DeviceFilter {
        vendor_id: config.scanner.vendor_id,
        product_id: config.scanner.product_id,
    }
}

/// The POS API, when a token is set (without one it stays off; said unless this is a demo).
/// `Err`: its TLS files are not usable.
fn pos_setup(config: &Config, demo: bool) -> Result<Option<PosSetup>, config::ConfigError> {
    Ok(
        match (config.pos_listen(), config.pos_token(&config::process_env)) {
            (Ok(listen), Some(token)) => {
                if config.pos_transport() == config::PosTransport::PlainBeyondLoopback {
                    tracing::warn!(%listen, "the POS API serves plain HTTP beyond this machine (allow_plain_http_beyond_loopback): its token and orders cross the network in clear");
                }
                warn_if_config_open(config);
                let hub = Hub::new();
                hub.set_brand(
                    config.market,
                    config.brand,
                    config.today().unwrap_or_default(),
                );
                Some(PosSetup {
                    listen,
                    tls: config.pos_tls()?,
                    token,
                    hub,
                    rules: config.order_rules(),
                })
            }
            (_, None) if !demo => {
                tracing::warn!("no POS token (KIOSK_POS_TOKEN or [pos] token): the POS API is off");
                None
            }
            _ => None,
        },
    )
}

/// A configuration file that holds a secret should be private (`check` says so too).
fn warn_if_config_open(config: &Config) {
    if let Some(problem) = config.secrets_open_to_others() {
        tracing::warn!("{problem}");
    }
}

/// The developer panel plays the phone against a simulator: the embedded one, or a
/// `vipps-kiosk sim` on this machine (plain http is only allowed locally).
fn dev_panel(config: &Config, sim: Option<&Simulator>) -> Option<DevPanel> {
    let sim_url = match (sim, config.api_target()) {
        (Some(s), _) => s.base_url(),
        (None, Ok(ApiTarget::Url(url))) if url.starts_with("http://") => url,
        _ => return None,
    };
    Some(DevPanel {
        sim_url,
        unknown_customer_qr: format!("{}-demo", crate::sim::backend::TEST_QR_NOT_FOUND_PREFIX),
    })
}

/// The sample orders, with ids unique to this run, when `[demo] orders` is on.
fn demo_orders(config: &Config) -> Option<demo::Demo> {
    if !config.demo.orders {
        return None;
    }
    let run_id = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
    match demo::orders(config.market.currency(), &run_id) {
        Ok(orders) => Some(demo::Demo::new(orders, run_id)),
        Err(e) => {
            tracing::error!(error = %e, "demo orders unusable");
            None
        }
    }
}

/// Builds the Vipps client, starting the embedded simulator when the config asks for it.
pub fn connect(
    config: &Config,
    runtime: &tokio::runtime::Runtime,
    sim: &mut Option<Simulator>,
) -> Result<vipps::Client, String> {
    let base_url = match config.api_target().map_err(|e| e.to_string())? {
        ApiTarget::EmbeddedSim => {
            let sim_config = SimConfig {
                currency: Some(config.market.currency()),
                auto_approve_after: config.sim.auto_approve_after_ms.map(Duration::from_millis),
                // The kiosk fetches Vipps' QR images itself: from a simulator, only the
                // simulator's own address reaches them.
                links: if config.qr_image() {
                    crate::sim::Links::Local
                } else {
                    crate::sim::Links::Vipps
                },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_gets_the_lanes_qr_settings() {
        let parse = |extra: &str| {
            Config::parse(&format!(
                "lane_id = \"lane-1\"\n[vipps]\nbase_url = \"https://apitest.vipps.no\"\n{extra}"
            ))
            .expect("valid")
        };
        let m = machine_config(&parse(""), false);
        assert!(m.qr_image, "Vipps' image against Vipps by default");
        assert!(
            !m.local_qr_fallback,
            "never drawn here unless the store says so"
        );
        let m = machine_config(&parse("local_qr_fallback = true"), false);
        assert!(m.qr_image && m.local_qr_fallback);
        let m = machine_config(&parse("qr_source = \"local\""), false);
        assert!(!m.qr_image);
    }
}
