//! Scenario tests on a virtual clock: every state × input that matters, asserting both the new
//! state and the exact effects.

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
    }
}

fn timeout() -> ApiError {
    ApiError {
        status: None,
        code: None,
        transient: true,
        message: "timeout".into(),
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

#[test]
fn one_time_qr_happy_path() {
    let mut h = h();
    let fx = h.step(Input::OrderReceived(order("order-0001")));
    let c = creates(&fx);
    assert_eq!(c.len(), 1);
    let (req, key) = c[0];
    assert_eq!(req.reference, "order-0001-1");
    assert_eq!(key, "create1-order-0001-1");
    assert_eq!(req.user_flow, UserFlow::Qr);
    assert_eq!(
        req.customer_interaction,
        Some(CustomerInteraction::CustomerPresent)
    );
    assert_eq!(
        req.qr_format.as_ref().map(|f| f.format),
        Some(QrFormatKind::TextTargetUrl)
    );
    assert_eq!(req.amount, amount());
    assert_eq!(req.receipt.as_ref().map(|r| r.order_lines.len()), Some(2));
    assert_eq!(statuses(&fx), vec![OrderStatus::Waiting]);

    assert!(h.created(Some(TARGET)).is_empty());
    assert_eq!(h.m.payment().and_then(|p| p.qr.as_deref()), Some(TARGET));
    assert_eq!(
        polls(&h.tick_after(Duration::from_millis(500))),
        0,
        "not before the interval"
    );
    assert_eq!(polls(&h.tick_after(Duration::from_millis(500))), 1);
    assert_eq!(
        polls(&h.tick_after(Duration::from_millis(500))),
        0,
        "one poll at a time"
    );
    assert!(
        h.polled(Ok(observed(PaymentState::Created, 0, 0)))
            .is_empty()
    );
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 1);

    let fx = h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    assert_eq!(
        captures(&fx),
        vec![(
            "order-0001-1".into(),
            amount(),
            "capture1-order-0001-1".into()
        )]
    );
    assert_eq!(statuses(&fx), vec![OrderStatus::Approved]);
    assert!(matches!(h.state(), State::Capturing { .. }));
    assert_eq!(
        polls(&h.tick_after(Duration::from_secs(2))),
        0,
        "no polling while capturing"
    );

    let fx = h.capture_answer(Ok(observed(PaymentState::Authorized, amount().value, 0)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Captured]);
    assert!(matches!(
        h.state(),
        State::Approved {
            method: Method::OneTimeQr,
            ..
        }
    ));
    h.tick_after(Duration::from_secs(5));
    assert!(matches!(h.state(), State::Approved { .. }));
    h.tick_after(Duration::from_secs(1));
    assert_eq!(h.state(), &State::Idle);
}

#[test]
fn personal_qr_cancels_the_live_qr_first_then_pushes() {
    let mut h = h();
    h.waiting();
    let fx = h.step(scan(QR));
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-1".into(), true, "cancelq1-order-0001-1".into())]
    );
    assert!(
        creates(&fx).is_empty(),
        "no push before the QR payment is confirmed cancelled"
    );
    assert!(matches!(
        h.state(),
        State::Cancelling {
            after: AfterCancel::Push(_),
            ..
        }
    ));
    assert_eq!(polls(&h.tick_after(Duration::from_secs(3))), 0);

    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    let c = creates(&fx);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].0.reference, "order-0001-2");
    assert_eq!(c[0].0.user_flow, UserFlow::PushMessage);
    assert_eq!(
        c[0].0
            .customer
            .as_ref()
            .and_then(|c| c.personal_qr.as_deref()),
        Some(QR)
    );
    assert_eq!(statuses(&fx), vec![OrderStatus::Scanned]);

    h.created(None);
    assert!(matches!(h.state(), State::Scanned { .. }));
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 1);
    let fx = h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    assert_eq!(captures(&fx).len(), 1);
    h.capture_answer(Ok(observed(PaymentState::Authorized, amount().value, 0)));
    assert!(matches!(
        h.state(),
        State::Approved {
            method: Method::PersonalQr,
            ..
        }
    ));
}

#[test]
fn scan_while_the_qr_payment_is_being_created_waits_for_it() {
    let mut h = h();
    h.step(Input::OrderReceived(order("order-0001")));
    let fx = h.step(scan(QR));
    assert!(
        fx.is_empty(),
        "nothing to cancel until the create answers: {fx:?}"
    );
    let fx = h.created(Some(TARGET));
    assert_eq!(
        cancels(&fx).len(),
        1,
        "the cancel goes out as soon as the payment exists"
    );
}

#[test]
fn qr_approved_while_switching_is_captured_and_no_push_is_sent() {
    let mut h = h();
    h.waiting();
    h.step(scan(QR));
    let fx = h.cancel_answer(Err(api_err(400, Some(6060), false)));
    assert_eq!(captures(&fx).len(), 1);
    assert_eq!(captures(&fx)[0].0, "order-0001-1");
    assert!(creates(&fx).is_empty());
    h.capture_answer(Ok(observed(PaymentState::Authorized, amount().value, 0)));
    assert!(matches!(
        h.state(),
        State::Approved {
            method: Method::OneTimeQr,
            ..
        }
    ));
}

#[test]
fn not_a_vipps_code_shows_a_notice_and_calls_nothing() {
    let mut h = h();
    h.waiting();
    for garbage in ["7038010055680", "https://example.com/x", "\u{1b}[A"] {
        assert!(h.step(scan(garbage)).is_empty());
        assert_eq!(h.m.notice(h.now), Some(Notice::NotVippsCode));
    }
    assert!(matches!(h.state(), State::Waiting { .. }));
    h.now += Duration::from_secs(6);
    assert_eq!(h.m.notice(h.now), None, "notices go away by themselves");
}

#[test]
fn scan_without_an_order_calls_nothing() {
    let mut h = h();
    assert!(h.step(scan(QR)).is_empty());
    assert_eq!(h.m.notice(h.now), Some(Notice::NoOrder));
}

#[test]
fn second_scan_while_busy_is_ignored() {
    let mut h = h();
    h.scanned();
    assert!(h.step(scan(QR)).is_empty(), "same code again: nothing");
    assert_eq!(h.m.notice(h.now), None);
    let other = "https://qr.vipps.no/p/someone-else";
    assert!(h.step(scan(other)).is_empty());
    assert_eq!(h.m.notice(h.now), Some(Notice::AlreadyInProgress));
    assert!(matches!(h.state(), State::Scanned { .. }));
}

#[test]
fn approval_racing_a_customer_cancel_is_captured() {
    let mut h = h();
    h.scanned();
    let fx = h.step(Input::CancelTapped);
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-2".into(), true, "cancelq1-order-0001-2".into())]
    );
    // The poll that was already under way reports the approval first…
    let fx = h.cancel_answer(Err(api_err(400, Some(6060), false)));
    assert_eq!(captures(&fx).len(), 1);
    // …and a late poll answer for the same payment changes nothing.
    let fx = h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    assert!(captures(&fx).is_empty());
    h.capture_answer(Ok(observed(PaymentState::Authorized, amount().value, 0)));
    assert!(matches!(h.state(), State::Approved { .. }));
}

#[test]
fn customer_cancel_goes_back_to_a_fresh_qr() {
    let mut h = h();
    h.scanned();
    h.step(Input::CancelTapped);
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    let c = creates(&fx);
    assert_eq!(c.len(), 1);
    assert_eq!(
        (c[0].0.reference.as_str(), c[0].0.user_flow),
        ("order-0001-3", UserFlow::Qr)
    );
}

#[test]
fn stale_replies_for_an_earlier_payment_are_ignored() {
    let mut h = h();
    h.scanned();
    let before = h.state().clone();
    for input in [
        Input::Polled {
            reference: "order-0001-1".into(),
            result: Ok(observed(PaymentState::Authorized, 0, 0)),
        },
        Input::Created {
            reference: "order-0001-1".into(),
            result: Ok(Some(TARGET.into())),
            valid_for: None,
        },
        Input::Captured {
            reference: "order-0001-1".into(),
            result: Ok(observed(PaymentState::Authorized, 1, 0)),
        },
        Input::CancelAnswered {
            reference: "other-0001-1".into(),
            result: Err(api_err(400, Some(6060), false)),
        },
    ] {
        assert!(h.step(input).is_empty());
    }
    assert_eq!(h.state(), &before);
}

#[test]
fn poll_errors_back_off_then_recover() {
    let mut h = h();
    h.scanned();
    let mut gaps = Vec::new();
    for _ in 0..4 {
        let mut waited = Duration::ZERO;
        loop {
            waited += Duration::from_millis(250);
            if polls(&h.tick_after(Duration::from_millis(250))) == 1 {
                break;
            }
        }
        gaps.push(waited);
        h.polled(Err(timeout()));
    }
    assert_eq!(gaps, [1000, 1000, 2000, 4000].map(Duration::from_millis));
    assert_eq!(h.m.payment().map(|p| p.failures), Some(4));
    h.tick_after(Duration::from_secs(5));
    h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    assert_eq!(h.m.payment().map(|p| p.failures), Some(0));
    assert_eq!(
        polls(&h.tick_after(Duration::from_secs(1))),
        1,
        "normal interval again"
    );
    let fx = h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    assert_eq!(captures(&fx).len(), 1);
}

#[test]
fn create_timeout_is_retried_with_the_same_key_and_body() {
    let mut h = h();
    let first = h.step(Input::OrderReceived(order("order-0001")));
    let reference = h.reference();
    h.step(Input::Created {
        reference: reference.clone(),
        result: Err(timeout()),
        valid_for: None,
    });
    assert!(h.tick_after(Duration::from_millis(500)).is_empty());
    let again = h.tick_after(Duration::from_millis(500));
    assert_eq!(creates(&again), creates(&first));
    h.step(Input::Created {
        reference,
        result: Ok(Some(TARGET.into())),
        valid_for: None,
    });
    assert!(h.m.payment().is_some_and(|p| p.created));
}

#[test]
fn push_refusals_map_to_customer_reasons() {
    for (code, reason) in [
        (4060, FailureReason::NotVippsCode),
        (7010, FailureReason::CustomerNotFound),
        (5080, FailureReason::PushNotAllowed),
        (3000, FailureReason::ServiceTrouble),
    ] {
        let mut h = h();
        h.waiting();
        h.step(scan(QR));
        h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
        let fx = h.step(Input::Created {
            reference: h.reference(),
            result: Err(api_err(400, Some(code), false)),
            valid_for: None,
        });
        assert_eq!(statuses(&fx), vec![OrderStatus::Failed]);
        assert!(
            matches!(h.state(), State::Failed { reason: r, order: Some(_), .. } if *r == reason),
            "{code}"
        );
        // The order still stands: a fresh QR follows.
        let fx = h.tick_after(Duration::from_secs(8));
        assert_eq!(
            creates(&fx).first().map(|c| c.0.reference.as_str()),
            Some("order-0001-3")
        );
    }
}

#[test]
fn rejected_in_app_shows_failure_then_a_new_qr() {
    let mut h = h();
    h.scanned();
    h.tick_after(Duration::from_secs(1));
    let fx = h.polled(Ok(observed(PaymentState::Aborted, 0, 0)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Failed]);
    assert!(matches!(
        h.state(),
        State::Failed {
            reason: FailureReason::CancelledInApp,
            ..
        }
    ));
    let fx = h.step(Input::DismissTapped);
    assert_eq!(creates(&fx).len(), 1);
    assert!(matches!(h.state(), State::Waiting { .. }));
}

#[test]
fn scan_on_a_failure_screen_pushes_straight_away() {
    let mut h = h();
    h.scanned();
    h.tick_after(Duration::from_secs(1));
    h.polled(Ok(observed(PaymentState::Aborted, 0, 0)));
    let fx = h.step(scan(QR));
    let c = creates(&fx);
    assert_eq!(c.len(), 1);
    assert_eq!(
        (c[0].0.reference.as_str(), c[0].0.user_flow),
        ("order-0001-3", UserFlow::PushMessage)
    );
}

#[test]
fn expired_unscanned_qr_is_replaced_quietly() {
    let mut h = h();
    h.waiting();
    h.tick_after(Duration::from_secs(1));
    let fx = h.polled(Ok(observed(PaymentState::Expired, 0, 0)));
    assert!(statuses(&fx).contains(&OrderStatus::Waiting));
    assert!(!statuses(&fx).contains(&OrderStatus::Failed));
    assert_eq!(creates(&fx).len(), 1);
}

#[test]
fn qr_is_renewed_before_its_window_closes() {
    let mut h = h();
    // Without walk-away: by default an untouched screen ends the order at 5 minutes.
    h.m = Machine::new(Config {
        walk_away_after: None,
        ..Config::default()
    });
    h.waiting();
    let mut fx = Vec::new();
    for _ in 0..(9 * 60) {
        fx = h.tick_after(Duration::from_secs(1));
        if !cancels(&fx).is_empty() {
            break;
        }
        if polls(&fx) == 1 {
            h.polled(Ok(observed(PaymentState::Created, 0, 0)));
        }
    }
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-1".into(), true, "cancelq1-order-0001-1".into())]
    );
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    assert_eq!(
        creates(&fx).first().map(|c| c.0.reference.as_str()),
        Some("order-0001-2")
    );
}

#[test]
fn push_is_never_given_up_before_vipps_says_final() {
    let mut h = h();
    h.scanned();
    // Well past the 5-minute window, Vipps still says CREATED: keep asking.
    for _ in 0..400 {
        if polls(&h.tick_after(Duration::from_secs(1))) == 1 {
            h.polled(Ok(observed(PaymentState::Created, 0, 0)));
        }
    }
    assert!(matches!(h.state(), State::Scanned { .. }));
    h.tick_after(Duration::from_secs(1));
    h.polled(Ok(observed(PaymentState::Expired, 0, 0)));
    assert!(matches!(
        h.state(),
        State::Failed {
            reason: FailureReason::Expired,
            ..
        }
    ));
}

#[test]
fn withdrawn_order_cancels_fully_and_ends() {
    let mut h = h();
    h.waiting();
    let fx = h.step(Input::OrderWithdrawn("order-0001".into()));
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-1".into(), false, "cancel2-order-0001-1".into())]
    );
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Cancelled]);
    assert!(creates(&fx).is_empty());
    assert!(matches!(h.state(), State::Failed { order: None, .. }));
    assert!(h.m.accepts_orders());
}

#[test]
fn withdrawal_racing_an_approval_releases_the_money() {
    let mut h = h();
    h.scanned();
    h.step(Input::OrderWithdrawn("order-0001".into()));
    let fx = h.cancel_answer(Ok(observed(PaymentState::Authorized, 0, amount().value)));
    assert!(captures(&fx).is_empty());
    assert_eq!(statuses(&fx), vec![OrderStatus::Cancelled]);
}

#[test]
fn withdrawal_during_a_switch_upgrades_to_a_full_cancel() {
    let mut h = h();
    h.waiting();
    h.step(scan(QR));
    // The transaction-only cancel is under way; the POS withdraws meanwhile.
    assert!(cancels(&h.step(Input::OrderWithdrawn("order-0001".into()))).is_empty());
    let fx = h.cancel_answer(Err(api_err(400, Some(6060), false)));
    assert!(
        captures(&fx).is_empty(),
        "a withdrawn order is never captured"
    );
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-1".into(), false, "cancel2-order-0001-1".into())]
    );
    let fx = h.cancel_answer(Ok(observed(PaymentState::Authorized, 0, amount().value)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Cancelled]);
}

#[test]
fn withdrawal_while_capturing_is_refused() {
    let mut h = h();
    h.scanned();
    h.tick_after(Duration::from_secs(1));
    h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    let fx = h.step(Input::OrderWithdrawn("order-0001".into()));
    assert!(matches!(fx.as_slice(), [Effect::Refused { .. }]));
    assert!(matches!(h.state(), State::Capturing { .. }));
}

#[test]
fn second_order_while_busy_is_refused() {
    let mut h = h();
    h.waiting();
    let fx = h.step(Input::OrderReceived(order("order-0002")));
    assert!(
        matches!(fx.as_slice(), [Effect::Refused { order_id, .. }] if order_id == "order-0002")
    );
    assert_eq!(h.m.order().map(|o| o.order_id.as_str()), Some("order-0001"));
}

#[test]
fn capture_timeout_retries_same_key_and_refusal_rereads_with_new_key() {
    let mut h = h();
    h.scanned();
    h.tick_after(Duration::from_secs(1));
    let first = captures(&h.polled(Ok(observed(PaymentState::Authorized, 0, 0))));
    h.capture_answer(Err(timeout()));
    let again = captures(&h.tick_after(Duration::from_secs(1)));
    assert_eq!(again, first, "same key after a timeout");
    let fx = h.capture_answer(Err(api_err(400, Some(6280), false)));
    assert!(fx.is_empty());
    let fx = h.tick_after(Duration::from_secs(2));
    assert_eq!(polls(&fx), 0, "a capture retry is due first");
    let retry = captures(&fx);
    assert_eq!(retry.len(), 1);
    assert_ne!(retry[0].2, first[0].2, "a refused request needs a new key");
    // Vipps says it was captured after all: done, with no further capture.
    let fx = h.capture_answer(Ok(observed(PaymentState::Authorized, amount().value, 0)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Captured]);
}

#[test]
fn busy_payment_cancel_is_retried_with_the_same_key() {
    let mut h = h();
    h.scanned();
    let first = cancels(&h.step(Input::CancelTapped));
    h.cancel_answer(Err(api_err(423, None, true)));
    assert!(cancels(&h.tick_after(Duration::from_millis(500))).is_empty());
    assert_eq!(cancels(&h.tick_after(Duration::from_millis(500))), first);
}

#[test]
fn references_and_keys_stay_within_vipps_limits() {
    let long = "A".repeat(58);
    let r = reference_for(&long, 12);
    assert!(r.len() <= 64, "{r}");
    assert_ne!(reference_for(&long, 1), reference_for(&long, 2));
    let k = key("capture", &r, 3);
    assert!(k.len() <= 50, "{k}");
    assert_ne!(k, key("capture", &r, 4));
    assert_eq!(reference_for("order-0001", 2), "order-0001-2");
}

fn waiting_ticks(h: &mut H, secs: u64) -> Vec<Effect> {
    let mut all = Vec::new();
    for _ in 0..secs {
        let fx = h.tick_after(Duration::from_secs(1));
        if polls(&fx) == 1 {
            h.polled(Ok(observed(PaymentState::Created, 0, 0)));
        }
        all.extend(fx);
    }
    all
}

#[test]
fn a_customer_who_walks_away_is_warned_then_the_order_ends_safely() {
    let mut h = h();
    h.m = Machine::new(Config {
        walk_away_after: Some(Duration::from_secs(120)),
        walk_away_warning: Duration::from_secs(30),
        qr_window: Duration::from_secs(3600),
        ..Config::default()
    });
    h.waiting();
    assert!(cancels(&waiting_ticks(&mut h, 89)).is_empty());
    assert_eq!(h.m.walk_away_warning(h.now), None, "no warning yet");
    waiting_ticks(&mut h, 2);
    assert!(
        h.m.walk_away_warning(h.now)
            .is_some_and(|left| left <= Duration::from_secs(30))
    );
    // "I need more time" starts the wait again.
    h.step(Input::MoreTimeTapped);
    assert_eq!(h.m.walk_away_warning(h.now), None);
    let fx = waiting_ticks(&mut h, 121);
    // Only a transaction-only cancel: a last-second approval would still be captured.
    assert_eq!(
        cancels(&fx),
        vec![("order-0001-1".into(), true, "cancelq1-order-0001-1".into())]
    );
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Expired]);
    assert!(creates(&fx).is_empty());
    assert!(matches!(
        h.state(),
        State::Failed {
            order: None,
            reason: FailureReason::Expired,
            ..
        }
    ));
}

#[test]
fn an_approval_at_the_moment_of_walking_away_is_captured() {
    let mut h = h();
    h.m = Machine::new(Config {
        walk_away_after: Some(Duration::from_secs(60)),
        qr_window: Duration::from_secs(3600),
        ..Config::default()
    });
    h.waiting();
    waiting_ticks(&mut h, 61);
    let fx = h.cancel_answer(Err(api_err(400, Some(6060), false)));
    assert_eq!(captures(&fx).len(), 1);
}

#[test]
fn no_walk_away_while_the_push_is_out_or_when_disabled() {
    let mut h = h();
    h.m = Machine::new(Config {
        walk_away_after: Some(Duration::from_secs(60)),
        ..Config::default()
    });
    h.scanned();
    for _ in 0..200 {
        let fx = h.tick_after(Duration::from_secs(1));
        assert!(cancels(&fx).is_empty());
        if polls(&fx) == 1 {
            h.polled(Ok(observed(PaymentState::Created, 0, 0)));
        }
    }
    let mut off = self::h();
    off.m = Machine::new(Config {
        walk_away_after: None,
        ..Config::default()
    });
    off.waiting();
    assert!(
        cancels(&waiting_ticks(&mut off, 530)).is_empty(),
        "only QR renewals would cancel, not before 9 min"
    );
}

// ---- resuming after a restart ---------------------------------------------------------------

/// The create request of attempt `attempt` as the machine built it before the restart.
fn journaled_request(h: &mut H, personal: bool) -> CreatePaymentRequest {
    if personal {
        h.scanned();
    } else {
        h.waiting();
    }
    let p = h.m.payment().cloned().expect("a payment");
    p.request
}

fn resume(request: CreatePaymentRequest, withdrawn: bool) -> Input {
    Input::Resume(Box::new(Resume {
        order: order("order-0001"),
        api: Api::Epayment,
        attempt: if request.user_flow == UserFlow::PushMessage {
            2
        } else {
            1
        },
        request,
        age: Duration::from_secs(30),
        withdrawn,
        capture_round: 1,
        cancel_round: 1,
    }))
}

#[test]
fn resume_reads_the_payment_first_and_shows_the_qr_vipps_returns() {
    let request = journaled_request(&mut h(), false);
    let mut h = h();
    let fx = h.step(resume(request, false));
    assert_eq!(polls(&fx), 1, "a GET before anything else: {fx:?}");
    assert!(creates(&fx).is_empty());
    assert!(matches!(h.state(), State::Waiting { attempt: 1, .. }));
    let fx = h.polled(Ok(Observed {
        redirect_url: Some(TARGET.into()),
        ..observed(PaymentState::Created, 0, 0)
    }));
    assert!(fx.is_empty(), "{fx:?}");
    let p = h.m.payment().expect("payment");
    assert_eq!(p.qr.as_deref(), Some(TARGET));
    assert_eq!(p.reference, "order-0001-1");
    // The QR window counts from the first create, not from the restart.
    assert_eq!(
        p.deadline,
        h.now + Config::default().qr_window - Duration::from_secs(30)
    );
}

#[test]
fn resume_sends_the_journaled_create_again_when_vipps_never_saw_it() {
    let request = journaled_request(&mut h(), true);
    let mut h = h();
    h.step(resume(request.clone(), false));
    assert!(matches!(h.state(), State::Scanned { attempt: 2, .. }));
    let fx = h.polled(Err(api_err(404, None, false)));
    let c = creates(&fx);
    assert_eq!(c.len(), 1, "{fx:?}");
    assert_eq!(c[0].0, &request, "the same body");
    assert_eq!(c[0].1, "create1-order-0001-2", "the same key");
    // From then on it is an ordinary push payment.
    h.created(None);
    let fx = h.tick_after(Duration::from_secs(1));
    assert_eq!(polls(&fx), 1);
}

#[test]
fn a_404_after_the_first_read_is_not_taken_as_never_created() {
    let request = journaled_request(&mut h(), false);
    let mut h = h();
    h.step(resume(request, false));
    h.polled(Ok(Observed {
        redirect_url: Some(TARGET.into()),
        ..observed(PaymentState::Created, 0, 0)
    }));
    h.tick_after(Duration::from_secs(1));
    let fx = h.polled(Err(api_err(404, None, false)));
    assert!(creates(&fx).is_empty(), "{fx:?}");
}

#[test]
fn resume_captures_an_authorized_payment_with_the_journaled_key() {
    let request = journaled_request(&mut h(), true);
    let mut h = h();
    let Input::Resume(mut r) = resume(request, false) else {
        unreachable!()
    };
    r.capture_round = 3;
    h.step(Input::Resume(r));
    let fx = h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    assert_eq!(
        captures(&fx),
        vec![(
            "order-0001-2".to_string(),
            amount(),
            "capture3-order-0001-2".to_string()
        )]
    );
    assert_eq!(statuses(&fx), vec![OrderStatus::Approved]);
}

#[test]
fn resume_of_a_payment_captured_before_the_restart_reports_it_without_capturing_again() {
    let request = journaled_request(&mut h(), false);
    let mut h = h();
    h.step(resume(request, false));
    let fx = h.polled(Ok(observed(PaymentState::Authorized, amount().value, 0)));
    assert!(captures(&fx).is_empty(), "{fx:?}");
    assert_eq!(statuses(&fx), vec![OrderStatus::Captured]);
    assert!(matches!(h.state(), State::Approved { .. }));
}

#[test]
fn resume_of_a_withdrawn_order_sends_the_full_cancel_again() {
    let request = journaled_request(&mut h(), false);
    let mut h = h();
    let fx = h.step(resume(request, true));
    assert_eq!(
        cancels(&fx),
        vec![(
            "order-0001-1".to_string(),
            false,
            "cancel1-order-0001-1".to_string()
        )]
    );
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Cancelled]);
    assert!(matches!(h.state(), State::Failed { order: None, .. }));
}

#[test]
fn resume_of_a_withdrawn_order_that_never_reached_vipps_just_ends_it() {
    let request = journaled_request(&mut h(), false);
    let mut h = h();
    h.step(resume(request, true));
    let fx = h.cancel_answer(Err(api_err(404, None, false)));
    assert_eq!(statuses(&fx), vec![OrderStatus::Cancelled]);
}

#[test]
fn resumed_one_time_qr_without_a_link_is_replaced() {
    let request = journaled_request(&mut h(), false);
    let mut h = h();
    h.step(resume(request, false));
    let fx = h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    assert_eq!(
        cancels(&fx),
        vec![(
            "order-0001-1".to_string(),
            true,
            "cancelq1-order-0001-1".to_string()
        )]
    );
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    assert_eq!(creates(&fx)[0].0.reference, "order-0001-2");
}

#[test]
fn resume_is_refused_while_a_payment_is_under_way() {
    let request = journaled_request(&mut h(), false);
    let mut h = h();
    h.waiting();
    let before = h.state().clone();
    let fx = h.step(resume(request, false));
    assert!(matches!(fx.as_slice(), [Effect::Refused { .. }]), "{fx:?}");
    assert_eq!(h.state(), &before);
}

#[test]
fn key_rounds_parse_back() {
    assert_eq!(round_of("capture3-order-0001-2", "capture"), Some(3));
    assert_eq!(
        round_of(&key("cancel", &"x".repeat(64), 12), "cancel"),
        Some(12)
    );
    assert_eq!(round_of("cancelq1-order-1", "cancel"), None);
    assert_eq!(round_of("capture-order", "capture"), None);
}

#[test]
fn a_scan_during_the_first_read_after_a_restart_waits_for_it() {
    let request = journaled_request(&mut h(), false);
    // Vipps never saw the payment: no cancel at all, straight to the push.
    let mut h = h();
    h.step(resume(request.clone(), false));
    let fx = h.step(scan(QR));
    assert!(cancels(&fx).is_empty(), "{fx:?}");
    let fx = h.polled(Err(api_err(404, None, false)));
    assert!(cancels(&fx).is_empty(), "{fx:?}");
    assert_eq!(creates(&fx)[0].0.user_flow, UserFlow::PushMessage);

    // Vipps has it: the cancel goes out once that is known.
    let mut h = super::tests::h();
    h.step(resume(request, false));
    h.step(scan(QR));
    let fx = h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    assert_eq!(cancels(&fx).len(), 1, "{fx:?}");
    assert!(cancels(&fx)[0].1, "transaction only");
}

#[test]
fn a_failed_first_read_after_a_restart_is_tried_again() {
    let request = journaled_request(&mut h(), false);
    let mut h = h();
    h.step(resume(request, false));
    assert!(h.polled(Err(timeout())).is_empty());
    let fx = h.tick_after(Duration::from_secs(5));
    assert_eq!(polls(&fx), 1, "{fx:?}");
    let fx = h.polled(Err(api_err(404, None, false)));
    assert_eq!(
        creates(&fx).len(),
        1,
        "still treated as the first read: {fx:?}"
    );
}

// ---- webhooks -------------------------------------------------------------------------------

fn webhook(h: &H, name: crate::vipps::model::PaymentEventName) -> Input {
    Input::Webhook {
        reference: h.reference(),
        name,
    }
}

fn with_webhooks() -> H {
    H {
        m: Machine::new(Config {
            relaxed_poll_interval: Some(Duration::from_secs(4)),
            ..Config::default()
        }),
        now: Instant::now(),
    }
}

#[test]
fn an_approval_webhook_reads_the_payment_at_once_and_only_the_read_moves_money() {
    use crate::vipps::model::PaymentEventName as E;
    let mut h = with_webhooks();
    h.waiting();
    let fx = h.step(webhook(&h, E::Authorized));
    assert_eq!(polls(&fx), 1, "{fx:?}");
    assert!(captures(&fx).is_empty(), "an event alone never captures");
    // A duplicate while the read is under way asks for nothing more now...
    assert!(h.step(webhook(&h, E::Authorized)).is_empty());
    // ...and the read decides.
    let fx = h.polled(Ok(observed(PaymentState::Authorized, 0, 0)));
    assert_eq!(captures(&fx).len(), 1);
    // Late and repeated events change nothing while the capture is under way.
    assert!(h.step(webhook(&h, E::Authorized)).is_empty());
    assert!(h.step(webhook(&h, E::Created)).is_empty());
}

#[test]
fn an_event_during_a_read_gets_another_read_right_after() {
    use crate::vipps::model::PaymentEventName as E;
    let mut h = with_webhooks();
    h.waiting();
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 1);
    assert!(h.step(webhook(&h, E::Aborted)).is_empty());
    // The read that was under way may predate the event: read again without waiting.
    h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    assert_eq!(polls(&h.tick_after(Duration::from_millis(1))), 1);
}

#[test]
fn polling_relaxes_only_for_a_payment_whose_events_arrive() {
    use crate::vipps::model::PaymentEventName as E;
    let mut h = with_webhooks();
    h.waiting();
    // No event yet: the normal interval.
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 1);
    h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 1);
    // The created event arrives: the next reads come at the relaxed interval, never stop.
    h.step(webhook(&h, E::Created));
    h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    assert_eq!(polls(&h.tick_after(Duration::from_secs(2))), 0);
    assert_eq!(polls(&h.tick_after(Duration::from_secs(2))), 1);
    h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    // A delivery fails verification: back to the normal interval at once.
    h.step(Input::WebhookTrouble);
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 1);
}

#[test]
fn a_change_no_webhook_reported_ends_the_relaxed_polling() {
    use crate::vipps::model::PaymentEventName as E;
    let mut h = with_webhooks();
    h.scanned();
    h.step(webhook(&h, E::Created));
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 1);
    h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    assert_eq!(polls(&h.tick_after(Duration::from_secs(1))), 0, "relaxed");
    assert_eq!(polls(&h.tick_after(Duration::from_secs(3))), 1);
    // The customer rejected, and no event said so: webhooks are not keeping up.
    h.polled(Ok(observed(PaymentState::Aborted, 0, 0)));
    assert!(matches!(h.state(), State::Failed { .. }));
    assert!(!h.m.payment().is_some_and(|p| p.webhook_seen));
}

#[test]
fn webhooks_for_an_earlier_payment_are_ignored() {
    use crate::vipps::model::PaymentEventName as E;
    let mut h = with_webhooks();
    h.waiting();
    let fx = h.step(Input::Webhook {
        reference: "order-0001-0".into(),
        name: E::Authorized,
    });
    assert!(fx.is_empty());
}

// ---- personal QR exchange -----------------------------------------------------------------

fn with_exchange() -> H {
    H {
        m: Machine::new(Config {
            exchange_personal_qr: true,
            ..Config::default()
        }),
        now: Instant::now(),
    }
}

fn exchanges(fx: &[Effect]) -> usize {
    fx.iter()
        .filter(|e| matches!(e, Effect::Exchange { .. }))
        .count()
}

/// Order in, QR shown, a personal QR scanned and the QR payment cancelled: the exchange is
/// under way.
fn exchanging(h: &mut H) -> Vec<Effect> {
    h.waiting();
    h.step(scan(QR));
    h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)))
}

fn exchanged(h: &mut H, result: Result<&str, ApiError>) -> Vec<Effect> {
    let reference = h.reference();
    h.step(Input::Exchanged {
        reference,
        result: result.map(crate::vipps::Secret::new),
    })
}

#[test]
fn an_exchanged_code_is_pushed_to_the_phone_number() {
    let mut h = with_exchange();
    let fx = exchanging(&mut h);
    assert_eq!(exchanges(&fx), 1, "{fx:?}");
    assert!(
        creates(&fx).is_empty(),
        "no create before the number is known"
    );
    let fx = exchanged(&mut h, Ok("4712345678"));
    let c = creates(&fx);
    assert_eq!(c.len(), 1);
    let customer = c[0].0.customer.as_ref().expect("customer");
    assert_eq!(customer.phone_number.as_deref(), Some("4712345678"));
    assert_eq!(customer.personal_qr, None);
    assert_eq!(c[0].0.user_flow, UserFlow::PushMessage);
}

#[test]
fn a_refused_exchange_is_not_a_vipps_code_and_creates_nothing() {
    let mut h = with_exchange();
    exchanging(&mut h);
    let fx = exchanged(&mut h, Err(api_err(400, None, false)));
    assert!(creates(&fx).is_empty());
    assert!(matches!(
        h.state(),
        State::Failed {
            reason: FailureReason::NotVippsCode,
            ..
        }
    ));
}

#[test]
fn a_failed_exchange_is_tried_again() {
    let mut h = with_exchange();
    exchanging(&mut h);
    assert!(exchanged(&mut h, Err(timeout())).is_empty());
    let fx = h.tick_after(Duration::from_secs(5));
    assert_eq!(exchanges(&fx), 1, "{fx:?}");
    let fx = exchanged(&mut h, Ok("4712345678"));
    assert_eq!(creates(&fx).len(), 1);
}

#[test]
fn cancel_during_the_exchange_goes_back_to_the_qr_without_a_push() {
    let mut h = with_exchange();
    exchanging(&mut h);
    h.step(Input::CancelTapped);
    let fx = exchanged(&mut h, Ok("4712345678"));
    let c = creates(&fx);
    assert_eq!(c.len(), 1, "{fx:?}");
    assert_eq!(
        c[0].0.user_flow,
        UserFlow::Qr,
        "a fresh one-time QR, no push"
    );
}

// ---- eCom one-time QR and Vipps' QR images ----------------------------------------------

fn ecom() -> H {
    H {
        m: Machine::new(Config {
            one_time_qr_api: Api::Ecom,
            qr_image: true,
            ..Config::default()
        }),
        now: Instant::now(),
    }
}

#[test]
fn ecom_payments_carry_their_api_and_push_payments_stay_epayment() {
    let mut h = ecom();
    let fx = h.step(Input::OrderReceived(order("order-0001")));
    assert!(
        matches!(fx.as_slice(), [Effect::Create { api: Api::Ecom, request, .. }, ..]
            if request.qr_format.as_ref().map(|f| f.format) == Some(QrFormatKind::ImagePng)),
        "{fx:?}"
    );
    h.created(Some(TARGET));
    let fx = h.tick_after(Duration::from_secs(1));
    assert!(
        matches!(fx.as_slice(), [Effect::Poll { api: Api::Ecom, .. }]),
        "{fx:?}"
    );
    // A personal QR: the eCom payment is cancelled with its API, the push is ePayment.
    h.polled(Ok(observed(PaymentState::Created, 0, 0)));
    let fx = h.step(scan(QR));
    assert!(
        matches!(
            fx.as_slice(),
            [Effect::Cancel {
                api: Api::Ecom,
                transaction_only: true,
                ..
            }]
        ),
        "{fx:?}"
    );
    let fx = h.cancel_answer(Ok(observed(PaymentState::Terminated, 0, 0)));
    assert!(
        matches!(
            fx.as_slice(),
            [
                Effect::Create {
                    api: Api::Epayment,
                    ..
                },
                ..
            ]
        ),
        "{fx:?}"
    );
}

#[test]
fn an_opened_ecom_qr_moves_to_approve_in_the_app_once() {
    let mut h = ecom();
    h.waiting();
    h.tick_after(Duration::from_secs(1));
    let fx = h.polled(Ok(Observed {
        opened: true,
        ..observed(PaymentState::Created, 0, 0)
    }));
    assert_eq!(statuses(&fx), vec![OrderStatus::Scanned]);
    let State::Scanned { payment, .. } = h.state() else {
        panic!("{:?}", h.state());
    };
    assert!(payment.opened && payment.method == Method::OneTimeQr);
    // The app gives the customer the push window from now on to approve.
    assert_eq!(payment.deadline, h.now + Config::default().push_window);
    // Later polls that still say "opened" change nothing; the approval captures.
    h.tick_after(Duration::from_secs(1));
    let fx = h.polled(Ok(Observed {
        opened: true,
        ..observed(PaymentState::Created, 0, 0)
    }));
    assert!(statuses(&fx).is_empty(), "{fx:?}");
    h.tick_after(Duration::from_secs(1));
    let fx = h.polled(Ok(Observed {
        opened: true,
        ..observed(PaymentState::Authorized, 0, 0)
    }));
    assert_eq!(captures(&fx).len(), 1);
}

#[test]
fn the_qr_valid_time_vipps_gives_brings_the_renewal_forward() {
    let mut h = ecom();
    h.step(Input::OrderReceived(order("order-0001")));
    let reference = h.reference();
    h.step(Input::Created {
        reference,
        result: Ok(Some(TARGET.into())),
        valid_for: Some(Duration::from_secs(120)),
    });
    let renew_before = Config::default().qr_renew_before;
    // Not yet: a minute and a bit before the 120 s are up.
    let fx = h.tick_after(Duration::from_secs(120) - renew_before - Duration::from_secs(5));
    assert!(cancels(&fx).is_empty(), "{fx:?}");
    let fx = h.tick_after(Duration::from_secs(10));
    assert_eq!(
        cancels(&fx).len(),
        1,
        "renewed before the QR runs out: {fx:?}"
    );
}

#[test]
fn a_dead_qr_image_link_replaces_the_qr_and_stale_ones_are_ignored() {
    let mut h = ecom();
    h.waiting();
    let fx = h.step(Input::QrUnavailable {
        reference: "someone-else-1".into(),
    });
    assert!(fx.is_empty());
    let fx = h.step(Input::QrUnavailable {
        reference: h.reference(),
    });
    assert_eq!(cancels(&fx).len(), 1, "{fx:?}");
    assert!(matches!(
        h.state(),
        State::Cancelling {
            after: AfterCancel::Renew,
            ..
        }
    ));
}
