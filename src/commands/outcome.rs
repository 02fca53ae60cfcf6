//! How a command ended, as the process's exit code, and the standard output
//! the commands write to, which notices when its reader has gone away (the
//! end of `palimpsest list | head`): that ends a command quietly, as it
//! ends a Unix tool.

use std::io::{self, Write};

use crate::config::ConfigError;

/// How a command ended. [`Outcome::exit_code`] is the documented code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked was done.
    Done,
    /// Nothing could be done: a crawl pass in which no page was fetched
    /// but some failed or were disallowed; an import that found nothing
    /// to import.
    NothingDone,
    /// Ran, but found problems (e.g. `verify`; `import-warc` given a file
    /// that is not a WARC among others that were).
    Problems,
    /// A crawl pass finished, but some pages failed.
    SomeErrors,
    /// Interrupted; resumable.
    Interrupted,
}

/// The exit code of a usage error (clap's own).
pub const USAGE_ERROR: u8 = 2;
/// The exit code of an error that stopped a command.
pub const FATAL_ERROR: u8 = 1;

/// The exit code of an error that stopped a command: a flag value, a seed
/// URL given on the command line or no seed at all is the user's usage
/// error (2, as clap's own); anything else (a seed file that cannot be
/// read or has a mistake on a line, the archive, the network) is fatal (1).
pub fn error_exit_code(error: &anyhow::Error) -> u8 {
    let config = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<ConfigError>());
    match config {
        Some(ConfigError::Value { .. } | ConfigError::Url(_) | ConfigError::NoSeeds) => USAGE_ERROR,
        _ => FATAL_ERROR,
    }
}

impl Outcome {
    /// The process exit code that reports this outcome.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::NothingDone | Outcome::Problems => FATAL_ERROR,
            Outcome::SomeErrors => 3,
            Outcome::Interrupted => 130,
        }
    }
}

/// Standard output that remembers whether a write found the pipe closed.
pub struct Stdout {
    inner: io::StdoutLock<'static>,
    closed: bool,
}

impl Stdout {
    /// Locks standard output for the life of a command.
    pub fn lock() -> Self {
        Self {
            inner: io::stdout().lock(),
            closed: false,
        }
    }

    /// Whether the reader closed the pipe: the command's error, if any, is
    /// only that nobody reads any more.
    pub fn closed(&self) -> bool {
        self.closed
    }

    fn note<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result
            && e.kind() == io::ErrorKind::BrokenPipe
        {
            self.closed = true;
        }
        result
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = self.inner.write(buf);
        self.note(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.inner.flush();
        self.note(result)
    }
}
