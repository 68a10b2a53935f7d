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

use common::recorder::{Class, Recorder};

async fn pay_both_ways(sim: &Simulator, tag: &str) -> Vec<Duration> {
    pay_both_ways_with(sim, tag, Api::Epayment, Duration::ZERO).await
}

/// `api`: the API of the one-time QR (push payments are always ePayment). The customer
/// approves `approve_after` the payment is shown. Per order, how long the lane took from the
/// approval to the Approved screen.
///
/// These runs are about faults, not budgets: Vipps' limits per payment (5 changes a minute)
/// are lifted in the simulator and in the client, or a retry that happens to meet a full
/// window would wait out its minute. The budgets have tests of their own below.
async fn pay_both_ways_with(
    sim: &Simulator,
    tag: &str,
    api: Api,
    approve_after: Duration,
) -> Vec<Duration> {
    sim.set_rate_limits(vipps_kiosk::sim::RateLimits {
        enabled: false,
        ..vipps_kiosk::sim::RateLimits::default()
    });
    let lifted = vipps_kiosk::vipps::budget::Limits {
        window: Duration::from_secs(60),
        reads: 100_000,
        changes: 100_000,
        initiates: 100_000,
    };
    let client = common::client_with_budget(&sim.base_url(), lifted);
    pay_both_ways_via(sim, client, tag, api, approve_after).await
}

/// `pay_both_ways_with`, the lane talking through `client` (e.g. via a recorder).
async fn pay_both_ways_via(
    sim: &Simulator,
    client: vipps_kiosk::vipps::Client,
    tag: &str,
    api: Api,
    approve_after: Duration,
) -> Vec<Duration> {
    let mut took = Vec::new();
    let lane = common::RunningLane::start(
        client,
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
        took.push(
            lane.wait("approved", limit, |s| matches!(s, State::Approved { .. }))
                .await,
        );
        lane.wait("idle", limit, |s| matches!(s, State::Idle)).await;
        check_books(sim, &id, &reference);
    }
    eprintln!("{tag}: from approval to Approved {took:?}");
    took
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

/// Vipps' 429 with a `Retry-After` of 2 s on a quarter of all calls: every order is still
/// paid once, and after each 429 for a payment no request of that kind for it went out
/// before the 2 s had passed (read from what the kiosk actually sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_with_retry_after() {
    let sim = common::simulator().await;
    let rec = Recorder::start(&sim.base_url()).await;
    sim.set_faults(ApiFaults {
        rules: vec![ApiFault {
            rate_limited: 0.3,
            retry_after_s: 2,
            ..rule("*")
        }],
        expire_tokens: false,
    });
    let client = common::client_for(&rec.base_url());
    pay_both_ways_via(&sim, client, "429", Api::Epayment, Duration::ZERO).await;
    let counts = sim.fault_counts();
    assert!(counts.rate_limited > 3, "{counts:?}");
    let limited = rec
        .sent()
        .iter()
        .filter(|s| s.status == 429 && s.payment_call().is_some())
        .count();
    assert!(limited > 3, "429s for payments: {limited}");
    let early = rec.early_after_429();
    assert!(
        early.is_empty(),
        "sent before Retry-After passed: {:#?}",
        early
            .iter()
            .map(|(l, n)| (&l.path, &n.method, &n.path, n.at.duration_since(l.at)))
            .collect::<Vec<_>>()
    );
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
        // call (answered 34), and under Vipps' limits (2 initiates, 5 changes a minute), kept
        // by the simulator and by the kiosk's own budget, half of them lost would make this
        // test wait out whole minutes. The limits have their own tests.
        sim.set_rate_limits(vipps_kiosk::sim::RateLimits {
            enabled: false,
            ..Default::default()
        });
        let unlimited = vipps_kiosk::vipps::budget::Limits {
            reads: 10_000,
            changes: 10_000,
            initiates: 10_000,
            ..Default::default()
        };
        let client = common::client_with_budget(&sim.base_url(), unlimited);
        let tag = format!("ecom-{tag}");
        pay_both_ways_via(&sim, client, &tag, Api::Ecom, Duration::ZERO).await;
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

/// Vipps' own per-payment limits (120 reads, 5 changes a minute), here squeezed into a
/// window of 1 s (6 reads, 1 change), while the kiosk polls 20 times a second and the
/// customer takes a second to approve.
///
/// With its budget set to the same limits, the kiosk never meets them: the simulator refuses
/// nothing, and what it sent per payment stays within them in every window. With Vipps'
/// budget of a minute against the squeezed simulator, the limits strike, and the kiosk
/// follows each `Retry-After`. Either way each order is paid once.
///
/// Three reads a second: eCom's emulated cancel reads the details before and after it, and the
/// lane's own polling takes one read every 600 ms at the most. The second half squeezes reads to
/// one a second, below the lane's own pace, so that the limits do strike (ePayment: eCom's
/// emulation cannot work with one read a second, by design).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_payment_rate_limits_are_respected() {
    let squeezed = |reads| vipps_kiosk::sim::RateLimits {
        enabled: true,
        window_ms: 1000,
        reads,
        changes: 1,
        ecom_creates: 1,
    };
    let budget = vipps_kiosk::vipps::budget::Limits {
        window: Duration::from_secs(1),
        reads: 3,
        changes: 1,
        initiates: 1,
    };
    for api in [Api::Epayment, Api::Ecom] {
        let sim = common::simulator().await;
        sim.set_rate_limits(squeezed(3));
        let rec = Recorder::start(&sim.base_url()).await;
        let client = common::client_with_budget(&rec.base_url(), budget);
        let tag = format!("budget-{api:?}");
        pay_both_ways_via(&sim, client, &tag, api, Duration::from_secs(1)).await;
        assert_eq!(sim.rate_limited(), 0, "{api:?}: the kiosk kept within");
        let window = Duration::from_secs(1);
        let (reads, busiest) = rec.busiest(Class::Read, window);
        assert!(reads <= 3, "{api:?}: {reads} reads of {busiest} within 1 s");
        assert!(reads >= 1, "{api:?}: the kiosk did poll ({reads})");
        let (changes, busiest) = rec.busiest(Class::Change, window);
        assert_eq!(
            changes, 1,
            "{api:?}: {changes} changes of {busiest} within 1 s"
        );
    }
    let sim = common::simulator().await;
    sim.set_rate_limits(squeezed(1));
    let rec = Recorder::start(&sim.base_url()).await;
    let client = common::client_for(&rec.base_url());
    pay_both_ways_via(
        &sim,
        client,
        "limits",
        Api::Epayment,
        Duration::from_secs(1),
    )
    .await;
    assert!(sim.rate_limited() > 0, "the limits struck");
    let early = rec.early_after_429();
    assert!(early.is_empty(), "before Retry-After: {early:#?}");
}

/// The bound on the time from the customer's approval to the Approved screen through slow
/// answers or expiring tokens: a few polls, a capture and its retries (measured: under 0.5 s
/// with slow answers, under 0.1 s with expiring tokens), with room for a loaded machine. A
/// lane that loses the payment, or waits out delays it need not, misses it.
const APPROVAL_SEEN_WITHIN: Duration = Duration::from_secs(2);

/// Every answer 80 ms late, the token 150 ms, and a fifth of the calls 503: the lane reaches
/// the Approved screen within the bound after every approval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_and_a_slow_token() {
    let sim = common::simulator().await;
    sim.set_faults(ApiFaults {
        rules: vec![
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
        expire_tokens: false,
    });
    let took = pay_both_ways(&sim, "slow").await;
    let counts = sim.fault_counts();
    assert!(
        counts.delayed > 10 && counts.server_errors > 0,
        "{counts:?}"
    );
    assert!(
        took.iter().all(|t| *t < APPROVAL_SEEN_WITHIN),
        "approval to Approved: {took:?}"
    );
}

/// Tokens invalidated every 150 ms while payments run: calls meet 401, the client fetches a
/// new token and sends the call again, and the lane reaches the Approved screen within the
/// bound after every approval, within the payment's budgets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expiring_underneath_are_fetched_again() {
    let sim = common::simulator().await;
    let rec = Recorder::start(&sim.base_url()).await;
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
    let client = common::client_for(&rec.base_url());
    let took = pay_both_ways_via(&sim, client, "token", Api::Epayment, Duration::ZERO).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = expirer.await;
    let sent = rec.sent();
    let refused = sent
        .iter()
        .filter(|s| s.status == 401 && s.payment_call().is_some())
        .count();
    let tokens = sent.iter().filter(|s| s.path == "/accesstoken/get").count();
    assert!(
        refused >= 3 && tokens > refused / 2,
        "401s {refused}, token fetches {tokens}"
    );
    assert!(
        took.iter().all(|t| *t < APPROVAL_SEEN_WITHIN),
        "approval to Approved: {took:?}"
    );
    let (changes, busiest) = rec.busiest(Class::Change, Duration::from_secs(60));
    assert!(changes <= 5, "{changes} changes of {busiest} in a minute");
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
        minimum_user_age: None,
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

/// Vipps answers a capture 429 with `Retry-After: 90`. The lane and its client together hold
/// that payment's changes back: over the next 3 s no capture goes out although the machine
/// keeps asking (each ask fails at once, with the wait), the lane stays Capturing (neither
/// failed nor paid), and its reads go on. The client's own test follows the full 90 s on a
/// moved clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_retry_after_holds_the_lanes_capture_back() {
    let sim = common::simulator().await;
    let rec = Recorder::start(&sim.base_url()).await;
    sim.set_faults(ApiFaults {
        rules: vec![ApiFault {
            rate_limited: 1.0,
            retry_after_s: 90,
            ..rule("capture")
        }],
        expire_tokens: false,
    });
    let lane = common::RunningLane::start(
        common::client_for(&rec.base_url()),
        payment::Config {
            poll_interval: Duration::from_millis(50),
            max_backoff: Duration::from_millis(400),
            ..payment::Config::default()
        },
        None,
        None,
    );
    lane.submit("flt-long-0001").await;
    let limit = Duration::from_secs(10);
    lane.wait(
        "QR payment created",
        limit,
        |s| matches!(s, State::Waiting { payment, .. } if payment.created),
    )
    .await;
    let reference = "flt-long-0001-1";
    assert!(sim.phone(reference, PhoneAction::Approve));
    lane.wait("capturing", limit, |s| matches!(s, State::Capturing { .. }))
        .await;
    let captures = || {
        rec.sent()
            .iter()
            .filter(|s| s.path.ends_with("/capture"))
            .count()
    };
    let started = std::time::Instant::now();
    while captures() == 0 {
        assert!(started.elapsed() < limit, "no capture was sent");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sim.set_faults(ApiFaults::default());
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(captures(), 1, "no capture within Retry-After");
    assert!(
        matches!(lane.state(), State::Capturing { .. }),
        "{:?}",
        lane.state()
    );
    // (Nothing was carried out by the refused capture, so there is nothing to verify: the
    // lane need not read the payment while it waits.)
    let payments = common::payments_of(&sim, "flt-long-0001");
    assert_eq!(common::amount(&payments[0], "capturedAmount"), 0);
}
