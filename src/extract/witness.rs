//! The page's structured data as a witness to its body: when the JSON-LD
//! `articleBody` gives the whole article, a rendered block it does not hold
//! (a promotion, a sign-up box, a teaser inside the container) is not
//! article text. The witness is heard only when it holds nearly all of
//! the rendered text, so a partial or different `articleBody` (a paywall's
//! first paragraphs, a summary) changes nothing.

use std::collections::HashSet;

use super::content::{Block, BlockKind};
use super::text::{clean_inline, weight};

/// Weight under which an `articleBody` is too short to witness.
const MIN_WEIGHT: usize = 400;

/// Share (percent) of the rendered text the witness must hold to be heard.
const MIN_COVERAGE: usize = 80;

/// The blocks that `ld_body` holds, when it holds nearly all of them.
pub(crate) fn keep_witnessed(blocks: Vec<Block>, ld_body: Option<&str>) -> Vec<Block> {
    let Some(ld) = ld_body.map(str::trim) else {
        return blocks;
    };
    let truncated =
        ld.ends_with('…') || ld.ends_with("...") || ld.ends_with("[…]") || ld.ends_with("[...]");
    if truncated || weight(ld) < MIN_WEIGHT {
        return blocks;
    }
    // Cleaned as the blocks were: entities, soft hyphens, NFC.
    let witness = Witness::of(&clean_inline(ld));
    let held: Vec<Option<bool>> = blocks.iter().map(|b| witness.holds(b)).collect();
    // Coverage counts the judged blocks only.
    let judged = || {
        blocks
            .iter()
            .zip(&held)
            .filter_map(|(b, h)| Some((b, (*h)?)))
    };
    let total: usize = judged().map(|(b, _)| b.weight()).sum();
    let covered: usize = judged().filter(|(_, h)| *h).map(|(b, _)| b.weight()).sum();
    if covered * 100 < total * MIN_COVERAGE {
        return blocks;
    }
    blocks
        .into_iter()
        .zip(held)
        .filter(|(_, h)| h.unwrap_or(true))
        .map(|(b, _)| b)
        .collect()
}

/// The words of an `articleBody`.
struct Witness {
    words: HashSet<String>,
}

impl Witness {
    fn of(text: &str) -> Witness {
        Witness {
            words: words_of(text).collect(),
        }
    }

    /// Whether the witness holds a block: most of its words (markup and
    /// JSON differ in small ways: a caption, a dropped link text). A set
    /// lookup a word, so a long body against many blocks stays linear.
    /// Headings, list items, table rows, quotes and code are not judged
    /// (`None`): an `articleBody` is often the paragraphs alone.
    fn holds(&self, b: &Block) -> Option<bool> {
        if matches!(
            b.kind,
            BlockKind::Heading(_)
                | BlockKind::Item
                | BlockKind::Row
                | BlockKind::Quote
                | BlockKind::Pre
        ) {
            return None;
        }
        let (mut words, mut known) = (0usize, 0usize);
        for w in words_of(&b.text) {
            words += 1;
            known += usize::from(self.words.contains(&w));
        }
        Some(known * 2 >= words)
    }
}

fn words_of(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}
