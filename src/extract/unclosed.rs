//! Headings the markup never closes.
//!
//! The tree builder closes an open `<h1>`…`<h6>` only at a heading end tag,
//! another heading start tag right inside it, or the end of an element
//! around it. A page that forgets `</h1>` therefore puts every paragraph,
//! list and table that follows inside the headline: the title becomes the
//! whole article and the body loses its paragraphs. A browser still shows
//! all of that text, so the pre-parse pass asks [`HeadingWatch`] at every
//! tag and closes the heading before the first block that a heading cannot
//! hold (`<p>`, a list, a table, another heading…), once the heading has
//! text of its own: what it swallowed stays in the document as body text,
//! and the headline keeps its first line. A heading whose first content is
//! such a block (`<h1><p>Title</p></h1>`) is left alone.

/// Elements a heading never holds on a real page: each one starts the
/// body after a heading left open.
const BLOCKS: &[&[u8]] = &[
    b"p",
    b"ul",
    b"ol",
    b"dl",
    b"table",
    b"blockquote",
    b"pre",
    b"figure",
    b"form",
    b"hr",
    b"section",
    b"article",
    b"aside",
    b"address",
    b"fieldset",
    b"details",
    b"main",
    b"h1",
    b"h2",
    b"h3",
    b"h4",
    b"h5",
    b"h6",
];

/// The end tag that closes an open heading of each level.
const CLOSE: [&str; 6] = ["</h1>", "</h2>", "</h3>", "</h4>", "</h5>", "</h6>"];

/// A heading start tag seen and not yet closed.
#[derive(Clone, Copy)]
struct OpenHeading {
    /// 1 to 6.
    level: usize,
    /// Whether non-blank text has come since its start tag.
    has_text: bool,
}

/// Follows the last heading start tag up to its end tag.
///
/// Errs towards inserting: an end tag for a heading the parser has
/// already closed (by `</div>` around it, say) is a parse error it ignores.
#[derive(Default)]
pub(crate) struct HeadingWatch {
    open: Option<OpenHeading>,
}

impl HeadingWatch {
    /// Takes the text between the previous tag and this one and the tag
    /// itself (`rest` from just after its `<`); returns the end tag to
    /// insert before this tag, if it starts a block the open heading
    /// would swallow.
    pub(crate) fn tag(&mut self, text: &str, rest: &[u8]) -> Option<&'static str> {
        if let Some(open) = &mut self.open
            && !open.has_text
        {
            open.has_text = text.bytes().any(|c| !c.is_ascii_whitespace());
        }
        if let Some(end) = rest.strip_prefix(b"/") {
            if heading_level(tag_name(end)).is_some() {
                self.open = None;
            }
            return None;
        }
        let name = tag_name(rest);
        let close = match self.open {
            Some(open) if open.has_text && BLOCKS.iter().any(|b| b.eq_ignore_ascii_case(name)) => {
                self.open = None;
                Some(CLOSE[open.level - 1])
            }
            _ => None,
        };
        if let Some(level) = heading_level(name) {
            self.open = Some(OpenHeading {
                level,
                has_text: false,
            });
        }
        close
    }
}

/// The tag name at the start of `b` (as written, any case).
fn tag_name(b: &[u8]) -> &[u8] {
    let len = b
        .iter()
        .position(|c| !c.is_ascii_alphanumeric())
        .unwrap_or(b.len());
    &b[..len]
}

/// 1 to 6 for `h1` to `h6`.
fn heading_level(name: &[u8]) -> Option<usize> {
    match name {
        [h, d @ b'1'..=b'6'] if h.eq_ignore_ascii_case(&b'h') => Some(usize::from(d - b'0')),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The end tags the watch inserts over `html`, tag by tag.
    fn inserted(html: &str) -> Vec<&'static str> {
        let mut watch = HeadingWatch::default();
        let mut from = 0;
        let mut out = Vec::new();
        while let Some(off) = html[from..].find('<') {
            let lt = from + off;
            out.extend(watch.tag(&html[from..lt], &html.as_bytes()[lt + 1..]));
            from = lt + 1 + html[lt..].find('>').unwrap_or(0);
        }
        out
    }

    #[test]
    fn closes_a_heading_before_the_block_it_would_swallow() {
        assert_eq!(inserted("<h1>Title<p>a<p>b"), ["</h1>"]);
        assert_eq!(inserted("<H2><b>Title<UL><li>a"), ["</h2>"]);
        assert_eq!(inserted("<h3>Title<h4>Sub<table>"), ["</h3>", "</h4>"]);
    }

    #[test]
    fn leaves_closed_and_empty_headings_alone() {
        assert!(inserted("<h1>Title</h1><p>a").is_empty());
        assert!(inserted("<h1><p>Title</p></h1><p>a").is_empty());
        assert!(inserted("<h1> <span>Title</span><div>x</div></h1>").is_empty());
        assert!(inserted("<p>a<table>").is_empty());
    }
}
