//! One module per screen, and the pieces they share.

pub mod approved;
pub mod failed;
pub mod idle;
pub mod keypad;
pub mod scanned;
pub mod waiting;

use super::{
    Assets, Element, Msg,
    i18n::{self, Text},
    theme::{self, Brand, size},
};
use crate::market::Lang;
use iced::{
    Alignment, Length,
    widget::{Id, button, column, container, image, row, text, text::IntoFragment},
};
use std::borrow::Cow;

/// What every screen may need besides its own data.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub lang: Lang,
    pub brand: Brand,
    pub assets: &'a Assets,
    /// Wider than tall.
    pub landscape: bool,
    /// The customer asked for larger text.
    pub large_text: bool,
    /// The smallest touch target in layout pixels: 15 mm (90 physical pixels) whatever the
    /// scale the window is drawn at.
    pub touch: f32,
    /// Whether speech is on; `None`: the lane has no speech engine, and no control for it.
    pub speech: Option<bool>,
    /// The action a keyboard's Enter would carry out (Tab moves it): drawn with a ring.
    pub focus: Option<Msg>,
}

/// How much larger "larger text" is.
pub const LARGE_TEXT_SCALE: f32 = 1.3;

impl Ctx<'_> {
    /// A string in the customer's language, with the lane's brand names in it.
    pub fn t(&self, t: Text) -> Cow<'static, str> {
        t.with(self.lang, self.brand.branding)
    }

    /// A text size from the theme, enlarged when the customer asked for larger text; never
    /// beyond the largest size, which is large enough already.
    pub fn px(&self, size: f32) -> f32 {
        if self.large_text {
            (size * LARGE_TEXT_SCALE).round().min(size.max(size::HUGE))
        } else {
            size
        }
    }
}

/// The brand strip at the top of every customer screen: the name in plain text, in the
/// screen's own font (as Vipps MobilePay's text guidelines ask), on the brand's colour.
pub fn header<'a>(ctx: Ctx<'a>) -> Element<'a> {
    container(text(ctx.brand.name()).size(size::LARGE).font(theme::BOLD))
        .padding([8.0, size::PAD])
        .width(Length::Fill)
        .style(theme::brand_bar(ctx.brand))
        .into()
}

/// Ids of the touch targets, so tests can measure them.
pub mod ids {
    pub const CANCEL: &str = "touch-cancel";
    pub const OK: &str = "touch-ok";
    pub const MORE_TIME: &str = "touch-more-time";
    pub const LARGER_TEXT: &str = "touch-larger-text";
    pub const SPEECH: &str = "touch-speech";
    pub const PHONE: &str = "touch-phone";
    pub const BACKSPACE: &str = "touch-backspace";
    pub const SEND: &str = "touch-send";
    pub const BACK: &str = "touch-back";
    /// The focus ring, around whichever target has the focus.
    pub const FOCUS: &str = "focus-ring";
    pub fn language(code: &str) -> String {
        format!("touch-lang-{code}")
    }
    pub fn digit(d: u8) -> String {
        format!("touch-digit-{d}")
    }
    pub fn country(code: &str) -> String {
        format!("touch-country-{code}")
    }
}

/// A target with room around it for the focus ring, drawn when it has the focus: what `msg`
/// does is what Enter does then.
pub fn focusable<'a>(ctx: Ctx<'a>, msg: Msg, target: impl Into<Element<'a>>) -> Element<'a> {
    let ring = container(target).padding(size::RING);
    if ctx.focus == Some(msg) {
        ring.style(theme::focus_ring).id(Id::new(ids::FOCUS)).into()
    } else {
        ring.into()
    }
}

/// The actions of the access bar, in the order Tab visits them.
pub fn access_actions(ctx: Ctx<'_>) -> Vec<Msg> {
    let mut actions: Vec<Msg> = Lang::ALL.into_iter().map(Msg::LanguageChosen).collect();
    if ctx.speech.is_some() {
        actions.push(Msg::SpeechToggled);
    }
    actions.push(Msg::LargerTextToggled);
    actions
}

/// A large touch button.
pub fn big_button<'a>(
    ctx: Ctx<'a>,
    label: impl IntoFragment<'a>,
    on_press: Msg,
    primary: bool,
) -> Element<'a> {
    let id = match on_press {
        Msg::CancelTapped => ids::CANCEL,
        Msg::MoreTimeTapped => ids::MORE_TIME,
        Msg::SendPhone => ids::SEND,
        Msg::CloseKeypad => ids::BACK,
        _ => ids::OK,
    };
    let target = container(
        button(
            container(
                text(label)
                    .size(ctx.px(size::LARGE))
                    .font(theme::BOLD)
                    .center(),
            )
            .center_y(Length::Fill),
        )
        .on_press(on_press)
        // As wide as its label, with room either side so that even "OK" is a wide target.
        .padding([0.0, 72.0])
        .height(Length::Fixed(ctx.touch + 16.0))
        .style(if primary {
            theme::primary_button
        } else {
            theme::secondary_button
        }),
    )
    .id(Id::new(id));
    focusable(ctx, on_press, target)
}

/// A centred column of content on the neutral background.
pub fn centred<'a>(content: impl Into<Element<'a>>) -> Element<'a> {
    container(content)
        .padding(size::PAD)
        .center_x(Length::Fill)
        .center_y(Length::Fill)
        .into()
}

/// The bar at the foot of every customer screen: the languages by their own names (no flags)
/// and the larger-text toggle. Every button is a full touch target.
pub fn access_bar<'a>(ctx: Ctx<'a>) -> Element<'a> {
    // The targets' room for the focus ring is the spacing between them.
    let mut langs = row![].spacing(12.0 - 2.0 * size::RING);
    for lang in Lang::ALL {
        let current = lang == ctx.lang;
        let target = container(
            button(
                container(text(lang.own_name()).size(size::BODY).font(if current {
                    theme::BOLD
                } else {
                    theme::REGULAR
                }))
                .center_y(Length::Fill),
            )
            .on_press(Msg::LanguageChosen(lang))
            .padding([0.0, 18.0])
            .height(Length::Fixed(ctx.touch))
            .style(if current {
                theme::primary_button
            } else {
                theme::secondary_button
            }),
        )
        .id(Id::from(ids::language(lang.code())));
        langs = langs.push(focusable(ctx, Msg::LanguageChosen(lang), target));
    }
    let toggle = if ctx.large_text {
        Text::NormalText
    } else {
        Text::LargerText
    };
    let larger = container(
        button(container(text(ctx.t(toggle)).size(size::BODY)).center_y(Length::Fill))
            .on_press(Msg::LargerTextToggled)
            .padding([0.0, 18.0])
            .height(Length::Fixed(ctx.touch))
            .style(theme::secondary_button),
    )
    .id(Id::new(ids::LARGER_TEXT));
    let larger = focusable(ctx, Msg::LargerTextToggled, larger);
    let access = row![speech_button(ctx), larger]
        .spacing(12.0 - 2.0 * size::RING)
        .align_y(Alignment::Center);
    let bar: Element<'a> = if ctx.landscape {
        row![langs, iced::widget::space::horizontal(), access]
            .align_y(Alignment::Center)
            .into()
    } else {
        column![langs, access]
            .spacing(0.0)
            .align_x(Alignment::Center)
            .into()
    };
    container(bar)
        .padding([(8.0 - 2.0 * size::RING).max(0.0), size::GAP])
        .width(Length::Fill)
        .center_x(Length::Fill)
        .into()
}

/// "Read aloud" (or "Stop reading"), beside "Larger text" on every screen, with a speaker
/// drawn on it; nothing where the lane has no speech engine.
fn speech_button<'a>(ctx: Ctx<'a>) -> Option<Element<'a>> {
    let on = ctx.speech?;
    let label = ctx.t(if on {
        Text::StopReading
    } else {
        Text::ReadAloud
    });
    Some(
        container(
            button(
                row![
                    image(if on {
                        ctx.assets.speaker_on.clone()
                    } else {
                        ctx.assets.speaker.clone()
                    })
                    .width(Length::Fixed(44.0))
                    .height(Length::Fixed(44.0)),
                    text(label).size(size::BODY),
                ]
                .spacing(10.0)
                .align_y(Alignment::Center)
                .height(Length::Fill),
            )
            .on_press(Msg::SpeechToggled)
            .padding([0.0, 18.0])
            .height(Length::Fixed(ctx.touch))
            .style(if on {
                theme::primary_button
            } else {
                theme::secondary_button
            }),
        )
        .id(Id::new(ids::SPEECH)),
    )
    .map(|target| focusable(ctx, Msg::SpeechToggled, target))
}

/// "Are you still there?" with the time left and a button for more time.
pub fn still_there<'a>(ctx: Ctx<'a>, left_secs: u64) -> Element<'a> {
    container(
        column![
            image(ctx.assets.expired.clone())
                .width(Length::Fixed(120.0))
                .height(Length::Fixed(120.0)),
            text(ctx.t(Text::StillThere))
                .size(ctx.px(size::TITLE))
                .font(theme::BOLD),
            text(i18n::ends_in(ctx.lang, &i18n::format_countdown(left_secs)))
                .size(ctx.px(size::LARGE)),
            big_button(ctx, ctx.t(Text::MoreTime), Msg::MoreTimeTapped, true),
        ]
        .spacing(size::GAP)
        .align_x(Alignment::Center),
    )
    .padding(size::PAD)
    .width(Length::Fill)
    .style(theme::notice)
    .into()
}

/// A banner that lies over the top of a screen.
pub fn banner<'a>(ctx: Ctx<'a>, message: impl IntoFragment<'a>) -> Element<'a> {
    container(text(message).size(ctx.px(size::LARGE)))
        .padding(size::PAD)
        .width(Length::Fill)
        .style(theme::notice)
        .into()
}

/// Out of service: for the customer a clear "use another till", for staff the reason.
pub fn out_of_service<'a>(ctx: Ctx<'a>, staff_reason: &'a str) -> Element<'a> {
    centred(
        column![
            image(ctx.assets.ask_staff.clone())
                .width(Length::Fixed(200.0))
                .height(Length::Fixed(200.0)),
            text(ctx.t(Text::OutOfService))
                .size(ctx.px(size::HUGE))
                .font(theme::BOLD),
            text(ctx.t(Text::OutOfServiceBody))
                .size(ctx.px(size::LARGE))
                .center(),
            container(text(staff_reason).size(size::SMALL).color(theme::MUTED))
                .padding(size::PAD)
                .style(theme::card),
        ]
        .spacing(size::GAP * 2.0)
        .align_x(Alignment::Center),
    )
}
