//! `import-warc` under the crawl's limits: a payload past `--max-body` is
//! stored cut, as a crawl stores it, and never held whole (a compression
//! bomb costs the cap, not its size); the content codings the crawler
//! undoes are undone, one it cannot stays on the payload, never read as
//! text; a file with nothing to import fails the command.

use std::io::{Cursor, Write};
use std::path::Path;
use std::time::Duration;

use palimpsest::export::warc::{Entry, WarcReader};

use super::{MIN, article, export};
use crate::support::{Archive, Output, num, run};

const CAP: usize = 10 * 1024 * 1024;

/// A WARC response record for `uri` at second `second`: `head` (status
/// line and headers, without the blank line) then `body`.
fn record(uri: &str, second: u32, head: &str, body: &[u8]) -> Vec<u8> {
    let mut http = format!("{head}\r\n\r\n").into_bytes();
    http.extend_from_slice(body);
    let mut out = format!(
        "WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: {uri}\r\n\
         WARC-Date: 2025-10-01T08:00:{second:02}Z\r\n\
         WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-0000000001{second:02}>\r\n\
         Content-Type: application/http; msgtype=response\r\nContent-Length: {}\r\n\r\n",
        http.len()
    )
    .into_bytes();
    out.extend_from_slice(&http);
    out.extend_from_slice(b"\r\n\r\n");
    out
}

fn html_head(extra: &str) -> String {
    format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8{extra}")
}

fn import(archive: &Archive, file: &Path, extra: &[&str]) -> Output {
    let path = archive.path();
    let mut args = vec!["import-warc", "--archive", &path, "--json"];
    args.extend_from_slice(extra);
    args.push(file.to_str().unwrap());
    run(&args, MIN)
}

fn report(out: &Output) -> serde_json::Value {
    out.assert_success("import-warc");
    serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("import report is not JSON ({e}): {}", out.stdout))
}

/// The WARC headers and the HTTP message of `uri`'s response in the
/// archive's WARC export.
fn exported(archive: &Archive, uri: &str) -> (Vec<(String, String)>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.warc.gz");
    export(
        archive,
        &[
            "--format",
            "warc",
            "--all-pages",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    let warc = std::fs::read(&file).unwrap();
    let mut reader = WarcReader::new(Cursor::new(warc), u64::MAX).unwrap();
    while let Some(entry) = reader.next_entry().unwrap() {
        let Entry::Record(r) = entry else { continue };
        if r.header("WARC-Type") == Some("response") && r.header("WARC-Target-URI") == Some(uri) {
            return (r.headers, r.block);
        }
    }
    panic!("no response record for {uri} in the export");
}

/// The payload of an HTTP message.
fn payload(http: &[u8]) -> &[u8] {
    let at = http.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    &http[at + 4..]
}

fn warc_truncated(headers: &[(String, String)]) -> Option<&str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("WARC-Truncated"))
        .map(|(_, v)| v.as_str())
}

fn big_page(len: usize) -> Vec<u8> {
    let mut page = b"<!doctype html><html><head><title>Long</title></head><body>".to_vec();
    let para = b"<p>Word upon word upon word, a paragraph of a page far too long.</p>\n";
    while page.len() < len {
        page.extend_from_slice(para);
    }
    page
}

#[test]
fn a_payload_past_the_body_cap_is_stored_cut_as_the_crawl_stores_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("long.warc");
    let long = "http://news.test/long";
    let short = "http://news.test/short";
    let mut bytes = record(long, 1, &html_head(""), &big_page(CAP + 2 * 1024 * 1024));
    let story = article("Short story", "en", "Short");
    bytes.extend(record(short, 2, &html_head(""), story.as_bytes()));
    std::fs::write(&file, &bytes).unwrap();

    let archive = Archive::new();
    let r = report(&import(&archive, &file, &[]));
    assert_eq!(num(&r, "captures"), 2, "{r}");
    assert_eq!(
        num(&r, "new_versions"),
        1,
        "a cut body is kept, not extracted: {r}"
    );
    let (headers, http) = exported(&archive, long);
    assert_eq!(
        payload(&http).len(),
        CAP,
        "cut at the crawl's default --max-body"
    );
    assert_eq!(warc_truncated(&headers), Some("length"), "{headers:?}");
    let (headers, http) = exported(&archive, short);
    assert_eq!(payload(&http), story.as_bytes());
    assert_eq!(warc_truncated(&headers), None);
    archive.assert_verify_clean();

    // --max-body as the crawl reads it.
    let small = Archive::new();
    report(&import(&small, &file, &["--max-body", "64KiB"]));
    assert_eq!(payload(&exported(&small, long).1).len(), 64 * 1024);
    let bad = import(&small, &file, &["--max-body", "lots"]);
    bad.assert_exit(2, "import-warc --max-body lots");
}

#[test]
fn a_compression_bomb_record_is_cut_at_the_cap_in_bounded_memory() {
    // 256 MiB of HTML as a gzip content coding, in a gzipped WARC: about
    // a kilobyte on disk.
    let mut body = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    body.write_all(b"<!doctype html><html><head><title>Bomb</title></head><body><p>")
        .unwrap();
    let spaces = vec![b' '; 1024 * 1024];
    for _ in 0..256 {
        body.write_all(&spaces).unwrap();
    }
    let body = body.finish().unwrap();
    let uri = "http://bomb.test/";
    let rec = record(uri, 1, &html_head("\r\nContent-Encoding: gzip"), &body);
    let mut warc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    warc.write_all(&rec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bomb.warc.gz");
    std::fs::write(&file, warc.finish().unwrap()).unwrap();

    let archive = Archive::new();
    let out = import(&archive, &file, &[]);
    let r = report(&out);
    assert_eq!(num(&r, "captures"), 1, "{r}");
    assert!(
        out.elapsed < Duration::from_secs(30),
        "took {:?}",
        out.elapsed
    );
    if out.sampled_peak_rss > 0 {
        assert!(
            out.sampled_peak_rss < 200 * 1024 * 1024,
            "the bomb was inflated past the cap: peak RSS {} bytes",
            out.sampled_peak_rss
        );
    }
    let (headers, http) = exported(&archive, uri);
    assert_eq!(payload(&http).len(), CAP);
    assert_eq!(warc_truncated(&headers), Some("length"), "{headers:?}");
}

#[test]
fn zstd_records_are_decoded_and_an_unknown_coding_is_kept_not_read_as_text() {
    let zstd_uri = "http://news.test/zstd";
    let coded_uri = "http://news.test/coded";
    let story = article("Zstandard story", "en", "Zstandard");
    let zstd = zstd::encode_all(story.as_bytes(), 3).unwrap();
    let mut bytes = record(zstd_uri, 1, &html_head("\r\nContent-Encoding: zstd"), &zstd);
    // Bytes that read as a page if taken for text: the coding must stop that.
    let coded = article("Not a title", "en", "Not");
    bytes.extend(record(
        coded_uri,
        2,
        &html_head("\r\nContent-Encoding: x-custom"),
        coded.as_bytes(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("codings.warc");
    std::fs::write(&file, &bytes).unwrap();

    let archive = Archive::new();
    let r = report(&import(&archive, &file, &[]));
    assert_eq!(num(&r, "captures"), 2, "{r}");
    assert_eq!(
        num(&r, "new_versions"),
        1,
        "only the zstd page is a version: {r}"
    );
    let records = super::lines(&export(&archive, &["--format", "jsonl", "--all-pages"]));
    let titles: Vec<&str> = records.iter().filter_map(|r| r["title"].as_str()).collect();
    assert_eq!(titles, ["Zstandard story"], "{records:#?}");
    let (_, http) = exported(&archive, zstd_uri);
    assert_eq!(payload(&http), story.as_bytes(), "stored decoded");
    let head = String::from_utf8_lossy(&http[..http.len() - payload(&http).len()]).to_lowercase();
    assert!(!head.contains("content-encoding"), "{head}");
    let (_, http) = exported(&archive, coded_uri);
    let head = String::from_utf8_lossy(&http[..http.len() - payload(&http).len()]).to_lowercase();
    assert!(head.contains("content-encoding: x-custom"), "{head}");
    assert_eq!(payload(&http), coded.as_bytes(), "stored as received");
}

#[test]
fn a_file_with_nothing_to_import_exits_non_zero_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("notes.txt");
    std::fs::write(&junk, "These are my notes, not a WARC file.\n").unwrap();
    let archive = Archive::new();
    let out = import(&archive, &junk, &[]);
    out.assert_exit(1, "import-warc of a text file");
    assert!(
        out.stderr.contains("notes.txt") && out.stderr.contains("no WARC record could be read"),
        "{}",
        out.stderr
    );

    // A WARC with only a warcinfo record: read, but nothing to import.
    let info = dir.path().join("info.warc");
    let fields = "software: test\r\n";
    std::fs::write(
        &info,
        format!(
            "WARC/1.1\r\nWARC-Type: warcinfo\r\nWARC-Date: 2025-10-01T08:00:00Z\r\n\
             WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000999>\r\n\
             Content-Type: application/warc-fields\r\nContent-Length: {}\r\n\r\n{fields}\r\n\r\n",
            fields.len()
        ),
    )
    .unwrap();
    let out = import(&archive, &info, &[]);
    out.assert_exit(1, "import-warc of a WARC without captures");
    assert!(out.stderr.contains("nothing imported"), "{}", out.stderr);

    // A good file with a bad one: the good one is imported, and the exit
    // code still says something was wrong.
    let good = dir.path().join("good.warc");
    let story = article("Good story", "en", "Good");
    std::fs::write(
        &good,
        record("http://news.test/good", 1, &html_head(""), story.as_bytes()),
    )
    .unwrap();
    let path = archive.path();
    let args = ["import-warc", "--archive", &path, "--json"];
    let out = run(
        &[&args[..], &[good.to_str().unwrap(), junk.to_str().unwrap()]].concat(),
        MIN,
    );
    out.assert_exit(1, "import-warc of a WARC and a text file");
    let r: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(num(&r, "captures"), 1, "{r}");
    assert!(out.stderr.contains("notes.txt"), "{}", out.stderr);
}
