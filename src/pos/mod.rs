//! The POS API: the lane's POS hands over orders and learns outcomes over local HTTP (axum,
//! 127.0.0.1 by default, bearer token).
//!
//! The payment machine stays the only owner of payment state: the API sends `Command`s to the
//! app (one-shot replies), and the app writes every status change into the `Hub`, which the
//! API reads and streams as server-sent events.

use crate::{
    clock::now_rfc3339,
    payment::{FailureReason, Method, Order, OrderStatus, OrderUpdate},
    redact::constant_time_eq,
    sync::lock,
    vipps::{Secret, model::Currency},
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
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Largest order body accepted (a 500-line order is well under this).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What the POS sees of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRecord {
    pub order_id: String,
    pub status: OrderStatus,
    /// Every payment reference tried for this order, oldest first.
    pub references: Vec<String>,
    pub method: Option<Method>,
    /// Captured amount in minor units, once captured.
    pub captured_amount: Option<i64>,
    /// Refunded so far (staff refunds through this API), in minor units.
    #[serde(default)]
    pub refunded_amount: Option<i64>,
    pub currency: Currency,
    pub total_amount: i64,
    /// Why the last payment attempt failed, for the POS to act on.
    pub reason: Option<FailureReason>,
    pub created_at: String,
    pub updated_at: String,
}

impl OrderRecord {
    /// An order just accepted, at `at` (RFC 3339).
    pub fn new(order: &Order, at: String) -> OrderRecord {
        OrderRecord {
            order_id: order.order_id.clone(),
            status: OrderStatus::Waiting,
            references: Vec::new(),
            method: None,
            captured_amount: None,
            refunded_amount: None,
            currency: order.currency,
            total_amount: order.total_amount,
            reason: None,
            created_at: at.clone(),
            updated_at: at,
        }
    }

    /// Folds in a status change from the payment machine, made at `at`.
    pub fn apply(&mut self, u: &OrderUpdate, at: String) {
        self.status = u.status;
        if let Some(reference) = &u.reference
            && !self.references.contains(reference)
        {
            self.references.push(reference.clone());
        }
        self.method = u.method.or(self.method);
        if let Some(c) = u.captured {
            self.captured_amount = Some(c.value);
        }
        self.reason = u.reason;
        self.updated_at = at;
    }
}

/// Lane health, for `GET /v1/health`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub scanner_connected: Option<bool>,
    pub last_scan_at: Option<String>,
    pub last_vipps_ok_at: Option<String>,
    /// "ok", "not configured", or what is wrong with it.
    pub journal: Option<String>,
    /// `None` while the lane receives no webhooks.
    pub webhooks: Option<WebhookHealth>,
}

/// The webhook receiver's record, for `GET /v1/health`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookHealth {
    pub last_event_at: Option<String>,
    pub verified: u64,
    pub rejected: u64,
    /// Exact repeats of an earlier delivery, not acted on.
    pub replays: u64,
    pub last_rejection: Option<String>,
    pub last_rejection_at: Option<String>,
}

/// Shared between the app (writes) and the API (reads).
pub struct Hub {
    orders: Mutex<HashMap<String, OrderRecord>>,
    events: broadcast::Sender<OrderRecord>,
    health: Mutex<Health>,
    /// For the token's expiry in health reports.
    client: Mutex<Option<crate::vipps::Client>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").finish_non_exhaustive()
    }
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            orders: Mutex::new(HashMap::new()),
            events: broadcast::channel(256).0,
            health: Mutex::new(Health::default()),
            client: Mutex::new(None),
        }
    }
}

impl Hub {
    pub fn new() -> Arc<Hub> {
        Arc::new(Hub::default())
    }

    /// An order the machine accepted: recorded before its first status change.
    pub fn accepted(&self, order: &Order) {
        lock(&self.orders)
            .entry(order.order_id.clone())
            .or_insert_with(|| OrderRecord::new(order, now_rfc3339()));
    }

    /// Orders known from before a restart (the journal), as the POS last saw them.
    pub fn restore(&self, records: impl IntoIterator<Item = OrderRecord>) {
        let mut orders = lock(&self.orders);
        for r in records {
            orders.insert(r.order_id.clone(), r);
        }
    }

    /// A status change from the payment machine.
    pub fn update(&self, u: &OrderUpdate) {
        let record = {
            let mut orders = lock(&self.orders);
            let Some(r) = orders.get_mut(&u.order_id) else {
                return; // an order the POS did not send (demo orders)
            };
            r.apply(u, now_rfc3339());
            r.clone()
        };
        let _ = self.events.send(record);
    }

    /// Vipps confirmed a refund: `total` is the payment's refunded amount now.
    pub fn refunded(&self, order_id: &str, total: i64) -> Option<OrderRecord> {
        let record = {
            let mut orders = lock(&self.orders);
            let r = orders.get_mut(order_id)?;
            r.refunded_amount = Some(total);
            r.updated_at = now_rfc3339();
            r.clone()
        };
        let _ = self.events.send(record.clone());
        Some(record)
    }

    pub fn get(&self, order_id: &str) -> Option<OrderRecord> {
        lock(&self.orders).get(order_id).cloned()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<OrderRecord> {
        self.events.subscribe()
    }

    pub fn set_scanner(&self, connected: bool) {
        lock(&self.health).scanner_connected = Some(connected);
    }

    pub fn scanned(&self) {
        lock(&self.health).last_scan_at = Some(now_rfc3339());
    }

    pub fn vipps_ok(&self) {
        lock(&self.health).last_vipps_ok_at = Some(now_rfc3339());
    }

    pub fn set_client(&self, client: crate::vipps::Client) {
        *lock(&self.client) = Some(client);
    }

    /// The lane receives webhooks.
    pub fn webhooks_on(&self) {
        lock(&self.health)
            .webhooks
            .get_or_insert_with(WebhookHealth::default);
    }

    pub fn webhook_verified(&self) {
        let mut h = lock(&self.health);
        let w = h.webhooks.get_or_insert_with(WebhookHealth::default);
        w.verified += 1;
        w.last_event_at = Some(now_rfc3339());
    }

    pub fn webhook_replayed(&self) {
        let mut h = lock(&self.health);
        h.webhooks
            .get_or_insert_with(WebhookHealth::default)
            .replays += 1;
    }

    pub fn webhook_rejected(&self, why: &str) {
        let mut h = lock(&self.health);
        let w = h.webhooks.get_or_insert_with(WebhookHealth::default);
        w.rejected += 1;
        w.last_rejection = Some(why.to_string());
        w.last_rejection_at = Some(now_rfc3339());
    }

    pub fn set_journal(&self, status: impl Into<String>) {
        lock(&self.health).journal = Some(status.into());
    }

    pub fn health(&self) -> Health {
        lock(&self.health).clone()
    }
}

/// Why the app did not take a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Another order is being paid.
    Busy,
    /// No such active order (or it has ended).
    NotActive,
    /// The customer has paid: it cannot be withdrawn, only refunded.
    AlreadyPaid,
    /// The lane cannot take payments (out of service).
    OutOfService,
}

/// A one-shot reply that can travel in a `Clone` message.
#[derive(Debug, Clone)]
pub struct Reply(Arc<Mutex<Option<ReplySender>>>);

type ReplySender = oneshot::Sender<Result<(), Refusal>>;

impl Reply {
    /// A reply and where its answer arrives.
    pub fn new() -> (Reply, oneshot::Receiver<Result<(), Refusal>>) {
        let (tx, rx) = oneshot::channel();
        (Reply(Arc::new(Mutex::new(Some(tx)))), rx)
    }

    pub fn send(&self, result: Result<(), Refusal>) {
        if let Some(tx) = lock(&self.0).take() {
            let _ = tx.send(result);
        }
    }
}

#[derive(Debug, Clone)]
pub enum Command {
    Submit(Box<Order>, Reply),
    Cancel(String, Reply),
    /// A refund Vipps confirmed, for the journal: the order's refunded total now.
    Refunded {
        order_id: String,
        total: i64,
    },
}

#[derive(Clone)]
struct Api {
    hub: Arc<Hub>,
    token: Secret,
    currency: Currency,
    commands: mpsc::Sender<Command>,
}

/// The POS API's routes. `commands` reach the app; the hub is what the app writes.
pub fn router(
    hub: Arc<Hub>,
    token: Secret,
    currency: Currency,
    commands: mpsc::Sender<Command>,
) -> Router {
    let api = Api {
        hub,
        token,
        currency,
        commands,
    };
    Router::new()
        .route("/v1/orders", post(submit))
        .route("/v1/orders/{order_id}", get(status))
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

async fn submit(State(api): State<Api>, body: Bytes) -> Response {
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("malformed JSON: {e}")),
    };
    let order: Order = match serde_path_to_error::deserialize(value) {
        Ok(o) => o,
        Err(e) => {
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
            return invalid(if field == "." { "(body)" } else { &field }, &reason);
        }
    };
    if let Err(e) = order.validate(api.currency) {
        return invalid(&e.field, &e.reason);
    }
    if api.hub.get(&order.order_id).is_some() {
        return invalid("orderId", "this orderId was already used on this lane");
    }
    let id = order.order_id.clone();
    match ask(&api, |reply| Command::Submit(Box::new(order), reply)).await {
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
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the lane is out of service",
        ),
    }
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
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the lane is out of service",
        ),
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
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("malformed JSON: {e}")),
    };
    let request: RefundRequest = match serde_path_to_error::deserialize(value) {
        Ok(r) => r,
        Err(e) => {
            let field = e.path().to_string();
            let reason = e.inner().to_string();
            let field = match reason.strip_prefix("missing field `") {
                Some(rest) => rest.split('`').next().unwrap_or_default().to_string(),
                None if field == "." => "(body)".into(),
                None => field,
            };
            return invalid(&field, &reason);
        }
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
    let (OrderStatus::Captured, Some(captured), Some(reference)) = (
        record.status,
        record.captured_amount,
        record.references.last().cloned(),
    ) else {
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
    let Some(client) = lock(&api.hub.client).clone() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the lane is out of service",
        );
    };
    let amount = crate::vipps::model::Amount::new(record.currency, request.amount);
    let key = format!("refund-{}", request.refund_id);
    match client.refund(&reference, amount, &key).await {
        Ok(m) => {
            tracing::info!(order = %order_id, %reference, amount = request.amount, "refunded");
            let total = m.aggregate.refunded_amount.value;
            // The journal keeps it across restarts (the lane writes it; Vipps keeps the truth).
            let journaled = api
                .commands
                .send(Command::Refunded {
                    order_id: order_id.clone(),
                    total,
                })
                .await;
            if journaled.is_err() {
                tracing::warn!(order = %order_id, "the lane is gone; the refund is not journaled");
            }
            match api.hub.refunded(&order_id, total) {
                Some(r) => Json(r).into_response(),
                None => error(StatusCode::INTERNAL_SERVER_ERROR, "the order vanished"),
            }
        }
        Err(e) => {
            tracing::warn!(order = %order_id, %reference, error = %e, "refund failed");
            let status = match e.status() {
                Some(s) if (400..500).contains(&s) => StatusCode::CONFLICT,
                _ => StatusCode::BAD_GATEWAY,
            };
            let mut body = json!({
                "error": "Vipps did not refund",
                "vippsStatus": e.status(),
                "vippsCode": e.code(),
            });
            if status == StatusCode::BAD_GATEWAY {
                body["retry"] = json!("send the same refundId again: it never refunds twice");
            }
            (status, Json(body)).into_response()
        }
    }
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
    let client = lock(&api.hub.client).clone();
    let token_left = match client {
        Some(c) => c.token_expires_in().await.map(|d| d.as_secs()),
        None => None,
    };
    let h = api.hub.health();
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "scannerConnected": h.scanner_connected,
        "lastScanAt": h.last_scan_at,
        "lastVippsOkAt": h.last_vipps_ok_at,
        "tokenExpiresInS": token_left,
        "journal": h.journal.as_deref().unwrap_or("not configured"),
        "webhooks": match &h.webhooks {
            Some(w) => serde_json::to_value(w).unwrap_or_default(),
            None => json!("off"),
        },
    }))
    .into_response()
}

/// Serves the POS API on `listen` in the background; its commands arrive on the receiver.
/// The server stops when the receiver is dropped.
pub async fn serve(
    listen: std::net::SocketAddr,
    hub: Arc<Hub>,
    token: Secret,
    currency: Currency,
) -> std::io::Result<mpsc::Receiver<Command>> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(%listen, "POS API listening");
    let (tx, rx) = mpsc::channel(16);
    let closed = tx.clone();
    let app = router(hub, token, currency, tx);
    tokio::spawn(async move {
        let stopped = axum::serve(listener, app).with_graceful_shutdown(async move {
            closed.closed().await;
        });
        if let Err(e) = stopped.await {
            tracing::error!(error = %e, "the POS API stopped");
        }
    });
    Ok(rx)
}

/// Answers a command when the lane cannot take payments.
pub fn reject_out_of_service(command: Command) {
    match command {
        Command::Submit(_, reply) | Command::Cancel(_, reply) => {
            reply.send(Err(Refusal::OutOfService))
        }
        // Refunds need a working lane's client; none is made out of service.
        Command::Refunded { .. } => {}
    }
}
