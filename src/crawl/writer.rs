//! The archive writer: the only code that writes during a crawl. It takes
//! processed pages off a bounded channel and commits them in batches, each
//! batch one atomic transaction: captures, payloads, versions, provenance
//! links, newly admitted URLs and the frontier entries they complete. It
//! holds crawl policy only; captures become versions in `crawl::capture`,
//! retries are decided by `crawl::retry`, revisits by `crawl::revisit`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::Shared;
use super::capture::{self, Shows};
use super::process::{Captured, PageResult, Processed};
use super::retry::{RetryPolicy, Verdict};
use super::revisit;
use super::share::{self, Leases};
use super::stats::{ErrorCause, PassStart};
use crate::archive::{
    Archive, CaptureRecord, FoundLink, HostId, PageRecord, PageState, PassRecord, Result,
    RobotsRecord, Staging, Store, Txn, UrlId, Via,
};
use crate::canonical::CanonicalUrl;
use crate::config::CrawlConfig;
use crate::digest::ContentDigest;
use crate::frontier::{self, Admitter, Discovered, Found, Origin, Placement};

/// Results committed per batch at most.
const BATCH: usize = 256;
/// Writes a transaction may stage before it is committed, whatever the
/// batch: the store holds them (and the database's copies of the tree
/// nodes they touch) in memory until then, and pages that each admit
/// thousands of links would make that grow without bound.
const MAX_STAGED_WRITES: usize = 4_000;

/// What the crawl sends the writer.
#[derive(Debug)]
pub enum WriterMsg {
    Page(Box<Processed>),
    Robots {
        authority: String,
        record: RobotsRecord,
        sitemaps: Vec<CanonicalUrl>,
    },
    /// Wakes the writer to re-check whether the crawl is over.
    Tick,
}

pub(super) struct Writer {
    shared: Arc<Shared>,
    admitter: Admitter,
    /// In a crawl shared with other processes: the hosts' leases.
    leases: Option<Leases>,
    /// Seed host → the sites that seed redirected to (see `frontier::judge`).
    moved: HashMap<String, Vec<String>>,
    retry: RetryPolicy,
}

impl Writer {
    pub fn new(shared: Arc<Shared>, admitter: Admitter) -> Result<Self> {
        let moved = shared.archive.moved_scopes()?;
        let retry = RetryPolicy::new(shared.config.max_retries);
        let leases = shared
            .archive
            .shares_crawl()
            .then(|| Leases::new(&shared.config));
        Ok(Self {
            shared,
            admitter,
            leases,
            moved,
            retry,
        })
    }

    fn archive(&self) -> &Archive {
        &self.shared.archive
    }

    fn config(&self) -> &CrawlConfig {
        &self.shared.config
    }

    /// Runs until every sender is gone, committing batches as results arrive.
    pub fn run(mut self, mut rx: mpsc::Receiver<WriterMsg>) -> Result<()> {
        // Nothing queued at the start: the pass is already complete.
        self.check_done()?;
        while !self.shared.is_finished() {
            let Some(first) = rx.blocking_recv() else {
                break;
            };
            let mut msgs = vec![first];
            while msgs.len() < BATCH {
                match rx.try_recv() {
                    Ok(m) => msgs.push(m),
                    Err(_) => break,
                }
            }
            self.commit(msgs)?;
            // Durable before the next batch: a page whose capture is committed
            // is never fetched again, even after `kill -9`. Under load batches
            // grow while the disk syncs, so this costs little throughput.
            self.archive().flush()?;
            if let Some(leases) = self.leases.as_mut().filter(|l| l.is_due()) {
                leases.keep(&self.shared, &mut self.admitter)?;
            }
            self.check_done()?;
        }
        self.archive().flush()
    }

    fn commit(&mut self, msgs: Vec<WriterMsg>) -> Result<()> {
        let archive = self.shared.archive.clone();
        let mut st = archive.begin();
        let mut completed = Vec::new();
        let mut counted = 0;
        let now = self.shared.clock.now();
        for msg in msgs {
            // A page's writes stay in one transaction; between pages, a
            // transaction that grew large is committed.
            if st.staged_writes() >= MAX_STAGED_WRITES {
                self.apply(st, std::mem::take(&mut completed), counted)?;
                st = archive.begin();
                counted = 0;
            }
            match msg {
                WriterMsg::Page(p) => {
                    counted += 1;
                    completed.push((p.entry.host, p.entry.url));
                    self.page(&mut st, *p, now)?;
                }
                WriterMsg::Robots {
                    authority,
                    record,
                    sitemaps,
                } => {
                    counted += 1;
                    self.robots(&mut st, &authority, record, sitemaps, now)?;
                }
                WriterMsg::Tick => {}
            }
        }
        self.apply(st, completed, counted)
    }

    /// Commits a transaction of `counted` results, `completed` pages among
    /// them, and tells the crawl what is now durable.
    fn apply(
        &mut self,
        mut st: Staging<'_>,
        completed: Vec<(HostId, UrlId)>,
        counted: usize,
    ) -> Result<()> {
        self.admitter.persist(&mut st)?;
        match &self.leases {
            Some(leases) => {
                leases.seal(&mut st, &mut self.admitter, self.shared.clock.now());
                leases.commit_sealed(&self.shared, st)?;
            }
            None => self.shared.archive.commit(st)?,
        }
        let woken = self.admitter.take_woken();
        let (queue_full, listings) = self.admitter.take_refused();
        self.shared.stats.refused(queue_full, listings);
        self.shared.stats.queued.set(self.admitter.queued());
        self.shared.committed(counted, &completed, &woken);
        Ok(())
    }

    /// Ends the pass when nothing is queued or in flight; ends the run when
    /// stopping and nothing is in flight.
    fn check_done(&mut self) -> Result<()> {
        if self.shared.outstanding() > 0 {
            return Ok(());
        }
        if self.shared.is_stopping() {
            if let Some(leases) = &self.leases {
                leases.release_all(&self.shared, &mut self.admitter)?;
            }
            self.archive().flush()?;
            self.shared.finish(false);
        } else if let Some(leases) = self.leases.as_mut() {
            // The pass is over when no process holds a host or has work
            // waiting; until then this one looks for hosts to take.
            leases.keep(&self.shared, &mut self.admitter)?;
            let holds_none = self.admitter.sharing().is_none_or(|s| s.held.is_empty());
            if holds_none && self.shared.outstanding() == 0 && self.archive().shared_crawl_idle()? {
                self.finish_pass()?;
            }
        } else if self.archive().queue_is_empty()? {
            self.finish_pass()?;
        }
        Ok(())
    }

    /// Records the pass as finished and ends the crawl.
    fn finish_pass(&mut self) -> Result<()> {
        let archive = self.shared.archive.clone();
        let mut st = archive.begin();
        self.admitter.pass.finished_at = Some(self.shared.clock.now());
        self.admitter.persist(&mut st)?;
        archive.commit(st)?;
        archive.flush()?;
        self.shared.finish(true);
        Ok(())
    }

    fn robots(
        &mut self,
        st: &mut Staging<'_>,
        authority: &str,
        record: RobotsRecord,
        sitemaps: Vec<CanonicalUrl>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut host = self.admitter.host(st, authority)?;
        host.robots = Some(record);
        st.put_host(authority, &host)?;
        // Sitemaps are followed for the seeds' own sites only, wherever
        // they are kept (often on a CDN host).
        let robots_host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
        for sitemap in sitemaps {
            if let Some(scope) = self.config().scope_of(robots_host) {
                let place = Placement {
                    depth: 0,
                    source_hops: 0,
                    scope: scope.host.clone(),
                };
                let origin = Origin::Listing;
                self.admitter
                    .admit(st, &sitemap, place, Via::Robots, origin, now)?;
            }
        }
        Ok(())
    }

    fn page(&mut self, st: &mut Staging<'_>, p: Processed, now: DateTime<Utc>) -> Result<()> {
        let entry = p.entry;
        let Some(mut page) = st.page(entry.url)? else {
            // A queue entry without its page cannot be fetched; drop it.
            self.admitter.complete(st, &entry);
            return Ok(());
        };
        // Fetched: while it is processed, the entry no longer counts toward
        // its host's frontier bound (its links are admitted meanwhile).
        let awaited = frontier::awaits_first_capture(&page);
        if awaited {
            self.admitter.settled(entry.host);
        }
        match p.result {
            PageResult::Disallowed(refusal) => {
                // A robots.txt that could not be read is the host's failure,
                // not its wish: it is counted, and said, as an error.
                if refusal.is_rules() {
                    self.shared.stats.disallowed.inc();
                } else {
                    self.shared.stats.error(ErrorCause::RobotsUnreadable);
                }
                page.state = PageState::Disallowed;
                page.last_error = Some(refusal.to_string());
                self.done_with(st, &entry, &mut page, now);
            }
            PageResult::Failed(e) => {
                page.last_error = Some(e.to_string());
                match self.retry.after_error(page.attempts, e.is_transient()) {
                    Verdict::RetryIn(delay) => {
                        page.attempts += 1;
                        page.due = Some(self.admitter.requeue(st, &entry, now + delay));
                    }
                    Verdict::Keep | Verdict::PausedTooLong(_) => {
                        self.shared.stats.error(ErrorCause::of_fetch(&e));
                        page.state = PageState::Failed;
                        self.done_with(st, &entry, &mut page, now);
                    }
                }
            }
            PageResult::Captured(c) => self.captured(st, &entry, &mut page, *c, now)?,
        }
        if awaited && frontier::awaits_first_capture(&page) {
            // Retried without a response: it awaits its first capture again.
            self.admitter.awaits(entry.host);
        }
        st.put_page(entry.url, &page)
    }

    /// A page is done for now: off the frontier, or (when watching) queued
    /// again for its next revisit.
    fn done_with(
        &mut self,
        st: &mut Staging<'_>,
        entry: &frontier::QueueEntry,
        page: &mut PageRecord,
        now: DateTime<Utc>,
    ) {
        page.attempts = 0;
        match self.next_visit(page, now) {
            Some(next) => page.due = Some(self.admitter.requeue(st, entry, next)),
            None => {
                self.admitter.complete(st, entry);
                page.due = None;
            }
        }
    }

    /// When `watch` should fetch a page again (a crawl never does).
    fn next_visit(&self, page: &PageRecord, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let config = self.config();
        if !config.watch {
            return None;
        }
        let scope = config.scope_of(&page.scope).map(|s| s.as_ref());
        revisit::next_visit(scope.unwrap_or(&config.default_scope), page, now)
    }

    fn captured(
        &mut self,
        st: &mut Staging<'_>,
        entry: &frontier::QueueEntry,
        page: &mut PageRecord,
        c: Captured,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let Captured {
            mut capture,
            new_payload,
            article,
            found,
            retry_after,
            is_listing,
            analysis_error,
        } = c;
        let extraction_failed = capture.error.is_none() && analysis_error.is_some();
        if extraction_failed {
            capture.error = analysis_error;
        }
        let stats = self.shared.stats.clone();
        stats.captures.inc();
        stats.bytes.add(capture.payload_len);
        if let (Some(digest), Some(blob)) = (&capture.payload, new_payload) {
            let reference = blob.is_plain() && Self::fit_for_reference(&capture);
            st.store_payload(digest, blob)?;
            if reference {
                self.offer_reference(st, &capture, *digest)?;
            }
        }
        let status = capture.status;
        if let Some(pause) = retry_after {
            self.remember_pause(st, &capture, pause)?;
        }
        let verdict = self
            .retry
            .after_response(page.attempts, status, retry_after);
        if let Verdict::RetryIn(wait) = verdict {
            page.attempts += 1;
            page.last_error = Some(format!("HTTP {status}, retrying"));
            page.due = Some(self.admitter.requeue(st, entry, now + wait));
            capture::record_capture(st, entry.url, page, &mut capture, Shows::Nothing)?;
            return Ok(());
        }
        self.settle(page, &mut capture, verdict, extraction_failed);
        if (200..300).contains(&status) && capture.truncated.is_none() {
            page.etag = capture.header("etag").map(str::to_string);
            page.last_modified = capture.header("last-modified").map(str::to_string);
            page.listing = is_listing;
        }
        let shows = match article {
            Some(article) => Shows::Article(Box::new(article)),
            None if status == 304 => Shows::NotModified,
            None => Shows::Nothing,
        };
        if capture::record_capture(st, entry.url, page, &mut capture, shows)?.new_version {
            stats.new_versions.inc();
        }
        self.follow_seed_redirect(st, page, &capture)?;
        self.links(st, entry.url, page, found, now)?;
        self.done_with(st, entry, page, now);
        Ok(())
    }

    /// A response kept for this pass: the page's state and error say what
    /// it was, and the crawl's error counts take it in.
    fn settle(
        &self,
        page: &mut PageRecord,
        capture: &mut CaptureRecord,
        verdict: Verdict,
        extraction_failed: bool,
    ) {
        let status = capture.status;
        if let Verdict::PausedTooLong(pause) = verdict {
            capture.error.get_or_insert_with(|| {
                format!(
                    "HTTP {status} with Retry-After {}s: not retried in this run",
                    pause.as_secs()
                )
            });
        }
        page.last_error = capture
            .error
            .clone()
            .or_else(|| (status >= 400).then(|| format!("HTTP {status}")));
        page.state = if page.last_error.is_some() {
            self.shared.stats.error(ErrorCause::of_response(
                status,
                capture.truncated,
                matches!(verdict, Verdict::PausedTooLong(_)),
                extraction_failed,
            ));
            PageState::Failed
        } else {
            self.shared.stats.fetched.inc();
            PageState::Fetched
        };
    }

    /// A `Retry-After` holds for the next run too: the host's record keeps
    /// until when it asked to be left alone.
    /// A whole HTML page of some size, stored alone: a host's first such
    /// page becomes its reference (see `HostRecord::reference`).
    fn fit_for_reference(capture: &CaptureRecord) -> bool {
        const SMALLEST: u64 = 4096;
        capture.status == 200
            && capture.truncated.is_none()
            && capture.payload_len >= SMALLEST
            && super::process::is_html(capture.header("content-type"), &[])
    }

    fn offer_reference(
        &mut self,
        st: &mut Staging<'_>,
        capture: &CaptureRecord,
        digest: ContentDigest,
    ) -> Result<()> {
        let Ok(url) = CanonicalUrl::parse(&capture.requested_url) else {
            return Ok(());
        };
        let authority = url.authority();
        let mut host = self.admitter.host(st, &authority)?;
        if host.reference.is_none() {
            host.reference = Some(digest);
            st.put_host(&authority, &host)?;
        }
        Ok(())
    }

    fn remember_pause(
        &mut self,
        st: &mut Staging<'_>,
        capture: &CaptureRecord,
        pause: std::time::Duration,
    ) -> Result<()> {
        let Ok(url) = CanonicalUrl::parse(&capture.final_url) else {
            return Ok(());
        };
        let authority = url.authority();
        let mut host = self.admitter.host(st, &authority)?;
        let pause = chrono::TimeDelta::from_std(pause.min(std::time::Duration::from_secs(86_400)))
            .unwrap_or_default();
        host.paused_until = Some(capture.fetched_at + pause);
        st.put_host(&authority, &host)
    }

    /// A seed that redirects to another site brings that site into the
    /// seed's scope, as seed redirects do in Heritrix: a news site moved to
    /// a new domain is crawled where it now lives.
    fn follow_seed_redirect(
        &mut self,
        st: &mut Staging<'_>,
        page: &PageRecord,
        capture: &CaptureRecord,
    ) -> Result<()> {
        if page.via != Via::Seed {
            return Ok(());
        }
        let Ok(landed) = CanonicalUrl::parse(&capture.final_url) else {
            return Ok(());
        };
        let host = landed.host();
        if crate::config::same_site(host, &page.scope) {
            return Ok(());
        }
        let moved = self.moved.entry(page.scope.clone()).or_default();
        if moved.iter().any(|m| crate::config::same_site(m, host)) {
            return Ok(());
        }
        moved.push(host.to_string());
        st.put_moved_scope(&page.scope, moved)
    }

    fn links(
        &mut self,
        st: &mut Staging<'_>,
        from: UrlId,
        page: &PageRecord,
        found: Vec<Discovered>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut done = HashSet::new();
        let moved_to = self.moved.get(&page.scope).cloned().unwrap_or_default();
        let index_nesting = index_nesting(st, page)?;
        st.read_ahead_urls(&found.iter().map(|d| &d.url).collect::<Vec<_>>())?;
        for Discovered { url, how, updated } in found {
            if url == page.url || !done.insert((url.clone(), how)) {
                continue;
            }
            if how == Found::Sitemap && index_nesting > MAX_INDEX_NESTING {
                continue;
            }
            let Some(place) = frontier::judge(self.config(), &moved_to, page, &url, how) else {
                continue;
            };
            let via = match how {
                Found::Link => Via::Link(from),
                Found::Source => Via::Source(from),
                Found::Sitemap => Via::Sitemap(from),
                Found::Listing => Via::Feed(from),
                Found::Entry => match page.via {
                    Via::Robots | Via::Sitemap(_) => Via::Sitemap(from),
                    _ => Via::Feed(from),
                },
            };
            let origin = match how {
                Found::Listing | Found::Sitemap => Origin::Listing,
                Found::Link | Found::Source | Found::Entry => Origin::Found,
            };
            let link = FoundLink {
                url,
                depth: place.depth,
                source_hops: place.source_hops,
                scope: place.scope,
                via,
                origin,
                updated: updated.map(|u| u.to_utc()),
            };
            self.admitter.admit_link(st, link, now)?;
        }
        Ok(())
    }
}

/// Sitemap indexes named by sitemap indexes are read this many levels deep
/// at most. The protocol allows none; sites nest one level; a trap nests
/// without end, 50 000 entries a document.
const MAX_INDEX_NESTING: u32 = 1;

/// How many sitemap indexes stand between `page` and the robots.txt or
/// page that named the first (0 for a sitemap named by robots.txt).
fn index_nesting(st: &Staging<'_>, page: &PageRecord) -> Result<u32> {
    let mut nesting = 0;
    let mut via = page.via;
    while let Via::Sitemap(parent) = via {
        nesting += 1;
        if nesting > MAX_INDEX_NESTING {
            break;
        }
        match st.page(parent)? {
            Some(p) => via = p.via,
            None => break,
        }
    }
    Ok(nesting)
}

/// Starts a crawl pass or resumes the interrupted one, queueing
/// the seeds and, for a new pass, every known page of the seeds' sites.
pub(super) fn start_pass(
    archive: &Arc<Archive>,
    config: &CrawlConfig,
) -> Result<(Admitter, PassStart)> {
    // Crawling processes sharing the archive start or join a pass one at
    // a time: the first starts it, the others join it.
    archive.starting_pass(|| start_or_resume(archive, config))
}

fn start_or_resume(archive: &Arc<Archive>, config: &CrawlConfig) -> Result<(Admitter, PassStart)> {
    let now = config.clock.now();
    let previous = archive.pass()?;
    let resume = previous
        .as_ref()
        .is_some_and(|p| !p.is_finished() && p.watch == config.watch)
        && !config.fresh;
    let pass = match previous.clone().filter(|_| resume) {
        Some(interrupted) => interrupted,
        None => PassRecord {
            number: previous.as_ref().map_or(1, |p| p.number + 1),
            started_at: now,
            finished_at: None,
            admitted: 0,
            watch: config.watch,
        },
    };
    if !resume {
        // Entries left by an interrupted pass belong to it, not to this one.
        archive.clear_queue()?;
        if archive.shares_crawl() {
            archive.forget_shared_crawl()?;
        }
    }
    // Counted after the clearing: the queue as this pass finds it.
    let mut admitter = Admitter::new(&**archive, pass, config)?;
    if archive.shares_crawl() {
        // Seeds and known pages go to their hosts' holders, like links.
        admitter.share(share::sharing(archive));
    }
    let mut st = archive.begin();
    for seed in &config.seeds {
        let place = Placement {
            depth: 0,
            source_hops: 0,
            scope: seed.scope.host.clone(),
        };
        admitter.admit(&mut st, &seed.url, place, Via::Seed, Origin::Asked, now)?;
    }
    admitter.persist(&mut st)?;
    archive.commit(st)?;
    if !resume && previous.is_some() {
        revisit_known_pages(archive, config, &mut admitter, now)?;
    }
    admitter.take_woken();
    let start = match resume {
        false => PassStart::New,
        // Other processes hold hosts or have work waiting: they crawl it.
        true if archive.shares_crawl() && !archive.shared_crawl_idle()? => PassStart::Joined,
        true => PassStart::Resumed,
    };
    Ok((admitter, start))
}

/// A new pass revisits every archived page of the seeds' sites (with
/// conditional requests), in batches so memory stays flat.
fn revisit_known_pages(
    archive: &Archive,
    config: &CrawlConfig,
    admitter: &mut Admitter,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut batch: Vec<PageRecord> = Vec::new();
    let pages = archive.pages();
    let flush = |admitter: &mut Admitter, batch: &mut Vec<PageRecord>| -> Result<()> {
        let mut st = archive.begin();
        for page in batch.drain(..) {
            let place = Placement {
                depth: page.depth,
                source_hops: page.source_hops,
                scope: page.scope.clone(),
            };
            admitter.admit(&mut st, &page.url, place, page.via, Origin::Asked, now)?;
        }
        admitter.persist(&mut st)?;
        archive.commit(st)
    };
    for item in pages {
        let (_, page) = item?;
        if config.scope_of(&page.scope).is_some() {
            batch.push(page);
            if batch.len() >= 5_000 {
                flush(admitter, &mut batch)?;
            }
        }
    }
    flush(admitter, &mut batch)
}
