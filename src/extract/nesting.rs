//! A cheap estimate of the HTML tree builder's stack of open elements.
//!
//! The tree builder searches its stack of open elements for almost every
//! tag, so its cost grows with nesting depth times tag count: 80 000 nested
//! elements of any kind take seconds, a 10 MiB page of them hours. The
//! pre-parse pass feeds every tag to [`OpenElements`], which follows the
//! parser's main rules (void elements, end tags that close what they name
//! unless a scope boundary stands between, start tags that close an open
//! `p`, `li`, `td`, `option`…), and cuts the document where the estimate
//! passes [`MAX_DEPTH`] or the tag count passes [`MAX_TAGS`]. Where the
//! estimate is unsure it counts an element as still open: a hostile page
//! can make it err only towards cutting early.

/// Estimated depth past which the rest of a document is dropped; real
/// pages stay below a few hundred.
pub(crate) const MAX_DEPTH: usize = 1024;

/// Start tags past which the rest of a document is dropped: with
/// [`MAX_DEPTH`], this bounds the tree builder's work on any input. The
/// largest real article pages have a few tens of thousands.
pub(crate) const MAX_TAGS: usize = 250_000;

/// How far down the stack an end tag looks for the element it closes:
/// bounds this pass's own work. Not found within it, the tag is taken to
/// close nothing.
const SEARCH_WINDOW: usize = 64;

/// Tag names are compared on their first bytes only.
const NAME_LEN: usize = 16;

#[derive(Clone, Copy, PartialEq, Eq)]
struct Name {
    bytes: [u8; NAME_LEN],
    /// Bytes used in `bytes`: kept so that comparing against a list of
    /// names does not look for the end again for each of them.
    len: u8,
}

impl Name {
    /// The lower-cased tag name at the start of `b` (just after `<` or `</`).
    fn read(b: &[u8]) -> Option<Name> {
        let len = b
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'-' || *c == b':'))
            .unwrap_or(b.len());
        if len == 0 || !b[0].is_ascii_alphabetic() {
            return None;
        }
        let mut bytes = [0; NAME_LEN];
        for (dst, src) in bytes.iter_mut().zip(&b[..len]) {
            *dst = src.to_ascii_lowercase();
        }
        Some(Name {
            bytes,
            len: len.min(NAME_LEN) as u8,
        })
    }

    fn as_str(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    fn is(&self, names: &[&str]) -> bool {
        let me = self.as_str();
        names.iter().any(|n| n.as_bytes() == me)
    }
}

/// Elements that never have content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr", "frame", "basefont", "bgsound", "image",
];

/// Singletons the parser never stacks twice.
const ROOTS: &[&str] = &["html", "head", "body"];

/// Elements that stop the search for an open element named by a special
/// end tag (the parser's "in scope").
const SCOPE_BOUNDARY: &[&str] = &[
    "applet", "caption", "html", "table", "td", "th", "marquee", "object", "template", "button",
];

/// The parser's "special" elements: an end tag of any other element does
/// not close past one of them.
const SPECIAL: &[&str] = &[
    "address",
    "applet",
    "area",
    "article",
    "aside",
    "base",
    "basefont",
    "bgsound",
    "blockquote",
    "body",
    "br",
    "button",
    "caption",
    "center",
    "col",
    "colgroup",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "embed",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hgroup",
    "hr",
    "html",
    "iframe",
    "img",
    "input",
    "li",
    "link",
    "listing",
    "main",
    "marquee",
    "menu",
    "meta",
    "nav",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "ol",
    "p",
    "param",
    "plaintext",
    "pre",
    "script",
    "search",
    "section",
    "select",
    "source",
    "style",
    "summary",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "track",
    "ul",
    "wbr",
    "xmp",
];

/// Start tags that close an open `p` first.
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "header",
    "hgroup",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "search",
    "section",
    "summary",
    "ul",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "listing",
    "form",
    "table",
    "xmp",
    "li",
    "dd",
    "dt",
];

const HEADINGS: &[&str] = &["h1", "h2", "h3", "h4", "h5", "h6"];

/// Table structure, whose end tags look for their element in table scope.
const TABLE_PARTS: &[&str] = &[
    "table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption", "colgroup",
];

/// Where the search for an element to close gives up.
#[derive(Clone, Copy)]
enum Stop {
    Names(&'static [&'static str]),
    /// A scope boundary.
    Boundary,
    /// Any special element.
    Special,
}

impl Stop {
    fn holds(self, open: &Open) -> bool {
        match self {
            Stop::Names(names) => open.name.is(names),
            Stop::Boundary => open.boundary,
            Stop::Special => open.special,
        }
    }
}

#[derive(Clone, Copy)]
struct Open {
    name: Name,
    special: bool,
    boundary: bool,
}

/// What the caller should do with the document after a tag.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Go,
    /// Drop the document from this tag on.
    Cut,
}

/// The estimated stack of open elements, fed one tag at a time.
#[derive(Default)]
pub(crate) struct OpenElements {
    stack: Vec<Open>,
    tags: usize,
}

impl OpenElements {
    /// Takes the tag at the start of `b` (just after `<`).
    pub(crate) fn tag(&mut self, b: &[u8]) -> Verdict {
        match b.first() {
            Some(b'/') => {
                if let Some(name) = Name::read(&b[1..]) {
                    self.end(name);
                }
                Verdict::Go
            }
            _ => match Name::read(b) {
                // Foreign elements honour `/>`; HTML ones ignore it.
                Some(name) if name.is(&["svg", "math"]) && self_closing(b) => Verdict::Go,
                Some(name) => self.start(name),
                None => Verdict::Go,
            },
        }
    }

    fn start(&mut self, name: Name) -> Verdict {
        self.tags += 1;
        if self.tags > MAX_TAGS {
            return Verdict::Cut;
        }
        if name.is(VOID) || name.is(ROOTS) {
            return Verdict::Go;
        }
        // `<div/>` opens a `div` in HTML: the slash is ignored.
        self.close_implied_by(name);
        self.stack.push(Open {
            name,
            special: name.is(SPECIAL),
            boundary: name.is(SCOPE_BOUNDARY),
        });
        if self.stack.len() > MAX_DEPTH {
            Verdict::Cut
        } else {
            Verdict::Go
        }
    }

    /// The elements a start tag closes before it opens (implied end tags).
    fn close_implied_by(&mut self, name: Name) {
        if name.is(CLOSES_P) {
            self.close_within(&["p"], Stop::Boundary);
        }
        if name.is(&["li"]) {
            self.close_within(&["li"], Stop::Names(&["ul", "ol", "table"]));
        } else if name.is(&["dd", "dt"]) {
            self.close_within(&["dd", "dt"], Stop::Names(&["dl", "table"]));
        } else if name.is(&["td", "th"]) {
            self.close_within(&["td", "th"], Stop::Names(&["tr", "table"]));
        } else if name.is(&["tr"]) {
            self.close_within(&["tr"], Stop::Names(&["table"]));
        } else if name.is(&["tbody", "thead", "tfoot"]) {
            self.close_within(&["tbody", "thead", "tfoot"], Stop::Names(&["table"]));
        } else if name.is(&["option", "optgroup"]) {
            self.close_within(&["option"], Stop::Names(&["select"]));
        } else if name.is(&["a", "nobr", "button"]) {
            // A second `<a>` ends the first (the parser's adoption agency).
            self.close_named(name, Stop::Special);
        }
        if name.is(HEADINGS) && self.stack.last().is_some_and(|o| o.name.is(HEADINGS)) {
            self.stack.pop();
        }
    }

    /// Closes the nearest open element named in `targets`, unless an
    /// element where `stop` holds comes first.
    fn close_within(&mut self, targets: &[&str], stop: Stop) {
        let depth = self.stack.len();
        for k in (depth.saturating_sub(SEARCH_WINDOW)..depth).rev() {
            let open = self.stack[k];
            if open.name.is(targets) {
                self.stack.truncate(k);
                return;
            }
            if stop.holds(&open) {
                return;
            }
        }
    }

    fn end(&mut self, name: Name) {
        // A table part's end tag closes past anything but another table; any
        // other special end tag past anything but a scope boundary; the end
        // tag of any other element stops at the first special element.
        let stop = if name.is(TABLE_PARTS) {
            Stop::Names(&["table", "template", "html"])
        } else if name.is(SPECIAL) {
            Stop::Boundary
        } else {
            Stop::Special
        };
        self.close_named(name, stop);
    }

    /// Closes the nearest open `name`, unless an element where `stop`
    /// holds comes first.
    fn close_named(&mut self, name: Name, stop: Stop) {
        let depth = self.stack.len();
        for k in (depth.saturating_sub(SEARCH_WINDOW)..depth).rev() {
            let open = self.stack[k];
            if open.name == name {
                self.stack.truncate(k);
                return;
            }
            if stop.holds(&open) {
                return;
            }
        }
    }
}

/// Whether the start tag at the start of `b` ends with `/>`.
fn self_closing(b: &[u8]) -> bool {
    // A tag longer than this is no real `<svg/>`: taken as open.
    let b = &b[..b.len().min(1024)];
    let end = b.iter().position(|&c| c == b'>').unwrap_or(b.len());
    end > 0 && b[end - 1] == b'/'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_after(html: &str) -> usize {
        let mut open = OpenElements::default();
        let bytes = html.as_bytes();
        for (i, _) in html.match_indices('<') {
            open.tag(&bytes[i + 1..]);
        }
        open.stack.len()
    }

    #[test]
    fn closed_and_implied_elements_leave_the_stack() {
        assert_eq!(depth_after("<div><p>a<b>b</b></p></div>"), 0);
        assert_eq!(depth_after("<ul><li>a<li>b<li>c</ul>"), 0);
        assert_eq!(depth_after("<table><tr><td><font>x<td><font>y</table>"), 0);
        assert_eq!(depth_after("<p>a<p>b<div>c</div>"), 0);
        assert_eq!(depth_after("<select><option>a<option>b</select>"), 0);
        assert_eq!(depth_after("<br><img src=x><hr/><svg/><math />"), 0);
        // In HTML, `<div/>` opens a `div`.
        assert_eq!(depth_after("<div/><div/>"), 2);
    }

    #[test]
    fn an_end_tag_does_not_close_past_a_boundary() {
        // The parser ignores `</nav>` here: the `object` stays open, and so
        // does the `nav`.
        assert_eq!(depth_after("<nav><object></nav>"), 2);
        // `</b>` does not close past the `div` either.
        assert_eq!(depth_after("<b><div></b>"), 2);
        assert_eq!(depth_after("<x-a><x-b><object></x-a></x-b>"), 3);
    }

    #[test]
    fn deep_nesting_of_any_element_is_counted() {
        for tag in [
            "nav", "aside", "figure", "dl", "details", "b", "font", "x-custom",
        ] {
            let html = format!("<{tag}>").repeat(MAX_DEPTH + 5);
            assert_eq!(depth_after(&html), MAX_DEPTH + 5, "{tag}");
        }
    }
}
