//! Reading WARC files that may be damaged or hostile, in bounded memory.
//!
//! Two layers: [`Members`] undoes gzip member by member and, when a member
//! is corrupt, skips to the next gzip header in the raw file; the record
//! parser above it caps every header line and the header block, checks
//! that each block ends where the next record begins, and after any damage
//! resumes at the next `WARC/1.`, even in mid-line (a record cut short runs
//! straight into the next). Damage is reported as an
//! [`Entry::Damaged`] and reading goes on; only an I/O error of the file
//! itself ends it.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

/// Longest header line accepted (a longer one is damage, skipped unread).
pub const MAX_HEADER_LINE: usize = 64 * 1024;
/// Largest header block (version line and fields) of one record.
pub const MAX_HEADER: usize = 1024 * 1024;

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
/// Raw bytes that failed members may cost beyond twice the file's size.
const RESYNC_SLACK: u64 = 16 * 1024 * 1024;
/// Where reading resumes after damage (anywhere, even mid-line: a record
/// cut short runs straight into the next one).
const VERSION_PREFIX: &[u8] = b"WARC/1.";

/// One record read from a WARC file.
#[derive(Debug, Clone)]
pub struct WarcRecord {
    /// The WARC headers in file order, as written (names and values trimmed).
    pub headers: Vec<(String, String)>,
    /// The record's content block: exactly `Content-Length` bytes, or its
    /// first bytes when the block is longer than the reader keeps.
    pub block: Vec<u8>,
    /// The block was longer than the reader keeps (see
    /// [`WarcReader::keeping`]): `block` holds only its beginning.
    pub cut: bool,
}

impl WarcRecord {
    /// The first header of this name (case-insensitive), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What was wrong with a record that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Damage {
    /// A record does not start with `WARC/`; holds the line's first 60
    /// characters.
    #[error("expected a WARC version line, found {0:?}")]
    NotWarc(String),
    /// A header line longer than [`MAX_HEADER_LINE`] bytes.
    #[error("a line longer than {MAX_HEADER_LINE} bytes")]
    LineTooLong,
    /// Headers larger than [`MAX_HEADER`] bytes in all.
    #[error("headers larger than {MAX_HEADER} bytes")]
    HeaderTooLarge,
    /// A header line without a colon; holds its first 60 characters.
    #[error("malformed header line {0:?}")]
    MalformedHeader(String),
    /// The input ends before the blank line that ends the headers.
    #[error("end of input inside the headers")]
    EndInHeaders,
    /// `Content-Length` is missing or not a number.
    #[error("missing or bad Content-Length")]
    BadLength,
    /// The record claims a block larger than the reader's limit (its
    /// `Content-Length`, in bytes).
    #[error("record of {0} bytes exceeds the limit")]
    Oversize(u64),
    /// The input ends inside the block.
    #[error("record truncated: input ends inside its block")]
    Truncated,
    /// The block is not followed by the end of the record (a wrong
    /// `Content-Length`, or a record cut and followed by another).
    #[error(
        "block does not end where a record or the file ends (truncated record or wrong Content-Length)"
    )]
    Overrun,
    /// A gzip member does not decompress; holds the decoder's reason.
    #[error("compressed data is corrupt: {0}")]
    Compression(String),
}

/// A record that could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {record}: {damage}; skipped to the next readable record")]
pub struct Damaged {
    /// 1-based ordinal of the record (counting damaged ones).
    pub record: u64,
    /// What was wrong with it.
    pub damage: Damage,
}

/// What the reader found next.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A record read whole.
    Record(WarcRecord),
    /// A stretch that could not be read; reading goes on after it.
    Damaged(Damaged),
}

/// A decompression failure inside one gzip member (the file itself is readable).
#[derive(Debug)]
struct Corrupt(String);

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Corrupt {}

fn corrupt_reason(e: &io::Error) -> Option<String> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Corrupt>())
        .map(|c| c.0.clone())
}

/// Gzip members one after another; a corrupt member ends with an error and
/// the next read resumes at the next gzip header after the member's start.
struct Members<R: Read + Seek> {
    state: MemberState<R>,
    member_start: u64,
    /// Raw bytes read by members that then failed. Past `budget`, a resync
    /// starts where the failure was met instead of just after the failed
    /// member's start, so that members nested in members cannot make
    /// reading quadratic.
    wasted: u64,
    budget: u64,
}

enum MemberState<R: Read + Seek> {
    Decoding(flate2::bufread::GzDecoder<BufReader<R>>),
    Damaged(BufReader<R>),
    Done,
}

impl<R: Read + Seek> Members<R> {
    fn new(mut raw: BufReader<R>, budget: u64) -> io::Result<Self> {
        let member_start = raw.stream_position()?;
        Ok(Self {
            state: MemberState::Decoding(flate2::bufread::GzDecoder::new(raw)),
            member_start,
            wasted: 0,
            budget,
        })
    }

    /// Seeks past the damaged member's start to the next gzip header.
    fn resync(&mut self, mut raw: BufReader<R>) -> io::Result<()> {
        let failed_at = raw.stream_position()?;
        self.wasted += failed_at.saturating_sub(self.member_start);
        let from = if self.wasted <= self.budget {
            self.member_start + 1
        } else {
            failed_at.max(self.member_start + 1)
        };
        raw.seek(SeekFrom::Start(from))?;
        self.state = match next_magic(&mut raw)? {
            Some(at) => {
                self.member_start = at;
                MemberState::Decoding(flate2::bufread::GzDecoder::new(raw))
            }
            None => MemberState::Done,
        };
        Ok(())
    }
}

/// Positions `raw` at the next gzip header; its offset, or `None` at the end.
fn next_magic<R: Read + Seek>(raw: &mut BufReader<R>) -> io::Result<Option<u64>> {
    let mut matched = 0;
    loop {
        let start = raw.stream_position()?;
        let buf = raw.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        let mut found = None;
        for (i, &b) in buf.iter().enumerate() {
            matched = if b == GZIP_MAGIC[matched] {
                matched + 1
            } else if b == GZIP_MAGIC[0] {
                1
            } else {
                0
            };
            if matched == GZIP_MAGIC.len() {
                found = Some(start + i as u64 + 1 - GZIP_MAGIC.len() as u64);
                break;
            }
        }
        let n = buf.len();
        if let Some(at) = found {
            raw.seek(SeekFrom::Start(at))?;
            return Ok(Some(at));
        }
        raw.consume(n);
    }
}

impl<R: Read + Seek> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match std::mem::replace(&mut self.state, MemberState::Done) {
                MemberState::Done => return Ok(0),
                MemberState::Damaged(raw) => self.resync(raw)?,
                MemberState::Decoding(mut d) => match d.read(buf) {
                    Ok(0) => {
                        let mut raw = d.into_inner();
                        if !raw.fill_buf()?.is_empty() {
                            self.member_start = raw.stream_position()?;
                            self.state =
                                MemberState::Decoding(flate2::bufread::GzDecoder::new(raw));
                        }
                    }
                    Ok(n) => {
                        self.state = MemberState::Decoding(d);
                        return Ok(n);
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::InvalidInput
                                | io::ErrorKind::InvalidData
                                | io::ErrorKind::UnexpectedEof
                        ) =>
                    {
                        self.state = MemberState::Damaged(d.into_inner());
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            Corrupt(e.to_string()),
                        ));
                    }
                    Err(e) => return Err(e),
                },
            }
        }
    }
}

/// The decompressed stream: plain bytes, or gzip members.
enum Source<R: Read + Seek> {
    Plain(BufReader<R>),
    Gzip(Members<R>),
}

impl<R: Read + Seek> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Plain(r) => r.read(buf),
            Source::Gzip(m) => m.read(buf),
        }
    }
}

/// A line read with a cap.
enum Line {
    Text(Vec<u8>),
    /// Longer than the cap; consumed to its end and dropped.
    TooLong,
    Eof,
}

/// A buffered reader that can put bytes back (a block that overran into
/// the next record is read again when looking for that record).
struct Pushback<R: Read> {
    front: Vec<u8>,
    at: usize,
    inner: BufReader<R>,
}

impl<R: Read> Pushback<R> {
    fn fill(&mut self) -> io::Result<&[u8]> {
        if self.at < self.front.len() {
            return Ok(&self.front[self.at..]);
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        if self.at < self.front.len() {
            self.at += n;
            if self.at >= self.front.len() {
                self.front = Vec::new();
                self.at = 0;
            }
        } else {
            self.inner.consume(n);
        }
    }

    fn unread(&mut self, mut bytes: Vec<u8>) {
        bytes.extend_from_slice(&self.front[self.at..]);
        self.front = bytes;
        self.at = 0;
    }

    /// Up to `n` bytes ahead without consuming them (fewer only at the end).
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.at > 0 {
            self.front.drain(..self.at);
            self.at = 0;
        }
        while self.front.len() < n {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let take = buf.len().min(n - self.front.len());
            self.front.extend_from_slice(&buf[..take]);
            self.inner.consume(take);
        }
        Ok(&self.front[..self.front.len().min(n)])
    }

    fn read_line(&mut self, cap: usize) -> io::Result<Line> {
        let mut line = Vec::new();
        let mut too_long = false;
        loop {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Ok(match (too_long, line.is_empty()) {
                    (true, _) => Line::TooLong,
                    (false, true) => Line::Eof,
                    (false, false) => Line::Text(line),
                });
            }
            let (n, ends) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            if !too_long && line.len() + n > cap {
                too_long = true;
                line = Vec::new();
            }
            if !too_long {
                line.extend_from_slice(&buf[..n]);
            }
            self.consume(n);
            if ends {
                return Ok(if too_long {
                    Line::TooLong
                } else {
                    Line::Text(line)
                });
            }
        }
    }

    /// Consumes input up to the next occurrence of `pattern` (which must
    /// not overlap itself), leaving it to be read; `false` at the end.
    fn skip_to(&mut self, pattern: &[u8]) -> io::Result<bool> {
        let mut matched = 0;
        loop {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Ok(false);
            }
            let mut end = None;
            for (i, &b) in buf.iter().enumerate() {
                matched = if b == pattern[matched] {
                    matched + 1
                } else {
                    usize::from(b == pattern[0])
                };
                if matched == pattern.len() {
                    end = Some(i + 1);
                    break;
                }
            }
            let n = end.unwrap_or(buf.len());
            self.consume(n);
            if end.is_some() {
                self.unread(pattern.to_vec());
                return Ok(true);
            }
        }
    }

    fn skip_line_ends(&mut self) -> io::Result<()> {
        loop {
            let buf = self.fill()?;
            let n = buf
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            if n == 0 {
                return Ok(());
            }
            self.consume(n);
        }
    }

    /// Reads up to `len` bytes of block (fewer only at the end of input).
    fn read_block(&mut self, len: u64) -> io::Result<Vec<u8>> {
        let mut block = Vec::with_capacity(len.min(1 << 20) as usize);
        while (block.len() as u64) < len {
            let buf = self.fill()?;
            if buf.is_empty() {
                break;
            }
            let n = buf.len().min((len - block.len() as u64) as usize);
            block.extend_from_slice(&buf[..n]);
            self.consume(n);
        }
        Ok(block)
    }

    /// Skips up to `len` bytes; the number skipped.
    fn skip(&mut self, len: u64) -> io::Result<u64> {
        let mut skipped = 0;
        while skipped < len {
            let buf = self.fill()?;
            if buf.is_empty() {
                break;
            }
            let n = buf
                .len()
                .min((len - skipped).min(usize::MAX as u64) as usize);
            self.consume(n);
            skipped += n as u64;
        }
        Ok(skipped)
    }
}

/// Why reading one record stopped early.
enum Stop {
    Damage(Damage),
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        match corrupt_reason(&e) {
            Some(reason) => Stop::Damage(Damage::Compression(reason)),
            None => Stop::Io(e),
        }
    }
}

impl From<Damage> for Stop {
    fn from(d: Damage) -> Self {
        Stop::Damage(d)
    }
}

/// Reads WARC records from plain, whole-file-gzip or per-record-gzip input.
pub struct WarcReader<R: Read + Seek> {
    input: Pushback<Source<R>>,
    index: u64,
    /// Largest block accepted (a record claiming more is skipped).
    max_block: u64,
    /// Bytes of a block held in memory; the rest is read past.
    keep: u64,
    /// After damage: skip to the next `WARC/1.`, wherever it is.
    resyncing: bool,
    /// Damage met while checking the end of a good record, reported next.
    pending: Option<Damaged>,
}

impl<R: Read + Seek> WarcReader<R> {
    /// A reader of `input` from its current position, skipping records
    /// whose block is larger than `max_block` bytes. Fails only if `input`
    /// cannot be read or sought.
    pub fn new(input: R, max_block: u64) -> io::Result<Self> {
        let mut input = input;
        let start = input.stream_position()?;
        let len = input.seek(SeekFrom::End(0))? - start;
        input.seek(SeekFrom::Start(start))?;
        let mut raw = BufReader::with_capacity(64 * 1024, input);
        let gz = raw.fill_buf()?.starts_with(&GZIP_MAGIC[..2]);
        let source = if gz {
            Source::Gzip(Members::new(raw, 2 * len + RESYNC_SLACK)?)
        } else {
            Source::Plain(raw)
        };
        Ok(Self {
            input: Pushback {
                front: Vec::new(),
                at: 0,
                inner: BufReader::with_capacity(64 * 1024, source),
            },
            index: 0,
            max_block,
            keep: max_block,
            resyncing: false,
            pending: None,
        })
    }

    /// Holds at most `keep` bytes of a block: a longer one is read past,
    /// never into memory, and its record comes back [`WarcRecord::cut`]
    /// (a capture cut short, as a crawl cuts a body past its cap).
    pub fn keeping(mut self, keep: u64) -> Self {
        self.keep = keep.min(self.max_block);
        self
    }

    fn damaged(&mut self, damage: Damage) -> Entry {
        self.resyncing = true;
        Entry::Damaged(Damaged {
            record: self.index,
            damage,
        })
    }

    /// The next record or damaged stretch, or `None` at the end. An error
    /// is one of the underlying file, not of its contents.
    pub fn next_entry(&mut self) -> io::Result<Option<Entry>> {
        if let Some(d) = self.pending.take() {
            return Ok(Some(Entry::Damaged(d)));
        }
        while self.resyncing {
            match self.input.skip_to(VERSION_PREFIX) {
                Ok(true) => self.resyncing = false,
                Ok(false) => return Ok(None),
                Err(e) => match Stop::from(e) {
                    Stop::Io(e) => return Err(e),
                    // The next gzip member is tried on the next read.
                    Stop::Damage(_) => {}
                },
            }
        }
        match self.find_version_line() {
            Ok(None) => return Ok(None),
            Ok(Some(())) => {}
            Err(Stop::Io(e)) => return Err(e),
            Err(Stop::Damage(d)) => {
                self.index += 1;
                return Ok(Some(self.damaged(d)));
            }
        }
        self.index += 1;
        match self.record() {
            Ok(entry) => Ok(Some(entry)),
            Err(Stop::Io(e)) => Err(e),
            Err(Stop::Damage(d)) => Ok(Some(self.damaged(d))),
        }
    }

    /// Consumes lines up to and including a `WARC/` version line.
    fn find_version_line(&mut self) -> Result<Option<()>, Stop> {
        loop {
            match self.input.read_line(MAX_HEADER_LINE)? {
                Line::Eof => return Ok(None),
                Line::TooLong => return Err(Damage::LineTooLong.into()),
                Line::Text(l) if l.starts_with(b"WARC/") => return Ok(Some(())),
                Line::Text(l) if l.iter().all(u8::is_ascii_whitespace) => {}
                Line::Text(l) => {
                    let shown: String = String::from_utf8_lossy(&l)
                        .trim()
                        .chars()
                        .take(60)
                        .collect();
                    return Err(Damage::NotWarc(shown).into());
                }
            }
        }
    }

    /// The rest of a record after its version line.
    fn record(&mut self) -> Result<Entry, Stop> {
        let headers = self.headers()?;
        let len: u64 = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .ok_or(Damage::BadLength)?;
        if len > self.max_block {
            if self.input.skip(len)? < len {
                return Err(Damage::Truncated.into());
            }
            return Err(Damage::Oversize(len).into());
        }
        let kept = len.min(self.keep);
        let block = self.input.read_block(kept)?;
        if (block.len() as u64) < kept || self.input.skip(len - kept)? < len - kept {
            return Err(Damage::Truncated.into());
        }
        let cut = kept < len;
        match self.ends_cleanly() {
            Ok(true) => {}
            // What was read past is gone; resyncing starts after it.
            Ok(false) if cut => return Err(Damage::Overrun.into()),
            Ok(false) => {
                self.input.unread(block);
                return Err(Damage::Overrun.into());
            }
            Err(Stop::Damage(d)) => {
                self.resyncing = true;
                self.pending = Some(Damaged {
                    record: self.index + 1,
                    damage: d,
                });
            }
            Err(e) => return Err(e),
        }
        Ok(Entry::Record(WarcRecord {
            headers,
            block,
            cut,
        }))
    }

    /// Whether the block is followed by line ends and then the end of input
    /// or another record.
    fn ends_cleanly(&mut self) -> Result<bool, Stop> {
        self.input.skip_line_ends()?;
        let next = self.input.peek(5)?;
        Ok(next.is_empty() || next == b"WARC/")
    }

    fn headers(&mut self) -> Result<Vec<(String, String)>, Stop> {
        let mut headers = Vec::new();
        let mut size = 0;
        loop {
            let line = match self.input.read_line(MAX_HEADER_LINE)? {
                Line::Eof => return Err(Damage::EndInHeaders.into()),
                Line::TooLong => return Err(Damage::LineTooLong.into()),
                Line::Text(l) => l,
            };
            size += line.len();
            if size > MAX_HEADER {
                return Err(Damage::HeaderTooLarge.into());
            }
            let text = String::from_utf8_lossy(&line);
            let l = text.trim_end_matches(['\r', '\n']);
            if l.is_empty() {
                return Ok(headers);
            }
            match l.split_once(':') {
                Some((k, v)) => headers.push((k.trim().to_string(), v.trim().to_string())),
                None => {
                    let shown: String = l.chars().take(60).collect();
                    return Err(Damage::MalformedHeader(shown).into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    /// A gzip member of `inner`, stored (uncompressed) and with a wrong CRC:
    /// `inner`, a gzip header included, shows in it as is.
    fn broken_member(inner: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
        gz.write_all(inner).unwrap();
        let mut member = gz.finish().unwrap();
        let crc = member.len() - 8;
        member[crc] ^= 0xff;
        member
    }

    #[test]
    fn members_nested_in_failed_members_cost_a_bounded_rescan() {
        let mut nest = b"innermost".to_vec();
        for _ in 0..1500 {
            nest = broken_member(&nest);
        }
        let len = nest.len() as u64;
        let budget = len;
        let mut members = Members::new(BufReader::new(Cursor::new(nest)), budget).unwrap();
        let mut buf = vec![0; 64 * 1024];
        loop {
            match members.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => assert!(corrupt_reason(&e).is_some(), "{e}"),
            }
        }
        assert!(
            members.wasted <= 2 * len,
            "failed members cost {} bytes for a file of {len}",
            members.wasted
        );
    }
}
