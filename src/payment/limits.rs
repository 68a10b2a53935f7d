//! Every loop ends: how often a refusal is tried again before the payment, the order or the
//! lane gives up, and how young a QR may die before the lane stops making new ones. Within
//! Vipps' budgets (5 changes and 120 reads a minute per reference), which the client enforces
//! for every layer together; the machine waits as long as Vipps (or the client) says.

use super::effect::{Effect, OrderStatus, OrderUpdate};
use super::machine::Machine;
use super::reason::FailureReason;
use super::state::{Active, State};
use std::time::{Duration, Instant};

/// Refused creates of one order (for reasons that are not the customer's) before the order
/// ends with `createRefused`.
pub const MAX_CREATE_REFUSALS: u32 = 2;
/// Capture rounds (each with a fresh key after a definitive refusal) before the authorization
/// is released and the order ends with `captureRefused`.
pub const MAX_CAPTURE_ROUNDS: u32 = 3;
/// Cancel rounds refused for good before the kiosk stops asking and only follows the payment.
pub const MAX_CANCEL_ROUNDS: u32 = 3;
/// Orders in a row ended by refused creates before the lane goes out of service.
pub const REFUSED_ORDERS_OUT_OF_SERVICE: u32 = 2;
/// How long the lane stays out of service before it tries again.
pub const OUT_OF_SERVICE_FOR: Duration = Duration::from_secs(600);
/// A one-time QR that ends younger than this, untouched, died young.
pub const SHORT_LIVED_QR: Duration = Duration::from_secs(60);
/// QRs in a row that die young before the lane draws its own (where the sales unit may) or
/// stops making them.
pub const MAX_SHORT_LIVED_QRS: u32 = 3;
/// A QR is shown at least this long before it is renewed, whatever its validity says.
pub const MIN_QR_LIFE: Duration = Duration::from_secs(30);
/// The highest attempt number a reference leaves room for.
pub const MAX_ATTEMPT: u32 = 999;

/// What the current order has been through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderStats {
    pub create_refusals: u32,
    pub short_lived_qrs: u32,
    /// The highest attempt number used so far.
    pub max_attempt: u32,
}

impl Machine {
    /// The number of the order's next attempt.
    pub(super) fn next_attempt(&mut self) -> u32 {
        self.stats.max_attempt += 1;
        self.stats.max_attempt
    }

    /// The current order ends without money, for `reason`, whatever state it is in: its
    /// payments are released, the POS told, and the lane takes the next order (or goes out of
    /// service, when Vipps keeps refusing).
    pub(super) fn end_order(&mut self, reason: FailureReason, now: Instant, fx: &mut Vec<Effect>) {
        let (order, attempt, reference, method) =
            match std::mem::replace(&mut self.state, State::Idle) {
                State::Failed {
                    order: Some(order),
                    attempt,
                    ..
                } => (order, attempt, None, None),
                active @ (State::Waiting { .. }
                | State::Scanned { .. }
                | State::Cancelling { .. }
                | State::Capturing { .. }) => {
                    self.state = active;
                    let Some(Active {
                        order,
                        attempt,
                        mut payment,
                        ..
                    }) = self.state.take_active(true)
                    else {
                        return;
                    };
                    let (reference, method) = (payment.reference.clone(), payment.method);
                    if reason == FailureReason::CaptureRefused {
                        // An authorization that cannot be captured is released in full.
                        payment.cancel_transaction_only = false;
                        payment.cancel_round += 1;
                    }
                    payment.refusals = 0;
                    self.hand_over(&order.order_id, attempt, payment, now, fx);
                    (order, attempt, Some(reference), Some(method))
                }
                other => {
                    self.state = other;
                    return;
                }
            };
        tracing::warn!(order = %order.order_id, ?reason, "the order ends without payment");
        fx.push(Effect::Notify(OrderUpdate {
            order_id: order.order_id.clone(),
            status: OrderStatus::Failed,
            reference,
            method,
            captured: None,
            reason: Some(reason),
        }));
        self.release_others_of(&order.order_id, now, fx);
        self.state = State::Failed {
            order: None,
            attempt,
            reason,
            until: now + self.config.failed_display,
        };
        if reason == FailureReason::CreateRefused {
            self.refused_orders += 1;
            if self.refused_orders >= REFUSED_ORDERS_OUT_OF_SERVICE {
                self.go_out_of_service(
                    "Vipps refuses to create payments for this lane (see the log for its error codes): check the sales unit's keys, products and currency",
                    now,
                );
            }
        }
    }

    /// The lane takes no orders for a while, saying why.
    pub(super) fn go_out_of_service(&mut self, why: &str, now: Instant) {
        tracing::error!(why, "the lane is out of service");
        self.out_of_service = Some((why.to_string(), now + OUT_OF_SERVICE_FOR));
    }

    /// A one-time QR of the current order ended (run out, renewed, its image gone) at `now`,
    /// after it began at `started_at`. Whether the lane may make another.
    pub(super) fn qr_ended(&mut self, started_at: Instant, now: Instant) -> bool {
        if now.saturating_duration_since(started_at) >= SHORT_LIVED_QR {
            self.stats.short_lived_qrs = 0;
            return true;
        }
        self.stats.short_lived_qrs += 1;
        if self.stats.short_lived_qrs < MAX_SHORT_LIVED_QRS {
            return true;
        }
        if self.config.qr_image && self.config.local_qr_fallback {
            tracing::warn!("Vipps' QR images keep dying young; drawing the QR here from now on");
            self.config.qr_image = false;
            self.stats.short_lived_qrs = 0;
            return true;
        }
        false
    }

    /// A QR that keeps dying young and cannot be drawn here: the order ends, and the lane
    /// goes out of service.
    pub(super) fn qr_trouble(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        self.end_order(FailureReason::QrUnavailable, now, fx);
        self.go_out_of_service(
            "Vipps' one-time QR codes expire as soon as they are made: check the sales unit, or let the lane draw its own QR ([vipps] local_qr_fallback, where the sales unit is approved for it)",
            now,
        );
    }

    /// Whether another attempt may start (the order's references have room).
    pub(super) fn attempts_left(&self) -> bool {
        self.stats.max_attempt < MAX_ATTEMPT
    }
}
