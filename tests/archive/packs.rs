//! Payloads live in pack files beside the database: a site's pages are
//! stored once each, and they outlive damage to the database that points to
//! them: `salvage` finds them again in the packs.

use std::path::Path;
use std::time::Duration;

use super::damage::palimpsest;
use crate::support::*;

const STORIES: usize = 40;

/// A site of stories of a few kilobytes each that do not compress to
/// nothing: each story's sentences are drawn from its own number.
fn site_of_long_stories() -> Server {
    let links: Vec<String> = (0..STORIES).map(|i| format!("/story/{i}")).collect();
    let links: Vec<&str> = links.iter().map(String::as_str).collect();
    let mut site = Site::new().page("daily.test", "/", page("Front", &links));
    for i in 0..STORIES {
        let mut state = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let words: Vec<String> = (0..1_500)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                format!("w{:x}", state % 50_000)
            })
            .collect();
        let body = format!(
            "<html><head><title>Story {i}</title></head><body><article><h1>Story {i}</h1><p>{}</p></article></body></html>",
            words.join(" ")
        );
        site = site.page("daily.test", &format!("/story/{i}"), body);
    }
    site.serve()
}

#[test]
fn payloads_in_packs_are_salvaged_when_the_database_is_cut_short() {
    let server = site_of_long_stories();
    let archive = Archive::directory();
    archive.crawl_site(&server, "daily.test", "1000/s", Duration::from_secs(120));
    let stats = archive.stats();
    assert!(
        num(&stats, "pack_bytes") > 0,
        "no payload went to a pack: {stats:#}"
    );
    let dir = Path::new(&archive.path()).to_path_buf();

    // Most of the database is lost: only its first tenth remains.
    let db_file = dir.join("db/db");
    let bytes = std::fs::read(&db_file).unwrap();
    std::fs::write(&db_file, &bytes[..bytes.len() / 10]).unwrap();
    let rescued = tempfile::tempdir().unwrap();
    let to = rescued.path().join("salvaged");
    let salvage = palimpsest(&dir, &["salvage", "--to", to.to_str().unwrap()]);
    assert!(
        salvage.stdout.contains("found again in the packs"),
        "{}\n{}",
        salvage.stdout,
        salvage.stderr
    );
    let verdict = palimpsest(&to, &["verify"]);
    let last = verdict
        .stdout
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    let payloads: usize = last
        .split(", ")
        .find_map(|part| part.strip_suffix(" payloads")?.parse().ok())
        .unwrap_or_else(|| panic!("no payload count in: {last}"));
    assert!(
        payloads >= STORIES,
        "only {payloads} of the {STORIES} stories' payloads came back: {last}"
    );
}
