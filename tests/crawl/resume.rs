//! Crash safety: a crawl killed with `kill -9` resumes when the same command
//! runs again, without fetching again what was already captured.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::*;

const PAGES: usize = 30;
const CONCURRENCY: usize = 4;

fn slow_site(host: &str) -> Server {
    let links: Vec<String> = (1..PAGES).map(|i| format!("/story/{i}")).collect();
    let refs: Vec<&str> = links.iter().map(String::as_str).collect();
    let mut site = Site::new().page(host, "/", page("Front page", &refs));
    for i in 1..PAGES {
        site = site.page(
            host,
            &format!("/story/{i}"),
            page(&format!("Story number {i}"), &["/"]),
        );
    }
    site.serve()
}

fn fetched_paths(server: &Server, host: &str) -> Vec<String> {
    server
        .requests_for(host)
        .into_iter()
        .filter(|r| !r.is_robots())
        .map(|r| r.path)
        .collect()
}

#[test]
fn killed_crawl_resumes_without_refetching_captured_pages() {
    let host = "slow.test";
    let server = slow_site(host);
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "5/s", "--concurrency", &CONCURRENCY.to_string()])
        .arg(server.url(host, "/"));

    // First run: kill -9 once at least 5 pages were requested.
    let mut first = crawl.spawn();
    wait_until(Duration::from_secs(60), "5 page requests", || {
        fetched_paths(&server, host).len() >= 5
    });
    assert!(
        !first.exited(),
        "the crawl finished before it could be killed"
    );
    first.kill();
    let before_kill: BTreeSet<String> = fetched_paths(&server, host).into_iter().collect();

    // A crash at any instant leaves a consistent archive.
    archive.assert_verify_clean();

    // What the archive says was captured before the crash.
    let captured: BTreeSet<String> = archive
        .list()
        .iter()
        .filter(|p| p["captures"].as_u64().unwrap_or(0) >= 1)
        .filter_map(|p| p["url"].as_str())
        .map(|u| {
            let url = url::Url::parse(u).unwrap();
            url.path().to_string()
        })
        .collect();
    assert!(
        captured.iter().all(|p| before_kill.contains(p)),
        "captured pages {captured:?} were not all requested before the kill ({before_kill:?})"
    );

    // Second run: same command.
    server.clear_log();
    crawl
        .run(Duration::from_secs(120))
        .assert_success("resumed crawl");
    let after: Vec<String> = fetched_paths(&server, host);

    let refetched_captured: Vec<&String> = after.iter().filter(|p| captured.contains(*p)).collect();
    assert!(
        refetched_captured.is_empty(),
        "pages captured before the kill were fetched again: {refetched_captured:?}\n(captured before kill: {captured:?})\n{}",
        server.dump()
    );
    let twice: BTreeSet<&String> = after.iter().filter(|p| before_kill.contains(*p)).collect();
    assert!(
        twice.len() <= CONCURRENCY,
        "{} pages fetched in both runs ({twice:?}); at most --concurrency {CONCURRENCY} were in flight at the kill.\nbefore kill: {before_kill:?}",
        twice.len()
    );
    let mut unique_after: Vec<&String> = after.iter().collect();
    unique_after.sort();
    unique_after.dedup();
    assert_eq!(
        unique_after.len(),
        after.len(),
        "a page fetched twice by the resumed crawl:\n{}",
        server.dump()
    );

    // Every page captured, the archive consistent.
    let pages = archive.list();
    for i in 0..PAGES {
        let path = if i == 0 {
            "/".to_string()
        } else {
            format!("/story/{i}")
        };
        let url = server.url(host, &path);
        let entry = find_page(&pages, &url)
            .unwrap_or_else(|| panic!("{url} missing after resume:\n{pages:#?}"));
        assert_eq!(entry["state"], "fetched", "{entry:#}");
        assert!(num(entry, "captures") >= 1, "{entry:#}");
    }
    archive.assert_verify_clean();
    let stats = archive.stats();
    assert_eq!(num(&stats, "queued"), 0, "{stats:#}");
}

#[test]
fn fresh_starts_a_new_pass_after_an_interruption() {
    let host = "slow.test";
    let server = slow_site(host);
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "10/s", "--concurrency", "2"])
        .arg(server.url(host, "/"));
    let mut first = crawl.spawn();
    wait_until(Duration::from_secs(60), "5 page requests", || {
        fetched_paths(&server, host).len() >= 5
    });
    assert!(!first.exited(), "the crawl finished before it was killed");
    first.kill();
    let before = archive.stats();

    server.clear_log();
    let mut args = crawl.to_args();
    args.push("--fresh".into());
    run(&args, Duration::from_secs(120)).assert_success("crawl --fresh");
    // A new pass starts from the seed again.
    assert_eq!(
        server.count(host, "/"),
        1,
        "--fresh should start over from the seed:\n{}",
        server.dump()
    );
    assert_eq!(
        fetched_paths(&server, host).len(),
        PAGES,
        "{}",
        server.dump()
    );
    let after = archive.stats();
    assert!(
        num(&after, "pass") > num(&before, "pass"),
        "--fresh should start a new pass: before {before:#}, after {after:#}"
    );
    archive.assert_verify_clean();
}

#[test]
fn interrupted_crawl_stops_promptly_and_resumes() {
    let host = "slow.test";
    let server = slow_site(host);
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "5/s", "--concurrency", &CONCURRENCY.to_string()])
        .arg(server.url(host, "/"));

    let first = crawl.spawn();
    wait_until(Duration::from_secs(60), "5 page requests", || {
        fetched_paths(&server, host).len() >= 5
    });
    first.signal("INT");
    // Ctrl-C: in-flight work finishes, the process exits cleanly and soon.
    let out = first.wait(Duration::from_secs(20));
    let before: BTreeSet<String> = fetched_paths(&server, host).into_iter().collect();
    assert!(
        before.len() < PAGES,
        "the crawl finished before the interrupt took effect:\n{}",
        server.dump()
    );
    assert!(
        !out.stderr.contains("panicked"),
        "interrupted crawl panicked:\n{}",
        out.stderr
    );
    archive.assert_verify_clean();

    server.clear_log();
    crawl
        .run(Duration::from_secs(120))
        .assert_success("resumed crawl");
    let after: Vec<String> = fetched_paths(&server, host);
    let twice: BTreeSet<&String> = after.iter().filter(|p| before.contains(*p)).collect();
    assert!(
        twice.len() <= CONCURRENCY,
        "{} pages fetched before the interrupt were fetched again: {twice:?}",
        twice.len()
    );
    let all: BTreeSet<&String> = before.iter().chain(after.iter()).collect();
    assert_eq!(
        all.len(),
        PAGES,
        "every page fetched once over the two runs"
    );
    let pages = archive.list();
    let fetched = pages.iter().filter(|p| p["state"] == "fetched").count();
    assert_eq!(fetched, PAGES, "{pages:#?}");
    archive.assert_verify_clean();
}

#[test]
fn killed_revisit_pass_resumes_that_pass() {
    let host = "slow.test";
    let server = slow_site(host);
    let archive = Archive::new();
    let fast = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"));
    fast.run(Duration::from_secs(60))
        .assert_success("first pass");
    let pass_one = num(&archive.stats(), "pass");

    // Second pass, slowly, killed part-way.
    server.clear_log();
    let slow = archive
        .crawl(&server, &[host])
        .args(["--rate", "5/s", "--concurrency", &CONCURRENCY.to_string()])
        .arg(server.url(host, "/"));
    let second = slow.spawn();
    wait_until(Duration::from_secs(60), "5 revisits", || {
        fetched_paths(&server, host).len() >= 5
    });
    second.kill();
    let before: BTreeSet<String> = fetched_paths(&server, host).into_iter().collect();
    assert!(before.len() < PAGES, "the pass finished before the kill");
    archive.assert_verify_clean();

    // Run again: the interrupted pass resumes (not a third pass).
    server.clear_log();
    slow.run(Duration::from_secs(120))
        .assert_success("resumed pass");
    let after: Vec<String> = fetched_paths(&server, host);
    let twice: BTreeSet<&String> = after.iter().filter(|p| before.contains(*p)).collect();
    assert!(
        twice.len() <= CONCURRENCY,
        "{} pages revisited before the kill were revisited again: {twice:?}",
        twice.len()
    );
    let all: BTreeSet<&String> = before.iter().chain(after.iter()).collect();
    assert_eq!(all.len(), PAGES, "every page revisited in the pass");
    let stats = archive.stats();
    assert_eq!(
        num(&stats, "pass"),
        pass_one + 1,
        "the resumed run should finish pass {}, not start another: {stats:#}",
        pass_one + 1
    );
    for p in archive.list() {
        assert_eq!(num(&p, "captures"), 2, "{p:#}");
    }
}

#[test]
fn repeated_kills_never_corrupt_the_archive() {
    let host = "crashy.test";
    let links: Vec<String> = (1..60).map(|i| format!("/n/{i}")).collect();
    let refs: Vec<&str> = links.iter().map(String::as_str).collect();
    let mut site = Site::new().page(host, "/", page("Front", &refs));
    for (i, link) in links.iter().enumerate() {
        site = site.page(host, link, page(&format!("News item {i}"), &["/"]));
    }
    let server = site.serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "20/s", "--concurrency", "8"])
        .arg(server.url(host, "/"));
    for round in 0..5 {
        let seen = server.page_requests().len();
        let mut running = crawl.spawn();
        let start = std::time::Instant::now();
        // Kill at a different point each round: after 1, 2, … new requests.
        while server.page_requests().len() < seen + 1 + round
            && !running.exited()
            && start.elapsed() < Duration::from_secs(30)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        if running.exited() {
            break;
        }
        running.kill();
        archive.assert_verify_clean();
    }
    crawl
        .run(Duration::from_secs(120))
        .assert_success("final run");
    archive.assert_verify_clean();
    let pages = archive.list();
    assert_eq!(pages.len(), 60, "{pages:#?}");
    for p in &pages {
        assert_eq!(p["state"], "fetched", "{p:#}");
        assert!(num(p, "captures") >= 1, "{p:#}");
        assert_eq!(num(p, "versions"), 1, "{p:#}");
    }
    let stats = archive.stats();
    assert_eq!(num(&stats, "queued"), 0, "{stats:#}");
    assert_eq!(
        num(&stats, "pass"),
        1,
        "interrupted runs resume the first pass: {stats:#}"
    );
}

#[test]
fn max_pages_holds_across_a_resumed_pass() {
    let host = "endless.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/e/1", "/e/2", "/e/3"]))
        .route(host, "/e/*", |req| {
            let n: u64 = req.path.trim_start_matches("/e/").parse().unwrap_or(0);
            let links: Vec<String> = (1..=3).map(|k| format!("/e/{}", n * 3 + k)).collect();
            let refs: Vec<&str> = links.iter().map(String::as_str).collect();
            html(page(&format!("Entry {n}"), &refs))
        })
        .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "5/s", "--concurrency", "2", "--depth", "1000"])
        .args(["--max-pages", "12"])
        .arg(server.url(host, "/"));
    let first = crawl.spawn();
    wait_until(Duration::from_secs(60), "5 page requests", || {
        fetched_paths(&server, host).len() >= 5
    });
    first.kill();
    crawl
        .run(Duration::from_secs(120))
        .assert_success("resumed crawl");
    let distinct: BTreeSet<String> = fetched_paths(&server, host).into_iter().collect();
    assert_eq!(
        distinct.len(),
        12,
        "--max-pages 12 over one pass, interrupted once:\n{}",
        server.dump()
    );
    let fetched = archive
        .list()
        .iter()
        .filter(|p| p["state"] == "fetched")
        .count();
    assert_eq!(fetched, 12);
}

#[test]
fn ctrl_c_during_a_long_wait_stops_promptly() {
    // The host asked for 100 s of quiet; an interrupt must not wait them out.
    let host = "waiting.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/later"]))
        .route(host, "/later", |_| {
            with_header(
                status(axum::http::StatusCode::SERVICE_UNAVAILABLE),
                "retry-after",
                "100",
            )
        })
        .serve();
    let archive = Archive::new();
    let mut running = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .spawn();
    wait_until(Duration::from_secs(30), "the 503", || {
        server.count(host, "/later") >= 1
    });
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !running.exited(),
        "the crawl did not wait for Retry-After: 100"
    );
    running.signal("INT");
    let stopped = std::time::Instant::now();
    let out = running.wait(Duration::from_secs(30));
    assert!(
        stopped.elapsed() < Duration::from_secs(10),
        "Ctrl-C took {:?} to stop a crawl waiting on Retry-After:\n{}",
        stopped.elapsed(),
        out.stderr
    );
    archive.assert_verify_clean();
}

#[test]
fn ctrl_c_during_a_crawl_delay_stops_promptly_and_keeps_the_page_queued() {
    let host = "patient.test";
    let server = Site::new()
        .robots(host, "User-agent: *\nCrawl-delay: 10\n")
        .page(host, "/", page("Home", &["/next"]))
        .page(host, "/next", page("Next", &[]))
        .serve();
    let archive = Archive::new();
    let mut running = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .spawn();
    wait_until(Duration::from_secs(60), "the home page", || {
        server.count(host, "/") >= 1
    });
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !running.exited(),
        "the crawl did not wait for Crawl-delay: 30"
    );
    running.signal("INT");
    let stopped = std::time::Instant::now();
    while !running.exited() && stopped.elapsed() < Duration::from_secs(4) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let still_running = !running.exited();
    let out = running.kill();
    assert!(
        !still_running,
        "Ctrl-C did not stop a crawl waiting out Crawl-delay: 10 within 4 s:\n{}\nstderr:\n{}",
        server.dump(),
        out.stderr
    );
    assert_eq!(server.count(host, "/next"), 0, "{}", server.dump());
    archive.assert_verify_clean();
    let entry = archive.entry(&server.url(host, "/next"));
    assert_eq!(
        entry["state"], "queued",
        "the page waiting for its turn stays queued for the next run: {entry:#}"
    );
}
