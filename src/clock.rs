//! Wall-clock time as the outside world reads it (journal lines, POS records, Vipps bodies).
//! The payment machine has no clock of its own: it is handed `Instant`s.

/// Now, in RFC 3339 (UTC), e.g. `2026-12-01T19:35:50.123456Z`.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
