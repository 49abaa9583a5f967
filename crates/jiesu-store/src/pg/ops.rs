//! The operational figures of the PostgreSQL backend (`/readyz`, `/metrics`, graceful shutdown).

use super::conn::RowExt;
use super::*;
use crate::ops::{OpsFigures, OpsStore, WriterFigures};

/// Ticket statuses that are no longer open.
const DONE: &str = "'closed','merged','archived'";

impl OpsStore for PgStore {
    fn ping(&self) -> Result<()> {
        self.read(|c| {
            c.query_one("SELECT COUNT(*) FROM meta", &[])?;
            Ok(())
        })
    }

    fn schema_current(&self) -> Result<Option<bool>> {
        let newest = migrations().last().map_or(0, |m| m.0);
        self.read(|c| {
            let v = c
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                    &[],
                )?
                .get_i64(0)?;
            Ok(Some(v == newest))
        })
    }

    fn ops_figures(&self) -> Result<OpsFigures> {
        self.read(|c| {
            let open = c
                .query(
                    &format!(
                        "SELECT status, COUNT(*) FROM tickets WHERE status NOT IN ({DONE}) GROUP BY status ORDER BY status COLLATE \"C\""
                    ),
                    &[],
                )?
                .iter()
                .map(|r| Ok((r.get_str(0)?, r.get_i64(1)? as u64)))
                .collect::<Result<Vec<_>>>()?;
            let cursor: i64 = c
                .query_opt("SELECT value FROM meta WHERE key='notify_cursor'", &[])?
                .map(|r| r.get_str(0))
                .transpose()?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            // the outbox's positions are the log's pos + 1 (pg/outbox.rs)
            let last = c
                .query_one("SELECT COALESCE(MAX(pos) + 1, 0) FROM events", &[])?
                .get_i64(0)?;
            let bytes = c
                .query_one("SELECT pg_database_size(current_database())", &[])?
                .get_i64(0)?;
            Ok(OpsFigures {
                open_tickets_by_status: open,
                db_bytes: Some(bytes.max(0) as u64),
                outbox_lag: Some((last - cursor).max(0) as u64),
            })
        })
    }

    fn writer_figures(&self) -> WriterFigures {
        self.stats.figures()
    }

    fn flush_writes(&self) -> Result<()> {
        // the writer takes jobs in order: once this empty one is committed, so is every earlier one
        self.write(|_| Ok(()))
    }
}
