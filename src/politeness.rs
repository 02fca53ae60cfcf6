//! Politeness: the host pool. Each host (authority) has its own robots.txt
//! rules, its own rate limiter (slowed by its `Crawl-delay`), and its own
//! back-off state, so one slow or unhappy host never slows the others.
//! Pauses a server asks for are spans of the crawl's clock; the rate limit
//! and request spacing protect servers, so they stay in real time.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use robotstxt::{DefaultMatcher, RobotsParseHandler};
use tokio::time::Instant;

use crate::archive::RobotsRecord;
use crate::canonical::CanonicalUrl;
use crate::clock::Clock;

/// robots.txt bodies beyond this are cut: the matcher re-parses on every
/// check, and Google's limit is 500 KiB.
pub const MAX_ROBOTS_BYTES: usize = 500 * 1024;

/// The longest a request waits for its host's `Retry-After`; a host that
/// asks for longer is skipped for the rest of the run.
pub const MAX_WAIT: Duration = Duration::from_secs(120);

/// How long a robots.txt answer is trusted.
const ROBOTS_TTL: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// A host whose robots.txt could not be read is asked again sooner.
const ROBOTS_ERROR_TTL: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// What robots.txt says about a host (RFC 9309).
#[derive(Debug, Clone)]
pub struct Robots {
    policy: Policy,
    crawl_delay: Option<Duration>,
    sitemaps: Vec<String>,
    fetched_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
enum Policy {
    AllowAll,
    DisallowAll {
        reason: String,
    },
    /// The rules that apply to us, rewritten as one group (see
    /// [`ApplicableRules`]), so each check parses only those.
    Rules(String),
    /// The parser failed on this file: nothing is fetched from the host
    /// until the file is read again, a day later.
    Unparsable,
}

/// Why robots.txt keeps a page from being fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Its rules disallow the page.
    Rules,
    /// It could not be read (no answer, 5xx, cut by the deadline): the
    /// host is treated as disallowed for now.
    Unavailable(String),
    /// The parser failed on it: the host is treated as disallowed.
    Unparsable,
}

impl Refusal {
    /// The page was kept off by the host's rules, not by a failure to read them.
    pub fn is_rules(&self) -> bool {
        *self == Refusal::Rules
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Rules => f.write_str("disallowed by robots.txt"),
            Refusal::Unavailable(reason) => write!(f, "{reason}: host treated as disallowed"),
            Refusal::Unparsable => {
                f.write_str("robots.txt could not be parsed: host treated as disallowed")
            }
        }
    }
}

/// Lines longer than this are cut (at a character boundary) before parsing.
/// The parser ignores what lies past about 16 KiB of a line anyway, but it
/// counts characters where it means bytes and panics on a long line of
/// multi-byte characters; a cut line of fewer bytes never reaches that code.
const MAX_ROBOTS_LINE: usize = 16_000;

/// `body` with every line cut to [`MAX_ROBOTS_LINE`] bytes.
fn cut_long_lines(body: &str) -> std::borrow::Cow<'_, str> {
    if body.split(['\n', '\r']).all(|l| l.len() <= MAX_ROBOTS_LINE) {
        return std::borrow::Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len().min(MAX_ROBOTS_BYTES));
    for line in body.split_inclusive('\n') {
        let (text, end) = match line.strip_suffix('\n') {
            Some(t) => (t, "\n"),
            None => (line, ""),
        };
        for part in text.split_inclusive('\r') {
            let (line, cr) = match part.strip_suffix('\r') {
                Some(l) => (l, "\r"),
                None => (part, ""),
            };
            out.push_str(cut_at_boundary(line, MAX_ROBOTS_LINE));
            out.push_str(cr);
        }
        out.push_str(end);
    }
    std::borrow::Cow::Owned(out)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a
/// character boundary.
fn cut_at_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Runs the robots.txt parser, turning a panic inside it into `None`.
fn parse_guarded<H: RobotsParseHandler>(body: &str, mut handler: H) -> Option<H> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        robotstxt::parse_robotstxt(body, &mut handler);
        handler
    }))
    .ok()
}

impl Robots {
    /// Interprets a robots.txt fetch: 2xx is parsed, 4xx means no rules,
    /// 5xx or no answer means "disallow everything for now" (RFC 9309 §2.3.1).
    pub fn from_record(record: &RobotsRecord, product_token: &str) -> Self {
        let mut crawl_delay = None;
        let mut sitemaps = Vec::new();
        let policy = match record.status {
            Some(s) if (200..300).contains(&s) => {
                let body = cut_long_lines(&record.body);
                match parse_guarded(&body, DirectiveCollector::new(product_token)) {
                    Some(mut h) => {
                        crawl_delay = h.crawl_delay();
                        sitemaps = std::mem::take(&mut h.sitemaps);
                        Policy::Rules(h.into_rules())
                    }
                    None => Policy::Unparsable,
                }
            }
            Some(s) if (400..500).contains(&s) => Policy::AllowAll,
            Some(s) => Policy::DisallowAll {
                reason: format!("robots.txt answered HTTP {s}"),
            },
            None => Policy::DisallowAll {
                reason: "robots.txt unreachable".into(),
            },
        };
        Self {
            policy,
            crawl_delay,
            sitemaps,
            fetched_at: record.fetched_at,
        }
    }

    /// Whether this answer is "robots.txt could not be read" (5xx or no
    /// answer): good for a while within a run, never across runs.
    pub fn is_unavailable(&self) -> bool {
        matches!(self.policy, Policy::DisallowAll { .. })
    }

    /// Whether the cached answer is still fresh.
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        let ttl = match self.policy {
            Policy::DisallowAll { .. } => ROBOTS_ERROR_TTL,
            _ => ROBOTS_TTL,
        };
        now - self.fetched_at < ttl
    }

    /// `Ok(())` if `url` may be fetched, else why not.
    pub fn check(&self, url: &CanonicalUrl, product_token: &str) -> Result<(), Refusal> {
        if url.as_url().path() == "/robots.txt" {
            return Ok(());
        }
        match &self.policy {
            Policy::AllowAll => Ok(()),
            Policy::DisallowAll { reason } => Err(Refusal::Unavailable(reason.clone())),
            Policy::Unparsable => Err(Refusal::Unparsable),
            Policy::Rules(body) => {
                let allowed = std::panic::catch_unwind(|| {
                    DefaultMatcher::default().one_agent_allowed_by_robots(
                        body,
                        product_token,
                        url.as_str(),
                    )
                });
                match allowed {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(Refusal::Rules),
                    Err(_) => Err(Refusal::Unparsable),
                }
            }
        }
    }

    /// The `Crawl-delay` of the group that applies to us, if any.
    pub fn crawl_delay(&self) -> Option<Duration> {
        self.crawl_delay
    }

    /// The `Sitemap:` URLs the file names.
    pub fn sitemaps(&self) -> &[String] {
        &self.sitemaps
    }
}

/// What one parse of robots.txt keeps: the `Allow`/`Disallow` rules that
/// apply to us, `Crawl-delay` and `Sitemap:` lines (which the matcher
/// ignores). Groups are told apart as the matcher does: a rule or another
/// directive ends a group's `User-agent` lines, and a group naming our
/// product token replaces `*` entirely, Crawl-delay included.
struct DirectiveCollector {
    token: String,
    seen_separator: bool,
    in_ours: bool,
    in_star: bool,
    ever_ours: bool,
    ours: ApplicableRules,
    star: ApplicableRules,
    sitemaps: Vec<String>,
}

/// The rules and Crawl-delay of one kind of group (ours, or `*`).
#[derive(Default)]
struct ApplicableRules {
    /// `allow: …` / `disallow: …` lines, in order.
    lines: String,
    crawl_delay: Option<Duration>,
}

impl DirectiveCollector {
    fn new(token: &str) -> Self {
        Self {
            token: token.to_string(),
            seen_separator: false,
            in_ours: false,
            in_star: false,
            ever_ours: false,
            ours: ApplicableRules::default(),
            star: ApplicableRules::default(),
            sitemaps: Vec::new(),
        }
    }

    fn applicable(&self) -> &ApplicableRules {
        if self.ever_ours {
            &self.ours
        } else {
            &self.star
        }
    }

    fn crawl_delay(&self) -> Option<Duration> {
        self.applicable().crawl_delay
    }

    /// The applicable rules as a robots.txt of one `*` group: it answers
    /// every check as the whole file does, and the matcher, which parses
    /// its input on every check, reads only these lines.
    fn into_rules(self) -> String {
        format!("user-agent: *\n{}", self.applicable().lines)
    }

    /// The group a rule line belongs to, if any.
    fn current(&mut self) -> Option<&mut ApplicableRules> {
        self.seen_separator = true;
        if self.in_ours {
            Some(&mut self.ours)
        } else if self.in_star {
            Some(&mut self.star)
        } else {
            None
        }
    }

    fn rule(&mut self, directive: &str, value: &str) {
        if let Some(group) = self.current() {
            group.lines.push_str(directive);
            group.lines.push_str(": ");
            group.lines.push_str(value.trim());
            group.lines.push('\n');
        }
    }
}

impl RobotsParseHandler for DirectiveCollector {
    fn handle_robots_start(&mut self) {}
    fn handle_robots_end(&mut self) {}

    fn handle_user_agent(&mut self, _line: u32, value: &str) {
        if self.seen_separator {
            self.in_ours = false;
            self.in_star = false;
            self.seen_separator = false;
        }
        // As the matcher reads agents: `*` (maybe followed by words), or
        // the leading run of letters, `-` and `_`.
        if value.starts_with('*') && value[1..].chars().next().is_none_or(char::is_whitespace) {
            self.in_star = true;
        } else {
            let end = value
                .find(|c: char| !(c.is_ascii_alphabetic() || c == '-' || c == '_'))
                .unwrap_or(value.len());
            if value[..end].eq_ignore_ascii_case(&self.token) {
                self.in_ours = true;
                self.ever_ours = true;
            }
        }
    }

    fn handle_allow(&mut self, _line: u32, value: &str) {
        self.rule("allow", value);
    }

    fn handle_disallow(&mut self, _line: u32, value: &str) {
        self.rule("disallow", value);
    }

    fn handle_sitemap(&mut self, _line: u32, value: &str) {
        self.seen_separator = true;
        let v = value.trim();
        if !v.is_empty() {
            self.sitemaps.push(v.to_string());
        }
    }

    fn handle_unknown_action(&mut self, _line: u32, action: &str, value: &str) {
        let is_delay = action.eq_ignore_ascii_case("crawl-delay");
        let Some(group) = self.current() else {
            return;
        };
        if is_delay
            && let Ok(secs) = value.trim().parse::<f64>()
            && secs.is_finite()
            && secs >= 0.0
        {
            // A crawl-delay of hours would stall the crawl; a day is the cap.
            group.crawl_delay = Some(Duration::from_secs_f64(secs.min(86_400.0)));
        }
    }
}

/// A `Crawl-delay` longer than the crawl honours, and what was applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CappedDelay {
    /// The host and port whose robots.txt asked for it.
    pub host: String,
    /// Seconds asked for.
    pub asked_secs: f64,
    /// Seconds applied (`--max-crawl-delay`).
    pub applied_secs: u64,
}

/// Hosts named at most in [`CappedDelays`]; the rest are only counted.
const CAPPED_NAMED: usize = 10;

/// The hosts whose `Crawl-delay` was cut, each once: the first few by name,
/// all of them counted, in bounded memory however many hosts a watch meets.
#[derive(Debug, Default)]
pub struct CappedDelays {
    named: Vec<CappedDelay>,
    seen: std::collections::HashSet<u64>,
}

impl CappedDelays {
    fn record(&mut self, host: &str, asked: Duration, applied: Duration) {
        if self.seen.insert(fingerprint(host)) && self.named.len() < CAPPED_NAMED {
            self.named.push(CappedDelay {
                host: host.to_string(),
                asked_secs: asked.as_secs_f64(),
                applied_secs: applied.as_secs(),
            });
        }
    }

    /// The first hosts capped, by name.
    pub fn named(&self) -> &[CappedDelay] {
        &self.named
    }

    /// How many hosts were capped in all.
    pub fn count(&self) -> u64 {
        self.seen.len() as u64
    }
}

/// One host's politeness state.
pub struct Host {
    /// The host and port (`news.test:8080`).
    pub authority: String,
    base_period: Duration,
    /// The longest `Crawl-delay` honoured, and where capped ones are told.
    max_delay: Duration,
    capped: Arc<Mutex<CappedDelays>>,
    /// The limiter and the period it enforces.
    limiter: Mutex<(Duration, Arc<DefaultDirectRateLimiter>)>,
    robots: tokio::sync::Mutex<Option<Arc<Robots>>>,
    /// A pause a server asked for, turned into real time by the clock.
    blocked_until: Mutex<Option<Instant>>,
    clock: Clock,
    /// Whether what the archive remembers of this host has been read.
    remembered: std::sync::atomic::AtomicBool,
    /// When the last request to this host was sent.
    last_sent: Mutex<Option<Instant>>,
}

fn limiter(period: Duration) -> Arc<DefaultDirectRateLimiter> {
    // Burst of one: never two requests closer than `period`.
    let quota = Quota::with_period(period.max(Duration::from_micros(1)))
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::MIN);
    Arc::new(RateLimiter::direct(quota))
}

impl Host {
    /// A host of `pool`, with its rate and `Crawl-delay` maximum.
    fn new(authority: String, pool: &HostPool) -> Self {
        let period = pool.period;
        Self {
            authority,
            clock: pool.clock,
            base_period: period,
            max_delay: pool.max_delay,
            capped: pool.capped.clone(),
            limiter: Mutex::new((period, limiter(period))),
            robots: tokio::sync::Mutex::new(None),
            blocked_until: Mutex::new(None),
            remembered: std::sync::atomic::AtomicBool::new(false),
            last_sent: Mutex::new(None),
        }
    }

    /// Waits until this host may be sent its next request.
    pub async fn wait_turn(&self) -> Result<(), Duration> {
        loop {
            if let Some(until) = self.blocked_until() {
                let now = Instant::now();
                // A host that asked for a long pause is left alone this run
                // rather than stalling the crawl.
                if until > now + self.clock.real(MAX_WAIT) {
                    return Err(self.clock.span(until - now));
                }
                if until > now {
                    tokio::time::sleep_until(until).await;
                }
            }
            let limiter = self
                .limiter
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .1
                .clone();
            limiter.until_ready().await;
            // A Retry-After may have arrived while we waited for the limiter.
            if self
                .blocked_until()
                .is_none_or(|until| until <= Instant::now())
            {
                return Ok(());
            }
        }
    }

    /// Called just before a request is sent, after the turn and the request
    /// slot: the limiter spaces the turns it grants, but a turn may wait for
    /// a slot, so the send itself is spaced from the previous send too.
    pub async fn space_sends(&self) {
        if let Some(last) = self.last_sent() {
            tokio::time::sleep_until(last + self.period()).await;
        }
        *self
            .last_sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }

    /// True the first time it is called: the caller then applies what the
    /// archive remembers of the host (a pause asked in an earlier run).
    pub fn first_contact(&self) -> bool {
        !self
            .remembered
            .swap(true, std::sync::atomic::Ordering::SeqCst)
    }

    /// Holds every request to this host until `delay` of clock time has
    /// passed (`Retry-After`, back-off).
    pub fn block_for(&self, delay: Duration) {
        let until = Instant::now() + self.clock.real(delay);
        let mut blocked = self
            .blocked_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if blocked.is_none_or(|b| b < until) {
            *blocked = Some(until);
        }
    }

    /// Holds every request to this host until the clock reads `until` (a
    /// pause remembered from an earlier run).
    pub fn block_until(&self, until: DateTime<Utc>) {
        if let Ok(left) = (until - self.clock.now()).to_std() {
            self.block_for(left);
        }
    }

    /// When (clock time) this host may next be sent a request: after its
    /// last request by its period, and after any pause it asked for.
    fn next_allowed(&self) -> DateTime<Utc> {
        let period = self.period();
        let now = Instant::now();
        let until = [self.last_sent().map(|t| t + period), self.blocked_until()]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(now);
        let ahead = self.clock.span(until.saturating_duration_since(now));
        self.clock.now() + chrono::Duration::from_std(ahead).unwrap_or(chrono::TimeDelta::MAX)
    }

    /// Whether dropping this host from memory loses nothing: it is not
    /// paused, and its next request would be allowed at once anyway (robots
    /// rules and long pauses are kept in the archive and read back on the
    /// next contact).
    fn is_idle(&self, now: Instant) -> bool {
        let period = self.period();
        let rested = (self.last_sent()).is_none_or(|t| now >= t + period.max(IDLE_AFTER));
        let unblocked = self.blocked_until().is_none_or(|b| b <= now);
        rested && unblocked
    }

    /// The period the limiter enforces now.
    fn period(&self) -> Duration {
        self.limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }

    /// When the last request was sent, if one was.
    fn last_sent(&self) -> Option<Instant> {
        *self
            .last_sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Until when a pause the server asked for holds, if one does.
    fn blocked_until(&self) -> Option<Instant> {
        *self
            .blocked_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The robots.txt lock: the holder fetches robots.txt if it is missing or
    /// stale, so a host's robots.txt is fetched once however many tasks ask.
    pub async fn robots_slot(&self) -> tokio::sync::MutexGuard<'_, Option<Arc<Robots>>> {
        self.robots.lock().await
    }

    /// Installs fresh robots rules, slowing the limiter to `Crawl-delay`
    /// when that is slower than the configured rate. A delay past the
    /// crawl's maximum is cut to it (and told): `Crawl-delay: 86400` would
    /// otherwise hold the first page for a day.
    pub fn install_robots(&self, slot: &mut Option<Arc<Robots>>, robots: Robots) -> Arc<Robots> {
        let delay = robots.crawl_delay().map(|asked| {
            if asked > self.max_delay {
                self.capped
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .record(&self.authority, asked, self.max_delay);
            }
            asked.min(self.max_delay)
        });
        let period = delay.map_or(self.base_period, |d| d.max(self.base_period));
        let mut current = self.limiter.lock().unwrap_or_else(PoisonError::into_inner);
        if period != current.0 {
            let fresh = limiter(period);
            // The new limiter starts with its cell available; the host's last
            // request was just now (robots.txt), so spend the cell first.
            let _ = fresh.check();
            *current = (period, fresh);
        }
        let robots = Arc::new(robots);
        *slot = Some(robots.clone());
        robots
    }
}

/// How long a host stays in memory after its last request at least.
const IDLE_AFTER: Duration = Duration::from_secs(120);

/// How many [`HostPool::host`] calls pass between sweeps for idle hosts.
const SWEEP_EVERY: u64 = 4096;

/// The hosts the crawl is working with. Hosts nobody is using and that
/// have rested are dropped now and then, so a long `watch` that wanders
/// over many sites keeps a bounded pool.
pub struct HostPool {
    period: Duration,
    max_delay: Duration,
    capped: Arc<Mutex<CappedDelays>>,
    clock: Clock,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    calls: std::sync::atomic::AtomicU64,
    /// A fingerprint of every host ever in the pool: eight bytes a host
    /// where a `Host` holds its robots rules.
    contacted: Mutex<std::collections::HashSet<u64>>,
}

fn fingerprint(authority: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    authority.hash(&mut h);
    h.finish()
}

impl HostPool {
    /// A pool whose hosts are spaced `period` apart by default, on `clock`.
    pub fn new(period: Duration, clock: Clock) -> Self {
        Self {
            period,
            max_delay: crate::config::DEFAULT_MAX_CRAWL_DELAY,
            capped: Arc::default(),
            clock,
            hosts: Mutex::new(HashMap::new()),
            calls: std::sync::atomic::AtomicU64::new(0),
            contacted: Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// The same pool, honouring `Crawl-delay` up to `max` only.
    pub fn max_crawl_delay(mut self, max: Duration) -> Self {
        self.max_delay = max;
        self
    }

    /// The hosts whose `Crawl-delay` was cut to the maximum so far.
    pub fn capped_delays(&self) -> std::sync::MutexGuard<'_, CappedDelays> {
        self.capped.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state of `url`'s host, created on first contact.
    pub fn host(&self, url: &CanonicalUrl) -> Arc<Host> {
        self.host_named(url.authority())
    }

    /// Holds every request to `authority` until the clock reads `until`:
    /// the time its previous holder (another crawling process) left it.
    pub fn hold_off(&self, authority: &str, until: DateTime<Utc>) {
        self.host_named(authority.to_string()).block_until(until);
    }

    /// When `authority` may next be sent a request (now, for a host this
    /// pool has not dealt with or has forgotten).
    pub fn next_allowed(&self, authority: &str) -> DateTime<Utc> {
        let hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        match hosts.get(authority) {
            Some(host) => host.next_allowed(),
            None => self.clock.now(),
        }
    }

    fn host_named(&self, authority: String) -> Arc<Host> {
        let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        let calls = self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if calls % SWEEP_EVERY == SWEEP_EVERY - 1 {
            Self::drop_idle(&mut hosts, Instant::now());
        }
        if let Some(host) = hosts.get(&authority) {
            return host.clone();
        }
        self.contacted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(fingerprint(&authority));
        let host = Arc::new(Host::new(authority.clone(), self));
        hosts.insert(authority, host.clone());
        host
    }

    /// How many hosts the crawl has dealt with, dropped ones included.
    pub fn contacted(&self) -> usize {
        self.contacted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Drops the hosts that no task holds and that have rested.
    fn drop_idle(hosts: &mut HashMap<String, Arc<Host>>, now: Instant) {
        hosts.retain(|_, h| Arc::strong_count(h) > 1 || !h.is_idle(now));
    }

    /// Hosts held in memory now.
    pub fn len(&self) -> usize {
        self.hosts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no host is held in memory.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Exponential back-off with full jitter: attempt 0 waits up to `base`,
/// attempt 1 up to `2 × base`, …, capped at `cap`.
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let ceiling = base.saturating_mul(1u32 << attempt.min(16)).min(cap);
    let jitter: f64 = rand::random::<f64>();
    // Half fixed, half jitter: never zero, never in lock-step.
    ceiling.mul_f64(0.5 + 0.5 * jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn robots(status: Option<u16>, body: &str) -> Robots {
        Robots::from_record(
            &RobotsRecord {
                fetched_at: Utc::now(),
                status,
                body: body.into(),
            },
            "palimpsest",
        )
    }

    fn url(s: &str) -> CanonicalUrl {
        CanonicalUrl::parse(s).unwrap()
    }

    #[tokio::test]
    async fn rested_hosts_leave_the_pool_and_busy_ones_stay() {
        // Crawl-delays up to an hour honoured, so `slow` below keeps its 600 s.
        let pool = HostPool::new(Duration::from_secs(1), Clock::System)
            .max_crawl_delay(Duration::from_secs(3600));
        for k in 0..100 {
            pool.host(&url(&format!("https://h{k}.test/")))
                .space_sends()
                .await;
        }
        // Held by a task; slowed to one request in ten minutes; paused.
        let held = pool.host(&url("https://held.test/"));
        let slow = pool.host(&url("https://slow.test/"));
        let mut slot = None;
        slow.install_robots(
            &mut slot,
            robots(Some(200), "User-agent: *\nCrawl-delay: 600\n"),
        );
        slow.space_sends().await;
        drop(slow);
        pool.host(&url("https://paused.test/"))
            .block_for(Duration::from_secs(3600));
        assert_eq!(pool.len(), 103);

        // A minute on, everyone has rested too little.
        let mut hosts = pool.hosts.lock().unwrap();
        HostPool::drop_idle(&mut hosts, Instant::now() + Duration::from_secs(60));
        assert_eq!(hosts.len(), 103);
        // Five minutes on, only the busy, the slow and the paused remain.
        HostPool::drop_idle(&mut hosts, Instant::now() + Duration::from_secs(300));
        let mut left: Vec<&str> = hosts.keys().map(String::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["held.test:443", "paused.test:443", "slow.test:443"]);
        drop(hosts);
        drop(held);
        // A dropped host comes back fresh and is counted once.
        pool.host(&url("https://h1.test/"));
        assert_eq!(pool.len(), 4);
        assert_eq!(pool.contacted(), 103);
    }

    #[test]
    fn a_crawl_delay_past_the_maximum_is_cut_and_recorded_once() {
        let pool = HostPool::new(Duration::from_secs(1), Clock::System);
        let host = pool.host(&url("https://sleepy.test/"));
        for _ in 0..2 {
            let mut slot = None;
            host.install_robots(
                &mut slot,
                robots(Some(200), "User-agent: *\nCrawl-delay: 86400\n"),
            );
        }
        assert_eq!(host.limiter.lock().unwrap().0, crate::politeness::MAX_WAIT);
        let capped = pool.capped_delays();
        assert_eq!(capped.count(), 1);
        assert_eq!(capped.named()[0].asked_secs, 86_400.0);
        assert_eq!(capped.named()[0].applied_secs, 120);
    }

    #[test]
    fn rfc9309_status_semantics() {
        assert!(
            robots(Some(404), "")
                .check(&url("http://a.test/x"), "palimpsest")
                .is_ok()
        );
        assert!(
            robots(Some(503), "")
                .check(&url("http://a.test/x"), "palimpsest")
                .is_err()
        );
        assert!(
            robots(None, "")
                .check(&url("http://a.test/x"), "palimpsest")
                .is_err()
        );
        // robots.txt itself is always fetchable.
        assert!(
            robots(None, "")
                .check(&url("http://a.test/robots.txt"), "palimpsest")
                .is_ok()
        );
    }

    #[test]
    fn our_group_wins_over_star() {
        let body = "User-agent: *\nDisallow: /private\nCrawl-delay: 5\n\nUser-agent: palimpsest\nDisallow: /secret\nCrawl-delay: 2\n\nSitemap: http://a.test/sitemap.xml\n";
        let r = robots(Some(200), body);
        assert!(
            r.check(&url("http://a.test/secret/x"), "palimpsest")
                .is_err()
        );
        assert!(
            r.check(&url("http://a.test/private/x"), "palimpsest")
                .is_ok()
        );
        assert_eq!(r.crawl_delay(), Some(Duration::from_secs(2)));
        assert_eq!(r.sitemaps(), ["http://a.test/sitemap.xml"]);
        let star_only = robots(Some(200), "User-agent: *\nCrawl-delay: 1.5\nDisallow: /p\n");
        assert_eq!(star_only.crawl_delay(), Some(Duration::from_millis(1500)));
        assert!(
            star_only
                .check(&url("http://a.test/p"), "palimpsest")
                .is_err()
        );
    }

    #[test]
    fn our_group_without_crawl_delay_ignores_the_star_groups() {
        let r = robots(
            Some(200),
            "User-agent: *\nCrawl-delay: 5\n\nUser-agent: palimpsest\nAllow: /\n",
        );
        assert_eq!(r.crawl_delay(), None);
    }

    #[test]
    fn a_long_line_of_multibyte_characters_is_cut_not_a_panic() {
        let body = format!(
            "User-agent: *\nDisallow: /x\n# {}\nDisallow: /y # {}\n",
            "é".repeat(20_000),
            "ü".repeat(20_000)
        );
        let r = robots(Some(200), &body);
        assert!(r.check(&url("http://a.test/x"), "palimpsest").is_err());
        assert!(r.check(&url("http://a.test/y"), "palimpsest").is_err());
        assert!(r.check(&url("http://a.test/z"), "palimpsest").is_ok());
        assert!(!r.is_unavailable());
    }

    #[test]
    fn lines_are_cut_on_character_boundaries() {
        let line = "ü".repeat(MAX_ROBOTS_LINE);
        let body = format!("a\r\n{line}\r\nb");
        let cut = cut_long_lines(&body);
        let lines: Vec<&str> = cut.split("\r\n").collect();
        assert_eq!(lines[0], "a");
        assert_eq!(lines[1].len(), MAX_ROBOTS_LINE);
        assert_eq!(lines[2], "b");
        assert!(matches!(
            cut_long_lines("short\n"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_parser_panic_is_an_unparsable_file() {
        struct Panics;
        impl RobotsParseHandler for Panics {
            fn handle_robots_start(&mut self) {
                panic!("parser bug");
            }
            fn handle_robots_end(&mut self) {}
            fn handle_user_agent(&mut self, _: u32, _: &str) {}
            fn handle_allow(&mut self, _: u32, _: &str) {}
            fn handle_disallow(&mut self, _: u32, _: &str) {}
            fn handle_sitemap(&mut self, _: u32, _: &str) {}
            fn handle_unknown_action(&mut self, _: u32, _: &str, _: &str) {}
        }
        assert!(parse_guarded("User-agent: *\n", Panics).is_none());
    }

    #[test]
    fn only_the_applicable_group_is_kept_for_matching() {
        let body = "# comment\nUser-agent: other\nDisallow: /\n\nUser-agent: *\nDisallow: /a\nSitemap: /s.xml\nUser-agent: palimpsest-extra\nDisallow: /b\n";
        let mut h = DirectiveCollector::new("palimpsest");
        robotstxt::parse_robotstxt(body, &mut h);
        assert_eq!(h.into_rules(), "user-agent: *\ndisallow: /a\n");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_secs(1);
        let cap = Duration::from_secs(60);
        for attempt in 0..20 {
            let d = backoff(attempt, base, cap);
            let ceiling = base.saturating_mul(1 << attempt.min(16)).min(cap);
            assert!(d >= ceiling / 2 && d <= ceiling, "{attempt}: {d:?}");
        }
    }
}
