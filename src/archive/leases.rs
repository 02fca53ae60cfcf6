//! What crawling processes that share a PostgreSQL archive tell each
//! other: each host is held by one process at a time (a lease it renews
//! while it works and gives back with the host's next allowed time), and
//! a link found for a host another process may hold is routed to that
//! holder, who admits it, so that every URL is admitted once.
//!
//! A sled archive has one writing process, which holds every host.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::records::{IdCounters, Origin, Via, micros};
use super::store::Store;
use super::{Archive, ArchiveError, Result, Staging};
use crate::canonical::CanonicalUrl;

/// A URL found on a page (or a seed, a known page, a sitemap): where it
/// goes and how it was found. A crawl sharing its archive routes it, as
/// is, to the process that holds its host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundLink {
    /// The URL found.
    pub url: CanonicalUrl,
    /// Its depth, source hops and scope (see `frontier::Placement`).
    pub depth: u32,
    /// Hops taken through source links off the seed's site.
    pub source_hops: u32,
    /// The seed host whose scope rules apply.
    pub scope: String,
    /// How it was found.
    pub via: Via,
    /// Why it is queued.
    pub origin: Origin,
    /// When a sitemap or feed says it last changed.
    pub updated: Option<DateTime<Utc>>,
}

/// A host this process now holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The host's authority.
    pub authority: String,
    /// No request may be sent to it before then (its last holder's rate).
    pub not_before: DateTime<Utc>,
}

/// A lease still held after renewal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The host's authority.
    pub authority: String,
    /// Links were routed to it since its holder last looked.
    pub routed: bool,
}

/// Links taken from a host's routed links at a time, at most.
pub const ROUTED_AT_ONCE: usize = 2_000;

fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

fn as_micros(t: DateTime<Utc>) -> i64 {
    i64::try_from(micros(t)).unwrap_or(i64::MAX)
}

impl Archive {
    /// Whether this archive is crawled by processes that share it (a
    /// crawl of a PostgreSQL archive): hosts are leased, links routed.
    pub fn shares_crawl(&self) -> bool {
        self.db.postgres().is_some_and(|kv| kv.shares_crawl())
    }

    fn kv(&self) -> Result<&super::postgres::Kv> {
        self.db.postgres().ok_or_else(|| ArchiveError::Corrupt {
            key: "host lease".into(),
            reason: "a directory archive has one crawling process and no leases".into(),
        })
    }

    /// Claims at most `n` hosts with work due by `now` that no live lease
    /// holds, for `lease`.
    pub fn claim_hosts(&self, n: usize, now: DateTime<Utc>, lease: Duration) -> Result<Vec<Claim>> {
        let claimed = self.kv()?.claim_hosts(n, as_micros(now), lease)?;
        Ok(claimed
            .into_iter()
            .map(|(authority, not_before)| Claim {
                authority,
                not_before: from_micros(not_before),
            })
            .collect())
    }

    /// Extends the leases of `held` (each host with the time before which
    /// it must not be sent a request); fails with
    /// [`ArchiveError::LeaseLost`] if another process took one.
    pub fn renew_leases(
        &self,
        held: &[(String, DateTime<Utc>)],
        lease: Duration,
    ) -> Result<Vec<Held>> {
        let held = held
            .iter()
            .map(|(h, t)| (h.clone(), as_micros(*t)))
            .collect();
        let kept = self.kv()?.renew_leases(held, lease)?;
        Ok(kept
            .into_iter()
            .map(|(authority, routed)| Held { authority, routed })
            .collect())
    }

    /// Gives back the lease of `authority`, whose earliest queued entry is
    /// due at `due` (µs) if it has one.
    pub fn release_host(
        &self,
        authority: &str,
        due: Option<u64>,
        not_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let due = due.map(|d| i64::try_from(d).unwrap_or(i64::MAX));
        (self.kv()?).release_host(authority, due, as_micros(not_before), as_micros(now))
    }

    /// Links routed to `authority`, at most [`ROUTED_AT_ONCE`].
    pub fn routed_links(&self, authority: &str) -> Result<Vec<FoundLink>> {
        let links = self.kv()?.routed_links(authority, ROUTED_AT_ONCE)?;
        links
            .iter()
            .map(|l| {
                serde_json::from_slice(l).map_err(|e| ArchiveError::Corrupt {
                    key: format!("routed link for {authority}"),
                    reason: e.to_string(),
                })
            })
            .collect()
    }

    /// Reserves `urls` URL ids and `hosts` host ids for this crawling
    /// process, which no other process will give: the first of each.
    pub fn reserve_ids(&self, urls: u64, hosts: u64) -> Result<IdCounters> {
        let from = self.id_counters()?;
        let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let (url, host) = self.kv()?.reserve_ids(
            (signed(from.next_url), signed(from.next_host)),
            signed(urls),
            signed(hosts),
        )?;
        Ok(IdCounters {
            next_url: url.max(0) as u64,
            next_host: host.max(0) as u64,
        })
    }

    /// Takes up to `want` of the `max` admissions pass `pass` allows over
    /// every crawling process (`--max-pages`); how many it got.
    pub fn take_admissions(&self, pass: u64, want: u64, max: u64) -> Result<u64> {
        let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let got = (self.kv()?).take_admissions(signed(pass), signed(want), signed(max))?;
        Ok(got.max(0) as u64)
    }

    /// Whether the shared crawl's pass is over: no host has work waiting,
    /// no process holds a live lease.
    pub fn shared_crawl_idle(&self) -> Result<bool> {
        self.kv()?.crawl_is_idle()
    }

    /// Runs `f` (which starts or joins a pass) while no other crawling
    /// process does.
    pub fn starting_pass<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        match self.db.postgres() {
            Some(kv) if kv.shares_crawl() => kv.with_pass_lock(f),
            _ => f(),
        }
    }

    /// Forgets the last pass's leases and routed links (a new pass).
    pub fn forget_shared_crawl(&self) -> Result<()> {
        self.kv()?.forget_crawl_state()
    }
}

impl Staging<'_> {
    /// Routes `link` to the holder of `authority`, in this transaction.
    pub(super) fn stage_route(&mut self, authority: &str, link: &FoundLink) -> Result<()> {
        let encoded = serde_json::to_vec(link).map_err(|e| ArchiveError::Corrupt {
            key: format!("routed link {}", link.url),
            reason: e.to_string(),
        })?;
        (self.batch.shared.routed).push((authority.to_string(), link.url.to_string(), encoded));
        Ok(())
    }

    /// A link routed to `authority` is admitted by this transaction.
    pub(crate) fn took(&mut self, authority: &str, url: &CanonicalUrl) {
        (self.batch.shared.taken).push((authority.to_string(), url.to_string()));
    }

    /// Routed links become due at `due`; the transaction commits only if
    /// this process still holds every host of `held`, whose leases it
    /// extends by `lease`.
    pub(crate) fn hold(&mut self, held: Vec<String>, lease: Duration, due: DateTime<Utc>) {
        self.batch.shared.held = (!held.is_empty()).then_some((held, lease));
        self.batch.shared.due = as_micros(due);
    }
}
