//! The virtual agent's sessions (智能问答会话) and its one-shot resolution rate (一次解决率).
//!
//! Every question asked on the public page is one session with an outcome: `answered` (an
//! article was good enough), `handed_over` (no answer; the citizen was offered a pre-filled
//! request) or `ticket_created` (a request was filed from the hand-over — or after an answer that
//! did not settle it). A session is resolved in one go when it was answered and no ticket
//! followed. Rows are written as the questions come, so the rate survives restarts and can be
//! asked for any period (by the time of the question).

use crate::time::fmt;
use crate::{Result, SqliteStore, StoreError};
use chrono::{DateTime, Duration, Utc};
use jiesu_domain::TicketId;
use rusqlite::{params, OptionalExtension};
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

impl SqliteStore {
    /// Records a question and its immediate outcome.
    pub fn record_agent_session(&self, s: NewAgentSession) -> Result<()> {
        self.write(move |c| {
            let outcome = if s.answered {
                SessionOutcome::Answered
            } else {
                SessionOutcome::HandedOver
            };
            c.execute(
                "INSERT INTO agent_sessions (id, asked_at, outcome, article_id, confidence, ticket_id, updated_at)
                 VALUES (?1,?2,?3,?4,?5,NULL,?2)",
                params![s.id, fmt(s.asked_at), outcome.as_str(), s.article_id, s.confidence.map(f64::from)],
            )?;
            Ok(())
        })
    }

    /// A request was filed from session `id`: the ticket must exist and have been created after
    /// the question, within [`HANDOVER_WINDOW_HOURS`]. A session leads to one ticket; reporting
    /// it again for the same ticket is harmless. Returns the session's new outcome.
    pub fn link_agent_session_ticket(
        &self,
        id: &str,
        ticket_id: TicketId,
        ticket_created_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<SessionOutcome> {
        let id = id.to_string();
        self.write(move |c| {
            let row: Option<(String, Option<TicketId>)> = c
                .query_row(
                    "SELECT asked_at, ticket_id FROM agent_sessions WHERE id=?1",
                    [&id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((asked_at, linked)) = row else {
                return Err(StoreError::NotFound);
            };
            if let Some(t) = linked {
                if t == ticket_id {
                    return Ok(SessionOutcome::TicketCreated);
                }
                return Err(StoreError::Conflict(
                    "this session already led to another request".into(),
                ));
            }
            let asked = crate::time::parse(&asked_at)
                .ok_or_else(|| StoreError::Db(format!("bad time {asked_at}")))?;
            if ticket_created_at < asked
                || ticket_created_at > asked + Duration::hours(HANDOVER_WINDOW_HOURS)
            {
                return Err(StoreError::Conflict(
                    "the request was not filed within a day after the question".into(),
                ));
            }
            c.execute(
                "UPDATE agent_sessions SET outcome=?2, ticket_id=?3, updated_at=?4 WHERE id=?1",
                params![
                    id,
                    SessionOutcome::TicketCreated.as_str(),
                    ticket_id,
                    fmt(now)
                ],
            )?;
            Ok(SessionOutcome::TicketCreated)
        })
    }

    /// The figures of the questions asked in `[from, to)` (all time when both are `None`).
    pub fn agent_stats(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<AgentStats> {
        self.read(move |c| {
            let f = from.map(fmt).unwrap_or_default();
            let t = to.map(fmt).unwrap_or_else(|| "9999".into());
            let mut s = c.prepare(
                "SELECT outcome, article_id IS NOT NULL, COUNT(*) FROM agent_sessions
                 WHERE asked_at >= ?1 AND asked_at < ?2 GROUP BY outcome, article_id IS NOT NULL",
            )?;
            let mut st = AgentStats::default();
            let rows = s.query_map(params![f, t], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?;
            for row in rows {
                let (outcome, had_article, n) = row?;
                let n = n as u64;
                st.asked += n;
                match SessionOutcome::parse(&outcome) {
                    Some(SessionOutcome::Answered) => {
                        st.answered += n;
                        st.resolved_one_shot += n;
                    }
                    Some(SessionOutcome::HandedOver) => st.handed_over += n,
                    Some(SessionOutcome::TicketCreated) => {
                        st.ticket_created += n;
                        // the question had been answered (an article was shown) and still led to
                        // a request: answered, but not resolved in one go
                        if had_article {
                            st.answered += n;
                        } else {
                            st.handed_over += n;
                        }
                    }
                    None => {}
                }
            }
            st.one_shot_rate = if st.asked > 0 {
                st.resolved_one_shot as f64 / st.asked as f64
            } else {
                0.0
            };
            Ok(st)
        })
    }
}
