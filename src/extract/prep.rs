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
//! large share of a page's markup. For the same reason the values of
//! `class`, `id` and `href` move out of the markup into a table (see
//! [`Moved`]), and raw elements leave the document whole.

use std::ops::Range;

use super::dom::READ_ATTRIBUTES;
use super::nesting::{OpenElements, SpaceKind, Tag, TagName, Verdict, is_html_space};
use super::unclosed::HeadingWatch;

/// Attributes kept on one start tag; real tags carry a few dozen at most.
pub(crate) const MAX_ATTRIBUTES: usize = 100;

/// The HTML with heavy elements emptied, the JSON-LD script bodies, and
/// the attribute values moved out of the markup.
pub(crate) struct Prepared<'a> {
    pub html: String,
    pub jsonld: Vec<&'a str>,
    /// Values of `class`, `id` and `href` attributes, each replaced in
    /// `html` by its [`Moved`] alias holding its index here: the tokenizer
    /// reads attribute values a character at a time, and these are a third
    /// of a page's markup. `dom::Flat` puts them back.
    pub moved: Vec<&'a str>,
}

/// An attribute whose value `prepare` moves out of the markup, and the
/// alias that names its place. The aliases are attributes nothing else
/// keeps: without a profile every attribute not read is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Moved {
    Class,
    Id,
    Href,
}

impl Moved {
    pub(crate) const ALL: [Moved; 3] = [Moved::Class, Moved::Id, Moved::Href];

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Moved::Class => "class",
            Moved::Id => "id",
            Moved::Href => "href",
        }
    }

    pub(crate) fn alias(self) -> &'static str {
        match self {
            Moved::Class => "c",
            Moved::Id => "i",
            Moved::Href => "h",
        }
    }

    /// The moved attribute whose [`name_key`] is `key`.
    fn of(key: u128) -> Option<Moved> {
        const KEYS: [u128; Moved::ALL.len()] = {
            let mut keys = [0; Moved::ALL.len()];
            let mut i = 0;
            while i < keys.len() {
                keys[i] = name_key(Moved::ALL[i].name().as_bytes());
                i += 1;
            }
            keys
        };
        let at = KEYS.iter().position(|&k| k == key)?;
        Some(Moved::ALL[at])
    }
}

/// A change `prepare` makes to one attribute of a start tag; spans are
/// counted from the tag's `<`, from the name to the end of the value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Edit {
    /// Left out.
    Drop(Range<usize>),
    /// Its value (`value`, quotes excluded) moved out, its alias left.
    Move {
        span: Range<usize>,
        value: Range<usize>,
        moved: Moved,
    },
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
    let mut out = Output {
        html,
        written: String::with_capacity(html.len() / 2),
        copied: 0,
    };
    let mut jsonld = Vec::new();
    let mut moved = Vec::new();
    let mut open = OpenElements::default();
    let mut headings = HeadingWatch::default();
    let mut i = 0;
    let mut text_from = 0; // where the text after the last tag starts
    // As `text_from`, but past the content of a cut raw element.
    let mut visible_from = 0;
    // What changes in the current start tag's attributes.
    let mut edits: Vec<Edit> = Vec::new();
    let mut layout = LayoutSpace::default();
    while let Some(off) = memchr::memchr(b'<', &bytes[i..]) {
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
            i = lt + end;
            out.cut(lt, i);
            text_from = i;
            continue;
        }
        let name = TagName::read(&rest[1..]);
        if layout.cuts(&name, bytes.get(text_from..lt).unwrap_or_default())
            && out.copied <= text_from
        {
            out.cut(text_from, lt);
            text_from = lt;
        }
        let start = start_tag(rest, attributes, &mut edits);
        let mut after_text = text_from < lt;
        if let Some(close) = headings.tag(&html[visible_from.max(text_from)..lt], &rest[1..]) {
            // A heading left open before a block: see `unclosed`.
            out.copy_to(lt);
            if open.tag(&Tag::written(close, after_text)) == Verdict::Cut {
                out.copied = html.len();
                break;
            }
            out.written.push_str(close);
            after_text = false;
        }
        let raw = start
            .as_ref()
            .map_or(Raw::Absent, |start| raw_element(&html[lt..], start));
        if attributes == Attributes::Read
            && let Raw::Closed {
                whole: Some(whole), ..
            } = raw
        {
            // Nothing reads an emptied raw element without a profile: it
            // leaves the document whole, two tags fewer to parse.
            raw.content_end(&html[lt..], &mut jsonld);
            i = lt + whole;
            out.cut(lt, i);
            (text_from, visible_from) = (i, i);
            continue;
        }
        let tag = Tag {
            rest: &rest[1..],
            name,
            attributes: start.as_ref().map_or(&[], |t| &rest[t.attributes.clone()]),
            after_text,
        };
        let verdict = open.tag(&tag);
        if verdict == Verdict::Cut {
            // Cut the document here: see `nesting`.
            out.cut(lt, html.len());
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
        (i, text_from) = (content_start, content_start);
        let tag = StartTagAt {
            lt,
            start: &start,
            edits: &edits,
            raw: &raw,
        };
        match out.start_tag(&tag, verdict, &mut moved, &mut jsonld) {
            Written::Tag => {}
            Written::RawContentCut(end) => (i, visible_from) = (end, end),
            // Unclosed raw text runs to the end of the document anyway.
            Written::RawToTheEnd => break,
        }
    }
    out.copy_to(html.len());
    Prepared {
        html: out.written,
        jsonld,
        moved,
    }
}

/// The prepared document as it is written: the source copied through,
/// with cuts.
struct Output<'a> {
    html: &'a str,
    written: String,
    /// Bytes of `html` already copied to `written` or cut.
    copied: usize,
}

/// A start tag read at `lt`, what changes in its attributes, and what it
/// opens.
struct StartTagAt<'t> {
    lt: usize,
    start: &'t StartTag,
    edits: &'t [Edit],
    raw: &'t Raw,
}

/// What writing a start tag left to do.
enum Written {
    /// Nothing: the text after it comes next.
    Tag,
    /// The content of the raw element it opens was cut, up to here.
    RawContentCut(usize),
    /// It opens a raw element never closed: the rest is its text.
    RawToTheEnd,
}

impl<'a> Output<'a> {
    /// Writes (or, dropped by `verdict`, leaves out) a start tag with its
    /// attribute edits made (moved values go to `moved`), and cuts the
    /// content of a raw element it opens (JSON-LD goes to `jsonld`).
    fn start_tag(
        &mut self,
        tag: &StartTagAt<'_>,
        verdict: Verdict,
        moved: &mut Vec<&'a str>,
        jsonld: &mut Vec<&'a str>,
    ) -> Written {
        let lt = tag.lt;
        let content_start = lt + tag.start.end + 1;
        if verdict == Verdict::Drop {
            self.cut(lt, content_start);
            return Written::Tag;
        }
        if tag.start.kept.is_some() || !tag.edits.is_empty() {
            self.copy_to(lt);
            let source = &self.html[lt..content_start];
            copy_edited_tag(source, tag.start, tag.edits, moved, &mut self.written);
            self.copied = content_start;
        }
        if matches!(tag.raw, Raw::ToTheEnd) {
            return Written::RawToTheEnd;
        }
        let Some(end) = tag.raw.content_end(&self.html[lt..], jsonld) else {
            return Written::Tag;
        };
        self.cut(content_start, lt + end);
        Written::RawContentCut(lt + end)
    }

    /// Copies the source up to `at`.
    fn copy_to(&mut self, at: usize) {
        self.written.push_str(&self.html[self.copied..at]);
        self.copied = at;
    }

    /// Copies the source up to `at` and leaves out what follows up to `to`.
    fn cut(&mut self, at: usize, to: usize) {
        self.copy_to(at);
        self.copied = to;
    }
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
    /// Whether `between`, the text before the tag named `name`, is such
    /// layout; told every tag in order.
    fn cuts(&mut self, name: &TagName, between: &[u8]) -> bool {
        let kind = name.space_kind();
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

/// What a start tag opens, as far as raw elements go.
enum Raw {
    /// No raw element (or a self-closing `<svg/>`).
    Absent,
    /// A raw element never closed: it runs to the end of the document.
    ToTheEnd,
    /// A raw element and its content, as offsets from the start tag's `<`.
    Closed {
        content: Range<usize>,
        /// Its length, end tag included (`None` if that tag never ends).
        whole: Option<usize>,
        /// Whether the content is JSON-LD.
        jsonld: bool,
    },
}

impl Raw {
    /// The end of a closed raw element's content, `element` being the
    /// document from its `<`; a JSON-LD script's content goes to `jsonld`.
    fn content_end<'a>(&self, element: &'a str, jsonld: &mut Vec<&'a str>) -> Option<usize> {
        let Raw::Closed {
            content,
            jsonld: keep,
            ..
        } = self
        else {
            return None;
        };
        if *keep {
            jsonld.push(&element[content.clone()]);
        }
        Some(content.end)
    }
}

/// What the start tag `s` starts with (at its `<`, `start` read) opens.
fn raw_element(s: &str, start: &StartTag) -> Raw {
    let content_start = start.end + 1;
    match raw_content(&s[..content_start], &s[content_start..]) {
        RawContent::None => Raw::Absent,
        RawContent::ToTheEnd => Raw::ToTheEnd,
        RawContent::Cut { len, jsonld } => {
            let content = content_start..content_start + len;
            let whole = memchr::memchr(b'>', &s.as_bytes()[content.end..])
                .map(|close| content.end + close + 1);
            Raw::Closed {
                content,
                whole,
                jsonld,
            }
        }
    }
}

/// Copies the start tag `tag` with its attribute `edits` made (moved
/// values go to `moved`) and, past [`MAX_ATTRIBUTES`], ends it after the
/// last attribute kept.
fn copy_edited_tag<'a>(
    tag: &'a str,
    start: &StartTag,
    edits: &[Edit],
    moved: &mut Vec<&'a str>,
    out: &mut String,
) {
    let stop = start.kept.unwrap_or(tag.len());
    let mut from = 0;
    for edit in edits {
        match edit {
            Edit::Drop(span) => {
                out.push_str(&tag[from..span.start]);
                from = span.end;
            }
            Edit::Move {
                span,
                value,
                moved: which,
            } => {
                out.push_str(&tag[from..span.start]);
                out.push_str(which.alias());
                // Quoted: an unquoted value would take in a following `/`.
                out.push_str("=\"");
                push_decimal(moved.len(), out);
                out.push('"');
                moved.push(&tag[value.clone()]);
                from = span.end;
            }
        }
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

/// The longest name in [`READ_ATTRIBUTES`].
const READ_ATTRIBUTE_LEN: usize = 14;

/// An attribute name of at most 16 bytes, lower-cased, as one number whose
/// order is the names' (its bytes big-endian, zero-padded): a lookup that
/// compares integers instead of calling `memcmp`.
const fn name_key(name: &[u8]) -> u128 {
    let mut key = 0u128;
    let mut i = 0;
    while i < 16 {
        let byte = if i < name.len() { name[i] } else { 0 };
        key = key << 8 | byte.to_ascii_lowercase() as u128;
        i += 1;
    }
    key
}

/// [`READ_ATTRIBUTES`] as [`name_key`]s, in the same (sorted) order.
const READ_KEYS: [u128; READ_ATTRIBUTES.len()] = {
    let mut keys = [0; READ_ATTRIBUTES.len()];
    let mut i = 0;
    while i < keys.len() {
        keys[i] = name_key(READ_ATTRIBUTES[i].as_bytes());
        i += 1;
    }
    keys
};

/// Writes `n` in decimal: `write!` costs more than the rest of moving an
/// attribute.
fn push_decimal(mut n: usize, out: &mut String) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

/// Whether the extractor or the tree builder reads the attribute `name`.
#[cfg(test)]
fn is_read(name: &[u8]) -> bool {
    read_key(name).is_some()
}

/// The [`name_key`] of the attribute `name` if the extractor or the tree
/// builder reads it.
fn read_key(name: &[u8]) -> Option<u128> {
    let key = name_key(name);
    (name.len() <= READ_ATTRIBUTE_LEN && READ_KEYS.binary_search(&key).is_ok()).then_some(key)
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
    // One scan: each `--` either closes the comment or is text; two may
    // overlap (`--->`).
    let body = body.as_bytes();
    let mut from = 0;
    while let Some(at) = memchr::memchr(b'-', &body[from..]) {
        let dashes = from + at;
        from = dashes + 1;
        if body.get(dashes + 1) != Some(&b'-') {
            continue;
        }
        let after = &body[dashes + 2..];
        if after.starts_with(b">") {
            return Some(4 + dashes + 3);
        }
        if after.starts_with(b"!>") {
            return Some(4 + dashes + 4);
        }
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
/// With [`Attributes::Read`], `edits` gets the attributes to leave out or
/// to move, in order.
fn start_tag(b: &[u8], attributes: Attributes, edits: &mut Vec<Edit>) -> Option<StartTag> {
    edits.clear();
    if !b.get(1).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let name_end = 1 + b[1..]
        .iter()
        .position(|&c| is_html_space(c) || c == b'/' || c == b'>')?;
    let mut k = name_end;
    let mut count = 0;
    let mut kept = None;
    let mut seen = [false; Moved::ALL.len()];
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
        let fate = if attributes == Attributes::Read && kept.is_none() {
            Fate::of(&b[name_start..k], &mut seen)
        } else {
            Fate::Keep
        };
        let drop = fate == Fate::Drop;
        let name_end = k;
        while is_html_space(b[k]) {
            k += 1;
            if k == b.len() {
                return None;
            }
        }
        if b[k] != b'=' {
            if drop {
                edits.push(Edit::Drop(name_start..name_end));
            }
            continue;
        }
        k += 1;
        while k < b.len() && is_html_space(b[k]) {
            k += 1;
        }
        match *b.get(k)? {
            q @ (b'"' | b'\'') => {
                let value = k + 1..k + 1 + b.get(k + 1..)?.iter().position(|&c| c == q)?;
                k = value.end + 1;
                if let Fate::Move(moved) = fate
                    && is_movable(&b[value.clone()])
                {
                    let span = name_start..k;
                    edits.push(Edit::Move { span, value, moved });
                }
            }
            b'>' => {
                if drop {
                    edits.push(Edit::Drop(name_start..k));
                }
                break;
            }
            _ => k += b[k..].iter().position(|&c| is_html_space(c) || c == b'>')?,
        }
        if drop {
            edits.push(Edit::Drop(name_start..k));
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

/// What becomes of one attribute of a start tag without a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Keep,
    Drop,
    /// Moved out when its value is quoted and [`is_movable`].
    Move(Moved),
}

impl Fate {
    /// The fate of the attribute `name`, `seen` marking the moved kinds
    /// this tag has had: the tokenizer keeps the first of a repeated name.
    fn of(name: &[u8], seen: &mut [bool; Moved::ALL.len()]) -> Fate {
        let Some(key) = read_key(name) else {
            return Fate::Drop;
        };
        let Some(moved) = Moved::of(key) else {
            return Fate::Keep;
        };
        if std::mem::replace(&mut seen[moved as usize], true) {
            Fate::Drop
        } else {
            Fate::Move(moved)
        }
    }
}

/// Whether a quoted attribute value reaches the tree as it is written (no
/// character reference, carriage return or NUL for the tokenizer to
/// change), and is long enough to be worth moving.
fn is_movable(value: &[u8]) -> bool {
    value.len() >= 4 && memchr::memchr3(b'&', b'\r', b'\0', value).is_none()
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
    memchr::memchr_iter(b'<', b)
        .find(|&p| b.get(p + 1) == Some(&b'/') && starts_tag(&b[p + 2..], tag))
}

fn is_jsonld(open_tag: &str) -> bool {
    open_tag.to_ascii_lowercase().contains("ld+json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_attributes_are_sorted_for_their_lookup() {
        assert!(READ_ATTRIBUTES.is_sorted() && READ_KEYS.is_sorted());
        let longest = READ_ATTRIBUTES.iter().map(|a| a.len()).max();
        assert_eq!(longest, Some(READ_ATTRIBUTE_LEN));
        assert!(is_read(b"CLASS") && is_read(b"shadowrootmode") && is_read(b"xml:lang"));
        assert!(!is_read(b"data-x") && !is_read(b"shadowrootmodes") && !is_read(b""));
    }

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
            ("a<!-- x --->b", "ab"),
            ("a<!-- x ----!>b", "ab"),
            ("a<!-- x -", "a<!-- x -"),
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
    fn raw_elements_leave_whole_without_a_profile() {
        let html = concat!(
            r#"<p>a</p><SCRIPT type="application/ld+json">{"x":"</p>"}</script >"#,
            r#"<style>p{}</style><noscript><img></noscript><svg><path/></svg><svg/><p>b</p>"#,
            r#"<script src="x.js">"#,
        );
        let p = prepare(html, Attributes::Read);
        assert_eq!(p.jsonld, vec![r#"{"x":"</p>"}"#]);
        assert_eq!(p.html, "<p>a</p><svg/><p>b</p><script >");
        // An end tag the document ends in: the element stays, its JSON-LD
        // is kept once.
        let cut = r#"<script type="application/ld+json">{"a":1}</script "#;
        for attributes in [Attributes::Read, Attributes::All] {
            assert_eq!(prepare(cut, attributes).jsonld, vec![r#"{"a":1}"#]);
        }
    }

    #[test]
    fn class_id_and_href_values_move_out_of_the_markup_and_come_back() {
        let html = concat!(
            r#"<div class="article-body" ID='main' c="9"><a href="https://x.test/a?b=1">x</a>"#,
            r#"<a href="/q?a=1&amp;b=2" class="x">y</a><p class="first" class="second">z</p>"#,
            r#"<p class="tail" h="0"/></div><script>var a = "<b>";</script><svg/>"#,
        );
        let p = prepare(html, Attributes::Read);
        assert_eq!(
            p.html,
            concat!(
                r#"<div c="0" i="1" ><a h="2">x</a>"#,
                r#"<a href="/q?a=1&amp;b=2" class="x">y</a><p c="3" >z</p>"#,
                r#"<p c="4" /></div><svg/>"#,
            )
        );
        let doc = scraper::Html::parse_document(&p.html);
        let flat = super::super::dom::Flat::new(&doc, &p.moved);
        let attrs: Vec<_> = flat
            .nodes
            .iter()
            .filter(|n| matches!(n.tag(), "div" | "a" | "p"))
            .map(|n| (n.attr("class"), n.attr("id"), n.attr("href")))
            .collect();
        assert_eq!(
            attrs,
            [
                (Some("article-body"), Some("main"), None),
                (None, None, Some("https://x.test/a?b=1")),
                (Some("x"), None, Some("/q?a=1&b=2")),
                (Some("first"), None, None),
                (Some("tail"), None, None),
            ]
        );
        // With a profile nothing moves: its selectors read the markup.
        let all = prepare(html, Attributes::All);
        assert!(all.moved.is_empty() && all.html.contains(r#"class="article-body""#));
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
