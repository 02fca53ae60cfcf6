//! Configuration: seed files and command-line flags become one validated
//! [`CrawlConfig`] — URLs parsed, patterns and selectors compiled, quotas
//! built — so that every mistake is reported before any request is made.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use crate::canonical::{CanonicalUrl, UrlError};
use crate::clock::Clock;
use crate::extract::{Profile, ProfileError, ProfileSpec};

/// The default `User-Agent`; robots.txt groups are matched on its product
/// token, `palimpsest`.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "palimpsest/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/palimpsest-archive/palimpsest#crawler)"
);

/// Errors in seed files and flags.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read seed file {path}: {source}")]
    /// A seed file could not be read.
    Read {
        /// The seed file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    /// A seed file has a mistake on one line.
    Seed {
        /// The seed file.
        path: PathBuf,
        /// The line the mistake is on, from 1.
        line: usize,
        /// What is wrong there.
        message: String,
    },
    #[error(transparent)]
    /// A URL that cannot be crawled.
    Url(#[from] UrlError),
    #[error("invalid {what} {value:?}: {reason}")]
    /// A flag or setting has a value it cannot take.
    Value {
        /// The flag or setting, as the user knows it (`rate`, `--timeout`).
        what: &'static str,
        /// The value given.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    #[error(transparent)]
    /// A site profile's selectors do not compile.
    Profile(#[from] ProfileError),
    #[error("nothing to crawl: give seed URLs or --seeds FILE")]
    /// Neither a seed URL nor a seed file was given.
    NoSeeds,
}

/// Requests per second to one host.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    per_second: f64,
}

impl Rate {
    /// A rate of `per_second` requests a second, if that is positive and finite.
    pub fn per_second(per_second: f64) -> Option<Self> {
        (per_second.is_finite() && per_second > 0.0).then_some(Self { per_second })
    }

    /// The minimum interval between two requests to one host.
    pub fn period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.per_second)
    }

    /// Requests per second.
    pub fn as_per_second(&self) -> f64 {
        self.per_second
    }

    /// Parses `2/s`, `30/m`, `100/h` or a bare number (per second).
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        let bad = |reason: &str| ConfigError::Value {
            what: "rate",
            value: s.to_string(),
            reason: reason.to_string(),
        };
        let (n, unit) = s.trim().split_once('/').unwrap_or((s.trim(), "s"));
        let n: f64 = n
            .trim()
            .parse()
            .map_err(|_| bad("expected e.g. 2/s, 30/m or 100/h"))?;
        let secs = match unit.trim() {
            "s" | "sec" | "second" => 1.0,
            "m" | "min" | "minute" => 60.0,
            "h" | "hour" => 3600.0,
            _ => return Err(bad("unit must be s, m or h")),
        };
        Self::per_second(n / secs).ok_or_else(|| bad("must be a positive number"))
    }
}

/// Largest body kept, after decompression, unless `--max-body` says
/// otherwise: by the crawl, and by `import-warc`.
pub const DEFAULT_MAX_BODY: u64 = 10 * 1024 * 1024;

/// Parses a byte size: `1048576`, `64KiB`, `10MiB`, `1GB`.
pub fn parse_size(s: &str) -> Result<u64, ConfigError> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => f64::NAN,
    };
    n.parse::<f64>()
        .ok()
        .map(|n| n * mult)
        .filter(|v| v.is_finite() && *v >= 1.0)
        .map(|v| v as u64)
        .ok_or_else(|| ConfigError::Value {
            what: "size",
            value: s.to_string(),
            reason: "expected bytes, or a number with KiB, MiB or GiB".into(),
        })
}

/// One `--resolve HOST:PORT:ADDR` pin, as in curl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvePin {
    /// The host name pinned (lower case).
    pub host: String,
    /// The port the pin applies to.
    pub port: u16,
    /// The address the host resolves to.
    pub addr: IpAddr,
}

impl ResolvePin {
    /// Parses `HOST:PORT:ADDR` (an IPv6 address may be bracketed).
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        let bad = || ConfigError::Value {
            what: "--resolve",
            value: s.to_string(),
            reason: "expected HOST:PORT:ADDR, e.g. news.test:8080:127.0.0.1".into(),
        };
        let mut parts = s.splitn(3, ':');
        let host = parts.next().filter(|h| !h.is_empty()).ok_or_else(bad)?;
        let port = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let addr = parts.next().ok_or_else(bad)?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        Ok(Self {
            host: host.to_ascii_lowercase(),
            port,
            addr: addr.parse().map_err(|_| bad())?,
        })
    }

    /// The address and port to connect to.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.addr, self.port)
    }
}

/// Which links of a seed's site are followed.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The seed's host: the site whose pages are followed.
    pub host: String,
    /// Patterns a followed URL's path and query must match (one, if any given).
    pub include: Vec<Regex>,
    /// Patterns that keep a URL out of the crawl.
    pub exclude: Vec<Regex>,
    /// Links followed from the seed at most (the seed is depth 0).
    pub depth: u32,
    /// Source citations followed off the seed's site at most.
    pub source_hops: u32,
    /// How often `watch` revisits the seed page itself (and the feeds and
    /// sitemaps of its site); `None` follows `revisit`.
    pub every: Option<Duration>,
    /// How often `watch` revisits an article, by time since it last changed.
    pub revisit: RevisitSchedule,
}

/// Revisit intervals by age: "under 3 h, every 15 min; under a day, hourly…";
/// past the last step, revisits stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisitSchedule {
    steps: Vec<(Duration, Duration)>,
}

impl Default for RevisitSchedule {
    /// News is edited most in its first hours.
    fn default() -> Self {
        const H: u64 = 3600;
        const D: u64 = 24 * H;
        let s = Duration::from_secs;
        Self {
            steps: vec![
                (s(3 * H), s(15 * 60)),
                (s(D), s(H)),
                (s(7 * D), s(6 * H)),
                (s(30 * D), s(3 * D)),
                (s(365 * D), s(30 * D)),
            ],
        }
    }
}

impl RevisitSchedule {
    /// Parses steps written `AGE=INTERVAL` (`"3h=15m"`): under AGE since the
    /// last change, revisit every INTERVAL. Ages must increase.
    pub fn parse(steps: &[String]) -> Result<Self, String> {
        let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
        Self::parse_steps(&steps).map_err(|(_, message)| message)
    }

    /// [`RevisitSchedule::parse`], the error saying which step is wrong.
    fn parse_steps(steps: &[&str]) -> Result<Self, (usize, String)> {
        let mut out = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let (age, every) = step.split_once('=').ok_or_else(|| {
                let m = format!("revisit step {step:?} is not AGE=INTERVAL (e.g. \"3h=15m\")");
                (i, m)
            })?;
            let parse = |v: &str| {
                humantime::parse_duration(v.trim())
                    .map_err(|e| (i, format!("revisit step {step:?}: {v:?}: {e}")))
            };
            let (age, every) = (parse(age)?, parse(every)?);
            if every.is_zero() {
                return Err((
                    i,
                    format!("revisit step {step:?}: interval must be positive"),
                ));
            }
            if out.last().is_some_and(|(prev, _)| *prev >= age) {
                return Err((i, format!("revisit step {step:?}: ages must increase")));
            }
            out.push((age, every));
        }
        Ok(Self { steps: out })
    }

    /// The revisit interval for a page unchanged for `age`; `None`: stop.
    pub fn interval(&self, age: Duration) -> Option<Duration> {
        self.steps
            .iter()
            .find(|(under, _)| age < *under)
            .map(|(_, every)| *every)
    }
}

impl Scope {
    /// Whether `url` belongs to this seed's site and passes its patterns
    /// (matched against path and query).
    pub fn contains(&self, url: &CanonicalUrl) -> bool {
        self.contains_on(url, &self.host)
    }

    /// [`Scope::contains`] with the site at `host` standing for the seed's
    /// (where the seed redirected to: see `frontier::judge`).
    pub fn contains_on(&self, url: &CanonicalUrl, host: &str) -> bool {
        if !same_site(url.host(), host) {
            return false;
        }
        let path = url.path_and_query();
        (self.include.is_empty() || self.include.iter().any(|r| r.is_match(&path)))
            && !self.exclude.iter().any(|r| r.is_match(&path))
    }
}

/// Whether two host names are one site: equal, or equal but for a leading
/// `www.` (a bare domain that redirects to `www.` is the same site).
pub fn same_site(a: &str, b: &str) -> bool {
    a.strip_prefix("www.").unwrap_or(a) == b.strip_prefix("www.").unwrap_or(b)
}

/// One seed URL with its scope and revisit schedule.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The seed URL.
    pub url: CanonicalUrl,
    /// What is followed from it, and how often `watch` revisits it.
    pub scope: Arc<Scope>,
}

/// URLs never captured one host's frontier holds by default: a sitemap's
/// most (50 000 by the protocol) fits, while an endless site stops growing
/// at tens of megabytes of archive instead of gigabytes an hour.
pub const DEFAULT_MAX_QUEUE_PER_HOST: u64 = 50_000;
/// Sitemaps and feeds queued per host and pass by default: a news site's
/// index of monthly or daily sitemaps fits; nested indexes that multiply
/// to a million documents stop here.
pub const DEFAULT_MAX_LISTINGS_PER_HOST: u64 = 1_000;
/// The longest `Crawl-delay` honoured by default: the longest pause a
/// `Retry-After` is waited for, so no host makes the crawl wait longer
/// between two requests, whichever way it asks.
pub const DEFAULT_MAX_CRAWL_DELAY: Duration = crate::politeness::MAX_WAIT;

/// How long one page's parsing and extraction may take by default. Input
/// caps keep real and hostile pages far below it (a second or two for the
/// largest page a release build is allowed to parse, on a loaded machine).
pub const DEFAULT_ANALYSIS_BUDGET: Duration = Duration::from_secs(60);

/// Everything a crawl needs, validated.
#[derive(Debug, Clone)]
pub struct CrawlConfig {
    /// The seed URLs, each with its scope.
    pub seeds: Vec<Seed>,
    /// The `User-Agent` every request sends.
    pub user_agent: String,
    /// Requests per second to one host (a `Crawl-delay` can slow it further).
    pub rate: Rate,
    /// Requests in flight at once, over all hosts.
    pub concurrency: usize,
    /// Longest wait for a whole response.
    pub timeout: Duration,
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// Longest silence while a response is read.
    pub idle_timeout: Duration,
    /// Largest body kept, in bytes after decompression; a longer body is cut.
    pub max_body: u64,
    /// Pages admitted in a pass at most, over all hosts.
    pub max_pages: Option<u64>,
    /// Pages admitted in a pass at most, per host.
    pub max_pages_per_host: Option<u64>,
    /// URLs never yet captured that one host's frontier holds at most; a
    /// URL found beyond it is not queued (counted in the summary).
    pub max_queue_per_host: u64,
    /// Sitemaps and feeds queued per host in a pass at most.
    pub max_listings_per_host: u64,
    /// The longest `Crawl-delay` honoured; a longer one is cut to it.
    pub max_crawl_delay: Duration,
    /// How long one page's parsing and extraction may take: past it the
    /// capture is kept without its article and the CPU slot freed.
    pub analysis_budget: Duration,
    /// Times a page whose fetch failed transiently is tried again in a pass.
    pub max_retries: u32,
    /// Host names resolved to a given address instead of by DNS.
    pub resolve: Vec<ResolvePin>,
    /// Private, loopback and link-local addresses may be fetched.
    pub allow_private: bool,
    /// Start a new pass even when the last one was interrupted.
    pub fresh: bool,
    /// How long a host of a shared (PostgreSQL) archive stays with a
    /// crawling process that stopped renewing its lease.
    pub lease: Duration,
    /// The scope of seeds given as URLs, and the defaults of seed-file seeds.
    pub default_scope: Scope,
    /// Site profiles (selectors) by host.
    pub profiles: HashMap<String, Arc<Profile>>,
    /// `watch`: pages are queued again for revisits instead of finishing.
    pub watch: bool,
    /// Where the crawl's times come from.
    pub clock: Clock,
}

impl CrawlConfig {
    /// The robots.txt product token: the User-Agent up to its first `/` or space.
    pub fn product_token(&self) -> &str {
        self.user_agent
            .split(['/', ' '])
            .next()
            .filter(|t| !t.is_empty())
            .unwrap_or("palimpsest")
    }

    /// A configuration without seeds or limits, for work that admits pages
    /// without crawling them (`import-warc`).
    pub fn unlimited() -> Self {
        Self {
            seeds: Vec::new(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            rate: Rate { per_second: 1.0 },
            concurrency: 1,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(15),
            max_body: DEFAULT_MAX_BODY,
            max_pages: None,
            max_pages_per_host: None,
            max_queue_per_host: u64::MAX,
            max_listings_per_host: u64::MAX,
            max_crawl_delay: DEFAULT_MAX_CRAWL_DELAY,
            analysis_budget: DEFAULT_ANALYSIS_BUDGET,
            max_retries: 0,
            resolve: Vec::new(),
            allow_private: false,
            fresh: false,
            lease: DEFAULT_LEASE,
            default_scope: Scope {
                host: String::new(),
                include: Vec::new(),
                exclude: Vec::new(),
                depth: 0,
                source_hops: 0,
                every: None,
                revisit: RevisitSchedule::default(),
            },
            profiles: HashMap::new(),
            watch: false,
            clock: Clock::System,
        }
    }

    /// The scope rules of the seed whose host is `host`, if any.
    pub fn scope_of(&self, host: &str) -> Option<&Arc<Scope>> {
        self.seeds
            .iter()
            .find(|s| s.scope.host == host)
            .map(|s| &s.scope)
    }

    /// The site profile for `host`, if its seed file gives one.
    pub fn profile_for(&self, host: &str) -> Option<&Arc<Profile>> {
        self.profiles.get(host)
    }
}

/// Crawl options given on the command line; `None` leaves the seed file's
/// `[crawl]` value (or the default) in force.
#[derive(Debug, Clone, Default)]
pub struct CrawlFlags {
    /// Seed URLs.
    pub urls: Vec<String>,
    /// Seed files (TOML).
    pub seed_files: Vec<PathBuf>,
    /// `--depth`: links followed from a seed at most.
    pub depth: Option<u32>,
    /// `--max-pages`: pages admitted in a pass at most.
    pub max_pages: Option<u64>,
    /// `--max-pages-per-host`: pages admitted per host in a pass at most.
    pub max_pages_per_host: Option<u64>,
    /// `--max-queue-per-host`: URLs never captured one host's frontier holds at most.
    pub max_queue_per_host: Option<u64>,
    /// `--max-listings-per-host`: sitemaps and feeds queued per host in a pass at most.
    pub max_listings_per_host: Option<u64>,
    /// `--max-crawl-delay`: the longest `Crawl-delay` honoured, in seconds.
    pub max_crawl_delay: Option<u64>,
    /// `--parse-budget`: seconds one page's parsing and extraction may take.
    pub parse_budget: Option<u64>,
    /// `--rate`: `2/s`, `30/m`, `100/h`, or a number per second.
    pub rate: Option<String>,
    /// `--concurrency`: requests in flight at once.
    pub concurrency: Option<usize>,
    /// `--user-agent`.
    pub user_agent: Option<String>,
    /// `--timeout`: seconds to wait for a whole response.
    pub timeout: Option<u64>,
    /// `--max-body`: a size such as `10MiB`.
    pub max_body: Option<String>,
    /// `--resolve HOST:PORT:ADDR` pins.
    pub resolve: Vec<String>,
    /// `--allow-private`: private and loopback addresses may be fetched.
    pub allow_private: bool,
    /// `--fresh`: start a new pass instead of resuming.
    pub fresh: bool,
    /// `--lease`: how long a crawling process holds a host of a shared
    /// (PostgreSQL) archive without renewing.
    pub lease: Option<Duration>,
    /// `--source-hops`: source citations followed off-site at most.
    pub source_hops: Option<u32>,
    /// `--no-search-index`: leave the search index to catch up at the next
    /// search instead of keeping it up to date while crawling.
    pub no_search_index: bool,
    /// Where the crawl's times come from (a test clock, or real time).
    pub clock: Clock,
}

/// `[crawl]` table of a seed file. Values that are checked after parsing
/// keep where they were written, so that an error names their own line.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CrawlDefaults {
    revisit: Option<Vec<Spanned<String>>>,
    user_agent: Option<Spanned<String>>,
    rate: Option<Spanned<String>>,
    depth: Option<u32>,
    concurrency: Option<Spanned<usize>>,
    timeout: Option<Spanned<u64>>,
    max_body: Option<Spanned<String>>,
    max_pages: Option<u64>,
    max_pages_per_host: Option<u64>,
    source_hops: Option<u32>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
}

/// `[[seed]]` table of a seed file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedSpec {
    url: Spanned<String>,
    every: Option<Spanned<String>>,
    revisit: Option<Vec<Spanned<String>>>,
    depth: Option<u32>,
    source_hops: Option<u32>,
    include: Option<Vec<Spanned<String>>>,
    exclude: Option<Vec<Spanned<String>>>,
}

impl SeedSpec {
    fn url_only(url: Spanned<String>) -> Self {
        Self {
            url,
            every: None,
            revisit: None,
            depth: None,
            source_hops: None,
            include: None,
            exclude: None,
        }
    }
}

/// A whole seed file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    #[serde(default)]
    crawl: CrawlDefaults,
    #[serde(default)]
    seed: Vec<SeedSpec>,
    #[serde(default)]
    profile: Vec<Spanned<ProfileSpec>>,
}

/// A seed file after parsing, before merging with flags.
struct LoadedSeeds {
    path: PathBuf,
    text: String,
    file: SeedFile,
}

fn load_seed_file(path: &Path) -> Result<LoadedSeeds, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let is_toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let file = if is_toml {
        toml::from_str::<SeedFile>(&text).map_err(|e| ConfigError::Seed {
            path: path.to_path_buf(),
            line: e.span().map(|s| line_of(&text, s.start)).unwrap_or(1),
            message: e.message().trim().replace('\n', " "),
        })?
    } else {
        SeedFile {
            seed: text_seeds(&text),
            ..SeedFile::default()
        }
    };
    Ok(LoadedSeeds {
        path: path.to_path_buf(),
        text,
        file,
    })
}

/// A text seed file: one URL a line; `#` starts a comment.
fn text_seeds(text: &str) -> Vec<SeedSpec> {
    let mut seeds = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.split('#').next().unwrap_or_default();
        let url = content.trim();
        if !url.is_empty() {
            let start = offset + (content.len() - content.trim_start().len());
            seeds.push(SeedSpec::url_only(Spanned::new(
                start..start + url.len(),
                url.to_string(),
            )));
        }
        offset += line.len();
    }
    seeds
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl LoadedSeeds {
    /// An error about the value written at `span`.
    fn error_at(&self, span: Range<usize>, message: String) -> ConfigError {
        ConfigError::Seed {
            path: self.path.clone(),
            line: line_of(&self.text, span.start),
            message,
        }
    }

    /// Compiles patterns; a bad one is reported as "invalid {what}".
    fn patterns(&self, list: &[Spanned<String>], what: &str) -> Result<Vec<Regex>, ConfigError> {
        list.iter()
            .map(|p| {
                Regex::new(p.get_ref()).map_err(|e| {
                    let reason = regex_reason(&e);
                    self.error_at(
                        p.span(),
                        format!("invalid {what} {:?}: {reason}", p.get_ref()),
                    )
                })
            })
            .collect()
    }

    fn revisit(&self, steps: &[Spanned<String>]) -> Result<RevisitSchedule, ConfigError> {
        let plain: Vec<&str> = steps.iter().map(|s| s.get_ref().as_str()).collect();
        RevisitSchedule::parse_steps(&plain)
            .map_err(|(step, message)| self.error_at(steps[step].span(), message))
    }

    fn every(&self, every: &Spanned<String>) -> Result<Duration, ConfigError> {
        let text = every.get_ref();
        let bad = |reason: String| {
            self.error_at(every.span(), format!("invalid `every` {text:?}: {reason}"))
        };
        let every = humantime::parse_duration(text).map_err(|e| bad(e.to_string()))?;
        if every.is_zero() {
            return Err(bad("must be longer than zero".into()));
        }
        Ok(every)
    }

    /// One `[[seed]]` of this file with its scope; a flag overrides every
    /// seed, a seed's own value its file's default.
    fn seed(
        &self,
        spec: &SeedSpec,
        flags: &CrawlFlags,
        defaults: &Scope,
    ) -> Result<Seed, ConfigError> {
        let url = CanonicalUrl::parse(spec.url.get_ref())
            .map_err(|e| self.error_at(spec.url.span(), e.to_string()))?;
        let patterns = |own: &Option<Vec<Spanned<String>>>, default: &Vec<Regex>| match own {
            Some(list) => self.patterns(list, "pattern"),
            None => Ok(default.clone()),
        };
        let revisit = match &spec.revisit {
            Some(steps) => self.revisit(steps)?,
            None => defaults.revisit.clone(),
        };
        Ok(Seed {
            scope: Arc::new(Scope {
                host: url.host().to_string(),
                every: spec.every.as_ref().map(|e| self.every(e)).transpose()?,
                revisit,
                include: patterns(&spec.include, &defaults.include)?,
                exclude: patterns(&spec.exclude, &defaults.exclude)?,
                depth: flags.depth.or(spec.depth).unwrap_or(defaults.depth),
                source_hops: flags
                    .source_hops
                    .or(spec.source_hops)
                    .unwrap_or(defaults.source_hops),
            }),
            url,
        })
    }

    /// A `[[profile]]`; a bad selector is looked for within its own table.
    fn profile(&self, spec: &Spanned<ProfileSpec>) -> Result<Profile, ConfigError> {
        Profile::compile(spec.get_ref()).map_err(|e| {
            // The span of an array-of-tables entry may cover only its header.
            let table = spec.span().start;
            let at = self
                .text
                .get(table..)
                .and_then(|t| t.find(&e.selector))
                .map_or(table, |o| table + o);
            self.error_at(at..at, e.to_string())
        })
    }
}

/// The regex crate's message, on one line: what is wrong and where
/// (its own rendering draws a caret under the pattern, over several lines).
pub fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().collect();
    let message = lines.iter().rev().find_map(|l| l.strip_prefix("error: "));
    // "regex parse error:", the pattern, the caret line, "error: …"
    let caret = match lines.as_slice() {
        [_, _, caret, _] => caret.find('^').map(|c| c.saturating_sub(3)),
        _ => None,
    };
    match (message, caret) {
        (Some(m), Some(at)) => format!("{m} (at character {at})"),
        (Some(m), None) => m.to_string(),
        _ => lines
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The flag's value if given, else the first seed file's `[crawl]` value,
/// checked by `check`; a file value that fails names its line.
fn setting<T, R>(
    flag: Option<&T>,
    file: Option<&Spanned<T>>,
    seeds: Option<&LoadedSeeds>,
    check: impl Fn(&T) -> Result<R, ConfigError>,
) -> Result<Option<R>, ConfigError> {
    if let Some(value) = flag {
        return check(value).map(Some);
    }
    match (file, seeds) {
        (Some(value), Some(seeds)) => check(value.get_ref())
            .map(Some)
            .map_err(|e| seeds.error_at(value.span(), e.to_string())),
        _ => Ok(None),
    }
}

/// Zero of something there must be at least one of.
fn at_least_one(what: &'static str, n: u64, unit: &str) -> Result<u64, ConfigError> {
    if n == 0 {
        return Err(ConfigError::Value {
            what,
            value: "0".into(),
            reason: format!("must be at least 1{unit}"),
        });
    }
    Ok(n)
}

fn check_user_agent(user_agent: &str) -> Result<String, ConfigError> {
    if user_agent.trim().is_empty() || user_agent.contains(['\r', '\n']) {
        return Err(ConfigError::Value {
            what: "user agent",
            value: user_agent.to_string(),
            reason: "must be one non-empty line".into(),
        });
    }
    Ok(user_agent.to_string())
}

/// The scope of seeds given as URLs, and the defaults of seed-file seeds.
fn default_scope(flags: &CrawlFlags, first: Option<&LoadedSeeds>) -> Result<Scope, ConfigError> {
    let defaults = crawl_defaults(first);
    let patterns = |list: &[Spanned<String>], what: &str| match first {
        Some(f) => f.patterns(list, what),
        None => Ok(Vec::new()),
    };
    let revisit = match (&defaults.revisit, first) {
        (Some(steps), Some(f)) => f.revisit(steps)?,
        _ => RevisitSchedule::default(),
    };
    Ok(Scope {
        host: String::new(),
        include: patterns(&defaults.include, "include pattern")?,
        exclude: patterns(&defaults.exclude, "exclude pattern")?,
        depth: flags.depth.or(defaults.depth).unwrap_or(2),
        source_hops: flags.source_hops.or(defaults.source_hops).unwrap_or(1),
        every: None,
        revisit,
    })
}

/// The `[crawl]` table in force: the first seed file's, or none.
fn crawl_defaults(first: Option<&LoadedSeeds>) -> &CrawlDefaults {
    static NONE: CrawlDefaults = CrawlDefaults {
        revisit: None,
        user_agent: None,
        rate: None,
        depth: None,
        concurrency: None,
        timeout: None,
        max_body: None,
        max_pages: None,
        max_pages_per_host: None,
        source_hops: None,
        include: Vec::new(),
        exclude: Vec::new(),
    };
    first.map_or(&NONE, |f| &f.file.crawl)
}

/// How each request is made: who it says it is, how often it may go to a
/// host, how many go at once, how long it waits and how much it keeps.
struct Requests {
    user_agent: String,
    rate: Rate,
    concurrency: usize,
    timeout: Duration,
    max_body: u64,
}

impl Requests {
    /// Each from its flag, else the first seed file's `[crawl]` value, else
    /// the default; checked in the order users see their errors.
    fn from_flags(flags: &CrawlFlags, first: Option<&LoadedSeeds>) -> Result<Self, ConfigError> {
        let defaults = crawl_defaults(first);
        let rate = setting(flags.rate.as_ref(), defaults.rate.as_ref(), first, |r| {
            Rate::parse(r)
        })?;
        let max_body = setting(
            flags.max_body.as_ref(),
            defaults.max_body.as_ref(),
            first,
            |s| parse_size(s),
        )?;
        let timeout = setting(
            flags.timeout.as_ref(),
            defaults.timeout.as_ref(),
            first,
            |&t| at_least_one("timeout", t, " second"),
        )?;
        let concurrency = setting(
            flags.concurrency.as_ref(),
            defaults.concurrency.as_ref(),
            first,
            |&n| at_least_one("concurrency", n as u64, "").map(|_| n),
        )?;
        let user_agent = setting(
            flags.user_agent.as_ref(),
            defaults.user_agent.as_ref(),
            first,
            |ua| check_user_agent(ua),
        )?;
        Ok(Self {
            user_agent: user_agent.unwrap_or_else(|| DEFAULT_USER_AGENT.to_string()),
            rate: rate.unwrap_or(Rate { per_second: 1.0 }),
            concurrency: concurrency.unwrap_or(16),
            timeout: Duration::from_secs(timeout.unwrap_or(30)),
            max_body: max_body.unwrap_or(DEFAULT_MAX_BODY),
        })
    }
}

/// What is crawled: the seeds, each with its scope, and the site profiles.
struct Seeds {
    seeds: Vec<Seed>,
    profiles: HashMap<String, Arc<Profile>>,
}

impl Seeds {
    /// Seed URLs given as flags first, then each file's seeds and profiles;
    /// at least one seed is needed.
    fn gather(
        flags: &CrawlFlags,
        files: &[LoadedSeeds],
        default_scope: &Scope,
    ) -> Result<Self, ConfigError> {
        let mut seeds = Vec::new();
        for url in &flags.urls {
            let url = CanonicalUrl::parse(url)?;
            seeds.push(Seed {
                scope: Arc::new(Scope {
                    host: url.host().to_string(),
                    ..default_scope.clone()
                }),
                url,
            });
        }
        let mut profiles = HashMap::new();
        for loaded in files {
            for spec in &loaded.file.seed {
                seeds.push(loaded.seed(spec, flags, default_scope)?);
            }
            for spec in &loaded.file.profile {
                let profile = loaded.profile(spec)?;
                profiles.insert(profile.host.clone(), Arc::new(profile));
            }
        }
        if seeds.is_empty() {
            return Err(ConfigError::NoSeeds);
        }
        Ok(Self { seeds, profiles })
    }
}

impl CrawlConfig {
    /// Builds the configuration from flags and the seed files they name.
    /// Flags win over the first seed file's `[crawl]` table.
    pub fn from_flags(flags: &CrawlFlags) -> Result<Self, ConfigError> {
        let files = flags
            .seed_files
            .iter()
            .map(|p| load_seed_file(p))
            .collect::<Result<Vec<_>, _>>()?;
        let first = files.first();
        let requests = Requests::from_flags(flags, first)?;
        let default_scope = default_scope(flags, first)?;
        let Seeds { seeds, profiles } = Seeds::gather(flags, &files, &default_scope)?;
        let resolve = flags
            .resolve
            .iter()
            .map(|r| ResolvePin::parse(r))
            .collect::<Result<Vec<_>, _>>()?;
        let defaults = crawl_defaults(first);
        Ok(Self {
            seeds,
            user_agent: requests.user_agent,
            rate: requests.rate,
            concurrency: requests.concurrency,
            timeout: requests.timeout,
            connect_timeout: requests.timeout.min(Duration::from_secs(10)),
            idle_timeout: requests.timeout.min(Duration::from_secs(15)),
            max_body: requests.max_body,
            max_pages: flags.max_pages.or(defaults.max_pages),
            max_pages_per_host: flags.max_pages_per_host.or(defaults.max_pages_per_host),
            max_queue_per_host: flags
                .max_queue_per_host
                .unwrap_or(DEFAULT_MAX_QUEUE_PER_HOST),
            max_listings_per_host: flags
                .max_listings_per_host
                .unwrap_or(DEFAULT_MAX_LISTINGS_PER_HOST),
            max_crawl_delay: flags
                .max_crawl_delay
                .map_or(DEFAULT_MAX_CRAWL_DELAY, Duration::from_secs),
            analysis_budget: flags
                .parse_budget
                .map_or(DEFAULT_ANALYSIS_BUDGET, Duration::from_secs),
            max_retries: 3,
            resolve,
            allow_private: flags.allow_private,
            fresh: flags.fresh,
            lease: flags.lease.unwrap_or(DEFAULT_LEASE),
            default_scope,
            profiles,
            watch: false,
            clock: flags.clock,
        })
    }
}

/// How long a crawling process holds a host of a shared archive without
/// renewing its lease, unless `--lease` says.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// The `[[profile]]` tables of seed files, by host (for `reextract` and
/// `import-warc`, which extract without crawling).
pub fn profiles_by_host(paths: &[PathBuf]) -> Result<HashMap<String, Arc<Profile>>, ConfigError> {
    Ok(load_profiles(paths)?
        .into_iter()
        .map(|p| (p.host.clone(), Arc::new(p)))
        .collect())
}

/// Loads only the `[[profile]]` tables of seed files (for `extract`).
pub fn load_profiles(paths: &[PathBuf]) -> Result<Vec<Profile>, ConfigError> {
    let mut out = Vec::new();
    for path in paths {
        let loaded = load_seed_file(path)?;
        for spec in &loaded.file.profile {
            out.push(loaded.profile(spec)?);
        }
    }
    Ok(out)
}

/// Parses a listening address: `IP:PORT`, `localhost:PORT` (loopback,
/// looked up nowhere), or a bare port on 127.0.0.1.
pub fn parse_bind(s: &str) -> Result<SocketAddr, ConfigError> {
    let t = s.trim();
    if let Ok(addr) = t.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let loopback = IpAddr::from([127, 0, 0, 1]);
    if let Ok(port) = t.parse::<u16>() {
        return Ok(SocketAddr::new(loopback, port));
    }
    let bad = |reason: &str| ConfigError::Value {
        what: "address",
        value: s.to_string(),
        reason: reason.into(),
    };
    let (host, port) = t
        .rsplit_once(':')
        .ok_or_else(|| bad("expected IP:PORT, e.g. 127.0.0.1:8080"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| bad("the port must be a number from 0 to 65535"))?;
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return Ok(SocketAddr::new(loopback, port));
    }
    Err(bad(
        "expected an IP address and port (e.g. 127.0.0.1:8080); the only host name taken is localhost",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_sizes_parse() {
        assert_eq!(
            Rate::parse("2/s").unwrap().period(),
            Duration::from_millis(500)
        );
        assert_eq!(
            Rate::parse("30/m").unwrap().period(),
            Duration::from_secs(2)
        );
        assert_eq!(
            Rate::parse("4").unwrap().period(),
            Duration::from_millis(250)
        );
        assert!(Rate::parse("0/s").is_err());
        assert!(Rate::parse("fast").is_err());
        assert_eq!(parse_size("64KiB").unwrap(), 65536);
        assert_eq!(parse_size("10MiB").unwrap(), 10 * 1024 * 1024);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("ten").is_err());
    }

    #[test]
    fn resolve_pins_parse() {
        let pin = ResolvePin::parse("News.test:8080:127.0.0.1").unwrap();
        assert_eq!(pin.host, "news.test");
        assert_eq!(pin.socket_addr().to_string(), "127.0.0.1:8080");
        assert_eq!(
            ResolvePin::parse("a.test:80:[::1]")
                .unwrap()
                .addr
                .to_string(),
            "::1"
        );
        assert!(ResolvePin::parse("a.test:http:127.0.0.1").is_err());
        assert!(ResolvePin::parse("a.test:80").is_err());
    }

    #[test]
    fn seed_file_errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(
            &path,
            "[crawl]\nrate = \"1/s\"\n\n[[seed]]\nurl = \"https://a.test/\"\ncolour = 3\n",
        )
        .unwrap();
        let err = CrawlConfig::from_flags(&CrawlFlags {
            seed_files: vec![path.clone()],
            ..Default::default()
        })
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("{}:6:", path.display())), "{msg}");
        assert!(msg.contains("colour"), "{msg}");
    }

    #[test]
    fn listening_addresses_parse_without_lookups() {
        let parse = |s: &str| parse_bind(s).map(|a| a.to_string());
        assert_eq!(parse("127.0.0.1:8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(parse("[::1]:8080").unwrap(), "[::1]:8080");
        assert_eq!(parse("localhost:8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(parse("LocalHost.:0").unwrap(), "127.0.0.1:0");
        assert_eq!(parse("8080").unwrap(), "127.0.0.1:8080");
        for bad in [
            "news.test:8080",
            "localhost",
            "localhost:http",
            "127.0.0.1:70000",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn regex_errors_are_one_line_with_the_position() {
        // Built at run time: clippy checks literal patterns.
        let compile = |p: &str| Regex::new(p).unwrap_err();
        let e = compile(&["^/world/", "("].concat());
        assert_eq!(regex_reason(&e), "unclosed group (at character 9)");
        let e = compile(&["a{99999999", "}"].concat());
        assert!(!regex_reason(&e).contains('\n'), "{}", regex_reason(&e));
    }

    #[test]
    fn scope_is_host_and_patterns() {
        let scope = Scope {
            host: "a.test".into(),
            include: vec![Regex::new("^/news/").unwrap()],
            exclude: vec![Regex::new(r"\?print").unwrap()],
            depth: 2,
            source_hops: 1,
            every: None,
            revisit: RevisitSchedule::default(),
        };
        assert!(scope.contains(&CanonicalUrl::parse("http://a.test/news/1").unwrap()));
        assert!(!scope.contains(&CanonicalUrl::parse("http://a.test/about").unwrap()));
        assert!(!scope.contains(&CanonicalUrl::parse("http://a.test/news/1?print").unwrap()));
        assert!(!scope.contains(&CanonicalUrl::parse("http://b.test/news/1").unwrap()));
    }
}

#[cfg(test)]
mod example_seeds {
    use super::*;

    /// The example seed files in `seeds/` are part of the documentation;
    /// they must always load.
    #[test]
    fn example_seed_files_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
        for file in ["news.toml", "urls.txt"] {
            let config = CrawlConfig::from_flags(&CrawlFlags {
                seed_files: vec![dir.join(file)],
                ..Default::default()
            })
            .unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(!config.seeds.is_empty(), "{file}");
        }
    }
}

/// Parses a point in time as users write it: RFC 3339
/// (`2025-10-01T08:00:00Z`), a date (`2025-10-01`, midnight UTC), or a
/// duration ago (`24h`, `7d`, `30m`).
pub fn parse_when(s: &str) -> Result<chrono::DateTime<chrono::Utc>, ConfigError> {
    parse_when_at(s, chrono::Utc::now())
}

/// [`parse_when`], with a duration ago counted back from `now`.
pub fn parse_when_at(
    s: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, ConfigError> {
    let t = s.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(d.to_utc());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        && let Some(dt) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(dt.and_utc());
    }
    if let Ok(ago) = humantime::parse_duration(t)
        && let Ok(ago) = chrono::TimeDelta::from_std(ago)
        && let Some(when) = now.checked_sub_signed(ago)
    {
        return Ok(when);
    }
    Err(ConfigError::Value {
        what: "time",
        value: s.to_string(),
        reason: "expected RFC 3339 (2025-10-01T08:00:00Z), a date (2025-10-01) or a duration ago (24h, 7d)".into(),
    })
}

#[cfg(test)]
mod revisit_tests {
    use super::*;

    #[test]
    fn default_schedule_slows_with_age_then_stops() {
        let s = RevisitSchedule::default();
        let h = |n: u64| Duration::from_secs(n * 3600);
        assert_eq!(s.interval(h(1)), Some(Duration::from_secs(15 * 60)));
        assert_eq!(s.interval(h(5)), Some(h(1)));
        assert_eq!(s.interval(h(48)), Some(h(6)));
        assert_eq!(s.interval(h(24 * 10)), Some(h(72)));
        assert_eq!(s.interval(h(24 * 100)), Some(h(24 * 30)));
        assert_eq!(s.interval(h(24 * 400)), None);
    }

    #[test]
    fn schedules_parse_and_validate() {
        let s = RevisitSchedule::parse(&["3s=1s".into(), "1m=5s".into()]).unwrap();
        assert_eq!(
            s.interval(Duration::from_secs(2)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            s.interval(Duration::from_secs(30)),
            Some(Duration::from_secs(5))
        );
        assert!(RevisitSchedule::parse(&["3h".into()]).is_err());
        assert!(RevisitSchedule::parse(&["1d=1h".into(), "3h=15m".into()]).is_err());
    }
}

#[cfg(test)]
mod when_tests {
    use super::*;

    #[test]
    fn times_users_write() {
        assert_eq!(
            parse_when("2025-10-01").unwrap().to_rfc3339(),
            "2025-10-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_when("2025-10-01T08:00:00+02:00")
                .unwrap()
                .to_rfc3339(),
            "2025-10-01T06:00:00+00:00"
        );
        let day_ago = parse_when("1d").unwrap();
        assert!((chrono::Utc::now() - day_ago).num_hours() == 24);
        assert!(parse_when("yesterday-ish").is_err());
    }
}
