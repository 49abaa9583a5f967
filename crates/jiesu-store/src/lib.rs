//! # jiesu-store
//!
//! Storage for Jiesu. The event log is the source of truth; the `tickets` and `assignments` tables
//! are projections written in the same transaction as the events and recomputable from them.
//!
//! The storage contract is a set of focused traits, one per concern, and [`Store`], which is
//! all of them: callers hold an `Arc<dyn Store>` (or a `&dyn Store`) and never know which backend
//! runs. [`SqliteStore`] is the embedded backend (one file, WAL, `synchronous=FULL`, one writer
//! thread with group commit); a PostgreSQL backend implements the same traits.
//!
//! | trait | owns |
//! |---|---|
//! | [`TicketStore`] | tickets: create, change, load, list, bulk import, attachments, audit, the unit inbox, open assignments |
//! | [`UserStore`] | user accounts and sessions |
//! | [`ReferenceStore`] | units, categories, settings (the city's time zone), the database's location |
//! | [`CatalogueStore`] | duty catalogue versions (派单目录) |
//! | [`OutboxStore`] | the event log read after a cursor, for notifications |
//! | [`RatingStore`] | self-rating links |
//! | [`CallbackStore`] | callback re-checks (回访复核), unresolved callbacks |
//! | [`KbStore`] | knowledge-base article versions and their use |
//! | [`AgentSessionStore`] | the virtual agent's sessions |
//! | [`LabelStore`] | labelled examples, intake corrections |
//! | [`FactStore`] | the facts scoring scans and their fingerprint |
//! | [`ReviewStore`] | the review queue, escalated tickets |
//! | [`StatsStore`] | dispatch accuracy, the demo city's calibration counts |
//! | [`PersonalDataStore`] | the data keys of personal data (rotation), retention candidates |
//! | [`LedgerStore`] | signed checkpoints of the event log, consistency and inclusion proofs |
//! | [`StreetWorkStore`] | 治理类街乡镇: interviews (约谈), problem and project lists, every change to them |
//! | [`GovernancePolicyStore`] | the city's governance policies (street classification, reply audit) by version; the reply audit's stored days and findings |
//! | [`OpsStore`] | operations: readiness (a trivial read, the schema), `/metrics` figures, draining writes |
//!
//! Online backup and restore of an SQLite city: [`backup_sqlite`], [`restore_sqlite`].
//!
//! Bring the traits into scope with `use jiesu_store::prelude::*;`.

mod agent_sessions;
pub mod alerts;
pub mod analytics;
pub mod attachment_files;
mod catalogue;
pub mod chain;
pub mod crypt;
mod dept;
pub mod fact_spill;
mod facts;
pub mod gov_policies;
pub mod imports;
mod kb_store;
mod labels;
pub mod ledger;
pub mod merkle;
pub mod ops;
mod outbox;
mod partners;
mod personal;
pub mod pg;
mod ratings;
mod recheck;
mod reference;
pub mod report_reads;
pub mod report_subs;
pub mod reports;
mod reviews;
mod sqlite;
mod stats;
pub mod street_work;
mod tickets;
pub mod time;
mod topics;
mod users;

pub use agent_sessions::{
    AgentSessionStore, AgentStats, NewAgentSession, SessionOutcome, HANDOVER_WINDOW_HOURS,
};
pub use alerts::{AlertAmend, AlertFilter, AlertRow, AlertStep, AlertStore};
pub use analytics::{refresh_facts, AnalyticsStore, FactsState};
pub use catalogue::{CatalogueStore, CatalogueVersion};
pub use dept::{DeptKey, DeptStore, DeptWebhook, ExportRun, NewSavedExport, SavedExport};
pub use facts::{AssignmentFact, FactStore};
pub use gov_policies::{AuditDayRow, AuditFindingRow, GovPolicyRow, GovernancePolicyStore};
pub use imports::{ImportStore, SourcedTicket};
pub use kb_store::{KbStore, KbVersionRow};
pub use labels::{CorrectionCounts, IntakeCorrection, LabelStore, LabelledExample};
pub use ledger::{Checkpoint, EventProof, LedgerStore, LogKey};
pub use ops::{Histogram, OpsFigures, OpsStore, WriterFigures};
pub use outbox::OutboxStore;
pub use partners::{PartnerRecord, PartnerSigning, PartnerStore};
pub use personal::PersonalDataStore;
pub use pg::backup::{backup_postgres, restore_postgres};
pub use pg::{is_postgres_url, PgStore};
pub use ratings::RatingStore;
pub use recheck::{CallbackStore, NewRecheck, RecheckRecord, RecheckVerdict, UnresolvedCallback};
pub use reference::ReferenceStore;
pub use report_reads::{InboxReport, ReportInbox, ReportReadStore};
pub use report_subs::{ReportSubscription, ReportSubscriptionStore};
pub use reports::{NewReport, ReportRow, ReportStore};
pub use reviews::ReviewStore;
pub use sqlite::backup::{
    backup_sqlite, fingerprint_sqlite, restore_sqlite, BackupReport, Fingerprint, TableFigure,
};
pub use sqlite::ledger::{verify_checkpoints, verify_checkpoints_file, LedgerReport};
pub use sqlite::{verify_file, EncodedTicket, KeySource, SqliteStore, StoreOptions, VerifyReport};
pub use stats::{AccuracyGroup, CategoryCallbacks, DemoCounts, DispatchAccuracy, StatsStore};
pub use street_work::{InterviewRow, StreetChange, StreetItemRow, StreetWorkStore};
pub use tickets::{
    AttachmentRow, AuditEntry, Change, Created, Done, IdempotencyKey, NewTicket, NextClock,
    OpenAssignment, Page, TicketQuery, TicketStore, TicketSummary,
};
pub use topics::{NewTopicVersion, TopicStore, TopicVersion};
pub use users::{SessionRecord, UserRecord, UserStore};

use jiesu_domain::auth::Denied;
use jiesu_domain::DomainError;

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
    #[error("{field}: {message} ({message_zh})")]
    Invalid {
        field: String,
        message: String,
        message_zh: String,
    },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Db(String),
    /// 篡改 — a ticket's stored events do not match their hash chain: the ticket is not served.
    #[error("the event log is broken at {0}")]
    Tampered(chain::ChainBreak),
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Db(format!("stored JSON: {e}"))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The whole storage contract: every focused trait. Implemented for every type that implements
/// them all, so `Arc<SqliteStore>` coerces to `Arc<dyn Store>`.
pub trait Store:
    TicketStore
    + UserStore
    + ReferenceStore
    + CatalogueStore
    + OutboxStore
    + RatingStore
    + CallbackStore
    + KbStore
    + AgentSessionStore
    + LabelStore
    + FactStore
    + ReviewStore
    + StatsStore
    + PersonalDataStore
    + LedgerStore
    + AnalyticsStore
    + ReportStore
    + ReportSubscriptionStore
    + ReportReadStore
    + AlertStore
    + OpsStore
    + ImportStore
    + PartnerStore
    + DeptStore
    + TopicStore
    + StreetWorkStore
    + GovernancePolicyStore
{
    /// The tickets with a lead assignment first dispatched in `[from, to)`, each once, as they
    /// stand now (what a catalogue what-if replays; `jiesu_routing::whatif_since` gives `from`).
    fn lead_tickets(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<jiesu_domain::TicketState>> {
        let mut ids = Vec::new();
        self.for_each_fact(from, to, &mut |f| {
            if f.role == "lead" && ids.last() != Some(&f.ticket_id) {
                ids.push(f.ticket_id);
            }
            Ok(())
        })?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some((t, _)) = self.load_ticket(id)? {
                out.push(t);
            }
        }
        Ok(out)
    }
}

impl<T> Store for T where
    T: TicketStore
        + UserStore
        + ReferenceStore
        + CatalogueStore
        + OutboxStore
        + RatingStore
        + CallbackStore
        + KbStore
        + AgentSessionStore
        + LabelStore
        + FactStore
        + ReviewStore
        + StatsStore
        + PersonalDataStore
        + LedgerStore
        + AnalyticsStore
        + ReportStore
        + ReportSubscriptionStore
        + ReportReadStore
        + AlertStore
        + OpsStore
        + ImportStore
        + PartnerStore
        + DeptStore
        + TopicStore
        + StreetWorkStore
        + GovernancePolicyStore
{
}

/// The storage traits, to call their methods on a `dyn Store`: `use jiesu_store::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AgentSessionStore, AlertStore, AnalyticsStore, CallbackStore, CatalogueStore, DeptStore,
        FactStore, GovernancePolicyStore, ImportStore, KbStore, LabelStore, LedgerStore, OpsStore,
        OutboxStore, PartnerStore, PersonalDataStore, RatingStore, ReferenceStore, ReportReadStore,
        ReportStore, ReportSubscriptionStore, ReviewStore, StatsStore, Store, StreetWorkStore,
        TicketStore, TopicStore, UserStore,
    };
}

/// Opens the database `db` names — a `postgres://` (or `postgresql://`) URL, else an SQLite file —
/// creating its schema when it has none. Every command that takes `--db` opens its store here.
pub fn open_store(db: &std::path::Path, opts: StoreOptions) -> Result<std::sync::Arc<dyn Store>> {
    match db.to_str().filter(|s| is_postgres_url(s)) {
        Some(url) => Ok(std::sync::Arc::new(PgStore::open_with(url, opts)?)),
        None => Ok(std::sync::Arc::new(SqliteStore::open_with(db, opts)?)),
    }
}

/// Opens a read-only store on a PostgreSQL hot standby of the city (see
/// [`PgStore::open_replica`]); read-only views may read from it (`jiesu serve --replica`). Only
/// PostgreSQL has standbys: anything else is refused in plain words.
pub fn open_replica(url: &str, opts: StoreOptions) -> Result<std::sync::Arc<dyn Store>> {
    if !is_postgres_url(url) {
        return Err(StoreError::Invalid {
            field: "--replica".into(),
            message: "--replica takes the URL of a PostgreSQL standby (postgres://…)".into(),
            message_zh: "--replica 应为 PostgreSQL 备库地址（postgres://…）".into(),
        });
    }
    Ok(std::sync::Arc::new(PgStore::open_replica(url, opts)?))
}

/// Whether `db` already holds a city (reference data or tickets): an SQLite file that exists, or
/// a PostgreSQL database with Jiesu's tables and units in them. An empty PostgreSQL database (as
/// `createdb` leaves it) holds none.
pub fn city_exists(db: &std::path::Path) -> Result<bool> {
    match db.to_str().filter(|s| is_postgres_url(s)) {
        Some(url) => pg::holds_a_city(url),
        None => Ok(db.exists()),
    }
}
