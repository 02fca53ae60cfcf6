//! How the index cuts text into terms: runs of letters and digits, lower
//! case, as tantivy's default does; but Chinese, Japanese and Korean script,
//! written without spaces between words, is cut into overlapping pairs of
//! characters (bigrams), so that a word inside a sentence is found: a query
//! of several characters becomes the phrase of its bigrams.
//!
//! The stemmers of the languages Snowball covers tell, at query time,
//! which indexed words are forms of a query's word (see `forms`).

use tantivy::tokenizer::{Language, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer};

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
    TextAnalyzer::from(Words::default())
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

/// Letters-and-digits words, lower-cased, and bigrams of CJK runs; a word
/// of [`LONGEST_TERM`] bytes or more is dropped (base64 blobs, hashes).
/// Lower-casing and the length limit are done here rather than by
/// tantivy's filters: one pass over the text, ASCII without decoding.
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
            at: 0,
            token: &mut self.token,
            previous_cjk: None,
        }
    }
}

/// The terms of one text.
pub struct WordStream<'a> {
    text: &'a str,
    /// Where reading goes on.
    at: usize,
    token: &'a mut Token,
    /// Where the CJK character before the next one starts, inside a run.
    previous_cjk: Option<usize>,
}

/// Whether `c` continues a word.
fn in_word(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

impl WordStream<'_> {
    /// The character at `at`, which is not ASCII.
    fn char_at(&self, at: usize) -> char {
        self.text[at..].chars().next().unwrap_or(' ')
    }

    /// Where the word starting at `from` ends.
    fn word_end(&self, from: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut k = from;
        while k < bytes.len() {
            let b = bytes[k];
            if b < 0x80 {
                if !b.is_ascii_alphanumeric() {
                    break;
                }
                k += 1;
            } else {
                let c = self.char_at(k);
                if !in_word(c) {
                    break;
                }
                k += c.len_utf8();
            }
        }
        k
    }

    fn emit(&mut self, from: usize, to: usize) -> bool {
        let text = &self.text[from..to];
        self.token.offset_from = from;
        self.token.offset_to = to;
        if text.is_ascii() {
            self.token.text.push_str(text);
            self.token.text.make_ascii_lowercase();
        } else {
            self.token
                .text
                .extend(text.chars().flat_map(char::to_lowercase));
        }
        true
    }

    /// A word from `from`: emitted, or skipped when too long (leaving a
    /// gap in positions, as a dropped term does).
    fn word(&mut self, from: usize) -> bool {
        let to = self.word_end(from);
        self.at = to;
        if to - from >= LONGEST_TERM {
            self.token.position = self.token.position.wrapping_add(1);
            return false;
        }
        self.emit(from, to)
    }
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        self.token.position = self.token.position.wrapping_add(1);
        let bytes = self.text.as_bytes();
        while self.at < bytes.len() {
            let from = self.at;
            let b = bytes[from];
            if b < 0x80 {
                self.previous_cjk = None;
                if b.is_ascii_alphanumeric() && self.word(from) {
                    return true;
                }
                if !b.is_ascii_alphanumeric() {
                    self.at += 1;
                }
                continue;
            }
            let c = self.char_at(from);
            let end = from + c.len_utf8();
            if is_cjk(c) {
                self.at = end;
                let next_is_cjk =
                    end < bytes.len() && bytes[end] >= 0x80 && is_cjk(self.char_at(end));
                match self.previous_cjk.replace(from) {
                    Some(first) => return self.emit(first, end),
                    // A character alone is its own term; the first of a run
                    // is in the bigram the next one makes.
                    None if !next_is_cjk => {
                        self.previous_cjk = None;
                        return self.emit(from, end);
                    }
                    None => continue,
                }
            }
            self.previous_cjk = None;
            if c.is_alphanumeric() {
                if self.word(from) {
                    return true;
                }
            } else {
                self.at = end;
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
