//! One process per archive: a second one gets a clear error naming the
//! holder, never a panic.

use std::time::Duration;

use crate::support::*;

#[test]
fn second_process_on_a_crawled_archive_gets_an_in_use_error() {
    let host = "busy.test";
    let links: Vec<String> = (1..20).map(|i| format!("/p/{i}")).collect();
    let refs: Vec<&str> = links.iter().map(String::as_str).collect();
    let mut site = Site::new().page(host, "/", page("Home", &refs));
    for link in &links {
        site = site.page(host, link, page(link, &[]));
    }
    let server = site.serve();
    // One process at a time is a directory archive's rule (PostgreSQL lets
    // readers in).
    let archive = Archive::directory();
    let mut crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "2/s"])
        .arg(server.url(host, "/"))
        .spawn();
    wait_until(Duration::from_secs(60), "the crawl's first page", || {
        !server.page_requests().is_empty()
    });
    assert!(!crawl.exited(), "the crawl ended too early for this test");
    let pid = crawl.pid().to_string();

    let path = archive.path();
    let attempts: Vec<Vec<String>> = vec![
        vec!["stats".into(), "--archive".into(), path.clone()],
        vec![
            "list".into(),
            "--json".into(),
            "--archive".into(),
            path.clone(),
        ],
        vec!["verify".into(), "--archive".into(), path.clone()],
        archive
            .crawl(&server, &[host])
            .arg(server.url(host, "/"))
            .to_args(),
    ];
    for args in attempts {
        let out = run(&args, Duration::from_secs(30));
        assert!(
            !out.success(),
            "palimpsest {args:?} opened an archive held by a running crawl:\n{}",
            out.stdout
        );
        let stderr = out.stderr.to_lowercase();
        assert!(
            stderr.contains("in use"),
            "palimpsest {args:?}: the error should say the archive is in use:\n{}",
            out.stderr
        );
        assert!(
            out.stderr.contains(&pid),
            "palimpsest {args:?}: the error should name the holder (pid {pid}):\n{}",
            out.stderr
        );
    }
    assert!(!crawl.exited(), "the first crawl should not be disturbed");
    crawl.kill();
}

#[test]
fn two_crawls_started_at_once_on_a_new_archive_do_not_both_write() {
    let host = "race.test";
    let links: Vec<String> = (1..10).map(|i| format!("/p/{i}")).collect();
    let refs: Vec<&str> = links.iter().map(String::as_str).collect();
    let mut site = Site::new().page(host, "/", page("Home", &refs));
    for link in &links {
        site = site.page(host, link, page(link, &[]));
    }
    let server = site.serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "10/s"])
        .arg(server.url(host, "/"));
    let a = crawl.spawn();
    let b = crawl.spawn();
    let a = a.wait(Duration::from_secs(60));
    let b = b.wait(Duration::from_secs(60));
    assert!(
        a.success() || b.success(),
        "neither crawl succeeded:\n{}\n{}",
        a.stderr,
        b.stderr
    );
    for out in [&a, &b] {
        if !out.success() {
            assert!(
                out.stderr.to_lowercase().contains("in use"),
                "the loser should be told the archive is in use:\n{}",
                out.stderr
            );
        }
    }
    archive.assert_verify_clean();
    for link in &links {
        assert_eq!(
            server.count(host, link),
            1,
            "{link} fetched by both crawls:\n{}",
            server.dump()
        );
    }
}
