//! Callback re-checks in SQLite.

use super::SqliteStore;
use crate::time::fmt;
use crate::UnresolvedCallback;
use crate::{CallbackStore, NewRecheck, RecheckRecord, RecheckVerdict, Result, StoreError};
use chrono::{DateTime, Utc};
use jiesu_domain::TicketId;
use rusqlite::{params, OptionalExtension};

fn record_row(r: &rusqlite::Row) -> rusqlite::Result<RecheckRecord> {
    let verdict: String = r.get(5)?;
    let v = RecheckVerdict::parse(&verdict).unwrap_or(RecheckVerdict::Disagree);
    Ok(RecheckRecord {
        id: r.get(0)?,
        ticket_id: r.get(1)?,
        number: r.get(2)?,
        round: r.get(3)?,
        callback_at: r.get(4)?,
        verdict: v,
        verdict_zh: v.label_zh().to_string(),
        note: r.get(6)?,
        user: r.get(7)?,
        at: r.get(8)?,
    })
}

const SELECT: &str = "SELECT r.id, r.ticket_id, COALESCE(t.number, ''), r.round, r.callback_at, r.verdict, r.note, r.user_name, r.at
     FROM callback_rechecks r LEFT JOIN tickets t ON t.id = r.ticket_id";

impl CallbackStore for SqliteStore {
    /// Records a re-check (and its audit line) in one transaction. A second re-check of the same
    /// (ticket, round) is refused with `Conflict`.
    fn record_recheck(&self, n: NewRecheck) -> Result<RecheckRecord> {
        self.write(move |c| {
            let exists: Option<i64> = c
                .query_row(
                    "SELECT id FROM callback_rechecks WHERE ticket_id=?1 AND round=?2",
                    params![n.ticket_id, n.round],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_some() {
                return Err(StoreError::Conflict(format!(
                    "the callback of ticket {} (round {}) has already been re-checked",
                    n.ticket_id, n.round
                )));
            }
            c.execute(
                "INSERT INTO callback_rechecks (ticket_id, round, callback_at, verdict, note, user_name, at)
                 VALUES (?1,?2,?3,?4,?5,?6,?7)",
                params![
                    n.ticket_id,
                    n.round,
                    fmt(n.callback_at),
                    n.verdict.as_str(),
                    n.note,
                    n.user,
                    fmt(n.now)
                ],
            )?;
            let id = c.last_insert_rowid();
            c.execute(
                "INSERT INTO audit_log (at, user_name, action, ticket_id, detail) VALUES (?1,?2,?3,?4,?5)",
                params![
                    fmt(n.now),
                    n.user,
                    "callback_recheck",
                    n.ticket_id,
                    format!("round {}: {}", n.round, n.verdict.as_str())
                ],
            )?;
            Ok(c.query_row(&format!("{SELECT} WHERE r.id=?1"), [id], record_row)?)
        })
    }

    /// The re-checks of these tickets (any round), oldest first.
    fn rechecks_of(&self, tickets: &[TicketId]) -> Result<Vec<RecheckRecord>> {
        let ids = serde_json::to_string(tickets)?;
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "{SELECT} WHERE r.ticket_id IN (SELECT value FROM json_each(?1)) ORDER BY r.id"
            ))?;
            let rows = s.query_map([ids], record_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The re-checks recorded in `[from, to)`, newest first (at most `limit`).
    fn rechecks_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<RecheckRecord>> {
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "{SELECT} WHERE r.at >= ?1 AND r.at < ?2 ORDER BY r.id DESC LIMIT ?3"
            ))?;
            let rows = s.query_map(params![fmt(from), fmt(to), limit], record_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Tickets called back as 未解决 in their current round and neither reopened nor closed
    /// since, the oldest callback first (at most `limit`).
    fn unresolved_callbacks(&self, limit: u32) -> Result<Vec<UnresolvedCallback>> {
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT id, number, title, category_code, lead_unit, round, cb_satisfaction, cb_at FROM tickets
                 WHERE status='callback_done' AND cb_resolution='unresolved' ORDER BY cb_at, id LIMIT ?1",
            )?;
            let rows = s.query_map([limit], |r| {
                Ok(UnresolvedCallback {
                    id: r.get(0)?,
                    number: r.get(1)?,
                    title: r.get(2)?,
                    category_code: r.get(3)?,
                    lead_unit: r.get(4)?,
                    round: r.get(5)?,
                    satisfaction: r.get(6)?,
                    callback_at: r.get(7)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}
