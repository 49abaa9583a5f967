//! Legacy import bookkeeping in SQLite.

use super::{insert_events, write_projection, SqliteStore};
use crate::{ImportStore, Result, SourcedTicket, StoreError};
use std::collections::HashSet;

impl ImportStore for SqliteStore {
    fn imported_keys(&self, source: &str) -> Result<HashSet<String>> {
        let source = source.to_string();
        self.read(move |c| {
            let mut s = c.prepare("SELECT source_key FROM import_sources WHERE source = ?1")?;
            let rows = s.query_map([source], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<rusqlite::Result<HashSet<_>>>()?)
        })
    }

    fn next_ticket_id(&self) -> Result<i64> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets", [], |r| {
                    r.get(0)
                })?,
            )
        })
    }

    fn import_sourced(&self, source: &str, batch: Vec<SourcedTicket>) -> Result<()> {
        let keys = self.keys.clone();
        let source = source.to_string();
        self.write(move |c| {
            for t in &batch {
                let n = c.execute(
                    "INSERT INTO import_sources (source, source_key, ticket_id) VALUES (?1,?2,?3)
                     ON CONFLICT DO NOTHING",
                    rusqlite::params![source, t.key, t.state.id],
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
