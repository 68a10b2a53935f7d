//! Waiting: the order, the total, the live one-time QR and the personal-QR alternative.

use super::Ctx;
use crate::{
    payment::Order,
    ui::{
        Element,
        i18n::{self, Text, format_amount, format_countdown, format_quantity},
        qr::QrImage,
        theme::{self, size},
    },
};
use iced::{
    Alignment, Length,
    widget::{column, container, image, row, rule, scrollable, text},
};
use std::time::Duration;

pub struct Waiting<'a> {
    pub order: &'a Order,
    pub qr: Option<&'a QrImage>,
    /// The code is being replaced (show it dimmed, say so).
    pub refreshing: bool,
    pub renews_in: Option<Duration>,
    /// Vipps has not answered the last calls.
    pub trouble: bool,
    /// The scanner works; otherwise the personal-QR way is replaced by a note.
    pub scanner_ok: bool,
}

pub fn lines<'a>(ctx: Ctx<'a>, order: &'a Order) -> Element<'a> {
    let rows = order.lines.iter().map(|l| {
        row![
            text(format!("{} ×", format_quantity(&l.quantity, ctx.lang)))
                .size(ctx.px(size::BODY))
                .color(theme::MUTED)
                .width(Length::Fixed(150.0)),
            text(&l.name).size(ctx.px(size::BODY)).width(Length::Fill),
            text(format_amount(crate::vipps::model::Amount::new(
                order.currency,
                l.total_amount
            )))
            .size(ctx.px(size::BODY)),
        ]
        .spacing(size::GAP)
        .align_y(Alignment::Center)
        .into()
    });
    scrollable(column(rows).spacing(14.0).padding([size::PAD, size::PAD]))
        .height(Length::Fill)
        .width(Length::Fill)
        .into()
}

pub fn total<'a>(ctx: Ctx<'a>, order: &'a Order) -> Element<'a> {
    row![
        text(ctx.t(Text::Total))
            .size(ctx.px(size::LARGE))
            .font(theme::BOLD)
            .width(Length::Fill),
        text(format_amount(order.total()))
            .size(ctx.px(size::HUGE))
            .font(theme::BOLD),
    ]
    .align_y(Alignment::Center)
    .padding([0.0, size::PAD])
    .into()
}

/// The QR, or its place while it is prepared, sized for the display.
fn qr_box<'a>(ctx: Ctx<'a>, w: &Waiting<'a>) -> Element<'a> {
    // Landscape displays are shorter: a smaller QR (still ~12 cm on a 24" screen) keeps the
    // personal-QR hint in view.
    let side = if ctx.landscape {
        size::QR_LANDSCAPE
    } else {
        size::QR
    };
    // Portrait has room for the full size; landscape lets the QR give way to the text.
    let extent = if ctx.landscape {
        Length::Fill
    } else {
        Length::Fixed(side)
    };
    // The QR takes the height that is left (up to its design size), so the instructions
    // around it are never cut off on a short display.
    match w.qr {
        Some(q) => container(
            image(q.handle.clone())
                .width(extent)
                .height(extent)
                .content_fit(iced::ContentFit::Contain)
                .filter_method(image::FilterMethod::Nearest)
                .opacity(if w.refreshing { 0.25 } else { 1.0 }),
        )
        .max_width(side)
        .max_height(side)
        .style(theme::card)
        .into(),
        None => container(
            text(ctx.t(Text::PreparingQr))
                .size(ctx.px(size::BODY))
                .center(),
        )
        .center_x(extent)
        .center_y(extent)
        .max_width(side)
        .max_height(side)
        .style(theme::card)
        .into(),
    }
}

fn pay_panel<'a>(ctx: Ctx<'a>, w: &Waiting<'a>) -> Element<'a> {
    let qr = qr_box(ctx, w);
    let status = if w.trouble {
        ctx.t(Text::CheckingConnection).to_string()
    } else if w.refreshing {
        ctx.t(Text::QrRefreshing).to_string()
    } else {
        w.renews_in
            .map(|d| i18n::renews_in(ctx.lang, &format_countdown(d.as_secs())))
            .unwrap_or_default()
    };
    let personal: Element<'a> = if w.scanner_ok {
        row![
            text(ctx.t(Text::OrPersonalQr))
                .size(ctx.px(size::BODY))
                .width(Length::Fill),
            image(ctx.assets.arrow.clone())
                .width(Length::Fixed(80.0))
                .height(Length::Fixed(80.0)),
        ]
        .spacing(size::GAP)
        .align_y(Alignment::Center)
        .into()
    } else {
        text(ctx.t(Text::ScannerMissing))
            .size(ctx.px(size::BODY))
            .into()
    };
    container(
        column![
            text(ctx.t(Text::ScanWithApp))
                .size(ctx.px(size::TITLE))
                .font(theme::BOLD)
                .center(),
            qr,
            text(status).size(ctx.px(size::SMALL)).color(theme::MUTED),
            rule::horizontal(2),
            personal,
        ]
        .spacing(size::GAP)
        .align_x(Alignment::Center),
    )
    .padding(size::PAD)
    .width(Length::Fill)
    .height(if ctx.landscape {
        Length::Fill
    } else {
        Length::Shrink
    })
    .style(theme::brand_panel(ctx.brand))
    .into()
}

pub fn view<'a>(ctx: Ctx<'a>, w: Waiting<'a>) -> Element<'a> {
    let order_card = container(
        column![
            lines(ctx, w.order),
            rule::horizontal(2),
            total(ctx, w.order)
        ]
        .spacing(size::GAP)
        .padding(iced::Padding::ZERO.bottom(size::GAP)),
    )
    .style(theme::card)
    .width(Length::Fill)
    .height(Length::Fill);
    if ctx.landscape {
        row![
            order_card,
            container(pay_panel(ctx, &w)).width(Length::FillPortion(1))
        ]
        .spacing(size::GAP)
        .padding(size::GAP)
        .into()
    } else {
        column![order_card, pay_panel(ctx, &w)]
            .spacing(size::GAP)
            .padding(size::GAP)
            .into()
    }
}
