//! The phone-number keypad's state: the country code and the digits typed, and why the number
//! could not be sent. It lives here, not in the payment machine (which hears only the checked
//! number), and it ends with the order or when the QR screen is left. The number is never
//! logged: `PhoneNumber`'s Debug is a fingerprint, and the digits are in no log line.

use super::{App, Message};
use crate::{
    market::Market,
    payment::{Input, State},
    phone::{CountryCode, PhoneError, PhoneNumber},
    ui::{Msg, screen},
};
use iced::Task;
use std::time::Instant;

/// More digits than any of the four countries' numbers have, with a leading 0.
const MAX_DIGITS: usize = 12;

#[derive(Clone, PartialEq, Eq)]
pub(super) struct Keypad {
    pub country: CountryCode,
    pub digits: String,
    pub error: Option<PhoneError>,
}

/// The digits typed are the customer's number: their count only.
impl std::fmt::Debug for Keypad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keypad")
            .field("country", &self.country)
            .field("digits", &self.digits.len())
            .field("error", &self.error)
            .finish()
    }
}

/// The market's own country code, which the keypad starts with.
pub(super) fn home_country(market: Market) -> CountryCode {
    match market {
        Market::Norway => CountryCode::Norway,
        Market::Denmark => CountryCode::Denmark,
        Market::Finland => CountryCode::Finland,
    }
}

impl App {
    /// What the keypad shows, while it is open over the QR screen.
    pub(super) fn keypad_shown(&self) -> Option<screen::keypad::Keypad<'_>> {
        let k = self.keypad.as_ref()?;
        let State::Waiting { order, .. } = self.machine().state() else {
            return None;
        };
        Some(screen::keypad::Keypad {
            country: k.country,
            digits: &k.digits,
            error: k.error,
            total: order.total(),
        })
    }

    /// A tap (or a key) on the keypad, or "pay with your phone number".
    pub(super) fn keypad_msg(&mut self, msg: Msg, now: Instant) -> Task<Message> {
        let waiting = matches!(self.machine().state(), State::Waiting { .. });
        if msg == Msg::PayWithPhone {
            if waiting && self.keypad.is_none() {
                self.keypad = Some(Keypad {
                    country: home_country(self.market),
                    digits: String::new(),
                    error: None,
                });
            }
            return Task::none();
        }
        let Some(k) = self.keypad.as_mut() else {
            return Task::none();
        };
        match msg {
            Msg::Digit(d) if k.digits.len() < MAX_DIGITS && d <= 9 => {
                k.digits.push(char::from(b'0' + d));
                k.error = None;
            }
            Msg::Backspace => {
                k.digits.pop();
                k.error = None;
            }
            Msg::Country(c) => {
                k.country = c;
                k.error = None;
            }
            Msg::CloseKeypad => self.keypad = None,
            Msg::SendPhone => match PhoneNumber::new(k.country, &k.digits) {
                // Checked before anything is sent; the screen says what is wrong.
                Err(e) => k.error = Some(e),
                Ok(number) => {
                    self.keypad = None;
                    return self.step(Input::PhoneEntered(number), now);
                }
            },
            _ => {}
        }
        Task::none()
    }

    /// The keypad closes when the QR screen goes (paid, failed, the order ended).
    pub(super) fn keypad_follows_machine(&mut self) {
        if !matches!(self.machine().state(), State::Waiting { .. }) {
            self.keypad = None;
        }
    }
}
