//! Bounds: hostile or endless sites end in a bounded crawl with the failure
//! recorded — a huge body and a gzip bomb are cut at the cap, a trickling
//! body times out, an infinite calendar stops at the depth or page limit.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::http::{HeaderValue, header};
use axum::response::Response;

use crate::support::*;

const MIB: u64 = 1024 * 1024;

fn mentions_cap(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    [
        "cap",
        "max-body",
        "max_body",
        "limit",
        "too large",
        "exceed",
        "10485760",
        "10 mib",
        "1048576",
        "1 mib",
    ]
    .iter()
    .any(|w| e.contains(w))
}

#[test]
fn huge_body_is_cut_at_the_default_cap_and_recorded() {
    let _serial = exclusive();
    let host = "big.test";
    let sent = counter();
    let sent_in = sent.clone();
    let server = Site::new()
        .page(host, "/", page("Home", &["/huge", "/after"]))
        .route(host, "/huge", move |_| {
            let mut resp = Response::new(huge_html_body(64 * MIB, sent_in.clone()));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            resp
        })
        .page(host, "/after", page("After", &[]))
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "20/s", "--json"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(120));
    out.assert_exit(3, "crawl");

    let entry = archive.entry(&server.url(host, "/huge"));
    assert_eq!(entry["state"], "failed", "{entry:#}");
    let error = str_field(&entry, "error").unwrap_or_default();
    assert!(
        mentions_cap(error),
        "the error should say the body hit the cap: {entry:#}"
    );
    // The body was cut, not read to its end (each try reads at most the cap
    // plus what sits in socket buffers).
    let tries = server.count(host, "/huge") as u64;
    assert!(
        sent.load(Ordering::Relaxed) < tries * 32 * MIB,
        "{} bytes of the 64 MiB body were sent over {tries} request(s): it was not cut at 10 MiB",
        sent.load(Ordering::Relaxed)
    );
    assert_eq!(server.count(host, "/after"), 1, "the crawl goes on");
    let rss = num(&out.summary(), "peak_rss_bytes");
    assert!(rss < 300 * MIB, "peak RSS {rss} bytes");
}

#[test]
fn gzip_bomb_is_cut_at_the_cap_with_bounded_memory() {
    let _serial = exclusive();
    let host = "bomb.test";
    // The whole compressed bomb (about 1 MiB) fits in socket buffers, so what
    // proves the cut is the recorded error and the crawler's memory.
    let fed_in = counter();
    let server = Site::new()
        .page(host, "/", page("Home", &["/bomb", "/after"]))
        .route(host, "/bomb", move |_| {
            let mut resp = Response::new(gzip_bomb_body(1024 * MIB, fed_in.clone()));
            let headers = resp.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            resp
        })
        .page(host, "/after", page("After", &[]))
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "20/s", "--json", "--max-body", "1MiB"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(120));
    out.assert_exit(3, "crawl");
    assert!(
        out.elapsed < Duration::from_secs(30),
        "a crawl facing a gzip bomb should end quickly, took {:?}",
        out.elapsed
    );

    let entry = archive.entry(&server.url(host, "/bomb"));
    assert_eq!(entry["state"], "failed", "{entry:#}");
    let error = str_field(&entry, "error").unwrap_or_default();
    assert!(
        mentions_cap(error),
        "the error should say the body hit the cap: {entry:#}"
    );
    assert_eq!(server.count(host, "/after"), 1, "the crawl goes on");
    let summary = out.summary();
    let rss = num(&summary, "peak_rss_bytes");
    assert!(
        rss < 300 * MIB,
        "peak RSS {rss} bytes while facing a gzip bomb: {summary:#}"
    );
    // The same, measured from outside (the harness samples VmHWM).
    assert!(
        out.sampled_peak_rss < 300 * MIB,
        "sampled peak RSS {} bytes while facing a gzip bomb",
        out.sampled_peak_rss
    );
    assert!(
        rss > 0 && (out.sampled_peak_rss == 0 || rss >= out.sampled_peak_rss / 2),
        "peak_rss_bytes {rss} does not match the sampled peak {}",
        out.sampled_peak_rss
    );
}

#[test]
fn gzip_bomb_is_cut_at_the_default_cap() {
    let _serial = exclusive();
    let host = "bomb.test";
    // The whole compressed bomb (about 1 MiB) fits in socket buffers, so what
    // proves the cut is the recorded error and the crawler's memory.
    let fed_in = counter();
    let server = Site::new()
        .page(host, "/", page("Home", &["/bomb"]))
        .route(host, "/bomb", move |_| {
            let mut resp = Response::new(gzip_bomb_body(1024 * MIB, fed_in.clone()));
            let headers = resp.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            resp
        })
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "20/s", "--json"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(120));
    out.assert_exit(3, "crawl");
    let entry = archive.entry(&server.url(host, "/bomb"));
    assert_eq!(entry["state"], "failed", "{entry:#}");
    assert!(
        mentions_cap(str_field(&entry, "error").unwrap_or_default()),
        "{entry:#}"
    );
    let rss = num(&out.summary(), "peak_rss_bytes");
    assert!(rss < 300 * MIB, "peak RSS {rss} bytes");
}

#[test]
fn trickling_body_times_out_and_is_recorded() {
    let host = "drip.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/drip", "/after"]))
        .route(host, "/drip", |_| {
            let mut resp = Response::new(trickle_body("<!doctype html><html><body><p>", 600));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            resp
        })
        .page(host, "/after", page("After", &[]))
        .serve();
    let archive = Archive::new();
    // Each try is cut after 3 s; retries of a timeout are bounded.
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "20/s", "--timeout", "3"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(90));
    out.assert_exit(3, "crawl");
    assert!(
        out.elapsed < Duration::from_secs(45),
        "with --timeout 3 the trickling page held the crawl for {:?}",
        out.elapsed
    );

    let entry = archive.entry(&server.url(host, "/drip"));
    assert_eq!(entry["state"], "failed", "{entry:#}");
    assert!(entry["error"].is_string(), "{entry:#}");
    let tries = server.count(host, "/drip");
    assert!(
        (1..=10).contains(&tries),
        "{tries} tries of the trickling page:\n{}",
        server.dump()
    );
    assert_eq!(server.count(host, "/after"), 1, "the crawl goes on");
}

/// `/cal/YYYY-MM` links to the next month, forever.
fn calendar(site: Site, host: &str) -> Site {
    site.page(host, "/", page("Calendar", &["/cal/2025-01"]))
        .route(host, "/cal/*", |req| {
            let month = req.path.trim_start_matches("/cal/");
            let (y, m) = month.split_once('-').unwrap_or(("2025", "01"));
            let (y, m): (u32, u32) = (y.parse().unwrap_or(2025), m.parse().unwrap_or(1));
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            html(page(
                &format!("Events of {month}"),
                &[&format!("/cal/{ny}-{nm:02}")],
            ))
        })
}

fn calendar_pages(server: &Server, host: &str) -> usize {
    server
        .paths(host)
        .iter()
        .filter(|p| p.starts_with("/cal/"))
        .count()
}

#[test]
fn infinite_calendar_is_bounded_by_depth() {
    let host = "cal.test";
    let server = calendar(Site::new(), host).serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--depth", "5"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    // Home is depth 0; /cal/2025-01 … /cal/2025-05 are depths 1 … 5.
    assert_eq!(
        calendar_pages(&server, host),
        5,
        "--depth 5 allows 5 link hops from the seed:\n{}",
        server.dump()
    );
    assert_eq!(server.count(host, "/cal/2025-06"), 0);
}

#[test]
fn infinite_calendar_is_bounded_by_max_pages() {
    let host = "cal.test";
    let server = calendar(Site::new(), host).serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--depth", "100000", "--max-pages", "10"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    let fetched = server.page_requests().len();
    assert_eq!(
        fetched,
        10,
        "--max-pages 10 should fetch exactly 10 pages of an endless site:\n{}",
        server.dump()
    );
}

#[test]
fn max_pages_per_host_bounds_each_host() {
    let server = calendar(calendar(Site::new(), "c1.test"), "c2.test").serve();
    let hosts = ["c1.test", "c2.test"];
    let archive = Archive::new();
    archive
        .crawl(&server, &hosts)
        .args(["--rate", "50/s", "--depth", "100000"])
        .args(["--max-pages-per-host", "4"])
        .args(hosts.iter().map(|h| server.url(h, "/")))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    for host in hosts {
        let pages = server
            .requests_for(host)
            .iter()
            .filter(|r| !r.is_robots())
            .count();
        assert_eq!(
            pages,
            4,
            "{host}: --max-pages-per-host 4:\n{}",
            server.dump()
        );
    }
}

#[test]
fn max_body_in_plain_bytes_cuts_a_larger_page() {
    let host = "cap.test";
    let big = format!(
        "<!doctype html><html><head><title>Big</title></head><body>{}</body></html>",
        "<p>filler text for a page larger than the cap.</p>\n".repeat(4000)
    );
    assert!(big.len() > 150_000);
    let server = Site::new()
        .page(host, "/", page("Home", &["/big", "/small"]))
        .page(host, "/big", big)
        .page(host, "/small", page("Small", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--max-body", "100000"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_exit(3, "crawl");
    let entry = archive.entry(&server.url(host, "/big"));
    assert_eq!(entry["state"], "failed", "{entry:#}");
    assert!(
        mentions_cap(str_field(&entry, "error").unwrap_or_default())
            || str_field(&entry, "error")
                .unwrap_or_default()
                .contains("100000"),
        "{entry:#}"
    );
    let small = archive.entry(&server.url(host, "/small"));
    assert_eq!(small["state"], "fetched", "{small:#}");
}

#[test]
fn a_page_with_twenty_thousand_links_stays_bounded_by_max_pages() {
    let _serial = exclusive();
    let host = "links.test";
    let links: Vec<String> = (0..20_000).map(|i| format!("/item/{i}")).collect();
    let refs: Vec<&str> = links.iter().map(String::as_str).collect();
    let server = Site::new()
        .page(host, "/", page("Index of everything", &refs))
        .route(host, "/item/*", |req| {
            html(page(&format!("Item {}", req.path), &[]))
        })
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "100/s", "--max-pages", "30", "--json"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(90));
    out.assert_success("crawl");
    assert_eq!(
        server.page_requests().len(),
        30,
        "--max-pages 30: {} pages fetched",
        server.page_requests().len()
    );
    assert!(
        out.elapsed < Duration::from_secs(45),
        "took {:?}",
        out.elapsed
    );
    let rss = num(&out.summary(), "peak_rss_bytes");
    assert!(rss < 300 * MIB, "peak RSS {rss}");
}

#[test]
fn a_page_first_seen_too_deep_is_still_fetched_when_found_within_depth() {
    // / links to /a (fast) and /b (slow). /a → /a2 → /x puts /x at depth 3,
    // beyond --depth 2; /b → /x (arriving later) puts it at depth 2.
    let host = "depth.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/a", "/b"]))
        .page(host, "/a", page("A", &["/a2"]))
        .page(host, "/a2", page("A2", &["/x"]))
        .route(host, "/b", |_| {
            delayed(html(page("B", &["/x"])), Duration::from_millis(1500))
        })
        .page(host, "/x", page("X", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "20/s", "--depth", "2", "--concurrency", "4"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    assert!(server.count(host, "/a2") == 1, "{}", server.dump());
    assert_eq!(
        server.count(host, "/x"),
        1,
        "/x is 2 hops from the seed through /b:\n{}",
        server.dump()
    );
}

#[test]
fn hostile_markup_does_not_crash_the_crawler() {
    // Deep nesting (recursive DOM walks overflow their stack), a huge
    // attribute, a very long URL: the crawl records what it can and goes on.
    let host = "hostile.test";
    let deep = format!(
        "<!doctype html><html><head><title>Deep</title></head><body>{}<p>bottom</p>{}</body></html>",
        "<div><span>".repeat(20_000),
        "</span></div>".repeat(20_000)
    );
    let attribute = format!(
        "<!doctype html><html><head><title>Attr</title></head><body><p class=\"{}\">text</p><a href=\"/after\">next</a></body></html>",
        "x".repeat(2_000_000)
    );
    let long_link = format!("/long/{}", "a".repeat(20_000));
    let server = Site::new()
        .page(
            host,
            "/",
            page("Home", &["/deep", "/attribute", &long_link, "/after"]),
        )
        .page(host, "/deep", deep)
        .page(host, "/attribute", attribute)
        .route(host, "/long/*", |_| html(page("Long", &[])))
        .page(host, "/after", page("After", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(120))
        .assert_success("crawl");
    assert_eq!(server.count(host, "/after"), 1, "{}", server.dump());
    for path in ["/deep", "/attribute"] {
        let entry = archive.entry(&server.url(host, path));
        assert_eq!(entry["state"], "fetched", "{entry:#}");
    }
    archive.assert_verify_clean();
}

#[test]
fn many_hosts_under_a_common_file_limit() {
    // 1500 hosts under `ulimit -n 1024`: connections (and anything else
    // kept per host) must not pile up until the crawler runs out of files.
    let _serial = exclusive();
    const HOSTS: usize = 1500;
    let names: Vec<String> = (0..HOSTS).map(|i| format!("s{i}.test")).collect();
    let mut site = Site::new();
    for name in &names {
        site = site.page(name, "/", page(name, &[]));
    }
    let server = site.serve();
    let archive = Archive::new();
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("hosts.txt");
    std::fs::write(
        &seeds,
        names
            .iter()
            .map(|h| server.url(h, "/") + "\n")
            .collect::<String>(),
    )
    .unwrap();
    let hosts: Vec<&str> = names.iter().map(String::as_str).collect();
    let args = archive
        .crawl(&server, &hosts)
        .args(["--rate", "50/s", "--concurrency", "64", "--json"])
        .arg("--seeds")
        .arg(seeds.display().to_string())
        .to_args();
    let out = spawn_with_file_limit(&args, 1024).wait(Duration::from_secs(300));
    out.assert_success("crawl of 1500 hosts");
    let summary = out.summary();
    let pages = archive.list();
    let not_fetched: Vec<&serde_json::Value> =
        pages.iter().filter(|p| p["state"] != "fetched").collect();
    assert!(
        not_fetched.is_empty(),
        "{} of {HOSTS} hosts not crawled under ulimit -n 1024, e.g. {:#}\nsummary: {summary:#}",
        not_fetched.len(),
        not_fetched[0]
    );
    assert_eq!(num(&summary, "errors"), 0, "{summary:#}");
    assert_eq!(num(&summary, "pages_fetched"), HOSTS as u64, "{summary:#}");
    assert_eq!(server.page_requests().len(), HOSTS);
}

#[test]
fn a_page_just_under_the_cap_is_processed_in_bounded_time() {
    // 8 MiB of real markup (about 100 000 paragraphs and links) is under
    // the 10 MiB cap, so it is parsed and extracted: that must not take
    // minutes or blow up memory.
    let _serial = exclusive();
    let host = "heavy.test";
    let mut body = String::from(
        "<!doctype html><html><head><title>Everything</title></head><body><article><h1>Everything</h1>",
    );
    let mut i = 0;
    while body.len() < 8 * 1024 * 1024 {
        body.push_str(&format!(
            "<p>Paragraph {i} of the longest page on the site, with <a href=\"/x/{}\">a link</a>.</p>\n",
            i % 50
        ));
        i += 1;
    }
    body.push_str("</article></body></html>");
    let server = Site::new()
        .page(host, "/", page("Home", &["/heavy", "/after"]))
        .page(host, "/heavy", body)
        .route(host, "/x/*", |req| html(page(&req.path, &[])))
        .page(host, "/after", page("After", &[]))
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--depth", "2", "--json"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(180));
    out.assert_success("crawl");
    assert!(
        out.elapsed < Duration::from_secs(90),
        "an 8 MiB page held the crawl for {:?}",
        out.elapsed
    );
    let entry = archive.entry(&server.url(host, "/heavy"));
    assert_eq!(entry["state"], "fetched", "{entry:#}");
    assert_eq!(server.count(host, "/after"), 1);
    let rss = num(&out.summary(), "peak_rss_bytes");
    assert!(rss < 500 * MIB, "peak RSS {rss} for one 8 MiB page");
}

#[test]
fn max_body_is_inclusive_a_body_of_exactly_the_cap_is_kept() {
    let host = "edge.test";
    let sized = |n: usize| {
        let head = "<!doctype html><html><head><title>Sized</title></head><body><p>";
        let tail = "</p></body></html>";
        format!("{head}{}{tail}", "z".repeat(n - head.len() - tail.len()))
    };
    let server = Site::new()
        .page(host, "/", page("Home", &["/exact", "/over"]))
        .page(host, "/exact", sized(100_000))
        .page(host, "/over", sized(100_001))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--max-body", "100000"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_exit(3, "crawl");
    let exact = archive.entry(&server.url(host, "/exact"));
    assert_eq!(
        exact["state"], "fetched",
        "a body of exactly --max-body bytes is within the cap: {exact:#}"
    );
    let over = archive.entry(&server.url(host, "/over"));
    assert_eq!(over["state"], "failed", "one byte over the cap: {over:#}");
}

#[test]
fn a_hosts_frontier_stops_growing_at_max_queue_per_host_and_says_so() {
    // The seed links 30 new pages; the host's queue holds 10 unfetched URLs.
    let host = "endless.test";
    let links: Vec<String> = (0..30).map(|i| format!("/item/{i}")).collect();
    let refs: Vec<&str> = links.iter().map(String::as_str).collect();
    let server = Site::new()
        .page(host, "/", page("Everything", &refs))
        .route(host, "/item/*", |req| html(page(&req.path, &[])))
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--json", "--max-queue-per-host", "10"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60));
    out.assert_success("crawl");
    assert_eq!(server.page_requests().len(), 11, "{}", server.dump());
    let summary = out.summary();
    assert_eq!(num(&summary, "not_queued"), 20, "{summary:#}");
    assert_eq!(archive.list_with(&["--all-pages"]).len(), 11);
}

fn xml(body: String) -> Response {
    with_header(html(body), "content-type", "application/xml")
}

#[test]
fn nested_sitemap_indexes_stop_at_max_listings_per_host() {
    // robots.txt → an index of 20 indexes → each an index of 20 sitemaps.
    let host = "maps.test";
    let index = |origin: String, paths: Vec<String>| {
        let items: String = paths
            .iter()
            .map(|p| format!("<sitemap><loc>{origin}{p}</loc></sitemap>"))
            .collect();
        xml(format!(
            "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{items}</sitemapindex>"
        ))
    };
    let server = Site::new()
        .route(host, "/robots.txt", |req| {
            let body = format!("User-agent: *\nSitemap: {}/index.xml\n", req.origin());
            with_header(html(body), "content-type", "text/plain")
        })
        .page(host, "/", page("Home", &[]))
        .route(host, "/index.xml", move |req| {
            index(req.origin(), (0..20).map(|i| format!("/idx/{i}.xml")).collect())
        })
        .route(host, "/idx/*", move |req| {
            let n = req.path.trim_start_matches("/idx/").trim_end_matches(".xml").to_string();
            index(req.origin(), (0..20).map(|j| format!("/sm/{n}-{j}.xml")).collect())
        })
        .route(host, "/sm/*", |_| {
            xml("<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"></urlset>".into())
        })
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "100/s", "--depth", "1", "--json"])
        .args(["--max-listings-per-host", "5"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60));
    out.assert_success("crawl");
    let listings = server
        .paths(host)
        .iter()
        .filter(|p| p.ends_with(".xml"))
        .count();
    assert_eq!(listings, 5, "{}", server.dump());
    let summary = out.summary();
    assert!(num(&summary, "listings_not_queued") >= 15, "{summary:#}");
}
