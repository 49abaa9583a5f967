//! Callback re-checks in PostgreSQL (the twin of `sqlite/recheck.rs`).

use super::conn::{Conn, RowExt};
use super::PgStore;
use crate::time::fmt;
use crate::UnresolvedCallback;
use crate::{CallbackStore, NewRecheck, RecheckRecord, RecheckVerdict, Result, StoreError};
use chrono::{DateTime, Utc};
use jiesu_domain::TicketId;

fn record_row(r: &postgres::Row) -> Result<RecheckRecord> {
    let v = RecheckVerdict::parse(&r.get_str(5)?).unwrap_or(RecheckVerdict::Disagree);
    Ok(RecheckRecord {
        id: r.get_i64(0)?,
        ticket_id: r.get_i64(1)?,
        number: r.get_str(2)?,
        round: r.get_u32(3)?,
        callback_at: r.get_str(4)?,
        verdict: v,
        verdict_zh: v.label_zh().to_string(),
        note: r.get_opt_str(6)?,
        user: r.get_str(7)?,
        at: r.get_str(8)?,
    })
}

const SELECT: &str = "SELECT r.id, r.ticket_id, COALESCE(t.number, ''), r.round, r.callback_at, r.verdict, r.note, r.user_name, r.at
     FROM callback_rechecks r LEFT JOIN tickets t ON t.id = r.ticket_id";

impl CallbackStore for PgStore {
    /// Records a re-check (and its audit line) in one transaction. A second re-check of the same
    /// (ticket, round) is refused with `Conflict`.
    fn record_recheck(&self, n: NewRecheck) -> Result<RecheckRecord> {
        self.write(move |c: &mut Conn| {
            let done = || {
                StoreError::Conflict(format!(
                    "the callback of ticket {} (round {}) has already been re-checked",
                    n.ticket_id, n.round
                ))
            };
            let exists = c.query_opt(
                "SELECT id FROM callback_rechecks WHERE ticket_id=?1 AND round=?2",
                &crate::pv![n.ticket_id, n.round],
            )?;
            if exists.is_some() {
                return Err(done());
            }
            // the check above keeps identity ids without gaps; ON CONFLICT gives the same answer
            // when another server recorded the re-check in between
            let id = c
                .query_opt(
                    "INSERT INTO callback_rechecks (ticket_id, round, callback_at, verdict, note, user_name, at)
                     VALUES (?1,?2,?3,?4,?5,?6,?7) ON CONFLICT (ticket_id, round) DO NOTHING RETURNING id",
                    &crate::pv![
                        n.ticket_id,
                        n.round,
                        fmt(n.callback_at),
                        n.verdict.as_str(),
                        &n.note,
                        &n.user,
                        fmt(n.now)
                    ],
                )?
                .ok_or_else(done)?
                .get_i64(0)?;
            c.exec(
                "INSERT INTO audit_log (at, user_name, action, ticket_id, detail) VALUES (?1,?2,?3,?4,?5)",
                &crate::pv![
                    fmt(n.now),
                    &n.user,
                    "callback_recheck",
                    n.ticket_id,
                    format!("round {}: {}", n.round, n.verdict.as_str())
                ],
            )?;
            record_row(&c.query_one(&format!("{SELECT} WHERE r.id=?1"), &crate::pv![id])?)
        })
    }

    /// The re-checks of these tickets (any round), oldest first.
    fn rechecks_of(&self, tickets: &[TicketId]) -> Result<Vec<RecheckRecord>> {
        // the ids travel as one JSON array, as in SQLite (`json_each`)
        let ids = serde_json::to_string(tickets)?;
        self.read(move |c| {
            c.query(
                &format!(
                    "{SELECT} WHERE r.ticket_id IN (SELECT value::BIGINT FROM json_array_elements_text(?1::TEXT::json)) ORDER BY r.id"
                ),
                &crate::pv![ids],
            )?
            .iter()
            .map(record_row)
            .collect()
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
            c.query(
                &format!("{SELECT} WHERE r.at >= ?1 AND r.at < ?2 ORDER BY r.id DESC LIMIT ?3"),
                &crate::pv![fmt(from), fmt(to), limit],
            )?
            .iter()
            .map(record_row)
            .collect()
        })
    }

    /// Tickets called back as 未解决 in their current round and neither reopened nor closed
    /// since, the oldest callback first (at most `limit`).
    fn unresolved_callbacks(&self, limit: u32) -> Result<Vec<UnresolvedCallback>> {
        self.read(move |c| {
            // SQLite sorts NULL first in ascending order, PostgreSQL last: NULLS FIRST keeps the
            // order the same
            c.query(
                "SELECT id, number, title, category_code, lead_unit, round, cb_satisfaction, cb_at FROM tickets
                 WHERE status='callback_done' AND cb_resolution='unresolved' ORDER BY cb_at NULLS FIRST, id LIMIT ?1",
                &crate::pv![limit],
            )?
            .iter()
            .map(|r| {
                Ok(UnresolvedCallback {
                    id: r.get_i64(0)?,
                    number: r.get_str(1)?,
                    title: r.get_str(2)?,
                    category_code: r.get_str(3)?,
                    lead_unit: r.get_opt_str(4)?,
                    round: r.get_u32(5)?,
                    satisfaction: r.get_opt_str(6)?,
                    callback_at: r.get_opt_str(7)?,
                })
            })
            .collect()
        })
    }
}
