//! The virtual agent's sessions in PostgreSQL (the twin of `sqlite/agent_sessions.rs`).

use super::conn::{Conn, RowExt};
use super::PgStore;
use crate::time::fmt;
use crate::HANDOVER_WINDOW_HOURS;
use crate::{AgentSessionStore, AgentStats, NewAgentSession, Result, SessionOutcome, StoreError};
use chrono::{DateTime, Duration, Utc};
use jiesu_domain::TicketId;

impl AgentSessionStore for PgStore {
    /// Records a question and its immediate outcome.
    fn record_agent_session(&self, s: NewAgentSession) -> Result<()> {
        self.write(move |c: &mut Conn| {
            let outcome = if s.answered {
                SessionOutcome::Answered
            } else {
                SessionOutcome::HandedOver
            };
            c.exec(
                "INSERT INTO agent_sessions (id, asked_at, outcome, article_id, confidence, ticket_id, updated_at)
                 VALUES (?1,?2,?3,?4,?5,NULL,?2)",
                &crate::pv![
                    s.id,
                    fmt(s.asked_at),
                    outcome.as_str(),
                    s.article_id,
                    s.confidence.map(f64::from)
                ],
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
        self.write(move |c: &mut Conn| {
            let Some(row) = c.query_opt(
                "SELECT asked_at, ticket_id FROM agent_sessions WHERE id=?1",
                &crate::pv![&id],
            )?
            else {
                return Err(StoreError::NotFound);
            };
            let (asked_at, linked) = (row.get_str(0)?, row.get_opt_i64(1)?);
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
            c.exec(
                "UPDATE agent_sessions SET outcome=?2, ticket_id=?3, updated_at=?4 WHERE id=?1",
                &crate::pv![
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
            let rows = c.query(
                "SELECT outcome, article_id IS NOT NULL, COUNT(*) FROM agent_sessions
                 WHERE asked_at >= ?1 AND asked_at < ?2 GROUP BY outcome, article_id IS NOT NULL",
                &crate::pv![f, t],
            )?;
            let mut st = AgentStats::default();
            for r in &rows {
                let (outcome, had_article, n) = (r.get_str(0)?, r.get_bool(1)?, r.get_i64(2)?);
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
