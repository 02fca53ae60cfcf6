//! Site profiles: CSS selectors for one host, compiled when the seed file is
//! loaded so that a bad selector fails at start-up, not mid-crawl.
//!
//! A profile is the first extraction layer: every field it has a selector
//! for, and that selector finds on the page, overrides structured data and
//! generic detection.

use scraper::Selector;
use serde::Deserialize;

use super::dom::Flat;

/// A `[[profile]]` table of a seed file, as written.
#[derive(Debug, Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    /// The host the profile applies to (`news.example`).
    pub host: String,
    /// CSS selector of the headline.
    pub title: Option<String>,
    /// CSS selector of the article body.
    pub body: Option<String>,
    #[serde(default)]
    /// CSS selectors of elements removed from the body.
    pub exclude: Vec<String>,
    /// CSS selector of the author names.
    pub authors: Option<String>,
    /// CSS selector of the publication date.
    pub published: Option<String>,
    /// CSS selector of the modification date.
    pub modified: Option<String>,
}

/// A selector of a profile that does not parse.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("profile for {host}: invalid CSS selector {selector:?} for `{field}`")]
pub struct ProfileError {
    /// The profile's host.
    pub host: String,
    /// The field whose selector is wrong (`title`, `body`…).
    pub field: &'static str,
    /// The selector as written.
    pub selector: String,
}

/// A compiled site profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Lower-case host name the profile applies to.
    pub host: String,
    pub(crate) title: Option<Selector>,
    pub(crate) body: Option<Selector>,
    pub(crate) exclude: Vec<Selector>,
    pub(crate) authors: Option<Selector>,
    pub(crate) published: Option<Selector>,
    pub(crate) modified: Option<Selector>,
}

impl Profile {
    /// Compiles every selector of `spec`; the first bad one is the error.
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
            host: spec.host.trim().trim_end_matches('.').to_ascii_lowercase(),
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

    /// Whether this profile is for `host` (exact, case-insensitive).
    pub fn applies_to(&self, host: &str) -> bool {
        host.trim_end_matches('.').eq_ignore_ascii_case(&self.host)
    }

    /// Picks the profile for `host` from a list.
    pub fn for_host<'a>(profiles: &'a [Profile], host: &str) -> Option<&'a Profile> {
        profiles.iter().find(|p| p.applies_to(host))
    }
}

/// Indices of the flattened nodes that `sel` matches, in document order.
pub(crate) fn matches(flat: &Flat<'_>, sel: &Selector) -> Vec<usize> {
    flat.nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.eref.filter(|e| sel.matches(e)).map(|_| i))
        .collect()
}

/// Marks every node inside an element that one of `sels` matches.
pub(crate) fn excluded(flat: &Flat<'_>, sels: &[Selector]) -> Vec<bool> {
    let mut out = vec![false; flat.nodes.len()];
    if sels.is_empty() {
        return out;
    }
    let mut i = 0;
    while i < flat.nodes.len() {
        let n = &flat.nodes[i];
        if n.eref.is_some_and(|e| sels.iter().any(|s| s.matches(&e))) {
            let end = n.end.max(i + 1).min(out.len());
            for x in &mut out[i..end] {
                *x = true;
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_selectors_fail_at_compile_time() {
        let spec = ProfileSpec {
            host: "News.Example".into(),
            body: Some("div.body".into()),
            exclude: vec![".share".into(), "[[".into()],
            ..Default::default()
        };
        let err = Profile::compile(&spec).unwrap_err();
        assert_eq!(err.field, "exclude");
        let ok = Profile::compile(&ProfileSpec {
            exclude: vec![".share".into()],
            ..spec
        })
        .unwrap();
        assert!(ok.applies_to("news.example"));
        assert!(!ok.applies_to("other.example"));
    }

    #[test]
    fn spec_rejects_unknown_fields() {
        let err = toml::from_str::<ProfileSpec>("host = \"a\"\nbogus = \"x\"").unwrap_err();
        assert!(err.to_string().contains("bogus"));
    }
}
