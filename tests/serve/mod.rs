//! The web interface: archived content never runs, the feed is
//! real Atom, bad requests get clear 4xx pages, and a real headless
//! Chromium can walk the fact-checker's flow.

mod browser;
mod hardening;
mod queries;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::StatusCode;

use crate::support::{Archive, CLOCK_VAR, Server, bin, html, status};

const MIN: Duration = Duration::from_secs(60);

/// A running `palimpsest serve`, killed when dropped.
pub struct Served {
    child: Child,
    pub port: u16,
}

impl Served {
    pub fn start(archive: &Archive) -> Served {
        Served::start_on(archive, "127.0.0.1")
    }

    /// Serves on `ip` (a loopback or wildcard address) at a free port;
    /// requests are sent to 127.0.0.1 whatever the bind.
    pub fn start_on(archive: &Archive, ip: &str) -> Served {
        Served::start_with(archive, ip, &[])
    }

    /// Serves on `ip` with extra arguments (`--allow-host NAME`…).
    pub fn start_with(archive: &Archive, ip: &str, extra: &[&str]) -> Served {
        Served::start_with_env(archive, ip, extra, &[])
    }

    /// Serves on 127.0.0.1 on the test clock `spec`.
    pub fn start_on_clock(archive: &Archive, spec: &str) -> Served {
        Served::start_with_env(archive, "127.0.0.1", &[], &[(CLOCK_VAR, spec)])
    }

    fn start_with_env(archive: &Archive, ip: &str, extra: &[&str], env: &[(&str, &str)]) -> Served {
        // Port 0, and the port read from what serve says: a port picked
        // free beforehand can be taken by another test before serve binds it.
        let mut child = Command::new(bin())
            .args([
                "serve",
                "--archive",
                &archive.path(),
                "--bind",
                &format!("{ip}:0"),
            ])
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let stderr = child.stderr.take().expect("serve's stderr");
        let (said, port) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut said = Some(said);
            // Read to the end, so that serve never blocks on a full pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let bound = line
                    .strip_prefix("serving the archive at http://")
                    .and_then(|addr| addr.trim_end_matches('/').rsplit(':').next())
                    .and_then(|port| port.parse::<u16>().ok());
                if let Some(port) = bound
                    && let Some(said) = said.take()
                {
                    let _ = said.send(port);
                }
            }
        });
        let port = port
            .recv_timeout(Duration::from_secs(20))
            .expect("serve did not say where it listens");
        Served { child, port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// GET `path`: (status, headers, body).
    pub fn get(&self, path: &str) -> (u16, String, String) {
        self.send(&format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"))
    }

    /// GET `path` naming `host` in the `Host` header (sent to 127.0.0.1
    /// all the same: no name is resolved).
    pub fn get_as(&self, host: &str, path: &str) -> (u16, String, String) {
        self.send(&format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n"))
    }

    /// POST `body` to `path` with these extra header lines.
    pub fn post(&self, host: &str, path: &str, headers: &str, body: &str) -> (u16, String, String) {
        self.send(&format!(
            "POST {path} HTTP/1.0\r\nHost: {host}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        ))
    }

    /// A raw HTTP/1.0 request: (status, headers, body).
    pub fn send(&self, request: &str) -> (u16, String, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let raw = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, head.to_string(), body.to_string())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `at` of the first "view as fetched" link of an article page.
fn first_capture_time(article: &str) -> &str {
    article
        .split("&amp;at=")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a capture link")
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

const PAYLOAD_TITLE: &str = "Breaking <script>alert('t')</script><img src=x onerror=alert(1)>";

fn hostile_article(edited: bool) -> String {
    let extra = if edited {
        "<p>An added line with <b onmouseover=alert(2)>bold</b> and javascript:alert(3) text.</p>"
    } else {
        ""
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><title>{PAYLOAD_TITLE}</title>\
         <meta property=\"og:type\" content=\"article\"><script>window.pwned=1</script></head>\
         <body><article><h1>{}</h1>\
         <p>Body with &lt;script&gt;alert(4)&lt;/script&gt; written as text, and a <a href=\"javascript:alert(5)\">javascript link</a>.</p>\
         <p>Another paragraph <img src=x onerror=\"alert(6)\"> with an image that errors, long enough to be a body paragraph \
         of a story that readers would recognise as news from the town hall this week.</p>\
         <p>A third paragraph reports what the mayor said afterwards, at some length, about the \
         budget, the bus routes and the new library that opens in the spring.</p>\
         {extra}\
         <p>Source: javascript:alert(7)</p>\
         </article></body></html>",
        // The headline as text that spells markup.
        PAYLOAD_TITLE.replace('<', "&lt;").replace('>', "&gt;")
    )
}

/// A site whose one article carries script payloads, crawled twice with an
/// edit in between (so it has a diff, a timeline and a feed entry).
pub fn hostile_archive() -> (Server, Archive, String) {
    hostile_archive_in(Archive::new())
}

/// Like [`hostile_archive`], crawled into `archive`.
fn hostile_archive_in(archive: Archive) -> (Server, Archive, String) {
    let edited = Arc::new(AtomicBool::new(false));
    let flag = edited.clone();
    let server = Server::start(move |req| match req.path.as_str() {
        "/robots.txt" => status(StatusCode::NOT_FOUND),
        "/" => html(
            "<html><body><a href=\"/news/2025/story?q=%3Cscript%3Ealert(8)%3C/script%3E\">story</a></body></html>",
        ),
        p if p.starts_with("/news/2025/story") => {
            html(hostile_article(flag.load(Ordering::SeqCst)))
        }
        _ => status(StatusCode::NOT_FOUND),
    });
    let crawl = archive
        .crawl(&server, &["evil.test"])
        .arg(server.url("evil.test", "/"));
    crawl.run(MIN).assert_success("first crawl");
    edited.store(true, Ordering::SeqCst);
    crawl.run(MIN).assert_success("second crawl");
    let story = archive
        .list()
        .into_iter()
        .filter_map(|p| p["url"].as_str().map(str::to_string))
        .find(|u| u.contains("/story"))
        .expect("the story is archived");
    (server, archive, story)
}

/// No element that runs anything: no script, no `on*` attribute, no
/// `javascript:` URL, no frame but our own sandboxed capture frame.
fn assert_inert(what: &str, body: &str) {
    let doc = scraper::Html::parse_document(body);
    for element in doc
        .root_element()
        .descendants()
        .filter_map(scraper::ElementRef::wrap)
    {
        let el = element.value();
        assert_ne!(el.name(), "script", "{what}: a <script> element");
        for (name, value) in el.attrs() {
            assert!(
                !name.starts_with("on"),
                "{what}: event handler {name}={value}"
            );
            let v = value.trim().to_ascii_lowercase();
            assert!(!v.starts_with("javascript:"), "{what}: {name}={value}");
        }
        if el.name() == "iframe" {
            assert_eq!(
                el.attr("sandbox"),
                Some(""),
                "{what}: frames are fully sandboxed"
            );
        }
    }
}

#[test]
fn archived_script_payloads_are_inert_on_every_page_and_in_the_feed() {
    let (_server, archive, story) = hostile_archive();
    let served = Served::start(&archive);
    let u = enc(&story);
    let pages = [
        "/".to_string(),
        "/?q=script".to_string(),
        "/search?q=script".to_string(),
        "/search?q=alert&removed=1".to_string(),
        format!("/article?url={u}"),
        format!("/diff?url={u}&a=1&b=2"),
        "/status".to_string(),
        format!(
            "/article?url={}",
            enc("http://evil.test/<script>alert(9)</script>")
        ),
    ];
    for path in &pages {
        let (code, head, body) = served.get(path);
        assert!(code == 200 || code == 404, "{path}: {code}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-security-policy"),
            "{path}: CSP header"
        );
        assert_inert(path, &body);
    }
    let (_, _, article) = served.get(&format!("/article?url={u}"));
    assert!(
        article.contains("&lt;script&gt;"),
        "the payload is shown as text"
    );
    // The capture itself, as fetched, only inside a sandbox.
    let at = first_capture_time(&article);
    let (code, head, body) = served.get(&format!("/raw?url={u}&at={at}"));
    assert_eq!(code, 200);
    let csp = head
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("content-security-policy:")
        })
        .expect("raw capture has a CSP")
        .to_ascii_lowercase();
    assert!(csp.contains("sandbox"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("allow-scripts"), "{csp}");
    assert!(
        body.contains("window.pwned"),
        "the raw capture is the page as fetched"
    );
    // The feed: payloads are escaped text in a valid Atom document.
    let (code, _, feed) = served.get("/changes.atom");
    assert_eq!(code, 200);
    assert!(!feed.contains("<script"), "{feed}");
    let parsed = feed_rs::parser::parse(feed.as_bytes()).expect("the feed parses");
    let title = parsed.entries[0]
        .title
        .as_ref()
        .map(|t| t.content.clone())
        .unwrap_or_default();
    assert!(
        title.contains("<script>alert('t')</script>"),
        "title kept as text: {title}"
    );
}

#[test]
fn changes_feed_is_valid_atom_with_one_entry_per_change() {
    let (_server, archive, story) = hostile_archive();
    let served = Served::start(&archive);
    let (code, head, body) = served.get("/changes.atom");
    assert_eq!(code, 200);
    assert!(head.contains("application/atom+xml"), "{head}");
    let feed = feed_rs::parser::parse(body.as_bytes()).expect("valid Atom");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(feed.entries.len(), 1, "one change: version 2 of the story");
    let link = &feed.entries[0].links[0].href;
    assert!(
        link.contains("/diff?url=") && link.contains(&enc(&story)),
        "{link}"
    );
    assert!(feed.entries[0].updated.is_some());
}

#[test]
fn garbage_and_unknowns_get_clear_4xx_and_the_server_stays_up() {
    let (_server, archive, story) = hostile_archive();
    let served = Served::start(&archive);
    let u = enc(&story);
    let cases = [
        ("/no/such/route", 404),
        ("/article", 400),
        ("/article?url=http%3A%2F%2Fnever.test%2F", 404),
        ("/article?url=%%%", 404),
        (&*format!("/diff?url={u}&a=1&b=99"), 404),
        (&*format!("/diff?url={u}&a=one&b=2"), 400),
        (&*format!("/raw?url={u}&at=notatime"), 400),
        (&*format!("/raw?url={u}&at=1"), 404),
        ("/?since=not-a-date", 400),
        ("/api/history?url=http%3A%2F%2Fnever.test%2F", 404),
        ("/api/diff?url=x&a=-1", 400),
    ];
    for (path, want) in cases {
        let (code, _, body) = served.get(path);
        assert_eq!(code, want, "{path}: {body}");
        assert!(!body.is_empty(), "{path}: an explanation");
    }
    // Raw garbage on the socket, then a normal request still works.
    let mut s = TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    s.write_all(b"\x00\x01GARBAGE\r\n\r\n\xff\xfe").unwrap();
    drop(s);
    let (code, _, body) = served.get(&format!("/api/history?url={u}"));
    assert_eq!(code, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["versions"].as_array().map(Vec::len), Some(2));
}

#[test]
fn api_answers_pages_history_diff_and_changes() {
    let (_server, archive, story) = hostile_archive();
    let served = Served::start(&archive);
    let u = enc(&story);
    let get = |p: &str| -> serde_json::Value {
        let (code, head, body) = served.get(p);
        assert_eq!(code, 200, "{p}: {body}");
        assert!(head.contains("application/json"), "{p}: {head}");
        serde_json::from_str(&body).unwrap()
    };
    let pages = get("/api/pages");
    assert_eq!(pages["pages"][0]["url"], story.as_str());
    assert_eq!(
        get("/api/pages?q=nothing-matches")["pages"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    let diff = get(&format!("/api/diff?url={u}&a=1&b=2"));
    assert!(diff["diff"]["words_added"].as_u64().unwrap() > 0);
    let changes = get("/api/changes?since=1h");
    assert_eq!(changes["changes"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        get("/api/changes?since=2999-01-01")["changes"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
}

#[test]
fn reading_commands_are_answered_by_the_process_serving_the_archive() {
    // A directory admits one process, so its readers go through the holder.
    let (_server, archive, story) = hostile_archive_in(Archive::directory());
    let path = archive.path();
    let commands: Vec<Vec<&str>> = vec![
        vec!["history", &story],
        vec!["history", "--json", &story],
        vec!["show", "--json", "--version", "1", &story],
        vec!["diff", &story, "1", "2"],
        vec!["diff", "--format", "html", &story],
        vec!["changes", "--since", "1h"],
        vec!["list", "--json"],
        vec!["schedule"],
        vec!["verify"],
        vec!["export", "--format", "jsonl", "--all-pages"],
        vec!["history", "https://nowhere.example/never-crawled"],
    ];
    let cli = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--archive", &path]);
        crate::support::run(&all, Duration::from_secs(60))
    };
    // What each command says with the archive to itself…
    let alone: Vec<_> = commands.iter().map(|c| cli(c)).collect();
    assert!(alone[..10].iter().all(|o| o.success()));
    assert!(!alone[10].success());
    // …it says again while `serve` holds the archive, through it.
    let served = Served::start(&archive);
    for (args, before) in commands.iter().zip(&alone) {
        let now = cli(args);
        assert_eq!(now.success(), before.success(), "{args:?}: {}", now.stderr);
        assert_eq!(now.stdout, before.stdout, "{args:?}");
        if !before.success() {
            let first_line = |s: &str| s.lines().next().unwrap_or_default().to_string();
            assert_eq!(
                first_line(&now.stderr),
                first_line(&before.stderr),
                "{args:?}"
            );
        }
    }
    // Only reading commands go through: the others still meet the lock.
    let reextract = cli(&["reextract"]);
    assert!(!reextract.success());
    assert!(reextract.stderr.contains("in use"), "{}", reextract.stderr);
    assert!(
        reextract.stderr.contains(&served.url("/")),
        "the refusal names where the archive is served: {}",
        reextract.stderr
    );
    // A request that is not a reading command is refused, not run.
    let (code, _, _) = served.get("/api/read");
    assert!((400..500).contains(&code), "GET /api/read: {code}");
}

#[test]
fn binding_beyond_loopback_warns_that_the_archive_is_readable() {
    let (_server, archive, _) = hostile_archive();
    // Binding is not traffic: nothing connects to this address.
    let mut child = Command::new(bin())
        .args(["serve", "--archive", &archive.path(), "--bind", "0.0.0.0:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning") && err.contains("not a loopback"),
        "{err}"
    );
}

#[test]
fn api_history_rows_are_the_lines_of_history_json() {
    let (_server, archive, story) = hostile_archive();
    let out = crate::support::run(
        &["history", "--json", &story, "--archive", &archive.path()],
        MIN,
    );
    assert!(out.success(), "{}", out.stderr);
    let cli: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(cli.len(), 2, "{}", out.stdout);
    let served = Served::start(&archive);
    let (code, _, body) = served.get(&format!("/api/history?url={}", enc(&story)));
    assert_eq!(code, 200, "{body}");
    let api: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(api["url"], story.as_str());
    assert_eq!(
        api["versions"].as_array(),
        Some(&cli),
        "each row is the CLI's line, field for field"
    );
}

#[test]
fn web_pages_and_feed_show_times_in_rfc3339_utc() {
    let (_server, archive, story) = hostile_archive();
    let served = Served::start(&archive);
    let u = enc(&story);
    let times = |path: &str, selector: &str| -> Vec<String> {
        let (code, _, body) = served.get(path);
        assert_eq!(code, 200, "{path}: {body}");
        let doc = scraper::Html::parse_document(&body);
        let sel = scraper::Selector::parse(selector).unwrap();
        doc.select(&sel)
            .map(|e| e.text().collect::<String>().trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()
    };
    let mut all = times("/", "tbody td.meta");
    all.extend(times(
        &format!("/article?url={u}"),
        "#timeline td:nth-child(2)",
    ));
    let (_, _, feed) = served.get("/changes.atom");
    all.extend(
        feed.split("<updated>")
            .skip(1)
            .filter_map(|s| s.split("</updated>").next())
            .map(str::to_string),
    );
    assert!(all.len() >= 5, "{all:?}");
    for t in &all {
        assert!(
            t.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(t).is_ok(),
            "RFC 3339 with Z: {t:?}"
        );
    }
}
