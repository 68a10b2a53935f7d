//! What the app shows: the customer's screen for the machine's state, with the header,
//! notices and the access bar around it, and the developer panel below when there is one.

use super::{ATTRACT_AFTER, App, Element, Message};
use crate::{
    payment::{self, AfterCancel, State},
    ui::{
        self as ui, i18n,
        screen::{self, Ctx, scanned::Phase, waiting::Waiting},
        theme::{self, size},
    },
};
use iced::{
    Length,
    widget::{column, container},
};

impl App {
    pub(super) fn ctx(&self) -> Ctx<'_> {
        Ctx {
            lang: self.customer.lang,
            brand: theme::brand(self.market),
            assets: &self.assets,
            landscape: self.window.physical.width > self.window.physical.height,
            large_text: self.customer.large_text,
            touch: theme::size::TOUCH_MIN.max(theme::size::TOUCH_MIN_PHYSICAL / self.window.scale),
        }
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
        let idle = matches!(self.machine().state(), State::Idle);
        let body = match (&self.out_of_service, self.machine().out_of_service()) {
            (Some(reason), _) => screen::out_of_service(ctx, reason),
            // Vipps keeps refusing the lane's payments: staff see why.
            (None, Some(reason)) if idle => screen::out_of_service(ctx, reason),
            (None, _) => self.payment_screen(ctx),
        };
        // With a broken configuration the market (and so the brand) is not known.
        let mut col = if self.out_of_service.is_some() {
            column![]
        } else {
            column![screen::header(ctx)]
        };
        // Notices and prompts lie over the top of the screen rather than pushing the layout.
        let overlay: Option<ui::Element<'_>> = match self.machine().notice(self.now) {
            Some(n) => Some(screen::banner(ctx, i18n::notice(n, self.customer.lang))),
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
        let now = self.now;
        let trouble = |p: &payment::Payment| p.failures >= 3;
        let replaced = self.machine().replaced_qr();
        match self.machine().state() {
            State::Idle
                if self
                    .idle_from
                    .is_some_and(|t| now.duration_since(t) >= ATTRACT_AFTER) =>
            {
                screen::idle::attract(ctx)
            }
            State::Idle => screen::idle::view(ctx),
            State::Waiting { order, payment, .. } => screen::waiting::view(
                ctx,
                Waiting {
                    order,
                    // Only this payment's QR, or (while it is made) the one it replaces, marked
                    // as refreshing: never any other.
                    qr: self.qr.image().filter(|q| {
                        let text = Some(q.text.as_str());
                        (payment.created && payment.qr.as_deref() == text)
                            || (!payment.created
                                && replaced.is_some_and(|r| r.qr.as_deref() == text))
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
                        .map(|t| t.saturating_duration_since(now)),
                    trouble: trouble(payment),
                    scanner_ok: self.scanner_ok,
                },
            ),
            State::Cancelling {
                payment,
                after: AfterCancel::Push(_),
                ..
            } => screen::scanned::view(ctx, payment.amount, Phase::Sending, trouble(payment)),
            State::Cancelling { payment, .. } => {
                screen::scanned::view(ctx, payment.amount, Phase::Cancelling, trouble(payment))
            }
            State::Scanned { payment, .. } => {
                let time_left = payment.deadline.saturating_duration_since(now);
                let phase = if payment.opened {
                    Phase::Opened { time_left }
                } else if payment.created {
                    Phase::Waiting { time_left }
                } else {
                    Phase::Sending
                };
                screen::scanned::view(ctx, payment.amount, phase, trouble(payment))
            }
            State::Capturing { payment, .. } => {
                screen::scanned::view(ctx, payment.amount, Phase::Completing, trouble(payment))
            }
            State::Approved {
                order, captured, ..
            } => screen::approved::view(ctx, *captured, order.receipt_number.as_deref()),
            State::Failed { order, reason, .. } => {
                screen::failed::view(ctx, *reason, order.is_none())
            }
        }
    }
}
