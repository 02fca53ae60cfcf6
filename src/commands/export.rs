//! `palimpsest export`: the corpus as JSONL, CSV or WARC.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use super::Outcome;
use crate::archive::{self, Archive};
use crate::export::{self, AtomicOutput, Cells, Filter, Schema, Target, warc};

/// Output format of `export`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// One JSON article record a line.
    Jsonl,
    /// One row a version, with a header row.
    Csv,
    /// WARC 1.1: every capture as request and response (or revisit) records.
    Warc,
}

/// Everything `export` was asked. Sent as JSON to the process holding the
/// archive (see `query::Reading`), without `output`: that process streams
/// the export back, and the asking process writes it where it was asked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportOptions {
    /// The format written.
    pub format: ExportFormat,
    /// `None` or `-`: standard output; see [`Target`] for the rest.
    #[serde(skip)]
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

/// A spinner counting records on a terminal; none otherwise.
pub(super) fn progress_bar() -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {pos} records {per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b
    })
}

/// Refuses an `-o` that names the archive's own files: writing there would
/// destroy the archive being read.
pub(crate) fn refuse_archive_output(dir: &Path, opts: &ExportOptions) -> anyhow::Result<()> {
    if let Some(path) = opts.output.as_deref().filter(|p| archive::owns(dir, p)) {
        anyhow::bail!(
            "refusing to export to {}: it is part of the archive in {}, which the export would destroy",
            path.display(),
            dir.display()
        );
    }
    Ok(())
}

/// The export of an open archive to `out`, nothing said on stderr: what
/// the process holding the archive streams to a forwarded `export`.
pub(crate) fn export_quietly(
    archive: &Archive,
    opts: &ExportOptions,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    match opts.format {
        ExportFormat::Jsonl => export::jsonl(archive, &opts.filter, opts.schema, out)?,
        ExportFormat::Csv => export::csv(archive, &opts.filter, opts.cells, out)?,
        ExportFormat::Warc => {
            let mut writer = warc::WarcWriter::new(warc::Sink::Stream(out));
            let n = warc::export(archive, &opts.filter, &mut writer, |_| {})?;
            writer.finish()?;
            n
        }
    };
    out.flush()?;
    Ok(Outcome::Done)
}

/// Where a forwarded export's stream goes: `opts.output` as a local export
/// writes it (a file appears only when complete), one WARC file whatever
/// its size (the records reach this process as one stream).
pub(crate) fn receive(
    opts: &ExportOptions,
    stdout: &mut dyn Write,
    copy: impl FnOnce(&mut dyn Write) -> anyhow::Result<u64>,
) -> anyhow::Result<Outcome> {
    let target = Target::of(opts.output.as_deref())?;
    let (bytes, to) = match &target {
        Target::Replace(p) => {
            let mut file = AtomicOutput::create(p)?;
            let n = copy(&mut file)?;
            file.flush()?;
            (n, Some(file.commit()?))
        }
        Target::Stream(p) => (copy(&mut export::open_stream(p)?)?, Some(p.clone())),
        _ => (copy(stdout)?, None),
    };
    let to = to
        .map(|p| format!(" to {}", p.display()))
        .unwrap_or_default();
    eprintln!("exported {bytes} bytes{to}, streamed by the process holding the archive");
    Ok(Outcome::Done)
}

/// `palimpsest export` on an open archive (run, or forwarded, by
/// `Reading::Export`): streams the selected records; a file output appears
/// only when complete.
pub(crate) fn export_on(
    archive: &Archive,
    opts: &ExportOptions,
    stdout: &mut dyn Write,
) -> anyhow::Result<Outcome> {
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
                ExportFormat::Jsonl => export::jsonl(archive, &opts.filter, opts.schema, out)?,
                _ => export::csv(archive, &opts.filter, opts.cells, out)?,
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
            let n = warc::export(archive, &opts.filter, &mut writer, tick)?;
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
