//! Kinds of edit a fact-checker looks for, each a version with a precise
//! diff: a changed byline (authors), a corrected publication date, a
//! paragraph moved elsewhere. And one that is not a version: a "modified"
//! time bumped with nothing else changed (identity is title, authors, body
//! and publication date).

use std::time::Duration;

use serde_json::Value;

use super::news::*;
use crate::support::*;

const HOST: &str = "desk.test";
const PARAGRAPHS: [&str; 4] = [
    "The national statistics office said on Thursday that inflation fell to 2.1 \
     percent in February, its lowest level in three years.",
    "Food prices rose more slowly than in January, while energy prices fell for a \
     fourth month in a row as wholesale gas costs eased.",
    "Economists had expected a smaller fall and said the figures made an interest \
     rate cut at the central bank's next meeting more likely.",
    "The finance minister welcomed the figures but warned that households would \
     not feel the difference in their budgets for some months.",
];

fn base() -> Story {
    Story::new("Inflation falls to three-year low", &PARAGRAPHS)
}

/// Crawls a site whose /story is `first`, then (after an edit) `second`.
/// Returns the archive and the story's URL.
fn crawl_edit(first: Story, second: Story) -> (Server, Archive, String) {
    let edition = Edition::new();
    let server = changing(
        Site::new().page(
            HOST,
            "/",
            front_page("07:45:00", &[("/story", "Inflation falls")]),
        ),
        HOST,
        "/story",
        &edition,
        vec![first.html(), second.html()],
        Validators::None,
    )
    .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[HOST])
        .args(["--rate", "20/s"])
        .arg(server.url(HOST, "/"));
    crawl
        .run(Duration::from_secs(60))
        .assert_success("first crawl");
    edition.advance();
    crawl
        .clock(hours_later(1))
        .run(Duration::from_secs(60))
        .assert_success("second crawl");
    let url = server.url(HOST, "/story");
    (server, archive, url)
}

fn versions(archive: &Archive, url: &str) -> usize {
    history(archive, url).len()
}

#[test]
fn changed_byline_is_a_version_diffed_as_authors() {
    let (_server, archive, url) = crawl_edit(base(), base().by("Ken Adams"));
    assert_eq!(
        versions(&archive, &url),
        2,
        "a different author is a new version (identity includes authors)"
    );
    let d = diff_json(&archive, &url, &[]);
    let authors = &d["authors"];
    assert_eq!(
        authors["changed"],
        true,
        "authors should differ (extraction of the byline?): authors {authors:#}\nbody changes: {:#?}",
        body_changes(&d)
    );
    assert_eq!(
        sorted(op_words(&authors["words"], "delete")),
        sorted(words("Maria Hartono")),
        "{authors:#}"
    );
    assert_eq!(
        sorted(op_words(&authors["words"], "insert")),
        sorted(words("Ken Adams")),
        "{authors:#}"
    );
    assert_eq!(d["title"]["changed"], false, "{d:#}");
    assert!(
        body_changes(&d).is_empty(),
        "the byline is metadata, not body text: {:#}",
        d["body"]
    );
}

#[test]
fn corrected_publication_date_is_a_version() {
    let (_server, archive, url) = crawl_edit(base(), base().published("2025-03-03T08:30:00Z"));
    assert_eq!(
        versions(&archive, &url),
        2,
        "a corrected publication date is a new version (identity includes it)"
    );
    let d = diff_json(&archive, &url, &[]);
    let published = &d["published"];
    assert_eq!(published["changed"], true, "{d:#}");
    assert!(
        str_field(published, "old").is_some_and(|o| o.starts_with("2025-03-04")),
        "{published:#}"
    );
    assert!(
        str_field(published, "new").is_some_and(|n| n.starts_with("2025-03-03")),
        "{published:#}"
    );
    assert!(body_changes(&d).is_empty(), "{:#}", d["body"]);
}

#[test]
fn bumped_modified_time_alone_is_not_a_version() {
    let (_server, archive, url) = crawl_edit(
        base().modified("2025-03-04T09:05:00Z"),
        base().modified("2025-03-04T11:40:00Z"),
    );
    let h = history(&archive, &url);
    assert_eq!(
        h.len(),
        1,
        "only the 'Updated' time changed, which is not a version; got:\n{}",
        diff_formatted(&archive, &url, "text")
    );
    let entry = archive.entry(&url);
    assert_eq!(num(&entry, "captures"), 2, "{entry:#}");
    // The modified time is read (so it did differ between the captures);
    // it is just not part of the version's identity.
    let record = show(&archive, &url, None);
    let modified = str_field(&record, "modified")
        .and_then(|m| chrono::DateTime::parse_from_rfc3339(m).ok())
        .map(|m| m.to_utc().to_rfc3339());
    assert_eq!(
        modified.as_deref(),
        Some("2025-03-04T09:05:00+00:00"),
        "the version keeps the modified time it was first seen with (extraction): {record:#}"
    );
}

#[test]
fn moved_paragraph_is_reported_moved() {
    let (_server, archive, url) = crawl_edit(base(), base().reorder(&[0, 3, 1, 2]));
    assert_eq!(versions(&archive, &url), 2, "a reordered body is a version");
    let d = diff_json(&archive, &url, &[]);
    let edits = body_changes(&d);
    let moved: Vec<&Value> = edits.iter().filter(|p| p["change"] == "moved").collect();
    assert!(
        !moved.is_empty()
            && edits
                .iter()
                .all(|p| p["change"] == "moved" || p["change"] == "same"),
        "a paragraph moved, none added, removed or edited: {:#}",
        d["body"]
    );
    assert!(
        moved.iter().any(|p| {
            p["text"].as_str().map(words) == Some(words(PARAGRAPHS[3]))
                || p["text"].as_str().map(words) == Some(words(PARAGRAPHS[1]))
        }),
        "{:#}",
        d["body"]
    );
    for p in &moved {
        assert!(
            p["from"].is_u64() && p["to"].is_u64() && p["from"] != p["to"],
            "a moved paragraph says where from and where to: {p:#}"
        );
    }
    assert_eq!(num(&d, "words_added"), 0, "{d:#}");
    assert_eq!(num(&d, "words_removed"), 0, "{d:#}");
}
