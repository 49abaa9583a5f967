//! Department keys, webhooks and saved exports in PostgreSQL (the twin of `sqlite/dept.rs`).

use super::conn::{Conn, RowExt};
use super::PgStore;
use crate::time::fmt;
use crate::{
    AuditEntry, DeptKey, DeptStore, DeptWebhook, ExportRun, NewSavedExport, Result, SavedExport,
    StoreError,
};
use chrono::{DateTime, NaiveDate, Utc};

fn time(s: String) -> Result<DateTime<Utc>> {
    crate::time::parse(&s).ok_or_else(|| StoreError::Db(format!("bad time {s}")))
}

fn opt_time(s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.map(time).transpose()
}

fn day(s: String) -> Result<NaiveDate> {
    s.parse()
        .map_err(|_| StoreError::Db(format!("bad day {s}")))
}

const KEY_COLS: &str =
    "id, name, unit_code, role, created_at, created_by, revoked_at, last_used_at, uses";

fn key_row(r: &postgres::Row) -> Result<DeptKey> {
    Ok(DeptKey {
        id: r.get_i64(0)?,
        name: r.get_str(1)?,
        unit_code: r.get_str(2)?,
        role: r.get_str(3)?,
        created_at: time(r.get_str(4)?)?,
        created_by: r.get_str(5)?,
        revoked_at: opt_time(r.get_opt_str(6)?)?,
        last_used_at: opt_time(r.get_opt_str(7)?)?,
        uses: r.get_i64(8)?,
    })
}

const HOOK_COLS: &str = "id, unit_code, url, secret, created_at, revoked_at, cursor";

fn hook_row(r: &postgres::Row) -> Result<DeptWebhook> {
    Ok(DeptWebhook {
        id: r.get_i64(0)?,
        unit_code: r.get_str(1)?,
        url: r.get_str(2)?,
        secret: r.get_str(3)?,
        created_at: time(r.get_str(4)?)?,
        revoked_at: opt_time(r.get_opt_str(5)?)?,
        cursor: r.get_i64(6)?,
    })
}

const EXPORT_COLS: &str =
    "id, unit_code, name, columns, filters, format, schedule, created_at, created_by";

fn export_row(r: &postgres::Row) -> Result<SavedExport> {
    let cols = r.get_str(3)?;
    Ok(SavedExport {
        id: r.get_i64(0)?,
        unit_code: r.get_str(1)?,
        name: r.get_str(2)?,
        columns: cols
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        filters: r.get_str(4)?,
        format: r.get_str(5)?,
        schedule: r.get_str(6)?,
        created_at: time(r.get_str(7)?)?,
        created_by: r.get_str(8)?,
    })
}

const RUN_COLS: &str = "id, export_id, period, from_day, to_day, format, rows_count, generated_at";

fn run_row(r: &postgres::Row) -> Result<ExportRun> {
    Ok(ExportRun {
        id: r.get_i64(0)?,
        export_id: r.get_i64(1)?,
        period: r.get_str(2)?,
        from: day(r.get_str(3)?)?,
        to: day(r.get_str(4)?)?,
        format: r.get_str(5)?,
        rows: r.get_i64(6)?,
        generated_at: time(r.get_str(7)?)?,
    })
}

fn one<T>(row: Option<postgres::Row>, f: fn(&postgres::Row) -> Result<T>) -> Result<T> {
    f(&row.ok_or_else(|| StoreError::Db("no row returned".into()))?)
}

impl DeptStore for PgStore {
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
        self.write(move |c: &mut Conn| {
            one(
                c.query_opt(
                    &format!("INSERT INTO dept_keys (name, unit_code, role, key_hash, created_at, created_by) VALUES (?1,?2,?3,?4,?5,?6) RETURNING {KEY_COLS}"),
                    &crate::pv![&n, &u, &r, &k, fmt(now), &b],
                )?,
                key_row,
            )
        })
    }

    fn dept_key_by_hash(&self, key_hash: &str) -> Result<Option<DeptKey>> {
        let k = key_hash.to_string();
        self.read(move |c| {
            c.query_opt(
                &format!("SELECT {KEY_COLS} FROM dept_keys WHERE key_hash=?1"),
                &crate::pv![k],
            )?
            .map(|r| key_row(&r))
            .transpose()
        })
    }

    fn dept_keys(&self) -> Result<Vec<DeptKey>> {
        self.read(move |c| {
            c.query(
                &format!("SELECT {KEY_COLS} FROM dept_keys ORDER BY id DESC"),
                &crate::pv![],
            )?
            .iter()
            .map(key_row)
            .collect()
        })
    }

    fn revoke_dept_key(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        self.write(move |c: &mut Conn| {
            Ok(c.exec(
                "UPDATE dept_keys SET revoked_at=?2 WHERE id=?1 AND revoked_at IS NULL",
                &crate::pv![id, fmt(now)],
            )? == 1)
        })
    }

    fn record_key_read(&self, id: i64, what: &str, now: DateTime<Utc>) -> Result<()> {
        let w = what.to_string();
        self.write(move |c: &mut Conn| {
            c.exec(
                "UPDATE dept_keys SET uses = uses + 1, last_used_at=?2 WHERE id=?1",
                &crate::pv![id, fmt(now)],
            )?;
            c.exec(
                "INSERT INTO audit_log (at, user_name, action, ticket_id, detail) VALUES (?1,?2,'api_read',NULL,?3)",
                &crate::pv![fmt(now), format!("key:{id}"), &w],
            )?;
            Ok(())
        })
    }

    fn key_reads(&self, id: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        self.read(move |c| {
            c.query(
                "SELECT at, user_name, action, ticket_id, COALESCE(detail, '') FROM audit_log WHERE user_name=?1 ORDER BY id DESC LIMIT ?2",
                &crate::pv![format!("key:{id}"), i64::from(limit)],
            )?
            .iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: time(r.get_str(0)?)?,
                    user: r.get_str(1)?,
                    action: r.get_str(2)?,
                    ticket: r.get_opt_i64(3)?,
                    detail: r.get_str(4)?,
                })
            })
            .collect()
        })
    }

    fn revoke_partner(&self, id: i64) -> Result<bool> {
        self.write(move |c: &mut Conn| {
            Ok(c.exec(
                "UPDATE partners SET key_hash = 'revoked:' || id::text WHERE id=?1 AND key_hash NOT LIKE 'revoked:%'",
                &crate::pv![id],
            )? == 1)
        })
    }

    fn partner_revoked(&self, id: i64) -> Result<bool> {
        self.read(move |c| {
            Ok(
                c.query_opt("SELECT key_hash FROM partners WHERE id=?1", &crate::pv![id])?
                    .map(|r| r.get_str(0))
                    .transpose()?
                    .is_some_and(|h| h.starts_with("revoked:")),
            )
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
        self.write(move |c: &mut Conn| {
            one(
                c.query_opt(
                    &format!("INSERT INTO dept_webhooks (unit_code, url, secret, created_at, cursor) VALUES (?1,?2,?3,?4,?5) RETURNING {HOOK_COLS}"),
                    &crate::pv![&u, &l, &s, fmt(now), cursor],
                )?,
                hook_row,
            )
        })
    }

    fn dept_webhooks(&self) -> Result<Vec<DeptWebhook>> {
        self.read(move |c| {
            c.query(
                &format!("SELECT {HOOK_COLS} FROM dept_webhooks ORDER BY id DESC"),
                &crate::pv![],
            )?
            .iter()
            .map(hook_row)
            .collect()
        })
    }

    fn revoke_dept_webhook(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        self.write(move |c: &mut Conn| {
            Ok(c.exec(
                "UPDATE dept_webhooks SET revoked_at=?2 WHERE id=?1 AND revoked_at IS NULL",
                &crate::pv![id, fmt(now)],
            )? == 1)
        })
    }

    fn set_dept_webhook_cursor(&self, id: i64, cursor: i64) -> Result<()> {
        self.write(move |c: &mut Conn| {
            c.exec(
                "UPDATE dept_webhooks SET cursor=?2 WHERE id=?1",
                &crate::pv![id, cursor],
            )?;
            Ok(())
        })
    }

    fn add_saved_export(&self, e: NewSavedExport, now: DateTime<Utc>) -> Result<SavedExport> {
        self.write(move |c: &mut Conn| {
            one(
                c.query_opt(
                    &format!("INSERT INTO saved_exports (unit_code, name, columns, filters, format, schedule, created_at, created_by) VALUES (?1,?2,?3,?4,?5,?6,?7,?8) RETURNING {EXPORT_COLS}"),
                    &crate::pv![&e.unit_code, &e.name, e.columns.join(","), &e.filters, &e.format, &e.schedule, fmt(now), &e.created_by],
                )?,
                export_row,
            )
        })
    }

    fn saved_exports(&self) -> Result<Vec<SavedExport>> {
        self.read(move |c| {
            c.query(
                &format!("SELECT {EXPORT_COLS} FROM saved_exports ORDER BY id"),
                &crate::pv![],
            )?
            .iter()
            .map(export_row)
            .collect()
        })
    }

    fn saved_export(&self, id: i64) -> Result<Option<SavedExport>> {
        self.read(move |c| {
            c.query_opt(
                &format!("SELECT {EXPORT_COLS} FROM saved_exports WHERE id=?1"),
                &crate::pv![id],
            )?
            .map(|r| export_row(&r))
            .transpose()
        })
    }

    fn delete_saved_export(&self, id: i64) -> Result<bool> {
        self.write(move |c: &mut Conn| {
            c.exec(
                "DELETE FROM export_runs WHERE export_id=?1",
                &crate::pv![id],
            )?;
            Ok(c.exec("DELETE FROM saved_exports WHERE id=?1", &crate::pv![id])? == 1)
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
        self.write(move |c: &mut Conn| {
            let had = c.query_opt(
                "SELECT id FROM export_runs WHERE export_id=?1 AND period=?2",
                &crate::pv![export_id, &p],
            )?;
            if let Some(r) = had {
                let id = r.get_i64(0)?;
                c.exec(
                    "UPDATE export_runs SET from_day=?2, to_day=?3, format=?4, rows_count=?5, content=?6, generated_at=?7 WHERE id=?1",
                    &crate::pv![id, from.to_string(), to.to_string(), &f, rows, &b, fmt(now)],
                )?;
                return Ok(id);
            }
            c.query_opt(
                "INSERT INTO export_runs (export_id, period, from_day, to_day, format, rows_count, content, generated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8) RETURNING id",
                &crate::pv![export_id, &p, from.to_string(), to.to_string(), &f, rows, &b, fmt(now)],
            )?
            .ok_or_else(|| StoreError::Db("no run id returned".into()))?
            .get_i64(0)
        })
    }

    fn has_export_run(&self, export_id: i64, period: &str) -> Result<bool> {
        let p = period.to_string();
        self.read(move |c| {
            Ok(c.query_opt(
                "SELECT 1 FROM export_runs WHERE export_id=?1 AND period=?2",
                &crate::pv![export_id, p],
            )?
            .is_some())
        })
    }

    fn export_runs(&self, export_id: i64) -> Result<Vec<ExportRun>> {
        self.read(move |c| {
            c.query(
                &format!("SELECT {RUN_COLS} FROM export_runs WHERE export_id=?1 ORDER BY id DESC"),
                &crate::pv![export_id],
            )?
            .iter()
            .map(run_row)
            .collect()
        })
    }

    fn export_run(&self, id: i64) -> Result<Option<(ExportRun, Vec<u8>)>> {
        self.read(move |c| {
            c.query_opt(
                &format!("SELECT {RUN_COLS}, content FROM export_runs WHERE id=?1"),
                &crate::pv![id],
            )?
            .map(|r| Ok((run_row(&r)?, r.get_blob(8)?)))
            .transpose()
        })
    }

    fn export_runs_after(&self, id: i64, limit: u32) -> Result<Vec<ExportRun>> {
        self.read(move |c| {
            c.query(
                &format!("SELECT {RUN_COLS} FROM export_runs WHERE id > ?1 ORDER BY id LIMIT ?2"),
                &crate::pv![id, i64::from(limit)],
            )?
            .iter()
            .map(run_row)
            .collect()
        })
    }
}
