//! Archive size: what the archive costs on disk against its own WARC.gz
//! export and per revisit, on loopback sites built from real article pages.
//!
//! **The sites.** `ARCHIVE_BENCH_HOSTS` hosts (`site0.test`, `site1.test`,
//! …), each with a home page listing `ARCHIVE_BENCH_ARTICLES` articles
//! (`/a/N.html`), built at run time from the real pages of
//! `$CARGO_MANIFEST_DIR/../shared/extraction-dev` (or
//! `ARCHIVE_BENCH_PAGES_DIR`); nothing of them is copied into the
//! repository, and the benchmark stops with an error when they are missing.
//! Host i takes one real page as its template: the page minus its own
//! article body (its head, scripts, navigation, sidebars and footer, most of
//! its bytes) stays the same on every page of the host. Each article page
//! puts ANOTHER real article (title and paragraphs from its ground truth)
//! into that template, with its own canonical link, title and description.
//! Links stay on loopback: every `<a href>` of a template points to an
//! article of its own host, and every other absolute URL loses its scheme and
//! host (repeated until none is left; the smoke check looks again), so no
//! crawl can ever look a public name up.
//!
//! **What changes on every load.** A CSP nonce (on every `<script>` tag, in a
//! `<meta>` and as a stylesheet cache-buster) and a "most read" box of five
//! links: both differ on every response, as a real site's edge injects them,
//! so no two payloads of a page are ever byte-identical.
//!
//! **Validators.** `ETag` and `Last-Modified` are derived from the article
//! content (original or edited) and a site generation counter only; the
//! nonce and the most-read box do NOT count for them. A conditional request
//! whose `If-None-Match` matches (or, without one, whose `If-Modified-Since`
//! is not older than `Last-Modified`) is answered 304 with no body.
//!
//! **The passes**, on one archive, the same `palimpsest crawl` command each
//! time (a finished pass is followed by a new one that revisits every page):
//!
//! 1. first crawl: archive bytes and pages/s;
//! 2. the generation is bumped (every validator changes: no 304) and one
//!    article in ten is edited (one sentence changed): archive growth ÷
//!    captures = bytes per revisit with a new payload;
//! 3. nothing changes, conditional requests are answered 304: growth ÷
//!    captures = bytes per unchanged revisit (`ARCHIVE_BENCH_REPEATS`
//!    passes, 3 by default, judged together);
//!
//! then every capture is exported as WARC (`export --format warc`, one gzip
//! member per record) and archive bytes ÷ WARC.gz bytes is taken, with
//! `palimpsest stats`. Then:
//!
//! 4. the server ignores validators and answers 200 with a new nonce and
//!    most-read box, the article unchanged: growth ÷ captures = bytes per
//!    revisit with a new payload but the same article (`ARCHIVE_BENCH_REPEATS`
//!    passes), the case the ≤ 2 KB target names; pass 2's figure mixes in
//!    the edited articles' new versions and their search index entries.
//!
//! The figures are printed beside the acceptance targets (≤ 0.33, ≤ 256 B,
//! ≤ 2 KB), with and without the search index (`ARCHIVE/search`, derived
//! from the archive: `reindex` rebuilds it).
//!
//! `ARCHIVE_BENCH_INDEX_COST=1` instead runs only the first crawl, with and
//! without `--no-search-index` (`BENCH_INDEX_RUNS` times each), and prints
//! the median pages/s of each: the cost of the search index on real pages.
//!
//! **Two sizes.** "On disk" is the apparent size of the archive directory's
//! files, taken after each crawl process has exited (sled flushes on
//! close): what the targets judge. It does not repeat: sled's file is a
//! log of 512 KiB segments whose high-water mark depends on when segments
//! were collected and reused, so a pass's growth varies from run to run by
//! more than the targets (unchanged revisits measured 17 to
//! 4,953 B on disk on one build): the revisit figures are taken over
//! several passes of each kind, as a `watch` makes them. "Live" is what
//! the archive holds: key + value bytes of every sled table (read from a
//! copy of the database) plus any file kept outside sled; it repeats to a
//! few bytes, and its growth by table (the key's first byte) or directory
//! (`packs/`, `search/`) shows where a pass's bytes go. Everything
//! the server varies comes from a seeded PRNG keyed by host, page and load
//! number, so runs compare.
//!
//! Knobs: `ARCHIVE_BENCH_HOSTS` (10), `ARCHIVE_BENCH_ARTICLES` (99 a host,
//! plus its home page: 1,000 pages), `ARCHIVE_BENCH_SEED` (19),
//! `ARCHIVE_BENCH_CONCURRENCY` (64), `ARCHIVE_BENCH_RATE` (1000/s),
//! `ARCHIVE_BENCH_KEEP` (a directory to keep the archive and WARC in),
//! `ARCHIVE_BENCH_REPEATS` (3). Quick run:
//! `ARCHIVE_BENCH_HOSTS=3 ARCHIVE_BENCH_ARTICLES=20 cargo bench --bench archive_size`.

#[path = "common/loopback.rs"]
mod loopback;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use regex::Regex;

use loopback::{
    CrawlResult, CrawlRun, LoopbackServer, Rng, dir_size, env_or, index_cost, mib, stats,
};

/// The size targets: archive ≤ 0.33 × its WARC.gz export, an unchanged
/// revisit ≤ 256 B, a revisit with a new payload but the same article ≤ 2 KB.
const TARGET_RATIO: f64 = 0.33;
const TARGET_UNCHANGED: f64 = 256.0;
const TARGET_NEW_PAYLOAD: f64 = 2048.0;

/// Templates are real pages of a usual size: a tiny page has no template
/// to speak of, a huge one would dominate the whole site.
const TEMPLATE_BYTES: std::ops::RangeInclusive<usize> = 32 * 1024..=512 * 1024;

const NONCE: &str = "@@NONCE@@";
const MOST_READ: &str = "@@MOSTREAD@@";
const TITLE: &str = "@@TITLE@@";
const HEAD: &str = "@@HEAD@@";

const ROBOTS: &str = "User-agent: *\nAllow: /$\nAllow: /a/\nDisallow: /\n";

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("{pattern}: {e}"))
}

// ---------------------------------------------------------------- corpus

/// What the ground truth says a real page's article is.
struct Truth {
    title: String,
    author: Option<String>,
    paragraphs: Vec<String>,
}

/// One page of the extraction set: its gzipped HTML and its ground truth.
struct RealPage {
    id: String,
    html_gz: PathBuf,
    truth: Truth,
}

impl RealPage {
    /// The page's HTML, if it is UTF-8 (the sites serve UTF-8).
    fn html(&self) -> Option<String> {
        let file = std::fs::File::open(&self.html_gz).ok()?;
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut bytes)
            .ok()?;
        String::from_utf8(bytes).ok()
    }
}

/// The directory of real pages, or why there is none.
fn pages_dir() -> Result<PathBuf, String> {
    let dir = match std::env::var_os("ARCHIVE_BENCH_PAGES_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/extraction-dev"),
    };
    if dir.join("html").is_dir() && dir.join("ground-truth").is_dir() {
        Ok(dir)
    } else {
        Err(format!(
            "NO REAL PAGES at {}: the benchmark builds its sites from the extraction set \
             (html/<id>.html.gz + ground-truth/<id>.json); set ARCHIVE_BENCH_PAGES_DIR to where it is",
            dir.display()
        ))
    }
}

/// Every page with an article body in its ground truth, in id order.
fn load_corpus(dir: &Path) -> Result<Vec<RealPage>, String> {
    let listing = std::fs::read_dir(dir.join("html"))
        .map_err(|e| format!("{}: {e}", dir.join("html").display()))?;
    let mut ids: Vec<String> = listing
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".html.gz").map(str::to_owned)
        })
        .collect();
    ids.sort();
    let mut pages = Vec::new();
    for id in ids {
        let truth_path = dir.join("ground-truth").join(format!("{id}.json"));
        let Ok(text) = std::fs::read_to_string(&truth_path) else {
            continue;
        };
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", truth_path.display()))?;
        let truth = &json["ground_truth"];
        let paragraphs: Vec<String> = truth["main_content"]
            .as_str()
            .unwrap_or("")
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if paragraphs.len() < 3 {
            continue;
        }
        pages.push(RealPage {
            html_gz: dir.join("html").join(format!("{id}.html.gz")),
            id,
            truth: Truth {
                title: truth["title"].as_str().unwrap_or("Untitled").to_owned(),
                author: truth["author"].as_str().map(str::to_owned),
                paragraphs,
            },
        });
    }
    Ok(pages)
}

// -------------------------------------------------------------- template

/// A host's template: a real page cut where its article body was.
/// `before` holds the `TITLE` and `HEAD` slots, `after` the `MOST_READ`
/// slot, and every `<script>` tag carries the `NONCE` slot.
struct Template {
    source_id: String,
    before: String,
    after: String,
}

static P_ELEMENT: LazyLock<Regex> = LazyLock::new(|| regex(r"(?is)<p\b[^>]*>(.*?)</p\s*>"));
static TAG_OR_ENTITY: LazyLock<Regex> = LazyLock::new(|| regex(r"(?s)<[^>]*>|&#?[0-9A-Za-z]+;"));
/// Metadata that names the template's own article (or a feed, an AMP copy,
/// a refresh target): each page states its own instead.
static ARTICLE_META: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?is)<script\b[^>]*application/ld\+json[^>]*>.*?</script\s*>|<meta\b[^>]*(?:property|name|itemprop|http-equiv)\s*=\s*["']?(?:og:|twitter:|article:|description|author|refresh|parsely|sailthru|dc\.|headline|date)[^>]*>|<link\b[^>]*rel\s*=\s*["']?(?:canonical|amphtml|alternate|shortlink)[^>]*>"#,
    )
});
static TITLE_ELEMENT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?is)<title\b[^>]*>.*?</title\s*>"));
static H1_ELEMENT: LazyLock<Regex> = LazyLock::new(|| regex(r"(?is)(<h1\b[^>]*>).*?(</h1\s*>)"));
static ANCHOR_HREF: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"(?i)(<a\b[^>]*?\shref\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s>"']+))"#));
static SCRIPT_TAG: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)<script\b"));
/// `//host`, `https://host`, `https:\/\/host` (escaped in JSON strings).
static FOREIGN_HOST: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)(?:https?:)?(?://|\\/\\/)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)+(?::\d+)?")
});
/// A scheme left anywhere (`https:/x`, `http:x` parse as absolute URLs too).
static WEB_SCHEME: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)\bhttps?:"));

/// Text reduced to lower-case ASCII letters and digits, so a paragraph of
/// the HTML and of the ground truth compare whatever their markup.
fn letters(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The byte range of the page's article body: from the first to the last
/// `<p>` whose text opens a paragraph of the ground truth; `None` when
/// fewer than three paragraphs are found.
fn article_span(html: &str, truth: &Truth) -> Option<(usize, usize)> {
    let body = letters(&truth.paragraphs.join(" "));
    let mut found = P_ELEMENT.captures_iter(html).filter(|c| {
        let text = letters(&TAG_OR_ENTITY.replace_all(&c[1], ""));
        text.len() >= 30 && body.contains(&text[..text.len().min(60)])
    });
    let first = found.next()?.get(0)?;
    let mut last = first;
    let mut count = 1;
    for c in found {
        last = c.get(0)?;
        count += 1;
    }
    (count >= 3).then(|| (first.start(), last.end()))
}

/// Entity-encoded `/` and `:` decoded, so that no URL hides behind them.
fn decode_url_entities(html: &str) -> String {
    let mut out = html.to_owned();
    for (entity, plain) in [
        ("&#47;", "/"),
        ("&#x2f;", "/"),
        ("&#x2F;", "/"),
        ("&sol;", "/"),
        ("&#58;", ":"),
        ("&#x3a;", ":"),
        ("&#x3A;", ":"),
        ("&colon;", ":"),
    ] {
        out = out.replace(entity, plain);
    }
    out
}

/// Every link of a template points to an article of its own host (picked
/// by the link's target, so the template stays the same on every page).
fn own_links(html: &str, articles: usize) -> String {
    ANCHOR_HREF
        .replace_all(html, |c: &regex::Captures| {
            let target = c
                .get(2)
                .or_else(|| c.get(3))
                .or_else(|| c.get(4))
                .map_or("", |m| m.as_str());
            let lower = target.trim().to_ascii_lowercase();
            if ["#", "mailto:", "tel:", "javascript:"]
                .iter()
                .any(|p| lower.starts_with(p))
            {
                return c[0].to_owned();
            }
            let k = fnv(target.as_bytes()) as usize % articles;
            format!("{}\"{}\"", &c[1], article_path(k))
        })
        .into_owned()
}

/// No scheme and no host of another site left: the page can name nothing
/// but paths of the host that serves it.
fn loopback_only(html: &str) -> String {
    let mut html = html.to_owned();
    // Repeated: taking one URL out can join its neighbours into another
    // (`///a.example/b.example`); every round makes the text shorter.
    while FOREIGN_HOST.is_match(&html) || WEB_SCHEME.is_match(&html) {
        html = FOREIGN_HOST.replace_all(&html, "").into_owned();
        html = WEB_SCHEME.replace_all(&html, "").into_owned();
    }
    html
}

impl Template {
    /// `page` cut into a template for a host of `articles` articles; `None`
    /// when the page is not UTF-8, not of a usual size, or its article body
    /// cannot be found.
    fn from_page(page: &RealPage, articles: usize) -> Option<Template> {
        let html = page.html()?;
        if !TEMPLATE_BYTES.contains(&html.len()) {
            return None;
        }
        let html = decode_url_entities(&html);
        let (start, end) = article_span(&html, &page.truth)?;
        let prepare = |part: &str| {
            let part = ARTICLE_META.replace_all(part, "");
            let part = own_links(&part, articles);
            SCRIPT_TAG
                .replace_all(&part, format!("<script nonce=\"{NONCE}\"").as_str())
                .into_owned()
        };
        let mut before = prepare(&html[..start]);
        let mut after = prepare(&html[end..]);
        before = TITLE_ELEMENT
            .replace(&before, format!("<title>{TITLE}</title>").as_str())
            .into_owned();
        before = H1_ELEMENT
            .replace(&before, format!("${{1}}{TITLE}${{2}}").as_str())
            .into_owned();
        let head_end = before.to_ascii_lowercase().find("</head")?;
        before.insert_str(head_end, HEAD);
        match after.to_ascii_lowercase().rfind("</body") {
            Some(at) => after.insert_str(at, MOST_READ),
            None => after.push_str(MOST_READ),
        }
        Some(Template {
            source_id: page.id.clone(),
            before,
            after,
        })
    }
}

// ------------------------------------------------------------------ site

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A seed from several numbers: the same parts, the same seed.
fn seed(parts: &[u64]) -> u64 {
    let bytes: Vec<u8> = parts.iter().flat_map(|p| p.to_le_bytes()).collect();
    fnv(&bytes)
}

fn article_path(k: usize) -> String {
    format!("/a/{k}.html")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Which text of an article is served: as first published, or after the
/// one-sentence edit of pass 2.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Revision {
    Original,
    Edited,
}

/// One article of a host: the real article it carries and whether pass 2
/// edits it.
struct ArticleText {
    title: String,
    author: Option<String>,
    paragraphs: Vec<String>,
    edited: bool,
}

impl ArticleText {
    /// The paragraphs of `revision`: the edit rewrites the first sentence
    /// of the middle paragraph.
    fn paragraphs(&self, revision: Revision) -> Vec<String> {
        let mut paragraphs = self.paragraphs.clone();
        if revision == Revision::Edited {
            let middle = &mut paragraphs[self.paragraphs.len() / 2];
            let (first, rest) = match middle.find(". ") {
                Some(at) => middle.split_at(at + 1),
                None => (middle.as_str(), ""),
            };
            let first = first.trim_end_matches('.');
            *middle =
                format!("{first}, a spokesperson said later, correcting an earlier account.{rest}");
        }
        paragraphs
    }
}

/// One page a host serves: its HTML for each revision (with the `NONCE`
/// and `MOST_READ` slots still open), and how often it was rendered.
struct Page {
    key: u64,
    revisions: Vec<String>,
    loads: AtomicU64,
}

struct Host {
    titles: Vec<String>,
    pages: HashMap<String, Page>,
}

/// What the server does now; the benchmark changes it between passes.
#[derive(Default)]
struct ServerState {
    generation: AtomicU32,
    edits_published: AtomicBool,
    ignore_validators: AtomicBool,
    full: AtomicU64,
    not_modified: AtomicU64,
    other: AtomicU64,
}

struct Site {
    hosts: HashMap<String, Host>,
    state: ServerState,
    html_bytes: u64,
    templates: Vec<String>,
    donors: usize,
}

/// The `<head>` additions of an article page: its own canonical link,
/// title, description and dates, and the per-load nonce slots.
fn article_head(path: &str, text: &ArticleText, key: u64) -> String {
    let description: String = text.paragraphs[0].chars().take(150).collect();
    let published = base_date() + TimeDelta::seconds((key % 86_400) as i64);
    let mut head = format!(
        "<link rel=\"canonical\" href=\"{path}\"><meta property=\"og:title\" content=\"{}\"><meta name=\"description\" content=\"{}\"><meta property=\"article:published_time\" content=\"{}\">",
        escape(&text.title),
        escape(&description),
        published.to_rfc3339()
    );
    if let Some(author) = &text.author {
        let _ = write!(
            head,
            "<meta name=\"author\" content=\"{}\">",
            escape(author)
        );
    }
    let _ = write!(
        head,
        "<meta name=\"csp-nonce\" content=\"{NONCE}\"><link rel=\"stylesheet\" href=\"/static/site.css?v={NONCE}\">"
    );
    head
}

/// An article's body: its paragraphs, then links to the next three
/// articles of the host and three others (so a crawl finds every page).
fn article_body(k: usize, paragraphs: &[String], titles: &[String], rng: &mut Rng) -> String {
    let mut body = String::new();
    for p in paragraphs {
        let _ = writeln!(body, "<p>{}</p>", escape(p));
    }
    body.push_str("<ul class=\"related\">");
    let n = titles.len();
    let related: Vec<usize> = (1..=3)
        .map(|d| (k + d) % n)
        .chain((0..3).map(|_| rng.below(n)))
        .collect();
    for r in related {
        let _ = write!(
            body,
            "<li><a href=\"{}\">{}</a></li>",
            article_path(r),
            escape(&titles[r])
        );
    }
    body.push_str("</ul>\n");
    body
}

/// The home page's body: every article of the host, newest first.
fn home_body(titles: &[String]) -> String {
    let mut body = String::from("<ul class=\"latest\">");
    for (k, title) in titles.iter().enumerate().rev() {
        let _ = writeln!(
            body,
            "<li><a href=\"{}\">{}</a></li>",
            article_path(k),
            escape(title)
        );
    }
    body.push_str("</ul>\n");
    body
}

/// A page of the template: `title`, `head` and `body` in its slots, and
/// nothing left that names another site.
fn compose(template: &Template, title: &str, head: &str, body: &str) -> String {
    let before = template
        .before
        .replace(TITLE, &escape(title))
        .replace(HEAD, head);
    loopback_only(&format!("{before}{body}{}", template.after))
}

/// Host `index`: its home page and one page per article of `texts`.
fn build_host(index: u64, template: &Template, texts: &[ArticleText]) -> Host {
    let titles: Vec<String> = texts.iter().map(|t| t.title.clone()).collect();
    let mut pages = HashMap::new();
    let home_key = seed(&[index, u64::MAX]);
    let home_head = format!(
        "<link rel=\"canonical\" href=\"/\"><meta name=\"csp-nonce\" content=\"{NONCE}\"><link rel=\"stylesheet\" href=\"/static/site.css?v={NONCE}\">"
    );
    let home_title = format!("Site {index}: latest news");
    let home = compose(template, &home_title, &home_head, &home_body(&titles));
    pages.insert("/".to_owned(), Page::new(home_key, vec![home]));
    for (k, text) in texts.iter().enumerate() {
        let key = seed(&[index, k as u64]);
        let path = article_path(k);
        let head = article_head(&path, text, key);
        let revisions: &[Revision] = if text.edited {
            &[Revision::Original, Revision::Edited]
        } else {
            &[Revision::Original]
        };
        let html = revisions
            .iter()
            .map(|&r| {
                let body = article_body(k, &text.paragraphs(r), &titles, &mut Rng::new(key));
                compose(template, &text.title, &head, &body)
            })
            .collect();
        pages.insert(path, Page::new(key, html));
    }
    Host { titles, pages }
}

/// The run's settings, from the environment.
struct Knobs {
    hosts: usize,
    articles: usize,
    seed: u64,
    concurrency: usize,
    rate: String,
    keep: Option<PathBuf>,
    repeats: usize,
}

impl Knobs {
    fn from_env() -> Result<Knobs, String> {
        let knobs = Knobs {
            hosts: env_or("ARCHIVE_BENCH_HOSTS", 10),
            articles: env_or("ARCHIVE_BENCH_ARTICLES", 99),
            seed: env_or("ARCHIVE_BENCH_SEED", 19),
            concurrency: env_or("ARCHIVE_BENCH_CONCURRENCY", 64),
            rate: env_or("ARCHIVE_BENCH_RATE", "1000/s".to_owned()),
            keep: std::env::var_os("ARCHIVE_BENCH_KEEP").map(PathBuf::from),
            repeats: env_or("ARCHIVE_BENCH_REPEATS", 3),
        };
        if knobs.hosts == 0 || knobs.articles == 0 || knobs.repeats == 0 {
            return Err(
                "ARCHIVE_BENCH_HOSTS, ARCHIVE_BENCH_ARTICLES and ARCHIVE_BENCH_REPEATS must be at least 1"
                    .into(),
            );
        }
        Ok(knobs)
    }
}

/// The sites: `hosts` templates taken in a seeded order among the real
/// pages, and the other pages' articles dealt out to them in a seeded
/// order (reused once every page has been dealt).
fn build_site(
    corpus: &[RealPage],
    hosts: usize,
    articles: usize,
    seed_value: u64,
) -> Result<Site, String> {
    let mut order: Vec<usize> = (0..corpus.len()).collect();
    let mut rng = Rng::new(seed_value);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut templates = Vec::new();
    let mut donors = Vec::new();
    for &i in &order {
        match (templates.len() < hosts)
            .then(|| Template::from_page(&corpus[i], articles))
            .flatten()
        {
            Some(t) => templates.push(t),
            None => donors.push(i),
        }
    }
    if templates.len() < hosts || donors.is_empty() {
        return Err(format!(
            "only {} of the {} real pages could serve as a template (UTF-8, {} to {} KiB, article body found); {hosts} needed",
            templates.len(),
            corpus.len(),
            TEMPLATE_BYTES.start() / 1024,
            TEMPLATE_BYTES.end() / 1024
        ));
    }
    let mut site_hosts = HashMap::new();
    let mut html_bytes = 0u64;
    for (h, template) in templates.iter().enumerate() {
        let texts: Vec<ArticleText> = (0..articles)
            .map(|k| {
                let truth = &corpus[donors[(h * articles + k) % donors.len()]].truth;
                ArticleText {
                    title: truth.title.clone(),
                    author: truth.author.clone(),
                    paragraphs: truth.paragraphs.clone(),
                    edited: k % 10 == 3,
                }
            })
            .collect();
        let host = build_host(h as u64, template, &texts);
        html_bytes += host
            .pages
            .values()
            .map(|p| p.revisions[0].len() as u64)
            .sum::<u64>();
        site_hosts.insert(format!("site{h}.test"), host);
    }
    Ok(Site {
        hosts: site_hosts,
        state: ServerState::default(),
        html_bytes,
        templates: templates.into_iter().map(|t| t.source_id).collect(),
        donors: donors.len().min(hosts * articles),
    })
}

// ---------------------------------------------------------------- server

fn base_date() -> DateTime<Utc> {
    // 2025-06-01T00:00:00Z
    DateTime::from_timestamp(1_748_736_000, 0).unwrap_or_default()
}

/// A page's validators: they follow its article text and the site
/// generation, never the nonce or the most-read box.
struct Validator {
    etag: String,
    last_modified: DateTime<Utc>,
}

impl Validator {
    fn of(key: u64, generation: u32, revision: Revision) -> Validator {
        let edited = u64::from(revision == Revision::Edited);
        Validator {
            etag: format!("\"{:016x}\"", seed(&[key, u64::from(generation), edited])),
            last_modified: base_date()
                + TimeDelta::seconds((key % 86_400) as i64)
                + TimeDelta::days(7 * i64::from(generation) + edited as i64),
        }
    }

    fn http_date(&self) -> String {
        self.last_modified
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string()
    }

    /// Whether a conditional request may be answered 304: `If-None-Match`
    /// decides when present (RFC 9110 §13.2.2), else `If-Modified-Since`.
    fn satisfied_by(&self, headers: &HeaderMap) -> bool {
        if let Some(tags) = headers.get(header::IF_NONE_MATCH) {
            let tags = tags.to_str().unwrap_or("");
            return tags
                .split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == self.etag);
        }
        headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .is_some_and(|since| self.last_modified <= since.with_timezone(&Utc))
    }

    fn apply(&self, response: &mut Response) {
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, v);
        }
        if let Ok(v) = HeaderValue::from_str(&self.http_date()) {
            headers.insert(header::LAST_MODIFIED, v);
        }
    }
}

impl Page {
    fn new(key: u64, revisions: Vec<String>) -> Page {
        Page {
            key,
            revisions,
            loads: AtomicU64::new(0),
        }
    }

    /// The page as served on this load: a new nonce and most-read box,
    /// drawn from the page's key and how often it was rendered before.
    fn render(&self, host: &Host, revision: Revision) -> String {
        let load = self.loads.fetch_add(1, Ordering::Relaxed);
        let mut rng = Rng::new(seed(&[self.key, load]));
        let nonce = format!("{:016x}{:016x}", rng.next(), rng.next());
        let mut most_read = String::from("<aside class=\"most-read\"><h2>Most read</h2><ol>");
        let mut picked: Vec<usize> = Vec::with_capacity(5);
        while picked.len() < 5.min(host.titles.len()) {
            let k = rng.below(host.titles.len());
            if !picked.contains(&k) {
                picked.push(k);
            }
        }
        for k in picked {
            let _ = write!(
                most_read,
                "<li><a href=\"{}\">{}</a> <span class=\"readers\">{} reading now</span></li>",
                article_path(k),
                escape(&host.titles[k]),
                100 + rng.below(5000)
            );
        }
        most_read.push_str("</ol></aside>");
        let html = match revision {
            Revision::Edited if self.revisions.len() > 1 => &self.revisions[1],
            _ => &self.revisions[0],
        };
        html.replace(NONCE, &nonce).replace(MOST_READ, &most_read)
    }
}

fn plain(status: StatusCode, body: &'static str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

fn respond(site: &Site, request: &Request) -> Response {
    let state = &site.state;
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split(':').next())
        .and_then(|h| site.hosts.get(h));
    let path = request.uri().path();
    let page = host.and_then(|h| h.pages.get(path).map(|p| (h, p)));
    let Some((host, page)) = page else {
        state.other.fetch_add(1, Ordering::Relaxed);
        return match (host, path) {
            (Some(_), "/robots.txt") => plain(StatusCode::OK, ROBOTS),
            _ => plain(StatusCode::NOT_FOUND, ""),
        };
    };
    let revision = if state.edits_published.load(Ordering::Relaxed) {
        Revision::Edited
    } else {
        Revision::Original
    };
    let revision = if page.revisions.len() > 1 {
        revision
    } else {
        Revision::Original
    };
    let validator = Validator::of(page.key, state.generation.load(Ordering::Relaxed), revision);
    let mut response = if !state.ignore_validators.load(Ordering::Relaxed)
        && validator.satisfied_by(request.headers())
    {
        state.not_modified.fetch_add(1, Ordering::Relaxed);
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        state.full.fetch_add(1, Ordering::Relaxed);
        let mut r = Response::new(Body::from(page.render(host, revision)));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        r
    };
    validator.apply(&mut response);
    response
}

// ---------------------------------------------------------------- passes

/// What the archive holds, read from a copy of its sled database after the
/// crawler has exited: live key + value bytes by table (the tree's name and
/// the key's first byte, the archive's table tag: see
/// `src/archive/keys.rs`), and the files kept outside sled, whole. Unlike
/// the size on disk, it does not depend on when sled reused or collected
/// its log segments, so it repeats from run to run. Files outside sled are
/// counted by the archive's directory that holds them (`packs/`,
/// `search/`, ...), so a pass shows which of them grew.
#[derive(Clone, Default)]
struct Holdings {
    tables: BTreeMap<String, u64>,
}

impl Holdings {
    fn total(&self) -> u64 {
        self.tables.values().sum::<u64>()
    }

    /// The bytes of the search index: derived from the archive (`reindex`
    /// rebuilds it), so the figures are also given without it.
    fn search_index(&self) -> u64 {
        self.tables.get("search/").copied().unwrap_or(0)
    }

    /// Reads `archive`, copying each sled database it finds into `scratch`
    /// first (opening a database writes to it).
    fn of(archive: &Path, scratch: &Path) -> Result<Holdings, String> {
        let mut holdings = Holdings::default();
        holdings.read_dir(archive, archive, scratch)?;
        Ok(holdings)
    }

    fn read_dir(&mut self, root: &Path, dir: &Path, scratch: &Path) -> Result<(), String> {
        if dir.join("conf").is_file() && dir.join("db").is_file() {
            return self.read_sled(dir, scratch);
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => self.read_dir(root, &entry.path(), scratch)?,
                Ok(m) => {
                    *self
                        .tables
                        .entry(outside_name(root, &entry.path()))
                        .or_default() += m.len()
                }
                Err(_) => {}
            }
        }
        Ok(())
    }

    fn read_sled(&mut self, db_dir: &Path, scratch: &Path) -> Result<(), String> {
        let _ = std::fs::remove_dir_all(scratch);
        copy_dir(db_dir, scratch)?;
        let db = sled::Config::new()
            .path(scratch)
            .open()
            .map_err(|e| format!("{}: {e}", db_dir.display()))?;
        for name in db.tree_names() {
            let tree = db.open_tree(&name).map_err(|e| e.to_string())?;
            // The default tree goes by its tag alone.
            let name = match String::from_utf8_lossy(&name).into_owned() {
                n if n == "__sled__default" => String::new(),
                n => format!("{n}:"),
            };
            for entry in tree.iter() {
                let (k, v) = entry.map_err(|e| format!("{}: {e}", db_dir.display()))?;
                let tag = match k.first() {
                    Some(&b) if b.is_ascii_graphic() => char::from(b).to_string(),
                    Some(&b) => format!("{b:#04x}"),
                    None => "(empty key)".to_owned(),
                };
                *self.tables.entry(format!("{name}{tag}")).or_default() +=
                    (k.len() + v.len()) as u64;
            }
        }
        drop(db);
        std::fs::remove_dir_all(scratch).map_err(|e| format!("{}: {e}", scratch.display()))
    }

    /// The tables that grew most from `before` to `self`, largest first.
    fn growth_since(&self, before: &Holdings) -> Vec<(String, i64)> {
        let mut growth: Vec<(String, i64)> = self
            .tables
            .iter()
            .map(|(t, &b)| {
                (
                    t.clone(),
                    b as i64 - before.tables.get(t).copied().unwrap_or(0) as i64,
                )
            })
            .filter(|(_, g)| *g != 0)
            .collect();
        growth.sort_by_key(|(t, g)| (-g.abs(), t.clone()));
        growth
    }
}

/// The name a file outside sled is counted under: its top directory in the
/// archive (`packs/`), or its own name when it lies at the top.
fn outside_name(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap_or(file);
    let mut parts = relative.components();
    let first = parts
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    match (first, parts.next()) {
        (Some(dir), Some(_)) => format!("{dir}/"),
        (Some(name), None) => name,
        (None, _) => String::new(),
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries.flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The archive at one moment: its apparent size on disk and what it holds.
#[derive(Clone, Default)]
struct Snapshot {
    disk: u64,
    live: Holdings,
}

impl Snapshot {
    fn disk(&self) -> u64 {
        self.disk
    }

    fn live(&self) -> u64 {
        self.live.total()
    }

    fn disk_without_search(&self) -> u64 {
        self.disk.saturating_sub(self.live.search_index())
    }

    fn live_without_search(&self) -> u64 {
        self.live.total() - self.live.search_index()
    }

    fn of(archive: &Path, scratch: &Path) -> Result<Snapshot, String> {
        Ok(Snapshot {
            disk: dir_size(archive),
            live: Holdings::of(archive, scratch)?,
        })
    }
}

/// Growth of `size` per capture over `passes` run one after another: from
/// the first's start to the last's end, so that when sled happened to
/// collect its segments weighs less.
fn per_capture(passes: &[Pass], size: impl Fn(&Snapshot) -> u64) -> f64 {
    let (Some(first), Some(last)) = (passes.first(), passes.last()) else {
        return 0.0;
    };
    let captures: f64 = passes.iter().map(Pass::captures).sum();
    (size(&last.after) as i64 - size(&first.before) as i64) as f64 / captures.max(1.0)
}

/// One crawl pass: the archive before and after, the crawler's summary,
/// and what the server answered.
struct Pass {
    label: &'static str,
    before: Snapshot,
    after: Snapshot,
    result: CrawlResult,
    full: u64,
    not_modified: u64,
    other: u64,
}

impl Pass {
    fn captures(&self) -> f64 {
        self.result.field("captures")
    }

    /// Growth of the size on disk per capture recorded in this pass.
    fn disk_per_capture(&self) -> f64 {
        per_capture(std::slice::from_ref(self), Snapshot::disk)
    }

    /// Growth of the live bytes per capture recorded in this pass.
    fn live_per_capture(&self) -> f64 {
        per_capture(std::slice::from_ref(self), Snapshot::live)
    }

    fn print(&self) {
        println!(
            "pass {:<44} {:>5.0} captures ({} × 200, {} × 304, {} other), {:.1} pages/s",
            self.label,
            self.captures(),
            self.full,
            self.not_modified,
            self.other,
            self.result.field("pages_per_sec"),
        );
        let growth: Vec<String> = self
            .after
            .live
            .growth_since(&self.before.live)
            .iter()
            .take(8)
            .map(|(t, g)| format!("{t} {g:+}"))
            .collect();
        println!(
            "       on disk {:>10} B ({:+.0} B a capture); live {:>10} B ({:+.0} B a capture: {})",
            self.after.disk,
            self.disk_per_capture(),
            self.after.live.total(),
            self.live_per_capture(),
            growth.join(", ")
        );
    }
}

/// Runs one pass of `crawl` against `site`, measuring the archive after
/// the crawler has exited; a pass that reached another host than the
/// site's fails the benchmark, one with errors is reported as off.
fn run_pass(
    label: &'static str,
    crawl: &CrawlRun,
    site: &Site,
    before: Snapshot,
    scratch: &Path,
) -> Result<Pass, String> {
    let state = &site.state;
    for counter in [&state.full, &state.not_modified, &state.other] {
        counter.store(0, Ordering::Relaxed);
    }
    let result = crawl.run()?;
    let pass = Pass {
        label,
        before,
        after: Snapshot::of(&crawl.archive, scratch)?,
        full: state.full.load(Ordering::Relaxed),
        not_modified: state.not_modified.load(Ordering::Relaxed),
        other: state.other.load(Ordering::Relaxed),
        result,
    };
    pass.print();
    let hosts = pass.result.field("hosts");
    if hosts != site.hosts.len() as f64 {
        return Err(format!(
            "pass {label}: {hosts} hosts contacted, expected {}; summary: {}",
            site.hosts.len(),
            pass.result.summary
        ));
    }
    let pages: usize = site.hosts.values().map(|h| h.pages.len()).sum();
    let errors = pass.result.field("errors");
    if errors != 0.0 || pass.captures() < pages as f64 {
        eprintln!(
            "WARNING: pass {label}: {errors} errors, {} captures for {pages} pages: the figures of this pass are off; summary: {}",
            pass.captures(),
            pass.result.summary
        );
    }
    Ok(pass)
}

/// Exports every capture of `archive` as WARC into `dir`; returns the
/// bytes of the files written.
fn export_warc(archive: &Path, dir: &Path) -> Result<u64, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out = loopback::palimpsest(archive)
        .args(["export", "--format", "warc", "-o"])
        .arg(dir.join("captures.warc.gz"))
        .output()
        .map_err(|e| format!("palimpsest export: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "palimpsest export failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(dir_size(dir))
}

/// The passes the figures are taken from.
struct Figures<'a> {
    first: &'a Pass,
    changed: &'a Pass,
    unchanged: &'a [Pass],
    same_article: &'a [Pass],
}

/// The size figures beside their targets: on disk (what the targets
/// judge) and live (what repeats), with and without the search index.
fn print_figures(figures: &Figures, archive: &Snapshot, warc: u64) {
    let Figures {
        first,
        changed,
        unchanged,
        same_article,
    } = figures;
    let ratio = |bytes: u64| bytes as f64 / warc.max(1) as f64;
    let per = |passes: &[Pass]| {
        [
            per_capture(passes, Snapshot::disk),
            per_capture(passes, Snapshot::live),
            per_capture(passes, Snapshot::disk_without_search),
            per_capture(passes, Snapshot::live_without_search),
        ]
    };
    let rows: [(&str, [f64; 4], Option<f64>); 4] = [
        (
            "archive bytes ÷ WARC.gz bytes",
            [
                ratio(archive.disk()),
                ratio(archive.live()),
                ratio(archive.disk_without_search()),
                ratio(archive.live_without_search()),
            ],
            Some(TARGET_RATIO),
        ),
        (
            "bytes per unchanged revisit",
            per(unchanged),
            Some(TARGET_UNCHANGED),
        ),
        (
            "bytes per revisit, same article",
            per(same_article),
            Some(TARGET_NEW_PAYLOAD),
        ),
        (
            "bytes per revisit, pass 2",
            per(std::slice::from_ref(*changed)),
            None,
        ),
    ];
    println!();
    println!(
        "{:<32} {:>10} {:>10} {:>10} {:>10} {:>10}  verdict (on disk)",
        "acceptance figure", "on disk", "live", "disk -idx", "live -idx", "target"
    );
    for (name, [disk, live, disk_bare, live_bare], target) in rows {
        let precision = if name.starts_with("archive") { 3 } else { 0 };
        let (target, verdict) = match target {
            Some(t) if precision == 0 => (format!("≤ {t} B"), verdict(disk <= t)),
            Some(t) => (format!("≤ {t}"), verdict(disk <= t)),
            None => ("-".to_owned(), "(1 in 10 articles edited)"),
        };
        println!(
            "{name:<32} {disk:>10.precision$} {live:>10.precision$} {disk_bare:>10.precision$} {live_bare:>10.precision$} {target:>10}  {verdict}"
        );
    }
    println!(
        "(-idx: without the search index; revisit figures over {} passes of {} captures each)",
        unchanged.len(),
        unchanged.first().map_or(0.0, Pass::captures)
    );
    println!(
        "pages/s, pass 1: {:.1} (crawler), {:.1} (wall, to exit), {:.1} per CPU-second",
        first.result.field("pages_per_sec"),
        first.captures() / first.result.wall.as_secs_f64(),
        first.captures() / first.result.cpu_secs.max(0.01)
    );
    println!(
        "archive after pass 3: {} B on disk ({:.1} MiB, {:.1} MiB of it the search index), {} B live; WARC.gz {warc} B ({:.1} MiB); after pass 1 {:.1} KiB a capture on disk",
        archive.disk(),
        mib(archive.disk()),
        mib(archive.live.search_index()),
        archive.live(),
        mib(warc),
        first.after.disk as f64 / 1024.0 / first.captures().max(1.0)
    );
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT MET" }
}

// ------------------------------------------------------------------ main

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too:
    // there, only check that the sites build and serve as described.
    let bench = std::env::args().any(|a| a == "--bench");
    if let Err(e) = run(bench) {
        eprintln!("archive_size: {e}");
        std::process::exit(1);
    }
}

fn run(bench: bool) -> Result<(), String> {
    let dir = pages_dir()?;
    let knobs = Knobs::from_env()?;
    let corpus = load_corpus(&dir)?;
    if !bench {
        return smoke(&corpus, knobs.seed);
    }
    let site = Arc::new(build_site(
        &corpus,
        knobs.hosts,
        knobs.articles,
        knobs.seed,
    )?);
    println!(
        "sites: {} hosts × {} pages ({} articles + home), {:.1} MiB of HTML ({:.1} KiB a page); templates: extraction-dev pages {}; {} distinct donor articles",
        knobs.hosts,
        knobs.articles + 1,
        knobs.articles,
        mib(site.html_bytes),
        site.html_bytes as f64 / 1024.0 / (knobs.hosts * (knobs.articles + 1)) as f64,
        site.templates.join(", "),
        site.donors
    );
    let app_site = site.clone();
    let server = LoopbackServer::start(Router::new().fallback(move |request: Request| {
        let site = app_site.clone();
        async move { respond(&site, &request) }
    }));
    let tmp = tempfile::Builder::new()
        .prefix("palimpsest-archive-size-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?;
    let work = knobs
        .keep
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let crawl = CrawlRun {
        archive: work.join("archive"),
        hosts: (0..knobs.hosts).map(|h| format!("site{h}.test")).collect(),
        port: server.port(),
        rate: knobs.rate.clone(),
        concurrency: knobs.concurrency,
        depth: 10,
        extra: Vec::new(),
    };
    if dir_size(&crawl.archive) > 0 {
        return Err(format!(
            "{} already holds an archive",
            crawl.archive.display()
        ));
    }
    if env_or("ARCHIVE_BENCH_INDEX_COST", 0u8) != 0 {
        // Only the first crawl, with and without the search index.
        index_cost(&crawl, &work, env_or("BENCH_INDEX_RUNS", 3));
        server.stop();
        return Ok(());
    }
    println!("each pass runs: {}", crawl.describe());
    measure(
        &crawl,
        &site,
        &work.join("warc"),
        &work.join("scratch"),
        knobs.repeats,
    )?;
    server.stop();
    Ok(())
}

/// The passes, the export and the report; `scratch` is where the
/// archive's database is copied to be read.
fn measure(
    crawl: &CrawlRun,
    site: &Site,
    warc_dir: &Path,
    scratch: &Path,
    repeats: usize,
) -> Result<(), String> {
    let state = &site.state;
    let first = run_pass("1: first crawl", crawl, site, Snapshot::default(), scratch)?;
    state.generation.fetch_add(1, Ordering::Relaxed);
    state.edits_published.store(true, Ordering::Relaxed);
    let changed = run_pass(
        "2: every payload new, 1 article in 10 edited",
        crawl,
        site,
        first.after.clone(),
        scratch,
    )?;
    let unchanged = run_passes(
        "3: unchanged, validators honoured (304)",
        repeats,
        crawl,
        site,
        &changed.after,
        scratch,
    )?;
    let archive = unchanged
        .last()
        .map_or(Snapshot::default(), |p| p.after.clone());
    let warc = export_warc(&crawl.archive, warc_dir)?;
    println!();
    println!("palimpsest stats (after pass 3):");
    println!("{}", stats(&crawl.archive, false)?.trim_end());
    println!();
    state.ignore_validators.store(true, Ordering::Relaxed);
    let same_article = run_passes(
        "4: new payload, same article (validators ignored)",
        repeats,
        crawl,
        site,
        &archive,
        scratch,
    )?;
    print_figures(
        &Figures {
            first: &first,
            changed: &changed,
            unchanged: &unchanged,
            same_article: &same_article,
        },
        &archive,
        warc,
    );
    Ok(())
}

/// `repeats` passes of one kind, one after another.
fn run_passes(
    label: &'static str,
    repeats: usize,
    crawl: &CrawlRun,
    site: &Site,
    before: &Snapshot,
    scratch: &Path,
) -> Result<Vec<Pass>, String> {
    let mut passes: Vec<Pass> = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let before = passes.last().map_or(before, |p| &p.after).clone();
        passes.push(run_pass(label, crawl, site, before, scratch)?);
    }
    Ok(passes)
}

/// Without `--bench`: build a small site and check what the module doc
/// promises of it, without crawling.
fn smoke(corpus: &[RealPage], seed_value: u64) -> Result<(), String> {
    let site = build_site(corpus, 2, 12, seed_value)?;
    let host = &site.hosts["site0.test"];
    for (path, page) in &host.pages {
        for revision in [Revision::Original, Revision::Edited] {
            let html = page.render(host, revision);
            if let Some(m) = FOREIGN_HOST.find(&html).or_else(|| WEB_SCHEME.find(&html)) {
                return Err(format!("{path} names another site: {}", m.as_str()));
            }
            if [NONCE, MOST_READ, TITLE, HEAD]
                .iter()
                .any(|slot| html.contains(slot))
            {
                return Err(format!("{path}: a slot was left unfilled"));
            }
        }
    }
    let page = &host.pages[&article_path(3)];
    let (a, b) = (
        page.render(host, Revision::Original),
        page.render(host, Revision::Original),
    );
    let edited = page.render(host, Revision::Edited);
    let edit = "a spokesperson said later";
    if a == b || a.contains(edit) || !edited.contains(edit) {
        return Err("two loads of a page must differ, and the edit must change its text".into());
    }
    let v = Validator::of(page.key, 0, Revision::Original);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::IF_NONE_MATCH,
        HeaderValue::from_str(&v.etag).map_err(|e| e.to_string())?,
    );
    if !v.satisfied_by(&headers)
        || Validator::of(page.key, 1, Revision::Original).satisfied_by(&headers)
    {
        return Err("the ETag must match itself and change with the generation".into());
    }
    let mut since = HeaderMap::new();
    since.insert(
        header::IF_MODIFIED_SINCE,
        HeaderValue::from_str(&v.http_date()).map_err(|e| e.to_string())?,
    );
    if !v.satisfied_by(&since) || Validator::of(page.key, 0, Revision::Edited).satisfied_by(&since)
    {
        return Err("If-Modified-Since must match Last-Modified and fail after an edit".into());
    }
    println!("archive_size: smoke check only (run with `cargo bench --bench archive_size`)");
    Ok(())
}
