//! eCom's models against the spec's examples, request ids, the log's mapping to ePayment states.

use super::*;

fn entry(op: Operation, ok: bool, amount: i64, tx: Option<&str>) -> LogEntry {
    LogEntry {
        amount,
        operation: op,
        operation_success: ok,
        transaction_text: "Purchase".into(),
        request_id: None,
        time_stamp: None,
        transaction_id: tx.map(str::to_string),
    }
}

fn details(newest_first: Vec<LogEntry>) -> TransactionDetails {
    TransactionDetails {
        order_id: Some("lane-1-1".into()),
        transaction_log_history: newest_first,
        transaction_summary: None,
    }
}

#[test]
fn transaction_id_on_initiate_means_opened() {
    let fresh = details(vec![entry(Operation::Initiate, true, 5000, None)]).view();
    assert_eq!((fresh.state, fresh.opened), (PaymentState::Created, false));
    let opened = details(vec![entry(
        Operation::Initiate,
        true,
        5000,
        Some("5001446662"),
    )])
    .view();
    assert_eq!((opened.state, opened.opened), (PaymentState::Created, true));
}

#[test]
fn reserve_capture_and_void_map_onto_the_aggregate() {
    let reserved = details(vec![
        entry(Operation::Reserve, true, 5000, Some("5001446662")),
        entry(Operation::Initiate, true, 5000, Some("5001446662")),
    ])
    .view();
    assert_eq!(reserved.state, PaymentState::Authorized);
    assert_eq!(reserved.aggregate.authorized_amount.value, 5000);
    assert_eq!(reserved.aggregate.captured_amount.value, 0);

    let captured = details(vec![
        entry(Operation::Capture, true, 5000, Some("5001446662")),
        entry(Operation::Reserve, true, 5000, Some("5001446662")),
        entry(Operation::Initiate, true, 5000, Some("5001446662")),
    ])
    .view();
    assert_eq!(captured.aggregate.captured_amount.value, 5000);

    let voided = details(vec![
        entry(Operation::Void, true, 5000, Some("5001446662")),
        entry(Operation::Reserve, true, 5000, Some("5001446662")),
        entry(Operation::Initiate, true, 5000, Some("5001446662")),
    ])
    .view();
    assert_eq!(voided.state, PaymentState::Authorized);
    assert_eq!(voided.aggregate.cancelled_amount.value, 5000);
}

#[test]
fn a_failed_capture_moves_no_money() {
    let v = details(vec![
        entry(Operation::Capture, false, 5000, Some("5001446662")),
        entry(Operation::Reserve, true, 5000, Some("5001446662")),
    ])
    .view();
    assert_eq!(v.aggregate.captured_amount.value, 0);
}

#[test]
fn cancel_before_approval_ends_the_payment() {
    let untouched = details(vec![
        entry(Operation::Cancel, true, 5000, None),
        entry(Operation::Initiate, true, 5000, None),
    ])
    .view();
    assert_eq!(untouched.state, PaymentState::Expired);
    let after_opening = details(vec![
        entry(Operation::Cancel, true, 5000, Some("5001446662")),
        entry(Operation::Initiate, true, 5000, Some("5001446662")),
    ])
    .view();
    assert_eq!(after_opening.state, PaymentState::Aborted);
}

#[test]
fn parses_the_spec_shapes() {
    let d: TransactionDetails = serde_json::from_str(
        r#"{"orderId":"acme-1","transactionLogHistory":[{"amount":20000,"operation":"RESERVE",
        "operationSuccess":true,"requestId":"12983921873981899000","timeStamp":"2019-02-05T12:27:42.311Z",
        "transactionId":"5001446662","transactionText":"One pair of Vipps socks"}],
        "transactionSummary":{"capturedAmount":0,"refundedAmount":0,"remainingAmountToCapture":20000,
        "remainingAmountToRefund":0,"bankIdentificationNumber":492153}}"#,
    )
    .expect("details");
    assert_eq!(d.view().aggregate.authorized_amount.value, 20000);
    let e: Vec<EcomError> = serde_json::from_str(
        r#"[{"errorGroup":"Payment","errorCode":"44","errorMessage":"Refused","contextId":"f70b"}]"#,
    )
    .expect("errors");
    assert_eq!(e[0].error_code, "44");
    assert_eq!(QrAccept::parse("image/*"), Some(QrAccept::Svg));
    assert_eq!(QrAccept::parse("text/html"), None);
}

#[test]
fn request_ids_fit_forty_characters_and_are_stable() {
    assert_eq!(request_id("capture1-lane-1-42-1"), "capture1-lane-1-42-1");
    let long = "capture1-0123456789012345678901234567890123456789";
    assert_eq!(request_id(long).len(), 40);
    assert_eq!(request_id(long), request_id(long));
    assert_ne!(
        request_id(long),
        request_id("capture2-0123456789012345678901234567890123456789")
    );
}

/// An operation eCom adds later parses as `Unknown` and moves no money in the view; the
/// payment stays followed (not final).
#[test]
fn a_new_operation_is_ignored_not_fatal() {
    let body = r#"{"orderId":"o-1","transactionLogHistory":[
        {"amount":1000,"operation":"SPLIT","operationSuccess":true,"transactionText":"x"},
        {"amount":1000,"operation":"INITIATE","operationSuccess":true,"transactionText":"x"}]}"#;
    let d: TransactionDetails = serde_json::from_str(body).expect("a new operation parses");
    assert_eq!(d.transaction_log_history[0].operation, Operation::Unknown);
    let v = d.view();
    assert_eq!(v.state, crate::vipps::model::PaymentState::Created);
    assert!(!v.state.is_final());
    assert_eq!(v.aggregate.authorized_amount.value, 0);
}
