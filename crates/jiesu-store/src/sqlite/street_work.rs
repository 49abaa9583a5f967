//! A street's work (interviews, problem and project lists, their changes), in SQLite.

use super::*;
use crate::street_work::{
    interview_json, item_json, InterviewRow, StreetChange, StreetItemRow, StreetWorkStore,
};
use chrono::NaiveDate;

const ICOLS: &str =
    "id, street, district, held_on, attendees, findings, alert_id, filed_by, filed_at";
const TCOLS: &str = "id, street, district, kind, title, owner, due, status, progress, version, updated_by, created_at, updated_at";

fn day(r: &rusqlite::Row, i: usize) -> rusqlite::Result<NaiveDate> {
    let s: String = r.get(i)?;
    NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn at(r: &rusqlite::Row, i: usize) -> rusqlite::Result<chrono::DateTime<chrono::Utc>> {
    let s: String = r.get(i)?;
    Ok(crate::time::parse(&s).unwrap_or_default())
}

fn interview(r: &rusqlite::Row) -> rusqlite::Result<InterviewRow> {
    let attendees: String = r.get(4)?;
    Ok(InterviewRow {
        id: r.get(0)?,
        street: r.get(1)?,
        district: r.get(2)?,
        held_on: day(r, 3)?,
        attendees: serde_json::from_str(&attendees).unwrap_or_default(),
        findings: r.get(5)?,
        alert_id: r.get(6)?,
        filed_by: r.get(7)?,
        filed_at: at(r, 8)?,
    })
}

fn item(r: &rusqlite::Row) -> rusqlite::Result<StreetItemRow> {
    Ok(StreetItemRow {
        id: r.get(0)?,
        street: r.get(1)?,
        district: r.get(2)?,
        kind: r.get(3)?,
        title: r.get(4)?,
        owner: r.get(5)?,
        due: day(r, 6)?,
        status: r.get(7)?,
        progress: r.get(8)?,
        version: r.get(9)?,
        updated_by: r.get(10)?,
        created_at: at(r, 11)?,
        updated_at: at(r, 12)?,
    })
}

fn record(c: &rusqlite::Connection, ch: &StreetChange) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO street_changes (street, subject, subject_id, action, after, by_user, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            ch.street,
            ch.subject,
            ch.subject_id,
            ch.action,
            ch.after,
            ch.by,
            fmt(ch.at)
        ],
    )?;
    Ok(())
}

impl StreetWorkStore for SqliteStore {
    fn file_interview(&self, mut i: InterviewRow) -> Result<i64> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO street_interviews (street, district, held_on, attendees, findings, alert_id, filed_by, filed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    i.street,
                    i.district,
                    i.held_on.to_string(),
                    serde_json::to_string(&i.attendees).unwrap_or_else(|_| "[]".into()),
                    i.findings,
                    i.alert_id,
                    i.filed_by,
                    fmt(i.filed_at)
                ],
            )?;
            i.id = c.last_insert_rowid();
            record(
                c,
                &StreetChange {
                    street: i.street.clone(),
                    subject: "interview".into(),
                    subject_id: i.id,
                    action: "filed".into(),
                    after: interview_json(&i),
                    by: i.filed_by.clone(),
                    at: i.filed_at,
                },
            )?;
            Ok(i.id)
        })
    }

    fn interviews(&self, street: &str) -> Result<Vec<InterviewRow>> {
        let street = street.to_string();
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {ICOLS} FROM street_interviews WHERE street = ?1 ORDER BY held_on DESC, id DESC"
            ))?;
            let rows = s
                .query_map(params![street], interview)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    fn interviews_of(&self, units: Option<&[String]>, limit: u64) -> Result<Vec<InterviewRow>> {
        let units = units.map(|u| serde_json::to_string(u).unwrap_or_else(|_| "[]".into()));
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {ICOLS} FROM street_interviews
                 WHERE ?1 IS NULL OR street IN (SELECT value FROM json_each(?1))
                   OR district IN (SELECT value FROM json_each(?1))
                 ORDER BY held_on DESC, id DESC LIMIT ?2"
            ))?;
            let rows = s
                .query_map(params![units, limit as i64], interview)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    fn add_street_item(&self, mut it: StreetItemRow) -> Result<i64> {
        self.write(move |c| {
            it.version = 1;
            it.updated_at = it.created_at;
            c.execute(
                "INSERT INTO street_items (street, district, kind, title, owner, due, status, progress, version,
                   updated_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10, ?10)",
                params![
                    it.street,
                    it.district,
                    it.kind,
                    it.title,
                    it.owner,
                    it.due.to_string(),
                    it.status,
                    it.progress,
                    it.updated_by,
                    fmt(it.created_at)
                ],
            )?;
            it.id = c.last_insert_rowid();
            record(
                c,
                &StreetChange {
                    street: it.street.clone(),
                    subject: "item".into(),
                    subject_id: it.id,
                    action: "created".into(),
                    after: item_json(&it),
                    by: it.updated_by.clone(),
                    at: it.created_at,
                },
            )?;
            Ok(it.id)
        })
    }

    fn update_street_item(&self, it: StreetItemRow, expected: i64) -> Result<bool> {
        self.write(move |c| {
            let n = c.execute(
                "UPDATE street_items SET title = ?1, owner = ?2, due = ?3, status = ?4, progress = ?5,
                   version = version + 1, updated_by = ?6, updated_at = ?7
                 WHERE id = ?8 AND version = ?9",
                params![
                    it.title,
                    it.owner,
                    it.due.to_string(),
                    it.status,
                    it.progress,
                    it.updated_by,
                    fmt(it.updated_at),
                    it.id,
                    expected
                ],
            )?;
            if n == 0 {
                return Ok(false);
            }
            let now = c.query_row(
                &format!("SELECT {TCOLS} FROM street_items WHERE id = ?1"),
                params![it.id],
                item,
            )?;
            record(
                c,
                &StreetChange {
                    street: now.street.clone(),
                    subject: "item".into(),
                    subject_id: now.id,
                    action: "updated".into(),
                    after: item_json(&now),
                    by: now.updated_by.clone(),
                    at: now.updated_at,
                },
            )?;
            Ok(true)
        })
    }

    fn street_item(&self, id: i64) -> Result<Option<StreetItemRow>> {
        self.read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {TCOLS} FROM street_items WHERE id = ?1"),
                params![id],
                item,
            )
            .optional()?)
        })
    }

    fn street_items(&self, street: &str) -> Result<Vec<StreetItemRow>> {
        let street = street.to_string();
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {TCOLS} FROM street_items WHERE street = ?1 ORDER BY kind, due, id"
            ))?;
            let rows = s
                .query_map(params![street], item)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    fn street_changes(&self, street: &str, limit: u64) -> Result<Vec<StreetChange>> {
        let street = street.to_string();
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT street, subject, subject_id, action, after, by_user, at FROM street_changes
                 WHERE street = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = s
                .query_map(params![street, limit as i64], |r| {
                    Ok(StreetChange {
                        street: r.get(0)?,
                        subject: r.get(1)?,
                        subject_id: r.get(2)?,
                        action: r.get(3)?,
                        after: r.get(4)?,
                        by: r.get(5)?,
                        at: at(r, 6)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}
