//! What a scan means, apart from where it came from: the text a scanner read, and whether it
//! is a Vipps MobilePay personal QR. The scanner sources produce `RawScan`s; the payment
//! machine decides on them.

use std::fmt;

/// A scanned personal QR code. Identifies a person: never printed in clear.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonalQr(String);

impl PersonalQr {
    pub fn new(code: impl Into<String>) -> Self {
        PersonalQr(code.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PersonalQr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonalQr({})", crate::redact::fingerprint(&self.0))
    }
}

/// Text as the scanner read it. It may be a customer's personal QR: never printed in clear.
#[derive(Clone, PartialEq, Eq)]
pub struct RawScan(pub String);

impl fmt::Debug for RawScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawScan({})", crate::redact::fingerprint(&self.0))
    }
}

/// Longest scan the kiosk accepts; a personal QR is at most 255 characters.
pub const MAX_SCAN_CHARS: usize = 255;

/// A Vipps MobilePay personal QR, or `None` for anything else (a product barcode, a web link,
/// garbage). The whole text is kept: it is forwarded to Vipps as it was scanned.
pub fn personal_qr(scan: &str) -> Option<PersonalQr> {
    let code = scan.trim_matches(|c: char| c == '\r' || c == '\n' || c == '\t' || c == ' ');
    if code.len() < 5 || code.chars().count() > MAX_SCAN_CHARS {
        return None;
    }
    if code.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    // Only codes hosted on qr.vipps.no work in the app, for Vipps and MobilePay alike:
    // the tokenized `/p/<token>` form and the legacy clear-text form.
    let rest = code.strip_prefix("https://qr.vipps.no/")?;
    if rest.is_empty() {
        return None;
    }
    Some(PersonalQr::new(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_personal_qr_forms_whole() {
        for code in [
            "https://qr.vipps.no/p/AbC-123_xyz?v=2",
            "https://qr.vipps.no/28/2/01/031/4712345678?v=1",
        ] {
            assert_eq!(
                personal_qr(code).map(|q| q.as_str().to_string()),
                Some(code.to_string())
            );
        }
        let with_cr = "https://qr.vipps.no/p/AbC\r\n";
        assert_eq!(personal_qr(with_cr).map(|q| q.as_str().len()), Some(25));
    }

    #[test]
    fn raw_scans_do_not_print() {
        let s = RawScan("https://qr.vipps.no/28/2/01/031/4712345678?v=1".into());
        assert!(!format!("{s:?}").contains("4712345678"));
    }

    #[test]
    fn refuses_everything_else() {
        for scan in [
            "",
            "7038010055680",
            "https://example.com/p/abc",
            "http://qr.vipps.no/p/abc",
            "https://qr.vipps.no/",
            "https://qr.vipps.no.evil.example/p/abc",
            "https://qr.vipps.no/p/a b",
            "https://qr.vipps.no/p/\u{0}abc",
        ] {
            assert!(personal_qr(scan).is_none(), "{scan:?}");
        }
        let long = format!("https://qr.vipps.no/p/{}", "a".repeat(300));
        assert!(personal_qr(&long).is_none());
    }
}
