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
//!
//! The parser also keeps a list of active formatting elements (`b`, `i`,
//! `font`, `a`…) and opens again, at each run of text or inline tag, every
//! one of them that a block closed without its own end tag: `<p><b id=1>x
//! <p><b id=2>x…` rebuilds all earlier `b`s in each paragraph, quadratic
//! work (4 000 paragraphs: 8 million elements, 2 GB). [`OpenElements`]
//! follows that list too ([`Formatting`]): a formatting start tag past
//! [`MAX_FORMATTING`] list entries is dropped, and the document is cut
//! where the elements rebuilt pass [`MAX_REBUILT`]. Where it cannot tell
//! whether an entry is still open, it counts it as rebuilt.

/// Estimated depth past which the rest of a document is dropped; real
/// pages stay below a few hundred.
pub(crate) const MAX_DEPTH: usize = 1024;

/// Start tags past which the rest of a document is dropped: with
/// [`MAX_DEPTH`], this bounds the tree builder's work on any input. The
/// largest real article pages have a few tens of thousands.
pub(crate) const MAX_TAGS: usize = 250_000;

/// Active formatting elements (since the last marker) past which a new
/// formatting start tag is dropped; real pages keep a handful.
pub(crate) const MAX_FORMATTING: usize = 32;

/// Formatting elements the parser may rebuild in one document before the
/// rest of it is dropped: each costs an element (some 300 bytes, a
/// microsecond or two). Sloppy real pages (an unclosed `<font>` over
/// thousands of paragraphs) rebuild tens of thousands.
pub(crate) const MAX_REBUILT: usize = 200_000;

/// How far down the stack an end tag looks for the element it closes:
/// bounds this pass's own work. Not found within it, the tag is taken to
/// close nothing. It reaches past a full set of reopened formatting
/// elements.
const SEARCH_WINDOW: usize = 64 + MAX_FORMATTING;

/// Tag names are compared on their first bytes only.
const NAME_LEN: usize = 16;

#[derive(Clone, Copy, PartialEq, Eq)]
struct Name {
    bytes: [u8; NAME_LEN],
    /// Bytes used in `bytes`: kept so that comparing against a list of
    /// names does not look for the end again for each of them.
    len: u8,
    /// The named lists the name is on, one bit a [`List`], looked up once:
    /// every tag is checked against several long lists.
    lists: u16,
}

/// The named lists of tag names, each a bit of [`Name::lists`].
#[derive(Clone, Copy)]
enum List {
    Void,
    Roots,
    ScopeBoundary,
    Special,
    ClosesP,
    Headings,
    TableParts,
    Formatting,
    Markers,
    Rebuilds,
    LayoutBlocks,
    KeepsSpace,
}

impl List {
    const ALL: [List; 12] = [
        List::Void,
        List::Roots,
        List::ScopeBoundary,
        List::Special,
        List::ClosesP,
        List::Headings,
        List::TableParts,
        List::Formatting,
        List::Markers,
        List::Rebuilds,
        List::LayoutBlocks,
        List::KeepsSpace,
    ];

    fn names(self) -> &'static [&'static str] {
        match self {
            List::Void => VOID,
            List::Roots => ROOTS,
            List::ScopeBoundary => SCOPE_BOUNDARY,
            List::Special => SPECIAL,
            List::ClosesP => CLOSES_P,
            List::Headings => HEADINGS,
            List::TableParts => TABLE_PARTS,
            List::Formatting => FORMATTING,
            List::Markers => MARKERS,
            List::Rebuilds => REBUILDS,
            List::LayoutBlocks => LAYOUT_BLOCKS,
            List::KeepsSpace => KEEPS_SPACE,
        }
    }

    fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// What a tag means for the whitespace beside it (see `prep`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpaceKind {
    /// It begins or ends a block wherever it stands.
    Block,
    /// It starts an element whose whitespace is content (`<pre>`…).
    Keeps,
    Other,
}

/// The name of one tag, read once for every pass that asks about it.
#[derive(Clone, Copy)]
pub(crate) struct TagName {
    name: Option<Name>,
    end_tag: bool,
    /// Whether the name ends where the tokenizer ends it: one it reads on
    /// past (`<p"x>`) is another element's.
    ends: bool,
}

impl TagName {
    /// Reads the name of the tag at `b` (just after its `<`).
    pub(crate) fn read(b: &[u8]) -> TagName {
        let (bytes, end_tag) = match b.first() {
            Some(b'/') => (&b[1..], true),
            _ => (b, false),
        };
        let name = Name::read(bytes);
        let ends = name.is_some_and(|n| {
            bytes
                .get(usize::from(n.len))
                .is_some_and(|&c| c == b'>' || c == b'/' || is_html_space(c))
        });
        TagName {
            name,
            end_tag,
            ends,
        }
    }

    /// What the tag means for the whitespace beside it.
    pub(crate) fn space_kind(&self) -> SpaceKind {
        match self.name {
            Some(tag) if self.ends && tag.on(List::LayoutBlocks) => SpaceKind::Block,
            Some(tag) if self.ends && !self.end_tag && tag.on(List::KeepsSpace) => SpaceKind::Keeps,
            _ => SpaceKind::Other,
        }
    }
}

/// The HTML tokenizer's whitespace.
pub(crate) fn is_html_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// Each listed name with the bits of the lists it is on.
static LISTED: std::sync::LazyLock<rustc_hash::FxHashMap<&'static [u8], u16>> =
    std::sync::LazyLock::new(|| {
        let mut listed = rustc_hash::FxHashMap::default();
        for list in List::ALL {
            for name in list.names() {
                *listed.entry(name.as_bytes()).or_insert(0) |= list.bit();
            }
        }
        listed
    });

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
        let len = len.min(NAME_LEN);
        Some(Name {
            bytes,
            len: len as u8,
            lists: LISTED.get(&bytes[..len]).copied().unwrap_or(0),
        })
    }

    /// Whether the name is on `list`.
    fn on(&self, list: List) -> bool {
        self.lists & list.bit() != 0
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

/// Tags that begin or end a block wherever they stand: the whitespace
/// between two of them is layout, never a word space.
const LAYOUT_BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
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
    "li",
    "link",
    "main",
    "meta",
    "nav",
    "ol",
    "p",
    "section",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "ul",
];

/// Elements whose whitespace is content.
const KEEPS_SPACE: &[&str] = &["pre", "textarea", "listing", "xmp", "plaintext"];

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
    /// The formatting list entry this element stands for, if any.
    entry: Option<EntryId>,
    /// Whether the element put a marker on the formatting list.
    marker: bool,
}

impl Open {
    fn new(name: Name) -> Open {
        Open {
            name,
            special: name.on(List::Special),
            boundary: name.on(List::ScopeBoundary),
            entry: None,
            marker: false,
        }
    }
}

/// What the caller should do with the document after a tag.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Go,
    /// Leave this start tag out (its content stays).
    Drop,
    /// Drop the document from this tag on.
    Cut,
}

/// One tag as the pre-parse pass sees it.
pub(crate) struct Tag<'a> {
    /// The document from just after the `<`.
    pub rest: &'a [u8],
    /// Its name, read from `rest`.
    pub name: TagName,
    /// The attributes as written, for telling formatting elements apart.
    pub attributes: &'a [u8],
    /// Whether text stands between the previous tag and this one.
    pub after_text: bool,
}

impl Tag<'static> {
    /// A tag the pre-parse pass writes itself (`</h1>`), without attributes.
    pub(crate) fn written(tag: &'static str, after_text: bool) -> Self {
        let rest = &tag.as_bytes()[1..];
        Tag {
            rest,
            name: TagName::read(rest),
            attributes: &[],
            after_text,
        }
    }
}

/// The estimated stack of open elements, fed one tag at a time.
#[derive(Default)]
pub(crate) struct OpenElements {
    stack: Vec<Open>,
    tags: usize,
    formatting: Formatting,
}

impl OpenElements {
    /// Takes one tag.
    pub(crate) fn tag(&mut self, tag: &Tag<'_>) -> Verdict {
        if tag.after_text && self.rebuild() == Verdict::Cut {
            return Verdict::Cut;
        }
        match (tag.name.end_tag, tag.name.name) {
            (true, Some(name)) => {
                self.end(name);
                Verdict::Go
            }
            // Foreign elements honour `/>`; HTML ones ignore it.
            (false, Some(name)) if name.is(&["svg", "math"]) && self_closing(tag.rest) => {
                Verdict::Go
            }
            (false, Some(name)) => self.start(name, tag.attributes),
            (_, None) => Verdict::Go,
        }
    }

    fn start(&mut self, name: Name, attributes: &[u8]) -> Verdict {
        self.tags += 1;
        if self.tags > MAX_TAGS {
            return Verdict::Cut;
        }
        if name.on(List::Roots) {
            return Verdict::Go;
        }
        // `<div/>` opens a `div` in HTML: the slash is ignored.
        self.close_implied_by(name);
        if name.on(List::Rebuilds) && self.rebuild() == Verdict::Cut {
            return Verdict::Cut;
        }
        if name.on(List::Void) {
            return Verdict::Go;
        }
        let mut open = Open::new(name);
        if name.on(List::Formatting) {
            match self.formatting.push(name, attributes) {
                Some(id) => open.entry = Some(id),
                None => return Verdict::Drop,
            }
        }
        if name.on(List::Markers) || (name.is(&["td", "th", "caption"]) && self.in_table()) {
            open.marker = true;
            self.formatting.list.push(Entry::Marker);
        }
        self.stack.push(open);
        self.depth_verdict()
    }

    fn depth_verdict(&self) -> Verdict {
        if self.stack.len() > MAX_DEPTH {
            Verdict::Cut
        } else {
            Verdict::Go
        }
    }

    /// Whether a `table` is open near the top of the stack.
    fn in_table(&self) -> bool {
        let depth = self.stack.len();
        self.stack[depth.saturating_sub(SEARCH_WINDOW)..]
            .iter()
            .any(|o| o.name.is(&["table"]))
    }

    /// The parser reopens the formatting elements that are no longer open:
    /// they go on the stack, and count towards [`MAX_REBUILT`].
    fn rebuild(&mut self) -> Verdict {
        let reopened = self.formatting.reopen();
        if reopened.is_empty() {
            return Verdict::Go;
        }
        for (id, name) in reopened {
            let mut open = Open::new(name);
            open.entry = Some(id);
            self.stack.push(open);
        }
        if self.formatting.rebuilt > MAX_REBUILT {
            return Verdict::Cut;
        }
        self.depth_verdict()
    }

    /// Pops the stack down to `len` elements; formatting elements popped
    /// stay on the list, closed, and a popped marker clears the list to it.
    fn pop_to(&mut self, len: usize) {
        while self.stack.len() > len {
            let Some(open) = self.stack.pop() else { break };
            if let Some(id) = open.entry {
                self.formatting.set(id, Placed::Closed);
            }
            if open.marker {
                self.formatting.clear_to_marker();
            }
        }
    }

    /// A formatting end tag, as the parser's adoption agency takes it:
    /// `true` when it was handled here.
    fn end_formatting(&mut self, name: Name) -> bool {
        let Some((at, id, placed)) = self.formatting.last_named(name) else {
            return false;
        };
        match placed {
            // Not open: the parser drops it from the list.
            Placed::Closed => {
                self.formatting.list.remove(at);
            }
            // Perhaps open: kept, counted as closed.
            Placed::Unsure => {}
            Placed::Open => {
                let depth = self.stack.len();
                let from = depth.saturating_sub(SEARCH_WINDOW);
                match (from..depth)
                    .rev()
                    .find(|&k| self.stack[k].entry == Some(id))
                {
                    // Not in scope: the parser ignores the end tag.
                    Some(k) if self.stack[k + 1..].iter().any(|o| o.boundary) => {}
                    // A block inside: the parser moves a copy of the
                    // element into it, which stays on the list.
                    Some(k) if self.stack[k + 1..].iter().any(|o| o.special) => {}
                    Some(k) => {
                        self.pop_to(k);
                        self.formatting.remove(id);
                    }
                    None => self.formatting.set(id, Placed::Unsure),
                }
            }
        }
        true
    }

    /// The elements a start tag closes before it opens (implied end tags).
    fn close_implied_by(&mut self, name: Name) {
        if name.on(List::ClosesP) {
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
            if name.is(&["a"])
                && let Some((_, id, _)) = self.formatting.last_named(name)
            {
                self.formatting.remove(id);
            }
        }
        if name.on(List::Headings) && self.stack.last().is_some_and(|o| o.name.on(List::Headings)) {
            self.pop_to(self.stack.len() - 1);
        }
    }

    /// Closes the nearest open element named in `targets`, unless an
    /// element where `stop` holds comes first.
    fn close_within(&mut self, targets: &[&str], stop: Stop) {
        let depth = self.stack.len();
        for k in (depth.saturating_sub(SEARCH_WINDOW)..depth).rev() {
            let open = self.stack[k];
            if open.name.is(targets) {
                self.pop_to(k);
                return;
            }
            if stop.holds(&open) {
                return;
            }
        }
        self.lost_track(depth);
    }

    /// A search ran out of its window: the parser may have closed elements
    /// further down, and the formatting elements above them.
    fn lost_track(&mut self, depth: usize) {
        if depth > SEARCH_WINDOW {
            self.formatting.all_unsure();
        }
    }

    fn end(&mut self, name: Name) {
        if name.on(List::Formatting) && self.end_formatting(name) {
            return;
        }
        // A table part's end tag closes past anything but another table; any
        // other special end tag past anything but a scope boundary; the end
        // tag of any other element stops at the first special element.
        let stop = if name.on(List::TableParts) {
            Stop::Names(&["table", "template", "html"])
        } else if name.on(List::Special) {
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
                self.pop_to(k);
                return;
            }
            if stop.holds(&open) {
                return;
            }
        }
        self.lost_track(depth);
    }
}

/// Elements the parser keeps on its list of active formatting elements.
const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];

/// Elements that put a marker on the formatting list (`td`, `th` and
/// `caption` only inside a table).
const MARKERS: &[&str] = &["applet", "marquee", "object", "template"];

/// Start tags before which the parser reopens formatting elements. Others
/// do too ("any other start tag"); leaving one out here can only make the
/// estimate count more.
const REBUILDS: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt",
    "u", "applet", "marquee", "object", "area", "br", "embed", "img", "keygen", "wbr", "input",
    "image", "select", "button", "xmp", "math", "svg", "span", "label", "abbr", "sup", "sub",
    "cite", "q", "time", "mark", "var", "kbd", "samp", "dfn", "ins", "del", "video", "audio",
    "canvas", "picture", "option", "optgroup",
];

type EntryId = u32;

/// Where the parser's copy of a listed formatting element stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placed {
    Open,
    /// Closed by a block: reopened at the next text.
    Closed,
    /// Lost track of: counted as closed, never taken off the list.
    Unsure,
}

#[derive(Clone, Copy)]
enum Entry {
    Marker,
    Element {
        id: EntryId,
        name: Name,
        /// Hash of the attributes as written: the parser keeps at most
        /// three entries with the same name and attributes.
        attributes: u64,
        placed: Placed,
    },
}

/// The estimated list of active formatting elements.
#[derive(Default)]
struct Formatting {
    list: Vec<Entry>,
    next_id: EntryId,
    /// Elements reopened so far.
    rebuilt: usize,
}

impl Formatting {
    /// Index of the first entry after the last marker.
    fn scope_start(&self) -> usize {
        self.list
            .iter()
            .rposition(|e| matches!(e, Entry::Marker))
            .map_or(0, |m| m + 1)
    }

    /// Lists a new formatting element; `None` when the list is full.
    fn push(&mut self, name: Name, attributes: &[u8]) -> Option<EntryId> {
        let hash = hash_bytes(attributes);
        let start = self.scope_start();
        let same: Vec<usize> = (start..self.list.len())
            .filter(|&k| {
                matches!(self.list[k], Entry::Element { name: n, attributes: a, .. }
                    if n == name && a == hash)
            })
            .collect();
        if same.len() >= 3 {
            // The parser's "Noah's Ark" clause.
            self.list.remove(same[0]);
        } else if self.list.len() - start >= MAX_FORMATTING {
            return None;
        }
        self.next_id = self.next_id.wrapping_add(1);
        self.list.push(Entry::Element {
            id: self.next_id,
            name,
            attributes: hash,
            placed: Placed::Open,
        });
        Some(self.next_id)
    }

    /// The entries the parser reopens now (the closed ones after the last
    /// open entry or marker), marked open again.
    fn reopen(&mut self) -> Vec<(EntryId, Name)> {
        let mut first = self.list.len();
        while first > 0 {
            match self.list[first - 1] {
                Entry::Element { placed, .. } if placed != Placed::Open => first -= 1,
                _ => break,
            }
        }
        let mut reopened = Vec::new();
        for e in &mut self.list[first..] {
            if let Entry::Element {
                id, name, placed, ..
            } = e
            {
                *placed = Placed::Open;
                reopened.push((*id, *name));
            }
        }
        self.rebuilt += reopened.len();
        reopened
    }

    /// The last entry named `name` after the last marker.
    fn last_named(&self, name: Name) -> Option<(usize, EntryId, Placed)> {
        let start = self.scope_start();
        (start..self.list.len())
            .rev()
            .find_map(|k| match self.list[k] {
                Entry::Element {
                    id,
                    name: n,
                    placed,
                    ..
                } if n == name => Some((k, id, placed)),
                _ => None,
            })
    }

    fn position(&self, id: EntryId) -> Option<usize> {
        self.list
            .iter()
            .rposition(|e| matches!(e, Entry::Element { id: i, .. } if *i == id))
    }

    fn set(&mut self, id: EntryId, to: Placed) {
        if let Some(k) = self.position(id)
            && let Entry::Element { placed, .. } = &mut self.list[k]
            && *placed == Placed::Open
        {
            *placed = to;
        }
    }

    fn remove(&mut self, id: EntryId) {
        if let Some(k) = self.position(id) {
            self.list.remove(k);
        }
    }

    fn all_unsure(&mut self) {
        for e in &mut self.list {
            if let Entry::Element { placed, .. } = e {
                *placed = Placed::Unsure;
            }
        }
    }

    fn clear_to_marker(&mut self) {
        let start = self.scope_start();
        self.list.truncate(start.saturating_sub(1));
    }
}

fn hash_bytes(b: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    b.hash(&mut h);
    h.finish()
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
            open.tag(&Tag {
                rest: &bytes[i + 1..],
                name: TagName::read(&bytes[i + 1..]),
                attributes: &[],
                after_text: false,
            });
        }
        open.stack.len()
    }

    #[test]
    fn formatting_elements_closed_by_blocks_are_counted_as_reopened() {
        // Each paragraph reopens every `b` before it, up to the cap.
        let mut open = OpenElements::default();
        let mut dropped = 0;
        for k in 0..100 {
            open.tag(&Tag {
                rest: b"p>",
                name: TagName::read(b"p>"),
                attributes: b"",
                after_text: true,
            });
            let id = format!("id={k}");
            let verdict = open.tag(&Tag {
                rest: b"b>",
                name: TagName::read(b"b>"),
                attributes: id.as_bytes(),
                after_text: false,
            });
            dropped += usize::from(verdict == Verdict::Drop);
        }
        assert_eq!(dropped, 100 - MAX_FORMATTING);
        let cap = MAX_FORMATTING;
        assert_eq!(
            open.formatting.rebuilt,
            cap * (cap - 1) / 2 + (100 - cap) * cap
        );
        // Closed in place, or repeated with the same attributes, they
        // cost nothing.
        let mut open = OpenElements::default();
        for _ in 0..1000 {
            for t in ["p>", "b>", "/b>"] {
                let verdict = open.tag(&Tag {
                    rest: t.as_bytes(),
                    name: TagName::read(t.as_bytes()),
                    attributes: b"",
                    after_text: true,
                });
                assert_eq!(verdict, Verdict::Go);
            }
        }
        assert_eq!(open.formatting.rebuilt, 0);
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
