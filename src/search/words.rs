//! How the index cuts text into terms: runs of letters and digits, lower
//! case, as tantivy's default does; but Chinese, Japanese and Korean script,
//! written without spaces between words, is cut into overlapping pairs of
//! characters (bigrams), so that a word inside a sentence is found: a query
//! of several characters becomes the phrase of its bigrams.
//!
//! The stemmers of the languages Snowball covers tell, at query time,
//! which indexed words are forms of a query's word (see `forms`).

use std::iter::Peekable;
use std::str::CharIndices;

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// The name the analyzer is registered under in the index.
pub const WORDS: &str = "words";

/// Terms longer than this many bytes are dropped (base64 blobs, hashes).
const LONGEST_TERM: usize = 40;

/// The languages whose text is also indexed as stems, by primary subtag.
pub const STEMMED: [(&str, Language); 17] = [
    ("ar", Language::Arabic),
    ("da", Language::Danish),
    ("de", Language::German),
    ("el", Language::Greek),
    ("en", Language::English),
    ("es", Language::Spanish),
    ("fi", Language::Finnish),
    ("fr", Language::French),
    ("hu", Language::Hungarian),
    ("it", Language::Italian),
    ("nl", Language::Dutch),
    ("no", Language::Norwegian),
    ("pt", Language::Portuguese),
    ("ro", Language::Romanian),
    ("ru", Language::Russian),
    ("sv", Language::Swedish),
    ("tr", Language::Turkish),
];

/// The analyzer of the index's text fields.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(Words::default())
        .filter(RemoveLongFilter::limit(LONGEST_TERM))
        .filter(LowerCaser)
        .build()
}

/// Which of [`STEMMED`] a language tag (`en-GB`, `pt`) falls under.
pub fn stemmed_index(language: &str) -> Option<usize> {
    let primary = language.split(['-', '_']).next()?.to_ascii_lowercase();
    let primary = match primary.as_str() {
        "nb" | "nn" => "no",
        other => other,
    };
    STEMMED.iter().position(|(code, _)| *code == primary)
}

/// The index's analyzer followed by `language`'s stemmer: a word's stem.
pub fn stemming(language: Language) -> TextAnalyzer {
    TextAnalyzer::builder(Words::default())
        .filter(RemoveLongFilter::limit(LONGEST_TERM))
        .filter(LowerCaser)
        .filter(Stemmer::new(language))
        .build()
}

/// Whether `c` belongs to a script written without spaces between words
/// (Han, Hiragana, Katakana), or to Hangul, which is cut the same way.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF        // Hiragana, Katakana
        | 0x3400..=0x4DBF      // Han extension A
        | 0x4E00..=0x9FFF      // Han
        | 0xF900..=0xFAFF      // Han compatibility
        | 0x1100..=0x11FF      // Hangul Jamo
        | 0x3130..=0x318F      // Hangul compatibility Jamo
        | 0xAC00..=0xD7AF      // Hangul syllables
        | 0x20000..=0x2FA1F    // Han extensions B–F, compatibility supplement
    )
}

/// Letters-and-digits words, and bigrams of CJK runs.
#[derive(Clone, Default)]
pub struct Words {
    token: Token,
}

impl Tokenizer for Words {
    type TokenStream<'a> = WordStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.token.reset();
        WordStream {
            text,
            chars: text.char_indices().peekable(),
            token: &mut self.token,
            previous_cjk: None,
        }
    }
}

/// The terms of one text.
pub struct WordStream<'a> {
    text: &'a str,
    chars: Peekable<CharIndices<'a>>,
    token: &'a mut Token,
    /// Where the CJK character before the next one starts, inside a run.
    previous_cjk: Option<usize>,
}

impl WordStream<'_> {
    fn emit(&mut self, from: usize, to: usize) -> bool {
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.text.push_str(&self.text[from..to]);
        true
    }

    /// Where the word that started before the next character ends.
    fn word_end(&mut self) -> usize {
        while let Some(&(at, c)) = self.chars.peek() {
            if !c.is_alphanumeric() || is_cjk(c) {
                return at;
            }
            self.chars.next();
        }
        self.text.len()
    }
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        self.token.position = self.token.position.wrapping_add(1);
        while let Some((at, c)) = self.chars.next() {
            let end = at + c.len_utf8();
            if is_cjk(c) {
                let next_is_cjk = self.chars.peek().is_some_and(|&(_, n)| is_cjk(n));
                match self.previous_cjk.replace(at) {
                    Some(from) => return self.emit(from, end),
                    // A character alone is its own term; the first of a run
                    // is in the bigram the next one makes.
                    None if !next_is_cjk => {
                        self.previous_cjk = None;
                        return self.emit(at, end);
                    }
                    None => continue,
                }
            }
            self.previous_cjk = None;
            if c.is_alphanumeric() {
                let to = self.word_end();
                return self.emit(at, to);
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<(String, usize)> {
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            out.push((t.text.clone(), t.position));
        }
        out
    }

    fn texts(text: &str) -> Vec<String> {
        terms(text).into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn languages_find_their_stemmer_by_primary_subtag() {
        assert_eq!(stemmed_index("en-GB").map(|i| STEMMED[i].0), Some("en"));
        assert_eq!(stemmed_index("nb").map(|i| STEMMED[i].0), Some("no"));
        assert_eq!(stemmed_index("id"), None);
        assert_eq!(stemmed_index(""), None);
    }

    #[test]
    fn latin_text_is_cut_into_lower_case_words() {
        assert_eq!(
            texts("Flood warnings, issued 2x!"),
            ["flood", "warnings", "issued", "2x"]
        );
        assert_eq!(texts("Ünïcödé café"), ["ünïcödé", "café"]);
        assert!(
            texts(&"a".repeat(50)).is_empty(),
            "overlong terms are dropped"
        );
    }

    #[test]
    fn cjk_runs_are_cut_into_overlapping_bigrams() {
        assert_eq!(texts("東京で地震"), ["東京", "京で", "で地", "地震"]);
        assert_eq!(
            terms("地震 震"),
            [("地震".to_string(), 0), ("震".to_string(), 1)],
            "a character alone is a term"
        );
        assert_eq!(texts("지진이 발생"), ["지진", "진이", "발생"]);
    }

    #[test]
    fn mixed_scripts_part_where_the_script_changes() {
        assert_eq!(texts("iPhone発売、Apple"), ["iphone", "発売", "apple"]);
        assert_eq!(
            texts("新型コロナ2024年"),
            ["新型", "型コ", "コロ", "ロナ", "2024", "年"]
        );
    }
}
