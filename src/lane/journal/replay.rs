//! Journal text read back into orders (at start, and line by line as it is written), and
//! what a compacted journal keeps of them.

use super::{KEEP_FINISHED, Line, Record};
use crate::{
    payment::{Api, FailureReason, Followed, Order, OrderStatus, OrderUpdate, Resume, round_of},
    pos::OrderRecord,
    vipps::model::CreatePaymentRequest,
};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

fn age_of(at: &str) -> Duration {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| time::OffsetDateTime::now_utc() - t)
        .and_then(|d| Duration::try_from(d).ok())
        .unwrap_or_default()
}

/// What the journal keeps of an order id once the order itself is dropped: 64 bits of its
/// SHA-256, enough to refuse the id again (a fresh id is wrongly refused about once in 10^7
/// after a million orders, and the POS then sends another).
pub(super) fn retired_id(order_id: &str) -> u64 {
    let d = Sha256::digest(order_id.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
}

fn encode_retired(ids: &HashSet<u64>) -> String {
    let mut sorted: Vec<u64> = ids.iter().copied().collect();
    sorted.sort_unstable();
    let bytes: Vec<u8> = sorted.iter().flat_map(|i| i.to_be_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn decode_retired(ids: &str) -> Option<Vec<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(ids).ok()?;
    (bytes.len() % 8 == 0).then(|| {
        bytes
            .chunks_exact(8)
            .map(|c| {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                u64::from_be_bytes(b)
            })
            .collect()
    })
}

/// An order as the journal tells it.
pub(super) struct Entry {
    order: Option<Order>,
    record: OrderRecord,
    /// Attempt, key, request and time of the last create.
    create: Option<(u32, Box<CreatePaymentRequest>, String, Api)>,
    withdrawn: bool,
    capture_round: u32,
    cancel_round: u32,
    /// The lines to keep while the order is unfinished.
    lines: Vec<String>,
    /// Every create of the order, oldest first.
    creates: Vec<Created>,
    /// Payments of the order known to have ended (`Settled`).
    settled: HashSet<String>,
    /// The round of the last full cancel of each payment.
    cancel_rounds: HashMap<String, u32>,
    /// The payment that was captured, once one was.
    captured: Option<String>,
}

/// One create of an order: attempt, request, when (RFC 3339), API, idempotency key.
type Created = (u32, Box<CreatePaymentRequest>, String, Api, String);

/// Payments older than this are not followed again after a restart: Vipps ended them long
/// ago, or (approved and never released) they are past what a lane can still put right.
const FOLLOW_AT_MOST: Duration = Duration::from_secs(24 * 3600);

/// Whether an order with this status (and failure reason) is over: paid, stopped, or ended
/// unpaid for a reason no new attempt can get past.
pub(super) fn is_final(status: OrderStatus, reason: Option<FailureReason>) -> bool {
    match status {
        OrderStatus::Captured | OrderStatus::Cancelled | OrderStatus::Expired => true,
        OrderStatus::Failed => reason.is_some_and(FailureReason::ends_order),
        _ => false,
    }
}

impl Entry {
    fn finished(&self) -> bool {
        is_final(self.record.status, self.record.reason)
    }

    fn new(order: Option<Order>, record: OrderRecord) -> Entry {
        Entry {
            order,
            record,
            create: None,
            withdrawn: false,
            capture_round: 1,
            cancel_round: 1,
            lines: Vec::new(),
            creates: Vec::new(),
            settled: HashSet::new(),
            cancel_rounds: HashMap::new(),
            captured: None,
        }
    }

    /// The order's payments that may still be live: created, not known to have ended, not
    /// the captured one, and not `except` (the one resumed as current).
    fn unsettled(&self, except: Option<&str>) -> Vec<(&Created, Duration)> {
        self.creates
            .iter()
            .filter(|c| {
                let r = c.1.reference.as_str();
                !self.settled.contains(r)
                    && self.captured.as_deref() != Some(r)
                    && except != Some(r)
            })
            .map(|c| (c, age_of(&c.2)))
            .filter(|(_, age)| *age <= FOLLOW_AT_MOST)
            .collect()
    }

    /// Those payments, to be followed again (`release`: their order no longer takes them).
    fn followed(&self, except: Option<&str>, release: bool) -> Vec<Followed> {
        self.unsettled(except)
            .into_iter()
            .map(|((attempt, request, _, api, _), age)| {
                let mut request = (**request).clone();
                if release {
                    // Its order has ended: whom it was pushed to is not needed any more.
                    request.customer = None;
                }
                Followed {
                    order_id: self.record.order_id.clone(),
                    attempt: *attempt,
                    api: *api,
                    cancel_round: self
                        .cancel_rounds
                        .get(&request.reference)
                        .copied()
                        .unwrap_or(1),
                    request,
                    age,
                    release,
                }
            })
            .collect()
    }

    /// Folds one of the order's records (written at `at`) into what is known of it.
    fn apply(&mut self, record: Record, at: String) {
        match record {
            // A refund is known from its outcome (`Refunded`); Vipps keeps the truth.
            Record::Order { .. }
            | Record::Summary { .. }
            | Record::Refund { .. }
            | Record::Retired { .. } => {}
            Record::Settled { reference } => {
                self.settled.insert(reference);
            }
            Record::Create {
                attempt,
                request,
                api,
                idempotency_key,
                ..
            } => {
                self.creates
                    .push((attempt, request.clone(), at.clone(), api, idempotency_key));
                self.create = Some((attempt, request, at, api));
                self.capture_round = 1;
                self.cancel_round = 1;
            }
            Record::Capture {
                idempotency_key, ..
            } => {
                self.capture_round = self
                    .capture_round
                    .max(round_of(&idempotency_key, "capture").unwrap_or(1));
            }
            Record::Cancel {
                reference,
                transaction_only,
                idempotency_key,
            } => {
                if !transaction_only {
                    let round = round_of(&idempotency_key, "cancel").unwrap_or(1);
                    self.cancel_round = self.cancel_round.max(round);
                    let r = self.cancel_rounds.entry(reference).or_insert(1);
                    *r = (*r).max(round);
                }
            }
            Record::Withdrawn { .. } => self.withdrawn = true,
            Record::Status { update } => {
                if update.status == OrderStatus::Captured {
                    self.captured = update.reference.clone();
                }
                self.record.apply(&update, at);
            }
            Record::Refunded { total, .. } => {
                self.record.refunded_amount = Some(total);
                self.record.updated_at = at;
            }
        }
    }
}

/// Journal text read back into orders, each keeping its lines for compaction.
#[derive(Default)]
pub(super) struct Replay {
    entries: Vec<Entry>,
    /// Orders by id, and by the references of their payments (captures and cancels name
    /// only the reference).
    index: HashMap<String, usize>,
    by_reference: HashMap<String, usize>,
    /// Orders dropped from the file, by `retired_id`.
    retired: HashSet<u64>,
    pub(super) unreadable: usize,
}

impl Replay {
    /// Whether the journal knows this order id (its order, or that it was once used).
    pub(super) fn knows(&self, order_id: &str) -> bool {
        self.index.contains_key(order_id) || self.retired.contains(&retired_id(order_id))
    }

    /// The order a record belongs to; `None` for a capture or cancel of an unknown payment.
    fn order_id(&self, record: &Record) -> Option<String> {
        Some(match record {
            Record::Order { order } => order.order_id.clone(),
            Record::Create { order_id, .. }
            | Record::Withdrawn { order_id }
            | Record::Refund { order_id, .. }
            | Record::Refunded { order_id, .. }
            | Record::Status {
                update: OrderUpdate { order_id, .. },
            } => order_id.clone(),
            Record::Summary { record } => record.order_id.clone(),
            Record::Capture { reference, .. }
            | Record::Cancel { reference, .. }
            | Record::Settled { reference } => {
                let &i = self.by_reference.get(reference)?;
                self.entries[i].record.order_id.clone()
            }
            Record::Retired { .. } => return None,
        })
    }

    /// Folds in one line of journal text.
    pub(super) fn line(&mut self, raw: &str) {
        match serde_json::from_str::<Line>(raw) {
            Ok(line) => self.fold(line, raw),
            Err(e) => {
                tracing::error!(error = %e, "unreadable journal line skipped");
                self.unreadable += 1;
            }
        }
    }

    /// Folds in one line, read or just written (`raw` is its text).
    pub(super) fn fold(&mut self, line: Line, raw: &str) {
        if let Record::Retired { ids } = &line.record {
            match decode_retired(ids) {
                Some(ids) => self.retired.extend(ids),
                None => self.unreadable += 1,
            }
            return;
        }
        let Some(order_id) = self.order_id(&line.record) else {
            self.unreadable += 1;
            return;
        };
        let at = line.at;
        let i = match (self.index.get(&order_id), &line.record) {
            (Some(&i), _) => i,
            (None, Record::Order { order }) => {
                let record = OrderRecord::new(order, at.clone());
                self.entries.push(Entry::new(Some(order.clone()), record));
                self.index.insert(order_id, self.entries.len() - 1);
                self.entries.len() - 1
            }
            (None, Record::Summary { record }) => {
                self.entries.push(Entry::new(None, record.clone()));
                self.index.insert(order_id, self.entries.len() - 1);
                return;
            }
            (None, _) => {
                tracing::error!(order = %order_id, "journal line for an unknown order skipped");
                self.unreadable += 1;
                return;
            }
        };
        if let Record::Create { request, .. } = &line.record {
            self.by_reference.insert(request.reference.clone(), i);
        }
        let e = &mut self.entries[i];
        e.lines.push(raw.to_string());
        e.apply(line.record, at);
    }
}

/// Reads journal text back into orders: what it says, whether the last line was torn (cut
/// short by a crash mid-write), and the length of the text up to it.
pub(super) fn replay(text: &str) -> (Replay, bool, usize) {
    let whole = text.rfind('\n').map_or(0, |i| i + 1);
    let torn_tail = whole < text.len();
    let mut replay = Replay::default();
    for raw in text[..whole].split('\n') {
        if !raw.trim().is_empty() {
            replay.line(raw);
        }
    }
    (replay, torn_tail, whole)
}

/// What a compacted journal keeps.
pub(super) struct Compacted {
    /// The file's new text.
    pub text: String,
    /// Every order it knows, as the POS last saw it.
    pub orders: Vec<OrderRecord>,
    /// The payment to carry on.
    pub resume: Option<Resume>,
    /// Payments of ended orders not known to have ended: followed again, and released.
    pub loose: Vec<Followed>,
}

fn summary_line(record: &OrderRecord) -> Result<String, serde_json::Error> {
    serde_json::to_string(&Line {
        at: record.updated_at.clone(),
        record: Record::Summary {
            record: record.clone(),
        },
    })
}

/// What a compacted journal keeps of `replay`: the newest unfinished order with a payment is
/// carried on with its lines; an unfinished order without one never reached Vipps (its create
/// line comes in the same write) and is forgotten. Finished orders shrink to one summary each
/// (the newest `KEEP_FINISHED`); the ids of the orders dropped are kept as `retired_id`s, so
/// an id is never taken twice.
pub(super) fn compact(replay: &Replay) -> Result<Compacted, serde_json::Error> {
    let entries = &replay.entries;
    let finished: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].finished())
        .collect();
    let keep_from = finished.len().saturating_sub(KEEP_FINISHED);
    let kept_finished: HashSet<usize> = finished[keep_from..].iter().copied().collect();
    let last_unfinished = (0..entries.len())
        .rev()
        .find(|&i| !entries[i].finished() && entries[i].create.is_some());
    let mut retired = replay.retired.clone();
    let (mut resume, mut orders, mut lines) = (None, Vec::new(), Vec::new());
    let mut loose = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if kept_finished.contains(&i) {
            lines.push(summary_line(&e.record)?);
            orders.push(e.record.clone());
            // Its payments still followed (being released) are kept, the customer scrubbed.
            for f in e.followed(None, true) {
                let key = e
                    .creates
                    .iter()
                    .find(|c| c.1.reference == f.request.reference)
                    .map(|c| c.4.clone())
                    .unwrap_or_default();
                lines.push(serde_json::to_string(&Line {
                    at: crate::clock::now_rfc3339(),
                    record: Record::Create {
                        order_id: f.order_id.clone(),
                        attempt: f.attempt,
                        idempotency_key: key,
                        request: Box::new(f.request.clone()),
                        api: f.api,
                    },
                })?);
                loose.push(f);
            }
        } else if Some(i) == last_unfinished {
            if let (Some(order), Some((attempt, request, at, api))) = (&e.order, &e.create) {
                resume = Some(Resume {
                    order: order.clone(),
                    attempt: *attempt,
                    api: *api,
                    request: (**request).clone(),
                    age: age_of(at),
                    withdrawn: e.withdrawn,
                    capture_round: e.capture_round,
                    cancel_round: e.cancel_round,
                    followed: e.followed(Some(&request.reference), e.withdrawn),
                });
            }
            orders.push(e.record.clone());
            lines.extend(e.lines.iter().cloned());
        } else if e.finished() {
            retired.insert(retired_id(&e.record.order_id));
        } else if e.create.is_some() {
            // Payments run one after another, so an older order cannot hold money; said
            // loudly all the same.
            tracing::error!(order = %e.record.order_id, "an older unfinished order in the journal; reported as it stands");
            retired.insert(retired_id(&e.record.order_id));
            orders.push(e.record.clone());
        }
    }
    let mut text = String::new();
    if !retired.is_empty() {
        text.push_str(&serde_json::to_string(&Line {
            at: crate::clock::now_rfc3339(),
            record: Record::Retired {
                ids: encode_retired(&retired),
            },
        })?);
        text.push('\n');
    }
    for l in lines {
        text.push_str(&l);
        text.push('\n');
    }
    Ok(Compacted {
        text,
        orders,
        resume,
        loose,
    })
}
