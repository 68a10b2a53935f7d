//! Every customer screen without touch: a keyboard or a USB numeric keypad. Tab and Shift+Tab
//! move the focus through the screen's actions (drawn with a ring), Enter or Space carries out
//! the focused one, Escape goes back; on the keypad digits (main row and numpad) and Backspace
//! edit the number and Enter sends it; a digit on the Waiting screen opens the keypad with it.
//!
//! A keyboard-mode ("wedge") scanner types what it reads into the focused window as well as
//! into hidraw, where the scanner source reads it. Its keystrokes must never be taken for
//! typing, so every key is held back for `HOLD` before it acts: a key that follows another
//! faster than a person types (`BURST_GAP`) makes both a burst, which is dropped with
//! everything after it until the keyboard has been quiet for `QUIET`; keys pressed with Alt,
//! Ctrl or the logo key (a scanner's Alt+numpad mode) never act; a scan that arrives from the
//! scanner drops whatever is held back.

use super::{App, Message, view::Shown};
use crate::ui::{Msg, screen};
use iced::{
    Task,
    keyboard::{self, Key, key::Named},
};
use std::time::{Duration, Instant};

/// Two keys closer than this were not typed by a person (a scanner types a character every
/// few milliseconds; people, even on a numeric keypad, leave 80 ms and more between keys).
pub const BURST_GAP: Duration = Duration::from_millis(35);
/// How long a key waits before it acts, so that a burst is known before its first key acts.
pub const HOLD: Duration = Duration::from_millis(45);
/// A burst ends once no key has come for this long.
pub const QUIET: Duration = Duration::from_millis(300);

/// What a key means to the screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stroke {
    Digit(u8),
    Backspace,
    /// Enter, or the numpad's Enter.
    Enter,
    Space,
    Tab {
        back: bool,
    },
    Escape,
}

impl Stroke {
    /// The stroke of a key press, if it is one the screens use. Numpad digits count whether
    /// Num Lock is on (they type digits) or off (they read as arrows and Home/End).
    pub fn of(key: &Key, physical: &keyboard::key::Physical, shift: bool) -> Option<Stroke> {
        use keyboard::key::{Code, Physical};
        const NUMPAD: [Code; 10] = [
            Code::Numpad0,
            Code::Numpad1,
            Code::Numpad2,
            Code::Numpad3,
            Code::Numpad4,
            Code::Numpad5,
            Code::Numpad6,
            Code::Numpad7,
            Code::Numpad8,
            Code::Numpad9,
        ];
        if let Physical::Code(code) = physical
            && let Some(d) = NUMPAD.iter().position(|c| c == code)
        {
            return u8::try_from(d).ok().map(Stroke::Digit);
        }
        match key {
            Key::Character(c) => {
                let mut chars = c.chars();
                match (chars.next(), chars.next()) {
                    (Some(ch), None) if ch.is_ascii_digit() => {
                        u8::try_from(ch.to_digit(10)?).ok().map(Stroke::Digit)
                    }
                    (Some(' '), None) => Some(Stroke::Space),
                    _ => None,
                }
            }
            Key::Named(Named::Backspace) => Some(Stroke::Backspace),
            Key::Named(Named::Enter) => Some(Stroke::Enter),
            Key::Named(Named::Space) => Some(Stroke::Space),
            Key::Named(Named::Tab) => Some(Stroke::Tab { back: shift }),
            Key::Named(Named::Escape) => Some(Stroke::Escape),
            _ => None,
        }
    }
}

/// The keys held back until it is clear that a person typed them.
#[derive(Debug, Default)]
pub struct Guard {
    held: Vec<Stroke>,
    /// When the last key (any key) came.
    last: Option<Instant>,
    /// A scanner is typing: nothing acts until the keyboard is quiet.
    burst: bool,
}

impl Guard {
    /// A key pressed at `now` (`stroke`: what it means, if anything; `repeat`: held down, as a
    /// person holds Backspace). `true` when it is held back and `settle` should follow.
    pub fn pressed(&mut self, stroke: Option<Stroke>, repeat: bool, now: Instant) -> bool {
        if repeat {
            // The system repeats a key a person holds down; a scanner never holds one.
            let deletes = stroke == Some(Stroke::Backspace);
            if deletes && !self.burst {
                self.held.push(Stroke::Backspace);
                self.last = Some(now);
            }
            return deletes && !self.burst;
        }
        let gap = self.last.map(|t| now.saturating_duration_since(t));
        self.last = Some(now);
        match gap {
            Some(g) if g < BURST_GAP => {
                if !self.burst {
                    tracing::info!("keys faster than typing: taken for a scanner, not acted on");
                }
                self.burst = true;
                self.held.clear();
                false
            }
            Some(g) if self.burst && g < QUIET => false,
            _ => {
                self.burst = false;
                match stroke {
                    Some(s) => {
                        self.held.push(s);
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// The keys that may act now: those held back for `HOLD` with no burst since.
    pub fn settle(&mut self, now: Instant) -> Vec<Stroke> {
        let quiet = self
            .last
            .is_none_or(|t| now.saturating_duration_since(t) >= HOLD);
        if self.burst || !quiet {
            return Vec::new();
        }
        std::mem::take(&mut self.held)
    }

    /// The scanner delivered a scan: any keys held back may be its keystrokes too.
    pub fn scanned(&mut self, now: Instant) {
        self.held.clear();
        self.burst = true;
        self.last = Some(now);
    }
}

impl App {
    /// A key that is not the speech key.
    pub(super) fn typed(&mut self, event: keyboard::Event, now: Instant) -> Task<Message> {
        let keyboard::Event::KeyPressed {
            key,
            physical_key,
            modifiers,
            repeat,
            ..
        } = event
        else {
            return Task::none();
        };
        let stroke = if modifiers.alt() || modifiers.control() || modifiers.logo() {
            None
        } else {
            Stroke::of(&key, &physical_key, modifiers.shift())
        };
        if self.keys.pressed(stroke, repeat, now) {
            Task::perform(async { tokio::time::sleep(HOLD).await }, |()| {
                Message::KeysSettled
            })
        } else {
            Task::none()
        }
    }

    /// Carries out the keys that were held back long enough.
    pub(super) fn keys_settled(&mut self, now: Instant) -> Task<Message> {
        let strokes = self.keys.settle(now);
        Task::batch(strokes.into_iter().map(|s| self.stroke(s, now)))
    }

    fn stroke(&mut self, stroke: Stroke, now: Instant) -> Task<Message> {
        let keypad = self.keypad.is_some();
        match stroke {
            Stroke::Tab { back } => {
                self.move_focus(back);
                Task::none()
            }
            Stroke::Enter | Stroke::Space if self.focus.is_some() => match self.focus {
                Some(msg) => self.act(msg, now),
                None => Task::none(),
            },
            Stroke::Enter if keypad => self.act(Msg::SendPhone, now),
            Stroke::Enter | Stroke::Space => Task::none(),
            Stroke::Digit(d) if keypad => self.act(Msg::Digit(d), now),
            // A digit on the Waiting screen opens the keypad with it.
            Stroke::Digit(d) if matches!(self.shown(), Shown::Waiting(_)) => {
                let task = self.act(Msg::PayWithPhone, now);
                Task::batch([task, self.act(Msg::Digit(d), now)])
            }
            Stroke::Backspace if keypad => self.act(Msg::Backspace, now),
            Stroke::Digit(_) | Stroke::Backspace => Task::none(),
            Stroke::Escape => match self.back_action() {
                Some(msg) => self.act(msg, now),
                None => Task::none(),
            },
        }
    }

    /// What Escape does on the screen shown: leave the keypad, cancel the push, close a result.
    fn back_action(&self) -> Option<Msg> {
        match self.shown() {
            Shown::Keypad(_) => Some(Msg::CloseKeypad),
            Shown::Scanned { phase, .. }
                if screen::scanned::actions(phase).contains(&Msg::CancelTapped) =>
            {
                Some(Msg::CancelTapped)
            }
            Shown::Failed { .. } => Some(Msg::DismissTapped),
            _ => None,
        }
    }

    /// Carries out `msg` as if it had been tapped, keeping the focus where it is.
    fn act(&mut self, msg: Msg, now: Instant) -> Task<Message> {
        self.by_key = true;
        let task = self.handle(Message::from(msg), now);
        self.by_key = false;
        task
    }

    /// The actions of the screen shown, in the order Tab visits them: the "still there?"
    /// prompt's, the screen's own, then the access bar's.
    pub(super) fn actions(&self) -> Vec<Msg> {
        let mut actions = Vec::new();
        if self.machine().walk_away_warning(self.now).is_some() {
            actions.push(Msg::MoreTimeTapped);
        }
        if self.out_of_service_reason().is_none() {
            match self.shown() {
                Shown::Waiting(_) => actions.extend(screen::waiting::actions()),
                Shown::Keypad(_) => actions.extend(screen::keypad::actions()),
                Shown::Scanned { phase, .. } => actions.extend(screen::scanned::actions(phase)),
                Shown::Failed { .. } => actions.extend(screen::failed::actions()),
                Shown::Idle | Shown::Attract | Shown::Approved { .. } => {}
            }
        }
        actions.extend(screen::access_actions(self.ctx()));
        actions
    }

    /// Tab (or Shift+Tab): the next (or previous) action, round the screen.
    fn move_focus(&mut self, back: bool) {
        let actions = self.actions();
        let n = actions.len();
        if n == 0 {
            self.focus = None;
            return;
        }
        let at = self
            .focus
            .and_then(|f| actions.iter().position(|a| *a == f));
        let next = match (at, back) {
            (None, false) => 0,
            (None, true) => n - 1,
            (Some(i), false) => (i + 1) % n,
            (Some(i), true) => (i + n - 1) % n,
        };
        self.focus = actions.get(next).copied();
    }

    /// The focus stays only on an action the screen still has.
    pub(super) fn keep_focus_on_screen(&mut self) {
        if let Some(f) = self.focus
            && !self.actions().contains(&f)
        {
            self.focus = None;
        }
    }
}

/// Whether `m` comes from the customer's screen (a tap, or a key acting as one).
pub(super) fn from_screen(m: &Message) -> bool {
    matches!(
        m,
        Message::CancelTapped
            | Message::DismissTapped
            | Message::MoreTimeTapped
            | Message::LanguageChosen(_)
            | Message::LargerTextToggled
            | Message::SpeechToggled
            | Message::Keypad(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_typing_acts_and_a_scanner_typing_never_does() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut g = Guard::default();
        // A person: 4, then 1 a fifth of a second later.
        assert!(g.pressed(Some(Stroke::Digit(4)), false, ms(0)));
        assert_eq!(g.settle(ms(20)), vec![], "not before HOLD");
        assert_eq!(g.settle(ms(50)), vec![Stroke::Digit(4)]);
        assert!(g.pressed(Some(Stroke::Digit(1)), false, ms(200)));
        assert_eq!(g.settle(ms(250)), vec![Stroke::Digit(1)]);
        // A scanner: "https://qr.vipps.no/p/12…" and Enter, 8 ms a key.
        let mut t = 1000;
        for _ in 0..30 {
            g.pressed(None, false, ms(t));
            t += 8;
        }
        g.pressed(Some(Stroke::Digit(1)), false, ms(t));
        g.pressed(Some(Stroke::Enter), false, ms(t + 8));
        assert_eq!(g.settle(ms(t + 100)), vec![], "nothing of a scan acts");
        // Even its first key, held back while the second had not come yet.
        let mut g = Guard::default();
        assert!(g.pressed(Some(Stroke::Digit(7)), false, ms(0)));
        assert!(!g.pressed(Some(Stroke::Digit(0)), false, ms(10)));
        assert_eq!(g.settle(ms(60)), vec![]);
        // The keyboard quiet again: a person's key acts.
        assert!(
            !g.pressed(Some(Stroke::Digit(5)), false, ms(100)),
            "still the burst"
        );
        assert!(g.pressed(Some(Stroke::Digit(5)), false, ms(500)));
        assert_eq!(g.settle(ms(550)), vec![Stroke::Digit(5)]);
    }

    #[test]
    fn a_scan_from_the_scanner_drops_keys_held_back() {
        let t0 = Instant::now();
        let mut g = Guard::default();
        g.pressed(Some(Stroke::Digit(4)), false, t0);
        g.scanned(t0 + Duration::from_millis(5));
        assert_eq!(g.settle(t0 + Duration::from_millis(100)), vec![]);
    }

    #[test]
    fn backspace_held_down_repeats_but_nothing_else_does() {
        let t0 = Instant::now();
        let mut g = Guard::default();
        assert!(g.pressed(Some(Stroke::Backspace), false, t0));
        assert!(g.pressed(
            Some(Stroke::Backspace),
            true,
            t0 + Duration::from_millis(30)
        ));
        assert!(!g.pressed(Some(Stroke::Digit(3)), true, t0 + Duration::from_millis(60)));
        assert_eq!(
            g.settle(t0 + Duration::from_millis(120)),
            vec![Stroke::Backspace, Stroke::Backspace]
        );
    }

    #[test]
    fn digits_of_both_rows_and_the_numpad_with_num_lock_off() {
        use keyboard::key::{Code, Physical};
        let unid = Physical::Unidentified(keyboard::key::NativeCode::Unidentified);
        assert_eq!(
            Stroke::of(&Key::Character("7".into()), &unid, false),
            Some(Stroke::Digit(7))
        );
        assert_eq!(
            Stroke::of(
                &Key::Named(Named::End),
                &Physical::Code(Code::Numpad1),
                false
            ),
            Some(Stroke::Digit(1))
        );
        assert_eq!(
            Stroke::of(&Key::Named(Named::Tab), &unid, true),
            Some(Stroke::Tab { back: true })
        );
        assert_eq!(Stroke::of(&Key::Character("a".into()), &unid, false), None);
    }
}
