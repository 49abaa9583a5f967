//! Early-warning alerts and their steps, in PostgreSQL (the SQLite twin is `sqlite/alerts.rs`).

use super::*;
use crate::alerts::{AlertFilter, AlertRow, AlertStep, AlertStore};
use chrono::NaiveDate;

const COLS: &str = "id, day, level, place, category, score, observed, expected, window_days, unit, district, tickets, status, created_at";

fn row(r: &postgres::Row) -> Result<AlertRow> {
    let day = r.get_str(1)?;
    let tickets = r.get_str(11)?;
    let at = r.get_str(13)?;
    Ok(AlertRow {
        id: r.get_i64(0)?,
        day: NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .map_err(|e| StoreError::Db(format!("alert day {day:?}: {e}")))?,
        level: r.get_str(2)?,
        place: r.get_str(3)?,
        category: r.get_str(4)?,
        score: r.get_f64(5)?,
        observed: r.get_u32(6)?,
        expected: r.get_f64(7)?,
        window_days: r.get_u32(8)?,
        unit: r.get_str(9)?,
        district: r.get_str(10)?,
        tickets: serde_json::from_str(&tickets).unwrap_or_default(),
        status: r.get_str(12)?,
        created_at: crate::time::parse(&at).unwrap_or_default(),
    })
}

/// The WHERE clause of a filter and its parameters (`?1` status, `?2` from day, units as JSON).
fn filter_sql(f: &AlertFilter) -> (String, Vec<Value>) {
    let mut clauses = vec![
        "(?1::TEXT IS NULL OR status = ?1::TEXT)".to_string(),
        "(?2::TEXT IS NULL OR day >= ?2::TEXT)".to_string(),
    ];
    let mut args: Vec<Value> = vec![
        f.status.clone().map(Value::Text).unwrap_or(Value::Null),
        f.from
            .map(|d| Value::Text(d.to_string()))
            .unwrap_or(Value::Null),
    ];
    if let Some(units) = &f.units {
        clauses.push(
            "(unit IN (SELECT jsonb_array_elements_text(?3::TEXT::jsonb))
              OR district IN (SELECT jsonb_array_elements_text(?3::TEXT::jsonb)))"
                .to_string(),
        );
        args.push(Value::Text(
            serde_json::to_string(units).unwrap_or_else(|_| "[]".into()),
        ));
    }
    (clauses.join(" AND "), args)
}

impl AlertStore for PgStore {
    fn raise_alert(&self, a: AlertRow) -> Result<Option<i64>> {
        // the cell is looked up first: a conflicting insert would use up an identity value, and
        // the ids would have gaps SQLite's have not (ON CONFLICT stays for a concurrent writer)
        self.write(move |c: &mut Conn| {
            let inserted = c.query_opt(
                "INSERT INTO alerts (day, level, place, category, score, observed, expected, window_days,
                   unit, district, tickets, status, created_at)
                 SELECT ?1::TEXT, ?2::TEXT, ?3::TEXT, ?4::TEXT, ?5::DOUBLE PRECISION, ?6::BIGINT,
                   ?7::DOUBLE PRECISION, ?8::BIGINT, ?9::TEXT, ?10::TEXT, ?11::TEXT, 'open', ?12::TEXT
                 WHERE NOT EXISTS (SELECT 1 FROM alerts
                   WHERE day = ?1::TEXT AND level = ?2::TEXT AND place = ?3::TEXT AND category = ?4::TEXT)
                 ON CONFLICT (day, level, place, category) DO NOTHING
                 RETURNING id",
                &crate::pv![
                    a.day.to_string(),
                    &a.level,
                    &a.place,
                    &a.category,
                    a.score,
                    a.observed,
                    a.expected,
                    a.window_days,
                    &a.unit,
                    &a.district,
                    serde_json::to_string(&a.tickets).unwrap_or_else(|_| "[]".into()),
                    fmt(a.created_at)
                ],
            )?;
            let Some(r) = inserted else {
                return Ok(None);
            };
            let id = r.get_i64(0)?;
            c.exec(
                "INSERT INTO alert_steps (alert_id, action, status, reason, by_user, at)
                 VALUES (?1, 'raised', 'open', '', 'warning', ?2)",
                &crate::pv![id, fmt(a.created_at)],
            )?;
            Ok(Some(id))
        })
    }

    fn list_alerts(
        &self,
        f: &AlertFilter,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<AlertRow>, u64)> {
        let (clause, mut args) = filter_sql(f);
        self.read(move |c| {
            let total = c
                .query_one(
                    &format!("SELECT COUNT(*) FROM alerts WHERE {clause}"),
                    &pvs(&args),
                )?
                .get_i64(0)?;
            let n = args.len();
            // SQLite reads a limit past i64::MAX (as -1) as no limit; PostgreSQL refuses a negative one
            args.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
            args.push(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
            let rows = c
                .query(
                    &format!(
                        "SELECT {COLS} FROM alerts WHERE {clause} ORDER BY day DESC, score DESC, id LIMIT ?{} OFFSET ?{}",
                        n + 1,
                        n + 2
                    ),
                    &pvs(&args),
                )?
                .iter()
                .map(row)
                .collect::<Result<Vec<_>>>()?;
            Ok((rows, total as u64))
        })
    }

    fn alert(&self, id: i64) -> Result<Option<(AlertRow, Vec<AlertStep>)>> {
        self.read(move |c| {
            let Some(a) = c
                .query_opt(
                    &format!("SELECT {COLS} FROM alerts WHERE id = ?1"),
                    &crate::pv![id],
                )?
                .map(|r| row(&r))
                .transpose()?
            else {
                return Ok(None);
            };
            let steps = c
                .query(
                    "SELECT alert_id, action, status, reason, by_user, at FROM alert_steps WHERE alert_id = ?1 ORDER BY id",
                    &crate::pv![id],
                )?
                .iter()
                .map(|r| {
                    let at = r.get_str(5)?;
                    Ok(AlertStep {
                        alert_id: r.get_i64(0)?,
                        action: r.get_str(1)?,
                        status: r.get_str(2)?,
                        reason: r.get_str(3)?,
                        by: r.get_str(4)?,
                        at: crate::time::parse(&at).unwrap_or_default(),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Some((a, steps)))
        })
    }

    fn record_alert_step(&self, step: AlertStep, expected: &str) -> Result<bool> {
        let expected = expected.to_string();
        self.write(move |c: &mut Conn| {
            let n = c.exec(
                "UPDATE alerts SET status = ?1 WHERE id = ?2 AND status = ?3",
                &crate::pv![&step.status, step.alert_id, &expected],
            )?;
            if n == 0 {
                return Ok(false);
            }
            c.exec(
                "INSERT INTO alert_steps (alert_id, action, status, reason, by_user, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                &crate::pv![
                    step.alert_id,
                    &step.action,
                    &step.status,
                    &step.reason,
                    &step.by,
                    fmt(step.at)
                ],
            )?;
            Ok(true)
        })
    }

    fn alert_counts(&self, f: &AlertFilter) -> Result<Vec<(String, u64)>> {
        let f = AlertFilter {
            status: None,
            ..f.clone()
        };
        let (clause, args) = filter_sql(&f);
        self.read(move |c| {
            c.query(
                &format!(
                    "SELECT status, COUNT(*) FROM alerts WHERE {clause} GROUP BY status ORDER BY status"
                ),
                &pvs(&args),
            )?
            .iter()
            .map(|r| Ok((r.get_str(0)?, r.get_i64(1)? as u64)))
            .collect()
        })
    }

    fn alerts_after(&self, after: i64, limit: u32) -> Result<Vec<AlertRow>> {
        self.read(move |c| {
            c.query(
                &format!("SELECT {COLS} FROM alerts WHERE id > ?1 ORDER BY id LIMIT ?2"),
                &crate::pv![after, limit],
            )?
            .iter()
            .map(row)
            .collect()
        })
    }
}
