//! The on-disk format: an archive written by an earlier build opens,
//! verifies and reads exactly as that build read it, and takes new writes.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::{Archive, Site, page, run};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/archive-v1");
const EDITED: &str = "http://news.test:8799/politics/minister-resigns.html";

/// A copy of the fixture archive in a temp dir.
fn old_archive() -> Archive {
    let archive = Archive::directory();
    std::fs::create_dir_all(archive.path()).unwrap();
    let status = Command::new("tar")
        .args([
            "xzf",
            &format!("{FIXTURE}/db.tar.gz"),
            "-C",
            &archive.path(),
        ])
        .status()
        .expect("tar must be installed to unpack the fixture archive");
    assert!(status.success(), "tar could not unpack the fixture archive");
    archive
}

fn expected(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURE).join(name)).unwrap()
}

fn read(archive: &Archive, args: &[&str]) -> String {
    let path = archive.path();
    let mut all = args.to_vec();
    all.extend(["--archive", &path]);
    let out = run(&all, Duration::from_secs(60));
    out.assert_success(&all.join(" "));
    out.stdout
}

/// Verifies `archive` and checks that it reads as the earlier build read it.
fn assert_reads_as_written(archive: &Archive) {
    archive.assert_verify_clean();
    assert_eq!(
        read(archive, &["list", "--all-pages", "--json"]),
        expected("list.json")
    );
    assert_eq!(
        read(archive, &["history", EDITED, "--json"]),
        expected("history.json")
    );
    let exported = tempfile::tempdir().unwrap();
    let out = exported.path().join("export.jsonl");
    let out = out.to_str().unwrap();
    read(archive, &["export", "--format", "jsonl", "-o", out]);
    assert_eq!(
        std::fs::read_to_string(out).unwrap(),
        expected("export.jsonl")
    );
}

#[test]
fn an_archive_written_by_an_earlier_build_verifies_and_reads_the_same() {
    assert_reads_as_written(&old_archive());
}

#[test]
fn an_archive_written_by_an_earlier_build_takes_a_new_crawl_and_still_verifies() {
    let archive = old_archive();
    let host = "later.test";
    let server = Site::new()
        .page(host, "/", page("Later front", &["/story"]))
        .page(host, "/story", page("A later story", &[]))
        .serve();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl into the old archive");
    archive.assert_verify_clean();
    // The old pages are as they were, and the new ones have ids of their own.
    assert_eq!(
        read(&archive, &["history", EDITED, "--json"]),
        expected("history.json")
    );
    let pages = archive.list();
    assert_eq!(pages.len(), 11, "9 old pages and 2 new: {pages:#?}");
    assert_eq!(
        archive.entry(&server.url(host, "/story"))["title"],
        "A later story"
    );
}

#[test]
fn an_archive_written_by_an_earlier_build_is_compacted_and_reads_the_same() {
    let archive = old_archive();
    read(&archive, &["compact"]);
    assert_reads_as_written(&archive);
}
