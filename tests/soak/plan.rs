//! The sessions a seed stands for: a story (what the customer and the POS do), and on top of
//! it injected faults, SIGKILLs of the kiosk and staff refunds, each drawn from the seed.
//!
//! Stories are dealt from shuffled decks, so that any run as long as a deck plays every story;
//! everything else is drawn per session from `Rng::for_session(seed, index)`.

use super::rng::Rng;
use vipps_kiosk::sim::{ApiFault, Refuse};

/// Which of the order's payments an act is for: the one-time QR on screen, or a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Qr,
    Push,
}

/// When a scan happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// While the one-time QR is on screen (created at Vipps).
    Waiting,
    /// While the screen says a payment failed (the order still open).
    Failed,
}

/// Scanned things that are not a customer's personal QR (or are one Vipps refuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Garbage {
    /// A product barcode: a notice, no call.
    Barcode,
    /// A Vipps link Vipps knows no customer for (7010).
    NotFound,
    /// A Vipps link Vipps calls invalid (4060).
    Invalid,
    /// A bare token of the right shape that is not a Vipps code (4060).
    Token,
    /// Binary junk.
    Binary,
    /// 5000 characters.
    Long,
    /// A link to somewhere else.
    OtherLink,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// The customer approves the current payment of `flow`, `after_ms` after it exists.
    Approve {
        flow: Flow,
        after_ms: u64,
    },
    Reject {
        flow: Flow,
        after_ms: u64,
    },
    /// Vipps lets it time out.
    Expire {
        flow: Flow,
        after_ms: u64,
    },
    /// The phone opens the one-time QR (eCom shows it: "approve in the app").
    Open {
        after_ms: u64,
    },
    /// The customer shows their personal QR to the scanner.
    Scan {
        when: When,
        after_ms: u64,
    },
    /// The customer approves the on-screen QR and shows a personal QR within `gap_ms` of
    /// each other: the cancel of the QR payment may meet the approval (6060).
    ScanRacesApproval {
        scan_first: bool,
        gap_ms: u64,
    },
    /// The POS cancels the order.
    Cancel {
        after_ms: u64,
    },
    /// The POS cancels while the customer approves, `gap_ms` apart.
    CancelRacesApproval {
        flow: Flow,
        cancel_first: bool,
        gap_ms: u64,
    },
    Garbage {
        kind: Garbage,
        when: When,
    },
    /// The cashier hands over the customer of the order on screen (POST
    /// /v1/orders/{id}/customer), by phone number or by personal QR.
    HandOver {
        phone: bool,
        after_ms: u64,
    },
    /// SIGKILL once the QR is on screen, and a restart on the journal.
    KillWhileWaiting,
    /// The customer approves the order's first QR (scanned before the kiosk restarted and
    /// showed another), if it is still open.
    ApproveFirstQr {
        after_ms: u64,
    },
}

/// How the order must end, given the story (a POS cancel answered 202 always means
/// `cancelled`, whatever the story).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Paid,
    Cancelled,
    /// Whichever won: a 202 to the cancel means cancelled, a 409 "paid" means captured.
    PaidOrCancelled,
    CaptureRefused,
    CreateRefused,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kill {
    /// Killed idle before the order, restarted to freeze itself at step k (a journal write or
    /// an API answer of the new process) and killed there.
    AtStep(u64),
    /// `ms` after the order is placed.
    After(u64),
    /// The moment the POS first reads this status.
    OnStatus(&'static str),
    /// Right after the POS's cancel is answered 202.
    OnCancelAccepted,
}

/// Faults injected into the simulator for a while.
#[derive(Debug, Clone)]
pub struct FaultPlan {
    pub kind: &'static str,
    pub rules: Vec<ApiFault>,
    pub expire_tokens: bool,
    /// From this long after the order is placed (0: before it).
    pub from_ms: u64,
    /// For this long; `None`: until the order has ended.
    pub for_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Story {
    QrAtOnce,
    QrLate,
    QrOpenedThenPaid,
    QrExpiredThenPaid,
    QrRejectedThenCancelled,
    QrRejectedThenPaid,
    PushPaid,
    PushRejectedThenRescanned,
    PushExpiredThenQr,
    PushExpiredThenCancelled,
    ScanRacesApproval,
    CancelWhileWaiting,
    CancelRacesApproval,
    CancelAfterScan,
    GarbageThenPaid,
    CaptureRefused,
    CreateRefused,
    FirstQrApprovedAfterRestart,
    HandOverPaid,
    HandOverRacesApproval,
}

/// One deck: every story, the common and racy ones twice.
const DECK: &[(Story, usize)] = &[
    (Story::QrAtOnce, 2),
    (Story::QrLate, 1),
    (Story::QrOpenedThenPaid, 1),
    (Story::QrExpiredThenPaid, 2),
    (Story::QrRejectedThenCancelled, 1),
    (Story::QrRejectedThenPaid, 1),
    (Story::PushPaid, 2),
    (Story::PushRejectedThenRescanned, 1),
    (Story::PushExpiredThenQr, 1),
    (Story::PushExpiredThenCancelled, 1),
    (Story::ScanRacesApproval, 3),
    (Story::CancelWhileWaiting, 1),
    (Story::CancelRacesApproval, 3),
    (Story::CancelAfterScan, 1),
    (Story::GarbageThenPaid, 2),
    (Story::CaptureRefused, 1),
    (Story::CreateRefused, 1),
    (Story::FirstQrApprovedAfterRestart, 2),
    (Story::HandOverPaid, 2),
    (Story::HandOverRacesApproval, 1),
];

#[derive(Debug, Clone)]
pub struct Session {
    pub index: usize,
    pub story: Story,
    /// 0: the ePayment lane, 1: the eCom lane.
    pub lane: usize,
    /// Which sample order (`app::demo::orders`).
    pub order: usize,
    pub acts: Vec<Act>,
    pub expect: Expect,
    pub faults: Option<FaultPlan>,
    pub kills: Vec<Kill>,
    /// Staff refunds once captured (0: none), the last one for all that is left.
    pub refunds: u8,
    /// Each refund sent twice with the same refundId.
    pub repeat_refund: bool,
    /// During the session, a refund of an earlier captured order.
    pub refund_earlier: bool,
}

/// The plans of sessions `0..count` of `seed`.
pub fn sessions(seed: u64, count: usize, lanes: usize) -> Vec<Session> {
    let mut deck_rng = Rng::new(seed ^ 0xD0C5);
    let mut deck: Vec<Story> = Vec::new();
    let mut out: Vec<Session> = Vec::new();
    for index in 0..count {
        if deck.is_empty() {
            deck = DECK
                .iter()
                .flat_map(|&(s, n)| std::iter::repeat_n(s, n))
                .collect();
            deck_rng.shuffle(&mut deck);
        }
        let mut rng = Rng::for_session(seed, index);
        let lane = if lanes > 1 && rng.chance(0.3) { 1 } else { 0 };
        // Two orders in a row ended by refused creates put a lane out of service (as they
        // should): keep a lane's refused orders apart.
        let refused_before = out
            .iter()
            .rev()
            .find(|s| s.lane == lane)
            .is_some_and(|s| s.story == Story::CreateRefused);
        let pos = deck
            .iter()
            .position(|&s| !(refused_before && s == Story::CreateRefused))
            .unwrap_or(0);
        let story = deck.remove(pos);
        out.push(session(index, story, lane, &mut rng));
    }
    out
}

fn session(index: usize, story: Story, lane: usize, rng: &mut Rng) -> Session {
    let (acts, expect) = story_acts(story, rng);
    let refusal = matches!(story, Story::CaptureRefused | Story::CreateRefused);
    let faults = if refusal {
        Some(refusal_faults(story))
    } else if rng.chance(0.4) {
        Some(faults(rng))
    } else {
        None
    };
    let mut kills = Vec::new();
    if rng.chance(0.35) {
        kills.push(kill(rng, &expect));
        if rng.chance(0.2) {
            kills.push(Kill::After(rng.range(0, 6000)));
        }
    }
    let paid = matches!(expect, Expect::Paid | Expect::PaidOrCancelled);
    let refunds = if paid && rng.chance(0.3) {
        rng.range(1, 3) as u8
    } else {
        0
    };
    Session {
        index,
        story,
        lane,
        order: rng.range(0, 2) as usize,
        acts,
        expect,
        faults,
        kills,
        refunds,
        repeat_refund: rng.chance(0.3),
        refund_earlier: rng.chance(0.12),
    }
}

/// The customer's and the POS's part. Scenario table: long by nature.
fn story_acts(story: Story, rng: &mut Rng) -> (Vec<Act>, Expect) {
    use Act::*;
    use Flow::*;
    let soon = |rng: &mut Rng| rng.range(0, 400);
    let garbage = [
        self::Garbage::Barcode,
        self::Garbage::NotFound,
        self::Garbage::Invalid,
        self::Garbage::Token,
        self::Garbage::Binary,
        self::Garbage::Long,
        self::Garbage::OtherLink,
    ];
    match story {
        Story::QrAtOnce => (
            vec![Approve {
                flow: Qr,
                after_ms: 0,
            }],
            Expect::Paid,
        ),
        Story::QrLate => (
            vec![Approve {
                flow: Qr,
                after_ms: rng.range(1500, 6000),
            }],
            Expect::Paid,
        ),
        Story::QrOpenedThenPaid => (
            vec![
                Open {
                    after_ms: soon(rng),
                },
                Approve {
                    flow: Qr,
                    after_ms: rng.range(200, 2500),
                },
            ],
            Expect::Paid,
        ),
        Story::QrExpiredThenPaid => {
            // At most two QRs dying young in a row: a third puts the lane out of service.
            let mut acts = vec![Expire {
                flow: Qr,
                after_ms: soon(rng),
            }];
            if rng.chance(0.4) {
                acts.push(Expire {
                    flow: Qr,
                    after_ms: soon(rng),
                });
            }
            acts.push(Approve {
                flow: Qr,
                after_ms: soon(rng),
            });
            (acts, Expect::Paid)
        }
        Story::QrRejectedThenCancelled => (
            vec![
                Reject {
                    flow: Qr,
                    after_ms: soon(rng),
                },
                Cancel {
                    after_ms: rng.range(0, 3000),
                },
            ],
            Expect::Cancelled,
        ),
        Story::QrRejectedThenPaid => (
            vec![
                Reject {
                    flow: Qr,
                    after_ms: soon(rng),
                },
                Approve {
                    flow: Qr,
                    after_ms: soon(rng),
                },
            ],
            Expect::Paid,
        ),
        Story::PushPaid => (
            vec![
                Scan {
                    when: When::Waiting,
                    after_ms: soon(rng),
                },
                Approve {
                    flow: Push,
                    after_ms: rng.range(0, 3000),
                },
            ],
            Expect::Paid,
        ),
        Story::PushRejectedThenRescanned => (
            vec![
                Scan {
                    when: When::Waiting,
                    after_ms: soon(rng),
                },
                Reject {
                    flow: Push,
                    after_ms: soon(rng),
                },
                Scan {
                    when: When::Failed,
                    after_ms: soon(rng),
                },
                Approve {
                    flow: Push,
                    after_ms: soon(rng),
                },
            ],
            Expect::Paid,
        ),
        Story::PushExpiredThenQr => (
            vec![
                Scan {
                    when: When::Waiting,
                    after_ms: soon(rng),
                },
                Expire {
                    flow: Push,
                    after_ms: soon(rng),
                },
                Approve {
                    flow: Qr,
                    after_ms: soon(rng),
                },
            ],
            Expect::Paid,
        ),
        Story::PushExpiredThenCancelled => (
            vec![
                Scan {
                    when: When::Waiting,
                    after_ms: soon(rng),
                },
                Expire {
                    flow: Push,
                    after_ms: soon(rng),
                },
                Cancel {
                    after_ms: rng.range(0, 2000),
                },
            ],
            Expect::Cancelled,
        ),
        Story::ScanRacesApproval => (
            vec![ScanRacesApproval {
                scan_first: rng.chance(0.5),
                gap_ms: rng.range(0, 250),
            }],
            Expect::Paid,
        ),
        Story::CancelWhileWaiting => (
            vec![Cancel {
                after_ms: rng.range(0, 3000),
            }],
            Expect::Cancelled,
        ),
        Story::CancelRacesApproval => (
            vec![CancelRacesApproval {
                flow: if rng.chance(0.6) { Qr } else { Push },
                cancel_first: rng.chance(0.5),
                gap_ms: rng.range(0, 300),
            }],
            Expect::PaidOrCancelled,
        ),
        Story::CancelAfterScan => (
            vec![
                Scan {
                    when: When::Waiting,
                    after_ms: soon(rng),
                },
                Cancel {
                    after_ms: rng.range(0, 800),
                },
            ],
            Expect::Cancelled,
        ),
        Story::GarbageThenPaid => {
            let mut acts: Vec<Act> = (0..rng.range(1, 3))
                .map(|_| Garbage {
                    kind: rng.pick(&garbage),
                    when: When::Waiting,
                })
                .collect();
            if rng.chance(0.5) {
                acts.push(Scan {
                    when: When::Waiting,
                    after_ms: soon(rng),
                });
                acts.push(Approve {
                    flow: Push,
                    after_ms: soon(rng),
                });
            } else {
                acts.push(Approve {
                    flow: Qr,
                    after_ms: soon(rng),
                });
            }
            (acts, Expect::Paid)
        }
        Story::CaptureRefused => {
            let flow = if rng.chance(0.5) { Qr } else { Push };
            let mut acts = Vec::new();
            if flow == Push {
                acts.push(Scan {
                    when: When::Waiting,
                    after_ms: 0,
                });
            }
            acts.push(Approve {
                flow,
                after_ms: soon(rng),
            });
            (acts, Expect::CaptureRefused)
        }
        Story::CreateRefused => (vec![], Expect::CreateRefused),
        Story::HandOverPaid => (
            vec![
                HandOver {
                    phone: rng.chance(0.5),
                    after_ms: soon(rng),
                },
                Approve {
                    flow: Push,
                    after_ms: soon(rng),
                },
            ],
            Expect::Paid,
        ),
        // The customer approves the QR just as the cashier hands them over: first wins, one
        // capture either way.
        Story::HandOverRacesApproval => (
            vec![
                Approve {
                    flow: Qr,
                    after_ms: rng.range(0, 300),
                },
                HandOver {
                    phone: rng.chance(0.5),
                    after_ms: 0,
                },
                Approve {
                    flow: Push,
                    after_ms: soon(rng),
                },
            ],
            Expect::Paid,
        ),
        Story::FirstQrApprovedAfterRestart => {
            // On eCom the restarted kiosk cannot show the QR it resumed (eCom's details carry
            // no link): it shows a new one and follows the first until it ends.
            let mut acts = vec![KillWhileWaiting];
            if rng.chance(0.5) {
                acts.push(KillWhileWaiting);
            }
            acts.push(ApproveFirstQr {
                after_ms: rng.range(0, 1500),
            });
            (acts, Expect::Paid)
        }
    }
}

/// The refusal a refusal story is about, for as long as the order is open.
fn refusal_faults(story: Story) -> FaultPlan {
    let (endpoint, code, kind) = match story {
        Story::CaptureRefused => ("capture", "6260", "refused capture"),
        _ => ("create", "5040", "refused create"),
    };
    FaultPlan {
        kind,
        rules: vec![ApiFault {
            endpoint: endpoint.into(),
            refuse: Some(Refuse {
                status: 400,
                code: Some(code.into()),
                share: 1.0,
            }),
            ..ApiFault::default()
        }],
        expire_tokens: false,
        from_ms: 0,
        for_ms: None,
    }
}

/// One of the simulator's fault kinds, on one endpoint or all, for a burst or the session.
fn faults(rng: &mut Rng) -> FaultPlan {
    let endpoint = rng
        .pick(&["*", "create", "get", "capture", "cancel", "refund", "token"])
        .to_string();
    let share = |rng: &mut Rng, lo: u64, hi: u64| rng.range(lo, hi) as f64 / 100.0;
    let burst = Some(rng.range(800, 4000));
    let from_ms = rng.range(0, 2500);
    let kinds = [
        "latency", "5xx", "429", "lost", "garbled", "tokens", "mixed",
    ];
    let kind = rng.pick(&kinds);
    let (rule, for_ms) = match kind {
        "latency" => (
            ApiFault {
                endpoint: "*".into(),
                latency_ms: rng.range(50, 700),
                ..ApiFault::default()
            },
            None,
        ),
        "5xx" => (
            ApiFault {
                endpoint,
                server_error: share(rng, 30, 90),
                ..ApiFault::default()
            },
            burst,
        ),
        "429" => (
            ApiFault {
                endpoint,
                rate_limited: share(rng, 30, 80),
                retry_after_s: rng.range(1, 2),
                ..ApiFault::default()
            },
            burst,
        ),
        "lost" => (
            ApiFault {
                endpoint,
                drop_answer: share(rng, 30, 100),
                ..ApiFault::default()
            },
            burst,
        ),
        "garbled" => (
            ApiFault {
                endpoint,
                garble: share(rng, 30, 100),
                ..ApiFault::default()
            },
            burst,
        ),
        "tokens" => (ApiFault::default(), Some(0)),
        _ => (
            ApiFault {
                endpoint: "*".into(),
                latency_ms: rng.range(0, 100),
                server_error: 0.1,
                rate_limited: 0.1,
                retry_after_s: 1,
                drop_answer: 0.1,
                garble: 0.05,
                ..ApiFault::default()
            },
            Some(rng.range(2000, 6000)),
        ),
    };
    FaultPlan {
        kind,
        rules: if kind == "tokens" { vec![] } else { vec![rule] },
        expire_tokens: kind == "tokens",
        from_ms,
        for_ms,
    }
}

fn kill(rng: &mut Rng, expect: &Expect) -> Kill {
    let cancels = matches!(expect, Expect::Cancelled | Expect::PaidOrCancelled);
    match rng.range(0, 9) {
        0..=2 => Kill::AtStep(rng.range(1, 16)),
        3..=5 => Kill::After(rng.range(0, 5000)),
        6 if cancels => Kill::OnCancelAccepted,
        6 | 7 => Kill::OnStatus(rng.pick(&["approved", "scanned", "failed"])),
        _ => Kill::OnStatus(rng.pick(&["captured", "cancelled", "failed"])),
    }
}

#[test]
fn a_seed_plays_every_story_and_keeps_refused_orders_apart() {
    let plans = sessions(42, 200, 2);
    for (story, _) in DECK {
        assert!(plans.iter().any(|s| s.story == *story), "{story:?}");
    }
    for lane in 0..2 {
        let stories: Vec<Story> = plans
            .iter()
            .filter(|s| s.lane == lane)
            .map(|s| s.story)
            .collect();
        assert!(
            stories
                .windows(2)
                .all(|w| w != [Story::CreateRefused, Story::CreateRefused]),
            "lane {lane}"
        );
    }
    let again = sessions(42, 200, 2);
    assert!(
        plans
            .iter()
            .zip(&again)
            .all(|(a, b)| a.story == b.story && a.acts == b.acts && a.kills == b.kills)
    );
}
