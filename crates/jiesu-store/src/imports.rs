//! Legacy imports (`jiesu import csv`): which rows of another system's export are already tickets.
//! Each imported ticket records its source and the row's key in `import_sources`, written in the
//! same transaction as its events, so a re-run of the same file imports nothing twice.

use crate::Result;
use jiesu_domain::{Event, TicketState};
use std::collections::HashSet;

/// One imported history and the source row it came from.
#[derive(Debug, Clone)]
pub struct SourcedTicket {
    /// The row's key in the source system (its unique id column).
    pub key: String,
    /// The folded state, built through the domain's commands.
    pub state: TicketState,
    /// The events that fold to `state`.
    pub events: Vec<Event>,
}

/// The record of imported source rows.
pub trait ImportStore: Send + Sync {
    /// The keys already imported from `source` (the mapping's source name).
    fn imported_keys(&self, source: &str) -> Result<HashSet<String>>;
    /// The id the next new ticket gets.
    fn next_ticket_id(&self) -> Result<i64>;
    /// Writes the histories and their source keys in one transaction. A key already recorded for
    /// `source`, or a ticket id already taken, fails the whole batch and writes nothing.
    fn import_sourced(&self, source: &str, batch: Vec<SourcedTicket>) -> Result<()>;
}
