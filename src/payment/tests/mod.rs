//! Scenario tests on a virtual clock: every state × input that matters, asserting both the new
//! state and the exact effects. This file holds the harness; the scenarios are grouped by
//! concern in the files beside it.

use super::*;
use crate::payment::order::tests::order;
use crate::vipps::model::Currency;

const QR: &str = "https://qr.vipps.no/p/AbC-123_xyz?v=2";
const TARGET: &str = "http://sim/_sim/qr/abc";

fn scan(text: &str) -> Input {
    Input::Scan(crate::scan::RawScan(text.into()))
}

struct H {
    m: Machine,
    now: Instant,
}

fn h() -> H {
    H {
        m: Machine::new(Config::default()),
        now: Instant::now(),
    }
}

fn amount() -> Amount {
    order("order-0001").total()
}

fn observed(state: PaymentState, captured: i64, cancelled: i64) -> Observed {
    let a = amount();
    let authorized = if matches!(state, PaymentState::Authorized) {
        a.value
    } else {
        0
    };
    Observed {
        redirect_url: None,
        opened: false,
        state,
        aggregate: Aggregate {
            authorized_amount: Amount::new(Currency::Nok, authorized),
            captured_amount: Amount::new(Currency::Nok, captured),
            cancelled_amount: Amount::new(Currency::Nok, cancelled),
            refunded_amount: Amount::new(Currency::Nok, 0),
        },
    }
}

fn api_err(status: u16, code: Option<u32>, transient: bool) -> ApiError {
    ApiError {
        status: Some(status),
        code,
        transient,
        message: "test".into(),
        ..ApiError::default()
    }
}

fn timeout() -> ApiError {
    ApiError {
        status: None,
        code: None,
        transient: true,
        message: "timeout".into(),
        ..ApiError::default()
    }
}

impl H {
    fn step(&mut self, input: Input) -> Vec<Effect> {
        self.m.step(input, self.now)
    }
    fn tick_after(&mut self, d: Duration) -> Vec<Effect> {
        self.now += d;
        self.step(Input::Tick)
    }
    fn state(&self) -> &State {
        self.m.state()
    }
    fn reference(&self) -> String {
        self.m
            .payment()
            .map(|p| p.reference.clone())
            .unwrap_or_default()
    }
    fn created(&mut self, redirect: Option<&str>) -> Vec<Effect> {
        let reference = self.reference();
        self.step(Input::Created {
            reference,
            result: Ok(redirect.map(str::to_string)),
            valid_for: None,
        })
    }
    fn polled(&mut self, result: Result<Observed, ApiError>) -> Vec<Effect> {
        let reference = self.reference();
        self.step(Input::Polled { reference, result })
    }
    fn cancel_answer(&mut self, result: Result<Observed, ApiError>) -> Vec<Effect> {
        let reference = self.reference();
        self.step(Input::CancelAnswered { reference, result })
    }
    fn capture_answer(&mut self, result: Result<Observed, ApiError>) -> Vec<Effect> {
        let reference = self.reference();
        self.step(Input::Captured { reference, result })
    }
    /// Time passes until a payment followed besides the current one (`reference`) is read,
    /// and the read answers `result`.
    fn other_polled(&mut self, reference: &str, result: Result<Observed, ApiError>) -> Vec<Effect> {
        for _ in 0..20 {
            let fx = self.tick_after(Duration::from_millis(250));
            if fx
                .iter()
                .any(|e| matches!(e, Effect::Poll { reference: r, .. } if r == reference))
            {
                return self.step(Input::Polled {
                    reference: reference.into(),
                    result,
                });
            }
        }
        panic!("{reference} was never read");
    }
    /// Order in, QR payment created: the QR is on screen.
    fn waiting(&mut self) {
        self.step(Input::OrderReceived(order("order-0001")));
        self.created(Some(TARGET));
    }
    /// A personal QR scanned and the push payment created.
    fn scanned(&mut self) {
        self.waiting();
        self.step(scan(QR));
        self.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
        self.created(None);
    }
}

fn creates(fx: &[Effect]) -> Vec<(&CreatePaymentRequest, &str)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Create {
                request,
                idempotency_key,
                ..
            } => Some((request.as_ref(), idempotency_key.as_str())),
            _ => None,
        })
        .collect()
}

fn polls(fx: &[Effect]) -> usize {
    fx.iter()
        .filter(|e| matches!(e, Effect::Poll { .. }))
        .count()
}

fn captures(fx: &[Effect]) -> Vec<(String, Amount, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Capture {
                reference,
                amount,
                idempotency_key,
                ..
            } => Some((reference.clone(), *amount, idempotency_key.clone())),
            _ => None,
        })
        .collect()
}

fn cancels(fx: &[Effect]) -> Vec<(String, bool, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Cancel {
                reference,
                transaction_only,
                idempotency_key,
                ..
            } => Some((
                reference.clone(),
                *transaction_only,
                idempotency_key.clone(),
            )),
            _ => None,
        })
        .collect()
}

fn statuses(fx: &[Effect]) -> Vec<OrderStatus> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Notify(u) => Some(u.status),
            _ => None,
        })
        .collect()
}

mod age;
mod ecom;
mod exchange;
mod failures;
mod paying;
mod push;
mod resume;
mod walk_away;
mod webhooks;
mod withdrawals;
