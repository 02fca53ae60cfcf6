//! The changes: versions after the first, in time order. A first version is
//! a new page, not a change. A change of a page that others cite is also,
//! for each citing page that appeared before it, an edited source of that
//! page: an entry of its own.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::sources::{SourceEdit, appeared, edit_after};
use super::{Pages, kind_of};
use crate::archive::{ArchiveError, ChangeRow, Store, UrlId, micros};
use crate::article::PageKind;

/// One change; serialized field for field as a line of
/// `palimpsest changes --json` and an entry of `/api/changes`. For an edited
/// source, `url`, `version`, `title` and `kind` are the citing page's (its
/// latest version), the time and word counts the source's edit.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub url: String,
    pub version: u32,
    pub changed_at: DateTime<Utc>,
    pub title: Option<String>,
    pub kind: PageKind,
    pub words_added: usize,
    pub words_removed: usize,
    /// What happened: the page changed, or a source it cites was edited.
    pub event: ChangeEvent,
    /// For an edited source: the source and the version its edit made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceEdit>,
}

/// What a change entry reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeEvent {
    /// The page gained a version.
    Changed,
    /// A page it cites gained a version after it first appeared.
    SourceEdited,
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
    entries.flat_map(move |entry| {
        let entries = entry.and_then(|row| {
            let mut found: Vec<Change> = change(archive, row.url, row.number, which)?
                .into_iter()
                .collect();
            found.extend(edited_source(archive, row, which)?);
            Ok(found)
        });
        match entries {
            Ok(found) => found.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        }
    })
}

/// The change `row` of a cited page as an edited source of each page of
/// `which` that cites it and appeared before it.
fn edited_source(
    archive: &impl Store,
    row: ChangeRow,
    which: Pages,
) -> Result<Vec<Change>, ArchiveError> {
    if row.number < 2 {
        return Ok(Vec::new());
    }
    let citing = archive.cited_by(row.url)?;
    if citing.is_empty() {
        return Ok(Vec::new());
    }
    let Some(source) = archive.page(row.url)? else {
        return Ok(Vec::new());
    };
    let mut entries = Vec::new();
    for id in citing {
        let Some(page) = archive.page(id)? else {
            continue;
        };
        let (kind, Some(appeared)) = (kind_of(&page), appeared(archive, id, &page)?) else {
            continue;
        };
        let Some(latest) = page.latest.as_ref().filter(|_| which.covers(kind)) else {
            continue;
        };
        let Some(edit) = edit_after(archive, row.url, &source, row.number, appeared)? else {
            continue;
        };
        entries.push(Change {
            url: page.url.to_string(),
            version: latest.number,
            changed_at: edit.edited_at,
            title: latest.title.clone(),
            kind,
            words_added: edit.words_added,
            words_removed: edit.words_removed,
            event: ChangeEvent::SourceEdited,
            source: Some(edit),
        });
    }
    Ok(entries)
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
        event: ChangeEvent::Changed,
        source: None,
    }))
}
