//! The questions the archive answers: which pages it holds (and the
//! index's search by words, host and language), a page's history, one
//! version, two versions compared, the changes in time order (edited
//! sources among them), the chain of an article's sources, and what the
//! frontier will fetch next. The CLI (`commands`, which prints the
//! answers) and the web interface (`serve`, which renders them as HTML,
//! JSON and Atom) both ask here, so they cannot disagree: articles only
//! unless every page is asked for, the same versions compared by default,
//! the same filters with the same case rules.
//!
//! [`Reading`] is a reading command as one process sends it to another
//! (the one holding the archive); its JSON is a wire format.

mod changes;
mod filter;
mod pages;
mod reading;
mod schedule;
mod sources;
mod versions;

pub use changes::{Change, Order, changes};
pub use filter::{host_within, language_within};
pub use pages::{IndexQuery, LiveCatalogue, PageSummary, index, pages};
pub use reading::{DiffFormat, Reading};
pub use schedule::{Due, schedule};
pub use sources::{SourceChain, SourceEdit, sources};
pub use versions::{
    ArticleView, Comparison, History, TimelineVersion, article, compare, history, show, timeline,
};

use crate::archive::{ArchiveError, PageRecord};
use crate::article::PageKind;

/// Which pages a listing, the changes or an export covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pages {
    /// Articles only: a section front or a plain page is not news.
    #[default]
    Articles,
    /// Every page, whatever its kind.
    All,
}

impl Pages {
    /// `All` when every page is asked for (`--all-pages`, `all=1`).
    pub fn all_if(all: bool) -> Self {
        if all { Pages::All } else { Pages::Articles }
    }

    /// Whether a page of this kind is covered.
    pub fn covers(self, kind: PageKind) -> bool {
        self == Pages::All || kind == PageKind::Article
    }
}

/// What a page is listed as: its latest version's kind; a page without a
/// version yet is a plain page.
pub fn kind_of(page: &PageRecord) -> PageKind {
    page.latest.as_ref().map_or(PageKind::Page, |l| l.kind)
}

/// A question the archive cannot answer as asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The page is known but has no version; `why` says what it is
    /// ("disallowed by robots.txt", "HTTP 404 on every capture"…).
    #[error("{url} has no versions: {why}")]
    NoVersions { url: String, why: String },
    /// Versions to compare were not named and there are fewer than two.
    #[error("{url} has {versions}: nothing to compare")]
    NothingToCompare { url: String, versions: String },
    /// The same version named twice.
    #[error("{url} version {number} compared with itself: nothing to compare (it has {versions})")]
    SameVersion {
        url: String,
        number: u32,
        versions: String,
    },
}
