//! Personal-data keys and retention in SQLite.

use super::*;

impl PersonalDataStore for SqliteStore {
    fn rewrap_data_keys(&self, limit: u32) -> Result<u64> {
        let keys = self.keys.clone();
        self.write(move |c| {
            let ring = keys.ring();
            let current = ring.current_id().to_string();
            let rows: Vec<(i64, String, Vec<u8>)> = c
                .prepare_cached(
                    "SELECT ticket_id, key_id, wrapped FROM personal_keys WHERE key_id <> ?1 LIMIT ?2",
                )?
                .query_map(params![current, limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut upd = c.prepare_cached(
                "UPDATE personal_keys SET key_id=?2, wrapped=?3 WHERE ticket_id=?1",
            )?;
            let mut n = 0u64;
            for (id, kid, wrapped) in rows {
                if let Some(w) = ring.rewrap(id, &kid, &wrapped)? {
                    upd.execute(params![id, current, w])?;
                    n += 1;
                }
            }
            Ok(n)
        })
    }

    fn data_key_usage(&self) -> Result<(String, Vec<(String, u64)>)> {
        let current = self.keys.ring().current_id().to_string();
        self.read(move |c| {
            let usage = c
                .prepare(
                    "SELECT key_id, COUNT(*) FROM personal_keys GROUP BY key_id ORDER BY key_id",
                )?
                .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok((current, usage))
        })
    }

    fn retention_candidates(
        &self,
        closed_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TicketId>> {
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT t.id FROM tickets t JOIN personal_keys k ON k.ticket_id = t.id
                 WHERE t.status = 'archived' AND t.closed_at IS NOT NULL AND t.closed_at < ?1
                 ORDER BY t.closed_at LIMIT ?2",
            )?
            .query_map(params![fmt(closed_before), limit], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
        })
    }
}
