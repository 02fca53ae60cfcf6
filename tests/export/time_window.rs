//! `--since`/`--until` select by capture time, the same for every format:
//! WARC carries the captures made in the window, JSONL and CSV the versions
//! captured in it — without `--all-versions`, each article as it stood at
//! `--until`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::StatusCode;

use super::{MIN, article, export, front, lines};
use crate::support::{Archive, Server, hours_later, html, run, status};

const CHANGING: &str = "/news/2025/changing";
const UNCHANGED: &str = "/news/2025/unchanged";

/// (url, version, text) of a JSONL export, sorted.
fn rows(jsonl: &str) -> Vec<(String, u64, String)> {
    let mut rows: Vec<_> = lines(jsonl)
        .iter()
        .map(|r| {
            (
                r["url"].as_str().unwrap().to_string(),
                r["version"].as_u64().unwrap(),
                r["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn without_numbers(rows: Vec<(String, u64, String)>) -> Vec<(String, String)> {
    rows.into_iter().map(|(u, _, t)| (u, t)).collect()
}

/// What a WARC export of `window` holds, read back through a fresh archive.
fn through_warc(archive: &Archive, window: &[&str]) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let warc = dir.path().join("window.warc.gz");
    let mut args = vec!["--format", "warc", "-o", warc.to_str().unwrap()];
    args.extend_from_slice(window);
    export(archive, &args);
    let fresh = Archive::new();
    let path = fresh.path();
    run(
        &["import-warc", "--archive", &path, warc.to_str().unwrap()],
        MIN,
    )
    .assert_success("import-warc");
    without_numbers(rows(&export(&fresh, &["--format", "jsonl"])))
}

#[test]
fn since_and_until_select_by_capture_time_in_every_format() {
    let edited = Arc::new(AtomicBool::new(false));
    let flag = edited.clone();
    let server = Server::start(move |req| match req.path.as_str() {
        "/robots.txt" => status(StatusCode::NOT_FOUND),
        "/" => html(front(&[CHANGING, UNCHANGED])),
        CHANGING if flag.load(Ordering::SeqCst) => html(article(
            "Changing story",
            "en",
            "Updated: the vote was postponed.",
        )),
        CHANGING => html(article("Changing story", "en", "The vote is today.")),
        UNCHANGED => html(article("Unchanged story", "en", "Nothing new here.")),
        _ => status(StatusCode::NOT_FOUND),
    });
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &["news.test"])
        .arg(server.url("news.test", "/"));
    crawl.run(MIN).assert_success("first crawl");
    let t = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    edited.store(true, Ordering::SeqCst);
    // An hour on (a test clock): the second crawl is unmistakably after T.
    crawl
        .clone()
        .clock(hours_later(1))
        .run(MIN)
        .assert_success("second crawl");
    let changing = server.url("news.test", CHANGING);
    let unchanged = server.url("news.test", UNCHANGED);

    // As it stood at T: the changing story's first version, not dropped.
    let until = rows(&export(&archive, &["--format", "jsonl", "--until", &t]));
    let found: Vec<(&str, u64)> = until.iter().map(|(u, v, _)| (u.as_str(), *v)).collect();
    assert_eq!(found, [(changing.as_str(), 1), (unchanged.as_str(), 1)]);
    assert!(until[0].2.contains("The vote is today"));

    // Since T: what the second crawl saw, the unchanged story included.
    let since = rows(&export(&archive, &["--format", "jsonl", "--since", &t]));
    let found: Vec<(&str, u64)> = since.iter().map(|(u, v, _)| (u.as_str(), *v)).collect();
    assert_eq!(found, [(changing.as_str(), 2), (unchanged.as_str(), 1)]);

    // CSV selects the same versions.
    for (window, expected) in [("--until", &until), ("--since", &since)] {
        let csv = export(&archive, &["--format", "csv", window, &t]);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let mut got: Vec<(String, u64)> = reader
            .deserialize::<std::collections::HashMap<String, String>>()
            .map(|r| {
                let r = r.unwrap();
                (r["url"].clone(), r["version"].parse().unwrap())
            })
            .collect();
        got.sort();
        let want: Vec<(String, u64)> = expected.iter().map(|(u, v, _)| (u.clone(), *v)).collect();
        assert_eq!(got, want, "CSV {window}");
    }

    // WARC carries the captures of the window: read back, the same articles.
    assert_eq!(
        through_warc(&archive, &["--until", &t]),
        without_numbers(until)
    );
    assert_eq!(
        through_warc(&archive, &["--since", &t]),
        without_numbers(since)
    );

    // Every version captured in the window.
    let all = |window: &str| {
        rows(&export(
            &archive,
            &["--format", "jsonl", "--all-versions", window, &t],
        ))
        .into_iter()
        .map(|(u, v, _)| (u, v))
        .collect::<Vec<_>>()
    };
    assert_eq!(
        all("--until"),
        [(changing.clone(), 1), (unchanged.clone(), 1)]
    );
    assert_eq!(all("--since"), [(changing, 2), (unchanged, 1)]);
}
