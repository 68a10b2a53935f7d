//! The state every part of the simulator shares, and the backend's guard: locked, with time
//! applied up to now, and handing the events it produced to webhook delivery on release.

use super::{
    SimConfig, backend::Backend, faults::FaultState, limits::Limiter, rng::Rng, webhooks::Webhooks,
};
use crate::sync::lock;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, atomic::AtomicU64},
    time::Instant,
};

pub(super) struct Shared {
    pub faults: Mutex<FaultState>,
    pub limiter: Mutex<Limiter>,
    pub backend: Mutex<Backend>,
    /// Issued access tokens and when each expires.
    pub tokens: Mutex<HashMap<String, Instant>>,
    /// How many tokens were issued: each token's unique serial.
    pub token_serial: AtomicU64,
    pub start: Instant,
    pub config: SimConfig,
    pub webhooks: Arc<Webhooks>,
    /// The simulator's one RNG.
    pub rng: Arc<Rng>,
}

/// The backend, locked; the events it produced meanwhile go to webhook delivery on release.
pub(super) struct BackendGuard<'a> {
    guard: MutexGuard<'a, Backend>,
    webhooks: &'a Arc<Webhooks>,
}

impl std::ops::Deref for BackendGuard<'_> {
    type Target = Backend;
    fn deref(&self) -> &Backend {
        &self.guard
    }
}

impl std::ops::DerefMut for BackendGuard<'_> {
    fn deref_mut(&mut self) -> &mut Backend {
        &mut self.guard
    }
}

impl Drop for BackendGuard<'_> {
    fn drop(&mut self) {
        let events = self.guard.take_outbox();
        self.webhooks.deliver(events);
    }
}

impl Shared {
    /// Simulator time: real seconds since the start, times the time scale.
    pub fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * self.config.time_scale
    }

    /// The backend with time applied up to now.
    pub fn backend(&self) -> BackendGuard<'_> {
        let mut b = lock(&self.backend);
        b.advance(self.now());
        BackendGuard {
            guard: b,
            webhooks: &self.webhooks,
        }
    }
}
