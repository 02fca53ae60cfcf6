//! Payload codecs: how the archive stores a payload's bytes. A payload is
//! compressed either alone (a plain zstd frame, the format of every archive
//! written before deltas) or against a base: an earlier payload, the
//! previous capture of the same URL, whose bytes zstd uses as a dictionary.
//! A revisit whose page changed only a nonce or a "most read" box then costs
//! the change, not the page. A delta names its base by digest in a small
//! header; chains are bounded by [`MAX_DEPTH`] so reading stays fast.

use std::io::{self, Read};

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
        let usable = base.depth < MAX_DEPTH && !base.bytes.starts_with(&ZSTD_DICT_MAGIC);
        if !usable {
            return Self::encode(body);
        }
        let frame = zstd::bulk::Compressor::with_dictionary(LEVEL, &base.bytes)?.compress(body)?;
        let mut blob = Vec::with_capacity(DELTA_HEADER + frame.len());
        blob.extend_from_slice(&DELTA_MAGIC);
        blob.push(DELTA_FORMAT);
        blob.push(base.depth + 1);
        blob.extend_from_slice(base.digest.as_bytes());
        blob.extend_from_slice(&frame);
        Ok(Self(blob))
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
