//! Tickets (工单): the event log and its projections — take in, change, load, list, bulk import,
//! attachments and the audit trail of unmasked reads.

use crate::{EncodedTicket, Result};
use chrono::{DateTime, Utc};
use jiesu_domain::{ActorRef, Event, TicketId, TicketState};
use serde::{Deserialize, Serialize};

/// A new ticket to take in.
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// Checked by the domain ([`jiesu_domain::intake::Intake::parse`] or `Intake::check`): the
    /// store does not check it again.
    pub intake: jiesu_domain::intake::ParsedIntake,
    pub actor: ActorRef,
    pub now: DateTime<Utc>,
    /// Client-supplied `Idempotency-Key`: the same key from the same user with the same request
    /// returns the first ticket; with a different request it is refused (`Invalid` naming
    /// `Idempotency-Key`).
    pub idempotency_key: Option<IdempotencyKey>,
    /// 查询码 — the citizen's random tracking code, stored with the ticket in the same
    /// transaction (not an event: it is no fact of the case, and units never see it).
    pub tracking_code: Option<String>,
}

/// An `Idempotency-Key` with the hash of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    /// The client's key.
    pub key: String,
    /// A hash of the request (the caller's canonical form, e.g. SHA-256 hex of the intake JSON).
    pub request_hash: String,
}

/// 审计记录 — one line of the audit log (an unmasked read, a failed log-in, a lock-out, …).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// The acting user, or the name a failed log-in was tried with.
    pub user: String,
    pub action: String,
    pub ticket: Option<TicketId>,
    pub detail: String,
}

/// The outcome of a create: the ticket and whether it already existed under the idempotency key.
#[derive(Debug, Clone)]
pub struct Created {
    pub state: TicketState,
    pub events: Vec<Event>,
    pub replayed: bool,
    /// The ticket's tracking code (the first create's, on a replay).
    pub tracking_code: Option<String>,
}

/// A change to an existing ticket, run inside the write transaction on the current state: it checks
/// what it must (authorization, the domain's `decide`) and returns the new events, already applied
/// to the state it was given.
pub type Change = Box<dyn FnOnce(&mut TicketState) -> Result<Vec<Event>> + Send>;

/// Filters for the ticket list. `units` restricts to tickets with an assignment of one of these
/// units (the caller expands a unit's scope); `None` means all.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TicketQuery {
    pub units: Option<Vec<String>>,
    /// Only assignments still active for `units` (a unit's work queue).
    pub active_only: bool,
    /// One status (wire name), or several separated by commas (any of them).
    pub status: Option<String>,
    /// A category code and everything below it, or several separated by commas (any of them).
    pub category_prefix: Option<String>,
    pub district: Option<String>,
    pub street: Option<String>,
    /// 渠道 — one intake channel (wire name, e.g. `phone`).
    pub channel: Option<String>,
    /// 诉求类型 — one request type (wire name, e.g. `complaint`).
    pub request_type: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only tickets whose lead finish deadline has passed at `now` while still open.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Sort by the nearest deadline instead of newest first: the nearest running clock of the
    /// `units`' active assignment ([`TicketSummary::next_clock`]) when `units` is set, else the
    /// lead's finish deadline.
    pub by_deadline: bool,
    /// Only the tickets of this requester phone (matched by its keyed hash, never as plaintext).
    pub phone: Option<String>,
    pub page: u32,
    pub page_size: u32,
}

/// One row of the ticket list (no personal data).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketSummary {
    pub id: TicketId,
    pub number: String,
    pub created_at: String,
    pub channel: String,
    #[serde(rename = "type")]
    pub request_type: String,
    pub category_code: String,
    pub district_code: String,
    pub street_code: String,
    pub status: String,
    pub title: String,
    pub lead_unit: Option<String>,
    pub finish_deadline: Option<String>,
    /// The nearest running clock of the queried `units`' active assignment (a unit's queue);
    /// `None` without `units` or when none of them has an active assignment on the ticket.
    pub next_clock: Option<NextClock>,
    /// The community (社区) the request is in, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community_code: Option<String>,
}

/// 下一个时限 — the nearest clock still running on a unit's active assignment: the sign clock
/// (签收) until signed, the respond clock (响应) until responded, else the finish clock (办结);
/// whichever of the running ones is due first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextClock {
    /// `sign`, `respond` or `finish`.
    pub clock: String,
    /// When it is due (RFC 3339, UTC).
    pub due: String,
    /// When it started: the assignment's dispatch (RFC 3339, UTC).
    pub start: String,
    /// The unit whose assignment it is.
    pub unit_code: String,
}

/// An attachment's metadata (the bytes live on disk at `stored_path`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttachmentRow {
    pub id: String,
    pub ticket_id: TicketId,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub stored_path: String,
    pub created_at: String,
}

/// An active assignment with its clocks (for the scheduler and the overdue board).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenAssignment {
    pub ticket_id: TicketId,
    pub unit_code: String,
    pub role: String,
    pub state: String,
    pub dispatched_at: String,
    pub sign_deadline: String,
    pub respond_deadline: String,
    pub finish_deadline: String,
    pub signed_at: Option<String>,
    pub responded_at: Option<String>,
    pub extensions_granted: u32,
    /// clock → (epoch, thresholds reported)
    pub reminders: std::collections::BTreeMap<String, (u32, u8)>,
    pub district_code: String,
    /// The assignment's deadline tier (`2h`, `24h`, `7d`, `15d`) and the ticket's category: which
    /// deadline rule, hence which time basis (calendar or working time), its clocks follow.
    pub tier: String,
    pub category_code: String,
}

/// A page of results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

/// A callback that receives the outcome of a write once it is durable.
pub type Done<T> = Box<dyn FnOnce(Result<T>) + Send>;

/// Tickets and their event log (工单). Every write is durable (committed) before it returns or
/// before its `done` callback runs; a refused change rolls back and changes nothing.
pub trait TicketStore: Send + Sync {
    fn create_ticket(&self, new: NewTicket) -> Result<Created>;
    /// Takes a request in without blocking the caller; `done` gets the outcome once it is durable
    /// (so an async server can await it without parking a thread per request).
    fn create_ticket_then(&self, new: NewTicket, done: Done<Created>);
    fn update_ticket(&self, id: TicketId, change: Change) -> Result<(TicketState, Vec<Event>)>;
    /// Two tickets changed in one transaction (merge: the duplicate and its primary).
    fn update_two(
        &self,
        a: (TicketId, Change),
        b: (TicketId, Change),
    ) -> Result<(TicketState, TicketState)>;
    fn load_ticket(&self, id: TicketId) -> Result<Option<(TicketState, Vec<Event>)>>;
    fn ticket_id_by_number(&self, number: &str) -> Result<Option<TicketId>>;
    fn list_tickets(&self, q: &TicketQuery) -> Result<Page<TicketSummary>>;
    /// 待回访队列 — one page of the callback desk's queue: tickets whose result was submitted
    /// (结果已提交, nearest finish deadline first), then open tickets whose lead finish deadline
    /// passed at `now` (same order); `total` counts both. Every ticket of the queue is on exactly
    /// one page. `page` starts at 1; a page beyond the end is empty.
    fn callback_queue(
        &self,
        now: DateTime<Utc>,
        page: u32,
        page_size: u32,
    ) -> Result<Page<TicketSummary>>;
    /// How many tickets are stored.
    fn ticket_count(&self) -> Result<u64>;
    /// Bulk load of complete histories (the demo-city generator, legacy imports).
    fn import(&self, tickets: Vec<(TicketState, Vec<Event>)>) -> Result<()>;
    /// Encodes a complete history on the calling thread, for [`import_encoded`](Self::import_encoded):
    /// a new data key, the sealed and chained events, the projection rows.
    fn encode_ticket(&self, st: &TicketState, events: &[Event]) -> Result<EncodedTicket>;
    /// Bulk load of histories encoded by [`encode_ticket`](Self::encode_ticket) on the caller's
    /// threads: one write transaction; the batch comes back to be freed by the caller, off the writer.
    fn import_encoded(&self, batch: Vec<EncodedTicket>) -> Result<Vec<EncodedTicket>>;
    /// Prepares a large bulk import (drops the secondary indexes); [`end_bulk`](Self::end_bulk)
    /// rebuilds them.
    fn begin_bulk(&self) -> Result<()>;
    /// Rebuilds what [`begin_bulk`](Self::begin_bulk) dropped and refreshes the planner's
    /// statistics. `sampled`: statistics from a sample, and index sorts spilled to disk rather
    /// than memory (a Beijing-scale build stays within its memory budget).
    fn end_bulk(&self, sampled: bool) -> Result<()>;
    /// Recomputes every projection row from the event log (the invariant: projections are a fold
    /// of events). Returns the number of tickets.
    fn rebuild_projections(&self) -> Result<u64>;
    /// Streams every active assignment with its clocks.
    fn open_assignments(&self, f: &mut dyn FnMut(OpenAssignment) -> Result<()>) -> Result<u64>;
    /// The newest events of these kinds acted by or addressed to these units (the event's `unit`,
    /// e.g. a supervisor's 督办催办) — the unit inbox — with ticket numbers.
    fn unit_events(
        &self,
        units: &[String],
        kinds: &[&str],
        limit: u32,
    ) -> Result<Vec<(TicketId, String, Event)>>;
    /// Records an attachment's metadata and its event (run by `change`) in one transaction.
    fn attach(&self, row: AttachmentRow, change: Change) -> Result<TicketState>;
    fn attachment(&self, id: &str) -> Result<Option<AttachmentRow>>;
    /// The newest `limit` lines of the audit log, newest first.
    fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEntry>>;
    /// The ticket's tracking code (查询码), if it was given one.
    fn tracking_code(&self, id: TicketId) -> Result<Option<String>>;
    /// Records an audited act (an unmasked read of personal data, a failed log-in, a lock-out).
    fn audit(
        &self,
        user: &str,
        action: &str,
        ticket: Option<TicketId>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<()>;
}
