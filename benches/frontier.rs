//! Frontier at scale: admits 1M URLs over 1,000 hosts into a fresh archive,
//! then drains it the way the workers do, reporting throughput and peak
//! memory. The frontier lives in sled, so memory must stay flat.
//!
//! cargo bench --bench frontier            (FRONTIER_URLS=100000 for a quick run)

use std::collections::HashSet;
use std::time::Instant;

use chrono::Utc;
use palimpsest::archive::{Archive, PassRecord, Store, Via, micros};
use palimpsest::canonical::CanonicalUrl;
use palimpsest::config::{CrawlConfig, CrawlFlags};
use palimpsest::crawl::peak_rss_bytes;
use palimpsest::frontier::{self, Admitter, NextDue, Origin, Placement};

fn main() {
    let urls: u64 = std::env::var("FRONTIER_URLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let hosts = 1_000u64;
    // Admissions per transaction: the crawl's writer commits once a
    // transaction stages 4,000 writes, about 1,300 admissions (each writes
    // its URL, its page and its frontier entry).
    let batch: u64 = std::env::var("FRONTIER_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_300);
    let dir = tempfile::tempdir().expect("temp dir");
    // FRONTIER_ARCHIVE=DIR keeps the archive there, to look at afterwards.
    let path = std::env::var_os("FRONTIER_ARCHIVE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().to_path_buf());
    let archive = Archive::open(&path, "frontier bench").expect("archive");
    let config = CrawlConfig::from_flags(&CrawlFlags {
        urls: vec!["http://h0.test/".into()],
        ..Default::default()
    })
    .expect("config");
    let pass = PassRecord {
        number: 1,
        started_at: Utc::now(),
        finished_at: None,
        admitted: 0,
        watch: false,
    };
    let mut admitter = Admitter::new(&archive, pass, &config).expect("admitter");
    let now = Utc::now();
    let start = Instant::now();
    let mut i = 0u64;
    while i < urls {
        let mut st = archive.begin();
        for _ in 0..batch.min(urls - i) {
            let url = CanonicalUrl::parse(&format!("http://h{}.test/article/{i}", i % hosts))
                .expect("url");
            let place = Placement {
                depth: 1,
                source_hops: 0,
                scope: url.host().to_string(),
            };
            admitter
                .admit(&mut st, &url, place, Via::Seed, Origin::Asked, now)
                .expect("admit");
            i += 1;
        }
        admitter.persist(&mut st).expect("persist");
        archive.commit(st).expect("apply");
    }
    archive.flush().expect("flush");
    let admit_secs = start.elapsed().as_secs_f64();
    let rss_after_admit = peak_rss_bytes().unwrap_or(0);
    let disk_after_admit = archive.raw_size_on_disk();

    // What `schedule` and the status page ask: the 20 entries due soonest.
    let start = Instant::now();
    let soonest = frontier::soonest(&archive, 20).expect("soonest");
    let soonest_ms = start.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(soonest.len(), 20);
    // Against reading every entry, as those listings did before.
    let start = Instant::now();
    let counted = archive.queue_len().expect("count");
    let scan_ms = start.elapsed().as_secs_f64() * 1000.0;

    // Drain: one pop per host in turn, as the per-host workers would, with
    // completions committed in batches, as the archive writer does.
    let start = Instant::now();
    let hosts_with_work = archive.queue_hosts().expect("hosts");
    let mut drained = 0u64;
    let due = micros(Utc::now());
    let none = HashSet::new();
    loop {
        let mut st = archive.begin();
        let mut popped = 0;
        for &host in &hosts_with_work {
            if let NextDue::Ready(entry) =
                frontier::next_due(&archive, host, due, &none).expect("next")
            {
                admitter.complete(&mut st, &entry);
                popped += 1;
            }
            if popped == 256 {
                break;
            }
        }
        if popped == 0 {
            break;
        }
        archive.commit(st).expect("apply");
        drained += popped;
    }
    let drain_secs = start.elapsed().as_secs_f64();
    println!(
        "frontier: {urls} URLs over {hosts} hosts\n  admit: {:.0} URLs/s ({admit_secs:.1}s)\n  soonest 20 of the whole frontier: {soonest_ms:.1} ms (a full scan of its {counted} entries: {scan_ms:.0} ms)\n  drain: {:.0} URLs/s ({drain_secs:.1}s, {drained} popped)\n  peak RSS: {:.0} MiB after admitting, {:.0} MiB at end\n  archive on disk: {:.0} MiB after admitting ({:.0} B a URL), {:.0} MiB at end ({:.0} B a URL)",
        urls as f64 / admit_secs,
        drained as f64 / drain_secs,
        rss_after_admit as f64 / 1048576.0,
        peak_rss_bytes().unwrap_or(0) as f64 / 1048576.0,
        disk_after_admit as f64 / 1048576.0,
        disk_after_admit as f64 / urls as f64,
        archive.raw_size_on_disk() as f64 / 1048576.0,
        archive.raw_size_on_disk() as f64 / urls as f64,
    );
}
