//! Export at scale: builds an archive of 100,000 captures (50,000 articles,
//! each captured twice with the same payload), then runs the release
//! binary's `export` as JSONL and as WARC, reporting records per second and
//! the exporting process's peak memory (sampled from /proc).
//!
//! cargo bench --bench export            (EXPORT_PAGES=5000 for a quick run)

#[path = "common/mod.rs"]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

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
    common::build_archive(&archive_dir, pages, 1);
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
