//! How records lie on disk: JSON, or JSON compressed with a dictionary that
//! the archive trained on its own records. Page and capture records repeat
//! their field names, header names, user agent, host and URL shapes; a
//! dictionary holding those turns a 600-byte capture record into well under
//! a hundred bytes, which is most of what an unchanged revisit costs.
//!
//! A compressed value is `[RECORD_FORMAT][dictionary id: u16 BE][zstd frame]`.
//! JSON never starts with that byte, so records written before the archive
//! had a dictionary (and every record of earlier archives) read as they are.
//! A dictionary is never changed once a record uses it: a newer one gets the
//! next id, and the older ones stay for reading.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Archive, ArchiveError, Result, SCHEMA_VERSION, keys};

/// First byte of a dictionary-compressed record (JSON starts with `{`, `[`,
/// `"`, a digit, or a letter of `true`/`false`/`null`).
const RECORD_FORMAT: u8 = 0x01;
const HEADER_LEN: usize = 3;
/// zstd level for records: they are small, so a higher level costs little.
const LEVEL: i32 = 6;
/// The size a trained dictionary is capped at.
pub(super) const DICTIONARY_BYTES: usize = 16 * 1024;
/// A record bigger than this once decompressed is damage, not a record.
const MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

/// Identifier of a record dictionary within one archive (1, 2, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct DictionaryId(pub u16);

/// One dictionary, with zstd contexts kept for reuse: setting up a context
/// costs more than compressing a record.
pub(super) struct Dictionary {
    id: DictionaryId,
    bytes: Vec<u8>,
    compressors: Mutex<Vec<zstd::bulk::Compressor<'static>>>,
    decompressors: Mutex<Vec<zstd::bulk::Decompressor<'static>>>,
}

impl Dictionary {
    fn compress(&self, json: &[u8]) -> std::result::Result<Vec<u8>, String> {
        let pooled = self.compressors.lock().ok().and_then(|mut p| p.pop());
        let mut compressor = match pooled {
            Some(c) => c,
            None => record_compressor(&self.bytes)?,
        };
        let mut out = Vec::with_capacity(HEADER_LEN + json.len());
        out.push(RECORD_FORMAT);
        out.extend_from_slice(&self.id.0.to_be_bytes());
        let frame = compressor.compress(json).map_err(|e| e.to_string())?;
        out.extend_from_slice(&frame);
        if let Ok(mut pool) = self.compressors.lock() {
            pool.push(compressor);
        }
        Ok(out)
    }

    /// `json` compressed, or as it is when compressing does not make it
    /// smaller.
    fn pack(&self, json: Vec<u8>) -> std::result::Result<Vec<u8>, String> {
        let packed = self.compress(&json)?;
        Ok(if packed.len() < json.len() {
            packed
        } else {
            json
        })
    }

    fn decompress(&self, frame: &[u8]) -> std::result::Result<Vec<u8>, String> {
        let size = zstd::zstd_safe::get_frame_content_size(frame)
            .map_err(|_| "not a zstd frame".to_string())?
            .ok_or("the frame does not say its size")?;
        if size > MAX_RECORD_BYTES {
            return Err(format!("a record of {size} bytes"));
        }
        let pooled = self.decompressors.lock().ok().and_then(|mut p| p.pop());
        let mut decompressor = match pooled {
            Some(d) => d,
            None => {
                zstd::bulk::Decompressor::with_dictionary(&self.bytes).map_err(|e| e.to_string())?
            }
        };
        let json = decompressor
            .decompress(frame, size as usize)
            .map_err(|e| e.to_string());
        if let Ok(mut pool) = self.decompressors.lock() {
            pool.push(decompressor);
        }
        json
    }
}

/// Encodes and decodes records for one archive.
#[derive(Default)]
pub(super) struct RecordCodec {
    dictionaries: RwLock<Dictionaries>,
    /// What the current dictionary has done so far, to tell when it no
    /// longer fits what is being written.
    yield_since_current: Mutex<Yield>,
}

/// Records encoded with the current dictionary and their sizes.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Yield {
    pub records: u64,
    pub json_bytes: u64,
    pub stored_bytes: u64,
}

impl Yield {
    /// Stored bytes per JSON byte.
    pub(super) fn ratio(&self) -> f64 {
        self.stored_bytes as f64 / self.json_bytes.max(1) as f64
    }
}

#[derive(Default)]
struct Dictionaries {
    by_id: HashMap<DictionaryId, Arc<Dictionary>>,
    /// The newest dictionary, which new records are compressed with.
    current: Option<Arc<Dictionary>>,
}

impl RecordCodec {
    /// Makes a stored dictionary known; the one with the highest id
    /// becomes the one new records use.
    pub(super) fn add_dictionary(&self, id: DictionaryId, bytes: Vec<u8>) {
        let dictionary = Arc::new(Dictionary {
            id,
            bytes,
            compressors: Mutex::new(Vec::new()),
            decompressors: Mutex::new(Vec::new()),
        });
        let mut dictionaries = self.dictionaries.write().unwrap_or_else(|e| e.into_inner());
        if dictionaries.current.as_ref().is_none_or(|c| c.id < id) {
            dictionaries.current = Some(dictionary.clone());
            *self
                .yield_since_current
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Yield::default();
        }
        dictionaries.by_id.insert(id, dictionary);
    }

    fn knows(&self, id: DictionaryId) -> bool {
        let dictionaries = self.dictionaries.read().unwrap_or_else(|e| e.into_inner());
        dictionaries.by_id.contains_key(&id)
    }

    /// How many dictionaries the archive has.
    pub(super) fn dictionaries(&self) -> usize {
        let dictionaries = self.dictionaries.read().unwrap_or_else(|e| e.into_inner());
        dictionaries.by_id.len()
    }

    /// The dictionary new records are compressed with, if there is one.
    pub(super) fn current(&self) -> Option<DictionaryId> {
        self.current_dictionary().map(|d| d.id)
    }

    /// What the current dictionary has done since it became current.
    pub(super) fn current_yield(&self) -> Yield {
        *self
            .yield_since_current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn dictionary(&self, id: DictionaryId) -> Option<Arc<Dictionary>> {
        let dictionaries = self.dictionaries.read().unwrap_or_else(|e| e.into_inner());
        dictionaries.by_id.get(&id).cloned()
    }

    /// A record as it is stored: compressed with the current dictionary
    /// when that makes it smaller, JSON otherwise.
    pub(super) fn encode<T: Serialize>(&self, value: &T) -> std::result::Result<Vec<u8>, String> {
        let json = serde_json::to_vec(value).map_err(|e| e.to_string())?;
        let Some(dictionary) = self.current_dictionary() else {
            return Ok(json);
        };
        let json_bytes = json.len() as u64;
        let stored = dictionary.pack(json)?;
        let mut tally = self
            .yield_since_current
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        tally.records += 1;
        tally.json_bytes += json_bytes;
        tally.stored_bytes += stored.len() as u64;
        Ok(stored)
    }

    /// A stored record written again with the current dictionary, or `None`
    /// when it already is (or there is no dictionary).
    pub(super) fn repack(&self, stored: &[u8]) -> std::result::Result<Option<Vec<u8>>, String> {
        let Some(dictionary) = self.current_dictionary() else {
            return Ok(None);
        };
        if stored.first() == Some(&RECORD_FORMAT)
            && stored.get(1..HEADER_LEN) == Some(&dictionary.id.0.to_be_bytes()[..])
        {
            return Ok(None);
        }
        let json = self.json_of(stored)?.into_owned();
        dictionary.pack(json).map(Some)
    }

    pub(super) fn current_dictionary(&self) -> Option<Arc<Dictionary>> {
        let dictionaries = self.dictionaries.read().unwrap_or_else(|e| e.into_inner());
        dictionaries.current.clone()
    }

    /// A stored record read back, whichever way it was stored.
    pub(super) fn decode<T: DeserializeOwned>(
        &self,
        bytes: &[u8],
    ) -> std::result::Result<T, String> {
        let json = self.json_of(bytes)?;
        serde_json::from_slice(&json).map_err(|e| e.to_string())
    }

    pub(super) fn json_of<'a>(
        &self,
        bytes: &'a [u8],
    ) -> std::result::Result<std::borrow::Cow<'a, [u8]>, String> {
        if bytes.first() != Some(&RECORD_FORMAT) {
            return Ok(std::borrow::Cow::Borrowed(bytes));
        }
        if bytes.len() < HEADER_LEN {
            return Err("a compressed record cut short".into());
        }
        let id = DictionaryId(u16::from_be_bytes([bytes[1], bytes[2]]));
        let dictionary = self.dictionary(id).ok_or_else(|| {
            format!(
                "compressed with record dictionary {}, which is missing",
                id.0
            )
        })?;
        dictionary
            .decompress(&bytes[HEADER_LEN..])
            .map(std::borrow::Cow::Owned)
    }
}

/// Records written before the first dictionary is trained: enough to show
/// the archive's hosts, URL shapes and headers.
const TRAIN_AFTER_RECORDS: u64 = 1_000;
/// A dictionary that leaves records above this share of their JSON size no
/// longer fits what is written (a good one keeps them under a tenth)…
const DEGRADED_RATIO: f64 = 0.25;
/// …judged over this many records.
const JUDGED_OVER_RECORDS: u64 = 1_000;
/// A new dictionary replaces the current one only when it packs records
/// held out of its training to this share of what the current one does.
const BETTER_BY: f64 = 0.8;
/// Records written under one dictionary before the next is trained anyway,
/// so that hosts met later are represented too.
const RETRAIN_AFTER_RECORDS: u64 = 200_000;
/// No dictionary is trained past this id: each one is kept for ever.
const LAST_DICTIONARY: u16 = 8;
/// Copies of the dictionaries beside the database: without its dictionary a
/// record cannot be read, so one damaged database value must not lose them.
pub(super) const DICTIONARY_DIR: &str = "dictionaries";

impl Archive {
    /// Decodes one stored record.
    pub(super) fn decode<T: DeserializeOwned>(&self, key: &[u8], bytes: &[u8]) -> Result<T> {
        let mut decoded = self.records.decode(bytes);
        if decoded.is_err() && self.db.sled().is_none() {
            // A reader of a PostgreSQL archive may meet a record dictionary
            // the writer trained after the reader opened.
            self.load_record_dictionaries()?;
            decoded = self.records.decode(bytes);
        }
        decoded.map_err(|reason| ArchiveError::Corrupt {
            key: String::from_utf8_lossy(key).into_owned(),
            reason,
        })
    }

    /// Makes the archive's record dictionaries known to its codec: those in
    /// the database, and the copies beside it standing in for any it lost.
    pub(super) fn load_record_dictionaries(&self) -> Result<()> {
        for kv in self.db.scan_prefix(keys::record_dictionary_prefix()) {
            let (k, v) = kv?;
            if let Some(id) = keys::decode_record_dictionary(&k) {
                self.records.add_dictionary(id, v.to_vec());
            }
        }
        if self.db.sled().is_none() {
            return Ok(());
        }
        let Ok(entries) = std::fs::read_dir(self.path.join(DICTIONARY_DIR)) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let id = name
                .to_str()
                .and_then(|n| {
                    n.strip_prefix("records-")?
                        .strip_suffix(".zdict")?
                        .parse()
                        .ok()
                })
                .map(DictionaryId);
            if let Some(id) = id.filter(|id| !self.records.knows(*id)) {
                self.records
                    .add_dictionary(id, std::fs::read(entry.path())?);
            }
        }
        Ok(())
    }

    /// Counts records written, training the next dictionary when enough
    /// were written without one, or when the current one fits them badly.
    pub(super) fn count_records_written(&self, records: u64) {
        let mut schedule = self
            .training_schedule
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        schedule.written += records;
        let due = match self.records.current() {
            None => schedule.written >= TRAIN_AFTER_RECORDS,
            Some(id) if id.0 < LAST_DICTIONARY => {
                let tally = self.records.current_yield();
                (tally.records >= schedule.judged_over && tally.ratio() > DEGRADED_RATIO)
                    || schedule.written >= RETRAIN_AFTER_RECORDS
            }
            Some(_) => false,
        };
        if !due {
            return;
        }
        // Whatever the outcome, the next attempt waits for as many records
        // again; a dictionary that did no better waits twice as long.
        schedule.written = 0;
        match self.train_record_dictionary() {
            Ok(Some(_)) => schedule.judged_over = JUDGED_OVER_RECORDS,
            Ok(None) => schedule.judged_over = schedule.judged_over.saturating_mul(2),
            Err(e) => tracing::warn!("records stay as they are: {e}"),
        }
    }

    /// Trains a dictionary on half of a sample of the stored records, and
    /// makes it the one new records are compressed with when the archive
    /// has none, or when it packs the other half a fifth smaller than the
    /// current one does; `None` when it does not.
    pub(super) fn train_record_dictionary(&self) -> Result<Option<DictionaryId>> {
        let samples = self.record_samples()?;
        let (training, held_out): (Vec<_>, Vec<_>) = samples
            .into_iter()
            .enumerate()
            .partition(|(i, _)| i % 2 == 0);
        let training: Vec<Vec<u8>> = training.into_iter().map(|(_, s)| s).collect();
        let held_out: Vec<Vec<u8>> = held_out.into_iter().map(|(_, s)| s).collect();
        let corrupt = |reason| ArchiveError::Corrupt {
            key: "record dictionary".into(),
            reason,
        };
        let bytes = train(&training).map_err(corrupt)?;
        if let Some(current) = self.records.current_dictionary() {
            let now = packed_size(&current.bytes, &held_out).map_err(corrupt)?;
            let candidate = packed_size(&bytes, &held_out).map_err(corrupt)?;
            if candidate as f64 > now as f64 * BETTER_BY {
                return Ok(None);
            }
        }
        self.keep_record_dictionary(bytes).map(Some)
    }

    /// Stores a new dictionary and makes it current.
    fn keep_record_dictionary(&self, bytes: Vec<u8>) -> Result<DictionaryId> {
        let id = DictionaryId(self.records.current().map_or(1, |c| c.0 + 1));
        if self.db.sled().is_some() {
            self.keep_dictionary_copy(id, &bytes)?;
        }
        // Durable before any record is compressed with it, with the schema
        // that tells older builds they cannot read such records.
        let key = keys::record_dictionary(id);
        self.db.insert_new(key.clone(), bytes.clone())?;
        self.db.insert(
            keys::meta("schema"),
            serde_json::to_vec(&SCHEMA_VERSION).unwrap_or_default(),
        )?;
        self.db.flush()?;
        if self.db.get(&key)?.is_some_and(|stored| *stored != *bytes) {
            // Another crawling process stored its dictionary under this id
            // first: that one is the archive's.
            self.load_record_dictionaries()?;
            return Ok(id);
        }
        self.records.add_dictionary(id, bytes);
        Ok(id)
    }

    /// Keeps a copy beside the database of every record dictionary it
    /// holds (after records arrived with their dictionaries, by `copy`).
    pub(super) fn keep_dictionary_copies(&self) -> Result<()> {
        if self.db.sled().is_none() {
            return Ok(());
        }
        for kv in self.db.scan_prefix(keys::record_dictionary_prefix()) {
            let (k, v) = kv?;
            if let Some(id) = keys::decode_record_dictionary(&k) {
                self.keep_dictionary_copy(id, &v)?;
            }
        }
        Ok(())
    }

    /// A copy beside the database, standing in for the dictionary if sled
    /// loses the record that holds it.
    fn keep_dictionary_copy(&self, id: DictionaryId, bytes: &[u8]) -> Result<()> {
        let dir = self.path.join(DICTIONARY_DIR);
        std::fs::create_dir_all(&dir)?;
        let file = dir.join(format!("records-{}.zdict", id.0));
        let tmp = file.with_extension("tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &file)?;
        Ok(())
    }

    /// A sample of the stored records (as JSON) that a dictionary is
    /// trained on: from each table its share, drawn evenly from all of it.
    fn record_samples(&self) -> Result<Vec<Vec<u8>>> {
        let mut samples = Vec::new();
        for (table, share) in [
            (keys::CAPTURES, 2_000),
            (keys::PAGES, 1_200),
            (keys::VERSIONS, 600),
            (keys::HOSTS, 200),
        ] {
            samples.extend(self.sample_table(table, share)?);
        }
        Ok(samples)
    }

    fn sample_table(&self, table: u8, share: usize) -> Result<Vec<Vec<u8>>> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
        let mut samples: Vec<Vec<u8>> = Vec::with_capacity(share);
        let mut seen = 0usize;
        for kv in self.db.scan_prefix([table]) {
            let (_, v) = kv?;
            let Ok(json) = self.records.json_of(&v) else {
                continue;
            };
            seen += 1;
            // Reservoir sampling: every record equally likely.
            if samples.len() < share {
                samples.push(json.into_owned());
            } else {
                let slot = rng.random_range(0..seen);
                if slot < share {
                    samples[slot] = json.into_owned();
                }
            }
        }
        Ok(samples)
    }
}

/// When the next record dictionary is due.
pub(super) struct TrainingSchedule {
    /// Records written since the current dictionary was trained.
    written: u64,
    /// Records the current dictionary is judged over.
    judged_over: u64,
}

impl Default for TrainingSchedule {
    fn default() -> Self {
        TrainingSchedule {
            written: 0,
            judged_over: JUDGED_OVER_RECORDS,
        }
    }
}

/// A compressor for records with the dictionary `bytes`, set as records
/// are stored.
fn record_compressor(bytes: &[u8]) -> std::result::Result<zstd::bulk::Compressor<'static>, String> {
    let mut c = zstd::bulk::Compressor::with_dictionary(LEVEL, bytes).map_err(|e| e.to_string())?;
    // The record key names the record; a checksum and the dictionary id
    // would only repeat what the header says.
    c.include_checksum(false).map_err(|e| e.to_string())?;
    c.include_dictid(false).map_err(|e| e.to_string())?;
    Ok(c)
}

/// Bytes `samples` take compressed with the dictionary `bytes`.
fn packed_size(bytes: &[u8], samples: &[Vec<u8>]) -> std::result::Result<u64, String> {
    let mut compressor = record_compressor(bytes)?;
    let mut total = 0u64;
    for sample in samples {
        let packed = compressor.compress(sample).map_err(|e| e.to_string())?;
        total += packed.len().min(sample.len()) as u64;
    }
    Ok(total)
}

/// A dictionary trained on stored records (each sample one record's JSON).
pub(super) fn train(samples: &[Vec<u8>]) -> std::result::Result<Vec<u8>, String> {
    zstd::dict::from_samples(samples, DICTIONARY_BYTES).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Capture {
        url: String,
        status: u16,
        headers: Vec<(String, String)>,
    }

    fn capture(n: usize) -> Capture {
        Capture {
            url: format!("http://news.test/story/{n}"),
            status: if n.is_multiple_of(3) { 304 } else { 200 },
            headers: vec![
                ("content-type".into(), "text/html; charset=utf-8".into()),
                ("etag".into(), format!("\"v{}-{n}\"", n % 7)),
            ],
        }
    }

    fn trained() -> RecordCodec {
        let samples: Vec<Vec<u8>> = (0..2000)
            .map(|n| serde_json::to_vec(&capture(n)).unwrap())
            .collect();
        let codec = RecordCodec::default();
        codec.add_dictionary(DictionaryId(1), train(&samples).unwrap());
        codec
    }

    #[test]
    fn records_compressed_with_a_dictionary_read_back_and_are_smaller() {
        let codec = trained();
        let record = capture(5_000);
        let json = serde_json::to_vec(&record).unwrap();
        let stored = codec.encode(&record).unwrap();
        assert_eq!(stored[0], RECORD_FORMAT);
        assert!(
            stored.len() * 2 < json.len(),
            "{} of {} bytes",
            stored.len(),
            json.len()
        );
        assert_eq!(codec.decode::<Capture>(&stored).unwrap(), record);
    }

    #[test]
    fn json_records_of_earlier_archives_still_read() {
        let codec = trained();
        let json = serde_json::to_vec(&capture(1)).unwrap();
        assert_eq!(codec.decode::<Capture>(&json).unwrap(), capture(1));
        // Without any dictionary, records are written as JSON.
        let plain = RecordCodec::default();
        assert_eq!(plain.encode(&capture(1)).unwrap(), json);
    }

    #[test]
    fn a_missing_dictionary_or_a_damaged_record_is_an_error() {
        let stored = trained().encode(&capture(9)).unwrap();
        let err = RecordCodec::default()
            .decode::<Capture>(&stored)
            .unwrap_err();
        assert!(err.contains("missing"), "{err}");
        let codec = trained();
        for cut in [1, 2, 3, 6, stored.len() - 1] {
            assert!(
                codec.decode::<Capture>(&stored[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut flipped = stored.clone();
        let last = flipped.len() - 2;
        flipped[last] ^= 0x55;
        // A flipped bit gives an error or a different record, never a panic.
        let _ = codec.decode::<Capture>(&flipped);
    }

    #[test]
    fn the_newest_dictionary_is_used_and_older_ones_still_read() {
        let codec = trained();
        let old = codec.encode(&capture(3)).unwrap();
        let samples: Vec<Vec<u8>> = (0..2000)
            .map(|n| serde_json::to_vec(&capture(n + 10_000)).unwrap())
            .collect();
        codec.add_dictionary(DictionaryId(2), train(&samples).unwrap());
        assert_eq!(codec.current(), Some(DictionaryId(2)));
        let new = codec.encode(&capture(3)).unwrap();
        assert_eq!(&new[1..3], &2u16.to_be_bytes());
        assert_eq!(codec.decode::<Capture>(&old).unwrap(), capture(3));
        assert_eq!(codec.decode::<Capture>(&new).unwrap(), capture(3));
    }

    mod in_an_archive {
        use crate::archive::{Archive, CaptureRecord, PageRecord, Store, Txn, UrlId, Via, keys};
        use crate::canonical::CanonicalUrl;

        fn page(n: u64) -> PageRecord {
            let url = CanonicalUrl::parse(&format!("http://news.test/story/{n}")).unwrap();
            PageRecord::new(
                url,
                crate::archive::HostId(1),
                "news.test".into(),
                Via::Seed,
            )
        }

        fn capture(n: u64) -> CaptureRecord {
            CaptureRecord {
                requested_url: format!("http://news.test/story/{n}"),
                final_url: format!("http://news.test/story/{n}"),
                redirects: Vec::new(),
                fetched_at: chrono::DateTime::from_timestamp(1_800_000_000 + n as i64, 0).unwrap(),
                status: 304,
                request_headers: vec![("user-agent".into(), "palimpsest/test".into())],
                headers: vec![("etag".into(), format!("\"{n}\""))],
                payload: None,
                payload_len: 0,
                truncated: None,
                error: None,
                version: None,
            }
        }

        fn write(archive: &Archive, range: std::ops::Range<u64>) {
            let mut txn = archive.begin();
            for n in range {
                txn.put_page(UrlId(n), &page(n)).unwrap();
                txn.record_capture(UrlId(n), &capture(n)).unwrap();
            }
            archive.commit(txn).unwrap();
        }

        fn all_read_back(archive: &Archive, range: std::ops::Range<u64>) -> Result<(), String> {
            for n in range {
                let stored = archive.page(UrlId(n)).map_err(|e| e.to_string())?;
                assert_eq!(stored, Some(page(n)));
                let captures: Vec<_> = archive
                    .captures(UrlId(n))
                    .collect::<Result<_, _>>()
                    .map_err(|e| e.to_string())?;
                assert_eq!(captures, vec![capture(n)]);
            }
            Ok(())
        }

        #[test]
        fn records_before_and_after_training_read_back_across_reopening() {
            let dir = tempfile::tempdir().unwrap();
            {
                let archive = Archive::open(dir.path(), "test").unwrap();
                write(&archive, 1..400);
                archive.train_record_dictionary().unwrap().unwrap();
                write(&archive, 400..800);
                let raw = archive.db.get(keys::page(UrlId(500))).unwrap().unwrap();
                assert_eq!(raw[0], super::super::RECORD_FORMAT);
                let json = serde_json::to_vec(&page(500)).unwrap();
                assert!(
                    raw.len() * 3 < json.len(),
                    "{} of {}",
                    raw.len(),
                    json.len()
                );
            }
            let archive = Archive::open(dir.path(), "test").unwrap();
            all_read_back(&archive, 1..800).unwrap();
        }

        #[test]
        fn a_dictionary_that_does_no_better_than_the_current_one_is_not_kept() {
            let dir = tempfile::tempdir().unwrap();
            let archive = Archive::open(dir.path(), "test").unwrap();
            write(&archive, 1..400);
            assert!(archive.train_record_dictionary().unwrap().is_some());
            write(&archive, 400..500);
            // The same kind of records again: nothing to gain.
            assert_eq!(archive.train_record_dictionary().unwrap(), None);
            assert_eq!(archive.records.dictionaries(), 1);
        }

        #[test]
        fn an_archive_compressing_its_records_meets_the_store_contract() {
            let trained_in = tempfile::tempdir().unwrap();
            let donor = Archive::open(trained_in.path(), "test").unwrap();
            write(&donor, 1..400);
            let id = donor.train_record_dictionary().unwrap().unwrap();
            let dictionary = donor.db.get(keys::record_dictionary(id)).unwrap().unwrap();
            let dir = tempfile::tempdir().unwrap();
            let archive = Archive::open(dir.path(), "test").unwrap();
            archive.records.add_dictionary(id, dictionary.to_vec());
            crate::archive::contract::check(&archive);
            assert!(archive.records.current_yield().records > 10);
        }

        #[test]
        fn the_copy_beside_the_database_stands_in_for_a_lost_dictionary() {
            let dir = tempfile::tempdir().unwrap();
            {
                let archive = Archive::open(dir.path(), "test").unwrap();
                write(&archive, 1..400);
                let id = archive.train_record_dictionary().unwrap().unwrap();
                write(&archive, 400..500);
                archive
                    .db
                    .sled()
                    .unwrap()
                    .remove(keys::record_dictionary(id))
                    .unwrap();
            }
            let archive = Archive::open(dir.path(), "test").unwrap();
            all_read_back(&archive, 1..500).unwrap();
            drop(archive);
            std::fs::remove_dir_all(dir.path().join(super::super::DICTIONARY_DIR)).unwrap();
            let archive = Archive::open(dir.path(), "test").unwrap();
            let err = all_read_back(&archive, 400..500).unwrap_err();
            assert!(err.contains("dictionary 1, which is missing"), "{err}");
        }
    }
}
