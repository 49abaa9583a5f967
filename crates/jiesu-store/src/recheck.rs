//! Supervisors' re-checks of callbacks (回访复核): a sample of called-back tickets is re-checked
//! and the supervisor records whether they agree with the callback (and why not). A re-check is an
//! audited record, not a ticket event: it judges the callback desk's work and changes nothing on
//! the ticket. Rows are never updated or deleted; each (ticket, round) is re-checked once, and the
//! record is written to `audit_log` in the same transaction.
//!
//! Also here: the tickets whose final callback says 未解决 and that nobody has reopened or closed
//! yet — the reviewer's queue for 重办.

use crate::Result;
use chrono::{DateTime, Utc};
use jiesu_domain::TicketId;
use serde::{Deserialize, Serialize};

/// The supervisor's verdict on a callback (复核结论).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecheckVerdict {
    /// 复核一致 — the callback's answers stand.
    Agree,
    /// 复核不一致 — the supervisor found otherwise (the note says what).
    Disagree,
}

impl RecheckVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            RecheckVerdict::Agree => "agree",
            RecheckVerdict::Disagree => "disagree",
        }
    }
    pub fn parse(s: &str) -> Option<RecheckVerdict> {
        match s {
            "agree" => Some(RecheckVerdict::Agree),
            "disagree" => Some(RecheckVerdict::Disagree),
            _ => None,
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            RecheckVerdict::Agree => "复核一致",
            RecheckVerdict::Disagree => "复核不一致",
        }
    }
}

/// A re-check to record.
#[derive(Debug, Clone)]
pub struct NewRecheck {
    pub ticket_id: TicketId,
    /// The handling round whose callback is re-checked.
    pub round: u32,
    /// When that callback was recorded.
    pub callback_at: DateTime<Utc>,
    pub verdict: RecheckVerdict,
    pub note: Option<String>,
    pub user: String,
    pub now: DateTime<Utc>,
}

/// A recorded re-check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecheckRecord {
    pub id: i64,
    pub ticket_id: TicketId,
    pub number: String,
    pub round: u32,
    pub callback_at: String,
    pub verdict: RecheckVerdict,
    pub verdict_zh: String,
    pub note: Option<String>,
    pub user: String,
    pub at: String,
}

/// A ticket whose final callback says 未解决, still waiting for the reviewer (重办 or close).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnresolvedCallback {
    pub id: TicketId,
    pub number: String,
    pub title: String,
    pub category_code: String,
    pub lead_unit: Option<String>,
    pub round: u32,
    pub satisfaction: Option<String>,
    pub callback_at: Option<String>,
}

/// Supervisors' re-checks of callbacks and the reviewer's queue of unresolved callbacks.
pub trait CallbackStore: Send + Sync {
    /// Records a re-check (and its audit line) in one transaction. A second re-check of the same
    /// (ticket, round) is refused with `Conflict`.
    fn record_recheck(&self, n: NewRecheck) -> Result<RecheckRecord>;
    /// The re-checks of these tickets (any round), oldest first.
    fn rechecks_of(&self, tickets: &[TicketId]) -> Result<Vec<RecheckRecord>>;
    /// The re-checks recorded in `[from, to)`, newest first (at most `limit`).
    fn rechecks_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<RecheckRecord>>;
    /// Tickets called back as 未解决 in their current round and neither reopened nor closed
    /// since, the oldest callback first (at most `limit`).
    fn unresolved_callbacks(&self, limit: u32) -> Result<Vec<UnresolvedCallback>>;
}
