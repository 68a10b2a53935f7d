//! Every colour and size of the kiosk, in one place. Call sites never build colours inline.

use crate::market::{self, Branding};
use iced::{
    Background, Border, Color, Font, Shadow, Theme,
    font::Weight,
    widget::{button, container},
};

pub const FONT_NAME: &str = "Noto Sans";
pub const REGULAR: Font = Font::with_name(FONT_NAME);
pub const BOLD: Font = Font {
    weight: Weight::Bold,
    ..Font::with_name(FONT_NAME)
};
pub const FONT_REGULAR_BYTES: &[u8] = include_bytes!("../../fonts/NotoSans-Regular.ttf");
pub const FONT_BOLD_BYTES: &[u8] = include_bytes!("../../fonts/NotoSans-Bold.ttf");

/// Text sizes in logical pixels, designed for a 1080 px wide kiosk read from a standing
/// distance (~60 cm).
pub mod size {
    pub const HUGE: f32 = 88.0;
    pub const TITLE: f32 = 60.0;
    pub const LARGE: f32 = 44.0;
    pub const BODY: f32 = 34.0;
    pub const SMALL: f32 = 26.0;
    /// Touch targets: at least 15 mm, about 90 px on a 24" 1080p screen.
    pub const TOUCH_MIN: f32 = 96.0;
    /// The same in physical pixels: on a display drawn at a smaller scale, targets grow.
    pub const TOUCH_MIN_PHYSICAL: f32 = 90.0;
    const _: () = assert!(
        TOUCH_MIN >= TOUCH_MIN_PHYSICAL,
        "touch targets must be at least 15 mm"
    );
    /// The focus ring around the action a keyboard would act on: a gap, then the ring. Every
    /// target keeps this room around it, so the ring never moves the layout.
    pub const RING_GAP: f32 = 2.0;
    pub const RING_WIDTH: f32 = 4.0;
    pub const RING: f32 = RING_GAP + RING_WIDTH;
    pub const PAD: f32 = 32.0;
    pub const GAP: f32 = 24.0;
    pub const RADIUS: f32 = 20.0;
    /// The one-time QR: about 12 cm on a 24" screen, large enough to scan from 40 cm.
    pub const QR: f32 = 440.0;
    pub const QR_LANDSCAPE: f32 = 440.0;
    /// With larger text, in portrait: about 10 cm, still scanned easily from 40 cm.
    pub const QR_LARGE_TEXT: f32 = 360.0;
}

const fn rgb(hex: u32) -> Color {
    Color::from_rgb8((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
}

pub const BACKGROUND: Color = rgb(0xF4F3EF);
pub const SURFACE: Color = rgb(0xFFFFFF);
pub const TEXT: Color = rgb(0x1B1B1F);
pub const MUTED: Color = rgb(0x4D4D57);
pub const LINE: Color = rgb(0xDAD8D2);
pub const SUCCESS: Color = rgb(0x0B6B3A);
pub const DANGER: Color = rgb(0xA3262A);
pub const NOTICE_BG: Color = rgb(0xFFF1C2);
/// Time running out (the expired icon, the notice's border).
pub const WARNING: Color = rgb(0x8A5A00);
/// The focus ring: a deep blue, unlike any button's own border, at 7:1 or more on the
/// background, the notice and both brands' tints.
pub const FOCUS: Color = rgb(0x003FA3);
pub const DEV_BG: Color = rgb(0x2B2B33);
pub const DEV_TEXT: Color = rgb(0xF2F2F2);

/// The lane's brand on screen: its names (`branding`) and colours for the payment parts of the
/// screen. Vipps MobilePay's guidelines ask for the name in plain text in the screen's own
/// font, never in capitals, and no imitation of their logo: the kiosk draws none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Brand {
    pub branding: Branding,
    /// Background of brand areas; white text on it meets 4.5:1.
    pub strong: Color,
    /// A light tint for large brand surfaces behind dark text.
    pub tint: Color,
}

impl Brand {
    pub fn name(&self) -> &'static str {
        self.branding.brand.name()
    }
}

pub fn brand(branding: Branding) -> Brand {
    match branding.brand {
        // Vipps orange (#FF5B24), darkened until white text on it reads at 4.5:1.
        market::Brand::Vipps => Brand {
            branding,
            strong: rgb(0xC73E0E),
            tint: rgb(0xFFE8DE),
        },
        // MobilePay blue (#5A78FF), darkened likewise.
        market::Brand::MobilePay => Brand {
            branding,
            strong: rgb(0x3049C9),
            tint: rgb(0xE6EBFF),
        },
    }
}

pub fn app_theme() -> Theme {
    Theme::custom(
        "kiosk".to_string(),
        iced::theme::Palette {
            background: BACKGROUND,
            text: TEXT,
            primary: rgb(0x1B1B1F),
            success: SUCCESS,
            warning: WARNING,
            danger: DANGER,
        },
    )
}

/// WCAG relative luminance and contrast ratio.
pub fn contrast(a: Color, b: Color) -> f32 {
    fn lum(c: Color) -> f32 {
        let ch = |v: f32| {
            if v <= 0.039_28 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b)
    }
    let (la, lb) = (lum(a), lum(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

fn panel_style(background: Color, text: Color) -> container::Style {
    container::Style {
        text_color: Some(text),
        background: Some(Background::Color(background)),
        border: Border {
            radius: size::RADIUS.into(),
            width: 0.0,
            color: Color::TRANSPARENT,
        },
        shadow: Shadow::default(),
        snap: true,
    }
}

pub fn screen(_: &Theme) -> container::Style {
    container::Style {
        background: Some(Background::Color(BACKGROUND)),
        text_color: Some(TEXT),
        ..container::Style::default()
    }
}

pub fn card(_: &Theme) -> container::Style {
    panel_style(SURFACE, TEXT)
}

pub fn brand_bar(b: Brand) -> impl Fn(&Theme) -> container::Style {
    move |_| container::Style {
        background: Some(Background::Color(b.strong)),
        text_color: Some(Color::WHITE),
        ..container::Style::default()
    }
}

pub fn brand_panel(b: Brand) -> impl Fn(&Theme) -> container::Style {
    move |_| panel_style(b.tint, TEXT)
}

pub fn notice(_: &Theme) -> container::Style {
    container::Style {
        border: Border {
            radius: size::RADIUS.into(),
            width: 3.0,
            color: WARNING,
        },
        ..panel_style(NOTICE_BG, TEXT)
    }
}

/// The ring around the focused action (drawn in the room every target keeps around it).
pub fn focus_ring(_: &Theme) -> container::Style {
    container::Style {
        border: Border {
            radius: (size::RADIUS + size::RING).into(),
            width: size::RING_WIDTH,
            color: FOCUS,
        },
        ..container::Style::default()
    }
}

/// Where a keypad's error is said: red text on the surface.
pub fn error_text(_: &Theme) -> iced::widget::text::Style {
    iced::widget::text::Style {
        color: Some(DANGER),
    }
}

pub fn dev_panel(_: &Theme) -> container::Style {
    container::Style {
        background: Some(Background::Color(DEV_BG)),
        text_color: Some(DEV_TEXT),
        ..container::Style::default()
    }
}

fn button_style(bg: Color, fg: Color, border: Color, status: button::Status) -> button::Style {
    let bg = match status {
        button::Status::Pressed => Color { a: 0.85, ..bg },
        _ => bg,
    };
    button::Style {
        background: Some(Background::Color(bg)),
        text_color: fg,
        border: Border {
            radius: size::RADIUS.into(),
            width: 3.0,
            color: border,
        },
        shadow: Shadow::default(),
        snap: true,
    }
}

/// A secondary action (Cancel): outlined, so it is not mistaken for the way forward.
pub fn secondary_button(_: &Theme, status: button::Status) -> button::Style {
    button_style(SURFACE, TEXT, TEXT, status)
}

pub fn primary_button(_: &Theme, status: button::Status) -> button::Style {
    button_style(TEXT, Color::WHITE, TEXT, status)
}

pub fn dev_button(_: &Theme, status: button::Status) -> button::Style {
    button_style(rgb(0x45454F), DEV_TEXT, rgb(0x6A6A75), status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_contrast_meets_wcag() {
        // Body text 4.5:1, the total and instructions 7:1.
        assert!(contrast(TEXT, BACKGROUND) >= 7.0);
        assert!(contrast(TEXT, SURFACE) >= 7.0);
        assert!(contrast(MUTED, BACKGROUND) >= 4.5);
        assert!(contrast(TEXT, NOTICE_BG) >= 7.0);
        assert!(contrast(SUCCESS, SURFACE) >= 4.5);
        assert!(contrast(DANGER, SURFACE) >= 4.5);
        for own in [market::Brand::Vipps, market::Brand::MobilePay] {
            let b = brand(Branding {
                brand: own,
                also: None,
            });
            assert!(contrast(Color::WHITE, b.strong) >= 4.5, "{}", b.name());
            assert!(contrast(TEXT, b.tint) >= 7.0, "{}", b.name());
        }
        assert!(contrast(WARNING, SURFACE) >= 4.5);
        // The focus ring stands out (3:1 is WCAG's least for it) on every surface it meets.
        for b in [market::Brand::Vipps, market::Brand::MobilePay] {
            let tint = brand(Branding {
                brand: b,
                also: None,
            })
            .tint;
            assert!(contrast(FOCUS, tint) >= 7.0);
        }
        assert!(contrast(FOCUS, BACKGROUND) >= 7.0);
        assert!(contrast(FOCUS, NOTICE_BG) >= 7.0);
    }

    #[test]
    fn contrast_formula_matches_known_values() {
        assert!((contrast(Color::BLACK, Color::WHITE) - 21.0).abs() < 0.01);
        assert!((contrast(rgb(0x777777), Color::WHITE) - 4.48).abs() < 0.02);
    }
}
