//! The records the archive stores, as JSON values: self-describing, so that
//! fields can be added (with `#[serde(default)]`) without a migration.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::article::{Article, PageKind};
use crate::canonical::CanonicalUrl;
use crate::digest::ContentDigest;

/// The on-disk format version this build writes: 2 once records may be
/// compressed with a record dictionary, which builds reading only JSON
/// records (schema 1) must refuse rather than misread.
pub(crate) const SCHEMA_VERSION: u32 = 2;
/// The oldest format this build still reads (in place, without migration).
pub(crate) const OLDEST_SCHEMA_READ: u32 = 1;

/// Archive-wide identifier of a canonical URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UrlId(pub u64);

/// Archive-wide identifier of a host (an authority: `host:port`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HostId(pub u64);

/// Why a URL is queued, which decides the bounds it meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A seed, or a page archived already that a new pass visits again:
    /// asked for, not growth, so queued whatever the host's frontier holds.
    Asked,
    /// Found on a page: the host's frontier bound applies.
    Found,
    /// A sitemap or feed found on a page or in robots.txt: the host's
    /// listing bound for the pass applies too.
    Listing,
}

/// How a URL entered the frontier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "via", content = "from")]
pub enum Via {
    /// Given as a seed.
    Seed,
    /// A link on the page with this id.
    Link(UrlId),
    /// Cited as the source of the article with this id.
    Source(UrlId),
    /// Listed in the sitemap with this id.
    Sitemap(UrlId),
    /// An item of the feed with this id.
    Feed(UrlId),
    /// Named by a `Sitemap:` line of the host's robots.txt.
    Robots,
    /// Brought in by `import-warc`.
    Import,
}

/// Where a page stands in the current crawl pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PageState {
    /// Waiting in the frontier to be fetched.
    #[default]
    Queued,
    /// Fetched (any HTTP status, including 304).
    Fetched,
    /// The fetch failed and will not be retried this pass.
    Failed,
    /// robots.txt disallows it (or could not be read): never fetched.
    Disallowed,
}

/// Summary of the newest version, kept on the page for listing without
/// reading the version itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestVersion {
    /// The version's number (1-based).
    pub number: u32,
    /// The version identity (see `Article::identity`).
    pub digest: ContentDigest,
    /// The headline, if extraction found one.
    pub title: Option<String>,
    /// Whether the version is an article or another kind of page.
    pub kind: PageKind,
    /// The article's language code, if known.
    pub language: Option<String>,
    /// When this version was first seen: the page's last change.
    #[serde(default)]
    pub first_seen: Option<DateTime<Utc>>,
}

/// Everything the archive knows about one canonical URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRecord {
    /// The page's canonical URL.
    pub url: CanonicalUrl,
    /// The host the URL belongs to.
    pub host: HostId,
    /// Link hops from the seed.
    pub depth: u32,
    /// Hops taken through source links off the seed's site.
    #[serde(default)]
    pub source_hops: u32,
    /// The seed host whose scope rules apply to this page's links.
    pub scope: String,
    /// How the URL first entered the frontier.
    pub via: Via,
    /// The last crawl pass that queued this page.
    pub pass: u64,
    /// Where the page stands in that pass.
    pub state: PageState,
    /// The `ETag` of the last successful fetch, sent back as `If-None-Match`;
    /// `None` if the server gave none.
    #[serde(default)]
    pub etag: Option<String>,
    /// The `Last-Modified` of the last successful fetch, sent back as
    /// `If-Modified-Since`; `None` if the server gave none.
    #[serde(default)]
    pub last_modified: Option<String>,
    /// Number of captures stored for this page.
    #[serde(default)]
    pub captures: u64,
    /// Fetch time of the newest capture; `None` before the first.
    #[serde(default)]
    pub last_captured: Option<DateTime<Utc>>,
    /// HTTP status of the newest capture; `None` before the first.
    #[serde(default)]
    pub last_status: Option<u16>,
    /// Why the last fetch failed or was refused (an error, an HTTP status of
    /// 400 or more, robots.txt); `None` when it succeeded.
    #[serde(default)]
    pub last_error: Option<String>,
    /// Number of versions stored for this page.
    #[serde(default)]
    pub versions: u32,
    /// The newest version's summary; `None` while the page has no version.
    #[serde(default)]
    pub latest: Option<LatestVersion>,
    /// Retry attempts made for the current pass.
    #[serde(default)]
    pub attempts: u32,
    /// Due time (µs) of this page's frontier entry, while it has one.
    #[serde(default)]
    pub due: Option<u64>,
    /// Fetch time of the oldest capture; `None` before the first.
    #[serde(default)]
    pub first_captured: Option<DateTime<Utc>>,
    /// A sitemap or feed: a discovery source, revisited like a seed.
    #[serde(default)]
    pub listing: bool,
    /// The payload of the newest capture that had one: the base its next
    /// payload is compressed against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_payload: Option<ContentDigest>,
}

impl PageRecord {
    /// A page never fetched, at depth 0 of `scope`, in no pass yet.
    pub fn new(url: CanonicalUrl, host: HostId, scope: String, via: Via) -> Self {
        Self {
            url,
            host,
            depth: 0,
            source_hops: 0,
            scope,
            via,
            pass: 0,
            state: PageState::Queued,
            etag: None,
            last_modified: None,
            captures: 0,
            last_captured: None,
            last_status: None,
            last_error: None,
            versions: 0,
            latest: None,
            attempts: 0,
            due: None,
            first_captured: None,
            listing: false,
            last_payload: None,
        }
    }

    /// Why this page is in the frontier, as `schedule` and the status page
    /// show it: `retry`, `new`, `seed` (seeds, feeds, sitemaps) or `revisit`.
    pub(crate) fn due_reason(&self) -> &'static str {
        if self.attempts > 0 {
            "retry"
        } else if self.captures == 0 {
            "new"
        } else if self.via == Via::Seed || self.listing {
            "seed"
        } else {
            "revisit"
        }
    }
}

/// One hop of a redirect chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectHop {
    /// The URL that answered with a redirect.
    pub url: String,
    /// Its HTTP status (301, 302, 303, 307 or 308).
    pub status: u16,
}

/// Why a stored body is shorter than what the server sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Truncation {
    /// The decompressed body reached `--max-body`.
    Length,
    /// The body did not arrive within the timeouts.
    Time,
}

/// One fetch of one URL that got an HTTP response. Never changed once written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureRecord {
    /// The URL asked for (the page's canonical URL).
    pub requested_url: String,
    /// The URL that gave this response, after redirects.
    pub final_url: String,
    /// The redirects followed from `requested_url` to `final_url`, in order.
    #[serde(default)]
    pub redirects: Vec<RedirectHop>,
    /// When the request was sent.
    pub fetched_at: DateTime<Utc>,
    /// HTTP status of the final response.
    pub status: u16,
    /// The request as sent for the final hop (method is always GET).
    #[serde(default)]
    pub request_headers: Vec<(String, String)>,
    /// Selected response headers (content-type, etag, last-modified, date,
    /// location, content-encoding, content-language…).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body after transfer decoding (gzip/br/deflate removed), if any.
    pub payload: Option<ContentDigest>,
    /// Length of the payload in bytes, as stored (after transfer decoding).
    #[serde(default)]
    pub payload_len: u64,
    /// Why the stored body is incomplete; `None` when it is whole.
    #[serde(default)]
    pub truncated: Option<Truncation>,
    /// What went wrong with this response although it was kept (a cut body,
    /// a failed extraction, a `Retry-After` not waited for); `None` if nothing.
    #[serde(default)]
    pub error: Option<String>,
    /// The article version this capture produced or confirmed.
    #[serde(default)]
    pub version: Option<u32>,
}

impl CaptureRecord {
    /// A kept response header (names are stored lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A distinct extracted article of a URL: its metadata (stored as JSON
/// under `V`) and its article (stored compressed under `W`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// The version's number: 1 for the first, counting up per page.
    pub number: u32,
    /// The version identity (see `Article::identity`).
    pub digest: ContentDigest,
    /// When a capture first showed this version.
    pub first_seen: DateTime<Utc>,
    /// The capture that first showed this version (its key time).
    pub capture_at: DateTime<Utc>,
    /// Made by `reextract` from a stored capture (an extractor change),
    /// not by a change of the page.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reextracted: bool,
    /// The headline, kept with the metadata so listings need not
    /// decompress the article.
    #[serde(default)]
    pub title: Option<String>,
    /// Size of the change from the previous version (for version 1: the
    /// article's words, all added), computed once when the version is made.
    #[serde(default)]
    pub words_added: usize,
    /// Words removed since the previous version (0 for version 1).
    #[serde(default)]
    pub words_removed: usize,
    /// The article itself, stored apart (compressed); empty when only the
    /// metadata was read.
    #[serde(skip)]
    pub article: Article,
}

/// An article as stored: zstd-compressed JSON. Encoded on the CPU stage so
/// the archive writer only moves bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleBlob(pub(super) Vec<u8>);

impl ArticleBlob {
    pub(crate) fn encode(article: &Article) -> Self {
        let json = serde_json::to_vec(article).unwrap_or_default();
        Self(zstd::encode_all(&json[..], 3).unwrap_or(json))
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Article, String> {
        let json = zstd::decode_all(bytes).map_err(|e| e.to_string())?;
        serde_json::from_slice(&json).map_err(|e| e.to_string())
    }
}

/// One frontier entry: `url` of `host` is due at `due` (µs since epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    /// The host whose queue holds the entry.
    pub host: HostId,
    /// When the URL is due (µs since the epoch).
    pub due: u64,
    /// The URL to fetch.
    pub url: UrlId,
}

/// The next identifiers to hand out, kept across runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdCounters {
    /// The `UrlId` the next new URL gets.
    pub next_url: u64,
    /// The `HostId` the next new host gets.
    pub next_host: u64,
}

impl Default for IdCounters {
    fn default() -> Self {
        Self {
            next_url: 1,
            next_host: 1,
        }
    }
}

/// What the archive remembers about one host between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRecord {
    /// The host's id.
    pub id: HostId,
    /// The host's robots.txt as last fetched; `None` until it is.
    #[serde(default)]
    pub robots: Option<RobotsRecord>,
    /// The host asked for no requests before this time (`Retry-After`);
    /// kept so that the next run honours it too.
    #[serde(default)]
    pub paused_until: Option<DateTime<Utc>>,
    /// A page of the host stored whole, the base that a first capture of
    /// another page is compressed against: pages of one site share their
    /// template (head, scripts, navigation, footer), most of their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ContentDigest>,
}

/// A fetched robots.txt, cached per host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotsRecord {
    /// When robots.txt was fetched (or the attempt failed).
    pub fetched_at: DateTime<Utc>,
    /// HTTP status, or `None` when the host could not be reached.
    pub status: Option<u16>,
    /// The robots.txt text; empty when there was none to read.
    pub body: String,
}

/// State of the current (or last) crawl pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassRecord {
    /// The pass's number, counting up from 1 with each crawl (0 for the
    /// placeholder pass of an import into an archive never crawled).
    pub number: u64,
    /// When the pass started.
    pub started_at: DateTime<Utc>,
    /// When its frontier ran empty; `None` while the pass is unfinished
    /// (running, or stopped to be resumed).
    pub finished_at: Option<DateTime<Utc>>,
    /// Pages admitted to the frontier in this pass (for `--max-pages`).
    #[serde(default)]
    pub admitted: u64,
    /// Started by `watch`, whose frontier holds future revisits: a `crawl`
    /// does not resume it, nor `watch` a crawl's pass.
    #[serde(default)]
    pub watch: bool,
}

impl PassRecord {
    pub(crate) fn is_finished(&self) -> bool {
        self.finished_at.is_some()
    }
}

/// Microseconds since the Unix epoch, the time component of keys.
pub fn micros(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp_micros()).unwrap_or(0)
}

pub(crate) fn from_micros(m: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(i64::try_from(m).unwrap_or(i64::MAX)).unwrap_or_default()
}
