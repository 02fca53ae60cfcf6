//! Payload and article bytes in append-only pack files beside the database
//! (`ARCHIVE/packs/pack-NNNNNN`), the database keeping a 17-byte pointer in
//! their place. sled rewrites a whole tree node, every value in it, each time
//! it consolidates the node: a node of sixteen 12 KB payloads is rewritten
//! for every few payloads added to it, so payloads in sled took five times
//! their size on disk. In a pack each is written once.
//!
//! An entry is `[b"PKe1"][key length: u16][value length: u32][key][value]
//! [checksum: first 8 bytes of BLAKE3 over key and value]`, all integers
//! big-endian: it names its own key, so the packs alone say what they hold,
//! and a damaged entry is found, never read as another. A pointer is
//! `[0xFA][pack number: u32][offset: u64][value length: u32]`; values that
//! do not start with 0xFA (every value of earlier archives, and small ones)
//! are the bytes themselves. A process writes to a pack of its own, so a pack
//! cut short by a crash is never appended to.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The directory of the packs, in the archive directory.
pub(super) const PACK_DIR: &str = "packs";
/// Values at least this long go to a pack; shorter ones (most deltas) stay
/// in the database, where a pointer would save nothing.
pub(super) const PACK_THRESHOLD: usize = 512;
const POINTER: u8 = 0xFA;
const POINTER_LEN: usize = 17;
const ENTRY_MAGIC: [u8; 4] = *b"PKe1";
const ENTRY_HEADER_LEN: usize = 4 + 2 + 4;
const CHECKSUM_LEN: usize = 8;
/// A pack is closed and the next one started past this size.
const MAX_PACK_BYTES: u64 = 1 << 30;
/// No stored value is longer (the largest body a crawl or import keeps is
/// far below): a longer length is damage.
const MAX_VALUE_BYTES: u32 = 512 * 1024 * 1024;

/// The packs of one archive.
pub(super) struct Packs {
    dir: PathBuf,
    /// Every value stays in the database (an archive without a directory).
    inline: bool,
    writer: Mutex<Option<PackWriter>>,
    readers: Mutex<HashMap<u32, Arc<File>>>,
}

/// The pack this process appends to.
struct PackWriter {
    number: u32,
    file: File,
    len: u64,
    unsynced: bool,
}

/// Whether a stored value is a pointer into a pack.
fn is_pointer(stored: &[u8]) -> bool {
    stored.len() == POINTER_LEN && stored[0] == POINTER
}

/// Where a pointer leads.
struct Location {
    pack: u32,
    offset: u64,
    len: u32,
}

impl Location {
    fn of(stored: &[u8]) -> Option<Self> {
        if !is_pointer(stored) {
            return None;
        }
        Some(Location {
            pack: u32::from_be_bytes(stored[1..5].try_into().ok()?),
            offset: u64::from_be_bytes(stored[5..13].try_into().ok()?),
            len: u32::from_be_bytes(stored[13..17].try_into().ok()?),
        })
    }

    fn pointer(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(POINTER_LEN);
        out.push(POINTER);
        out.extend_from_slice(&self.pack.to_be_bytes());
        out.extend_from_slice(&self.offset.to_be_bytes());
        out.extend_from_slice(&self.len.to_be_bytes());
        out
    }
}

fn checksum(key: &[u8], value: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(key);
    hasher.update(value);
    let mut out = [0; CHECKSUM_LEN];
    out.copy_from_slice(&hasher.finalize().as_bytes()[..CHECKSUM_LEN]);
    out
}

fn pack_name(number: u32) -> String {
    format!("pack-{number:06}")
}

fn pack_number(name: &str) -> Option<u32> {
    name.strip_prefix("pack-")?.parse().ok()
}

/// The length of the value a stored value stands for: the pointer's length
/// for a pointer, its own otherwise.
pub(super) fn value_len(stored: &[u8]) -> u64 {
    Location::of(stored).map_or(stored.len() as u64, |l| u64::from(l.len))
}

impl Packs {
    pub(super) fn new(archive_dir: &Path) -> Self {
        Packs {
            dir: archive_dir.join(PACK_DIR),
            inline: false,
            writer: Mutex::new(None),
            readers: Mutex::new(HashMap::new()),
        }
    }

    /// No packs: values are kept in the database itself (PostgreSQL, whose
    /// readers and writers may be on other machines than any directory).
    pub(super) fn inline() -> Self {
        Packs {
            inline: true,
            ..Packs::new(Path::new(""))
        }
    }

    /// What to store under `key` for `value`: a pointer to it, appended to
    /// this process's pack, or the value itself when it is short.
    pub(super) fn store(&self, key: &[u8], value: Vec<u8>) -> io::Result<Vec<u8>> {
        if self.inline || value.len() < PACK_THRESHOLD || value.len() > MAX_VALUE_BYTES as usize {
            return Ok(value);
        }
        let key_len = u16::try_from(key.len()).map_err(io::Error::other)?;
        let mut entry = Vec::with_capacity(ENTRY_HEADER_LEN + key.len() + value.len() + 8);
        entry.extend_from_slice(&ENTRY_MAGIC);
        entry.extend_from_slice(&key_len.to_be_bytes());
        entry.extend_from_slice(&(value.len() as u32).to_be_bytes());
        entry.extend_from_slice(key);
        entry.extend_from_slice(&value);
        entry.extend_from_slice(&checksum(key, &value));
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if writer.as_ref().is_none_or(|w| w.len >= MAX_PACK_BYTES) {
            if let Some(full) = writer.as_mut() {
                full.file.sync_data()?;
            }
            *writer = Some(self.start_pack()?);
        }
        let Some(pack) = writer.as_mut() else {
            return Err(io::Error::other("no pack to write to"));
        };
        let location = Location {
            pack: pack.number,
            offset: pack.len,
            len: value.len() as u32,
        };
        pack.file.write_all(&entry)?;
        pack.len += entry.len() as u64;
        pack.unsynced = true;
        Ok(location.pointer())
    }

    /// A new pack, numbered after every pack there is.
    fn start_pack(&self) -> io::Result<PackWriter> {
        std::fs::create_dir_all(&self.dir)?;
        let number = self.numbers()?.into_iter().max().unwrap_or(0) + 1;
        let file = std::fs::OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(self.dir.join(pack_name(number)))?;
        // The new file's name must survive a crash with the pointers to it.
        File::open(&self.dir)?.sync_all()?;
        Ok(PackWriter {
            number,
            file,
            len: 0,
            unsynced: false,
        })
    }

    fn numbers(&self) -> io::Result<Vec<u32>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut numbers = Vec::new();
        for entry in entries {
            if let Some(n) = entry?.file_name().to_str().and_then(pack_number) {
                numbers.push(n);
            }
        }
        Ok(numbers)
    }

    /// Makes what was appended durable: called before the database takes
    /// pointers to it.
    pub(super) fn sync(&self) -> io::Result<()> {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pack) = writer.as_mut().filter(|p| p.unsynced) {
            pack.file.sync_data()?;
            pack.unsynced = false;
        }
        Ok(())
    }

    /// The value a stored value stands for: read from its pack (and checked)
    /// for a pointer, the stored value itself otherwise.
    pub(super) fn resolve<'a>(
        &self,
        key: &[u8],
        stored: &'a [u8],
    ) -> Result<Cow<'a, [u8]>, String> {
        let Some(location) = Location::of(stored) else {
            return Ok(Cow::Borrowed(stored));
        };
        self.read(key, &location).map(Cow::Owned)
    }

    fn read(&self, key: &[u8], at: &Location) -> Result<Vec<u8>, String> {
        let file = self
            .reader(at.pack)
            .map_err(|e| format!("{} cannot be read: {e}", pack_name(at.pack)))?;
        let where_ = |what: &str| format!("{} at {}: {what}", pack_name(at.pack), at.offset);
        let lengths = header_at(&file, at.offset).map_err(|e| where_(&e.to_string()))?;
        if lengths != Some((key.len(), at.len)) {
            return Err(where_("no entry for this record there"));
        }
        match body_at(&file, at.offset, key.len(), at.len) {
            Ok(Some((named, value))) if named == key => Ok(value),
            Ok(_) => Err(where_("the entry is damaged")),
            Err(e) => Err(where_(&e.to_string())),
        }
    }

    fn reader(&self, number: u32) -> io::Result<Arc<File>> {
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(file) = readers.get(&number) {
            return Ok(file.clone());
        }
        let file = Arc::new(File::open(self.dir.join(pack_name(number)))?);
        readers.insert(number, file.clone());
        Ok(file)
    }

    /// Bytes the packs take on disk.
    pub(super) fn bytes_on_disk(&self) -> u64 {
        if self.inline {
            return 0;
        }
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        entries
            .flatten()
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    }
}

/// What the packs hold, read from the packs alone: each intact entry's key
/// and a pointer to it, and the stretches where entries could not be read.
#[derive(Debug, Default)]
pub(super) struct PackScan {
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
    pub damaged_stretches: u64,
}

/// Reads every pack in `archive_dir`, so that pointers lost with a damaged
/// database can be made again. A damaged entry is skipped: reading goes on
/// at the next entry header found after it.
pub(super) fn scan(archive_dir: &Path) -> io::Result<PackScan> {
    let packs = Packs::new(archive_dir);
    let mut numbers = packs.numbers()?;
    numbers.sort_unstable();
    let mut scan = PackScan::default();
    for number in numbers {
        let file = packs.reader(number)?;
        scan_pack(number, &file, &mut scan)?;
    }
    Ok(scan)
}

/// What [`restore_pointers`] found.
#[derive(Debug, Default)]
pub(super) struct Restored {
    /// Pointers written again.
    pub restored: u64,
    /// Stretches of the packs that could not be read.
    pub damaged_stretches: u64,
}

/// Points the database in `db_dir` again at every entry in the packs of
/// `archive_dir` that it has no value for: payloads and articles outlive
/// damage to the database that pointed to them.
pub(super) fn restore_pointers(archive_dir: &Path, db_dir: &Path) -> io::Result<Restored> {
    let found = scan(archive_dir)?;
    let mut restored = Restored {
        restored: 0,
        damaged_stretches: found.damaged_stretches,
    };
    if found.entries.is_empty() {
        return Ok(restored);
    }
    let config = sled::Config::new()
        .path(db_dir)
        .cache_capacity(super::guard::CACHE_BYTES);
    let db = super::guard::open_sled_waiting(&config).map_err(io::Error::other)?;
    for chunk in found.entries.chunks(10_000) {
        let mut batch = sled::Batch::default();
        for (key, pointer) in chunk {
            if !db.contains_key(key).map_err(io::Error::other)? {
                batch.insert(key.as_slice(), pointer.as_slice());
                restored.restored += 1;
            }
        }
        db.apply_batch(batch).map_err(io::Error::other)?;
    }
    db.flush().map_err(io::Error::other)?;
    Ok(restored)
}

fn scan_pack(number: u32, file: &File, scan: &mut PackScan) -> io::Result<()> {
    let len = file.metadata()?.len();
    let mut at = 0u64;
    let mut in_damage = false;
    while at + ENTRY_HEADER_LEN as u64 <= len {
        match entry_at(file, at, len) {
            Some((key, value_len, next)) => {
                let location = Location {
                    pack: number,
                    offset: at,
                    len: value_len,
                };
                scan.entries.push((key, location.pointer()));
                at = next;
                in_damage = false;
            }
            None => {
                if !in_damage {
                    scan.damaged_stretches += 1;
                    in_damage = true;
                }
                match next_magic(file, at + 1, len)? {
                    Some(next) => at = next,
                    None => break,
                }
            }
        }
    }
    if at < len && !in_damage {
        // A tail too short for an entry: cut by a crash mid-write.
        scan.damaged_stretches += 1;
    }
    Ok(())
}

/// The key and value lengths the entry header at `at` gives, or `None`
/// when there is no entry header there.
fn header_at(file: &File, at: u64) -> io::Result<Option<(usize, u32)>> {
    let mut header = [0u8; ENTRY_HEADER_LEN];
    file.read_exact_at(&mut header, at)?;
    let key_len = usize::from(u16::from_be_bytes([header[4], header[5]]));
    let value_len = u32::from_be_bytes([header[6], header[7], header[8], header[9]]);
    Ok(
        (header[..4] == ENTRY_MAGIC && value_len <= MAX_VALUE_BYTES)
            .then_some((key_len, value_len)),
    )
}

/// The key and value of the entry at `at` whose header gives these
/// lengths, or `None` when they do not match its checksum.
fn body_at(
    file: &File,
    at: u64,
    key_len: usize,
    value_len: u32,
) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut body = vec![0u8; key_len + value_len as usize + CHECKSUM_LEN];
    file.read_exact_at(&mut body, at + ENTRY_HEADER_LEN as u64)?;
    let (key, rest) = body.split_at(key_len);
    let (value, sum) = rest.split_at(value_len as usize);
    if sum != checksum(key, value) {
        return Ok(None);
    }
    let key = key.to_vec();
    body.truncate(key_len + value_len as usize);
    body.drain(..key_len);
    Ok(Some((key, body)))
}

/// The intact entry at `at` of a pack of `len` bytes: its key, value
/// length, and where the next entry starts.
fn entry_at(file: &File, at: u64, len: u64) -> Option<(Vec<u8>, u32, u64)> {
    let (key_len, value_len) = header_at(file, at).ok()??;
    let next = at + (ENTRY_HEADER_LEN + key_len + value_len as usize + CHECKSUM_LEN) as u64;
    if next > len {
        return None;
    }
    let (key, _) = body_at(file, at, key_len, value_len).ok()??;
    Some((key, value_len, next))
}

/// The offset of the next entry magic at or after `from`.
fn next_magic(file: &File, from: u64, len: u64) -> io::Result<Option<u64>> {
    const WINDOW: usize = 64 * 1024;
    let mut start = from;
    let mut buf = vec![0u8; WINDOW];
    while start < len {
        let n = (len - start).min(WINDOW as u64) as usize;
        file.read_exact_at(&mut buf[..n], start)?;
        if let Some(i) = buf[..n]
            .windows(ENTRY_MAGIC.len())
            .position(|w| w == ENTRY_MAGIC)
        {
            return Ok(Some(start + i as u64));
        }
        if n < WINDOW {
            break;
        }
        // Overlap so that a magic across two windows is found.
        start += (n - (ENTRY_MAGIC.len() - 1)) as u64;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(n: usize, len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 + n * 7) as u8).collect()
    }

    #[test]
    fn values_go_to_a_pack_and_read_back_through_their_pointer() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::new(dir.path());
        let mut stored = Vec::new();
        for n in 0..50 {
            let key = format!("B{n}").into_bytes();
            let pointer = packs.store(&key, value(n, 600 + n * 100)).unwrap();
            assert_eq!(pointer.len(), POINTER_LEN);
            stored.push((key, pointer));
        }
        packs.sync().unwrap();
        // Another process's view: a fresh handle on the same directory.
        let reader = Packs::new(dir.path());
        for (n, (key, pointer)) in stored.iter().enumerate() {
            assert_eq!(
                reader.resolve(key, pointer).unwrap(),
                value(n, 600 + n * 100)
            );
            assert_eq!(value_len(pointer), (600 + n * 100) as u64);
        }
    }

    #[test]
    fn short_values_and_values_of_earlier_archives_are_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::new(dir.path());
        let short = packs.store(b"B1", value(1, 100)).unwrap();
        assert_eq!(short, value(1, 100));
        assert_eq!(packs.resolve(b"B1", &short).unwrap(), value(1, 100));
        // A zstd frame, as earlier archives store payloads.
        let frame = zstd::encode_all(&value(2, 4000)[..], 3).unwrap();
        assert_eq!(packs.resolve(b"B2", &frame).unwrap(), frame);
        assert!(!dir.path().join(PACK_DIR).exists(), "nothing was packed");
    }

    #[test]
    fn a_damaged_entry_or_a_pointer_to_another_key_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::new(dir.path());
        let pointer = packs.store(b"B-one", value(1, 2000)).unwrap();
        let other = packs.store(b"B-two", value(2, 2000)).unwrap();
        packs.sync().unwrap();
        assert!(packs.resolve(b"B-two", &pointer).is_err(), "wrong key");
        let path = dir.path().join(PACK_DIR).join(pack_name(1));
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[ENTRY_HEADER_LEN + 5 + 1000] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let fresh = Packs::new(dir.path());
        let err = fresh.resolve(b"B-one", &pointer).unwrap_err();
        assert!(err.contains("damaged"), "{err}");
        assert_eq!(fresh.resolve(b"B-two", &other).unwrap(), value(2, 2000));
        std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
        let cut = Packs::new(dir.path());
        assert!(cut.resolve(b"B-two", &other).is_err(), "cut short");
        let mut wild = other.clone();
        wild[5..13].copy_from_slice(&u64::MAX.to_be_bytes());
        assert!(cut.resolve(b"B-two", &wild).is_err(), "offset past the end");
    }

    #[test]
    fn the_packs_alone_say_what_they_hold_and_skip_damaged_entries() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::new(dir.path());
        let mut pointers = Vec::new();
        for n in 0..20 {
            let key = format!("B{n:02}").into_bytes();
            pointers.push((key.clone(), packs.store(&key, value(n, 700 + n)).unwrap()));
        }
        packs.sync().unwrap();
        let found = scan(dir.path()).unwrap();
        assert_eq!(found.entries, pointers);
        assert_eq!(found.damaged_stretches, 0);

        // Damage the 6th entry and cut the last one short.
        let path = dir.path().join(PACK_DIR).join(pack_name(1));
        let mut bytes = std::fs::read(&path).unwrap();
        let sixth = Location::of(&pointers[5].1).unwrap().offset as usize;
        bytes[sixth + ENTRY_HEADER_LEN + 10] ^= 0xFF;
        bytes.truncate(bytes.len() - 100);
        std::fs::write(&path, &bytes).unwrap();
        let found = scan(dir.path()).unwrap();
        let keys: Vec<_> = found.entries.iter().map(|(k, _)| k.clone()).collect();
        let expected: Vec<_> = (0..19)
            .filter(|&n| n != 5)
            .map(|n| format!("B{n:02}").into_bytes())
            .collect();
        assert_eq!(keys, expected);
        assert_eq!(found.damaged_stretches, 2);
        let reader = Packs::new(dir.path());
        for (key, pointer) in &found.entries {
            assert!(reader.resolve(key, pointer).is_ok());
        }
    }

    #[test]
    fn each_writer_starts_a_pack_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let first = Packs::new(dir.path());
        let a = first.store(b"Ba", value(1, 1000)).unwrap();
        drop(first);
        let second = Packs::new(dir.path());
        let b = second.store(b"Bb", value(2, 1000)).unwrap();
        assert_eq!(Location::of(&a).unwrap().pack, 1);
        assert_eq!(Location::of(&b).unwrap().pack, 2);
        assert_eq!(second.resolve(b"Ba", &a).unwrap(), value(1, 1000));
    }
}
