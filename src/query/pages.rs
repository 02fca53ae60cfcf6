//! Which pages the archive holds: every page in URL-id order (`list`), and
//! the index's search, newest change first, by words, host and language.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Pages, filter, kind_of};
use crate::archive::{ArchiveError, ChangeRow, PageRecord, Store, UrlId, from_micros, micros};
use crate::article::PageKind;

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
    pub pages: Pages,
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
        self.pages.covers(e.kind)
            && given(&self.host).is_none_or(|h| filter::host_within(&e.host, h))
            && given(&self.language).is_none_or(|l| filter::language_within(&e.language, l))
            && given(&self.q)
                .filter(|q| !q.trim().is_empty())
                .is_none_or(|q| {
                    q.to_lowercase()
                        .split_whitespace()
                        .all(|w| e.haystack.contains(w))
                })
    }
}

/// A filter's value, unless it was left empty.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

#[derive(Default)]
struct Catalog {
    /// Newest change first.
    order: BTreeMap<(Reverse<u64>, UrlId), Entry>,
    last_change: HashMap<UrlId, u64>,
    /// The change log's sequence number of the newest change read.
    logged: u64,
    /// Whether the whole changes index was read once.
    built: bool,
}

/// The index's catalogue of pages, newest change first, kept in memory (a
/// few hundred bytes a page) and brought up to date from the archive's
/// time-ordered changes index on each query — so searching 100k versions
/// never decodes 100k records.
#[derive(Default)]
pub struct LiveCatalogue {
    catalog: Mutex<Catalog>,
}

impl LiveCatalogue {
    /// Reads the whole catalogue now (at start-up) rather than on the
    /// first query.
    pub fn warm(&self, archive: &impl Store) -> Result<(), ArchiveError> {
        let mut catalog = self
            .catalog
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.refresh(archive, &mut catalog)
    }

    /// Reads what changed since the last reading from the change log, in
    /// commit order, so that a version committed after a newer one (fetched
    /// earlier, stored later) is not passed over; the first reading takes
    /// the whole changes index, which archives written before the log have.
    fn refresh(&self, archive: &impl Store, catalog: &mut Catalog) -> Result<(), ArchiveError> {
        if !catalog.built {
            // Read the log's end first: what commits during the scan is
            // read again from the log, and the catalogue keeps the newest.
            let logged = archive.last_change_logged()?;
            for change in archive.changes_since(0) {
                catalog.add(archive, change?)?;
            }
            catalog.logged = logged;
            catalog.built = true;
        }
        for logged in archive.change_log_after(catalog.logged) {
            let logged = logged?;
            catalog.logged = logged.seq;
            // An extractor change is not a change of the page.
            if !logged.reextracted {
                catalog.add(archive, logged.change)?;
            }
        }
        Ok(())
    }
}

impl Catalog {
    /// Files a page under its change, unless it is filed under a newer one.
    fn add(&mut self, archive: &impl Store, change: ChangeRow) -> Result<(), ArchiveError> {
        let ChangeRow { at, url: id, .. } = change;
        if self.last_change.get(&id).is_some_and(|t| *t >= at) {
            return Ok(());
        }
        let Some(page) = archive.page(id)? else {
            return Ok(());
        };
        if let Some(old) = self.last_change.insert(id, at) {
            self.order.remove(&(Reverse(old), id));
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
            kind: kind_of(&page),
        };
        self.order.insert((Reverse(at), id), entry);
        Ok(())
    }
}

/// Archived pages, newest change first, one page of results, and whether
/// there are more.
pub fn index(
    archive: &impl Store,
    search: &LiveCatalogue,
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
        kind: kind_of(page),
        versions: page.versions,
        captures: page.captures,
        last_change,
        last_captured: page.last_captured,
    }
}

/// Every page `which` covers, in URL-id order.
pub fn pages(
    archive: &impl Store,
    which: Pages,
) -> impl Iterator<Item = Result<(UrlId, PageRecord), ArchiveError>> + '_ {
    archive.pages().filter(move |page| {
        page.as_ref()
            .map_or(true, |(_, page)| which.covers(kind_of(page)))
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::archive::{Archive, ArticleBlob, HostId, LatestVersion, Txn, VersionRecord, Via};
    use crate::article::{Article, PageKind};
    use crate::canonical::CanonicalUrl;

    /// Stores page `id` with one version first seen `minutes` after a fixed
    /// time.
    fn store_version(archive: &Archive, id: u64, minutes: i64) {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap() + TimeDelta::minutes(minutes);
        let url = CanonicalUrl::parse(&format!("http://news.test/story/{id}")).unwrap();
        let article = Article {
            title: Some(format!("Story {id}")),
            text: format!("Story {id} happened."),
            kind: PageKind::Article,
            ..Default::default()
        };
        let version = VersionRecord {
            number: 1,
            digest: article.identity(),
            first_seen: at,
            capture_at: at,
            reextracted: false,
            title: article.title.clone(),
            words_added: 3,
            words_removed: 0,
            article: Article::default(),
        };
        let mut page =
            crate::archive::PageRecord::new(url, HostId(1), "news.test".into(), Via::Seed);
        page.versions = 1;
        page.latest = Some(LatestVersion {
            number: 1,
            digest: version.digest,
            title: version.title.clone(),
            kind: PageKind::Article,
            language: None,
            first_seen: Some(at),
        });
        let mut txn = archive.begin();
        txn.put_page(UrlId(id), &page).unwrap();
        txn.record_version(UrlId(id), &version, &ArticleBlob::encode(&article))
            .unwrap();
        archive.commit(txn).unwrap();
    }

    fn listed(archive: &Archive, search: &LiveCatalogue) -> Vec<String> {
        let (rows, _) = index(archive, search, &IndexQuery::default()).unwrap();
        rows.into_iter().map(|r| r.url).collect()
    }

    #[test]
    fn a_version_committed_after_a_newer_one_reaches_the_live_index() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(dir.path(), "test").unwrap();
        let search = LiveCatalogue::default();
        store_version(&archive, 1, 60);
        search.warm(&archive).unwrap();
        // Fetched before story 1 (a politeness wait held it back), stored
        // after the index read story 1.
        store_version(&archive, 2, 30);
        store_version(&archive, 3, 90);
        assert_eq!(
            listed(&archive, &search),
            [
                "http://news.test/story/3",
                "http://news.test/story/1",
                "http://news.test/story/2"
            ]
        );
    }
}
