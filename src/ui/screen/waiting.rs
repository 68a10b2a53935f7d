//! Waiting: the order, the total, the live one-time QR and the personal-QR alternative, each
//! way to pay with its pictogram. The order list takes the height the payment panel leaves:
//! at 1080×1920 that is 8 lines and more, larger text and the demo's developer panel included.

use super::{Ctx, LARGE_TEXT_SCALE, focusable, ids};
use crate::{
    payment::{Line, Order},
    ui::{
        Element, Msg,
        i18n::{self, Text, format_amount, format_countdown},
        icons::Direction,
        qr::QrImage,
        theme::{self, size},
    },
    vipps::model::{Amount, Currency},
};
use iced::{
    Alignment, Length,
    widget::{Id, button, column, container, image, row, rule, scrollable, text},
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

/// One order line: "2 ×" before the name, the total after it, and under the name what a
/// weighed line weighs and costs a kilo, and any discount.
fn line<'a>(ctx: Ctx<'a>, l: &'a Line, currency: Currency) -> Element<'a> {
    let details = [
        i18n::measured(l, currency, ctx.lang),
        i18n::discount(l, currency, ctx.lang),
    ];
    let mut name = column![text(&l.name).size(ctx.px(size::BODY))];
    for d in details.into_iter().flatten() {
        name = name.push(text(d).size(ctx.px(size::SMALL)).color(theme::MUTED));
    }
    row![
        text(i18n::quantity_prefix(l, ctx.lang).unwrap_or_default())
            .size(ctx.px(size::BODY))
            .color(theme::MUTED)
            .width(Length::Fixed(ctx.px(QUANTITY_WIDTH))),
        name.width(Length::Fill),
        text(format_amount(Amount::new(currency, l.total_amount))).size(ctx.px(size::BODY)),
    ]
    .spacing(size::GAP)
    .align_y(Alignment::Start)
    .into()
}

/// The phone scanning the code, beside it.
const SCAN_PICTURE: f32 = 150.0;

/// Room for "0,742 ×" before a name.
const QUANTITY_WIDTH: f32 = 130.0;

pub fn lines<'a>(ctx: Ctx<'a>, order: &'a Order) -> Element<'a> {
    let rows = order.lines.iter().map(|l| line(ctx, l, order.currency));
    scrollable(column(rows).spacing(8.0).padding([12.0, size::GAP]))
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

/// The QR's side: its design size, a little smaller in portrait with larger text (still about
/// 10 cm on a 24" screen), where the order needs the room more.
fn qr_side(ctx: Ctx<'_>) -> f32 {
    match (ctx.landscape, ctx.large_text) {
        (true, _) => size::QR_LANDSCAPE,
        (false, false) => size::QR,
        (false, true) => size::QR_LARGE_TEXT,
    }
}

/// The QR, or its place while it is prepared, sized for the display.
fn qr_box<'a>(ctx: Ctx<'a>, w: &Waiting<'a>) -> Element<'a> {
    let side = qr_side(ctx);
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

/// A way to pay: its pictogram on the side of the screen it concerns, and the words.
pub fn way_to_pay<'a>(
    ctx: Ctx<'a>,
    picture: &image::Handle,
    words: impl text::IntoFragment<'a>,
    side: Direction,
) -> Element<'a> {
    // Enlarged with the text, but not past the text's own two lines.
    let extent = ctx.px(96.0).min(size::BODY * LARGE_TEXT_SCALE * 2.4);
    let picture = image(picture.clone())
        .width(Length::Fixed(extent))
        .height(Length::Fixed(extent));
    let words = text(words).size(ctx.px(size::BODY)).width(Length::Fill);
    let arrow = image(ctx.assets.arrow.clone())
        .width(Length::Fixed(72.0))
        .height(Length::Fixed(72.0));
    match side {
        Direction::Left => row![arrow, picture, words],
        Direction::Right => row![words, picture, arrow],
        Direction::Down => row![picture, words, arrow],
    }
    .spacing(size::GAP)
    .align_y(Alignment::Center)
    .into()
}

/// The Waiting screen's own actions, in the order Tab visits them.
pub fn actions() -> [Msg; 1] {
    [Msg::PayWithPhone]
}

/// "Pay with your phone number": a button with the keypad's pictogram, opening the keypad.
fn phone_way<'a>(ctx: Ctx<'a>) -> Element<'a> {
    // With larger text beside the QR the words need the pictogram's room.
    let picture = (ctx.landscape || !ctx.large_text).then(|| {
        image(ctx.assets.keypad.clone())
            .width(Length::Fixed(64.0))
            .height(Length::Fixed(64.0))
    });
    // Beside the QR, with larger text, a little less large, so that it keeps to one line.
    let words = if ctx.landscape || !ctx.large_text {
        ctx.px(size::BODY)
    } else {
        size::BODY * 1.1
    };
    let target = container(
        button(
            row![
                picture,
                text(ctx.t(Text::KeypadTitle)).size(words).font(theme::BOLD)
            ]
            .spacing(size::GAP)
            .align_y(Alignment::Center),
        )
        .on_press(Msg::PayWithPhone)
        // Its height follows the words (one line or two), and is never less than a target's.
        .padding([
            (ctx.touch - words * 1.3).max(0.0) / 2.0 + 2.0,
            size::GAP / 2.0,
        ])
        .style(theme::secondary_button),
    )
    .id(Id::new(ids::PHONE));
    focusable(ctx, Msg::PayWithPhone, target)
}

fn pay_panel<'a>(ctx: Ctx<'a>, w: &Waiting<'a>) -> Element<'a> {
    let qr = qr_box(ctx, w);
    let status = if w.trouble {
        ctx.t(Text::CheckingConnection).into_owned()
    } else if w.refreshing {
        ctx.t(Text::QrRefreshing).into_owned()
    } else {
        w.renews_in
            .map(|d| i18n::renews_in(ctx.lang, &format_countdown(d.as_secs())))
            .unwrap_or_default()
    };
    let title = text(ctx.t(Text::ScanWithApp))
        .size(ctx.px(size::TITLE))
        .font(theme::BOLD)
        .center()
        .width(Length::Fill);
    // Beside the code: a phone scanning it (while there is room), and when the code renews.
    // In portrait the instruction goes there too, so the order keeps the height.
    let picture = (!ctx.large_text || ctx.landscape).then(|| {
        image(ctx.assets.scan_qr.clone())
            .width(Length::Fixed(SCAN_PICTURE))
            .height(Length::Fixed(SCAN_PICTURE))
    });
    // In portrait the column beside the QR holds the most: keep its gaps small.
    let mut beside = column![]
        .spacing(if ctx.landscape {
            size::GAP
        } else {
            size::GAP / 2.0
        })
        .align_x(Alignment::Center)
        .width(Length::Fill);
    let title = if ctx.landscape {
        Some(title)
    } else {
        beside = beside.push(title);
        None
    };
    beside = beside.push(picture);
    if !ctx.landscape {
        beside = beside.push(phone_way(ctx));
    }
    // With larger text in portrait the keypad's way takes the countdown's place; trouble and
    // a code being renewed are still said there.
    let routine = !w.trouble && !w.refreshing;
    if ctx.landscape || !ctx.large_text || !routine {
        beside = beside.push(
            text(status)
                .size(ctx.px(size::SMALL))
                .color(theme::MUTED)
                .center(),
        );
    }
    // With the scanner missing, the keypad is offered in place of the personal QR.
    let personal: Element<'a> = if w.scanner_ok {
        way_to_pay(
            ctx,
            &ctx.assets.at_scanner,
            ctx.t(Text::OrPersonalQr),
            ctx.assets.scanner,
        )
    } else {
        text(ctx.t(Text::ScannerMissing))
            .size(ctx.px(size::BODY))
            .into()
    };
    // Landscape has room below; in portrait the keypad's way goes beside the QR, to leave the
    // order its height.
    let personal: Element<'a> = if ctx.landscape {
        column![personal, phone_way(ctx)]
            .spacing(size::GAP / 2.0)
            .align_x(Alignment::Center)
            .into()
    } else {
        personal
    };
    container(
        column![
            title,
            row![qr, beside]
                .spacing(size::GAP)
                .align_y(Alignment::Center),
            rule::horizontal(2),
            personal,
        ]
        // With larger text in portrait every line of the order counts.
        .spacing(if ctx.large_text && !ctx.landscape {
            size::GAP / 2.0
        } else {
            size::GAP
        })
        .align_x(Alignment::Center),
    )
    .padding(size::GAP)
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
        .spacing(size::GAP / 2.0)
        .padding(iced::Padding::ZERO.bottom(size::GAP / 2.0)),
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
