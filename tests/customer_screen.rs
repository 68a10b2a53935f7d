#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! What the customer sees, reads and hears: the brand by market and date, weighed goods and
//! discounts on the order, an order list that stays readable at 1080×1920, and speech (through
//! a stand-in engine that records what it was asked to say).

use iced::keyboard::{self, Key, key};
use iced_test::Simulator;
use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};
use time::macros::date;
use vipps_kiosk::{
    app::{App, DevPanel, Message, Setup},
    market::{BrandChoice, Lang, Market, Today},
    payment::{Input, Order},
    scan::RawScan,
    speech::{Engine, Speaker},
    ui::screen::ids,
    vipps::model::{Currency, PaymentState},
};

mod common;
use common::{PORTRAIT, logical, observed, reference};

fn render(app: &App) -> Simulator<'_, Message> {
    Simulator::with_size(common::render_settings(), logical(PORTRAIT), app.view())
}

fn has(ui: &mut Simulator<'_, Message>, text: &str) -> bool {
    ui.find(text).is_ok()
}

fn base(lang: Lang) -> Setup {
    common::setup(lang, PORTRAIT, Ok(common::idle_client()))
}

/// Sample order `ix` (the third has ten lines, weighed, discounted and counted ones), on its
/// Waiting screen.
fn waiting(setup: Setup, ix: usize) -> App {
    let currency = setup.market.currency();
    let mut app = App::new(setup).0;
    let mut order: Order = vipps_kiosk::app::demo::orders(currency, "t").unwrap()[ix].clone();
    order.order_id = "screen-order-0001".into();
    let now = Instant::now();
    let _ = app.step(Input::OrderReceived(order), now);
    let r = reference(&app);
    common::feed(
        &mut app,
        Input::Created {
            reference: r,
            result: Ok(Some(common::QR_TARGET.into())),
            valid_for: None,
        },
        now,
    );
    app
}

fn send(app: &mut App, messages: impl IntoIterator<Item = Message>) {
    for m in messages {
        let _ = app.update(m);
    }
}

fn dev_panel() -> Option<DevPanel> {
    Some(DevPanel {
        sim_url: "http://127.0.0.1:9".into(),
        unknown_customer_qr: "https://qr.vipps.no/p/notfound-x".into(),
    })
}

/// The order lines whose name is on screen from top to bottom, not scrolled away or cut.
fn fully_visible_lines(app: &App, order: &Order) -> usize {
    let mut ui = render(app);
    order
        .lines
        .iter()
        .filter(|l| {
            ui.find(l.name.as_str()).is_ok_and(|t| {
                t.visible_bounds()
                    .is_some_and(|v| (v.height - t.bounds().height).abs() <= 0.5)
            })
        })
        .count()
}

/// At 1080×1920, beside the QR, with larger text and the demo's developer panel below: the
/// hardest case in every language still shows at least 8 whole lines of the ten.
#[test]
fn eight_order_lines_and_more_stay_in_view_at_1080x1920() {
    let order = vipps_kiosk::app::demo::orders(Currency::Nok, "t").unwrap()[2].clone();
    assert!(order.lines.len() >= 10);
    for lang in Lang::ALL {
        let mut app = waiting(
            Setup {
                dev: dev_panel(),
                ..base(lang)
            },
            2,
        );
        let _ = app.update(Message::LargerTextToggled);
        let seen = fully_visible_lines(&app, &order);
        eprintln!(
            "{lang:?}, larger text, developer panel: {seen} of {} lines",
            order.lines.len()
        );
        assert!(
            seen >= 8,
            "{lang:?}, larger text, developer panel: {seen} lines"
        );
    }
    let app = waiting(base(Lang::Nb), 2);
    assert_eq!(fully_visible_lines(&app, &order), order.lines.len());
}

#[test]
fn weighed_goods_and_discounts_read_in_the_customers_language() {
    for (lang, weighed, discount) in [
        (
            Lang::Nb,
            "0,742\u{a0}kg × kr\u{a0}34,90/kg",
            "Rabatt −kr\u{a0}10,00",
        ),
        (
            Lang::Da,
            "0,742\u{a0}kg × kr\u{a0}34,90/kg",
            "Rabat −kr\u{a0}10,00",
        ),
        (
            Lang::Fi,
            "0,742\u{a0}kg × kr\u{a0}34,90/kg",
            "Alennus −kr\u{a0}10,00",
        ),
        (
            Lang::Sv,
            "0,742\u{a0}kg × kr\u{a0}34,90/kg",
            "Rabatt −kr\u{a0}10,00",
        ),
        (
            Lang::En,
            "0.742\u{a0}kg × kr\u{a0}34,90/kg",
            "Discount −kr\u{a0}10,00",
        ),
    ] {
        let app = waiting(base(lang), 0);
        let mut ui = render(&app);
        assert!(has(&mut ui, weighed), "{lang:?}: {weighed}");
        assert!(has(&mut ui, discount), "{lang:?}: {discount}");
        assert!(has(&mut ui, "2 ×"), "{lang:?}: pieces");
        // The line's total is after its discount; the order's total is the lines'.
        assert!(has(&mut ui, "kr\u{a0}29,90"), "{lang:?}");
        assert!(has(&mut ui, "kr\u{a0}353,00"), "{lang:?}");
    }
    let app = waiting(
        Setup {
            market: Market::Finland,
            lang: Lang::Fi,
            ..base(Lang::Fi)
        },
        0,
    );
    let mut ui = render(&app);
    assert!(has(&mut ui, "0,742\u{a0}kg × 34,90\u{a0}€/kg"));
}

fn danish(today: Today, brand: BrandChoice) -> App {
    waiting(
        Setup {
            market: Market::Denmark,
            lang: Lang::Da,
            today,
            brand,
            ..base(Lang::Da)
        },
        0,
    )
}

/// The brand changes on 12 January 2027 in Denmark (and Finland); where two brands are named,
/// the lane's own comes first; `brand` fixes it either way.
#[test]
fn a_danish_lane_says_mobilepay_before_the_brand_date_and_vipps_from_it() {
    let before = Today::Fixed(date!(2027 - 01 - 11));
    let after = Today::Fixed(date!(2027 - 01 - 12));
    let garbage = |app: &mut App| {
        let _ = app.update(Message::Scanned(RawScan("7038010055680".into())));
    };

    let mut app = danish(before, BrandChoice::Auto);
    garbage(&mut app);
    let mut screen = render(&app);
    assert!(has(&mut screen, "MobilePay"), "the header");
    assert!(has(&mut screen, "Scan og betal med MobilePay"));
    assert!(has(
        &mut screen,
        "Det er ikke en MobilePay- eller Vipps-kode. Vis den personlige QR-kode fra appen."
    ));
    drop(screen);

    let mut app = danish(after, BrandChoice::Auto);
    garbage(&mut app);
    let mut ui = render(&app);
    assert!(has(&mut ui, "Vipps"), "the header");
    assert!(has(&mut ui, "Scan og betal med Vipps"));
    assert!(!has(&mut ui, "MobilePay"));
    assert!(has(
        &mut ui,
        "Det er ikke en Vipps-kode. Vis den personlige QR-kode fra appen."
    ));

    let app = danish(after, BrandChoice::MobilePay);
    let mut ui = render(&app);
    assert!(
        has(&mut ui, "Scan og betal med MobilePay"),
        "fixed by config"
    );

    // A Norwegian lane names Vipps first, in English too.
    let mut app = waiting(base(Lang::En), 0);
    garbage(&mut app);
    let mut ui = render(&app);
    assert!(has(
        &mut ui,
        "That is not a Vipps or MobilePay code. Show the personal QR code from your app."
    ));
}

/// A stand-in speech engine: a line per utterance, `lang|text`, in `said.txt`.
fn recorder(name: &str) -> (Speaker, PathBuf) {
    let dir = std::env::temp_dir().join(format!("kiosk-said-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("said.txt");
    let script = dir.join("say");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nt=$(cat)\necho \"$1|$t\" >> '{}'\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let engine = Engine::new(vec![script.display().to_string(), "{lang}".into()]).unwrap();
    assert!(engine.locate().is_some());
    (Speaker::start(engine).unwrap(), log)
}

fn said(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits for the `n`th utterance and returns it.
fn nth_said(log: &Path, n: usize) -> String {
    for _ in 0..300 {
        if let Some(line) = said(log).get(n - 1) {
            return line.clone();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no utterance {n}; said: {:?}", said(log));
}

fn key(k: keyboard::key::Named) -> Message {
    Message::Key(keyboard::Event::KeyPressed {
        key: Key::Named(k),
        modified_key: Key::Named(k),
        physical_key: key::Physical::Unidentified(key::NativeCode::Unidentified),
        location: keyboard::Location::Standard,
        modifiers: keyboard::Modifiers::empty(),
        text: None,
        repeat: false,
    })
}

#[test]
fn without_a_speech_engine_there_is_no_speech_control() {
    let mut app = waiting(base(Lang::En), 0);
    assert!(!has(&mut render(&app), "Read aloud"));
    let _ = app.update(key(keyboard::key::Named::F1));
    assert!(!app.speaking(), "the key does nothing either");
}

/// Speech comes on with the control, says the screen's instruction and total once (not at
/// every tick), follows the customer's language, speaks the "still there?" warning, where its
/// key asks for more time, says the outcome, and goes off when the order ends.
#[test]
fn speech_says_each_screen_in_the_customers_language_until_the_order_ends() {
    let (speaker, log) = recorder("flow");
    let mut app = waiting(
        Setup {
            speech: Some(speaker),
            ..base(Lang::Nb)
        },
        0,
    );
    let messages: Vec<Message> = {
        let mut ui = render(&app);
        let b = ui
            .find(iced_test::selector::id(ids::SPEECH))
            .expect("the control")
            .bounds();
        let scale = vipps_kiosk::app::fit_scale(PORTRAIT);
        assert!(b.height * scale >= 90.0 && b.width * scale >= 90.0, "{b:?}");
        ui.click("Les opp").expect("Read aloud, in Norwegian");
        ui.into_messages().collect()
    };
    send(&mut app, messages);
    assert!(app.speaking());
    assert_eq!(
        nth_said(&log, 1),
        "nb|Opplesing er på. Å betale 353 kroner. Skann og betal med Vipps. \
         eller hold din personlige QR-kode fra appen mot skanneren. \
         eller betal med telefonnummeret ditt."
    );
    {
        let mut ui = render(&app);
        assert!(
            has(&mut ui, "Stopp opplesing"),
            "the control says how to stop"
        );
    }
    // Ticks move the countdown, not the words: nothing more is said.
    let t0 = Instant::now();
    for s in 1..4 {
        let _ = app.update_at(Message::Tick(t0), t0 + Duration::from_secs(s));
    }
    let _ = app.update(Message::LanguageChosen(Lang::Fi));
    assert_eq!(
        nth_said(&log, 2),
        "fi|Maksettavaa 353 kruunua. Skannaa ja maksa Vipps-sovelluksella. \
         tai näytä sovelluksen henkilökohtainen QR-koodisi lukijalle. \
         tai maksa puhelinnumerollasi."
    );
    // Nobody has touched the screen for four minutes: the warning is spoken, and the speech
    // key asks for more time.
    let late = t0 + Duration::from_secs(300 - 60);
    let _ = app.update_at(Message::Executed(None), late);
    let warning = nth_said(&log, 3);
    assert!(
        warning.starts_with("fi|Oletko vielä siellä? Ostos perutaan 1 minuutin kuluttua."),
        "{warning}"
    );
    let _ = app.update_at(key(keyboard::key::Named::F1), late);
    assert!(app.machine().walk_away_warning(late).is_none(), "more time");
    assert!(
        app.speaking(),
        "the key gave time rather than turning speech off"
    );
    // Paid by the personal QR: each screen on the way is said, the last is the thanks.
    let _ = app.update_at(Message::Scanned(RawScan(common::PERSONAL_QR.into())), late);
    let r = reference(&app);
    common::feed(
        &mut app,
        Input::CancelAnswered {
            reference: r,
            result: Ok(observed(PaymentState::Terminated, 0)),
        },
        late,
    );
    let r = reference(&app);
    common::feed(
        &mut app,
        Input::Created {
            reference: r,
            result: Ok(None),
            valid_for: None,
        },
        late,
    );
    common::poll_answers(&mut app, PaymentState::Authorized, late);
    let r = reference(&app);
    common::feed(
        &mut app,
        Input::Captured {
            reference: r,
            result: Ok(observed(PaymentState::Authorized, 35300)),
        },
        late,
    );
    let thanks = "fi|Kiitos ostoksestasi! Maksettu 353 kruunua.";
    for _ in 0..300 {
        if said(&log).last().map(String::as_str) == Some(thanks) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(said(&log).last().map(String::as_str), Some(thanks));
    // The order ends: speech goes off, and the next customer starts without it.
    let later = late + Duration::from_secs(30);
    let _ = app.update_at(Message::Tick(later), later);
    assert!(app.machine().order().is_none());
    assert!(!app.speaking());
    let count = said(&log).len();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        said(&log).len(),
        count,
        "nothing is said to the next customer"
    );
}

#[test]
fn the_speech_key_turns_speech_on_and_off() {
    let (speaker, log) = recorder("key");
    let mut app = waiting(
        Setup {
            speech: Some(speaker),
            speech_key: 9,
            ..base(Lang::En)
        },
        0,
    );
    let _ = app.update(key(keyboard::key::Named::F1));
    assert!(!app.speaking(), "not this lane's key");
    let _ = app.update(key(keyboard::key::Named::F9));
    assert!(app.speaking());
    assert!(
        nth_said(&log, 1)
            .starts_with("en|Reading aloud is on. To pay 353 kroner. Scan and pay with Vipps.")
    );
    let _ = app.update(key(keyboard::key::Named::F9));
    assert!(!app.speaking());
}

/// An order that ends without payment (the POS withdrew it) is said to end, in the
/// customer's language, before speech goes off with the order.
#[test]
fn the_end_of_an_order_is_said_before_speech_goes_off() {
    let (speaker, log) = recorder("end");
    let mut app = waiting(
        Setup {
            speech: Some(speaker),
            ..base(Lang::Nb)
        },
        0,
    );
    send(
        &mut app,
        [Message::LanguageChosen(Lang::Sv), Message::SpeechToggled],
    );
    assert!(nth_said(&log, 1).starts_with("sv|Uppläsningen är på. Att betala 353 kronor."));
    let now = Instant::now();
    let _ = app.step(Input::OrderWithdrawn("screen-order-0001".into()), now);
    let r = reference(&app);
    common::feed(
        &mut app,
        Input::CancelAnswered {
            reference: r,
            result: Ok(observed(PaymentState::Terminated, 0)),
        },
        now,
    );
    assert!(app.machine().order().is_none());
    assert_eq!(nth_said(&log, 2), "sv|Köpet avbröts.");
    assert!(!app.speaking());
}
