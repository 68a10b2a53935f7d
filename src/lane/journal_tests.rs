use super::*;
use crate::payment::{Config, Effect, Input, Machine, Method, OrderStatus, order::tests::order};
use std::{
    io::Write,
    sync::atomic::AtomicU32,
    time::{Duration, Instant},
};

/// A fresh directory under the system's temp dir, removed when dropped.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("vipps-kiosk-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
    pub(crate) fn file(&self) -> PathBuf {
        self.0.join("journal.jsonl")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const QR: &str = "https://qr.vipps.no/p/AbC-123_xyz?v=2";

/// The records a machine's effects turn into, as the lane writes them.
fn records_of(m: &Machine, fx: &[Effect]) -> Vec<Record> {
    let current = m.order().zip(m.attempt());
    fx.iter().filter_map(|e| Record::of(e, current)).collect()
}

/// An order that got as far as a push payment's create (attempt 2), in journal records.
fn push_payment_records(id: &str) -> (Vec<Record>, CreatePaymentRequest) {
    let mut m = Machine::new(Config::default());
    let now = Instant::now();
    let mut records = vec![Record::Order { order: order(id) }];
    let fx = m.step(Input::OrderReceived(order(id)), now);
    records.extend(records_of(&m, &fx));
    let reference = m.payment().expect("payment").reference.clone();
    m.step(
        Input::Created {
            reference,
            result: Ok(Some("http://sim/qr".into())),
            valid_for: None,
        },
        now,
    );
    let fx = m.step(Input::Scan(crate::scan::RawScan(QR.into())), now);
    records.extend(records_of(&m, &fx));
    let reference = m.payment().expect("payment").reference.clone();
    let fx = m.step(
        Input::CancelAnswered {
            reference,
            result: Ok(crate::payment::Observed {
                state: crate::vipps::model::PaymentState::Terminated,
                aggregate: crate::vipps::model::Aggregate::zero(order(id).currency),
                redirect_url: None,
                opened: false,
            }),
        },
        now,
    );
    records.extend(records_of(&m, &fx));
    let request = m.payment().expect("push payment").request.clone();
    assert_eq!(
        request.user_flow,
        crate::vipps::model::UserFlow::PushMessage
    );
    (records, request)
}

pub(crate) fn finished(id: &str, status: OrderStatus) -> Vec<Record> {
    let o = order(id);
    vec![
        Record::Order { order: o.clone() },
        Record::Status {
            update: OrderUpdate {
                order_id: id.into(),
                status,
                reference: Some(format!("{id}-1")),
                method: Some(Method::OneTimeQr),
                captured: (status == OrderStatus::Captured).then(|| o.total()),
                reason: None,
            },
        },
    ]
}

#[test]
fn an_unfinished_push_payment_comes_back_with_its_request_and_keys() {
    let dir = TempDir::new("resume");
    let (mut records, request) = push_payment_records("order-0001");
    records.push(Record::Capture {
        reference: request.reference.clone(),
        idempotency_key: "capture2-order-0001-2".into(),
        amount: request.amount,
    });
    {
        let (mut j, recovered) = Journal::open(&dir.file()).expect("open");
        assert!(recovered.resume.is_none() && recovered.orders.is_empty());
        j.append(&records).expect("append");
    }
    let (_j, recovered) = Journal::open(&dir.file()).expect("reopen");
    let r = recovered.resume.expect("an unfinished payment");
    assert_eq!(r.order, order("order-0001"));
    assert_eq!(r.attempt, 2);
    assert_eq!(r.request, request);
    assert_eq!(r.capture_round, 2);
    assert!(!r.withdrawn);
    assert!(r.age < Duration::from_secs(60));
    assert_eq!(recovered.orders.len(), 1);
    assert_eq!(recovered.orders[0].status, OrderStatus::Scanned);
    assert_eq!(
        recovered.orders[0].references,
        vec!["order-0001-1".to_string(), "order-0001-2".to_string()]
    );
    assert!(!recovered.torn_tail);
}

#[test]
fn a_withdrawal_and_its_cancel_round_come_back() {
    let dir = TempDir::new("withdrawn");
    let (mut records, request) = push_payment_records("order-0002");
    records.push(Record::Withdrawn {
        order_id: "order-0002".into(),
    });
    records.push(Record::Cancel {
        reference: request.reference.clone(),
        transaction_only: false,
        idempotency_key: "cancel3-order-0002-2".into(),
    });
    Journal::open(&dir.file())
        .expect("open")
        .0
        .append(&records)
        .expect("append");
    let r = Journal::open(&dir.file())
        .expect("reopen")
        .1
        .resume
        .expect("resume");
    assert!(r.withdrawn);
    assert_eq!(r.cancel_round, 3);
}

#[test]
fn a_torn_last_line_is_dropped_and_the_rest_kept() {
    let dir = TempDir::new("torn");
    let (records, request) = push_payment_records("order-0003");
    Journal::open(&dir.file())
        .expect("open")
        .0
        .append(&records)
        .expect("append");
    // A crash in the middle of the next write.
    let mut f = OpenOptions::new()
        .append(true)
        .open(dir.file())
        .expect("file");
    f.write_all(br#"{"at":"2026-11-22T10:00:00Z","kind":"capture","refer"#)
        .expect("write");
    drop(f);
    let (_j, recovered) = Journal::open(&dir.file()).expect("reopen");
    assert!(recovered.torn_tail);
    assert_eq!(recovered.unreadable, 0);
    let r = recovered.resume.expect("resume");
    assert_eq!(r.request, request);
    assert_eq!(r.capture_round, 1);
    // Compaction rewrote the file whole.
    let text = fs::read_to_string(dir.file()).expect("read");
    assert!(text.ends_with('\n'), "{text}");
    for line in text.lines() {
        serde_json::from_str::<Line>(line).expect("every line whole");
    }
}

#[test]
fn a_damaged_line_in_the_middle_is_skipped_and_counted() {
    let dir = TempDir::new("damaged");
    let (records, _) = push_payment_records("order-0004");
    let mut text = String::new();
    for (i, r) in records.iter().enumerate() {
        let line = serde_json::to_string(&Line {
            at: now_rfc3339(),
            record: r.clone(),
        })
        .expect("json");
        text.push_str(&line);
        text.push('\n');
        if i == 2 {
            text.push_str("\u{0}\u{0}garbage\n");
        }
    }
    fs::write(dir.file(), text).expect("write");
    let (_j, recovered) = Journal::open(&dir.file()).expect("open");
    assert_eq!(recovered.unreadable, 1);
    assert!(recovered.resume.is_some());
}

#[test]
fn finished_orders_shrink_to_summaries_and_the_personal_qr_leaves_the_file() {
    let dir = TempDir::new("compact");
    let (first, request) = push_payment_records("order-0005");
    let mut records = Vec::new();
    records.push(Record::Status {
        update: OrderUpdate {
            order_id: "order-0005".into(),
            status: OrderStatus::Captured,
            reference: Some(request.reference.clone()),
            method: Some(Method::PersonalQr),
            captured: Some(request.amount),
            reason: None,
        },
    });
    records.extend(finished("order-0006", OrderStatus::Cancelled));
    let (mut j, _) = Journal::open(&dir.file()).expect("open");
    j.append(&first).expect("append");
    assert!(fs::read_to_string(dir.file()).expect("read").contains(QR));
    // The order that ends takes its personal QR off the disk at once, without a restart.
    j.append(&records).expect("append");
    let text = fs::read_to_string(dir.file()).expect("read");
    assert!(!text.contains("qr.vipps.no"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
    drop(j);
    let (_j, recovered) = Journal::open(&dir.file()).expect("reopen");
    assert!(recovered.resume.is_none());
    let statuses: Vec<_> = recovered
        .orders
        .iter()
        .map(|o| (o.order_id.as_str(), o.status, o.captured_amount))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (
                "order-0005",
                OrderStatus::Captured,
                Some(request.amount.value)
            ),
            ("order-0006", OrderStatus::Cancelled, None),
        ]
    );
    let text = fs::read_to_string(dir.file()).expect("read");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(!text.contains("qr.vipps.no"), "{text}");
    // And the summaries read back the same.
    drop(_j);
    let again = Journal::open(&dir.file()).expect("third open").1.orders;
    assert_eq!(again, recovered.orders);
}

#[test]
fn only_the_newest_finished_orders_are_kept() {
    let dir = TempDir::new("keep");
    let mut records = Vec::new();
    for i in 0..KEEP_FINISHED + 5 {
        records.extend(finished(&format!("order-{i:05}"), OrderStatus::Captured));
    }
    Journal::open(&dir.file())
        .expect("open")
        .0
        .append(&records)
        .expect("append");
    let orders = Journal::open(&dir.file()).expect("reopen").1.orders;
    assert_eq!(orders.len(), KEEP_FINISHED);
    assert_eq!(orders[0].order_id, "order-00005");
}

#[test]
fn an_order_whose_create_never_got_written_is_forgotten() {
    let dir = TempDir::new("nocreate");
    Journal::open(&dir.file())
        .expect("open")
        .0
        .append(&[Record::Order {
            order: order("order-0007"),
        }])
        .expect("append");
    let recovered = Journal::open(&dir.file()).expect("reopen").1;
    assert!(recovered.resume.is_none());
    assert!(recovered.orders.is_empty());
}

#[test]
fn a_second_process_cannot_open_the_same_journal() {
    let dir = TempDir::new("lock");
    let _first = Journal::open(&dir.file()).expect("open");
    match Journal::open(&dir.file()) {
        Err(JournalError::Locked { .. }) => {}
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[cfg(unix)]
#[test]
fn the_file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("mode");
    let _j = Journal::open(&dir.file()).expect("open");
    let mode = fs::metadata(dir.file()).expect("meta").permissions().mode();
    assert_eq!(mode & 0o077, 0, "mode {mode:o}");
}

#[test]
fn a_refund_is_known_again_after_restarts_and_compaction() {
    let dir = TempDir::new("refund");
    {
        let (mut j, _) = Journal::open(&dir.file()).expect("open");
        j.append(&finished("order-0009", OrderStatus::Captured))
            .expect("append");
    }
    {
        // The order is a summary now; a refund comes in for it.
        let (mut j, recovered) = Journal::open(&dir.file()).expect("reopen");
        assert_eq!(recovered.orders[0].refunded_amount, None);
        j.append(&[Record::Refunded {
            order_id: "order-0009".into(),
            total: 1500,
        }])
        .expect("append");
        j.append(&[Record::Refunded {
            order_id: "order-0009".into(),
            total: 2500,
        }])
        .expect("append");
    }
    for _ in 0..2 {
        let (_j, recovered) = Journal::open(&dir.file()).expect("reopen");
        assert_eq!(recovered.orders.len(), 1);
        assert_eq!(recovered.orders[0].status, OrderStatus::Captured);
        assert_eq!(
            recovered.orders[0].refunded_amount,
            Some(2500),
            "the latest total, also once compacted into the summary"
        );
    }
}

/// A journal at `dir` on a test disk.
fn on(dir: &TempDir, disk: &Arc<TestDisk>) -> (Journal, Recovered) {
    Journal::open_on(&dir.file(), disk.clone()).expect("open")
}

fn every_line_whole(dir: &TempDir) -> usize {
    let text = fs::read_to_string(dir.file()).expect("read");
    assert!(text.is_empty() || text.ends_with('\n'), "{text}");
    for line in text.lines() {
        serde_json::from_str::<Line>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    text.lines().count()
}

#[test]
fn a_write_cut_short_by_a_full_disk_leaves_no_fragment_for_the_retry_to_glue_to() {
    let dir = TempDir::new("fragment");
    let disk = Arc::new(TestDisk::default());
    let (records, request) = push_payment_records("order-0101");
    let (mut j, _) = on(&dir, &disk);
    let before = fs::metadata(dir.file()).expect("meta").len();
    // Room for half the batch: a fragment reaches the file, and the write fails.
    let batch_len = text_of(&records).expect("text").len() as u64;
    disk.set_room(batch_len / 2);
    assert!(j.append(&records).is_err());
    assert_eq!(fs::metadata(dir.file()).expect("meta").len(), before);
    // Room again: the same batch, retried, reads back whole.
    disk.set_room(u64::MAX);
    j.append(&records).expect("the retry");
    assert_eq!(every_line_whole(&dir), records.len());
    drop(j);
    let (_j, recovered) = on(&dir, &disk);
    assert_eq!(recovered.unreadable, 0);
    let r = recovered
        .resume
        .expect("the order and its payment are known");
    assert_eq!(r.request, request);
}

#[test]
fn a_failed_sync_counts_as_not_written_and_is_cut_off() {
    let dir = TempDir::new("sync");
    let disk = Arc::new(TestDisk::default());
    let (records, _) = push_payment_records("order-0102");
    let (mut j, _) = on(&dir, &disk);
    disk.fail_next_syncs(1);
    let e = j.append(&records).expect_err("the sync failed");
    assert!(e.to_string().contains("sync"), "{e}");
    assert!(j.failing() && j.trouble().is_some_and(|t| t.contains("cannot write")));
    assert_eq!(fs::read_to_string(dir.file()).expect("read"), "");
    j.append(&records).expect("the retry");
    assert!(!j.failing() && j.trouble().is_none());
    assert_eq!(every_line_whole(&dir), records.len());
}

#[test]
fn a_fragment_that_cannot_be_cut_at_once_is_cut_before_the_next_write() {
    let dir = TempDir::new("cut-later");
    let (records, _) = push_payment_records("order-0103");
    Journal::open(&dir.file())
        .expect("open")
        .0
        .append(&records)
        .expect("append");
    // A crash left a fragment, and the disk is full at start: no compaction, but the
    // fragment is cut (which needs no room) and the next batch reads back whole.
    let mut f = OpenOptions::new()
        .append(true)
        .open(dir.file())
        .expect("file");
    f.write_all(br#"{"at":"2026-11-22T10:00:00Z","kind":"capture","refer"#)
        .expect("write");
    drop(f);
    let disk = Arc::new(TestDisk::with_room(0));
    let (mut j, recovered) = on(&dir, &disk);
    assert!(recovered.torn_tail);
    assert!(j.trouble().is_some_and(|t| t.contains("compact")));
    disk.set_room(u64::MAX);
    j.append(&records[..1]).expect("append");
    assert_eq!(every_line_whole(&dir), records.len() + 1);
}

#[test]
fn a_full_disk_at_start_still_opens_and_gives_back_the_unfinished_payment() {
    let dir = TempDir::new("full-start");
    let (records, request) = push_payment_records("order-0104");
    Journal::open(&dir.file())
        .expect("open")
        .0
        .append(&records)
        .expect("append");
    let text = fs::read_to_string(dir.file()).expect("read");
    let disk = Arc::new(TestDisk::with_room(0));
    let (mut j, recovered) = on(&dir, &disk);
    assert_eq!(recovered.resume.expect("resume").request, request);
    assert_eq!(recovered.orders.len(), 1);
    let trouble = j.trouble().expect("trouble");
    assert!(trouble.contains("No space left"), "{trouble}");
    assert!(j.failing());
    // The file is left as it was, and nothing was left aside.
    assert_eq!(fs::read_to_string(dir.file()).expect("read"), text);
    assert!(!dir.0.join("journal.jsonl.new").exists());
    // Room again: the next write succeeds and the compaction due is done.
    disk.set_room(u64::MAX);
    j.append(&[Record::Withdrawn {
        order_id: "order-0104".into(),
    }])
    .expect("append");
    assert!(j.trouble().is_none(), "{:?}", j.trouble());
}

#[test]
fn an_order_id_is_known_for_as_long_as_the_journal_knows_it() {
    let dir = TempDir::new("known");
    let mut records = Vec::new();
    for i in 0..KEEP_FINISHED + 5 {
        records.extend(finished(&format!("order-{i:05}"), OrderStatus::Captured));
    }
    let (mut j, _) = Journal::open(&dir.file()).expect("open");
    j.append(&records).expect("append");
    // Five more, one by one: each end compacts, and the file stays bounded.
    for i in 0..5 {
        j.append(&finished(&format!("late-{i}"), OrderStatus::Cancelled))
            .expect("append");
    }
    assert_eq!(
        every_line_whole(&dir),
        KEEP_FINISHED + 1,
        "a retired line and the summaries"
    );
    assert!(j.knows("order-00000") && j.knows("late-4"));
    assert!(!j.knows("order-99999"));
    drop(j);
    let (j, recovered) = Journal::open(&dir.file()).expect("reopen");
    assert_eq!(recovered.orders.len(), KEEP_FINISHED);
    assert!(
        j.knows("order-00000"),
        "an order dropped from the file is still known"
    );
    assert!(j.knows("order-00009") && j.knows("late-0"));
    assert!(!j.knows("order-99999"));
}

/// An order whose one-time QR was renewed (attempts 1 and 2 both open at Vipps), in records.
fn renewed_records(id: &str) -> Vec<Record> {
    let mut m = Machine::new(Config {
        walk_away_after: None,
        ..Config::default()
    });
    let mut now = Instant::now();
    let mut records = vec![Record::Order { order: order(id) }];
    let fx = m.step(Input::OrderReceived(order(id)), now);
    records.extend(records_of(&m, &fx));
    let reference = m.payment().expect("payment").reference.clone();
    m.step(
        Input::Created {
            reference,
            result: Ok(Some("https://qr.vipps.no/abc".into())),
            valid_for: None,
        },
        now,
    );
    now += Config::default().qr_window - Config::default().qr_renew_before;
    let fx = m.step(Input::Tick, now);
    records.extend(records_of(&m, &fx));
    assert_eq!(m.attempt(), Some(2), "renewed");
    records
}

#[test]
fn a_renewed_qr_still_open_comes_back_followed_and_after_the_order_ends_released() {
    let dir = TempDir::new("followed");
    let id = "order-0021";
    {
        let (mut j, _) = Journal::open(&dir.file()).expect("open");
        j.append(&renewed_records(id)).expect("append");
    }
    let (j, recovered) = Journal::open(&dir.file()).expect("reopen");
    let r = recovered.resume.expect("the order is carried on");
    assert_eq!(r.attempt, 2);
    assert_eq!(
        r.followed
            .iter()
            .map(|f| (f.request.reference.as_str(), f.release))
            .collect::<Vec<_>>(),
        vec![("order-0021-1", false)],
        "the old QR is followed again: it may still be approved"
    );
    drop(j);

    // The order is captured with attempt 2; attempt 1 has not been seen to end.
    {
        let (mut j, _) = Journal::open(&dir.file()).expect("open");
        j.append(&[Record::Status {
            update: OrderUpdate {
                order_id: id.into(),
                status: OrderStatus::Captured,
                reference: Some(format!("{id}-2")),
                method: Some(Method::OneTimeQr),
                captured: Some(order(id).total()),
                reason: None,
            },
        }])
        .expect("append");
    }
    for _ in 0..2 {
        // Twice: compaction keeps it.
        let (_j, recovered) = Journal::open(&dir.file()).expect("reopen");
        assert!(recovered.resume.is_none());
        assert_eq!(
            recovered
                .loose
                .iter()
                .map(|f| (
                    f.request.reference.as_str(),
                    f.release,
                    f.request.customer.is_none()
                ))
                .collect::<Vec<_>>(),
            vec![("order-0021-1", true, true)],
            "released after a restart, its customer not kept"
        );
    }
    // Once it is seen to end, it is not brought back.
    {
        let (mut j, _) = Journal::open(&dir.file()).expect("open");
        j.append(&[Record::Settled {
            reference: format!("{id}-1"),
        }])
        .expect("append");
    }
    let (_j, recovered) = Journal::open(&dir.file()).expect("reopen");
    assert!(recovered.loose.is_empty(), "{:?}", recovered.loose);
}

/// An order that ended unpaid for good (here a capture Vipps refused) is over after a restart
/// too: it is not carried on (which would capture what the POS was told failed), and its
/// payment, not seen to end, is followed again only to be released.
#[test]
fn an_order_ended_unpaid_for_good_is_not_carried_on_after_a_restart() {
    use crate::payment::FailureReason;
    for (reason, over) in [
        (FailureReason::CaptureRefused, true),
        (FailureReason::CreateRefused, true),
        (FailureReason::QrUnavailable, true),
        (FailureReason::CancelledInApp, false),
    ] {
        let dir = TempDir::new("ended-unpaid");
        let id = "order-0031";
        let mut m = Machine::new(Config::default());
        let mut records = vec![Record::Order { order: order(id) }];
        let fx = m.step(Input::OrderReceived(order(id)), Instant::now());
        records.extend(records_of(&m, &fx));
        records.push(Record::Status {
            update: OrderUpdate {
                order_id: id.into(),
                status: OrderStatus::Failed,
                reference: Some(format!("{id}-1")),
                method: Some(Method::OneTimeQr),
                captured: None,
                reason: Some(reason),
            },
        });
        {
            let (mut j, _) = Journal::open(&dir.file()).expect("open");
            j.append(&records).expect("append");
        }
        for _ in 0..2 {
            // Twice: what compaction wrote says the same.
            let (_j, recovered) = Journal::open(&dir.file()).expect("reopen");
            assert_eq!(recovered.resume.is_none(), over, "{reason:?}");
            assert_eq!(recovered.orders.len(), 1);
            assert_eq!(recovered.orders[0].status, OrderStatus::Failed);
            if over {
                assert_eq!(
                    recovered
                        .loose
                        .iter()
                        .map(|f| (f.request.reference.as_str(), f.release))
                        .collect::<Vec<_>>(),
                    vec![("order-0031-1", true)],
                    "{reason:?}: released, never captured"
                );
            }
        }
    }
}
