use super::model::Problem;
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
}

fn problem_summary(p: &Option<Box<Problem>>) -> String {
    match p {
        Some(p) => {
            let code = p.code().map(|c| format!(" [{c}]")).unwrap_or_default();
            let detail = p.detail.as_deref().unwrap_or("");
            format!(": {}{code} {detail} (traceId {})", p.title, p.trace_id)
        }
        None => String::new(),
    }
}

impl Error {
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How long Vipps asked to wait (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
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
    /// transport failures, 5xx, 429, and the "payment is busy" answers (423, 6250, 6160).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Timeout | Error::Transport(_) => true,
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
    pub fn next_delay(&self, error: &Error, attempt: u32) -> Option<Duration> {
        if attempt >= self.max_attempts || !error.is_transient() {
            return None;
        }
        if let Error::Api {
            retry_after: Some(after),
            ..
        } = error
        {
            return Some((*after).min(self.max_delay));
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
}
