//! Diffs a person can read: a rewritten headline is one phrase replaced by
//! another (not alternating one-word swaps), a deletion and its insertion
//! never run together, the text, the standalone HTML and the web page mark
//! the very same phrases, unchanged fields get no rows, identical versions
//! are said to be identical, and counts of one are singular.

use std::time::Duration;

use super::news::*;
use crate::serve::Served;
use crate::support::*;

const HOST: &str = "floods.test";
const PATH: &str = "/weather/river-floods";
const OLD_HEADLINE: &str = "Flood warnings issued";
const NEW_HEADLINE: &str = "Thousands evacuated as floods";

const PARAGRAPHS: [&str; 3] = [
    "The river rose above its banks on Sunday night after three days of heavy rain \
     across the upper valley, the weather service said.",
    "Residents of the lower town were told to move their cars to higher ground and \
     to keep their phones charged in case of an evacuation order.",
    "The regional council will meet on Monday to decide whether schools in the \
     valley stay closed for the rest of the week.",
];

fn story() -> Story {
    Story::new(OLD_HEADLINE, &PARAGRAPHS)
}

/// An archive holding one version of the story per edition, crawled in
/// turn; the story's URL.
fn archived(editions: Vec<Story>) -> (Server, Archive, String) {
    let edition = Edition::new();
    let count = editions.len();
    let server = changing(
        Site::new().page(HOST, "/", front_page("08:00:00", &[(PATH, "River floods")])),
        HOST,
        PATH,
        &edition,
        editions.iter().map(Story::html).collect(),
        Validators::None,
    )
    .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[HOST])
        .args(["--rate", "20/s"])
        .arg(server.url(HOST, "/"));
    for n in 0..count {
        if n > 0 {
            edition.advance();
        }
        crawl
            .run(Duration::from_secs(60))
            .assert_success(&format!("crawl of edition {n}"));
    }
    let url = server.url(HOST, PATH);
    assert_eq!(
        history(&archive, &url).len(),
        count,
        "{url}: one version an edition"
    );
    (server, archive, url)
}

fn diff_as(archive: &Archive, url: &str, format: &str, versions: &[&str]) -> String {
    let mut args = vec!["diff", url];
    args.extend_from_slice(versions);
    args.extend(["--format", format]);
    let out = cli(archive, &args);
    out.assert_success(&format!("palimpsest {}", args.join(" ")));
    out.stdout
}

/// Every `[-…-]` and `{+…+}` of a text diff, in order, as `-…` / `+…`.
fn text_marks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let del = rest.find("[-").map(|i| (i, "[-", "-]", '-'));
        let ins = rest.find("{+").map(|i| (i, "{+", "+}", '+'));
        let Some((at, open, close, sign)) = [del, ins].into_iter().flatten().min() else {
            return out;
        };
        let inner = &rest[at + open.len()..];
        let end = inner.find(close).expect("a closed marker");
        out.push(format!("{sign}{}", &inner[..end]));
        rest = &inner[end + close.len()..];
    }
}

/// Every `<del>` and `<ins>` of an HTML fragment, in order, as `-…` / `+…`
/// (text unescaped).
fn html_marks(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_fragment(html);
    let marks = scraper::Selector::parse("del, ins").unwrap();
    doc.select(&marks)
        .map(|e| {
            let sign = if e.value().name() == "del" { '-' } else { '+' };
            format!("{sign}{}", e.text().collect::<String>())
        })
        .collect()
}

/// The part of a served diff page above its side-by-side view.
fn above_side_by_side(page: &str) -> &str {
    page.split("id=\"side-by-side\"").next().unwrap_or(page)
}

#[test]
fn a_rewritten_headline_is_one_phrase_replaced_by_another() {
    let (_server, archive, url) = archived(vec![story(), story().headline(NEW_HEADLINE)]);
    let text = diff_as(&archive, &url, "text", &[]);
    assert!(
        text.contains(&format!("title: [-{OLD_HEADLINE}-] {{+{NEW_HEADLINE}+}}\n")),
        "one replacement, a space between the two phrases:\n{text}"
    );
    let page = diff_as(&archive, &url, "html", &[]);
    assert!(
        page.contains(&format!(
            "<del>{OLD_HEADLINE}</del> <ins>{NEW_HEADLINE}</ins>"
        )),
        "the deleted and inserted phrases do not touch:\n{page}"
    );
    let json = diff_json(&archive, &url, &[]);
    let runs: Vec<(String, String)> = json["title"]["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["op"].as_str().unwrap().into(),
                w["text"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        runs,
        vec![
            ("delete".to_string(), OLD_HEADLINE.to_string()),
            ("insert".to_string(), NEW_HEADLINE.to_string()),
        ],
        "{json:#}"
    );
}

#[test]
fn text_html_and_web_page_mark_the_same_phrases() {
    let edited = story()
        .headline(NEW_HEADLINE)
        .with_paragraph(
            0,
            "The river rose above its banks on Monday morning after four days of heavy rain \
             across the upper valley, the weather service said.",
        )
        .with_paragraph(
            2,
            "The regional council met on Tuesday and decided that schools in the \
             valley stay closed for the rest of the week.",
        );
    let (_server, archive, url) = archived(vec![story(), edited]);
    let text = text_marks(&diff_as(&archive, &url, "text", &[]));
    assert!(
        text.contains(&format!("-{OLD_HEADLINE}")) && text.contains(&format!("+{NEW_HEADLINE}")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|m| m == "-Sunday night") && text.iter().any(|m| m == "+Monday morning"),
        "a phrase inside a paragraph: {text:#?}"
    );
    let standalone = html_marks(&diff_as(&archive, &url, "html", &[]));
    assert_eq!(standalone, text, "diff --format html and text agree");
    let served = Served::start(&archive);
    let (code, _, page) = served.get(&format!("/diff?url={}", enc(&url)));
    assert_eq!(code, 200, "{page}");
    assert_eq!(
        html_marks(above_side_by_side(&page)),
        text,
        "the web page marks what the command marks"
    );
}

#[test]
fn only_changed_fields_are_shown() {
    let (_server, archive, url) = archived(vec![story(), story().headline(NEW_HEADLINE)]);
    let page = diff_as(&archive, &url, "html", &[]);
    assert!(page.contains("Title changed"), "{page}");
    for unchanged in ["Authors", "Published", "Modified", "unchanged)"] {
        assert!(
            !page.contains(unchanged),
            "no row for {unchanged:?}:\n{page}"
        );
    }
    let text = diff_as(&archive, &url, "text", &[]);
    for unchanged in ["authors:", "published:", "modified:"] {
        assert!(!text.contains(unchanged), "no line {unchanged:?}:\n{text}");
    }
}

#[test]
fn identical_versions_are_said_to_be_identical() {
    // Edited, then reverted: version 3 reads exactly as version 1.
    let (_server, archive, url) = archived(vec![story(), story().headline(NEW_HEADLINE), story()]);
    let identical = "The two versions are identical.";
    let text = diff_as(&archive, &url, "text", &["1", "3"]);
    assert!(text.contains(identical), "{text}");
    assert!(!text.contains("words added"), "{text}");
    assert!(!text.contains("unchanged"), "{text}");
    let page = diff_as(&archive, &url, "html", &["1", "3"]);
    assert!(page.contains(identical), "{page}");
    assert!(!page.contains("<del") && !page.contains("<ins"), "{page}");
    let changed = diff_as(&archive, &url, "text", &["1", "2"]);
    assert!(!changed.contains(identical), "{changed}");
    let served = Served::start(&archive);
    let (code, _, page) = served.get(&format!("/diff?url={}&a=1&b=3", enc(&url)));
    assert_eq!(code, 200, "{page}");
    assert!(page.contains(identical), "{page}");
}

#[test]
fn counts_of_one_are_singular() {
    let edited = story().with_paragraph(
        1,
        "Residents of the lower town were told to move their cars to higher ground and \
         to keep their radios charged in case of an evacuation order.",
    );
    let (_server, archive, url) = archived(vec![story(), edited]);
    let text = diff_as(&archive, &url, "text", &[]);
    assert!(
        text.contains("[-phones-] {+radios+}"),
        "one word replaced:\n{text}"
    );
    assert!(text.contains("1 word added, 1 word removed"), "{text}");
    assert_eq!(
        text.matches("… 1 paragraph unchanged\n").count(),
        2,
        "one unchanged paragraph before and after:\n{text}"
    );
    let page = diff_as(&archive, &url, "html", &[]);
    assert!(page.contains("1 word added, 1 word removed"), "{page}");
    let served = Served::start(&archive);
    let (_, _, page) = served.get(&format!("/diff?url={}", enc(&url)));
    assert!(page.contains("1 word added, 1 word removed"), "{page}");
    let (_, _, feed) = served.get("/changes.atom");
    assert!(feed.contains("1 word added, 1 word removed"), "{feed}");
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `n` words drawn from a few thousand, the same for the same `seed`.
fn random_words(seed: u64, n: usize) -> String {
    let mut state = seed;
    let words: Vec<String> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            format!("w{}", (state >> 33) % 5000)
        })
        .collect();
    words.join(" ")
}

#[test]
fn a_huge_rewrite_is_compared_within_seconds() {
    // One paragraph of 40,000 words rewritten from end to end: a word diff
    // without a time budget takes minutes over this.
    let before = Story::new(OLD_HEADLINE, &[&random_words(1, 40_000)]);
    let after = Story::new(OLD_HEADLINE, &[&random_words(2, 40_000)]);
    let (_server, archive, url) = archived(vec![before, after]);
    let text = diff_as(&archive, &url, "text", &[]);
    assert!(
        text.contains("words added"),
        "{}",
        &text[..text.len().min(500)]
    );
    let served = Served::start(&archive);
    let (code, _, body) = served.get(&format!("/api/diff?url={}", enc(&url)));
    assert_eq!(code, 200, "{}", &body[..body.len().min(500)]);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(json["diff"]["words_added"].as_u64().unwrap_or(0) >= 30_000);
}
