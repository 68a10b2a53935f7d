//! What must hold after every session, read from the POS API and the simulator's books:
//! no order with two captures, nothing left AUTHORIZED, the POS status agreeing with Vipps
//! (captured: one capture of the total; cancelled, expired, failed: none; refunds: the
//! refunded amount), and the ending the story calls for.

use super::plan::Expect;
use super::rig::{CancelAnswer, Fatal, Live, Placed, Soak, final_status};
use crate::common::amount;
use serde_json::{Value, json};
use std::time::Duration;
use vipps_kiosk::sim::backend::PhoneAction;

/// How long an ended order's payments may take to be final at Vipps.
/// The longest wait a refund's 503 may ask for (Vipps' window is a minute).
const MAX_REFUND_WAIT_S: u64 = 65;

const SETTLE: Duration = Duration::from_secs(40);
/// How long a late approval of a payment left open may take to be released.
const RELEASE: Duration = Duration::from_secs(30);

/// A payment holding money nobody will capture or release: authorized, not (fully)
/// captured or cancelled.
fn open_money(p: &Value) -> bool {
    p["state"] == "AUTHORIZED"
        && amount(p, "authorizedAmount")
            > amount(p, "capturedAmount") + amount(p, "cancelledAmount")
}

fn settled(payments: &[Value]) -> bool {
    payments
        .iter()
        .all(|p| p["state"] != "CREATED" && !open_money(p))
}

/// Money rules and agreement between the POS record and Vipps' books for one order.
pub fn books(record: &Value, payments: &[Value], total: i64, refunded: i64) -> Vec<String> {
    let mut problems = Vec::new();
    let status = record["status"].as_str().unwrap_or("");
    let captures: Vec<&Value> = payments
        .iter()
        .filter(|p| amount(p, "capturedAmount") > 0)
        .collect();
    if captures.len() > 1 {
        problems.push(format!("{} payments captured", captures.len()));
    }
    for p in payments.iter().filter(|p| open_money(p)) {
        problems.push(format!("{} left AUTHORIZED", p["reference"]));
    }
    let refs = record["references"].as_array().cloned().unwrap_or_default();
    match (status, captures.as_slice()) {
        ("captured", [one]) => {
            if amount(one, "capturedAmount") != total {
                problems.push(format!(
                    "captured {} of {total}",
                    amount(one, "capturedAmount")
                ));
            }
            if record["capturedAmount"] != total {
                problems.push(format!(
                    "POS capturedAmount {} for {total}",
                    record["capturedAmount"]
                ));
            }
            if !refs.contains(&one["reference"]) {
                problems.push(format!(
                    "POS references miss the captured {}",
                    one["reference"]
                ));
            }
        }
        ("captured", _) => problems.push("POS says captured; Vipps has no one capture".into()),
        (_, []) => {
            if record["capturedAmount"].as_i64().unwrap_or(0) != 0 {
                problems.push(format!(
                    "POS capturedAmount {} without a capture",
                    record["capturedAmount"]
                ));
            }
        }
        (s, _) => problems.push(format!("POS says {s}; Vipps has a capture")),
    }
    let vipps_refunded: i64 = payments.iter().map(|p| amount(p, "refundedAmount")).sum();
    let pos_refunded = record["refundedAmount"].as_i64().unwrap_or(0);
    if vipps_refunded != refunded || pos_refunded != refunded {
        problems.push(format!(
            "refunds: Vipps {vipps_refunded}, POS {pos_refunded}, answered 200 for {refunded}"
        ));
    }
    problems
}

/// The ending the story calls for, given what the POS was answered; and that it stays.
pub fn ending(live: &Live, expect: Expect) -> Vec<String> {
    let want: &[&str] = match (live.cancel, expect) {
        // 202: "an approval racing it is released, never captured".
        (CancelAnswer::Accepted, _) => &["cancelled"],
        (CancelAnswer::AlreadyPaid, _) => &["captured"],
        _ if live.cancel_unanswered => &["cancelled", "captured"],
        (_, Expect::Paid | Expect::PaidOrCancelled) => &["captured"],
        (_, Expect::Cancelled) => &["cancelled"],
        (_, Expect::CaptureRefused) => &["failed/captureRefused"],
        (_, Expect::CreateRefused) => &["failed/createRefused"],
    };
    let mut problems = Vec::new();
    let first = live.first_end.clone().unwrap_or_default();
    if !want.contains(&first.as_str()) {
        problems.push(format!(
            "ended {first:?}, but the story ({expect:?}, cancel {:?}) calls for {}",
            live.cancel,
            want.join(" or ")
        ));
    }
    let now = live.ending();
    if live.first_end.is_some() && now != first {
        problems.push(format!("the order ended {first}; the POS now reads {now}"));
    }
    problems
}

impl Soak {
    /// Waits until the ended order's payments are all final at Vipps. One left open is
    /// approved by a late customer: the kiosk must release it.
    pub async fn settle(&mut self, live: &mut Live) -> Result<(), Fatal> {
        if self
            .wait_for(live, SETTLE, |l| settled(&l.payments))
            .await?
        {
            return Ok(());
        }
        let open: Vec<String> = live
            .payments
            .iter()
            .filter(|p| p["state"] == "CREATED")
            .filter_map(|p| p["reference"].as_str().map(str::to_string))
            .collect();
        live.note(format!(
            "still open {SETTLE:?} after the order ended: {open:?}"
        ));
        for r in &open {
            if self.phone_now(live, r, PhoneAction::Approve) {
                self.figures.late_approvals += 1;
            }
        }
        self.wait_for(live, RELEASE, |l| settled(&l.payments))
            .await?;
        Ok(())
    }

    /// Staff refunds of a captured order: `parts` of it, the last for all that is left,
    /// each but the last sent again with the same refundId when `repeat` (it must not refund
    /// again), and one for more than is left (refused 422) in between.
    pub async fn refunds(
        &mut self,
        live: &mut Live,
        order: usize,
        parts: u8,
        repeat: bool,
    ) -> Result<(), Fatal> {
        for i in 0..parts {
            let p = &self.orders[order];
            let left = p.total - p.refunded;
            let amount = if i + 1 == parts {
                left
            } else {
                left / i64::from(parts - i)
            };
            if amount <= 0 {
                break;
            }
            if i == 1 {
                self.refund(live, order, left + 1, Some(422)).await?;
            }
            self.refund(live, order, amount, None).await?;
            // A replay of the last refundId after its 200 is answered 422 (nothing is left to
            // refund, and the amount is checked before the id): replays of earlier ones only.
            if repeat && i + 1 < parts {
                self.orders[order].next_refund -= 1;
                self.refund(live, order, amount, None).await?;
            }
        }
        Ok(())
    }

    /// One refund of `amount`, sent again on 502 or a lost answer (same refundId) until
    /// answered; `refused`: the status it must be answered with instead of 200.
    pub async fn refund(
        &mut self,
        live: &mut Live,
        order: usize,
        amount: i64,
        refused: Option<u16>,
    ) -> Result<(), Fatal> {
        let (lane, id) = (self.orders[order].lane, self.orders[order].order_id.clone());
        let n = self.orders[order].next_refund;
        self.orders[order].next_refund += 1;
        let refund_id = format!("r-{n}");
        let body = json!({"amount": amount, "refundId": refund_id});
        let path = format!("/v1/orders/{id}/refund");
        for _ in 0..200 {
            let answer = self
                .rig(lane)
                .post_json(&path, body.clone(), Duration::from_secs(12))
                .await;
            match answer {
                Some((200, record)) => {
                    let before = self.orders[order].refunded;
                    let now = record["refundedAmount"].as_i64().unwrap_or(0);
                    live.note(format!(
                        "refund {refund_id} of {amount} for {id}: 200, refunded {now}"
                    ));
                    if refused.is_some() {
                        self.violation(
                            live,
                            &format!("a refund over what is left was answered 200: {record}"),
                        );
                    }
                    if now == before {
                        self.figures.refund_replays += 1;
                    } else {
                        self.orders[order].refunded += amount;
                        self.figures.count_refund(amount);
                    }
                    return Ok(());
                }
                Some((503, b)) if b["retryAfterS"].is_u64() => {
                    // Vipps' limit on changes of a payment (5 a minute): wait as it asks.
                    let wait = b["retryAfterS"]
                        .as_u64()
                        .unwrap_or(1)
                        .min(MAX_REFUND_WAIT_S);
                    live.note(format!(
                        "refund {refund_id}: 503, Vipps asks to wait {wait} s"
                    ));
                    self.figures.refund_waits += 1;
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                }
                Some((502 | 503, _)) | None => self.tick(live).await?,
                Some((status, b)) => {
                    live.note(format!(
                        "refund {refund_id} of {amount} for {id}: {status} {b}"
                    ));
                    if refused != Some(status) {
                        self.violation(live, &format!("refund of {amount} answered {status}: {b}"));
                    }
                    return Ok(());
                }
            }
        }
        Err(Fatal(format!("refund {refund_id} for {id} never answered")))
    }

    /// Every check of the session's order; each problem is a violation.
    pub fn check(&mut self, live: &Live, expect: Expect, placed: &Placed) {
        let Some(record) = live.record.clone() else {
            self.violation(live, "the POS never knew the order");
            return;
        };
        for problem in books(&record, &live.payments, placed.total, placed.refunded) {
            self.violation(live, &problem);
        }
        for problem in ending(live, expect) {
            self.violation(live, &problem);
        }
    }

    /// Every order so far, read again (after a restart of each lane): the POS status the
    /// session ended with, and the books.
    pub async fn sweep(&mut self) -> Result<usize, Fatal> {
        for lane in 0..self.lanes.len() {
            self.kill_and_restart(lane, "for the final sweep", None)
                .await?;
        }
        let mut problems = Vec::new();
        for p in self.orders.clone() {
            let path = format!("/v1/orders/{}", p.order_id);
            let record = match self.rig(p.lane).get(&path).await {
                Some((200, r)) => r,
                other => {
                    problems.push(format!(
                        "{} (session {}): the POS no longer knows it: {other:?}",
                        p.order_id, p.session
                    ));
                    continue;
                }
            };
            let now = final_status(&record).unwrap_or("").to_string();
            if now != p.status {
                problems.push(format!(
                    "{} (session {}): ended {}, now reads {record}",
                    p.order_id, p.session, p.status
                ));
            }
            let payments = crate::common::payments_of(&self.sim, &p.order_id);
            for problem in books(&record, &payments, p.total, p.refunded) {
                problems.push(format!("{} (session {}): {problem}", p.order_id, p.session));
            }
        }
        let n = problems.len();
        for problem in problems {
            let text = format!("VIOLATION (seed {:#x}, final sweep): {problem}", self.seed);
            eprintln!("{text}");
            self.violations.push(text);
        }
        Ok(n)
    }
}
