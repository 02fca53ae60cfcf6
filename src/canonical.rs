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
    /// The URL parser rejected it.
    #[error("malformed URL {input:?}: {reason}")]
    Malformed {
        /// The string as given (a relative link before joining).
        input: String,
        /// The parser's reason.
        reason: String,
    },
    /// Not `http` or `https`.
    #[error("unsupported URL scheme {scheme:?} in {input:?} (only http and https)")]
    Scheme {
        /// The string as given.
        input: String,
        /// The scheme found (`mailto`, `ftp`, …).
        scheme: String,
    },
    /// No host name to fetch from.
    #[error("URL {input:?} has no host")]
    NoHost {
        /// The string as given.
        input: String,
    },
    /// Longer than [`MAX_URL_LEN`].
    #[error("URL of {len} bytes is longer than {MAX_URL_LEN}")]
    TooLong {
        /// Its length in bytes (before or after canonicalization).
        len: usize,
    },
}

/// URLs longer than this are refused: servers and browsers give up near
/// 2 KB, and a longer one is a crawler trap or an attack on the archive.
pub const MAX_URL_LEN: usize = 4096;

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

/// Query parameters that carry a server session: one page gets a new URL
/// per visitor (and per visit) unless they are dropped.
const SESSION_PARAMS: &[&str] = &[
    "jsessionid",
    "phpsessid",
    "sessionid",
    "session_id",
    "sess_id",
    "cfid",
    "cftoken",
];

/// A session parameter: one of [`SESSION_PARAMS`], ASP's
/// `ASPSESSIONID…`, or a `sid` whose value is a token rather than an id
/// (`?sid=1234` may name a story; `?sid=9f8e7d…` of 16 or more letters and
/// digits names a visitor).
fn is_session_param(name: &str, value: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if SESSION_PARAMS.contains(&lower.as_str()) || lower.starts_with("aspsessionid") {
        return true;
    }
    lower == "sid"
        && value.len() >= 16
        && value.bytes().all(|b| b.is_ascii_alphanumeric())
        && value.bytes().any(|b| b.is_ascii_alphabetic())
}

/// The path without its `;jsessionid=…` segment parameters, if it has any.
fn without_path_session(path: &str) -> Option<String> {
    const MARK: &str = ";jsessionid=";
    path.to_ascii_lowercase().find(MARK)?;
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.to_ascii_lowercase().find(MARK) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        rest = &rest[rest.find('/').unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    Some(out)
}

fn check_len(s: &str) -> Result<(), UrlError> {
    if s.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong { len: s.len() });
    }
    Ok(())
}

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
        check_len(input)?;
        let url = Url::parse(input.trim()).map_err(|e| UrlError::Malformed {
            input: input.to_string(),
            reason: e.to_string(),
        })?;
        Self::from_url(url, input)
    }

    /// Resolves `href` against `base` (as a browser does) and canonicalizes it.
    pub fn join(base: &Url, href: &str) -> Result<Self, UrlError> {
        check_len(href)?;
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
        if let Some(path) = without_path_session(url.path()) {
            url.set_path(&path);
        }
        // `Url` already drops default ports, lower-cases the host and resolves
        // dot-segments; what is left is the query.
        if url.query().is_some() {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, v)| !is_tracking_param(k) && !is_session_param(k, v))
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
        check_len(url.as_str())?;
        Ok(Self(url))
    }

    /// The canonical spelling.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub(crate) fn as_url(&self) -> &Url {
        &self.0
    }

    /// The host name, without port.
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// The politeness key: host and effective port (`news.example:443`).
    /// robots.txt and rate limits apply per authority.
    pub(crate) fn authority(&self) -> String {
        format!(
            "{}:{}",
            self.host(),
            self.0.port_or_known_default().unwrap_or(0)
        )
    }

    /// The robots.txt URL of this URL's origin.
    pub(crate) fn robots_url(&self) -> CanonicalUrl {
        let mut url = self.0.clone();
        url.set_path("/robots.txt");
        url.set_query(None);
        CanonicalUrl(url)
    }

    /// Path plus query, as matched by include/exclude patterns and robots.txt.
    pub(crate) fn path_and_query(&self) -> String {
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
    fn session_ids_are_not_part_of_a_page_s_url() {
        assert_eq!(
            canon("http://a.test/story;jsessionid=0AB12CD34EF?id=7"),
            "http://a.test/story?id=7"
        );
        assert_eq!(
            canon("http://a.test/x/;JSESSIONID=abc/y;jsessionid=d"),
            "http://a.test/x//y"
        );
        assert_eq!(
            canon("http://a.test/p?PHPSESSID=9f8e7d6c5b4a&page=2&ASPSESSIONIDQQ=XYZ"),
            "http://a.test/p?page=2"
        );
        assert_eq!(
            canon("http://a.test/p?sid=4f1c2b3a9d8e7f60a1b2&x=1"),
            "http://a.test/p?x=1"
        );
        // A short or numeric `sid` names a story, not a visitor.
        assert_eq!(
            canon("http://a.test/p?sid=1234"),
            "http://a.test/p?sid=1234"
        );
        assert_eq!(
            canon("http://a.test/article.pl?sid=20240101123456789"),
            "http://a.test/article.pl?sid=20240101123456789"
        );
    }

    #[test]
    fn overlong_urls_are_refused() {
        let long = format!("http://a.test/{}", "x".repeat(MAX_URL_LEN));
        assert!(matches!(
            CanonicalUrl::parse(&long),
            Err(UrlError::TooLong { .. })
        ));
        let base = Url::parse("http://a.test/").unwrap();
        assert!(CanonicalUrl::join(&base, &"y".repeat(MAX_URL_LEN)).is_err());
        // Percent-encoding can make a URL longer than its text.
        assert!(CanonicalUrl::join(&base, &"é".repeat(MAX_URL_LEN / 3)).is_err());
        assert!(CanonicalUrl::join(&base, "ok").is_ok());
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
