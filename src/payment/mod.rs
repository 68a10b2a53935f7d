//! Orders and the pure payment state machine (no iced, no reqwest, no clock of its own).

mod config;
mod effect;
mod input;
mod keys;
pub mod machine;
pub mod order;
mod reason;
mod state;

pub use config::{Api, Config, ECOM_QR_WINDOW, Method};
pub use effect::{Effect, OrderStatus, OrderUpdate};
pub use input::{ApiError, Input, Observed, Resume};
pub use keys::round_of;
pub use machine::{AfterCancel, Machine, Payment, State};
pub use order::{Line, Order, OrderError};
pub use reason::{FailureReason, Notice};
