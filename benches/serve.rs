//! Web interface latency on a large archive: 50,000 articles × 2 versions
//! (100,000 versions, 200,000 captures). Starts the release binary's
//! `serve` on loopback and times each page kind over repeated requests,
//! reporting median and worst.
//!
//! cargo bench --bench serve            (SERVE_PAGES=5000 for a quick run)

#[path = "common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn get(port: u16, path: &str) -> (u16, usize) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let head = String::from_utf8_lossy(&raw[..raw.len().min(64)]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, raw.len())
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("serve bench: smoke check only (run with `cargo bench --bench serve`)");
        return;
    }
    let pages: u64 = std::env::var("SERVE_PAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let archive = dir.path().join("archive");
    let started = Instant::now();
    common::build_archive(&archive, pages, 2);
    println!(
        "archive: {pages} articles, {} versions, built in {:.1}s",
        pages * 2,
        started.elapsed().as_secs_f64()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_palimpsest"))
        .args([
            "serve",
            "--archive",
            archive.to_str().expect("path"),
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mid = pages / 2;
    let url = format!("http%3A%2F%2Fnews.test%2Fstory%2F{mid}");
    let routes = [
        ("index", "/".to_string()),
        ("index page 20", "/?page=20".to_string()),
        ("index search", "/?q=story+49999".to_string()),
        ("index host+lang", "/?host=news.test&lang=en".to_string()),
        ("article", format!("/article?url={url}")),
        ("diff", format!("/diff?url={url}&a=1&b=2")),
        ("changes.atom", "/changes.atom".to_string()),
        ("api/pages", "/api/pages".to_string()),
        ("api/history", format!("/api/history?url={url}")),
        ("api/diff", format!("/api/diff?url={url}&a=1&b=2")),
        ("api/changes", "/api/changes?since=7d".to_string()),
        (
            "unknown url",
            "/article?url=http%3A%2F%2Fnope.test%2F".to_string(),
        ),
    ];
    println!(
        "{:<16} {:>6} {:>10} {:>10} {:>9}",
        "page", "status", "median ms", "worst ms", "bytes"
    );
    for (name, path) in routes {
        let _ = get(port, &path); // warm the cache
        let mut times = Vec::new();
        let mut last = (0, 0);
        for _ in 0..20 {
            let t = Instant::now();
            last = get(port, &path);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name:<16} {:>6} {:>10.2} {:>10.2} {:>9}",
            last.0,
            times[times.len() / 2],
            times[times.len() - 1],
            last.1
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}
