//! Helpers for the version tests: realistic news pages (an `<article>` with
//! headline, byline, `<time>` and paragraphs, inside a page with navigation,
//! a sidebar ad, share and "read more" furniture and a "last updated"
//! timestamp), pages that change between crawls, HTTP validators, and
//! runners for the archive-reading commands (`history`, `show`, `diff`,
//! `changes`, `schedule`, `reextract`).

#![allow(dead_code)] // Not every test module uses every helper.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use crate::support::*;

// ---------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------

/// How the HTML of a page is laid out. The text a reader sees is the same in
/// both; only whitespace and markup differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One element a line.
    Compact,
    /// Re-indented, paragraphs wrapped across lines, the body inside an
    /// extra `<div>`, a drop-cap `<span>` and an `<em>`-less `<span>` around
    /// a phrase: what a CMS template change does to unchanged text.
    Reworked,
}

/// A news article page.
#[derive(Clone, Debug)]
pub struct Story {
    pub headline: String,
    pub author: String,
    /// RFC 3339.
    pub published: String,
    /// RFC 3339: an "Updated …" dateline and `article:modified_time`.
    pub modified: Option<String>,
    pub paragraphs: Vec<String>,
    /// Text of the sidebar advertisement.
    pub ad: String,
    /// `HH:MM:SS` of the "last updated" line in the page header and footer.
    pub updated: String,
    /// An attribution line ending the article: `Source: URL`.
    pub source: Option<String>,
    /// "Read more" links: (href, headline).
    pub related: Vec<(String, String)>,
    pub layout: Layout,
}

impl Story {
    pub fn new(headline: &str, paragraphs: &[&str]) -> Self {
        Story {
            headline: headline.to_string(),
            author: "Maria Hartono".to_string(),
            published: "2025-03-04T08:30:00Z".to_string(),
            modified: None,
            paragraphs: paragraphs.iter().map(|p| p.to_string()).collect(),
            ad: "Advertisement: Fly to Lisbon this spring from 49 euros".to_string(),
            updated: "09:14:05".to_string(),
            source: None,
            related: Vec::new(),
            layout: Layout::Compact,
        }
    }

    pub fn by(mut self, author: &str) -> Self {
        self.author = author.to_string();
        self
    }

    pub fn related(mut self, links: &[(&str, &str)]) -> Self {
        self.related = links
            .iter()
            .map(|(h, t)| (h.to_string(), t.to_string()))
            .collect();
        self
    }

    pub fn source(mut self, url: &str) -> Self {
        self.source = Some(url.to_string());
        self
    }

    pub fn headline(mut self, headline: &str) -> Self {
        self.headline = headline.to_string();
        self
    }

    pub fn published(mut self, rfc3339: &str) -> Self {
        self.published = rfc3339.to_string();
        self
    }

    pub fn modified(mut self, rfc3339: &str) -> Self {
        self.modified = Some(rfc3339.to_string());
        self
    }

    /// The same story with its paragraphs in another order.
    pub fn reorder(mut self, order: &[usize]) -> Self {
        self.paragraphs = order.iter().map(|&i| self.paragraphs[i].clone()).collect();
        self
    }

    pub fn ad(mut self, ad: &str) -> Self {
        self.ad = ad.to_string();
        self
    }

    pub fn updated(mut self, hms: &str) -> Self {
        self.updated = hms.to_string();
        self
    }

    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The same story with paragraph `i` replaced.
    pub fn with_paragraph(mut self, i: usize, text: &str) -> Self {
        self.paragraphs[i] = text.to_string();
        self
    }

    /// The same story without paragraph `i`.
    pub fn without_paragraph(mut self, i: usize) -> Self {
        self.paragraphs.remove(i);
        self
    }

    pub fn html(&self) -> String {
        let date = self.published.get(..10).unwrap_or_default();
        let related: String = self
            .related
            .iter()
            .map(|(href, title)| format!("<li><a href=\"{href}\">{title}</a></li>"))
            .collect();
        let source = self
            .source
            .as_ref()
            .map(|s| format!("<p class=\"attribution\">Source: {s}</p>\n"))
            .unwrap_or_default();
        let head = format!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{h} | The Daily Test</title>\n\
             <meta property=\"og:type\" content=\"article\">\n\
             <meta property=\"og:title\" content=\"{h}\">\n\
             <meta property=\"og:site_name\" content=\"The Daily Test\">\n\
             <meta name=\"author\" content=\"{a}\">\n\
             <meta property=\"article:published_time\" content=\"{p}\">\n\
             {m}</head>\n",
            h = self.headline,
            a = self.author,
            p = self.published,
            m = self
                .modified
                .as_ref()
                .map(|m| format!("<meta property=\"article:modified_time\" content=\"{m}\">\n"))
                .unwrap_or_default(),
        );
        let dateline = self
            .modified
            .as_ref()
            .map(|m| {
                let hm = m.get(11..16).unwrap_or_default();
                format!(
                    "<div class=\"dateline\">Updated <time class=\"updated\" \
                     datetime=\"{m}\">{hm}</time></div>\n"
                )
            })
            .unwrap_or_default();
        let header = format!(
            "<header class=\"site-header\"><a class=\"logo\" href=\"/\">The Daily Test</a>\n\
             <nav class=\"menu\"><ul><li><a href=\"/\">Home</a></li></ul></nav>\n\
             <div class=\"updated\">Last updated {u}</div></header>\n",
            u = self.updated
        );
        let aside = format!(
            "<aside class=\"ad\"><p>{ad}</p><a href=\"/\">Book now</a></aside>\n",
            ad = self.ad
        );
        let tail = format!(
            "<section class=\"related\"><h2>Read more</h2><ul>{related}</ul></section>\n\
             <footer class=\"site-footer\"><p>&copy; 2025 The Daily Test. \
             Page generated at {u}.</p></footer>\n</body>\n</html>\n",
            u = self.updated
        );
        let share = "<div class=\"share\"><a href=\"/\">Share on Facebook</a> \
                     <a href=\"/\">Share on X</a></div>\n";
        match self.layout {
            Layout::Compact => {
                let paragraphs: String = self
                    .paragraphs
                    .iter()
                    .map(|p| format!("<p>{p}</p>\n"))
                    .collect();
                format!(
                    "{head}<body>\n{header}<main>\n<article>\n<h1>{h}</h1>\n\
                     <p class=\"byline\">By <span class=\"author\">{a}</span></p>\n\
                     <time datetime=\"{p}\">{date}</time>\n\
                     {dateline}{paragraphs}{source}{share}</article>\n{aside}{tail}",
                    h = self.headline,
                    a = self.author,
                    p = self.published,
                )
            }
            Layout::Reworked => {
                let paragraphs: String = self
                    .paragraphs
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let wrapped = wrap(p, 6, "\n              ");
                        if i == 0 {
                            // A drop cap: the first letter in its own span.
                            let mut chars = wrapped.chars();
                            let first = chars.next().unwrap_or_default();
                            format!(
                                "          <p class=\"lead\"><span class=\"dropcap\">{first}</span>{}</p>\n",
                                chars.as_str()
                            )
                        } else {
                            format!(
                                "          <p>\n              <span class=\"txt\">{wrapped}</span>\n          </p>\n"
                            )
                        }
                    })
                    .collect();
                format!(
                    "{head}<body>\n  {header}  <main class=\"layout-2025\">\n    <article class=\"story\">\n\
                     \x20     <div class=\"story-head\">\n\
                     \x20       <h1 class=\"headline\">\n          {h}\n        </h1>\n\
                     \x20       <div class=\"meta\">\n\
                     \x20         <p class=\"byline\">By\n            <span class=\"author\">{a}</span>\n          </p>\n\
                     \x20         <time datetime=\"{p}\">\n            {date}\n          </time>\n\
                     \x20         {dateline}\
                     \x20       </div>\n      </div>\n\
                     \x20     <div class=\"story-body\">\n{paragraphs}{source}      </div>\n\
                     \x20     {share}    </article>\n    {aside}  </main>\n{tail}",
                    h = self.headline,
                    a = self.author,
                    p = self.published,
                )
            }
        }
    }
}

/// `text` with a line break (and `indent`) every `n` words.
fn wrap(text: &str, n: usize, indent: &str) -> String {
    text.split(' ')
        .collect::<Vec<_>>()
        .chunks(n)
        .map(|c| c.join(" "))
        .collect::<Vec<_>>()
        .join(indent)
}

/// A section front: headlines linking to stories, no article.
pub fn front_page(updated: &str, stories: &[(&str, &str)]) -> String {
    let items: String = stories
        .iter()
        .map(|(href, title)| {
            format!("<li class=\"teaser\"><h2><a href=\"{href}\">{title}</a></h2></li>\n")
        })
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <title>The Daily Test: news from around the world</title>\
         <meta property=\"og:type\" content=\"website\">\
         <meta property=\"og:site_name\" content=\"The Daily Test\"></head>\n<body>\n\
         <header class=\"site-header\"><a class=\"logo\" href=\"/\">The Daily Test</a>\
         <div class=\"updated\">Last updated {updated}</div></header>\n\
         <main><h1>Top stories</h1>\n<ul class=\"stories\">\n{items}</ul></main>\n\
         <footer class=\"site-footer\"><p>&copy; 2025 The Daily Test.</p></footer>\n</body>\n</html>\n"
    )
}

// ---------------------------------------------------------------------------
// Pages that change between crawls
// ---------------------------------------------------------------------------

/// Which edition of the site the fixture serves: 0 before the test edits
/// it, then 1, 2… Handlers read it on every request, so an edit is
/// independent of how many requests (retries, robots.txt) came before.
#[derive(Clone, Default)]
pub struct Edition(Arc<AtomicU64>);

impl Edition {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    pub fn advance(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// What a page offers for conditional requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validators {
    None,
    /// A strong `ETag` derived from the body.
    ETag,
    /// `Last-Modified` (one date per edition of the body).
    LastModified,
    Both,
}

/// The `ETag` a fixture page sends for `body`.
pub fn etag_of(body: &str) -> String {
    let mut h = DefaultHasher::new();
    body.hash(&mut h);
    format!("\"{:016x}\"", h.finish())
}

/// A `Last-Modified` date for the page's edition `n`.
pub fn last_modified(n: usize) -> String {
    format!("Tue, 04 Mar 2025 {:02}:30:00 GMT", 8 + n)
}

/// Serves `editions[min(edition, last)]` as a web server with `validators`
/// would: with the validators, and `304 Not Modified` (with them) when the
/// request's `If-None-Match` / `If-Modified-Since` still match.
pub fn serve_editions(
    req: &Req,
    edition: u64,
    editions: &[String],
    validators: Validators,
) -> Response {
    let n = (edition as usize).min(editions.len() - 1);
    // Editions with the same body share their Last-Modified date.
    let first_same = editions.iter().position(|b| *b == editions[n]).unwrap_or(n);
    let body = &editions[n];
    let etag = etag_of(body);
    let lm = last_modified(first_same);
    let (send_etag, send_lm) = match validators {
        Validators::None => (false, false),
        Validators::ETag => (true, false),
        Validators::LastModified => (false, true),
        Validators::Both => (true, true),
    };
    let inm_fresh = req.header("if-none-match").map(|v| {
        v.split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag || t == "*")
    });
    let ims_fresh = req.header("if-modified-since").map(|v| v.trim() == lm);
    // RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since.
    let fresh = match (send_etag, send_lm) {
        (false, false) => false,
        _ => {
            inm_fresh
                .filter(|_| send_etag)
                .or(ims_fresh.filter(|_| send_lm))
                == Some(true)
        }
    };
    let mut resp = if fresh {
        status(StatusCode::NOT_MODIFIED)
    } else {
        html(body.clone())
    };
    if send_etag {
        resp = with_header(resp, "etag", &etag);
    }
    if send_lm {
        resp = with_header(resp, "last-modified", &lm);
    }
    resp
}

/// Adds a page to `site` that serves `editions` by the current `edition`.
pub fn changing(
    site: Site,
    host: &str,
    path: &str,
    edition: &Edition,
    editions: Vec<String>,
    validators: Validators,
) -> Site {
    let edition = edition.clone();
    site.route(host, path, move |req| {
        serve_editions(req, edition.get(), &editions, validators)
    })
}

/// `watch --seeds SEEDS` of the fixture site's `host` into `archive`, on
/// loopback, with log lines instead of a progress bar.
pub fn watch_command(archive: &Archive, server: &Server, host: &str, seeds: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "watch",
        "--seeds",
        seeds.to_str().unwrap(),
        "--archive",
        &archive.path(),
        "--allow-private",
        "--no-progress",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(server.resolve_args(&[host]));
    args
}

/// A running `watch`, killed if the test fails before stopping it.
pub struct Guard(pub Option<Running>);

impl Guard {
    pub fn take(&mut self) -> Running {
        self.0.take().expect("watch running")
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            p.kill();
        }
    }
}

// ---------------------------------------------------------------------------
// Commands over the archive
// ---------------------------------------------------------------------------

/// `palimpsest ARGS --archive DIR`, run to completion (60 s at most).
pub fn cli(archive: &Archive, args: &[&str]) -> Output {
    let path = archive.path();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--archive", &path]);
    run(&all, Duration::from_secs(60))
}

/// [`cli`] on a test clock (`PALIMPSEST_CLOCK=clock`).
pub fn cli_on_clock(archive: &Archive, args: &[&str], clock: &str) -> Output {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.extend(["--archive".to_string(), archive.path()]);
    spawn_with_env(&all, &[(CLOCK_VAR, clock)]).wait(Duration::from_secs(60))
}

/// The JSON Lines a successful command printed.
pub fn json_lines(out: &Output, what: &str) -> Vec<Value> {
    out.assert_success(what);
    out.stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{what}: line is not JSON ({e}): {l}\n{}", out.stdout))
        })
        .collect()
}

/// The one JSON object a successful command printed.
pub fn json_object(out: &Output, what: &str) -> Value {
    let mut lines = json_lines(out, what);
    assert_eq!(
        lines.len(),
        1,
        "{what}: expected one JSON object, got:\n{}",
        out.stdout
    );
    lines.remove(0)
}

/// `history URL --json`.
pub fn history(archive: &Archive, url: &str) -> Vec<Value> {
    let what = format!("palimpsest history {url} --json");
    json_lines(&cli(archive, &["history", url, "--json"]), &what)
}

/// `show URL [--version N] --json`.
pub fn show(archive: &Archive, url: &str, version: Option<u32>) -> Value {
    let n = version.map(|v| v.to_string());
    let mut args = vec!["show", url, "--json"];
    if let Some(n) = &n {
        args.extend(["--version", n]);
    }
    let what = format!("palimpsest {}", args.join(" "));
    json_object(&cli(archive, &args), &what)
}

/// `diff URL [A B] --json`.
pub fn diff_json(archive: &Archive, url: &str, versions: &[&str]) -> Value {
    let mut args = vec!["diff", url];
    args.extend_from_slice(versions);
    args.push("--json");
    let what = format!("palimpsest {}", args.join(" "));
    json_object(&cli(archive, &args), &what)
}

/// `diff URL --format FORMAT` (stdout is a pipe, not a terminal).
pub fn diff_formatted(archive: &Archive, url: &str, format: &str) -> String {
    let out = cli(archive, &["diff", url, "--format", format]);
    out.assert_success(&format!("palimpsest diff {url} --format {format}"));
    out.stdout
}

/// `changes --json` plus `extra` flags.
pub fn changes(archive: &Archive, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["changes", "--json"];
    args.extend_from_slice(extra);
    let what = format!("palimpsest {}", args.join(" "));
    json_lines(&cli(archive, &args), &what)
}

/// `schedule --json`.
pub fn schedule(archive: &Archive) -> Vec<Value> {
    json_lines(
        &cli(archive, &["schedule", "--json", "--limit", "1000"]),
        "palimpsest schedule --json",
    )
}

/// The `versions` count of every page in `list --json --all-pages`, by URL.
pub fn versions_by_url(archive: &Archive) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = archive
        .list()
        .iter()
        .map(|p| {
            (
                str_field(p, "url").unwrap_or_default().to_string(),
                num(p, "versions"),
            )
        })
        .collect();
    v.sort();
    v
}

/// Fails unless `out` is a clean failure: exit code ≠ 0 (not a signal, no
/// panic), nothing on stdout, and exactly one non-empty line on stderr that
/// contains each of `mentions` (case-insensitive).
pub fn assert_one_line_error(out: &Output, what: &str, mentions: &[&str]) {
    assert!(
        !out.success() && out.status.code().is_some(),
        "{what}: expected a failure exit code, got {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    assert!(
        !out.stderr.contains("panicked"),
        "{what}: panicked:\n{}",
        out.stderr
    );
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: expected a one-line error on stderr, got {} lines:\n{}",
        lines.len(),
        out.stderr
    );
    let line = lines[0].to_lowercase();
    for m in mentions {
        assert!(
            line.contains(&m.to_lowercase()),
            "{what}: the error should mention {m:?}: {}",
            lines[0]
        );
    }
    assert!(
        out.stdout.trim().is_empty(),
        "{what}: a failure should print nothing on stdout:\n{}",
        out.stdout
    );
}

// ---------------------------------------------------------------------------
// Reading diffs
// ---------------------------------------------------------------------------

/// The words (split on whitespace) of every `op` run of a `words` array.
pub fn op_words(words: &Value, op: &str) -> Vec<String> {
    words
        .as_array()
        .unwrap_or_else(|| panic!("`words` is not an array: {words:#}"))
        .iter()
        .filter(|w| w["op"] == op)
        .flat_map(|w| {
            w["text"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The body entries of a `diff --json` whose `change` is not `same`.
pub fn body_changes(diff: &Value) -> Vec<Value> {
    diff["body"]
        .as_array()
        .unwrap_or_else(|| panic!("diff has no `body` array: {diff:#}"))
        .iter()
        .filter(|p| p["change"] != "same")
        .cloned()
        .collect()
}

/// Words of `text`, split on whitespace.
pub fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

/// `a` and `b` as sorted lists (multiset comparison).
pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}
