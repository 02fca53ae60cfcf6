//! Scope: the seed's host, include/exclude patterns and per-seed depth from
//! seed files, off-site links left alone, source links followed off-site up
//! to `source_hops`; and the User-Agent the crawler identifies itself with.

use std::time::Duration;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(60);

#[test]
fn links_to_other_hosts_are_not_followed_but_source_links_are() {
    let news = "news.test";
    let origin = "origin.test";
    let elsewhere = "elsewhere.test";
    let server = Site::new()
        .route(news, "/", |req| {
            let port = req.origin().rsplit(':').next().unwrap_or("").to_string();
            html(page(
                "Front",
                &["/story", &format!("http://elsewhere.test:{port}/ad")],
            ))
        })
        .route(news, "/story", |req| {
            let port = req.origin().rsplit(':').next().unwrap_or("").to_string();
            html(format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <title>Translated story</title>\
                 <meta property=\"og:type\" content=\"article\"></head><body>\
                 <article><h1>Translated story</h1>\
                 <p>The first paragraph of the translated story says what happened in the \
                 city yesterday, and who was there to see it.</p>\
                 <p>The second paragraph gives the context of the event and its meaning for \
                 the readers of this newspaper.</p>\
                 <p>The third paragraph quotes an official at length about the decision and \
                 what will follow from it next week.</p>\
                 <p>Source: <a href=\"http://origin.test:{port}/original\">Origin Daily</a></p>\
                 <p>Also see <a href=\"http://elsewhere.test:{port}/other\">another site</a>.</p>\
                 </article></body></html>"
            ))
        })
        .page(
            origin,
            "/original",
            page("The original story", &["/", "/more"]),
        )
        .page(origin, "/", page("Origin home", &[]))
        .page(origin, "/more", page("Origin more", &[]))
        .page(elsewhere, "/ad", page("Ad", &[]))
        .page(elsewhere, "/other", page("Other", &[]))
        .serve();
    let hosts = [news, origin, elsewhere];
    let archive = Archive::new();
    archive
        .crawl(&server, &hosts)
        .args(["--rate", "50/s", "--depth", "3"])
        .arg(server.url(news, "/"))
        .run(DEADLINE)
        .assert_success("crawl");

    assert_eq!(server.count(news, "/story"), 1, "{}", server.dump());
    let off_site: Vec<String> = server
        .requests_for(elsewhere)
        .into_iter()
        .filter(|r| !r.is_robots())
        .map(|r| r.path)
        .collect();
    assert!(
        off_site.is_empty(),
        "plain off-site links were followed: {off_site:?}\n{}",
        server.dump()
    );
    assert_eq!(
        server.count(origin, "/original"),
        1,
        "the cited source (\"Source:\" line) should be archived:\n{}",
        server.dump()
    );
    for path in ["/", "/more"] {
        assert_eq!(
            server.count(origin, path),
            0,
            "the source is archived, not the site around it ({origin}{path} fetched):\n{}",
            server.dump()
        );
    }
    assert_eq!(
        server.paths(origin).first().map(String::as_str),
        Some("/robots.txt"),
        "the source's host robots.txt comes first:\n{}",
        server.dump()
    );
}

#[test]
fn source_hops_zero_leaves_sources_alone() {
    let news = "news.test";
    let origin = "origin.test";
    let server = Site::new()
        .route(news, "/", |req| {
            let port = req.origin().rsplit(':').next().unwrap_or("").to_string();
            html(format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <title>Story</title></head><body><article><h1>Story</h1>\
                 <p>A paragraph long enough to be the body of a story about what happened \
                 yesterday in the city, told at some length.</p>\
                 <p>Another paragraph with the context of the story and the quotes of the \
                 people who were there.</p>\
                 <p>Source: <a href=\"http://origin.test:{port}/original\">Origin</a></p>\
                 </article></body></html>"
            ))
        })
        .page(origin, "/original", page("Original", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[news, origin])
        .args(["--rate", "50/s", "--source-hops", "0"])
        .arg(server.url(news, "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    assert!(
        server.requests_for(origin).is_empty(),
        "--source-hops 0 should not follow source links:\n{}",
        server.dump()
    );
}

#[test]
fn toml_seed_file_include_exclude_and_depth_are_obeyed() {
    let host = "world.test";
    let server = Site::new()
        .page(
            host,
            "/world/",
            page(
                "World",
                &["/world/a", "/world/sport/b", "/business/c", "/world/deep/1"],
            ),
        )
        .page(host, "/world/a", page("World A", &[]))
        .page(host, "/world/sport/b", page("Sport B", &[]))
        .page(host, "/business/c", page("Business C", &[]))
        .page(host, "/world/deep/1", page("Deep 1", &["/world/deep/2"]))
        .page(host, "/world/deep/2", page("Deep 2", &["/world/deep/3"]))
        .page(host, "/world/deep/3", page("Deep 3", &[]))
        .serve();
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("world.toml");
    std::fs::write(
        &seeds,
        format!(
            "# A comment, as in the examples.\n\
             [crawl]\n\
             rate = \"50/s\"\n\
             depth = 1\n\
             \n\
             [[seed]]\n\
             url = \"{}\"\n\
             include = [\"^/world/\"]\n\
             exclude = [\"^/world/sport/\"]\n\
             depth = 2\n",
            server.url(host, "/world/")
        ),
    )
    .unwrap();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .arg("--seeds")
        .arg(seeds.display().to_string())
        .run(DEADLINE)
        .assert_success("crawl --seeds");

    for (path, expected) in [
        ("/world/", 1),
        ("/world/a", 1),
        ("/world/deep/1", 1),
        ("/world/deep/2", 1),  // depth 2 (the seed's own depth beats [crawl])
        ("/world/deep/3", 0),  // depth 3
        ("/world/sport/b", 0), // excluded
        ("/business/c", 0),    // not included
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
fn text_seed_file_crawls_every_url_and_skips_comments() {
    let server = Site::new()
        .page("a.test", "/", page("A", &[]))
        .page("b.test", "/start", page("B", &[]))
        .serve();
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("urls.txt");
    std::fs::write(
        &seeds,
        format!(
            "# seeds, one a line\n{}\n\n   # indented comment\n{}\n",
            server.url("a.test", "/"),
            server.url("b.test", "/start")
        ),
    )
    .unwrap();
    let archive = Archive::new();
    archive
        .crawl(&server, &["a.test", "b.test"])
        .args(["--rate", "50/s", "--seeds"])
        .arg(seeds.display().to_string())
        .run(DEADLINE)
        .assert_success("crawl --seeds urls.txt");
    assert_eq!(server.count("a.test", "/"), 1, "{}", server.dump());
    assert_eq!(server.count("b.test", "/start"), 1, "{}", server.dump());
}

#[test]
fn default_user_agent_names_palimpsest_and_a_contact_url() {
    let host = "ua.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/a"]))
        .page(host, "/a", page("A", &[]))
        .serve();
    let archive = Archive::new();
    archive.crawl_site(&server, host, "50/s", DEADLINE);
    let version = env!("CARGO_PKG_VERSION");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3, "{}", server.dump());
    for req in reqs {
        let ua = req.header("user-agent").unwrap_or_default();
        assert!(
            ua.starts_with(&format!("palimpsest/{version} (+http")) && ua.ends_with(')'),
            "{}: User-Agent {ua:?} is not `palimpsest/{version} (+<contact URL>)`",
            req.path
        );
    }
}

#[test]
fn custom_user_agent_is_sent() {
    let host = "ua.test";
    let server = Site::new().page(host, "/", page("Home", &[])).serve();
    let archive = Archive::new();
    let ua = "palimpsest-test/9.9 (+https://example.org/contact)";
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--user-agent", ua])
        .arg(server.url(host, "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    let reqs = server.requests();
    assert!(!reqs.is_empty());
    for req in reqs {
        assert_eq!(req.header("user-agent"), Some(ua), "{}", req.path);
    }
}

#[test]
fn command_line_flags_override_the_seed_files_crawl_table() {
    let host = "override.test";
    let links: Vec<String> = (1..6).map(|i| format!("/p/{i}")).collect();
    let refs: Vec<&str> = links.iter().map(String::as_str).collect();
    let mut site = Site::new().page(host, "/", page("Home", &refs));
    for link in &links {
        site = site.page(host, link, page(link, &["/deeper"]));
    }
    let server = site.page(host, "/deeper", page("Deeper", &[])).serve();
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("slow.toml");
    std::fs::write(
        &seeds,
        format!(
            "[crawl]\nrate = \"1/m\"\ndepth = 5\n\n[[seed]]\nurl = \"{}\"\n",
            server.url(host, "/")
        ),
    )
    .unwrap();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--depth", "1", "--seeds"])
        .arg(seeds.display().to_string())
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    assert_eq!(
        server.page_requests().len(),
        6,
        "--depth 1 beats the file's depth = 5:\n{}",
        server.dump()
    );
    let times: Vec<std::time::Instant> = server.requests().iter().map(|r| r.at).collect();
    let span = (*times.last().unwrap() - times[0]).as_secs_f64();
    assert!(
        span < 5.0,
        "--rate 50/s should beat the file's rate = \"1/m\"; 7 requests took {span:.1}s"
    );
}

#[test]
fn default_depth_is_two_hops() {
    let host = "chain.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/1"]))
        .page(host, "/1", page("One", &["/2"]))
        .page(host, "/2", page("Two", &["/3"]))
        .page(host, "/3", page("Three", &[]))
        .serve();
    let archive = Archive::new();
    archive.crawl_site(&server, host, "50/s", DEADLINE);
    assert_eq!(server.count(host, "/2"), 1, "{}", server.dump());
    assert_eq!(
        server.count(host, "/3"),
        0,
        "/3 is 3 hops away; the default depth is 2:\n{}",
        server.dump()
    );
}

#[test]
fn depth_zero_fetches_only_the_seeds() {
    let host = "zero.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/1"]))
        .page(host, "/1", page("One", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--depth", "0"])
        .arg(server.url(host, "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    assert_eq!(server.count(host, "/"), 1, "{}", server.dump());
    assert_eq!(server.count(host, "/1"), 0, "{}", server.dump());
}

#[test]
fn a_seed_that_redirects_to_www_is_crawled_on_www() {
    // `http://paper.test/` → `http://www.paper.test/` is how most news sites
    // answer their bare domain: the crawl must go on at the destination.
    let apex = "paper.test";
    let www = "www.paper.test";
    let server = Site::new()
        .route(apex, "/", |req| {
            let port = req
                .origin()
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_string();
            redirect(
                axum::http::StatusCode::MOVED_PERMANENTLY,
                &format!("http://www.paper.test:{port}/"),
            )
        })
        .page(www, "/", page("Front", &["/news/1", "/news/2"]))
        .page(www, "/news/1", page("News one", &[]))
        .page(www, "/news/2", page("News two", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[apex, www])
        .args(["--rate", "50/s"])
        .arg(server.url(apex, "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    for path in ["/news/1", "/news/2"] {
        assert_eq!(
            server.count(www, path),
            1,
            "the seed redirected to {www}; its links are the site to crawl:\n{}",
            server.dump()
        );
    }
}

#[test]
fn several_seed_files_and_urls_combine() {
    let server = Site::new()
        .page("t.test", "/", page("From TOML", &[]))
        .page("x.test", "/", page("From text", &[]))
        .page("u.test", "/", page("From argument", &[]))
        .serve();
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("one.toml");
    std::fs::write(
        &toml,
        format!("[[seed]]\nurl = \"{}\"\n", server.url("t.test", "/")),
    )
    .unwrap();
    let txt = dir.path().join("two.txt");
    std::fs::write(&txt, format!("{}\n", server.url("x.test", "/"))).unwrap();
    let archive = Archive::new();
    archive
        .crawl(&server, &["t.test", "x.test", "u.test"])
        .args(["--rate", "50/s", "--seeds"])
        .arg(toml.display().to_string())
        .arg("--seeds")
        .arg(txt.display().to_string())
        .arg(server.url("u.test", "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    for host in ["t.test", "x.test", "u.test"] {
        assert_eq!(server.count(host, "/"), 1, "{host}:\n{}", server.dump());
    }
}

/// An article on `host` whose attribution line cites `cited` (absolute).
fn citing_article(title: &str, cited: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta property=\"og:type\" content=\"article\"></head><body><article><h1>{title}</h1>\
         <p>The first paragraph of {title} says what happened in the city yesterday, and \
         who was there to see it happen.</p>\
         <p>The second paragraph gives the context of the event and what it means for the \
         readers of this newspaper.</p>\
         <p>The third paragraph quotes an official at length about the decision and what \
         will follow from it next week.</p>\
         <p>Source: <a href=\"{cited}\">the original</a></p>\
         </article></body></html>"
    )
}

#[test]
fn source_hops_bound_the_chain_of_citations() {
    // a.test cites b.test, which cites c.test.
    let build = || {
        Site::new()
            .route("a.test", "/", |req| {
                let port = req
                    .origin()
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                html(citing_article(
                    "Story A",
                    &format!("http://b.test:{port}/b"),
                ))
            })
            .route("b.test", "/b", |req| {
                let port = req
                    .origin()
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                html(citing_article(
                    "Story B",
                    &format!("http://c.test:{port}/c"),
                ))
            })
            .page("c.test", "/c", page("Story C", &[]))
            .serve()
    };
    let hosts = ["a.test", "b.test", "c.test"];

    let server = build();
    let archive = Archive::new();
    archive
        .crawl(&server, &hosts)
        .args(["--rate", "50/s"])
        .arg(server.url("a.test", "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    assert_eq!(server.count("b.test", "/b"), 1, "{}", server.dump());
    assert_eq!(
        server.count("c.test", "/c"),
        0,
        "default --source-hops 1: the source's own source is not followed:\n{}",
        server.dump()
    );

    let server = build();
    let archive = Archive::new();
    archive
        .crawl(&server, &hosts)
        .args(["--rate", "50/s", "--source-hops", "2"])
        .arg(server.url("a.test", "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    assert_eq!(server.count("b.test", "/b"), 1, "{}", server.dump());
    assert_eq!(
        server.count("c.test", "/c"),
        1,
        "--source-hops 2 follows two citations:\n{}",
        server.dump()
    );
}

#[test]
fn a_cited_source_obeys_its_own_hosts_robots() {
    let server = Site::new()
        .route("a.test", "/", |req| {
            let port = req
                .origin()
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_string();
            html(citing_article(
                "Story A",
                &format!("http://b.test:{port}/b"),
            ))
        })
        .robots("b.test", "User-agent: *\nDisallow: /\n")
        .page("b.test", "/b", page("Story B", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &["a.test", "b.test"])
        .args(["--rate", "50/s"])
        .arg(server.url("a.test", "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    assert_eq!(
        server.count("b.test", "/robots.txt"),
        1,
        "{}",
        server.dump()
    );
    assert_eq!(server.count("b.test", "/b"), 0, "{}", server.dump());
    let entry = archive.entry(&server.url("b.test", "/b"));
    assert_eq!(entry["state"], "disallowed", "{entry:#}");
}

#[test]
fn www_and_the_bare_domain_are_one_site_but_other_subdomains_are_not() {
    let www = "www.daily.test";
    let bare = "daily.test";
    let sub = "sport.daily.test";
    let server = Site::new()
        .route(www, "/", |req| {
            let port = req
                .origin()
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_string();
            html(page(
                "Front",
                &[
                    &format!("http://daily.test:{port}/bare-story"),
                    &format!("http://sport.daily.test:{port}/match"),
                    "/own-story",
                ],
            ))
        })
        .page(www, "/own-story", page("Own", &[]))
        .page(bare, "/bare-story", page("Bare", &[]))
        .page(sub, "/match", page("Match", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[www, bare, sub])
        .args(["--rate", "50/s"])
        .arg(server.url(www, "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    assert_eq!(server.count(www, "/own-story"), 1, "{}", server.dump());
    assert_eq!(
        server.count(bare, "/bare-story"),
        1,
        "the bare domain of a www seed is the same site:\n{}",
        server.dump()
    );
    assert!(
        server.requests_for(sub).is_empty(),
        "another subdomain is another site:\n{}",
        server.dump()
    );
}
