//! `palimpsest demo`: a small news site served on loopback, to follow the
//! README tour against without touching anyone's real site. Two hosts share
//! one port and are told apart by the `Host` header: `news.test` (a home
//! page, articles, a robots.txt that names a sitemap and disallows drafts,
//! an RSS feed, a story citing its wire source) and `wire.test` (the agency
//! that story cites). One article is edited when the person running the
//! demo asks for it (Enter on the demo's terminal, or `POST /_demo/edit`),
//! so that a later crawl has a new version to find. Every page carries an
//! `ETag` and answers a matching `If-None-Match` with 304, as a real site's
//! cache would.

use std::io::{BufRead, IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc::UnboundedSender;

/// Where `palimpsest demo` listens unless told otherwise.
pub const DEFAULT_BIND: &str = "127.0.0.1:8765";

/// The path of the article the demo edits.
pub(crate) const EDITED_PATH: &str = "/politics/minister-resigns.html";

const HARBOUR_PATH: &str = "/world/harbour-reopens.html";
const COMET_PATH: &str = "/science/new-comet.html";
const RATES_PATH: &str = "/business/rates-on-hold.html";
const DRAFT_PATH: &str = "/drafts/budget-cost.html";
const WIRE_STORY_PATH: &str = "/stories/harbour-reopens.html";
const HERALD: &str = "The Demo Herald";
const WIRE_NAME: &str = "Demo Wire";

/// `POST` here publishes the next edit of the edited article.
const EDIT_ENDPOINT: &str = "/_demo/edit";

/// The two sites of the demo, by the name a crawler asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SiteHost {
    /// `news.test`: the newspaper.
    News,
    /// `wire.test`: the news agency one story cites.
    Wire,
}

impl SiteHost {
    fn name(self) -> &'static str {
        match self {
            SiteHost::News => "news.test",
            SiteHost::Wire => "wire.test",
        }
    }

    /// The site a `Host` header names (with or without its port).
    fn from_header(headers: &HeaderMap) -> Option<Self> {
        let host = headers.get(header::HOST)?.to_str().ok()?;
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        };
        [SiteHost::News, SiteHost::Wire]
            .into_iter()
            .find(|site| site.name().eq_ignore_ascii_case(name))
    }
}

/// One article of the demo site.
struct Story {
    headline: &'static str,
    /// RFC 3339.
    published: &'static str,
    author: &'static str,
    paragraphs: &'static [&'static str],
}

/// The edited article, as first published and after each edit.
const REVISIONS: [Story; EDITS.len() + 1] = [
    Story {
        headline: "Finance minister resigns over budget defeat",
        published: "2026-11-30T08:00:00Z",
        author: "Ana Ruiz",
        paragraphs: &[
            "The finance minister resigned on Monday evening, hours after parliament rejected her budget by 12 votes.",
            "She told reporters outside the ministry that she had lost the confidence of her own party and would not stand in the way of a new plan.",
            "The prime minister thanked her for three years of service and said a successor would be named within the week.",
        ],
    },
    Story {
        headline: "Finance minister steps down over budget defeat",
        published: "2026-11-30T08:00:00Z",
        author: "Ana Ruiz",
        paragraphs: &[
            "The finance minister stepped down on Monday evening, hours after parliament rejected her budget by 12 votes.",
            "She told reporters outside the ministry that she had lost the confidence of her own party and would not stand in the way of a new plan.",
            "The prime minister thanked her for three years of service and said a successor would be named within the week.",
            "Her deputy, Tomas Lind, will act as finance minister until a successor is named.",
        ],
    },
    Story {
        headline: "Finance minister steps down over budget defeat",
        published: "2026-11-30T08:00:00Z",
        author: "Ana Ruiz",
        paragraphs: &[
            "The finance minister stepped down on Monday evening, hours after parliament rejected her budget by 14 votes.",
            "She told reporters outside the ministry that she had lost the confidence of her own party and would not stand in the way of a new plan.",
            "The prime minister thanked her for three years of service and said a successor would be named within the week.",
            "Her deputy, Tomas Lind, will act as finance minister until a successor is named.",
            "Correction: an earlier version of this story said the budget was rejected by 12 votes. It was rejected by 14.",
        ],
    },
];

const HARBOUR: Story = Story {
    headline: "Storm-damaged harbour reopens to shipping",
    published: "2026-11-30T06:30:00Z",
    author: "Lee Chen",
    paragraphs: &[
        "The city's harbour reopened to cargo ships on Monday, three weeks after a storm tore away part of the outer breakwater.",
        "Engineers worked in shifts to rebuild the damaged section, and the port authority said the first container ship docked shortly after dawn.",
        "Fishing boats had been allowed back a week earlier, but larger vessels were diverted to ports further along the coast until repairs were complete.",
    ],
};

const WIRE_HARBOUR: Story = Story {
    headline: "Harbour reopens after breakwater repairs",
    published: "2026-11-30T05:45:00Z",
    author: "Demo Wire staff",
    paragraphs: &[
        "The harbour reopened to cargo traffic early on Monday after engineers finished rebuilding a section of the outer breakwater damaged in last month's storm.",
        "A spokeswoman for the port authority said the first container ship docked at 6:10 in the morning and that normal schedules would resume by the weekend.",
        "The repairs cost an estimated 40 million and were completed a week ahead of the original plan, she said.",
    ],
};

const COMET: Story = Story {
    headline: "Amateur astronomer spots a new comet",
    published: "2026-11-29T21:00:00Z",
    author: "Priya Nair",
    paragraphs: &[
        "A retired teacher photographing the night sky from her garden has found a comet that no survey had recorded before.",
        "The observatory that confirmed the discovery said the comet will pass closest to the Sun in March and may be visible with binoculars.",
        "Comets are named after their discoverers, so the new one will carry her name in the catalogue.",
    ],
};

const RATES: Story = Story {
    headline: "Central bank holds interest rates steady",
    published: "2026-11-29T12:00:00Z",
    author: "Tom Becker",
    paragraphs: &[
        "The central bank kept its main interest rate unchanged on Thursday, saying inflation was falling but not yet fast enough.",
        "Its governor told a news conference that a cut early next year was possible if wages grew more slowly over the winter.",
        "Markets had expected the decision, and the currency barely moved after the announcement.",
    ],
};

const DRAFT: Story = Story {
    headline: "Draft: what the budget would have cost",
    published: "2026-11-30T07:00:00Z",
    author: "Ana Ruiz",
    paragraphs: &["This draft is not ready. Robots.txt asks crawlers to stay out of /drafts/."],
};

/// What each edit of the edited article changes, for the person who asked.
const EDITS: [&str; 2] = [
    "the headline now says \"steps down\" and a paragraph names the acting minister",
    "a correction: the budget was rejected by 14 votes, not 12",
];

/// The demo site: what it serves and the one thing about it that changes.
struct Demo {
    /// The address both hosts are reached at.
    ip: IpAddr,
    /// The port of both hosts, for the absolute links between them.
    port: u16,
    /// Edits of the edited article published so far.
    edits: AtomicUsize,
    /// Lines for the demo's output (printed by the task that owns it).
    said: UnboundedSender<String>,
}

/// A response body and its type.
struct Doc {
    content_type: &'static str,
    body: String,
}

impl Doc {
    fn html(body: String) -> Self {
        Doc {
            content_type: "text/html; charset=utf-8",
            body,
        }
    }
}

/// What publishing an edit did.
#[derive(Debug, PartialEq, Eq)]
enum Published {
    /// The article now shows edit `number` (1 is the first).
    Edit { number: usize },
    /// The article was already at its last revision.
    NoneLeft,
}

impl Demo {
    fn origin(&self, site: SiteHost) -> String {
        format!("http://{}:{}", site.name(), self.port)
    }

    fn edited(&self) -> &'static Story {
        &REVISIONS[self.edits.load(Ordering::SeqCst).min(REVISIONS.len() - 1)]
    }

    fn publish_edit(&self) -> Published {
        let advanced = self
            .edits
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n + 1 < REVISIONS.len()).then_some(n + 1)
            });
        match advanced {
            Ok(before) => Published::Edit { number: before + 1 },
            Err(_) => Published::NoneLeft,
        }
    }

    /// What a person sees when an edit is published.
    fn announce(&self, published: &Published) -> String {
        let url = format!("{}{EDITED_PATH}", self.origin(SiteHost::News));
        match published {
            Published::Edit { number } => format!(
                "published edit {number} of {} to {url}: {}",
                EDITS.len(),
                EDITS.get(number - 1).copied().unwrap_or_default()
            ),
            Published::NoneLeft => {
                format!("{url} is at its last revision: no edit left to publish")
            }
        }
    }

    fn document(&self, site: SiteHost, path: &str) -> Option<Doc> {
        match site {
            SiteHost::News => self.news_document(path),
            SiteHost::Wire => self.wire_document(path),
        }
    }

    fn news_document(&self, path: &str) -> Option<Doc> {
        let news = self.origin(SiteHost::News);
        let wire = self.origin(SiteHost::Wire);
        Some(match path {
            "/" => Doc::html(self.home_page()),
            "/robots.txt" => Doc {
                content_type: "text/plain; charset=utf-8",
                body: format!("User-agent: *\nDisallow: /drafts/\n\nSitemap: {news}/sitemap.xml\n"),
            },
            "/sitemap.xml" => Doc {
                content_type: "application/xml",
                body: sitemap(&news, &[EDITED_PATH, HARBOUR_PATH, COMET_PATH]),
            },
            "/feed.xml" => Doc {
                content_type: "application/rss+xml",
                body: rss(&news, &[(EDITED_PATH, self.edited()), (RATES_PATH, &RATES)]),
            },
            EDITED_PATH => Doc::html(article_page(self.edited(), HERALD, None)),
            HARBOUR_PATH => {
                let source = format!("{wire}{WIRE_STORY_PATH}");
                Doc::html(article_page(&HARBOUR, HERALD, Some(&source)))
            }
            COMET_PATH => Doc::html(article_page(&COMET, HERALD, None)),
            RATES_PATH => Doc::html(article_page(&RATES, HERALD, None)),
            DRAFT_PATH => Doc::html(article_page(&DRAFT, HERALD, None)),
            _ => return None,
        })
    }

    fn wire_document(&self, path: &str) -> Option<Doc> {
        Some(match path {
            "/robots.txt" => Doc {
                content_type: "text/plain; charset=utf-8",
                body: "User-agent: *\nAllow: /\n".to_string(),
            },
            "/" => Doc::html(front_page(
                WIRE_NAME,
                &[(WIRE_STORY_PATH, WIRE_HARBOUR.headline)],
                "",
            )),
            WIRE_STORY_PATH => Doc::html(article_page(&WIRE_HARBOUR, WIRE_NAME, None)),
            _ => return None,
        })
    }

    fn home_page(&self) -> String {
        // The headline on the front page stays as first published, so that
        // an edit changes the article alone.
        front_page(
            HERALD,
            &[
                (EDITED_PATH, REVISIONS[0].headline),
                (HARBOUR_PATH, HARBOUR.headline),
                (DRAFT_PATH, DRAFT.headline),
            ],
            "<link rel=\"alternate\" type=\"application/rss+xml\" href=\"/feed.xml\">",
        )
    }
}

fn front_page(site_name: &str, links: &[(&str, &str)], head: &str) -> String {
    let items: String = links
        .iter()
        .map(|(href, title)| format!("<li><h2><a href=\"{href}\">{title}</a></h2></li>\n"))
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{site_name}</title>{head}</head>\n<body>\n\
         <header><a href=\"/\">{site_name}</a></header>\n\
         <main><ul class=\"headlines\">\n{items}</ul></main>\n</body></html>\n"
    )
}

fn article_page(story: &Story, site_name: &str, source: Option<&str>) -> String {
    let paragraphs: String = story
        .paragraphs
        .iter()
        .map(|p| format!("<p>{p}</p>\n"))
        .collect();
    let attribution = source
        .map(|url| format!("<p class=\"attribution\">Source: <a href=\"{url}\">{url}</a></p>\n"))
        .unwrap_or_default();
    let (h, a, p) = (story.headline, story.author, story.published);
    let day = p.get(..10).unwrap_or(p);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <title>{h} | {site_name}</title>\n\
         <meta property=\"og:type\" content=\"article\">\n\
         <meta property=\"og:title\" content=\"{h}\">\n\
         <meta property=\"og:site_name\" content=\"{site_name}\">\n\
         <meta name=\"author\" content=\"{a}\">\n\
         <meta property=\"article:published_time\" content=\"{p}\">\n</head>\n<body>\n\
         <header><a href=\"/\">{site_name}</a></header>\n\
         <article><h1>{h}</h1>\n<p class=\"byline\">By {a}, <time datetime=\"{p}\">{day}</time></p>\n\
         {paragraphs}{attribution}</article>\n</body></html>\n"
    )
}

fn sitemap(origin: &str, paths: &[&str]) -> String {
    let urls: String = paths
        .iter()
        .map(|p| format!("  <url><loc>{origin}{p}</loc></url>\n"))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n{urls}</urlset>\n"
    )
}

fn rss(origin: &str, items: &[(&str, &Story)]) -> String {
    let items: String = items
        .iter()
        .map(|(path, story)| {
            format!(
                "  <item><title>{}</title><link>{origin}{path}</link></item>\n",
                story.headline
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\n\
         <title>{HERALD}</title><link>{origin}/</link>\n\
         <description>Latest stories</description>\n{items}</channel></rss>\n"
    )
}

/// A strong validator for a body: equal bodies, equal tags.
fn etag(body: &str) -> String {
    format!("\"{}\"", &blake3::hash(body.as_bytes()).to_hex()[..16])
}

/// `doc`, or 304 when the client already holds this very body.
fn respond(doc: Doc, request_headers: &HeaderMap) -> Response {
    let tag = etag(&doc.body);
    let held = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let tag = HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"\""));
    if held {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(doc.content_type),
            ),
            (header::ETAG, tag),
        ],
        doc.body,
    )
        .into_response()
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn handle(State(demo): State<Arc<Demo>>, request: Request) -> Response {
    let path = request.uri().path();
    if path == EDIT_ENDPOINT {
        return edit_endpoint(&demo, request.method());
    }
    let Some(site) = SiteHost::from_header(request.headers()) else {
        // A browser pointed at the bare address: say how to reach the sites.
        return text(StatusCode::OK, instructions(&demo));
    };
    match demo.document(site, path) {
        Some(doc) => respond(doc, request.headers()),
        None => text(
            StatusCode::NOT_FOUND,
            format!("no page {path} on {}\n", site.name()),
        ),
    }
}

fn edit_endpoint(demo: &Demo, method: &Method) -> Response {
    if method != Method::POST {
        // A crawler or a link preview must never publish an edit.
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("POST to {EDIT_ENDPOINT} publishes an edit\n"),
        );
    }
    let line = demo.announce(&demo.publish_edit());
    let _ = demo.said.send(line.clone());
    text(StatusCode::OK, format!("{line}\n"))
}

/// What `palimpsest demo` prints on start: the sites and the exact
/// commands to try against them.
fn instructions(demo: &Demo) -> String {
    let port = demo.port;
    let (news, wire) = (demo.origin(SiteHost::News), demo.origin(SiteHost::Wire));
    let ip = match demo.ip {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    };
    let crawl = format!(
        "palimpsest crawl {news}/ --resolve news.test:{port}:{ip} --resolve wire.test:{port}:{ip} --allow-private --rate 5/s"
    );
    let article = format!("{news}{EDITED_PATH}");
    format!(
        "demo news site on loopback, port {port}:\n\
         \x20 {news}/  The Demo Herald: home page, articles, robots.txt, sitemap, RSS feed\n\
         \x20 {wire}/  Demo Wire: the agency a Herald story cites as its source\n\
         \n\
         The crawler never looks .test names up: each host needs its own --resolve,\n\
         and --allow-private lets it connect to loopback. In another terminal, try:\n\
         \n\
         \x20 {crawl}\n\
         \x20 palimpsest list --all-pages\n\
         \x20 palimpsest stats\n\
         \x20 palimpsest verify\n\
         \n\
         Press Enter here to publish an edit of {article}\n\
         (or: curl -X POST http://{ip}:{port}{EDIT_ENDPOINT}), then crawl again and try:\n\
         \n\
         \x20 palimpsest history {article}\n\
         \x20 palimpsest diff {article}\n\
         \x20 palimpsest changes --since 1h\n\
         \n\
         Ctrl-C stops the site."
    )
}

/// Publishes an edit for every line typed on stdin, until stdin ends.
fn edit_on_enter(demo: Arc<Demo>) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if line.is_err() {
                break;
            }
            let _ = demo.said.send(demo.announce(&demo.publish_edit()));
        }
    });
}

/// Whether stdin is a terminal this process runs in the background of
/// (`palimpsest demo &`): reading it would stop the whole process.
fn stdin_is_background_terminal() -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return false;
    };
    // After the command name: state, ppid, pgrp, session, tty, tpgid.
    let Some((_, fields)) = stat.rsplit_once(')') else {
        return false;
    };
    let fields: Vec<&str> = fields.split_whitespace().collect();
    matches!((fields.get(2), fields.get(5)), (Some(group), Some(foreground)) if group != foreground)
}

/// Whether the demo may listen on `addr`: loopback only, since the site is
/// for this machine's crawler and nobody else's.
fn check_bind(addr: SocketAddr) -> anyhow::Result<()> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    anyhow::bail!(
        "the demo site listens on loopback only, and {} is not a loopback address (try --bind {DEFAULT_BIND})",
        addr.ip()
    )
}

/// `palimpsest demo`: serves the demo site on `bind` until Ctrl-C,
/// printing on `out` the commands to try and every edit it publishes.
pub fn run(bind: SocketAddr, out: &mut dyn Write) -> anyhow::Result<()> {
    check_bind(bind)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        let local = listener.local_addr()?;
        let (said, mut to_say) = tokio::sync::mpsc::unbounded_channel();
        let demo = Arc::new(Demo {
            ip: local.ip(),
            port: local.port(),
            edits: AtomicUsize::new(0),
            said,
        });
        say(out, &instructions(&demo));
        if stdin_is_background_terminal() {
            say(
                out,
                "(running in the background: publish edits with the curl command)",
            );
        } else {
            edit_on_enter(demo.clone());
        }
        let app = Router::new().fallback(handle).with_state(demo);
        let mut server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
        });
        loop {
            tokio::select! {
                Some(line) = to_say.recv() => say(out, &line),
                ended = &mut server => {
                    ended.context("the demo site failed")?.context("the demo site failed")?;
                    return anyhow::Ok(());
                }
            }
        }
    })
}

/// One line of output; a closed stdout is no reason to stop serving.
fn say(out: &mut dyn Write, line: &str) {
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Demo {
        Demo {
            said: tokio::sync::mpsc::unbounded_channel().0,
            ip: IpAddr::from([127, 0, 0, 1]),
            port: 8765,
            edits: AtomicUsize::new(0),
        }
    }

    #[test]
    fn default_bind_is_loopback() {
        let addr: SocketAddr = DEFAULT_BIND.parse().unwrap();
        assert!(check_bind(addr).is_ok());
        assert!(check_bind("0.0.0.0:8765".parse().unwrap()).is_err());
        assert!(check_bind("[::1]:8765".parse().unwrap()).is_ok());
    }

    #[test]
    fn edits_advance_to_the_last_revision_and_stop() {
        let d = demo();
        assert_eq!(d.publish_edit(), Published::Edit { number: 1 });
        assert_eq!(d.publish_edit(), Published::Edit { number: 2 });
        assert_eq!(d.publish_edit(), Published::NoneLeft);
        assert_eq!(d.edited().headline, REVISIONS[2].headline);
    }

    #[test]
    fn hosts_are_told_apart_by_name_with_or_without_port() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("WIRE.test:8765"));
        assert_eq!(SiteHost::from_header(&h), Some(SiteHost::Wire));
        h.insert(header::HOST, HeaderValue::from_static("news.test"));
        assert_eq!(SiteHost::from_header(&h), Some(SiteHost::News));
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8765"));
        assert_eq!(SiteHost::from_header(&h), None);
    }
}
