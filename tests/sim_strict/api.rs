//! Calls to a simulator as a client makes them, and what the answers are: shared by the
//! strict-simulator suites.
#![allow(dead_code)] // each suite uses a part

use serde_json::{Value, json};
use std::net::SocketAddr;
use vipps_kiosk::sim::{SimConfig, Simulator};

pub struct Api {
    pub sim: Simulator,
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

pub async fn api(config: SimConfig) -> Api {
    let sim = Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .unwrap();
    let http = vipps_kiosk::vipps::plain_http_client();
    let base = sim.base_url();
    let t: Value = super::common::request_token(&http, &base)
        .await
        .json()
        .await
        .unwrap();
    Api {
        sim,
        http,
        base,
        token: t["access_token"].as_str().unwrap().to_string(),
    }
}

impl Api {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Ocp-Apim-Subscription-Key", "sub");
        if !headers.iter().any(|(n, _)| *n == "Merchant-Serial-Number") {
            r = r.header("Merchant-Serial-Number", "123456");
        }
        for (name, value) in headers {
            r = r.header(*name, *value);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        Answer {
            status: resp.status().as_u16(),
            content_type: resp
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default(),
            text: resp.text().await.unwrap_or_default(),
        }
    }

    pub async fn post(&self, path: &str, body: Value, key: &str) -> Answer {
        self.send(
            reqwest::Method::POST,
            path,
            Some(body),
            &[("Idempotency-Key", key)],
        )
        .await
    }

    pub async fn create(&self, body: Value) -> Answer {
        let key = format!("create-{}", body["reference"].as_str().unwrap());
        self.post("/epayment/v1/payments", body, &key).await
    }

    pub async fn approve(&self, reference: &str, body: Option<Value>) -> Answer {
        let path = format!("/epayment/v1/test/payments/{reference}/approve");
        self.send(reqwest::Method::POST, &path, body, &[]).await
    }

    pub async fn state(&self, reference: &str) -> String {
        let path = format!("/epayment/v1/payments/{reference}");
        let got = self.send(reqwest::Method::GET, &path, None, &[]).await;
        got.json()["state"].as_str().unwrap_or_default().to_string()
    }

    pub async fn get_sim(&self, path_and_query: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path_and_query}", self.base))
            .send()
            .await
            .unwrap()
    }
}

pub fn payment(reference: &str, flow: &str, currency: &str) -> Value {
    let mut b = json!({
        "amount": {"currency": currency, "value": 4900},
        "paymentMethod": {"type": "WALLET"},
        "reference": reference,
        "userFlow": flow,
        "customerInteraction": "CUSTOMER_PRESENT",
        "returnUrl": "https://store.example/done",
    });
    if flow == "PUSH_MESSAGE" {
        b["customer"] = json!({"phoneNumber": "4791234567"});
    }
    b
}

pub fn qr(reference: &str, format: &str) -> Value {
    let mut b = payment(reference, "QR", "NOK");
    b["qrFormat"] = json!({"format": format, "size": 400});
    b
}

pub fn problem_code(a: &Answer) -> Option<String> {
    a.json()["extraDetails"][0]["reason"]
        .as_str()
        .map(str::to_string)
}

/// The QR a grey bitmap shows, decoded.
pub fn decode(width: usize, height: usize, luma: impl Fn(usize, usize) -> u8) -> String {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(width, height, luma);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR");
    grids[0].decode().expect("decodes").1
}
