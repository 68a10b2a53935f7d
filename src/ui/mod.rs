//! The customer's screens (iced). Each screen is a projection of the payment state: it gets
//! only what it shows and returns taps as `app::Message`s.

pub mod i18n;
pub mod icons;
pub mod qr;
pub mod screen;
pub mod theme;

pub type Element<'a> = iced::Element<'a, crate::app::Message>;

/// Pictures built once at start-up.
#[derive(Debug, Clone)]
pub struct Assets {
    pub arrow: iced::widget::image::Handle,
    pub check: iced::widget::image::Handle,
}

impl Assets {
    pub fn new(scanner: icons::Direction) -> Self {
        Assets {
            arrow: icons::arrow(scanner, theme::TEXT),
            check: icons::check(theme::SUCCESS),
        }
    }
}
