//! Shared harness for the integration tests.
//!
//! - [`Site`] / [`Server`]: a fixture web server on `127.0.0.1:0` that serves
//!   many `.test` host names (dispatching on the `Host` header) and records
//!   every request it receives, so tests assert on what the crawler *did*.
//! - [`Crawl`] / [`run`]: run the real `palimpsest` binary with a deadline
//!   (a test never hangs: the child is killed when the deadline passes).
//! - [`Archive`]: a temporary archive directory with helpers to read
//!   `list --json --all-pages`, `stats --json` and `verify`.
//!
//! Traffic goes to loopback only: every crawled URL uses a `.test` host name
//! that the crawler is told (`--resolve`) to reach on 127.0.0.1.

#![allow(dead_code)] // Not every test module uses every helper.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::stream;
use serde_json::Value;
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Fixture server
// ---------------------------------------------------------------------------

/// One request as the fixture server saw it.
#[derive(Clone, Debug)]
pub struct Req {
    /// When the request head arrived.
    pub at: Instant,
    /// The `Host` header without its port, lower-cased.
    pub host: String,
    /// Path and query, as sent.
    pub path: String,
    pub headers: HeaderMap,
    /// The request body (a POST's), read whole.
    pub body: Bytes,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `http://` + the `Host` header as sent (with its port): for pages that
    /// must contain absolute URLs of their own host.
    pub fn origin(&self) -> String {
        format!("http://{}", self.header("host").unwrap_or_default())
    }

    pub fn is_robots(&self) -> bool {
        self.path == "/robots.txt"
    }
}

type Handler = Arc<dyn Fn(&Req) -> Response + Send + Sync>;

enum Route {
    Static {
        status: StatusCode,
        headers: Vec<(&'static str, String)>,
        body: Bytes,
    },
    Dynamic(Handler),
}

/// The pages of one or more fixture hosts. Unknown paths answer 404 (so a
/// host without a `/robots.txt` route has no robots rules).
#[derive(Default)]
pub struct Site {
    routes: HashMap<(String, String), Route>,
}

impl Site {
    pub fn new() -> Self {
        Self::default()
    }

    /// An HTML page (200, `text/html; charset=utf-8`).
    pub fn page(self, host: &str, path: &str, html: impl Into<String>) -> Self {
        self.file(host, path, "text/html; charset=utf-8", html.into())
    }

    /// A 200 response with the given content type.
    pub fn file(self, host: &str, path: &str, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.raw(
            host,
            path,
            StatusCode::OK,
            vec![("content-type", content_type.to_string())],
            body,
        )
    }

    /// `/robots.txt` for `host`.
    pub fn robots(self, host: &str, body: &str) -> Self {
        self.file(host, "/robots.txt", "text/plain", body.to_string())
    }

    /// A fixed response.
    pub fn raw(
        mut self,
        host: &str,
        path: &str,
        status: StatusCode,
        headers: Vec<(&'static str, String)>,
        body: impl Into<Bytes>,
    ) -> Self {
        self.routes.insert(
            (host.to_string(), path.to_string()),
            Route::Static {
                status,
                headers,
                body: body.into(),
            },
        );
        self
    }

    /// A response computed per request (for stateful or streaming answers).
    /// A `path` ending in `*` matches every path with that prefix.
    pub fn route(
        mut self,
        host: &str,
        path: &str,
        handler: impl Fn(&Req) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.routes.insert(
            (host.to_string(), path.to_string()),
            Route::Dynamic(Arc::new(handler)),
        );
        self
    }

    pub fn serve(self) -> Server {
        let routes = Arc::new(self.routes);
        Server::start(move |req: &Req| {
            let path_only = req.path.split('?').next().unwrap_or("").to_string();
            let route = routes
                .get(&(req.host.clone(), req.path.clone()))
                .or_else(|| routes.get(&(req.host.clone(), path_only.clone())))
                .or_else(|| {
                    // `/prefix/*` routes match every path under the prefix.
                    routes.iter().find_map(|((host, pattern), route)| {
                        let prefix = pattern.strip_suffix('*')?;
                        (*host == req.host && path_only.starts_with(prefix)).then_some(route)
                    })
                });
            match route {
                Some(Route::Static {
                    status,
                    headers,
                    body,
                }) => {
                    let mut resp = Response::new(Body::from(body.clone()));
                    *resp.status_mut() = *status;
                    for (name, value) in headers {
                        resp.headers_mut()
                            .insert(*name, HeaderValue::from_str(value).unwrap());
                    }
                    resp
                }
                Some(Route::Dynamic(handler)) => handler(req),
                None => status(StatusCode::NOT_FOUND),
            }
        })
    }
}

/// A running fixture server. Dropping it shuts it down.
pub struct Server {
    pub port: u16,
    log: Arc<Mutex<Vec<Req>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    /// Starts a server on 127.0.0.1:0 that records every request, then
    /// answers it with `handler`.
    pub fn start(handler: impl Fn(&Req) -> Response + Send + Sync + 'static) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("fixture runtime");
        let log: Arc<Mutex<Vec<Req>>> = Arc::default();
        let handler: Handler = Arc::new(handler);
        let app_log = log.clone();
        let app = Router::new().fallback(move |request: Request| {
            let log = app_log.clone();
            let handler = handler.clone();
            async move {
                let host = request
                    .headers()
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let host = match host.rsplit_once(':') {
                    Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => {
                        name.to_string()
                    }
                    _ => host,
                };
                let at = Instant::now();
                let path = request
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into());
                let (parts, body) = request.into_parts();
                let req = Req {
                    at,
                    host,
                    path,
                    headers: parts.headers,
                    body: axum::body::to_bytes(body, 16 << 20)
                        .await
                        .unwrap_or_default(),
                };
                log.lock().unwrap().push(req.clone());
                let mut resp = handler(&req);
                // `delayed` responses: hold the response head back.
                let delay = resp
                    .headers_mut()
                    .remove(DELAY_HEADER)
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                if let Some(ms) = delay {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                resp
            }
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        let addr: SocketAddr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Server {
            port: addr.port(),
            log,
            runtime: Some(runtime),
        }
    }

    /// `http://HOST:PORT/PATH` for one of this server's host names.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }

    /// `--resolve HOST:PORT:127.0.0.1` for each host.
    pub fn resolve_args(&self, hosts: &[&str]) -> Vec<String> {
        hosts
            .iter()
            .flat_map(|h| {
                [
                    "--resolve".to_string(),
                    format!("{h}:{}:127.0.0.1", self.port),
                ]
            })
            .collect()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }

    /// The requests for one host, in arrival order.
    pub fn requests_for(&self, host: &str) -> Vec<Req> {
        self.requests()
            .into_iter()
            .filter(|r| r.host == host)
            .collect()
    }

    /// Paths (with query) requested on one host, in arrival order.
    pub fn paths(&self, host: &str) -> Vec<String> {
        self.requests_for(host)
            .into_iter()
            .map(|r| r.path)
            .collect()
    }

    /// The requests for exactly `path` on `host`, in arrival order.
    pub fn requests_to(&self, host: &str, path: &str) -> Vec<Req> {
        self.requests_for(host)
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// How many times `host` was asked for exactly `path`.
    pub fn count(&self, host: &str, path: &str) -> usize {
        self.requests_to(host, path).len()
    }

    /// Requests other than `/robots.txt`.
    pub fn page_requests(&self) -> Vec<Req> {
        self.requests()
            .into_iter()
            .filter(|r| !r.is_robots())
            .collect()
    }

    /// Forgets the requests logged so far (between two runs of a test).
    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }

    /// A readable dump of the log for assertion messages.
    pub fn dump(&self) -> String {
        let log = self.requests();
        let Some(first) = log.first().map(|r| r.at) else {
            return "(no requests)".into();
        };
        log.iter()
            .map(|r| {
                format!(
                    "{:>8.3}s {} {}",
                    (r.at - first).as_secs_f64(),
                    r.host,
                    r.path
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// An address on loopback where nothing listens (bound, then released).
pub fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

pub fn status(code: StatusCode) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = code;
    resp
}

pub fn html(body: impl Into<String>) -> Response {
    let mut resp = Response::new(Body::from(body.into()));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

pub fn redirect(code: StatusCode, location: &str) -> Response {
    let mut resp = status(code);
    resp.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_str(location).unwrap());
    resp
}

const DELAY_HEADER: &str = "x-fixture-delay-ms";

/// `resp`, sent only after `delay` (the status line and headers too).
pub fn delayed(resp: Response, delay: Duration) -> Response {
    with_header(resp, DELAY_HEADER, &delay.as_millis().to_string())
}

pub fn with_header(mut resp: Response, name: &'static str, value: &str) -> Response {
    resp.headers_mut()
        .insert(name, HeaderValue::from_str(value).unwrap());
    resp
}

/// An HTML body of `total` bytes of filler, produced lazily in 64 KiB chunks
/// (never allocated whole). `sent` counts the bytes handed to the socket.
pub fn huge_html_body(total: u64, sent: Arc<AtomicU64>) -> Body {
    const CHUNK: usize = 64 * 1024;
    let head =
        Bytes::from_static(b"<!doctype html><html><head><title>Huge</title></head><body><p>");
    let filler = Bytes::from(vec![b'a'; CHUNK]);
    let chunks = stream::unfold(0u64, move |done| {
        let head = head.clone();
        let filler = filler.clone();
        let sent = sent.clone();
        async move {
            if done >= total {
                return None;
            }
            let chunk = if done == 0 {
                head
            } else {
                filler.slice(..(total - done).min(CHUNK as u64) as usize)
            };
            sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            Some((
                Ok::<_, std::io::Error>(chunk.clone()),
                done + chunk.len() as u64,
            ))
        }
    });
    Body::from_stream(chunks)
}

/// A gzip stream of `total` zero bytes, compressed lazily while it is sent
/// (1 MiB of input at a time; the whole bomb never exists in memory).
/// `fed` counts the uncompressed bytes produced so far.
pub fn gzip_bomb_body(total: u64, fed: Arc<AtomicU64>) -> Body {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    const STEP: usize = 1024 * 1024;
    struct State {
        encoder: Option<GzEncoder<Vec<u8>>>,
        remaining: u64,
        fed: Arc<AtomicU64>,
    }
    let zeros: Arc<[u8]> = vec![0u8; STEP].into();
    let start = State {
        encoder: Some(GzEncoder::new(Vec::new(), Compression::default())),
        remaining: total,
        fed,
    };
    let chunks = stream::unfold(start, move |mut state| {
        let zeros = zeros.clone();
        async move {
            loop {
                let encoder = state.encoder.as_mut()?;
                if state.remaining == 0 {
                    let tail = state.encoder.take()?.finish().ok()?;
                    return Some((Ok::<_, std::io::Error>(Bytes::from(tail)), state));
                }
                let n = state.remaining.min(STEP as u64) as usize;
                encoder.write_all(&zeros[..n]).ok()?;
                state.remaining -= n as u64;
                state.fed.fetch_add(n as u64, Ordering::Relaxed);
                let out = std::mem::take(encoder.get_mut());
                if !out.is_empty() {
                    return Some((Ok(Bytes::from(out)), state));
                }
            }
        }
    });
    Body::from_stream(chunks)
}

/// A body that sends `prefix`, then one byte a second for `seconds` seconds.
pub fn trickle_body(prefix: &'static str, seconds: u32) -> Body {
    let chunks = stream::unfold(0u32, move |i| async move {
        if i == 0 {
            return Some((
                Ok::<_, std::io::Error>(Bytes::from_static(prefix.as_bytes())),
                1,
            ));
        }
        if i > seconds {
            return None;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        Some((Ok(Bytes::from_static(b"a")), i + 1))
    });
    Body::from_stream(chunks)
}

// ---------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------

/// An article-like HTML page titled `title` with a few paragraphs and one
/// `<a href>` per entry of `links`.
pub fn page(title: &str, links: &[&str]) -> String {
    page_with_head(title, "", links)
}

/// Like [`page`], with extra markup in `<head>`.
pub fn page_with_head(title: &str, head: &str, links: &[&str]) -> String {
    let links: String = links
        .iter()
        .enumerate()
        .map(|(i, href)| format!("<li><a href=\"{href}\">Link {i}</a></li>\n"))
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title>{head}</head>\n<body>\n\
         <nav><ul>\n{links}</ul></nav>\n\
         <article><h1>{title}</h1>\n\
         <p class=\"byline\">By Test Writer</p>\n\
         <p>{title}: the first paragraph of this story reports what happened, \
         where it happened and who was there when it did.</p>\n\
         <p>The second paragraph of {title} adds the context that readers need \
         to understand why the event matters to them.</p>\n\
         <p>A third paragraph quotes a witness about {title} at some length, so \
         the page has enough text to count as a body.</p>\n\
         </article>\n</body></html>\n"
    )
}

// ---------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------

/// What a finished `palimpsest` run printed.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// The process's peak RSS as sampled by the harness from
    /// `/proc/PID/status` (`VmHWM`) while it ran; 0 where unavailable.
    pub sampled_peak_rss: u64,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Panics (with the output) unless the run exited 0.
    pub fn assert_success(&self, what: &str) -> &Self {
        assert!(
            self.status.success(),
            "{what}: expected exit 0, got {:?}\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics (with the output) unless the run exited with `code` (3: a
    /// crawl that finished with some pages failed; 1: nothing fetched).
    pub fn assert_exit(&self, code: i32, what: &str) -> &Self {
        assert_eq!(
            self.status.code(),
            Some(code),
            "{what}: expected exit {code}, got {:?}\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    /// The `--json` summary of a crawl: one JSON object on stdout.
    pub fn summary(&self) -> Value {
        parse_json_object(&self.stdout).unwrap_or_else(|| {
            panic!(
                "crawl --json printed no JSON object on stdout\nstdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

fn parse_json_object(text: &str) -> Option<Value> {
    let text = text.trim();
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(text) {
        return Some(v);
    }
    text.lines()
        .rev()
        .find_map(|line| match serde_json::from_str::<Value>(line.trim()) {
            Ok(v @ Value::Object(_)) => Some(v),
            _ => None,
        })
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_palimpsest")
}

/// Starts `palimpsest ARGS` with piped output.
pub fn spawn(args: &[String]) -> Running {
    spawn_with_env(args, &[])
}

/// Like [`spawn`], with environment variables set (`PALIMPSEST_ARCHIVE` is
/// otherwise removed, so a developer's setting never leaks into a test).
pub fn spawn_with_env(args: &[String], env: &[(&str, &str)]) -> Running {
    let mut command = Command::new(bin());
    command.args(args);
    spawn_command(command, args, env)
}

/// Like [`spawn`], under `ulimit -n NOFILE` (the common default is 1024).
pub fn spawn_with_file_limit(args: &[String], nofile: u32) -> Running {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
        .arg(bin())
        .args(args);
    spawn_command(command, args, &[])
}

fn spawn_command(mut command: Command, args: &[String], env: &[(&str, &str)]) -> Running {
    let mut child = command
        .env_remove("PALIMPSEST_ARCHIVE")
        .envs(env.iter().copied())
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn palimpsest");
    let stdout = read_in_background(child.stdout.take().unwrap());
    let stderr = read_in_background(child.stderr.take().unwrap());
    Running {
        child,
        stdout,
        stderr,
        started: Instant::now(),
        args: args.to_vec(),
        peak_rss: 0,
    }
}

/// `VmHWM` (peak resident set size) of a live process, in bytes.
fn peak_rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn read_in_background(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes).ok();
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// A `palimpsest` process the test started.
pub struct Running {
    child: Child,
    stdout: thread::JoinHandle<String>,
    stderr: thread::JoinHandle<String>,
    started: Instant,
    args: Vec<String>,
    peak_rss: u64,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Sends a signal by name (`INT`, `TERM`…) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill(1)");
        assert!(status.success(), "kill -{name} {} failed", self.pid());
    }

    fn sample_rss(&mut self) {
        if let Some(rss) = peak_rss_of(self.child.id()) {
            self.peak_rss = self.peak_rss.max(rss);
        }
    }

    /// SIGKILL (`kill -9`), then collect what it printed.
    pub fn kill(mut self) -> Output {
        self.child.kill().ok();
        let status = self.child.wait().expect("wait for killed child");
        Output {
            status,
            stdout: self.stdout.join().unwrap_or_default(),
            stderr: self.stderr.join().unwrap_or_default(),
            elapsed: self.started.elapsed(),
            sampled_peak_rss: self.peak_rss,
        }
    }

    /// Waits for the process to exit; past `deadline` it is killed and the
    /// test fails with what it printed. Fails too if it panicked.
    pub fn wait(mut self, deadline: Duration) -> Output {
        loop {
            self.sample_rss();
            if let Ok(Some(status)) = self.child.try_wait() {
                let out = Output {
                    status,
                    stdout: self.stdout.join().unwrap_or_default(),
                    stderr: self.stderr.join().unwrap_or_default(),
                    elapsed: self.started.elapsed(),
                    sampled_peak_rss: self.peak_rss,
                };
                assert_no_panic(&self.args, &out);
                return out;
            }
            if self.started.elapsed() > deadline {
                let args = self.args.clone();
                let out = self.kill();
                panic!(
                    "palimpsest {args:?} still running after {deadline:?}; killed.\nstdout:\n{}\nstderr:\n{}",
                    out.stdout, out.stderr
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

fn assert_no_panic(args: &[String], out: &Output) {
    assert!(
        !out.stderr.contains("panicked"),
        "palimpsest {args:?} panicked:\n{}",
        out.stderr
    );
    // A panic that aborts, or a signal, shows as an exit without a code.
    assert!(
        out.status.code().is_some(),
        "palimpsest {args:?} died from a signal ({:?}):\n{}",
        out.status,
        out.stderr
    );
}

/// Runs `palimpsest ARGS` to completion (killed and failed past `deadline`).
pub fn run<S: AsRef<str>>(args: &[S], deadline: Duration) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.as_ref().to_string()).collect();
    spawn(&args).wait(deadline)
}

// ---------------------------------------------------------------------------
// Archives
// ---------------------------------------------------------------------------

/// A temporary archive directory, removed when dropped, or a new database
/// on the PostgreSQL server the `PG*` variables name.
pub struct Archive {
    dir: TempDir,
    postgres: Option<String>,
}

impl Archive {
    /// A directory archive; with `PALIMPSEST_TEST_ARCHIVE=postgres` (a
    /// developer's switch, to run the suite against PostgreSQL), a database.
    pub fn new() -> Self {
        if std::env::var("PALIMPSEST_TEST_ARCHIVE").as_deref() == Ok("postgres")
            && let Some(archive) = Archive::postgres("the suite on PostgreSQL")
        {
            return archive;
        }
        Archive::directory()
    }

    /// A directory archive, whatever the switch says.
    pub fn directory() -> Self {
        Archive {
            dir: tempfile::Builder::new()
                .prefix("palimpsest-test-")
                .tempdir()
                .expect("temp dir"),
            postgres: None,
        }
    }

    /// An archive in a new database on the PostgreSQL server that `PGHOST`,
    /// `PGPORT`, `PGUSER` and `PGPASSWORD` name (`pg_virtualenv` sets them),
    /// or `None` after a notice when no server is configured.
    /// `PALIMPSEST_REQUIRE_POSTGRES` (set by CI) makes a missing server a
    /// failure: these tests never pass by being skipped there.
    pub fn postgres(test: &str) -> Option<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        if std::env::var_os("PGHOST").is_none() {
            assert!(
                std::env::var_os("PALIMPSEST_REQUIRE_POSTGRES").is_none(),
                "{test}: PostgreSQL is required but PGHOST is not set"
            );
            // Straight to the terminal: the harness hides `eprintln!`.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("NOTICE: {test} skipped: no PostgreSQL server configured (PGHOST unset)\n")
                    .as_bytes(),
            );
            return None;
        }
        let name = format!(
            "palimpsest_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let made = Command::new("createdb")
            .arg(&name)
            .status()
            .expect("createdb runs");
        assert!(made.success(), "createdb {name} failed");
        // Host, port, user and password come from the PG* variables, as
        // for any palimpsest command.
        let url = format!("postgres:///{name}");
        Some(Archive {
            postgres: Some(url),
            ..Archive::directory()
        })
    }

    /// The `--archive` value: the directory, or the database's URL.
    pub fn path(&self) -> String {
        match &self.postgres {
            Some(url) => url.clone(),
            None => self.dir.path().join("archive").display().to_string(),
        }
    }

    /// `crawl --archive DIR --no-progress --allow-private` plus `--resolve`
    /// for each host of `server`.
    pub fn crawl(&self, server: &Server, hosts: &[&str]) -> Crawl {
        self.crawl_guarded(server, hosts).arg("--allow-private")
    }

    /// Crawls `host` from its front page at `rate` until done, and asserts
    /// that the crawl succeeded.
    pub fn crawl_site(&self, server: &Server, host: &str, rate: &str, deadline: Duration) {
        self.crawl_site_until(server, host, rate, deadline)
            .assert_success("crawl");
    }

    /// Like [`Archive::crawl_site`] for a site where some pages fail: the
    /// crawl finishes with exit code 3.
    pub fn crawl_site_with_errors(
        &self,
        server: &Server,
        host: &str,
        rate: &str,
        deadline: Duration,
    ) {
        self.crawl_site_until(server, host, rate, deadline)
            .assert_exit(3, "crawl with failing pages");
    }

    fn crawl_site_until(
        &self,
        server: &Server,
        host: &str,
        rate: &str,
        deadline: Duration,
    ) -> Output {
        self.crawl(server, &[host])
            .args(["--rate", rate])
            .arg(server.url(host, "/"))
            .run(deadline)
    }

    /// Like [`Archive::crawl`] without `--allow-private`.
    pub fn crawl_guarded(&self, server: &Server, hosts: &[&str]) -> Crawl {
        let mut args = vec![
            "crawl".to_string(),
            "--archive".to_string(),
            self.path(),
            "--no-progress".to_string(),
        ];
        args.extend(server.resolve_args(hosts));
        Crawl {
            args,
            env: Vec::new(),
        }
    }

    /// `list --json --all-pages`: one JSON object per page.
    pub fn list(&self) -> Vec<Value> {
        self.list_with(&["--all-pages"])
    }

    /// `list --json` with extra flags.
    pub fn list_with(&self, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["list", "--json", "--archive"];
        let path = self.path();
        args.push(&path);
        args.extend_from_slice(extra);
        let out = run(&args, Duration::from_secs(60));
        out.assert_success("palimpsest list --json");
        out.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("list --json line is not JSON ({e}): {l}"))
            })
            .collect()
    }

    /// The `list --json --all-pages` entry whose `url` is `url`.
    pub fn entry(&self, url: &str) -> Value {
        let pages = self.list();
        find_page(&pages, url)
            .cloned()
            .unwrap_or_else(|| panic!("{url} is not in `list --json --all-pages`:\n{pages:#?}"))
    }

    /// `stats --json`.
    pub fn stats(&self) -> Value {
        let path = self.path();
        let out = run(
            &["stats", "--json", "--archive", &path],
            Duration::from_secs(60),
        );
        out.assert_success("palimpsest stats --json");
        parse_json_object(&out.stdout)
            .unwrap_or_else(|| panic!("stats --json printed no JSON object:\n{}", out.stdout))
    }

    /// `verify`, which must succeed.
    pub fn assert_verify_clean(&self) {
        let path = self.path();
        let out = run(&["verify", "--archive", &path], Duration::from_secs(120));
        out.assert_success("palimpsest verify");
        let said = format!("{}{}", out.stdout, out.stderr).to_lowercase();
        assert!(
            said.contains("clean") || said.contains("ok"),
            "verify exited 0 without saying the archive is clean:\n{said}"
        );
    }
}

/// The entry of `pages` whose `url` is `url`.
pub fn find_page<'a>(pages: &'a [Value], url: &str) -> Option<&'a Value> {
    pages.iter().find(|p| p["url"].as_str() == Some(url))
}

/// A `crawl` command line under construction.
#[derive(Clone)]
pub struct Crawl {
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Crawl {
    /// Runs the crawler on a test clock (`PALIMPSEST_CLOCK`), e.g.
    /// [`hours_later`] or a [`FastClock`]'s spec.
    pub fn clock(mut self, spec: impl Into<String>) -> Self {
        self.env.push((CLOCK_VAR.to_string(), spec.into()));
        self
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn to_args(&self) -> Vec<String> {
        self.args.clone()
    }

    pub fn spawn(&self) -> Running {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        spawn_with_env(&self.args, &env)
    }

    pub fn run(&self, deadline: Duration) -> Output {
        self.spawn().wait(deadline)
    }
}

// ---------------------------------------------------------------------------
// Test clocks: time passes without the test sleeping
// ---------------------------------------------------------------------------

/// The environment variable that gives the binary a test clock.
pub const CLOCK_VAR: &str = "PALIMPSEST_CLOCK";

/// A clock `hours` ahead of real time: a crawl run on it is unmistakably
/// later than one run before it, without waiting.
pub fn hours_later(hours: u32) -> String {
    format!("offset=+{hours}h")
}

/// A clock that runs `scale` times faster than real time from the moment
/// it is made, shared by every process given its [`FastClock::spec`]: a
/// schedule of seconds passes in a fraction of the time. The fixture server
/// stamps requests with real [`Instant`]s; [`FastClock::at`] and
/// [`FastClock::gaps`] read them on the crawler's clock.
#[derive(Clone, Copy, Debug)]
pub struct FastClock {
    pub scale: f64,
    from: chrono::DateTime<chrono::Utc>,
    anchor: Instant,
}

impl FastClock {
    pub fn new(scale: f64) -> Self {
        FastClock {
            scale,
            from: chrono::Utc::now(),
            anchor: Instant::now(),
        }
    }

    /// The value of `PALIMPSEST_CLOCK` for this clock.
    pub fn spec(&self) -> String {
        format!("scale={},from={}", self.scale, self.from.to_rfc3339())
    }

    /// `(name, value)` for [`spawn_with_env`].
    pub fn env(&self) -> (String, String) {
        (CLOCK_VAR.to_string(), self.spec())
    }

    /// What the crawler's clock read at the real instant `t`.
    pub fn at(&self, t: Instant) -> chrono::DateTime<chrono::Utc> {
        let real = t.saturating_duration_since(self.anchor);
        self.from + chrono::TimeDelta::from_std(real.mul_f64(self.scale)).unwrap()
    }

    /// What the crawler's clock reads now.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.at(Instant::now())
    }

    /// The real time `clock` (a span of this clock's time) takes.
    pub fn real(&self, clock: Duration) -> Duration {
        clock.div_f64(self.scale)
    }

    /// The span of this clock's time that passes in `real` time.
    pub fn span(&self, real: Duration) -> Duration {
        real.mul_f64(self.scale)
    }

    /// [`gaps`] in seconds of this clock.
    pub fn gaps(&self, times: &[Instant]) -> Vec<f64> {
        gaps(times).into_iter().map(|g| g * self.scale).collect()
    }
}

/// `u64` field of a JSON object, failing with the object when absent.
pub fn num(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("field {field:?} missing or not an integer in {v:#}"))
}

/// `string` field of a JSON object (None when null or absent).
pub fn str_field<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v[field].as_str()
}

/// Polls `cond` every 20 ms until it holds; fails after `deadline`.
pub fn wait_until(deadline: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Gaps between consecutive instants, in seconds.
pub fn gaps(times: &[Instant]) -> Vec<f64> {
    times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect()
}

/// Serializes the tests that measure request spacing with the tests that
/// burn CPU (bombs, huge bodies), so that a busy machine does not blur the
/// measurements. Hold the guard for the whole test.
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counters shared between a test and its fixture handlers.
pub fn counter() -> Arc<AtomicU64> {
    Arc::new(AtomicU64::new(0))
}
