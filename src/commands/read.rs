//! Running the commands that only read the archive: `list`, `stats`,
//! `schedule`, `history`, `show`, `diff`, `changes`.
//!
//! sled admits one process per archive. When a `watch --serve` or `serve`
//! process holds it, a reading command is sent to that process, whose
//! `/api/read` route runs [`Reading::run_on`] (it is given [`print`]) on the
//! archive it holds, so the answer is the same text either way.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use super::{Outcome, open_existing, schedule, versions};
use crate::archive::{Archive, ArchiveError};
use crate::query::Reading;

/// Prints a reading command's answer on an open archive: what the process
/// serving the archive runs for a command forwarded to it.
pub(crate) fn print(
    reading: &Reading,
    archive: &Archive,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    reading.run_on(archive, out).map(drop)
}

impl Reading {
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
