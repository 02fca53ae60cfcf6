//! The Atom 1.0 feed of changes (`/changes.atom`).

use std::fmt::Write as _;

use chrono::{SecondsFormat, Utc};

use super::html::enc;
use super::query::Change;
use crate::diff::{count, escape_html as escape};

/// An Atom feed of changes; `base` is the interface's own origin.
pub fn atom(changes: &[Change], base: &str) -> String {
    let updated = changes.first().map_or_else(Utc::now, |c| c.changed_at);
    let mut out = String::new();
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <title>palimpsest: article changes</title>\n<id>{}/changes.atom</id>\n\
         <link rel=\"self\" href=\"{}/changes.atom\"/>\n<updated>{}</updated>\n\
         <generator version=\"{}\">palimpsest</generator>\n",
        escape(base),
        escape(base),
        updated.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        env!("CARGO_PKG_VERSION")
    );
    for c in changes {
        let diff = format!(
            "{base}/diff?url={}&a={}&b={}",
            enc(&c.url),
            c.version - 1,
            c.version
        );
        let title = c.title.clone().unwrap_or_else(|| c.url.clone());
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
