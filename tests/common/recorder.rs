//! A recording proxy in front of the simulator: the kiosk's client talks to it as to Vipps,
//! it hands every request on unchanged and keeps what was sent (when, method, path, headers,
//! body) and what the simulator answered (status, `Retry-After`). Answers stream back as they
//! come, so an answer the simulator breaks off (`dropAnswer`) breaks off here too.

use axum::{
    Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, Method, Uri},
    response::Response,
    routing::any,
};
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// One request as the kiosk sent it, and the status it got.
#[derive(Debug, Clone)]
pub struct Sent {
    pub at: Instant,
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// 0 when the simulator could not be reached.
    pub status: u16,
    pub retry_after: Option<Duration>,
}

/// Which of a payment's budgets a request counts in, as Vipps counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Read,
    Change,
}

impl Sent {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A call for one payment (ePayment or eCom): its reference and budget.
    pub fn payment_call(&self) -> Option<(String, Class)> {
        let payments = ["/epayment/v1/payments", "/ecomm/v2/payments"];
        let rest = payments.iter().find_map(|p| self.path.strip_prefix(p))?;
        let class = if self.method == Method::GET {
            Class::Read
        } else {
            Class::Change
        };
        let reference = match rest.strip_prefix('/') {
            Some(r) => r.split('/').next().unwrap_or_default().to_string(),
            None => {
                let v = self.json();
                v["reference"]
                    .as_str()
                    .or_else(|| v["transaction"]["orderId"].as_str())?
                    .to_string()
            }
        };
        Some((reference, class))
    }
}

pub struct Recorder {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Sent>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Proxy {
    upstream: String,
    http: reqwest::Client,
    log: Arc<Mutex<Vec<Sent>>>,
}

/// Headers that belong to one connection, not to the message.
const HOP: [&str; 4] = ["host", "connection", "transfer-encoding", "content-length"];

async fn forward(
    State(p): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut req = p
        .http
        .request(method.clone(), format!("{}{path_and_query}", p.upstream))
        .body(body.clone());
    for (name, value) in &headers {
        if !HOP.contains(&name.as_str()) {
            req = req.header(name, value);
        }
    }
    let answer = req.send().await;
    let mut sent = Sent {
        at,
        method,
        path: uri.path().to_string(),
        headers,
        body,
        status: 0,
        retry_after: None,
    };
    let Ok(answer) = answer else {
        p.log.lock().unwrap().push(sent);
        return Response::builder()
            .status(502)
            .body(Body::empty())
            .unwrap_or_default();
    };
    sent.status = answer.status().as_u16();
    sent.retry_after = answer
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .map(Duration::from_secs);
    p.log.lock().unwrap().push(sent);
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !HOP.contains(&name.as_str()) {
            response = response.header(name, value);
        }
    }
    // Chunk by chunk; a broken-off answer ends in an error, and the stream with it.
    let stream = futures_util::stream::unfold(Some(answer), |answer| async move {
        let mut answer = answer?;
        match answer.chunk().await {
            Ok(Some(bytes)) => Some((Ok(bytes), Some(answer))),
            Ok(None) => None,
            Err(e) => Some((Err(std::io::Error::other(e)), None)),
        }
    });
    response.body(Body::from_stream(stream)).unwrap_or_default()
}

impl Recorder {
    /// A proxy on a free local port in front of `upstream` (the simulator's base URL).
    pub async fn start(upstream: &str) -> Recorder {
        let log = Arc::new(Mutex::new(Vec::new()));
        let proxy = Arc::new(Proxy {
            upstream: upstream.trim_end_matches('/').to_string(),
            http: vipps_kiosk::vipps::plain_http_client(),
            log: log.clone(),
        });
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = Router::new().fallback(any(forward)).with_state(proxy);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Recorder { addr, log, task }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything sent so far, in order of arrival.
    pub fn sent(&self) -> Vec<Sent> {
        self.log.lock().unwrap().clone()
    }

    /// The most requests of one payment's `class` that fell within any `window`, and which
    /// payment that was.
    pub fn busiest(&self, class: Class, window: Duration) -> (usize, String) {
        let mut per: std::collections::HashMap<String, Vec<Instant>> = Default::default();
        for s in self.sent() {
            if let Some((reference, c)) = s.payment_call()
                && c == class
            {
                per.entry(reference).or_default().push(s.at);
            }
        }
        let mut most = (0, String::new());
        for (reference, times) in per {
            let mut first = 0;
            for (i, t) in times.iter().enumerate() {
                while t.duration_since(times[first]) >= window {
                    first += 1;
                }
                if i + 1 - first > most.0 {
                    most = (i + 1 - first, reference.clone());
                }
            }
        }
        most
    }

    /// Requests of a payment's class sent before a `Retry-After` it was answered had passed:
    /// each as (the 429, the request that came too early). A request arriving within 10 ms
    /// of the 429 was already on its way when the answer left (a poll beside a capture's
    /// read-back), and is not counted.
    pub fn early_after_429(&self) -> Vec<(Sent, Sent)> {
        let sent = self.sent();
        let mut early = Vec::new();
        for (i, limited) in sent.iter().enumerate() {
            let (Some(key), Some(wait)) = (limited.payment_call(), limited.retry_after) else {
                continue;
            };
            if limited.status != 429 {
                continue;
            }
            let next = sent[i + 1..]
                .iter()
                .find(|s| s.payment_call().as_ref() == Some(&key));
            if let Some(next) = next
                && next.at.duration_since(limited.at) < wait
                && next.at.duration_since(limited.at) > Duration::from_millis(10)
            {
                early.push((limited.clone(), next.clone()));
            }
        }
        early
    }
}
