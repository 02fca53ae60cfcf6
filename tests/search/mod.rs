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
    dated_story(title, None, paragraphs)
}

/// A story whose page gives its publication time, if `published`.
fn dated_story(title: &str, published: Option<&str>, paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    let meta = published
        .map(|at| format!("<meta property=\"article:published_time\" content=\"{at}\">"))
        .unwrap_or_default();
    format!(
        "<html lang=\"en\"><head><title>{title}</title>{meta}</head><body><article><h1>{title}</h1>{body}</article></body></html>"
    )
}

/// A site of three stories, two of them dated (March and May 2026);
/// `edited` rewrites the harbour story, removing the sentence about the
/// breakwater.
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
            dated_story(
                "Amateur astronomer spots a new comet",
                Some("2026-03-10T08:00:00Z"),
                &[
                    "A retired teacher spotted the comet from her garden telescope late on Sunday night.",
                    "The comet will be visible with binoculars low in the western sky until the end of the month.",
                ],
            ),
        )
        .page(
            "daily.test",
            "/rates",
            dated_story(
                "Central bank holds interest rates steady",
                Some("2026-05-02T16:30:00+02:00"),
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

/// The stretches of a hit's snippet marked as matches.
fn marked(hit: &Value) -> Vec<String> {
    let snippet = hit["snippet"].as_str().unwrap();
    hit["highlighted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            snippet[r[0].as_u64().unwrap() as usize..r[1].as_u64().unwrap() as usize].to_string()
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

#[test]
fn removed_text_is_found_with_the_version_where_it_disappeared() {
    let edited = Arc::new(AtomicBool::new(false));
    let server = news_site(edited.clone());
    let archive = Archive::new();
    archive.crawl_site(&server, "daily.test", "50/s", DEADLINE);
    // Nothing is removed while every page has one version.
    assert!(hits(&archive, &["granite", "--removed"]).is_empty());

    edited.store(true, Ordering::SeqCst);
    archive.crawl_site(&server, "daily.test", "50/s", DEADLINE);
    let check = |archive: &Archive| {
        let granite = hits(archive, &["\"old breakwater\"", "--removed"]);
        assert_eq!(urls(&granite), ["harbour"]);
        assert_eq!(granite[0]["version"], 1, "the last version that said it");
        assert_eq!(granite[0]["removed_in"], 2, "{granite:?}");
        // Text the latest version still has, or gained, was not removed.
        assert!(hits(archive, &["ferry", "--removed"]).is_empty());
        assert!(hits(archive, &["volunteers", "--removed"]).is_empty());
        assert!(hits(archive, &["comet", "--removed"]).is_empty());
        // A plain search still finds it, in the version that had it.
        assert_eq!(hits(archive, &["granite"])[0]["version"], 1);
    };
    check(&archive);
    let plain = search(&archive, &["granite", "--removed"]);
    assert!(plain.stdout.contains("v1 (gone in v2)"), "{}", plain.stdout);

    run(&["reindex", "--archive", &archive.path()], DEADLINE).assert_success("reindex");
    check(&archive);
}

#[test]
fn date_windows_narrow_by_publication_or_capture_date() {
    let server = news_site(Arc::new(AtomicBool::new(false)));
    let archive = Archive::new();
    archive.crawl_site(&server, "daily.test", "50/s", DEADLINE);
    let sorted = |args: &[&str]| {
        let mut found = urls(&hits(&archive, args));
        // The front page (its URL ends in "/") is not one of the stories.
        found.retain(|u| !u.is_empty());
        found.sort();
        found
    };
    // Every story has "the".
    assert_eq!(sorted(&["the"]), ["comet", "harbour", "rates"]);
    let march = ["the", "--since", "2026-03-01", "--until", "2026-04-01"];
    assert_eq!(sorted(&march), ["comet"]);
    // 16:30 at +02:00 is 14:30 UTC: inside a window that starts at 14:00 UTC.
    let may = [
        "the",
        "--since",
        "2026-05-02T14:00:00Z",
        "--until",
        "2026-05-03",
    ];
    assert_eq!(sorted(&may), ["rates"]);
    let before_may = ["the", "--until", "2026-05-02T14:00:00Z"];
    assert_eq!(sorted(&before_may), ["comet"]);
    // The undated story is dated by when it was first seen: just now.
    assert_eq!(sorted(&["the", "--since", "1h"]), ["harbour"]);
    // By capture date, all three were seen just now and none in the spring.
    let captured = ["the", "--dated-by", "captured", "--since", "1h"];
    assert_eq!(sorted(&captured), ["comet", "harbour", "rates"]);
    let spring = ["the", "--dated-by", "captured", "--until", "2026-06-01"];
    assert!(sorted(&spring).is_empty());
    let comet = hits(&archive, &["comet"]);
    assert_eq!(comet[0]["published"], "2026-03-10T08:00:00Z");
}

#[test]
fn a_crawl_keeps_the_index_up_to_date_unless_told_not_to() {
    let server = news_site(Arc::new(AtomicBool::new(false)));
    // The index of a directory archive is kept beside it.
    let indexed = Archive::directory();
    indexed.crawl_site(&server, "daily.test", "50/s", DEADLINE);
    let index = std::path::Path::new(&indexed.path()).join("search");
    assert!(
        index.join("meta.json").exists(),
        "the crawl built the index"
    );
    // Built by the crawl, so the search has nothing left to take in: the
    // index's files are the ones the crawl left.
    let files = |dir: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    };
    let before = files(&index);
    assert_eq!(urls(&hits(&indexed, &["binoculars"])), ["comet"]);
    assert_eq!(files(&index), before);

    let unindexed = Archive::new();
    unindexed
        .crawl(&server, &["daily.test"])
        .args(["--rate", "50/s", "--no-search-index"])
        .arg(server.url("daily.test", "/"))
        .run(DEADLINE)
        .assert_success("crawl without the index");
    let index = std::path::Path::new(&unindexed.path()).join("search");
    assert!(!index.exists(), "no index was built");
    // The first search builds it.
    assert_eq!(urls(&hits(&unindexed, &["binoculars"])), ["comet"]);
}

#[test]
fn a_word_inside_chinese_or_japanese_text_is_found() {
    let server = Site::new()
        .page("cjk.test", "/", page("Front", &["/quake", "/rail"]))
        .page(
            "cjk.test",
            "/quake",
            "<html lang=\"zh\"><head><title>东京发生强烈地震</title></head><body><article>\
             <h1>东京发生强烈地震</h1>\
             <p>日本气象厅表示，东京周二凌晨发生强烈地震，目前没有海啸预警，交通一度中断。</p>\
             <p>专家提醒居民在未来几天内注意余震，并准备好应急物资和饮用水。</p>\
             </article></body></html>",
        )
        .page(
            "cjk.test",
            "/rail",
            "<html lang=\"ja\"><head><title>新幹線が運転を再開</title></head><body><article>\
             <h1>新幹線が運転を再開</h1>\
             <p>大雪の影響で止まっていた新幹線は、木曜日の朝に全線で運転を再開しました。</p>\
             <p>鉄道会社によると、遅れは午後には解消される見込みです。</p>\
             </article></body></html>",
        )
        .serve();
    let archive = Archive::new();
    archive.crawl_site(&server, "cjk.test", "50/s", DEADLINE);

    // Words inside unbroken sentences, as a reader types them.
    assert_eq!(urls(&hits(&archive, &["余震"])), ["quake"]);
    assert_eq!(urls(&hits(&archive, &["海啸预警"])), ["quake"]);
    assert_eq!(urls(&hits(&archive, &["運転"])), ["rail"]);
    assert_eq!(urls(&hits(&archive, &["title:新幹線"])), ["rail"]);
    // The characters of a word, but not together, are not the word.
    assert!(hits(&archive, &["震余"]).is_empty());
    let found = hits(&archive, &["应急物资"]);
    let (snippet, marked) = (found[0]["snippet"].as_str().unwrap(), marked(&found[0]));
    assert!(
        marked.concat().contains("应急") && marked.concat().contains("物资"),
        "the word is marked: {marked:?} in {snippet}"
    );
}

#[test]
fn other_forms_of_a_word_match_when_asked_to_stem() {
    let server = news_site(Arc::new(AtomicBool::new(false)));
    let archive = Archive::new();
    archive.crawl_site(&server, "daily.test", "50/s", DEADLINE);

    // The story says "reopened" and "reopens"; "reopening" is neither.
    assert!(hits(&archive, &["reopening"]).is_empty());
    let found = hits(&archive, &["reopening", "--stem"]);
    assert_eq!(urls(&found), ["harbour"]);
    let (snippet, marked) = (found[0]["snippet"].as_str().unwrap(), marked(&found[0]));
    assert_eq!(
        marked,
        ["reopened"],
        "the form in the text is marked: {snippet}"
    );
    // Still every word must match, and words as written still do.
    assert_eq!(
        urls(&hits(&archive, &["telescopes spotting", "--stem"])),
        ["comet"]
    );
    assert!(hits(&archive, &["reopening comets", "--stem"]).is_empty());
    assert_eq!(urls(&hits(&archive, &["binoculars", "--stem"])), ["comet"]);
}
