//! vipps-kiosk: a customer-facing self-checkout payment kiosk for Vipps MobilePay.

pub mod payment;
pub mod redact;
pub mod scanner;
pub mod sim;
pub mod vipps;
