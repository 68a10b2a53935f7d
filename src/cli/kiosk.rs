//! `vipps-kiosk [--config FILE]`: the kiosk in its window, or with `--headless` the lane
//! alone (its payments, POS API, journal and scanner, no screen).

use super::{Cli, parts};
use crate::{
    app::{App, Setup},
    lane::{self, ScannerSource},
    ui::theme,
};
use std::{process::ExitCode, time::Duration};

pub fn run(cli: &Cli, runtime: &tokio::runtime::Runtime) -> ExitCode {
    let parts::Kiosk {
        setup,
        sim,
        design,
        fullscreen,
    } = parts::kiosk(cli, runtime);
    let result = if cli.headless {
        headless(setup, runtime)
    } else {
        window(setup, design, fullscreen)
    };
    drop(sim);
    result
}

fn window(setup: Setup, design: iced::Size, fullscreen: bool) -> ExitCode {
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
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vipps-kiosk: the window failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--headless`: the lane without its window, until interrupted. Anything that would put the
/// window on its Out-of-service screen ends the process instead.
fn headless(setup: Setup, runtime: &tokio::runtime::Runtime) -> ExitCode {
    let client = match setup.client {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vipps-kiosk: out of service: {e}");
            return ExitCode::FAILURE;
        }
    };
    let services = setup.services;
    if matches!(services.scanner, ScannerSource::Hid(_)) {
        eprintln!("vipps-kiosk: --headless reads scans from --scanner stdin or none");
        return ExitCode::from(2);
    }
    let lane = match services.open_lane(setup.machine.clone()) {
        (lane, None) => std::sync::Arc::new(std::sync::Mutex::new(lane)),
        (_, Some(e)) => {
            eprintln!("vipps-kiosk: out of service: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(hub) = services.hub() {
        hub.set_client(client.clone());
    }
    let tick = Duration::from_millis(100).min(setup.machine.poll_interval / 2);
    runtime.block_on(async move {
        let (inputs, problems) = services.start().await;
        if let Some(p) = problems.first() {
            eprintln!("vipps-kiosk: {p}");
            return ExitCode::FAILURE;
        }
        tokio::select! {
            () = lane::run(lane, client, inputs, tick) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        ExitCode::SUCCESS
    })
}
