//! The machine's states, what follows a cancel, and the one place that takes an active state
//! (Waiting, Scanned, Cancelling, Capturing) apart.

use super::config::Method;
use super::config::PushTo;
use super::machine::Payment;
use super::order::Order;
use super::reason::FailureReason;
use crate::vipps::model::Amount;
use std::time::Instant;

/// What to do once a cancel is confirmed.
#[derive(Debug, Clone, PartialEq)]
pub enum AfterCancel {
    /// A personal QR was scanned (or a number typed, or a customer handed over) while the
    /// one-time QR was live: push to the phone next.
    Push(PushTo),
    /// The customer cancelled the push: back to the one-time QR.
    BackToWaiting,
    /// The POS withdrew the order: release everything.
    Withdraw,
    /// The customer walked away: end the order, but capture a last-second approval.
    WalkAway,
}

#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Idle,
    /// The one-time QR payment is being created or shown.
    Waiting {
        order: Order,
        attempt: u32,
        payment: Payment,
    },
    /// A push payment is being created or waits for the customer's approval.
    Scanned {
        order: Order,
        attempt: u32,
        payment: Payment,
    },
    /// A cancel is under way; what follows depends on Vipps' answer.
    Cancelling {
        order: Order,
        attempt: u32,
        payment: Payment,
        after: AfterCancel,
    },
    /// Approved in the app; the capture is under way.
    Capturing {
        order: Order,
        attempt: u32,
        payment: Payment,
    },
    /// Captured: the customer is done.
    Approved {
        order: Order,
        reference: String,
        method: Method,
        captured: Amount,
        until: Instant,
    },
    /// The payment did not go through; `order` is kept when it still stands (a new attempt
    /// follows), `None` when the order ended.
    Failed {
        order: Option<Order>,
        attempt: u32,
        reason: FailureReason,
        until: Instant,
    },
}

impl State {
    /// Waiting for the customer: on the one-time QR, or on a push to their phone.
    pub(super) fn awaiting(method: Method, order: Order, attempt: u32, payment: Payment) -> State {
        match method {
            Method::OneTimeQr => State::Waiting {
                order,
                attempt,
                payment,
            },
            Method::PersonalQr | Method::PhoneNumber => State::Scanned {
                order,
                attempt,
                payment,
            },
        }
    }
}

/// An active state's contents, taken out of it to build the next state.
pub(super) struct Active {
    pub(super) order: Order,
    pub(super) attempt: u32,
    pub(super) payment: Payment,
    pub(super) after: Option<AfterCancel>,
}

impl State {
    /// The order, attempt and payment of an active state (Waiting, Scanned, Cancelling,
    /// Capturing).
    pub(super) fn active(&self) -> Option<(&Order, u32, &Payment)> {
        match self {
            State::Waiting {
                order,
                attempt,
                payment,
            }
            | State::Scanned {
                order,
                attempt,
                payment,
            }
            | State::Cancelling {
                order,
                attempt,
                payment,
                ..
            }
            | State::Capturing {
                order,
                attempt,
                payment,
            } => Some((order, *attempt, payment)),
            State::Idle | State::Approved { .. } | State::Failed { .. } => None,
        }
    }

    /// The payment of an active state, to change.
    pub(super) fn active_mut(&mut self) -> Option<&mut Payment> {
        match self {
            State::Waiting { payment, .. }
            | State::Scanned { payment, .. }
            | State::Cancelling { payment, .. }
            | State::Capturing { payment, .. } => Some(payment),
            State::Idle | State::Approved { .. } | State::Failed { .. } => None,
        }
    }

    /// Takes the order and payment out of a Waiting, Scanned or Cancelling state (and out of
    /// Capturing when `capturing`), leaving `Idle` for the caller to replace. Any other state
    /// stays as it is, and the answer is `None`.
    pub(super) fn take_active(&mut self, capturing: bool) -> Option<Active> {
        if !capturing && matches!(self, State::Capturing { .. }) {
            return None;
        }
        let active = |order, attempt, payment, after| {
            Some(Active {
                order,
                attempt,
                payment,
                after,
            })
        };
        match std::mem::replace(self, State::Idle) {
            State::Waiting {
                order,
                attempt,
                payment,
            }
            | State::Scanned {
                order,
                attempt,
                payment,
            }
            | State::Capturing {
                order,
                attempt,
                payment,
            } => active(order, attempt, payment, None),
            State::Cancelling {
                order,
                attempt,
                payment,
                after,
            } => active(order, attempt, payment, Some(after)),
            other @ (State::Idle | State::Approved { .. } | State::Failed { .. }) => {
                *self = other;
                None
            }
        }
    }
}
