//! The changes: versions after the first, in time order. A first version is
//! a new page, not a change.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Pages, kind_of};
use crate::archive::{ArchiveError, ChangeRow, Store, UrlId, micros};
use crate::article::PageKind;

/// One change; serialized field for field as a line of
/// `palimpsest changes --json` and an entry of `/api/changes`.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub url: String,
    pub version: u32,
    pub changed_at: DateTime<Utc>,
    pub title: Option<String>,
    pub kind: PageKind,
    pub words_added: usize,
    pub words_removed: usize,
}

/// Which end of time the changes come from first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// As they happened: the CLI's list.
    OldestFirst,
    /// The latest first: the feed and the API, which show the latest few.
    NewestFirst,
}

type Entries<'a> = Box<dyn Iterator<Item = Result<ChangeRow, ArchiveError>> + 'a>;

/// The changes made at or after `since`, to the pages `which` covers, in
/// `order`; read lazily, so a caller that wants the latest few reads no
/// further.
pub fn changes(
    archive: &impl Store,
    since: Option<DateTime<Utc>>,
    which: Pages,
    order: Order,
) -> impl Iterator<Item = Result<Change, ArchiveError>> + '_ {
    let since = since.map(micros).unwrap_or(0);
    let entries: Entries<'_> = match order {
        Order::OldestFirst => Box::new(archive.changes_since(since)),
        Order::NewestFirst => Box::new(
            archive
                .changes_newest_first(None)
                .take_while(move |e| e.as_ref().map_or(true, |row| row.at >= since)),
        ),
    };
    entries.filter_map(move |entry| {
        entry
            .and_then(|row| change(archive, row.url, row.number, which))
            .transpose()
    })
}

/// Version `number` of page `id` as a change, if it is one of `which`.
fn change(
    archive: &impl Store,
    id: UrlId,
    number: u32,
    which: Pages,
) -> Result<Option<Change>, ArchiveError> {
    if number < 2 {
        return Ok(None);
    }
    let Some(page) = archive.page(id)? else {
        return Ok(None);
    };
    let kind = kind_of(&page);
    if !which.covers(kind) {
        return Ok(None);
    }
    let version = archive.require_version_meta(id, &page, number)?;
    Ok(Some(Change {
        url: page.url.to_string(),
        version: number,
        changed_at: version.first_seen,
        title: version.title,
        kind,
        words_added: version.words_added,
        words_removed: version.words_removed,
    }))
}
