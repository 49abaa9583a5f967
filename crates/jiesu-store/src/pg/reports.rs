//! Stored reports and templates, in PostgreSQL (the SQLite twin is `sqlite/reports.rs`).

use super::*;
use crate::reports::{NewReport, ReportRow, ReportStore};
use chrono::{DateTime, NaiveDate, Utc};

const COLS: &str = "id, kind, period, period_from, period_to, generated_at, title_zh, title_en";

pub(super) fn row(r: &postgres::Row) -> Result<ReportRow> {
    let day = |i: usize| -> Result<NaiveDate> {
        let s = r.get_str(i)?;
        NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map_err(|e| StoreError::Db(format!("report column {i} {s:?}: {e}")))
    };
    let at = r.get_str(5)?;
    Ok(ReportRow {
        id: r.get_i64(0)?,
        kind: r.get_str(1)?,
        period: r.get_str(2)?,
        from: day(3)?,
        to: day(4)?,
        generated_at: crate::time::parse(&at).unwrap_or_default(),
        title_zh: r.get_str(6)?,
        title_en: r.get_str(7)?,
    })
}

impl ReportStore for PgStore {
    fn save_report(&self, r: NewReport) -> Result<i64> {
        self.write(move |c: &mut Conn| {
            // a report of the same kind and period keeps its row and id; updated first, so that
            // regenerating does not use up an identity value (ON CONFLICT stays for a
            // concurrent writer)
            let updated = c.query_opt(
                "UPDATE reports SET period_from = ?3, period_to = ?4, generated_at = ?5,
                   title_zh = ?6, title_en = ?7, body = ?8
                 WHERE kind = ?1 AND period = ?2 RETURNING id",
                &crate::pv![
                    &r.kind,
                    &r.period,
                    r.from.to_string(),
                    r.to.to_string(),
                    fmt(r.generated_at),
                    &r.title_zh,
                    &r.title_en,
                    &r.body
                ],
            )?;
            if let Some(row) = updated {
                return row.get_i64(0);
            }
            c.query_one(
                "INSERT INTO reports (kind, period, period_from, period_to, generated_at, title_zh, title_en, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (kind, period) DO UPDATE SET period_from = excluded.period_from,
                   period_to = excluded.period_to, generated_at = excluded.generated_at,
                   title_zh = excluded.title_zh, title_en = excluded.title_en, body = excluded.body
                 RETURNING id",
                &crate::pv![
                    &r.kind,
                    &r.period,
                    r.from.to_string(),
                    r.to.to_string(),
                    fmt(r.generated_at),
                    &r.title_zh,
                    &r.title_en,
                    &r.body
                ],
            )?
            .get_i64(0)
        })
    }

    fn has_report(&self, kind: &str, period: &str) -> Result<bool> {
        self.read(|c| {
            c.query_one(
                "SELECT EXISTS (SELECT 1 FROM reports WHERE kind = ?1 AND period = ?2)",
                &crate::pv![kind, period],
            )?
            .get_bool(0)
        })
    }

    fn list_reports(
        &self,
        kind: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ReportRow>, u64)> {
        self.read(|c| {
            let total = c
                .query_one(
                    "SELECT COUNT(*) FROM reports WHERE ?1::TEXT IS NULL OR kind = ?1::TEXT",
                    &crate::pv![kind],
                )?
                .get_i64(0)?;
            let rows = c
                .query(
                    &format!(
                        "SELECT {COLS} FROM reports WHERE ?1::TEXT IS NULL OR kind = ?1::TEXT
                         ORDER BY period_from DESC, kind, id DESC LIMIT ?2 OFFSET ?3"
                    ),
                    // a limit past i64::MAX is no limit, as in SQLite
                    &crate::pv![
                        kind,
                        i64::try_from(limit).unwrap_or(i64::MAX),
                        i64::try_from(offset).unwrap_or(i64::MAX)
                    ],
                )?
                .iter()
                .map(row)
                .collect::<Result<Vec<_>>>()?;
            Ok((rows, total as u64))
        })
    }

    fn report(&self, id: i64) -> Result<Option<(ReportRow, String)>> {
        self.read(|c| {
            c.query_opt(
                &format!("SELECT {COLS}, body FROM reports WHERE id = ?1"),
                &crate::pv![id],
            )?
            .map(|r| Ok((row(&r)?, r.get_str(8)?)))
            .transpose()
        })
    }

    fn reports_after(&self, after: i64, limit: u32) -> Result<Vec<ReportRow>> {
        self.read(|c| {
            c.query(
                &format!("SELECT {COLS} FROM reports WHERE id > ?1 ORDER BY id LIMIT ?2"),
                &crate::pv![after, limit],
            )?
            .iter()
            .map(row)
            .collect()
        })
    }

    fn report_template(&self, kind: &str) -> Result<Option<String>> {
        self.read(|c| {
            c.query_opt(
                "SELECT body FROM report_templates WHERE kind = ?1",
                &crate::pv![kind],
            )?
            .map(|r| r.get_str(0))
            .transpose()
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
        self.write(move |c: &mut Conn| {
            c.exec(
                "INSERT INTO report_templates (kind, body, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (kind) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at,
                   updated_by = excluded.updated_by",
                &crate::pv![k, b, fmt(at), w],
            )?;
            Ok(())
        })
    }
}
