//! Vipps' rate limits per payment, kept on the kiosk's side: every request for a payment
//! passes here before it is sent, whichever layer asked for it (the machine, the driver's
//! extra reads, the client's own retries, the resend after a refused token).
//!
//! Vipps counts calls per reference (eCom: per orderId) and endpoint within a minute: 120
//! reads (GET payment, its events, eCom details) and 5 of each change (create, capture,
//! cancel, refund); eCom's initiate 2 (NOTES.md §5; Vipps' "Rate limiting" page of the
//! ePayment API). The budget is stricter than that: all changes of a payment share one
//! window of 5, so no mix of retries can reach a limit Vipps keeps per endpoint; an eCom
//! initiate counts as a change and against its own 2; reads share one window of 120; the
//! one-time QR (`POST /qr/v1`, for the order's landing page) has a window of its own at the
//! change limit (Vipps documents none for it). Each window is kept a little longer than
//! Vipps' (a tenth, at most 2 s), so clocks and latency cannot make the two disagree.
//!
//! A request over budget is not sent: the caller gets how long to wait. A 429 from Vipps
//! blocks that payment's window until its `Retry-After` has passed, however long.

use crate::sync::lock;
use std::{
    collections::{HashMap, VecDeque},
    fmt,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// What a request does to a payment, for the window it counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// GET payment, GET events, eCom details.
    Read,
    /// Create, capture, cancel, refund (ePayment and eCom).
    Change,
    /// eCom's initiate: a change, with a limit of its own besides.
    Initiate,
    /// `POST /qr/v1`: the one-time QR for the order's landing page.
    OneTimeQr,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Read => "read",
            Kind::Change => "change",
            Kind::Initiate => "initiate",
            Kind::OneTimeQr => "one-time QR",
        })
    }
}

/// The windows a payment's requests are counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Bucket {
    Reads,
    Changes,
    Initiates,
    OneTimeQr,
}

impl Kind {
    fn buckets(self) -> &'static [Bucket] {
        match self {
            Kind::Read => &[Bucket::Reads],
            Kind::Change => &[Bucket::Changes],
            Kind::Initiate => &[Bucket::Changes, Bucket::Initiates],
            Kind::OneTimeQr => &[Bucket::OneTimeQr],
        }
    }
}

/// How many requests of each kind one payment may send within `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub window: Duration,
    pub reads: usize,
    pub changes: usize,
    pub initiates: usize,
}

impl Default for Limits {
    /// Vipps' own: 120 reads, 5 changes, 2 eCom initiates a minute per reference.
    fn default() -> Self {
        Limits {
            window: Duration::from_secs(60),
            reads: 120,
            changes: 5,
            initiates: 2,
        }
    }
}

impl Limits {
    fn max(&self, bucket: Bucket) -> usize {
        match bucket {
            Bucket::Reads => self.reads,
            Bucket::Changes | Bucket::OneTimeQr => self.changes,
            Bucket::Initiates => self.initiates,
        }
    }

    /// The window as the kiosk keeps it: Vipps' and a margin of a tenth (at most 2 s).
    fn kept(&self) -> Duration {
        self.window + (self.window / 10).min(Duration::from_secs(2))
    }
}

/// Where the budget reads the time (a test moves it forward).
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

#[derive(Default)]
struct Window {
    sent: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl Window {
    /// How long from `now` until one more request fits.
    fn wait(&mut self, max: usize, kept: Duration, now: Instant) -> Duration {
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= kept)
        {
            self.sent.pop_front();
        }
        let blocked = self
            .blocked_until
            .map_or(Duration::ZERO, |u| u.saturating_duration_since(now));
        let full = match self.sent.front() {
            Some(first) if self.sent.len() >= max => (*first + kept).saturating_duration_since(now),
            None if max == 0 => kept,
            _ => Duration::ZERO,
        };
        blocked.max(full)
    }

    fn idle(&self, kept: Duration, now: Instant) -> bool {
        self.blocked_until.is_none_or(|u| u <= now)
            && self
                .sent
                .back()
                .is_none_or(|t| now.duration_since(*t) >= kept)
    }
}

/// The windows of every payment the kiosk talks about (shared by all clones of a client).
pub struct Budget {
    limits: Limits,
    clock: Clock,
    windows: Mutex<HashMap<(String, Bucket), Window>>,
}

impl fmt::Debug for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Payments whose windows are all empty are forgotten once this many are kept.
const FORGET_ABOVE: usize = 1024;

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        Budget::with_clock(limits, Arc::new(Instant::now))
    }

    pub fn with_clock(limits: Limits, clock: Clock) -> Budget {
        Budget {
            limits,
            clock,
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Counts one request of `kind` for `reference` now, or says how long until one may go
    /// (and counts nothing).
    pub fn admit(&self, reference: &str, kind: Kind) -> Result<(), Duration> {
        let now = (self.clock)();
        let kept = self.limits.kept();
        let mut windows = lock(&self.windows);
        if windows.len() > FORGET_ABOVE {
            windows.retain(|_, w| !w.idle(kept, now));
        }
        let mut wait = Duration::ZERO;
        for b in kind.buckets() {
            let w = windows.entry((reference.to_string(), *b)).or_default();
            wait = wait.max(w.wait(self.limits.max(*b), kept, now));
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for b in kind.buckets() {
            if let Some(w) = windows.get_mut(&(reference.to_string(), *b)) {
                w.sent.push_back(now);
            }
        }
        Ok(())
    }

    /// Vipps refused a request of `kind` for `reference` with 429: nothing of that kind goes
    /// out for it until `retry_after` has passed, or, when Vipps named no time, until the
    /// window has room as if it were full. Returns the wait.
    pub fn refused(&self, reference: &str, kind: Kind, retry_after: Option<Duration>) -> Duration {
        let now = (self.clock)();
        let kept = self.limits.kept();
        let mut windows = lock(&self.windows);
        let wait = retry_after.unwrap_or_else(|| {
            kind.buckets()
                .iter()
                .filter_map(|b| windows.get(&(reference.to_string(), *b)))
                .filter_map(|w| w.sent.front())
                .map(|first| (*first + kept).saturating_duration_since(now))
                .max()
                .unwrap_or(kept)
                .max(Duration::from_secs(1))
        });
        for b in kind.buckets() {
            let w = windows.entry((reference.to_string(), *b)).or_default();
            let until = now + wait;
            w.blocked_until = Some(w.blocked_until.map_or(until, |u| u.max(until)));
        }
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A budget on a clock the test moves; the function moves it by `ms`.
    fn budget(limits: Limits) -> (Budget, impl Fn(u64)) {
        let start = Instant::now();
        let offset = Arc::new(AtomicU64::new(0));
        let o = offset.clone();
        let clock: Clock =
            Arc::new(move || start + Duration::from_millis(o.load(Ordering::SeqCst)));
        let advance = move |ms| {
            offset.fetch_add(ms, Ordering::SeqCst);
        };
        (Budget::with_clock(limits, clock), advance)
    }

    #[test]
    fn five_changes_a_minute_per_reference_then_a_wait() {
        let (b, advance) = budget(Limits::default());
        for _ in 0..5 {
            assert_eq!(b.admit("r-1", Kind::Change), Ok(()));
        }
        let wait = b.admit("r-1", Kind::Change).expect_err("the sixth waits");
        assert_eq!(wait, Duration::from_secs(62), "60 s and the 2 s margin");
        assert_eq!(b.admit("r-2", Kind::Change), Ok(()), "per reference");
        assert_eq!(b.admit("r-1", Kind::Read), Ok(()), "reads apart");
        advance(61_000);
        assert!(b.admit("r-1", Kind::Change).is_err(), "inside the margin");
        advance(1_000);
        assert_eq!(b.admit("r-1", Kind::Change), Ok(()));
    }

    #[test]
    fn an_initiate_counts_as_a_change_and_against_its_own_two() {
        let (b, _) = budget(Limits::default());
        assert_eq!(b.admit("o-1", Kind::Initiate), Ok(()));
        assert_eq!(b.admit("o-1", Kind::Initiate), Ok(()));
        assert!(b.admit("o-1", Kind::Initiate).is_err());
        for _ in 0..3 {
            assert_eq!(b.admit("o-1", Kind::Change), Ok(()));
        }
        assert!(b.admit("o-1", Kind::Change).is_err(), "2 + 3 = 5 changes");
        assert_eq!(
            b.admit("o-1", Kind::OneTimeQr),
            Ok(()),
            "a window of its own"
        );
    }

    #[test]
    fn reads_are_120_a_minute() {
        let (b, advance) = budget(Limits::default());
        for i in 0..120 {
            assert_eq!(b.admit("r", Kind::Read), Ok(()), "{i}");
            advance(100);
        }
        let wait = b.admit("r", Kind::Read).expect_err("the 121st within 62 s");
        assert_eq!(wait, Duration::from_millis(62_000 - 12_000));
    }

    #[test]
    fn a_429_blocks_that_kind_for_as_long_as_vipps_says() {
        let (b, advance) = budget(Limits::default());
        assert_eq!(
            b.refused("r", Kind::Change, Some(Duration::from_secs(90))),
            Duration::from_secs(90)
        );
        assert_eq!(
            b.admit("r", Kind::Change),
            Err(Duration::from_secs(90)),
            "no clamp"
        );
        assert_eq!(b.admit("r", Kind::Read), Ok(()), "reads still go");
        advance(89_000);
        assert_eq!(b.admit("r", Kind::Change), Err(Duration::from_secs(1)));
        advance(1_000);
        assert_eq!(b.admit("r", Kind::Change), Ok(()));
        // Without Retry-After: until the window has room as if it were full.
        advance(10_000);
        let wait = b.refused("r", Kind::Change, None);
        assert_eq!(wait, Duration::from_secs(52));
        assert_eq!(b.admit("r", Kind::Change), Err(wait));
    }

    #[test]
    fn forgets_payments_whose_windows_are_empty() {
        let (b, advance) = budget(Limits::default());
        for i in 0..=FORGET_ABOVE {
            assert_eq!(b.admit(&format!("r-{i}"), Kind::Read), Ok(()));
        }
        advance(63_000);
        assert_eq!(b.admit("new", Kind::Read), Ok(()));
        assert_eq!(lock(&b.windows).len(), 1);
    }
}
