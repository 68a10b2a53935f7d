#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! Snapshot tests: every customer screen × language × size, rendered headless (iced_test,
//! tiny-skia, embedded fonts, a fixed clock) and compared by SHA-256 with the hashes in
//! `tests/snapshots/`.
//!
//! On a mismatch the rendered PNG is written to `target/snapshot-diffs/` for review.
//! After an intended change: `KIOSK_UPDATE_SNAPSHOTS=1 cargo test --test snapshots`
//! rewrites the hashes and the review PNGs in `docs/screenshots/i18n/`; commit both.

use iced::Size;
use iced_test::Simulator;
use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};
use vipps_kiosk::{
    app::{App, DevPanel, Message, Setup},
    market::{Lang, Market, Today},
    payment::{ApiError, Input},
    scan::RawScan,
    ui::{Msg, theme},
    vipps::model::PaymentState,
};

mod common;
use common::{LANDSCAPE, PORTRAIT, SMALL, logical, observed, order, reference};

const SIZES: [(&str, Size); 3] = [
    ("portrait", PORTRAIT),
    ("landscape", LANDSCAPE),
    ("small", SMALL),
];

/// Screens whose review PNGs are committed (in both orientations).
const REVIEWED: [&str; 12] = [
    "waiting",
    "keypad",
    "keypad-focus",
    "failed-age-limit",
    "scanned",
    "approved",
    "failed-cancelled-in-app",
    "failed-not-found",
    "dk-before-brand-date",
    "dk-after-brand-date",
    "order-list",
    "waiting-speech",
];

const ORDER_ID: &str = "snap-order-0001";

/// A lane in `lang`, its clock fixed at `t0`.
struct Lane {
    app: App,
    t0: Instant,
}

impl Lane {
    fn new(setup: Setup) -> Lane {
        Lane {
            app: App::new(setup).0,
            t0: Instant::now(),
        }
    }
    fn send(&mut self, m: Message) {
        let _ = self.app.update_at(m, self.t0);
    }
    fn input(&mut self, i: Input) {
        common::feed(&mut self.app, i, self.t0);
    }
    fn reference(&self) -> String {
        reference(&self.app)
    }
    fn waiting(&mut self) {
        common::to_waiting(&mut self.app, ORDER_ID, self.t0);
    }
    fn scanned(&mut self) {
        common::to_scanned(&mut self.app, ORDER_ID, self.t0);
    }
    fn authorized(&mut self) {
        self.scanned();
        common::poll_answers(&mut self.app, PaymentState::Authorized, self.t0);
    }
    fn polled(&mut self, state: PaymentState) {
        common::poll_answers(&mut self.app, state, self.t0);
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn updating() -> bool {
    std::env::var_os("KIOSK_UPDATE_SNAPSHOTS").is_some()
}

/// Renders `name` in every language and size, and compares each with its committed hash.
fn check(name: &str, setup: impl Fn(&mut Lane)) {
    check_in(name, &Lang::ALL, &SIZES, |s| s, setup);
}

/// `check` in `langs` and `sizes`, the lane's setup changed by `lane`.
fn check_in(
    name: &str,
    langs: &[Lang],
    sizes: &[(&str, Size)],
    lane: impl Fn(Setup) -> Setup,
    setup: impl Fn(&mut Lane),
) {
    let settings = common::render_settings();
    let scratch = std::env::temp_dir().join(format!("kiosk-snap-{}-{name}", std::process::id()));
    let mut failures = Vec::new();
    for &lang in langs {
        for &(size_name, size) in sizes {
            let key = format!("{name}-{}-{size_name}", lang.code());
            let client = if name == "out-of-service" {
                Err(
                    "Configuration error: vipps.base_url: \"sim\", or an http(s):// address"
                        .to_string(),
                )
            } else {
                Ok(common::idle_client())
            };
            let mut lane = Lane::new(lane(common::setup(lang, size, client)));
            setup(&mut lane);
            let mut ui = Simulator::with_size(settings.clone(), logical(size), lane.app.view());
            let snap = ui.snapshot(&theme::app_theme()).expect("snapshot");
            // iced_test writes the hash beside a path of our choosing; read it back.
            let _ = std::fs::remove_dir_all(&scratch);
            assert!(snap.matches_hash(scratch.join(&key)).expect("hash"));
            let actual = read_only_file(&scratch, "sha256");
            let committed = root().join("tests/snapshots").join(format!("{key}.sha256"));
            let review = REVIEWED.contains(&name) && size_name != "small";
            if updating() {
                std::fs::create_dir_all(committed.parent().unwrap()).unwrap();
                std::fs::write(&committed, &actual).unwrap();
                if review {
                    let png = render_png(&snap, &scratch, &key);
                    save_review(
                        &png,
                        &root()
                            .join("docs/screenshots/i18n")
                            .join(format!("{key}.png")),
                    );
                }
                continue;
            }
            match std::fs::read_to_string(&committed) {
                Ok(expected) if expected.trim() == actual.trim() => {}
                Ok(_) => {
                    let png = render_png(&snap, &scratch, &key);
                    let out = root()
                        .join("target/snapshot-diffs")
                        .join(format!("{key}.png"));
                    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
                    std::fs::copy(&png, &out).unwrap();
                    failures.push(format!("{key} differs (see {})", out.display()));
                }
                Err(_) => failures.push(format!("{key} has no committed hash")),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        failures.is_empty(),
        "{} snapshot(s) of {name} changed:\n  {}\nIf intended: KIOSK_UPDATE_SNAPSHOTS=1 cargo test --test snapshots",
        failures.len(),
        failures.join("\n  ")
    );
}

fn read_only_file(dir: &Path, ext: &str) -> String {
    let entry = std::fs::read_dir(dir)
        .expect("scratch dir")
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == ext))
        .expect("written file");
    std::fs::read_to_string(entry.path()).expect("readable")
}

fn render_png(snap: &iced_test::simulator::Snapshot, scratch: &Path, key: &str) -> PathBuf {
    assert!(snap.matches_image(scratch.join(key)).expect("png"));
    std::fs::read_dir(scratch)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "png"))
        .expect("png written")
}

/// The review copy: a quarter of the 2x snapshot, i.e. half the design size.
fn save_review(png: &Path, out: &Path) {
    let img = image::open(png).expect("png decodes");
    let small = img.resize(
        img.width() / 4,
        img.height() / 4,
        image::imageops::FilterType::Triangle,
    );
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    small.to_rgb8().save(out).expect("review png");
}

#[test]
fn idle() {
    check("idle", |_| {});
}

#[test]
fn attract() {
    check("attract", |l| {
        l.send(Message::Tick(l.t0));
        let later = l.t0 + Duration::from_secs(61);
        let _ = l.app.update_at(Message::Tick(later), later);
    });
}

#[test]
fn waiting() {
    check("waiting", Lane::waiting);
}

#[test]
fn waiting_still_there() {
    check("waiting-still-there", |l| {
        l.waiting();
        let late = l.t0 + Duration::from_secs(300 - 45);
        let _ = l.app.update_at(Message::Executed(None), late);
    });
}

#[test]
fn scanned() {
    check("scanned", Lane::scanned);
}

/// The keypad with a number being typed and what is wrong with it said.
#[test]
fn keypad() {
    check("keypad", |l| {
        l.waiting();
        l.send(Message::Keypad(Msg::PayWithPhone));
        for d in [4, 1, 2, 3, 4, 5, 6] {
            l.send(Message::Keypad(Msg::Digit(d)));
        }
        l.send(Message::Keypad(Msg::SendPhone));
    });
}

/// The keypad from a keyboard: the ring on the key Enter would press.
#[test]
fn keypad_focus() {
    check("keypad-focus", |l| {
        l.waiting();
        l.send(Message::Keypad(Msg::PayWithPhone));
        l.send(Message::Keypad(Msg::Digit(9)));
        let tab = Message::Key(iced::keyboard::Event::KeyPressed {
            key: iced::keyboard::Key::Named(iced::keyboard::key::Named::Tab),
            modified_key: iced::keyboard::Key::Named(iced::keyboard::key::Named::Tab),
            physical_key: iced::keyboard::key::Physical::Unidentified(
                iced::keyboard::key::NativeCode::Unidentified,
            ),
            location: iced::keyboard::Location::Standard,
            modifiers: iced::keyboard::Modifiers::empty(),
            text: None,
            repeat: false,
        });
        // Six Tabs, a person's pace apart: past the four codes and the 1, to the 2.
        for n in 0..6u64 {
            let t = l.t0 + Duration::from_millis(200 * n);
            let _ = l.app.update_at(tab.clone(), t);
            let _ = l
                .app
                .update_at(Message::KeysSettled, t + Duration::from_millis(60));
        }
    });
}

/// The scanned screen after a typed number: sent to it, masked.
#[test]
fn scanned_phone() {
    check("scanned-phone", |l| {
        l.waiting();
        l.send(Message::Keypad(Msg::PayWithPhone));
        for d in [4, 1, 2, 3, 4, 5, 6, 7] {
            l.send(Message::Keypad(Msg::Digit(d)));
        }
        l.send(Message::Keypad(Msg::SendPhone));
        let r = l.reference();
        l.input(Input::CancelAnswered {
            reference: r,
            result: Ok(observed(PaymentState::Terminated, 0)),
        });
        let r = l.reference();
        l.input(Input::Created {
            reference: r,
            result: Ok(None),
            valid_for: None,
        });
    });
}

/// An age-limited purchase declined in the app: said neutrally, staff can help.
#[test]
fn failed_age_limit() {
    check("failed-age-limit", |l| {
        let mut o = order(ORDER_ID);
        o.lines[0].minimum_age = Some(18);
        let _ = l.app.step(Input::OrderReceived(o), l.t0);
        let r = l.reference();
        l.input(Input::Created {
            reference: r,
            result: Ok(Some(common::QR_TARGET.into())),
            valid_for: None,
        });
        l.polled(PaymentState::Aborted);
    });
}

#[test]
fn capturing() {
    check("capturing", Lane::authorized);
}

#[test]
fn approved() {
    check("approved", |l| {
        l.authorized();
        let r = l.reference();
        l.input(Input::Captured {
            reference: r,
            result: Ok(observed(
                PaymentState::Authorized,
                order(ORDER_ID).total_amount,
            )),
        });
    });
}

#[test]
fn failed_cancelled_in_app() {
    check("failed-cancelled-in-app", |l| {
        l.scanned();
        l.polled(PaymentState::Aborted);
    });
}

#[test]
fn failed_expired() {
    check("failed-expired", |l| {
        l.scanned();
        l.polled(PaymentState::Expired);
    });
}

#[test]
fn failed_not_found() {
    check("failed-not-found", |l| {
        l.waiting();
        l.send(Message::Scanned(RawScan(
            "https://qr.vipps.no/p/notfound-1".into(),
        )));
        let r = l.reference();
        l.input(Input::CancelAnswered {
            reference: r,
            result: Ok(observed(PaymentState::Terminated, 0)),
        });
        let r = l.reference();
        let refused = ApiError {
            status: Some(400),
            code: Some(7010),
            transient: false,
            message: String::new(),
            ..ApiError::default()
        };
        l.input(Input::Created {
            reference: r,
            result: Err(refused),
            valid_for: None,
        });
    });
}

#[test]
fn failed_service_trouble() {
    check("failed-service-trouble", |l| {
        let _ = l.app.step(Input::OrderReceived(order(ORDER_ID)), l.t0);
        let r = l.reference();
        let refused = ApiError {
            status: Some(403),
            code: None,
            transient: false,
            message: String::new(),
            ..ApiError::default()
        };
        l.input(Input::Created {
            reference: r,
            result: Err(refused),
            valid_for: None,
        });
    });
}

#[test]
fn not_a_vipps_code() {
    check("not-a-vipps-code", |l| {
        l.waiting();
        l.send(Message::Scanned(RawScan("7038010055680".into())));
    });
}

#[test]
fn scanner_missing() {
    check("scanner-missing", |l| {
        l.waiting();
        l.send(Message::ScannerLost);
    });
}

#[test]
fn out_of_service() {
    check("out-of-service", |_| {});
}

/// A Danish lane on its Waiting screen, the day before MobilePay becomes Vipps and the day it
/// does.
fn danish(today: Today) -> impl Fn(Setup) -> Setup {
    move |s| Setup {
        market: Market::Denmark,
        today,
        ..s
    }
}

fn danish_waiting(l: &mut Lane) {
    let mut o = order(ORDER_ID);
    o.currency = vipps_kiosk::vipps::model::Currency::Dkk;
    let _ = l.app.step(Input::OrderReceived(o), l.t0);
    let r = l.reference();
    l.input(Input::Created {
        reference: r,
        result: Ok(Some(common::QR_TARGET.into())),
        valid_for: None,
    });
}

#[test]
fn dk_before_brand_date() {
    check_in(
        "dk-before-brand-date",
        &[Lang::Da, Lang::En],
        &SIZES[..2],
        danish(Today::Fixed(time::macros::date!(2027 - 01 - 11))),
        danish_waiting,
    );
}

#[test]
fn dk_after_brand_date() {
    check_in(
        "dk-after-brand-date",
        &[Lang::Da, Lang::En],
        &SIZES[..2],
        danish(Today::Fixed(time::macros::date!(2027 - 01 - 12))),
        danish_waiting,
    );
}

/// The demo's ten-line order (weighed, discounted, counted lines) at 1080×1920 with larger
/// text and the developer panel: the hardest case for the order list.
#[test]
fn order_list() {
    check_in(
        "order-list",
        &Lang::ALL,
        &SIZES[..1],
        |s| Setup {
            dev: Some(DevPanel {
                sim_url: "http://127.0.0.1:9".into(),
                unknown_customer_qr: "https://qr.vipps.no/p/notfound-x".into(),
            }),
            ..s
        },
        |l| {
            let mut o =
                vipps_kiosk::app::demo::orders(vipps_kiosk::vipps::model::Currency::Nok, "snap")
                    .unwrap()[2]
                    .clone();
            o.order_id = ORDER_ID.into();
            let _ = l.app.step(Input::OrderReceived(o), l.t0);
            let r = l.reference();
            l.input(Input::Created {
                reference: r,
                result: Ok(Some(common::QR_TARGET.into())),
                valid_for: None,
            });
            l.send(Message::LargerTextToggled);
        },
    );
}

/// The Waiting screen with speech on (an engine that says nothing stands in).
#[test]
fn waiting_speech() {
    check_in(
        "waiting-speech",
        &Lang::ALL,
        &SIZES[..2],
        |s| {
            let quiet = vipps_kiosk::speech::Engine::new(vec!["true".into()]).unwrap();
            Setup {
                speech: Some(vipps_kiosk::speech::Speaker::start(quiet).unwrap()),
                ..s
            }
        },
        |l| {
            l.waiting();
            l.send(Message::SpeechToggled);
        },
    );
}
