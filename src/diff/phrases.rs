//! Phrase-level grouping of a word diff, for people rather than patches. A
//! rewritten headline diffs word for word as alternating one-word
//! replacements around the spaces and little words they happen to share;
//! read that way it is noise. Two replacements separated only by
//! whitespace, punctuation or a few short function words become one
//! replacement of the whole phrase (the semantic clean-up diff-match-patch
//! does, measured in words).

use super::Words;

/// A stretch of the diff: text both versions share, or a change (either
/// side may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Same(String),
    Change { old: String, new: String },
}

impl Segment {
    fn is_replacement(&self) -> bool {
        matches!(self, Segment::Change { old, new } if !old.is_empty() && !new.is_empty())
    }

    /// Characters on the longer side of a change.
    fn weight(&self) -> usize {
        match self {
            Segment::Same(t) => t.chars().count(),
            Segment::Change { old, new } => old.chars().count().max(new.chars().count()),
        }
    }
}

/// Words so common that sharing them says nothing about two phrases.
const FUNCTION_WORDS: &[&str] = &[
    "about", "after", "also", "and", "are", "been", "but", "for", "from", "had", "has", "have",
    "into", "its", "not", "over", "said", "says", "that", "the", "their", "them", "then", "there",
    "they", "this", "was", "were", "when", "which", "while", "who", "will", "with", "would",
];

/// A word short or common enough to be absorbed into a phrase.
fn is_minor(word: &str) -> bool {
    word.chars().count() <= 3 || FUNCTION_WORDS.contains(&word.to_lowercase().as_str())
}

/// Whether `same`, standing between replacements `before` and `after`, is
/// only glue: nothing but minor words, and no longer than either change
/// (diff-match-patch's test, which keeps a long shared run apart).
fn is_glue(same: &str, before: &Segment, after: &Segment) -> bool {
    let words = same
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty());
    let len = same.chars().count();
    before.is_replacement()
        && after.is_replacement()
        && words.clone().all(is_minor)
        && len <= before.weight()
        && len <= after.weight()
}

const MAX_PASSES: usize = 8;

fn segments(words: Vec<Words>) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for w in words {
        match (w, out.last_mut()) {
            (Words::Equal(t), _) => out.push(Segment::Same(t)),
            (Words::Delete(t), Some(Segment::Change { old, .. })) => old.push_str(&t),
            (Words::Insert(t), Some(Segment::Change { new, .. })) => new.push_str(&t),
            (Words::Delete(t), _) => out.push(Segment::Change {
                old: t,
                new: String::new(),
            }),
            (Words::Insert(t), _) => out.push(Segment::Change {
                old: String::new(),
                new: t,
            }),
        }
    }
    out
}

/// One left-to-right pass absorbing glue; whether anything changed.
fn absorb_pass(segments: Vec<Segment>) -> (Vec<Segment>, bool) {
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len());
    let mut changed = false;
    let mut rest = segments.into_iter().peekable();
    while let Some(seg) = rest.next() {
        let glue = match (&seg, out.last(), rest.peek()) {
            (Segment::Same(t), Some(before), Some(after)) => is_glue(t, before, after),
            _ => false,
        };
        if glue
            && let Segment::Same(shared) = &seg
            && let Some(Segment::Change { old, new }) = out.last_mut()
            && let Some(Segment::Change {
                old: next_old,
                new: next_new,
            }) = rest.next_if(|s| matches!(s, Segment::Change { .. }))
        {
            for (side, next) in [(old, next_old), (new, next_new)] {
                side.push_str(shared);
                side.push_str(&next);
            }
            changed = true;
            continue;
        }
        out.push(seg);
    }
    (out, changed)
}

/// `words` with replacements separated only by glue merged into phrase
/// replacements; every deletion before its insertion. The old text (equal
/// and deleted runs) and the new text (equal and inserted runs) are exactly
/// those of `words`.
pub fn group(words: Vec<Words>) -> Vec<Words> {
    let mut segs = segments(words);
    // A pass absorbs every chain it can from left to right; a later pass
    // only picks up glue whose right-hand change grew. A few suffice, and a
    // bound keeps a pathological diff linear.
    for _ in 0..MAX_PASSES {
        let (next, changed) = absorb_pass(segs);
        segs = next;
        if !changed {
            break;
        }
    }
    let mut out = Vec::with_capacity(segs.len() * 2);
    for seg in segs {
        match seg {
            Segment::Same(t) => out.push(Words::Equal(t)),
            Segment::Change { old, new } => {
                if !old.is_empty() {
                    out.push(Words::Delete(old));
                }
                if !new.is_empty() {
                    out.push(Words::Insert(new));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::words;

    fn side(ws: &[Words], keep_old: bool) -> String {
        ws.iter()
            .filter_map(|w| match (w, keep_old) {
                (Words::Equal(t), _) | (Words::Delete(t), true) | (Words::Insert(t), false) => {
                    Some(t.as_str())
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_rewritten_headline_is_one_phrase_replacement() {
        let ws = words("Flood warnings issued", "Thousands evacuated as floods");
        assert_eq!(
            ws,
            vec![
                Words::Delete("Flood warnings issued".into()),
                Words::Insert("Thousands evacuated as floods".into()),
            ]
        );
    }

    #[test]
    fn a_long_shared_run_keeps_two_edits_apart() {
        let old = "The mayor said on Monday that the budget for the new library would grow";
        let new = "The mayor said on Tuesday that the budget for the new library would shrink";
        let ws = words(old, new);
        assert!(ws.contains(&Words::Delete("Monday".into())), "{ws:?}");
        assert!(ws.contains(&Words::Insert("shrink".into())), "{ws:?}");
    }

    #[test]
    fn grouping_keeps_both_texts_exactly() {
        let cases = [
            ("a b c d e", "v b w d x"),
            (
                "Minister promises swift inquiry",
                "Minister rejects calls for inquiry",
            ),
            ("one, two; three", "uno, dos; tres"),
            ("", "all new"),
            ("all gone", ""),
        ];
        for (old, new) in cases {
            let ws = words(old, new);
            assert_eq!(side(&ws, true), old, "{ws:?}");
            assert_eq!(side(&ws, false), new, "{ws:?}");
        }
    }
}
