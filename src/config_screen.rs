//! The configuration of what the customer sees, reads and hears: the brand's date, the
//! payment's text, and speech. Checked with the rest in `Config::validate`.

use super::{Config, ConfigError, bad};
use crate::market::Today;

/// Where a payment description's template takes the store's name.
pub const STORE_PLACEHOLDER: &str = "{store}";
const STORE_NAME_MAX: usize = 50;

/// A speech command's words: the program, then its arguments (`{lang}`, `{text}` filled in
/// per utterance).
pub fn speech_words(command: &str) -> Vec<String> {
    command.split_whitespace().map(str::to_string).collect()
}

/// The F-key a `speech_key` names: `F1` is 1.
pub fn function_key(name: &str) -> Option<u8> {
    let n: u8 = name.strip_prefix('F')?.parse().ok()?;
    (1..=12).contains(&n).then_some(n)
}

/// Whether `template` uses only the placeholders in `known`.
fn only_placeholders(template: &str, known: &[&str]) -> bool {
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        let tail = &rest[i..];
        let Some(end) = tail.find('}') else {
            return false;
        };
        if !known.contains(&&tail[..=end]) {
            return false;
        }
        rest = &tail[end + 1..];
    }
    !rest.contains('}')
}

impl Config {
    pub(super) fn screen_checks(&self) -> Result<(), ConfigError> {
        if let Some(name) = &self.store_name {
            let n = name.trim().chars().count();
            if n == 0 || n > STORE_NAME_MAX || name.chars().any(char::is_control) {
                return Err(bad(
                    "store_name",
                    format!("1-{STORE_NAME_MAX} characters on one line"),
                ));
            }
        }
        if let Some(t) = &self.payment_description {
            self.check_description(t)?;
        }
        let a = &self.accessibility;
        if speech_words(&a.speech_command).is_empty() {
            return Err(bad(
                "accessibility.speech_command",
                "a program and its arguments, such as \"espeak-ng -v {lang}\"",
            ));
        }
        if !only_placeholders(&a.speech_command, &["{lang}", "{text}"]) {
            return Err(bad(
                "accessibility.speech_command",
                "the only placeholders are {lang} and {text}",
            ));
        }
        if function_key(&a.speech_key).is_none() {
            return Err(bad("accessibility.speech_key", "F1-F12"));
        }
        self.today()?;
        Ok(())
    }

    fn check_description(&self, template: &str) -> Result<(), ConfigError> {
        let key = "payment_description";
        if !only_placeholders(
            template,
            &[
                STORE_PLACEHOLDER,
                crate::payment::order::RECEIPT_PLACEHOLDER,
            ],
        ) {
            return Err(bad(key, "the only placeholders are {store} and {receipt}"));
        }
        if template.contains(STORE_PLACEHOLDER) && self.store_name.is_none() {
            return Err(bad(key, "uses {store}, but store_name is not set"));
        }
        let filled = self.fill_store(template);
        let own = filled.replace(crate::payment::order::RECEIPT_PLACEHOLDER, "");
        let min = crate::payment::order::DESCRIPTION_MIN_CHARS;
        let max = crate::payment::order::DESCRIPTION_MAX_CHARS;
        if !filled.contains(crate::payment::order::RECEIPT_PLACEHOLDER)
            && own.trim().chars().count() < min
        {
            return Err(bad(key, format!("at least {min} characters")));
        }
        if own.chars().count() > max {
            return Err(bad(
                key,
                format!("at most {max} characters (Vipps' limit), the store's name included"),
            ));
        }
        Ok(())
    }

    /// `template` with the store's name in place of `{store}`.
    pub fn fill_store(&self, template: &str) -> String {
        template.replace(
            STORE_PLACEHOLDER,
            self.store_name
                .as_deref()
                .map(str::trim)
                .unwrap_or_default(),
        )
    }

    /// Where the lane's date comes from: the clock, or `[demo] today`.
    pub fn today(&self) -> Result<Today, ConfigError> {
        let Some(day) = &self.demo.today else {
            return Ok(Today::Clock);
        };
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(day, &format)
            .map(Today::Fixed)
            .map_err(|_| bad("demo.today", "a date such as \"2027-01-12\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text)
    }

    fn key_of(text: &str) -> String {
        parse(text).err().map(|e| e.key).unwrap_or_default()
    }

    #[test]
    fn brand_and_date_are_read_and_checked() {
        let c = parse("market = \"DK\"\nbrand = \"vipps\"\n[demo]\ntoday = \"2027-01-11\"\n")
            .expect("valid");
        assert_eq!(c.brand, crate::market::BrandChoice::Vipps);
        assert_eq!(
            c.today(),
            Ok(Today::Fixed(time::macros::date!(2027 - 01 - 11)))
        );
        assert_eq!(key_of("brand = \"mobil\"\n"), "brand");
        assert_eq!(key_of("[demo]\ntoday = \"12.01.2027\"\n"), "demo.today");
    }

    #[test]
    fn payment_descriptions_are_checked_against_vipps_limits() {
        let ok = parse(
            "store_name = \"Kiwi Majorstuen\"\npayment_description = \"{store} {receipt}\"\n",
        )
        .expect("valid");
        assert_eq!(
            ok.fill_store(ok.payment_description.as_deref().unwrap_or_default()),
            "Kiwi Majorstuen {receipt}"
        );
        assert_eq!(
            key_of("payment_description = \"{store} {receipt}\"\n"),
            "payment_description",
            "{{store}} without a store name"
        );
        assert_eq!(
            key_of("payment_description = \"Kjøp {kvittering}\"\n"),
            "payment_description"
        );
        assert_eq!(
            key_of("payment_description = \"ab\"\n"),
            "payment_description"
        );
        let long = "x".repeat(101);
        assert_eq!(
            key_of(&format!("payment_description = \"{long}\"\n")),
            "payment_description"
        );
        assert_eq!(
            key_of(&format!("store_name = \"{}\"\n", "y".repeat(51))),
            "store_name"
        );
    }

    #[test]
    fn speech_settings_are_checked() {
        let c = parse("[accessibility]\nspeech_command = \"say-it --voice {lang} {text}\"\nspeech_key = \"F9\"\n")
            .expect("valid");
        assert_eq!(
            speech_words(&c.accessibility.speech_command),
            ["say-it", "--voice", "{lang}", "{text}"]
        );
        assert_eq!(function_key(&c.accessibility.speech_key), Some(9));
        assert_eq!(
            key_of("[accessibility]\nspeech_command = \"  \"\n"),
            "accessibility.speech_command"
        );
        assert_eq!(
            key_of("[accessibility]\nspeech_command = \"espeak-ng -v {language}\"\n"),
            "accessibility.speech_command"
        );
        assert_eq!(
            key_of("[accessibility]\nspeech_key = \"F13\"\n"),
            "accessibility.speech_key"
        );
        assert_eq!(
            key_of("[accessibility]\nspeach = true\n"),
            "accessibility.speach"
        );
    }
}
