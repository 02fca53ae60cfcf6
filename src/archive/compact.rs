//! `palimpsest compact`: the archive copied record by record into a new
//! database, which then takes the old one's place. sled never gives space
//! back on its own; the copy holds only live records, each record written
//! again with the archive's newest dictionary, and payloads and articles
//! that an earlier build kept in the database moved to a pack.
//!
//! Safe against a crash at any instant: the new database is complete and
//! flushed, and a marker says so, before the old one is moved aside; each
//! step of the swap is a rename; and opening the archive finishes or undoes
//! a swap that was cut short (see [`recover`]).

use std::path::Path;

use serde::Serialize;

use super::{Archive, ArchiveError, Result, guard, keys};

/// Where the new database is built.
pub(super) const COMPACT_DIR: &str = ".compact";
/// Where the old database waits while the new one is moved in.
pub(super) const OLD_DB_DIR: &str = ".compact-old";
/// In `COMPACT_DIR`: the new database is complete and flushed.
const COMPLETE_FILE: &str = "complete";
/// Records copied per write batch.
const BATCH_RECORDS: usize = 1_000;

/// What `compact` did.
#[derive(Debug, Default, Serialize)]
pub struct CompactReport {
    /// Records copied.
    pub records: u64,
    /// Records written again with the newest dictionary.
    pub recompressed: u64,
    /// Bytes of the database on disk before.
    pub bytes_before: u64,
    /// Bytes of the database on disk after.
    pub bytes_after: u64,
}

/// Compacts the archive in `dir`; `progress` hears records and bytes copied
/// so far.
pub fn compact(dir: &Path, progress: &dyn Fn(u64, u64)) -> Result<CompactReport> {
    let archive = Archive::open(dir, "palimpsest compact")?;
    if archive.records.current().is_none()
        && let Err(e) = archive.train_record_dictionary()
    {
        // Too few records to train on: they are copied as they are.
        tracing::info!("no record dictionary: {e}");
    }
    let scratch = dir.join(COMPACT_DIR);
    remove_if_present(&scratch)?;
    let mut report = CompactReport {
        bytes_before: archive.raw_size_on_disk(),
        ..CompactReport::default()
    };
    let new_db = scratch.join("db");
    copy_live_records(&archive, &new_db, &mut report, progress)?;
    sync_file(&scratch.join(COMPLETE_FILE), b"")?;
    sync_dir(&scratch)?;
    let lock = archive.close_keeping_lock();
    swap_in(dir, &new_db)?;
    report.bytes_after = guard::record_bytes(&dir.join("db"));
    drop(lock);
    Ok(report)
}

fn copy_live_records(
    archive: &Archive,
    into: &Path,
    report: &mut CompactReport,
    progress: &dyn Fn(u64, u64),
) -> Result<()> {
    let target = sled::Config::new()
        .path(into)
        .cache_capacity(guard::CACHE_BYTES)
        .flush_every_ms(None)
        .open()?;
    let mut batch = sled::Batch::default();
    let mut in_batch = 0;
    let mut bytes = 0u64;
    for kv in archive.db.iter() {
        let (k, v) = kv?;
        let value = match keys::holds_records(&k) {
            true => {
                let repacked =
                    archive
                        .records
                        .repack(&v)
                        .map_err(|reason| ArchiveError::Corrupt {
                            key: String::from_utf8_lossy(&k).into_owned(),
                            reason,
                        })?;
                if repacked.as_deref().is_some_and(|r| r != &v[..]) {
                    report.recompressed += 1;
                }
                repacked.map_or(v, sled::IVec::from)
            }
            // Blobs of archives written before packs move to one.
            false if keys::holds_blobs(&k) => {
                sled::IVec::from(archive.packs.store(&k, v.to_vec())?)
            }
            false => v,
        };
        bytes += (k.len() + value.len()) as u64;
        batch.insert(k, value);
        report.records += 1;
        in_batch += 1;
        if in_batch == BATCH_RECORDS {
            target.apply_batch(std::mem::take(&mut batch))?;
            in_batch = 0;
            progress(report.records, bytes);
        }
    }
    target.apply_batch(batch)?;
    archive.packs.sync()?;
    target.flush()?;
    progress(report.records, bytes);
    Ok(())
}

/// Puts the complete new database in `new_db` in the old one's place.
fn swap_in(dir: &Path, new_db: &Path) -> Result<()> {
    let db = dir.join("db");
    let old = dir.join(OLD_DB_DIR);
    remove_if_present(&old)?;
    // The seal describes the old files; until the new ones are sealed, the
    // archive is checked on opening like one not closed cleanly.
    guard::break_seal(dir)?;
    std::fs::rename(&db, &old)?;
    sync_dir(dir)?;
    std::fs::rename(new_db, &db)?;
    sync_dir(dir)?;
    guard::seal(dir, &db)?;
    remove_if_present(&old)?;
    remove_if_present(&dir.join(COMPACT_DIR))?;
    Ok(())
}

/// Finishes or undoes a compaction cut short, before the archive is opened:
/// with no database in place, the new one goes in if it was complete, else
/// the old one goes back; with one in place, what is left over goes.
pub(super) fn recover(dir: &Path) -> Result<()> {
    let db = dir.join("db");
    let scratch = dir.join(COMPACT_DIR);
    let old = dir.join(OLD_DB_DIR);
    if !scratch.exists() && !old.exists() {
        return Ok(());
    }
    // Which files the seal describes is not known any more: the database
    // is checked on opening, as one not closed cleanly.
    guard::break_seal(dir)?;
    if !db.exists() {
        if scratch.join(COMPLETE_FILE).exists() && scratch.join("db").exists() {
            std::fs::rename(scratch.join("db"), &db)?;
        } else if old.exists() {
            std::fs::rename(&old, &db)?;
        }
        sync_dir(dir)?;
    }
    if db.exists() {
        remove_if_present(&old)?;
        remove_if_present(&scratch)?;
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

fn sync_file(path: &Path, contents: &[u8]) -> Result<()> {
    std::fs::write(path, contents)?;
    std::fs::File::open(path)?.sync_all()?;
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{HostId, PageRecord, Store, Txn, UrlId, Via};
    use crate::canonical::CanonicalUrl;

    fn page(n: u64) -> PageRecord {
        let url = CanonicalUrl::parse(&format!("http://news.test/{n}")).unwrap();
        PageRecord::new(url, HostId(1), "news.test".into(), Via::Seed)
    }

    /// An archive of 300 pages, and a complete compacted copy of it beside
    /// it, as a compaction leaves them just before the swap.
    fn compacted_but_not_swapped() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(dir.path(), "test").unwrap();
        let mut txn = archive.begin();
        for n in 1..=300 {
            txn.put_page(UrlId(n), &page(n)).unwrap();
        }
        archive.commit(txn).unwrap();
        let mut report = CompactReport::default();
        copy_live_records(
            &archive,
            &dir.path().join(COMPACT_DIR).join("db"),
            &mut report,
            &|_, _| {},
        )
        .unwrap();
        assert_eq!(report.records, 300 + 1, "the pages and the schema");
        drop(archive);
        dir
    }

    fn reads_every_page(dir: &Path) {
        let archive = Archive::open(dir, "test").unwrap();
        for n in 1..=300 {
            assert_eq!(archive.page(UrlId(n)).unwrap(), Some(page(n)), "page {n}");
        }
        drop(archive);
        assert!(!dir.join(COMPACT_DIR).exists());
        assert!(!dir.join(OLD_DB_DIR).exists());
    }

    #[test]
    fn an_unfinished_copy_is_dropped() {
        let dir = compacted_but_not_swapped();
        reads_every_page(dir.path());
    }

    #[test]
    fn a_complete_copy_not_yet_swapped_in_is_dropped() {
        let dir = compacted_but_not_swapped();
        std::fs::write(dir.path().join(COMPACT_DIR).join(COMPLETE_FILE), b"").unwrap();
        reads_every_page(dir.path());
    }

    #[test]
    fn an_old_database_moved_aside_goes_back_when_the_copy_is_unfinished() {
        let dir = compacted_but_not_swapped();
        std::fs::rename(dir.path().join("db"), dir.path().join(OLD_DB_DIR)).unwrap();
        reads_every_page(dir.path());
    }

    #[test]
    fn a_complete_copy_goes_in_when_the_old_database_was_moved_aside() {
        let dir = compacted_but_not_swapped();
        std::fs::write(dir.path().join(COMPACT_DIR).join(COMPLETE_FILE), b"").unwrap();
        std::fs::rename(dir.path().join("db"), dir.path().join(OLD_DB_DIR)).unwrap();
        reads_every_page(dir.path());
    }

    #[test]
    fn the_old_database_left_after_the_swap_is_removed() {
        let dir = compacted_but_not_swapped();
        std::fs::write(dir.path().join(COMPACT_DIR).join(COMPLETE_FILE), b"").unwrap();
        std::fs::rename(dir.path().join("db"), dir.path().join(OLD_DB_DIR)).unwrap();
        std::fs::rename(
            dir.path().join(COMPACT_DIR).join("db"),
            dir.path().join("db"),
        )
        .unwrap();
        reads_every_page(dir.path());
    }
}
