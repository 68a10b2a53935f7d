//! What the customer is told: why a payment did not go through, and short notices.

use serde::{Deserialize, Serialize};

/// What went wrong, in the customer's terms. The technical cause goes to the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FailureReason {
    /// The customer said no in the app.
    CancelledInApp,
    /// Nobody approved in time.
    Expired,
    /// The payment was stopped by someone else than this kiosk.
    Cancelled,
    /// The scanned code is not a valid Vipps MobilePay personal QR (4060).
    NotVippsCode,
    /// Vipps found no user for the code (7010; also age limits: never "wrong number").
    CustomerNotFound,
    /// The sales unit may not send push payments (5080): pay with the QR on screen.
    PushNotAllowed,
    /// Vipps refused or could not be reached.
    ServiceTrouble,
    /// Vipps refused every try at creating a payment for the order: it ended unpaid.
    CreateRefused,
    /// The approved payment could not be captured (refused for good): its authorization was
    /// released and the order ended unpaid.
    CaptureRefused,
    /// Vipps' one-time QR kept expiring at once: the order ended unpaid.
    QrUnavailable,
    /// The purchase has an age limit and the payment was declined or could not be sent (the
    /// app refused it, or Vipps found no customer it could go to): Vipps never says why, so
    /// the screen says, neutrally, that the purchase has an age limit and staff can help.
    AgeLimit,
}

impl FailureReason {
    /// Whether a payment failing for this reason ends its order: the lane takes no more
    /// payments for it (a failure the order survives is followed by a new attempt).
    pub fn ends_order(self) -> bool {
        matches!(
            self,
            FailureReason::CreateRefused
                | FailureReason::CaptureRefused
                | FailureReason::QrUnavailable
        )
    }
}

/// Short messages shown over the current screen without changing the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The scanner read something that is not a Vipps MobilePay personal QR.
    NotVippsCode,
    /// A code was scanned while a payment is already under way.
    AlreadyInProgress,
    /// A code was scanned with no purchase to pay.
    NoOrder,
}
