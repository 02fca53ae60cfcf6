//! Full-text search on a large archive: 50,000 articles × 2 versions
//! (100,000 versions) whose texts are real article bodies — the ground
//! truth of `../shared/extraction-dev`, read at run time, the paragraphs of
//! two articles mixed per page so that no two pages are alike — the second
//! version of each with one paragraph replaced. Builds the index as
//! `reindex` does and reports its time and size beside the archive's, then
//! times each kind of query in-process (median and worst of 20 runs) and
//! once through the CLI. Beside it, what a user without search does: grep
//! an `export --format jsonl --all-versions` for the same words.
//! Target: median query under 50 ms.
//!
//! cargo bench --bench search      (SEARCH_PAGES=5000 for a quick run)

#[path = "common/mod.rs"]
mod common;
// Only its environment knob and sizes are used here.
#[allow(dead_code)]
#[path = "common/loopback.rs"]
mod loopback;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use palimpsest::archive::Archive;
use palimpsest::search::{DatedBy, SearchIndex, SearchQuery};

/// Runs of each query timed.
const RUNS: usize = 20;

fn corpus_dir() -> PathBuf {
    std::env::var_os("SEARCH_BENCH_PAGES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/extraction-dev"))
}

/// The paragraphs of each ground-truth article body with enough text.
fn load_bodies(dir: &Path) -> Vec<Vec<String>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("ground-truth"))
        .unwrap_or_else(|e| panic!("{}: {e} (set SEARCH_BENCH_PAGES_DIR)", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|f| {
            let json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(f).ok()?).ok()?;
            let body = json["ground_truth"]["main_content"].as_str()?;
            let paragraphs: Vec<String> = body
                .split('\n')
                .map(str::trim)
                .filter(|p| p.split_whitespace().count() >= 8)
                .map(str::to_string)
                .collect();
            (paragraphs.len() >= 4).then_some(paragraphs)
        })
        .collect()
}

/// Page `i`'s paragraphs: article `i`'s first half, then a later article's
/// second half; version 2 replaces the first paragraph with one of a third.
fn story(bodies: &[Vec<String>], i: u64, n: u32) -> common::Story {
    let k = bodies.len() as u64;
    let (a, b) = (
        &bodies[(i % k) as usize],
        &bodies[((i * 7 + 3) % k) as usize],
    );
    let mut paragraphs: Vec<String> = a[..a.len() / 2].to_vec();
    paragraphs.extend_from_slice(&b[b.len() / 2..]);
    if n > 1 {
        let c = &bodies[((i * 13 + 5) % k) as usize];
        paragraphs[0] = c[c.len() / 2].clone();
    }
    common::Story {
        title: format!(
            "{} ({i})",
            a[0].split_whitespace()
                .take(8)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        paragraphs,
    }
}

/// Words of the corpus by how many bodies hold them, rarest first.
fn words_by_frequency(bodies: &[Vec<String>]) -> Vec<String> {
    let mut df: HashMap<String, usize> = HashMap::new();
    for body in bodies {
        let mut seen: Vec<String> = body
            .iter()
            .flat_map(|p| p.split(|c: char| !c.is_alphanumeric()))
            .filter(|w| w.len() >= 5 && w.chars().all(|c| c.is_ascii_lowercase()))
            .map(str::to_string)
            .collect();
        seen.sort();
        seen.dedup();
        for w in seen {
            *df.entry(w).or_default() += 1;
        }
    }
    let mut words: Vec<(String, usize)> = df.into_iter().filter(|(_, n)| *n >= 2).collect();
    words.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    words.into_iter().map(|(w, _)| w).collect()
}

/// Three consecutive words of a paragraph, as a phrase query.
fn phrase_of(paragraph: &str) -> String {
    let words: Vec<&str> = paragraph
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    let at = words.len() / 2;
    format!(
        "\"{}\"",
        words[at.saturating_sub(1)..(at + 2).min(words.len())].join(" ")
    )
}

struct Timed {
    label: String,
    median: Duration,
    worst: Duration,
    hits: usize,
}

fn time_query(index: &SearchIndex, archive: &Archive, label: &str, query: &SearchQuery) -> Timed {
    let mut times = Vec::with_capacity(RUNS);
    let mut hits = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        hits = index.search(archive, query).expect("search").len();
        times.push(started.elapsed());
    }
    times.sort();
    Timed {
        label: label.to_string(),
        median: times[RUNS / 2],
        worst: times[RUNS - 1],
        hits,
    }
}

fn queries(bodies: &[Vec<String>], pages: u64) -> Vec<(String, SearchQuery)> {
    let words = words_by_frequency(bodies);
    let pick = |q: f64| words[((words.len() - 1) as f64 * q) as usize].clone();
    let (rare, middling, common) = (pick(0.05), pick(0.6), pick(0.995));
    let plain = |text: String| SearchQuery {
        text,
        limit: 20,
        ..Default::default()
    };
    let removed_paragraph = &bodies[0][0];
    let mid = Utc::now() - TimeDelta::days(2) + TimeDelta::seconds((pages / 2) as i64);
    vec![
        (format!("rare word ({rare})"), plain(rare.clone())),
        (
            format!("middling word ({middling})"),
            plain(middling.clone()),
        ),
        (format!("common word ({common})"), plain(common.clone())),
        (
            format!("two words ({middling} {common})"),
            plain(format!("{middling} {common}")),
        ),
        (
            format!("either word ({rare} OR {middling})"),
            plain(format!("{rare} OR {middling}")),
        ),
        (
            format!("phrase ({})", phrase_of(&bodies[3][1])),
            plain(phrase_of(&bodies[3][1])),
        ),
        (
            format!("title:{middling}"),
            plain(format!("title:{middling}")),
        ),
        (
            format!("{common}, host news.test"),
            SearchQuery {
                host: Some("news.test".into()),
                ..plain(common.clone())
            },
        ),
        (
            format!("{common}, published in the first half"),
            SearchQuery {
                until: Some(mid),
                dated_by: DatedBy::Published,
                ..plain(common.clone())
            },
        ),
        (
            format!("middling word, other forms too ({middling} --stem)"),
            SearchQuery {
                stem: true,
                ..plain(middling.clone())
            },
        ),
        (
            format!("removed: {}", phrase_of(removed_paragraph)),
            SearchQuery {
                removed: true,
                ..plain(phrase_of(removed_paragraph))
            },
        ),
    ]
}

/// What a user without search does: export every version, grep it.
fn grep_baseline(archive: &Path, words: &[String]) {
    let export = archive.with_file_name("export.jsonl");
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_palimpsest"))
        .args(["export", "--archive"])
        .arg(archive)
        .args(["--format", "jsonl", "--all-versions", "-o"])
        .arg(&export)
        .status()
        .expect("export");
    assert!(status.success(), "export failed");
    println!(
        "baseline: export --format jsonl --all-versions {:.1}s, {:.1} MiB",
        started.elapsed().as_secs_f64(),
        loopback::mib(std::fs::metadata(&export).map(|m| m.len()).unwrap_or(0))
    );
    for word in words {
        let started = Instant::now();
        let out = Command::new("grep")
            .args(["-c", "-F", "-w", "-i", word])
            .arg(&export)
            .output()
            .expect("grep");
        println!(
            "  grep -c -F -w -i {word:<24} {:>8.1} ms  ({} versions)",
            started.elapsed().as_secs_f64() * 1e3,
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("search bench: smoke check only (run with `cargo bench --bench search`)");
        return;
    }
    let pages: u64 = loopback::env_or("SEARCH_PAGES", 50_000);
    let bodies = load_bodies(&corpus_dir());
    assert!(bodies.len() >= 20, "too few article bodies in the corpus");
    let dir = tempfile::tempdir().expect("temp dir");
    let archive_dir = dir.path().join("archive");
    let started = Instant::now();
    common::build_archive_of(&archive_dir, pages, 2, |i, n| story(&bodies, i, n));
    println!(
        "archive: {pages} articles, {} versions from {} real article bodies, built in {:.1}s, {:.1} MiB",
        pages * 2,
        bodies.len(),
        started.elapsed().as_secs_f64(),
        loopback::mib(loopback::dir_size(&archive_dir))
    );

    let archive = Archive::open(&archive_dir, "bench").expect("open");
    let started = Instant::now();
    let (index, indexed) = SearchIndex::rebuild(&archive_dir, &archive).expect("index");
    let index_bytes = loopback::dir_size(&archive_dir.join("search"));
    println!(
        "index: {indexed} versions in {:.1}s ({:.0} versions/s), {:.1} MiB ({:.0} B a version)",
        started.elapsed().as_secs_f64(),
        indexed as f64 / started.elapsed().as_secs_f64(),
        loopback::mib(index_bytes),
        index_bytes as f64 / indexed.max(1) as f64
    );

    let queries = queries(&bodies, pages);
    println!(
        "{:<60} {:>10} {:>10} {:>6}",
        "query", "median", "worst", "hits"
    );
    let mut medians = Vec::new();
    for (label, query) in &queries {
        let t = time_query(&index, &archive, label, query);
        println!(
            "{:<60} {:>7.2} ms {:>7.2} ms {:>6}",
            t.label,
            t.median.as_secs_f64() * 1e3,
            t.worst.as_secs_f64() * 1e3,
            t.hits
        );
        medians.push(t.median);
    }
    medians.sort();
    let median = medians[medians.len() / 2];
    println!(
        "median of the query medians: {:.2} ms (target < 50 ms): {}",
        median.as_secs_f64() * 1e3,
        if median < Duration::from_millis(50) {
            "met"
        } else {
            "NOT MET"
        }
    );
    drop((index, archive));

    // The same search as a user types it: a process, the archive opened,
    // the index brought up to date, the answer printed.
    let (label, query) = &queries[3];
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_palimpsest"))
        .args(["search", "--archive"])
        .arg(&archive_dir)
        .arg(&query.text)
        .output()
        .expect("search");
    println!(
        "CLI: palimpsest search {label}: {:.1} ms, exit {}",
        started.elapsed().as_secs_f64() * 1e3,
        out.status.code().unwrap_or(-1)
    );
    let words: Vec<String> = queries[..3].iter().map(|(_, q)| q.text.clone()).collect();
    grep_baseline(&archive_dir, &words);
}
