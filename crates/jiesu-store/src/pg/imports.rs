//! Legacy import bookkeeping in PostgreSQL (the twin of `sqlite/imports.rs`).

use super::conn::{Conn, RowExt};
use super::{insert_events, write_projection, PgStore};
use crate::{ImportStore, Result, SourcedTicket, StoreError};
use std::collections::HashSet;

impl ImportStore for PgStore {
    fn imported_keys(&self, source: &str) -> Result<HashSet<String>> {
        self.read(|c| {
            let mut out = HashSet::new();
            for r in c.query(
                "SELECT source_key FROM import_sources WHERE source = ?1",
                &crate::pv![source],
            )? {
                out.insert(r.get_str(0)?);
            }
            Ok(out)
        })
    }

    fn next_ticket_id(&self) -> Result<i64> {
        self.read(|c| {
            c.query_one("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets", &[])?
                .get_i64(0)
        })
    }

    fn import_sourced(&self, source: &str, batch: Vec<SourcedTicket>) -> Result<()> {
        let keys = self.keys.clone();
        let source = source.to_string();
        self.write(move |c: &mut Conn| {
            c.next_id = None;
            for t in &batch {
                let n = c.exec(
                    "INSERT INTO import_sources (source, source_key, ticket_id) VALUES (?1,?2,?3)
                     ON CONFLICT DO NOTHING",
                    &crate::pv![source.clone(), t.key.clone(), t.state.id],
                )?;
                if n != 1 {
                    return Err(StoreError::Conflict(format!(
                        "{source} row {} is already imported",
                        t.key
                    )));
                }
                insert_events(c, &keys, t.state.id, &t.events, crate::chain::GENESIS)?;
                write_projection(c, &keys, &t.state)?;
            }
            Ok(())
        })
    }
}
