//! `import-warc`: captures made by other tools (Heritrix, wget,
//! browsertrix) come into the archive through the same capture → extract →
//! version path as crawled pages, so an archive can start from what an
//! institution already holds. A damaged record costs a warning, not the
//! import; a capture already held (same URL, fetch time and payload) is not
//! added again; palimpsest's own exports come back whole (identical-payload
//! and not-modified revisits, truncation, redirects). The crawl's limits
//! hold: a payload past `--max-body` is cut and stored as a cut capture
//! (never held whole: the reader reads past the rest of its block, and a
//! decoder stops at the cap), and each page is parsed under the crawl's
//! budget ([`super::analyze`]).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::Semaphore;

use super::capture::{self, Shows};
use super::process::{Analysis, Analyzed, body_cut, still_encoded, undecodable};
use crate::archive::{
    Archive, ArchiveError, CaptureRecord, PassRecord, PayloadBlob, RedirectHop, Staging, Store,
    Truncation, Txn, Via,
};
use crate::canonical::CanonicalUrl;
use crate::clock::Clock;
use crate::config::CrawlConfig;
use crate::digest::ContentDigest;
use crate::export::warc::{
    Entry, MAX_HEADER, REDIRECTS, REQUESTED_URI, WarcReader, WarcRecord, sha1_digest,
};
use crate::extract::Profile;
use crate::frontier::Admitter;

/// Bytes of a record's block held beyond the body cap: room for the HTTP
/// status line and headers (as much as the reader allows WARC headers).
const HTTP_HEAD_ROOM: u64 = MAX_HEADER as u64;

/// Errors that stop an import.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The archive could not be read or written.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The runtime that supervises parsing could not start.
    #[error("cannot start the parser's supervisor: {0}")]
    Runtime(std::io::Error),
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
    /// Files in which not one record could be read (not WARC files).
    pub unreadable_files: Vec<String>,
}

impl ImportReport {
    /// Whether the files held nothing to import: no capture, new or already
    /// held, came out of them.
    pub fn found_nothing(&self) -> bool {
        self.captures == 0 && self.duplicates == 0
    }
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
    /// At most the body cap.
    payload: Vec<u8>,
    /// The payload was cut: longer than the body cap, or its record longer
    /// than the reader keeps.
    cut: bool,
}

/// Parses an HTTP/1.x response as stored in a WARC response record,
/// removing chunked transfer coding and the content codings the fetcher
/// undoes (gzip, deflate, br, zstd), keeping at most `max_body` bytes of
/// payload. `block_cut`: the block is only the beginning of the record's
/// (an incomplete chunk or compressed stream at its end is then expected).
/// A coding it does not know stays on the payload, and in its headers.
fn parse_http(block: &[u8], block_cut: bool, max_body: u64) -> Option<HttpResponse> {
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
    let mut body = block[split + 4..].to_vec();
    if header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        body = match dechunk(&body) {
            Ok(whole) => whole,
            Err(start) if block_cut => start,
            // Stored already dechunked, the header left as it was.
            Err(_) => body,
        };
    }
    let coding = header("content-encoding");
    let (payload, over, left_on) = match decoder(coding.as_deref(), &body) {
        Some(reader) => {
            let (payload, over) = read_capped(reader?, max_body, block_cut)?;
            (payload, over, None)
        }
        None => {
            let (payload, over) = read_capped(Box::new(&body[..]), max_body, block_cut)?;
            (payload, over, still_encoded(coding.as_deref()))
        }
    };
    // A coding left on the payload is kept with it, so that nothing reads
    // the payload as text (as the crawler keeps what reqwest leaves).
    let keep = |k: &str| KEPT.contains(&k) || (k == "content-encoding" && left_on.is_some());
    let headers = headers.into_iter().filter(|(k, _)| keep(k)).collect();
    Some(HttpResponse {
        status,
        headers,
        payload,
        cut: over || block_cut,
    })
}

/// A reader undoing `coding`, when it is one palimpsest undoes (`None` for
/// none, identity, or one it does not know); `Some(None)` when the
/// decoder cannot even start (a corrupt zstd frame header).
fn decoder<'a>(coding: Option<&str>, body: &'a [u8]) -> Option<Option<Box<dyn Read + 'a>>> {
    let reader: Box<dyn Read + 'a> = match still_encoded(coding)? {
        "gzip" | "x-gzip" => Box::new(flate2::read::MultiGzDecoder::new(body)),
        "deflate" => Box::new(flate2::read::ZlibDecoder::new(body)),
        "br" => Box::new(brotli_decompressor::Decompressor::new(body, 64 * 1024)),
        "zstd" => {
            let Ok(mut d) = zstd::stream::read::Decoder::new(body) else {
                return Some(None);
            };
            // HTTP's zstd windows are at most 8 MiB (RFC 9659): a frame
            // asking for more is refused, not given the memory.
            if d.window_log_max(23).is_err() {
                return Some(None);
            }
            Box::new(d)
        }
        _ => return None,
    };
    Some(Some(reader))
}

/// Up to `max_body` bytes from `reader`, and whether there was more; never
/// more than one byte past the cap in memory, whatever the compression
/// ratio. A decoding error is the end of the payload when the input was cut
/// (`input_cut`), and makes it unusable otherwise.
fn read_capped(
    reader: Box<dyn Read + '_>,
    max_body: u64,
    input_cut: bool,
) -> Option<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    if reader
        .take(max_body.saturating_add(1))
        .read_to_end(&mut out)
        .is_err()
        && !input_cut
    {
        return None;
    }
    let over = out.len() as u64 > max_body;
    out.truncate(usize::try_from(max_body).unwrap_or(usize::MAX));
    Some((out, over))
}

/// The body of a chunked message; `Err` with the data before the point
/// where it stops making sense (a record cut short ends inside a chunk).
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let Some(size) = chunk_size(body) else {
            return Err(out);
        };
        let (line_len, size) = size;
        body = &body[line_len..];
        if size == 0 {
            return Ok(out);
        }
        let data = &body[..size.min(body.len())];
        out.extend_from_slice(data);
        match body.get(data.len() + 2..) {
            Some(rest) if data.len() == size => body = rest,
            _ => return Err(out),
        }
    }
}

/// The length of a chunk-size line (CRLF included) and the size it gives.
fn chunk_size(body: &[u8]) -> Option<(usize, usize)> {
    let line_end = body.windows(2).position(|w| w == b"\r\n")?;
    let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
    let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
    Some((line_end + 2, size))
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
/// are not added again, so importing a file twice changes nothing. A
/// payload past `max_body` bytes is cut as the crawl cuts it, and each page
/// is parsed within the crawl's budget.
pub fn import_warc(
    archive: &Archive,
    paths: &[impl AsRef<Path>],
    profiles: &HashMap<String, Arc<Profile>>,
    max_body: u64,
    clock: Clock,
) -> Result<ImportReport, ImportError> {
    let supervisor =
        Supervisor::new(crate::config::DEFAULT_ANALYSIS_BUDGET).map_err(ImportError::Runtime)?;
    import_with(archive, paths, profiles, max_body, &supervisor, clock)
}

fn import_with(
    archive: &Archive,
    paths: &[impl AsRef<Path>],
    profiles: &HashMap<String, Arc<Profile>>,
    max_body: u64,
    supervisor: &Supervisor,
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
    let mut run = Run {
        admitter: Admitter::new(archive, pass, &limits)?,
        profiles,
        by_sha1: HashMap::new(),
        report: ImportReport::default(),
        max_body,
        supervisor,
    };
    for path in paths {
        run.import_file(archive, path.as_ref())?;
    }
    archive.flush()?;
    Ok(run.report)
}

/// What an import keeps from file to file.
struct Run<'r> {
    admitter: Admitter,
    profiles: &'r HashMap<String, Arc<Profile>>,
    /// sha1 payload digests of responses seen, for revisit records.
    by_sha1: HashMap<String, ContentDigest>,
    report: ImportReport,
    max_body: u64,
    supervisor: &'r Supervisor,
}

impl Run<'_> {
    /// Imports the records of one file, in batches; a file in which no
    /// record could be read is named in the report.
    fn import_file(&mut self, archive: &Archive, path: &Path) -> Result<(), ImportError> {
        let name = path.display().to_string();
        let read_error = |source| ImportError::Read {
            path: name.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        // No record is refused for its size: past the cap it is read past.
        let mut reader = WarcReader::new(file, u64::MAX)
            .map_err(read_error)?
            .keeping(self.max_body.saturating_add(HTTP_HEAD_ROOM));
        let mut batch = Batch::new(archive);
        let records_before = self.report.records;
        while let Some(entry) = reader.next_entry().map_err(read_error)? {
            let record = match entry {
                Entry::Record(record) => record,
                Entry::Damaged(damaged) => {
                    eprintln!("warning: {name}: {damaged}");
                    self.report.damaged += 1;
                    continue;
                }
            };
            self.report.records += 1;
            let mut ctx = Context {
                st: &mut batch.st,
                admitter: &mut self.admitter,
                profiles: self.profiles,
                by_sha1: &mut self.by_sha1,
                report: &mut self.report,
                max_body: self.max_body,
                supervisor: self.supervisor,
            };
            match ctx.import_record(&record)? {
                Imported::Capture => {}
                Imported::Duplicate => self.report.duplicates += 1,
                Imported::Skipped => self.report.skipped += 1,
            }
            batch.add(record.block.len());
            if batch.full() {
                batch.commit(&mut self.admitter)?;
            }
        }
        batch.commit(&mut self.admitter)?;
        if self.report.records == records_before {
            self.report.unreadable_files.push(name);
        }
        Ok(())
    }
}

/// Runs page analyses as the crawl does: on blocking threads, each holding
/// one of the CPU stage's permits, within a budget. A parse past it is left
/// to finish as the crawl leaves it (`super::analyze`).
struct Supervisor {
    runtime: Option<tokio::runtime::Runtime>,
    cpu: Arc<Semaphore>,
    overrun: Arc<Semaphore>,
    budget: Duration,
}

impl Supervisor {
    fn new(budget: Duration) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        Ok(Self {
            runtime: Some(runtime),
            cpu: Arc::new(Semaphore::new(super::cpu_slots())),
            overrun: Arc::new(Semaphore::new(super::cpu_slots())),
            budget,
        })
    }

    /// What `analysis` found, or why it found nothing (a panic, the budget).
    fn analyze(
        &self,
        analysis: Analysis,
        profile: Option<Arc<Profile>>,
        max_body: u64,
    ) -> Result<Analyzed, String> {
        let runtime = self.runtime.as_ref().expect("taken only on drop");
        runtime.block_on(async {
            let cpu = self.cpu.clone().acquire_owned().await;
            let cpu = cpu.map_err(|e| e.to_string())?;
            super::analyze(analysis, profile, max_body, cpu, &self.overrun, self.budget).await
        })
    }
}

impl Drop for Supervisor {
    /// A parse past its budget is not waited for: the import is over.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
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
    max_body: u64,
    supervisor: &'s Supervisor,
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
        let Some(http) = parse_http(&record.block, record.cut, self.max_body) else {
            return Ok(Imported::Skipped);
        };
        let cut = http.cut;
        let asked = Requested::of(record, &url);
        let payload = match kind {
            CaptureKind::Response => {
                let base = self.last_payload(&asked.page)?;
                Some(self.store_payload(record, http.payload, base)?)
            }
            CaptureKind::Revisit => self.revisited_payload(record)?,
        };
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
            // Cut here as the crawl cuts, unless another tool already had.
            truncated: truncation(record).or(cut.then_some(Truncation::Length)),
            error: cut.then(|| body_cut(self.max_body)),
            version: None,
        };
        if self.st.holds_capture(id, &capture)? {
            return Ok(Imported::Duplicate);
        }
        let shows = self.shows(&url, &mut capture, payload.map(|(_, p)| p));
        let recorded = capture::record_capture(self.st, id, &mut page, &mut capture, shows)?;
        if recorded.new_version {
            self.report.new_versions += 1;
        }
        self.st.put_page(id, &page)?;
        self.report.captures += 1;
        Ok(Imported::Capture)
    }

    /// The payload of the page's newest capture, if the page has one.
    fn last_payload(&self, page: &CanonicalUrl) -> Result<Option<ContentDigest>, ImportError> {
        let Some(id) = self.st.url_id(page)? else {
            return Ok(None);
        };
        Ok(self.st.page(id)?.and_then(|p| p.last_payload))
    }

    /// Stores a response's payload (once per distinct body), as a delta on
    /// `base`, the page's previous payload, when there is one.
    fn store_payload(
        &mut self,
        record: &WarcRecord,
        payload: Vec<u8>,
        base: Option<ContentDigest>,
    ) -> Result<(ContentDigest, Vec<u8>), ImportError> {
        let digest = ContentDigest::of(&payload);
        self.by_sha1.insert(sha1_digest(&payload), digest);
        if let Some(p) = record.header("WARC-Payload-Digest") {
            self.by_sha1.insert(p.to_string(), digest);
        }
        if !self.st.has_payload(&digest)? {
            let blob = match base.map(|b| self.st.delta_base(&b)).transpose()?.flatten() {
                Some(base) => PayloadBlob::encode_against(&payload, &base),
                None => PayloadBlob::encode(&payload),
            }
            .map_err(ArchiveError::Io)?;
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

    /// What a capture shows, as the crawler judges it: a complete 2xx body
    /// is analysed (a body cut short is kept but not analysed, nor one
    /// still in a content coding), within the crawl's budget; a 304
    /// confirms the latest version. Why a body has no analysis is the
    /// capture's error, as in a crawl.
    fn shows(
        &self,
        url: &CanonicalUrl,
        capture: &mut CaptureRecord,
        payload: Option<Vec<u8>>,
    ) -> Shows {
        let complete = (200..300).contains(&capture.status) && capture.truncated.is_none();
        let body = match payload {
            Some(body) if complete => body,
            _ if capture.status == 304 => return Shows::NotModified,
            _ => return Shows::Nothing,
        };
        if let Some(coding) = still_encoded(capture.header("content-encoding")) {
            capture.error = Some(undecodable(coding));
            return Shows::Nothing;
        }
        let content_type = capture.header("content-type").map(str::to_string);
        let analysis = Analysis::new(body, content_type, url.clone());
        let profile = self.profiles.get(url.host()).cloned();
        match self.supervisor.analyze(analysis, profile, self.max_body) {
            Ok(analyzed) => match analyzed.into_article() {
                Some(article) => Shows::Article(Box::new(article)),
                None => Shows::Nothing,
            },
            Err(reason) => {
                capture.error = Some(reason);
                Shows::Nothing
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_responses_are_decoded() {
        let block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        let r = parse_http(block, false, 1 << 20).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.payload, b"hello world");
        assert_eq!(
            r.headers,
            vec![("content-type".to_string(), "text/html".to_string())]
        );
        assert!(parse_http(b"garbage", false, 1 << 20).is_none());
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

    /// Imports one response record of `page` with `budget` for its parse;
    /// the report and the capture stored.
    fn import_slow_page(budget: Duration) -> (ImportReport, CaptureRecord) {
        let dir = tempfile::tempdir().unwrap();
        let body = format!(
            "<html><head><title>Slow</title></head><body>{}</body></html>",
            "<p>Some words in one paragraph of many.</p>".repeat(20_000)
        );
        let http = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n{body}");
        let record = format!(
            "WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: http://slow.test/\r\n\
             WARC-Date: 2025-10-01T08:00:00Z\r\nContent-Length: {}\r\n\r\n{http}\r\n\r\n",
            http.len()
        );
        let warc = dir.path().join("slow.warc");
        std::fs::write(&warc, record).unwrap();
        let archive = Archive::open(&dir.path().join("archive"), "test").unwrap();
        let supervisor = Supervisor::new(budget).unwrap();
        let profiles = HashMap::new();
        let report = import_with(
            &archive,
            &[&warc],
            &profiles,
            1 << 20,
            &supervisor,
            Clock::default(),
        )
        .unwrap();
        let (id, _) = archive.lookup("http://slow.test/").unwrap();
        let capture = archive.captures(id).next().unwrap().unwrap();
        (report, capture)
    }

    #[test]
    fn a_parse_past_the_budget_keeps_the_capture_without_its_article() {
        let (report, capture) = import_slow_page(Duration::ZERO);
        assert_eq!((report.captures, report.new_versions), (1, 0), "{report:?}");
        let error = capture.error.unwrap_or_default();
        assert!(error.contains("extraction stopped"), "{error}");
        let (report, capture) = import_slow_page(crate::config::DEFAULT_ANALYSIS_BUDGET);
        assert_eq!((report.captures, report.new_versions), (1, 1), "{report:?}");
        assert_eq!(capture.error, None);
    }

    proptest::proptest! {
        /// The HTTP inside a record is as hostile as the record: any bytes,
        /// under any transfer and content coding, give a response or none.
        #[test]
        fn warc_fuzz_http_blocks_never_panic(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            chunked: bool,
            coding in 0..5usize,
        ) {
            let mut block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n".to_vec();
            if chunked {
                block.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
            }
            let codings = ["", "gzip", "deflate", "br", "zstd"];
            if coding > 0 {
                block.extend_from_slice(format!("Content-Encoding: {}\r\n", codings[coding]).as_bytes());
            }
            block.extend_from_slice(b"\r\n");
            block.extend_from_slice(&body);
            let _ = parse_http(&block, chunked, 1 << 10);
            let _ = parse_http(&body, !chunked, 1 << 10);
        }
    }
}
