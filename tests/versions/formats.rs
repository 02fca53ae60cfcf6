//! `diff` renderings: a standalone HTML page with `<del>`/`<ins>` (archived
//! text escaped, never markup) and, when stdout is not a terminal, plain
//! text with `[-removed-]` / `{+added+}` markers.

use std::time::Duration;

use super::news::*;
use crate::support::*;

const HOST: &str = "tech.test";

/// A story about a web attack quotes the script it used: archived text that
/// looks like markup.
fn story(edition: u64) -> Story {
    let headline = if edition == 0 {
        "Hackers breach ticket site through comment form"
    } else {
        "Hackers breach ticket site through review form"
    };
    let mut s = Story::new(
        headline,
        &[
            "Attackers broke into the ticketing site last weekend and copied the \
             payment details of about four thousand customers, the company said.",
            "The intruders planted the line &lt;script&gt;stealCards()&lt;/script&gt; \
             in a form that the site displayed to every visitor without filtering it.",
            "The company said it had reset all passwords and informed the data \
             protection authority on Monday.",
        ],
    );
    if edition > 0 {
        s = s.with_paragraph(
            2,
            "The company said it had reset all passwords and informed the data \
             protection authority on Tuesday.",
        );
    }
    s
}

fn two_versions() -> (Server, Archive, String) {
    let edition = Edition::new();
    let server = changing(
        Site::new().page(
            HOST,
            "/",
            front_page(
                "08:00:00",
                &[("/security/ticket-breach", "Ticket site breach")],
            ),
        ),
        HOST,
        "/security/ticket-breach",
        &edition,
        vec![story(0).html(), story(1).html()],
        Validators::None,
    )
    .serve();
    let archive = Archive::new();
    let crawl = archive
        .crawl(&server, &[HOST])
        .args(["--rate", "20/s"])
        .arg(server.url(HOST, "/"));
    crawl
        .run(Duration::from_secs(60))
        .assert_success("first crawl");
    edition.advance();
    crawl
        .run(Duration::from_secs(60))
        .assert_success("second crawl");
    let url = server.url(HOST, "/security/ticket-breach");
    assert_eq!(
        history(&archive, &url).len(),
        2,
        "{url} should have two versions"
    );
    (server, archive, url)
}

/// The text inside every `<tag>…</tag>` of `html`.
fn elements(html: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(gt) = after.find('>') else { break };
        let inner = &after[gt + 1..];
        let Some(end) = inner.find(&close) else { break };
        out.push(inner[..end].to_string());
        rest = &inner[end + close.len()..];
    }
    out
}

/// The text between every `open`…`close` marker pair.
fn marked(text: &str, open: &str, close: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let inner = &rest[start + open.len()..];
        let Some(end) = inner.find(close) else { break };
        out.push(inner[..end].to_string());
        rest = &inner[end + close.len()..];
    }
    out
}

#[test]
fn html_diff_is_a_standalone_page_with_del_and_ins() {
    let (_server, archive, url) = two_versions();
    let page = diff_formatted(&archive, &url, "html");
    let lower = page.to_lowercase();
    assert!(
        lower.trim_start().starts_with("<!doctype html"),
        "a standalone page starts with a doctype:\n{page}"
    );
    assert!(
        lower.contains("<html") && lower.contains("</html>") && lower.contains("<body"),
        "a whole document:\n{page}"
    );
    assert!(
        !lower.contains("<script"),
        "no script, and archived text that looks like a script tag is escaped:\n{page}"
    );
    for external in ["src=", "<link", "@import", "url("] {
        assert!(
            !lower.contains(external),
            "standalone: no external resource ({external}):\n{page}"
        );
    }
    assert!(
        page.contains("&lt;script"),
        "the quoted script tag is shown as text:\n{page}"
    );
    let deleted = elements(&page, "del").join(" ");
    let inserted = elements(&page, "ins").join(" ");
    for w in ["comment", "Monday"] {
        assert!(
            deleted.contains(w),
            "<del> should hold the removed word {w:?}; <del>s: {deleted:?}\n{page}"
        );
    }
    for w in ["review", "Tuesday"] {
        assert!(
            inserted.contains(w),
            "<ins> should hold the added word {w:?}; <ins>s: {inserted:?}\n{page}"
        );
    }
    assert!(
        !deleted.contains("Attackers") && !inserted.contains("Attackers"),
        "unchanged text is neither deleted nor inserted:\n{page}"
    );
    assert!(page.contains(&url), "the page names the URL:\n{page}");
}

#[test]
fn text_diff_marks_removed_and_added_words() {
    let (_server, archive, url) = two_versions();
    let text = diff_formatted(&archive, &url, "text");
    assert!(
        !text.contains('\u{1b}'),
        "no terminal colours when stdout is not a terminal:\n{text:?}"
    );
    let removed = marked(&text, "[-", "-]").join(" ");
    let added = marked(&text, "{+", "+}").join(" ");
    for w in ["comment", "Monday"] {
        assert!(
            removed.contains(w),
            "[-{w}-] expected; removed: {removed:?}\n{text}"
        );
    }
    for w in ["review", "Tuesday"] {
        assert!(
            added.contains(w),
            "{{+{w}+}} expected; added: {added:?}\n{text}"
        );
    }
    assert!(
        !removed.contains("Attackers") && !added.contains("Attackers"),
        "unchanged words are not marked:\n{text}"
    );
    // The default (no --format) is the text rendering too.
    let default = cli(&archive, &["diff", &url]);
    default.assert_success("diff without --format");
    assert_eq!(default.stdout, text, "the default format is text");
}
