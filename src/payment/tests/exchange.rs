//! The personal QR exchanged for the phone number before the push.

use super::*;

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
