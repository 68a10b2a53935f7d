#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The metrics a scraper reads from a real lane (the binary, `--headless`, webhooks on) that
//! has paid one order with the on-screen QR and one with a personal QR: they parse with
//! Prometheus' own `promtool check metrics` (skipped, loudly, where it is not installed), the
//! latency histograms are filled, both payments are counted by method, and nothing personal
//! (the scanned code, an order id or reference) shows anywhere in them.

use std::{
    io::Write,
    process::{Command, Stdio},
    time::Duration,
};
use vipps_kiosk::{sim::backend::PhoneAction, webhooks::EPAYMENT_EVENTS};

mod common;

use common::kiosk::{Kiosk as Lane, LaneRig as Rig, free_port};

/// Waits for the order's `attempt`-th payment to exist in the simulator; its reference.
async fn payment_created(
    sim: &vipps_kiosk::sim::Simulator,
    lane: &mut Lane,
    order_id: &str,
    attempt: usize,
) -> String {
    for _ in 0..1000 {
        lane.assert_running();
        let payments = common::payments_of(sim, order_id);
        if let Some(p) = payments.get(attempt - 1) {
            return p["reference"].as_str().unwrap().to_string();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "payment {attempt} of {order_id} never created:\n{}",
        lane.log()
    );
}

/// The value of the sample `name` (with its labels, as written), if present.
fn value(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// `promtool check metrics` on `text`: `None` when promtool is not installed.
fn promtool(text: &str) -> Option<(bool, String)> {
    let mut child = match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(_) => return None,
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), said))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lane_that_paid_both_ways_serves_metrics_promtool_accepts() {
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let hooks = free_port();
    let (_, secret) = client
        .register_webhook(
            &format!("http://127.0.0.1:{hooks}/vipps/webhooks"),
            &EPAYMENT_EVENTS,
        )
        .await
        .expect("registered");
    let rig = Rig::with_sections(
        "metrics",
        &sim.base_url(),
        "lane_id = \"lane-4\"",
        "",
        &format!("[webhooks]\nlisten = \"127.0.0.1:{hooks}\"\n"),
    );
    let mut lane = rig
        .start_with(
            None,
            &[("VIPPS_WEBHOOK_SECRET", secret.expose().to_string())],
        )
        .await;

    // The on-screen QR, approved in the app.
    let qr_order = common::order("metrics-qr-0001");
    assert_eq!(
        rig.post("/v1/orders", serde_json::to_value(&qr_order).unwrap())
            .await,
        Some(201)
    );
    let reference = payment_created(&sim, &mut lane, "metrics-qr-0001", 1).await;
    // A few reads (600 ms apart) before the customer approves.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert!(sim.phone(&reference, PhoneAction::Approve));
    rig.wait_status(&mut lane, "metrics-qr-0001", "captured")
        .await;

    // A personal QR at the scanner, the push approved.
    let push_order = common::order("metrics-push-0002");
    let mut accepted = None;
    for _ in 0..100 {
        accepted = rig
            .post("/v1/orders", serde_json::to_value(&push_order).unwrap())
            .await;
        if accepted == Some(201) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await; // the thank-you screen first
    }
    assert_eq!(accepted, Some(201));
    payment_created(&sim, &mut lane, "metrics-push-0002", 1).await;
    lane.scan(common::PERSONAL_QR);
    let pushed = payment_created(&sim, &mut lane, "metrics-push-0002", 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sim.phone(&pushed, PhoneAction::Approve));
    rig.wait_status(&mut lane, "metrics-push-0002", "captured")
        .await;

    let text = rig.scrape().await;
    match promtool(&text) {
        Some((ok, said)) => {
            assert!(ok, "promtool check metrics refused them:\n{said}\n{text}");
            let (lint_ok, _) = promtool("# TYPE late counter\nlate 1\n").unwrap();
            assert!(
                !lint_ok,
                "promtool judges what it reads (a counter without _total fails)"
            );
        }
        None => eprintln!(
            "SKIPPED: promtool is not installed (Debian's prometheus package); the metrics were not checked by Prometheus' own parser"
        ),
    }
    let got = |name: &str| value(&text, name).unwrap_or_else(|| panic!("no {name} in:\n{text}"));
    for method in ["one_time_qr", "personal_qr"] {
        let line = format!(
            "vipps_kiosk_payments_total{{method=\"{method}\",outcome=\"captured\",reason=\"none\"}}"
        );
        assert_eq!(got(&line), 1.0, "{line}");
    }
    // The latency histograms are filled.
    assert_eq!(got("vipps_kiosk_scan_to_create_seconds_count"), 1.0);
    assert_eq!(got("vipps_kiosk_capture_seconds_count"), 2.0);
    let seen = value(
        &text,
        "vipps_kiosk_approval_seen_seconds_count{source=\"vipps_timestamp\"}",
    )
    .unwrap_or(0.0)
        + value(
            &text,
            "vipps_kiosk_approval_seen_seconds_count{source=\"read_interval\"}",
        )
        .unwrap_or(0.0);
    assert_eq!(seen, 2.0, "both approvals seen:\n{text}");
    assert!(got("vipps_kiosk_polls_per_payment_count") >= 2.0);
    assert!(got("vipps_kiosk_read_gap_seconds_count") >= 1.0);
    assert!(got("vipps_kiosk_journal_append_seconds_count") >= 4.0);
    assert!(got("vipps_kiosk_journal_fsync_seconds_count") >= 4.0);
    assert_eq!(got("vipps_kiosk_journal_failures_total"), 0.0);
    assert_eq!(
        got("vipps_kiosk_vipps_request_duration_seconds_count{endpoint=\"epayment_create\"}"),
        3.0
    );
    assert_eq!(
        got("vipps_kiosk_vipps_requests_total{endpoint=\"epayment_capture\",class=\"2xx\"}"),
        2.0
    );
    assert!(
        got("vipps_kiosk_vipps_requests_total{endpoint=\"epayment_get\",class=\"2xx\"}") >= 2.0
    );
    assert!(got("vipps_kiosk_webhook_deliveries_total{result=\"verified\"}") >= 2.0);
    assert!(got("vipps_kiosk_token_remaining_seconds") > 60.0);
    assert!(got("vipps_kiosk_last_scan_age_seconds") < 60.0);
    assert_eq!(
        got(
            "vipps_kiosk_build_info{version=\"0.1.0\",market=\"NO\",brand=\"Vipps\",lane=\"lane-4\"}"
        ),
        1.0
    );
    assert_eq!(got("vipps_kiosk_lane_state{state=\"out_of_service\"}"), 0.0);
    // Nothing personal, and no payment's name, in any line.
    for secret in [
        common::PERSONAL_QR,
        "metrics-qr-0001",
        "metrics-push-0002",
        "qr.vipps.no",
    ] {
        assert!(!text.contains(secret), "{secret} in the metrics:\n{text}");
    }
    // OpenMetrics for a scraper that asks for it.
    let om = rig
        .http
        .get(&rig.metrics)
        .header("accept", "application/openmetrics-text; version=1.0.0")
        .send()
        .await
        .unwrap();
    assert!(
        om.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    assert!(om.text().await.unwrap().trim_end().ends_with("# EOF"));
    lane.kill();
}

/// The client's share, in process: a 429 with `Retry-After` on every read is retried with
/// the same key until the client gives up, and the metrics count each answer, each retry and
/// the time waited as asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_retries_and_retry_after_waits_are_counted() {
    use vipps_kiosk::{
        metrics::{Build, Metrics},
        sim::{ApiFault, ApiFaults},
    };
    let sim = common::simulator().await;
    let metrics = Metrics::new(Build {
        version: "test",
        market: "NO",
        lane: "lane-9".into(),
        brand: std::sync::Arc::new(|| "Vipps".into()),
    });
    let client = common::client_for(&sim.base_url()).with_metrics(metrics.clone());
    sim.set_faults(ApiFaults {
        rules: vec![ApiFault {
            endpoint: "get".into(),
            rate_limited: 1.0,
            retry_after_s: 1,
            ..ApiFault::default()
        }],
        expire_tokens: false,
    });
    let refused = client.get_payment("metrics-429-0001-1").await;
    assert_eq!(refused.err().and_then(|e| e.status()), Some(429));
    let text = metrics.render(false);
    let got = |name: &str| value(&text, name).unwrap_or_else(|| panic!("no {name} in:\n{text}"));
    let attempts = vipps_kiosk::vipps::RetryPolicy::default().max_attempts as f64;
    assert_eq!(
        got("vipps_kiosk_vipps_requests_total{endpoint=\"epayment_get\",class=\"429\"}"),
        attempts
    );
    assert_eq!(
        got("vipps_kiosk_vipps_rate_limited_total{endpoint=\"epayment_get\"}"),
        attempts
    );
    assert_eq!(
        got("vipps_kiosk_vipps_retries_total{endpoint=\"epayment_get\",why=\"rate_limited\"}"),
        attempts - 1.0
    );
    assert_eq!(
        got("vipps_kiosk_vipps_retry_after_wait_seconds_total"),
        attempts - 1.0
    );
    assert_eq!(
        got("vipps_kiosk_vipps_requests_total{endpoint=\"token\",class=\"2xx\"}"),
        1.0
    );
}
