#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! eCom has no `cancelTransactionOnly`: the driver reads the details, then cancels, and a
//! cancel would void an approval made in between. So a payment the customer has opened in
//! the app (transactionId on INITIATE) and not finished is not cancelled: the driver answers
//! as Vipps does for a busy ePayment payment (6250, transient, a short wait), and the machine
//! asks again later while its polls see the outcome.

use std::time::Duration;
use vipps_kiosk::{
    lane::driver,
    payment::{self, Api, Effect, Input, State},
    sim::backend::PhoneAction,
    vipps::ecom::Operation,
};

mod common;

use common::recorder::Recorder;

/// A lane shows the eCom QR of `order_id`; the reference of its payment.
async fn shown(
    client: vipps_kiosk::vipps::Client,
    config: payment::Config,
    order_id: &str,
) -> (common::RunningLane, String) {
    let lane = common::RunningLane::start(client, config, None, None);
    lane.submit(order_id).await;
    lane.wait(
        "the QR",
        Duration::from_secs(10),
        |s| matches!(s, State::Waiting { payment, .. } if payment.created),
    )
    .await;
    let reference = format!("{order_id}-1");
    (lane, reference)
}

fn ecom_config() -> payment::Config {
    payment::Config {
        poll_interval: Duration::from_millis(50),
        one_time_qr_api: Api::Ecom,
        ..payment::Config::default()
    }
}

async fn operations(client: &vipps_kiosk::vipps::Client, reference: &str) -> Vec<Operation> {
    let details = client.ecom_details(reference).await.expect("details");
    details
        .transaction_log_history
        .iter()
        .filter(|e| e.operation_success)
        .map(|e| e.operation)
        .collect()
}

/// The driver's transaction-only cancel, step by step: not opened, it cancels; opened, it
/// answers busy and leaves the payment alone; approved, it answers 6060 and the capture goes
/// through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opened_payment_is_not_cancelled_and_its_approval_is_captured() {
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let (lane, untouched) = shown(client.clone(), ecom_config(), "eco-open-0001").await;
    drop(lane);
    let (lane, opened) = shown(client.clone(), ecom_config(), "eco-open-0002").await;
    drop(lane);
    let cancel = |reference: &str| Effect::Cancel {
        reference: reference.into(),
        transaction_only: true,
        idempotency_key: format!("cancelq1-{reference}"),
        api: Api::Ecom,
    };

    // Nobody took the QR: it is cancelled.
    let answer = driver::execute(client.clone(), cancel(&untouched)).await;
    let Some(Input::CancelAnswered { result: Ok(o), .. }) = answer else {
        panic!("cancelled: {answer:?}");
    };
    assert!(o.state.is_final(), "{o:?}");

    // Opened in the app, not approved yet: busy, nothing cancelled.
    assert!(sim.phone(&opened, PhoneAction::Open));
    let answer = driver::execute(client.clone(), cancel(&opened)).await;
    let Some(Input::CancelAnswered { result: Err(e), .. }) = answer else {
        panic!("busy: {answer:?}");
    };
    assert!(e.transient, "{e:?}");
    assert_eq!((e.status, e.code), (Some(423), Some(6250)), "{e:?}");
    assert!(
        e.retry_after
            .is_some_and(|w| w > Duration::ZERO && w <= Duration::from_secs(5)),
        "{e:?}"
    );
    assert!(
        !operations(&client, &opened)
            .await
            .iter()
            .any(|op| matches!(op, Operation::Cancel | Operation::Void)),
        "nothing cancelled"
    );

    // The customer approves: the cancel now meets the approval, and the capture goes through.
    assert!(sim.phone(&opened, PhoneAction::Approve));
    let answer = driver::execute(client.clone(), cancel(&opened)).await;
    let Some(Input::CancelAnswered { result: Err(e), .. }) = answer else {
        panic!("6060: {answer:?}");
    };
    assert_eq!((e.code, e.transient), (Some(6060), false), "{e:?}");
    let amount = common::order("eco-open-0002").total();
    let answer = driver::execute(
        client.clone(),
        Effect::Capture {
            reference: opened.clone(),
            amount,
            idempotency_key: format!("capture1-{opened}"),
            api: Api::Ecom,
        },
    )
    .await;
    let Some(Input::Captured { result: Ok(o), .. }) = answer else {
        panic!("captured: {answer:?}");
    };
    assert_eq!(o.aggregate.captured_amount, amount);
    let ops = operations(&client, &opened).await;
    assert!(ops.contains(&Operation::Capture), "{ops:?}");
    assert!(!ops.contains(&Operation::Void), "{ops:?}");
}

/// The lane and the driver together: the customer opens the QR, the lane's walk-away
/// timer fires before a poll has seen it (polls every 3 s, walk-away after 1 s), and its
/// cancel is held back; the customer approves, and the lane captures. No cancel was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_away_cancel_while_the_customer_approves_ends_captured() {
    let sim = common::simulator().await;
    let rec = Recorder::start(&sim.base_url()).await;
    let config = payment::Config {
        poll_interval: Duration::from_secs(3),
        max_backoff: Duration::from_secs(3),
        walk_away_after: Some(Duration::from_secs(1)),
        walk_away_warning: Duration::from_millis(500),
        approved_display: Duration::from_millis(100),
        ..ecom_config()
    };
    let order_id = "eco-walk-0001";
    let lane = common::RunningLane::start(common::client_for(&rec.base_url()), config, None, None);
    lane.submit(order_id).await;
    lane.wait(
        "the QR",
        Duration::from_secs(10),
        |s| matches!(s, State::Waiting { payment, .. } if payment.created),
    )
    .await;
    let reference = format!("{order_id}-1");
    assert!(sim.phone(&reference, PhoneAction::Open));
    lane.wait("the walk-away cancel", Duration::from_secs(5), |s| {
        matches!(s, State::Cancelling { .. })
    })
    .await;
    // The cancel has been tried (the details read it starts with; the first poll is not due
    // before 3 s) and held back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let read_for_cancel = rec
        .sent()
        .iter()
        .filter(|s| s.path.ends_with("/details"))
        .count();
    assert!(read_for_cancel >= 1, "the cancel read the details first");
    assert!(
        sim.phone(&reference, PhoneAction::Approve),
        "the payment is still open to approve"
    );
    lane.wait("captured", Duration::from_secs(15), |s| {
        matches!(s, State::Approved { .. })
    })
    .await;
    let payments = common::payments_of(&sim, order_id);
    assert_eq!(payments.len(), 1, "{payments:#?}");
    assert_eq!(
        common::amount(&payments[0], "capturedAmount"),
        common::order(order_id).total().value
    );
    let cancels: Vec<_> = rec
        .sent()
        .into_iter()
        .filter(|s| s.path.ends_with("/cancel"))
        .map(|s| (s.method, s.path))
        .collect();
    assert!(cancels.is_empty(), "no cancel sent: {cancels:?}");
}
