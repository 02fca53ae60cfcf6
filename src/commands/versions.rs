//! The fact-checker's commands: `history`, `show`, `diff`, `changes`.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::{Outcome, table_time as format_time};
use crate::archive::{Archive, PageRecord, PageState, UrlId, micros};
use crate::article::PageKind;
use crate::crawl::counted;
use crate::diff::{self, Sides};

/// Output format of `diff`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DiffFormat {
    Text,
    Json,
    Html,
}

#[derive(Serialize)]
struct HistoryRow<'a> {
    version: u32,
    first_seen: DateTime<Utc>,
    last_seen: Option<DateTime<Utc>>,
    title: Option<&'a str>,
    words_added: usize,
    words_removed: usize,
    digest: String,
    reextracted: bool,
}

/// Why a page has no versions, said as what the page is ("disallowed by
/// robots.txt", "HTTP 404 on every capture"…), for the commands that need one.
fn no_versions(archive: &Archive, id: UrlId, page: &PageRecord) -> anyhow::Error {
    let what = match (&page.state, page.last_error.as_deref()) {
        (PageState::Disallowed, Some(reason)) if reason.starts_with("disallowed") => {
            reason.to_string()
        }
        (PageState::Disallowed, reason) => format!(
            "not fetched: {}",
            reason.unwrap_or("robots.txt could not be read")
        ),
        (_, Some(error)) if page.captures == 0 => format!("not fetched: {error}"),
        _ if page.captures == 0 => "not fetched yet".to_string(),
        _ => match captures_without_text(archive, id, page) {
            Ok(what) => what,
            Err(e) => return e,
        },
    };
    anyhow::anyhow!("{} has no versions: {what}", page.url)
}

/// What the captures of a page that never gave an article were.
fn captures_without_text(
    archive: &Archive,
    id: UrlId,
    page: &PageRecord,
) -> anyhow::Result<String> {
    let mut statuses = Vec::new();
    for capture in archive.captures(id) {
        statuses.push(capture?.status);
    }
    let captures = counted(statuses.len() as u64, "capture", "captures");
    statuses.sort_unstable();
    statuses.dedup();
    Ok(match (statuses.as_slice(), page.last_error.as_deref()) {
        ([only], _) if *only >= 400 => format!("HTTP {only} on every capture ({captures})"),
        // A cut body, a long Retry-After…: the page failed for that.
        (_, Some(error)) if page.state == PageState::Failed => format!("{error} ({captures})"),
        _ => {
            let seen: Vec<String> = statuses.iter().map(|s| format!("HTTP {s}")).collect();
            format!("no article text in {captures} ({})", seen.join(", "))
        }
    })
}

/// `palimpsest history URL`.
pub(crate) fn history(
    archive: &Archive,
    url: &str,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let (id, page) = archive.lookup(url)?;
    if page.versions == 0 {
        return Err(no_versions(archive, id, &page));
    }
    if !json {
        writeln!(out, "{}", page.url)?;
        writeln!(
            out,
            "{:<7} {:<20}  {:<20}  {:<14} TITLE",
            "VERSION", "FIRST SEEN", "LAST SEEN", "CHANGE"
        )?;
    }
    for number in 1..=page.versions {
        let version = archive.require_version_meta(id, &page, number)?;
        let (added, removed) = (version.words_added, version.words_removed);
        let last_seen = archive.version_last_seen(id, version.number)?;
        if json {
            let row = HistoryRow {
                version: version.number,
                first_seen: version.first_seen,
                last_seen,
                title: version.title.as_deref(),
                words_added: added,
                words_removed: removed,
                digest: version.digest.to_string(),
                reextracted: version.reextracted,
            };
            writeln!(out, "{}", serde_json::to_string(&row)?)?;
        } else {
            let mut change = if number > 1 {
                format!("+{added} -{removed}")
            } else {
                counted(added as u64, "word", "words")
            };
            if version.reextracted {
                change.push_str(" (re-extracted)");
            }
            writeln!(
                out,
                "{:<7} {:<20}  {:<20}  {:<14} {}",
                version.number,
                format_time(version.first_seen),
                last_seen.map(format_time).unwrap_or_default(),
                change,
                version.title.as_deref().unwrap_or_default()
            )?;
        }
    }
    Ok(Outcome::Done)
}

/// `palimpsest show URL [--version N]`.
pub(crate) fn show(
    archive: &Archive,
    url: &str,
    number: Option<u32>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let (id, page) = archive.lookup(url)?;
    if page.versions == 0 {
        return Err(no_versions(archive, id, &page));
    }
    let number = number.unwrap_or(page.versions);
    let version = archive.require_version(id, &page, number)?;
    let last_seen = archive.version_last_seen(id, number)?;
    let r = crate::export::article_record(archive, id, &page, version)?;
    if json {
        writeln!(out, "{}", serde_json::to_string(&r)?)?;
        return Ok(Outcome::Done);
    }
    writeln!(out, "{}", r.title.as_deref().unwrap_or("(no title)"))?;
    let mut meta = Vec::new();
    if !r.authors.is_empty() {
        meta.push(format!("by {}", r.authors.join(", ")));
    }
    if let Some(p) = r.published {
        meta.push(format!(
            "published {}",
            p.to_rfc3339_opts(SecondsFormat::Secs, true)
        ));
    }
    if let Some(m) = r.modified {
        meta.push(format!(
            "modified {}",
            m.to_rfc3339_opts(SecondsFormat::Secs, true)
        ));
    }
    if let Some(l) = &r.language {
        meta.push(format!("language {l}"));
    }
    if !meta.is_empty() {
        writeln!(out, "{}", meta.join(" · "))?;
    }
    writeln!(
        out,
        "{} — version {} of {}, first seen {}{}",
        r.url,
        number,
        page.versions,
        r.captured_at.map(format_time).unwrap_or_default(),
        last_seen
            .map(|t| format!(", last seen {}", format_time(t)))
            .unwrap_or_default()
    )?;
    for source in &r.source_links {
        writeln!(out, "source: {source}")?;
    }
    writeln!(out)?;
    writeln!(out, "{}", r.text)?;
    for headline in &r.headlines {
        writeln!(out, "* {} <{}>", headline.text, headline.url)?;
    }
    Ok(Outcome::Done)
}

/// `palimpsest diff URL [A] [B]`: by default the last two versions.
pub(crate) fn diff(
    archive: &Archive,
    url: &str,
    a: Option<u32>,
    b: Option<u32>,
    format: DiffFormat,
    colour: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let (id, page) = archive.lookup(url)?;
    if page.versions == 0 {
        return Err(no_versions(archive, id, &page));
    }
    let (a, b) = match (a, b) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, page.versions),
        (None, _) if page.versions < 2 => anyhow::bail!(
            "{} has {}: nothing to compare",
            page.url,
            counted(page.versions.into(), "version", "versions")
        ),
        (None, _) => (page.versions - 1, page.versions),
    };
    if a == b {
        anyhow::bail!(
            "{} version {a} compared with itself: nothing to compare (it has {})",
            page.url,
            counted(page.versions.into(), "version", "versions")
        );
    }
    let old = archive.require_version(id, &page, a)?;
    let new = archive.require_version(id, &page, b)?;
    let d = diff::diff(&old.article, &new.article);
    let sides = Sides {
        url: page.url.to_string(),
        old_label: format!("version {a}, {}", format_time(old.first_seen)),
        new_label: format!("version {b}, {}", format_time(new.first_seen)),
    };
    match format {
        DiffFormat::Text => write!(out, "{}", diff::text(&d, &sides, colour))?,
        DiffFormat::Html => write!(out, "{}", diff::html(&d, &sides))?,
        DiffFormat::Json => {
            #[derive(Serialize)]
            struct JsonDiff<'a> {
                url: &'a str,
                from: u32,
                to: u32,
                from_seen: DateTime<Utc>,
                to_seen: DateTime<Utc>,
                #[serde(flatten)]
                diff: &'a diff::ArticleDiff,
            }
            let j = JsonDiff {
                url: page.url.as_str(),
                from: a,
                to: b,
                from_seen: old.first_seen,
                to_seen: new.first_seen,
                diff: &d,
            };
            writeln!(out, "{}", serde_json::to_string(&j)?)?;
        }
    }
    Ok(Outcome::Done)
}

#[derive(Serialize)]
struct ChangeRow<'a> {
    url: &'a str,
    version: u32,
    changed_at: DateTime<Utc>,
    title: Option<&'a str>,
    kind: PageKind,
    words_added: usize,
    words_removed: usize,
}

/// `palimpsest changes [--since WHEN]`: versions after the first, newest
/// last. A first version is a new page, not a change.
pub(crate) fn changes(
    archive: &Archive,
    since: Option<DateTime<Utc>>,
    all_pages: bool,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let since = since.map(micros).unwrap_or(0);
    if !json {
        writeln!(
            out,
            "{:<20}  {:<7} {:<14} {:<50} TITLE",
            "CHANGED", "VERSION", "CHANGE", "URL"
        )?;
    }
    for change in archive.changes_since(since) {
        let (_, id, number) = change?;
        if number < 2 {
            continue;
        }
        let Some(page) = archive.page(id)? else {
            continue;
        };
        let kind = page.latest.as_ref().map_or(PageKind::Page, |l| l.kind);
        if !all_pages && kind != PageKind::Article {
            continue;
        }
        let new = archive.require_version_meta(id, &page, number)?;
        if json {
            let row = ChangeRow {
                url: page.url.as_str(),
                version: number,
                changed_at: new.first_seen,
                title: new.title.as_deref(),
                kind,
                words_added: new.words_added,
                words_removed: new.words_removed,
            };
            writeln!(out, "{}", serde_json::to_string(&row)?)?;
        } else {
            writeln!(
                out,
                "{:<20}  {:<7} {:<14} {:<50} {}",
                format_time(new.first_seen),
                number,
                format!("+{} -{}", new.words_added, new.words_removed),
                page.url.as_str(),
                new.title.as_deref().unwrap_or_default()
            )?;
        }
    }
    Ok(Outcome::Done)
}
