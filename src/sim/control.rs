//! The control API under `/_sim/` that plays the customer's phone: the payments as the
//! simulator sees them, acting on them (open, approve, reject, expire), the settings
//! (auto-approval), and opening a one-time QR.

use super::{
    backend::{self, PhoneAction, Reply, problem},
    shared::Shared,
};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;

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
    /// The day the simulator takes as today (`YYYY-MM-DD`); null for the real date.
    #[serde(default)]
    today: Option<String>,
}

const DATE: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

async fn settings_get(State(s): State<Arc<Shared>>) -> Json<Value> {
    let b = s.backend();
    Json(json!({
        "autoApproveAfterMs": b.auto_approve_after_s.map(|v| (v * 1000.0) as u64),
        "timeScale": s.config.time_scale,
        "currency": b.currency,
        "links": b.links,
        "today": b.today().format(DATE).unwrap_or_default(),
    }))
}

async fn settings_set(State(s): State<Arc<Shared>>, body: Bytes) -> Reply {
    match serde_json::from_slice::<Settings>(&body) {
        Ok(set) => {
            let today = match set.today.as_deref().map(|d| time::Date::parse(d, DATE)) {
                None => None,
                Some(Ok(d)) => Some(d),
                Some(Err(e)) => {
                    return problem(400, None, "Bad Request", &format!("today: {e}"));
                }
            };
            let mut b = s.backend();
            b.auto_approve_after_s = set.auto_approve_after_ms.map(|ms| ms as f64 / 1000.0);
            b.today = today;
            Reply {
                status: 200,
                body: serde_json::to_value(set).unwrap_or_default(),
            }
        }
        Err(e) => problem(400, None, "Bad Request", &format!("settings: {e}")),
    }
}

/// What the phone sees when it opens a one-time QR or landing page, by the payment's code.
/// Opening it is what eCom reports as `transactionId` on the INITIATE entry.
pub(super) async fn qr_opened(State(s): State<Arc<Shared>>, Path(code): Path<String>) -> Reply {
    let mut b = s.backend();
    let reference = b.by_code(&code).map(|p| p.reference.clone());
    if let Some(r) = &reference {
        let _ = b.phone(r, PhoneAction::Open);
    }
    match reference.as_deref().and_then(|r| b.payment(r)) {
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

/// `/_sim/payments…`, `/_sim/settings` and `/_sim/qr/{token}`.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim/payments", get(control_list))
        .route("/_sim/payments/{reference}", get(control_get))
        .route("/_sim/payments/{reference}/{action}", post(control_act))
        .route("/_sim/settings", get(settings_get).post(settings_set))
        .route("/_sim/qr/{token}", get(qr_opened))
}
