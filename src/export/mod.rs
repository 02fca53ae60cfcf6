//! The ways out: the corpus as JSON Lines, CSV or WARC, streamed page by
//! page in constant memory, with filters by host, time and language.
//! Output to a regular file goes to a temporary file renamed into place on
//! success, so a failed export never leaves a file that looks whole.
//!
//! `since`/`until` mean the same for every format: they select by capture
//! time. WARC carries the captures made in the window; JSONL and CSV carry
//! the versions captured in it (first seen, or seen again, at a time in the
//! window), each page's latest such version unless all versions are asked.

mod output;
mod records;
pub mod warc;

pub use output::Target;
pub(crate) use output::{AtomicOutput, open_stream};
pub(crate) use records::article_record;
pub use records::{Cells, Schema};

use std::io::Write;

use chrono::{DateTime, Utc};

use crate::archive::{Archive, ArchiveError, PageRecord, Store, UrlId, VersionRecord};
use crate::query::{self, Pages};

/// Errors of an export.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ExportError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("cannot write {path}: {source}")]
    Output {
        path: String,
        source: std::io::Error,
    },
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

pub(crate) type Result<T, E = ExportError> = std::result::Result<T, E>;

/// Which records an export carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Hosts (a host matches itself and its subdomains).
    pub hosts: Vec<String>,
    /// Captured at or after (see the module's note on time windows).
    pub since: Option<DateTime<Utc>>,
    /// Captured before.
    pub until: Option<DateTime<Utc>>,
    /// Language codes (`en` matches `en-GB`).
    pub languages: Vec<String>,
    /// Every version captured in the window, not only the latest of each page.
    pub all_versions: bool,
    /// Every page, not only articles.
    pub all_pages: bool,
}

impl Filter {
    /// Whether a page of `host` is exported: no hosts given, or one covers
    /// it (the same rule as the web index's host filter).
    pub(crate) fn host_matches(&self, host: &str) -> bool {
        self.hosts.is_empty() || self.hosts.iter().any(|h| query::host_within(host, h))
    }

    /// The pages exported: articles only unless every page is asked for.
    pub(crate) fn pages(&self) -> Pages {
        Pages::all_if(self.all_pages)
    }

    pub(crate) fn time_matches(&self, t: DateTime<Utc>) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }

    /// The version numbers of a page captured within the window, oldest
    /// first: all of them, or only the latest (the one current at `until`,
    /// if it was still seen at or after `since`).
    fn versions_of(&self, archive: &Archive, id: UrlId, page: &PageRecord) -> Result<Vec<u32>> {
        let mut chosen = Vec::new();
        for n in (1..=page.versions).rev() {
            let Some(meta) = archive.version_meta(id, n)? else {
                continue;
            };
            if self.until.is_some_and(|u| meta.first_seen >= u) {
                continue;
            }
            let last_seen = archive.version_last_seen(id, n)?.unwrap_or(meta.first_seen);
            if self.since.is_none_or(|s| last_seen >= s) {
                chosen.push(n);
            }
            if !self.all_versions {
                break;
            }
        }
        chosen.reverse();
        Ok(chosen)
    }

    /// Whether a version in `language` is exported: no languages given, or
    /// one covers it (the same rule as the web index's language filter).
    pub(crate) fn language_matches(&self, language: Option<&str>) -> bool {
        self.languages.is_empty()
            || language.is_some_and(|l| {
                self.languages
                    .iter()
                    .any(|want| query::language_within(l, want))
            })
    }
}

/// Calls `each` for every version the filter selects, page by page (one
/// page's versions in memory at a time).
pub(crate) fn for_each_version(
    archive: &Archive,
    filter: &Filter,
    mut each: impl FnMut(UrlId, &PageRecord, VersionRecord) -> Result<()>,
) -> Result<()> {
    for page in archive.pages() {
        let (id, page) = page?;
        if page.versions == 0 || !filter.host_matches(page.url.host()) {
            continue;
        }
        if !filter.pages().covers(query::kind_of(&page)) {
            continue;
        }
        for n in filter.versions_of(archive, id, &page)? {
            let Some(version) = archive.version(id, n)? else {
                continue;
            };
            if filter.language_matches(version.article.language.as_deref()) {
                each(id, &page, version)?;
            }
        }
    }
    Ok(())
}

/// Writes the selected versions as JSON Lines; returns the record count.
pub(crate) fn jsonl(
    archive: &Archive,
    filter: &Filter,
    schema: Schema,
    out: &mut dyn Write,
) -> Result<u64> {
    let mut n = 0;
    for_each_version(archive, filter, |id, page, version| {
        let record = article_record(archive, id, page, version)?;
        match schema {
            Schema::Palimpsest => serde_json::to_writer(&mut *out, &record)?,
            Schema::NewsPlease => {
                serde_json::to_writer(&mut *out, &records::NewsPlease::from(&record))?
            }
        }
        out.write_all(b"\n")?;
        n += 1;
        Ok(())
    })?;
    Ok(n)
}

/// Writes the selected versions as CSV with a header row; list fields are
/// joined (authors with "; ", source links with spaces).
pub(crate) fn csv(
    archive: &Archive,
    filter: &Filter,
    cells: Cells,
    out: &mut dyn Write,
) -> Result<u64> {
    let mut w = csv::WriterBuilder::new().from_writer(out);
    w.write_record(records::CSV_HEADER)?;
    let mut n = 0;
    for_each_version(archive, filter, |id, page, version| {
        let record = article_record(archive, id, page, version)?;
        w.write_record(records::csv_row(&record, cells))?;
        n += 1;
        Ok(())
    })?;
    w.flush()?;
    Ok(n)
}
