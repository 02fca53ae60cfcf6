//! Extraction throughput (pages per second on one core).
//!
//! `cargo bench --bench extract` measures `extract` over the project's own
//! fixtures (`tests/fixtures/extract/*.html`), so it runs on a fresh clone.
//! When the shared development set exists beside the repository
//! (`../shared/extraction-dev`), a second group measures its first 100 real
//! pages as well; those pages are read, never copied.

use std::io::Read;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use palimpsest::extract::extract;
use url::Url;

fn own_fixtures() -> Vec<(Url, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "html"));
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let html = std::fs::read_to_string(&p).ok()?;
            let name = p.file_stem()?.to_str()?.to_string();
            let url = Url::parse(&format!("https://fixtures.example/{name}")).ok()?;
            Some((url, html))
        })
        .collect()
}

fn dev_set(limit: usize) -> Vec<(Url, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/extraction-dev/html");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    paths
        .into_iter()
        .take(limit)
        .filter_map(|p| {
            let raw = std::fs::read(&p).ok()?;
            let mut bytes = Vec::new();
            flate2::read::MultiGzDecoder::new(&raw[..])
                .read_to_end(&mut bytes)
                .ok()?;
            let (html, _) = palimpsest::decode::decode_html(&bytes, None);
            Some((Url::parse("https://dev.example/page").ok()?, html))
        })
        .collect()
}

fn bench_pages(c: &mut Criterion, name: &str, pages: &[(Url, String)]) {
    if pages.is_empty() {
        return;
    }
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(pages.len() as u64));
    group.sample_size(20);
    group.bench_function("extract", |b| {
        b.iter(|| {
            for (url, html) in pages {
                std::hint::black_box(extract(html, url, None));
            }
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_pages(c, "fixtures", &own_fixtures());
    bench_pages(c, "dev-set-100", &dev_set(100));
}

criterion_group!(extraction, benches);
criterion_main!(extraction);
