//! Renderings of an [`ArticleDiff`]: terminal text (coloured, or with
//! `[-removed-]{+added+}` markers when not a terminal), and a standalone
//! HTML page a fact-checker can attach to a report.

use std::fmt::Write as _;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{ArticleDiff, FieldDiff, Paragraph, Words};

/// What the two sides of a diff are.
#[derive(Debug, Clone)]
pub struct Sides {
    pub url: String,
    pub old_label: String,
    pub new_label: String,
}

const RED: &str = "\x1b[31;9m";
const GREEN: &str = "\x1b[32;1m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// What every rendering says when nothing a reader sees differs.
pub const IDENTICAL: &str = "The two versions are identical.";

/// `1 word`, `2 words`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `3 words added, 1 word removed`, or that nothing differs.
pub fn summary(d: &ArticleDiff) -> String {
    if d.is_empty() {
        return IDENTICAL.to_string();
    }
    format!(
        "{} added, {} removed",
        count(d.words_added, "word"),
        count(d.words_removed, "word")
    )
}

/// One piece of a rendered word diff. Every rendering walks the same
/// pieces, so the text and the HTML of a diff mark the same words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'a> {
    Same(&'a str),
    Old(&'a str),
    New(&'a str),
    /// A space between a deletion and the insertion replacing it, so the
    /// two phrases do not read as one word.
    Gap,
}

fn pieces(words: &[Words]) -> Vec<Piece<'_>> {
    let mut out = Vec::with_capacity(words.len() + 1);
    for (i, w) in words.iter().enumerate() {
        match w {
            Words::Equal(t) => out.push(Piece::Same(t)),
            Words::Delete(t) => out.push(Piece::Old(t)),
            Words::Insert(t) => {
                if let Some(Words::Delete(old)) = i.checked_sub(1).map(|j| &words[j])
                    && !old.ends_with(char::is_whitespace)
                    && !t.starts_with(char::is_whitespace)
                {
                    out.push(Piece::Gap);
                }
                out.push(Piece::New(t));
            }
        }
    }
    out
}

fn words_text(words: &[Words], colour: bool) -> String {
    let mut out = String::new();
    for piece in pieces(words) {
        let _ = match (piece, colour) {
            (Piece::Same(t), _) => write!(out, "{t}"),
            (Piece::Gap, _) => write!(out, " "),
            (Piece::Old(t), true) => write!(out, "{RED}{t}{RESET}"),
            (Piece::New(t), true) => write!(out, "{GREEN}{t}{RESET}"),
            (Piece::Old(t), false) => write!(out, "[-{t}-]"),
            (Piece::New(t), false) => write!(out, "{{+{t}+}}"),
        };
    }
    out
}

/// The short fields, by the name a reader knows them by.
fn fields(d: &ArticleDiff) -> [(&'static str, &FieldDiff); 4] {
    [
        ("title", &d.title),
        ("authors", &d.authors),
        ("published", &d.published),
        ("modified", &d.modified),
    ]
}

/// `title` → `Title`.
fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Plain or coloured text.
pub fn text(d: &ArticleDiff, sides: &Sides, colour: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "--- {} ({})", sides.url, sides.old_label);
    let _ = writeln!(out, "+++ {} ({})", sides.url, sides.new_label);
    if d.is_empty() {
        let _ = writeln!(out, "{IDENTICAL}");
        return out;
    }
    for (name, f) in fields(d) {
        if f.changed {
            let _ = writeln!(out, "{name}: {}", words_text(&f.words, colour));
        }
    }
    let mut same = 0;
    let flush_same = |out: &mut String, same: &mut usize| {
        if *same > 0 {
            let (dim, reset) = if colour { (DIM, RESET) } else { ("", "") };
            let _ = writeln!(
                out,
                "{dim}  … {} unchanged{reset}",
                count(*same, "paragraph")
            );
            *same = 0;
        }
    };
    for p in &d.body {
        let line = match p {
            Paragraph::Same { .. } => {
                same += 1;
                continue;
            }
            Paragraph::Added { text } => {
                format!(
                    "+ added: {}",
                    words_text(&[Words::Insert(text.clone())], colour)
                )
            }
            Paragraph::Removed { text } => {
                format!(
                    "- removed: {}",
                    words_text(&[Words::Delete(text.clone())], colour)
                )
            }
            Paragraph::Moved { text, from, to } => {
                format!("~ moved from paragraph {from} to {to}: {text}")
            }
            Paragraph::Changed { words } => format!("* changed: {}", words_text(words, colour)),
        };
        flush_same(&mut out, &mut same);
        let _ = writeln!(out, "{line}");
    }
    flush_same(&mut out, &mut same);
    let _ = writeln!(out, "{}", summary(d));
    out
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The styles of the diff markup, shared by the standalone page and the
/// web interface.
pub const STYLE: &str = "\
del{background:#fdd;color:#900;text-decoration:line-through}ins{background:#dfd;color:#060;text-decoration:none}\
.p{margin:.6em 0;padding:.3em .6em;border-left:4px solid #ddd}.added{border-color:#3a3}.removed{border-color:#c33}\
.moved{border-color:#36c}.changed{border-color:#e90}.same{color:#555}.meta{color:#555;font-size:.9em}\
.callout{background:#fff3cd;padding:.5em 1em;border-left:4px solid #e90}\
.cols{display:grid;grid-template-columns:1fr 1fr;gap:1em}";

fn words_markup(words: &[Words]) -> Markup {
    html! {
        @for piece in pieces(words) {
            @match piece {
                Piece::Same(t) => (t),
                Piece::Gap => " ",
                Piece::Old(t) => del { (t) },
                Piece::New(t) => ins { (t) },
            }
        }
    }
}

/// The changed short fields (headline, authors, dates), one callout each;
/// unchanged ones are not shown.
pub fn fields_html(d: &ArticleDiff) -> Markup {
    html! {
        @for (name, f) in fields(d) {
            @if f.changed {
                p.callout.field-change { strong { (capitalized(name)) " changed: " } (words_markup(&f.words)) }
            }
        }
    }
}

/// The body, every paragraph in its new place with its changes marked.
pub fn inline_html(d: &ArticleDiff) -> Markup {
    html! {
        @if d.is_empty() { p.identical { (IDENTICAL) } }
        div id="inline" {
            @for p in &d.body {
                @match p {
                    Paragraph::Same { text } => div.p.same { (text) },
                    Paragraph::Added { text } => div.p.added { span.meta { "added" } br; ins { (text) } },
                    Paragraph::Removed { text } => div.p.removed { span.meta { "removed" } br; del { (text) } },
                    Paragraph::Changed { words } => div.p.changed { (words_markup(words)) },
                    Paragraph::Moved { text, from, to } => div.p.moved {
                        span.meta { "moved from paragraph " (from) " to " (to) } br; (text)
                    },
                }
            }
        }
    }
}

/// Which version a side-by-side column shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Old,
    New,
}

/// One column of a side-by-side view: that version's paragraphs, with the
/// words only it has marked.
pub fn side_html(d: &ArticleDiff, side: Side) -> Markup {
    let keep = |w: &&Words| match side {
        Side::Old => !matches!(w, Words::Insert(_)),
        Side::New => !matches!(w, Words::Delete(_)),
    };
    html! {
        @for p in &d.body {
            @match (p, side) {
                (Paragraph::Same { text }, _) => div.p.same { (text) },
                (Paragraph::Removed { text }, Side::Old) => div.p.removed { del { (text) } },
                (Paragraph::Added { text }, Side::New) => div.p.added { ins { (text) } },
                (Paragraph::Removed { .. }, Side::New) | (Paragraph::Added { .. }, Side::Old) => {}
                (Paragraph::Changed { words }, _) => {
                    @let kept: Vec<Words> = words.iter().filter(keep).cloned().collect();
                    div.p.changed { (words_markup(&kept)) }
                }
                (Paragraph::Moved { text, from, .. }, Side::Old) => div.p.moved {
                    span.meta { "moved from here (paragraph " (from) ")" } br; (text)
                },
                (Paragraph::Moved { text, to, .. }, Side::New) => div.p.moved {
                    span.meta { "moved here (paragraph " (to) ")" } br; (text)
                },
            }
        }
    }
}

/// A standalone HTML page: no scripts, no external resources.
pub fn html(d: &ArticleDiff, sides: &Sides) -> String {
    let title = if d.title.new.is_empty() {
        sides.url.as_str()
    } else {
        d.title.new.as_str()
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'";
                title { "Changes to " (title) }
                style { (PreEscaped(PAGE_STYLE)) (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Changes to " (title) }
                p.meta { (sides.url) br; "from " (sides.old_label) " to " (sides.new_label) br; (summary(d)) }
                (fields_html(d))
                (inline_html(d))
            }
        }
    }
    .into_string()
}

const PAGE_STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em;color:#222}";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::Article;

    #[test]
    fn archived_markup_is_escaped_in_html() {
        let a = Article {
            title: Some("<script>alert(1)</script>".into()),
            text: "x".into(),
            ..Default::default()
        };
        let b = Article {
            title: Some("<img src=x onerror=alert(1)>".into()),
            text: "x".into(),
            ..Default::default()
        };
        let sides = Sides {
            url: "http://a.test/\"><script>".into(),
            old_label: "version 1".into(),
            new_label: "version 2".into(),
        };
        let page = html(&super::super::diff(&a, &b), &sides);
        assert!(!page.contains("<script>"));
        assert!(!page.contains("<img"));
        assert!(page.contains("&lt;script&gt;"));
    }

    #[test]
    fn plain_text_marks_words() {
        let a = Article {
            title: Some("Old title".into()),
            ..Default::default()
        };
        let b = Article {
            title: Some("New title".into()),
            ..Default::default()
        };
        let sides = Sides {
            url: "u".into(),
            old_label: "1".into(),
            new_label: "2".into(),
        };
        let t = text(&super::super::diff(&a, &b), &sides, false);
        assert!(t.contains("title: [-Old-] {+New+} title"), "{t}");
    }
}
