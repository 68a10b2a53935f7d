#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! A randomized soak of the real binary: sessions drawn from a seed, each an order paid (or
//! not) the ways a lane sees them — the one-time QR paid at once, late, opened first, after
//! it expired and was renewed; a personal QR scanned, racing an approval of the QR (6060);
//! pushes and QRs rejected or expired; POS cancels at random moments and racing approvals;
//! garbage scanned; refused captures and creates — on an ePayment lane and an eCom lane
//! (`--headless --scanner stdin`, a journal, the POS API) against one simulator, with the
//! simulator's faults injected (lost and garbled answers, 503 and 429 bursts, latency, expired
//! tokens) and the kiosk SIGKILLed at random points (at step k, at a random time, on a
//! status, right after a cancel's 202) and started again on its journal, as systemd would.
//!
//! After each session: no order has two captures, nothing is left AUTHORIZED (a payment left
//! open is approved by a late customer, and must be released), the POS status agrees with
//! Vipps' books (captured: one capture of the total; cancelled, expired, failed: none;
//! refunds: the refunded amount), the ending is the one the story and the POS's answers call
//! for, and the lane takes the next order. At the end every order is read again after a
//! restart. A violation prints the seed, the session, the trace and the evidence; the figures
//! are printed at the end (`-- --nocapture`) and written to the test's temp directory.
//!
//! `cargo test` runs a short soak with a fixed seed. The long one:
//! `cargo test --test soak -- --ignored --nocapture`, with `KIOSK_SOAK_SEED` (to reproduce a
//! run), `KIOSK_SOAK_SESSIONS` (how many; 300 by default), `KIOSK_SOAK_FROM` (play from this
//! session on) and `KIOSK_SOAK_LANES` (1: the ePayment lane alone).

#[path = "soak/acts.rs"]
mod acts;
#[path = "soak/check.rs"]
mod check;
mod common;
#[path = "soak/figures.rs"]
mod figures;
#[path = "soak/plan.rs"]
mod plan;
#[path = "soak/rig.rs"]
mod rig;
#[path = "soak/rng.rs"]
mod rng;

use plan::{Kill, Session};
use rig::{CancelAnswer, Fatal, Live, Placed, Soak};
use std::time::{Duration, Instant};

/// The short soak's seed and length: the same sessions on every CI run.
const CI_SEED: u64 = 0x50a4_2026;
const CI_SESSIONS: usize = 14;
const LONG_SESSIONS: usize = 300;

/// How long the lane may take to accept the next order, and an order to end.
const NEXT_ORDER: Duration = Duration::from_secs(60);
const ORDER_ENDS: Duration = Duration::from_secs(150);
/// A session taking longer prints its trace (as every session does with `KIOSK_SOAK_TRACE`).
const SLOW_SESSION: Duration = Duration::from_secs(20);
/// A run stops after this many violations.
const MAX_VIOLATIONS: usize = 10;

struct Settings {
    seed: u64,
    sessions: usize,
    from: usize,
    lanes: usize,
}

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

impl Settings {
    fn long() -> Settings {
        let random = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Settings {
            seed: env_number("KIOSK_SOAK_SEED").unwrap_or(random),
            sessions: env_number("KIOSK_SOAK_SESSIONS").map_or(LONG_SESSIONS, |n| n as usize),
            from: env_number("KIOSK_SOAK_FROM").unwrap_or(0) as usize,
            lanes: env_number("KIOSK_SOAK_LANES").map_or(2, |n| n.clamp(1, 2) as usize),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_soak_with_a_fixed_seed() {
    run(Settings {
        seed: CI_SEED,
        sessions: CI_SESSIONS,
        from: 0,
        lanes: 2,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the long soak (minutes): cargo test --test soak -- --ignored --nocapture"]
async fn long_soak() {
    run(Settings::long()).await;
}

async fn run(s: Settings) {
    eprintln!(
        "soak: seed {:#x}, sessions {}..{}, {} lane(s)",
        s.seed, s.from, s.sessions, s.lanes
    );
    let plans = plan::sessions(s.seed, s.sessions, s.lanes);
    let mut soak = match Soak::new(s.seed, s.lanes).await {
        Ok(soak) => soak,
        Err(Fatal(why)) => panic!("soak (seed {:#x}) cannot start: {why}", s.seed),
    };
    let start = Instant::now();
    let before = soak.sim.fault_counts();
    let mut fatal = None;
    for plan in plans.iter().skip(s.from) {
        if let Err(Fatal(why)) = session(&mut soak, plan).await {
            fatal = Some(format!(
                "soak stopped (seed {:#x}, session {}, {plan:?}): {why}",
                s.seed, plan.index
            ));
            break;
        }
        if soak.violations.len() >= MAX_VIOLATIONS {
            break;
        }
    }
    if fatal.is_none()
        && let Err(Fatal(why)) = soak.sweep().await
    {
        fatal = Some(format!("final sweep (seed {:#x}): {why}", s.seed));
    }
    let wall = start.elapsed();
    let faults = delta(before, soak.sim.fault_counts());
    let report = soak.figures.report(
        s.seed,
        wall,
        faults,
        soak.sim.rate_limited(),
        soak.violations.len(),
    );
    eprintln!("{report}");
    let file =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("soak-{:x}.txt", s.seed));
    let _ = std::fs::write(&file, format!("{report}\n{}", soak.violations.join("\n")));
    for lane in &mut soak.lanes {
        if let Some(k) = lane.kiosk.take() {
            k.kill();
        }
        let _ = std::fs::remove_dir_all(&lane.rig.dir);
    }
    if let Some(why) = fatal {
        panic!("{why}\n{report}");
    }
    assert!(
        soak.violations.is_empty(),
        "{} violation(s), the first:\n{}\n{report}",
        soak.violations.len(),
        soak.violations[0]
    );
}

fn delta(
    a: vipps_kiosk::sim::FaultCounts,
    b: vipps_kiosk::sim::FaultCounts,
) -> vipps_kiosk::sim::FaultCounts {
    vipps_kiosk::sim::FaultCounts {
        server_errors: b.server_errors - a.server_errors,
        rate_limited: b.rate_limited - a.rate_limited,
        dropped_answers: b.dropped_answers - a.dropped_answers,
        delayed: b.delayed - a.delayed,
        refused: b.refused - a.refused,
        garbled: b.garbled - a.garbled,
    }
}

fn order_for(soak: &Soak, plan: &Session) -> vipps_kiosk::payment::Order {
    let orders = vipps_kiosk::app::demo::orders(vipps_kiosk::vipps::model::Currency::Nok, "soak")
        .expect("demo orders");
    vipps_kiosk::payment::Order {
        order_id: format!("soak-{:08x}-{:04}", soak.seed as u32, plan.index),
        ..orders[plan.order % orders.len()].clone()
    }
}

/// One session: the order placed, the story played with its faults and kills, the order
/// ended and settled, refunds, and every check.
async fn session(soak: &mut Soak, plan: &Session) -> Result<(), Fatal> {
    let started = Instant::now();
    let lane = plan.lane;
    if let Some(f) = &plan.faults {
        *soak.figures.fault_plans.entry(f.kind).or_default() += 1;
        soak.figures.token_expiries += usize::from(f.expire_tokens);
    }
    let mut live = Live {
        session: plan.index,
        lane,
        order: order_for(soak, plan),
        placed_at: Instant::now(),
        accepted: false,
        kills: plan.kills.clone(),
        freeze: None,
        faults: plan.faults.clone(),
        faults_on: false,
        faults_over: false,
        record: None,
        payments: Vec::new(),
        statuses: Vec::new(),
        acted: Vec::new(),
        approved: Vec::new(),
        cancel: CancelAnswer::NotSent,
        cancel_unanswered: false,
        trace: vec![format!("plan: {plan:?}")],
        first_end: None,
    };
    if let Some(Kill::AtStep(k)) = plan.kills.iter().find(|k| matches!(k, Kill::AtStep(_))) {
        live.note(format!("SIGKILL (idle), restart to freeze at step {k}"));
        soak.kill_and_restart(lane, "idle, to freeze at a step", Some(*k))
            .await?;
        live.freeze = Some(*k);
    }
    // Faults from the start strike the order's first calls.
    soak.faults_tick(&mut live);
    let wait = match soak.place(&mut live, NEXT_ORDER).await? {
        Ok(wait) => wait,
        Err(last) => {
            let v = format!(
                "{} did not take the next order within {NEXT_ORDER:?}: last answer {last}",
                soak.lanes[lane].id
            );
            soak.violation(&live, &v);
            soak.unwedge(&mut live).await?;
            soak.place(&mut live, NEXT_ORDER).await?.map_err(|last| {
                Fatal(format!(
                    "{v}; still {last} after the POS cancelled the open orders"
                ))
            })?
        }
    };
    soak.figures.next_order_waits.push(wait);
    let earlier = if plan.refund_earlier {
        refund_earlier(soak, &mut live).await?
    } else {
        None
    };
    for act in &plan.acts {
        soak.act(&mut live, *act).await?;
    }
    end(soak, &mut live, plan).await?;
    let status = live.ended().unwrap_or("").to_string();
    soak.orders.push(Placed {
        session: plan.index,
        lane,
        order_id: live.order.order_id.clone(),
        total: live.order.total_amount,
        status: status.clone(),
        refunded: 0,
        next_refund: 1,
    });
    let me = soak.orders.len() - 1;
    if status == "captured" && plan.refunds > 0 {
        refunds_with_faults(soak, &mut live, plan).await?;
    }
    soak.look(&mut live).await;
    let placed = soak.orders[me].clone();
    soak.check(&live, plan.expect, &placed);
    if let Some(i) = earlier {
        check_other(soak, &mut live, i).await;
    }
    tally(soak, &live, plan, &status, started.elapsed());
    Ok(())
}

/// The order ends (or the lane is wedged), its payments settle, and a freeze that never
/// came is put away.
async fn end(soak: &mut Soak, live: &mut Live, plan: &Session) -> Result<(), Fatal> {
    if !soak.close(live, plan.expect, ORDER_ENDS).await? {
        soak.violation(
            live,
            &format!("the order did not end within {ORDER_ENDS:?} of being placed"),
        );
        soak.clear_faults(live);
        soak.cancel(live).await?;
        let ended = soak
            .wait_for(live, Duration::from_secs(60), |l| l.ended().is_some())
            .await?;
        if !ended {
            return Err(Fatal(format!(
                "the lane is wedged: order {} still {} after a cancel",
                live.order.order_id,
                live.status()
            )));
        }
    }
    soak.clear_faults(live);
    soak.settle(live).await?;
    if let Some(k) = live.freeze.take() {
        live.note(format!("step {k} not reached: SIGKILL (idle), restart"));
        soak.figures.freezes_missed += 1;
        soak.kill_and_restart(live.lane, "idle, a freeze not reached", None)
            .await?;
    }
    Ok(())
}

/// Staff refunds of the captured order, through the session's faults for a few seconds.
async fn refunds_with_faults(
    soak: &mut Soak,
    live: &mut Live,
    plan: &Session,
) -> Result<(), Fatal> {
    if let Some(f) = plan
        .faults
        .clone()
        .filter(|f| !f.rules.is_empty() && f.for_ms.is_some())
    {
        live.faults = Some(plan::FaultPlan {
            from_ms: live.placed_at.elapsed().as_millis() as u64,
            for_ms: Some(3000),
            ..f
        });
        live.faults_over = false;
    }
    let me = soak.orders.len() - 1;
    let result = soak
        .refunds(live, me, plan.refunds, plan.repeat_refund)
        .await;
    soak.clear_faults(live);
    result
}

/// A refund of an earlier captured order while this one is under way; its index.
async fn refund_earlier(soak: &mut Soak, live: &mut Live) -> Result<Option<usize>, Fatal> {
    let candidates: Vec<usize> = (0..soak.orders.len())
        .filter(|&i| soak.orders[i].status == "captured")
        .filter(|&i| soak.orders[i].total > soak.orders[i].refunded)
        .collect();
    if candidates.is_empty() {
        return Ok(None);
    }
    let i = candidates[(live.session * 7919) % candidates.len()];
    let left = soak.orders[i].total - soak.orders[i].refunded;
    live.note(format!(
        "refund of earlier order {}",
        soak.orders[i].order_id
    ));
    soak.refund(live, i, left.min(100), None).await?;
    Ok(Some(i))
}

/// The books of an earlier order touched in this session.
async fn check_other(soak: &mut Soak, live: &mut Live, i: usize) {
    let p = soak.orders[i].clone();
    let path = format!("/v1/orders/{}", p.order_id);
    let Some((200, record)) = soak.rig(p.lane).get(&path).await else {
        soak.violation(
            live,
            &format!("earlier order {} unknown to its POS", p.order_id),
        );
        return;
    };
    let payments = common::payments_of(&soak.sim, &p.order_id);
    for problem in check::books(&record, &payments, p.total, p.refunded) {
        soak.violation(live, &format!("earlier order {}: {problem}", p.order_id));
    }
}

fn tally(soak: &mut Soak, live: &Live, plan: &Session, status: &str, took: Duration) {
    let f = &mut soak.figures;
    f.sessions += 1;
    f.session_times.push(took);
    *f.stories.entry(format!("{:?}", plan.story)).or_default() += 1;
    *f.lanes
        .entry(soak.lanes[plan.lane].id.to_string())
        .or_default() += 1;
    let ending = match (status, live.reason()) {
        ("failed", reason) => format!("failed/{reason}"),
        (s, _) => s.to_string(),
    };
    *f.endings.entry(ending.clone()).or_default() += 1;
    let captured = live
        .payments
        .iter()
        .find(|p| common::amount(p, "capturedAmount") > 0);
    if let Some(p) = captured {
        f.captures += 1;
        f.captured_minor += common::amount(p, "capturedAmount");
        if plan.story == plan::Story::ScanRacesApproval {
            let by = if p["userFlow"] == "PUSH_MESSAGE" {
                "push"
            } else {
                "QR (6060)"
            };
            *f.race_won_by.entry(by).or_default() += 1;
        }
    }
    if took > SLOW_SESSION || std::env::var_os("KIOSK_SOAK_TRACE").is_some() {
        eprintln!(
            "trace of session {}:\n{}",
            plan.index,
            live.trace.join("\n")
        );
    }
    let kills = live.trace.iter().filter(|l| l.contains("SIGKILL")).count();
    let faults = plan.faults.as_ref().map_or("", |f| f.kind);
    eprintln!(
        "session {:>4} {} ({}) {:?}: {ending} in {:.1} s{}{}",
        plan.index,
        soak.lanes[plan.lane].id,
        soak.lanes[plan.lane].api,
        plan.story,
        took.as_secs_f64(),
        if kills > 0 {
            format!(", {kills} kill(s)")
        } else {
            String::new()
        },
        if faults.is_empty() {
            String::new()
        } else {
            format!(", faults: {faults}")
        },
    );
}
