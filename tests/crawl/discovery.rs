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
