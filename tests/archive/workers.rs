//! Several `palimpsest crawl` processes on one PostgreSQL archive: each
//! host is crawled by one process at a time (a lease), at its rate as the
//! server measures it; every page is fetched once a pass across all of
//! them; a process killed mid-crawl leaves its hosts to the others at
//! once, one that stalls once its leases run out (and then sends nothing
//! more), and nothing is lost.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::serve::Served;
use crate::support::{
    Archive, Req, Running, Server, Site, exclusive, gaps, html, page, wait_until,
};

use super::damage::{self, DEADLINE};

/// Requests per second each host allows (`--rate`).
const RATE: f64 = 5.0;

/// Hosts `w0.test`, `w1.test`, …
fn hosts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("w{i}.test")).collect()
}

/// `n` hosts of `stories` stories each, linked from their front page;
/// each story cites the same story of the next host as its source, so
/// links cross hosts (and processes) as well as staying on them.
fn sites(names: &[String], stories: usize) -> Server {
    let mut site = Site::new();
    for (i, name) in names.iter().enumerate() {
        let links: Vec<String> = (1..=stories).map(|j| format!("/p/{j}")).collect();
        let refs: Vec<&str> = links.iter().map(String::as_str).collect();
        site = site.page(name, "/", page(&format!("{name} home"), &refs));
        let next = names[(i + 1) % names.len()].clone();
        let title = name.clone();
        site = site.route(name, "/p/*", move |req: &Req| {
            let port = req.origin().rsplit(':').next().unwrap_or("").to_string();
            html(format!(
                "<!doctype html><html lang=\"en\"><head><title>{title} {path}</title></head>\
                 <body><article><h1>{title} {path}</h1>\
                 <p>The first paragraph of the story says what happened in the harbour \
                 yesterday, and who was there to see the storm come in.</p>\
                 <p>The second paragraph gives the context of the event and its meaning \
                 for the readers of this newspaper and the city.</p>\
                 <p>Source: <a href=\"http://{next}:{port}{path}\">the next paper</a></p>\
                 </article></body></html>",
                path = req.path
            ))
        });
    }
    site.serve()
}

/// A crawl of every host, one of several sharing `archive`.
fn worker(archive: &Archive, server: &Server, names: &[&str], extra: &[&str]) -> Running {
    archive
        .crawl(server, names)
        .args([
            "--rate",
            "5/s",
            "--concurrency",
            "2",
            "--depth",
            "2",
            "--json",
        ])
        .args(extra.iter().copied())
        .args(names.iter().map(|h| server.url(h, "/")))
        .spawn()
}

/// A first crawl of every host, once it is fetching.
fn fetching(archive: &Archive, server: &Server, names: &[&str], extra: &[&str]) -> Running {
    let first = worker(archive, server, names, extra);
    wait_until(Duration::from_secs(60), "the first crawl fetches", || {
        server.page_requests().len() >= 4
    });
    first
}

/// Page requests (not robots.txt) per path, for `host`.
fn fetches(server: &Server, host: &str) -> HashMap<String, usize> {
    let mut count = HashMap::new();
    for req in server.requests_for(host) {
        if !req.is_robots() {
            *count.entry(req.path).or_default() += 1;
        }
    }
    count
}

/// Fails if two requests to one host came closer than `--rate 5/s` allows
/// (with a fifth of slack for the server's own timing).
fn assert_rate_held(server: &Server, host: &str) {
    let reqs = server.requests_for(host);
    let times: Vec<Instant> = reqs.iter().map(|r| r.at).collect();
    let min_gap = (1.0 / RATE) * 0.8;
    for (i, gap) in gaps(&times).into_iter().enumerate() {
        assert!(
            gap >= min_gap,
            "{host}: requests {} ({}) and {} ({}) only {gap:.3}s apart with several crawls; \
             --rate 5/s allows one every 0.2s:\n{}",
            i,
            reqs[i].path,
            i + 1,
            reqs[i + 1].path,
            server.dump()
        );
    }
}

/// Pages `list` shows fetched.
fn fetched(archive: &Archive) -> usize {
    archive
        .list_with(&["--all-pages"])
        .iter()
        .filter(|p| p["state"] == "fetched")
        .count()
}

#[test]
fn three_crawls_share_a_postgres_archive_each_page_once_each_host_at_its_rate() {
    let _serial = exclusive();
    let Some(archive) = Archive::postgres("three crawling processes") else {
        return;
    };
    const STORIES: usize = 7;
    let names = hosts(6);
    let server = sites(&names, STORIES);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let workers: Vec<Running> = (0..3)
        .map(|_| worker(&archive, &server, &names, &[]))
        .collect();

    // Readers read alongside the three writers.
    wait_until(Duration::from_secs(60), "the crawls store pages", || {
        server.page_requests().len() >= 6
    });
    let served = Served::start(&archive);
    let (status, _, body) = served.get("/?all=1");
    assert_eq!(status, 200, "{body}");

    let outputs: Vec<_> = workers.into_iter().map(|w| w.wait(DEADLINE)).collect();
    for (i, out) in outputs.iter().enumerate() {
        out.assert_success(&format!("crawl {i} of 3"));
    }
    let pages_each: Vec<u64> = outputs
        .iter()
        .map(|o| o.summary()["pages_fetched"].as_u64().unwrap_or(0))
        .collect();
    assert!(
        pages_each.iter().filter(|&&p| p > 0).count() >= 2,
        "the work was not shared: pages fetched by each process {pages_each:?}"
    );
    // One started the pass; the others joined it, and say so.
    let joined = outputs.iter().filter(|o| o.summary()["joined"] == true);
    assert_eq!(
        joined.count(),
        2,
        "{:?}",
        outputs.iter().map(|o| &o.stderr).collect::<Vec<_>>()
    );
    for host in &names {
        let fetched = fetches(&server, host);
        assert_eq!(
            fetched.len(),
            STORIES + 1,
            "{host}: every page should be fetched:\n{}",
            server.dump()
        );
        let twice: Vec<_> = fetched.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            twice.is_empty(),
            "{host}: pages fetched more than once in one pass by the three crawls: {twice:?}\n{}",
            server.dump()
        );
        assert_rate_held(&server, host);
    }
    assert_eq!(fetched(&archive), names.len() * (STORIES + 1));
    // A citation crosses hosts, so (often) processes: it is kept.
    let citing = server.url(names[0], "/p/3");
    let chain = damage::palimpsest(Path::new(&archive.path()), &["sources", &citing, "--json"]);
    chain.assert_success("sources");
    assert!(
        chain.stdout.contains(&server.url(names[1], "/p/3")),
        "{}",
        chain.stdout
    );
    archive.assert_verify_clean();
}

#[test]
fn a_crawl_killed_mid_pass_leaves_its_hosts_to_the_others() {
    let _serial = exclusive();
    let Some(archive) = Archive::postgres("a killed crawling process") else {
        return;
    };
    const STORIES: usize = 19;
    let names = hosts(6);
    let server = sites(&names, STORIES);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let lease = ["--lease", "5s"];
    let doomed = fetching(&archive, &server, &names, &lease);
    let others: Vec<Running> = (0..2)
        .map(|_| worker(&archive, &server, &names, &lease))
        .collect();
    wait_until(Duration::from_secs(60), "the crawls are under way", || {
        server.page_requests().len() >= 30
    });
    let killed_at = Instant::now();
    doomed.kill();

    for (i, out) in others.into_iter().map(|w| w.wait(DEADLINE)).enumerate() {
        out.assert_success(&format!("surviving crawl {i}"));
    }
    let total = names.len() * (STORIES + 1);
    let mut again = 0;
    for host in &names {
        let fetched = fetches(&server, host);
        assert_eq!(
            fetched.len(),
            STORIES + 1,
            "{host}: a page was lost with the killed crawl:\n{}",
            server.dump()
        );
        again += fetched.values().map(|n| n - 1).sum::<usize>();
        assert_rate_held(&server, host);
    }
    // Only what the killed process had in flight is fetched again: its
    // two hosts, a page or two each.
    assert!(
        again <= 6,
        "{again} pages fetched again after the kill:\n{}",
        server.dump()
    );
    // Killed, it is disconnected at once: its hosts need not wait for its
    // leases to run out.
    assert!(
        killed_at.elapsed() < Duration::from_secs(60),
        "the others took {:?} to finish",
        killed_at.elapsed()
    );
    assert_eq!(fetched(&archive), total);
    archive.assert_verify_clean();
}

#[test]
fn a_shared_crawl_copied_to_a_directory_goes_on_without_reusing_ids() {
    let Some(database) = Archive::postgres("ids reserved by crawling processes") else {
        return;
    };
    const STORIES: usize = 3;
    let names = hosts(3);
    let server = sites(&names, STORIES);
    let first: Vec<&str> = names[..2].iter().map(String::as_str).collect();
    // Crawling processes reserve ids in blocks, beside the records.
    worker(&database, &server, &first, &["--source-hops", "0"])
        .wait(DEADLINE)
        .assert_success("crawl into PostgreSQL");
    let crawled = fetched(&database);
    assert!(crawled >= 2 * (STORIES + 1), "{crawled}");

    let directory = Archive::directory();
    damage::palimpsest(
        Path::new("unused"),
        &[
            "copy",
            "--from",
            &database.path(),
            "--to",
            &directory.path(),
        ],
    )
    .assert_success("copy");
    // A crawl of the copy gives new pages new ids: nothing copied is
    // written over.
    let third = [names[2].as_str()];
    directory
        .crawl(&server, &third)
        .args(["--rate", "50/s", "--depth", "1", "--source-hops", "0"])
        .arg(server.url(&names[2], "/"))
        .run(DEADLINE)
        .assert_success("crawl into the copy");
    assert_eq!(fetched(&directory), crawled + STORIES + 1);
    directory.assert_verify_clean();
}

#[test]
fn a_crawl_stalled_past_its_lease_loses_its_hosts_and_sends_nothing_more() {
    let _serial = exclusive();
    let Some(archive) = Archive::postgres("a stalled crawling process") else {
        return;
    };
    const STORIES: usize = 19;
    let names = hosts(4);
    let server = sites(&names, STORIES);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let lease = ["--lease", "3s"];
    let stalled = fetching(&archive, &server, &names, &lease);
    let other = worker(&archive, &server, &names, &lease);
    wait_until(Duration::from_secs(60), "both crawls are under way", || {
        server.page_requests().len() >= 16
    });
    // Suspended, it keeps its connection (the server cannot tell it from
    // a slow one): its hosts wait for its leases to run out.
    stalled.signal("STOP");
    other
        .wait(DEADLINE)
        .assert_success("the crawl that took the stalled one's hosts over");
    let requests = server.requests().len();

    // Woken, it finds its hosts taken: it stops, sending nothing and
    // writing nothing more.
    stalled.signal("CONT");
    let out = stalled.wait(DEADLINE);
    assert!(!out.success(), "the stalled crawl went on");
    assert!(out.stderr.contains("lost the lease"), "{}", out.stderr);
    assert_eq!(
        server.requests().len(),
        requests,
        "the stalled crawl sent requests after waking:\n{}",
        server.dump()
    );
    for host in &names {
        assert_eq!(
            fetches(&server, host).len(),
            STORIES + 1,
            "{}",
            server.dump()
        );
        assert_rate_held(&server, host);
    }
    assert_eq!(fetched(&archive), names.len() * (STORIES + 1));
    archive.assert_verify_clean();
}

#[test]
fn a_page_limit_holds_across_crawling_processes() {
    let Some(archive) = Archive::postgres("a page limit for three crawls") else {
        return;
    };
    let names = hosts(6);
    let server = sites(&names, 7);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let limit = ["--max-pages", "10"];
    let workers: Vec<Running> = (0..3)
        .map(|_| worker(&archive, &server, &names, &limit))
        .collect();
    let fetched_each: Vec<u64> = workers
        .into_iter()
        .map(|w| {
            let out = w.wait(DEADLINE);
            out.assert_success("a crawl with --max-pages 10");
            out.summary()["pages_fetched"].as_u64().unwrap_or(0)
        })
        .collect();
    assert_eq!(
        fetched_each.iter().sum::<u64>(),
        10,
        "--max-pages 10 over three crawls: {fetched_each:?}\n{}",
        server.dump()
    );
    assert_eq!(server.page_requests().len(), 10, "{}", server.dump());
    assert_eq!(fetched(&archive), 10);
}
