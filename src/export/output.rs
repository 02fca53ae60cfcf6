//! Output that is whole or absent: written under a temporary name beside
//! the target and renamed into place only when complete.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::ExportError;

/// A file being written; dropped without [`AtomicOutput::commit`], it is
/// removed.
pub struct AtomicOutput {
    target: PathBuf,
    temp: PathBuf,
    file: Option<BufWriter<File>>,
}

impl AtomicOutput {
    pub fn create(target: &Path) -> Result<Self, ExportError> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "export".into());
        let temp = target.with_file_name(format!(".{name}.partial-{}", std::process::id()));
        let file = File::create(&temp).map_err(|source| ExportError::Output {
            path: target.display().to_string(),
            source,
        })?;
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

    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> Result<PathBuf, ExportError> {
        let to_output = |source: io::Error| ExportError::Output {
            path: self.target.display().to_string(),
            source,
        };
        if let Some(file) = self.file.take() {
            let file = file.into_inner().map_err(|e| to_output(e.into_error()))?;
            file.sync_all().map_err(to_output)?;
        }
        std::fs::rename(&self.temp, &self.target).map_err(to_output)?;
        Ok(self.target.clone())
    }
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
