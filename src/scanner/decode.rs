//! Raw HID input reports to scanned text. Pure functions and small state machines with no I/O,
//! tested against byte fixtures (`tests/fixtures/hid/`).
//!
//! Two kinds of scanner report:
//! - **HID POS** (usage page 0x8C): report ID 0x02, a byte count, the data at a vendor-specific
//!   offset, and a "more data follows" flag in the last byte.
//! - **Keyboard wedge** (boot keyboard, page 0x07): 8-byte reports of the keys held down. They
//!   are decoded with the US table by usage code, so the host's keyboard layout (Norwegian,
//!   Danish…) cannot mangle `/ ? = : _ -`. ALT+keypad mode is decoded too.

use std::time::{Duration, Instant};

/// Longest scan assembled from reports; anything longer is dropped as garbage.
pub const MAX_SCAN_BYTES: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the scan is longer than {MAX_SCAN_BYTES} bytes")]
    Oversized,
    #[error("the scan is not text")]
    Binary,
    #[error("a report of {0} bytes is not a scanner report")]
    BadReport(usize),
}

/// Where a HID POS report keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosLayout {
    /// Honeywell / Hand Held Products: AIM id at 2..5, data from 5.
    Honeywell,
    /// Zebra: one 0x00 byte, AIM id at 3..6, data from 6.
    Zebra,
    /// Newland and generic OEM engines: no AIM id, data from 2.
    Newland,
}

impl PosLayout {
    /// Recognises the layout by where the AIM identifier (`]`) sits.
    pub fn detect(report: &[u8]) -> PosLayout {
        match report {
            [_, _, b']', ..] => PosLayout::Honeywell,
            [_, _, 0, b']', ..] => PosLayout::Zebra,
            _ => PosLayout::Newland,
        }
    }

    fn data_offset(self) -> usize {
        match self {
            PosLayout::Honeywell => 5,
            PosLayout::Zebra => 6,
            PosLayout::Newland => 2,
        }
    }
}

/// The HID POS input report ID.
pub const POS_REPORT_ID: u8 = 0x02;

/// Assembles HID POS reports into scans, following the continuation flag.
#[derive(Debug, Default)]
pub struct HidPosDecoder {
    buf: Vec<u8>,
    overflow: bool,
    /// Fixed by configuration or vendor; detected per report when `None`.
    pub layout: Option<PosLayout>,
}

impl HidPosDecoder {
    /// Feeds one report as read from hidraw (report ID first). Returns a finished scan when the
    /// report's "more data follows" flag is clear.
    pub fn feed(&mut self, report: &[u8]) -> Option<Result<String, DecodeError>> {
        if report.len() < 3 || report[0] != POS_REPORT_ID {
            return Some(Err(DecodeError::BadReport(report.len())));
        }
        let layout = self.layout.unwrap_or_else(|| PosLayout::detect(report));
        let start = layout.data_offset().min(report.len());
        // The byte count says how much of the data field is valid; never trust it past the end.
        let count = usize::from(report[1]);
        let end = (start + count).min(report.len());
        let more = report.len() >= 64 && report[63] & 1 == 1;
        if self.buf.len() + (end - start) > MAX_SCAN_BYTES {
            self.overflow = true;
        } else {
            self.buf.extend_from_slice(&report[start..end]);
        }
        if more {
            return None;
        }
        let bytes = std::mem::take(&mut self.buf);
        if std::mem::take(&mut self.overflow) {
            return Some(Err(DecodeError::Oversized));
        }
        Some(to_text(bytes))
    }
}

/// Scanned bytes to text: UTF-8, without a trailing CR/LF, with no other control characters.
pub fn to_text(mut bytes: Vec<u8>) -> Result<String, DecodeError> {
    while bytes.last().is_some_and(|b| *b == b'\r' || *b == b'\n') {
        bytes.pop();
    }
    let text = String::from_utf8(bytes).map_err(|_| DecodeError::Binary)?;
    if text.chars().any(char::is_control) {
        return Err(DecodeError::Binary);
    }
    Ok(text)
}

/// US keyboard layout by usage code: (usage, unshifted, shifted) as ASCII.
const US_TABLE: &[(u8, u8, u8)] = &[
    (0x04, 0x61, 0x41), // Keyboard A
    (0x05, 0x62, 0x42), // Keyboard B
    (0x06, 0x63, 0x43), // Keyboard C
    (0x07, 0x64, 0x44), // Keyboard D
    (0x08, 0x65, 0x45), // Keyboard E
    (0x09, 0x66, 0x46), // Keyboard F
    (0x0a, 0x67, 0x47), // Keyboard G
    (0x0b, 0x68, 0x48), // Keyboard H
    (0x0c, 0x69, 0x49), // Keyboard I
    (0x0d, 0x6a, 0x4a), // Keyboard J
    (0x0e, 0x6b, 0x4b), // Keyboard K
    (0x0f, 0x6c, 0x4c), // Keyboard L
    (0x10, 0x6d, 0x4d), // Keyboard M
    (0x11, 0x6e, 0x4e), // Keyboard N
    (0x12, 0x6f, 0x4f), // Keyboard O
    (0x13, 0x70, 0x50), // Keyboard P
    (0x14, 0x71, 0x51), // Keyboard Q
    (0x15, 0x72, 0x52), // Keyboard R
    (0x16, 0x73, 0x53), // Keyboard S
    (0x17, 0x74, 0x54), // Keyboard T
    (0x18, 0x75, 0x55), // Keyboard U
    (0x19, 0x76, 0x56), // Keyboard V
    (0x1a, 0x77, 0x57), // Keyboard W
    (0x1b, 0x78, 0x58), // Keyboard X
    (0x1c, 0x79, 0x59), // Keyboard Y
    (0x1d, 0x7a, 0x5a), // Keyboard Z
    (0x1e, 0x31, 0x21), // Keyboard 1 and !
    (0x1f, 0x32, 0x40), // Keyboard 2 and @
    (0x20, 0x33, 0x23), // Keyboard 3 and #
    (0x21, 0x34, 0x24), // Keyboard 4 and $
    (0x22, 0x35, 0x25), // Keyboard 5 and %
    (0x23, 0x36, 0x5e), // Keyboard 6 and ^
    (0x24, 0x37, 0x26), // Keyboard 7 and &
    (0x25, 0x38, 0x2a), // Keyboard 8 and *
    (0x26, 0x39, 0x28), // Keyboard 9 and (
    (0x27, 0x30, 0x29), // Keyboard 0 and )
    (0x28, 0x0d, 0x0d), // Enter (Return)
    (0x29, 0x1b, 0x1b), // Escape
    (0x2a, 0x08, 0x08), // Backspace (Delete)
    (0x2b, 0x09, 0x09), // Tab
    (0x2c, 0x20, 0x20), // Spacebar
    (0x2d, 0x2d, 0x5f), // - and _
    (0x2e, 0x3d, 0x2b), // = and +
    (0x2f, 0x5b, 0x7b), // [ and {
    (0x30, 0x5d, 0x7d), // ] and }
    (0x31, 0x5c, 0x7c), // \ and |
    (0x32, 0x5c, 0x7c), // Non-US # and ~ (absent on US keyboards; Linux maps it to KEY_BACKSLASH, so a US host layout gives \ and |)
    (0x33, 0x3b, 0x3a), // ; and :
    (0x34, 0x27, 0x22), // ' and "
    (0x35, 0x60, 0x7e), // Grave accent and tilde
    (0x36, 0x2c, 0x3c), // , and <
    (0x37, 0x2e, 0x3e), // . and >
    (0x38, 0x2f, 0x3f), // / and ?
];

const ENTER: u8 = 0x28;
const TAB: u8 = 0x2b;
const KEYPAD_ENTER: u8 = 0x58;
const KEYPAD_1: u8 = 0x59;
const KEYPAD_0: u8 = 0x62;
const ROLLOVER: u8 = 0x01;
const SHIFT: u8 = 0x02 | 0x20;
const ALT: u8 = 0x04 | 0x40;

/// The character of a key usage on a US keyboard.
pub fn us_char(usage: u8, shift: bool) -> Option<char> {
    US_TABLE
        .iter()
        .find(|(u, _, _)| *u == usage)
        .map(|(_, plain, shifted)| char::from(if shift { *shifted } else { *plain }))
}

fn keypad_digit(usage: u8) -> Option<u8> {
    match usage {
        KEYPAD_1..=0x61 => Some(usage - KEYPAD_1 + 1),
        KEYPAD_0 => Some(0),
        _ => None,
    }
}

/// Decodes boot-keyboard reports from a keyboard-wedge scanner. Acts on keys newly pressed
/// (a key still held in the next report is not typed twice); Enter, keypad Enter or Tab end
/// the scan.
#[derive(Debug, Default)]
pub struct WedgeDecoder {
    held: Vec<u8>,
    buf: String,
    /// Keypad digits typed while Alt is held (ALT+keypad mode).
    alt_digits: Option<u32>,
    overflow: bool,
    garbage: bool,
}

impl WedgeDecoder {
    /// Feeds one report: 8 bytes, or 9 with a leading report ID.
    pub fn feed(&mut self, report: &[u8]) -> Option<Result<String, DecodeError>> {
        let r = match report.len() {
            8 => report,
            9 => &report[1..],
            n => return Some(Err(DecodeError::BadReport(n))),
        };
        let (modifiers, keys) = (r[0], &r[2..8]);
        if keys.iter().all(|k| *k == ROLLOVER) {
            return None; // too many keys at once: no information
        }
        let shift = modifiers & SHIFT != 0;
        let alt = modifiers & ALT != 0;
        let pressed: Vec<u8> = keys.iter().copied().filter(|k| *k != 0).collect();
        let mut done = None;
        let newly: Vec<u8> = pressed
            .iter()
            .copied()
            .filter(|k| !self.held.contains(k))
            .collect();
        for key in newly {
            if alt && let Some(d) = keypad_digit(key) {
                self.alt_digits = Some(
                    self.alt_digits
                        .unwrap_or(0)
                        .saturating_mul(10)
                        .saturating_add(u32::from(d)),
                );
                continue;
            }
            match key {
                ENTER | KEYPAD_ENTER | TAB => {
                    done = Some(self.finish());
                }
                // Escape and Backspace are in the table but are no part of a scan: the
                // scan is garbage, as a control character in a HID POS scan is.
                _ => match us_char(key, shift).filter(|c| !c.is_control()) {
                    Some(c) => self.push(c),
                    None => self.garbage = true,
                },
            }
        }
        if !alt && let Some(code) = self.alt_digits.take() {
            // Alt released: the digits typed under it were one character's code.
            match char::from_u32(code).filter(|c| !c.is_control()) {
                Some(c) => self.push(c),
                None => self.garbage = true,
            }
        }
        self.held = pressed;
        done
    }

    fn push(&mut self, c: char) {
        if self.buf.len() + c.len_utf8() > MAX_SCAN_BYTES {
            self.overflow = true;
        } else {
            self.buf.push(c);
        }
    }

    fn finish(&mut self) -> Result<String, DecodeError> {
        let text = std::mem::take(&mut self.buf);
        self.alt_digits = None;
        if std::mem::take(&mut self.overflow) {
            return Err(DecodeError::Oversized);
        }
        if std::mem::take(&mut self.garbage) {
            return Err(DecodeError::Binary);
        }
        Ok(text)
    }
}

/// Counts a code read twice within `window` once (scanners re-read a code held still).
#[derive(Debug)]
pub struct Debounce {
    window: Duration,
    last: Option<(String, Instant)>,
}

impl Debounce {
    pub fn new(window: Duration) -> Self {
        Debounce { window, last: None }
    }

    /// Whether `scan` read at `now` is new (true) or a repeat to drop (false).
    pub fn accept(&mut self, scan: &str, now: Instant) -> bool {
        let repeat = self
            .last
            .as_ref()
            .is_some_and(|(s, t)| s == scan && now.saturating_duration_since(*t) < self.window);
        self.last = Some((scan.to_string(), now));
        !repeat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE_TEXT: &str = "https://qr.vipps.no/p/AbC-123_xyz?v=2";

    fn reports(file: &str) -> Vec<Vec<u8>> {
        let path = format!("{}/tests/fixtures/hid/{file}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path)
            .expect("fixture")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                l.split_whitespace()
                    .map(|b| u8::from_str_radix(b, 16).expect("hex"))
                    .collect()
            })
            .collect()
    }

    fn decode_all<D>(
        mut d: D,
        feed: impl Fn(&mut D, &[u8]) -> Option<Result<String, DecodeError>>,
        rs: &[Vec<u8>],
    ) -> Vec<Result<String, DecodeError>> {
        rs.iter().filter_map(|r| feed(&mut d, r)).collect()
    }

    #[test]
    fn hid_pos_fixtures_of_three_vendors_decode_to_the_code() {
        for (file, layout) in [
            ("hidpos-reports.hex", PosLayout::Honeywell),
            ("hidpos-reports-zebra.hex", PosLayout::Zebra),
            ("hidpos-reports-newland.hex", PosLayout::Newland),
        ] {
            let rs = reports(file);
            assert_eq!(rs.len(), 2, "{file}");
            assert!(rs.iter().all(|r| r.len() == 64));
            assert_eq!(PosLayout::detect(&rs[0]), layout, "{file}");
            let out = decode_all(HidPosDecoder::default(), HidPosDecoder::feed, &rs);
            assert_eq!(out, vec![Ok(FIXTURE_TEXT.to_string())], "{file}");
        }
    }

    #[test]
    fn continuation_flag_joins_and_byte_count_limits() {
        let rs = reports("hidpos-reports.hex");
        let mut d = HidPosDecoder::default();
        assert_eq!(d.feed(&rs[0]), None, "more data follows");
        assert_eq!(d.feed(&rs[1]), Some(Ok(FIXTURE_TEXT.into())));
        // A lying byte count cannot read past the report.
        let mut r = rs[1].clone();
        r[1] = 0xff;
        r[63] = 0;
        assert!(matches!(
            HidPosDecoder::default().feed(&r),
            Some(Err(DecodeError::Binary))
        ));
    }

    #[test]
    fn hid_pos_garbage_and_oversize_are_dropped() {
        let mut d = HidPosDecoder::default();
        assert_eq!(d.feed(&[0x05, 1, 2]), Some(Err(DecodeError::BadReport(3))));
        let mut binary = vec![0u8; 64];
        binary[0] = POS_REPORT_ID;
        binary[1] = 4;
        binary[2..6].copy_from_slice(&[0xff, 0xfe, 0x00, 0x80]);
        assert_eq!(d.feed(&binary), Some(Err(DecodeError::Binary)));
        let mut endless = vec![b'a'; 64];
        endless[0] = POS_REPORT_ID;
        endless[1] = 56;
        endless[63] = 1;
        let mut out = None;
        for _ in 0..100 {
            out = d.feed(&endless);
        }
        assert_eq!(out, None);
        endless[63] = 0;
        assert_eq!(d.feed(&endless), Some(Err(DecodeError::Oversized)));
        // The decoder is clean afterwards.
        let rs = reports("hidpos-reports-newland.hex");
        assert_eq!(
            decode_all(d, HidPosDecoder::feed, &rs),
            vec![Ok(FIXTURE_TEXT.to_string())]
        );
    }

    #[test]
    fn wedge_boot_reports_decode_with_shift_and_repeated_letters() {
        let rs = reports("wedge-boot-reports.hex");
        assert_eq!(rs.len(), 76);
        let out = decode_all(WedgeDecoder::default(), WedgeDecoder::feed, &rs);
        assert_eq!(out, vec![Ok(FIXTURE_TEXT.to_string())]);
    }

    #[test]
    fn a_held_key_is_not_typed_twice_and_a_released_one_is() {
        // Without the key-up reports, repeated letters would collapse: decode on edges.
        let rs: Vec<Vec<u8>> = reports("wedge-boot-reports.hex")
            .into_iter()
            .filter(|r| r.iter().any(|b| *b != 0))
            .collect();
        let out = decode_all(WedgeDecoder::default(), WedgeDecoder::feed, &rs);
        assert_eq!(
            out,
            vec![Ok("htps:/qr.vips.no/p/AbC-123_xyz?v=2".to_string())]
        );
    }

    /// Found by `tests/fuzz.rs`: Escape (and Backspace) typed into a wedge scan came out as
    /// a control character in the text; a HID POS scan refuses those.
    #[test]
    fn a_wedge_scan_with_escape_or_backspace_is_garbage() {
        for control in [0x29u8, 0x2a] {
            let rs = [
                [0, 0, control, 0, 0, 0, 0, 0],
                [0, 0, 0x04, 0, 0, 0, 0, 0],
                [0, 0, 0x28, 0, 0, 0, 0, 0],
            ];
            let rs: Vec<Vec<u8>> = rs.iter().map(|r| r.to_vec()).collect();
            let out = decode_all(WedgeDecoder::default(), WedgeDecoder::feed, &rs);
            assert_eq!(out, vec![Err(DecodeError::Binary)], "usage {control:#x}");
        }
    }

    #[test]
    fn wedge_alt_keypad_mode_decodes() {
        let rs = reports("wedge-altnumpad-reports.hex");
        assert_eq!(rs.len(), 261);
        let out = decode_all(WedgeDecoder::default(), WedgeDecoder::feed, &rs);
        assert_eq!(out, vec![Ok(FIXTURE_TEXT.to_string())]);
    }

    #[test]
    fn wedge_tolerates_report_ids_shift_alone_and_two_keys() {
        let mut d = WedgeDecoder::default();
        // Shift in its own report, then the key with shift still held; report-ID prefixed.
        assert_eq!(d.feed(&[0x01, 0x02, 0, 0, 0, 0, 0, 0, 0]), None);
        assert_eq!(d.feed(&[0x01, 0x02, 0, 0x04, 0, 0, 0, 0, 0]), None);
        assert_eq!(d.feed(&[0x01, 0, 0, 0, 0, 0, 0, 0, 0]), None);
        // Two different keys in one report.
        assert_eq!(d.feed(&[0, 0, 0x05, 0x06, 0, 0, 0, 0]), None);
        assert_eq!(d.feed(&[0, 0, 0, 0, 0, 0, 0, 0]), None);
        assert_eq!(d.feed(&[0, 0, TAB, 0, 0, 0, 0, 0]), Some(Ok("Abc".into())));
        assert_eq!(d.feed(&[0; 5]), Some(Err(DecodeError::BadReport(5))));
    }

    #[test]
    fn unknown_keys_make_the_scan_garbage() {
        let mut d = WedgeDecoder::default();
        d.feed(&[0, 0, 0x04, 0, 0, 0, 0, 0]);
        d.feed(&[0, 0, 0x3a, 0, 0, 0, 0, 0]); // F1
        assert_eq!(
            d.feed(&[0, 0, ENTER, 0, 0, 0, 0, 0]),
            Some(Err(DecodeError::Binary))
        );
        d.feed(&[0; 8]);
        d.feed(&[0, 0, 0x04, 0, 0, 0, 0, 0]);
        assert_eq!(
            d.feed(&[0, 0, KEYPAD_ENTER, 0, 0, 0, 0, 0]),
            Some(Ok("a".into())),
            "clean again"
        );
    }

    #[test]
    fn us_table_matches_the_fixture_table() {
        assert_eq!(us_char(0x38, true), Some('?'));
        assert_eq!(us_char(0x2e, false), Some('='));
        assert_eq!(us_char(0x33, true), Some(':'));
        assert_eq!(us_char(0x2d, true), Some('_'));
        assert_eq!(us_char(0x2d, false), Some('-'));
        assert_eq!(us_char(0x04, true), Some('A'));
        assert_eq!(us_char(0x27, false), Some('0'));
    }

    #[test]
    fn duplicate_reads_within_the_window_count_once() {
        let t = Instant::now();
        let mut d = Debounce::new(Duration::from_millis(1500));
        assert!(d.accept("code-1", t));
        assert!(!d.accept("code-1", t + Duration::from_millis(400)));
        assert!(d.accept("code-2", t + Duration::from_millis(500)));
        assert!(
            d.accept("code-1", t + Duration::from_millis(600)),
            "another code came between"
        );
        assert!(d.accept("code-1", t + Duration::from_secs(3)));
    }
}
