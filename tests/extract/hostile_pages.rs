//! Pages built to make one parse quadratic: formatting tags the tree
//! builder reopens in every paragraph, an element with hundreds of
//! thousands of attributes, floods of source links, and thousands of short
//! heading and paragraph pairs (headings closed or left open). Each goes
//! through the real binary and must come back in a few seconds (a debug
//! build; the old code took 10 to 40 s or gigabytes on each), with its
//! text.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::support::*;

/// Memory one `extract` of these pages may take: the reopened formatting
/// elements took 2.2 GB.
const MAX_RSS: u64 = 300 * 1024 * 1024;

/// Writes each page to a file and extracts them all in one run, which must
/// end within `deadline` and [`MAX_RSS`]; one record per page.
fn extract_all(pages: &[String], deadline: Duration) -> Vec<Value> {
    let dir = TempDir::new().unwrap();
    let files: Vec<PathBuf> = pages
        .iter()
        .enumerate()
        .map(|(k, html)| {
            let path = dir.path().join(format!("{k}.html"));
            std::fs::write(&path, html).unwrap();
            path
        })
        .collect();
    let mut args = vec![
        "extract".to_string(),
        "--url".into(),
        "https://hostile.test/story".into(),
    ];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let out = spawn(&args).wait(deadline.max(Duration::from_secs(120)));
    out.assert_success("extract");
    assert!(
        out.elapsed < deadline,
        "{} pages took {:?}",
        pages.len(),
        out.elapsed
    );
    assert!(
        out.sampled_peak_rss < MAX_RSS,
        "peak RSS {} MiB",
        out.sampled_peak_rss >> 20
    );
    let records: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), pages.len(), "{}", out.stderr);
    records
}

fn sentence(k: usize) -> String {
    format!("This is sentence number {k} of the long article body, and it goes on.")
}

#[test]
fn formatting_tags_reopened_in_every_paragraph_stay_cheap_and_keep_the_text() {
    let pages: Vec<String> = [
        |k| format!("<p><b id={k}>{}", sentence(k)),
        |k| format!("<li><i id={k}>{}", sentence(k)),
        |k| format!("<div><font color={k}>{}</div>", sentence(k)),
    ]
    .iter()
    .map(|each: &fn(usize) -> String| {
        format!("<p>text</p>{}", (0..4000).map(each).collect::<String>())
    })
    .collect();
    // Old code: 11-13 s and 2.2 GB for each page in a release build.
    for record in extract_all(&pages, Duration::from_secs(8)) {
        let text = record["text"].as_str().unwrap();
        assert!(text.contains(&sentence(3999)), "{}", &text[..200]);
    }
}

#[test]
fn an_element_with_two_hundred_thousand_attributes_stays_cheap() {
    let attributes: Vec<String> = (0..200_000).map(|k| format!("a{k}=1")).collect();
    let html = format!(
        "<p>{}</p><div {}>{}</div>",
        sentence(0),
        attributes.join(" "),
        sentence(1)
    );
    // Old code: 26 s in a release build.
    let records = extract_all(&[html], Duration::from_secs(5));
    let text = records[0]["text"].as_str().unwrap();
    assert!(text.contains(&sentence(1)), "{text}");
}

#[test]
fn floods_of_source_links_are_bounded_and_kept_in_order() {
    let body = format!("<p>{}</p>", sentence(0).repeat(5));
    let lines: String = (0..60_000)
        .map(|k| format!("<p>Source: <a href=\"https://s{k}.test/a\">s{k}</a></p>\n"))
        .collect();
    let based_on: Vec<String> = (0..200_000)
        .map(|k| format!("https://s{k}.test/x"))
        .collect();
    let ld = serde_json::json!({"@type": "NewsArticle", "headline": "h", "isBasedOn": based_on});
    let metas: String = (0..100_000)
        .map(|k| format!("<meta name=\"dc.source\" content=\"https://s{k}.test/x\">"))
        .collect();
    let pages = [
        format!("<html><body><article>{body}{lines}</article></body></html>"),
        format!(
            "<html><head><script type=\"application/ld+json\">{ld}</script></head><body>{body}</body></html>"
        ),
        format!("<html><head>{metas}</head><body>{body}</body></html>"),
    ];
    // Old code: over 40 s, over 40 s and 21 s in a release build.
    for record in extract_all(&pages, Duration::from_secs(10)) {
        let sources: Vec<&str> = record["source_links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(sources.len(), 200, "{record:#}");
        assert!(sources[0].starts_with("https://s0.test/"), "{sources:?}");
        assert!(
            sources[199].starts_with("https://s199.test/"),
            "{sources:?}"
        );
    }
}

/// A page whose body is `part(k)` for k in 0..100 000.
fn hundred_thousand(part: impl Fn(usize) -> String) -> String {
    format!(
        "<html><body>{}</body></html>",
        (0..100_000).map(part).collect::<String>()
    )
}

#[test]
fn a_hundred_thousand_unclosed_headings_each_give_back_their_paragraph() {
    // Every `<h1>` left open: without the repair each heading swallowed
    // the rest of the page and the text came back empty.
    let html = hundred_thousand(|k| format!("<h1>head {k}<p>para {k} text</p>"));
    let records = extract_all(&[html], Duration::from_secs(10));
    let text = records[0]["text"].as_str().unwrap();
    assert!(text.contains("para 99999 text"), "{}", records[0]["title"]);
}

#[test]
fn a_hundred_thousand_heading_and_paragraph_pairs_are_classified_in_linear_time() {
    let html = hundred_thousand(|k| format!("<h1>head {k}</h1><p>para {k} text</p>"));
    // Old code: 25 s for 125 000 pairs in a release build.
    let records = extract_all(&[html], Duration::from_secs(10));
    let text = records[0]["text"].as_str().unwrap();
    assert!(
        text.contains("para 99999 text"),
        "{}",
        &text[text.len() - 200..]
    );
}
