//! The developer panel: plays the customer's phone and the POS against a simulator, through
//! the simulator's control API (so the app never links the simulator itself).

use super::{App, Element, Message};
use crate::{payment::Input, scan::RawScan, ui::theme};
use iced::{
    Length, Task,
    widget::{button, column, container, row, text},
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
}

/// The panel and what its last action answered.
#[derive(Debug)]
pub struct Dev {
    pub panel: DevPanel,
    pub status: Option<String>,
}

/// The personal QR the developer panel scans (tokenized form; no phone number in it).
pub const DEMO_PERSONAL_QR: &str = "https://qr.vipps.no/p/DEMO-7f3a9c2e?v=2";

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
        }
    }

    /// A strip of small buttons (for developers, not customers: no touch-target rules), kept
    /// low so that the customer's screen above it keeps its room.
    pub(super) fn dev_panel(&self) -> Element<'_> {
        let b = |label: &'static str, action: DevAction| {
            button(text(label).size(DEV_TEXT))
                .on_press(Message::Dev(action))
                .padding([6, 12])
                .style(theme::dev_button)
        };
        let error = self.dev.as_ref().and_then(|d| d.status.as_ref());
        let status = match (error, self.machine().payment()) {
            (Some(e), _) => format!("developer panel: {e}"),
            (None, Some(p)) => format!("developer panel · payment {}", p.reference),
            (None, None) => "developer panel".to_string(),
        };
        container(
            column![
                text(status).size(DEV_TEXT),
                row![
                    b("Scan personal QR", DevAction::ScanPersonalQr),
                    b("Scan unknown", DevAction::ScanUnknownCustomer),
                    b("Scan barcode", DevAction::ScanGarbage),
                    b("Open QR", DevAction::PhoneOpen),
                    b("Approve", DevAction::PhoneApprove),
                    b("Reject", DevAction::PhoneReject),
                    b("POS withdraw", DevAction::PosWithdraw),
                ]
                .spacing(8)
                .wrap(),
            ]
            .spacing(6),
        )
        .padding([8, 12])
        .width(Length::Fill)
        .style(theme::dev_panel)
        .into()
    }
}

/// The developer panel's text size.
const DEV_TEXT: f32 = 20.0;
