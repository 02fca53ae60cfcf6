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
    archive.crawl_site_with_errors(&server, host, "50/s", DEADLINE);

    let hops = server.count(host, "/a") + server.count(host, "/b");
    assert!(
        hops <= 4,
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
    archive.crawl_site_with_errors(&server, host, "50/s", DEADLINE);

    // /r/0 plus 10 redirects reaches /r/10; /r/11 would be an 11th redirect.
    let deepest = server
        .paths(host)
        .iter()
        .filter_map(|p| p.strip_prefix("/r/")?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    assert!(
        deepest <= 10,
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
    archive.crawl_site(&server, host, "50/s", DEADLINE);

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
    archive.crawl_site(&server, host, "50/s", DEADLINE);
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
    archive.crawl_site_with_errors(&server, host, "50/s", DEADLINE);
    for path in ["/bad", "/ftp"] {
        let entry = archive.entry(&server.url(host, path));
        assert_eq!(entry["state"], "failed", "{entry:#}");
        assert!(entry["error"].is_string(), "{entry:#}");
    }
    assert_eq!(server.count(host, "/fine"), 1, "the crawl goes on");
}

#[test]
fn a_chain_of_exactly_ten_redirects_is_followed() {
    let host = "ten.test";
    let mut site = Site::new().page(host, "/", page("Home", &["/q/0"]));
    for i in 0..10 {
        site = site.route(host, &format!("/q/{i}"), move |_| {
            redirect(StatusCode::FOUND, &format!("/q/{}", i + 1))
        });
    }
    let server = site.page(host, "/q/10", page("Tenth", &[])).serve();
    let archive = Archive::new();
    archive.crawl_site(&server, host, "50/s", DEADLINE);
    assert!(
        server.count(host, "/q/10") >= 1,
        "10 redirects are allowed:\n{}",
        server.dump()
    );
    let entry = archive.entry(&server.url(host, "/q/0"));
    assert_ne!(entry["state"], "failed", "{entry:#}");
    assert!(entry["error"].is_null(), "{entry:#}");
}

#[test]
fn relative_links_resolve_against_the_final_url_after_a_redirect() {
    // `/section` → `/section/` is the most common redirect there is; the
    // page's relative links are relative to where it ended up.
    let host = "slash.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/section"]))
        .route(host, "/section", |_| {
            redirect(StatusCode::MOVED_PERMANENTLY, "/section/")
        })
        .page(host, "/section/", page("Section", &["story", "./other"]))
        .page(host, "/section/story", page("Story", &[]))
        .page(host, "/section/other", page("Other", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--depth", "3"])
        .arg(server.url(host, "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    for path in ["/section/story", "/section/other"] {
        assert_eq!(
            server.count(host, path),
            1,
            "{path}: relative links must resolve against the redirect target:\n{}",
            server.dump()
        );
    }
    assert_eq!(server.count(host, "/story"), 0, "{}", server.dump());
    assert_eq!(server.count(host, "/other"), 0, "{}", server.dump());
}

/// A paper that moved: its old domain answers `/` with a redirect to the
/// new one, where the front page links to a story (which links on), to a
/// page of the old domain, and off-site.
fn moved_paper() -> Server {
    let (old, new, elsewhere) = ("paper.test", "paper-news.test", "other.test");
    Site::new()
        .route(old, "/", |req| {
            let port = req.origin().rsplit(':').next().unwrap_or("").to_string();
            redirect(
                StatusCode::MOVED_PERMANENTLY,
                &format!("http://paper-news.test:{port}/"),
            )
        })
        .page(old, "/archive", page("Old archive", &[]))
        .route(new, "/", |req| {
            let port = req.origin().rsplit(':').next().unwrap_or("").to_string();
            html(page(
                "Front page",
                &[
                    "/story",
                    &format!("http://paper.test:{port}/archive"),
                    &format!("http://other.test:{port}/"),
                ],
            ))
        })
        .page(new, "/story", page("Story", &["/more"]))
        .page(new, "/more", page("More", &[]))
        .page(elsewhere, "/", page("Another site", &[]))
        .serve()
}

#[test]
fn a_seed_that_moved_to_another_domain_is_crawled_where_it_lives() {
    let (old, new, elsewhere) = ("paper.test", "paper-news.test", "other.test");
    let server = moved_paper();
    let archive = Archive::new();
    archive
        .crawl(&server, &[old, new, elsewhere])
        .args(["--rate", "50/s", "--depth", "3"])
        .arg(server.url(old, "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    for (host, path) in [(new, "/story"), (new, "/more"), (old, "/archive")] {
        assert_eq!(
            server.count(host, path),
            1,
            "{host}{path} is the seed's site:\n{}",
            server.dump()
        );
    }
    assert_eq!(
        server.count(elsewhere, "/"),
        0,
        "another site is still out of scope:\n{}",
        server.dump()
    );
}

#[test]
fn a_resumed_crawl_remembers_where_its_seed_moved() {
    let (old, new, elsewhere) = ("paper.test", "paper-news.test", "other.test");
    let server = moved_paper();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[old, new, elsewhere])
        .args(["--rate", "1/s", "--depth", "3"])
        .arg(server.url(old, "/"));
    // Killed after the new front page is written, before the story (the
    // host's next turn comes a second after the front page).
    let first = crawl.spawn();
    wait_until(DEADLINE, "the new front page", || {
        server.count(new, "/") >= 1
    });
    std::thread::sleep(Duration::from_millis(600));
    first.kill();
    assert_eq!(
        server.count(new, "/story"),
        0,
        "the story came before the kill:\n{}",
        server.dump()
    );
    // The resumed run does not fetch the seed again, so only the archive
    // can tell it that the story's links are the seed's site.
    crawl.run(DEADLINE).assert_success("resumed crawl");
    assert_eq!(server.count(old, "/"), 1, "{}", server.dump());
    assert_eq!(server.count(new, "/more"), 1, "{}", server.dump());
}
