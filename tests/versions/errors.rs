//! The version commands on URLs and versions the archive does not have:
//! a clear one-line error on stderr and an exit code ≠ 0, never a panic;
//! `diff` on a page with one version says there is nothing to compare.

use std::time::Duration;

use super::news::*;
use crate::support::*;

const HOST: &str = "herald.test";

/// An archive with a front page and one article, each with one version.
fn one_version_archive() -> (Server, Archive) {
    let server = Site::new()
        .page(
            HOST,
            "/",
            front_page("06:00:00", &[("/city/new-bridge", "New bridge opens")]),
        )
        .page(
            HOST,
            "/city/new-bridge",
            Story::new(
                "New bridge opens",
                &[
                    "The new footbridge over the river opened to the public on Saturday \
                     after three years of construction.",
                    "Thousands of people crossed it on the first day, the city said.",
                ],
            )
            .html(),
        )
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[HOST])
        .args(["--rate", "20/s"])
        .arg(server.url(HOST, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    let article = server.url(HOST, "/city/new-bridge");
    assert_eq!(history(&archive, &article).len(), 1);
    (server, archive)
}

#[test]
fn unknown_url_is_a_one_line_error_for_every_version_command() {
    let (server, archive) = one_version_archive();
    let unknown = server.url(HOST, "/city/never-published");
    for args in [
        vec!["history", unknown.as_str()],
        vec!["history", unknown.as_str(), "--json"],
        vec!["show", unknown.as_str()],
        vec!["show", unknown.as_str(), "--json"],
        vec!["diff", unknown.as_str()],
        vec!["diff", unknown.as_str(), "1", "2", "--json"],
    ] {
        let out = cli(&archive, &args);
        assert_one_line_error(&out, &args.join(" "), &["never-published"]);
    }
    // Not a URL at all.
    for cmd in ["history", "show", "diff"] {
        let out = cli(&archive, &[cmd, "not a url"]);
        assert_one_line_error(&out, &format!("{cmd} 'not a url'"), &[]);
    }
}

#[test]
fn unknown_version_is_a_one_line_error_naming_it() {
    let (server, archive) = one_version_archive();
    let article = server.url(HOST, "/city/new-bridge");
    for (args, mentions) in [
        (vec!["show", article.as_str(), "--version", "7"], vec!["7"]),
        (
            vec!["show", article.as_str(), "--version", "7", "--json"],
            vec!["7"],
        ),
        (vec!["show", article.as_str(), "--version", "0"], vec!["0"]),
        (vec!["diff", article.as_str(), "1", "7"], vec!["7"]),
        (
            vec!["diff", article.as_str(), "5", "1", "--json"],
            vec!["5"],
        ),
        (vec!["diff", article.as_str(), "7"], vec!["7"]),
    ] {
        let out = cli(&archive, &args);
        assert_one_line_error(&out, &args.join(" "), &mentions);
    }
    // Garbage where a version number goes.
    let out = cli(&archive, &["show", &article, "--version", "latest-ish"]);
    assert_one_line_error(&out, "show --version latest-ish", &[]);
}

#[test]
fn diff_of_a_page_with_one_version_has_nothing_to_compare() {
    let (server, archive) = one_version_archive();
    let article = server.url(HOST, "/city/new-bridge");
    for format in ["text", "json", "html"] {
        let out = cli(&archive, &["diff", &article, "--format", format]);
        assert_one_line_error(
            &out,
            &format!("diff (one version) --format {format}"),
            &["nothing to compare"],
        );
    }
    // History and show work on it.
    let shown = show(&archive, &article, None);
    assert_eq!(num(&shown, "version"), 1, "{shown:#}");
}

#[test]
fn changes_with_a_bad_since_is_a_one_line_error() {
    let (_server, archive) = one_version_archive();
    for since in ["yesterday-ish", "2025-13-45", "-3h", ""] {
        let out = cli(&archive, &["changes", "--since", since, "--json"]);
        assert_one_line_error(&out, &format!("changes --since {since:?}"), &[]);
    }
    // A first version is not a change.
    assert!(changes(&archive, &["--all-pages"]).is_empty());
}

#[test]
fn version_commands_without_an_archive_say_so() {
    let missing = tempfile::tempdir().unwrap();
    let dir = missing.path().join("no-archive-here");
    let dir = dir.to_str().unwrap();
    let url = "http://herald.test:8080/city/new-bridge";
    for args in [
        vec!["history", url],
        vec!["show", url],
        vec!["diff", url],
        vec!["changes"],
        vec!["schedule"],
    ] {
        let mut all = args.clone();
        all.extend(["--archive", dir]);
        let out = run(&all, Duration::from_secs(30));
        assert_one_line_error(&out, &args.join(" "), &[]);
        assert!(
            !std::path::Path::new(dir).exists(),
            "{args:?} must not create an archive where there was none"
        );
    }
}
