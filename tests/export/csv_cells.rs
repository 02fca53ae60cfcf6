//! CSV cells that a spreadsheet would run as a formula (a leading `=`,
//! `+`, `-` or `@`) are written with a leading `'` unless `--raw`; JSONL
//! keeps every value as stored.

use axum::http::StatusCode;

use super::{export, front};
use crate::support::{Archive, Server, html, status};

const PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
    <title>=HYPERLINK(\"http://evil.test/\",\"Council votes\")</title>\
    <meta property=\"og:type\" content=\"article\">\
    <meta property=\"og:site_name\" content=\"+Daily Gazette\">\
    <meta name=\"description\" content=\"@SUM(1+1) what the council decided\">\
    <meta property=\"article:published_time\" content=\"2025-10-01T08:00:00Z\"></head>\
    <body><article><h1>=HYPERLINK(\"http://evil.test/\",\"Council votes\")</h1>\
    <p>-5 degrees did not stop the council from meeting on Tuesday evening, when it \
    voted on the budget, the bridge, and the new school that the town has waited for.</p>\
    <p>A second paragraph adds context, quotes a witness, and explains why the vote \
    matters to the town and what happens next week when the council meets again.</p>\
    </article></body></html>";

fn csv_row(csv: &str) -> std::collections::HashMap<String, String> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let mut rows: Vec<std::collections::HashMap<String, String>> =
        reader.deserialize().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    rows.remove(0)
}

#[test]
fn csv_cells_that_look_like_formulas_are_neutralised_unless_raw() {
    let server = Server::start(|req| match req.path.as_str() {
        "/robots.txt" => status(StatusCode::NOT_FOUND),
        "/" => html(front(&["/news/2025/vote"])),
        "/news/2025/vote" => html(PAGE),
        _ => status(StatusCode::NOT_FOUND),
    });
    let archive = Archive::new();
    archive
        .crawl(&server, &["news.test"])
        .arg(server.url("news.test", "/"))
        .run(super::MIN)
        .assert_success("crawl");

    let json: serde_json::Value =
        serde_json::from_str(export(&archive, &["--format", "jsonl"]).trim()).unwrap();
    let stored = |field: &str| json[field].as_str().unwrap_or_default().to_string();
    for (field, lead) in [
        ("title", '='),
        ("site_name", '+'),
        ("description", '@'),
        ("text", '-'),
    ] {
        assert!(
            stored(field).starts_with(lead),
            "the fixture's {field} starts with {lead}: {json}"
        );
    }

    let safe = csv_row(&export(&archive, &["--format", "csv"]));
    let raw = csv_row(&export(&archive, &["--format", "csv", "--raw"]));
    for field in ["title", "site_name", "description", "text"] {
        assert_eq!(safe[field], format!("'{}", stored(field)), "{field}");
        assert_eq!(raw[field], stored(field), "{field} with --raw");
    }
    assert_eq!(safe["url"], raw["url"], "other cells as they are");
}
