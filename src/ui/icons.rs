//! The few pictures the screens need, rasterised once at start-up into RGBA bitmaps: the font
//! has no arrow or check-mark glyphs, and drawing them here needs no image files or SVG.

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

pub fn arrow(dir: Direction, color: Color) -> image::Handle {
    to_handle(96, &arrow_coverage(96, dir), color)
}

pub fn check(color: Color) -> image::Handle {
    to_handle(160, &check_coverage(160), color)
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

    #[test]
    fn check_has_ring_and_tick() {
        let s = 100;
        let c = check_coverage(s);
        assert!(at(&c, s, 50, 4) > 0.5, "ring at the top");
        assert!(at(&c, s, 44, 68) > 0.5, "tick corner");
        assert!(at(&c, s, 50, 25) < 0.5, "hollow inside");
    }
}
