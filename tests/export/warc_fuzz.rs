//! Fuzzing the WARC reader (proptest): arbitrary bytes and mutated valid
//! WARCs — plain, gzip per record, gzip for the whole file — never make it
//! panic or loop, and an unmutated file reads back record for record.
//! `PROPTEST_CASES=N cargo test --release --test tests export::warc_fuzz`
//! runs it longer.

use std::io::{Cursor, Write};

use palimpsest::export::warc::{Entry, WarcReader, WarcRecord, encode_record};
use proptest::prelude::*;

/// Largest block the reader accepts here (small, so that the limit is met).
const MAX_BLOCK: u64 = 64 * 1024;

/// Reads everything; the records read. Fails if reading does not end
/// after a number of entries the input's size allows.
fn read_all(bytes: &[u8]) -> Result<Vec<WarcRecord>, TestCaseError> {
    let mut reader = WarcReader::new(Cursor::new(bytes.to_vec()), MAX_BLOCK)
        .map_err(|e| TestCaseError::fail(format!("cannot start: {e}")))?;
    let mut records = Vec::new();
    let bound = 2 * bytes.len() + 16;
    for _ in 0..bound {
        match reader.next_entry() {
            Ok(None) => return Ok(records),
            Ok(Some(Entry::Record(r))) => records.push(r),
            Ok(Some(Entry::Damaged(_))) => {}
            Err(e) => return Err(TestCaseError::fail(format!("I/O error on a Cursor: {e}"))),
        }
    }
    Err(TestCaseError::fail(format!(
        "more than {bound} entries from {} bytes: not making progress",
        bytes.len()
    )))
}

#[derive(Debug, Clone, Copy)]
enum Packing {
    Plain,
    GzipPerRecord,
    GzipWhole,
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn gunzip(member: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(member), &mut out).unwrap();
    out
}

fn pack(records: &[(String, Vec<u8>)], packing: Packing) -> Vec<u8> {
    let members: Vec<Vec<u8>> = records
        .iter()
        .map(|(kind, block)| encode_record(&[("WARC-Type", kind.clone())], block).unwrap())
        .collect();
    match packing {
        Packing::GzipPerRecord => members.concat(),
        Packing::Plain => members.iter().flat_map(|m| gunzip(m)).collect(),
        Packing::GzipWhole => gzip(&members.iter().flat_map(|m| gunzip(m)).collect::<Vec<u8>>()),
    }
}

/// Bytes that steer the reader into its interesting paths.
const TOKENS: &[&[u8]] = &[
    b"WARC/1.1\r\n",
    b"WARC/1.",
    b"Content-Length: 99999999999\r\n",
    b"Content-Length: 10\r\n",
    b"Content-Length: -1\r\n",
    b"\r\n\r\n",
    b"\n",
    &[0x1f, 0x8b, 0x08, 0x00],
    b"WARC-Type: response\r\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Token(usize, usize),
    /// A long run of one byte (an endless line, a block of zeros).
    Run(usize, u8, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        2 => any::<usize>().prop_map(Mutation::Truncate),
        2 => (any::<usize>(), 0..64usize).prop_map(|(p, n)| Mutation::Delete(p, n)),
        2 => (any::<usize>(), 0..256usize).prop_map(|(p, n)| Mutation::Duplicate(p, n)),
        3 => (any::<usize>(), 0..TOKENS.len()).prop_map(|(p, t)| Mutation::Token(p, t)),
        1 => (any::<usize>(), any::<u8>(), 0..80_000usize).prop_map(|(p, b, n)| Mutation::Run(p, b, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let at = |p: usize, len: usize| if len == 0 { 0 } else { p % (len + 1) };
    match *m {
        Mutation::Flip(p, b) if !bytes.is_empty() => {
            let i = p % bytes.len();
            bytes[i] ^= b | 1;
        }
        Mutation::Flip(..) => {}
        Mutation::Truncate(p) => bytes.truncate(at(p, bytes.len())),
        Mutation::Delete(p, n) => {
            let i = at(p, bytes.len());
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
        Mutation::Duplicate(p, n) => {
            let i = at(p, bytes.len());
            let end = (i + n).min(bytes.len());
            let copy = bytes[i..end].to_vec();
            bytes.splice(i..i, copy);
        }
        Mutation::Token(p, t) => {
            let i = at(p, bytes.len());
            bytes.splice(i..i, TOKENS[t].iter().copied());
        }
        Mutation::Run(p, b, n) => {
            let i = at(p, bytes.len());
            bytes.splice(i..i, std::iter::repeat_n(b, n));
        }
    }
}

fn records() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    prop::collection::vec(
        (
            "(response|revisit|request|metadata|warcinfo)",
            prop::collection::vec(any::<u8>(), 0..400),
        ),
        0..6,
    )
}

fn packing() -> impl Strategy<Value = Packing> {
    prop_oneof![
        Just(Packing::Plain),
        Just(Packing::GzipPerRecord),
        Just(Packing::GzipWhole)
    ]
}

proptest! {
    #[test]
    fn warc_fuzz_arbitrary_bytes_never_panic_or_loop(
        bytes in prop::collection::vec(any::<u8>(), 0..4096),
        gz_prefix in any::<bool>(),
    ) {
        let mut bytes = bytes;
        if gz_prefix {
            // Taken for gzip, so that the member decoder meets garbage too.
            bytes.splice(0..0, [0x1f, 0x8b]);
        }
        read_all(&bytes)?;
    }

    #[test]
    fn warc_fuzz_mutated_warcs_never_panic_or_loop(
        records in records(),
        packing in packing(),
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let mut bytes = pack(&records, packing);
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let read = read_all(&bytes)?;
        prop_assert!(read.len() <= records.len() + bytes.len());
    }

    #[test]
    fn warc_fuzz_valid_warcs_read_back_whole(records in records(), packing in packing()) {
        let bytes = pack(&records, packing);
        let read = read_all(&bytes)?;
        prop_assert_eq!(read.len(), records.len());
        for (got, (kind, block)) in read.iter().zip(&records) {
            prop_assert_eq!(got.header("WARC-Type"), Some(kind.as_str()));
            prop_assert_eq!(&got.block, block);
        }
    }
}
