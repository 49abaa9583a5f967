//! Stored reports and templates, in SQLite.

use super::*;
use crate::reports::{NewReport, ReportRow, ReportStore};
use chrono::NaiveDate;

const COLS: &str = "id, kind, period, period_from, period_to, generated_at, title_zh, title_en";

pub(super) fn row(r: &rusqlite::Row) -> rusqlite::Result<ReportRow> {
    let day = |i: usize| -> rusqlite::Result<NaiveDate> {
        let s: String = r.get(i)?;
        NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let at: String = r.get(5)?;
    Ok(ReportRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        period: r.get(2)?,
        from: day(3)?,
        to: day(4)?,
        generated_at: crate::time::parse(&at).unwrap_or_default(),
        title_zh: r.get(6)?,
        title_en: r.get(7)?,
    })
}

impl ReportStore for SqliteStore {
    fn save_report(&self, r: NewReport) -> Result<i64> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO reports (kind, period, period_from, period_to, generated_at, title_zh, title_en, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (kind, period) DO UPDATE SET period_from = excluded.period_from,
                   period_to = excluded.period_to, generated_at = excluded.generated_at,
                   title_zh = excluded.title_zh, title_en = excluded.title_en, body = excluded.body",
                params![
                    r.kind,
                    r.period,
                    r.from.to_string(),
                    r.to.to_string(),
                    fmt(r.generated_at),
                    r.title_zh,
                    r.title_en,
                    r.body
                ],
            )?;
            Ok(c.query_row(
                "SELECT id FROM reports WHERE kind = ?1 AND period = ?2",
                params![r.kind, r.period],
                |x| x.get(0),
            )?)
        })
    }

    fn has_report(&self, kind: &str, period: &str) -> Result<bool> {
        let (k, p) = (kind.to_string(), period.to_string());
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT EXISTS (SELECT 1 FROM reports WHERE kind = ?1 AND period = ?2)",
                params![k, p],
                |x| x.get(0),
            )?)
        })
    }

    fn list_reports(
        &self,
        kind: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ReportRow>, u64)> {
        let kind = kind.map(str::to_string);
        self.read(move |c| {
            let total: i64 = c.query_row(
                "SELECT COUNT(*) FROM reports WHERE ?1 IS NULL OR kind = ?1",
                params![kind],
                |x| x.get(0),
            )?;
            let mut s = c.prepare(&format!(
                "SELECT {COLS} FROM reports WHERE ?1 IS NULL OR kind = ?1
                 ORDER BY period_from DESC, kind, id DESC LIMIT ?2 OFFSET ?3"
            ))?;
            let rows = s
                .query_map(params![kind, limit as i64, offset as i64], row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((rows, total as u64))
        })
    }

    fn report(&self, id: i64) -> Result<Option<(ReportRow, String)>> {
        self.read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {COLS}, body FROM reports WHERE id = ?1"),
                params![id],
                |r| Ok((row(r)?, r.get::<_, String>(8)?)),
            )
            .optional()?)
        })
    }

    fn reports_after(&self, after: i64, limit: u32) -> Result<Vec<ReportRow>> {
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {COLS} FROM reports WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))?;
            let rows = s
                .query_map(params![after, limit], row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    fn report_template(&self, kind: &str) -> Result<Option<String>> {
        let k = kind.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT body FROM report_templates WHERE kind = ?1",
                params![k],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    fn save_report_template(
        &self,
        kind: &str,
        body: &str,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<()> {
        let (k, b, w) = (kind.to_string(), body.to_string(), by.to_string());
        self.write(move |c| {
            c.execute(
                "INSERT INTO report_templates (kind, body, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (kind) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at,
                   updated_by = excluded.updated_by",
                params![k, b, fmt(at), w],
            )?;
            Ok(())
        })
    }
}
