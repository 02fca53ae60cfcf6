//! A cheap pass over the raw HTML before parsing.
//!
//! Modern pages carry more script, style and inline SVG than text; the HTML
//! tokenizer would walk every byte of it only for the tree builder to keep it
//! as opaque text. This pass cuts the contents of `<script>`, `<style>`,
//! `<noscript>`, `<template>` and `<svg>` elements (keeping JSON-LD scripts
//! aside for the metadata layer), which roughly halves parse time on real
//! pages, and cuts comments. Anything it does not understand is left as it
//! is.
//!
//! It also bounds the parser's work on hostile markup: every tag goes to
//! the `nesting` estimate (which cuts the document, or drops a formatting
//! start tag, where the parser would work quadratically), and a start tag
//! keeps its first [`MAX_ATTRIBUTES`] attributes only (the tokenizer checks
//! each new attribute against all earlier ones: 200 000 attributes on one
//! element took 26 s). A heading left open before the paragraphs that
//! follow it is closed there (`unclosed`).
//!
//! Without a profile, start tags also lose the attributes nothing reads
//! (see [`READ_ATTRIBUTES`]): the tokenizer copies attribute text one
//! character at a time, and `data-*`, `style` and `srcset` values are a
//! large share of a page's markup.

use std::ops::Range;

use super::dom::READ_ATTRIBUTES;
use super::nesting::{OpenElements, SpaceKind, Tag, Verdict, is_html_space, space_kind};
use super::unclosed::HeadingWatch;

/// Attributes kept on one start tag; real tags carry a few dozen at most.
pub(crate) const MAX_ATTRIBUTES: usize = 100;

/// The HTML with heavy elements emptied, and the JSON-LD script bodies.
pub(crate) struct Prepared<'a> {
    pub html: String,
    pub jsonld: Vec<&'a str>,
}

/// Which attributes of a start tag reach the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attributes {
    /// Every one: a profile's selectors may name any attribute.
    All,
    /// Those in [`READ_ATTRIBUTES`].
    Read,
}

const RAW_TAGS: [&str; 5] = ["script", "style", "noscript", "template", "svg"];

pub(crate) fn prepare(html: &str, attributes: Attributes) -> Prepared<'_> {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len() / 2);
    let mut jsonld = Vec::new();
    let mut copied = 0; // bytes of `html` already copied to `out`
    let mut open = OpenElements::default();
    let mut headings = HeadingWatch::default();
    let mut i = 0;
    let mut text_from = 0; // where the text after the last tag starts
    // As `text_from`, but past the content of a cut raw element.
    let mut visible_from = 0;
    // The spans of the current start tag's dropped attributes.
    let mut dropped: Vec<Range<usize>> = Vec::new();
    let mut layout = LayoutSpace::default();
    while let Some(off) = html[i..].find('<') {
        let lt = i + off;
        i = lt + 1;
        let rest = &bytes[lt..];
        if rest.starts_with(b"<!--") {
            // Skip comments whole (a commented-out `<script>` opens
            // nothing), and cut them: the tree would keep them as nodes
            // nothing reads.
            let Some(end) = comment_end(&html[lt..]) else {
                break;
            };
            out.push_str(&html[copied..lt]);
            i = lt + end;
            copied = i;
            text_from = i;
            continue;
        }
        if layout.cuts(rest, bytes.get(text_from..lt).unwrap_or_default()) && copied <= text_from {
            out.push_str(&html[copied..text_from]);
            copied = lt;
            text_from = lt;
        }
        let start = start_tag(rest, attributes, &mut dropped);
        let mut after_text = text_from < lt;
        if let Some(close) = headings.tag(&html[visible_from.max(text_from)..lt], &rest[1..]) {
            // A heading left open before a block: see `unclosed`.
            let tag = Tag {
                rest: &close.as_bytes()[1..],
                attributes: &[],
                after_text,
            };
            out.push_str(&html[copied..lt]);
            copied = lt;
            if open.tag(&tag) == Verdict::Cut {
                copied = html.len();
                break;
            }
            out.push_str(close);
            after_text = false;
        }
        let tag = Tag {
            rest: &rest[1..],
            attributes: start.as_ref().map_or(&[], |t| &rest[t.attributes.clone()]),
            after_text,
        };
        let verdict = open.tag(&tag);
        if verdict == Verdict::Cut {
            // Cut the document here: see `nesting`.
            out.push_str(&html[copied..lt]);
            copied = html.len();
            break;
        }
        let Some(start) = start else {
            match other_markup(rest) {
                OtherMarkup::Ends => break,
                OtherMarkup::Until(end) => {
                    i = lt + end;
                    text_from = i;
                }
                OtherMarkup::Text => {}
            }
            continue;
        };
        let content_start = lt + start.end + 1;
        i = content_start;
        text_from = content_start;
        if verdict == Verdict::Drop {
            out.push_str(&html[copied..lt]);
            copied = content_start;
            continue;
        }
        if start.kept.is_some() || !dropped.is_empty() {
            out.push_str(&html[copied..lt]);
            copy_kept_attributes(&html[lt..content_start], &start, &dropped, &mut out);
            copied = content_start;
        }
        let content_end = match raw_content(&html[lt..content_start], &html[content_start..]) {
            RawContent::None => continue,
            // Unclosed raw text runs to the end of the document anyway.
            RawContent::ToTheEnd => break,
            RawContent::Cut {
                len,
                jsonld: is_jsonld,
            } => {
                let content_end = content_start + len;
                if is_jsonld {
                    jsonld.push(&html[content_start..content_end]);
                }
                content_end
            }
        };
        out.push_str(&html[copied..content_start]);
        copied = content_end;
        i = content_end;
        visible_from = content_end;
    }
    out.push_str(&html[copied..]);
    Prepared { html: out, jsonld }
}

/// What follows a `<` that starts no start tag.
enum OtherMarkup {
    /// The document ends in it (a start tag the tokenizer drops, or an end
    /// tag, doctype or bogus comment never closed).
    Ends,
    /// An end tag, doctype or bogus comment, this many bytes long.
    Until(usize),
    /// A stray `<`, which is text.
    Text,
}

/// Reads the markup at `rest` (at its `<`) that is not a start tag.
fn other_markup(rest: &[u8]) -> OtherMarkup {
    match rest.get(1) {
        Some(c) if c.is_ascii_alphabetic() => OtherMarkup::Ends,
        Some(b'/' | b'!' | b'?') => match rest.iter().position(|&c| c == b'>') {
            Some(gt) => OtherMarkup::Until(gt + 1),
            None => OtherMarkup::Ends,
        },
        _ => OtherMarkup::Text,
    }
}

/// The content a start tag opens, when it is a raw element's.
enum RawContent {
    /// Not a raw element, or a self-closing `<svg/>`.
    None,
    /// The content to cut, this many bytes long, and whether it is JSON-LD.
    Cut { len: usize, jsonld: bool },
    /// Never closed: it runs to the end of the document.
    ToTheEnd,
}

/// What `open_tag` (a whole start tag) opens, `after` being the document
/// past it.
fn raw_content(open_tag: &str, after: &str) -> RawContent {
    let Some(tag) = RAW_TAGS
        .iter()
        .find(|t| starts_tag(&open_tag.as_bytes()[1..], t))
    else {
        return RawContent::None;
    };
    // A self-closing `<svg … />` has no content to cut.
    if open_tag.ends_with("/>") && *tag == "svg" {
        return RawContent::None;
    }
    match find_close(after, tag) {
        Some(len) => RawContent::Cut {
            len,
            jsonld: *tag == "script" && is_jsonld(open_tag),
        },
        None => RawContent::ToTheEnd,
    }
}

/// The whitespace-only text between two block-level tags: a text node of
/// its own that nothing reads, one for every other tag of a real page.
/// Kept once an element whose whitespace is content (`<pre>`…) starts.
#[derive(Default)]
struct LayoutSpace {
    after_block: bool,
    content_started: bool,
}

impl LayoutSpace {
    /// Whether `between`, the text before the tag `rest` (at its `<`), is
    /// such layout; told every tag in order.
    fn cuts(&mut self, rest: &[u8], between: &[u8]) -> bool {
        let kind = space_kind(&rest[1..]);
        self.content_started |= kind == SpaceKind::Keeps;
        let block = kind == SpaceKind::Block;
        let cut = !self.content_started
            && block
            && self.after_block
            && !between.is_empty()
            && between.iter().all(|&c| is_html_space(c));
        self.after_block = block;
        cut
    }
}

/// Copies the start tag `tag` without the `dropped` attribute spans and,
/// past [`MAX_ATTRIBUTES`], ends it after the last attribute kept.
fn copy_kept_attributes(tag: &str, start: &StartTag, dropped: &[Range<usize>], out: &mut String) {
    let stop = start.kept.unwrap_or(tag.len());
    let mut from = 0;
    for span in dropped {
        out.push_str(&tag[from..span.start]);
        from = span.end;
    }
    out.push_str(&tag[from..stop]);
    if start.kept.is_some() {
        out.push_str(if tag.as_bytes()[start.end - 1] == b'/' {
            "/>"
        } else {
            ">"
        });
    }
}

/// Whether the extractor or the tree builder reads the attribute `name`.
fn is_read(name: &[u8]) -> bool {
    READ_ATTRIBUTES
        .iter()
        .any(|read| read.as_bytes().eq_ignore_ascii_case(name))
}

/// The length of the comment `s` starts with (at its `<!--`), as the HTML
/// tokenizer reads it: `<!-->` and `<!--->` end at once, others at the
/// first `-->` or `--!>`; `None` if the document ends inside it.
fn comment_end(s: &str) -> Option<usize> {
    let body = &s[4..];
    if body.starts_with('>') {
        return Some(5);
    }
    if body.starts_with("->") {
        return Some(6);
    }
    // One scan: each `--` either closes the comment or is text.
    let mut from = 0;
    while let Some(at) = body[from..].find("--") {
        let dashes = from + at;
        let after = &body.as_bytes()[dashes + 2..];
        if after.starts_with(b">") {
            return Some(4 + dashes + 3);
        }
        if after.starts_with(b"!>") {
            return Some(4 + dashes + 4);
        }
        from = dashes + 1;
    }
    None
}

/// Where the parts of a start tag lie, as offsets from its `<`.
struct StartTag {
    /// The attributes, from after the name to before the `>`.
    attributes: std::ops::Range<usize>,
    /// The `>` that ends the tag.
    end: usize,
    /// Past [`MAX_ATTRIBUTES`]: where the last attribute kept ends.
    kept: Option<usize>,
}

/// Reads the start tag at the beginning of `b` (at its `<`) as the HTML
/// tokenizer does; `None` for anything else, or a tag the document ends in.
/// With [`Attributes::Read`], `dropped` gets the spans (name to value end)
/// of the attributes to leave out, in order.
fn start_tag(
    b: &[u8],
    attributes: Attributes,
    dropped: &mut Vec<Range<usize>>,
) -> Option<StartTag> {
    dropped.clear();
    if !b.get(1).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let name_end = 1 + b[1..]
        .iter()
        .position(|&c| is_html_space(c) || c == b'/' || c == b'>')?;
    let mut k = name_end;
    let mut count = 0;
    let mut kept = None;
    loop {
        // Before an attribute name.
        while is_html_space(b[k]) || b[k] == b'/' {
            k += 1;
            if k == b.len() {
                return None;
            }
        }
        if b[k] == b'>' {
            break;
        }
        if count == MAX_ATTRIBUTES && kept.is_none() {
            kept = Some(k);
        }
        count += 1;
        let name_start = k;
        // The name: an `=` in first place belongs to it.
        k += 1 + b
            .get(k + 1..)?
            .iter()
            .position(|&c| is_html_space(c) || c == b'/' || c == b'>' || c == b'=')?;
        let drop = attributes == Attributes::Read && kept.is_none() && !is_read(&b[name_start..k]);
        let name_end = k;
        while is_html_space(b[k]) {
            k += 1;
            if k == b.len() {
                return None;
            }
        }
        if b[k] != b'=' {
            if drop {
                dropped.push(name_start..name_end);
            }
            continue;
        }
        k += 1;
        while k < b.len() && is_html_space(b[k]) {
            k += 1;
        }
        match *b.get(k)? {
            q @ (b'"' | b'\'') => {
                k += 2 + b.get(k + 1..)?.iter().position(|&c| c == q)?;
            }
            b'>' => {
                if drop {
                    dropped.push(name_start..k);
                }
                break;
            }
            _ => k += b[k..].iter().position(|&c| is_html_space(c) || c == b'>')?,
        }
        if drop {
            dropped.push(name_start..k);
        }
        if k == b.len() {
            return None;
        }
    }
    Some(StartTag {
        attributes: name_end..k,
        end: k,
        kept,
    })
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
        let p = prepare(html, Attributes::All);
        assert_eq!(p.jsonld, vec![r#"{"x":"</p>"}"#]);
        assert!(p.html.contains("<style></style>"));
        assert!(!p.html.contains("<!--"), "comments are cut: {}", p.html);
        assert!(p.html.contains(r#"<svg viewBox="0 0"></svg>"#));
        assert!(p.html.contains("<p>b</p>"));
        assert!(!p.html.contains("path"));
    }

    #[test]
    fn comments_end_where_the_tokenizer_ends_them() {
        for (html, kept) in [
            ("a<!-- x -->b", "ab"),
            ("a<!---->b", "ab"),
            ("a<!-->b", "ab"),
            ("a<!--->b", "ab"),
            ("a<!-- x --!>b", "ab"),
            ("a<!-- x -- y -->b", "ab"),
            ("a<!--[if IE]><p>old</p><![endif]-->b", "ab"),
            // Left to the parser, which reads a comment to the end.
            ("a<!-- never closed", "a<!-- never closed"),
        ] {
            assert_eq!(prepare(html, Attributes::All).html, kept, "{html}");
        }
    }

    #[test]
    fn pathological_nesting_is_cut() {
        let html = format!(
            "<p>kept</p>{}deep{}",
            "<div>".repeat(5000),
            "</div>".repeat(5000)
        );
        let p = prepare(&html, Attributes::All);
        assert!(p.html.starts_with("<p>kept</p>"));
        assert!(!p.html.contains("deep"));
        assert_eq!(
            p.html.matches("<div>").count(),
            super::super::nesting::MAX_DEPTH
        );
        // Balanced siblings never accumulate depth.
        let flat = "<div>x</div>".repeat(5000);
        assert_eq!(prepare(&flat, Attributes::All).html, flat);
    }

    #[test]
    fn a_start_tag_keeps_its_first_attributes_only() {
        let many: Vec<String> = (0..MAX_ATTRIBUTES + 50)
            .map(|k| format!("a{k}='>'"))
            .collect();
        let html = format!("<div {} >x</div><img {}/>", many.join(" "), many.join("\t"));
        let p = prepare(&html, Attributes::All).html;
        assert_eq!(p.matches("a1=").count(), 2);
        assert!(!p.contains(&format!("a{MAX_ATTRIBUTES}=")));
        assert!(p.contains(&format!("a{}='>' >x</div>", MAX_ATTRIBUTES - 1)));
        assert!(p.ends_with(&format!("a{}='>'\t/>", MAX_ATTRIBUTES - 1)));
        // Quotes count only in values: an apostrophe in a name is a name.
        let odd = "<p don't>a</p><p>b</p>";
        assert_eq!(prepare(odd, Attributes::All).html, odd);
    }

    #[test]
    fn attributes_nothing_reads_are_dropped_without_a_profile() {
        for (html, kept) in [
            (
                r#"<div data-x="1" class="a" style='b'>x</div>"#,
                r#"<div  class="a" >x</div>"#,
            ),
            // An unquoted value takes the `/`: the tag is not self-closing.
            ("<a href=x data-y=z/>", "<a href=x >"),
            ("<p DATA-X ID=b data-y=>y</p>", "<p  ID=b >y</p>"),
            ("<input\tdata-x type=hidden/>", "<input\t type=hidden/>"),
            (
                r#"<meta property="og:title" content="T">"#,
                r#"<meta property="og:title" content="T">"#,
            ),
        ] {
            assert_eq!(prepare(html, Attributes::Read).html, kept, "{html}");
            assert_eq!(prepare(html, Attributes::All).html, html);
        }
    }

    #[test]
    fn whitespace_between_blocks_is_cut_and_word_spaces_kept() {
        for (html, kept) in [
            (
                "<div>\n  <p>a</p>\n  <P class=x>b</p>\n</div>\n",
                "<div><p>a</p><P class=x>b</p></div>\n",
            ),
            (
                "<p><b>a</b> <i>b</i></p> <span>c</span>",
                "<p><b>a</b> <i>b</i></p> <span>c</span>",
            ),
            ("<li>a</li>\u{a0}<li>b</li>", "<li>a</li>\u{a0}<li>b</li>"),
            // Not a block: `<p-x>` is a name of its own.
            ("<p>a</p>\n<p-x>b</p-x>", "<p>a</p>\n<p-x>b</p-x>"),
            ("<p>a</p>\n<p\"x>b", "<p>a</p>\n<p\"x>b"),
            // From a `<pre>` on, whitespace may be content.
            (
                "<div>\n</div>\n<pre>\n<p>x</p>\n</pre>",
                "<div></div>\n<pre>\n<p>x</p>\n</pre>",
            ),
        ] {
            assert_eq!(prepare(html, Attributes::All).html, kept, "{html}");
        }
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
            "<p a=",
            "<p a='x",
            "<p a",
            "</p",
            "<p/",
            "a < b <!",
        ] {
            let _ = prepare(s, Attributes::All);
            let _ = prepare(s, Attributes::Read);
        }
    }
}
