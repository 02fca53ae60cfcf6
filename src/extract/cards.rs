//! Teaser cards: the lists of other stories that sites put inside the
//! article's container, after the text ("Latest insights", "Recent posts").
//! Each card is a sibling of the same markup as the next (tag and class),
//! short, with a link to another page and, usually, a line of excerpt. The
//! article's own repeated parts (a listicle's sections, a product's pros
//! and cons) are longer or carry no link, and come before most of the
//! text, so a run of cards is taken only in the container's last part.

use super::content::Analysis;
use super::dom::Flat;

/// Cards in a run, at the least.
const MIN_RUN: usize = 3;

/// Weight of a card's text, at the most.
const MAX_CARD: u32 = 400;

/// Nodes in a card's markup, at the most: a card is small in markup too,
/// and the bound keeps the checks of every candidate linear in the page.
const MAX_CARD_NODES: usize = 200;

/// Weight of a card's link text, at the least: a headline, not an icon.
const MIN_LINK: u32 = 15;

/// Share (percent) of the container's text that must come before a run.
const TAIL_FROM: u32 = 40;

/// Share (percent) of the container's text a run may hold, at the most: a
/// list that is most of the text is the article (a listicle), not a box.
const MAX_SHARE: u32 = 40;

/// Marks as junk the teaser cards inside `root`.
pub(crate) fn mark(flat: &Flat<'_>, an: &Analysis, root: usize, junk: &mut [bool]) {
    let Some(node) = flat.nodes.get(root) else {
        return;
    };
    let total = an.text_w[root];
    if total == 0 {
        return;
    }
    let before = text_before(flat, an, root);
    let mut i = root;
    while i < node.end {
        if junk[i] || flat.nodes[i].elem.is_none() {
            i = flat.nodes[i].end.max(i + 1);
            continue;
        }
        for run in card_runs(flat, an, i, junk) {
            let start = before[run[0] - root];
            let weight: u32 = run.iter().map(|&c| an.text_w[c]).sum();
            if start * 100 >= total * TAIL_FROM && weight * 100 <= total * MAX_SHARE {
                for c in run {
                    junk[c] = true;
                }
            }
        }
        i += 1;
    }
}

/// For each node of `root`'s subtree (by its offset from `root`), the
/// weight of the text before it in the subtree.
fn text_before(flat: &Flat<'_>, an: &Analysis, root: usize) -> Vec<u32> {
    let end = flat.nodes[root].end;
    let mut seen = 0;
    (root..end)
        .map(|i| {
            let here = seen;
            if flat.nodes[i].elem.is_none() {
                seen += an.text_w[i];
            }
            here
        })
        .collect()
}

/// The runs of cards among the element children of `parent`.
fn card_runs(flat: &Flat<'_>, an: &Analysis, parent: usize, junk: &[bool]) -> Vec<Vec<usize>> {
    let end = flat.nodes[parent].end;
    let mut runs: Vec<Vec<usize>> = Vec::new();
    let mut run: Vec<usize> = Vec::new();
    let mut c = parent + 1;
    while c < end {
        let next = flat.nodes[c].end.max(c + 1);
        if flat.nodes[c].elem.is_some() && !junk[c] {
            let card = is_card(flat, an, c);
            let same = run.last().is_some_and(|&r| same_markup(flat, r, c));
            if !(same && card) {
                if run.len() >= MIN_RUN {
                    runs.push(std::mem::take(&mut run));
                }
                run.clear();
            }
            if card {
                run.push(c);
            }
        }
        c = next;
    }
    if run.len() >= MIN_RUN {
        runs.push(run);
    }
    runs
}

fn same_markup(flat: &Flat<'_>, a: usize, b: usize) -> bool {
    let (a, b) = (&flat.nodes[a], &flat.nodes[b]);
    a.tag() == b.tag() && a.attr("class") == b.attr("class")
}

/// Short, with a headline's worth of link text and some text beside it,
/// in blocks of their own (a headline over an excerpt): an item of the
/// article's own list ("Name: what it does") is one line.
fn is_card(flat: &Flat<'_>, an: &Analysis, c: usize) -> bool {
    let text = an.text_w[c];
    let small = flat.nodes[c].end - c <= MAX_CARD_NODES;
    small && text <= MAX_CARD && inner_blocks(flat, c) >= 2 && {
        let link = link_to_elsewhere(flat, an, c);
        link >= MIN_LINK && text > link
    }
}

/// Weight of the text inside `c`'s links to other pages (not to a place
/// on this one, as an FAQ's or a table of contents' are).
fn link_to_elsewhere(flat: &Flat<'_>, an: &Analysis, c: usize) -> u32 {
    let end = flat.nodes[c].end;
    let mut weight = 0;
    let mut i = c + 1;
    while i < end {
        let n = &flat.nodes[i];
        let elsewhere = n.tag() == "a"
            && n.attr("href").is_some_and(|h| {
                let h = h.trim();
                !h.is_empty() && !h.starts_with('#') && !h.starts_with("javascript:")
            });
        if elsewhere {
            weight += an.text_w[i];
            i = n.end.max(i + 1);
        } else {
            i += 1;
        }
    }
    weight
}

/// Elements that start a block of text inside `c`, counted up to two.
fn inner_blocks(flat: &Flat<'_>, c: usize) -> usize {
    let end = flat.nodes[c].end;
    flat.nodes[c + 1..end]
        .iter()
        .filter(|n| matches!(n.tag(), "p" | "div" | "h2" | "h3" | "h4" | "h5" | "h6"))
        .take(2)
        .count()
}
