//! `show` gives each version as the article record, and a page
//! whose content returns to an earlier state gains a new version (a revert
//! is history too).

use std::time::Duration;

use chrono::DateTime;
use serde_json::Value;

use super::news::*;
use crate::support::*;

const HOST: &str = "post.test";
const FIRST: &str = "Council approves new cycle lanes for the centre";
const SECOND: &str = "Council delays vote on new cycle lanes for the centre";
const PARAGRAPHS: [&str; 3] = [
    "The city council voted on Wednesday to build eleven kilometres of protected \
     cycle lanes through the centre over the next two years.",
    "Shop owners on the main street had opposed the plan, saying they would lose \
     parking spaces that their customers depend on.",
    "The first section, along the river, is due to open in the spring.",
];
const EDITED: &str = "Shop owners on the main street still oppose the plan, saying they \
     would lose parking spaces that their customers depend on.";

fn story(edition: usize) -> Story {
    let s = Story::new(FIRST, &PARAGRAPHS);
    match edition {
        1 => s.headline(SECOND).with_paragraph(1, EDITED),
        _ => s,
    }
}

/// Serves editions 0, 1 and 0 again of /story; crawls `crawls` times, one
/// edition a crawl.
fn crawled(crawls: usize) -> (Server, Archive, String) {
    let edition = Edition::new();
    let server = changing(
        Site::new().page(
            HOST,
            "/",
            front_page("08:00:00", &[("/story", "Cycle lanes")]),
        ),
        HOST,
        "/story",
        &edition,
        vec![story(0).html(), story(1).html(), story(0).html()],
        Validators::None,
    )
    .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[HOST])
        .args(["--rate", "20/s"])
        .arg(server.url(HOST, "/"));
    for n in 0..crawls {
        if n > 0 {
            edition.advance();
        }
        // Crawl n runs n hours on: each is unmistakably later.
        crawl
            .clone()
            .clock(hours_later(n as u32))
            .run(Duration::from_secs(60))
            .assert_success(&format!("crawl {}", n + 1));
    }
    let url = server.url(HOST, "/story");
    (server, archive, url)
}

#[test]
fn show_gives_the_article_record_of_each_version() {
    let (_server, archive, url) = crawled(2);
    let v1 = show(&archive, &url, Some(1));
    let v2 = show(&archive, &url, Some(2));
    let latest = show(&archive, &url, None);
    assert_eq!(latest, v2, "show without --version is the latest version");

    let mut wrong = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            wrong.push(what);
        }
    };
    for (n, record, headline, paragraph) in
        [(1, &v1, FIRST, PARAGRAPHS[1]), (2, &v2, SECOND, EDITED)]
    {
        for key in [
            "url",
            "canonical_url",
            "title",
            "authors",
            "published",
            "modified",
            "language",
            "site_name",
            "description",
            "text",
            "source_links",
            "kind",
            "version",
            "captured_at",
            "content_digest",
        ] {
            check(
                record.get(key).is_some(),
                format!("version {n}: no {key:?} field"),
            );
        }
        check(
            record["url"] == url.as_str(),
            format!("version {n}: url {}", record["url"]),
        );
        check(
            record["version"] == n,
            format!("version {n}: version {}", record["version"]),
        );
        check(
            str_field(record, "title").is_some_and(|t| t.contains(headline)),
            format!(
                "version {n}: title {} (expected {headline:?})",
                record["title"]
            ),
        );
        let text = str_field(record, "text").unwrap_or_default();
        check(
            text.contains(PARAGRAPHS[0]) && text.contains(paragraph),
            format!("version {n}: text lacks its paragraphs: {text:?}"),
        );
        check(
            record["authors"] == serde_json::json!(["Maria Hartono"]),
            format!(
                "version {n}: authors {} (byline 'By Maria Hartono') (extraction)",
                record["authors"]
            ),
        );
        let published = str_field(record, "published").and_then(|p| {
            DateTime::parse_from_rfc3339(p)
                .ok()
                .map(|d| d.to_utc().to_rfc3339())
        });
        check(
            published.as_deref() == Some("2025-03-04T08:30:00+00:00"),
            format!(
                "version {n}: published {} (<time datetime=\"2025-03-04T08:30:00Z\">) (extraction)",
                record["published"]
            ),
        );
        check(
            record["language"] == "en",
            format!(
                "version {n}: language {} (<html lang=en>)",
                record["language"]
            ),
        );
        check(
            record["site_name"] == "The Daily Test",
            format!(
                "version {n}: site_name {} (og:site_name) (extraction)",
                record["site_name"]
            ),
        );
        check(
            record["kind"] == "article",
            format!("version {n}: kind {}", record["kind"]),
        );
        check(
            str_field(record, "content_digest").is_some_and(|d| !d.is_empty()),
            format!("version {n}: content_digest {}", record["content_digest"]),
        );
    }
    let at =
        |r: &Value| str_field(r, "captured_at").and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    check(
        at(&v1).is_some() && at(&v1) < at(&v2),
        format!(
            "captured_at: version 1 {} should be before version 2 {}",
            v1["captured_at"], v2["captured_at"]
        ),
    );
    check(
        v1["content_digest"] != v2["content_digest"],
        "the two versions come from different payloads".to_string(),
    );
    assert!(wrong.is_empty(), "show --json:\n{}", wrong.join("\n"));
}

#[test]
fn content_that_returns_to_an_earlier_state_is_a_new_version() {
    let (_server, archive, url) = crawled(3);
    let h = history(&archive, &url);
    assert_eq!(
        h.len(),
        3,
        "edit then revert: three versions, not two: {h:#?}"
    );
    assert_eq!(h[2]["digest"], h[0]["digest"], "{h:#?}");
    assert_ne!(h[1]["digest"], h[0]["digest"], "{h:#?}");

    // 1 → 3: nothing differs.
    let same = diff_json(&archive, &url, &["1", "3"]);
    assert_eq!(same["title"]["changed"], false, "{same:#}");
    assert!(body_changes(&same).is_empty(), "{same:#}");
    assert_eq!(num(&same, "words_added"), 0, "{same:#}");
    assert_eq!(num(&same, "words_removed"), 0, "{same:#}");

    // The default diff (2 → 3) is the revert.
    let revert = diff_json(&archive, &url, &[]);
    assert_eq!(
        (num(&revert, "from"), num(&revert, "to")),
        (2, 3),
        "{revert:#}"
    );
    assert_eq!(
        sorted(op_words(&revert["title"]["words"], "insert")),
        sorted(words("approves")),
        "{:#}",
        revert["title"]
    );
    assert_eq!(
        sorted(op_words(&revert["title"]["words"], "delete")),
        sorted(words("delays vote on")),
        "{:#}",
        revert["title"]
    );
    let edits = body_changes(&revert);
    assert_eq!(edits.len(), 1, "{:#}", revert["body"]);
    assert_eq!(edits[0]["change"], "changed", "{:#}", edits[0]);

    let listed: Vec<u64> = changes(&archive, &[])
        .iter()
        .filter(|c| c["url"] == url.as_str())
        .map(|c| num(c, "version"))
        .collect();
    assert_eq!(
        listed,
        vec![2, 3],
        "both the edit and the revert are changes"
    );
}
