//! The archive's keys and values in PostgreSQL: one table of byte keys and
//! byte values (`bytea` orders as sled orders its keys), a schema version
//! the binary migrates, and a session advisory lock that admits one writing
//! process at a time while any number of readers read alongside it.
//!
//! The client runs on a runtime of its own, so the archive's synchronous
//! calls work from any thread, a crawl's async workers included.

use std::future::Future;
use std::ops::Bound;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::mpsc::sync_channel;

use rustls_platform_verifier::BuilderVerifierExt;
use sled::IVec;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Config, NoTls};

use super::engine::{Entry, Writes};
use super::{ArchiveError, BackendError, Result};

/// The table migrations, in order: the schema version is how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: the records, and who writes them.
    "CREATE TABLE palimpsest_kv (k bytea PRIMARY KEY, v bytea NOT NULL);
     ALTER TABLE palimpsest_kv ALTER COLUMN v SET STORAGE EXTERNAL;
     CREATE TABLE palimpsest_holder (holder text NOT NULL);",
];

/// Held (session advisory lock) by the one process that writes.
const WRITER_LOCK: i64 = 0x7061_6c69_6d70;
/// Held while a process creates or migrates the tables.
const MIGRATION_LOCK: i64 = 0x7061_6c69_6d71;
/// How long connecting may take unless the URL says (`connect_timeout`).
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Entries fetched per round trip when iterating, at most.
const PAGE_ROWS: i64 = 512;
/// A page holds no more values than this many bytes (and at least one
/// entry): scans of payloads, megabytes each, never hold hundreds at once.
const PAGE_BYTES: i64 = 4 << 20;

/// A PostgreSQL archive's address: a `postgres://` or `postgresql://` URL.
#[derive(Clone)]
pub struct PostgresUrl {
    config: Config,
    shown: String,
}

impl PostgresUrl {
    /// Whether `text` names a PostgreSQL archive rather than a directory
    /// (a mistyped URL, `postgres:/db`, is a bad URL, not a directory).
    pub fn is_postgres(text: &str) -> bool {
        text.starts_with("postgres:") || text.starts_with("postgresql:")
    }
}

impl FromStr for PostgresUrl {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let mut config = Config::from_str(text).map_err(|e| format!("bad PostgreSQL URL: {e}"))?;
        fill_from_environment(&mut config, |name| std::env::var(name).ok())?;
        let shown = shown(&config);
        Ok(PostgresUrl { config, shown })
    }
}

/// What the URL leaves out is taken from `PGHOST`, `PGPORT`, `PGUSER`
/// and `PGPASSWORD`, as libpq takes it (so a password need not be on the
/// command line, where other users of the machine see it).
fn fill_from_environment(
    config: &mut Config,
    var: impl Fn(&str) -> Option<String>,
) -> std::result::Result<(), String> {
    if config.get_hosts().is_empty()
        && let Some(host) = var("PGHOST")
    {
        config.host(host);
    }
    if config.get_ports().is_empty()
        && let Some(port) = var("PGPORT")
    {
        let port = port
            .parse()
            .map_err(|_| format!("PGPORT is not a port: {port}"))?;
        config.port(port);
    }
    if config.get_user().is_none()
        && let Some(user) = var("PGUSER")
    {
        config.user(user);
    }
    if config.get_password().is_none()
        && let Some(password) = var("PGPASSWORD")
    {
        config.password(password);
    }
    Ok(())
}

/// The URL as it may be printed: without its password.
fn shown(config: &Config) -> String {
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => String::new(),
    };
    let port = config
        .get_ports()
        .first()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or_default();
    format!("postgres://{user}{host}{port}/{db}")
}

impl std::fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Where a PostgreSQL archive's derived data (the search index) is kept on
/// this machine: the user's cache directory, one per database.
pub(super) fn local_dir(url: &PostgresUrl) -> std::path::PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let id = blake3::hash(url.shown.as_bytes()).to_hex();
    cache
        .join("palimpsest")
        .join(format!("postgres-{}", &id[..16]))
}

/// How a process uses the archive.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Access {
    /// Creates the tables if need be and takes the writer lock.
    Write,
    /// Reads an existing archive; never waits for the writer.
    Read,
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> ArchiveError {
    ArchiveError::Storage(BackendError(Box::new(e)))
}

fn stopped() -> ArchiveError {
    ArchiveError::Storage(BackendError(
        "the PostgreSQL client's runtime stopped".into(),
    ))
}

/// An open connection to a PostgreSQL archive, opened again when the
/// server drops it (a restart).
pub(super) struct Kv {
    runtime: Option<tokio::runtime::Runtime>,
    client: std::sync::Mutex<Arc<Client>>,
    config: Config,
    access: Access,
    holder: String,
}

impl Drop for Kv {
    fn drop(&mut self) {
        // Without waiting: the archive may be dropped on an async thread.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// What opening found.
pub(super) enum Opened {
    Ready(Box<Kv>),
    /// Another process writes; what it recorded about itself.
    Locked(String),
    /// Reading was asked of a database that holds no archive.
    Missing,
}

impl Kv {
    /// Connects, then (to write) creates or migrates the tables and takes
    /// the writer lock, recording `holder`.
    pub(super) fn open(url: &PostgresUrl, access: Access, holder: &str) -> Result<Opened> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("postgres")
            .enable_all()
            .build()?;
        let mut config = url.config.clone();
        if config.get_application_name().is_none() {
            // So the server's own views (pg_stat_activity) say who we are.
            config.application_name("palimpsest");
        }
        if config.get_connect_timeout().is_none() {
            // An unreachable server is an error, not a wait of minutes.
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let holder = holder.to_string();
        let (config_used, holder_used) = (config.clone(), holder.clone());
        let opened = runtime.block_on(async move {
            let mut client = connect(&config).await?;
            if access == Access::Write {
                migrate(&mut client).await?;
                if let Some(other) = take_writer_lock(&client, &holder).await? {
                    return Ok(Err(Some(other)));
                }
            } else if !has_tables(&client).await? {
                return Ok(Err(None));
            } else {
                check_version(&client).await?;
            }
            Ok::<_, ArchiveError>(Ok(client))
        })?;
        Ok(match opened {
            Ok(client) => Opened::Ready(Box::new(Kv {
                runtime: Some(runtime),
                client: std::sync::Mutex::new(Arc::new(client)),
                config: config_used,
                access,
                holder: holder_used,
            })),
            Err(Some(holder)) => Opened::Locked(holder),
            Err(None) => Opened::Missing,
        })
    }

    /// Runs `work` with the client on the client's runtime, waiting for it.
    /// A connection the server closed is opened again and `work` run once
    /// more: every statement here reads, or writes values that writing
    /// twice leaves as once.
    fn run<T, F>(&self, work: impl Fn(Arc<Client>) -> F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        let client = self.client()?;
        match self.block(work(client.clone())) {
            Err(_) if client.is_closed() => {
                let client = self.reconnect(&client)?;
                self.block(work(client))
            }
            done => done,
        }
    }

    /// Waits for `future`, run on the client's runtime (never on the
    /// caller's, which may be a runtime of its own).
    fn block<T: Send + 'static>(
        &self,
        future: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let runtime = self.runtime.as_ref().ok_or_else(stopped)?;
        let (tx, rx) = sync_channel(1);
        runtime.spawn(async move {
            let _ = tx.send(future.await);
        });
        rx.recv().map_err(|_| stopped())?
    }

    /// The client, connected again first if the server closed it.
    fn client(&self) -> Result<Arc<Client>> {
        let client = self
            .client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if client.is_closed() {
            return self.reconnect(&client);
        }
        Ok(client)
    }

    /// Replaces the closed client `lost` with a new connection (unless
    /// another thread already did), taking the writer lock again for a
    /// writer: lost with the old session, it may have passed to another.
    fn reconnect(&self, lost: &Arc<Client>) -> Result<Arc<Client>> {
        let mut current = self.client.lock().unwrap_or_else(|e| e.into_inner());
        if !Arc::ptr_eq(&current, lost) && !current.is_closed() {
            return Ok(current.clone());
        }
        tracing::warn!("the PostgreSQL connection was closed: connecting again");
        let (config, access, holder) = (self.config.clone(), self.access, self.holder.clone());
        let client = self.block(async move {
            let client = connect(&config).await?;
            if access == Access::Write
                && let Some(other) = take_writer_lock(&client, &holder).await?
            {
                return Err(ArchiveError::Storage(BackendError(
                    format!("lost the writer lock while reconnecting: {other} writes now").into(),
                )));
            }
            Ok(client)
        })?;
        *current = Arc::new(client);
        Ok(current.clone())
    }

    pub(super) fn get(&self, key: &[u8]) -> Result<Option<IVec>> {
        let key = Arc::new(key.to_vec());
        self.run(|client| {
            let key = key.clone();
            async move {
                let row = client
                    .query_typed_opt(
                        "SELECT v FROM palimpsest_kv WHERE k = $1",
                        &[(&*key, Type::BYTEA)],
                    )
                    .await
                    .map_err(backend)?;
                Ok(row.map(|r| IVec::from(r.get::<_, Vec<u8>>(0))))
            }
        })
    }

    pub(super) fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<IVec>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let wanted = Arc::new(keys.to_vec());
        let found = self.run(|client| {
            let wanted = wanted.clone();
            async move {
                let rows = client
                    .query_typed(
                        "SELECT k, v FROM palimpsest_kv WHERE k = ANY($1)",
                        &[(&*wanted, Type::BYTEA_ARRAY)],
                    )
                    .await
                    .map_err(backend)?;
                Ok(rows
                    .into_iter()
                    .map(|r| (r.get::<_, Vec<u8>>(0), IVec::from(r.get::<_, Vec<u8>>(1))))
                    .collect::<std::collections::HashMap<_, _>>())
            }
        })?;
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    /// Applies the writes in one statement, so all or none of them land.
    pub(super) fn apply(&self, writes: Writes) -> Result<()> {
        let (mut keys, mut values, mut removed) = (Vec::new(), Vec::new(), Vec::new());
        let mut seen = std::collections::HashSet::new();
        // The last write of a key wins, as in a sled batch.
        for (key, value) in writes.ops.into_iter().rev() {
            if !seen.insert(key.clone()) {
                continue;
            }
            match value {
                Some(value) => {
                    keys.push(key);
                    values.push(value);
                }
                None => removed.push(key),
            }
        }
        if keys.is_empty() && removed.is_empty() {
            return Ok(());
        }
        let writes = Arc::new((keys, values, removed));
        self.run(|client| {
            let writes = writes.clone();
            async move {
                let (keys, values, removed) = &*writes;
                client
                    .execute_typed(
                        "WITH gone AS (DELETE FROM palimpsest_kv WHERE k = ANY($3)) \
                         INSERT INTO palimpsest_kv (k, v) SELECT * FROM unnest($1, $2) \
                         ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
                        &[
                            (keys, Type::BYTEA_ARRAY),
                            (values, Type::BYTEA_ARRAY),
                            (removed, Type::BYTEA_ARRAY),
                        ],
                    )
                    .await
                    .map_err(backend)?;
                Ok(())
            }
        })
    }

    pub(super) fn size_on_disk(&self) -> Result<u64> {
        self.run(|client| async move {
            let row = client
                .query_one("SELECT pg_total_relation_size('palimpsest_kv')", &[])
                .await
                .map_err(backend)?;
            Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
        })
    }

    /// Entries between two bounds (with empty values unless `values`),
    /// fetched a page at a time.
    pub(super) fn range(
        &self,
        from: Bound<Vec<u8>>,
        to: Bound<Vec<u8>>,
        rev: bool,
        values: bool,
    ) -> Range<'_> {
        Range {
            kv: self,
            from,
            to,
            rev,
            values,
            page: std::collections::VecDeque::new(),
            done: false,
        }
    }

    /// The next page of a range, and whether it is the range's last.
    fn page(
        &self,
        from: &Bound<Vec<u8>>,
        to: &Bound<Vec<u8>>,
        rev: bool,
        values: bool,
    ) -> Result<(Vec<Entry>, bool)> {
        let lower = match from {
            Bound::Included(_) => "k >= $1",
            Bound::Excluded(_) => "k > $1",
            Bound::Unbounded => "$1::bytea IS NULL OR true",
        };
        let upper = match to {
            Bound::Included(_) => "k <= $2",
            Bound::Excluded(_) => "k < $2",
            Bound::Unbounded => "$2::bytea IS NULL OR true",
        };
        let order = if rev { "DESC" } else { "ASC" };
        let value = if values { "v" } else { "''::bytea" };
        // The first PAGE_ROWS entries, cut after the one that reaches
        // PAGE_BYTES; `taken` says how many the cut left out of.
        let sql = format!(
            "SELECT k, v, taken FROM ( \
               SELECT k, v, count(*) OVER () AS taken, \
                 sum(octet_length(v)) OVER (ORDER BY k {order}) - octet_length(v) AS before \
               FROM (SELECT k, {value} AS v FROM palimpsest_kv \
                     WHERE ({lower}) AND ({upper}) ORDER BY k {order} LIMIT {PAGE_ROWS}) first \
             ) page WHERE before < {PAGE_BYTES} ORDER BY k {order}"
        );
        let bound = |b: &Bound<Vec<u8>>| match b {
            Bound::Included(k) | Bound::Excluded(k) => Some(k.clone()),
            Bound::Unbounded => None,
        };
        let asked = Arc::new((sql, bound(from), bound(to)));
        self.run(|client| {
            let asked = asked.clone();
            async move {
                let (sql, lo, hi) = &*asked;
                let rows = client
                    .query_typed(sql, &[(lo, Type::BYTEA), (hi, Type::BYTEA)])
                    .await
                    .map_err(backend)?;
                let taken = rows.first().map_or(0, |r| r.get::<_, i64>(2));
                let last = taken < PAGE_ROWS && rows.len() as i64 == taken;
                let entries = rows
                    .into_iter()
                    .map(|r| {
                        (
                            IVec::from(r.get::<_, Vec<u8>>(0)),
                            IVec::from(r.get::<_, Vec<u8>>(1)),
                        )
                    })
                    .collect();
                Ok((entries, last))
            }
        })
    }
}

/// Connects, over TLS when the URL asks for it (`sslmode=require`): the
/// server's certificate is verified against the system's roots.
async fn connect(config: &Config) -> Result<Client> {
    if config.get_ssl_mode() == SslMode::Require {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_platform_verifier())
            .map_err(backend)?
            .with_no_client_auth();
        let (client, connection) = config
            .connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
            .await
            .map_err(backend)?;
        tokio::spawn(watch(connection));
        Ok(client)
    } else {
        let (client, connection) = config.connect(NoTls).await.map_err(backend)?;
        tokio::spawn(watch(connection));
        Ok(client)
    }
}

/// Drives a connection until it ends, saying why if it failed.
async fn watch<F: Future<Output = std::result::Result<(), tokio_postgres::Error>>>(connection: F) {
    if let Err(e) = connection.await {
        tracing::warn!("PostgreSQL connection ended: {e}");
    }
}

/// An iteration over a key range, a page of rows at a time.
pub(super) struct Range<'a> {
    kv: &'a Kv,
    from: Bound<Vec<u8>>,
    to: Bound<Vec<u8>>,
    rev: bool,
    values: bool,
    page: std::collections::VecDeque<Entry>,
    done: bool,
}

impl Iterator for Range<'_> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        if self.page.is_empty() && !self.done {
            match self.kv.page(&self.from, &self.to, self.rev, self.values) {
                Ok((rows, last)) => {
                    self.done = last;
                    if let Some((last, _)) = rows.last() {
                        let after = Bound::Excluded(last.to_vec());
                        if self.rev {
                            self.to = after;
                        } else {
                            self.from = after;
                        }
                    }
                    self.page = rows.into();
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        self.page.pop_front().map(Ok)
    }
}

async fn has_tables(client: &Client) -> Result<bool> {
    let row = client
        .query_one("SELECT to_regclass('palimpsest_schema') IS NOT NULL", &[])
        .await
        .map_err(backend)?;
    Ok(row.get(0))
}

async fn schema_version(client: &impl tokio_postgres::GenericClient) -> Result<usize> {
    let row = client
        .query_opt("SELECT version FROM palimpsest_schema", &[])
        .await
        .map_err(backend)?;
    Ok(row.map_or(0, |r| {
        usize::try_from(r.get::<_, i32>(0)).unwrap_or(usize::MAX)
    }))
}

/// Refuses tables a newer palimpsest laid out.
async fn check_version(client: &Client) -> Result<()> {
    let found = schema_version(client).await?;
    if found > MIGRATIONS.len() {
        return Err(newer_schema(found));
    }
    Ok(())
}

fn newer_schema(found: usize) -> ArchiveError {
    ArchiveError::Storage(BackendError(
        format!(
            "the PostgreSQL archive's tables are at version {found}; this palimpsest knows up to version {}: upgrade palimpsest",
            MIGRATIONS.len()
        )
        .into(),
    ))
}

/// Creates the tables, or brings them to this build's version, once even
/// when several processes start together.
async fn migrate(client: &mut Client) -> Result<()> {
    let tx = client.transaction().await.map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(backend)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS palimpsest_schema (version integer NOT NULL)")
        .await
        .map_err(backend)?;
    let found = schema_version(&tx).await?;
    if found > MIGRATIONS.len() {
        return Err(newer_schema(found));
    }
    for migration in &MIGRATIONS[found..] {
        tx.batch_execute(migration).await.map_err(backend)?;
    }
    let version = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    tx.execute("DELETE FROM palimpsest_schema", &[])
        .await
        .map_err(backend)?;
    tx.execute(
        "INSERT INTO palimpsest_schema (version) VALUES ($1)",
        &[&version],
    )
    .await
    .map_err(backend)?;
    tx.commit().await.map_err(backend)
}

/// Takes the writer lock for this session, or says who holds it.
async fn take_writer_lock(client: &Client, holder: &str) -> Result<Option<String>> {
    let row = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&WRITER_LOCK])
        .await
        .map_err(backend)?;
    if !row.get::<_, bool>(0) {
        let held = client
            .query_opt("SELECT holder FROM palimpsest_holder", &[])
            .await
            .map_err(backend)?;
        return Ok(Some(held.map_or_else(
            || "holder unknown".to_string(),
            |r| r.get::<_, String>(0),
        )));
    }
    let note = format!("{holder}, pid {}", std::process::id());
    let params: [&(dyn ToSql + Sync); 1] = [&note];
    client
        .execute("DELETE FROM palimpsest_holder", &[])
        .await
        .map_err(backend)?;
    client
        .execute(
            "INSERT INTO palimpsest_holder (holder) VALUES ($1)",
            &params,
        )
        .await
        .map_err(backend)?;
    Ok(None)
}

/// For tests: a new, empty database on the server the `PG*` variables name
/// (as `pg_virtualenv` sets them), or `None` with a notice when none is.
/// `PALIMPSEST_REQUIRE_POSTGRES=1` (set by CI) turns the notice into a
/// failure, so the PostgreSQL tests never pass by being skipped.
#[cfg(test)]
pub(super) fn scratch_database(test: &str) -> Option<PostgresUrl> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    if std::env::var_os("PGHOST").is_none() {
        assert!(
            std::env::var_os("PALIMPSEST_REQUIRE_POSTGRES").is_none(),
            "{test}: PostgreSQL is required but PGHOST is not set"
        );
        // Straight to the terminal: the test harness hides what `eprintln!` says.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("NOTICE: {test} skipped on PostgreSQL: no server configured (PGHOST unset)\n")
                .as_bytes(),
        );
        return None;
    }
    let name = format!(
        "palimpsest_unit_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let made = std::process::Command::new("createdb")
        .arg(&name)
        .status()
        .expect("createdb runs");
    assert!(made.success(), "createdb {name} failed");
    // Host, port, user and password come from the PG* variables.
    let url = format!("postgres:///{name}");
    Some(url.parse().expect("scratch URL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_url_leaves_out_comes_from_the_pg_variables() {
        let env = |name: &str| match name {
            "PGHOST" => Some("127.0.0.1".to_string()),
            "PGPORT" => Some("5433".to_string()),
            "PGUSER" => Some("crawler".to_string()),
            "PGPASSWORD" => Some("secret".to_string()),
            _ => None,
        };
        let mut bare = Config::from_str("postgres:///news").unwrap();
        fill_from_environment(&mut bare, env).unwrap();
        assert_eq!(shown(&bare), "postgres://crawler@127.0.0.1:5433/news");
        assert_eq!(bare.get_password(), Some(&b"secret"[..]));
        // What the URL says wins.
        let mut full = Config::from_str("postgres://reader:pw@db.test:6000/news").unwrap();
        fill_from_environment(&mut full, env).unwrap();
        assert_eq!(shown(&full), "postgres://reader@db.test:6000/news");
        assert_eq!(full.get_password(), Some(&b"pw"[..]));
        let mut bad = Config::from_str("postgres:///news").unwrap();
        assert!(fill_from_environment(&mut bad, |n| (n == "PGPORT").then(|| "x".into())).is_err());
    }
}
