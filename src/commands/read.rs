//! The commands that only read the archive: `list`, `stats`, `schedule`,
//! `history`, `show`, `diff`, `changes`.
//!
//! sled admits one process per archive. When a `watch --serve` or `serve`
//! process holds it, a reading command is sent to that process (its
//! `/api/read` route runs [`Reading::run_on`] on the archive it holds), so
//! the answer is the same text either way.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{DiffFormat, Outcome, open_existing, schedule, versions};
use crate::archive::{Archive, ArchiveError};

/// A reading command and its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum Reading {
    List {
        all_pages: bool,
        json: bool,
    },
    Stats {
        json: bool,
    },
    Schedule {
        limit: usize,
        json: bool,
        /// The time waits are counted from (the asking process's clock).
        now: DateTime<Utc>,
    },
    History {
        url: String,
        json: bool,
    },
    Show {
        url: String,
        version: Option<u32>,
        json: bool,
    },
    Diff {
        url: String,
        a: Option<u32>,
        b: Option<u32>,
        format: DiffFormat,
        colour: bool,
    },
    Changes {
        since: Option<DateTime<Utc>>,
        all_pages: bool,
        json: bool,
    },
}

impl Reading {
    fn name(&self) -> &'static str {
        match self {
            Reading::List { .. } => "list",
            Reading::Stats { .. } => "stats",
            Reading::Schedule { .. } => "schedule",
            Reading::History { .. } => "history",
            Reading::Show { .. } => "show",
            Reading::Diff { .. } => "diff",
            Reading::Changes { .. } => "changes",
        }
    }

    /// Runs the command on the archive in `dir`, or in the process that
    /// holds it and serves it.
    pub fn run(&self, dir: &Path, out: &mut dyn Write) -> anyhow::Result<Outcome> {
        match open_existing(dir, &format!("palimpsest {}", self.name())) {
            Ok(archive) => self.run_on(&archive, out),
            Err(e) => {
                let locked = matches!(
                    e.downcast_ref::<ArchiveError>(),
                    Some(ArchiveError::Locked { .. })
                );
                match Archive::serving_origin(dir).filter(|_| locked) {
                    Some(origin) => self.ask(&origin, out),
                    None => Err(e),
                }
            }
        }
    }

    /// Runs the command on an open archive.
    pub fn run_on(&self, archive: &Archive, out: &mut dyn Write) -> anyhow::Result<Outcome> {
        match self {
            Reading::List { all_pages, json } => super::list(archive, *all_pages, *json, out),
            Reading::Stats { json } => super::stats(archive, *json, out),
            Reading::Schedule { limit, json, now } => {
                schedule::schedule(archive, *limit, *json, *now, out)
            }
            Reading::History { url, json } => versions::history(archive, url, *json, out),
            Reading::Show { url, version, json } => {
                versions::show(archive, url, *version, *json, out)
            }
            Reading::Diff {
                url,
                a,
                b,
                format,
                colour,
            } => versions::diff(archive, url, *a, *b, *format, *colour, out),
            Reading::Changes {
                since,
                all_pages,
                json,
            } => versions::changes(archive, *since, *all_pages, *json, out),
        }
    }

    /// Sends the command to the process serving the archive at `origin`.
    fn ask(&self, origin: &str, out: &mut dyn Write) -> anyhow::Result<Outcome> {
        let endpoint = format!("{origin}/api/read");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let request = serde_json::to_vec(self)?;
        let (ok, body) = runtime
            .block_on(async {
                let response = crate::fetch::client_builder()
                    .no_proxy()
                    .build()?
                    .post(&endpoint)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(request)
                    .send()
                    .await?;
                let ok = response.status().is_success();
                reqwest::Result::Ok((ok, response.bytes().await?))
            })
            .with_context(|| {
                format!("the archive is held by the process serving {origin}, which did not answer")
            })?;
        if !ok {
            anyhow::bail!("{}", String::from_utf8_lossy(&body).trim());
        }
        out.write_all(&body)?;
        Ok(Outcome::Done)
    }
}
