//! A revisit whose bytes differ only in a nonce or a changing box is stored
//! as a delta against the page's previous payload, a first capture as a delta
//! against a page of its site; both read back exactly.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::support::*;

/// A page of `sections` navigation items (the template, most of its bytes)
/// around a short story, with a nonce that differs on every load.
fn templated_page(nonce: u64, story: &str) -> String {
    let mut nav = String::new();
    for i in 0..1500 {
        // Distinct, poorly compressible items: the template is not a repeat.
        let tag = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
        nav.push_str(&format!("<li class=\"s{tag:x}\">Section {tag:x}</li>\n"));
    }
    format!(
        "<!doctype html><html lang=en><head><title>Council</title>\
         <script nonce=\"{nonce:016x}\">var t={nonce};</script></head><body>\
         <nav><ul>{nav}</ul></nav><article><h1>Council</h1><p>{story}</p></article>\
         </body></html>"
    )
}

/// A site whose story page carries a new nonce on every load.
fn nonce_site(loads: Arc<AtomicU64>) -> Server {
    Site::new()
        .page("daily.test", "/", page("Front", &["/story"]))
        .route("daily.test", "/story", move |_| {
            let nonce = loads.fetch_add(1, Ordering::SeqCst);
            html(templated_page(
                nonce,
                "The council met on Tuesday and agreed the budget.",
            ))
        })
        .serve()
}

/// Crawls the nonce site once, then `revisits` times more: the payload
/// bytes the revisits stored, and the archive.
fn store_revisits(revisits: u64) -> (u64, Archive) {
    let loads = Arc::new(AtomicU64::new(0));
    let server = nonce_site(loads.clone());
    let archive = Archive::new();
    let stored = |a: &Archive| num(&a.stats(), "payload_bytes_compressed");
    let deadline = Duration::from_secs(60);
    archive.crawl_site(&server, "daily.test", "50/s", deadline);
    let first = stored(&archive);
    for _ in 0..revisits {
        archive.crawl_site(&server, "daily.test", "50/s", deadline);
    }
    assert_eq!(
        loads.load(Ordering::SeqCst),
        revisits + 1,
        "loads of the story"
    );
    (stored(&archive) - first, archive)
}

#[test]
fn revisits_with_new_bytes_cost_their_change_and_read_back_exactly() {
    let (revisits, archive) = store_revisits(2);
    let page_alone = zstd_size(&templated_page(0, "x"));
    assert!(
        revisits * 20 < page_alone,
        "two revisits stored {revisits} bytes; the page alone compresses to {page_alone}"
    );
    // verify decompresses every payload, deltas through their bases, and
    // checks it against the digest taken of the bytes as served.
    archive.assert_verify_clean();
}

#[test]
fn revisits_past_the_longest_delta_chain_still_cost_their_change() {
    // The archive bounds a chain of deltas at four, so from the fifth
    // revisit on a delta needs another base than the capture before it.
    let (revisits, archive) = store_revisits(8);
    let page_alone = zstd_size(&templated_page(0, "x"));
    assert!(
        revisits * 5 < page_alone,
        "eight revisits stored {revisits} bytes; the page alone compresses to {page_alone}"
    );
    // Every payload reads back exactly, through a chain no longer than four.
    archive.assert_verify_clean();
}

fn zstd_size(html: &str) -> u64 {
    zstd::encode_all(html.as_bytes(), 3).unwrap().len() as u64
}

#[test]
fn first_captures_of_one_site_share_its_template() {
    let stories: Vec<String> = (0..8).map(|i| format!("/story/{i}")).collect();
    let links: Vec<&str> = stories.iter().map(String::as_str).collect();
    let mut site = Site::new().page("daily.test", "/", page("Front", &links));
    for (i, path) in stories.iter().enumerate() {
        let story = format!("Story {i} tells of another meeting, with other people in it.");
        site = site.page("daily.test", path, templated_page(i as u64, &story));
    }
    let server = site.serve();
    let archive = Archive::new();
    archive.crawl_site(&server, "daily.test", "10/s", Duration::from_secs(60));

    let stored = num(&archive.stats(), "payload_bytes_compressed");
    let page_alone = zstd_size(&templated_page(0, "x"));
    assert!(
        stored < page_alone * 3,
        "8 pages of one template stored in {stored} bytes; one alone compresses to {page_alone}"
    );
    archive.assert_verify_clean();
}

#[test]
fn imported_revisits_are_stored_as_deltas_too() {
    let server = nonce_site(Arc::new(AtomicU64::new(0)));
    let archive = Archive::new();
    let deadline = Duration::from_secs(60);
    for _ in 0..3 {
        archive.crawl_site(&server, "daily.test", "50/s", deadline);
    }
    let dir = tempfile::tempdir().unwrap();
    let warc = dir.path().join("all.warc.gz").display().to_string();
    run(
        &[
            "export",
            "--archive",
            &archive.path(),
            "--format",
            "warc",
            "-o",
            &warc,
        ],
        deadline,
    )
    .assert_success("export");
    let fresh = Archive::new();
    run(
        &["import-warc", "--archive", &fresh.path(), &warc],
        deadline,
    )
    .assert_success("import-warc");

    let crawled = num(&archive.stats(), "payload_bytes_compressed");
    let imported = num(&fresh.stats(), "payload_bytes_compressed");
    let page_alone = zstd_size(&templated_page(0, "x"));
    assert!(
        imported < crawled + page_alone / 2,
        "imported {imported} bytes of payloads, crawled {crawled}; the page alone is {page_alone}"
    );
    fresh.assert_verify_clean();
}
