//! Picking the publication date: dates written for machines first
//! (structured data, meta tags, `<time datetime>`, the URL's path), then
//! dates written for readers (in elements that say they hold one, after a
//! "Published" label, near the headline), then application state in
//! scripts, and last the first date in the page's text. A widget showing
//! today's date or the time is never read as the article's date.

use chrono::{DateTime, FixedOffset};
use url::Url;

use super::content::{self, Analysis};
use super::date;
use super::dom::Flat;
use super::meta::Meta;

type Date = DateTime<FixedOffset>;

/// The publication date, from the first source that gives one.
pub(super) fn pick_published(
    flat: &Flat<'_>,
    meta: &Meta,
    an: &Analysis,
    url: &Url,
    lang: Option<&str>,
    raw_html: &str,
) -> Option<Date> {
    machine_date(meta, url)
        .or_else(|| in_dated_element(flat, an, lang))
        .or_else(|| after_label(flat, an, lang))
        .or_else(|| near_headline(flat, an, lang))
        // Application state in scripts (`"datePublished":"…"` outside JSON-LD).
        .or_else(|| date::from_script_state(raw_html))
        // Anywhere in the first part of the page's text.
        .or_else(|| date::parse_visible(&text_window(flat, an.body, 3000, Some(&an.junk)), lang))
}

/// Meta tags that may give the publication date, the most specific first.
const PUBLISHED_TAGS: &[&str] = &[
    "article:published_time",
    "og:published_time",
    "article:published",
    "published_time",
    "datepublished",
    "publish-date",
    "publish_date",
    "published-date",
    "published_date",
    "date-published",
    "publishdate",
    "pubdate",
    "date",
    "dc.date",
    "dc.date.issued",
    "dc.date.created",
    "dcterms.created",
    "dcterms.date",
    "dcterms.issued",
    "sailthru.date",
    "parsely-pub-date",
    "citation_publication_date",
    "citation_date",
    "article.published",
    "originalpublicationdate",
    "publication_date",
    "release_date",
    "published",
    "date_published",
    "article_date_original",
    "og:article:published_time",
];

/// A date written for machines: the article's structured data, a meta
/// tag, a `<time>` that looks like the publication time, a page object's
/// structured data, the URL's path, then any `<time>`.
fn machine_date(meta: &Meta, url: &Url) -> Option<Date> {
    meta.ld
        .published
        .or(meta.micro.published)
        .or_else(|| {
            PUBLISHED_TAGS
                .iter()
                .find_map(|key| meta.tag(key).and_then(date::parse_machine))
        })
        .or_else(|| {
            meta.times
                .iter()
                .filter(|(_, hint)| *hint)
                .find_map(|(s, _)| date::parse_machine(s))
        })
        .or(meta.ld.page_published)
        .or_else(|| date::from_url_path(url.path()))
        .or_else(|| meta.times.iter().find_map(|(s, _)| date::parse_machine(s)))
}

/// A visible date in an element whose class or id says it holds one (or a
/// byline), short enough to be the date line and not the page's clock.
fn in_dated_element(flat: &Flat<'_>, an: &Analysis, lang: Option<&str>) -> Option<Date> {
    for (i, n) in flat.nodes.iter().enumerate().skip(an.body) {
        if n.is_text() {
            continue;
        }
        let ci = content::class_id(flat, i);
        if [
            "date", "time", "publish", "posted", "byline", "meta", "dateline", "author",
        ]
        .iter()
        .any(|k| ci.contains(k))
        {
            let t = flat.text_spaced(i);
            if t.chars().count() <= 200
                && !(i..n.end.max(i + 1)).any(|k| in_clock(flat, k))
                && let Some(d) = date::parse_visible(&t, lang)
            {
                return Some(d);
            }
        }
    }
    None
}

/// Words that introduce a publication date on a page, in the languages
/// the crawler meets most.
const PUBLISHED_LABELS: &[&str] = &[
    "posted",
    "published",
    "first published",
    "originally published",
    "publish date",
    "date published",
    "publication date",
    "veröffentlicht",
    "erschienen",
    "publié",
    "publicado",
    "pubblicato",
    "diterbitkan",
    "dipublikasikan",
    "gepubliceerd",
    "opublikowano",
    "publicerad",
    "опубликовано",
    "ngày đăng",
    "đăng lúc",
    "公開",
    "发布",
];

/// A visible date after a label that says what the date is ("Posted on",
/// "Published").
fn after_label(flat: &Flat<'_>, an: &Analysis, lang: Option<&str>) -> Option<Date> {
    for (i, n) in flat.nodes.iter().enumerate().skip(an.body) {
        if n.is_element() {
            continue;
        }
        let label = n.text.trim_start().to_lowercase();
        if !PUBLISHED_LABELS.iter().any(|l| label.starts_with(l)) {
            continue;
        }
        if let Some(d) = date::parse_visible(&text_window(flat, i, 150, None), lang) {
            return Some(d);
        }
    }
    None
}

/// A visible date in the text that follows the first `<h1>`.
fn near_headline(flat: &Flat<'_>, an: &Analysis, lang: Option<&str>) -> Option<Date> {
    let h1 = an.first_h1?;
    date::parse_visible(&text_window(flat, h1, 600, None), lang)
}

/// Whether node `i` is (or sits in) a widget that shows today's date or
/// the time: the page's clock, not the article's date.
fn in_clock(flat: &Flat<'_>, i: usize) -> bool {
    std::iter::once(i)
        .chain(flat.ancestors(i).map(|(a, _)| a))
        .take(4)
        .any(|a| {
            let ci = content::class_id(flat, a);
            ["today", "current-date", "currentdate", "clock"]
                .iter()
                .any(|k| ci.contains(k))
        })
}

/// About `limit` bytes of the text from node `from` on, one space between
/// text nodes (indentation does not count), skipping `junk` nodes and the
/// page's clock.
fn text_window(flat: &Flat<'_>, from: usize, limit: usize, junk: Option<&[bool]>) -> String {
    let mut text = String::new();
    for (i, n) in flat.nodes.iter().enumerate().skip(from) {
        if n.is_element() || junk.is_some_and(|j| j.get(i).copied().unwrap_or(false)) {
            continue;
        }
        let t = n.text.trim();
        if t.is_empty() || (t.bytes().any(|b| b.is_ascii_digit()) && in_clock(flat, i)) {
            continue;
        }
        text.push_str(t);
        text.push(' ');
        if text.len() > limit {
            break;
        }
    }
    text
}
