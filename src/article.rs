//! The article record: what extraction produces, what a version
//! stores and what every export writes.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::digest::ContentDigest;

/// Whether a page is a news article or some other page (section front, home
/// page, tag list, about page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PageKind {
    /// A news article: one story with a body of prose.
    Article,
    /// Any other page.
    #[default]
    Page,
}

/// What extraction found on one page. Archive fields (`url`, `version`,
/// `captured_at`, `content_digest`) are added when a record is written out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Article {
    /// The URL the page names as its canonical one (`rel=canonical`,
    /// `og:url`), resolved; `None` if it names none.
    pub canonical_url: Option<String>,
    /// The headline; `None` if none was found.
    pub title: Option<String>,
    /// Author names, in byline order (empty if none were found).
    pub authors: Vec<String>,
    /// Publication time with the offset the page gave; `None` if not found.
    pub published: Option<DateTime<FixedOffset>>,
    /// Last modification time the page claims; `None` if it claims none.
    pub modified: Option<DateTime<FixedOffset>>,
    /// Language as a primary subtag (`en`, `vi`), declared or detected;
    /// `None` if neither is known.
    pub language: Option<String>,
    /// The publication's name (`og:site_name`, the publisher); `None` if not
    /// found.
    pub site_name: Option<String>,
    /// The page's summary (`og:description`, `description`); `None` if empty.
    pub description: Option<String>,
    /// The body: paragraphs of prose separated by blank lines.
    pub text: String,
    /// URLs the article names as its source (an original it syndicates or
    /// cites), absolute and canonical.
    pub source_links: Vec<String>,
    /// Whether the page is an article.
    pub kind: PageKind,
    /// On a page that is not an article (a section front, a home page):
    /// the headlines it shows, in order, with the stories they link to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headlines: Vec<Headline>,
}

/// A headline on a front page and the story it links to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Headline {
    /// The headline's words, as shown.
    pub text: String,
    /// The canonical URL of the story it links to.
    pub url: String,
}

impl Article {
    /// The version identity: normalized title, authors, body text
    /// and publication date. Not the HTML, whose ads and timestamps change on
    /// every load, and not `modified`, which some sites bump on every request.
    pub(crate) fn identity(&self) -> ContentDigest {
        let title = normalize_ws(self.title.as_deref().unwrap_or_default());
        let authors = self
            .authors
            .iter()
            .map(|a| normalize_ws(a))
            .collect::<Vec<_>>()
            .join("\u{1f}");
        let text = normalize_ws(&self.text);
        let published = self
            .published
            .map(|d| d.to_utc().to_rfc3339())
            .unwrap_or_default();
        if self.headlines.is_empty() {
            // Exactly the identity of records made before headlines were kept.
            return ContentDigest::of_fields([
                title.as_bytes(),
                authors.as_bytes(),
                text.as_bytes(),
                published.as_bytes(),
            ]);
        }
        let headlines = self
            .headlines
            .iter()
            .map(|h| format!("{}\u{1f}{}", normalize_ws(&h.text), h.url))
            .collect::<Vec<_>>()
            .join("\u{1e}");
        ContentDigest::of_fields([
            title.as_bytes(),
            authors.as_bytes(),
            text.as_bytes(),
            published.as_bytes(),
            headlines.as_bytes(),
        ])
    }
}

/// Collapses every run of whitespace to one space, so reflowed or re-indented
/// markup is not a change.
pub(crate) fn normalize_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_not_identity_but_words_are() {
        let a = Article {
            title: Some("Headline".into()),
            text: "One paragraph.\n\nTwo  paragraphs.".into(),
            ..Default::default()
        };
        let mut b = a.clone();
        b.text = "One paragraph.\n\n\n  Two paragraphs. ".into();
        assert_eq!(a.identity(), b.identity());
        b.text = "One paragraph.\n\nThree paragraphs.".into();
        assert_ne!(a.identity(), b.identity());
        let mut c = a.clone();
        c.description = Some("ignored".into());
        assert_eq!(a.identity(), c.identity());
    }
}

/// The article record as written by `extract`, `show --json` and
/// the JSONL export: the page URL, the article, and where it comes from in
/// the archive (all `null` for `extract` on files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ArticleRecord {
    pub url: String,
    pub canonical_url: Option<String>,
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<DateTime<FixedOffset>>,
    pub modified: Option<DateTime<FixedOffset>>,
    pub language: Option<String>,
    pub site_name: Option<String>,
    pub description: Option<String>,
    pub text: String,
    pub source_links: Vec<String>,
    pub kind: PageKind,
    /// A front page's headlines (absent for articles).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headlines: Vec<Headline>,
    pub version: Option<u32>,
    pub captured_at: Option<chrono::DateTime<chrono::Utc>>,
    pub content_digest: Option<ContentDigest>,
}

impl ArticleRecord {
    /// A record for an article not (yet) in the archive.
    pub fn new(url: String, article: Article) -> Self {
        Self {
            url,
            canonical_url: article.canonical_url,
            title: article.title,
            authors: article.authors,
            published: article.published,
            modified: article.modified,
            language: article.language,
            site_name: article.site_name,
            description: article.description,
            text: article.text,
            source_links: article.source_links,
            kind: article.kind,
            headlines: article.headlines,
            version: None,
            captured_at: None,
            content_digest: None,
        }
    }
}
