//! Politeness: the host pool. Each host (authority) has its own robots.txt
//! rules, its own rate limiter (slowed by its `Crawl-delay`), and its own
//! back-off state, so one slow or unhappy host never slows the others.

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
    DisallowAll { reason: String },
    Rules(String),
}

impl Robots {
    /// Interprets a robots.txt fetch: 2xx is parsed, 4xx means no rules,
    /// 5xx or no answer means "disallow everything for now" (RFC 9309 §2.3.1).
    pub fn from_record(record: &RobotsRecord, product_token: &str) -> Self {
        let policy = match record.status {
            Some(s) if (200..300).contains(&s) => Policy::Rules(record.body.clone()),
            Some(s) if (400..500).contains(&s) => Policy::AllowAll,
            Some(s) => Policy::DisallowAll {
                reason: format!("robots.txt answered HTTP {s}"),
            },
            None => Policy::DisallowAll {
                reason: "robots.txt unreachable".into(),
            },
        };
        let (crawl_delay, sitemaps) = match &policy {
            Policy::Rules(body) => {
                let mut h = DirectiveCollector::new(product_token);
                robotstxt::parse_robotstxt(body, &mut h);
                (h.crawl_delay(), h.sitemaps)
            }
            _ => (None, Vec::new()),
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
    pub fn check(&self, url: &CanonicalUrl, product_token: &str) -> Result<(), String> {
        if url.as_url().path() == "/robots.txt" {
            return Ok(());
        }
        match &self.policy {
            Policy::AllowAll => Ok(()),
            Policy::DisallowAll { reason } => Err(format!("{reason}: host treated as disallowed")),
            Policy::Rules(body) => {
                let mut matcher = DefaultMatcher::default();
                if matcher.one_agent_allowed_by_robots(body, product_token, url.as_str()) {
                    Ok(())
                } else {
                    Err("disallowed by robots.txt".into())
                }
            }
        }
    }

    pub fn crawl_delay(&self) -> Option<Duration> {
        self.crawl_delay
    }

    pub fn sitemaps(&self) -> &[String] {
        &self.sitemaps
    }
}

/// Collects `Crawl-delay` per group and `Sitemap:` lines, which the matcher
/// itself ignores. A group naming our product token wins over `*`.
struct DirectiveCollector {
    token: String,
    in_group_header: bool,
    group_is_ours: bool,
    group_is_star: bool,
    has_own_group: bool,
    ours: Option<Duration>,
    star: Option<Duration>,
    sitemaps: Vec<String>,
}

impl DirectiveCollector {
    fn new(token: &str) -> Self {
        Self {
            token: token.to_ascii_lowercase(),
            in_group_header: false,
            group_is_ours: false,
            group_is_star: false,
            has_own_group: false,
            ours: None,
            star: None,
            sitemaps: Vec::new(),
        }
    }

    /// A group naming us replaces `*` entirely, Crawl-delay included.
    fn crawl_delay(&self) -> Option<Duration> {
        if self.has_own_group {
            self.ours
        } else {
            self.star
        }
    }

    fn end_header(&mut self) {
        self.in_group_header = false;
    }
}

impl RobotsParseHandler for DirectiveCollector {
    fn handle_robots_start(&mut self) {}
    fn handle_robots_end(&mut self) {}

    fn handle_user_agent(&mut self, _line: u32, value: &str) {
        if !self.in_group_header {
            self.group_is_ours = false;
            self.group_is_star = false;
            self.in_group_header = true;
        }
        let agent = value
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '*'))
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if agent == "*" {
            self.group_is_star = true;
        } else if agent == self.token {
            self.group_is_ours = true;
            self.has_own_group = true;
        }
    }

    fn handle_allow(&mut self, _line: u32, _value: &str) {
        self.end_header();
    }

    fn handle_disallow(&mut self, _line: u32, _value: &str) {
        self.end_header();
    }

    fn handle_sitemap(&mut self, _line: u32, value: &str) {
        let v = value.trim();
        if !v.is_empty() {
            self.sitemaps.push(v.to_string());
        }
    }

    fn handle_unknown_action(&mut self, _line: u32, action: &str, value: &str) {
        self.end_header();
        if action.eq_ignore_ascii_case("crawl-delay")
            && let Ok(secs) = value.trim().parse::<f64>()
            && secs.is_finite()
            && secs >= 0.0
        {
            // A crawl-delay of hours would stall the crawl; a day is the cap.
            let delay = Duration::from_secs_f64(secs.min(86_400.0));
            if self.group_is_ours {
                self.ours = Some(delay);
            } else if self.group_is_star {
                self.star = Some(delay);
            }
        }
    }
}

/// One host's politeness state.
pub struct Host {
    pub authority: String,
    base_period: Duration,
    /// The limiter and the period it enforces.
    limiter: Mutex<(Duration, Arc<DefaultDirectRateLimiter>)>,
    robots: tokio::sync::Mutex<Option<Arc<Robots>>>,
    blocked_until: Mutex<Option<Instant>>,
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
    fn new(authority: String, period: Duration) -> Self {
        Self {
            authority,
            base_period: period,
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
            let blocked = *self
                .blocked_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(until) = blocked {
                let now = Instant::now();
                // A host that asked for a long pause is left alone this run
                // rather than stalling the crawl.
                if until > now + MAX_WAIT {
                    return Err(until - now);
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
            let blocked = *self
                .blocked_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if blocked.is_none_or(|until| until <= Instant::now()) {
                return Ok(());
            }
        }
    }

    /// Called just before a request is sent, after the turn and the request
    /// slot: the limiter spaces the turns it grants, but a turn may wait for
    /// a slot, so the send itself is spaced from the previous send too.
    pub async fn space_sends(&self) {
        let period = self
            .limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        let last = *self
            .last_sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(last) = last {
            tokio::time::sleep_until(last + period).await;
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

    /// Holds every request to this host until `delay` has passed
    /// (`Retry-After`, back-off).
    pub fn block_for(&self, delay: Duration) {
        let until = Instant::now() + delay;
        let mut blocked = self
            .blocked_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if blocked.is_none_or(|b| b < until) {
            *blocked = Some(until);
        }
    }

    /// Whether dropping this host from memory loses nothing: it is not
    /// paused, and its next request would be allowed at once anyway (robots
    /// rules and long pauses are kept in the archive and read back on the
    /// next contact).
    fn is_idle(&self, now: Instant) -> bool {
        let period = self
            .limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        let rested = self
            .last_sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none_or(|t| now >= t + period.max(IDLE_AFTER));
        let unblocked = self
            .blocked_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none_or(|b| b <= now);
        rested && unblocked
    }

    /// The robots.txt lock: the holder fetches robots.txt if it is missing or
    /// stale, so a host's robots.txt is fetched once however many tasks ask.
    pub async fn robots_slot(&self) -> tokio::sync::MutexGuard<'_, Option<Arc<Robots>>> {
        self.robots.lock().await
    }

    /// Installs fresh robots rules, slowing the limiter to `Crawl-delay`
    /// when that is slower than the configured rate.
    pub fn install_robots(&self, slot: &mut Option<Arc<Robots>>, robots: Robots) -> Arc<Robots> {
        let period = robots
            .crawl_delay()
            .map_or(self.base_period, |d| d.max(self.base_period));
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
    pub fn new(period: Duration) -> Self {
        Self {
            period,
            hosts: Mutex::new(HashMap::new()),
            calls: std::sync::atomic::AtomicU64::new(0),
            contacted: Mutex::new(std::collections::HashSet::new()),
        }
    }

    pub fn host(&self, url: &CanonicalUrl) -> Arc<Host> {
        let authority = url.authority();
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
        let host = Arc::new(Host::new(authority.clone(), self.period));
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

    pub fn len(&self) -> usize {
        self.hosts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

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
        let pool = HostPool::new(Duration::from_secs(1));
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
