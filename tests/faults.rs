#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The client and the lane through every fault the simulator injects (`/_sim/faults`): slow
//! answers, 503s, 429 with Retry-After, answers lost after the call took effect, and tokens
//! expiring underneath. Each run pays orders both ways (on-screen QR, and personal QR) and
//! checks the simulator's books: exactly one capture per order, of the full amount, and no
//! money left authorized.

use serde_json::Value;
use std::time::Duration;
use vipps_kiosk::{
    lane::ScanEvent,
    payment::{self, Api, State},
    scan::RawScan,
    sim::{ApiFault, ApiFaults, FaultCounts, Simulator, backend::PhoneAction},
};

mod common;

async fn pay_both_ways(sim: &Simulator, tag: &str) {
    pay_both_ways_with(sim, tag, Api::Epayment, Duration::ZERO).await;
}

/// `api`: the API of the one-time QR (push payments are always ePayment). The customer
/// approves `approve_after` the payment is shown.
async fn pay_both_ways_with(sim: &Simulator, tag: &str, api: Api, approve_after: Duration) {
    let lane = common::RunningLane::start(
        common::client_for(&sim.base_url()),
        payment::Config {
            poll_interval: Duration::from_millis(50),
            max_backoff: Duration::from_millis(400),
            approved_display: Duration::from_millis(100),
            failed_display: Duration::from_millis(100),
            one_time_qr_api: api,
            ..payment::Config::default()
        },
        None,
        None,
    );
    for (i, personal) in [(1, false), (2, true), (3, false), (4, true)] {
        let id = format!("flt-{tag}-{i:04}");
        lane.submit(&id).await;
        let limit = Duration::from_secs(30);
        lane.wait(
            "QR payment created",
            limit,
            |s| matches!(s, State::Waiting { payment, .. } if payment.created),
        )
        .await;
        if personal {
            lane.scans
                .send(ScanEvent::Scan(RawScan(common::PERSONAL_QR.into())))
                .await
                .unwrap();
            lane.wait(
                "push payment created",
                limit,
                |s| matches!(s, State::Scanned { payment, .. } if payment.created),
            )
            .await;
        }
        // The attempt number shifts when a payment had to be replaced (an eCom initiate
        // whose answer was lost cannot be shown): the lane's current payment is the one.
        let reference = match lane.state() {
            State::Waiting { payment, .. } | State::Scanned { payment, .. } => payment.reference,
            other => panic!("no payment to approve: {other:?}"),
        };
        tokio::time::sleep(approve_after).await;
        assert!(sim.phone(&reference, PhoneAction::Approve), "{reference}");
        lane.wait("approved", limit, |s| matches!(s, State::Approved { .. }))
            .await;
        lane.wait("idle", limit, |s| matches!(s, State::Idle)).await;
        check_books(sim, &id, &reference);
    }
}

use common::amount;

fn check_books(sim: &Simulator, id: &str, paid: &str) {
    let payments = common::payments_of(sim, id);
    let captured: Vec<&Value> = payments
        .iter()
        .filter(|p| amount(p, "capturedAmount") > 0)
        .collect();
    assert_eq!(captured.len(), 1, "one capture for {id}: {payments:#?}");
    assert_eq!(captured[0]["reference"], paid);
    assert_eq!(
        amount(captured[0], "capturedAmount"),
        captured[0]["amount"]["value"].as_i64().unwrap()
    );
    common::assert_nothing_left_authorized(&payments);
}

async fn with(rules: Vec<ApiFault>, tag: &str) -> FaultCounts {
    let sim = common::simulator().await;
    sim.set_faults(ApiFaults {
        rules,
        expire_tokens: false,
    });
    pay_both_ways(&sim, tag).await;
    sim.fault_counts()
}

fn rule(endpoint: &str) -> ApiFault {
    ApiFault {
        endpoint: endpoint.into(),
        ..ApiFault::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_on_every_endpoint() {
    let counts = with(
        vec![ApiFault {
            server_error: 0.4,
            ..rule("*")
        }],
        "5xx",
    )
    .await;
    assert!(counts.server_errors > 5, "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_with_retry_after() {
    let counts = with(
        vec![ApiFault {
            rate_limited: 0.4,
            retry_after_s: 0,
            ..rule("*")
        }],
        "429",
    )
    .await;
    assert!(counts.rate_limited > 5, "{counts:?}");
}

/// The worst case: Vipps did it, the kiosk never heard. Retried with the same key, it must be
/// answered from the idempotency record, not done twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_lost_after_the_call_took_effect() {
    for endpoint in ["create", "capture", "cancel", "get"] {
        let counts = with(
            vec![ApiFault {
                drop_answer: 0.5,
                ..rule(endpoint)
            }],
            &format!("drop-{endpoint}"),
        )
        .await;
        assert!(counts.dropped_answers > 0, "{endpoint}: {counts:?}");
    }
}

/// The eCom one-time QR through the same faults: 5xx and 429 everywhere, and answers lost
/// after initiate, capture, cancel and details took effect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecom_through_every_fault() {
    let mut runs = vec![
        (
            "5xx",
            ApiFault {
                server_error: 0.3,
                ..rule("*")
            },
        ),
        (
            "429",
            ApiFault {
                rate_limited: 0.3,
                retry_after_s: 0,
                ..rule("*")
            },
        ),
    ];
    for endpoint in ["create", "capture", "cancel", "get", "qr"] {
        runs.push((
            endpoint,
            ApiFault {
                // The one-time QR is asked for once per payment: more often, so it strikes.
                drop_answer: if endpoint == "qr" { 0.7 } else { 0.5 },
                ..rule(endpoint)
            },
        ));
    }
    for (tag, fault) in runs {
        let sim = common::simulator().await;
        sim.set_faults(ApiFaults {
            rules: vec![fault],
            expire_tokens: false,
        });
        // eCom's initiate has no idempotency key: every resend after a lost answer is a new
        // call (answered 34), and under Vipps' 5-a-minute limit half of them lost would make
        // this test wait out whole minutes. The limits have their own test.
        sim.set_rate_limits(vipps_kiosk::sim::RateLimits {
            enabled: false,
            ..Default::default()
        });
        pay_both_ways_with(&sim, &format!("ecom-{tag}"), Api::Ecom, Duration::ZERO).await;
        let c = sim.fault_counts();
        assert!(
            c.server_errors + c.rate_limited + c.dropped_answers > 0,
            "{tag}: the fault struck: {c:?}"
        );
    }
}

/// Every capture answer lost, for good: the lane still finishes each order with one capture
/// (the capture call itself confirms from the payment's log; the machine's read-back would
/// too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_whose_answers_are_all_lost_still_finishes_once() {
    for api in [Api::Epayment, Api::Ecom] {
        let sim = common::simulator().await;
        sim.set_faults(ApiFaults {
            rules: vec![ApiFault {
                drop_answer: 1.0,
                ..rule("capture")
            }],
            expire_tokens: false,
        });
        pay_both_ways_with(&sim, &format!("log-{api:?}"), api, Duration::ZERO).await;
        assert!(sim.fault_counts().dropped_answers >= 4, "{api:?}");
    }
}

/// The capture call alone: when every answer is lost, the payment's log (ePayment events,
/// eCom details) shows the capture sent with this key, and the call reports it done rather
/// than failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_capture_answer_is_confirmed_from_the_payment_log() {
    use vipps_kiosk::{
        lane::driver,
        payment::{Effect, Input},
    };
    for api in [Api::Epayment, Api::Ecom] {
        let sim = common::simulator().await;
        let lane = common::RunningLane::start(
            common::client_for(&sim.base_url()),
            payment::Config {
                poll_interval: Duration::from_millis(50),
                one_time_qr_api: api,
                ..payment::Config::default()
            },
            None,
            None,
        );
        lane.submit("flt-log-0001").await;
        lane.wait(
            "the QR",
            Duration::from_secs(10),
            |s| matches!(s, State::Waiting { payment, .. } if payment.created),
        )
        .await;
        drop(lane);
        let reference = "flt-log-0001-1";
        assert!(sim.phone(reference, PhoneAction::Approve));
        sim.set_faults(ApiFaults {
            rules: vec![ApiFault {
                drop_answer: 1.0,
                ..rule("capture")
            }],
            expire_tokens: false,
        });
        let amount = common::order("flt-log-0001").total();
        let capture = |key: &str| Effect::Capture {
            reference: reference.into(),
            amount,
            idempotency_key: key.into(),
            api,
        };
        let client = common::client_for(&sim.base_url());
        let answer = driver::execute(client.clone(), capture("capture1-flt-log-0001-1")).await;
        let Some(Input::Captured { result: Ok(o), .. }) = answer else {
            panic!("{api:?}: confirmed from the log: {answer:?}");
        };
        assert_eq!(o.aggregate.captured_amount.value, amount.value, "{api:?}");
        // Another key's capture is not this one: its loss stays a failure.
        let other = driver::execute(client, capture("capture2-flt-log-0001-1")).await;
        assert!(
            matches!(other, Some(Input::Captured { result: Err(_), .. })),
            "{api:?}: {other:?}"
        );
    }
}

/// Vipps' own per-payment limits (120 reads, 5 changes a minute), here squeezed into a short
/// window: the kiosk follows Retry-After and still pays each order once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_payment_rate_limits_are_respected() {
    for api in [Api::Epayment, Api::Ecom] {
        let sim = common::simulator().await;
        sim.set_rate_limits(vipps_kiosk::sim::RateLimits {
            enabled: true,
            window_ms: 1000,
            reads: 6,
            changes: 1,
            ecom_creates: 1,
        });
        // The customer takes a second to approve: the kiosk polls 20 times a second.
        pay_both_ways_with(
            &sim,
            &format!("limits-{api:?}"),
            api,
            Duration::from_secs(1),
        )
        .await;
        assert!(sim.rate_limited() > 0, "{api:?}: the limits struck");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_and_a_slow_token() {
    let counts = with(
        vec![
            ApiFault {
                latency_ms: 150,
                ..rule("token")
            },
            ApiFault {
                latency_ms: 80,
                server_error: 0.2,
                ..rule("*")
            },
        ],
        "slow",
    )
    .await;
    assert!(counts.delayed > 10, "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expiring_underneath_are_fetched_again() {
    let sim = common::simulator().await;
    // Tokens are invalidated again and again while payments run.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (s, base) = (stop.clone(), sim.base_url());
    let expirer = tokio::spawn(async move {
        let http = vipps_kiosk::vipps::plain_http_client();
        while !s.load(std::sync::atomic::Ordering::Relaxed) {
            let _ = http
                .post(format!("{base}/_sim/faults"))
                .body(r#"{"expireTokens": true}"#)
                .send()
                .await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    });
    pay_both_ways(&sim, "token").await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = expirer.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_set_and_cleared_over_http() {
    let sim = common::simulator().await;
    let http = vipps_kiosk::vipps::plain_http_client();
    let url = format!("{}/_sim/faults", sim.base_url());
    let set = http
        .post(&url)
        .body(r#"{"rules": [{"endpoint": "capture", "serverError": 1.0}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(set.status().as_u16(), 200);
    let client = common::client_for(&sim.base_url());
    let order = common::order("flt-http-0001");
    let request = vipps_kiosk::vipps::model::CreatePaymentRequest {
        amount: order.total(),
        customer: None,
        customer_interaction: None,
        payment_method: vipps_kiosk::vipps::model::PaymentMethod {
            kind: vipps_kiosk::vipps::model::PaymentMethodType::Wallet,
        },
        reference: "flt-http-0001-1".into(),
        user_flow: vipps_kiosk::vipps::model::UserFlow::Qr,
        return_url: None,
        payment_description: None,
        qr_format: None,
        receipt: None,
    };
    client
        .create_payment(&request, "k1")
        .await
        .expect("create unaffected");
    assert!(sim.phone("flt-http-0001-1", PhoneAction::Approve));
    let e = client
        .capture("flt-http-0001-1", order.total(), "c1")
        .await
        .expect_err("capture fails");
    assert_eq!(e.status(), Some(503));
    let bad = http
        .post(&url)
        .body(r#"{"rules": [{"nope": 1}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let cleared = http.delete(&url).send().await.unwrap();
    assert_eq!(cleared.status().as_u16(), 200);
    client
        .capture("flt-http-0001-1", order.total(), "c1")
        .await
        .expect("capture works again");
}
