//! Structured data: JSON-LD (`@graph` included), OpenGraph and `article:*`
//! meta tags, `<meta name=author>` and friends, microdata and `<time>`.
//! Everything here is a candidate; `mod.rs` decides which wins.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::date;
use super::dom::Flat;
use super::text::clean_inline;

/// A JSON-LD object.
type Object = serde_json::Map<String, Value>;

/// What the page says about itself.
#[derive(Debug, Default)]
pub(crate) struct Meta {
    /// `meta` tags by lower-cased `property`/`name`/`itemprop` (all values,
    /// in document order).
    pub tags: HashMap<String, Vec<String>>,
    pub html_title: Option<String>,
    pub html_lang: Option<String>,
    pub canonical_href: Option<String>,
    /// `<link rel=original-source|syndication-source>` hrefs.
    pub link_sources: Vec<String>,
    pub ld: LdArticle,
    /// Every `@type` seen in JSON-LD, for deciding the page kind.
    pub ld_types: Vec<String>,
    pub micro: LdArticle,
    /// `<time datetime>` values, in document order, with whether the element
    /// looks like the publication time (`pubdate`, `itemprop`, class).
    pub times: Vec<(String, bool)>,
}

/// The fields of the page's main JSON-LD (or microdata) article.
#[derive(Debug, Default, Clone)]
pub(crate) struct LdArticle {
    pub found: bool,
    pub headline: Option<String>,
    pub authors: Vec<String>,
    pub org_authors: Vec<String>,
    pub published: Option<DateTime<FixedOffset>>,
    pub modified: Option<DateTime<FixedOffset>>,
    pub body: Option<String>,
    pub description: Option<String>,
    pub language: Option<String>,
    pub publisher: Option<String>,
    pub url: Option<String>,
    pub based_on: Vec<String>,
    /// Dates of a non-article `WebPage` object, used only as a fallback.
    pub page_published: Option<DateTime<FixedOffset>>,
    pub page_modified: Option<DateTime<FixedOffset>>,
}

impl Meta {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .get(key)
            .and_then(|v| v.iter().map(|s| s.as_str()).find(|s| !s.is_empty()))
    }
    pub fn tag_all(&self, key: &str) -> &[String] {
        self.tags.get(key).map_or(&[], |v| v.as_slice())
    }
}

/// Article types of schema.org whose object is "the article on this page".
fn is_article_type(t: &str) -> bool {
    let t = t.rsplit(['/', ':']).next().unwrap_or(t);
    t.ends_with("Article")
        || matches!(
            t,
            "BlogPosting"
                | "LiveBlogPosting"
                | "SocialMediaPosting"
                | "Report"
                | "Blog"
                | "Posting"
        )
}

pub(crate) fn collect(flat: &Flat<'_>, jsonld: &[&str]) -> Meta {
    let mut meta = Meta::default();
    let mut in_title = false;
    for (i, n) in flat.nodes.iter().enumerate() {
        if n.is_text() {
            continue;
        }
        match n.tag() {
            "meta" => {
                let key = n
                    .attr("property")
                    .or_else(|| n.attr("name"))
                    .or_else(|| n.attr("itemprop"))
                    .or_else(|| n.attr("http-equiv"));
                if let (Some(k), Some(v)) = (key, n.attr("content")) {
                    // `property` may hold several space-separated names.
                    for k in k.split_whitespace() {
                        meta.tags
                            .entry(k.to_ascii_lowercase())
                            .or_default()
                            .push(clean_inline(v));
                    }
                }
            }
            "title" if meta.html_title.is_none() && !in_title => {
                // Only the document title, not an SVG <title>.
                in_title = true;
                let t = flat.text_of(i);
                if !t.is_empty() {
                    meta.html_title = Some(clean_inline(&t));
                }
            }
            "html" if meta.html_lang.is_none() => {
                meta.html_lang = n
                    .attr("lang")
                    .or_else(|| n.attr("xml:lang"))
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty());
            }
            "link" => {
                let rel = n.attr("rel").unwrap_or("").to_ascii_lowercase();
                if let Some(href) = n.attr("href").map(str::trim).filter(|h| !h.is_empty()) {
                    let rels: Vec<&str> = rel.split_whitespace().collect();
                    if rels.contains(&"canonical") && meta.canonical_href.is_none() {
                        meta.canonical_href = Some(href.to_string());
                    }
                    if rels
                        .iter()
                        .any(|r| matches!(*r, "original-source" | "syndication-source"))
                    {
                        meta.link_sources.push(href.to_string());
                    }
                }
            }
            "time" => {
                if let Some(dt) = n.attr("datetime").map(str::trim).filter(|s| !s.is_empty()) {
                    let hint = n.attr("pubdate").is_some()
                        || n.attr("itemprop")
                            .is_some_and(|p| p.contains("datePublished"))
                        || n.attr("class")
                            .is_some_and(|c| c.to_ascii_lowercase().contains("publish"));
                    meta.times.push((dt.to_string(), hint));
                }
            }
            _ => {}
        }
    }
    for raw in jsonld {
        read_jsonld(raw, &mut meta);
    }
    meta.micro = microdata(flat);
    meta
}

/// Reads one JSON-LD script: every `@type` seen, the fallback dates and
/// language of a `WebPage`, and (unless an earlier script gave one) the
/// fields of the richest article object.
fn read_jsonld(raw: &str, meta: &mut Meta) {
    let Some(value) = parse_jsonld(raw) else {
        return;
    };
    let objects = typed_objects(&value);
    for o in &objects {
        meta.ld_types
            .extend(types_of(o).iter().map(|t| t.to_string()));
    }
    for o in objects.iter().filter(|o| is_web_page(o)) {
        read_web_page(o, &mut meta.ld);
    }
    let Some(article) = richest_article(&objects) else {
        return;
    };
    if meta.ld.found {
        return;
    }
    read_article(article, &people_by_id(&objects), &mut meta.ld);
}

/// The script's JSON, inside an HTML comment or not.
fn parse_jsonld(raw: &str) -> Option<Value> {
    let raw = raw.trim();
    let raw = raw
        .strip_prefix("<!--")
        .and_then(|r| r.strip_suffix("-->"))
        .unwrap_or(raw)
        .trim();
    serde_json::from_str(raw).ok().or_else(|| {
        // Raw newlines and tabs inside strings are the usual breakage;
        // outside strings they are whitespace either way.
        let fixed: String = raw
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        serde_json::from_str(&fixed).ok()
    })
}

/// Every object with a `@type`, top-level or down the keys that hold the
/// page's own entities (`@graph`, `mainEntity`…).
fn typed_objects(value: &Value) -> Vec<&Object> {
    // Iteratively, and within a budget: JSON nests arbitrarily deep.
    let mut objects = Vec::new();
    let mut stack: Vec<&Value> = vec![value];
    let mut budget = 20_000usize;
    while let Some(v) = stack.pop() {
        budget = budget.saturating_sub(1);
        if budget == 0 {
            break;
        }
        match v {
            Value::Array(a) => stack.extend(a.iter().rev()),
            Value::Object(o) => {
                if o.contains_key("@type") {
                    objects.push(o);
                }
                for (k, child) in o.iter() {
                    if matches!(
                        k.as_str(),
                        "@graph"
                            | "mainEntity"
                            | "mainEntityOfPage"
                            | "itemListElement"
                            | "hasPart"
                    ) {
                        stack.push(child);
                    }
                }
            }
            _ => {}
        }
    }
    objects
}

/// Names by `@id`, so an `author: {"@id": …}` reference resolves.
fn people_by_id<'v>(objects: &[&'v Object]) -> HashMap<&'v str, &'v str> {
    let mut people = HashMap::new();
    for o in objects {
        if let (Some(id), Some(name)) = (
            o.get("@id").and_then(Value::as_str),
            o.get("name").and_then(Value::as_str),
        ) {
            people.insert(id, name);
        }
    }
    people
}

/// Whether the object is a page rather than an article: its dates are a
/// fallback for an article's.
fn is_web_page(o: &Object) -> bool {
    let types = types_of(o);
    !types.iter().any(|t| is_article_type(t))
        && types
            .iter()
            .any(|t| matches!(*t, "WebPage" | "ItemPage" | "Webpage"))
}

/// A page object's dates and language, each unless an earlier page object
/// gave it.
fn read_web_page(o: &Object, ld: &mut LdArticle) {
    if ld.page_published.is_none() {
        ld.page_published = o
            .get("datePublished")
            .and_then(Value::as_str)
            .and_then(date::parse_machine);
    }
    if ld.page_modified.is_none() {
        ld.page_modified = o
            .get("dateModified")
            .and_then(Value::as_str)
            .and_then(date::parse_machine);
    }
    if ld.language.is_none() {
        ld.language = o.get("inLanguage").and_then(lang_of);
    }
}

/// The article object with the most of the fields an article has, the
/// first on a tie: a page may list related articles as stubs next to its
/// own.
fn richest_article<'v>(objects: &[&'v Object]) -> Option<&'v Object> {
    let mut best: Option<(usize, &Object)> = None;
    for &o in objects {
        if !types_of(o).iter().any(|t| is_article_type(t)) {
            continue;
        }
        let richness = [
            "headline",
            "author",
            "datePublished",
            "articleBody",
            "description",
        ]
        .iter()
        .filter(|k| o.contains_key(**k))
        .count();
        if best.is_none_or(|(r, _)| richness > r) {
            best = Some((richness, o));
        }
    }
    best.map(|(_, o)| o)
}

/// The article object's fields; its language over a page object's.
fn read_article(o: &Object, people: &HashMap<&str, &str>, ld: &mut LdArticle) {
    ld.found = true;
    ld.headline = o
        .get("headline")
        .or_else(|| o.get("name"))
        .and_then(string_of)
        .map(|s| clean_inline(&s))
        .filter(|s| !s.is_empty());
    if let Some(a) = o.get("author").or_else(|| o.get("creator")) {
        (ld.authors, ld.org_authors) = names_of(a, people);
    }
    ld.published = o
        .get("datePublished")
        .or_else(|| o.get("dateCreated"))
        .and_then(string_of)
        .and_then(|s| date::parse_machine(&s));
    ld.modified = o
        .get("dateModified")
        .and_then(string_of)
        .and_then(|s| date::parse_machine(&s));
    ld.body = o.get("articleBody").and_then(string_of);
    ld.description = o
        .get("description")
        .and_then(string_of)
        .map(|s| clean_inline(&s));
    ld.language = o.get("inLanguage").and_then(lang_of).or(ld.language.take());
    ld.publisher = o
        .get("publisher")
        .and_then(|p| {
            p.get("name")
                .and_then(string_of)
                .or_else(|| p.as_str().map(str::to_string))
        })
        .map(|s| clean_inline(&s));
    ld.url = o.get("url").and_then(Value::as_str).map(str::to_string);
    ld.based_on.extend(based_on(o));
}

/// The URLs of the works the article says it is based on.
fn based_on(o: &Object) -> Vec<String> {
    let mut urls = Vec::new();
    for key in ["isBasedOn", "isBasedOnUrl"] {
        match o.get(key) {
            Some(Value::String(s)) => urls.push(s.clone()),
            Some(Value::Object(b)) => {
                if let Some(u) = b
                    .get("url")
                    .or_else(|| b.get("@id"))
                    .and_then(Value::as_str)
                {
                    urls.push(u.to_string());
                }
            }
            Some(Value::Array(a)) => {
                for v in a {
                    if let Some(u) = v.as_str().or_else(|| v.get("url").and_then(Value::as_str)) {
                        urls.push(u.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    urls
}

fn types_of(o: &Object) -> Vec<&str> {
    match o.get("@type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn string_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.iter().find_map(string_of),
        Value::Object(o) => o.get("@value").and_then(string_of),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn lang_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o
            .get("alternateName")
            .or_else(|| o.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string),
        Value::Array(a) => a.iter().find_map(lang_of),
        _ => None,
    }
}

/// Person names of an `author` value, and separately the names of
/// organizations given as author (a fallback only: usually the publisher).
fn names_of(v: &Value, people: &HashMap<&str, &str>) -> (Vec<String>, Vec<String>) {
    let mut out = Vec::new();
    let mut orgs = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => out.push(clean_inline(s)),
            Value::Array(a) => stack.extend(a.iter().rev()),
            Value::Object(o) => {
                if o.get("@type").and_then(Value::as_str).is_some_and(|t| {
                    t.contains("Organization") || t == "Corporation" || t == "WebSite"
                }) {
                    if let Some(n) = o.get("name").and_then(string_of) {
                        orgs.push(clean_inline(&n));
                    }
                    continue;
                }
                if let Some(n) = o.get("name").and_then(string_of) {
                    out.push(clean_inline(&n));
                } else if let Some(n) = o
                    .get("@id")
                    .and_then(Value::as_str)
                    .and_then(|id| people.get(id))
                {
                    out.push(clean_inline(n));
                }
            }
            _ => {}
        }
    }
    (out, orgs)
}

/// Microdata: the first `itemscope` whose `itemtype` is an article type.
fn microdata(flat: &Flat<'_>) -> LdArticle {
    /// A byline names a few people, a paper's author list a hundred or
    /// two; a page naming thousands is hostile.
    const MAX_MICRODATA_AUTHORS: usize = 500;
    let mut out = LdArticle::default();
    let Some(scope) = flat.nodes.iter().position(|n| {
        n.attr("itemscope").is_some()
            && n.attr("itemtype")
                .is_some_and(|t| t.split_whitespace().any(is_article_type))
    }) else {
        return out;
    };
    out.found = true;
    let end = flat.nodes[scope].end;
    for i in scope + 1..end {
        let n = &flat.nodes[i];
        let Some(prop) = n.attr("itemprop") else {
            continue;
        };
        let value = || {
            n.attr("content")
                .or_else(|| n.attr("datetime"))
                .map(clean_inline)
                .unwrap_or_else(|| clean_inline(&flat.text_of(i)))
        };
        for p in prop.split_whitespace() {
            match p {
                "headline" if out.headline.is_none() => out.headline = Some(value()),
                "datePublished" if out.published.is_none() => {
                    out.published = date::parse_machine(&value())
                }
                "dateModified" if out.modified.is_none() => {
                    out.modified = date::parse_machine(&value())
                }
                "author" | "creator" => {
                    // The name inside a nested Person, else the whole text.
                    let name = (i + 1..n.end)
                        .find(|&j| flat.nodes[j].attr("itemprop") == Some("name"))
                        .map(|j| {
                            flat.nodes[j]
                                .attr("content")
                                .map(clean_inline)
                                .unwrap_or_else(|| clean_inline(&flat.text_of(j)))
                        })
                        .unwrap_or_else(value);
                    // Bounded: the search for a repeat is linear.
                    if !name.is_empty()
                        && out.authors.len() < MAX_MICRODATA_AUTHORS
                        && !out.authors.contains(&name)
                    {
                        out.authors.push(name);
                    }
                }
                _ => {}
            }
        }
    }
    out
}
