//! Discovery beyond links: `Sitemap:` lines of robots.txt (sitemap index →
//! urlset, news sitemap, gzip `.xml.gz`) and RSS/Atom feeds a page links to.

use std::io::Write;
use std::time::Duration;

use crate::support::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn xml(body: String) -> axum::response::Response {
    with_header(html(body), "content-type", "application/xml")
}

#[test]
fn sitemaps_named_in_robots_are_followed() {
    let host = "news.test";
    let server = Site::new()
        .route(host, "/robots.txt", |req| {
            with_header(
                html(format!(
                    "User-agent: *\nAllow: /\n\nSitemap: {}/sitemap_index.xml\n",
                    req.origin()
                )),
                "content-type",
                "text/plain",
            )
        })
        .route(host, "/sitemap_index.xml", |req| {
            let o = req.origin();
            xml(format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{o}/sitemap-pages.xml</loc><lastmod>2025-01-01</lastmod></sitemap>
  <sitemap><loc>{o}/sitemap-news.xml.gz</loc></sitemap>
</sitemapindex>
"#
            ))
        })
        .route(host, "/sitemap-pages.xml", |req| {
            let o = req.origin();
            let port = o.rsplit(':').next().unwrap_or_default().to_string();
            xml(format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>{o}/s/1</loc><lastmod>2025-01-01T10:00:00Z</lastmod></url>
  <url><loc>{o}/s/2</loc><changefreq>daily</changefreq></url>
  <url><loc>http://elsewhere.test:{port}/not-ours</loc></url>
</urlset>
"#
            ))
        })
        .route(host, "/sitemap-news.xml.gz", |req| {
            let o = req.origin();
            let body = format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>{o}/n/1</loc>
    <news:news>
      <news:publication><news:name>Test News</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2025-01-01T10:00:00Z</news:publication_date>
      <news:title>First news</news:title>
    </news:news>
  </url>
  <url>
    <loc>{o}/n/2</loc>
    <news:news>
      <news:publication><news:name>Test News</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2025-01-02T10:00:00Z</news:publication_date>
      <news:title>Second news</news:title>
    </news:news>
  </url>
</urlset>
"#
            );
            let mut resp = html(String::new());
            *resp.body_mut() = axum::body::Body::from(gzip(body.as_bytes()));
            with_header(resp, "content-type", "application/gzip")
        })
        .page(host, "/", page("Home", &[]))
        .page(host, "/s/1", page("Sitemap one", &[]))
        .page(host, "/s/2", page("Sitemap two", &[]))
        .page(host, "/n/1", page("News one", &[]))
        .page(host, "/n/2", page("News two", &[]))
        .page("elsewhere.test", "/not-ours", page("Not ours", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host, "elsewhere.test"])
        .args(["--rate", "50/s", "--depth", "5"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");

    for path in [
        "/sitemap_index.xml",
        "/sitemap-pages.xml",
        "/sitemap-news.xml.gz",
    ] {
        assert!(
            server.count(host, path) >= 1,
            "{path} was not fetched:\n{}",
            server.dump()
        );
    }
    for path in ["/s/1", "/s/2", "/n/1", "/n/2"] {
        assert_eq!(
            server.count(host, path),
            1,
            "sitemap entry {path} (linked from nowhere else) should be fetched once:\n{}",
            server.dump()
        );
        let entry = archive.entry(&server.url(host, path));
        assert_eq!(entry["state"], "fetched", "{entry:#}");
    }
    assert!(
        server.requests_for("elsewhere.test").is_empty(),
        "a sitemap entry on another host is out of scope:\n{}",
        server.dump()
    );
}

#[test]
fn rss_and_atom_feeds_linked_from_a_page_are_followed() {
    let host = "blog.test";
    let head = r#"<link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml">
<link rel="alternate" type="application/atom+xml" title="Atom" href="/atom.xml">"#;
    let server = Site::new()
        .page(host, "/", page_with_head("Home", head, &[]))
        .route(host, "/feed.xml", |req| {
            let o = req.origin();
            with_header(
                html(format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
  <title>Blog</title><link>{o}/</link><description>Test feed</description>
  <item><title>Feed one</title><link>{o}/f/1</link><guid>{o}/f/1</guid></item>
  <item><title>Feed two</title><link>{o}/f/2</link><guid>{o}/f/2</guid></item>
</channel></rss>
"#
                )),
                "content-type",
                "application/rss+xml",
            )
        })
        .route(host, "/atom.xml", |req| {
            let o = req.origin();
            with_header(
                html(format!(
                    r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Blog</title><id>{o}/</id><updated>2025-01-01T10:00:00Z</updated>
  <entry>
    <title>Feed three</title><id>{o}/f/3</id><link href="{o}/f/3"/>
    <updated>2025-01-01T10:00:00Z</updated>
  </entry>
</feed>
"#
                )),
                "content-type",
                "application/atom+xml",
            )
        })
        .page(host, "/f/1", page("Feed one", &[]))
        .page(host, "/f/2", page("Feed two", &[]))
        .page(host, "/f/3", page("Feed three", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--depth", "5"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");

    for path in ["/feed.xml", "/atom.xml"] {
        assert!(
            server.count(host, path) >= 1,
            "feed {path} was not fetched:\n{}",
            server.dump()
        );
    }
    for path in ["/f/1", "/f/2", "/f/3"] {
        assert_eq!(
            server.count(host, path),
            1,
            "feed entry {path} (linked from nowhere else) should be fetched once:\n{}",
            server.dump()
        );
        let entry = archive.entry(&server.url(host, path));
        assert_eq!(entry["state"], "fetched", "{entry:#}");
    }
}

#[test]
fn a_gzip_bomb_sitemap_is_cut_with_bounded_memory() {
    let _serial = exclusive();
    // The sitemap is a `.xml.gz` file (gzip as content, not as transfer
    // encoding), so the crawler inflates it itself: that must be capped too.
    let host = "bombmap.test";
    let server = Site::new()
        .route(host, "/robots.txt", |req| {
            with_header(
                html(format!(
                    "User-agent: *\nSitemap: {}/bomb.xml.gz\n",
                    req.origin()
                )),
                "content-type",
                "text/plain",
            )
        })
        .route(host, "/bomb.xml.gz", |_| {
            let body = gzip_bomb_body(1024 * 1024 * 1024, counter());
            let mut resp = axum::response::Response::new(body);
            resp.headers_mut().insert(
                "content-type",
                axum::http::HeaderValue::from_static("application/gzip"),
            );
            resp
        })
        .page(host, "/", page("Home", &["/a"]))
        .page(host, "/a", page("A", &[]))
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--json"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(90));
    out.assert_success("crawl");
    assert!(server.count(host, "/bomb.xml.gz") >= 1, "{}", server.dump());
    assert_eq!(server.count(host, "/a"), 1, "the crawl goes on");
    let rss = num(&out.summary(), "peak_rss_bytes");
    assert!(
        rss < 300 * 1024 * 1024 && out.sampled_peak_rss < 300 * 1024 * 1024,
        "peak RSS {rss} (sampled {}) while inflating a sitemap bomb",
        out.sampled_peak_rss
    );
    assert!(
        out.elapsed < Duration::from_secs(45),
        "took {:?}",
        out.elapsed
    );
}

#[test]
fn links_are_taken_from_html_only() {
    let host = "types.test";
    let server = Site::new()
        .page(
            host,
            "/",
            page("Home", &["/notes.txt", "/data.json", "/image.png", "/doc.xhtml"]),
        )
        .file(
            host,
            "/notes.txt",
            "text/plain; charset=utf-8",
            "Plain text that mentions <a href=\"/from-text\">a link</a>.",
        )
        .file(
            host,
            "/data.json",
            "application/json",
            "{\"html\": \"<a href='/from-json'>x</a>\"}",
        )
        .file(
            host,
            "/image.png",
            "image/png",
            b"\x89PNG\r\n\x1a\n<a href=\"/from-png\">".to_vec(),
        )
        .file(
            host,
            "/doc.xhtml",
            "application/xhtml+xml",
            "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>X</title></head>\
             <body><p><a href=\"/from-xhtml\">link</a></p></body></html>",
        )
        .page(host, "/from-text", page("T", &[]))
        .page(host, "/from-json", page("J", &[]))
        .page(host, "/from-png", page("P", &[]))
        .page(host, "/from-xhtml", page("X", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--depth", "3"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    for path in ["/from-text", "/from-json", "/from-png"] {
        assert_eq!(
            server.count(host, path),
            0,
            "a link was taken from a non-HTML body ({path}):\n{}",
            server.dump()
        );
    }
    assert_eq!(
        server.count(host, "/from-xhtml"),
        1,
        "XHTML is HTML:\n{}",
        server.dump()
    );
    for path in ["/notes.txt", "/data.json", "/image.png"] {
        let entry = archive.entry(&server.url(host, path));
        assert_eq!(entry["state"], "fetched", "{entry:#}");
        assert_eq!(num(&entry, "captures"), 1, "{entry:#}");
    }
    archive.assert_verify_clean();
}

#[test]
fn sitemap_index_loops_end() {
    let host = "loopmap.test";
    let index = |o: &str, locs: &[&str]| {
        let items: String = locs
            .iter()
            .map(|l| format!("<sitemap><loc>{o}{l}</loc></sitemap>"))
            .collect();
        xml(format!(
            "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{items}</sitemapindex>"
        ))
    };
    let server = Site::new()
        .route(host, "/robots.txt", |req| {
            with_header(
                html(format!("User-agent: *\nSitemap: {}/a.xml\n", req.origin())),
                "content-type",
                "text/plain",
            )
        })
        .route(host, "/a.xml", move |req| {
            index(&req.origin(), &["/a.xml", "/b.xml"])
        })
        .route(host, "/b.xml", move |req| {
            index(&req.origin(), &["/a.xml", "/urls.xml"])
        })
        .route(host, "/urls.xml", |req| {
            xml(format!(
                "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><url><loc>{}/found</loc></url></urlset>",
                req.origin()
            ))
        })
        .page(host, "/", page("Home", &[]))
        .page(host, "/found", page("Found", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--depth", "10"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    for path in ["/a.xml", "/b.xml", "/urls.xml"] {
        let n = server.count(host, path);
        assert!(
            (1..=2).contains(&n),
            "{path} fetched {n} times:\n{}",
            server.dump()
        );
    }
    assert_eq!(server.count(host, "/found"), 1, "{}", server.dump());
}

#[test]
fn a_sitemap_on_another_host_is_read_after_that_hosts_robots() {
    // News sites often keep sitemaps on a CDN host named in robots.txt.
    let host = "paper.test";
    let cdn = "cdn.test";
    let server = Site::new()
        .route(host, "/robots.txt", |req| {
            let port = req.origin().rsplit(':').next().unwrap_or_default().to_string();
            with_header(
                html(format!(
                    "User-agent: *\nAllow: /\nSitemap: http://cdn.test:{port}/maps/paper.xml\n"
                )),
                "content-type",
                "text/plain",
            )
        })
        .robots(cdn, "User-agent: *\nAllow: /\n")
        .route(cdn, "/maps/paper.xml", |req| {
            let port = req.origin().rsplit(':').next().unwrap_or_default().to_string();
            xml(format!(
                "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
                 <url><loc>http://paper.test:{port}/story/1</loc></url></urlset>"
            ))
        })
        .page(host, "/", page("Paper", &[]))
        .page(host, "/story/1", page("Story one", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host, cdn])
        .args(["--rate", "50/s", "--depth", "5"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    assert_eq!(
        server.paths(cdn).first().map(String::as_str),
        Some("/robots.txt"),
        "{}",
        server.dump()
    );
    assert_eq!(server.count(cdn, "/maps/paper.xml"), 1, "{}", server.dump());
    assert_eq!(
        server.count(host, "/story/1"),
        1,
        "an entry of the seed's host, listed in a CDN sitemap:\n{}",
        server.dump()
    );
}

#[test]
fn a_feed_on_another_host_linked_from_a_page_is_read() {
    let host = "daily.test";
    let feeds = "feeds.test";
    let server = Site::new()
        .route(host, "/", |req| {
            let port = req.origin().rsplit(':').next().unwrap_or_default().to_string();
            html(page_with_head(
                "Daily",
                &format!(
                    "<link rel=\"alternate\" type=\"application/rss+xml\" href=\"http://feeds.test:{port}/daily.rss\">"
                ),
                &[],
            ))
        })
        .route(feeds, "/daily.rss", |req| {
            let port = req.origin().rsplit(':').next().unwrap_or_default().to_string();
            with_header(
                html(format!(
                    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Daily</title>\
                     <link>http://daily.test:{port}/</link><description>d</description>\
                     <item><title>One</title><link>http://daily.test:{port}/item/1</link></item>\
                     </channel></rss>"
                )),
                "content-type",
                "application/rss+xml",
            )
        })
        .page(host, "/item/1", page("Item one", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host, feeds])
        .args(["--rate", "50/s", "--depth", "5"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    assert_eq!(server.count(feeds, "/daily.rss"), 1, "{}", server.dump());
    assert_eq!(
        server.count(host, "/item/1"),
        1,
        "an entry of the seed's host, listed in a feed on another host:\n{}",
        server.dump()
    );
}

#[test]
fn a_fifty_thousand_entry_sitemap_stays_bounded() {
    let _serial = exclusive();
    let host = "bigmap.test";
    let server = Site::new()
        .route(host, "/robots.txt", |req| {
            with_header(
                html(format!("User-agent: *\nSitemap: {}/big.xml\n", req.origin())),
                "content-type",
                "text/plain",
            )
        })
        .route(host, "/big.xml", |req| {
            let o = req.origin();
            let mut body = String::from(
                "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">",
            );
            for i in 0..50_000 {
                body.push_str(&format!("<url><loc>{o}/a/{i}</loc></url>"));
            }
            body.push_str("</urlset>");
            xml(body)
        })
        .route(host, "/a/*", |req| html(page(&req.path, &[])))
        .page(host, "/", page("Home", &[]))
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "100/s", "--max-pages", "20", "--json"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(120));
    out.assert_success("crawl");
    assert!(
        out.elapsed < Duration::from_secs(60),
        "a 50 000-entry sitemap with --max-pages 20 took {:?}",
        out.elapsed
    );
    let fetched = server
        .page_requests()
        .iter()
        .filter(|r| r.path.starts_with("/a/"))
        .count();
    assert!(
        fetched <= 20,
        "{fetched} sitemap entries fetched with --max-pages 20"
    );
    let rss = num(&out.summary(), "peak_rss_bytes");
    assert!(rss < 300 * 1024 * 1024, "peak RSS {rss}");
}

#[test]
fn sitemap_locations_with_whitespace_and_entities_are_read() {
    let host = "messy.test";
    let server = Site::new()
        .route(host, "/robots.txt", |req| {
            with_header(
                html(format!(
                    "User-agent: *\r\nSitemap:   {}/map.xml  \r\n",
                    req.origin()
                )),
                "content-type",
                "text/plain",
            )
        })
        .route(host, "/map.xml", |req| {
            let o = req.origin();
            xml(format!(
                "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n\
                 <url>\n  <loc>\n    {o}/m/1\n  </loc>\n</url>\n\
                 <url><loc>{o}/m/2?a=1&amp;b=2</loc></url>\n\
                 <url><loc><![CDATA[{o}/m/3]]></loc></url>\n\
                 </urlset>\n"
            ))
        })
        .page(host, "/", page("Home", &[]))
        .page(host, "/m/1", page("M1", &[]))
        .page(host, "/m/2?a=1&b=2", page("M2", &[]))
        .page(host, "/m/3", page("M3", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--depth", "5"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    for path in ["/m/1", "/m/2?a=1&b=2", "/m/3"] {
        assert_eq!(server.count(host, path), 1, "{path}:\n{}", server.dump());
    }
}

#[test]
fn sitemap_and_feed_fetches_are_rate_limited_like_pages() {
    let _serial = exclusive();
    let host = "paced.test";
    let server = Site::new()
        .route(host, "/robots.txt", |req| {
            with_header(
                html(format!("User-agent: *\nSitemap: {}/s.xml\n", req.origin())),
                "content-type",
                "text/plain",
            )
        })
        .route(host, "/s.xml", |req| {
            let o = req.origin();
            xml(format!(
                "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
                 <url><loc>{o}/a</loc></url><url><loc>{o}/b</loc></url></urlset>"
            ))
        })
        .page(
            host,
            "/",
            page_with_head(
                "Home",
                "<link rel=\"alternate\" type=\"application/rss+xml\" href=\"/f.rss\">",
                &[],
            ),
        )
        .route(host, "/f.rss", |req| {
            let o = req.origin();
            with_header(
                html(format!(
                    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><link>{o}/</link>\
                     <description>d</description><item><title>c</title><link>{o}/c</link></item></channel></rss>"
                )),
                "content-type",
                "application/rss+xml",
            )
        })
        .page(host, "/a", page("A", &[]))
        .page(host, "/b", page("B", &[]))
        .page(host, "/c", page("C", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "5/s", "--depth", "5"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    let reqs = server.requests_for(host);
    assert_eq!(reqs.len(), 7, "{}", server.dump());
    let times: Vec<std::time::Instant> = reqs.iter().map(|r| r.at).collect();
    for gap in gaps(&times) {
        assert!(
            gap >= 0.16,
            "{gap:.3}s between two requests at --rate 5/s (sitemaps and feeds count):\n{}",
            server.dump()
        );
    }
}

#[test]
fn an_html_page_without_a_content_type_is_still_read() {
    let host = "untyped.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/untyped"]))
        .raw(
            host,
            "/untyped",
            axum::http::StatusCode::OK,
            vec![],
            page("Untyped", &["/found"]),
        )
        .page(host, "/found", page("Found", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    assert_eq!(
        server.count(host, "/found"),
        1,
        "a page served without Content-Type that starts with <!doctype html> is HTML:\n{}",
        server.dump()
    );
    let entry = archive.entry(&server.url(host, "/untyped"));
    assert_eq!(entry["title"], "Untyped", "{entry:#}");
}
