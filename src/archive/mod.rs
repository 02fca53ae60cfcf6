//! The archive: one sled database holding pages, captures, content-addressed
//! payloads, versions, the provenance graph and the crawl frontier.
//!
//! Writes are staged in a [`Staging`] (a sled batch with read-your-writes) and
//! applied atomically, so a crash leaves either all of a page's update or none
//! of it. Crawling never overwrites a capture or deletes a version.

mod codec;
mod compact;
#[cfg(test)]
mod contract;
mod copy;
mod engine;
mod guard;
mod keys;
mod leases;
mod location;
mod packs;
mod postgres;
mod record_codec;
mod records;
mod salvage;
mod sled_log;
mod store;
mod verify;

pub use codec::{DeltaBase, PayloadBlob, PreparedBase};
pub use compact::{CompactReport, compact};
pub use copy::{CopyReport, copy};
pub use guard::Damage;
pub use leases::{Claim, FoundLink, Held, ROUTED_AT_ONCE};
pub use location::Location;
pub use postgres::PostgresUrl;
pub use records::*;
pub use salvage::{SalvageReport, salvage};
pub use store::{ChangeRow, LoggedChange, Rows, Store, Txn};
pub(crate) use verify::{VerifyReport, verify};

use std::collections::HashMap;
use std::io;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError};

use serde::Serialize;

use postgres::Access;
use record_codec::RecordCodec;
use serde::de::DeserializeOwned;

use chrono::{DateTime, Utc};

use crate::article::Article;
use crate::canonical::CanonicalUrl;
use crate::digest::ContentDigest;

/// Errors of the archive layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// Another process holds the archive's lock.
    #[error(
        "archive {path} is in use by another process ({holder}); only one process may open it at a time"
    )]
    Locked {
        /// The archive directory.
        path: PathBuf,
        /// What the holder recorded about itself (command, pid, where it
        /// serves), or "holder unknown".
        holder: String,
    },
    /// The storage backend could not open the archive.
    #[error("cannot open archive {path}: {source}")]
    Open {
        /// The archive directory.
        path: PathBuf,
        /// The backend's reason.
        source: BackendError,
    },
    /// The archive directory could not be created.
    #[error("cannot create archive directory {path}: {source}")]
    CreateDir {
        /// The archive directory.
        path: PathBuf,
        /// The file system's reason.
        source: io::Error,
    },
    /// The archive was written in an on-disk format this build does not read.
    #[error("archive {path} has schema version {found}, this palimpsest reads version {supported}")]
    Schema {
        /// The archive directory.
        path: PathBuf,
        /// The schema version recorded in the archive.
        found: u32,
        /// The schema version this build reads and writes.
        supported: u32,
    },
    /// A read or write of the storage backend failed.
    #[error("archive storage error: {0}")]
    Storage(#[from] BackendError),
    /// The database is damaged: opening it would lose records, or sled
    /// cannot read it. Nothing was written to it.
    #[error(
        "archive {} is damaged: {}. It was left untouched; `palimpsest salvage --archive {} --to NEW_DIR` copies every record still readable into a new archive",
        path.display(), damage.0, path.display()
    )]
    Damaged {
        /// The archive directory.
        path: PathBuf,
        /// What is wrong with it.
        damage: Damage,
    },
    /// A stored value does not decode (bad JSON, bad zstd, missing blob).
    #[error("corrupt archive record under key {key:?}: {reason}")]
    Corrupt {
        /// The key (or a description of the record) that failed to decode.
        key: String,
        /// The decoder's reason.
        reason: String,
    },
    /// Any other I/O failure: a file beside the database (lock holder,
    /// serving note), payload compression, the writer thread's start.
    #[error("archive I/O error: {0}")]
    Io(#[from] io::Error),
    /// Another crawling process took over a host this one was crawling
    /// (its lease ran out): this process stops, its last batch unwritten.
    #[error(
        "lost the lease of host {host} to another crawling process (this one fell behind its --lease); stopping"
    )]
    LeaseLost {
        /// The host's authority.
        host: String,
    },
    /// `copy` was asked to write where it must not.
    #[error("cannot copy into {to}: {why}")]
    CopyRefused {
        /// The target named.
        to: String,
        /// Why not.
        why: String,
    },
    /// A reading command was pointed at a place that holds no archive.
    #[error("no archive at {archive} (crawl something first, or pass --archive DIR)")]
    Missing {
        /// The directory or database named.
        archive: String,
    },
    /// A URL asked for is not (or does not parse to a URL) in the archive.
    #[error("{url} is not in the archive")]
    UnknownUrl {
        /// The URL as given.
        url: String,
    },
    /// A page has no version of the number asked for.
    #[error("{url} has no version {number} (it has {versions})")]
    UnknownVersion {
        /// The page's canonical URL.
        url: String,
        /// The version number asked for (1-based).
        number: u32,
        /// How many versions the page has.
        versions: u32,
    },
}

pub(crate) type Result<T, E = ArchiveError> = std::result::Result<T, E>;

/// A storage backend's own error: callers of the archive see one error
/// type whatever the backend, and the backend's reason as its source.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BackendError(Box<dyn std::error::Error + Send + Sync>);

impl From<sled::Error> for BackendError {
    fn from(e: sled::Error) -> Self {
        BackendError(Box::new(e))
    }
}

impl From<sled::Error> for ArchiveError {
    fn from(e: sled::Error) -> Self {
        ArchiveError::Storage(e.into())
    }
}

const HOLDER_FILE: &str = "holder";
/// Held locked (an advisory file lock) by the process that opened the
/// archive, from before the soundness check until after the seal is written.
const LOCK_FILE: &str = "lock";
/// The origin (`http://127.0.0.1:8080`) the holding process serves the
/// archive on, if it does: reading commands are sent there.
const SERVING_FILE: &str = "serving";
/// Where the search index, derived from the archive, lives beside it.
pub const SEARCH_DIR: &str = "search";

/// An open archive. Cheap to share behind an `Arc`; sled is thread-safe.
pub struct Archive {
    path: PathBuf,
    db: engine::Engine,
    records: RecordCodec,
    packs: packs::Packs,
    /// The sequence number of the newest change logged.
    last_logged: std::sync::Mutex<u64>,
    /// When the next record dictionary is due.
    training_schedule: std::sync::Mutex<record_codec::TrainingSchedule>,
    /// Hosts' reference pages, prepared as delta bases.
    prepared_bases: std::sync::Mutex<codec::PreparedBases>,
    // Dropped after `db`, in this order: the seal is written once sled has
    // written its last byte, and the lock is released after that.
    // Both `None` for PostgreSQL, whose server keeps the data safe and
    // whose writer lock is held by the connection.
    _sealer: Option<Sealer>,
    _lock: Option<std::fs::File>,
}

/// Writes the seal when the archive closes cleanly (see `guard`).
struct Sealer {
    dir: PathBuf,
}

impl Drop for Sealer {
    fn drop(&mut self) {
        if let Err(e) = guard::seal(&self.dir, &self.dir.join("db")) {
            tracing::warn!("could not seal archive {}: {e}", self.dir.display());
        }
    }
}

impl Archive {
    /// A stored payload blob as it lies on disk.
    fn raw_payload(&self, digest: &ContentDigest) -> Result<Option<Vec<u8>>> {
        self.get_blob(&keys::payload(digest))
    }

    /// A payload or article blob, read from its pack when it is in one.
    fn get_blob(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.db.get(key)? {
            Some(stored) => self.resolve(key, &stored).map(Some),
            None => Ok(None),
        }
    }

    fn resolve(&self, key: &[u8], stored: &[u8]) -> Result<Vec<u8>> {
        self.packs
            .resolve(key, stored)
            .map(std::borrow::Cow::into_owned)
            .map_err(|reason| ArchiveError::Corrupt {
                key: String::from_utf8_lossy(key).into_owned(),
                reason,
            })
    }

    /// A stored payload offered as the base of a new one's delta, or `None`
    /// when the archive does not hold it.
    pub(crate) fn delta_base(&self, digest: &ContentDigest) -> Result<Option<DeltaBase>> {
        delta_base(digest, &|d| self.raw_payload(d))
    }

    /// A host's reference page prepared as the base of its other pages'
    /// first payloads (kept for the next of them), or `None` when the
    /// archive does not hold it or no delta may sit on it.
    pub(crate) fn reference_base(
        &self,
        digest: &ContentDigest,
    ) -> Result<Option<Arc<PreparedBase>>> {
        let prepared = || {
            self.prepared_bases
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if let Some(base) = prepared().get(digest) {
            return Ok(Some(base));
        }
        let Some(base) = self
            .delta_base(digest)?
            .as_ref()
            .and_then(PreparedBase::new)
        else {
            return Ok(None);
        };
        let base = Arc::new(base);
        prepared().keep(base.clone());
        Ok(Some(base))
    }

    /// Opens (or creates) the archive in `dir`, recording `holder` (e.g.
    /// `palimpsest crawl, pid 123`) so that a second process is told who
    /// holds it.
    pub fn open(dir: &Path, holder: &str) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| ArchiveError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let lock = lock_dir(dir)?;
        compact::recover(dir)?;
        let db_dir = dir.join("db");
        guard::ensure_sound(dir, &db_dir).map_err(|damage| ArchiveError::Damaged {
            path: dir.to_path_buf(),
            damage,
        })?;
        guard::break_seal(dir)?;
        let config = sled::Config::new()
            .path(&db_dir)
            // Bounded page cache: memory must not grow with the archive.
            .cache_capacity(guard::CACHE_BYTES)
            .flush_every_ms(Some(500));
        // The archive's lock is ours: a database locked by sled is one this
        // process closed a moment ago.
        let db = guard::quietly(|| guard::open_sled_waiting(&config))
            .map_err(|damage| ArchiveError::Damaged {
                path: dir.to_path_buf(),
                damage,
            })?
            .map_err(|e| match e {
                sled::Error::Io(ref io) if is_lock_error(io) => locked(dir),
                other => ArchiveError::Open {
                    path: dir.to_path_buf(),
                    source: other.into(),
                },
            })?;
        let archive = Self {
            path: dir.to_path_buf(),
            db: engine::Engine::Sled(db),
            records: RecordCodec::default(),
            packs: packs::Packs::new(dir),
            last_logged: std::sync::Mutex::new(0),
            training_schedule: std::sync::Mutex::default(),
            prepared_bases: std::sync::Mutex::default(),
            _sealer: Some(Sealer {
                dir: dir.to_path_buf(),
            }),
            _lock: Some(lock),
        }
        .made_ready(Access::Write)?;
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

    /// Opens the archive at `location` to write in it (see [`Archive::open`];
    /// for PostgreSQL, creating its tables and taking the writer lock).
    pub fn open_at(location: &Location, holder: &str) -> Result<Self> {
        match location {
            Location::Dir(dir) => Self::open(dir, holder),
            Location::Postgres(url) => Self::open_postgres(url, Access::Write, holder),
        }
    }

    /// Opens the archive at `location` for a crawl or a watch: as
    /// [`Archive::open_at`], except that several crawling processes share
    /// a PostgreSQL archive (see `leases`).
    pub fn open_to_crawl(location: &Location, holder: &str) -> Result<Self> {
        match location {
            Location::Dir(dir) => Self::open(dir, holder),
            Location::Postgres(url) => Self::open_postgres(url, Access::Crawl, holder),
        }
    }

    /// Opens an existing archive to read it. A directory admits one process
    /// at a time; PostgreSQL admits readers while a writer writes.
    pub fn open_reading(location: &Location, holder: &str) -> Result<Self> {
        match location {
            Location::Dir(dir) => Self::open(require_existing(location, dir)?, holder),
            Location::Postgres(url) => Self::open_postgres(url, Access::Read, holder),
        }
    }

    /// Opens an existing archive to write in it (a PostgreSQL database
    /// without one is given its tables, empty).
    pub fn open_existing_to_write(location: &Location, holder: &str) -> Result<Self> {
        match location {
            Location::Dir(dir) => Self::open(require_existing(location, dir)?, holder),
            Location::Postgres(url) => Self::open_postgres(url, Access::Write, holder),
        }
    }

    fn open_postgres(url: &PostgresUrl, access: Access, holder: &str) -> Result<Self> {
        let kv = match postgres::Kv::open(url, access, holder)? {
            postgres::Opened::Ready(kv) => kv,
            postgres::Opened::Locked(holder) => {
                return Err(ArchiveError::Locked {
                    path: PathBuf::from(url.to_string()),
                    holder,
                });
            }
            postgres::Opened::Missing => {
                return Err(ArchiveError::Missing {
                    archive: url.to_string(),
                });
            }
        };
        let archive = Self {
            path: postgres::local_dir(url),
            db: engine::Engine::Postgres(kv),
            records: RecordCodec::default(),
            packs: packs::Packs::inline(),
            last_logged: std::sync::Mutex::new(0),
            training_schedule: std::sync::Mutex::default(),
            prepared_bases: std::sync::Mutex::default(),
            _sealer: None,
            _lock: None,
        };
        archive.made_ready(access)
    }

    /// The archive once its engine is open, whichever: its schema checked
    /// (and recorded in a new one, to write), its record dictionaries
    /// known, and the change log's end found.
    fn made_ready(self, access: Access) -> Result<Self> {
        self.check_schema(access)?;
        self.load_record_dictionaries()?;
        *self.last_logged.lock().unwrap_or_else(|e| e.into_inner()) = self.newest_logged()?;
        Ok(self)
    }

    /// Records that this process serves the archive at `origin`, for
    /// reading commands refused the lock (see [`Archive::serving_origin`]).
    pub fn announce_serving(&self, holder: &str, origin: &str) -> Result<()> {
        if self.db.sled().is_none() {
            // Readers of a PostgreSQL archive are never refused: nobody
            // needs to be sent here.
            return Ok(());
        }
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

    fn check_schema(&self, access: Access) -> Result<()> {
        match self.get::<u32>(&keys::meta("schema"))? {
            Some(found) if !(OLDEST_SCHEMA_READ..=SCHEMA_VERSION).contains(&found) => {
                Err(ArchiveError::Schema {
                    path: self.path.clone(),
                    found,
                    supported: SCHEMA_VERSION,
                })
            }
            Some(_) => Ok(()),
            None if access == Access::Read => Ok(()),
            None => {
                self.db.insert(
                    keys::meta("schema"),
                    serde_json::to_vec(&SCHEMA_VERSION).map_err(corrupt_json("schema"))?,
                )?;
                Ok(())
            }
        }
    }

    /// Closes the database (sealing it) but keeps the archive locked, for
    /// work on its files that no other process may see half done.
    fn close_keeping_lock(self) -> Option<std::fs::File> {
        let Archive {
            db, _sealer, _lock, ..
        } = self;
        drop(db);
        drop(_sealer);
        _lock
    }

    /// The sequence number of the last change in the log (0 if none).
    fn newest_logged(&self) -> Result<u64> {
        match self.db.last_with_prefix([keys::CHANGE_LOG])? {
            Some((k, _)) => Ok(keys::decode_change_log(&k).unwrap_or(0)),
            None => Ok(0),
        }
    }

    /// The archive's directory (derived data, such as the search index, is
    /// kept beside the database).
    pub fn dir(&self) -> &Path {
        &self.path
    }

    /// Bytes the database takes on disk.
    pub fn raw_size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// Reads and decodes one JSON record.
    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        match self.db.get(key)? {
            Some(bytes) => self.decode(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Iterates `(key, record)` pairs under a key prefix, in key order.
    fn scan<T: DeserializeOwned>(
        &self,
        prefix: Vec<u8>,
    ) -> impl Iterator<Item = Result<(sled::IVec, T)>> + '_ {
        self.db.scan_prefix(prefix).map(|kv| {
            let (k, v) = kv?;
            let rec = self.decode(&k, &v)?;
            Ok((k, rec))
        })
    }

    /// Fills in a version's article from its compressed blob.
    fn with_article(&self, id: UrlId, mut version: VersionRecord) -> Result<VersionRecord> {
        let blob = self.get_blob(&keys::article(id, version.number))?;
        version.article = decode_article(id, version.number, blob.as_deref())?
            .ok_or_else(|| article_corrupt(id, version.number, "missing".into()))?;
        Ok(version)
    }
}

/// Counts and sizes of an archive (`palimpsest stats`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Page records (every URL ever admitted).
    pub pages: u64,
    /// Pages whose newest version is an article.
    pub articles: u64,
    /// Host records.
    pub hosts: u64,
    /// Captures (HTTP responses) stored.
    pub captures: u64,
    /// Versions stored, over all pages.
    pub versions: u64,
    /// Distinct payloads stored.
    pub payloads: u64,
    /// Bytes of the stored payloads, zstd-compressed.
    pub payload_bytes_compressed: u64,
    /// Frontier entries waiting.
    pub queued: u64,
    /// Number of the current (or last) crawl pass; 0 before the first.
    pub pass: u64,
    /// Bytes the archive takes on disk: the database and the packs.
    pub disk_bytes: u64,
    /// Bytes of the packs, which hold payloads and articles.
    pub pack_bytes: u64,
    /// Bytes of the capture records (keys and values).
    pub capture_record_bytes: u64,
    /// Bytes of every record but payloads and articles: pages, captures,
    /// versions, hosts, the frontier and the indexes (keys and values).
    pub record_bytes: u64,
    /// Bytes of everything stored (keys and values): what a compacted
    /// database would hold.
    pub live_bytes: u64,
    /// Dictionaries the records are compressed with.
    pub record_dictionaries: u64,
}

/// `dir`, if it holds an archive's database.
fn require_existing<'a>(location: &Location, dir: &'a Path) -> Result<&'a Path> {
    if dir.join("db").exists() {
        Ok(dir)
    } else {
        Err(ArchiveError::Missing {
            archive: location.to_string(),
        })
    }
}

/// At most this many URLs are read ahead at once (`Txn::read_ahead_urls`).
const READ_AHEAD_URLS: usize = 2_000;

/// Writes to be applied together, readable before they are applied: the
/// sled archive's [`Txn`].
pub struct Staging<'a> {
    archive: &'a Archive,
    batch: engine::Writes,
    overlay: HashMap<Vec<u8>, Option<Vec<u8>>>,
    /// Stored values read ahead of their use (`Txn::read_ahead_urls`); the
    /// overlay's writes come first.
    read_ahead: HashMap<Vec<u8>, Option<sled::IVec>>,
    /// Records encoded into the batch, counted towards dictionary training.
    records_put: u64,
    /// Versions recorded (and whether by `reextract`), logged under
    /// sequence numbers at commit.
    changes: Vec<(ChangeRow, bool)>,
}

impl Staging<'_> {
    /// A staged or stored payload offered as the base of a new one's delta.
    pub(crate) fn delta_base(&self, digest: &ContentDigest) -> Result<Option<DeltaBase>> {
        delta_base(digest, &|d| self.get_blob(&keys::payload(d)))
    }

    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(v) = self.overlay.get(key) {
            return Ok(v.clone());
        }
        if let Some(v) = self.read_ahead.get(key) {
            return Ok(v.as_ref().map(|v| v.to_vec()));
        }
        Ok(self.archive.db.get(key)?.map(|v| v.to_vec()))
    }

    /// Reads the stored values of `keys` in one go (those neither staged
    /// nor read already).
    fn read_ahead(&mut self, keys: Vec<Vec<u8>>) -> Result<()> {
        let wanted: Vec<Vec<u8>> = keys
            .into_iter()
            .filter(|k| !self.overlay.contains_key(k) && !self.read_ahead.contains_key(k))
            .collect();
        let values = self.archive.db.get_many(&wanted)?;
        self.read_ahead.extend(wanted.into_iter().zip(values));
        Ok(())
    }

    /// A payload or article blob, staged or stored, read from its pack when
    /// it is in one.
    fn get_blob(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.get_raw(key)? {
            Some(stored) => self.archive.resolve(key, &stored).map(Some),
            None => Ok(None),
        }
    }

    /// Stages a payload or article blob: in a pack, the database keeping a
    /// pointer, unless it is short.
    fn put_blob(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<()> {
        let stored = self.archive.packs.store(&key, value)?;
        self.put_raw(key, stored);
        Ok(())
    }

    fn contains(&self, key: &[u8]) -> Result<bool> {
        match self.overlay.get(key) {
            Some(v) => Ok(v.is_some()),
            None => Ok(self.archive.db.contains_key(key)?),
        }
    }

    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        match self.get_raw(key)? {
            Some(bytes) => self.archive.decode(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.batch.insert(key.clone(), value.clone());
        self.overlay.insert(key, Some(value));
    }

    fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<()> {
        let bytes = self
            .archive
            .records
            .encode(value)
            .map_err(|reason| ArchiveError::Corrupt {
                key: String::from_utf8_lossy(&key).into_owned(),
                reason,
            })?;
        self.put_raw(key, bytes);
        self.records_put += 1;
        Ok(())
    }

    fn remove(&mut self, key: Vec<u8>) {
        self.batch.remove(key.clone());
        self.overlay.insert(key, None);
    }

    /// The first capture key of `id` free from `capture`'s time on, or
    /// `None` when this very capture is already stored there.
    fn capture_slot(&self, id: UrlId, capture: &CaptureRecord) -> Result<Option<u64>> {
        let mut at = micros(capture.fetched_at);
        while let Some(held) = self.get::<CaptureRecord>(&keys::capture(id, at))? {
            if held.fetched_at == capture.fetched_at
                && held.status == capture.status
                && held.payload == capture.payload
            {
                return Ok(None);
            }
            at += 1;
        }
        Ok(Some(at))
    }
}

impl Txn for Staging<'_> {
    fn staged_writes(&self) -> usize {
        self.overlay.len()
    }

    fn read_ahead_urls(&mut self, urls: &[&CanonicalUrl]) -> Result<()> {
        if !self.archive.db.is_remote() {
            return Ok(());
        }
        // A hostile page's half a million links are read one by one past
        // this, rather than held all at once.
        let urls = &urls[..urls.len().min(READ_AHEAD_URLS)];
        self.read_ahead(urls.iter().map(|u| keys::url(u.as_str())).collect())?;
        let mut pages = Vec::with_capacity(urls.len());
        for url in urls {
            if let Some(id) = self.url_id(url)? {
                pages.push(keys::page(id));
            }
        }
        self.read_ahead(pages)
    }

    fn url_id(&self, url: &CanonicalUrl) -> Result<Option<UrlId>> {
        Ok(self
            .get_raw(&keys::url(url.as_str()))?
            .and_then(|v| keys::decode_url_id_value(&v)))
    }

    fn add_url(&mut self, url: &CanonicalUrl, id: UrlId) {
        self.put_raw(keys::url(url.as_str()), keys::url_id_value(id));
    }

    fn page(&self, id: UrlId) -> Result<Option<PageRecord>> {
        self.get(&keys::page(id))
    }

    fn put_page(&mut self, id: UrlId, page: &PageRecord) -> Result<()> {
        self.put(keys::page(id), page)
    }

    fn host(&self, authority: &str) -> Result<Option<HostRecord>> {
        self.get(&keys::host(authority))
    }

    fn put_host(&mut self, authority: &str, host: &HostRecord) -> Result<()> {
        let by_id = keys::host_id(host.id);
        if !self.contains(&by_id)? {
            self.put_raw(by_id, authority.as_bytes().to_vec());
        }
        self.put(keys::host(authority), host)
    }

    fn has_payload(&self, digest: &ContentDigest) -> Result<bool> {
        self.contains(&keys::payload(digest))
    }

    fn store_payload(&mut self, digest: &ContentDigest, blob: PayloadBlob) -> Result<()> {
        if !self.has_payload(digest)? {
            // Written only if no other crawling process stored it first: a
            // delta may differ, its content is the same.
            let key = keys::payload(digest);
            let stored = self.archive.packs.store(&key, blob.0)?;
            self.overlay.insert(key.clone(), Some(stored.clone()));
            self.batch.new_only.push((key, stored));
        }
        Ok(())
    }

    fn payload(&self, digest: &ContentDigest) -> Result<Option<Vec<u8>>> {
        let raw = |d: &ContentDigest| self.get_blob(&keys::payload(d));
        read_payload(digest, &raw, codec::MAX_DEPTH)
    }

    fn holds_capture(&self, id: UrlId, capture: &CaptureRecord) -> Result<bool> {
        Ok(self.capture_slot(id, capture)?.is_none())
    }

    fn record_capture(&mut self, id: UrlId, capture: &CaptureRecord) -> Result<()> {
        let mut at = micros(capture.fetched_at);
        while self.contains(&keys::capture(id, at))? {
            at += 1;
        }
        self.put(keys::capture(id, at), capture)
    }

    fn article(&self, id: UrlId, number: u32) -> Result<Option<Article>> {
        decode_article(
            id,
            number,
            self.get_blob(&keys::article(id, number))?.as_deref(),
        )
    }

    fn record_version(
        &mut self,
        id: UrlId,
        version: &VersionRecord,
        article: &ArticleBlob,
    ) -> Result<()> {
        let seen = micros(version.first_seen);
        let change = ChangeRow {
            at: seen,
            url: id,
            number: version.number,
        };
        self.changes.push((change, version.reextracted));
        self.put(keys::version(id, version.number), version)?;
        self.put_blob(keys::article(id, version.number), article.0.clone())?;
        self.put(keys::version_seen(id, version.number), &seen)?;
        // An extractor change is not a change of the page.
        if !version.reextracted {
            self.put_raw(keys::ChangeKey::encode(&change), Vec::new());
        }
        Ok(())
    }

    fn confirm_version(&mut self, id: UrlId, number: u32, seen: DateTime<Utc>) -> Result<()> {
        let key = keys::version_seen(id, number);
        let seen = micros(seen);
        if self.get::<u64>(&key)?.is_none_or(|held| held < seen) {
            self.put(key, &seen)?;
        }
        Ok(())
    }

    fn cite(&mut self, from: UrlId, to: UrlId) {
        self.put_raw(keys::link(from, keys::SOURCE_EDGE, to), Vec::new());
        self.put_raw(keys::cited_by(to, keys::SOURCE_EDGE, from), Vec::new());
    }

    fn enqueue(&mut self, entry: &QueueEntry) {
        self.put_raw(keys::queue(entry), Vec::new());
    }

    fn dequeue(&mut self, entry: &QueueEntry) {
        self.remove(keys::queue(entry));
    }

    fn admitted(&self, pass: u64, host: HostId) -> Result<u64> {
        Ok(self.get(&keys::admitted(pass, host))?.unwrap_or(0))
    }

    fn put_admitted(&mut self, pass: u64, host: HostId, pages: u64) -> Result<()> {
        self.put(keys::admitted(pass, host), &pages)
    }

    fn listings_admitted(&self, pass: u64, host: HostId) -> Result<u64> {
        Ok(self.get(&keys::listings_admitted(pass, host))?.unwrap_or(0))
    }

    fn put_listings_admitted(&mut self, pass: u64, host: HostId, listings: u64) -> Result<()> {
        self.put(keys::listings_admitted(pass, host), &listings)
    }

    fn put_counters(&mut self, counters: &IdCounters) -> Result<()> {
        self.put(keys::meta(NEXT_URL_ID), &counters.next_url)?;
        self.put(keys::meta(NEXT_HOST_ID), &counters.next_host)
    }

    fn put_pass(&mut self, pass: &PassRecord) -> Result<()> {
        self.put(keys::meta("pass"), pass)
    }

    fn put_moved_scope(&mut self, seed_host: &str, sites: &[String]) -> Result<()> {
        self.put(keys::scope_moved(seed_host), &sites)
    }

    fn route(&mut self, authority: &str, link: &FoundLink) -> Result<()> {
        self.stage_route(authority, link)
    }

    fn put_notified(&mut self, target: &str, seq: u64) -> Result<()> {
        self.put(keys::notified(target), &seq)
    }
}

impl Store for Archive {
    type Txn<'a> = Staging<'a>;

    fn begin(&self) -> Staging<'_> {
        Staging {
            archive: self,
            batch: engine::Writes::default(),
            overlay: HashMap::new(),
            read_ahead: HashMap::new(),
            records_put: 0,
            changes: Vec::new(),
        }
    }

    fn commit(&self, mut txn: Staging<'_>) -> Result<()> {
        // The blobs first: the database never points past what a pack holds.
        self.packs.sync()?;
        // Sequence numbers are taken and the batch applied under one lock,
        // so the log's order is the order in which transactions committed.
        let mut last = self.last_logged.lock().unwrap_or_else(|e| e.into_inner());
        txn.batch.logged = (txn.changes.iter())
            .map(|(change, reextracted)| keys::change_log_value(change, *reextracted))
            .collect();
        self.db.apply(txn.batch, &mut last)?;
        drop(last);
        self.count_records_written(txn.records_put);
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    fn url_id(&self, url: &CanonicalUrl) -> Result<Option<UrlId>> {
        Ok(self
            .db
            .get(keys::url(url.as_str()))?
            .and_then(|v| keys::decode_url_id_value(&v)))
    }

    /// When a version was last confirmed by a capture.
    fn version_last_seen(
        &self,
        id: UrlId,
        number: u32,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        // A damaged last-seen time is no reason to refuse the version.
        Ok(self
            .db
            .get(keys::version_seen(id, number))?
            .and_then(|v| serde_json::from_slice::<u64>(&v).ok())
            .map(from_micros))
    }

    /// The capture stored at `at` for a URL.
    fn capture_at(
        &self,
        id: UrlId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<CaptureRecord>> {
        self.get(&keys::capture(id, micros(at)))
    }

    /// Versions created at or after `since` (µs), oldest first.
    fn changes_since(&self, since: u64) -> Rows<'_, ChangeRow> {
        Box::new(
            self.db
                .range_from(keys::ChangeKey::from_time(since))
                .map_while(|kv| match kv {
                    Ok((k, _)) => keys::ChangeKey::decode(&k).map(Ok),
                    Err(e) => Some(Err(e)),
                }),
        )
    }

    /// Versions newest first, from before `until` (µs) if given.
    fn change_log_after(&self, after: u64) -> Rows<'_, LoggedChange> {
        let from = keys::change_log(after.saturating_add(1));
        let to = Bound::Excluded(keys::change_log(u64::MAX));
        Box::new(self.db.range(Bound::Included(from), to).map(|kv| {
            let (k, v) = kv?;
            let seq = keys::decode_change_log(&k);
            let row = keys::decode_change_log_value(&v);
            match (seq, row) {
                (Some(seq), Some((change, reextracted))) => Ok(LoggedChange {
                    seq,
                    change,
                    reextracted,
                }),
                _ => Err(ArchiveError::Corrupt {
                    key: format!("{k:?}"),
                    reason: "not a change log entry".into(),
                }),
            }
        }))
    }

    fn last_change_logged(&self) -> Result<u64> {
        if self.db.sled().is_none() {
            // Another process may be the writer.
            return self.newest_logged();
        }
        Ok(*self.last_logged.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn leads(&self, duty: &str) -> Result<bool> {
        match self.db.postgres() {
            Some(kv) => kv.leads(duty),
            None => Ok(true),
        }
    }

    fn notified(&self, target: &str) -> Result<Option<u64>> {
        self.get(&keys::notified(target))
    }

    fn changes_newest_first(&self, until: Option<u64>) -> Rows<'_, ChangeRow> {
        let end = keys::ChangeKey::from_time(until.unwrap_or(u64::MAX));
        Box::new(
            self.db
                .range_rev(
                    Bound::Included(keys::ChangeKey::from_time(0)),
                    Bound::Excluded(end),
                )
                .filter_map(|kv| match kv {
                    Ok((k, _)) => keys::ChangeKey::decode(&k).map(Ok),
                    Err(e) => Some(Err(e)),
                }),
        )
    }

    /// Pages that cite `id` as their source.
    fn cited_by(&self, id: UrlId) -> Result<Vec<UrlId>> {
        let mut citing = Vec::new();
        for k in self.db.keys_with_prefix(keys::cited_by_prefix(id)) {
            citing.extend(keys::decode_cited_by(&k?));
        }
        Ok(citing)
    }

    /// The page record of `id`, or `None` if there is none.
    fn page(&self, id: UrlId) -> Result<Option<PageRecord>> {
        self.get(&keys::page(id))
    }

    /// Every page record, in `UrlId` order.
    fn pages(&self) -> Rows<'_, (UrlId, PageRecord)> {
        Box::new(
            self.scan::<PageRecord>(vec![keys::PAGES])
                .filter_map(|r| match r {
                    Ok((k, p)) => keys::decode_page(&k).map(|id| Ok((id, p))),
                    Err(e) => Some(Err(e)),
                }),
        )
    }

    /// The captures of one URL, oldest first.
    fn captures(&self, id: UrlId) -> Rows<'_, CaptureRecord> {
        Box::new(
            self.scan::<CaptureRecord>(keys::captures_of(id))
                .map(|r| r.map(|(_, c)| c)),
        )
    }

    /// The versions of one URL, oldest first.
    fn versions(&self, id: UrlId) -> Rows<'_, VersionRecord> {
        Box::new(
            self.scan::<VersionRecord>(keys::versions_of(id))
                .map(move |r| r.and_then(|(_, v)| self.with_article(id, v))),
        )
    }

    /// Version `number` (1-based) of a page with its article decompressed,
    /// or `None` if the page has no such version.
    fn version(&self, id: UrlId, number: u32) -> Result<Option<VersionRecord>> {
        match self.get::<VersionRecord>(&keys::version(id, number))? {
            Some(v) => self.with_article(id, v).map(Some),
            None => Ok(None),
        }
    }

    /// A version's metadata without its article (no decompression).
    fn version_meta(&self, id: UrlId, number: u32) -> Result<Option<VersionRecord>> {
        self.get(&keys::version(id, number))
    }

    /// A payload, decompressed.
    fn payload(&self, digest: &ContentDigest) -> Result<Option<Vec<u8>>> {
        read_payload(digest, &|d| self.raw_payload(d), codec::MAX_DEPTH)
    }

    /// Whether a payload with this digest is stored.
    fn has_payload(&self, digest: &ContentDigest) -> Result<bool> {
        self.db.contains_key(keys::payload(digest))
    }

    /// What is remembered about a host (`host:port`), or `None` if it was
    /// never seen.
    fn host_record(&self, authority: &str) -> Result<Option<HostRecord>> {
        self.get(&keys::host(authority))
    }

    /// The current (or last) crawl pass, or `None` before the first crawl.
    fn pass(&self) -> Result<Option<PassRecord>> {
        self.get(&keys::meta("pass"))
    }

    /// The next identifiers to hand out.
    fn id_counters(&self) -> Result<IdCounters> {
        let fresh = IdCounters::default();
        let mut counters = IdCounters {
            next_url: self
                .get(&keys::meta(NEXT_URL_ID))?
                .unwrap_or(fresh.next_url),
            next_host: self
                .get(&keys::meta(NEXT_HOST_ID))?
                .unwrap_or(fresh.next_host),
        };
        // Crawling processes sharing the archive reserve ids in a table.
        if let Some(kv) = self.db.postgres()
            && let Some((url, host)) = kv.reserved_ids()?
        {
            counters.next_url = counters.next_url.max(url.max(0) as u64);
            counters.next_host = counters.next_host.max(host.max(0) as u64);
        }
        Ok(counters)
    }

    /// Seed host → the sites that seed redirected to.
    fn moved_scopes(&self) -> Result<HashMap<String, Vec<String>>> {
        let mut moved = HashMap::new();
        for kv in self.scan::<Vec<String>>(keys::scope_moved_prefix()) {
            let (k, sites) = kv?;
            if let Some(seed) = keys::scope_moved_seed(&k) {
                moved.insert(seed, sites);
            }
        }
        Ok(moved)
    }

    /// A host's frontier entries, soonest due first.
    fn queue_of(&self, host: HostId) -> Rows<'_, QueueEntry> {
        Box::new(
            self.db
                .keys_with_prefix(keys::queue_host_prefix(host))
                .filter_map(|k| match k {
                    Ok(k) => keys::decode_queue(&k).map(Ok),
                    Err(e) => Some(Err(e)),
                }),
        )
    }

    /// Every host with at least one queued entry, found by skipping from
    /// host to host through the ordered keys rather than reading every entry.
    fn queue_hosts(&self) -> Result<Vec<HostId>> {
        let mut hosts = Vec::new();
        let mut from = keys::queue_host_prefix(HostId(0));
        while let Some(kv) = self.db.range_from(from).next() {
            let (k, _) = kv?;
            let Some(entry) = keys::decode_queue(&k) else {
                break;
            };
            hosts.push(entry.host);
            match entry.host.0.checked_add(1) {
                Some(next) => from = keys::queue_host_prefix(HostId(next)),
                None => break,
            }
        }
        Ok(hosts)
    }

    /// Whether any entry is queued at all.
    fn queue_is_empty(&self) -> Result<bool> {
        Ok(self
            .db
            .scan_prefix([keys::QUEUE])
            .next()
            .transpose()?
            .is_none())
    }

    /// Number of queued entries (a full scan: for summaries, not hot paths).
    fn queue_len(&self) -> Result<u64> {
        let mut n = 0;
        for k in self.db.keys_with_prefix([keys::QUEUE]) {
            k?;
            n += 1;
        }
        Ok(n)
    }

    /// Empties the frontier, in bounded batches.
    fn clear_queue(&self) -> Result<()> {
        loop {
            let chunk: Vec<sled::IVec> = self
                .db
                .keys_with_prefix([keys::QUEUE])
                .take(10_000)
                .collect::<Result<_>>()?;
            if chunk.is_empty() {
                return Ok(());
            }
            let mut batch = engine::Writes::default();
            for k in chunk {
                batch.remove(k.to_vec());
            }
            self.db.apply(batch, &mut 0)?;
        }
    }

    /// Counts and sizes.
    fn stats(&self) -> Result<Stats> {
        let pack_bytes = self.packs.bytes_on_disk();
        let mut stats = Stats {
            disk_bytes: self.db.size_on_disk()? + pack_bytes,
            pack_bytes,
            ..Stats::default()
        };
        for kv in self.db.iter() {
            let (k, v) = kv?;
            let bytes = k.len() as u64 + packs::value_len(&v);
            stats.live_bytes += bytes;
            if !matches!(k.first(), Some(&keys::PAYLOADS | &keys::ARTICLES)) {
                stats.record_bytes += bytes;
            }
            match k.first() {
                Some(&keys::PAGES) => {
                    stats.pages += 1;
                    let page: PageRecord = self.decode(&k, &v)?;
                    if page
                        .latest
                        .as_ref()
                        .is_some_and(|l| l.kind == crate::article::PageKind::Article)
                    {
                        stats.articles += 1;
                    }
                }
                Some(&keys::HOSTS) => stats.hosts += 1,
                Some(&keys::CAPTURES) => {
                    stats.captures += 1;
                    stats.capture_record_bytes += bytes;
                }
                Some(&keys::VERSIONS) => stats.versions += 1,
                Some(&keys::QUEUE) => stats.queued += 1,
                Some(&keys::PAYLOADS) => {
                    stats.payloads += 1;
                    stats.payload_bytes_compressed += packs::value_len(&v);
                }
                _ => {}
            }
        }
        stats.pass = self.pass()?.map(|p| p.number).unwrap_or(0);
        stats.record_dictionaries = self.records.dictionaries() as u64;
        Ok(stats)
    }
}

const NEXT_URL_ID: &str = "next_url_id";
const NEXT_HOST_ID: &str = "next_host_id";

fn article_corrupt(id: UrlId, number: u32, reason: String) -> ArchiveError {
    ArchiveError::Corrupt {
        key: format!("article of version {number} of URL {}", id.0),
        reason,
    }
}

fn decode_article(id: UrlId, number: u32, blob: Option<&[u8]>) -> Result<Option<Article>> {
    blob.map(|b| ArticleBlob::decode(b).map_err(|reason| article_corrupt(id, number, reason)))
        .transpose()
}

/// The payload `digest` as a delta base, its blob read by `raw`. A payload
/// at the end of a full chain offers the payload it sits on instead: the
/// new one becomes its sibling, a delta still, where on the full chain's
/// end it would be stored whole.
fn delta_base(
    digest: &ContentDigest,
    raw: &dyn Fn(&ContentDigest) -> Result<Option<Vec<u8>>>,
) -> Result<Option<DeltaBase>> {
    let Some(blob) = raw(digest)? else {
        return Ok(None);
    };
    if let codec::Layout::Delta { base, depth, .. } = blob_layout(digest, &blob)?
        && depth >= codec::MAX_DEPTH
        && let Some(parent) = raw(&base)?
        && chain_depth(&base, &parent)? < codec::MAX_DEPTH
    {
        return as_delta_base(&base, &parent, raw).map(Some);
    }
    as_delta_base(digest, &blob, raw).map(Some)
}

/// Stored payload `blob` (of `digest`), decompressed, as a delta base.
fn as_delta_base(
    digest: &ContentDigest,
    blob: &[u8],
    raw: &dyn Fn(&ContentDigest) -> Result<Option<Vec<u8>>>,
) -> Result<DeltaBase> {
    Ok(DeltaBase {
        digest: *digest,
        depth: chain_depth(digest, blob)?,
        bytes: decode_payload(digest, blob, raw, codec::MAX_DEPTH)?,
    })
}

fn blob_layout<'a>(digest: &ContentDigest, blob: &'a [u8]) -> Result<codec::Layout<'a>> {
    PayloadBlob::layout(blob).map_err(|e| payload_corrupt(digest, e))
}

/// How many deltas stored payload `blob` sits on.
fn chain_depth(digest: &ContentDigest, blob: &[u8]) -> Result<u8> {
    PayloadBlob::depth(blob).map_err(|e| payload_corrupt(digest, e))
}

fn payload_corrupt(digest: &ContentDigest, e: std::io::Error) -> ArchiveError {
    ArchiveError::Corrupt {
        key: format!("payload {digest}"),
        reason: e.to_string(),
    }
}

/// A payload, decompressed: `raw` reads a stored blob, and a delta's bases
/// through it too, at most [`codec::MAX_DEPTH`] deep.
fn read_payload(
    digest: &ContentDigest,
    raw: &dyn Fn(&ContentDigest) -> Result<Option<Vec<u8>>>,
    budget: u8,
) -> Result<Option<Vec<u8>>> {
    match raw(digest)? {
        Some(blob) => decode_payload(digest, &blob, raw, budget).map(Some),
        None => Ok(None),
    }
}

/// The payload `digest` stored as `blob`, decompressed (its bases read
/// through `raw`).
fn decode_payload(
    digest: &ContentDigest,
    blob: &[u8],
    raw: &dyn Fn(&ContentDigest) -> Result<Option<Vec<u8>>>,
    budget: u8,
) -> Result<Vec<u8>> {
    PayloadBlob::decode(blob, |base| {
        let budget = budget
            .checked_sub(1)
            .ok_or_else(|| io::Error::other("its delta chain is longer than allowed"))?;
        read_payload(base, raw, budget)
            .map_err(|e| io::Error::other(e.to_string()))?
            .ok_or_else(|| io::Error::other(format!("its base payload {base} is missing")))
    })
    .map_err(|e| payload_corrupt(digest, e))
}

fn corrupt_json(what: &'static str) -> impl Fn(serde_json::Error) -> ArchiveError {
    move |e| ArchiveError::Corrupt {
        key: what.to_string(),
        reason: e.to_string(),
    }
}

/// Whether writing to `path` would write over the files of the archive in
/// `dir` (its database, lock, seal or notes), wherever a link or `..` leads.
pub fn owns(dir: &Path, path: &Path) -> bool {
    let target = resolved(path);
    let own = |name: &str| resolved(&dir.join(name));
    target.starts_with(own("db"))
        || [
            HOLDER_FILE,
            LOCK_FILE,
            SERVING_FILE,
            guard::SEAL_FILE,
            guard::SCRATCH_DIR,
            record_codec::DICTIONARY_DIR,
            compact::COMPACT_DIR,
            compact::OLD_DB_DIR,
            packs::PACK_DIR,
            SEARCH_DIR,
        ]
        .iter()
        .any(|name| target.starts_with(own(name)))
}

/// `path` made absolute, with links resolved as far as it exists.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut rest = Vec::new();
    let mut existing = absolute.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            return rest.iter().rev().fold(real, |p, part| p.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// Takes the archive directory's lock, or says who holds it.
pub(super) fn lock_dir(dir: &Path) -> Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(locked(dir)),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

fn locked(dir: &Path) -> ArchiveError {
    ArchiveError::Locked {
        path: dir.to_path_buf(),
        holder: std::fs::read_to_string(dir.join(HOLDER_FILE))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "holder unknown".into()),
    }
}

fn is_lock_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || e.to_string().contains("lock")
}
