//! A flat, pre-order view of a parsed document.
//!
//! `scraper`'s tree is walked once into a vector where every node knows the
//! end of its subtree. Scoring and rendering then work with plain indices and
//! loops: no recursion (a page of 100 000 nested `<div>`s must not overflow
//! the stack) and no hashing of node ids in the hot paths.

use scraper::node::Element;
use scraper::{ElementRef, Html, Node};

use super::prep::Moved;

/// One element or text node of the flattened document.
pub(crate) struct FlatNode<'a> {
    /// `None` for a text node. Read through [`FlatNode::attr`] only, which
    /// knows the attributes `prep` moved out of the markup.
    elem: Option<&'a Element>,
    /// The values of the [`Moved`] attributes, in [`Moved::ALL`]'s order,
    /// put back.
    moved: [Option<&'a str>; Moved::ALL.len()],
    /// The text of a text node (empty for elements).
    pub text: &'a str,
    /// Index one past the last node of this node's subtree.
    pub end: usize,
    /// Index of the parent element (`usize::MAX` for the root).
    pub parent: usize,
    /// The `scraper` element, for selector matching.
    pub eref: Option<ElementRef<'a>>,
}

/// The attributes the extractor reads, and those the tree builder reads
/// (`type` of an `<input>` in a table, `color`/`face`/`size` of a `<font>`
/// in SVG, `encoding` of MathML's `<annotation-xml>`, a `<meta>`'s
/// `charset`, a `<template>`'s `shadowrootmode`). Without a profile, whose
/// selectors may name any attribute, `prep` drops the others before the
/// parse: the tokenizer would copy every `data-*`, `style` and `srcset`
/// byte by byte into attributes nothing asks for. Sorted: `prep` looks
/// names up by binary search.
pub(crate) const READ_ATTRIBUTES: [&str; 24] = [
    "aria-hidden",
    "charset",
    "class",
    "color",
    "content",
    "datetime",
    "encoding",
    "face",
    "href",
    "http-equiv",
    "id",
    "itemprop",
    "itemscope",
    "itemtype",
    "lang",
    "name",
    "property",
    "pubdate",
    "rel",
    "role",
    "shadowrootmode",
    "size",
    "type",
    "xml:lang",
];

impl<'a> FlatNode<'a> {
    pub fn tag(&self) -> &'a str {
        self.elem.map(|e| e.name()).unwrap_or("")
    }
    pub fn is_text(&self) -> bool {
        self.elem.is_none()
    }
    pub fn is_element(&self) -> bool {
        self.elem.is_some()
    }
    /// An attribute by name. A scan of the element's few attributes,
    /// comparing names as text: `Element::attr` interns the name asked for
    /// on every call, which cost a twentieth of extraction.
    pub fn attr(&self, name: &str) -> Option<&'a str> {
        debug_assert!(
            READ_ATTRIBUTES.contains(&name),
            "{name} is dropped before the parse: add it to READ_ATTRIBUTES"
        );
        if let Some(at) = Moved::ALL.iter().position(|m| m.name() == name) {
            return self.moved[at];
        }
        own_attr(self.elem?, name)
    }
}

/// An attribute of `e` by name, as the tree holds it.
fn own_attr<'a>(e: &'a Element, name: &str) -> Option<&'a str> {
    e.attrs
        .iter()
        .find(|(n, _)| n.ns.is_empty() && &*n.local == name)
        .map(|(_, v)| &**v)
}

/// The values of the [`Moved`] attributes of `e`: its own, or those its
/// aliases point to in `moved`. One pass over its attributes.
fn moved_attrs<'a>(e: &'a Element, moved: &[&'a str]) -> [Option<&'a str>; Moved::ALL.len()] {
    let mut own = [None; Moved::ALL.len()];
    let mut aliased = [None; Moved::ALL.len()];
    for (name, value) in e.attrs.iter().filter(|(n, _)| n.ns.is_empty()) {
        let name: &str = &name.local;
        for (k, m) in Moved::ALL.iter().enumerate() {
            if name == m.name() {
                own[k] = Some(&**value);
            } else if name == m.alias() {
                aliased[k] = value
                    .parse::<usize>()
                    .ok()
                    .and_then(|at| moved.get(at).copied());
            }
        }
    }
    std::array::from_fn(|k| own[k].or(aliased[k]))
}

/// The flattened document: `nodes[0]` is the `<html>` element.
pub(crate) struct Flat<'a> {
    pub nodes: Vec<FlatNode<'a>>,
}

impl<'a> Flat<'a> {
    /// Flattens `doc`, putting back the attribute values `prep` moved to
    /// `moved` (empty for a document parsed as it was written).
    pub fn new(doc: &'a Html, moved: &[&'a str]) -> Self {
        let mut nodes: Vec<FlatNode<'a>> = Vec::with_capacity(4096);
        let mut stack: Vec<usize> = Vec::with_capacity(64);
        let root = *doc.root_element();
        let mut node = root;
        // An iterative pre-order walk: open a node, descend to its first
        // child, else close it and move to the next sibling or back up.
        'walk: loop {
            let parent = stack.last().copied().unwrap_or(usize::MAX);
            match node.value() {
                Node::Element(e) => {
                    stack.push(nodes.len());
                    nodes.push(FlatNode {
                        elem: Some(e),
                        moved: moved_attrs(e, moved),
                        text: "",
                        end: 0,
                        parent,
                        eref: ElementRef::wrap(node),
                    });
                }
                Node::Text(t) => {
                    let idx = nodes.len();
                    nodes.push(FlatNode {
                        elem: None,
                        moved: [None; Moved::ALL.len()],
                        text: t,
                        end: idx + 1,
                        parent,
                        eref: None,
                    });
                }
                _ => {}
            }
            if node.value().is_element()
                && let Some(child) = node.first_child()
            {
                node = child;
                continue;
            }
            loop {
                if node.value().is_element()
                    && let Some(idx) = stack.pop()
                {
                    let end = nodes.len();
                    nodes[idx].end = end;
                }
                if node.id() == root.id() {
                    break 'walk;
                }
                if let Some(next) = node.next_sibling() {
                    node = next;
                    break;
                }
                match node.parent() {
                    Some(p) => node = p,
                    None => break 'walk,
                }
            }
        }
        // Unclosed entries cannot remain, but never leave an `end` of 0.
        let len = nodes.len();
        for idx in stack {
            nodes[idx].end = len;
        }
        Self { nodes }
    }

    /// The elements that contain node `i`, nearest first, with their indices.
    pub fn ancestors(&self, i: usize) -> impl Iterator<Item = (usize, &FlatNode<'a>)> + '_ {
        let parent = |a: usize| self.nodes.get(a).map(|n| n.parent);
        std::iter::successors(parent(i), move |&a| parent(a))
            .map_while(|a| self.nodes.get(a).map(|n| (a, n)))
    }

    /// All of the text under `i` with a space between every text node, for
    /// dates and bylines whose parts sit in separate inline elements.
    pub fn text_spaced(&self, i: usize) -> String {
        let end = self.nodes.get(i).map_or(i, |n| n.end);
        let mut s = String::new();
        for n in &self.nodes[i.min(end)..end] {
            if n.is_text() {
                s.push_str(n.text);
                s.push(' ');
            }
        }
        crate::article::normalize_ws(&s)
    }

    /// All of the text under `i`, whitespace-normalized.
    pub fn text_of(&self, i: usize) -> String {
        let end = self.nodes.get(i).map_or(i, |n| n.end);
        let mut s = String::new();
        // Inline markup joins without a space ("C<span>ycle</span>" is one
        // word); block boundaries and line breaks separate.
        for n in &self.nodes[i.min(end)..end] {
            match n.elem {
                None => s.push_str(n.text),
                Some(e) if !INLINE.contains(&e.name()) => s.push(' '),
                Some(_) => {}
            }
        }
        crate::article::normalize_ws(&s)
    }
}

/// Elements that do not break a line of text.
const INLINE: &[&str] = &[
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "kbd",
    "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "del",
    "ins", "wbr",
];
