//! The customer's and the POS's acts, carried out against what the driver sees: an act for a
//! payment waits (bounded) until that payment is open at Vipps, and is skipped if the order
//! ends first. Then the close: the customer pays in the end (or the POS cancels), until the
//! order has ended.

use super::plan::{Act, Expect, Flow, Garbage, When};
use super::rig::{CancelAnswer, Fatal, Live, Soak};
use std::time::Duration;
use vipps_kiosk::sim::backend::PhoneAction;

/// How long an act waits for the payment it is for.
const ACT_WAIT: Duration = Duration::from_secs(40);

/// How long a scan may take to show.
const SCAN_EFFECT: Duration = Duration::from_secs(20);

/// A phone number the simulator knows a customer for, and how often a hand-over is sent
/// while the lane does not answer (restarting, say).
const HANDED_OVER_NUMBER: &str = "4741234567";
const HAND_OVER_TRIES: usize = 1200;

/// Personal QRs of customers the simulator knows.
const CUSTOMERS: &[&str] = &[
    "https://qr.vipps.no/p/AbC-123_xyz?v=2",
    "https://qr.vipps.no/p/Zy9-8765_soak?v=2",
    "https://qr.vipps.no/p/q1w2e3r4t5y6",
];

impl Soak {
    pub async fn act(&mut self, live: &mut Live, act: Act) -> Result<(), Fatal> {
        match act {
            Act::Approve { flow, after_ms } => {
                self.phone(live, flow, after_ms, PhoneAction::Approve)
                    .await?
            }
            Act::Reject { flow, after_ms } => {
                self.phone(live, flow, after_ms, PhoneAction::Reject)
                    .await?
            }
            Act::Expire { flow, after_ms } => {
                self.phone(live, flow, after_ms, PhoneAction::Expire)
                    .await?
            }
            Act::Open { after_ms } => {
                if let Some(r) = self.target(live, Flow::Qr).await? {
                    self.pause(live, after_ms).await?;
                    let opened = self.sim.phone(&r, PhoneAction::Open);
                    live.note(format!("phone opens {r}: {opened}"));
                }
            }
            Act::Scan { when, after_ms } => {
                if self.scan_moment(live, when).await? {
                    self.pause(live, after_ms).await?;
                    self.scan_customer(live);
                    if when == When::Waiting {
                        self.scan_took_effect(live).await?;
                    }
                }
            }
            Act::Garbage { kind, when } => {
                if self.scan_moment(live, when).await? {
                    self.scan_garbage(live, kind);
                    self.figures.garbage_scans += 1;
                }
            }
            Act::HandOver { phone, after_ms } => {
                if self.scan_moment(live, When::Waiting).await? {
                    self.pause(live, after_ms).await?;
                    if self.hand_over(live, phone).await? {
                        self.scan_took_effect(live).await?;
                    }
                }
            }
            Act::KillWhileWaiting => {
                if self.scan_moment(live, When::Waiting).await? {
                    live.note("SIGKILL while the QR is on screen, restart");
                    self.kill_and_restart(live.lane, "while waiting", None)
                        .await?;
                }
            }
            Act::ApproveFirstQr { after_ms } => {
                self.pause(live, after_ms).await?;
                self.look(live).await;
                let first = live
                    .payments
                    .iter()
                    .find(|p| p["userFlow"] != "PUSH_MESSAGE")
                    .filter(|p| p["state"] == "CREATED")
                    .and_then(|p| p["reference"].as_str().map(str::to_string));
                match first {
                    Some(r) => {
                        self.phone_now(live, &r, PhoneAction::Approve);
                    }
                    None => live.note("the first QR is no longer open"),
                }
            }
            Act::ScanRacesApproval { scan_first, gap_ms } => {
                self.scan_races_approval(live, scan_first, gap_ms).await?
            }
            Act::Cancel { after_ms } => {
                self.pause(live, after_ms).await?;
                if live.ended().is_none() {
                    self.cancel(live).await?;
                }
            }
            Act::CancelRacesApproval {
                flow,
                cancel_first,
                gap_ms,
            } => {
                self.cancel_races_approval(live, flow, cancel_first, gap_ms)
                    .await?
            }
        }
        Ok(())
    }

    /// The open payment of `flow` to act on, once there is one (None: the order ended, or
    /// none came). For a push, the customer shows their QR first if nobody has.
    async fn target(&mut self, live: &mut Live, flow: Flow) -> Result<Option<String>, Fatal> {
        let push = flow == Flow::Push;
        let found = self
            .wait_for(live, ACT_WAIT, |l| {
                l.ended().is_some()
                    || l.open_payment(push)
                        .is_some_and(|r| !l.acted.contains(&r) && l.status() != "approved")
            })
            .await?;
        if !found || live.ended().is_some() {
            live.note(format!("no open {flow:?} payment to act on"));
            return Ok(None);
        }
        Ok(live.open_payment(push))
    }

    async fn phone(
        &mut self,
        live: &mut Live,
        flow: Flow,
        after_ms: u64,
        action: PhoneAction,
    ) -> Result<(), Fatal> {
        if self.target(live, flow).await?.is_none() {
            return Ok(());
        }
        self.pause(live, after_ms).await?;
        // The payment on screen now (a restart may have replaced it meanwhile).
        self.look(live).await;
        let Some(r) = live.open_payment(flow == Flow::Push) else {
            live.note(format!(
                "the {flow:?} payment closed before the customer acted"
            ));
            return Ok(());
        };
        self.phone_now(live, &r, action);
        Ok(())
    }

    pub fn phone_now(&mut self, live: &mut Live, reference: &str, action: PhoneAction) -> bool {
        let done = self.sim.phone(reference, action);
        live.note(format!("phone {action:?} {reference}: {done}"));
        live.acted.push(reference.to_string());
        if done && action == PhoneAction::Approve {
            live.approved.push(reference.to_string());
            self.figures.approvals += 1;
        }
        done
    }

    /// Waits until a scan `when` makes sense; false if the order ended first.
    async fn scan_moment(&mut self, live: &mut Live, when: When) -> Result<bool, Fatal> {
        let ok = self
            .wait_for(live, ACT_WAIT, |l| {
                l.ended().is_some()
                    || match when {
                        When::Waiting => l.status() == "waiting" && l.open_payment(false).is_some(),
                        When::Failed => l.status() == "failed",
                    }
            })
            .await?;
        let now = ok && live.ended().is_none();
        if !now {
            live.note(format!("no moment to scan ({when:?})"));
        }
        Ok(now)
    }

    /// A personal QR shown while the QR is on screen is acted on: a push is made (or the
    /// order moves on), unless the kiosk was killed meanwhile.
    async fn scan_took_effect(&mut self, live: &mut Live) -> Result<(), Fatal> {
        let kills = live.kills_seen();
        let pushes = live.pushes();
        let moved = self
            .wait_for(live, SCAN_EFFECT, |l| {
                l.pushes() > pushes || l.status() != "waiting" || l.kills_seen() > kills
            })
            .await?;
        if !moved {
            self.violation(
                live,
                &format!("a personal QR scanned while the QR was on screen had no effect within {SCAN_EFFECT:?}"),
            );
        }
        Ok(())
    }

    /// The cashier's hand-over, sent again (the same customer) while the lane does not answer:
    /// 202 (pushing), or 409 once the order is paid or ends; anything else is a violation.
    /// Whether the push was taken.
    async fn hand_over(&mut self, live: &mut Live, phone: bool) -> Result<bool, Fatal> {
        let body = if phone {
            serde_json::json!({"phoneNumber": HANDED_OVER_NUMBER})
        } else {
            serde_json::json!({"personalQr": CUSTOMERS[live.session % CUSTOMERS.len()]})
        };
        let path = format!("/v1/orders/{}/customer", live.order.order_id);
        for _ in 0..HAND_OVER_TRIES {
            let answer = self
                .rig(live.lane)
                .post_json(&path, body.clone(), Duration::from_secs(2))
                .await;
            match answer {
                Some((202, _)) => {
                    live.note(format!(
                        "hand-over ({}): 202",
                        if phone { "phone" } else { "QR" }
                    ));
                    return Ok(true);
                }
                Some((409, b)) => {
                    live.note(format!("hand-over: 409 {b}"));
                    return Ok(false);
                }
                Some((503, _)) | None => self.tick(live).await?,
                Some((s, b)) => {
                    self.violation(live, &format!("a hand-over answered {s}: {b}"));
                    return Ok(false);
                }
            }
        }
        Err(Fatal(format!(
            "the hand-over to {} never answered",
            live.order.order_id
        )))
    }

    fn scan_customer(&mut self, live: &mut Live) {
        let code = CUSTOMERS[live.session % CUSTOMERS.len()];
        live.note("scan: a personal QR");
        if let Some(k) = self.kiosk(live.lane) {
            k.scan(code);
        }
    }

    fn scan_garbage(&mut self, live: &mut Live, kind: Garbage) {
        let long = "x".repeat(5000);
        let bytes: Vec<u8> = match kind {
            Garbage::Barcode => b"7038010055720".to_vec(),
            Garbage::NotFound => b"https://qr.vipps.no/p/notfound-soak".to_vec(),
            Garbage::Invalid => b"https://qr.vipps.no/p/invalid-soak".to_vec(),
            Garbage::Token => b"MP7x4Qz9Lk2Wv8Rt6Yb3Nc5Hd1".to_vec(),
            // Control characters (valid UTF-8: the stdin scanner reads text lines).
            Garbage::Binary => vec![0x01, 0x1b, b'[', b'2', b'J', 0x07, 0x7f, b'Q', b'R'],
            Garbage::Long => long.into_bytes(),
            Garbage::OtherLink => b"https://example.com/p/AbC-123".to_vec(),
        };
        live.note(format!("scan: garbage ({kind:?})"));
        if let Some(k) = self.kiosk(live.lane) {
            k.scan_bytes(&bytes);
        }
    }

    /// The 6060 path: the QR approved and a personal QR shown `gap_ms` apart.
    async fn scan_races_approval(
        &mut self,
        live: &mut Live,
        scan_first: bool,
        gap_ms: u64,
    ) -> Result<(), Fatal> {
        if !self.scan_moment(live, When::Waiting).await? {
            return Ok(());
        }
        let Some(qr) = live.open_payment(false) else {
            return Ok(());
        };
        self.figures.races_6060 += 1;
        if scan_first {
            self.scan_customer(live);
            tokio::time::sleep(Duration::from_millis(gap_ms)).await;
            self.phone_now(live, &qr, PhoneAction::Approve);
        } else {
            self.phone_now(live, &qr, PhoneAction::Approve);
            tokio::time::sleep(Duration::from_millis(gap_ms)).await;
            self.scan_customer(live);
        }
        Ok(())
    }

    /// The POS cancels while the customer approves.
    async fn cancel_races_approval(
        &mut self,
        live: &mut Live,
        flow: Flow,
        cancel_first: bool,
        gap_ms: u64,
    ) -> Result<(), Fatal> {
        if flow == Flow::Push && self.scan_moment(live, When::Waiting).await? {
            self.scan_customer(live);
        }
        let Some(r) = self.target(live, flow).await? else {
            return Ok(());
        };
        self.figures.cancel_races += 1;
        let path = format!("/v1/orders/{}/cancel", live.order.order_id);
        let gap = Duration::from_millis(gap_ms);
        let rig = &self.lanes[live.lane].rig;
        let sim = &self.sim;
        let cancel = async {
            if !cancel_first {
                tokio::time::sleep(gap).await;
            }
            rig.post_json(&path, serde_json::json!({}), Duration::from_secs(2))
                .await
        };
        let approve = async {
            if cancel_first {
                tokio::time::sleep(gap).await;
            }
            sim.phone(&r, PhoneAction::Approve)
        };
        let (answer, approved) = tokio::join!(cancel, approve);
        live.note(format!(
            "race: cancel {answer:?}, approve {r}: {approved} (cancel first: {cancel_first}, {gap_ms} ms)"
        ));
        live.acted.push(r.clone());
        if approved {
            live.approved.push(r);
            self.figures.approvals += 1;
        }
        match answer {
            Some((202, _)) => {
                live.cancel = CancelAnswer::Accepted;
                self.figures.count_cancel(CancelAnswer::Accepted);
            }
            Some((409, b)) if b["error"].as_str().is_some_and(|e| e.contains("paid")) => {
                live.cancel = CancelAnswer::AlreadyPaid;
                self.figures.count_cancel(CancelAnswer::AlreadyPaid);
            }
            // Unanswered, or an answer to send again on: as a POS, ask again.
            _ => self.cancel(live).await?,
        }
        Ok(())
    }

    /// Until the order has ended (`limit` since it was placed): the customer pays in the
    /// end, or the POS cancels, as the story has it. Whether it ended.
    pub async fn close(
        &mut self,
        live: &mut Live,
        expect: Expect,
        limit: Duration,
    ) -> Result<bool, Fatal> {
        loop {
            if live.ended().is_some() {
                live.first_end = Some(live.ending());
                return Ok(true);
            }
            if live.placed_at.elapsed() > limit {
                return Ok(false);
            }
            let cancelled = matches!(live.cancel, CancelAnswer::Accepted) || live.cancel_unanswered;
            let pays = match expect {
                Expect::Paid | Expect::CaptureRefused => !cancelled,
                Expect::PaidOrCancelled => live.cancel == CancelAnswer::AlreadyPaid,
                Expect::Cancelled | Expect::CreateRefused => false,
            };
            // A race whose act found nothing to race (a scan lost with a killed process,
            // say) still ends: the POS cancels.
            if matches!(expect, Expect::Cancelled | Expect::PaidOrCancelled)
                && live.cancel == CancelAnswer::NotSent
            {
                self.cancel(live).await?;
            }
            if pays && !matches!(live.status(), "approved" | "captured") {
                let open = live
                    .open_payment(true)
                    .filter(|r| !live.acted.contains(r))
                    .or_else(|| live.open_payment(false).filter(|r| !live.acted.contains(r)));
                if let Some(r) = open {
                    live.note("close: the customer pays");
                    self.phone_now(live, &r, PhoneAction::Approve);
                }
            }
            self.tick(live).await?;
        }
    }
}
