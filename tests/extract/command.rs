//! `palimpsest extract` as a library call: files and standard input in,
//! one JSON record a line out; the `--input-jsonl` contract.

use std::io::Cursor;

use palimpsest::extract::command::{ExtractOptions, run};
use palimpsest::extract::{Profile, ProfileSpec};
use serde_json::Value;
use url::Url;

use super::fixture_path;

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8(out.to_vec())
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn files_give_one_record_each() {
    let opts = ExtractOptions {
        inputs: vec![
            fixture_path("sample-id.html"),
            fixture_path("no-metadata.html"),
        ],
        ..Default::default()
    };
    let mut out = Vec::new();
    run(&opts, &mut Cursor::new(Vec::new()), &mut out).expect("runs");
    let recs = lines(&out);
    assert_eq!(recs.len(), 2);
    // No --url: the page's own canonical URL stands in for it…
    assert_eq!(
        recs[0]["url"],
        "https://kabar-nusantara.example/internasional/jejak-vietnam-konvensi-hanoi"
    );
    assert_eq!(recs[0]["language"], "id");
    assert_eq!(recs[0]["kind"], "article");
    assert!(
        recs[0]["source_links"][0]
            .as_str()
            .unwrap_or("")
            .starts_with("https://vietnamnet.vn/")
    );
    // …or, without one, a file: URL of the path.
    assert!(
        recs[1]["url"]
            .as_str()
            .unwrap_or("")
            .starts_with("file:///")
    );
    for key in [
        "title",
        "authors",
        "published",
        "modified",
        "text",
        "version",
        "captured_at",
        "content_digest",
    ] {
        assert!(recs[0].get(key).is_some(), "record has {key}");
    }
    assert!(recs[0].get("id").is_none(), "no id outside --input-jsonl");
}

#[test]
fn gzip_files_and_stdin() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("page.html.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"<html><body><article><p>A gzipped page with a paragraph of text long enough to count as the article body.</p></article></body></html>")
        .expect("gzip");
    std::fs::write(&path, gz.finish().expect("gzip")).expect("write");
    let opts = ExtractOptions {
        inputs: vec![path, "-".into()],
        url: Some(Url::parse("https://given.example/a?utm_source=x").expect("url")),
        ..Default::default()
    };
    let mut stdin = Cursor::new(
        b"<p>From standard input, a paragraph that is long enough to be kept as text.</p>".to_vec(),
    );
    let mut out = Vec::new();
    run(&opts, &mut stdin, &mut out).expect("runs");
    let recs = lines(&out);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["url"], "https://given.example/a");
    assert!(
        recs[0]["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("A gzipped page")
    );
    assert!(
        recs[1]["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("From standard input")
    );
}

#[test]
fn input_jsonl_keeps_order_echoes_ids_and_reports_bad_lines() {
    let stdin = [
        r#"{"id": 7, "url": "https://a.example/one", "html": "<article><p>First page text, long enough to be the article body of this page.</p></article>"}"#,
        r#"this is not json"#,
        r#"{"id": "b", "url": "https://b.example/two"}"#,
        r#"{"id": "c", "url": "not a url", "html": "<p>x</p>"}"#,
        "",
        r#"{"url": "https://c.example/three", "html": "<article><p>Third page text, long enough to be the article body of this page.</p></article>"}"#,
    ]
    .join("\n");
    let opts = ExtractOptions {
        input_jsonl: true,
        ..Default::default()
    };
    let mut out = Vec::new();
    run(&opts, &mut Cursor::new(stdin.into_bytes()), &mut out).expect("a bad line is not an abort");
    let recs = lines(&out);
    assert_eq!(recs.len(), 5, "one line out per non-empty line in");
    assert_eq!(recs[0]["id"], 7);
    assert_eq!(recs[0]["url"], "https://a.example/one");
    assert!(
        recs[0]["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("First page text")
    );
    assert!(
        recs[1]["error"]
            .as_str()
            .unwrap_or("")
            .contains("invalid JSON")
    );
    assert_eq!(recs[1]["id"], Value::Null);
    assert_eq!(recs[2]["id"], "b");
    assert!(recs[2]["error"].as_str().unwrap_or("").contains("html"));
    assert_eq!(recs[3]["id"], "c");
    assert!(recs[3].get("error").is_some());
    assert_eq!(recs[4]["url"], "https://c.example/three");
    assert!(recs[4].get("id").is_none(), "no id given, none echoed");
}

#[test]
fn profiles_apply_by_host() {
    let spec = ProfileSpec {
        host: "a.example".into(),
        body: Some("div.only".into()),
        ..Default::default()
    };
    let opts = ExtractOptions {
        input_jsonl: true,
        profiles: vec![Profile::compile(&spec).expect("compiles")],
        ..Default::default()
    };
    let html = r#"<div class=\"only\">Profile text.</div><article><p>Generic text that is long enough to be picked without a profile at all, with a clause or two more.</p></article>"#;
    let stdin = format!(
        "{{\"url\":\"https://a.example/x\",\"html\":\"{html}\"}}\n{{\"url\":\"https://other.example/x\",\"html\":\"{html}\"}}\n"
    );
    let mut out = Vec::new();
    run(&opts, &mut Cursor::new(stdin.into_bytes()), &mut out).expect("runs");
    let recs = lines(&out);
    assert_eq!(recs[0]["text"], "Profile text.");
    assert!(
        recs[1]["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("Generic text"),
        "{}",
        recs[1]
    );
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let opts = ExtractOptions {
        inputs: vec!["/nonexistent/page.html".into()],
        ..Default::default()
    };
    let err = run(&opts, &mut Cursor::new(Vec::new()), &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/page.html"));
}
