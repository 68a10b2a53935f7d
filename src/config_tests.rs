//! The configuration's tests: parsing, every key's checks, secrets from the environment.

use super::*;
use crate::vipps::model::Currency;

#[test]
fn full_example_parses() {
    let c = Config::parse(
        r#"
        market = "DK"
        lane_id = "store7-lane3"
        [vipps]
        base_url = "https://apitest.vipps.no"
        merchant_serial_number = "654321"
        poll_interval_ms = 1000
        [demo]
        orders = false
        "#,
    )
    .expect("valid");
    assert_eq!(c.market.currency(), Currency::Dkk);
    assert_eq!(
        c.api_target(),
        Ok(ApiTarget::Url("https://apitest.vipps.no".into()))
    );
    assert!(!c.demo.orders);
    assert_eq!(c.language(), Lang::Da, "the market's language by default");
}

/// The shipped example must stay valid, also with its commented keys switched on.
#[test]
fn the_example_file_parses_as_shipped_and_uncommented() {
    let text = include_str!("../assets/kiosk.example.toml");
    Config::parse(text).expect("as shipped");
    let uncommented: String = text
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest)
                if !rest.contains('…')
                    && rest.split_once(" = ").is_some_and(|(key, _)| {
                        key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    }) =>
            {
                rest
            }
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let c = Config::parse(&uncommented).expect("uncommented");
    assert_eq!(
        c.journal.path.as_deref(),
        Some(Path::new("/var/lib/vipps-kiosk/journal.jsonl"))
    );
    assert_eq!(c.scanner.vendor_id, Some(0x0c2e));
    assert_eq!(c.sim.auto_approve_after_ms, Some(3000));
}

#[test]
fn the_ecom_demo_config_parses() {
    let c = Config::parse(include_str!("../assets/demo-ecom.toml")).expect("valid");
    assert_eq!(c.vipps.one_time_qr, crate::payment::Api::Ecom);
    assert!(c.qr_image() && c.demo.orders);
    assert_eq!(c.vipps.personal_qr, PersonalQrMode::Exchange);
}

#[test]
fn one_time_qr_api_and_qr_source() {
    let c = Config::parse("[vipps]\none_time_qr = \"ecom\"").expect("eCom in Norway");
    assert_eq!(c.vipps.one_time_qr, crate::payment::Api::Ecom);
    assert!(!c.qr_image(), "the simulator's QR is drawn here by default");
    let e = Config::parse("market = \"DK\"\n[vipps]\none_time_qr = \"ecom\"")
        .expect_err("eCom is NOK only");
    assert_eq!(e.key, "vipps.one_time_qr");
    // Against Vipps: the merchant URLs are required, HTTPS, and the QR is Vipps' image.
    let vipps = "[vipps]\nbase_url = \"https://apitest.vipps.no\"\none_time_qr = \"ecom\"\n";
    let e = Config::parse(vipps).expect_err("no callback prefix");
    assert_eq!(e.key, "vipps.ecom_callback_prefix");
    let e = Config::parse(&format!(
        "{vipps}ecom_callback_prefix = \"http://store.example/v\"\necom_fallback = \"https://store.example/d\""
    ))
    .expect_err("plain HTTP");
    assert_eq!(e.key, "vipps.ecom_callback_prefix");
    let c = Config::parse(&format!(
        "{vipps}ecom_callback_prefix = \"https://store.example/v\"\necom_fallback = \"https://store.example/d\""
    ))
    .expect("complete");
    assert!(c.qr_image(), "Vipps' own image against Vipps by default");
    assert_eq!(c.ecom_merchant().callback_prefix, "https://store.example/v");
    let c =
        Config::parse("[vipps]\nbase_url = \"https://apitest.vipps.no\"\nqr_source = \"local\"")
            .expect("local on request");
    assert!(!c.qr_image());
    let e = Config::parse("[vipps]\nqr_source = \"png\"").expect_err("unknown source");
    assert_eq!(e.key, "vipps.qr_source");
}

#[test]
fn journal_path_must_be_a_file() {
    let e = Config::parse("[journal]\npath = \"\"").expect_err("empty");
    assert_eq!(e.key, "journal.path");
    let e = Config::parse("[journal]\npath = \"/\"").expect_err("a directory");
    assert_eq!(e.key, "journal.path");
}

#[test]
fn pos_keys() {
    let c = Config::parse("[pos]\nlisten = \"127.0.0.1:9000\"\ntoken = \"0123456789abcdef\"")
        .expect("valid");
    assert_eq!(c.pos_listen().map(|a| a.port()), Ok(9000));
    let none = |_: &str| None;
    assert_eq!(
        c.pos_token(&none).map(|t| t.expose().to_string()),
        Some("0123456789abcdef".into())
    );
    let env = |n: &str| (n == "KIOSK_POS_TOKEN").then(|| "from-the-environment".to_string());
    assert_eq!(
        c.pos_token(&env).map(|t| t.expose().to_string()),
        Some("from-the-environment".into())
    );
    let key = |t: &str| Config::parse(t).map(|_| ()).map_err(|e| e.key);
    assert_eq!(
        key("[pos]\nlisten = \"localhost\""),
        Err("pos.listen".into())
    );
    assert_eq!(key("[pos]\ntoken = \"short\""), Err("pos.token".into()));
}

#[test]
fn the_pos_api_beyond_this_machine_only_over_tls_or_in_as_many_words() {
    let parse = |t: &str| Config::parse(t).map_err(|e| e.key);
    let beyond = "[pos]\nlisten = \"0.0.0.0:7878\"\n";
    assert_eq!(parse(beyond).map(|_| ()), Err("pos.listen".into()));
    let e = Config::parse(beyond).expect_err("plain beyond loopback");
    assert!(e.reason.contains("allow_plain_http_beyond_loopback"), "{e}");
    let allowed = parse(&format!(
        "{beyond}allow_plain_http_beyond_loopback = true\n"
    ))
    .expect("said in as many words");
    assert_eq!(allowed.pos_transport(), PosTransport::PlainBeyondLoopback);
    let tls = parse(&format!(
        "{beyond}tls_cert = \"/etc/k/pos.crt\"\ntls_key = \"/etc/k/pos.key\"\n"
    ))
    .expect("over TLS");
    assert_eq!(
        tls.pos_transport(),
        PosTransport::Tls {
            client_certificates: false
        }
    );
    assert_eq!(
        Config::default().pos_transport(),
        PosTransport::Loopback,
        "the default stays on this machine"
    );
    assert_eq!(
        parse("[pos]\nlisten = \"[::]:7878\"").map(|_| ()),
        Err("pos.listen".into())
    );
    assert_eq!(
        parse("[pos]\ntls_cert = \"/etc/k/pos.crt\"").map(|_| ()),
        Err("pos.tls_key".into())
    );
    assert_eq!(
        parse("[pos]\ntls_key = \"/etc/k/pos.key\"").map(|_| ()),
        Err("pos.tls_cert".into())
    );
    assert_eq!(
        parse("[pos]\nclient_ca = \"/etc/k/ca.pem\"").map(|_| ()),
        Err("pos.client_ca".into())
    );
}

#[cfg(unix)]
#[test]
fn secret_files_others_can_read_are_refused_or_reported() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("vipps-kiosk-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let secret = dir.join("webhook-secret");
    std::fs::write(&secret, "s3cret\n").expect("write");
    let mode = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod")
    };
    mode(&secret, 0o640);
    let c = Config::parse(&format!(
        "[webhooks]\nlisten = \"127.0.0.1:0\"\nsecret_file = \"{}\"\n",
        secret.display()
    ))
    .expect("valid");
    let none = |_: &str| None;
    let e = c.webhook_receiver(&none).expect_err("readable by group");
    assert_eq!(e.key, "webhooks.secret_file");
    assert!(
        e.reason.contains("mode 0640") && e.reason.contains("chmod 600"),
        "{e}"
    );
    mode(&secret, 0o600);
    let w = c.webhook_receiver(&none).expect("private").expect("on");
    assert_eq!(w.secret.expose(), "s3cret");

    // A configuration file with a token in it is reported when others can read it.
    let file = dir.join("kiosk.toml");
    std::fs::write(&file, "[pos]\ntoken = \"0123456789abcdef\"\n").expect("write");
    mode(&file, 0o644);
    let c = Config::load(&file).expect("valid");
    let problem = c.secrets_open_to_others().expect("reported");
    assert!(
        problem.contains("pos.token") && problem.contains("0644"),
        "{problem}"
    );
    mode(&file, 0o600);
    assert_eq!(
        Config::load(&file).expect("valid").secrets_open_to_others(),
        None
    );
    std::fs::write(&file, "lane_id = \"lane-2\"\n").expect("write");
    mode(&file, 0o644);
    assert_eq!(
        Config::load(&file).expect("valid").secrets_open_to_others(),
        None,
        "no secret in it, nothing to hide"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn scanner_ids_take_hex() {
    let c = Config::parse("[scanner]\nvendor_id = 0x0c2e\nproduct_id = 0x1007").expect("valid");
    assert_eq!(
        (c.scanner.vendor_id, c.scanner.product_id),
        (Some(0x0c2e), Some(0x1007))
    );
    let e = Config::parse("[scanner]\nvendor_id = 70000").expect_err("too big for a USB id");
    assert_eq!(e.key, "scanner.vendor_id");
}

#[test]
fn customer_facing_keys() {
    let c = Config::parse(
        "market = \"FI\"\nlanguage = \"sv\"\nscanner_position = \"left\"\nwalk_away_after_s = 0",
    )
    .expect("valid");
    assert_eq!(c.language(), Lang::Sv);
    assert_eq!(c.scanner_position, ScannerPosition::Left);
    assert_eq!(c.walk_away_after(), None);
    let key = |t: &str| Config::parse(t).map(|_| ()).map_err(|e| e.key);
    assert_eq!(key("language = \"de\""), Err("language".into()));
    assert_eq!(
        key("scanner_position = \"above\""),
        Err("scanner_position".into())
    );
    assert_eq!(
        key("walk_away_after_s = 10"),
        Err("walk_away_after_s".into())
    );
}

#[test]
fn errors_name_the_key() {
    let key = |t: &str| Config::parse(t).map(|_| ()).map_err(|e| e.key);
    assert_eq!(key("market = \"SE\""), Err("market".into()));
    assert_eq!(
        key("[vipps]\nmerchant_serial_number = \"12ab\""),
        Err("vipps.merchant_serial_number".into())
    );
    assert_eq!(
        key("[vipps]\nbase_url = \"ftp://x\""),
        Err("vipps.base_url".into())
    );
    assert_eq!(
        key("[vipps]\nbase_url = \"http://api.example.com\""),
        Err("vipps.base_url".into())
    );
    assert_eq!(
        key("[vipps]\npoll_interval_ms = 500"),
        Err("vipps.poll_interval_ms".into())
    );
    assert_eq!(key("lane_id = \"lane 1\""), Err("lane_id".into()));
    assert_eq!(
        key("[vipps]\nbase_uri = \"sim\""),
        Err("vipps.base_uri".into()),
        "typos are caught"
    );
    assert_eq!(key("[demo]\norders = \"yes\""), Err("demo.orders".into()));
    assert_eq!(key("market = "), Err("(file)".into()), "broken TOML");
}

#[test]
fn wrong_types_say_where() {
    let e = Config::parse("[demo]\norders = \"yes\"").expect_err("invalid");
    assert!(e.to_string().contains("line 2"), "{e}");
    let e = Config::parse("market = \"SE\"").expect_err("invalid");
    assert!(e.to_string().contains("SE"), "{e}");
}

#[test]
fn real_api_needs_secrets_from_env_and_sim_does_not() {
    let c = Config::parse("[vipps]\nbase_url = \"https://apitest.vipps.no\"").expect("valid");
    let none = |_: &str| None;
    assert_eq!(
        c.credentials(&none).map(|_| ()).map_err(|e| e.key),
        Err("VIPPS_CLIENT_ID".into())
    );
    let all = |n: &str| Some(format!("value-of-{n}"));
    let creds = c.credentials(&all).expect("all set");
    assert_eq!(creds.client_secret.expose(), "value-of-VIPPS_CLIENT_SECRET");
    assert!(Config::demo().credentials(&none).is_ok());
}

#[test]
fn metrics_stay_on_this_machine_unless_the_operator_says_otherwise() {
    let loopback = |c: &Config| c.metrics_listen().map(|a| a.map(|a| a.ip().is_loopback()));
    assert_eq!(
        loopback(&Config::parse("").expect("empty")),
        Ok(Some(true)),
        "on by default, on loopback"
    );
    assert_eq!(
        Config::default()
            .metrics_listen()
            .map(|a| a.map(|a| a.port())),
        Ok(Some(9477))
    );
    assert_eq!(
        Config::demo().metrics_listen(),
        Ok(None),
        "the demo serves none"
    );
    let off = Config::parse("[metrics]\nlisten = \"off\"").expect("off");
    assert_eq!(off.metrics_listen(), Ok(None));
    let chosen = Config::parse("[metrics]\nlisten = \"0.0.0.0:9100\"").expect("set by hand");
    assert_eq!(loopback(&chosen), Ok(Some(false)));
    let e = Config::parse("[metrics]\nlisten = \"everywhere\"").expect_err("not an address");
    assert_eq!(e.key, "metrics.listen");
    assert!(e.reason.contains("off"), "{e}");
}

/// `[webhooks] public_url`: the full https URL registered with Vipps, whose host and path
/// the receiver checks signatures against; refused when it cannot be one.
#[test]
fn webhook_public_url_is_checked_and_reaches_the_receiver() {
    let with = |url: &str| {
        Config::parse(&format!(
            "[webhooks]\nlisten = \"127.0.0.1:8443\"\nsecret = \"s\"\npublic_url = \"{url}\""
        ))
    };
    let c = with("https://kiosk.example.com/vipps/webhooks?lane=2").expect("valid");
    let setup = c
        .webhook_receiver(&|_| None)
        .expect("receiver")
        .expect("on");
    assert_eq!(
        setup.public_url.as_ref().map(reqwest::Url::as_str),
        Some("https://kiosk.example.com/vipps/webhooks?lane=2")
    );
    assert_eq!(
        setup.path, "/vipps/webhooks",
        "the served path stays its own"
    );
    assert!(
        with("http://127.0.0.1:8443/vipps").is_ok(),
        "plain http to this machine"
    );
    for wrong in [
        "http://kiosk.example.com/vipps",
        "kiosk.example.com/vipps",
        "https://user:pw@kiosk.example.com/vipps",
        "https://kiosk.example.com/vipps#x",
        "ftp://kiosk.example.com/vipps",
    ] {
        let e = with(wrong).expect_err(wrong);
        assert_eq!(e.key, "webhooks.public_url", "{wrong}");
    }
    let none = Config::parse("[webhooks]\nlisten = \"127.0.0.1:8443\"\nsecret = \"s\"")
        .expect("valid")
        .webhook_receiver(&|_| None)
        .expect("receiver")
        .expect("on");
    assert!(none.public_url.is_none());
}
