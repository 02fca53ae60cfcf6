//! The questions the interface asks the archive, shared by the HTML pages
//! and the JSON API.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::archive::{
    Archive, ArchiveError, CaptureRecord, PageRecord, VersionRecord, from_micros, micros,
};
use crate::article::PageKind;
use crate::diff::{self, ArticleDiff};

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

impl IndexQuery {
    fn matches(&self, page: &PageRecord) -> bool {
        let latest = page.latest.as_ref();
        if !self.all_pages && latest.is_none_or(|l| l.kind != PageKind::Article) {
            return false;
        }
        if let Some(h) = self.host.as_deref().filter(|h| !h.is_empty()) {
            let host = page.url.host();
            if host != h && !host.ends_with(&format!(".{h}")) {
                return false;
            }
        }
        if let Some(l) = self.language.as_deref().filter(|l| !l.is_empty()) {
            let lang = latest
                .and_then(|v| v.language.as_deref())
                .unwrap_or_default();
            if lang != l && !lang.starts_with(&format!("{l}-")) {
                return false;
            }
        }
        if let Some(q) = self.q.as_deref().filter(|q| !q.trim().is_empty()) {
            let hay = format!(
                "{} {}",
                page.url.as_str().to_lowercase(),
                latest
                    .and_then(|v| v.title.as_deref())
                    .unwrap_or_default()
                    .to_lowercase()
            );
            if !q.to_lowercase().split_whitespace().all(|w| hay.contains(w)) {
                return false;
            }
        }
        true
    }
}

/// Archived pages, newest change first, one page of results, and whether
/// there are more. Walks the time-ordered changes index backwards, so the
/// first page costs the same however large the archive.
pub fn index(
    archive: &Archive,
    query: &IndexQuery,
) -> Result<(Vec<PageSummary>, bool), ArchiveError> {
    let skip = query.page.saturating_sub(1) * PAGE_SIZE;
    let since = query.changed_since.map(micros);
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    let mut matched = 0;
    for change in archive.changes_newest_first(None) {
        let (at, id, _) = change?;
        if since.is_some_and(|s| at < s) {
            break;
        }
        if !seen.insert(id) {
            continue;
        }
        let Some(page) = archive.page(id)? else {
            continue;
        };
        if !query.matches(&page) {
            continue;
        }
        matched += 1;
        if matched <= skip {
            continue;
        }
        if rows.len() == PAGE_SIZE {
            return Ok((rows, true));
        }
        rows.push(summary(&page, from_micros(at)));
    }
    Ok((rows, false))
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

/// One version in a timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineVersion {
    pub version: u32,
    pub first_seen: DateTime<Utc>,
    pub last_seen: Option<DateTime<Utc>>,
    pub title: Option<String>,
    pub words_added: usize,
    pub words_removed: usize,
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
    let mut previous: Option<VersionRecord> = None;
    for v in archive.versions(id) {
        let v = v?;
        let (added, removed) = match &previous {
            Some(p) => {
                let d = diff::diff(&p.article, &v.article);
                (d.words_added, d.words_removed)
            }
            None => (v.article.text.split_whitespace().count(), 0),
        };
        versions.push(TimelineVersion {
            version: v.number,
            first_seen: v.first_seen,
            last_seen: archive.version_last_seen(id, v.number)?,
            title: v.article.title.clone(),
            words_added: added,
            words_removed: removed,
            reextracted: v.reextracted,
        });
        previous = Some(v);
    }
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
    pub words_added: usize,
    pub words_removed: usize,
}

/// Versions after the first, newest first, at most `limit`.
pub fn changes(
    archive: &Archive,
    since: Option<DateTime<Utc>>,
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
        let (Some(new), Some(old)) = (
            archive.version(id, number)?,
            archive.version(id, number - 1)?,
        ) else {
            continue;
        };
        let d = diff::diff(&old.article, &new.article);
        out.push(Change {
            url: page.url.to_string(),
            version: number,
            changed_at: from_micros(at),
            title: new.article.title.clone(),
            words_added: d.words_added,
            words_removed: d.words_removed,
        });
    }
    Ok(out)
}
