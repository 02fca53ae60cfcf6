//! Crawl counters, shared with the progress display, and the end summary.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// A counter or gauge readable from any thread.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn set(&self, n: u64) {
        self.0.store(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Live counters of one crawl run.
#[derive(Debug, Default)]
pub struct CrawlStats {
    /// Pages fetched successfully (2xx/3xx/304, body complete).
    pub fetched: Counter,
    /// HTTP responses recorded (any status).
    pub captures: Counter,
    pub new_versions: Counter,
    /// Pages given up on: failed fetches, error statuses, cut bodies.
    pub errors: Counter,
    pub disallowed: Counter,
    pub bytes: Counter,
    pub queued: Counter,
    pub hosts_active: Counter,
    pub pass: Counter,
}

/// What a crawl run did (`crawl --json` prints it).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub pass: u64,
    pub complete: bool,
    pub resumed: bool,
    pub pages_fetched: u64,
    pub captures: u64,
    pub new_versions: u64,
    pub errors: u64,
    pub disallowed: u64,
    pub bytes: u64,
    pub elapsed_secs: f64,
    pub pages_per_sec: f64,
    pub peak_rss_bytes: Option<u64>,
    pub hosts: u64,
    pub queued: u64,
}

impl CrawlStats {
    pub fn summary(
        &self,
        elapsed: Duration,
        complete: bool,
        resumed: bool,
        hosts: u64,
        queued: u64,
    ) -> Summary {
        let secs = elapsed.as_secs_f64();
        Summary {
            pass: self.pass.get(),
            complete,
            resumed,
            pages_fetched: self.fetched.get(),
            captures: self.captures.get(),
            new_versions: self.new_versions.get(),
            errors: self.errors.get(),
            disallowed: self.disallowed.get(),
            bytes: self.bytes.get(),
            elapsed_secs: (secs * 1000.0).round() / 1000.0,
            pages_per_sec: if secs > 0.0 {
                ((self.captures.get() as f64 / secs) * 10.0).round() / 10.0
            } else {
                0.0
            },
            peak_rss_bytes: peak_rss_bytes(),
            hosts,
            queued,
        }
    }
}

/// The process's peak resident memory, where the OS tells (Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
