//! Re-extraction: after the extractor improves, run it again over stored
//! payloads — no refetching. For each page, the latest complete HTML
//! capture is extracted again; an article that differs from the latest
//! version becomes a new version marked `reextracted` (history is appended
//! to, never rewritten, and an extractor change is not listed as a change
//! of the page).

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::capture::{Seen, record_version};
use super::process::{ExtractedArticle, is_html};
use crate::archive::{Archive, CaptureRecord, Result, Store, Txn, UrlId};
use crate::clock::Clock;
use crate::extract::{self, Profile};

/// What `reextract` did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ReextractReport {
    /// Pages considered.
    pub pages: u64,
    /// Pages whose last complete HTML capture was extracted again.
    pub extracted: u64,
    /// Extractions that differed from the page's latest version, so made a
    /// new version.
    pub new_versions: u64,
    /// Pages with no complete HTML capture to extract from.
    pub skipped: u64,
}

/// Re-extracts every page (or only `only`), with site profiles by host.
pub fn reextract(
    archive: &Archive,
    profiles: &HashMap<String, Arc<Profile>>,
    only: Option<UrlId>,
    clock: Clock,
) -> Result<ReextractReport> {
    let mut report = ReextractReport::default();
    let ids: Vec<UrlId> = match only {
        Some(id) => vec![id],
        None => archive
            .pages()
            .map(|p| p.map(|(id, _)| id))
            .collect::<Result<_>>()?,
    };
    for chunk in ids.chunks(256) {
        let mut st = archive.begin();
        for &id in chunk {
            let Some(mut page) = archive.page(id)? else {
                continue;
            };
            report.pages += 1;
            let Some(capture) = last_complete_html(archive, id)? else {
                report.skipped += 1;
                continue;
            };
            let Some(body) = capture
                .payload
                .as_ref()
                .map(|d| archive.payload(d))
                .transpose()?
                .flatten()
            else {
                report.skipped += 1;
                continue;
            };
            let (html, _) = crate::decode::decode_html(&body, capture.header("content-type"));
            let Ok(url) = url::Url::parse(&capture.final_url) else {
                report.skipped += 1;
                continue;
            };
            let profile = profiles.get(page.url.host()).map(Arc::as_ref);
            let article = extract::extract(&html, &url, profile).article;
            report.extracted += 1;
            let seen = Seen::Reextracted {
                at: clock.now(),
                capture_at: capture.fetched_at,
            };
            let (_, is_new) =
                record_version(&mut st, id, &mut page, ExtractedArticle::new(article), seen)?;
            if is_new {
                report.new_versions += 1;
                st.put_page(id, &page)?;
            }
        }
        archive.commit(st)?;
    }
    archive.flush()?;
    Ok(report)
}

/// The newest capture of a page whose body is complete HTML.
fn last_complete_html(archive: &Archive, id: UrlId) -> Result<Option<CaptureRecord>> {
    let mut last = None;
    for capture in archive.captures(id) {
        let capture = capture?;
        if (200..300).contains(&capture.status)
            && capture.truncated.is_none()
            && capture.payload.is_some()
            && is_html(capture.header("content-type"), &[])
        {
            last = Some(capture);
        }
    }
    Ok(last)
}
