//! A normal crawl: the archive verifies clean, and `list`, `stats` and the
//! crawl summary count exactly what the fixture served.

use std::time::Duration;

use crate::support::*;

#[test]
fn normal_crawl_verifies_clean_and_counts_match_what_was_served() {
    // Two hosts, eight pages; /dup on both hosts is the same HTML, so seven
    // distinct payloads.
    let dup = page("Syndicated story", &[]);
    let server = Site::new()
        .page(
            "one.test",
            "/",
            page("One front", &["/a", "/b", "/c", "/dup"]),
        )
        .page("one.test", "/a", page("Story A", &["/", "/b"]))
        .page("one.test", "/b", page("Story B", &["/c"]))
        .page("one.test", "/c", page("Story C", &[]))
        .page("one.test", "/dup", dup.clone())
        .page("two.test", "/", page("Two front", &["/x", "/dup"]))
        .page("two.test", "/x", page("Story X", &[]))
        .page("two.test", "/dup", dup)
        .serve();
    let hosts = ["one.test", "two.test"];
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &hosts)
        .args(["--rate", "50/s", "--json"])
        .args(hosts.iter().map(|h| server.url(h, "/")))
        .run(Duration::from_secs(60));
    out.assert_success("crawl");

    let served = server.page_requests();
    assert_eq!(served.len(), 8, "{}", server.dump());

    let summary = out.summary();
    for (field, expected) in [
        ("pages_fetched", 8),
        ("captures", 8),
        ("new_versions", 8),
        ("errors", 0),
        ("disallowed", 0),
        ("hosts", 2),
        ("queued", 0),
    ] {
        assert_eq!(
            num(&summary, field),
            expected,
            "summary {field}: {summary:#}"
        );
    }
    assert!(num(&summary, "bytes") > 0, "{summary:#}");
    assert!(num(&summary, "peak_rss_bytes") > 0, "{summary:#}");
    assert!(summary["elapsed_secs"].is_number(), "{summary:#}");
    assert!(summary["pages_per_sec"].is_number(), "{summary:#}");

    archive.assert_verify_clean();

    let stats = archive.stats();
    for (field, expected) in [
        ("pages", 8),
        ("hosts", 2),
        ("captures", 8),
        ("versions", 8),
        ("payloads", 7),
        ("queued", 0),
    ] {
        assert_eq!(num(&stats, field), expected, "stats {field}: {stats:#}");
    }
    assert!(num(&stats, "articles") <= 8, "{stats:#}");
    assert!(num(&stats, "pass") >= 1, "{stats:#}");
    assert!(num(&stats, "payload_bytes_compressed") > 0, "{stats:#}");
    assert!(num(&stats, "disk_bytes") > 0, "{stats:#}");

    let pages = archive.list();
    assert_eq!(pages.len(), 8, "{pages:#?}");
    for (host, path, title) in [
        ("one.test", "/", "One front"),
        ("one.test", "/a", "Story A"),
        ("one.test", "/b", "Story B"),
        ("one.test", "/c", "Story C"),
        ("one.test", "/dup", "Syndicated story"),
        ("two.test", "/", "Two front"),
        ("two.test", "/x", "Story X"),
        ("two.test", "/dup", "Syndicated story"),
    ] {
        let url = server.url(host, path);
        let entry = find_page(&pages, &url).unwrap_or_else(|| panic!("{url} not listed"));
        assert_eq!(entry["state"], "fetched", "{entry:#}");
        assert_eq!(entry["status"], 200, "{entry:#}");
        assert_eq!(num(entry, "captures"), 1, "{entry:#}");
        assert_eq!(num(entry, "versions"), 1, "{entry:#}");
        assert!(entry["error"].is_null(), "{entry:#}");
        assert_eq!(entry["title"], title, "{entry:#}");
        let kind = str_field(entry, "kind").unwrap_or_default();
        assert!(kind == "article" || kind == "page", "{entry:#}");
        let captured = str_field(entry, "last_captured").unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(captured).is_ok(),
            "last_captured is not RFC 3339: {entry:#}"
        );
    }

    // Without --all-pages only articles are listed.
    let articles = archive.list_with(&[]);
    assert_eq!(
        articles.len() as u64,
        num(&stats, "articles"),
        "{articles:#?}"
    );
    for entry in &articles {
        assert_eq!(entry["kind"], "article", "{entry:#}");
    }
}

#[test]
fn legacy_encodings_are_stored_as_utf8() {
    let host = "legacy.test";
    let cyrillic = "Новости дня: мэр открыл новый мост";
    let japanese = "今日のニュース：新しい橋が開通";
    let win1251 = |s: &str| encoding_rs::WINDOWS_1251.encode(s).0.into_owned();
    let sjis = |s: &str| encoding_rs::SHIFT_JIS.encode(s).0.into_owned();
    let meta_page = format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"windows-1251\"><title>{cyrillic}</title></head>\
         <body><article><h1>{cyrillic}</h1><p>{}</p></article></body></html>",
        "Мэр города открыл сегодня новый мост через реку. ".repeat(10)
    );
    let header_page = format!(
        "<!doctype html><html lang=\"ja\"><head><title>{japanese}</title></head>\
         <body><article><h1>{japanese}</h1><p>{}</p></article></body></html>",
        "市長は今日、川に架かる新しい橋を開通させました。".repeat(10)
    );
    let server = Site::new()
        .page(host, "/", page("Home", &["/ru", "/ja"]))
        .file(host, "/ru", "text/html", win1251(&meta_page))
        .file(
            host,
            "/ja",
            "text/html; charset=Shift_JIS",
            sjis(&header_page),
        )
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    for (path, title) in [("/ru", cyrillic), ("/ja", japanese)] {
        let entry = archive.entry(&server.url(host, path));
        assert_eq!(entry["state"], "fetched", "{entry:#}");
        assert_eq!(
            entry["title"], title,
            "{path}: the title should be decoded to UTF-8: {entry:#}"
        );
    }
    archive.assert_verify_clean();
}

#[test]
fn summary_counts_errors_and_disallowed_pages() {
    let host = "mixed.test";
    let server = Site::new()
        .robots(host, "User-agent: *\nDisallow: /private/\n")
        .page(host, "/", page("Home", &["/ok", "/private/x", "/loop"]))
        .page(host, "/ok", page("OK", &[]))
        .page(host, "/private/x", page("Private", &[]))
        .route(host, "/loop", |_| {
            redirect(axum::http::StatusCode::FOUND, "/loop")
        })
        .serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s", "--json"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60));
    out.assert_exit(3, "crawl");
    let summary = out.summary();
    assert_eq!(num(&summary, "pages_fetched"), 2, "{summary:#}");
    assert_eq!(num(&summary, "errors"), 1, "{summary:#}");
    assert_eq!(num(&summary, "disallowed"), 1, "{summary:#}");
    assert_eq!(num(&summary, "hosts"), 1, "{summary:#}");
    let states: Vec<(String, String)> = archive
        .list()
        .iter()
        .map(|p| {
            (
                p["url"].as_str().unwrap_or_default().to_string(),
                p["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let state_of = |path: &str| {
        let url = server.url(host, path);
        states
            .iter()
            .find(|(u, _)| *u == url)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| panic!("{url} not listed: {states:?}"))
    };
    assert_eq!(state_of("/"), "fetched");
    assert_eq!(state_of("/ok"), "fetched");
    assert_eq!(state_of("/private/x"), "disallowed");
    assert_eq!(state_of("/loop"), "failed");
}

#[test]
fn compressed_responses_are_decoded() {
    use std::io::Write;

    let host = "zip.test";
    let gz = |s: &str| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(s.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    let deflate = |s: &str| {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(s.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    let html_type = ("content-type", "text/html; charset=utf-8".to_string());
    let server = Site::new()
        .page(host, "/", page("Home", &["/gz", "/deflate"]))
        .raw(
            host,
            "/gz",
            axum::http::StatusCode::OK,
            vec![html_type.clone(), ("content-encoding", "gzip".into())],
            gz(&page("Gzipped story", &[])),
        )
        .raw(
            host,
            "/deflate",
            axum::http::StatusCode::OK,
            vec![html_type, ("content-encoding", "deflate".into())],
            deflate(&page("Deflated story", &[])),
        )
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    let encodings = server
        .requests()
        .iter()
        .filter_map(|r| r.header("accept-encoding").map(str::to_string))
        .next()
        .unwrap_or_default();
    assert!(
        encodings.contains("gzip"),
        "the crawler should offer gzip: Accept-Encoding {encodings:?}"
    );
    for (path, title) in [("/gz", "Gzipped story"), ("/deflate", "Deflated story")] {
        let entry = archive.entry(&server.url(host, path));
        assert_eq!(entry["state"], "fetched", "{entry:#}");
        assert_eq!(entry["title"], title, "{entry:#}");
    }
    archive.assert_verify_clean();
}

#[test]
fn without_json_the_summary_is_for_humans_on_stderr() {
    let host = "plain.test";
    let server = Site::new().page(host, "/", page("Home", &[])).serve();
    let archive = Archive::new();
    let out = archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60));
    out.assert_success("crawl");
    assert!(
        out.stdout.trim().is_empty(),
        "without --json nothing belongs on stdout:\n{}",
        out.stdout
    );
    assert!(
        !out.stderr.trim().is_empty(),
        "a crawl should end with a summary on stderr"
    );
    assert!(
        serde_json::from_str::<serde_json::Value>(out.stderr.trim()).is_err(),
        "the human summary should not be JSON:\n{}",
        out.stderr
    );
}

#[test]
fn verify_reports_a_corrupt_and_a_missing_payload() {
    let host = "verify.test";
    let server = Site::new()
        .page(host, "/", page("Home", &["/a", "/b"]))
        .page(host, "/a", page("A", &[]))
        .page(host, "/b", page("B", &[]))
        .serve();
    // The damage is done to the directory's files.
    let archive = Archive::directory();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    archive.assert_verify_clean();

    // Damage the database behind palimpsest's back: three payloads damaged
    // in three ways.
    {
        let db = sled::open(std::path::Path::new(&archive.path()).join("db"))
            .expect("open the archive's sled database");
        // The payload table's tag in the on-disk format (B: content-addressed bodies).
        let tag = b'B';
        let payloads: Vec<sled::IVec> = db
            .scan_prefix([tag])
            .keys()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            payloads.len() >= 3,
            "expected at least 3 payload records under tag {tag:?}, found {}",
            payloads.len()
        );
        db.insert(&payloads[0], b"not the payload that was stored".to_vec())
            .unwrap();
        // Well-formed, but not the content its digest names.
        let tampered = zstd::encode_all(&b"<html>tampered</html>"[..], 3).unwrap();
        db.insert(&payloads[1], tampered).unwrap();
        db.remove(&payloads[2]).unwrap();
        db.flush().unwrap();
    }

    let path = archive.path();
    let out = run(&["verify", "--archive", &path], Duration::from_secs(60));
    assert!(
        !out.success(),
        "verify passed a damaged archive:\n{}{}",
        out.stdout,
        out.stderr
    );
    let said = format!("{}{}", out.stdout, out.stderr);
    eprintln!("verify said:\n{said}");
    let problems = said.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(
        problems >= 3,
        "verify should list the three problems (an unreadable payload, one that does not match its digest, a missing one):\n{said}"
    );
}

#[test]
fn broken_and_unknown_encodings_still_give_valid_utf8() {
    let host = "mojibake.test";
    let mut invalid = b"<!doctype html><html><head><meta charset=\"utf-8\"><title>Caf\xff \xfe story</title></head><body><p>".to_vec();
    invalid.extend_from_slice(&b"Some text with a broken byte \xc3 here. ".repeat(20));
    invalid.extend_from_slice(b"</p></body></html>");
    let server = Site::new()
        .page(host, "/", page("Home", &["/invalid", "/klingon"]))
        .file(host, "/invalid", "text/html; charset=utf-8", invalid)
        .file(
            host,
            "/klingon",
            "text/html; charset=klingon",
            page("Unknown charset story", &[]),
        )
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    // `list` output parsed as JSON, so every string in it is valid UTF-8.
    let invalid = archive.entry(&server.url(host, "/invalid"));
    assert_eq!(invalid["state"], "fetched", "{invalid:#}");
    let title = str_field(&invalid, "title").unwrap_or_default();
    assert!(
        title.starts_with("Caf") && title.ends_with("story"),
        "{invalid:#}"
    );
    let klingon = archive.entry(&server.url(host, "/klingon"));
    assert_eq!(klingon["state"], "fetched", "{klingon:#}");
    assert_eq!(klingon["title"], "Unknown charset story", "{klingon:#}");
    archive.assert_verify_clean();
}

#[test]
fn the_archive_can_be_named_by_environment_variable() {
    let host = "env.test";
    let server = Site::new().page(host, "/", page("Home", &[])).serve();
    let archive = Archive::new();
    let path = archive.path();
    let env = [("PALIMPSEST_ARCHIVE", path.as_str())];
    let mut args: Vec<String> = [
        "crawl",
        "--no-progress",
        "--allow-private",
        "--rate",
        "50/s",
    ]
    .map(String::from)
    .to_vec();
    args.extend(server.resolve_args(&[host]));
    args.push(server.url(host, "/"));
    let out = spawn_with_env(&args, &env).wait(Duration::from_secs(60));
    out.assert_success("crawl with PALIMPSEST_ARCHIVE");
    // The named directory holds the archive: `list --archive` finds the page.
    let entry = archive.entry(&server.url(host, "/"));
    assert_eq!(entry["state"], "fetched", "{entry:#}");
    // And `stats` without --archive reads it through the variable.
    let out =
        spawn_with_env(&["stats".into(), "--json".into()], &env).wait(Duration::from_secs(30));
    out.assert_success("stats with PALIMPSEST_ARCHIVE");
    assert!(
        out.stdout.contains("\"pages\":1") || out.stdout.contains("\"pages\": 1"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_utf16_page_with_a_bom_is_decoded() {
    let host = "utf16.test";
    let title = "Ünïcödé headline — ✓";
    let html = page(title, &["/after"]);
    let mut body = vec![0xff, 0xfe];
    for unit in html.encode_utf16() {
        body.extend_from_slice(&unit.to_le_bytes());
    }
    let server = Site::new()
        .page(host, "/", page("Home", &["/utf16"]))
        .file(host, "/utf16", "text/html", body)
        .page(host, "/after", page("After", &[]))
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &[host])
        .args(["--rate", "50/s"])
        .arg(server.url(host, "/"))
        .run(Duration::from_secs(60))
        .assert_success("crawl");
    let entry = archive.entry(&server.url(host, "/utf16"));
    assert_eq!(entry["state"], "fetched", "{entry:#}");
    assert_eq!(entry["title"], title, "{entry:#}");
    assert_eq!(
        server.count(host, "/after"),
        1,
        "links of a UTF-16 page are followed:\n{}",
        server.dump()
    );
}

#[test]
fn a_zstd_page_is_offered_decoded_and_stored_decoded() {
    let host = "zstd.test";
    let title = "Zstandard story";
    let body = zstd::encode_all(page(title, &["/after"]).as_bytes(), 3).unwrap();
    let server = Site::new()
        .page(host, "/", page("Home", &["/zstd"]))
        .raw(
            host,
            "/zstd",
            axum::http::StatusCode::OK,
            vec![
                ("content-type", "text/html; charset=utf-8".to_string()),
                ("content-encoding", "zstd".to_string()),
            ],
            body,
        )
        .page(host, "/after", page("After", &[]))
        .serve();
    let archive = Archive::new();
    archive.crawl_site(&server, host, "50/s", Duration::from_secs(60));
    let offered = server.requests_to(host, "/zstd")[0]
        .header("accept-encoding")
        .unwrap_or_default()
        .to_string();
    assert!(offered.contains("zstd"), "Accept-Encoding {offered:?}");
    let entry = archive.entry(&server.url(host, "/zstd"));
    assert_eq!(entry["state"], "fetched", "{entry:#}");
    assert_eq!(entry["title"], title, "{entry:#}");
    assert_eq!(
        server.count(host, "/after"),
        1,
        "links of a zstd page are followed"
    );
    // The stored payload is the page itself: exported without a coding.
    let record = exported_record(&archive, &server.url(host, "/zstd"), "response");
    assert!(
        record.contains(&format!("<title>{title}</title>")),
        "{record}"
    );
    assert!(
        !record.to_ascii_lowercase().contains("content-encoding"),
        "{record}"
    );
    // What the capture records as sent is what the server received.
    let request = exported_record(&archive, &server.url(host, "/zstd"), "request");
    assert!(
        request.contains(&format!("accept-encoding: {offered}")),
        "{request}"
    );
}

#[test]
fn a_body_in_an_unknown_coding_is_kept_as_received_and_not_read_as_text() {
    let host = "coded.test";
    // Bytes that read as a page if taken for text: the coding must stop that.
    let body = page("Not really a title", &["/never"]);
    let server = Site::new()
        .page(host, "/", page("Home", &["/coded"]))
        .raw(
            host,
            "/coded",
            axum::http::StatusCode::OK,
            vec![
                ("content-type", "text/html; charset=utf-8".to_string()),
                ("content-encoding", "x-custom".to_string()),
            ],
            body.clone(),
        )
        .serve();
    let archive = Archive::new();
    archive.crawl_site_with_errors(&server, host, "50/s", Duration::from_secs(60));
    let entry = archive.entry(&server.url(host, "/coded"));
    assert_eq!(entry["state"], "failed", "{entry:#}");
    assert_eq!(entry["versions"], 0, "read as text: {entry:#}");
    assert!(entry["title"].is_null(), "read as text: {entry:#}");
    assert_eq!(
        server.count(host, "/never"),
        0,
        "links read out of coded bytes"
    );
    // Exported as received: the coding is still named.
    let record = exported_record(&archive, &server.url(host, "/coded"), "response");
    assert!(record.contains("content-encoding: x-custom"), "{record}");
}

#[test]
fn a_utf16_page_declared_only_in_the_http_header_is_decoded() {
    let host = "utf16h.test";
    let title = "Ünïcödé by header — ✓";
    let html = page(title, &["/after"]);
    let body: Vec<u8> = html.encode_utf16().flat_map(u16::to_le_bytes).collect();
    // A <meta> naming UTF-16 is read in ASCII bytes, so it means UTF-8.
    let meta_title = "Méta says UTF-16";
    let meta = format!(
        "<!doctype html><html><head><meta charset=\"utf-16\"><title>{meta_title}</title></head>\
         <body><article><h1>{meta_title}</h1><p>Written in UTF-8, whatever the meta says.</p></article></body></html>"
    );
    let server = Site::new()
        .page(host, "/", page("Home", &["/utf16", "/meta"]))
        .file(host, "/utf16", "text/html; charset=utf-16", body)
        .file(host, "/meta", "text/html", meta)
        .page(host, "/after", page("After", &[]))
        .serve();
    let archive = Archive::new();
    archive.crawl_site(&server, host, "50/s", Duration::from_secs(60));
    let entry = archive.entry(&server.url(host, "/utf16"));
    assert_eq!(entry["title"], title, "{entry:#}");
    assert_eq!(
        server.count(host, "/after"),
        1,
        "links of the UTF-16 page are followed"
    );
    let entry = archive.entry(&server.url(host, "/meta"));
    assert_eq!(entry["title"], meta_title, "{entry:#}");
}

/// The WARC record of type `kind` for `url` in the archive's WARC export,
/// as text (headers and HTTP message).
fn exported_record(archive: &Archive, url: &str, kind: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.warc.gz");
    let path = archive.path();
    run(
        &[
            "export",
            "--archive",
            &path,
            "--format",
            "warc",
            "--all-pages",
            "-o",
            file.to_str().unwrap(),
        ],
        Duration::from_secs(60),
    )
    .assert_success("export --format warc");
    let bytes = std::fs::read(&file).unwrap();
    let mut reader =
        palimpsest::export::warc::WarcReader::new(std::io::Cursor::new(bytes), u64::MAX).unwrap();
    while let Some(entry) = reader.next_entry().unwrap() {
        let palimpsest::export::warc::Entry::Record(r) = entry else {
            continue;
        };
        if r.header("WARC-Type") == Some(kind) && r.header("WARC-Target-URI") == Some(url) {
            let headers: String = r
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}\r\n"))
                .collect();
            return headers + &String::from_utf8_lossy(&r.block);
        }
    }
    panic!("no {kind} record for {url} in the export");
}
