//! Orders and the pure payment state machine (no iced, no reqwest, no clock of its own).

mod answers;
mod attempt;
mod config;
mod create;
mod effect;
mod input;
mod keys;
pub mod machine;
pub mod order;
mod orders;
mod outcome;
mod reads;
mod reason;
mod resume;
mod state;
mod timers;

pub use config::{Api, Config, ECOM_QR_WINDOW, Method};
pub use effect::{Effect, OrderStatus, OrderUpdate};
pub use input::{ApiError, Input, Observed, Resume};
pub use keys::round_of;
pub use machine::{AfterCancel, Machine, Payment, State};
pub use order::{Line, Order, OrderError};
pub use reason::{FailureReason, Notice};
