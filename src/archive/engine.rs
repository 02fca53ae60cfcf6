//! The key-value engine under the archive: sled in a directory, or one
//! table in PostgreSQL. Both hold the same keys and encodings (`keys`,
//! `record_codec`) in the same byte order; this module is the only place
//! that knows which engine holds them.

use std::ops::Bound;

use sled::IVec;

use super::Result;
use super::postgres::Kv;

/// One stored key and its value.
pub(super) type Entry = (IVec, IVec);

/// Entries in key order (or its reverse), read as they are asked for.
pub(super) type Entries<'a> = Box<dyn Iterator<Item = Result<Entry>> + 'a>;

/// Which engine holds the archive.
pub(super) enum Engine {
    Sled(sled::Db),
    Postgres(Box<Kv>),
}

/// Writes applied together: every key written or removed once.
#[derive(Default)]
pub(super) struct Writes {
    pub(super) ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// Written only where the key holds nothing yet: content-addressed
    /// blobs, which whoever stored first stored with the same content.
    pub(super) new_only: Vec<(Vec<u8>, Vec<u8>)>,
    /// Values appended to the change log, numbered when applied.
    pub(super) logged: Vec<Vec<u8>>,
    /// What crawling processes sharing a PostgreSQL archive tell each
    /// other in the same transaction (empty otherwise).
    pub(super) shared: SharedWrites,
}

/// The coordination part of a shared crawl's transaction.
#[derive(Default)]
pub(super) struct SharedWrites {
    /// Links for hosts this process does not hold: host, URL, the link.
    pub(super) routed: Vec<(String, String, Vec<u8>)>,
    /// Routed links this transaction admitted: host, URL.
    pub(super) taken: Vec<(String, String)>,
    /// The hosts this process holds: checked (a lost one fails the
    /// commit) and extended at commit.
    pub(super) held: Option<(Vec<String>, std::time::Duration)>,
    /// When routed links are due (µs since the epoch).
    pub(super) due: i64,
}

impl SharedWrites {
    fn is_empty(&self) -> bool {
        self.routed.is_empty() && self.taken.is_empty() && self.held.is_none()
    }
}

impl Writes {
    pub(super) fn insert(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push((key, Some(value)));
    }

    pub(super) fn remove(&mut self, key: Vec<u8>) {
        self.ops.push((key, None));
    }

    /// Numbers the logged changes from `last` on (one process writes a
    /// sled archive) and folds every write into one batch.
    fn into_sled(self, last: &mut u64) -> sled::Batch {
        let mut batch = sled::Batch::default();
        for value in self.logged {
            *last += 1;
            batch.insert(super::keys::change_log(*last), value);
        }
        for (key, value) in self.new_only {
            batch.insert(key, value);
        }
        for (key, value) in self.ops {
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        batch
    }
}

/// The smallest key greater than every key that starts with `prefix`, or
/// none when there is no such key (a prefix of 0xFF bytes only).
pub(super) fn prefix_end(prefix: &[u8]) -> Bound<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Bound::Excluded(end);
        }
    }
    Bound::Unbounded
}

impl Engine {
    pub(super) fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<IVec>> {
        let key = key.as_ref();
        match self {
            Engine::Sled(db) => Ok(db.get(key)?),
            Engine::Postgres(kv) => kv.get(key),
        }
    }

    /// The values of many keys, in their order: one round trip for an
    /// engine across a network.
    pub(super) fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<IVec>>> {
        match self {
            Engine::Sled(db) => keys.iter().map(|k| Ok(db.get(k)?)).collect(),
            Engine::Postgres(kv) => kv.get_many(keys),
        }
    }

    /// Whether each read is a round trip to a server (worth batching).
    pub(super) fn is_remote(&self) -> bool {
        matches!(self, Engine::Postgres(_))
    }

    pub(super) fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        let key = key.as_ref();
        match self {
            Engine::Sled(db) => Ok(db.contains_key(key)?),
            Engine::Postgres(kv) => Ok(kv.get(key)?.is_some()),
        }
    }

    /// One write on its own, outside any transaction's batch.
    pub(super) fn insert(&self, key: Vec<u8>, value: Vec<u8>) -> Result<()> {
        let mut writes = Writes::default();
        writes.insert(key, value);
        self.apply(writes, &mut 0)
    }

    /// One write on its own, unless the key already holds a value.
    pub(super) fn insert_new(&self, key: Vec<u8>, value: Vec<u8>) -> Result<()> {
        let mut writes = Writes::default();
        writes.new_only.push((key, value));
        self.apply(writes, &mut 0)
    }

    /// Applies every write or none; the logged changes are numbered after
    /// `last_logged`, which is left at the last number given.
    pub(super) fn apply(&self, writes: Writes, last_logged: &mut u64) -> Result<()> {
        match self {
            Engine::Sled(db) => {
                debug_assert!(writes.shared.is_empty(), "a sled archive has one writer");
                Ok(db.apply_batch(writes.into_sled(last_logged))?)
            }
            Engine::Postgres(kv) => kv.apply(writes, last_logged),
        }
    }

    /// The PostgreSQL connection, for what only a shared crawl does.
    pub(super) fn postgres(&self) -> Option<&Kv> {
        match self {
            Engine::Sled(_) => None,
            Engine::Postgres(kv) => Some(kv),
        }
    }

    /// Makes every applied write durable (PostgreSQL's commits already are).
    pub(super) fn flush(&self) -> Result<()> {
        match self {
            Engine::Sled(db) => {
                db.flush()?;
                Ok(())
            }
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// Bytes the engine takes on disk for the archive.
    pub(super) fn size_on_disk(&self) -> Result<u64> {
        match self {
            Engine::Sled(db) => Ok(db.size_on_disk()?),
            Engine::Postgres(kv) => kv.size_on_disk(),
        }
    }

    /// Entries whose keys start with `prefix`, in key order.
    pub(super) fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Entries<'_> {
        let prefix = prefix.as_ref();
        self.range(Bound::Included(prefix.to_vec()), prefix_end(prefix))
    }

    /// Entries from `from` on, in key order.
    pub(super) fn range_from(&self, from: Vec<u8>) -> Entries<'_> {
        self.range(Bound::Included(from), Bound::Unbounded)
    }

    /// Entries between two bounds, in key order.
    pub(super) fn range(&self, from: Bound<Vec<u8>>, to: Bound<Vec<u8>>) -> Entries<'_> {
        match self {
            Engine::Sled(db) => Box::new(db.range((from, to)).map(|kv| Ok(kv?))),
            Engine::Postgres(kv) => Box::new(kv.range(from, to, false, true)),
        }
    }

    /// Entries between two bounds, last key first.
    pub(super) fn range_rev(&self, from: Bound<Vec<u8>>, to: Bound<Vec<u8>>) -> Entries<'_> {
        match self {
            Engine::Sled(db) => Box::new(db.range((from, to)).rev().map(|kv| Ok(kv?))),
            Engine::Postgres(kv) => Box::new(kv.range(from, to, true, true)),
        }
    }

    /// The entry with the greatest key starting with `prefix`.
    pub(super) fn last_with_prefix(&self, prefix: impl AsRef<[u8]>) -> Result<Option<Entry>> {
        let prefix = prefix.as_ref();
        self.range_rev(Bound::Included(prefix.to_vec()), prefix_end(prefix))
            .next()
            .transpose()
    }

    /// The keys (without their values) whose keys start with `prefix`.
    pub(super) fn keys_with_prefix(
        &self,
        prefix: impl AsRef<[u8]>,
    ) -> impl Iterator<Item = Result<IVec>> + '_ {
        let prefix = prefix.as_ref();
        let (from, to) = (Bound::Included(prefix.to_vec()), prefix_end(prefix));
        let entries: Entries<'_> = match self {
            Engine::Sled(_) => self.range(from, to),
            // Only the keys cross the network.
            Engine::Postgres(kv) => Box::new(kv.range(from, to, false, false)),
        };
        entries.map(|kv| kv.map(|(k, _)| k))
    }

    /// Every entry, in key order.
    pub(super) fn iter(&self) -> Entries<'_> {
        self.range(Bound::Unbounded, Bound::Unbounded)
    }

    /// The sled database, for work only a directory archive does (compact,
    /// salvage, the soundness check).
    pub(super) fn sled(&self) -> Option<&sled::Db> {
        match self {
            Engine::Sled(db) => Some(db),
            Engine::Postgres(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_ends_at_its_successor() {
        assert_eq!(prefix_end(b"Q"), Bound::Excluded(b"R".to_vec()));
        assert_eq!(prefix_end(&[1, 0xFF]), Bound::Excluded(vec![2]));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), Bound::Unbounded);
        assert_eq!(prefix_end(b""), Bound::Unbounded);
    }
}
