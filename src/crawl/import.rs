//! `import-warc`: captures made by other tools (Heritrix, wget,
//! browsertrix) come into the archive through the same capture → extract →
//! version path as crawled pages, so an archive can start from what an
//! institution already holds. A damaged record costs a warning, not the
//! import; a capture already held (same URL, fetch time and payload) is not
//! added again; palimpsest's own exports come back whole (identical-payload
//! and not-modified revisits, truncation, redirects).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::capture::{self, Shows};
use super::process::{ExtractedArticle, is_html};
use crate::archive::{
    Archive, ArchiveError, CaptureRecord, PassRecord, PayloadBlob, RedirectHop, Staging, Store,
    Truncation, Txn, Via,
};
use crate::canonical::CanonicalUrl;
use crate::clock::Clock;
use crate::config::CrawlConfig;
use crate::digest::ContentDigest;
use crate::export::warc::{Entry, REDIRECTS, REQUESTED_URI, WarcReader, WarcRecord, sha1_digest};
use crate::extract::{self, Profile};
use crate::frontier::Admitter;

/// Largest payload imported; a record claiming more is skipped.
const MAX_BLOCK: u64 = 256 * 1024 * 1024;

/// Errors that stop an import.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The archive could not be read or written.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// A WARC file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file, as given.
        path: String,
        /// The file system's reason.
        source: std::io::Error,
    },
}

/// What `import-warc` did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ImportReport {
    /// WARC records read (damaged stretches not counted).
    pub records: u64,
    /// Captures added to the archive.
    pub captures: u64,
    /// Versions those captures created.
    pub new_versions: u64,
    /// Records that are not HTTP responses or revisits (request, metadata,
    /// warcinfo…) or could not be used.
    pub skipped: u64,
    /// Captures already in the archive (same URL, fetch time and payload).
    pub duplicates: u64,
    /// Damaged stretches skipped (each also warned about on stderr).
    pub damaged: u64,
}

/// The response headers kept in a capture (as the crawler keeps them).
const KEPT: &[&str] = &[
    "content-type",
    "content-language",
    "etag",
    "last-modified",
    "date",
    "location",
    "x-robots-tag",
    "link",
];

struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    payload: Vec<u8>,
}

/// Parses an HTTP/1.x response as stored in a WARC response record,
/// removing chunked transfer coding and gzip/deflate content coding.
fn parse_http(block: &[u8], max: u64) -> Option<HttpResponse> {
    let split = block.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&block[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status: u16 = status_line.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let mut payload = block[split + 4..].to_vec();
    if header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        payload = dechunk(&payload).unwrap_or(payload);
    }
    match header("content-encoding").as_deref() {
        Some("gzip") | Some("x-gzip") => {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&payload[..])
                .take(max)
                .read_to_end(&mut out)
                .ok()?;
            payload = out;
        }
        Some("deflate") => {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(&payload[..])
                .take(max)
                .read_to_end(&mut out)
                .ok()?;
            payload = out;
        }
        _ => {}
    }
    let headers = headers
        .into_iter()
        .filter(|(k, _)| KEPT.contains(&k.as_str()))
        .collect();
    Some(HttpResponse {
        status,
        headers,
        payload,
    })
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

/// The URL a capture was asked for, when palimpsest's export recorded a
/// redirect (other tools' responses are captures of their target).
struct Requested {
    /// The page the capture belongs to.
    page: CanonicalUrl,
    url: String,
    redirects: Vec<RedirectHop>,
}

impl Requested {
    fn of(record: &WarcRecord, target: &CanonicalUrl) -> Self {
        let asked = record
            .header(REQUESTED_URI)
            .and_then(|u| Some((u, CanonicalUrl::parse(u).ok()?)));
        match asked {
            Some((url, page)) => Requested {
                page,
                url: url.to_string(),
                redirects: record
                    .header(REDIRECTS)
                    .and_then(|j| serde_json::from_str(j).ok())
                    .unwrap_or_default(),
            },
            None => Requested {
                page: target.clone(),
                url: target.to_string(),
                redirects: Vec::new(),
            },
        }
    }
}

/// `WARC-Truncated`: `time` as the crawler's own timeout, any other reason
/// (length, disconnect, unspecified) as a body cut short.
fn truncation(record: &WarcRecord) -> Option<Truncation> {
    match record
        .header("WARC-Truncated")?
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "time" => Some(Truncation::Time),
        _ => Some(Truncation::Length),
    }
}

/// The capture time; `None` when missing, malformed, or before 1970 (the
/// archive's keys count microseconds from then).
fn warc_date(record: &WarcRecord) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(record.header("WARC-Date")?)
        .ok()
        .map(|d| d.to_utc())
        .filter(|d| d.timestamp_micros() >= 0)
}

/// Staged bytes after which a batch is committed, whatever its record count.
const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;
/// Records after which a batch is committed.
const MAX_BATCH_RECORDS: usize = 256;

/// What became of one record.
enum Imported {
    Capture,
    /// The same URL, fetch time and payload are already in the archive.
    Duplicate,
    /// Not a response or revisit, or not usable.
    Skipped,
}

/// Imports WARC files (plain, gzip, or per-record gzip). Damaged records
/// are skipped with a warning on stderr; captures already in the archive
/// are not added again, so importing a file twice changes nothing.
pub fn import_warc(
    archive: &Archive,
    paths: &[impl AsRef<Path>],
    profiles: &HashMap<String, Arc<Profile>>,
    clock: Clock,
) -> Result<ImportReport, ImportError> {
    let now = clock.now();
    let pass = archive.pass()?.unwrap_or(PassRecord {
        number: 0,
        started_at: now,
        finished_at: Some(now),
        admitted: 0,
        watch: false,
    });
    let limits = CrawlConfig::unlimited();
    let mut admitter = Admitter::new(archive, pass, &limits)?;
    let mut report = ImportReport::default();
    // sha1 payload digests of responses seen, for revisit records.
    let mut by_sha1: HashMap<String, ContentDigest> = HashMap::new();
    for path in paths {
        let path = path.as_ref();
        let name = path.display().to_string();
        let read_error = |source| ImportError::Read {
            path: name.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut reader = WarcReader::new(file, MAX_BLOCK).map_err(read_error)?;
        let mut batch = Batch::new(archive);
        while let Some(entry) = reader.next_entry().map_err(read_error)? {
            let record = match entry {
                Entry::Record(record) => record,
                Entry::Damaged(damaged) => {
                    eprintln!("warning: {name}: {damaged}");
                    report.damaged += 1;
                    continue;
                }
            };
            report.records += 1;
            let mut ctx = Context {
                st: &mut batch.st,
                admitter: &mut admitter,
                profiles,
                by_sha1: &mut by_sha1,
                report: &mut report,
            };
            match ctx.import_record(&record)? {
                Imported::Capture => {}
                Imported::Duplicate => report.duplicates += 1,
                Imported::Skipped => report.skipped += 1,
            }
            batch.add(record.block.len());
            if batch.full() {
                batch.commit(&mut admitter)?;
            }
        }
        batch.commit(&mut admitter)?;
    }
    archive.flush()?;
    Ok(report)
}

/// How much a batch holds, and whether that is enough to commit it: kept
/// apart from the staging so the bounds can be checked without an archive.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct BatchLoad {
    records: usize,
    bytes: usize,
}

impl BatchLoad {
    /// Counts one more record of `bytes` staged bytes.
    fn push(&mut self, bytes: usize) {
        self.records += 1;
        self.bytes += bytes;
    }

    /// A few large records fill a batch as surely as many small ones: the
    /// bytes held, not only the count, bound the memory an apply needs.
    fn is_full(&self) -> bool {
        self.records >= MAX_BATCH_RECORDS || self.bytes >= MAX_BATCH_BYTES
    }
}

/// Records staged for one atomic apply, bounded by count and by bytes.
struct Batch<'a> {
    archive: &'a Archive,
    st: Staging<'a>,
    load: BatchLoad,
}

impl<'a> Batch<'a> {
    fn new(archive: &'a Archive) -> Self {
        Self {
            archive,
            st: archive.begin(),
            load: BatchLoad::default(),
        }
    }

    fn add(&mut self, bytes: usize) {
        self.load.push(bytes);
    }

    fn full(&self) -> bool {
        self.load.is_full()
    }

    fn commit(&mut self, admitter: &mut Admitter) -> Result<(), ImportError> {
        admitter.persist(&mut self.st)?;
        let st = std::mem::replace(&mut self.st, self.archive.begin());
        self.archive.commit(st)?;
        self.load = BatchLoad::default();
        Ok(())
    }
}

/// What importing one record needs.
struct Context<'s, 'a> {
    st: &'s mut Staging<'a>,
    admitter: &'s mut Admitter,
    profiles: &'s HashMap<String, Arc<Profile>>,
    by_sha1: &'s mut HashMap<String, ContentDigest>,
    report: &'s mut ImportReport,
}

/// The kinds of record that carry a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CaptureKind {
    Response,
    Revisit,
}

impl Context<'_, '_> {
    /// Imports one record as a capture when it is a usable response or revisit.
    fn import_record(&mut self, record: &WarcRecord) -> Result<Imported, ImportError> {
        let kind = match record
            .header("WARC-Type")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "response" => CaptureKind::Response,
            "revisit" => CaptureKind::Revisit,
            _ => return Ok(Imported::Skipped),
        };
        let (Some(target), Some(at)) = (record.header("WARC-Target-URI"), warc_date(record)) else {
            return Ok(Imported::Skipped);
        };
        let Ok(url) = CanonicalUrl::parse(target.trim_matches(['<', '>'])) else {
            return Ok(Imported::Skipped);
        };
        let Some(http) = parse_http(&record.block, MAX_BLOCK) else {
            return Ok(Imported::Skipped);
        };
        let payload = match kind {
            CaptureKind::Response => Some(self.store_payload(record, http.payload)?),
            CaptureKind::Revisit => self.revisited_payload(record)?,
        };
        let asked = Requested::of(record, &url);
        let (id, mut page) = self.admitter.register(self.st, &asked.page, Via::Import)?;
        let mut capture = CaptureRecord {
            requested_url: asked.url,
            final_url: url.to_string(),
            redirects: asked.redirects,
            fetched_at: at,
            status: http.status,
            request_headers: Vec::new(),
            headers: http.headers,
            payload: payload.as_ref().map(|(d, _)| *d),
            payload_len: payload.as_ref().map_or(0, |(_, p)| p.len() as u64),
            truncated: truncation(record),
            error: None,
            version: None,
        };
        if self.st.holds_capture(id, &capture)? {
            return Ok(Imported::Duplicate);
        }
        let shows = self.shows(&url, &capture, payload.map(|(_, p)| p));
        let recorded = capture::record_capture(self.st, id, &mut page, &mut capture, shows)?;
        if recorded.new_version {
            self.report.new_versions += 1;
        }
        self.st.put_page(id, &page)?;
        self.report.captures += 1;
        Ok(Imported::Capture)
    }

    /// Stores a response's payload (once per distinct body).
    fn store_payload(
        &mut self,
        record: &WarcRecord,
        payload: Vec<u8>,
    ) -> Result<(ContentDigest, Vec<u8>), ImportError> {
        let digest = ContentDigest::of(&payload);
        self.by_sha1.insert(sha1_digest(&payload), digest);
        if let Some(p) = record.header("WARC-Payload-Digest") {
            self.by_sha1.insert(p.to_string(), digest);
        }
        if !self.st.has_payload(&digest)? {
            let blob = PayloadBlob::encode(&payload).map_err(ArchiveError::Io)?;
            self.st.store_payload(&digest, blob)?;
        }
        Ok((digest, payload))
    }

    /// The payload a revisit names by digest, when its response was seen:
    /// an identical-payload revisit is a capture of that very body.
    fn revisited_payload(
        &mut self,
        record: &WarcRecord,
    ) -> Result<Option<(ContentDigest, Vec<u8>)>, ImportError> {
        let Some(digest) = record
            .header("WARC-Payload-Digest")
            .and_then(|d| self.by_sha1.get(d).copied())
        else {
            return Ok(None);
        };
        Ok(self.st.payload(&digest)?.map(|bytes| (digest, bytes)))
    }

    /// What a capture shows, as the crawler judges it: an HTML body is
    /// extracted (a body cut short is kept but not extracted); a 304
    /// confirms the latest version.
    fn shows(
        &self,
        url: &CanonicalUrl,
        capture: &CaptureRecord,
        payload: Option<Vec<u8>>,
    ) -> Shows {
        let content_type = capture.header("content-type");
        let complete_html = |body: &Vec<u8>| {
            (200..300).contains(&capture.status)
                && capture.truncated.is_none()
                && is_html(content_type, body)
        };
        match payload.filter(complete_html) {
            Some(body) => {
                let (html, _) = crate::decode::decode_html(&body, content_type);
                let profile = self.profiles.get(url.host()).map(Arc::as_ref);
                let article = extract::extract(&html, url.as_url(), profile).article;
                Shows::Article(Box::new(ExtractedArticle::new(article)))
            }
            None if capture.status == 304 => Shows::NotModified,
            None => Shows::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_responses_are_decoded() {
        let block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        let r = parse_http(block, 1 << 20).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.payload, b"hello world");
        assert_eq!(
            r.headers,
            vec![("content-type".to_string(), "text/html".to_string())]
        );
        assert!(parse_http(b"garbage", 1 << 20).is_none());
    }

    /// The loads committed when records of `sizes` bytes are imported in
    /// turn, as `import_warc` batches them (the last, partial one included).
    fn committed_loads(sizes: &[usize]) -> Vec<BatchLoad> {
        let mut committed = Vec::new();
        let mut load = BatchLoad::default();
        for &size in sizes {
            load.push(size);
            if load.is_full() {
                committed.push(std::mem::take(&mut load));
            }
        }
        if load.records > 0 {
            committed.push(load);
        }
        committed
    }

    #[test]
    fn import_batches_of_large_records_are_split_by_bytes() {
        // Forty records, far fewer than the count bound, of a quarter of
        // the byte bound each: every fourth one fills a batch.
        let quarter = MAX_BATCH_BYTES / 4;
        let committed = committed_loads(&vec![quarter; 40]);
        assert_eq!(committed.len(), 10, "{committed:?}");
        for load in &committed {
            assert_eq!(load.records, 4);
            assert!(load.bytes <= MAX_BATCH_BYTES, "{load:?}");
        }
        // One record past the byte bound is a batch on its own.
        let huge = committed_loads(&[MAX_BATCH_BYTES + 1, 10]);
        assert_eq!(huge.len(), 2, "{huge:?}");
    }

    #[test]
    fn import_batches_of_small_records_are_split_by_count() {
        let committed = committed_loads(&vec![100; 2 * MAX_BATCH_RECORDS + 10]);
        let records: Vec<usize> = committed.iter().map(|l| l.records).collect();
        assert_eq!(records, [MAX_BATCH_RECORDS, MAX_BATCH_RECORDS, 10]);
    }

    proptest::proptest! {
        /// The HTTP inside a record is as hostile as the record: any bytes,
        /// under any transfer and content coding, give a response or none.
        #[test]
        fn warc_fuzz_http_blocks_never_panic(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            chunked: bool,
            coding in 0..3usize,
        ) {
            let mut block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n".to_vec();
            if chunked {
                block.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
            }
            block.extend_from_slice(["", "Content-Encoding: gzip\r\n", "Content-Encoding: deflate\r\n"][coding].as_bytes());
            block.extend_from_slice(b"\r\n");
            block.extend_from_slice(&body);
            let _ = parse_http(&block, 1 << 16);
            let _ = parse_http(&body, 1 << 16);
        }
    }
}
