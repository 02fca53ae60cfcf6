//! The frontier: what to fetch next and when. It lives in the archive (the
//! `queue` table: host, due time, URL), so a frontier of millions of URLs
//! costs disk, not memory, and survives a crash with the captures it leads to.
//!
//! Reads ([`next_due`], [`soonest`]) run in the fetch workers and readers; writes
//! ([`Admitter`]) run only in the archive writer, inside the same batch as the
//! capture that discovered or completed an entry.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::archive::{
    FoundLink, HostId, HostRecord, IdCounters, PageRecord, PageState, PassRecord, Result, Store,
    Txn, UrlId, Via, micros,
};
pub use crate::archive::{Origin, QueueEntry};
use crate::canonical::CanonicalUrl;
use crate::config::{CrawlConfig, Scope};

/// What a host's queue holds for a worker right now.
#[derive(Debug, PartialEq, Eq)]
pub enum NextDue {
    /// This entry is due now.
    Ready(QueueEntry),
    /// Nothing due yet; the earliest entry is due then (µs since epoch).
    Later(u64),
    /// Nothing queued for the host besides entries in flight.
    Empty,
}

/// The first entry of `host` not already in flight.
pub fn next_due(
    archive: &impl Store,
    host: HostId,
    now: u64,
    in_flight: &HashSet<UrlId>,
) -> Result<NextDue> {
    for entry in archive.queue_of(host) {
        let entry = entry?;
        if in_flight.contains(&entry.url) {
            continue;
        }
        return Ok(if entry.due <= now {
            NextDue::Ready(entry)
        } else {
            NextDue::Later(entry.due)
        });
    }
    Ok(NextDue::Empty)
}

/// The `limit` entries due soonest over every host. Each host's queue is
/// ordered by due time, so at most `limit` entries of each are read, never
/// the whole frontier.
pub fn soonest(archive: &impl Store, limit: usize) -> Result<Vec<QueueEntry>> {
    let by_due = |e: &QueueEntry| (e.due, e.url.0);
    let mut out: Vec<QueueEntry> = Vec::new();
    for host in archive.queue_hosts()? {
        for entry in archive.queue_of(host).take(limit) {
            out.push(entry?);
        }
        if out.len() > 4 * limit.max(1) {
            out.sort_unstable_by_key(by_due);
            out.truncate(limit);
        }
    }
    out.sort_unstable_by_key(by_due);
    out.truncate(limit);
    Ok(out)
}

/// How a URL was found, which decides its depth and whether it is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Found {
    /// A hyperlink: one hop deeper, within the seed's scope.
    Link,
    /// A source the article cites: followed off-site up to `source_hops`.
    Source,
    /// A feed a page advertises: same depth.
    Listing,
    /// A sitemap that a sitemap index names: same depth. The writer
    /// follows these only one index deep (see `MAX_INDEX_NESTING`).
    Sitemap,
    /// A page a sitemap or feed names: one hop deeper.
    Entry,
}

/// A URL found on a page, with how it was found and, from sitemaps and
/// feeds, when it last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Discovered {
    pub(crate) url: CanonicalUrl,
    pub(crate) how: Found,
    pub(crate) updated: Option<DateTime<chrono::FixedOffset>>,
}

/// Where a discovered URL goes: its depth, source hops and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Link hops from the seed.
    pub depth: u32,
    /// Hops taken through source links off the seed's site.
    pub source_hops: u32,
    /// The seed host whose scope rules apply to the URL's links.
    pub scope: String,
}

/// The number of queued entries, and per host those that await a first
/// capture (one page read an entry: once, when a crawl starts).
fn count_queue(archive: &impl Store) -> Result<(u64, HashMap<HostId, u64>)> {
    let mut queued = 0;
    let mut awaiting = HashMap::new();
    for host in archive.queue_hosts()? {
        for entry in archive.queue_of(host) {
            let entry = entry?;
            queued += 1;
            if archive
                .page(entry.url)?
                .is_some_and(|p| awaits_first_capture(&p))
            {
                *awaiting.entry(host).or_default() += 1;
            }
        }
    }
    Ok((queued, awaiting))
}

/// Decides whether `url`, found on `parent`, is followed, and where.
/// `moved_to` lists the sites the seed of `parent`'s scope redirected to:
/// they count as the seed's site (`paper.example` → `paper.example.net`).
pub(crate) fn judge(
    config: &CrawlConfig,
    moved_to: &[String],
    parent: &PageRecord,
    url: &CanonicalUrl,
    found: Found,
) -> Option<Placement> {
    let default;
    let scope: &Scope = match config.scope_of(&parent.scope) {
        Some(s) => s,
        None => {
            default = Scope {
                host: parent.scope.clone(),
                ..config.default_scope.clone()
            };
            &default
        }
    };
    let in_scope = scope.contains(url) || moved_to.iter().any(|m| scope.contains_on(url, m));
    let on_site = |host: &str| {
        crate::config::same_site(host, &scope.host)
            || moved_to.iter().any(|m| crate::config::same_site(host, m))
    };
    let step = match found {
        Found::Listing | Found::Sitemap => 0,
        Found::Link | Found::Source | Found::Entry => 1,
    };
    let depth = parent.depth.saturating_add(step);
    let here = |source_hops| Placement {
        depth,
        source_hops,
        scope: parent.scope.clone(),
    };
    // A cited page off the seed's site is archived, not the site around it:
    // from there only further source links are followed.
    let parent_cited = parent.source_hops > 0 && !on_site(parent.url.host());
    if in_scope && depth <= scope.depth && !(parent_cited && found != Found::Source) {
        return Some(here(parent.source_hops));
    }
    // Feeds and sitemaps of the site may be kept on another host (a CDN):
    // a page of the site, or an index its robots.txt names, may lead to
    // one, whose entries are still judged by the site's scope. From there
    // no further listing off the site is followed.
    let parent_vouches = parent.via == Via::Robots || scope.contains(&parent.url);
    let is_listing = matches!(found, Found::Listing | Found::Sitemap);
    if is_listing && parent_vouches && !parent_cited && depth <= scope.depth {
        return Some(here(parent.source_hops));
    }
    if found == Found::Source && parent.source_hops < scope.source_hops {
        return Some(here(parent.source_hops + 1));
    }
    None
}

/// URLs a bound kept out of the frontier: how many, and the first hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refused {
    /// URLs refused.
    pub urls: u64,
    /// The first few hosts refused (authorities), each once.
    pub hosts: Vec<String>,
}

/// Hosts named at most in a [`Refused`].
const REFUSED_NAMED: usize = 3;

impl Refused {
    fn count(&mut self, authority: &str) {
        self.urls += 1;
        if self.hosts.len() < REFUSED_NAMED && !self.hosts.iter().any(|h| h == authority) {
            self.hosts.push(authority.to_string());
        }
    }
}

/// Whether `page`'s frontier entry counts toward its host's frontier
/// bound: it waits for the page's first capture. Revisits, retries after a
/// response and `watch`'s schedule are of captured pages, which grow only
/// as fast as pages are fetched.
pub(crate) fn awaits_first_capture(page: &PageRecord) -> bool {
    page.state == PageState::Queued && page.captures == 0
}

/// The write side of the frontier, owned by the archive writer: assigns
/// identifiers, deduplicates per pass, enforces page limits and the
/// per-host bounds (URLs awaiting a first capture, listings per pass).
pub struct Admitter {
    pub(crate) pass: PassRecord,
    ids: IdCounters,
    max_pages: Option<u64>,
    max_pages_per_host: Option<u64>,
    max_queue_per_host: u64,
    max_listings_per_host: u64,
    /// Hosts that gained entries since the last [`Admitter::take_woken`].
    woken: HashSet<HostId>,
    /// Entries in the queue (counted once at start, then kept up to date).
    queued: u64,
    /// Per host, queued entries that await a first capture (see
    /// [`awaits_first_capture`]); hosts with none are absent.
    awaiting: HashMap<HostId, u64>,
    /// URLs refused since the last [`Admitter::take_refused`]: by the
    /// frontier bound, and by the listing bound.
    refused: (Refused, Refused),
    /// In a crawl shared with other processes: which hosts this one holds.
    sharing: Option<Sharing>,
}

/// What crawling processes sharing an archive hand out among themselves.
pub trait Handout: Send {
    /// Reserves `urls` URL ids and `hosts` host ids no other process
    /// gives: the first of each.
    fn reserve_ids(&self, urls: u64, hosts: u64) -> Result<IdCounters>;
    /// Takes up to `want` of the `max` admissions pass `pass` allows over
    /// all processes; how many it got.
    fn take_admissions(&self, pass: u64, want: u64, max: u64) -> Result<u64>;
}

/// What admission needs in a crawl shared with other processes: URLs of
/// hosts this process does not hold are routed to their holder, who
/// admits them (so each is admitted once), and ids come from blocks no
/// other process gives.
pub struct Sharing {
    /// The hosts held (authority → id, once known).
    pub held: HashMap<String, Option<HostId>>,
    handout: Box<dyn Handout>,
    /// The end of the id blocks reserved (`ids` runs up to it).
    reserved: IdCounters,
    /// Admissions taken (`--max-pages`) and not yet used.
    admissions: u64,
    /// No admission is left for the pass.
    admissions_spent: bool,
}

/// Ids reserved at a time by a crawling process that shares its archive.
const URL_IDS_AT_ONCE: u64 = 512;
const HOST_IDS_AT_ONCE: u64 = 16;
/// Admissions (`--max-pages`) taken at a time: a process that ends
/// leaves at most this many unused.
const ADMISSIONS_AT_ONCE: u64 = 16;

impl Sharing {
    /// Holding no host yet, with no ids reserved.
    pub fn new(handout: Box<dyn Handout>) -> Self {
        Self {
            held: HashMap::new(),
            handout,
            reserved: IdCounters {
                next_url: 0,
                next_host: 0,
            },
            admissions: 0,
            admissions_spent: false,
        }
    }
}

impl Admitter {
    /// Loads counters and the pass record; `pass` is the pass being crawled.
    pub fn new(archive: &impl Store, pass: PassRecord, config: &CrawlConfig) -> Result<Self> {
        let (queued, awaiting) = count_queue(archive)?;
        Ok(Self {
            pass,
            ids: archive.id_counters()?,
            max_pages: config.max_pages,
            max_pages_per_host: config.max_pages_per_host,
            max_queue_per_host: config.max_queue_per_host,
            max_listings_per_host: config.max_listings_per_host,
            woken: HashSet::new(),
            queued,
            awaiting,
            refused: Default::default(),
            sharing: None,
        })
    }

    /// Admits as one of several crawling processes sharing the archive.
    pub fn share(&mut self, sharing: Sharing) {
        self.sharing = Some(sharing);
    }

    /// The hosts held, in a shared crawl.
    pub fn sharing(&mut self) -> Option<&mut Sharing> {
        self.sharing.as_mut()
    }

    /// The next URL id (or host id): from a block reserved for this
    /// process in a shared crawl.
    fn next_id(&mut self, host: bool) -> Result<u64> {
        if let Some(sharing) = &mut self.sharing {
            let (next, end) = match host {
                false => (self.ids.next_url, sharing.reserved.next_url),
                true => (self.ids.next_host, sharing.reserved.next_host),
            };
            if next >= end {
                let (urls, hosts) = match host {
                    false => (URL_IDS_AT_ONCE, 0),
                    true => (0, HOST_IDS_AT_ONCE),
                };
                let first = sharing.handout.reserve_ids(urls, hosts)?;
                if host {
                    self.ids.next_host = first.next_host;
                    sharing.reserved.next_host = first.next_host + hosts;
                } else {
                    self.ids.next_url = first.next_url;
                    sharing.reserved.next_url = first.next_url + urls;
                }
            }
        }
        let id = if host {
            &mut self.ids.next_host
        } else {
            &mut self.ids.next_url
        };
        *id += 1;
        Ok(*id - 1)
    }

    /// URLs refused by the frontier bound and by the listing bound since
    /// the last call.
    pub(crate) fn take_refused(&mut self) -> (Refused, Refused) {
        std::mem::take(&mut self.refused)
    }

    /// A page of `host` awaits its first capture again (a retry).
    pub(crate) fn awaits(&mut self, host: HostId) {
        *self.awaiting.entry(host).or_default() += 1;
    }

    /// A page of `host` that awaited its first capture no longer does
    /// (captured, or given up on): it leaves the host's frontier bound.
    pub(crate) fn settled(&mut self, host: HostId) {
        if let Some(n) = self.awaiting.get_mut(&host) {
            *n -= 1;
            if *n == 0 {
                self.awaiting.remove(&host);
            }
        }
    }

    pub(crate) fn queued(&self) -> u64 {
        self.queued
    }

    /// Writes counters and the pass record into `st` (once per batch).
    /// Processes sharing a crawl keep their counters in the reservations.
    pub fn persist(&self, st: &mut impl Txn) -> Result<()> {
        if self.sharing.is_none() {
            st.put_counters(&self.ids)?;
        }
        st.put_pass(&self.pass)
    }

    pub(crate) fn take_woken(&mut self) -> HashSet<HostId> {
        std::mem::take(&mut self.woken)
    }

    /// The id of `authority`, creating its host record if new.
    pub(crate) fn host_id(&mut self, st: &mut impl Txn, authority: &str) -> Result<HostId> {
        Ok(self.host(st, authority)?.id)
    }

    /// The record of `authority`, created if new.
    pub fn host(&mut self, st: &mut impl Txn, authority: &str) -> Result<HostRecord> {
        if let Some(rec) = st.host(authority)? {
            return Ok(rec);
        }
        let host = HostRecord {
            id: HostId(self.next_id(true)?),
            robots: None,
            paused_until: None,
            reference: None,
        };
        st.put_host(authority, &host)?;
        Ok(host)
    }

    /// Queues `url` for this pass unless it already was, a page limit is
    /// reached, or (by `origin`) a bound of its host is. Returns the page id
    /// whether or not it was queued (for provenance links), `None` only for
    /// a URL never seen and not admitted.
    pub fn admit(
        &mut self,
        st: &mut impl Txn,
        url: &CanonicalUrl,
        place: Placement,
        via: Via,
        origin: Origin,
        now: DateTime<Utc>,
    ) -> Result<Option<UrlId>> {
        if self.held_elsewhere(url) {
            let link = FoundLink {
                url: url.clone(),
                depth: place.depth,
                source_hops: place.source_hops,
                scope: place.scope,
                via,
                origin,
                updated: None,
            };
            st.route(&url.authority(), &link)?;
            return Ok(None);
        }
        let existing = st.url_id(url)?;
        let mut page = match existing {
            Some(id) => match st.page(id)? {
                Some(p) if p.pass >= self.pass.number => return Ok(Some(id)),
                Some(p) => Some((id, p)),
                None => None,
            },
            None => None,
        };
        if self.pages_spent() {
            return Ok(existing);
        }
        let authority = url.authority();
        let host = self.host_id(st, &authority)?;
        let host_admitted = st.admitted(self.pass.number, host)?;
        if self.max_pages_per_host.is_some_and(|m| host_admitted >= m) {
            return Ok(existing);
        }
        let never_captured = page.as_ref().is_none_or(|(_, p)| p.captures == 0);
        let awaiting = self.awaiting.get(&host).copied().unwrap_or(0);
        if origin != Origin::Asked && never_captured && awaiting >= self.max_queue_per_host {
            self.refused.0.count(&authority);
            return Ok(existing);
        }
        let listings = match origin {
            Origin::Listing => Some(st.listings_admitted(self.pass.number, host)?),
            Origin::Asked | Origin::Found => None,
        };
        if listings.is_some_and(|l| l >= self.max_listings_per_host) {
            self.refused.1.count(&authority);
            return Ok(existing);
        }
        if !self.take_page()? {
            return Ok(existing);
        }
        if let Some(listings) = listings {
            st.put_listings_admitted(self.pass.number, host, listings + 1)?;
        }
        st.put_admitted(self.pass.number, host, host_admitted + 1)?;
        self.pass.admitted += 1;
        let id = match page.as_mut() {
            Some((id, p)) => {
                p.pass = self.pass.number;
                p.state = PageState::Queued;
                p.attempts = 0;
                p.depth = p.depth.min(place.depth);
                *id
            }
            None => {
                let (id, new) = self.new_page(st, url, host, place, via)?;
                page = Some((id, new));
                id
            }
        };
        let entry = QueueEntry {
            host,
            due: micros(now),
            url: id,
        };
        if let Some((_, p)) = page.as_mut() {
            p.due = Some(entry.due);
            st.put_page(id, p)?;
            if awaits_first_capture(p) {
                self.awaits(host);
            }
        }
        st.enqueue(&entry);
        self.woken.insert(host);
        self.queued += 1;
        Ok(Some(id))
    }

    /// Whether `--max-pages` admissions are all made: by this process, or
    /// (sharing the archive) by all of them, as far as this one knows.
    fn pages_spent(&self) -> bool {
        match (&self.sharing, self.max_pages) {
            (_, None) => false,
            (None, Some(max)) => self.pass.admitted >= max,
            (Some(sharing), Some(_)) => sharing.admissions_spent,
        }
    }

    /// Takes one of the pass's `--max-pages` admissions (sharing the
    /// archive: from those taken for this process, taking more when none
    /// is left); whether there was one.
    fn take_page(&mut self) -> Result<bool> {
        let (Some(sharing), Some(max)) = (&mut self.sharing, self.max_pages) else {
            return Ok(true);
        };
        if sharing.admissions == 0 && !sharing.admissions_spent {
            let pass = self.pass.number;
            sharing.admissions = sharing
                .handout
                .take_admissions(pass, ADMISSIONS_AT_ONCE, max)?;
            sharing.admissions_spent = sharing.admissions == 0;
        }
        if sharing.admissions == 0 {
            return Ok(false);
        }
        sharing.admissions -= 1;
        Ok(true)
    }

    /// A link found on a page (or routed here from one): admitted as by
    /// [`Admitter::admit`], brought forward if a sitemap or feed says it
    /// changed, and cited when it is a source.
    pub(crate) fn admit_link(
        &mut self,
        st: &mut impl Txn,
        link: FoundLink,
        now: DateTime<Utc>,
    ) -> Result<Option<UrlId>> {
        if self.held_elsewhere(&link.url) {
            st.route(&link.url.authority(), &link)?;
            return Ok(None);
        }
        let place = Placement {
            depth: link.depth,
            source_hops: link.source_hops,
            scope: link.scope,
        };
        let Some(to) = self.admit(st, &link.url, place, link.via, link.origin, now)? else {
            return Ok(None);
        };
        if let Some(updated) = link.updated {
            self.bring_forward(st, to, updated, now)?;
        }
        // The provenance graph keeps citations both ways: what a page
        // cites, and (for fact-checkers) what cites a page.
        if let Via::Source(from) = link.via {
            st.cite(from, to);
        }
        Ok(Some(to))
    }

    /// Whether `url`'s host is another crawling process's to admit (a
    /// shared crawl, a host this process does not hold).
    fn held_elsewhere(&self, url: &CanonicalUrl) -> bool {
        (self.sharing.as_ref()).is_some_and(|s| !s.held.contains_key(&url.authority()))
    }

    /// Assigns an id to a URL never seen and describes its page.
    fn new_page(
        &mut self,
        st: &mut impl Txn,
        url: &CanonicalUrl,
        host: HostId,
        place: Placement,
        via: Via,
    ) -> Result<(UrlId, PageRecord)> {
        let id = UrlId(self.next_id(false)?);
        st.add_url(url, id);
        let page = PageRecord {
            depth: place.depth,
            source_hops: place.source_hops,
            pass: self.pass.number,
            ..PageRecord::new(url.clone(), host, place.scope, via)
        };
        Ok((id, page))
    }

    /// The page of `url`, created (not queued) if new: for captures that
    /// arrive from elsewhere (`import-warc`). The caller stores the page.
    pub fn register(
        &mut self,
        st: &mut impl Txn,
        url: &CanonicalUrl,
        via: Via,
    ) -> Result<(UrlId, PageRecord)> {
        if let Some(id) = st.url_id(url)?
            && let Some(page) = st.page(id)?
        {
            return Ok((id, page));
        }
        let host = self.host_id(st, &url.authority())?;
        let place = Placement {
            depth: 0,
            source_hops: 0,
            scope: url.host().to_string(),
        };
        let (id, mut page) = self.new_page(st, url, host, place, via)?;
        page.state = PageState::Fetched;
        Ok((id, page))
    }

    /// Removes a fetched entry from the queue.
    pub fn complete(&mut self, st: &mut impl Txn, entry: &QueueEntry) {
        st.dequeue(entry);
        self.queued = self.queued.saturating_sub(1);
    }

    /// Moves an entry to another due time (a retry, a revisit). Returns the
    /// new due time (µs), which the caller records on the page.
    pub(crate) fn requeue(
        &mut self,
        st: &mut impl Txn,
        entry: &QueueEntry,
        due: DateTime<Utc>,
    ) -> u64 {
        st.dequeue(entry);
        let moved = QueueEntry {
            due: micros(due),
            ..entry.clone()
        };
        st.enqueue(&moved);
        self.woken.insert(entry.host);
        moved.due
    }

    /// Brings a queued page's visit forward to `now` when a sitemap or feed
    /// says it changed after its last capture.
    pub(crate) fn bring_forward(
        &mut self,
        st: &mut impl Txn,
        id: UrlId,
        updated: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let Some(mut page) = st.page(id)? else {
            return Ok(());
        };
        let (Some(due), Some(last)) = (page.due, page.last_captured) else {
            return Ok(());
        };
        if due <= micros(now) || updated <= last {
            return Ok(());
        }
        let entry = QueueEntry {
            host: page.host,
            due,
            url: id,
        };
        page.due = Some(self.requeue(st, &entry, now));
        st.put_page(id, &page)
    }
}
