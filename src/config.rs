//! Configuration: seed files and command-line flags become one validated
//! [`CrawlConfig`] — URLs parsed, patterns and selectors compiled, quotas
//! built — so that every mistake is reported before any request is made.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use crate::canonical::{CanonicalUrl, UrlError};
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
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Seed {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("invalid {what} {value:?}: {reason}")]
    Value {
        what: &'static str,
        value: String,
        reason: String,
    },
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error("nothing to crawl: give seed URLs or --seeds FILE")]
    NoSeeds,
}

/// Requests per second to one host.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    per_second: f64,
}

impl Rate {
    pub fn per_second(per_second: f64) -> Option<Self> {
        (per_second.is_finite() && per_second > 0.0).then_some(Self { per_second })
    }

    /// The minimum interval between two requests to one host.
    pub fn period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.per_second)
    }

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
    pub host: String,
    pub port: u16,
    pub addr: IpAddr,
}

impl ResolvePin {
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

    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.addr, self.port)
    }
}

/// Which links of a seed's site are followed.
#[derive(Debug, Clone)]
pub struct Scope {
    pub host: String,
    pub include: Vec<Regex>,
    pub exclude: Vec<Regex>,
    pub depth: u32,
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
        let mut out = Vec::new();
        for step in steps {
            let (age, every) = step.split_once('=').ok_or_else(|| {
                format!("revisit step {step:?} is not AGE=INTERVAL (e.g. \"3h=15m\")")
            })?;
            let parse = |v: &str| {
                humantime::parse_duration(v.trim())
                    .map_err(|e| format!("revisit step {step:?}: {v:?}: {e}"))
            };
            let (age, every) = (parse(age)?, parse(every)?);
            if every.is_zero() {
                return Err(format!("revisit step {step:?}: interval must be positive"));
            }
            if out.last().is_some_and(|(prev, _)| *prev >= age) {
                return Err(format!("revisit step {step:?}: ages must increase"));
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
    pub url: CanonicalUrl,
    pub scope: Arc<Scope>,
}

/// Everything a crawl needs, validated.
#[derive(Debug, Clone)]
pub struct CrawlConfig {
    pub seeds: Vec<Seed>,
    pub user_agent: String,
    pub rate: Rate,
    pub concurrency: usize,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_body: u64,
    pub max_pages: Option<u64>,
    pub max_pages_per_host: Option<u64>,
    pub max_retries: u32,
    pub resolve: Vec<ResolvePin>,
    pub allow_private: bool,
    pub fresh: bool,
    pub default_scope: Scope,
    pub profiles: HashMap<String, Arc<Profile>>,
    /// `watch`: pages are queued again for revisits instead of finishing.
    pub watch: bool,
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
            max_body: 10 * 1024 * 1024,
            max_pages: None,
            max_pages_per_host: None,
            max_retries: 0,
            resolve: Vec::new(),
            allow_private: false,
            fresh: false,
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
        }
    }

    /// The scope rules of the seed whose host is `host`, if any.
    pub fn scope_of(&self, host: &str) -> Option<&Arc<Scope>> {
        self.seeds
            .iter()
            .find(|s| s.scope.host == host)
            .map(|s| &s.scope)
    }

    pub fn profile_for(&self, host: &str) -> Option<&Arc<Profile>> {
        self.profiles.get(host)
    }
}

/// Crawl options given on the command line; `None` leaves the seed file's
/// `[crawl]` value (or the default) in force.
#[derive(Debug, Clone, Default)]
pub struct CrawlFlags {
    pub urls: Vec<String>,
    pub seed_files: Vec<PathBuf>,
    pub depth: Option<u32>,
    pub max_pages: Option<u64>,
    pub max_pages_per_host: Option<u64>,
    pub rate: Option<String>,
    pub concurrency: Option<usize>,
    pub user_agent: Option<String>,
    pub timeout: Option<u64>,
    pub max_body: Option<String>,
    pub resolve: Vec<String>,
    pub allow_private: bool,
    pub fresh: bool,
    pub source_hops: Option<u32>,
}

/// `[crawl]` table of a seed file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CrawlDefaults {
    revisit: Option<Vec<String>>,
    user_agent: Option<String>,
    rate: Option<String>,
    depth: Option<u32>,
    concurrency: Option<usize>,
    timeout: Option<u64>,
    max_body: Option<String>,
    max_pages: Option<u64>,
    max_pages_per_host: Option<u64>,
    source_hops: Option<u32>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

/// `[[seed]]` table of a seed file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedSpec {
    url: String,
    every: Option<String>,
    revisit: Option<Vec<String>>,
    depth: Option<u32>,
    source_hops: Option<u32>,
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
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
    profile: Vec<ProfileSpec>,
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
        // One URL a line; `#` starts a comment.
        SeedFile {
            seed: text
                .lines()
                .map(|l| l.split('#').next().unwrap_or_default().trim())
                .filter(|l| !l.is_empty())
                .map(|url| SeedSpec {
                    url: url.to_string(),
                    every: None,
                    revisit: None,
                    depth: None,
                    source_hops: None,
                    include: None,
                    exclude: None,
                })
                .collect(),
            ..SeedFile::default()
        }
    };
    Ok(LoadedSeeds {
        path: path.to_path_buf(),
        text,
        file,
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Finds the line where `needle` appears, for errors about values that
/// deserialized fine but do not validate.
fn line_containing(text: &str, needle: &str) -> usize {
    text.find(needle).map(|o| line_of(text, o)).unwrap_or(1)
}

fn compile_patterns(
    patterns: &[String],
    on_error: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Vec<Regex>, ConfigError> {
    patterns
        .iter()
        .map(|p| Regex::new(p).map_err(|e| on_error(p, e.to_string())))
        .collect()
}

impl CrawlConfig {
    /// Builds the configuration from flags and the seed files they name.
    /// Flags win over a seed file's `[crawl]` table.
    pub fn from_flags(flags: &CrawlFlags) -> Result<Self, ConfigError> {
        let files = flags
            .seed_files
            .iter()
            .map(|p| load_seed_file(p))
            .collect::<Result<Vec<_>, _>>()?;
        // The first seed file's [crawl] table supplies defaults.
        let defaults = files
            .first()
            .map(|f| f.file.crawl.clone())
            .unwrap_or_default();

        // A bad value from a seed file's [crawl] table names the file and line.
        let from_file = |value: &str, e: ConfigError| match files.first() {
            Some(f) => ConfigError::Seed {
                path: f.path.clone(),
                line: line_containing(&f.text, value),
                message: e.to_string(),
            },
            None => e,
        };
        let rate = match (flags.rate.as_deref(), defaults.rate.as_deref()) {
            (Some(r), _) => Rate::parse(r)?,
            (None, Some(r)) => Rate::parse(r).map_err(|e| from_file(r, e))?,
            (None, None) => Rate { per_second: 1.0 },
        };
        let max_body = match (flags.max_body.as_deref(), defaults.max_body.as_deref()) {
            (Some(s), _) => parse_size(s)?,
            (None, Some(s)) => parse_size(s).map_err(|e| from_file(s, e))?,
            (None, None) => 10 * 1024 * 1024,
        };
        let timeout = Duration::from_secs(flags.timeout.or(defaults.timeout).unwrap_or(30).max(1));
        let depth = flags.depth.or(defaults.depth).unwrap_or(2);
        let source_hops = flags.source_hops.or(defaults.source_hops).unwrap_or(1);
        let value_error = |what: &'static str| {
            move |value: &str, reason: String| ConfigError::Value {
                what,
                value: value.to_string(),
                reason,
            }
        };
        let default_include = compile_patterns(&defaults.include, &|p, e| {
            from_file(p, value_error("include pattern")(p, e))
        })?;
        let default_exclude = compile_patterns(&defaults.exclude, &|p, e| {
            from_file(p, value_error("exclude pattern")(p, e))
        })?;
        let default_revisit = match &defaults.revisit {
            Some(steps) => RevisitSchedule::parse(steps).map_err(|reason| {
                from_file(
                    steps.first().map_or("revisit", String::as_str),
                    ConfigError::Value {
                        what: "revisit schedule",
                        value: steps.join(", "),
                        reason,
                    },
                )
            })?,
            None => RevisitSchedule::default(),
        };
        let default_scope = Scope {
            host: String::new(),
            include: default_include.clone(),
            exclude: default_exclude.clone(),
            depth,
            source_hops,
            every: None,
            revisit: default_revisit.clone(),
        };

        let mut seeds = Vec::new();
        let mut profiles = HashMap::new();
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
        for loaded in &files {
            let at = |needle: &str, message: String| ConfigError::Seed {
                path: loaded.path.clone(),
                line: line_containing(&loaded.text, needle),
                message,
            };
            for spec in &loaded.file.seed {
                let url =
                    CanonicalUrl::parse(&spec.url).map_err(|e| at(&spec.url, e.to_string()))?;
                let pattern_error =
                    |p: &str, e: String| at(p, format!("invalid pattern {p:?}: {e}"));
                let include = match &spec.include {
                    Some(p) => compile_patterns(p, &pattern_error)?,
                    None => default_include.clone(),
                };
                let exclude = match &spec.exclude {
                    Some(p) => compile_patterns(p, &pattern_error)?,
                    None => default_exclude.clone(),
                };
                let every = spec
                    .every
                    .as_deref()
                    .map(|e| {
                        humantime::parse_duration(e)
                            .map_err(|err| at(e, format!("invalid `every` {e:?}: {err}")))
                    })
                    .transpose()?;
                let revisit = match &spec.revisit {
                    Some(steps) => RevisitSchedule::parse(steps)
                        .map_err(|e| at(steps.first().map_or("revisit", String::as_str), e))?,
                    None => default_revisit.clone(),
                };
                seeds.push(Seed {
                    scope: Arc::new(Scope {
                        host: url.host().to_string(),
                        every,
                        revisit,
                        include,
                        exclude,
                        // A flag overrides every seed; a seed's own value its file's default.
                        depth: flags.depth.or(spec.depth).unwrap_or(depth),
                        source_hops: flags
                            .source_hops
                            .or(spec.source_hops)
                            .unwrap_or(source_hops),
                    }),
                    url,
                });
            }
            for spec in &loaded.file.profile {
                let profile = Profile::compile(spec).map_err(|e| at(&e.selector, e.to_string()))?;
                profiles.insert(profile.host.clone(), Arc::new(profile));
            }
        }
        if seeds.is_empty() {
            return Err(ConfigError::NoSeeds);
        }
        let resolve = flags
            .resolve
            .iter()
            .map(|r| ResolvePin::parse(r))
            .collect::<Result<Vec<_>, _>>()?;
        let user_agent = flags
            .user_agent
            .clone()
            .or(defaults.user_agent)
            .unwrap_or_else(|| DEFAULT_USER_AGENT.to_string());
        if user_agent.trim().is_empty() || user_agent.contains(['\r', '\n']) {
            return Err(ConfigError::Value {
                what: "user agent",
                value: user_agent,
                reason: "must be one non-empty line".into(),
            });
        }
        Ok(Self {
            seeds,
            user_agent,
            rate,
            concurrency: flags
                .concurrency
                .or(defaults.concurrency)
                .unwrap_or(16)
                .max(1),
            timeout,
            connect_timeout: timeout.min(Duration::from_secs(10)),
            idle_timeout: timeout.min(Duration::from_secs(15)),
            max_body,
            max_pages: flags.max_pages.or(defaults.max_pages),
            max_pages_per_host: flags.max_pages_per_host.or(defaults.max_pages_per_host),
            max_retries: 3,
            resolve,
            allow_private: flags.allow_private,
            fresh: flags.fresh,
            default_scope,
            profiles,
            watch: false,
        })
    }
}

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
            out.push(Profile::compile(spec).map_err(|e| ConfigError::Seed {
                path: loaded.path.clone(),
                line: line_containing(&loaded.text, &e.selector),
                message: e.to_string(),
            })?);
        }
    }
    Ok(out)
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
        && let Some(when) = chrono::Utc::now().checked_sub_signed(ago)
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
