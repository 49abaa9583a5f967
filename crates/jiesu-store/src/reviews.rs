//! The centre's review queue (审核队列): tickets on which a unit's return (退单) or extension
//! (延期) request waits for a decision. The requests and their times live in the event log; this
//! only finds the tickets, from the assignment projection's `return_pending`/`extension_pending`.

use crate::Result;
use jiesu_domain::TicketId;

/// The centre's review queue and the escalated tickets.
pub trait ReviewStore: Send + Sync {
    /// Tickets with at least one pending return or extension request, oldest ticket first.
    fn pending_review_tickets(&self) -> Result<Vec<TicketId>>;
    /// 提级响应 — tickets escalated at least once, the most recently escalated first (at most
    /// `limit`). The escalations themselves are read from each ticket's folded state.
    fn escalated_tickets(&self, limit: u32) -> Result<Vec<TicketId>>;
}
