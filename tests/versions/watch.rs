//! `watch`: seeds revisited on their `every`, articles revisited less and
//! less often as they age without changing, a clean exit on SIGINT, and a
//! schedule kept in the archive so that a restarted `watch` picks up where
//! the last one stopped instead of refetching everything at once.
//!
//! The schedules run on a clock three times faster than real time
//! ([`FastClock`]), so a watch of twenty seconds passes in seven; what the
//! server saw is read on that clock, and the assertions are in its time.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use tempfile::TempDir;

use super::news::*;
use crate::support::*;

const HOST: &str = "live.test";

/// How much faster than real time the watches' clock runs. Real latencies
/// (a fetch, a commit) count this many times over on it, so it is kept low
/// enough for the gaps' margins to hold on a loaded machine.
const SCALE: f64 = 3.0;

/// Starts `palimpsest ARGS` on `clock`.
fn spawn_on(clock: &FastClock, args: &[String]) -> Running {
    let (name, value) = clock.env();
    spawn_with_env(args, &[(name.as_str(), value.as_str())])
}

/// Seeds: the front page every second; articles every 1 s while younger
/// than 4 s, every 3 s under 10 s, every 5 s under an hour.
fn seed_file(dir: &TempDir, server: &Server) -> PathBuf {
    let path = dir.path().join("live.toml");
    let toml = format!(
        "# Watch the live page of live.test.\n\
         [crawl]\n\
         rate = \"20/s\"\n\
         revisit = [\"4s=1s\", \"10s=3s\", \"1h=5s\"]\n\n\
         [[seed]]\n\
         url = \"{}\"\n\
         every = \"1s\"\n",
        server.url(HOST, "/")
    );
    std::fs::write(&path, toml).unwrap();
    path
}

fn watch_args(archive: &Archive, server: &Server, seeds: &Path) -> Vec<String> {
    watch_command(archive, server, HOST, seeds)
}

fn times(server: &Server, path: &str) -> Vec<Instant> {
    server
        .requests_to(HOST, path)
        .into_iter()
        .map(|r| r.at)
        .collect()
}

fn fmt_gaps(g: &[f64]) -> String {
    g.iter()
        .map(|s| format!("{s:.2}s"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// SIGINT, then the exit: 0, within `within`.
fn interrupt(proc: Running, within: Duration, what: &str) -> Output {
    stop(proc, "INT", within, what)
}

/// Sends `signal`; the process must exit 0 within `within` (it is killed,
/// and the test fails, otherwise).
fn stop(mut proc: Running, signal: &str, within: Duration, what: &str) -> Output {
    let sent = Instant::now();
    proc.signal(signal);
    while !proc.exited() && sent.elapsed() < within {
        std::thread::sleep(Duration::from_millis(20));
    }
    if !proc.exited() {
        let out = proc.kill();
        panic!(
            "{what}: watch still running {within:?} after SIG{signal}; killed.\nstderr:\n{}",
            out.stderr
        );
    }
    // Already exited: this only collects the output (and checks for panics).
    let out = proc.wait(Duration::from_secs(600));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: watch should exit 0 on SIG{signal}\nstdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    out
}

fn due(row: &Value) -> DateTime<Utc> {
    let s = str_field(row, "due").unwrap_or_else(|| panic!("schedule row without due: {row:#}"));
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("due {s:?} is not RFC 3339 ({e})"))
        .to_utc()
}

fn story() -> Story {
    Story::new(
        "Rescue teams reach the valley",
        &[
            "Rescue teams reached the cut-off valley on Friday morning after \
             clearing the landslide that had blocked the only road for two days.",
            "Residents said food and fuel were running low and that several \
             elderly people needed medical attention.",
            "The regional government said it would send engineers next week to \
             decide whether the road could be reopened before the winter.",
            "Villagers had been cut off twice in the past decade, and many said \
             they wanted a second road built along the other side of the valley.",
        ],
    )
}

/// A front page (the seed) linking one story, which changes when `edition`
/// advances.
fn site_with(edition: &Edition) -> Server {
    let updated = story().with_paragraph(
        1,
        "Residents said food and fuel had run out and that a helicopter had \
         flown three elderly people to hospital.",
    );
    changing(
        Site::new().page(
            HOST,
            "/",
            front_page("12:00:00", &[("/story", "Rescue teams reach the valley")]),
        ),
        HOST,
        "/story",
        edition,
        vec![story().html(), updated.html()],
        Validators::None,
    )
    .serve()
}

fn site() -> Server {
    site_with(&Edition::new())
}

#[test]
fn watch_revisits_seeds_often_and_articles_less_as_they_age() {
    let server = site();
    let dir = tempfile::tempdir().unwrap();
    let seeds = seed_file(&dir, &server);
    let archive = Archive::new();
    let clock = FastClock::new(SCALE);
    let mut watch = Guard(Some(spawn_on(
        &clock,
        &watch_args(&archive, &server, &seeds),
    )));

    // Run until the article has gone 4 s without a visit (the 5 s step of
    // the schedule): visits at about 0, 1, 2, 3, 4, 7, 10, 15 s.
    wait_until(
        Duration::from_secs(45),
        "the article's 5 s revisit step",
        || {
            clock
                .gaps(&times(&server, "/story"))
                .last()
                .is_some_and(|g| *g >= 4.0)
        },
    );
    let out = interrupt(watch.take(), Duration::from_secs(10), "first watch");

    let seed = times(&server, "/");
    let first = seed[0];
    let early = seed
        .iter()
        .filter(|t| t.duration_since(first) <= clock.real(Duration::from_secs(6)))
        .count();
    assert!(
        early >= 4,
        "with every = \"1s\" the seed should be fetched about 6 times in its first 6 s, \
         got {early}:\n{}",
        server.dump()
    );
    let seed_gaps = clock.gaps(&seed);
    assert!(
        seed_gaps.iter().all(|g| *g < 2.5),
        "the seed is revisited every second, however old: gaps {}\n{}",
        fmt_gaps(&seed_gaps),
        out.stderr
    );

    let story_gaps = clock.gaps(&times(&server, "/story"));
    let shown = fmt_gaps(&story_gaps);
    assert!(
        story_gaps.len() >= 6,
        "the article should be revisited several times: gaps {shown}"
    );
    assert!(
        story_gaps[..3].iter().all(|g| *g < 2.0),
        "under 4 s old, the article is revisited every second: gaps {shown}"
    );
    assert!(
        story_gaps[4..].iter().any(|g| (2.0..4.0).contains(g)),
        "between 4 s and 10 s old, every 3 s: gaps {shown}"
    );
    assert!(
        story_gaps.last().is_some_and(|g| *g >= 4.0),
        "past 10 s, every 5 s: gaps {shown}"
    );
    for w in story_gaps.windows(2) {
        assert!(
            w[1] > w[0] - 0.75,
            "revisit gaps should not shrink while the article is unchanged: {shown}"
        );
    }
    // Every revisit of an unchanged page is a capture, never a version.
    let entry = archive.entry(&server.url(HOST, "/story"));
    assert_eq!(num(&entry, "versions"), 1, "{entry:#}");
    assert!(num(&entry, "captures") >= 7, "{entry:#}");
    archive.assert_verify_clean();
}

#[test]
fn restarted_watch_keeps_the_schedule() {
    let server = site();
    let dir = tempfile::tempdir().unwrap();
    let seeds = seed_file(&dir, &server);
    let archive = Archive::new();
    let story_url = server.url(HOST, "/story");
    let front_url = server.url(HOST, "/");

    let clock = FastClock::new(SCALE);
    let mut watch = Guard(Some(spawn_on(
        &clock,
        &watch_args(&archive, &server, &seeds),
    )));
    // Stop right after a revisit in the 5 s step, so the article's next
    // visit is some seconds away.
    let mut story_seen = clock.now();
    wait_until(
        Duration::from_secs(45),
        "the article's 5 s revisit step",
        || {
            story_seen = clock.now();
            clock
                .gaps(&times(&server, "/story"))
                .last()
                .is_some_and(|g| *g >= 4.0)
        },
    );
    interrupt(watch.take(), Duration::from_secs(10), "first watch");
    let stopped = clock.now();

    let rows = schedule(&archive);
    let row = |url: &str| {
        rows.iter()
            .find(|r| str_field(r, "url") == Some(url))
            .cloned()
            .unwrap_or_else(|| panic!("{url} should stay scheduled: {rows:#?}"))
    };
    let story = row(&story_url);
    let front = row(&front_url);
    assert_eq!(story["reason"], "revisit", "{story:#}");
    assert_eq!(front["reason"], "seed", "{front:#}");
    let story_due = due(&story);
    assert!(
        story_due >= story_seen + TimeDelta::milliseconds(3500),
        "the article was just revisited ({story_seen}) and is due again in about 5 s: {story:#}"
    );
    assert!(
        story_due <= story_seen + TimeDelta::seconds(8),
        "the article is due again in about 5 s after {story_seen}: {story:#}"
    );
    assert!(
        due(&front) <= stopped + TimeDelta::seconds(2),
        "the seed is due within a second of its last visit: {front:#}"
    );
    assert!(
        story_due > clock.now() + TimeDelta::milliseconds(1500),
        "test precondition: the article's next visit ({story_due}) should still be \
         ahead after stopping (stopping took too long?)"
    );

    // Restart: the seed comes back at once (it is due), the article only
    // when its time comes.
    server.clear_log();
    let restart = Instant::now();
    let mut watch = Guard(Some(spawn_on(
        &clock,
        &watch_args(&archive, &server, &seeds),
    )));
    wait_until(
        Duration::from_secs(20),
        "the article's scheduled revisit after the restart",
        || !times(&server, "/story").is_empty(),
    );
    let seed = times(&server, "/");
    // (Start-up takes real time, whatever the clock: this bound is real.)
    assert!(
        !seed.is_empty() && seed[0] - restart < Duration::from_secs(3),
        "the seed is due and should be fetched soon after the restart:\n{}",
        server.dump()
    );
    let story_again = clock.at(times(&server, "/story")[0]);
    assert!(
        story_again >= story_due - TimeDelta::milliseconds(500),
        "the restarted watch fetched the article at {story_again}, before its \
         scheduled revisit at {story_due}: the schedule was not kept\n{}",
        server.dump()
    );
    assert!(
        story_again <= story_due + TimeDelta::seconds(5),
        "the article should be revisited when due ({story_due}), not at {story_again}"
    );
    // SIGTERM stops it as cleanly as SIGINT.
    stop(
        watch.take(),
        "TERM",
        Duration::from_secs(10),
        "restarted watch",
    );
    let entry = archive.entry(&story_url);
    assert_eq!(num(&entry, "versions"), 1, "{entry:#}");
}

#[test]
fn watch_revisits_a_changed_article_often_again() {
    let edition = Edition::new();
    let server = site_with(&edition);
    let dir = tempfile::tempdir().unwrap();
    let seeds = seed_file(&dir, &server);
    let archive = Archive::new();
    let story_url = server.url(HOST, "/story");
    let clock = FastClock::new(SCALE);
    let mut watch = Guard(Some(spawn_on(
        &clock,
        &watch_args(&archive, &server, &seeds),
    )));

    // Once the article has slowed to the 3 s step, it changes.
    wait_until(
        Duration::from_secs(30),
        "the article's 3 s revisit step",
        || {
            clock
                .gaps(&times(&server, "/story"))
                .last()
                .is_some_and(|g| *g >= 2.0)
        },
    );
    edition.advance();
    let before = times(&server, "/story").len();
    // The next visit sees the change; the ones after it come every second
    // again, the article being young again.
    wait_until(
        Duration::from_secs(30),
        "three revisits after the change",
        || times(&server, "/story").len() >= before + 4,
    );
    let out = interrupt(watch.take(), Duration::from_secs(10), "watch");

    let story_gaps = clock.gaps(&times(&server, "/story"));
    let shown = fmt_gaps(&story_gaps);
    let after_change = &story_gaps[before..];
    assert!(
        after_change.len() >= 3 && after_change.iter().all(|g| *g < 2.0),
        "after the article changed, it should be revisited every second again: \
         gaps {shown} (change seen by visit {}); stderr:\n{}",
        before + 1,
        out.stderr
    );
    let h = history(&archive, &story_url);
    assert_eq!(h.len(), 2, "the change is a version: {h:#?}");
    // (--all-pages: whether the story is classified an article is not
    // what this test is about.)
    let listed: Vec<Value> = changes(&archive, &["--all-pages"]);
    assert!(
        listed
            .iter()
            .any(|c| c["url"] == story_url.as_str() && c["version"] == 2),
        "`changes` lists what watch found: {listed:#?}"
    );
}

#[test]
fn schedule_lists_what_is_due_and_why() {
    const OUTAGE: &str = "outage.test";
    let story = story().html();
    let etag = etag_of(&story);
    let server = changing(
        Site::new()
            .page(
                HOST,
                "/",
                front_page("12:00:00", &[("/story", "Rescue teams reach the valley")]),
            )
            // Down for maintenance for the next two minutes.
            .raw(
                OUTAGE,
                "/",
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                vec![("retry-after", "120".to_string())],
                "down for maintenance",
            ),
        HOST,
        "/story",
        &Edition::new(),
        vec![story],
        Validators::ETag,
    )
    .serve();
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("two.toml");
    std::fs::write(
        &seeds,
        format!(
            "[crawl]\nrate = \"20/s\"\nrevisit = [\"4s=1s\", \"10s=3s\", \"1h=5s\"]\n\n\
             [[seed]]\nurl = \"{}\"\nevery = \"1s\"\n\n\
             [[seed]]\nurl = \"{}\"\nevery = \"1s\"\n",
            server.url(HOST, "/"),
            server.url(OUTAGE, "/"),
        ),
    )
    .unwrap();
    let archive = Archive::new();
    let mut args = watch_args(&archive, &server, &seeds);
    args.extend(server.resolve_args(&[OUTAGE]));
    let clock = FastClock::new(SCALE);
    let mut watch = Guard(Some(spawn_on(&clock, &args)));
    wait_until(Duration::from_secs(30), "three visits of the story", || {
        times(&server, "/story").len() >= 3
    });
    interrupt(watch.take(), Duration::from_secs(10), "watch");
    let stopped = clock.now();

    // Revisits of a page with an ETag are conditional, and answered 304.
    let story_reqs: Vec<Req> = server.requests_to(HOST, "/story");
    for r in &story_reqs[1..] {
        assert_eq!(
            r.header("if-none-match"),
            Some(etag.as_str()),
            "a revisit sends the ETag it was given: {:?}",
            r.headers
        );
    }
    let entry = archive.entry(&server.url(HOST, "/story"));
    assert_eq!(
        num(&entry, "captures"),
        story_reqs.len() as u64,
        "every 304 is a capture: {entry:#}"
    );
    assert_eq!(num(&entry, "versions"), 1, "{entry:#}");
    assert_eq!(
        server.count(OUTAGE, "/"),
        1,
        "Retry-After: 120 is honoured, not retried every second:\n{}",
        server.dump()
    );

    let rows = schedule(&archive);
    let dues: Vec<DateTime<Utc>> = rows.iter().map(due).collect();
    assert!(
        dues.windows(2).all(|w| w[0] <= w[1]),
        "schedule is soonest first: {rows:#?}"
    );
    let find = |url: &str| rows.iter().find(|r| str_field(r, "url") == Some(url));
    let outage = find(&server.url(OUTAGE, "/"))
        .unwrap_or_else(|| panic!("the failed seed stays scheduled: {rows:#?}"));
    assert_eq!(outage["reason"], "retry", "{outage:#}");
    assert!(
        due(outage) > stopped + TimeDelta::seconds(60),
        "retried after its Retry-After (120 s): {outage:#}"
    );
    let front = find(&server.url(HOST, "/")).expect("seed scheduled");
    assert_eq!(front["reason"], "seed", "{front:#}");
    let story = find(&server.url(HOST, "/story")).expect("story scheduled");
    assert_eq!(story["reason"], "revisit", "{story:#}");
    for r in &rows {
        assert!(
            ["new", "retry", "seed", "revisit"].contains(&r["reason"].as_str().unwrap_or("")),
            "{r:#}"
        );
    }

    let one = json_lines(
        &cli(&archive, &["schedule", "--json", "--limit", "1"]),
        "schedule --json --limit 1",
    );
    assert_eq!(one.len(), 1, "{one:#?}");
    assert_eq!(one[0], rows[0], "--limit 1 shows the soonest entry");
}

#[test]
fn sigint_does_not_wait_out_a_crawl_delay() {
    const SLOW: &str = "slow.test";
    let server = Site::new()
        .page(HOST, "/", front_page("12:00:00", &[("/story", "Story")]))
        .page(HOST, "/story", story().html())
        // One request a minute on this host.
        .robots(SLOW, "User-agent: *\nCrawl-delay: 60\n")
        .page(SLOW, "/", front_page("12:00:00", &[("/next", "Next")]))
        .page(SLOW, "/next", story().html())
        .serve();
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("two.toml");
    std::fs::write(
        &seeds,
        format!(
            "[crawl]\nrate = \"20/s\"\n\n\
             [[seed]]\nurl = \"{}\"\nevery = \"1s\"\n\n\
             [[seed]]\nurl = \"{}\"\nevery = \"1s\"\n",
            server.url(HOST, "/"),
            server.url(SLOW, "/"),
        ),
    )
    .unwrap();
    let archive = Archive::new();
    let mut args = watch_args(&archive, &server, &seeds);
    args.extend(server.resolve_args(&[SLOW]));
    let mut watch = Guard(Some(spawn(&args)));
    wait_until(
        Duration::from_secs(30),
        "the slow host's robots.txt",
        || server.count(SLOW, "/robots.txt") >= 1 && server.count(HOST, "/story") >= 1,
    );
    // A page of the slow host now waits up to a minute for its turn: it is
    // not in flight, and stopping must not wait for it.
    std::thread::sleep(Duration::from_millis(500));
    let waiting = if server.count(SLOW, "/") == 0 {
        "/"
    } else {
        "/next"
    };
    interrupt(
        watch.take(),
        Duration::from_secs(10),
        "watch with a page behind a one-minute Crawl-delay",
    );
    assert_eq!(server.count(SLOW, waiting), 0, "{}", server.dump());
    // It stays scheduled, never fetched.
    let url = server.url(SLOW, waiting);
    let rows = schedule(&archive);
    let row = rows
        .iter()
        .find(|r| str_field(r, "url") == Some(url.as_str()))
        .unwrap_or_else(|| panic!("{url} stays scheduled: {rows:#?}"));
    assert_eq!(row["reason"], "new", "{row:#}");
}

#[test]
fn watch_finds_a_new_article_on_the_seed_within_seconds() {
    let edition = Edition::new();
    let one = front_page("12:00:00", &[("/story", "Rescue teams reach the valley")]);
    let two = front_page(
        "12:00:05",
        &[
            ("/story", "Rescue teams reach the valley"),
            ("/second", "Road to the valley reopens"),
        ],
    );
    let server = changing(
        Site::new().page(HOST, "/story", story().html()).page(
            HOST,
            "/second",
            story().headline("Road to the valley reopens").html(),
        ),
        HOST,
        "/",
        &edition,
        vec![one, two],
        Validators::None,
    );
    let server = server.serve();
    let dir = tempfile::tempdir().unwrap();
    let seeds = seed_file(&dir, &server);
    let archive = Archive::new();
    let clock = FastClock::new(SCALE);
    let mut watch = Guard(Some(spawn_on(
        &clock,
        &watch_args(&archive, &server, &seeds),
    )));
    wait_until(Duration::from_secs(20), "the first story", || {
        server.count(HOST, "/story") >= 1
    });
    let published = Instant::now();
    edition.advance();
    wait_until(
        Duration::from_secs(20),
        "the new story linked from the seed",
        || server.count(HOST, "/second") >= 1,
    );
    let found = clock.span(times(&server, "/second")[0] - published);
    interrupt(watch.take(), Duration::from_secs(10), "watch");
    assert!(
        found < Duration::from_secs(6),
        "the seed is revisited every second, so a new link is fetched within \
         seconds, not after {found:?}:\n{}",
        server.dump()
    );
    assert_eq!(history(&archive, &server.url(HOST, "/second")).len(), 1);
}

#[test]
fn schedule_counts_waits_on_the_clock() {
    let server = Site::new()
        .page(HOST, "/", front_page("12:00:00", &[]))
        .serve();
    let dir = tempfile::tempdir().unwrap();
    let front = server.url(HOST, "/");
    let seeds = hourly_seed_file(dir.path(), &front);
    let archive = Archive::new();
    let mut watch = Guard(Some(spawn(&watch_args(&archive, &server, &seeds))));
    wait_until(Duration::from_secs(30), "the seed", || {
        server.count(HOST, "/") >= 1
    });
    interrupt(watch.take(), Duration::from_secs(10), "watch");
    // The IN column of the seed's row (`DUE  IN  REASON  URL`).
    let wait = |clock: &str| {
        let out = cli_on_clock(&archive, &["schedule"], clock);
        out.assert_success("schedule");
        let row = out
            .stdout
            .lines()
            .find(|l| l.ends_with(front.as_str()))
            .unwrap_or_else(|| panic!("{front} should be scheduled:\n{}", out.stdout))
            .to_string();
        row.split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    assert_ne!(wait(""), "now", "the seed is due in an hour");
    assert_eq!(
        wait(&hours_later(2)),
        "now",
        "two hours on, the seed's revisit is due"
    );
}

/// A seed file in `dir` that revisits `front` every hour, at 20 requests
/// a second.
fn hourly_seed_file(dir: &std::path::Path, front: &str) -> std::path::PathBuf {
    let seeds = dir.join("hourly.toml");
    std::fs::write(
        &seeds,
        format!("[crawl]\nrate = \"20/s\"\n\n[[seed]]\nurl = \"{front}\"\nevery = \"1h\"\n"),
    )
    .unwrap();
    seeds
}

/// The records of a gzipped WARC (each record its own member), as text.
fn warc_text(bytes: &[u8]) -> String {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(bytes), &mut text)
        .expect("the WARC is gzip members of UTF-8 text");
    text
}

#[test]
fn export_and_verify_run_while_watch_holds_the_archive() {
    let article = "/city/new-bridge";
    let server = Site::new()
        .page(
            HOST,
            "/",
            front_page("06:00:00", &[(article, "New bridge opens")]),
        )
        .page(HOST, article, story().html())
        .serve();
    let dir = tempfile::tempdir().unwrap();
    let front = server.url(HOST, "/");
    let seeds = hourly_seed_file(dir.path(), &front);
    let archive = Archive::new();
    // No --serve: watch answers the reading commands all the same.
    let mut watch = Guard(Some(spawn(&watch_args(&archive, &server, &seeds))));
    let article_url = server.url(HOST, article);
    let started = Instant::now();
    let forwarded = loop {
        let out = cli(&archive, &["export", "--format", "jsonl"]);
        if out.success() && out.stdout.contains(&article_url) {
            break out.stdout;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let watched = watch.take().kill();
            panic!(
                "no export through watch within 60 s\nexport: {}{}\nwatch: {}",
                out.stdout, out.stderr, watched.stderr
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(forwarded.lines().count(), 1, "{forwarded}");

    // WARC to a file: every page, written whole, through watch.
    let warc = dir.path().join("live.warc.gz");
    let out = cli(
        &archive,
        &["export", "--format", "warc", "-o", warc.to_str().unwrap()],
    );
    out.assert_success("export --format warc while watching");
    let records = warc_text(&std::fs::read(&warc).expect("the WARC was written"));
    for url in [&front, &article_url] {
        assert!(
            records.contains(&format!("WARC-Target-URI: {url}")),
            "{url} missing from the WARC"
        );
    }
    // CSV to standard output.
    let out = cli(&archive, &["export", "--format", "csv"]);
    out.assert_success("export --format csv while watching");
    assert!(out.stdout.starts_with("url,"), "{}", out.stdout);
    assert!(out.stdout.contains(&article_url), "{}", out.stdout);

    let out = cli(&archive, &["verify"]);
    out.assert_success("verify while watching");
    assert!(
        out.stdout.starts_with("archive OK: 2 pages"),
        "{}",
        out.stdout
    );
    let out = cli(&archive, &["verify", "--json"]);
    out.assert_success("verify --json while watching");
    let report: Value = serde_json::from_str(out.stdout.trim()).expect("verify --json is JSON");
    assert_eq!(report["pages"], 2, "{report:#}");

    // The same export, run on the archive once watch has let go of it.
    interrupt(watch.take(), Duration::from_secs(10), "watch");
    let out = cli(&archive, &["export", "--format", "jsonl"]);
    out.assert_success("export after watch");
    assert_eq!(out.stdout, forwarded, "forwarded and local exports agree");
}
