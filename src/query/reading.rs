//! A reading command as one process sends it to another: a command
//! refused the archive's lock posts it to the process holding the archive
//! (`/api/read`), which answers with the very text the command prints.
//! Its JSON is that wire format; a field added needs `#[serde(default)]`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A reading command and its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum Reading {
    /// `list`: the archived pages.
    List {
        /// Every page, not only articles.
        all_pages: bool,
        /// JSON Lines instead of a table.
        json: bool,
    },
    /// `stats`: counts and sizes of the archive.
    Stats {
        /// JSON instead of text.
        json: bool,
    },
    /// `schedule`: what the frontier fetches next, and when.
    Schedule {
        /// Entries shown at most.
        limit: usize,
        /// JSON instead of a table.
        json: bool,
        /// The time waits are counted from: the asking process's clock
        /// (absent: the answering process's real time).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        now: Option<DateTime<Utc>>,
    },
    /// `history`: the versions of one URL.
    History {
        /// The URL as the user typed it.
        url: String,
        /// JSON instead of a table.
        json: bool,
    },
    /// `show`: one version's article.
    Show {
        /// The URL as the user typed it.
        url: String,
        /// The version number (1-based); `None` for the latest.
        version: Option<u32>,
        /// The article record as JSON instead of text.
        json: bool,
    },
    /// `diff`: word-level differences between two versions.
    Diff {
        /// The URL as the user typed it.
        url: String,
        /// The older version; `None` for the one before `b`.
        a: Option<u32>,
        /// The newer version; `None` for the latest.
        b: Option<u32>,
        /// How the differences are written.
        format: DiffFormat,
        /// Colour the text format with ANSI escapes (a terminal that allows it).
        colour: bool,
    },
    /// `sources`: the chain of an article's sources.
    Sources {
        /// The URL as the user typed it.
        url: String,
        /// JSON instead of text.
        json: bool,
    },
    /// `changes`: pages that gained a version.
    Changes {
        /// Only versions first seen at or after this time; `None` for all.
        since: Option<DateTime<Utc>>,
        /// Every page, not only articles.
        all_pages: bool,
        /// JSON Lines instead of text.
        json: bool,
    },
    /// `export`: the corpus, streamed back (the asking process writes it
    /// to its `-o`, which is not sent).
    Export(crate::commands::ExportOptions),
    /// `search`: the versions whose text matches a query.
    Search {
        /// The query and its filters.
        query: crate::search::SearchQuery,
        /// JSON Lines instead of text.
        json: bool,
        /// Matches in bold (a terminal that allows it) rather than between
        /// brackets.
        colour: bool,
    },
    /// `verify`: the integrity check.
    Verify {
        /// JSON instead of text.
        json: bool,
    },
}

/// Output format of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffFormat {
    /// Text with removed words marked `[-…-]` and added ones `{+…+}` (or
    /// coloured instead).
    Text,
    /// JSON: each field and paragraph with its change and runs of words.
    Json,
    /// A standalone HTML page with removals and additions marked.
    Html,
}

impl Reading {
    /// The command's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Reading::List { .. } => "list",
            Reading::Stats { .. } => "stats",
            Reading::Schedule { .. } => "schedule",
            Reading::History { .. } => "history",
            Reading::Show { .. } => "show",
            Reading::Diff { .. } => "diff",
            Reading::Changes { .. } => "changes",
            Reading::Sources { .. } => "sources",
            Reading::Export(_) => "export",
            Reading::Verify { .. } => "verify",
            Reading::Search { .. } => "search",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON two processes exchange, spelled out: a change here breaks
    /// a command forwarded to a server of the previous release.
    #[test]
    fn the_wire_format_is_unchanged() {
        let cases = [
            (
                Reading::List {
                    all_pages: true,
                    json: false,
                },
                r#"{"command":"list","all_pages":true,"json":false}"#,
            ),
            (
                Reading::Schedule {
                    limit: 5,
                    json: true,
                    now: None,
                },
                r#"{"command":"schedule","limit":5,"json":true}"#,
            ),
            (
                Reading::Show {
                    url: "http://a.test/".into(),
                    version: Some(2),
                    json: false,
                },
                r#"{"command":"show","url":"http://a.test/","version":2,"json":false}"#,
            ),
            (
                Reading::Diff {
                    url: "http://a.test/".into(),
                    a: None,
                    b: Some(3),
                    format: DiffFormat::Html,
                    colour: false,
                },
                r#"{"command":"diff","url":"http://a.test/","a":null,"b":3,"format":"html","colour":false}"#,
            ),
            (
                Reading::Changes {
                    since: DateTime::from_timestamp(1_700_000_000, 0),
                    all_pages: false,
                    json: true,
                },
                r#"{"command":"changes","since":"2023-11-14T22:13:20Z","all_pages":false,"json":true}"#,
            ),
            (
                Reading::Export(crate::commands::ExportOptions {
                    format: crate::commands::ExportFormat::Warc,
                    output: None,
                    filter: crate::export::Filter {
                        hosts: vec!["a.test".into()],
                        all_pages: true,
                        ..Default::default()
                    },
                    schema: crate::export::Schema::NewsPlease,
                    cells: crate::export::Cells::Raw,
                    max_file_size: 1000,
                }),
                r#"{"command":"export","format":"warc","filter":{"hosts":["a.test"],"since":null,"until":null,"languages":[],"all_versions":false,"all_pages":true},"schema":"news-please","cells":"raw","max_file_size":1000}"#,
            ),
            (
                Reading::Verify { json: true },
                r#"{"command":"verify","json":true}"#,
            ),
            (
                Reading::Search {
                    query: crate::search::SearchQuery {
                        text: "\"a phrase\" -word".into(),
                        host: Some("a.test".into()),
                        since: DateTime::from_timestamp(1_700_000_000, 0),
                        removed: true,
                        limit: 5,
                        ..Default::default()
                    },
                    json: false,
                    colour: true,
                },
                r#"{"command":"search","query":{"text":"\"a phrase\" -word","host":"a.test","language":null,"since":"2023-11-14T22:13:20Z","until":null,"dated_by":"published","removed":true,"limit":5},"json":false,"colour":true}"#,
            ),
        ];
        for (reading, wire) in cases {
            assert_eq!(serde_json::to_string(&reading).unwrap(), wire);
            assert_eq!(serde_json::from_str::<Reading>(wire).unwrap(), reading);
        }
    }
}
