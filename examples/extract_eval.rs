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
//! candidates and texts, `--dump FILE` writes every result as JSON lines
//! (with the half and the snippets found and missed), `--prose-only`
//! scores the second method (the prose test over the whole body) alone.

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
    url: Option<String>,
    ground_truth: Gt,
}

#[derive(Deserialize)]
struct Gt {
    title: Option<String>,
    author: Option<String>,
    publish_date: Option<String>,
    main_content: Option<String>,
    #[serde(default)]
    with: Vec<String>,
    #[serde(default)]
    without: Vec<String>,
}

struct PageScore {
    id: String,
    half: Half,
    /// Word-level scores against `main_content`, where the page has one.
    words: Option<(f64, f64, f64)>,
    /// The same over runs of four words (shingles), which also counts order.
    shingles: Option<(f64, f64, f64)>,
    snippets: Snippets,
}

impl PageScore {
    fn f1(&self) -> f64 {
        self.words.map_or(0.0, |w| w.2)
    }
}

/// A fixed half of a data set, by a hash of the page id: tune on one, and
/// keep a change only if the other agrees.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Half {
    A,
    B,
}

impl Half {
    fn of(id: &str) -> Half {
        if blake3::hash(id.as_bytes()).as_bytes()[0] & 1 == 0 {
            Half::A
        } else {
            Half::B
        }
    }
}

/// Snippet counts, scored as the multilingual set's authors do: a `with`
/// snippet found in the whitespace-normalized output is a true positive
/// (else a false negative), a `without` snippet found is a false positive
/// (else a true negative); precision, recall and F1 are micro-averaged.
#[derive(Clone, Copy, Default, Debug)]
struct Snippets {
    tp: usize,
    fn_: usize,
    fp: usize,
    tn: usize,
}

impl Snippets {
    fn score(text: &str, with: &[String], without: &[String]) -> Snippets {
        let text = norm_ws(text);
        let found = |s: &String| {
            let s = norm_ws(s);
            !s.is_empty() && text.contains(&s)
        };
        let tp = with.iter().filter(|s| found(s)).count();
        let fp = without.iter().filter(|s| found(s)).count();
        Snippets {
            tp,
            fn_: with.len() - tp,
            fp,
            tn: without.len() - fp,
        }
    }

    /// The `without` snippets found and the `with` snippets missed, for
    /// studying what a change gains and loses.
    fn detail<'a>(
        text: &str,
        with: &'a [String],
        without: &'a [String],
    ) -> (Vec<&'a str>, Vec<&'a str>) {
        let text = norm_ws(text);
        let found = |s: &&String| {
            let s = norm_ws(s);
            !s.is_empty() && text.contains(&s)
        };
        (
            without.iter().filter(found).map(String::as_str).collect(),
            with.iter()
                .filter(|s| !found(s))
                .map(String::as_str)
                .collect(),
        )
    }

    fn add(&mut self, o: &Snippets) {
        self.tp += o.tp;
        self.fn_ += o.fn_;
        self.fp += o.fp;
        self.tn += o.tn;
    }

    fn total(&self) -> usize {
        self.tp + self.fn_ + self.fp + self.tn
    }

    fn prf(&self) -> (f64, f64, f64) {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let p = ratio(self.tp, self.tp + self.fp);
        let r = ratio(self.tp, self.tp + self.fn_);
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        (p, r, f)
    }
}

/// Texts extracted by another tool, one JSON object a line: `{"id", "text"}`.
fn load_external(path: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("cannot read {}: {e}", path.display());
        std::process::exit(1);
    });
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            Some((
                v["id"].as_str()?.to_string(),
                v["text"].as_str().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// The multiset of runs of `n` consecutive words of `s`, lower-cased.
fn shingles(re: &Regex, s: &str, n: usize) -> HashMap<String, usize> {
    let lower = s.to_lowercase();
    let tokens: Vec<&str> = re.find_iter(&lower).map(|w| w.as_str()).collect();
    let mut m = HashMap::new();
    if tokens.len() < n {
        // A text shorter than one shingle is one shingle.
        if !tokens.is_empty() {
            m.insert(tokens.join(" "), 1);
        }
        return m;
    }
    for run in tokens.windows(n) {
        *m.entry(run.join(" ")).or_insert(0) += 1;
    }
    m
}

/// Precision, recall and F1 of `got` against `want` over word runs of `n`.
fn prf(re: &Regex, got: &str, want: &str, n: usize) -> (f64, f64, f64) {
    let g = shingles(re, got, n);
    let w = shingles(re, want, n);
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

struct Options {
    dirs: Vec<PathBuf>,
    worst: usize,
    only: Option<String>,
    verbose: bool,
    dump: Option<std::fs::File>,
    external: Option<HashMap<String, String>>,
    half: Option<Half>,
    /// Score the prose method alone instead of `extract`.
    prose_only: bool,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Options {
        dirs: Vec::new(),
        worst: 0,
        only: None,
        verbose: false,
        dump: None,
        external: None,
        half: None,
        prose_only: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--worst" => o.worst = it.next().and_then(|n| n.parse().ok()).unwrap_or(20),
            "--only" => o.only = it.next().cloned(),
            "--verbose" | "-v" => o.verbose = true,
            "--prose-only" => o.prose_only = true,
            "--dump" => o.dump = it.next().and_then(|p| std::fs::File::create(p).ok()),
            "--external" => o.external = it.next().map(|p| load_external(Path::new(p))),
            "--half" => {
                o.half = match it.next().map(String::as_str) {
                    Some("a" | "A") => Some(Half::A),
                    Some("b" | "B") => Some(Half::B),
                    _ => None,
                }
            }
            other => o.dirs.push(PathBuf::from(other)),
        }
    }
    if o.dirs.is_empty() {
        eprintln!(
            "usage: extract_eval DIR… [--half a|b] [--external FILE.jsonl] [--prose-only] [--worst N] [--only ID] [--verbose] [--dump FILE]"
        );
        std::process::exit(2);
    }
    o
}

fn main() {
    let mut o = options();
    let re = Regex::new(r"\w+").expect("static regex");
    for dir in o.dirs.clone() {
        println!("== {}", dir.display());
        evaluate(&dir, &re, &mut o);
    }
}

/// Title, author and date tallies.
#[derive(Default)]
struct Fields {
    title: (usize, usize),
    author: (usize, usize),
    date: (usize, usize),
    articles: usize,
}

fn page_ids(dir: &Path, o: &Options) -> Vec<String> {
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
    ids.retain(|i| o.only.as_ref().is_none_or(|only| only == i));
    ids.retain(|i| o.half.is_none_or(|h| Half::of(i) == h));
    ids
}

fn evaluate(dir: &Path, re: &Regex, o: &mut Options) {
    let mut scores = Vec::new();
    let mut fields = Fields::default();
    let mut elapsed = Duration::ZERO;
    let mut cpu = Duration::ZERO;
    for id in page_ids(dir, o) {
        let Some((truth, html)) = load(dir, &id) else {
            eprintln!("skipping {id}: unreadable");
            continue;
        };
        let url = truth
            .url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .unwrap_or_else(|| Url::parse("http://invalid.test/").expect("literal"));
        let start = Instant::now();
        let cpu_start = cpu_time();
        let ex = extract(&html, &url, None);
        elapsed += start.elapsed();
        cpu += cpu_time().saturating_sub(cpu_start);
        let a = &ex.article;
        let text = match &o.external {
            Some(ext) => ext.get(&id).cloned().unwrap_or_default(),
            None if o.prose_only => palimpsest::extract::prose_only(&html),
            None => a.text.clone(),
        };
        let gt = &truth.ground_truth;
        let score = PageScore {
            half: Half::of(&id),
            words: gt.main_content.as_deref().map(|m| prf(re, &text, m, 1)),
            shingles: gt.main_content.as_deref().map(|m| prf(re, &text, m, 4)),
            snippets: Snippets::score(&text, &gt.with, &gt.without),
            id: id.clone(),
        };
        if let Some(f) = o.dump.as_mut() {
            use std::io::Write as _;
            let (found_fp, missed) = Snippets::detail(&text, &gt.with, &gt.without);
            let line = serde_json::json!({"id": id, "half": format!("{:?}", score.half), "fp": found_fp, "fn": missed, "url": truth.url, "text": text, "gt": gt.main_content, "title": a.title, "gt_title": gt.title, "authors": a.authors, "gt_author": gt.author, "published": a.published.map(|d| d.to_rfc3339()), "modified": a.modified.map(|d| d.to_rfc3339()), "gt_date": gt.publish_date});
            let _ = writeln!(f, "{line}");
        }
        let notes = tally_fields(re, a, gt, &mut fields);
        if o.verbose || o.only.is_some() {
            let (p, r, f1) = score.words.unwrap_or_default();
            println!(
                "{id} f1={f1:.3} p={p:.3} r={r:.3} snippets={:?} {}",
                score.snippets,
                truth.url.as_deref().unwrap_or("")
            );
            for n in &notes {
                println!("    {n}");
            }
            if o.only.is_some() {
                print!("{}", palimpsest::extract::debug_candidates(&html));
                println!(
                    "---- extracted ----\n{text}\n---- expected ----\n{}",
                    gt.main_content.as_deref().unwrap_or("")
                );
            }
        }
        scores.push(score);
    }
    report(&scores, &fields, elapsed, cpu, o.worst);
}

/// Counts title, author and date matches; returns what did not match.
fn tally_fields(
    re: &Regex,
    a: &palimpsest::article::Article,
    gt: &Gt,
    fields: &mut Fields,
) -> Vec<String> {
    let mut notes = Vec::new();
    if a.kind == palimpsest::article::PageKind::Article {
        fields.articles += 1;
    }
    if let Some(t) = gt.title.as_deref().filter(|t| !t.trim().is_empty()) {
        fields.title.1 += 1;
        if a.title.as_deref().map(norm_ws) == Some(norm_ws(t)) {
            fields.title.0 += 1;
        } else {
            notes.push(format!("title: got {:?} want {:?}", a.title, t));
        }
    }
    if let Some(au) = gt.author.as_deref().filter(|t| !t.trim().is_empty()) {
        fields.author.1 += 1;
        if author_match(re, &a.authors, au) {
            fields.author.0 += 1;
        } else {
            notes.push(format!("author: got {:?} want {:?}", a.authors, au));
        }
    }
    if let Some(d) = gt.publish_date.as_deref().filter(|t| t.len() >= 10) {
        fields.date.1 += 1;
        let got = a.published.map(|p| p.format("%Y-%m-%d").to_string());
        if got.as_deref() == Some(&d[..10]) {
            fields.date.0 += 1;
        } else {
            notes.push(format!("date: got {got:?} want {d:?}"));
        }
    }
    notes
}

/// Mean precision, recall and F1 over pages, on one line.
fn print_means(what: &str, label: &str, scores: impl Iterator<Item = (f64, f64, f64)>) {
    let scores: Vec<(f64, f64, f64)> = scores.collect();
    if scores.is_empty() {
        return;
    }
    let n = scores.len() as f64;
    let mean = |f: fn(&(f64, f64, f64)) -> f64| scores.iter().map(f).sum::<f64>() / n;
    println!(
        "{what} {label:6}  F1 {:.4}  precision {:.4}  recall {:.4}  ({} pages)",
        mean(|w| w.2),
        mean(|w| w.0),
        mean(|w| w.1),
        scores.len()
    );
}

fn report(scores: &[PageScore], fields: &Fields, elapsed: Duration, cpu: Duration, worst: usize) {
    let pct = |(a, b): (usize, usize)| {
        if b == 0 {
            0.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    println!("pages:       {}", scores.len());
    for (label, half) in [
        ("all", None),
        ("half A", Some(Half::A)),
        ("half B", Some(Half::B)),
    ] {
        let part: Vec<&PageScore> = scores
            .iter()
            .filter(|s| half.is_none_or(|h| s.half == h))
            .collect();
        print_means("body", label, part.iter().filter_map(|s| s.words));
        print_means("shingle-4", label, part.iter().filter_map(|s| s.shingles));
        let mut snippets = Snippets::default();
        part.iter().for_each(|s| snippets.add(&s.snippets));
        if snippets.total() > 0 {
            let (p, r, f) = snippets.prf();
            println!(
                "snippets {label:6}  F1 {f:.4}  precision {p:.4}  recall {r:.4}  ({} snippets)",
                snippets.total()
            );
        }
    }
    println!(
        "title:       {:.1} % exact ({}/{})",
        pct(fields.title),
        fields.title.0,
        fields.title.1
    );
    println!(
        "author:      {:.1} % ({}/{})",
        pct(fields.author),
        fields.author.0,
        fields.author.1
    );
    println!(
        "published:   {:.1} % same day ({}/{})",
        pct(fields.date),
        fields.date.0,
        fields.date.1
    );
    println!(
        "kind:        {:.1} % article",
        pct((fields.articles, scores.len()))
    );
    let n = scores.len().max(1) as f64;
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
        let mut sorted: Vec<&PageScore> = scores.iter().collect();
        sorted.sort_by(|a, b| {
            a.f1()
                .total_cmp(&b.f1())
                .then(b.snippets.fp.cmp(&a.snippets.fp))
        });
        println!("worst pages:");
        for s in sorted.iter().take(worst) {
            let (p, r, f1) = s.words.unwrap_or_default();
            println!(
                "  {} f1={f1:.3} p={p:.3} r={r:.3} snippet fp={} fn={}",
                s.id, s.snippets.fp, s.snippets.fn_
            );
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
