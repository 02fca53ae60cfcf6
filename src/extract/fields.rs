//! Picking and cleaning metadata fields: the headline (an `<h1>` weighed
//! against the metadata titles, without its site-name suffix), and author
//! names without "By", dates or job titles.

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

/// A title without its site name, and without a trailing "| Section" label
/// when the headline stands on its own: headlines do not contain pipes.
fn clean_title(m: &str, site_names: &[String]) -> String {
    let mut t = strip_site(m, site_names);
    if let Some(pos) = t.rfind(" | ")
        && t[..pos].split_whitespace().count() >= 3
    {
        t.truncate(pos);
    }
    t.trim().to_string()
}

/// Whether most words after the first (of four letters or more) start with
/// a capital, as in "How Much Should I Pay".
fn title_case(s: &str) -> bool {
    let long: Vec<&str> = s
        .split_whitespace()
        .skip(1)
        .filter(|w| w.chars().count() >= 4 && w.chars().next().is_some_and(char::is_alphabetic))
        .collect();
    let capitalized = long
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .count();
    !long.is_empty() && capitalized * 2 > long.len()
}

/// Whether `long` is `short` behind a leading label of one to three words
/// ("Blog:", "Dec 18 2025"); a bare year or article is part of a headline.
fn labelled(long: &str, short: &str) -> bool {
    let (l, s) = (squash(long), squash(short));
    let lw: Vec<&str> = long.split_whitespace().collect();
    let extra = lw.len().saturating_sub(short.split_whitespace().count());
    if !(s.len() >= 10 && l.len() > s.len() && l.ends_with(&s) && (1..=3).contains(&extra)) {
        return false;
    }
    let label = squash(&lw[..extra].join(" "));
    !label.chars().all(|c| c.is_ascii_digit()) && !matches!(label.as_str(), "the" | "a" | "an")
}

fn uppercase_count(s: &str) -> usize {
    s.chars().filter(|c| c.is_uppercase()).count()
}

/// Everything on a page that may name its headline.
pub(crate) struct TitleSources<'a> {
    /// `<h1>` texts, the article container's first.
    pub h1s: &'a [String],
    /// JSON-LD and microdata headlines, og:title, twitter:title.
    pub meta_titles: &'a [String],
    /// The `<title>` element.
    pub html_title: Option<&'a str>,
    /// Names the site goes by (og:site_name, publisher, host labels).
    pub site_names: &'a [String],
    /// Words of the URL's last path segment (see [`slug_words`]).
    pub slug: &'a [String],
}

/// The lower-cased words of a URL's last non-empty path segment, without a
/// file extension: `/2025/09/best-cloud-stocks.html` → best, cloud, stocks.
pub(crate) fn slug_words(url: &url::Url) -> Vec<String> {
    let segment = url
        .path_segments()
        .and_then(|mut s| s.rfind(|p| !p.is_empty()))
        .unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
    let stem = match decoded.rsplit_once('.') {
        Some((stem, ext)) if ext.len() <= 5 && ext.chars().all(|c| c.is_ascii_alphanumeric()) => {
            stem
        }
        _ => &decoded,
    };
    words(stem)
}

/// Lower-cased alphanumeric words.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// How closely the URL slug repeats a headline: the share of the
/// headline's distinct words that the slug contains.
fn slug_echo(headline: &str, slug: &[String]) -> f64 {
    let mut w = words(headline);
    w.sort_unstable();
    w.dedup();
    let mut s = slug.to_vec();
    s.sort_unstable();
    s.dedup();
    if w.is_empty() || s.is_empty() {
        return 0.0;
    }
    let shared = w.iter().filter(|w| s.binary_search(w).is_ok()).count() as f64;
    shared / w.len() as f64
}

/// How much more of a metadata headline than of a disagreeing `<h1>` the
/// slug must repeat before the metadata headline is preferred.
const SLUG_MARGIN: f64 = 0.2;

/// Picks the headline. An `<h1>` that agrees with a metadata title is the
/// most faithful spelling; otherwise the cleanest metadata title, with the
/// site name removed.
pub(crate) fn pick_title(src: &TitleSources<'_>) -> Option<String> {
    let titles = MetaTitles::new(src);
    if let Some(t) = agreed_headline(src, &titles.with_html) {
        return Some(t);
    }
    // No agreement: the first `<h1>` that is not the site's name is the
    // visible headline, which is what readers (and citations) use.
    if let Some(h) = visible_h1(src, !titles.with_html.is_empty()) {
        return Some(settle_disagreement(h, src, &titles));
    }
    title_from_metadata(src, &titles)
}

/// The metadata titles a headline is weighed against.
struct MetaTitles {
    /// JSON-LD, microdata, og:title and twitter:title, without those cut
    /// to a length limit.
    uncut: Vec<String>,
    /// The same, then the `<title>`.
    with_html: Vec<String>,
}

impl MetaTitles {
    fn new(src: &TitleSources<'_>) -> Self {
        let uncut: Vec<String> = src
            .meta_titles
            .iter()
            .filter(|m| !cut_to_length(m, src))
            .cloned()
            .collect();
        let mut with_html = uncut.clone();
        if let Some(t) = src.html_title {
            with_html.push(t.to_string());
        }
        MetaTitles { uncut, with_html }
    }
}

/// Whether `m` is a long headline that another source carries further: it
/// was cut to a length limit (JSON-LD `headline` is often capped at 110
/// characters).
fn cut_to_length(m: &str, src: &TitleSources<'_>) -> bool {
    let ms = squash(m);
    m.chars().count() >= 90
        && src
            .meta_titles
            .iter()
            .map(String::as_str)
            .chain(src.html_title)
            .any(|o| {
                let os = squash(&clean_title(o, src.site_names));
                os.len() > ms.len() && os.starts_with(&ms)
            })
}

/// Whether `s` has letters and all of them are capitals.
fn all_capitals(s: &str) -> bool {
    s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_lowercase)
}

/// The headline where an `<h1>` and a metadata title agree, in the better
/// of their two spellings.
fn agreed_headline(src: &TitleSources<'_>, titles: &[String]) -> Option<String> {
    for h in src.h1s {
        let hs = squash(h);
        if hs.len() < 3 {
            continue;
        }
        for m in titles {
            let stripped = clean_title(m, src.site_names);
            if agrees(&hs, m, &stripped) {
                return Some(better_spelling(h, stripped, src.site_names));
            }
        }
    }
    None
}

/// Whether an `<h1>` (squashed: `hs`) says what metadata title `m` says
/// (`stripped`: `m` without its site name).
fn agrees(hs: &str, m: &str, stripped: &str) -> bool {
    let ms = squash(m);
    // The `<h1>` is the metadata title without a suffix the site name list
    // did not know ("Headline | Section", "Headline - The Go Programming
    // Language").
    let prefix = ms.starts_with(hs) && hs.len() * 2 >= ms.len();
    let left_part = SEPARATORS
        .iter()
        .any(|sep| m.match_indices(sep).any(|(i, _)| squash(&m[..i]) == hs));
    ms == hs || squash(stripped) == hs || prefix || left_part
}

/// Of an `<h1>` and the metadata title it agrees with (`stripped` of its
/// site name), the spelling to keep.
fn better_spelling(h: &str, stripped: String, site_names: &[String]) -> String {
    // An all-capitals `<h1>` is styling; the metadata keeps the headline's
    // real case.
    if all_capitals(h) && !all_capitals(&stripped) {
        return stripped;
    }
    // A lower- or sentence-case `<h1>` spelling the same words as a
    // title-case metadata headline is the template's casing, not the
    // editor's.
    if squash(&stripped) == squash(h)
        && !title_case(h)
        && uppercase_count(&stripped) > uppercase_count(h)
    {
        return stripped;
    }
    clean_title(h, site_names)
}

/// The first `<h1>` that can be the visible headline: not the site's name,
/// not one short word, and not in capitals when metadata can give the
/// headline's case.
fn visible_h1<'s>(src: &TitleSources<'s>, has_meta: bool) -> Option<&'s String> {
    src.h1s.iter().find(|h| {
        squash(h).len() >= 3
            && !names_site(h, src.site_names)
            && (!has_meta || !all_capitals(h))
            && (h.split_whitespace().count() >= 2 || h.chars().count() >= 6)
    })
}

/// The headline when the visible `<h1>` agrees with no metadata title: the
/// `<h1>`, unless a metadata title is plainly the headline it stands for.
fn settle_disagreement(h: &str, src: &TitleSources<'_>, titles: &MetaTitles) -> String {
    without_label(h, &titles.with_html, src.site_names)
        .or_else(|| fuller_than_label(h, &titles.uncut, src.site_names))
        .or_else(|| echoed_by_slug(h, &titles.with_html, src))
        .unwrap_or_else(|| clean_title(h, src.site_names))
}

/// The same headline with a short label or date in front ("Blog: …", "Dec
/// 18 2025 …") on one side: the other side is the headline.
fn without_label(h: &str, titles: &[String], site_names: &[String]) -> Option<String> {
    for m in titles.iter().map(|m| clean_title(m, site_names)) {
        if labelled(h, &m) {
            return Some(m);
        }
        if labelled(&m, h) {
            return Some(h.to_string());
        }
    }
    None
}

/// The first metadata title, when the `<h1>` is a short label ("Index
/// funds") over it: a section heading, not the headline.
fn fuller_than_label(h: &str, titles: &[String], site_names: &[String]) -> Option<String> {
    let words = h.split_whitespace().count();
    titles
        .first()
        .map(|m| clean_title(m, site_names))
        .filter(|m| m.split_whitespace().count() >= words + 2 && (1..=4).contains(&words))
}

/// The slug is usually written from the headline the article was filed
/// under: a metadata headline it clearly repeats better than the `<h1>` is
/// that headline, the `<h1>` a display variant.
fn echoed_by_slug(h: &str, titles: &[String], src: &TitleSources<'_>) -> Option<String> {
    let h_echo = slug_echo(h, src.slug);
    let candidates = titles
        .iter()
        .map(|m| clean_title(m, src.site_names))
        // A metadata headline the `<h1>` extends agrees with it.
        .filter(|m| !m.is_empty() && !squash(h).starts_with(&squash(m)))
        .map(|m| (slug_echo(&m, src.slug), m));
    let (echo, m) = first_greatest(candidates)?;
    (echo >= h_echo + SLUG_MARGIN).then_some(m)
}

/// The item with the greatest key, the first of them on a tie.
fn first_greatest<K: PartialOrd + Copy, T>(items: impl Iterator<Item = (K, T)>) -> Option<(K, T)> {
    items.fold(None, |best, (k, t)| match best {
        Some((b, _)) if b >= k => best,
        _ => Some((k, t)),
    })
}

/// The headline when no `<h1>` can be it: the metadata title most sources
/// agree on, else the `<title>`, else the first `<h1>` after all.
fn title_from_metadata(src: &TitleSources<'_>, titles: &MetaTitles) -> Option<String> {
    if let Some(m) = consensus_title(titles, src.site_names) {
        let names = with_title_suffix(src.html_title, m, src.site_names);
        return Some(clean_title(m, &names)).filter(|s| !s.is_empty());
    }
    src.html_title
        .and_then(|t| title_element_headline(t, src.site_names))
        .or_else(|| src.h1s.first().cloned())
}

/// The metadata headline the most other sources repeat, the first on a tie
/// (JSON-LD, microdata, og:title, twitter:title).
fn consensus_title<'t>(titles: &'t MetaTitles, site_names: &[String]) -> Option<&'t String> {
    let agreeing = |m: &String| {
        let ms = squash(&clean_title(m, site_names));
        titles
            .with_html
            .iter()
            .filter(|o| squash(&clean_title(o, site_names)) == ms)
            .count()
    };
    first_greatest(titles.uncut.iter().map(|m| (agreeing(m), m))).map(|(_, m)| m)
}

/// The site names, and what the `<title>` adds after the metadata
/// `headline`: a part shared by `<title>` and og:title with different
/// suffixes is the headline, so the suffix is the site's.
fn with_title_suffix(
    html_title: Option<&str>,
    headline: &str,
    site_names: &[String],
) -> Vec<String> {
    let mut names = site_names.to_vec();
    if let Some(t) = html_title
        && t != headline
        && t.starts_with(headline)
    {
        let rest = t[headline.len()..].trim_start_matches(SEP_CHARS).trim();
        if !rest.is_empty() {
            names.push(rest.to_string());
        }
    }
    names
}

/// The headline in a `<title>` `t`: without its site name, else without a
/// short trailing part; `None` if `t` is empty.
fn title_element_headline(t: &str, site_names: &[String]) -> Option<String> {
    let s = strip_site(t, site_names);
    if s != t {
        return Some(s);
    }
    // No site name known: a trailing short part after a separator is most
    // likely the site ("Headline | Daily Planet").
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
    (!t.is_empty()).then(|| t.to_string())
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
    Regex::new(r"(?i)\b(?:editor|editors|editorial|reporter|writer|correspondent|staff|contributor|contributing|columnist|journalist|redaksi|redaktur|wartawan|kontributor|phóng viên|biên tập|redakteur|redaktion|redacción|rédaction|updated|published|posted|minutes?|hours?|days?|ago|read|min|share|follow|email|photo|photos|image|images|getty|shutterstock|view all|more|profile|twitter|facebook|instagram|linkedin|senior|chief|managing|deputy|associate|head of|director|president|professor|founder|ceo|news desk|desk|team|admin|administrator|guest|anonymous|unknown|bio|full bio|the author|author|by|admin|says|said|wrote|replied|name|type|size|category|categories|topics?|industry|location|region|use case|reviewer|attorney|mon|tue|wed|thu|fri|sat|sun|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b")
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
            pick_title(&TitleSources {
                h1s: &[],
                meta_titles: &[],
                html_title: Some("A long headline about things - Planet"),
                site_names: &[],
                slug: &[],
            })
            .as_deref(),
            Some("A long headline about things")
        );
        assert_eq!(
            pick_title(&TitleSources {
                h1s: &["Big news today".into()],
                meta_titles: &["Big news today | Daily Planet".into()],
                html_title: None,
                site_names: &[],
                slug: &[],
            })
            .as_deref(),
            Some("Big news today")
        );
    }

    fn title_of(h1s: &[&str], meta: &[&str], html_title: Option<&str>, url: &str) -> String {
        let h1s: Vec<String> = h1s.iter().map(|s| s.to_string()).collect();
        let meta: Vec<String> = meta.iter().map(|s| s.to_string()).collect();
        let url = url::Url::parse(url).unwrap_or_else(|e| panic!("{e}"));
        let site = vec!["Daily Planet".to_string()];
        pick_title(&TitleSources {
            h1s: &h1s,
            meta_titles: &meta,
            html_title,
            site_names: &site,
            slug: &slug_words(&url),
        })
        .unwrap_or_default()
    }

    #[test]
    fn slugs_are_words_of_the_last_path_segment() {
        let url = url::Url::parse("https://x.test/2025/09/best-cloud-stocks.html/")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(slug_words(&url), ["best", "cloud", "stocks"]);
        let url = url::Url::parse("https://x.test/berita/%C4%91%C3%A0-n%E1%BA%B5ng")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(slug_words(&url), ["đà", "nẵng"]);
    }

    #[test]
    fn the_slug_settles_a_disagreement_between_h1_and_metadata() {
        let og = "How to Start an LLC in New York | Daily Planet";
        assert_eq!(
            title_of(
                &["Form your own LLC here today"],
                &[og],
                None,
                "https://x.test/articles/how-to-start-an-llc-in-new-york"
            ),
            "How to Start an LLC in New York"
        );
        // A slug that repeats neither (or both) leaves the visible headline.
        assert_eq!(
            title_of(
                &["Form your own LLC here today"],
                &[og],
                None,
                "https://x.test/a/123456"
            ),
            "Form your own LLC here today"
        );
        assert_eq!(
            title_of(
                &["Form your own LLC here today"],
                &[og],
                None,
                "https://x.test/form-your-own-llc-in-new-york"
            ),
            "Form your own LLC here today"
        );
    }

    #[test]
    fn a_leading_label_or_date_is_not_part_of_the_headline() {
        let url = "https://x.test/p/1";
        assert_eq!(
            title_of(
                &["Dec 18 2025 Preparing a transition in the archive"],
                &["Preparing a transition in the archive"],
                None,
                url
            ),
            "Preparing a transition in the archive"
        );
        assert_eq!(
            title_of(
                &["Hardware-Attested Nix Builds"],
                &["Garnix Blog: Hardware-Attested Nix Builds"],
                None,
                url
            ),
            "Hardware-Attested Nix Builds"
        );
        // A year in front is part of the headline.
        assert_eq!(
            title_of(
                &["2025 Software Development Price Guide"],
                &["Software Development Price Guide"],
                None,
                url
            ),
            "2025 Software Development Price Guide"
        );
    }

    #[test]
    fn casing_follows_the_title_case_spelling_of_the_same_words() {
        let url = "https://x.test/p/1";
        assert_eq!(
            title_of(
                &["How much should I pay for cleaning in San Diego?"],
                &["How Much Should I Pay For Cleaning in San Diego?"],
                None,
                url
            ),
            "How Much Should I Pay For Cleaning in San Diego?"
        );
        assert_eq!(
            title_of(
                &["The Best Film of 2025, According to Critics"],
                &["The best film of 2025, according to critics"],
                None,
                url
            ),
            "The Best Film of 2025, According to Critics"
        );
    }

    #[test]
    fn a_headline_cut_to_a_length_limit_gives_way_to_the_whole() {
        let whole = "Fix It Friday: Struggling With How To Arrange Your Living Room? We Help Four Readers Find Solutions (Including One Trick That Works)";
        let cut: String = whole.chars().take(105).collect();
        assert_eq!(
            title_of(
                &[],
                &[&cut, &format!("{whole} - Daily Planet")],
                None,
                "https://x.test/p/1"
            ),
            whole
        );
    }

    #[test]
    fn without_an_h1_the_headline_most_sources_repeat_wins() {
        assert_eq!(
            title_of(
                &[],
                &[
                    "Are you attending? Let's connect!: We will be at all of these events",
                    "Are you attending? Let's connect!",
                    "Are you attending? Let's connect!",
                ],
                Some("Are you attending? Let's connect! - Daily Planet"),
                "https://x.test/p/1"
            ),
            "Are you attending? Let's connect!"
        );
    }

    #[test]
    fn an_h1_agrees_with_the_part_of_a_title_before_a_separator() {
        assert_eq!(
            title_of(
                &["The Go Blog", "Defer, Panic, and Recover"],
                &[],
                Some("Defer, Panic, and Recover - The Go Programming Language"),
                "https://x.test/p/1"
            ),
            "Defer, Panic, and Recover"
        );
        // An all-capitals `<h1>` defers to the metadata's spelling.
        assert_eq!(
            title_of(
                &["BEST DRIP COFFEE MAKER IN 2026: TIPS FROM PROS"],
                &["Best Drip Coffee Maker 2026: Tips From Pros"],
                None,
                "https://x.test/p/1"
            ),
            "Best Drip Coffee Maker 2026: Tips From Pros"
        );
    }

    #[test]
    fn a_pipe_label_after_the_headline_is_dropped() {
        assert_eq!(
            title_of(
                &["Best Residential Movers in NYC 2025 | Top 19 Companies"],
                &["Best Residential Movers in NYC 2025 | Top 19 Companies | Daily Planet"],
                None,
                "https://x.test/p/1"
            ),
            "Best Residential Movers in NYC 2025"
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
