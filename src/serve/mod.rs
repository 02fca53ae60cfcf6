//! The web interface and JSON API (`palimpsest serve`, `watch --serve`):
//! browse the archive, read version timelines, compare versions, follow
//! the changes feed, and watch a running crawl.
//!
//! Archived content is text to escape, never markup to trust: pages are
//! rendered with auto-escaping templates, and a raw capture is served only
//! with `Content-Security-Policy: sandbox` and nothing allowed to load.
//! Other sites are kept out: a request must name this interface in its
//! `Host` (`host`: no DNS rebinding), and no other origin may frame it.

mod feed;
mod host;
mod html;
mod read;
mod search;

pub(crate) use crate::query::LiveCatalogue;
pub use host::AllowedHost;
pub(crate) use host::HostPolicy;

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::archive::{Archive, ArchiveError, Store};
use crate::clock::Clock;
use crate::crawl::CrawlStats;
use crate::query::{self, IndexQuery, Order, Pages, QueryError, Reading};

/// Prints a reading command's answer on an open archive, as the CLI prints
/// it: how `/api/read` answers a command forwarded by another process.
pub(crate) type PrintReading =
    fn(&Reading, &Archive, &mut dyn Write) -> anyhow::Result<crate::commands::Outcome>;

/// What the handlers share.
pub(crate) struct ServeState {
    pub archive: Arc<Archive>,
    /// The running crawl's counters, when serving from inside `watch`.
    pub crawl: Option<Arc<CrawlStats>>,
    /// The interface's own origin, for absolute links in the feed.
    pub origin: String,
    pub catalogue: LiveCatalogue,
    /// How a reading command forwarded to `/api/read` is answered: the
    /// CLI's own printer, so the text is the same wherever it runs.
    pub print_reading: PrintReading,
    /// The time `since=7d` counts back from, and a feed of no changes is
    /// dated at.
    pub clock: Clock,
}

/// A failed request: a status and a message for a person.
struct Problem {
    status: StatusCode,
    message: String,
    json: bool,
}

impl Problem {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            json: false,
        }
    }

    fn json(mut self) -> Self {
        self.json = true;
        self
    }
}

impl From<ArchiveError> for Problem {
    fn from(e: ArchiveError) -> Self {
        let status = match e {
            ArchiveError::UnknownUrl { .. } | ArchiveError::UnknownVersion { .. } => {
                StatusCode::NOT_FOUND
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Problem::new(status, e.to_string())
    }
}

impl From<QueryError> for Problem {
    fn from(e: QueryError) -> Self {
        let status = match e {
            QueryError::Archive(e) => return e.into(),
            QueryError::NoVersions { .. } => StatusCode::NOT_FOUND,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Problem::new(status, e.to_string())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        if self.json {
            (
                self.status,
                Json(serde_json::json!({ "error": self.message })),
            )
                .into_response()
        } else {
            (
                self.status,
                html::error_page(self.status.as_u16(), &self.message),
            )
                .into_response()
        }
    }
}

type Params = Query<HashMap<String, String>>;

fn param<'a>(p: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    p.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

fn required<'a>(p: &'a HashMap<String, String>, name: &str) -> Result<&'a str, Problem> {
    param(p, name).ok_or_else(|| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            format!("missing parameter `{name}`"),
        )
    })
}

fn number(p: &HashMap<String, String>, name: &str) -> Result<Option<u32>, Problem> {
    param(p, name)
        .map(|v| {
            v.parse::<u32>().map_err(|_| {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    format!("`{name}` must be a version number, not {v:?}"),
                )
            })
        })
        .transpose()
}

fn when(
    p: &HashMap<String, String>,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, Problem> {
    param(p, name)
        .map(|v| {
            crate::config::parse_when_at(v, now)
                .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.to_string()))
        })
        .transpose()
}

/// A 1-based results page; absent means the first.
fn page_number(p: &HashMap<String, String>) -> Result<usize, Problem> {
    let Some(v) = param(p, "page") else {
        return Ok(1);
    };
    match v.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n as usize),
        _ => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            format!("`page` must be a page number from 1, not {v:?}"),
        )),
    }
}

/// A checkbox: absent or off, or on.
fn flag(p: &HashMap<String, String>, name: &str) -> Result<bool, Problem> {
    match param(p, name).map(str::to_ascii_lowercase).as_deref() {
        None | Some("0" | "false" | "off" | "no") => Ok(false),
        Some("1" | "true" | "on" | "yes") => Ok(true),
        Some(_) => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            format!("`{name}` must be 1 or 0 (on or off)"),
        )),
    }
}

fn index_query(p: &HashMap<String, String>, now: DateTime<Utc>) -> Result<IndexQuery, Problem> {
    Ok(IndexQuery {
        q: param(p, "q").map(str::to_string),
        host: param(p, "host").map(str::to_string),
        language: param(p, "lang").map(str::to_string),
        changed_since: when(p, "since", now)?,
        pages: Pages::all_if(flag(p, "all")?),
        page: page_number(p)?,
    })
}

/// Runs `work` on a blocking thread: a diff of a very long article, or its
/// page, must not stall the runtime that answers every other request.
async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|_| {
        Err(Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "comparing these versions failed",
        ))
    })
}

async fn index(State(s): State<Arc<ServeState>>, Query(p): Params) -> Result<Response, Problem> {
    let q = index_query(&p, s.clock.now())?;
    let (rows, more) = query::index(&*s.archive, &s.catalogue, &q)?;
    Ok(html::index(&q, &rows, more).into_response())
}

async fn article(State(s): State<Arc<ServeState>>, Query(p): Params) -> Result<Response, Problem> {
    let view = query::article(&*s.archive, required(&p, "url")?)?;
    Ok(html::article(&view).into_response())
}

/// The diff page of versions `a` and `b` of `url`.
pub fn diff_path(url: &str, a: u32, b: u32) -> String {
    format!("/diff?url={}&a={a}&b={b}", html::enc(url))
}

/// The article page (the timeline of versions) of `url`.
pub fn page_path(url: &str) -> String {
    format!("/article?url={}", html::enc(url))
}

async fn diff(State(s): State<Arc<ServeState>>, Query(p): Params) -> Result<Response, Problem> {
    let url = required(&p, "url")?.to_string();
    let (a, b) = (number(&p, "a")?, number(&p, "b")?);
    off_runtime(move || {
        let view = query::compare(&*s.archive, &url, a, b)?;
        let permalink = diff_path(&url, view.old.number, view.new.number);
        Ok(html::diff(&view, &permalink).into_response())
    })
    .await
}

fn capture_of(
    s: &ServeState,
    p: &HashMap<String, String>,
) -> Result<crate::archive::CaptureRecord, Problem> {
    let url = required(p, "url")?;
    let at: i64 = required(p, "at")?.parse().map_err(|_| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "`at` must be a capture time in microseconds",
        )
    })?;
    let (id, _) = s.archive.lookup(url)?;
    let at = DateTime::from_timestamp_micros(at)
        .ok_or_else(|| Problem::new(StatusCode::BAD_REQUEST, "bad capture time"))?;
    s.archive.capture_at(id, at)?.ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            format!("no capture of {url} at that time"),
        )
    })
}

async fn capture(State(s): State<Arc<ServeState>>, Query(p): Params) -> Result<Response, Problem> {
    let c = capture_of(&s, &p)?;
    let url = required(&p, "url")?;
    Ok(html::capture(url, c.fetched_at.timestamp_micros(), c.fetched_at, c.status).into_response())
}

/// The capture's bytes, sandboxed: no script, no plugin, no request to
/// anywhere (inline styles and data: images only).
async fn raw(State(s): State<Arc<ServeState>>, Query(p): Params) -> Result<Response, Problem> {
    let c = capture_of(&s, &p)?;
    let digest = c
        .payload
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "this capture has no body"))?;
    let body = s
        .archive
        .payload(&digest)?
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "payload missing"))?;
    let content_type = c
        .header("content-type")
        .filter(|ct| ct.starts_with("text/") || ct.contains("html") || ct.contains("xml"))
        .unwrap_or("text/plain; charset=utf-8");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("text/plain")),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        ),
    );
    Ok(response)
}

async fn status(State(s): State<Arc<ServeState>>) -> Result<Response, Problem> {
    let view = status_view(&s)?;
    Ok(html::status(&view).into_response())
}

fn status_view(s: &ServeState) -> Result<html::StatusView, Problem> {
    let mut lines = Vec::new();
    if let Some(c) = &s.crawl {
        for (key, label, counter) in [
            ("captures", "Captures this run", &c.captures),
            ("new_versions", "New versions this run", &c.new_versions),
            ("queued", "Queued", &c.queued),
            ("hosts_active", "Hosts being crawled", &c.hosts_active),
            ("errors", "Errors", &c.errors),
            ("disallowed", "Disallowed by robots.txt", &c.disallowed),
        ] {
            lines.push((key, label, counter.get()));
        }
    }
    Ok(html::StatusView {
        running: s.crawl.is_some(),
        lines,
        due: query::schedule(&*s.archive, 20)?.soonest,
    })
}

async fn changes_atom(
    State(s): State<Arc<ServeState>>,
    Query(p): Params,
) -> Result<Response, Problem> {
    let pages = Pages::all_if(flag(&p, "all")?);
    let changes = query::changes(&*s.archive, None, pages, Order::NewestFirst)
        .take(100)
        .collect::<Result<Vec<_>, _>>()?;
    let mut response = feed::atom(&changes, &s.origin, pages, s.clock.now()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    Ok(response)
}

#[derive(Serialize)]
struct PagesResponse {
    pages: Vec<query::PageSummary>,
    page: usize,
    more: bool,
}

async fn api_pages(
    State(s): State<Arc<ServeState>>,
    Query(p): Params,
) -> Result<Response, Problem> {
    let q = index_query(&p, s.clock.now()).map_err(Problem::json)?;
    let (pages, more) =
        query::index(&*s.archive, &s.catalogue, &q).map_err(|e| Problem::from(e).json())?;
    Ok(Json(PagesResponse {
        pages,
        page: q.page,
        more,
    })
    .into_response())
}

async fn api_history(
    State(s): State<Arc<ServeState>>,
    Query(p): Params,
) -> Result<Response, Problem> {
    let url = required(&p, "url").map_err(Problem::json)?;
    let json = |e: ArchiveError| Problem::from(e).json();
    let (id, page) = s.archive.lookup(url).map_err(json)?;
    let versions = query::timeline(&*s.archive, id, &page).map_err(json)?;
    Ok(Json(serde_json::json!({ "url": page.url.as_str(), "versions": versions })).into_response())
}

async fn api_diff(State(s): State<Arc<ServeState>>, Query(p): Params) -> Result<Response, Problem> {
    let url = required(&p, "url").map_err(Problem::json)?.to_string();
    let (a, b) = (
        number(&p, "a").map_err(Problem::json)?,
        number(&p, "b").map_err(Problem::json)?,
    );
    off_runtime(move || {
        let view = query::compare(&*s.archive, &url, a, b).map_err(|e| Problem::from(e).json())?;
        Ok(Json(serde_json::json!({
            "url": view.page.url.as_str(),
            "from": view.old.number,
            "to": view.new.number,
            "diff": view.diff,
        }))
        .into_response())
    })
    .await
}

async fn api_changes(
    State(s): State<Arc<ServeState>>,
    Query(p): Params,
) -> Result<Response, Problem> {
    let since = when(&p, "since", s.clock.now()).map_err(Problem::json)?;
    let pages = Pages::all_if(flag(&p, "all").map_err(Problem::json)?);
    let changes = query::changes(&*s.archive, since, pages, Order::NewestFirst)
        .take(1000)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Problem::from(e).json())?;
    Ok(Json(serde_json::json!({ "changes": changes })).into_response())
}

async fn api_status(State(s): State<Arc<ServeState>>) -> Result<Response, Problem> {
    let view = status_view(&s).map_err(Problem::json)?;
    let lines: serde_json::Map<String, serde_json::Value> = view
        .lines
        .into_iter()
        .map(|(key, _, v)| (key.to_string(), serde_json::Value::from(v)))
        .collect();
    let due: Vec<_> = view
        .due
        .into_iter()
        .map(|d| serde_json::json!({ "due": d.due, "url": d.url, "reason": d.reason }))
        .collect();
    Ok(
        Json(serde_json::json!({ "running": view.running, "counters": lines, "due": due }))
            .into_response(),
    )
}

async fn read_needs_post() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "POST a reading command as JSON to /api/read",
    )
    .json()
}

async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "no such page")
}

/// Refuses a request for a name this interface does not answer to, before
/// any handler reads the archive.
async fn host_guard(
    State(policy): State<Arc<HostPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let arrival = request
        .extensions()
        .get::<ConnectInfo<host::Arrival>>()
        .map(|c| c.0);
    let Err(refusal) = policy.check(request.headers(), arrival) else {
        return next.run(request).await;
    };
    let (status, message) = match refusal {
        host::Refusal::Malformed(h) => (
            StatusCode::BAD_REQUEST,
            format!("`Host: {h}` is not a host name"),
        ),
        host::Refusal::Foreign(h) => (
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this archive answers only requests for {}, not `Host: {h}` \
                 (a page of another site may be reaching it through DNS rebinding)",
                policy.described()
            ),
        ),
    };
    let problem = Problem::new(status, message);
    if request.uri().path().starts_with("/api/") {
        problem.json().into_response()
    } else {
        problem.into_response()
    }
}

/// Headers on every response: nothing archived may frame us or run, and no
/// other site may frame us (clickjacking); only our own capture page may
/// frame a raw capture.
async fn hardening(request: Request, next: Next) -> Response {
    let raw_capture = request.uri().path() == "/raw";
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let (frame_options, ancestors) = if raw_capture {
        ("SAMEORIGIN", "'self'")
    } else {
        ("DENY", "'none'")
    };
    headers.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static(frame_options),
    );
    let csp = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(PAGE_POLICY);
    if let Ok(v) = HeaderValue::from_str(&format!("{csp}; frame-ancestors {ancestors}")) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The policy of our own pages: styles inline, nothing loaded from
/// anywhere, forms and frames only to ourselves.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; form-action 'self'; base-uri 'none'";

/// The interface's routes; only requests for a name in `hosts` are answered.
pub(crate) fn router(state: Arc<ServeState>, hosts: HostPolicy) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/article", get(article))
        .route("/diff", get(diff))
        .route("/capture", get(capture))
        .route("/raw", get(raw))
        .route("/status", get(status))
        .route("/changes.atom", get(changes_atom))
        .route("/search", get(search::page))
        .route("/api/search", get(search::api))
        .route("/api/pages", get(api_pages))
        .route("/api/history", get(api_history))
        .route("/api/diff", get(api_diff))
        .route("/api/changes", get(api_changes))
        .route("/api/status", get(api_status))
        .route(
            "/api/read",
            axum::routing::post(read::api_read).fallback(read_needs_post),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::new(hosts), host_guard))
        .layer(middleware::from_fn(hardening))
        .with_state(state)
}

/// Whether serving on `addr` exposes the archive beyond this machine.
pub(crate) fn is_public_bind(addr: &SocketAddr) -> bool {
    !addr.ip().is_loopback()
}

/// Serves until `shutdown` resolves, answering loopback names, the bound
/// address and the `allowed` names.
pub(crate) async fn run_allowing(
    listener: tokio::net::TcpListener,
    state: Arc<ServeState>,
    allowed: Vec<AllowedHost>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hosts = HostPolicy::new(listener.local_addr()?, allowed);
    let app = router(state, hosts).into_make_service_with_connect_info::<host::Arrival>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
