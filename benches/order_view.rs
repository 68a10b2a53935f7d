#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop the benchmark loudly
//! A 500-line order on the Waiting screen at 1080×1920: the time of one frame's `view` (the
//! widgets built from the state) and layout (iced_test's headless simulator builds the user
//! interface, which lays it out), against a 5-line order; and a scroll step (wheel event and
//! redraw, tiny-skia, iced_test renders at twice the size: 2160×3840).
//!
//! `cargo bench --bench order_view [-- FRAMES]` (default 60 frames each).

mod common;
#[path = "../tests/common/mod.rs"]
mod ui_common;

use common::{ms, pct, summary};
use iced::{Point, mouse};
use iced_test::Simulator;
use std::time::{Duration, Instant};
use ui_common::{PORTRAIT, app_with, client_for, logical, render_settings};
use vipps_kiosk::{
    app::App,
    market::Lang,
    payment::{Input, Order},
};

/// The sample order's first line `n` times over (valid totals).
fn order_of(n: usize) -> Order {
    let base = ui_common::order(&format!("bench-lines-{n:04}"));
    let line = base.lines[0].clone();
    let lines: Vec<_> = (0..n)
        .map(|i| vipps_kiosk::payment::Line {
            id: format!("line-{i}"),
            name: format!("{} #{i}", line.name),
            ..line.clone()
        })
        .collect();
    Order {
        total_amount: lines.iter().map(|l| l.total_amount).sum(),
        lines,
        ..base
    }
}

fn waiting(n: usize) -> App {
    let mut app = app_with(Lang::En, PORTRAIT, Ok(client_for("http://127.0.0.1:9")));
    let order = order_of(n);
    let now = Instant::now();
    let _ = app.step(Input::OrderReceived(order), now);
    let reference = ui_common::reference(&app);
    ui_common::feed(
        &mut app,
        Input::Created {
            reference,
            result: Ok(Some(ui_common::QR_TARGET.into())),
            valid_for: None,
        },
        now,
    );
    assert!(
        matches!(
            app.machine().state(),
            vipps_kiosk::payment::State::Waiting { .. }
        ),
        "on the Waiting screen"
    );
    app
}

struct Frames {
    view: Vec<Duration>,
    layout: Vec<Duration>,
    scroll: Vec<Duration>,
}

fn frames(n_lines: usize, frames: usize) -> Frames {
    let app = waiting(n_lines);
    let size = logical(PORTRAIT);
    let mut f = Frames {
        view: Vec::new(),
        layout: Vec::new(),
        scroll: Vec::new(),
    };
    for _ in 0..frames {
        let t0 = Instant::now();
        let view = app.view();
        let t1 = Instant::now();
        let ui = Simulator::with_size(render_settings(), size, view);
        f.view.push(t1 - t0);
        f.layout.push(t1.elapsed());
        drop(ui);
    }
    let mut ui = Simulator::with_size(render_settings(), size, app.view());
    let over_the_lines = Point::new(size.width * 0.3, size.height * 0.35);
    let _ = ui.simulate([iced::Event::Mouse(mouse::Event::CursorMoved {
        position: over_the_lines,
    })]);
    let theme = vipps_kiosk::ui::theme::app_theme();
    for _ in 0..frames.min(20) {
        let t0 = Instant::now();
        let _ = ui.simulate([iced::Event::Mouse(mouse::Event::WheelScrolled {
            delta: mouse::ScrollDelta::Lines { x: 0.0, y: -3.0 },
        })]);
        ui.snapshot(&theme).expect("drawn");
        f.scroll.push(t0.elapsed());
    }
    f
}

fn main() {
    let n = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(60usize);
    let mut small = frames(5, n);
    let mut big = frames(500, n);
    println!("Waiting screen at 1080×1920, {n} frames each (iced_test headless, tiny-skia)");
    println!("{}", summary("5 lines: view", &mut small.view));
    println!("{}", summary("5 lines: view + layout", &mut small.layout));
    println!("{}", summary("500 lines: view", &mut big.view));
    println!("{}", summary("500 lines: view + layout", &mut big.layout));
    println!(
        "{}",
        summary("5 lines: scroll step + draw (2160×3840)", &mut small.scroll)
    );
    println!(
        "{}",
        summary("500 lines: scroll step + draw (2160×3840)", &mut big.scroll)
    );
    println!(
        "  500 / 5 lines: view + layout median {:.1}×, p95 {:.1}×; a 60 Hz frame is 16.7 ms",
        ms(pct(&big.layout, 0.5)) / ms(pct(&small.layout, 0.5)),
        ms(pct(&big.layout, 0.95)) / ms(pct(&small.layout, 0.95)),
    );
}
