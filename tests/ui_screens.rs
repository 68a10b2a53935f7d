#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! Every screen rendered headless (iced_test, tiny-skia, our embedded fonts) at the kiosk's
//! resolution: the right text is there, and taps produce the right messages.

use iced::{Size, Theme};
use iced_test::Simulator;
use std::time::{Duration, Instant};
use vipps_kiosk::{
    app::{App, Message},
    market::Lang,
    payment::{self, ApiError, Input, Order},
    scan::RawScan,
    vipps::{
        self,
        model::{Currency, PaymentState},
    },
};

mod common;
use common::{LANDSCAPE, PORTRAIT, SMALL, idle_client as client, logical, observed, reference};

fn app_with(lang: Lang, window: Size, client: Result<vipps::Client, String>) -> App {
    common::app_with(lang, window, client)
}

fn app(lang: Lang) -> App {
    app_with(lang, PORTRAIT, Ok(client()))
}

fn order() -> Order {
    common::order("ui-order-0001")
}

fn feed(app: &mut App, input: Input) {
    common::feed(app, input, Instant::now());
}

fn to_waiting(app: &mut App) {
    common::to_waiting(app, "ui-order-0001", Instant::now());
}

fn to_scanned(app: &mut App) {
    common::to_scanned(app, "ui-order-0001", Instant::now());
}

fn ui(app: &App, size: Size) -> Simulator<'_, Message> {
    Simulator::with_size(common::render_settings(), logical(size), app.view())
}

fn has(ui: &mut Simulator<'_, Message>, text: &str) -> bool {
    ui.find(text).is_ok()
}

#[test]
fn idle_welcomes() {
    let app = app(Lang::Nb);
    let mut ui = ui(&app, PORTRAIT);
    assert!(has(&mut ui, "Velkommen"));
    assert!(has(&mut ui, "Vipps"), "brand strip");
}

#[test]
fn waiting_shows_lines_total_qr_and_personal_qr_hint_in_every_layout() {
    for size in [PORTRAIT, LANDSCAPE, SMALL] {
        let mut app = app_with(Lang::Nb, size, Ok(client()));
        to_waiting(&mut app);
        let mut ui = ui(&app, size);
        for text in [
            "Kaffe, hele bønner 500 g",
            "Bærenett",
            "Å betale",
            "kr\u{a0}353,00",
            "Skann og betal med Vipps",
            "eller hold din personlige QR-kode fra appen mot skanneren",
        ] {
            assert!(has(&mut ui, text), "{text:?} at {size:?}");
        }
        assert!(
            ui.find("Koden fornyes om 9:00").is_ok() || ui.find("Koden fornyes om 8:59").is_ok(),
            "friendly countdown"
        );
    }
}

#[test]
fn waiting_before_the_qr_exists_says_it_is_coming() {
    let mut app = app(Lang::En);
    let _ = app.step(Input::OrderReceived(order()), Instant::now());
    let mut ui = ui(&app, PORTRAIT);
    assert!(has(&mut ui, "Preparing the payment code …"));
}

#[test]
fn scanned_asks_for_approval_and_cancel_cancels() {
    let mut app = app(Lang::Nb);
    to_scanned(&mut app);
    let messages: Vec<Message> = {
        let mut ui = ui(&app, PORTRAIT);
        assert!(has(&mut ui, "Godkjenn i Vipps"));
        assert!(has(&mut ui, "kr\u{a0}353,00"));
        assert!(has(&mut ui, "Tid igjen 5:00") || has(&mut ui, "Tid igjen 4:59"));
        ui.click("Avbryt").expect("a Cancel button");
        ui.into_messages().collect()
    };
    assert!(
        matches!(messages.as_slice(), [Message::CancelTapped]),
        "{messages:?}"
    );
    for m in messages {
        let _ = app.update(m);
    }
    assert!(matches!(
        app.machine().state(),
        payment::State::Cancelling { .. }
    ));
    let mut ui = ui(&app, PORTRAIT);
    assert!(has(&mut ui, "Avbryter …"));
    assert!(
        ui.find("Avbryt").is_err(),
        "no second cancel while cancelling"
    );
}

#[test]
fn capturing_does_not_thank_before_the_money_is_captured() {
    let mut app = app(Lang::En);
    to_scanned(&mut app);
    let r = reference(&app);
    feed(
        &mut app,
        Input::Polled {
            reference: r,
            result: Ok(observed(PaymentState::Authorized, 0)),
        },
    );
    // The poll above was not requested by a tick, so it is ignored; tick and answer properly.
    let _ = app.step(Input::Tick, Instant::now() + Duration::from_secs(2));
    let r = reference(&app);
    feed(
        &mut app,
        Input::Polled {
            reference: r,
            result: Ok(observed(PaymentState::Authorized, 0)),
        },
    );
    assert!(matches!(
        app.machine().state(),
        payment::State::Capturing { .. }
    ));
    let mut ui = ui(&app, PORTRAIT);
    assert!(has(&mut ui, "Payment approved"));
    assert!(ui.find("Thank you!").is_err());
}

#[test]
fn approved_thanks_with_amount_and_receipt() {
    let mut app = app(Lang::Nb);
    to_scanned(&mut app);
    let _ = app.step(Input::Tick, Instant::now() + Duration::from_secs(2));
    let r = reference(&app);
    feed(
        &mut app,
        Input::Polled {
            reference: r.clone(),
            result: Ok(observed(PaymentState::Authorized, 0)),
        },
    );
    feed(
        &mut app,
        Input::Captured {
            reference: r,
            result: Ok(observed(PaymentState::Authorized, order().total_amount)),
        },
    );
    let mut ui = ui(&app, PORTRAIT);
    assert!(has(&mut ui, "Takk for handelen!"));
    assert!(has(&mut ui, "Betalt kr\u{a0}353,00"));
    assert!(has(&mut ui, "Kvittering D-1001"));
}

#[test]
fn failed_says_what_happened_and_ok_dismisses() {
    let mut app = app(Lang::En);
    to_scanned(&mut app);
    let _ = app.step(Input::Tick, Instant::now() + Duration::from_secs(2));
    let r = reference(&app);
    feed(
        &mut app,
        Input::Polled {
            reference: r,
            result: Ok(observed(PaymentState::Aborted, 0)),
        },
    );
    let messages: Vec<Message> = {
        let mut ui = ui(&app, PORTRAIT);
        assert!(has(&mut ui, "The payment was cancelled in the app"));
        assert!(has(
            &mut ui,
            "You can try again: scan the code that follows."
        ));
        ui.click("OK").expect("an OK button");
        ui.into_messages().collect()
    };
    assert!(matches!(messages.as_slice(), [Message::DismissTapped]));
}

#[test]
fn unknown_customer_is_never_called_a_wrong_number() {
    let mut app = app(Lang::En);
    to_waiting(&mut app);
    let _ = app.update(Message::Scanned(RawScan(
        "https://qr.vipps.no/p/notfound-1".into(),
    )));
    let r = reference(&app);
    feed(
        &mut app,
        Input::CancelAnswered {
            reference: r,
            result: Ok(observed(PaymentState::Terminated, 0)),
        },
    );
    let r = reference(&app);
    let refused = ApiError {
        status: Some(400),
        code: Some(7010),
        transient: false,
        message: String::new(),
        ..ApiError::default()
    };
    feed(
        &mut app,
        Input::Created {
            reference: r,
            result: Err(refused),
            valid_for: None,
        },
    );
    let mut ui = ui(&app, PORTRAIT);
    assert!(has(&mut ui, "We could not send the payment to your app"));
    assert!(has(
        &mut ui,
        "Scan the code on screen with your app instead."
    ));
}

#[test]
fn garbage_scan_shows_a_notice_over_the_qr() {
    let mut app = app(Lang::Nb);
    to_waiting(&mut app);
    let _ = app.update(Message::Scanned(RawScan("7038010055680".into())));
    let mut ui = ui(&app, PORTRAIT);
    assert!(has(
        &mut ui,
        "Det er ikke en Vipps- eller MobilePay-kode. Vis den personlige QR-koden fra appen."
    ));
    assert!(has(&mut ui, "Skann og betal med Vipps"), "the QR stays");
}

#[test]
fn out_of_service_tells_customer_and_staff() {
    let app = app_with(
        Lang::Nb,
        PORTRAIT,
        Err("Configuration error: vipps.base_url: \"sim\", or an http(s):// address".into()),
    );
    let mut ui = ui(&app, PORTRAIT);
    assert!(has(&mut ui, "Ute av drift"));
    assert!(has(&mut ui, "Bruk en annen kasse, eller spør de ansatte."));
    assert!(has(
        &mut ui,
        "Configuration error: vipps.base_url: \"sim\", or an http(s):// address"
    ));
}

#[test]
fn the_qr_on_the_rendered_screen_decodes_to_the_payment_link() {
    for size in [PORTRAIT, LANDSCAPE] {
        let mut app = app_with(Lang::Nb, size, Ok(client()));
        to_waiting(&mut app);
        let mut ui = ui(&app, size);
        let snap = ui.snapshot(&Theme::Light).expect("snapshot");
        let dir =
            std::env::temp_dir().join(format!("kiosk-ui-{}-{}", std::process::id(), size.width));
        std::fs::create_dir_all(&dir).expect("temp dir");
        // matches_image writes the PNG when it does not exist yet.
        assert!(snap.matches_image(dir.join("waiting")).expect("png"));
        let png = std::fs::read_dir(&dir)
            .expect("dir")
            .next()
            .expect("a file")
            .expect("entry")
            .path();
        let luma = image::open(&png).expect("decodes").to_luma8();
        let _ = std::fs::remove_dir_all(&dir);
        let (w, h) = luma.dimensions();
        let mut prepared =
            rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
                luma.get_pixel(x as u32, y as u32).0[0]
            });
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1, "exactly one QR on screen at {size:?}");
        let (_, content) = grids[0].decode().expect("the QR decodes");
        assert_eq!(content, "http://sim/_sim/qr/abc123");
    }
}

fn target_bounds(ui: &mut Simulator<'_, Message>, id: &str) -> iced::Rectangle {
    ui.find(iced_test::selector::id(id.to_string()))
        .unwrap_or_else(|_| panic!("no widget {id}"))
        .bounds()
}

#[test]
fn language_switch_changes_the_screen_and_resets_when_the_order_ends() {
    let mut app = app(Lang::Nb);
    to_waiting(&mut app);
    let messages: Vec<Message> = {
        let mut ui = ui(&app, PORTRAIT);
        for name in ["Norsk", "Dansk", "Suomi", "Svenska", "English"] {
            assert!(has(&mut ui, name), "{name} in the language switch");
        }
        ui.click("Suomi").expect("the Finnish button");
        ui.into_messages().collect()
    };
    assert!(matches!(
        messages.as_slice(),
        [Message::LanguageChosen(Lang::Fi)]
    ));
    for m in messages {
        let _ = app.update(m);
    }
    {
        let mut ui = ui(&app, PORTRAIT);
        assert!(has(&mut ui, "Skannaa ja maksa Vipps-sovelluksella"));
        assert!(has(&mut ui, "Maksettavaa"));
    }
    // The order is withdrawn and ends: the next customer starts in the lane's language.
    let _ = app.update(Message::Executed(None));
    let _ = app.step(
        Input::OrderWithdrawn("ui-order-0001".into()),
        Instant::now(),
    );
    let r = reference(&app);
    feed(
        &mut app,
        Input::CancelAnswered {
            reference: r,
            result: Ok(observed(PaymentState::Terminated, 0)),
        },
    );
    let mut ui = ui(&app, PORTRAIT);
    assert!(has(&mut ui, "Kjøpet ble avbrutt"), "back in Norwegian");
}

#[test]
fn larger_text_enlarges_the_instructions() {
    let mut app = app(Lang::En);
    to_waiting(&mut app);
    let height = |app: &App| {
        let mut ui = ui(app, PORTRAIT);
        ui.find("Scan and pay with Vipps")
            .expect("title")
            .bounds()
            .height
    };
    let normal = height(&app);
    let messages: Vec<Message> = {
        let mut ui = ui(&app, PORTRAIT);
        ui.click("Larger text").expect("the toggle");
        ui.into_messages().collect()
    };
    for m in messages {
        let _ = app.update(m);
    }
    let large = height(&app);
    assert!(large >= normal * 1.25, "{normal} -> {large}");
    let mut ui = ui(&app, PORTRAIT);
    assert!(
        has(&mut ui, "Normal text"),
        "the toggle says how to go back"
    );
}

#[test]
fn still_there_prompt_offers_more_time() {
    let mut app = app(Lang::En);
    let t0 = Instant::now();
    let _ = app.step(Input::OrderReceived(order()), t0);
    let r = reference(&app);
    let _ = app.update_at(
        Message::Executed(Some(Input::Created {
            reference: r,
            result: Ok(Some("http://sim/q".into())),
            valid_for: None,
        })),
        t0,
    );
    let late = t0 + Duration::from_secs(300 - 40);
    let _ = app.update_at(Message::Executed(None), late);
    let messages: Vec<Message> = {
        let mut ui = ui(&app, PORTRAIT);
        assert!(has(&mut ui, "Are you still there?"));
        assert!(has(&mut ui, "The purchase will be cancelled in 0:40"));
        ui.click("I need more time").expect("the button");
        ui.into_messages().collect()
    };
    assert!(matches!(messages.as_slice(), [Message::MoreTimeTapped]));
    for m in messages {
        let _ = app.update_at(m, late);
    }
    let mut ui = ui(&app, PORTRAIT);
    assert!(
        ui.find("Are you still there?").is_err(),
        "the prompt goes away"
    );
}

#[test]
fn touch_targets_are_at_least_15_mm_on_every_size() {
    use vipps_kiosk::ui::screen::ids;
    for size in [PORTRAIT, LANDSCAPE, SMALL] {
        let mut app = app_with(Lang::Nb, size, Ok(client()));
        to_scanned(&mut app);
        let mut ui = ui(&app, size);
        let mut targets = vec![ids::CANCEL.to_string(), ids::LARGER_TEXT.to_string()];
        targets.extend(Lang::ALL.iter().map(|l| ids::language(l.code())));
        let scale = vipps_kiosk::app::fit_scale(size);
        for id in targets {
            let b = target_bounds(&mut ui, &id);
            let (w, h) = (b.width * scale, b.height * scale);
            assert!(
                h >= 90.0 && w >= 90.0,
                "{id} is {w}x{h} physical px at {size:?}"
            );
        }
    }
}

#[test]
fn instructions_are_never_cut_off() {
    for size in [PORTRAIT, LANDSCAPE, SMALL] {
        for lang in [Lang::Nb, Lang::Fi] {
            let mut app = app_with(lang, size, Ok(client()));
            to_waiting(&mut app);
            let branding = app.branding();
            let mut ui = ui(&app, size);
            for text in [
                vipps_kiosk::ui::i18n::Text::ScanWithApp.with(lang, branding),
                vipps_kiosk::ui::i18n::Text::OrPersonalQr.with(lang, branding),
                "kr\u{a0}353,00".into(),
            ] {
                let text = text.as_ref();
                let t = ui
                    .find(text)
                    .unwrap_or_else(|_| panic!("{text:?} at {size:?}"));
                let (bounds, visible) = (t.bounds(), t.visible_bounds());
                let visible =
                    visible.unwrap_or_else(|| panic!("{text:?} is off screen at {size:?}"));
                let clipped = (visible.height - bounds.height).abs() > 0.5
                    || (visible.width - bounds.width).abs() > 0.5;
                assert!(
                    !clipped,
                    "{text:?} is clipped at {size:?}: {visible:?} of {bounds:?}"
                );
            }
        }
    }
}

#[test]
fn a_long_order_scrolls_and_keeps_total_and_instructions_in_view() {
    let mut long = order();
    let template = long.lines[0].clone();
    long.lines = (0..80)
        .map(|i| vipps_kiosk::payment::Line {
            id: format!("item-{i}"),
            name: format!("Vare nummer {i}"),
            ..template.clone()
        })
        .collect();
    long.total_amount = long.lines.iter().map(|l| l.total_amount).sum();
    long.validate(Currency::Nok).expect("a valid long order");
    for size in [PORTRAIT, LANDSCAPE, SMALL] {
        let mut app = app_with(Lang::Nb, size, Ok(client()));
        let _ = app.step(Input::OrderReceived(long.clone()), Instant::now());
        let r = reference(&app);
        feed(
            &mut app,
            Input::Created {
                reference: r,
                result: Ok(Some("http://sim/_sim/qr/abc123".into())),
                valid_for: None,
            },
        );
        let mut ui = ui(&app, size);
        let total = vipps_kiosk::ui::i18n::format_amount(long.total());
        for text in [
            total.as_str(),
            "Å betale",
            "Skann og betal med Vipps",
            "eller hold din personlige QR-kode fra appen mot skanneren",
            "Vare nummer 0",
        ] {
            let t = ui
                .find(text)
                .unwrap_or_else(|_| panic!("{text:?} at {size:?}"));
            let (b, v) = (t.bounds(), t.visible_bounds());
            let v = v.unwrap_or_else(|| panic!("{text:?} off screen at {size:?}"));
            assert!(
                (v.height - b.height).abs() <= 0.5,
                "{text:?} clipped at {size:?}"
            );
        }
        // The last line is further down the list: scrolled out of view, not squeezed in.
        let last = ui.find("Vare nummer 79").expect("the last line exists");
        assert!(
            last.visible_bounds()
                .is_none_or(|v| v.height < last.bounds().height),
            "80 lines cannot all fit at {size:?}"
        );
    }
}

/// A kiosk showing Vipps' own QR images.
fn image_app() -> App {
    common::app_with_machine(
        Lang::Nb,
        PORTRAIT,
        Ok(client()),
        payment::Config {
            qr_image: true,
            ..payment::Config::default()
        },
    )
}

/// `vipps-image`: the QR on screen is the image fetched for the payment's link. An image for
/// a link no longer current is dropped; a 404 (the QR expired) makes the kiosk replace the QR.
#[test]
fn vipps_image_is_shown_for_its_own_link_and_a_dead_link_replaces_the_qr() {
    let mut app = image_app();
    let now = Instant::now();
    common::to_waiting(&mut app, "ui-image-0001", now);
    assert!(app.qr().is_none(), "nothing drawn from an image link");
    let image = |side: u32| vipps::qr_image::Decoded {
        width: side,
        height: side,
        rgba: vec![0; (side * side * 4) as usize],
    };
    let _ = app.update_at(
        Message::QrFetched {
            url: "http://sim/another-payment.png".into(),
            result: Ok(image(29)),
        },
        now,
    );
    assert!(app.qr().is_none(), "an image for another link is not shown");
    let _ = app.update_at(
        Message::QrFetched {
            url: common::QR_TARGET.into(),
            result: Ok(image(41)),
        },
        now,
    );
    let shown = app.qr().expect("the fetched image");
    assert_eq!(
        (shown.text.as_str(), shown.side_px),
        (common::QR_TARGET, 41)
    );

    let mut app = image_app();
    common::to_waiting(&mut app, "ui-image-0002", now);
    let _ = app.update_at(
        Message::QrFetched {
            url: common::QR_TARGET.into(),
            result: Err(vipps::Error::Api {
                status: 404,
                problem: None,
                retry_after: None,
            }),
        },
        now,
    );
    assert!(
        matches!(
            app.machine().state(),
            payment::State::Waiting { attempt: 2, .. }
        ),
        "a fresh QR is on its way: {:?}",
        app.machine().state()
    );
    assert!(app.qr().is_none(), "the dead image is not shown again");
}

/// eCom: once the customer opens the QR in the app, the screen asks them to approve there
/// (not "we sent it to your phone"), with the time left and Cancel.
#[test]
fn an_opened_ecom_qr_asks_to_approve_in_the_app() {
    let mut app = common::app_with_machine(
        Lang::En,
        PORTRAIT,
        Ok(client()),
        payment::Config {
            one_time_qr_api: payment::Api::Ecom,
            ..payment::Config::default()
        },
    );
    let now = Instant::now();
    common::to_waiting(&mut app, "ui-ecom-0001", now);
    let _ = app.update_at(Message::Tick(now), now + Duration::from_secs(2));
    let r = reference(&app);
    common::feed(
        &mut app,
        Input::Polled {
            reference: r,
            result: Ok(payment::Observed {
                opened: true,
                ..observed(PaymentState::Created, 0)
            }),
        },
        now + Duration::from_secs(2),
    );
    let mut ui = ui(&app, PORTRAIT);
    assert!(has(&mut ui, "Approve in Vipps"));
    assert!(has(
        &mut ui,
        "The payment is open in the app on your phone. Approve it there."
    ));
    assert!(!has(
        &mut ui,
        "We sent the payment to your phone. Open the app and approve it."
    ));
    assert!(has(&mut ui, "Cancel"));
}

/// Every key of the keypad, Back and Send whole in view, whatever the display: the lane's
/// portrait and landscape, 1280×800, a 10" portrait tablet (800×1280), 1024×768 either way
/// round, and the demo's half-size
/// window with its developer panel, also with larger text and a problem said. Touch targets grow on small
/// displays (90 physical pixels), so the keypad must make room for them.
#[test]
fn the_keypad_is_whole_in_view_on_every_display() {
    use vipps_kiosk::ui::{Msg, screen::ids};
    let tablet = Size::new(800.0, 1280.0);
    let demo = Size::new(540.0, 960.0);
    let mut targets: Vec<String> = (0..10).map(ids::digit).collect();
    targets.extend([ids::BACKSPACE, ids::BACK, ids::SEND].map(String::from));
    targets.extend(["47", "45", "358", "46"].map(ids::country));
    let mut failures = Vec::new();
    for (size, dev) in [
        (PORTRAIT, false),
        (LANDSCAPE, false),
        (SMALL, false),
        (tablet, false),
        (Size::new(1024.0, 768.0), false),
        (Size::new(768.0, 1024.0), false),
        (demo, true),
    ] {
        for (lang, larger) in [(Lang::Nb, false), (Lang::Fi, true)] {
            let mut app = vipps_kiosk::app::App::new(vipps_kiosk::app::Setup {
                dev: dev.then(|| vipps_kiosk::app::DevPanel {
                    sim_url: "http://127.0.0.1:9".into(),
                    unknown_customer_qr: "https://qr.vipps.no/p/notfound-x".into(),
                }),
                ..common::setup(lang, size, Ok(client()))
            })
            .0;
            to_waiting(&mut app);
            if larger {
                let _ = app.update(Message::LargerTextToggled);
            }
            let _ = app.update(Message::Keypad(Msg::PayWithPhone));
            // A number too short sent: what is wrong with it is said too.
            let _ = app.update(Message::Keypad(Msg::Digit(4)));
            let _ = app.update(Message::Keypad(Msg::SendPhone));
            let mut ui = ui(&app, size);
            let problem = vipps_kiosk::ui::i18n::wrong_length(lang, "8");
            let said = ui.find(problem.as_str()).is_ok_and(|t| {
                t.visible_bounds()
                    .is_some_and(|v| (v.height - t.bounds().height).abs() <= 0.5)
            });
            if !said {
                failures.push(format!(
                    "{problem:?} at {size:?} ({lang:?}, larger {larger})"
                ));
            }
            for id in &targets {
                let t = ui
                    .find(iced_test::selector::id(id.clone()))
                    .unwrap_or_else(|_| panic!("no {id} at {size:?}"));
                let whole = t.visible_bounds().is_some_and(|v| {
                    (v.height - t.bounds().height).abs() <= 0.5
                        && (v.width - t.bounds().width).abs() <= 0.5
                });
                if !whole {
                    failures.push(format!("{id} at {size:?} ({lang:?}, larger {larger})"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "cut off:\n  {}", failures.join("\n  "));
}
