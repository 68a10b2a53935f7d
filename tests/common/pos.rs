//! A lane behind the real POS API on a free local port, run by `lane::run` (the headless
//! mode's loop), as the POS-side tests drive it.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::sync::mpsc;
use vipps_kiosk::{
    lane::{self, Lane, ScanEvent},
    pos::{self, Hub},
    vipps::{Client, Secret, model::Currency},
};

/// The bearer token the POS-side tests use.
pub const TOKEN: &str = "pos-secret-token";

/// Serves `kiosk` (with `hub`, Vipps through `client`) behind the POS API of a Norwegian lane:
/// its address, and where scans go in as from the scanner.
pub async fn serve(
    kiosk: Arc<Mutex<Lane>>,
    hub: Arc<Hub>,
    client: Client,
) -> (String, mpsc::Sender<ScanEvent>) {
    let (commands_tx, commands) = mpsc::channel(8);
    let (scans_tx, scans) = mpsc::channel(8);
    let (no_webhooks, hints) = mpsc::channel(1);
    tokio::spawn(async move {
        let _keep = no_webhooks;
        let inputs = lane::Inputs {
            commands,
            scans,
            hints,
        };
        lane::run(kiosk, client, inputs, Duration::from_millis(20)).await
    });
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = pos::router(
        hub,
        Secret::new(TOKEN),
        pos::OrderRules::new(Currency::Nok),
        commands_tx,
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, scans_tx)
}
