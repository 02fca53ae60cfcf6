//! `palimpsest verify`: every reference resolves, every payload matches its
//! digest, every index agrees with the records it indexes.

use serde::Serialize;

use super::{Archive, ArchiveError, CaptureRecord, PageRecord, Result, Store, UrlId, keys};
use crate::digest::ContentDigest;

/// What `verify` found.
#[derive(Debug, Default, Serialize)]
pub struct VerifyReport {
    pub(crate) pages: u64,
    pub(crate) captures: u64,
    pub(crate) payloads: u64,
    pub(crate) versions: u64,
    pub(crate) problems: Vec<String>,
}

impl VerifyReport {
    pub(crate) fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// The report on an archive that could not be opened at all.
    pub(crate) fn unopenable(why: String) -> Self {
        let mut report = Self::default();
        report.problem(why);
        report
    }

    fn problem(&mut self, p: String) {
        // A badly damaged archive should not print a million lines.
        if self.problems.len() < 1000 {
            self.problems.push(p);
        }
    }
}

/// Checks the whole archive. Storage that cannot be read is a problem
/// reported like any other (the walk stops there: sled returns the same
/// error for ever), not an error that hides what was found so far.
pub(crate) fn verify(archive: &Archive) -> Result<VerifyReport> {
    let mut report = VerifyReport::default();
    if let Err(e) = walk(archive, &mut report) {
        report.problem(format!("reading stopped: {e}"));
    }
    Ok(report)
}

/// An error that will repeat if the same scan goes on.
fn is_unreadable(e: &ArchiveError) -> bool {
    matches!(e, ArchiveError::Storage(_))
}

fn walk(archive: &Archive, report: &mut VerifyReport) -> Result<()> {
    let db = &archive.db;
    for kv in db.keys_with_prefix([keys::PAYLOADS]) {
        let k = kv?;
        report.payloads += 1;
        let Some(digest) = keys::decode_payload(&k) else {
            report.problem(format!("payload key of wrong length: {} bytes", k.len()));
            continue;
        };
        // Read through the archive, so that a delta is checked with its bases.
        match archive.payload(&digest) {
            Ok(Some(body)) if ContentDigest::of(&body) == digest => {}
            Ok(Some(_)) => report.problem(format!("payload {digest} does not match its digest")),
            Ok(None) => report.problem(format!("payload {digest} vanished while verifying")),
            Err(e) if is_unreadable(&e) => return Err(e),
            Err(e) => report.problem(format!("payload {digest} does not decompress: {e}")),
        }
    }
    for page in archive.pages() {
        let (id, page) = match page {
            Ok(p) => p,
            Err(e) if is_unreadable(&e) => return Err(e),
            Err(e) => {
                report.problem(e.to_string());
                continue;
            }
        };
        report.pages += 1;
        verify_page(archive, id, &page, report)?;
    }
    for kv in db.scan_prefix([keys::QUEUE]) {
        let (k, _) = kv?;
        match keys::decode_queue(&k) {
            Some(entry) if db.contains_key(keys::page(entry.url))? => {}
            _ => report.problem(format!("frontier entry {k:?} names no page")),
        }
    }
    Ok(())
}

fn verify_page(
    archive: &Archive,
    id: UrlId,
    page: &PageRecord,
    report: &mut VerifyReport,
) -> Result<()> {
    if archive.url_id(&page.url)? != Some(id) {
        report.problem(format!(
            "{}: URL index does not point to page {}",
            page.url, id.0
        ));
    }
    let mut captures = 0u64;
    for capture in archive.scan::<CaptureRecord>(keys::captures_of(id)) {
        let capture = match capture {
            Ok((_, c)) => c,
            Err(e) if is_unreadable(&e) => return Err(e),
            Err(e) => {
                report.problem(e.to_string());
                continue;
            }
        };
        captures += 1;
        report.captures += 1;
        if let Some(digest) = &capture.payload
            && !archive.has_payload(digest)?
        {
            report.problem(format!(
                "{}: capture at {} refers to missing payload {digest}",
                page.url, capture.fetched_at
            ));
        }
        if let Some(n) = capture.version
            && (n == 0 || n > page.versions)
        {
            report.problem(format!(
                "{}: capture at {} refers to version {n} of {}",
                page.url, capture.fetched_at, page.versions
            ));
        }
    }
    if captures != page.captures {
        report.problem(format!(
            "{}: page counts {} captures, archive holds {captures}",
            page.url, page.captures
        ));
    }
    let mut expected = 1u32;
    for version in archive.versions(id) {
        let version = match version {
            Ok(v) => v,
            Err(e) if is_unreadable(&e) => return Err(e),
            Err(e) => {
                report.problem(e.to_string());
                continue;
            }
        };
        report.versions += 1;
        if version.number != expected {
            report.problem(format!(
                "{}: version {} found where {expected} was expected",
                page.url, version.number
            ));
        }
        if version.article.identity() != version.digest {
            report.problem(format!(
                "{}: version {} does not match its digest",
                page.url, version.number
            ));
        }
        expected = version.number + 1;
    }
    if expected - 1 != page.versions {
        report.problem(format!(
            "{}: page counts {} versions, archive holds {}",
            page.url,
            page.versions,
            expected - 1
        ));
    }
    Ok(())
}
