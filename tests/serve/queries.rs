//! The web interface answers the archive's questions as the CLI does: the
//! same filters with the same case rules, the same refusals, and feeds
//! named for what they list.

use super::{MIN, Served, enc, hostile_archive};

fn listed(served: &Served, query: &str) -> Vec<String> {
    let (code, _, body) = served.get(&format!("/api/pages?{query}"));
    assert_eq!(code, 200, "{query}: {body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    json["pages"]
        .as_array()
        .unwrap_or_else(|| panic!("{query}: {body}"))
        .iter()
        .filter_map(|p| p["url"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn index_filters_hosts_and_languages_in_any_letter_case() {
    let (_server, archive, story) = hostile_archive();
    let served = Served::start(&archive);
    for query in ["host=evil.test", "host=EVIL.Test", "lang=en", "lang=EN"] {
        assert_eq!(
            listed(&served, query),
            std::slice::from_ref(&story),
            "{query}"
        );
    }
    for query in [
        "host=vil.test",
        "host=news.evil.test",
        "lang=fr",
        "lang=en-GB",
    ] {
        assert!(listed(&served, query).is_empty(), "{query}");
    }
}

fn feed(served: &Served, path: &str) -> feed_rs::model::Feed {
    let (code, _, body) = served.get(path);
    assert_eq!(code, 200, "{path}: {body}");
    feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

#[test]
fn the_feed_of_every_page_is_named_and_linked_for_what_it_lists() {
    let (_server, archive, _) = hostile_archive();
    let served = Served::start(&archive);
    for (path, title) in [
        ("/changes.atom", "palimpsest: article changes"),
        ("/changes.atom?all=1", "palimpsest: changes to every page"),
    ] {
        let feed = feed(&served, path);
        let named = feed.title.map(|t| t.content).unwrap_or_default();
        assert_eq!(named, title, "{path}");
        let itself = feed
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("self"))
            .map(|l| l.href.clone())
            .unwrap_or_default();
        assert_eq!(itself, served.url(path), "{path}: its self link");
    }
}

#[test]
fn a_version_compared_with_itself_is_refused_on_the_web_as_by_the_cli() {
    let (_server, archive, story) = hostile_archive();
    let cli = crate::support::run(
        &["diff", &story, "2", "2", "--archive", &archive.path()],
        MIN,
    );
    assert!(!cli.success(), "{}", cli.stdout);
    assert!(
        cli.stderr.contains("compared with itself"),
        "{}",
        cli.stderr
    );
    let served = Served::start(&archive);
    let u = enc(&story);
    let (code, _, body) = served.get(&format!("/diff?url={u}&a=2&b=2"));
    assert_eq!(code, 422, "{body}");
    assert!(body.contains("compared with itself"), "{body}");
    let (code, head, body) = served.get(&format!("/api/diff?url={u}&a=2&b=2"));
    assert_eq!(code, 422, "{body}");
    assert!(head.contains("application/json"), "{head}");
    assert!(body.contains("compared with itself"), "{body}");
}

#[test]
fn a_duration_ago_in_the_index_is_counted_back_from_the_clock() {
    let (_server, archive, story) = hostile_archive();
    // The story was just archived: changed within the last half hour now,
    // but not half an hour before a clock three hours on.
    let now = Served::start(&archive);
    assert_eq!(listed(&now, "since=30m"), std::slice::from_ref(&story));
    drop(now);
    let later = Served::start_on_clock(&archive, &crate::support::hours_later(3));
    assert!(listed(&later, "since=30m").is_empty());
    assert_eq!(listed(&later, "since=4h"), std::slice::from_ref(&story));
}

fn searched(served: &Served, query: &str) -> (u16, serde_json::Value) {
    let (code, _, body) = served.get(&format!("/api/search?{query}"));
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{query}: {e}: {body}"));
    (code, json)
}

#[test]
fn the_search_api_answers_the_query_language_of_the_cli() {
    let (_server, archive, story) = hostile_archive();
    let served = Served::start(&archive);
    let (code, json) = searched(&served, "q=library+spring");
    assert_eq!(code, 200, "{json}");
    assert_eq!(json["hits"][0]["url"], story.as_str(), "{json}");
    assert_eq!(json["hits"].as_array().unwrap().len(), 1, "{json}");
    // Only the second version has the added line: the hit names it.
    let (_, added) = searched(&served, "q=%22an+added+line%22");
    assert_eq!(added["hits"][0]["version"], 2, "{added}");
    let (_, reversed) = searched(&served, "q=%22line+added+an%22");
    assert!(
        reversed["hits"].as_array().unwrap().is_empty(),
        "{reversed}"
    );
    let (_, elsewhere) = searched(&served, "q=library&host=other.test");
    assert!(elsewhere["hits"].as_array().unwrap().is_empty());
    let (_, removed) = searched(&served, "q=library&removed=1");
    assert!(removed["hits"].as_array().unwrap().is_empty(), "{removed}");

    for (query, wanted) in [
        ("q=nosuchfield:library", "query"),
        ("host=evil.test", "`q`"),
        ("q=library&by=tomorrow", "`by`"),
        ("q=library&limit=0", "`limit`"),
    ] {
        let (code, json) = searched(&served, query);
        assert_eq!(code, 400, "{query}: {json}");
        assert!(
            json["error"].as_str().unwrap().contains(wanted),
            "{query}: {json}"
        );
    }
}

#[test]
fn search_while_the_archive_is_served_is_answered_by_the_serving_process() {
    let (_server, archive, story) = hostile_archive();
    let served = Served::start(&archive);
    let out = crate::support::run(
        &["search", "--archive", &archive.path(), "mayor", "--json"],
        MIN,
    );
    out.assert_success("forwarded search");
    let hit: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(hit["url"], story.as_str());
    drop(served);
}
