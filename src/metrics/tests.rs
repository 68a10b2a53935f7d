use super::*;
use std::sync::atomic::{AtomicBool, Ordering};

fn metrics(brand: Arc<dyn Fn() -> String + Send + Sync>) -> Arc<Metrics> {
    Metrics::new(Build {
        version: "0.1.0",
        market: "DK",
        lane: "lane-4".into(),
        brand,
    })
}

fn sample<'a>(text: &'a str, name_and_labels: &str) -> Option<&'a str> {
    text.lines()
        .find(|l| l.starts_with(name_and_labels) && l[name_and_labels.len()..].starts_with(' '))
        .map(|l| l[name_and_labels.len()..].trim())
}

#[test]
fn the_brand_is_asked_at_every_scrape() {
    let renamed = Arc::new(AtomicBool::new(false));
    let r = renamed.clone();
    let m = metrics(Arc::new(move || {
        if r.load(Ordering::SeqCst) {
            "Vipps"
        } else {
            "MobilePay"
        }
        .to_string()
    }));
    let info = |text: &str, brand: &str| {
        sample(
            text,
            &format!(
                "vipps_kiosk_build_info{{version=\"0.1.0\",market=\"DK\",brand=\"{brand}\",lane=\"lane-4\"}}"
            ),
        )
        .map(str::to_string)
    };
    let before = m.render(false);
    assert_eq!(info(&before, "MobilePay").as_deref(), Some("1"), "{before}");
    renamed.store(true, Ordering::SeqCst);
    let after = m.render(false);
    assert_eq!(info(&after, "Vipps").as_deref(), Some("1"), "{after}");
    assert_eq!(info(&after, "MobilePay"), None, "one build info at a time");
}

#[test]
fn a_scan_times_the_create_it_causes_and_no_other() {
    let m = metrics(Arc::new(|| "Vipps".into()));
    let t0 = Instant::now();
    m.scanned(t0);
    m.create_sending(t0 + Duration::from_millis(3));
    // The next create (say, the next order's QR) was not caused by a scan.
    m.create_sending(t0 + Duration::from_secs(5));
    m.scanned(t0 + Duration::from_secs(6));
    m.scan_ignored();
    m.create_sending(t0 + Duration::from_secs(7));
    let text = m.render(false);
    assert_eq!(
        sample(&text, "vipps_kiosk_scan_to_create_seconds_count"),
        Some("1")
    );
    assert_eq!(
        sample(
            &text,
            "vipps_kiosk_scan_to_create_seconds_bucket{le=\"0.004\"}"
        ),
        Some("1"),
        "{text}"
    );
    assert_eq!(sample(&text, "vipps_kiosk_scans_total"), Some("2"));
}

#[test]
fn an_approval_is_timed_from_vipps_clock_when_a_webhook_told_it() {
    let m = metrics(Arc::new(|| "Vipps".into()));
    let two_seconds_ago = time::OffsetDateTime::now_utc() - time::Duration::seconds(2);
    let stamp = two_seconds_ago
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    m.webhook_event("order-1-1", true, &stamp);
    m.approval_seen("order-1-1", Some(Duration::from_millis(900)));
    // Without a webhook: the time since the read before.
    m.approval_seen("order-2-1", Some(Duration::from_millis(700)));
    let text = m.render(false);
    let count = |source: &str| {
        sample(
            &text,
            &format!("vipps_kiosk_approval_seen_seconds_count{{source=\"{source}\"}}"),
        )
    };
    assert_eq!(count("vipps_timestamp"), Some("1"), "{text}");
    assert_eq!(count("read_interval"), Some("1"));
    let sum: f64 = sample(
        &text,
        "vipps_kiosk_approval_seen_seconds_sum{source=\"vipps_timestamp\"}",
    )
    .and_then(|v| v.parse().ok())
    .expect("sum");
    assert!((1.9..5.0).contains(&sum), "about two seconds: {sum}");
    assert_eq!(
        sample(
            &text,
            "vipps_kiosk_webhook_deliveries_total{result=\"verified\"}"
        ),
        Some("1")
    );
    assert!(!text.contains("order-1"), "no reference in any label");
}

#[test]
fn the_state_on_screen_is_one_of_a_fixed_set_and_out_of_service_wins() {
    let m = metrics(Arc::new(|| "Vipps".into()));
    m.lane_state("waiting");
    let text = m.render(false);
    for s in LANE_STATES {
        let want = if s == "waiting" { "1" } else { "0" };
        assert_eq!(
            sample(&text, &format!("vipps_kiosk_lane_state{{state=\"{s}\"}}")),
            Some(want),
            "{s}"
        );
    }
    m.out_of_service("journal");
    let text = m.render(false);
    assert_eq!(
        sample(&text, "vipps_kiosk_lane_state{state=\"out_of_service\"}"),
        Some("1")
    );
    assert_eq!(
        sample(&text, "vipps_kiosk_lane_state{state=\"waiting\"}"),
        Some("0")
    );
    assert_eq!(
        sample(&text, "vipps_kiosk_out_of_service{reason=\"journal\"}"),
        Some("1")
    );
}

#[test]
fn a_pause_for_refusals_shows_as_out_of_service_and_clears_by_itself() {
    let m = metrics(Arc::new(|| "Vipps".into()));
    m.lane_state("idle");
    m.paused(Some("vipps_refusing"));
    let text = m.render(false);
    assert_eq!(
        sample(&text, "vipps_kiosk_lane_state{state=\"out_of_service\"}"),
        Some("1")
    );
    assert_eq!(
        sample(
            &text,
            "vipps_kiosk_out_of_service{reason=\"vipps_refusing\"}"
        ),
        Some("1")
    );
    m.paused(None);
    let text = m.render(false);
    assert_eq!(
        sample(&text, "vipps_kiosk_lane_state{state=\"idle\"}"),
        Some("1")
    );
    assert_eq!(
        sample(
            &text,
            "vipps_kiosk_out_of_service{reason=\"vipps_refusing\"}"
        ),
        Some("0"),
        "{text}"
    );
}

#[test]
fn openmetrics_is_served_to_who_asks_for_it() {
    let m = metrics(Arc::new(|| "Vipps".into()));
    m.payment_ended("personal_qr", "captured", "none");
    let om = m.render(true);
    assert!(om.trim_end().ends_with("# EOF"), "{om}");
    let text = m.render(false);
    assert!(!text.contains("# EOF"));
    let line =
        "vipps_kiosk_payments_total{method=\"personal_qr\",outcome=\"captured\",reason=\"none\"}";
    assert_eq!(sample(&text, line), Some("1"), "{text}");
    assert_eq!(sample(&om, line), Some("1"));
}
