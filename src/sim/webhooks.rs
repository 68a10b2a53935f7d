//! The simulator's Webhooks API (`/webhooks/v1/webhooks`: register, list, delete) and its
//! control under `/_sim/webhooks` (registrations with their queues, delivery counts, delivery
//! faults). Delivery itself is in `delivery`, each registration's queue rules in `queue`.

mod delivery;
mod queue;

pub use delivery::{
    ANSWER_WITHIN, Clock, Counts, Faults, REMOVE_AFTER_S, RETRY_FOR_S, Refusal, Registration,
    Webhooks, backoff_s,
};

use super::{
    auth::authorize,
    backend::{Reply, problem},
    shared::Shared,
};
use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

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
    match serde_json::from_slice::<Faults>(&body) {
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
    s.webhooks.set_faults(Faults::default());
    Reply {
        status: 200,
        body: serde_json::to_value(Faults::default()).unwrap_or_default(),
    }
}

async fn webhooks_control(State(s): State<Arc<Shared>>) -> Reply {
    Reply {
        status: 200,
        body: s.webhooks.control_view(),
    }
}

/// `/webhooks/v1/webhooks…` and `/_sim/webhooks…`.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
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
}
