//! The notification outbox in SQLite.

use super::*;

impl OutboxStore for SqliteStore {
    /// Events after the given log position (row id), oldest first, with their ticket numbers: the
    /// outbox of notifications.
    fn events_after(
        &self,
        position: i64,
        limit: u32,
    ) -> Result<Vec<(i64, TicketId, String, Event)>> {
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT e.rowid, e.ticket_id, t.number, e.seq, e.at, e.actor, e.role, e.unit_code, e.payload, e.sealed
                 FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE e.rowid > ?1 ORDER BY e.rowid LIMIT ?2",
            )?;
            let mut rows = s.query(params![position, limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let (id, number, e) = numbered_event(c, &self.keys, r, 1)?;
                out.push((r.get(0)?, id, number, e));
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
        let kinds = serde_json::to_string(kinds)?;
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT e.rowid, e.ticket_id, t.number, e.seq, e.at, e.actor, e.role, e.unit_code, e.payload, e.sealed
                 FROM events e JOIN tickets t ON t.id = e.ticket_id
                 WHERE e.at >= ?1 AND e.at < ?2 AND e.kind IN (SELECT value FROM json_each(?3))
                 ORDER BY e.at, e.rowid LIMIT ?4 OFFSET ?5",
            )?;
            let mut rows = s.query(params![fmt(from), fmt(to), kinds, limit, offset])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let (id, number, e) = numbered_event(c, &self.keys, r, 1)?;
                out.push((r.get(0)?, id, number, e));
            }
            Ok(out)
        })
    }
}
