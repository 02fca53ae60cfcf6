//! `palimpsest salvage`: every record of a damaged archive that can still be
//! read, copied into a new archive. The damaged archive is only read, and
//! only through a copy, since sled's repair on opening may cut it short.
//! Records come from sled's own reading of the copy and from
//! [`sled_log`]'s raw reading of the damaged archive itself (only read),
//! which finds what sled's recovery leaves out and wins where they differ.

use std::path::Path;

use serde::Serialize;

use super::sled_log::{self, LiveRecords, LogScan};
use super::{ArchiveError, Result};
use super::{guard, keys, packs, record_codec};

/// Records copied per write batch into the new archive.
const BATCH_RECORDS: usize = 1_000;
/// Restarts past unreadable records before giving up on the rest.
const MAX_DAMAGED_STRETCHES: u64 = 10_000;

/// What `salvage` recovered.
#[derive(Debug, Default, Serialize)]
pub struct SalvageReport {
    /// Records copied into the new archive.
    pub records: u64,
    /// Places where reading failed and the copy skipped ahead.
    pub damaged_stretches: u64,
    /// How sled's repair treated the damaged copy, when it cut it short.
    pub repair_cut: Option<String>,
    /// Payloads and articles found again in the packs although the damaged
    /// database had lost the pointers to them (counted in `records` too).
    pub from_packs: u64,
    /// Records taken from the raw reading of sled's log, because sled's own
    /// reading lacked them or held another (older) value.
    pub from_raw_log: u64,
    /// What the raw reading of sled's log met.
    pub raw_log: Option<LogScan>,
    /// Why the raw reading of sled's log could not be made.
    pub raw_log_failure: Option<String>,
    /// Values the raw reading found but could not read back from the disk.
    pub unreadable_values: u64,
    /// Keys of the raw reading with no shape a key of the archive has (cut
    /// short by the damage): left out.
    pub misshapen_keys: u64,
}

/// Copies every readable record of the archive in `from` into a new archive
/// in `to` (which must not hold one).
pub fn salvage(from: &Path, to: &Path) -> Result<SalvageReport> {
    let source_db = from.join("db");
    if !source_db.is_dir() {
        return Err(ArchiveError::Io(std::io::Error::other(format!(
            "no archive at {}",
            from.display()
        ))));
    }
    if to.join("db").exists() {
        return Err(ArchiveError::Io(std::io::Error::other(format!(
            "{} already holds an archive; salvage into a new directory",
            to.display()
        ))));
    }
    // Nothing may write to the damaged archive while it is copied.
    let _lock = super::lock_dir(from)?;
    std::fs::create_dir_all(to)?;
    let scratch = to.join(".salvage-source");
    let _ = std::fs::remove_dir_all(&scratch);
    let copy = scratch.join("db");
    guard::copy_tree(&source_db, &copy)?;
    let result = copy_records(&source_db, &copy, &to.join("db"));
    let _ = std::fs::remove_dir_all(&scratch);
    let mut report = result?;
    let found = packs::restore_pointers(from, &to.join("db"))?;
    report.records += found.restored;
    report.from_packs = found.restored;
    report.damaged_stretches += found.damaged_stretches;
    if to.join("db").exists() {
        // Records compressed with a dictionary need it, whether or not its
        // copy in the damaged database could be read; payloads and articles
        // in packs are pointed to, not copied.
        for beside in [record_codec::DICTIONARY_DIR, packs::PACK_DIR] {
            if from.join(beside).is_dir() {
                guard::copy_tree(&from.join(beside), &to.join(beside))?;
            }
        }
        guard::seal(to, &to.join("db"))?;
    }
    Ok(report)
}

/// Copies the records of `original` (only read, through the raw reader)
/// and of `damaged`, its copy (which sled's repair may cut), into `into`.
fn copy_records(original: &Path, damaged: &Path, into: &Path) -> Result<SalvageReport> {
    let mut report = SalvageReport::default();
    let raw = match sled_log::read_live_records(original) {
        Ok(live) => {
            report.raw_log = Some(live.scan.clone());
            Some(live)
        }
        Err(e) => {
            report.raw_log_failure = Some(e.to_string());
            None
        }
    };
    let source = open_damaged(damaged, &mut report)?;
    let mut target = Target {
        db: sled::Config::new()
            .path(into)
            .cache_capacity(guard::CACHE_BYTES)
            .open()?,
        batch: sled::Batch::default(),
        in_batch: 0,
    };
    if let Some(source) = &source {
        copy_from_sled(source, &mut target, &mut report)?;
    }
    // Whatever sled could read, the raw reading adds what sled's recovery
    // left out (it stops at the first gap in its log, and may open a cut
    // log as if it were whole), and its values are the newest the file
    // holds: they win.
    target.flush_batch()?;
    if let Some(raw) = &raw {
        copy_from_raw(raw, &mut target, &mut report)?;
    }
    target.finish()?;
    Ok(report)
}

/// The raw reading's records that sled's reading lacked or held with
/// another value.
fn copy_from_raw(raw: &LiveRecords, target: &mut Target, report: &mut SalvageReport) -> Result<()> {
    for (key, stored) in &raw.records {
        if !keys::has_known_shape(key) {
            report.misshapen_keys += 1;
            continue;
        }
        // The file was read a moment ago and nothing may write it: a
        // failure here is the disk's, and costs that record only.
        let Ok(value) = raw.value(*stored) else {
            report.unreadable_values += 1;
            continue;
        };
        let held = target.db.get(key)?;
        if held.as_deref() == Some(value.as_slice()) {
            continue;
        }
        if held.is_none() {
            report.records += 1;
        }
        report.from_raw_log += 1;
        target.insert(key.as_slice(), value)?;
    }
    Ok(())
}

/// The new archive, written in batches.
struct Target {
    db: sled::Db,
    batch: sled::Batch,
    in_batch: usize,
}

impl Target {
    fn insert(&mut self, key: impl Into<sled::IVec>, value: impl Into<sled::IVec>) -> Result<()> {
        self.batch.insert(key, value);
        self.in_batch += 1;
        if self.in_batch == BATCH_RECORDS {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<()> {
        self.db.apply_batch(std::mem::take(&mut self.batch))?;
        self.in_batch = 0;
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.flush_batch()?;
        self.db.flush()?;
        Ok(())
    }
}

/// sled's own opening of the damaged copy; `None` when nothing of it opens
/// (said in `report.repair_cut`).
fn open_damaged(damaged: &Path, report: &mut SalvageReport) -> Result<Option<sled::Db>> {
    let before: u64 = guard::record_bytes(damaged);
    let open = || {
        let path = damaged.to_path_buf();
        guard::bounded(guard::budget_for(before), move || guard::open_sled(&path))
    };
    let source = match open() {
        Ok(db) => db,
        // A snapshot that points past the damage stops sled opening at
        // all; without it sled rebuilds its tables from the log.
        Err(_) => {
            remove_snapshots(damaged)?;
            match open() {
                Ok(db) => db,
                Err(damage) => {
                    report.repair_cut =
                        Some(format!("sled cannot open the damaged log: {}", damage.0));
                    return Ok(None);
                }
            }
        }
    };
    let after = guard::record_bytes(damaged);
    if after < before {
        report.repair_cut = Some(format!(
            "sled could read {after} of its {before} bytes; records stored past the damage are not in sled's index"
        ));
    }
    Ok(Some(source))
}

/// Every record sled can iterate, skipping past damaged stretches.
fn copy_from_sled(
    source: &sled::Db,
    target: &mut Target,
    report: &mut SalvageReport,
) -> Result<()> {
    let mut from: Vec<u8> = Vec::new();
    loop {
        let mut failed_after: Option<Vec<u8>> = None;
        let stretch = guard::quietly(|| -> std::result::Result<(), ()> {
            for kv in source.range(from.clone()..) {
                let Ok((k, v)) = kv else { return Err(()) };
                failed_after = Some(k.to_vec());
                target.insert(k, v).map_err(|_| ())?;
                report.records += 1;
            }
            Ok(())
        });
        if matches!(stretch, Ok(Ok(()))) {
            return Ok(());
        }
        report.damaged_stretches += 1;
        if report.damaged_stretches >= MAX_DAMAGED_STRETCHES {
            return Ok(());
        }
        let Some(next) = skip_past(failed_after.as_deref().unwrap_or(&from), source) else {
            return Ok(());
        };
        from = next;
    }
}

/// The first key from which reading works again after a failure past
/// `last_good`: the key right after it, then ever coarser jumps (the next
/// value of each shorter prefix), then each later first byte, so a damaged
/// node's whole range is skipped but no more.
fn skip_past(last_good: &[u8], source: &sled::Db) -> Option<Vec<u8>> {
    let mut candidates = vec![successor(last_good)];
    for len in (1..=last_good.len()).rev() {
        if let Some(next) = next_prefix(&last_good[..len]) {
            candidates.push(next);
        }
    }
    let first_after = last_good.first().map_or(0, |b| u16::from(*b) + 1);
    candidates.extend((first_after..=255).map(|b| vec![b as u8]));
    candidates.into_iter().find(|start| {
        matches!(
            guard::quietly(|| source.range(start.clone()..).next().transpose().is_ok()),
            Ok(true)
        )
    })
}

/// The smallest key greater than `key`.
fn successor(key: &[u8]) -> Vec<u8> {
    let mut k = key.to_vec();
    k.push(0);
    k
}

/// The smallest key greater than every key starting with `prefix`.
fn next_prefix(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut k = prefix.to_vec();
    while let Some(last) = k.pop() {
        if last < u8::MAX {
            k.push(last + 1);
            return Some(k);
        }
    }
    None
}

fn remove_snapshots(db_dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(db_dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with("snap.") {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipping_ahead_jumps_past_ever_larger_ranges() {
        assert_eq!(successor(b"ab"), b"ab\0".to_vec());
        assert_eq!(next_prefix(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(next_prefix(&[b'a', 0xff]), Some(b"b".to_vec()));
        assert_eq!(next_prefix(&[0xff, 0xff]), None);
    }
}
