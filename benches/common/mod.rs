//! A synthetic archive for the benchmarks: `pages` articles on one host,
//! each with `versions` versions (one sentence added per version, or the
//! text a benchmark gives) and two captures per version (the second an
//! identical payload), written through the archive's own staging API.

use std::path::Path;

use chrono::{TimeDelta, Utc};
use palimpsest::archive::{Archive, CaptureRecord, PassRecord, PayloadBlob, Store, Txn, Via};
use palimpsest::article::{Article, PageKind};
use palimpsest::canonical::CanonicalUrl;
use palimpsest::config::CrawlConfig;
use palimpsest::crawl::ExtractedArticle;
use palimpsest::crawl::capture::{Shows, record_capture};
use palimpsest::digest::ContentDigest;
use palimpsest::frontier::Admitter;

/// One version of a page as a benchmark archive holds it.
pub struct Story {
    pub title: String,
    pub paragraphs: Vec<String>,
}

#[allow(dead_code)] // used by the other benchmarks, not by `search`
/// The synthetic archive: story `i`'s twelve paragraphs, one sentence
/// added per later version.
pub fn build_archive(dir: &Path, pages: u64, versions: u32) {
    build_archive_of(dir, pages, versions, |i, n| {
        let mut paragraphs: Vec<String> = (0..12)
            .map(|p| format!("Story {i}, paragraph {p}: the council met on Tuesday to discuss the budget, and residents spoke at length about the bus routes."))
            .collect();
        paragraphs
            .extend((2..=n).map(|n| {
                format!("Update {n}: the council added a further sentence to story {i}.")
            }));
        Story {
            title: format!("Story {i}"),
            paragraphs,
        }
    });
}

/// An archive of `pages` articles on one host, `versions` versions each,
/// version `n` of page `i` being `story(i, n)`: published and first seen a
/// second apart per page, versions three hours apart.
pub fn build_archive_of(dir: &Path, pages: u64, versions: u32, story: impl Fn(u64, u32) -> Story) {
    let archive = Archive::open(dir, "bench").expect("archive");
    let start = Utc::now() - TimeDelta::days(2);
    let pass = PassRecord {
        number: 1,
        started_at: start,
        finished_at: Some(start),
        admitted: 0,
        watch: false,
    };
    let mut admitter = Admitter::new(&archive, pass, &CrawlConfig::unlimited()).expect("admitter");
    let mut st = archive.begin();
    for i in 0..pages {
        let url = CanonicalUrl::parse(&format!("http://news.test/story/{i}")).expect("url");
        let (id, mut page) = admitter.register(&mut st, &url, Via::Seed).expect("page");
        let first_at = start + TimeDelta::seconds(i as i64);
        for n in 1..=versions {
            let Story { title, paragraphs } = story(i, n);
            let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
            let html = format!(
                "<html lang=\"en\"><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"
            );
            let payload = ContentDigest::of(html.as_bytes());
            st.store_payload(
                &payload,
                PayloadBlob::encode(html.as_bytes()).expect("zstd"),
            )
            .expect("payload");
            let article = Article {
                title: Some(title),
                text: paragraphs.join("\n\n"),
                language: Some("en".into()),
                published: Some(first_at.fixed_offset()),
                kind: PageKind::Article,
                ..Default::default()
            };
            let first = first_at + TimeDelta::hours(i64::from(n - 1) * 3);
            // The second capture of each version is an identical payload.
            for at in [first, first + TimeDelta::hours(1)] {
                let mut capture = CaptureRecord {
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
                    version: None,
                };
                let shows = Shows::Article(Box::new(ExtractedArticle::new(article.clone())));
                record_capture(&mut st, id, &mut page, &mut capture, shows).expect("capture");
            }
        }
        page.depth = 1;
        page.scope = "news.test".into();
        page.pass = 1;
        st.put_page(id, &page).expect("page");
        if i % 1_000 == 999 {
            admitter.persist(&mut st).expect("persist");
            archive
                .commit(std::mem::replace(&mut st, archive.begin()))
                .expect("apply");
        }
    }
    admitter.persist(&mut st).expect("persist");
    archive.commit(st).expect("apply");
    archive.flush().expect("flush");
}
