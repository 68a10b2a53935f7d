//! Staff refunds the lane is answering: who waits for each (by idempotency key) and for what
//! amount, and those Vipps confirmed since the lane started, so that the same one sent again
//! is answered without a call that would spend one of the payment's five changes a minute.
//! After a restart, Vipps' idempotency answers it.

use crate::pos::{RefundRefused, Reply};
use std::collections::HashMap;

/// How many confirmed refunds the lane remembers to answer again without a call.
const REMEMBERED: usize = 4096;

type Waiting = Reply<Result<(), RefundRefused>>;

#[derive(Debug, Default)]
pub(super) struct Refunds {
    /// Under way: who is waiting for each, and the amount asked.
    waiting: HashMap<String, (i64, Vec<Waiting>)>,
    /// Confirmed: key → amount (at most `REMEMBERED`).
    done: HashMap<String, i64>,
}

impl Refunds {
    /// A refund of `amount` asked for under `key`: `false` (and `reply` answered) when it is
    /// done already; else `reply` waits for its outcome.
    pub(super) fn ask(&mut self, key: &str, amount: i64, reply: Waiting) -> bool {
        if self.done.get(key) == Some(&amount) {
            reply.send(Ok(()));
            return false;
        }
        let entry = self
            .waiting
            .entry(key.to_string())
            .or_insert_with(|| (amount, Vec::new()));
        entry.0 = amount;
        entry.1.push(reply);
        true
    }

    /// The last request for `key` could not be journaled: it alone hears so (an earlier one is
    /// still under way).
    pub(super) fn unrecorded(&mut self, key: &str) {
        if let Some((_, waiting)) = self.waiting.get_mut(key) {
            if let Some(reply) = waiting.pop() {
                reply.send(Err(RefundRefused::Unrecorded));
            }
            if waiting.is_empty() {
                self.waiting.remove(key);
            }
        }
    }

    /// The outcome for `key`: every request waiting for it hears it; a success is remembered.
    pub(super) fn answered(&mut self, key: &str, answer: Result<(), RefundRefused>) {
        let Some((amount, waiting)) = self.waiting.remove(key) else {
            return;
        };
        if answer.is_ok() {
            if self.done.len() >= REMEMBERED {
                self.done.clear();
            }
            self.done.insert(key.to_string(), amount);
        }
        for reply in waiting {
            reply.send(answer);
        }
    }
}
