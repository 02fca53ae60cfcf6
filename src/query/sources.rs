//! Edited sources: an archived page that an article cites, changed after
//! the article first appeared (a translation whose original was edited
//! later). The article page shows these edits, the changes and the feed
//! list them as their own kind of entry, and `palimpsest sources` follows
//! the chain of citations from an article to its sources and theirs.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::archive::{ArchiveError, PageRecord, Store, UrlId};

/// Levels of citation `sources` follows at most.
const CHAIN_DEPTH: usize = 8;
/// Sources listed per page at most (a page citing thousands is not news).
const SOURCES_PER_PAGE: usize = 100;

/// An edit of a cited source, made after the citing page first appeared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceEdit {
    /// The source's canonical URL.
    pub source: String,
    /// The source's headline in the version the edit made.
    pub source_title: Option<String>,
    /// The version the edit made (compare it with the one before).
    pub version: u32,
    /// When that version was first seen.
    pub edited_at: DateTime<Utc>,
    /// When the citing page was first seen.
    pub cited_since: DateTime<Utc>,
    /// Words the edit added.
    pub words_added: usize,
    /// Words the edit removed.
    pub words_removed: usize,
}

impl SourceEdit {
    /// How long after the citing page appeared the source was edited, in
    /// the largest whole unit: "3 days", "1 hour", "40 seconds".
    pub fn delay(&self) -> String {
        let seconds = (self.edited_at - self.cited_since).num_seconds().max(0);
        let (n, unit) = match seconds {
            s if s >= 86_400 => (s / 86_400, "day"),
            s if s >= 3_600 => (s / 3_600, "hour"),
            s if s >= 60 => (s / 60, "minute"),
            s => (s, "second"),
        };
        format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
    }
}

/// When a page first appeared: its first version's first sighting.
pub(crate) fn appeared(
    archive: &impl Store,
    id: UrlId,
    page: &PageRecord,
) -> Result<Option<DateTime<Utc>>, ArchiveError> {
    if page.versions == 0 {
        return Ok(None);
    }
    Ok(Some(archive.require_version_meta(id, page, 1)?.first_seen))
}

/// Version `number` of the source `id` as an edit seen by a page that
/// appeared at `cited_since`, if it is one: a change of the page (not its
/// first version, not a re-extraction) first seen after that.
pub(crate) fn edit_after(
    archive: &impl Store,
    id: UrlId,
    page: &PageRecord,
    number: u32,
    cited_since: DateTime<Utc>,
) -> Result<Option<SourceEdit>, ArchiveError> {
    if number < 2 {
        return Ok(None);
    }
    let version = archive.require_version_meta(id, page, number)?;
    if version.reextracted || version.first_seen <= cited_since {
        return Ok(None);
    }
    Ok(Some(SourceEdit {
        source: page.url.to_string(),
        source_title: version.title,
        version: number,
        edited_at: version.first_seen,
        cited_since,
        words_added: version.words_added,
        words_removed: version.words_removed,
    }))
}

/// The edits of archived sources in `sources` made after `cited_since`,
/// oldest first.
pub(crate) fn edits_of(
    archive: &impl Store,
    sources: &[String],
    cited_since: DateTime<Utc>,
) -> Result<Vec<SourceEdit>, ArchiveError> {
    let mut edits = Vec::new();
    for source in sources.iter().take(SOURCES_PER_PAGE) {
        let Ok((id, page)) = archive.lookup(source) else {
            continue;
        };
        for number in 2..=page.versions {
            edits.extend(edit_after(archive, id, &page, number, cited_since)?);
        }
    }
    edits.sort_by_key(|e| e.edited_at);
    Ok(edits)
}

/// A page in a chain of citations: what the archive holds of it, the
/// edits of it made after the page citing it appeared, and its own sources.
#[derive(Debug, Clone, Serialize)]
pub struct SourceChain {
    /// The URL as cited (canonical when archived).
    pub url: String,
    /// Whether the archive holds a version of it.
    pub archived: bool,
    /// Its latest headline.
    pub title: Option<String>,
    /// Its number of versions.
    pub versions: u32,
    /// When it first appeared.
    pub first_seen: Option<DateTime<Utc>>,
    /// Its edits after the page citing it appeared (none for the first page).
    pub edits: Vec<SourceEdit>,
    /// The pages it cites, in the order its latest version gives them.
    pub sources: Vec<SourceChain>,
}

/// The chain of citations from the page at `url`: its sources, theirs, and
/// so on (each page once, a few levels deep).
pub fn sources(archive: &impl Store, url: &str) -> Result<SourceChain, ArchiveError> {
    let (id, page) = archive.lookup(url)?;
    let mut seen = HashSet::from([id]);
    link(archive, id, &page, None, &mut seen, CHAIN_DEPTH)
}

fn link(
    archive: &impl Store,
    id: UrlId,
    page: &PageRecord,
    cited_since: Option<DateTime<Utc>>,
    seen: &mut HashSet<UrlId>,
    depth: usize,
) -> Result<SourceChain, ArchiveError> {
    let first_seen = appeared(archive, id, page)?;
    let mut edits = Vec::new();
    if let Some(since) = cited_since {
        for number in 2..=page.versions {
            edits.extend(edit_after(archive, id, page, number, since)?);
        }
    }
    let cited = match (page.versions, depth) {
        (0, _) | (_, 0) => Vec::new(),
        (n, _) => archive
            .version(id, n)?
            .map(|v| v.article.source_links)
            .unwrap_or_default(),
    };
    let mut sources = Vec::new();
    for source in cited.into_iter().take(SOURCES_PER_PAGE) {
        match archive.lookup(&source) {
            Ok((sid, spage)) if seen.insert(sid) => {
                let since = first_seen.or(cited_since);
                sources.push(link(archive, sid, &spage, since, seen, depth - 1)?);
            }
            Ok(_) => {}
            Err(_) => sources.push(unarchived(source)),
        }
    }
    Ok(SourceChain {
        url: page.url.to_string(),
        archived: page.versions > 0,
        title: page.latest.as_ref().and_then(|l| l.title.clone()),
        versions: page.versions,
        first_seen,
        edits,
        sources,
    })
}

fn unarchived(url: String) -> SourceChain {
    SourceChain {
        url,
        archived: false,
        title: None,
        versions: 0,
        first_seen: None,
        edits: Vec::new(),
        sources: Vec::new(),
    }
}
