//! Other forms of a query's words, for a search asked to stem: each bare
//! word becomes `(word OR form OR …)` with the indexed words that share
//! its stem in some language (`reopening`: `reopened`, `reopens`). Done
//! at query time against the index's own term dictionary, so stemming
//! costs the index nothing and the forms found are highlighted like any
//! other match. Phrases, field-scoped terms and exclusions stay as written.

use std::collections::BTreeSet;

use tantivy::Searcher;
use tantivy::schema::Field;
use tantivy::tokenizer::{TextAnalyzer, TokenStream};

use super::Result;
use super::words::{self, STEMMED};

/// Indexed words read per stem prefix and segment at most: a short
/// prefix of a common word must not read the whole dictionary.
const SCANNED_PER_PREFIX: usize = 512;
/// Forms a word is widened by at most.
const MOST_FORMS: usize = 32;
/// A stem prefix shorter than this many characters is not looked up.
const SHORTEST_PREFIX: usize = 3;

/// `text` with each bare word widened to its other forms found in
/// `fields`, by the stemmer of `language` if it has one, else of every
/// language that has one.
pub fn with_other_forms(
    searcher: &Searcher,
    fields: &[Field],
    text: &str,
    language: Option<&str>,
) -> Result<String> {
    let languages: Vec<usize> = match language.and_then(words::stemmed_index) {
        Some(i) => vec![i],
        None => (0..STEMMED.len()).collect(),
    };
    let mut stemmers: Vec<TextAnalyzer> = languages
        .iter()
        .map(|&i| words::stemming(STEMMED[i].1))
        .collect();
    let mut out = String::with_capacity(text.len());
    for piece in pieces(text) {
        match piece {
            Piece::Word(word) => {
                let forms = forms_of(searcher, fields, word, &mut stemmers)?;
                if forms.is_empty() {
                    out.push_str(word);
                } else {
                    out.push('(');
                    out.push_str(word);
                    for form in forms {
                        out.push_str(" OR ");
                        out.push_str(&form);
                    }
                    out.push(')');
                }
            }
            Piece::Verbatim(kept) => out.push_str(kept),
        }
    }
    Ok(out)
}

/// A stretch of a query: a bare word, or anything else, kept as it is.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Word(&'a str),
    Verbatim(&'a str),
}

/// The query cut into bare words and the rest: quoted phrases,
/// operators, exclusions (`-word`), field-scoped terms, parentheses.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = if c == '"' {
            rest[1..].find('"').map_or(rest.len(), |end| end + 2)
        } else if c.is_whitespace() || c == '(' || c == ')' {
            c.len_utf8()
        } else {
            rest.find(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '"')
                .unwrap_or(rest.len())
        };
        let (piece, after) = rest.split_at(len);
        let bare =
            piece.chars().all(char::is_alphanumeric) && !matches!(piece, "OR" | "AND" | "NOT");
        out.push(if bare {
            Piece::Word(piece)
        } else {
            Piece::Verbatim(piece)
        });
        rest = after;
    }
    out
}

/// The indexed words of `fields` other than `word` that share its stem
/// under one of `stemmers`.
fn forms_of(
    searcher: &Searcher,
    fields: &[Field],
    word: &str,
    stemmers: &mut [TextAnalyzer],
) -> Result<BTreeSet<String>> {
    let mut forms = BTreeSet::new();
    let lower = word.to_lowercase();
    for stemmer in stemmers.iter_mut() {
        let Some(stem) = stem_of(stemmer, &lower) else {
            continue;
        };
        // Stems need not be prefixes of the word (`happy`: `happi`): what
        // the word and its stem share is.
        let prefix: String = lower
            .chars()
            .zip(stem.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a)
            .collect();
        if prefix.chars().count() < SHORTEST_PREFIX {
            continue;
        }
        for indexed in indexed_with_prefix(searcher, fields, &prefix)? {
            if indexed != lower && stem_of(stemmer, &indexed).as_deref() == Some(stem.as_str()) {
                forms.insert(indexed);
            }
        }
    }
    Ok(forms.into_iter().take(MOST_FORMS).collect())
}

/// The stem of one word, if the analyzer makes exactly one term of it.
fn stem_of(stemmer: &mut TextAnalyzer, word: &str) -> Option<String> {
    let mut stream = stemmer.token_stream(word);
    let stem = stream.next().map(|t| t.text.clone())?;
    stream.next().is_none().then_some(stem)
}

/// Words of `fields` in the index that start with `prefix`.
fn indexed_with_prefix(
    searcher: &Searcher,
    fields: &[Field],
    prefix: &str,
) -> Result<BTreeSet<String>> {
    let mut found = BTreeSet::new();
    for segment in searcher.segment_readers() {
        for &field in fields {
            let index = segment.inverted_index(field)?;
            let mut terms = index
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .into_stream()
                .map_err(|e| tantivy::TantivyError::IoError(e.into()))?;
            let mut scanned = 0;
            while scanned < SCANNED_PER_PREFIX && terms.advance() {
                let Ok(term) = std::str::from_utf8(terms.key()) else {
                    continue;
                };
                if !term.starts_with(prefix) {
                    break;
                }
                found.insert(term.to_string());
                scanned += 1;
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_words_are_widened() {
        let cut = pieces("flood \"river banks\" -rain title:storm (wind OR hail)");
        let words: Vec<&str> = cut
            .iter()
            .filter_map(|p| match p {
                Piece::Word(w) => Some(*w),
                Piece::Verbatim(_) => None,
            })
            .collect();
        assert_eq!(words, ["flood", "wind", "hail"]);
        let whole: String = cut
            .iter()
            .map(|p| match p {
                Piece::Word(w) | Piece::Verbatim(w) => *w,
            })
            .collect();
        assert_eq!(
            whole,
            "flood \"river banks\" -rain title:storm (wind OR hail)"
        );
        assert_eq!(
            pieces("\"unclosed phrase"),
            [Piece::Verbatim("\"unclosed phrase")]
        );
    }

    #[test]
    fn a_word_and_its_forms_share_a_stem() {
        let mut english = words::stemming(tantivy::tokenizer::Language::English);
        assert_eq!(
            stem_of(&mut english, "reopening"),
            stem_of(&mut english, "reopened")
        );
        assert_eq!(
            stem_of(&mut english, "happiness"),
            stem_of(&mut english, "happy")
        );
        assert_eq!(stem_of(&mut english, "東京"), Some("東京".to_string()));
    }
}
