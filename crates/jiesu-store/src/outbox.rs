//! The outbox of notifications (通知发件箱): the event log read after a saved position.

use crate::Result;
use jiesu_domain::{Event, TicketId};

/// Reads the event log in write order for the notifier (the cursor itself is a setting).
pub trait OutboxStore: Send + Sync {
    /// Events after the given log position, oldest first, with their positions, tickets and
    /// ticket numbers.
    fn events_after(
        &self,
        position: i64,
        limit: u32,
    ) -> Result<Vec<(i64, TicketId, String, Event)>>;
    /// Events of kinds `kinds` that happened in `[from, to)`, by time then position, `offset`
    /// skipped, at most `limit`, with their positions, tickets and ticket numbers (Open311's
    /// service request updates).
    fn events_between(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        kinds: &[&str],
        offset: u32,
        limit: u32,
    ) -> Result<Vec<(i64, TicketId, String, Event)>>;
}
