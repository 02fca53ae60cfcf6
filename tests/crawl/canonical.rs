//! Canonicalization before queueing: fragments, tracking parameters,
//! upper-case hosts and dot-segments never cause a second fetch.

use std::time::Duration;

use crate::support::*;

#[test]
fn tracking_params_and_fragments_never_cause_a_second_fetch() {
    let host = "news.test";
    let port_placeholder = "{PORT}";
    let home_links = [
        "/a?utm_source=x#f",
        "/a",
        "/a#top",
        "/a?fbclid=abc",
        "/./a",
        "/x/../a",
        "/b?gclid=2&utm_medium=y",
        "/b",
        "/b?mc_cid=9#comments",
        "/c?id=7&utm_campaign=z",
        "/c?id=7",
        "/c?utm_term=q&id=7#end",
        "http://NEWS.TEST:{PORT}/a?utm_content=up",
    ];
    let server_links: Vec<String> = home_links.iter().map(|s| s.to_string()).collect();
    // The absolute link needs the port, known once the server runs; serve the
    // home page from a handler that fills it in.
    let server = Site::new()
        .route(host, "/", move |req| {
            let port = req
                .header("host")
                .and_then(|h| h.rsplit_once(':'))
                .map(|(_, p)| p.to_string())
                .unwrap_or_default();
            let links: Vec<String> = server_links
                .iter()
                .map(|l| l.replace(port_placeholder, &port))
                .collect();
            let refs: Vec<&str> = links.iter().map(String::as_str).collect();
            html(page("Home", &refs))
        })
        .page(
            host,
            "/a",
            page(
                "A",
                &["/a?utm_source=loop#again", "/b#x", "/?utm_source=home#top"],
            ),
        )
        .page(host, "/b", page("B", &["/a?gclid=1", "/c?id=7&fbclid=z"]))
        .page(host, "/c", page("C", &["/c?id=7#p2", "/"]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--depth", "5"])
        .arg(server.url(host, "/?utm_source=newsletter#top"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");

    let paths = server.paths(host);
    for path in ["/", "/a", "/b", "/c?id=7"] {
        assert_eq!(
            server.count(host, path),
            1,
            "{path} should be fetched exactly once:\n{}",
            server.dump()
        );
    }
    for path in &paths {
        for tracker in ["utm_", "fbclid", "gclid", "mc_cid", "#"] {
            assert!(
                !path.contains(tracker),
                "requested {path} with a tracking parameter or fragment:\n{}",
                server.dump()
            );
        }
    }
    assert_eq!(
        paths.len(),
        5,
        "robots.txt and four pages, nothing else:\n{}",
        server.dump()
    );

    let pages = archive.list();
    let urls: Vec<&str> = pages.iter().filter_map(|p| p["url"].as_str()).collect();
    let mut unique = urls.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        urls.len(),
        unique.len(),
        "duplicate pages listed: {urls:#?}"
    );
    for path in ["/", "/a", "/b", "/c?id=7"] {
        let url = server.url(host, path);
        assert!(urls.contains(&url.as_str()), "{url} not listed: {urls:#?}");
    }
    assert_eq!(urls.len(), 4, "{urls:#?}");
}

#[test]
fn base_href_and_non_http_links_are_handled() {
    let host = "links.test";
    let server = Site::new()
        .page(
            host,
            "/",
            "<!doctype html><html><head><title>Home</title><base href=\"/section/\"></head><body>\
             <a href=\"story\">relative to base</a>\
             <a href=\"mailto:desk@links.test\">mail</a>\
             <a href=\"javascript:void(0)\">js</a>\
             <a href=\"ftp://links.test/file\">ftp</a>\
             <a href=\"tel:+100\">phone</a>\
             <a href=\"data:text/html,hi\">data</a>\
             </body></html>",
        )
        .page(host, "/section/story", page("Story", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    assert_eq!(
        server.count(host, "/section/story"),
        1,
        "<base href> should apply to relative links:\n{}",
        server.dump()
    );
    assert_eq!(server.count(host, "/"), 1, "{}", server.dump());
    let pages = archive.list();
    for p in &pages {
        let url = p["url"].as_str().unwrap_or_default();
        assert!(url.starts_with("http://"), "non-HTTP link queued: {p:#}");
        assert_ne!(p["state"], "failed", "{p:#}");
    }
    assert_eq!(pages.len(), 2, "{pages:#?}");
}

#[test]
fn duplicate_seeds_are_fetched_once() {
    let host = "dup.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/a"]))
        .page(host, "/a", page("A", &["/"]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .args([
            server.url(host, "/"),
            server.url(host, "/?utm_source=x"),
            server.url(host, "/#top"),
            server.url("DUP.TEST", "/"),
            server.url(host, ""),
        ])
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    assert_eq!(server.count(host, "/"), 1, "{}", server.dump());
    assert_eq!(server.count(host, "/a"), 1, "{}", server.dump());
    assert_eq!(archive.list().len(), 2);
}

#[test]
fn scheme_relative_padded_and_entity_links_resolve() {
    let host = "odd.test";
    let server = Site::new()
        .route(host, "/", |req| {
            let authority = req.header("host").unwrap_or_default().to_string();
            html(format!(
                "<!doctype html><html><head><title>Home</title></head><body>\
                 <a href=\"//{authority}/protocol-relative\">a</a>\
                 <a href=\"  /padded \n\">b</a>\
                 <a href=\"/q?x=1&amp;y=2\">c</a>\
                 <a href=\"/caf%C3%A9\">d</a>\
                 </body></html>"
            ))
        })
        .page(host, "/protocol-relative", page("P", &[]))
        .page(host, "/padded", page("Padded", &[]))
        .page(host, "/q?x=1&y=2", page("Q", &[]))
        .page(host, "/caf%C3%A9", page("Café", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    for path in ["/protocol-relative", "/padded", "/q?x=1&y=2", "/caf%C3%A9"] {
        assert_eq!(server.count(host, path), 1, "{path}:\n{}", server.dump());
    }
    assert_eq!(server.page_requests().len(), 5, "{}", server.dump());
}
