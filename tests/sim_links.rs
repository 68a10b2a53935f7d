#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The simulator's links in Vipps' shapes: QR target URLs, image links and landing pages,
//! each reaching a route that exists; local links for a kiosk that fetches images from a
//! simulator; MobilePay's landing domains by the simulator's date.

use serde_json::{Value, json};
use vipps_kiosk::sim::{Links, SimConfig};

mod common;
#[path = "sim_strict/api.rs"]
mod sim_api;

use sim_api::{Answer, api, decode, payment, qr};

/// Target URLs, image links and landing pages in Vipps' shapes; each reaches the simulator
/// by its path and query under `/_sim/`, and the target URL the kiosk draws decodes to what
/// the control API opens by its code.
#[tokio::test]
async fn links_have_vipps_shapes_and_lead_to_routes_that_exist() {
    let a = api(SimConfig::default()).await;
    let target = a
        .create(qr("ln-order-0001-1", "TEXT/TARGETURL"))
        .await
        .json()["redirectUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let code = target
        .strip_prefix("https://qr.vipps.no/")
        .expect("Vipps' target URL")
        .to_string();
    // The kiosk draws it; the phone scans it.
    let (side, luma) = vipps_kiosk::ui::qr::render_luma(&target).unwrap();
    let scanned = decode(side, side, |x, y| luma[y * side + x]);
    assert_eq!(scanned, target);
    let opened = a.get_sim(&format!("/_sim/qr/{code}")).await;
    assert_eq!(opened.status(), 200);
    let opened: Value = opened.json().await.unwrap();
    assert_eq!(opened["reference"], "ln-order-0001-1");

    // An image link: Vipps' host, a JWT-shaped token; the simulator draws it at the same
    // path and query, and the image holds the payment's target URL.
    let image = a.create(qr("ln-order-0002-1", "IMAGE/PNG")).await.json()["redirectUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let query = image
        .strip_prefix("https://qr-image.vipps.no/v1?token=")
        .expect("Vipps' image link");
    assert_eq!(query.split('.').count(), 3, "JWT-shaped token: {query}");
    let png = a.get_sim(&format!("/_sim/qr-image/v1?token={query}")).await;
    assert_eq!(png.headers()["content-type"], "image/png");
    let bytes = png.bytes().await.unwrap();
    let img = image::load_from_memory(&bytes).unwrap().to_luma8();
    let (w, h) = img.dimensions();
    let drawn = decode(w as usize, h as usize, |x, y| {
        img.get_pixel(x as u32, y as u32).0[0]
    });
    assert!(drawn.starts_with("https://qr.vipps.no/"), "{drawn}");
    let svg = a
        .create(qr("ln-order-0003-1", "IMAGE/SVG+XML"))
        .await
        .json()["redirectUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let svg_query = svg
        .strip_prefix("https://qr-image.vipps.no/v1?token=")
        .unwrap();
    let svg = a
        .get_sim(&format!("/_sim/qr-image/v1?token={svg_query}"))
        .await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert_eq!(
        a.get_sim("/_sim/qr-image/v1?token=nonsense").await.status(),
        404
    );

    // Redirect flows: the landing page, which opens the payment.
    for (reference, flow) in [
        ("ln-order-0004-1", "WEB_REDIRECT"),
        ("ln-order-0005-1", "NATIVE_REDIRECT"),
    ] {
        let link = a.create(payment(reference, flow, "NOK")).await.json()["redirectUrl"]
            .as_str()
            .unwrap()
            .to_string();
        let token = link
            .strip_prefix("https://landing.vipps.no?token=")
            .unwrap_or_else(|| panic!("Vipps' landing page: {link}"));
        let landing = a.get_sim(&format!("/_sim/landing?token={token}")).await;
        assert_eq!(landing.status(), 200, "{flow}");
        let landing: Value = landing.json().await.unwrap();
        assert_eq!(landing["reference"], reference);
    }
}

/// For a kiosk that fetches Vipps' QR image from a simulator, the links point at the
/// simulator itself (same paths), and the kiosk's own image fetch decodes them.
#[tokio::test]
async fn local_links_reach_the_simulator_directly() {
    let a = api(SimConfig {
        links: Links::Local,
        ..SimConfig::default()
    })
    .await;
    let image = a.create(qr("ll-order-0001-1", "IMAGE/PNG")).await.json()["redirectUrl"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        image.starts_with(&format!("{}/_sim/qr-image/v1?token=", a.base)),
        "{image}"
    );
    let decoded = vipps_kiosk::vipps::qr_image::fetch(&a.http, &image)
        .await
        .expect("the kiosk's fetch decodes it");
    assert!(decoded.width >= 100);
    let landing = a
        .create(payment("ll-order-0002-1", "WEB_REDIRECT", "NOK"))
        .await
        .json()["redirectUrl"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(landing.starts_with(&format!("{}/_sim/landing?token=", a.base)));
    assert_eq!(a.http.get(&landing).send().await.unwrap().status(), 200);
}

/// MobilePay's landing pages are `pay.mobilepay.dk/.fi` until 11 January 2027 and
/// `pay.vipps.dk/.fi` from 12 January 2027, by the simulator's settable today.
#[tokio::test]
async fn mobilepay_landing_domains_follow_the_date() {
    let a = api(SimConfig {
        today: Some(time::macros::date!(2027 - 01 - 11)),
        ..SimConfig::default()
    })
    .await;
    let host = |a: &Answer| {
        let link = a.json()["redirectUrl"].as_str().unwrap().to_string();
        link.split_once('?').unwrap().0.to_string()
    };
    let dk = a
        .create(payment("md-order-0001-1", "WEB_REDIRECT", "DKK"))
        .await;
    assert_eq!(host(&dk), "https://pay.mobilepay.dk");
    let fi = a
        .create(payment("md-order-0002-1", "WEB_REDIRECT", "EUR"))
        .await;
    assert_eq!(host(&fi), "https://pay.mobilepay.fi");
    // The control API moves the date.
    let set = a
        .http
        .post(format!("{}/_sim/settings", a.base))
        .json(&json!({"autoApproveAfterMs": null, "today": "2027-01-12"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let dk = a
        .create(payment("md-order-0003-1", "WEB_REDIRECT", "DKK"))
        .await;
    assert_eq!(host(&dk), "https://pay.vipps.dk");
    let fi = a
        .create(payment("md-order-0004-1", "NATIVE_REDIRECT", "EUR"))
        .await;
    assert_eq!(host(&fi), "https://pay.vipps.fi");
    let no = a
        .create(payment("md-order-0005-1", "WEB_REDIRECT", "NOK"))
        .await;
    assert_eq!(host(&no), "https://landing.vipps.no");
    let settings: Value = a.get_sim("/_sim/settings").await.json().await.unwrap();
    assert_eq!(settings["today"], "2027-01-12");
    // In-process too.
    a.sim.set_today(Some(time::macros::date!(2026 - 12 - 24)));
    let dk = a
        .create(payment("md-order-0006-1", "WEB_REDIRECT", "DKK"))
        .await;
    assert_eq!(host(&dk), "https://pay.mobilepay.dk");
    let bad = a
        .http
        .post(format!("{}/_sim/settings", a.base))
        .json(&json!({"today": "12.01.2027"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
