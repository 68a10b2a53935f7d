//! Scanned: the push went to the customer's phone; approve in the app, or cancel.

use super::{Ctx, big_button, centred};
use crate::{
    ui::{
        Element, Msg,
        i18n::{self, Text, format_amount, format_countdown},
        theme::{self, size},
    },
    vipps::model::Amount,
};
use iced::{
    Alignment,
    widget::{column, container, text},
};
use std::{borrow::Cow, time::Duration};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The push payment is being set up.
    Sending,
    /// Waiting for the customer to approve.
    Waiting {
        time_left: Duration,
    },
    /// The customer opened the one-time QR in the app (eCom); waiting for the approval.
    Opened {
        time_left: Duration,
    },
    Cancelling,
    /// Approved; the capture is under way.
    Completing,
}

/// Title and words of a phase.
pub fn words(ctx: Ctx<'_>, phase: Phase) -> (Cow<'static, str>, Cow<'static, str>) {
    match phase {
        Phase::Sending => (ctx.t(Text::ApproveInApp), ctx.t(Text::SendingToPhone)),
        Phase::Waiting { .. } => (ctx.t(Text::ApproveInApp), ctx.t(Text::ApproveBody)),
        Phase::Opened { .. } => (ctx.t(Text::ApproveInApp), ctx.t(Text::ApproveOpenedBody)),
        Phase::Cancelling => (ctx.t(Text::Cancelling), Cow::Borrowed("")),
        Phase::Completing => (ctx.t(Text::Completing), ctx.t(Text::CompletingBody)),
    }
}

/// The screen's own actions, in the order Tab visits them: Cancel while it is offered.
pub fn actions(phase: Phase) -> Vec<Msg> {
    if cancellable(phase) {
        vec![Msg::CancelTapped]
    } else {
        Vec::new()
    }
}

fn cancellable(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::Waiting { .. } | Phase::Opened { .. } | Phase::Sending
    )
}

/// `sent_to`: the number typed on the keypad, masked, once its payment is on its way.
pub fn view<'a>(
    ctx: Ctx<'a>,
    amount: Amount,
    phase: Phase,
    trouble: bool,
    sent_to: Option<String>,
) -> Element<'a> {
    let (title, body) = words(ctx, phase);
    let mut col = column![
        text(title)
            .size(ctx.px(size::HUGE))
            .font(theme::BOLD)
            .center(),
        text(format_amount(amount))
            .size(ctx.px(size::HUGE))
            .font(theme::BOLD),
        text(body).size(ctx.px(size::LARGE)).center(),
    ]
    .spacing(size::GAP * 2.0)
    .align_x(Alignment::Center);
    if let Some(masked) = sent_to.filter(|_| !matches!(phase, Phase::Cancelling)) {
        col = col.push(
            text(i18n::sent_to(ctx.lang, &masked))
                .size(ctx.px(size::LARGE))
                .color(theme::MUTED),
        );
    }
    if let Phase::Waiting { time_left } | Phase::Opened { time_left } = phase {
        col = col.push(
            text(i18n::time_left(
                ctx.lang,
                &format_countdown(time_left.as_secs()),
            ))
            .size(ctx.px(size::LARGE)),
        );
    }
    if trouble {
        col = col.push(
            container(text(ctx.t(Text::CheckingConnection)).size(ctx.px(size::BODY)))
                .padding(size::PAD)
                .style(theme::notice),
        );
    }
    if cancellable(phase) {
        col = col.push(big_button(
            ctx,
            ctx.t(Text::Cancel),
            Msg::CancelTapped,
            false,
        ));
    }
    centred(col)
}
