//! The soak's world: one simulator, the lanes (a real kiosk process each, on its own journal
//! and POS port), and what the driver knows of the session under way. `tick` is where time
//! passes: the planned SIGKILLs (and restarts, as systemd would), fault bursts starting and
//! ending, and a fresh look at the POS record and Vipps' books.

use super::figures::Figures;
use super::plan::{FaultPlan, Kill};
use crate::common::{self, kiosk::Kiosk, kiosk::LaneRig};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use vipps_kiosk::sim::{ApiFaults, Simulator};

/// How long a restarted kiosk may take to answer on its POS API.
const START_LIMIT: Duration = Duration::from_secs(30);
/// How often the driver looks.
const TICK: Duration = Duration::from_millis(25);

pub struct Lane {
    /// `lane_id`, and which API makes its one-time QR.
    pub id: &'static str,
    pub api: &'static str,
    pub rig: LaneRig,
    pub kiosk: Option<Kiosk>,
}

/// Something that stops the soak: the lane cannot be driven any more.
#[derive(Debug)]
pub struct Fatal(pub String);

/// An order the soak has placed, and what the POS was told about money for it.
#[derive(Debug, Clone)]
pub struct Placed {
    pub session: usize,
    pub lane: usize,
    pub order_id: String,
    pub total: i64,
    /// The final status the POS read at the end of its session.
    pub status: String,
    /// The sum of refunds answered 200 (each refundId once).
    pub refunded: i64,
    pub next_refund: u32,
}

/// The session under way, as the driver sees it.
pub struct Live {
    pub session: usize,
    pub lane: usize,
    pub order: vipps_kiosk::payment::Order,
    pub placed_at: Instant,
    /// The POS had 201 (or 422 "used", after a lost answer).
    pub accepted: bool,
    pub kills: Vec<Kill>,
    /// The freeze step the running process was started with, until it froze.
    pub freeze: Option<u64>,
    pub faults: Option<FaultPlan>,
    pub faults_on: bool,
    pub faults_over: bool,
    /// The newest POS record (`GET /v1/orders/{id}`), and the order's payments at Vipps.
    pub record: Option<Value>,
    pub payments: Vec<Value>,
    pub statuses: Vec<String>,
    /// References the customer acted on, and those approved.
    pub acted: Vec<String>,
    pub approved: Vec<String>,
    pub cancel: CancelAnswer,
    /// A cancel was sent whose answer never came (it may have been recorded).
    pub cancel_unanswered: bool,
    /// What the driver did and saw, with ms since the order was placed.
    pub trace: Vec<String>,
    /// The status (and reason) the order first ended with.
    pub first_end: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelAnswer {
    NotSent,
    Accepted,
    AlreadyPaid,
    Ended,
}

impl Live {
    pub fn note(&mut self, what: impl AsRef<str>) {
        let ms = self.placed_at.elapsed().as_millis();
        self.trace.push(format!("{ms:>6} ms  {}", what.as_ref()));
    }

    pub fn status(&self) -> &str {
        self.record
            .as_ref()
            .and_then(|r| r["status"].as_str())
            .unwrap_or("")
    }

    pub fn reason(&self) -> &str {
        self.record
            .as_ref()
            .and_then(|r| r["reason"].as_str())
            .unwrap_or("")
    }

    /// How the order stands: its status, with the reason for a failure.
    pub fn ending(&self) -> String {
        match self.status() {
            "failed" => format!("failed/{}", self.reason()),
            s => s.to_string(),
        }
    }

    /// The final status, once the order has ended (a failure the order goes on after, such
    /// as a rejected payment, is not final).
    pub fn ended(&self) -> Option<&str> {
        final_status(self.record.as_ref()?)
    }

    /// How many SIGKILLs the session has seen so far.
    pub fn kills_seen(&self) -> usize {
        self.trace.iter().filter(|l| l.contains("SIGKILL")).count()
    }

    /// How many push payments the order has at Vipps.
    pub fn pushes(&self) -> usize {
        self.payments
            .iter()
            .filter(|p| p["userFlow"] == "PUSH_MESSAGE")
            .count()
    }

    /// The newest payment of `push` (or not) that is open at Vipps (CREATED).
    pub fn open_payment(&self, push: bool) -> Option<String> {
        self.payments
            .iter()
            .rev()
            .filter(|p| (p["userFlow"] == "PUSH_MESSAGE") == push)
            .find(|p| p["state"] == "CREATED")
            .and_then(|p| p["reference"].as_str().map(str::to_string))
    }
}

/// The status an order ended with, if it has.
pub fn final_status(record: &Value) -> Option<&str> {
    let status = record["status"].as_str()?;
    let final_failure = matches!(
        record["reason"].as_str(),
        Some("createRefused" | "captureRefused" | "qrUnavailable")
    );
    match status {
        "captured" | "cancelled" | "expired" => Some(status),
        "failed" if final_failure => Some(status),
        _ => None,
    }
}

pub struct Soak {
    pub seed: u64,
    pub sim: Simulator,
    pub lanes: Vec<Lane>,
    pub orders: Vec<Placed>,
    pub figures: Figures,
    pub violations: Vec<String>,
}

impl Soak {
    pub async fn new(seed: u64, lanes: usize) -> Result<Soak, Fatal> {
        let sim = common::simulator().await;
        let specs = [("lane-1", "epayment"), ("lane-2", "ecom")];
        let mut out = Vec::new();
        for &(id, api) in specs.iter().take(lanes) {
            let rig = LaneRig::new(
                &format!("soak-{id}"),
                &sim.base_url(),
                &format!("lane_id = \"{id}\""),
                &format!("one_time_qr = \"{api}\""),
            );
            let kiosk = rig
                .try_start(None, START_LIMIT)
                .await
                .map_err(|e| Fatal(format!("{id} does not start: {e}")))?;
            out.push(Lane {
                id,
                api,
                rig,
                kiosk: Some(kiosk),
            });
        }
        Ok(Soak {
            seed,
            sim,
            lanes: out,
            orders: Vec::new(),
            figures: Figures::default(),
            violations: Vec::new(),
        })
    }

    pub fn rig(&self, lane: usize) -> &LaneRig {
        &self.lanes[lane].rig
    }

    pub fn kiosk(&mut self, lane: usize) -> Option<&mut Kiosk> {
        self.lanes[lane].kiosk.as_mut()
    }

    pub fn log_tail(&self, lane: usize, lines: usize) -> String {
        self.lanes[lane]
            .kiosk
            .as_ref()
            .map(|k| k.log_tail(lines))
            .unwrap_or_default()
    }

    /// SIGKILL, then start again on the same journal (with a freeze at step `freeze`, if
    /// given). `why` names the kill in the figures.
    pub async fn kill_and_restart(
        &mut self,
        lane: usize,
        why: &'static str,
        freeze: Option<u64>,
    ) -> Result<(), Fatal> {
        if let Some(k) = self.lanes[lane].kiosk.take() {
            k.kill();
        }
        self.figures.count_kill(why);
        let kiosk = self.lanes[lane]
            .rig
            .try_start(freeze, START_LIMIT)
            .await
            .map_err(|e| {
                Fatal(format!(
                    "{} does not come back after a kill: {e}",
                    self.lanes[lane].id
                ))
            })?;
        self.lanes[lane].kiosk = Some(kiosk);
        Ok(())
    }

    /// Time passes: kills due, faults starting or ending, and a fresh look.
    pub async fn tick(&mut self, live: &mut Live) -> Result<(), Fatal> {
        tokio::time::sleep(TICK).await;
        let lane = live.lane;
        let frozen = self.lanes[lane].kiosk.as_ref().is_some_and(Kiosk::frozen);
        if frozen {
            live.note(format!(
                "frozen at step {:?}: SIGKILL, restart",
                live.freeze
            ));
            live.freeze = None;
            self.kill_and_restart(lane, "at a step", None).await?;
        }
        if let Some(why) = self.kiosk(lane).and_then(Kiosk::exited) {
            let v = format!("{} exited by itself: {why}", self.lanes[lane].id);
            live.note(&v);
            self.violation(live, &v);
            self.kill_and_restart(lane, "after an exit", None).await?;
        }
        let elapsed = live.placed_at.elapsed();
        let due = live.kills.iter().position(|k| match k {
            Kill::After(ms) => elapsed >= Duration::from_millis(*ms),
            Kill::OnStatus(s) => live.statuses.iter().any(|seen| seen == s),
            Kill::OnCancelAccepted => live.cancel == CancelAnswer::Accepted,
            Kill::AtStep(_) => false,
        });
        if let Some(i) = due {
            let kill = live.kills.remove(i);
            live.note(format!("SIGKILL ({kill:?}), restart"));
            let why = match kill {
                Kill::After(_) => "at a random time",
                Kill::OnStatus(_) => "on a status",
                _ => "on a cancel's 202",
            };
            self.kill_and_restart(lane, why, None).await?;
        }
        self.faults_tick(live);
        self.look(live).await;
        Ok(())
    }

    /// Starts or ends the session's faults when due.
    pub fn faults_tick(&mut self, live: &mut Live) {
        let Some(plan) = live.faults.clone() else {
            return;
        };
        let elapsed = live.placed_at.elapsed();
        let from = Duration::from_millis(plan.from_ms);
        if !live.faults_on && !live.faults_over && elapsed >= from {
            self.sim.set_faults(ApiFaults {
                rules: plan.rules.clone(),
                expire_tokens: plan.expire_tokens,
            });
            live.faults_on = true;
            live.note(format!("faults on: {} {:?}", plan.kind, plan.rules));
        }
        let over = plan
            .for_ms
            .is_some_and(|ms| elapsed >= from + Duration::from_millis(ms));
        if live.faults_on && (over || (plan.for_ms.is_none() && live.ended().is_some())) {
            self.clear_faults(live);
        }
    }

    pub fn clear_faults(&mut self, live: &mut Live) {
        if live.faults_on {
            self.sim.set_faults(ApiFaults::default());
            live.faults_on = false;
            live.note("faults off");
        }
        live.faults_over = true;
    }

    /// A fresh look at the POS record and the order's payments.
    pub async fn look(&mut self, live: &mut Live) {
        let path = format!("/v1/orders/{}", live.order.order_id);
        if let Some((200, record)) = self.rig(live.lane).get(&path).await {
            let status = record["status"].as_str().unwrap_or("").to_string();
            if live.statuses.last() != Some(&status) {
                let reason = record["reason"].as_str().unwrap_or("");
                live.note(format!("POS reads {status} {reason}"));
                live.statuses.push(status);
            }
            live.record = Some(record);
        }
        live.payments = common::payments_of(&self.sim, &live.order.order_id);
    }

    /// Ticks until `done` holds or `limit` has passed since now; whether it held.
    pub async fn wait_for(
        &mut self,
        live: &mut Live,
        limit: Duration,
        done: impl Fn(&Live) -> bool,
    ) -> Result<bool, Fatal> {
        let start = Instant::now();
        loop {
            if done(live) {
                return Ok(true);
            }
            if start.elapsed() > limit {
                return Ok(false);
            }
            self.tick(live).await?;
        }
    }

    /// Ticks for `ms`.
    pub async fn pause(&mut self, live: &mut Live, ms: u64) -> Result<(), Fatal> {
        let until = Instant::now() + Duration::from_millis(ms);
        while Instant::now() < until {
            self.tick(live).await?;
        }
        Ok(())
    }

    /// Places the order as a POS does: again when the answer was lost, until the lane takes
    /// it. How long the lane kept it waiting; the last answer if it did not take it within
    /// `limit`.
    pub async fn place(
        &mut self,
        live: &mut Live,
        limit: Duration,
    ) -> Result<Result<Duration, String>, Fatal> {
        let body = serde_json::to_value(&live.order).unwrap_or_default();
        let start = Instant::now();
        loop {
            let answer = self
                .rig(live.lane)
                .post_json("/v1/orders", body.clone(), Duration::from_secs(2))
                .await;
            let last = match answer {
                Some((201, _)) => break,
                // Taken by a process that died before it could answer.
                Some((422, b)) if b["field"] == "orderId" && live.accepted_before(self).await => {
                    break;
                }
                Some((s, b)) => format!("{s} {b}"),
                None => "no answer".into(),
            };
            if start.elapsed() > limit {
                return Ok(Err(last));
            }
            self.tick(live).await?;
        }
        live.accepted = true;
        live.note("order placed: 201");
        Ok(Ok(start.elapsed()))
    }

    /// The lane would not take the next order: the POS cancels every earlier order of the
    /// lane it reads as open (so that the soak can go on), and the trace says which.
    pub async fn unwedge(&mut self, live: &mut Live) -> Result<(), Fatal> {
        let open: Vec<String> = {
            let mut open = Vec::new();
            for p in self.orders.iter().filter(|p| p.lane == live.lane) {
                let path = format!("/v1/orders/{}", p.order_id);
                if let Some((200, r)) = self.rig(live.lane).get(&path).await
                    && final_status(&r).is_none()
                {
                    open.push(format!(
                        "{} ({}, ended {:?} in session {})",
                        p.order_id, r["status"], p.status, p.session
                    ));
                    let cancel = format!("{path}/cancel");
                    let _ = self.rig(live.lane).post(&cancel, json!({})).await;
                }
            }
            open
        };
        live.note(format!(
            "the POS cancels the orders it reads as open: {open:?}"
        ));
        Ok(())
    }

    /// The POS cancels the order, sending again until it has an answer.
    pub async fn cancel(&mut self, live: &mut Live) -> Result<(), Fatal> {
        let path = format!("/v1/orders/{}/cancel", live.order.order_id);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            let answer = self
                .rig(live.lane)
                .post_json(&path, json!({}), Duration::from_secs(2))
                .await;
            let got = match &answer {
                Some((202, _)) => Some(CancelAnswer::Accepted),
                Some((409, b)) if b["error"].as_str().is_some_and(|e| e.contains("paid")) => {
                    Some(CancelAnswer::AlreadyPaid)
                }
                Some((409, _)) => Some(CancelAnswer::Ended),
                Some(_) => None,
                None => {
                    live.cancel_unanswered = true;
                    None
                }
            };
            if let Some(got) = got {
                live.note(format!("POS cancel: {got:?}"));
                if live.cancel != CancelAnswer::Accepted {
                    live.cancel = got;
                }
                self.figures.count_cancel(got);
                return Ok(());
            }
            live.note(format!("POS cancel unanswered: {answer:?}"));
            self.tick(live).await?;
        }
        Err(Fatal("the POS API never answered a cancel".into()))
    }
}

impl Live {
    /// Whether the lane knows the order (a 422 "used" after a lost 201).
    async fn accepted_before(&self, soak: &Soak) -> bool {
        let path = format!("/v1/orders/{}", self.order.order_id);
        matches!(soak.rig(self.lane).get(&path).await, Some((200, _)))
    }
}

impl Soak {
    /// Records a violation with its evidence.
    pub fn violation(&mut self, live: &Live, what: &str) {
        let payments: Vec<Value> = live.payments.iter().map(brief).collect();
        let text = format!(
            "VIOLATION (seed {:#x}, session {}, lane {}, order {}): {what}\n\
             reproduce: KIOSK_SOAK_SEED={:#x} KIOSK_SOAK_SESSIONS={} cargo test --test soak -- --ignored --nocapture\n\
             POS record: {}\nVipps' books: {}\ntrace:\n{}\nkiosk log (tail):\n{}\n",
            self.seed,
            live.session,
            self.lanes[live.lane].id,
            live.order.order_id,
            self.seed,
            live.session + 1,
            live.record.clone().unwrap_or(Value::Null),
            serde_json::to_string_pretty(&payments).unwrap_or_default(),
            live.trace.join("\n"),
            self.log_tail(live.lane, 80),
        );
        eprintln!("{text}");
        self.violations.push(text);
    }
}

/// A payment as the evidence shows it.
pub fn brief(p: &Value) -> Value {
    json!({
        "reference": p["reference"],
        "state": p["state"],
        "userFlow": p["userFlow"],
        "api": p["api"],
        "amount": p["amount"]["value"],
        "authorized": common::amount(p, "authorizedAmount"),
        "captured": common::amount(p, "capturedAmount"),
        "cancelled": common::amount(p, "cancelledAmount"),
        "refunded": common::amount(p, "refundedAmount"),
    })
}
