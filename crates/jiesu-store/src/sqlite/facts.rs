//! The facts scoring scans, in SQLite.

use super::*;

impl FactStore for SqliteStore {
    fn for_each_fact(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut dyn FnMut(AssignmentFact) -> Result<()>,
    ) -> Result<u64> {
        self.read(|c| {
            let mut s = c.prepare(
                "SELECT t.id, t.number, a.unit_code, a.role, t.type, t.category_code, t.district_code, t.street_code,
                        a.tier, a.state, a.round, t.first_dispatched_at, a.dispatched_at, a.responded_at,
                        a.respond_deadline, a.finished_at, a.finish_deadline, t.cb_contacted, t.cb_resolution,
                        t.cb_satisfaction, t.exempt_reason
                 FROM tickets t JOIN assignments a ON a.ticket_id = t.id
                 WHERE t.first_dispatched_at >= ?1 AND t.first_dispatched_at < ?2
                 ORDER BY t.id, a.idx",
            )?;
            let mut rows = s.query(params![fmt(from), fmt(to)])?;
            let mut n = 0;
            while let Some(r) = rows.next()? {
                f(AssignmentFact {
                    ticket_id: r.get(0)?,
                    number: r.get(1)?,
                    unit_code: r.get(2)?,
                    role: r.get(3)?,
                    request_type: r.get(4)?,
                    category_code: r.get(5)?,
                    district_code: r.get(6)?,
                    street_code: r.get(7)?,
                    tier: r.get(8)?,
                    state: r.get(9)?,
                    round: r.get(10)?,
                    first_dispatched_at: r.get(11)?,
                    dispatched_at: r.get(12)?,
                    responded_at: r.get(13)?,
                    respond_deadline: r.get(14)?,
                    finished_at: r.get(15)?,
                    finish_deadline: r.get(16)?,
                    contacted: r.get(17)?,
                    resolution: r.get(18)?,
                    satisfaction: r.get(19)?,
                    exempt_reason: r.get(20)?,
                })?;
                n += 1;
            }
            Ok(n)
        })
    }

    fn fact_fingerprint(&self) -> Result<String> {
        self.read(|c| {
            let row = c
                .query_row(
                    "SELECT rowid, ticket_id, seq, at FROM events ORDER BY rowid DESC LIMIT 1",
                    [],
                    |r| {
                        Ok(format!(
                            "events:{}:{}:{}:{}",
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, String>(3)?
                        ))
                    },
                )
                .optional()?;
            Ok(row.unwrap_or_else(|| "events:empty".to_string()))
        })
    }

    fn busiest_dispatch_month(&self) -> Result<Option<String>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT substr(first_dispatched_at, 1, 7) AS m FROM tickets WHERE first_dispatched_at IS NOT NULL
                 GROUP BY m ORDER BY COUNT(*) DESC, m LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    /// Praise (表扬) requests credited to the units they praise, created in `[from, to)`.
    fn praise_by_unit(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(String, i64)>> {
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT json_extract(payload, '$.intake.praised_unit') u, COUNT(*) FROM events
                 WHERE kind='created' AND at >= ?1 AND at < ?2 AND json_extract(payload, '$.intake.type')='praise'
                   AND u IS NOT NULL GROUP BY u ORDER BY 2 DESC",
            )?;
            let rows = s.query_map(params![fmt(from), fmt(to)], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}
