//! The crash-safe journal: an append-only file of JSON lines recording orders, the requests
//! that move money (with their idempotency keys) and every status the POS was told. Each batch
//! is written and `fsync`ed before the requests it records go out, so after a crash the kiosk
//! knows every payment that may exist at Vipps and finishes it (see `Lane::resume`).
//!
//! A batch is all or nothing: a write or sync that fails is cut back to the last good length
//! before anything else is written, so no fragment is ever glued to the next batch. On open
//! the journal is read back (a torn last line from a crash mid-write is cut off), then
//! rewritten compactly: finished orders shrink to one summary line each (the newest
//! `KEEP_FINISHED`; the ids of older ones are kept as 64-bit hashes, so no order id is taken
//! twice), the unfinished order keeps its lines. The same compaction runs while the lane runs,
//! whenever an order ends (and when the file has grown), so a push payment's personal QR or
//! phone number leaves the disk with its order. The file is private to its owner.
//!
//! A journal that cannot be compacted at start (a full disk) still opens: what it holds is
//! read back and the unfinished payment carried on, and `trouble` says what is wrong.

mod disk;
mod replay;

pub use disk::{Disk, RealDisk, TestDisk};

use crate::{
    clock::now_rfc3339,
    payment::{Api, Order, OrderUpdate, Resume},
    pos::OrderRecord,
    vipps::model::{Amount, CreatePaymentRequest},
};
use replay::{Replay, compact, is_final, replay};
use serde::{Deserialize, Serialize};
use std::{
    fs::{self, File, OpenOptions},
    io,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

/// Finished orders kept (as summaries) when the journal is compacted.
pub const KEEP_FINISHED: usize = 1000;

/// The journal is compacted when it has grown this much past twice its compacted size, even
/// while an order is under way.
const GROWTH_ALLOWED: u64 = 256 * 1024;

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
    /// The ids of orders dropped by compaction, as 64-bit hashes (base64 of big-endian
    /// `u64`s): enough to refuse them again.
    Retired { ids: String },
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
}

/// What the journal held when the kiosk started.
#[derive(Debug, Clone, Default)]
pub struct Recovered {
    /// Every order it knows, as the POS last saw it, oldest first.
    pub orders: Vec<OrderRecord>,
    /// The payment that was under way, to be finished.
    pub resume: Option<Resume>,
    /// Payments of ended orders not known to have ended: followed again, and released.
    pub loose: Vec<crate::payment::Followed>,
    /// Lines that could not be read (not counting a torn last line).
    pub unreadable: usize,
    /// The last line was cut short by a crash mid-write, and dropped.
    pub torn_tail: bool,
}

/// The open journal. Appends are durable when `append` returns `Ok`, and leave nothing
/// behind when it returns `Err`.
pub struct Journal {
    file: File,
    path: PathBuf,
    disk: Arc<dyn Disk>,
    /// The bytes of the file that hold whole, synced batches.
    good_len: u64,
    /// A failed write may have left bytes past `good_len`: they are cut before the next one.
    dirty: bool,
    /// What the file says, kept up as it is written: for compaction while running, and for
    /// the order ids it knows.
    state: Replay,
    /// The file's length after the last compaction.
    compacted_len: u64,
    /// An order ended (or the file grew) since the last compaction.
    compaction_due: bool,
    /// Why the last write failed, until one succeeds.
    write_failure: Option<String>,
    /// Why the last compaction failed, until one succeeds.
    compact_failure: Option<String>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("good_len", &self.good_len)
            .finish_non_exhaustive()
    }
}

/// Opens `path` for reading and appending (creating it, private to its owner), locked.
fn open_locked(path: &Path) -> Result<File, JournalError> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(|source| JournalError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    if file.try_lock().is_err() {
        return Err(JournalError::Locked {
            path: path.to_path_buf(),
        });
    }
    Ok(file)
}

fn text_of(records: &[Record]) -> io::Result<String> {
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
    Ok(text)
}

impl Journal {
    /// Opens (creating) the journal at `path`, reads what it holds and compacts it. Only one
    /// process may have it open.
    pub fn open(path: &Path) -> Result<(Journal, Recovered), JournalError> {
        Journal::open_on(path, Arc::new(RealDisk))
    }

    /// `open`, writing through `disk` (tests make it fail).
    pub fn open_on(path: &Path, disk: Arc<dyn Disk>) -> Result<(Journal, Recovered), JournalError> {
        let open_err = |source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(open_err)?;
        }
        let file = open_locked(path)?;
        let bytes = fs::read(path).map_err(open_err)?;
        let text = String::from_utf8_lossy(&bytes);
        let (state, torn_tail, whole) = replay(&text);
        let mut journal = Journal {
            file,
            path: path.to_path_buf(),
            disk,
            good_len: whole as u64,
            dirty: false,
            state,
            compacted_len: 0,
            compaction_due: false,
            write_failure: None,
            compact_failure: None,
        };
        if torn_tail {
            tracing::warn!(path = %path.display(), "the journal's last line was cut short by a crash; dropped");
            journal.dirty = true;
        }
        let compacted = compact(&journal.state).map_err(|e| open_err(e.into()))?;
        let recovered = Recovered {
            orders: compacted.orders,
            resume: compacted.resume,
            loose: compacted.loose,
            unreadable: journal.state.unreadable,
            torn_tail,
        };
        match journal.rewrite(&compacted.text) {
            Ok(()) => {}
            Err(RewriteError::Locked) => {
                return Err(JournalError::Locked {
                    path: path.to_path_buf(),
                });
            }
            Err(RewriteError::Io(e)) => {
                // A full disk: carry on with the file as it is (cut back to its whole lines).
                tracing::error!(path = %path.display(), error = %e, "cannot compact the journal at start; carrying on with it as it is");
                let why = format!("cannot compact at start: {e}");
                journal.write_failure = Some(why.clone());
                journal.compact_failure = Some(why);
                journal.compaction_due = true;
                journal.cut_back();
            }
        }
        Ok((journal, recovered))
    }

    /// Cuts what a failed write left past the last good length.
    fn cut_back(&mut self) {
        if self.dirty && self.disk.truncate(&self.file, self.good_len).is_ok() {
            self.dirty = false;
        }
    }

    /// Replaces the file with `text`, atomically (write aside, fsync, rename, fsync the
    /// directory), and keeps appending to the new file. The aside file is locked before it
    /// takes the journal's name, so no other process can open it in between.
    fn rewrite(&mut self, text: &str) -> Result<(), RewriteError> {
        let mut aside = self.path.clone().into_os_string();
        aside.push(".new");
        let aside = PathBuf::from(aside);
        let _ = fs::remove_file(&aside);
        let mut new = match open_locked(&aside) {
            Ok(f) => f,
            Err(JournalError::Locked { .. }) => return Err(RewriteError::Locked),
            Err(JournalError::Open { source, .. }) => return Err(RewriteError::Io(source)),
        };
        let written = self
            .disk
            .write(&mut new, text.as_bytes())
            .and_then(|()| self.disk.sync(&new))
            .and_then(|()| fs::rename(&aside, &self.path));
        if let Err(e) = written {
            drop(new);
            let _ = fs::remove_file(&aside);
            return Err(RewriteError::Io(e));
        }
        self.file = new;
        self.good_len = text.len() as u64;
        self.dirty = false;
        self.compacted_len = self.good_len;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The rename is done; a directory that cannot be synced is said, not undone.
            if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
                tracing::warn!(error = %e, "cannot sync the journal's directory");
            }
        }
        Ok(())
    }

    /// Writes `records` as one batch and waits until they are on disk. On `Err` nothing of
    /// the batch counts: what reached the file is cut off before the next write.
    pub fn append(&mut self, records: &[Record]) -> io::Result<()> {
        self.append_timed(records).map(drop)
    }

    /// `append`, saying how long its `fsync` took (for the metrics).
    pub fn append_timed(&mut self, records: &[Record]) -> io::Result<Duration> {
        if records.is_empty() {
            return Ok(Duration::ZERO);
        }
        let text = text_of(records)?;
        let synced = match self.write_batch(&text) {
            Ok(synced) => synced,
            Err(e) => {
                self.write_failure = Some(e.to_string());
                return Err(e);
            }
        };
        self.write_failure = None;
        self.good_len += text.len() as u64;
        for raw in text.lines() {
            self.state.line(raw);
        }
        let ended = records.iter().any(|r| match r {
            Record::Status { update } => is_final(update.status, update.reason),
            _ => false,
        });
        let grown = self.good_len > self.compacted_len.saturating_mul(2) + GROWTH_ALLOWED;
        if ended || grown {
            self.compaction_due = true;
        }
        if self.compaction_due {
            self.compact_now();
        }
        Ok(synced)
    }

    /// Writes and syncs `text`; how long the sync took.
    fn write_batch(&mut self, text: &str) -> io::Result<Duration> {
        if self.dirty {
            self.disk.truncate(&self.file, self.good_len)?;
            self.dirty = false;
        }
        let mut synced = Duration::ZERO;
        let written = self
            .disk
            .write(&mut self.file, text.as_bytes())
            .and_then(|()| {
                let started = std::time::Instant::now();
                let r = self.disk.sync(&self.file);
                synced = started.elapsed();
                r
            });
        if written.is_err() {
            self.dirty = true;
            self.cut_back();
        }
        written.map(|()| synced)
    }

    /// Rewrites the file compactly; a failure is kept in `trouble` and tried again later.
    fn compact_now(&mut self) {
        let result = match compact(&self.state) {
            Ok(c) => self.rewrite(&c.text).map(|()| c.text),
            Err(e) => Err(RewriteError::Io(e.into())),
        };
        match result {
            Ok(text) => {
                self.state = replay(&text).0;
                self.compaction_due = false;
                self.compact_failure = None;
            }
            Err(e) => {
                let e = match e {
                    RewriteError::Locked => "the new file is locked by another process".into(),
                    RewriteError::Io(e) => e.to_string(),
                };
                tracing::error!(path = %self.path.display(), error = %e, "cannot compact the journal; trying again after the next write");
                self.compact_failure = Some(e);
            }
        }
    }

    /// Whether the journal knows this order id (it is, or was once, in the file).
    pub fn knows(&self, order_id: &str) -> bool {
        self.state.knows(order_id)
    }

    /// What is wrong with the journal, if anything: the last write failed (nothing can be
    /// recorded), or it cannot be compacted (it grows, and personal data stays on disk).
    pub fn trouble(&self) -> Option<String> {
        match (&self.write_failure, &self.compact_failure) {
            (Some(w), _) => Some(format!("cannot write: {w}")),
            (None, Some(c)) => Some(format!(
                "cannot compact: {c} (personal data of ended orders stays on disk until it can)"
            )),
            (None, None) => None,
        }
    }

    /// Whether the last write failed.
    pub fn failing(&self) -> bool {
        self.write_failure.is_some()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

enum RewriteError {
    Locked,
    Io(io::Error),
}

#[cfg(test)]
#[path = "journal_tests.rs"]
pub(crate) mod tests;
