//! Set-up shared by the integration tests: a client, sample orders and Vipps answers, the
//! app at a given screen, and the render settings of the headless UI tests.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)] // each test crate uses a part

use iced::Size;
use std::time::{Duration, Instant};
use vipps_kiosk::{
    app::{App, Message, Setup},
    lane::{ScanEvent, ScannerSource, Services},
    market::{Lang, Market, Today},
    payment::{self, Input, Observed, Order},
    scan::RawScan,
    ui::{icons::Direction, theme},
    vipps::{
        self,
        model::{Aggregate, Amount, Currency, PaymentState},
    },
};

pub mod kiosk;
pub mod pos;
pub mod recorder;

pub const PORTRAIT: Size = Size::new(1080.0, 1920.0);
pub const LANDSCAPE: Size = Size::new(1920.0, 1080.0);
pub const SMALL: Size = Size::new(1280.0, 800.0);

pub const PERSONAL_QR: &str = "https://qr.vipps.no/p/AbC-123_xyz?v=2";
pub const QR_TARGET: &str = "http://sim/_sim/qr/abc123";

/// A simulator for a Norwegian sales unit (NOK only), on a free local port.
pub async fn simulator() -> vipps_kiosk::sim::Simulator {
    let config = vipps_kiosk::sim::SimConfig {
        currency: Some(Currency::Nok),
        ..vipps_kiosk::sim::SimConfig::default()
    };
    vipps_kiosk::sim::Simulator::start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .expect("simulator starts")
}

/// A client for `base_url`; for UI tests a port where nothing listens (it is never called).
pub fn client_for(base_url: &str) -> vipps::Client {
    vipps::Client::for_simulator(base_url).expect("client")
}

/// A client for `base_url` keeping `limits` per payment.
pub fn client_with_budget(base_url: &str, limits: vipps::budget::Limits) -> vipps::Client {
    vipps::Client::with_budget(
        vipps::Client::simulator_config(base_url),
        vipps::budget::Budget::new(limits),
    )
    .expect("client")
}

pub fn idle_client() -> vipps::Client {
    client_for("http://127.0.0.1:9")
}

/// The first sample order, under `id`.
pub fn order(id: &str) -> Order {
    let orders = vipps_kiosk::app::demo::orders(Currency::Nok, "test").expect("demo orders");
    Order {
        order_id: id.into(),
        ..orders[0].clone()
    }
}

/// What Vipps reports for the sample order in `state`, with `captured` minor units captured.
pub fn observed(state: PaymentState, captured: i64) -> Observed {
    let total = order("any-order-1").total_amount;
    let authorized = if state == PaymentState::Authorized {
        total
    } else {
        0
    };
    Observed {
        redirect_url: None,
        opened: false,
        state,
        aggregate: Aggregate {
            authorized_amount: Amount::new(Currency::Nok, authorized),
            captured_amount: Amount::new(Currency::Nok, captured),
            ..Aggregate::zero(Currency::Nok)
        },
    }
}

pub fn app_with(lang: Lang, window: Size, client: Result<vipps::Client, String>) -> App {
    app_with_machine(lang, window, client, payment::Config::default())
}

/// `app_with`, its payment machine configured as `machine`.
pub fn app_with_machine(
    lang: Lang,
    window: Size,
    client: Result<vipps::Client, String>,
    machine: payment::Config,
) -> App {
    App::new(Setup {
        machine,
        ..setup(lang, window, client)
    })
    .0
}

/// A Norwegian lane's setup in `lang`, without services, speech or demo; on a date before the
/// brand date, so that the screens do not change with the calendar.
pub fn setup(lang: Lang, window: Size, client: Result<vipps::Client, String>) -> Setup {
    Setup {
        market: Market::Norway,
        brand: vipps_kiosk::market::BrandChoice::Auto,
        today: Today::Fixed(time::macros::date!(2026 - 12 - 01)),
        lang,
        client,
        machine: payment::Config::default(),
        demo: None,
        dev: None,
        services: Services {
            journal: None,
            pos: None,
            webhooks: None,
            scanner: ScannerSource::None,
            metrics: None,
        },
        scanner_direction: Direction::Down,
        window,
        hide_cursor: false,
        speech: None,
        speech_key: 1,
    }
}

/// The layout size the app draws in a window of `physical` pixels (it scales to fit).
pub fn logical(physical: Size) -> Size {
    let scale = vipps_kiosk::app::fit_scale(physical);
    Size::new(physical.width / scale, physical.height / scale)
}

/// The kiosk's own fonts, as the real window has them.
pub fn render_settings() -> iced::Settings {
    iced::Settings {
        fonts: vec![
            theme::FONT_REGULAR_BYTES.into(),
            theme::FONT_BOLD_BYTES.into(),
        ],
        default_font: theme::REGULAR,
        ..iced::Settings::default()
    }
}

pub fn reference(app: &App) -> String {
    app.machine()
        .payment()
        .map(|p| p.reference.clone())
        .unwrap_or_default()
}

/// An API answer arriving at `now`.
pub fn feed(app: &mut App, input: Input, now: Instant) {
    let _ = app.update_at(Message::Executed(Some(input)), now);
}

/// Order `order_id` in, its one-time QR payment created: the Waiting screen.
pub fn to_waiting(app: &mut App, order_id: &str, now: Instant) {
    let _ = app.step(Input::OrderReceived(order(order_id)), now);
    let r = reference(app);
    feed(
        app,
        Input::Created {
            reference: r,
            result: Ok(Some(QR_TARGET.into())),
            valid_for: None,
        },
        now,
    );
}

/// A personal QR scanned and the push payment created: the Scanned screen.
pub fn to_scanned(app: &mut App, order_id: &str, now: Instant) {
    to_waiting(app, order_id, now);
    let _ = app.update_at(Message::Scanned(RawScan(PERSONAL_QR.into())), now);
    let r = reference(app);
    feed(
        app,
        Input::CancelAnswered {
            reference: r,
            result: Ok(observed(PaymentState::Terminated, 0)),
        },
        now,
    );
    let r = reference(app);
    feed(
        app,
        Input::Created {
            reference: r,
            result: Ok(None),
            valid_for: None,
        },
        now,
    );
}

/// A poll that the machine asked for (after a tick) answering `state`.
pub fn poll_answers(app: &mut App, state: PaymentState, now: Instant) {
    let _ = app.step(Input::Tick, now + Duration::from_secs(2));
    let r = reference(app);
    feed(
        app,
        Input::Polled {
            reference: r,
            result: Ok(observed(state, 0)),
        },
        now,
    );
}

/// A lane run by `lane::run` (the headless loop) against `client`, for tests that drive it
/// with commands, scans and webhook inputs.
pub struct RunningLane {
    pub lane: std::sync::Arc<std::sync::Mutex<vipps_kiosk::lane::Lane>>,
    pub commands: tokio::sync::mpsc::Sender<vipps_kiosk::pos::Command>,
    pub scans: tokio::sync::mpsc::Sender<ScanEvent>,
}

impl RunningLane {
    pub fn start(
        client: vipps::Client,
        config: payment::Config,
        hub: Option<std::sync::Arc<vipps_kiosk::pos::Hub>>,
        hints: Option<tokio::sync::mpsc::Receiver<Input>>,
    ) -> RunningLane {
        use tokio::sync::mpsc;
        let lane = std::sync::Arc::new(std::sync::Mutex::new(vipps_kiosk::lane::Lane::new(
            config, hub,
        )));
        let (commands, commands_rx) = mpsc::channel(8);
        let (scans, scans_rx) = mpsc::channel(8);
        let (no_hints, empty) = mpsc::channel(1);
        let hints = hints.unwrap_or(empty);
        let run = lane.clone();
        tokio::spawn(async move {
            let _keep = no_hints;
            let inputs = vipps_kiosk::lane::Inputs {
                commands: commands_rx,
                scans: scans_rx,
                hints,
            };
            vipps_kiosk::lane::run(run, client, inputs, Duration::from_millis(10)).await
        });
        RunningLane {
            lane,
            commands,
            scans,
        }
    }

    pub fn state(&self) -> payment::State {
        self.lane.lock().unwrap().machine().state().clone()
    }

    pub async fn submit(&self, id: &str) {
        let (reply, rx) = vipps_kiosk::pos::Reply::new();
        self.commands
            .send(vipps_kiosk::pos::Command::Submit(
                Box::new(order(id)),
                reply,
            ))
            .await
            .unwrap();
        assert_eq!(rx.await.unwrap(), Ok(()));
    }

    /// Waits until `done` holds for the machine's state; the elapsed time.
    pub async fn wait(
        &self,
        what: &str,
        limit: Duration,
        done: impl Fn(&payment::State) -> bool,
    ) -> Duration {
        let start = Instant::now();
        loop {
            if done(&self.state()) {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < limit,
                "{what}: still {:?} after {limit:?}",
                self.state()
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

/// The simulator's payments for an order (references `[<lane prefix>-]<orderId>-<attempt>`),
/// oldest first.
pub fn payments_of(sim: &vipps_kiosk::sim::Simulator, order_id: &str) -> Vec<serde_json::Value> {
    sim.payments()
        .into_iter()
        .filter(|p| {
            p["reference"].as_str().is_some_and(|r| {
                let head = r.rsplit_once('-').map_or(r, |(head, _)| head);
                head == order_id || head.ends_with(&format!("-{order_id}"))
            })
        })
        .collect()
}

/// One of a simulator payment's aggregate amounts (`capturedAmount`, …), in minor units.
pub fn amount(p: &serde_json::Value, which: &str) -> i64 {
    p["aggregate"][which]["value"].as_i64().unwrap_or(0)
}

/// Money rule 2 in the simulator's books: no payment is left authorized without being
/// captured or cancelled.
pub fn assert_nothing_left_authorized(payments: &[serde_json::Value]) {
    for p in payments {
        let open = amount(p, "authorizedAmount")
            - amount(p, "capturedAmount")
            - amount(p, "cancelledAmount");
        assert!(
            p["state"] != "AUTHORIZED" || open == 0,
            "money left authorized: {p:#}"
        );
    }
}

/// `POST /accesstoken/get` with the placeholder keys a simulator accepts; the raw answer.
pub async fn request_token(http: &reqwest::Client, base: &str) -> reqwest::Response {
    http.post(format!("{base}/accesstoken/get"))
        .header("client_id", "id")
        .header("client_secret", "secret")
        .header("Ocp-Apim-Subscription-Key", "sub")
        .send()
        .await
        .expect("the simulator answers")
}
