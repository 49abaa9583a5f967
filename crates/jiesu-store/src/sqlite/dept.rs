//! Department keys, webhooks and saved exports in SQLite.

use super::*;
use chrono::NaiveDate;

fn time(s: String) -> rusqlite::Result<DateTime<Utc>> {
    crate::time::parse(&s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("bad time {s}").into(),
        )
    })
}

fn opt_time(s: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    s.map(time).transpose()
}

fn day(s: String) -> rusqlite::Result<NaiveDate> {
    s.parse().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("bad day {s}").into(),
        )
    })
}

const KEY_COLS: &str =
    "id, name, unit_code, role, created_at, created_by, revoked_at, last_used_at, uses";

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeptKey> {
    Ok(DeptKey {
        id: r.get(0)?,
        name: r.get(1)?,
        unit_code: r.get(2)?,
        role: r.get(3)?,
        created_at: time(r.get(4)?)?,
        created_by: r.get(5)?,
        revoked_at: opt_time(r.get(6)?)?,
        last_used_at: opt_time(r.get(7)?)?,
        uses: r.get(8)?,
    })
}

const HOOK_COLS: &str = "id, unit_code, url, secret, created_at, revoked_at, cursor";

fn hook_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeptWebhook> {
    Ok(DeptWebhook {
        id: r.get(0)?,
        unit_code: r.get(1)?,
        url: r.get(2)?,
        secret: r.get(3)?,
        created_at: time(r.get(4)?)?,
        revoked_at: opt_time(r.get(5)?)?,
        cursor: r.get(6)?,
    })
}

const EXPORT_COLS: &str =
    "id, unit_code, name, columns, filters, format, schedule, created_at, created_by";

fn export_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SavedExport> {
    let cols: String = r.get(3)?;
    Ok(SavedExport {
        id: r.get(0)?,
        unit_code: r.get(1)?,
        name: r.get(2)?,
        columns: cols
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        filters: r.get(4)?,
        format: r.get(5)?,
        schedule: r.get(6)?,
        created_at: time(r.get(7)?)?,
        created_by: r.get(8)?,
    })
}

const RUN_COLS: &str = "id, export_id, period, from_day, to_day, format, rows_count, generated_at";

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExportRun> {
    Ok(ExportRun {
        id: r.get(0)?,
        export_id: r.get(1)?,
        period: r.get(2)?,
        from: day(r.get(3)?)?,
        to: day(r.get(4)?)?,
        format: r.get(5)?,
        rows: r.get(6)?,
        generated_at: time(r.get(7)?)?,
    })
}

impl DeptStore for SqliteStore {
    fn add_dept_key(
        &self,
        name: &str,
        unit_code: &str,
        role: &str,
        key_hash: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<DeptKey> {
        let (n, u, r, k, b) = (
            name.to_string(),
            unit_code.to_string(),
            role.to_string(),
            key_hash.to_string(),
            by.to_string(),
        );
        self.write(move |c| {
            c.execute(
                "INSERT INTO dept_keys (name, unit_code, role, key_hash, created_at, created_by) VALUES (?1,?2,?3,?4,?5,?6)",
                params![n, u, r, k, fmt(now), b],
            )?;
            let id = c.last_insert_rowid();
            Ok(c.query_row(
                &format!("SELECT {KEY_COLS} FROM dept_keys WHERE id=?1"),
                params![id],
                key_row,
            )?)
        })
    }

    fn dept_key_by_hash(&self, key_hash: &str) -> Result<Option<DeptKey>> {
        let k = key_hash.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {KEY_COLS} FROM dept_keys WHERE key_hash=?1"),
                params![k],
                key_row,
            )
            .optional()?)
        })
    }

    fn dept_keys(&self) -> Result<Vec<DeptKey>> {
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {KEY_COLS} FROM dept_keys ORDER BY id DESC"
            ))?;
            let rows = s.query_map([], key_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn revoke_dept_key(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        self.write(move |c| {
            Ok(c.execute(
                "UPDATE dept_keys SET revoked_at=?2 WHERE id=?1 AND revoked_at IS NULL",
                params![id, fmt(now)],
            )? == 1)
        })
    }

    fn record_key_read(&self, id: i64, what: &str, now: DateTime<Utc>) -> Result<()> {
        let w = what.to_string();
        self.write(move |c| {
            c.execute(
                "UPDATE dept_keys SET uses = uses + 1, last_used_at=?2 WHERE id=?1",
                params![id, fmt(now)],
            )?;
            c.execute(
                "INSERT INTO audit_log (at, user_name, action, ticket_id, detail) VALUES (?1,?2,'api_read',NULL,?3)",
                params![fmt(now), format!("key:{id}"), w],
            )?;
            Ok(())
        })
    }

    fn key_reads(&self, id: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT at, user_name, action, ticket_id, COALESCE(detail, '') FROM audit_log WHERE user_name=?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = s.query_map(params![format!("key:{id}"), limit], |r| {
                Ok(AuditEntry {
                    at: time(r.get(0)?)?,
                    user: r.get(1)?,
                    action: r.get(2)?,
                    ticket: r.get(3)?,
                    detail: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn revoke_partner(&self, id: i64) -> Result<bool> {
        self.write(move |c| {
            Ok(c.execute(
                "UPDATE partners SET key_hash = 'revoked:' || id WHERE id=?1 AND key_hash NOT LIKE 'revoked:%'",
                params![id],
            )? == 1)
        })
    }

    fn partner_revoked(&self, id: i64) -> Result<bool> {
        self.read(move |c| {
            let h: Option<String> = c
                .query_row(
                    "SELECT key_hash FROM partners WHERE id=?1",
                    params![id],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(h.is_some_and(|h| h.starts_with("revoked:")))
        })
    }

    fn add_dept_webhook(
        &self,
        unit_code: &str,
        url: &str,
        secret: &str,
        cursor: i64,
        now: DateTime<Utc>,
    ) -> Result<DeptWebhook> {
        let (u, l, s) = (unit_code.to_string(), url.to_string(), secret.to_string());
        self.write(move |c| {
            c.execute(
                "INSERT INTO dept_webhooks (unit_code, url, secret, created_at, cursor) VALUES (?1,?2,?3,?4,?5)",
                params![u, l, s, fmt(now), cursor],
            )?;
            let id = c.last_insert_rowid();
            Ok(c.query_row(
                &format!("SELECT {HOOK_COLS} FROM dept_webhooks WHERE id=?1"),
                params![id],
                hook_row,
            )?)
        })
    }

    fn dept_webhooks(&self) -> Result<Vec<DeptWebhook>> {
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {HOOK_COLS} FROM dept_webhooks ORDER BY id DESC"
            ))?;
            let rows = s.query_map([], hook_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn revoke_dept_webhook(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        self.write(move |c| {
            Ok(c.execute(
                "UPDATE dept_webhooks SET revoked_at=?2 WHERE id=?1 AND revoked_at IS NULL",
                params![id, fmt(now)],
            )? == 1)
        })
    }

    fn set_dept_webhook_cursor(&self, id: i64, cursor: i64) -> Result<()> {
        self.write(move |c| {
            c.execute(
                "UPDATE dept_webhooks SET cursor=?2 WHERE id=?1",
                params![id, cursor],
            )?;
            Ok(())
        })
    }

    fn add_saved_export(&self, e: NewSavedExport, now: DateTime<Utc>) -> Result<SavedExport> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO saved_exports (unit_code, name, columns, filters, format, schedule, created_at, created_by) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                params![e.unit_code, e.name, e.columns.join(","), e.filters, e.format, e.schedule, fmt(now), e.created_by],
            )?;
            let id = c.last_insert_rowid();
            Ok(c.query_row(
                &format!("SELECT {EXPORT_COLS} FROM saved_exports WHERE id=?1"),
                params![id],
                export_row,
            )?)
        })
    }

    fn saved_exports(&self) -> Result<Vec<SavedExport>> {
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {EXPORT_COLS} FROM saved_exports ORDER BY id"
            ))?;
            let rows = s.query_map([], export_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn saved_export(&self, id: i64) -> Result<Option<SavedExport>> {
        self.read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {EXPORT_COLS} FROM saved_exports WHERE id=?1"),
                params![id],
                export_row,
            )
            .optional()?)
        })
    }

    fn delete_saved_export(&self, id: i64) -> Result<bool> {
        self.write(move |c| {
            c.execute("DELETE FROM export_runs WHERE export_id=?1", params![id])?;
            Ok(c.execute("DELETE FROM saved_exports WHERE id=?1", params![id])? == 1)
        })
    }

    fn save_export_run(
        &self,
        export_id: i64,
        period: &str,
        from: NaiveDate,
        to: NaiveDate,
        format: &str,
        rows: i64,
        content: &[u8],
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let (p, f, b) = (period.to_string(), format.to_string(), content.to_vec());
        self.write(move |c| {
            let had: Option<i64> = c
                .query_row(
                    "SELECT id FROM export_runs WHERE export_id=?1 AND period=?2",
                    params![export_id, p],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = had {
                c.execute(
                    "UPDATE export_runs SET from_day=?2, to_day=?3, format=?4, rows_count=?5, content=?6, generated_at=?7 WHERE id=?1",
                    params![id, from.to_string(), to.to_string(), f, rows, b, fmt(now)],
                )?;
                return Ok(id);
            }
            c.execute(
                "INSERT INTO export_runs (export_id, period, from_day, to_day, format, rows_count, content, generated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                params![export_id, p, from.to_string(), to.to_string(), f, rows, b, fmt(now)],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    fn has_export_run(&self, export_id: i64, period: &str) -> Result<bool> {
        let p = period.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT 1 FROM export_runs WHERE export_id=?1 AND period=?2",
                params![export_id, p],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
        })
    }

    fn export_runs(&self, export_id: i64) -> Result<Vec<ExportRun>> {
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {RUN_COLS} FROM export_runs WHERE export_id=?1 ORDER BY id DESC"
            ))?;
            let rows = s.query_map(params![export_id], run_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn export_run(&self, id: i64) -> Result<Option<(ExportRun, Vec<u8>)>> {
        self.read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {RUN_COLS}, content FROM export_runs WHERE id=?1"),
                params![id],
                |r| Ok((run_row(r)?, r.get::<_, Vec<u8>>(8)?)),
            )
            .optional()?)
        })
    }

    fn export_runs_after(&self, id: i64, limit: u32) -> Result<Vec<ExportRun>> {
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {RUN_COLS} FROM export_runs WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))?;
            let rows = s.query_map(params![id, limit], run_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}
