//! A second crawl of an edited site: exactly the pages whose article
//! changed gain a version (an added sentence, a reworded headline, a removed
//! paragraph, a corrected source page), and `diff` names precisely the words
//! that changed. Ads, timestamps outside the article, re-indented HTML and
//! extra markup are not changes.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::Value;

use super::news::*;
use crate::support::*;

const HOST: &str = "news.test";
const SOURCE_HOST: &str = "source.test";

const ADDED_SENTENCE: &str =
    "Engineers now expect the bridge to reopen to traffic in the first week of March.";
const OLD_HEADLINE: &str = "Minister promises swift inquiry into harbour fire";
const NEW_HEADLINE: &str = "Minister rejects calls for inquiry into harbour fire";
const REMOVED_PARAGRAPH: &str = "A spokesman for the company declined to comment on the \
     allegations, saying only that it would cooperate fully with any investigation.";

/// The site before and after its edits, and what each page is.
struct Newsroom {
    server: Server,
    edition: Edition,
    front: String,
    /// One sentence added to the second paragraph.
    sentence_added: String,
    /// Headline reworded.
    headline: String,
    /// Third paragraph removed.
    paragraph_removed: String,
    /// Only the sidebar ad and the "last updated" timestamps change.
    ad_and_timestamp: String,
    /// Only whitespace and markup change.
    markup: String,
    /// Unchanged; cites the source page.
    citing: String,
    /// The cited page on another host; one figure corrected.
    source: String,
}

fn paragraphs(topic: &str) -> [String; 4] {
    [
        format!(
            "The {topic} story began on Monday morning, when residents of the northern \
             district reported the first signs of trouble to the city council."
        ),
        format!(
            "Council officials said the {topic} situation was under control and that \
             emergency crews had been working through the night to contain it."
        ),
        format!(
            "Local businesses affected by the {topic} events said they had lost several \
             days of trade and called for compensation from the regional government."
        ),
        format!(
            "The council will publish a full report on the {topic} response later this \
             month, a spokeswoman said, after hearing from residents at a public meeting."
        ),
    ]
}

fn story(headline: &str, topic: &str) -> Story {
    let p = paragraphs(topic);
    let p: Vec<&str> = p.iter().map(String::as_str).collect();
    Story::new(headline, &p)
}

fn newsroom() -> Newsroom {
    let edition = Edition::new();
    // The source page's URL names the server's port, unknown until it
    // listens: it is served by a handler that reads it from the Host header.
    let stories: [(&str, &str); 6] = [
        (
            "/world/bridge-closure",
            "Bridge closure extended as repairs continue",
        ),
        ("/politics/harbour-fire", OLD_HEADLINE),
        (
            "/business/supplier-dispute",
            "Supplier dispute reaches the courts",
        ),
        (
            "/science/comet-visit",
            "Comet will be visible from the city this week",
        ),
        (
            "/culture/museum-reopens",
            "City museum reopens after two-year renovation",
        ),
        ("/world/flood-report", "Flood report blames blocked drains"),
    ];
    let related: Vec<(&str, &str)> = stories.to_vec();
    let front = front_page("09:14:05", &stories);

    let bridge = story(stories[0].1, "bridge").related(&related[1..3]);
    let bridge2 = {
        let p2 = format!("{} {ADDED_SENTENCE}", bridge.paragraphs[1]);
        bridge.clone().with_paragraph(1, &p2)
    };
    let fire = story(OLD_HEADLINE, "harbour fire").related(&related[2..4]);
    let fire2 = fire.clone().headline(NEW_HEADLINE);
    let supplier = {
        let mut s = story(stories[2].1, "supplier").related(&related[0..2]);
        s.paragraphs.insert(2, REMOVED_PARAGRAPH.to_string());
        s
    };
    let supplier2 = supplier.clone().without_paragraph(2);
    let comet = story(stories[3].1, "comet").related(&related[4..6]);
    let comet2 = comet
        .clone()
        .ad("Advertisement: New phones are 20 percent off this weekend only")
        .updated("11:52:40");
    let museum = story(stories[4].1, "museum").related(&related[3..5]);
    let museum2 = museum.clone().layout(Layout::Reworked);

    let site = Site::new().page(HOST, "/", front.clone());
    let site = changing(
        site,
        HOST,
        stories[0].0,
        &edition,
        vec![bridge.html(), bridge2.html()],
        Validators::None,
    );
    let site = changing(
        site,
        HOST,
        stories[1].0,
        &edition,
        vec![fire.html(), fire2.html()],
        Validators::None,
    );
    let site = changing(
        site,
        HOST,
        stories[2].0,
        &edition,
        vec![supplier.html(), supplier2.html()],
        Validators::None,
    );
    let site = changing(
        site,
        HOST,
        stories[3].0,
        &edition,
        vec![comet.html(), comet2.html()],
        Validators::None,
    );
    let site = changing(
        site,
        HOST,
        stories[4].0,
        &edition,
        vec![museum.html(), museum2.html()],
        Validators::None,
    );
    let flood_related = related[0..2].to_vec();
    let flood_headline = stories[5].1;
    let site = site.route(HOST, stories[5].0, move |req| {
        // Source: http://source.test:PORT/original (this server's port).
        let port = req
            .header("host")
            .and_then(|h| h.rsplit_once(':'))
            .map(|(_, p)| p.to_string())
            .unwrap_or_default();
        let s = story(flood_headline, "flood")
            .related(&flood_related)
            .source(&format!("http://{SOURCE_HOST}:{port}/original"));
        html(s.html())
    });
    let original = Story::new(
        "Inspectors publish findings on the spring floods",
        &[
            "Inspectors from the regional water authority published their findings on \
             Thursday after a three-month inquiry into the spring floods.",
            "The report found that 12 storm drains in the old town had been blocked \
             for more than a year before the heavy rain began.",
            "The authority said it would clear every drain in the district before the \
             autumn and inspect them twice a year from now on.",
        ],
    )
    .by("Jonas Weber");
    let original2 = original.clone().with_paragraph(
        1,
        "The report found that 14 storm drains in the old town had been blocked \
         for more than a year before the heavy rain began.",
    );
    let site = changing(
        site,
        SOURCE_HOST,
        "/original",
        &edition,
        vec![original.html(), original2.html()],
        Validators::None,
    );
    let server = site.serve();
    let url = |host: &str, path: &str| server.url(host, path);
    Newsroom {
        front: url(HOST, "/"),
        sentence_added: url(HOST, stories[0].0),
        headline: url(HOST, stories[1].0),
        paragraph_removed: url(HOST, stories[2].0),
        ad_and_timestamp: url(HOST, stories[3].0),
        markup: url(HOST, stories[4].0),
        citing: url(HOST, stories[5].0),
        source: url(SOURCE_HOST, "/original"),
        server,
        edition,
    }
}

fn crawl(archive: &Archive, site: &Newsroom) -> Crawl {
    archive
        .crawl(&site.server, &[HOST, SOURCE_HOST])
        .args(["--rate", "20/s", "--json"])
        .arg(site.front.clone())
}

/// How far ahead the clock of the second crawl is.
const SECOND_CRAWL_HOURS: u32 = 1;

/// Crawls the site, edits it, crawls again. Returns a time between the two
/// crawls.
fn crawl_twice(archive: &Archive, site: &Newsroom) -> DateTime<Utc> {
    crawl(archive, site)
        .run(Duration::from_secs(90))
        .assert_success("first crawl");
    // (The source page is checked by the tests about it, so that the other
    // tests do not depend on source-link extraction.)
    for url in [
        &site.sentence_added,
        &site.headline,
        &site.paragraph_removed,
    ] {
        assert_eq!(
            history(archive, url).len(),
            1,
            "{url} should have one version after the first crawl:\n{}",
            site.server.dump()
        );
    }
    // The second crawl runs an hour on (a test clock): the crawls are well
    // apart, and half an hour on is between them.
    let between = Utc::now() + TimeDelta::minutes(30);
    site.edition.advance();
    crawl(archive, site)
        .clock(hours_later(SECOND_CRAWL_HOURS))
        .run(Duration::from_secs(90))
        .assert_success("second crawl");
    between
}

/// What `diff --format text` says, for failure messages.
fn diff_text(archive: &Archive, url: &str) -> String {
    let out = cli(archive, &["diff", url, "--format", "text"]);
    format!("{}{}", out.stdout, out.stderr)
}

#[test]
fn only_pages_whose_article_changed_gain_a_version() {
    let site = newsroom();
    let archive = Archive::new();
    crawl_twice(&archive, &site);

    let changed: BTreeSet<String> = [
        &site.sentence_added,
        &site.headline,
        &site.paragraph_removed,
        &site.source,
    ]
    .into_iter()
    .cloned()
    .collect();
    let expected_pages: BTreeSet<String> = [
        &site.front,
        &site.sentence_added,
        &site.headline,
        &site.paragraph_removed,
        &site.ad_and_timestamp,
        &site.markup,
        &site.citing,
        &site.source,
    ]
    .into_iter()
    .cloned()
    .collect();

    let pages = archive.list();
    let mut wrong = Vec::new();
    for url in &expected_pages {
        if find_page(&pages, url).is_none() {
            wrong.push(format!("{url}: not archived"));
        }
    }
    for page in &pages {
        let url = str_field(page, "url").unwrap_or_default();
        let want = if changed.contains(url) { 2 } else { 1 };
        let got = num(page, "versions");
        if got != want {
            wrong.push(format!(
                "{url}: {got} versions, expected {want}\n{}",
                if got > 1 {
                    diff_text(&archive, url)
                } else {
                    String::new()
                }
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "after the second crawl:\n{}\nrequests:\n{}",
        wrong.join("\n"),
        site.server.dump()
    );
    for url in &changed {
        let h = history(&archive, url);
        assert_eq!(h.len(), 2, "history of {url}: {h:#?}");
        assert_eq!(num(&h[0], "version"), 1, "{h:#?}");
        assert_eq!(num(&h[1], "version"), 2, "{h:#?}");
        assert_ne!(h[0]["digest"], h[1]["digest"], "{url}: {h:#?}");
        for row in &h {
            for key in [
                "version",
                "first_seen",
                "last_seen",
                "title",
                "words_added",
                "words_removed",
                "digest",
                "reextracted",
            ] {
                assert!(row.get(key).is_some(), "history row without {key}: {row:#}");
            }
            assert_eq!(row["reextracted"], false, "{row:#}");
        }
        assert_eq!(
            num(&h[0], "words_removed"),
            0,
            "a first version removes nothing"
        );
        assert!(
            num(&h[1], "words_added") + num(&h[1], "words_removed") > 0,
            "{url}: the second version's size of change: {h:#?}"
        );
    }
    archive.assert_verify_clean();
}

#[test]
fn ads_timestamps_and_markup_do_not_make_versions() {
    let site = newsroom();
    let archive = Archive::new();
    crawl_twice(&archive, &site);
    for (url, what) in [
        (&site.ad_and_timestamp, "an ad and the 'last updated' time"),
        (&site.markup, "re-indented HTML and extra markup"),
        (&site.citing, "nothing"),
        (&site.front, "nothing"),
    ] {
        let entry = archive.entry(url);
        assert_eq!(
            num(&entry, "captures"),
            2,
            "{url} should be captured in both crawls: {entry:#}"
        );
        assert_eq!(
            num(&entry, "versions"),
            1,
            "{url}: only {what} changed, which is not a new version; \
             the archive made one, differing in:\n{}",
            diff_text(&archive, url)
        );
    }
    // The stored article is the story, not the furniture around it.
    let record = show(&archive, &site.ad_and_timestamp, None);
    let text = str_field(&record, "text").unwrap_or_default();
    for furniture in [
        "Advertisement",
        "Last updated",
        "Page generated",
        "Share on",
        "Read more",
    ] {
        assert!(
            !text.contains(furniture),
            "article text should not contain {furniture:?} (extraction):\n{text}"
        );
    }
}

#[test]
fn changes_lists_exactly_the_changed_pages() {
    let site = newsroom();
    let archive = Archive::new();
    let between = crawl_twice(&archive, &site);
    let changed: BTreeSet<&str> = [
        site.sentence_added.as_str(),
        site.headline.as_str(),
        site.paragraph_removed.as_str(),
        site.source.as_str(),
    ]
    .into_iter()
    .collect();

    // Besides the four changes, the source's edit is an entry of the
    // article citing it (see the test about edited sources).
    let only_changed = |entries: Vec<Value>| -> Vec<Value> {
        let (changed, edited): (Vec<Value>, Vec<Value>) =
            entries.into_iter().partition(|c| c["event"] == "changed");
        assert_eq!(edited.len(), 1, "one edited source: {edited:#?}");
        assert_eq!(edited[0]["event"], "source_edited", "{edited:#?}");
        changed
    };
    let all = only_changed(changes(&archive, &["--all-pages"]));
    let listed: Vec<&str> = all.iter().filter_map(|c| str_field(c, "url")).collect();
    let listed_set: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(
        listed_set, changed,
        "`changes --all-pages --json` should list exactly the four changed pages:\n{all:#?}"
    );
    assert_eq!(listed.len(), 4, "each change listed once: {all:#?}");
    for c in &all {
        assert_eq!(num(c, "version"), 2, "{c:#}");
        assert!(num(c, "words_added") + num(c, "words_removed") > 0, "{c:#}");
        assert!(str_field(c, "changed_at").is_some(), "{c:#}");
    }
    // All four are news articles (the source page too: headline, byline,
    // date, `og:type` article), so `changes` without --all-pages lists them.
    let articles = only_changed(changes(&archive, &[]));
    let listed: BTreeSet<&str> = articles
        .iter()
        .filter_map(|c| str_field(c, "url"))
        .collect();
    let kinds: Vec<(String, Value)> = all
        .iter()
        .map(|c| {
            (
                str_field(c, "url").unwrap_or_default().to_string(),
                c["kind"].clone(),
            )
        })
        .collect();
    assert_eq!(
        listed, changed,
        "`changes --json` should list the four changed articles; kinds: {kinds:?}\n{articles:#?}"
    );
    for c in &articles {
        assert_eq!(c["kind"], "article", "{c:#}");
    }
    // --since: an RFC 3339 time between the crawls, a duration ago and a
    // date list all four; a time after the second crawl lists nothing.
    let between = between.to_rfc3339_opts(SecondsFormat::Millis, true);
    let after = (Utc::now() + TimeDelta::hours(SECOND_CRAWL_HOURS.into()))
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    let today = Utc::now().format("%Y-%m-%d").to_string();
    for since in [between.as_str(), "1h", today.as_str()] {
        let listed = only_changed(changes(&archive, &["--all-pages", "--since", since]));
        assert_eq!(listed.len(), 4, "changes --since {since}: {listed:#?}");
    }
    let none = changes(&archive, &["--all-pages", "--since", &after]);
    assert!(none.is_empty(), "changes --since {after}: {none:#?}");
    let future = changes(&archive, &["--since", "2999-01-01"]);
    assert!(future.is_empty(), "{future:#?}");
}

#[test]
fn a_duration_ago_is_counted_back_from_the_clock() {
    let site = newsroom();
    let archive = Archive::new();
    crawl_twice(&archive, &site);
    let since_half_an_hour = |clock: &str| {
        json_lines(
            &cli_on_clock(
                &archive,
                &["changes", "--json", "--all-pages", "--since", "30m"],
                clock,
            ),
            &format!("{CLOCK_VAR}={clock} palimpsest changes --since 30m"),
        )
    };
    // The second crawl ran an hour on: half an hour before that, its four
    // changes (and the edited source of the article citing one) are
    // recent; half an hour before three hours on, they are not.
    let recent = since_half_an_hour(&hours_later(SECOND_CRAWL_HOURS));
    assert_eq!(recent.len(), 5, "{recent:#?}");
    let old = since_half_an_hour(&hours_later(SECOND_CRAWL_HOURS + 2));
    assert!(old.is_empty(), "{old:#?}");
}

#[test]
fn diff_names_the_inserted_sentence() {
    let site = newsroom();
    let archive = Archive::new();
    crawl_twice(&archive, &site);
    let d = diff_json(&archive, &site.sentence_added, &[]);
    assert_eq!(num(&d, "from"), 1, "{d:#}");
    assert_eq!(num(&d, "to"), 2, "{d:#}");
    assert_eq!(
        d["url"].as_str(),
        Some(site.sentence_added.as_str()),
        "{d:#}"
    );
    let seen = |field: &str| {
        let s = str_field(&d, field).unwrap_or_else(|| panic!("diff without {field}: {d:#}"));
        DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{field} {s:?}: {e}"))
    };
    assert!(seen("from_seen") < seen("to_seen"), "{d:#}");
    for field in ["title", "authors", "published"] {
        assert_eq!(d[field]["changed"], false, "{field} did not change: {d:#}");
    }
    let edits = body_changes(&d);
    assert_eq!(edits.len(), 1, "one paragraph changed: {d:#}");
    let edit = &edits[0];
    assert_eq!(edit["change"], "changed", "{d:#}");
    assert_eq!(
        op_words(&edit["words"], "insert"),
        words(ADDED_SENTENCE),
        "the inserted words are the added sentence: {edit:#}"
    );
    assert!(
        op_words(&edit["words"], "delete").is_empty(),
        "nothing was deleted: {edit:#}"
    );
    assert_eq!(
        num(&d, "words_added"),
        words(ADDED_SENTENCE).len() as u64,
        "{d:#}"
    );
    assert_eq!(num(&d, "words_removed"), 0, "{d:#}");
    let h = history(&archive, &site.sentence_added);
    assert_eq!(num(&h[1], "words_added"), num(&d, "words_added"), "{h:#?}");
    assert_eq!(num(&h[1], "words_removed"), 0, "{h:#?}");
}

#[test]
fn diff_names_the_old_and_new_headline_words() {
    let site = newsroom();
    let archive = Archive::new();
    crawl_twice(&archive, &site);
    let d = diff_json(&archive, &site.headline, &[]);
    let title = &d["title"];
    assert_eq!(title["changed"], true, "{d:#}");
    let old = title["old"].as_str().unwrap_or_default();
    let new = title["new"].as_str().unwrap_or_default();
    assert!(old.contains(OLD_HEADLINE), "old title: {title:#}");
    assert!(new.contains(NEW_HEADLINE), "new title: {title:#}");
    assert_eq!(
        sorted(op_words(&title["words"], "delete")),
        sorted(words("promises swift")),
        "deleted headline words: {title:#}"
    );
    assert_eq!(
        sorted(op_words(&title["words"], "insert")),
        sorted(words("rejects calls for")),
        "inserted headline words: {title:#}"
    );
    assert!(
        body_changes(&d).is_empty(),
        "the body did not change: {:#}",
        d["body"]
    );
    assert_eq!(num(&d, "words_added"), 3, "{d:#}");
    assert_eq!(num(&d, "words_removed"), 2, "{d:#}");
    let latest = show(&archive, &site.headline, None);
    assert_eq!(num(&latest, "version"), 2, "{latest:#}");
    assert!(
        str_field(&latest, "title")
            .unwrap_or_default()
            .contains(NEW_HEADLINE),
        "{latest:#}"
    );
    let first = show(&archive, &site.headline, Some(1));
    assert_eq!(num(&first, "version"), 1, "{first:#}");
    assert!(
        str_field(&first, "title")
            .unwrap_or_default()
            .contains(OLD_HEADLINE),
        "{first:#}"
    );
}

#[test]
fn diff_marks_the_removed_paragraph_removed() {
    let site = newsroom();
    let archive = Archive::new();
    crawl_twice(&archive, &site);
    let d = diff_json(&archive, &site.paragraph_removed, &[]);
    assert_eq!(d["title"]["changed"], false, "{d:#}");
    let edits = body_changes(&d);
    assert_eq!(edits.len(), 1, "one paragraph removed: {:#}", d["body"]);
    assert_eq!(edits[0]["change"], "removed", "{:#}", d["body"]);
    assert_eq!(
        words(edits[0]["text"].as_str().unwrap_or_default()),
        words(REMOVED_PARAGRAPH),
        "{:#}",
        edits[0]
    );
    assert_eq!(num(&d, "words_added"), 0, "{d:#}");
    assert_eq!(
        num(&d, "words_removed"),
        words(REMOVED_PARAGRAPH).len() as u64,
        "{d:#}"
    );
    // The other paragraphs are all still there, unchanged.
    let same = d["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["change"] == "same")
        .count();
    assert!(same >= 4, "four paragraphs stay: {:#}", d["body"]);
}

#[test]
fn cited_source_page_is_archived_and_its_correction_diffed() {
    let site = newsroom();
    let archive = Archive::new();
    crawl(&archive, &site)
        .run(Duration::from_secs(90))
        .assert_success("first crawl");
    assert_eq!(
        site.server.count(SOURCE_HOST, "/original"),
        1,
        "the source named by the attribution line should be fetched:\n{}",
        site.server.dump()
    );
    let citing = show(&archive, &site.citing, None);
    let sources: Vec<&str> = citing["source_links"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(sources, vec![site.source.as_str()], "{citing:#}");
    assert!(
        !str_field(&citing, "text")
            .unwrap_or_default()
            .contains("Source:"),
        "the attribution line is metadata, not body text: {citing:#}"
    );
    // Only the cited page of source.test, not the site around it.
    let other: Vec<String> = site
        .server
        .paths(SOURCE_HOST)
        .into_iter()
        .filter(|p| p != "/original" && p != "/robots.txt")
        .collect();
    assert!(other.is_empty(), "only the cited page: {other:?}");

    site.edition.advance();
    crawl(&archive, &site)
        .run(Duration::from_secs(90))
        .assert_success("second crawl");
    let d = diff_json(&archive, &site.source, &[]);
    let edits = body_changes(&d);
    assert_eq!(edits.len(), 1, "one corrected paragraph: {:#}", d["body"]);
    assert_eq!(edits[0]["change"], "changed", "{:#}", edits[0]);
    assert_eq!(
        op_words(&edits[0]["words"], "delete"),
        words("12"),
        "{:#}",
        edits[0]
    );
    assert_eq!(
        op_words(&edits[0]["words"], "insert"),
        words("14"),
        "{:#}",
        edits[0]
    );
    assert_eq!(num(&d, "words_added"), 1, "{d:#}");
    assert_eq!(num(&d, "words_removed"), 1, "{d:#}");
}

#[test]
fn an_edited_source_is_reported_on_the_citing_page_in_changes_and_in_the_feed() {
    let site = newsroom();
    let archive = Archive::new();
    crawl_twice(&archive, &site);

    // `changes`: the source's own change, and an entry of its own for the
    // article citing it, which did not change itself.
    let out = cli(&archive, &["changes", "--json"]);
    out.assert_success("changes");
    let entries: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let edited: Vec<&Value> = entries
        .iter()
        .filter(|e| e["event"] == "source_edited")
        .collect();
    assert_eq!(edited.len(), 1, "{entries:#?}");
    assert_eq!(edited[0]["url"], site.citing.as_str());
    assert_eq!(edited[0]["source"]["source"], site.source.as_str());
    assert_eq!(edited[0]["source"]["version"], 2);
    assert!(
        entries
            .iter()
            .any(|e| e["url"] == site.source.as_str() && e["event"] == "changed"),
        "{entries:#?}"
    );
    assert!(
        !entries
            .iter()
            .any(|e| e["url"] == site.citing.as_str() && e["event"] == "changed"),
        "the citing article itself did not change: {entries:#?}"
    );
    let text = cli(&archive, &["changes"]).stdout;
    assert!(
        text.contains(&format!(
            "source edited 1 hour after it appeared: {} version 2",
            site.source
        )),
        "{text}"
    );

    // `sources`: the chain from the article to its source, with the edit.
    let chain = cli(&archive, &["sources", &site.citing]);
    chain.assert_success("sources");
    let lines: Vec<&str> = chain.stdout.lines().collect();
    assert!(lines[0].starts_with(&site.citing), "{}", chain.stdout);
    assert!(
        lines[1].starts_with(&format!("    <- {}  2 versions", site.source)),
        "{}",
        chain.stdout
    );
    assert!(
        lines[2].contains("edited 1 hour after the page citing it appeared: version 2"),
        "{}",
        chain.stdout
    );

    // The article page says so, and links the source's diff; so does the feed.
    let served = crate::serve::Served::start(&archive);
    let enc = crate::serve::enc;
    let (code, _, page) = served.get(&format!("/article?url={}", enc(&site.citing)));
    assert_eq!(code, 200);
    let diff_link = format!("/diff?url={}&amp;a=1&amp;b=2", enc(&site.source));
    assert!(page.contains("class=\"notice source-edited\""), "{page}");
    assert!(
        page.contains("was edited 1 hour after this page first appeared"),
        "{page}"
    );
    assert!(page.contains(&diff_link), "{page}");
    let (_, _, source_page) = served.get(&format!("/article?url={}", enc(&site.source)));
    assert!(
        !source_page.contains("source-edited"),
        "the source itself cites nothing edited"
    );
    let (_, _, feed) = served.get("/changes.atom");
    let parsed = feed_rs::parser::parse(feed.as_bytes()).expect("a valid feed");
    let notices: Vec<_> = parsed
        .entries
        .iter()
        .filter(|e| e.categories.iter().any(|c| c.term == "source-edited"))
        .collect();
    assert_eq!(notices.len(), 1, "{feed}");
    assert!(notices[0].links[0].href.contains("b=2"), "{feed}");
}
