//! The review queue and escalation look-ups in SQLite.

use super::SqliteStore;
use crate::{Result, ReviewStore};
use jiesu_domain::TicketId;

impl ReviewStore for SqliteStore {
    /// Tickets with at least one pending return or extension request, oldest ticket first.
    fn pending_review_tickets(&self) -> Result<Vec<TicketId>> {
        self.read(|c| {
            let mut s = c.prepare(
                "SELECT DISTINCT ticket_id FROM assignments
                 WHERE return_pending = 1 OR extension_pending = 1 ORDER BY ticket_id",
            )?;
            let ids = s.query_map([], |r| r.get::<_, i64>(0))?;
            Ok(ids.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// 提级响应 — tickets escalated at least once, the most recently escalated first (at most
    /// `limit`). The escalations themselves are read from each ticket's folded state.
    fn escalated_tickets(&self, limit: u32) -> Result<Vec<TicketId>> {
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT ticket_id, MAX(at) AS last FROM events WHERE kind = 'escalated'
                 GROUP BY ticket_id ORDER BY last DESC LIMIT ?1",
            )?;
            let ids = s.query_map([limit], |r| r.get::<_, i64>(0))?;
            Ok(ids.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}
