//! The crash-safe journal: an append-only file of JSON lines recording orders, the requests
//! that move money (with their idempotency keys) and every status the POS was told. Each batch
//! is written and `fsync`ed before the requests it records go out, so after a crash the kiosk
//! knows every payment that may exist at Vipps and finishes it (see `Lane::resume`).
//!
//! On open the journal is read back (a torn last line from a crash mid-write is dropped), then
//! rewritten compactly: finished orders shrink to one summary line each (the newest
//! `KEEP_FINISHED`), the unfinished order keeps its lines. The file is private to its owner: a
//! push payment's create request holds the customer's personal QR until the order ends.

use crate::{
    clock::now_rfc3339,
    payment::{Api, Order, OrderStatus, OrderUpdate, Resume, round_of},
    pos::OrderRecord,
    vipps::model::{Amount, CreatePaymentRequest},
};
use serde::{Deserialize, Serialize};
use std::{
    collections::HashMap,
    fs::{self, File, OpenOptions},
    io::{self, Write},
    path::{Path, PathBuf},
    time::Duration,
};

/// Finished orders kept (as summaries) when the journal is compacted at start.
pub const KEEP_FINISHED: usize = 1000;

/// One fact, as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Record {
    /// The POS's order, as accepted.
    Order { order: Order },
    /// A create request about to be sent.
    Create {
        order_id: String,
        attempt: u32,
        idempotency_key: String,
        request: Box<CreatePaymentRequest>,
        /// Which API the payment was made with (journals from before eCom: ePayment).
        #[serde(default)]
        api: Api,
    },
    /// A capture about to be sent.
    Capture {
        reference: String,
        idempotency_key: String,
        amount: Amount,
    },
    /// A cancel about to be sent.
    Cancel {
        reference: String,
        transaction_only: bool,
        idempotency_key: String,
    },
    /// The POS withdrew the order.
    Withdrawn { order_id: String },
    /// A status the POS was told.
    Status { update: OrderUpdate },
    /// A finished order, as the POS last saw it (written by compaction).
    Summary { record: OrderRecord },
    /// A staff refund about to be sent.
    Refund {
        order_id: String,
        reference: String,
        idempotency_key: String,
        amount: Amount,
    },
    /// Vipps confirmed a staff refund: `total` is the payment's refunded amount since.
    Refunded { order_id: String, total: i64 },
    /// A payment followed besides the order's current one has ended (or been released).
    Settled { reference: String },
}

impl Record {
    /// What the journal records of an effect: the requests that move money and the statuses
    /// the POS is told. `current` is the order and attempt a create belongs to.
    pub fn of(effect: &crate::payment::Effect, current: Option<(&Order, u32)>) -> Option<Record> {
        use crate::payment::Effect;
        Some(match effect {
            Effect::Create {
                request,
                idempotency_key,
                api,
            } => {
                let (order, attempt) = current?;
                Record::Create {
                    order_id: order.order_id.clone(),
                    attempt,
                    idempotency_key: idempotency_key.clone(),
                    request: request.clone(),
                    api: *api,
                }
            }
            Effect::Capture {
                reference,
                amount,
                idempotency_key,
                ..
            } => Record::Capture {
                reference: reference.clone(),
                idempotency_key: idempotency_key.clone(),
                amount: *amount,
            },
            Effect::Cancel {
                reference,
                transaction_only,
                idempotency_key,
                ..
            } => Record::Cancel {
                reference: reference.clone(),
                transaction_only: *transaction_only,
                idempotency_key: idempotency_key.clone(),
            },
            Effect::Notify(update) => Record::Status {
                update: update.clone(),
            },
            Effect::Refund {
                order_id,
                reference,
                amount,
                idempotency_key,
            } => Record::Refund {
                order_id: order_id.clone(),
                reference: reference.clone(),
                idempotency_key: idempotency_key.clone(),
                amount: *amount,
            },
            Effect::Settled { reference } => Record::Settled {
                reference: reference.clone(),
            },
            Effect::RefundDone {
                order_id,
                result: Ok(total),
                ..
            } => Record::Refunded {
                order_id: order_id.clone(),
                total: total.value,
            },
            // Reads and the QR exchange move no money: nothing to record.
            Effect::Poll { .. }
            | Effect::Exchange { .. }
            | Effect::Refused { .. }
            | Effect::RefundDone { result: Err(_), .. } => {
                return None;
            }
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Line {
    /// RFC 3339, UTC.
    at: String,
    #[serde(flatten)]
    record: Record,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot open the journal {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("the journal {path} is in use by another kiosk process")]
    Locked { path: PathBuf },
    #[error("cannot rewrite the journal {path}: {source}")]
    Compact { path: PathBuf, source: io::Error },
}

/// What the journal held when the kiosk started.
#[derive(Debug, Clone, Default)]
pub struct Recovered {
    /// Every order it knows, as the POS last saw it, oldest first.
    pub orders: Vec<OrderRecord>,
    /// The payment that was under way, to be finished.
    pub resume: Option<Resume>,
    /// Lines that could not be read (not counting a torn last line).
    pub unreadable: usize,
    /// The last line was cut short by a crash mid-write, and dropped.
    pub torn_tail: bool,
}

/// The open journal. Appends are durable when `append` returns.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
}

fn age_of(at: &str) -> Duration {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| time::OffsetDateTime::now_utc() - t)
        .and_then(|d| Duration::try_from(d).ok())
        .unwrap_or_default()
}

/// An order as the journal tells it.
struct Entry {
    order: Option<Order>,
    record: OrderRecord,
    /// Attempt, key, request and time of the last create.
    create: Option<(u32, Box<CreatePaymentRequest>, String, Api)>,
    withdrawn: bool,
    capture_round: u32,
    cancel_round: u32,
    /// The lines to keep while the order is unfinished.
    lines: Vec<String>,
}

impl Entry {
    fn finished(&self) -> bool {
        matches!(
            self.record.status,
            OrderStatus::Captured | OrderStatus::Cancelled | OrderStatus::Expired
        )
    }
}

impl Entry {
    fn new(order: Option<Order>, record: OrderRecord) -> Entry {
        Entry {
            order,
            record,
            create: None,
            withdrawn: false,
            capture_round: 1,
            cancel_round: 1,
            lines: Vec::new(),
        }
    }

    /// Folds one of the order's records (written at `at`) into what is known of it.
    fn apply(&mut self, record: Record, at: String) {
        match record {
            // A refund is known from its outcome (`Refunded`); Vipps keeps the truth.
            Record::Order { .. }
            | Record::Summary { .. }
            | Record::Refund { .. }
            | Record::Settled { .. } => {}
            Record::Create {
                attempt,
                request,
                api,
                ..
            } => {
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
                transaction_only,
                idempotency_key,
                ..
            } => {
                if !transaction_only {
                    self.cancel_round = self
                        .cancel_round
                        .max(round_of(&idempotency_key, "cancel").unwrap_or(1));
                }
            }
            Record::Withdrawn { .. } => self.withdrawn = true,
            Record::Status { update } => self.record.apply(&update, at),
            Record::Refunded { total, .. } => {
                self.record.refunded_amount = Some(total);
                self.record.updated_at = at;
            }
        }
    }
}

/// Journal text read back into orders, each keeping its lines for compaction.
#[derive(Default)]
struct Replay {
    entries: Vec<Entry>,
    /// Orders by id, and by the references of their payments (captures and cancels name
    /// only the reference).
    index: HashMap<String, usize>,
    by_reference: HashMap<String, usize>,
    unreadable: usize,
}

impl Replay {
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
        })
    }

    fn line(&mut self, raw: &str) {
        let line: Line = match serde_json::from_str(raw) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "unreadable journal line skipped");
                self.unreadable += 1;
                return;
            }
        };
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

/// Reads journal text back into orders, keeping each order's lines for compaction: the
/// orders, the count of unreadable lines, and whether the last line was torn.
fn replay(text: &str) -> (Vec<Entry>, usize, bool) {
    let torn_tail = !text.is_empty() && !text.ends_with('\n');
    let mut lines: Vec<&str> = text.split('\n').collect();
    // `split` leaves the text after the last newline: empty, or the torn line.
    lines.pop();
    let mut replay = Replay::default();
    for raw in lines {
        if !raw.trim().is_empty() {
            replay.line(raw);
        }
    }
    (replay.entries, replay.unreadable, torn_tail)
}

/// What a compacted journal keeps of `entries`: the lines to write back, every order as the POS
/// last saw it, and the payment to resume. The newest unfinished order with a payment is
/// carried on; an unfinished order without one never reached Vipps (its create line comes in
/// the same write) and is forgotten. Finished orders shrink to one summary each.
fn compact(entries: Vec<Entry>) -> (Vec<Line>, Vec<OrderRecord>, Option<Resume>) {
    let mut resume = None;
    let mut orders = Vec::new();
    let mut keep = Vec::new();
    let finished: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].finished())
        .collect();
    let keep_from = finished.len().saturating_sub(KEEP_FINISHED);
    let kept_finished: std::collections::HashSet<usize> =
        finished[keep_from..].iter().copied().collect();
    let last_unfinished = (0..entries.len())
        .rev()
        .find(|&i| !entries[i].finished() && entries[i].create.is_some());
    for (i, e) in entries.into_iter().enumerate() {
        if kept_finished.contains(&i) {
            keep.push(Line {
                at: e.record.updated_at.clone(),
                record: Record::Summary {
                    record: e.record.clone(),
                },
            });
            orders.push(e.record);
        } else if Some(i) == last_unfinished {
            if let (Some(order), Some((attempt, request, at, api))) = (e.order, e.create) {
                resume = Some(Resume {
                    order,
                    attempt,
                    api,
                    request: *request,
                    age: age_of(&at),
                    withdrawn: e.withdrawn,
                    capture_round: e.capture_round,
                    cancel_round: e.cancel_round,
                });
            }
            orders.push(e.record);
            keep.extend(
                e.lines
                    .iter()
                    .filter_map(|l| serde_json::from_str::<Line>(l).ok()),
            );
        } else if !e.finished() && e.create.is_some() {
            // Payments run one after another, so an older order cannot hold money; said
            // loudly all the same.
            tracing::error!(order = %e.record.order_id, "an older unfinished order in the journal; reported as it stands");
            orders.push(e.record);
        }
    }
    (keep, orders, resume)
}

impl Journal {
    /// Opens (creating) the journal at `path`, reads what it holds and compacts it. Only one
    /// process may have it open.
    pub fn open(path: &Path) -> Result<(Journal, Recovered), JournalError> {
        let open_err = |source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(open_err)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(open_err)?;
        if file.try_lock().is_err() {
            return Err(JournalError::Locked {
                path: path.to_path_buf(),
            });
        }
        let bytes = fs::read(path).map_err(open_err)?;
        let text = String::from_utf8_lossy(&bytes);
        let (entries, unreadable, torn_tail) = replay(&text);
        if torn_tail {
            tracing::warn!(path = %path.display(), "the journal's last line was cut short by a crash; dropped");
        }

        let (keep, orders, resume) = compact(entries);
        let mut journal = Journal {
            file,
            path: path.to_path_buf(),
        };
        journal.rewrite(&keep)?;
        Ok((
            journal,
            Recovered {
                orders,
                resume,
                unreadable,
                torn_tail,
            },
        ))
    }

    /// Replaces the file with `lines`, atomically (write aside, fsync, rename, fsync the
    /// directory), and keeps appending to the new file.
    fn rewrite(&mut self, lines: &[Line]) -> Result<(), JournalError> {
        let path = self.path.clone();
        let err = |source| JournalError::Compact {
            path: path.clone(),
            source,
        };
        let mut aside = path.clone().into_os_string();
        aside.push(".new");
        let aside = PathBuf::from(aside);
        let mut text = String::new();
        for l in lines {
            text.push_str(&serde_json::to_string(l).map_err(|e| err(e.into()))?);
            text.push('\n');
        }
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut new = options.open(&aside).map_err(err)?;
        new.write_all(text.as_bytes()).map_err(err)?;
        new.sync_all().map_err(err)?;
        drop(new);
        fs::rename(&aside, &path).map_err(err)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir).and_then(|d| d.sync_all()).map_err(err)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).append(true);
        let file = options.open(&path).map_err(err)?;
        if file.try_lock().is_err() {
            return Err(JournalError::Locked { path });
        }
        self.file = file;
        Ok(())
    }

    /// Writes `records` as one batch and waits until they are on disk.
    pub fn append(&mut self, records: &[Record]) -> io::Result<()> {
        self.append_timed(records).map(drop)
    }

    /// `append`, saying how long its `fsync` took (for the metrics).
    pub fn append_timed(&mut self, records: &[Record]) -> io::Result<Duration> {
        if records.is_empty() {
            return Ok(Duration::ZERO);
        }
        let at = now_rfc3339();
        let mut text = String::new();
        for record in records {
            let line = Line {
                at: at.clone(),
                record: record.clone(),
            };
            text.push_str(&serde_json::to_string(&line).map_err(io::Error::other)?);
            text.push('\n');
        }
        self.file.write_all(text.as_bytes())?;
        let synced = std::time::Instant::now();
        self.file.sync_data()?;
        Ok(synced.elapsed())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
pub(crate) mod tests;
