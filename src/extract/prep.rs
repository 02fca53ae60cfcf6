//! A cheap pass over the raw HTML before parsing.
//!
//! Modern pages carry more script, style and inline SVG than text; the HTML
//! tokenizer would walk every byte of it only for the tree builder to keep it
//! as opaque text. This pass cuts the contents of `<script>`, `<style>`,
//! `<noscript>`, `<template>` and `<svg>` elements (keeping JSON-LD scripts
//! aside for the metadata layer), which roughly halves parse time on real
//! pages. Anything it does not understand is left as it is.

use super::nesting::{OpenElements, Verdict};

/// The HTML with heavy elements emptied, and the JSON-LD script bodies.
pub(crate) struct Prepared<'a> {
    pub html: String,
    pub jsonld: Vec<&'a str>,
}

const RAW_TAGS: [&str; 5] = ["script", "style", "noscript", "template", "svg"];

pub(crate) fn prepare(html: &str) -> Prepared<'_> {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len() / 2);
    let mut jsonld = Vec::new();
    let mut copied = 0; // bytes of `html` already copied to `out`
    let mut open = OpenElements::default();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let lt = i + off;
        i = lt + 1;
        let rest = &bytes[lt..];
        if rest.starts_with(b"<!--") {
            // Skip comments whole: a commented-out `<script>` opens nothing.
            match html[lt + 4..].find("-->") {
                Some(end) => i = lt + 4 + end + 3,
                None => break,
            }
            continue;
        }
        if open.tag(&rest[1..]) == Verdict::Cut {
            // Cut the document here: see `nesting`.
            out.push_str(&html[copied..lt]);
            copied = html.len();
            break;
        }
        let Some(tag) = RAW_TAGS.iter().find(|t| starts_tag(&rest[1..], t)) else {
            continue;
        };
        // End of the start tag, minding quoted attribute values.
        let Some(gt) = tag_end(&bytes[lt..]) else {
            break;
        };
        let content_start = lt + gt + 1;
        let open_tag = &html[lt..content_start];
        // A self-closing `<svg … />` has no content to cut.
        if open_tag.ends_with("/>") && *tag == "svg" {
            i = content_start;
            continue;
        }
        let Some(close) = find_close(&html[content_start..], tag) else {
            // Unclosed raw text runs to the end of the document anyway.
            break;
        };
        let content_end = content_start + close;
        if *tag == "script" && is_jsonld(open_tag) {
            jsonld.push(&html[content_start..content_end]);
        }
        out.push_str(&html[copied..content_start]);
        copied = content_end;
        i = content_end;
    }
    out.push_str(&html[copied..]);
    Prepared { html: out, jsonld }
}

/// Whether `b` starts with `tag` (ASCII case-insensitive) followed by the
/// end of a tag name.
fn starts_tag(b: &[u8], tag: &str) -> bool {
    b.len() > tag.len()
        && b[..tag.len()].eq_ignore_ascii_case(tag.as_bytes())
        && matches!(
            b[tag.len()],
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'>' | b'/'
        )
}

/// Offset of the `>` that ends the start tag at the beginning of `b`.
fn tag_end(b: &[u8]) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (k, &c) in b.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'>' => return Some(k),
            None => {}
        }
    }
    None
}

/// Offset of `</tag` in `s`, case-insensitively.
fn find_close(s: &str, tag: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut k = 0;
    while let Some(off) = s[k..].find('<') {
        let p = k + off;
        if b.len() > p + 1 && b[p + 1] == b'/' && starts_tag(&b[p + 2..], tag) {
            return Some(p);
        }
        k = p + 1;
    }
    None
}

fn is_jsonld(open_tag: &str) -> bool {
    open_tag.to_ascii_lowercase().contains("ld+json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_raw_elements_and_keeps_jsonld() {
        let html = r#"<p>a</p><SCRIPT type="application/ld+json">{"x":"</p>"}</script><style>p{}</style>
            <!-- <script> --><svg viewBox="0 0"><path d="M0"/></svg><svg/><p>b</p><script src="x.js">"#;
        let p = prepare(html);
        assert_eq!(p.jsonld, vec![r#"{"x":"</p>"}"#]);
        assert!(p.html.contains("<style></style>"));
        assert!(p.html.contains("<!-- <script> -->"));
        assert!(p.html.contains(r#"<svg viewBox="0 0"></svg>"#));
        assert!(p.html.contains("<p>b</p>"));
        assert!(!p.html.contains("path"));
    }

    #[test]
    fn pathological_nesting_is_cut() {
        let html = format!(
            "<p>kept</p>{}deep{}",
            "<div>".repeat(5000),
            "</div>".repeat(5000)
        );
        let p = prepare(&html);
        assert!(p.html.starts_with("<p>kept</p>"));
        assert!(!p.html.contains("deep"));
        assert_eq!(
            p.html.matches("<div>").count(),
            super::super::nesting::MAX_DEPTH
        );
        // Balanced siblings never accumulate depth.
        let flat = "<div>x</div>".repeat(5000);
        assert_eq!(prepare(&flat).html, flat);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for s in [
            "<",
            "<script",
            "<script>",
            "<!--",
            "<svg a='>",
            "é<scriptä>",
            "<script\u{0}>",
        ] {
            let _ = prepare(s);
        }
    }
}
