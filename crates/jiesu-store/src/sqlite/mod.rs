//! The embedded SQLite backend: one file, WAL, `synchronous=FULL`, one writer thread with group
//! commit (see `writer`), a small pool of read connections.

//!
//! One module per storage trait implements it (`tickets`, `users`, `reference`, …); this module
//! opens the database and holds what they share (the writer, the read pool, the event rows).

mod agent_sessions;
mod alerts;
mod analytics;
pub(crate) mod backup;
mod catalogue;
mod dept;
pub(crate) mod encode;
mod facts;
mod gov_policies;
mod imports;
mod kb;
mod labels;
pub(crate) mod ledger;
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
mod verify;
pub(crate) mod writer;

pub use verify::{verify_file, VerifyReport};

pub use encode::EncodedTicket;

use crate::chain;
use crate::crypt::{Keyring, Keys};
use crate::time::fmt;
use crate::*;
use chrono::{DateTime, Utc};
use jiesu_domain::{ActorRef, CityZone, Event, EventKind, TicketId, TicketState};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::{mpsc, Mutex};
use writer::{Completion, Job, Writer};

const SCHEMA: &str = include_str!("../schema.sql");
const INDEXES: &str = include_str!("../indexes.sql");
const SCHEMA_VERSION: &str = "1";

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.to_string())
    }
}

/// How the database is opened.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `synchronous=FULL` (durable on commit). Off only for bulk generation of demo data.
    pub durable: bool,
    /// Where the personal-data keys come from.
    pub keys: KeySource,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            durable: true,
            keys: KeySource::Env,
        }
    }
}

/// Where the key file (密钥文件) of personal data is: never inside the database.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// From the environment: `JIESU_KEYS` (the key file's content, for secret stores that hand
    /// out environment variables), else the file named by `JIESU_KEY_FILE`, else
    /// [`KeySource::Beside`]. The default.
    Env,
    /// `<database>.keys` beside the database file, created on first use: right for a demo or a
    /// test city; in production point to a file elsewhere ([`KeySource::File`]).
    Beside,
    /// A key file at this path, created on first use if the database holds no sealed data yet.
    File(PathBuf),
    /// Keys already loaded (for example from an environment variable).
    Ring(Arc<Keyring>),
}

impl KeySource {
    /// The key file used for the database at `db` (none for [`KeySource::Ring`]).
    pub fn path_for(&self, db: &Path) -> Option<PathBuf> {
        match self {
            KeySource::Env => {
                if std::env::var_os("JIESU_KEYS").is_some() {
                    None
                } else if let Some(f) = std::env::var_os("JIESU_KEY_FILE") {
                    Some(PathBuf::from(f))
                } else {
                    KeySource::Beside.path_for(db)
                }
            }
            KeySource::Beside => {
                let mut p = db.as_os_str().to_owned();
                p.push(".keys");
                Some(PathBuf::from(p))
            }
            KeySource::File(p) => Some(p.clone()),
            KeySource::Ring(_) => None,
        }
    }
}

/// The embedded backend; implements every storage trait (see the crate docs).
pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: ReaderPool,
    keys: Arc<Keys>,
}

/// The most read connections open at once. A read that finds none free waits for one rather
/// than opening (and closing) a connection of its own: opening one parses the schema and costs
/// more than most reads, and under load (64 clients filing, each intake reading the incident it
/// may join) the open/close churn halved intake throughput.
const MAX_READERS: usize = 24;
/// The page cache of each read connection, KiB: up to MAX_READERS of them, and one that ran a
/// long scan (the analytics facts, an export) would otherwise keep the writer's 64 MiB of pages
/// for good; the kernel's page cache serves the rest.
const READER_CACHE_KIB: u32 = 8 * 1024;

/// Read connections kept open for reuse, with how many exist (pooled or lent out).
struct ReaderPool {
    state: Mutex<(Vec<Connection>, usize)>,
    freed: std::sync::Condvar,
}

/// Loads the keyring, or creates the key file when the database holds no sealed data yet. A
/// missing key file for a database that has sealed data is an error, never a new key (which
/// would make the data unreadable).
fn resolve_keys(conn: &Connection, db: &Path, source: &KeySource) -> Result<Arc<Keys>> {
    if let KeySource::Ring(r) = source {
        return Ok(Arc::new(Keys::fixed((**r).clone())));
    }
    let Some(path) = source.path_for(db) else {
        let text = std::env::var("JIESU_KEYS").unwrap_or_default();
        return Ok(Arc::new(Keys::fixed(Keyring::parse(&text)?)));
    };
    if path.exists() {
        return Ok(Arc::new(Keys::from_file(&path, Keyring::load(&path)?)));
    }
    // partners' signing secrets derive from the key file too
    let sealed: i64 = conn.query_row(
        "SELECT (SELECT COUNT(*) FROM personal_keys) + (SELECT COUNT(*) FROM partner_signing)",
        [],
        |r| r.get(0),
    )?;
    if sealed > 0 {
        return Err(StoreError::Invalid {
            field: "key file".into(),
            message: format!(
                "{} holds personal data sealed with a key file, but there is no key file at {}: set JIESU_KEY_FILE to its path",
                db.display(),
                path.display()
            ),
            message_zh: format!(
                "{} 中的个人信息已加密，但 {} 处没有密钥文件：请用环境变量 JIESU_KEY_FILE 指定密钥文件",
                db.display(),
                path.display()
            ),
        });
    }
    let ring = Keyring::generate();
    ring.save(&path)?;
    tracing::info!(path = %path.display(), "created a new personal-data key file");
    Ok(Arc::new(Keys::from_file(&path, ring)))
}

/// The page cache of the writer's connection, KiB.
const WRITER_CACHE_KIB: u32 = 64 * 1024;

fn open_conn(path: &Path, durable: bool, cache_kib: u32) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous={}; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-{cache_kib};",
        if durable { "FULL" } else { "OFF" }
    ))?;
    Ok(conn)
}

/// Columns added to tables of schema version 1 after it shipped: added to an older file on open
/// (new files get them from `schema.sql`). Only nullable columns, so old rows stay valid.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("sessions", "last_seen_at", "TEXT"),
    ("idempotency", "request_hash", "TEXT"),
    ("events", "sealed", "BLOB"),
    ("events", "hash", "BLOB"),
    ("events", "pos", "INTEGER"),
    ("tickets", "phone_hash", "BLOB"),
];

/// Brings an event log written before personal data was sealed and events chained up to date,
/// once, when such a file is opened: each ticket's events are re-written sealed and chained (in
/// one transaction), the projections re-written with the keyed phone hash, and the plaintext
/// last-four-digits column dropped.
fn upgrade_legacy_log(conn: &Connection, keys: &Keys) -> Result<()> {
    let has = |table: &str, column: &str| -> rusqlite::Result<bool> {
        conn.query_row(
            &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name=?1"),
            [column],
            |r| r.get::<_, i64>(0).map(|n| n > 0),
        )
    };
    // Checked once per file: a full scan of the log on every open took seconds at Beijing scale
    // (there is no index on `hash`). New files and upgraded ones carry the marker.
    let marked: bool = conn
        .query_row(
            "SELECT COUNT(*) FROM meta WHERE key = ?1",
            [LOG_SEALED_KEY],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)?;
    if marked {
        return Ok(());
    }
    let legacy: i64 =
        conn.query_row("SELECT COUNT(*) FROM events WHERE hash IS NULL", [], |r| {
            r.get(0)
        })?;
    if legacy == 0 && !has("tickets", "phone_last4")? {
        mark_log_sealed(conn)?;
        return Ok(());
    }
    tracing::info!(
        events = legacy,
        "sealing and chaining an event log written by an older jiesu"
    );
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let r = (|| -> Result<()> {
        if has("tickets", "phone_last4")? {
            conn.execute_batch("ALTER TABLE tickets DROP COLUMN phone_last4")?;
        }
        let ids: Vec<i64> = conn
            .prepare("SELECT DISTINCT ticket_id FROM events WHERE hash IS NULL ORDER BY ticket_id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in ids {
            let events = conn
                .prepare("SELECT seq, at, actor, role, unit_code, payload FROM events WHERE ticket_id=?1 ORDER BY seq")?
                .query_map([id], |r| {
                    Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?, r.get::<_, Option<String>>(4)?, r.get::<_, String>(5)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .map(|(seq, at, actor, role, unit, payload)| {
                    event_from_row(seq, &at, actor, &role, unit, serde_json::from_str(&payload)?)
                })
                .collect::<Result<Vec<_>>>()?;
            conn.execute("DELETE FROM events WHERE ticket_id=?1", [id])?;
            insert_events(conn, keys, id, &events, chain::GENESIS)?;
            let st = TicketState::fold(id, &events)?;
            write_projection(conn, keys, &st)?;
        }
        Ok(())
    })();
    match r.and_then(|()| mark_log_sealed(conn)) {
        Ok(()) => conn.execute_batch("COMMIT")?,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
    }
    Ok(())
}

/// The `meta` key saying every event of the file is sealed and chained (no legacy rows).
const LOG_SEALED_KEY: &str = "log_sealed";

fn mark_log_sealed(conn: &Connection) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, '1')",
        [LOG_SEALED_KEY],
    )?;
    Ok(())
}

/// An `alerts` table written before risk pushes and incidents had one unique cell per day as a
/// table constraint (several risk alerts may share a place, category and day): rebuilt once,
/// rows and ids kept, with the `detail` column; `SCHEMA` then adds the partial unique index.
fn rebuild_old_alerts(conn: &Connection) -> rusqlite::Result<()> {
    let sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type='table' AND name='alerts'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if !sql.is_some_and(|s| s.contains("UNIQUE (day, level, place, category)")) {
        return Ok(());
    }
    tracing::info!("rebuilding the alerts table for risk pushes and incidents");
    conn.execute_batch("PRAGMA foreign_keys=OFF")?;
    let r = conn.execute_batch(
        "BEGIN IMMEDIATE;
         CREATE TABLE alerts_rebuilt (
           id INTEGER PRIMARY KEY, day TEXT NOT NULL, level TEXT NOT NULL, place TEXT NOT NULL,
           category TEXT NOT NULL, score REAL NOT NULL, observed INTEGER NOT NULL, expected REAL NOT NULL,
           window_days INTEGER NOT NULL, unit TEXT NOT NULL, district TEXT NOT NULL, tickets TEXT NOT NULL,
           status TEXT NOT NULL, created_at TEXT NOT NULL, detail TEXT);
         INSERT INTO alerts_rebuilt (id, day, level, place, category, score, observed, expected,
           window_days, unit, district, tickets, status, created_at)
           SELECT id, day, level, place, category, score, observed, expected, window_days, unit,
           district, tickets, status, created_at FROM alerts;
         DROP TABLE alerts;
         ALTER TABLE alerts_rebuilt RENAME TO alerts;
         COMMIT;",
    );
    if r.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    conn.execute_batch("PRAGMA foreign_keys=ON")?;
    r
}

fn add_missing_columns(conn: &Connection) -> rusqlite::Result<()> {
    for (table, column, decl) in ADDED_COLUMNS {
        let present: bool = conn.query_row(
            &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name=?1"),
            [column],
            |r| r.get::<_, i64>(0).map(|n| n > 0),
        )?;
        if !present {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
        }
    }
    Ok(())
}

fn in_savepoint<T>(conn: &Connection, f: impl FnOnce() -> Result<T>) -> Result<T> {
    conn.prepare_cached("SAVEPOINT job")?.execute([])?;
    match f() {
        Ok(v) => {
            conn.prepare_cached("RELEASE job")?.execute([])?;
            Ok(v)
        }
        Err(e) => {
            conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
            conn.prepare_cached("RELEASE job")?.execute([])?;
            Err(e)
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        Self::open_with(path, StoreOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, opts: StoreOptions) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() && !dir.exists() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Db(format!("cannot create {}: {e}", dir.display())))?;
            }
        }
        let conn = open_conn(&path, opts.durable, WRITER_CACHE_KIB)?;
        let existing: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key='schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .unwrap_or(None);
        match existing.as_deref() {
            None => {
                if !opts.durable {
                    // A file filled by a bulk load (a demo city, a benchmark): 16 KiB pages. Its
                    // tables grow side by side, so each table's pages are spread over the whole
                    // file; at Beijing scale (≈ 39 GB) the index build at the end of the load
                    // reads the ticket table from disk, four times fewer reads with these pages.
                    // A city's own file keeps SQLite's 4 KiB (smaller commits in the WAL).
                    conn.query_row("PRAGMA journal_mode=DELETE", [], |_| Ok(()))?;
                    conn.execute_batch("PRAGMA page_size=16384; VACUUM;")?;
                    conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
                }
                conn.execute_batch(SCHEMA)?;
                conn.execute_batch(INDEXES)?;
                conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?1)",
                    [SCHEMA_VERSION],
                )?;
                // a new file's events are all written sealed and chained
                mark_log_sealed(&conn)?;
            }
            Some(SCHEMA_VERSION) => {
                rebuild_old_alerts(&conn)?;
                conn.execute_batch(SCHEMA)?;
                add_missing_columns(&conn)?;
                conn.execute_batch(INDEXES)?;
            }
            Some(v) => {
                return Err(StoreError::Db(format!(
                    "database schema version {v} is not supported by this jiesu (expects {SCHEMA_VERSION})"
                )))
            }
        }
        // erased rows (data keys, sessions) are overwritten, not left in free pages
        conn.execute_batch("PRAGMA secure_delete=ON")?;
        let keys = resolve_keys(&conn, &path, &opts.keys)?;
        upgrade_legacy_log(&conn, &keys)?;
        Ok(SqliteStore {
            path,
            writer: Writer::start(conn),
            readers: ReaderPool {
                state: Mutex::new((Vec::new(), 0)),
                freed: std::sync::Condvar::new(),
            },
            keys,
        })
    }

    /// Runs `f` on the writer inside the group transaction (in its own savepoint) and waits until
    /// the group is committed.
    pub(crate) fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = mpsc::sync_channel::<Result<T>>(1);
        self.submit(f, move |out| {
            let _ = tx.send(out);
        });
        rx.recv()
            .map_err(|_| StoreError::Db("the write was not completed".into()))?
    }

    /// Like [`write`](Self::write) without blocking the caller: `done` receives the result after
    /// the group commit (so an async server can await it without parking a thread per request).
    pub(crate) fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
        done: impl FnOnce(Result<T>) + Send + 'static,
    ) {
        let job: Job = Box::new(move |conn: &Connection| -> Completion {
            let r = in_savepoint(conn, || f(conn));
            Box::new(move |commit: std::result::Result<(), String>| {
                let out = match (r, commit) {
                    (Ok(v), Ok(())) => Ok(v),
                    (Err(e), _) => Err(e),
                    (Ok(_), Err(m)) => Err(StoreError::Db(m)),
                };
                done(out);
            })
        });
        if let Err(job) = self.writer.submit_or_return(job) {
            // the writer has stopped: run nothing, report the failure
            drop(job);
        }
    }

    /// Runs `f` on the write connection outside any transaction, after everything queued before
    /// it has been committed, and waits for it.
    pub(crate) fn alone<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = mpsc::sync_channel::<Result<T>>(1);
        if !self.writer.submit_alone(Box::new(move |c| {
            let _ = tx.send(f(c));
        })) {
            return Err(StoreError::Db("the writer has stopped".into()));
        }
        rx.recv()
            .map_err(|_| StoreError::Db("the write was not completed".into()))?
    }

    /// Closes the read connections not lent out (they keep the WAL open, and SQLite changes a
    /// journal mode only when no other connection has it open).
    pub(crate) fn close_idle_readers(&self) {
        if let Ok(mut st) = self.readers.state.lock() {
            let idle = std::mem::take(&mut st.0);
            st.1 -= idle.len();
        }
    }

    /// Runs a read on a pooled read connection.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let poisoned = || StoreError::Db("reader pool poisoned".into());
        let pool = &self.readers;
        let conn = {
            let mut st = pool.state.lock().map_err(|_| poisoned())?;
            loop {
                if let Some(c) = st.0.pop() {
                    break Some(c);
                }
                if st.1 < MAX_READERS {
                    st.1 += 1;
                    break None;
                }
                st = pool.freed.wait(st).map_err(|_| poisoned())?;
            }
        };
        let conn = match conn {
            Some(c) => c,
            None => match open_conn(&self.path, true, READER_CACHE_KIB) {
                Ok(c) => c,
                Err(e) => {
                    if let Ok(mut st) = pool.state.lock() {
                        st.1 -= 1;
                    }
                    pool.freed.notify_one();
                    return Err(e.into());
                }
            },
        };
        let r = f(&conn);
        if let Ok(mut st) = pool.state.lock() {
            st.0.push(conn);
        }
        pool.freed.notify_one();
        r
    }
}

/// An event with its ticket's id and number, from the columns `ticket_id, number, seq, at,
/// actor, role, unit_code, payload, sealed` starting at column `k`; sealed personal data is opened
/// with the ticket's data key.
fn numbered_event(
    c: &Connection,
    keys: &Keys,
    r: &rusqlite::Row<'_>,
    k: usize,
) -> Result<(TicketId, String, Event)> {
    let id: TicketId = r.get(k)?;
    let sealed: Option<Vec<u8>> = r.get(k + 8)?;
    let dek = match sealed {
        Some(_) => encode::data_key_in(c, keys, id)?,
        None => None,
    };
    let e = event_from_row(
        r.get(k + 2)?,
        &r.get::<_, String>(k + 3)?,
        r.get(k + 4)?,
        &r.get::<_, String>(k + 5)?,
        r.get(k + 6)?,
        encode::decode_kind(
            id,
            &r.get::<_, String>(k + 7)?,
            sealed.as_deref(),
            dek.as_ref(),
        )?,
    )?;
    Ok((id, r.get(k + 1)?, e))
}

pub(crate) fn event_from_row(
    seq: u32,
    at: &str,
    actor: String,
    role: &str,
    unit: Option<String>,
    kind: EventKind,
) -> Result<Event> {
    Ok(Event {
        seq,
        at: time::parse(at).ok_or_else(|| StoreError::Db(format!("bad time {at}")))?,
        actor: ActorRef {
            user: actor,
            role: jiesu_domain::Role::parse(role)
                .ok_or_else(|| StoreError::Db(format!("bad role {role}")))?,
            unit,
        },
        kind,
    })
}

/// One stored event row as read for loading: `seq, at, kind, actor, role, unit_code, payload,
/// sealed, hash`.
pub(crate) struct RawEvent {
    pub(crate) seq: u32,
    pub(crate) at: String,
    pub(crate) kind: String,
    pub(crate) actor: String,
    pub(crate) role: String,
    pub(crate) unit: Option<String>,
    pub(crate) payload: String,
    pub(crate) sealed: Option<Vec<u8>>,
    pub(crate) hash: Option<Vec<u8>>,
}

impl RawEvent {
    pub(crate) fn stored(&self, ticket: TicketId) -> chain::StoredEvent<'_> {
        chain::StoredEvent {
            ticket,
            seq: self.seq,
            at: &self.at,
            kind: &self.kind,
            actor: &self.actor,
            role: &self.role,
            unit: self.unit.as_deref(),
            payload: &self.payload,
            sealed: self.sealed.as_deref(),
        }
    }
}

/// Loads a ticket's events on `c`, checks its hash chain (a broken one is refused:
/// [`StoreError::Tampered`]), opens its personal data and folds it; also gives the chain's last
/// hash, which the next event links to.
fn load_chained(
    c: &Connection,
    keys: &Keys,
    id: TicketId,
) -> Result<Option<(TicketState, Vec<Event>, chain::Hash)>> {
    let mut stmt = c.prepare_cached(
        "SELECT seq, at, kind, actor, role, unit_code, payload, sealed, hash FROM events WHERE ticket_id=?1 ORDER BY seq",
    )?;
    let raw = stmt
        .query_map([id], |r| {
            Ok(RawEvent {
                seq: r.get(0)?,
                at: r.get(1)?,
                kind: r.get(2)?,
                actor: r.get(3)?,
                role: r.get(4)?,
                unit: r.get(5)?,
                payload: r.get(6)?,
                sealed: r.get(7)?,
                hash: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if raw.is_empty() {
        return Ok(None);
    }
    let last = chain::check_ticket(id, raw.iter().map(|e| (e.stored(id), e.hash.as_deref())))
        .map_err(StoreError::Tampered)?;
    let dek = if raw.iter().any(|e| e.sealed.is_some()) {
        encode::data_key_in(c, keys, id)?
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

/// Loads and folds a ticket's events on `c` (see [`load_chained`]).
fn load_in(c: &Connection, keys: &Keys, id: TicketId) -> Result<Option<(TicketState, Vec<Event>)>> {
    Ok(load_chained(c, keys, id)?.map(|(st, ev, _)| (st, ev)))
}

/// Appends events to a ticket's chain, after `prev`; events with personal data are sealed with
/// the ticket's data key.
fn insert_events(
    c: &Connection,
    keys: &Keys,
    id: TicketId,
    events: &[Event],
    prev: chain::Hash,
) -> Result<()> {
    let dek = if events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Created { .. }))
    {
        match encode::data_key_in(c, keys, id)? {
            Some(k) => Some(k),
            None => {
                let (k, row) = encode::new_data_key(keys, id);
                encode::insert_data_key(c, &row)?;
                Some(k)
            }
        }
    } else {
        None
    };
    let rows = encode::event_rows(id, events, prev, dek.as_ref())?;
    encode::insert_event_rows(c, &rows)?;
    if events
        .iter()
        .any(|e| matches!(e.kind, EventKind::PersonalDataErased { .. }))
    {
        // crypto-shredding: without its data key the sealed data is noise
        c.prepare_cached("DELETE FROM personal_keys WHERE ticket_id=?1")?
            .execute([id])?;
    }
    Ok(())
}

/// Writes the projection rows of one ticket (replacing what was there).
fn write_projection(c: &Connection, keys: &Keys, st: &TicketState) -> Result<()> {
    encode::write_projection_rows(
        c,
        st.id,
        &encode::ticket_row(st, keys),
        &encode::assignment_rows(st)?,
    )
}

/// The city's zone as stored, read on the writer's connection (default when never set).
fn zone_in(c: &Connection) -> Result<CityZone> {
    let name: Option<String> = c
        .prepare_cached("SELECT value FROM meta WHERE key=?1")?
        .query_row([CityZone::SETTING_KEY], |r| r.get(0))
        .optional()?;
    name.map_or(Ok(CityZone::default()), |n| {
        CityZone::parse(&n).map_err(|e| StoreError::Db(e.to_string()))
    })
}

fn apply_change(
    c: &Connection,
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

/// Takes a request in on the writer's connection (idempotency, id, number, first event, projection).
fn create_in(c: &Connection, keys: &Keys, new: NewTicket) -> Result<Created> {
    // the request hash is kept keyed, so the database alone cannot confirm a guessed phone
    let request_hash = new
        .idempotency_key
        .as_ref()
        .map(|k| hex_of(&keys.ring().keyed(b"idempotency", k.request_hash.as_bytes())));
    if let Some(key) = &new.idempotency_key {
        let prior: Option<(i64, Option<String>)> = c
            .prepare_cached(
                "SELECT ticket_id, request_hash FROM idempotency WHERE user_name=?1 AND idem_key=?2",
            )?
            .query_row(params![new.actor.user, key.key], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        if let Some((id, hash)) = prior {
            // a key first stored without a hash (older files) replays whatever the body
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
    let id: i64 = c
        .prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets")?
        .query_row([], |r| r.get(0))?;
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
    insert_events(c, keys, id, &events, chain::GENESIS)?;
    write_projection(c, keys, &state)?;
    if let Some(key) = &new.idempotency_key {
        c.prepare_cached(
                    "INSERT INTO idempotency (user_name, idem_key, ticket_id, created_at, request_hash) VALUES (?1,?2,?3,?4,?5)",
                )?
                .execute(params![new.actor.user, key.key, id, fmt(new.now), request_hash])?;
    }
    if let Some(code) = &new.tracking_code {
        c.prepare_cached("INSERT INTO tracking_codes (ticket_id, code) VALUES (?1,?2)")?
            .execute(params![id, code])?;
    }
    Ok(Created {
        state,
        events,
        replayed: false,
        tracking_code: new.tracking_code,
    })
}

pub(crate) fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A ticket's tracking code (查询码), if it has one.
pub(crate) fn tracking_code_in(c: &Connection, id: i64) -> Result<Option<String>> {
    Ok(
        c.prepare_cached("SELECT code FROM tracking_codes WHERE ticket_id=?1")?
            .query_row(params![id], |r| r.get(0))
            .optional()?,
    )
}
