//! The keypad: the customer types their mobile number (touch, a keyboard or a USB numeric
//! keypad), with the country code shown and switchable, and sends it. The number is shown
//! while typed; what is wrong with it is said before anything is sent.

use super::{Ctx, big_button, focusable, ids};
use crate::{
    phone::{CountryCode, PhoneError},
    ui::{
        Element, Msg,
        i18n::{self, Text, format_amount},
        theme::{self, size},
    },
    vipps::model::Amount,
};
use iced::{
    Alignment, Length,
    widget::{Id, button, column, container, row, space, text},
};

/// What the keypad shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keypad<'a> {
    pub country: CountryCode,
    /// The digits typed so far (after the country code).
    pub digits: &'a str,
    /// Why the number could not be sent, once the customer tried.
    pub error: Option<PhoneError>,
    pub total: Amount,
}

/// A key of the keypad: wide and tall enough to hit from a standing position.
const KEY_WIDTH: f32 = 220.0;
const KEY_HEIGHT: f32 = 112.0;

/// The keys in the order Tab visits them: country codes, digits row by row, Delete, then
/// Back and Send.
pub fn actions() -> Vec<Msg> {
    let mut a: Vec<Msg> = CountryCode::ALL.into_iter().map(Msg::Country).collect();
    a.extend([1, 2, 3, 4, 5, 6, 7, 8, 9, 0].map(Msg::Digit));
    a.extend([Msg::Backspace, Msg::CloseKeypad, Msg::SendPhone]);
    a
}

/// "+47".
pub fn code(country: CountryCode) -> String {
    format!("+{}", country.digits())
}

/// What is wrong with a number, in the customer's language.
pub fn problem(ctx: Ctx<'_>, country: CountryCode, e: PhoneError) -> String {
    match e {
        PhoneError::NotDigits => ctx.t(Text::TypeNumberFirst).into_owned(),
        PhoneError::Length => {
            let l = country.lengths();
            let n = if l.start() == l.end() {
                l.start().to_string()
            } else {
                format!("{}–{}", l.start(), l.end())
            };
            i18n::wrong_length(ctx.lang, &n)
        }
        PhoneError::NotMobile | PhoneError::Country => i18n::not_mobile(ctx.lang, &code(country)),
    }
}

fn key<'a>(ctx: Ctx<'a>, label: String, msg: Msg, id: String) -> Element<'a> {
    let size = if matches!(msg, Msg::Digit(_)) {
        size::TITLE
    } else {
        size::BODY
    };
    let target = container(
        button(
            text(label)
                .size(size)
                .font(theme::BOLD)
                .center()
                .width(Length::Fill)
                .height(Length::Fill),
        )
        .on_press(msg)
        .width(Length::Fixed(KEY_WIDTH))
        .height(Length::Fixed(KEY_HEIGHT.max(ctx.touch)))
        .style(theme::secondary_button),
    )
    .id(Id::from(id));
    focusable(ctx, msg, target)
}

/// The digits 1-9 in three rows, then 0 and Delete.
fn grid<'a>(ctx: Ctx<'a>) -> Element<'a> {
    let digit = |d: u8| key(ctx, d.to_string(), Msg::Digit(d), ids::digit(d));
    let gap = size::GAP / 2.0 - 2.0 * size::RING;
    let mut rows = column![].spacing(gap.max(0.0));
    for first in [1u8, 4, 7] {
        rows =
            rows.push(row![digit(first), digit(first + 1), digit(first + 2)].spacing(gap.max(0.0)));
    }
    let delete = key(
        ctx,
        ctx.t(Text::Delete).into_owned(),
        Msg::Backspace,
        ids::BACKSPACE.into(),
    );
    rows = rows.push(
        row![
            space::horizontal().width(Length::Fixed(KEY_WIDTH + 2.0 * size::RING)),
            digit(0),
            delete
        ]
        .spacing(gap.max(0.0)),
    );
    rows.into()
}

/// Touch targets this tall (in the design's units) mean a small display: the keypad then
/// takes its compact form (portrait), so that every key stays in view.
const COMPACT_FROM_TOUCH: f32 = 150.0;

/// The country codes, the lane's own first; the chosen one filled: in a row after their label,
/// or (compact) in a column beside the digits.
fn countries<'a>(ctx: Ctx<'a>, chosen: CountryCode, compact: bool) -> Element<'a> {
    let mut keys = Vec::new();
    for c in CountryCode::ALL {
        let target = container(
            button(
                text(code(c))
                    .size(size::BODY)
                    .font(theme::BOLD)
                    .center()
                    .width(Length::Fill)
                    .height(Length::Fill),
            )
            .on_press(Msg::Country(c))
            .width(Length::Fixed(ctx.touch.max(120.0)))
            .height(Length::Fixed(ctx.touch))
            .style(if c == chosen {
                theme::primary_button
            } else {
                theme::secondary_button
            }),
        )
        .id(Id::from(ids::country(c.digits())));
        keys.push(focusable(ctx, Msg::Country(c), target));
    }
    if compact {
        return iced::widget::Column::with_children(keys).into();
    }
    row![
        text(ctx.t(Text::CountryCodeLabel))
            .size(ctx.px(size::BODY))
            .color(theme::MUTED)
    ]
    .extend(keys)
    .spacing(12.0 - 2.0 * size::RING)
    .align_y(Alignment::Center)
    .into()
}

/// The number as typed, after its country code (or what to type, before the first digit).
fn display<'a>(ctx: Ctx<'a>, k: &Keypad<'a>) -> Element<'a> {
    let number: Element<'a> = if k.digits.is_empty() {
        text(ctx.t(Text::MobileNumber))
            .size(ctx.px(size::LARGE))
            .color(theme::MUTED)
            .into()
    } else {
        text(k.digits.to_string())
            .size(size::HUGE)
            .font(theme::BOLD)
            .into()
    };
    container(
        row![
            text(code(k.country))
                .size(ctx.px(size::LARGE))
                .color(theme::MUTED),
            number
        ]
        .spacing(size::GAP)
        .align_y(Alignment::Center),
    )
    .padding([12.0, size::PAD])
    .width(Length::Fill)
    .height(Length::Fixed(size::HUGE * 1.6))
    .center_y(Length::Fixed(size::HUGE * 1.6))
    .style(theme::card)
    .into()
}

/// The title, the total and what to do, the country codes, the number and what is wrong with
/// it; compact: the title (or, once said, what is wrong) and the number.
fn about<'a>(ctx: Ctx<'a>, k: &Keypad<'a>, compact: bool) -> Element<'a> {
    let title = text(ctx.t(Text::KeypadTitle))
        .size(ctx.px(size::TITLE))
        .font(theme::BOLD);
    if compact {
        let head: Element<'a> = match k.error {
            Some(e) => text(problem(ctx, k.country, e))
                .size(ctx.px(size::LARGE))
                .font(theme::BOLD)
                .style(theme::error_text)
                .into(),
            None => title.into(),
        };
        return column![head, display(ctx, k)]
            .spacing(size::GAP)
            .width(Length::Fill)
            .into();
    }
    let total = text(format!("{} {}", ctx.t(Text::Total), format_amount(k.total)))
        .size(ctx.px(size::LARGE))
        .font(theme::BOLD);
    let instruction = text(ctx.t(Text::KeypadInstruction)).size(ctx.px(size::BODY));
    let said = text(
        k.error
            .map(|e| problem(ctx, k.country, e))
            .unwrap_or_default(),
    )
    .size(ctx.px(size::BODY))
    .style(theme::error_text);
    column![
        title,
        total,
        instruction,
        countries(ctx, k.country, false),
        display(ctx, k),
        said
    ]
    .spacing(size::GAP)
    .width(Length::Fill)
    .into()
}

pub fn view<'a>(ctx: Ctx<'a>, k: Keypad<'a>) -> Element<'a> {
    // On a small display the targets are tall: the total and the instruction (both on the
    // screen before) give way, a problem takes the title's place, and the country codes
    // stand beside the digits.
    let compact = !ctx.landscape && ctx.touch >= COMPACT_FROM_TOUCH;
    let about = about(ctx, &k, compact);
    let buttons = row![
        big_button(ctx, ctx.t(Text::Back), Msg::CloseKeypad, false),
        big_button(ctx, ctx.t(Text::Send), Msg::SendPhone, true),
    ]
    .spacing(size::GAP);
    let pad: Element<'a> = if compact {
        row![grid(ctx), countries(ctx, k.country, true)]
            .spacing(size::GAP)
            .into()
    } else {
        grid(ctx)
    };
    let keys = column![pad, buttons]
        .spacing(size::GAP)
        .align_x(Alignment::Center);
    let body: Element<'a> = if ctx.landscape {
        row![about, keys]
            .spacing(size::GAP * 2.0)
            .align_y(Alignment::Center)
            .into()
    } else {
        column![about, keys]
            .spacing(size::GAP)
            .align_x(Alignment::Center)
            .into()
    };
    container(
        container(body)
            .padding(size::PAD)
            .width(Length::Fill)
            .height(Length::Fill)
            .center_y(Length::Fill)
            .style(theme::brand_panel(ctx.brand)),
    )
    .padding(size::GAP)
    .into()
}
