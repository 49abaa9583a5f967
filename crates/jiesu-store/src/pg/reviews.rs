//! The review queue and escalation look-ups in PostgreSQL (the twin of `sqlite/reviews.rs`).

use super::conn::RowExt;
use super::PgStore;
use crate::{Result, ReviewStore};
use jiesu_domain::TicketId;

impl ReviewStore for PgStore {
    /// Tickets with at least one pending return or extension request, oldest ticket first.
    fn pending_review_tickets(&self) -> Result<Vec<TicketId>> {
        self.read(|c| {
            c.query(
                "SELECT DISTINCT ticket_id FROM assignments
                 WHERE return_pending = 1 OR extension_pending = 1 ORDER BY ticket_id",
                &[],
            )?
            .iter()
            .map(|r| r.get_i64(0))
            .collect()
        })
    }

    /// 提级响应 — tickets escalated at least once, the most recently escalated first (at most
    /// `limit`). The escalations themselves are read from each ticket's folded state.
    fn escalated_tickets(&self, limit: u32) -> Result<Vec<TicketId>> {
        self.read(move |c| {
            // ties (the same last time) in ticket order, as SQLite's stable sort of its grouped
            // rows gives them
            c.query(
                "SELECT ticket_id, MAX(at) AS last FROM events WHERE kind = 'escalated'
                 GROUP BY ticket_id ORDER BY last DESC, ticket_id LIMIT ?1",
                &crate::pv![limit],
            )?
            .iter()
            .map(|r| r.get_i64(0))
            .collect()
        })
    }
}
