//! `palimpsest export`: the corpus as JSONL, CSV or WARC.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use super::{Outcome, open_existing};
use crate::export::{self, AtomicOutput, Filter, Schema, warc};

/// Output format of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
    Warc,
}

/// Everything `export` was asked.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: ExportFormat,
    /// `None` or `-`: standard output.
    pub output: Option<PathBuf>,
    pub filter: Filter,
    pub schema: Schema,
    pub max_file_size: u64,
}

fn progress_bar() -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {pos} records {per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b
    })
}

/// Streams the selected records; a file output appears only when complete.
pub fn export(dir: &Path, opts: &ExportOptions, stdout: &mut dyn Write) -> anyhow::Result<Outcome> {
    let archive = open_existing(dir, "palimpsest export")?;
    let to_stdout = opts.output.as_deref().is_none_or(|p| p == Path::new("-"));
    let bar = progress_bar();
    let tick = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    let (count, files) = match opts.format {
        ExportFormat::Jsonl | ExportFormat::Csv => {
            let mut file = match (&opts.output, to_stdout) {
                (Some(p), false) => Some(AtomicOutput::create(p)?),
                _ => None,
            };
            let out: &mut dyn Write = match file.as_mut() {
                Some(f) => f,
                None => stdout,
            };
            let n = if opts.format == ExportFormat::Jsonl {
                export::jsonl(&archive, &opts.filter, opts.schema, out)?
            } else {
                export::csv(&archive, &opts.filter, out)?
            };
            tick(n);
            let files = match file {
                Some(f) => vec![f.commit()?],
                None => {
                    stdout.flush()?;
                    Vec::new()
                }
            };
            (n, files)
        }
        ExportFormat::Warc => {
            let sink = match (&opts.output, to_stdout) {
                (Some(p), false) => warc::Sink::files(p, opts.max_file_size),
                _ => warc::Sink::Stream(stdout),
            };
            let mut writer = warc::WarcWriter::new(sink);
            let n = warc::export(&archive, &opts.filter, &mut writer, tick)?;
            (n, writer.finish()?)
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let what = if opts.format == ExportFormat::Warc {
        "captures"
    } else {
        "records"
    };
    if files.is_empty() {
        eprintln!("exported {count} {what}");
    } else {
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        eprintln!("exported {count} {what} to {}", names.join(", "));
    }
    Ok(Outcome::Done)
}
