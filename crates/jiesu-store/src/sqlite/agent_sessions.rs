//! The virtual agent's sessions in SQLite.

use super::SqliteStore;
use crate::time::fmt;
use crate::HANDOVER_WINDOW_HOURS;
use crate::{AgentSessionStore, AgentStats, NewAgentSession, Result, SessionOutcome, StoreError};
use chrono::{DateTime, Duration, Utc};
use jiesu_domain::TicketId;
use rusqlite::{params, OptionalExtension};

impl AgentSessionStore for SqliteStore {
    /// Records a question and its immediate outcome.
    fn record_agent_session(&self, s: NewAgentSession) -> Result<()> {
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
    fn link_agent_session_ticket(
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
    fn agent_stats(
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
