//! A street's work (interviews, problem and project lists, their changes), in PostgreSQL (the
//! SQLite twin is `sqlite/street_work.rs`).

use super::*;
use crate::street_work::{
    interview_json, item_json, InterviewRow, StreetChange, StreetItemRow, StreetWorkStore,
};
use chrono::NaiveDate;

const ICOLS: &str =
    "id, street, district, held_on, attendees, findings, alert_id, filed_by, filed_at";
const TCOLS: &str = "id, street, district, kind, title, owner, due, status, progress, version, updated_by, created_at, updated_at";

fn day(r: &postgres::Row, i: usize) -> Result<NaiveDate> {
    let s = r.get_str(i)?;
    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .map_err(|e| StoreError::Db(format!("street work column {i} {s:?}: {e}")))
}

fn at(r: &postgres::Row, i: usize) -> Result<chrono::DateTime<chrono::Utc>> {
    Ok(crate::time::parse(&r.get_str(i)?).unwrap_or_default())
}

fn interview(r: &postgres::Row) -> Result<InterviewRow> {
    Ok(InterviewRow {
        id: r.get_i64(0)?,
        street: r.get_str(1)?,
        district: r.get_str(2)?,
        held_on: day(r, 3)?,
        attendees: serde_json::from_str(&r.get_str(4)?).unwrap_or_default(),
        findings: r.get_str(5)?,
        alert_id: r.get_opt_i64(6)?,
        filed_by: r.get_str(7)?,
        filed_at: at(r, 8)?,
    })
}

fn item(r: &postgres::Row) -> Result<StreetItemRow> {
    Ok(StreetItemRow {
        id: r.get_i64(0)?,
        street: r.get_str(1)?,
        district: r.get_str(2)?,
        kind: r.get_str(3)?,
        title: r.get_str(4)?,
        owner: r.get_str(5)?,
        due: day(r, 6)?,
        status: r.get_str(7)?,
        progress: r.get_str(8)?,
        version: r.get_i64(9)?,
        updated_by: r.get_str(10)?,
        created_at: at(r, 11)?,
        updated_at: at(r, 12)?,
    })
}

fn record(c: &mut Conn, ch: &StreetChange) -> Result<()> {
    c.exec(
        "INSERT INTO street_changes (street, subject, subject_id, action, after, by_user, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &crate::pv![
            &ch.street,
            &ch.subject,
            ch.subject_id,
            &ch.action,
            &ch.after,
            &ch.by,
            fmt(ch.at)
        ],
    )?;
    Ok(())
}

impl StreetWorkStore for PgStore {
    fn file_interview(&self, mut i: InterviewRow) -> Result<i64> {
        self.write(move |c: &mut Conn| {
            i.id = c
                .query_one(
                    "INSERT INTO street_interviews (street, district, held_on, attendees, findings, alert_id, filed_by, filed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
                    &crate::pv![
                        &i.street,
                        &i.district,
                        i.held_on.to_string(),
                        serde_json::to_string(&i.attendees).unwrap_or_else(|_| "[]".into()),
                        &i.findings,
                        i.alert_id,
                        &i.filed_by,
                        fmt(i.filed_at)
                    ],
                )?
                .get_i64(0)?;
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
        self.read(|c| {
            c.query(
                &format!(
                    "SELECT {ICOLS} FROM street_interviews WHERE street = ?1 ORDER BY held_on DESC, id DESC"
                ),
                &crate::pv![street],
            )?
            .iter()
            .map(interview)
            .collect()
        })
    }

    fn interviews_of(&self, units: Option<&[String]>, limit: u64) -> Result<Vec<InterviewRow>> {
        let units = units.map(|u| serde_json::to_string(u).unwrap_or_else(|_| "[]".into()));
        self.read(|c| {
            c.query(
                &format!(
                    "SELECT {ICOLS} FROM street_interviews
                     WHERE ?1::TEXT IS NULL OR street IN (SELECT jsonb_array_elements_text(?1::TEXT::jsonb))
                       OR district IN (SELECT jsonb_array_elements_text(?1::TEXT::jsonb))
                     ORDER BY held_on DESC, id DESC LIMIT ?2"
                ),
                &crate::pv![units, i64::try_from(limit).unwrap_or(i64::MAX)],
            )?
            .iter()
            .map(interview)
            .collect()
        })
    }

    fn add_street_item(&self, mut it: StreetItemRow) -> Result<i64> {
        self.write(move |c: &mut Conn| {
            it.version = 1;
            it.updated_at = it.created_at;
            it.id = c
                .query_one(
                    "INSERT INTO street_items (street, district, kind, title, owner, due, status, progress, version,
                       updated_by, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10, ?10) RETURNING id",
                    &crate::pv![
                        &it.street,
                        &it.district,
                        &it.kind,
                        &it.title,
                        &it.owner,
                        it.due.to_string(),
                        &it.status,
                        &it.progress,
                        &it.updated_by,
                        fmt(it.created_at)
                    ],
                )?
                .get_i64(0)?;
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
        self.write(move |c: &mut Conn| {
            let Some(r) = c.query_opt(
                &format!(
                    "UPDATE street_items SET title = ?1, owner = ?2, due = ?3, status = ?4, progress = ?5,
                       version = version + 1, updated_by = ?6, updated_at = ?7
                     WHERE id = ?8 AND version = ?9 RETURNING {TCOLS}"
                ),
                &crate::pv![
                    &it.title,
                    &it.owner,
                    it.due.to_string(),
                    &it.status,
                    &it.progress,
                    &it.updated_by,
                    fmt(it.updated_at),
                    it.id,
                    expected
                ],
            )?
            else {
                return Ok(false);
            };
            let now = item(&r)?;
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
        self.read(|c| {
            c.query_opt(
                &format!("SELECT {TCOLS} FROM street_items WHERE id = ?1"),
                &crate::pv![id],
            )?
            .as_ref()
            .map(item)
            .transpose()
        })
    }

    fn street_items(&self, street: &str) -> Result<Vec<StreetItemRow>> {
        self.read(|c| {
            c.query(
                &format!(
                    "SELECT {TCOLS} FROM street_items WHERE street = ?1 ORDER BY kind, due, id"
                ),
                &crate::pv![street],
            )?
            .iter()
            .map(item)
            .collect()
        })
    }

    fn street_changes(&self, street: &str, limit: u64) -> Result<Vec<StreetChange>> {
        self.read(|c| {
            c.query(
                "SELECT street, subject, subject_id, action, after, by_user, at FROM street_changes
                 WHERE street = ?1 ORDER BY id DESC LIMIT ?2",
                &crate::pv![street, i64::try_from(limit).unwrap_or(i64::MAX)],
            )?
            .iter()
            .map(|r| {
                Ok(StreetChange {
                    street: r.get_str(0)?,
                    subject: r.get_str(1)?,
                    subject_id: r.get_i64(2)?,
                    action: r.get_str(3)?,
                    after: r.get_str(4)?,
                    by: r.get_str(5)?,
                    at: at(r, 6)?,
                })
            })
            .collect()
        })
    }
}
