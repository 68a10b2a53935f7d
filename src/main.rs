//! `vipps-kiosk`: the demo with no arguments, a real lane with `--config`, and the `check`,
//! `webhooks` and `sim` subcommands. Parses the command line and dispatches; each subcommand
//! lives in its own file under `src/cli/`.

use clap::Parser;
use std::process::ExitCode;
use vipps_kiosk::{
    cli::{self, Cli, Command},
    vipps,
};

fn main() -> ExitCode {
    cli::init_logging();
    vipps::install_crypto_provider();
    let cli = Cli::parse();
    let runtime = match cli::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vipps-kiosk: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match &cli.command {
        Some(Command::Sim(args)) => cli::sim::run(args, &runtime),
        Some(Command::Check { no_payments }) => cli::check::run(&cli, &runtime, !no_payments),
        Some(Command::Selftest(args)) => cli::selftest::run(&cli, args, &runtime),
        Some(Command::Webhooks { action }) => cli::webhooks::run(&cli, action, &runtime),
        None => cli::kiosk::run(&cli, &runtime),
    }
}
