//! One module per screen, and the pieces they share.

pub mod approved;
pub mod failed;
pub mod idle;
pub mod scanned;
pub mod waiting;

use super::{
    Assets, Element,
    i18n::{Lang, Text},
    theme::{self, Brand, size},
};
use crate::app::Message;
use iced::{
    Alignment, Length,
    widget::{button, column, container, text},
};

/// What every screen may need besides its own data.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub lang: Lang,
    pub brand: Brand,
    pub assets: &'a Assets,
    /// Wider than tall.
    pub landscape: bool,
}

impl Ctx<'_> {
    pub fn t(&self, t: Text) -> &'static str {
        t.get(self.lang)
    }
}

/// The brand strip at the top of every customer screen.
pub fn header<'a>(ctx: Ctx<'a>) -> Element<'a> {
    container(text(ctx.brand.name).size(size::LARGE).font(theme::BOLD))
        .padding([20.0, size::PAD])
        .width(Length::Fill)
        .style(theme::brand_bar(ctx.brand))
        .into()
}

/// A large touch button.
pub fn big_button<'a>(label: &'a str, on_press: Message, primary: bool) -> Element<'a> {
    button(
        container(text(label).size(size::LARGE).font(theme::BOLD))
            .center_x(Length::Fill)
            .center_y(Length::Fill),
    )
    .on_press(on_press)
    .width(Length::Fixed(420.0))
    .height(Length::Fixed(size::TOUCH_MIN + 16.0))
    .style(if primary {
        theme::primary_button
    } else {
        theme::secondary_button
    })
    .into()
}

/// A centred column of content on the neutral background.
pub fn centred<'a>(content: impl Into<Element<'a>>) -> Element<'a> {
    container(content)
        .padding(size::PAD)
        .center_x(Length::Fill)
        .center_y(Length::Fill)
        .into()
}

/// Out of service: for the customer a clear "use another till", for staff the reason.
pub fn out_of_service<'a>(ctx: Ctx<'a>, staff_reason: &'a str) -> Element<'a> {
    centred(
        column![
            text(ctx.t(Text::OutOfService))
                .size(size::HUGE)
                .font(theme::BOLD),
            text(ctx.t(Text::OutOfServiceBody))
                .size(size::LARGE)
                .center(),
            container(text(staff_reason).size(size::SMALL).color(theme::MUTED))
                .padding(size::PAD)
                .style(theme::card),
        ]
        .spacing(size::GAP * 2.0)
        .align_x(Alignment::Center),
    )
}
