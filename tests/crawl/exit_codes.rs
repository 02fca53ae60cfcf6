//! Exit codes of a crawl, each from a real crawl of a loopback fixture
//! (0 all fine, 1 nothing fetched, 2 usage error, 3 some pages failed,
//! 130 interrupted), the summary that says why, and the flag and seed-file
//! values refused before anything is fetched.

use std::time::Duration;

use crate::support::*;

const HOST: &str = "codes.test";
const DEADLINE: Duration = Duration::from_secs(60);

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Fails unless clap refused the arguments: exit 2, nothing fetched, and
/// stderr (clap's own rendering) contains each of `mentions`.
fn assert_usage_error(out: &Output, what: &str, mentions: &[&str]) {
    assert_eq!(
        code(out),
        2,
        "{what}: expected the usage-error exit code 2\nstdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    for m in mentions {
        assert!(
            out.stderr.contains(m),
            "{what}: the usage error should say {m:?}:\n{}",
            out.stderr
        );
    }
}

#[test]
fn a_clean_pass_exits_0_and_counts_in_the_singular() {
    let server = Site::new().page(HOST, "/", page("Only page", &[])).serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[HOST])
        .args(["--rate", "50/s"])
        .arg(server.url(HOST, "/"))
        .run(DEADLINE);
    assert_eq!(code(&out), 0, "clean pass\nstderr:\n{}", out.stderr);
    for said in [
        "1 page fetched,",
        "1 capture,",
        "1 new version,",
        "0 errors,",
        "1 host",
    ] {
        assert!(
            out.stderr.contains(said),
            "the summary should say {said:?}:\n{}",
            out.stderr
        );
    }
}

#[test]
fn a_pass_where_every_request_is_refused_exits_1_and_says_to_allow_private() {
    let server = Site::new()
        .page(HOST, "/", page("Home", &["/a"]))
        .page(HOST, "/a", page("A", &[]))
        .serve();
    let archive = Archive::new();
    // No --allow-private: the guard refuses 127.0.0.1 itself.
    let crawl = archive
        .crawl_guarded(&server, &[HOST])
        .args(["--rate", "50/s"])
        .args([server.url(HOST, "/"), server.url(HOST, "/a")]);
    let out = crawl.run(DEADLINE);
    assert!(server.requests().is_empty(), "{}", server.dump());
    assert_eq!(code(&out), 1, "nothing fetched\nstderr:\n{}", out.stderr);
    assert!(
        out.stderr
            .contains("2 requests refused: loopback address; pass --allow-private"),
        "the summary should say why nothing was fetched:\n{}",
        out.stderr
    );

    let out = crawl.arg("--fresh").arg("--json").run(DEADLINE);
    assert_eq!(code(&out), 1, "nothing fetched (--json)");
    let summary = out.summary();
    let groups = summary["errors_by_cause"]
        .as_array()
        .expect("errors_by_cause");
    assert_eq!(groups.len(), 1, "{summary:#}");
    assert_eq!(groups[0]["cause"], "refused_loopback", "{summary:#}");
    assert_eq!(num(&groups[0], "count"), 2, "{summary:#}");
}

#[test]
fn a_pass_with_some_failed_pages_exits_3_and_groups_errors_by_cause() {
    let server = Site::new()
        .page(HOST, "/", page("Home", &["/story", "/gone-1", "/gone-2"]))
        .page(HOST, "/story", page("Story", &[]))
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[HOST])
        .args(["--rate", "50/s", "--json"])
        .arg(server.url(HOST, "/"))
        .run(DEADLINE);
    assert_eq!(code(&out), 3, "some errors\nstderr:\n{}", out.stderr);
    let summary = out.summary();
    assert_eq!(num(&summary, "pages_fetched"), 2, "{summary:#}");
    assert_eq!(num(&summary, "errors"), 2, "{summary:#}");
    let groups = summary["errors_by_cause"]
        .as_array()
        .expect("errors_by_cause");
    assert_eq!(groups.len(), 1, "{summary:#}");
    assert_eq!(groups[0]["cause"], "http_404", "{summary:#}");
    assert_eq!(
        groups[0]["text"], "2 pages answered HTTP 404 Not Found",
        "{summary:#}"
    );

    // The text summary says the same on its own line.
    let out = archive
        .crawl(&server, &[HOST])
        .args(["--rate", "50/s", "--fresh"])
        .arg(server.url(HOST, "/"))
        .run(DEADLINE);
    assert_eq!(code(&out), 3, "some errors\nstderr:\n{}", out.stderr);
    assert!(
        out.stderr
            .lines()
            .any(|l| l.trim() == "2 pages answered HTTP 404 Not Found"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_interrupted_pass_exits_130() {
    let links: Vec<String> = (0..40).map(|i| format!("/story-{i}")).collect();
    let hrefs: Vec<&str> = links.iter().map(String::as_str).collect();
    let mut site = Site::new().page(HOST, "/", page("Home", &hrefs));
    for path in &links {
        site = site.page(HOST, path, page(path, &[]));
    }
    let server = site.serve();
    let archive = Archive::new();
    let running = archive
        .crawl(&server, &[HOST])
        .args(["--rate", "4/s"])
        .arg(server.url(HOST, "/"))
        .spawn();
    wait_until(DEADLINE, "the crawl to fetch a story", || {
        server.page_requests().len() >= 3
    });
    running.signal("INT");
    let out = running.wait(DEADLINE);
    assert_eq!(code(&out), 130, "interrupted\nstderr:\n{}", out.stderr);
    assert!(
        out.stderr.contains("run the same command again"),
        "{}",
        out.stderr
    );
}

#[test]
fn usage_errors_keep_clap_rendering_and_exit_2() {
    let archive = Archive::new();
    let path = archive.path();
    let cases: [(&[&str], &[&str]); 4] = [
        (
            &["crawl", "--seed", "seeds.toml"],
            &["'--seed'", "a similar argument exists: '--seeds'"],
        ),
        (
            &["export", "--format", "xml"],
            &["'xml'", "[possible values: jsonl, csv, warc]"],
        ),
        (&["history"], &["required arguments", "<URL>"]),
        (
            &["diff", "http://codes.test/", "--format", "pdf"],
            &["text, json, html"],
        ),
    ];
    for (args, mentions) in cases {
        let mut all = args.to_vec();
        all.extend(["--archive", &path]);
        let out = run(&all, DEADLINE);
        assert_usage_error(&out, &args.join(" "), mentions);
    }
}

#[test]
fn zero_concurrency_or_timeout_is_a_usage_error_before_any_request() {
    let server = Site::new().page(HOST, "/", page("Home", &[])).serve();
    for (flag, value) in [("--concurrency", "0"), ("--timeout", "0")] {
        let archive = Archive::new();
        let out = archive
            .crawl(&server, &[HOST])
            .args([flag, value])
            .arg(server.url(HOST, "/"))
            .run(DEADLINE);
        assert_usage_error(&out, flag, &[flag, "must be at least 1"]);
    }
    assert!(server.requests().is_empty(), "{}", server.dump());
}

#[test]
fn bad_flag_values_seed_urls_and_no_seeds_exit_2_before_any_request() {
    let server = Site::new().page(HOST, "/", page("Home", &[])).serve();
    let home = server.url(HOST, "/");
    // (arguments, whether a good seed URL is added, what stderr says)
    let cases: [(&[&str], bool, &[&str]); 6] = [
        (&["--rate", "fast"], true, &["rate", "\"fast\""]),
        (&["--max-body", "lots"], true, &["\"lots\""]),
        (
            &["--resolve", "codes.test:80"],
            true,
            &["--resolve", "HOST:PORT:ADDR"],
        ),
        (
            &["--resolve", "codes.test:x:127.0.0.1"],
            true,
            &["--resolve"],
        ),
        (
            &["ftp://codes.test/file"],
            false,
            &["\"ftp\"", "only http and https"],
        ),
        (&["--rate", "5/s"], false, &["nothing to crawl", "--seeds"]),
    ];
    for (args, with_seed, mentions) in cases {
        let archive = Archive::new();
        let mut crawl = archive.crawl(&server, &[HOST]).args(args.iter().copied());
        if with_seed {
            crawl = crawl.arg(home.clone());
        }
        let out = crawl.run(DEADLINE);
        assert_usage_error(&out, &args.join(" "), mentions);
        assert_eq!(
            out.stderr.lines().filter(|l| !l.trim().is_empty()).count(),
            1,
            "{}: one line:\n{}",
            args.join(" "),
            out.stderr
        );
    }
    assert!(server.requests().is_empty(), "{}", server.dump());
    // A seed file that cannot be read is not a usage error: the command
    // line was right, the file system said no.
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[HOST])
        .args(["--seeds", "/nonexistent/seeds.toml"])
        .run(DEADLINE);
    assert_eq!(code(&out), 1, "unreadable seed file\n{}", out.stderr);
    assert!(
        out.stderr.contains("cannot read seed file"),
        "{}",
        out.stderr
    );
}

/// Runs a crawl of `seeds` (a seed file's text) and returns its one-line error.
fn seed_file_error(name: &str, seeds: &str) -> String {
    let server = Site::new().page(HOST, "/", page("Home", &[])).serve();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, seeds.replace("PORT", &server.port.to_string())).unwrap();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[HOST])
        .arg("--seeds")
        .arg(file.display().to_string())
        .run(DEADLINE);
    assert_eq!(code(&out), 1, "{name}: expected a failure\n{}", out.stderr);
    assert!(server.requests().is_empty(), "{}", server.dump());
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "{name}: one-line error:\n{}", out.stderr);
    lines[0].to_string()
}

#[test]
fn seed_file_errors_name_the_line_the_value_is_on() {
    // Each value also appears, as text, on an earlier line.
    let cases = [
        (
            "empty-every.toml",
            "# every = \"\" is refused\n[[seed]]\nurl = \"http://codes.test:PORT/\"\nevery = \"\"\n",
            ":4:",
        ),
        (
            "zero-every.toml",
            "[[seed]]\nurl = \"http://codes.test:PORT/\"\n# was: 0s\n\nevery = \"0s\"\n",
            ":5:",
        ),
        (
            "zero-concurrency.toml",
            "[crawl]\n# concurrency = 0 means none\n\nconcurrency = 0\n\n[[seed]]\nurl = \"http://codes.test:PORT/\"\n",
            ":4:",
        ),
        (
            "revisit.toml",
            "[[seed]]\nurl = \"http://codes.test:PORT/\"\nrevisit = [\n  \"3h=15m\",\n  \"1h=5m\",\n]\n",
            ":5:",
        ),
    ];
    for (name, text, line) in cases {
        let error = seed_file_error(name, text);
        assert!(
            error.contains(&format!("{name}{line}")),
            "{name}: the error should point at {line}: {error}"
        );
    }
    let error = seed_file_error(
        "zero-every.toml",
        "[[seed]]\nurl = \"http://codes.test:PORT/\"\nevery = \"0s\"\n",
    );
    assert!(error.contains("longer than zero"), "{error}");
}

#[test]
fn a_bad_pattern_shows_the_regex_message_readably_on_one_line() {
    let error = seed_file_error(
        "pattern.toml",
        "[[seed]]\nurl = \"http://codes.test:PORT/\"\ninclude = [\"^/world/(\"]\n",
    );
    assert!(error.contains("pattern.toml:3:"), "{error}");
    assert!(
        error.contains("\"^/world/(\": unclosed group (at character 9)"),
        "the regex crate's message, with where: {error}"
    );
    assert!(
        !error.contains("regex parse error") && !error.contains(" ^ "),
        "no multi-line rendering squashed onto one line: {error}"
    );
}

#[test]
fn serve_takes_localhost_and_explains_other_names() {
    let server = Site::new().page(HOST, "/", page("Home", &[])).serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[HOST])
        .args(["--serve", "localhost:0", "--rate", "50/s"])
        .arg(server.url(HOST, "/"))
        .run(DEADLINE);
    assert_eq!(
        code(&out),
        0,
        "--serve localhost:0\nstderr:\n{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("serving the archive at http://127.0.0.1:"),
        "{}",
        out.stderr
    );

    // Other names are not looked up: a clear usage error instead.
    let path = archive.path();
    let out = run(
        &["serve", "--archive", &path, "--bind", "news.test:8080"],
        DEADLINE,
    );
    assert_usage_error(
        &out,
        "serve --bind news.test:8080",
        &["'news.test:8080'", "localhost"],
    );
}

#[test]
fn a_host_whose_robots_txt_cannot_be_read_is_an_error_that_says_so_not_a_disallow() {
    // The cited host is pinned to a port where nothing listens, as a host
    // without its own --resolve would be unreachable.
    let cited = "unreachable.test";
    let dead = dead_port();
    let server = Site::new()
        .page(
            HOST,
            "/",
            page_with_head("Story", "", &[]).replace(
                "</article>",
                &format!("<p>Source: <a href=\"http://{cited}:{}/original\">the original</a></p></article>", dead),
            ),
        )
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[HOST])
        .args(["--rate", "50/s", "--json"])
        .args(["--resolve", &format!("{cited}:{dead}:127.0.0.1")])
        .arg(server.url(HOST, "/"))
        .run(DEADLINE);
    let summary = out.summary();
    assert_eq!(code(&out), 3, "{}", out.stderr);
    assert_eq!(num(&summary, "disallowed"), 0, "{summary:#}");
    assert_eq!(num(&summary, "errors"), 1, "{summary:#}");
    let causes = summary["errors_by_cause"].to_string();
    assert!(
        causes.contains("robots_unreadable") && causes.contains("--resolve"),
        "{summary:#}"
    );
}

#[test]
fn a_bad_test_clock_is_a_usage_error_before_anything_is_fetched() {
    let server = Site::new().page(HOST, "/", page("Only page", &[])).serve();
    let archive = Archive::new();
    for (spec, says) in [
        ("scale=0", "scale"),
        ("scale=fast", "scale"),
        ("offset=+soon", "offset"),
        ("speed=2", "unknown key"),
    ] {
        let out = archive
            .crawl(&server, &[HOST])
            .clock(spec)
            .arg(server.url(HOST, "/"))
            .run(DEADLINE);
        let what = format!("{CLOCK_VAR}={spec}");
        assert_usage_error(&out, &what, &[CLOCK_VAR, says]);
        assert!(server.requests().is_empty(), "{what}:\n{}", server.dump());
    }
}
