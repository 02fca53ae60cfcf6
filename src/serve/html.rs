//! Server-rendered pages. maud escapes every interpolated value, so archived
//! content (titles, text, URLs) is always text, never markup. Links built
//! from archived URLs are only ever query parameters of our own routes, or
//! plain `http(s)` links with `rel="noreferrer nofollow"`.

use chrono::{DateTime, SecondsFormat, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::diff::{self, Side};
use crate::query::{
    ArticleView, Comparison, Due, IndexQuery, PageSummary, Pages, SourceEdit, TimelineVersion,
};
use crate::search::{DatedBy, Hit, SearchQuery};

const STYLE: &str = "\
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}\
header{background:#1d3557;color:#fff;padding:.6em 1.2em}header a{color:#fff;margin-right:1.2em;text-decoration:none}\
main{max-width:72em;margin:1em auto;padding:0 1.2em}table{border-collapse:collapse;width:100%}\
td,th{padding:.35em .5em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}\
form.filters input,form.filters select{margin-right:.5em}\
.text p{max-width:45em}\
iframe{width:100%;height:70vh;border:1px solid #ccc;background:#fff}\
ol.hits li{margin-bottom:1em}mark{background:#ffe08a}\
p.notice{background:#fff3cd;border-left:4px solid #e0a800;padding:.5em .8em}";

/// Times as everywhere else palimpsest prints them: RFC 3339 in UTC.
fn fmt(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Query-string encoding of a value.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A link to an archived URL on the live web, only for http(s) URLs.
fn external(url: &str) -> Markup {
    if url.starts_with("http://") || url.starts_with("https://") {
        html! { a href=(url) rel="noreferrer nofollow" { (url) } }
    } else {
        html! { (url) }
    }
}

pub fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — palimpsest" }
                style { (PreEscaped(STYLE)) (PreEscaped(diff::STYLE)) }
                link rel="alternate" type="application/atom+xml" title="Changes" href="/changes.atom";
            }
            body {
                header {
                    a href="/" { strong { "palimpsest" } }
                    a href="/" { "Articles" }
                    a href="/search" { "Search" }
                    a href="/status" { "Crawl status" }
                    a href="/changes.atom" { "Changes feed" }
                }
                main { (body) }
            }
        }
    }
}

pub fn error_page(status: u16, message: &str) -> Markup {
    layout(
        "Error",
        html! {
            h1 { "Error " (status) }
            p { (message) }
            p { a href="/" { "Back to the index" } }
        },
    )
}

pub fn index(query: &IndexQuery, rows: &[PageSummary], more: bool) -> Markup {
    let link_for = |page: usize| {
        let mut parts = vec![format!("page={page}")];
        for (k, v) in [
            ("q", &query.q),
            ("host", &query.host),
            ("lang", &query.language),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", enc(v)));
            }
        }
        if let Some(s) = query.changed_since {
            parts.push(format!("since={}", enc(&s.to_rfc3339())));
        }
        if query.pages == Pages::All {
            parts.push("all=1".into());
        }
        format!("/?{}", parts.join("&"))
    };
    layout(
        "Archived articles",
        html! {
            h1 { "Archived articles" }
            form.filters method="get" action="/" role="search" {
                label { "Search " input type="search" name="q" value=(query.q.clone().unwrap_or_default()) placeholder="words in URL or title"; }
                label { "Host " input type="text" name="host" value=(query.host.clone().unwrap_or_default()) size="16"; }
                label { "Language " input type="text" name="lang" value=(query.language.clone().unwrap_or_default()) size="4"; }
                label { "Changed since " input type="date" name="since" value=(query.changed_since.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()); }
                label { input type="checkbox" name="all" value="1" checked[query.pages == Pages::All]; " all pages" }
                button type="submit" { "Filter" }
            }
            @if rows.is_empty() {
                p { "No archived articles match." }
            } @else {
                table {
                    thead { tr { th { "Last change" } th { "Title" } th { "Host" } th { "Lang" } th { "Versions" } th { "Captures" } } }
                    tbody {
                        @for r in rows {
                            tr {
                                td.meta { (fmt(r.last_change)) }
                                td { a href=(format!("/article?url={}", enc(&r.url))) { (r.title.clone().unwrap_or_else(|| r.url.clone())) } br; span.meta { (r.url) } }
                                td { (r.host) }
                                td { (r.language.clone().unwrap_or_default()) }
                                td { (r.versions) }
                                td { (r.captures) }
                            }
                        }
                    }
                }
            }
            p {
                @if query.page > 1 { a href=(link_for(query.page - 1)) rel="prev" { "← newer" } " " }
                "page " (query.page)
                @if more { " " a href=(link_for(query.page + 1)) rel="next" { "older →" } }
            }
        },
    )
}

fn timeline_row(url: &str, v: &TimelineVersion) -> Markup {
    html! {
        tr {
            td { (v.version) @if v.reextracted { " " span.meta { "(re-extracted)" } } }
            td { (fmt(v.first_seen)) }
            td { (v.last_seen.map(fmt).unwrap_or_default()) }
            td { (v.title.clone().unwrap_or_default()) }
            td {
                @if v.version > 1 {
                    "+" (v.words_added) " −" (v.words_removed) " "
                    a href=(format!("/diff?url={}&a={}&b={}", enc(url), v.version - 1, v.version)) { "diff" }
                } @else {
                    (diff::count(v.words_added, "word"))
                }
            }
        }
    }
}

pub fn article(view: &ArticleView) -> Markup {
    let url = view.page.url.as_str();
    let article = view.latest.as_ref().map(|v| &v.article);
    let title = article
        .and_then(|a| a.title.clone())
        .unwrap_or_else(|| url.to_string());
    let n = view.versions.len() as u32;
    layout(
        &title,
        html! {
            h1 { (title) }
            p.meta {
                (external(url))
                @if let Some(a) = article {
                    @if !a.authors.is_empty() { br; "By " (a.authors.join(", ")) }
                    @if let Some(p) = a.published { br; "Published " (p.to_rfc3339()) }
                    @if let Some(m) = a.modified { " · modified " (m.to_rfc3339()) }
                    @if let Some(l) = &a.language { " · language " (l) }
                    @if let Some(s) = &a.site_name { " · " (s) }
                }
            }
            @for e in &view.source_edits { (source_edit_notice(e)) }
            h2 { "Versions" }
            @if view.versions.is_empty() {
                p { "No article was extracted from this page." }
            } @else {
                table id="timeline" {
                    thead { tr { th { "Version" } th { "First seen" } th { "Last seen" } th { "Title" } th { "Change" } } }
                    tbody { @for v in &view.versions { (timeline_row(url, v)) } }
                }
                @if n >= 2 {
                    form id="compare" method="get" action="/diff" {
                        input type="hidden" name="url" value=(url);
                        label { "Compare version " select name="a" { @for v in &view.versions { option value=(v.version) selected[v.version == n - 1] { (v.version) } } } }
                        label { " with " select name="b" { @for v in &view.versions { option value=(v.version) selected[v.version == n] { (v.version) } } } }
                        " " button type="submit" { "Show changes" }
                    }
                }
            }
            @if !view.sources.is_empty() {
                h2 { "Sources it cites" }
                ul { @for (s, archived) in &view.sources {
                    li { (external(s)) @if *archived { " — " a href=(format!("/article?url={}", enc(s))) { "archived copy" } } }
                } }
            }
            @if !view.cited_by.is_empty() {
                h2 { "Cited by" }
                ul { @for (u, t) in &view.cited_by {
                    li { a href=(format!("/article?url={}", enc(u))) { (t.clone().unwrap_or_else(|| u.clone())) } }
                } }
            }
            @if let Some(a) = article {
                h2 { "Latest text" }
                div.text { @for p in a.text.split("\n\n") { p { (p) } } }
            }
            h2 { "Captures" }
            table {
                thead { tr { th { "Fetched" } th { "Status" } th { "Version" } th { "Size" } th {} } }
                tbody { @for c in &view.captures {
                    tr {
                        td { (fmt(c.fetched_at)) }
                        td { (c.status) @if let Some(e) = &c.error { " " span.meta { (e) } } }
                        td { (c.version.map(|v| v.to_string()).unwrap_or_default()) }
                        td { (c.payload_len) " B" }
                        td { @if c.payload.is_some() {
                            a href=(format!("/capture?url={}&at={}", enc(url), c.fetched_at.timestamp_micros())) { "view as fetched" }
                        } }
                    }
                } }
            }
        },
    )
}

/// A line saying a source this page cites was edited after it appeared.
fn source_edit_notice(e: &SourceEdit) -> Markup {
    let source = enc(&e.source);
    html! {
        p.notice.source-edited {
            "The source "
            a href=(format!("/article?url={source}")) { (e.source_title.clone().unwrap_or_else(|| e.source.clone())) }
            " was edited " (e.delay()) " after this page first appeared (" (fmt(e.edited_at)) "): "
            a href=(format!("/diff?url={source}&a={}&b={}", e.version - 1, e.version)) { "what changed in version " (e.version) }
            " (+" (e.words_added) " −" (e.words_removed) " words)."
        }
    }
}

pub fn diff(view: &Comparison, permalink: &str) -> Markup {
    let url = view.page.url.as_str();
    let d = &view.diff;
    let title = view
        .new
        .article
        .title
        .clone()
        .unwrap_or_else(|| url.to_string());
    layout(
        &format!("Changes to {title}"),
        html! {
            h1 { "Changes to " a href=(format!("/article?url={}", enc(url))) { (title) } }
            p.meta {
                (external(url)) br;
                "Version " (view.old.number) " (" (fmt(view.old.first_seen)) ") → version " (view.new.number) " (" (fmt(view.new.first_seen)) ")" br;
                strong { (diff::summary(d)) }
                " · " a href=(permalink) rel="bookmark" { "permalink" }
            }
            (diff::fields_html(d))
            h2 { "Inline" }
            (diff::inline_html(d))
            h2 { "Side by side" }
            div.cols id="side-by-side" {
                div { h3 { "Version " (view.old.number) } (diff::side_html(d, Side::Old)) }
                div { h3 { "Version " (view.new.number) } (diff::side_html(d, Side::New)) }
            }
        },
    )
}

pub fn capture(url: &str, at: i64, fetched: DateTime<Utc>, status: u16) -> Markup {
    layout(
        "Capture",
        html! {
            h1 { "Capture of " (url) }
            p.meta { "Fetched " (fmt(fetched)) ", HTTP " (status) ". Shown as fetched, in a sandbox: no scripts run and nothing is loaded from the live web." }
            p { a href=(format!("/article?url={}", enc(url))) { "← article timeline" } }
            iframe sandbox="" referrerpolicy="no-referrer" title="capture" src=(format!("/raw?url={}&at={at}", enc(url))) {}
        },
    )
}

pub struct StatusView {
    pub running: bool,
    /// (API key, label, value).
    pub lines: Vec<(&'static str, &'static str, u64)>,
    pub due: Vec<Due>,
}

pub fn status(view: &StatusView) -> Markup {
    layout(
        "Crawl status",
        html! {
            h1 { "Crawl status" }
            @if !view.running { p { "No crawl is running in this process (start one with " code { "palimpsest watch --serve" } ")." } }
            table { tbody { @for (_, label, v) in &view.lines { tr { th { (label) } td { (v) } } } } }
            h2 { "Due next" }
            table {
                thead { tr { th { "Due" } th { "Reason" } th { "URL" } } }
                tbody { @for d in &view.due { tr { td { (fmt(d.due)) } td { (d.reason) } td { (d.url) } } } }
            }
        },
    )
}

/// The full-text search page: its form, and the results of `query` if one
/// was asked.
pub fn search(query: Option<&SearchQuery>, hits: Option<&[Hit]>) -> Markup {
    let q = query.cloned().unwrap_or_default();
    let day = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    layout(
        "Search",
        html! {
            h1 { "Search every version" }
            form.filters method="get" action="/search" role="search" {
                label { "Words " input type="search" name="q" value=(q.text) placeholder="words, \"a phrase\", -word, title:…" size="40"; }
                label { "Host " input type="text" name="host" value=(q.host.clone().unwrap_or_default()) size="14"; }
                label { "Language " input type="text" name="lang" value=(q.language.clone().unwrap_or_default()) size="4"; }
                label { "From " input type="date" name="since" value=(day(q.since)); }
                label { "to " input type="date" name="until" value=(day(q.until)); }
                select name="by" {
                    option value="published" selected[q.dated_by == DatedBy::Published] { "published" }
                    option value="captured" selected[q.dated_by == DatedBy::Captured] { "captured" }
                }
                label { input type="checkbox" name="removed" value="1" checked[q.removed]; " removed since" }
                label { input type="checkbox" name="stem" value="1" checked[q.stem]; " word forms" }
                button type="submit" { "Search" }
            }
            @match hits {
                None => {}
                Some([]) => p.none { "No version matches." }
                Some(hits) => ol.hits { @for hit in hits { (search_hit(hit)) } }
            }
        },
    )
}

fn search_hit(hit: &Hit) -> Markup {
    let url = enc(&hit.url);
    let version_link = match hit.version {
        1 => format!("/article?url={url}"),
        v => format!("/diff?url={url}&a={}&b={v}", v - 1),
    };
    html! {
        li.hit {
            a href=(format!("/article?url={url}")) { (hit.title.clone().unwrap_or_else(|| hit.url.clone())) }
            br;
            span.meta {
                (hit.url) " · " a href=(version_link) { "version " (hit.version) }
                " · first seen " (fmt(hit.first_seen))
                @if let Some(gone) = hit.removed_in {
                    " · " a.removed href=(format!("/diff?url={url}&a={}&b={gone}", hit.version)) { "gone in version " (gone) }
                }
            }
            p.snippet { (highlighted(hit)) }
        }
    }
}

/// The hit's snippet with its matches marked.
fn highlighted(hit: &Hit) -> Markup {
    html! {
        @for (text, matched) in hit.snippet_parts() {
            @if matched { mark { (text) } } @else { (text) }
        }
    }
}
