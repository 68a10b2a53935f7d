//! Failed: what happened, in plain words, and what to do next.

use super::{Ctx, big_button, centred};
use crate::{
    payment::FailureReason,
    ui::{
        Element, Msg,
        i18n::{self, Text},
        icons::Outcome,
        theme::{self, size},
    },
};
use iced::{
    Alignment, Length,
    widget::{column, image, text},
};
use std::borrow::Cow;

/// The icon beside a failure's words: declined, timed out, or a matter for staff.
pub fn outcome(reason: FailureReason, order_ended: bool) -> Outcome {
    match reason {
        // The lane could not take the payment: staff help.
        FailureReason::CreateRefused
        | FailureReason::CaptureRefused
        | FailureReason::QrUnavailable
        | FailureReason::AgeLimit => Outcome::AskStaff,
        _ if order_ended => Outcome::Declined,
        FailureReason::Expired => Outcome::Expired,
        FailureReason::Cancelled | FailureReason::ServiceTrouble => Outcome::AskStaff,
        FailureReason::CancelledInApp
        | FailureReason::NotVippsCode
        | FailureReason::CustomerNotFound
        | FailureReason::PushNotAllowed => Outcome::Declined,
    }
}

/// Title and what to do next.
pub fn words(
    ctx: Ctx<'_>,
    reason: FailureReason,
    order_ended: bool,
) -> (Cow<'static, str>, Cow<'static, str>) {
    // An order that ended because the lane could not take the payment says why; one the POS
    // or the customer ended is simply cancelled.
    let says_why = matches!(
        reason,
        FailureReason::CreateRefused | FailureReason::CaptureRefused | FailureReason::QrUnavailable
    );
    if order_ended && !says_why {
        (ctx.t(Text::OrderCancelled), Cow::Borrowed(""))
    } else {
        i18n::failure(reason, ctx.lang, ctx.brand.branding)
    }
}

/// The screen's own actions: OK.
pub fn actions() -> [Msg; 1] {
    [Msg::DismissTapped]
}

pub fn view<'a>(ctx: Ctx<'a>, reason: FailureReason, order_ended: bool) -> Element<'a> {
    let (title, body) = words(ctx, reason, order_ended);
    centred(
        column![
            image(ctx.assets.outcome(outcome(reason, order_ended)).clone())
                .width(Length::Fixed(200.0))
                .height(Length::Fixed(200.0)),
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
