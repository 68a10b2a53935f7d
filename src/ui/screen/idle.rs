use super::{Ctx, centred};
use crate::ui::{
    Element,
    i18n::Text,
    theme::{self, size},
};
use iced::{
    Alignment,
    widget::{column, text},
};

pub fn view<'a>(ctx: Ctx<'a>) -> Element<'a> {
    centred(
        column![
            text(ctx.t(Text::Welcome))
                .size(size::HUGE)
                .font(theme::BOLD),
            text(ctx.t(Text::WelcomeBody)).size(size::LARGE).center(),
        ]
        .spacing(size::GAP * 2.0)
        .align_x(Alignment::Center),
    )
}
