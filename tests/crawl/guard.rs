//! The address guard: without `--allow-private`, no connection is made to
//! loopback (checked on the resolved IP), and the refusal is reported.

use std::time::Duration;

use crate::support::*;

/// The refusal shows either as a failing exit with a message, or as the
/// seed recorded with an error.
fn assert_refusal_reported(archive: &Archive, out: &Output, url: &str) {
    if out.success() {
        let entry = archive.entry(url);
        assert!(
            entry["error"].is_string(),
            "the crawl succeeded without saying {url} was refused: {entry:#}\nstderr:\n{}",
            out.stderr
        );
        assert_ne!(entry["state"], "fetched", "{entry:#}");
    } else {
        assert!(
            !out.stderr.trim().is_empty(),
            "refused crawl exited {:?} without a message",
            out.status
        );
    }
}

#[test]
fn without_allow_private_no_request_reaches_a_host_resolved_to_loopback() {
    let host = "private.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/a"]))
        .page(host, "/a", page("A", &[]))
        .serve();
    let archive = Archive::new();
    let url = server.url(host, "/");
    let out = archive
        .crawl_guarded(&server, &[host])
        .args(["--rate", "50/s", "--timeout", "5"])
        .arg(&url)
        .run(Duration::from_secs(60));

    assert!(
        server.requests().is_empty(),
        "a request reached the loopback server without --allow-private:\n{}",
        server.dump()
    );
    assert_refusal_reported(&archive, &out, &url);
}

#[test]
fn without_allow_private_loopback_literals_are_refused() {
    let server = Site::new()
        .page("127.0.0.1", "/", page("Home", &[]))
        .page("localhost", "/", page("Home", &[]))
        .serve();
    for url in [
        format!("http://127.0.0.1:{}/", server.port),
        format!("http://localhost:{}/", server.port),
        format!("http://[::ffff:127.0.0.1]:{}/", server.port),
    ] {
        let archive = Archive::new();
        let out = run(
            &[
                "crawl",
                "--archive",
                &archive.path(),
                "--no-progress",
                "--rate",
                "50/s",
                "--timeout",
                "5",
                &url,
            ],
            Duration::from_secs(60),
        );
        assert!(
            server.requests().is_empty(),
            "crawling {url} without --allow-private reached the server:\n{}",
            server.dump()
        );
        let canonical = url.replace("[::ffff:127.0.0.1]", "[::ffff:7f00:1]");
        assert_refusal_reported(&archive, &out, &canonical);
    }
}

#[test]
fn without_allow_private_unspecified_and_encoded_loopback_are_refused() {
    // Classic address-guard bypasses: 0.0.0.0 reaches local listeners on
    // Linux; hex and decimal IPv4 spellings are 127.0.0.1.
    let server = Site::new()
        .page("zero.test", "/", page("Home", &[]))
        .serve();
    let port = server.port;
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["--resolve".into(), format!("zero.test:{port}:0.0.0.0")],
            format!("http://zero.test:{port}/"),
        ),
        (vec![], format!("http://0.0.0.0:{port}/")),
        (vec![], format!("http://0x7f000001:{port}/")),
        (vec![], format!("http://2130706433:{port}/")),
        (vec![], format!("http://127.1:{port}/")),
    ];
    for (extra, url) in cases {
        let archive = Archive::new();
        let mut args = vec![
            "crawl".to_string(),
            "--archive".into(),
            archive.path(),
            "--no-progress".into(),
            "--rate".into(),
            "50/s".into(),
            "--timeout".into(),
            "5".into(),
        ];
        args.extend(extra);
        args.push(url.clone());
        let out = run(&args, Duration::from_secs(60));
        assert!(
            server.requests().is_empty(),
            "crawling {url} without --allow-private reached the server:\n{}",
            server.dump()
        );
        if !out.success() {
            assert!(!out.stderr.trim().is_empty(), "{url}: failed silently");
        } else {
            let pages = archive.list();
            assert!(
                pages.iter().all(|p| p["state"] != "fetched"),
                "{url}: {pages:#?}"
            );
            assert!(
                pages.iter().any(|p| p["error"].is_string()),
                "{url}: the refusal should be recorded: {pages:#?}"
            );
        }
    }
}

#[test]
fn a_test_host_without_its_own_resolve_is_not_looked_up_and_the_summary_names_it() {
    let (pinned, unpinned) = ("herald.test", "wire.test");
    let server = Site::new()
        .page(pinned, "/", page("Story", &[]))
        .page(unpinned, "/original", page("The wire", &[]))
        .serve();
    let cited = format!("http://{unpinned}:{}/original", server.port);
    let html = server.url(pinned, "/");
    let archive = Archive::new();
    // Only the seed's host is pinned: the cited host has no --resolve.
    let out = archive
        .crawl(&server, &[pinned])
        .args(["--rate", "50/s", "--json"])
        .arg(html)
        .arg(cited.clone())
        .run(Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(3), "{}", out.stderr);
    assert!(
        server.requests_for(unpinned).is_empty(),
        "{}",
        server.dump()
    );
    let summary = out.summary();
    let group = summary["errors_by_cause"]
        .as_array()
        .and_then(|groups| groups.iter().find(|g| g["cause"] == "no_resolve"))
        .unwrap_or_else(|| panic!("no no_resolve cause: {summary:#}"));
    let text = group["text"].as_str().unwrap_or_default();
    for said in [
        "wire.test has no --resolve",
        "never looked up",
        "--resolve wire.test:PORT:ADDR",
    ] {
        assert!(
            text.contains(said),
            "the summary should say {said:?}: {text}"
        );
    }
    // Said the same way to a person, under the summary line.
    let again = Archive::new()
        .crawl(&server, &[pinned])
        .args(["--rate", "50/s"])
        .arg(cited.clone())
        .run(Duration::from_secs(60));
    assert_eq!(again.status.code(), Some(1), "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("1 page not fetched: wire.test has no --resolve"),
        "{}",
        again.stderr
    );
    // The page itself keeps the reason.
    let entry = archive.entry(&cited);
    let error = entry["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("wire.test") && error.contains("--resolve"),
        "{entry:#}"
    );
}
