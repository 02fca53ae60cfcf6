//! The questions the interface asks the archive, shared by the HTML pages
//! and the JSON API.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::archive::{
    Archive, ArchiveError, CaptureRecord, PageRecord, UrlId, VersionRecord, from_micros, micros,
};
use crate::article::PageKind;
use crate::diff::{self, ArticleDiff};
use crate::digest::ContentDigest;

/// Rows per index page.
pub const PAGE_SIZE: usize = 50;

/// The index's filters.
#[derive(Debug, Clone, Default)]
pub struct IndexQuery {
    /// Words in the URL or title (case-insensitive).
    pub q: Option<String>,
    pub host: Option<String>,
    pub language: Option<String>,
    pub changed_since: Option<DateTime<Utc>>,
    pub all_pages: bool,
    /// 1-based.
    pub page: usize,
}

/// One row of the index.
#[derive(Debug, Clone, Serialize)]
pub struct PageSummary {
    pub url: String,
    pub title: Option<String>,
    pub host: String,
    pub language: Option<String>,
    pub kind: PageKind,
    pub versions: u32,
    pub captures: u64,
    pub last_change: DateTime<Utc>,
    pub last_captured: Option<DateTime<Utc>>,
}

/// What the index filters on, per page, kept in memory.
#[derive(Debug, Clone)]
struct Entry {
    /// Lower-cased URL and title.
    haystack: String,
    host: String,
    language: String,
    kind: PageKind,
}

impl IndexQuery {
    fn matches(&self, e: &Entry) -> bool {
        if !self.all_pages && e.kind != PageKind::Article {
            return false;
        }
        if let Some(h) = self.host.as_deref().filter(|h| !h.is_empty())
            && e.host != h
            && !e.host.ends_with(&format!(".{h}"))
        {
            return false;
        }
        if let Some(l) = self.language.as_deref().filter(|l| !l.is_empty())
            && e.language != l
            && !e.language.starts_with(&format!("{l}-"))
        {
            return false;
        }
        if let Some(q) = self.q.as_deref().filter(|q| !q.trim().is_empty())
            && !q
                .to_lowercase()
                .split_whitespace()
                .all(|w| e.haystack.contains(w))
        {
            return false;
        }
        true
    }
}

#[derive(Default)]
struct Catalog {
    /// Newest change first.
    order: BTreeMap<(Reverse<u64>, UrlId), Entry>,
    last_change: HashMap<UrlId, u64>,
    /// Time (µs) of the newest change read so far.
    watermark: u64,
}

/// The index's catalogue of pages, newest change first, kept in memory (a
/// few hundred bytes a page) and brought up to date from the archive's
/// time-ordered changes index on each query — so searching 100k versions
/// never decodes 100k records.
#[derive(Default)]
pub struct SearchIndex {
    catalog: Mutex<Catalog>,
}

impl SearchIndex {
    /// Reads the whole catalogue now (at start-up) rather than on the
    /// first query.
    pub fn warm(&self, archive: &Archive) -> Result<(), ArchiveError> {
        let mut catalog = self
            .catalog
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.refresh(archive, &mut catalog)
    }

    fn refresh(&self, archive: &Archive, catalog: &mut Catalog) -> Result<(), ArchiveError> {
        for change in archive.changes_since(catalog.watermark) {
            let (at, id, _) = change?;
            catalog.watermark = catalog.watermark.max(at);
            if catalog.last_change.get(&id).is_some_and(|t| *t >= at) {
                continue;
            }
            let Some(page) = archive.page(id)? else {
                continue;
            };
            if let Some(old) = catalog.last_change.insert(id, at) {
                catalog.order.remove(&(Reverse(old), id));
            }
            let latest = page.latest.as_ref();
            let entry = Entry {
                haystack: format!(
                    "{} {}",
                    page.url.as_str().to_lowercase(),
                    latest
                        .and_then(|l| l.title.as_deref())
                        .unwrap_or_default()
                        .to_lowercase()
                ),
                host: page.url.host().to_string(),
                language: latest.and_then(|l| l.language.clone()).unwrap_or_default(),
                kind: latest.map_or(PageKind::Page, |l| l.kind),
            };
            catalog.order.insert((Reverse(at), id), entry);
        }
        Ok(())
    }
}

/// Archived pages, newest change first, one page of results, and whether
/// there are more.
pub fn index(
    archive: &Archive,
    search: &SearchIndex,
    query: &IndexQuery,
) -> Result<(Vec<PageSummary>, bool), ArchiveError> {
    let skip = query.page.saturating_sub(1).saturating_mul(PAGE_SIZE);
    let since = query.changed_since.map(micros);
    let selected: Vec<(u64, UrlId)>;
    let more;
    {
        let mut catalog = search
            .catalog
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        search.refresh(archive, &mut catalog)?;
        let mut matching = catalog
            .order
            .iter()
            .take_while(|((Reverse(at), _), _)| since.is_none_or(|s| *at >= s))
            .filter(|(_, e)| query.matches(e))
            .map(|((Reverse(at), id), _)| (*at, *id))
            .skip(skip);
        selected = matching.by_ref().take(PAGE_SIZE).collect();
        more = matching.next().is_some();
    }
    let mut rows = Vec::with_capacity(selected.len());
    for (at, id) in selected {
        if let Some(page) = archive.page(id)? {
            rows.push(summary(&page, from_micros(at)));
        }
    }
    Ok((rows, more))
}

fn summary(page: &PageRecord, last_change: DateTime<Utc>) -> PageSummary {
    let latest = page.latest.as_ref();
    PageSummary {
        url: page.url.to_string(),
        title: latest.and_then(|l| l.title.clone()),
        host: page.url.host().to_string(),
        language: latest.and_then(|l| l.language.clone()),
        kind: latest.map_or(PageKind::Page, |l| l.kind),
        versions: page.versions,
        captures: page.captures,
        last_change,
        last_captured: page.last_captured,
    }
}

/// One version in a timeline; serialized field for field as a line of
/// `palimpsest history --json`, so a script reads both the same way.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineVersion {
    pub version: u32,
    pub first_seen: DateTime<Utc>,
    pub last_seen: Option<DateTime<Utc>>,
    pub title: Option<String>,
    pub words_added: usize,
    pub words_removed: usize,
    pub digest: ContentDigest,
    pub reextracted: bool,
}

/// Everything the article page shows.
#[derive(Debug, Clone)]
pub struct ArticleView {
    pub page: PageRecord,
    pub latest: Option<VersionRecord>,
    pub versions: Vec<TimelineVersion>,
    pub captures: Vec<CaptureRecord>,
    /// Source links, with whether each is archived.
    pub sources: Vec<(String, bool)>,
    pub cited_by: Vec<(String, Option<String>)>,
}

pub fn article(archive: &Archive, url: &str) -> Result<ArticleView, ArchiveError> {
    let (id, page) = archive.lookup(url)?;
    let mut versions = Vec::new();
    for n in 1..=page.versions {
        let Some(v) = archive.version_meta(id, n)? else {
            continue;
        };
        versions.push(TimelineVersion {
            version: v.number,
            first_seen: v.first_seen,
            last_seen: archive.version_last_seen(id, v.number)?,
            title: v.title.clone(),
            words_added: v.words_added,
            words_removed: v.words_removed,
            digest: v.digest,
            reextracted: v.reextracted,
        });
    }
    let previous = match page.versions {
        0 => None,
        n => archive.version(id, n)?,
    };
    let captures = archive.captures(id).collect::<Result<Vec<_>, _>>()?;
    let sources = previous
        .as_ref()
        .map(|v| v.article.source_links.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|s| {
            let archived = archive.lookup(&s).is_ok();
            (s, archived)
        })
        .collect();
    let cited_by = archive
        .cited_by(id)?
        .into_iter()
        .filter_map(|c| archive.page(c).ok().flatten())
        .map(|p| (p.url.to_string(), p.latest.and_then(|l| l.title)))
        .collect();
    Ok(ArticleView {
        page,
        latest: previous,
        versions,
        captures,
        sources,
        cited_by,
    })
}

/// Two versions and their differences.
pub struct DiffView {
    pub page: PageRecord,
    pub old: VersionRecord,
    pub new: VersionRecord,
    pub diff: ArticleDiff,
}

pub fn diff(
    archive: &Archive,
    url: &str,
    a: Option<u32>,
    b: Option<u32>,
) -> Result<DiffView, ArchiveError> {
    let (id, page) = archive.lookup(url)?;
    let b = b.unwrap_or(page.versions);
    let a = a.unwrap_or(b.saturating_sub(1).max(1));
    let old = archive.require_version(id, &page, a)?;
    let new = archive.require_version(id, &page, b)?;
    let diff = diff::diff(&old.article, &new.article);
    Ok(DiffView {
        page,
        old,
        new,
        diff,
    })
}

/// A change for the feed and the API.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub url: String,
    pub version: u32,
    pub changed_at: DateTime<Utc>,
    pub title: Option<String>,
    pub kind: PageKind,
    pub words_added: usize,
    pub words_removed: usize,
}

/// Versions after the first, newest first, at most `limit`: of articles
/// only, as `palimpsest changes` lists them, unless `all_pages`.
pub fn changes(
    archive: &Archive,
    since: Option<DateTime<Utc>>,
    all_pages: bool,
    limit: usize,
) -> Result<Vec<Change>, ArchiveError> {
    let since = since.map(micros);
    let mut out = Vec::new();
    for change in archive.changes_newest_first(None) {
        let (at, id, number) = change?;
        if since.is_some_and(|s| at < s) || out.len() >= limit {
            break;
        }
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
        let Some(v) = archive.version_meta(id, number)? else {
            continue;
        };
        out.push(Change {
            url: page.url.to_string(),
            version: number,
            changed_at: from_micros(at),
            title: v.title,
            kind,
            words_added: v.words_added,
            words_removed: v.words_removed,
        });
    }
    Ok(out)
}
