//! `GET /metrics` over plain HTTP, without a token, for a scraper or agent on this machine (or
//! wherever the operator points `[metrics] listen`). Prometheus' text format by default,
//! OpenMetrics when the scraper asks for it.

use super::Metrics;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use std::{
    net::SocketAddr,
    sync::{Arc, Weak},
    time::Duration,
};

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const PROMETHEUS_TEXT: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Serves `metrics` on `listen` in the background until the last other holder of `metrics`
/// lets go of it. Returns the address bound (for port 0).
pub async fn serve(listen: SocketAddr, metrics: &Arc<Metrics>) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let bound = listener.local_addr()?;
    let weak = Arc::downgrade(metrics);
    let app = axum::Router::new()
        .route("/metrics", get(scrape))
        .with_state(weak.clone());
    tracing::info!(listen = %bound, "metrics at /metrics");
    tokio::spawn(async move {
        let stop = async move {
            while weak.strong_count() > 0 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "the metrics endpoint stopped");
        }
    });
    Ok(bound)
}

async fn scrape(State(metrics): State<Weak<Metrics>>, headers: HeaderMap) -> impl IntoResponse {
    let Some(metrics) = metrics.upgrade() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, PROMETHEUS_TEXT)],
            String::new(),
        );
    };
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/openmetrics-text"));
    let body = metrics.render(openmetrics);
    let kind = if openmetrics {
        OPENMETRICS
    } else {
        PROMETHEUS_TEXT
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, kind)], body)
}
