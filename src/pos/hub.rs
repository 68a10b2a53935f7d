//! The hub the lane writes and the POS API reads: every order's record as the POS sees it
//! (streamed as server-sent events on change), and the lane's health.

use super::OrderRecord;
use crate::{
    clock::now_rfc3339,
    market::{Brand, BrandChoice, Market, Today},
    payment::{Order, OrderUpdate},
    sync::lock,
};
use serde::Serialize;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use tokio::sync::broadcast;

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
    /// The brand the lane's screens show today.
    pub brand: Option<Brand>,
    /// Why the lane takes no orders, while it takes none (its screen says Out of service).
    pub out_of_service: Option<String>,
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
    /// What decides the lane's brand (it changes by date).
    brand: Mutex<Option<(Market, BrandChoice, Today)>>,
    /// Out of service for good (`set_out_of_service`), or for a while (`set_paused`).
    stopped: Mutex<Option<String>>,
    paused: Mutex<Option<String>>,
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
            brand: Mutex::new(None),
            stopped: Mutex::new(None),
            paused: Mutex::new(None),
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

    /// The lane's Vipps client, once it has one.
    pub(super) fn client(&self) -> Option<crate::vipps::Client> {
        lock(&self.client).clone()
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

    /// Why the lane cannot run at all (its configuration, its journal): for as long as it runs.
    pub fn set_out_of_service(&self, reason: &str) {
        *lock(&self.stopped) = Some(reason.to_string());
    }

    /// Why the lane's machine takes no orders for a while, or `None` once it takes them again.
    pub fn set_paused(&self, reason: Option<&str>) {
        let mut paused = lock(&self.paused);
        if paused.as_deref() != reason {
            *paused = reason.map(str::to_string);
        }
    }

    pub fn set_journal(&self, status: impl Into<String>) {
        lock(&self.health).journal = Some(status.into());
    }

    /// The lane's market and brand setting, for the brand in health reports.
    pub fn set_brand(&self, market: Market, choice: BrandChoice, today: Today) {
        *lock(&self.brand) = Some((market, choice, today));
    }

    pub fn health(&self) -> Health {
        let brand = *lock(&self.brand);
        let stopped = lock(&self.stopped).clone();
        Health {
            brand: brand.map(|(m, choice, today)| m.branding(choice, today.date(m)).brand),
            out_of_service: stopped.or_else(|| lock(&self.paused).clone()),
            ..lock(&self.health).clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_says_why_the_lane_is_out_of_service_and_a_pause_clears() {
        let hub = Hub::new();
        assert_eq!(hub.health().out_of_service, None);
        hub.set_paused(Some("Vipps refuses"));
        assert_eq!(
            hub.health().out_of_service.as_deref(),
            Some("Vipps refuses")
        );
        hub.set_paused(None);
        assert_eq!(hub.health().out_of_service, None, "the pause is over");
        hub.set_out_of_service("no journal");
        hub.set_paused(None);
        assert_eq!(
            hub.health().out_of_service.as_deref(),
            Some("no journal"),
            "a lane that cannot run stays out of service"
        );
    }
}
