//! Retries: 5xx are retried with backoff; `429`/`503` with `Retry-After`
//! delay the next request to the host; persistent failures end recorded.
//!
//! Back-off and `Retry-After` waits are spans of the crawler's clock: the
//! tests that wait for them run it ten times faster than real time
//! ([`FastClock`]) and read the server's gaps on it. (Only lower bounds are
//! asserted on it, which real latency cannot break.) Left in real time: the
//! time-out (a real wait), an HTTP-date `Retry-After` (the server's real
//! date), and the rest of a host after a 429, whose allowance for requests
//! already on the wire is real latency.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::http::StatusCode;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(120);

/// How much faster than real time the crawler's clock runs.
const SCALE: f64 = 10.0;

/// Crawls `host` from its front page at 20/s on `clock`.
fn crawl_on(clock: &FastClock, archive: &Archive, server: &Server, host: &str) -> Output {
    archive
        .crawl(server, &[host])
        .args(["--rate", "20/s"])
        .arg(server.url(host, "/"))
        .clock(clock.spec())
        .run(DEADLINE)
}

/// `/flaky` answers `code` with `Retry-After: 2` the first time, then 200.
fn retry_after_is_honoured(code: StatusCode) {
    let host = "busy.test";
    let hits = counter();
    let hits_in = hits.clone();
    let server = Site::new()
        .page(host, "/", page("Home", &["/flaky"]))
        .route(host, "/flaky", move |_| {
            if hits_in.fetch_add(1, Ordering::SeqCst) == 0 {
                with_header(status(code), "retry-after", "2")
            } else {
                html(page("Flaky story", &[]))
            }
        })
        .serve();
    let archive = Archive::new();
    let clock = FastClock::new(SCALE);
    crawl_on(&clock, &archive, &server, host).assert_success("crawl");

    let flaky: Vec<Req> = server.requests_to(host, "/flaky");
    assert_eq!(
        flaky.len(),
        2,
        "one {code} then one successful retry expected:\n{}",
        server.dump()
    );
    let waited = clock.gaps(&[flaky[0].at, flaky[1].at])[0];
    assert!(
        waited >= 1.8,
        "Retry-After: 2 not honoured after {code}: retried {waited:.3}s later:\n{}",
        server.dump()
    );
    let entry = archive.entry(&server.url(host, "/flaky"));
    assert_eq!(entry["state"], "fetched", "{entry:#}");
    assert_eq!(entry["status"], 200, "{entry:#}");
    assert!(num(&entry, "captures") >= 1, "{entry:#}");
}

#[test]
fn retry_after_on_429_delays_the_retry() {
    retry_after_is_honoured(StatusCode::TOO_MANY_REQUESTS);
}

#[test]
fn retry_after_on_503_delays_the_retry() {
    retry_after_is_honoured(StatusCode::SERVICE_UNAVAILABLE);
}

#[test]
fn server_errors_are_retried_until_success() {
    let host = "flaky.test";
    let hits = counter();
    let hits_in = hits.clone();
    let server = Site::new()
        .page(host, "/", page("Home", &["/story"]))
        .route(host, "/story", move |_| {
            if hits_in.fetch_add(1, Ordering::SeqCst) < 2 {
                status(StatusCode::INTERNAL_SERVER_ERROR)
            } else {
                html(page("Story", &[]))
            }
        })
        .serve();
    let archive = Archive::new();
    let clock = FastClock::new(SCALE);
    crawl_on(&clock, &archive, &server, host).assert_success("crawl");

    let tries: Vec<Req> = server.requests_to(host, "/story");
    assert_eq!(
        tries.len(),
        3,
        "two 500s then a 200: three requests expected:\n{}",
        server.dump()
    );
    // Backoff, not hammering: each retry waits a noticeable time.
    for gap in clock.gaps(&tries.iter().map(|r| r.at).collect::<Vec<_>>()) {
        assert!(
            gap >= 0.3,
            "retry only {gap:.3}s after a 500 (expected backoff of about 1 s and more):\n{}",
            server.dump()
        );
    }
    let entry = archive.entry(&server.url(host, "/story"));
    assert_eq!(entry["state"], "fetched", "{entry:#}");
    assert_eq!(entry["status"], 200, "{entry:#}");
    assert!(entry["error"].is_null(), "{entry:#}");
    assert!(num(&entry, "captures") >= 1, "{entry:#}");
}

#[test]
fn persistent_server_errors_end_in_a_recorded_failure() {
    let host = "down.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/story", "/fine"]))
        .raw(
            host,
            "/story",
            StatusCode::INTERNAL_SERVER_ERROR,
            vec![],
            "down",
        )
        .page(host, "/fine", page("Fine", &[]))
        .serve();
    let archive = Archive::new();
    crawl_on(&FastClock::new(SCALE), &archive, &server, host)
        .assert_exit(3, "crawl with failing pages");

    let tries = server.count(host, "/story");
    assert!(
        (2..=10).contains(&tries),
        "a 500 should be retried a bounded number of times, got {tries} requests:\n{}",
        server.dump()
    );
    let entry = archive.entry(&server.url(host, "/story"));
    assert_eq!(entry["state"], "failed", "{entry:#}");
    assert!(entry["error"].is_string(), "{entry:#}");
    assert_eq!(server.count(host, "/fine"), 1, "{}", server.dump());
}

#[test]
fn retry_after_delays_every_request_to_the_host() {
    let host = "busy.test";
    let hits = counter();
    let hits_in = hits.clone();
    let links: Vec<String> = (1..=6).map(|i| format!("/p/{i}")).collect();
    let mut refs: Vec<&str> = vec!["/limited"];
    refs.extend(links.iter().map(String::as_str));
    let mut site =
        Site::new()
            .page(host, "/", page("Home", &refs))
            .route(host, "/limited", move |_| {
                if hits_in.fetch_add(1, Ordering::SeqCst) == 0 {
                    with_header(status(StatusCode::TOO_MANY_REQUESTS), "retry-after", "2")
                } else {
                    html(page("Limited", &[]))
                }
            });
    for link in &links {
        site = site.page(host, link, page(link, &[]));
    }
    let server = site.serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "20/s", "--concurrency", "4"])
        .arg(server.url(host, "/"))
        .run(DEADLINE)
        .assert_success("crawl");

    let reqs = server.requests_for(host);
    let limited_at = reqs
        .iter()
        .position(|r| r.path == "/limited")
        .expect("/limited requested");
    // Requests already on the wire when the 429 arrived are fine; after it
    // answers (allow 200 ms), the host rests 2 s.
    let answered = reqs[limited_at].at + Duration::from_millis(200);
    for r in &reqs[limited_at + 1..] {
        let since = r.at.saturating_duration_since(reqs[limited_at].at);
        assert!(
            r.at <= answered || since >= Duration::from_millis(1800),
            "{} requested {:.3}s after a 429 with Retry-After: 2:\n{}",
            r.path,
            since.as_secs_f64(),
            server.dump()
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 2, "{}", server.dump());
    for link in &links {
        assert_eq!(server.count(host, link), 1, "{}", server.dump());
    }
}

#[test]
fn a_connection_cut_mid_body_is_retried() {
    use axum::body::{Body, Bytes};
    use futures_util::stream;

    let host = "cut.test";
    let hits = counter();
    let hits_in = hits.clone();
    let server = Site::new()
        .page(host, "/", page("Home", &["/story"]))
        .route(host, "/story", move |_| {
            if hits_in.fetch_add(1, Ordering::SeqCst) == 0 {
                // Half a page, then the connection breaks.
                let chunks = stream::iter(vec![
                    Ok(Bytes::from_static(
                        b"<!doctype html><html><body><p>Half a st",
                    )),
                    Err(std::io::Error::other("connection cut")),
                ]);
                with_header(
                    axum::response::Response::new(Body::from_stream(chunks)),
                    "content-type",
                    "text/html; charset=utf-8",
                )
            } else {
                html(page("Whole story", &[]))
            }
        })
        .serve();
    let archive = Archive::new();
    crawl_on(&FastClock::new(SCALE), &archive, &server, host).assert_success("crawl");
    assert_eq!(
        server.count(host, "/story"),
        2,
        "a broken connection should be retried once it fails:\n{}",
        server.dump()
    );
    let entry = archive.entry(&server.url(host, "/story"));
    assert_eq!(entry["state"], "fetched", "{entry:#}");
    assert_eq!(entry["title"], "Whole story", "{entry:#}");
}

#[test]
fn retry_after_as_an_http_date_is_honoured() {
    let host = "dated.test";
    let hits = counter();
    let hits_in = hits.clone();
    let server = Site::new()
        .page(host, "/", page("Home", &["/later"]))
        .route(host, "/later", move |_| {
            if hits_in.fetch_add(1, Ordering::SeqCst) == 0 {
                // Three seconds from now (HTTP dates have one-second
                // resolution: at least two seconds remain).
                let when = std::time::SystemTime::now() + Duration::from_secs(3);
                let date = httpdate(when);
                with_header(
                    status(StatusCode::SERVICE_UNAVAILABLE),
                    "retry-after",
                    &date,
                )
            } else {
                html(page("Later", &[]))
            }
        })
        .serve();
    let archive = Archive::new();
    archive.crawl_site(&server, host, "20/s", DEADLINE);
    let tries: Vec<Req> = server.requests_to(host, "/later");
    assert_eq!(tries.len(), 2, "{}", server.dump());
    let waited = (tries[1].at - tries[0].at).as_secs_f64();
    assert!(
        waited >= 1.8,
        "Retry-After as an HTTP date not honoured: retried after {waited:.3}s:\n{}",
        server.dump()
    );
    let entry = archive.entry(&server.url(host, "/later"));
    assert_eq!(entry["state"], "fetched", "{entry:#}");
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn httpdate(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

#[test]
fn a_response_that_times_out_is_retried() {
    let host = "sleepy.test";
    let hits = counter();
    let hits_in = hits.clone();
    let server = Site::new()
        .page(host, "/", page("Home", &["/story"]))
        .route(host, "/story", move |_| {
            if hits_in.fetch_add(1, Ordering::SeqCst) == 0 {
                // No response head for 8 s: past --timeout 2.
                delayed(html(page("Too late", &[])), Duration::from_secs(8))
            } else {
                html(page("On time", &[]))
            }
        })
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "20/s", "--timeout", "2"])
        .arg(server.url(host, "/"))
        .run(DEADLINE)
        .assert_success("crawl");
    let tries: Vec<Req> = server.requests_to(host, "/story");
    assert_eq!(
        tries.len(),
        2,
        "a timed-out request should be retried:\n{}",
        server.dump()
    );
    let waited = (tries[1].at - tries[0].at).as_secs_f64();
    assert!(
        waited >= 1.8,
        "the retry came {waited:.3}s after the first try, before its 2 s timeout ran out"
    );
    let entry = archive.entry(&server.url(host, "/story"));
    assert_eq!(entry["state"], "fetched", "{entry:#}");
    assert_eq!(entry["title"], "On time", "{entry:#}");
}

#[test]
fn an_hour_long_retry_after_does_not_stall_the_crawl() {
    // A site in maintenance answers 503 with `Retry-After: 3600`. The host
    // must not be asked again within the crawl, and the crawl must not sit
    // idle for an hour (or ten minutes) either: the page is recorded as not
    // fetched and the crawl ends once the other work is done.
    let host = "maintenance.test";
    let other = "fine.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/story"]))
        .route(host, "/story", |_| {
            with_header(
                status(StatusCode::SERVICE_UNAVAILABLE),
                "retry-after",
                "3600",
            )
        })
        .page(other, "/", page("Other", &["/x"]))
        .page(other, "/x", page("X", &[]))
        .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host, other])
        .args(["--rate", "20/s"])
        .args([server.url(host, "/"), server.url(other, "/")]);
    let running = crawl.spawn();
    wait_until(Duration::from_secs(30), "the 503", || {
        server.count(host, "/story") >= 1
    });
    let out = running.wait(Duration::from_secs(60));
    out.assert_exit(3, "crawl");
    assert_eq!(
        server.count(host, "/story"),
        1,
        "Retry-After: 3600 and the host was asked again:\n{}",
        server.dump()
    );
    assert_eq!(server.count(other, "/x"), 1, "{}", server.dump());
    let entry = archive.entry(&server.url(host, "/story"));
    assert_ne!(entry["state"], "fetched", "{entry:#}");
    assert!(entry["error"].is_string(), "{entry:#}");
}

#[test]
fn a_429_without_retry_after_is_retried_with_backoff() {
    let host = "limit.test";
    let hits = counter();
    let hits_in = hits.clone();
    let server = Site::new()
        .page(host, "/", page("Home", &["/story"]))
        .route(host, "/story", move |_| {
            if hits_in.fetch_add(1, Ordering::SeqCst) == 0 {
                status(StatusCode::TOO_MANY_REQUESTS)
            } else {
                html(page("Story", &[]))
            }
        })
        .serve();
    let archive = Archive::new();
    let clock = FastClock::new(SCALE);
    crawl_on(&clock, &archive, &server, host).assert_success("crawl");
    let tries: Vec<Req> = server.requests_to(host, "/story");
    assert_eq!(tries.len(), 2, "{}", server.dump());
    let waited = clock.gaps(&[tries[0].at, tries[1].at])[0];
    assert!(
        waited >= 0.3,
        "retried {waited:.3}s after a 429: back off first"
    );
    let entry = archive.entry(&server.url(host, "/story"));
    assert_eq!(entry["state"], "fetched", "{entry:#}");
}

#[test]
fn a_retry_after_outlives_the_run_that_received_it() {
    // "Retry-After: 3600" delays the next request to the host by an hour,
    // whichever process sends it: running the crawl again right away must
    // leave the host alone.
    let host = "resting.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/story"]))
        .route(host, "/story", |_| {
            with_header(
                status(StatusCode::SERVICE_UNAVAILABLE),
                "retry-after",
                "3600",
            )
        })
        .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[host])
        .args(["--rate", "20/s"])
        .arg(server.url(host, "/"));
    crawl
        .run(Duration::from_secs(90))
        .assert_exit(3, "first crawl");
    assert_eq!(server.count(host, "/story"), 1, "{}", server.dump());
    let after_first = server.requests().len();

    crawl
        .run(Duration::from_secs(90))
        .assert_exit(1, "second crawl");
    let second: Vec<String> = server.requests()[after_first..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert!(
        second.is_empty(),
        "the host asked for an hour of quiet; the next run sent {second:?}:\n{}",
        server.dump()
    );
}
