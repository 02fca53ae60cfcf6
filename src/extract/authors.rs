//! Picking the article's authors: structured data, then author meta tags,
//! then a byline written in the text, then byline markup, and last an
//! organization named as author. The first source that names a person wins;
//! every name is cleaned by [`clean_authors`].

use std::sync::LazyLock;

use regex::Regex;

use super::content;
use super::dom::{Flat, FlatNode};
use super::fields::{clean_authors, squash};
use super::meta::Meta;

/// The article's authors, from the first source that names any.
pub(super) fn pick_authors(flat: &Flat<'_>, meta: &Meta) -> Vec<String> {
    if let Some(found) = authors_in_metadata(meta) {
        return found;
    }
    // Visible bylines in text: "By Jane Doe", "Written by" + a name.
    if let Some(found) = byline_in_text(flat) {
        return found;
    }
    if let Some(found) = byline_in_markup(flat) {
        return found;
    }
    // Last: an organization named as author (often the publisher itself).
    dedup(
        meta.ld
            .org_authors
            .iter()
            .flat_map(|a| clean_authors(a))
            .collect(),
    )
}

/// Meta tags that name authors, the most specific first.
const AUTHOR_TAGS: &[&str] = &[
    "author",
    "article:author",
    "parsely-author",
    "sailthru.author",
    "dc.creator",
    "dcterms.creator",
    "byl",
    "citation_author",
    "article:author_name",
];

/// Person names from JSON-LD, then microdata, then the first author meta
/// tag that gives any.
fn authors_in_metadata(meta: &Meta) -> Option<Vec<String>> {
    let site: Vec<String> = [meta.tag("og:site_name"), meta.ld.publisher.as_deref()]
        .into_iter()
        .flatten()
        .map(squash)
        .collect();
    // A site or publisher name in an author field is not a byline.
    let people = |values: &[String]| {
        let found = dedup(
            values
                .iter()
                .flat_map(|a| clean_authors(a))
                .filter(|a| !site.contains(&squash(a)))
                .collect(),
        );
        (!found.is_empty()).then_some(found)
    };
    people(&meta.ld.authors)
        .or_else(|| people(&meta.micro.authors))
        .or_else(|| {
            AUTHOR_TAGS
                .iter()
                .find_map(|key| people(&author_tag(meta, key)))
        })
}

/// The values of one author meta tag, each written "First Last".
fn author_tag(meta: &Meta, key: &str) -> Vec<String> {
    if key != "citation_author" {
        return meta.tag_all(key).to_vec();
    }
    // Scholarly metadata writes "Last, First".
    meta.tag_all(key)
        .iter()
        .map(|n| match n.split_once(',') {
            Some((last, first)) => format!("{} {}", first.trim(), last.trim()),
            None => n.clone(),
        })
        .collect()
}

static BYLINE_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:by|written by|posted by|words by|story by|reported by|authors?|oleh|penulis|reporter|von|autor|par|por|door|bởi|tác giả)(?:\s*[:：]\s*|\s+|$)(?P<rest>.*)$")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// A byline written as text: a label text node ("By", "Written by") with
/// the name after it in the same or the next text node.
fn byline_in_text(flat: &Flat<'_>) -> Option<Vec<String>> {
    let texts: Vec<(usize, &str)> = flat
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.is_text())
        .map(|(i, n)| (i, n.text.trim()))
        .filter(|(_, t)| !t.is_empty())
        .collect();
    for (k, &(i, t)) in texts.iter().enumerate() {
        if t.chars().count() > 80 {
            continue;
        }
        let Some(c) = BYLINE_LABEL.captures(t) else {
            continue;
        };
        // A link or menu entry ("By Location", "Door Locks") is navigation.
        if in_navigation(flat, i) {
            continue;
        }
        let rest = c.name("rest").map_or("", |m| m.as_str()).trim();
        let candidate = if rest.is_empty() {
            texts.get(k + 1).map_or("", |&(_, t)| t)
        } else {
            rest
        };
        if candidate.chars().count() > 60 {
            continue;
        }
        let names = clean_authors(candidate);
        // Names are capitalised; "by the way" is not a byline.
        if !names.is_empty() && names.iter().all(|n| capitalised(n)) {
            return Some(names);
        }
    }
    None
}

/// Whether every word of a name starts with a capital (or no letter),
/// words of three bytes or fewer ("van", "de") aside.
fn capitalised(name: &str) -> bool {
    name.split_whitespace().all(|w| {
        w.chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || !c.is_alphabetic())
            || w.len() <= 3
    })
}

/// Whether node `i` sits inside a menu, a form control or a link to
/// anything but a person's page.
fn in_navigation(flat: &Flat<'_>, i: usize) -> bool {
    flat.ancestors(i).any(|(_, n)| {
        let menu = matches!(
            n.tag(),
            "nav" | "button" | "select" | "option" | "label" | "menu"
        ) || n
            .attr("role")
            .is_some_and(|r| r == "navigation" || r == "menu");
        let person = |v: &str| {
            let v = v.to_ascii_lowercase();
            [
                "author",
                "byline",
                "people",
                "staff",
                "writer",
                "contributor",
                "profile",
                "team",
                "about",
                "user",
            ]
            .iter()
            .any(|k| v.contains(k))
        };
        let other_link = n.tag() == "a"
            && n.attr("href").is_some_and(|h| !person(h))
            && !n.attr("class").is_some_and(person);
        menu || other_link
    })
}

/// The names in the first short byline element that holds any.
fn byline_in_markup(flat: &Flat<'_>) -> Option<Vec<String>> {
    for i in byline_elements(flat) {
        let t = flat.text_spaced(i);
        if t.is_empty() || t.chars().count() > 120 {
            continue;
        }
        let found = clean_authors(&t);
        if !found.is_empty() {
            return Some(found);
        }
    }
    None
}

/// Elements that may hold the byline, most explicit first: `rel=author`
/// and `itemprop=author` markup, then author or byline classes.
fn byline_elements(flat: &Flat<'_>) -> Vec<usize> {
    let mut marked: Vec<usize> = Vec::new();
    let mut classed: Vec<usize> = Vec::new();
    for (i, n) in flat.nodes.iter().enumerate() {
        if n.is_text() {
            continue;
        }
        if marked_as_author(n) {
            marked.push(i);
            continue;
        }
        if byline_class(flat, i) {
            classed.push(i);
        }
        if classed.len() + marked.len() > 20 {
            break;
        }
    }
    // An element whose class names the name ("author-name", "byline__name")
    // before its neighbours that hold roles, headings and tooltips.
    let (named, others): (Vec<usize>, Vec<usize>) = classed.into_iter().partition(|&i| {
        flat.nodes[i]
            .attr("class")
            .is_some_and(|c| c.to_ascii_lowercase().contains("name"))
    });
    marked.into_iter().chain(named).chain(others).collect()
}

/// Whether the element says it is the author: `rel=author`, `itemprop=author`.
fn marked_as_author(n: &FlatNode<'_>) -> bool {
    let says_author = |v: &str| v.split_whitespace().any(|x| x == "author");
    n.attr("rel").is_some_and(says_author) || n.attr("itemprop").is_some_and(says_author)
}

/// Whether the element's class or id says author or byline, and not an
/// author's biography box or picture.
fn byline_class(flat: &Flat<'_>, i: usize) -> bool {
    let ci = content::class_id(flat, i);
    (ci.contains("author") || ci.contains("byline"))
        && !ci.contains("bio")
        && !ci.contains("avatar")
        && !ci.contains("box")
}

/// The names without repeats, ignoring case, in order.
pub(super) fn dedup(v: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in v {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&s)) {
            out.push(s);
        }
    }
    out
}
