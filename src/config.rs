//! Lane configuration: a TOML file (every key documented in README.md), secrets from the
//! environment. Loading never panics: a bad file is an error that names the key.

use crate::{
    market::{BrandChoice, Lang, Market},
    vipps::{Credentials, Secret, SystemInfo},
};
use serde::Deserialize;
use std::{fmt, path::Path, time::Duration};

mod pos;
mod secret_files;

pub use pos::{PosSection, PosTransport};
pub use secret_files::{open_to_others, read_secret_file};

/// Where the scanner is, seen from the screen: the screen points the customer at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScannerPosition {
    #[default]
    Below,
    Left,
    Right,
}

/// Where the Vipps API is: the embedded simulator, a simulator address, or Vipps itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiTarget {
    EmbeddedSim,
    Url(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VippsSection {
    pub base_url: String,
    pub merchant_serial_number: String,
    pub system_name: String,
    pub system_version: String,
    pub poll_interval_ms: u64,
    pub request_timeout_ms: u64,
    /// How a scanned personal QR becomes a push payment.
    pub personal_qr: PersonalQrMode,
    /// The API of the one-time QR: `epayment`, or the legacy `ecom` (Norway only).
    pub one_time_qr: crate::payment::Api,
    /// `local` draws the QR from its text; `vipps-image` shows the PNG Vipps renders. Unset:
    /// `vipps-image` against Vipps, `local` against a simulator.
    pub qr_source: Option<QrSource>,
    /// With `vipps-image`: when Vipps' QR images keep expiring as soon as they are made, draw
    /// the QR here instead of going out of service (only for sales units approved for it).
    pub local_qr_fallback: bool,
    /// eCom's required `merchantInfo.callbackPrefix` (HTTPS).
    pub ecom_callback_prefix: Option<String>,
    /// eCom's required `merchantInfo.fallBack` (HTTPS or an app scheme).
    pub ecom_fallback: Option<String>,
}

/// Who draws the one-time QR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QrSource {
    /// Drawn here from `TEXT/TARGETURL` (for sales units approved to draw their own).
    Local,
    /// The PNG Vipps renders, fetched and shown as it is.
    VippsImage,
}

/// `direct`: the code goes into the payment as `customer.personalQr`. `exchange`: the QR API
/// exchanges it for the phone number first, and the payment goes to `customer.phoneNumber`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PersonalQrMode {
    #[default]
    Direct,
    Exchange,
}

impl Default for VippsSection {
    fn default() -> Self {
        VippsSection {
            base_url: "sim".into(),
            merchant_serial_number: "123456".into(),
            system_name: "vipps-kiosk".into(),
            system_version: env!("CARGO_PKG_VERSION").into(),
            poll_interval_ms: 1000,
            request_timeout_ms: 10_000,
            personal_qr: PersonalQrMode::Direct,
            one_time_qr: crate::payment::Api::Epayment,
            qr_source: None,
            local_qr_fallback: false,
            ecom_callback_prefix: None,
            ecom_fallback: None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoSection {
    /// Feed the sample orders from `assets/demo-orders.json`, one after another.
    pub orders: bool,
    /// A fixed date (`"2027-01-12"`) for the brand instead of the clock's, to try a lane
    /// before and after the brand date.
    pub today: Option<String>,
}

/// Speech for customers who cannot see the screen.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessibilitySection {
    /// Offer speech at all (the control shows only when the engine is there).
    pub speech: bool,
    /// The speech engine: a program and its arguments, split at spaces. `{lang}` becomes the
    /// customer's language (nb, da, fi, sv, en); the text goes in place of `{text}`, or on
    /// standard input when no argument is `{text}`.
    pub speech_command: String,
    /// The key that turns speech on and off besides the on-screen control (the headphone
    /// key of a keypad, say): `F1`-`F12`.
    pub speech_key: String,
}

/// The speech engine a lane PC has, unless `speech_command` names another.
pub const DEFAULT_SPEECH_COMMAND: &str = "espeak-ng -v {lang}";

impl Default for AccessibilitySection {
    fn default() -> Self {
        AccessibilitySection {
            speech: true,
            speech_command: DEFAULT_SPEECH_COMMAND.into(),
            speech_key: "F1".into(),
        }
    }
}

/// The crash-safe journal of orders and payment requests.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalSection {
    /// A file on persistent storage, e.g. `/var/lib/vipps-kiosk/journal.jsonl`. Without it
    /// a restart cannot finish the payment that was under way.
    pub path: Option<std::path::PathBuf>,
}

/// Webhooks from Vipps (or a store backend relaying them), next to polling.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksSection {
    /// Where the receiver listens, e.g. `0.0.0.0:8443` behind the store's TLS proxy. None: off.
    pub listen: Option<String>,
    /// The path the receiver serves (what the proxy in front forwards to).
    pub path: String,
    /// The full URL registered with Vipps, e.g. `https://kiosk.example.com/vipps/webhooks`:
    /// deliveries are signed with its host and path, which a proxy may rewrite on the way in.
    /// `vipps-kiosk webhooks register` registers it. None: the receiver's own host and path.
    pub public_url: Option<String>,
    /// The secret Vipps returned at registration. Better `VIPPS_WEBHOOK_SECRET` or
    /// `secret_file`.
    pub secret: Option<String>,
    /// A private file holding the secret (as `vipps-kiosk webhooks register` writes it).
    pub secret_file: Option<std::path::PathBuf>,
    /// The poll interval while a payment's events are seen arriving (polling never stops).
    pub poll_interval_ms: u64,
}

impl Default for WebhooksSection {
    fn default() -> Self {
        WebhooksSection {
            listen: None,
            path: "/vipps/webhooks".into(),
            public_url: None,
            secret: None,
            secret_file: None,
            poll_interval_ms: 3000,
        }
    }
}

/// Which HID scanner to read (`--scanner hid`). Without ids, the first HID POS scanner.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScannerSection {
    /// USB vendor id, e.g. `0x0c2e`.
    pub vendor_id: Option<u16>,
    /// USB product id, e.g. `0x1007`.
    pub product_id: Option<u16>,
}

/// Prometheus metrics at `GET /metrics`, without a token: on this machine unless the operator
/// points them elsewhere.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSection {
    /// Where `/metrics` is served, or `"off"`. A non-loopback address only when set here.
    pub listen: String,
}

/// Where the metrics are served unless `[metrics] listen` says otherwise.
pub const METRICS_LISTEN: &str = "127.0.0.1:9477";

impl Default for MetricsSection {
    fn default() -> Self {
        MetricsSection {
            listen: METRICS_LISTEN.into(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimSection {
    /// The embedded simulator approves every payment this long after it was created.
    pub auto_approve_after_ms: Option<u64>,
}

/// The configuration file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub market: Market,
    /// Names this lane in references and logs: 1-16 of a-z, A-Z, 0-9 and -.
    pub lane_id: String,
    /// Names the store where one sales unit (MSN) serves several: leads every reference,
    /// before the lane's id. 1-16 of a-z, A-Z, 0-9 and -.
    pub store_id: Option<String>,
    /// The lane's language (nb, da, fi, sv, en); by default the market's.
    pub language: Option<Lang>,
    pub scanner_position: ScannerPosition,
    /// `auto` (Vipps in Norway; MobilePay in Denmark and Finland until the brand date, then
    /// Vipps), `vipps` or `mobilepay`.
    pub brand: BrandChoice,
    /// The store's name, for `payment_description`'s `{store}`.
    pub store_name: Option<String>,
    /// The payment's text in the app, the portal and settlement files: a template with
    /// `{store}` and `{receipt}`. By default "<store>, receipt <number>" in the lane's language.
    pub payment_description: Option<String>,
    /// A customer who does nothing on the payment screen this long has walked away, and the
    /// order ends (after a minute's warning with "I need more time"). 0: never.
    pub walk_away_after_s: u64,
    pub vipps: VippsSection,
    pub demo: DemoSection,
    pub sim: SimSection,
    pub scanner: ScannerSection,
    pub pos: PosSection,
    pub journal: JournalSection,
    pub webhooks: WebhooksSection,
    /// The file this was read from (`load`).
    #[serde(skip)]
    pub source: Option<std::path::PathBuf>,
    pub accessibility: AccessibilitySection,
    pub metrics: MetricsSection,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            market: Market::Norway,
            lane_id: "lane-1".into(),
            store_id: None,
            language: None,
            scanner_position: ScannerPosition::Below,
            brand: BrandChoice::Auto,
            store_name: None,
            payment_description: None,
            walk_away_after_s: 300,
            vipps: VippsSection::default(),
            demo: DemoSection::default(),
            sim: SimSection::default(),
            scanner: ScannerSection::default(),
            pos: PosSection::default(),
            journal: JournalSection::default(),
            webhooks: WebhooksSection::default(),
            source: None,
            accessibility: AccessibilitySection::default(),
            metrics: MetricsSection::default(),
        }
    }
}

/// A configuration problem, naming the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.reason)
    }
}

impl std::error::Error for ConfigError {}

fn bad(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        reason: reason.into(),
    }
}

/// Reads one environment variable (`None` when unset or empty).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Config {
    /// The demo: Norway, the embedded simulator, sample orders, no metrics endpoint.
    pub fn demo() -> Self {
        Config {
            demo: DemoSection {
                orders: true,
                ..DemoSection::default()
            },
            metrics: MetricsSection {
                listen: "off".into(),
            },
            ..Config::default()
        }
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| bad("(file)", format!("cannot read {}: {e}", path.display())))?;
        Ok(Config {
            source: Some(path.to_path_buf()),
            ..Self::parse(&text)?
        })
    }

    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let line_of = |e: &toml::de::Error| {
            e.span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].lines().count().max(1);
                    format!(" (line {line})")
                })
                .unwrap_or_default()
        };
        let de = toml::Deserializer::parse(text)
            .map_err(|e| bad("(file)", format!("{}{}", e.message().trim(), line_of(&e))))?;
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            // The path names the key in full, unknown ones too: `vipps.base_uri`.
            let mut key = e.path().to_string();
            let inner = e.inner();
            if key == "." || key.is_empty() {
                key = "(file)".into();
            }
            bad(
                &key,
                format!("{}{}", inner.message().trim(), line_of(inner)),
            )
        })?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let name_ok = |s: &str| {
            (1..=16).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if !name_ok(&self.lane_id) {
            return Err(bad("lane_id", "1-16 characters of a-z, A-Z, 0-9 and -"));
        }
        if self.store_id.as_deref().is_some_and(|s| !name_ok(s)) {
            return Err(bad("store_id", "1-16 characters of a-z, A-Z, 0-9 and -"));
        }
        let v = &self.vipps;
        self.api_target()?;
        let msn = &v.merchant_serial_number;
        if !(4..=10).contains(&msn.len()) || !msn.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad("vipps.merchant_serial_number", "4-10 digits"));
        }
        for (key, value) in [
            ("vipps.system_name", &v.system_name),
            ("vipps.system_version", &v.system_version),
        ] {
            if value.is_empty() || value.chars().count() > 30 {
                return Err(bad(key, "1-30 characters"));
            }
        }
        // Vipps allows 120 reads a minute per payment; the kiosk keeps its polling to 100,
        // leaving room for the reads a webhook or a lost answer asks for.
        if !(600..=10_000).contains(&v.poll_interval_ms) {
            return Err(bad(
                "vipps.poll_interval_ms",
                "600-10000 (Vipps allows 120 reads a minute per payment; polling may use 100)",
            ));
        }
        if !(1_000..=60_000).contains(&v.request_timeout_ms) {
            return Err(bad("vipps.request_timeout_ms", "1000-60000"));
        }
        self.ecom_checks()?;
        self.pos_checks()?;
        if self
            .journal
            .path
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty() || p.is_dir())
        {
            return Err(bad("journal.path", "a file path (not a directory)"));
        }
        let w = &self.webhooks;
        if let Some(listen) = &w.listen
            && listen.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(bad(
                "webhooks.listen",
                "an address and port, such as 127.0.0.1:8443",
            ));
        }
        self.metrics_listen()?;
        if !w.path.starts_with('/') {
            return Err(bad("webhooks.path", "a path starting with /"));
        }
        self.webhook_public_url()?;
        if !(self.vipps.poll_interval_ms..=10_000).contains(&w.poll_interval_ms) {
            return Err(bad(
                "webhooks.poll_interval_ms",
                "from vipps.poll_interval_ms up to 10000",
            ));
        }
        if self.walk_away_after_s != 0 && !(90..=3600).contains(&self.walk_away_after_s) {
            return Err(bad("walk_away_after_s", "0 (never), or 90-3600 seconds"));
        }
        self.screen_checks()?;
        if self.sim.auto_approve_after_ms.is_some() && self.api_target()? != ApiTarget::EmbeddedSim
        {
            return Err(bad(
                "sim.auto_approve_after_ms",
                "only with vipps.base_url = \"sim\"",
            ));
        }
        Ok(())
    }

    fn ecom_checks(&self) -> Result<(), ConfigError> {
        let v = &self.vipps;
        if v.one_time_qr == crate::payment::Api::Ecom && self.market != Market::Norway {
            return Err(bad(
                "vipps.one_time_qr",
                "\"ecom\" is for Norway (NOK) only; use \"epayment\"",
            ));
        }
        for (key, value, https_only) in [
            ("vipps.ecom_callback_prefix", &v.ecom_callback_prefix, true),
            ("vipps.ecom_fallback", &v.ecom_fallback, false),
        ] {
            match value {
                Some(u) if u.len() > 255 || u.starts_with("http://") => {
                    return Err(bad(key, "an https:// address of at most 255 characters"));
                }
                Some(u) if https_only && !u.starts_with("https://") => {
                    return Err(bad(key, "an https:// address"));
                }
                Some(_) => {}
                None if v.one_time_qr == crate::payment::Api::Ecom && self.talks_to_vipps()? => {
                    return Err(bad(key, "required with one_time_qr = \"ecom\""));
                }
                None => {}
            }
        }
        Ok(())
    }

    /// Whether the API is Vipps itself (not a simulator on this machine).
    fn talks_to_vipps(&self) -> Result<bool, ConfigError> {
        Ok(match self.api_target()? {
            ApiTarget::EmbeddedSim => false,
            ApiTarget::Url(u) => u.starts_with("https://"),
        })
    }

    /// Whether to show Vipps' own QR image (see `vipps.qr_source`).
    pub fn qr_image(&self) -> bool {
        match self.vipps.qr_source {
            Some(source) => source == QrSource::VippsImage,
            None => self.talks_to_vipps().unwrap_or(true),
        }
    }

    /// eCom's merchant URLs (placeholders that only a simulator accepts when unset).
    pub fn ecom_merchant(&self) -> crate::vipps::EcomMerchant {
        let d = crate::vipps::EcomMerchant::default();
        crate::vipps::EcomMerchant {
            callback_prefix: self
                .vipps
                .ecom_callback_prefix
                .clone()
                .unwrap_or(d.callback_prefix),
            fall_back: self.vipps.ecom_fallback.clone().unwrap_or(d.fall_back),
        }
    }

    pub fn api_target(&self) -> Result<ApiTarget, ConfigError> {
        let url = self.vipps.base_url.trim();
        if url == "sim" {
            return Ok(ApiTarget::EmbeddedSim);
        }
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| bad("vipps.base_url", "\"sim\", or an http(s):// address"))?;
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        if host.is_empty() {
            return Err(bad("vipps.base_url", "the address has no host"));
        }
        // Plain HTTP only to this machine (a `vipps-kiosk sim`): secrets never travel in clear.
        let local = matches!(host, "127.0.0.1" | "localhost" | "[") || rest.starts_with("[::1]");
        if url.starts_with("http://") && !local {
            return Err(bad(
                "vipps.base_url",
                "use https:// for anything but this machine",
            ));
        }
        Ok(ApiTarget::Url(url.trim_end_matches('/').to_string()))
    }

    /// The state directory: the journal's (the install's fingerprint key lives there too).
    pub fn state_dir(&self) -> Option<std::path::PathBuf> {
        let journal = self.journal.path.as_ref()?;
        Some(match journal.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        })
    }

    /// The lane's language: the configured one, or the market's own.
    pub fn language(&self) -> Lang {
        self.language.unwrap_or(self.market.language())
    }

    /// What leads every payment reference of this lane: `<store_id>-<lane_id>`, or the lane's
    /// id alone.
    pub fn reference_prefix(&self) -> String {
        match &self.store_id {
            Some(store) => format!("{store}-{}", self.lane_id),
            None => self.lane_id.clone(),
        }
    }

    /// The orders this lane can take: its currency, and order ids that fit its references (50
    /// characters in all where the one-time QR is eCom's, 64 otherwise).
    pub fn order_rules(&self) -> crate::pos::OrderRules {
        crate::pos::OrderRules {
            currency: self.market.currency(),
            reference_prefix: self.reference_prefix(),
            reference_max: match self.vipps.one_time_qr {
                crate::payment::Api::Ecom => crate::payment::ECOM_ORDER_ID_MAX,
                crate::payment::Api::Epayment => crate::payment::EPAYMENT_REFERENCE_MAX,
            },
        }
    }

    pub fn walk_away_after(&self) -> Option<Duration> {
        (self.walk_away_after_s != 0).then(|| Duration::from_secs(self.walk_away_after_s))
    }

    /// Where `/metrics` is served; `None` when `[metrics] listen = "off"`.
    pub fn metrics_listen(&self) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        match self.metrics.listen.trim() {
            "off" => Ok(None),
            listen => listen.parse().map(Some).map_err(|_| {
                bad(
                    "metrics.listen",
                    "an address and port, such as 127.0.0.1:9477, or \"off\"",
                )
            }),
        }
    }

    /// `[webhooks] public_url`, checked: an https URL (plain http only to this machine, for a
    /// simulator) with a host, no user or password, no fragment.
    pub fn webhook_public_url(&self) -> Result<Option<reqwest::Url>, ConfigError> {
        let Some(text) = &self.webhooks.public_url else {
            return Ok(None);
        };
        let key = "webhooks.public_url";
        let url = reqwest::Url::parse(text).map_err(|e| {
            bad(
                key,
                format!("not a URL ({e}): the full https URL with its path"),
            )
        })?;
        let host = url.host_str().unwrap_or_default();
        let loopback = host == "localhost"
            || host
                .trim_matches(|c| c == '[' || c == ']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(bad(
                    key,
                    "an https:// URL, as Vipps delivers only over HTTPS",
                ));
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad(key, "a URL with a host"));
        }
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err(bad(key, "a URL without user, password or #fragment"));
        }
        Ok(Some(url))
    }

    /// The webhook receiver, when `[webhooks] listen` is set: `Err` names what is missing.
    pub fn webhook_receiver(
        &self,
        env: Env<'_>,
    ) -> Result<Option<crate::webhooks::ReceiverSetup>, ConfigError> {
        let w = &self.webhooks;
        let Some(listen) = &w.listen else {
            return Ok(None);
        };
        let listen = listen
            .parse()
            .map_err(|_| bad("webhooks.listen", "an address and port"))?;
        let secret = match (env("VIPPS_WEBHOOK_SECRET"), &w.secret_file, &w.secret) {
            (Some(s), _, _) => s,
            (None, Some(file), _) => {
                read_secret_file(file).map_err(|reason| bad("webhooks.secret_file", reason))?
            }
            (None, None, Some(s)) => s.clone(),
            (None, None, None) => {
                return Err(bad(
                    "webhooks.secret",
                    "the receiver needs the registration's secret (VIPPS_WEBHOOK_SECRET, secret_file or secret)",
                ));
            }
        };
        if secret.is_empty() {
            return Err(bad("webhooks.secret", "empty"));
        }
        Ok(Some(crate::webhooks::ReceiverSetup {
            listen,
            path: w.path.clone(),
            public_url: self.webhook_public_url()?,
            secret: Secret::new(secret),
        }))
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.vipps.poll_interval_ms)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.vipps.request_timeout_ms)
    }

    pub fn system_info(&self) -> SystemInfo {
        SystemInfo {
            name: self.vipps.system_name.clone(),
            version: self.vipps.system_version.clone(),
            ..SystemInfo::default()
        }
    }

    /// API keys from `VIPPS_CLIENT_ID`, `VIPPS_CLIENT_SECRET`, `VIPPS_SUBSCRIPTION_KEY`. The
    /// simulator needs none: placeholders stand in when they are not set.
    pub fn credentials(&self, env: Env<'_>) -> Result<Credentials, ConfigError> {
        let sim = self.api_target()? == ApiTarget::EmbeddedSim
            || self.vipps.base_url.starts_with("http://");
        let get = |name: &str| -> Result<Secret, ConfigError> {
            match env(name) {
                Some(v) => Ok(Secret::new(v)),
                None if sim => Ok(Secret::new(format!("sim-{}", name.to_lowercase()))),
                None => Err(bad(
                    name,
                    "not set in the environment (needed for the Vipps API)",
                )),
            }
        };
        Ok(Credentials {
            client_id: get("VIPPS_CLIENT_ID")?,
            client_secret: get("VIPPS_CLIENT_SECRET")?,
            subscription_key: get("VIPPS_SUBSCRIPTION_KEY")?,
            merchant_serial_number: self.vipps.merchant_serial_number.clone(),
        })
    }
}

#[path = "config_screen.rs"]
mod screen;
pub use screen::{STORE_PLACEHOLDER, function_key, speech_words};

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
