//! Orders and the pure payment state machine (no iced, no reqwest, no clock of its own).
//!
//! The machine has no clock and does no I/O. The app feeds it `Input`s with the current time
//! and carries out the `Effect`s it returns; results come back as more inputs, each tagged with
//! the payment reference it belongs to, so stale answers are recognised and ignored.
//!
//! Where things are:
//! - `config`, `input`, `effect`, `reason`: the public types (settings, inputs, effects, order
//!   updates, failure reasons and notices); `keys`: references, idempotency keys, backoff.
//! - `attempt`: a `Payment`, built once for a new attempt or a resume, with the call (`Call`)
//!   and the read (`Read`) it has under way and whether it exists at Vipps (`AtVipps`).
//! - `state`: `State`, `AfterCancel`, and the one place that takes an active state apart.
//! - `machine`: `Machine`, `step`, starting and cancelling payments. Its handlers: `orders`
//!   (orders, scans, taps), `create` (create and exchange answers), `reads` (GETs,
//!   observations, the QR opened, webhooks), `answers` (capture and cancel answers), `resume`,
//!   `timers` (ticks: walk-away, renewal, retries, polls), `outcome` (captured, or final
//!   without money), `refund` (staff refunds of captured orders).
//!
//! Money rules (DESIGN.md §3) and where they live:
//! 1. One captured payment per order: payments of an order are strictly one after the other. A
//!    new payment is only created once Vipps has confirmed the previous one final without money
//!    (`proceed_without_money`, outcome.rs); a cancel that meets an approval (6060) captures
//!    that payment instead (`on_cancel_answered`, answers.rs).
//! 2. Every AUTHORIZED payment is captured, or fully cancelled when the POS withdrew the order
//!    (`on_observed`, reads.rs).
//! 3. A timeout is not a failure: the same request is sent again with the same key (the
//!    `transient` branches in create.rs and answers.rs leave a `Call::Retry`, which
//!    `tick_payment` in timers.rs sends), or the payment is read back.
//! 4. References and keys derive from the order id and attempt number (`reference_for`, `key`
//!    in keys.rs; a resumed `Payment` keeps the journaled request and rounds, attempt.rs).
//! 5. Nothing is given up before Vipps says final: polling never stops on its own
//!    (`tick_payment`, timers.rs).

mod answers;
mod attempt;
mod config;
mod create;
mod effect;
mod input;
mod keys;
mod limits;
pub mod machine;
pub mod order;
mod orders;
mod others;
mod outcome;
mod reads;
mod reason;
mod refund;
mod resume;
mod state;
mod timers;

pub use config::{Api, Config, ECOM_QR_WINDOW, Method, PushTo};
pub use effect::{Effect, OrderStatus, OrderUpdate};
pub use input::{ApiError, Input, Observed, Resume};
pub use keys::{ECOM_ORDER_ID_MAX, EPAYMENT_REFERENCE_MAX, reference_fits, round_of};
pub use machine::{AfterCancel, Machine, Payment, State};
pub use order::{Line, Order, OrderError};
pub use others::{Other, Role};
pub use reason::{FailureReason, Notice};
pub use refund::refund_key;
