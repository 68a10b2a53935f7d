//! `vipps-kiosk selftest --config FILE`: the payments Vipps' go-live review asks for, made by
//! this lane against the simulator or Vipps' test environment, with their references and final
//! states printed. The one-time QR payments go the whole way through the lane (machine,
//! journal-less lane, driver); the customer's approval is the test environment's force approve.
//! Never against production: it moves (test) money.

use super::{Cli, parts};
use crate::{
    app::demo,
    config::{ApiTarget, Config},
    lane::{self, Feed, Inputs, Lane},
    payment::{Order, State},
    pos::{Command, RefundOrder, Reply},
    sync::lock,
    vipps::{
        Client,
        model::{Amount, Customer, PaymentState},
    },
};
use std::{
    process::ExitCode,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

#[derive(Debug, clap::Args)]
pub struct SelftestArgs {
    /// A test user's phone number (country code and number, digits only) for the push
    /// payment. Against the simulator any of its test numbers will do.
    #[arg(long)]
    pub phone: Option<String>,
}

/// The simulator's test customer who approves (see the simulator's phone numbers).
const SIM_PHONE: &str = "4712345678";

/// One payment made, as it ended.
struct Outcome {
    what: &'static str,
    reference: String,
    expected: &'static str,
    seen: String,
}

pub fn run(cli: &Cli, args: &SelftestArgs, runtime: &tokio::runtime::Runtime) -> ExitCode {
    let Some(path) = &cli.config else {
        eprintln!("vipps-kiosk selftest: give the lane's configuration with --config FILE");
        return ExitCode::from(2);
    };
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vipps-kiosk selftest: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    if matches!(config.api_target(), Ok(ApiTarget::Url(ref u)) if u.contains("api.vipps.no") && !u.contains("apitest"))
    {
        eprintln!(
            "vipps-kiosk selftest: refused against production; use the simulator or https://apitest.vipps.no"
        );
        return ExitCode::from(2);
    }
    let mut sim = None;
    let client = match parts::connect(&config, runtime, &mut sim) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vipps-kiosk selftest: {e}");
            return ExitCode::FAILURE;
        }
    };
    let phone = args
        .phone
        .clone()
        .or_else(|| sim.as_ref().map(|_| SIM_PHONE.to_string()));
    let outcomes = runtime.block_on(selftest(&config, client, phone));
    drop(sim);
    report(outcomes)
}

fn report(outcomes: Result<Vec<Outcome>, String>) -> ExitCode {
    let outcomes = match outcomes {
        Ok(o) => o,
        Err(e) => {
            eprintln!("vipps-kiosk selftest: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = 0;
    for o in &outcomes {
        let ok = o.seen == o.expected;
        failed += usize::from(!ok);
        println!(
            "{} {:<34} {:<48} {}",
            if ok { "ok     " } else { "PROBLEM" },
            o.what,
            o.reference,
            o.seen
        );
    }
    if failed == 0 {
        println!("{} payments as the go-live review asks for", outcomes.len());
        ExitCode::SUCCESS
    } else {
        println!("{failed} problem(s)");
        ExitCode::FAILURE
    }
}

/// A lane run headless for the selftest, and the way to feed it.
struct TestLane {
    lane: Arc<Mutex<Lane>>,
    feed: Feed,
}

impl TestLane {
    fn start(config: &Config, client: Client) -> TestLane {
        let machine = parts::machine_config(config, false);
        let lane = Arc::new(Mutex::new(Lane::new(machine, None)));
        let (feed, inputs): (Feed, Inputs) = Inputs::channel();
        let run = lane.clone();
        tokio::spawn(lane::run(run, client, inputs, Duration::from_millis(100)));
        TestLane { lane, feed }
    }

    fn state(&self) -> State {
        lock(&self.lane).machine().state().clone()
    }

    async fn until(&self, what: &str, done: impl Fn(&State) -> bool) -> Result<State, String> {
        let start = Instant::now();
        loop {
            let state = self.state();
            if done(&state) {
                return Ok(state);
            }
            if start.elapsed() > Duration::from_secs(60) {
                return Err(format!("{what}: still {state:?} after a minute"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn command<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, String> {
        let (reply, answer) = Reply::new();
        self.feed
            .commands
            .send(make(reply))
            .await
            .map_err(|_| "the lane stopped".to_string())?;
        answer.await.map_err(|_| "the lane did not answer".into())
    }

    /// Submits `order` and waits for its one-time QR; the payment's reference.
    async fn shown(&self, order: &Order) -> Result<String, String> {
        let submitted = self
            .command(|reply| Command::Submit(Box::new(order.clone()), reply))
            .await?;
        submitted.map_err(|e| format!("the lane refused the order: {e:?}"))?;
        let state = self
            .until(
                "the QR",
                |s| matches!(s, State::Waiting { payment, .. } if payment.created),
            )
            .await?;
        let State::Waiting { payment, .. } = state else {
            return Err("no QR".into());
        };
        Ok(payment.reference)
    }
}

async fn selftest(
    config: &Config,
    client: Client,
    phone: Option<String>,
) -> Result<Vec<Outcome>, String> {
    let run = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
    let orders = demo::orders(config.market.currency(), &format!("selftest-{run}"))?;
    let (first, second) = match orders.as_slice() {
        [a, b, ..] => (a.clone(), b.clone()),
        _ => return Err("the sample orders are missing".into()),
    };
    let lane = TestLane::start(config, client.clone());
    let mut outcomes = Vec::new();

    // One-time QR: approved, captured by the lane, then refunded in part through the POS path.
    let reference = lane.shown(&first).await?;
    client
        .force_approve(&reference, None)
        .await
        .map_err(|e| format!("force approve of {reference}: {e}"))?;
    lane.until("captured", |s| matches!(s, State::Approved { .. }))
        .await?;
    outcomes.push(
        outcome(
            &client,
            "one-time QR, captured",
            &reference,
            "AUTHORIZED captured",
        )
        .await,
    );
    let refund = RefundOrder {
        order_id: first.order_id.clone(),
        reference: reference.clone(),
        amount: Amount::new(first.currency, first.total_amount / 2),
        refund_id: format!("selftest-{run}"),
    };
    let refunded = lane.command(|reply| Command::Refund(refund, reply)).await?;
    refunded.map_err(|e| format!("the refund of {reference} was refused: {e:?}"))?;
    outcomes.push(
        outcome(
            &client,
            "one-time QR, refunded in part",
            &reference,
            "AUTHORIZED captured refunded",
        )
        .await,
    );
    lane.until("ready", lane_ready).await?;

    // One-time QR, cancelled before the customer acts (the POS withdraws the order).
    let reference = lane.shown(&second).await?;
    let cancelled = lane
        .command(|reply| Command::Cancel(second.order_id.clone(), reply))
        .await?;
    cancelled.map_err(|e| format!("the cancel was refused: {e:?}"))?;
    lane.until("cancelled", |s| {
        matches!(s, State::Failed { order: None, .. })
    })
    .await?;
    outcomes.push(outcome(&client, "one-time QR, cancelled", &reference, "TERMINATED").await);

    // A push payment to the test user's phone, approved, captured.
    match phone {
        Some(phone) => outcomes.push(push(&client, config, &first, &run, &phone).await?),
        None => println!("skipped  push payment: give a test user's number with --phone"),
    }
    Ok(outcomes)
}

fn lane_ready(s: &State) -> bool {
    matches!(s, State::Idle | State::Approved { .. })
}

/// A push payment made with the client itself (the lane pushes to scanned personal QRs).
async fn push(
    client: &Client,
    config: &Config,
    order: &Order,
    run: &str,
    phone: &str,
) -> Result<Outcome, String> {
    let machine = parts::machine_config(config, false);
    let reference = format!("{}-selftest-{run}-push", machine.reference_prefix);
    let mut request = crate::vipps::model::CreatePaymentRequest {
        amount: order.total(),
        customer: Some(Customer {
            phone_number: Some(phone.to_string()),
            ..Customer::default()
        }),
        minimum_user_age: None,
        customer_interaction: Some(crate::vipps::model::CustomerInteraction::CustomerPresent),
        payment_method: crate::vipps::model::PaymentMethod {
            kind: crate::vipps::model::PaymentMethodType::Wallet,
        },
        reference: reference.clone(),
        user_flow: crate::vipps::model::UserFlow::PushMessage,
        return_url: None,
        payment_description: Some(machine.payment_description.clone()),
        qr_format: None,
        receipt: Some(order.receipt()),
    };
    request.receipt = Some(order.receipt());
    let key = |op: &str| format!("{op}-{reference}");
    client
        .create_payment(&request, &key("create"))
        .await
        .map_err(|e| format!("push create {reference}: {e}"))?;
    client
        .force_approve(&reference, None)
        .await
        .map_err(|e| format!("force approve of {reference}: {e}"))?;
    client
        .capture(&reference, order.total(), &key("capture"))
        .await
        .map_err(|e| format!("capture of {reference}: {e}"))?;
    Ok(outcome(
        client,
        "push to a phone number, captured",
        &reference,
        "AUTHORIZED captured",
    )
    .await)
}

/// The payment as Vipps reports it now, in a few words.
async fn outcome(
    client: &Client,
    what: &'static str,
    reference: &str,
    expected: &'static str,
) -> Outcome {
    let seen = match client.get_payment(reference).await {
        Ok(p) => {
            let a = &p.aggregate;
            let mut words = vec![format!("{:?}", p.state).to_uppercase()];
            if p.state == PaymentState::Authorized {
                for (amount, word) in [
                    (a.captured_amount.value, "captured"),
                    (a.refunded_amount.value, "refunded"),
                    (a.cancelled_amount.value, "cancelled"),
                ] {
                    if amount > 0 {
                        words.push(word.to_string());
                    }
                }
            }
            words.join(" ")
        }
        Err(e) => format!("unreadable: {e}"),
    };
    Outcome {
        what,
        reference: reference.to_string(),
        expected,
        seen,
    }
}
