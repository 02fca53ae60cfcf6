//! The store API: what the rest of palimpsest may ask of an archive, as
//! intents (record a capture, confirm a version, enqueue an entry), never as
//! keys or encodings. [`Store`] is the read side and the unit of atomic
//! writes; [`Txn`] is one set of writes, readable before it is applied. The
//! sled archive implements both; another backend implements the same two.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{
    ArchiveError, CaptureRecord, FoundLink, HostId, HostRecord, IdCounters, PageRecord, PassRecord,
    PayloadBlob, QueueEntry, Result, Stats, UrlId, VersionRecord,
};
use crate::archive::ArticleBlob;
use crate::article::Article;
use crate::canonical::CanonicalUrl;
use crate::digest::ContentDigest;

/// A boxed iterator of store results, so that backends differ freely in how
/// they scan.
pub type Rows<'a, T> = Box<dyn Iterator<Item = Result<T>> + 'a>;

/// A version in the changes index: `number` of `url`, first seen at `at`
/// (µs since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeRow {
    /// When the version was first seen (µs since the epoch).
    pub at: u64,
    /// The page.
    pub url: UrlId,
    /// The version's number (1-based).
    pub number: u32,
}

/// A version as the change log holds it: the sequence number its commit
/// gave it, and whether it was made by `reextract` (not a change of the page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoggedChange {
    /// Its place in the log (1, 2, …), in commit order.
    pub seq: u64,
    /// The version.
    pub change: ChangeRow,
    /// Made by `reextract` from a stored capture.
    pub reextracted: bool,
}

/// Writes applied together, or not at all; reads see the writes made so far.
pub trait Txn {
    /// Writes staged so far: a writer commits before a transaction grows
    /// without bound (its writes are held in memory until it commits).
    fn staged_writes(&self) -> usize;
    /// Reads ahead, together, what admitting these URLs will ask (their
    /// ids and pages): an engine across a network answers in two round
    /// trips rather than two a URL. Only a hint: nothing changes without it.
    fn read_ahead_urls(&mut self, _urls: &[&CanonicalUrl]) -> Result<()> {
        Ok(())
    }
    /// The id of a canonical URL, if the archive knows it.
    fn url_id(&self, url: &CanonicalUrl) -> Result<Option<UrlId>>;
    /// Gives a new URL its id (the caller owns the id counter).
    fn add_url(&mut self, url: &CanonicalUrl, id: UrlId);
    /// The page record of `id`, staged writes included.
    fn page(&self, id: UrlId) -> Result<Option<PageRecord>>;
    /// Stores (replaces) the page record of `id`.
    fn put_page(&mut self, id: UrlId, page: &PageRecord) -> Result<()>;

    /// A host's record by authority (`host:port`), staged writes included.
    fn host(&self, authority: &str) -> Result<Option<HostRecord>>;
    /// Stores a host's record; a new host is also indexed by its id.
    fn put_host(&mut self, authority: &str, host: &HostRecord) -> Result<()>;

    /// Whether a payload with this digest is stored or staged.
    fn has_payload(&self, digest: &ContentDigest) -> Result<bool>;
    /// Stores a payload unless the archive already holds it.
    fn store_payload(&mut self, digest: &ContentDigest, blob: PayloadBlob) -> Result<()>;
    /// A payload, decompressed.
    fn payload(&self, digest: &ContentDigest) -> Result<Option<Vec<u8>>>;

    /// Whether this very capture (same time, status and payload) is held.
    fn holds_capture(&self, id: UrlId, capture: &CaptureRecord) -> Result<bool>;
    /// Stores a capture. Captures are never rewritten: two in the same
    /// microsecond are both kept.
    fn record_capture(&mut self, id: UrlId, capture: &CaptureRecord) -> Result<()>;

    /// The article of a stored version.
    fn article(&self, id: UrlId, number: u32) -> Result<Option<Article>>;
    /// Stores a new version, seen first (and last) at its `first_seen`, and
    /// lists it among the changes unless it was made by re-extraction.
    fn record_version(
        &mut self,
        id: UrlId,
        version: &VersionRecord,
        article: &ArticleBlob,
    ) -> Result<()>;
    /// A capture at `seen` showed version `number` again.
    fn confirm_version(&mut self, id: UrlId, number: u32, seen: DateTime<Utc>) -> Result<()>;

    /// A source citation, kept both ways.
    fn cite(&mut self, from: UrlId, to: UrlId);

    /// Adds a frontier entry.
    fn enqueue(&mut self, entry: &QueueEntry);
    /// Removes a frontier entry (taken, or replaced by one due at another time).
    fn dequeue(&mut self, entry: &QueueEntry);

    /// Pages admitted from `host` in pass `pass`.
    fn admitted(&self, pass: u64, host: HostId) -> Result<u64>;
    /// Sets how many pages were admitted from `host` in pass `pass`.
    fn put_admitted(&mut self, pass: u64, host: HostId, pages: u64) -> Result<()>;
    /// Sitemaps and feeds admitted from `host` in pass `pass`.
    fn listings_admitted(&self, pass: u64, host: HostId) -> Result<u64>;
    /// Sets how many sitemaps and feeds were admitted from `host` in pass `pass`.
    fn put_listings_admitted(&mut self, pass: u64, host: HostId, listings: u64) -> Result<()>;
    /// Stores the next identifiers to hand out.
    fn put_counters(&mut self, counters: &IdCounters) -> Result<()>;
    /// Stores the current pass's record.
    fn put_pass(&mut self, pass: &PassRecord) -> Result<()>;
    /// The sites a seed's scope moved to (see `frontier::judge`).
    fn put_moved_scope(&mut self, seed_host: &str, sites: &[String]) -> Result<()>;
    /// Records that alert target `target` has been served every change up
    /// to sequence number `seq`.
    fn put_notified(&mut self, target: &str, seq: u64) -> Result<()>;

    /// Routes `link` to the crawling process holding `authority` (a crawl
    /// shared with other processes; see `leases`).
    fn route(&mut self, authority: &str, link: &FoundLink) -> Result<()>;
}

/// An archive: the questions it answers, and atomic sets of writes.
pub trait Store: Sync {
    /// One set of writes against this store.
    type Txn<'a>: Txn
    where
        Self: 'a;

    /// Starts a set of writes (nothing is applied until [`Store::commit`]).
    fn begin(&self) -> Self::Txn<'_>;
    /// Applies a transaction atomically.
    fn commit(&self, txn: Self::Txn<'_>) -> Result<()>;
    /// Waits until everything committed is durable.
    fn flush(&self) -> Result<()>;

    /// The id of a canonical URL, or `None` if it was never admitted.
    fn url_id(&self, url: &CanonicalUrl) -> Result<Option<UrlId>>;
    /// The page record of `id`, or `None` if there is none.
    fn page(&self, id: UrlId) -> Result<Option<PageRecord>>;
    /// Every page, in id order.
    fn pages(&self) -> Rows<'_, (UrlId, PageRecord)>;
    /// A page's captures, oldest first.
    fn captures(&self, id: UrlId) -> Rows<'_, CaptureRecord>;
    /// A page's versions with their articles, oldest first.
    fn versions(&self, id: UrlId) -> Rows<'_, VersionRecord>;
    /// Version `number` (1-based) with its article, or `None`.
    fn version(&self, id: UrlId, number: u32) -> Result<Option<VersionRecord>>;
    /// Version `number` (1-based) without its article, or `None`.
    fn version_meta(&self, id: UrlId, number: u32) -> Result<Option<VersionRecord>>;
    /// When a capture last showed version `number`, or `None` if none is
    /// recorded.
    fn version_last_seen(&self, id: UrlId, number: u32) -> Result<Option<DateTime<Utc>>>;
    /// The capture of `id` stored at `at`, or `None`.
    fn capture_at(&self, id: UrlId, at: DateTime<Utc>) -> Result<Option<CaptureRecord>>;
    /// Versions first seen at or after `since` (µs), oldest first.
    fn changes_since(&self, since: u64) -> Rows<'_, ChangeRow>;
    /// Versions in the order their transactions committed, each with its
    /// sequence number, from after sequence `after` (0: from the start).
    /// Unlike the time-ordered changes, a version committed late (fetched
    /// before a newer one, committed after it) comes after what was read
    /// before it: a reader that remembers the last number misses nothing.
    fn change_log_after(&self, after: u64) -> Rows<'_, LoggedChange>;
    /// The sequence number of the newest committed change (0 if none).
    fn last_change_logged(&self) -> Result<u64>;
    /// The change log position up to which alert target `target` has been
    /// served, or `None` if it never was.
    fn notified(&self, target: &str) -> Result<Option<u64>>;
    /// Whether this process is the one, among the processes sharing the
    /// archive, to do `duty` (deliver one target's alerts); another takes
    /// it over when this one ends. Always, for a directory archive.
    fn leads(&self, duty: &str) -> Result<bool>;
    /// Versions newest first, from before `until` (µs) if given.
    fn changes_newest_first(&self, until: Option<u64>) -> Rows<'_, ChangeRow>;
    /// Pages that cite `id` as their source.
    fn cited_by(&self, id: UrlId) -> Result<Vec<UrlId>>;
    /// A payload, decompressed, or `None` if it is not stored.
    fn payload(&self, digest: &ContentDigest) -> Result<Option<Vec<u8>>>;
    /// Whether a payload is stored (without reading it).
    fn has_payload(&self, digest: &ContentDigest) -> Result<bool>;
    /// A host's record by authority (`host:port`), or `None`.
    fn host_record(&self, authority: &str) -> Result<Option<HostRecord>>;
    /// The current (or last) crawl pass, or `None` before the first crawl.
    fn pass(&self) -> Result<Option<PassRecord>>;
    /// The next identifiers to hand out.
    fn id_counters(&self) -> Result<IdCounters>;
    /// For each seed host that redirected off its site, the sites it
    /// redirected to.
    fn moved_scopes(&self) -> Result<HashMap<String, Vec<String>>>;
    /// A host's frontier entries, soonest due first.
    fn queue_of(&self, host: HostId) -> Rows<'_, QueueEntry>;
    /// Every host with a queued entry.
    fn queue_hosts(&self) -> Result<Vec<HostId>>;
    /// Whether the frontier is empty.
    fn queue_is_empty(&self) -> Result<bool>;
    /// Number of frontier entries (may read them all).
    fn queue_len(&self) -> Result<u64>;
    /// Empties the frontier (a new pass drops the entries of the last).
    fn clear_queue(&self) -> Result<()>;
    /// Counts and sizes of the whole archive (reads everything).
    fn stats(&self) -> Result<Stats>;

    /// Finds an archived page by a URL as a user typed it.
    fn lookup(&self, url: &str) -> Result<(UrlId, PageRecord)> {
        let unknown = || ArchiveError::UnknownUrl {
            url: url.to_string(),
        };
        let canonical = CanonicalUrl::parse(url).map_err(|_| unknown())?;
        let id = self.url_id(&canonical)?.ok_or_else(unknown)?;
        let page = self.page(id)?.ok_or_else(unknown)?;
        Ok((id, page))
    }

    /// Version `number` of a page with its article, or an error naming
    /// what exists.
    fn require_version(&self, id: UrlId, page: &PageRecord, number: u32) -> Result<VersionRecord> {
        self.version(id, number)?
            .ok_or_else(|| unknown_version(page, number))
    }

    /// Version `number`'s metadata, or an error naming what exists.
    fn require_version_meta(
        &self,
        id: UrlId,
        page: &PageRecord,
        number: u32,
    ) -> Result<VersionRecord> {
        self.version_meta(id, number)?
            .ok_or_else(|| unknown_version(page, number))
    }
}

fn unknown_version(page: &PageRecord, number: u32) -> ArchiveError {
    ArchiveError::UnknownVersion {
        url: page.url.to_string(),
        number,
        versions: page.versions,
    }
}
