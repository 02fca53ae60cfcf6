//! `palimpsest schedule`: what the frontier will fetch, and when.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Outcome;
use crate::archive::Archive;
use crate::archive::from_micros;
use crate::frontier;

#[derive(Serialize)]
struct Row<'a> {
    due: DateTime<Utc>,
    url: &'a str,
    reason: &'static str,
}

/// Lists frontier entries by due time, soonest first (at most `limit`),
/// with how long from `now` each is due.
pub(crate) fn schedule(
    archive: &Archive,
    limit: usize,
    json: bool,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let entries = frontier::soonest(archive, limit)?;
    let total = frontier::len(archive);
    if !json {
        writeln!(out, "{total} queued")?;
        writeln!(out, "{:<20}  {:<10} {:<8} URL", "DUE", "IN", "REASON")?;
    }
    for entry in entries {
        let Some(page) = archive.page(entry.url)? else {
            continue;
        };
        let reason = page.due_reason();
        let due = from_micros(entry.due);
        if json {
            let row = Row {
                due,
                url: page.url.as_str(),
                reason,
            };
            writeln!(out, "{}", serde_json::to_string(&row)?)?;
        } else {
            let wait = (due - now).to_std().map_or("now".to_string(), |d| {
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
                super::table_time(due),
                wait,
                reason,
                page.url.as_str()
            )?;
        }
    }
    Ok(Outcome::Done)
}
