//! Corpus export: JSONL, CSV and WARC that the field's own tools
//! accept — checked with Python's `json` and `csv`, `warcio`, `cdxj-indexer`
//! and pywb (installed from tests/requirements.txt) — and WARC round trips
//! through `import-warc`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Archive, Server, Site, html, run, with_header};

const MIN: Duration = Duration::from_secs(60);

/// Indonesian body text (from the sample article), so that language
/// detection agrees with the markup.
const INDONESIAN: &str = "Menurut Wakil Menteri Luar Negeri Dang Hoang Giang, Vietnam sedang memasuki era baru \
     untuk berkembang menjadi negara yang kaya, beradab, dan makmur. Sementara itu, risiko keamanan \
     tradisional dan non-tradisional selalu ada, mengancam keamanan dan kedaulatan setiap negara.";

/// An article page in a given language.
fn article(title: &str, lang: &str, body: &str) -> String {
    if lang == "id" {
        return format!(
            "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\"><title>{title}</title>\
             <meta property=\"og:type\" content=\"article\"></head><body><article><h1>{title}</h1>\
             <p>{body}. {INDONESIAN}</p><p>{INDONESIAN}</p><p>Wakil Menteri menyatakan bahwa sejak awal, \
             Vietnam telah aktif mendukung inisiatif penting ini dengan motto meningkatkan mutu diplomasi.</p>\
             </article></body></html>"
        );
    }
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta property=\"og:type\" content=\"article\">\
         <meta property=\"article:published_time\" content=\"2025-10-01T08:00:00Z\"></head>\
         <body><nav><a href=\"/\">Home</a></nav><article><h1>{title}</h1>\
         <p>{body} This is the first paragraph of the story, with enough words to be a body: \
         it says what happened, where it happened, and who was there when it did.</p>\
         <p>A second paragraph adds context, quotes \"a witness\", commas, and a\nnew line, \
         so that a reader understands why the event matters to the town.</p>\
         <p>A third paragraph closes the story with what officials plan to do next week, \
         and when the council will meet again to decide.</p>\
         </article></body></html>"
    )
}

fn front(links: &[&str]) -> String {
    let items: String = links
        .iter()
        .map(|l| format!("<li><a href=\"{l}\">{l}</a></li>"))
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><title>Front</title></head><body><ul>{items}</ul></body></html>"
    )
}

/// Two hosts, five articles (two in Indonesian), crawled once.
fn crawled() -> (Server, Archive) {
    let server = Site::new()
        .page(
            "news.test",
            "/",
            front(&["/news/2025/a1", "/news/2025/a2", "/news/2025/a3"]),
        )
        .page(
            "news.test",
            "/news/2025/a1",
            article("Alpha story", "en", "Alpha"),
        )
        .page(
            "news.test",
            "/news/2025/a2",
            article("Beta story", "en", "Beta"),
        )
        .page(
            "news.test",
            "/news/2025/a3",
            article("Berita gamma", "id", "Gamma"),
        )
        .page(
            "berita.test",
            "/",
            front(&["/news/2025/b1", "/news/2025/b2"]),
        )
        .page(
            "berita.test",
            "/news/2025/b1",
            article("Berita delta", "id", "Delta"),
        )
        .page(
            "berita.test",
            "/news/2025/b2",
            article("Epsilon story", "en", "Epsilon"),
        )
        .serve();
    let archive = Archive::new();
    archive
        .crawl(&server, &["news.test", "berita.test"])
        .args(["--rate", "50/s"])
        .arg(server.url("news.test", "/"))
        .arg(server.url("berita.test", "/"))
        .run(MIN)
        .assert_success("crawl");
    (server, archive)
}

fn export(archive: &Archive, args: &[&str]) -> String {
    let path = archive.path();
    let mut all = vec!["export", "--archive", &path];
    all.extend_from_slice(args);
    let out = run(&all, MIN);
    out.assert_success(&format!("export {args:?}"));
    out.stdout
}

fn python(script: &str, arg: &Path) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(arg)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn tool(name: &str, args: &[&str]) -> std::process::Output {
    Command::new(name).args(args).output().unwrap_or_else(|e| {
        panic!("{name} must be installed (pip install -r tests/requirements.txt): {e}")
    })
}

fn lines(s: &str) -> Vec<Value> {
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn jsonl_and_csv_parse_with_python_and_carry_every_article() {
    let (_server, archive) = crawled();
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("corpus.jsonl");
    let csv = dir.path().join("corpus.csv");
    let path = archive.path();
    for (format, file) in [("jsonl", &jsonl), ("csv", &csv)] {
        run(
            &[
                "export",
                "--archive",
                &path,
                "--format",
                format,
                "-o",
                file.to_str().unwrap(),
            ],
            MIN,
        )
        .assert_success("export to a file");
    }
    let articles = archive.list_with(&[]).len();
    assert_eq!(articles, 5, "five articles archived");
    let counted = python(
        "import json,sys\nrows=[json.loads(l) for l in open(sys.argv[1],encoding='utf-8')]\n\
         assert all(r['text'] and r['url'] and r['version']==1 for r in rows)\nprint(len(rows))",
        &jsonl,
    );
    assert_eq!(counted, "5");
    let counted = python(
        "import csv,sys\nrows=list(csv.DictReader(open(sys.argv[1],encoding='utf-8',newline='')))\n\
         assert all('\\n' in r['text'] and r['title'] for r in rows)\nprint(len(rows))",
        &csv,
    );
    assert_eq!(
        counted, "5",
        "one CSV row per article, multi-line text quoted"
    );
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let first = text.lines().next().unwrap();
    let positions: Vec<usize> = [
        "url",
        "canonical_url",
        "title",
        "authors",
        "published",
        "modified",
        "language",
        "site_name",
        "description",
        "text",
        "source_links",
        "kind",
        "version",
        "captured_at",
        "content_digest",
    ]
    .iter()
    .map(|k| {
        first
            .find(&format!("\"{k}\":"))
            .unwrap_or_else(|| panic!("{k} missing: {first}"))
    })
    .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "article record fields in a stable order: {first}"
    );
}

#[test]
fn news_please_schema_uses_its_field_names() {
    let (_server, archive) = crawled();
    let rows = lines(&export(
        &archive,
        &["--format", "jsonl", "--schema", "news-please"],
    ));
    assert_eq!(rows.len(), 5);
    for field in [
        "title",
        "authors",
        "date_publish",
        "date_modify",
        "language",
        "url",
        "source_domain",
        "maintext",
        "description",
    ] {
        assert!(
            rows[0].get(field).is_some(),
            "news-please field {field} missing: {}",
            rows[0]
        );
    }
    assert!(rows.iter().any(|r| r["source_domain"] == "news.test"));
}

#[test]
fn filters_select_by_host_time_and_language() {
    let (_server, archive) = crawled();
    let by_host = lines(&export(
        &archive,
        &["--format", "jsonl", "--host", "berita.test"],
    ));
    assert_eq!(by_host.len(), 2);
    assert!(
        by_host
            .iter()
            .all(|r| r["url"].as_str().unwrap().contains("berita.test"))
    );

    let by_language = lines(&export(
        &archive,
        &["--format", "jsonl", "--language", "id"],
    ));
    let titles: Vec<&str> = by_language
        .iter()
        .map(|r| r["title"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(by_language.len(), 2, "{titles:?}");
    assert!(by_language.iter().all(|r| r["language"] == "id"));

    assert_eq!(
        lines(&export(&archive, &["--format", "jsonl", "--since", "1h"])).len(),
        5
    );
    assert_eq!(
        lines(&export(&archive, &["--format", "jsonl", "--until", "1h"])).len(),
        0
    );
    assert_eq!(
        lines(&export(
            &archive,
            &[
                "--format",
                "jsonl",
                "--since",
                "2000-01-01",
                "--until",
                "2999-01-01"
            ]
        ))
        .len(),
        5
    );
}

#[test]
fn all_versions_carries_every_version() {
    let changed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = changed.clone();
    let server = Server::start(move |req| {
        let edited = flag.load(std::sync::atomic::Ordering::SeqCst);
        match req.path.as_str() {
            "/robots.txt" => crate::support::status(axum::http::StatusCode::NOT_FOUND),
            "/" => crate::support::html(front(&["/news/2025/story"])),
            "/news/2025/story" if edited => {
                crate::support::html(article("Story", "en", "Edited: a sentence was added."))
            }
            "/news/2025/story" => crate::support::html(article("Story", "en", "Original.")),
            _ => crate::support::status(axum::http::StatusCode::NOT_FOUND),
        }
    });
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &["news.test"])
        .arg(server.url("news.test", "/"));
    crawl.run(MIN).assert_success("first crawl");
    changed.store(true, std::sync::atomic::Ordering::SeqCst);
    crawl.run(MIN).assert_success("second crawl");
    let latest = lines(&export(&archive, &["--format", "jsonl"]));
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0]["version"], 2);
    let all = lines(&export(&archive, &["--format", "jsonl", "--all-versions"]));
    let versions: Vec<u64> = all.iter().map(|r| r["version"].as_u64().unwrap()).collect();
    assert_eq!(versions, [1, 2]);
    assert!(
        all[1]["text"]
            .as_str()
            .unwrap()
            .contains("a sentence was added")
    );
}

#[test]
fn warc_passes_warcio_check_and_every_capture_is_indexed() {
    let (_server, archive) = crawled();
    // A second pass: every page answered again (identical payloads → revisits).
    archive
        .crawl(&_server, &["news.test", "berita.test"])
        .args(["--rate", "50/s"])
        .arg(_server.url("news.test", "/"))
        .arg(_server.url("berita.test", "/"))
        .run(MIN)
        .assert_success("second crawl");
    let dir = tempfile::tempdir().unwrap();
    let warc = dir.path().join("corpus.warc.gz");
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
            warc.to_str().unwrap(),
        ],
        MIN,
    )
    .assert_success("export warc");
    let check = tool("warcio", &["check", "-v", warc.to_str().unwrap()]);
    assert!(
        check.status.success(),
        "warcio check failed:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let index = tool(
        "warcio",
        &[
            "index",
            "-f",
            "warc-type,warc-target-uri",
            warc.to_str().unwrap(),
        ],
    );
    assert!(index.status.success());
    let records = lines(&String::from_utf8_lossy(&index.stdout));
    let captures = crate::support::num(&archive.stats(), "captures");
    let responses = records
        .iter()
        .filter(|r| r["warc-type"] == "response" || r["warc-type"] == "revisit")
        .count() as u64;
    assert_eq!(responses, captures, "a response or revisit per capture");
    assert!(
        records.iter().any(|r| r["warc-type"] == "revisit"),
        "unchanged payloads are revisits"
    );
    assert!(
        records.iter().any(|r| r["warc-type"] == "metadata"),
        "articles as metadata records"
    );
    assert_eq!(records[0]["warc-type"], "warcinfo");

    let cdxj = tool("cdxj-indexer", &[warc.to_str().unwrap()]);
    assert!(
        cdxj.status.success(),
        "{}",
        String::from_utf8_lossy(&cdxj.stderr)
    );
    let cdxj = String::from_utf8_lossy(&cdxj.stdout).to_string();
    assert!(
        cdxj.lines().count() as u64 >= captures,
        "cdxj-indexer indexed every capture:\n{cdxj}"
    );
    assert!(
        cdxj.lines()
            .any(|l| l.starts_with("test,news:") && l.contains(")/news/2025/a1 ")),
        "{cdxj}"
    );
}

/// The target URIs of a WARC's `response` and `revisit` records.
fn warc_captured_uris(warc: &Path) -> std::collections::BTreeSet<String> {
    let index = tool(
        "warcio",
        &[
            "index",
            "-f",
            "warc-type,warc-target-uri",
            warc.to_str().unwrap(),
        ],
    );
    assert!(index.status.success(), "warcio index failed");
    lines(&String::from_utf8_lossy(&index.stdout))
        .iter()
        .filter(|r| r["warc-type"] == "response" || r["warc-type"] == "revisit")
        .filter_map(|r| r["warc-target-uri"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn warc_holds_every_capture_by_default_and_articles_only_when_asked() {
    let host = "paper.test";
    let server = Site::new()
        .page(host, "/", front(&["/news/2025/story"]))
        .page(host, "/news/2025/story", article("Harbour story", "en", "Harbour"))
        .page(
            host,
            "/news/2025/from-sitemap",
            article("Comet story", "en", "Comet"),
        )
        .route(host, "/robots.txt", |req| {
            let body = format!("User-agent: *\nAllow: /\nSitemap: {}/sitemap.xml\n", req.origin());
            with_header(html(body), "content-type", "text/plain")
        })
        .route(host, "/sitemap.xml", |req| {
            let body = format!(
                "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
                 <url><loc>{}/news/2025/from-sitemap</loc></url></urlset>",
                req.origin()
            );
            with_header(html(body), "content-type", "application/xml")
        })
        .serve();
    let archive = Archive::new();
    archive.crawl_site(&server, host, "50/s", MIN);
    let listed = lines(&export_list(&archive));
    let captured: std::collections::BTreeSet<String> = listed
        .iter()
        .filter(|p| p["captures"].as_u64().unwrap_or(0) > 0)
        .filter_map(|p| p["url"].as_str().map(str::to_string))
        .collect();
    for want in [
        "/",
        "/sitemap.xml",
        "/news/2025/story",
        "/news/2025/from-sitemap",
    ] {
        assert!(
            captured.contains(&server.url(host, want)),
            "the crawl captured {want}: {captured:?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = archive.path();
    let export_warc = |name: &str, extra: &[&str]| {
        let warc = dir.path().join(name);
        let mut args = vec!["export", "--archive", &path, "--format", "warc", "-o"];
        let file = warc.display().to_string();
        args.push(&file);
        args.extend_from_slice(extra);
        run(&args, MIN).assert_success(&format!("export warc {extra:?}"));
        warc_captured_uris(&warc)
    };
    // No flag: every page captured, fronts and listings included.
    let all = export_warc("all.warc.gz", &[]);
    let missing: Vec<&String> = captured.difference(&all).collect();
    assert!(missing.is_empty(), "left out of the WARC: {missing:?}");
    // --articles-only: the old selection, articles alone.
    let articles = export_warc("articles.warc.gz", &["--articles-only"]);
    let expected: std::collections::BTreeSet<String> =
        ["/news/2025/story", "/news/2025/from-sitemap"]
            .iter()
            .map(|p| server.url(host, p))
            .collect();
    assert_eq!(articles, expected);
    // JSONL keeps to articles by default, as the contract says.
    let jsonl = lines(&export(&archive, &["--format", "jsonl"]));
    assert_eq!(jsonl.len(), 2, "{jsonl:?}");
}

/// `list --all-pages --json`: every page the archive knows.
fn export_list(archive: &Archive) -> String {
    let path = archive.path();
    let out = run(&["list", "--all-pages", "--json", "--archive", &path], MIN);
    out.assert_success("list --all-pages --json");
    out.stdout
}

#[test]
fn pywb_replays_an_exported_article() {
    let (_server, archive) = crawled();
    let dir = tempfile::tempdir().unwrap();
    let warc = dir.path().join("corpus.warc.gz");
    let path = archive.path();
    run(
        &[
            "export",
            "--archive",
            &path,
            "--format",
            "warc",
            "-o",
            warc.to_str().unwrap(),
        ],
        MIN,
    )
    .assert_success("export warc");
    let wb = |args: &[&str]| {
        Command::new("wb-manager")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("wb-manager must be installed (pip install -r tests/requirements.txt)")
    };
    assert!(wb(&["init", "news"]).status.success());
    assert!(
        wb(&["add", "news", warc.to_str().unwrap()])
            .status
            .success()
    );
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut wayback = Command::new("wayback")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("wayback must be installed");
    let target = _server.url("news.test", "/news/2025/a1");
    let replay = format!("http://127.0.0.1:{port}/news/2020id_/{target}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let body = loop {
        if let Ok(body) = http_get(&replay)
            && body.contains("Alpha")
        {
            break body;
        }
        if std::time::Instant::now() > deadline {
            let _ = wayback.kill();
            panic!("pywb did not replay {target} within 30 s");
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let _ = wayback.kill();
    let _ = wayback.wait();
    assert!(
        body.contains("This is the first paragraph of the story"),
        "{body}"
    );
}

/// A GET to a loopback URL, by hand (the tests have no HTTP client crate).
fn http_get(url: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n")?;
    let mut body = String::new();
    stream.read_to_string(&mut body)?;
    Ok(body)
}

#[test]
fn warc_round_trip_through_import_reproduces_every_version() {
    let (server, archive) = crawled();
    let dir = tempfile::tempdir().unwrap();
    let warc = dir.path().join("corpus.warc.gz");
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
            warc.to_str().unwrap(),
        ],
        MIN,
    )
    .assert_success("export warc");
    let fresh = Archive::new();
    let fresh_path = fresh.path();
    run(
        &[
            "import-warc",
            "--archive",
            &fresh_path,
            warc.to_str().unwrap(),
        ],
        MIN,
    )
    .assert_success("import-warc");
    let texts = |a: &Archive| {
        let mut rows: Vec<(String, u64, String)> = lines(&export(
            a,
            &["--format", "jsonl", "--all-versions", "--all-pages"],
        ))
        .iter()
        .map(|r| {
            (
                r["url"].as_str().unwrap().to_string(),
                r["version"].as_u64().unwrap(),
                r["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
        rows.sort();
        rows
    };
    let original = texts(&archive);
    assert!(original.len() >= 5);
    assert_eq!(texts(&fresh), original);
    fresh.assert_verify_clean();
    drop(server);
}

#[test]
fn bad_export_requests_fail_cleanly_without_half_written_files() {
    let (_server, archive) = crawled();
    let dir = tempfile::tempdir().unwrap();
    let path = archive.path();
    let target = dir.path().join("out.jsonl");
    let cases: [&[&str]; 3] = [
        &["--format", "jsonl", "--since", "the day before"],
        &["--format", "xml"],
        &["--format", "jsonl", "-o", "/nonexistent-dir/sub/out.jsonl"],
    ];
    for case in cases {
        let mut args = vec!["export", "--archive", &path];
        args.extend_from_slice(case);
        if !case.contains(&"-o") {
            args.extend_from_slice(&["-o", target.to_str().unwrap()]);
        }
        let out = run(&args, MIN);
        assert!(!out.success(), "{case:?} should fail");
        let err = out.stderr.trim();
        // Usage errors (exit 2) keep clap's rendering; others are one line.
        if out.status.code() != Some(2) {
            assert_eq!(err.lines().count(), 1, "one-line error for {case:?}: {err}");
        }
        assert!(err.starts_with("error: "), "{case:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "no file left behind: {leftovers:?}");
}

mod csv_cells;
mod hostile_warc;
mod import_limits;
mod round_trip;
mod targets;
mod time_window;
mod warc_fuzz;
