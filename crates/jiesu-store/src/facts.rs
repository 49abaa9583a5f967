//! The facts scoring reads (考核事实): assignment rows, the database state they were read at,
//! and the other counts the public scorecard shows.

use crate::Result;
use chrono::{DateTime, Utc};
use jiesu_domain::TicketId;
use serde::{Deserialize, Serialize};

/// One assignment with the facts scoring uses (no personal data): the row of `jiesu export tickets`.
/// Times are RFC 3339 strings as stored; the callback fields hold the final round's answers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AssignmentFact {
    pub ticket_id: TicketId,
    pub number: String,
    pub unit_code: String,
    pub role: String,
    #[serde(rename = "type")]
    pub request_type: String,
    pub category_code: String,
    pub district_code: String,
    pub street_code: String,
    pub tier: String,
    pub state: String,
    pub round: u32,
    pub first_dispatched_at: Option<String>,
    pub dispatched_at: String,
    pub responded_at: Option<String>,
    pub respond_deadline: String,
    pub finished_at: Option<String>,
    pub finish_deadline: String,
    pub contacted: Option<bool>,
    pub resolution: Option<String>,
    pub satisfaction: Option<String>,
    pub exempt_reason: Option<String>,
}

/// What scoring scans.
pub trait FactStore: Send + Sync {
    /// Streams the assignment facts of tickets first dispatched in `[from, to)`, ordered by ticket
    /// and assignment.
    fn for_each_fact(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut dyn FnMut(AssignmentFact) -> Result<()>,
    ) -> Result<u64>;
    /// The database's state as far as facts are concerned: the last event written (the event log
    /// is append-only, so any change to any ticket changes it). Cheap: one lookup at the end of
    /// the log. Opaque; compare for equality only.
    fn fact_fingerprint(&self) -> Result<String>;
    /// The UTC month (`YYYY-MM`) with the most first dispatches, if any ticket was dispatched.
    fn busiest_dispatch_month(&self) -> Result<Option<String>>;
    /// Praise (表扬) requests credited to the units they praise, created in `[from, to)`.
    fn praise_by_unit(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(String, i64)>>;
}
