//! Running the commands that only read the archive: `list`, `stats`,
//! `schedule`, `history`, `show`, `diff`, `changes`, `sources`, `export`,
//! `verify`, `search`.
//!
//! sled admits one process per archive. When a `watch --serve` or `serve`
//! process holds it, a reading command is sent to that process, whose
//! `/api/read` route runs [`Reading::run_on`] (it is given [`print`]) on the
//! archive it holds, so the answer is the same text either way. An export
//! is streamed back as it is written, never held whole in memory; how a
//! command ended (`verify`'s problems) comes back in [`OUTCOME_HEADER`].

use std::io::Write;

use anyhow::Context;

use super::{Outcome, open_existing, schedule, versions};
use crate::archive::{Archive, ArchiveError, Location};
use crate::query::Reading;

/// The response header that says how a forwarded command ended.
pub(crate) const OUTCOME_HEADER: &str = "palimpsest-outcome";
/// [`OUTCOME_HEADER`]'s value for a command that found problems.
pub(crate) const PROBLEMS: &str = "problems";

/// Prints a reading command's answer on an open archive: what the process
/// serving the archive runs for a command forwarded to it.
pub(crate) fn print(
    reading: &Reading,
    archive: &Archive,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    match reading {
        Reading::Export(opts) => super::export::export_quietly(archive, opts, out),
        _ => reading.run_on(archive, out),
    }
}

impl Reading {
    /// Runs the command on the archive in `dir`, or in the process that
    /// holds it and serves it.
    pub fn run(&self, location: &Location, out: &mut dyn Write) -> anyhow::Result<Outcome> {
        if let (Reading::Export(opts), Some(dir)) = (self, location.dir()) {
            super::export::refuse_archive_output(dir, opts)?;
        }
        match open_existing(location, &format!("palimpsest {}", self.name())) {
            Ok(archive) => self.run_on(&archive, out),
            Err(e) => {
                if let (Reading::Verify { json }, Some(damaged @ ArchiveError::Damaged { .. })) =
                    (self, e.downcast_ref::<ArchiveError>())
                {
                    return super::verify_damaged(damaged, *json, out);
                }
                let locked = matches!(
                    e.downcast_ref::<ArchiveError>(),
                    Some(ArchiveError::Locked { .. })
                );
                let serving = location.dir().and_then(Archive::serving_origin);
                match serving.filter(|_| locked) {
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
                let now = now.unwrap_or_else(chrono::Utc::now);
                schedule::schedule(archive, *limit, *json, now, out)
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
            Reading::Export(opts) => super::export::export_on(archive, opts, out),
            Reading::Verify { json } => super::verify_on(archive, *json, out),
            Reading::Sources { url, json } => versions::sources(archive, url, *json, out),
            Reading::Search {
                query,
                json,
                colour,
            } => super::search(archive, query, *json, *colour, out),
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
        let no_answer =
            || format!("the archive is held by the process serving {origin}, which did not answer");
        let mut response = runtime
            .block_on(async {
                crate::fetch::client_builder()
                    .no_proxy()
                    .build()?
                    .post(&endpoint)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(request)
                    .send()
                    .await
            })
            .with_context(no_answer)?;
        if !response.status().is_success() {
            let body = runtime.block_on(response.bytes()).with_context(no_answer)?;
            anyhow::bail!("{}", String::from_utf8_lossy(&body).trim());
        }
        let problems = response
            .headers()
            .get(OUTCOME_HEADER)
            .is_some_and(|v| v == PROBLEMS);
        // Chunk by chunk as they arrive: an export may be larger than memory.
        let mut copy = |to: &mut dyn Write| -> anyhow::Result<u64> {
            let mut n = 0;
            while let Some(chunk) = runtime
                .block_on(response.chunk())
                .with_context(|| format!("the process serving {origin} broke off its answer"))?
            {
                to.write_all(&chunk)?;
                n += chunk.len() as u64;
            }
            Ok(n)
        };
        match self {
            Reading::Export(opts) => super::export::receive(opts, out, copy),
            _ => {
                copy(out)?;
                Ok(if problems {
                    Outcome::Problems
                } else {
                    Outcome::Done
                })
            }
        }
    }
}
