//! Extraction: HTML text in, owned article and links out.
//!
//! Everything here is synchronous and owns its results: a `scraper::Html` is
//! not `Send`, so no DOM ever crosses an `.await`. The crawler runs these
//! functions on its CPU pool; `palimpsest extract` runs them on files.

mod profile;

pub use profile::{Profile, ProfileError, ProfileSpec};

use scraper::{Html, Selector};
use url::Url;

use crate::article::{Article, PageKind};
use crate::canonical::CanonicalUrl;

/// What a link on a page is to the crawler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// An ordinary hyperlink, followed within scope.
    Page,
    /// A page the article names as its source (SPEC §6), followed off-site.
    Source,
    /// An RSS/Atom feed the page advertises.
    Feed,
}

/// A link found on a page, already canonical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: CanonicalUrl,
    pub kind: LinkKind,
}

/// The result of extracting one page.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    pub article: Article,
    pub links: Vec<Link>,
}

/// Extracts the article and the outgoing links of one HTML page.
/// `url` is the page's final URL (after redirects), against which relative
/// links resolve unless the page has a `<base href>`.
pub fn extract(html: &str, url: &Url, profile: Option<&Profile>) -> Extraction {
    let doc = Html::parse_document(html);
    let base = base_url(&doc, url);
    let mut article = Article {
        title: first_text(&doc, "title")
            .or_else(|| first_attr(&doc, r#"meta[property="og:title"]"#, "content")),
        canonical_url: first_attr(&doc, r#"link[rel="canonical"]"#, "href")
            .and_then(|h| CanonicalUrl::join(&base, &h).ok())
            .map(|u| u.to_string()),
        language: first_attr(&doc, "html", "lang"),
        ..Default::default()
    };
    if let Some(profile) = profile {
        profile.apply(&doc, &mut article);
    }
    if article.text.is_empty() {
        article.text = paragraphs(&doc);
    }
    article.kind = if first_attr(&doc, r#"meta[property="og:type"]"#, "content").as_deref()
        == Some("article")
    {
        PageKind::Article
    } else {
        PageKind::Page
    };
    Extraction {
        links: links(&doc, &base),
        article,
    }
}

fn sel(css: &str) -> Selector {
    // Only called with the literals in this module, each covered by tests.
    Selector::parse(css).unwrap_or_else(|_| unreachable!("invalid built-in selector {css}"))
}

fn base_url(doc: &Html, url: &Url) -> Url {
    first_attr(doc, "base[href]", "href")
        .and_then(|h| url.join(&h).ok())
        .unwrap_or_else(|| url.clone())
}

fn first_text(doc: &Html, css: &str) -> Option<String> {
    doc.select(&sel(css))
        .map(|e| crate::article::normalize_ws(&e.text().collect::<String>()))
        .find(|t| !t.is_empty())
}

fn first_attr(doc: &Html, css: &str, attr: &str) -> Option<String> {
    doc.select(&sel(css))
        .filter_map(|e| e.value().attr(attr))
        .map(str::trim)
        .find(|v| !v.is_empty())
        .map(str::to_string)
}

fn paragraphs(doc: &Html) -> String {
    doc.select(&sel("p"))
        .map(|p| crate::article::normalize_ws(&p.text().collect::<String>()))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn links(doc: &Html, base: &Url) -> Vec<Link> {
    let mut out = Vec::new();
    for a in doc.select(&sel("a[href], area[href]")) {
        if let Some(href) = a.value().attr("href")
            && let Ok(url) = CanonicalUrl::join(base, href)
        {
            out.push(Link {
                url,
                kind: LinkKind::Page,
            });
        }
    }
    let feeds = r#"link[rel~="alternate"][type="application/rss+xml"][href], link[rel~="alternate"][type="application/atom+xml"][href]"#;
    for l in doc.select(&sel(feeds)) {
        if let Some(href) = l.value().attr("href")
            && let Ok(url) = CanonicalUrl::join(base, href)
        {
            out.push(Link {
                url,
                kind: LinkKind::Feed,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_against_base_and_feeds_are_found() {
        let html = r#"<html><head><title> A  page </title><base href="http://a.test/dir/">
            <link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>
            <body><a href="x.html#f">x</a><a href="mailto:a@b">m</a><p>Hello  world</p></body></html>"#;
        let url = Url::parse("http://a.test/").unwrap();
        let ex = extract(html, &url, None);
        assert_eq!(ex.article.title.as_deref(), Some("A page"));
        assert_eq!(ex.article.text, "Hello world");
        let urls: Vec<_> = ex.links.iter().map(|l| (l.url.as_str(), l.kind)).collect();
        assert_eq!(
            urls,
            vec![
                ("http://a.test/dir/x.html", LinkKind::Page),
                ("http://a.test/feed.xml", LinkKind::Feed)
            ]
        );
    }
}
