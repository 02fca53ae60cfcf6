//! A synthetic archive for the benchmarks: `pages` articles on one host,
//! each with `versions` versions (one sentence added per version) and two
//! captures per version (the second an identical payload), written through
//! the archive's own staging API.

use std::path::Path;

use chrono::{TimeDelta, Utc};
use palimpsest::archive::{
    Archive, ArticleBlob, CaptureRecord, HostId, HostRecord, LatestVersion, PageRecord, PageState,
    UrlId, VersionRecord, Via, keys, micros,
};
use palimpsest::article::{Article, PageKind};
use palimpsest::canonical::CanonicalUrl;
use palimpsest::digest::ContentDigest;

pub fn build_archive(dir: &Path, pages: u64, versions: u32) {
    let archive = Archive::open(dir, "bench").expect("archive");
    let start = Utc::now() - TimeDelta::days(2);
    let mut st = archive.stage();
    st.put(
        keys::host("news.test:80"),
        &HostRecord {
            id: HostId(1),
            robots: None,
            paused_until: None,
        },
    )
    .expect("host");
    for i in 0..pages {
        let id = UrlId(i + 1);
        let url = CanonicalUrl::parse(&format!("http://news.test/story/{i}")).expect("url");
        let mut paragraphs: Vec<String> = (0..12)
            .map(|p| format!("Story {i}, paragraph {p}: the council met on Tuesday to discuss the budget, and residents spoke at length about the bus routes."))
            .collect();
        let mut latest = None;
        let mut last_seen = start;
        let first_at = start + TimeDelta::seconds(i as i64);
        for n in 1..=versions {
            if n > 1 {
                paragraphs.push(format!(
                    "Update {n}: the council added a further sentence to story {i}."
                ));
            }
            let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
            let html = format!(
                "<html lang=\"en\"><head><title>Story {i}</title></head><body><article><h1>Story {i}</h1>{body}</article></body></html>"
            );
            let payload = ContentDigest::of(html.as_bytes());
            st.put_raw(
                keys::payload(&payload),
                zstd::encode_all(html.as_bytes(), 3).expect("zstd"),
            );
            let article = Article {
                title: Some(format!("Story {i}")),
                text: paragraphs.join("\n\n"),
                language: Some("en".into()),
                kind: PageKind::Article,
                ..Default::default()
            };
            let first = first_at + TimeDelta::hours(i64::from(n - 1) * 3);
            let second = first + TimeDelta::hours(1);
            for at in [first, second] {
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
                    version: Some(n),
                };
                st.put(keys::capture(id.0, micros(at)), &capture)
                    .expect("capture");
            }
            let digest = article.identity();
            st.put(
                keys::version(id.0, n),
                &VersionRecord {
                    number: n,
                    digest,
                    first_seen: first,
                    capture_at: first,
                    reextracted: false,
                    title: article.title.clone(),
                    words_added: if n == 1 {
                        article.text.split_whitespace().count()
                    } else {
                        11
                    },
                    words_removed: 0,
                    article: Article::default(),
                },
            )
            .expect("version");
            st.put_raw(keys::article(id.0, n), ArticleBlob::encode(&article).0);
            st.put(keys::version_seen(id.0, n), &micros(second))
                .expect("seen");
            st.put_raw(keys::change(micros(first), id.0, n), Vec::new());
            latest = Some(LatestVersion {
                number: n,
                digest,
                title: article.title.clone(),
                kind: PageKind::Article,
                language: Some("en".into()),
                first_seen: Some(first),
            });
            last_seen = second;
        }
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
            captures: 2 * u64::from(versions),
            last_captured: Some(last_seen),
            last_status: Some(200),
            last_error: None,
            versions,
            latest,
            attempts: 0,
            due: None,
            first_captured: Some(first_at),
            listing: false,
        };
        st.put(keys::page(id.0), &page).expect("page");
        if i % 1_000 == 999 {
            archive
                .apply(std::mem::replace(&mut st, archive.stage()))
                .expect("apply");
        }
    }
    archive.apply(st).expect("apply");
    archive.flush().expect("flush");
}
