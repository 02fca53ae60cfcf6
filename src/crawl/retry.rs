//! The retry policy: which failed fetches are tried again within the pass,
//! and after how long. Transient network errors, 429 and 5xx are retried
//! with jittered exponential back-off, never sooner than a `Retry-After`
//! asks; a server asking for a pause longer than a crawl waits is left
//! alone until the next run.

use std::time::Duration;

use crate::politeness::backoff;

/// Base of the retry back-off.
const RETRY_BASE: Duration = Duration::from_secs(1);
/// The back-off never waits longer than this.
const RETRY_CAP: Duration = Duration::from_secs(300);

/// What to do about a page after a fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Keep the result: it is final for this pass.
    Keep,
    /// Fetch again after this long.
    RetryIn(Duration),
    /// The server asked for a pause longer than a crawl waits: keep the
    /// response as an error and leave the page until the next run.
    PausedTooLong(Duration),
}

/// Retries per page and pass, and the pause a crawl is willing to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub max_pause: Duration,
}

impl RetryPolicy {
    pub fn new(max_retries: u32) -> Self {
        Self {
            max_retries,
            max_pause: crate::fetch::MAX_RETRY_AFTER,
        }
    }

    /// After a fetch that got no response; `attempts` retries were made.
    pub fn after_error(&self, attempts: u32, transient: bool) -> Verdict {
        if transient && attempts < self.max_retries {
            Verdict::RetryIn(backoff(attempts, RETRY_BASE, RETRY_CAP))
        } else {
            Verdict::Keep
        }
    }

    /// After a response with `status`, which may ask for `retry_after`.
    pub fn after_response(
        &self,
        attempts: u32,
        status: u16,
        retry_after: Option<Duration>,
    ) -> Verdict {
        if let Some(pause) = retry_after.filter(|p| *p > self.max_pause) {
            return Verdict::PausedTooLong(pause);
        }
        let retryable = status == 429 || status >= 500;
        if retryable && attempts < self.max_retries {
            let wait = backoff(attempts, RETRY_BASE, RETRY_CAP);
            Verdict::RetryIn(wait.max(retry_after.unwrap_or_default()))
        } else {
            Verdict::Keep
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_retries: 2,
        max_pause: Duration::from_secs(60),
    };

    fn wait(v: Verdict) -> Duration {
        match v {
            Verdict::RetryIn(d) => d,
            other => panic!("expected a retry, got {other:?}"),
        }
    }

    #[test]
    fn server_errors_and_429_are_retried_with_growing_back_off_until_the_limit() {
        for status in [429, 500, 503] {
            let first = wait(POLICY.after_response(0, status, None));
            assert!(first >= RETRY_BASE / 2 && first <= RETRY_BASE, "{first:?}");
            let second = wait(POLICY.after_response(1, status, None));
            assert!(
                second >= RETRY_BASE && second <= 2 * RETRY_BASE,
                "{second:?}"
            );
            assert_eq!(POLICY.after_response(2, status, None), Verdict::Keep);
        }
    }

    #[test]
    fn other_statuses_are_kept_at_once() {
        for status in [200, 304, 404, 410] {
            assert_eq!(POLICY.after_response(0, status, None), Verdict::Keep);
        }
    }

    #[test]
    fn a_retry_after_is_waited_for_but_one_past_the_limit_is_not() {
        let asked = Duration::from_secs(30);
        assert_eq!(wait(POLICY.after_response(0, 503, Some(asked))), asked);
        let long = Duration::from_secs(3600);
        assert_eq!(
            POLICY.after_response(0, 503, Some(long)),
            Verdict::PausedTooLong(long)
        );
        // Even a success that asks for a long pause leaves the host alone.
        assert_eq!(
            POLICY.after_response(0, 200, Some(long)),
            Verdict::PausedTooLong(long)
        );
    }

    #[test]
    fn only_transient_errors_are_retried() {
        assert!(matches!(POLICY.after_error(0, true), Verdict::RetryIn(_)));
        assert_eq!(POLICY.after_error(0, false), Verdict::Keep);
        assert_eq!(POLICY.after_error(2, true), Verdict::Keep);
    }

    #[test]
    fn the_back_off_is_capped() {
        let policy = RetryPolicy::new(40);
        assert!(wait(policy.after_response(30, 500, None)) <= RETRY_CAP);
    }
}
