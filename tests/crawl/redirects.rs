//! Redirects are followed hop by hop, at most 10, with loop detection.

use std::time::Duration;

use axum::http::StatusCode;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(90);

#[test]
fn redirect_loop_ends_in_a_recorded_error() {
    let host = "loop.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/a", "/fine"]))
        .route(host, "/a", |_| redirect(StatusCode::FOUND, "/b"))
        .route(host, "/b", |_| {
            redirect(StatusCode::MOVED_PERMANENTLY, "/a")
        })
        .page(host, "/fine", page("Fine", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(DEADLINE)
        .assert_success("crawl");

    let hops = server.count(host, "/a") + server.count(host, "/b");
    assert!(
        hops <= 24,
        "the loop should be detected, not followed {hops} times:\n{}",
        server.dump()
    );
    let entry = archive.entry(&server.url(host, "/a"));
    assert_eq!(entry["state"], "failed", "{entry:#}");
    assert!(
        entry["error"].is_string(),
        "a redirect loop must be recorded as an error: {entry:#}"
    );
    assert_eq!(server.count(host, "/fine"), 1, "the crawl goes on");
}

#[test]
fn redirect_chain_longer_than_ten_ends_in_a_recorded_error() {
    let host = "chain.test";
    let mut site = Site::new().page(host, "/", page("Home", &["/r/0"]));
    for i in 0..20 {
        site = site.route(host, &format!("/r/{i}"), move |_| {
            redirect(StatusCode::FOUND, &format!("/r/{}", i + 1))
        });
    }
    let server = site.page(host, "/r/20", page("End", &[])).serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(DEADLINE)
        .assert_success("crawl");

    // /r/0 plus 10 redirects reaches /r/10; /r/11 would be an 11th redirect.
    let deepest = server
        .paths(host)
        .iter()
        .filter_map(|p| p.strip_prefix("/r/")?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    assert!(
        deepest <= 11,
        "more than 10 redirects were followed (reached /r/{deepest}):\n{}",
        server.dump()
    );
    let entry = archive.entry(&server.url(host, "/r/0"));
    assert_eq!(entry["state"], "failed", "{entry:#}");
    assert!(
        entry["error"].is_string(),
        "too many redirects must be recorded as an error: {entry:#}"
    );
}

#[test]
fn short_redirect_chain_is_followed_to_the_page() {
    let host = "moved.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/old"]))
        .route(host, "/old", |_| {
            redirect(StatusCode::MOVED_PERMANENTLY, "/older")
        })
        .route(host, "/older", |_| redirect(StatusCode::FOUND, "/new"))
        .page(host, "/new", page("New home of the story", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(DEADLINE)
        .assert_success("crawl");

    assert!(server.count(host, "/new") >= 1, "{}", server.dump());
    assert_eq!(server.count(host, "/old"), 1, "{}", server.dump());
    let entry = archive.entry(&server.url(host, "/old"));
    assert_ne!(entry["state"], "failed", "{entry:#}");
    assert!(entry["error"].is_null(), "{entry:#}");
}

#[test]
fn redirect_hops_are_robots_checked() {
    let host = "guarded.test";
    let server = Site::new()
        .robots(host, "User-agent: *\nDisallow: /private/\n")
        .page(host, "/", page("Home", &["/go"]))
        .route(host, "/go", |_| {
            redirect(StatusCode::FOUND, "/private/secret")
        })
        .page(host, "/private/secret", page("Secret", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    assert_eq!(server.count(host, "/go"), 1, "{}", server.dump());
    assert_eq!(
        server.count(host, "/private/secret"),
        0,
        "a redirect led to a disallowed path and it was fetched:\n{}",
        server.dump()
    );
    let entry = archive.entry(&server.url(host, "/go"));
    assert_ne!(entry["state"], "fetched", "{entry:#}");
}

#[test]
fn redirect_to_another_host_reads_that_hosts_robots_first() {
    let from = "old.test";
    let to = "new.test";
    let server = Site::new()
        .page(from, "/", page("Home", &["/moved"]))
        .route(from, "/moved", |req| {
            let port = req.origin().rsplit(':').next().unwrap_or("").to_string();
            redirect(
                StatusCode::MOVED_PERMANENTLY,
                &format!("http://new.test:{port}/story"),
            )
        })
        .robots(to, "User-agent: *\nAllow: /\n")
        .page(to, "/story", page("Moved story", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[from, to])
        .args(["--rate", "50/s"])
        .arg(server.url(from, "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    let paths = server.paths(to);
    assert_eq!(
        paths,
        vec!["/robots.txt".to_string(), "/story".to_string()],
        "the redirect target's host: robots.txt first, then the page:\n{}",
        server.dump()
    );
}

#[test]
fn malformed_redirects_are_recorded_errors() {
    let host = "badloc.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/bad", "/ftp", "/fine"]))
        .route(host, "/bad", |_| {
            redirect(StatusCode::FOUND, "http://[not-an-ip/x")
        })
        .route(host, "/ftp", |_| {
            redirect(StatusCode::FOUND, "ftp://files.test/x")
        })
        .page(host, "/fine", page("Fine", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    for path in ["/bad", "/ftp"] {
        let entry = archive.entry(&server.url(host, path));
        assert_eq!(entry["state"], "failed", "{entry:#}");
        assert!(entry["error"].is_string(), "{entry:#}");
    }
    assert_eq!(server.count(host, "/fine"), 1, "the crawl goes on");
}
