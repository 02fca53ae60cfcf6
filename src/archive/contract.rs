//! The store contract, as tests that any backend must pass: each check is
//! written against [`Store`] and [`Txn`] only, and run here on sled.

use chrono::{DateTime, TimeDelta, Utc};

use super::{
    ArticleBlob, CaptureRecord, ChangeRow, DeltaBase, HostId, HostRecord, IdCounters, PageRecord,
    PayloadBlob, QueueEntry, Store, Txn, UrlId, VersionRecord, Via, micros,
};
use crate::article::Article;
use crate::canonical::CanonicalUrl;
use crate::digest::ContentDigest;

fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap() + TimeDelta::seconds(secs)
}

fn url(path: &str) -> CanonicalUrl {
    CanonicalUrl::parse(&format!("http://news.test{path}")).unwrap()
}

fn capture(at: DateTime<Utc>, payload: Option<ContentDigest>) -> CaptureRecord {
    CaptureRecord {
        requested_url: "http://news.test/a".into(),
        final_url: "http://news.test/a".into(),
        redirects: Vec::new(),
        fetched_at: at,
        status: 200,
        request_headers: Vec::new(),
        headers: Vec::new(),
        payload,
        payload_len: 0,
        truncated: None,
        error: None,
        version: None,
    }
}

fn version(
    number: u32,
    at: DateTime<Utc>,
    text: &str,
    reextracted: bool,
) -> (VersionRecord, ArticleBlob) {
    let article = Article {
        text: text.into(),
        ..Default::default()
    };
    let record = VersionRecord {
        number,
        digest: article.identity(),
        first_seen: at,
        capture_at: at,
        reextracted,
        title: None,
        words_added: 0,
        words_removed: 0,
        article: Article::default(),
    };
    (record, ArticleBlob::encode(&article))
}

/// Pages are found by URL, and reads in a transaction see its own writes
/// before the store does.
fn pages_and_read_your_writes(store: &impl Store) {
    let a = url("/a");
    let mut txn = store.begin();
    txn.add_url(&a, UrlId(1));
    let page = PageRecord::new(a.clone(), HostId(1), "news.test".into(), Via::Seed);
    txn.put_page(UrlId(1), &page).unwrap();
    assert_eq!(txn.url_id(&a).unwrap(), Some(UrlId(1)));
    assert_eq!(txn.page(UrlId(1)).unwrap(), Some(page.clone()));
    assert_eq!(store.url_id(&a).unwrap(), None, "not visible before commit");
    store.commit(txn).unwrap();
    assert_eq!(store.url_id(&a).unwrap(), Some(UrlId(1)));
    let pages: Vec<_> = store.pages().collect::<Result<_, _>>().unwrap();
    assert_eq!(pages, vec![(UrlId(1), page.clone())]);
    assert_eq!(
        store.lookup("HTTP://News.test/a#top").unwrap(),
        (UrlId(1), page.clone())
    );
    assert!(matches!(
        store.lookup("http://news.test/b"),
        Err(super::ArchiveError::UnknownUrl { .. })
    ));

    // Reading ahead changes no answer: staged writes still come first,
    // whether staged before or after the read-ahead.
    let (b, c) = (url("/b"), url("/c"));
    let mut txn = store.begin();
    txn.add_url(&b, UrlId(2));
    txn.read_ahead_urls(&[&url("/a"), &b, &c]).unwrap();
    txn.add_url(&c, UrlId(3));
    let mut moved = page.clone();
    moved.depth = 7;
    txn.put_page(UrlId(1), &moved).unwrap();
    assert_eq!(txn.url_id(&url("/a")).unwrap(), Some(UrlId(1)));
    assert_eq!(txn.url_id(&b).unwrap(), Some(UrlId(2)));
    assert_eq!(txn.url_id(&c).unwrap(), Some(UrlId(3)));
    assert_eq!(txn.url_id(&url("/d")).unwrap(), None);
    assert_eq!(txn.page(UrlId(1)).unwrap(), Some(moved));
    drop(txn);
}

/// A payload is stored once and read back as given; two captures in one
/// microsecond are both kept; the same capture is recognised.
fn payloads_and_captures(store: &impl Store) {
    let body = b"<html>story</html>";
    let digest = ContentDigest::of(body);
    let mut txn = store.begin();
    txn.store_payload(&digest, PayloadBlob::encode(body).unwrap())
        .unwrap();
    txn.store_payload(&digest, PayloadBlob::encode(b"ignored").unwrap())
        .unwrap();
    let first = capture(t(0), Some(digest));
    let mut second = capture(t(0), None);
    second.status = 304;
    txn.record_capture(UrlId(1), &first).unwrap();
    assert!(txn.holds_capture(UrlId(1), &first).unwrap());
    assert!(!txn.holds_capture(UrlId(1), &second).unwrap());
    txn.record_capture(UrlId(1), &second).unwrap();
    store.commit(txn).unwrap();
    assert_eq!(store.payload(&digest).unwrap().as_deref(), Some(&body[..]));
    let held: Vec<_> = store.captures(UrlId(1)).collect::<Result<_, _>>().unwrap();
    assert_eq!(held, vec![first, second]);
}

/// A payload stored as a delta on another reads back whole, staged or
/// committed; one whose base is missing is an error, not a wrong body.
fn payload_deltas(store: &impl Store) {
    let first = b"<html><nav>home news sport weather</nav>story, nonce 1</html>".to_vec();
    let second = b"<html><nav>home news sport weather</nav>story, nonce 2</html>".to_vec();
    let (d1, d2) = (ContentDigest::of(&first), ContentDigest::of(&second));
    let base = DeltaBase {
        digest: d1,
        bytes: first.clone(),
        depth: 0,
    };
    let mut txn = store.begin();
    txn.store_payload(&d1, PayloadBlob::encode(&first).unwrap())
        .unwrap();
    txn.store_payload(&d2, PayloadBlob::encode_against(&second, &base).unwrap())
        .unwrap();
    assert_eq!(txn.payload(&d2).unwrap(), Some(second.clone()));
    store.commit(txn).unwrap();
    assert_eq!(store.payload(&d2).unwrap(), Some(second.clone()));

    let orphan = b"an orphan".to_vec();
    let lost = DeltaBase {
        digest: ContentDigest::of(b"never stored"),
        bytes: b"never stored".to_vec(),
        depth: 0,
    };
    let mut txn = store.begin();
    let d3 = ContentDigest::of(&orphan);
    txn.store_payload(&d3, PayloadBlob::encode_against(&orphan, &lost).unwrap())
        .unwrap();
    store.commit(txn).unwrap();
    assert!(store.payload(&d3).is_err(), "a delta without its base");
}

/// Versions are listed among the changes in time order (re-extractions
/// not), and a confirmation only ever moves last-seen later.
fn versions_changes_and_confirmations(store: &impl Store) {
    let mut txn = store.begin();
    let (v1, a1) = version(1, t(10), "first", false);
    let (v2, a2) = version(2, t(20), "second", false);
    let (v3, a3) = version(3, t(30), "re-extracted", true);
    for (v, a) in [(&v1, &a1), (&v2, &a2), (&v3, &a3)] {
        txn.record_version(UrlId(2), v, a).unwrap();
    }
    assert_eq!(txn.article(UrlId(2), 1).unwrap().unwrap().text, "first");
    txn.confirm_version(UrlId(2), 2, t(25)).unwrap();
    txn.confirm_version(UrlId(2), 2, t(21)).unwrap();
    store.commit(txn).unwrap();
    let numbers: Vec<u32> = store
        .versions(UrlId(2))
        .map(|v| v.unwrap().number)
        .collect();
    assert_eq!(numbers, [1, 2, 3]);
    let changes: Vec<_> = store
        .changes_since(micros(t(15)))
        .collect::<Result<_, _>>()
        .unwrap();
    let second = ChangeRow {
        at: micros(t(20)),
        url: UrlId(2),
        number: 2,
    };
    assert_eq!(changes, vec![second]);
    let newest: Vec<u32> = store
        .changes_newest_first(None)
        .map(|c| c.unwrap().number)
        .collect();
    assert_eq!(newest, [2, 1]);
    assert_eq!(store.version_last_seen(UrlId(2), 2).unwrap(), Some(t(25)));
    assert_eq!(
        store
            .version_meta(UrlId(2), 3)
            .unwrap()
            .map(|v| v.reextracted),
        Some(true)
    );
}

/// Every version is logged in the order its transaction committed, whatever
/// its time: a version fetched earlier but committed later comes later.
fn change_log(store: &impl Store) {
    let before = store.last_change_logged().unwrap();
    let mut late = store.begin();
    let (old, old_article) = version(1, t(100), "fetched first, stored last", false);
    late.record_version(UrlId(7), &old, &old_article).unwrap();
    let mut early = store.begin();
    let (new, new_article) = version(1, t(200), "fetched last, stored first", false);
    early.record_version(UrlId(8), &new, &new_article).unwrap();
    let (again, again_article) = version(2, t(210), "re-extracted", true);
    early
        .record_version(UrlId(8), &again, &again_article)
        .unwrap();
    store.commit(early).unwrap();
    let dropped = store.begin();
    drop(dropped);
    let mut never = store.begin();
    let (lost, lost_article) = version(1, t(300), "never committed", false);
    never
        .record_version(UrlId(9), &lost, &lost_article)
        .unwrap();
    drop(never);
    store.commit(late).unwrap();

    let logged: Vec<_> = store
        .change_log_after(before)
        .collect::<Result<_, _>>()
        .unwrap();
    let seen: Vec<(u64, u32, bool)> = logged
        .iter()
        .map(|l| (l.change.url.0, l.change.number, l.reextracted))
        .collect();
    assert_eq!(seen, [(8, 1, false), (8, 2, true), (7, 1, false)]);
    let seqs: Vec<u64> = logged.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, [before + 1, before + 2, before + 3]);
    assert_eq!(logged[2].change.at, micros(t(100)));
    assert_eq!(store.last_change_logged().unwrap(), before + 3);
    let tail: Vec<u64> = store
        .change_log_after(before + 2)
        .map(|l| l.unwrap().seq)
        .collect();
    assert_eq!(tail, [before + 3]);
}

/// The frontier is ordered by due time within a host, and lists its hosts.
fn frontier(store: &impl Store) {
    let entry = |host, due, url| QueueEntry {
        host: HostId(host),
        due,
        url: UrlId(url),
    };
    let mut txn = store.begin();
    for e in [entry(3, 50, 1), entry(3, 10, 2), entry(5, 20, 3)] {
        txn.enqueue(&e);
    }
    txn.dequeue(&entry(5, 20, 3));
    txn.enqueue(&entry(5, 30, 3));
    store.commit(txn).unwrap();
    let host3: Vec<_> = store.queue_of(HostId(3)).collect::<Result<_, _>>().unwrap();
    assert_eq!(host3, vec![entry(3, 10, 2), entry(3, 50, 1)]);
    assert_eq!(store.queue_hosts().unwrap(), vec![HostId(3), HostId(5)]);
    assert_eq!(store.queue_len().unwrap(), 3);
}

/// Hosts, citations, counters, the pass and moved scopes round-trip.
fn hosts_edges_and_bookkeeping(store: &impl Store) {
    let mut txn = store.begin();
    let host = HostRecord {
        id: HostId(9),
        robots: None,
        paused_until: Some(t(60)),
        reference: Some(ContentDigest::of(b"<html>template</html>")),
    };
    txn.put_host("news.test:80", &host).unwrap();
    txn.cite(UrlId(1), UrlId(7));
    txn.cite(UrlId(2), UrlId(7));
    txn.put_admitted(4, HostId(9), 12).unwrap();
    assert_eq!(txn.admitted(4, HostId(9)).unwrap(), 12);
    txn.put_listings_admitted(4, HostId(9), 3).unwrap();
    assert_eq!(txn.listings_admitted(4, HostId(9)).unwrap(), 3);
    assert_eq!(txn.listings_admitted(5, HostId(9)).unwrap(), 0);
    let counters = IdCounters {
        next_url: 100,
        next_host: 10,
    };
    txn.put_counters(&counters).unwrap();
    txn.put_moved_scope("paper.test", &["paper.example.test".into()])
        .unwrap();
    assert_eq!(store.notified("webhook http://a.test/").unwrap(), None);
    txn.put_notified("webhook http://a.test/", 17).unwrap();
    store.commit(txn).unwrap();
    assert_eq!(store.notified("webhook http://a.test/").unwrap(), Some(17));
    assert_eq!(store.notified("webhook http://b.test/").unwrap(), None);
    assert_eq!(store.host_record("news.test:80").unwrap(), Some(host));
    assert_eq!(store.cited_by(UrlId(7)).unwrap(), vec![UrlId(1), UrlId(2)]);
    assert_eq!(store.id_counters().unwrap(), counters);
    assert_eq!(
        store.moved_scopes().unwrap().get("paper.test"),
        Some(&vec!["paper.example.test".to_string()])
    );
}

/// Every check of the contract, on one store.
pub(super) fn check(store: &impl Store) {
    pages_and_read_your_writes(store);
    payloads_and_captures(store);
    payload_deltas(store);
    versions_changes_and_confirmations(store);
    change_log(store);
    frontier(store);
    hosts_edges_and_bookkeeping(store);
}

#[test]
fn the_sled_archive_meets_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let archive = super::Archive::open(dir.path(), "contract test").unwrap();
    check(&archive);
    let report = super::verify(&archive).unwrap();
    // The pages above are bare records; what verify checks is that every
    // payload decodes to its digest: all do but the delta whose base is
    // missing.
    assert_eq!(report.payloads, 4);
    let orphan = ContentDigest::of(b"an orphan");
    let payload_problems: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.starts_with("payload"))
        .collect();
    assert_eq!(payload_problems.len(), 1, "{:?}", report.problems);
    assert!(payload_problems[0].contains(&orphan.to_string()));
    assert!(payload_problems[0].contains("base payload"));
}

#[test]
fn the_postgres_archive_meets_the_store_contract() {
    let Some(url) = super::postgres::scratch_database("store contract") else {
        return;
    };
    let location = super::Location::Postgres(Box::new(url));
    let archive = super::Archive::open_at(&location, "contract test").unwrap();
    check(&archive);
    let report = super::verify(&archive).unwrap();
    assert_eq!(report.payloads, 4);
    assert_eq!(
        report
            .problems
            .iter()
            .filter(|p| p.starts_with("payload"))
            .count(),
        1,
        "{:?}",
        report.problems
    );
    // A second writer is refused; readers are not.
    match super::Archive::open_at(&location, "second writer") {
        Err(super::ArchiveError::Locked { holder, .. }) => {
            assert!(holder.contains("contract test"), "{holder}")
        }
        other => panic!("a second writer was let in: {:?}", other.err()),
    }
    let reader = super::Archive::open_reading(&location, "reader").unwrap();
    assert_eq!(
        reader.last_change_logged().unwrap(),
        archive.last_change_logged().unwrap()
    );
    drop(archive);
    // The lock goes with the writer's connection.
    super::Archive::open_at(&location, "next writer").unwrap();
}

#[test]
fn reading_a_postgres_database_without_an_archive_is_refused() {
    let Some(url) = super::postgres::scratch_database("missing archive") else {
        return;
    };
    let location = super::Location::Postgres(Box::new(url));
    match super::Archive::open_reading(&location, "reader") {
        Err(super::ArchiveError::Missing { archive }) => {
            assert!(archive.starts_with("postgres://"), "{archive}");
            if let Some(password) = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()) {
                assert!(!archive.contains(&password), "{archive}");
            }
        }
        other => panic!("opened: {:?}", other.err()),
    }
}

#[test]
fn the_change_log_goes_on_where_it_stopped_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let record = |archive: &super::Archive, id: u64| {
        let mut txn = archive.begin();
        let (v, a) = version(1, t(id as i64), "text", false);
        txn.record_version(UrlId(id), &v, &a).unwrap();
        archive.commit(txn).unwrap();
    };
    {
        let archive = super::Archive::open(dir.path(), "contract test").unwrap();
        record(&archive, 1);
        record(&archive, 2);
    }
    let archive = super::Archive::open(dir.path(), "contract test").unwrap();
    assert_eq!(archive.last_change_logged().unwrap(), 2);
    record(&archive, 3);
    let pages: Vec<(u64, u64)> = archive
        .change_log_after(0)
        .map(|l| l.map(|l| (l.seq, l.change.url.0)).unwrap())
        .collect();
    assert_eq!(pages, [(1, 1), (2, 2), (3, 3)]);
}
