//! Change alerts: `watch --notify URL` POSTs one JSON document per change
//! of a page (a version after the first) to a webhook receiver on
//! loopback, with what changed; retries a receiver that fails; delivers
//! each alert once across a `kill -9` and a restart (the one in flight at
//! the kill at most twice, with the same idempotency key); leaves out the
//! changes its filters exclude; and `--notify-cmd` gives a command the same
//! document on standard input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

use super::news::*;
use crate::support::*;

const HOST: &str = "alerts.test";

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
        ],
    )
}

/// The story as first published, then each edit in turn.
fn editions() -> Vec<String> {
    vec![
        story().html(),
        story()
            .headline("Rescue teams reach the valley as supplies run out")
            .with_paragraph(
                1,
                "Residents said food and fuel had run out and that a helicopter \
                 had flown three elderly people to hospital.",
            )
            .html(),
        story()
            .with_paragraph(
                2,
                "Engineers arrived on Sunday and said the road would stay closed \
                 until the spring, when a new bridge is to be built.",
            )
            .html(),
        story()
            .with_paragraph(
                0,
                "Rescue teams reached the cut-off valley late on Friday night \
                 after a second landslide had blocked the road below the pass.",
            )
            .html(),
    ]
}

/// A front page (the seed) linking the story, which serves `editions` by `edition`.
fn site(edition: &Edition, editions: Vec<String>) -> Server {
    changing(
        Site::new().page(
            HOST,
            "/",
            front_page("12:00:00", &[("/story", "Rescue teams reach the valley")]),
        ),
        HOST,
        "/story",
        edition,
        editions,
        Validators::None,
    )
    .serve()
}

/// Seeds: the front page every second, the story every second.
fn seed_file(dir: &TempDir, server: &Server) -> PathBuf {
    let path = dir.path().join("alerts.toml");
    let toml = format!(
        "[crawl]\nrate = \"20/s\"\nrevisit = [\"1h=1s\"]\n\n\
         [[seed]]\nurl = \"{}\"\nevery = \"1s\"\n",
        server.url(HOST, "/")
    );
    std::fs::write(&path, toml).unwrap();
    path
}

/// The site serving its editions, its seed file, and an archive of it.
struct Watched {
    edition: Edition,
    server: Server,
    seeds: PathBuf,
    archive: Archive,
    story_url: String,
    dir: TempDir,
}

impl Watched {
    fn new(editions: Vec<String>) -> Self {
        Self::into(Archive::new(), editions)
    }

    fn into(archive: Archive, editions: Vec<String>) -> Self {
        let edition = Edition::new();
        let server = site(&edition, editions);
        let dir = tempfile::tempdir().unwrap();
        Watched {
            seeds: seed_file(&dir, &server),
            story_url: server.url(HOST, "/story"),
            archive,
            edition,
            server,
            dir,
        }
    }

    /// `watch` of the site with `extra` arguments.
    fn watch(&self, extra: &[String]) -> Guard {
        Guard(Some(watch(&self.archive, &self.server, &self.seeds, extra)))
    }
}

/// `watch` of the site with `extra` arguments.
fn watch(archive: &Archive, server: &Server, seeds: &Path, extra: &[String]) -> Running {
    let mut args = watch_command(archive, server, HOST, seeds);
    args.extend(extra.iter().cloned());
    spawn(&args)
}

/// A webhook receiver on loopback answering each POST with `answer(n)`
/// (n counting from 0).
fn receiver(answer: impl Fn(usize) -> axum::response::Response + Send + Sync + 'static) -> Server {
    let posts = Arc::new(AtomicUsize::new(0));
    Server::start(move |_| answer(posts.fetch_add(1, Ordering::SeqCst)))
}

fn hook(receiver: &Server) -> String {
    format!("http://127.0.0.1:{}/hook", receiver.port)
}

/// The alerts a receiver got, in arrival order, with their requests.
fn alerts(receiver: &Server) -> Vec<(Req, Value)> {
    receiver
        .requests()
        .into_iter()
        .map(|r| {
            let alert = serde_json::from_slice(&r.body)
                .unwrap_or_else(|e| panic!("an alert is JSON ({e}): {:?}", r.body));
            (r, alert)
        })
        .collect()
}

/// Alerts by the version they announce.
fn by_version(receiver: &Server) -> BTreeMap<u64, Vec<Value>> {
    let mut versions: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    for (_, alert) in alerts(receiver) {
        let version = alert["version"]
            .as_u64()
            .expect("an alert names its version");
        versions.entry(version).or_default().push(alert);
    }
    versions
}

/// Waits until the story has been fetched `n` times in all.
fn story_fetched(server: &Server, n: usize) {
    wait_until(Duration::from_secs(30), "the story's revisits", || {
        server.count(HOST, "/story") >= n
    });
}

/// Waits until the receiver holds `n` alerts.
fn alerted(receiver: &Server, n: usize, what: &str) {
    wait_until(Duration::from_secs(40), what, || {
        receiver.requests().len() >= n
    });
}

/// SIGINT; watch must exit 0.
fn interrupt(watch: Running) -> Output {
    watch.signal("INT");
    let out = watch.wait(Duration::from_secs(20));
    out.assert_success("watch stops on SIGINT");
    out
}

#[test]
fn a_webhook_gets_one_alert_per_change_carrying_what_changed() {
    let w = Watched::new(editions());
    let (edition, server, archive, story_url) = (&w.edition, &w.server, &w.archive, &w.story_url);
    let hooks = receiver(|_| status(StatusCode::NO_CONTENT));
    let extra = [
        "--notify".to_string(),
        hook(&hooks),
        "--notify-links".into(),
        "http://archive.test:8080/".into(),
    ];
    let mut running = w.watch(&extra);

    // New pages and unchanged revisits are not changes.
    story_fetched(server, 3);
    assert_eq!(hooks.requests().len(), 0, "a new page is not a change");
    edition.advance();
    alerted(&hooks, 1, "the alert of the change");
    // Revisits of the changed story go on; none is alerted again.
    let seen = server.count(HOST, "/story");
    story_fetched(server, seen + 2);
    let out = interrupt(running.take());

    let got = alerts(&hooks);
    assert_eq!(
        got.len(),
        1,
        "one change, one alert: {got:#?}\n{}",
        out.stderr
    );
    let (request, alert) = &got[0];
    assert_eq!(request.path, "/hook");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(alert["event"], "changed");
    assert_eq!(alert["url"], story_url.as_str());
    assert_eq!(alert["host"], HOST);
    assert_eq!(
        (
            alert["previous_version"].as_u64(),
            alert["version"].as_u64()
        ),
        (Some(1), Some(2))
    );
    assert_eq!(alert["title_before"], "Rescue teams reach the valley");
    assert_eq!(
        alert["title"],
        "Rescue teams reach the valley as supplies run out"
    );
    let key = alert["idempotency_key"]
        .as_str()
        .expect("an idempotency key");
    assert_eq!(request.header("idempotency-key"), Some(key));
    assert!(alert["words_added"].as_u64() > Some(5), "{alert:#}");
    assert!(alert["words_removed"].as_u64() > Some(3), "{alert:#}");
    let paragraphs = alert["paragraphs"]
        .as_array()
        .expect("the changed paragraphs");
    assert_eq!(paragraphs.len(), 1, "only the edited paragraph: {alert:#}");
    assert_eq!(paragraphs[0]["change"], "changed");
    let before = paragraphs[0]["before"].as_str().unwrap();
    let after = paragraphs[0]["after"].as_str().unwrap();
    assert!(before.contains("were running low"), "{before}");
    assert!(after.contains("a helicopter had flown"), "{after}");
    assert_eq!(
        alert["diff"],
        format!(
            "http://archive.test:8080/diff?url={}&a=1&b=2",
            url::form_urlencoded::byte_serialize(story_url.as_bytes()).collect::<String>()
        )
    );
    assert!(
        alert["page"]
            .as_str()
            .unwrap()
            .starts_with("http://archive.test:8080/article?url=")
    );
    // The diff the alert summarizes is the one the archive shows.
    let diff = diff_json(archive, story_url, &[]);
    assert_eq!(diff["words_added"], alert["words_added"]);
}

#[test]
fn alerts_are_delivered_once_each_across_a_kill_and_a_restart() {
    let w = Watched::new(editions());
    let (edition, server, archive) = (&w.edition, &w.server, &w.archive);
    // A slow receiver: each alert is in flight for a while.
    let hooks = receiver(|_| delayed(status(StatusCode::OK), Duration::from_millis(1500)));
    let extra = ["--notify".to_string(), hook(&hooks)];
    let mut running = w.watch(&extra);

    story_fetched(server, 2);
    // Version 2 is alerted and taken (answered, and the answer recorded)…
    edition.advance();
    alerted(&hooks, 1, "the alert of version 2");
    std::thread::sleep(Duration::from_millis(2500));
    // …version 3's alert is in flight when the watch is killed.
    edition.advance();
    alerted(&hooks, 2, "the alert of version 3");
    let killed = running.take().kill();
    assert!(!killed.status.success(), "killed");

    let mut running = w.watch(&extra);
    let restarted = Instant::now();
    wait_until(Duration::from_secs(40), "version 3 alerted again", || {
        by_version(&hooks).get(&3).is_some_and(|a| a.len() >= 2)
    });
    edition.advance();
    wait_until(Duration::from_secs(40), "the alert of version 4", || {
        by_version(&hooks).contains_key(&4)
    });
    // Time for a repeat, if one were coming.
    std::thread::sleep(Duration::from_secs(3));
    let out = interrupt(running.take());

    let versions = by_version(&hooks);
    let counts: Vec<(u64, usize)> = versions.iter().map(|(v, a)| (*v, a.len())).collect();
    assert_eq!(
        counts,
        [(2, 1), (3, 2), (4, 1)],
        "each version alerted once; the one in flight at the kill once more ({:?} after the restart)\n{}",
        restarted.elapsed(),
        out.stderr
    );
    let repeats = &versions[&3];
    assert_eq!(
        repeats[0], repeats[1],
        "a repeat is the same alert, key and all"
    );
    let keys: std::collections::HashSet<&str> = versions
        .values()
        .map(|a| a[0]["idempotency_key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 3, "each version its own key");
    archive.assert_verify_clean();
}

#[test]
fn a_receiver_that_fails_gets_the_alert_again_later() {
    let w = Watched::new(editions());
    let (edition, server) = (&w.edition, &w.server);
    let hooks = receiver(|n| match n {
        0 | 1 => status(StatusCode::INTERNAL_SERVER_ERROR),
        _ => status(StatusCode::OK),
    });
    let extra = ["--notify".to_string(), hook(&hooks)];
    let mut running = w.watch(&extra);

    story_fetched(server, 2);
    edition.advance();
    alerted(&hooks, 3, "the alert, taken on the third try");
    std::thread::sleep(Duration::from_secs(3));
    let out = interrupt(running.take());

    let got = alerts(&hooks);
    assert_eq!(
        got.len(),
        3,
        "taken on the third try, then not sent again\n{}",
        out.stderr
    );
    assert!(
        got.iter().all(|(_, a)| *a == got[0].1),
        "the same alert each time"
    );
    let gaps: Vec<Duration> = got.windows(2).map(|w| w[1].0.at - w[0].0.at).collect();
    assert!(
        gaps[0] >= Duration::from_millis(900) && gaps[1] > gaps[0],
        "retries back off: gaps {gaps:?}"
    );
    assert!(
        out.stderr.contains("500"),
        "the failure is logged:\n{}",
        out.stderr
    );
}

#[test]
fn changes_under_the_minimum_size_or_on_other_hosts_are_not_alerted() {
    let small_edit = story()
        .with_paragraph(
            0,
            "Rescue teams reached the cut-off valley on Saturday morning after \
             clearing the landslide that had blocked the only road for two days.",
        )
        .html();
    let large_edit = editions()[2].clone();
    let w = Watched::new(vec![story().html(), small_edit, large_edit]);
    let (edition, server, archive, story_url) = (&w.edition, &w.server, &w.archive, &w.story_url);
    let hooks = receiver(|_| status(StatusCode::OK));
    let elsewhere = receiver(|_| status(StatusCode::OK));
    let extra = [
        "--notify".to_string(),
        hook(&hooks),
        "--notify-min-words".into(),
        "5".into(),
    ];
    let mut running = w.watch(&extra);
    let other_host = [
        "--notify".to_string(),
        hook(&elsewhere),
        "--notify-host".into(),
        "example.test".into(),
    ];

    story_fetched(server, 2);
    edition.advance();
    wait_until(Duration::from_secs(30), "the small edit's version", || {
        history(archive, story_url).len() == 2
    });
    let seen = server.count(HOST, "/story");
    story_fetched(server, seen + 2);
    assert_eq!(
        hooks.requests().len(),
        0,
        "one word replaced is under 5 words"
    );
    edition.advance();
    alerted(&hooks, 1, "the alert of the large edit");
    let out = interrupt(running.take());
    let got = by_version(&hooks);
    assert_eq!(
        got.keys().copied().collect::<Vec<_>>(),
        [3],
        "{got:#?}\n{}",
        out.stderr
    );
    assert_eq!(got[&3][0]["previous_version"], 2);

    // Another watch alerting only example.test hears of nothing here.
    let mut running = w.watch(&other_host);
    edition.advance();
    let seen = server.count(HOST, "/story");
    story_fetched(server, seen + 3);
    interrupt(running.take());
    assert_eq!(
        elsewhere.requests().len(),
        0,
        "alerts.test is not example.test"
    );
}

#[test]
fn a_notify_command_gets_the_alert_on_standard_input() {
    let w = Watched::new(editions());
    let (edition, server) = (&w.edition, &w.server);
    let inbox = w.dir.path().join("inbox");
    let command = format!(
        "printf '%s ' \"$PALIMPSEST_IDEMPOTENCY_KEY\" >> '{0}' && cat >> '{0}'",
        inbox.display()
    );
    let extra = ["--notify-cmd".to_string(), command];
    let mut running = w.watch(&extra);

    story_fetched(server, 2);
    edition.advance();
    wait_until(Duration::from_secs(30), "the command's alert", || {
        std::fs::read_to_string(&inbox).is_ok_and(|s| s.ends_with('\n'))
    });
    interrupt(running.take());
    let text = std::fs::read_to_string(&inbox).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let (key, json) = lines[0].split_once(' ').unwrap();
    let alert: Value = serde_json::from_str(json).unwrap();
    assert_eq!(alert["version"], 2);
    assert_eq!(alert["idempotency_key"], key);
    assert!(
        alert["diff"].as_str().unwrap().starts_with("/diff?url="),
        "{alert:#}"
    );
}

#[test]
fn alert_options_are_checked_before_the_watch_starts() {
    let archive = Archive::new();
    let path = archive.path();
    let run_watch = |extra: &[&str]| {
        let mut args = vec!["watch", "http://alerts.test/", "--archive", &path];
        args.extend(extra);
        run(&args, Duration::from_secs(20))
    };
    let out = run_watch(&["--notify", "ftp://127.0.0.1/hook"]);
    assert_one_line_error(&out, "an ftp webhook", &["--notify", "http"]);
    let out = run_watch(&["--notify-min-words", "5"]);
    assert_one_line_error(
        &out,
        "a filter without a target",
        &["--notify-min-words", "--notify URL"],
    );
    assert_eq!(out.status.code(), Some(2), "a usage error");
}

#[test]
fn two_watches_sharing_a_postgres_archive_alert_each_change_once() {
    let Some(archive) = Archive::postgres("two watches, one alert a change") else {
        return;
    };
    let w = Watched::into(archive, editions());
    let hooks = receiver(|_| status(StatusCode::NO_CONTENT));
    let extra = ["--notify".to_string(), hook(&hooks)];
    let mut first = w.watch(&extra);
    let mut second = w.watch(&extra);

    story_fetched(&w.server, 3);
    w.edition.advance();
    alerted(&hooks, 1, "the alert of the first change");
    w.edition.advance();
    alerted(&hooks, 2, "the alert of the second change");
    // Revisits go on, by whichever holds the host: no alert comes twice.
    let seen = w.server.count(HOST, "/story");
    story_fetched(&w.server, seen + 3);
    let outputs = [interrupt(first.take()), interrupt(second.take())];

    let got = alerts(&hooks);
    let versions: Vec<_> = got.iter().map(|(_, a)| a["version"].as_u64()).collect();
    assert_eq!(
        versions,
        [Some(2), Some(3)],
        "each change alerted once by the two watches: {got:#?}\n{}\n{}",
        outputs[0].stderr,
        outputs[1].stderr
    );
}
