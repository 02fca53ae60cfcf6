//! A second, independent reading of a page's blocks, after jusText: each
//! block is first judged on its own (length, share of its text inside links,
//! share of its words that are the language's stop words: running prose is
//! full of "the", "und", "że", labels and teasers are not), then short and
//! borderline blocks take the verdict of their neighbours, so a short line
//! inside the article stays and a short line among furniture goes.
//!
//! The tree method (`content.rs`) finds the article's container; this one
//! knows nothing of markup beyond the blocks, and so errs differently: what
//! the container holds that is not prose (comment prompts, teaser lists,
//! cookie and subscription notices at its edges) reads as bad here. Alone
//! it is the weaker method (`extract_eval --prose-only` measures it); with
//! the container it marks where the page's tail begins.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use rustc_hash::FxHashSet;

use super::content::{Block, BlockKind};

/// The verdict on one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Prose: long enough, few links, many stop words.
    Good,
    /// Prose-like but short or a little thin on stop words.
    NearGood,
    /// Too short to judge alone.
    Short,
    /// Link lists, labels, fragments, text in no language.
    Bad,
}

/// Stop words of every language the list crate knows, by ISO 639-1 code.
static STOP_WORDS: LazyLock<HashMap<&'static str, FxHashSet<&'static str>>> = LazyLock::new(|| {
    stop_words::available_languages()
        .iter()
        .filter_map(|&code| Some((code, stop_words::lookup(code)?.iter().copied().collect())))
        .collect()
});

/// The code the list crate files a language under: it has one list for
/// Norwegian, under the macrolanguage's code, while detectors and markup
/// name its two written standards (Bokmål, Nynorsk).
fn list_code(code: &str) -> &str {
    match code {
        "nb" | "nn" => "no",
        other => other,
    }
}

/// The stop words of the page's languages (its markup's claim and the
/// detector's reading, which disagree when a template default says `en` on
/// a German page, or the page mixes languages): a block's share is its
/// best under either. Scripts written without spaces have no share.
#[derive(Clone, Default)]
pub(crate) struct StopWords(Vec<&'static FxHashSet<&'static str>>);

impl StopWords {
    pub fn for_languages<'a>(codes: impl IntoIterator<Item = &'a str>) -> Self {
        let spaced = |c: &str| !matches!(c, "zh" | "ja" | "th" | "ko" | "my" | "km" | "lo");
        let mut lists: Vec<&'static FxHashSet<&'static str>> = Vec::new();
        for list in codes
            .into_iter()
            .filter(|c| spaced(c))
            .filter_map(|c| STOP_WORDS.get(list_code(c)))
        {
            if !lists.iter().any(|l| std::ptr::eq(*l, list)) {
                lists.push(list);
            }
        }
        StopWords(lists)
    }

    /// Share of the words of `text` that are stop words; `None` without a
    /// list for the language.
    fn density(&self, text: &str) -> Option<f32> {
        if self.0.is_empty() {
            return None;
        }
        // Text with hardly any spaces is in a script written without them.
        let spaces = text.chars().filter(|c| c.is_whitespace()).count();
        if spaces * 20 < text.chars().count() {
            return None;
        }
        let mut words = 0usize;
        let mut stops = vec![0usize; self.0.len()];
        let mut word = String::new();
        for token in text.split(|c: char| !c.is_alphanumeric()) {
            if token.is_empty() {
                continue;
            }
            words += 1;
            word.clear();
            // ASCII lower-cases byte by byte, the same as Unicode's rule.
            if token.is_ascii() {
                word.push_str(token);
                word.make_ascii_lowercase();
            } else {
                word.extend(token.chars().flat_map(char::to_lowercase));
            }
            for (n, list) in stops.iter_mut().zip(&self.0) {
                if list.contains(word.as_str()) {
                    *n += 1;
                }
            }
        }
        let best = stops.into_iter().max().unwrap_or(0);
        Some(if words == 0 {
            0.0
        } else {
            best as f32 / words as f32
        })
    }
}

/// Thresholds of the first, context-free verdict.
struct Limits {
    /// Characters under which a block is short.
    length_low: usize,
    /// Characters from which a prose-like block is good on its own.
    length_high: usize,
    /// Stop-word share under which a block is bad.
    stop_low: f32,
    /// Stop-word share from which a long block is good.
    stop_high: f32,
    /// Share of text in links above which a block is bad.
    max_link_density: f32,
}

// jusText's defaults. The lists here are longer than its own (they count
// numerals and single letters), which leans toward prose: the safe side.
const LIMITS: Limits = Limits {
    length_low: 70,
    length_high: 200,
    stop_low: 0.30,
    stop_high: 0.32,
    max_link_density: 0.2,
};

/// How far (in characters) a heading may sit before good text and still
/// belong to it.
const HEADING_REACH: usize = 200;

fn first_verdict(b: &Block, stop: &StopWords) -> Class {
    let chars = b.text.chars().count();
    let ld = b.link_density();
    if ld > LIMITS.max_link_density {
        return Class::Bad;
    }
    if chars < LIMITS.length_low {
        return if b.link_weight > 0 {
            Class::Bad
        } else {
            Class::Short
        };
    }
    // Without a list, length alone decides (as jusText does for an unknown
    // language).
    let density = stop.density(&b.text).unwrap_or(1.0);
    if density >= LIMITS.stop_high {
        if chars > LIMITS.length_high {
            Class::Good
        } else {
            Class::NearGood
        }
    } else if density >= LIMITS.stop_low {
        Class::NearGood
    } else {
        Class::Bad
    }
}

fn is_heading(b: &Block) -> bool {
    matches!(b.kind, BlockKind::Heading(_))
}

/// Classifies `blocks` (in document order) as jusText does: a first verdict
/// per block, headings close before good text lifted, then short blocks and
/// borderline ones decided by their nearest decided neighbours (the edges of
/// the document count as bad).
pub(crate) fn classify(blocks: &[Block], stop: &StopWords) -> Vec<Class> {
    let mut class: Vec<Class> = blocks.iter().map(|b| first_verdict(b, stop)).collect();
    lift_headings(blocks, &mut class);
    // Short blocks first, from the verdicts as they stand before revision.
    let before = class.clone();
    let prev = neighbours(&before, Side::Before, true);
    let next = neighbours(&before, Side::After, true);
    let prev_near = neighbours(&before, Side::Before, false);
    let next_near = neighbours(&before, Side::After, false);
    for i in 0..class.len() {
        if before[i] != Class::Short {
            continue;
        }
        class[i] = match (prev[i], next[i]) {
            (Class::Good, Class::Good) => Class::Good,
            (Class::Bad, Class::Bad) => Class::Bad,
            // Good on one side, bad on the other: a near-good block just
            // beyond the bad side tips it.
            (p, n) => {
                let near_before = p == Class::Bad && prev_near[i] == Class::NearGood;
                let near_after = n == Class::Bad && next_near[i] == Class::NearGood;
                if near_before || near_after {
                    Class::Good
                } else {
                    Class::Bad
                }
            }
        };
    }
    // Then borderline blocks: good unless bad on both sides.
    let before = class.clone();
    let prev = neighbours(&before, Side::Before, true);
    let next = neighbours(&before, Side::After, true);
    for i in 0..class.len() {
        if before[i] != Class::NearGood {
            continue;
        }
        class[i] = if prev[i] == Class::Bad && next[i] == Class::Bad {
            Class::Bad
        } else {
            Class::Good
        };
    }
    class
}

/// A heading followed closely by good text is at least near-good, whatever
/// its own length.
fn lift_headings(blocks: &[Block], class: &mut [Class]) {
    for i in 0..blocks.len() {
        if !is_heading(&blocks[i]) || !matches!(class[i], Class::Short | Class::Bad) {
            continue;
        }
        let mut distance = 0usize;
        for j in i + 1..blocks.len() {
            if class[j] == Class::Good {
                class[i] = Class::NearGood;
                break;
            }
            distance += blocks[j].text.chars().count();
            if distance > HEADING_REACH {
                break;
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Side {
    Before,
    After,
}

/// For each block, the nearest verdict on `side` of it that is good or bad
/// (or, unless `skip_near`, near-good), skipping short blocks; the edge is
/// bad. One pass for all blocks: a search from each block was quadratic on
/// a page of many short blocks.
fn neighbours(class: &[Class], side: Side, skip_near: bool) -> Vec<Class> {
    let decided = |c: Class| match c {
        Class::Good | Class::Bad => true,
        Class::NearGood => !skip_near,
        Class::Short => false,
    };
    let mut out = vec![Class::Bad; class.len()];
    let mut nearest = Class::Bad;
    let mut visit = |i: usize| {
        out[i] = nearest;
        if decided(class[i]) {
            nearest = class[i];
        }
    };
    match side {
        Side::Before => (0..class.len()).for_each(&mut visit),
        Side::After => (0..class.len()).rev().for_each(&mut visit),
    }
    out
}

/// Share of the page's text (in percent) that may follow the first tail
/// heading for the heading to end the page there: a "More stories" box is
/// a small part of the page, while an article's closing section (a FAQ, a
/// checklist) that merely opens with an unused rank can be a large one.
const TAIL_SHARE: usize = 15;

/// Share of a heading's text inside links from which it is another
/// story's headline.
const TAIL_LINKED: f32 = 0.5;

/// Drops the bad headings after the last good block whose level the
/// headings before it never used: a page's tail ("Related posts", "More
/// from…", in any language) opens with a heading of its own rank, while
/// the article's later sections repeat the ranks of its earlier ones. When
/// what follows the first such heading, or the first bad headline that is
/// a link, is short against the page, it is that tail (teasers, shop and
/// job boxes, sign-up prompts) and goes too.
pub(crate) fn trim_tail_headings(blocks: Vec<Block>, stop: &StopWords) -> Vec<Block> {
    let class = classify(&blocks, stop);
    let Some(last) = class.iter().rposition(|c| *c == Class::Good) else {
        return blocks;
    };
    // A set: a list searched once per block was quadratic.
    let outline: HashSet<BlockKind> = blocks[..last]
        .iter()
        .map(|b| b.kind)
        .filter(|k| matches!(k, BlockKind::Heading(_)))
        .collect();
    let opens_tail = |k: usize, b: &Block, c: Class| {
        k > last && c == Class::Bad && is_heading(b) && !outline.contains(&b.kind)
    };
    // Where a short rest may be cut: also at a linked headline of any rank
    // (another story's), which alone is not dropped when the rest is long.
    let starts_cut = |k: usize, b: &Block, c: Class| {
        opens_tail(k, b, c)
            || (k > last && c == Class::Bad && is_heading(b) && b.link_density() > TAIL_LINKED)
    };
    let end = blocks
        .iter()
        .zip(&class)
        .enumerate()
        .position(|(k, (b, c))| starts_cut(k, b, *c))
        .filter(|&k| {
            let total: usize = blocks.iter().map(Block::weight).sum();
            let after: usize = blocks[k + 1..].iter().map(Block::weight).sum();
            after * 100 <= total * TAIL_SHARE
        })
        .unwrap_or(blocks.len());
    blocks
        .into_iter()
        .zip(class)
        .enumerate()
        .take(end)
        .filter(|(k, (b, c))| !opens_tail(*k, b, *c))
        .map(|(_, (b, _))| b)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norwegian_by_either_written_standard_has_a_list() {
        for code in ["no", "nb", "nn"] {
            let stop = StopWords::for_languages([code]);
            let density = stop.density("Det er en by som ligger ved havet, og den har mange hus.");
            assert!(density.is_some_and(|d| d > 0.3), "{code}: {density:?}");
        }
    }
}
