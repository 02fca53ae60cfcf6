//! Canonical URLs: the one spelling of a URL that is queued, keyed and compared.
//!
//! Every URL that enters the crawler passes through [`CanonicalUrl::parse`] or
//! [`CanonicalUrl::join`], so two spellings of the same page (a fragment, a
//! tracking parameter, an upper-case host, a default port) are one archive key.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

/// Why a string is not a URL the crawler can use.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum UrlError {
    #[error("malformed URL {input:?}: {reason}")]
    Malformed { input: String, reason: String },
    #[error("unsupported URL scheme {scheme:?} in {input:?} (only http and https)")]
    Scheme { input: String, scheme: String },
    #[error("URL {input:?} has no host")]
    NoHost { input: String },
}

/// Query parameters that identify a campaign or a click, never a page.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "vero_conv",
    "wickedid",
    "s_cid",
    "cmpid",
    "ncid",
    "ocid",
    "spm",
    "__twitter_impression",
    "ito",
];

fn is_tracking_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("utm_") || TRACKING_PARAMS.contains(&lower.as_str())
}

/// An absolute `http`/`https` URL in canonical form: lower-case scheme and
/// host, no default port, no fragment, dot-segments resolved, tracking
/// parameters removed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CanonicalUrl(Url);

impl CanonicalUrl {
    /// Parses an absolute URL and canonicalizes it.
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let url = Url::parse(input.trim()).map_err(|e| UrlError::Malformed {
            input: input.to_string(),
            reason: e.to_string(),
        })?;
        Self::from_url(url, input)
    }

    /// Resolves `href` against `base` (as a browser does) and canonicalizes it.
    pub fn join(base: &Url, href: &str) -> Result<Self, UrlError> {
        let url = base.join(href.trim()).map_err(|e| UrlError::Malformed {
            input: href.to_string(),
            reason: e.to_string(),
        })?;
        Self::from_url(url, href)
    }

    fn from_url(mut url: Url, input: &str) -> Result<Self, UrlError> {
        match url.scheme() {
            "http" | "https" => {}
            other => {
                return Err(UrlError::Scheme {
                    input: input.to_string(),
                    scheme: other.to_string(),
                });
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(UrlError::NoHost {
                input: input.to_string(),
            });
        }
        url.set_fragment(None);
        // `Url` already drops default ports, lower-cases the host and resolves
        // dot-segments; what is left is the query.
        if url.query().is_some() {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| !is_tracking_param(k))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            if kept.is_empty() {
                url.set_query(None);
            } else if kept.len() != url.query_pairs().count() {
                url.query_pairs_mut().clear().extend_pairs(kept);
            }
        }
        if url.host_str().is_some_and(|h| h.ends_with('.')) {
            let host = url
                .host_str()
                .unwrap_or_default()
                .trim_end_matches('.')
                .to_string();
            if !host.is_empty() {
                let _ = url.set_host(Some(&host));
            }
        }
        let _ = url.set_username("");
        let _ = url.set_password(None);
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// The host name, without port.
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// The politeness key: host and effective port (`news.example:443`).
    /// robots.txt and rate limits apply per authority.
    pub fn authority(&self) -> String {
        format!(
            "{}:{}",
            self.host(),
            self.0.port_or_known_default().unwrap_or(0)
        )
    }

    /// The robots.txt URL of this URL's origin.
    pub fn robots_url(&self) -> CanonicalUrl {
        let mut url = self.0.clone();
        url.set_path("/robots.txt");
        url.set_query(None);
        CanonicalUrl(url)
    }

    /// Path plus query, as matched by include/exclude patterns and robots.txt.
    pub fn path_and_query(&self) -> String {
        match self.0.query() {
            Some(q) => format!("{}?{}", self.0.path(), q),
            None => self.0.path().to_string(),
        }
    }
}

impl fmt::Display for CanonicalUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl fmt::Debug for CanonicalUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CanonicalUrl({})", self.0.as_str())
    }
}

impl std::str::FromStr for CanonicalUrl {
    type Err = UrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for CanonicalUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CanonicalUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        CanonicalUrl::parse(s).unwrap().to_string()
    }

    #[test]
    fn spellings_of_one_page_are_one_key() {
        assert_eq!(
            canon("HTTP://News.Example:80/a/../b/./c?utm_source=x&id=3&fbclid=y#top"),
            "http://news.example/b/c?id=3"
        );
        assert_eq!(
            canon("https://news.example:443/?utm_medium=rss"),
            "https://news.example/"
        );
        assert_eq!(canon("https://news.example./x"), "https://news.example/x");
        assert_eq!(
            canon("https://user:pw@news.example/x"),
            "https://news.example/x"
        );
    }

    #[test]
    fn keeps_meaningful_query_and_port() {
        assert_eq!(
            canon("http://a.test:8080/p?page=2"),
            "http://a.test:8080/p?page=2"
        );
        assert_eq!(
            CanonicalUrl::parse("http://a.test:8080/")
                .unwrap()
                .authority(),
            "a.test:8080"
        );
        assert_eq!(
            CanonicalUrl::parse("https://a.test/x?y")
                .unwrap()
                .robots_url()
                .as_str(),
            "https://a.test/robots.txt"
        );
    }

    #[test]
    fn rejects_what_cannot_be_crawled() {
        assert!(matches!(
            CanonicalUrl::parse("ftp://a.test/"),
            Err(UrlError::Scheme { .. })
        ));
        assert!(matches!(
            CanonicalUrl::parse("not a url"),
            Err(UrlError::Malformed { .. })
        ));
        assert!(matches!(
            CanonicalUrl::parse("mailto:x@y.z"),
            Err(UrlError::Scheme { .. })
        ));
    }

    #[test]
    fn join_resolves_relative_links() {
        let base = Url::parse("http://a.test/dir/page.html").unwrap();
        assert_eq!(
            CanonicalUrl::join(&base, "../other.html#frag")
                .unwrap()
                .as_str(),
            "http://a.test/other.html"
        );
    }
}
