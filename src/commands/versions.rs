//! The fact-checker's commands as the CLI prints them: `history`, `show`,
//! `diff`, `changes`, `sources`. The answers come from `query`.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::{Outcome, table_time as format_time};
use crate::archive::Archive;
use crate::crawl::counted;
use crate::diff::{self, Sides};
use crate::query::{self, DiffFormat, Order, Pages};

/// `palimpsest history URL`.
pub(crate) fn history(
    archive: &Archive,
    url: &str,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let query::History { page, versions } = query::history(archive, url)?;
    if !json {
        writeln!(out, "{}", page.url)?;
        writeln!(
            out,
            "{:<7} {:<20}  {:<20}  {:<14} TITLE",
            "VERSION", "FIRST SEEN", "LAST SEEN", "CHANGE"
        )?;
    }
    for version in &versions {
        if json {
            writeln!(out, "{}", serde_json::to_string(version)?)?;
            continue;
        }
        let (added, removed) = (version.words_added, version.words_removed);
        let mut change = if version.version > 1 {
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
            version.version,
            format_time(version.first_seen),
            version.last_seen.map(format_time).unwrap_or_default(),
            change,
            version.title.as_deref().unwrap_or_default()
        )?;
    }
    Ok(Outcome::Done)
}

/// `palimpsest show URL [-n N]`.
pub(crate) fn show(
    archive: &Archive,
    url: &str,
    number: Option<u32>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let shown = query::show(archive, url, number)?;
    let (number, versions) = (shown.version.number, shown.page.versions);
    let r = crate::export::article_record(archive, shown.id, &shown.page, shown.version)?;
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
        versions,
        r.captured_at.map(format_time).unwrap_or_default(),
        shown
            .last_seen
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
    let c = query::compare(archive, url, a, b)?;
    let (a, b) = (c.old.number, c.new.number);
    match format {
        DiffFormat::Text | DiffFormat::Html => {
            let sides = Sides {
                url: c.page.url.to_string(),
                old_label: format!("version {a}, {}", format_time(c.old.first_seen)),
                new_label: format!("version {b}, {}", format_time(c.new.first_seen)),
            };
            match format {
                DiffFormat::Html => write!(out, "{}", diff::html(&c.diff, &sides))?,
                _ => write!(out, "{}", diff::text(&c.diff, &sides, colour))?,
            }
        }
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
                url: c.page.url.as_str(),
                from: a,
                to: b,
                from_seen: c.old.first_seen,
                to_seen: c.new.first_seen,
                diff: &c.diff,
            };
            writeln!(out, "{}", serde_json::to_string(&j)?)?;
        }
    }
    Ok(Outcome::Done)
}

/// `palimpsest changes [--since WHEN]`: versions after the first, newest
/// last.
pub(crate) fn changes(
    archive: &Archive,
    since: Option<DateTime<Utc>>,
    all_pages: bool,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    if !json {
        writeln!(
            out,
            "{:<20}  {:<7} {:<14} {:<50} TITLE",
            "CHANGED", "VERSION", "CHANGE", "URL"
        )?;
    }
    let which = Pages::all_if(all_pages);
    for change in query::changes(archive, since, which, Order::OldestFirst) {
        let change = change?;
        if json {
            writeln!(out, "{}", serde_json::to_string(&change)?)?;
        } else {
            writeln!(
                out,
                "{:<20}  {:<7} {:<14} {:<50} {}",
                format_time(change.changed_at),
                change.version,
                format!("+{} -{}", change.words_added, change.words_removed),
                change.url,
                change.title.as_deref().unwrap_or_default()
            )?;
            if let Some(edit) = &change.source {
                writeln!(
                    out,
                    "{:<20}  source edited {} after it appeared: {} version {}",
                    "",
                    edit.delay(),
                    edit.source,
                    edit.version
                )?;
            }
        }
    }
    Ok(Outcome::Done)
}

/// Prints the chain of sources of the article at `url`: each page with its
/// versions, indented under the page citing it, with the edits made after
/// that page appeared.
pub(crate) fn sources(
    archive: &Archive,
    url: &str,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let chain = query::sources(archive, url)?;
    if json {
        writeln!(out, "{}", serde_json::to_string(&chain)?)?;
    } else {
        print_chain(&chain, 0, out)?;
    }
    Ok(Outcome::Done)
}

fn print_chain(
    link: &query::SourceChain,
    depth: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let indent = "    ".repeat(depth);
    let arrow = if depth == 0 { "" } else { "<- " };
    if !link.archived {
        return writeln!(out, "{indent}{arrow}{}  (not archived)", link.url);
    }
    writeln!(
        out,
        "{indent}{arrow}{}  {}, first seen {}  {}",
        link.url,
        counted(u64::from(link.versions), "version", "versions"),
        link.first_seen.map(format_time).unwrap_or_default(),
        link.title.as_deref().unwrap_or_default()
    )?;
    for edit in &link.edits {
        writeln!(
            out,
            "{indent}   edited {} after the page citing it appeared: version {} at {} (+{} -{} words)",
            edit.delay(),
            edit.version,
            format_time(edit.edited_at),
            edit.words_added,
            edit.words_removed
        )?;
    }
    for source in &link.sources {
        print_chain(source, depth + 1, out)?;
    }
    Ok(())
}
