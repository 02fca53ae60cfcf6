//! The crawler's clock: the one source of the times written into the
//! archive (fetch times, due times, pauses asked by servers, robots.txt
//! ages) and of the waits for them.
//!
//! [`Clock::System`] is real time, and what every user runs. The other
//! clock is a test seam, not a user option: the binary reads it from the
//! `PALIMPSEST_CLOCK` environment variable ([`Clock::from_spec`]), a
//! comma-separated list of
//!
//! - `offset=+3600s` (or `-2h`, any humantime span): now is real now shifted;
//! - `scale=10` (1 to 10 000): from `from` (default: when the process
//!   started) clock time runs ten times faster than real time, and a wait
//!   of N clock seconds sleeps N/10 real seconds;
//! - `from=2026-01-01T00:00:00Z`: the real moment at which a scaled clock
//!   still reads real time, so that processes started one after the other
//!   share one clock.
//!
//! So tests let hours pass between two crawls, or run a revisit schedule in
//! a fraction of its time, without sleeping. What protects servers (the
//! per-host rate limit, Crawl-delay, request spacing) and what bounds our
//! own work (timeouts, budgets, the progress line) stays in real time.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// The environment variable the binary reads its clock from.
pub const CLOCK_VAR: &str = "PALIMPSEST_CLOCK";

/// A scaled clock runs at most this many times faster than real time (and
/// never slower: a wait is never longer than the span it stands for).
const MAX_SCALE: f64 = 10_000.0;

/// Where times come from. Cheap to copy.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Clock {
    /// Real time.
    #[default]
    System,
    /// A test clock: real time shifted, and possibly running faster.
    Test(TestClock),
}

/// A shifted and scaled clock: at real time `t` it reads
/// `from + offset + (t - from) × scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestClock {
    offset: TimeDelta,
    scale: f64,
    from: DateTime<Utc>,
}

/// Why a clock specification was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{CLOCK_VAR}={spec:?}: {reason}")]
pub struct ClockError {
    spec: String,
    reason: String,
}

impl Clock {
    /// The clock named by `PALIMPSEST_CLOCK`'s value (see the module
    /// documentation); an empty value is the system clock.
    pub fn from_spec(spec: &str) -> Result<Self, ClockError> {
        let fail = |reason: String| ClockError {
            spec: spec.to_string(),
            reason,
        };
        if spec.trim().is_empty() {
            return Ok(Clock::System);
        }
        let mut clock = TestClock {
            offset: TimeDelta::zero(),
            scale: 1.0,
            from: Utc::now(),
        };
        for item in spec.split(',').map(str::trim) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| fail(format!("{item:?} is not KEY=VALUE")))?;
            match key.trim() {
                "offset" => clock.offset = parse_offset(value.trim()).map_err(fail)?,
                "scale" => clock.scale = parse_scale(value.trim()).map_err(fail)?,
                "from" => {
                    clock.from = DateTime::parse_from_rfc3339(value.trim())
                        .map_err(|e| fail(format!("from: {e} (expected RFC 3339)")))?
                        .to_utc();
                }
                other => {
                    return Err(fail(format!(
                        "unknown key {other:?} (expected offset, scale or from)"
                    )));
                }
            }
        }
        Ok(Clock::Test(clock))
    }

    /// What time it is.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Test(c) => c.at(Utc::now()),
        }
    }

    /// How long to really wait for `span` of clock time to pass.
    pub fn real(&self, span: Duration) -> Duration {
        match self {
            Clock::System => span,
            Clock::Test(c) => span.div_f64(c.scale),
        }
    }

    /// How much clock time passes while `real` time does.
    pub fn span(&self, real: Duration) -> Duration {
        match self {
            Clock::System => real,
            Clock::Test(c) => {
                Duration::try_from_secs_f64(real.as_secs_f64() * c.scale).unwrap_or(Duration::MAX)
            }
        }
    }
}

impl TestClock {
    fn at(&self, real: DateTime<Utc>) -> DateTime<Utc> {
        let run = (real - self.from).num_microseconds().unwrap_or(0) as f64 * self.scale;
        let run = TimeDelta::microseconds(run as i64);
        self.from
            .checked_add_signed(self.offset + run)
            .unwrap_or(real)
    }
}

/// `+3600s`, `-2h`, `90m`: a signed humantime span of at most a century.
fn parse_offset(value: &str) -> Result<TimeDelta, String> {
    let (sign, span) = match value.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, value.strip_prefix('+').unwrap_or(value)),
    };
    let span = humantime::parse_duration(span)
        .map_err(|e| format!("offset {value:?}: {e} (expected e.g. +3600s or -2h)"))?;
    if span > Duration::from_secs(100 * 365 * 86_400) {
        return Err(format!("offset {value:?} is more than a century"));
    }
    let span = TimeDelta::from_std(span).map_err(|e| format!("offset {value:?}: {e}"))?;
    Ok(span * sign)
}

fn parse_scale(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(s) if (1.0..=MAX_SCALE).contains(&s) => Ok(s),
        _ => Err(format!(
            "scale {value:?} must be a number from 1 to {MAX_SCALE}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_clock_is_real_time_shifted() {
        let clock = Clock::from_spec("offset=+3600s").unwrap();
        let ahead = clock.now() - Utc::now();
        assert!((ahead - TimeDelta::hours(1)).num_seconds().abs() <= 1);
        assert_eq!(clock.real(Duration::from_secs(5)), Duration::from_secs(5));
        let behind = Clock::from_spec("offset=-2h").unwrap().now() - Utc::now();
        assert!((behind + TimeDelta::hours(2)).num_seconds().abs() <= 1);
    }

    #[test]
    fn a_scaled_clock_runs_faster_from_its_start() {
        let from = Utc::now() - TimeDelta::seconds(10);
        let spec = format!("scale=10,from={}", from.to_rfc3339());
        let clock = Clock::from_spec(&spec).unwrap();
        let ran = clock.now() - from;
        assert!((ran - TimeDelta::seconds(100)).num_seconds().abs() <= 2);
        assert_eq!(clock.real(Duration::from_secs(10)), Duration::from_secs(1));
        assert_eq!(clock.span(Duration::from_secs(1)), Duration::from_secs(10));
    }

    #[test]
    fn bad_specifications_say_what_is_wrong() {
        for (spec, says) in [
            ("scale=0", "from 1"),
            ("scale=0.5", "from 1"),
            ("scale=NaN", "from 1"),
            ("scale=1e9", "from 1"),
            ("offset=soon", "offset"),
            ("offset=+1000000d", "century"),
            ("speed=2", "unknown key"),
            ("scale", "KEY=VALUE"),
            ("from=yesterday", "RFC 3339"),
        ] {
            let e = Clock::from_spec(spec).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains(CLOCK_VAR), "{spec}: {e}");
        }
        assert_eq!(Clock::from_spec(" ").unwrap(), Clock::System);
    }
}
