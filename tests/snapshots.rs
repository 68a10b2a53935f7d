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
    app::{App, Message},
    market::Lang,
    payment::{ApiError, Input},
    scan::RawScan,
    ui::theme,
    vipps::{self, model::PaymentState},
};

mod common;
use common::{LANDSCAPE, PORTRAIT, SMALL, logical, observed, order, reference};

const SIZES: [(&str, Size); 3] = [
    ("portrait", PORTRAIT),
    ("landscape", LANDSCAPE),
    ("small", SMALL),
];

/// Screens whose review PNGs are committed (in both orientations).
const REVIEWED: [&str; 5] = [
    "waiting",
    "scanned",
    "approved",
    "failed-cancelled-in-app",
    "failed-not-found",
];

const ORDER_ID: &str = "snap-order-0001";

/// A lane in `lang`, its clock fixed at `t0`.
struct Lane {
    app: App,
    t0: Instant,
}

impl Lane {
    fn new(lang: Lang, size: Size, client: Result<vipps::Client, String>) -> Lane {
        Lane {
            app: common::app_with(lang, size, client),
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
    let settings = common::render_settings();
    let scratch = std::env::temp_dir().join(format!("kiosk-snap-{}-{name}", std::process::id()));
    let mut failures = Vec::new();
    for lang in Lang::ALL {
        for (size_name, size) in SIZES {
            let key = format!("{name}-{}-{size_name}", lang.code());
            let client = if name == "out-of-service" {
                Err(
                    "Configuration error: vipps.base_url: \"sim\", or an http(s):// address"
                        .to_string(),
                )
            } else {
                Ok(common::idle_client())
            };
            let mut lane = Lane::new(lang, size, client);
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
