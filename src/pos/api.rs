//! The POS API's routes (axum): orders in, their records out, cancels, staff refunds,
//! server-sent events and health. Every route needs the bearer token.

use super::{
    Command, Hub, MAX_BODY_BYTES, OrderRules, RefundRefused, Refusal, Reply, customer::CustomerBody,
};
use crate::{
    payment::{Order, OrderStatus, PushTo},
    redact::constant_time_eq,
    vipps::{Secret, model::Amount},
};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Request, State},
    http::{HeaderMap, StatusCode},
    middleware::{self, Next},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::{get, post},
};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

#[derive(Clone)]
struct Api {
    hub: Arc<Hub>,
    token: Secret,
    rules: OrderRules,
    commands: mpsc::Sender<Command>,
}

/// The POS API's routes. `commands` reach the app; the hub is what the app writes.
pub fn router(
    hub: Arc<Hub>,
    token: Secret,
    rules: OrderRules,
    commands: mpsc::Sender<Command>,
) -> Router {
    let api = Api {
        hub,
        token,
        rules,
        commands,
    };
    Router::new()
        .route("/v1/orders", post(submit))
        .route("/v1/orders/{order_id}", get(status))
        .route("/v1/orders/{order_id}/customer", post(hand_over))
        .route("/v1/orders/{order_id}/cancel", post(cancel))
        .route("/v1/orders/{order_id}/refund", post(refund))
        .route("/v1/events", get(events))
        .route("/v1/health", get(health))
        .layer(middleware::from_fn_with_state(api.clone(), authorize))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(api)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn invalid(field: &str, reason: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "error": "invalid order", "field": field, "reason": reason })),
    )
        .into_response()
}

/// Why a request body was refused: JSON that does not parse (400), or that does not fit
/// (422, naming the field: its full path, a missing one included).
enum BadBody {
    Malformed(String),
    Invalid { field: String, reason: String },
}

impl IntoResponse for BadBody {
    fn into_response(self) -> Response {
        match self {
            BadBody::Malformed(e) => {
                error(StatusCode::BAD_REQUEST, &format!("malformed JSON: {e}"))
            }
            BadBody::Invalid { field, reason } => invalid(&field, &reason),
        }
    }
}

/// The body as a `T`.
fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, BadBody> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| BadBody::Malformed(e.to_string()))?;
    parse_value(value)
}

/// A JSON value as a `T`; a field that does not fit is named by its full path.
fn parse_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, BadBody> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let reason = e.inner().to_string();
        let mut field = e.path().to_string();
        // serde names a missing field only in its message: put it in `field` too.
        if let Some(missing) = reason
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        {
            field = if field == "." {
                missing.to_string()
            } else {
                format!("{field}.{missing}")
            };
        }
        if field == "." {
            field = "(body)".into();
        }
        BadBody::Invalid { field, reason }
    })
}

async fn authorize(
    State(api): State<Api>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if api.token.is_empty() || !constant_time_eq(given.as_bytes(), api.token.expose().as_bytes()) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    next.run(request).await
}

async fn ask(api: &Api, command: impl FnOnce(Reply) -> Command) -> Result<(), Refusal> {
    let (reply, rx) = Reply::new();
    if api.commands.send(command(reply)).await.is_err() {
        return Err(Refusal::OutOfService);
    }
    rx.await.unwrap_or(Err(Refusal::OutOfService))
}

/// An order, and the customer the cashier hands over with it, if any.
fn parse_order(body: &Bytes) -> Result<(Order, Option<PushTo>), BadBody> {
    let mut value: Value =
        serde_json::from_slice(body).map_err(|e| BadBody::Malformed(e.to_string()))?;
    let customer = value.as_object_mut().and_then(|o| o.remove("customer"));
    let order: Order = parse_value(value)?;
    let to = match customer {
        None | Some(Value::Null) => None,
        Some(c) => {
            let wrapped: CustomerWrapper = parse_value(json!({ "customer": c }))?;
            let to = wrapped
                .customer
                .push_to("customer.")
                .map_err(|e| BadBody::Invalid {
                    field: e.field,
                    reason: e.reason,
                })?;
            Some(to)
        }
    };
    Ok((order, to))
}

/// Puts the customer under its own name, so a field that does not fit is named in full.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerWrapper {
    customer: CustomerBody,
}

async fn submit(State(api): State<Api>, body: Bytes) -> Response {
    let (order, to) = match parse_order(&body) {
        Ok(o) => o,
        Err(bad) => return bad.into_response(),
    };
    if let Err(e) = api.rules.check(&order) {
        return invalid(&e.field, &e.reason);
    }
    if api.hub.get(&order.order_id).is_some() {
        return invalid("orderId", REUSED);
    }
    let id = order.order_id.clone();
    let command = |reply| match to {
        Some(to) => Command::SubmitAssisted(Box::new(order), to, reply),
        None => Command::Submit(Box::new(order), reply),
    };
    match ask(&api, command).await {
        Ok(()) => match api.hub.get(&id) {
            Some(record) => (StatusCode::CREATED, Json(record)).into_response(),
            None => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the order was taken but not recorded",
            ),
        },
        Err(Refusal::Busy) => error(
            StatusCode::CONFLICT,
            "another order is being paid on this lane",
        ),
        Err(Refusal::Reused) => invalid("orderId", REUSED),
        Err(Refusal::Unrecorded) => unrecorded(&api, "the order was not taken"),
        Err(_) => out_of_service(),
    }
}

const REUSED: &str = "this orderId was already used on this lane";

/// The journal could not record a command, so nothing was done: 503, with the journal's
/// trouble as the reason.
fn unrecorded(api: &Api, what: &str) -> Response {
    let journal = api.hub.health().journal.unwrap_or_default();
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({
            "error": format!("{what}: the lane's journal could not record it"),
            "reason": "journalFailing",
            "journal": journal,
            "retry": "send it again once the lane's health says the journal is ok",
        })),
    )
        .into_response()
}

async fn status(State(api): State<Api>, Path(order_id): Path<String>) -> Response {
    match api.hub.get(&order_id) {
        Some(record) => Json(record).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such order on this lane"),
    }
}

async fn cancel(State(api): State<Api>, Path(order_id): Path<String>) -> Response {
    if api.hub.get(&order_id).is_none() {
        return error(StatusCode::NOT_FOUND, "no such order on this lane");
    }
    match ask(&api, |reply| Command::Cancel(order_id.clone(), reply)).await {
        // The cancel is under way; the status turns `cancelled` once Vipps confirms.
        Ok(()) => (StatusCode::ACCEPTED, Json(api.hub.get(&order_id))).into_response(),
        Err(Refusal::AlreadyPaid) => error(
            StatusCode::CONFLICT,
            "the customer has paid; refund instead",
        ),
        Err(Refusal::NotActive) => error(StatusCode::CONFLICT, "the order has already ended"),
        Err(Refusal::Unrecorded) => unrecorded(&api, "the order was not withdrawn"),
        Err(_) => out_of_service(),
    }
}

/// The cashier hands over the customer of the order on screen: the kiosk pushes to them, by
/// the same rule as a scan (the one-time QR is switched off first; if it was paid meanwhile,
/// that payment counts).
async fn hand_over(State(api): State<Api>, Path(order_id): Path<String>, body: Bytes) -> Response {
    let customer: CustomerBody = match parse_body(&body) {
        Ok(c) => c,
        Err(bad) => return bad.into_response(),
    };
    let to = match customer.push_to("") {
        Ok(to) => to,
        Err(e) => return invalid(&e.field, &e.reason),
    };
    if api.hub.get(&order_id).is_none() {
        return error(StatusCode::NOT_FOUND, "no such order on this lane");
    }
    let command = |reply| Command::HandOver {
        order_id: order_id.clone(),
        to,
        reply,
    };
    match ask(&api, command).await {
        Ok(()) => (StatusCode::ACCEPTED, Json(api.hub.get(&order_id))).into_response(),
        Err(Refusal::AlreadyPaid) => error(StatusCode::CONFLICT, "the customer has paid"),
        Err(Refusal::NotActive) => error(StatusCode::CONFLICT, "the order has already ended"),
        Err(Refusal::InProgress) => error(
            StatusCode::CONFLICT,
            "a payment is already waiting for the customer's approval",
        ),
        Err(Refusal::Unrecorded) => unrecorded(&api, "the customer was not handed over"),
        Err(_) => out_of_service(),
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RefundRequest {
    /// Minor units.
    amount: i64,
    /// The POS's own id for this refund: sending it again never refunds twice.
    refund_id: String,
}

/// A staff refund of (part of) a captured order. Idempotent by `refundId`.
async fn refund(State(api): State<Api>, Path(order_id): Path<String>, body: Bytes) -> Response {
    let request: RefundRequest = match parse_body(&body) {
        Ok(r) => r,
        Err(bad) => return bad.into_response(),
    };
    let id_ok = (1..=40).contains(&request.refund_id.len())
        && request
            .refund_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !id_ok {
        return invalid("refundId", "1-40 characters of a-z, A-Z, 0-9 and -");
    }
    let Some(record) = api.hub.get(&order_id) else {
        return error(StatusCode::NOT_FOUND, "no such order on this lane");
    };
    // The payment captured; a record from before the kiosk kept it names it last.
    let captured_reference = record
        .captured_reference
        .clone()
        .or_else(|| record.references.last().cloned());
    let (OrderStatus::Captured, Some(captured), Some(reference)) =
        (record.status, record.captured_amount, captured_reference)
    else {
        return error(
            StatusCode::CONFLICT,
            "only a captured order can be refunded",
        );
    };
    let left = captured - record.refunded_amount.unwrap_or(0);
    if request.amount <= 0 || request.amount > left {
        return invalid(
            "amount",
            &format!("between 1 and what is left to refund ({left})"),
        );
    }
    let refund = super::RefundOrder {
        order_id: order_id.clone(),
        reference,
        amount: Amount::new(record.currency, request.amount),
        refund_id: request.refund_id,
    };
    let (reply, answer) = Reply::new();
    if api
        .commands
        .send(Command::Refund(refund, reply))
        .await
        .is_err()
    {
        return out_of_service();
    }
    match answer.await.unwrap_or(Err(RefundRefused::OutOfService)) {
        Ok(()) => match api.hub.get(&order_id) {
            Some(r) => Json(r).into_response(),
            None => error(StatusCode::INTERNAL_SERVER_ERROR, "the order vanished"),
        },
        Err(RefundRefused::OutOfService) => out_of_service(),
        Err(RefundRefused::Unrecorded) => unrecorded(&api, "nothing was refunded"),
        Err(RefundRefused::Vipps {
            status,
            code,
            retry_after,
        }) => vipps_refused(status, code, retry_after),
    }
}

/// The answer to a refund Vipps refused (a 4xx: 409), could not take now (429: 503, with its
/// wait), or did not answer (502): the last two are to be sent again with the same refundId.
fn vipps_refused(
    status: Option<u16>,
    code: Option<u32>,
    retry_after: Option<std::time::Duration>,
) -> Response {
    // Vipps refused (a 4xx), or could not take it now (429, 5xx, no answer).
    let busy = status == Some(429);
    let conflict = !busy && status.is_some_and(|s| (400..500).contains(&s));
    let mut body = json!({
        "error": "Vipps did not refund",
        "vippsStatus": status,
        "vippsCode": code,
    });
    if !conflict {
        body["retry"] = json!("send the same refundId again: it never refunds twice");
    }
    // Vipps' wait, passed on (whole seconds, at least one).
    let wait = retry_after
        .filter(|_| busy)
        .map(|d| d.as_secs_f64().ceil().max(1.0) as u64);
    if let Some(s) = wait {
        body["retryAfterS"] = json!(s);
    }
    let status = if conflict {
        StatusCode::CONFLICT
    } else if busy {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::BAD_GATEWAY
    };
    let mut answer = (status, Json(body)).into_response();
    if let Some(s) = wait {
        answer
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, s.into());
    }
    answer
}

fn out_of_service() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the lane is out of service",
    )
}

async fn events(State(api): State<Api>) -> impl IntoResponse {
    let rx = api.hub.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(record) => {
                    let event = Event::default()
                        .event("order")
                        .json_data(&record)
                        .unwrap_or_else(|_| Event::default().comment("unserialisable"));
                    return Some((Ok::<_, std::convert::Infallible>(event), rx));
                }
                // A slow reader missed some: it can GET the orders it cares about.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn health(State(api): State<Api>) -> Response {
    // Only what is known: never a call to Vipps, nor a wait for one.
    let token_left = api
        .hub
        .client()
        .and_then(|c| c.token_expires_in())
        .map(|d| d.as_secs());
    let h = api.hub.health();
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "scannerConnected": h.scanner_connected,
        "lastScanAt": h.last_scan_at,
        "lastVippsOkAt": h.last_vipps_ok_at,
        "tokenExpiresInS": token_left,
        "journal": h.journal.as_deref().unwrap_or("not configured"),
        "brand": h.brand,
        "webhooks": match &h.webhooks {
            Some(w) => serde_json::to_value(w).unwrap_or_default(),
            None => json!("off"),
        },
        "outOfService": h.out_of_service,
    }))
    .into_response()
}

/// Serves the POS API on `listen` in the background, over TLS when `tls` is given; its
/// commands arrive on the receiver. The server stops when the receiver is dropped.
pub async fn serve(
    listen: std::net::SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
    hub: Arc<Hub>,
    token: Secret,
    rules: OrderRules,
) -> std::io::Result<mpsc::Receiver<Command>> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    serve_on(listener, tls, hub, token, rules)
}

/// `serve`, on a listener already bound.
pub fn serve_on(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    hub: Arc<Hub>,
    token: Secret,
    rules: OrderRules,
) -> std::io::Result<mpsc::Receiver<Command>> {
    let listen = listener.local_addr()?;
    tracing::info!(%listen, tls = tls.is_some(), "POS API listening");
    let (tx, rx) = mpsc::channel(16);
    let closed = tx.clone();
    let app = router(hub, token, rules, tx);
    let stop = async move { closed.closed().await };
    match tls {
        None => {
            let server = axum::serve(listener, app).with_graceful_shutdown(stop);
            tokio::spawn(async move { stopped(server.await) });
        }
        Some(config) => {
            let listener = super::tls::TlsListener::new(listener, config)?;
            let server = axum::serve(listener, app).with_graceful_shutdown(stop);
            tokio::spawn(async move { stopped(server.await) });
        }
    }
    Ok(rx)
}

fn stopped(result: std::io::Result<()>) {
    if let Err(e) = result {
        tracing::error!(error = %e, "the POS API stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::{Method, OrderUpdate, order::tests::order};
    use axum::body::Body;
    use tower::ServiceExt as _;

    /// Health over HTTP says why the lane takes no orders, and `null` once it takes them.
    #[tokio::test]
    async fn health_says_out_of_service_and_why() {
        let hub = Hub::new();
        let (tx, _rx) = mpsc::channel(1);
        let app = router(
            hub.clone(),
            Secret::new("t0ken"),
            OrderRules::new(crate::vipps::model::Currency::Nok),
            tx,
        );
        let read = |app: Router| async move {
            let answer = app
                .oneshot(
                    Request::get("/v1/health")
                        .header("authorization", "Bearer t0ken")
                        .body(Body::empty())
                        .expect("request"),
                )
                .await
                .expect("answer");
            let body = axum::body::to_bytes(answer.into_body(), 1 << 16)
                .await
                .expect("body");
            serde_json::from_slice::<Value>(&body).expect("json")
        };
        hub.set_paused(Some("Vipps refuses this lane's payments"));
        let h = read(app.clone()).await;
        assert_eq!(h["outOfService"], "Vipps refuses this lane's payments");
        hub.set_paused(None);
        let h = read(app).await;
        assert!(h["outOfService"].is_null(), "{h}");
    }

    /// An order whose first QR was approved after a renewal showed a second: the refund goes
    /// to the payment captured, not the last one tried; Vipps' 429 is "send it again" (503),
    /// not a refusal.
    #[tokio::test]
    async fn a_refund_goes_to_the_captured_payment_and_a_429_says_try_again() {
        let hub = Hub::new();
        let o = order("order-0041");
        hub.accepted(&o);
        for (status, n) in [
            (OrderStatus::Waiting, 1),
            (OrderStatus::Waiting, 2),
            (OrderStatus::Captured, 1),
        ] {
            hub.update(&OrderUpdate {
                order_id: o.order_id.clone(),
                status,
                reference: Some(format!("order-0041-{n}")),
                method: Some(Method::OneTimeQr),
                captured: (status == OrderStatus::Captured).then(|| o.total()),
                reason: None,
            });
        }
        let (tx, mut rx) = mpsc::channel(4);
        let lane = tokio::spawn(async move {
            let Some(Command::Refund(r, reply)) = rx.recv().await else {
                panic!("no refund asked for");
            };
            reply.send(Err(RefundRefused::Vipps {
                status: Some(429),
                code: None,
                retry_after: Some(std::time::Duration::from_millis(2500)),
            }));
            r.reference
        });
        let app = router(hub, Secret::new("t0ken"), OrderRules::new(o.currency), tx);
        let answer = app
            .oneshot(
                Request::post("/v1/orders/order-0041/refund")
                    .header("authorization", "Bearer t0ken")
                    .header("content-type", "application/json")
                    .body(Body::from(r#"{"amount": 100, "refundId": "r-1"}"#))
                    .expect("request"),
            )
            .await
            .expect("answer");
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            answer.headers()["retry-after"],
            "3",
            "Vipps' wait, passed on"
        );
        assert_eq!(lane.await.expect("lane"), "order-0041-1");
    }
}
