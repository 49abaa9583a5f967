//! Personal-data keys and retention in PostgreSQL (the twin of `sqlite/personal.rs`).
//!
//! SQLite's `PRAGMA secure_delete` (erased rows overwritten in the file) has no PostgreSQL
//! equivalent: a deleted data key stays in the table's dead tuples until VACUUM reclaims them
//! (and in WAL archives and backups) — see the deployment notes.

use super::conn::{Conn, RowExt};
use super::PgStore;
use crate::time::fmt;
use crate::{PersonalDataStore, Result};
use chrono::{DateTime, Utc};
use jiesu_domain::TicketId;

impl PersonalDataStore for PgStore {
    /// Re-wraps up to `limit` data keys wrapped by an older master key with the current one (in
    /// one writer job); how many were re-wrapped.
    fn rewrap_data_keys(&self, limit: u32) -> Result<u64> {
        let keys = self.keys.clone();
        self.write(move |c: &mut Conn| {
            let ring = keys.ring();
            let current = ring.current_id().to_string();
            let rows = c.query(
                "SELECT ticket_id, key_id, wrapped FROM personal_keys WHERE key_id <> ?1 LIMIT ?2",
                &crate::pv![&current, limit],
            )?;
            let mut n = 0u64;
            for r in &rows {
                let id = r.get_i64(0)?;
                if let Some(w) = ring.rewrap(id, &r.get_str(1)?, &r.get_blob(2)?)? {
                    c.exec(
                        "UPDATE personal_keys SET key_id=?2, wrapped=?3 WHERE ticket_id=?1",
                        &crate::pv![id, &current, w],
                    )?;
                    n += 1;
                }
            }
            Ok(n)
        })
    }

    /// The current master key's id and how many data keys each master key wraps.
    fn data_key_usage(&self) -> Result<(String, Vec<(String, u64)>)> {
        let current = self.keys.ring().current_id().to_string();
        self.read(move |c| {
            let usage = c
                .query(
                    "SELECT key_id, COUNT(*) FROM personal_keys GROUP BY key_id ORDER BY key_id COLLATE \"C\"",
                    &[],
                )?
                .iter()
                .map(|r| Ok((r.get_str(0)?, r.get_i64(1)? as u64)))
                .collect::<Result<_>>()?;
            Ok((current, usage))
        })
    }

    /// Archived tickets closed before `closed_before` whose personal data is still there, the
    /// longest closed first.
    fn retention_candidates(
        &self,
        closed_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TicketId>> {
        self.read(move |c| {
            c.query(
                "SELECT t.id FROM tickets t JOIN personal_keys k ON k.ticket_id = t.id
                 WHERE t.status = 'archived' AND t.closed_at IS NOT NULL AND t.closed_at < ?1
                 ORDER BY t.closed_at LIMIT ?2",
                &crate::pv![fmt(closed_before), limit],
            )?
            .iter()
            .map(|r| r.get_i64(0))
            .collect()
        })
    }
}
