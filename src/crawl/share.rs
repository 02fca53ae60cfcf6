//! A crawl that shares its archive with other crawling processes (a
//! PostgreSQL archive): this process crawls only the hosts it holds a
//! lease on. It renews them while it works, admits the links other
//! processes routed to them, gives a host back (with the time before which
//! it must not be sent a request) when it has nothing left for it, and
//! claims hosts with work that no live lease holds, a stopped process's
//! among them once their leases run out.
//!
//! All of it runs on the writer's thread, between batches, so admitting
//! a host's URLs and giving the host back never race.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{Shared, lock};
use crate::archive::{Archive, HostId, IdCounters, ROUTED_AT_ONCE, Result, Staging, Store, micros};
use crate::config::CrawlConfig;
use crate::frontier::{Admitter, Handout, Sharing};

/// The lease keeping of one crawling process.
pub(super) struct Leases {
    lease: Duration,
    every: Duration,
    last: Option<Instant>,
    /// Hosts held at most: each has a worker, and requests in flight are
    /// bounded by the crawl's concurrency anyway.
    max_held: usize,
}

/// How often a crawl with `config` keeps its leases: renewed well before
/// they run out, and new work looked for often enough that an idle
/// process joins in quickly.
pub(super) fn keeping_period(config: &CrawlConfig) -> Duration {
    (config.lease / 4).min(Duration::from_secs(1))
}

impl Leases {
    pub(super) fn new(config: &CrawlConfig) -> Self {
        Self {
            lease: config.lease,
            every: keeping_period(config),
            last: None,
            max_held: config.concurrency.max(1),
        }
    }

    pub(super) fn is_due(&self) -> bool {
        self.last.is_none_or(|t| t.elapsed() >= self.every)
    }

    /// Makes `st` commit only while this process holds every host it
    /// holds now (extending their leases), routed links due `now`.
    pub(super) fn seal(&self, st: &mut Staging<'_>, admitter: &mut Admitter, now: DateTime<Utc>) {
        if let Some(sharing) = admitter.sharing() {
            st.hold(sharing.held.keys().cloned().collect(), self.lease, now);
        }
    }

    /// Renews the leases held, admits links routed to their hosts, gives
    /// back the hosts this process has nothing left for, and claims hosts
    /// with work.
    pub(super) fn keep(&mut self, shared: &Arc<Shared>, admitter: &mut Admitter) -> Result<()> {
        self.last = Some(Instant::now());
        self.renew(shared, admitter)?;
        self.release_idle(shared, admitter)?;
        self.claim(shared, admitter)
    }

    fn renew(&self, shared: &Arc<Shared>, admitter: &mut Admitter) -> Result<()> {
        let held: Vec<(String, DateTime<Utc>)> = held(admitter)
            .keys()
            .map(|authority| (authority.clone(), shared.pool.next_allowed(authority)))
            .collect();
        let sent = Instant::now();
        if held.is_empty() {
            // Nothing held, nothing to lose: hosts claimed next are fresh.
            shared.leases_renewed(sent, self.lease);
            return Ok(());
        }
        let kept = shared.archive.renew_leases(&held, self.lease)?;
        shared.leases_renewed(sent, self.lease);
        for host in kept.into_iter().filter(|h| h.routed) {
            self.take_routed(shared, admitter, &host.authority)?;
        }
        Ok(())
    }

    /// Admits the links other processes routed to `authority` (held).
    fn take_routed(
        &self,
        shared: &Arc<Shared>,
        admitter: &mut Admitter,
        authority: &str,
    ) -> Result<()> {
        loop {
            let links = shared.archive.routed_links(authority)?;
            if links.is_empty() {
                return Ok(());
            }
            let now = shared.clock.now();
            let mut st = shared.archive.begin();
            let last_round = links.len() < ROUTED_AT_ONCE;
            for link in links {
                st.took(authority, &link.url);
                admitter.admit_link(&mut st, link, now)?;
            }
            self.commit(shared, admitter, st, now)?;
            if last_round {
                return Ok(());
            }
        }
    }

    /// Commits `st` (sealed) and wakes the hosts it gave work.
    fn commit(
        &self,
        shared: &Arc<Shared>,
        admitter: &mut Admitter,
        mut st: Staging<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        admitter.persist(&mut st)?;
        self.seal(&mut st, admitter, now);
        self.commit_sealed(shared, st)?;
        let woken = admitter.take_woken();
        shared.committed(0, &[], &woken);
        Ok(())
    }

    /// Commits a sealed transaction: the leases it extended are current.
    pub(super) fn commit_sealed(&self, shared: &Shared, st: Staging<'_>) -> Result<()> {
        let sent = Instant::now();
        shared.archive.commit(st)?;
        shared.leases_renewed(sent, self.lease);
        Ok(())
    }

    /// Gives back the hosts with no worker and nothing in flight; wakes
    /// those with work due but no worker (taken over from a stopped
    /// process, or left by a worker that ended).
    fn release_idle(&self, shared: &Arc<Shared>, admitter: &mut Admitter) -> Result<()> {
        let now = shared.clock.now();
        let mut released = Vec::new();
        for (authority, known) in held(admitter).iter() {
            let id = host_id(shared, authority, *known)?;
            if let Some(id) = id
                && (lock(&shared.workers).contains_key(&id) || !shared.in_flight_of(id).is_empty())
            {
                continue;
            }
            let due = first_due(shared, id)?;
            if let Some(id) = id
                && due.is_some_and(|due| due <= micros(now))
            {
                shared.wake(id);
                continue;
            }
            released.push((authority.clone(), due));
        }
        for (authority, due) in released {
            give_back(shared, &authority, due, now)?;
            held(admitter).remove(&authority);
        }
        Ok(())
    }

    /// Claims hosts with work, up to the most this process holds.
    fn claim(&self, shared: &Arc<Shared>, admitter: &mut Admitter) -> Result<()> {
        let room = self.max_held.saturating_sub(held(admitter).len());
        if room == 0 || shared.is_stopping() {
            return Ok(());
        }
        let now = shared.clock.now();
        for claim in shared.archive.claim_hosts(room, now, self.lease)? {
            shared.pool.hold_off(&claim.authority, claim.not_before);
            held(admitter).insert(claim.authority.clone(), None);
            self.take_routed(shared, admitter, &claim.authority)?;
            if let Some(host) = shared.archive.host_record(&claim.authority)? {
                held(admitter).insert(claim.authority, Some(host.id));
                shared.wake(host.id);
            }
        }
        Ok(())
    }

    /// Gives back every host held (the crawl stops): another process
    /// takes them at once instead of after the lease.
    pub(super) fn release_all(&self, shared: &Arc<Shared>, admitter: &mut Admitter) -> Result<()> {
        let now = shared.clock.now();
        let held: Vec<(String, Option<HostId>)> = held(admitter).drain().collect();
        for (authority, known) in held {
            let due = first_due(shared, host_id(shared, &authority, known)?)?;
            give_back(shared, &authority, due, now)?;
        }
        Ok(())
    }
}

/// The id of held host `authority`: as known, else from its record (none
/// before a URL of it was admitted).
fn host_id(shared: &Shared, authority: &str, known: Option<HostId>) -> Result<Option<HostId>> {
    match known {
        Some(id) => Ok(Some(id)),
        None => Ok(shared.archive.host_record(authority)?.map(|h| h.id)),
    }
}

/// When host `id`'s first queued entry is due (µs), if it has one.
fn first_due(shared: &Shared, id: Option<HostId>) -> Result<Option<u64>> {
    match id.and_then(|id| shared.archive.queue_of(id).next()) {
        Some(entry) => Ok(Some(entry?.due)),
        None => Ok(None),
    }
}

/// Gives back the lease of `authority`, whose first queued entry is due
/// at `due`, with the time its next request is allowed.
fn give_back(shared: &Shared, authority: &str, due: Option<u64>, now: DateTime<Utc>) -> Result<()> {
    let not_before = shared.pool.next_allowed(authority);
    shared.archive.release_host(authority, due, not_before, now)
}

/// The hosts held (an admitter of a shared crawl has them).
fn held(admitter: &mut Admitter) -> &mut std::collections::HashMap<String, Option<HostId>> {
    &mut admitter
        .sharing()
        .expect("a shared crawl's admitter shares")
        .held
}

/// Sharing for an admitter of `archive`'s shared crawl.
pub(super) fn sharing(archive: &Arc<Archive>) -> Sharing {
    Sharing::new(Box::new(archive.clone()))
}

impl Handout for Arc<Archive> {
    fn reserve_ids(&self, urls: u64, hosts: u64) -> Result<IdCounters> {
        Archive::reserve_ids(self, urls, hosts)
    }

    fn take_admissions(&self, pass: u64, want: u64, max: u64) -> Result<u64> {
        Archive::take_admissions(self, pass, want, max)
    }
}
