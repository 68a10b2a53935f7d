//! The one-time QR as a bitmap, built once per payment (never in `view`).

use iced::widget::image;
use qrcode::{Color as Module, EcLevel, QrCode};

/// Pixels per QR module in the bitmap; the image widget scales it with nearest-neighbour.
const SCALE: usize = 8;
/// The quiet zone the QR specification asks for, in modules.
const QUIET: usize = 4;

#[derive(Debug, Clone)]
pub struct QrImage {
    /// What the QR encodes.
    pub text: String,
    pub handle: image::Handle,
    pub side_px: u32,
}

/// Black-on-white grey bitmap of `text` with a quiet zone: (side, pixels).
pub fn render_luma(text: &str) -> Option<(usize, Vec<u8>)> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let n = code.width();
    let side = (n + 2 * QUIET) * SCALE;
    let mut px = vec![255u8; side * side];
    let colors = code.to_colors();
    for y in 0..n {
        for x in 0..n {
            if colors[y * n + x] == Module::Dark {
                for dy in 0..SCALE {
                    let row = ((y + QUIET) * SCALE + dy) * side;
                    let start = row + (x + QUIET) * SCALE;
                    px[start..start + SCALE].fill(0);
                }
            }
        }
    }
    Some((side, px))
}

impl QrImage {
    /// Vipps' own rendering of the QR behind `url`, shown as it is.
    pub fn from_rgba(url: &str, width: u32, height: u32, rgba: Vec<u8>) -> QrImage {
        QrImage {
            text: url.to_string(),
            handle: image::Handle::from_rgba(width, height, rgba),
            side_px: width.max(height),
        }
    }

    pub fn new(text: &str) -> Option<QrImage> {
        let (side, luma) = render_luma(text)?;
        let mut rgba = Vec::with_capacity(luma.len() * 4);
        for v in luma {
            rgba.extend_from_slice(&[v, v, v, 255]);
        }
        let side = u32::try_from(side).ok()?;
        Some(QrImage {
            text: text.to_string(),
            handle: image::Handle::from_rgba(side, side, rgba),
            side_px: side,
        })
    }
}
