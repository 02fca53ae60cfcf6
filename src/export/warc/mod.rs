//! WARC 1.1 (ISO 28500): writing captures out, reading them back in.
//!
//! Every record is its own gzip member (readers such as warcio and pywb
//! require it; one gzip stream for a whole file is rejected). A payload
//! already written in this export becomes a `revisit` record (profile
//! identical-payload-digest), a 304 a `revisit` (server-not-modified); the
//! extracted article is a `metadata` record concurrent to its response.
//! Dates carry the fraction of a second and a redirected capture names the
//! URL asked for, so that `import-warc` gives back the very captures.
//! Reading, of files that may be damaged, is `read`.

mod read;

pub use read::{Damage, Damaged, Entry, MAX_HEADER, MAX_HEADER_LINE, WarcReader, WarcRecord};

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use data_encoding::BASE32;
use sha1::{Digest, Sha1};

use super::{AtomicOutput, Filter, Result};
use crate::archive::{Archive, CaptureRecord, PageRecord, Store, Truncation, UrlId};
use crate::digest::ContentDigest;

const IDENTICAL_PAYLOAD: &str = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest";
const NOT_MODIFIED: &str = "http://netpreserve.org/warc/1.1/revisit/server-not-modified";
/// palimpsest's own fields: the URL first requested, and the redirect hops
/// (JSON) that led from it to `WARC-Target-URI`.
pub(crate) const REQUESTED_URI: &str = "Palimpsest-Requested-URI";
pub(crate) const REDIRECTS: &str = "Palimpsest-Redirects";

/// `sha1:` + base32, the digest form WARC tools expect.
pub(crate) fn sha1_digest(bytes: &[u8]) -> String {
    format!("sha1:{}", BASE32.encode(&Sha1::digest(bytes)))
}

/// With the fraction of a second (WARC 1.1 allows it), so that an import
/// gives back the very capture times.
fn warc_date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// A stable record id: the same capture exports to the same id.
fn record_id(kind: &str, uri: &str, at: DateTime<Utc>) -> String {
    let h = blake3::hash(format!("{kind}\n{uri}\n{}", at.timestamp_micros()).as_bytes());
    let b = h.as_bytes();
    // Formatted as a version-8 (custom) UUID.
    format!(
        "<urn:uuid:{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-8{:01x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}>",
        b[0],
        b[1],
        b[2],
        b[3],
        b[4],
        b[5],
        b[6] & 0x0f,
        b[7],
        (b[8] & 0x3f) | 0x80,
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    )
}

/// Encodes one record as a gzip member.
pub fn encode_record(headers: &[(&str, String)], block: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"WARC/1.1\r\n")?;
    for (k, v) in headers {
        write!(gz, "{k}: {v}\r\n")?;
    }
    write!(gz, "Content-Length: {}\r\n\r\n", block.len())?;
    gz.write_all(block)?;
    gz.write_all(b"\r\n\r\n")?;
    gz.finish()
}

/// Where records go: one file, or a series split at a size.
pub(crate) enum Sink<'a> {
    Stream(&'a mut dyn Write),
    Files {
        first: PathBuf,
        max_size: u64,
        current: Option<AtomicOutput>,
        written: Vec<PathBuf>,
    },
}

impl<'a> Sink<'a> {
    pub(crate) fn files(first: &Path, max_size: u64) -> Self {
        Sink::Files {
            first: first.to_path_buf(),
            max_size,
            current: None,
            written: Vec::new(),
        }
    }

    /// The n-th file name: `out.warc.gz`, `out-00002.warc.gz`, …
    fn nth_name(first: &Path, n: usize) -> PathBuf {
        if n == 0 {
            return first.to_path_buf();
        }
        let name = first
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (stem, ext) = match name.find(".warc") {
            Some(i) => name.split_at(i),
            None => (name.as_str(), ""),
        };
        first.with_file_name(format!("{stem}-{:05}{ext}", n + 1))
    }

    /// The files written, once all are committed.
    pub(crate) fn finish(self) -> Result<Vec<PathBuf>> {
        match self {
            Sink::Stream(s) => {
                s.flush()?;
                Ok(Vec::new())
            }
            Sink::Files {
                current,
                mut written,
                ..
            } => {
                if let Some(c) = current {
                    written.push(c.commit()?);
                }
                Ok(written)
            }
        }
    }
}

/// Writes captures as WARC records.
pub(crate) struct WarcWriter<'a> {
    sink: Sink<'a>,
    /// First response of each payload: (record id, target URI, date).
    seen: HashMap<ContentDigest, (String, String, String)>,
    pub(crate) records: u64,
}

impl<'a> WarcWriter<'a> {
    pub(crate) fn new(sink: Sink<'a>) -> Self {
        Self {
            sink,
            seen: HashMap::new(),
            records: 0,
        }
    }

    fn warcinfo(filename: &str) -> std::io::Result<Vec<u8>> {
        let now = Utc::now();
        let fields = format!(
            "software: palimpsest/{}\r\nformat: WARC File Format 1.1\r\nconformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n",
            env!("CARGO_PKG_VERSION")
        );
        encode_record(
            &[
                ("WARC-Type", "warcinfo".into()),
                ("WARC-Record-ID", record_id("warcinfo", filename, now)),
                ("WARC-Date", warc_date(now)),
                ("WARC-Filename", filename.into()),
                ("Content-Type", "application/warc-fields".into()),
            ],
            fields.as_bytes(),
        )
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match &mut self.sink {
            Sink::Stream(s) => {
                if self.records == 0 {
                    s.write_all(&Self::warcinfo("-")?)?;
                }
                s.write_all(bytes)?;
            }
            Sink::Files {
                first,
                max_size,
                current,
                written,
            } => {
                if let Some(c) = current.as_mut()
                    && c.len() + bytes.len() as u64 > *max_size
                    && !c.is_empty()
                    && let Some(full) = current.take()
                {
                    written.push(full.commit()?);
                }
                if current.is_none() {
                    let path = Self::path_for(first, written.len());
                    let mut out = AtomicOutput::create(&path)?;
                    let name = path
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    out.write_all(&Self::warcinfo(&name)?)?;
                    *current = Some(out);
                }
                if let Some(c) = current.as_mut() {
                    c.write_all(bytes)?;
                }
            }
        }
        self.records += 1;
        Ok(())
    }

    fn path_for(first: &Path, n: usize) -> PathBuf {
        Sink::nth_name(first, n)
    }

    /// Writes one capture: request, response (or revisit), and the
    /// article's metadata record when `article_json` is given.
    pub(crate) fn capture(
        &mut self,
        capture: &CaptureRecord,
        payload: Option<&[u8]>,
        article_json: Option<&str>,
    ) -> Result<()> {
        let uri = capture.final_url.clone();
        let date = warc_date(capture.fetched_at);
        let response_id = record_id("response", &uri, capture.fetched_at);
        let http_head = http_response_head(capture, payload.map_or(0, |p| p.len()));
        let mut block = http_head.into_bytes();
        let mut headers: Vec<(&str, String)> = vec![
            ("WARC-Record-ID", response_id.clone()),
            ("WARC-Date", date.clone()),
            ("WARC-Target-URI", uri.clone()),
            ("Content-Type", "application/http; msgtype=response".into()),
        ];
        // The URL asked for, when a redirect led elsewhere: an import files
        // the capture under it, as the crawl did.
        if capture.requested_url != capture.final_url || !capture.redirects.is_empty() {
            headers.push((REQUESTED_URI, capture.requested_url.clone()));
            headers.push((REDIRECTS, serde_json::to_string(&capture.redirects)?));
        }
        let earlier = capture.payload.and_then(|d| self.seen.get(&d).cloned());
        match (capture.status, payload, earlier) {
            (304, _, _) => {
                headers.insert(0, ("WARC-Type", "revisit".into()));
                headers.push(("WARC-Profile", NOT_MODIFIED.into()));
            }
            (_, Some(p), Some((first_id, first_uri, first_date))) => {
                headers.insert(0, ("WARC-Type", "revisit".into()));
                headers.push(("WARC-Profile", IDENTICAL_PAYLOAD.into()));
                headers.push(("WARC-Refers-To", first_id));
                headers.push(("WARC-Refers-To-Target-URI", first_uri));
                headers.push(("WARC-Refers-To-Date", first_date));
                headers.push(("WARC-Payload-Digest", sha1_digest(p)));
            }
            (_, payload, None) => {
                headers.insert(0, ("WARC-Type", "response".into()));
                let p = payload.unwrap_or_default();
                headers.push(("WARC-Payload-Digest", sha1_digest(p)));
                block.extend_from_slice(p);
                if let Some(d) = capture.payload {
                    self.seen
                        .insert(d, (response_id.clone(), uri.clone(), date.clone()));
                }
            }
            (_, None, Some(_)) => {
                headers.insert(0, ("WARC-Type", "response".into()));
                headers.push(("WARC-Payload-Digest", sha1_digest(&[])));
            }
        }
        match capture.truncated {
            Some(Truncation::Length) => headers.push(("WARC-Truncated", "length".into())),
            Some(Truncation::Time) => headers.push(("WARC-Truncated", "time".into())),
            None => {}
        }
        headers.push(("WARC-Block-Digest", sha1_digest(&block)));
        let response = encode_record(&headers, &block)?;
        self.write(&response)?;

        self.request_record(capture, &response_id)?;
        if let Some(json) = article_json {
            self.metadata_record(capture, &response_id, json)?;
        }
        Ok(())
    }

    /// The request record of a capture, concurrent to its response.
    fn request_record(&mut self, capture: &CaptureRecord, response_id: &str) -> Result<()> {
        let request = http_request(capture);
        let content_type = "application/http; msgtype=request";
        self.concurrent_record(
            capture,
            response_id,
            "request",
            content_type,
            request.as_bytes(),
        )
    }

    /// The metadata record carrying the extracted article as JSON.
    fn metadata_record(
        &mut self,
        capture: &CaptureRecord,
        response_id: &str,
        json: &str,
    ) -> Result<()> {
        // warc-fields: one `name: value` line; compact JSON has no newlines.
        let fields = format!("palimpsest-article: {json}\r\n");
        let content_type = "application/warc-fields";
        self.concurrent_record(
            capture,
            response_id,
            "metadata",
            content_type,
            fields.as_bytes(),
        )
    }

    /// A record of type `kind` about a capture, concurrent to its response.
    fn concurrent_record(
        &mut self,
        capture: &CaptureRecord,
        response_id: &str,
        kind: &str,
        content_type: &str,
        block: &[u8],
    ) -> Result<()> {
        let uri = &capture.final_url;
        let headers = vec![
            ("WARC-Type", kind.to_string()),
            ("WARC-Record-ID", record_id(kind, uri, capture.fetched_at)),
            ("WARC-Date", warc_date(capture.fetched_at)),
            ("WARC-Target-URI", uri.clone()),
            ("WARC-Concurrent-To", response_id.to_string()),
            ("Content-Type", content_type.to_string()),
            ("WARC-Block-Digest", sha1_digest(block)),
        ];
        self.write(&encode_record(&headers, block)?)
    }

    pub(crate) fn finish(self) -> Result<Vec<PathBuf>> {
        self.sink.finish()
    }
}

fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// The response head as the payload is stored, with the stored length. A
/// capture keeps `Content-Encoding` only when its payload is still in that
/// coding (one neither the fetcher nor the import undoes), so it is kept.
fn http_response_head(capture: &CaptureRecord, payload_len: usize) -> String {
    let mut head = format!("HTTP/1.1 {} {}\r\n", capture.status, reason(capture.status));
    for (k, v) in &capture.headers {
        let k_lower = k.to_ascii_lowercase();
        if matches!(k_lower.as_str(), "content-length" | "transfer-encoding") {
            continue;
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if capture.status != 304 {
        head.push_str(&format!("Content-Length: {payload_len}\r\n"));
    }
    head.push_str("\r\n");
    head
}

fn http_request(capture: &CaptureRecord) -> String {
    let (host, path) = match url::Url::parse(&capture.final_url) {
        Ok(u) => {
            let host = match u.port() {
                Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
                None => u.host_str().unwrap_or_default().to_string(),
            };
            let path = match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            };
            (host, path)
        }
        Err(_) => (String::new(), "/".into()),
    };
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n");
    for (k, v) in &capture.request_headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req
}

/// Writes every capture of the pages the filter selects (captures within
/// `since`/`until`); the article of each capture that made a version goes
/// in a metadata record. Returns the number of captures written.
pub(crate) fn export(
    archive: &Archive,
    filter: &Filter,
    writer: &mut WarcWriter<'_>,
    mut progress: impl FnMut(u64),
) -> Result<u64> {
    let mut n = 0;
    for page in archive.pages() {
        let (id, page) = page?;
        if !selected(&page, filter) {
            continue;
        }
        for capture in archive.captures(id) {
            let capture = capture?;
            if !filter.time_matches(capture.fetched_at) {
                continue;
            }
            write_capture(archive, id, &capture, writer)?;
            n += 1;
            progress(n);
        }
    }
    Ok(n)
}

fn selected(page: &PageRecord, filter: &Filter) -> bool {
    page.captures > 0
        && filter.host_matches(page.url.host())
        && filter.pages().covers(crate::query::kind_of(page))
        && filter.language_matches(page.latest.as_ref().and_then(|l| l.language.as_deref()))
}

fn write_capture(
    archive: &Archive,
    id: UrlId,
    capture: &CaptureRecord,
    writer: &mut WarcWriter<'_>,
) -> Result<()> {
    let payload = match &capture.payload {
        Some(d) => archive.payload(d)?,
        None => None,
    };
    // The capture that first showed a version carries its article.
    let article = match capture.version {
        Some(n) => archive
            .version(id, n)?
            .filter(|v| v.capture_at == capture.fetched_at)
            .and_then(|v| archive.page(id).ok().flatten().map(|p| (p, v))),
        None => None,
    };
    let json = match article {
        Some((page, version)) => Some(serde_json::to_string(&super::article_record(
            archive, id, &page, version,
        )?)?),
        None => None,
    };
    writer.capture(capture, payload.as_deref(), json.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_the_reader() {
        let mut bytes = encode_record(&[("WARC-Type", "resource".into())], b"hello").unwrap();
        bytes.extend(encode_record(&[("WARC-Type", "metadata".into())], b"a: b\r\n").unwrap());
        let mut r = WarcReader::new(std::io::Cursor::new(bytes), 1 << 20).unwrap();
        let mut next = || match r.next_entry().unwrap() {
            Some(Entry::Record(record)) => Some(record),
            other => panic!("expected a record, got {other:?}"),
        };
        let first = next().unwrap();
        assert_eq!(first.header("warc-type"), Some("resource"));
        assert_eq!(first.block, b"hello");
        assert_eq!(next().unwrap().block, b"a: b\r\n");
        assert!(r.next_entry().unwrap().is_none());
    }

    #[test]
    fn digests_are_sha1_base32() {
        assert_eq!(sha1_digest(b""), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    }

    #[test]
    fn split_file_names() {
        let first = Path::new("/x/corpus.warc.gz");
        assert_eq!(Sink::nth_name(first, 0), first);
        assert_eq!(
            Sink::nth_name(first, 1),
            Path::new("/x/corpus-00002.warc.gz")
        );
    }
}
