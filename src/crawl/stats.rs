//! Crawl counters, shared with the progress display, and the end summary,
//! which groups the pages given up on by why (so a pass in which every
//! request was refused says so, and how to allow it).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::archive::Truncation;
use crate::fetch::{FetchError, Forbidden};
use crate::frontier::Refused;
use crate::politeness::{CappedDelay, CappedDelays};

/// A counter or gauge readable from any thread.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn inc(&self) {
        self.add(1);
    }
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn set(&self, n: u64) {
        self.0.store(n, Ordering::Relaxed);
    }
    pub(crate) fn get(&self) -> u64 {
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
    /// Versions created.
    pub new_versions: Counter,
    /// Pages given up on: failed fetches, error statuses, cut bodies.
    pub errors: Counter,
    /// Pages robots.txt disallowed.
    pub disallowed: Counter,
    /// Payload bytes received (after transfer decoding).
    pub bytes: Counter,
    /// Frontier entries waiting, as last counted.
    pub queued: Counter,
    /// Hosts with a worker fetching now.
    pub hosts_active: Counter,
    /// Number of the crawl pass under way.
    pub pass: Counter,
    /// `errors`, by cause, in the order first seen.
    causes: Mutex<Vec<(ErrorCause, u64)>>,
    /// URLs kept out of the frontier by `--max-queue-per-host`, and
    /// sitemaps and feeds by `--max-listings-per-host`.
    bounded: Mutex<(Refused, Refused)>,
    /// Hosts whose `Crawl-delay` was cut to `--max-crawl-delay`: the first
    /// few, and how many in all.
    capped: Mutex<(Vec<CappedDelay>, u64)>,
}

/// Hosts named one by one among the errors of a run's special-use names
/// without `--resolve`; more are counted together.
const NAMED_UNRESOLVED_HOSTS: usize = 5;

/// Why a page was given up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCause {
    /// The address guard refused the resolved address.
    Refused(Forbidden),
    /// A special-use name (`.test`…) had no `--resolve` pin: this host
    /// (`None`: one of the hosts past the first few named).
    NotLookedUp(Option<String>),
    /// No response within `--timeout`.
    Timeout,
    /// The connection could not be made.
    Connect,
    /// The request failed otherwise (the exchange broke off).
    Transport,
    /// A redirect loop, too many redirects, or an unusable `Location`.
    Redirect,
    /// The host asked for a pause longer than a crawl waits.
    Paused,
    /// An error status (4xx, or 5xx after the retries).
    Status(u16),
    /// The body reached `--max-body`.
    BodyCut,
    /// The body did not arrive within `--timeout`.
    BodyTooSlow,
    /// The page was captured, but parsing it failed or ran out of time.
    Extraction,
    /// A fault of ours while fetching (a parser that panicked).
    Internal,
    /// The host's robots.txt could not be read (no answer, 5xx, cut by the
    /// deadline, unparsable), so its pages were not fetched.
    RobotsUnreadable,
}

impl ErrorCause {
    pub(crate) fn of_fetch(e: &FetchError) -> Self {
        match e {
            FetchError::AddressRefused(r) => ErrorCause::Refused(r.class),
            FetchError::NotLookedUp(n) => ErrorCause::NotLookedUp(Some(n.host.clone())),
            FetchError::Timeout(_) => ErrorCause::Timeout,
            FetchError::Connect(_) => ErrorCause::Connect,
            FetchError::Transport(_) => ErrorCause::Transport,
            FetchError::TooManyRedirects
            | FetchError::RedirectLoop(_)
            | FetchError::BadRedirect(_) => ErrorCause::Redirect,
            FetchError::HostPaused(_) => ErrorCause::Paused,
            FetchError::Internal(_) => ErrorCause::Internal,
        }
    }

    /// The cause of a response that was recorded but failed its page.
    pub(crate) fn of_response(
        status: u16,
        truncated: Option<Truncation>,
        paused: bool,
        extraction_failed: bool,
    ) -> Self {
        match truncated {
            Some(Truncation::Length) => ErrorCause::BodyCut,
            Some(Truncation::Time) => ErrorCause::BodyTooSlow,
            None if paused => ErrorCause::Paused,
            None if extraction_failed => ErrorCause::Extraction,
            None => ErrorCause::Status(status),
        }
    }

    /// A stable name for JSON: `refused_loopback`, `timeout`, `http_404`…
    pub(crate) fn key(&self) -> String {
        match self {
            ErrorCause::Refused(class) => {
                format!("refused_{}", class.to_string().replace([' ', '-'], "_"))
            }
            ErrorCause::NotLookedUp(_) => "no_resolve".into(),
            ErrorCause::Timeout => "timeout".into(),
            ErrorCause::Connect => "connect".into(),
            ErrorCause::Transport => "transport".into(),
            ErrorCause::Redirect => "redirect".into(),
            ErrorCause::Paused => "paused".into(),
            ErrorCause::Status(code) => format!("http_{code}"),
            ErrorCause::BodyCut => "body_cut".into(),
            ErrorCause::BodyTooSlow => "body_too_slow".into(),
            ErrorCause::Extraction => "extraction".into(),
            ErrorCause::Internal => "internal".into(),
            ErrorCause::RobotsUnreadable => "robots_unreadable".into(),
        }
    }

    /// `n` errors of this cause, said for a person.
    pub(crate) fn describe(&self, n: u64) -> String {
        match self {
            ErrorCause::Refused(class) => format!(
                "{} refused: {class} address; pass --allow-private",
                counted(n, "request", "requests")
            ),
            ErrorCause::NotLookedUp(Some(host)) => format!(
                "{} not fetched: {host} has no --resolve, and names under .{} are never looked up; add --resolve {host}:PORT:ADDR",
                counted(n, "page", "pages"),
                crate::fetch::special_use_suffix(host).unwrap_or("test"),
            ),
            ErrorCause::NotLookedUp(None) => format!(
                "{} not fetched on more hosts without their own --resolve (.test, .example and .invalid names are never looked up)",
                counted(n, "page", "pages"),
            ),
            ErrorCause::Timeout => {
                format!(
                    "{} timed out (--timeout)",
                    counted(n, "request", "requests")
                )
            }
            ErrorCause::Connect => format!("{} failed", counted(n, "connection", "connections")),
            ErrorCause::Transport => {
                format!("{} failed in transit", counted(n, "request", "requests"))
            }
            ErrorCause::Redirect => format!(
                "{} (a loop, too many, or an unusable Location)",
                counted(n, "bad redirect", "bad redirects")
            ),
            ErrorCause::Paused => format!(
                "{} skipped: the host asked for a long pause (Retry-After)",
                counted(n, "page", "pages")
            ),
            ErrorCause::Status(code) => {
                let reason = reqwest::StatusCode::from_u16(*code)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default();
                format!(
                    "{} HTTP {code}{reason}",
                    counted(n, "page answered", "pages answered")
                )
            }
            ErrorCause::BodyCut => {
                format!("{} at --max-body", counted(n, "body cut", "bodies cut"))
            }
            ErrorCause::BodyTooSlow => format!(
                "{} within --timeout",
                counted(n, "body not received", "bodies not received")
            ),
            ErrorCause::Extraction => format!(
                "{} kept without an article: parsing failed or ran out of time",
                counted(n, "capture", "captures")
            ),
            ErrorCause::Internal => format!(
                "{} failed on an internal error (see each page's error)",
                counted(n, "page", "pages")
            ),
            ErrorCause::RobotsUnreadable => format!(
                "{} not fetched: the host's robots.txt could not be read (unreachable, HTTP 5xx or unparsable; on loopback every host needs its own --resolve)",
                counted(n, "page", "pages")
            ),
        }
    }
}

impl Serialize for ErrorCause {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

/// The errors of one cause in a run.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorGroup {
    /// The cause (serialized as its key, e.g. `timeout`, `http_404`).
    pub cause: ErrorCause,
    /// Pages given up on for this cause.
    pub count: u64,
    /// The cause said for a person, count included.
    pub text: String,
}

/// `n` and the noun, singular for exactly one: `1 page`, `2 pages`.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How a crawl found its pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassStart {
    /// It started a new pass.
    New,
    /// It went on with a pass an earlier run left unfinished.
    Resumed,
    /// It joined a pass other crawling processes sharing the archive were
    /// crawling.
    Joined,
}

/// What a crawl run did (`crawl --json` prints it).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Number of the crawl pass this run worked on.
    pub pass: u64,
    /// The pass ended (its frontier ran empty), rather than being stopped.
    pub complete: bool,
    /// The run continued an unfinished pass.
    pub resumed: bool,
    /// The pass was under way in other crawling processes sharing the
    /// archive, which this one joined (a resumed pass too).
    pub joined: bool,
    /// Pages fetched successfully (2xx/3xx/304, body complete).
    pub pages_fetched: u64,
    /// HTTP responses recorded (any status).
    pub captures: u64,
    /// Versions created.
    pub new_versions: u64,
    /// Pages given up on.
    pub errors: u64,
    /// `errors` by cause, most frequent first.
    pub errors_by_cause: Vec<ErrorGroup>,
    /// Pages robots.txt disallowed.
    pub disallowed: u64,
    /// Payload bytes received (after transfer decoding).
    pub bytes: u64,
    /// Wall time of the run, in seconds (to the millisecond).
    pub elapsed_secs: f64,
    /// Captures per second of wall time (to one decimal).
    pub pages_per_sec: f64,
    /// The process's peak resident memory in bytes; `None` where the OS
    /// does not tell (outside Linux).
    pub peak_rss_bytes: Option<u64>,
    /// Hosts contacted.
    pub hosts: u64,
    /// Frontier entries left at the end (due later, or not reached).
    pub queued: u64,
    /// URLs not queued: their host's frontier held `--max-queue-per-host`
    /// URLs awaiting a first fetch.
    pub not_queued: u64,
    /// The first hosts whose URLs were not queued.
    pub not_queued_hosts: Vec<String>,
    /// Sitemaps and feeds not queued: their host had `--max-listings-per-host`
    /// of them in this pass.
    pub listings_not_queued: u64,
    /// The first hosts whose sitemaps or feeds were not queued.
    pub listings_not_queued_hosts: Vec<String>,
    /// The first hosts whose `Crawl-delay` was cut to `--max-crawl-delay`.
    pub crawl_delays_capped: Vec<CappedDelay>,
    /// How many hosts' `Crawl-delay` was cut.
    pub crawl_delays_capped_hosts: u64,
}

impl Summary {
    /// The bounds the run met, one line each, said for a person.
    pub fn bound_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.not_queued > 0 {
            lines.push(format!(
                "{} not queued: the host's queue was full (--max-queue-per-host): {}",
                counted(self.not_queued, "URL", "URLs"),
                self.not_queued_hosts.join(", ")
            ));
        }
        if self.listings_not_queued > 0 {
            lines.push(format!(
                "{} not queued: the host's sitemaps and feeds for this pass were used (--max-listings-per-host): {}",
                counted(self.listings_not_queued, "sitemap or feed", "sitemaps and feeds"),
                self.listings_not_queued_hosts.join(", ")
            ));
        }
        for c in &self.crawl_delays_capped {
            lines.push(format!(
                "crawl-delay of host {} capped from {}s to {}s (--max-crawl-delay)",
                c.host, c.asked_secs, c.applied_secs
            ));
        }
        let unnamed = self.crawl_delays_capped_hosts - self.crawl_delays_capped.len() as u64;
        if unnamed > 0 {
            lines.push(format!(
                "crawl-delay of {} more capped",
                counted(unnamed, "host", "hosts")
            ));
        }
        lines
    }
}

impl CrawlStats {
    /// Counts a page given up on.
    pub(crate) fn error(&self, cause: ErrorCause) {
        self.errors.inc();
        let mut causes = self.causes.lock().unwrap_or_else(|p| p.into_inner());
        let cause = fold_unnamed(&causes, cause);
        match causes.iter_mut().find(|(c, _)| *c == cause) {
            Some((_, n)) => *n += 1,
            None => causes.push((cause, 1)),
        }
    }

    /// Counts URLs a frontier bound kept out: by the queue bound, and by
    /// the listing bound.
    pub(crate) fn refused(&self, queue_full: Refused, listings: Refused) {
        let mut guard = self.bounded.lock().unwrap_or_else(|p| p.into_inner());
        let bounded = &mut *guard;
        for (into, from) in [(&mut bounded.0, queue_full), (&mut bounded.1, listings)] {
            into.urls += from.urls;
            for host in from.hosts {
                if into.hosts.len() < 3 && !into.hosts.contains(&host) {
                    into.hosts.push(host);
                }
            }
        }
    }

    /// Takes in the hosts whose `Crawl-delay` was cut (at the end of a run).
    pub(crate) fn capped_delays(&self, capped: &CappedDelays) {
        *self.capped.lock().unwrap_or_else(|p| p.into_inner()) =
            (capped.named().to_vec(), capped.count());
    }

    fn error_groups(&self) -> Vec<ErrorGroup> {
        let mut groups: Vec<ErrorGroup> = self
            .causes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(cause, count)| ErrorGroup {
                cause: cause.clone(),
                count: *count,
                text: cause.describe(*count),
            })
            .collect();
        // Stable: equal counts keep the order first seen.
        groups.sort_by_key(|g| std::cmp::Reverse(g.count));
        groups
    }

    pub(crate) fn summary(
        &self,
        elapsed: Duration,
        complete: bool,
        start: PassStart,
        hosts: u64,
        queued: u64,
    ) -> Summary {
        let secs = elapsed.as_secs_f64();
        let (queue_full, listings) = self
            .bounded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let (capped, capped_hosts) = self
            .capped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Summary {
            pass: self.pass.get(),
            complete,
            resumed: start != PassStart::New,
            joined: start == PassStart::Joined,
            pages_fetched: self.fetched.get(),
            captures: self.captures.get(),
            new_versions: self.new_versions.get(),
            errors: self.errors.get(),
            errors_by_cause: self.error_groups(),
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
            not_queued: queue_full.urls,
            not_queued_hosts: queue_full.hosts,
            listings_not_queued: listings.urls,
            listings_not_queued_hosts: listings.hosts,
            crawl_delays_capped: capped,
            crawl_delays_capped_hosts: capped_hosts,
        }
    }
}

/// `cause`, or, for one more host without `--resolve` past those named,
/// the group of the others: one summary line a host, a few hosts at most.
fn fold_unnamed(causes: &[(ErrorCause, u64)], cause: ErrorCause) -> ErrorCause {
    if !matches!(cause, ErrorCause::NotLookedUp(Some(_))) || causes.iter().any(|(c, _)| *c == cause)
    {
        return cause;
    }
    let named = causes
        .iter()
        .filter(|(c, _)| matches!(c, ErrorCause::NotLookedUp(Some(_))))
        .count();
    if named < NAMED_UNRESOLVED_HOSTS {
        cause
    } else {
        ErrorCause::NotLookedUp(None)
    }
}

/// The process's peak resident memory, where the OS tells (Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
