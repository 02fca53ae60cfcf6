//! One page's versions: its history, one version, two compared, the
//! article page's view of it all, and why a page has no version, said as
//! what the page is.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::QueryError;
use crate::archive::{
    ArchiveError, CaptureRecord, PageRecord, PageState, Store, UrlId, VersionRecord,
};
use crate::crawl::counted;
use crate::diff::{self, ArticleDiff};
use crate::digest::ContentDigest;

/// One version in a timeline; serialized field for field as a line of
/// `palimpsest history --json` and an entry of `/api/history`.
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

/// A page's versions, oldest first; none for a page never extracted.
pub fn timeline(
    archive: &impl Store,
    id: UrlId,
    page: &PageRecord,
) -> Result<Vec<TimelineVersion>, ArchiveError> {
    let mut versions = Vec::with_capacity(page.versions as usize);
    for number in 1..=page.versions {
        let v = archive.require_version_meta(id, page, number)?;
        versions.push(TimelineVersion {
            version: v.number,
            first_seen: v.first_seen,
            last_seen: archive.version_last_seen(id, v.number)?,
            title: v.title,
            words_added: v.words_added,
            words_removed: v.words_removed,
            digest: v.digest,
            reextracted: v.reextracted,
        });
    }
    Ok(versions)
}

/// A page that has versions: its id and record.
fn versioned(archive: &impl Store, url: &str) -> Result<(UrlId, PageRecord), QueryError> {
    let (id, page) = archive.lookup(url)?;
    if page.versions == 0 {
        return Err(no_versions(archive, id, &page));
    }
    Ok((id, page))
}

/// A page and its versions, oldest first.
#[derive(Debug, Clone)]
pub struct History {
    pub page: PageRecord,
    pub versions: Vec<TimelineVersion>,
}

/// A page's history: `palimpsest history`. A page without versions is an
/// error that says why.
pub fn history(archive: &impl Store, url: &str) -> Result<History, QueryError> {
    let (id, page) = versioned(archive, url)?;
    let versions = timeline(archive, id, &page)?;
    Ok(History { page, versions })
}

/// One version of a page, with what it was read from.
#[derive(Debug, Clone)]
pub struct Shown {
    pub id: UrlId,
    pub page: PageRecord,
    pub version: VersionRecord,
    pub last_seen: Option<DateTime<Utc>>,
}

/// Version `number` of a page, by default its latest: `palimpsest show`.
pub fn show(archive: &impl Store, url: &str, number: Option<u32>) -> Result<Shown, QueryError> {
    let (id, page) = versioned(archive, url)?;
    let number = number.unwrap_or(page.versions);
    let version = archive.require_version(id, &page, number)?;
    let last_seen = archive.version_last_seen(id, number)?;
    Ok(Shown {
        id,
        page,
        version,
        last_seen,
    })
}

/// Two versions of a page and their differences.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub page: PageRecord,
    pub old: VersionRecord,
    pub new: VersionRecord,
    pub diff: ArticleDiff,
}

/// Versions `a` and `b` of a page compared: by default the last two; `a`
/// alone with the latest, `b` alone with the one before it.
pub fn compare(
    archive: &impl Store,
    url: &str,
    a: Option<u32>,
    b: Option<u32>,
) -> Result<Comparison, QueryError> {
    let (id, page) = versioned(archive, url)?;
    let versions = || counted(page.versions.into(), "version", "versions");
    let (a, b) = match (a, b) {
        (Some(a), b) => (a, b.unwrap_or(page.versions)),
        (None, _) if page.versions < 2 => {
            return Err(QueryError::NothingToCompare {
                url: page.url.to_string(),
                versions: versions(),
            });
        }
        (None, Some(b)) => (b.saturating_sub(1).max(1), b),
        (None, None) => (page.versions - 1, page.versions),
    };
    if a == b {
        return Err(QueryError::SameVersion {
            url: page.url.to_string(),
            number: a,
            versions: versions(),
        });
    }
    let old = archive.require_version(id, &page, a)?;
    let new = archive.require_version(id, &page, b)?;
    let diff = diff::diff(&old.article, &new.article);
    Ok(Comparison {
        page,
        old,
        new,
        diff,
    })
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
    /// Edits of archived sources made after the page first appeared.
    pub source_edits: Vec<super::SourceEdit>,
    pub cited_by: Vec<(String, Option<String>)>,
}

/// A page, versioned or not: its versions, captures, sources and the
/// archived pages that cite it.
pub fn article(archive: &impl Store, url: &str) -> Result<ArticleView, ArchiveError> {
    let (id, page) = archive.lookup(url)?;
    let versions = timeline(archive, id, &page)?;
    let latest = match page.versions {
        0 => None,
        n => archive.version(id, n)?,
    };
    let captures = archive.captures(id).collect::<Result<Vec<_>, _>>()?;
    let links = latest
        .as_ref()
        .map(|v| v.article.source_links.clone())
        .unwrap_or_default();
    let source_edits = match versions.first() {
        Some(first) => super::sources::edits_of(archive, &links, first.first_seen)?,
        None => Vec::new(),
    };
    let sources = links
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
        latest,
        versions,
        captures,
        sources,
        source_edits,
        cited_by,
    })
}

/// Why a page has no versions, said as what the page is ("disallowed by
/// robots.txt", "HTTP 404 on every capture"…).
fn no_versions(archive: &impl Store, id: UrlId, page: &PageRecord) -> QueryError {
    let why = match (&page.state, page.last_error.as_deref()) {
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
            Ok(why) => why,
            Err(e) => return e.into(),
        },
    };
    QueryError::NoVersions {
        url: page.url.to_string(),
        why,
    }
}

/// What the captures of a page that never gave an article were.
fn captures_without_text(
    archive: &impl Store,
    id: UrlId,
    page: &PageRecord,
) -> Result<String, ArchiveError> {
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
