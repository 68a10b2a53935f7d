//! What the kiosk says, and when: each screen's instruction, the total and every outcome, in
//! the customer's language, once per screen (a countdown ticking does not repeat it), and the
//! "still there?" warning and notices over it. Speech comes on with the on-screen control or
//! its key, lasts as long as the customer's order, and never makes the screen wait: the
//! `Speaker` speaks on a thread of its own, the latest utterance winning.

use super::{App, Message, view::Shown};
use crate::{
    payment::Input,
    speech::Speaker,
    ui::{
        i18n::{self, Text},
        screen::{self, Ctx},
    },
    vipps::model::Amount,
};
use iced::{Task, keyboard};
use std::time::Instant;

/// The lane's speech engine, and what it last said.
#[derive(Debug)]
pub(super) struct Voice {
    speaker: Option<Speaker>,
    /// The F-key (1-12) of its own.
    key: u8,
    /// What was last said, by the screen's key: said again only when the screen changes.
    said: Option<String>,
    /// Speech has just been turned on: say so first.
    announce: bool,
}

impl Voice {
    pub(super) fn new(speaker: Option<Speaker>, key: u8) -> Voice {
        Voice {
            speaker,
            key,
            said: None,
            announce: false,
        }
    }

    pub(super) fn available(&self) -> bool {
        self.speaker.is_some()
    }

    /// Forgets what was said (the customer is gone, or turned speech off), stopping it too
    /// when `hush`.
    pub(super) fn forget(&mut self, hush: bool) {
        if let Some(s) = &self.speaker
            && hush
            && self.said.is_some()
        {
            s.hush();
        }
        self.said = None;
        self.announce = false;
    }

    fn is_key(&self, key: &keyboard::Key) -> bool {
        use keyboard::key::Named;
        const F_KEYS: [Named; 12] = [
            Named::F1,
            Named::F2,
            Named::F3,
            Named::F4,
            Named::F5,
            Named::F6,
            Named::F7,
            Named::F8,
            Named::F9,
            Named::F10,
            Named::F11,
            Named::F12,
        ];
        let wanted = F_KEYS.get(usize::from(self.key).wrapping_sub(1));
        matches!(key, keyboard::Key::Named(n) if Some(n) == wanted)
    }
}

impl App {
    /// The on-screen control or the key: speech on or off for this customer.
    pub(super) fn toggle_speech(&mut self) {
        if !self.voice.available() {
            return;
        }
        self.customer.speech = !self.customer.speech;
        if self.customer.speech {
            self.voice.said = None;
            self.voice.announce = true;
        } else {
            self.voice.forget(true);
        }
    }

    /// The speech key turns speech on and off; while the "still there?" warning is spoken, it
    /// asks for more time instead, as the warning says.
    pub(super) fn key(&mut self, event: keyboard::Event, now: Instant) -> Task<Message> {
        let keyboard::Event::KeyPressed { key, repeat, .. } = &event else {
            return Task::none();
        };
        if !self.voice.is_key(key) {
            return self.typed(event, now);
        }
        if *repeat {
            return Task::none();
        }
        if self.customer.speech && self.machine().walk_away_warning(now).is_some() {
            return self.step(Input::MoreTimeTapped, now);
        }
        self.toggle_speech();
        Task::none()
    }

    /// Says what the screen now shows, if speech is on and the screen has changed.
    pub(super) fn speak(&mut self) {
        if !self.customer.speech {
            return;
        }
        let Some((key, text)) = self.utterance() else {
            return;
        };
        if self.voice.said.as_deref() == Some(key.as_str()) {
            return;
        }
        let text = if std::mem::take(&mut self.voice.announce) {
            format!("{} {text}", self.ctx().t(Text::SpeechOn))
        } else {
            text
        };
        if let Some(s) = &self.voice.speaker {
            s.say(self.customer.lang, text);
        }
        self.voice.said = Some(key);
    }

    /// What the screen says, and a key that changes when it should be said again.
    fn utterance(&self) -> Option<(String, String)> {
        let ctx = self.ctx();
        let lang = ctx.lang.code();
        if let Some(reason) = &self.out_of_service {
            let _ = reason; // for staff, on screen only
            return Some((
                format!("out-of-service:{lang}"),
                sentences(&[ctx.t(Text::OutOfService), ctx.t(Text::OutOfServiceBody)]),
            ));
        }
        if let Some(n) = self.machine().notice(self.now) {
            let text = i18n::notice(n, ctx.lang, ctx.brand.branding);
            return Some((format!("notice:{n:?}:{lang}"), text.into_owned()));
        }
        if let Some(left) = self.machine().walk_away_warning(self.now) {
            // Said once, as the warning begins: in whole seconds, rounded up.
            let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            let ends = i18n::ends_in(ctx.lang, &i18n::spoken_time(secs, ctx.lang));
            return Some((
                format!("still-there:{lang}"),
                sentences(&[
                    ctx.t(Text::StillThere),
                    ends.into(),
                    ctx.t(Text::MoreTimeSpoken),
                ]),
            ));
        }
        Some(screen_words(ctx, self.shown()))
    }
}

/// A payment screen's words as they are said, and its key.
fn screen_words(ctx: Ctx<'_>, shown: Shown<'_>) -> (String, String) {
    let lang = ctx.lang.code();
    let amount = |a: Amount| i18n::spoken_amount(a, ctx.lang);
    match shown {
        Shown::Idle => (
            format!("idle:{lang}"),
            sentences(&[ctx.t(Text::Welcome), ctx.t(Text::WelcomeBody)]),
        ),
        Shown::Attract => (
            format!("attract:{lang}"),
            sentences(&[ctx.t(Text::AttractTitle), ctx.t(Text::AttractSteps)]),
        ),
        Shown::Waiting(w) => {
            let total = format!("{} {}", ctx.t(Text::Total), amount(w.order.total()));
            let other = ctx.t(if w.scanner_ok {
                Text::OrPersonalQr
            } else {
                Text::ScannerMissing
            });
            (
                format!("waiting:{}:{}:{lang}", w.order.order_id, w.scanner_ok),
                // Without the scanner, its note offers the phone number already.
                sentences(&[
                    total.into(),
                    ctx.t(Text::ScanWithApp),
                    other,
                    if w.scanner_ok {
                        ctx.t(Text::OrPhoneNumber)
                    } else {
                        "".into()
                    },
                ]),
            )
        }
        // The instruction, the country code, and what is wrong: never the digits typed, which
        // would be heard by the next person in the queue.
        Shown::Keypad(k) => {
            let code = format!(
                "{} {}",
                ctx.t(Text::CountryCodeLabel),
                screen::keypad::code(k.country)
            );
            let problem = k
                .error
                .map(|e| screen::keypad::problem(ctx, k.country, e))
                .unwrap_or_default();
            (
                format!("keypad:{:?}:{:?}:{lang}", k.country, k.error),
                sentences(&[
                    ctx.t(Text::KeypadTitle),
                    ctx.t(Text::KeypadInstruction),
                    code.into(),
                    problem.into(),
                ]),
            )
        }
        Shown::Scanned {
            amount: a, phase, ..
        } => {
            let (title, body) = screen::scanned::words(ctx, phase);
            let kind = std::mem::discriminant(&phase);
            (
                format!("scanned:{kind:?}:{lang}"),
                sentences(&[title, amount(a).into(), body]),
            )
        }
        Shown::Approved { captured, .. } => (
            format!("approved:{lang}"),
            sentences(&[
                ctx.t(Text::ThankYou),
                format!("{} {}", ctx.t(Text::Paid), amount(captured)).into(),
            ]),
        ),
        Shown::Failed { reason, ended } => {
            let (title, body) = screen::failed::words(ctx, reason, ended);
            (
                format!("failed:{reason:?}:{ended}:{lang}"),
                sentences(&[title, body]),
            )
        }
    }
}

/// Sentences joined, each ending in a full stop (or its own mark).
fn sentences(parts: &[std::borrow::Cow<'static, str>]) -> String {
    let mut out = String::new();
    for p in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(p.trim_end_matches(['…', ' ']));
        if !out.ends_with(['.', '!', '?']) {
            out.push('.');
        }
    }
    out
}
