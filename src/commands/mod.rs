//! The commands behind the `palimpsest` binary. Each takes parsed options
//! and an output stream, and returns a typed error; `main.rs` only parses
//! arguments, picks the command and prints the error.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::archive::{self, Archive, Location, PageState, Store};
use crate::article::PageKind;
use crate::clock::Clock;
use crate::config::{CrawlConfig, CrawlFlags};
use crate::crawl::{self, CrawlStats, Summary, counted};
use crate::notify::{NotifyConfig, NotifyFlags};
use crate::progress::Progress;
use crate::query::{self, Pages};
use crate::serve;
use std::net::SocketAddr;

mod export;
mod outcome;
pub(crate) mod read;
mod schedule;
mod versions;

pub use crate::query::{DiffFormat, Reading};
pub use export::{ExportFormat, ExportOptions};
pub use outcome::{FATAL_ERROR, Outcome, Stdout, USAGE_ERROR, error_exit_code};

/// `palimpsest crawl`: until the frontier is empty or a limit is hit.
pub fn crawl(
    flags: &CrawlFlags,
    location: &Location,
    serve: Option<&Interface>,
    show_progress: bool,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    run_crawler(
        flags,
        None,
        location,
        Mode::Crawl,
        serve,
        show_progress,
        json,
        out,
    )
}

/// `palimpsest watch`: crawl, then keep revisiting seeds and articles on
/// their schedules until stopped (Ctrl-C or SIGTERM: in-flight pages are
/// finished, then exit 0).
pub fn watch(
    flags: &CrawlFlags,
    notify: &NotifyFlags,
    location: &Location,
    serve: Option<&Interface>,
    show_progress: bool,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    run_crawler(
        flags,
        Some(notify),
        location,
        Mode::Watch,
        serve,
        show_progress,
        json,
        out,
    )?;
    Ok(Outcome::Done)
}

/// Where the web interface listens, and the host names it answers besides
/// loopback names and its own address.
pub struct Interface {
    /// The address to listen on.
    pub bind: SocketAddr,
    /// Host names answered besides loopback names and the bound address.
    pub allowed_hosts: Vec<serve::AllowedHost>,
}

/// `palimpsest serve`: serves the archive at `location` on `interface` until interrupted.
pub fn serve(location: &Location, interface: &Interface, clock: Clock) -> anyhow::Result<Outcome> {
    let archive = Arc::new(open_existing(location, "palimpsest serve")?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let web = Announced::bind(
            archive,
            "palimpsest serve",
            interface.bind,
            None,
            clock,
            true,
        )
        .await?;
        web.state.catalogue.warm(&*web.state.archive)?;
        let allowed = interface.allowed_hosts.clone();
        serve::run_allowing(web.listener, web.state, allowed, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(Outcome::Done)
}

/// The web interface listening on its address, which the archive names to
/// other processes, ready to run.
struct Announced {
    listener: tokio::net::TcpListener,
    state: Arc<serve::ServeState>,
}

impl Announced {
    /// Listens on `bind` and records the origin in the archive under `holder`;
    /// `crawl` is the progress of a crawl in the same process, if any;
    /// `say`: tell stderr where (not for `watch`'s own read endpoint).
    async fn bind(
        archive: Arc<Archive>,
        holder: &str,
        bind: SocketAddr,
        crawl: Option<Arc<CrawlStats>>,
        clock: Clock,
        say: bool,
    ) -> anyhow::Result<Self> {
        let listener = bind_interface(bind).await?;
        let origin = format!("http://{}", listener.local_addr()?);
        archive.announce_serving(holder, &origin)?;
        // Said once announced: a command run on reading this line finds
        // where to send its question.
        if say {
            eprintln!("serving the archive at {origin}/");
        }
        let state = Arc::new(serve::ServeState {
            archive,
            crawl,
            origin,
            catalogue: serve::LiveCatalogue::default(),
            print_reading: read::print,
            clock,
        });
        Ok(Self { listener, state })
    }
}

/// Where `watch` without `--serve` answers forwarded reading commands.
const READ_ENDPOINT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

async fn bind_interface(bind: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    if serve::is_public_bind(&addr) {
        eprintln!(
            "warning: serving on {addr}, which is not a loopback address: anyone who can reach it can read this archive"
        );
    }
    Ok(listener)
}

/// Which of the crawling commands runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `crawl`: one pass.
    Crawl,
    /// `watch`: revisits on schedule until stopped.
    Watch,
}

impl Mode {
    /// The name the archive's lock is held under.
    fn holder(self) -> &'static str {
        match self {
            Mode::Crawl => "palimpsest crawl",
            Mode::Watch => "palimpsest watch",
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run_crawler(
    flags: &CrawlFlags,
    notify: Option<&NotifyFlags>,
    location: &Location,
    mode: Mode,
    serve_on: Option<&Interface>,
    show_progress: bool,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    // Every mistake in seeds or flags is reported before the archive opens.
    let mut config = CrawlConfig::from_flags(flags)?;
    config.watch = mode == Mode::Watch;
    let notify = match notify {
        Some(flags) => NotifyConfig::from_flags(flags, &config.user_agent)?,
        None => None,
    };
    let session = CrawlSession {
        mode,
        // Several crawls and watches may share a PostgreSQL archive (host
        // leases).
        archive: Arc::new(Archive::open_to_crawl(location, mode.holder())?),
        stats: Arc::new(CrawlStats::default()),
        serve_on,
        follow_search: !flags.no_search_index,
        notify,
    };
    let bar = show_progress && std::io::stderr().is_terminal();
    let summary = session.run(config, bar)?;
    session.archive.flush()?;
    if json {
        writeln!(out, "{}", serde_json::to_string(&summary)?)?;
    } else {
        eprintln!("{}", closing_text(&summary, mode));
    }
    Ok(crawl_outcome(&summary))
}

/// One crawling process: its archive, the crawl's counters, and the web
/// interface it serves beside the crawl, if asked.
struct CrawlSession<'a> {
    mode: Mode,
    archive: Arc<Archive>,
    stats: Arc<CrawlStats>,
    serve_on: Option<&'a Interface>,
    /// Keep the search index up to date while crawling.
    follow_search: bool,
    /// Change alerts to deliver while watching.
    notify: Option<NotifyConfig>,
}

impl CrawlSession<'_> {
    /// The crawl on a runtime of its own, with the progress line.
    fn run(&self, config: CrawlConfig, bar: bool) -> anyhow::Result<Summary> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let summary = runtime.block_on(async {
            let _progress = Progress::start(self.stats.clone(), bar, Duration::from_secs(10));
            self.crawl_serving(config).await
        });
        // A page whose parsing overran its budget may still be on a CPU thread:
        // its result is not wanted, and it must not hold the exit.
        runtime.shutdown_timeout(Duration::from_millis(500));
        summary
    }

    /// The crawl, with the web interface running until it ends. The
    /// interface runs inside the crawling process: sled allows one process
    /// per archive.
    async fn crawl_serving(&self, config: CrawlConfig) -> anyhow::Result<Summary> {
        let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
        let mut notify = self.notify.clone();
        // `watch` holds the archive for days: without --serve it still
        // answers the reading commands (export, verify…) on a loopback port.
        let bind = match (self.serve_on, self.mode) {
            (Some(interface), _) => Some((interface.bind, interface.allowed_hosts.clone(), true)),
            (None, Mode::Watch) => Some((READ_ENDPOINT, Vec::new(), false)),
            (None, Mode::Crawl) => None,
        };
        let server = match bind {
            Some((bind, allowed, say)) => {
                let web = Announced::bind(
                    self.archive.clone(),
                    self.mode.holder(),
                    bind,
                    Some(self.stats.clone()),
                    config.clock,
                    say,
                )
                .await?;
                if let (Some(notify), true) = (notify.as_mut(), say) {
                    notify.link_to(web.listener.local_addr()?);
                }
                let stopped = async {
                    let _ = server_stopped.await;
                };
                Some(tokio::spawn(serve::run_allowing(
                    web.listener,
                    web.state,
                    allowed,
                    stopped,
                )))
            }
            None => None,
        };
        let (stop_index, index_stopped) = tokio::sync::oneshot::channel::<()>();
        let index = self.follow_search.then(|| {
            let dir = self.archive.dir().to_path_buf();
            tokio::spawn(crate::search::follow(
                dir,
                self.archive.clone(),
                index_stopped,
            ))
        });
        let (stop_alerts, alerts_stopped) = tokio::sync::watch::channel(false);
        let alerts = notify.map(|notify| {
            tokio::spawn(crate::notify::deliver(
                self.archive.clone(),
                Arc::new(notify),
                alerts_stopped,
            ))
        });
        let summary = crawl::crawl(
            config,
            self.archive.clone(),
            self.stats.clone(),
            shutdown_signal(),
        )
        .await;
        let _ = stop_server.send(());
        let _ = stop_index.send(());
        let _ = stop_alerts.send(true);
        if let Some(alerts) = alerts {
            let _ = alerts.await;
        }
        if let Some(server) = server {
            let _ = server.await;
        }
        if let Some(index) = index {
            let _ = index.await;
        }
        Ok(summary?)
    }
}

/// What stderr is told when a crawl ends: the pass, and how to go on.
fn closing_text(summary: &Summary, mode: Mode) -> String {
    if mode == Mode::Watch {
        format!(
            "watch stopped; {}\n{} scheduled: `palimpsest watch` with the same seeds picks up where this one stopped",
            summary_text(summary),
            counted(summary.queued, "URL stays", "URLs stay")
        )
    } else if summary.complete {
        summary_text(summary)
    } else {
        format!(
            "{}\ninterrupted with {} queued: run the same command again to resume",
            summary_text(summary),
            counted(summary.queued, "URL", "URLs")
        )
    }
}

/// A pass that fetched nothing but met errors failed; one that fetched
/// pages but gave up on some finished with errors.
fn crawl_outcome(s: &Summary) -> Outcome {
    if !s.complete {
        Outcome::Interrupted
    } else if s.pages_fetched == 0 && s.errors + s.disallowed > 0 {
        Outcome::NothingDone
    } else if s.errors > 0 {
        Outcome::SomeErrors
    } else {
        Outcome::Done
    }
}

/// The pass in one line, then one line per cause of errors.
fn summary_text(s: &Summary) -> String {
    let mut text = format!(
        "pass {}{}: {}, {}, {}, {}, {} disallowed, {} in {:.1}s ({:.1} pages/s), {}",
        s.pass,
        match (s.joined, s.resumed) {
            (true, _) => " (joined)",
            (false, true) => " (resumed)",
            (false, false) => "",
        },
        counted(s.pages_fetched, "page fetched", "pages fetched"),
        counted(s.captures, "capture", "captures"),
        counted(s.new_versions, "new version", "new versions"),
        counted(s.errors, "error", "errors"),
        s.disallowed,
        human_bytes(s.bytes),
        s.elapsed_secs,
        s.pages_per_sec,
        counted(s.hosts, "host", "hosts"),
    );
    for group in &s.errors_by_cause {
        text.push_str("\n  ");
        text.push_str(&group.text);
    }
    for line in s.bound_lines() {
        text.push_str("\n  ");
        text.push_str(&line);
    }
    text
}

/// A time in tables and text: RFC 3339 in UTC to the second
/// (`2025-10-01T08:00:00Z`), the style of the JSON outputs.
pub(crate) fn table_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// One line of `list --json`.
#[derive(Serialize)]
struct ListRow<'a> {
    url: &'a str,
    title: Option<&'a str>,
    kind: PageKind,
    versions: u32,
    captures: u64,
    last_captured: Option<chrono::DateTime<chrono::Utc>>,
    status: Option<u16>,
    state: &'a PageState,
    error: Option<&'a str>,
}

/// `palimpsest list`.
pub(crate) fn list(
    archive: &Archive,
    all_pages: bool,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    if !json {
        writeln!(
            out,
            "{:<4} {:<8} {:<20} {:<60} TITLE",
            "VERS", "CAPTURES", "LAST CAPTURE", "URL"
        )?;
    }
    for page in query::pages(archive, Pages::all_if(all_pages)) {
        let (_, page) = page?;
        let kind = query::kind_of(&page);
        let title = page.latest.as_ref().and_then(|l| l.title.as_deref());
        if json {
            let row = ListRow {
                url: page.url.as_str(),
                title,
                kind,
                versions: page.versions,
                captures: page.captures,
                last_captured: page.last_captured,
                status: page.last_status,
                state: &page.state,
                error: page.last_error.as_deref(),
            };
            writeln!(out, "{}", serde_json::to_string(&row)?)?;
        } else {
            let when = page
                .last_captured
                .map(table_time)
                .unwrap_or_else(|| "-".into());
            let title = title
                .map(str::to_string)
                .or_else(|| page.last_error.as_ref().map(|e| format!("[{e}]")))
                .unwrap_or_default();
            writeln!(
                out,
                "{:<4} {:<8} {:<20} {:<60} {}",
                page.versions,
                page.captures,
                when,
                page.url.as_str(),
                title
            )?;
        }
    }
    Ok(Outcome::Done)
}

/// `palimpsest stats`.
pub(crate) fn stats(archive: &Archive, json: bool, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let stats = archive.stats()?;
    if json {
        writeln!(out, "{}", serde_json::to_string(&stats)?)?;
    } else {
        let s = &stats;
        writeln!(
            out,
            "pages:     {} ({})",
            s.pages,
            counted(s.articles, "article", "articles")
        )?;
        writeln!(out, "hosts:     {}", s.hosts)?;
        writeln!(out, "captures:  {}", s.captures)?;
        writeln!(out, "versions:  {}", s.versions)?;
        writeln!(
            out,
            "payloads:  {} ({} compressed)",
            s.payloads,
            human_bytes(s.payload_bytes_compressed)
        )?;
        writeln!(out, "queued:    {}", s.queued)?;
        writeln!(out, "pass:      {}", s.pass)?;
        writeln!(
            out,
            "records:   {}, a capture {} on average ({})",
            human_bytes(s.record_bytes),
            human_bytes(s.capture_record_bytes / s.captures.max(1)),
            match s.record_dictionaries {
                0 => "JSON: no dictionary yet".to_string(),
                n => format!(
                    "compressed with {}",
                    counted(n, "dictionary", "dictionaries")
                ),
            },
        )?;
        writeln!(
            out,
            "on disk:   {} ({} a capture; {} of it live records and payloads)",
            human_bytes(s.disk_bytes),
            human_bytes(s.disk_bytes / s.captures.max(1)),
            human_bytes(s.live_bytes),
        )?;
    }
    Ok(Outcome::Done)
}

/// `palimpsest verify` on an open archive (run, or forwarded, by
/// `Reading::Verify`).
pub(crate) fn verify_on(
    archive: &Archive,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    print_verify(&archive::verify(archive)?, json, out)
}

/// `verify` of an archive too damaged to open: the damage is its problem.
pub(crate) fn verify_damaged(
    damage: &archive::ArchiveError,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    print_verify(
        &archive::VerifyReport::unopenable(damage.to_string()),
        json,
        out,
    )
}

fn print_verify(
    report: &archive::VerifyReport,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    if json {
        writeln!(out, "{}", serde_json::to_string(report)?)?;
    } else {
        for p in &report.problems {
            writeln!(out, "problem: {p}")?;
        }
        writeln!(out, "{}", verdict(report))?;
    }
    Ok(if report.is_clean() {
        Outcome::Done
    } else {
        Outcome::Problems
    })
}

/// The last line of `verify`: the verdict and what was checked.
fn verdict(report: &archive::VerifyReport) -> String {
    format!(
        "{}: {}, {}, {}, {} checked",
        if report.is_clean() {
            "archive OK"
        } else {
            "archive has problems"
        },
        counted(report.pages, "page", "pages"),
        counted(report.captures, "capture", "captures"),
        counted(report.payloads, "payload", "payloads"),
        counted(report.versions, "version", "versions"),
    )
}

/// `palimpsest compact`: the archive at `location` rewritten with only its
/// live records, each compressed with the newest record dictionary.
pub fn compact(location: &Location, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let dir = location
        .require_dir("compact")
        .map_err(anyhow::Error::msg)?;
    let report = with_record_bar(|progress| archive::compact(dir, progress))?;
    writeln!(
        out,
        "compacted {} ({} written again with the record dictionary): {} -> {} on disk",
        counted(report.records, "record", "records"),
        report.recompressed,
        human_bytes(report.bytes_before),
        human_bytes(report.bytes_after),
    )?;
    Ok(Outcome::Done)
}

/// Runs `work` under a progress bar of the records it has done (when
/// stderr is a terminal).
fn with_record_bar<T>(work: impl FnOnce(&dyn Fn(u64, u64)) -> T) -> T {
    let bar = export::progress_bar();
    let result = work(&|records, _bytes| {
        if let Some(b) = &bar {
            b.set_position(records);
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    result
}

/// `palimpsest copy`: the archive at `from` copied into `to`, then verified.
pub fn copy(from: &Location, to: &Location, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let report = with_record_bar(|progress| archive::copy(from, to, progress))?;
    writeln!(
        out,
        "copied {} ({}){} from {from} to {to}; verified {}: {}",
        counted(report.records, "record", "records"),
        human_bytes(report.bytes),
        if report.resumed {
            ", going on from where a copy stopped,"
        } else {
            ""
        },
        counted(report.pages, "page", "pages"),
        if report.problems.is_empty() {
            "clean".to_string()
        } else {
            counted(report.problems.len() as u64, "problem", "problems")
        },
    )?;
    for problem in &report.problems {
        writeln!(out, "  {problem}")?;
    }
    Ok(if report.problems.is_empty() {
        Outcome::Done
    } else {
        Outcome::Problems
    })
}

/// `palimpsest search`: the pages whose versions match, best first, each
/// with its best-matching version and a snippet (matches in bold, or
/// between brackets); the index is brought up to date first.
pub(crate) fn search(
    archive: &Archive,
    query: &crate::search::SearchQuery,
    json: bool,
    bold: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let (index, _) = crate::search::SearchIndex::open(archive.dir(), archive)?;
    let hits = index.search(archive, query)?;
    for hit in &hits {
        if json {
            writeln!(out, "{}", serde_json::to_string(hit)?)?;
            continue;
        }
        let removed = hit
            .removed_in
            .map(|v| format!(" (gone in v{v})"))
            .unwrap_or_default();
        writeln!(
            out,
            "{}  v{}{removed}  {}  {}",
            hit.url,
            hit.version,
            hit.first_seen.format("%Y-%m-%d"),
            hit.title.as_deref().unwrap_or("(no title)")
        )?;
        writeln!(out, "    {}", marked(hit, bold))?;
    }
    if hits.is_empty() && !json {
        writeln!(out, "no version matches")?;
    }
    Ok(if hits.is_empty() {
        Outcome::NothingDone
    } else {
        Outcome::Done
    })
}

/// The hit's snippet with its matches in bold (ANSI) or between `[` `]`.
fn marked(hit: &crate::search::Hit, bold: bool) -> String {
    let (open, close) = if bold {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    let mut out = String::with_capacity(hit.snippet.len() + hit.highlighted.len() * 8);
    for (text, matched) in hit.snippet_parts() {
        if matched {
            out.push_str(open);
            out.push_str(text);
            out.push_str(close);
        } else {
            out.push_str(text);
        }
    }
    out.replace('\n', " ")
}

/// `palimpsest reindex`: the search index built again from the archive.
pub fn reindex(location: &Location, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let archive = open_existing(location, "palimpsest reindex")?;
    let (_, indexed) = crate::search::SearchIndex::rebuild(archive.dir(), &archive)?;
    writeln!(out, "indexed {}", counted(indexed, "version", "versions"))?;
    Ok(Outcome::Done)
}

/// `palimpsest salvage`: every readable record of the archive in
/// `location` copied into a new archive in `to`, which is then verified.
pub fn salvage(location: &Location, to: &Path, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let from = location
        .require_dir("salvage")
        .map_err(anyhow::Error::msg)?;
    let report = archive::salvage(from, to)?;
    writeln!(
        out,
        "salvaged {} from {} into {}{}",
        counted(report.records, "record", "records"),
        from.display(),
        to.display(),
        match report.damaged_stretches {
            0 => String::new(),
            n => format!(
                ", skipping {}",
                counted(n, "damaged stretch", "damaged stretches")
            ),
        }
    )?;
    if report.from_packs > 0 {
        writeln!(
            out,
            "{} found again in the packs, where the damaged database no longer pointed to them",
            counted(
                report.from_packs,
                "payload or article",
                "payloads and articles"
            )
        )?;
    }
    if let Some(cut) = &report.repair_cut {
        writeln!(out, "note: {cut}")?;
    }
    if report.from_raw_log > 0 {
        writeln!(
            out,
            "note: {} read from sled's log directly, past what sled itself could read",
            counted(report.from_raw_log, "record", "records")
        )?;
    }
    if let Some(failure) = &report.raw_log_failure {
        writeln!(
            out,
            "note: sled's log could not be read directly: {failure}"
        )?;
    }
    if report.records == 0 {
        writeln!(out, "nothing could be read")?;
        return Ok(Outcome::NothingDone);
    }
    // The new archive was sealed by salvage: it opens without damage.
    let check = archive::verify(&open_existing(&Location::from(to), "palimpsest salvage")?)?;
    write!(out, "salvaged {}", verdict(&check))?;
    if !check.is_clean() {
        write!(
            out,
            " (records lost to the damage leave references dangling; `palimpsest --archive {} verify` lists them)",
            to.display()
        )?;
    }
    writeln!(out)?;
    Ok(Outcome::Done)
}

/// `palimpsest extract`: articles from saved HTML, one JSON record a line.
pub fn extract(
    inputs: &[std::path::PathBuf],
    url: Option<&str>,
    seed_files: &[std::path::PathBuf],
    input_jsonl: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let url = url
        .map(|u| crate::canonical::CanonicalUrl::parse(u).map(|c| c.as_url().clone()))
        .transpose()?;
    let opts = crate::extract::command::ExtractOptions {
        inputs: inputs.to_vec(),
        url,
        input_jsonl,
        profiles: crate::config::load_profiles(seed_files)?,
    };
    let stdin = std::io::stdin();
    let mut stdin = stdin.lock();
    crate::extract::command::run(&opts, &mut stdin, out)?;
    Ok(Outcome::Done)
}

/// `palimpsest import-warc`: captures from WARC files, extracted and
/// versioned as if crawled.
pub fn import_warc(
    location: &Location,
    files: &[std::path::PathBuf],
    seed_files: &[std::path::PathBuf],
    max_body: u64,
    json: bool,
    clock: Clock,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let profiles = crate::config::profiles_by_host(seed_files)?;
    let archive = Archive::open_at(location, "palimpsest import-warc")?;
    let report = crawl::import_warc(&archive, files, &profiles, max_body, clock)?;
    index_new_versions(&archive);
    if json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    } else {
        writeln!(
            out,
            "{}: {} imported, {}, {} already in the archive, {} skipped (not responses or revisits, or unusable), {} skipped",
            counted(report.records, "record", "records"),
            counted(report.captures, "capture", "captures"),
            counted(report.new_versions, "new version", "new versions"),
            counted(report.duplicates, "capture", "captures"),
            counted(report.skipped, "record", "records"),
            counted(report.damaged, "damaged stretch", "damaged stretches"),
        )?;
    }
    Ok(import_outcome(&report))
}

/// An import that read nothing from a file, or found no capture at all,
/// did not do what was asked: it says so and exits non-zero.
fn import_outcome(report: &crawl::ImportReport) -> Outcome {
    for file in &report.unreadable_files {
        eprintln!("error: {file}: no WARC record could be read (is it a WARC file?)");
    }
    if report.found_nothing() {
        eprintln!(
            "error: nothing imported: {} held no HTTP response or revisit record that could be used",
            if report.records == 0 {
                "the files"
            } else {
                "the records read"
            }
        );
        return Outcome::NothingDone;
    }
    if report.unreadable_files.is_empty() {
        Outcome::Done
    } else {
        Outcome::Problems
    }
}

/// `palimpsest reextract`: extract stored payloads again, no refetching.
pub fn reextract(
    location: &Location,
    seed_files: &[std::path::PathBuf],
    url: Option<&str>,
    json: bool,
    clock: Clock,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let profiles = crate::config::profiles_by_host(seed_files)?;
    let archive = Archive::open_existing_to_write(location, "palimpsest reextract")?;
    let only = url
        .map(|u| archive.lookup(u).map(|(id, _)| id))
        .transpose()?;
    let report = crawl::reextract(&archive, &profiles, only, clock)?;
    index_new_versions(&archive);
    if json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    } else {
        writeln!(
            out,
            "{}: {} re-extracted, {}, {} without a complete HTML capture",
            counted(report.pages, "page", "pages"),
            report.extracted,
            counted(report.new_versions as u64, "new version", "new versions"),
            report.skipped
        )?;
    }
    Ok(Outcome::Done)
}

/// Brings the search index up to date with what a command just stored; a
/// failure is only logged (the index is derived data: the next search or
/// `reindex` catches up).
fn index_new_versions(archive: &Archive) {
    if let Err(e) = crate::search::SearchIndex::open(archive.dir(), archive) {
        tracing::warn!("the search index could not take in the new versions: {e}");
    }
}

/// Opens an archive that must already exist, to read it (reading commands
/// never create one).
pub(crate) fn open_existing(location: &Location, holder: &str) -> anyhow::Result<Archive> {
    Ok(Archive::open_reading(location, holder)?)
}
