#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The window's app against the simulator, its tasks run as the iced runtime runs them: a
//! customer who pays by typing their phone number with the keyboard alone, and an under-age
//! customer at an age-limited order. Each checks the simulator's books.

use iced::{
    Task,
    keyboard::{self, Key, key::Named},
};
use iced_test::futures::futures::StreamExt;
use std::time::{Duration, Instant};
use vipps_kiosk::{
    app::{App, Message, Setup},
    market::Lang,
    payment::{self, FailureReason, Input, Method, Order, State},
    sim::{Simulator, backend::PhoneAction},
};

mod common;
use common::{PORTRAIT, logical};

/// The app of a Norwegian lane on `sim`, polling fast.
fn app(sim: &Simulator, lang: Lang) -> App {
    App::new(Setup {
        machine: payment::Config {
            poll_interval: Duration::from_millis(50),
            failed_display: Duration::from_millis(300),
            ..payment::Config::default()
        },
        ..common::setup(lang, PORTRAIT, Ok(common::client_for(&sim.base_url())))
    })
    .0
}

/// Runs `task` as the runtime would: every message it produces is fed back, with its tasks.
async fn drive(app: &mut App, task: Task<Message>) {
    let mut queue = vec![task];
    while let Some(task) = queue.pop() {
        let Some(mut stream) = iced_test::runtime::task::into_stream(task) else {
            continue;
        };
        while let Some(action) = stream.next().await {
            if let iced_test::runtime::Action::Output(m) = action {
                queue.push(app.update(m));
            }
        }
    }
}

/// Ticks the app until `done` holds for the machine's state (at most five seconds).
async fn until(app: &mut App, what: &str, done: impl Fn(&State) -> bool) {
    let start = Instant::now();
    while !done(app.machine().state()) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{what}: still {:?}",
            app.machine().state()
        );
        let task = app.update(Message::Tick(Instant::now()));
        drive(app, task).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn press(key: Key, physical: keyboard::key::Physical, shift: bool) -> Message {
    let mut modifiers = keyboard::Modifiers::empty();
    if shift {
        modifiers.insert(keyboard::Modifiers::SHIFT);
    }
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

fn unidentified() -> keyboard::key::Physical {
    keyboard::key::Physical::Unidentified(keyboard::key::NativeCode::Unidentified)
}

/// A person pressing `key`: it acts once held back for long enough, as in the window.
async fn key(app: &mut App, message: Message) {
    let task = app.update(message);
    drive(app, task).await;
    tokio::time::sleep(Duration::from_millis(40)).await;
}

/// Digits on the numeric keypad (Num Lock off: the keys read as arrows, their codes are
/// still the numpad's).
async fn numpad(app: &mut App, digits: &str) {
    use keyboard::key::{Code, Physical};
    const CODES: [Code; 10] = [
        Code::Numpad0,
        Code::Numpad1,
        Code::Numpad2,
        Code::Numpad3,
        Code::Numpad4,
        Code::Numpad5,
        Code::Numpad6,
        Code::Numpad7,
        Code::Numpad8,
        Code::Numpad9,
    ];
    for d in digits.bytes() {
        let code = CODES[usize::from(d - b'0')];
        key(
            app,
            press(Key::Named(Named::End), Physical::Code(code), false),
        )
        .await;
    }
}

async fn order_in(app: &mut App, order: Order) {
    let task = app.step(Input::OrderReceived(order), Instant::now());
    drive(app, task).await;
    until(
        app,
        "the QR",
        |s| matches!(s, State::Waiting { payment, .. } if payment.qr.is_some()),
    )
    .await;
}

fn visible(app: &App, text: &str) -> bool {
    let mut ui =
        iced_test::Simulator::with_size(common::render_settings(), logical(PORTRAIT), app.view());
    ui.find(text).is_ok()
}

/// The simulator's payments for `order_id`: (reference, state, captured), oldest first.
fn books(sim: &Simulator, order_id: &str) -> Vec<(String, String, i64)> {
    common::payments_of(sim, order_id)
        .iter()
        .map(|p| {
            (
                p["reference"].as_str().unwrap_or_default().to_string(),
                p["state"].as_str().unwrap_or_default().to_string(),
                common::amount(p, "capturedAmount"),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_customer_pays_by_phone_number_with_the_keyboard_alone() {
    let sim = common::simulator().await;
    let mut app = app(&sim, Lang::Nb);
    let order = common::order("ways-phone-0001");
    let total = order.total_amount;
    order_in(&mut app, order).await;

    // A 4 on the main row opens the keypad with it; the rest on the numeric keypad, a slip
    // taken back with Backspace, and Enter sends.
    key(
        &mut app,
        press(Key::Character("4".into()), unidentified(), false),
    )
    .await;
    assert!(
        visible(&app, "Betal med telefonnummer"),
        "the keypad is open"
    );
    numpad(&mut app, "12345679").await;
    key(
        &mut app,
        press(Key::Named(Named::Backspace), unidentified(), false),
    )
    .await;
    assert!(visible(&app, "41234567"), "the number shows while typed");
    key(
        &mut app,
        press(Key::Named(Named::Enter), unidentified(), false),
    )
    .await;
    until(
        &mut app,
        "the push",
        |s| matches!(s, State::Scanned { payment, .. } if payment.created),
    )
    .await;
    // Once sent, the number shows masked, and nowhere in full.
    assert!(visible(&app, "Sendt til +47 ••••••67"));
    assert!(!visible(&app, "41234567"));

    let payments = common::payments_of(&sim, "ways-phone-0001");
    assert_eq!(payments.len(), 2);
    assert_eq!(payments[0]["state"], "TERMINATED", "the QR payment first");
    assert_eq!(payments[1]["userFlow"], "PUSH_MESSAGE");
    assert_eq!(payments[1]["customer"]["phoneNumber"], "4741234567");
    let push = payments[1]["reference"].as_str().unwrap().to_string();
    assert!(sim.phone(&push, PhoneAction::Approve));
    until(&mut app, "approved", |s| {
        matches!(
            s,
            State::Approved {
                method: Method::PhoneNumber,
                ..
            }
        )
    })
    .await;
    let b = books(&sim, "ways-phone-0001");
    let captured: Vec<_> = b.iter().filter(|(_, _, c)| *c > 0).collect();
    assert_eq!(captured.len(), 1, "{b:?}");
    assert_eq!(
        (captured[0].0.as_str(), captured[0].2),
        (push.as_str(), total)
    );
}

#[tokio::test]
async fn a_keyboard_user_reaches_the_keypad_with_tab_and_a_wrong_number_is_said_first() {
    let sim = common::simulator().await;
    let mut app = app(&sim, Lang::Da);
    order_in(&mut app, common::order("ways-tab-0001")).await;
    // Tab: the first action is "pay with your phone number"; Space opens the keypad.
    key(
        &mut app,
        press(Key::Named(Named::Tab), unidentified(), false),
    )
    .await;
    key(
        &mut app,
        press(Key::Character(" ".into()), unidentified(), false),
    )
    .await;
    assert!(visible(&app, "Betal med telefonnummer"));
    // A Norwegian landline typed: refused on screen, in Danish, before anything is sent.
    for d in "2123456".chars() {
        key(
            &mut app,
            press(Key::Character(d.to_string().into()), unidentified(), false),
        )
        .await;
    }
    key(
        &mut app,
        press(Key::Named(Named::Enter), unidentified(), false),
    )
    .await;
    assert!(visible(&app, "Nummeret skal have 8 cifre."));
    assert_eq!(common::payments_of(&sim, "ways-tab-0001").len(), 1);
    // Escape goes back to the QR, which still works.
    key(
        &mut app,
        press(Key::Named(Named::Escape), unidentified(), false),
    )
    .await;
    assert!(visible(&app, "Scan og betal med Vipps"));
    assert!(matches!(app.machine().state(), State::Waiting { .. }));
}

/// The sample order with an age limit (beer, 18).
fn age_limited(id: &str) -> Order {
    let orders =
        vipps_kiosk::app::demo::orders(vipps_kiosk::vipps::model::Currency::Nok, "test").unwrap();
    let o = orders
        .into_iter()
        .find(|o| o.minimum_age().is_some())
        .expect("a sample order with an age limit");
    Order {
        order_id: id.into(),
        ..o
    }
}

#[tokio::test]
async fn an_under_age_customer_is_told_neutrally_and_an_adult_then_pays() {
    let sim = common::simulator().await;
    let mut app = app(&sim, Lang::Nb);
    order_in(&mut app, age_limited("ways-age-0001")).await;
    let qr = common::payments_of(&sim, "ways-age-0001");
    assert_eq!(
        qr[0]["minimumUserAge"], 18,
        "the QR payment carries the limit"
    );

    // The simulator's 16-year-old types their number: Vipps answers as for no customer.
    key(
        &mut app,
        press(Key::Character("9".into()), unidentified(), false),
    )
    .await;
    numpad(&mut app, "1000016").await;
    key(
        &mut app,
        press(Key::Named(Named::Enter), unidentified(), false),
    )
    .await;
    until(&mut app, "the age limit", |s| {
        matches!(
            s,
            State::Failed {
                reason: FailureReason::AgeLimit,
                order: Some(_),
                ..
            }
        )
    })
    .await;
    assert!(visible(&app, "Dette kjøpet har aldersgrense"));
    assert!(visible(
        &app,
        "Betalingen gikk ikke gjennom. De ansatte kan hjelpe deg."
    ));

    // A fresh QR; the 16-year-old approves it in the app, which refuses them.
    until(
        &mut app,
        "a fresh QR",
        |s| matches!(s, State::Waiting { payment, .. } if payment.qr.is_some() && payment.created),
    )
    .await;
    let fresh = common::reference(&app);
    let http = vipps_kiosk::vipps::plain_http_client();
    let token: serde_json::Value = common::request_token(&http, &sim.base_url())
        .await
        .json()
        .await
        .unwrap();
    let approve = |customer: &str| {
        http.post(format!(
            "{}/epayment/v1/test/payments/{fresh}/approve",
            sim.base_url()
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .header("Ocp-Apim-Subscription-Key", "sub")
        .header("Merchant-Serial-Number", "123456")
        .json(&serde_json::json!({"customer": {"phoneNumber": customer}}))
    };
    let refused = approve("4791000016").send().await.unwrap();
    assert_eq!(refused.status(), 400);
    until(&mut app, "the age limit again", |s| {
        matches!(
            s,
            State::Failed {
                reason: FailureReason::AgeLimit,
                ..
            }
        )
    })
    .await;

    // An adult then pays the next QR.
    until(
        &mut app,
        "another QR",
        |s| matches!(s, State::Waiting { payment, .. } if payment.qr.is_some() && payment.created),
    )
    .await;
    let last = common::reference(&app);
    assert!(sim.phone(&last, PhoneAction::Approve));
    until(&mut app, "approved", |s| {
        matches!(s, State::Approved { .. })
    })
    .await;
    let b = books(&sim, "ways-age-0001");
    let captured: Vec<_> = b.iter().filter(|(_, _, c)| *c > 0).map(|p| &p.0).collect();
    assert_eq!(captured, vec![&last], "{b:?}");
    assert!(
        b.iter().all(|(r, s, _)| r == &last || s != "AUTHORIZED"),
        "{b:?}"
    );
}
