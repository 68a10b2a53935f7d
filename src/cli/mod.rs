//! The command line: its arguments, and one file per subcommand. `main.rs` parses and
//! dispatches; `parts` turns a configuration into the running lane's parts, and is the only
//! place that starts the embedded simulator.

pub mod check;
pub mod kiosk;
pub mod parts;
mod probe;
pub mod selftest;
pub mod sim;
pub mod webhooks;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(version, about = "Vipps MobilePay self-checkout payment kiosk")]
pub struct Cli {
    /// Lane configuration (TOML). Without it the demo runs: embedded simulator, sample orders.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Where scans come from: hid (a USB scanner; the default with --config), stdin (one scan
    /// per line), none (developer panel only; the default for the demo).
    #[arg(long, value_enum)]
    pub scanner: Option<ScannerArg>,
    /// Fill the screen and hide decorations (default with --config).
    #[arg(long, conflicts_with = "windowed")]
    pub fullscreen: bool,
    /// A normal window (default for the demo).
    #[arg(long)]
    pub windowed: bool,
    /// Lay the screens out for a landscape display.
    #[arg(long)]
    pub landscape: bool,
    /// No window: run the lane's payments, POS API, journal and scanner (stdin or none) only.
    /// For tests and diagnosis; a customer needs the screen.
    #[arg(long, conflicts_with_all = ["fullscreen", "windowed", "landscape"])]
    pub headless: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ScannerArg {
    None,
    Stdin,
    Hid,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check a lane: the config, the Vipps keys (fetches a token), what the sales unit takes
    /// (two probe payments of the smallest amount, neither paid: cancelled at once, or pushed
    /// to a number with no customer), the POS API settings and the scanners. Exits non-zero
    /// when anything is wrong.
    Check {
        /// Leave out the probe payments (as the service does before every start, so that a
        /// lane restarting often makes no payments at Vipps).
        #[arg(long)]
        no_payments: bool,
    },
    /// Make the payments Vipps' go-live review asks for (captured, refunded, cancelled; push
    /// and one-time QR), against the simulator or Vipps' test environment, and print their
    /// references and final states.
    Selftest(selftest::SelftestArgs),
    /// Manage this sales unit's webhook registrations (Webhooks API).
    Webhooks {
        #[command(subcommand)]
        action: WebhookAction,
    },
    /// Run the Vipps simulator alone.
    Sim(sim::SimArgs),
}

#[derive(Subcommand)]
pub enum WebhookAction {
    /// Register URL for the ePayment events; the secret goes to --secret-file (mode 0600).
    Register {
        /// Where Vipps delivers: the kiosk's receiver, or a store backend relaying to it.
        /// Default: `[webhooks] public_url`.
        #[arg(long)]
        url: Option<String>,
        /// The secret Vipps returns is shown once: it is written here, never printed.
        #[arg(long)]
        secret_file: PathBuf,
    },
    /// List the registrations.
    List,
    /// Delete a registration by id.
    Delete { id: String },
}

/// Logs to stderr, filtered by `KIOSK_LOG` (default `warn,vipps_kiosk=info`).
pub fn init_logging() {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_env("KIOSK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("warn,vipps_kiosk=info"));
    fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// The runtime the servers (POS API, webhooks, the embedded simulator) run on, beside the
/// window's own event loop.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("kiosk-servers")
        .enable_all()
        .build()
}
