//! Resuming a payment after a restart, from what the journal kept.

use super::*;

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
    assert!(
        cancels(&fx).is_empty(),
        "never cancelled inside its window: {fx:?}"
    );
    assert_eq!(creates(&fx)[0].0.reference, "order-0001-2");
    assert!(
        h.m.others()
            .iter()
            .any(|o| o.payment.reference == "order-0001-1")
    );
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
