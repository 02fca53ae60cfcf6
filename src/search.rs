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

use std::ops::Bound;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TEXT, TantivyDocument, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Index, IndexWriter, Term, doc};

use crate::archive::{ArchiveError, SEARCH_DIR, Store, UrlId};

/// Memory the index writer may buffer before it writes a segment.
const WRITER_BUDGET: usize = 50_000_000;
/// Candidates read per result asked for: a page matched by several of its
/// versions is one result.
const CANDIDATES_PER_RESULT: usize = 8;
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
            url: b.add_text_field("url", STRING | STORED),
            host: b.add_text_field("host", STRING | STORED),
            language: b.add_text_field("language", STRING | STORED),
            title: b.add_text_field("title", TEXT | STORED),
            author: b.add_text_field("author", TEXT | STORED),
            body: b.add_text_field("body", TEXT | STORED),
            version: b.add_u64_field("version", INDEXED | STORED),
            first_seen: b.add_i64_field("first_seen", INDEXED | STORED | FAST),
            published: b.add_i64_field("published", STORED),
            dated: b.add_i64_field("dated", INDEXED | FAST),
            latest: b.add_bool_field("latest", INDEXED | STORED),
        };
        (b.build(), fields)
    }
}

/// What a search asks.
#[derive(Debug, Clone, Default)]
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
}

/// The date a window of time narrows versions by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
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

/// The search index of one archive.
pub struct SearchIndex {
    index: Index,
    fields: Fields,
}

impl SearchIndex {
    /// Opens the index of the archive in `archive_dir` and brings it up to
    /// date with `archive`, building it first if there is none.
    pub fn open(archive_dir: &Path, archive: &impl Store) -> Result<(Self, u64)> {
        let dir = archive_dir.join(SEARCH_DIR);
        let (schema, fields) = Fields::schema();
        let fresh = !dir.join("meta.json").exists();
        std::fs::create_dir_all(&dir).map_err(|e| tantivy::TantivyError::IoError(e.into()))?;
        let index = if fresh {
            Index::create_in_dir(&dir, schema.clone())?
        } else {
            Index::open_in_dir(&dir)?
        };
        if index.schema() != schema {
            // Built by an earlier release with other fields: derived data,
            // so it is built again rather than misread.
            drop(index);
            return Self::rebuild(archive_dir, archive);
        }
        let search = SearchIndex { index, fields };
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
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(tantivy::TantivyError::IoError(e.into()).into());
            }
            _ => {}
        }
        Self::open(archive_dir, archive)
    }

    fn writer(&self) -> Result<IndexWriter> {
        Ok(self.index.writer_with_num_threads(1, WRITER_BUDGET)?)
    }

    /// Indexes every version of every page.
    fn build(&self, archive: &impl Store) -> Result<u64> {
        // The log's end is read first: what commits meanwhile is indexed
        // again by the next update, which replaces it.
        let logged = archive.last_change_logged()?;
        let mut writer = self.writer()?;
        let mut indexed = 0;
        for page in archive.pages() {
            let (id, page) = page?;
            for number in 1..=page.versions {
                indexed += u64::from(self.add_version(&writer, archive, id, number)?);
            }
        }
        commit_at(&mut writer, logged)?;
        Ok(indexed)
    }

    /// Indexes the versions committed since the index's last commit.
    pub fn update(&self, archive: &impl Store) -> Result<u64> {
        let from = self.position()?;
        let mut writer = self.writer()?;
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
        if last != from {
            commit_at(&mut writer, last)?;
        }
        Ok(indexed)
    }

    /// The change log's sequence number the index has read up to.
    fn position(&self) -> Result<u64> {
        let metas = self.index.load_metas()?;
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
        let f = self.fields;
        let key = format!("{}:{number}", id.0);
        writer.delete_term(Term::from_field_text(f.key, &key));
        let article = &version.article;
        let first_seen = version.first_seen.timestamp_micros();
        let published = article.published.map(|p| p.timestamp_micros());
        let mut document = doc!(
            f.key => key,
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
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>> {
        let f = self.fields;
        let reader = self.index.reader()?;
        let searcher = reader.searcher();
        let mut parser = QueryParser::for_index(&self.index, vec![f.title, f.body, f.author]);
        parser.set_conjunction_by_default();
        parser.set_field_boost(f.title, 2.0);
        let text_query = parser.parse_query(&query.text)?;
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
        let mut snippets = SnippetGenerator::create(&searcher, &*text_query, f.body)?;
        snippets.set_max_num_chars(200);
        let mut hits: Vec<Hit> = Vec::new();
        for (score, address) in top {
            let document: TantivyDocument = searcher.doc(address)?;
            let hit = self.hit(&document, score, &snippets);
            match hits.iter().position(|h| h.url == hit.url) {
                // One result a page: its best-scoring version, the newest of
                // equals; for removed text, the last version that had it.
                Some(i) if query.removed && hits[i].version < hit.version => {
                    hits[i] = Hit {
                        score: hits[i].score,
                        ..hit
                    };
                }
                Some(i) if hits[i].score == hit.score && hits[i].version < hit.version => {
                    hits[i] = hit;
                }
                Some(_) => {}
                None if query.removed || hits.len() < limit => hits.push(hit),
                None => {}
            }
        }
        if query.removed {
            hits = self.still_removed(&searcher, &*text_query, hits, limit)?;
        }
        Ok(hits)
    }

    /// The range of `dated` or `first_seen` a query's window asks for.
    fn window(&self, query: &SearchQuery) -> Option<Box<dyn Query>> {
        if query.since.is_none() && query.until.is_none() {
            return None;
        }
        let field = match query.dated_by {
            DatedBy::Published => self.fields.dated,
            DatedBy::Captured => self.fields.first_seen,
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

    /// Of `hits` (each page's last version matching `text`), those whose
    /// latest version does not match, naming the version after the hit's as
    /// where the text disappeared; at most `limit`.
    fn still_removed(
        &self,
        searcher: &tantivy::Searcher,
        text: &dyn Query,
        hits: Vec<Hit>,
        limit: usize,
    ) -> Result<Vec<Hit>> {
        let f = self.fields;
        let mut removed = Vec::new();
        for mut hit in hits {
            let latest = BooleanQuery::new(vec![
                (Occur::Must, text.box_clone()),
                (
                    Occur::Must,
                    term_query(Term::from_field_text(f.url, &hit.url)),
                ),
                (
                    Occur::Must,
                    term_query(Term::from_field_bool(f.latest, true)),
                ),
            ]);
            if searcher.search(&latest, &Count)? > 0 {
                continue;
            }
            hit.removed_in = Some(hit.version + 1);
            removed.push(hit);
            if removed.len() == limit {
                break;
            }
        }
        Ok(removed)
    }

    fn hit(&self, document: &TantivyDocument, score: f32, snippets: &SnippetGenerator) -> Hit {
        let f = self.fields;
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
        let snippet = snippets.snippet_from_doc(document);
        let (fragment, highlighted) = if snippet.is_empty() {
            // Matched in the title or byline only: the text's opening.
            (opening(&text(f.body).unwrap_or_default()), Vec::new())
        } else {
            let ranges = snippet.highlighted().iter().map(|r| (r.start, r.end));
            (snippet.fragment().to_string(), ranges.collect())
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

/// A query for documents holding `term`.
fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// The first sentences of `text`, as a snippet when the body did not match.
fn opening(text: &str) -> String {
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// Commits what `writer` holds, recording the change log position it
/// reached, so that the next update starts after it.
fn commit_at(writer: &mut IndexWriter, logged: u64) -> Result<()> {
    let mut commit = writer.prepare_commit()?;
    commit.set_payload(&logged.to_string());
    commit.commit()?;
    Ok(())
}
