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

use futures_util::future::BoxFuture;
use rustls_platform_verifier::BuilderVerifierExt;
use sled::IVec;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Config, NoTls};

use super::engine::{Entry, SharedWrites, Writes};
use super::{ArchiveError, BackendError, Result, keys};

/// The table migrations, in order: the schema version is how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: the records, and who writes them.
    "CREATE TABLE palimpsest_kv (k bytea PRIMARY KEY, v bytea NOT NULL);
     ALTER TABLE palimpsest_kv ALTER COLUMN v SET STORAGE EXTERNAL;
     CREATE TABLE palimpsest_holder (holder text NOT NULL);",
    // 2: crawling processes sharing the archive: who holds each host, and
    // links found for hosts that others hold.
    "CREATE TABLE palimpsest_lease (
       host text PRIMARY KEY,
       holder text,
       expires timestamptz,
       due bigint,
       next_allowed bigint NOT NULL DEFAULT 0,
       routed boolean NOT NULL DEFAULT false);
     CREATE INDEX palimpsest_lease_due ON palimpsest_lease (due) WHERE due IS NOT NULL;
     CREATE TABLE palimpsest_routed (
       host text NOT NULL,
       url text NOT NULL,
       link bytea NOT NULL,
       PRIMARY KEY (host, url));
     CREATE TABLE palimpsest_crawler (
       holder text PRIMARY KEY,
       seen timestamptz NOT NULL,
       backend integer NOT NULL);
     CREATE TABLE palimpsest_admissions (pass bigint PRIMARY KEY, taken bigint NOT NULL);
     CREATE TABLE palimpsest_ids (
       one boolean PRIMARY KEY DEFAULT true CHECK (one),
       next_url bigint NOT NULL,
       next_host bigint NOT NULL);",
];

/// Held (session advisory lock) by the one process that writes.
const WRITER_LOCK: i64 = 0x7061_6c69_6d70;
/// Held while a process creates or migrates the tables.
const MIGRATION_LOCK: i64 = 0x7061_6c69_6d71;
/// Held (transaction advisory lock) by every write transaction and lease
/// change: the change log is numbered in commit order, and crawling
/// processes never wait on each other's rows in a cycle.
const COMMIT_LOCK: i64 = 0x7061_6c69_6d72;
/// Held while a crawling process starts or joins a pass.
const PASS_LOCK: i64 = 0x7061_6c69_6d73;
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
    /// Like `Write`, but shares the writer lock with other crawling
    /// processes (which coordinate through host leases).
    Crawl,
    /// Reads an existing archive; never waits for the writer.
    Read,
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> ArchiveError {
    ArchiveError::Storage(BackendError(Box::new(e)))
}

/// Whether `e` says the server ended the session (a restart, a failover,
/// an administrator): the client may not have seen the connection close
/// yet when the statement's error arrives.
fn ended_by_server(e: &ArchiveError) -> bool {
    let ArchiveError::Storage(BackendError(source)) = e else {
        return false;
    };
    source
        .downcast_ref::<tokio_postgres::Error>()
        .is_some_and(|e| {
            e.is_closed()
                || e.code().is_some_and(|c| {
                    *c == SqlState::ADMIN_SHUTDOWN || *c == SqlState::CRASH_SHUTDOWN
                })
        })
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
    /// A second connection for transactions of several statements (a
    /// batch, a lease change), opened when first needed: the first is
    /// shared by every thread, whose statements would land inside them.
    transactions: Arc<tokio::sync::Mutex<Option<Client>>>,
    config: Config,
    access: Access,
    holder: String,
    /// Who this process is to the other crawling processes (leases).
    pub(super) lease_holder: String,
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
        let lease_holder = format!(
            "{holder}, pid {}, {:016x}",
            std::process::id(),
            rand::random::<u64>()
        );
        let (config_used, holder_used) = (config.clone(), holder.clone());
        let crawler = lease_holder.clone();
        let opened = runtime.block_on(async move {
            let mut client = connect(&config).await?;
            if access != Access::Read {
                migrate(&mut client).await?;
                if let Some(other) = take_writer_lock(&client, &holder, access).await? {
                    return Ok(Err(Some(other)));
                }
                if access == Access::Crawl {
                    // Counted at once among the crawling processes, so that
                    // one started beside it does not claim its share.
                    announce_crawler(&client, &crawler).await?;
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
                transactions: Arc::default(),
                config: config_used,
                access,
                lease_holder,
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
            Err(e) if client.is_closed() || ended_by_server(&e) => {
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
        let crawler = self.lease_holder.clone();
        let client = self.block(async move {
            let client = connect(&config).await?;
            if access != Access::Read
                && let Some(other) = take_writer_lock(&client, &holder, access).await?
            {
                return Err(ArchiveError::Storage(BackendError(
                    format!("lost the writer lock while reconnecting: {other} writes now").into(),
                )));
            }
            if access == Access::Crawl {
                announce_crawler(&client, &crawler).await?;
            }
            Ok(client)
        })?;
        *current = Arc::new(client);
        Ok(current.clone())
    }

    /// Whether this process crawls alongside others (host leases).
    pub(super) fn shares_crawl(&self) -> bool {
        self.access == Access::Crawl
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

    /// Applies the writes in one transaction, so all or none of them land,
    /// numbering the logged changes after the last one in the table.
    pub(super) fn apply(&self, writes: Writes, last_logged: &mut u64) -> Result<()> {
        let Writes {
            ops,
            new_only,
            logged,
            shared,
        } = writes;
        let (mut keys, mut values, mut removed) = (Vec::new(), Vec::new(), Vec::new());
        let mut seen = std::collections::HashSet::new();
        // The last write of a key wins, as in a sled batch.
        for (key, value) in ops.into_iter().rev() {
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
        let (new_keys, new_values) = new_only.into_iter().unzip();
        let batch = Batch {
            keys,
            values,
            removed,
            new_keys,
            new_values,
            logged,
            shared,
            lease_holder: self.lease_holder.clone(),
        };
        if batch.is_empty() {
            return Ok(());
        }
        let last = self.in_transaction(Arc::new(batch), |client, batch| {
            Box::pin(apply_batch(client, batch))
        })?;
        if let Some(last) = last {
            *last_logged = last;
        }
        Ok(())
    }

    /// Runs `work` on the transactions connection (connected first if need
    /// be), once more on a new connection if the server closed it.
    fn in_transaction<A, T>(
        &self,
        args: Arc<A>,
        work: for<'c> fn(&'c mut Client, Arc<A>) -> BoxFuture<'c, Result<T>>,
    ) -> Result<T>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
    {
        let slot = self.transactions.clone();
        let config = self.config.clone();
        self.block(async move {
            let mut connection = slot.lock().await;
            let mut retried = false;
            loop {
                let client = match connection.take() {
                    Some(client) if !client.is_closed() => client,
                    _ => connect(&config).await?,
                };
                let client = connection.insert(client);
                match work(client, args.clone()).await {
                    Err(e) if !retried && (client.is_closed() || ended_by_server(&e)) => {
                        retried = true
                    }
                    done => return done,
                }
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

/// Host leases: how crawling processes sharing the archive split its
/// hosts. Each change runs under the commit lock, so it never interleaves
/// with another process's batch.
impl Kv {
    /// Claims at most `n` hosts with work due by `now` (µs) that no live
    /// lease holds, and no more than this process's share of the hosts
    /// with work among the crawling processes seen within a lease: each
    /// with the time (µs) before which it must not be sent a request.
    pub(super) fn claim_hosts(
        &self,
        n: usize,
        now: i64,
        lease: std::time::Duration,
    ) -> Result<Vec<(String, i64)>> {
        let args = Arc::new((
            self.lease_holder.clone(),
            n as i64,
            now,
            lease_millis(lease),
        ));
        self.in_transaction(args, |client, args| {
            Box::pin(async move {
                let (holder, n, now, lease) = &*args;
                let tx = locked_transaction(client).await?;
                tx.execute_typed(
                    "UPDATE palimpsest_crawler SET seen = now() WHERE holder = $1",
                    &[(holder, Type::TEXT)],
                )
                .await
                .map_err(backend)?;
                let share = tx
                    .query_typed(
                        &format!(
                            "SELECT ceil((SELECT count(*) FROM palimpsest_lease \
                                  WHERE due IS NOT NULL OR (holder IS NOT NULL AND expires > now()))::float8 \
                                / greatest(1, (SELECT count(*) FROM palimpsest_crawler c \
                                  WHERE seen > now() - $2 * interval '1 millisecond' AND {CONNECTED})))::int8 \
                             - (SELECT count(*) FROM palimpsest_lease WHERE holder = $1)"
                        ),
                        &[(holder, Type::TEXT), (lease, Type::FLOAT8)],
                    )
                    .await
                    .map_err(backend)?;
                let share: i64 = share.first().map_or(0, |r| r.get(0));
                let n = (*n).min(share.max(0));
                let rows = tx
                    .query_typed(
                        &format!(
                            "UPDATE palimpsest_lease SET holder = $1, \
                               expires = now() + $4 * interval '1 millisecond' \
                             WHERE host IN (SELECT host FROM palimpsest_lease l \
                               WHERE due IS NOT NULL AND due <= $3 \
                                 AND (holder IS NULL OR expires < now() OR NOT {HOLDER_CONNECTED}) \
                               ORDER BY due LIMIT $2 FOR UPDATE SKIP LOCKED) \
                             RETURNING host, next_allowed"
                        ),
                        &[
                            (holder, Type::TEXT),
                            (&n, Type::INT8),
                            (now, Type::INT8),
                            (lease, Type::FLOAT8),
                        ],
                    )
                    .await
                    .map_err(backend)?;
                tx.commit().await.map_err(backend)?;
                Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
            })
        })
    }

    /// Extends the leases of `held` (host, not before µs), each with
    /// whether links were routed to it since it was told; fails if another
    /// process holds one of them now.
    pub(super) fn renew_leases(
        &self,
        held: Vec<(String, i64)>,
        lease: std::time::Duration,
    ) -> Result<Vec<(String, bool)>> {
        let args = Arc::new((self.lease_holder.clone(), held, lease_millis(lease)));
        self.in_transaction(args, |client, args| {
            Box::pin(async move {
                let (holder, held, lease) = &*args;
                let (hosts, times): (Vec<&str>, Vec<i64>) =
                    held.iter().map(|(h, t)| (h.as_str(), *t)).unzip();
                let tx = locked_transaction(client).await?;
                let rows = tx
                    .query_typed(
                        "UPDATE palimpsest_lease l SET \
                           expires = now() + $2 * interval '1 millisecond', \
                           next_allowed = GREATEST(l.next_allowed, t.not_before), \
                           routed = false \
                         FROM unnest($3, $4) AS t(host, not_before) \
                         WHERE l.host = t.host AND l.holder = $1 \
                         RETURNING l.host, (SELECT routed FROM palimpsest_lease o WHERE o.host = l.host)",
                        &[
                            (holder, Type::TEXT),
                            (lease, Type::FLOAT8),
                            (&hosts, Type::TEXT_ARRAY),
                            (&times, Type::INT8_ARRAY),
                        ],
                    )
                    .await
                    .map_err(backend)?;
                if rows.len() < hosts.len() {
                    // Left uncommitted: this process stops.
                    return Err(lost_lease(&hosts, &rows));
                }
                tx.commit().await.map_err(backend)?;
                Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
            })
        })
    }

    /// Gives up the lease of `host`, which has work due at `due` (µs) or
    /// none, and must not be sent a request before `not_before` (µs).
    pub(super) fn release_host(
        &self,
        host: &str,
        due: Option<i64>,
        not_before: i64,
        now: i64,
    ) -> Result<()> {
        let args = Arc::new((
            self.lease_holder.clone(),
            host.to_string(),
            due,
            not_before,
            now,
        ));
        self.in_transaction(args, |client, args| {
            Box::pin(async move {
                let (holder, host, due, not_before, now) = &*args;
                let tx = locked_transaction(client).await?;
                // Links routed since the holder last looked are work too.
                tx.execute_typed(
                    "UPDATE palimpsest_lease SET holder = NULL, expires = NULL, \
                       next_allowed = GREATEST(next_allowed, $4), \
                       due = CASE WHEN routed THEN LEAST($3, $5) ELSE $3 END \
                     WHERE host = $2 AND holder = $1",
                    &[
                        (holder, Type::TEXT),
                        (host, Type::TEXT),
                        (due, Type::INT8),
                        (not_before, Type::INT8),
                        (now, Type::INT8),
                    ],
                )
                .await
                .map_err(backend)?;
                tx.commit().await.map_err(backend)
            })
        })
    }

    /// At most `limit` links routed to `host`, in URL order.
    pub(super) fn routed_links(&self, host: &str, limit: usize) -> Result<Vec<Vec<u8>>> {
        let args = Arc::new((host.to_string(), limit as i64));
        self.run(|client| {
            let args = args.clone();
            async move {
                let (host, limit) = &*args;
                let rows = client
                    .query_typed(
                        "SELECT link FROM palimpsest_routed WHERE host = $1 ORDER BY url LIMIT $2",
                        &[(host, Type::TEXT), (limit, Type::INT8)],
                    )
                    .await
                    .map_err(backend)?;
                Ok(rows.iter().map(|r| r.get(0)).collect())
            }
        })
    }

    /// Whether this process does `duty`: it holds (or now takes) a session
    /// lock named for it, which the server frees when the process ends.
    pub(super) fn leads(&self, duty: &str) -> Result<bool> {
        let duty = Arc::new(format!("palimpsest {duty}"));
        self.run(|client| {
            let duty = duty.clone();
            async move {
                let row = client
                    .query_typed_one(
                        "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                        &[(&*duty, Type::TEXT)],
                    )
                    .await
                    .map_err(backend)?;
                Ok(row.get(0))
            }
        })
    }

    /// Reserves `urls` URL ids and `hosts` host ids for this process: the
    /// first of each, never below `from` (the ids the records count).
    pub(super) fn reserve_ids(
        &self,
        from: (i64, i64),
        urls: i64,
        hosts: i64,
    ) -> Result<(i64, i64)> {
        let args = Arc::new((from, urls, hosts));
        self.in_transaction(args, |client, args| {
            Box::pin(async move {
                let ((url, host), urls, hosts) = *args;
                let tx = locked_transaction(client).await?;
                let row = tx
                    .query_one(
                        "INSERT INTO palimpsest_ids (next_url, next_host) \
                           VALUES ($1::int8 + $3::int8, $2::int8 + $4::int8) \
                         ON CONFLICT (one) DO UPDATE SET \
                           next_url = GREATEST(palimpsest_ids.next_url, $1::int8) + $3::int8, \
                           next_host = GREATEST(palimpsest_ids.next_host, $2::int8) + $4::int8 \
                         RETURNING next_url - $3::int8, next_host - $4::int8",
                        &[&url, &host, &urls, &hosts],
                    )
                    .await
                    .map_err(backend)?;
                tx.commit().await.map_err(backend)?;
                Ok((row.get(0), row.get(1)))
            })
        })
    }

    /// Takes up to `want` of the `max` admissions of pass `pass`; how many.
    pub(super) fn take_admissions(&self, pass: i64, want: i64, max: i64) -> Result<i64> {
        self.in_transaction(Arc::new((pass, want, max)), |client, args| {
            Box::pin(async move {
                let (pass, want, max) = *args;
                let tx = locked_transaction(client).await?;
                let taken: i64 = tx
                    .query_opt(
                        "SELECT taken FROM palimpsest_admissions WHERE pass = $1",
                        &[&pass],
                    )
                    .await
                    .map_err(backend)?
                    .map_or(0, |r| r.get(0));
                let got = want.min(max - taken).max(0);
                tx.execute(
                    "INSERT INTO palimpsest_admissions (pass, taken) VALUES ($1, $2) \
                     ON CONFLICT (pass) DO UPDATE SET taken = EXCLUDED.taken",
                    &[&pass, &(taken + got)],
                )
                .await
                .map_err(backend)?;
                tx.commit().await.map_err(backend)?;
                Ok(got)
            })
        })
    }

    /// The next ids no process has reserved, if any process reserved ids.
    pub(super) fn reserved_ids(&self) -> Result<Option<(i64, i64)>> {
        self.run(|client| async move {
            let row = client
                .query_opt("SELECT next_url, next_host FROM palimpsest_ids", &[])
                .await
                .map_err(backend)?;
            Ok(row.map(|r| (r.get(0), r.get(1))))
        })
    }

    /// Whether no host has work waiting and no live lease is held: the
    /// shared crawl's pass is over.
    pub(super) fn crawl_is_idle(&self) -> Result<bool> {
        self.run(|client| async move {
            let row = client
                .query_one(
                    &format!(
                        "SELECT NOT EXISTS (SELECT 1 FROM palimpsest_lease l \
                           WHERE due IS NOT NULL \
                             OR (holder IS NOT NULL AND expires > now() AND {HOLDER_CONNECTED})) \
                         AND NOT EXISTS (SELECT 1 FROM palimpsest_routed)"
                    ),
                    &[],
                )
                .await
                .map_err(backend)?;
            Ok(row.get(0))
        })
    }

    /// Forgets the last pass's coordination: a new pass starts.
    pub(super) fn forget_crawl_state(&self) -> Result<()> {
        self.in_transaction(Arc::new(()), |client, _| {
            Box::pin(async move {
                let tx = locked_transaction(client).await?;
                tx.batch_execute(
                    "DELETE FROM palimpsest_routed; \
                     UPDATE palimpsest_lease SET due = NULL, routed = false, \
                       holder = NULL, expires = NULL",
                )
                .await
                .map_err(backend)?;
                tx.commit().await.map_err(backend)
            })
        })
    }

    /// Runs `f` holding the pass lock: crawling processes start or join a
    /// pass one at a time.
    pub(super) fn with_pass_lock<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let lock = |sql: &'static str| {
            self.run(move |client| async move {
                client.execute(sql, &[&PASS_LOCK]).await.map_err(backend)?;
                Ok(())
            })
        };
        lock("SELECT pg_advisory_lock($1)")?;
        let done = f();
        lock("SELECT pg_advisory_unlock($1)")?;
        done
    }
}

/// Whether the crawling process `c` (a `palimpsest_crawler` row) is still
/// connected: a process that died (`kill -9`, a crash) is disconnected by
/// the server at once, and its leases need not run out.
const CONNECTED: &str = "EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = c.backend)";

/// Whether the holder of the lease `l` is still connected.
const HOLDER_CONNECTED: &str = "EXISTS (SELECT 1 FROM palimpsest_crawler c \
     JOIN pg_stat_activity a ON a.pid = c.backend WHERE c.holder = l.holder)";

/// Records this crawling process, and the server session that says it is
/// alive.
async fn announce_crawler(client: &Client, holder: &str) -> Result<()> {
    client
        .execute(
            "INSERT INTO palimpsest_crawler (holder, seen, backend) \
             VALUES ($1, now(), pg_backend_pid()) \
             ON CONFLICT (holder) DO UPDATE SET seen = now(), backend = pg_backend_pid()",
            &[&holder],
        )
        .await
        .map_err(backend)?;
    Ok(())
}

/// One transaction's writes, as the statements take them.
struct Batch {
    keys: Vec<Vec<u8>>,
    values: Vec<Vec<u8>>,
    removed: Vec<Vec<u8>>,
    new_keys: Vec<Vec<u8>>,
    new_values: Vec<Vec<u8>>,
    logged: Vec<Vec<u8>>,
    shared: SharedWrites,
    lease_holder: String,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.keys.is_empty()
            && self.removed.is_empty()
            && self.new_keys.is_empty()
            && self.logged.is_empty()
            && self.shared.routed.is_empty()
            && self.shared.taken.is_empty()
            && self.shared.held.is_none()
    }
}

/// Starts a transaction that holds the commit lock: transactions of every
/// process sharing the archive run one at a time.
async fn locked_transaction(client: &mut Client) -> Result<tokio_postgres::Transaction<'_>> {
    let tx = client.transaction().await.map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&COMMIT_LOCK])
        .await
        .map_err(backend)?;
    Ok(tx)
}

/// Applies `batch`; the number of the last change it logged, if any.
async fn apply_batch(client: &mut Client, batch: Arc<Batch>) -> Result<Option<u64>> {
    let tx = client.transaction().await.map_err(backend)?;
    // The statements are sent together (tokio-postgres pipelines futures
    // polled at once) and run in the order sent: the lock first.
    let lock = async {
        tx.execute_typed(
            "SELECT pg_advisory_xact_lock($1)",
            &[(&COMMIT_LOCK, Type::INT8)],
        )
        .await
        .map_err(backend)
    };
    let extend = async {
        match &batch.shared.held {
            Some((hosts, lease)) => extend_leases(&tx, &batch.lease_holder, hosts, *lease).await,
            None => Ok(()),
        }
    };
    let log = append_to_log(&tx, &batch.logged);
    let upsert = async {
        if batch.keys.is_empty() && batch.removed.is_empty() {
            return Ok(0);
        }
        tx.execute_typed(
            "WITH gone AS (DELETE FROM palimpsest_kv WHERE k = ANY($3)) \
             INSERT INTO palimpsest_kv (k, v) SELECT * FROM unnest($1, $2) \
             ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
            &[
                (&batch.keys, Type::BYTEA_ARRAY),
                (&batch.values, Type::BYTEA_ARRAY),
                (&batch.removed, Type::BYTEA_ARRAY),
            ],
        )
        .await
        .map_err(backend)
    };
    let new_only = async {
        if batch.new_keys.is_empty() {
            return Ok(0);
        }
        tx.execute_typed(
            "INSERT INTO palimpsest_kv (k, v) SELECT * FROM unnest($1, $2) \
             ON CONFLICT (k) DO NOTHING",
            &[
                (&batch.new_keys, Type::BYTEA_ARRAY),
                (&batch.new_values, Type::BYTEA_ARRAY),
            ],
        )
        .await
        .map_err(backend)
    };
    let routed = route(&tx, &batch.shared);
    let (_, _, last, _, _, _) =
        futures_util::try_join!(lock, extend, log, upsert, new_only, routed)?;
    tx.commit().await.map_err(backend)?;
    Ok(last)
}

/// Appends `values` to the change log, numbered after its last entry;
/// the number of the last one appended.
async fn append_to_log(
    tx: &tokio_postgres::Transaction<'_>,
    values: &[Vec<u8>],
) -> Result<Option<u64>> {
    if values.is_empty() {
        return Ok(None);
    }
    let prefix = vec![keys::CHANGE_LOG];
    let rows = tx
        .query_typed(
            "INSERT INTO palimpsest_kv (k, v) \
             SELECT $2::bytea || int8send(last.seq + t.n), t.v \
             FROM unnest($1::bytea[]) WITH ORDINALITY AS t(v, n), \
               (SELECT coalesce((SELECT ('x' || encode(substr(k, 2, 8), 'hex'))::bit(64)::int8 \
                  FROM palimpsest_kv WHERE k >= $3 AND k <= $4 ORDER BY k DESC LIMIT 1), 0) AS seq) last \
             RETURNING k",
            &[
                (&values, Type::BYTEA_ARRAY),
                (&prefix, Type::BYTEA),
                (&keys::change_log(0), Type::BYTEA),
                (&keys::change_log(u64::MAX), Type::BYTEA),
            ],
        )
        .await
        .map_err(backend)?;
    Ok(rows
        .iter()
        .filter_map(|r| keys::decode_change_log(r.get::<_, &[u8]>(0)))
        .max())
}

/// Extends the leases of `hosts`, failing if another process holds one.
async fn extend_leases(
    tx: &tokio_postgres::Transaction<'_>,
    holder: &str,
    hosts: &[String],
    lease: std::time::Duration,
) -> Result<()> {
    let hosts = hosts.to_vec();
    let rows = tx
        .query_typed(
            "UPDATE palimpsest_lease SET expires = now() + $2 * interval '1 millisecond' \
             WHERE holder = $1 AND host = ANY($3) RETURNING host",
            &[
                (&holder, Type::TEXT),
                (&lease_millis(lease), Type::FLOAT8),
                (&hosts, Type::TEXT_ARRAY),
            ],
        )
        .await
        .map_err(backend)?;
    if rows.len() < hosts.len() {
        return Err(lost_lease(&hosts, &rows));
    }
    Ok(())
}

/// The error for leases of `asked` hosts of which only those in `kept`
/// (rows whose first column is the host) are still held.
fn lost_lease(asked: &[impl AsRef<str>], kept: &[tokio_postgres::Row]) -> ArchiveError {
    let kept: std::collections::HashSet<&str> = kept.iter().map(|r| r.get(0)).collect();
    let lost = asked.iter().map(AsRef::as_ref).find(|h| !kept.contains(h));
    ArchiveError::LeaseLost {
        host: lost.unwrap_or_default().to_string(),
    }
}

/// Records routed links (and tells their hosts' holders), and removes
/// the routed links admitted.
async fn route(tx: &tokio_postgres::Transaction<'_>, shared: &SharedWrites) -> Result<()> {
    let mut hosts: Vec<&str> = Vec::new();
    let (mut urls, mut links) = (Vec::new(), Vec::new());
    for (host, url, link) in &shared.routed {
        hosts.push(host);
        urls.push(url.as_str());
        links.push(link.as_slice());
    }
    let mut told = hosts.clone();
    told.sort_unstable();
    told.dedup();
    let (taken_hosts, taken_urls): (Vec<&str>, Vec<&str>) = (shared.taken.iter())
        .map(|(h, u)| (h.as_str(), u.as_str()))
        .unzip();
    let record = async {
        if hosts.is_empty() {
            return Ok(0);
        }
        tx.execute_typed(
            "INSERT INTO palimpsest_routed (host, url, link) SELECT * FROM unnest($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            &[
                (&hosts, Type::TEXT_ARRAY),
                (&urls, Type::TEXT_ARRAY),
                (&links, Type::BYTEA_ARRAY),
            ],
        )
        .await
        .map_err(backend)
    };
    let tell = async {
        if told.is_empty() {
            return Ok(0);
        }
        tx.execute_typed(
            "INSERT INTO palimpsest_lease (host, due, routed) SELECT h, $2, true FROM unnest($1) h \
             ON CONFLICT (host) DO UPDATE SET routed = true, \
               due = LEAST(palimpsest_lease.due, EXCLUDED.due)",
            &[(&told, Type::TEXT_ARRAY), (&shared.due, Type::INT8)],
        )
        .await
        .map_err(backend)
    };
    let take = async {
        if taken_hosts.is_empty() {
            return Ok(0);
        }
        tx.execute_typed(
            "DELETE FROM palimpsest_routed r USING unnest($1, $2) AS t(host, url) \
             WHERE r.host = t.host AND r.url = t.url",
            &[
                (&taken_hosts, Type::TEXT_ARRAY),
                (&taken_urls, Type::TEXT_ARRAY),
            ],
        )
        .await
        .map_err(backend)
    };
    futures_util::try_join!(record, tell, take)?;
    Ok(())
}

fn lease_millis(lease: std::time::Duration) -> f64 {
    lease.as_secs_f64() * 1000.0
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

async fn has_tables(client: &impl tokio_postgres::GenericClient) -> Result<bool> {
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
    // Asked first, not `IF NOT EXISTS`: the server would tell every
    // process after the first that it skipped (a notice on its stderr).
    if !has_tables(&tx).await? {
        tx.batch_execute("CREATE TABLE palimpsest_schema (version integer NOT NULL)")
            .await
            .map_err(backend)?;
    }
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

/// Takes the writer lock for this session (shared among crawling
/// processes), or says who holds it.
async fn take_writer_lock(client: &Client, holder: &str, access: Access) -> Result<Option<String>> {
    let take = match access {
        Access::Crawl => "SELECT pg_try_advisory_lock_shared($1)",
        Access::Write | Access::Read => "SELECT pg_try_advisory_lock($1)",
    };
    let row = client
        .query_one(take, &[&WRITER_LOCK])
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
