//! An embedded Vipps MobilePay simulator (axum, 127.0.0.1): the access token and ePayment
//! endpoints the kiosk uses, with the official field names, states, problem+json errors,
//! idempotency and expiry; and a control API under `/_sim/` that plays the customer's phone.

pub mod backend;
mod endpoint;
mod faults;
mod limits;
mod rng;
mod shared;
pub mod webhooks;

pub use faults::{ApiFault, ApiFaults, FaultCounts};
pub use limits::RateLimits;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
};
use backend::{Backend, PhoneAction, Reply, problem};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::{sync::lock, vipps::model::Currency};
use faults::FaultState;
use limits::Limiter;
use rng::Rng;
use shared::Shared;

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Simulator seconds per real second: 60 makes the 10-minute QR window last 10 s.
    pub time_scale: f64,
    /// Approve every CREATED payment this long (simulator time) after it was created.
    pub auto_approve_after: Option<Duration>,
    /// The simulated sales unit's currency (5040 for others); any when None.
    pub currency: Option<Currency>,
    /// Accepted credentials; `None` accepts any non-empty value.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Access token lifetime in seconds (1 hour in Vipps' test environment).
    pub token_lifetime_s: u64,
    /// Vipps' rate limits per payment.
    pub rate_limits: RateLimits,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            time_scale: 1.0,
            auto_approve_after: None,
            currency: None,
            client_id: None,
            client_secret: None,
            token_lifetime_s: 3600,
            rate_limits: RateLimits::default(),
        }
    }
}

/// A running simulator. Dropping it stops the server.
pub struct Simulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Simulator {
    /// Binds `listen` (use port 0 for any free port) and serves on the current tokio runtime.
    pub async fn start(listen: SocketAddr, config: SimConfig) -> std::io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let mut backend = Backend::new(format!("http://{addr}"));
        backend.currency = config.currency;
        backend.auto_approve_after_s = config.auto_approve_after.map(|d| d.as_secs_f64());
        let rng = Arc::new(Rng::new(Rng::SEED));
        let shared = Arc::new(Shared {
            backend: Mutex::new(backend),
            tokens: Mutex::new(HashMap::new()),
            start: Instant::now(),
            webhooks: Arc::new(webhooks::Webhooks::new(
                tokio::runtime::Handle::current(),
                rng.clone(),
            )),
            faults: Mutex::new(FaultState::default()),
            rng,
            limiter: Mutex::new(Limiter::new(config.rate_limits.clone())),
            config,
        });
        let app = router(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "simulator stopped");
            }
        });
        tracing::info!(%addr, "Vipps simulator listening");
        Ok(Simulator { addr, shared, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Runs until the server task ends (for `vipps-kiosk sim`).
    pub async fn serve_forever(mut self) {
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
    }

    /// The control API's list, in-process (tests).
    pub fn payments(&self) -> Vec<Value> {
        let b = self.shared.backend();
        b.list().into_iter().map(backend::control_view).collect()
    }

    /// The customer's phone acting on a payment, in-process (tests).
    pub fn phone(&self, reference: &str, action: PhoneAction) -> bool {
        let now = self.shared.now();
        let mut b = self.shared.backend();
        b.advance(now);
        b.phone(reference, action).is_success()
    }

    /// Webhook delivery faults, in-process (tests, benchmarks).
    pub fn set_webhook_faults(&self, faults: webhooks::Faults) {
        self.shared.webhooks.set_faults(faults);
    }

    /// API faults, in-process (tests).
    pub fn set_faults(&self, faults: ApiFaults) {
        faults::set_faults(&self.shared, faults);
    }

    /// How often the API faults struck.
    pub fn fault_counts(&self) -> FaultCounts {
        lock(&self.shared.faults).counts
    }

    /// How many webhook deliveries were sent, dropped and failed.
    pub fn webhook_counts(&self) -> webhooks::Counts {
        self.shared.webhooks.counts()
    }

    /// Rate limits, in-process (tests).
    pub fn set_rate_limits(&self, limits: RateLimits) {
        lock(&self.shared.limiter).set(limits);
    }

    /// How many calls the rate limits refused.
    pub fn rate_limited(&self) -> u64 {
        lock(&self.shared.limiter).refused()
    }

    pub fn set_auto_approve(&self, after: Option<Duration>) {
        self.shared.backend().auto_approve_after_s = after.map(|d| d.as_secs_f64());
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(faults::routes())
        .merge(limits::routes())
        .route("/accesstoken/get", post(access_token))
        .route("/epayment/v1/payments", post(create_payment))
        .route("/epayment/v1/payments/{reference}", get(get_payment))
        .route(
            "/epayment/v1/payments/{reference}/events",
            get(payment_events),
        )
        .route("/epayment/v1/payments/{reference}/capture", post(capture))
        .route("/epayment/v1/payments/{reference}/cancel", post(cancel))
        .route("/epayment/v1/payments/{reference}/refund", post(refund))
        .route("/qr/v1/exchange", post(qr_exchange))
        .route("/qr/v1", post(one_time_qr))
        .route("/ecomm/v2/payments", post(ecom_initiate))
        .route("/ecomm/v2/payments/{order_id}/details", get(ecom_details))
        .route("/ecomm/v2/payments/{order_id}/capture", post(ecom_capture))
        .route("/ecomm/v2/payments/{order_id}/cancel", put(ecom_cancel))
        .route("/ecomm/v2/payments/{order_id}/refund", post(ecom_refund))
        .route(
            "/dwo-api-application/v1/deeplink/vippsgateway",
            get(landing_opened),
        )
        .route(
            "/webhooks/v1/webhooks",
            post(webhook_register).get(webhook_list),
        )
        .route("/webhooks/v1/webhooks/{id}", delete(webhook_delete))
        .route(
            "/_sim/webhooks/faults",
            get(faults_get).post(faults_set).delete(faults_clear),
        )
        .route("/_sim/webhooks", get(webhooks_control))
        .route("/_sim/payments", get(control_list))
        .route("/_sim/payments/{reference}", get(control_get))
        .route("/_sim/payments/{reference}/{action}", post(control_act))
        .route("/_sim/settings", get(settings_get).post(settings_set))
        .route("/_sim/qr/{token}", get(qr_opened))
        .route("/_sim/qr-image/{file}", get(qr_image))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            limits::rate_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            faults::inject_faults,
        ))
        .with_state(shared)
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // problem+json for ePayment and Webhooks problems; eCom's error array, the QR API's
        // errors and the gateway's are plain JSON.
        let content_type = if self.is_success() || self.body.get("traceId").is_none() {
            "application/json"
        } else {
            "application/problem+json"
        };
        (
            status,
            [(header::CONTENT_TYPE, content_type)],
            self.body.to_string(),
        )
            .into_response()
    }
}

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

async fn access_token(State(s): State<Arc<Shared>>, h: HeaderMap) -> Reply {
    let id = header_str(&h, "client_id");
    let secret = header_str(&h, "client_secret");
    let key = header_str(&h, "Ocp-Apim-Subscription-Key");
    let accepted = |given: Option<&str>, want: &Option<String>| match (given, want) {
        (None, _) => false,
        (Some(g), Some(w)) => g == w,
        (Some(_), None) => true,
    };
    if key.is_none()
        || !accepted(id, &s.config.client_id)
        || !accepted(secret, &s.config.client_secret)
    {
        return problem(
            401,
            None,
            "Unauthorized",
            "invalid client_id, client_secret or subscription key",
        );
    }
    let lifetime = s.config.token_lifetime_s;
    let mut tokens = lock(&s.tokens);
    let token = format!(
        "sim.{:016x}.{}",
        tokens.len() as u64 ^ 0x5eed_cafe,
        s.start.elapsed().as_nanos()
    );
    tokens.insert(
        token.clone(),
        Instant::now() + Duration::from_secs(lifetime),
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Reply {
        status: 200,
        body: json!({
            "token_type": "Bearer",
            "expires_in": lifetime.to_string(),
            "ext_expires_in": "0",
            "expires_on": (now + lifetime as i64).to_string(),
            "not_before": now.to_string(),
            "resource": "00000002-0000-0000-c000-000000000000",
            "access_token": token,
        }),
    }
}

/// The headers every ePayment call needs: a valid bearer token, a subscription key and an MSN.
fn authorize(s: &Shared, h: &HeaderMap) -> Result<(), Reply> {
    let bearer = header_str(h, "Authorization").and_then(|v| v.strip_prefix("Bearer "));
    let valid = bearer.is_some_and(|t| {
        let tokens = lock(&s.tokens);
        tokens
            .get(t.trim())
            .is_some_and(|exp| Instant::now() < *exp)
    });
    if !valid {
        return Err(problem(
            401,
            None,
            "Unauthorized",
            "missing, invalid or expired access token",
        ));
    }
    if header_str(h, "Ocp-Apim-Subscription-Key").is_none() {
        return Err(problem(
            401,
            None,
            "Unauthorized",
            "missing Ocp-Apim-Subscription-Key",
        ));
    }
    match header_str(h, "Merchant-Serial-Number") {
        Some(m) if (4..=10).contains(&m.len()) && m.chars().all(|c| c.is_ascii_digit()) => Ok(()),
        _ => Err(problem(
            400,
            None,
            "Bad Request",
            "Merchant-Serial-Number must match ^[0-9]{4,10}$",
        )),
    }
}

fn idempotency_key(h: &HeaderMap, required: bool) -> Result<Option<String>, Reply> {
    match header_str(h, "Idempotency-Key") {
        Some(k) if k.len() <= 50 => Ok(Some(k.to_string())),
        Some(_) => Err(problem(
            400,
            None,
            "Bad Request",
            "Idempotency-Key is longer than 50 characters",
        )),
        None if required => Err(problem(
            400,
            Some(4140),
            "Bad Request",
            "missing Idempotency-Key header",
        )),
        None => Ok(None),
    }
}

fn json_body(body: &Bytes, optional: bool) -> Result<Value, Reply> {
    if body.is_empty() && optional {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body)
        .map_err(|e| problem(400, None, "Bad Request", &format!("malformed JSON: {e}")))
}

async fn create_payment(State(s): State<Arc<Shared>>, h: HeaderMap, body: Bytes) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize(&s, &h)?;
        let key = idempotency_key(&h, true)?.unwrap_or_default();
        let body = json_body(&body, false)?;
        let now = s.now();
        let reference = body["reference"].as_str().unwrap_or_default().to_string();
        let mut b = s.backend();
        let reply = b.create(&key, body, now);
        if let Some(msn) = header_str(&h, "Merchant-Serial-Number") {
            b.set_msn(&reference, msn);
        }
        Ok(reply)
    };
    run().unwrap_or_else(|e| e)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterRequest {
    url: String,
    events: Vec<String>,
}

async fn webhook_register(State(s): State<Arc<Shared>>, h: HeaderMap, body: Bytes) -> Reply {
    if let Err(e) = authorize(&s, &h) {
        return e;
    }
    let request: RegisterRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return problem(400, None, "Bad Request", &format!("body: {e}")),
    };
    match s.webhooks.register(&request.url, request.events) {
        Ok(r) => Reply {
            status: 201,
            body: json!({ "id": r.id, "secret": r.secret }),
        },
        Err(why) => problem(400, None, "Bad Request", &why),
    }
}

async fn webhook_list(State(s): State<Arc<Shared>>, h: HeaderMap) -> Reply {
    if let Err(e) = authorize(&s, &h) {
        return e;
    }
    Reply {
        status: 200,
        body: json!({ "webhooks": s.webhooks.list() }),
    }
}

async fn webhook_delete(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = authorize(&s, &h) {
        return e.into_response();
    }
    if s.webhooks.delete(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        problem(404, None, "Not Found", "no webhook with this id").into_response()
    }
}

async fn faults_get(State(s): State<Arc<Shared>>) -> Reply {
    Reply {
        status: 200,
        body: serde_json::to_value(s.webhooks.faults()).unwrap_or_default(),
    }
}

async fn faults_set(State(s): State<Arc<Shared>>, body: Bytes) -> Reply {
    match serde_json::from_slice::<webhooks::Faults>(&body) {
        Ok(f) => {
            s.webhooks.set_faults(f.clone());
            Reply {
                status: 200,
                body: serde_json::to_value(f).unwrap_or_default(),
            }
        }
        Err(e) => problem(400, None, "Bad Request", &format!("faults: {e}")),
    }
}

async fn faults_clear(State(s): State<Arc<Shared>>) -> Reply {
    s.webhooks.set_faults(webhooks::Faults::default());
    Reply {
        status: 200,
        body: serde_json::to_value(webhooks::Faults::default()).unwrap_or_default(),
    }
}

async fn webhooks_control(State(s): State<Arc<Shared>>) -> Reply {
    Reply {
        status: 200,
        body: json!({ "webhooks": s.webhooks.list(), "deliveries": s.webhooks.counts() }),
    }
}

async fn get_payment(State(s): State<Arc<Shared>>, h: HeaderMap, Path(r): Path<String>) -> Reply {
    authorize(&s, &h).map_or_else(|e| e, |()| s.backend().get(&r))
}

async fn payment_events(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(r): Path<String>,
) -> Reply {
    authorize(&s, &h).map_or_else(|e| e, |()| s.backend().events(&r))
}

/// A capture or refund: authorized, keyed, with a JSON body.
fn modify(
    s: &Shared,
    h: &HeaderMap,
    reference: &str,
    body: &Bytes,
    apply: fn(&mut Backend, &str, &str, Value) -> Reply,
) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize(s, h)?;
        let key = idempotency_key(h, true)?.unwrap_or_default();
        let body = json_body(body, false)?;
        Ok(apply(&mut s.backend(), reference, &key, body))
    };
    run().unwrap_or_else(|e| e)
}

async fn capture(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(r): Path<String>,
    body: Bytes,
) -> Reply {
    modify(&s, &h, &r, &body, Backend::capture)
}

async fn qr_exchange(State(s): State<Arc<Shared>>, h: HeaderMap, body: Bytes) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize(&s, &h)?;
        let body = json_body(&body, false)?;
        Ok(backend::exchange(
            &body,
            time::OffsetDateTime::now_utc().unix_timestamp(),
        ))
    };
    run().unwrap_or_else(|e| e)
}

async fn refund(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(r): Path<String>,
    body: Bytes,
) -> Reply {
    modify(&s, &h, &r, &body, Backend::refund)
}

async fn cancel(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(r): Path<String>,
    body: Bytes,
) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize(&s, &h)?;
        let key = idempotency_key(&h, false)?;
        let body = json_body(&body, true)?;
        Ok(s.backend().cancel(&r, key.as_deref(), body))
    };
    run().unwrap_or_else(|e| e)
}

async fn control_list(State(s): State<Arc<Shared>>) -> Json<Vec<Value>> {
    let b = s.backend();
    Json(b.list().into_iter().map(backend::control_view).collect())
}

async fn control_get(State(s): State<Arc<Shared>>, Path(r): Path<String>) -> Reply {
    match s.backend().payment(&r) {
        Some(p) => Reply {
            status: 200,
            body: backend::control_view(p),
        },
        None => problem(404, None, "Not Found", "no payment with that reference"),
    }
}

async fn control_act(
    State(s): State<Arc<Shared>>,
    Path((r, action)): Path<(String, String)>,
) -> Reply {
    let action = match action.as_str() {
        "open" => PhoneAction::Open,
        "approve" => PhoneAction::Approve,
        "reject" => PhoneAction::Reject,
        "expire" => PhoneAction::Expire,
        other => {
            return problem(
                404,
                None,
                "Not Found",
                &format!("unknown action {other:?}: open, approve, reject or expire"),
            );
        }
    };
    s.backend().phone(&r, action)
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Settings {
    /// Milliseconds of simulator time; null turns auto-approval off.
    auto_approve_after_ms: Option<u64>,
}

async fn settings_get(State(s): State<Arc<Shared>>) -> Json<Value> {
    let b = s.backend();
    Json(json!({
        "autoApproveAfterMs": b.auto_approve_after_s.map(|v| (v * 1000.0) as u64),
        "timeScale": s.config.time_scale,
        "currency": b.currency,
    }))
}

async fn settings_set(State(s): State<Arc<Shared>>, body: Bytes) -> Reply {
    match serde_json::from_slice::<Settings>(&body) {
        Ok(set) => {
            s.backend().auto_approve_after_s =
                set.auto_approve_after_ms.map(|ms| ms as f64 / 1000.0);
            Reply {
                status: 200,
                body: serde_json::to_value(set).unwrap_or_default(),
            }
        }
        Err(e) => problem(400, None, "Bad Request", &format!("settings: {e}")),
    }
}

/// What the phone sees when it opens a one-time QR. Opening it is what eCom reports as
/// `transactionId` on the INITIATE entry.
async fn qr_opened(State(s): State<Arc<Shared>>, Path(token): Path<String>) -> Reply {
    let mut b = s.backend();
    let reference = b.by_qr_token(&token).map(|p| p.reference.clone());
    if let Some(r) = &reference {
        let _ = b.phone(r, PhoneAction::Open);
    }
    match reference.and_then(|r| b.payment(&r)) {
        Some(p) => Reply {
            status: 200,
            body: json!({
                "reference": p.reference,
                "state": p.state,
                "amount": p.amount,
                "paymentDescription": p.payment_description,
            }),
        },
        None => problem(404, None, "Not Found", "unknown or expired QR"),
    }
}

#[derive(Deserialize)]
struct ImageQuery {
    size: Option<u32>,
}

/// The QR image link: a PNG (`size` px, 1024 by default) or an SVG drawn by the simulator;
/// 404 once the QR can no longer be opened.
async fn qr_image(
    State(s): State<Arc<Shared>>,
    Path(file): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ImageQuery>,
) -> Response {
    let (token, ext) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    let now = s.now();
    let b = s.backend();
    let target = b
        .by_qr_token(token)
        .filter(|p| p.state == crate::vipps::model::PaymentState::Created)
        .filter(|p| p.opened.is_some() || now < p.qr_expires_at)
        .and_then(|p| p.qr_target_url.clone());
    drop(b);
    let Some(target) = target else {
        return (StatusCode::NOT_FOUND, "QR expired or unknown").into_response();
    };
    let Ok(code) = qrcode::QrCode::new(target.as_bytes()) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "QR text too long").into_response();
    };
    match ext {
        "svg" => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(400, 400)
                .build();
            ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
        }
        "png" => match png_of(&code, q.size.unwrap_or(1024).clamp(100, 2000)) {
            Some(png) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
            None => (StatusCode::INTERNAL_SERVER_ERROR, "PNG encoding failed").into_response(),
        },
        _ => (StatusCode::NOT_FOUND, "unknown image type").into_response(),
    }
}

/// A black-on-white PNG of `code` with the quiet zone, about `size` px square.
fn png_of(code: &qrcode::QrCode, size: u32) -> Option<Vec<u8>> {
    let img = code
        .render::<image::Luma<u8>>()
        .min_dimensions(size, size)
        .max_dimensions(size.max(100) * 2, size.max(100) * 2)
        .build();
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .ok()?;
    Some(png)
}

/// eCom and QR API calls: a valid token and subscription key (the MSN header is optional
/// there). Refusals come in the API gateway's shape, as at Vipps.
fn authorize_gateway(s: &Shared, h: &HeaderMap) -> Result<(), Reply> {
    match authorize(s, h) {
        Ok(()) => Ok(()),
        Err(r) if r.status == 400 => Ok(()), // only the MSN header was off
        Err(r) => Err(Reply {
            status: r.status,
            body: json!({
                "responseInfo": { "responseCode": r.status, "responseMessage": "Unauthorized" },
                "result": { "message": r.body["detail"] },
            }),
        }),
    }
}

async fn ecom_initiate(State(s): State<Arc<Shared>>, h: HeaderMap, body: Bytes) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize_gateway(&s, &h)?;
        let body = ecom_json(&body)?;
        let now = s.now();
        Ok(s.backend().ecom_initiate(&body, now))
    };
    run().unwrap_or_else(|e| e)
}

/// eCom bodies: malformed JSON is an eCom error, not a problem.
fn ecom_json(body: &Bytes) -> Result<Value, Reply> {
    serde_json::from_slice(body).map_err(|e| {
        backend::ecom::ecom_error(400, "InvalidRequest", 0, &format!("malformed JSON: {e}"))
    })
}

async fn ecom_details(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(order_id): Path<String>,
) -> Reply {
    authorize_gateway(&s, &h).map_or_else(|e| e, |()| s.backend().ecom_details(&order_id))
}

async fn ecom_capture(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Reply {
    ecom_keyed(&s, &h, &order_id, &body, Backend::ecom_capture)
}

async fn ecom_refund(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Reply {
    ecom_keyed(&s, &h, &order_id, &body, Backend::ecom_refund)
}

/// An eCom capture or refund: authorized, with a JSON body and its `X-Request-Id`.
fn ecom_keyed(
    s: &Shared,
    h: &HeaderMap,
    order_id: &str,
    body: &Bytes,
    apply: fn(&mut Backend, &str, Option<&str>, &Value) -> Reply,
) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize_gateway(s, h)?;
        let body = ecom_json(body)?;
        let id = header_str(h, "X-Request-Id");
        Ok(apply(&mut s.backend(), order_id, id, &body))
    };
    run().unwrap_or_else(|e| e)
}

async fn ecom_cancel(
    State(s): State<Arc<Shared>>,
    h: HeaderMap,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize_gateway(&s, &h)?;
        let body = ecom_json(&body)?;
        Ok(s.backend().ecom_cancel(&order_id, &body))
    };
    run().unwrap_or_else(|e| e)
}

/// `POST /qr/v1`. `expiresIn` is given in real seconds, whatever the time scale.
async fn one_time_qr(State(s): State<Arc<Shared>>, h: HeaderMap, body: Bytes) -> Reply {
    let run = || -> Result<Reply, Reply> {
        authorize_gateway(&s, &h)?;
        let body: Value = serde_json::from_slice(&body).map_err(|e| Reply {
            status: 400,
            body: json!({ "title": "Bad Request", "detail": format!("malformed JSON: {e}"),
                          "instance": "sim" }),
        })?;
        let now = s.now();
        let mut reply =
            s.backend()
                .one_time_qr(&body, header_str(&h, "Accept"), header_str(&h, "Size"), now);
        if let Some(e) = reply.body.get("expiresIn").and_then(Value::as_f64) {
            reply.body["expiresIn"] = json!((e / s.config.time_scale).floor() as u64);
        }
        Ok(reply)
    };
    run().unwrap_or_else(|e| e)
}

#[derive(Deserialize)]
struct LandingQuery {
    token: Option<String>,
}

/// The eCom landing-page link, opened by the phone (the one-time QR carries it, or its target).
async fn landing_opened(
    State(s): State<Arc<Shared>>,
    axum::extract::Query(q): axum::extract::Query<LandingQuery>,
) -> Reply {
    qr_opened(State(s), Path(q.token.unwrap_or_default())).await
}
