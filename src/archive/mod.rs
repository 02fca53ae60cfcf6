//! The archive: one sled database holding pages, captures, content-addressed
//! payloads, versions, the provenance graph and the crawl frontier.
//!
//! Writes are staged in a [`Staging`] (a sled batch with read-your-writes) and
//! applied atomically, so a crash leaves either all of a page's update or none
//! of it. Crawling never overwrites a capture or deletes a version.

pub mod keys;
mod records;
mod verify;

pub use records::*;
pub use verify::{VerifyReport, verify};

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::canonical::CanonicalUrl;
use crate::digest::ContentDigest;

/// Errors of the archive layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    #[error(
        "archive {path} is in use by another process ({holder}); only one process may open it at a time"
    )]
    Locked { path: PathBuf, holder: String },
    #[error("cannot open archive {path}: {source}")]
    Open { path: PathBuf, source: sled::Error },
    #[error("cannot create archive directory {path}: {source}")]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("archive {path} has schema version {found}, this palimpsest reads version {supported}")]
    Schema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("archive storage error: {0}")]
    Storage(#[from] sled::Error),
    #[error("corrupt archive record under key {key:?}: {reason}")]
    Corrupt { key: String, reason: String },
    #[error("archive I/O error: {0}")]
    Io(#[from] io::Error),
    #[error("{url} is not in the archive")]
    UnknownUrl { url: String },
    #[error("{url} has no version {number} (it has {versions})")]
    UnknownVersion {
        url: String,
        number: u32,
        versions: u32,
    },
}

pub type Result<T, E = ArchiveError> = std::result::Result<T, E>;

const HOLDER_FILE: &str = "holder";
/// The origin (`http://127.0.0.1:8080`) the holding process serves the
/// archive on, if it does: reading commands are sent there.
const SERVING_FILE: &str = "serving";

/// An open archive. Cheap to share behind an `Arc`; sled is thread-safe.
pub struct Archive {
    path: PathBuf,
    db: sled::Db,
}

impl Archive {
    /// Opens (or creates) the archive in `dir`, recording `holder` (e.g.
    /// `palimpsest crawl, pid 123`) so that a second process is told who
    /// holds it.
    pub fn open(dir: &Path, holder: &str) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| ArchiveError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let db = sled::Config::new()
            .path(dir.join("db"))
            // Bounded page cache: memory must not grow with the archive.
            .cache_capacity(16 * 1024 * 1024)
            .flush_every_ms(Some(500))
            .open()
            .map_err(|e| match e {
                sled::Error::Io(ref io) if is_lock_error(io) => ArchiveError::Locked {
                    path: dir.to_path_buf(),
                    holder: std::fs::read_to_string(dir.join(HOLDER_FILE))
                        .map(|s| s.trim().to_string())
                        .unwrap_or_else(|_| "holder unknown".into()),
                },
                other => ArchiveError::Open {
                    path: dir.to_path_buf(),
                    source: other,
                },
            })?;
        let archive = Self {
            path: dir.to_path_buf(),
            db,
        };
        archive.check_schema()?;
        std::fs::write(
            dir.join(HOLDER_FILE),
            format!("{holder}, pid {}", std::process::id()),
        )?;
        // A previous holder's address is stale once we hold the lock.
        match std::fs::remove_file(dir.join(SERVING_FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        Ok(archive)
    }

    /// Records that this process serves the archive at `origin`, for
    /// reading commands refused the lock (see [`Archive::serving_origin`]).
    pub fn announce_serving(&self, holder: &str, origin: &str) -> Result<()> {
        self.announce(holder, &format!("read it at {origin}/"))?;
        std::fs::write(self.path.join(SERVING_FILE), origin)?;
        Ok(())
    }

    /// Where the process holding the archive in `dir` serves it, if it does.
    pub fn serving_origin(dir: &Path) -> Option<String> {
        let origin = std::fs::read_to_string(dir.join(SERVING_FILE)).ok()?;
        let origin = origin.trim();
        (origin.starts_with("http://") && !origin.contains(char::is_whitespace))
            .then(|| origin.to_string())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds a note for other processes to the holder record (e.g. the
    /// address this process serves the archive on), so a command refused
    /// the lock can say where to look instead.
    fn announce(&self, holder: &str, note: &str) -> Result<()> {
        std::fs::write(
            self.path.join(HOLDER_FILE),
            format!("{holder}, pid {}, {note}", std::process::id()),
        )?;
        Ok(())
    }

    fn check_schema(&self) -> Result<()> {
        match self.get::<u32>(&keys::meta("schema"))? {
            Some(found) if found != SCHEMA_VERSION => Err(ArchiveError::Schema {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            }),
            Some(_) => Ok(()),
            None => {
                self.db.insert(
                    keys::meta("schema"),
                    serde_json::to_vec(&SCHEMA_VERSION).map_err(corrupt_json("schema"))?,
                )?;
                Ok(())
            }
        }
    }

    /// Waits until everything applied so far is on disk.
    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    pub(crate) fn raw(&self) -> &sled::Db {
        &self.db
    }

    /// Bytes the database takes on disk.
    pub fn raw_size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// Reads and decodes one JSON record.
    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        match self.db.get(key)? {
            Some(bytes) => decode(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Iterates `(key, record)` pairs under a key prefix, in key order.
    pub fn scan<T: DeserializeOwned>(
        &self,
        prefix: Vec<u8>,
    ) -> impl Iterator<Item = Result<(sled::IVec, T)>> + '_ {
        self.db.scan_prefix(prefix).map(|kv| {
            let (k, v) = kv?;
            let rec = decode(&k, &v)?;
            Ok((k, rec))
        })
    }

    pub fn url_id(&self, url: &CanonicalUrl) -> Result<Option<UrlId>> {
        Ok(self
            .db
            .get(keys::url(url.as_str()))?
            .and_then(|v| keys::u64_at(&v, 0))
            .map(UrlId))
    }

    /// Finds an archived page by a URL as a user typed it.
    pub fn lookup(&self, url: &str) -> Result<(UrlId, PageRecord)> {
        let unknown = || ArchiveError::UnknownUrl {
            url: url.to_string(),
        };
        let canonical = CanonicalUrl::parse(url).map_err(|_| unknown())?;
        let id = self.url_id(&canonical)?.ok_or_else(unknown)?;
        let page = self.page(id)?.ok_or_else(unknown)?;
        Ok((id, page))
    }

    /// Version `number` of a page, or an error naming what exists.
    pub fn require_version(
        &self,
        id: UrlId,
        page: &PageRecord,
        number: u32,
    ) -> Result<VersionRecord> {
        self.version(id, number)?
            .ok_or_else(|| ArchiveError::UnknownVersion {
                url: page.url.to_string(),
                number,
                versions: page.versions,
            })
    }

    /// When a version was last confirmed by a capture.
    pub fn version_last_seen(
        &self,
        id: UrlId,
        number: u32,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        Ok(self
            .db
            .get(keys::version_seen(id.0, number))?
            .and_then(|v| serde_json::from_slice::<u64>(&v).ok())
            .map(from_micros))
    }

    /// The capture stored at `at` for a URL.
    pub fn capture_at(
        &self,
        id: UrlId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<CaptureRecord>> {
        self.get(&keys::capture(id.0, micros(at)))
    }

    /// Versions created at or after `since` (µs), oldest first:
    /// `(time, url, version number)`.
    pub fn changes_since(
        &self,
        since: u64,
    ) -> impl Iterator<Item = Result<(u64, UrlId, u32)>> + '_ {
        self.db
            .range(keys::change(since, 0, 0)..)
            .take_while(|kv| {
                kv.as_ref()
                    .map_or(true, |(k, _)| k.first() == Some(&keys::CHANGES))
            })
            .map(|kv| {
                let (k, _) = kv?;
                Ok((
                    keys::u64_at(&k, 1).unwrap_or_default(),
                    UrlId(keys::u64_at(&k, 9).unwrap_or_default()),
                    keys::u32_at(&k, 17).unwrap_or_default(),
                ))
            })
    }

    /// Versions newest first, from before `until` (µs) if given:
    /// `(time, url, version number)`.
    pub fn changes_newest_first(
        &self,
        until: Option<u64>,
    ) -> impl Iterator<Item = Result<(u64, UrlId, u32)>> + '_ {
        let end = keys::change(until.unwrap_or(u64::MAX), 0, 0);
        self.db.range(vec![keys::CHANGES]..end).rev().map(|kv| {
            let (k, _) = kv?;
            Ok((
                keys::u64_at(&k, 1).unwrap_or_default(),
                UrlId(keys::u64_at(&k, 9).unwrap_or_default()),
                keys::u32_at(&k, 17).unwrap_or_default(),
            ))
        })
    }

    /// Pages that cite `id` as their source.
    pub fn cited_by(&self, id: UrlId) -> Result<Vec<UrlId>> {
        self.db
            .scan_prefix(keys::cited_by_prefix(id.0))
            .keys()
            .map(|k| Ok(UrlId(keys::u64_at(&k?, 10).unwrap_or_default())))
            .collect()
    }

    pub fn page(&self, id: UrlId) -> Result<Option<PageRecord>> {
        self.get(&keys::page(id.0))
    }

    /// Every page record, in `UrlId` order.
    pub fn pages(&self) -> impl Iterator<Item = Result<(UrlId, PageRecord)>> + '_ {
        self.scan::<PageRecord>(vec![keys::PAGES]).map(|r| {
            let (k, p) = r?;
            Ok((UrlId(keys::u64_at(&k, 1).unwrap_or_default()), p))
        })
    }

    /// The captures of one URL, oldest first.
    pub fn captures(&self, id: UrlId) -> impl Iterator<Item = Result<CaptureRecord>> + '_ {
        self.scan::<CaptureRecord>(keys::captures_of(id.0))
            .map(|r| r.map(|(_, c)| c))
    }

    /// The versions of one URL, oldest first.
    pub fn versions(&self, id: UrlId) -> impl Iterator<Item = Result<VersionRecord>> + '_ {
        self.scan::<VersionRecord>(keys::versions_of(id.0))
            .map(move |r| r.and_then(|(_, v)| self.with_article(id, v)))
    }

    pub fn version(&self, id: UrlId, number: u32) -> Result<Option<VersionRecord>> {
        match self.get::<VersionRecord>(&keys::version(id.0, number))? {
            Some(v) => self.with_article(id, v).map(Some),
            None => Ok(None),
        }
    }

    /// Version `number`'s metadata, or an error naming what exists.
    pub fn require_version_meta(
        &self,
        id: UrlId,
        page: &PageRecord,
        number: u32,
    ) -> Result<VersionRecord> {
        self.version_meta(id, number)?
            .ok_or_else(|| ArchiveError::UnknownVersion {
                url: page.url.to_string(),
                number,
                versions: page.versions,
            })
    }

    /// A version's metadata without its article (no decompression).
    pub fn version_meta(&self, id: UrlId, number: u32) -> Result<Option<VersionRecord>> {
        self.get(&keys::version(id.0, number))
    }

    /// Fills in a version's article from its compressed blob.
    fn with_article(&self, id: UrlId, mut version: VersionRecord) -> Result<VersionRecord> {
        let key = keys::article(id.0, version.number);
        let corrupt = |reason: String| ArchiveError::Corrupt {
            key: format!("article of version {} of URL {}", version.number, id.0),
            reason,
        };
        let blob = self
            .db
            .get(&key)?
            .ok_or_else(|| corrupt("missing".into()))?;
        version.article = ArticleBlob::decode(&blob).map_err(corrupt)?;
        Ok(version)
    }

    /// A payload, decompressed.
    pub fn payload(&self, digest: &ContentDigest) -> Result<Option<Vec<u8>>> {
        let key = keys::payload(digest);
        match self.db.get(&key)? {
            Some(compressed) => {
                zstd::decode_all(&compressed[..])
                    .map(Some)
                    .map_err(|e| ArchiveError::Corrupt {
                        key: format!("payload {digest}"),
                        reason: e.to_string(),
                    })
            }
            None => Ok(None),
        }
    }

    pub fn has_payload(&self, digest: &ContentDigest) -> Result<bool> {
        Ok(self.db.contains_key(keys::payload(digest))?)
    }

    pub fn host_record(&self, authority: &str) -> Result<Option<HostRecord>> {
        self.get(&keys::host(authority))
    }

    pub fn pass(&self) -> Result<Option<PassRecord>> {
        self.get(&keys::meta("pass"))
    }

    /// Starts staging a set of writes that will be applied together.
    pub fn stage(&self) -> Staging<'_> {
        Staging {
            archive: self,
            batch: sled::Batch::default(),
            overlay: HashMap::new(),
        }
    }

    /// Applies staged writes atomically.
    pub fn apply(&self, staging: Staging<'_>) -> Result<()> {
        self.db.apply_batch(staging.batch)?;
        Ok(())
    }

    /// Counts and sizes.
    pub fn stats(&self) -> Result<Stats> {
        let mut stats = Stats {
            disk_bytes: self.db.size_on_disk()?,
            ..Stats::default()
        };
        for kv in self.db.iter() {
            let (k, v) = kv?;
            match k.first() {
                Some(&keys::PAGES) => {
                    stats.pages += 1;
                    let page: PageRecord = decode(&k, &v)?;
                    if page
                        .latest
                        .as_ref()
                        .is_some_and(|l| l.kind == crate::article::PageKind::Article)
                    {
                        stats.articles += 1;
                    }
                }
                Some(&keys::HOSTS) => stats.hosts += 1,
                Some(&keys::CAPTURES) => stats.captures += 1,
                Some(&keys::VERSIONS) => stats.versions += 1,
                Some(&keys::QUEUE) => stats.queued += 1,
                Some(&keys::PAYLOADS) => {
                    stats.payloads += 1;
                    stats.payload_bytes_compressed += v.len() as u64;
                }
                _ => {}
            }
        }
        stats.pass = self.pass()?.map(|p| p.number).unwrap_or(0);
        Ok(stats)
    }
}

/// Counts and sizes of an archive (`palimpsest stats`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    pub pages: u64,
    pub articles: u64,
    pub hosts: u64,
    pub captures: u64,
    pub versions: u64,
    pub payloads: u64,
    pub payload_bytes_compressed: u64,
    pub queued: u64,
    pub pass: u64,
    pub disk_bytes: u64,
}

/// Writes to be applied together, readable before they are applied.
pub struct Staging<'a> {
    archive: &'a Archive,
    batch: sled::Batch,
    overlay: HashMap<Vec<u8>, Option<Vec<u8>>>,
}

impl Staging<'_> {
    pub fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.overlay.get(key) {
            Some(v) => Ok(v.clone()),
            None => Ok(self.archive.db.get(key)?.map(|v| v.to_vec())),
        }
    }

    pub fn contains(&self, key: &[u8]) -> Result<bool> {
        match self.overlay.get(key) {
            Some(v) => Ok(v.is_some()),
            None => Ok(self.archive.db.contains_key(key)?),
        }
    }

    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        match self.get_raw(key)? {
            Some(bytes) => decode(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    pub fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.batch.insert(key.clone(), value.clone());
        self.overlay.insert(key, Some(value));
    }

    pub fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<()> {
        let bytes = serde_json::to_vec(value).map_err(corrupt_json("encode"))?;
        self.put_raw(key, bytes);
        Ok(())
    }

    pub fn remove(&mut self, key: Vec<u8>) {
        self.batch.remove(key.clone());
        self.overlay.insert(key, None);
    }

    pub fn is_empty(&self) -> bool {
        self.overlay.is_empty()
    }

    pub fn archive(&self) -> &Archive {
        self.archive
    }
}

fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| ArchiveError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

fn corrupt_json(what: &'static str) -> impl Fn(serde_json::Error) -> ArchiveError {
    move |e| ArchiveError::Corrupt {
        key: what.to_string(),
        reason: e.to_string(),
    }
}

fn is_lock_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || e.to_string().contains("lock")
}
