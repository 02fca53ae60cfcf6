//! README's "A short tour", run as written against `palimpsest demo`: the
//! demo site is started on 127.0.0.1:0, the tour's commands are taken from
//! README.md and run in order (the port swapped in, the archive in a temp
//! dir), an edit is published where the tour says to press Enter, and each
//! command's output is checked for its shape (rows, columns, counts that
//! agree with each other), so that README and reality cannot drift apart.
//! The checks read numbers next to words, not whole sentences, so that
//! wording can be improved without breaking them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread;
use std::time::{Duration, Instant};

use regex::Regex;

use crate::support::*;

/// The port README's tour is written for (`palimpsest demo`'s default).
const README_PORT: &str = "8765";
const EDITED: &str = "/politics/minister-resigns.html";
const STARTUP: Duration = Duration::from_secs(30);
const COMMAND: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------
// The demo, as a child process
// ---------------------------------------------------------------------------

/// A running `palimpsest demo`, killed when dropped.
struct Demo {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr: thread::JoinHandle<String>,
    /// What it printed on start, up to and including its last line.
    banner: Vec<String>,
    port: u16,
}

impl Demo {
    fn start(args: &[&str]) -> Demo {
        let mut child = Command::new(bin())
            .arg("demo")
            .args(args)
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn palimpsest demo");
        let stdin = child.stdin.take().unwrap();
        let (send, lines) = channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr_pipe = child.stderr.take().unwrap();
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            stderr_pipe.read_to_string(&mut text).ok();
            text
        });
        let mut demo = Demo {
            child,
            stdin,
            lines,
            stderr,
            banner: Vec::new(),
            port: 0,
        };
        demo.banner = demo.read_until(|l| l.contains("Ctrl-C"), "the demo's instructions");
        demo.port = port_in(&demo.banner);
        demo
    }

    /// Lines printed until one satisfies `last` (included); fails past the
    /// startup deadline or when the demo exits first.
    fn read_until(&mut self, last: impl Fn(&str) -> bool, what: &str) -> Vec<String> {
        let start = Instant::now();
        let mut seen = Vec::new();
        loop {
            let left = STARTUP.saturating_sub(start.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let done = last(&line);
                    seen.push(line);
                    if done {
                        return seen;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.fail(&format!("no {what} in {STARTUP:?}"), &seen)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.fail(&format!("exited before {what}"), &seen)
                }
            }
        }
    }

    fn fail(&mut self, why: &str, seen: &[String]) -> ! {
        self.child.kill().ok();
        let _ = self.child.wait();
        let stderr = std::mem::replace(&mut self.stderr, thread::spawn(String::new));
        panic!(
            "palimpsest demo {why}\nstdout:\n{}\nstderr:\n{}",
            seen.join("\n"),
            stderr.join().unwrap_or_default()
        );
    }

    /// Presses Enter on the demo's terminal; returns what it answered.
    fn press_enter(&mut self) -> String {
        self.stdin
            .write_all(b"\n")
            .expect("write to the demo's stdin");
        self.stdin.flush().unwrap();
        let said = self.read_until(|l| l.contains("edit"), "answer to Enter");
        said.last().cloned().unwrap_or_default()
    }

    /// The demo's URL for `path` on `host`.
    fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.child.kill().ok();
        let _ = self.child.wait();
    }
}

/// The port in the demo's first line ("… port 40123:").
fn port_in(banner: &[String]) -> u16 {
    let re = Regex::new(r"port (\d+)").unwrap();
    banner
        .iter()
        .find_map(|l| re.captures(l)?[1].parse().ok())
        .unwrap_or_else(|| panic!("the demo named no port:\n{}", banner.join("\n")))
}

/// A raw HTTP/1.1 request to the demo on loopback; the status code.
fn http(port: u16, method: &str, path: &str) -> (u16, String) {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("connect to the demo");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        conn,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer)
        .expect("read the demo's answer");
    let code = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"));
    (code, answer)
}

// ---------------------------------------------------------------------------
// The tour, as README writes it
// ---------------------------------------------------------------------------

/// One step of the tour.
#[derive(Debug, PartialEq)]
enum Step {
    /// `$ palimpsest ARGS` (in README's port), with the output README shows.
    Run {
        args: Vec<String>,
        shown: Vec<String>,
    },
    /// The prose tells the reader to press Enter in the demo's terminal.
    PressEnter,
}

/// README's "A short tour" section.
fn tour_section() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let start = readme
        .find("## A short tour")
        .expect("README has a \"## A short tour\" section");
    let rest = &readme[start + 3..];
    let end = [rest.find("\n## "), rest.find("\n### ")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    rest[..end].to_string()
}

/// The tour's steps, in order.
fn tour_steps(section: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut in_code = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if let Some(command) = line.strip_prefix("$ palimpsest ").filter(|_| in_code) {
            let command = command.split(" #").next().unwrap_or_default();
            let args: Vec<String> = command.split_whitespace().map(str::to_string).collect();
            assert!(!args.is_empty(), "a tour line names no command: {line}");
            steps.push(Step::Run {
                args,
                shown: Vec::new(),
            });
        } else if in_code && !line.trim().is_empty() {
            if let Some(Step::Run { shown, .. }) = steps.last_mut() {
                shown.push(line.to_string());
            }
        } else if !in_code && line.contains("Press Enter") {
            steps.push(Step::PressEnter);
        }
    }
    steps
}

/// `args` with README's port replaced by the demo's, and an output file
/// (`-o FILE`) put in `dir` rather than wherever the tests run.
fn localized(args: &[String], port: u16, dir: &Path) -> Vec<String> {
    let port = port.to_string();
    let mut out: Vec<String> = Vec::new();
    for a in args {
        let a = match out.last().map(String::as_str) {
            Some("-o" | "--output") => dir.join(a).display().to_string(),
            _ => a.replace(README_PORT, &port),
        };
        out.push(a);
    }
    out
}

// ---------------------------------------------------------------------------
// Output shapes
// ---------------------------------------------------------------------------

/// The number just before `word` (one word may sit between: "8 pages
/// fetched"), e.g. `number_before("… 0 errors …", "error")`.
fn number_before(text: &str, word: &str) -> Option<u64> {
    let re = Regex::new(&format!(r"(\d+)\s+(?:[a-z]+\s+)?{word}")).unwrap();
    re.captures(text)?[1].parse().ok()
}

fn must_count(text: &str, word: &str) -> u64 {
    number_before(text, word).unwrap_or_else(|| panic!("no count of {word:?} in:\n{text}"))
}

/// One row of `list`: its first two numbers, its URL and the rest.
#[derive(Debug)]
struct Row {
    versions: u64,
    captures: u64,
    url: String,
    rest: String,
}

/// The rows of a table whose rows name a URL (its header names none).
fn url_rows(stdout: &str) -> Vec<Row> {
    stdout
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let versions = words.next()?.parse().ok()?;
            let captures = words.next()?.parse().ok()?;
            let at = line.find("http://")?;
            let url = line[at..].split_whitespace().next()?.to_string();
            let rest = line[at + url.len()..].trim().to_string();
            Some(Row {
                versions,
                captures,
                url,
                rest,
            })
        })
        .collect()
}

/// `KEY: N …` lines of `stats`.
fn stat(stdout: &str, key: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key).then(|| v.split_whitespace().next()?.parse().ok())?
        })
        .unwrap_or_else(|| panic!("stats has no {key:?} line:\n{stdout}"))
}

/// What the tour has seen so far, for checks that compare commands.
#[derive(Default)]
struct Seen {
    crawls: usize,
    edits: usize,
    /// An edit was published since the last crawl.
    edit_pending: bool,
    pages: Option<Vec<Row>>,
    new_versions: Vec<u64>,
}

fn check_crawl(out: &Output, seen: &mut Seen) {
    let said = format!("{}{}", out.stdout, out.stderr);
    seen.crawls += 1;
    assert!(
        must_count(&said, "fetched") > 0,
        "the demo site answered nothing:\n{said}"
    );
    assert_eq!(
        must_count(&said, "error"),
        0,
        "errors crawling the demo:\n{said}"
    );
    assert_eq!(
        must_count(&said, "disallowed"),
        1,
        "the draft is disallowed:\n{said}"
    );
    assert_eq!(
        must_count(&said, "host"),
        2,
        "both hosts are crawled:\n{said}"
    );
    let new = must_count(&said, "new version");
    match seen.crawls {
        1 => assert!(
            new >= 6,
            "five articles and the wire story are new:\n{said}"
        ),
        _ if seen.edit_pending => {
            assert_eq!(new, 1, "the published edit is the one new version:\n{said}")
        }
        _ => assert_eq!(new, 0, "nothing changed, nothing new:\n{said}"),
    }
    seen.new_versions.push(new);
    seen.edit_pending = false;
}

fn check_list_all(out: &Output, demo: &Demo, seen: &mut Seen) {
    let rows = url_rows(&out.stdout);
    let all_lines = out.stdout.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(
        all_lines,
        rows.len() + 1,
        "a header and one row a page:\n{}",
        out.stdout
    );
    for (host, path) in [
        ("news.test", EDITED),
        ("news.test", "/world/harbour-reopens.html"),
        ("news.test", "/science/new-comet.html"),
        ("news.test", "/business/rates-on-hold.html"),
        ("wire.test", "/stories/harbour-reopens.html"),
    ] {
        let url = demo.url(host, path);
        let row = rows.iter().find(|r| r.url == url);
        let row = row.unwrap_or_else(|| panic!("{url} is not listed:\n{}", out.stdout));
        assert!(
            row.versions >= 1 && row.captures >= 1,
            "{url} archived: {row:?}"
        );
        assert!(!row.rest.is_empty(), "{url} has a title: {row:?}");
    }
    let draft = demo.url("news.test", "/drafts/budget-cost.html");
    let draft = rows
        .iter()
        .find(|r| r.url == draft)
        .expect("the draft is listed");
    assert_eq!(
        (draft.versions, draft.captures),
        (0, 0),
        "never fetched: {draft:?}"
    );
    assert!(draft.rest.contains("disallowed"), "says why: {draft:?}");
    seen.pages = Some(rows);
}

fn check_list_json(out: &Output, seen: &Seen) {
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().all(|v| v["kind"] == "article"),
        "articles only:\n{}",
        out.stdout
    );
    assert_eq!(
        lines.len(),
        5,
        "four Herald articles and the wire story:\n{}",
        out.stdout
    );
    let pages = seen
        .pages
        .as_ref()
        .expect("list --all-pages ran before list --json");
    for v in &lines {
        let url = v["url"].as_str().unwrap_or_default();
        assert!(
            pages.iter().any(|r| r.url == url),
            "{url} is in list --all-pages too"
        );
    }
}

fn check_stats(out: &Output, seen: &Seen) {
    let pages = seen
        .pages
        .as_ref()
        .expect("list --all-pages ran before stats");
    let s = &out.stdout;
    assert_eq!(
        stat(s, "pages"),
        pages.len() as u64,
        "pages: one a row of list:\n{s}"
    );
    assert_eq!(stat(s, "hosts"), 2, "news.test and wire.test:\n{s}");
    let captures: u64 = pages.iter().map(|r| r.captures).sum();
    let versions: u64 = pages.iter().map(|r| r.versions).sum();
    assert_eq!(
        stat(s, "captures"),
        captures,
        "captures: the sum of list's column:\n{s}"
    );
    assert_eq!(
        stat(s, "versions"),
        versions,
        "versions: the sum of list's column:\n{s}"
    );
    let made: u64 = seen.new_versions.iter().sum();
    assert_eq!(
        versions, made,
        "versions: what the crawls said they made:\n{s}"
    );
}

fn check_verify(out: &Output, seen: &Seen) {
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(
        said.contains("OK"),
        "verify says the archive is OK:\n{said}"
    );
    let pages = seen.pages.as_ref().map_or(0, Vec::len) as u64;
    assert_eq!(
        must_count(&said, "pages"),
        pages,
        "verify checked every page:\n{said}"
    );
}

fn check_history(out: &Output, seen: &Seen) {
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.first().is_some_and(|v| v.parse::<u32>().is_ok()))
        .collect();
    let numbers: Vec<&str> = rows.iter().map(|w| w[0]).collect();
    let expected: Vec<String> = (1..=seen.edits + 1).map(|n| n.to_string()).collect();
    assert_eq!(numbers, expected, "one row a version:\n{}", out.stdout);
    assert!(
        out.stdout.contains("resigns"),
        "version 1's headline:\n{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("steps down"),
        "the edited headline:\n{}",
        out.stdout
    );
}

fn check_diff(out: &Output, demo: &Demo) {
    let s = &out.stdout;
    let url = demo.url("news.test", EDITED);
    let old = s.lines().find(|l| l.starts_with("---"));
    let new = s.lines().find(|l| l.starts_with("+++"));
    assert!(
        old.is_some_and(|l| l.contains(&url) && l.contains('1')),
        "--- names v1:\n{s}"
    );
    assert!(
        new.is_some_and(|l| l.contains(&url) && l.contains('2')),
        "+++ names v2:\n{s}"
    );
    let title = s.lines().find(|l| l.starts_with("title:"));
    assert!(
        title.is_some_and(|l| l.contains("resigns") && l.contains("steps down")),
        "the headline change is shown:\n{s}"
    );
    assert!(must_count(s, "added") > 0, "words added are counted:\n{s}");
}

fn check_export(args: &[String], out: &Output) {
    let file = args.windows(2).find(|w| w[0] == "-o").map(|w| w[1].clone());
    let file = file.expect("the tour exports to a file (-o FILE)");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}\n{out:?}"));
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(
        records.len(),
        5,
        "one record an article, its latest version:\n{text}"
    );
    let edited = records
        .iter()
        .find(|r| r["url"].as_str().is_some_and(|u| u.ends_with(EDITED)));
    let edited = edited.expect("the edited article is exported");
    assert_eq!(edited["version"], 2, "as its latest version: {edited}");
    let said = format!("{}{}", out.stdout, out.stderr);
    let count = Regex::new(&format!(r"\b{}\b", records.len())).unwrap();
    assert!(
        count.is_match(&said),
        "export says how many it wrote:\n{said}"
    );
}

fn check_changes(out: &Output, demo: &Demo) {
    let rows: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("http://"))
        .collect();
    assert_eq!(rows.len(), 1, "one article changed:\n{}", out.stdout);
    assert!(
        rows[0].contains(&demo.url("news.test", EDITED)),
        "{}",
        rows[0]
    );
    assert!(
        rows[0].split_whitespace().any(|w| w == "2"),
        "as version 2: {}",
        rows[0]
    );
}

/// Checks `out` of `palimpsest ARGS` for the shape the tour shows.
fn check(args: &[String], out: &Output, demo: &Demo, seen: &mut Seen) {
    out.assert_success(&format!("palimpsest {}", args.join(" ")));
    let flags: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    match (args[0].as_str(), flags.as_slice()) {
        ("crawl", _) => check_crawl(out, seen),
        ("list", ["--all-pages"]) => check_list_all(out, demo, seen),
        ("list", ["--json"]) => check_list_json(out, seen),
        ("stats", []) => check_stats(out, seen),
        ("verify", []) => check_verify(out, seen),
        ("history", _) => check_history(out, seen),
        ("diff", _) => check_diff(out, demo),
        ("changes", _) => check_changes(out, demo),
        ("export", f) if f.contains(&"jsonl") => check_export(args, out),
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn readme_tour_runs_as_written_against_the_demo_site() {
    let section = tour_section();
    let steps = tour_steps(&section);
    let mut demo = Demo::start(&["--bind", "127.0.0.1:0"]);
    let archive = Archive::new();
    let files = tempfile::tempdir().expect("temp dir");
    let mut seen = Seen::default();
    let mut ran = Vec::new();
    for step in &steps {
        match step {
            Step::PressEnter => {
                let said = demo.press_enter();
                assert!(
                    said.contains(EDITED),
                    "the demo says what it edited: {said}"
                );
                seen.edits += 1;
                seen.edit_pending = true;
            }
            Step::Run { args, .. } if args[0] == "demo" => {}
            Step::Run { args, .. } => {
                let mut command = localized(args, demo.port, files.path());
                ran.push(command[0].clone());
                command.extend(["--archive".to_string(), archive.path()]);
                let out = run(&command, COMMAND);
                check(&command[..args.len()], &out, &demo, &mut seen);
            }
        }
    }
    for needed in [
        "crawl", "list", "stats", "verify", "history", "diff", "changes",
    ] {
        assert!(
            ran.iter().any(|c| c == needed),
            "the tour runs `{needed}`: {ran:?}"
        );
    }
    assert!(
        seen.crawls >= 3 && seen.edits == 1,
        "crawl, crawl again, edit, crawl: {steps:?}"
    );
}

#[test]
fn readme_shows_what_the_demo_prints_and_runs_the_commands_it_suggests() {
    let steps = tour_steps(&tour_section());
    let demo = Demo::start(&["--bind", "127.0.0.1:0"]);
    let banner: Vec<String> = demo
        .banner
        .iter()
        .map(|l| l.replace(&demo.port.to_string(), README_PORT))
        .filter(|l| !l.trim().is_empty())
        .collect();
    let shown = steps.iter().find_map(|s| match s {
        Step::Run { args, shown } if args[0] == "demo" => Some(shown.clone()),
        _ => None,
    });
    let shown = shown.expect("the tour starts with `$ palimpsest demo`");
    assert_eq!(shown, banner, "README shows the demo's output as it is");
    let commands: Vec<String> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Run { args, .. } => Some(args.join(" ")),
            Step::PressEnter => None,
        })
        .collect();
    for line in &banner {
        if let Some(command) = line.trim().strip_prefix("palimpsest ") {
            assert!(
                commands.iter().any(|c| c == command),
                "the tour runs `{command}`"
            );
        }
    }
    let resolves = banner.iter().find(|l| l.contains("palimpsest crawl"));
    for host in ["news.test", "wire.test"] {
        let pin = format!("--resolve {host}:{README_PORT}:127.0.0.1");
        assert!(
            resolves.is_some_and(|l| l.contains(&pin)),
            "{pin} suggested"
        );
    }
}

#[test]
fn demo_publishes_an_edit_on_post_only() {
    let mut demo = Demo::start(&["--bind", "127.0.0.1:0"]);
    let (code, answer) = http(demo.port, "GET", "/_demo/edit");
    assert_eq!(
        code, 405,
        "a GET (a crawler, a link preview) publishes nothing: {answer}"
    );
    let (code, answer) = http(demo.port, "POST", "/_demo/edit");
    assert_eq!(code, 200, "{answer}");
    assert!(answer.contains("edit 1"), "the first edit: {answer}");
    let said = demo.read_until(|l| l.contains("edit"), "announcement of the edit");
    let said = said.last().cloned().unwrap_or_default();
    assert!(
        said.contains("edit 1") && said.contains(EDITED),
        "announced: {said}"
    );
}

#[test]
fn demo_refuses_to_listen_beyond_loopback() {
    let out = run(&["demo", "--bind", "0.0.0.0:0"], STARTUP);
    assert_eq!(out.status.code(), Some(1), "refused: {out:?}");
    assert!(out.stderr.contains("loopback"), "says why: {}", out.stderr);
    assert!(
        !out.stdout.contains("palimpsest crawl"),
        "serves nothing: {}",
        out.stdout
    );
}

#[test]
fn demo_listens_on_loopback_by_default() {
    // The default port may be taken (say, by a demo someone is following
    // the tour with): then the refusal names the address it tried.
    let taken = listener_on_default_port();
    let mut child = spawn(&["demo".to_string()]);
    let deadline = Instant::now() + STARTUP;
    let listening = loop {
        if let Some(on) = listener_on_default_port().filter(|_| taken.is_none()) {
            break Some(on);
        }
        if child.exited() || Instant::now() > deadline {
            break None;
        }
        thread::sleep(Duration::from_millis(50));
    };
    let out = child.kill();
    match listening {
        Some(addr) => assert_eq!(addr, "127.0.0.1", "the default bind: {out:?}"),
        None => assert!(
            out.stderr.contains(&format!("127.0.0.1:{README_PORT}")),
            "neither listening nor saying where it tried: {out:?}"
        ),
    }
}

/// The local address of a socket listening on README's port, if any, read
/// from the kernel's table (a connection would not tell 127.0.0.1 from
/// 0.0.0.0).
fn listener_on_default_port() -> Option<String> {
    let port: u16 = README_PORT.parse().ok()?;
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let mut fields = line.split_whitespace();
        let local = fields.nth(1)?;
        let state = fields.nth(1)?;
        let (ip, p) = local.split_once(':')?;
        let listening = state == "0A" && u16::from_str_radix(p, 16).ok()? == port;
        let ip = u32::from_str_radix(ip, 16).ok()?;
        listening.then(|| std::net::Ipv4Addr::from(ip.swap_bytes()).to_string())
    })
}
