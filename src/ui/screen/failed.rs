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
    let (title, body) = if order_ended {
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
