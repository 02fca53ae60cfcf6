//! Progress display: a live line on a terminal, periodic log lines
//! otherwise (`--no-progress`), both read from the crawl's counters.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::crawl::{CrawlStats, counted};

/// A running progress reporter; stops when dropped.
pub struct Progress {
    task: tokio::task::JoinHandle<()>,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Starts reporting: a bar when `bar` is true, else a log line every
    /// `log_every`.
    pub fn start(stats: Arc<CrawlStats>, bar: bool, log_every: Duration) -> Self {
        let bar = bar.then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b
        });
        let tick_bar = bar.clone();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let mut last_log = Instant::now();
            let mut interval = tokio::time::interval(Duration::from_millis(200));
            loop {
                interval.tick().await;
                let line = status_line(&stats, started.elapsed());
                match &tick_bar {
                    Some(b) => {
                        b.set_message(line);
                        b.tick();
                    }
                    None if last_log.elapsed() >= log_every => {
                        last_log = Instant::now();
                        tracing::info!("{line}");
                    }
                    None => {}
                }
            }
        });
        Self { task, bar }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn status_line(stats: &CrawlStats, elapsed: Duration) -> String {
    let captures = stats.captures.get();
    let rate = captures as f64 / elapsed.as_secs_f64().max(0.001);
    format!(
        "{}, {} queued, {}, {}, {} disallowed, {:.1} pages/s",
        counted(captures, "page", "pages"),
        stats.queued.get(),
        counted(stats.hosts_active.get(), "host", "hosts"),
        counted(stats.errors.get(), "error", "errors"),
        stats.disallowed.get(),
        rate
    )
}
