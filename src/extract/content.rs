//! Generic main-content detection, for pages without a site profile.
//!
//! Three passes over the flattened document (see `dom.rs`):
//! 1. *junk*: navigation, asides, forms, share bars, comment sections,
//!    related-article lists, ads… by tag, ARIA role and class/id hints;
//! 2. *scoring* (after Readability): every paragraph-like block with enough
//!    text gives points to its ancestors, more for longer text and commas;
//!    class/id hints add or remove points; link-heavy containers lose them;
//! 3. *rendering*: the best container (and the siblings that score like it)
//!    becomes paragraphs, subheadings, list items, quotes and table rows,
//!    dropping link lists and furniture lines.

use std::sync::LazyLock;

use regex::Regex;

use super::dom::Flat;
use super::text::{clean_inline, is_boilerplate, is_cookie_notice, is_machine_text, weight};

/// What a rendered block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum BlockKind {
    Para,
    Heading(u8),
    Item,
    Quote,
    Pre,
    Row,
    Caption,
}

/// One paragraph-level piece of text, with the links inside it.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub text: String,
    pub kind: BlockKind,
    /// `href`s of the links in the block, as written.
    pub hrefs: Vec<String>,
    /// Weight (see `text::weight`) of the text inside links.
    pub link_weight: usize,
    /// Weight of the whole text, counted once: every filter asks for it.
    weight: usize,
}

impl Block {
    pub fn new(text: String, kind: BlockKind, hrefs: Vec<String>, link_weight: usize) -> Self {
        let weight = weight(&text);
        Block {
            text,
            kind,
            hrefs,
            link_weight,
            weight,
        }
    }

    /// The weight (see `text::weight`) of the block's text.
    pub fn weight(&self) -> usize {
        self.weight
    }

    pub fn link_density(&self) -> f32 {
        if self.weight == 0 {
            0.0
        } else {
            self.link_weight as f32 / self.weight as f32
        }
    }
}

/// Per-node facts, indexed like `Flat::nodes`.
pub(crate) struct Analysis {
    pub junk: Vec<bool>,
    pub text_w: Vec<u32>,
    pub link_w: Vec<u32>,
    pub score: Vec<f32>,
    pub body: usize,
    pub first_h1: Option<usize>,
}

const JUNK_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed",
    "button", "input", "select", "textarea", "option", "nav", "aside", "footer", "label", "dialog",
    "menu", "video", "audio", "map", "head", "header", "form", "img", "picture", "source",
    // Ruby annotations: the reading of the characters they sit beside
    // (furigana, pinyin), which would split every annotated word.
    "rt", "rp",
];

const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "td",
    "th",
    "figure",
    "figcaption",
    "header",
    "footer",
    "address",
    "hr",
    "br",
    "center",
    "details",
    "summary",
    "body",
    "caption",
    "aside",
    "nav",
    "form",
    "fieldset",
    "hgroup",
];

fn is_block(tag: &str) -> bool {
    BLOCK_TAGS.contains(&tag)
}

/// Class/id words that mark furniture whatever else the class says.
static STRONG_NEG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[\s_-])(?:related|share|sharing|sharedaddy|social|newsletter|subscri|recommend|outbrain|taboola|sidebar|breadcrumb|cookie|consent|advert|sponsor|promo|footer|navbar|paywall|popup|trending|disqus|comment|author|caption|credit|jp-relatedposts|yarpp|addtoany|a2a|printfriendly|most-?read|most-?popular|read-?more|more-?stories|also-?read|see-?also|author-?box|author-?bio|about-?the-?author|newsletter)|(?:^|[\s_-])(?:entry-meta|post-meta|article-meta|meta-data|postmeta)|(?:^|[\s_-])(?:ad|ads|adv|nav|menu|tags|tag-list|tagcloud|tag-cloud|byline|bio|login|signup|modal|toolbar|pagination|pager|sr-only|screen-reader-text|visually-hidden|skip-link|skip-to-content|table-of-contents|lwptoc|dateline|timestamp|hidden-print|subscription|donate|banner|masthead|crumbs|rating|ratings|reactions|follow|cta|optin|affiliate|disclosure|breaker|tag-links|entry-utility|entry-footer|entryfooter|toc_container|toc_list)(?:$|[\s_-])|(?:^|\s)(?:toc|ez-toc|ez-toc-container)(?:$|\s)",
    )
    .unwrap_or_else(|e| unreachable!("{e}"))
});

static POSITIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"article|content|entry|main|post|story|body|text|blog|prose")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

pub(crate) fn class_id(flat: &Flat<'_>, i: usize) -> String {
    let n = &flat.nodes[i];
    let mut s = String::new();
    if let Some(c) = n.attr("class") {
        s.push_str(c);
    }
    if let Some(id) = n.attr("id") {
        s.push(' ');
        s.push_str(id);
    }
    s.to_ascii_lowercase()
}

/// Class verdicts by `(class, id)`: pages repeat the same few classes
/// thousands of times, and the regex is the costly part.
type ClassCache<'a> = rustc_hash::FxHashMap<(Option<&'a str>, Option<&'a str>), bool>;

fn junk_by_markup<'a>(flat: &Flat<'a>, i: usize, cache: &mut ClassCache<'a>) -> (bool, bool) {
    let n = &flat.nodes[i];
    let tag = n.tag();
    if JUNK_TAGS.contains(&tag) {
        return (true, false);
    }
    // The `hidden` attribute is not furniture by itself: streaming
    // renderers park whole sections of the article in hidden elements
    // until a script moves them into place.
    if n.attr("aria-hidden") == Some("true") {
        // Hidden, but subject to the size guard: streaming renderers park
        // the whole article in a hidden element until a script moves it.
        return (false, true);
    }
    if let Some(role) = n.attr("role")
        && matches!(
            role.trim(),
            "navigation"
                | "banner"
                | "contentinfo"
                | "complementary"
                | "menu"
                | "menubar"
                | "search"
                | "dialog"
                | "alertdialog"
                | "toolbar"
                | "tablist"
                | "button"
        )
    {
        // Guarded like a class: a "tablist" may hold the whole article.
        return (false, true);
    }
    let key = (n.attr("class"), n.attr("id"));
    if key == (None, None) {
        return (false, false);
    }
    // Second value: junk by class only, which the size guard may overrule.
    let by_class = *cache
        .entry(key)
        .or_insert_with(|| STRONG_NEG.is_match(&class_id(flat, i)));
    (false, by_class)
}

/// Class and id words that name a comment section itself (not a post
/// that "has-comments").
const COMMENT_SECTION: &[&str] = &[
    "comments",
    "comment-list",
    "commentlist",
    "comments-area",
    "comments-section",
    "comment-section",
    "comment-respond",
    "respond",
    "user-comments",
];

/// Whether element `i` is a comment section by its markup: a class or id
/// that names one, or comment microdata.
fn is_comment_section(flat: &Flat<'_>, i: usize) -> bool {
    let n = &flat.nodes[i];
    let named = [n.attr("class"), n.attr("id")]
        .into_iter()
        .flatten()
        .flat_map(str::split_whitespace)
        .any(|t| COMMENT_SECTION.contains(&t.to_ascii_lowercase().as_str()));
    let microdata = n
        .attr("itemtype")
        .is_some_and(|t| t.contains("schema.org/Comment") || t.contains("UserComments"));
    named || microdata
}

/// How much a unit of bad text costs against a unit of good text.
const BAD_WEIGHT: f32 = 0.6;

pub(crate) fn analyze(flat: &Flat<'_>) -> Analysis {
    let raw = RawWeights::of(flat);
    let n = flat.nodes.len();
    let body = flat
        .nodes
        .iter()
        .position(|x| x.tag() == "body")
        .unwrap_or(0);
    let first_h1 = (body..n).find(|&i| flat.nodes[i].tag() == "h1" && raw.raw_w[i] > 0);
    let (junk, in_a) = mark_junk(flat, &raw, body, first_h1);
    let clean = CleanWeights::of(flat, &junk, &in_a, &raw.own_w);
    let score = scores(flat, &junk, &clean, body);
    Analysis {
        junk,
        text_w: clean.text_w,
        link_w: clean.link_w,
        score,
        body,
        first_h1,
    }
}

/// Text weight per element before any junk is removed.
struct RawWeights {
    /// All text under the element (none under scripts, styles, `<head>`).
    raw_w: Vec<u32>,
    /// Text under the element inside `<p>`s.
    p_w: Vec<u32>,
    /// A text node's own weight (0 for elements), computed once.
    own_w: Vec<u32>,
}

impl RawWeights {
    /// Children follow parents in pre-order, so a reverse sweep sees every
    /// child before its parent.
    fn of(flat: &Flat<'_>) -> Self {
        let n = flat.nodes.len();
        let mut raw_w = vec![0u32; n];
        let mut p_w = vec![0u32; n];
        let mut own_w = vec![0u32; n];
        for i in (0..n).rev() {
            let node = &flat.nodes[i];
            if node.is_text() {
                own_w[i] = weight(node.text) as u32;
                raw_w[i] = own_w[i];
            } else if matches!(
                node.tag(),
                "script" | "style" | "noscript" | "template" | "head"
            ) {
                raw_w[i] = 0;
            }
            if node.tag() == "p" {
                p_w[i] = raw_w[i];
            }
            let p = node.parent;
            if p != usize::MAX {
                raw_w[p] = raw_w[p].saturating_add(raw_w[i]);
                p_w[p] = p_w[p].saturating_add(p_w[i]);
            }
        }
        Self { raw_w, p_w, own_w }
    }
}

/// Junk by tag, role and class, with the size guard; and which nodes sit
/// inside a link.
fn mark_junk(
    flat: &Flat<'_>,
    raw: &RawWeights,
    body: usize,
    first_h1: Option<usize>,
) -> (Vec<bool>, Vec<bool>) {
    let n = flat.nodes.len();
    let RawWeights { raw_w, p_w, .. } = raw;
    let body_w = raw_w.get(body).copied().unwrap_or(0) as f32;
    let body_p = p_w.get(body).copied().unwrap_or(0) as f32;
    // The size guard: a class on a wrapper of the whole article ("post
    // has-comments") must not throw the article away.
    let guarded = |i: usize| {
        let node = &flat.nodes[i];
        let holds_h1 = first_h1.is_some_and(|h| h > i && h < node.end);
        let share = if body_p > 0.0 {
            p_w[i] as f32 / body_p
        } else {
            0.0
        };
        // A comment section is as long as its readers make it: its size
        // says nothing about its being the article.
        holds_h1
            || (!is_comment_section(flat, i)
                && (raw_w[i] as f32 > 0.6 * body_w
                    || share >= 0.5
                    || (share >= 0.3 && POSITIVE.is_match(&class_id(flat, i)))))
    };
    let mut cache = ClassCache::default();
    // Classes that the guard kept on a big container: the other parts of
    // a split-up article wear them too ("content-nav-section" around each
    // of its sections), so they are not furniture either. Found in a first
    // sweep; a second sweep is needed only when such a part was dropped.
    let mut article_classes: Vec<&str> = Vec::new();
    let mut junk = vec![false; n];
    let mut in_a = vec![false; n];
    for sweep in 0..2 {
        let mut dropped_class = false;
        for i in 0..n {
            let node = &flat.nodes[i];
            let p = node.parent;
            let (pj, pa) = if p == usize::MAX {
                (false, false)
            } else {
                (junk[p], in_a[p])
            };
            in_a[i] = pa || node.tag() == "a";
            junk[i] = pj;
            if pj || node.is_text() || i <= body {
                continue;
            }
            let (by_tag, by_class) = junk_by_markup(flat, i, &mut cache);
            if by_tag {
                // A `<header>` or `<form>` that wraps the whole article (some
                // sites, ASP.NET pages) is not furniture.
                let wraps = matches!(node.tag(), "header" | "form" | "aside" | "section")
                    && (raw_w[i] as f32 > 0.5 * body_w
                        || (body_p > 0.0 && p_w[i] as f32 >= 0.5 * body_p));
                junk[i] = !wraps;
            } else if by_class {
                let class = node.attr("class");
                if guarded(i) {
                    if sweep == 0 {
                        article_classes.extend(class);
                    }
                } else {
                    junk[i] = !class.is_some_and(|c| article_classes.contains(&c));
                    dropped_class |= junk[i] && class.is_some();
                }
            }
        }
        // A part before the container that names its class was dropped.
        let needs_second = sweep == 0
            && dropped_class
            && (0..n).any(|i| {
                junk[i]
                    && flat.nodes[i]
                        .attr("class")
                        .is_some_and(|c| article_classes.contains(&c))
            });
        if !needs_second {
            break;
        }
    }
    (junk, in_a)
}

/// Text, link and comma weights without junk.
struct CleanWeights {
    /// All text under the element.
    text_w: Vec<u32>,
    /// The part of it inside links.
    link_w: Vec<u32>,
    /// Text of the element's own line: text nodes and inline children.
    inline_w: Vec<u32>,
    /// The part of it inside links.
    inline_l: Vec<u32>,
    /// Commas (in several scripts) on the element's own line.
    commas: Vec<u32>,
}

impl CleanWeights {
    fn of(flat: &Flat<'_>, junk: &[bool], in_a: &[bool], own_w: &[u32]) -> Self {
        let n = flat.nodes.len();
        let mut text_w = vec![0u32; n];
        let mut link_w = vec![0u32; n];
        let mut inline_w = vec![0u32; n];
        let mut inline_l = vec![0u32; n];
        let mut commas = vec![0u32; n];
        for i in (0..n).rev() {
            if junk[i] {
                continue;
            }
            let node = &flat.nodes[i];
            if node.is_text() {
                let w = own_w[i];
                text_w[i] = w;
                inline_w[i] = w;
                commas[i] = node
                    .text
                    .chars()
                    .filter(|c| matches!(c, ',' | '，' | '、' | '،'))
                    .count() as u32;
                if in_a[i] {
                    link_w[i] = w;
                    inline_l[i] = w;
                }
            }
            let p = node.parent;
            if p != usize::MAX {
                text_w[p] += text_w[i];
                link_w[p] += link_w[i];
                if node.is_text() || !is_block(node.tag()) {
                    inline_w[p] += inline_w[i];
                    inline_l[p] += inline_l[i];
                    commas[p] += commas[i];
                }
            }
        }
        Self {
            text_w,
            link_w,
            inline_w,
            inline_l,
            commas,
        }
    }
}

/// Every text block (an element with inline text of its own) counts as
/// good text (long, few links) or bad text (links, fragments, labels);
/// headings and short plain lines are neutral. A container's score is
/// its good text minus a share of its bad text, so the best container
/// takes in every part of a split-up article and leaves out the page
/// around it.
fn scores(flat: &Flat<'_>, junk: &[bool], clean: &CleanWeights, body: usize) -> Vec<f32> {
    let n = flat.nodes.len();
    let CleanWeights {
        inline_w,
        inline_l,
        commas,
        ..
    } = clean;
    let mut good = vec![0f32; n];
    let mut bad = vec![0f32; n];
    for i in (0..n).rev() {
        let node = &flat.nodes[i];
        if junk[i] || node.is_text() {
            continue;
        }
        let w = inline_w[i] as f32;
        if w > 0.0 && (is_block(node.tag()) || i == body) {
            let l = inline_l[i] as f32;
            let ld = l / w;
            let heading = matches!(node.tag(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6");
            if heading {
                if ld > 0.5 {
                    bad[i] += w;
                }
            } else if ld <= 0.35 && (w >= 60.0 || (w >= 30.0 && commas[i] > 0)) {
                good[i] += w - l;
                bad[i] += l;
            } else if ld <= 0.35 {
                // Short plain lines (labels, table cells, list items):
                // neutral.
            } else {
                bad[i] += w;
            }
        }
        let p = node.parent;
        if p != usize::MAX {
            good[p] += good[i];
            bad[p] += bad[i];
        }
    }
    let mut score = vec![0f32; n];
    for i in body..n {
        if junk[i] || flat.nodes[i].is_text() {
            continue;
        }
        score[i] = good[i] - BAD_WEIGHT * bad[i];
    }
    score
}

/// The containers to render: the best-scoring one and its siblings that
/// look like more of the same article.
pub(crate) fn choose(flat: &Flat<'_>, an: &Analysis) -> Vec<usize> {
    let mut best = an.body;
    let mut best_score = f32::MIN;
    for i in an.body..flat.nodes.len() {
        if an.junk[i] || flat.nodes[i].is_text() {
            continue;
        }
        // `>=`: on a tie the deeper (later in pre-order) element wins, so a
        // wrapper around nothing but the article does not.
        if an.score[i] >= best_score && an.score[i] > 0.0 {
            best = i;
            best_score = an.score[i];
        }
    }
    vec![lift_paragraph(flat, an, best)]
}

/// Share of a lone paragraph's score its parent must keep to be chosen
/// instead of it.
const PARAGRAPH_LIFT: f32 = 0.9;

/// A paragraph is not an article's container: when the best-scoring
/// element is one (a long lead beside shorter paragraphs and a few links),
/// its parent is chosen if it scores nearly as well and holds more text.
fn lift_paragraph(flat: &Flat<'_>, an: &Analysis, best: usize) -> usize {
    let node = &flat.nodes[best];
    let paragraph = matches!(
        node.tag(),
        "p" | "blockquote" | "li" | "td" | "pre" | "span" | "font" | "b" | "strong" | "em" | "i"
    );
    let p = node.parent;
    if !paragraph || p == usize::MAX || p <= an.body || an.junk[p] {
        return best;
    }
    if an.score[p] >= PARAGRAPH_LIFT * an.score[best] && an.text_w[p] > an.text_w[best] {
        p
    } else {
        best
    }
}

/// Renders the subtrees at `roots` into blocks, skipping junk.
pub(crate) fn render(flat: &Flat<'_>, roots: &[usize], junk: Option<&[bool]>) -> Vec<Block> {
    let mut r = Renderer::default();
    for &root in roots {
        let Some(node) = flat.nodes.get(root) else {
            continue;
        };
        let end = node.end.max(root + 1);
        let mut stack: Vec<usize> = Vec::new();
        let mut i = root;
        while i < end {
            while let Some(&top) = stack.last() {
                if flat.nodes[top].end <= i {
                    stack.pop();
                    r.close(flat.nodes[top].tag(), &stack, flat);
                } else {
                    break;
                }
            }
            let n = &flat.nodes[i];
            if junk.is_some_and(|j| j.get(i).copied().unwrap_or(false)) && i != root {
                i = n.end.max(i + 1);
                continue;
            }
            if n.is_text() {
                r.text(n.text, r.anchors > 0);
                i += 1;
            } else {
                let tag = n.tag();
                if matches!(
                    tag,
                    "script" | "style" | "noscript" | "template" | "head" | "title"
                ) {
                    i = n.end.max(i + 1);
                    continue;
                }
                r.open(tag, n.attr("href"), &stack, flat);
                stack.push(i);
                i += 1;
            }
        }
        while let Some(top) = stack.pop() {
            r.close(flat.nodes[top].tag(), &stack, flat);
        }
        r.flush(&[], flat);
    }
    r.blocks
}

#[derive(Default)]
struct Renderer {
    buf: String,
    link_buf_w: usize,
    hrefs: Vec<String>,
    anchors: usize,
    blocks: Vec<Block>,
    kind_hint: Option<BlockKind>,
}

impl Renderer {
    fn text(&mut self, t: &str, in_link: bool) {
        self.buf.push_str(t);
        if in_link {
            self.link_buf_w += weight(t);
        }
    }

    fn open(&mut self, tag: &str, href: Option<&str>, stack: &[usize], flat: &Flat<'_>) {
        match tag {
            "a" => {
                self.anchors += 1;
                if let Some(h) = href {
                    self.hrefs.push(h.to_string());
                }
            }
            "td" | "th" => self.buf.push(' '),
            "br" | "hr" => self.flush(stack, flat),
            "img" => {}
            t if is_block(t) => self.flush(stack, flat),
            _ => {}
        }
    }

    fn close(&mut self, tag: &str, stack: &[usize], flat: &Flat<'_>) {
        match tag {
            "a" => self.anchors = self.anchors.saturating_sub(1),
            "td" | "th" => self.buf.push(' '),
            t if is_block(t) => {
                // The block's own kind decides, so pass it explicitly.
                self.kind_hint = Some(kind_of_tag(t));
                self.flush(stack, flat);
            }
            _ => {}
        }
    }

    fn flush(&mut self, stack: &[usize], flat: &Flat<'_>) {
        let hint = self.kind_hint.take();
        if self.buf.trim().is_empty() {
            self.buf.clear();
            self.link_buf_w = 0;
            return;
        }
        let text = clean_inline(&self.buf);
        self.buf.clear();
        // The innermost structural ancestor (or the closing block) says
        // what the text is.
        let mut kind = hint.unwrap_or(BlockKind::Para);
        // Bounded: the structural ancestor is near, and a pathological
        // nesting depth must not make every flush a walk to the root.
        for &s in stack.iter().rev().take(12) {
            let k = kind_of_tag(flat.nodes[s].tag());
            if k != BlockKind::Para {
                if hint.is_none_or(|h| h == BlockKind::Para) {
                    kind = k;
                }
                break;
            }
        }
        self.blocks.push(Block::new(
            text,
            kind,
            std::mem::take(&mut self.hrefs),
            std::mem::take(&mut self.link_buf_w),
        ));
    }
}

fn kind_of_tag(tag: &str) -> BlockKind {
    match tag {
        "h1" => BlockKind::Heading(1),
        "h2" => BlockKind::Heading(2),
        "h3" => BlockKind::Heading(3),
        "h4" => BlockKind::Heading(4),
        "h5" => BlockKind::Heading(5),
        "h6" => BlockKind::Heading(6),
        "li" | "dt" | "dd" => BlockKind::Item,
        "blockquote" => BlockKind::Quote,
        "pre" => BlockKind::Pre,
        "tr" => BlockKind::Row,
        "figcaption" | "caption" => BlockKind::Caption,
        _ => BlockKind::Para,
    }
}

/// Headings that open the part of a page after the article.
static TAIL_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:related(?:\s+(?:posts?|articles?|stories|news|content|reading|topics))?|more\s+(?:posts?|articles?|stories|news|from\b.*|like this|to read|on this topic)|you (?:may|might) also (?:like|enjoy)|recommended(?: for you| reading| articles)?|(?:latest|recent|popular|trending|top)\s+(?:posts?|articles?|stories|news|blogs?)|read (?:next|more|this next)|(?:what )?to read next|up next|don'?t miss|(?:all )?(?:reads|stories|articles|posts) on this topic|editor'?s picks|further reading|keep reading|(?:article )?sources|references|citations|bibliography|works cited|footnotes|how we reviewed this article|popular|most popular|daftar pustaka|referensi|tài liệu tham khảo|quellen|literatur|referencias|références|referências|источники|参考文献|also read|see also|leave a (?:reply|comment)|(?:\d+\s+)?comments?|join the (?:discussion|conversation)|about the authors?|share this(?: article| post| story)?|berita terkait|artikel terkait|baca juga|tin liên quan|bài viết liên quan|xem thêm|das könnte sie auch interessieren|mehr zum thema|noticias relacionadas|artículos relacionados|articles similaires|à lire aussi|leia também|notícias relacionadas|похожие статьи|читайте также|相关文章|相关阅读|関連記事)\s*[:：.!]?$")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

static BYLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:by|oleh|von|par|por|di|door|av|bởi|written by|posted by|reporting by|text:|teks:|penulis:|reporter:|editor:|redaktur:)\s")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// Drops blocks that are not article text: link lists, furniture lines,
/// bylines and datelines at the edges, the headline itself, trailing
/// headings with nothing under them, repeats.
pub(crate) fn filter(blocks: Vec<Block>, title: Option<&str>, authors: &[String]) -> Vec<Block> {
    let mut blocks = blocks;
    // A "Related posts" / "Leave a reply" / "About the author" line late in
    // the text starts the page's tail: everything after it goes.
    let total: usize = blocks.iter().map(|b| b.weight()).sum();
    let mut seen = 0usize;
    let mut cut = None;
    for (k, b) in blocks.iter().enumerate() {
        if seen * 10 >= total * 6 && b.weight() < 60 && TAIL_MARKER.is_match(b.text.trim()) {
            cut = Some(k);
            break;
        }
        seen += b.weight();
    }
    if let Some(k) = cut {
        blocks.truncate(k);
    }
    let title_norm = title.map(|t| t.to_lowercase());
    // Between the first and the last real paragraph, a list of links is a
    // list the article gives (resources, products), not navigation.
    let is_prose =
        |b: &Block| b.kind == BlockKind::Para && b.link_density() < 0.3 && b.weight() >= 100;
    let first_prose = blocks.iter().position(is_prose).unwrap_or(usize::MAX);
    let last_prose = blocks.iter().rposition(is_prose).unwrap_or(0);
    let mut out: Vec<Block> = Vec::with_capacity(blocks.len());
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let n_blocks = blocks.len();
    for (k, b) in blocks.into_iter().enumerate() {
        let w = b.weight();
        if w == 0 || !b.text.chars().any(char::is_alphabetic) {
            continue;
        }
        let structural = matches!(b.kind, BlockKind::Heading(_))
            || (matches!(b.kind, BlockKind::Item | BlockKind::Row)
                && k > first_prose
                && k < last_prose);
        if b.link_density() > 0.65 && !structural {
            continue;
        }
        // Figure captions describe pictures the text does not carry.
        let machine = b.kind != BlockKind::Pre && is_machine_text(&b.text);
        if is_boilerplate(&b.text)
            || is_cookie_notice(&b.text)
            || b.kind == BlockKind::Caption
            || machine
        {
            continue;
        }
        if let Some(t) = &title_norm
            && (matches!(b.kind, BlockKind::Heading(1)) || out.is_empty())
            && b.text.to_lowercase() == *t
        {
            continue;
        }
        if matches!(b.kind, BlockKind::Heading(1)) && out.is_empty() {
            continue;
        }
        if w < 80 && BYLINE.is_match(&b.text) {
            continue;
        }
        if w < 60 && authors.iter().any(|a| b.text.eq_ignore_ascii_case(a)) {
            continue;
        }
        if k * 2 >= n_blocks && b.kind == BlockKind::Para && is_author_bio(&b.text, authors) {
            continue;
        }
        // A line that is nothing but a date ("August 26, 2025").
        if w < 30 && super::date::parse_visible(&b.text, None).is_some() {
            continue;
        }
        // Responsive layouts render the same text twice (one copy hidden
        // by a stylesheet): a repeat of a substantial line is dropped.
        if out.last().is_some_and(|l| l.text == b.text) || (w >= 20 && !seen.insert(b.text.clone()))
        {
            continue;
        }
        out.push(b);
    }
    // After the last real paragraph, short lines are a sign-off box, a
    // bio line or a label, not text.
    let last = out
        .iter()
        .rposition(|b| b.kind == BlockKind::Para && b.weight() >= 100);
    if let Some(last) = last {
        let mut k = out.len();
        while k > last + 1
            && matches!(out[k - 1].kind, BlockKind::Para | BlockKind::Heading(_))
            && out[k - 1].weight() < TAIL_SHORT
        {
            k -= 1;
        }
        out.truncate(k);
    }
    while out
        .last()
        .is_some_and(|b| matches!(b.kind, BlockKind::Heading(_)))
    {
        out.pop();
    }
    out
}

/// Verbs that follow an author's name in the blurb about them ("Jane Doe
/// is a freelance writer…"), in the languages the crawler meets most.
const BIO_VERBS: &[&str] = &[
    "is",
    "was",
    "has",
    "holds",
    "writes",
    "covers",
    "serves",
    "leads",
    "joined",
    "brings",
    "specializes",
    "works",
    "ist",
    "est",
    "es",
    "è",
    "adalah",
    "là",
];

/// Whether a paragraph is a blurb about one of the (personal) authors.
fn is_author_bio(text: &str, authors: &[String]) -> bool {
    authors
        .iter()
        .filter(|a| a.split_whitespace().count() >= 2)
        .any(|a| {
            text.strip_prefix(a.as_str())
                .and_then(|rest| rest.strip_prefix(' '))
                .and_then(|rest| rest.split_whitespace().next())
                .is_some_and(|verb| BIO_VERBS.contains(&verb))
        })
}

/// Weight under which a line after the last paragraph is dropped.
const TAIL_SHORT: usize = 40;
