//! Records are small: once the archive has trained a dictionary on its own
//! records, a revisit answered by `304 Not Modified` adds a capture record
//! of a few dozen bytes, however long its headers and URLs.

use std::time::Duration;

use crate::support::*;

const STORIES: usize = 300;

/// A site of `STORIES` stories, each with a validator, answering a
/// conditional request for an unchanged story with 304.
fn validating_site() -> Server {
    let links: Vec<String> = (0..STORIES).map(|i| format!("/story/{i}")).collect();
    let links: Vec<&str> = links.iter().map(String::as_str).collect();
    Site::new()
        .page("daily.test", "/", page("Front", &links))
        .route("daily.test", "/story/*", |req| {
            let etag = format!("\"{}-v1\"", req.path.trim_start_matches("/story/"));
            if req.header("if-none-match") == Some(etag.as_str()) {
                let mut resp = status(axum::http::StatusCode::NOT_MODIFIED);
                resp.headers_mut().insert("etag", etag.parse().unwrap());
                return resp;
            }
            let mut resp = html(page(&format!("Story {}", req.path), &["/"]));
            resp.headers_mut().insert("etag", etag.parse().unwrap());
            resp
        })
        .serve()
}

#[test]
fn an_unchanged_revisit_adds_a_capture_record_of_a_few_dozen_bytes() {
    let server = validating_site();
    let archive = Archive::new();
    let deadline = Duration::from_secs(120);
    for _ in 0..2 {
        archive.crawl_site(&server, "daily.test", "1000/s", deadline);
    }
    let before = archive.stats();
    archive.crawl_site(&server, "daily.test", "1000/s", deadline);
    let after = archive.stats();

    let revisits = num(&after, "captures") - num(&before, "captures");
    assert_eq!(revisits, STORIES as u64 + 1, "every page revisited");
    let per_revisit = (num(&after, "record_bytes") - num(&before, "record_bytes")) / revisits;
    // The capture record as JSON takes about 600 bytes (four request
    // headers, two response headers, two URLs, a time).
    assert!(
        per_revisit < 150,
        "an unchanged revisit added {per_revisit} bytes of records"
    );
    assert!(num(&after, "record_dictionaries") >= 1);
    archive.assert_verify_clean();
    assert_eq!(archive.list().len(), STORIES + 1);
}
