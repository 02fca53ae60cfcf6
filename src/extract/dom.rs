//! A flat, pre-order view of a parsed document.
//!
//! `scraper`'s tree is walked once into a vector where every node knows the
//! end of its subtree. Scoring and rendering then work with plain indices and
//! loops: no recursion (a page of 100 000 nested `<div>`s must not overflow
//! the stack) and no hashing of node ids in the hot paths.

use scraper::node::Element;
use scraper::{ElementRef, Html, Node};

/// One element or text node of the flattened document.
pub(crate) struct FlatNode<'a> {
    /// `None` for a text node.
    pub elem: Option<&'a Element>,
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
/// byte by byte into attributes nothing asks for.
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

impl FlatNode<'_> {
    pub fn tag(&self) -> &str {
        self.elem.map(|e| e.name()).unwrap_or("")
    }
    /// An attribute by name. A scan of the element's few attributes,
    /// comparing names as text: `Element::attr` interns the name asked for
    /// on every call, which cost a twentieth of extraction.
    pub fn attr(&self, name: &str) -> Option<&str> {
        debug_assert!(
            READ_ATTRIBUTES.contains(&name),
            "{name} is dropped before the parse: add it to READ_ATTRIBUTES"
        );
        self.elem?
            .attrs
            .iter()
            .find(|(n, _)| n.ns.is_empty() && &*n.local == name)
            .map(|(_, v)| &**v)
    }
}

/// The flattened document: `nodes[0]` is the `<html>` element.
pub(crate) struct Flat<'a> {
    pub nodes: Vec<FlatNode<'a>>,
}

impl<'a> Flat<'a> {
    pub fn new(doc: &'a Html) -> Self {
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
            if n.elem.is_none() {
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
