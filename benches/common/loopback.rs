//! The loopback harness the crawl benchmarks share: environment knobs, a
//! seeded PRNG so a generated site is the same on every run, an axum site
//! served on 127.0.0.1 only, and the release binary's `crawl` run against it
//! with one `--resolve` pin per host (so no name is ever sent to DNS), its
//! CPU time sampled and its `--json` summary read back. Sizes are apparent
//! file sizes, summed over a directory after the process that wrote them
//! has exited.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use axum::Router;

/// The value of the environment variable `name`, or `default` when it is
/// unset or does not parse.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic PRNG (xorshift64*): the same site on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Apparent size of every file under `path` (what `du --apparent-size -b`
/// says); 0 for a path that is not there.
pub fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// A router served on 127.0.0.1 (port chosen by the system) by a runtime
/// of its own, so the crawler under test gets the machine's other core.
pub struct LoopbackServer {
    runtime: tokio::runtime::Runtime,
    port: u16,
}

impl LoopbackServer {
    pub fn start(app: Router) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        runtime.spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        LoopbackServer { runtime, port }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn stop(self) {
        self.runtime.shutdown_timeout(Duration::from_secs(1));
    }
}

/// One `palimpsest crawl` of loopback hosts: every host is pinned to
/// 127.0.0.1 with `--resolve` and seeded at its home page.
pub struct CrawlRun {
    pub archive: PathBuf,
    pub hosts: Vec<String>,
    pub port: u16,
    pub rate: String,
    pub concurrency: usize,
    pub depth: u32,
    /// More arguments for `crawl` (e.g. `--no-search-index`).
    pub extra: Vec<String>,
}

/// What one crawl process did: its `--json` summary, the wall time from
/// process start to exit, and the CPU time it used.
pub struct CrawlResult {
    pub summary: serde_json::Value,
    pub wall: Duration,
    pub cpu_secs: f64,
}

impl CrawlResult {
    /// A numeric field of the summary; NaN when it is missing.
    pub fn field(&self, name: &str) -> f64 {
        self.summary[name].as_f64().unwrap_or(f64::NAN)
    }
}

impl CrawlRun {
    /// The command line, for the benchmark's report.
    pub fn describe(&self) -> String {
        format!(
            "palimpsest crawl --allow-private --rate {} --concurrency {} --depth {} --json --no-progress{} (+{n} --resolve HOST:{port}:127.0.0.1, {n} seeds http://HOST:{port}/)",
            self.rate,
            self.concurrency,
            self.depth,
            self.extra
                .iter()
                .map(|a| format!(" {a}"))
                .collect::<String>(),
            n = self.hosts.len(),
            port = self.port,
        )
    }

    /// Runs the crawl to its end; an error carries the exit status and
    /// standard error of a crawl that failed.
    pub fn run(&self) -> Result<CrawlResult, String> {
        let mut cmd = palimpsest(&self.archive);
        cmd.arg("crawl")
            .args(["--allow-private", "--rate", &self.rate])
            .args(["--concurrency", &self.concurrency.to_string()])
            .args(["--depth", &self.depth.to_string()])
            .args(["--json", "--no-progress"])
            .args(&self.extra);
        for host in &self.hosts {
            cmd.arg("--resolve")
                .arg(format!("{host}:{}:127.0.0.1", self.port));
        }
        for host in &self.hosts {
            cmd.arg(format!("http://{host}:{}/", self.port));
        }
        let clock = Instant::now();
        let (out, cpu_secs) = run_measuring_cpu(&mut cmd);
        let wall = clock.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!(
                "palimpsest crawl failed ({})\nstderr:\n{stderr}",
                out.status
            ));
        }
        let summary = stdout
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str(l.trim()).ok())
            .or_else(|| serde_json::from_str(stdout.trim()).ok())
            .ok_or_else(|| format!("no JSON summary on stdout:\n{stdout}\nstderr:\n{stderr}"))?;
        Ok(CrawlResult {
            summary,
            wall,
            cpu_secs,
        })
    }
}

/// The release binary, on the archive in `archive`.
pub fn palimpsest(archive: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palimpsest"));
    cmd.arg("--archive").arg(archive);
    cmd
}

/// The output of `palimpsest stats` (`--json` when `json`) on `archive`.
pub fn stats(archive: &Path, json: bool) -> Result<String, String> {
    let mut cmd = palimpsest(archive);
    cmd.arg("stats");
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().map_err(|e| format!("palimpsest stats: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "palimpsest stats failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// CPU seconds (user + system) a live process has used so far, from
/// `/proc/PID/stat` (Linux; clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesized command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Runs `cmd` to completion, sampling its CPU time until it exits: on a
/// shared machine, pages per CPU-second says more than pages per second.
pub fn run_measuring_cpu(cmd: &mut Command) -> (Output, f64) {
    use std::io::Read;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the measured process");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).ok();
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        stderr.read_to_end(&mut v).ok();
        v
    });
    let pid = child.id();
    let mut cpu = 0.0f64;
    let status = loop {
        if let Some(c) = cpu_seconds(pid) {
            cpu = cpu.max(c);
        }
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    };
    (output, cpu)
}

/// What keeping the search index up to date costs a crawl: the same crawl
/// with and without `--no-search-index`, `runs` times each, alternating
/// which goes first, each into a fresh archive; medians of pages/s (wall,
/// which includes the index's last update at the end).
pub fn index_cost(crawl: &CrawlRun, work: &Path, runs: usize) {
    let mut rates: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for round in 0..runs {
        for step in 0..2 {
            let without = (round + step) % 2 == 1;
            let run = CrawlRun {
                archive: work.join(format!("index-cost-{round}-{step}")),
                extra: if without {
                    vec!["--no-search-index".to_string()]
                } else {
                    Vec::new()
                },
                hosts: crawl.hosts.clone(),
                rate: crawl.rate.clone(),
                ..*crawl
            };
            let result = run.run().unwrap_or_else(|e| {
                eprintln!("{e}");
                std::process::exit(1);
            });
            let rate = result.field("pages_fetched") / result.wall.as_secs_f64();
            println!(
                "index cost      round {round}: {} {rate:.1} pages/s (wall)",
                if without {
                    "without index"
                } else {
                    "with index   "
                }
            );
            rates[usize::from(without)].push(rate);
            let _ = std::fs::remove_dir_all(&run.archive);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (with, without) = (median(&mut rates[0]), median(&mut rates[1]));
    println!(
        "index cost      median {with:.1} pages/s with the index kept up to date, {without:.1} without: {:+.1} % (target: no more than 15 % slower)",
        (with / without - 1.0) * 100.0
    );
}
