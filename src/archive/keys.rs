//! The archive's keyspace: one sled tree, one tag byte per table, big-endian
//! integers so that range scans run in numeric (and so time) order. Private
//! to the archive: every key is built and read back here, nowhere else.
//!
//! One tree rather than one per table because `apply_batch` is atomic only
//! within a tree: a capture, its payload, its version, the links it found and
//! the frontier update it completes all land in one batch, or none do.

use super::record_codec::DictionaryId;
use super::{ChangeRow, HostId, QueueEntry, UrlId};
use crate::digest::ContentDigest;

pub(super) const META: u8 = b'M';
pub(super) const URLS: u8 = b'U';
pub(super) const PAGES: u8 = b'P';
pub(super) const QUEUE: u8 = b'Q';
pub(super) const HOSTS: u8 = b'H';
pub(super) const HOST_IDS: u8 = b'h';
pub(super) const CAPTURES: u8 = b'C';
pub(super) const PAYLOADS: u8 = b'B';
pub(super) const VERSIONS: u8 = b'V';
pub(super) const VERSION_SEEN: u8 = b'S';
pub(super) const ARTICLES: u8 = b'W';
pub(super) const CHANGES: u8 = b'T';
pub(super) const LINKS: u8 = b'L';
pub(super) const CITED_BY: u8 = b'R';
pub(super) const ADMITTED: u8 = b'A';
pub(super) const LISTINGS_ADMITTED: u8 = b'F';
pub(super) const CHANGE_LOG: u8 = b'J';

/// The tag of a source citation among the provenance edges.
pub(super) const SOURCE_EDGE: u8 = b's';

fn key(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
    k.push(tag);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

pub(super) fn meta(name: &str) -> Vec<u8> {
    key(META, &[name.as_bytes()])
}
const SCOPE_MOVED: &str = "scope-moved:";
/// The sites a seed's scope moved to when the seed redirected off-site.
pub(super) fn scope_moved(seed_host: &str) -> Vec<u8> {
    meta(&format!("{SCOPE_MOVED}{seed_host}"))
}
pub(super) fn scope_moved_prefix() -> Vec<u8> {
    meta(SCOPE_MOVED)
}
/// How far in the change log an alert target has been served.
pub(super) fn notified(target: &str) -> Vec<u8> {
    meta(&format!("notified:{target}"))
}
/// The seed host a `scope_moved` key names.
pub(super) fn scope_moved_seed(key: &[u8]) -> Option<String> {
    let rest = key.strip_prefix(scope_moved_prefix().as_slice())?;
    Some(String::from_utf8_lossy(rest).into_owned())
}
/// Whether `key` has the shape of a key of its table: its tag and length
/// for the fixed-size tables, a URL or an authority for the others. A raw
/// reading of a damaged log can give a key cut short; this refuses it.
pub(super) fn has_known_shape(key: &[u8]) -> bool {
    let Some((&tag, rest)) = key.split_first() else {
        return false;
    };
    match tag {
        PAGES | HOST_IDS | CHANGE_LOG => rest.len() == 8,
        VERSIONS | VERSION_SEEN | ARTICLES => rest.len() == 12,
        CAPTURES | ADMITTED | LISTINGS_ADMITTED => rest.len() == 16,
        CHANGES => rest.len() == 20,
        QUEUE => rest.len() == 24,
        LINKS | CITED_BY => rest.len() == 17,
        PAYLOADS => rest.len() == 32,
        URLS => rest.starts_with(b"http://") || rest.starts_with(b"https://"),
        HOSTS => !rest.is_empty() && rest.iter().all(|b| b.is_ascii_graphic()),
        META => !rest.is_empty(),
        _ => false,
    }
}

/// Whether the value under `key` is a record (JSON, or compressed with a
/// record dictionary) rather than bytes of another shape.
pub(super) fn holds_records(key: &[u8]) -> bool {
    matches!(key.first(), Some(&(PAGES | CAPTURES | VERSIONS | HOSTS)))
}
/// Whether the value under `key` is a payload or article blob, which may
/// live in a pack.
pub(super) fn holds_blobs(key: &[u8]) -> bool {
    matches!(key.first(), Some(&(PAYLOADS | ARTICLES)))
}
const RECORD_DICTIONARY: &str = "record-dict:";
/// A dictionary that records are compressed with (see `record_codec`).
pub(super) fn record_dictionary(id: DictionaryId) -> Vec<u8> {
    let mut k = meta(RECORD_DICTIONARY);
    k.extend_from_slice(&id.0.to_be_bytes());
    k
}
pub(super) fn record_dictionary_prefix() -> Vec<u8> {
    meta(RECORD_DICTIONARY)
}
/// The id a `record_dictionary` key names.
pub(super) fn decode_record_dictionary(key: &[u8]) -> Option<DictionaryId> {
    let rest = key.strip_prefix(record_dictionary_prefix().as_slice())?;
    Some(DictionaryId(u16::from_be_bytes(rest.try_into().ok()?)))
}
pub(super) fn url(url: &str) -> Vec<u8> {
    key(URLS, &[url.as_bytes()])
}
/// The value of a `url` key: the page's id.
pub(super) fn url_id_value(id: UrlId) -> Vec<u8> {
    id.0.to_be_bytes().to_vec()
}
pub(super) fn decode_url_id_value(value: &[u8]) -> Option<UrlId> {
    u64_at(value, 0).map(UrlId)
}
pub(super) fn page(id: UrlId) -> Vec<u8> {
    key(PAGES, &[&id.0.to_be_bytes()])
}
pub(super) fn decode_page(key: &[u8]) -> Option<UrlId> {
    (key.first() == Some(&PAGES)).then(|| u64_at(key, 1).map(UrlId))?
}
pub(super) fn host(authority: &str) -> Vec<u8> {
    key(HOSTS, &[authority.as_bytes()])
}
pub(super) fn host_id(id: HostId) -> Vec<u8> {
    key(HOST_IDS, &[&id.0.to_be_bytes()])
}
pub(super) fn queue(entry: &QueueEntry) -> Vec<u8> {
    key(
        QUEUE,
        &[
            &entry.host.0.to_be_bytes(),
            &entry.due.to_be_bytes(),
            &entry.url.0.to_be_bytes(),
        ],
    )
}
pub(super) fn decode_queue(key: &[u8]) -> Option<QueueEntry> {
    if key.first() != Some(&QUEUE) {
        return None;
    }
    Some(QueueEntry {
        host: HostId(u64_at(key, 1)?),
        due: u64_at(key, 9)?,
        url: UrlId(u64_at(key, 17)?),
    })
}
pub(super) fn queue_host_prefix(host: HostId) -> Vec<u8> {
    key(QUEUE, &[&host.0.to_be_bytes()])
}
pub(super) fn capture(url: UrlId, at: u64) -> Vec<u8> {
    key(CAPTURES, &[&url.0.to_be_bytes(), &at.to_be_bytes()])
}
pub(super) fn captures_of(url: UrlId) -> Vec<u8> {
    key(CAPTURES, &[&url.0.to_be_bytes()])
}
pub(super) fn payload(digest: &ContentDigest) -> Vec<u8> {
    key(PAYLOADS, &[digest.as_bytes()])
}
pub(super) fn decode_payload(key: &[u8]) -> Option<ContentDigest> {
    ContentDigest::from_bytes(key.strip_prefix(&[PAYLOADS])?)
}
pub(super) fn version(url: UrlId, number: u32) -> Vec<u8> {
    key(VERSIONS, &[&url.0.to_be_bytes(), &number.to_be_bytes()])
}
pub(super) fn versions_of(url: UrlId) -> Vec<u8> {
    key(VERSIONS, &[&url.0.to_be_bytes()])
}
pub(super) fn article(url: UrlId, number: u32) -> Vec<u8> {
    key(ARTICLES, &[&url.0.to_be_bytes(), &number.to_be_bytes()])
}
pub(super) fn version_seen(url: UrlId, number: u32) -> Vec<u8> {
    key(VERSION_SEEN, &[&url.0.to_be_bytes(), &number.to_be_bytes()])
}

/// The key of the changes index: versions in time order.
pub(super) struct ChangeKey;

impl ChangeKey {
    pub fn encode(row: &ChangeRow) -> Vec<u8> {
        key(
            CHANGES,
            &[
                &row.at.to_be_bytes(),
                &row.url.0.to_be_bytes(),
                &row.number.to_be_bytes(),
            ],
        )
    }

    /// The first key at or after time `at`.
    pub fn from_time(at: u64) -> Vec<u8> {
        Self::encode(&ChangeRow {
            at,
            url: UrlId(0),
            number: 0,
        })
    }

    pub fn decode(key: &[u8]) -> Option<ChangeRow> {
        if key.first() != Some(&CHANGES) {
            return None;
        }
        Some(ChangeRow {
            at: u64_at(key, 1)?,
            url: UrlId(u64_at(key, 9)?),
            number: u32_at(key, 17)?,
        })
    }
}

/// The change log: every version in the order its transaction committed,
/// under a sequence number, with the version's change row as value.
pub(super) fn change_log(seq: u64) -> Vec<u8> {
    key(CHANGE_LOG, &[&seq.to_be_bytes()])
}
pub(super) fn decode_change_log(key: &[u8]) -> Option<u64> {
    (key.first() == Some(&CHANGE_LOG)).then(|| u64_at(key, 1))?
}
/// A change log value: the change row's fields, then 1 if the version was
/// made by `reextract`.
pub(super) fn change_log_value(row: &ChangeRow, reextracted: bool) -> Vec<u8> {
    let mut v = ChangeKey::encode(row)[1..].to_vec();
    v.push(u8::from(reextracted));
    v
}
pub(super) fn decode_change_log_value(value: &[u8]) -> Option<(ChangeRow, bool)> {
    let (flag, row) = value.split_last()?;
    let mut k = vec![CHANGES];
    k.extend_from_slice(row);
    Some((ChangeKey::decode(&k)?, *flag == 1))
}

pub(super) fn link(from: UrlId, kind: u8, to: UrlId) -> Vec<u8> {
    key(
        LINKS,
        &[&from.0.to_be_bytes(), &[kind], &to.0.to_be_bytes()],
    )
}
pub(super) fn cited_by(to: UrlId, kind: u8, from: UrlId) -> Vec<u8> {
    key(
        CITED_BY,
        &[&to.0.to_be_bytes(), &[kind], &from.0.to_be_bytes()],
    )
}
pub(super) fn cited_by_prefix(to: UrlId) -> Vec<u8> {
    key(CITED_BY, &[&to.0.to_be_bytes()])
}
/// The citing page a `cited_by` key names.
pub(super) fn decode_cited_by(key: &[u8]) -> Option<UrlId> {
    (key.first() == Some(&CITED_BY)).then(|| u64_at(key, 10).map(UrlId))?
}
pub(super) fn admitted(pass: u64, host: HostId) -> Vec<u8> {
    key(ADMITTED, &[&pass.to_be_bytes(), &host.0.to_be_bytes()])
}

pub(super) fn listings_admitted(pass: u64, host: HostId) -> Vec<u8> {
    key(
        LISTINGS_ADMITTED,
        &[&pass.to_be_bytes(), &host.0.to_be_bytes()],
    )
}

fn u64_at(key: &[u8], offset: usize) -> Option<u64> {
    key.get(offset..offset + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
}

fn u32_at(key: &[u8], offset: usize) -> Option<u32> {
    key.get(offset..offset + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_the_archive_writes_has_a_known_shape_and_a_cut_one_does_not() {
        let entry = QueueEntry {
            host: HostId(7),
            due: 99,
            url: UrlId(3),
        };
        let change = ChangeRow {
            at: 5,
            url: UrlId(1),
            number: 2,
        };
        let written = [
            meta("schema"),
            record_dictionary(DictionaryId(1)),
            url("https://news.test/a"),
            page(UrlId(1)),
            host("news.test:8080"),
            host_id(HostId(2)),
            queue(&entry),
            capture(UrlId(1), 42),
            payload(&ContentDigest::of(b"x")),
            version(UrlId(1), 2),
            article(UrlId(1), 2),
            version_seen(UrlId(1), 2),
            ChangeKey::encode(&change),
            change_log(9),
            link(UrlId(1), SOURCE_EDGE, UrlId(2)),
            cited_by(UrlId(2), SOURCE_EDGE, UrlId(1)),
            admitted(1, HostId(2)),
            listings_admitted(1, HostId(2)),
        ];
        for key in &written {
            assert!(has_known_shape(key), "{key:?}");
            if ![META, HOSTS, URLS].contains(&key[0]) {
                assert!(!has_known_shape(&key[..key.len() - 1]), "cut: {key:?}");
            }
        }
        // The tail of a key that lost its first bytes.
        assert!(!has_known_shape(&url("https://news.test/a")[3..]));
        assert!(!has_known_shape(&[]));
    }

    #[test]
    fn typed_keys_decode_what_they_encode() {
        let entry = QueueEntry {
            host: HostId(7),
            due: 1_700_000_000_000_000,
            url: UrlId(42),
        };
        assert_eq!(decode_queue(&queue(&entry)), Some(entry));
        let change = ChangeRow {
            at: 99,
            url: UrlId(3),
            number: 2,
        };
        assert_eq!(ChangeKey::decode(&ChangeKey::encode(&change)), Some(change));
        assert_eq!(decode_page(&page(UrlId(5))), Some(UrlId(5)));
        assert_eq!(
            decode_cited_by(&cited_by(UrlId(1), SOURCE_EDGE, UrlId(9))),
            Some(UrlId(9))
        );
        assert_eq!(
            scope_moved_seed(&scope_moved("a.test")).as_deref(),
            Some("a.test")
        );
        let digest = ContentDigest::of(b"x");
        assert_eq!(decode_payload(&payload(&digest)), Some(digest));
        assert_eq!(decode_queue(&page(UrlId(5))), None);
    }

    #[test]
    fn keys_are_byte_compatible_with_the_schema() {
        // Archives written before keys were typed must still be read.
        assert_eq!(page(UrlId(1)), [b'P', 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(
            version(UrlId(1), 2),
            [b'V', 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2]
        );
        assert_eq!(url("http://a.test/"), b"Uhttp://a.test/");
        assert_eq!(meta("pass"), b"Mpass");
        assert_eq!(
            cited_by(UrlId(2), SOURCE_EDGE, UrlId(3)),
            [b'R', 0, 0, 0, 0, 0, 0, 0, 2, b's', 0, 0, 0, 0, 0, 0, 0, 3]
        );
    }
}
