//! Failed: what happened, in plain words, and what to do next.

use super::{Ctx, big_button, centred};
use crate::{
    payment::FailureReason,
    ui::{
        Element, Msg,
        i18n::{self, Text},
        theme::{self, size},
    },
};
use iced::{
    Alignment,
    widget::{column, text},
};

pub fn view<'a>(ctx: Ctx<'a>, reason: FailureReason, order_ended: bool) -> Element<'a> {
    // An order that ended because the lane could not take the payment says why; one the POS
    // or the customer ended is simply cancelled.
    let says_why = matches!(
        reason,
        FailureReason::CreateRefused | FailureReason::CaptureRefused | FailureReason::QrUnavailable
    );
    let (title, body) = if order_ended && !says_why {
        (ctx.t(Text::OrderCancelled), "")
    } else {
        i18n::failure(reason, ctx.lang)
    };
    centred(
        column![
            text(title)
                .size(ctx.px(size::TITLE))
                .font(theme::BOLD)
                .center(),
            text(body).size(ctx.px(size::LARGE)).center(),
            big_button(ctx, ctx.t(Text::Ok), Msg::DismissTapped, true),
        ]
        .spacing(size::GAP * 2.0)
        .align_x(Alignment::Center),
    )
}
