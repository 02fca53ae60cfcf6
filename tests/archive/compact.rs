//! `compact`: the archive rewritten into a new database with every record
//! compressed by the newest dictionary, reading exactly as before; killed at
//! any moment, it leaves an archive that opens, verifies and reads the same.

use std::path::Path;
use std::time::Duration;

use super::damage::{STORIES, archive_of_stories, copy_dir, pages_verified, palimpsest};
use crate::support::spawn;

/// What a reader sees of the archive: every page, and every capture
/// exported.
fn reading(dir: &Path) -> (String, String) {
    let list = palimpsest(dir, &["list", "--all-pages", "--json"]);
    list.assert_success("list");
    let export = palimpsest(dir, &["export", "--format", "jsonl"]);
    export.assert_success("export");
    (list.stdout, export.stdout)
}

#[test]
fn compaction_keeps_every_record_and_rewrites_them_with_the_dictionary() {
    let original = archive_of_stories();
    let dir = Path::new(&original.path()).to_path_buf();
    let before = reading(&dir);
    let stats_before = original.stats();

    let out = palimpsest(&dir, &["compact"]);
    out.assert_success("compact");
    assert!(out.stdout.contains("compacted"), "{}", out.stdout);

    assert_eq!(reading(&dir), before, "compaction changed what is read");
    let verdict = palimpsest(&dir, &["verify"]);
    verdict.assert_success("verify after compact");
    assert_eq!(pages_verified(&verdict), STORIES);
    let stats_after = original.stats();
    let records = |s: &serde_json::Value| s["record_bytes"].as_u64().unwrap();
    // The import wrote its first thousand records as JSON, before the
    // archive had a dictionary; compaction compresses those too.
    assert!(
        records(&stats_after) < records(&stats_before),
        "records took {} bytes before compaction and {} after",
        records(&stats_before),
        records(&stats_after)
    );
}

#[test]
fn a_compaction_killed_at_any_moment_leaves_a_working_archive() {
    let original = archive_of_stories();
    let source = Path::new(&original.path()).to_path_buf();
    let expected = reading(&source);
    let scratch = tempfile::tempdir().unwrap();
    for (n, after_ms) in [5u64, 20, 40, 80, 120, 200, 300, 450, 700, 1_000]
        .into_iter()
        .enumerate()
    {
        let dir = scratch.path().join(format!("killed-{n}"));
        copy_dir(&source, &dir);
        let compaction = spawn(&[
            "--archive".to_string(),
            dir.to_str().unwrap().to_string(),
            "compact".to_string(),
        ]);
        std::thread::sleep(Duration::from_millis(after_ms));
        let _ = compaction.kill();
        let verdict = palimpsest(&dir, &["verify"]);
        verdict.assert_success(&format!(
            "verify after a compaction killed at {after_ms} ms"
        ));
        assert_eq!(pages_verified(&verdict), STORIES, "killed at {after_ms} ms");
        assert_eq!(reading(&dir), expected, "killed at {after_ms} ms");
        // And compaction, run again to its end, still works.
        palimpsest(&dir, &["compact"]).assert_success("compact after a killed one");
        assert_eq!(
            reading(&dir),
            expected,
            "compacted after a kill at {after_ms} ms"
        );
    }
}
