#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop the benchmark loudly
//! Cold start to the first frame of the Waiting screen in a real window: the release binary
//! (the demo: embedded simulator, first order at once) is started under Xvfb, and the screen
//! is read back (`xwd`) until the window shows its first pixels, and until its payment QR
//! decodes. Each run is a fresh process. Needs `Xvfb` and `xwd` (Debian: xvfb, x11-apps);
//! without them it says so and measures nothing.
//!
//! `cargo bench --bench cold_start [-- RUNS]` (default 10).

mod common;

use common::summary;
use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The demo window: the 1080×1920 design at half size, at the top left of the screen.
const WINDOW: (u32, u32) = (540, 960);

struct Shot {
    width: u32,
    height: u32,
    luma: Vec<u8>,
}

fn be(b: &[u8], field: usize) -> u32 {
    u32::from_be_bytes(b[field * 4..field * 4 + 4].try_into().unwrap())
}

/// The root window as grey levels, from an X window dump (ZPixmap, 24/32 bits a pixel).
fn screenshot(display: &str) -> Option<Shot> {
    let out = Command::new("xwd")
        .args(["-root", "-silent", "-display", display])
        .output()
        .ok()?;
    let b = out.stdout;
    if b.len() < 100 {
        return None;
    }
    let (header, width, height) = (be(&b, 0) as usize, be(&b, 4), be(&b, 5));
    let (lsb_first, bpp, line) = (be(&b, 7) == 0, be(&b, 11), be(&b, 12) as usize);
    let data = header + be(&b, 19) as usize * 12;
    if bpp != 32 {
        return None;
    }
    let (w, h) = (width.min(WINDOW.0), height.min(WINDOW.1));
    let mut luma = Vec::with_capacity((w * h) as usize);
    for y in 0..h as usize {
        for x in 0..w as usize {
            let i = data + y * line + x * 4;
            let px: [u8; 4] = b.get(i..i + 4)?.try_into().ok()?;
            let v = if lsb_first {
                u32::from_le_bytes(px)
            } else {
                u32::from_be_bytes(px)
            };
            let (r, g, bl) = ((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
            luma.push(((r * 299 + g * 587 + bl * 114) / 1000) as u8);
        }
    }
    Some(Shot {
        width: w,
        height: h,
        luma,
    })
}

fn qr_text(shot: &Shot) -> Option<String> {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(
        shot.width as usize,
        shot.height as usize,
        |x, y| shot.luma[y * shot.width as usize + x],
    );
    img.detect_grids()
        .into_iter()
        .find_map(|g| g.decode().ok().map(|(_, text)| text))
}

struct Xvfb(Child);

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn xvfb() -> Option<(Xvfb, String)> {
    let n = 90 + std::process::id() % 9;
    let display = format!(":{n}");
    let child = Command::new("Xvfb")
        .args([
            &display,
            "-screen",
            "0",
            "1080x1920x24",
            "-br",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let socket = format!("/tmp/.X11-unix/X{n}");
    let start = Instant::now();
    while !Path::new(&socket).exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    Some((Xvfb(child), display))
}

/// One cold start: (first pixels of the window, the Waiting screen's QR readable).
fn run(display: &str, runtime_dir: &Path) -> (Duration, Duration) {
    let start = Instant::now();
    let mut kiosk = Command::new(env!("CARGO_BIN_EXE_vipps-kiosk"))
        .env("DISPLAY", display)
        .env("XDG_RUNTIME_DIR", runtime_dir)
        .env_remove("WAYLAND_DISPLAY")
        .env("KIOSK_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the kiosk starts");
    let mut first_pixels = None;
    let waiting = loop {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no Waiting screen in 20 s"
        );
        let Some(shot) = screenshot(display) else {
            continue;
        };
        let at = start.elapsed();
        if first_pixels.is_none() && shot.luma.iter().any(|&v| v > 16) {
            first_pixels = Some(at);
        }
        if first_pixels.is_some()
            && qr_text(&shot).is_some_and(|t| t.starts_with("https://qr.vipps.no/"))
        {
            break at;
        }
    };
    let _ = kiosk.kill();
    let _ = kiosk.wait();
    // The screen goes back to black before the next run.
    std::thread::sleep(Duration::from_millis(300));
    (first_pixels.unwrap_or(waiting), waiting)
}

fn main() {
    let runs = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10usize);
    let tools = ["Xvfb", "xwd"].iter().all(|t| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    let Some((_xvfb, display)) = tools.then(xvfb).flatten() else {
        println!("SKIPPED: cold start needs Xvfb and xwd (apt-get install xvfb x11-apps)");
        return;
    };
    let runtime_dir = std::env::temp_dir().join(format!("kiosk-bench-xdg-{}", std::process::id()));
    std::fs::create_dir_all(&runtime_dir).unwrap();
    let _ = run(&display, &runtime_dir); // warms the page cache
    let (mut first, mut waiting): (Vec<_>, Vec<_>) =
        (0..runs).map(|_| run(&display, &runtime_dir)).unzip();
    let _ = std::fs::remove_dir_all(&runtime_dir);
    println!(
        "cold start of the release binary (demo, embedded simulator) under Xvfb, {runs} runs, screen read with xwd"
    );
    println!(
        "{}",
        summary("start → first pixels of the window", &mut first)
    );
    println!(
        "{}",
        summary("start → Waiting screen with a readable QR", &mut waiting)
    );
}
