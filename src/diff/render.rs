//! Renderings of an [`ArticleDiff`]: terminal text (coloured, or with
//! `[-removed-]{+added+}` markers when not a terminal), and a standalone
//! HTML page a fact-checker can attach to a report.

use std::fmt::Write as _;

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

fn words_text(words: &[Words], colour: bool) -> String {
    let mut out = String::new();
    for w in words {
        let _ = match (w, colour) {
            (Words::Equal(t), _) => write!(out, "{t}"),
            (Words::Delete(t), true) => write!(out, "{RED}{t}{RESET}"),
            (Words::Insert(t), true) => write!(out, "{GREEN}{t}{RESET}"),
            (Words::Delete(t), false) => write!(out, "[-{t}-]"),
            (Words::Insert(t), false) => write!(out, "{{+{t}+}}"),
        };
    }
    out
}

/// Plain or coloured text.
pub fn text(d: &ArticleDiff, sides: &Sides, colour: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "--- {} ({})", sides.url, sides.old_label);
    let _ = writeln!(out, "+++ {} ({})", sides.url, sides.new_label);
    let field = |out: &mut String, name: &str, f: &FieldDiff| {
        if f.changed {
            let _ = writeln!(out, "{name}: {}", words_text(&f.words, colour));
        }
    };
    field(&mut out, "title", &d.title);
    field(&mut out, "authors", &d.authors);
    field(&mut out, "published", &d.published);
    field(&mut out, "modified", &d.modified);
    let mut same = 0;
    let flush_same = |out: &mut String, same: &mut usize| {
        if *same > 0 {
            let (dim, reset) = if colour { (DIM, RESET) } else { ("", "") };
            let _ = writeln!(out, "{dim}  … {same} unchanged paragraph(s){reset}");
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
    let _ = writeln!(
        out,
        "{} words added, {} words removed",
        d.words_added, d.words_removed
    );
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

fn words_html(words: &[Words]) -> String {
    let mut out = String::new();
    for w in words {
        let _ = match w {
            Words::Equal(t) => write!(out, "{}", escape_html(t)),
            Words::Delete(t) => write!(out, "<del>{}</del>", escape_html(t)),
            Words::Insert(t) => write!(out, "<ins>{}</ins>", escape_html(t)),
        };
    }
    out
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em;color:#222}\
del{background:#fdd;color:#900;text-decoration:line-through}ins{background:#dfd;color:#060;text-decoration:none}\
.p{margin:.8em 0;padding:.3em .6em;border-left:4px solid #ddd}.added{border-color:#3a3}.removed{border-color:#c33}\
.moved{border-color:#36c}.changed{border-color:#e90}.same{color:#777}dt{font-weight:bold}.meta{color:#555;font-size:.9em}";

/// A standalone HTML page: no scripts, no external resources.
pub fn html(d: &ArticleDiff, sides: &Sides) -> String {
    let mut out = String::new();
    let url = escape_html(&sides.url);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<title>Changes to {url}</title><style>{STYLE}</style></head><body>\n\
<h1>Changes to an article</h1><p class=\"meta\">{url}<br>from {} to {}<br>{} words added, {} words removed</p>\n<dl>",
        escape_html(&sides.old_label),
        escape_html(&sides.new_label),
        d.words_added,
        d.words_removed
    );
    for (name, f) in [
        ("Title", &d.title),
        ("Authors", &d.authors),
        ("Published", &d.published),
        ("Modified", &d.modified),
    ] {
        let body = if f.changed {
            words_html(&f.words)
        } else {
            format!(
                "{} <span class=\"meta\">(unchanged)</span>",
                escape_html(&f.new)
            )
        };
        let _ = write!(out, "<dt>{name}</dt><dd>{body}</dd>");
    }
    out.push_str("</dl>\n<h2>Body</h2>\n");
    for p in &d.body {
        let (class, note, content) = match p {
            Paragraph::Same { text } => ("same", String::new(), escape_html(text)),
            Paragraph::Added { text } => (
                "added",
                "added".into(),
                format!("<ins>{}</ins>", escape_html(text)),
            ),
            Paragraph::Removed { text } => (
                "removed",
                "removed".into(),
                format!("<del>{}</del>", escape_html(text)),
            ),
            Paragraph::Moved { text, from, to } => (
                "moved",
                format!("moved from paragraph {from} to {to}"),
                escape_html(text),
            ),
            Paragraph::Changed { words } => ("changed", "changed".into(), words_html(words)),
        };
        let note = if note.is_empty() {
            note
        } else {
            format!("<span class=\"meta\">{note}</span><br>")
        };
        let _ = writeln!(out, "<div class=\"p {class}\">{note}{content}</div>");
    }
    out.push_str("</body></html>\n");
    out
}

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
        assert!(t.contains("title: [-Old-]{+New+} title"), "{t}");
    }
}
