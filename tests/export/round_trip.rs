//! palimpsest's own WARC brings back the whole history: crawl → edit →
//! crawl → revert → crawl → unchanged (304) crawl, exported with
//! `--all-pages` and imported into a fresh archive, gives the same
//! captures and versions — the revert (an identical-payload revisit) as a
//! third version, the 304s (server-not-modified revisits) extending
//! "last seen", and a redirected capture under the URL that was asked for.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use serde_json::Value;

use super::{MIN, article, export, front, lines};
use crate::support::{Archive, Req, Server, html, num, redirect, run, status, with_header};

const STORY: &str = "/news/2025/story";
const STEADY: &str = "/news/2025/steady";
/// Redirects to `LANDING`, which nothing links to.
const MOVED: &str = "/news/2025/moved";
const LANDING: &str = "/news/2025/landing";

/// A body with a strong ETag, or 304 when the request already has it.
fn with_etag(req: &Req, body: String) -> axum::response::Response {
    let etag = format!(
        "\"{:x}\"",
        body.len() * 31 + body.bytes().map(usize::from).sum::<usize>()
    );
    let resp = if req.header("if-none-match") == Some(etag.as_str()) {
        status(StatusCode::NOT_MODIFIED)
    } else {
        html(body)
    };
    with_header(resp, "etag", &etag)
}

/// The story is edited in edition 1 and reverted in edition 2; the steady
/// page never changes. Both offer ETags; the front page does not.
fn site(edition: Arc<AtomicU64>) -> Server {
    Server::start(move |req| {
        let original = || article("Council approves budget", "en", "The council voted.");
        match req.path.as_str() {
            "/robots.txt" => status(StatusCode::NOT_FOUND),
            "/" => html(front(&[STORY, STEADY, MOVED])),
            MOVED => redirect(StatusCode::MOVED_PERMANENTLY, LANDING),
            LANDING => html(article("Library moves", "en", "The library moved.")),
            STORY if edition.load(Ordering::SeqCst) == 1 => with_etag(
                req,
                article(
                    "Council approves budget",
                    "en",
                    "The council voted late on Tuesday, after a long debate.",
                ),
            ),
            STORY => with_etag(req, original()),
            STEADY => with_etag(req, article("Bridge reopens", "en", "The bridge reopened.")),
            _ => status(StatusCode::NOT_FOUND),
        }
    })
}

fn history(archive: &Archive, url: &str) -> Vec<Value> {
    let path = archive.path();
    let out = run(&["history", url, "--json", "--archive", &path], MIN);
    out.assert_success("history");
    lines(&out.stdout)
}

/// Every version of every page: (url, version, captured_at, text).
fn versions(archive: &Archive) -> Vec<(String, u64, String, String)> {
    let mut rows: Vec<_> = lines(&export(
        archive,
        &["--format", "jsonl", "--all-versions", "--all-pages"],
    ))
    .iter()
    .map(|r| {
        (
            r["url"].as_str().unwrap().to_string(),
            r["version"].as_u64().unwrap(),
            r["captured_at"].as_str().unwrap().to_string(),
            r["text"].as_str().unwrap().to_string(),
        )
    })
    .collect();
    rows.sort();
    rows
}

fn import(archive: &Archive, warc: &str) -> Value {
    let path = archive.path();
    let out = run(&["import-warc", "--archive", &path, "--json", warc], MIN);
    out.assert_success("import-warc");
    serde_json::from_str(out.stdout.trim()).unwrap()
}

#[test]
fn warc_round_trip_keeps_reverts_and_not_modified_revisits() {
    let edition = Arc::new(AtomicU64::new(0));
    let server = site(edition.clone());
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &["news.test"])
        .arg(server.url("news.test", "/"));
    crawl.run(MIN).assert_success("crawl 1: original");
    edition.store(1, Ordering::SeqCst);
    crawl.run(MIN).assert_success("crawl 2: edited");
    edition.store(2, Ordering::SeqCst);
    crawl.run(MIN).assert_success("crawl 3: reverted");
    crawl.run(MIN).assert_success("crawl 4: not modified");

    let story = server.url("news.test", STORY);
    let steady = server.url("news.test", STEADY);
    let original = history(&archive, &story);
    assert_eq!(
        original.len(),
        3,
        "edit and revert are versions: {original:#?}"
    );
    assert_eq!(original[0]["digest"], original[2]["digest"], "the revert");
    let steady_history = history(&archive, &steady);
    assert_eq!(steady_history.len(), 1);
    assert_ne!(
        steady_history[0]["first_seen"], steady_history[0]["last_seen"],
        "304s extended last seen: {steady_history:#?}"
    );
    assert!(
        server.requests_to("news.test", STEADY).len() >= 4,
        "every crawl asked for the steady page"
    );

    let dir = tempfile::tempdir().unwrap();
    let warc = dir.path().join("corpus.warc.gz");
    let warc = warc.to_str().unwrap();
    export(&archive, &["--format", "warc", "--all-pages", "-o", warc]);

    let fresh = Archive::new();
    let report = import(&fresh, warc);
    assert_eq!(num(&report, "damaged"), 0, "{report}");
    let moved = server.url("news.test", MOVED);
    assert_eq!(history(&archive, &moved).len(), 1, "the redirected page");
    for url in [&story, &steady, &moved, &server.url("news.test", "/")] {
        assert_eq!(
            history(&fresh, url),
            history(&archive, url),
            "history of {url} after the round trip"
        );
    }
    assert_eq!(versions(&fresh), versions(&archive));
    let captures = num(&archive.stats(), "captures");
    assert_eq!(num(&fresh.stats(), "captures"), captures, "every capture");
    fresh.assert_verify_clean();

    // And importing it again changes nothing.
    let again = import(&fresh, warc);
    assert_eq!(num(&again, "captures"), 0, "{again}");
    assert_eq!(num(&again, "duplicates"), captures, "{again}");
    assert_eq!(num(&fresh.stats(), "captures"), captures);
    assert_eq!(history(&fresh, &story), original);
}

#[test]
fn a_truncated_capture_stays_truncated_through_a_round_trip() {
    let long_body = "The council met again to discuss the budget in great detail. ".repeat(400);
    let server = Server::start(move |req| match req.path.as_str() {
        "/robots.txt" => status(StatusCode::NOT_FOUND),
        "/" => html(front(&["/news/2025/long"])),
        "/news/2025/long" => html(article("A very long story", "en", &long_body)),
        _ => status(StatusCode::NOT_FOUND),
    });
    let archive = Archive::new();
    archive
        .crawl(&server, &["news.test"])
        .args(["--max-body", "8KiB"])
        .arg(server.url("news.test", "/"))
        .run(MIN)
        // The cut page is an error of the pass.
        .assert_exit(3, "crawl");
    let long = server.url("news.test", "/news/2025/long");
    let versions_of = |a: &Archive| {
        lines(&export(
            a,
            &["--format", "jsonl", "--all-pages", "--all-versions"],
        ))
        .iter()
        .filter(|r| r["url"] == long.as_str())
        .count()
    };
    assert_eq!(versions_of(&archive), 0, "a cut body makes no version");

    let dir = tempfile::tempdir().unwrap();
    let warc = dir.path().join("cut.warc.gz");
    let warc = warc.to_str().unwrap();
    export(&archive, &["--format", "warc", "--all-pages", "-o", warc]);
    let fresh = Archive::new();
    let report = import(&fresh, warc);
    assert_eq!(
        num(&report, "captures"),
        num(&archive.stats(), "captures"),
        "{report}"
    );
    assert_eq!(versions_of(&fresh), 0, "nor after the round trip");
    fresh.assert_verify_clean();
}
