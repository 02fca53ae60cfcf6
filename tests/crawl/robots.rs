//! robots.txt (RFC 9309): read before anything else of a host, its rules
//! obeyed for the `palimpsest` product token; 4xx allows all, 5xx and
//! unreachable disallow all.

use std::time::Duration;

use axum::http::StatusCode;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(90);

#[test]
fn robots_is_fetched_first_and_disallowed_paths_are_never_fetched() {
    let host = "h1.test";
    let server = Site::new()
        .robots(
            host,
            "# The palimpsest group applies; the * group does not.\n\
             User-agent: palimpsest\n\
             Disallow: /private/\n\
             \n\
             User-agent: *\n\
             Disallow: /everyone-else/\n",
        )
        .page(
            host,
            "/",
            page(
                "Home",
                &["/a", "/private/x", "/private/y?z=1", "/everyone-else/b"],
            ),
        )
        .page(host, "/a", page("A", &["/private/from-a"]))
        .page(host, "/private/x", page("Private X", &[]))
        .page(host, "/private/y", page("Private Y", &[]))
        .page(host, "/private/from-a", page("Private from A", &[]))
        .page(host, "/everyone-else/b", page("B", &[]))
        .serve();
    let archive = Archive::new();
    archive.crawl_site(&server, host, "20/s", DEADLINE);

    let paths = server.paths(host);
    assert_eq!(
        paths.first().map(String::as_str),
        Some("/robots.txt"),
        "robots.txt must be the first request of the host:\n{}",
        server.dump()
    );
    assert_eq!(server.count(host, "/robots.txt"), 1, "{}", server.dump());
    assert!(
        !paths.iter().any(|p| p.starts_with("/private/")),
        "a disallowed path was fetched:\n{}",
        server.dump()
    );
    for allowed in ["/", "/a", "/everyone-else/b"] {
        assert_eq!(
            server.count(host, allowed),
            1,
            "{allowed} (allowed for palimpsest) should be fetched once:\n{}",
            server.dump()
        );
    }
    let pages = archive.list();
    for path in ["/private/x", "/private/from-a"] {
        let url = server.url(host, path);
        let entry = find_page(&pages, &url)
            .unwrap_or_else(|| panic!("disallowed {url} should be recorded:\n{pages:#?}"));
        assert_eq!(entry["state"], "disallowed", "{entry:#}");
        assert_eq!(num(entry, "captures"), 0, "{entry:#}");
        assert!(entry["status"].is_null(), "never fetched: {entry:#}");
        assert!(entry["last_captured"].is_null(), "never fetched: {entry:#}");
    }
}

#[test]
fn robots_4xx_allows_all() {
    let server = Site::new()
        .raw(
            "gone.test",
            "/robots.txt",
            StatusCode::NOT_FOUND,
            vec![],
            "",
        )
        .page("gone.test", "/", page("Home", &["/a"]))
        .page("gone.test", "/a", page("A", &[]))
        .raw(
            "forbidden.test",
            "/robots.txt",
            StatusCode::FORBIDDEN,
            vec![],
            "",
        )
        .page("forbidden.test", "/", page("Home", &["/a"]))
        .page("forbidden.test", "/a", page("A", &[]))
        .serve();
    let hosts = ["gone.test", "forbidden.test"];
    let archive = Archive::new();
    archive
        .crawl(&server, &hosts)
        .args(["--rate", "20/s"])
        .args(hosts.iter().map(|h| server.url(h, "/")))
        .run(DEADLINE)
        .assert_success("crawl");

    for host in hosts {
        assert_eq!(
            server.paths(host).first().map(String::as_str),
            Some("/robots.txt"),
            "{}",
            server.dump()
        );
        for path in ["/", "/a"] {
            assert_eq!(
                server.count(host, path),
                1,
                "{host}{path} should be fetched (4xx robots.txt allows all):\n{}",
                server.dump()
            );
            let entry = archive.entry(&server.url(host, path));
            assert_eq!(entry["state"], "fetched", "{entry:#}");
        }
    }
}

#[test]
fn robots_5xx_disallows_all() {
    let host = "broken.test";
    let server = Site::new()
        .raw(
            host,
            "/robots.txt",
            StatusCode::INTERNAL_SERVER_ERROR,
            vec![],
            "oops",
        )
        .page(host, "/", page("Home", &["/a"]))
        .page(host, "/a", page("A", &[]))
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "20/s", "--timeout", "5"])
        .arg(server.url(host, "/"))
        .run(DEADLINE);

    let pages: Vec<_> = server.page_requests();
    assert!(
        pages.is_empty(),
        "with a 5xx robots.txt no page may be fetched:\n{}",
        server.dump()
    );
    assert!(server.count(host, "/robots.txt") >= 1, "{}", server.dump());
    out.assert_exit(1, "crawl");
    let entry = archive.entry(&server.url(host, "/"));
    assert_eq!(entry["state"], "disallowed", "{entry:#}");
    assert_eq!(num(&entry, "captures"), 0, "{entry:#}");
}

#[test]
fn robots_unreachable_disallows_all() {
    // Nothing listens on this port: robots.txt cannot be fetched.
    let port = dead_port();
    let host = "dead.test";
    let url = format!("http://{host}:{port}/");
    let archive = Archive::new();
    let out = run(
        &[
            "crawl",
            "--archive",
            &archive.path(),
            "--no-progress",
            "--allow-private",
            "--rate",
            "20/s",
            "--timeout",
            "3",
            "--resolve",
            &format!("{host}:{port}:127.0.0.1"),
            &url,
        ],
        DEADLINE,
    );
    out.assert_exit(1, "crawl");
    let entry = archive.entry(&url);
    assert_eq!(
        entry["state"], "disallowed",
        "unreachable robots.txt means disallow all: {entry:#}"
    );
}

#[test]
fn oversized_robots_txt_is_capped_and_its_head_still_obeyed() {
    let _serial = exclusive();
    // RFC 9309: a crawler parses at least the first 500 KiB; beyond that it
    // may stop reading. The rules at the head still apply.
    use axum::http::{HeaderValue, header};
    use axum::response::Response;

    let host = "bigrobots.test";
    let server = Site::new()
        .route(host, "/robots.txt", |_| {
            // The rules, then 32 MiB of comment lines, generated lazily.
            let rules = "User-agent: *\nDisallow: /private/\n";
            let filler = "# filler filler filler filler filler filler filler filler\n";
            let body = futures_util::stream::iter(
                std::iter::once(rules.to_string())
                    .chain(std::iter::repeat_n(
                        filler.repeat(1024),
                        32 * 1024 * 1024 / (filler.len() * 1024),
                    ))
                    .map(|s| Ok::<_, std::io::Error>(axum::body::Bytes::from(s))),
            );
            let mut resp = Response::new(axum::body::Body::from_stream(body));
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            resp
        })
        .page(host, "/", page("Home", &["/a", "/private/x"]))
        .page(host, "/a", page("A", &[]))
        .page(host, "/private/x", page("Private", &[]))
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "20/s", "--json"])
        .arg(server.url(host, "/"))
        .run(DEADLINE);
    out.assert_success("crawl");
    assert_eq!(server.count(host, "/private/x"), 0, "{}", server.dump());
    assert_eq!(server.count(host, "/a"), 1, "{}", server.dump());
    let rss = num(&out.summary(), "peak_rss_bytes");
    assert!(rss < 300 * 1024 * 1024, "peak RSS {rss} bytes");
}

#[test]
fn robots_txt_behind_a_redirect_is_followed() {
    // RFC 9309 §2.3.1.2: follow at least five redirects to robots.txt.
    let host = "moved-robots.test";
    let server = Site::new()
        .route(host, "/robots.txt", |_| {
            redirect(StatusCode::MOVED_PERMANENTLY, "/meta/robots.txt")
        })
        .file(
            host,
            "/meta/robots.txt",
            "text/plain",
            "User-agent: *\nDisallow: /private/\n",
        )
        .page(host, "/", page("Home", &["/a", "/private/x"]))
        .page(host, "/a", page("A", &[]))
        .page(host, "/private/x", page("Private", &[]))
        .serve();
    let archive = Archive::new();
    archive.crawl_site(&server, host, "50/s", DEADLINE);
    assert!(
        server.count(host, "/meta/robots.txt") >= 1,
        "the robots.txt redirect was not followed:\n{}",
        server.dump()
    );
    assert_eq!(
        server.count(host, "/private/x"),
        0,
        "rules behind a robots.txt redirect were ignored:\n{}",
        server.dump()
    );
    assert_eq!(server.count(host, "/a"), 1, "{}", server.dump());
}

#[test]
fn robots_wildcards_and_end_anchors_are_matched() {
    let host = "patterns.test";
    let server = Site::new()
        .robots(
            host,
            "User-agent: *\nDisallow: /*?print=\nDisallow: /*.pdf$\nAllow: /private/open$\nDisallow: /private/\n",
        )
        .page(
            host,
            "/",
            page(
                "Home",
                &[
                    "/story",
                    "/story?print=1",
                    "/files/report.pdf",
                    "/files/report.pdf.html",
                    "/private/open",
                    "/private/closed",
                ],
            ),
        )
        .page(host, "/story", page("Story", &[]))
        .page(host, "/files/report.pdf.html", page("Report page", &[]))
        .page(host, "/private/open", page("Open", &[]))
        .serve();
    let archive = Archive::new();
    archive.crawl_site(&server, host, "50/s", DEADLINE);
    for (path, expected) in [
        ("/story", 1),
        ("/story?print=1", 0),
        ("/files/report.pdf", 0),
        ("/files/report.pdf.html", 1),
        ("/private/open", 1),
        ("/private/closed", 0),
    ] {
        assert_eq!(
            server.count(host, path),
            expected,
            "{path}:\n{}",
            server.dump()
        );
    }
}

#[test]
fn a_5xx_robots_txt_is_retried_by_the_next_crawl() {
    // "5xx means disallow all *for now*": a failure is not cached like
    // rules are. Once robots.txt recovers, the next run crawls the host.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let host = "recovering.test";
    let broken = Arc::new(AtomicBool::new(true));
    let broken_in = broken.clone();
    let server = Site::new()
        .route(host, "/robots.txt", move |_| {
            if broken_in.load(Ordering::SeqCst) {
                status(StatusCode::INTERNAL_SERVER_ERROR)
            } else {
                with_header(
                    html("User-agent: *\nAllow: /\n"),
                    "content-type",
                    "text/plain",
                )
            }
        })
        .page(host, "/", page("Home", &["/a"]))
        .page(host, "/a", page("A", &[]))
        .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--timeout", "5"])
        .arg(server.url(host, "/"));
    crawl.run(DEADLINE).assert_exit(1, "first crawl");
    assert!(server.page_requests().is_empty(), "{}", server.dump());

    broken.store(false, Ordering::SeqCst);
    crawl.run(DEADLINE).assert_success("second crawl");
    assert_eq!(
        server.count(host, "/"),
        1,
        "robots.txt recovered, but the next crawl still treated the host as disallowed:\n{}",
        server.dump()
    );
    assert_eq!(server.count(host, "/a"), 1, "{}", server.dump());
    let entry = archive.entry(&server.url(host, "/"));
    assert_eq!(entry["state"], "fetched", "{entry:#}");
}

#[test]
fn a_robots_txt_that_never_answers_times_out_and_disallows() {
    let host = "silent.test";
    let server = Site::new()
        .route(host, "/robots.txt", |_| {
            delayed(
                with_header(
                    html("User-agent: *\nAllow: /\n"),
                    "content-type",
                    "text/plain",
                ),
                Duration::from_secs(60),
            )
        })
        .page(host, "/", page("Home", &[]))
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--timeout", "2"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(50));
    out.assert_exit(1, "crawl");
    assert!(
        out.elapsed < Duration::from_secs(30),
        "a silent robots.txt held the crawl for {:?} with --timeout 2",
        out.elapsed
    );
    assert!(server.page_requests().is_empty(), "{}", server.dump());
    let entry = archive.entry(&server.url(host, "/"));
    assert_eq!(entry["state"], "disallowed", "{entry:#}");
}

#[test]
fn robots_txt_with_bom_crlf_and_upper_case_agent_is_understood() {
    let host = "windows.test";
    let mut body = b"\xef\xbb\xbf".to_vec();
    body.extend_from_slice(
        b"User-Agent: PALIMPSEST\r\nDisallow: /private/\r\n\r\nUser-agent: *\r\nDisallow: /\r\n",
    );
    let server = Site::new()
        .file(host, "/robots.txt", "text/plain", body)
        .page(host, "/", page("Home", &["/a", "/private/x"]))
        .page(host, "/a", page("A", &[]))
        .page(host, "/private/x", page("Private", &[]))
        .serve();
    let archive = Archive::new();
    archive.crawl_site(&server, host, "50/s", DEADLINE);
    assert_eq!(server.count(host, "/"), 1, "{}", server.dump());
    assert_eq!(server.count(host, "/a"), 1, "{}", server.dump());
    assert_eq!(server.count(host, "/private/x"), 0, "{}", server.dump());
}
