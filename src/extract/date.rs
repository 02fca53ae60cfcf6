//! Dates in the forms pages write them: RFC 3339 and its sloppy cousins in
//! metadata, RFC 2822, dates in URL paths, and visible dates in common
//! languages ("4 September 2025", "25 Oktober 2025", "ngày 25 tháng 10 năm
//! 2025", "2025年10月25日"). A date without a time is midnight; a time
//! without a zone is taken as UTC, since nothing better is known.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use regex::Regex;

type Dt = DateTime<FixedOffset>;

/// Parses a machine-readable timestamp (metadata, `datetime` attributes,
/// JSON-LD), falling back to the visible-date parser.
pub(crate) fn parse_machine(s: &str) -> Option<Dt> {
    let s = s.trim();
    if s.is_empty() || s.len() > 200 {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return plausible(d);
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%d %H:%M%:z",
        "%Y-%m-%dT%H:%M:%S%.f %z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return plausible(d);
        }
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return plausible(d);
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y%m%dT%H%M%S",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return utc(d);
        }
    }
    // A trailing "Z" with a format chrono's RFC 3339 parser rejects
    // (for example without seconds).
    if let Some(stripped) = s.strip_suffix('Z').or_else(|| s.strip_suffix(" UTC")) {
        for f in [
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S",
        ] {
            if let Ok(d) = NaiveDateTime::parse_from_str(stripped, f) {
                return utc(d);
            }
        }
    }
    for f in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return midnight(d);
        }
    }
    // "2025-09-04T10:00:00+0700 (WIB)" and other decorated forms: the ISO
    // date at the start still says the day.
    if let Some(c) = ISO_PREFIX.captures(s) {
        return ymd(&c[1], &c[2], &c[3]).and_then(midnight);
    }
    parse_visible(s, None)
}

static ISO_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\b").unwrap_or_else(|e| unreachable!("{e}"))
});

/// Month names (and common abbreviations) in English, Indonesian/Malay,
/// German, Dutch, French, Spanish, Portuguese, Italian and Russian (the
/// genitive forms used in dates).
static MONTHS: LazyLock<HashMap<&'static str, u32>> = LazyLock::new(|| {
    let table: [&[&str]; 12] = [
        &[
            "january",
            "jan",
            "januari",
            "januar",
            "jänner",
            "janvier",
            "janv",
            "enero",
            "ene",
            "janeiro",
            "gennaio",
            "gen",
            "января",
            "янв",
            "januarie",
        ],
        &[
            "february",
            "feb",
            "febr",
            "februari",
            "februar",
            "février",
            "fév",
            "févr",
            "febrero",
            "fevereiro",
            "fev",
            "febbraio",
            "февраля",
            "фев",
        ],
        &[
            "march",
            "mar",
            "maret",
            "märz",
            "maart",
            "mars",
            "marzo",
            "março",
            "марта",
            "мар",
        ],
        &[
            "april",
            "apr",
            "avril",
            "avr",
            "abril",
            "abr",
            "aprile",
            "апреля",
            "апр",
        ],
        &["may", "mei", "mai", "mayo", "maio", "maggio", "mag", "мая"],
        &[
            "june", "jun", "juni", "juin", "junio", "junho", "giugno", "giu", "июня", "июн",
        ],
        &[
            "july", "jul", "juli", "juillet", "juil", "julio", "julho", "luglio", "lug", "июля",
            "июл",
        ],
        &[
            "august",
            "aug",
            "agustus",
            "agu",
            "agt",
            "ags",
            "augustus",
            "août",
            "agosto",
            "ago",
            "августа",
            "авг",
        ],
        &[
            "september",
            "sep",
            "sept",
            "septembre",
            "septiembre",
            "setiembre",
            "setembro",
            "set",
            "settembre",
            "сентября",
            "сен",
        ],
        &[
            "october",
            "oct",
            "oktober",
            "okt",
            "octobre",
            "octubre",
            "outubro",
            "out",
            "ottobre",
            "ott",
            "октября",
            "окт",
        ],
        &[
            "november",
            "nov",
            "nopember",
            "novembre",
            "noviembre",
            "novembro",
            "ноября",
            "ноя",
        ],
        &[
            "december",
            "dec",
            "desember",
            "des",
            "dezember",
            "dez",
            "décembre",
            "déc",
            "diciembre",
            "dic",
            "dezembro",
            "dicembre",
            "декабря",
            "дек",
        ],
    ];
    let mut m = HashMap::new();
    for (i, names) in table.iter().enumerate() {
        for n in *names {
            m.insert(*n, i as u32 + 1);
        }
    }
    m
});

static MONTH_ALT: LazyLock<String> = LazyLock::new(|| {
    let mut names: Vec<&str> = MONTHS.keys().copied().collect();
    // Longest first, so "september" wins over "sep".
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    names.join("|")
});

struct Visible {
    day_month_year: Regex,
    month_day_year: Regex,
    numeric: Regex,
    iso: Regex,
    cjk: Regex,
    vietnamese: Regex,
}

static VISIBLE: LazyLock<Visible> = LazyLock::new(|| {
    let m = MONTH_ALT.as_str();
    let re = |p: &str| Regex::new(p).unwrap_or_else(|e| unreachable!("date regex: {e}"));
    Visible {
        day_month_year: re(&format!(
            r"(?i)\b(\d{{1,2}})(?:st|nd|rd|th|er|º)?\.?\s*(?:de\s+|of\s+)?({m})\.?,?\s*(?:de\s+)?(\d{{4}})\b"
        )),
        month_day_year: re(&format!(
            r"(?i)\b({m})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b"
        )),
        numeric: re(r"\b(\d{1,2})[./-](\d{1,2})[./-](\d{4})\b"),
        iso: re(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:\b|T\d)"),
        cjk: re(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
        vietnamese: re(r"(?i)\b(\d{1,2})\s+tháng\s+(\d{1,2}),?\s+(?:năm\s+)?(\d{4})\b"),
    }
});

/// Finds the first date written for people in `s`. `lang` (a BCP 47
/// primary subtag) decides whether `04/09/2025` is April or September:
/// month first only for English.
pub(crate) fn parse_visible(s: &str, lang: Option<&str>) -> Option<Dt> {
    // Every form has a four-digit year; most text has none, and one scan
    // says so before six regexes would.
    if !has_four_digit_run(s) {
        return None;
    }
    let v = &*VISIBLE;
    let mut best: Option<(usize, Dt)> = None;
    let mut consider = |pos: usize, d: Option<Dt>| {
        if let Some(d) = d
            && best.as_ref().is_none_or(|(p, _)| pos < *p)
        {
            best = Some((pos, d));
        }
    };
    if let Some(c) = v.iso.captures(s) {
        consider(
            c.get(0).map_or(0, |m| m.start()),
            ymd(&c[1], &c[2], &c[3]).and_then(midnight),
        );
    }
    if let Some(c) = v.cjk.captures(s) {
        consider(
            c.get(0).map_or(0, |m| m.start()),
            ymd(&c[1], &c[2], &c[3]).and_then(midnight),
        );
    }
    if let Some(c) = v.vietnamese.captures(s) {
        consider(
            c.get(0).map_or(0, |m| m.start()),
            ymd(&c[3], &c[2], &c[1]).and_then(midnight),
        );
    }
    if let Some(c) = v.day_month_year.captures(s) {
        let month = MONTHS.get(c[2].to_lowercase().as_str()).copied();
        let d = month.and_then(|m| ymd(&c[3], &m.to_string(), &c[1]).and_then(midnight));
        consider(c.get(0).map_or(0, |m| m.start()), d);
    }
    if let Some(c) = v.month_day_year.captures(s) {
        let month = MONTHS.get(c[1].to_lowercase().as_str()).copied();
        let d = month.and_then(|m| ymd(&c[3], &m.to_string(), &c[2]).and_then(midnight));
        consider(c.get(0).map_or(0, |m| m.start()), d);
    }
    if let Some(c) = v.numeric.captures(s) {
        // `\d` is any script's digit: a form `u32` cannot read is skipped,
        // not taken for the absence of every other date.
        if let (Ok(a), Ok(b)) = (c[1].parse::<u32>(), c[2].parse::<u32>()) {
            consider_numeric(&mut consider, &c, a, b, lang);
        }
    }
    best.map(|(_, d)| d)
}

/// A day and month written as numbers (`a`, `b`), read in the order the
/// language writes them when neither is over 12.
fn consider_numeric(
    consider: &mut impl FnMut(usize, Option<Dt>),
    c: &regex::Captures<'_>,
    a: u32,
    b: u32,
    lang: Option<&str>,
) {
    let month_first = if a > 12 {
        false
    } else if b > 12 {
        true
    } else {
        lang.is_none_or(|l| l == "en")
    };
    let (m, d) = if month_first { (a, b) } else { (b, a) };
    consider(
        c.get(0).map_or(0, |m| m.start()),
        ymd(&c[3], &m.to_string(), &d.to_string()).and_then(midnight),
    );
}

/// Whether four digits (of any script, as the regexes' `\d` reads them)
/// stand in a row.
fn has_four_digit_run(s: &str) -> bool {
    let mut run = 0;
    for c in s.chars() {
        run = if c.is_numeric() { run + 1 } else { 0 };
        if run == 4 {
            return true;
        }
    }
    false
}

static URL_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"/((?:19|20)\d{2})[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?:\D|$)")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

static URL_DATE_NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)/((?:19|20)\d{2})/([a-z]{3,9})/(0?[1-9]|[12]\d|3[01])(?:/|$)")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// A publication day written in the URL path (`/2025/09/04/slug`,
/// `/20250904/`, `/2025-09-04-slug`, `/2023/october/03/slug`).
pub(crate) fn from_url_path(path: &str) -> Option<Dt> {
    if let Some(c) = URL_DATE.captures(path) {
        return ymd(&c[1], &c[2], &c[3]).and_then(midnight);
    }
    let c = URL_DATE_NAMED.captures(path)?;
    let month = MONTHS.get(c[2].to_lowercase().as_str())?;
    ymd(&c[1], &month.to_string(), &c[3]).and_then(midnight)
}

static SCRIPT_STATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:datePublished|publishDate|publishedDate|published_at|publishedAt|firstPublished|pubDate|"date)\\*(?:"|&quot;)\s*:\s*\\*(?:"|&quot;)([0-9]{4}-[0-9T:.+\-Z ]{5,40})"#)
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// A publication date in a page's script state (`"datePublished":"…"` in
/// hydration data rather than JSON-LD).
pub(crate) fn from_script_state(html: &str) -> Option<Dt> {
    SCRIPT_STATE
        .captures_iter(html)
        .take(5)
        .find_map(|c| parse_machine(&c[1]))
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

fn midnight(d: NaiveDate) -> Option<Dt> {
    utc(d.and_time(NaiveTime::MIN))
}

fn utc(d: NaiveDateTime) -> Option<Dt> {
    let zero = FixedOffset::east_opt(0)?;
    plausible(zero.from_utc_datetime(&d))
}

/// News archives do not predate the web by much, and a date far in the
/// future is a placeholder or a parse of something else.
fn plausible(d: Dt) -> Option<Dt> {
    let year = chrono::Datelike::year(&d);
    (1990..=2100).contains(&year).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: Option<Dt>) -> String {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    }

    #[test]
    fn machine_forms() {
        assert_eq!(
            parse_machine("2025-10-25T08:30:00+07:00").map(|d| d.to_rfc3339()),
            Some("2025-10-25T08:30:00+07:00".into())
        );
        assert_eq!(
            day(parse_machine("2025-10-25T08:30:00.000+0700")),
            "2025-10-25"
        );
        assert_eq!(day(parse_machine("2025-10-25 08:30:00")), "2025-10-25");
        assert_eq!(
            day(parse_machine("Sat, 25 Oct 2025 08:30:00 GMT")),
            "2025-10-25"
        );
        assert_eq!(day(parse_machine("2025-10-25")), "2025-10-25");
        assert_eq!(day(parse_machine("2025-10-25T08:30Z")), "2025-10-25");
        assert!(parse_machine("yesterday").is_none());
        assert!(parse_machine("0000-00-00").is_none());
    }

    #[test]
    fn visible_forms() {
        assert_eq!(
            day(parse_visible("Published September 4, 2025 at 10:00", None)),
            "2025-09-04"
        );
        assert_eq!(
            day(parse_visible(
                "Sabtu, 25 Oktober 2025 08:30 WIB",
                Some("id")
            )),
            "2025-10-25"
        );
        assert_eq!(
            day(parse_visible(
                "Thứ bảy, ngày 25 tháng 10 năm 2025",
                Some("vi")
            )),
            "2025-10-25"
        );
        assert_eq!(day(parse_visible("4. März 2025", Some("de"))), "2025-03-04");
        assert_eq!(
            day(parse_visible("4 de septiembre de 2025", Some("es"))),
            "2025-09-04"
        );
        assert_eq!(
            day(parse_visible("2025年10月25日 8時", Some("ja"))),
            "2025-10-25"
        );
        assert_eq!(day(parse_visible("04/09/2025", Some("fr"))), "2025-09-04");
        assert_eq!(day(parse_visible("04/09/2025", Some("en"))), "2025-04-09");
        // A form in other digits beside a good date does not hide it.
        assert_eq!(
            day(parse_visible("25 October 2025 · ١٢/٠٣/٢٠٢٥", Some("en"))),
            "2025-10-25"
        );
        assert_eq!(
            day(parse_visible("25 октября 2025 г.", Some("ru"))),
            "2025-10-25"
        );
    }

    #[test]
    fn url_paths() {
        assert_eq!(day(from_url_path("/2025/09/04/some-story/")), "2025-09-04");
        assert_eq!(day(from_url_path("/news/20251025/x.html")), "2025-10-25");
        assert_eq!(day(from_url_path("/2025-10-25-story")), "2025-10-25");
        assert_eq!(
            day(from_url_path("/blog/2023/october/03/how-many-styles")),
            "2023-10-03"
        );
        assert!(from_url_path("/2023/octopus/03/x").is_none());
        assert!(from_url_path("/2025/13/40/x").is_none());
        assert!(from_url_path("/about").is_none());
    }
}
