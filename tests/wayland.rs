#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The kiosk under a Wayland kiosk compositor: `cage`, headless (`WLR_BACKENDS=headless`, the
//! pixman renderer), runs the demo fullscreen with no X display to fall back to; a screenshot
//! taken with `grim` shows the window filling the output and the Waiting screen's payment QR,
//! which decodes to the payment's link. Skipped, loudly, where cage or grim is missing
//! (`.ci/run` installs them). cage refuses to run as root, so as root it runs as `nobody`.
//! Touch: the fullscreen kiosk (pointer hidden) takes a finger's tap as a tap, as winit hands
//! it over from a Wayland (or X11) touchscreen.

mod common;

use iced::{Point, touch};
use iced_test::Simulator;
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A command run as the unprivileged user when this test is root.
fn as_user(root: bool, program: &str) -> Command {
    if root {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            program,
        ]);
        c
    } else {
        Command::new(program)
    }
}

struct Compositor {
    child: Child,
    log: PathBuf,
}

impl Drop for Compositor {
    fn drop(&mut self) {
        // SIGTERM lets cage end its client too.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        while self.child.try_wait().ok().flatten().is_none() {
            if start.elapsed() > Duration::from_secs(5) {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.wait();
    }
}

/// Grey levels of a PNG screenshot.
fn grey(png: &Path) -> Option<image::GrayImage> {
    Some(image::open(png).ok()?.to_luma8())
}

fn qr_text(img: &image::GrayImage) -> Option<String> {
    let mut prepared = rqrr::PreparedImage::prepare(img.clone());
    prepared
        .detect_grids()
        .into_iter()
        .find_map(|g| g.decode().ok().map(|(_, text)| text))
}

#[test]
fn the_waiting_screen_shows_fullscreen_under_cage_and_its_qr_decodes() {
    let missing: Vec<_> = ["cage", "grim", "setpriv"]
        .into_iter()
        .filter(|t| !have(t))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "SKIPPED: the Wayland test needs {} (apt-get install cage grim xwayland)",
            missing.join(", ")
        );
        return;
    }
    let root = is_root();
    let dir = std::env::temp_dir().join(format!("vipps-kiosk-wayland-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // The runtime dir (0700, the user's own) and a copy of the binary the user can run.
    let bin = dir.join("vipps-kiosk");
    std::fs::copy(env!("CARGO_BIN_EXE_vipps-kiosk"), &bin).unwrap();
    if root {
        let ok = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chown the test directory");
    }
    Command::new("chmod").arg("700").arg(&dir).status().unwrap();
    let log = dir.join("cage.log");
    let child = as_user(root, "cage")
        .args(["--", "env", "-u", "DISPLAY"])
        .arg(&bin)
        .arg("--fullscreen")
        .env("XDG_RUNTIME_DIR", &dir)
        .env("WLR_BACKENDS", "headless")
        .env("WLR_RENDERER", "pixman")
        .env("WLR_LIBINPUT_NO_DEVICES", "1")
        .env("KIOSK_LOG", "warn,vipps_kiosk=info")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("cage starts");
    let mut cage = Compositor { child, log };
    let shot = dir.join("shot.png");
    let start = Instant::now();
    let (img, text) = loop {
        if let Ok(Some(status)) = cage.child.try_wait() {
            panic!(
                "cage exited ({status}):\n{}",
                std::fs::read_to_string(&cage.log).unwrap_or_default()
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "no readable QR under cage in 40 s; last screenshot {}:\n{}",
            shot.display(),
            std::fs::read_to_string(&cage.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
        let taken = as_user(root, "grim")
            .arg(&shot)
            .env("XDG_RUNTIME_DIR", &dir)
            .env("WAYLAND_DISPLAY", "wayland-0")
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if let Some(img) = taken.then(|| grey(&shot)).flatten()
            && let Some(text) = qr_text(&img)
        {
            break (img, text);
        }
    };
    // The simulator's one-time QR links are shaped as Vipps' own.
    assert!(
        text.starts_with("https://qr.vipps.no/"),
        "the QR is a payment's link: {text}"
    );
    // Fullscreen: the kiosk's light screen reaches every corner of the output.
    let (w, h) = img.dimensions();
    for (x, y) in [(2, 2), (w - 3, 2), (2, h - 3), (w - 3, h - 3)] {
        assert!(
            img.get_pixel(x, y)[0] > 40,
            "corner ({x}, {y}) of {w}×{h} is the compositor's black, not the kiosk"
        );
    }
    let log = std::fs::read_to_string(&cage.log).unwrap_or_default();
    assert!(!log.contains("panicked"), "{log}");
    if let Ok(target) = std::env::var("KIOSK_WAYLAND_SHOT") {
        let _ = std::fs::copy(&shot, target);
    }
    drop(cage);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_touch_taps_a_button_on_the_fullscreen_screen_with_the_pointer_hidden() {
    use vipps_kiosk::{
        app::{App, Message, Setup},
        market::Lang,
    };
    let (mut app, _) = App::new(Setup {
        hide_cursor: true,
        ..common::setup(Lang::Nb, common::PORTRAIT, Ok(common::idle_client()))
    });
    common::to_waiting(&mut app, "touch-order-0001", Instant::now());
    let mut ui = Simulator::with_size(
        common::render_settings(),
        common::logical(common::PORTRAIT),
        app.view(),
    );
    let english = ui.find("English").expect("the language switch");
    let at: Point = iced_test::selector::Bounded::visible_bounds(&english)
        .expect("on screen")
        .center();
    // As the window does for a touch: the cursor follows the finger, then the touch events.
    ui.point_at(at);
    let finger = touch::Finger(7);
    let _ = ui.simulate([
        iced::Event::Touch(touch::Event::FingerPressed {
            id: finger,
            position: at,
        }),
        iced::Event::Touch(touch::Event::FingerLifted {
            id: finger,
            position: at,
        }),
    ]);
    let messages: Vec<Message> = ui.into_messages().collect();
    assert!(
        matches!(messages.as_slice(), [Message::LanguageChosen(Lang::En)]),
        "a tap chose English: {messages:?}"
    );
}
