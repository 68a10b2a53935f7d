use super::{Ctx, centred};
use crate::ui::{
    Element,
    i18n::Text,
    theme::{self, size},
};
use iced::{
    Alignment, Length,
    widget::{column, container, image, row, text},
};

pub fn view<'a>(ctx: Ctx<'a>) -> Element<'a> {
    centred(
        column![
            text(ctx.t(Text::Welcome))
                .size(ctx.px(size::HUGE))
                .font(theme::BOLD),
            text(ctx.t(Text::WelcomeBody))
                .size(ctx.px(size::LARGE))
                .center(),
        ]
        .spacing(size::GAP * 2.0)
        .align_x(Alignment::Center),
    )
}

/// The attract screen, after the lane has been idle a while: how paying works, in the brand.
pub fn attract<'a>(ctx: Ctx<'a>) -> Element<'a> {
    centred(
        container(
            column![
                text(ctx.brand.name())
                    .size(ctx.px(size::HUGE))
                    .font(theme::BOLD),
                text(ctx.t(Text::AttractTitle))
                    .size(ctx.px(size::TITLE))
                    .font(theme::BOLD)
                    .center(),
                text(ctx.t(Text::AttractSteps))
                    .size(ctx.px(size::LARGE))
                    .center(),
                row![
                    image(ctx.assets.scan_qr.clone())
                        .width(Length::Fixed(200.0))
                        .height(Length::Fixed(200.0)),
                    image(ctx.assets.at_scanner.clone())
                        .width(Length::Fixed(180.0))
                        .height(Length::Fixed(180.0)),
                    image(ctx.assets.arrow.clone())
                        .width(Length::Fixed(120.0))
                        .height(Length::Fixed(120.0)),
                ]
                .spacing(size::GAP * 2.0)
                .align_y(Alignment::Center),
            ]
            .spacing(size::GAP * 2.0)
            .align_x(Alignment::Center),
        )
        .padding(size::PAD * 2.0)
        .style(theme::brand_panel(ctx.brand)),
    )
}
