//! What sled itself costs on disk per queued URL, for the layouts a
//! frontier could take: the archive's three entries a URL (URL index, page
//! record, queue entry) together and each alone, and the queue packed into
//! per-host blocks. Bare sled, the archive's cache and flush settings, the
//! frontier benchmark's shape (URLs spread over 1,000 hosts, 1,300 a batch),
//! so the figures say what any layout in sled would cost before one is built.
//!
//! cargo bench --bench sled_layouts   (SLED_LAYOUT_URLS=300000,
//! SLED_LAYOUT_CACHE_MIB=4, the archive's page cache, SLED_LAYOUT_ONLY=TEXT)

// Only its environment knob and sizes are used here.
#[allow(dead_code)]
#[path = "common/loopback.rs"]
mod loopback;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use loopback::{dir_size, env_or};

const HOSTS: u64 = 1_000;
const BATCH: u64 = 1_300;
/// A queue block's bytes at most: 64 entries of (due, id).
const BLOCK_BYTES: usize = 1_024;
/// The size of a page record once compressed with the archive's dictionary.
const PAGE_RECORD_BYTES: usize = 52;

/// Which entries a layout writes for each URL.
#[derive(Clone, Copy)]
struct Layout {
    name: &'static str,
    url_index: bool,
    page: bool,
    queue: bool,
    packed_queue: bool,
}

const LAYOUTS: [Layout; 6] = [
    Layout::new(
        "URL index + page + queue entry (today)",
        true,
        true,
        true,
        false,
    ),
    Layout::new("URL index alone", true, false, false, false),
    Layout::new("page record alone", false, true, false, false),
    Layout::new("queue entry alone", false, false, true, false),
    Layout::new("URL index + page + packed queue", true, true, false, true),
    Layout::new("URL index + packed queue", true, false, false, true),
];

impl Layout {
    const fn new(
        name: &'static str,
        url_index: bool,
        page: bool,
        queue: bool,
        packed_queue: bool,
    ) -> Self {
        Self {
            name,
            url_index,
            page,
            queue,
            packed_queue,
        }
    }
}

/// The per-host queue blocks being filled: block number and its bytes.
#[derive(Default)]
struct Tails(BTreeMap<u64, (u64, Vec<u8>)>);

impl Tails {
    /// Appends an entry to `host`'s last block (a new one when full).
    fn append(&mut self, host: u64, due: u64, id: u64) {
        let (block, bytes) = self.0.entry(host).or_default();
        if bytes.len() + 16 > BLOCK_BYTES {
            *block += 1;
            bytes.clear();
        }
        bytes.extend_from_slice(&due.to_be_bytes());
        bytes.extend_from_slice(&id.to_be_bytes());
    }

    fn key(host: u64, block: u64) -> Vec<u8> {
        let mut k = vec![b'Q'];
        k.extend_from_slice(&host.to_be_bytes());
        k.extend_from_slice(&block.to_be_bytes());
        k
    }
}

/// Writes `urls` URLs in `layout` into a fresh database in `dir`: bytes on
/// disk a URL, and the seconds it took.
fn measure(layout: Layout, urls: u64, cache_mib: u64, dir: &Path) -> (f64, f64) {
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(cache_mib << 20)
        .flush_every_ms(Some(500))
        .open()
        .expect("sled");
    let start = Instant::now();
    let mut tails = Tails::default();
    let mut i = 0u64;
    while i < urls {
        let mut batch = sled::Batch::default();
        let mut touched = Vec::new();
        for _ in 0..BATCH.min(urls - i) {
            let host = i % HOSTS;
            let due = 1_700_000_000_000_000 + i;
            if layout.url_index {
                let url = format!("Uhttp://h{host}.test/article/{i}");
                batch.insert(url.as_bytes(), &i.to_be_bytes());
            }
            if layout.page {
                let mut key = vec![b'P'];
                key.extend_from_slice(&i.to_be_bytes());
                batch.insert(key, vec![7u8; PAGE_RECORD_BYTES]);
            }
            if layout.queue {
                let mut key = vec![b'Q'];
                for part in [host, due, i] {
                    key.extend_from_slice(&part.to_be_bytes());
                }
                batch.insert(key, Vec::new());
            }
            if layout.packed_queue {
                tails.append(host, due, i);
                touched.push(host);
            }
            i += 1;
        }
        for host in touched {
            let (block, bytes) = &tails.0[&host];
            batch.insert(Tails::key(host, *block), bytes.clone());
        }
        db.apply_batch(batch).expect("batch");
    }
    db.flush().expect("flush");
    let secs = start.elapsed().as_secs_f64();
    drop(db);
    (dir_size(dir) as f64 / urls as f64, secs)
}

fn main() {
    // `cargo test --benches` runs this too: there, a small run.
    let bench = std::env::args().any(|a| a == "--bench");
    let urls: u64 = env_or("SLED_LAYOUT_URLS", if bench { 300_000 } else { 5_000 });
    let cache_mib: u64 = env_or("SLED_LAYOUT_CACHE_MIB", 4);
    // SLED_LAYOUT_ONLY=TEXT measures the layouts whose name holds TEXT.
    let only = std::env::var("SLED_LAYOUT_ONLY").unwrap_or_default();
    let layouts = LAYOUTS.into_iter().filter(|l| l.name.contains(&only));
    if std::env::var_os(CHILD).is_some() {
        for layout in layouts {
            let dir = tempfile::tempdir().expect("temp dir");
            let (bytes, secs) = measure(layout, urls, cache_mib, dir.path());
            println!("  {:<40} {bytes:>6.0} B a URL ({secs:.1}s)", layout.name);
        }
        return;
    }
    println!(
        "sled on disk per URL, {urls} URLs over {HOSTS} hosts, {BATCH} a batch, {cache_mib} MiB cache:"
    );
    // Each layout in a process of its own: a database measured after
    // another in the same process came out half as large again (sled's
    // background work is shared by every database a process opens).
    for layout in layouts {
        let status = std::process::Command::new(std::env::current_exe().expect("own path"))
            .args(std::env::args().skip(1))
            .env(CHILD, "1")
            .env("SLED_LAYOUT_ONLY", layout.name)
            .status()
            .expect("run a layout");
        assert!(status.success(), "{}: {status}", layout.name);
    }
}

/// Set in the process that measures one layout.
const CHILD: &str = "SLED_LAYOUT_CHILD";
