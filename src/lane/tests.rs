use super::*;
use crate::{
    lane::journal::tests::TempDir,
    payment::{Config, order::tests::order},
    pos::Reply,
};

fn submit(lane: &mut Lane, id: &str) -> (Vec<Effect>, Result<(), Refusal>) {
    let (reply, mut rx) = Reply::new();
    let calls = lane.pos(Command::Submit(Box::new(order(id)), reply), Instant::now());
    (calls, rx.try_recv().expect("answered"))
}

#[test]
fn the_create_is_on_disk_before_it_is_handed_out_and_comes_back_after_a_restart() {
    let dir = TempDir::new("lane");
    let hub = Hub::new();
    let mut lane = Lane::open(Config::default(), &dir.file(), Some(hub.clone())).expect("open");
    assert_eq!(hub.health().journal.as_deref(), Some("ok"));
    let (calls, answer) = submit(&mut lane, "order-0101");
    assert_eq!(answer, Ok(()));
    let [
        Effect::Create {
            idempotency_key,
            request,
            ..
        },
    ] = calls.as_slice()
    else {
        panic!("one create: {calls:?}");
    };
    let text = std::fs::read_to_string(dir.file()).expect("journal");
    let kinds: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            v["kind"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(kinds, ["order", "create", "status"]);
    assert!(text.contains(idempotency_key.as_str()));
    drop(lane);

    // A restart: the POS still sees the order, and the payment is read back first.
    let hub = Hub::new();
    let mut lane = Lane::open(Config::default(), &dir.file(), Some(hub.clone())).expect("reopen");
    let record = hub.get("order-0101").expect("the order is known again");
    assert_eq!(record.references, vec![request.reference.clone()]);
    let calls = lane.resume(Instant::now());
    assert_eq!(
        calls,
        vec![Effect::Poll {
            reference: request.reference.clone(),
            api: crate::payment::Api::Epayment,
        }]
    );
    // It is the active order again: a second one is refused.
    assert_eq!(submit(&mut lane, "order-0102").1, Err(Refusal::Busy));
}

#[test]
fn a_staff_refund_is_journaled_before_it_goes_out_and_answered_from_its_outcome() {
    use crate::{
        payment::OrderUpdate,
        pos::{OrderRecord, RefundOrder},
        vipps::model::{Amount, Currency},
    };
    let dir = TempDir::new("lane-refund");
    let hub = Hub::new();
    let mut lane = Lane::open(Config::default(), &dir.file(), Some(hub.clone())).expect("open");
    let mut record = OrderRecord::new(&order("order-0201"), "2026-12-01T10:00:00Z".into());
    record.apply(
        &OrderUpdate {
            order_id: "order-0201".into(),
            status: payment::OrderStatus::Captured,
            reference: Some("order-0201-1".into()),
            method: None,
            captured: Some(Amount::new(Currency::Nok, 35300)),
            reason: None,
        },
        "2026-12-01T10:01:00Z".into(),
    );
    hub.restore([record]);
    let refund = || RefundOrder {
        order_id: "order-0201".into(),
        reference: "order-0201-1".into(),
        amount: Amount::new(Currency::Nok, 1000),
        refund_id: "r-1".into(),
    };
    let (first, mut first_rx) = Reply::new();
    let calls = lane.pos(Command::Refund(refund(), first), Instant::now());
    let [
        Effect::Refund {
            idempotency_key, ..
        },
    ] = calls.as_slice()
    else {
        panic!("one refund call: {calls:?}");
    };
    let text = std::fs::read_to_string(dir.file()).expect("journal");
    assert!(
        text.contains("\"kind\":\"refund\"") && text.contains(idempotency_key.as_str()),
        "the refund is on disk before it is handed out: {text}"
    );
    // The same refund sent again while it is under way waits for the same answer.
    let (second, mut second_rx) = Reply::new();
    assert!(
        lane.pos(Command::Refund(refund(), second), Instant::now())
            .is_empty()
    );
    let answer = Input::Refunded {
        order_id: "order-0201".into(),
        idempotency_key: idempotency_key.clone(),
        result: Ok(Amount::new(Currency::Nok, 1000)),
    };
    assert!(lane.step(answer, Instant::now()).is_empty());
    assert_eq!(first_rx.try_recv(), Ok(Ok(())));
    assert_eq!(second_rx.try_recv(), Ok(Ok(())));
    assert_eq!(
        hub.get("order-0201").and_then(|r| r.refunded_amount),
        Some(1000)
    );
    let text = std::fs::read_to_string(dir.file()).expect("journal");
    assert!(text.contains("\"kind\":\"refunded\""), "{text}");
    // Sent again once done (its answer lost on the way to the POS): answered by the lane,
    // no call to Vipps; another amount under the same id is Vipps' to judge.
    let (third, mut third_rx) = Reply::new();
    assert!(
        lane.pos(Command::Refund(refund(), third), Instant::now())
            .is_empty()
    );
    assert_eq!(third_rx.try_recv(), Ok(Ok(())));
    let (fourth, _) = Reply::new();
    let other = RefundOrder {
        amount: Amount::new(Currency::Nok, 999),
        ..refund()
    };
    assert_eq!(
        lane.pos(Command::Refund(other, fourth), Instant::now())
            .len(),
        1
    );
}

#[test]
fn without_a_journal_the_health_says_so() {
    let hub = Hub::new();
    let _lane = Lane::new(Config::default(), Some(hub.clone()));
    assert_eq!(hub.health().journal.as_deref(), Some("not configured"));
}

#[test]
fn a_journal_in_use_by_another_kiosk_refuses_to_start() {
    let dir = TempDir::new("lane-lock");
    let _first = Lane::open(Config::default(), &dir.file(), None).expect("open");
    let second = Lane::open(Config::default(), &dir.file(), None);
    assert!(
        second.as_ref().is_err_and(|e| e.contains("in use")),
        "{second:?}"
    );
}

mod disk_trouble {
    use super::*;
    use crate::{
        lane::journal::{KEEP_FINISHED, TestDisk, tests::finished},
        payment::{Observed, OrderStatus, State},
        vipps::model::{Aggregate, PaymentState},
    };

    fn open_on(dir: &TempDir, disk: &Arc<TestDisk>, hub: &Arc<Hub>) -> Lane {
        Lane::open_on(
            Config::default(),
            &dir.file(),
            disk.clone(),
            Some(hub.clone()),
        )
        .expect("open")
    }

    fn withdraw(lane: &mut Lane, id: &str) -> (Vec<Effect>, Result<(), Refusal>) {
        let (reply, mut rx) = Reply::new();
        let calls = lane.pos(Command::Cancel(id.into(), reply), Instant::now());
        (calls, rx.try_recv().expect("answered"))
    }

    /// An order taken, and its payment created at Vipps: the lane is on Waiting.
    fn waiting(lane: &mut Lane, id: &str) -> String {
        let (calls, answer) = submit(lane, id);
        assert_eq!(answer, Ok(()));
        let [Effect::Create { request, .. }] = calls.as_slice() else {
            panic!("one create: {calls:?}");
        };
        let reference = request.reference.clone();
        lane.step(
            Input::Created {
                reference: reference.clone(),
                result: Ok(Some("http://sim/qr".into())),
                valid_for: None,
            },
            Instant::now(),
        );
        assert!(matches!(lane.machine().state(), State::Waiting { .. }));
        reference
    }

    #[test]
    fn an_order_the_journal_cannot_record_is_not_taken_and_the_pos_hears_why() {
        let dir = TempDir::new("lane-unrecorded");
        let (disk, hub) = (Arc::new(TestDisk::default()), Hub::new());
        let mut lane = open_on(&dir, &disk, &hub);
        disk.set_room(0);
        let (calls, answer) = submit(&mut lane, "order-0301");
        assert_eq!(answer, Err(Refusal::Unrecorded));
        assert!(calls.is_empty(), "nothing goes to Vipps: {calls:?}");
        assert!(matches!(lane.machine().state(), State::Idle));
        assert!(
            hub.get("order-0301").is_none(),
            "the POS never saw it taken"
        );
        let journal = hub.health().journal.unwrap_or_default();
        assert!(
            journal.starts_with("failing:") && journal.contains("No space"),
            "{journal}"
        );
        assert!(lane.trouble().is_some_and(|t| t.contains("no new orders")));
        // Room again: the same order is taken, as new.
        disk.set_room(u64::MAX);
        let (calls, answer) = submit(&mut lane, "order-0301");
        assert_eq!(answer, Ok(()));
        assert!(matches!(calls.as_slice(), [Effect::Create { .. }]));
        assert_eq!(hub.health().journal.as_deref(), Some("ok"));
        assert!(lane.trouble().is_none());
    }

    #[test]
    fn a_withdrawal_the_journal_cannot_record_is_not_started_and_is_once_it_can() {
        let dir = TempDir::new("lane-withdraw");
        let (disk, hub) = (Arc::new(TestDisk::default()), Hub::new());
        let mut lane = open_on(&dir, &disk, &hub);
        waiting(&mut lane, "order-0302");
        disk.set_room(0);
        let (calls, answer) = withdraw(&mut lane, "order-0302");
        assert_eq!(answer, Err(Refusal::Unrecorded));
        assert!(calls.is_empty(), "no cancel goes out: {calls:?}");
        assert!(matches!(lane.machine().state(), State::Waiting { .. }));
        disk.set_room(u64::MAX);
        let (calls, answer) = withdraw(&mut lane, "order-0302");
        assert_eq!(answer, Ok(()));
        assert!(
            matches!(calls.as_slice(), [Effect::Cancel { .. }]),
            "{calls:?}"
        );
        drop(lane);
        let mut lane = open_on(&dir, &disk, &hub);
        let Some(Input::Resume(r)) = lane.unfinished.take().map(|r| Input::Resume(Box::new(r)))
        else {
            panic!("an unfinished payment");
        };
        assert!(
            r.withdrawn,
            "a restart does not show the withdrawn order again"
        );
    }

    #[test]
    fn a_withdrawal_whose_first_write_fails_is_written_with_the_next_one() {
        let dir = TempDir::new("lane-withdraw-later");
        let (disk, hub) = (Arc::new(TestDisk::default()), Hub::new());
        let mut lane = open_on(&dir, &disk, &hub);
        waiting(&mut lane, "order-0303");
        // The developer panel's withdrawal (not a POS command) on a full disk: the cancel
        // still goes out, and the withdrawal waits for the disk.
        disk.set_room(0);
        let calls = lane.step(Input::OrderWithdrawn("order-0303".into()), Instant::now());
        assert!(
            matches!(calls.as_slice(), [Effect::Cancel { .. }]),
            "{calls:?}"
        );
        disk.set_room(u64::MAX);
        lane.step(Input::Tick, Instant::now());
        drop(lane);
        let lane = open_on(&dir, &disk, &hub);
        let r = lane.unfinished.as_ref().expect("an unfinished payment");
        assert!(
            r.withdrawn,
            "the withdrawal reached the disk with the next write"
        );
    }

    #[test]
    fn a_lane_on_a_full_disk_carries_on_its_payment_and_says_what_is_wrong() {
        let dir = TempDir::new("lane-full-start");
        let (disk, hub) = (Arc::new(TestDisk::default()), Hub::new());
        let mut lane = open_on(&dir, &disk, &hub);
        let reference = waiting(&mut lane, "order-0304");
        drop(lane);
        disk.set_room(0);
        let hub = Hub::new();
        let mut lane = open_on(&dir, &disk, &hub);
        let journal = hub.health().journal.unwrap_or_default();
        assert!(journal.contains("No space left"), "{journal}");
        assert!(lane.trouble().is_some_and(|t| t.contains("No space left")));
        assert!(
            hub.get("order-0304").is_some(),
            "the POS still sees its order"
        );
        let calls = lane.resume(Instant::now());
        assert!(
            matches!(calls.as_slice(), [Effect::Poll { .. }]),
            "{calls:?}"
        );
        // The customer approved before the restart: the capture goes out, disk or no disk.
        let amount = order("order-0304").total();
        let calls = lane.step(
            Input::Polled {
                reference: reference.clone(),
                result: Ok(Observed {
                    state: PaymentState::Authorized,
                    aggregate: Aggregate {
                        authorized_amount: amount,
                        ..Aggregate::zero(amount.currency)
                    },
                    redirect_url: None,
                    opened: false,
                }),
            },
            Instant::now(),
        );
        assert!(
            calls
                .iter()
                .any(|c| matches!(c, Effect::Capture { reference: r, .. } if *r == reference)),
            "{calls:?}"
        );
    }

    #[test]
    fn an_order_id_the_journal_retired_is_refused() {
        let dir = TempDir::new("lane-retired");
        {
            let (mut j, _) = Journal::open(&dir.file()).expect("open");
            let mut records = finished("order-0305", OrderStatus::Captured);
            for i in 0..KEEP_FINISHED {
                records.extend(finished(&format!("later-{i}"), OrderStatus::Captured));
            }
            j.append(&records).expect("append");
        }
        let hub = Hub::new();
        let mut lane = Lane::open(Config::default(), &dir.file(), Some(hub.clone())).expect("open");
        assert!(
            hub.get("order-0305").is_none(),
            "too old for the POS's records"
        );
        assert_eq!(submit(&mut lane, "order-0305").1, Err(Refusal::Reused));
        assert_eq!(submit(&mut lane, "order-0306").1, Ok(()));
    }
}
