//! `import-warc`: captures made by other tools (Heritrix, wget,
//! browsertrix) come into the archive through the same capture → extract →
//! version path as crawled pages, so an archive can start from what an
//! institution already holds.

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::process::{ExtractedArticle, is_html};
use super::writer::record_version;
use crate::archive::{Archive, ArchiveError, CaptureRecord, PassRecord, Via, keys, micros};
use crate::canonical::CanonicalUrl;
use crate::config::CrawlConfig;
use crate::digest::ContentDigest;
use crate::export::warc::{WarcError, WarcReader, WarcRecord, sha1_digest};
use crate::extract::{self, Profile};
use crate::frontier::Admitter;

/// Largest payload imported; a record claiming more is skipped.
const MAX_BLOCK: u64 = 256 * 1024 * 1024;

/// Errors that stop an import.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("{path}: {source}")]
    Warc { path: String, source: WarcError },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// What `import-warc` did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ImportReport {
    pub records: u64,
    pub captures: u64,
    pub new_versions: u64,
    /// Records that are not HTTP responses or revisits (request, metadata,
    /// warcinfo…) or could not be used.
    pub skipped: u64,
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

fn warc_date(record: &WarcRecord) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(record.header("WARC-Date")?)
        .ok()
        .map(|d| d.to_utc())
}

/// Imports WARC files (plain, gzip, or per-record gzip).
pub fn import_warc(
    archive: &Archive,
    paths: &[impl AsRef<Path>],
    profiles: &HashMap<String, Arc<Profile>>,
) -> Result<ImportReport, ImportError> {
    let pass = archive.pass()?.unwrap_or(PassRecord {
        number: 0,
        started_at: Utc::now(),
        finished_at: Some(Utc::now()),
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
        let file = std::fs::File::open(path).map_err(|source| ImportError::Read {
            path: name.clone(),
            source,
        })?;
        let mut reader =
            WarcReader::new(Box::new(BufReader::new(file)), MAX_BLOCK).map_err(|source| {
                ImportError::Read {
                    path: name.clone(),
                    source,
                }
            })?;
        let mut st = archive.stage();
        let mut staged = 0;
        while let Some(record) = reader.next_record().map_err(|source| ImportError::Warc {
            path: name.clone(),
            source,
        })? {
            report.records += 1;
            if import_record(
                &mut st,
                &mut admitter,
                &record,
                profiles,
                &mut by_sha1,
                &mut report,
            )? {
                staged += 1;
            } else {
                report.skipped += 1;
            }
            if staged >= 256 {
                admitter.persist(&mut st)?;
                archive.apply(std::mem::replace(&mut st, archive.stage()))?;
                staged = 0;
            }
        }
        admitter.persist(&mut st)?;
        archive.apply(st)?;
    }
    archive.flush()?;
    Ok(report)
}

/// Imports one record; `false` when it is not one to import.
fn import_record(
    st: &mut crate::archive::Staging<'_>,
    admitter: &mut Admitter,
    record: &WarcRecord,
    profiles: &HashMap<String, Arc<Profile>>,
    by_sha1: &mut HashMap<String, ContentDigest>,
    report: &mut ImportReport,
) -> Result<bool, ImportError> {
    let kind = record
        .header("WARC-Type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if kind != "response" && kind != "revisit" {
        return Ok(false);
    }
    let (Some(target), Some(at)) = (record.header("WARC-Target-URI"), warc_date(record)) else {
        return Ok(false);
    };
    let target = target.trim_matches(['<', '>']);
    let Ok(url) = CanonicalUrl::parse(target) else {
        return Ok(false);
    };
    let Some(http) = parse_http(&record.block, MAX_BLOCK) else {
        return Ok(false);
    };
    let payload_digest = if kind == "response" {
        let digest = ContentDigest::of(&http.payload);
        by_sha1.insert(sha1_digest(&http.payload), digest);
        if let Some(p) = record.header("WARC-Payload-Digest") {
            by_sha1.insert(p.to_string(), digest);
        }
        if !st.contains(&keys::payload(&digest))? {
            let compressed = zstd::encode_all(&http.payload[..], 3).map_err(ArchiveError::Io)?;
            st.put_raw(keys::payload(&digest), compressed);
        }
        Some(digest)
    } else {
        // A revisit names its payload by digest; one not seen is kept as a
        // capture without payload.
        record
            .header("WARC-Payload-Digest")
            .and_then(|d| by_sha1.get(d).copied())
    };
    let (id, mut page) = admitter.register(st, &url, Via::Import)?;
    let mut capture = CaptureRecord {
        requested_url: url.to_string(),
        final_url: url.to_string(),
        redirects: Vec::new(),
        fetched_at: at,
        status: http.status,
        request_headers: Vec::new(),
        headers: http.headers,
        payload: payload_digest,
        payload_len: if kind == "response" {
            http.payload.len() as u64
        } else {
            0
        },
        truncated: None,
        error: None,
        version: None,
    };
    page.captures += 1;
    page.first_captured.get_or_insert(at);
    if page.last_captured.is_none_or(|l| l < at) {
        page.last_captured = Some(at);
        page.last_status = Some(http.status);
    }
    let content_type = capture.header("content-type").map(str::to_string);
    if kind == "response"
        && (200..300).contains(&http.status)
        && is_html(content_type.as_deref(), &http.payload)
    {
        let (html, _) = crate::decode::decode_html(&http.payload, content_type.as_deref());
        let profile = profiles.get(url.host()).map(Arc::as_ref);
        let article = extract::extract(&html, url.as_url(), profile).article;
        let (n, is_new) = record_version(
            st,
            id,
            &mut page,
            ExtractedArticle::new(article),
            at,
            at,
            false,
        )?;
        capture.version = Some(n);
        if is_new {
            report.new_versions += 1;
        }
    } else if let Some(latest) = page
        .latest
        .as_ref()
        .filter(|_| http.status == 304 || kind == "revisit")
    {
        capture.version = Some(latest.number);
    }
    let mut key_at = micros(at);
    while st.contains(&keys::capture(id.0, key_at))? {
        key_at += 1;
    }
    st.put(keys::capture(id.0, key_at), &capture)?;
    st.put(keys::page(id.0), &page)?;
    report.captures += 1;
    Ok(true)
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
}
