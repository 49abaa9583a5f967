//! Alerts (early-warning spikes, risk pushes, incidents) and their steps, in PostgreSQL (the SQLite twin is `sqlite/alerts.rs`).

use super::*;
use crate::alerts::{AlertAmend, AlertFilter, AlertRow, AlertStep, AlertStore};
use chrono::NaiveDate;

const COLS: &str = "id, day, level, place, category, score, observed, expected, window_days, unit, district, tickets, status, created_at, detail";

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
        detail: r.get_opt_str(14)?,
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
        self.write(move |c: &mut Conn| {
            let tickets = serde_json::to_string(&a.tickets).unwrap_or_else(|_| "[]".into());
            // a spike's cell-day alarms once; while it is still open, a later pass that counts
            // more requests in it brings its figures and tickets up to date (no second push).
            // The cell is looked up first: a conflicting insert would use up an identity value.
            if a.level != "risk" && a.level != "incident" {
                let existing = c.query_opt(
                    "SELECT id, observed, status FROM alerts
                     WHERE day = ?1 AND level = ?2 AND place = ?3 AND category = ?4",
                    &crate::pv![a.day.to_string(), &a.level, &a.place, &a.category],
                )?;
                if let Some(r) = existing {
                    let (id, observed, status) = (r.get_i64(0)?, r.get_i64(1)?, r.get_str(2)?);
                    if status == "open" && i64::from(a.observed) > observed {
                        c.exec(
                            "UPDATE alerts SET score = ?1, observed = ?2, expected = ?3,
                               window_days = ?4, tickets = ?5 WHERE id = ?6",
                            &crate::pv![
                                a.score,
                                a.observed,
                                a.expected,
                                a.window_days,
                                &tickets,
                                id
                            ],
                        )?;
                    }
                    return Ok(None);
                }
            }
            let inserted = c.query_opt(
                "INSERT INTO alerts (day, level, place, category, score, observed, expected, window_days,
                   unit, district, tickets, status, created_at, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'open', ?12, ?13)
                 ON CONFLICT (day, level, place, category) WHERE level NOT IN ('risk', 'incident')
                 DO NOTHING
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
                    &tickets,
                    fmt(a.created_at),
                    &a.detail
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
                        "SELECT {COLS} FROM alerts WHERE {clause} ORDER BY day DESC, level = 'risk' DESC, level = 'incident' DESC, score DESC, id LIMIT ?{} OFFSET ?{}",
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

    fn latest_alert(&self, level: &str, place: &str, category: &str) -> Result<Option<AlertRow>> {
        self.read(|c| {
            c.query_opt(
                &format!(
                    "SELECT {COLS} FROM alerts WHERE level = ?1 AND place = ?2 AND category = ?3
                     ORDER BY id DESC LIMIT 1"
                ),
                &crate::pv![level, place, category],
            )?
            .map(|r| row(&r))
            .transpose()
        })
    }

    fn amend_alert(&self, id: i64, amend: AlertAmend) -> Result<bool> {
        self.write(move |c: &mut Conn| {
            // the row is locked until the writer's transaction ends: another server on the same
            // database amending the same alert waits for it
            let Some(r) = c.query_opt(
                &format!("SELECT {COLS} FROM alerts WHERE id = ?1 FOR UPDATE"),
                &crate::pv![id],
            )?
            else {
                return Ok(false);
            };
            let Some((tickets, detail)) = amend(&row(&r)?) else {
                return Ok(false);
            };
            let n = c.exec(
                "UPDATE alerts SET tickets = ?1, observed = ?2, detail = ?3 WHERE id = ?4",
                &crate::pv![
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
