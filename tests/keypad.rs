#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The phone-number keypad and the keyboard's focus, rendered headless (iced_test, tiny-skia,
//! the kiosk's fonts) on a fixed clock: targets of 15 mm, the ring that follows Tab, keys that
//! act, a keyboard-mode scanner's keystrokes that never do, and the keypad's life with the order.

use iced::{
    Rectangle, Size,
    keyboard::{self, Key, key::Named},
};
use iced_test::Simulator;
use std::time::{Duration, Instant};
use vipps_kiosk::{
    app::{App, Message},
    market::Lang,
    payment::{AfterCancel, Input, PushTo, State},
    scan::RawScan,
    ui::{Msg, screen::ids},
    vipps::model::PaymentState,
};

mod common;
use common::{LANDSCAPE, PERSONAL_QR, PORTRAIT, SMALL, idle_client, logical, observed};

fn waiting(lang: Lang, size: Size, t0: Instant) -> App {
    let mut app = common::app_with(lang, size, Ok(idle_client()));
    common::to_waiting(&mut app, "keypad-order-0001", t0);
    app
}

fn ui(app: &App, size: Size) -> Simulator<'_, Message> {
    Simulator::with_size(common::render_settings(), logical(size), app.view())
}

fn bounds(ui: &mut Simulator<'_, Message>, id: &str) -> Option<Rectangle> {
    ui.find(iced_test::selector::id(id.to_string()))
        .ok()
        .map(|t| t.bounds())
}

fn has(app: &App, text: &str) -> bool {
    ui(app, PORTRAIT).find(text).is_ok()
}

fn press(key: Key) -> Message {
    press_with(
        key,
        keyboard::key::Physical::Unidentified(keyboard::key::NativeCode::Unidentified),
        keyboard::Modifiers::empty(),
    )
}

fn press_with(
    key: Key,
    physical: keyboard::key::Physical,
    modifiers: keyboard::Modifiers,
) -> Message {
    Message::Key(keyboard::Event::KeyPressed {
        modified_key: key.clone(),
        key,
        physical_key: physical,
        location: keyboard::Location::Standard,
        modifiers,
        text: None,
        repeat: false,
    })
}

/// A person pressing `m` at `t`: it acts once held back (the window's timer, here by hand).
fn typed(app: &mut App, m: Message, t: Instant) {
    let _ = app.update_at(m, t);
    let _ = app.update_at(Message::KeysSettled, t + Duration::from_millis(50));
}

fn tab(back: bool) -> Message {
    let modifiers = if back {
        keyboard::Modifiers::SHIFT
    } else {
        keyboard::Modifiers::empty()
    };
    press_with(
        Key::Named(Named::Tab),
        keyboard::key::Physical::Unidentified(keyboard::key::NativeCode::Unidentified),
        modifiers,
    )
}

fn tap(app: &mut App, m: Msg) {
    let _ = app.update(Message::from(m));
}

/// The ring is drawn around the target `id`, and only there.
fn ring_around(app: &App, size: Size, id: &str) -> bool {
    let mut ui = ui(app, size);
    let (Some(ring), Some(target)) = (bounds(&mut ui, ids::FOCUS), bounds(&mut ui, id)) else {
        return false;
    };
    ring.contains(target.position())
        && ring.contains(iced::Point::new(
            target.x + target.width - 0.5,
            target.y + target.height - 0.5,
        ))
        && ring.width > target.width
}

#[test]
fn every_keypad_key_and_the_way_to_it_is_at_least_15_mm_on_every_size() {
    let t0 = Instant::now();
    for size in [PORTRAIT, LANDSCAPE, SMALL] {
        let scale = vipps_kiosk::app::fit_scale(size);
        let mut app = waiting(Lang::Fi, size, t0);
        let check = |app: &App, ids: &[String]| {
            let mut ui = ui(app, size);
            for id in ids {
                let b = bounds(&mut ui, id).unwrap_or_else(|| panic!("no {id} at {size:?}"));
                let (w, h) = (b.width * scale, b.height * scale);
                assert!(w >= 90.0 && h >= 90.0, "{id} is {w}x{h} at {size:?}");
            }
        };
        check(&app, &[ids::PHONE.to_string()]);
        tap(&mut app, Msg::PayWithPhone);
        let mut keys: Vec<String> = (0..=9).map(ids::digit).collect();
        keys.extend(["47", "45", "358", "46"].map(ids::country));
        keys.extend([ids::BACKSPACE, ids::SEND, ids::BACK].map(String::from));
        check(&app, &keys);
        // With larger text too.
        let _ = app.update(Message::LargerTextToggled);
        check(&app, &keys);
    }
}

#[test]
fn the_keypad_shows_the_number_checks_it_per_country_and_sends_it() {
    let mut app = waiting(Lang::En, PORTRAIT, Instant::now());
    assert!(has(&app, "Pay with your phone number"));
    tap(&mut app, Msg::PayWithPhone);
    assert!(has(&app, "+47"), "the market's code");
    assert!(has(&app, "Mobile number"), "what to type");
    // A landline: refused, with the reason.
    for d in [2, 1, 2, 3, 4, 5, 6, 7] {
        tap(&mut app, Msg::Digit(d));
    }
    tap(&mut app, Msg::SendPhone);
    assert!(has(&app, "That is not a mobile number with +47."));
    for _ in 0..8 {
        tap(&mut app, Msg::Backspace);
    }
    // A Swedish number with the Norwegian code: refused, with the reason.
    for d in [7, 0, 1, 2, 3, 4, 5, 6] {
        tap(&mut app, Msg::Digit(d));
    }
    assert!(has(&app, "70123456"));
    tap(&mut app, Msg::Digit(7));
    tap(&mut app, Msg::SendPhone);
    assert!(has(&app, "The number should have 8 digits."));
    assert!(matches!(app.machine().state(), State::Waiting { .. }));
    tap(
        &mut app,
        Msg::Country(vipps_kiosk::phone::CountryCode::Denmark),
    );
    assert!(
        !has(&app, "The number should have 8 digits."),
        "the error goes with the change"
    );
    // The right code: sent, the QR payment cancelled first.
    tap(
        &mut app,
        Msg::Country(vipps_kiosk::phone::CountryCode::Sweden),
    );
    tap(&mut app, Msg::SendPhone);
    let State::Cancelling {
        after: AfterCancel::Push(PushTo::Phone(n)),
        ..
    } = app.machine().state()
    else {
        panic!("{:?}", app.machine().state());
    };
    assert_eq!(n.msisdn(), "46701234567");
    assert!(has(&app, "Sent to +46 •••••••67"));
    assert!(!has(&app, "701234567"));
}

#[test]
fn tab_moves_a_ring_through_the_screens_actions_and_a_tap_takes_it_away() {
    let t0 = Instant::now();
    for size in [PORTRAIT, LANDSCAPE] {
        let mut app = waiting(Lang::Nb, size, t0);
        {
            let mut ui = ui(&app, size);
            assert!(
                bounds(&mut ui, ids::FOCUS).is_none(),
                "no ring before a key"
            );
        }
        typed(&mut app, tab(false), t0);
        assert!(ring_around(&app, size, ids::PHONE), "first: the phone way");
        typed(&mut app, tab(false), t0 + Duration::from_millis(200));
        assert!(ring_around(&app, size, &ids::language("nb")));
        typed(&mut app, tab(true), t0 + Duration::from_millis(400));
        typed(&mut app, tab(true), t0 + Duration::from_millis(600));
        assert!(
            ring_around(&app, size, ids::LARGER_TEXT),
            "Shift+Tab goes round to the last"
        );
        // Enter acts on it.
        typed(
            &mut app,
            press(Key::Named(Named::Enter)),
            t0 + Duration::from_millis(800),
        );
        assert!(has(&app, "Vanlig tekst"), "larger text is on");
        assert!(ring_around(&app, size, ids::LARGER_TEXT), "the ring stays");
        // A tap: the ring goes.
        tap(&mut app, Msg::LargerTextToggled);
        let mut ui = ui(&app, size);
        assert!(bounds(&mut ui, ids::FOCUS).is_none());
    }
}

#[test]
fn every_screen_works_from_the_keyboard() {
    let t0 = Instant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    let mut app = waiting(Lang::En, PORTRAIT, t0);
    // Scanned: Tab finds Cancel, Enter cancels (back to the QR).
    let _ = app.update_at(Message::Scanned(RawScan(PERSONAL_QR.into())), t0);
    let r = common::reference(&app);
    common::feed(
        &mut app,
        Input::CancelAnswered {
            reference: r,
            result: Ok(observed(PaymentState::Terminated, 0)),
        },
        t0,
    );
    let r = common::reference(&app);
    common::feed(
        &mut app,
        Input::Created {
            reference: r,
            result: Ok(None),
            valid_for: None,
        },
        t0,
    );
    assert!(matches!(app.machine().state(), State::Scanned { .. }));
    typed(&mut app, tab(false), ms(500));
    assert!(ring_around(&app, PORTRAIT, ids::CANCEL));
    typed(&mut app, press(Key::Character(" ".into())), ms(700));
    assert!(matches!(app.machine().state(), State::Cancelling { .. }));
    // Failed: Tab finds OK; Escape closes it as OK does.
    let mut app = common::app_with(Lang::En, PORTRAIT, Ok(idle_client()));
    common::to_scanned(&mut app, "keypad-order-0002", t0);
    common::poll_answers(&mut app, PaymentState::Aborted, t0);
    assert!(matches!(app.machine().state(), State::Failed { .. }));
    typed(&mut app, tab(false), ms(2100));
    assert!(ring_around(&app, PORTRAIT, ids::OK));
    typed(&mut app, press(Key::Named(Named::Escape)), ms(2300));
    assert!(!matches!(app.machine().state(), State::Failed { .. }));
}

#[test]
fn a_digit_on_the_qr_screen_opens_the_keypad_and_escape_leaves_it() {
    let t0 = Instant::now();
    let mut app = waiting(Lang::Sv, PORTRAIT, t0);
    typed(&mut app, press(Key::Character("4".into())), t0);
    assert!(has(&app, "Betala med telefonnummer"));
    let numpad_1 = press_with(
        Key::Named(Named::End),
        keyboard::key::Physical::Code(keyboard::key::Code::Numpad1),
        keyboard::Modifiers::empty(),
    );
    typed(&mut app, numpad_1, t0 + Duration::from_millis(300));
    assert!(has(&app, "41"));
    typed(
        &mut app,
        press(Key::Named(Named::Backspace)),
        t0 + Duration::from_millis(600),
    );
    assert!(has(&app, "4") && !has(&app, "41"));
    typed(
        &mut app,
        press(Key::Named(Named::Escape)),
        t0 + Duration::from_millis(900),
    );
    assert!(has(&app, "Skanna och betala med Vipps"), "back to the QR");
}

#[test]
fn a_keyboard_mode_scanners_keystrokes_never_type_or_act() {
    let t0 = Instant::now();
    let mut app = waiting(Lang::Nb, PORTRAIT, t0);
    // The wedge types the personal QR into the window, 6 ms a key, ending in Enter; the
    // same scan arrives from the scanner's own device a little later.
    let mut t = t0;
    for c in PERSONAL_QR.chars() {
        let _ = app.update_at(press(Key::Character(c.to_string().into())), t);
        t += Duration::from_millis(6);
    }
    let _ = app.update_at(press(Key::Named(Named::Enter)), t);
    let _ = app.update_at(Message::KeysSettled, t + Duration::from_millis(50));
    assert!(
        !has(&app, "Landskode"),
        "no keypad opened by the scan's digits"
    );
    assert!(matches!(app.machine().state(), State::Waiting { .. }));
    assert!(app.machine().notice(t).is_none(), "nothing acted");
    let _ = app.update_at(Message::Scanned(RawScan(PERSONAL_QR.into())), t);
    assert!(matches!(
        app.machine().state(),
        State::Cancelling {
            after: AfterCancel::Push(PushTo::PersonalQr(_)),
            ..
        }
    ));
    // A wedge scan's first key is held back when the scan arrives from the device first.
    let mut app = waiting(Lang::Nb, PORTRAIT, t0);
    let _ = app.update_at(press(Key::Character("7".into())), t0);
    let _ = app.update_at(Message::Scanned(RawScan("7038010055680".into())), t0);
    let _ = app.update_at(Message::KeysSettled, t0 + Duration::from_millis(50));
    assert!(!has(&app, "Landskode"), "no keypad");
    // Keys with Alt (a scanner's Alt+numpad mode) never act either.
    let alt_4 = press_with(
        Key::Character("4".into()),
        keyboard::key::Physical::Code(keyboard::key::Code::Numpad4),
        keyboard::Modifiers::ALT,
    );
    typed(&mut app, alt_4, t0 + Duration::from_secs(2));
    assert!(!has(&app, "Landskode"), "no keypad");
    // And a person's digit, on its own, does open it: the guard does not stop typing.
    typed(
        &mut app,
        press(Key::Character("4".into())),
        t0 + Duration::from_secs(3),
    );
    assert!(has(&app, "Landskode"));
}

#[test]
fn without_the_scanner_the_keypad_is_offered_in_its_place() {
    let mut app = waiting(Lang::En, PORTRAIT, Instant::now());
    let _ = app.update(Message::ScannerLost);
    assert!(has(
        &app,
        "The scanner is not working. Scan the code on screen, or pay with your phone number."
    ));
    assert!(!has(
        &app,
        "or hold the personal QR code from your app up to the scanner"
    ));
    assert!(has(&app, "Pay with your phone number"));
}

#[test]
fn the_keypad_ends_with_the_order_and_the_next_customer_starts_afresh() {
    let t0 = Instant::now();
    let mut app = waiting(Lang::En, PORTRAIT, t0);
    tap(&mut app, Msg::PayWithPhone);
    tap(&mut app, Msg::Digit(4));
    tap(&mut app, Msg::Digit(1));
    let _ = app.step(Input::OrderWithdrawn("keypad-order-0001".into()), t0);
    let r = common::reference(&app);
    common::feed(
        &mut app,
        Input::CancelAnswered {
            reference: r,
            result: Ok(observed(PaymentState::Terminated, 0)),
        },
        t0,
    );
    assert!(!has(&app, "Mobile number") && !has(&app, "41"));
    let _ = app.step(Input::DismissTapped, t0 + Duration::from_secs(1));
    common::to_waiting(&mut app, "keypad-order-0002", t0 + Duration::from_secs(2));
    assert!(
        has(&app, "Scan and pay with Vipps"),
        "the QR, not the keypad"
    );
    tap(&mut app, Msg::PayWithPhone);
    assert!(has(&app, "Mobile number"), "empty");
    assert!(!has(&app, "41"));
}
