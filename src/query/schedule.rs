//! What the frontier will fetch, and when: the `schedule` command and the
//! status page's list of what is due.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::archive::{ArchiveError, Store, from_micros};
use crate::frontier;

/// A queued page; serialized field for field as a line of
/// `palimpsest schedule --json`.
#[derive(Debug, Clone, Serialize)]
pub struct Due {
    pub due: DateTime<Utc>,
    pub url: String,
    /// `retry`, `new`, `seed` (seeds, feeds, sitemaps) or `revisit`.
    pub reason: &'static str,
}

/// The frontier's size and its soonest entries.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub queued: usize,
    /// Soonest first.
    pub soonest: Vec<Due>,
}

/// The frontier's `limit` soonest entries, soonest first.
pub fn schedule(archive: &impl Store, limit: usize) -> Result<Schedule, ArchiveError> {
    let mut soonest = Vec::new();
    for entry in frontier::soonest(archive, limit)? {
        // Every entry names a page (`verify` checks it); one that does not
        // is left out rather than failing the list.
        let Some(page) = archive.page(entry.url)? else {
            continue;
        };
        soonest.push(Due {
            due: from_micros(entry.due),
            reason: page.due_reason(),
            url: page.url.to_string(),
        });
    }
    Ok(Schedule {
        queued: archive.queue_len()? as usize,
        soonest,
    })
}
