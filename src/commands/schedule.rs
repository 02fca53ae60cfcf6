//! `palimpsest schedule` as the CLI prints it: what the frontier will
//! fetch, and when.

use std::io::Write;

use chrono::{DateTime, Utc};

use super::Outcome;
use crate::archive::Archive;
use crate::query;

/// Lists frontier entries by due time, soonest first (at most `limit`),
/// with how long from `now` each is due.
pub(crate) fn schedule(
    archive: &Archive,
    limit: usize,
    json: bool,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let schedule = query::schedule(archive, limit)?;
    if !json {
        writeln!(out, "{} queued", schedule.queued)?;
        writeln!(out, "{:<20}  {:<10} {:<8} URL", "DUE", "IN", "REASON")?;
    }
    for entry in &schedule.soonest {
        if json {
            writeln!(out, "{}", serde_json::to_string(entry)?)?;
            continue;
        }
        let wait = (entry.due - now).to_std().map_or("now".to_string(), |d| {
            humantime::format_duration(std::time::Duration::from_secs(d.as_secs())).to_string()
        });
        let wait = if wait == "0s" {
            "now".to_string()
        } else {
            wait
        };
        writeln!(
            out,
            "{:<20}  {:<10} {:<8} {}",
            super::table_time(entry.due),
            wait,
            entry.reason,
            entry.url
        )?;
    }
    Ok(Outcome::Done)
}
