//! Crawl throughput: the release binary against a local site on loopback.
//!
//! `cargo bench --bench crawl_throughput` starts a fixture server on
//! 127.0.0.1 serving `BENCH_HOSTS` hosts (`h0.test`, `h1.test`, …) of
//! `BENCH_PAGES` pages each, about `BENCH_PAGE_KB` KiB of realistic article
//! HTML per page (paragraphs, nav, ~30 links to other pages of the same host
//! so the whole site is discovered). The site is generated deterministically
//! in memory once, before the clock starts. It then runs
//!
//! ```text
//! palimpsest crawl --allow-private --rate 1000/s --concurrency 64 --depth 100
//!     --json --no-progress --resolve hN.test:PORT:127.0.0.1 … http://hN.test:PORT/ …
//! ```
//!
//! and prints pages/s, total pages, elapsed time, peak RSS (from the `--json`
//! summary) and the archive size on disk.
//!
//! Defaults: 20 hosts × 500 pages × 50 KiB (Scrapy: about 90 pages/s on
//! this site; the target is about 900 pages/s). Quick run:
//! `BENCH_HOSTS=4 BENCH_PAGES=100 cargo bench --bench crawl_throughput`.
//! Other knobs: `BENCH_CONCURRENCY` (64), `BENCH_RATE` (1000/s),
//! `BENCH_ARCHIVE` (a directory to keep the archive in; default a temporary
//! directory, removed afterwards; or an empty PostgreSQL database,
//! `postgres://USER:PASSWORD@HOST/DB`, whose commits per second during the
//! crawl are printed too, read from `pg_stat_database` with `psql`).
//!
//! `BENCH_INDEX_COST=1` then crawls the site again with and without
//! `--no-search-index` (`BENCH_INDEX_RUNS` times each, 3 by default,
//! alternating which goes first) and prints the median pages/s of each:
//! what keeping the search index up to date costs a crawl.
//!
//! `BENCH_WORKERS=1,2,3`, with a PostgreSQL `BENCH_ARCHIVE`, crawls the
//! site instead with that many `palimpsest crawl` processes sharing one
//! archive (host leases), each count into a new database created beside
//! the one named (and dropped afterwards), and prints for each the pages
//! per second from the first start to the last exit, the pages each
//! process fetched, and the database's commits per second (after one
//! crawl to warm the server up).
//!
//! `BENCH_SCRAPY=1` then crawls the same site with Scrapy in the same run
//! and prints both figures side by side (pages/s, wall time from process
//! start to exit): Scrapy 2.x from PyPI (pinned in
//! `benches/common/scrapy-requirements.txt`, installed on first use into
//! `target/scrapy-venv`), run by `benches/common/scrapy_baseline.py` with
//! 64 requests in flight, robots.txt obeyed and every page stored to disk as
//! raw HTML. Its resolver answers `*.test` with 127.0.0.1 and refuses every
//! other name, so neither crawler ever sends a name to DNS.

#[path = "common/loopback.rs"]
mod loopback;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use loopback::{
    CrawlResult, CrawlRun, LoopbackServer, Rng, dir_size, env_or, index_cost, mib,
    run_measuring_cpu, stats,
};

const WORDS: &[&str] = &[
    "government",
    "minister",
    "said",
    "on",
    "Tuesday",
    "that",
    "the",
    "new",
    "policy",
    "would",
    "take",
    "effect",
    "next",
    "month",
    "after",
    "a",
    "long",
    "debate",
    "in",
    "parliament",
    "where",
    "opposition",
    "members",
    "questioned",
    "its",
    "cost",
    "and",
    "impact",
    "local",
    "residents",
    "told",
    "reporters",
    "they",
    "were",
    "worried",
    "about",
    "rising",
    "prices",
    "economy",
    "grew",
    "by",
    "percent",
    "in",
    "third",
    "quarter",
    "according",
    "to",
    "official",
    "figures",
    "released",
    "city",
    "council",
    "voted",
    "plan",
    "build",
    "bridge",
    "across",
    "river",
    "despite",
    "concerns",
    "from",
    "environmental",
    "groups",
    "police",
    "investigating",
    "incident",
    "which",
    "occurred",
    "late",
    "night",
    "near",
    "central",
    "station",
    "witnesses",
    "described",
    "scene",
    "as",
    "chaotic",
    "hospital",
    "officials",
    "confirmed",
    "several",
    "people",
    "treated",
    "for",
    "minor",
    "injuries",
    "storm",
    "expected",
    "bring",
    "heavy",
    "rain",
    "coastal",
    "areas",
    "weekend",
    "forecasters",
    "warned",
    "company",
    "announced",
    "quarterly",
    "earnings",
    "beat",
    "analyst",
    "expectations",
    "shares",
    "rose",
    "early",
    "trading",
    "election",
    "campaign",
    "entered",
    "final",
    "week",
    "with",
    "candidates",
    "crisscrossing",
    "country",
    "rallies",
    "school",
    "teachers",
    "union",
    "called",
    "strike",
];

fn sentence(rng: &mut Rng, out: &mut String) {
    let len = 12 + rng.below(18);
    for i in 0..len {
        let w = WORDS[rng.below(WORDS.len())];
        if i == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(w);
        }
    }
    out.push_str(". ");
}

fn title(rng: &mut Rng) -> String {
    let mut t = String::new();
    sentence(rng, &mut t);
    t.trim_end_matches(". ")
        .split(' ')
        .take(9)
        .collect::<Vec<_>>()
        .join(" ")
}

fn page_path(i: usize) -> String {
    if i == 0 {
        "/".to_string()
    } else {
        format!("/news/{}/story-{i}.html", 2000 + i % 25)
    }
}

/// One article page of about `size` bytes, linking to ~30 pages of its host.
fn article(host: usize, i: usize, pages: usize, size: usize) -> String {
    let mut rng = Rng::new(((host as u64) << 32) ^ i as u64 ^ 0x5EED);
    let headline = title(&mut rng);
    let mut html = String::with_capacity(size + 4096);
    let _ = write!(
        html,
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{headline} | Host {host} News</title>
<meta name="description" content="{headline}">
<meta property="og:title" content="{headline}">
<meta property="og:type" content="article">
<meta name="author" content="Reporter {a}">
<meta property="article:published_time" content="2025-{m:02}-{d:02}T{h:02}:00:00Z">
<link rel="canonical" href="{path}">
<link rel="stylesheet" href="/static/site.css">
</head><body>
<header class="site-header"><a class="logo" href="/">Host {host} News</a>
<nav class="sections"><ul>"#,
        a = rng.below(40),
        m = 1 + rng.below(12),
        d = 1 + rng.below(28),
        h = rng.below(24),
        path = page_path(i),
    );
    // ~30 links: the next pages (so the whole site is reachable within the
    // depth limit), then pseudo-random ones.
    let mut links: Vec<usize> = (1..=5).map(|k| (i + k) % pages).collect();
    while links.len() < 30 {
        links.push(rng.below(pages));
    }
    for (n, &target) in links.iter().take(8).enumerate() {
        let _ = write!(
            html,
            r#"<li><a href="{}">Section {n}</a></li>"#,
            page_path(target)
        );
    }
    html.push_str("</ul></nav></header>\n<main><article class=\"story\">\n");
    let _ = write!(
        html,
        "<h1 class=\"headline\">{headline}</h1>\n<p class=\"byline\">By <span class=\"name\">Reporter {}</span> · <time datetime=\"2025-03-04T10:00:00Z\">March 4, 2025</time></p>\n<div class=\"article-body\">\n",
        rng.below(40)
    );
    let mut inline = links[8..18].iter();
    let footer_links: Vec<usize> = links[18..].to_vec();
    let body_target = size.saturating_sub(3000);
    let mut paragraph = 0;
    while html.len() < body_target {
        html.push_str("<p>");
        for _ in 0..(3 + rng.below(4)) {
            sentence(&mut rng, &mut html);
        }
        if paragraph % 3 == 1
            && let Some(&t) = inline.next()
        {
            let _ = write!(
                html,
                r#"Read more: <a href="{}">{}</a>."#,
                page_path(t),
                title(&mut rng)
            );
        }
        html.push_str("</p>\n");
        paragraph += 1;
        if paragraph % 7 == 0 {
            html.push_str("<h2>");
            html.push_str(&title(&mut rng));
            html.push_str("</h2>\n");
        }
    }
    for &t in inline {
        let _ = write!(
            html,
            r#"<p>See also <a href="{}">this</a>.</p>"#,
            page_path(t)
        );
    }
    html.push_str("</div>\n<div class=\"share\">Share this story</div>\n</article>\n<aside class=\"related\"><h3>Related</h3><ul>\n");
    for t in footer_links {
        let _ = writeln!(
            html,
            r#"<li><a href="{}">{}</a></li>"#,
            page_path(t),
            title(&mut rng)
        );
    }
    html.push_str("</ul></aside></main>\n<footer><p>© 2025 Host News. All rights reserved.</p></footer>\n</body></html>\n");
    html
}

struct SiteData {
    /// host name → (path → page).
    hosts: HashMap<String, HashMap<String, Bytes>>,
    total_bytes: usize,
}

fn generate(hosts: usize, pages: usize, size: usize) -> SiteData {
    let mut data = SiteData {
        hosts: HashMap::new(),
        total_bytes: 0,
    };
    for h in 0..hosts {
        let mut site = HashMap::new();
        for i in 0..pages {
            let html = article(h, i, pages, size);
            data.total_bytes += html.len();
            site.insert(page_path(i), Bytes::from(html));
        }
        data.hosts.insert(format!("h{h}.test"), site);
    }
    data
}

fn respond(data: &SiteData, request: &Request) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let host = host.split(':').next().unwrap_or("");
    let path = request.uri().path();
    let (body, content_type, code) = if path == "/robots.txt" {
        (
            Bytes::from_static(b"User-agent: *\nAllow: /\n"),
            "text/plain",
            StatusCode::OK,
        )
    } else {
        match data.hosts.get(host).and_then(|s| s.get(path)) {
            Some(page) => (page.clone(), "text/html; charset=utf-8", StatusCode::OK),
            None => (Bytes::new(), "text/plain", StatusCode::NOT_FOUND),
        }
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = code;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too:
    // there, only check that the site generates.
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        let site = generate(1, 10, 50 * 1024);
        assert_eq!(site.hosts["h0.test"].len(), 10);
        println!("crawl_throughput: smoke check only (run with `cargo bench`)");
        return;
    }

    let hosts: usize = env_or("BENCH_HOSTS", 20);
    let pages: usize = env_or("BENCH_PAGES", 500);
    let page_kb: usize = env_or("BENCH_PAGE_KB", 50);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 64);
    let rate: String = env_or("BENCH_RATE", "1000/s".to_string());

    let started = Instant::now();
    let site = Arc::new(generate(hosts, pages, page_kb * 1024));
    println!(
        "site: {hosts} hosts × {pages} pages, {:.1} MiB of HTML ({:.1} KiB a page), generated in {:.1?}",
        mib(site.total_bytes as u64),
        site.total_bytes as f64 / 1024.0 / (hosts * pages) as f64,
        started.elapsed()
    );

    let app_site = site.clone();
    let server = LoopbackServer::start(Router::new().fallback(move |request: Request| {
        let site = app_site.clone();
        async move { respond(&site, &request) }
    }));

    let keep = std::env::var_os("BENCH_ARCHIVE");
    let tmp = tempfile::Builder::new()
        .prefix("palimpsest-bench-")
        .tempdir()
        .expect("temp dir");
    let crawl = CrawlRun {
        archive: match &keep {
            Some(dir) => Path::new(dir).to_path_buf(),
            None => tmp.path().join("archive"),
        },
        hosts: (0..hosts).map(|h| format!("h{h}.test")).collect(),
        port: server.port(),
        rate,
        concurrency,
        depth: 100,
        extra: Vec::new(),
    };
    if let Ok(counts) = std::env::var("BENCH_WORKERS") {
        let counts: Vec<usize> = counts
            .split(',')
            .filter_map(|c| c.trim().parse().ok())
            .collect();
        println!("running, sharing one archive: {}", crawl.describe());
        // A new server's first crawl runs slower (cold caches, new tables):
        // one crawl first, so the counts compare like with like.
        print!("warm-up: ");
        if let Err(e) = shared_crawl(&crawl, 1, (hosts * pages) as f64) {
            eprintln!("{e}");
            std::process::exit(1);
        }
        for n in counts {
            if let Err(e) = shared_crawl(&crawl, n, (hosts * pages) as f64) {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
        server.stop();
        return;
    }
    println!("running: {}", crawl.describe());
    let commits_before = database_commits(&crawl.archive);
    let result = crawl.run().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    report(&crawl, &result, site.total_bytes, (hosts * pages) as f64);
    if let (Some(before), Some(after)) = (commits_before, database_commits(&crawl.archive)) {
        let commits = after.saturating_sub(before);
        println!(
            "database        {commits} transactions committed, {:.0} a second (each read outside a batch is one)",
            commits as f64 / result.wall.as_secs_f64()
        );
    }
    if env_or("BENCH_INDEX_COST", 0u8) != 0 {
        index_cost(&crawl, tmp.path(), env_or("BENCH_INDEX_RUNS", 3));
    }
    if env_or("BENCH_SCRAPY", 0u8) != 0 {
        let scrapy = scrapy_crawl(
            server.port(),
            &crawl.hosts,
            &tmp.path().join("scrapy-pages"),
        );
        if let Err(e) = scrapy.map(|s| side_by_side(&result, &s)) {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
    server.stop();
}

/// `workers` crawl processes sharing a new database beside the one
/// `crawl` names; prints what they did together.
fn shared_crawl(crawl: &CrawlRun, workers: usize, expected: f64) -> Result<(), String> {
    let base = crawl.archive.to_str().filter(|a| a.starts_with("postgres"));
    let base = base.ok_or("BENCH_WORKERS needs BENCH_ARCHIVE=postgres://…/DB")?;
    let name = format!("palimpsest_bench_{workers}_workers_{}", std::process::id());
    psql(base, &format!("CREATE DATABASE {name}"))?;
    let (head, query) = base.split_once('?').map_or((base, ""), |(h, q)| (h, q));
    let url = match query {
        "" => format!("{}/{name}", head.rsplit_once('/').map_or(head, |(h, _)| h)),
        q => format!(
            "{}/{name}?{q}",
            head.rsplit_once('/').map_or(head, |(h, _)| h)
        ),
    };
    let run = CrawlRun {
        archive: PathBuf::from(&url),
        hosts: crawl.hosts.clone(),
        port: crawl.port,
        rate: crawl.rate.clone(),
        concurrency: crawl.concurrency,
        depth: crawl.depth,
        extra: crawl.extra.clone(),
    };
    let commits_before = database_commits(&run.archive);
    let started = Instant::now();
    let results: Vec<Result<CrawlResult, String>> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..workers).map(|_| scope.spawn(|| run.run())).collect();
        runs.into_iter()
            .map(|r| {
                r.join()
                    .unwrap_or_else(|_| Err("a crawl thread panicked".into()))
            })
            .collect()
    });
    let wall = started.elapsed().as_secs_f64();
    let commits = database_commits(&run.archive)
        .zip(commits_before)
        .map(|(after, before)| after.saturating_sub(before));
    let dropped = psql(base, &format!("DROP DATABASE {name}"));
    let results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    dropped?;
    let each: Vec<f64> = results.iter().map(|r| r.field("pages_fetched")).collect();
    let total: f64 = each.iter().sum();
    let cpu: f64 = results.iter().map(|r| r.cpu_secs).sum();
    println!(
        "{workers} worker(s)      {total:.0} of {expected:.0} pages in {wall:.2} s: {:.1} pages/s (first start to last exit); per process {each:?}; {cpu:.1} CPU-seconds",
        total / wall
    );
    if let Some(commits) = commits {
        println!(
            "                database: {commits} transactions committed, {:.0} a second",
            commits as f64 / wall
        );
    }
    Ok(())
}

/// Runs one statement with `psql` on the database `url` names.
fn psql(url: &str, statement: &str) -> Result<(), String> {
    let out = Command::new("psql")
        .args([url, "-Atc", statement])
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "psql {statement}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Transactions the PostgreSQL database named by `archive` has committed,
/// or `None` for a directory archive.
fn database_commits(archive: &Path) -> Option<u64> {
    let url = archive.to_str().filter(|a| a.starts_with("postgres"))?;
    let out = Command::new("psql")
        .args([
            url,
            "-Atc",
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
        ])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// What Scrapy's crawl of the site did.
struct ScrapyResult {
    pages: f64,
    own_elapsed: f64,
    wall: f64,
    cpu_secs: f64,
    html_bytes: u64,
}

/// The virtual environment Scrapy runs in, installed from the pinned
/// requirements when it is missing or older than them.
fn scrapy_venv() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("target/scrapy-venv");
    let requirements = root.join("benches/common/scrapy-requirements.txt");
    let marker = venv.join("installed");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&marker).is_some() && modified(&marker) >= modified(&requirements) {
        return Ok(venv);
    }
    println!("installing Scrapy into {} (once)", venv.display());
    let python = venv.join("bin/python");
    let steps: [(&str, Command); 2] = [
        ("python3 -m venv", {
            let mut c = Command::new("python3");
            c.args(["-m", "venv"]).arg(&venv);
            c
        }),
        ("pip install", {
            let mut c = Command::new(&python);
            c.args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements);
            c
        }),
    ];
    for (what, mut cmd) in steps {
        let status = cmd.status().map_err(|e| format!("{what}: {e}"))?;
        if !status.success() {
            return Err(format!("{what} failed ({status})"));
        }
    }
    std::fs::write(&marker, b"").map_err(|e| format!("{}: {e}", marker.display()))?;
    Ok(venv)
}

/// Crawls the site with Scrapy, storing its pages in `out_dir`.
fn scrapy_crawl(port: u16, hosts: &[String], out_dir: &Path) -> Result<ScrapyResult, String> {
    let venv = scrapy_venv()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/common/scrapy_baseline.py");
    let mut cmd = Command::new(venv.join("bin/python"));
    cmd.arg(script)
        .arg(port.to_string())
        .arg(out_dir)
        .args(hosts);
    println!("running: Scrapy (benches/common/scrapy_baseline.py) on the same site");
    let clock = Instant::now();
    let (out, cpu_secs) = run_measuring_cpu(&mut cmd);
    let wall = clock.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("Scrapy failed ({})\nstderr:\n{stderr}", out.status));
    }
    let summary: serde_json::Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l.trim()).ok())
        .ok_or_else(|| format!("no JSON summary from Scrapy:\n{stdout}\nstderr:\n{stderr}"))?;
    if summary["errors"].as_u64().unwrap_or(0) > 0 {
        eprintln!("warning: Scrapy logged errors:\n{stderr}");
    }
    Ok(ScrapyResult {
        pages: summary["pages_stored"].as_f64().unwrap_or(f64::NAN),
        own_elapsed: summary["elapsed_secs"].as_f64().unwrap_or(f64::NAN),
        wall,
        cpu_secs,
        html_bytes: dir_size(out_dir),
    })
}

/// Both crawlers' figures from this one run.
fn side_by_side(ours: &CrawlResult, scrapy: &ScrapyResult) {
    let ours_rate = ours.field("pages_fetched") / ours.wall.as_secs_f64();
    let scrapy_rate = scrapy.pages / scrapy.wall;
    println!(
        "Scrapy          {:.0} pages stored ({:.1} MiB of raw HTML), {:.2} s wall → {scrapy_rate:.1} pages/s (wall), {:.1} pages/s (its own elapsed time), {:.0} pages per CPU-second",
        scrapy.pages,
        mib(scrapy.html_bytes),
        scrapy.wall,
        scrapy.pages / scrapy.own_elapsed,
        scrapy.pages / scrapy.cpu_secs.max(0.01)
    );
    println!(
        "side by side    palimpsest {ours_rate:.1} pages/s, Scrapy {scrapy_rate:.1} pages/s (wall, process start to exit, one run): {:.2}× (target ≥ 8×)",
        ours_rate / scrapy_rate
    );
}

/// Prints what the crawl did and what its archive holds.
fn report(crawl: &CrawlRun, result: &CrawlResult, html_bytes: usize, expected: f64) {
    let fetched = result.field("pages_fetched");
    let elapsed = result.field("elapsed_secs");
    let wall = result.wall.as_secs_f64();
    let disk = dir_size(&crawl.archive);

    println!();
    println!("pages fetched   {fetched:.0} of {expected:.0}");
    println!("elapsed         {elapsed:.2} s (crawler), {wall:.2} s (wall, process start to exit)");
    println!(
        "throughput      {:.1} pages/s (crawler), {:.1} pages/s (wall)",
        result.field("pages_per_sec"),
        fetched / wall
    );
    if result.cpu_secs > 0.0 {
        println!(
            "CPU time        {:.2} s (user + system, sampled) → {:.0} pages per CPU-second; load average now {}",
            result.cpu_secs,
            fetched / result.cpu_secs,
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    println!(
        "peak RSS        {:.1} MiB",
        mib(result.field("peak_rss_bytes") as u64)
    );
    println!(
        "archive         {:.1} MiB on disk ({:.1} KiB a page; {:.1} MiB of HTML served)",
        mib(disk),
        disk as f64 / 1024.0 / fetched.max(1.0),
        mib(html_bytes as u64)
    );
    println!(
        "errors          {:.0}, captures {:.0}, new versions {:.0}",
        result.field("errors"),
        result.field("captures"),
        result.field("new_versions")
    );
    // Where the disk goes: compressed payloads vs. the rest of the database.
    let stats = stats(&crawl.archive, true)
        .ok()
        .and_then(|o| serde_json::from_str::<serde_json::Value>(&o).ok());
    if let Some(stats) = stats {
        let field = |f: &str| stats[f].as_u64().unwrap_or(0);
        println!(
            "payloads        {} stored, {:.1} MiB compressed (sled reports {:.1} MiB on disk)",
            field("payloads"),
            mib(field("payload_bytes_compressed")),
            mib(field("disk_bytes"))
        );
    }
    println!("reference       Scrapy ≈ 90 pages/s on this site; target ≈ 900 pages/s");
    println!("summary         {}", result.summary);
    if fetched < expected {
        eprintln!("warning: the crawl fetched {fetched:.0} of {expected:.0} pages");
    }
}
