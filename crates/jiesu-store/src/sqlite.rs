//! The embedded SQLite backend: one file, WAL, `synchronous=FULL`, one writer thread with group
//! commit (see `writer`), a small pool of read connections.

use crate::time::fmt;
use crate::writer::{Completion, Job, Writer};
use crate::*;
use jiesu_domain::category::{Category, LivelihoodDomain};
use jiesu_domain::org::{FunctionalZone, Unit, UnitKind};
use jiesu_domain::{CityZone, EventKind};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};

const SCHEMA: &str = include_str!("schema.sql");
const INDEXES: &str = include_str!("indexes.sql");
const SCHEMA_VERSION: &str = "1";

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

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the writer inside the group transaction (in its own savepoint) and waits until
    /// the group is committed.
    pub fn write<T: Send + 'static>(
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
    pub fn submit<T: Send + 'static>(
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

    /// Takes a request in without blocking; `done` gets the outcome once it is durable.
    pub fn create_ticket_then(
        &self,
        new: NewTicket,
        done: impl FnOnce(Result<Created>) + Send + 'static,
    ) {
        self.submit(move |c| create_in(c, new), done)
    }

    /// Runs a read on a pooled read connection.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
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

    /// Drops the secondary indexes before a large bulk import; `end_bulk` rebuilds them.
    pub fn begin_bulk(&self) -> Result<()> {
        self.write(|c| {
            for line in INDEXES.lines() {
                if let Some(name) = line
                    .strip_prefix("CREATE INDEX IF NOT EXISTS ")
                    .and_then(|s| s.split_whitespace().next())
                {
                    c.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
                }
            }
            Ok(())
        })
    }

    pub fn end_bulk(&self) -> Result<()> {
        self.write(|c| {
            c.execute_batch(INDEXES)?;
            c.execute_batch("ANALYZE")?;
            Ok(())
        })
    }

    /// A value from the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_string();
        self.read(move |c| {
            Ok(
                c.query_row("SELECT value FROM meta WHERE key=?1", [key], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    /// The city's time zone (the `time_zone` setting; `Asia/Shanghai` when it was never set).
    /// A stored name that is not an IANA zone is an error, never a silent default.
    pub fn city_zone(&self) -> Result<CityZone> {
        match self.meta(CityZone::SETTING_KEY)? {
            None => Ok(CityZone::default()),
            Some(name) => CityZone::parse(&name).map_err(|e| StoreError::Invalid {
                field: CityZone::SETTING_KEY.into(),
                message: format!("the stored setting is wrong: {e}"),
                message_zh: format!(
                    "数据库中的时区设置无效：{name}（应为 IANA 时区名，如 Asia/Shanghai）"
                ),
            }),
        }
    }

    /// Sets the city's time zone.
    pub fn set_city_zone(&self, zone: CityZone) -> Result<()> {
        self.set_meta(CityZone::SETTING_KEY, zone.name())
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let (k, v) = (key.to_string(), value.to_string());
        self.write(move |c| {
            c.execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                params![k, v],
            )?;
            Ok(())
        })
    }

    /// Recomputes every projection row from the event log (the invariant: projections are a fold
    /// of events). Returns the number of tickets.
    pub fn rebuild_projections(&self) -> Result<u64> {
        self.write(|c| {
            let ids: Vec<i64> = c
                .prepare("SELECT DISTINCT ticket_id FROM events ORDER BY ticket_id")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for id in &ids {
                let (st, _) = load_in(c, *id)?.ok_or(StoreError::NotFound)?;
                write_projection(c, &st)?;
            }
            Ok(ids.len() as u64)
        })
    }
}

fn kind_str(k: UnitKind) -> &'static str {
    k.as_str()
}

fn zone_str(z: FunctionalZone) -> &'static str {
    match z {
        FunctionalZone::CoreAndSubCentre => "core_and_sub_centre",
        FunctionalZone::PlainNewTowns => "plain_new_towns",
        FunctionalZone::EcologicalConservation => "ecological_conservation",
    }
}

fn zone_parse(s: &str) -> Option<FunctionalZone> {
    [
        FunctionalZone::CoreAndSubCentre,
        FunctionalZone::PlainNewTowns,
        FunctionalZone::EcologicalConservation,
    ]
    .into_iter()
    .find(|z| zone_str(*z) == s)
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
        .map(|e| crate::encode::event_row(id, e))
        .collect::<Result<Vec<_>>>()?;
    crate::encode::insert_event_rows(c, &rows)
}

/// Writes the projection rows of one ticket (replacing what was there).
fn write_projection(c: &Connection, st: &TicketState) -> Result<()> {
    crate::encode::write_projection_rows(
        c,
        st.id,
        &crate::encode::ticket_row(st),
        &crate::encode::assignment_rows(st)?,
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
        let prior: Option<i64> = c
            .prepare_cached("SELECT ticket_id FROM idempotency WHERE user_name=?1 AND idem_key=?2")?
            .query_row(params![new.actor.user, key], |r| r.get(0))
            .optional()?;
        if let Some(id) = prior {
            let (state, events) = load_in(c, id)?.ok_or(StoreError::NotFound)?;
            return Ok(Created {
                state,
                events,
                replayed: true,
            });
        }
    }
    let id: i64 = c
        .prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets")?
        .query_row([], |r| r.get(0))?;
    let number = jiesu_domain::zone::public_number(id, new.now, zone_in(c)?);
    let kind = jiesu_domain::command::create(number, new.intake)?;
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
                    "INSERT INTO idempotency (user_name, idem_key, ticket_id, created_at) VALUES (?1,?2,?3,?4)",
                )?
                .execute(params![new.actor.user, key, id, fmt(new.now)])?;
    }
    Ok(Created {
        state,
        events,
        replayed: false,
    })
}

impl TicketStore for SqliteStore {
    fn replace_reference(&self, units: &[Unit], categories: &[Category]) -> Result<()> {
        let units = units.to_vec();
        let cats = categories.to_vec();
        self.write(move |c| {
            c.execute("DELETE FROM units", [])?;
            c.execute("DELETE FROM categories", [])?;
            let mut s = c.prepare_cached(
                "INSERT INTO units (code, name, kind, parent, population, zone, active) VALUES (?1,?2,?3,?4,?5,?6,?7)",
            )?;
            for u in &units {
                s.execute(params![
                    u.code,
                    u.name,
                    kind_str(u.kind),
                    u.parent,
                    u.population.map(|p| p as i64),
                    u.zone.map(zone_str),
                    u.active
                ])?;
            }
            let mut s = c.prepare_cached(
                "INSERT INTO categories (code, name, level, parent, domain, active) VALUES (?1,?2,?3,?4,?5,?6)",
            )?;
            for k in &cats {
                s.execute(params![
                    k.code,
                    k.name,
                    k.level,
                    k.parent,
                    k.domain.map(|d| d.as_str()),
                    k.active
                ])?;
            }
            Ok(())
        })
    }

    fn units(&self) -> Result<Vec<Unit>> {
        self.read(|c| {
            let mut s = c.prepare(
                "SELECT code, name, kind, parent, population, zone, active FROM units ORDER BY code",
            )?;
            let rows = s.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, bool>(6)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (code, name, kind, parent, pop, zone, active) = row?;
                out.push(Unit {
                    kind: UnitKind::parse(&kind)
                        .ok_or_else(|| StoreError::Db(format!("unit {code}: bad kind {kind}")))?,
                    code,
                    name,
                    parent,
                    population: pop.map(|p| p as u64),
                    zone: zone.as_deref().and_then(zone_parse),
                    active,
                });
            }
            Ok(out)
        })
    }

    fn categories(&self) -> Result<Vec<Category>> {
        self.read(|c| {
            let mut s = c.prepare(
                "SELECT code, name, level, parent, domain, active FROM categories ORDER BY code",
            )?;
            let rows = s.query_map([], |r| {
                Ok(Category {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    level: r.get(2)?,
                    parent: r.get(3)?,
                    domain: r
                        .get::<_, Option<String>>(4)?
                        .and_then(|d| LivelihoodDomain::ALL.into_iter().find(|x| x.as_str() == d)),
                    active: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn add_user(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
        unit: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let (u, h, r, unit) = (
            username.to_string(),
            password_hash.to_string(),
            role.to_string(),
            unit.map(str::to_string),
        );
        self.write(move |c| {
            let exists: Option<i64> = c
                .query_row("SELECT id FROM users WHERE username=?1", [&u], |r| r.get(0))
                .optional()?;
            if exists.is_some() {
                return Err(StoreError::Invalid {
                    field: "name".into(),
                    message: format!("a user named '{u}' already exists"),
                    message_zh: format!("用户名“{u}”已存在"),
                });
            }
            c.execute(
                "INSERT INTO users (username, password_hash, role, unit_code, created_at, active) VALUES (?1,?2,?3,?4,?5,1)",
                params![u, h, r, unit, fmt(now)],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>> {
        let u = username.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT id, username, password_hash, role, unit_code, active FROM users WHERE username=?1",
                [u],
                user_row,
            )
            .optional()?)
        })
    }

    fn create_session(
        &self,
        user_id: i64,
        token_hash: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        let t = token_hash.to_string();
        self.write(move |c| {
            c.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1,?2,?3,?4)",
                params![t, user_id, fmt(now), fmt(expires)],
            )?;
            Ok(())
        })
    }

    fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<UserRecord>> {
        let t = token_hash.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT u.id, u.username, u.password_hash, u.role, u.unit_code, u.active FROM sessions s
                 JOIN users u ON u.id = s.user_id WHERE s.token_hash=?1 AND s.expires_at > ?2 AND u.active = 1",
                params![t, fmt(now)],
                user_row,
            )
            .optional()?)
        })
    }

    fn create_ticket(&self, new: NewTicket) -> Result<Created> {
        self.write(move |c| create_in(c, new))
    }

    fn update_ticket(&self, id: TicketId, change: Change) -> Result<(TicketState, Vec<Event>)> {
        self.write(move |c| apply_change(c, id, change))
    }

    fn update_two(
        &self,
        a: (TicketId, Change),
        b: (TicketId, Change),
    ) -> Result<(TicketState, TicketState)> {
        self.write(move |c| {
            let (sa, _) = apply_change(c, a.0, a.1)?;
            let (sb, _) = apply_change(c, b.0, b.1)?;
            Ok((sa, sb))
        })
    }

    fn load_ticket(&self, id: TicketId) -> Result<Option<(TicketState, Vec<Event>)>> {
        self.read(|c| load_in(c, id))
    }

    fn ticket_id_by_number(&self, number: &str) -> Result<Option<TicketId>> {
        let n = number.to_string();
        self.read(move |c| {
            Ok(
                c.query_row("SELECT id FROM tickets WHERE number=?1", [n], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    fn list_tickets(&self, q: &TicketQuery) -> Result<Page<TicketSummary>> {
        let q = q.clone();
        self.read(move |c| {
            let mut wh: Vec<String> = vec![];
            let mut args: Vec<rusqlite::types::Value> = vec![];
            let mut arg = |v: rusqlite::types::Value| {
                args.push(v);
                format!("?{}", args.len())
            };
            if let Some(units) = &q.units {
                let json = serde_json::to_string(units)?;
                let p = arg(json.into());
                let active = if q.active_only {
                    " AND a.state IN ('dispatched','signed','responded')"
                } else {
                    " AND a.state <> 'returned'"
                };
                wh.push(format!(
                    "t.id IN (SELECT a.ticket_id FROM assignments a WHERE a.unit_code IN (SELECT value FROM json_each({p})){active})"
                ));
            }
            if let Some(s) = &q.status {
                let p = arg(s.clone().into());
                wh.push(format!("t.status = {p}"));
            }
            if let Some(s) = &q.category_prefix {
                let p = arg(format!("{s}%").into());
                wh.push(format!("t.category_code LIKE {p}"));
            }
            if let Some(s) = &q.district {
                let p = arg(s.clone().into());
                wh.push(format!("t.district_code = {p}"));
            }
            if let Some(s) = &q.street {
                let p = arg(s.clone().into());
                wh.push(format!("t.street_code = {p}"));
            }
            if let Some(t) = q.from {
                let p = arg(fmt(t).into());
                wh.push(format!("t.created_at >= {p}"));
            }
            if let Some(t) = q.to {
                let p = arg(fmt(t).into());
                wh.push(format!("t.created_at < {p}"));
            }
            if let Some(t) = q.overdue_at {
                let p = arg(fmt(t).into());
                wh.push(format!(
                    "t.status IN ('dispatched','in_progress','return_review') AND t.finish_deadline < {p}"
                ));
            }
            let where_sql = if wh.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", wh.join(" AND "))
            };
            let total: i64 = c.query_row(
                &format!("SELECT COUNT(*) FROM tickets t {where_sql}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let size = q.page_size.clamp(1, 500);
            let page = q.page.max(1);
            let order = if q.by_deadline {
                "CASE WHEN t.finish_deadline IS NULL THEN 1 ELSE 0 END, t.finish_deadline ASC, t.id ASC"
            } else {
                "t.id DESC"
            };
            let sql = format!(
                "SELECT t.id, t.number, t.created_at, t.channel, t.type, t.category_code, t.district_code, t.street_code,
                        t.status, t.title, t.lead_unit, t.finish_deadline
                 FROM tickets t {where_sql} ORDER BY {order} LIMIT {size} OFFSET {}",
                (page as u64 - 1) * size as u64
            );
            let mut s = c.prepare(&sql)?;
            let items = s
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    Ok(TicketSummary {
                        id: r.get(0)?,
                        number: r.get(1)?,
                        created_at: r.get(2)?,
                        channel: r.get(3)?,
                        request_type: r.get(4)?,
                        category_code: r.get(5)?,
                        district_code: r.get(6)?,
                        street_code: r.get(7)?,
                        status: r.get(8)?,
                        title: r.get(9)?,
                        lead_unit: r.get(10)?,
                        finish_deadline: r.get(11)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Page {
                items,
                total: total as u64,
                page,
                page_size: size,
            })
        })
    }

    fn import(&self, tickets: Vec<(TicketState, Vec<Event>)>) -> Result<()> {
        let batch = tickets;
        self.write(move |c| {
            for (st, events) in &batch {
                insert_events(c, st.id, events)?;
                write_projection(c, st)?;
            }
            Ok(())
        })
    }

    fn for_each_fact(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut dyn FnMut(AssignmentFact) -> Result<()>,
    ) -> Result<u64> {
        self.read(|c| {
            let mut s = c.prepare(
                "SELECT t.id, t.number, a.unit_code, a.role, t.type, t.category_code, t.district_code, t.street_code,
                        a.tier, a.state, a.round, t.first_dispatched_at, a.dispatched_at, a.responded_at,
                        a.respond_deadline, a.finished_at, a.finish_deadline, t.cb_contacted, t.cb_resolution,
                        t.cb_satisfaction, t.exempt_reason
                 FROM tickets t JOIN assignments a ON a.ticket_id = t.id
                 WHERE t.first_dispatched_at >= ?1 AND t.first_dispatched_at < ?2
                 ORDER BY t.id, a.idx",
            )?;
            let mut rows = s.query(params![fmt(from), fmt(to)])?;
            let mut n = 0;
            while let Some(r) = rows.next()? {
                f(AssignmentFact {
                    ticket_id: r.get(0)?,
                    number: r.get(1)?,
                    unit_code: r.get(2)?,
                    role: r.get(3)?,
                    request_type: r.get(4)?,
                    category_code: r.get(5)?,
                    district_code: r.get(6)?,
                    street_code: r.get(7)?,
                    tier: r.get(8)?,
                    state: r.get(9)?,
                    round: r.get(10)?,
                    first_dispatched_at: r.get(11)?,
                    dispatched_at: r.get(12)?,
                    responded_at: r.get(13)?,
                    respond_deadline: r.get(14)?,
                    finished_at: r.get(15)?,
                    finish_deadline: r.get(16)?,
                    contacted: r.get(17)?,
                    resolution: r.get(18)?,
                    satisfaction: r.get(19)?,
                    exempt_reason: r.get(20)?,
                })?;
                n += 1;
            }
            Ok(n)
        })
    }

    fn save_catalogue(
        &self,
        status: &str,
        csv: &str,
        rules: usize,
        user: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let (st, csv, user, note) = (
            status.to_string(),
            csv.to_string(),
            user.to_string(),
            note.map(str::to_string),
        );
        self.write(move |c| {
            if st == "published" {
                c.execute("UPDATE catalogues SET status='superseded' WHERE status='published'", [])?;
            }
            // One draft at a time: a newer draft (an upload or an edit) replaces the previous one.
            if st == "draft" {
                c.execute("UPDATE catalogues SET status='replaced' WHERE status='draft'", [])?;
            }
            c.execute(
                "INSERT INTO catalogues (status, created_at, created_by, note, rules, csv) VALUES (?1,?2,?3,?4,?5,?6)",
                params![st, fmt(now), user, note, rules as i64, csv],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    fn catalogue(&self, status: &str) -> Result<Option<CatalogueVersion>> {
        let st = status.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT version, status, created_at, created_by, note, rules, csv FROM catalogues
                 WHERE status=?1 ORDER BY version DESC LIMIT 1",
                [st],
                |r| {
                    Ok(CatalogueVersion {
                        version: r.get(0)?,
                        status: r.get(1)?,
                        created_at: r.get(2)?,
                        created_by: r.get(3)?,
                        note: r.get(4)?,
                        rules: r.get::<_, i64>(5)? as usize,
                        csv: r.get(6)?,
                    })
                },
            )
            .optional()?)
        })
    }

    fn catalogue_history(&self) -> Result<Vec<CatalogueVersion>> {
        self.read(|c| {
            let mut s = c.prepare(
                "SELECT version, status, created_at, created_by, note, rules FROM catalogues ORDER BY version DESC",
            )?;
            let rows = s.query_map([], |r| {
                Ok(CatalogueVersion {
                    version: r.get(0)?,
                    status: r.get(1)?,
                    created_at: r.get(2)?,
                    created_by: r.get(3)?,
                    note: r.get(4)?,
                    rules: r.get::<_, i64>(5)? as usize,
                    csv: String::new(),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn publish_catalogue(&self, version: i64) -> Result<()> {
        self.write(move |c| {
            let n = c.execute("UPDATE catalogues SET status='published' WHERE version=?1 AND status='draft'", [version])?;
            if n == 0 {
                return Err(StoreError::Invalid {
                    field: "version".into(),
                    message: format!("no draft catalogue version {version}"),
                    message_zh: format!("草稿版本 {version} 不存在"),
                });
            }
            c.execute("UPDATE catalogues SET status='superseded' WHERE status='published' AND version<>?1", [version])?;
            Ok(())
        })
    }

    fn open_assignments(&self, f: &mut dyn FnMut(OpenAssignment) -> Result<()>) -> Result<u64> {
        self.read(|c| {
            let mut s = c.prepare(
                "SELECT a.ticket_id, a.unit_code, a.role, a.state, a.dispatched_at, a.sign_deadline, a.respond_deadline,
                        a.finish_deadline, a.signed_at, a.responded_at, a.extensions_granted, a.reminded, t.district_code,
                        a.tier, t.category_code
                 FROM assignments a JOIN tickets t ON t.id = a.ticket_id
                 WHERE a.state IN ('dispatched','signed','responded') AND a.paused_since IS NULL",
            )?;
            let mut rows = s.query([])?;
            let mut n = 0;
            while let Some(r) = rows.next()? {
                let reminded: String = r.get(11)?;
                f(OpenAssignment {
                    ticket_id: r.get(0)?,
                    unit_code: r.get(1)?,
                    role: r.get(2)?,
                    state: r.get(3)?,
                    dispatched_at: r.get(4)?,
                    sign_deadline: r.get(5)?,
                    respond_deadline: r.get(6)?,
                    finish_deadline: r.get(7)?,
                    signed_at: r.get(8)?,
                    responded_at: r.get(9)?,
                    extensions_granted: r.get(10)?,
                    reminders: serde_json::from_str(&reminded).unwrap_or_default(),
                    district_code: r.get(12)?,
                    tier: r.get(13)?,
                    category_code: r.get(14)?,
                })?;
                n += 1;
            }
            Ok(n)
        })
    }

    fn unit_events(
        &self,
        units: &[String],
        kinds: &[&str],
        limit: u32,
    ) -> Result<Vec<(TicketId, String, Event)>> {
        let units = serde_json::to_string(units)?;
        let kinds = serde_json::to_string(kinds)?;
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT e.ticket_id, t.number, e.seq, e.at, e.actor, e.role, e.unit_code, e.payload FROM events e
                 JOIN tickets t ON t.id = e.ticket_id
                 WHERE e.kind IN (SELECT value FROM json_each(?2))
                   AND (e.unit_code IN (SELECT value FROM json_each(?1))
                        OR json_extract(e.payload, '$.unit') IN (SELECT value FROM json_each(?1)))
                 ORDER BY e.at DESC LIMIT ?3",
            )?;
            let mut rows = s.query(params![units, kinds, limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(numbered_event(r, 0)?);
            }
            Ok(out)
        })
    }

    fn recent_intakes(&self, limit: u32) -> Result<Vec<jiesu_domain::ticket::Intake>> {
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT payload FROM events WHERE kind='created' ORDER BY ticket_id DESC LIMIT ?1",
            )?;
            let rows = s.query_map([limit], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for row in rows {
                if let EventKind::Created { intake, .. } = serde_json::from_str(&row?)? {
                    out.push(intake);
                }
            }
            Ok(out)
        })
    }

    fn attach(&self, row: AttachmentRow, change: Change) -> Result<TicketState> {
        self.write(move |c| {
            let (st, _) = apply_change(c, row.ticket_id, change)?;
            c.prepare_cached(
                "INSERT INTO attachments (id, ticket_id, file_name, content_type, size, stored_path, created_at)
                 VALUES (?1,?2,?3,?4,?5,?6,?7)",
            )?
            .execute(params![row.id, row.ticket_id, row.file_name, row.content_type, row.size as i64, row.stored_path, row.created_at])?;
            Ok(st)
        })
    }

    fn attachment(&self, id: &str) -> Result<Option<AttachmentRow>> {
        let id = id.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT id, ticket_id, file_name, content_type, size, stored_path, created_at FROM attachments WHERE id=?1",
                [id],
                |r| {
                    Ok(AttachmentRow {
                        id: r.get(0)?,
                        ticket_id: r.get(1)?,
                        file_name: r.get(2)?,
                        content_type: r.get(3)?,
                        size: r.get::<_, i64>(4)? as u64,
                        stored_path: r.get(5)?,
                        created_at: r.get(6)?,
                    })
                },
            )
            .optional()?)
        })
    }

    fn audit(
        &self,
        user: &str,
        action: &str,
        ticket: Option<TicketId>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (u, a, d) = (user.to_string(), action.to_string(), detail.to_string());
        self.write(move |c| {
            c.prepare_cached("INSERT INTO audit_log (at, user_name, action, ticket_id, detail) VALUES (?1,?2,?3,?4,?5)")?
                .execute(params![fmt(now), u, a, ticket, d])?;
            Ok(())
        })
    }
}

fn user_row(r: &rusqlite::Row) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: r.get(0)?,
        username: r.get(1)?,
        password_hash: r.get(2)?,
        role: r.get(3)?,
        unit_code: r.get(4)?,
        active: r.get(5)?,
    })
}

impl SqliteStore {
    /// Dispatch accuracy (share of lead dispatches not returned-and-approved), overall and by
    /// dispatcher, duty-catalogue rule (or "manual"), level-1 category, unit and unit kind.
    pub fn dispatch_accuracy(&self) -> Result<serde_json::Value> {
        self.read(|c| {
            let group = |sql: &str| -> Result<serde_json::Value> {
                let mut s = c.prepare(sql)?;
                let rows = s.query_map([], |r| {
                    Ok((r.get::<_, Option<String>>(0)?.unwrap_or_default(), r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                })?;
                let mut items = Vec::new();
                for row in rows {
                    let (k, n, ret) = row?;
                    items.push(serde_json::json!({"key": k, "dispatches": n, "returned": ret,
                        "accuracy": if n > 0 { (n - ret) as f64 / n as f64 } else { 0.0 }}));
                }
                Ok(serde_json::Value::Array(items))
            };
            let (n, ret): (i64, i64) = c.query_row(
                "SELECT COUNT(*), COALESCE(SUM(state='returned'),0) FROM assignments WHERE role='lead'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(serde_json::json!({
                "overall": if n > 0 { (n - ret) as f64 / n as f64 } else { 0.0 },
                "dispatches": n, "returned": ret,
                "by_dispatcher": group("SELECT dispatched_by, COUNT(*), SUM(state='returned') FROM assignments WHERE role='lead' GROUP BY 1 ORDER BY 2 DESC LIMIT 100")?,
                "by_rule": group("SELECT COALESCE(json_extract(e.payload,'$.rule'),'manual'), COUNT(*), SUM(a.state='returned')
                                  FROM assignments a JOIN events e ON e.ticket_id=a.ticket_id AND e.kind='dispatched' AND e.at=a.dispatched_at
                                  WHERE a.role='lead' GROUP BY 1 ORDER BY 2 DESC LIMIT 100")?,
                "by_category": group("SELECT substr(t.category_code,1,2), COUNT(*), SUM(a.state='returned') FROM assignments a
                                      JOIN tickets t ON t.id=a.ticket_id WHERE a.role='lead' GROUP BY 1 ORDER BY 2 DESC")?,
                "by_unit_kind": group("SELECT u.kind, COUNT(*), SUM(a.state='returned') FROM assignments a
                                       JOIN units u ON u.code=a.unit_code WHERE a.role='lead' GROUP BY 1 ORDER BY 2 DESC")?,
                "by_unit": group("SELECT unit_code, COUNT(*), SUM(state='returned') FROM assignments WHERE role='lead' GROUP BY 1 ORDER BY 2 DESC LIMIT 200")?,
            }))
        })
    }
}

impl SqliteStore {
    /// Events after the given log position (row id), oldest first, with their ticket numbers: the
    /// outbox of notifications.
    pub fn events_after(
        &self,
        rowid: i64,
        limit: u32,
    ) -> Result<Vec<(i64, TicketId, String, Event)>> {
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT e.rowid, e.ticket_id, t.number, e.seq, e.at, e.actor, e.role, e.unit_code, e.payload
                 FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE e.rowid > ?1 ORDER BY e.rowid LIMIT ?2",
            )?;
            let mut rows = s.query(params![rowid, limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let (id, number, e) = numbered_event(r, 1)?;
                out.push((r.get(0)?, id, number, e));
            }
            Ok(out)
        })
    }
}

impl SqliteStore {
    /// Stores a self-rating link for the ticket's current round.
    pub fn save_rating_token(
        &self,
        token_hash: &str,
        ticket: TicketId,
        round: u32,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        let t = token_hash.to_string();
        self.write(move |c| {
            c.execute(
                "INSERT INTO rating_tokens (token_hash, ticket_id, round, created_at, expires_at) VALUES (?1,?2,?3,?4,?5)",
                params![t, ticket, round, fmt(now), fmt(expires)],
            )?;
            Ok(())
        })
    }

    /// The ticket and round of a valid, unused, unexpired link.
    pub fn rating_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(TicketId, u32)>> {
        let t = token_hash.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT ticket_id, round FROM rating_tokens WHERE token_hash=?1 AND used_at IS NULL AND expires_at > ?2",
                params![t, fmt(now)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })
    }

    /// Records the citizen's rating (run by `change`) and spends the link, in one transaction.
    pub fn use_rating_token(
        &self,
        token_hash: &str,
        ticket: TicketId,
        change: Change,
        now: DateTime<Utc>,
    ) -> Result<TicketState> {
        let t = token_hash.to_string();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE rating_tokens SET used_at=?2 WHERE token_hash=?1 AND used_at IS NULL",
                params![t, fmt(now)],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(apply_change(c, ticket, change)?.0)
        })
    }

    /// Praise (表扬) requests credited to the units they praise, created in `[from, to)`.
    pub fn praise_by_unit(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>> {
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT json_extract(payload, '$.intake.praised_unit') u, COUNT(*) FROM events
                 WHERE kind='created' AND at >= ?1 AND at < ?2 AND json_extract(payload, '$.intake.type')='praise'
                   AND u IS NOT NULL GROUP BY u ORDER BY 2 DESC",
            )?;
            let rows = s.query_map(params![fmt(from), fmt(to)], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

impl SqliteStore {
    /// Knowledge-base use in `[from, to)`: (tickets taken in, answered directly, per-article counts).
    #[allow(clippy::type_complexity)]
    pub fn kb_usage(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(i64, i64, Vec<(String, i64)>)> {
        self.read(move |c| {
            let (f, t) = (fmt(from), fmt(to));
            let created: i64 = c.query_row(
                "SELECT COUNT(*) FROM events WHERE kind='created' AND at >= ?1 AND at < ?2",
                params![f, t],
                |r| r.get(0),
            )?;
            let answered: i64 = c.query_row(
                "SELECT COUNT(*) FROM events WHERE kind='answered_directly' AND at >= ?1 AND at < ?2",
                params![f, t],
                |r| r.get(0),
            )?;
            let mut s = c.prepare(
                "SELECT json_extract(payload, '$.article_id') a, COUNT(*) FROM events
                 WHERE kind='answered_directly' AND at >= ?1 AND at < ?2 AND a IS NOT NULL
                 GROUP BY a ORDER BY 2 DESC, a",
            )?;
            let rows = s.query_map(params![f, t], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok((created, answered, rows.collect::<rusqlite::Result<_>>()?))
        })
    }
}
