//! Discovery beyond HTML links: XML sitemaps (indexes, URL sets, news
//! sitemaps, gzipped) and RSS/Atom feeds. Synchronous, owned results.

use std::io::Read;

use chrono::{DateTime, FixedOffset};
use quick_xml::events::Event;
use url::Url;

use crate::canonical::CanonicalUrl;

/// What a non-HTML document told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// A sitemap index: more sitemaps.
    SitemapIndex(Vec<Entry>),
    /// A sitemap URL set or a feed: pages.
    Pages(Vec<Entry>),
}

/// One URL named by a sitemap or feed, with its last-change time if given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub(crate) url: CanonicalUrl,
    pub(crate) updated: Option<DateTime<FixedOffset>>,
}

/// Sitemaps are capped at 50 000 URLs and 50 MB by the protocol.
const MAX_ENTRIES: usize = 50_000;

/// Element nesting past which an XML document is no sitemap or feed: real
/// ones nest a handful of levels, and the feed parser's namespace
/// bookkeeping overflows at 65 536.
const MAX_XML_DEPTH: usize = 256;

/// Whether elements in `body` nest deeper than `limit` (a streaming scan).
fn nested_deeper_than(body: &[u8], limit: usize) -> bool {
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().check_end_names = false;
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(_)) => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
        buf.clear();
    }
}

/// Recognizes a sitemap or feed by its content, and lists what it names.
/// `None` when the document is neither.
pub fn parse_listing(body: &[u8], base: &Url, max_bytes: u64) -> Option<Listing> {
    let inflated;
    let body = if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(body)
            .take(max_bytes)
            .read_to_end(&mut out)
            .ok()?;
        inflated = out;
        &inflated[..]
    } else {
        body
    };
    if nested_deeper_than(body, MAX_XML_DEPTH) {
        return None;
    }
    match root_element(body)?.as_str() {
        "urlset" => Some(Listing::Pages(sitemap_locs(body, base, "url"))),
        "sitemapindex" => Some(Listing::SitemapIndex(sitemap_locs(body, base, "sitemap"))),
        "rss" | "feed" | "rdf" | "RDF" => feed_entries(body, base).map(Listing::Pages),
        _ => None,
    }
}

/// Whether a response looks like XML worth parsing as a listing.
pub(crate) fn looks_like_xml(content_type: Option<&str>, body: &[u8]) -> bool {
    let ct = content_type.unwrap_or_default().to_ascii_lowercase();
    if ct.contains("xml") || ct.contains("rss") || ct.contains("atom") || ct.contains("gzip") {
        return true;
    }
    if body.starts_with(&[0x1f, 0x8b]) {
        return true;
    }
    let head = String::from_utf8_lossy(&body[..body.len().min(512)]);
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with("<?xml")
        || head.starts_with("<rss")
        || head.starts_with("<feed")
        || head.starts_with("<urlset")
        || head.starts_with("<sitemapindex")
}

fn local_name(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

fn root_element(body: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                return Some(String::from_utf8_lossy(local_name(e.name().as_ref())).into_owned());
            }
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
        buf.clear();
    }
}

/// `<loc>` and `<lastmod>` (or `news:publication_date`) of each `<url>` or
/// `<sitemap>` element.
fn sitemap_locs(body: &[u8], base: &Url, item: &str) -> Vec<Entry> {
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut in_item = false;
    let mut field: Option<String> = None;
    // Text arrives in pieces: runs of characters and entity references.
    let mut text = String::new();
    let (mut loc, mut updated): (Option<String>, Option<String>) = (None, None);
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(local_name(e.name().as_ref())).into_owned();
                if name == item {
                    in_item = true;
                    loc = None;
                    updated = None;
                } else if in_item {
                    field = Some(name);
                    text.clear();
                }
            }
            Ok(Event::Text(t)) if in_item => {
                text.push_str(&t.decode().unwrap_or_default());
            }
            Ok(Event::GeneralRef(r)) if in_item => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    text.push(c);
                } else if let Some(s) = r
                    .decode()
                    .ok()
                    .and_then(|name| quick_xml::escape::resolve_predefined_entity(&name))
                {
                    text.push_str(s);
                }
            }
            Ok(Event::CData(t)) if in_item => {
                text.push_str(&String::from_utf8_lossy(&t));
            }
            Ok(Event::End(e)) => {
                let name = local_name(e.name().as_ref()).to_vec();
                if name == item.as_bytes() {
                    in_item = false;
                    if let Some(url) = loc.take().and_then(|l| CanonicalUrl::join(base, &l).ok()) {
                        out.push(Entry {
                            url,
                            updated: updated.take().and_then(|u| parse_date(&u)),
                        });
                        if out.len() >= MAX_ENTRIES {
                            break;
                        }
                    }
                } else {
                    match field.as_deref() {
                        Some("loc") => loc = Some(text.trim().to_string()),
                        Some("lastmod") | Some("publication_date") => {
                            updated = Some(text.trim().to_string())
                        }
                        _ => {}
                    }
                }
                field = None;
                text.clear();
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

fn parse_date(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s).ok().or_else(|| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc().fixed_offset())
    })
}

fn feed_entries(body: &[u8], base: &Url) -> Option<Vec<Entry>> {
    let feed = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .build()
        .parse(body)
        .ok()?;
    Some(
        feed.entries
            .iter()
            .filter_map(|entry| {
                let link = entry
                    .links
                    .iter()
                    .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                    .or(entry.links.first())?;
                Some(Entry {
                    url: CanonicalUrl::join(base, &link.href).ok()?,
                    updated: entry.updated.or(entry.published).map(|d| d.fixed_offset()),
                })
            })
            .take(MAX_ENTRIES)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://a.test/sitemap.xml").unwrap()
    }

    #[test]
    fn urlset_with_news_extension() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>http://a.test/one?utm_source=x&amp;id=1</loc><lastmod>2025-10-01</lastmod></url>
  <url><loc>http://a.test/two</loc><news:news><news:publication_date>2025-10-02T10:00:00+07:00</news:publication_date></news:news></url>
</urlset>"#;
        let Some(Listing::Pages(entries)) = parse_listing(xml, &base(), 1 << 20) else {
            panic!("not a urlset")
        };
        assert_eq!(entries[0].url.as_str(), "http://a.test/one?id=1");
        assert!(entries[0].updated.is_some());
        assert_eq!(
            entries[1].updated.unwrap().to_rfc3339(),
            "2025-10-02T10:00:00+07:00"
        );
    }

    #[test]
    fn gzipped_index() {
        let xml = br#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>/s1.xml</loc></sitemap></sitemapindex>"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, xml).unwrap();
        let gz = gz.finish().unwrap();
        let Some(Listing::SitemapIndex(entries)) = parse_listing(&gz, &base(), 1 << 20) else {
            panic!("not an index")
        };
        assert_eq!(entries[0].url.as_str(), "http://a.test/s1.xml");
    }

    #[test]
    fn rss_and_atom_feeds() {
        let rss = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://a.test/</link><description>d</description>
            <item><title>x</title><link>http://a.test/x</link><pubDate>Tue, 10 Jun 2025 04:00:00 GMT</pubDate></item></channel></rss>"#;
        let Some(Listing::Pages(e)) = parse_listing(rss, &base(), 1 << 20) else {
            panic!()
        };
        assert_eq!(e[0].url.as_str(), "http://a.test/x");
        let atom = br#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id><updated>2025-06-10T00:00:00Z</updated>
            <entry><title>y</title><id>urn:y</id><updated>2025-06-10T00:00:00Z</updated><link href="/y"/></entry></feed>"#;
        let Some(Listing::Pages(e)) = parse_listing(atom, &base(), 1 << 20) else {
            panic!()
        };
        assert_eq!(e[0].url.as_str(), "http://a.test/y");
        assert!(parse_listing(b"<html><body>hi</body></html>", &base(), 1 << 20).is_none());
    }
}

#[cfg(test)]
mod hostile_tests {
    use super::*;

    #[test]
    fn deeply_nested_feeds_and_sitemaps_are_survived() {
        let base = Url::parse("http://a.test/feed.xml").unwrap();
        let deep = format!("{}x{}", "<d>".repeat(200_000), "</d>".repeat(200_000));
        let rss = format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><title>a</title><link>http://a.test/1</link><description>{deep}</description></item></channel></rss>"
        );
        assert_eq!(parse_listing(rss.as_bytes(), &base, 50 << 20), None);
        let atom = format!(
            "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><entry>{deep}<link href=\"/2\"/></entry></feed>"
        );
        assert_eq!(parse_listing(atom.as_bytes(), &base, 50 << 20), None);
        let map = format!(
            "<?xml version=\"1.0\"?><urlset><url>{deep}<loc>http://a.test/3</loc></url></urlset>"
        );
        assert_eq!(parse_listing(map.as_bytes(), &base, 50 << 20), None);
        // A shallow feed is still read.
        let shallow = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><title>a</title><link>http://a.test/1</link></item></channel></rss>";
        assert!(parse_listing(shallow.as_bytes(), &base, 1 << 20).is_some());
    }
}
