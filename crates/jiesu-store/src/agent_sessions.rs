//! The virtual agent's sessions (智能问答会话) and its one-shot resolution rate (一次解决率).
//!
//! Every question asked on the public page is one session with an outcome: `answered` (an
//! article was good enough), `handed_over` (no answer; the citizen was offered a pre-filled
//! request) or `ticket_created` (a request was filed from the hand-over — or after an answer that
//! did not settle it). A session is resolved in one go when it was answered and no ticket
//! followed. Rows are written as the questions come, so the rate survives restarts and can be
//! asked for any period (by the time of the question).

use crate::Result;
use chrono::{DateTime, Utc};
use jiesu_domain::TicketId;
use serde::Serialize;

/// How long after a question a request filed from it still counts as its hand-over.
pub const HANDOVER_WINDOW_HOURS: i64 = 24;

/// What became of a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionOutcome {
    Answered,
    HandedOver,
    TicketCreated,
}

impl SessionOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionOutcome::Answered => "answered",
            SessionOutcome::HandedOver => "handed_over",
            SessionOutcome::TicketCreated => "ticket_created",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Answered, Self::HandedOver, Self::TicketCreated]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// A new session.
#[derive(Debug, Clone)]
pub struct NewAgentSession {
    pub id: String,
    pub asked_at: DateTime<Utc>,
    pub answered: bool,
    pub article_id: Option<String>,
    pub confidence: Option<f32>,
}

/// The virtual agent's figures for a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct AgentStats {
    /// Questions asked.
    pub asked: u64,
    /// Answered from the knowledge base (including those later followed by a ticket).
    pub answered: u64,
    /// Not answered: handed over to a request form.
    pub handed_over: u64,
    /// A request was filed from the session.
    pub ticket_created: u64,
    /// Answered and no ticket followed.
    pub resolved_one_shot: u64,
    /// `resolved_one_shot / asked` (0 when nothing was asked).
    pub one_shot_rate: f64,
}

/// The virtual agent's sessions.
pub trait AgentSessionStore: Send + Sync {
    /// Records a question and its immediate outcome.
    fn record_agent_session(&self, s: NewAgentSession) -> Result<()>;
    /// A request was filed from session `id`: the ticket must exist and have been created after
    /// the question, within [`HANDOVER_WINDOW_HOURS`]. A session leads to one ticket; reporting
    /// it again for the same ticket is harmless. Returns the session's new outcome.
    fn link_agent_session_ticket(
        &self,
        id: &str,
        ticket_id: TicketId,
        ticket_created_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<SessionOutcome>;
    /// The figures of the questions asked in `[from, to)` (all time when both are `None`).
    fn agent_stats(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<AgentStats>;
}
