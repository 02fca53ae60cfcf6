//! Record shapes of the exports: article records, news-please's field names,
//! CSV rows.

use serde::Serialize;

use super::Result;
use crate::archive::{Archive, PageRecord, Store, UrlId, VersionRecord};
use crate::article::{ArticleRecord, PageKind};

/// Field names of a JSONL export.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Schema {
    /// The article record (`ArticleRecord`).
    #[default]
    Palimpsest,
    /// news-please's names, for existing corpus tooling.
    NewsPlease,
}

/// The article record of one archived version.
pub(crate) fn article_record(
    archive: &Archive,
    id: UrlId,
    page: &PageRecord,
    version: VersionRecord,
) -> Result<ArticleRecord> {
    let payload = archive
        .capture_at(id, version.capture_at)?
        .and_then(|c| c.payload);
    let mut record = ArticleRecord::new(page.url.to_string(), version.article);
    record.version = Some(version.number);
    record.captured_at = Some(version.capture_at);
    record.content_digest = payload;
    Ok(record)
}

/// news-please's article fields (dates as `YYYY-MM-DD HH:MM:SS`).
#[derive(Serialize)]
pub(crate) struct NewsPlease<'a> {
    pub title: Option<&'a str>,
    pub authors: &'a [String],
    pub date_publish: Option<String>,
    pub date_modify: Option<String>,
    pub date_download: Option<String>,
    pub language: Option<&'a str>,
    pub url: &'a str,
    pub source_domain: String,
    pub maintext: &'a str,
    pub description: Option<&'a str>,
}

const NEWS_PLEASE_DATE: &str = "%Y-%m-%d %H:%M:%S";

impl<'a> From<&'a ArticleRecord> for NewsPlease<'a> {
    fn from(r: &'a ArticleRecord) -> Self {
        Self {
            title: r.title.as_deref(),
            authors: &r.authors,
            date_publish: r.published.map(|d| d.format(NEWS_PLEASE_DATE).to_string()),
            date_modify: r.modified.map(|d| d.format(NEWS_PLEASE_DATE).to_string()),
            date_download: r
                .captured_at
                .map(|d| d.format(NEWS_PLEASE_DATE).to_string()),
            language: r.language.as_deref(),
            url: &r.url,
            source_domain: url::Url::parse(&r.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default(),
            maintext: &r.text,
            description: r.description.as_deref(),
        }
    }
}

pub(crate) const CSV_HEADER: [&str; 15] = [
    "url",
    "canonical_url",
    "title",
    "authors",
    "published",
    "modified",
    "language",
    "site_name",
    "description",
    "text",
    "source_links",
    "kind",
    "version",
    "captured_at",
    "content_digest",
];

/// How CSV cells are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cells {
    /// A cell a spreadsheet would run as a formula (it starts with `=`,
    /// `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`.
    #[default]
    Neutralised,
    /// As stored.
    Raw,
}

impl Cells {
    fn write(self, cell: String) -> String {
        let formula_like = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
        if self == Cells::Neutralised && formula_like {
            format!("'{cell}")
        } else {
            cell
        }
    }
}

pub(crate) fn csv_row(r: &ArticleRecord, cells: Cells) -> [String; 15] {
    csv_cells(r).map(|cell| cells.write(cell))
}

fn csv_cells(r: &ArticleRecord) -> [String; 15] {
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    [
        r.url.clone(),
        opt(&r.canonical_url),
        opt(&r.title),
        r.authors.join("; "),
        r.published.map(|d| d.to_rfc3339()).unwrap_or_default(),
        r.modified.map(|d| d.to_rfc3339()).unwrap_or_default(),
        opt(&r.language),
        opt(&r.site_name),
        opt(&r.description),
        r.text.clone(),
        r.source_links.join(" "),
        match r.kind {
            PageKind::Article => "article".into(),
            PageKind::Page => "page".into(),
        },
        r.version.map(|v| v.to_string()).unwrap_or_default(),
        r.captured_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
        r.content_digest.map(|d| d.to_string()).unwrap_or_default(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_get_a_quote_unless_raw() {
        for cell in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(Cells::Neutralised.write(cell.into()), format!("'{cell}"));
            assert_eq!(Cells::Raw.write(cell.into()), cell);
        }
        for cell in ["", "plain", "1-1", "'=x"] {
            assert_eq!(Cells::Neutralised.write(cell.into()), cell);
        }
    }
}
