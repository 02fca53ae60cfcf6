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
        .assert_success("first crawl");
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
