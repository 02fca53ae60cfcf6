//! Fetching: one page, hop by hop. Every hop of a redirect chain passes the
//! host's robots.txt and rate limiter; every connection passes the address
//! guard; every body is streamed and cut at the size and time caps.

mod guard;

pub use guard::{AddressRefused, Forbidden, GuardedResolver, NotLookedUp, special_use_suffix};

use std::collections::HashSet;
use std::sync::{Arc, Once};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::sync::{Semaphore, SemaphorePermit, watch};
use tokio::time::Instant;

use crate::archive::{HostRecord, RedirectHop, RobotsRecord, Truncation};
use crate::canonical::CanonicalUrl;
use crate::clock::Clock;
use crate::config::CrawlConfig;
use crate::politeness::{Host, HostPool, MAX_ROBOTS_BYTES, Refusal, Robots};

/// At most this many redirects are followed for one page.
pub const MAX_REDIRECTS: usize = 10;
/// A `Retry-After` longer than this is not waited for within a crawl.
pub const MAX_RETRY_AFTER: Duration = crate::politeness::MAX_WAIT;
/// The longest `Retry-After` remembered for a host.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(24 * 3600);

/// Response headers kept in a capture.
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "content-language",
    "content-length",
    "content-encoding",
    "etag",
    "last-modified",
    "date",
    "location",
    "retry-after",
    "x-robots-tag",
    "link",
];

/// The content codings offered: those reqwest undoes (a response in any
/// other keeps its `Content-Encoding` and is stored as received, not read).
/// Sent by us rather than left to reqwest, so the capture records what
/// was sent.
const ACCEPT_ENCODING: &str = "zstd,gzip,deflate,br";

/// Why a fetch produced no usable response.
#[derive(Debug, thiserror::Error, Clone)]
#[non_exhaustive]
pub enum FetchError {
    #[error(transparent)]
    AddressRefused(#[from] AddressRefused),
    /// A special-use name (`.test`…) without its `--resolve`: not retried.
    #[error(transparent)]
    NotLookedUp(#[from] NotLookedUp),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("request failed: {0}")]
    Transport(String),
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("redirect loop back to {0}")]
    RedirectLoop(String),
    #[error("bad redirect location {0:?}")]
    BadRedirect(String),
    #[error("the host asked for a pause of {}s (Retry-After); skipped until the next run", .0.as_secs())]
    HostPaused(Duration),
    /// A fault of ours on this page (a parser that panicked): not retried
    /// in this pass.
    #[error("internal error: {0}")]
    Internal(String),
}

impl FetchError {
    /// This process ran out of file descriptors (EMFILE/ENFILE).
    pub fn is_local_exhaustion(&self) -> bool {
        match self {
            FetchError::Connect(m) | FetchError::Transport(m) => {
                m.contains("Too many open files")
                    || m.contains("os error 24")
                    || m.contains("os error 23")
            }
            _ => false,
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            FetchError::Timeout(_) | FetchError::Connect(_) | FetchError::Transport(_)
        )
    }
}

/// Validators from the previous capture, for a conditional request.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// One HTTP exchange that got a response.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub url: CanonicalUrl,
    pub status: u16,
    pub request_headers: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// The body after content decoding, at most `max_body` bytes.
    pub body: Vec<u8>,
    pub truncated: Option<Truncation>,
    /// `Retry-After` on a 429 or 503.
    pub retry_after: Option<Duration>,
}

impl Exchange {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What became of one page fetch.
#[derive(Debug)]
pub enum Outcome {
    Response(Exchange),
    /// robots.txt (of the page or of a redirect target) forbids it.
    Disallowed(Refusal),
    Failed(FetchError),
    /// The crawl stopped while the page was still waiting for its turn:
    /// nothing was sent, and the page stays queued.
    Stopped,
}

/// One page fetch: the requested URL, the redirects followed, the outcome.
#[derive(Debug)]
pub struct PageFetch {
    pub requested: CanonicalUrl,
    pub fetched_at: DateTime<Utc>,
    pub redirects: Vec<RedirectHop>,
    pub outcome: Outcome,
}

/// What is remembered of hosts between runs (robots.txt answers, pauses).
pub trait HostStore: Send + Sync {
    fn load(&self, authority: &str) -> Option<HostRecord>;
    fn save_robots(&self, authority: &str, record: RobotsRecord, robots: &Robots);
}

/// Everything a fetch must pass before it may send a request: the host
/// pool (robots.txt, rate, pauses), what is remembered of hosts, the global
/// limit on requests in flight, and the crawl's stop signal.
pub struct Gate<'a> {
    pub pool: &'a HostPool,
    pub store: &'a dyn HostStore,
    pub slots: &'a Semaphore,
    pub stop: watch::Receiver<bool>,
    /// Whether this process may still send requests to its hosts: asked
    /// last, just before a request goes out (a crawl sharing its archive
    /// that fell behind its host leases may not).
    pub may_send: &'a (dyn Fn() -> bool + Sync),
}

/// Why a fetch did not get its turn.
enum NoTurn {
    Paused(Duration),
    Stopped,
}

impl Gate<'_> {
    /// Waits for `host`'s turn, then for a request slot. The slot is taken
    /// only once the host is ready, so a host that must wait (Crawl-delay,
    /// Retry-After) never holds a slot others could use. A stop ends the
    /// wait: a page still waiting is not in flight.
    async fn turn(&mut self, host: &Host) -> Result<SemaphorePermit<'_>, NoTurn> {
        if host.first_contact()
            && let Some(until) = self
                .store
                .load(&host.authority)
                .and_then(|h| h.paused_until)
        {
            host.block_until(until);
        }
        if *self.stop.borrow() {
            return Err(NoTurn::Stopped);
        }
        tokio::select! {
            waited = host.wait_turn() => waited.map_err(NoTurn::Paused)?,
            _ = self.stop.wait_for(|s| *s) => return Err(NoTurn::Stopped),
        }
        let permit = tokio::select! {
            permit = self.slots.acquire() => permit.map_err(|_| NoTurn::Stopped)?,
            _ = self.stop.wait_for(|s| *s) => return Err(NoTurn::Stopped),
        };
        tokio::select! {
            _ = host.space_sends() => {}
            _ = self.stop.wait_for(|s| *s) => return Err(NoTurn::Stopped),
        }
        if !(self.may_send)() {
            return Err(NoTurn::Stopped);
        }
        Ok(permit)
    }
}

/// The HTTP side of the crawler. Cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    resolver: GuardedResolver,
    user_agent: HeaderValue,
    product_token: String,
    timeout: Duration,
    max_body: u64,
    clock: Clock,
}

static CRYPTO: Once = Once::new();

/// A `reqwest` client builder, after the crypto provider is installed:
/// reqwest is built without a default one (ring builds in seconds, aws-lc
/// in minutes), so every client in the crate starts here.
///
/// Proxies named in the environment (`HTTP_PROXY`, `ALL_PROXY`…) are
/// ignored: a proxy resolves names itself, out of the address guard's
/// sight, so it would reach any address a name points at.
pub fn client_builder() -> reqwest::ClientBuilder {
    CRYPTO.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder().no_proxy()
}

impl Fetcher {
    pub fn new(config: &CrawlConfig) -> Result<Self, FetchError> {
        let resolver = GuardedResolver::new(&config.resolve, config.allow_private);
        let client = client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.idle_timeout)
            // One idle connection a host, kept just past the host's next
            // turn: enough to reuse it at the crawl's pace, few enough that
            // thousands of hosts do not exhaust file descriptors.
            .pool_idle_timeout(
                (config.rate.period() * 2).clamp(Duration::from_secs(1), Duration::from_secs(10)),
            )
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .dns_resolver(Arc::new(resolver.clone()))
            .build()
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        let user_agent = HeaderValue::from_str(&config.user_agent)
            .map_err(|e| FetchError::Transport(format!("invalid user agent: {e}")))?;
        Ok(Self {
            client,
            resolver,
            user_agent,
            product_token: config.product_token().to_string(),
            timeout: config.timeout,
            max_body: config.max_body,
            clock: config.clock,
        })
    }

    /// Fetches `url`, following redirects hop by hop; each hop waits for its
    /// host's turn and is checked against its host's robots.txt.
    pub async fn fetch_page(
        &self,
        url: &CanonicalUrl,
        validators: &Validators,
        gate: &mut Gate<'_>,
    ) -> PageFetch {
        let fetched_at = self.clock.now();
        let mut redirects = Vec::new();
        let mut seen = HashSet::from([url.clone()]);
        let mut current = url.clone();
        let outcome = loop {
            let host = gate.pool.host(&current);
            match self.robots_for(&host, &current, gate).await {
                Ok(rules) => {
                    if let Err(reason) = rules.check(&current, &self.product_token) {
                        break Outcome::Disallowed(reason);
                    }
                }
                Err(e) => break e,
            }
            let _slot = match gate.turn(&host).await {
                Ok(slot) => slot,
                Err(NoTurn::Paused(left)) => break Outcome::Failed(FetchError::HostPaused(left)),
                Err(NoTurn::Stopped) => break Outcome::Stopped,
            };
            let conditional = redirects.is_empty().then_some(validators);
            let exchange = match self.exchange(&current, conditional, self.max_body).await {
                Ok(x) => x,
                Err(e) => break Outcome::Failed(e),
            };
            if let Some(delay) = exchange.retry_after {
                host.block_for(delay.min(RETRY_AFTER_CAP));
            }
            let location = exchange.header("location").map(str::to_string);
            let is_redirect = matches!(exchange.status, 301 | 302 | 303 | 307 | 308);
            match location {
                Some(location) if is_redirect => {
                    redirects.push(RedirectHop {
                        url: current.to_string(),
                        status: exchange.status,
                    });
                    let next = match CanonicalUrl::join(current.as_url(), &location) {
                        Ok(next) => next,
                        Err(_) => break Outcome::Failed(FetchError::BadRedirect(location)),
                    };
                    if !seen.insert(next.clone()) {
                        break Outcome::Failed(FetchError::RedirectLoop(next.to_string()));
                    }
                    if redirects.len() > MAX_REDIRECTS {
                        break Outcome::Failed(FetchError::TooManyRedirects);
                    }
                    current = next;
                }
                _ => break Outcome::Response(exchange),
            }
        };
        PageFetch {
            requested: url.clone(),
            fetched_at,
            redirects,
            outcome,
        }
    }

    /// The robots rules for `url`'s host, fetching robots.txt first if the
    /// host has none fresh. Only an address refusal, a pause or a stop is an
    /// error: any other failure to read robots.txt is itself an answer (RFC
    /// 9309).
    async fn robots_for(
        &self,
        host: &Host,
        url: &CanonicalUrl,
        gate: &mut Gate<'_>,
    ) -> Result<Arc<Robots>, Outcome> {
        let mut slot = host.robots_slot().await;
        let now = self.clock.now();
        if let Some(r) = slot.as_ref().filter(|r| r.is_fresh(now)) {
            return Ok(r.clone());
        }
        if slot.is_none()
            && let Some(record) = gate.store.load(&host.authority).and_then(|h| h.robots)
        {
            let robots = Robots::from_record(&record, &self.product_token);
            // "Unavailable" means "for now": a new run asks again.
            if robots.is_fresh(now) && !robots.is_unavailable() {
                return Ok(host.install_robots(&mut slot, robots));
            }
        }
        let record = self.fetch_robots(url, host, gate).await?;
        let robots = Robots::from_record(&record, &self.product_token);
        gate.store.save_robots(&host.authority, record, &robots);
        Ok(host.install_robots(&mut slot, robots))
    }

    async fn fetch_robots(
        &self,
        url: &CanonicalUrl,
        host: &Host,
        gate: &mut Gate<'_>,
    ) -> Result<RobotsRecord, Outcome> {
        let mut current = url.robots_url();
        let record = |status, body| RobotsRecord {
            fetched_at: self.clock.now(),
            status,
            body,
        };
        // RFC 9309 §2.3.1.2: follow at least five redirects.
        for hop in 0..=5 {
            let hop_host;
            let turn_host = if hop == 0 {
                host
            } else {
                hop_host = gate.pool.host(&current);
                &hop_host
            };
            let _slot = match gate.turn(turn_host).await {
                Ok(slot) => slot,
                Err(NoTurn::Paused(left)) => {
                    return Err(Outcome::Failed(FetchError::HostPaused(left)));
                }
                Err(NoTurn::Stopped) => return Err(Outcome::Stopped),
            };
            match self.exchange(&current, None, MAX_ROBOTS_BYTES as u64).await {
                Ok(x) if (300..400).contains(&x.status) => {
                    match x
                        .header("location")
                        .and_then(|l| CanonicalUrl::join(current.as_url(), l).ok())
                    {
                        Some(next) => current = next,
                        None => return Ok(record(Some(404), String::new())),
                    }
                }
                // A file cut by the deadline may have lost any of its rules:
                // it is no answer, as if the host had not been reached.
                Ok(x) if x.truncated == Some(Truncation::Time) => {
                    return Ok(record(None, String::new()));
                }
                Ok(x) => {
                    let (body, _) =
                        crate::decode::decode_html(&x.body, Some("text/plain; charset=utf-8"));
                    return Ok(record(Some(x.status), body));
                }
                // Refused before any connection: the host's pages fail
                // with the reason, not as a host that did not answer.
                Err(e @ (FetchError::AddressRefused(_) | FetchError::NotLookedUp(_))) => {
                    return Err(Outcome::Failed(e));
                }
                // Out of file descriptors is our problem, not the host's:
                // try again later rather than call the host unreachable.
                Err(e) if e.is_local_exhaustion() => return Err(Outcome::Failed(e)),
                Err(_) => return Ok(record(None, String::new())),
            }
        }
        // Too many redirects: RFC 9309 says treat as unavailable (allow all).
        Ok(record(Some(404), String::new()))
    }

    /// One HTTP GET, with the body streamed up to `max_body` bytes (after
    /// decompression, so a compression bomb is cut, not inflated).
    pub async fn exchange(
        &self,
        url: &CanonicalUrl,
        validators: Option<&Validators>,
        max_body: u64,
    ) -> Result<Exchange, FetchError> {
        self.check_literal_address(url)?;
        let request_headers = self.request_headers(validators);
        let deadline = Instant::now() + self.timeout;
        let send = self
            .client
            .get(url.as_str())
            .headers(request_headers.clone())
            .send();
        let mut response = match tokio::time::timeout_at(deadline, send).await {
            Err(_) => return Err(FetchError::Timeout(self.timeout)),
            Ok(Err(e)) => return Err(classify_error(&e, self.timeout)),
            Ok(Ok(r)) => r,
        };
        let status = response.status();
        let headers = kept_headers(response.headers());
        let retry_after = match status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, self.clock.now())),
            _ => None,
        };
        let (body, truncated) = self.read_body(&mut response, deadline, max_body).await?;
        let request_headers = request_headers
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
            .collect();
        Ok(Exchange {
            url: url.clone(),
            status: status.as_u16(),
            request_headers,
            headers,
            body,
            truncated,
            retry_after,
        })
    }

    /// A URL naming an IP address is judged by the guard before any
    /// connection (names are judged by the resolver).
    fn check_literal_address(&self, url: &CanonicalUrl) -> Result<(), FetchError> {
        let ip = match url.as_url().host() {
            Some(url::Host::Ipv4(ip)) => std::net::IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => std::net::IpAddr::V6(ip),
            _ => return Ok(()),
        };
        self.resolver.check(url.host(), ip)?;
        Ok(())
    }

    /// User-Agent, Accept, Accept-Encoding, and the validators of a
    /// conditional request.
    fn request_headers(&self, validators: Option<&Validators>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::USER_AGENT, self.user_agent.clone());
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ),
        );
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static(ACCEPT_ENCODING),
        );
        let value = |v: &Option<String>| v.as_deref().and_then(|e| HeaderValue::from_str(e).ok());
        if let Some(v) = validators {
            if let Some(etag) = value(&v.etag) {
                headers.insert(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = value(&v.last_modified) {
                headers.insert(header::IF_MODIFIED_SINCE, lm);
            }
        }
        headers
    }

    /// The body, up to `max_body` bytes and until `deadline`; what cut it
    /// short, if anything did.
    async fn read_body(
        &self,
        response: &mut reqwest::Response,
        deadline: Instant,
        max_body: u64,
    ) -> Result<(Vec<u8>, Option<Truncation>), FetchError> {
        let mut body = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, response.chunk()).await {
                Err(_) => return Ok((body, Some(Truncation::Time))),
                Ok(Ok(Some(chunk))) => {
                    let room = usize::try_from(max_body).unwrap_or(usize::MAX) - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        return Ok((body, Some(Truncation::Length)));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(Ok(None)) => return Ok((body, None)),
                Ok(Err(e)) if e.is_timeout() => return Ok((body, Some(Truncation::Time))),
                Ok(Err(e)) => return Err(classify_error(&e, self.timeout)),
            }
        }
    }
}

/// The response headers a capture keeps.
fn kept_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    KEPT_HEADERS
        .iter()
        .flat_map(|name| {
            headers
                .get_all(*name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(|v| (name.to_string(), v.to_string()))
        })
        .collect()
}

/// `Retry-After`: delay-seconds or an HTTP-date (counted from `now`).
fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = DateTime::parse_from_rfc2822(value).ok()?;
    (when.to_utc() - now).to_std().ok().or(Some(Duration::ZERO))
}

fn classify_error(e: &reqwest::Error, timeout: Duration) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(refused) = err.downcast_ref::<AddressRefused>() {
            return FetchError::AddressRefused(refused.clone());
        }
        if let Some(unresolved) = err.downcast_ref::<NotLookedUp>() {
            return FetchError::NotLookedUp(unresolved.clone());
        }
        source = err.source();
    }
    if e.is_timeout() {
        FetchError::Timeout(timeout)
    } else if e.is_connect() {
        FetchError::Connect(error_chain(e))
    } else {
        FetchError::Transport(error_chain(e))
    }
}

/// An error and its causes on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(
            parse_retry_after("120", Utc::now()),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", Utc::now()),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", Utc::now()), None);
    }
}
