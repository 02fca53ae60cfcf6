//! `palimpsest export`: the corpus as JSONL, CSV or WARC.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use super::{Outcome, open_existing};
use crate::export::{self, AtomicOutput, Cells, Filter, Schema, Target, warc};

/// Output format of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One JSON article record a line.
    Jsonl,
    /// One row a version, with a header row.
    Csv,
    /// WARC 1.1: every capture as request and response (or revisit) records.
    Warc,
}

/// Everything `export` was asked.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The format written.
    pub format: ExportFormat,
    /// `None` or `-`: standard output; see [`Target`] for the rest.
    pub output: Option<PathBuf>,
    /// Which pages and versions are exported.
    pub filter: Filter,
    /// The field names of JSONL records.
    pub schema: Schema,
    /// CSV cells neutralised for spreadsheets, or as stored.
    pub cells: Cells,
    /// WARC: a new file is started past this many bytes.
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
    if let Some(path) = opts.output.as_deref().filter(|p| archive.owns(p)) {
        anyhow::bail!(
            "refusing to export to {}: it is part of the archive in {}, which the export would destroy",
            path.display(),
            dir.display()
        );
    }
    let target = Target::of(opts.output.as_deref())?;
    let bar = progress_bar();
    let tick = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    let mut stream = match &target {
        Target::Stream(p) => Some(export::open_stream(p)?),
        _ => None,
    };
    let direct: &mut dyn Write = match stream.as_mut() {
        Some(s) => s,
        None => stdout,
    };
    let (count, files) = match opts.format {
        ExportFormat::Jsonl | ExportFormat::Csv => {
            let mut file = match &target {
                Target::Replace(p) => Some(AtomicOutput::create(p)?),
                _ => None,
            };
            let out: &mut dyn Write = match file.as_mut() {
                Some(f) => f,
                None => direct,
            };
            let n = match opts.format {
                ExportFormat::Jsonl => export::jsonl(&archive, &opts.filter, opts.schema, out)?,
                _ => export::csv(&archive, &opts.filter, opts.cells, out)?,
            };
            tick(n);
            out.flush()?;
            let files = match file {
                Some(f) => vec![f.commit()?],
                None => Vec::new(),
            };
            (n, files)
        }
        ExportFormat::Warc => {
            let sink = match &target {
                Target::Replace(p) => warc::Sink::files(p, opts.max_file_size),
                _ => warc::Sink::Stream(direct),
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
    match (&target, files.is_empty()) {
        (Target::Stream(p), _) => eprintln!("exported {count} {what} to {}", p.display()),
        (_, true) => eprintln!("exported {count} {what}"),
        (_, false) => {
            let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            eprintln!("exported {count} {what} to {}", names.join(", "));
        }
    }
    Ok(Outcome::Done)
}
