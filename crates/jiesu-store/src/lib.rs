//! # jiesu-store
//!
//! Storage for Jiesu. The event log is the source of truth; the `tickets` and `assignments` tables
//! are projections written in the same transaction as the events and recomputable from them.
//! [`TicketStore`] is the trait every backend implements; [`SqliteStore`] is the embedded default
//! (one file, WAL, `synchronous=FULL`, group commit).

mod agent_sessions;
mod encode;
mod kb_store;
mod labels;
mod recheck;
mod reviews;
mod sqlite;
pub mod time;
mod writer;

pub use agent_sessions::{AgentStats, NewAgentSession, SessionOutcome, HANDOVER_WINDOW_HOURS};
pub use encode::EncodedTicket;
pub use kb_store::KbVersionRow;
pub use labels::{CorrectionCounts, IntakeCorrection, LabelledExample};
pub use recheck::{NewRecheck, RecheckRecord, RecheckVerdict, UnresolvedCallback};
pub use sqlite::{SqliteStore, StoreOptions};

use chrono::{DateTime, Utc};
use jiesu_domain::auth::Denied;
use jiesu_domain::category::Category;
use jiesu_domain::org::Unit;
use jiesu_domain::ticket::Intake;
use jiesu_domain::{ActorRef, DomainError, Event, TicketId, TicketState};
use serde::{Deserialize, Serialize};

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Denied(#[from] Denied),
    /// A reference (unit, category, user) that does not exist or clashes.
    #[error("{field}: {message}")]
    Invalid {
        field: String,
        message: String,
        message_zh: String,
    },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Db(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.to_string())
    }
}
impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Db(format!("stored JSON: {e}"))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A new ticket to take in.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub intake: Intake,
    pub actor: ActorRef,
    pub now: DateTime<Utc>,
    /// Client-supplied `Idempotency-Key`: the same key from the same user returns the first ticket.
    pub idempotency_key: Option<String>,
}

/// The outcome of a create: the ticket and whether it already existed under the idempotency key.
#[derive(Debug, Clone)]
pub struct Created {
    pub state: TicketState,
    pub events: Vec<Event>,
    pub replayed: bool,
}

/// A change to an existing ticket, run inside the write transaction on the current state: it checks
/// what it must (authorization, the domain's `decide`) and returns the new events, already applied
/// to the state it was given.
pub type Change = Box<dyn FnOnce(&mut TicketState) -> Result<Vec<Event>> + Send>;

/// A user account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub unit_code: Option<String>,
    pub active: bool,
}

/// Filters for the ticket list. `units` restricts to tickets with an assignment of one of these
/// units (the caller expands a unit's scope); `None` means all.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TicketQuery {
    pub units: Option<Vec<String>>,
    /// Only assignments still active for `units` (a unit's work queue).
    pub active_only: bool,
    pub status: Option<String>,
    pub category_prefix: Option<String>,
    pub district: Option<String>,
    pub street: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only tickets whose lead finish deadline has passed at `now` while still open.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Sort by the nearest finish deadline instead of newest first.
    pub by_deadline: bool,
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
}

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

/// One version of the duty catalogue (派单目录), stored as its CSV.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogueVersion {
    pub version: i64,
    /// `draft`, `published` or `superseded`.
    pub status: String,
    pub created_at: String,
    pub created_by: String,
    pub note: Option<String>,
    pub rules: usize,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub csv: String,
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

/// The storage contract. Every backend (SQLite now, PostgreSQL next) implements it; nothing above
/// this trait knows which backend runs.
pub trait TicketStore: Send + Sync {
    // reference data
    fn replace_reference(&self, units: &[Unit], categories: &[Category]) -> Result<()>;
    fn units(&self) -> Result<Vec<Unit>>;
    fn categories(&self) -> Result<Vec<Category>>;

    // users and sessions
    fn add_user(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
        unit: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64>;
    fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>>;
    fn create_session(
        &self,
        user_id: i64,
        token_hash: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()>;
    fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<UserRecord>>;

    // tickets
    fn create_ticket(&self, new: NewTicket) -> Result<Created>;
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
    /// Bulk load of complete histories (the demo-city generator, legacy imports).
    fn import(&self, tickets: Vec<(TicketState, Vec<Event>)>) -> Result<()>;
    /// Streams the assignment facts of tickets first dispatched in `[from, to)`, ordered by ticket
    /// and assignment.
    fn for_each_fact(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut dyn FnMut(AssignmentFact) -> Result<()>,
    ) -> Result<u64>;
    // duty catalogue versions
    fn save_catalogue(
        &self,
        status: &str,
        csv: &str,
        rules: usize,
        user: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64>;
    /// The newest version with this status (`published` or `draft`), with its CSV.
    fn catalogue(&self, status: &str) -> Result<Option<CatalogueVersion>>;
    /// Every version, newest first, without the CSV.
    fn catalogue_history(&self) -> Result<Vec<CatalogueVersion>>;
    fn publish_catalogue(&self, version: i64) -> Result<()>;
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
    /// The newest `limit` intakes as labelled examples for training classifiers.
    fn recent_intakes(&self, limit: u32) -> Result<Vec<Intake>>;
    /// Records an attachment's metadata and its event (run by `change`) in one transaction.
    fn attach(&self, row: AttachmentRow, change: Change) -> Result<TicketState>;
    fn attachment(&self, id: &str) -> Result<Option<AttachmentRow>>;
    /// Records an unmasked read of personal data.
    fn audit(
        &self,
        user: &str,
        action: &str,
        ticket: Option<TicketId>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<()>;
}
