//! The customer's screens (iced). Each screen is a projection of the payment state: it gets
//! only what it shows and answers with the screens' own `Msg`s, which the app maps.

pub mod i18n;
pub mod icons;
pub mod qr;
pub mod screen;
pub mod theme;

pub type Element<'a> = iced::Element<'a, Msg>;

/// What the customer can do on the screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    CancelTapped,
    DismissTapped,
    MoreTimeTapped,
    LanguageChosen(crate::market::Lang),
    LargerTextToggled,
}

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
