//! Approved: captured. Thank the customer; resets by itself.

use super::{Ctx, centred};
use crate::{
    ui::{
        Element,
        i18n::{Text, format_amount},
        theme::{self, size},
    },
    vipps::model::Amount,
};
use iced::{
    Alignment, Length,
    widget::{column, image, text},
};

/// "Betalt kr 353,00".
pub fn paid(ctx: Ctx<'_>, captured: Amount) -> String {
    format!("{} {}", ctx.t(Text::Paid), format_amount(captured))
}

pub fn view<'a>(ctx: Ctx<'a>, captured: Amount, receipt_number: Option<&'a str>) -> Element<'a> {
    let mut col = column![
        image(ctx.assets.check.clone())
            .width(Length::Fixed(240.0))
            .height(Length::Fixed(240.0)),
        text(ctx.t(Text::ThankYou))
            .size(ctx.px(size::HUGE))
            .font(theme::BOLD),
        text(paid(ctx, captured))
            .size(ctx.px(size::TITLE))
            .color(theme::SUCCESS)
            .font(theme::BOLD),
    ]
    .spacing(size::GAP * 2.0)
    .align_x(Alignment::Center);
    if let Some(r) = receipt_number {
        col = col.push(
            text(format!("{} {r}", ctx.t(Text::Receipt)))
                .size(ctx.px(size::BODY))
                .color(theme::MUTED),
        );
    }
    centred(col)
}
