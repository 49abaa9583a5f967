//! `jiesu migrate --from city.db --to postgres://…`: copies a whole SQLite city into PostgreSQL,
//! table by table with `COPY` (the schemas are the same, so rows are copied as they are: event
//! hashes and sealed personal data unchanged, the same key file opens them), verifies every
//! table's row count and a digest of every ticket's event chain, and can resume after an
//! interruption (a table already complete is skipped; the event log continues after the last
//! position copied, in committed chunks).

use super::conn::{Conn, RowExt};
use super::*;
use rusqlite::types::Value;
use rusqlite::OptionalExtension;
use sha2::{Digest, Sha256};

/// What a migration did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrateReport {
    /// (table, rows in the source, rows copied now)
    pub tables: Vec<(String, i64, i64)>,
    /// The digest of every ticket's event chain (`ticket_id, seq, hash` in order), equal on both.
    pub events_digest: String,
    pub seconds: f64,
}

/// Rows per COPY of the event log (each chunk its own transaction, so a resume loses at most one).
const CHUNK: i64 = 50_000;

/// Tables with an identity id in PostgreSQL, whose sequence must move past the copied ids.
const IDENTITY: &[&str] = &[
    "users",
    "audit_log",
    "callback_rechecks",
    "reports",
    "alerts",
    "alert_steps",
    "partners",
    "dept_keys",
    "dept_webhooks",
    "saved_exports",
    "export_runs",
    "street_interviews",
    "street_items",
    "street_changes",
];

fn source_tables(src: &rusqlite::Connection) -> Result<Vec<(String, Vec<String>)>> {
    let mut names: Vec<String> = src
        .prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // parents before the rows that refer to them
    names.sort_by_key(|n| (n == "alert_steps", n.clone()));
    names
        .into_iter()
        .map(|t| {
            let cols: Vec<String> = src
                .prepare(&format!(
                    "SELECT name FROM pragma_table_info('{t}') ORDER BY cid"
                ))?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok((t, cols))
        })
        .collect()
}

fn count_pg(c: &mut Conn, table: &str) -> Result<i64> {
    c.query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])?
        .get_i64(0)
}

fn digest_sqlite(src: &rusqlite::Connection) -> Result<String> {
    let mut h = Sha256::new();
    let mut s = src.prepare("SELECT ticket_id, seq, hash FROM events ORDER BY ticket_id, seq")?;
    let mut rows = s.query([])?;
    while let Some(r) = rows.next()? {
        h.update(r.get::<_, i64>(0)?.to_le_bytes());
        h.update(r.get::<_, i64>(1)?.to_le_bytes());
        h.update(r.get::<_, Option<Vec<u8>>>(2)?.unwrap_or_default());
    }
    Ok(hex_of(&h.finalize()))
}

fn digest_pg(c: &mut Conn) -> Result<String> {
    let mut h = Sha256::new();
    c.for_each(
        "SELECT ticket_id, seq, hash FROM events ORDER BY ticket_id, seq",
        &[],
        &mut |r| {
            h.update(r.get_i64(0)?.to_le_bytes());
            h.update(r.get_i64(1)?.to_le_bytes());
            h.update(r.get_opt_blob(2)?.unwrap_or_default());
            Ok(())
        },
    )?;
    Ok(hex_of(&h.finalize()))
}

/// Copies the SQLite city at `from` into the PostgreSQL database at `to` (see the module docs).
/// The target must be empty or a migration of the same source interrupted before;
/// `progress(table, copied, total)` is called as rows are copied.
pub fn migrate_from_sqlite(
    from: &Path,
    to: &str,
    progress: &mut dyn FnMut(&str, i64, i64),
) -> Result<MigrateReport> {
    off_runtime(|| migrate_inner(from, to, progress))
}

fn migrate_inner(
    from: &Path,
    to: &str,
    progress: &mut dyn FnMut(&str, i64, i64),
) -> Result<MigrateReport> {
    let t0 = std::time::Instant::now();
    if !from.exists() {
        return Err(StoreError::Invalid {
            field: "--from".into(),
            message: format!("{} does not exist", from.display()),
            message_zh: format!("{} 不存在", from.display()),
        });
    }
    // bring the source up to the current schema first (older files gain their new columns)
    drop(crate::SqliteStore::open_with(
        from,
        StoreOptions {
            durable: true,
            keys: KeySource::Ring(Arc::new(crate::crypt::Keyring::generate())),
        },
    )?);
    let src = rusqlite::Connection::open_with_flags(
        from,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let config: postgres::Config = to.parse().map_err(|e| StoreError::Invalid {
        field: "--to".into(),
        message: format!("{} is not a PostgreSQL URL: {e}", shown(to)),
        message_zh: format!("{} 不是有效的 PostgreSQL 地址：{e}", shown(to)),
    })?;
    let mut c = connect(&config)?;
    migrate(&mut c)?;
    // the source's identity: its path and the hash of its first event
    let first: Option<Vec<u8>> = src
        .query_row("SELECT hash FROM events ORDER BY pos LIMIT 1", [], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    let identity = format!(
        "{}#{}",
        from.canonicalize().unwrap_or(from.to_path_buf()).display(),
        hex_of(&first.unwrap_or_default())
    );
    let before = c
        .query_opt("SELECT value FROM meta WHERE key='migration_source'", &[])?
        .map(|r| r.get_str(0))
        .transpose()?;
    let holds = c
        .query_one(
            "SELECT (SELECT COUNT(*) FROM units) + (SELECT COUNT(*) FROM tickets)",
            &[],
        )?
        .get_i64(0)?
        > 0;
    match before {
        Some(b) if b != identity => {
            return Err(StoreError::Invalid {
                field: "--to".into(),
                message: format!(
                    "{} holds a migration of another city ({b}); use an empty database",
                    shown(to)
                ),
                message_zh: format!(
                    "{} 中已有另一城市的迁移数据（{b}）；请使用空数据库",
                    shown(to)
                ),
            })
        }
        None if holds => {
            return Err(StoreError::Invalid {
                field: "--to".into(),
                message: format!(
                    "{} already holds a city; migrate into an empty database (nothing was changed)",
                    shown(to)
                ),
                message_zh: format!(
                    "{} 中已有城市数据；请迁移到空数据库（未做任何修改）",
                    shown(to)
                ),
            })
        }
        _ => {}
    }
    c.exec(
        "INSERT INTO meta (key, value) VALUES ('migration_source', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &crate::pv![&identity],
    )?;
    // a consistent snapshot of the source for the whole copy
    src.execute_batch("BEGIN")?;
    let mut report = Vec::new();
    for (table, cols) in source_tables(&src)? {
        if table == "meta" {
            continue; // copied last: it marks the migration complete
        }
        let total: i64 = src.query_row(&format!("SELECT COUNT(*) FROM \"{table}\""), [], |r| {
            r.get(0)
        })?;
        let there = count_pg(&mut c, &table)?;
        if there == total {
            report.push((table, total, 0));
            continue;
        }
        let collist = cols.join(", ");
        let copied = if table == "events" {
            copy_events(&src, &mut c, &collist, total, there, progress)?
        } else {
            c.batch("BEGIN")?;
            let r = (|| -> Result<i64> {
                c.exec(&format!("DELETE FROM {table}"), &[])?;
                let rows = read_rows(
                    &src,
                    &format!("SELECT {collist} FROM \"{table}\""),
                    cols.len(),
                )?;
                c.copy_in(&format!("{table} ({collist})"), &rows)?;
                Ok(rows.len() as i64)
            })();
            match r {
                Ok(n) => {
                    c.batch("COMMIT")?;
                    n
                }
                Err(e) => {
                    let _ = c.batch("ROLLBACK");
                    return Err(e);
                }
            }
        };
        progress(&table, copied, total);
        report.push((table, total, copied));
    }
    for t in IDENTITY {
        c.batch(&format!(
            "SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT MAX(id) FROM {t}), 0) + 1, false)"
        ))?;
    }
    // meta last (schema_version is already there from the migrations)
    let meta = read_rows(&src, "SELECT key, value FROM meta", 2)?;
    let meta_total = meta.len() as i64 + 1; // and migration_source
    c.batch("BEGIN")?;
    for row in &meta {
        c.exec(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &pvs(row),
        )?;
    }
    c.batch("COMMIT")?;
    report.push(("meta".into(), meta_total, meta.len() as i64));
    // verify: the same number of rows in every table, the same chains
    for (table, total, _) in &report {
        let there = count_pg(&mut c, table)?;
        if there != *total {
            return Err(StoreError::Conflict(format!(
                "after copying, {table} has {there} rows in PostgreSQL and {total} in {}",
                from.display()
            )));
        }
    }
    let a = digest_sqlite(&src)?;
    let b = digest_pg(&mut c)?;
    if a != b {
        return Err(StoreError::Conflict(format!(
            "the event chains differ after copying (SQLite {a}, PostgreSQL {b})"
        )));
    }
    src.execute_batch("COMMIT")?;
    c.batch("ANALYZE")?;
    Ok(MigrateReport {
        tables: report,
        events_digest: a,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

fn read_rows(src: &rusqlite::Connection, sql: &str, n: usize) -> Result<Vec<Vec<Value>>> {
    let mut s = src.prepare(sql)?;
    let rows = s
        .query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())?
        .collect::<rusqlite::Result<Vec<Vec<Value>>>>()?;
    Ok(rows)
}

/// The place of the `at` column in a column list.
fn cols_at(collist: &str) -> usize {
    collist
        .split(',')
        .position(|c| c.trim() == "at")
        .unwrap_or(2)
}

/// The event log in chunks by log position, each committed, continuing after what is there.
fn copy_events(
    src: &rusqlite::Connection,
    c: &mut Conn,
    collist: &str,
    total: i64,
    there: i64,
    progress: &mut dyn FnMut(&str, i64, i64),
) -> Result<i64> {
    let mut next = c
        .query_one("SELECT COALESCE(MAX(pos) + 1, 0) FROM events", &[])?
        .get_i64(0)?;
    let ncols = collist.split(',').count();
    let mut copied = 0;
    loop {
        let rows = {
            let mut s = src.prepare_cached(&format!(
                "SELECT {collist} FROM events WHERE pos >= ?1 ORDER BY pos LIMIT ?2"
            ))?;
            let rows = s
                .query_map(rusqlite::params![next, CHUNK], |r| {
                    (0..ncols).map(|i| r.get::<_, Value>(i)).collect()
                })?
                .collect::<rusqlite::Result<Vec<Vec<Value>>>>()?;
            rows
        };
        if rows.is_empty() {
            break;
        }
        c.batch("BEGIN")?;
        let at = cols_at(collist);
        let ats: Vec<String> = rows
            .iter()
            .map(|r| match &r[at] {
                Value::Text(s) => s.clone(),
                _ => String::new(),
            })
            .collect();
        if let Err(e) = ensure_partitions(c, ats.iter().map(String::as_str))
            .and_then(|_| c.copy_in(&format!("events ({collist})"), &rows))
        {
            c.partitions.clear();
            let _ = c.batch("ROLLBACK");
            return Err(e);
        }
        c.batch("COMMIT")?;
        copied += rows.len() as i64;
        next = c
            .query_one("SELECT COALESCE(MAX(pos) + 1, 0) FROM events", &[])?
            .get_i64(0)?;
        progress("events", there + copied, total);
    }
    Ok(copied)
}
