//! vipps-kiosk: a customer-facing self-checkout payment kiosk for Vipps MobilePay.
//!
//! `payment` is the pure state machine, `vipps` the API client, `lane` the machine with its
//! journal and services, `ui` the screens, `app` the iced application, `cli` the command line
//! and `sim` the embedded simulator. docs/ARCHITECTURE.md follows an order through them.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod lane;
pub mod market;
pub mod metrics;
pub mod payment;
pub mod phone;
pub mod pos;
pub mod redact;
pub mod scan;
pub mod scanner;
pub mod sim;
pub mod speech;
pub mod sync;
pub mod ui;
pub mod vipps;
pub mod watchdog;
pub mod webhooks;
