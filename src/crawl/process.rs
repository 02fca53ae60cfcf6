//! The CPU stage of the pipeline: hashing, compressing, decoding and
//! extracting one fetched page. Runs on blocking threads, never on the
//! reactor; takes owned bytes and returns owned results.

use crate::archive::{Archive, ArticleBlob, CaptureRecord, PayloadBlob, Store, Truncation, UrlId};
use crate::article::Article;
use crate::canonical::CanonicalUrl;
use crate::digest::ContentDigest;
use crate::discover::{self, Listing};
use crate::extract::{self, LinkKind, Profile};
use crate::fetch::{Exchange, FetchError, Outcome, PageFetch};
use crate::frontier::{Discovered, Found, QueueEntry};

/// Links one HTML page may add to the frontier at most (a sitemap or feed
/// may list up to 50 000); a page of more is a trap or a dump, not news.
const MAX_LINKS_PER_PAGE: usize = 5_000;

/// A fetched page ready for the archive writer.
#[derive(Debug)]
pub(crate) struct Processed {
    pub entry: QueueEntry,
    pub result: PageResult,
}

#[derive(Debug)]
pub(crate) enum PageResult {
    Captured(Box<Captured>),
    Disallowed(crate::politeness::Refusal),
    Failed(FetchError),
}

#[derive(Debug)]
pub(crate) struct Captured {
    pub capture: CaptureRecord,
    /// The payload compressed, when the archive does not hold it yet.
    pub new_payload: Option<PayloadBlob>,
    pub article: Option<ExtractedArticle>,
    pub found: Vec<Discovered>,
    /// The body was a sitemap or a feed.
    pub is_listing: bool,
    pub retry_after: Option<std::time::Duration>,
    /// Why the body was stored without its analysis, if it was.
    pub analysis_error: Option<String>,
}

/// An article with what the writer needs precomputed: its version identity
/// and its compressed form.
#[derive(Debug)]
pub struct ExtractedArticle {
    pub(crate) article: Article,
    pub(crate) identity: ContentDigest,
    pub(crate) blob: ArticleBlob,
}

impl ExtractedArticle {
    /// Computes the article's version identity and compressed form.
    pub fn new(article: Article) -> Self {
        Self {
            identity: article.identity(),
            blob: ArticleBlob::encode(&article),
            article,
        }
    }
}

/// Turns a page fetch into what the archive writer stores, in two steps:
/// this one hashes and compresses the body (work linear in its size); the
/// returned [`Analysis`], if any, parses it, and runs under the crawl's
/// time budget for one page.
pub(crate) fn process(
    entry: QueueEntry,
    fetch: PageFetch,
    archive: &Archive,
    max_body: u64,
    timeout: std::time::Duration,
) -> (Processed, Option<Analysis>) {
    let (result, analysis) = match fetch.outcome {
        Outcome::Disallowed(reason) => (PageResult::Disallowed(reason), None),
        Outcome::Failed(e) => (PageResult::Failed(e), None),
        // Handled before processing; kept total for safety.
        Outcome::Stopped => (
            PageResult::Failed(FetchError::Transport("stopped before the request".into())),
            None,
        ),
        Outcome::Response(x) => {
            let payload = StoredPayload::of(&x, &fetch.requested, entry.url, archive);
            let (captured, analysis) = captured(
                &fetch.requested,
                fetch.fetched_at,
                fetch.redirects,
                x,
                payload,
                max_body,
                timeout,
            );
            (PageResult::Captured(Box::new(captured)), analysis)
        }
    };
    (Processed { entry, result }, analysis)
}

/// The parsing half of processing a page: sitemap or feed entries, or the
/// article and links of an HTML page.
#[derive(Debug)]
pub(crate) struct Analysis {
    body: Vec<u8>,
    content_type: Option<String>,
    url: CanonicalUrl,
}

/// What an [`Analysis`] found.
#[derive(Debug, Default)]
pub(crate) struct Analyzed {
    article: Option<ExtractedArticle>,
    found: Vec<Discovered>,
    is_listing: bool,
}

impl Analysis {
    /// The analysis of a complete body served as `content_type` at `url`.
    pub(crate) fn new(body: Vec<u8>, content_type: Option<String>, url: CanonicalUrl) -> Self {
        Self {
            body,
            content_type,
            url,
        }
    }

    pub fn run(self, profile: Option<&Profile>, max_body: u64) -> Analyzed {
        let mut out = Analyzed::default();
        let content_type = self.content_type.as_deref();
        if discover::looks_like_xml(content_type, &self.body)
            && let Some(listing) = discover::parse_listing(&self.body, self.url.as_url(), max_body)
        {
            out.is_listing = true;
            let (entries, how) = match listing {
                Listing::SitemapIndex(entries) => (entries, Found::Sitemap),
                Listing::Pages(entries) => (entries, Found::Entry),
            };
            out.found.extend(entries.into_iter().map(|e| Discovered {
                url: e.url,
                how,
                updated: e.updated,
            }));
        } else if is_html(content_type, &self.body) {
            let (text, _) = crate::decode::decode_html(&self.body, content_type);
            let extraction = extract::extract(&text, self.url.as_url(), profile);
            out.found.extend(
                extraction
                    .links
                    .into_iter()
                    .take(MAX_LINKS_PER_PAGE)
                    .map(|l| Discovered {
                        how: match l.kind {
                            LinkKind::Page => Found::Link,
                            LinkKind::Source => Found::Source,
                            LinkKind::Feed => Found::Listing,
                        },
                        url: l.url,
                        updated: None,
                    }),
            );
            out.article = Some(ExtractedArticle::new(extraction.article));
        }
        out
    }
}

impl Analyzed {
    /// The article found, if the body was an HTML page.
    pub(crate) fn into_article(self) -> Option<ExtractedArticle> {
        self.article
    }
}

/// Why a body past `--max-body` has no article (the crawl's words, and
/// `import-warc`'s).
pub(crate) fn body_cut(max_body: u64) -> String {
    format!("body cut at {max_body} bytes (--max-body)")
}

/// The content coding a body is still in: a `Content-Encoding` other than
/// `identity` left on a response (reqwest removes the header of the codings
/// it undoes; `import-warc` those it undoes).
pub(crate) fn still_encoded(content_encoding: Option<&str>) -> Option<&str> {
    content_encoding
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
}

/// Why a body in a coding palimpsest cannot undo has no article: it is
/// stored as received, never read as text.
pub(crate) fn undecodable(coding: &str) -> String {
    format!(
        "body in content coding {coding:?}, which palimpsest cannot decode: stored as received, not extracted"
    )
}

impl Processed {
    /// Adds what the analysis of the page found.
    pub(crate) fn attach(&mut self, analyzed: Analyzed) {
        if let PageResult::Captured(c) = &mut self.result {
            c.article = analyzed.article;
            c.found = analyzed.found;
            c.is_listing = analyzed.is_listing;
        }
    }

    /// The page's analysis did not finish (it ran out of time or failed):
    /// the capture is kept, with the reason as its error.
    pub(crate) fn analysis_failed(&mut self, reason: String) {
        if let PageResult::Captured(c) = &mut self.result {
            c.analysis_error = Some(reason);
        }
    }
}

fn captured(
    requested: &CanonicalUrl,
    fetched_at: chrono::DateTime<chrono::Utc>,
    redirects: Vec<crate::archive::RedirectHop>,
    x: Exchange,
    stored: StoredPayload,
    max_body: u64,
    timeout: std::time::Duration,
) -> (Captured, Option<Analysis>) {
    let StoredPayload {
        digest: payload,
        new: new_payload,
    } = stored;
    let error = x.truncated.map(|t| match t {
        Truncation::Length => body_cut(max_body),
        Truncation::Time => format!(
            "body not received within {}s (--timeout)",
            timeout.as_secs()
        ),
    });
    let content_type = x.header("content-type").map(str::to_string);
    let payload_len = x.body.len() as u64;
    let complete = (200..300).contains(&x.status) && x.truncated.is_none();
    let encoded = still_encoded(x.header("content-encoding"))
        .filter(|_| complete)
        .map(undecodable);
    let analysis =
        (complete && encoded.is_none()).then(|| Analysis::new(x.body, content_type, x.url.clone()));
    let captured = Captured {
        capture: CaptureRecord {
            requested_url: requested.to_string(),
            final_url: x.url.to_string(),
            redirects,
            fetched_at,
            status: x.status,
            request_headers: x.request_headers,
            payload_len,
            headers: x.headers,
            payload,
            truncated: x.truncated,
            error,
            version: None,
        },
        new_payload,
        article: None,
        found: Vec::new(),
        is_listing: false,
        retry_after: x.retry_after,
        analysis_error: encoded,
    };
    (captured, analysis)
}

/// A response's payload as the archive will hold it.
struct StoredPayload {
    /// The body's digest; `None` for a 304 without a body.
    digest: Option<ContentDigest>,
    /// The body compressed, when the archive does not hold it yet.
    new: Option<PayloadBlob>,
}

impl StoredPayload {
    fn of(x: &Exchange, url: &CanonicalUrl, page: UrlId, archive: &Archive) -> Self {
        if x.status == 304 && x.body.is_empty() {
            return Self {
                digest: None,
                new: None,
            };
        }
        let digest = ContentDigest::of(&x.body);
        // A payload the archive already holds costs nothing but its digest.
        let new = match archive.has_payload(&digest) {
            Ok(true) => None,
            _ => Self::compress(x, url, page, archive),
        };
        Self {
            digest: Some(digest),
            new,
        }
    }

    /// Compresses a new payload against the page's previous payload (a
    /// revisit costs its change) or, for a page's first HTML payload,
    /// against its host's reference page (the template costs nothing);
    /// alone when the archive holds neither.
    fn compress(
        x: &Exchange,
        url: &CanonicalUrl,
        page: UrlId,
        archive: &Archive,
    ) -> Option<PayloadBlob> {
        let previous = archive
            .page(page)
            .ok()
            .flatten()
            .and_then(|p| p.last_payload);
        if let Some(previous) = previous {
            return match archive.delta_base(&previous).ok().flatten() {
                Some(base) => PayloadBlob::encode_against(&x.body, &base).ok(),
                None => PayloadBlob::encode(&x.body).ok(),
            };
        }
        let reference = is_html(x.header("content-type"), &x.body)
            .then(|| archive.host_record(&url.authority()).ok().flatten())
            .flatten()
            .and_then(|host| host.reference);
        match reference.and_then(|digest| archive.reference_base(&digest).ok().flatten()) {
            Some(base) => PayloadBlob::encode_on(&x.body, &base).ok(),
            None => PayloadBlob::encode(&x.body).ok(),
        }
    }
}

pub(crate) fn is_html(content_type: Option<&str>, body: &[u8]) -> bool {
    match content_type {
        Some(ct) => {
            let ct = ct.to_ascii_lowercase();
            ct.contains("html")
        }
        None => {
            let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
            head.contains("<html") || head.contains("<!doctype html")
        }
    }
}
