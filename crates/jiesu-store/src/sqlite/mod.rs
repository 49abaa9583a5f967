//! The embedded SQLite backend: one file, WAL, `synchronous=FULL`, one writer thread with group
//! commit (see `writer`), a small pool of read connections.

//!
//! One module per storage trait implements it (`tickets`, `users`, `reference`, …); this module
//! opens the database and holds what they share (the writer, the read pool, the event rows).

mod agent_sessions;
mod catalogue;
mod encode;
mod facts;
mod kb;
mod labels;
mod outbox;
mod ratings;
mod recheck;
mod reference;
mod reviews;
mod stats;
mod tickets;
mod users;
mod writer;

pub use encode::EncodedTicket;

use crate::time::fmt;
use crate::*;
use chrono::{DateTime, Utc};
use jiesu_domain::{ActorRef, CityZone, Event, TicketId, TicketState};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
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
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { durable: true }
    }
}

/// The embedded backend; implements every storage trait (see the crate docs).
pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
}

fn open_conn(path: &Path, durable: bool) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous={}; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;",
        if durable { "FULL" } else { "OFF" }
    ))?;
    Ok(conn)
}

/// Columns added to tables of schema version 1 after it shipped: added to an older file on open
/// (new files get them from `schema.sql`). Only nullable columns, so old rows stay valid.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("sessions", "last_seen_at", "TEXT"),
    ("idempotency", "request_hash", "TEXT"),
];

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
        let conn = open_conn(&path, opts.durable)?;
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
                conn.execute_batch(SCHEMA)?;
                conn.execute_batch(INDEXES)?;
                conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?1)",
                    [SCHEMA_VERSION],
                )?;
            }
            Some(SCHEMA_VERSION) => {
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
        Ok(SqliteStore {
            path,
            writer: Writer::start(conn),
            readers: Mutex::new(Vec::new()),
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

    /// Runs a read on a pooled read connection.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self
            .readers
            .lock()
            .map_err(|_| StoreError::Db("reader pool poisoned".into()))?
            .pop();
        let conn = match conn {
            Some(c) => c,
            None => open_conn(&self.path, true)?,
        };
        let r = f(&conn);
        if let Ok(mut pool) = self.readers.lock() {
            if pool.len() < 16 {
                pool.push(conn);
            }
        }
        r
    }
}

/// An event from its stored columns (seq, at, actor, role, unit, payload).
/// An event with its ticket's id and number, from the columns `ticket_id, number, seq, at, actor,
/// role, unit_code, payload` starting at column `k`.
fn numbered_event(r: &rusqlite::Row<'_>, k: usize) -> Result<(TicketId, String, Event)> {
    let e = event_from_row(
        r.get(k + 2)?,
        &r.get::<_, String>(k + 3)?,
        r.get(k + 4)?,
        &r.get::<_, String>(k + 5)?,
        r.get(k + 6)?,
        &r.get::<_, String>(k + 7)?,
    )?;
    Ok((r.get(k)?, r.get(k + 1)?, e))
}

fn event_from_row(
    seq: u32,
    at: &str,
    actor: String,
    role: &str,
    unit: Option<String>,
    payload: &str,
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
        kind: serde_json::from_str(payload)?,
    })
}

/// Loads and folds a ticket's events on `c`.
fn load_in(c: &Connection, id: TicketId) -> Result<Option<(TicketState, Vec<Event>)>> {
    let mut stmt = c.prepare_cached(
        "SELECT seq, at, actor, role, unit_code, payload FROM events WHERE ticket_id=?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok((
            r.get::<_, u32>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut events = Vec::new();
    for row in rows {
        let (seq, at, actor, role, unit, payload) = row?;
        events.push(event_from_row(seq, &at, actor, &role, unit, &payload)?);
    }
    if events.is_empty() {
        return Ok(None);
    }
    let st = TicketState::fold(id, &events)?;
    Ok(Some((st, events)))
}

fn insert_events(c: &Connection, id: TicketId, events: &[Event]) -> Result<()> {
    let rows = events
        .iter()
        .map(|e| encode::event_row(id, e))
        .collect::<Result<Vec<_>>>()?;
    encode::insert_event_rows(c, &rows)
}

/// Writes the projection rows of one ticket (replacing what was there).
fn write_projection(c: &Connection, st: &TicketState) -> Result<()> {
    encode::write_projection_rows(
        c,
        st.id,
        &encode::ticket_row(st),
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

fn apply_change(c: &Connection, id: TicketId, change: Change) -> Result<(TicketState, Vec<Event>)> {
    let (mut st, _) = load_in(c, id)?.ok_or(StoreError::NotFound)?;
    let before = st.version;
    let events = change(&mut st)?;
    if let Some(first) = events.first() {
        if first.seq != before + 1 {
            return Err(StoreError::Conflict("events out of sequence".into()));
        }
    }
    insert_events(c, id, &events)?;
    write_projection(c, &st)?;
    Ok((st, events))
}

/// Takes a request in on the writer's connection (idempotency, id, number, first event, projection).
fn create_in(c: &Connection, new: NewTicket) -> Result<Created> {
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
            if hash.as_deref().is_some_and(|h| h != key.request_hash) {
                return Err(StoreError::Invalid {
                    field: "Idempotency-Key".into(),
                    message: format!(
                        "the Idempotency-Key {:?} was already used for a different request; use a new key for a new request",
                        key.key
                    ),
                    message_zh: format!("幂等键“{}”已用于另一份不同的请求，新请求请使用新的键", key.key),
                });
            }
            let (state, events) = load_in(c, id)?.ok_or(StoreError::NotFound)?;
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
    insert_events(c, id, &events)?;
    write_projection(c, &state)?;
    if let Some(key) = &new.idempotency_key {
        c.prepare_cached(
                    "INSERT INTO idempotency (user_name, idem_key, ticket_id, created_at, request_hash) VALUES (?1,?2,?3,?4,?5)",
                )?
                .execute(params![new.actor.user, key.key, id, fmt(new.now), key.request_hash])?;
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

/// A ticket's tracking code (查询码), if it has one.
pub(crate) fn tracking_code_in(c: &Connection, id: i64) -> Result<Option<String>> {
    Ok(
        c.prepare_cached("SELECT code FROM tracking_codes WHERE ticket_id=?1")?
            .query_row(params![id], |r| r.get(0))
            .optional()?,
    )
}
