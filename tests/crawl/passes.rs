//! Crawl passes: running a finished crawl again revisits every page with
//! conditional requests; a `304` is a capture, not a new version.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::http::StatusCode;

use crate::support::*;

const ETAG: &str = "\"v1\"";
const LAST_MODIFIED: &str = "Wed, 01 Jan 2025 10:00:00 GMT";

#[test]
fn second_run_revisits_every_page_with_conditional_requests() {
    let host = "daily.test";
    let changes = counter();
    let changes_in = changes.clone();
    let server = Site::new()
        .page(
            host,
            "/",
            page("Front page", &["/etag", "/lm", "/plain", "/changing"]),
        )
        .route(host, "/etag", |req| {
            if req
                .header("if-none-match")
                .is_some_and(|v| v.contains(ETAG))
            {
                with_header(status(StatusCode::NOT_MODIFIED), "etag", ETAG)
            } else {
                with_header(html(page("Tagged story", &[])), "etag", ETAG)
            }
        })
        .route(host, "/lm", |req| {
            if req.header("if-modified-since").is_some() {
                with_header(
                    status(StatusCode::NOT_MODIFIED),
                    "last-modified",
                    LAST_MODIFIED,
                )
            } else {
                with_header(
                    html(page("Dated story", &[])),
                    "last-modified",
                    LAST_MODIFIED,
                )
            }
        })
        .page(host, "/plain", page("Plain story", &[]))
        .route(host, "/changing", move |_| {
            if changes_in.fetch_add(1, Ordering::SeqCst) == 0 {
                html(page("Developing story", &[]))
            } else {
                html(page("Developing story, updated with new facts", &[]))
            }
        })
        .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"));

    crawl
        .run(Duration::from_secs(60))
        .assert_success("first crawl");
    let first_pass = num(&archive.stats(), "pass");
    for req in server.page_requests() {
        assert!(
            req.header("if-none-match").is_none() && req.header("if-modified-since").is_none(),
            "first visit of {} was conditional",
            req.path
        );
    }

    server.clear_log();
    crawl
        .run(Duration::from_secs(60))
        .assert_success("second crawl");

    for path in ["/", "/etag", "/lm", "/plain", "/changing"] {
        assert_eq!(
            server.count(host, path),
            1,
            "the new pass should revisit {path} once:\n{}",
            server.dump()
        );
    }
    let revisits = server.requests_for(host);
    let etag = revisits.iter().find(|r| r.path == "/etag").unwrap();
    assert_eq!(
        etag.header("if-none-match"),
        Some(ETAG),
        "revisit of /etag should send If-None-Match: {ETAG}: {:?}",
        etag.headers
    );
    let lm = revisits.iter().find(|r| r.path == "/lm").unwrap();
    assert_eq!(
        lm.header("if-modified-since"),
        Some(LAST_MODIFIED),
        "revisit of /lm should send If-Modified-Since: {:?}",
        lm.headers
    );

    let pages = archive.list();
    for (path, captures, versions) in [
        ("/etag", 2, 1),
        ("/lm", 2, 1),
        ("/plain", 2, 1),
        ("/changing", 2, 2),
        ("/", 2, 1),
    ] {
        let url = server.url(host, path);
        let entry = find_page(&pages, &url).unwrap_or_else(|| panic!("{url} not listed"));
        assert_eq!(num(entry, "captures"), captures, "{path}: {entry:#}");
        assert_eq!(num(entry, "versions"), versions, "{path}: {entry:#}");
        assert_eq!(entry["state"], "fetched", "{path}: {entry:#}");
        assert!(entry["error"].is_null(), "{path}: {entry:#}");
    }
    let stats = archive.stats();
    assert!(
        num(&stats, "pass") > first_pass,
        "the second run should be a new pass: {stats:#}"
    );
    assert_eq!(num(&stats, "captures"), 10, "{stats:#}");
    assert_eq!(num(&stats, "versions"), 6, "{stats:#}");
    // Distinct bodies: /, /etag, /lm, /plain once each, /changing twice; an
    // unchanged page and a 304 add no payload.
    assert_eq!(num(&stats, "payloads"), 6, "{stats:#}");
    archive.assert_verify_clean();
}

#[test]
fn new_pass_discovers_new_pages() {
    let host = "grow.test";
    let visits = counter();
    let visits_in = visits.clone();
    let server = Site::new()
        .route(host, "/", move |_| {
            if visits_in.fetch_add(1, Ordering::SeqCst) == 0 {
                html(page("Front page", &["/old"]))
            } else {
                html(page("Front page", &["/old", "/breaking"]))
            }
        })
        .page(host, "/old", page("Old story", &[]))
        .page(host, "/breaking", page("Breaking story", &[]))
        .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"));
    crawl
        .run(Duration::from_secs(60))
        .assert_success("first crawl");
    assert_eq!(server.count(host, "/breaking"), 0);
    crawl
        .run(Duration::from_secs(60))
        .assert_success("second crawl");
    assert_eq!(
        server.count(host, "/breaking"),
        1,
        "the new pass should discover the page linked since the last one:\n{}",
        server.dump()
    );
    let entry = archive.entry(&server.url(host, "/breaking"));
    assert_eq!(entry["state"], "fetched", "{entry:#}");
}

#[test]
fn a_page_that_failed_is_tried_again_in_the_next_pass() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    let host = "fixed.test";
    let broken = Arc::new(AtomicBool::new(true));
    let broken_in = broken.clone();
    let server = Site::new()
        .page(host, "/", page("Home", &["/story"]))
        .route(host, "/story", move |_| {
            if broken_in.load(Ordering::SeqCst) {
                status(StatusCode::INTERNAL_SERVER_ERROR)
            } else {
                html(page("Story", &[]))
            }
        })
        .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"));
    crawl
        .run(Duration::from_secs(90))
        .assert_exit(3, "first crawl");
    let entry = archive.entry(&server.url(host, "/story"));
    assert_eq!(entry["state"], "failed", "{entry:#}");

    broken.store(false, Ordering::SeqCst);
    server.clear_log();
    crawl
        .run(Duration::from_secs(90))
        .assert_success("second crawl");
    assert_eq!(server.count(host, "/story"), 1, "{}", server.dump());
    let entry = archive.entry(&server.url(host, "/story"));
    assert_eq!(entry["state"], "fetched", "{entry:#}");
    assert!(entry["error"].is_null(), "{entry:#}");
    assert_eq!(entry["status"], 200, "{entry:#}");
}

#[test]
fn an_unasked_for_304_does_not_break_the_archive() {
    // A misbehaving server answers 304 to an unconditional request: there is
    // no earlier capture to stand for. The crawl and the archive cope.
    let host = "odd304.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/weird", "/fine"]))
        .raw(host, "/weird", StatusCode::NOT_MODIFIED, vec![], "")
        .page(host, "/fine", page("Fine", &[]))
        .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"));
    crawl
        .run(Duration::from_secs(60))
        .assert_success("first crawl");
    crawl
        .run(Duration::from_secs(60))
        .assert_success("second crawl");
    archive.assert_verify_clean();
    let entry = archive.entry(&server.url(host, "/weird"));
    assert_ne!(entry["state"], "queued", "{entry:#}");
    assert_eq!(server.count(host, "/fine"), 2, "{}", server.dump());
}

#[test]
fn a_revisit_that_changes_only_ads_and_timestamps_is_no_new_version() {
    let host = "ads.test";
    let loads = counter();
    let loads_in = loads.clone();
    let server = Site::new()
        .page(host, "/", page("Home", &["/story"]))
        .route(host, "/story", move |_| {
            let n = loads_in.fetch_add(1, Ordering::SeqCst);
            html(format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <title>Council approves the bridge</title>\
                 <meta property=\"og:type\" content=\"article\"></head><body>\
                 <header><nav><a href=\"/\">Home</a> <span class=\"clock\">Updated {n} minutes ago</span></nav></header>\
                 <aside class=\"ad\">Advertisement: buy product number {n}</aside>\
                 <article><h1>Council approves the bridge</h1>\
                 <p>The city council voted on Tuesday to approve the new bridge across the river, \
                 ending a debate that had lasted for more than two years.</p>\
                 <p>Opponents had argued that the cost was too high, while supporters said the \
                 bridge would cut travel times for thousands of residents every day.</p>\
                 <p>Construction is expected to begin next spring and to take about three years.</p>\
                 <div class=\"share\">Share this story ({n} shares)</div>\
                 </article>\
                 <section class=\"related\"><h2>Related</h2><a href=\"/\">Story {n}</a></section>\
                 <footer>Page generated in {n} ms</footer></body></html>"
            ))
        })
        .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"));
    crawl
        .run(Duration::from_secs(60))
        .assert_success("first crawl");
    crawl
        .run(Duration::from_secs(60))
        .assert_success("second crawl");
    let entry = archive.entry(&server.url(host, "/story"));
    assert_eq!(num(&entry, "captures"), 2, "{entry:#}");
    assert_eq!(
        num(&entry, "versions"),
        1,
        "only ads, counters and timestamps changed: {entry:#}"
    );
}

#[test]
fn a_revert_is_a_new_version() {
    // A → B → A: three versions, "a revert is history too".
    let host = "revert.test";
    let loads = counter();
    let loads_in = loads.clone();
    let server = Site::new()
        .page(host, "/", page("Home", &["/story"]))
        .route(host, "/story", move |_| {
            if loads_in.fetch_add(1, Ordering::SeqCst) == 1 {
                html(page("Minister resigns after scandal", &[]))
            } else {
                html(page("Minister denies scandal", &[]))
            }
        })
        .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"));
    for run in 1..=3 {
        crawl
            .run(Duration::from_secs(60))
            .assert_success(&format!("crawl {run}"));
    }
    let entry = archive.entry(&server.url(host, "/story"));
    assert_eq!(num(&entry, "captures"), 3, "{entry:#}");
    assert_eq!(num(&entry, "versions"), 3, "A, B, then A again: {entry:#}");
    assert_eq!(entry["title"], "Minister denies scandal", "{entry:#}");
}

#[test]
fn validators_are_sent_back_exactly_as_given() {
    // Weak ETags and unusual spellings must round-trip byte for byte, or
    // servers never answer 304.
    let host = "weak.test";
    let weak = "W/\"5f3-abc+def\"";
    let server = Site::new()
        .page(host, "/", page("Home", &["/weak"]))
        .route(host, "/weak", move |req| {
            if req.header("if-none-match") == Some(weak) {
                with_header(status(StatusCode::NOT_MODIFIED), "etag", weak)
            } else {
                with_header(html(page("Weakly tagged", &[])), "etag", weak)
            }
        })
        .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"));
    crawl
        .run(Duration::from_secs(60))
        .assert_success("first crawl");
    server.clear_log();
    crawl
        .run(Duration::from_secs(60))
        .assert_success("second crawl");
    let revisit = server
        .requests_for(host)
        .into_iter()
        .find(|r| r.path == "/weak")
        .expect("/weak revisited");
    assert_eq!(
        revisit.header("if-none-match"),
        Some(weak),
        "{:?}",
        revisit.headers
    );
    let entry = archive.entry(&server.url(host, "/weak"));
    assert_eq!(num(&entry, "captures"), 2, "{entry:#}");
    assert_eq!(num(&entry, "versions"), 1, "{entry:#}");
}

#[test]
fn an_error_page_on_revisit_is_not_a_new_version_of_the_article() {
    // Pass 1: the story. Pass 2: the site answers 404 with its error page.
    // The capture is recorded; the article's history gains no "Page not
    // found" version, and nothing earlier is lost.
    let host = "gone.test";
    let loads = counter();
    let loads_in = loads.clone();
    let server = Site::new()
        .page(host, "/", page("Home", &["/story"]))
        .route(host, "/story", move |_| {
            if loads_in.fetch_add(1, Ordering::SeqCst) == 0 {
                html(page("The story as first published", &[]))
            } else {
                let mut resp = html(page("Page not found", &[]));
                *resp.status_mut() = StatusCode::NOT_FOUND;
                resp
            }
        })
        .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"));
    crawl
        .run(Duration::from_secs(60))
        .assert_success("first crawl");
    crawl
        .run(Duration::from_secs(60))
        .assert_exit(3, "second crawl");
    let entry = archive.entry(&server.url(host, "/story"));
    assert_eq!(num(&entry, "captures"), 2, "{entry:#}");
    assert_eq!(entry["status"], 404, "{entry:#}");
    assert_eq!(
        num(&entry, "versions"),
        1,
        "a 404 error page became a version of the article: {entry:#}"
    );
    archive.assert_verify_clean();
}
