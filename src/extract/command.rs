//! `palimpsest extract`: articles from saved HTML, one JSON record a line.
//!
//! The library side of the command; `main.rs` only maps flags onto
//! [`ExtractOptions`] and calls [`run`].
//!
//! Inputs are files (raw bytes, decoded like fetched pages, so a
//! windows-1252 or Shift_JIS file reads correctly; `.gz` files are
//! gunzipped) or standard input (no inputs, or `-`). Each input's URL, which
//! `url` in the record holds and against which links resolve, is, in order:
//! the `--url` given, the page's own `rel=canonical` or `og:url`, else a
//! `file:` URL of the path (`file:///dev/stdin` for standard input).
//!
//! With `--input-jsonl`, standard input holds lines `{"url", "html", "id"?}`
//! and each produces one line, in order: the record with the `id` echoed, or
//! `{"id": …, "error": "…"}` when the line is unusable. A bad line never
//! stops the stream.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::{Profile, extract};
use crate::article::ArticleRecord;
use crate::canonical::CanonicalUrl;
use crate::decode::decode_html;

/// Options of `palimpsest extract`, validated by the CLI layer.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// Files to read; empty or `-` means standard input.
    pub inputs: Vec<PathBuf>,
    /// The URL the page was fetched from (for every input).
    pub url: Option<Url>,
    /// Read `{"url","html","id"?}` JSON lines from standard input.
    pub input_jsonl: bool,
    /// Site profiles; one applies when its host equals the page's host.
    pub profiles: Vec<Profile>,
}

/// Why `extract` stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractCommandError {
    #[error("cannot read {path}: {source}")]
    /// An input file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        #[source]
        /// Why it could not be read.
        source: std::io::Error,
    },
    #[error("cannot read standard input: {0}")]
    /// Standard input could not be read.
    Stdin(#[source] std::io::Error),
    #[error("cannot write output: {0}")]
    /// Standard output could not be written.
    Write(#[source] std::io::Error),
    #[error("cannot encode record: {0}")]
    /// A record could not be encoded as JSON.
    Encode(#[source] serde_json::Error),
}

/// Runs the command: one JSON line per input on `out`.
pub fn run(
    opts: &ExtractOptions,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), ExtractCommandError> {
    if opts.input_jsonl {
        return run_jsonl(opts, stdin, out);
    }
    let stdin_only = opts.inputs.is_empty();
    let inputs: Vec<Option<&Path>> = if stdin_only {
        vec![None]
    } else {
        opts.inputs
            .iter()
            .map(|p| (p.as_os_str() != "-").then_some(p.as_path()))
            .collect()
    };
    let mut stdin_used = false;
    for input in inputs {
        let bytes = match input {
            Some(path) => read_file(path)?,
            None => {
                // Standard input can be read once; a second `-` is empty.
                let mut buf = Vec::new();
                if !stdin_used {
                    stdin
                        .read_to_end(&mut buf)
                        .map_err(ExtractCommandError::Stdin)?;
                    stdin_used = true;
                }
                maybe_gunzip(buf)
            }
        };
        let (html, _) = decode_html(&bytes, None);
        let fallback = match input {
            Some(p) => file_url(p),
            None => Url::parse("file:///dev/stdin").ok(),
        };
        let record = record_for(&html, opts.url.as_ref(), fallback, &opts.profiles);
        write_line(
            out,
            &serde_json::to_value(&record).map_err(ExtractCommandError::Encode)?,
        )?;
    }
    out.flush().map_err(ExtractCommandError::Write)
}

fn run_jsonl(
    opts: &ExtractOptions,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), ExtractCommandError> {
    #[derive(Deserialize)]
    struct Line {
        url: Option<String>,
        html: Option<String>,
        id: Option<Value>,
    }
    let mut line = String::new();
    loop {
        line.clear();
        let n = stdin
            .read_line(&mut line)
            .map_err(ExtractCommandError::Stdin)?;
        if n == 0 {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let value = match serde_json::from_str::<Line>(&line) {
            Err(e) => error_record(None, &format!("invalid JSON line: {e}")),
            Ok(Line { id, html: None, .. }) => error_record(id, "missing \"html\""),
            Ok(Line {
                id,
                url,
                html: Some(html),
            }) => {
                let url = match url.as_deref().map(CanonicalUrl::parse) {
                    Some(Ok(u)) => Some(u.as_url().clone()),
                    Some(Err(e)) => {
                        write_line(out, &error_record(id, &format!("bad \"url\": {e}")))?;
                        continue;
                    }
                    None => opts.url.clone(),
                };
                let fallback = Url::parse("file:///dev/stdin").ok();
                let record = record_for(&html, url.as_ref(), fallback, &opts.profiles);
                let mut v = serde_json::to_value(&record).map_err(ExtractCommandError::Encode)?;
                if let (Some(id), Value::Object(map)) = (id, &mut v) {
                    // `id` first, so a reader of the stream sees it at once.
                    let mut with_id = serde_json::Map::new();
                    with_id.insert("id".into(), id);
                    with_id.extend(std::mem::take(map));
                    v = Value::Object(with_id);
                }
                v
            }
        };
        write_line(out, &value)?;
    }
    out.flush().map_err(ExtractCommandError::Write)
}

fn error_record(id: Option<Value>, msg: &str) -> Value {
    serde_json::json!({ "id": id.unwrap_or(Value::Null), "error": msg })
}

fn write_line(out: &mut dyn Write, v: &Value) -> Result<(), ExtractCommandError> {
    serde_json::to_writer(&mut *out, v).map_err(ExtractCommandError::Encode)?;
    out.write_all(b"\n").map_err(ExtractCommandError::Write)
}

/// Extracts one page into a record. With no `url`, the page's canonical URL
/// stands in for it if it has one, else `fallback`.
fn record_for(
    html: &str,
    url: Option<&Url>,
    fallback: Option<Url>,
    profiles: &[Profile],
) -> ArticleRecord {
    let placeholder = fallback
        .or_else(|| Url::parse("file:///dev/stdin").ok())
        .unwrap_or_else(|| unreachable!("a literal URL parses"));
    let first_url = url.cloned().unwrap_or_else(|| placeholder.clone());
    let profile = first_url
        .host_str()
        .and_then(|h| Profile::for_host(profiles, h));
    let mut ex = extract(html, &first_url, profile);
    let mut record_url = first_url.to_string();
    if url.is_none()
        && let Some(c) = ex
            .article
            .canonical_url
            .as_deref()
            .and_then(|c| Url::parse(c).ok())
    {
        // Re-run against the page's own URL so relative links, source links
        // and the profile are right.
        let profile = c.host_str().and_then(|h| Profile::for_host(profiles, h));
        ex = extract(html, &c, profile);
        record_url = c.to_string();
    } else if let Ok(c) = CanonicalUrl::parse(&record_url) {
        record_url = c.to_string();
    }
    ArticleRecord::new(record_url, ex.article)
}

fn read_file(path: &Path) -> Result<Vec<u8>, ExtractCommandError> {
    let mut f = std::fs::File::open(path).map_err(|source| ExtractCommandError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)
        .map_err(|source| ExtractCommandError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(maybe_gunzip(buf))
}

/// Gunzips gzip data (by its magic bytes, whatever the file name says);
/// anything else, or a broken stream, is returned as it is.
fn maybe_gunzip(bytes: Vec<u8>) -> Vec<u8> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        // Cap the inflated size as the crawler does (10 MiB default ×4).
        let mut d = flate2::read::MultiGzDecoder::new(&bytes[..]).take(40 << 20);
        if d.read_to_end(&mut out).is_ok() {
            return out;
        }
    }
    bytes
}

fn file_url(path: &Path) -> Option<Url> {
    let abs = std::path::absolute(path).ok()?;
    Url::from_file_path(abs).ok()
}
