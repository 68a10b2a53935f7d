//! What the app shows: the customer's screen for the machine's state, with the header,
//! notices and the access bar around it, and the developer panel below when there is one.

use super::{ATTRACT_AFTER, App, Element, Message};
use crate::{
    payment::{self, AfterCancel, FailureReason, PushTo, State},
    ui::{
        self as ui, i18n,
        screen::{self, Ctx, scanned::Phase, waiting::Waiting},
        theme::{self, size},
    },
    vipps::model::Amount,
};
use iced::{
    Length,
    widget::{column, container},
};

impl App {
    pub(super) fn ctx(&self) -> Ctx<'_> {
        Ctx {
            lang: self.customer.lang,
            brand: theme::brand(self.branding()),
            assets: &self.assets,
            landscape: self.window.physical.width > self.window.physical.height,
            large_text: self.customer.large_text,
            touch: theme::size::TOUCH_MIN.max(theme::size::TOUCH_MIN_PHYSICAL / self.window.scale),
            speech: self.voice.available().then_some(self.customer.speech),
            focus: self.focus,
        }
    }

    /// Why the lane is out of service, when the screen says so: a broken configuration, or
    /// (when idle) a journal that cannot record, or Vipps refusing the lane's payments (the
    /// payment under way, if any, is carried on first).
    pub(super) fn out_of_service_reason(&self) -> Option<&str> {
        let idle = matches!(self.machine().state(), State::Idle);
        self.out_of_service.as_deref().or_else(|| {
            idle.then(|| self.lane.trouble().or(self.machine().out_of_service()))
                .flatten()
        })
    }

    pub fn view(&self) -> Element<'_> {
        let customer = self.customer_view().map(Message::from);
        let mut col = column![customer];
        if self.dev.is_some() {
            col = col.push(self.dev_panel());
        }
        let screen = container(col)
            .width(Length::Fill)
            .height(Length::Fill)
            .style(theme::screen);
        if self.window.hide_cursor {
            iced::widget::mouse_area(screen)
                .interaction(iced::mouse::Interaction::Hidden)
                .into()
        } else {
            screen.into()
        }
    }

    /// What the customer sees: the screens' own elements, which speak `ui::Msg`.
    fn customer_view(&self) -> ui::Element<'_> {
        let ctx = self.ctx();
        // Out of service for staff to see why.
        let body = match self.out_of_service_reason() {
            Some(reason) => screen::out_of_service(ctx, reason),
            None => self.payment_screen(ctx),
        };
        // With a broken configuration the market (and so the brand) is not known.
        let mut col = if self.out_of_service.is_some() {
            column![]
        } else {
            column![screen::header(ctx)]
        };
        // Notices and prompts lie over the top of the screen rather than pushing the layout.
        let overlay: Option<ui::Element<'_>> = match self.machine().notice(self.now) {
            Some(n) => Some(screen::banner(
                ctx,
                i18n::notice(n, self.customer.lang, ctx.brand.branding),
            )),
            None => self
                .machine()
                .walk_away_warning(self.now)
                .map(|left| screen::still_there(ctx, left.as_secs())),
        };
        let body: ui::Element<'_> = match overlay {
            Some(o) => iced::widget::stack![body, container(o).padding(size::GAP)].into(),
            None => body,
        };
        col = col.push(container(body).height(Length::Fill));
        // On every customer screen, out of service included.
        col = col.push(screen::access_bar(ctx));
        col.height(Length::Fill).into()
    }

    fn payment_screen<'a>(&'a self, ctx: Ctx<'a>) -> ui::Element<'a> {
        match self.shown() {
            Shown::Attract => screen::idle::attract(ctx),
            Shown::Idle => screen::idle::view(ctx),
            Shown::Waiting(w) => screen::waiting::view(ctx, w),
            Shown::Keypad(k) => screen::keypad::view(ctx, k),
            Shown::Scanned {
                amount,
                phase,
                trouble,
                sent_to,
            } => screen::scanned::view(ctx, amount, phase, trouble, sent_to),
            Shown::Approved { captured, receipt } => screen::approved::view(ctx, captured, receipt),
            Shown::Failed { reason, ended } => screen::failed::view(ctx, reason, ended),
        }
    }

    /// Which payment screen the machine's state shows, with its data: the one projection the
    /// screen and the speech both follow.
    pub(super) fn shown(&self) -> Shown<'_> {
        let now = self.now;
        let trouble = |p: &payment::Payment| p.failures >= 3;
        match self.machine().state() {
            State::Idle
                if self
                    .idle_from
                    .is_some_and(|t| now.duration_since(t) >= ATTRACT_AFTER) =>
            {
                Shown::Attract
            }
            State::Idle => Shown::Idle,
            State::Waiting { order, payment, .. } => match self.keypad_shown() {
                Some(k) => Shown::Keypad(k),
                None => Shown::Waiting(self.waiting(order, payment)),
            },
            State::Cancelling { payment, after, .. } => Shown::Scanned {
                amount: payment.amount,
                phase: if matches!(after, AfterCancel::Push(_)) {
                    Phase::Sending
                } else {
                    Phase::Cancelling
                },
                trouble: trouble(payment),
                sent_to: match after {
                    AfterCancel::Push(PushTo::Phone(n)) => Some(n.masked()),
                    _ => None,
                },
            },
            State::Scanned { payment, .. } => {
                let time_left = payment.deadline.saturating_duration_since(now);
                let phase = if payment.opened {
                    Phase::Opened { time_left }
                } else if payment.created {
                    Phase::Waiting { time_left }
                } else {
                    Phase::Sending
                };
                Shown::Scanned {
                    amount: payment.amount,
                    phase,
                    trouble: trouble(payment),
                    sent_to: sent_to(payment),
                }
            }
            State::Capturing { payment, .. } => Shown::Scanned {
                amount: payment.amount,
                phase: Phase::Completing,
                trouble: trouble(payment),
                sent_to: None,
            },
            State::Approved {
                order, captured, ..
            } => Shown::Approved {
                captured: *captured,
                receipt: order.receipt_number.as_deref(),
            },
            State::Failed { order, reason, .. } => Shown::Failed {
                reason: *reason,
                ended: order.is_none(),
            },
        }
    }
}

impl App {
    /// The Waiting screen's data for the payment whose QR is on screen.
    fn waiting<'a>(&'a self, order: &'a payment::Order, payment: &payment::Payment) -> Waiting<'a> {
        let replaced = self.machine().replaced_qr();
        Waiting {
            order,
            // Only this payment's QR, or (while it is made) the one it replaces, marked as
            // refreshing: never any other.
            qr: self.qr.image().filter(|q| {
                let text = Some(q.text.as_str());
                (payment.created && payment.qr.as_deref() == text)
                    || (!payment.created && replaced.is_some_and(|r| r.qr.as_deref() == text))
            }),
            refreshing: !payment.created && replaced.is_some(),
            renews_in: payment
                .created
                .then(|| {
                    payment
                        .deadline
                        .checked_sub(self.machine().config().qr_renew_before)
                })
                .flatten()
                .map(|t| t.saturating_duration_since(self.now)),
            trouble: payment.failures >= 3,
            scanner_ok: self.scanner_ok,
        }
    }
}

/// A push to a phone number (typed, or handed over by the cashier): the number, masked.
fn sent_to(payment: &payment::Payment) -> Option<String> {
    if payment.method != payment::Method::PhoneNumber {
        return None;
    }
    let msisdn = payment.request.customer.as_ref()?.phone_number.as_deref()?;
    crate::phone::PhoneNumber::from_msisdn(msisdn)
        .ok()
        .map(|n| n.masked())
}

/// The payment screen for a state.
pub(super) enum Shown<'a> {
    Idle,
    Attract,
    Waiting(Waiting<'a>),
    /// The phone-number keypad, open over the QR screen.
    Keypad(screen::keypad::Keypad<'a>),
    Scanned {
        amount: Amount,
        phase: Phase,
        trouble: bool,
        /// The phone number the payment went to, masked.
        sent_to: Option<String>,
    },
    Approved {
        captured: Amount,
        receipt: Option<&'a str>,
    },
    Failed {
        reason: FailureReason,
        /// The order ended with it (withdrawn, walked away from).
        ended: bool,
    },
}
