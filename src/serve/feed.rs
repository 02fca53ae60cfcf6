//! The Atom 1.0 feed of changes (`/changes.atom`).

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use super::html::enc;
use crate::diff::{count, escape_html as escape};
use crate::query::{Change, Pages, SourceEdit};

/// An Atom feed of the changes to `pages`; `base` is the interface's own
/// origin; a feed of no changes is dated `now`. Each feed is named, and
/// identified, by what it lists.
pub fn atom(changes: &[Change], base: &str, pages: Pages, now: DateTime<Utc>) -> String {
    let (title, path) = match pages {
        Pages::Articles => ("article changes", "/changes.atom"),
        Pages::All => ("changes to every page", "/changes.atom?all=1"),
    };
    let itself = escape(&format!("{base}{path}"));
    let updated = changes.first().map_or(now, |c| c.changed_at);
    let mut out = String::new();
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <title>palimpsest: {title}</title>\n<id>{itself}</id>\n\
         <link rel=\"self\" href=\"{itself}\"/>\n<updated>{}</updated>\n\
         <generator version=\"{}\">palimpsest</generator>\n",
        updated.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        env!("CARGO_PKG_VERSION")
    );
    for c in changes {
        let title = c.title.clone().unwrap_or_else(|| c.url.clone());
        if let Some(edit) = &c.source {
            source_edited_entry(&mut out, c, edit, &title, base);
            continue;
        }
        let diff = format!(
            "{base}/diff?url={}&a={}&b={}",
            enc(&c.url),
            c.version - 1,
            c.version
        );
        let _ = write!(
            out,
            "<entry>\n<title>{} (version {})</title>\n<id>{}</id>\n<link href=\"{}\"/>\n<updated>{}</updated>\n\
             <author><name>palimpsest</name></author>\n<summary>{} changed: {} added, {} removed</summary>\n</entry>\n",
            escape(&title),
            c.version,
            escape(&diff),
            escape(&diff),
            c.changed_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            escape(&c.url),
            count(c.words_added, "word"),
            count(c.words_removed, "word")
        );
    }
    out.push_str("</feed>\n");
    out
}

/// An entry saying a source `c` cites was edited after `c` appeared; it
/// links the source's diff and is identified by both pages and the version.
fn source_edited_entry(out: &mut String, c: &Change, edit: &SourceEdit, title: &str, base: &str) {
    let diff = format!(
        "{base}/diff?url={}&a={}&b={}",
        enc(&edit.source),
        edit.version - 1,
        edit.version
    );
    let id = format!("{diff}&cited-by={}", enc(&c.url));
    let _ = write!(
        out,
        "<entry>\n<title>Source edited: {} (its source, version {})</title>\n<id>{}</id>\n\
         <link href=\"{}\"/>\n<updated>{}</updated>\n<author><name>palimpsest</name></author>\n\
         <category term=\"source-edited\"/>\n\
         <summary>{} cites {}, edited {} after it appeared: {} added, {} removed</summary>\n</entry>\n",
        escape(title),
        edit.version,
        escape(&id),
        escape(&diff),
        c.changed_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        escape(&c.url),
        escape(&edit.source),
        edit.delay(),
        count(edit.words_added, "word"),
        count(edit.words_removed, "word")
    );
}
