//! One registration's delivery queue and its rules, apart from the sending: what a try's
//! result does to the queue (next event, retry later, give the event up, delete the
//! registration), in simulator seconds.

use super::delivery::{REMOVE_AFTER_S, RETRY_FOR_S, backoff_s};
use std::{collections::VecDeque, sync::Arc};

/// An event waiting to be delivered.
#[derive(Debug, Clone)]
pub struct Pending {
    pub body: Vec<u8>,
    /// Not to be tried before this simulator time.
    pub not_before: f64,
    /// When it was first tried, and how many tries failed.
    pub first_tried: Option<f64>,
    pub failed_tries: u32,
}

impl Pending {
    pub fn new(body: Vec<u8>) -> Pending {
        Pending {
            body,
            not_before: 0.0,
            first_tried: None,
            failed_tries: 0,
        }
    }
}

#[derive(Debug, Default)]
pub struct Queue {
    pub pending: VecDeque<Pending>,
    /// Since when every try has failed (simulator time); none while deliveries succeed.
    pub failing_since: Option<f64>,
    pub wake: Arc<tokio::sync::Notify>,
}

/// What a try of the first event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered (`retry`: not at the first try); the next event's turn.
    Sent { retry: bool },
    /// Failed; retried later, or `abandoned` after 7 days and the next event's turn.
    Failed { retry: bool, abandoned: bool },
    /// Failed, and the registration has failed for two weeks: delete it.
    Remove,
}

impl Queue {
    /// Records a try of the first event at `now`.
    pub fn tried(&mut self, delivered: bool, now: f64) -> Outcome {
        let Some(head) = self.pending.front_mut() else {
            return Outcome::Sent { retry: false };
        };
        let retry = head.first_tried.is_some();
        let first = *head.first_tried.get_or_insert(now);
        if delivered {
            self.pending.pop_front();
            self.failing_since = None;
            return Outcome::Sent { retry };
        }
        let failing_since = *self.failing_since.get_or_insert(now);
        if now - failing_since >= REMOVE_AFTER_S {
            self.pending.clear();
            return Outcome::Remove;
        }
        head.failed_tries += 1;
        if now - first >= RETRY_FOR_S {
            self.pending.pop_front();
            return Outcome::Failed {
                retry,
                abandoned: true,
            };
        }
        head.not_before = now + backoff_s(head.failed_tries);
        Outcome::Failed {
            retry,
            abandoned: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(events: &[&str]) -> Queue {
        let mut q = Queue::default();
        for e in events {
            q.pending.push_back(Pending::new(e.as_bytes().to_vec()));
        }
        q
    }

    fn head(q: &Queue) -> &str {
        q.pending
            .front()
            .map_or("", |p| std::str::from_utf8(&p.body).unwrap_or(""))
    }

    #[test]
    fn a_failing_event_holds_back_the_later_ones_until_it_succeeds() {
        let mut q = queue(&["a", "b"]);
        assert_eq!(
            q.tried(false, 0.0),
            Outcome::Failed {
                retry: false,
                abandoned: false
            }
        );
        assert_eq!(head(&q), "a");
        assert_eq!(q.pending[0].not_before, 1.0);
        q.tried(false, 1.0);
        assert_eq!(q.pending[0].not_before, 3.0, "the wait doubles");
        assert_eq!(q.tried(true, 3.0), Outcome::Sent { retry: true });
        assert_eq!((head(&q), q.failing_since), ("b", None));
    }

    #[test]
    fn the_wait_doubles_up_to_an_hour() {
        let waits: Vec<f64> = (1..=14).map(backoff_s).collect();
        assert_eq!(&waits[..4], &[1.0, 2.0, 4.0, 8.0]);
        assert_eq!(waits[13], 3600.0);
    }

    #[test]
    fn an_event_is_given_up_after_seven_days_and_the_registration_after_two_weeks() {
        let mut q = queue(&["a", "b"]);
        q.tried(false, 0.0);
        assert_eq!(
            q.tried(false, RETRY_FOR_S - 1.0),
            Outcome::Failed {
                retry: true,
                abandoned: false
            }
        );
        assert_eq!(
            q.tried(false, RETRY_FOR_S),
            Outcome::Failed {
                retry: true,
                abandoned: true
            }
        );
        assert_eq!(head(&q), "b", "the next event's turn");
        q.tried(false, RETRY_FOR_S + 1.0);
        assert_eq!(q.tried(false, REMOVE_AFTER_S), Outcome::Remove);
        assert!(q.pending.is_empty());
    }

    #[test]
    fn a_success_resets_the_two_weeks() {
        let mut q = queue(&["a", "b", "c"]);
        q.tried(false, 0.0);
        q.tried(false, RETRY_FOR_S);
        assert_eq!(
            q.tried(true, RETRY_FOR_S + 5.0),
            Outcome::Sent { retry: false }
        );
        assert_eq!(q.failing_since, None);
        q.tried(false, REMOVE_AFTER_S);
        assert_ne!(q.tried(false, REMOVE_AFTER_S + 1.0), Outcome::Remove);
    }
}
