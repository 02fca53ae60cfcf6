//! Picking and cleaning metadata fields: the headline without its site-name
//! suffix, author names without "By", dates or job titles.

use std::sync::LazyLock;

use regex::Regex;

use super::text::clean_inline;

const SEPARATORS: &[&str] = &[
    " | ", " - ", " – ", " — ", " :: ", " · ", " • ", " » ", " « ", " / ", " ~ ", " : ", " — ",
    "｜", " ‹ ", " › ",
];

/// Lower-case letters and digits only, for loose comparisons.
pub(crate) fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether `part` names the site: its name, or its host's main label.
fn names_site(part: &str, site_names: &[String]) -> bool {
    let p = squash(part);
    if p.is_empty() {
        return false;
    }
    site_names.iter().any(|s| {
        let s = squash(s);
        !s.is_empty()
            && (p == s || (s.len() >= 4 && p.contains(&s)) || (p.len() >= 4 && s.contains(&p)))
    })
}

/// Removes a site-name suffix (or prefix): "Headline | Site" → "Headline".
pub(crate) fn strip_site(title: &str, site_names: &[String]) -> String {
    let mut t = title.trim().to_string();
    for _ in 0..3 {
        let mut changed = false;
        for sep in SEPARATORS {
            if let Some(pos) = t.rfind(sep) {
                let (left, right) = (&t[..pos], &t[pos + sep.len()..]);
                if !left.trim().is_empty() && names_site(right, site_names) {
                    t = left.trim().to_string();
                    changed = true;
                    break;
                }
            }
            if let Some(pos) = t.find(sep) {
                let (left, right) = (&t[..pos], &t[pos + sep.len()..]);
                if !right.trim().is_empty() && names_site(left, site_names) {
                    t = right.trim().to_string();
                    changed = true;
                    break;
                }
            }
        }
        if !changed {
            break;
        }
    }
    t
}

/// A metadata title without its site name, and without a trailing
/// "| Section" label when the headline stands on its own.
fn clean_meta_title(m: &str, site_names: &[String]) -> String {
    let mut t = strip_site(m, site_names);
    if let Some(pos) = t.rfind(" | ")
        && t[..pos].split_whitespace().count() >= 3
    {
        t.truncate(pos);
    }
    t.trim().to_string()
}

/// Picks the headline. An `<h1>` that agrees with a metadata title is the
/// most faithful spelling; otherwise the cleanest metadata title, with the
/// site name removed.
pub(crate) fn pick_title(
    h1s: &[String],
    meta_titles: &[String],
    html_title: Option<&str>,
    site_names: &[String],
) -> Option<String> {
    let mut all_meta: Vec<String> = meta_titles.to_vec();
    if let Some(t) = html_title {
        all_meta.push(t.to_string());
    }
    let upper = |s: &str| s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_lowercase);
    for h in h1s {
        let hs = squash(h);
        if hs.len() < 3 {
            continue;
        }
        for m in &all_meta {
            let stripped = strip_site(m, site_names);
            let ss = squash(&stripped);
            let ms = squash(m);
            // The `<h1>` is the metadata title without a suffix the site
            // name list did not know ("Headline | Section").
            let prefix = ms.starts_with(&hs) && hs.len() * 2 >= ms.len();
            if ms == hs || ss == hs || prefix {
                // An all-capitals `<h1>` is styling; the metadata keeps the
                // headline's real case.
                if upper(h) && !upper(&stripped) {
                    return Some(stripped);
                }
                return Some(h.clone());
            }
        }
    }
    // No agreement: the first `<h1>` that is not the site's name is the
    // visible headline, which is what readers (and citations) use.
    if let Some(h) = h1s.iter().find(|h| {
        let hs = squash(h);
        hs.len() >= 3
            && !names_site(h, site_names)
            && (h.split_whitespace().count() >= 2 || h.chars().count() >= 6)
    }) {
        // A short label ("Index funds") over a fuller metadata headline is
        // a section heading, not the headline.
        let words = h.split_whitespace().count();
        let fuller = meta_titles
            .first()
            .map(|m| clean_meta_title(m, site_names))
            .filter(|m| m.split_whitespace().count() >= words + 2 && (1..=4).contains(&words));
        if let Some(m) = fuller {
            return Some(m);
        }
        return Some(h.clone());
    }
    // Compare titles across sources: a part shared by `<title>` and
    // og:title with different suffixes is the headline.
    let mut names = site_names.to_vec();
    if let (Some(t), Some(m)) = (html_title, meta_titles.first())
        && t != m
        && t.starts_with(m.as_str())
    {
        let rest = t[m.len()..].trim_start_matches(SEP_CHARS).trim();
        if !rest.is_empty() {
            names.push(rest.to_string());
        }
    }
    if let Some(m) = meta_titles.first() {
        return Some(clean_meta_title(m, &names)).filter(|s| !s.is_empty());
    }
    if let Some(t) = html_title {
        let s = strip_site(t, &names);
        if s != t {
            return Some(s);
        }
        // No site name known: a trailing short part after a separator is
        // most likely the site ("Headline | Daily Planet").
        for sep in [" | ", " - ", " – ", " — ", " :: ", " · ", " • ", " » "] {
            if let Some(pos) = t.rfind(sep) {
                let (left, right) = (&t[..pos], &t[pos + sep.len()..]);
                if right.split_whitespace().count() <= 3
                    && left.chars().count() > 2 * right.chars().count()
                {
                    return Some(left.trim().to_string());
                }
            }
        }
        if !t.is_empty() {
            return Some(t.to_string());
        }
    }
    h1s.first().cloned()
}

const SEP_CHARS: &[char] = &[' ', '|', '-', '–', '—', ':', '·', '•', '»', '«', '/', '~'];

static AUTHOR_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:(?:written|posted|reported|published|photos?|words|text|story|reporting|edited|compiled|interview)\s+by|by|from|oleh|penulis|reporter|pewarta|wartawan|editor|bởi|tác giả|von|autor(?:in)?|par|por|di|door|av|af|автор|作者|文|author|authors|byline)\s*[:：]?\s+",
    )
    .unwrap_or_else(|e| unreachable!("{e}"))
});

static AUTHOR_SPLIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\s*(?:,|;|\||/|&|\band\b|\bund\b|\by\b|\bdan\b|\bvà\b|\bet\b|\be\b|\bog\b|\bи\b|、|·|•)\s*")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

static NOT_A_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:editor|editors|editorial|reporter|writer|correspondent|staff|contributor|contributing|columnist|journalist|redaksi|redaktur|wartawan|kontributor|phóng viên|biên tập|redakteur|redaktion|redacción|rédaction|updated|published|posted|minutes?|hours?|days?|ago|read|min|share|follow|email|photo|photos|image|images|getty|shutterstock|view all|more|profile|twitter|facebook|instagram|linkedin|senior|chief|managing|deputy|associate|head of|director|president|professor|founder|ceo|news desk|desk|team|admin|administrator|guest|anonymous|unknown|bio|full bio|the author|author|by|admin)\b")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// Splits and cleans a byline or author field into person names.
pub(crate) fn clean_authors(raw: &str) -> Vec<String> {
    let mut s = clean_inline(raw);
    if s.starts_with("http://") || s.starts_with("https://") || s.starts_with("www.") {
        return Vec::new();
    }
    // Cut what follows the names: a date, "Updated …", a pipe or dash.
    for cut in [
        " - ",
        " – ",
        " — ",
        " | ",
        "\n",
        " on ",
        " at ",
        " updated ",
        " published ",
        " posted ",
    ] {
        if let Some(pos) = s.to_lowercase().find(cut)
            && pos > 0
            && s.is_char_boundary(pos)
        {
            s.truncate(pos);
        }
    }
    let mut s = s.trim().to_string();
    while let Some(m) = AUTHOR_PREFIX.find(&s) {
        s = s[m.end()..].to_string();
    }
    let mut out: Vec<String> = Vec::new();
    for part in AUTHOR_SPLIT.split(&s) {
        let name = part
            .trim()
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '.' && c != '\'' && c != ')')
            .trim();
        let name = AUTHOR_PREFIX.replace(name, "").trim().to_string();
        if name.is_empty()
            || name.starts_with('@')
            || name.contains('@')
            || name.contains("://")
            || name.chars().any(|c| c.is_ascii_digit())
            || name.chars().count() > 60
            || name.split_whitespace().count() > 6
            || !name.chars().any(char::is_alphabetic)
            || NOT_A_NAME.is_match(&name)
            // A user name ("andrew.keaveney"), not a person's name.
            || (!name.contains(' ') && name.contains(['.', '_']))
        {
            continue;
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_lose_their_site_name() {
        let site = vec!["Daily Planet".to_string()];
        assert_eq!(
            strip_site("Big news today | Daily Planet", &site),
            "Big news today"
        );
        assert_eq!(
            strip_site("Daily Planet - Big news today", &site),
            "Big news today"
        );
        assert_eq!(
            strip_site("Part one - the start", &site),
            "Part one - the start"
        );
        assert_eq!(
            pick_title(&[], &[], Some("A long headline about things - Planet"), &[]).as_deref(),
            Some("A long headline about things")
        );
        assert_eq!(
            pick_title(
                &["Big news today".into()],
                &["Big news today | Daily Planet".into()],
                None,
                &[]
            )
            .as_deref(),
            Some("Big news today")
        );
    }

    #[test]
    fn author_names_are_cleaned() {
        assert_eq!(
            clean_authors("By Jane Doe and John Smith"),
            vec!["Jane Doe", "John Smith"]
        );
        assert_eq!(clean_authors("Oleh: Budi Santoso"), vec!["Budi Santoso"]);
        assert_eq!(
            clean_authors("By JANE DOE | Updated 3 hours ago"),
            vec!["JANE DOE"]
        );
        assert_eq!(clean_authors("Jane Doe, Senior Editor"), vec!["Jane Doe"]);
        assert_eq!(
            clean_authors("https://facebook.com/someone"),
            Vec::<String>::new()
        );
        assert_eq!(
            clean_authors("Jane Doe on September 4, 2025"),
            vec!["Jane Doe"]
        );
    }
}
