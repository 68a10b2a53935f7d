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
    SpeechToggled,
    /// "Pay with your phone number": the keypad opens.
    PayWithPhone,
    /// A key of the on-screen keypad (0-9).
    Digit(u8),
    Backspace,
    /// The country code for the number.
    Country(crate::phone::CountryCode),
    /// Send the typed number.
    SendPhone,
    /// Leave the keypad, back to the QR.
    CloseKeypad,
}

/// Pictures built once at start-up.
#[derive(Debug, Clone)]
pub struct Assets {
    /// Where the scanner is, seen from the screen.
    pub scanner: icons::Direction,
    pub arrow: iced::widget::image::Handle,
    pub check: iced::widget::image::Handle,
    pub declined: iced::widget::image::Handle,
    pub expired: iced::widget::image::Handle,
    pub ask_staff: iced::widget::image::Handle,
    /// The ways to pay: scan the screen's QR, hold the personal QR up to the scanner, type the
    /// phone number on the keypad.
    pub scan_qr: iced::widget::image::Handle,
    pub at_scanner: iced::widget::image::Handle,
    pub keypad: iced::widget::image::Handle,
    /// On "Read aloud" (white on the button when speech is on, dark when off).
    pub speaker: iced::widget::image::Handle,
    pub speaker_on: iced::widget::image::Handle,
}

impl Assets {
    pub fn new(scanner: icons::Direction) -> Self {
        use icons::Outcome;
        Assets {
            scanner,
            arrow: icons::arrow(scanner, theme::TEXT),
            check: icons::outcome(Outcome::Paid, theme::SUCCESS),
            declined: icons::outcome(Outcome::Declined, theme::DANGER),
            expired: icons::outcome(Outcome::Expired, theme::WARNING),
            ask_staff: icons::outcome(Outcome::AskStaff, theme::TEXT),
            scan_qr: icons::phone_scanning_qr(theme::TEXT),
            at_scanner: icons::phone_at_scanner(scanner, theme::TEXT),
            keypad: icons::keypad(theme::TEXT),
            speaker: icons::speaker(theme::TEXT),
            speaker_on: icons::speaker(iced::Color::WHITE),
        }
    }

    /// The icon of an outcome.
    pub fn outcome(&self, o: icons::Outcome) -> &iced::widget::image::Handle {
        match o {
            icons::Outcome::Paid => &self.check,
            icons::Outcome::Declined => &self.declined,
            icons::Outcome::Expired => &self.expired,
            icons::Outcome::AskStaff => &self.ask_staff,
        }
    }
}
