//! `vipps-kiosk sim`: the Vipps simulator alone, for pointing a lane or another tool at it.

use crate::{
    sim::{SimConfig, Simulator},
    vipps::model::Currency,
};
use std::{net::SocketAddr, process::ExitCode, time::Duration};

#[derive(Debug, clap::Args)]
pub struct SimArgs {
    #[arg(long, default_value = "127.0.0.1:8089")]
    pub listen: SocketAddr,
    /// Approve every payment this many milliseconds after it was created.
    #[arg(long)]
    pub auto_approve_ms: Option<u64>,
    /// Simulator seconds per real second (60: the 10-minute QR window lasts 10 s).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Accept only this currency (NOK, DKK or EUR), as a real sales unit does.
    #[arg(long)]
    pub currency: Option<String>,
    /// Hand out QR image and landing-page links on this simulator's own address (with Vipps'
    /// paths) instead of Vipps' hosts: for a lane that shows Vipps' QR image (`vipps-image`).
    #[arg(long)]
    pub local_links: bool,
}

fn parse_currency(s: &str) -> Result<Currency, String> {
    match s {
        "NOK" => Ok(Currency::Nok),
        "DKK" => Ok(Currency::Dkk),
        "EUR" => Ok(Currency::Eur),
        other => Err(format!("unknown currency {other:?}: NOK, DKK or EUR")),
    }
}

pub fn run(args: &SimArgs, runtime: &tokio::runtime::Runtime) -> ExitCode {
    let currency = match args.currency.as_deref().map(parse_currency).transpose() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vipps-kiosk sim: {e}");
            return ExitCode::from(2);
        }
    };
    let config = SimConfig {
        time_scale: args.time_scale,
        auto_approve_after: args.auto_approve_ms.map(Duration::from_millis),
        currency,
        links: if args.local_links {
            crate::sim::Links::Local
        } else {
            crate::sim::Links::Vipps
        },
        ..SimConfig::default()
    };
    let listen = args.listen;
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
