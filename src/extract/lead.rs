//! The article's lead (standfirst): the paragraph under the headline that
//! sums the story up. Pages set it apart from the body, in the article's
//! header or a box of its own before the text, so the container the body
//! comes from often leaves it out; yet it is the story's first paragraph.
//! It is recognised by what the page says of itself: its description
//! metadata repeats the lead, word for word or cut short.

use super::content::{self, Block, BlockKind};
use super::dom::Flat;
use super::text::{clean_inline, weight};

/// Weight (see `text::weight`) under which a description is too short to
/// recognise a lead by: a few words match too much.
const MIN_WEIGHT: usize = 60;

/// Characters of the description that the lead must start with.
const PROBE_CHARS: usize = 50;

/// Text nodes holding the description's word that are looked at, at the
/// most: a page cannot make the search quadratic by repeating the word.
const MAX_CANDIDATES: usize = 16;

/// Nodes in a lead's markup, at the most: a paragraph, not a wrapper.
const MAX_LEAD_NODES: usize = 200;

/// The lead, when the page shows its description before the body's
/// container (`container`, a node index) and the body does not hold it
/// already; never the headline (`title`) itself.
pub(crate) fn find(
    flat: &Flat<'_>,
    description: &str,
    title: Option<&str>,
    container: usize,
    body: &[Block],
) -> Option<Block> {
    let desc = clean_inline(description);
    // A cut-short description ends in an ellipsis.
    let core = desc.trim_end_matches(['.', '…', ' ']);
    if weight(core) < MIN_WEIGHT {
        return None;
    }
    let probe: String = core.chars().take(PROBE_CHARS).collect();
    if body.iter().any(|b| b.text.contains(probe.as_str())) {
        return None;
    }
    // Cheap first test on raw text nodes: the description's longest early word.
    let word = probe
        .split_whitespace()
        .take(6)
        .max_by_key(|w| w.len())
        .unwrap_or(&probe);
    let text_nodes = (0..container.min(flat.nodes.len()))
        .filter(|&i| flat.nodes[i].is_text() && flat.nodes[i].text.contains(word))
        .take(MAX_CANDIDATES);
    for i in text_nodes {
        if let Some(block) = lead_at(flat, i, &probe, weight(&desc), title) {
            return Some(block);
        }
    }
    None
}

/// The block around text node `i`, if it is the lead: its nearest block
/// element, outside navigation and furniture, starting with `probe` and no
/// longer than the description by much (so not a wrapper around more).
fn lead_at(
    flat: &Flat<'_>,
    i: usize,
    probe: &str,
    desc_weight: usize,
    title: Option<&str>,
) -> Option<Block> {
    let (at, _) = flat
        .ancestors(i)
        .find(|(_, n)| matches!(n.tag(), "p" | "div" | "h2" | "h3" | "section"))?;
    let in_furniture = flat.ancestors(at).any(|(_, n)| {
        matches!(
            n.tag(),
            "nav" | "footer" | "aside" | "form" | "menu" | "a" | "script" | "noscript"
        )
    });
    if in_furniture || flat.nodes[at].end - at > MAX_LEAD_NODES {
        return None;
    }
    let mut blocks = content::render(flat, &[at], None);
    if blocks.len() != 1 {
        return None;
    }
    let mut block = blocks.pop()?;
    // A description that repeats the headline finds the headline.
    if matches!(block.kind, BlockKind::Heading(1)) || Some(block.text.as_str()) == title {
        return None;
    }
    block.kind = BlockKind::Para;
    let fits = block.text.starts_with(probe) && block.weight() <= desc_weight * 3 / 2 + 20;
    fits.then_some(block)
}
