#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! Property tests of every parser of outside input the kiosk has, on stable Rust: HID POS
//! reports and keyboard-wedge keystrokes, scanned text, the POS API's order JSON (through the
//! real router), the configuration file, and webhook headers and bodies. Whatever comes in: a
//! value or a clear refusal, never a panic, and nothing that grows without bound. Each property
//! runs a few thousand cases; Vipps' answers are fuzzed beside the client (`vipps::fuzz_tests`).

use proptest::prelude::*;
use serde_json::{Value, json};
use std::{
    sync::OnceLock,
    time::{Duration, SystemTime},
};
use vipps_kiosk::{
    config::Config,
    pos::{self, Command, Hub},
    scan::{MAX_SCAN_CHARS, personal_qr},
    scanner::decode::{
        DecodeError, HidPosDecoder, MAX_SCAN_BYTES, POS_REPORT_ID, PosLayout, WedgeDecoder, to_text,
    },
    vipps::{Secret, model::Currency},
    webhooks::{Verdict, Verifier, sign},
};

mod common;

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A finished scan is text of bounded length without control characters.
fn check_scan(out: &Result<String, DecodeError>) -> Result<(), TestCaseError> {
    if let Ok(text) = out {
        prop_assert!(text.len() <= MAX_SCAN_BYTES, "{} bytes", text.len());
        prop_assert!(!text.chars().any(char::is_control), "{text:?}");
    }
    Ok(())
}

/// HID POS reports: mostly well-formed (report id 2, a count, 64 bytes with the continuation
/// flag last), some not.
fn pos_report() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..70),
        (
            any::<u8>(),
            prop::collection::vec(any::<u8>(), 62),
            any::<bool>()
        )
            .prop_map(|(count, data, more)| {
                let mut r = vec![POS_REPORT_ID, count];
                r.extend(data);
                r[63] = u8::from(more);
                r
            }),
    ]
}

/// Boot-keyboard reports: modifiers and six keys, mostly from the usages a scanner sends.
fn wedge_report() -> impl Strategy<Value = Vec<u8>> {
    let key = prop_oneof![
        4 => 0x04u8..=0x38,
        1 => 0x58u8..=0x62,
        1 => any::<u8>(),
        2 => Just(0u8),
    ];
    prop_oneof![
        8 => (any::<u8>(), prop::collection::vec(key, 6)).prop_map(|(m, keys)| {
            let mut r = vec![m, 0];
            r.extend(keys);
            r
        }),
        1 => prop::collection::vec(any::<u8>(), 0..12),
    ]
}

proptest! {
    #![proptest_config(cases(3000))]

    #[test]
    fn hid_pos_reports_give_bounded_text_or_an_error(
        reports in prop::collection::vec(pos_report(), 1..40),
        layout in prop::option::of(prop::sample::select(vec![PosLayout::Honeywell, PosLayout::Zebra, PosLayout::Newland])),
    ) {
        let mut d = HidPosDecoder::default();
        d.layout = layout;
        for r in &reports {
            let _ = PosLayout::detect(r);
            if let Some(out) = d.feed(r) {
                check_scan(&out)?;
            }
        }
    }


    #[test]
    fn scanned_bytes_become_text_or_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        let out = to_text(bytes.clone());
        check_scan(&out)?;
        if let Ok(t) = out {
            prop_assert!(t.len() <= bytes.len());
        }
    }

    #[test]
    fn scanned_text_is_a_personal_qr_only_when_it_looks_like_one(
        text in prop_oneof![
            "\\PC{0,40}",
            "[ \\t\\r\\n]{0,2}https://qr\\.vipps\\.no/\\PC{0,300}[ \\r\\n]{0,2}",
            any::<String>(),
        ],
    ) {
        if let Some(code) = personal_qr(&text) {
            let c = code.as_str();
            prop_assert!(c.starts_with("https://qr.vipps.no/") && c.len() > "https://qr.vipps.no/".len());
            prop_assert!(c.chars().count() <= MAX_SCAN_CHARS);
            prop_assert!(!c.chars().any(|ch| ch.is_control() || ch.is_whitespace()));
            // Debug output never shows the code.
            let shown = format!("{code:?}");
            prop_assert!(!shown.contains("qr.vipps.no"), "{}", shown);
        }
    }
}

proptest! {
    // Sequences of reports are dearer to make: fewer, shorter runs.
    #![proptest_config(cases(2000))]

    #[test]
    fn wedge_keystrokes_give_bounded_text_or_an_error(
        reports in prop::collection::vec(wedge_report(), 1..48),
    ) {
        let mut d = WedgeDecoder::default();
        for r in &reports {
            if let Some(out) = d.feed(r) {
                check_scan(&out)?;
            }
        }
    }
}

/// Any JSON, objects keyed mostly by names the parsers know.
fn json_value(names: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![i64::MAX, i64::MIN, 0, -1, 2500, 10000]).prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        prop::sample::select(vec!["NOK", "EUR", "1", "1.5", "-1", "1e400", "", "00"])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 5, move |inner| {
        let key = prop_oneof![
            3 => prop::sample::select(names).prop_map(str::to_string),
            1 => "[a-zA-Z]{1,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// `base` with the value at one of its paths (chosen by `at`) replaced by `with`, or removed.
fn mutate(mut base: Value, at: usize, with: Option<Value>) -> Value {
    fn paths(v: &Value, here: String, out: &mut Vec<String>) {
        out.push(here.clone());
        match v {
            Value::Object(m) => m
                .iter()
                .for_each(|(k, v)| paths(v, format!("{here}/{k}"), out)),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, v)| paths(v, format!("{here}/{i}"), out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    paths(&base, String::new(), &mut all);
    let path = all[at % all.len()].clone();
    match (with, path.rsplit_once('/')) {
        (None, Some((parent, key))) => match base.pointer_mut(parent) {
            Some(Value::Object(m)) => {
                m.remove(key);
            }
            Some(Value::Array(a)) => {
                if let Ok(i) = key.parse::<usize>() {
                    a.remove(i);
                }
            }
            _ => {}
        },
        (Some(v), _) => match base.pointer_mut(&path) {
            Some(slot) => *slot = v,
            None => base = v,
        },
        (None, None) => base = Value::Null,
    }
    base
}

const ORDER_NAMES: &[&str] = &[
    "orderId",
    "currency",
    "lines",
    "id",
    "name",
    "quantity",
    "unitPrice",
    "totalAmount",
    "totalAmountExcludingTax",
    "totalTaxAmount",
    "taxRate",
    "receiptNumber",
    "posId",
];

/// The POS API's router, with a lane stand-in that takes every order it is sent.
fn router() -> axum::Router {
    let hub = Hub::new();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let lane_hub = hub.clone();
    runtime().spawn(async move {
        while let Some(command) = rx.recv().await {
            match command {
                Command::Submit(order, reply) => {
                    lane_hub.accepted(&order);
                    reply.send(Ok(()));
                }
                other => pos::reject_out_of_service(other),
            }
        }
    });
    pos::router(
        hub,
        Secret::new("fuzz-token-0123456789"),
        pos::OrderRules::new(Currency::Nok),
        tx,
    )
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// Posts `body` as an order: the status and the answer's JSON.
fn post_order(app: &axum::Router, body: Vec<u8>) -> (u16, Value) {
    use tower::ServiceExt;
    let request = axum::http::Request::post("/v1/orders")
        .header("authorization", "Bearer fuzz-token-0123456789")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .unwrap();
    runtime().block_on(async {
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    })
}

fn order_bodies() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => json_value(ORDER_NAMES).prop_map(|v| v.to_string().into_bytes()),
        6 => (any::<usize>(), prop::option::of(json_value(ORDER_NAMES)), any::<u32>()).prop_map(
            |(at, with, n)| {
                let mut base = serde_json::to_value(common::order(&format!("fuzz-order-{n}"))).unwrap();
                base = mutate(base, at, with);
                base.to_string().into_bytes()
            }
        ),
    ]
}

proptest! {
    #![proptest_config(cases(2500))]

    #[test]
    fn any_order_body_is_taken_or_refused_with_a_reason(body in order_bodies()) {
        static APP: OnceLock<axum::Router> = OnceLock::new();
        let app = APP.get_or_init(router);
        let (status, answer) = post_order(app, body);
        prop_assert!(matches!(status, 201 | 400 | 413 | 422), "{status}: {answer}");
        match status {
            201 => prop_assert_eq!(&answer["status"], "waiting"),
            422 => prop_assert!(answer["field"].is_string() && answer["reason"].is_string(), "{answer}"),
            400 => prop_assert!(answer["error"].is_string(), "{answer}"),
            _ => {}
        }
    }
}

const CONFIG_KEYS: &[&str] = &[
    "market",
    "lane_id",
    "language",
    "scanner_position",
    "walk_away_after_s",
    "vipps.base_url",
    "vipps.merchant_serial_number",
    "vipps.poll_interval_ms",
    "vipps.request_timeout_ms",
    "vipps.personal_qr",
    "vipps.one_time_qr",
    "vipps.qr_source",
    "vipps.ecom_callback_prefix",
    "pos.listen",
    "pos.token",
    "pos.tls_cert",
    "pos.tls_key",
    "pos.client_ca",
    "pos.allow_plain_http_beyond_loopback",
    "journal.path",
    "webhooks.listen",
    "webhooks.path",
    "webhooks.poll_interval_ms",
    "scanner.vendor_id",
    "sim.auto_approve_after_ms",
    "demo.orders",
];

fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        "\\PC{0,16}".prop_map(|s| format!("{s:?}")),
        prop::sample::select(vec![
            "\"NO\"",
            "\"FI\"",
            "\"sim\"",
            "\"http://10.0.0.1\"",
            "\"https://api.vipps.no\"",
            "\"0.0.0.0:7878\"",
            "\"127.0.0.1:0\"",
            "\"[::1]:1\"",
            "\"/\"",
            "\"\"",
            "0x0c2e",
            "1e999",
            "[1, 2]",
            "{ a = 1 }",
            "\"ecom\"",
            "\"exchange\"",
            "\"æøå\"",
        ])
        .prop_map(str::to_string),
        "\\PC{0,8}",
    ]
}

proptest! {
    #![proptest_config(cases(3000))]

    #[test]
    fn any_configuration_text_parses_or_names_a_key(
        text in prop_oneof![
            any::<String>(),
            prop::collection::vec((prop::sample::select(CONFIG_KEYS), toml_value()), 0..8).prop_map(|kv| {
                kv.iter().map(|(k, v)| format!("{k} = {v}\n")).collect::<String>()
            }),
            prop::collection::vec(prop_oneof![
                prop::sample::select(vec!["[vipps]", "[pos]", "[journal]", "[webhooks]", "[[pos]]", "[", "=", "\"", "'''"]).prop_map(str::to_string),
                (prop::sample::select(CONFIG_KEYS), toml_value()).prop_map(|(k, v)| format!("{} = {v}", k.rsplit('.').next().unwrap_or(k))),
            ], 0..10).prop_map(|lines| lines.join("\n")),
        ],
    ) {
        match Config::parse(&text) {
            Ok(c) => prop_assert!(c.validate().is_ok()),
            Err(e) => prop_assert!(!e.key.is_empty() && !e.reason.is_empty(), "{e:?}"),
        }
    }
}

const EVENT_NAMES: &[&str] = &[
    "msn",
    "reference",
    "pspReference",
    "name",
    "amount",
    "currency",
    "value",
    "timestamp",
    "idempotencyKey",
    "success",
];

fn event_body() -> Value {
    json!({
        "msn": "123456", "reference": "order-1-1", "pspReference": "p-1", "name": "AUTHORIZED",
        "amount": {"currency": "NOK", "value": 35300}, "timestamp": "2026-01-01T10:00:00Z",
        "idempotencyKey": null, "success": true
    })
}

fn webhook_bodies() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        (any::<usize>(), prop::option::of(json_value(EVENT_NAMES))).prop_map(|(at, with)| mutate(
            event_body(),
            at,
            with
        )
        .to_string()
        .into_bytes()),
    ]
}

proptest! {
    #![proptest_config(cases(3000))]

    #[test]
    fn any_webhook_delivery_is_verified_or_rejected(
        body in webhook_bodies(),
        date in prop_oneof!["\\PC{0,32}", Just("Thu, 01 Jan 2026 10:00:00 GMT".to_string())],
        content_sha256 in "\\PC{0,48}",
        authorization in prop_oneof![
            "\\PC{0,80}",
            "HMAC-SHA256 (SignedHeaders=[a-z;-]{0,40})?&?(Signature=[A-Za-z0-9+/=]{0,50})?",
        ],
        host in "\\PC{0,20}",
        path in "\\PC{0,30}",
        signed_right in any::<bool>(),
        skew_s in 0u64..1000,
    ) {
        let secret = "webhook-secret-for-fuzz";
        let mut v = Verifier::new(Secret::new(secret));
        let now = SystemTime::now();
        let signed_at = now - Duration::from_secs(skew_s);
        let headers = if signed_right {
            sign(secret, &path, &host, &body, signed_at)
        } else {
            vipps_kiosk::webhooks::Signed { date, content_sha256, authorization }
        };
        let first = v.verify(&path, &host, Some(&headers), &body, now);
        if signed_right {
            // The date has whole seconds: a second either side of the limit may go either way.
            let max = vipps_kiosk::webhooks::MAX_SKEW.as_secs();
            let (fresh, stale) = (skew_s + 1 < max, skew_s > max);
            // Every authentic delivery is taken (answered 2xx); only a fresh event is acted on.
            match &first {
                Ok(Verdict::Fresh(_)) => prop_assert!(!stale),
                Ok(Verdict::Late) => prop_assert!(!fresh),
                Ok(Verdict::Unreadable) => {}
                Ok(Verdict::Repeat) => prop_assert!(false, "a first delivery taken for a repeat"),
                Err(other) => prop_assert!(false, "signed rightly, refused as {other:?}"),
            }
            // The same delivery again is a repeat: taken, and not acted on.
            let again = v.verify(&path, &host, Some(&headers), &body, now);
            prop_assert!(matches!(again, Ok(Verdict::Repeat)), "{again:?}");
        } else {
            prop_assert!(first.is_err(), "a made-up signature was accepted");
        }
    }
}
