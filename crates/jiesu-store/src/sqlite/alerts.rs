//! Early-warning alerts and their steps, in SQLite.

use super::*;
use crate::alerts::{AlertAmend, AlertFilter, AlertRow, AlertStep, AlertStore};
use chrono::NaiveDate;

const COLS: &str = "id, day, level, place, category, score, observed, expected, window_days, unit, district, tickets, status, created_at, detail";

fn row(r: &rusqlite::Row) -> rusqlite::Result<AlertRow> {
    let day: String = r.get(1)?;
    let tickets: String = r.get(11)?;
    let at: String = r.get(13)?;
    Ok(AlertRow {
        id: r.get(0)?,
        day: NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
        })?,
        level: r.get(2)?,
        place: r.get(3)?,
        category: r.get(4)?,
        score: r.get(5)?,
        observed: r.get(6)?,
        expected: r.get(7)?,
        window_days: r.get(8)?,
        unit: r.get(9)?,
        district: r.get(10)?,
        tickets: serde_json::from_str(&tickets).unwrap_or_default(),
        status: r.get(12)?,
        created_at: crate::time::parse(&at).unwrap_or_default(),
        detail: r.get(14)?,
    })
}

/// The WHERE clause of a filter and its parameters (`?1` status, `?2` from day, units as JSON).
fn filter_sql(f: &AlertFilter) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut clauses = vec![
        "(?1 IS NULL OR status = ?1)".to_string(),
        "(?2 IS NULL OR day >= ?2)".to_string(),
    ];
    let mut args: Vec<Value> = vec![
        f.status.clone().map(Value::Text).unwrap_or(Value::Null),
        f.from
            .map(|d| Value::Text(d.to_string()))
            .unwrap_or(Value::Null),
    ];
    if let Some(units) = &f.units {
        clauses.push(
            "(unit IN (SELECT value FROM json_each(?3)) OR district IN (SELECT value FROM json_each(?3)))"
                .to_string(),
        );
        args.push(Value::Text(
            serde_json::to_string(units).unwrap_or_else(|_| "[]".into()),
        ));
    }
    (clauses.join(" AND "), args)
}

impl AlertStore for SqliteStore {
    fn raise_alert(&self, a: AlertRow) -> Result<Option<i64>> {
        self.write(move |c| {
            // a spike's cell-day alarms once; while it is still open, a later pass that counts
            // more requests in it brings its figures and tickets up to date (no second push)
            if a.level != "risk" && a.level != "incident" {
                let existing: Option<(i64, i64, String)> = c
                    .query_row(
                        "SELECT id, observed, status FROM alerts
                         WHERE day = ?1 AND level = ?2 AND place = ?3 AND category = ?4",
                        params![a.day.to_string(), a.level, a.place, a.category],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?;
                if let Some((id, observed, status)) = existing {
                    if status == "open" && i64::from(a.observed) > observed {
                        c.execute(
                            "UPDATE alerts SET score = ?1, observed = ?2, expected = ?3,
                               window_days = ?4, tickets = ?5 WHERE id = ?6",
                            params![
                                a.score,
                                a.observed,
                                a.expected,
                                a.window_days,
                                serde_json::to_string(&a.tickets).unwrap_or_else(|_| "[]".into()),
                                id
                            ],
                        )?;
                    }
                    return Ok(None);
                }
            }
            let n = c.execute(
                "INSERT INTO alerts (day, level, place, category, score, observed, expected, window_days,
                   unit, district, tickets, status, created_at, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'open', ?12, ?13)
                 ON CONFLICT (day, level, place, category) WHERE level NOT IN ('risk', 'incident')
                 DO NOTHING",
                params![
                    a.day.to_string(),
                    a.level,
                    a.place,
                    a.category,
                    a.score,
                    a.observed,
                    a.expected,
                    a.window_days,
                    a.unit,
                    a.district,
                    serde_json::to_string(&a.tickets).unwrap_or_else(|_| "[]".into()),
                    fmt(a.created_at),
                    a.detail
                ],
            )?;
            if n == 0 {
                return Ok(None);
            }
            let id = c.last_insert_rowid();
            c.execute(
                "INSERT INTO alert_steps (alert_id, action, status, reason, by_user, at)
                 VALUES (?1, 'raised', 'open', '', 'warning', ?2)",
                params![id, fmt(a.created_at)],
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
            let total: i64 = c.query_row(
                &format!("SELECT COUNT(*) FROM alerts WHERE {clause}"),
                rusqlite::params_from_iter(args.iter()),
                |x| x.get(0),
            )?;
            let n = args.len();
            args.push(rusqlite::types::Value::Integer(limit as i64));
            args.push(rusqlite::types::Value::Integer(offset as i64));
            let mut s = c.prepare(&format!(
                "SELECT {COLS} FROM alerts WHERE {clause} ORDER BY day DESC, level = 'risk' DESC, level = 'incident' DESC, score DESC, id LIMIT ?{} OFFSET ?{}",
                n + 1,
                n + 2
            ))?;
            let rows = s
                .query_map(rusqlite::params_from_iter(args.iter()), row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((rows, total as u64))
        })
    }

    fn alert(&self, id: i64) -> Result<Option<(AlertRow, Vec<AlertStep>)>> {
        self.read(move |c| {
            let Some(a) = c
                .query_row(&format!("SELECT {COLS} FROM alerts WHERE id = ?1"), params![id], row)
                .optional()?
            else {
                return Ok(None);
            };
            let mut s = c.prepare(
                "SELECT alert_id, action, status, reason, by_user, at FROM alert_steps WHERE alert_id = ?1 ORDER BY id",
            )?;
            let steps = s
                .query_map(params![id], |r| {
                    let at: String = r.get(5)?;
                    Ok(AlertStep {
                        alert_id: r.get(0)?,
                        action: r.get(1)?,
                        status: r.get(2)?,
                        reason: r.get(3)?,
                        by: r.get(4)?,
                        at: crate::time::parse(&at).unwrap_or_default(),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Some((a, steps)))
        })
    }

    fn record_alert_step(&self, step: AlertStep, expected: &str) -> Result<bool> {
        let expected = expected.to_string();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE alerts SET status = ?1 WHERE id = ?2 AND status = ?3",
                params![step.status, step.alert_id, expected],
            )?;
            if n == 0 {
                return Ok(false);
            }
            c.execute(
                "INSERT INTO alert_steps (alert_id, action, status, reason, by_user, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![step.alert_id, step.action, step.status, step.reason, step.by, fmt(step.at)],
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
            let mut s = c.prepare(&format!(
                "SELECT status, COUNT(*) FROM alerts WHERE {clause} GROUP BY status ORDER BY status"
            ))?;
            let rows = s
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    fn alerts_after(&self, after: i64, limit: u32) -> Result<Vec<AlertRow>> {
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {COLS} FROM alerts WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))?;
            let rows = s
                .query_map(params![after, limit], row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    fn latest_alert(&self, level: &str, place: &str, category: &str) -> Result<Option<AlertRow>> {
        let (level, place, category) = (level.to_string(), place.to_string(), category.to_string());
        self.read(move |c| {
            Ok(c.query_row(
                &format!(
                    "SELECT {COLS} FROM alerts WHERE level = ?1 AND place = ?2 AND category = ?3
                     ORDER BY id DESC LIMIT 1"
                ),
                params![level, place, category],
                row,
            )
            .optional()?)
        })
    }

    fn amend_alert(&self, id: i64, amend: AlertAmend) -> Result<bool> {
        self.write(move |c| {
            let Some(a) = c
                .query_row(
                    &format!("SELECT {COLS} FROM alerts WHERE id = ?1"),
                    [id],
                    row,
                )
                .optional()?
            else {
                return Ok(false);
            };
            let Some((tickets, detail)) = amend(&a) else {
                return Ok(false);
            };
            let n = c.execute(
                "UPDATE alerts SET tickets = ?1, observed = ?2, detail = ?3 WHERE id = ?4",
                params![
                    serde_json::to_string(&tickets).unwrap_or_else(|_| "[]".into()),
                    tickets.len() as i64,
                    detail,
                    id
                ],
            )?;
            Ok(n > 0)
        })
    }
}
