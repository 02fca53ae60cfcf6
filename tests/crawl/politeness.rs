//! Per-host rate limits: `--rate` holds for each host while many hosts are
//! crawled at once, and one host's `Crawl-delay` slows that host only.

use std::time::{Duration, Instant};

use crate::support::*;

/// Host `name` with a home page linking to `pages - 1` more pages.
fn add_host(mut site: Site, name: &str, pages: usize) -> Site {
    let links: Vec<String> = (1..pages).map(|i| format!("/p/{i}")).collect();
    let refs: Vec<&str> = links.iter().map(String::as_str).collect();
    site = site.page(name, "/", page(&format!("{name} home"), &refs));
    for i in 1..pages {
        site = site.page(
            name,
            &format!("/p/{i}"),
            page(&format!("{name} story {i}"), &["/"]),
        );
    }
    site
}

#[test]
fn rate_limit_holds_per_host_while_twenty_hosts_crawl_concurrently() {
    let _serial = exclusive();
    const HOSTS: usize = 20;
    const PAGES: usize = 12;
    const RATE: f64 = 5.0;
    let names: Vec<String> = (0..HOSTS).map(|i| format!("h{i}.test")).collect();
    let hosts: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut site = Site::new();
    for host in &hosts {
        site = add_host(site, host, PAGES);
    }
    let server = site.serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &hosts)
        .args(["--rate", "5/s", "--concurrency", "20", "--depth", "3"])
        .args(hosts.iter().map(|h| server.url(h, "/")))
        .run(Duration::from_secs(180))
        .assert_success("crawl");

    let min_gap = (1.0 / RATE) * 0.8;
    let mut spans: Vec<(Instant, Instant)> = Vec::new();
    for host in &hosts {
        let reqs = server.requests_for(host);
        let pages = reqs.iter().filter(|r| !r.is_robots()).count();
        assert_eq!(
            pages,
            PAGES,
            "{host}: every page should be fetched once:\n{}",
            server.dump()
        );
        assert_eq!(
            reqs.iter().filter(|r| r.is_robots()).count(),
            1,
            "{host}: robots.txt should be fetched once and cached:\n{}",
            server.dump()
        );
        let times: Vec<Instant> = reqs.iter().map(|r| r.at).collect();
        for (i, gap) in gaps(&times).into_iter().enumerate() {
            assert!(
                gap >= min_gap,
                "{host}: requests {} ({}) and {} ({}) only {gap:.3}s apart; --rate 5/s allows one every 0.2s:\n{}",
                i,
                reqs[i].path,
                i + 1,
                reqs[i + 1].path,
                server.dump()
            );
        }
        // And per second: no one-second window holds more than 5 requests
        // (one more for a window that starts and ends on a request).
        for (i, start) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|t| t.duration_since(*start) < Duration::from_secs(1))
                .count();
            assert!(
                in_window <= RATE as usize + 1,
                "{host}: {in_window} requests within one second at --rate 5/s:\n{}",
                server.dump()
            );
        }
        spans.push((times[0], *times.last().unwrap()));
    }
    // Hosts proceed concurrently: at the moment the last host started, most
    // hosts were still being crawled.
    let latest_start = spans.iter().map(|s| s.0).max().unwrap();
    let active = spans
        .iter()
        .filter(|(start, end)| *start <= latest_start && latest_start <= *end)
        .count();
    assert!(
        active >= HOSTS / 2,
        "hosts were not crawled concurrently: only {active} of {HOSTS} were active when the last one started:\n{}",
        server.dump()
    );
}

#[test]
fn crawl_delay_slows_only_its_host() {
    let _serial = exclusive();
    let slow = "slow.test";
    let fast = "fast.test";
    let site = Site::new().robots(slow, "User-agent: *\nCrawl-delay: 1\n");
    let site = add_host(site, slow, 5);
    let site = add_host(site, fast, 20);
    let server = site.serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[slow, fast])
        .args(["--rate", "10/s", "--concurrency", "4"])
        .args([server.url(slow, "/"), server.url(fast, "/")])
        .run(Duration::from_secs(120))
        .assert_success("crawl");

    // After robots.txt (which is how the delay is learnt), pages of the slow
    // host are at least ~1 s apart.
    let slow_pages: Vec<Req> = server
        .requests_for(slow)
        .into_iter()
        .filter(|r| !r.is_robots())
        .collect();
    assert_eq!(slow_pages.len(), 5, "{}", server.dump());
    let slow_times: Vec<Instant> = slow_pages.iter().map(|r| r.at).collect();
    for gap in gaps(&slow_times) {
        assert!(
            gap >= 0.9,
            "Crawl-delay: 1 not honoured ({gap:.3}s between two pages of {slow}):\n{}",
            server.dump()
        );
    }

    // The fast host runs at --rate 10/s: 20 pages in about 2 s, far from the
    // 19 s they would take under the other host's Crawl-delay.
    let fast_times: Vec<Instant> = server
        .requests_for(fast)
        .into_iter()
        .filter(|r| !r.is_robots())
        .map(|r| r.at)
        .collect();
    assert_eq!(fast_times.len(), 20, "{}", server.dump());
    let span = (*fast_times.last().unwrap() - fast_times[0]).as_secs_f64();
    assert!(
        span < 9.0,
        "{fast} was slowed by {slow}'s Crawl-delay: 20 pages took {span:.1}s at --rate 10/s:\n{}",
        server.dump()
    );
    for gap in gaps(&fast_times) {
        assert!(
            gap >= 0.08,
            "{fast}: {gap:.3}s between requests at --rate 10/s:\n{}",
            server.dump()
        );
    }
}

/// Decrements the in-flight count when the response body is done (or
/// dropped because the client went away).
struct InFlight(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn concurrency_caps_requests_in_flight_over_all_hosts() {
    use std::sync::atomic::Ordering;

    use axum::body::{Body, Bytes};
    use futures_util::stream;

    const HOSTS: usize = 8;
    let in_flight = counter();
    let peak = counter();
    let names: Vec<String> = (0..HOSTS).map(|i| format!("c{i}.test")).collect();
    let hosts: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut site = Site::new();
    for host in &hosts {
        let (in_flight, peak) = (in_flight.clone(), peak.clone());
        site = site
            .page(host, "/", page("Home", &["/slow/1", "/slow/2", "/slow/3"]))
            .route(host, "/slow/*", move |req| {
                // Each response takes 300 ms to come.
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                let guard = InFlight(in_flight.clone());
                let body = page(&format!("Slow {}", req.path), &[]);
                let chunks = stream::unfold(Some((guard, body)), |state| async move {
                    let (guard, body) = state?;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    drop(guard);
                    Some((Ok::<_, std::io::Error>(Bytes::from(body)), None))
                });
                with_header(
                    axum::response::Response::new(Body::from_stream(chunks)),
                    "content-type",
                    "text/html; charset=utf-8",
                )
            });
    }
    let server = site.serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &hosts)
        .args(["--rate", "50/s", "--concurrency", "3"])
        .args(hosts.iter().map(|h| server.url(h, "/")))
        .run(Duration::from_secs(120))
        .assert_success("crawl");
    let slow = server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/slow/"))
        .count();
    assert_eq!(slow, HOSTS * 3, "{}", server.dump());
    let peak = peak.load(Ordering::SeqCst);
    assert!(
        peak <= 3,
        "{peak} requests were in flight at once with --concurrency 3"
    );
    assert!(
        peak >= 2,
        "only {peak} request in flight at a time: --concurrency 3 was not used"
    );
}

#[test]
fn redirect_hops_and_retries_are_rate_limited_too() {
    let _serial = exclusive();
    use axum::http::StatusCode;

    let host = "hops.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/r/1", "/p/1", "/p/2"]))
        .route(host, "/r/1", |_| redirect(StatusCode::FOUND, "/r/2"))
        .route(host, "/r/2", |_| redirect(StatusCode::FOUND, "/r/3"))
        .route(host, "/r/3", |_| redirect(StatusCode::FOUND, "/end"))
        .page(host, "/end", page("End", &[]))
        .page(host, "/p/1", page("P1", &[]))
        .page(host, "/p/2", page("P2", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "4/s", "--concurrency", "8"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    let reqs = server.requests_for(host);
    assert!(server.count(host, "/end") >= 1, "{}", server.dump());
    let times: Vec<Instant> = reqs.iter().map(|r| r.at).collect();
    for gap in gaps(&times) {
        assert!(
            gap >= 0.25 * 0.8,
            "{gap:.3}s between two requests at --rate 4/s (redirect hops count):\n{}",
            server.dump()
        );
    }
}

#[test]
fn fractional_crawl_delay_is_honoured() {
    let _serial = exclusive();
    let host = "half.test";
    let site = Site::new().robots(host, "User-agent: palimpsest\nCrawl-delay: 0.5\n");
    let server = add_host(site, host, 6).serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "20/s"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    let times: Vec<Instant> = server
        .requests_for(host)
        .into_iter()
        .filter(|r| !r.is_robots())
        .map(|r| r.at)
        .collect();
    assert_eq!(times.len(), 6, "{}", server.dump());
    for gap in gaps(&times) {
        assert!(
            gap >= 0.45,
            "Crawl-delay: 0.5 not honoured ({gap:.3}s):\n{}",
            server.dump()
        );
    }
}

#[test]
fn crawl_delay_of_another_group_does_not_apply() {
    // RFC 9309: only the most specific matching group applies; the `*`
    // group's Crawl-delay is not palimpsest's.
    let host = "groups.test";
    let site = Site::new().robots(
        host,
        "User-agent: palimpsest\nAllow: /\n\nUser-agent: *\nCrawl-delay: 5\nDisallow: /\n",
    );
    let server = add_host(site, host, 6).serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "10/s"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    let times: Vec<Instant> = server
        .requests_for(host)
        .into_iter()
        .filter(|r| !r.is_robots())
        .map(|r| r.at)
        .collect();
    assert_eq!(
        times.len(),
        6,
        "the palimpsest group allows everything:\n{}",
        server.dump()
    );
    let span = (*times.last().unwrap() - times[0]).as_secs_f64();
    assert!(
        span < 4.0,
        "6 pages took {span:.1}s: the * group's Crawl-delay: 5 was applied to palimpsest:\n{}",
        server.dump()
    );
}

#[test]
fn rate_per_minute_is_understood() {
    let _serial = exclusive();
    let host = "minute.test";
    let server = add_host(Site::new(), host, 3).serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "30/m"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    let reqs = server.requests_for(host);
    assert_eq!(reqs.len(), 4, "{}", server.dump());
    let times: Vec<Instant> = reqs.iter().map(|r| r.at).collect();
    for gap in gaps(&times) {
        assert!(
            gap >= 2.0 * 0.8,
            "--rate 30/m is one request every 2 s; saw {gap:.3}s:\n{}",
            server.dump()
        );
    }
}

#[test]
fn a_slow_host_does_not_hold_up_the_others() {
    let slow = "tarpit.test";
    let fast = "quick.test";
    let mut site = Site::new().page(
        slow,
        "/",
        page("Slow home", &["/s/1", "/s/2", "/s/3", "/s/4"]),
    );
    site = site.route(slow, "/s/*", |req| {
        delayed(html(page(&req.path, &[])), Duration::from_secs(3))
    });
    let site = add_host(site, fast, 10);
    let server = site.serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[slow, fast])
        .args(["--rate", "20/s", "--concurrency", "4", "--timeout", "10"])
        .args([server.url(slow, "/"), server.url(fast, "/")])
        .run(Duration::from_secs(90))
        .assert_success("crawl");
    let fast_times: Vec<Instant> = server
        .requests_for(fast)
        .into_iter()
        .filter(|r| !r.is_robots())
        .map(|r| r.at)
        .collect();
    assert_eq!(fast_times.len(), 10, "{}", server.dump());
    let span = (*fast_times.last().unwrap() - fast_times[0]).as_secs_f64();
    assert!(
        span < 4.0,
        "{fast}'s 10 pages took {span:.1}s while {slow} answered in 3 s each:\n{}",
        server.dump()
    );
    for i in 1..=4 {
        let entry = archive.entry(&server.url(slow, &format!("/s/{i}")));
        assert_eq!(entry["state"], "fetched", "{entry:#}");
    }
}

#[test]
fn a_big_host_does_not_starve_a_small_one() {
    let _serial = exclusive();
    let big = "big.test";
    let small = "small.test";
    let site = add_host(Site::new(), big, 150);
    let site = site.route(small, "/", |_| {
        // The small host's home is slow to come, so the big host's queue is
        // long by the time the small host's links are found.
        delayed(
            html(page("Small home", &["/p/1", "/p/2", "/p/3", "/p/4"])),
            Duration::from_millis(500),
        )
    });
    let mut site = site;
    for i in 1..=4 {
        site = site.page(small, &format!("/p/{i}"), page("Small story", &[]));
    }
    let server = site.serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[big, small])
        .args(["--rate", "25/s", "--concurrency", "2"])
        .args([server.url(big, "/"), server.url(small, "/")])
        .run(Duration::from_secs(120))
        .assert_success("crawl");
    let start = server.requests()[0].at;
    let small_done = server
        .requests_for(small)
        .last()
        .map(|r| (r.at - start).as_secs_f64())
        .unwrap();
    let big_done = server
        .requests_for(big)
        .last()
        .map(|r| (r.at - start).as_secs_f64())
        .unwrap();
    assert_eq!(server.requests_for(small).len(), 6, "{}", server.dump());
    assert!(
        small_done < 4.0 && small_done < big_done / 2.0,
        "{small} (5 pages) finished at {small_done:.1}s, {big} (150 pages) at {big_done:.1}s: the small host waited behind the big one"
    );
}

#[test]
fn a_host_told_to_wait_does_not_hold_up_the_others() {
    // A host answering `503 Retry-After: 60` is paused for a minute; while it
    // waits it must not occupy the crawl's only request slot.
    use axum::http::StatusCode;

    let paused = "paused.test";
    let other = "other.test";
    let site = Site::new()
        .page(paused, "/", page("Paused home", &["/x", "/y"]))
        .route(paused, "/x", |_| {
            with_header(status(StatusCode::SERVICE_UNAVAILABLE), "retry-after", "60")
        })
        .page(paused, "/y", page("Y", &[]));
    let site = site.route(other, "/", |_| {
        delayed(
            html(page("Other home", &["/p/1", "/p/2", "/p/3"])),
            Duration::from_millis(300),
        )
    });
    let mut site = site;
    for i in 1..=3 {
        site = site.page(other, &format!("/p/{i}"), page("Other story", &[]));
    }
    let server = site.serve();
    let archive = Archive::new();
    let mut running = archive
        .crawl(&server, &[paused, other])
        .args(["--rate", "20/s", "--concurrency", "1"])
        .args([server.url(paused, "/"), server.url(other, "/")])
        .spawn();
    wait_until(Duration::from_secs(30), "the 503", || {
        server.count(paused, "/x") >= 1
    });
    let paused_at = std::time::Instant::now();
    // The other host's three stories come within a few seconds, not after
    // the paused host's minute.
    let deadline = Duration::from_secs(10);
    while server
        .requests_for(other)
        .iter()
        .filter(|r| r.path.starts_with("/p/"))
        .count()
        < 3
    {
        if paused_at.elapsed() > deadline || running.exited() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let done = server
        .requests_for(other)
        .iter()
        .filter(|r| r.path.starts_with("/p/"))
        .count();
    let out = running.kill();
    assert_eq!(
        done,
        3,
        "{done} of {other}'s 3 stories fetched within {deadline:?} of {paused}'s Retry-After: 60 (--concurrency 1)\n{}\nstderr:\n{}",
        server.dump(),
        out.stderr
    );
}

#[test]
fn a_crawl_delayed_host_does_not_hold_request_slots_while_it_waits() {
    // Waiting for a host's turn is not a request in flight: with one slot,
    // a host with `Crawl-delay: 3` must not pace every other host too.
    let _serial = exclusive();
    let slow = "delayed.test";
    let fast = "brisk.test";
    let site = Site::new().robots(slow, "User-agent: *\nCrawl-delay: 3\n");
    let site = add_host(site, slow, 4);
    let site = add_host(site, fast, 10);
    let server = site.serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[slow, fast])
        .args(["--rate", "20/s", "--concurrency", "1"])
        .args([server.url(slow, "/"), server.url(fast, "/")])
        .run(Duration::from_secs(120))
        .assert_success("crawl");
    let fast_times: Vec<Instant> = server
        .requests_for(fast)
        .into_iter()
        .filter(|r| !r.is_robots())
        .map(|r| r.at)
        .collect();
    assert_eq!(fast_times.len(), 10, "{}", server.dump());
    let span = (*fast_times.last().unwrap() - fast_times[0]).as_secs_f64();
    assert!(
        span < 4.0,
        "{fast}'s 10 pages took {span:.1}s at --rate 20/s: it was paced by {slow}'s Crawl-delay:\n{}",
        server.dump()
    );
}

#[test]
fn a_day_long_crawl_delay_is_capped_and_said() {
    let host = "sleepy.test";
    let site = Site::new()
        .robots(host, "User-agent: *\nCrawl-delay: 86400\n")
        .page(host, "/", page("Home", &["/a"]))
        .page(host, "/a", page("A", &[]));
    let server = site.serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--json", "--max-crawl-delay", "1"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60));
    out.assert_success("crawl");
    assert!(
        out.elapsed < Duration::from_secs(30),
        "took {:?}",
        out.elapsed
    );
    assert_eq!(server.count(host, "/a"), 1, "{}", server.dump());
    let summary = out.summary();
    let capped = &summary["crawl_delays_capped"][0];
    assert_eq!(capped["asked_secs"], 86400.0, "{summary:#}");
    assert_eq!(capped["applied_secs"], 1, "{summary:#}");
    // Honoured up to the cap: the two pages are a second apart at least.
    let times: Vec<_> = server.page_requests().iter().map(|r| r.at).collect();
    assert!(gaps(&times).iter().all(|g| *g >= 0.9), "{}", server.dump());
}
