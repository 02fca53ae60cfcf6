//! The archive in PostgreSQL (`--archive postgres://…`): the same commands
//! read back exactly what they read from a directory archive, and readers
//! run while a crawl writes, where a directory admits one process.
//! These tests need a server (`pg_virtualenv` gives one); without it they
//! print a notice, and CI, which always has one, makes that a failure.

use std::path::Path;
use std::time::Duration;

use super::damage::{self, DEADLINE, pages_verified, warc_of_stories};
use crate::serve::Served;
use crate::support::{Archive, Output, Running, Server, Site, page, wait_until};

/// `palimpsest --archive URL ARGS…`, which must not panic.
fn palimpsest(archive: &Archive, args: &[&str]) -> Output {
    damage::palimpsest(Path::new(&archive.path()), args)
}

/// The reading commands compared between the two archives.
const READINGS: [&[&str]; 7] = [
    &["list", "--all-pages", "--json"],
    &["export", "--format", "jsonl", "--all-versions"],
    &["export", "--format", "csv"],
    &["history", "http://news.test/story/7.html"],
    &["show", "http://news.test/story/1111.html", "--json"],
    &["changes", "--all-pages", "--json"],
    // One story's number: ties between equal scores have no set order.
    &["search", "1111", "--json"],
];

/// What the reading commands print, each run to success.
fn readings(archive: &Archive) -> Vec<String> {
    READINGS
        .iter()
        .map(|args| {
            let out = palimpsest(archive, args);
            out.assert_success(&args.join(" "));
            out.stdout
        })
        .collect()
}

/// Fails on the first line where a reading differs, naming its command.
fn assert_same_readings(found: &[String], expected: &[String]) {
    for ((args, found), expected) in READINGS.iter().zip(found).zip(expected) {
        let mismatch = found
            .lines()
            .zip(expected.lines())
            .enumerate()
            .find(|(_, (f, e))| f != e);
        if let Some((n, (f, e))) = mismatch {
            panic!(
                "`{}` line {n} differs:\n  postgres:  {f}\n  directory: {e}",
                args.join(" ")
            );
        }
        assert_eq!(
            found.lines().count(),
            expected.lines().count(),
            "`{}` printed a different number of lines",
            args.join(" ")
        );
    }
}

/// Imports the same 1,200 stories into each archive: enough records that
/// an archive trains its record dictionary.
fn import_stories(archives: &[&Archive]) {
    let scratch = tempfile::tempdir().unwrap();
    let warc = scratch.path().join("stories.warc");
    std::fs::write(&warc, warc_of_stories(1_200)).unwrap();
    for archive in archives {
        palimpsest(archive, &["import-warc", warc.to_str().unwrap()]).assert_success("import-warc");
    }
}

#[test]
fn an_archive_in_postgres_reads_exactly_like_one_in_a_directory() {
    let Some(database) = Archive::postgres("postgres archive reads like a directory") else {
        return;
    };
    let directory = Archive::new();
    import_stories(&[&directory, &database]);
    let expected = readings(&directory);
    assert!(expected[0].lines().count() >= 1_200, "{}", expected[0]);
    assert_same_readings(&readings(&database), &expected);

    let verdict = palimpsest(&database, &["verify"]);
    verdict.assert_success("verify on PostgreSQL");
    assert_eq!(pages_verified(&verdict), 1_200);
    let stats = palimpsest(&database, &["stats", "--json"]);
    stats.assert_success("stats");
    assert!(stats.stdout.contains("\"pages\":1200"), "{}", stats.stdout);

    // What only a directory archive does is refused, with the reason.
    for command in ["compact", "salvage"] {
        let mut args = vec![command];
        if command == "salvage" {
            args.extend(["--to", "/nonexistent/palimpsest-salvage"]);
        }
        let out = palimpsest(&database, &args);
        assert!(!out.success(), "{command} ran on PostgreSQL");
        assert!(
            out.stderr.contains("works on an archive directory"),
            "{command}: {}",
            out.stderr
        );
    }
}

/// A site of `n` articles linked from its front page.
fn site(n: usize) -> Site {
    let links: Vec<String> = (0..n).map(|i| format!("/news/{i}.html")).collect();
    let refs: Vec<&str> = links.iter().map(String::as_str).collect();
    let mut site = Site::new().page("daily.test", "/", page("Front page", &refs));
    for (i, link) in links.iter().enumerate() {
        let body = format!(
            "<html><head><title>Story {i}</title></head><body><article><h1>Story {i}</h1>\
             <p>The harbour authority said on Tuesday that story {i} had many words in it, \
             enough words for an article that the extractor keeps as an article.</p>\
             <p>A second paragraph follows, with more words about the harbour and its storms.</p>\
             </article></body></html>"
        );
        site = site.page("daily.test", link, body);
    }
    site
}

/// Pages fetched so far, as `list` tells a reader (none before the crawl
/// has laid out the archive's tables).
fn fetched(archive: &Archive) -> usize {
    let list = palimpsest(archive, &["list", "--all-pages", "--json"]);
    list.stdout.matches("\"state\":\"fetched\"").count()
}

/// A crawl of `server`'s `daily.test` at `rate`, once it has stored
/// `pages` pages (and so laid out the archive's tables).
fn crawl_under_way(archive: &Archive, server: &Server, rate: &str, pages: usize) -> Running {
    let crawl = archive
        .crawl(server, &["daily.test"])
        .args(["--rate", rate])
        .arg(server.url("daily.test", "/"))
        .spawn();
    wait_until(Duration::from_secs(30), "the crawl stores pages", || {
        fetched(archive) >= pages
    });
    crawl
}

#[test]
fn readers_read_a_postgres_archive_while_a_crawl_writes_it() {
    let Some(archive) = Archive::postgres("readers beside a writer") else {
        return;
    };
    let server = site(30).serve();
    // Five pages a second: the crawl is still writing while readers read.
    let crawl = crawl_under_way(&archive, &server, "5/s", 3);

    // A reader is never refused, and sees the crawl's progress.
    palimpsest(&archive, &["list"]).assert_success("list while crawling");
    let served = Served::start(&archive);
    let (status, _, body) = served.get("/?all=1");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("daily.test"), "{body}");
    // A writer that needs the archive to itself is refused, told who
    // writes (crawls share the archive with each other only).
    let second = palimpsest(&archive, &["reextract"]);
    assert!(!second.success(), "reextract was let in beside a crawl");
    assert!(
        second.stderr.contains("palimpsest crawl, pid"),
        "{}",
        second.stderr
    );
    assert!(
        fetched(&archive) < 31,
        "the crawl ended before the readers read"
    );

    crawl.wait(DEADLINE).assert_success("crawl into PostgreSQL");
    assert_eq!(fetched(&archive), 31);
    // What serve reads goes on following the writer.
    let (_, _, body) = served.get("/?all=1");
    assert!(body.contains("Story 29"), "{body}");
    palimpsest(&archive, &["verify"]).assert_success("verify after the crawl");
}

#[test]
fn an_archive_copied_to_postgres_and_back_reads_the_same() {
    let Some(database) = Archive::postgres("copy to PostgreSQL and back") else {
        return;
    };
    let original = Archive::new();
    import_stories(&[&original]);
    let expected = readings(&original);

    let copy = |from: &Archive, to: &Archive| {
        let out = damage::palimpsest(
            Path::new("unused"),
            &["copy", "--from", &from.path(), "--to", &to.path()],
        );
        out.assert_success("copy");
        assert!(
            out.stdout.contains("verified 1200 pages: clean"),
            "{}",
            out.stdout
        );
        out
    };
    let said = copy(&original, &database);
    // The password never reaches the output.
    if let Some(password) = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()) {
        assert!(!said.stdout.contains(&password), "{}", said.stdout);
    }
    assert_same_readings(&readings(&database), &expected);
    let back = Archive::new();
    copy(&database, &back);
    assert_same_readings(&readings(&back), &expected);
    palimpsest(&back, &["verify"]).assert_success("verify the copy back");

    // A copy never writes over an archive.
    let again = damage::palimpsest(
        Path::new("unused"),
        &["copy", "--from", &original.path(), "--to", &back.path()],
    );
    assert!(!again.success(), "copied over an archive");
    assert!(
        again.stderr.contains("already holds an archive"),
        "{}",
        again.stderr
    );
}

/// `psql -Atc SQL` on the test server's database `db`.
fn psql(db: &str, sql: &str) -> String {
    let out = std::process::Command::new("psql")
        .args(["-d", db, "-Atc", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_url_asking_for_tls_is_served_over_tls_or_refused() {
    let Some(archive) = Archive::postgres("TLS when the URL asks") else {
        return;
    };
    import_stories(&[&archive]);
    let db = archive.path().rsplit('/').next().unwrap().to_string();
    let tls = format!("{}?sslmode=require", archive.path());
    let mut served = std::process::Command::new(crate::support::bin())
        .args(["serve", "--archive", &tls, "--bind", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let mut connected = None;
    wait_until(
        Duration::from_secs(20),
        "serve connects or gives up",
        || {
            if let Ok(Some(_)) = served.try_wait() {
                return true;
            }
            connected = Some(psql(
                &db,
                "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'palimpsest' AND a.datname = current_database()",
            ))
            .filter(|c| !c.is_empty());
            connected.is_some()
        },
    );
    let _ = served.kill();
    let out = served.wait_with_output().unwrap();
    match connected {
        // Connected: only ever encrypted.
        Some(ssl) => assert_eq!(ssl, "t", "a connection asked to use TLS did not"),
        // The server offers no TLS, or a certificate this machine does not
        // trust: said plainly, and nothing read in the clear.
        None => {
            let said = String::from_utf8_lossy(&out.stderr).to_lowercase();
            assert!(
                said.contains("tls") || said.contains("certificate"),
                "{said}"
            );
        }
    }
}

#[test]
fn searches_run_while_a_crawl_indexes_the_same_postgres_archive() {
    let Some(archive) = Archive::postgres("searches beside a crawl") else {
        return;
    };
    let server = site(60).serve();
    // The crawl keeps this machine's index of the archive up to date while
    // searches on the same machine bring it up to date too.
    let mut crawl = crawl_under_way(&archive, &server, "20/s", 1);
    let mut searches = 0;
    while !crawl.exited() || searches < 3 {
        let out = palimpsest(&archive, &["search", "harbour", "--json"]);
        assert!(!out.stderr.contains("error"), "{}", out.stderr);
        searches += 1;
    }
    crawl.wait(DEADLINE).assert_success("crawl");
    let out = palimpsest(&archive, &["search", "Story 59", "--json"]);
    out.assert_success("search after the crawl");
    assert!(out.stdout.contains("/news/59.html"), "{}", out.stdout);
}

#[test]
fn a_search_while_another_process_writes_the_index_answers_from_what_it_holds() {
    let Some(archive) = Archive::postgres("search beside an index writer") else {
        return;
    };
    // This machine's index of the database, in a cache of the test's own.
    let cache = tempfile::tempdir().unwrap();
    let env = [("XDG_CACHE_HOME", cache.path().to_str().unwrap())];
    let palimpsest_here = |args: &[&str]| {
        let mut all = vec!["--archive".to_string(), archive.path()];
        all.extend(args.iter().map(|a| a.to_string()));
        crate::support::spawn_with_env(&all, &env).wait(DEADLINE)
    };
    let warc = cache.path().join("stories.warc");
    std::fs::write(&warc, warc_of_stories(50)).unwrap();
    palimpsest_here(&["import-warc", warc.to_str().unwrap()]).assert_success("import");
    palimpsest_here(&["search", "7", "--json"]).assert_success("search");
    let index = std::fs::read_dir(cache.path().join("palimpsest"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("search");

    // Another process holds the index's writer lock (as a crawl does while
    // it indexes) while more stories arrive.
    let lock = std::fs::File::open(index.join(".tantivy-writer.lock")).unwrap();
    lock.lock().unwrap();
    std::fs::write(&warc, warc_of_stories(60)).unwrap();
    palimpsest_here(&["import-warc", warc.to_str().unwrap()]).assert_success("import more");
    let meanwhile = palimpsest_here(&["search", "55", "--json"]);
    assert!(!meanwhile.stderr.contains("error"), "{}", meanwhile.stderr);
    drop(lock);
    let after = palimpsest_here(&["search", "55", "--json"]);
    after.assert_success("search once the index is free");
    assert!(after.stdout.contains("story/55.html"), "{}", after.stdout);
}

#[test]
fn connections_the_server_drops_are_opened_again() {
    let Some(archive) = Archive::postgres("dropped connections") else {
        return;
    };
    let server = site(40).serve();
    let crawl = crawl_under_way(&archive, &server, "10/s", 3);
    let served = Served::start(&archive);
    assert_eq!(served.get("/?all=1").0, 200);

    // As a server restart or a failover does: every session of ours ends,
    // and the writer's lock with it.
    let db = archive.path().rsplit('/').next().unwrap().to_string();
    let ended = psql(
        &db,
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'palimpsest') t",
    );
    assert_ne!(ended, "0", "no session was ended");

    let (status, _, body) = served.get("/?all=1");
    assert_eq!(
        status, 200,
        "serve after its connection was dropped: {body}"
    );
    crawl
        .wait(DEADLINE)
        .assert_success("a crawl whose connection was dropped");
    assert_eq!(fetched(&archive), 41);
    palimpsest(&archive, &["verify"]).assert_success("verify");
}

/// A WARC of `pages` downloads (not pages to extract) whose bodies are
/// `kib` KiB that compress only to half (hex of pseudo-random bytes).
fn warc_of_noise(pages: usize, kib: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut out = Vec::new();
    for i in 0..pages {
        let noise: String = (0..kib * 1024 / 16)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                format!("{state:016x}")
            })
            .collect();
        let uri = format!("http://noise.test/{i}");
        damage::warc_response(&mut out, i, &uri, "application/octet-stream", &noise);
    }
    out
}

#[test]
fn a_scan_of_a_postgres_archive_holds_a_few_payloads_at_a_time() {
    let Some(archive) = Archive::postgres("scans of large payloads") else {
        return;
    };
    // 60 payloads of 1.5 MiB compressed: 90 MiB in the table.
    let scratch = tempfile::tempdir().unwrap();
    let warc = scratch.path().join("noise.warc");
    std::fs::write(&warc, warc_of_noise(60, 3 * 1024)).unwrap();
    palimpsest(
        &archive,
        &["import-warc", "--max-body", "4MiB", warc.to_str().unwrap()],
    )
    .assert_success("import");
    // stats reads every record, payloads included.
    let stats = palimpsest(&archive, &["stats", "--json"]);
    stats.assert_success("stats");
    assert!(stats.stdout.contains("\"payloads\":60"), "{}", stats.stdout);
    assert!(stats.sampled_peak_rss > 0, "no peak RSS was sampled");
    assert!(
        stats.sampled_peak_rss < 80 << 20,
        "stats held {} MiB",
        stats.sampled_peak_rss >> 20
    );
}

#[test]
fn tables_laid_out_by_a_newer_palimpsest_are_refused() {
    let Some(archive) = Archive::postgres("a newer schema") else {
        return;
    };
    import_stories(&[&archive]);
    let db = archive.path().rsplit('/').next().unwrap().to_string();
    psql(&db, "UPDATE palimpsest_schema SET version = version + 1");
    for args in [&["list"][..], &["import-warc", "/nonexistent.warc"][..]] {
        let out = palimpsest(&archive, args);
        assert!(!out.success(), "{args:?} ran on a newer schema");
        assert!(
            out.stderr.contains("upgrade palimpsest"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // And nothing was changed by being refused.
    assert_eq!(
        psql(&db, "SELECT count(*) FROM palimpsest_kv WHERE k LIKE 'P%'"),
        "1200"
    );
}
