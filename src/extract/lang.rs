//! The article's language as a BCP 47 primary subtag (`id`, `vi`, `en`).
//!
//! Markup is a claim, often a template default (an Indonesian translation
//! served under `<html lang="en">`), so it is checked against `whatlang`'s
//! reading of the text: a confident detection that disagrees wins; an
//! unsure one defers to the markup.

use whatlang::Lang;

/// Normalizes a markup language tag (`en-US`, `id_ID`, `vi`, `zh-Hant`) to
/// its lower-case primary subtag, or `None` if it is not a language tag.
pub(crate) fn normalize_tag(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    let ok = (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_lowercase());
    if !ok {
        return None;
    }
    // Legacy and three-letter spellings of codes that have a two-letter one.
    Some(
        match primary.as_str() {
            "in" => "id",
            "iw" => "he",
            "ji" => "yi",
            "eng" => "en",
            "ind" => "id",
            "vie" => "vi",
            "deu" | "ger" => "de",
            "fra" | "fre" => "fr",
            "spa" => "es",
            "por" => "pt",
            "rus" => "ru",
            "jpn" => "ja",
            "zho" | "chi" | "cmn" => "zh",
            other => other,
        }
        .to_string(),
    )
}

/// ISO 639-1 code of a `whatlang` language (639-3 inside).
fn iso1(lang: Lang) -> &'static str {
    match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
    }
}

/// Languages `whatlang` confuses with each other; a markup claim within the
/// same group is trusted over the detector.
fn same_family(a: &str, b: &str) -> bool {
    const GROUPS: &[&[&str]] = &[
        &["id", "ms", "jv"],
        &["nb", "no", "nn", "da", "sv"],
        &["hr", "sr", "bs", "sl", "mk"],
        &["cs", "sk"],
        &["zh", "ja"],
        &["es", "ca", "gl", "pt"],
        &["hi", "mr", "ne"],
        &["fa", "ar", "ur"],
        &["ru", "uk", "be", "bg"],
    ];
    GROUPS.iter().any(|g| g.contains(&a) && g.contains(&b))
}

/// How much of a text the detector reads: enough, and cheap on long pages.
pub(crate) const SAMPLE_BYTES: usize = 2000;

/// What one reading of a text gives: the language decided (markup and
/// detector together) and the detector's own guess, confident or not.
pub(crate) struct Reading {
    pub decided: Option<String>,
    pub detected: Option<&'static str>,
}

/// Decides the language from the markup claim and the text.
#[cfg(test)]
fn decide(markup: Option<&str>, text: &str) -> Option<String> {
    read(markup, text).decided
}

/// Reads the language of `text` against the markup's claim.
pub(crate) fn read(markup: Option<&str>, text: &str) -> Reading {
    let claim = markup.and_then(normalize_tag);
    let mut end = text.len().min(SAMPLE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let sample = &text[..end];
    let info = if sample.split_whitespace().count() >= 8 || sample.chars().count() >= 60 {
        whatlang::detect(sample)
    } else {
        None
    };
    let detected = info.as_ref().map(|i| iso1(i.lang()));
    let decided = match (claim, info) {
        (Some(c), Some(info)) => {
            let d = iso1(info.lang());
            if c == d || same_family(&c, d) {
                Some(c)
            } else if info.is_reliable() && info.confidence() > 0.8 {
                Some(d.to_string())
            } else {
                Some(c)
            }
        }
        (Some(c), None) => Some(c),
        (None, Some(info)) if info.is_reliable() || info.confidence() > 0.5 => {
            Some(iso1(info.lang()).to_string())
        }
        (None, _) => None,
    };
    Reading { decided, detected }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_normalize() {
        assert_eq!(normalize_tag("en-US").as_deref(), Some("en"));
        assert_eq!(normalize_tag("id_ID").as_deref(), Some("id"));
        assert_eq!(normalize_tag("in").as_deref(), Some("id"));
        assert_eq!(normalize_tag("").as_deref(), None);
        assert_eq!(normalize_tag("{{lang}}").as_deref(), None);
    }

    #[test]
    fn detection_overrules_a_wrong_template_default() {
        let id = "Wakil Menteri Luar Negeri menyatakan bahwa sejak awal, Vietnam telah aktif mendukung inisiatif penting ini dengan motto meningkatkan mutu diplomasi multilateral.";
        assert_eq!(decide(Some("en"), id).as_deref(), Some("id"));
        assert_eq!(decide(None, id).as_deref(), Some("id"));
        assert_eq!(decide(Some("id-ID"), "Halo").as_deref(), Some("id"));
    }
}
