//! The crawl orchestrator: wires frontier, politeness, fetch, the CPU stage
//! and the archive writer together.
//!
//! ```text
//! per-host worker ── due entry ──▶ fetch (politeness per hop) ──▶ CPU pool: process
//!        ▲                                                              │
//!        └──── wake: new entries ◀── archive writer (one batch, atomic) ◀┘
//! ```
//!
//! One async worker per host with queued work takes that host's due entries
//! in order; politeness makes it wait its turn. Parsing and compression run
//! on blocking threads, bounded by the number of cores; the writer's bounded
//! channel is the back-pressure. A crash loses at most an uncommitted batch,
//! whose entries are still in the frontier.

pub mod capture;
mod import;
mod process;
mod reextract;
mod retry;
mod revisit;
mod share;
mod stats;
mod writer;

pub use import::{ImportError, ImportReport, import_warc};
pub use process::ExtractedArticle;
pub use reextract::{ReextractReport, reextract};

pub use stats::{CrawlStats, ErrorCause, ErrorGroup, Summary, counted, peak_rss_bytes};

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, watch};

use crate::archive::{
    Archive, ArchiveError, HostId, HostRecord, RobotsRecord, Store, UrlId, micros,
};
use crate::canonical::CanonicalUrl;
use crate::clock::Clock;
use crate::config::CrawlConfig;
use crate::extract::Profile;
use crate::fetch::{FetchError, Fetcher, Gate, HostStore, Outcome, PageFetch, Validators};
use crate::frontier::{self, NextDue, QueueEntry};
use crate::politeness::{HostPool, Robots};
use process::{PageResult, Processed};
use writer::{Writer, WriterMsg};

/// Errors that stop a crawl.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrawlError {
    #[error(transparent)]
    /// The archive could not be read or written.
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    /// The fetcher could not be set up.
    Fetch(#[from] FetchError),
    #[error("archive writer stopped unexpectedly")]
    /// The archive writer ended before the crawl did (it failed).
    WriterGone,
}

/// How long a stop waits for the pages in flight to land.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Results waiting for the writer at most; beyond this, fetching waits.
const WRITER_QUEUE: usize = 512;

/// State shared by the workers, the CPU stage and the writer.
pub(crate) struct Shared {
    config: Arc<CrawlConfig>,
    /// Where times come from: every time written to the archive and every
    /// wait for a due time goes through it.
    pub(crate) clock: Clock,
    archive: Arc<Archive>,
    fetcher: Fetcher,
    pool: HostPool,
    stats: Arc<CrawlStats>,
    writer: mpsc::Sender<WriterMsg>,
    runtime: tokio::runtime::Handle,
    net: Arc<Semaphore>,
    cpu: Arc<Semaphore>,
    /// Slots for parses abandoned past the analysis budget and still
    /// running: as many as CPU permits, so that those parses cannot pile
    /// up without bound. Without a free one, an overrunning parse keeps its
    /// CPU permit until it ends.
    overrun: Arc<Semaphore>,
    in_flight: Mutex<HashMap<HostId, HashSet<UrlId>>>,
    /// Messages sent to the writer and not yet committed.
    outstanding: AtomicUsize,
    workers: Mutex<HashMap<HostId, Arc<Notify>>>,
    /// In a crawl sharing its archive: until when the host leases were
    /// last known to be this process's (their renewal's start, plus the
    /// lease). A process that stalled past it (suspended, starved) sends
    /// nothing more: another may hold its hosts by now.
    leases_until: Mutex<Option<Instant>>,
    stop: watch::Sender<bool>,
    /// `Some(true)` when the pass completed, `Some(false)` when stopped.
    finished: watch::Sender<Option<bool>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn outstanding(&self) -> usize {
        self.outstanding.load(Ordering::SeqCst)
    }

    fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    fn finish(&self, complete: bool) {
        self.finished.send_replace(Some(complete));
    }

    fn is_finished(&self) -> bool {
        self.finished.borrow().is_some()
    }

    /// Whether requests may still be sent (see `leases_until`).
    fn holds_leases(&self) -> bool {
        lock(&self.leases_until).is_none_or(|until| Instant::now() < until)
    }

    /// The leases were renewed by a statement sent at `sent`.
    pub(crate) fn leases_renewed(&self, sent: Instant, lease: Duration) {
        *lock(&self.leases_until) = Some(sent + lease);
    }

    fn in_flight_of(&self, host: HostId) -> HashSet<UrlId> {
        lock(&self.in_flight)
            .get(&host)
            .cloned()
            .unwrap_or_default()
    }

    /// Called by the writer after each batch: entries done, hosts to wake.
    fn committed(self: &Arc<Self>, msgs: usize, done: &[(HostId, UrlId)], woken: &HashSet<HostId>) {
        {
            let mut in_flight = lock(&self.in_flight);
            for (host, url) in done {
                if let Some(set) = in_flight.get_mut(host) {
                    set.remove(url);
                    if set.is_empty() {
                        in_flight.remove(host);
                    }
                }
            }
        }
        self.outstanding.fetch_sub(msgs, Ordering::SeqCst);
        for host in woken {
            self.wake(*host);
        }
    }

    /// Nudges a host's worker, starting one if the host has none.
    fn wake(self: &Arc<Self>, host: HostId) {
        if self.is_stopping() {
            return;
        }
        let mut workers = lock(&self.workers);
        if let Some(notify) = workers.get(&host) {
            notify.notify_one();
            return;
        }
        let notify = Arc::new(Notify::new());
        workers.insert(host, notify.clone());
        self.stats.hosts_active.set(workers.len() as u64);
        self.runtime.spawn(worker(self.clone(), host, notify));
    }

    /// A worker with nothing left retires, unless work arrived meanwhile.
    /// Checked under the workers lock, which the writer takes only after
    /// applying a batch, so no wake-up is lost.
    fn retire(&self, host: HostId) -> Result<bool, ArchiveError> {
        let mut workers = lock(&self.workers);
        let skip = self.in_flight_of(host);
        let now = micros(self.clock.now());
        if frontier::next_due(&*self.archive, host, now, &skip)? == NextDue::Empty {
            workers.remove(&host);
            self.stats.hosts_active.set(workers.len() as u64);
            return Ok(true);
        }
        Ok(false)
    }

    /// Sends a message already counted in `outstanding`.
    async fn send(&self, msg: WriterMsg) {
        if self.writer.send(msg).await.is_err() {
            // The writer has failed and the crawl is ending.
            self.outstanding.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// What is remembered of hosts: read from the archive, saved through the
/// writer.
struct ArchiveHosts<'a> {
    shared: &'a Arc<Shared>,
}

impl HostStore for ArchiveHosts<'_> {
    fn load(&self, authority: &str) -> Option<HostRecord> {
        self.shared.archive.host_record(authority).ok().flatten()
    }

    fn save_robots(&self, authority: &str, record: RobotsRecord, robots: &Robots) {
        let sitemaps = robots
            .sitemaps()
            .iter()
            .filter_map(|s| CanonicalUrl::parse(s).ok())
            .collect();
        let msg = WriterMsg::Robots {
            authority: authority.to_string(),
            record,
            sitemaps,
        };
        // Counted now, so the pass cannot end before its sitemaps are queued.
        self.shared.outstanding.fetch_add(1, Ordering::SeqCst);
        let shared = self.shared.clone();
        self.shared
            .runtime
            .spawn(async move { shared.send(msg).await });
    }
}

async fn worker(shared: Arc<Shared>, host: HostId, notify: Arc<Notify>) {
    let mut stop = shared.stop.subscribe();
    loop {
        if *stop.borrow() {
            break;
        }
        let skip = shared.in_flight_of(host);
        let now = micros(shared.clock.now());
        match frontier::next_due(&*shared.archive, host, now, &skip) {
            Ok(NextDue::Ready(_)) if !shared.holds_leases() => {
                // Until the writer renews the leases, or finds them lost.
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    _ = stop.changed() => {}
                }
            }
            Ok(NextDue::Ready(entry)) => dispatch(&shared, entry).await,
            Ok(NextDue::Later(due)) => {
                let wait = shared
                    .clock
                    .real(Duration::from_micros(due.saturating_sub(now)));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = notify.notified() => {}
                    _ = stop.changed() => {}
                }
            }
            Ok(NextDue::Empty) => match shared.retire(host) {
                Ok(true) => return,
                Ok(false) => {}
                Err(e) => {
                    tracing::error!("frontier read failed: {e}");
                    break;
                }
            },
            Err(e) => {
                tracing::error!("frontier read failed: {e}");
                break;
            }
        }
    }
    lock(&shared.workers).remove(&host);
}

/// Fetches one entry and hands it to the CPU stage.
async fn dispatch(shared: &Arc<Shared>, entry: QueueEntry) {
    // Counted from the start, so neither the end of the pass nor a stop can
    // be declared while this page is on its way.
    shared.outstanding.fetch_add(1, Ordering::SeqCst);
    lock(&shared.in_flight)
        .entry(entry.host)
        .or_default()
        .insert(entry.url);
    let page = match shared.archive.page(entry.url) {
        Ok(Some(page)) => page,
        Ok(None) | Err(_) => {
            let failed = Processed {
                entry,
                result: PageResult::Failed(FetchError::Transport("page record unreadable".into())),
            };
            shared.send(WriterMsg::Page(Box::new(failed))).await;
            return;
        }
    };
    let validators = Validators {
        etag: page.etag.clone(),
        last_modified: page.last_modified.clone(),
    };
    let fetch = {
        let store = ArchiveHosts { shared };
        let may_send = || shared.holds_leases();
        let mut gate = Gate {
            pool: &shared.pool,
            store: &store,
            slots: &shared.net,
            stop: shared.stop.subscribe(),
            may_send: &may_send,
        };
        // A panic anywhere in the fetch (a parser of robots.txt, say) is
        // this page's error; the page must still reach the writer, or the
        // pass would wait for it forever.
        AssertUnwindSafe(shared.fetcher.fetch_page(&page.url, &validators, &mut gate))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| PageFetch {
                requested: page.url.clone(),
                fetched_at: shared.clock.now(),
                redirects: Vec::new(),
                outcome: Outcome::Failed(FetchError::Internal(panic_message(&panic))),
            })
    };
    if matches!(fetch.outcome, Outcome::Stopped) {
        // Nothing was sent: the entry stays queued for the next run.
        if let Some(set) = lock(&shared.in_flight).get_mut(&entry.host) {
            set.remove(&entry.url);
        }
        shared.outstanding.fetch_sub(1, Ordering::SeqCst);
        let _ = shared.writer.try_send(WriterMsg::Tick);
        return;
    }
    let cpu = shared.cpu.clone().acquire_owned().await;
    let task_shared = shared.clone();
    let host = page.url.host().to_string();
    shared.runtime.spawn(async move {
        let processed = match cpu {
            Ok(cpu) => process_page(&task_shared, entry, fetch, &host, cpu).await,
            Err(_) => Processed {
                entry,
                result: PageResult::Failed(FetchError::Internal("the crawl is ending".into())),
            },
        };
        task_shared.send(WriterMsg::Page(Box::new(processed))).await;
    });
}

/// The CPU stage of one page, supervised: a panic is the page's error, and
/// parsing that overruns the analysis budget (`--parse-budget`) is given
/// up: the capture is stored without its article, and the parse is left to
/// finish on its own but gives its CPU permit back, so that a host serving
/// costly pages cannot hold every permit and starve the other hosts.
async fn process_page(
    shared: &Arc<Shared>,
    entry: QueueEntry,
    fetch: PageFetch,
    host: &str,
    cpu: OwnedSemaphorePermit,
) -> Processed {
    let failed = |entry, e: String| Processed {
        entry,
        result: PageResult::Failed(FetchError::Internal(e)),
    };
    let s = shared.clone();
    let job_entry = entry.clone();
    let staged = tokio::task::spawn_blocking(move || {
        process::process(
            job_entry,
            fetch,
            &s.archive,
            s.config.max_body,
            s.config.timeout,
        )
    })
    .await;
    let (mut processed, analysis) = match staged {
        Ok(staged) => staged,
        Err(e) => return failed(entry, join_message(e)),
    };
    let Some(analysis) = analysis else {
        return processed;
    };
    let profile = shared.config.profile_for(host).cloned();
    let max_body = shared.config.max_body;
    let budget = shared.config.analysis_budget;
    match analyze(analysis, profile, max_body, cpu, &shared.overrun, budget).await {
        Ok(analyzed) => processed.attach(analyzed),
        Err(reason) => processed.analysis_failed(reason),
    }
    processed
}

/// Runs a page's analysis on a blocking thread for the holder of `cpu`,
/// supervised: a panic, or a parse past `budget` (the crawl's and
/// `import-warc`'s is `--parse-budget`), is the reason the page has no
/// analysis; an overrunning parse gives its permit back (see [`give_up`]).
pub(crate) async fn analyze(
    analysis: process::Analysis,
    profile: Option<Arc<Profile>>,
    max_body: u64,
    cpu: OwnedSemaphorePermit,
    overrun: &Arc<Semaphore>,
    budget: Duration,
) -> Result<process::Analyzed, String> {
    let mut job = tokio::task::spawn_blocking(move || analysis.run(profile.as_deref(), max_body));
    match tokio::time::timeout(budget, &mut job).await {
        Ok(Ok(analyzed)) => Ok(analyzed),
        Ok(Err(e)) => Err(format!("extraction failed: {}", join_message(e))),
        Err(_) => {
            give_up(overrun, job, cpu).await;
            Err(format!(
                "extraction stopped after {}s (page too costly to parse)",
                budget.as_secs_f64()
            ))
        }
    }
}

/// Parses that may run at once (the CPU stage's permits): two a core.
pub(crate) fn cpu_slots() -> usize {
    2 * std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Leaves an overrunning parse to finish on its own: its CPU permit goes
/// back at once when an overrun slot is free (held by the parse until it
/// ends), else when the parse ends.
async fn give_up(
    overrun: &Arc<Semaphore>,
    job: tokio::task::JoinHandle<process::Analyzed>,
    cpu: OwnedSemaphorePermit,
) {
    match overrun.clone().try_acquire_owned() {
        Ok(slot) => {
            drop(cpu);
            tokio::spawn(async move {
                let _ = job.await;
                drop(slot);
            });
        }
        Err(_) => {
            let _ = job.await;
            drop(cpu);
        }
    }
}

/// What a panic said, for the page's error.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into());
    format!("panicked: {what}")
}

fn join_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(panic) => panic_message(panic.as_ref()),
        Err(e) => e.to_string(),
    }
}

/// Crawls until the frontier is empty, a limit is hit, or `shutdown`
/// resolves (then in-flight pages are finished and committed first).
pub async fn crawl(
    config: CrawlConfig,
    archive: Arc<Archive>,
    stats: Arc<CrawlStats>,
    shutdown: impl Future<Output = ()>,
) -> Result<Summary, CrawlError> {
    let started = Instant::now();
    let config = Arc::new(config);
    let fetcher = Fetcher::new(&config)?;
    let (admitter, start) = {
        let archive = archive.clone();
        let config = config.clone();
        tokio::task::spawn_blocking(move || writer::start_pass(&archive, &config))
            .await
            .map_err(|_| CrawlError::WriterGone)??
    };
    stats.queued.set(admitter.queued());
    stats.pass.set(admitter.pass.number);
    let (shared, rx) = Shared::start(config, archive.clone(), fetcher, stats.clone());
    let mut running = Running::start(shared, rx, admitter)?;
    let complete = running.until_done(shutdown).await;
    let hosts = running.close().await?;
    let queued = archive.queue_len()?;
    Ok(stats.summary(started.elapsed(), complete, start, hosts, queued))
}

impl Shared {
    /// The state of a crawl about to start, and the channel its writer
    /// reads from.
    fn start(
        config: Arc<CrawlConfig>,
        archive: Arc<Archive>,
        fetcher: Fetcher,
        stats: Arc<CrawlStats>,
    ) -> (Arc<Self>, mpsc::Receiver<WriterMsg>) {
        let (tx, rx) = mpsc::channel(WRITER_QUEUE);
        let (stop, _) = watch::channel(false);
        let (finished, _) = watch::channel(None);
        let shared = Arc::new(Shared {
            pool: HostPool::new(config.rate.period(), config.clock)
                .max_crawl_delay(config.max_crawl_delay),
            clock: config.clock,
            net: Arc::new(Semaphore::new(config.concurrency)),
            cpu: Arc::new(Semaphore::new(cpu_slots())),
            overrun: Arc::new(Semaphore::new(cpu_slots())),
            config,
            archive,
            fetcher,
            stats,
            writer: tx,
            runtime: tokio::runtime::Handle::current(),
            in_flight: Mutex::new(HashMap::new()),
            outstanding: AtomicUsize::new(0),
            workers: Mutex::new(HashMap::new()),
            leases_until: Mutex::new(None),
            stop,
            finished,
        });
        (shared, rx)
    }
}

/// A crawl under way: the state its tasks share, the writer's thread, and
/// the news of the pass's end.
struct Running {
    shared: Arc<Shared>,
    writer: std::thread::JoinHandle<Result<(), ArchiveError>>,
    finished: watch::Receiver<Option<bool>>,
}

impl Running {
    /// Starts the writer, then a worker for every host with queued work.
    fn start(
        shared: Arc<Shared>,
        rx: mpsc::Receiver<WriterMsg>,
        admitter: frontier::Admitter,
    ) -> Result<Self, CrawlError> {
        let finished = shared.finished.subscribe();
        let writer_shared = shared.clone();
        let writer = std::thread::Builder::new()
            .name("archive-writer".into())
            .spawn(move || {
                let result =
                    Writer::new(writer_shared.clone(), admitter).and_then(|writer| writer.run(rx));
                if result.is_err() {
                    writer_shared.stop.send_replace(true);
                    writer_shared.finish(false);
                }
                result
            })
            .map_err(ArchiveError::Io)?;
        if shared.archive.shares_crawl() {
            // Hosts are worked as their leases are taken (`share`); the
            // writer is reminded to keep the leases while it waits.
            let every = share::keeping_period(&shared.config);
            let ticker = shared.clone();
            shared.runtime.spawn(async move {
                while !ticker.is_finished() {
                    tokio::time::sleep(every).await;
                    if ticker.writer.send(WriterMsg::Tick).await.is_err() {
                        break;
                    }
                }
            });
        } else {
            for host in shared.archive.queue_hosts()? {
                shared.wake(host);
            }
        }
        Ok(Self {
            shared,
            writer,
            finished,
        })
    }

    /// Runs until the pass ends or `shutdown` resolves; whether the pass
    /// completed.
    async fn until_done(&mut self, shutdown: impl Future<Output = ()>) -> bool {
        tokio::pin!(shutdown);
        let complete = tokio::select! {
            done = self.finished.wait_for(Option::is_some) => done.ok().and_then(|d| *d),
            _ = &mut shutdown => None,
        };
        match complete {
            Some(complete) => complete,
            None => self.stop().await,
        }
    }

    /// Stops taking new work and lets what is in flight land, for a while;
    /// whether the pass completed meanwhile.
    async fn stop(&mut self) -> bool {
        tracing::info!("stopping: finishing pages in flight");
        self.shared.stop.send_replace(true);
        // Wake the writer so it notices, even if nothing is in flight.
        let _ = self.shared.writer.try_send(WriterMsg::Tick);
        let landed = tokio::time::timeout(STOP_GRACE, self.finished.wait_for(Option::is_some));
        match landed.await {
            Ok(done) => done.ok().and_then(|d| *d).unwrap_or(false),
            Err(_) => {
                // Pages that did not land in time stay queued for the
                // next run, as after a crash.
                tracing::warn!("stopping without the pages still in flight");
                self.shared.finish(false);
                let _ = self.shared.writer.try_send(WriterMsg::Tick);
                false
            }
        }
    }

    /// Ends the writer and waits for its last commit; the hosts contacted.
    async fn close(self) -> Result<u64, CrawlError> {
        let Running {
            shared,
            writer,
            finished: _finished,
        } = self;
        shared.stop.send_replace(true);
        let _ = shared.writer.try_send(WriterMsg::Tick);
        let hosts = shared.pool.contacted() as u64;
        shared.stats.capped_delays(&shared.pool.capped_delays());
        drop(shared);
        let writer_result = tokio::task::spawn_blocking(move || writer.join())
            .await
            .map_err(|_| CrawlError::WriterGone)?
            .map_err(|_| CrawlError::WriterGone)?;
        writer_result?;
        Ok(hosts)
    }
}
