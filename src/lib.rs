//! vipps-kiosk: a customer-facing self-checkout payment kiosk for Vipps MobilePay.
//!
//! `payment` is the pure state machine, `vipps` the API client, `sim` the embedded simulator,
//! `ui` the screens and `app` the iced application that ties them together.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod lane;
pub mod market;
pub mod payment;
pub mod pos;
pub mod redact;
pub mod scan;
pub mod scanner;
pub mod sim;
pub mod sync;
pub mod ui;
pub mod vipps;
pub mod webhooks;
