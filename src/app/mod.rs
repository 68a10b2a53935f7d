//! The iced application: feeds the lane ticks, scans, taps and what its services hear, runs
//! the API calls the lane hands back as tasks, and shows the screen that matches the payment
//! machine's state. The lane (with its driver) is where the client and the machine meet.

pub mod demo;
mod dev;
mod keyboard;
mod keypad;
mod qr;
mod speech;
mod view;

pub use dev::{DEMO_PERSONAL_QR, DevAction, DevPanel};

use crate::{
    lane::{Inputs, Lane, ScanEvent, Services, driver},
    market::{BrandChoice, Branding, Lang, Market, Today},
    payment::{self, Effect, Input, Machine, State},
    scan::RawScan,
    speech::Speaker,
    ui::{Assets, icons::Direction, qr::QrImage},
    vipps::Client,
};
use iced::{Size, Subscription, Task};
use std::time::{Duration, Instant};

/// Everything the app is built from; the command line (and the tests) fill it in.
#[derive(Debug, Clone)]
pub struct Setup {
    pub market: Market,
    /// `brand = "auto" | "vipps" | "mobilepay"`, and where the date it follows comes from.
    pub brand: BrandChoice,
    pub today: Today,
    pub lang: Lang,
    /// `Err` holds the reason the lane is out of service (for staff).
    pub client: Result<Client, String>,
    pub machine: payment::Config,
    /// The journal, POS API, webhooks and scanner.
    pub services: Services,
    pub demo: Option<demo::Demo>,
    pub dev: Option<DevPanel>,
    pub scanner_direction: Direction,
    /// The window's size in physical pixels, as far as known before it opens.
    pub window: Size,
    /// A touch kiosk: no mouse pointer on screen.
    pub hide_cursor: bool,
    /// The speech engine, when the lane PC has one (otherwise no speech control shows).
    pub speech: Option<Speaker>,
    /// The F-key (1-12) that turns speech on and off.
    pub speech_key: u8,
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
    SpeechToggled,
    /// A key on the keyboard (or a USB keypad): the speech key, and every screen without touch.
    Key(iced::keyboard::Event),
    /// Keys held back (to tell a person from a keyboard-mode scanner) may act now.
    KeysSettled,
    /// The phone-number keypad: opened, typed on, sent, left.
    Keypad(crate::ui::Msg),
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

impl From<crate::ui::Msg> for Message {
    fn from(m: crate::ui::Msg) -> Message {
        use crate::ui::Msg;
        match m {
            Msg::CancelTapped => Message::CancelTapped,
            Msg::DismissTapped => Message::DismissTapped,
            Msg::MoreTimeTapped => Message::MoreTimeTapped,
            Msg::LanguageChosen(lang) => Message::LanguageChosen(lang),
            Msg::LargerTextToggled => Message::LargerTextToggled,
            Msg::SpeechToggled => Message::SpeechToggled,
            Msg::PayWithPhone
            | Msg::Digit(_)
            | Msg::Backspace
            | Msg::Country(_)
            | Msg::SendPhone
            | Msg::CloseKeypad => Message::Keypad(m),
        }
    }
}

impl From<ScanEvent> for Message {
    fn from(e: ScanEvent) -> Message {
        match e {
            ScanEvent::Scan(s) => Message::Scanned(s),
            ScanEvent::Connected => Message::ScannerConnected,
            ScanEvent::Lost => Message::ScannerLost,
        }
    }
}

/// The app's elements: the customer's screens mapped, plus the developer panel.
pub type Element<'a> = iced::Element<'a, Message>;

/// The current customer's choices; they last as long as their order.
#[derive(Debug)]
struct Customer {
    /// The lane's language, which every new customer starts with.
    default_lang: Lang,
    lang: Lang,
    large_text: bool,
    /// Speech is on for this customer.
    speech: bool,
    /// This customer has an order (their choices end with it).
    ordering: bool,
}

/// The window in physical pixels, and the scale that fits the design canvas into it.
#[derive(Debug)]
struct Window {
    physical: Size,
    scale: f32,
    hide_cursor: bool,
}

pub struct App {
    lane: Lane,
    client: Option<Client>,
    out_of_service: Option<String>,
    market: Market,
    brand: BrandChoice,
    today: Today,
    voice: speech::Voice,
    customer: Customer,
    scanner_ok: bool,
    /// Since when nothing is being paid (for the attract screen).
    idle_from: Option<Instant>,
    assets: Assets,
    qr: qr::ShownQr,
    demo: Option<demo::Demo>,
    dev: Option<dev::Dev>,
    http: reqwest::Client,
    services: Services,
    window: Window,
    /// The phone-number keypad, while it is open over the QR screen.
    keypad: Option<keypad::Keypad>,
    /// The action Enter would carry out (moved with Tab), drawn with a ring.
    focus: Option<crate::ui::Msg>,
    /// The message being handled comes from a key, not a tap (a tap ends the keyboard's focus).
    by_key: bool,
    /// Keys held back until it is clear a person typed them (not a keyboard-mode scanner).
    keys: keyboard::Guard,
    now: Instant,
    /// systemd's watchdog, pinged from the tick below (inert without systemd).
    watchdog: crate::watchdog::Watchdog,
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

/// A pause between demo orders, so the Approved screen can be seen.
const DEMO_PAUSE: Duration = Duration::from_secs(2);

impl App {
    pub fn new(setup: Setup) -> (App, Task<Message>) {
        let (lane, journal_problem) = setup.services.open_lane(setup.machine.clone());
        let (client, out_of_service) = match (setup.client, journal_problem) {
            (Ok(c), None) => (Some(c), None),
            (Err(reason), _) | (Ok(_), Some(reason)) => {
                tracing::error!(%reason, "out of service");
                (None, Some(reason))
            }
        };
        if let Some(hub) = setup.services.hub() {
            if let Some(c) = &client {
                hub.set_client(c.clone());
            }
            if let Some(reason) = &out_of_service {
                hub.set_out_of_service(reason);
            }
        }
        let http = crate::vipps::plain_http_client();
        let mut app = App {
            lane,
            client,
            out_of_service,
            market: setup.market,
            customer: Customer {
                default_lang: setup.lang,
                lang: setup.lang,
                large_text: false,
                speech: false,
                ordering: false,
            },
            brand: setup.brand,
            today: setup.today,
            voice: speech::Voice::new(setup.speech, setup.speech_key),
            scanner_ok: true,
            idle_from: None,
            assets: Assets::new(setup.scanner_direction),
            qr: qr::ShownQr::new(http.clone()),
            demo: setup.demo,
            dev: setup.dev.map(|panel| dev::Dev {
                panel,
                status: None,
            }),
            http,
            services: setup.services,
            window: Window {
                physical: setup.window,
                scale: fit_scale(setup.window),
                hide_cursor: setup.hide_cursor,
            },
            keypad: None,
            focus: None,
            by_key: false,
            keys: keyboard::Guard::default(),
            now: Instant::now(),
            watchdog: crate::watchdog::Watchdog::from_env(),
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
        self.qr.image()
    }

    /// The brand names the screens use today.
    pub fn branding(&self) -> Branding {
        self.market
            .branding(self.brand, self.today.date(self.market))
    }

    /// Whether speech is on for the customer at the screen.
    pub fn speaking(&self) -> bool {
        self.customer.speech
    }

    pub fn title(&self) -> String {
        "vipps-kiosk".into()
    }

    /// The layout is designed for 1080×1920 (or 1920×1080) and scaled to fit the window.
    pub fn scale_factor(&self) -> f32 {
        self.window.scale
    }

    pub fn update(&mut self, message: Message) -> Task<Message> {
        self.update_at(message, Instant::now())
    }

    /// `update` with the clock passed in, so tests (and snapshots) are deterministic.
    pub fn update_at(&mut self, message: Message, now: Instant) -> Task<Message> {
        self.now = now;
        let task = self.handle(message, now);
        self.keep_focus_on_screen();
        // What the customer hears follows what the screen now shows.
        self.speak();
        task
    }

    fn handle(&mut self, message: Message, now: Instant) -> Task<Message> {
        if !self.by_key && keyboard::from_screen(&message) {
            // A tap: the keyboard's focus ring goes until Tab brings it back.
            self.focus = None;
        }
        match message {
            Message::Tick(_) => {
                let task = self.step(Input::Tick, now);
                let oos = self
                    .out_of_service
                    .clone()
                    .or_else(|| self.machine().out_of_service().map(str::to_string));
                let oos = oos.as_deref();
                self.watchdog
                    .tick(now, || crate::watchdog::ready_status(oos));
                Task::batch([task, self.feed_demo(now)])
            }
            Message::QrFetched { url, result } => match self.qr.fetched(url, result, now) {
                qr::Fetched::Done => Task::none(),
                qr::Fetched::Expired => match self.machine().payment() {
                    Some(p) => {
                        let reference = p.reference.clone();
                        self.step(Input::QrUnavailable { reference }, now)
                    }
                    None => Task::none(),
                },
            },
            Message::Executed(Some(input)) | Message::Webhook(input) => self.step(input, now),
            Message::Executed(None) => Task::none(),
            Message::Scanned(scan) => {
                // A keyboard-mode scanner also typed it: none of its keys may act.
                self.keys.scanned(now);
                self.step(Input::Scan(scan), now)
            }
            Message::Keypad(msg) => self.keypad_msg(msg, now),
            Message::KeysSettled => self.keys_settled(now),
            Message::CancelTapped => self.step(Input::CancelTapped, now),
            Message::DismissTapped => self.step(Input::DismissTapped, now),
            Message::MoreTimeTapped => self.step(Input::MoreTimeTapped, now),
            Message::Resized(logical) => {
                // iced reports the size in our scaled units: back to physical pixels first, so a
                // change of scale cannot feed back into the next one.
                let w = &mut self.window;
                w.physical = logical * w.scale;
                w.scale = fit_scale(w.physical);
                Task::none()
            }
            Message::LanguageChosen(lang) => {
                self.customer.lang = lang;
                Task::none()
            }
            Message::LargerTextToggled => {
                self.customer.large_text = !self.customer.large_text;
                Task::none()
            }
            Message::SpeechToggled => {
                self.toggle_speech();
                Task::none()
            }
            Message::Key(event) => self.key(event, now),
            Message::ScannerConnected | Message::ScannerLost => {
                let connected = matches!(message, Message::ScannerConnected);
                if !connected {
                    tracing::warn!("the scanner is gone; the one-time QR still works");
                }
                self.scanner_ok = connected;
                self.lane.scanner(connected);
                Task::none()
            }
            Message::Pos(command) => {
                if self.client.is_some() {
                    let calls = self.lane.pos(command, now);
                    self.run(calls, now)
                } else {
                    crate::pos::reject_out_of_service(command);
                    Task::none()
                }
            }
            Message::Dev(action) => self.dev_action(action, now),
            Message::DevDone(result) => {
                if let Some(dev) = &mut self.dev {
                    dev.status = result.err();
                }
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
        let fetch = match self.qr.refresh(self.lane.machine(), now) {
            Some(fetch) => Task::perform(fetch, |(url, result)| Message::QrFetched { url, result }),
            None => Task::none(),
        };
        // The customer's choices last as long as their order: they end with it, or when the
        // lane has stood idle long enough to show the attract screen.
        self.keypad_follows_machine();
        let ordering = self.machine().order().is_some();
        let attract = self
            .idle_from
            .is_some_and(|t| now.duration_since(t) >= ATTRACT_AFTER);
        if self.customer.ordering && !ordering {
            // An order that ends on an outcome screen (withdrawn, walked away from) is said
            // to end, in the customer's language, before their choices end.
            if !matches!(self.machine().state(), State::Idle) {
                self.speak();
            }
            self.end_customer(false);
        } else if attract {
            self.end_customer(true);
        }
        self.customer.ordering = ordering;
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

    /// The customer's choices end: the next one starts with the lane's language, normal text
    /// and no speech (what is being said is let finish unless `hush`).
    fn end_customer(&mut self, hush: bool) {
        self.customer.lang = self.customer.default_lang;
        self.customer.large_text = false;
        self.customer.speech = false;
        self.keypad = None;
        self.focus = None;
        self.voice.forget(hush);
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

    pub fn subscription(&self) -> Subscription<Message> {
        // Four ticks a second while a payment is under way (polls stay near the interval),
        // one a second otherwise (countdowns, result screens).
        let every = if self.machine().payment().is_some() {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(1)
        };
        Subscription::batch([
            iced::time::every(every).map(Message::Tick),
            iced::window::resize_events().map(|(_, size)| Message::Resized(size)),
            iced::keyboard::listen().map(Message::Key),
            Subscription::run_with(self.services.clone(), lane_services),
        ])
    }
}

/// The lane's services (POS API, webhooks, scanner) as a stream of messages. They stop with
/// the subscription.
fn lane_services(services: &Services) -> impl iced::futures::Stream<Item = Message> + use<> {
    use iced::futures::SinkExt;
    let services = services.clone();
    iced::stream::channel(
        16,
        async move |mut out: iced::futures::channel::mpsc::Sender<Message>| {
            let (inputs, problems) = services.start().await;
            for p in problems {
                tracing::error!("{p}");
            }
            let Inputs {
                mut commands,
                mut scans,
                mut hints,
            } = inputs;
            let (mut commands_open, mut scans_open, mut hints_open) = (true, true, true);
            while commands_open || scans_open || hints_open {
                let message = tokio::select! {
                    c = commands.recv(), if commands_open => match c {
                        Some(c) => Message::Pos(c),
                        None => { commands_open = false; continue }
                    },
                    s = scans.recv(), if scans_open => match s {
                        Some(s) => Message::from(s),
                        None => { scans_open = false; continue }
                    },
                    h = hints.recv(), if hints_open => match h {
                        Some(h) => Message::Webhook(h),
                        None => { hints_open = false; continue }
                    },
                };
                if out.send(message).await.is_err() {
                    return;
                }
            }
        },
    )
}
