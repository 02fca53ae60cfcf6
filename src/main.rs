//! The `palimpsest` command line: parses arguments and calls the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use palimpsest::archive::Location;
use palimpsest::clock::{CLOCK_VAR, Clock};
use palimpsest::commands::{self, DiffFormat, ExportFormat, ExportOptions, Reading};
use palimpsest::config::{ConfigError, CrawlFlags};
use palimpsest::export::{Filter, Schema};

/// A polite, resumable crawler that archives news articles as versioned snapshots.
#[derive(Parser)]
#[command(name = "palimpsest", version, about)]
struct Cli {
    /// Archive directory, or a PostgreSQL database (postgres://USER@HOST/DB).
    #[arg(
        long,
        global = true,
        env = "PALIMPSEST_ARCHIVE",
        default_value = "archive",
        value_parser = Location::parse
    )]
    archive: Location,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Crawl seeds and what they lead to, into the archive.
    Crawl(Box<CrawlArgs>),
    /// Crawl, then keep revisiting seeds (every `every`) and articles (by age) until stopped.
    Watch(Box<WatchArgs>),
    /// Extract articles from saved HTML files (or stdin): one JSON record a line.
    Extract {
        /// HTML files (`-` or none: standard input); `.gz` files are read gunzipped.
        files: Vec<PathBuf>,
        /// The URL the pages came from (resolves links, picks the profile).
        #[arg(long)]
        url: Option<String>,
        /// Seed files whose [[profile]] tables apply.
        #[arg(long = "seeds", value_name = "FILE")]
        seeds: Vec<PathBuf>,
        /// Read `{"url", "html", "id"?}` lines on stdin; answer line for line, echoing `id`.
        #[arg(long)]
        input_jsonl: bool,
    },
    /// Bring captures from WARC files (Heritrix, wget, browsertrix…) into the archive.
    ImportWarc {
        /// WARC files (`.warc` or `.warc.gz`) to read.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Seed files whose [[profile]] tables apply.
        #[arg(long = "seeds", value_name = "FILE")]
        seeds: Vec<PathBuf>,
        /// Largest body kept, after decompression, e.g. 10MiB; a longer one is stored cut, as a crawl stores it [default: 10MiB].
        #[arg(long, value_name = "SIZE", value_parser = byte_size)]
        max_body: Option<u64>,
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Extract stored captures again (after an extractor change), without refetching.
    Reextract {
        /// Seed files whose [[profile]] tables apply.
        #[arg(long = "seeds", value_name = "FILE")]
        seeds: Vec<PathBuf>,
        /// Only this URL.
        #[arg(long)]
        url: Option<String>,
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// The corpus as JSON Lines, CSV or WARC, streamed.
    Export(ExportArgs),
    /// Local web interface and JSON API.
    Serve {
        /// IP:PORT, or localhost:PORT.
        #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_bind)]
        bind: SocketAddr,
        /// Also answer requests addressed to NAME (e.g. behind a reverse proxy); repeatable.
        #[arg(long = "allow-host", value_name = "NAME")]
        allow_host: Vec<palimpsest::serve::AllowedHost>,
    },
    /// Serve a small news site on loopback to try the crawler on, and print the commands to try.
    Demo {
        /// Loopback address and port both demo sites are served on.
        #[arg(long, default_value = palimpsest::demo::DEFAULT_BIND, value_parser = parse_bind)]
        bind: SocketAddr,
    },
    /// Check that every reference resolves and every payload matches its digest.
    Verify {
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Rewrite the archive into a new database holding only live records, then swap it in.
    Compact,
    /// Copy an archive into an empty one elsewhere (a directory or postgres://…), then verify it; run again, a copy cut short goes on.
    Copy {
        /// The archive to copy (a directory or postgres://USER@HOST/DB).
        #[arg(long, value_parser = Location::parse)]
        from: Location,
        /// Where to copy it (must hold no archive, or a copy cut short).
        #[arg(long, value_parser = Location::parse)]
        to: Location,
    },
    /// Search the text of every version of every page (words, "phrases", OR, -word, title:, author:, host:, language:).
    Search {
        /// The query.
        query: String,
        /// Only pages of this host.
        #[arg(long)]
        host: Option<String>,
        /// Only articles in this language (en, id, vi…).
        #[arg(long)]
        language: Option<String>,
        /// Only versions dated at or after (RFC 3339, a date, or a duration ago such as 7d).
        #[arg(long, value_parser = parse_when)]
        since: Option<DateTime<Utc>>,
        /// Only versions dated before (RFC 3339, a date, or a duration ago).
        #[arg(long, value_parser = parse_when)]
        until: Option<DateTime<Utc>>,
        /// Which date --since and --until narrow by (published: the article's date, or when first seen if it gives none).
        #[arg(long, value_enum, default_value = "published")]
        dated_by: palimpsest::search::DatedBy,
        /// Text an earlier version had and the latest no longer has, with the version where it disappeared.
        #[arg(long)]
        removed: bool,
        /// Also match other forms of the words (flood: floods, flooded), in the languages that have a stemmer.
        #[arg(long)]
        stem: bool,
        /// Results at most.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// JSON Lines output.
        #[arg(long)]
        json: bool,
    },
    /// Build the search index again from the archive.
    Reindex,
    /// Copy every record still readable from a damaged archive into a new one, then verify it.
    Salvage {
        /// Directory for the new archive (must not hold one); the damaged archive is only read.
        #[arg(long, value_name = "NEW_DIR")]
        to: PathBuf,
    },
    #[command(flatten)]
    Read(ReadCommand),
}

/// The commands that only read the archive: run on it, or sent to the
/// process serving it.
#[derive(Subcommand)]
enum ReadCommand {
    /// What the frontier will fetch next, and when.
    Schedule {
        /// Entries shown at most.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// JSON Lines output.
        #[arg(long)]
        json: bool,
    },
    /// List archived pages.
    List {
        /// Include pages that are not articles.
        #[arg(long)]
        all_pages: bool,
        /// JSON Lines output.
        #[arg(long)]
        json: bool,
    },
    /// Counts and sizes of the archive.
    Stats {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Versions of a URL: number, first and last seen, title, size of change.
    History {
        /// The page's URL, as crawled.
        url: String,
        /// JSON Lines output, one version a line.
        #[arg(long)]
        json: bool,
    },
    /// One version's article (default: the latest).
    Show {
        /// The page's URL, as crawled.
        url: String,
        /// Version number (see `history`) [default: the latest].
        // Not `--version` first: that is every program's "print my version".
        // The spelling the contract names stays accepted, and listed.
        #[arg(
            short = 'n',
            long = "number",
            visible_alias = "version",
            value_name = "N"
        )]
        number: Option<u32>,
        /// The article record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Word-level differences between two versions (default: the last two).
    Diff {
        /// The page's URL, as crawled.
        url: String,
        /// Older version.
        a: Option<u32>,
        /// Newer version [default: the latest].
        b: Option<u32>,
        /// Output format (html: a standalone page).
        #[arg(long, value_enum, default_value = "text")]
        format: DiffFormat,
        /// Same as --format json.
        #[arg(long)]
        json: bool,
    },
    /// The chain of sources an article cites (and theirs), each with its versions and the edits made after the citing page appeared.
    Sources {
        /// The article's URL, as crawled.
        url: String,
        /// The chain as one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Articles that gained a version, and sources edited after an article citing them appeared.
    Changes {
        /// RFC 3339 time, a date (2025-10-01) or a duration ago (24h, 7d).
        #[arg(long, value_parser = parse_when)]
        since: Option<DateTime<Utc>>,
        /// Include pages that are not articles.
        #[arg(long)]
        all_pages: bool,
        /// JSON Lines output.
        #[arg(long)]
        json: bool,
    },
}

impl ReadCommand {
    fn reading(&self) -> Reading {
        match self {
            ReadCommand::Schedule { limit, json } => Reading::Schedule {
                limit: *limit,
                json: *json,
                now: Some(clock().now()),
            },
            ReadCommand::List { all_pages, json } => Reading::List {
                all_pages: *all_pages,
                json: *json,
            },
            ReadCommand::Stats { json } => Reading::Stats { json: *json },
            ReadCommand::History { url, json } => Reading::History {
                url: url.clone(),
                json: *json,
            },
            ReadCommand::Show { url, number, json } => Reading::Show {
                url: url.clone(),
                version: *number,
                json: *json,
            },
            ReadCommand::Diff {
                url,
                a,
                b,
                format,
                json,
            } => Reading::Diff {
                url: url.clone(),
                a: *a,
                b: *b,
                format: if *json { DiffFormat::Json } else { *format },
                colour: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            },
            ReadCommand::Sources { url, json } => Reading::Sources {
                url: url.clone(),
                json: *json,
            },
            ReadCommand::Changes {
                since,
                all_pages,
                json,
            } => Reading::Changes {
                since: *since,
                all_pages: *all_pages,
                json: *json,
            },
        }
    }
}

#[derive(Args)]
struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// Output file (`-`: standard output, the default).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Only these hosts (and their subdomains); repeatable.
    #[arg(long)]
    host: Vec<String>,
    /// Captured at or after (RFC 3339, a date, or a duration ago such as 7d).
    #[arg(long, value_parser = parse_when)]
    since: Option<DateTime<Utc>>,
    /// Captured before (JSONL/CSV without --all-versions: each page as it stood then).
    #[arg(long, value_parser = parse_when)]
    until: Option<DateTime<Utc>>,
    /// Only these languages (en matches en-GB); repeatable.
    #[arg(long)]
    language: Vec<String>,
    /// Every version, not only the latest of each URL.
    #[arg(long)]
    all_versions: bool,
    /// Include pages that are not articles (WARC always does, unless --articles-only).
    #[arg(long)]
    all_pages: bool,
    /// Only articles: WARC leaves out home pages, feeds, sitemaps and robots.txt (JSONL and CSV always do, unless --all-pages).
    #[arg(long, conflicts_with = "all_pages")]
    articles_only: bool,
    /// JSONL field names.
    #[arg(long, value_enum, default_value = "palimpsest")]
    schema: Schema,
    /// WARC: start a new file past this size, e.g. 1GB.
    #[arg(long, default_value = "1GB", value_parser = parse_size)]
    max_file_size: u64,
    /// CSV: cells as stored, without the ' put before a leading =, +, -, @, tab or CR.
    #[arg(long)]
    raw: bool,
}

impl ExportArgs {
    fn options(&self) -> ExportOptions {
        ExportOptions {
            format: self.format,
            output: self.output.clone(),
            filter: Filter {
                hosts: self.host.clone(),
                since: self.since,
                until: self.until,
                languages: self.language.clone(),
                all_versions: self.all_versions,
                all_pages: self.all_pages(),
            },
            schema: self.schema,
            cells: if self.raw {
                palimpsest::export::Cells::Raw
            } else {
                palimpsest::export::Cells::Neutralised
            },
            max_file_size: self.max_file_size,
        }
    }
}

impl ExportArgs {
    /// Every page, or articles only. A WARC is an archivist's record of
    /// every capture, so it holds every page unless told otherwise; JSONL
    /// and CSV are article corpora, so they hold articles unless told so.
    fn all_pages(&self) -> bool {
        match self.format {
            ExportFormat::Warc => !self.articles_only,
            ExportFormat::Jsonl | ExportFormat::Csv => self.all_pages,
        }
    }
}

fn parse_size(s: &str) -> Result<u64, String> {
    palimpsest::config::parse_size(s).map_err(reason)
}

/// The clock of this process, set first thing in `main`: clap's value
/// parsers (a `--since` of `7d`) have no other way to reach it.
static CLOCK: OnceLock<Clock> = OnceLock::new();

fn clock() -> Clock {
    CLOCK.get().copied().unwrap_or_default()
}

/// Real time, unless a test set `PALIMPSEST_CLOCK` (see `palimpsest::clock`).
fn clock_from_env() -> Result<Clock, String> {
    match std::env::var(CLOCK_VAR) {
        Ok(spec) => Clock::from_spec(&spec).map_err(|e| e.to_string()),
        Err(std::env::VarError::NotPresent) => Ok(Clock::System),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{CLOCK_VAR} is not UTF-8")),
    }
}

fn parse_when(s: &str) -> Result<DateTime<Utc>, String> {
    palimpsest::config::parse_when_at(s, clock().now()).map_err(reason)
}

/// A byte size, as `crawl --max-body` reads it (`10MiB`, `1048576`).
fn byte_size(s: &str) -> Result<u64, String> {
    palimpsest::config::parse_size(s).map_err(reason)
}

fn parse_bind(s: &str) -> Result<SocketAddr, String> {
    palimpsest::config::parse_bind(s).map_err(reason)
}

/// A count or duration of which zero makes no sense.
fn at_least_one<T>(s: &str) -> Result<T, String>
where
    T: std::str::FromStr + Default + PartialEq,
    T::Err: std::fmt::Display,
{
    let n: T = s.trim().parse().map_err(|e: T::Err| e.to_string())?;
    if n == T::default() {
        return Err("must be at least 1".into());
    }
    Ok(n)
}

/// Why a value is wrong, for clap, which already quotes the value and names the flag.
fn reason(e: ConfigError) -> String {
    match e {
        ConfigError::Value { reason, .. } => reason,
        other => other.to_string(),
    }
}

#[derive(Args)]
struct CrawlArgs {
    /// Seed URLs.
    urls: Vec<String>,
    /// Seed file (TOML, or text with one URL a line); repeatable.
    #[arg(long = "seeds", value_name = "FILE")]
    seeds: Vec<PathBuf>,
    /// Link hops from the seed [default: 2].
    #[arg(long)]
    depth: Option<u32>,
    /// Source-link hops followed off-site [default: 1].
    #[arg(long)]
    source_hops: Option<u32>,
    /// Pages queued in this pass at most.
    #[arg(long)]
    max_pages: Option<u64>,
    /// Pages queued per host in this pass at most.
    #[arg(long)]
    max_pages_per_host: Option<u64>,
    /// URLs not yet fetched that one host's queue holds at most; more are not queued [default: 50000].
    #[arg(long, value_name = "N", value_parser = at_least_one::<u64>)]
    max_queue_per_host: Option<u64>,
    /// Sitemaps and feeds queued per host in this pass at most [default: 1000].
    #[arg(long, value_name = "N", value_parser = at_least_one::<u64>)]
    max_listings_per_host: Option<u64>,
    /// Longest robots.txt Crawl-delay honoured; a longer one is cut to it [default: 120].
    #[arg(long, value_name = "SECS", value_parser = at_least_one::<u64>)]
    max_crawl_delay: Option<u64>,
    /// Seconds one page's parsing and extraction may take; past it the page is stored without its article [default: 60].
    #[arg(long, value_name = "SECS", value_parser = at_least_one::<u64>)]
    parse_budget: Option<u64>,
    /// Requests per host, e.g. 2/s, 30/m [default: 1/s].
    #[arg(long)]
    rate: Option<String>,
    /// Requests in flight at once, over all hosts [default: 16].
    #[arg(long, value_parser = at_least_one::<usize>)]
    concurrency: Option<usize>,
    /// User-Agent header [default: palimpsest/VERSION (+URL)].
    #[arg(long)]
    user_agent: Option<String>,
    /// Seconds allowed for one request, body included [default: 30].
    #[arg(long, value_name = "SECS", value_parser = at_least_one::<u64>)]
    timeout: Option<u64>,
    /// Largest body kept, after decompression, e.g. 10MiB [default: 10MiB].
    #[arg(long, value_name = "SIZE")]
    max_body: Option<String>,
    /// Pin HOST:PORT to ADDR, as curl does; repeatable.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    resolve: Vec<String>,
    /// Allow connections to loopback, private and link-local addresses.
    #[arg(long)]
    allow_private: bool,
    /// Start a new pass even if the last one was interrupted.
    #[arg(long)]
    fresh: bool,
    /// With a PostgreSQL archive: how long a host stays with a crawling process that stopped renewing its lease before another takes it over, e.g. 5s, 2m [default: 60s].
    #[arg(long, value_name = "SPAN", value_parser = parse_lease)]
    lease: Option<std::time::Duration>,
    /// Do not keep the search index up to date while crawling (the next search catches up).
    #[arg(long)]
    no_search_index: bool,
    /// No progress bar; log lines instead.
    #[arg(long)]
    no_progress: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Also serve the web interface on ADDR while crawling (e.g. 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR", value_parser = parse_bind)]
    serve: Option<SocketAddr>,
    /// With --serve: also answer requests addressed to NAME; repeatable.
    #[arg(long = "allow-host", value_name = "NAME", requires = "serve")]
    allow_host: Vec<palimpsest::serve::AllowedHost>,
}

#[derive(Args)]
struct WatchArgs {
    #[command(flatten)]
    crawl: CrawlArgs,
    #[command(flatten)]
    notify: NotifyArgs,
}

/// Change alerts of `watch`.
#[derive(Args)]
struct NotifyArgs {
    /// POST a JSON alert to URL for each change of a page (a version after the first); repeatable.
    #[arg(long = "notify", value_name = "URL")]
    webhooks: Vec<String>,
    /// Run CMD (with sh -c) with each alert as JSON on standard input; repeatable.
    #[arg(long = "notify-cmd", value_name = "CMD")]
    commands: Vec<String>,
    /// Alert only changes of at least N words added and removed [default: 1].
    #[arg(long = "notify-min-words", value_name = "N")]
    min_words: Option<usize>,
    /// Alert only changes of pages classified as articles.
    #[arg(long = "notify-articles")]
    articles_only: bool,
    /// Alert only changes on HOST or its subdomains; repeatable.
    #[arg(long = "notify-host", value_name = "HOST")]
    hosts: Vec<String>,
    /// The web interface's address that alerts link to [default: the --serve address].
    #[arg(long = "notify-links", value_name = "URL")]
    links: Option<String>,
}

impl NotifyArgs {
    fn flags(&self) -> palimpsest::notify::NotifyFlags {
        palimpsest::notify::NotifyFlags {
            webhooks: self.webhooks.clone(),
            commands: self.commands.clone(),
            min_words: self.min_words,
            articles_only: self.articles_only,
            hosts: self.hosts.clone(),
            links: self.links.clone(),
        }
    }
}

impl CrawlArgs {
    fn interface(&self) -> Option<commands::Interface> {
        self.serve.map(|bind| commands::Interface {
            bind,
            allowed_hosts: self.allow_host.clone(),
        })
    }

    fn flags(&self) -> CrawlFlags {
        CrawlFlags {
            urls: self.urls.clone(),
            seed_files: self.seeds.clone(),
            depth: self.depth,
            max_pages: self.max_pages,
            max_pages_per_host: self.max_pages_per_host,
            max_queue_per_host: self.max_queue_per_host,
            max_listings_per_host: self.max_listings_per_host,
            max_crawl_delay: self.max_crawl_delay,
            parse_budget: self.parse_budget,
            rate: self.rate.clone(),
            concurrency: self.concurrency,
            user_agent: self.user_agent.clone(),
            timeout: self.timeout,
            max_body: self.max_body.clone(),
            resolve: self.resolve.clone(),
            allow_private: self.allow_private,
            fresh: self.fresh,
            lease: self.lease,
            source_hops: self.source_hops,
            no_search_index: self.no_search_index,
            clock: clock(),
        }
    }
}

/// A lease of at least a second (a humantime span: `5s`, `2m`).
fn parse_lease(text: &str) -> Result<std::time::Duration, String> {
    let span = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if span < std::time::Duration::from_secs(1) {
        return Err("a lease must last at least 1s".into());
    }
    Ok(span)
}

fn main() -> ExitCode {
    if let Err(e) = clock_from_env().map(|clock| CLOCK.set(clock)) {
        eprintln!("error: {e}");
        return ExitCode::from(commands::USAGE_ERROR);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap's own rendering: it names what is missing, suggests
            // close spellings and lists valid values.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                commands::USAGE_ERROR
            } else {
                0
            });
        }
    };
    init_tracing();
    let mut out = commands::Stdout::lock();
    let result = run(&cli.command, &cli.archive, &mut out);
    let _ = out.flush();
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        // The reader went away (`| head`): nothing more to say to anyone.
        Err(_) if out.closed() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(commands::error_exit_code(&e))
        }
    }
}

/// Runs one command on the archive in `archive`.
fn run(
    command: &Command,
    archive: &Location,
    out: &mut commands::Stdout,
) -> anyhow::Result<commands::Outcome> {
    match command {
        Command::Crawl(args) => commands::crawl(
            &args.flags(),
            archive,
            args.interface().as_ref(),
            !args.no_progress,
            args.json,
            out,
        ),
        Command::Watch(args) => commands::watch(
            &args.crawl.flags(),
            &args.notify.flags(),
            archive,
            args.crawl.interface().as_ref(),
            !args.crawl.no_progress,
            args.crawl.json,
            out,
        ),
        Command::Serve { bind, allow_host } => commands::serve(
            archive,
            &commands::Interface {
                bind: *bind,
                allowed_hosts: allow_host.clone(),
            },
            clock(),
        ),
        Command::Demo { bind } => {
            palimpsest::demo::run(*bind, out).map(|()| commands::Outcome::Done)
        }
        Command::Extract {
            files,
            url,
            seeds,
            input_jsonl,
        } => commands::extract(files, url.as_deref(), seeds, *input_jsonl, out),
        Command::ImportWarc {
            files,
            seeds,
            max_body,
            json,
        } => {
            let max_body = max_body.unwrap_or(palimpsest::config::DEFAULT_MAX_BODY);
            commands::import_warc(archive, files, seeds, max_body, *json, clock(), out)
        }
        Command::Reextract { seeds, url, json } => {
            commands::reextract(archive, seeds, url.as_deref(), *json, clock(), out)
        }
        // Run here, or streamed from the process holding the archive.
        Command::Export(args) => Reading::Export(args.options()).run(archive, out),
        Command::Verify { json } => Reading::Verify { json: *json }.run(archive, out),
        Command::Compact => commands::compact(archive, out),
        Command::Copy { from, to } => commands::copy(from, to, out),
        Command::Search {
            query,
            host,
            language,
            since,
            until,
            dated_by,
            removed,
            stem,
            limit,
            json,
        } => {
            let query = palimpsest::search::SearchQuery {
                text: query.clone(),
                host: host.clone(),
                language: language.clone(),
                since: *since,
                until: *until,
                dated_by: *dated_by,
                removed: *removed,
                stem: *stem,
                limit: *limit,
            };
            let colour =
                !*json && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            Reading::Search {
                query,
                json: *json,
                colour,
            }
            .run(archive, out)
        }
        Command::Reindex => commands::reindex(archive, out),
        Command::Salvage { to } => commands::salvage(archive, to, out),
        Command::Read(read) => read.reading().run(archive, out),
    }
}

/// The error and those causes it does not already say, on one line.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    line.replace('\n', " ")
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PALIMPSEST_LOG")
        // The HTML parser's own warnings ("foster parenting not
        // implemented") are about the page, not for the user.
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new("info,html5ever=error,tantivy=warn")
        });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .compact()
        .init();
}
