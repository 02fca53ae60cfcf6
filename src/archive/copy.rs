//! `palimpsest copy`: an archive copied record by record into another
//! place, directory or PostgreSQL, in either direction. Records keep their
//! bytes (the record dictionaries travel with them); payloads and articles
//! are read out of the source's packs and stored as the target keeps them.
//!
//! Streamed in key order, in batches that each also record the last key
//! copied, so a copy cut short goes on from there when run again; a finished
//! copy is verified.

use serde::Serialize;

use super::engine::Writes;
use super::store::{Store, Txn};
use super::{Archive, ArchiveError, Location, Result, keys};

/// Records per write batch (and per progress report).
const BATCH_RECORDS: usize = 1_000;
/// A batch is written early once it holds this many bytes.
const BATCH_BYTES: u64 = 16 << 20;

/// What `copy` did.
#[derive(Debug, Default, Serialize)]
pub struct CopyReport {
    /// Records copied by this run.
    pub records: u64,
    /// Bytes of keys and values copied by this run.
    pub bytes: u64,
    /// Whether this run went on from where an earlier one stopped.
    pub resumed: bool,
    /// Pages the target holds, as its verification counted them.
    pub pages: u64,
    /// What verifying the target found wrong (nothing, for a good copy).
    pub problems: Vec<String>,
}

/// The key that remembers how far a copy into this archive got.
fn progress_key() -> Vec<u8> {
    keys::meta("copy-progress")
}

/// Copies the archive at `from` into `to`, which must be empty or hold a
/// copy cut short; `progress` hears records and bytes copied so far.
pub fn copy(from: &Location, to: &Location, progress: &dyn Fn(u64, u64)) -> Result<CopyReport> {
    if from.to_string() == to.to_string() {
        return Err(refused(to, "it is the archive copied from"));
    }
    let source = Archive::open_reading(from, "palimpsest copy (source)")?;
    let target = Archive::open_at(to, "palimpsest copy (target)")?;
    let resume_after = target.db.get(progress_key())?;
    if resume_after.is_none() && holds_records(&target)? {
        return Err(refused(to, "it already holds an archive"));
    }
    let mut report = CopyReport {
        resumed: resume_after.is_some(),
        ..CopyReport::default()
    };
    let entries = match resume_after {
        Some(after) => source.db.range(
            std::ops::Bound::Excluded(after.to_vec()),
            std::ops::Bound::Unbounded,
        ),
        None => source.db.iter(),
    };
    let mut batch = Batch::default();
    for entry in entries {
        let (key, value) = entry?;
        let value = if keys::holds_blobs(&key) {
            let whole = source.resolve(&key, &value)?;
            target.packs.store(&key, whole)?
        } else {
            value.to_vec()
        };
        report.records += 1;
        report.bytes += (key.len() + value.len()) as u64;
        batch.add(key.to_vec(), value);
        if batch.full() {
            batch.write(&target)?;
            progress(report.records, report.bytes);
        }
    }
    batch.write(&target)?;
    // Ids that crawling processes reserved (PostgreSQL, beside the
    // records) are the copy's records' from now on.
    let counters = source.id_counters()?;
    if target.id_counters()? != counters {
        let mut st = target.begin();
        st.put_counters(&counters)?;
        target.commit(st)?;
    }
    let mut done = Writes::default();
    done.remove(progress_key());
    target.db.apply(done, &mut 0)?;
    target.keep_dictionary_copies()?;
    target.db.flush()?;
    progress(report.records, report.bytes);
    drop(target);
    let check = super::verify(&Archive::open_reading(to, "palimpsest copy (verify)")?)?;
    report.pages = check.pages;
    report.problems = check.problems;
    Ok(report)
}

fn refused(to: &Location, why: &str) -> ArchiveError {
    ArchiveError::CopyRefused {
        to: to.to_string(),
        why: why.to_string(),
    }
}

/// Whether an archive holds any record beyond those every new one has.
fn holds_records(archive: &Archive) -> Result<bool> {
    for entry in archive.db.iter() {
        let (key, _) = entry?;
        if key.first() != Some(&keys::META) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Records read but not yet written.
#[derive(Default)]
struct Batch {
    writes: Writes,
    records: usize,
    bytes: u64,
    last_key: Option<Vec<u8>>,
}

impl Batch {
    fn add(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.bytes += (key.len() + value.len()) as u64;
        self.records += 1;
        self.last_key = Some(key.clone());
        self.writes.insert(key, value);
    }

    fn full(&self) -> bool {
        self.records >= BATCH_RECORDS || self.bytes >= BATCH_BYTES
    }

    /// Writes the batch with the last key it holds as the copy's progress,
    /// once the blobs it points to are durable.
    fn write(&mut self, target: &Archive) -> Result<()> {
        let Some(last) = self.last_key.take() else {
            return Ok(());
        };
        let mut writes = std::mem::take(&mut self.writes);
        writes.insert(progress_key(), last);
        target.packs.sync()?;
        target.db.apply(writes, &mut 0)?;
        self.records = 0;
        self.bytes = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{HostId, PageRecord, PayloadBlob, Store, Txn, UrlId, Via};
    use crate::canonical::CanonicalUrl;
    use crate::digest::ContentDigest;

    /// Pages each with a payload long enough to go to a pack.
    fn archive_of(pages: u64, dir: &std::path::Path) -> Location {
        let archive = Archive::open(dir, "test").unwrap();
        let mut txn = archive.begin();
        for n in 0..pages {
            let url = CanonicalUrl::parse(&format!("http://news.test/story/{n}")).unwrap();
            txn.add_url(&url, UrlId(n));
            let page = PageRecord::new(url, HostId(1), "news.test".into(), Via::Seed);
            txn.put_page(UrlId(n), &page).unwrap();
            let body = format!("<p>story {n}</p>").repeat(200);
            let digest = ContentDigest::of(body.as_bytes());
            txn.store_payload(&digest, PayloadBlob::encode(body.as_bytes()).unwrap())
                .unwrap();
        }
        archive.commit(txn).unwrap();
        Location::Dir(dir.to_path_buf())
    }

    /// Every key and value, payloads and articles read out of their packs.
    fn contents(location: &Location) -> Vec<(Vec<u8>, Vec<u8>)> {
        let archive = Archive::open_reading(location, "test").unwrap();
        archive
            .db
            .iter()
            .map(|e| {
                let (k, v) = e.unwrap();
                let v = if keys::holds_blobs(&k) {
                    archive.resolve(&k, &v).unwrap()
                } else {
                    v.to_vec()
                };
                (k.to_vec(), v)
            })
            .collect()
    }

    #[test]
    fn a_copy_stopped_between_batches_goes_on_where_it_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let from = archive_of(2_500, &dir.path().join("from"));
        let to = Location::Dir(dir.path().join("to"));
        // Stopped (as by a crash) once two batches are written.
        let stopped = std::panic::catch_unwind(|| {
            copy(&from, &to, &|records, _| assert!(records < 2_000, "stop"))
        });
        assert!(stopped.is_err());
        let partial = contents(&to);
        assert!(
            partial.len() > 1_000 && partial.len() < 4_000,
            "{}",
            partial.len()
        );

        let report = copy(&from, &to, &|_, _| {}).unwrap();
        assert!(report.resumed);
        assert_eq!(report.problems.first(), None);
        assert_eq!(report.pages, 2_500);
        let mut expected = contents(&from);
        // Only what the first run had not copied was copied again.
        assert_eq!(report.records as usize, expected.len() - 2_000);
        expected.retain(|(k, _)| *k != keys::meta("schema"));
        let mut copied = contents(&to);
        copied.retain(|(k, _)| *k != keys::meta("schema"));
        assert_eq!(copied, expected);

        // Finished, it is an archive like any other: never written over.
        match copy(&from, &to, &|_, _| {}) {
            Err(ArchiveError::CopyRefused { why, .. }) => assert!(why.contains("already")),
            other => panic!("copied over an archive: {:?}", other.map(|r| r.records)),
        }
    }
}
