//! Orders and the pure payment state machine (no iced, no reqwest, no clock of its own).

pub mod machine;
pub mod order;

pub use machine::{
    AfterCancel, Api, ApiError, Config, Effect, FailureReason, Input, Machine, Method, Notice,
    Observed, OrderStatus, OrderUpdate, Payment, Resume, State, round_of,
};
pub use order::{Line, Order, OrderError};
