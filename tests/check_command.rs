#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! `vipps-kiosk check --config FILE`, run as the installer would run it.

use std::process::Command;

fn check(config: &str) -> (i32, String) {
    check_with_mode(config, None)
}

/// `check` with the configuration file's permission bits set to `mode`.
fn check_with_mode(config: &str, mode: Option<u32>) -> (i32, String) {
    check_with(config, mode, &[])
}

/// `check` with `args` besides the configuration.
fn check_with(config: &str, mode: Option<u32>, args: &[&str]) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!(
        "kiosk-check-{}-{}",
        std::process::id(),
        config.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, config).unwrap();
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_vipps-kiosk"))
        .arg("check")
        .args(args)
        .arg("--config")
        .arg(&path)
        .env("KIOSK_LOG", "off")
        .env_remove("KIOSK_POS_TOKEN")
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_broken_config_is_named_by_key_with_exit_2() {
    let (code, out) = check("[vipps]\nmerchant_serial_number = \"12ab\"\n");
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("PROBLEM configuration: vipps.merchant_serial_number: 4-10 digits"),
        "{out}"
    );
}

#[test]
fn a_lane_against_the_simulator_reports_each_part() {
    let journal = std::env::temp_dir().join(format!("kiosk-check-journal-{}", std::process::id()));
    let (code, out) = check(&format!(
        "market = \"FI\"\n[pos]\nlisten = \"127.0.0.1:0\"\ntoken = \"0123456789abcdef\"\n\
         [journal]\npath = \"{}\"\n",
        journal.join("journal.jsonl").display()
    ));
    let _ = std::fs::remove_dir_all(&journal);
    assert!(out.contains("ok      configuration"), "{out}");
    assert!(out.contains("ok      journal"), "{out}");
    assert!(out.contains("accepted the keys"), "{out}");
    assert!(out.contains("ok      POS API can listen"), "{out}");
    assert!(
        out.contains("ok      POS API over plain HTTP, on this machine only"),
        "{out}"
    );
    // No scanner is plugged into this machine: that is a problem, said plainly.
    assert!(out.contains("PROBLEM no scanner found"), "{out}");
    assert_eq!(code, 1, "{out}");
}

#[test]
fn unreachable_vipps_and_a_missing_token_are_problems() {
    let (code, out) =
        check("[vipps]\nbase_url = \"http://127.0.0.1:1\"\nrequest_timeout_ms = 1000\n");
    assert_eq!(code, 1);
    assert!(out.contains("PROBLEM Vipps at http://127.0.0.1:1"), "{out}");
    assert!(out.contains("PROBLEM POS API: no token"), "{out}");
    assert!(out.contains("PROBLEM no [journal] path"), "{out}");
}

/// What can be learned without moving money: whether the sales unit takes the lane's currency
/// and may push. A simulator that takes only DKK answers a Norwegian lane's probe with 5040.
#[test]
fn check_says_whether_the_sales_unit_takes_the_currency_and_may_push() {
    let (_, out) = check("market = \"FI\"\n");
    assert!(out.contains("ok      the sales unit takes EUR"), "{out}");
    assert!(
        out.contains("ok      the sales unit may send push payments"),
        "{out}"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut sim = Command::new(env!("CARGO_BIN_EXE_vipps-kiosk"))
        .args([
            "sim",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--currency",
            "DKK",
        ])
        .env("KIOSK_LOG", "off")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the simulator starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the simulator listens"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let config = format!("market = \"NO\"\n[vipps]\nbase_url = \"http://127.0.0.1:{port}\"\n");
    let (code, out) = check(&config);
    // As the service runs it before every start: no probe payment, so nothing to refuse.
    let (_, quiet) = check_with(&config, None, &["--no-payments"]);
    let _ = sim.kill();
    let _ = sim.wait();
    assert!(
        out.contains("PROBLEM the sales unit does not take NOK"),
        "{out}"
    );
    assert_eq!(code, 1);
    assert!(
        quiet.contains("ok      what the sales unit takes: not asked (--no-payments)")
            && !quiet.contains("sales unit does not take"),
        "{quiet}"
    );
}

#[cfg(unix)]
#[test]
fn plain_http_beyond_this_machine_and_a_secret_others_can_read_are_problems() {
    // A documentation address: nothing is bound or sent beyond this machine.
    let beyond = "[vipps]\nrequest_timeout_ms = 1000\n[pos]\nlisten = \"192.0.2.1:7878\"\n\
                  token = \"0123456789abcdef\"\n";
    let (code, out) = check_with_mode(
        &format!("{beyond}allow_plain_http_beyond_loopback = true\n"),
        Some(0o644),
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("PROBLEM POS API over plain HTTP beyond this machine"),
        "{out}"
    );
    assert!(
        out.contains("holds pos.token but group or others can read it (mode 0644)"),
        "{out}"
    );
    let (_, out) = check_with_mode(
        &format!("{beyond}allow_plain_http_beyond_loopback = true\n"),
        Some(0o600),
    );
    assert!(!out.contains("group or others"), "{out}");
    // Without the words, the configuration itself is refused, naming the key.
    let (code, out) = check(beyond);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(
            "PROBLEM configuration: pos.listen: 192.0.2.1:7878 is reachable beyond this machine"
        ),
        "{out}"
    );
}

/// `selftest` makes the payments Vipps' go-live review asks for against the embedded
/// simulator, and prints each with its final state; against production it refuses at once.
#[test]
fn selftest_makes_the_review_payments_and_never_runs_against_production() {
    let run = |base_url: &str| {
        let dir = std::env::temp_dir().join(format!(
            "kiosk-selftest-{}-{}",
            std::process::id(),
            base_url.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kiosk.toml");
        std::fs::write(
            &path,
            format!("market = \"NO\"\n[vipps]\nbase_url = \"{base_url}\"\n"),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_vipps-kiosk"))
            .args(["selftest", "--config"])
            .arg(&path)
            .env("KIOSK_LOG", "off")
            .output()
            .expect("runs");
        let _ = std::fs::remove_dir_all(&dir);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, _) = run("sim");
    assert_eq!(code, 0, "{out}");
    let ok: Vec<&str> = out.lines().filter(|l| l.starts_with("ok ")).collect();
    assert_eq!(ok.len(), 4, "{out}");
    assert!(
        ok[0].contains("one-time QR, captured") && ok[0].ends_with("AUTHORIZED captured"),
        "{out}"
    );
    assert!(ok[1].ends_with("captured refunded"), "{out}");
    assert!(ok[2].ends_with("TERMINATED"), "{out}");
    assert!(
        ok[3].contains("push to a phone number") && ok[3].ends_with("captured"),
        "{out}"
    );
    let (code, out, err) = run("https://api.vipps.no");
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("refused against production"), "{err}");
    assert!(!out.contains("ok "), "{out}");
}
