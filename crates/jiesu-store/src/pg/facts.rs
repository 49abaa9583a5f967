//! The facts scoring scans, in PostgreSQL (the SQLite twin is `sqlite/facts.rs`).

use super::*;
use chrono::{DateTime, Utc};

impl FactStore for PgStore {
    fn for_each_fact(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut dyn FnMut(AssignmentFact) -> Result<()>,
    ) -> Result<u64> {
        self.read(|c| {
            c.for_each(
                "SELECT t.id, t.number, a.unit_code, a.role, t.type, t.category_code, t.district_code, t.street_code,
                        a.tier, a.state, a.round, t.first_dispatched_at, a.dispatched_at, a.responded_at,
                        a.respond_deadline, a.finished_at, a.finish_deadline, t.cb_contacted, t.cb_resolution,
                        t.cb_satisfaction, t.exempt_reason
                 FROM tickets t JOIN assignments a ON a.ticket_id = t.id
                 WHERE t.first_dispatched_at >= ?1 AND t.first_dispatched_at < ?2
                 ORDER BY t.id, a.idx",
                &crate::pv![fmt(from), fmt(to)],
                &mut |r| {
                    f(AssignmentFact {
                        ticket_id: r.get_i64(0)?,
                        number: r.get_str(1)?,
                        unit_code: r.get_str(2)?,
                        role: r.get_str(3)?,
                        request_type: r.get_str(4)?,
                        category_code: r.get_str(5)?,
                        district_code: r.get_str(6)?,
                        street_code: r.get_str(7)?,
                        tier: r.get_str(8)?,
                        state: r.get_str(9)?,
                        round: r.get_u32(10)?,
                        first_dispatched_at: r.get_opt_str(11)?,
                        dispatched_at: r.get_str(12)?,
                        responded_at: r.get_opt_str(13)?,
                        respond_deadline: r.get_str(14)?,
                        finished_at: r.get_opt_str(15)?,
                        finish_deadline: r.get_str(16)?,
                        contacted: r.get_opt_i64(17)?.map(|v| v != 0),
                        resolution: r.get_opt_str(18)?,
                        satisfaction: r.get_opt_str(19)?,
                        exempt_reason: r.get_opt_str(20)?,
                    })
                },
            )
        })
    }

    fn fact_fingerprint(&self) -> Result<String> {
        // SQLite's rowid is the order events were written in; here that is the log position
        self.read(|c| {
            let row = c.query_opt(
                "SELECT pos, ticket_id, seq, at FROM events ORDER BY pos DESC NULLS LAST LIMIT 1",
                &[],
            )?;
            match row {
                Some(r) => Ok(format!(
                    "events:{}:{}:{}:{}",
                    r.get_opt_i64(0)?.unwrap_or(-1),
                    r.get_i64(1)?,
                    r.get_i64(2)?,
                    r.get_str(3)?
                )),
                None => Ok("events:empty".to_string()),
            }
        })
    }

    fn busiest_dispatch_month(&self) -> Result<Option<String>> {
        self.read(|c| {
            c.query_opt(
                "SELECT substr(first_dispatched_at, 1, 7) AS m FROM tickets WHERE first_dispatched_at IS NOT NULL
                 GROUP BY m ORDER BY COUNT(*) DESC, m LIMIT 1",
                &[],
            )?
            .map(|r| r.get_str(0))
            .transpose()
        })
    }

    /// Praise (表扬) requests credited to the units they praise, created in `[from, to)`.
    fn praise_by_unit(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(String, i64)>> {
        self.read(|c| {
            c.query(
                "SELECT u, COUNT(*) FROM
                   (SELECT payload::jsonb #>> '{intake,praised_unit}' AS u FROM events
                    WHERE kind='created' AND at >= ?1 AND at < ?2
                      AND payload::jsonb #>> '{intake,type}' = 'praise') p
                 WHERE u IS NOT NULL GROUP BY u ORDER BY 2 DESC, u",
                &crate::pv![fmt(from), fmt(to)],
            )?
            .iter()
            .map(|r| Ok((r.get_str(0)?, r.get_i64(1)?)))
            .collect()
        })
    }
}
