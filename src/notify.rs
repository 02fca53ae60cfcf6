//! Change alerts: each change a running `watch` commits (a version after
//! the first; a new page is not a change) is delivered to the webhooks and
//! commands the user named, as a JSON document carrying what changed.
//!
//! Alerts follow the archive's change log, and how far each target has been
//! served is kept in the archive: the log is the outbox. A restart resumes
//! where delivery stopped, so nothing committed is lost; a delivery is
//! retried with back-off until the target takes it, and runs on tasks of
//! its own, so a slow or dead receiver never holds the crawl. A crash
//! between a delivery and its record sends that alert once more with the
//! same idempotency key, which a receiver can use to drop the repeat.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use url::Url;

use crate::archive::{ArchiveError, LoggedChange, Store, Txn};
use crate::article::PageKind;
use crate::config::ConfigError;
use crate::diff::{self, Paragraph, Words};
use crate::digest::ContentDigest;
use crate::query::host_within;
use crate::query::kind_of;

fn refused(what: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Value {
        what,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

/// Where alerts go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// POSTed as JSON to an http(s) URL.
    Webhook(Url),
    /// Run with `sh -c`, the JSON on standard input.
    Command(String),
}

impl Target {
    /// A webhook target from a URL as the user typed it.
    pub fn webhook(url: &str) -> Result<Self, ConfigError> {
        match Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {
                Ok(Target::Webhook(parsed))
            }
            _ => Err(refused(
                "--notify",
                url,
                "a webhook is an http:// or https:// URL",
            )),
        }
    }

    /// The name under which the archive records how far this target was served.
    fn cursor_name(&self) -> String {
        match self {
            Target::Webhook(url) => format!("webhook {url}"),
            Target::Command(cmd) => format!("command {cmd}"),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Webhook(url) => write!(f, "{url}"),
            Target::Command(cmd) => write!(f, "`{cmd}`"),
        }
    }
}

/// The alert flags of `watch` as given, before they are checked.
#[derive(Debug, Clone, Default)]
pub struct NotifyFlags {
    /// `--notify URL`s.
    pub webhooks: Vec<String>,
    /// `--notify-cmd CMD`s.
    pub commands: Vec<String>,
    /// `--notify-min-words N`.
    pub min_words: Option<usize>,
    /// `--notify-articles`.
    pub articles_only: bool,
    /// `--notify-host HOST`s.
    pub hosts: Vec<String>,
    /// `--notify-links URL`.
    pub links: Option<String>,
}

/// What is alerted, and where.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// Where alerts go.
    pub targets: Vec<Target>,
    /// Changes of fewer words (added and removed) are not alerted.
    pub min_words: usize,
    /// Only pages classified as articles.
    pub articles_only: bool,
    /// Only these hosts and their subdomains (none: every host).
    pub hosts: Vec<String>,
    /// The web interface the alerts' links point to, if any.
    pub links: Option<Url>,
    /// The User-Agent of webhook requests.
    pub user_agent: String,
}

impl NotifyConfig {
    /// The checked flags, or `None` when no target is named.
    pub fn from_flags(flags: &NotifyFlags, user_agent: &str) -> Result<Option<Self>, ConfigError> {
        let mut targets = flags
            .webhooks
            .iter()
            .map(|url| Target::webhook(url))
            .collect::<Result<Vec<_>, _>>()?;
        for cmd in &flags.commands {
            if cmd.trim().is_empty() {
                return Err(refused("--notify-cmd", cmd, "the command is empty"));
            }
            targets.push(Target::Command(cmd.clone()));
        }
        if targets.is_empty() {
            let filter = [
                (flags.min_words.is_some(), "--notify-min-words"),
                (flags.articles_only, "--notify-articles"),
                (!flags.hosts.is_empty(), "--notify-host"),
                (flags.links.is_some(), "--notify-links"),
            ]
            .into_iter()
            .find_map(|(given, name)| given.then_some(name));
            return match filter {
                Some(name) => Err(refused(
                    name,
                    "",
                    "alerts need a target: --notify URL or --notify-cmd CMD",
                )),
                None => Ok(None),
            };
        }
        let links = match &flags.links {
            Some(base) => Some(
                Url::parse(base)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| refused("--notify-links", base, "not an http(s) URL"))?,
            ),
            None => None,
        };
        Ok(Some(NotifyConfig {
            targets,
            min_words: flags.min_words.unwrap_or(1),
            articles_only: flags.articles_only,
            hosts: flags.hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
            links,
            user_agent: user_agent.to_string(),
        }))
    }

    /// Links to the web interface serving on `addr`, unless others were asked for.
    pub fn link_to(&mut self, addr: std::net::SocketAddr) {
        if self.links.is_none() && !addr.ip().is_unspecified() {
            self.links = Url::parse(&format!("http://{addr}/")).ok();
        }
    }

    /// Whether a change of `words` words to a page of `kind` on `host` is alerted.
    fn wants(&self, kind: PageKind, host: &str, words: usize) -> bool {
        words >= self.min_words
            && (!self.articles_only || kind == PageKind::Article)
            && (self.hosts.is_empty() || self.hosts.iter().any(|h| host_within(host, h)))
    }
}

/// The document an alert carries: `watch --notify`'s JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    /// Always `changed`: an article gained a version.
    pub event: &'static str,
    /// The same for every delivery of this alert, to any target.
    pub idempotency_key: String,
    /// The page that changed.
    pub url: String,
    /// Its host.
    pub host: String,
    /// Whether it is an article.
    pub kind: PageKind,
    /// The version the change made.
    pub version: u32,
    /// The version it replaced.
    pub previous_version: u32,
    /// When the new version was first seen.
    pub changed_at: DateTime<Utc>,
    /// The headline before the change.
    pub title_before: Option<String>,
    /// The headline after it.
    pub title: Option<String>,
    /// Words the change added.
    pub words_added: usize,
    /// Words the change removed.
    pub words_removed: usize,
    /// The paragraphs that changed, at most [`MAX_PARAGRAPHS`].
    pub paragraphs: Vec<ChangedParagraph>,
    /// Changed paragraphs left out of `paragraphs`.
    pub more_paragraphs: usize,
    /// The diff page: a path on the web interface, made absolute when the
    /// interface's address is known.
    pub diff: String,
    /// The page's history on the web interface.
    pub page: String,
}

/// One paragraph that changed, before and after (one side is absent when
/// the paragraph was added or removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedParagraph {
    /// `added`, `removed`, `changed` or `moved`.
    pub change: &'static str,
    /// The paragraph before the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The paragraph after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// The most paragraphs one alert carries: a rewritten page must not make a
/// document a receiver refuses.
pub const MAX_PARAGRAPHS: usize = 50;

/// The alert for logged change `logged`, or `None` when it is not a change
/// (a first version, a re-extraction) or `config` filters it out.
pub fn alert_for(
    archive: &impl Store,
    logged: &LoggedChange,
    config: &NotifyConfig,
) -> Result<Option<Alert>, ArchiveError> {
    let row = logged.change;
    if row.number < 2 || logged.reextracted {
        return Ok(None);
    }
    let Some(page) = archive.page(row.url)? else {
        return Ok(None);
    };
    let new = archive.require_version(row.url, &page, row.number)?;
    if new.reextracted {
        return Ok(None);
    }
    let old = archive.require_version(row.url, &page, row.number - 1)?;
    let kind = kind_of(&page);
    let host = page.url.host().to_string();
    let d = diff::diff(&old.article, &new.article);
    if !config.wants(kind, &host, d.words_added + d.words_removed) {
        return Ok(None);
    }
    let url = page.url.to_string();
    let all = changed_paragraphs(&d.body);
    let more_paragraphs = all.len().saturating_sub(MAX_PARAGRAPHS);
    let link = |path: String| match &config.links {
        Some(base) => base.join(&path).map_or(path, |u| u.to_string()),
        None => path,
    };
    Ok(Some(Alert {
        event: "changed",
        idempotency_key: idempotency_key(&url, row.number, new.first_seen),
        diff: link(crate::serve::diff_path(&url, old.number, new.number)),
        page: link(crate::serve::page_path(&url)),
        host,
        kind,
        version: new.number,
        previous_version: old.number,
        changed_at: new.first_seen,
        title_before: old.article.title.clone(),
        title: new.article.title.clone(),
        words_added: d.words_added,
        words_removed: d.words_removed,
        paragraphs: all.into_iter().take(MAX_PARAGRAPHS).collect(),
        more_paragraphs,
        url,
    }))
}

/// A key naming one version of one page for good: the same on every
/// delivery, different in another archive that saw the page change at
/// another time.
fn idempotency_key(url: &str, version: u32, first_seen: DateTime<Utc>) -> String {
    let digest = ContentDigest::of_fields([
        url.as_bytes(),
        &version.to_be_bytes(),
        &first_seen.timestamp_micros().to_be_bytes(),
    ]);
    digest.as_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The paragraphs of a body diff that are not the same on both sides.
fn changed_paragraphs(body: &[Paragraph]) -> Vec<ChangedParagraph> {
    let one = |change, before: Option<&String>, after: Option<&String>| ChangedParagraph {
        change,
        before: before.cloned(),
        after: after.cloned(),
    };
    body.iter()
        .filter_map(|p| match p {
            Paragraph::Same { .. } => None,
            Paragraph::Added { text } => Some(one("added", None, Some(text))),
            Paragraph::Removed { text } => Some(one("removed", Some(text), None)),
            Paragraph::Moved { text, .. } => Some(one("moved", Some(text), Some(text))),
            Paragraph::Changed { words } => Some(ChangedParagraph {
                change: "changed",
                before: Some(side(words, false)),
                after: Some(side(words, true)),
            }),
        })
        .collect()
}

/// One side of a word diff as text: the old (`new` false) or the new.
fn side(words: &[Words], new: bool) -> String {
    let runs = words.iter().filter_map(|w| match (w, new) {
        (Words::Equal(t), _) | (Words::Delete(t), false) | (Words::Insert(t), true) => {
            Some(t.as_str())
        }
        _ => None,
    });
    crate::article::normalize_ws(&runs.collect::<String>())
}

/// How a delivery went.
#[derive(Debug)]
enum Delivery {
    Delivered,
    /// Worth trying again, after at least the given wait if the target named one.
    Failed(String, Option<Duration>),
    /// The target refuses this alert (a 4xx other than 408 and 429).
    Refused(String),
}

/// The first wait after a failed delivery; it doubles up to [`LONGEST_WAIT`].
const FIRST_WAIT: Duration = Duration::from_secs(1);
const LONGEST_WAIT: Duration = Duration::from_secs(300);
/// Deliveries of one alert a refusing target gets before it is given up.
const REFUSALS: u32 = 5;
/// How often an idle deliverer looks for new changes.
const POLL: Duration = Duration::from_millis(500);
/// How long one delivery may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Alerts prepared at once.
const BATCH: usize = 64;

/// Delivers the alerts `config` asks for until `stop` turns true: one task
/// per target, each following the change log from where it was last served.
/// A target never served before starts at the change log's present end.
pub async fn deliver<S: Store + Send + Sync + 'static>(
    archive: Arc<S>,
    config: Arc<NotifyConfig>,
    stop: watch::Receiver<bool>,
) {
    let client = match crate::fetch::client_builder()
        .timeout(DELIVERY_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent(config.user_agent.clone())
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            tracing::error!("change alerts are off: cannot build an HTTP client: {e}");
            return;
        }
    };
    let tasks: Vec<_> = config
        .targets
        .iter()
        .cloned()
        .map(|target| {
            let deliverer = Deliverer {
                archive: archive.clone(),
                config: config.clone(),
                client: client.clone(),
                target,
                stop: stop.clone(),
            };
            tokio::spawn(deliverer.run())
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
}

/// One target's delivery loop.
struct Deliverer<S> {
    archive: Arc<S>,
    config: Arc<NotifyConfig>,
    client: reqwest::Client,
    target: Target,
    stop: watch::Receiver<bool>,
}

impl<S: Store + Send + Sync + 'static> Deliverer<S> {
    /// Delivers while this process leads the target's alerts (several
    /// `watch` processes may share a PostgreSQL archive: one delivers),
    /// from where they were last served.
    async fn run(mut self) {
        loop {
            if self.leads().await {
                if self.serve().await {
                    return;
                }
            } else if self.pause(POLL).await {
                return;
            }
        }
    }

    /// Whether this process is the one to deliver this target's alerts.
    async fn leads(&self) -> bool {
        let duty = format!("alerts to {}", self.target.cursor_name());
        match self.blocking(move |archive| archive.leads(&duty)).await {
            Ok(leads) => leads,
            Err(e) => {
                tracing::warn!("alerts to {}: {e}", self.target);
                false
            }
        }
    }

    /// Serves alerts until told to stop (true) or no longer the leader.
    async fn serve(&mut self) -> bool {
        let mut served = loop {
            let target = self.target.clone();
            match self
                .blocking(move |archive| start_of(archive, &target))
                .await
            {
                Ok(served) => break served,
                Err(e) => tracing::warn!("alerts to {}: {e}", self.target),
            }
            if self.pause(POLL).await {
                return true;
            }
        };
        loop {
            if !self.leads().await {
                return false;
            }
            let config = self.config.clone();
            let batch = self
                .blocking(move |archive| next_alerts(archive, &config, served))
                .await;
            let pending = match batch {
                Ok(pending) => pending,
                Err(e) => {
                    tracing::warn!("alerts to {}: {e}", self.target);
                    Vec::new()
                }
            };
            if pending.is_empty() && self.pause(POLL).await {
                return true;
            }
            for (seq, alert) in pending {
                if let Some(alert) = alert
                    && !self.deliver_until_taken(&alert).await
                {
                    return true;
                }
                served = seq;
                let target = self.target.clone();
                let recorded = self
                    .blocking(move |archive| record_served(archive, &target, seq))
                    .await;
                if let Err(e) = recorded {
                    tracing::warn!("alerts to {}: {e}", self.target);
                }
            }
        }
    }

    /// Delivers `alert`, waiting longer after each failure; false if told to
    /// stop first (the alert is then delivered by the next run).
    async fn deliver_until_taken(&mut self, alert: &Alert) -> bool {
        let mut wait = FIRST_WAIT;
        let mut refusals = 0;
        loop {
            let attempt = async {
                match &self.target {
                    Target::Webhook(url) => post(&self.client, url, alert).await,
                    Target::Command(cmd) => run_command(cmd, alert).await,
                }
            };
            let outcome = tokio::select! {
                outcome = attempt => outcome,
                _ = self.stop.wait_for(|stop| *stop) => return false,
            };
            let asked = match outcome {
                Delivery::Delivered => return true,
                Delivery::Refused(why) => {
                    refusals += 1;
                    if refusals >= REFUSALS {
                        tracing::error!(
                            "alerts to {}: gave up the alert on {} version {} after {REFUSALS} refusals: {why}",
                            self.target,
                            alert.url,
                            alert.version
                        );
                        return true;
                    }
                    tracing::warn!("alerts to {}: refused ({why}); trying again", self.target);
                    None
                }
                Delivery::Failed(why, asked) => {
                    tracing::warn!("alerts to {}: {why}; trying again", self.target);
                    asked
                }
            };
            if self.pause(asked.unwrap_or(wait).max(wait)).await {
                return false;
            }
            wait = (wait * 2).min(LONGEST_WAIT);
        }
    }

    /// Sleeps `how_long`; true if told to stop meanwhile.
    async fn pause(&mut self, how_long: Duration) -> bool {
        let stopped = tokio::select! {
            _ = tokio::time::sleep(how_long) => None,
            _ = self.stop.wait_for(|stop| *stop) => Some(true),
        };
        stopped.unwrap_or_else(|| *self.stop.borrow())
    }

    /// Runs `work` on the archive off the runtime.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&S) -> Result<T, ArchiveError> + Send + 'static,
    ) -> Result<T, String> {
        let archive = self.archive.clone();
        match tokio::task::spawn_blocking(move || work(&archive)).await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Where `target`'s alerts resume: after the last change it was served, or,
/// for a target never served, after the newest change (recorded at once, so
/// that a restart does not skip what came meanwhile).
fn start_of<S: Store>(archive: &S, target: &Target) -> Result<u64, ArchiveError> {
    if let Some(served) = archive.notified(&target.cursor_name())? {
        return Ok(served);
    }
    let newest = archive.last_change_logged()?;
    record_served(archive, target, newest)?;
    Ok(newest)
}

/// Records, durably, that `target` has been served every change up to `seq`.
fn record_served<S: Store>(archive: &S, target: &Target, seq: u64) -> Result<(), ArchiveError> {
    let mut txn = archive.begin();
    txn.put_notified(&target.cursor_name(), seq)?;
    archive.commit(txn)?;
    archive.flush()
}

/// The next changes after `served`, each with its alert if it makes one.
fn next_alerts<S: Store>(
    archive: &S,
    config: &NotifyConfig,
    served: u64,
) -> Result<Vec<(u64, Option<Alert>)>, ArchiveError> {
    let mut pending = Vec::new();
    for logged in archive.change_log_after(served).take(BATCH) {
        let logged = logged?;
        pending.push((logged.seq, alert_for(archive, &logged, config)?));
    }
    Ok(pending)
}

/// POSTs `alert` to `url`.
async fn post(client: &reqwest::Client, url: &Url, alert: &Alert) -> Delivery {
    let body = match serde_json::to_vec(alert) {
        Ok(body) => body,
        Err(e) => return Delivery::Refused(e.to_string()),
    };
    let sent = client
        .post(url.clone())
        .header("Idempotency-Key", &alert.idempotency_key)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(e) => return Delivery::Failed(format!("{e}"), None),
    };
    let status = response.status();
    if status.is_success() {
        return Delivery::Delivered;
    }
    let why = format!("the receiver answered {status}");
    let code = status.as_u16();
    if status.is_client_error() && code != 408 && code != 429 {
        return Delivery::Refused(why);
    }
    let asked = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|secs| Duration::from_secs(secs).min(LONGEST_WAIT));
    Delivery::Failed(why, asked)
}

/// Runs `sh -c CMD` with `alert` as one line of JSON on its standard input;
/// delivered when it exits 0.
async fn run_command(cmd: &str, alert: &Alert) -> Delivery {
    let mut line = match serde_json::to_vec(alert) {
        Ok(line) => line,
        Err(e) => return Delivery::Refused(e.to_string()),
    };
    line.push(b'\n');
    let spawned = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env("PALIMPSEST_IDEMPOTENCY_KEY", &alert.idempotency_key)
        .stdin(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return Delivery::Failed(format!("cannot run it: {e}"), None),
    };
    let run = async {
        if let Some(mut stdin) = child.stdin.take() {
            // A command that does not read its input still decides by its exit.
            let _ = stdin.write_all(&line).await;
        }
        child.wait().await
    };
    match tokio::time::timeout(DELIVERY_TIMEOUT, run).await {
        Ok(Ok(status)) if status.success() => Delivery::Delivered,
        Ok(Ok(status)) => Delivery::Failed(format!("it exited with {status}"), None),
        Ok(Err(e)) => Delivery::Failed(e.to_string(), None),
        Err(_) => Delivery::Failed(format!("it ran longer than {DELIVERY_TIMEOUT:?}"), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> NotifyConfig {
        NotifyConfig {
            targets: Vec::new(),
            min_words: 0,
            articles_only: false,
            hosts: Vec::new(),
            links: None,
            user_agent: String::new(),
        }
    }

    #[test]
    fn filters_hold_changes_by_size_kind_and_host() {
        let all = config();
        assert!(all.wants(PageKind::Page, "news.example.test", 0));
        let some = NotifyConfig {
            min_words: 5,
            articles_only: true,
            hosts: vec!["example.test".into()],
            ..config()
        };
        assert!(some.wants(PageKind::Article, "news.example.test", 5));
        assert!(!some.wants(PageKind::Article, "news.example.test", 4));
        assert!(!some.wants(PageKind::Page, "news.example.test", 50));
        assert!(!some.wants(PageKind::Article, "badexample.test", 50));
    }

    #[test]
    fn a_changed_paragraph_is_given_before_and_after() {
        let words = vec![
            Words::Equal("food and fuel ".into()),
            Words::Delete("were running low".into()),
            Words::Insert("had run out".into()),
        ];
        let got = changed_paragraphs(&[
            Paragraph::Same { text: "x".into() },
            Paragraph::Changed { words },
            Paragraph::Added { text: "new".into() },
        ]);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].before.as_deref(),
            Some("food and fuel were running low")
        );
        assert_eq!(got[0].after.as_deref(), Some("food and fuel had run out"));
        assert_eq!((got[1].change, got[1].before.as_ref()), ("added", None));
    }

    #[test]
    fn webhooks_are_http_urls() {
        assert!(Target::webhook("http://127.0.0.1:9/hook").is_ok());
        assert!(Target::webhook("ftp://127.0.0.1/hook").is_err());
        assert!(Target::webhook("hook").is_err());
    }
}
