//! Small helpers for shared state.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, carrying on past a panic in another holder: every value kept behind these locks
/// is valid after any single update, so a poisoned lock is no reason to stop the lane.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
