//! Shared by the benchmarks: percentiles, and a wire tap — a TCP relay in front of the
//! simulator that notes when each request line and each answer crosses it, so a benchmark can
//! time what reaches the wire rather than what the code thinks it sent.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

pub fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One line: median, p95, min, max of `v` (sorted here), in milliseconds.
pub fn summary(name: &str, v: &mut [Duration]) -> String {
    v.sort();
    format!(
        "  {name:<44} median {:>8.2} ms   p95 {:>8.2} ms   min {:>7.2} ms   max {:>8.2} ms   (n={})",
        ms(pct(v, 0.5)),
        ms(pct(v, 0.95)),
        ms(v.first().copied().unwrap_or_default()),
        ms(v.last().copied().unwrap_or_default()),
        v.len()
    )
}

/// What crossed the tap: a request line (`POST /epayment/v1/payments`) or an answer
/// (`HTTP/1.1 200 OK`), with when, and the connection it was on.
#[derive(Debug, Clone)]
pub struct Crossing {
    pub at: Instant,
    pub conn: usize,
    pub line: String,
}

#[derive(Clone)]
pub struct WireTap {
    pub addr: SocketAddr,
    crossings: Arc<Mutex<Vec<Crossing>>>,
}

const METHODS: [&str; 4] = ["GET /", "POST /", "PUT /", "DELETE /"];

/// The request lines and status lines that start in `chunk`.
fn lines_in(chunk: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(chunk);
    let mut out = Vec::new();
    for (i, _) in text.match_indices("HTTP/1.1") {
        let start = text[..i].rfind("\r\n").map_or(0, |j| j + 2);
        let end = text[i..].find("\r\n").map_or(text.len(), |j| i + j);
        let line = &text[start..end];
        if line.starts_with("HTTP/1.1 ") || METHODS.iter().any(|m| line.starts_with(m)) {
            out.push(line.to_string());
        }
    }
    out
}

impl WireTap {
    /// A relay on a free local port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> WireTap {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("tap binds");
        let tap = WireTap {
            addr: listener.local_addr().unwrap(),
            crossings: Arc::new(Mutex::new(Vec::new())),
        };
        let t = tap.clone();
        tokio::spawn(async move {
            let mut conn = 0;
            while let Ok((client, _)) = listener.accept().await {
                conn += 1;
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(t.clone().relay(cr, sw, conn));
                tokio::spawn(t.clone().relay(sr, cw, conn));
            }
        });
        tap
    }

    async fn relay(
        self,
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        conn: usize,
    ) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let at = Instant::now();
            let lines = lines_in(&buf[..n]);
            if !lines.is_empty() {
                let mut c = self.crossings.lock().unwrap();
                c.extend(lines.into_iter().map(|line| Crossing { at, conn, line }));
            }
            if to.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn crossings(&self) -> Vec<Crossing> {
        self.crossings.lock().unwrap().clone()
    }

    /// The first request whose line starts with `prefix`, after `after`.
    pub fn first(&self, prefix: &str, after: Instant) -> Option<Crossing> {
        let c = self.crossings.lock().unwrap();
        c.iter()
            .find(|x| x.at >= after && x.line.starts_with(prefix))
            .cloned()
    }

    /// The answer to the request `req`: the next status line on its connection.
    pub fn answer_to(&self, req: &Crossing) -> Option<Crossing> {
        let c = self.crossings.lock().unwrap();
        c.iter()
            .find(|x| x.conn == req.conn && x.at >= req.at && x.line.starts_with("HTTP/1.1 "))
            .cloned()
    }

    /// Waits (up to 10 s) for the answer to `req`.
    pub async fn wait_answer(&self, req: &Crossing) -> Crossing {
        let start = Instant::now();
        loop {
            if let Some(c) = self.answer_to(req) {
                return c;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no answer to {}",
                req.line
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// Waits (up to 10 s) for `first(prefix, after)`.
    pub async fn wait(&self, prefix: &str, after: Instant) -> Crossing {
        let start = Instant::now();
        loop {
            if let Some(c) = self.first(prefix, after) {
                return c;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no {prefix} on the wire"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }
}

#[test]
fn request_and_status_lines_are_found() {
    let chunk = b"POST /epayment/v1/payments HTTP/1.1\r\nhost: x\r\n\r\n{}";
    assert_eq!(lines_in(chunk), ["POST /epayment/v1/payments HTTP/1.1"]);
    let chunk = b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}";
    assert_eq!(lines_in(chunk), ["HTTP/1.1 201 Created"]);
}
