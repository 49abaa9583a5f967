//! The centre's review queue (审核队列): tickets on which a unit's return (退单) or extension
//! (延期) request waits for a decision. The requests and their times live in the event log; this
//! only finds the tickets, from the assignment projection's `return_pending`/`extension_pending`.

use crate::{Result, SqliteStore};
use jiesu_domain::TicketId;

impl SqliteStore {
    /// Tickets with at least one pending return or extension request, oldest ticket first.
    pub fn pending_review_tickets(&self) -> Result<Vec<TicketId>> {
        self.read(|c| {
            let mut s = c.prepare(
                "SELECT DISTINCT ticket_id FROM assignments
                 WHERE return_pending = 1 OR extension_pending = 1 ORDER BY ticket_id",
            )?;
            let ids = s.query_map([], |r| r.get::<_, i64>(0))?;
            Ok(ids.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}

impl SqliteStore {
    /// 提级响应 — tickets escalated at least once, the most recently escalated first (at most
    /// `limit`). The escalations themselves are read from each ticket's folded state.
    pub fn escalated_tickets(&self, limit: u32) -> Result<Vec<TicketId>> {
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
