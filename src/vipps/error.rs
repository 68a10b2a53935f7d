use super::{budget::Kind, model::Problem};
use std::time::Duration;

/// Everything that can go wrong talking to Vipps. `Clone` so it can travel in UI messages; the
/// problem+json body is kept whole for logs, decisions use only `status()` and `code()`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("Vipps answered HTTP {status}{}", problem_summary(.problem))]
    Api {
        status: u16,
        problem: Option<Box<Problem>>,
        retry_after: Option<Duration>,
    },
    #[error("the request to Vipps timed out")]
    Timeout,
    #[error("could not reach Vipps: {0}")]
    Transport(String),
    #[error("Vipps sent an answer the kiosk cannot read: {0}")]
    Decode(String),
    #[error("configuration: {0}")]
    Config(String),
    /// Not sent: the payment's budget of `kind` requests is spent for now (or Vipps answered
    /// 429 for it and its `Retry-After` has not passed).
    #[error("not sent: this payment's {kind} budget is spent for {retry_after:?}")]
    Throttled { kind: Kind, retry_after: Duration },
}

fn problem_summary(p: &Option<Box<Problem>>) -> String {
    match p {
        Some(p) => p.log_detail(),
        None => String::new(),
    }
}

impl Problem {
    /// Everything Vipps asks integrators to log of a refusal: title, code, detail, traceId,
    /// `instance` and every `extraDetails` entry (which names the bad field of a refused
    /// body). Phone numbers and links (a personal QR) in the texts are fingerprinted.
    pub fn log_detail(&self) -> String {
        let code = self.code().map(|c| format!(" [{c}]")).unwrap_or_default();
        let detail = self
            .detail
            .as_deref()
            .map(|d| format!(" {}", scrub(d)))
            .unwrap_or_default();
        let mut s = format!(
            ": {}{code}{detail} (traceId {}",
            scrub(&self.title),
            self.trace_id
        );
        if let Some(instance) = self.instance.as_deref().filter(|i| *i != self.trace_id) {
            s.push_str(&format!(", instance {}", scrub(instance)));
        }
        let extra: Vec<String> = self
            .extra_details
            .iter()
            .flatten()
            .map(|d| format!("{}={}", scrub(&d.name), scrub(&d.reason)))
            .collect();
        if !extra.is_empty() {
            s.push_str(&format!(", extraDetails {}", extra.join("; ")));
        }
        s.push(')');
        s
    }
}

/// `text` with every word that could identify a customer fingerprinted: one holding a run of
/// 8 or more digits (a phone number: Norway and Denmark have 8, with the country code 10)
/// or a link (a personal QR is one). Error codes, field names and references stay readable.
pub(crate) fn scrub(text: &str) -> String {
    let personal = |w: &str| {
        let mut run = 0;
        let mut longest = 0;
        for c in w.chars() {
            run = if c.is_ascii_digit() { run + 1 } else { 0 };
            longest = longest.max(run);
        }
        longest >= 8 || w.contains("://") || w.contains("qr.vipps.no")
    };
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if personal(word) {
            out.push_str(&crate::redact::fingerprint(word));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() || matches!(c, '\'' | '"' | ',' | ';' | '(' | ')' | '[' | ']') {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

impl Error {
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How long to wait before the next call for the payment: Vipps' `Retry-After`, or the
    /// budget's wait for a request it did not send.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
            Error::Throttled { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The numeric Vipps error code from `extraDetails`, e.g. 6060.
    pub fn code(&self) -> Option<u32> {
        match self {
            Error::Api {
                problem: Some(p), ..
            } => p.code(),
            _ => None,
        }
    }

    /// Whether sending the same request again (same Idempotency-Key) may succeed: timeouts,
    /// transport failures, 5xx, 429, the "payment is busy" answers (423, 6250, 6160), and a
    /// request the budget held back.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Timeout | Error::Transport(_) | Error::Throttled { .. } => true,
            Error::Api { status, .. } => {
                *status >= 500
                    || *status == 429
                    || *status == 423
                    || matches!(self.code(), Some(6250 | 6160 | 6280 | 3010))
            }
            Error::Decode(_) | Error::Config(_) => false,
        }
    }
}

/// When to send a request again. Pure, so it is tested without a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// `attempt` is the number of the attempt that just failed (1 = the first). `None`: stop.
    /// A `Retry-After` longer than `max_delay` is not slept through inside a call: the error
    /// goes back with it, and the caller waits. A request the budget held back is not
    /// retried here either.
    pub fn next_delay(&self, error: &Error, attempt: u32) -> Option<Duration> {
        if attempt >= self.max_attempts
            || !error.is_transient()
            || matches!(error, Error::Throttled { .. })
        {
            return None;
        }
        if let Error::Api {
            retry_after: Some(after),
            ..
        } = error
        {
            return (*after <= self.max_delay).then_some(*after);
        }
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        Some(self.base_delay.saturating_mul(factor).min(self.max_delay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vipps::model::ExtraDetail;

    fn api(status: u16, code: Option<u32>) -> Error {
        Error::Api {
            status,
            problem: code.map(|c| {
                Box::new(Problem {
                    kind: "about:blank".into(),
                    title: "t".into(),
                    detail: None,
                    status,
                    trace_id: "x".into(),
                    instance: None,
                    extra_details: Some(vec![ExtraDetail {
                        name: "ErrorCode".into(),
                        reason: c.to_string(),
                    }]),
                })
            }),
            retry_after: None,
        }
    }

    #[test]
    fn retries_transient_failures_with_growing_delay() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.next_delay(&Error::Timeout, 1),
            Some(Duration::from_millis(200))
        );
        assert_eq!(
            p.next_delay(&api(503, None), 2),
            Some(Duration::from_millis(400))
        );
        assert_eq!(
            p.next_delay(&Error::Timeout, 3),
            None,
            "attempts are bounded"
        );
    }

    #[test]
    fn never_retries_client_errors() {
        let p = RetryPolicy::default();
        assert_eq!(p.next_delay(&api(400, Some(6060)), 1), None);
        assert_eq!(p.next_delay(&api(409, None), 1), None);
        assert_eq!(p.next_delay(&Error::Decode("x".into()), 1), None);
    }

    #[test]
    fn busy_payment_and_rate_limit_are_transient() {
        assert!(api(423, None).is_transient());
        assert!(api(400, Some(6250)).is_transient());
        assert!(api(429, None).is_transient());
        let limited = Error::Api {
            status: 429,
            problem: None,
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(
            RetryPolicy::default().next_delay(&limited, 1),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn message_keeps_problem_details() {
        let msg = api(400, Some(6060)).to_string();
        assert!(msg.contains("400") && msg.contains("[6060]"), "{msg}");
    }

    #[test]
    fn a_long_retry_after_goes_back_to_the_caller_unclamped() {
        let limited = |s| Error::Api {
            status: 429,
            problem: None,
            retry_after: Some(Duration::from_secs(s)),
        };
        let p = RetryPolicy::default();
        assert_eq!(p.next_delay(&limited(5), 1), Some(Duration::from_secs(5)));
        assert_eq!(p.next_delay(&limited(90), 1), None, "not slept in the call");
        assert_eq!(limited(90).retry_after(), Some(Duration::from_secs(90)));
        let held = Error::Throttled {
            kind: Kind::Change,
            retry_after: Duration::from_secs(40),
        };
        assert!(held.is_transient());
        assert_eq!(held.retry_after(), Some(Duration::from_secs(40)));
        assert_eq!(p.next_delay(&held, 1), None, "the budget is not retried");
    }

    #[test]
    fn the_log_line_names_instance_and_every_extra_detail() {
        let err = Error::Api {
            status: 400,
            problem: Some(Box::new(Problem {
                kind:
                    "https://developer.vippsmobilepay.com/docs/APIs/epayment-api/api-guide/errors"
                        .into(),
                title: "Bad Request".into(),
                detail: Some("One or more validation errors occurred.".into()),
                status: 400,
                trace_id: "trace-77".into(),
                instance: Some("/epayment/v1/payments".into()),
                extra_details: Some(vec![
                    ExtraDetail {
                        name: "paymentDescription".into(),
                        reason: "The length must be between 3 and 100".into(),
                    },
                    ExtraDetail {
                        name: "customer.phoneNumber".into(),
                        reason: "'4712345678' is not a valid phone number".into(),
                    },
                    ExtraDetail {
                        name: "customer.personalQr".into(),
                        reason: "https://qr.vipps.no/p/AbC-123_xyz is not valid".into(),
                    },
                ]),
            })),
            retry_after: None,
        };
        let msg = err.to_string();
        for want in [
            "traceId trace-77",
            "instance /epayment/v1/payments",
            "paymentDescription=The length must be between 3 and 100",
            "customer.phoneNumber=",
            "customer.personalQr=",
            "validation errors",
        ] {
            assert!(msg.contains(want), "{want} missing: {msg}");
        }
        assert!(!msg.contains("4712345678"), "phone in clear: {msg}");
        assert!(!msg.contains("AbC-123_xyz"), "personal QR in clear: {msg}");
        assert!(
            msg.contains(&crate::redact::fingerprint("4712345678")),
            "{msg}"
        );
    }

    #[test]
    fn scrub_keeps_codes_fields_and_references() {
        assert_eq!(scrub("6060"), "6060");
        assert_eq!(
            scrub("kiosk-1-000123-1 missing"),
            "kiosk-1-000123-1 missing"
        );
        assert_eq!(
            scrub("number 4712345678."),
            format!("number {}", crate::redact::fingerprint("4712345678."))
        );
        assert!(!scrub("(+4791234567)").contains("91234567"));
    }
}
