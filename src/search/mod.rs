//! Full-text search over every version of every page: a tantivy index kept
//! in the archive directory (`ARCHIVE/search`). It is derived data: built
//! from the archive when missing, rebuilt by `palimpsest reindex`, and
//! brought up to date from the archive's change log, whose sequence number
//! the index stores with each of its commits, so that indexing resumes
//! exactly where it stopped and a crash costs freshness, never archive data.
//!
//! A query is tantivy's query language: words (all must match), `"exact
//! phrases"`, `OR`, `-excluded`, and fields (`title:`, `author:`, `host:`,
//! `language:`), narrowed by host, language and a date window. Each page is
//! one result, its best-matching version, with a snippet of its text; or,
//! asked for removed text, the pages whose latest version no longer matches
//! what an earlier one did, with the version where it disappeared.

use std::collections::HashMap;
use std::ops::{Bound, Range};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

mod forms;
mod words;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TantivyDocument,
    TextFieldIndexing, TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, Term, doc};

use crate::archive::{ArchiveError, SEARCH_DIR, Store, UrlId};

/// Memory the index writer may buffer before it writes a segment.
const WRITER_BUDGET: usize = 50_000_000;
/// The smallest budget tantivy allows one indexing thread.
const SMALL_WRITER_BUDGET: usize = 15_000_000;
/// An update of this many versions or more is indexed on every core.
const MANY_VERSIONS: u64 = 500;
/// Candidates read per result asked for: a page matched by several of its
/// versions is one result.
const CANDIDATES_PER_RESULT: usize = 8;
/// Characters of text a snippet shows.
const SNIPPET_CHARS: usize = 200;
/// Characters of a version's text searched for the stretch a snippet shows.
const SNIPPET_SCAN: usize = 1_000_000;
/// Matching versions read when looking for removed text: enough for every
/// version of the pages a person reads through, bounded for a query that
/// matches everything.
const REMOVED_CANDIDATES: usize = 20_000;

/// Why a search or an index update failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The index could not be read or written.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The query is not one the query language allows.
    #[error("query: {0}")]
    Query(#[from] tantivy::query::QueryParserError),
    /// The archive could not be read.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

type Result<T> = std::result::Result<T, SearchError>;

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    /// The page's id in the archive.
    page: Field,
    url: Field,
    host: Field,
    language: Field,
    title: Field,
    author: Field,
    body: Field,
    version: Field,
    first_seen: Field,
    published: Field,
    /// Publication time, or first seen when the article gives none: what a
    /// date window narrows by default.
    dated: Field,
    /// Whether this is the page's latest version.
    latest: Field,
}

impl Fields {
    fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let fields = Fields {
            key: b.add_text_field("key", STRING),
            page: b.add_u64_field("page", INDEXED | FAST),
            url: b.add_text_field("url", STRING | STORED),
            host: b.add_text_field("host", STRING | STORED),
            language: b.add_text_field("language", STRING | STORED),
            title: b.add_text_field("title", text().set_stored()),
            author: b.add_text_field("author", text().set_stored()),
            // Not stored: a snippet is cut from the archive's own copy of
            // the text, which would otherwise be kept twice.
            body: b.add_text_field("body", text()),
            version: b.add_u64_field("version", INDEXED | STORED | FAST),
            first_seen: b.add_i64_field("first_seen", INDEXED | STORED | FAST),
            published: b.add_i64_field("published", STORED),
            dated: b.add_i64_field("dated", INDEXED | FAST),
            latest: b.add_bool_field("latest", INDEXED | STORED),
        };
        (b.build(), fields)
    }
}

/// A text field cut into terms by [`words::analyzer`], with positions for phrases.
fn text() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(words::WORDS)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

/// What a search asks (also as a forwarded command sends it: a field
/// added needs `#[serde(default)]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// The query, in tantivy's query language.
    pub text: String,
    /// Only pages of this host.
    pub host: Option<String>,
    /// Only articles in this language (a primary subtag: `en`, `id`).
    pub language: Option<String>,
    /// Only versions dated at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Only versions dated before this.
    pub until: Option<DateTime<Utc>>,
    /// Which date `since` and `until` narrow by.
    pub dated_by: DatedBy,
    /// Text an earlier version had and the latest no longer has.
    pub removed: bool,
    /// Results at most.
    pub limit: usize,
    /// Also match words by their stems, in the languages that have a stemmer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stem: bool,
}

/// The date a window of time narrows versions by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatedBy {
    /// The article's publication date, or when the version was first seen if
    /// the article gives none.
    #[default]
    Published,
    /// When the version was first seen.
    Captured,
}

/// One result: a page, its best-matching version, and where the query
/// matched in its text.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// The page's canonical URL.
    pub url: String,
    /// The version's headline.
    pub title: Option<String>,
    /// The page's host.
    pub host: String,
    /// The article's language.
    pub language: Option<String>,
    /// The best-matching version's number.
    pub version: u64,
    /// When that version was first seen.
    pub first_seen: DateTime<Utc>,
    /// When the article says it was published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    /// For removed text: the first version that no longer has it (the hit's
    /// version is the last that had it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_in: Option<u64>,
    /// How well it matched (higher is better).
    pub score: f32,
    /// A stretch of the text around the matches.
    pub snippet: String,
    /// Byte ranges of `snippet` that matched.
    pub highlighted: Vec<(usize, usize)>,
}

impl Hit {
    /// The snippet cut at its matches, in order: each stretch, and whether
    /// it matched.
    pub fn snippet_parts(&self) -> Vec<(&str, bool)> {
        let mut parts = Vec::with_capacity(self.highlighted.len() * 2 + 1);
        let mut at = 0;
        for &(start, end) in &self.highlighted {
            let (Some(before), Some(matched)) =
                (self.snippet.get(at..start), self.snippet.get(start..end))
            else {
                continue;
            };
            parts.push((before, false));
            parts.push((matched, true));
            at = end;
        }
        parts.push((self.snippet.get(at..).unwrap_or_default(), false));
        parts.retain(|(text, _)| !text.is_empty());
        parts
    }
}

/// The search index of one archive: shared by every user of it in this
/// process (the web interface's requests, a forwarded `search`), because an
/// index admits one writer at a time.
#[derive(Clone)]
pub struct SearchIndex {
    shared: Arc<Shared>,
}

struct Shared {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// Held while the index is written: one update at a time.
    writing: Mutex<()>,
}

/// The indexes open in this process, by directory.
static OPEN: LazyLock<Mutex<HashMap<PathBuf, Weak<Shared>>>> = LazyLock::new(Mutex::default);

impl SearchIndex {
    /// Opens the index of the archive in `archive_dir` and brings it up to
    /// date with `archive`, building it first if there is none; how many
    /// versions were indexed on the way.
    pub fn open(archive_dir: &Path, archive: &impl Store) -> Result<(Self, u64)> {
        let dir = archive_dir.join(SEARCH_DIR);
        let mut open = OPEN.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(shared) = open.get(&dir).and_then(Weak::upgrade) {
            drop(open);
            let search = SearchIndex { shared };
            let indexed = search.update(archive)?;
            return Ok((search, indexed));
        }
        let (schema, fields) = Fields::schema();
        let fresh = !dir.join("meta.json").exists();
        std::fs::create_dir_all(&dir).map_err(|e| tantivy::TantivyError::IoError(e.into()))?;
        let index = if fresh {
            Index::create_in_dir(&dir, schema.clone())?
        } else {
            Index::open_in_dir(&dir)?
        };
        index.tokenizers().register(words::WORDS, words::analyzer());
        if index.schema() != schema {
            // Built by an earlier release with other fields: derived data,
            // so it is built again rather than misread.
            drop((index, open));
            return Self::rebuild(archive_dir, archive);
        }
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let shared = Arc::new(Shared {
            index,
            reader,
            fields,
            writing: Mutex::new(()),
        });
        open.insert(dir, Arc::downgrade(&shared));
        drop(open);
        let search = SearchIndex { shared };
        let indexed = if fresh {
            search.build(archive)?
        } else {
            search.update(archive)?
        };
        Ok((search, indexed))
    }

    /// Deletes the index of the archive in `archive_dir` and builds it again.
    pub fn rebuild(archive_dir: &Path, archive: &impl Store) -> Result<(Self, u64)> {
        let dir = archive_dir.join(SEARCH_DIR);
        OPEN.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&dir);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(tantivy::TantivyError::IoError(e.into()).into());
            }
            _ => {}
        }
        Self::open(archive_dir, archive)
    }

    /// The writer for about `versions` versions, while `writing` is held:
    /// one thread and the smallest budget for a few, every core (up to
    /// four) for many, such as the update a crawl makes when it ends.
    fn writer(&self, versions: u64) -> Result<IndexWriter> {
        let (threads, budget) = if versions < MANY_VERSIONS {
            (1, SMALL_WRITER_BUDGET)
        } else {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
            (cores, WRITER_BUDGET)
        };
        Ok(self.shared.index.writer_with_num_threads(threads, budget)?)
    }

    /// Indexes every version of every page.
    fn build(&self, archive: &impl Store) -> Result<u64> {
        // The log's end is read first: what commits meanwhile is indexed
        // again by the next update, which replaces it.
        let _writing = self.writing();
        let logged = archive.last_change_logged()?;
        let writer = self.writer(logged)?;
        let mut indexed = 0;
        for page in archive.pages() {
            let (id, page) = page?;
            for number in 1..=page.versions {
                indexed += u64::from(self.add_version(&writer, archive, id, number)?);
            }
        }
        commit_at(writer, logged)?;
        self.shared.reader.reload()?;
        Ok(indexed)
    }

    /// Indexes the versions committed since the index's last commit.
    pub fn update(&self, archive: &impl Store) -> Result<u64> {
        let _writing = self.writing();
        let from = self.position()?;
        let pending = archive.last_change_logged()?.saturating_sub(from);
        if pending == 0 {
            return Ok(0);
        }
        let writer = match self.writer(pending) {
            // Another process (a crawl, a search beside a PostgreSQL
            // archive's writer) is bringing the index up to date: search
            // what it has committed.
            Err(SearchError::Index(tantivy::TantivyError::LockFailure(
                tantivy::directory::error::LockError::LockBusy,
                _,
            ))) => {
                self.shared.reader.reload()?;
                return Ok(0);
            }
            other => other?,
        };
        let mut last = from;
        let mut indexed = 0;
        for logged in archive.change_log_after(from) {
            let logged = logged?;
            last = logged.seq;
            let change = logged.change;
            indexed += u64::from(self.add_version(&writer, archive, change.url, change.number)?);
            if change.number > 1 {
                // The version before is no longer the latest.
                self.add_version(&writer, archive, change.url, change.number - 1)?;
            }
        }
        commit_at(writer, last)?;
        self.shared.reader.reload()?;
        Ok(indexed)
    }

    fn writing(&self) -> MutexGuard<'_, ()> {
        self.shared
            .writing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The change log's sequence number the index has read up to.
    fn position(&self) -> Result<u64> {
        let metas = self.shared.index.load_metas()?;
        Ok(metas
            .payload
            .as_deref()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0))
    }

    /// Adds version `number` of page `id` (replacing it if indexed before);
    /// whether the archive had it.
    fn add_version(
        &self,
        writer: &IndexWriter,
        archive: &impl Store,
        id: UrlId,
        number: u32,
    ) -> Result<bool> {
        let (Some(page), Some(version)) = (archive.page(id)?, archive.version(id, number)?) else {
            return Ok(false);
        };
        let f = self.shared.fields;
        let key = format!("{}:{number}", id.0);
        writer.delete_term(Term::from_field_text(f.key, &key));
        let article = &version.article;
        let first_seen = version.first_seen.timestamp_micros();
        let published = article.published.map(|p| p.timestamp_micros());
        let mut document = doc!(
            f.key => key,
            f.page => id.0,
            f.url => page.url.as_str(),
            f.host => page.url.host().to_string(),
            f.body => article.text.as_str(),
            f.version => u64::from(number),
            f.first_seen => first_seen,
            f.dated => published.unwrap_or(first_seen),
            f.latest => number == page.versions,
        );
        if let Some(published) = published {
            document.add_i64(f.published, published);
        }
        if let Some(title) = &article.title {
            document.add_text(f.title, title);
        }
        if let Some(language) = &article.language {
            document.add_text(f.language, language);
        }
        for author in &article.authors {
            document.add_text(f.author, author);
        }
        writer.add_document(document)?;
        Ok(true)
    }

    /// The pages whose versions match `query`, best first; for removed
    /// text, the pages whose latest version no longer matches.
    pub fn search(&self, archive: &impl Store, query: &SearchQuery) -> Result<Vec<Hit>> {
        let f = self.shared.fields;
        let searcher = self.shared.reader.searcher();
        let mut parser =
            QueryParser::for_index(&self.shared.index, vec![f.title, f.body, f.author]);
        parser.set_conjunction_by_default();
        parser.set_field_boost(f.title, 2.0);
        let text = match query.stem {
            true => forms::with_other_forms(
                &searcher,
                &[f.body, f.title],
                &query.text,
                query.language.as_deref(),
            )?,
            false => query.text.clone(),
        };
        let text_query = parser.parse_query(&text)?;
        let mut clauses = vec![(Occur::Must, text_query.box_clone())];
        for (field, value) in [(f.host, &query.host), (f.language, &query.language)] {
            if let Some(value) = value {
                clauses.push((Occur::Must, term_query(Term::from_field_text(field, value))));
            }
        }
        if let Some(window) = self.window(query) {
            clauses.push((Occur::Must, window));
        }
        if query.removed {
            clauses.push((
                Occur::Must,
                term_query(Term::from_field_bool(f.latest, false)),
            ));
        }
        let combined = BooleanQuery::new(clauses);
        let limit = query.limit.max(1);
        let candidates = if query.removed {
            REMOVED_CANDIDATES
        } else {
            limit.saturating_mul(CANDIDATES_PER_RESULT)
        };
        let top = searcher.search(&combined, &TopDocs::with_limit(candidates))?;
        let mut chosen = choose(&searcher, top, query.removed)?;
        if query.removed {
            chosen = self.still_removed(&searcher, &*text_query, chosen)?;
        }
        chosen.truncate(limit);
        let mut snippets = SnippetGenerator::create(&searcher, &*text_query, f.body)?;
        snippets.set_max_num_chars(SNIPPET_SCAN);
        chosen
            .into_iter()
            .map(|c| {
                let document: TantivyDocument = searcher.doc(c.address)?;
                let text = archive
                    .version(UrlId(c.page), c.version as u32)?
                    .map(|v| v.article.text)
                    .unwrap_or_default();
                let mut hit = self.hit(&document, &text, c.score, &snippets);
                hit.removed_in = query.removed.then_some(c.version + 1);
                Ok(hit)
            })
            .collect()
    }

    /// The range of `dated` or `first_seen` a query's window asks for.
    fn window(&self, query: &SearchQuery) -> Option<Box<dyn Query>> {
        if query.since.is_none() && query.until.is_none() {
            return None;
        }
        let field = match query.dated_by {
            DatedBy::Published => self.shared.fields.dated,
            DatedBy::Captured => self.shared.fields.first_seen,
        };
        let bound = |at: Option<DateTime<Utc>>, inclusive: bool| match at {
            None => Bound::Unbounded,
            Some(at) => {
                let term = Term::from_field_i64(field, at.timestamp_micros());
                if inclusive {
                    Bound::Included(term)
                } else {
                    Bound::Excluded(term)
                }
            }
        };
        Some(Box::new(RangeQuery::new(
            bound(query.since, true),
            bound(query.until, false),
        )))
    }

    /// Of `chosen` (each page's last version matching `text`), those whose
    /// latest version does not match: the text disappeared in the version
    /// after the chosen one.
    fn still_removed(
        &self,
        searcher: &Searcher,
        text: &dyn Query,
        chosen: Vec<Candidate>,
    ) -> Result<Vec<Candidate>> {
        let f = self.shared.fields;
        let mut removed = Vec::new();
        for candidate in chosen {
            let latest = BooleanQuery::new(vec![
                (Occur::Must, text.box_clone()),
                (
                    Occur::Must,
                    term_query(Term::from_field_u64(f.page, candidate.page)),
                ),
                (
                    Occur::Must,
                    term_query(Term::from_field_bool(f.latest, true)),
                ),
            ]);
            if searcher.search(&latest, &Count)? == 0 {
                removed.push(candidate);
            }
        }
        Ok(removed)
    }

    fn hit(
        &self,
        document: &TantivyDocument,
        body: &str,
        score: f32,
        snippets: &SnippetGenerator,
    ) -> Hit {
        let f = self.shared.fields;
        let text = |field: Field| {
            document
                .get_first(field)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let time = |field: Field| {
            document
                .get_first(field)
                .and_then(|v| v.as_i64())
                .and_then(DateTime::from_timestamp_micros)
        };
        let matches = snippets.snippet(body);
        let (fragment, highlighted) = if matches.is_empty() {
            // Matched in the title or byline only: the text's opening.
            (opening(body), Vec::new())
        } else {
            around_matches(matches.fragment(), matches.highlighted())
        };
        Hit {
            url: text(f.url).unwrap_or_default(),
            title: text(f.title),
            host: text(f.host).unwrap_or_default(),
            language: text(f.language),
            version: document
                .get_first(f.version)
                .and_then(|v| v.as_u64())
                .unwrap_or(0),
            first_seen: time(f.first_seen).unwrap_or_default(),
            published: time(f.published),
            removed_in: None,
            score,
            snippet: fragment,
            highlighted,
        }
    }
}

/// How often a running crawl's index takes in what the crawl committed.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(5);

/// Keeps the index of the archive in `archive_dir` up to date while a crawl
/// writes to it: takes in the change log's new versions every
/// [`FOLLOW_EVERY`], off the runtime, and once more when `stop` fires. A
/// failure is logged, never fatal: the index is derived data, and the next
/// search or `reindex` catches up.
pub async fn follow<S: Store + Send + Sync + 'static>(
    archive_dir: PathBuf,
    archive: Arc<S>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let mut index: Option<SearchIndex> = None;
    loop {
        let stopping = tokio::select! {
            _ = &mut stop => true,
            _ = tokio::time::sleep(FOLLOW_EVERY) => false,
        };
        let (dir, store, held) = (archive_dir.clone(), archive.clone(), index.take());
        let updated = tokio::task::spawn_blocking(move || match held {
            Some(held) => held.update(&*store).map(|_| held),
            None => SearchIndex::open(&dir, &*store).map(|(opened, _)| opened),
        })
        .await;
        match updated {
            Ok(Ok(updated)) => index = Some(updated),
            Ok(Err(e)) => tracing::warn!("the search index could not follow the crawl: {e}"),
            Err(e) => tracing::warn!("the search index could not follow the crawl: {e}"),
        }
        if stopping {
            return;
        }
    }
}

/// A query for documents holding `term`.
fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// A version that matched, by page, as the index's fast fields give it.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    address: DocAddress,
    score: f32,
    page: u64,
    version: u64,
}

/// One candidate a page, in order of its best score: the best-scoring
/// version (the newest of equals), or with `last`, the newest version that
/// matched.
fn choose(searcher: &Searcher, top: Vec<(f32, DocAddress)>, last: bool) -> Result<Vec<Candidate>> {
    let mut chosen: Vec<Candidate> = Vec::new();
    let mut by_page: HashMap<u64, usize> = HashMap::new();
    for (score, address) in top {
        let fast = searcher.segment_reader(address.segment_ord).fast_fields();
        let value =
            |name: &str| -> Result<u64> { Ok(fast.u64(name)?.first(address.doc_id).unwrap_or(0)) };
        let candidate = Candidate {
            address,
            score,
            page: value("page")?,
            version: value("version")?,
        };
        match by_page.get(&candidate.page) {
            None => {
                by_page.insert(candidate.page, chosen.len());
                chosen.push(candidate);
            }
            Some(&i) => {
                let held = &mut chosen[i];
                let newer = held.version < candidate.version;
                if newer && (last || held.score == candidate.score) {
                    *held = Candidate {
                        score: held.score,
                        ..candidate
                    };
                }
            }
        }
    }
    Ok(chosen)
}

/// About [`SNIPPET_CHARS`] of `text` where the most `matches` (byte ranges)
/// fall, cut at spaces, with the ranges moved into it.
fn around_matches(text: &str, matches: &[Range<usize>]) -> (String, Vec<(usize, usize)>) {
    let Some(first) = matches.first() else {
        return (opening(text), Vec::new());
    };
    // The window that starts at a match and holds the most matches.
    let mut start = first.start;
    let mut most = 0;
    for (i, m) in matches.iter().enumerate() {
        let within = matches[i..]
            .iter()
            .take_while(|n| n.end <= m.start + SNIPPET_CHARS)
            .count();
        if within > most {
            (most, start) = (within, m.start);
        }
    }
    // A little context before the first match, from the start of a word.
    let mut from = start.saturating_sub(SNIPPET_CHARS / 5);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    if from > 0 {
        from = text[from..start]
            .find(' ')
            .map_or(start, |at| from + at + 1);
    }
    let mut to = (from + SNIPPET_CHARS).min(text.len());
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    if to < text.len() {
        to = text[..to].rfind(' ').filter(|&at| at > start).unwrap_or(to);
    }
    let ranges = matches
        .iter()
        .filter(|m| m.start >= from && m.end <= to)
        .map(|m| (m.start - from, m.end - from))
        .collect();
    (text[from..to].to_string(), ranges)
}

/// The first sentences of `text`, as a snippet when the body did not match.
fn opening(text: &str) -> String {
    let mut end = text.len().min(SNIPPET_CHARS);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// Commits what `writer` holds, recording the change log position it
/// reached, so that the next update starts after it; then lets the
/// segments' merges finish, so that frequent small updates do not leave
/// the index in many small segments (each costs every query).
fn commit_at(mut writer: IndexWriter, logged: u64) -> Result<()> {
    let mut commit = writer.prepare_commit()?;
    commit.set_payload(&logged.to_string());
    commit.commit()?;
    writer.wait_merging_threads()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(text: &str, matches: &[Range<usize>]) -> (String, Vec<String>) {
        let (snippet, ranges) = around_matches(text, matches);
        let marked = ranges
            .iter()
            .map(|&(a, b)| snippet[a..b].to_string())
            .collect();
        (snippet, marked)
    }

    fn find_all(text: &str, word: &str) -> Vec<Range<usize>> {
        text.match_indices(word)
            .map(|(at, w)| at..at + w.len())
            .collect()
    }

    #[test]
    fn a_snippet_shows_where_most_matches_fall_cut_at_words() {
        let filler = "lorem ipsum dolor sit amet ".repeat(20);
        let text = format!("{filler}comet once {filler}comet and comet again {filler}");
        let (snippet, marked) = window(&text, &find_all(&text, "comet"));
        assert_eq!(marked, ["comet", "comet"], "{snippet}");
        assert!(snippet.contains("comet and comet again"), "{snippet}");
        assert!(snippet.len() <= SNIPPET_CHARS, "{}", snippet.len());
        assert!(!snippet.starts_with(' ') && text.contains(&snippet));
        let first_word = snippet.split(' ').next().unwrap();
        assert!(["lorem", "ipsum", "dolor", "sit", "amet"].contains(&first_word));
    }

    #[test]
    fn a_snippet_never_cuts_a_character() {
        let text = "ä".repeat(300) + " ünïcödé " + &"ö".repeat(300);
        let (snippet, marked) = window(&text, &find_all(&text, "ünïcödé"));
        assert_eq!(marked, ["ünïcödé"]);
        assert!(snippet.len() <= SNIPPET_CHARS + 3);
        assert_eq!(window("", &[]).0, "");
    }
}
