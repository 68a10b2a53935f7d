//! The pictures the screens need, rasterised once at start-up into RGBA bitmaps: the font has
//! no such glyphs, and drawing them here needs no image files or SVG (and copies no brand
//! artwork). Each is a shape in unit coordinates, drawn in one theme colour: the arrow, the
//! ways to pay (a phone scanning the screen's QR, a phone held up to the scanner, the keypad)
//! and the outcomes (paid, declined, expired, ask staff). The words are always beside them.

use iced::{Color, widget::image};

/// Which way the scanner is, seen from the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Down,
    Left,
    Right,
}

fn to_handle(side: usize, coverage: &[f32], color: Color) -> image::Handle {
    let [r, g, b, _] = color.into_rgba8();
    let mut px = Vec::with_capacity(side * side * 4);
    for &c in coverage {
        px.extend_from_slice(&[r, g, b, (c.clamp(0.0, 1.0) * 255.0) as u8]);
    }
    image::Handle::from_rgba(side as u32, side as u32, px)
}

/// Coverage of a shape given as an inside test, with 4×4 supersampling for smooth edges.
fn raster(side: usize, inside: impl Fn(f32, f32) -> bool) -> Vec<f32> {
    let mut out = vec![0.0; side * side];
    for y in 0..side {
        for x in 0..side {
            let mut hits = 0;
            for sy in 0..4 {
                for sx in 0..4 {
                    let u = (x as f32 + (sx as f32 + 0.5) / 4.0) / side as f32;
                    let v = (y as f32 + (sy as f32 + 0.5) / 4.0) / side as f32;
                    if inside(u, v) {
                        hits += 1;
                    }
                }
            }
            out[y * side + x] = hits as f32 / 16.0;
        }
    }
    out
}

/// A thick arrow pointing `dir`, in unit coordinates.
pub fn arrow_coverage(side: usize, dir: Direction) -> Vec<f32> {
    raster(side, |u, v| {
        // Draw pointing down, then rotate the coordinates.
        let (x, y) = match dir {
            Direction::Down => (u, v),
            Direction::Left => (v, 1.0 - u),
            Direction::Right => (v, u),
        };
        let shaft = (x - 0.5).abs() < 0.11 && (0.05..0.6).contains(&y);
        let head = (0.5..=0.95).contains(&y) && (x - 0.5).abs() <= (0.95 - y) * 0.95;
        shaft || head
    })
}

fn dist_to_segment(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

/// A check mark inside a ring.
pub fn check_coverage(side: usize) -> Vec<f32> {
    raster(side, |u, v| {
        let r = ((u - 0.5).powi(2) + (v - 0.5).powi(2)).sqrt();
        let ring = (0.42..0.49).contains(&r);
        let tick = dist_to_segment((u, v), (0.28, 0.52), (0.44, 0.68)) < 0.055
            || dist_to_segment((u, v), (0.44, 0.68), (0.74, 0.34)) < 0.055;
        ring || tick
    })
}

/// Inside a rectangle with rounded corners: `(x0, y0, x1, y1)` and radius `r`.
fn in_rounded(u: f32, v: f32, (x0, y0, x1, y1): (f32, f32, f32, f32), r: f32) -> bool {
    if !(x0..=x1).contains(&u) || !(y0..=y1).contains(&v) {
        return false;
    }
    let cx = u.clamp(x0 + r, x1 - r);
    let cy = v.clamp(y0 + r, y1 - r);
    (u - cx).powi(2) + (v - cy).powi(2) <= r * r
}

/// On the outline of a rounded rectangle, `w` thick.
fn on_outline(u: f32, v: f32, (x0, y0, x1, y1): (f32, f32, f32, f32), r: f32, w: f32) -> bool {
    in_rounded(u, v, (x0, y0, x1, y1), r)
        && !in_rounded(u, v, (x0 + w, y0 + w, x1 - w, y1 - w), (r - w).max(0.0))
}

/// A small QR: three finder squares and a few modules, in the square at `(x, y)` of side `s`.
fn in_qr(u: f32, v: f32, x: f32, y: f32, s: f32) -> bool {
    let (a, b) = ((u - x) / s, (v - y) / s);
    if !(0.0..1.0).contains(&a) || !(0.0..1.0).contains(&b) {
        return false;
    }
    let finder = |fx: f32, fy: f32| {
        let (p, q) = (a - fx, b - fy);
        let inside = (0.0..0.36).contains(&p) && (0.0..0.36).contains(&q);
        let ring = inside && !((0.07..0.29).contains(&p) && (0.07..0.29).contains(&q));
        let dot = (0.12..0.24).contains(&p) && (0.12..0.24).contains(&q);
        ring || dot
    };
    let module = |mx: f32, my: f32| (mx..mx + 0.14).contains(&a) && (my..my + 0.14).contains(&b);
    finder(0.0, 0.0)
        || finder(0.64, 0.0)
        || finder(0.0, 0.64)
        || module(0.48, 0.48)
        || module(0.78, 0.62)
        || module(0.62, 0.86)
        || module(0.86, 0.86)
        || module(0.48, 0.2)
}

/// A ring around an outcome's sign.
fn in_ring(u: f32, v: f32) -> bool {
    let r = ((u - 0.5).powi(2) + (v - 0.5).powi(2)).sqrt();
    (0.42..0.49).contains(&r)
}

/// A phone held up to the screen's QR: the code on the left, the phone on the right, the
/// camera's view between them.
pub fn phone_scanning_qr_coverage(side: usize) -> Vec<f32> {
    raster(side, |u, v| {
        let qr = in_qr(u, v, 0.04, 0.3, 0.4);
        let phone = on_outline(u, v, (0.64, 0.12, 0.96, 0.88), 0.06, 0.045)
            || in_rounded(u, v, (0.74, 0.78, 0.86, 0.82), 0.02);
        let view = [0.36, 0.5, 0.64].iter().any(|&y| {
            (v - y).abs() < 0.022 && ((0.49..0.55).contains(&u) || (0.57..0.61).contains(&u))
        });
        qr || phone || view
    })
}

/// A phone showing its QR, held up to the scanner, which is on the side `dir` (seen from the
/// screen): drawn with the scanner below, then turned.
pub fn phone_at_scanner_coverage(side: usize, dir: Direction) -> Vec<f32> {
    raster(side, |u, v| {
        let (x, y) = match dir {
            Direction::Down => (u, v),
            Direction::Left => (v, 1.0 - u),
            Direction::Right => (1.0 - v, u),
        };
        let phone = on_outline(x, y, (0.3, 0.02, 0.7, 0.58), 0.06, 0.045);
        let code = in_qr(x, y, 0.38, 0.12, 0.24);
        let view = [0.4, 0.5, 0.6]
            .iter()
            .any(|&c| (x - c).abs() < 0.022 && (0.62..0.7).contains(&y));
        let scanner = in_rounded(x, y, (0.12, 0.74, 0.88, 0.98), 0.05)
            && !in_rounded(x, y, (0.28, 0.79, 0.72, 0.85), 0.02);
        phone || code || view || scanner
    })
}

/// A keypad: three keys across, four down.
pub fn keypad_coverage(side: usize) -> Vec<f32> {
    raster(side, |u, v| {
        (0..3).any(|c| {
            (0..4).any(|r| {
                let x0 = 0.1 + c as f32 * 0.28;
                let y0 = 0.04 + r as f32 * 0.24;
                in_rounded(u, v, (x0, y0, x0 + 0.24, y0 + 0.2), 0.04)
            })
        })
    })
}

/// A loudspeaker with sound waves, for "Read aloud".
pub fn speaker_coverage(side: usize) -> Vec<f32> {
    raster(side, |u, v| {
        let body = (0.06..0.3).contains(&u) && (0.36..0.64).contains(&v);
        let cone = (0.3..0.54).contains(&u) && (v - 0.5).abs() <= 0.14 + (u - 0.3) * 1.1;
        let r = ((u - 0.5).powi(2) + (v - 0.5).powi(2)).sqrt();
        let waves = u > 0.62 && ((0.18..0.25).contains(&r) || (0.33..0.4).contains(&r));
        body || cone || waves
    })
}

/// How a payment ended, as the screen shows it beside the words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Paid,
    Declined,
    Expired,
    AskStaff,
}

pub fn outcome_coverage(side: usize, outcome: Outcome) -> Vec<f32> {
    match outcome {
        Outcome::Paid => check_coverage(side),
        Outcome::Declined => raster(side, |u, v| {
            in_ring(u, v)
                || dist_to_segment((u, v), (0.33, 0.33), (0.67, 0.67)) < 0.055
                || dist_to_segment((u, v), (0.67, 0.33), (0.33, 0.67)) < 0.055
        }),
        Outcome::Expired => raster(side, |u, v| {
            in_ring(u, v)
                || dist_to_segment((u, v), (0.5, 0.5), (0.5, 0.22)) < 0.045
                || dist_to_segment((u, v), (0.5, 0.5), (0.68, 0.6)) < 0.045
        }),
        Outcome::AskStaff => raster(side, |u, v| {
            let head = (u - 0.5).powi(2) + (v - 0.36).powi(2) <= 0.11f32.powi(2);
            let body = (u - 0.5).powi(2) + (v - 0.8).powi(2) <= 0.24f32.powi(2) && v <= 0.74;
            in_ring(u, v) || head || body
        }),
    }
}

pub fn arrow(dir: Direction, color: Color) -> image::Handle {
    to_handle(96, &arrow_coverage(96, dir), color)
}

pub fn check(color: Color) -> image::Handle {
    to_handle(160, &check_coverage(160), color)
}

pub fn outcome(o: Outcome, color: Color) -> image::Handle {
    to_handle(160, &outcome_coverage(160, o), color)
}

pub fn phone_scanning_qr(color: Color) -> image::Handle {
    to_handle(192, &phone_scanning_qr_coverage(192), color)
}

pub fn phone_at_scanner(dir: Direction, color: Color) -> image::Handle {
    to_handle(160, &phone_at_scanner_coverage(160, dir), color)
}

pub fn speaker(color: Color) -> image::Handle {
    to_handle(96, &speaker_coverage(96), color)
}

pub fn keypad(color: Color) -> image::Handle {
    to_handle(160, &keypad_coverage(160), color)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(c: &[f32], side: usize, x: usize, y: usize) -> f32 {
        c[y * side + x]
    }

    #[test]
    fn arrow_points_the_right_way() {
        let s = 64;
        let down = arrow_coverage(s, Direction::Down);
        // Wide at the head (bottom half), narrow shaft at the top.
        let row_width = |c: &[f32], y: usize| (0..s).filter(|&x| at(c, s, x, y) > 0.5).count();
        assert!(row_width(&down, 40) > 2 * row_width(&down, 10));
        let left = arrow_coverage(s, Direction::Left);
        let col_height = |c: &[f32], x: usize| (0..s).filter(|&y| at(c, s, x, y) > 0.5).count();
        assert!(
            col_height(&left, 20) > 2 * col_height(&left, 54),
            "head on the left"
        );
        let right = arrow_coverage(s, Direction::Right);
        assert!(
            col_height(&right, 44) > 2 * col_height(&right, 10),
            "head on the right"
        );
    }

    /// The share of a region `(x0, y0, x1, y1)` (unit coordinates) that is drawn.
    fn ink(c: &[f32], side: usize, (x0, y0, x1, y1): (f32, f32, f32, f32)) -> f32 {
        let px = |f: f32| (f * side as f32) as usize;
        let (mut sum, mut n) = (0.0, 0);
        for y in px(y0)..px(y1) {
            for x in px(x0)..px(x1) {
                sum += at(c, side, x, y);
                n += 1;
            }
        }
        sum / n.max(1) as f32
    }

    #[test]
    fn the_scanner_is_drawn_on_its_own_side() {
        let s = 80;
        // The scanner is the heaviest block: a quarter of the picture at its side.
        let sides = |c: &[f32]| {
            [
                ink(c, s, (0.0, 0.75, 1.0, 1.0)),
                ink(c, s, (0.0, 0.0, 0.25, 1.0)),
                ink(c, s, (0.75, 0.0, 1.0, 1.0)),
                ink(c, s, (0.0, 0.0, 1.0, 0.25)),
            ]
        };
        for (dir, heaviest) in [
            (Direction::Down, 0),
            (Direction::Left, 1),
            (Direction::Right, 2),
        ] {
            let ink = sides(&phone_at_scanner_coverage(s, dir));
            let max = ink.iter().cloned().fold(0.0, f32::max);
            assert_eq!(ink[heaviest], max, "{dir:?}: {ink:?}");
        }
    }

    #[test]
    fn outcomes_differ_inside_their_rings() {
        let s = 100;
        let centre = |o| ink(&outcome_coverage(s, o), s, (0.3, 0.3, 0.7, 0.7));
        let corner = |o| ink(&outcome_coverage(s, o), s, (0.3, 0.3, 0.4, 0.4));
        let top = |o| ink(&outcome_coverage(s, o), s, (0.46, 0.22, 0.54, 0.3));
        assert!(
            corner(Outcome::Declined) > 0.3,
            "the cross reaches the corner"
        );
        assert!(corner(Outcome::Expired) < 0.05, "a clock has no cross");
        assert!(top(Outcome::Expired) > 0.5, "the minute hand points up");
        assert!(top(Outcome::Declined) < 0.05);
        let head = |o| ink(&outcome_coverage(s, o), s, (0.47, 0.33, 0.53, 0.39));
        assert!(head(Outcome::AskStaff) > 0.9, "a person's head");
        assert!(head(Outcome::Declined) < 0.2);
        assert!(centre(Outcome::AskStaff) > 0.1, "and shoulders");
        for o in [
            Outcome::Paid,
            Outcome::Declined,
            Outcome::Expired,
            Outcome::AskStaff,
        ] {
            let c = outcome_coverage(s, o);
            assert!(at(&c, s, 50, 4) > 0.5, "{o:?} has its ring");
        }
    }

    #[test]
    fn pictograms_have_their_parts() {
        let s = 96;
        let scan = phone_scanning_qr_coverage(s);
        assert!(
            ink(&scan, s, (0.04, 0.3, 0.44, 0.7)) > 0.3,
            "the code on the left"
        );
        assert!(
            ink(&scan, s, (0.7, 0.2, 0.9, 0.7)) < 0.05,
            "the phone is an outline"
        );
        let keys = keypad_coverage(s);
        let row_inked = |y: f32| ink(&keys, s, (0.0, y, 1.0, y + 0.02)) > 0.5;
        assert_eq!(
            [0.1, 0.34, 0.58, 0.82]
                .iter()
                .filter(|&&y| row_inked(y))
                .count(),
            4,
            "four rows of keys"
        );
    }

    #[test]
    fn check_has_ring_and_tick() {
        let s = 100;
        let c = check_coverage(s);
        assert!(at(&c, s, 50, 4) > 0.5, "ring at the top");
        assert!(at(&c, s, 44, 68) > 0.5, "tick corner");
        assert!(at(&c, s, 50, 25) < 0.5, "hollow inside");
    }
}
