//! Revisits with conditional requests: a page that offered an `ETag` or a
//! `Last-Modified` date is asked for with `If-None-Match` /
//! `If-Modified-Since`; a `304 Not Modified` is a capture that confirms the
//! latest version (its `last_seen` moves forward), never a new version.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::news::*;
use crate::support::*;

const HOST: &str = "wire.test";

fn time(row: &Value, field: &str) -> DateTime<Utc> {
    let s = str_field(row, field).unwrap_or_else(|| panic!("history row without {field}: {row:#}"));
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{field} {s:?} is not RFC 3339 ({e}): {row:#}"))
        .to_utc()
}

fn text_story(headline: &str) -> Story {
    Story::new(
        headline,
        &[
            "Shipping companies said on Wednesday that container traffic through the \
             strait had returned to normal after a week of disruption.",
            "Insurers had raised premiums for vessels crossing the area and several \
             lines had diverted ships around the cape, adding days to each voyage.",
            "Port authorities expect the backlog of waiting ships to clear by the end \
             of the month if the weather holds.",
        ],
    )
}

#[test]
fn revisit_sends_validators_and_a_304_confirms_the_version() {
    let edition = Edition::new();
    let pages: [(&str, &str, Validators); 4] = [
        (
            "/etag",
            "Strait traffic returns to normal",
            Validators::ETag,
        ),
        (
            "/dated",
            "Insurers cut premiums for strait crossings",
            Validators::LastModified,
        ),
        (
            "/both",
            "Backlog of ships to clear by month end",
            Validators::Both,
        ),
        ("/plain", "Cape route loses its appeal", Validators::None),
    ];
    let links: Vec<(&str, &str)> = pages.iter().map(|(p, t, _)| (*p, *t)).collect();
    let front = front_page("07:00:00", &links);
    let mut site = changing(
        Site::new(),
        HOST,
        "/",
        &edition,
        vec![front],
        Validators::ETag,
    );
    for (path, headline, validators) in pages {
        let first = text_story(headline).html();
        // Only /both changes: a correction in its last paragraph.
        let second = if path == "/both" {
            text_story(headline)
                .with_paragraph(
                    2,
                    "Port authorities now expect the backlog of waiting ships to clear \
                     within two weeks if the weather holds.",
                )
                .html()
        } else {
            first.clone()
        };
        site = changing(site, HOST, path, &edition, vec![first, second], validators);
    }
    let server = site.serve();
    let url = |path: &str| server.url(HOST, path);
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[HOST])
        .args(["--rate", "20/s"])
        .arg(url("/"));

    crawl
        .run(Duration::from_secs(60))
        .assert_success("first crawl");
    for req in server.page_requests() {
        assert!(
            req.header("if-none-match").is_none() && req.header("if-modified-since").is_none(),
            "the first visit of {} should not be conditional: {:?}",
            req.path,
            req.headers
        );
    }
    let before: Vec<(String, Vec<Value>)> = ["/", "/etag", "/dated", "/both", "/plain"]
        .iter()
        .map(|p| (p.to_string(), history(&archive, &url(p))))
        .collect();
    for (path, h) in &before {
        assert_eq!(h.len(), 1, "{path} after the first crawl: {h:#?}");
        assert!(
            !h[0]["last_seen"].is_null(),
            "{path}: a version is seen when it is first captured: {h:#?}"
        );
    }
    let old_etag = |path: &str| {
        let body = text_story(pages.iter().find(|p| p.0 == path).unwrap().1).html();
        etag_of(&body)
    };

    // An hour on: "later" is unmistakable.
    edition.advance();
    server.clear_log();
    crawl
        .clock(hours_later(1))
        .run(Duration::from_secs(60))
        .assert_success("second crawl");

    let revisit = |path: &str| {
        let reqs: Vec<Req> = server.requests_to(HOST, path);
        assert_eq!(
            reqs.len(),
            1,
            "the second crawl should revisit {path} once:\n{}",
            server.dump()
        );
        reqs.into_iter().next().unwrap()
    };
    let etag = revisit("/etag");
    assert_eq!(
        etag.header("if-none-match"),
        Some(old_etag("/etag").as_str()),
        "/etag offered an ETag: {:?}",
        etag.headers
    );
    let dated = revisit("/dated");
    assert_eq!(
        dated.header("if-modified-since"),
        Some(last_modified(0).as_str()),
        "/dated offered Last-Modified: {:?}",
        dated.headers
    );
    let both = revisit("/both");
    assert!(
        both.header("if-none-match") == Some(old_etag("/both").as_str())
            || both.header("if-modified-since") == Some(last_modified(0).as_str()),
        "/both offered an ETag and Last-Modified: {:?}",
        both.headers
    );
    let plain = revisit("/plain");
    assert!(
        plain.header("if-none-match").is_none() && plain.header("if-modified-since").is_none(),
        "/plain offered no validator, so nothing to send: {:?}",
        plain.headers
    );
    revisit("/");

    let pages_now = archive.list();
    for (path, versions) in [
        ("/", 1),
        ("/etag", 1),
        ("/dated", 1),
        ("/both", 2),
        ("/plain", 1),
    ] {
        let entry = find_page(&pages_now, &url(path))
            .unwrap_or_else(|| panic!("{path} not listed: {pages_now:#?}"));
        assert_eq!(
            num(entry, "captures"),
            2,
            "{path}: a 304 (or an unchanged 200) is a capture: {entry:#}"
        );
        assert_eq!(num(entry, "versions"), versions, "{path}: {entry:#}");
    }

    for (path, old) in &before {
        let now = history(&archive, &url(path));
        let v1_before = &old[0];
        if path == "/both" {
            assert_eq!(now.len(), 2, "{path}: {now:#?}");
            assert_eq!(
                now[0]["last_seen"], v1_before["last_seen"],
                "{path}: version 1 was not seen again: {now:#?}"
            );
            assert!(
                time(&now[1], "first_seen") > time(&now[0], "last_seen"),
                "{path}: version 2 is first seen after version 1 was last seen: {now:#?}"
            );
            continue;
        }
        assert_eq!(now.len(), 1, "{path}: {now:#?}");
        assert_eq!(
            now[0]["first_seen"], v1_before["first_seen"],
            "{path}: first_seen does not move: {now:#?}"
        );
        assert_eq!(now[0]["digest"], v1_before["digest"], "{path}: {now:#?}");
        assert!(
            time(&now[0], "last_seen") > time(v1_before, "last_seen"),
            "{path}: the revisit confirmed version 1, so last_seen should move forward: \
             before {v1_before:#}, after {:#}",
            now[0]
        );
    }
    // The version a 304 confirms is still the full article.
    let shown = show(&archive, &url("/etag"), None);
    assert_eq!(num(&shown, "version"), 1, "{shown:#}");
    assert!(
        str_field(&shown, "text")
            .unwrap_or_default()
            .contains("container traffic through the strait"),
        "{shown:#}"
    );
    archive.assert_verify_clean();
}
