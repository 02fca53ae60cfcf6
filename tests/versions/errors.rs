//! The version commands on URLs and versions the archive does not have:
//! a clear one-line error on stderr and an exit code ≠ 0, never a panic
//! (usage errors keep clap's own rendering and exit 2); a page without
//! versions is said for what it is; `diff` on a page with one version says
//! there is nothing to compare. Reading commands whose reader closes the
//! pipe end quietly; their times are RFC 3339 in UTC.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::StatusCode;

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
    archive.crawl_site(&server, HOST, "20/s", Duration::from_secs(60));
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
    // Garbage where a version number goes: clap says so, with usage.
    let out = cli(&archive, &["show", &article, "--version", "latest-ish"]);
    assert_usage_error(&out, "show --version latest-ish", "'latest-ish'");
}

/// Fails unless clap refused the arguments: exit 2, the value quoted.
fn assert_usage_error(out: &Output, what: &str, mention: &str) {
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: expected the usage-error exit code 2\nstderr:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.starts_with("error: ") && out.stderr.contains(mention),
        "{what}: clap's error should quote {mention}:\n{}",
        out.stderr
    );
    assert!(out.stdout.trim().is_empty(), "{what}: {}", out.stdout);
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
fn changes_with_a_bad_since_is_a_usage_error() {
    let (_server, archive) = one_version_archive();
    for since in ["yesterday-ish", "2025-13-45", "-3h", ""] {
        let out = cli(
            &archive,
            &["changes", &format!("--since={since}"), "--json"],
        );
        assert_usage_error(
            &out,
            &format!("changes --since {since:?}"),
            &format!("'{since}'"),
        );
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

/// Runs `palimpsest ARGS --archive DIR` with standard output a pipe whose
/// reading end is closed as soon as the process exists (long before it has
/// opened the archive); returns the exit code and stderr.
fn run_into_closed_pipe(archive: &Archive, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(bin())
        .args(args)
        .args(["--archive", &archive.path()])
        .env_remove("PALIMPSEST_ARCHIVE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn palimpsest");
    drop(child.stdout.take());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().ok();
            panic!("{args:?} into a closed pipe still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .ok();
    (status.code(), stderr)
}

#[test]
fn a_closed_stdout_pipe_ends_reading_commands_and_export_quietly() {
    let (server, archive) = one_version_archive();
    let article = server.url(HOST, "/city/new-bridge");
    for args in [
        vec!["list", "--json", "--all-pages"],
        vec!["list"],
        vec!["stats"],
        vec!["history", article.as_str()],
        vec!["show", article.as_str(), "--json"],
        vec!["export", "--format", "jsonl", "--all-pages"],
        vec!["export", "--format", "warc"],
    ] {
        let (code, stderr) = run_into_closed_pipe(&archive, &args);
        assert_eq!(
            code,
            Some(0),
            "{args:?} into a closed pipe should end quietly with 0:\n{stderr}"
        );
        let said = stderr.to_lowercase();
        assert!(
            !said.contains("pipe") && !said.contains("error"),
            "{args:?} into a closed pipe printed:\n{stderr}"
        );
    }
}

#[test]
fn a_page_without_versions_is_said_for_what_it_is() {
    let server = Site::new()
        .robots(HOST, "User-agent: *\nDisallow: /private/\n")
        .page(
            HOST,
            "/",
            front_page(
                "06:00:00",
                &[
                    ("/private/memo", "A memo"),
                    ("/city/gone", "Gone story"),
                    ("/city/long", "Long read"),
                ],
            ),
        )
        .raw(
            HOST,
            "/city/gone",
            StatusCode::NOT_FOUND,
            vec![],
            "not here",
        )
        .page(HOST, "/city/long", page(&"Long read ".repeat(4000), &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[HOST])
        .args(["--rate", "20/s", "--max-body", "16KiB"])
        .arg(server.url(HOST, "/"))
        .run(Duration::from_secs(60))
        .assert_exit(3, "crawl with a 404 and a cut body");
    let private = server.url(HOST, "/private/memo");
    let gone = server.url(HOST, "/city/gone");
    let long = server.url(HOST, "/city/long");
    for (url, what) in [
        (&private, "disallowed by robots.txt"),
        (&gone, "HTTP 404 on every capture (1 capture)"),
        (&long, "body cut at 16384 bytes (--max-body) (1 capture)"),
    ] {
        for cmd in ["show", "history", "diff"] {
            let out = cli(&archive, &[cmd, url]);
            assert_one_line_error(&out, &format!("{cmd} {url}"), &[what]);
            assert!(!out.stderr.contains("version 0"), "{}", out.stderr);
        }
    }
}

#[test]
fn tables_and_text_print_times_in_rfc3339_utc() {
    let story = Story::new(
        "Council votes on budget",
        &["The council met on Tuesday evening to vote on next year's budget for the city."],
    );
    let edited = story.clone().with_paragraph(
        0,
        "The council met on Tuesday evening and passed next year's budget for the city.",
    );
    let edition = Edition::new();
    let site = Site::new().page(
        HOST,
        "/",
        front_page("06:00:00", &[("/city/budget", "Council votes")]),
    );
    let server = changing(
        site,
        HOST,
        "/city/budget",
        &edition,
        vec![story.html(), edited.html()],
        Validators::None,
    )
    .serve();
    let archive = Archive::new();
    archive.crawl_site(&server, HOST, "20/s", Duration::from_secs(60));
    edition.advance();
    archive.crawl_site(&server, HOST, "20/s", Duration::from_secs(60));
    let article = server.url(HOST, "/city/budget");
    assert_eq!(history(&archive, &article).len(), 2);

    let rfc3339 = regex::Regex::new(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
    let other = regex::Regex::new(r"\d{4}-\d\d-\d\d \d\d:\d\d").unwrap();
    for args in [
        vec!["list"],
        vec!["history", &article],
        vec!["show", &article],
        vec!["changes"],
        vec!["diff", &article],
    ] {
        let out = cli(&archive, &args);
        out.assert_success(&args.join(" "));
        assert!(
            rfc3339.is_match(&out.stdout) && !other.is_match(&out.stdout),
            "{args:?}: times should read 2025-10-01T08:00:00Z:\n{}",
            out.stdout
        );
    }
    // JSON says the same style.
    let row = &history(&archive, &article)[0];
    assert!(
        str_field(row, "first_seen").is_some_and(|t| t.ends_with('Z')),
        "{row:#}"
    );
    let page = archive.entry(&article);
    assert!(
        str_field(&page, "last_captured").is_some_and(|t| t.ends_with('Z')),
        "{page:#}"
    );
}
