//! What a reader sees on a section front or home page: the ordered list of
//! headlines and the stories they link to. A front has no article text, so
//! without this a story leaving the front page, or a front-page headline
//! rewritten, would never make a new version.

use url::Url;

use super::dom::Flat;
use super::text::clean_inline;
use crate::article::Headline;
use crate::canonical::CanonicalUrl;

/// Headlines kept at most: a front's main list, not its archive of links.
const MAX_HEADLINES: usize = 300;

/// A link's text counts as a headline from this many words (or in `<hN>`).
const MIN_WORDS: usize = 4;

/// Elements whose links are site furniture, not stories.
const FURNITURE: &[&str] = &["nav", "footer", "aside", "menu", "form", "select", "label"];

/// Class or id words of furniture: menus, breadcrumbs, share bars, footers.
const FURNITURE_HINTS: &[&str] = &[
    "nav",
    "menu",
    "breadcrumb",
    "footer",
    "share",
    "social",
    "cookie",
    "login",
    "subscribe",
    "newsletter",
    "pagination",
    "pager",
    "skip",
];

/// The headlines of a front, in page order, one per story.
pub(crate) fn headlines(flat: &Flat<'_>, base: &Url) -> Vec<Headline> {
    let mut out: Vec<Headline> = Vec::new();
    for (i, n) in flat.nodes.iter().enumerate() {
        if out.len() >= MAX_HEADLINES {
            break;
        }
        if n.tag() != "a" || in_furniture(flat, i) {
            continue;
        }
        let Some(url) = n
            .attr("href")
            .and_then(|h| CanonicalUrl::join(base, h).ok())
        else {
            continue;
        };
        let text = clean_inline(&flat.text_of(i));
        let in_heading = flat
            .ancestors(i)
            .take(4)
            .any(|(_, a)| matches!(a.tag(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6"));
        let words = text.split_whitespace().count();
        if text.is_empty() || (words < MIN_WORDS && !in_heading) || url.as_url() == base {
            continue;
        }
        if out.iter().any(|h| h.url == url.as_str()) {
            continue;
        }
        out.push(Headline {
            text,
            url: url.to_string(),
        });
    }
    out
}

fn in_furniture(flat: &Flat<'_>, i: usize) -> bool {
    flat.ancestors(i).any(|(a, n)| {
        FURNITURE.contains(&n.tag()) || {
            let hints = super::content::class_id(flat, a);
            !hints.is_empty()
                && hints
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|w| FURNITURE_HINTS.contains(&w))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    #[test]
    fn headlines_are_the_stories_linked_outside_the_furniture() {
        let html = r#"<html><body>
            <nav><a href="/world">World news from everywhere today</a></nav>
            <div class="site-menu"><a href="/x">A menu entry of four words</a></div>
            <main>
              <h2><a href="/a">Short</a></h2>
              <p><a href="/b">Minister resigns over the budget vote</a></p>
              <a href="/b">Minister resigns over the budget vote</a>
              <a href="/c">More</a>
            </main>
            <footer><a href="/about">About this newspaper and its staff</a></footer>
        </body></html>"#;
        let doc = Html::parse_document(html);
        let flat = Flat::new(&doc, &[]);
        let base = Url::parse("http://paper.test/").unwrap();
        let got: Vec<(String, String)> = headlines(&flat, &base)
            .into_iter()
            .map(|h| (h.text, h.url))
            .collect();
        assert_eq!(
            got,
            [
                ("Short".to_string(), "http://paper.test/a".to_string()),
                (
                    "Minister resigns over the budget vote".to_string(),
                    "http://paper.test/b".to_string()
                ),
            ]
        );
    }
}
