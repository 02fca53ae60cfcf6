//! A headline the markup never closes: the parser puts every paragraph,
//! list and table after it inside the heading. The headline must come out
//! as its first line and what it swallowed as body text, for each shape
//! of the mistake (heading levels, the block that follows, formatting
//! left open inside the heading or the paragraphs).

use super::run;

const URL: &str = "https://broken.test/2026/12/story";

/// Two paragraphs of prose, for pages that need an article-sized body.
const PROSE: &str = "<p>First para of the story, which runs on for long enough that \
    any extractor takes it for the article body rather than a caption or a teaser.\
    <p>Second para continues the story with more sentences about the broken markup \
    that the page carried when it was crawled from the newsroom's old system.";

/// Extracts `html` and checks the title is the heading's first line and
/// every phrase in `body` is in the text, the title not.
fn check(html: &str, body: &[&str]) {
    let a = run(html, URL, None).article;
    assert_eq!(a.title.as_deref(), Some("Broken markup"), "{html}");
    check_body(&a.text, body);
    assert!(!a.text.contains("Broken markup"), "{:?}", a.text);
}

/// Checks every phrase in `body` is in `text`.
fn check_body(text: &str, body: &[&str]) {
    for phrase in body {
        assert!(text.contains(phrase), "{phrase:?} missing from {text:?}");
    }
}

#[test]
fn the_reported_page_keeps_its_paragraphs() {
    let html = "<article><h1>Broken markup<p>First para <b>bold <i>both</b> still here \
        text…<p>Second para<table><tr><td>cell</article>";
    check(
        html,
        &["First para bold both still here text…", "Second para"],
    );
}

#[test]
fn an_unclosed_h1_before_paragraphs_in_a_full_page() {
    let html = format!(
        "<!DOCTYPE html><html><head><title>Broken markup | Daily</title></head><body>\
         <nav><a href=/>Home</a></nav><main><article><h1>Broken markup{PROSE}\
         </article></main><footer>© Daily</footer></body></html>"
    );
    check(&html, &["First para of the story", "Second para continues"]);
}

#[test]
fn an_unclosed_h2_before_a_list() {
    let html = format!(
        "<article><h2>Broken markup<ul><li>One point of the story told at length, \
         with enough words to read as prose.<li>Another point of the story, also \
         told at length and in full sentences.</ul>{PROSE}</article>"
    );
    // Only an `<h1>` stands for the headline: an `<h2>` is a subhead of
    // the body, a line of its own. The title may be absent, but never the
    // swallowed body.
    let a = run(&html, URL, None).article;
    assert!(
        a.title.as_ref().is_none_or(|t| !t.contains("point")),
        "{:?}",
        a.title
    );
    check_body(
        &a.text,
        &[
            "Broken markup\n\nOne point of the story",
            "Another point",
            "Second para",
        ],
    );
}

#[test]
fn an_unclosed_h1_before_a_table() {
    let html = format!(
        "<!DOCTYPE html><article><h1>Broken markup<table><tr><td>Table cell text \
         </table>{PROSE}</article>"
    );
    check(&html, &["First para of the story", "Second para continues"]);
}

#[test]
fn formatting_left_open_inside_the_heading() {
    let html = format!("<article><h1><b><i>Broken markup</i>{PROSE}</article>");
    check(&html, &["First para of the story", "Second para continues"]);
}

#[test]
fn an_unclosed_heading_before_another_heading_and_its_section() {
    let html = format!(
        "<article><h1><span>Broken markup</span><h2>A section<p>Section text that \
         runs on for long enough to count as prose in the body of the article.\
         {PROSE}</article>"
    );
    check(
        &html,
        &["Section text that runs on", "Second para continues"],
    );
}

#[test]
fn an_unclosed_h1_before_a_div_of_paragraphs() {
    // The `</h1>` goes before the first `<p>`; closing the heading closes
    // the `<div>` inside it too, and the paragraphs land after both.
    let html = format!("<article><h1>Broken markup<div class=body>{PROSE}</div></article>");
    check(&html, &["First para of the story", "Second para continues"]);
}
