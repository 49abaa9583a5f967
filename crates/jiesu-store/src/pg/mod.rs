//! The PostgreSQL backend: the same traits, the same tables (`schema.sql` here, in step with the
//! SQLite one), the same rows (built by `sqlite::encode`), the same promise — a write is answered
//! only after its transaction is committed (and, with `synchronous_standby_names` set on the
//! server, after the standby has it: PostgreSQL waits before it acknowledges the commit).
//!
//! Like the SQLite backend it has one writer thread with group commit (every job in its own
//! savepoint inside one transaction, one commit for the group): ticket numbers and log positions
//! are given in order without table locks, and 64 clients share commits. Reads use a small pool
//! of connections. Every call to the synchronous `postgres` client leaves the async runtime first
//! (`block_in_place`), so the store can be called from anywhere.
//!
//! Selected by the database argument: `--db postgres://user@host:port/name` (several hosts
//! `host=a,b` with `target_session_attrs=read-write` for a primary and its standby: a lost
//! connection is opened again on the next call, on whichever host is the primary then).
//!
//! Files derived from the database (the key file, classifier models, attachments, the facts
//! cache) live in a local data directory: `JIESU_DATA_DIR`, else the current directory, under
//! the database's name ([`ReferenceStore::path`]).

mod agent_sessions;
mod alerts;
mod analytics;
pub mod backup;
pub mod bench;
mod catalogue;
pub(crate) mod conn;
mod dept;
mod facts;
mod gov_policies;
mod imports;
mod kb;
mod labels;
mod ledger;
pub mod migrate;
mod ops;
mod outbox;
mod partners;
mod personal;
mod ratings;
mod recheck;
mod reference;
mod report_reads;
mod report_subs;
mod reports;
mod reviews;
mod stats;
mod street_work;
mod tickets;
mod topics;
mod users;

use crate::chain;
use crate::crypt::{Keyring, Keys};
use crate::sqlite::encode::{self, EncodedTicket};
use crate::sqlite::{event_from_row, hex_of, RawEvent};
use crate::time::fmt;
use crate::*;
use conn::{Conn, Pv, RowExt};
use jiesu_domain::{CityZone, Event, EventKind, TicketId, TicketState};
use rusqlite::types::Value;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

const SCHEMA: &str = include_str!("schema.sql");
/// The indexes of `../indexes.sql`, as PostgreSQL takes them: a unique index of the partitioned
/// log includes its partition column (`pos` stays unique: one writer gives it).
pub(crate) static INDEXES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    include_str!("../indexes.sql").replace(
        "CREATE UNIQUE INDEX IF NOT EXISTS events_pos ON events (pos);",
        "CREATE UNIQUE INDEX IF NOT EXISTS events_pos ON events (pos, at);",
    )
});

/// Migration 4: the 每月一题 topics table (also at the end of `schema.sql`).
const MONTHLY_TOPICS: &str = "CREATE TABLE IF NOT EXISTS monthly_topics (
  topic_id BIGINT NOT NULL, version BIGINT NOT NULL, month TEXT NOT NULL, theme TEXT NOT NULL,
  lead_unit TEXT NOT NULL, body TEXT NOT NULL, actor TEXT NOT NULL, note TEXT NOT NULL,
  created_at TEXT NOT NULL, PRIMARY KEY (topic_id, version))";

/// Migration 12: the report inbox's read state (also at the end of `schema.sql`).
const REPORT_READS: &str = "CREATE TABLE IF NOT EXISTS report_reads (
  user_name TEXT NOT NULL, report_id BIGINT NOT NULL, read_at TEXT NOT NULL,
  PRIMARY KEY (user_name, report_id))";

/// Versioned migrations, applied in order at start under an advisory lock (so two servers
/// starting together apply each once). Never edit a shipped one: add the next.
fn migrations() -> [(i64, &'static str, &'static str); 11] {
    [
        (1, "the schema of version 1", SCHEMA),
        (2, "the indexes of version 1", INDEXES.as_str()),
        (
            3,
            "the unit inbox reads events by unit and kind",
            "CREATE INDEX IF NOT EXISTS events_unit_kind ON events (unit_code, kind, pos)",
        ),
        (
            5,
            "治理类街乡镇: interviews, problem and project lists, their changes",
            // the tables at the end of schema.sql, from their marker on (a new database has
            // them from version 1 already; IF NOT EXISTS makes this a no-op there)
            SCHEMA.find("-- migration 5:").map_or("", |i| &SCHEMA[i..]),
        ),
        (
            4,
            "每月一题: adopted topics and their versions",
            MONTHLY_TOPICS,
        ),
        (
            6,
            "signed partner requests: the signing salts and the nonces seen",
            "CREATE TABLE IF NOT EXISTS partner_signing (
  partner_id BIGINT PRIMARY KEY, salt TEXT NOT NULL, serves TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS partner_nonces (
  partner_id BIGINT NOT NULL, nonce TEXT NOT NULL, at TEXT NOT NULL,
  PRIMARY KEY (partner_id, nonce));
CREATE INDEX IF NOT EXISTS partner_nonces_at ON partner_nonces (at)",
        ),
        (
            7,
            "department keys, webhooks, saved exports and their files",
            include_str!("migration7.sql"),
        ),
        (
            8,
            "report subscriptions: kinds, webhooks and delivery cursors per user",
            "CREATE TABLE IF NOT EXISTS report_subscriptions (
  user_name TEXT NOT NULL, kind TEXT NOT NULL, webhook_url TEXT, cursor BIGINT NOT NULL,
  since TEXT NOT NULL, PRIMARY KEY (user_name, kind))",
        ),
        (
            9,
            "partner secret rotation: the replaced signing salt and its grace period",
            "CREATE TABLE IF NOT EXISTS partner_signing_previous (
  partner_id BIGINT PRIMARY KEY, salt TEXT NOT NULL, until TEXT NOT NULL)",
        ),
        (
            10,
            "governance policies (street classification, reply audit) and the audit's findings",
            // the tables at the end of schema.sql, from their marker on (as migration 5)
            SCHEMA.find("-- migration 10:").map_or("", |i| &SCHEMA[i..]),
        ),
        (
            12,
            "the report inbox: which reports each user has read",
            REPORT_READS,
        ),
    ]
}

/// Whether `db` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// A job of the writer: runs on its connection inside the group's transaction, gives back the
/// function that delivers its result once the commit outcome is known.
type Job = Box<dyn FnOnce(&mut Conn) -> Completion + Send>;
type Completion = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;

/// Jobs per group: each job is a subtransaction, and PostgreSQL keeps up to 64 of them per
/// transaction in its snapshot cache (more make every reader's snapshot slower).
const MAX_GROUP: usize = 60;

/// The PostgreSQL backend; implements every storage trait (see the crate docs).
pub struct PgStore {
    config: postgres::Config,
    url_shown: String,
    path: PathBuf,
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Mutex<Vec<Conn>>,
    pub(crate) keys: Arc<Keys>,
    /// The writer's queue depth and commit latencies (`/metrics`).
    pub(crate) stats: Arc<crate::sqlite::writer::WriterStats>,
}

/// Runs `f` outside the async runtime's worker context (the synchronous client blocks on its own
/// runtime, which a worker thread may not do).
fn off_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

fn connect(config: &postgres::Config) -> Result<Conn> {
    let mut client = config
        .connect(postgres::NoTls)
        .map_err(|e| StoreError::Db(format!("cannot connect to PostgreSQL: {e}")))?;
    // "already exists, skipping" notices of the idempotent migrations are not news
    client.batch_execute("SET client_min_messages = warning")?;
    Ok(Conn::new(client))
}

/// The URL without its password, for messages.
fn shown(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &cred[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn migrate(c: &mut Conn) -> Result<()> {
    c.batch("BEGIN")?;
    let r = (|| -> Result<()> {
        c.batch("SELECT pg_advisory_xact_lock(7355608)")?;
        c.batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, note TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )?;
        let done: Vec<i64> = c
            .query("SELECT version FROM schema_migrations", &[])?
            .iter()
            .map(|r| r.get_i64(0))
            .collect::<Result<_>>()?;
        for (v, note, sql) in migrations() {
            if done.contains(&v) {
                continue;
            }
            c.batch(sql)?;
            c.exec(
                "INSERT INTO schema_migrations (version, note, applied_at) VALUES (?1, ?2, ?3)",
                &crate::pv![v, note, fmt(chrono::Utc::now())],
            )?;
            tracing::info!(version = v, note, "applied a PostgreSQL migration");
        }
        if let Some(newest) = done.iter().max() {
            let known = migrations().iter().map(|m| m.0).max().unwrap_or(0);
            if *newest > known {
                return Err(StoreError::Db(format!(
                    "the database has schema migration {newest}, newer than this jiesu knows ({known}): upgrade jiesu"
                )));
            }
        }
        c.exec(
            "INSERT INTO meta (key, value) VALUES ('schema_version', '1') ON CONFLICT (key) DO NOTHING",
            &[],
        )?;
        Ok(())
    })();
    match r {
        Ok(()) => c.batch("COMMIT"),
        Err(e) => {
            let _ = c.batch("ROLLBACK");
            Err(e)
        }
    }
}

fn resolve_keys(c: &mut Conn, path: &Path, source: &KeySource) -> Result<Arc<Keys>> {
    if let KeySource::Ring(r) = source {
        return Ok(Arc::new(Keys::fixed((**r).clone())));
    }
    let Some(file) = source.path_for(path) else {
        let text = std::env::var("JIESU_KEYS").unwrap_or_default();
        return Ok(Arc::new(Keys::fixed(Keyring::parse(&text)?)));
    };
    if file.exists() {
        return Ok(Arc::new(Keys::from_file(&file, Keyring::load(&file)?)));
    }
    let sealed = c
        .query_one(
            "SELECT (SELECT COUNT(*) FROM personal_keys) + (SELECT COUNT(*) FROM partner_signing)",
            &[],
        )?
        .get_i64(0)?;
    if sealed > 0 {
        return Err(StoreError::Invalid {
            field: "key file".into(),
            message: format!(
                "the PostgreSQL database holds personal data sealed with a key file, but there is no key file at {}: set JIESU_KEY_FILE to its path (or JIESU_DATA_DIR to the directory it is in)",
                file.display()
            ),
            message_zh: format!(
                "PostgreSQL 数据库中的个人信息已加密，但 {} 处没有密钥文件：请用环境变量 JIESU_KEY_FILE 指定密钥文件（或用 JIESU_DATA_DIR 指定其所在目录）",
                file.display()
            ),
        });
    }
    if let Some(dir) = file.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Db(format!("cannot create {}: {e}", dir.display())))?;
        }
    }
    let ring = Keyring::generate();
    ring.save(&file)?;
    tracing::info!(path = %file.display(), "created a new personal-data key file");
    Ok(Arc::new(Keys::from_file(&file, ring)))
}

impl PgStore {
    /// Connects to the database at `url`, applies the migrations it lacks.
    pub fn open(url: &str) -> Result<PgStore> {
        Self::open_with(url, StoreOptions::default())
    }

    pub fn open_with(url: &str, opts: StoreOptions) -> Result<PgStore> {
        off_runtime(|| Self::open_inner(url, opts))
    }

    fn open_inner(url: &str, opts: StoreOptions) -> Result<PgStore> {
        let config: postgres::Config = url.parse().map_err(|e| StoreError::Invalid {
            field: "--db".into(),
            message: format!("{} is not a PostgreSQL URL: {e}", shown(url)),
            message_zh: format!("{} 不是有效的 PostgreSQL 地址：{e}", shown(url)),
        })?;
        let path = local_path(&config);
        let mut c = connect(&config)?;
        migrate(&mut c)?;
        let keys = resolve_keys(&mut c, &path, &opts.keys)?;
        if !opts.durable {
            // bulk generation of demo data: commits do not wait for the disk
            c.batch("SET synchronous_commit = off")?;
        }
        let (tx, rx) = mpsc::channel::<Job>();
        let wconfig = config.clone();
        let stats = Arc::new(crate::sqlite::writer::WriterStats::default());
        let wstats = stats.clone();
        let handle = std::thread::Builder::new()
            .name("jiesu-pg-writer".into())
            .spawn(move || run_writer(c, wconfig, rx, &wstats))
            .map_err(|e| StoreError::Db(format!("cannot start the writer thread: {e}")))?;
        Ok(PgStore {
            config,
            url_shown: shown(url),
            path,
            writer: Mutex::new(Some(tx)),
            writer_thread: Mutex::new(Some(handle)),
            readers: Mutex::new(Vec::new()),
            keys,
            stats,
        })
    }

    /// A read-only store on a hot standby of a city (`jiesu serve --replica`): no migrations, no
    /// writer (a write is refused as on a closed store), the same local path and key file as the
    /// primary's store when the URL names the same database. Refused when the standby's schema is
    /// not this version's (it replays the primary's migrations; start it after they ran).
    pub fn open_replica(url: &str, opts: StoreOptions) -> Result<PgStore> {
        off_runtime(|| {
            let config: postgres::Config = url.parse().map_err(|e| StoreError::Invalid {
                field: "--replica".into(),
                message: format!("{} is not a PostgreSQL URL: {e}", shown(url)),
                message_zh: format!("{} 不是有效的 PostgreSQL 地址：{e}", shown(url)),
            })?;
            let path = local_path(&config);
            let mut c = connect(&config)?;
            let newest = migrations().iter().map(|m| m.0).max().unwrap_or(0);
            let have = c
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                    &[],
                )
                .and_then(|r| r.get_i64(0))
                .unwrap_or(0);
            if have != newest {
                return Err(StoreError::Invalid {
                    field: "--replica".into(),
                    message: format!(
                        "{} has schema version {have}, this version needs {newest}: is it a standby of the --db city, caught up?",
                        shown(url)
                    ),
                    message_zh: format!(
                        "{} 的数据库结构版本为 {have}，本版本需要 {newest}：它是 --db 城市的备库并已追上吗？",
                        shown(url)
                    ),
                });
            }
            let keys = resolve_keys(&mut c, &path, &opts.keys)?;
            Ok(PgStore {
                config,
                url_shown: shown(url),
                path,
                writer: Mutex::new(None),
                writer_thread: Mutex::new(None),
                readers: Mutex::new(vec![c]),
                keys,
                stats: Arc::new(crate::sqlite::writer::WriterStats::default()),
            })
        })
    }

    /// The database's URL without its password.
    pub fn url(&self) -> &str {
        &self.url_shown
    }

    /// Runs `f` on the writer inside the group transaction (in its own savepoint) and waits until
    /// the group is committed.
    pub(crate) fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = mpsc::sync_channel::<Result<T>>(1);
        self.submit(f, move |out| {
            let _ = tx.send(out);
        });
        off_runtime(|| {
            rx.recv()
                .map_err(|_| StoreError::Db("the write was not completed".into()))?
        })
    }

    /// Like [`write`](Self::write) without blocking the caller: `done` receives the result
    /// after the group commit.
    pub(crate) fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T> + Send + 'static,
        done: impl FnOnce(Result<T>) + Send + 'static,
    ) {
        let job: Job = Box::new(move |conn: &mut Conn| -> Completion {
            let r = in_savepoint(conn, f);
            Box::new(move |commit: std::result::Result<(), String>| {
                let out = match (r, commit) {
                    (Ok(v), Ok(())) => Ok(v),
                    (Err(e), _) => Err(e),
                    (Ok(_), Err(m)) => Err(StoreError::Db(m)),
                };
                done(out);
            })
        });
        let sender = self.writer.lock().ok().and_then(|w| w.clone());
        match sender {
            Some(s) => {
                self.stats
                    .queued
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if let Err(mpsc::SendError(job)) = s.send(job) {
                    self.stats
                        .queued
                        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                    fail_job(job, "the writer has stopped");
                }
            }
            None => fail_job(job, "the store is closed"),
        }
    }

    /// Runs a read on a pooled connection (a connection that was lost is opened again).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        off_runtime(|| {
            let pooled = self
                .readers
                .lock()
                .map_err(|_| StoreError::Db("reader pool poisoned".into()))?
                .pop();
            let mut conn = match pooled {
                Some(c) if !c.client.is_closed() => c,
                _ => connect(&self.config)?,
            };
            let r = f(&mut conn);
            if !conn.client.is_closed() {
                if let Ok(mut pool) = self.readers.lock() {
                    if pool.len() < 16 {
                        pool.push(conn);
                    }
                }
            }
            r
        })
    }

    /// Stops the writer after the jobs already queued (graceful shutdown); later writes fail.
    pub fn close(&self) {
        if let Ok(mut w) = self.writer.lock() {
            w.take();
        }
        if let Some(h) = self.writer_thread.lock().ok().and_then(|mut h| h.take()) {
            let _ = off_runtime(|| h.join());
        }
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.close();
        // A `postgres::Client` closes itself by running its own small runtime, which panics inside
        // the server's (the store is often dropped last, inside `block_on`): the pooled readers
        // are closed on a thread of their own.
        let readers = match self.readers.get_mut() {
            Ok(r) => std::mem::take(r),
            Err(p) => std::mem::take(p.into_inner()),
        };
        if !readers.is_empty() {
            let _ = std::thread::spawn(move || drop(readers)).join();
        }
    }
}

/// Delivers a failure to a job that never ran (its completion runs with an error).
fn fail_job(job: Job, why: &str) {
    // the job cannot run without the writer's connection: dropping it drops its caller's
    // channel, and the caller sees "the write was not completed"
    tracing::error!("{why}: a write was dropped");
    drop(job);
}

fn in_savepoint<T>(conn: &mut Conn, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
    if conn.savepoint_open {
        conn.batch("RELEASE SAVEPOINT job; SAVEPOINT job")?;
    } else {
        conn.batch("SAVEPOINT job")?;
    }
    conn.savepoint_open = true;
    match f(conn) {
        Ok(v) => Ok(v),
        Err(e) => {
            conn.savepoint_open = false;
            conn.next_id = None;
            conn.next_pos = None;
            conn.partitions.clear();
            conn.batch("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job")?;
            Err(e)
        }
    }
}

fn run_writer(
    mut conn: Conn,
    config: postgres::Config,
    rx: mpsc::Receiver<Job>,
    stats: &crate::sqlite::writer::WriterStats,
) {
    use std::sync::atomic::Ordering;
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        stats
            .queued
            .fetch_sub(group.len() as u64, Ordering::Relaxed);
        if conn.client.is_closed() {
            // the primary went away: connect again (to whichever host is the primary now)
            match connect(&config) {
                Ok(c) => conn = c,
                Err(e) => {
                    tracing::error!("the writer cannot reconnect: {e}");
                }
            }
        }
        conn.next_id = None;
        conn.next_pos = None;
        conn.zone = None;
        conn.savepoint_open = false;
        if let Err(e) = conn.batch("BEGIN") {
            tracing::error!("cannot begin a write transaction: {e}");
            if let Ok(c) = connect(&config) {
                conn = c;
            }
            drop(group);
            continue;
        }
        let mut completions = Vec::with_capacity(group.len());
        for job in group {
            completions.push(job(&mut conn));
        }
        let t0 = std::time::Instant::now();
        let outcome = conn
            .batch("COMMIT")
            .map_err(|e| format!("commit failed: {e}"));
        stats.commit_took(t0.elapsed().as_secs_f64(), outcome.is_ok());
        if outcome.is_err() {
            let _ = conn.batch("ROLLBACK");
            conn.partitions.clear();
        }
        for c in completions {
            c(outcome.clone());
        }
    }
}

// ---- what the trait modules share: events, chains, projections -------------------------------

/// A ticket's data key, unwrapped; `None` once its personal data was erased.
pub(crate) fn data_key_in(
    c: &mut Conn,
    keys: &Keys,
    id: TicketId,
) -> Result<Option<crate::crypt::DataKey>> {
    let row = c.query_opt(
        "SELECT key_id, wrapped FROM personal_keys WHERE ticket_id=?1",
        &crate::pv![id],
    )?;
    row.map(|r| keys.unwrap(id, &r.get_str(0)?, &r.get_blob(1)?))
        .transpose()
}

pub(crate) fn insert_data_key(c: &mut Conn, row: &[Value; 3]) -> Result<()> {
    c.exec(
        "INSERT INTO personal_keys (ticket_id, key_id, wrapped) VALUES (?1,?2,?3)",
        &pvs(row),
    )?;
    Ok(())
}

pub(crate) fn pvs(row: &[Value]) -> Vec<Pv> {
    row.iter().cloned().map(Pv).collect()
}

/// Creates the monthly partitions of the event log that the instants `ats` (RFC 3339 UTC text)
/// fall in, if they do not exist yet (once per month and connection; forgotten when a job or a
/// group is rolled back, since its DDL is rolled back with it).
pub(crate) fn ensure_partitions<'a>(
    c: &mut Conn,
    ats: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let mut months: Vec<&str> = ats.into_iter().filter_map(|a| a.get(..7)).collect();
    months.sort_unstable();
    months.dedup();
    for m in months {
        if c.partitions.contains(m) {
            continue;
        }
        let (y, mo) = (
            m[..4]
                .parse::<i32>()
                .map_err(|_| StoreError::Db(format!("bad month {m}")))?,
            m[5..7]
                .parse::<u32>()
                .map_err(|_| StoreError::Db(format!("bad month {m}")))?,
        );
        let next = if mo == 12 {
            format!("{:04}-01", y + 1)
        } else {
            format!("{y:04}-{:02}", mo + 1)
        };
        c.batch(&format!(
            "CREATE TABLE IF NOT EXISTS events_{y:04}_{mo:02} PARTITION OF events FOR VALUES FROM ('{m}') TO ('{next}')"
        ))?;
        c.partitions.insert(m.to_string());
    }
    Ok(())
}

fn at_of(row: &[Value]) -> &str {
    match &row[2] {
        Value::Text(s) => s.as_str(),
        _ => "",
    }
}

/// Writes event rows at the next positions of the log.
pub(crate) fn insert_event_rows<'a>(
    c: &mut Conn,
    rows: impl IntoIterator<Item = &'a [Value; 10]>,
) -> Result<()> {
    for p in event_params(c, rows)? {
        c.exec(encode::INSERT_EVENT, &p)?;
    }
    Ok(())
}

/// The parameters of `encode::INSERT_EVENT` for each row, with its log position; creates the
/// months' partitions first and moves the connection's next position past them (the caller
/// inserts them in the same job).
pub(crate) fn event_params<'a>(
    c: &mut Conn,
    rows: impl IntoIterator<Item = &'a [Value; 10]>,
) -> Result<Vec<Vec<Pv>>> {
    let first = match c.next_pos {
        Some(p) => p,
        None => c
            .query_one("SELECT COALESCE(MAX(pos) + 1, 0) FROM events", &[])?
            .get_i64(0)?,
    };
    let rows: Vec<&[Value; 10]> = rows.into_iter().collect();
    ensure_partitions(c, rows.iter().map(|r| at_of(&r[..])))?;
    let mut next = first;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut p = pvs(r);
        p.push(Pv(Value::Integer(next)));
        out.push(p);
        next += 1;
    }
    c.next_pos = Some(next);
    Ok(out)
}

/// Writes a ticket's projection rows (replacing its assignments).
pub(crate) fn write_projection_rows(
    c: &mut Conn,
    id: TicketId,
    ticket: &[Value],
    assignments: &[[Value; 20]],
) -> Result<()> {
    c.exec(encode::UPSERT_TICKET, &pvs(ticket))?;
    c.exec(
        "DELETE FROM assignments WHERE ticket_id=?1",
        &crate::pv![id],
    )?;
    for a in assignments {
        c.exec(encode::INSERT_ASSIGNMENT, &pvs(a))?;
    }
    Ok(())
}

/// An event with its ticket's id and number, from the columns `ticket_id, number, seq, at,
/// actor, role, unit_code, payload, sealed` starting at column `k`.
pub(crate) fn numbered_event(
    c: &mut Conn,
    keys: &Keys,
    r: &postgres::Row,
    k: usize,
) -> Result<(TicketId, String, Event)> {
    let id = r.get_i64(k)?;
    let sealed = r.get_opt_blob(k + 8)?;
    let dek = match sealed {
        Some(_) => data_key_in(c, keys, id)?,
        None => None,
    };
    let e = event_from_row(
        r.get_u32(k + 2)?,
        &r.get_str(k + 3)?,
        r.get_str(k + 4)?,
        &r.get_str(k + 5)?,
        r.get_opt_str(k + 6)?,
        encode::decode_kind(id, &r.get_str(k + 7)?, sealed.as_deref(), dek.as_ref())?,
    )?;
    Ok((id, r.get_str(k + 1)?, e))
}

/// Loads a ticket's events, checks its hash chain, opens its personal data and folds it; also
/// gives the chain's last hash.
pub(crate) fn load_chained(
    c: &mut Conn,
    keys: &Keys,
    id: TicketId,
) -> Result<Option<(TicketState, Vec<Event>, chain::Hash)>> {
    let rows = c.query(
        "SELECT seq, at, kind, actor, role, unit_code, payload, sealed, hash FROM events WHERE ticket_id=?1 ORDER BY seq",
        &crate::pv![id],
    )?;
    if rows.is_empty() {
        return Ok(None);
    }
    let raw = rows
        .iter()
        .map(|r| {
            Ok(RawEvent {
                seq: r.get_u32(0)?,
                at: r.get_str(1)?,
                kind: r.get_str(2)?,
                actor: r.get_str(3)?,
                role: r.get_str(4)?,
                unit: r.get_opt_str(5)?,
                payload: r.get_str(6)?,
                sealed: r.get_opt_blob(7)?,
                hash: r.get_opt_blob(8)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let last = chain::check_ticket(id, raw.iter().map(|e| (e.stored(id), e.hash.as_deref())))
        .map_err(StoreError::Tampered)?;
    let dek = if raw.iter().any(|e| e.sealed.is_some()) {
        data_key_in(c, keys, id)?
    } else {
        None
    };
    let mut events = Vec::with_capacity(raw.len());
    for e in raw {
        let kind = encode::decode_kind(id, &e.payload, e.sealed.as_deref(), dek.as_ref())?;
        events.push(event_from_row(
            e.seq, &e.at, e.actor, &e.role, e.unit, kind,
        )?);
    }
    let st = TicketState::fold(id, &events)?;
    Ok(Some((st, events, last)))
}

pub(crate) fn load_in(
    c: &mut Conn,
    keys: &Keys,
    id: TicketId,
) -> Result<Option<(TicketState, Vec<Event>)>> {
    Ok(load_chained(c, keys, id)?.map(|(st, ev, _)| (st, ev)))
}

/// Appends events to a ticket's chain after `prev`, sealing personal data.
pub(crate) fn insert_events(
    c: &mut Conn,
    keys: &Keys,
    id: TicketId,
    events: &[Event],
    prev: chain::Hash,
) -> Result<()> {
    let dek = if events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Created { .. }))
    {
        match data_key_in(c, keys, id)? {
            Some(k) => Some(k),
            None => {
                let (k, row) = encode::new_data_key(keys, id);
                insert_data_key(c, &row)?;
                Some(k)
            }
        }
    } else {
        None
    };
    let rows = encode::event_rows(id, events, prev, dek.as_ref())?;
    insert_event_rows(c, &rows)?;
    if events
        .iter()
        .any(|e| matches!(e.kind, EventKind::PersonalDataErased { .. }))
    {
        c.exec(
            "DELETE FROM personal_keys WHERE ticket_id=?1",
            &crate::pv![id],
        )?;
    }
    Ok(())
}

pub(crate) fn write_projection(c: &mut Conn, keys: &Keys, st: &TicketState) -> Result<()> {
    write_projection_rows(
        c,
        st.id,
        &encode::ticket_row(st, keys),
        &encode::assignment_rows(st)?,
    )
}

pub(crate) fn zone_in(c: &mut Conn) -> Result<CityZone> {
    if let Some(z) = c.zone {
        return Ok(z);
    }
    let z = read_zone(c)?;
    c.zone = Some(z);
    Ok(z)
}

fn read_zone(c: &mut Conn) -> Result<CityZone> {
    let name = c
        .query_opt(
            "SELECT value FROM meta WHERE key=?1",
            &crate::pv![CityZone::SETTING_KEY],
        )?
        .map(|r| r.get_str(0))
        .transpose()?;
    name.map_or(Ok(CityZone::default()), |n| {
        CityZone::parse(&n).map_err(|e| StoreError::Db(e.to_string()))
    })
}

pub(crate) fn apply_change(
    c: &mut Conn,
    keys: &Keys,
    id: TicketId,
    change: Change,
) -> Result<(TicketState, Vec<Event>)> {
    let (mut st, _, last) = load_chained(c, keys, id)?.ok_or(StoreError::NotFound)?;
    let before = st.version;
    let events = change(&mut st)?;
    if let Some(first) = events.first() {
        if first.seq != before + 1 {
            return Err(StoreError::Conflict("events out of sequence".into()));
        }
    }
    insert_events(c, keys, id, &events, last)?;
    write_projection(c, keys, &st)?;
    Ok((st, events))
}

pub(crate) fn tracking_code_in(c: &mut Conn, id: i64) -> Result<Option<String>> {
    c.query_opt(
        "SELECT code FROM tracking_codes WHERE ticket_id=?1",
        &crate::pv![id],
    )?
    .map(|r| r.get_str(0))
    .transpose()
}

/// Takes a request in on the writer's connection (idempotency, id, number, first event, projection).
pub(crate) fn create_in(c: &mut Conn, keys: &Keys, new: NewTicket) -> Result<Created> {
    let request_hash = new
        .idempotency_key
        .as_ref()
        .map(|k| hex_of(&keys.ring().keyed(b"idempotency", k.request_hash.as_bytes())));
    if let Some(key) = &new.idempotency_key {
        let prior = c.query_opt(
            "SELECT ticket_id, request_hash FROM idempotency WHERE user_name=?1 AND idem_key=?2",
            &crate::pv![&new.actor.user, &key.key],
        )?;
        if let Some(row) = prior {
            let (id, hash) = (row.get_i64(0)?, row.get_opt_str(1)?);
            if hash
                .as_deref()
                .is_some_and(|h| Some(h) != request_hash.as_deref() && h != key.request_hash)
            {
                return Err(StoreError::Invalid {
                    field: "Idempotency-Key".into(),
                    message: format!(
                        "the Idempotency-Key {:?} was already used for a different request; use a new key for a new request",
                        key.key
                    ),
                    message_zh: format!("幂等键“{}”已用于另一份不同的请求，新请求请使用新的键", key.key),
                });
            }
            let (state, events) = load_in(c, keys, id)?.ok_or(StoreError::NotFound)?;
            return Ok(Created {
                state,
                events,
                replayed: true,
                tracking_code: tracking_code_in(c, id)?,
            });
        }
    }
    let id = match c.next_id {
        Some(id) => id,
        None => c
            .query_one("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets", &[])?
            .get_i64(0)?,
    };
    let number = jiesu_domain::zone::public_number(id, new.now, zone_in(c)?);
    let kind = jiesu_domain::command::create(number, new.intake);
    let ev = Event {
        seq: 1,
        at: new.now,
        actor: new.actor.clone(),
        kind,
    };
    let state = TicketState::created(id, &ev)?;
    let events = vec![ev];
    // a new ticket: a new data key, no assignments to replace
    let (dek, key_row) = encode::new_data_key(keys, id);
    let rows = encode::event_rows(id, &events, chain::GENESIS, Some(&dek))?;
    // every row of a new ticket in one statement (one round trip of the writer)
    let mut writes: Vec<(&str, Vec<Pv>)> = vec![(
        "INSERT INTO personal_keys (ticket_id, key_id, wrapped) VALUES (?1,?2,?3)",
        pvs(&key_row),
    )];
    for p in event_params(c, &rows)? {
        writes.push((encode::INSERT_EVENT, p));
    }
    writes.push((
        encode::UPSERT_TICKET,
        pvs(&encode::ticket_row(&state, keys)),
    ));
    for a in &encode::assignment_rows(&state)? {
        writes.push((encode::INSERT_ASSIGNMENT, pvs(a)));
    }
    if let Some(key) = &new.idempotency_key {
        writes.push((
            "INSERT INTO idempotency (user_name, idem_key, ticket_id, created_at, request_hash) VALUES (?1,?2,?3,?4,?5)",
            crate::pv![&new.actor.user, &key.key, id, fmt(new.now), request_hash].to_vec(),
        ));
    }
    if let Some(code) = &new.tracking_code {
        writes.push((
            "INSERT INTO tracking_codes (ticket_id, code) VALUES (?1,?2)",
            crate::pv![id, code].to_vec(),
        ));
    }
    if let Err(e) = c.exec_many(&writes) {
        // the positions were not used: read them again
        c.next_pos = None;
        return Err(e);
    }
    c.next_id = Some(id + 1);
    Ok(Created {
        state,
        events,
        replayed: false,
        tracking_code: new.tracking_code,
    })
}

/// Whether the database at `url` holds Jiesu's tables with units or tickets in them (without
/// creating anything).
pub(crate) fn holds_a_city(url: &str) -> Result<bool> {
    off_runtime(|| {
        let config: postgres::Config = url.parse().map_err(|e| StoreError::Invalid {
            field: "--db".into(),
            message: format!("{} is not a PostgreSQL URL: {e}", shown(url)),
            message_zh: format!("{} 不是有效的 PostgreSQL 地址：{e}", shown(url)),
        })?;
        let mut c = connect(&config)?;
        let has_tables = c
            .query_one("SELECT to_regclass('public.units') IS NOT NULL", &[])?
            .get_bool(0)?;
        if !has_tables {
            return Ok(false);
        }
        Ok(c.query_one(
            "SELECT (SELECT COUNT(*) FROM units) + (SELECT COUNT(*) FROM tickets)",
            &[],
        )?
        .get_i64(0)?
            > 0)
    })
}

/// The local path of a PostgreSQL city (`PgStore::path`): `<JIESU_DATA_DIR or .>/<db name>.pg`;
/// its key file, attachments and fact cache are named after it.
pub(crate) fn local_path(config: &postgres::Config) -> PathBuf {
    let name = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres")
        .to_string();
    let dir = std::env::var_os("JIESU_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    dir.join(format!("{name}.pg"))
}
