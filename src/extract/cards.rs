//! Runs of sibling boxes inside the article's container that are not the
//! article: each box has the same markup as the next (tag and class).
//!
//! - Teaser cards: the lists of other stories after the text ("Latest
//!   insights", "Recent posts"). A card is short, with a link to another
//!   page and, usually, a line of excerpt. The article's own repeated parts
//!   (a listicle's sections, a product's pros and cons) are longer or carry
//!   no link, and come before most of the text, so a run of cards is taken
//!   only in the container's last part.
//! - Reader comments: each entry has a control to reply to it. A run that
//!   is nearly all of the text is a thread (a forum's first post has a
//!   reply control too), and stays.

use std::collections::HashMap;

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
const TAIL_FROM: u64 = 40;

/// Share (percent) of the container's text a run may hold, at the most: a
/// list that is most of the text is the article (a listicle), not a box.
const MAX_SHARE: u64 = 40;

/// Comment entries in a run, at the least.
const MIN_COMMENTS: usize = 2;

/// Nodes in a comment entry's markup, at the most (as for cards).
const MAX_COMMENT_NODES: usize = 400;

/// Share (percent) of the container's text from which a run of comments
/// is the page's thread itself.
const THREAD_SHARE: u64 = 90;

/// Bytes of a reply control's label, at the most (spaces included).
const MAX_REPLY_LABEL: usize = 40;

/// The words of a reply control, in the languages the crawler meets most.
const REPLY_WORDS: &[&str] = &[
    "reply",
    "antworten",
    "responder",
    "répondre",
    "rispondi",
    "odpowiedz",
    "odpowiedź",
    "balas",
    "trả lời",
    "ответить",
    "beantwoorden",
    "reageer",
    "svara",
    "svar",
    "vastaa",
    "yanıtla",
    "返信",
    "回复",
    "回覆",
];

/// Marks as junk the teaser cards and the reader comments inside `root`.
pub(crate) fn mark(flat: &Flat<'_>, an: &Analysis, root: usize, junk: &mut [bool]) {
    let Some(node) = flat.nodes.get(root) else {
        return;
    };
    // In u64: percentages of a huge page's weight must not overflow.
    let total = u64::from(an.text_w[root]);
    if total == 0 {
        return;
    }
    // The text before each node, and the reply controls before it.
    let before = counts_before(flat, root, |i| {
        if flat.nodes[i].is_text() {
            an.text_w[i]
        } else {
            0
        }
    });
    let replies = counts_before(flat, root, |i| u32::from(is_reply_control(flat, i)));
    let mut i = root;
    while i < node.end {
        if junk[i] || flat.nodes[i].is_text() {
            i = flat.nodes[i].end.max(i + 1);
            continue;
        }
        let cards = runs(flat, i, junk, MIN_RUN, |c| is_card(flat, an, c));
        // Runs of the same markup under one parent are one list split by
        // subheadings (a listicle's groups): where it starts and how much
        // it holds are the whole list's.
        let mut lists: HashMap<(&str, Option<&str>), (u64, u64)> = HashMap::new();
        for run in &cards {
            let n = &flat.nodes[run[0]];
            let list = lists
                .entry((n.tag(), n.attr("class")))
                .or_insert((u64::from(before[run[0] - root]), 0));
            list.1 += weight(an, run);
        }
        for run in &cards {
            let n = &flat.nodes[run[0]];
            let (start, held) = lists[&(n.tag(), n.attr("class"))];
            if start * 100 >= total * TAIL_FROM && held * 100 <= total * MAX_SHARE {
                mark_run(run, junk);
            }
        }
        let is_comment = |c: usize| {
            let end = flat.nodes[c].end;
            end - c <= MAX_COMMENT_NODES && replies[end - root] > replies[c + 1 - root]
        };
        for run in runs(flat, i, junk, MIN_COMMENTS, is_comment) {
            if weight(an, &run) * 100 < total * THREAD_SHARE {
                mark_run(&run, junk);
            }
        }
        i += 1;
    }
}

/// For each node of `root`'s subtree and one past it (by offset from
/// `root`), the sum of `count` over the nodes before it: how much of
/// something a range of nodes holds is then a difference, in constant time.
fn counts_before(flat: &Flat<'_>, root: usize, count: impl Fn(usize) -> u32) -> Vec<u32> {
    let end = flat.nodes[root].end;
    let mut seen = 0;
    let mut out: Vec<u32> = (root..end)
        .map(|i| {
            let here = seen;
            seen += count(i);
            here
        })
        .collect();
    out.push(seen);
    out
}

fn weight(an: &Analysis, run: &[usize]) -> u64 {
    run.iter().map(|&c| u64::from(an.text_w[c])).sum()
}

fn mark_run(run: &[usize], junk: &mut [bool]) {
    for &c in run {
        junk[c] = true;
    }
}

/// The runs of at least `min` members among the element children of
/// `parent` that have the same markup.
fn runs(
    flat: &Flat<'_>,
    parent: usize,
    junk: &[bool],
    min: usize,
    is_member: impl Fn(usize) -> bool,
) -> Vec<Vec<usize>> {
    let end = flat.nodes[parent].end;
    let mut runs: Vec<Vec<usize>> = Vec::new();
    let mut run: Vec<usize> = Vec::new();
    let mut c = parent + 1;
    while c < end {
        let next = flat.nodes[c].end.max(c + 1);
        if flat.nodes[c].is_element() && !junk[c] {
            let member = is_member(c);
            let same = run.last().is_some_and(|&r| same_markup(flat, r, c));
            if !(same && member) {
                if run.len() >= min {
                    runs.push(std::mem::take(&mut run));
                }
                run.clear();
            }
            if member {
                run.push(c);
            }
        }
        c = next;
    }
    if run.len() >= min {
        runs.push(run);
    }
    runs
}

/// A link or button saying "Reply" (in the crawler's languages), or a link
/// that opens the reply form.
fn is_reply_control(flat: &Flat<'_>, i: usize) -> bool {
    let n = &flat.nodes[i];
    match n.tag() {
        "a" if n.attr("href").is_some_and(|h| h.contains("replytocom")) => true,
        // A control's label is a word or two: a few nodes at most.
        "a" | "button" if n.end - i <= 4 => {
            let label: usize = flat.nodes[i + 1..n.end].iter().map(|t| t.text.len()).sum();
            label <= MAX_REPLY_LABEL && {
                let text = flat.text_of(i).to_lowercase();
                REPLY_WORDS.contains(&text.as_str())
            }
        }
        _ => false,
    }
}

fn same_markup(flat: &Flat<'_>, a: usize, b: usize) -> bool {
    let (a, b) = (&flat.nodes[a], &flat.nodes[b]);
    a.tag() == b.tag() && a.attr("class") == b.attr("class")
}

/// Short, opening with a headline's worth of link text and with some
/// text beside it, in blocks of their own (a headline over an excerpt): an
/// item of the article's own list ("Name: what it does") is one line.
fn is_card(flat: &Flat<'_>, an: &Analysis, c: usize) -> bool {
    let text = an.text_w[c];
    let small = flat.nodes[c].end - c <= MAX_CARD_NODES;
    small && text <= MAX_CARD && inner_blocks(flat, c) >= 2 && !opens_with_a_question(flat, c) && {
        let link = link_to_elsewhere(flat, an, c);
        link >= MIN_LINK && text > link
    }
}

/// Whether `c` opens with a question that is not a link: an FAQ entry
/// (whose answer may well link elsewhere), not a card, whose headline is
/// the link even when it asks.
fn opens_with_a_question(flat: &Flat<'_>, c: usize) -> bool {
    let end = flat.nodes[c].end;
    let Some(first) =
        (c + 1..end).find(|&i| flat.nodes[i].is_text() && !flat.nodes[i].text.trim().is_empty())
    else {
        return false;
    };
    let asks = flat.nodes[first]
        .text
        .trim_end()
        .ends_with(['?', '？', '¿']);
    let linked = flat
        .ancestors(first)
        .take_while(|&(a, _)| a > c)
        .any(|(_, n)| n.tag() == "a" && n.attr("href").is_some_and(leads_elsewhere));
    asks && !linked
}

/// Whether a link's target is another page (not a place on this one).
fn leads_elsewhere(href: &str) -> bool {
    let h = href.trim();
    !h.is_empty() && !h.starts_with('#') && !h.starts_with("javascript:")
}

/// Weight of the text inside `c`'s links to other pages (not to a place
/// on this one, as an FAQ's or a table of contents' are).
fn link_to_elsewhere(flat: &Flat<'_>, an: &Analysis, c: usize) -> u32 {
    let end = flat.nodes[c].end;
    let mut weight = 0;
    let mut i = c + 1;
    while i < end {
        let n = &flat.nodes[i];
        let elsewhere = n.tag() == "a" && n.attr("href").is_some_and(leads_elsewhere);
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
