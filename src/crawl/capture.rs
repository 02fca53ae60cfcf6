//! The one capture path: how a response — fetched by the crawl, read from a
//! WARC file by `import-warc`, or read again from the archive by `reextract`
//! — becomes a capture, a new version, or a confirmation of the latest one.
//! Written against [`Txn`], so every backend gets the same rules.

use chrono::{DateTime, Utc};

use super::process::ExtractedArticle;
use crate::archive::{
    ArchiveError, CaptureRecord, LatestVersion, PageRecord, Result, Txn, UrlId, VersionRecord,
};
use crate::article::Article;

/// What a capture shows of its page.
#[derive(Debug)]
pub enum Shows {
    /// An extracted article: a new version, or the latest seen again.
    Article(Box<ExtractedArticle>),
    /// A 304: the latest version is confirmed, not repeated.
    NotModified,
    /// Nothing to version (an error, a listing, a body cut short).
    Nothing,
}

/// What recording a capture did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Recorded {
    /// The version the capture shows, if any.
    pub version: Option<u32>,
    /// That version is new.
    pub new_version: bool,
}

/// Records `capture` of page `id`: the page's capture counts, the version it
/// shows (per [`Shows`]), and the capture itself. The caller stores `page`.
pub fn record_capture(
    st: &mut impl Txn,
    id: UrlId,
    page: &mut PageRecord,
    capture: &mut CaptureRecord,
    shows: Shows,
) -> Result<Recorded> {
    let at = capture.fetched_at;
    page.captures += 1;
    page.first_captured = Some(page.first_captured.map_or(at, |first| first.min(at)));
    // Captures may arrive out of order (an import of older files).
    if page.last_captured.is_none_or(|last| last <= at) {
        page.last_captured = Some(at);
        page.last_status = Some(capture.status);
        page.last_payload = capture.payload.or(page.last_payload);
    }
    let recorded = match shows {
        Shows::Article(extracted) => {
            let (number, new_version) =
                record_version(st, id, page, *extracted, Seen::Captured(at))?;
            Recorded {
                version: Some(number),
                new_version,
            }
        }
        Shows::NotModified => Recorded {
            version: confirm_latest(st, id, page, at)?,
            new_version: false,
        },
        Shows::Nothing => Recorded::default(),
    };
    capture.version = recorded.version;
    st.record_capture(id, capture)?;
    Ok(recorded)
}

/// A 304 at `at` confirms the latest version, if the page has one.
fn confirm_latest(
    st: &mut impl Txn,
    id: UrlId,
    page: &PageRecord,
    at: DateTime<Utc>,
) -> Result<Option<u32>> {
    let Some(latest) = &page.latest else {
        return Ok(None);
    };
    st.confirm_version(id, latest.number, at)?;
    Ok(Some(latest.number))
}

/// Where an article was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// In a capture made at this time.
    Captured(DateTime<Utc>),
    /// By re-extracting, at `at`, the capture made at `capture_at`: not a
    /// sighting of the page, and not a change of it.
    Reextracted {
        at: DateTime<Utc>,
        capture_at: DateTime<Utc>,
    },
}

/// Records an article: a new version if it differs from the latest, else
/// (for a capture) a later last-seen time. Returns the version number and
/// whether it is new.
pub(crate) fn record_version(
    st: &mut impl Txn,
    id: UrlId,
    page: &mut PageRecord,
    extracted: ExtractedArticle,
    seen: Seen,
) -> Result<(u32, bool)> {
    let ExtractedArticle {
        article,
        identity: digest,
        blob,
    } = extracted;
    let (at, capture_at, reextracted) = match seen {
        Seen::Captured(at) => (at, at, false),
        Seen::Reextracted { at, capture_at } => (at, capture_at, true),
    };
    if let Some(latest) = page.latest.as_ref().filter(|l| l.digest == digest) {
        if !reextracted {
            st.confirm_version(id, latest.number, at)?;
        }
        return Ok((latest.number, false));
    }
    let number = page.versions + 1;
    let (words_added, words_removed) = change_size(st, id, page.versions, &article)?;
    page.versions = number;
    page.latest = Some(LatestVersion {
        number,
        digest,
        title: article.title.clone(),
        kind: article.kind,
        language: article.language.clone(),
        first_seen: Some(at),
    });
    let version = VersionRecord {
        number,
        digest,
        first_seen: at,
        capture_at,
        reextracted,
        title: article.title.clone(),
        words_added,
        words_removed,
        article: Article::default(),
    };
    st.record_version(id, &version, &blob)?;
    Ok((number, true))
}

/// Words added and removed since version `previous`, computed once, here,
/// so that histories, change lists and feeds never diff on the read path.
fn change_size(
    st: &impl Txn,
    id: UrlId,
    previous: u32,
    article: &Article,
) -> Result<(usize, usize)> {
    if previous == 0 {
        return Ok((article.text.split_whitespace().count(), 0));
    }
    match st.article(id, previous) {
        Ok(Some(old)) => {
            let d = crate::diff::diff(&old, article);
            Ok((d.words_added, d.words_removed))
        }
        // A damaged earlier version does not stop the page being archived.
        Ok(None) | Err(ArchiveError::Corrupt { .. }) => Ok((0, 0)),
        Err(e) => Err(e),
    }
}
