//! Differences between two versions of an article: what a fact-checker
//! needs to see. Title, authors and dates are compared word by word; the body
//! paragraph by paragraph (added, removed, moved, changed), and changed
//! paragraphs word by word.
//!
//! A comparison has a time budget: archived pages are hostile input, and a
//! huge or pathological edit would otherwise hold a thread for minutes.
//! Past the budget the rest is compared coarsely (whole runs replaced, no
//! pairing of edited paragraphs): still a true account, only less fine.

mod phrases;
mod render;

pub use render::{
    STYLE, Side, Sides, count, escape_html, fields_html, html, inline_html, side_html, summary,
    text,
};

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use similar::{Algorithm, ChangeTag, TextDiff};

use crate::article::{Article, normalize_ws};

/// One run of words in a word-level diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", content = "text", rename_all = "lowercase")]
pub enum Words {
    Equal(String),
    Delete(String),
    Insert(String),
}

/// A short field (title, authors, a date) in both versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDiff {
    pub old: String,
    pub new: String,
    pub changed: bool,
    pub words: Vec<Words>,
}

/// What happened to one paragraph of the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum Paragraph {
    Same {
        text: String,
    },
    Added {
        text: String,
    },
    Removed {
        text: String,
    },
    /// The same paragraph at another position.
    Moved {
        text: String,
        from: usize,
        to: usize,
    },
    Changed {
        words: Vec<Words>,
    },
}

/// Every difference between two versions of an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArticleDiff {
    pub title: FieldDiff,
    pub authors: FieldDiff,
    pub published: FieldDiff,
    pub modified: FieldDiff,
    pub body: Vec<Paragraph>,
    pub words_added: usize,
    pub words_removed: usize,
}

impl ArticleDiff {
    /// Whether anything a reader sees differs.
    pub fn is_empty(&self) -> bool {
        !(self.title.changed
            || self.authors.changed
            || self.published.changed
            || self.modified.changed
            || self
                .body
                .iter()
                .any(|p| !matches!(p, Paragraph::Same { .. })))
    }
}

/// How long comparing two articles may take before the rest is compared
/// coarsely.
const BUDGET: Duration = Duration::from_secs(2);

/// Edited paragraphs are looked for among this many added ones after the
/// last match: pairing is otherwise quadratic in the paragraphs replaced.
const PAIRING_WINDOW: usize = 32;

/// Compares two articles.
pub fn diff(old: &Article, new: &Article) -> ArticleDiff {
    diff_within(old, new, Instant::now() + BUDGET)
}

/// Compares two articles, coarsely past `deadline`.
fn diff_within(old: &Article, new: &Article, deadline: Instant) -> ArticleDiff {
    let short = |old: &str, new: &str| field(old, new, deadline);
    let date = |d: &Option<chrono::DateTime<chrono::FixedOffset>>| {
        d.map(|d| d.to_rfc3339()).unwrap_or_default()
    };
    let mut d = ArticleDiff {
        title: short(
            old.title.as_deref().unwrap_or_default(),
            new.title.as_deref().unwrap_or_default(),
        ),
        authors: short(&old.authors.join(", "), &new.authors.join(", ")),
        published: short(&date(&old.published), &date(&new.published)),
        modified: short(&date(&old.modified), &date(&new.modified)),
        body: body(&shown(old), &shown(new), deadline),
        words_added: 0,
        words_removed: 0,
    };
    let (mut added, mut removed) = (0, 0);
    let mut count = |words: &[Words]| {
        for w in words {
            match w {
                Words::Insert(t) => added += t.split_whitespace().count(),
                Words::Delete(t) => removed += t.split_whitespace().count(),
                Words::Equal(_) => {}
            }
        }
    };
    count(&d.title.words);
    count(&d.authors.words);
    for p in &d.body {
        match p {
            Paragraph::Added { text } => count(&[Words::Insert(text.clone())]),
            Paragraph::Removed { text } => count(&[Words::Delete(text.clone())]),
            Paragraph::Changed { words } => count(words),
            Paragraph::Same { .. } | Paragraph::Moved { .. } => {}
        }
    }
    d.words_added = added;
    d.words_removed = removed;
    d
}

/// What a reader sees of a page, paragraph by paragraph: its text, then
/// (on a front page) its headlines, one a line.
fn shown(a: &Article) -> Vec<String> {
    let mut out = paragraphs(&a.text);
    out.extend(
        a.headlines
            .iter()
            .map(|h| normalize_ws(&h.text))
            .filter(|h| !h.is_empty()),
    );
    out
}

fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(normalize_ws)
        .filter(|p| !p.is_empty())
        .collect()
}

fn field(old: &str, new: &str, deadline: Instant) -> FieldDiff {
    let (old, new) = (normalize_ws(old), normalize_ws(new));
    FieldDiff {
        changed: old != new,
        words: words_within(&old, &new, deadline),
        old,
        new,
    }
}

/// Word-level diff, grouped into phrases; runs of the same kind are merged.
#[cfg(test)]
pub fn words(old: &str, new: &str) -> Vec<Words> {
    words_within(old, new, Instant::now() + BUDGET)
}

fn words_within(old: &str, new: &str, deadline: Instant) -> Vec<Words> {
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .deadline(deadline)
        .diff_unicode_words(old, new);
    let mut out: Vec<Words> = Vec::new();
    for change in diff.iter_all_changes() {
        let text = change.value();
        match (change.tag(), out.last_mut()) {
            (ChangeTag::Equal, Some(Words::Equal(t)))
            | (ChangeTag::Delete, Some(Words::Delete(t)))
            | (ChangeTag::Insert, Some(Words::Insert(t))) => t.push_str(text),
            (ChangeTag::Equal, _) => out.push(Words::Equal(text.to_string())),
            (ChangeTag::Delete, _) => out.push(Words::Delete(text.to_string())),
            (ChangeTag::Insert, _) => out.push(Words::Insert(text.to_string())),
        }
    }
    phrases::group(out)
}

/// Share of words two paragraphs have in common (0 to 1).
fn similarity(a: &str, b: &str, deadline: Instant) -> f32 {
    TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .deadline(deadline)
        .diff_unicode_words(a, b)
        .ratio()
}

/// Paragraph-level alignment, then moves, then word diffs of the
/// paragraphs that were edited rather than replaced.
fn body(old: &[String], new: &[String], deadline: Instant) -> Vec<Paragraph> {
    let ops = similar::capture_diff_slices_deadline(Algorithm::Patience, old, new, Some(deadline));
    let mut out = Vec::new();
    for op in ops {
        let (tag, o, n) = op.as_tag_tuple();
        match tag {
            similar::DiffTag::Equal => {
                out.extend(old[o].iter().map(|t| Paragraph::Same { text: t.clone() }))
            }
            similar::DiffTag::Delete => out.extend(
                old[o]
                    .iter()
                    .map(|t| Paragraph::Removed { text: t.clone() }),
            ),
            similar::DiffTag::Insert => {
                out.extend(new[n].iter().map(|t| Paragraph::Added { text: t.clone() }))
            }
            similar::DiffTag::Replace => {
                // Pair each removed paragraph with the most similar added one,
                // in order; a pair sharing at least half its words is an edit.
                let (removed, added) = (&old[o.clone()], &new[n.clone()]);
                let mut next_added = 0;
                for r in removed {
                    let window = next_added..added.len().min(next_added + PAIRING_WINDOW);
                    let best = window
                        .take_while(|_| Instant::now() < deadline)
                        .map(|i| (i, similarity(r, &added[i], deadline)))
                        .filter(|(_, s)| *s >= 0.5)
                        .max_by(|a, b| a.1.total_cmp(&b.1));
                    match best {
                        Some((i, _)) => {
                            out.extend(
                                added[next_added..i]
                                    .iter()
                                    .map(|t| Paragraph::Added { text: t.clone() }),
                            );
                            out.push(Paragraph::Changed {
                                words: words_within(r, &added[i], deadline),
                            });
                            next_added = i + 1;
                        }
                        None => out.push(Paragraph::Removed { text: r.clone() }),
                    }
                }
                out.extend(
                    added[next_added..]
                        .iter()
                        .map(|t| Paragraph::Added { text: t.clone() }),
                );
            }
        }
    }
    mark_moves(out, old, new)
}

/// A paragraph removed in one place and added, unchanged, in another moved.
/// Sets and maps keep this linear in the paragraphs of hostile pages.
fn mark_moves(body: Vec<Paragraph>, old: &[String], new: &[String]) -> Vec<Paragraph> {
    let removed: HashSet<&str> = body
        .iter()
        .filter_map(|p| match p {
            Paragraph::Removed { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let moved: HashSet<String> = body
        .iter()
        .filter_map(|p| match p {
            Paragraph::Added { text } if removed.contains(text.as_str()) => Some(text.clone()),
            _ => None,
        })
        .collect();
    if moved.is_empty() {
        return body;
    }
    let first_places = |texts: &[String]| {
        let mut at: HashMap<String, usize> = HashMap::new();
        for (i, t) in texts.iter().enumerate() {
            if moved.contains(t) {
                at.entry(t.clone()).or_insert(i + 1);
            }
        }
        at
    };
    let (from, to) = (first_places(old), first_places(new));
    body.into_iter()
        .filter_map(|p| match p {
            // Shown once, where it now stands.
            Paragraph::Removed { text } if moved.contains(&text) => None,
            Paragraph::Added { text } if moved.contains(&text) => Some(Paragraph::Moved {
                from: from.get(&text).copied().unwrap_or(0),
                to: to.get(&text).copied().unwrap_or(0),
                text,
            }),
            other => Some(other),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(title: &str, text: &str) -> Article {
        Article {
            title: Some(title.into()),
            text: text.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_sentence_added_is_named_word_for_word() {
        let a = article("T", "First para.\n\nSecond para ends here.");
        let b = article(
            "T",
            "First para.\n\nSecond para ends here. A new sentence appears.",
        );
        let d = diff(&a, &b);
        assert!(!d.title.changed);
        let inserted: String = d
            .body
            .iter()
            .flat_map(|p| match p {
                Paragraph::Changed { words } => words.clone(),
                _ => vec![],
            })
            .filter_map(|w| match w {
                Words::Insert(t) => Some(t),
                _ => None,
            })
            .collect();
        assert_eq!(inserted.trim(), "A new sentence appears.");
        assert_eq!(d.words_added, 4);
        assert_eq!(d.words_removed, 0);
    }

    #[test]
    fn retitled_headline_and_removed_paragraph() {
        let a = article("Minister resigns", "One.\n\nTwo two.\n\nThree three three.");
        let b = article("Minister steps down", "One.\n\nThree three three.");
        let d = diff(&a, &b);
        assert!(d.title.changed);
        assert!(d.title.words.contains(&Words::Delete("resigns".into())));
        assert!(d.title.words.contains(&Words::Insert("steps down".into())));
        assert!(d.body.contains(&Paragraph::Removed {
            text: "Two two.".into()
        }));
    }

    #[test]
    fn moved_paragraph_is_a_move_not_an_edit() {
        let a = article("T", "Alpha alpha.\n\nBeta beta.\n\nGamma gamma.");
        let b = article("T", "Beta beta.\n\nGamma gamma.\n\nAlpha alpha.");
        let d = diff(&a, &b);
        assert!(
            d.body.iter().any(
                |p| matches!(p, Paragraph::Moved { text, from: 1, to: 3 } if text == "Alpha alpha.")
            ),
            "{:?}",
            d.body
        );
        assert_eq!(d.words_added + d.words_removed, 0);
    }

    #[test]
    fn identical_articles_have_an_empty_diff() {
        let a = article("T", "Same.\n\nText.");
        assert!(diff(&a, &a.clone()).is_empty());
    }
}
