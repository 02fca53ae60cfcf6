//! `reextract` extracts stored payloads again without refetching; when the
//! extraction is unchanged it creates no version and confirms nothing (a
//! re-extraction is not a sighting of the page).

use std::time::Duration;

use serde_json::Value;

use super::news::*;
use crate::support::*;

const HOST: &str = "gazette.test";

const STORIES: [(&str, &str); 3] = [
    ("/local/library-hours", "Library extends opening hours"),
    ("/local/tram-line", "Tram line to the airport approved"),
    ("/local/market-square", "Market square to be pedestrianised"),
];
const LEAD: &str = "The city council voted on Tuesday evening to approve the plan after a \
     debate that lasted more than four hours.";

/// A crawled archive of a front page and three stories; the URLs, front
/// page first.
fn crawled() -> (Server, Archive, Vec<String>) {
    let mut site = Site::new().page(HOST, "/", front_page("10:00:00", &STORIES));
    for (path, headline) in STORIES {
        let s = Story::new(
            headline,
            &[
                LEAD,
                "Supporters said the change would bring more visitors to the centre, \
                 while opponents warned about the cost to local taxpayers.",
                "Work is expected to begin in the autumn and take about eighteen months.",
            ],
        );
        site = site.page(HOST, path, s.html());
    }
    let server = site.serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[HOST])
        .args(["--rate", "20/s"])
        .arg(server.url(HOST, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    let urls: Vec<String> = std::iter::once("/")
        .chain(STORIES.iter().map(|(p, _)| *p))
        .map(|p| server.url(HOST, p))
        .collect();
    (server, archive, urls)
}

#[test]
fn reextract_of_an_unchanged_archive_creates_no_versions() {
    let (server, archive, urls) = crawled();
    let before: Vec<Vec<Value>> = urls.iter().map(|u| history(&archive, u)).collect();
    let stats_before = archive.stats();
    let fetched = server.requests().len();

    // An hour on (a test clock): a last-seen time it wrongly moved would show.
    let out = cli_on_clock(&archive, &["reextract", "--json"], &hours_later(1));
    let summary = json_object(&out, "palimpsest reextract --json");
    assert_eq!(num(&summary, "new_versions"), 0, "{summary:#}");
    assert!(
        num(&summary, "pages") >= urls.len() as u64,
        "every archived page is re-extracted: {summary:#}"
    );
    assert!(
        num(&summary, "extracted") >= urls.len() as u64,
        "every page has a payload to extract: {summary:#}"
    );
    assert_eq!(
        server.requests().len(),
        fetched,
        "reextract must not fetch anything:\n{}",
        server.dump()
    );

    for (url, old) in urls.iter().zip(&before) {
        let now = history(&archive, url);
        assert_eq!(
            &now, old,
            "{url}: an unchanged re-extraction changes nothing in its history \
             (no version, same last_seen)"
        );
    }
    let stats_after = archive.stats();
    assert_eq!(
        num(&stats_after, "versions"),
        num(&stats_before, "versions"),
        "before {stats_before:#}\nafter {stats_after:#}"
    );
    assert!(changes(&archive, &["--all-pages"]).is_empty());

    // One URL at a time: the same.
    let one = json_object(
        &cli(&archive, &["reextract", "--url", &urls[1], "--json"]),
        "palimpsest reextract --url URL --json",
    );
    assert_eq!(num(&one, "pages"), 1, "{one:#}");
    assert_eq!(num(&one, "new_versions"), 0, "{one:#}");
    assert_eq!(history(&archive, &urls[1]), before[1]);
    archive.assert_verify_clean();
}

#[test]
fn reextract_with_a_site_profile_adds_reextracted_versions_without_refetching() {
    let (server, archive, urls) = crawled();
    let fetched = server.requests().len();
    // A profile for the site that keeps only each story's first paragraph:
    // an extraction that certainly differs from the one archived.
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("gazette.toml");
    std::fs::write(
        &seeds,
        format!("[[profile]]\nhost = \"{HOST}\"\nbody = \"article > p:nth-of-type(2)\"\n"),
    )
    .unwrap();
    let seeds = seeds.to_str().unwrap();
    let before: Vec<usize> = urls.iter().map(|u| history(&archive, u).len()).collect();

    let summary = json_object(
        &cli(&archive, &["reextract", "--seeds", seeds, "--json"]),
        "palimpsest reextract --seeds FILE --json",
    );
    assert_eq!(
        server.requests().len(),
        fetched,
        "reextract must not fetch anything:\n{}",
        server.dump()
    );
    let mut grew = 0;
    for (url, n) in urls.iter().zip(&before) {
        let h = history(&archive, url);
        grew += h.len() - n;
        if url.ends_with('/') {
            continue;
        }
        assert_eq!(
            h.len(),
            2,
            "{url}: the profile's extraction is a version: {h:#?}"
        );
        assert_eq!(h[0]["reextracted"], false, "{h:#?}");
        assert_eq!(h[1]["reextracted"], true, "{h:#?}");
        let latest = show(&archive, url, None);
        assert_eq!(
            words(str_field(&latest, "text").unwrap_or_default()),
            words(LEAD),
            "{url}: extracted with the profile: {latest:#}"
        );
    }
    assert_eq!(
        num(&summary, "new_versions"),
        grew as u64,
        "the summary counts the versions added: {summary:#}"
    );
    let listed = changes(&archive, &["--all-pages"]);
    assert!(
        listed.is_empty(),
        "a re-extraction is not a change of the page: {listed:#?}"
    );

    // Again with the same profile: nothing new.
    let again = json_object(
        &cli(&archive, &["reextract", "--seeds", seeds, "--json"]),
        "second palimpsest reextract --seeds FILE --json",
    );
    assert_eq!(num(&again, "new_versions"), 0, "{again:#}");
    archive.assert_verify_clean();
}
