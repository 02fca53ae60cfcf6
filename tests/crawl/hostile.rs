//! The hostile web: robots.txt files that break parsers, pages nested to
//! make the HTML tree builder quadratic, sitemap and feed bombs, link
//! floods, monster URLs and proxies in the environment. Each crawl ends by
//! itself, within its deadline, and leaves an archive that verifies.

use std::time::{Duration, Instant};

use axum::http::StatusCode;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(60);

/// Elements of every kind that a page can nest: containers, sectioning,
/// formatting, lists, tables, forms, obsolete and custom elements.
const NESTABLE: &[&str] = &[
    "div",
    "span",
    "nav",
    "aside",
    "figure",
    "header",
    "footer",
    "dl",
    "details",
    "fieldset",
    "address",
    "center",
    "menu",
    "section",
    "article",
    "main",
    "blockquote",
    "b",
    "i",
    "font",
    "em",
    "strong",
    "small",
    "u",
    "s",
    "code",
    "sub",
    "sup",
    "label",
    "form",
    "button",
    "ul",
    "ol",
    "table",
    "object",
    "select",
    "x-widget",
    "marquee",
    "q",
    "abbr",
];

/// Memory a hostile crawl may take at most: far above a normal crawl's
/// (tens of MiB), far below what an unbounded one reaches.
const MAX_RSS: u64 = 400 * 1024 * 1024;

/// Crawls `host` from its front page until done, within [`DEADLINE`] and
/// [`MAX_RSS`], and asserts that the crawl succeeded.
fn crawl_bounded(archive: &Archive, server: &Server, host: &str, rate: &str) -> Output {
    let out = archive
        .crawl(server, &[host])
        .args(["--rate", rate])
        .arg(server.url(host, "/"))
        .run(DEADLINE);
    out.assert_success("crawl");
    assert_within_memory(&out);
    out
}

fn assert_within_memory(out: &Output) {
    assert!(
        out.sampled_peak_rss < MAX_RSS,
        "peak RSS {} MiB:\n{}",
        out.sampled_peak_rss >> 20,
        out.stderr
    );
}

/// A 200 response of content type `ct`.
fn typed(ct: &str, body: impl Into<axum::body::Body>) -> axum::response::Response {
    with_header(
        axum::response::Response::new(body.into()),
        "content-type",
        ct,
    )
}

/// A robots.txt that allows all and names the sitemap at `path` of the
/// host asked.
fn robots_naming(req: &Req, path: &str) -> axum::response::Response {
    typed(
        "text/plain",
        format!("User-agent: *\nAllow: /\nSitemap: {}{path}\n", req.origin()),
    )
}

fn nested(tag: &str, levels: usize) -> String {
    format!(
        "<!doctype html><html><head><title>Deep {tag}</title></head><body>{}deep text{}</body></html>",
        format!("<{tag}>").repeat(levels),
        format!("</{tag}>").repeat(levels)
    )
}

#[test]
fn a_robots_txt_that_panics_its_parser_does_not_hang_the_crawl() {
    // One comment line of 20 000 two-byte characters: the robots.txt
    // parser used to panic on it, and the crawl waited for the page forever.
    let host = "longline.test";
    let robots = format!(
        "User-agent: *\n# {}\nDisallow: /private/\n",
        "é".repeat(20_000)
    );
    let server = Site::new()
        .robots(host, &robots)
        .page(host, "/", page("Home", &["/a", "/private/x"]))
        .page(host, "/a", page("A", &[]))
        .page(host, "/private/x", page("X", &[]))
        .serve();
    let archive = Archive::new();
    for run in 1..=2 {
        let out = archive
            .crawl(&server, &[host])
            .args(["--rate", "50/s", "--json"])
            .arg(server.url(host, "/"))
            .run(Duration::from_secs(30));
        out.assert_success(&format!("crawl {run}"));
    }
    assert_eq!(server.count(host, "/a"), 2, "{}", server.dump());
    assert_eq!(server.count(host, "/private/x"), 0, "{}", server.dump());
    archive.assert_verify_clean();
}

#[test]
fn a_robots_txt_in_another_encoding_is_read_for_its_rules() {
    let host = "latin1.test";
    let mut robots =
        b"# R\xe9daction \xff\xfe\nUser-agent: *\nDisallow: /priv\xe9/\nDisallow: /x/\n".to_vec();
    robots.extend_from_slice(&[0xc3, 0x28, b'\n']);
    let server = Site::new()
        .file(host, "/robots.txt", "text/plain", robots)
        .page(host, "/", page("Home", &["/a", "/x/1"]))
        .page(host, "/a", page("A", &[]))
        .page(host, "/x/1", page("X", &[]))
        .serve();
    let archive = Archive::new();
    crawl_bounded(&archive, &server, host, "50/s");
    assert_eq!(server.count(host, "/a"), 1, "{}", server.dump());
    assert_eq!(server.count(host, "/x/1"), 0, "{}", server.dump());
    archive.assert_verify_clean();
}

#[test]
fn a_robots_txt_cut_by_the_deadline_is_not_taken_as_complete_rules() {
    // The rules that matter would come after the part received in time:
    // a half-read robots.txt allows nothing.
    let host = "slowrobots.test";
    let server = Site::new()
        .route(host, "/robots.txt", |_| {
            typed("text/plain", trickle_body("User-agent: *\nAllow: /a\n", 30))
        })
        .page(host, "/", page("Home", &["/a"]))
        .page(host, "/a", page("A", &[]))
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--timeout", "2"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(30));
    assert!(out.elapsed < Duration::from_secs(30), "{}", out.stderr);
    assert_eq!(
        server.paths(host),
        ["/robots.txt"],
        "nothing but robots.txt may be fetched:\n{}",
        server.dump()
    );
    let entry = archive.entry(&server.url(host, "/"));
    assert_eq!(entry["state"], "disallowed", "{entry:#}");
    archive.assert_verify_clean();
}

#[test]
fn pages_nested_eighty_thousand_deep_in_any_element_are_processed_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<String> = NESTABLE
        .iter()
        .map(|tag| {
            let path = dir.path().join(format!("{tag}.html"));
            std::fs::write(&path, nested(tag, 80_000)).unwrap();
            path.display().to_string()
        })
        .collect();
    let mut args = vec![
        "extract".to_string(),
        "--url".into(),
        "http://deep.test/".into(),
    ];
    args.extend(files.iter().cloned());
    // Under a second a page even in a debug build, with room to spare on a
    // loaded machine; the tree builder alone took seconds for each.
    let out = run(&args, Duration::from_secs(NESTABLE.len() as u64));
    out.assert_success("extract");
    assert_eq!(out.stdout.lines().count(), NESTABLE.len(), "{}", out.stderr);
    for line in out.stdout.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(
            record["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Deep")),
            "{record:#}"
        );
    }
}

#[test]
fn a_crawl_of_deeply_nested_pages_ends_and_keeps_their_captures() {
    let host = "nested.test";
    let kinds = ["nav", "aside", "figure", "details", "x-widget", "b"];
    let links: Vec<String> = kinds.iter().map(|k| format!("/{k}")).collect();
    let link_refs: Vec<&str> = links.iter().map(String::as_str).collect();
    let mut site = Site::new().robots(host, "User-agent: *\nAllow: /\n").page(
        host,
        "/",
        page("Home", &link_refs),
    );
    for kind in kinds {
        site = site.page(host, &format!("/{kind}"), nested(kind, 200_000));
    }
    let server = site.serve();
    let archive = Archive::new();
    crawl_bounded(&archive, &server, host, "50/s");
    for kind in kinds {
        let entry = archive.entry(&server.url(host, &format!("/{kind}")));
        assert_eq!(num(&entry, "captures"), 1, "{entry:#}");
    }
    archive.assert_verify_clean();
}

#[test]
fn a_json_ld_article_body_nested_deep_is_guarded_too() {
    let body = format!(
        "{}{}{}",
        "<div>".repeat(80_000),
        "This is the article body sentence, repeated to be long. ".repeat(40),
        "</div>".repeat(80_000)
    );
    let ld = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Deep body",
        "articleBody": body,
    });
    let html = format!(
        "<!doctype html><html><head><title>Deep body</title>\
         <script type=\"application/ld+json\">{ld}</script></head>\
         <body><h1>Deep body</h1><p>Teaser.</p></body></html>"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ld.html");
    std::fs::write(&path, html).unwrap();
    let out = run(
        &[
            "extract",
            "--url",
            "http://ld.test/story",
            &path.display().to_string(),
        ],
        Duration::from_secs(10),
    );
    out.assert_success("extract");
    assert!(out.stdout.contains("Deep body"), "{}", out.stdout);
}

#[test]
fn sitemap_indexes_nest_one_level_at_most() {
    // Every index names three more indexes, without end.
    let host = "maps.test";
    let server = Site::new()
        .route(host, "/robots.txt", |req| robots_naming(req, "/idx/0.xml"))
        .route(host, "/idx/*", |req| {
            let n: u64 = req
                .path
                .trim_start_matches("/idx/")
                .trim_end_matches(".xml")
                .parse()
                .unwrap_or(0);
            let entries: String = (1..=3)
                .map(|k| {
                    format!(
                        "<sitemap><loc>{}/idx/{}.xml</loc></sitemap>",
                        req.origin(),
                        n * 3 + k
                    )
                })
                .collect();
            typed("application/xml", format!(
                "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{entries}</sitemapindex>"
            ))
        })
        .page(host, "/", page("Home", &[]))
        .serve();
    let archive = Archive::new();
    crawl_bounded(&archive, &server, host, "100/s");
    let indexes: Vec<String> = server
        .paths(host)
        .into_iter()
        .filter(|p| p.starts_with("/idx/"))
        .collect();
    // The index robots.txt names, the three it lists, and the nine those
    // list (one level of nesting, as sites use); none of theirs.
    assert_eq!(indexes.len(), 13, "{}", server.dump());
    archive.assert_verify_clean();
}

#[test]
fn a_sitemap_of_sixty_thousand_entries_stays_within_the_page_limits() {
    let host = "bigmap.test";
    let server = Site::new()
        .route(host, "/robots.txt", |req| robots_naming(req, "/map.xml"))
        .route(host, "/map.xml", |req| {
            let origin = req.origin();
            let entries: String = (0..60_000)
                .map(|k| format!("<url><loc>{origin}/p/{k}</loc></url>"))
                .collect();
            typed("application/xml", format!(
                "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{entries}</urlset>"
            ))
        })
        .route(host, "/p/*", |req| html(page(&req.path, &[])))
        .page(host, "/", page("Home", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "200/s", "--max-pages-per-host", "25"])
        .arg(server.url(host, "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    assert_eq!(server.count(host, "/map.xml"), 1, "{}", server.dump());
    let pages = server
        .paths(host)
        .iter()
        .filter(|p| p.starts_with("/p/"))
        .count();
    assert!(pages <= 25, "{pages} pages fetched:\n{}", server.dump());
    assert!(archive.list().len() <= 26, "{}", archive.list().len());
    archive.assert_verify_clean();
}

#[test]
fn a_feed_on_another_host_leads_no_further_off_the_site() {
    // The site's page advertises a feed kept elsewhere (allowed, as CDNs
    // do); that host's own sitemap index is not the site's business.
    let site = "paper.test";
    let other = "elsewhere.test";
    let server = Site::new()
        .robots(site, "User-agent: *\nAllow: /\n")
        .robots(other, "User-agent: *\nAllow: /\n")
        .route(site, "/", move |req| {
            let port = req.origin().rsplit(':').next().unwrap_or_default().to_string();
            html(page_with_head(
                "Home",
                &format!(
                    "<link rel=\"alternate\" type=\"application/rss+xml\" href=\"http://{other}:{port}/index.xml\">"
                ),
                &[],
            ))
        })
        .route(other, "/index.xml", |req| {
            let o = req.origin();
            typed("application/xml", format!(
                "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
                 <sitemap><loc>{o}/inner.xml</loc></sitemap></sitemapindex>"
            ))
        })
        .file(
            other,
            "/inner.xml",
            "application/xml",
            "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"></urlset>",
        )
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[site, other])
        .args(["--rate", "50/s"])
        .arg(server.url(site, "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    assert_eq!(server.count(other, "/index.xml"), 1, "{}", server.dump());
    assert_eq!(server.count(other, "/inner.xml"), 0, "{}", server.dump());
}

#[test]
fn a_page_of_half_a_million_links_is_bounded() {
    let host = "links.test";
    let links: String = (0..500_000)
        .map(|k| format!("<a href=\"/l/{k}\">{k}</a>\n"))
        .collect();
    let server = Site::new()
        .robots(host, "User-agent: *\nAllow: /\n")
        .page(
            host,
            "/",
            format!(
                "<!doctype html><html><head><title>Links</title></head><body>{links}</body></html>"
            ),
        )
        .route(host, "/l/*", |req| html(page(&req.path, &[])))
        .serve();
    let archive = Archive::new();
    let started = Instant::now();
    let out = archive
        .crawl(&server, &[host])
        .args([
            "--rate",
            "500/s",
            "--max-pages",
            "40",
            "--json",
            "--max-body",
            "20M",
        ])
        .arg(server.url(host, "/"))
        .run(DEADLINE);
    out.assert_success("crawl");
    assert_within_memory(&out);
    assert!(started.elapsed() < DEADLINE);
    let stats = archive.stats();
    assert!(num(&stats, "pages") <= 40, "{stats:#}");
    archive.assert_verify_clean();
}

#[test]
fn monster_urls_are_never_requested_or_stored() {
    let host = "long.test";
    let monster = format!("/m/{}", "x".repeat(100_000));
    let server = Site::new()
        .robots(host, "User-agent: *\nAllow: /\n")
        .page(host, "/", page("Home", &[monster.as_str(), "/ok"]))
        .page(host, "/ok", page("OK", &[]))
        .serve();
    let archive = Archive::new();
    crawl_bounded(&archive, &server, host, "50/s");
    assert_eq!(server.count(host, "/ok"), 1, "{}", server.dump());
    assert!(
        server.paths(host).iter().all(|p| p.len() < 5000),
        "a monster URL was requested"
    );
    assert!(
        archive
            .list()
            .iter()
            .all(|p| p["url"].as_str().unwrap().len() < 5000)
    );
    archive.assert_verify_clean();
}

#[test]
fn proxies_in_the_environment_are_not_used_and_the_guard_still_refuses_loopback() {
    // A "proxy" that records what reaches it: nothing may.
    let proxy = Server::start(|_| status(StatusCode::BAD_GATEWAY));
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let host = "guarded.test";
    let server = Site::new()
        .robots(host, "User-agent: *\nAllow: /\n")
        .page(host, "/", page("Home", &[]))
        .serve();
    let archive = Archive::new();
    let args = archive
        .crawl_guarded(&server, &[host])
        .args(["--json"])
        .arg(server.url(host, "/"))
        .to_args();
    let env = [
        ("HTTP_PROXY", proxy_url.as_str()),
        ("http_proxy", proxy_url.as_str()),
        ("HTTPS_PROXY", proxy_url.as_str()),
        ("ALL_PROXY", proxy_url.as_str()),
        ("all_proxy", proxy_url.as_str()),
        ("NO_PROXY", ""),
    ];
    let out = spawn_with_env(&args, &env).wait(DEADLINE);
    assert!(
        proxy.requests().is_empty(),
        "the proxy was used:\n{}",
        proxy.dump()
    );
    assert!(
        server.requests().is_empty(),
        "the guard let a request through:\n{}",
        server.dump()
    );
    let entry = archive.entry(&server.url(host, "/"));
    assert!(
        entry["error"]
            .as_str()
            .is_some_and(|e| e.contains("loopback")),
        "the refusal should say why: {entry:#}\n{}",
        out.stderr
    );
}

#[test]
fn ctrl_c_ends_a_crawl_within_seconds_even_with_pages_stuck_in_flight() {
    let host = "stuck.test";
    let links: Vec<String> = (0..8).map(|k| format!("/slow/{k}")).collect();
    let refs: Vec<&str> = links.iter().map(String::as_str).collect();
    let server = Site::new()
        .robots(host, "User-agent: *\nAllow: /\n")
        .page(host, "/", page("Home", &refs))
        .route(host, "/slow/*", |_| {
            typed("text/html", trickle_body("<html><body>", 120))
        })
        .serve();
    let archive = Archive::new();
    let running = archive
        .crawl(&server, &[host])
        .args(["--rate", "100/s", "--timeout", "300", "--concurrency", "8"])
        .arg(server.url(host, "/"))
        .spawn();
    // Wait until the slow pages are being fetched.
    let waiting = Instant::now();
    while server
        .paths(host)
        .iter()
        .filter(|p| p.starts_with("/slow/"))
        .count()
        < 1
    {
        assert!(waiting.elapsed() < DEADLINE, "{}", server.dump());
        std::thread::sleep(Duration::from_millis(50));
    }
    let stopped = Instant::now();
    running.signal("INT");
    let out = running.wait(Duration::from_secs(60));
    assert!(
        stopped.elapsed() < Duration::from_secs(15),
        "took {:?} to stop:\n{}",
        stopped.elapsed(),
        out.stderr
    );
    assert_eq!(out.status.code(), Some(130), "{}", out.stderr);
    archive.assert_verify_clean();
}

#[test]
fn a_feed_nested_a_hundred_thousand_deep_is_not_a_listing_and_the_crawl_goes_on() {
    let host = "feedbomb.test";
    let deep = format!("{}x{}", "<d>".repeat(100_000), "</d>".repeat(100_000));
    let feed = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>\
         <item><title>a</title><link>/a</link><description>{deep}</description></item></channel></rss>"
    );
    let server = Site::new()
        .robots(host, "User-agent: *\nAllow: /\n")
        .page(
            host,
            "/",
            page_with_head(
                "Home",
                "<link rel=\"alternate\" type=\"application/rss+xml\" href=\"/feed.xml\">",
                &["/b"],
            ),
        )
        .file(host, "/feed.xml", "application/rss+xml", feed)
        .page(host, "/a", page("A", &[]))
        .page(host, "/b", page("B", &[]))
        .serve();
    let archive = Archive::new();
    crawl_bounded(&archive, &server, host, "50/s");
    assert_eq!(server.count(host, "/feed.xml"), 1, "{}", server.dump());
    assert_eq!(server.count(host, "/b"), 1, "{}", server.dump());
    assert_eq!(server.count(host, "/a"), 0, "{}", server.dump());
    archive.assert_verify_clean();
}

#[test]
fn pages_over_the_parse_budget_give_up_their_cpu_slot_and_other_hosts_keep_their_rate() {
    // Six pages that each take seconds to parse in a debug build (tens of
    // thousands of short headings and paragraphs, 8 MiB), against a parse
    // budget of one second; a bystander host of small pages beside them.
    let costly: String = (0..230_000)
        .map(|k| format!("<h1>head {k}</h1><p>para {k} text</p>"))
        .collect();
    let costly = format!("<html><body>{costly}</body></html>");
    let heavy = "heavy.test";
    let calm = "calm.test";
    let heavy_links: Vec<String> = (0..6).map(|k| format!("/costly{k}")).collect();
    let calm_links: Vec<String> = (0..20).map(|k| format!("/story{k}")).collect();
    let mut site = Site::new()
        .robots(heavy, "User-agent: *\nAllow: /\n")
        .robots(calm, "User-agent: *\nAllow: /\n")
        .page(heavy, "/", page("Heavy", &as_strs(&heavy_links)))
        .page(calm, "/", page("Calm", &as_strs(&calm_links)));
    for link in &heavy_links {
        site = site.page(heavy, link, costly.clone());
    }
    for link in &calm_links {
        site = site.page(calm, link, page(&format!("Story {link}"), &[]));
    }
    let server = site.serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[heavy, calm])
        .args(["--rate", "10/s", "--parse-budget", "1"])
        .arg(server.url(heavy, "/"))
        .arg(server.url(calm, "/"))
        .run(Duration::from_secs(120));
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", out.stderr);
    // The bystander's 21 pages at 10/s take two seconds; parses holding
    // every CPU slot for their whole run held it back for tens of seconds.
    let calm_pages: Vec<Req> = server
        .requests_for(calm)
        .into_iter()
        .filter(|r| !r.is_robots())
        .collect();
    assert_eq!(calm_pages.len(), 21, "{}", server.dump());
    let first = server.requests()[0].at;
    let took = calm_pages.last().unwrap().at - first;
    assert!(
        took < Duration::from_secs(6),
        "bystander done after {took:?}"
    );
    for link in &calm_links {
        let entry = archive.entry(&server.url(calm, link));
        assert_eq!(num(&entry, "captures"), 1, "{entry:#}");
    }
}

fn as_strs(links: &[String]) -> Vec<&str> {
    links.iter().map(String::as_str).collect()
}
