//! The notification outbox in PostgreSQL (the twin of `sqlite/outbox.rs`).
//!
//! SQLite's outbox position is the event's `rowid`; PostgreSQL has none. Both backends give
//! every event its place in the log, `pos` (0, 1, 2, … in the order written), and in SQLite
//! `rowid = pos + 1` (rows are only ever appended), so here the position is `pos + 1`: the same
//! numbers, the same cursor (`notify_cursor` starts at 0 and names the last event delivered).

use super::conn::RowExt;
use super::{numbered_event, PgStore};
use crate::{OutboxStore, Result};
use jiesu_domain::{Event, TicketId};

impl OutboxStore for PgStore {
    /// Events after the given log position, oldest first, with their ticket numbers: the outbox
    /// of notifications.
    fn events_after(
        &self,
        position: i64,
        limit: u32,
    ) -> Result<Vec<(i64, TicketId, String, Event)>> {
        self.read(move |c| {
            let rows = c.query(
                "SELECT e.pos + 1, e.ticket_id, t.number, e.seq, e.at, e.actor, e.role, e.unit_code, e.payload, e.sealed
                 FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE e.pos >= ?1 ORDER BY e.pos LIMIT ?2",
                &crate::pv![position, limit],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let (id, number, e) = numbered_event(c, &self.keys, r, 1)?;
                out.push((r.get_i64(0)?, id, number, e));
            }
            Ok(out)
        })
    }

    fn events_between(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        kinds: &[&str],
        offset: u32,
        limit: u32,
    ) -> Result<Vec<(i64, TicketId, String, Event)>> {
        let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
        let kinds = serde_json::to_string(&kinds)?;
        self.read(move |c| {
            let rows = c.query(
                "SELECT e.pos + 1, e.ticket_id, t.number, e.seq, e.at, e.actor, e.role, e.unit_code, e.payload, e.sealed
                 FROM events e JOIN tickets t ON t.id = e.ticket_id
                 WHERE e.at >= ?1 AND e.at < ?2 AND e.kind IN (SELECT jsonb_array_elements_text(?3::TEXT::jsonb))
                 ORDER BY e.at, e.pos LIMIT ?4 OFFSET ?5",
                &crate::pv![crate::time::fmt(from), crate::time::fmt(to), kinds, limit, offset],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let (id, number, e) = numbered_event(c, &self.keys, r, 1)?;
                out.push((r.get_i64(0)?, id, number, e));
            }
            Ok(out)
        })
    }
}
