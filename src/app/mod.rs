//! The iced application: interprets the payment machine's effects as tasks, feeds it ticks,
//! scans and taps, and shows the screen that matches its state. The only module that touches
//! both the Vipps client and the machine (through `driver`).

pub mod demo;
pub mod driver;

use crate::{
    lane::Lane,
    market::{Lang, Market},
    payment::{self, AfterCancel, Effect, Input, Machine, Method, State},
    scan::RawScan,
    ui::{
        Assets, Element, i18n,
        icons::Direction,
        qr::QrImage,
        screen::{self, Ctx, scanned::Phase, waiting::Waiting},
        theme::{self, size},
    },
    vipps::Client,
};
use iced::{
    Length, Size, Subscription, Task,
    widget::{button, column, container, row, text},
};
use std::time::{Duration, Instant};

/// Where scans come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScannerSource {
    None,
    Stdin,
    Hid(crate::scanner::hid::DeviceFilter),
}

/// The developer panel: plays the customer's phone against a simulator.
#[derive(Debug, Clone)]
pub struct DevPanel {
    /// The simulator's base URL, for its control API.
    pub sim_url: String,
}

/// The POS API this lane serves.
#[derive(Debug, Clone)]
pub struct PosSetup {
    pub listen: std::net::SocketAddr,
    pub token: crate::vipps::Secret,
    pub hub: std::sync::Arc<crate::pos::Hub>,
    pub currency: crate::vipps::model::Currency,
}

impl std::hash::Hash for PosSetup {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.listen.hash(state);
    }
}

/// Everything the app is built from; `main` and the tests fill it in.
#[derive(Debug, Clone)]
pub struct Setup {
    pub market: Market,
    pub lang: Lang,
    /// `Err` holds the reason the lane is out of service (for staff).
    pub client: Result<Client, String>,
    pub machine: payment::Config,
    /// The crash-safe journal (`[journal] path`); `None` runs without one (the demo).
    pub journal: Option<std::path::PathBuf>,
    /// The webhook receiver (`[webhooks]`); `None`: polling alone.
    pub webhooks: Option<crate::webhooks::ReceiverSetup>,
    pub demo: Option<demo::Demo>,
    pub dev: Option<DevPanel>,
    pub scanner: ScannerSource,
    pub scanner_direction: Direction,
    pub pos: Option<PosSetup>,
    /// The window's size in physical pixels, as far as known before it opens.
    pub window: Size,
    /// A touch kiosk: no mouse pointer on screen.
    pub hide_cursor: bool,
}

/// What the developer panel can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevAction {
    ScanPersonalQr,
    ScanUnknownCustomer,
    ScanGarbage,
    /// The phone opens the on-screen QR (with eCom the kiosk sees it).
    PhoneOpen,
    PhoneApprove,
    PhoneReject,
    PosWithdraw,
}

#[derive(Debug, Clone)]
pub enum Message {
    Tick(Instant),
    /// An API call finished.
    Executed(Option<Input>),
    /// Vipps' QR image for `url` was fetched (`vipps-image`).
    QrFetched {
        url: String,
        result: Result<crate::vipps::qr_image::Decoded, crate::vipps::Error>,
    },
    Scanned(RawScan),
    CancelTapped,
    DismissTapped,
    Resized(Size),
    LanguageChosen(Lang),
    LargerTextToggled,
    MoreTimeTapped,
    /// The scanner stopped delivering (stdin closed, device gone).
    ScannerLost,
    ScannerConnected,
    /// A command from the lane's POS.
    Pos(crate::pos::Command),
    /// A webhook (verified, or refused) for the machine.
    Webhook(Input),
    Dev(DevAction),
    DevDone(Result<(), String>),
}

pub struct App {
    lane: Lane,
    client: Option<Client>,
    out_of_service: Option<String>,
    market: Market,
    /// The lane's language, and the one the current customer chose.
    default_lang: Lang,
    lang: Lang,
    large_text: bool,
    scanner_ok: bool,
    /// Since when nothing is being paid (for the attract screen).
    idle_from: Option<Instant>,
    assets: Assets,
    /// The one-time QR bitmap, built once per payment.
    qr: Option<QrImage>,
    /// A Vipps QR image being fetched, or to be fetched again at the instant given.
    qr_fetch: Option<(String, Option<Instant>)>,
    demo: Option<demo::Demo>,
    dev: Option<DevPanel>,
    dev_status: Option<String>,
    http: reqwest::Client,
    scanner: ScannerSource,
    pos: Option<PosSetup>,
    webhooks: Option<crate::webhooks::ReceiverSetup>,
    hide_cursor: bool,
    /// The window in physical pixels, and the scale that fits the design canvas into it.
    physical: Size,
    scale: f32,
    now: Instant,
}

/// The scale that fits the design canvas (1080 wide portrait, 1080 tall landscape) into a
/// window of `physical` pixels.
pub fn fit_scale(physical: Size) -> f32 {
    let (w, h) = (physical.width.max(1.0), physical.height.max(1.0));
    let fit = if h >= w {
        (w / 1080.0).min(h / 1920.0)
    } else {
        (w / 1920.0).min(h / 1080.0)
    };
    fit.clamp(0.25, 4.0)
}

/// After this long with nothing to pay, the idle screen explains how paying works.
pub const ATTRACT_AFTER: Duration = Duration::from_secs(60);

/// A failed QR image fetch is tried again after this long.
const QR_FETCH_RETRY: Duration = Duration::from_secs(2);

/// A pause between demo orders, so the Approved screen can be seen.
const DEMO_PAUSE: Duration = Duration::from_secs(2);

impl App {
    pub fn new(setup: Setup) -> (App, Task<Message>) {
        let hub = setup.pos.as_ref().map(|p| p.hub.clone());
        let (lane, journal_problem) = match &setup.journal {
            Some(path) => match Lane::open(setup.machine.clone(), path, hub.clone()) {
                Ok(lane) => (lane, None),
                Err(e) => (Lane::new(setup.machine.clone(), hub), Some(e)),
            },
            None => (Lane::new(setup.machine.clone(), hub), None),
        };
        let (client, out_of_service) = match (setup.client, journal_problem) {
            (Ok(c), None) => (Some(c), None),
            (Err(reason), _) | (Ok(_), Some(reason)) => {
                tracing::error!(%reason, "out of service");
                (None, Some(reason))
            }
        };
        if let (Some(p), Some(c)) = (&setup.pos, &client) {
            p.hub.set_client(c.clone());
        }
        let mut app = App {
            lane,
            client,
            out_of_service,
            market: setup.market,
            default_lang: setup.lang,
            lang: setup.lang,
            large_text: false,
            scanner_ok: true,
            idle_from: None,
            assets: Assets::new(setup.scanner_direction),
            qr: None,
            qr_fetch: None,
            demo: setup.demo,
            dev: setup.dev,
            dev_status: None,
            http: crate::vipps::plain_http_client(),
            scanner: setup.scanner,
            pos: setup.pos,
            webhooks: setup.webhooks,
            hide_cursor: setup.hide_cursor,
            physical: setup.window,
            scale: fit_scale(setup.window),
            now: Instant::now(),
        };
        // A payment left unfinished by the last run is carried on first.
        let now = Instant::now();
        let resumed = if app.client.is_some() {
            let calls = app.lane.resume(now);
            app.run(calls, now)
        } else {
            Task::none()
        };
        (app, Task::batch([resumed, Task::done(Message::Tick(now))]))
    }

    pub fn machine(&self) -> &Machine {
        self.lane.machine()
    }

    /// The QR bitmap on screen, if any: drawn here, or Vipps' image (its link as `text`).
    pub fn qr(&self) -> Option<&QrImage> {
        self.qr.as_ref()
    }

    pub fn title(&self) -> String {
        "vipps-kiosk".into()
    }

    /// The layout is designed for 1080×1920 (or 1920×1080) and scaled to fit the window.
    pub fn scale_factor(&self) -> f32 {
        self.scale
    }

    pub fn update(&mut self, message: Message) -> Task<Message> {
        self.update_at(message, Instant::now())
    }

    /// `update` with the clock passed in, so tests (and snapshots) are deterministic.
    pub fn update_at(&mut self, message: Message, now: Instant) -> Task<Message> {
        self.now = now;
        match message {
            Message::Tick(_) => {
                let task = self.step(Input::Tick, now);
                Task::batch([task, self.feed_demo(now)])
            }
            Message::QrFetched { url, result } => self.on_qr_fetched(url, result, now),
            Message::Executed(Some(input)) => self.step(input, now),
            Message::Executed(None) => Task::none(),
            Message::Webhook(input) => self.step(input, now),
            Message::Scanned(scan) => self.step(Input::Scan(scan), now),
            Message::CancelTapped => self.step(Input::CancelTapped, now),
            Message::DismissTapped => self.step(Input::DismissTapped, now),
            Message::Resized(logical) => {
                // iced reports the size in our scaled units: back to physical pixels first, so a
                // change of scale cannot feed back into the next one.
                self.physical = logical * self.scale;
                self.scale = fit_scale(self.physical);
                Task::none()
            }
            Message::LanguageChosen(lang) => {
                self.lang = lang;
                Task::none()
            }
            Message::LargerTextToggled => {
                self.large_text = !self.large_text;
                Task::none()
            }
            Message::MoreTimeTapped => self.step(Input::MoreTimeTapped, now),
            Message::ScannerConnected => {
                self.scanner_ok = true;
                if let Some(p) = &self.pos {
                    p.hub.set_scanner(true);
                }
                Task::none()
            }
            Message::Pos(command) => match &self.pos {
                Some(_) if self.client.is_some() => {
                    let calls = self.lane.pos(command, now);
                    self.run(calls, now)
                }
                _ => {
                    crate::pos::reject_out_of_service(command);
                    Task::none()
                }
            },
            Message::ScannerLost => {
                tracing::warn!("the scanner is gone; the one-time QR still works");
                self.scanner_ok = false;
                if let Some(p) = &self.pos {
                    p.hub.set_scanner(false);
                }
                Task::none()
            }
            Message::Dev(action) => self.dev_action(action, now),
            Message::DevDone(result) => {
                self.dev_status = result.err();
                Task::none()
            }
        }
    }

    /// Feeds the lane and carries out the API calls it asks for.
    pub fn step(&mut self, input: Input, now: Instant) -> Task<Message> {
        let calls = self.lane.step(input, now);
        self.run(calls, now)
    }

    /// After a step: the screen's own state follows the machine, and the lane's API calls
    /// (journaled already) go out as tasks.
    fn run(&mut self, calls: Vec<Effect>, now: Instant) -> Task<Message> {
        let fetch = self.refresh_qr(now);
        // The customer's choices last as long as their order.
        if self.machine().order().is_none() {
            self.lang = self.default_lang;
            self.large_text = false;
        }
        match (self.machine().state(), self.idle_from) {
            (State::Idle, None) => self.idle_from = Some(now),
            (State::Idle, Some(_)) => {}
            (_, _) => self.idle_from = None,
        }
        let Some(client) = self.client.clone() else {
            return fetch;
        };
        Task::batch(
            calls
                .into_iter()
                .map(|call| Task::perform(driver::execute(client.clone(), call), Message::Executed))
                .chain([fetch]),
        )
    }

    /// A fetched Vipps QR image: shown when it is still the payment's; a 404 means the QR
    /// expired, and the machine replaces it; other failures are tried again shortly (the
    /// screen says the QR is loading meanwhile).
    fn on_qr_fetched(
        &mut self,
        url: String,
        result: Result<crate::vipps::qr_image::Decoded, crate::vipps::Error>,
        now: Instant,
    ) -> Task<Message> {
        if self.qr_fetch.as_ref().is_none_or(|(u, _)| *u != url) {
            return Task::none(); // an image for a QR no longer shown
        }
        match result {
            Ok(image) => {
                self.qr_fetch = None;
                self.qr = Some(QrImage::from_rgba(
                    &url,
                    image.width,
                    image.height,
                    image.rgba,
                ));
                Task::none()
            }
            Err(e) if e.status() == Some(404) => {
                self.qr_fetch = None;
                match self.machine().payment().map(|p| p.reference.clone()) {
                    Some(reference) => self.step(Input::QrUnavailable { reference }, now),
                    None => Task::none(),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not fetch the QR image; trying again");
                self.qr_fetch = Some((url, Some(now + QR_FETCH_RETRY)));
                Task::none()
            }
        }
    }

    /// Builds the QR bitmap when the payment's QR changes: once per payment, never in view.
    /// A Vipps image link is fetched instead (the task returned).
    fn refresh_qr(&mut self, now: Instant) -> Task<Message> {
        let want = self
            .machine()
            .payment()
            .filter(|p| p.method == Method::OneTimeQr)
            .and_then(|p| Some((p.qr.clone()?, p.shows_vipps_image())));
        match want {
            Some((url, true)) if self.qr.as_ref().is_none_or(|q| q.text != url) => {
                let due = match &self.qr_fetch {
                    Some((u, None)) if *u == url => false, // under way
                    Some((u, Some(at))) if *u == url => now >= *at,
                    _ => true,
                };
                if due {
                    self.qr_fetch = Some((url.clone(), None));
                    let http = self.http.clone();
                    return Task::perform(
                        async move {
                            let result = crate::vipps::qr_image::fetch(&http, &url).await;
                            Message::QrFetched { url, result }
                        },
                        |m| m,
                    );
                }
            }
            Some((text, false)) if self.qr.as_ref().is_none_or(|q| q.text != text) => {
                self.qr = QrImage::new(&text);
                if self.qr.is_none() {
                    tracing::error!("the QR text does not fit in a QR code");
                }
            }
            Some(_) => {}
            None => {
                if !matches!(
                    self.machine().state(),
                    State::Cancelling {
                        after: AfterCancel::Renew,
                        ..
                    }
                ) {
                    self.qr = None;
                    self.qr_fetch = None;
                }
            }
        }
        Task::none()
    }

    fn feed_demo(&mut self, now: Instant) -> Task<Message> {
        let (Some(demo), Some(idle_from)) = (&self.demo, self.idle_from) else {
            return Task::none();
        };
        // The first order comes at once; later ones after a pause on the idle screen.
        if demo.served() > 0 && now.duration_since(idle_from) < DEMO_PAUSE {
            return Task::none();
        }
        match self.demo.as_mut().and_then(demo::Demo::next_order) {
            Some(order) => self.step(Input::OrderReceived(order), now),
            None => Task::none(),
        }
    }

    fn dev_action(&mut self, action: DevAction, now: Instant) -> Task<Message> {
        let Some(dev) = &self.dev else {
            return Task::none();
        };
        let scan = |s: &str| Message::Scanned(RawScan(s.to_string()));
        let phone = |verb: &'static str| {
            let Some(reference) = self.machine().payment().map(|p| p.reference.clone()) else {
                return Task::done(Message::DevDone(Err("no payment to act on".into())));
            };
            let url = format!("{}/_sim/payments/{reference}/{verb}", dev.sim_url);
            let http = self.http.clone();
            Task::perform(
                async move {
                    let resp = http.post(url).send().await.map_err(|e| e.to_string())?;
                    if resp.status().is_success() {
                        Ok(())
                    } else {
                        Err(format!("simulator answered {}", resp.status()))
                    }
                },
                Message::DevDone,
            )
        };
        match action {
            DevAction::ScanPersonalQr => Task::done(scan(DEMO_PERSONAL_QR)),
            DevAction::ScanUnknownCustomer => Task::done(scan(&format!(
                "{}-demo",
                crate::sim::backend::TEST_QR_NOT_FOUND_PREFIX
            ))),
            DevAction::ScanGarbage => Task::done(scan("7038010055680")),
            DevAction::PhoneOpen => phone("open"),
            DevAction::PhoneApprove => phone("approve"),
            DevAction::PhoneReject => phone("reject"),
            DevAction::PosWithdraw => match self.machine().order().map(|o| o.order_id.clone()) {
                Some(id) => self.step(Input::OrderWithdrawn(id), now),
                None => Task::none(),
            },
        }
    }

    pub fn subscription(&self) -> Subscription<Message> {
        // Four ticks a second while a payment is under way (polls stay near the interval),
        // one a second otherwise (countdowns, result screens).
        let every = if self.machine().payment().is_some() {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(1)
        };
        let mut subs = vec![
            iced::time::every(every).map(Message::Tick),
            iced::window::resize_events().map(|(_, size)| Message::Resized(size)),
        ];
        match self.scanner {
            ScannerSource::None => {}
            ScannerSource::Stdin => subs.push(Subscription::run(stdin_scans)),
            ScannerSource::Hid(filter) => subs.push(Subscription::run_with(filter, hid_scans)),
        }
        if let Some(pos) = &self.pos {
            subs.push(Subscription::run_with(pos.clone(), pos_server));
        }
        if let Some(w) = &self.webhooks {
            let hub = self.pos.as_ref().map(|p| p.hub.clone());
            subs.push(Subscription::run_with(
                WebhookSub(w.clone(), hub),
                webhook_server,
            ));
        }
        Subscription::batch(subs)
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            lang: self.lang,
            brand: theme::brand(self.market),
            assets: &self.assets,
            landscape: self.physical.width > self.physical.height,
            large_text: self.large_text,
            touch: theme::size::TOUCH_MIN.max(theme::size::TOUCH_MIN_PHYSICAL / self.scale),
        }
    }

    pub fn view(&self) -> Element<'_> {
        let ctx = self.ctx();
        let body = match &self.out_of_service {
            Some(reason) => screen::out_of_service(ctx, reason),
            None => self.payment_screen(ctx),
        };
        // With a broken configuration the market (and so the brand) is not known.
        let mut col = if self.out_of_service.is_some() {
            column![]
        } else {
            column![screen::header(ctx)]
        };
        // Notices and prompts lie over the top of the screen rather than pushing the layout.
        let overlay: Option<Element<'_>> = match self.machine().notice(self.now) {
            Some(n) => Some(screen::banner(ctx, i18n::notice(n, self.lang))),
            None => self
                .machine()
                .walk_away_warning(self.now)
                .map(|left| screen::still_there(ctx, left.as_secs())),
        };
        let body: Element<'_> = match overlay {
            Some(o) => iced::widget::stack![body, container(o).padding(size::GAP)].into(),
            None => body,
        };
        col = col.push(container(body).height(Length::Fill));
        // On every customer screen, out of service included.
        col = col.push(screen::access_bar(ctx));
        if self.dev.is_some() {
            col = col.push(self.dev_panel());
        }
        let screen = container(col)
            .width(Length::Fill)
            .height(Length::Fill)
            .style(theme::screen);
        if self.hide_cursor {
            iced::widget::mouse_area(screen)
                .interaction(iced::mouse::Interaction::Hidden)
                .into()
        } else {
            screen.into()
        }
    }

    fn payment_screen<'a>(&'a self, ctx: Ctx<'a>) -> Element<'a> {
        let now = self.now;
        let trouble = |p: &payment::Payment| p.failures >= 3;
        match self.machine().state() {
            State::Idle
                if self
                    .idle_from
                    .is_some_and(|t| now.duration_since(t) >= ATTRACT_AFTER) =>
            {
                screen::idle::attract(ctx)
            }
            State::Idle => screen::idle::view(ctx),
            State::Waiting { order, payment, .. } => screen::waiting::view(
                ctx,
                Waiting {
                    order,
                    // Only this payment's QR: never an old one while a new image loads.
                    qr: self.qr.as_ref().filter(|q| {
                        payment.created && payment.qr.as_deref() == Some(q.text.as_str())
                    }),
                    refreshing: false,
                    renews_in: payment
                        .created
                        .then(|| {
                            payment
                                .deadline
                                .checked_sub(self.machine().config().qr_renew_before)
                        })
                        .flatten()
                        .map(|t| t.saturating_duration_since(now)),
                    trouble: trouble(payment),
                    scanner_ok: self.scanner_ok,
                },
            ),
            State::Cancelling {
                order,
                payment,
                after: AfterCancel::Renew,
                ..
            } => screen::waiting::view(
                ctx,
                Waiting {
                    order,
                    qr: self.qr.as_ref(),
                    refreshing: true,
                    renews_in: None,
                    trouble: trouble(payment),
                    scanner_ok: self.scanner_ok,
                },
            ),
            State::Cancelling {
                payment,
                after: AfterCancel::Push(_),
                ..
            } => screen::scanned::view(ctx, payment.amount, Phase::Sending, trouble(payment)),
            State::Cancelling { payment, .. } => {
                screen::scanned::view(ctx, payment.amount, Phase::Cancelling, trouble(payment))
            }
            State::Scanned { payment, .. } => {
                let time_left = payment.deadline.saturating_duration_since(now);
                let phase = if payment.opened {
                    Phase::Opened { time_left }
                } else if payment.created {
                    Phase::Waiting { time_left }
                } else {
                    Phase::Sending
                };
                screen::scanned::view(ctx, payment.amount, phase, trouble(payment))
            }
            State::Capturing { payment, .. } => {
                screen::scanned::view(ctx, payment.amount, Phase::Completing, trouble(payment))
            }
            State::Approved {
                order, captured, ..
            } => screen::approved::view(ctx, *captured, order.receipt_number.as_deref()),
            State::Failed { order, reason, .. } => {
                screen::failed::view(ctx, *reason, order.is_none())
            }
        }
    }

    fn dev_panel(&self) -> Element<'_> {
        let b = |label: &'static str, action: DevAction| {
            button(text(label).size(30))
                .on_press(Message::Dev(action))
                .padding([12, 18])
                .style(theme::dev_button)
        };
        let status = match (&self.dev_status, self.machine().payment()) {
            (Some(e), _) => format!("developer panel: {e}"),
            (None, Some(p)) => format!("developer panel · payment {}", p.reference),
            (None, None) => "developer panel".to_string(),
        };
        container(
            column![
                text(status).size(28),
                row![
                    b("Scan personal QR", DevAction::ScanPersonalQr),
                    b("Scan unknown customer", DevAction::ScanUnknownCustomer),
                    b("Scan a product barcode", DevAction::ScanGarbage),
                ]
                .spacing(12),
                row![
                    b("Phone: open QR", DevAction::PhoneOpen),
                    b("Phone: approve", DevAction::PhoneApprove),
                    b("Phone: reject", DevAction::PhoneReject),
                    b("POS: withdraw", DevAction::PosWithdraw),
                ]
                .spacing(12),
            ]
            .spacing(10),
        )
        .padding(16)
        .width(Length::Fill)
        .style(theme::dev_panel)
        .into()
    }
}

/// The personal QR the developer panel scans (tokenized form; no phone number in it).
pub const DEMO_PERSONAL_QR: &str = "https://qr.vipps.no/p/DEMO-7f3a9c2e?v=2";

fn stdin_scans() -> impl iced::futures::Stream<Item = Message> {
    use iced::futures::SinkExt;
    iced::stream::channel(
        16,
        async |mut out: iced::futures::channel::mpsc::Sender<Message>| {
            let mut scanner = crate::scanner::stdin::StdinScanner::new();
            while let Some(line) = scanner.next_scan().await {
                if out.send(Message::Scanned(RawScan(line))).await.is_err() {
                    return;
                }
            }
            let _ = out.send(Message::ScannerLost).await;
        },
    )
}

/// The HID reader thread, as a stream of messages. The thread ends when the stream is dropped.
fn hid_scans(
    filter: &crate::scanner::hid::DeviceFilter,
) -> impl iced::futures::Stream<Item = Message> + use<> {
    use crate::scanner::hid::{self, Event};
    use iced::futures::SinkExt;
    let filter = *filter;
    iced::stream::channel(
        16,
        async move |mut out: iced::futures::channel::mpsc::Sender<Message>| {
            let (tx, mut rx) = tokio::sync::mpsc::channel(16);
            let spawned = std::thread::Builder::new()
                .name("scanner-hid".into())
                .spawn(move || hid::read_loop(filter, |event| tx.blocking_send(event).is_ok()));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start the scanner thread");
                let _ = out.send(Message::ScannerLost).await;
                return;
            }
            while let Some(event) = rx.recv().await {
                let message = match event {
                    Event::Connected { .. } => Message::ScannerConnected,
                    Event::Disconnected { .. } => Message::ScannerLost,
                    Event::Scan(code) => Message::Scanned(RawScan(code)),
                    // Garbage from the scanner reads as "not a Vipps code" to the customer; it
                    // never reaches the API.
                    Event::Dropped(_) => Message::Scanned(RawScan(String::new())),
                };
                if out.send(message).await.is_err() {
                    return;
                }
            }
        },
    )
}

/// Serves the POS API and turns its commands into messages. Stops with the subscription.
fn pos_server(pos: &PosSetup) -> impl iced::futures::Stream<Item = Message> + use<> {
    use iced::futures::SinkExt;
    let pos = pos.clone();
    iced::stream::channel(
        16,
        async move |mut out: iced::futures::channel::mpsc::Sender<Message>| {
            let served =
                crate::pos::serve(pos.listen, pos.hub.clone(), pos.token.clone(), pos.currency);
            let mut rx = match served.await {
                Ok(rx) => rx,
                Err(e) => {
                    tracing::error!(listen = %pos.listen, error = %e, "the POS API cannot listen");
                    return;
                }
            };
            while let Some(command) = rx.recv().await {
                if out.send(Message::Pos(command)).await.is_err() {
                    break;
                }
            }
        },
    )
}

/// The webhook receiver's subscription data (hashed by address and path).
#[derive(Debug, Clone)]
struct WebhookSub(
    crate::webhooks::ReceiverSetup,
    Option<std::sync::Arc<crate::pos::Hub>>,
);

impl std::hash::Hash for WebhookSub {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

/// Serves the webhook receiver and turns what it hears into messages.
fn webhook_server(sub: &WebhookSub) -> impl iced::futures::Stream<Item = Message> + use<> {
    use iced::futures::SinkExt;
    let WebhookSub(setup, hub) = sub.clone();
    iced::stream::channel(
        16,
        async move |mut out: iced::futures::channel::mpsc::Sender<Message>| {
            let listen = setup.listen;
            let mut rx = match crate::webhooks::serve(setup, hub).await {
                Ok(rx) => rx,
                Err(e) => {
                    tracing::error!(%listen, error = %e, "the webhook receiver cannot listen; polling alone");
                    return;
                }
            };
            while let Some(input) = rx.recv().await {
                if out.send(Message::Webhook(input)).await.is_err() {
                    break;
                }
            }
        },
    )
}
