//! Scores `palimpsest::extract::extract` on a directory of pages with
//! ground truth (`html/<id>.html.gz` + `ground-truth/<id>.json`, the layout
//! of the extraction development set):
//!
//! ```text
//! cargo run --release --example extract_eval -- DIR [--worst N] [--only ID] [--dump FILE]
//! ```
//!
//! Body: mean over pages of the F1 of lower-cased `\w+` bags of words (an
//! empty extraction scores 0). Title: exact match after whitespace
//! normalization. Author: at least one name extracted, every extracted name
//! found in the ground truth (which may add a title: "Jane Doe, Senior
//! Editor"), and the ground truth's first name among them; pages without a
//! ground-truth author are not counted. Date: same published day (pages
//! without a ground-truth date are not counted). Speed: pages per second of
//! `extract` alone on one thread, by wall clock and by on-CPU time (the
//! latter is not depressed by other work on a shared machine).
//!
//! `--worst N` lists the N lowest-F1 pages, `--only ID` shows one page's
//! candidates and texts, `--dump FILE` writes every result as JSON lines.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use palimpsest::extract::extract;
use regex::Regex;
use serde::Deserialize;
use url::Url;

#[derive(Deserialize)]
struct Truth {
    url: String,
    ground_truth: Gt,
}

#[derive(Deserialize)]
struct Gt {
    title: Option<String>,
    author: Option<String>,
    publish_date: Option<String>,
    main_content: Option<String>,
}

struct PageScore {
    id: String,
    p: f64,
    r: f64,
    f1: f64,
}

fn words(re: &Regex, s: &str) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for w in re.find_iter(&s.to_lowercase()) {
        *m.entry(w.as_str().to_string()).or_insert(0) += 1;
    }
    m
}

fn prf(re: &Regex, got: &str, want: &str) -> (f64, f64, f64) {
    let g = words(re, got);
    let w = words(re, want);
    let gn: usize = g.values().sum();
    let wn: usize = w.values().sum();
    if gn == 0 || wn == 0 {
        return (0.0, 0.0, 0.0);
    }
    let common: usize = g
        .iter()
        .map(|(k, c)| (*c).min(w.get(k).copied().unwrap_or(0)))
        .sum();
    let p = common as f64 / gn as f64;
    let r = common as f64 / wn as f64;
    let f = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    (p, r, f)
}

fn norm_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn norm_names(re: &Regex, names: &[String]) -> Vec<String> {
    let mut v: Vec<String> = names
        .iter()
        .flat_map(|n| {
            n.split([',', ';', '&'])
                .flat_map(|p| p.split(" and "))
                .map(|p| {
                    re.find_iter(&p.to_lowercase())
                        .map(|m| m.as_str().to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The extracted names match when there is at least one, each appears in
/// the ground truth (which may add titles: "Jane Doe, Senior Editor"), and
/// the ground truth's first name is among them.
fn author_match(re: &Regex, got: &[String], want: &str) -> bool {
    let want_norm = format!(" {} ", norm_names(re, &[want.to_string()]).join(" | "));
    let got_norm = norm_names(re, got);
    let first = norm_names(
        re,
        &[want
            .split([',', ';', '&', '|'])
            .next()
            .unwrap_or(want)
            .split(" and ")
            .next()
            .unwrap_or(want)
            .to_string()],
    );
    !got_norm.is_empty()
        && got_norm
            .iter()
            .all(|g| want_norm.contains(&format!(" {g} ")) || want_norm.contains(g.as_str()))
        && first.iter().all(|f| {
            got_norm
                .iter()
                .any(|g| f.contains(g.as_str()) || g.contains(f.as_str()))
        })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir: Option<PathBuf> = None;
    let mut worst = 0usize;
    let mut only: Option<String> = None;
    let mut verbose = false;
    let mut dump: Option<std::fs::File> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--worst" => worst = it.next().and_then(|n| n.parse().ok()).unwrap_or(20),
            "--only" => only = it.next().cloned(),
            "--verbose" | "-v" => verbose = true,
            "--dump" => dump = it.next().and_then(|p| std::fs::File::create(p).ok()),
            other => dir = Some(PathBuf::from(other)),
        }
    }
    let Some(dir) = dir else {
        eprintln!("usage: extract_eval DIR [--worst N] [--only ID] [--verbose]");
        std::process::exit(2);
    };
    let re = Regex::new(r"\w+").expect("static regex");
    let mut ids: Vec<String> = match std::fs::read_dir(dir.join("ground-truth")) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".json"))
                    .map(str::to_string)
            })
            .collect(),
        Err(e) => {
            eprintln!("cannot read {}: {e}", dir.join("ground-truth").display());
            std::process::exit(1);
        }
    };
    ids.sort();
    if let Some(o) = &only {
        ids.retain(|i| i == o);
    }
    let mut scores = Vec::new();
    let (mut title_ok, mut title_n) = (0, 0);
    let (mut author_ok, mut author_n) = (0, 0);
    let (mut date_ok, mut date_n) = (0, 0);
    let mut articles = 0;
    let mut elapsed = Duration::ZERO;
    let mut cpu = Duration::ZERO;
    for id in &ids {
        let Some((truth, html)) = load(&dir, id) else {
            eprintln!("skipping {id}: unreadable");
            continue;
        };
        let url = Url::parse(&truth.url)
            .unwrap_or_else(|_| Url::parse("http://invalid.test/").expect("literal"));
        let start = Instant::now();
        let cpu_start = cpu_time();
        let ex = extract(&html, &url, None);
        elapsed += start.elapsed();
        cpu += cpu_time().saturating_sub(cpu_start);
        let a = &ex.article;
        if a.kind == palimpsest::article::PageKind::Article {
            articles += 1;
        }
        let gt = &truth.ground_truth;
        let (p, r, f1) = prf(&re, &a.text, gt.main_content.as_deref().unwrap_or(""));
        scores.push(PageScore {
            id: id.clone(),
            p,
            r,
            f1,
        });
        if let Some(f) = dump.as_mut() {
            use std::io::Write as _;
            let line = serde_json::json!({"id": id, "url": truth.url, "text": a.text, "gt": gt.main_content, "title": a.title, "gt_title": gt.title, "authors": a.authors, "gt_author": gt.author, "published": a.published.map(|d| d.to_rfc3339()), "modified": a.modified.map(|d| d.to_rfc3339()), "gt_date": gt.publish_date});
            let _ = writeln!(f, "{line}");
        }
        let mut notes = Vec::new();
        if let Some(t) = gt.title.as_deref().filter(|t| !t.trim().is_empty()) {
            title_n += 1;
            if a.title.as_deref().map(norm_ws) == Some(norm_ws(t)) {
                title_ok += 1;
            } else {
                notes.push(format!("title: got {:?} want {:?}", a.title, t));
            }
        }
        if let Some(au) = gt.author.as_deref().filter(|t| !t.trim().is_empty()) {
            author_n += 1;
            if author_match(&re, &a.authors, au) {
                author_ok += 1;
            } else {
                notes.push(format!("author: got {:?} want {:?}", a.authors, au));
            }
        }
        if let Some(d) = gt.publish_date.as_deref().filter(|t| t.len() >= 10) {
            date_n += 1;
            let got = a.published.map(|p| p.format("%Y-%m-%d").to_string());
            if got.as_deref() == Some(&d[..10]) {
                date_ok += 1;
            } else {
                notes.push(format!("date: got {got:?} want {d:?}"));
            }
        }
        if verbose || only.is_some() {
            println!("{id} f1={f1:.3} p={p:.3} r={r:.3} {}", truth.url);
            for n in &notes {
                println!("    {n}");
            }
            if only.is_some() {
                print!("{}", palimpsest::extract::debug_candidates(&html));
                println!(
                    "---- extracted ----\n{}\n---- expected ----\n{}",
                    a.text,
                    gt.main_content.as_deref().unwrap_or("")
                );
            }
        }
    }
    let n = scores.len().max(1) as f64;
    let mean = |f: fn(&PageScore) -> f64| scores.iter().map(f).sum::<f64>() / n;
    let pct = |a: usize, b: usize| {
        if b == 0 {
            0.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    println!("pages:       {}", scores.len());
    println!(
        "body:        F1 {:.4}  precision {:.4}  recall {:.4}",
        mean(|s| s.f1),
        mean(|s| s.p),
        mean(|s| s.r)
    );
    println!(
        "title:       {:.1} % exact ({title_ok}/{title_n})",
        pct(title_ok, title_n)
    );
    println!(
        "author:      {:.1} % ({author_ok}/{author_n})",
        pct(author_ok, author_n)
    );
    println!(
        "published:   {:.1} % same day ({date_ok}/{date_n})",
        pct(date_ok, date_n)
    );
    println!("kind:        {:.1} % article", pct(articles, scores.len()));
    println!(
        "speed:       {:.0} pages/s ({:.2} ms/page, one thread)",
        scores.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        1000.0 * elapsed.as_secs_f64() / n
    );
    if cpu > Duration::ZERO {
        println!(
            "cpu speed:   {:.0} pages/s (on-CPU time of this process, unaffected by other load)",
            scores.len() as f64 / cpu.as_secs_f64()
        );
    }
    if worst > 0 {
        scores.sort_by(|a, b| a.f1.total_cmp(&b.f1));
        println!("worst pages:");
        for s in scores.iter().take(worst) {
            println!("  {} f1={:.3} p={:.3} r={:.3}", s.id, s.f1, s.p, s.r);
        }
    }
}

/// User plus system CPU time of this process (Linux `/proc`; zero
/// elsewhere), so a busy machine does not understate extraction speed.
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are the
    // 12th and 13th of those, in clock ticks (100 per second on Linux).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return Duration::ZERO;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&k| f.get(k).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

fn load(dir: &Path, id: &str) -> Option<(Truth, String)> {
    let truth: Truth = serde_json::from_slice(
        &std::fs::read(dir.join("ground-truth").join(format!("{id}.json"))).ok()?,
    )
    .ok()?;
    let raw = std::fs::read(dir.join("html").join(format!("{id}.html.gz"))).ok()?;
    let mut bytes = Vec::new();
    flate2::read::MultiGzDecoder::new(&raw[..])
        .read_to_end(&mut bytes)
        .ok()?;
    let (html, _) = palimpsest::decode::decode_html(&bytes, None);
    Some((truth, html))
}
