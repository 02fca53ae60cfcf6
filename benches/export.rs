//! Export at scale: builds an archive of 100,000 captures (50,000 articles,
//! each captured twice with the same payload), then runs the release
//! binary's `export` as JSONL and as WARC, reporting records per second and
//! the exporting process's peak memory (sampled from /proc).
//!
//! cargo bench --bench export            (EXPORT_PAGES=5000 for a quick run)

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use palimpsest::archive::{
    Archive, ArticleBlob, CaptureRecord, HostId, HostRecord, LatestVersion, PageRecord, PageState,
    UrlId, VersionRecord, Via, keys, micros,
};
use palimpsest::article::{Article, PageKind};
use palimpsest::canonical::CanonicalUrl;
use palimpsest::digest::ContentDigest;

fn build(dir: &Path, pages: u64) {
    let archive = Archive::open(dir, "export bench").expect("archive");
    let start = Utc::now() - TimeDelta::days(1);
    let mut st = archive.stage();
    st.put(
        keys::host("news.test:80"),
        &HostRecord {
            id: HostId(1),
            robots: None,
        },
    )
    .expect("host");
    for i in 0..pages {
        let id = UrlId(i + 1);
        let url = CanonicalUrl::parse(&format!("http://news.test/story/{i}")).expect("url");
        let paragraphs: String = (0..12)
            .map(|p| format!("<p>Story {i}, paragraph {p}: the council met on Tuesday to discuss the budget, and residents spoke at length about the bus routes.</p>"))
            .collect();
        let html = format!(
            "<html lang=\"en\"><head><title>Story {i}</title></head><body><article><h1>Story {i}</h1>{paragraphs}</article></body></html>"
        );
        let payload = ContentDigest::of(html.as_bytes());
        st.put_raw(
            keys::payload(&payload),
            zstd::encode_all(html.as_bytes(), 3).expect("zstd"),
        );
        let article = Article {
            title: Some(format!("Story {i}")),
            text: (0..12)
                .map(|p| format!("Story {i}, paragraph {p}: the council met on Tuesday to discuss the budget, and residents spoke at length about the bus routes."))
                .collect::<Vec<_>>()
                .join("\n\n"),
            language: Some("en".into()),
            kind: PageKind::Article,
            ..Default::default()
        };
        let first = start + TimeDelta::seconds(i as i64);
        let second = first + TimeDelta::hours(1);
        for (n, at) in [first, second].into_iter().enumerate() {
            let capture = CaptureRecord {
                requested_url: url.to_string(),
                final_url: url.to_string(),
                redirects: Vec::new(),
                fetched_at: at,
                status: 200,
                request_headers: vec![("user-agent".into(), "palimpsest/bench".into())],
                headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
                payload: Some(payload),
                payload_len: html.len() as u64,
                truncated: None,
                error: None,
                version: Some(1),
            };
            st.put(keys::capture(id.0, micros(at)), &capture)
                .expect("capture");
            let _ = n;
        }
        let digest = article.identity();
        st.put(
            keys::version(id.0, 1),
            &VersionRecord {
                number: 1,
                digest,
                first_seen: first,
                capture_at: first,
                reextracted: false,
                article: Article::default(),
            },
        )
        .expect("version");
        st.put_raw(keys::article(id.0, 1), ArticleBlob::encode(&article).0);
        st.put(keys::version_seen(id.0, 1), &micros(second))
            .expect("seen");
        st.put_raw(keys::url(url.as_str()), id.0.to_be_bytes().to_vec());
        let page = PageRecord {
            url: url.clone(),
            host: HostId(1),
            depth: 1,
            source_hops: 0,
            scope: "news.test".into(),
            via: Via::Seed,
            pass: 1,
            state: PageState::Fetched,
            etag: None,
            last_modified: None,
            captures: 2,
            last_captured: Some(second),
            last_status: Some(200),
            last_error: None,
            versions: 1,
            latest: Some(LatestVersion {
                number: 1,
                digest,
                title: article.title.clone(),
                kind: PageKind::Article,
                language: Some("en".into()),
                first_seen: Some(first),
            }),
            attempts: 0,
            due: None,
            first_captured: Some(first),
            listing: false,
        };
        st.put(keys::page(id.0), &page).expect("page");
        if i % 2_000 == 1_999 {
            archive
                .apply(std::mem::replace(&mut st, archive.stage()))
                .expect("apply");
        }
    }
    archive.apply(st).expect("apply");
    archive.flush().expect("flush");
}

/// Runs the binary, sampling its peak resident memory until it exits.
fn measure(args: &[&str]) -> (Duration, u64) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_palimpsest"))
        .args(args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn palimpsest");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path)
            && let Some(kib) = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (start.elapsed(), peak_kib * 1024)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("export bench: smoke check only (run with `cargo bench --bench export`)");
        return;
    }
    let pages: u64 = std::env::var("EXPORT_PAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let archive_dir = dir.path().join("archive");
    let started = Instant::now();
    build(&archive_dir, pages);
    println!(
        "archive: {pages} articles, {} captures, built in {:.1}s",
        pages * 2,
        started.elapsed().as_secs_f64()
    );
    let archive = archive_dir.to_str().expect("utf-8 path");
    for (format, extra, unit, count) in [
        ("jsonl", &[][..], "records", pages),
        ("warc", &["--all-pages"][..], "captures", pages * 2),
    ] {
        let out = dir.path().join(format!("corpus.{format}"));
        let out = out.to_str().expect("utf-8 path");
        let mut args = vec![
            "--archive",
            archive,
            "export",
            "--format",
            format,
            "-o",
            out,
        ];
        args.extend_from_slice(extra);
        let (elapsed, peak) = measure(&args);
        let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
        println!(
            "export {format:<5}: {count} {unit} in {:.1}s ({:.0} {unit}/s), peak RSS {:.1} MiB, output {:.1} MiB",
            elapsed.as_secs_f64(),
            count as f64 / elapsed.as_secs_f64(),
            peak as f64 / 1048576.0,
            size as f64 / 1048576.0
        );
    }
}
