//! `import-warc` of damaged and hostile files: an endless header line or a
//! truncated record costs a warning, not the import, the memory or the
//! records after it; importing the same file again adds nothing.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::{MIN, article, export, lines};
use crate::support::{Archive, Output, num, run};

/// A WARC response record for `uri` captured at second `second` of a fixed
/// minute, its body an article titled `title`.
fn response(uri: &str, second: u32, title: &str) -> Vec<u8> {
    let body = article(title, "en", title);
    let http = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    format!(
        "WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: {uri}\r\n\
         WARC-Date: 2025-10-01T08:00:{second:02}Z\r\n\
         WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-0000000000{second:02}>\r\n\
         Content-Type: application/http; msgtype=response\r\nContent-Length: {}\r\n\r\n{http}\r\n\r\n",
        http.len()
    )
    .into_bytes()
}

/// One gzip member (per-record compression, as WARC tools write it).
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn story(n: u32) -> String {
    format!("http://news.test/news/2025/story-{n}")
}

fn import(archive: &Archive, file: &Path) -> Output {
    let path = archive.path();
    run(
        &[
            "import-warc",
            "--archive",
            &path,
            "--json",
            file.to_str().unwrap(),
        ],
        MIN,
    )
}

fn report(out: &Output) -> serde_json::Value {
    out.assert_success("import-warc");
    serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("import report is not JSON ({e}): {}", out.stdout))
}

fn imported_urls(archive: &Archive) -> Vec<String> {
    let mut urls: Vec<String> = lines(&export(archive, &["--format", "jsonl", "--all-pages"]))
        .iter()
        .map(|r| r["url"].as_str().unwrap().to_string())
        .collect();
    urls.sort();
    urls
}

#[test]
fn an_endless_header_line_is_skipped_in_bounded_memory_and_the_next_record_imported() {
    const LINE: usize = 160 * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("endless.warc");
    let mut bytes = response(&story(1), 1, "First story");
    bytes.extend_from_slice(
        b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: http://news.test/x\r\nX-Endless: ",
    );
    // 160 MB without a newline, generated here rather than committed: far
    // above what an import takes anyway (about 50 MB, a debug build's
    // search index and caches), so holding it would show.
    bytes.resize(bytes.len() + LINE, b'a');
    bytes.extend_from_slice(b"\r\n\r\n");
    bytes.extend_from_slice(&response(&story(2), 2, "Second story"));
    std::fs::write(&file, &bytes).unwrap();
    drop(bytes);

    let archive = Archive::new();
    let out = import(&archive, &file);
    let r = report(&out);
    assert_eq!(num(&r, "captures"), 2, "both good records imported: {r}");
    assert_eq!(num(&r, "damaged"), 1, "{r}");
    assert!(
        out.stderr.contains("warning") && out.stderr.contains("longer than"),
        "the damage is warned about on stderr: {}",
        out.stderr
    );
    assert!(
        out.elapsed < Duration::from_secs(30),
        "took {:?}",
        out.elapsed
    );
    if out.sampled_peak_rss > 0 {
        assert!(
            out.sampled_peak_rss < (LINE as u64) * 7 / 10,
            "the {} MB line was held in memory: peak RSS {} bytes",
            LINE >> 20,
            out.sampled_peak_rss
        );
    }
    assert_eq!(imported_urls(&archive), [story(1), story(2)]);
    archive.assert_verify_clean();
}

#[test]
fn a_header_block_of_endless_short_lines_is_skipped_and_the_next_record_imported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many-headers.warc");
    let mut bytes = response(&story(1), 1, "First story");
    bytes.extend_from_slice(b"WARC/1.1\r\nWARC-Type: response\r\n");
    for i in 0..40_000 {
        bytes.extend_from_slice(format!("X-Field-{i}: {}\r\n", "v".repeat(40)).as_bytes());
    }
    bytes.extend_from_slice(b"Content-Length: 0\r\n\r\n\r\n\r\n");
    bytes.extend_from_slice(&response(&story(2), 2, "Second story"));
    std::fs::write(&file, &bytes).unwrap();

    let archive = Archive::new();
    let out = import(&archive, &file);
    let r = report(&out);
    assert_eq!(num(&r, "captures"), 2, "{r}");
    assert_eq!(num(&r, "damaged"), 1, "{r}");
    assert!(out.stderr.contains("headers larger than"), "{}", out.stderr);
    assert_eq!(imported_urls(&archive), [story(1), story(2)]);
    archive.assert_verify_clean();
}

#[test]
fn a_truncated_gzip_record_is_skipped_and_the_records_after_it_imported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("truncated.warc.gz");
    let mut bytes = Vec::new();
    for n in 1..=5 {
        let member = gzip(&response(&story(n), n, &format!("Story number {n}")));
        if n == 3 {
            // Cut in the middle of its compressed data, as an interrupted copy leaves it.
            bytes.extend_from_slice(&member[..member.len() * 3 / 5]);
        } else {
            bytes.extend_from_slice(&member);
        }
    }
    std::fs::write(&file, &bytes).unwrap();

    let archive = Archive::new();
    let out = import(&archive, &file);
    let r = report(&out);
    assert_eq!(num(&r, "captures"), 4, "{r}\n{}", out.stderr);
    assert!(num(&r, "damaged") >= 1, "{r}");
    assert!(out.stderr.contains("warning"), "{}", out.stderr);
    assert_the_others_imported(&archive, &out);
}

#[test]
fn a_truncated_plain_record_is_skipped_and_the_records_after_it_imported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("truncated.warc");
    let mut bytes = Vec::new();
    for n in 1..=5 {
        let record = response(&story(n), n, &format!("Story number {n}"));
        if n == 3 {
            // Its Content-Length now claims more than is there: the block
            // would swallow the records after it.
            bytes.extend_from_slice(&record[..record.len() / 2]);
        } else {
            bytes.extend_from_slice(&record);
        }
    }
    std::fs::write(&file, &bytes).unwrap();

    let archive = Archive::new();
    let out = import(&archive, &file);
    let r = report(&out);
    assert_eq!(num(&r, "captures"), 4, "{r}\n{}", out.stderr);
    assert_eq!(num(&r, "damaged"), 1, "{r}");
    assert!(out.stderr.contains("record 3"), "{}", out.stderr);
    assert_the_others_imported(&archive, &out);
}

#[test]
fn captures_dated_before_1970_are_skipped_not_merged() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("old.warc");
    let dated = |date: &str| {
        String::from_utf8(response(&story(1), 1, "Story number 1"))
            .unwrap()
            .replace("2025-10-01T08:00:01Z", date)
            .into_bytes()
    };
    let mut bytes = dated("1960-01-01T00:00:00Z");
    bytes.extend(dated("1950-06-01T00:00:00Z"));
    bytes.extend(response(&story(2), 2, "Story number 2"));
    std::fs::write(&file, &bytes).unwrap();

    let archive = Archive::new();
    let r = report(&import(&archive, &file));
    assert_eq!(num(&r, "captures"), 1, "{r}");
    assert_eq!(num(&r, "skipped"), 2, "{r}");
    assert_eq!(
        num(&r, "duplicates"),
        0,
        "two fetch times are not one capture: {r}"
    );
    assert_eq!(imported_urls(&archive), [story(2)]);
    archive.assert_verify_clean();
}

#[test]
fn importing_the_same_warc_twice_adds_no_capture() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("twice.warc.gz");
    let mut bytes = Vec::new();
    for n in 1..=3 {
        bytes.extend(gzip(&response(&story(n), n, &format!("Story number {n}"))));
    }
    // The same page captured again later, unchanged.
    bytes.extend(gzip(&response(&story(1), 30, "Story number 1")));
    std::fs::write(&file, &bytes).unwrap();

    let archive = Archive::new();
    let first = report(&import(&archive, &file));
    assert_eq!(num(&first, "captures"), 4, "{first}");
    let before = archive.stats();
    let second = report(&import(&archive, &file));
    assert_eq!(num(&second, "captures"), 0, "{second}");
    assert_eq!(num(&second, "duplicates"), 4, "{second}");
    assert_eq!(num(&second, "new_versions"), 0, "{second}");
    let after = archive.stats();
    assert_eq!(num(&after, "captures"), num(&before, "captures"));
    assert_eq!(num(&after, "captures"), 4);
    assert_eq!(num(&after, "versions"), num(&before, "versions"));
    archive.assert_verify_clean();
}

/// The damaged third of five stories was skipped: the other four are in
/// the archive, read in bounded time, and the archive verifies.
fn assert_the_others_imported(archive: &Archive, out: &Output) {
    assert!(
        out.elapsed < Duration::from_secs(30),
        "took {:?}",
        out.elapsed
    );
    assert_eq!(
        imported_urls(archive),
        [story(1), story(2), story(4), story(5)]
    );
    archive.assert_verify_clean();
}
