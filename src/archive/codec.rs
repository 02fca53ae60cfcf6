//! Payload codecs: how the archive stores a payload's bytes. A payload is
//! compressed either alone (a plain zstd frame, the format of every archive
//! written before deltas) or against a base: an earlier payload, the
//! previous capture of the same URL, whose bytes zstd uses as a dictionary.
//! A revisit whose page changed only a nonce or a "most read" box then costs
//! the change, not the page. A delta names its base by digest in a small
//! header; chains are bounded by [`MAX_DEPTH`] so reading stays fast.

use std::io::{self, Read};
use std::sync::Arc;

use crate::digest::ContentDigest;

/// Opens a delta blob; distinct from zstd's frame magic (28 B5 2F FD), which
/// opens every plain blob.
const DELTA_MAGIC: [u8; 3] = *b"PDz";
/// The delta format's version, after the magic.
const DELTA_FORMAT: u8 = 1;
/// Magic, format, depth, base digest.
const DELTA_HEADER: usize = 3 + 1 + 1 + 32;
/// zstd's magic for a trained dictionary: a base that starts with it would
/// be read as one, not as raw content, so such a base is never used.
const ZSTD_DICT_MAGIC: [u8; 4] = [0x37, 0xA4, 0x30, 0xEC];

/// The longest chain of deltas a payload may sit at the end of: reading it
/// decompresses at most this many frames before its own.
pub(crate) const MAX_DEPTH: u8 = 4;

/// zstd's default level: about 4× on HTML at about 300 MB/s.
const LEVEL: i32 = 3;

/// A payload as stored. Compressed on the CPU stage so the archive writer
/// only moves bytes; only the archive decodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadBlob(pub(super) Vec<u8>);

/// An earlier payload offered as the base of a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaBase {
    /// The base payload's digest, named in the delta's header.
    pub(crate) digest: ContentDigest,
    /// The base payload, decompressed.
    pub(crate) bytes: Vec<u8>,
    /// How many deltas the base itself sits on (0 for a plain blob).
    pub(crate) depth: u8,
}

/// A base prepared once for many deltas: a host's reference page, which
/// every first capture of the host's other pages is compressed against.
/// Preparing indexes the base's bytes, which costs about as much as
/// compressing a page; a prepared base skips that for every page after
/// the first.
pub struct PreparedBase {
    digest: ContentDigest,
    depth: u8,
    dictionary: zstd::dict::EncoderDictionary<'static>,
    /// Bytes held, roughly: the base's copy and zstd's tables for it.
    footprint: usize,
}

impl PreparedBase {
    /// Prepares `base`, or `None` when no delta may sit on it (see
    /// [`PayloadBlob::encode_against`]).
    pub(crate) fn new(base: &DeltaBase) -> Option<Self> {
        usable(base).then(|| Self {
            digest: base.digest,
            depth: base.depth,
            dictionary: zstd::dict::EncoderDictionary::copy(&base.bytes, LEVEL),
            // zstd's tables for it, at this level: 120-280 KiB measured.
            footprint: base.bytes.len() + 384 * 1024,
        })
    }
}

/// The most bytes [`PreparedBases`] holds: a few dozen hosts' templates.
const PREPARED_BYTES: usize = 24 << 20;

/// Prepared bases kept for reuse, bounded in bytes; the least recently
/// used goes first.
#[derive(Default)]
pub(super) struct PreparedBases {
    kept: Vec<(Arc<PreparedBase>, u64)>,
    uses: u64,
}

impl PreparedBases {
    pub(super) fn get(&mut self, digest: &ContentDigest) -> Option<Arc<PreparedBase>> {
        self.uses += 1;
        let (base, last_use) = self.kept.iter_mut().find(|(b, _)| b.digest == *digest)?;
        *last_use = self.uses;
        Some(base.clone())
    }

    pub(super) fn keep(&mut self, base: Arc<PreparedBase>) {
        // Threads that missed the same base at once each prepared it: the
        // first one kept serves them all.
        if self.get(&base.digest).is_some() {
            return;
        }
        self.uses += 1;
        self.kept.push((base, self.uses));
        while self.kept.iter().map(|(b, _)| b.footprint).sum::<usize>() > PREPARED_BYTES {
            let Some(oldest) = (0..self.kept.len()).min_by_key(|&i| self.kept[i].1) else {
                break;
            };
            self.kept.swap_remove(oldest);
        }
    }
}

/// Whether a delta may sit on `base`: within [`MAX_DEPTH`], and not bytes
/// that zstd would take for a trained dictionary.
fn usable(base: &DeltaBase) -> bool {
    base.depth < MAX_DEPTH && !base.bytes.starts_with(&ZSTD_DICT_MAGIC)
}

/// How a stored blob is laid out.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Layout<'a> {
    /// A zstd frame of the whole payload.
    Plain(&'a [u8]),
    /// A zstd frame compressed with `base`'s bytes as dictionary.
    Delta {
        base: ContentDigest,
        depth: u8,
        frame: &'a [u8],
    },
}

impl PayloadBlob {
    /// Compresses a payload alone.
    pub fn encode(body: &[u8]) -> io::Result<Self> {
        zstd::encode_all(body, LEVEL).map(Self)
    }

    /// Compresses a payload against `base` when that keeps the chain within
    /// [`MAX_DEPTH`] and is smaller; alone otherwise.
    pub fn encode_against(body: &[u8], base: &DeltaBase) -> io::Result<Self> {
        if !usable(base) {
            return Self::encode(body);
        }
        let frame = zstd::bulk::Compressor::with_dictionary(LEVEL, &base.bytes)?.compress(body)?;
        Ok(Self::delta(&base.digest, base.depth, &frame))
    }

    /// Compresses a payload against a prepared base.
    pub fn encode_on(body: &[u8], base: &PreparedBase) -> io::Result<Self> {
        let frame =
            zstd::bulk::Compressor::with_prepared_dictionary(&base.dictionary)?.compress(body)?;
        Ok(Self::delta(&base.digest, base.depth, &frame))
    }

    /// A delta blob: the header naming the base, then the frame.
    fn delta(base: &ContentDigest, base_depth: u8, frame: &[u8]) -> Self {
        let mut blob = Vec::with_capacity(DELTA_HEADER + frame.len());
        blob.extend_from_slice(&DELTA_MAGIC);
        blob.push(DELTA_FORMAT);
        blob.push(base_depth + 1);
        blob.extend_from_slice(base.as_bytes());
        blob.extend_from_slice(frame);
        Self(blob)
    }

    /// Compressed alone, not on a base: fit to be a base for other pages.
    pub(crate) fn is_plain(&self) -> bool {
        !self.0.starts_with(&DELTA_MAGIC)
    }

    /// Reads a stored blob's header.
    pub(super) fn layout(bytes: &[u8]) -> io::Result<Layout<'_>> {
        if !bytes.starts_with(&DELTA_MAGIC) {
            return Ok(Layout::Plain(bytes));
        }
        if bytes.len() < DELTA_HEADER || bytes[3] != DELTA_FORMAT {
            return Err(io::Error::other("delta blob with an unknown header"));
        }
        let depth = bytes[4];
        let base = ContentDigest::from_bytes(&bytes[5..DELTA_HEADER])
            .ok_or_else(|| io::Error::other("delta blob without its base digest"))?;
        if depth == 0 || depth > MAX_DEPTH {
            return Err(io::Error::other(format!("delta chain of depth {depth}")));
        }
        Ok(Layout::Delta {
            base,
            depth,
            frame: &bytes[DELTA_HEADER..],
        })
    }

    /// How many deltas a stored blob sits on (0 for a plain blob).
    pub(super) fn depth(bytes: &[u8]) -> io::Result<u8> {
        Ok(match Self::layout(bytes)? {
            Layout::Plain(_) => 0,
            Layout::Delta { depth, .. } => depth,
        })
    }

    /// Decompresses a stored blob; `base` yields a delta's base payload.
    pub(super) fn decode(
        bytes: &[u8],
        base: impl FnOnce(&ContentDigest) -> io::Result<Vec<u8>>,
    ) -> io::Result<Vec<u8>> {
        match Self::layout(bytes)? {
            Layout::Plain(frame) => zstd::decode_all(frame),
            Layout::Delta {
                base: digest,
                frame,
                ..
            } => {
                let dictionary = base(&digest)?;
                let mut decoder = zstd::stream::read::Decoder::with_dictionary(frame, &dictionary)?;
                let mut body = Vec::new();
                decoder.read_to_end(&mut body)?;
                Ok(body)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(nonce: u32, story: &str) -> Vec<u8> {
        let mut html = format!("<html><head><script nonce=\"{nonce:08x}\"></script></head><body>");
        for i in 0..400 {
            html.push_str(&format!(
                "<li><a href=\"/section/{i}\">Section {i}</a></li>"
            ));
        }
        html.push_str(&format!("<article><p>{story}</p></article></body></html>"));
        html.into_bytes()
    }

    fn base_of(body: &[u8], blob: &PayloadBlob) -> DeltaBase {
        DeltaBase {
            digest: ContentDigest::of(body),
            bytes: body.to_vec(),
            depth: PayloadBlob::depth(&blob.0).unwrap(),
        }
    }

    #[test]
    fn a_revisit_that_changed_a_nonce_costs_the_change_not_the_page() {
        let first = page(1, "The council met on Tuesday.");
        let second = page(2, "The council met on Tuesday.");
        let plain = PayloadBlob::encode(&first).unwrap();
        let delta = PayloadBlob::encode_against(&second, &base_of(&first, &plain)).unwrap();
        assert!(
            delta.0.len() * 4 < plain.0.len(),
            "delta {} bytes, plain {} bytes",
            delta.0.len(),
            plain.0.len()
        );
        let decoded = PayloadBlob::decode(&delta.0, |d| {
            assert_eq!(*d, ContentDigest::of(&first));
            Ok(first.clone())
        })
        .unwrap();
        assert_eq!(decoded, second);
    }

    #[test]
    fn a_prepared_base_gives_the_delta_its_bytes_would() {
        let first = page(1, "The council met on Tuesday.");
        let second = page(2, "The mayor resigned on Friday.");
        let base = base_of(&first, &PayloadBlob::encode(&first).unwrap());
        let prepared = PreparedBase::new(&base).unwrap();
        let on_prepared = PayloadBlob::encode_on(&second, &prepared).unwrap();
        let against = PayloadBlob::encode_against(&second, &base).unwrap();
        assert!(on_prepared.0.len() <= against.0.len() + 8);
        assert_eq!(PayloadBlob::depth(&on_prepared.0).unwrap(), 1);
        let decoded = PayloadBlob::decode(&on_prepared.0, |d| {
            assert_eq!(*d, base.digest);
            Ok(first.clone())
        })
        .unwrap();
        assert_eq!(decoded, second);
    }

    #[test]
    fn prepared_bases_kept_stay_within_their_bytes_the_last_used_kept() {
        let mut kept = PreparedBases::default();
        let bases: Vec<DeltaBase> = (0..80)
            .map(|i| {
                let body = page(i, &format!("Story {i}."));
                base_of(&body, &PayloadBlob::encode(&body).unwrap())
            })
            .collect();
        for base in &bases {
            kept.keep(Arc::new(PreparedBase::new(base).unwrap()));
            // The first is asked for again and again: it stays.
            assert!(kept.get(&bases[0].digest).is_some());
        }
        // A base prepared twice (two threads missed it at once) is held once.
        kept.keep(Arc::new(PreparedBase::new(&bases[79]).unwrap()));
        assert_eq!(
            kept.kept
                .iter()
                .filter(|(b, _)| b.digest == bases[79].digest)
                .count(),
            1
        );
        let held: usize = kept.kept.iter().map(|(b, _)| b.footprint).sum();
        assert!(held <= PREPARED_BYTES, "{held} bytes kept");
        assert!(kept.kept.len() < bases.len());
        assert!(kept.get(&bases[79].digest).is_some());
        assert!(kept.get(&bases[1].digest).is_none());
    }

    #[test]
    fn plain_blobs_of_earlier_archives_still_decode() {
        let body = page(7, "Old archive.");
        let old = zstd::encode_all(&body[..], 3).unwrap();
        let decoded = PayloadBlob::decode(&old, |_| panic!("a plain blob has no base")).unwrap();
        assert_eq!(decoded, body);
        assert_eq!(PayloadBlob::depth(&old).unwrap(), 0);
    }

    #[test]
    fn chains_stop_at_the_maximum_depth() {
        let body = page(1, "Deep.");
        let base = DeltaBase {
            digest: ContentDigest::of(b"x"),
            bytes: body.clone(),
            depth: MAX_DEPTH,
        };
        let blob = PayloadBlob::encode_against(&body, &base).unwrap();
        assert_eq!(PayloadBlob::depth(&blob.0).unwrap(), 0);
        let below = DeltaBase {
            depth: MAX_DEPTH - 1,
            ..base
        };
        let blob = PayloadBlob::encode_against(&body, &below).unwrap();
        assert_eq!(PayloadBlob::depth(&blob.0).unwrap(), MAX_DEPTH);
    }

    #[test]
    fn a_damaged_delta_header_is_an_error_not_a_panic() {
        for bad in [
            &b"PDz"[..],
            b"PDz\x09\x01",
            b"PDz\x01\x09aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert!(PayloadBlob::decode(bad, |_| Ok(Vec::new())).is_err());
        }
    }
}
