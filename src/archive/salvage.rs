//! `palimpsest salvage`: every record of a damaged archive that can still be
//! read, copied into a new archive. The damaged archive is only read, and
//! only through a copy, since sled's repair on opening may cut it short.

use std::path::Path;

use serde::Serialize;

use super::{ArchiveError, Result};
use super::{guard, packs, record_codec};

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
    let result = copy_records(&copy, &to.join("db"));
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

fn copy_records(damaged: &Path, into: &Path) -> Result<SalvageReport> {
    let before: u64 = guard::record_bytes(damaged);
    let open = || {
        let path = damaged.to_path_buf();
        guard::bounded(guard::budget_for(before), move || guard::open_sled(&path))
    };
    let mut report = SalvageReport::default();
    let source = match open() {
        Ok(db) => db,
        // A snapshot that points past the damage stops sled opening at
        // all; without it sled rebuilds its tables from the log.
        Err(_) => {
            remove_snapshots(damaged)?;
            match open() {
                Ok(db) => db,
                // Nothing of the log is readable: an empty salvage that says
                // why, rather than an error that hides what was tried.
                Err(damage) => {
                    report.repair_cut =
                        Some(format!("sled cannot open the damaged log: {}", damage.0));
                    return Ok(report);
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
    let target = sled::Config::new()
        .path(into)
        .cache_capacity(guard::CACHE_BYTES)
        .open()?;
    let mut batch = sled::Batch::default();
    let mut in_batch = 0;
    let mut from: Vec<u8> = Vec::new();
    loop {
        let mut failed_after: Option<Vec<u8>> = None;
        let stretch = guard::quietly(|| -> std::result::Result<(), ()> {
            for kv in source.range(from.clone()..) {
                let Ok((k, v)) = kv else { return Err(()) };
                batch.insert(k.clone(), v);
                in_batch += 1;
                report.records += 1;
                failed_after = Some(k.to_vec());
                if in_batch == BATCH_RECORDS {
                    target
                        .apply_batch(std::mem::take(&mut batch))
                        .map_err(|_| ())?;
                    in_batch = 0;
                }
            }
            Ok(())
        });
        if matches!(stretch, Ok(Ok(()))) {
            break;
        }
        report.damaged_stretches += 1;
        if report.damaged_stretches >= MAX_DAMAGED_STRETCHES {
            break;
        }
        let Some(next) = skip_past(failed_after.as_deref().unwrap_or(&from), &source) else {
            break;
        };
        from = next;
    }
    target.apply_batch(batch)?;
    target.flush()?;
    Ok(report)
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
