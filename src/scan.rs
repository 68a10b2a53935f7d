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

/// The hosts of Vipps MobilePay's QR codes, one per market (Vipps MobilePay's QR pages:
/// `qr.vipps.no`, `qr.mobilepay.dk`, `qr.mobilepay.fi`).
pub const QR_HOSTS: [&str; 3] = ["qr.vipps.no", "qr.mobilepay.dk", "qr.mobilepay.fi"];

/// Shortest text taken as a bare token (a code that is not a link): tokens are long, product
/// codes that are not all digits are short.
const MIN_TOKEN_CHARS: usize = 16;

/// What may be a Vipps MobilePay personal QR: passed whole to Vipps, which decides (a code it
/// does not know is answered "not a Vipps code"). `None` only for what cannot be one: a
/// product barcode (digits alone), a link anywhere else, plain HTTP, binary junk, or text too
/// short or too long. The codes' formats are Vipps MobilePay's to change (MobilePay's are
/// tokens, Vipps' links with the number today): nothing more is read from them.
pub fn personal_qr(scan: &str) -> Option<PersonalQr> {
    let code = scan.trim_matches(|c: char| c == '\r' || c == '\n' || c == '\t' || c == ' ');
    if code.len() < 5 || code.chars().count() > MAX_SCAN_CHARS {
        return None;
    }
    if code
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || !c.is_ascii())
    {
        return None;
    }
    if code.chars().all(|c| c.is_ascii_digit()) {
        return None; // EAN, UPC, GTIN: a product
    }
    let lower = code.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("https://") {
        // A link: on one of Vipps MobilePay's QR hosts, with something after the host.
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        return (QR_HOSTS.contains(&host) && !path.is_empty()).then(|| PersonalQr::new(code));
    }
    if lower.contains("://") || lower.starts_with("www.") {
        return None; // another scheme, or a bare web address
    }
    // A bare token: long, letters and digits both, URL-safe characters only.
    let token_like = code.len() >= MIN_TOKEN_CHARS
        && code.chars().any(|c| c.is_ascii_alphabetic())
        && code.chars().any(|c| c.is_ascii_digit())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.~=+/".contains(c));
    token_like.then(|| PersonalQr::new(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_personal_qr_forms_whole() {
        for code in [
            "https://qr.vipps.no/p/AbC-123_xyz?v=2",
            "https://qr.vipps.no/28/2/01/031/4712345678?v=1",
            // MobilePay's markets, tokenized.
            "https://qr.mobilepay.dk/p/9f3KQm2xT7vLw8aZ?v=2",
            "https://qr.mobilepay.fi/p/Zx81mQ0pLk4R2tV9",
            // A scanner that sent it in capitals.
            "HTTPS://QR.VIPPS.NO/P/ABC123XYZ",
            // A bare token, as a tokenized code may be.
            "mp1-7Hq2Zr9Kx4Vb8Nw3",
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
            "https://qr.mobilepay.dk",
            "https://qr.mobilepay.se/p/abc",
            "ftp://qr.vipps.no/p/abc",
            "www.vipps.no/p/abc",
            "00012345678905",
            "ABC-1234",
            "plainwordsonlynodigits",
            "https://qr.vipps.no/p/æøå",
        ] {
            assert!(personal_qr(scan).is_none(), "{scan:?}");
        }
        let long = format!("https://qr.vipps.no/p/{}", "a".repeat(300));
        assert!(personal_qr(&long).is_none());
    }
}
