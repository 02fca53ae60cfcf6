//! `palimpsest search`: the text of every version of every page, found by
//! words, phrases and fields, one result a page with its best-matching
//! version; the index follows the archive as it grows and can be rebuilt.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(120);

fn story(title: &str, paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    format!(
        "<html lang=\"en\"><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"
    )
}

/// A site of three stories; `edited` rewrites the harbour story, removing
/// the sentence about the breakwater.
fn news_site(edited: Arc<AtomicBool>) -> Server {
    Site::new()
        .page(
            "daily.test",
            "/",
            page("Front", &["/harbour", "/comet", "/rates"]),
        )
        .route("daily.test", "/harbour", move |_| {
            let mut paragraphs = vec![
                "The storm-damaged harbour reopened to shipping on Tuesday after three weeks of repairs to its quays.",
                "Fishing boats were the first to return, followed in the afternoon by the ferry to the islands.",
            ];
            if !edited.load(Ordering::SeqCst) {
                paragraphs.push("Engineers said the old breakwater had been rebuilt with granite from the northern quarry.");
            } else {
                paragraphs.push("The port authority thanked the volunteers who cleared the slipways.");
            }
            html(story("Harbour reopens to shipping", &paragraphs))
        })
        .page(
            "daily.test",
            "/comet",
            story(
                "Amateur astronomer spots a new comet",
                &[
                    "A retired teacher spotted the comet from her garden telescope late on Sunday night.",
                    "The comet will be visible with binoculars low in the western sky until the end of the month.",
                ],
            ),
        )
        .page(
            "daily.test",
            "/rates",
            story(
                "Central bank holds interest rates steady",
                &[
                    "The central bank kept its main interest rate unchanged at four percent, as markets expected.",
                    "The governor said inflation in the harbour towns had eased since the spring.",
                ],
            ),
        )
        .serve()
}

fn search(archive: &Archive, args: &[&str]) -> Output {
    let path = archive.path();
    let mut all = vec!["search", "--archive", &path];
    all.extend_from_slice(args);
    run(&all, DEADLINE)
}

fn hits(archive: &Archive, args: &[&str]) -> Vec<Value> {
    let mut all = args.to_vec();
    all.push("--json");
    let out = search(archive, &all);
    assert_ne!(
        out.status.code(),
        Some(101),
        "search panicked: {}",
        out.stderr
    );
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn urls(hits: &[Value]) -> Vec<String> {
    hits.iter()
        .map(|h| {
            h["url"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn words_phrases_exclusions_and_fields_find_the_right_articles() {
    let server = news_site(Arc::new(AtomicBool::new(false)));
    let archive = Archive::new();
    archive.crawl_site(&server, "daily.test", "50/s", DEADLINE);

    assert_eq!(urls(&hits(&archive, &["comet telescope"])), ["comet"]);
    // Every word must match, in any order: no story has both.
    assert!(hits(&archive, &["comet inflation"]).is_empty());
    assert_eq!(urls(&hits(&archive, &["comet OR inflation"])).len(), 2);
    let mut harbour = urls(&hits(&archive, &["harbour"]));
    harbour.sort();
    assert_eq!(harbour, ["harbour", "rates"]);
    assert_eq!(urls(&hits(&archive, &["harbour -governor"])), ["harbour"]);
    assert_eq!(urls(&hits(&archive, &["title:harbour"])), ["harbour"]);
    assert_eq!(
        urls(&hits(&archive, &["\"interest rate unchanged\""])),
        ["rates"]
    );
    assert!(hits(&archive, &["\"rate interest unchanged\""]).is_empty());
    assert!(hits(&archive, &["comet", "--host", "other.test"]).is_empty());
    assert_eq!(
        urls(&hits(&archive, &["comet", "--language", "en"])),
        ["comet"]
    );

    let found = hits(&archive, &["binoculars"]);
    let snippet = found[0]["snippet"].as_str().unwrap();
    let (start, end) = (
        found[0]["highlighted"][0][0].as_u64().unwrap() as usize,
        found[0]["highlighted"][0][1].as_u64().unwrap() as usize,
    );
    assert_eq!(&snippet[start..end], "binoculars");
    let plain = search(&archive, &["binoculars"]);
    plain.assert_success("search");
    assert!(plain.stdout.contains("[binoculars]"), "{}", plain.stdout);
    assert!(plain.stdout.contains("v1"), "{}", plain.stdout);
}

#[test]
fn text_an_edit_removed_is_found_in_the_version_that_had_it() {
    let edited = Arc::new(AtomicBool::new(false));
    let server = news_site(edited.clone());
    let archive = Archive::new();
    archive.crawl_site(&server, "daily.test", "50/s", DEADLINE);
    // The index is built now, before the edit, and must follow the archive.
    assert_eq!(urls(&hits(&archive, &["granite"])), ["harbour"]);

    edited.store(true, Ordering::SeqCst);
    archive.crawl_site(&server, "daily.test", "50/s", DEADLINE);
    let granite = hits(&archive, &["granite breakwater"]);
    assert_eq!(urls(&granite), ["harbour"]);
    assert_eq!(granite[0]["version"], 1, "only the first version said it");
    let volunteers = hits(&archive, &["volunteers"]);
    assert_eq!(urls(&volunteers), ["harbour"]);
    assert_eq!(volunteers[0]["version"], 2);
    // Words of both versions: the newest of equally good versions.
    assert_eq!(hits(&archive, &["ferry"])[0]["version"], 2);

    // Rebuilt from the archive, the index answers the same.
    let path = archive.path();
    let rebuilt = run(&["reindex", "--archive", &path], DEADLINE);
    rebuilt.assert_success("reindex");
    assert!(
        rebuilt.stdout.contains("indexed 5 versions"),
        "{}",
        rebuilt.stdout
    );
    assert_eq!(hits(&archive, &["granite"])[0]["version"], 1);
    assert_eq!(hits(&archive, &["volunteers"])[0]["version"], 2);
}

#[test]
fn a_malformed_query_or_no_match_says_so_without_a_panic() {
    let server = news_site(Arc::new(AtomicBool::new(false)));
    let archive = Archive::new();
    archive.crawl_site(&server, "daily.test", "50/s", DEADLINE);
    let none = search(&archive, &["zeppelin"]);
    assert_eq!(none.status.code(), Some(1), "{}", none.stderr);
    assert!(
        none.stdout.contains("no version matches"),
        "{}",
        none.stdout
    );
    let bad = search(&archive, &["nosuchfield:comet"]);
    assert_ne!(bad.status.code(), Some(101), "{}", bad.stderr);
    assert!(!bad.status.success());
    assert!(bad.stderr.contains("query"), "{}", bad.stderr);
}
