//! The developer panel: plays the customer's phone and the POS against a simulator, through
//! the simulator's control API (so the app never links the simulator itself).

use super::{App, Element, Message};
use crate::{
    payment::{Input, PushTo},
    scan::RawScan,
    ui::{Msg, theme},
};
use iced::{
    Length, Task,
    widget::{button, container, row, text},
};
use std::time::Instant;

/// The developer panel's setup.
#[derive(Debug, Clone)]
pub struct DevPanel {
    /// The simulator's base URL, for its control API.
    pub sim_url: String,
    /// A personal QR for which the simulator knows no user (error 7010).
    pub unknown_customer_qr: String,
}

/// What the developer panel can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevAction {
    ScanPersonalQr,
    ScanUnknownCustomer,
    ScanGarbage,
    /// The phone opens the on-screen QR (with eCom the kiosk sees it).
    PhoneOpen,
    PhoneApprove,
    PhoneReject,
    PosWithdraw,
    /// A customer types a number on the keypad (it opens with the number in; Send is theirs).
    TypeNumber,
    /// The POS hands over the customer by their personal QR, or by their phone number.
    PosHandOverQr,
    PosHandOverNumber,
    /// A 16-year-old holds their personal QR up to the scanner (the age-limited demo order
    /// ends on "this purchase has an age limit").
    ScanUnderAge,
}

/// The panel and what its last action answered.
#[derive(Debug)]
pub struct Dev {
    pub panel: DevPanel,
    pub status: Option<String>,
}

/// The personal QR the developer panel scans (tokenized form; no phone number in it).
pub const DEMO_PERSONAL_QR: &str = "https://qr.vipps.no/p/DEMO-7f3a9c2e?v=2";

/// A personal QR of the simulator's 16-year-old test customer.
pub const DEMO_UNDER_AGE_QR: &str = "https://qr.vipps.no/p/age16-demo";

/// The number the developer panel types or hands over: a mobile number of the lane's country.
pub fn demo_number(country: crate::phone::CountryCode) -> &'static str {
    use crate::phone::CountryCode;
    match country {
        CountryCode::Norway => "41234567",
        CountryCode::Denmark => "20123456",
        CountryCode::Finland => "401234567",
        CountryCode::Sweden => "701234567",
    }
}

impl App {
    pub(super) fn dev_action(&mut self, action: DevAction, now: Instant) -> Task<Message> {
        let Some(dev) = &self.dev else {
            return Task::none();
        };
        let scan = |s: &str| Message::Scanned(RawScan(s.to_string()));
        let phone = |verb: &'static str| {
            let Some(reference) = self.machine().payment().map(|p| p.reference.clone()) else {
                return Task::done(Message::DevDone(Err("no payment to act on".into())));
            };
            let url = format!("{}/_sim/payments/{reference}/{verb}", dev.panel.sim_url);
            let http = self.http.clone();
            Task::perform(
                async move {
                    let resp = http.post(url).send().await.map_err(|e| e.to_string())?;
                    if resp.status().is_success() {
                        Ok(())
                    } else {
                        Err(format!("simulator answered {}", resp.status()))
                    }
                },
                Message::DevDone,
            )
        };
        match action {
            DevAction::ScanPersonalQr => Task::done(scan(DEMO_PERSONAL_QR)),
            DevAction::ScanUnknownCustomer => Task::done(scan(&dev.panel.unknown_customer_qr)),
            DevAction::ScanGarbage => Task::done(scan("7038010055680")),
            DevAction::PhoneOpen => phone("open"),
            DevAction::PhoneApprove => phone("approve"),
            DevAction::PhoneReject => phone("reject"),
            DevAction::PosWithdraw => match self.machine().order().map(|o| o.order_id.clone()) {
                Some(id) => self.step(Input::OrderWithdrawn(id), now),
                None => Task::none(),
            },
            DevAction::ScanUnderAge => Task::done(scan(DEMO_UNDER_AGE_QR)),
            DevAction::TypeNumber => {
                let country = super::keypad::home_country(self.market);
                let mut messages = vec![Message::Keypad(Msg::PayWithPhone)];
                messages.extend(
                    demo_number(country)
                        .bytes()
                        .map(|b| Message::Keypad(Msg::Digit(b - b'0'))),
                );
                Task::batch(messages.into_iter().map(Task::done))
            }
            DevAction::PosHandOverQr | DevAction::PosHandOverNumber => {
                self.hand_over(action == DevAction::PosHandOverQr, now)
            }
        }
    }

    /// The "POS" hands over the customer of the order on screen, through the lane as the
    /// POS API's call does (journaled, refused when the order is not waiting for them).
    fn hand_over(&mut self, by_qr: bool, now: Instant) -> Task<Message> {
        let Some(order_id) = self.machine().order().map(|o| o.order_id.clone()) else {
            return Task::done(Message::DevDone(Err(
                "no order to hand a customer over to".into()
            )));
        };
        let to = if by_qr {
            Some(PushTo::PersonalQr(crate::scan::PersonalQr::new(
                DEMO_PERSONAL_QR,
            )))
        } else {
            let country = super::keypad::home_country(self.market);
            crate::phone::PhoneNumber::new(country, demo_number(country))
                .ok()
                .map(PushTo::Phone)
        };
        let Some(to) = to else {
            return Task::none();
        };
        let (reply, answer) = crate::pos::Reply::new();
        let calls = self.lane.pos(
            crate::pos::Command::HandOver {
                order_id,
                to,
                reply,
            },
            now,
        );
        let task = self.run(calls, now);
        let heard = Task::perform(answer, |a| {
            Message::DevDone(match a {
                Ok(Ok(())) => Ok(()),
                Ok(Err(refusal)) => Err(format!("the lane refused the hand-over: {refusal:?}")),
                Err(_) => Err("the lane did not answer".into()),
            })
        });
        Task::batch([task, heard])
    }

    /// A strip of small buttons (for developers, not customers: no touch-target rules), kept
    /// low so that the customer's screen above it keeps its room.
    pub(super) fn dev_panel(&self) -> Element<'_> {
        let b = |label: &'static str, action: DevAction| {
            button(text(label).size(DEV_TEXT))
                .on_press(Message::Dev(action))
                .padding([4, 10])
                .style(theme::dev_button)
        };
        let error = self.dev.as_ref().and_then(|d| d.status.as_ref());
        let status = match (error, self.machine().payment()) {
            (Some(e), _) => format!("developer panel: {e}"),
            (None, Some(p)) => format!("developer panel · payment {}", p.reference),
            (None, None) => "developer panel".to_string(),
        };
        // The status leads the buttons' rows, so the panel keeps to two rows.
        container(
            row![
                text(status).size(DEV_TEXT),
                b("Scan personal QR", DevAction::ScanPersonalQr),
                b("Scan unknown", DevAction::ScanUnknownCustomer),
                b("Scan under-age", DevAction::ScanUnderAge),
                b("Scan barcode", DevAction::ScanGarbage),
                b("Type number", DevAction::TypeNumber),
                b("Open QR", DevAction::PhoneOpen),
                b("Approve", DevAction::PhoneApprove),
                b("Reject", DevAction::PhoneReject),
                b("POS: QR", DevAction::PosHandOverQr),
                b("POS: number", DevAction::PosHandOverNumber),
                b("POS withdraw", DevAction::PosWithdraw),
            ]
            .spacing(8)
            .align_y(iced::Alignment::Center)
            .wrap(),
        )
        .padding([6, 12])
        .width(Length::Fill)
        .style(theme::dev_panel)
        .into()
    }
}

/// The developer panel's text size.
const DEV_TEXT: f32 = 19.0;
