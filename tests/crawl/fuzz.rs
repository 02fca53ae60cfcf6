//! Properties of the parsers that read what hosts send before anything
//! else: robots.txt, sitemaps and feeds, and every URL. For any input they
//! return (no panic, no hang), and robots.txt answers as the reference
//! matcher does on the file it was given. Run longer with `PROPTEST_CASES`.

use chrono::Utc;
use palimpsest::archive::RobotsRecord;
use palimpsest::canonical::CanonicalUrl;
use palimpsest::discover::parse_listing;
use palimpsest::politeness::Robots;
use proptest::prelude::*;
use url::Url;

/// Random text steered by `atoms` into the corners of a format.
fn text_of(atoms: Vec<&'static str>) -> impl Strategy<Value = String> {
    let atom = prop::sample::select(atoms).prop_map(str::to_string);
    let noise = "[ -~é\u{e9}\u{fffd}\n\r\t]{0,12}";
    prop::collection::vec(prop_oneof![3 => atom, 1 => noise], 0..60).prop_map(|v| v.concat())
}

fn robots_text() -> impl Strategy<Value = String> {
    text_of(vec![
        "User-agent: *\n",
        "User-agent: palimpsest\n",
        "user-agent: palimpsest/1.0 (+https://x)\n",
        "User-agent: other\n",
        "Disallow: /\n",
        "Disallow: /a\n",
        "Disallow: /a$\n",
        "Disallow: /*.pdf\n",
        "Disallow:\n",
        "Allow: /a/b\n",
        "Allow: /\n",
        "Allow: /index.html\n",
        "Crawl-delay: 2\n",
        "Crawl-delay: -1\n",
        "Crawl-delay: 1e400\n",
        "Sitemap: http://a.test/s.xml\n",
        "# comment ",
        "\u{feff}",
        "%2F",
        "%",
        "é",
        "日本",
        ":",
        "\r\n",
        "\n\n",
    ])
}

fn check(robots: &Robots, path: &str) -> bool {
    let url = CanonicalUrl::parse(&format!("http://a.test{path}")).unwrap();
    robots.check(&url, "palimpsest").is_ok()
}

const PATHS: &[&str] = &[
    "/",
    "/a",
    "/a/b",
    "/a/b/c",
    "/ab",
    "/x.pdf",
    "/index.html",
    "/%C3%A9",
    "/b?q=1",
];

proptest! {
    #[test]
    fn robots_txt_never_panics_and_answers_as_the_reference_matcher(
        body in robots_text(),
        long in prop::option::of((1usize..3, 5_000usize..9_000)),
    ) {
        let mut body = body;
        if let Some((copies, n)) = long {
            // Long lines of multi-byte characters: the reference parser's
            // weak spot.
            body.push_str(&"ü".repeat(n * copies));
            body.push('\n');
        }
        let record = RobotsRecord { fetched_at: Utc::now(), status: Some(200), body: body.clone() };
        let robots = Robots::from_record(&record, "palimpsest");
        for path in PATHS {
            let ours = check(&robots, path);
            let url = format!("http://a.test{path}");
            let reference = std::panic::catch_unwind(|| {
                robotstxt::DefaultMatcher::default()
                    .one_agent_allowed_by_robots(&body, "palimpsest", &url)
            });
            // Where the reference parser survives the file, we agree with it.
            if let Ok(allowed) = reference {
                prop_assert_eq!(ours, allowed, "{} on\n{}", path, body);
            }
        }
    }

    #[test]
    fn sitemaps_and_feeds_never_panic(body in text_of(vec![
        "<?xml version=\"1.0\"?>",
        "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">",
        "</urlset>",
        "<sitemapindex>",
        "</sitemapindex>",
        "<url>",
        "</url>",
        "<sitemap>",
        "</sitemap>",
        "<loc>",
        "</loc>",
        "http://a.test/p",
        "/rel",
        "javascript:x",
        "<lastmod>",
        "2025-01-01T00:00:00Z",
        "2025-99-99",
        "</lastmod>",
        "<rss version=\"2.0\"><channel>",
        "</channel></rss>",
        "<item>",
        "</item>",
        "<link>",
        "</link>",
        "<feed xmlns=\"http://www.w3.org/2005/Atom\">",
        "</feed>",
        "<entry>",
        "</entry>",
        "<link href=\"",
        "\"/>",
        "<![CDATA[",
        "]]>",
        "&amp;",
        "&#x0;",
        "&unknown;",
        "<!DOCTYPE x [<!ENTITY a \"aaaa\">]>",
        "<d>",
        "</d>",
        "<",
        ">",
        "\u{1f}\u{8b}",
    ])) {
        let base = Url::parse("http://a.test/map.xml").unwrap();
        let _ = parse_listing(body.as_bytes(), &base, 1 << 20);
    }

    #[test]
    fn gzipped_listings_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let base = Url::parse("http://a.test/map.xml.gz").unwrap();
        let mut gz = vec![0x1f, 0x8b];
        gz.extend(bytes);
        let _ = parse_listing(&gz, &base, 1 << 16);
    }

    #[test]
    fn canonical_urls_are_stable_and_never_panic(href in text_of(vec![
        "http://",
        "https://",
        "HTTP://",
        "a.test",
        "A.Test.",
        ":8080",
        ":80",
        ":99999",
        "/",
        "..",
        ".",
        "?",
        "&",
        "=",
        "#",
        "utm_source=x",
        "jsessionid=ABC",
        ";jsessionid=0AF",
        "PHPSESSID=1",
        "sid=4f1c2b3a9d8e7f60a1b2",
        "%",
        "%2e",
        "%00",
        "é",
        "xn--",
        "[::1]",
        "user:pw@",
        "\\",
        " ",
        "\t",
        "javascript:",
        "mailto:",
    ])) {
        let base = Url::parse("http://base.test/dir/page").unwrap();
        if let Ok(url) = CanonicalUrl::join(&base, &href) {
            // The canonical spelling is a fixed point.
            let again = CanonicalUrl::parse(url.as_str());
            prop_assert_eq!(again.as_ref().map(CanonicalUrl::as_str), Ok(url.as_str()));
            prop_assert!(url.as_str().len() <= palimpsest::canonical::MAX_URL_LEN);
        }
        let _ = CanonicalUrl::parse(&href);
    }
}
