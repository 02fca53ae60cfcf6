//! Where an export goes. A regular file (or a new path) is written whole
//! or not at all: under a temporary name beside it, created exclusively,
//! renamed into place only when complete, the directory synced after. A
//! FIFO, a device or a socket is written to directly, and a symbolic link
//! is never replaced: a link to a regular file has its target replaced.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::ExportError;

/// Where `-o PATH` sends the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Standard output.
    Stdout,
    /// A regular file or a new path (a symlink's target, resolved).
    Replace(PathBuf),
    /// A FIFO, character or block device, or socket: opened and written.
    Stream(PathBuf),
}

impl Target {
    /// Decides by what is at `path` now; `None` or `-` is standard output.
    pub(crate) fn of(path: Option<&Path>) -> Result<Self, ExportError> {
        let Some(path) = path.filter(|p| *p != Path::new("-")) else {
            return Ok(Target::Stdout);
        };
        let err = |source: io::Error| output_error(path, source);
        let link = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Target::Replace(path.to_path_buf()));
            }
            Err(e) => return Err(err(e)),
        };
        // Follows the link, if any, to what would be written.
        let meta = std::fs::metadata(path).map_err(|e| {
            if link.file_type().is_symlink() && e.kind() == io::ErrorKind::NotFound {
                err(io::Error::other(
                    "a symbolic link to a missing file (not replaced)",
                ))
            } else {
                err(e)
            }
        })?;
        let kind = meta.file_type();
        if kind.is_dir() {
            return Err(err(io::Error::other("is a directory")));
        }
        if kind.is_file() {
            let real = if link.file_type().is_symlink() {
                std::fs::canonicalize(path).map_err(err)?
            } else {
                path.to_path_buf()
            };
            return Ok(Target::Replace(real));
        }
        Ok(Target::Stream(path.to_path_buf()))
    }
}

fn output_error(path: &Path, source: io::Error) -> ExportError {
    ExportError::Output {
        path: path.display().to_string(),
        source,
    }
}

/// Opens a FIFO, device or socket for writing, as a shell redirection does.
pub(crate) fn open_stream(path: &Path) -> Result<BufWriter<File>, ExportError> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| output_error(path, e))?;
    Ok(BufWriter::with_capacity(256 * 1024, file))
}

/// A file being written; dropped without [`AtomicOutput::commit`], it is
/// removed.
pub(crate) struct AtomicOutput {
    target: PathBuf,
    temp: PathBuf,
    file: Option<BufWriter<File>>,
}

impl AtomicOutput {
    /// Starts a file that will replace `target`, which must be a regular
    /// file or absent (a symlink or anything else there is refused).
    pub(crate) fn create(target: &Path) -> Result<Self, ExportError> {
        let err = |source: io::Error| output_error(target, source);
        let existing = match std::fs::symlink_metadata(target) {
            Ok(m) if m.file_type().is_file() => Some(m),
            Ok(_) => {
                return Err(err(io::Error::other(
                    "exists and is not a regular file (not replaced)",
                )));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(err(e)),
        };
        let (temp, file) = create_temp(target).map_err(err)?;
        if let Some(m) = existing {
            // The replacement keeps the permissions of the file it replaces.
            let _ = file.set_permissions(m.permissions());
        }
        Ok(Self {
            target: target.to_path_buf(),
            temp,
            file: Some(BufWriter::with_capacity(256 * 1024, file)),
        })
    }

    /// Bytes written so far.
    pub fn len(&mut self) -> u64 {
        self.file
            .as_mut()
            .and_then(|f| {
                f.flush().ok()?;
                f.get_ref().metadata().ok()
            })
            .map_or(0, |m| m.len())
    }

    pub(crate) fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// Flushes, syncs and renames the file into place, then syncs the
    /// directory so that the rename itself survives a crash.
    pub(crate) fn commit(mut self) -> Result<PathBuf, ExportError> {
        let to_output = |source: io::Error| output_error(&self.target, source);
        if let Some(file) = self.file.take() {
            let file = file.into_inner().map_err(|e| to_output(e.into_error()))?;
            file.sync_all().map_err(to_output)?;
        }
        if let Err(e) = std::fs::rename(&self.temp, &self.target) {
            let _ = std::fs::remove_file(&self.temp);
            return Err(to_output(e));
        }
        File::open(parent_dir(&self.target))
            .and_then(|dir| dir.sync_all())
            .map_err(to_output)?;
        Ok(self.target.clone())
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The `attempt`-th temporary name for `target`: hidden, beside it.
fn temp_name(target: &Path, attempt: u32) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    target.with_file_name(format!(".{name}.partial-{}-{attempt}", std::process::id()))
}

/// A new file beside `target`, created exclusively: `O_EXCL` fails on
/// anything already there, a symlink included, so nothing is followed or
/// overwritten. A name taken is retried under the next one.
fn create_temp(target: &Path) -> io::Result<(PathBuf, File)> {
    let mut last = None;
    for attempt in 0..16 {
        let temp = temp_name(target, attempt);
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no temporary name free")))
}

impl Write for AtomicOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None => Err(io::Error::other("output already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicOutput {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Someone who can write to the directory plants a symlink where the
    /// temporary file will be: it is neither followed nor replaced.
    #[test]
    fn a_symlink_at_the_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let target = dir.path().join("out.jsonl");
        let planted = temp_name(&target, 0);
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        // And at the name earlier versions used, which they opened with O_TRUNC.
        let old_name = dir
            .path()
            .join(format!(".out.jsonl.partial-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &old_name).unwrap();

        let mut out = AtomicOutput::create(&target).unwrap();
        out.write_all(b"export\n").unwrap();
        out.commit().unwrap();

        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "export\n");
        assert!(
            std::fs::symlink_metadata(&planted)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}
