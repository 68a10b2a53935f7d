//! What the soak counts and prints at the end.

use super::rig::CancelAnswer;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;
use vipps_kiosk::sim::FaultCounts;

#[derive(Debug, Default)]
pub struct Figures {
    pub sessions: usize,
    pub stories: BTreeMap<String, usize>,
    pub endings: BTreeMap<String, usize>,
    pub lanes: BTreeMap<String, usize>,
    pub kills: BTreeMap<&'static str, usize>,
    /// Freezes planned at a step the session never reached (the kiosk was then killed idle).
    pub freezes_missed: usize,
    pub fault_plans: BTreeMap<&'static str, usize>,
    pub token_expiries: usize,
    pub approvals: usize,
    pub captures: usize,
    pub captured_minor: i64,
    pub refunds: usize,
    pub refunded_minor: i64,
    pub refund_replays: usize,
    /// Refunds answered 503 with Vipps' wait (its limit on a payment's changes), waited out.
    pub refund_waits: usize,
    pub cancels: BTreeMap<String, usize>,
    pub races_6060: usize,
    pub race_won_by: BTreeMap<&'static str, usize>,
    pub cancel_races: usize,
    pub garbage_scans: usize,
    pub late_approvals: usize,
    pub session_times: Vec<Duration>,
    pub next_order_waits: Vec<Duration>,
}

impl Figures {
    pub fn count_kill(&mut self, why: &'static str) {
        *self.kills.entry(why).or_default() += 1;
    }

    pub fn count_cancel(&mut self, answer: CancelAnswer) {
        *self.cancels.entry(format!("{answer:?}")).or_default() += 1;
    }

    pub fn count_refund(&mut self, amount: i64) {
        self.refunds += 1;
        self.refunded_minor += amount;
    }

    pub fn kills_total(&self) -> usize {
        self.kills
            .iter()
            .filter(|(why, _)| **why != "for the final sweep")
            .map(|(_, n)| n)
            .sum()
    }

    pub fn report(
        &self,
        seed: u64,
        wall: Duration,
        faults: FaultCounts,
        limited: u64,
        violations: usize,
    ) -> String {
        let mut s = String::new();
        let mut times = self.session_times.clone();
        times.sort();
        let mut waits = self.next_order_waits.clone();
        waits.sort();
        let _ = writeln!(s, "soak figures (seed {seed:#x})");
        let _ = writeln!(s, "  sessions            {}", self.sessions);
        let _ = writeln!(s, "  lanes               {}", join(&self.lanes));
        let _ = writeln!(s, "  stories             {}", join(&self.stories));
        let _ = writeln!(s, "  endings             {}", join(&self.endings));
        let _ = writeln!(
            s,
            "  SIGKILLs            {} ({})",
            self.kills_total(),
            join(&self.kills)
        );
        let _ = writeln!(s, "  freezes not reached {}", self.freezes_missed);
        let _ = writeln!(s, "  fault plans         {}", join(&self.fault_plans));
        let _ = writeln!(
            s,
            "  faults struck       503 {}, 429 {}, refused {}, lost answers {}, garbled {}, delayed {}, token expiries {}; rate limits struck {limited}",
            faults.server_errors,
            faults.rate_limited,
            faults.refused,
            faults.dropped_answers,
            faults.garbled,
            faults.delayed,
            self.token_expiries
        );
        let _ = writeln!(
            s,
            "  approvals           {} (6060 races {}: captured {}; cancel races {}; late approvals of payments left open {})",
            self.approvals,
            self.races_6060,
            join(&self.race_won_by),
            self.cancel_races,
            self.late_approvals
        );
        let _ = writeln!(
            s,
            "  captures            {} ({} minor units)",
            self.captures, self.captured_minor
        );
        let _ = writeln!(
            s,
            "  refunds             {} ({} minor units; {} replays of a refundId refunded nothing; {} waits Vipps asked for)",
            self.refunds, self.refunded_minor, self.refund_replays, self.refund_waits
        );
        let _ = writeln!(s, "  POS cancels         {}", join(&self.cancels));
        let _ = writeln!(s, "  garbage scans       {}", self.garbage_scans);
        let _ = writeln!(s, "  violations          {violations}");
        let _ = writeln!(s, "  wall time           {:.1} s", wall.as_secs_f64());
        let _ = writeln!(
            s,
            "  session time        median {:.1} s, p95 {:.1} s, max {:.1} s",
            quantile(&times, 0.5),
            quantile(&times, 0.95),
            quantile(&times, 1.0)
        );
        let _ = writeln!(
            s,
            "  lane free for next  median {:.2} s, max {:.2} s",
            quantile(&waits, 0.5),
            quantile(&waits, 1.0)
        );
        s
    }
}

fn join<K: std::fmt::Display>(m: &BTreeMap<K, usize>) -> String {
    if m.is_empty() {
        return "none".into();
    }
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `q` quantile of sorted durations, in seconds (nearest rank).
fn quantile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64()
}

#[test]
fn quantiles_by_nearest_rank() {
    let d: Vec<Duration> = (1..=20).map(Duration::from_secs).collect();
    assert_eq!(quantile(&d, 0.5), 10.0);
    assert_eq!(quantile(&d, 0.95), 19.0);
    assert_eq!(quantile(&d, 1.0), 20.0);
    assert_eq!(quantile(&[], 0.5), 0.0);
}
