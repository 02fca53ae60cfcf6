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
