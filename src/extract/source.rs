//! Source links: the pages an article says it comes from.
//!
//! An attribution line ("Source: …", "Sumber: …", "Nguồn: …", "Via …",
//! "Originally published at …") is metadata, not body text: it is taken out
//! of the body and its URLs become source links. A cross-domain
//! `rel=canonical` and syndication metadata are source links too.
//! A page keeps at most [`MAX_SOURCES`] of them, each once.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use url::Url;

use super::content::Block;
use crate::canonical::CanonicalUrl;

/// A label at the start of a line that introduces the article's source.
static ATTRIBUTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*(?:
            (?P<colon>
                sources? | original\s+source | source\s+article | sumber(?:\s+berita|\s+artikel)? | nguồn(?:\s+tin|\s+bài)? | theo
              | quellen? | fuentes? | fontes? | fonte | источники? | первоисточник | źródło | bron | kilde | källa | lähde | kaynak | πηγή | مصدر | المصدر | מקור
              | 来源 | 來源 | 出处 | 出處 | 消息来源 | 出典 | 出所 | 引用元 | 출처 | แหล่งที่มา | ที่มา | स्रोत | nguon
              | via | source\s+link | sumber\s+asli | artikel\s+asli | original\s+article | originalartikel | article\s+original | artículo\s+original
            )\s*[:：]
          | (?P<phrase>
                via | originally\s+(?:published|posted|appeared)\s+(?:at|on|in|by) | first\s+(?:published|appeared)\s+(?:at|on|in|by)
              | this\s+(?:article|story|post)\s+(?:was\s+)?(?:originally\s+|first\s+)?(?:published|appeared)\s+(?:at|on|in|by)
              | (?:artikel|berita)\s+ini\s+(?:telah\s+)?(?:tayang|terbit|dimuat)\s+(?:di|pada) | dikutip\s+dari | disadur\s+dari
              | bài\s+viết\s+gốc | zuerst\s+erschienen\s+(?:auf|bei|in) | publicado\s+originalmente\s+en | publié\s+initialement\s+(?:sur|dans)
              | publicado\s+originalmente\s+(?:em|no|na)
            )\b
        )",
    )
    .unwrap_or_else(|e| unreachable!("{e}"))
});

static BARE_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"https?://[^\s<>"'()\[\]{}|\\^`]+"#).unwrap_or_else(|e| unreachable!("{e}"))
});

/// First words of every label [`ATTRIBUTION`] knows: a cheap gate, since
/// the regex runs on every short block of a page.
const LABEL_STARTS: &[&str] = &[
    "source",
    "original",
    "sumber",
    "nguồn",
    "nguon",
    "theo",
    "quelle",
    "fuente",
    "fonte",
    "источник",
    "первоисточник",
    "źródło",
    "bron",
    "kilde",
    "källa",
    "lähde",
    "kaynak",
    "πηγή",
    "مصدر",
    "المصدر",
    "מקור",
    "来源",
    "來源",
    "出处",
    "出處",
    "消息来源",
    "出典",
    "出所",
    "引用元",
    "출처",
    "แหล่งที่มา",
    "ที่มา",
    "स्रोत",
    "via",
    "artikel",
    "berita",
    "originalartikel",
    "article",
    "artículo",
    "first",
    "this",
    "dikutip",
    "disadur",
    "bài",
    "zuerst",
    "publicado",
    "publié",
    "originally",
];

fn may_be_attribution(text: &str) -> bool {
    let head: String = text
        .trim_start()
        .chars()
        .take(16)
        .flat_map(char::to_lowercase)
        .collect();
    // The first byte first: most blocks start with no label's.
    let first = head.as_bytes().first();
    LABEL_STARTS
        .iter()
        .any(|l| l.as_bytes().first() == first && head.starts_with(l))
}

/// How many source links one page keeps. Articles cite a handful; a page
/// with 100 000 "Source:" lines or syndication tags is hostile, and each
/// source kept costs work in every later step.
pub(crate) const MAX_SOURCES: usize = 200;

/// Source links in the order first named, each once, at most
/// [`MAX_SOURCES`]: the set beside the list keeps adding linear in the
/// number of URLs offered (a list search made it quadratic).
#[derive(Default)]
pub(crate) struct Sources {
    list: Vec<CanonicalUrl>,
    seen: HashSet<CanonicalUrl>,
}

impl Sources {
    /// Adds `u` unless it is already listed or the list is full.
    pub(crate) fn add(&mut self, u: CanonicalUrl) {
        if self.is_full() || self.seen.contains(&u) {
            return;
        }
        self.seen.insert(u.clone());
        self.list.push(u);
    }

    /// Adds each URL in turn.
    pub(crate) fn extend(&mut self, urls: impl IntoIterator<Item = CanonicalUrl>) {
        for u in urls {
            if self.is_full() {
                return;
            }
            self.add(u);
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.list.len() >= MAX_SOURCES
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, CanonicalUrl> {
        self.list.iter()
    }
}

/// If `block` is an attribution line, the URLs it names (possibly none, for
/// "Source: Reuters").
pub(crate) fn attribution(block: &Block, base: &Url) -> Option<Sources> {
    let text = block.text.as_str();
    if text.chars().count() > 300 {
        return None;
    }
    if !may_be_attribution(text) {
        return None;
    }
    let caps = ATTRIBUTION.captures(text)?;
    let rest = &text[caps.get(0).map_or(0, |m| m.end())..];
    let mut urls = Sources::default();
    for h in &block.hrefs {
        if urls.is_full() {
            break;
        }
        if let Ok(u) = CanonicalUrl::join(base, h) {
            urls.add(u);
        }
    }
    for m in BARE_URL.find_iter(text) {
        let s = m
            .as_str()
            .trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        if let Ok(u) = CanonicalUrl::parse(s) {
            urls.add(u);
        }
    }
    let rest_words = rest.split_whitespace().count();
    if caps.name("phrase").is_some() {
        // "Via the new bridge, …" is a sentence: a phrase label counts only
        // with a link to follow and little else on the line.
        if urls.is_empty() || rest_words > 15 {
            return None;
        }
    } else if urls.is_empty() && rest_words > 12 {
        // "Source: the ministry said on Monday that…" is prose.
        return None;
    }
    Some(urls)
}

/// A `rel=canonical` on another site means the page is a copy of that one.
pub(crate) fn is_cross_domain(a: &str, b: &str) -> bool {
    site_key(a) != site_key(b)
}

/// The registrable part of a host, approximately: the last two labels, or
/// three when the second-level label is a generic one (`co.uk`, `com.vn`).
pub(crate) fn site_key(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() <= 2 {
        return host;
    }
    let n = labels.len();
    let second = labels[n - 2];
    let take = if matches!(
        second,
        "co" | "com"
            | "net"
            | "org"
            | "gov"
            | "edu"
            | "ac"
            | "or"
            | "ne"
            | "go"
            | "gob"
            | "nic"
            | "mil"
    ) && labels[n - 1].len() == 2
    {
        3
    } else {
        2
    };
    labels[n - take.min(n)..].join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::content::BlockKind;

    fn block(text: &str, hrefs: &[&str]) -> Block {
        Block::new(
            text.into(),
            BlockKind::Para,
            hrefs.iter().map(|s| s.to_string()).collect(),
            0,
        )
    }

    #[test]
    fn attribution_lines_in_many_languages() {
        let base = Url::parse("https://news.example/a").unwrap();
        let cases = [
            "Sumber: https://vietnamnet.vn/story-1.html",
            "Nguồn: https://vietnamnet.vn/story-1.html",
            "SOURCE: https://vietnamnet.vn/story-1.html",
            "Quelle: https://vietnamnet.vn/story-1.html",
            "来源：https://vietnamnet.vn/story-1.html",
            "Originally published at https://vietnamnet.vn/story-1.html.",
        ];
        for c in cases {
            let urls = attribution(&block(c, &[]), &base).unwrap_or_default();
            assert_eq!(
                urls.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
                vec!["https://vietnamnet.vn/story-1.html"],
                "{c}"
            );
        }
        let linked = block("Via The Guardian", &["https://www.theguardian.com/x"]);
        assert_eq!(attribution(&linked, &base).map(|u| u.len()), Some(1));
        assert_eq!(
            attribution(&block("Source: Reuters", &[]), &base).map(|u| u.len()),
            Some(0)
        );
        assert!(
            attribution(
                &block(
                    "Via the new bridge, traffic will flow faster into the city.",
                    &[]
                ),
                &base
            )
            .is_none()
        );
        assert!(
            attribution(
                &block("Sources said the minister would resign.", &[]),
                &base
            )
            .is_none()
        );
    }

    #[test]
    fn site_keys() {
        assert_eq!(site_key("www.bbc.co.uk"), "bbc.co.uk");
        assert_eq!(site_key("m.example.com"), "example.com");
        assert!(is_cross_domain("www.example.com", "vietnamnet.vn"));
        assert!(!is_cross_domain("www.example.com", "amp.example.com"));
    }
}
