//! The operational figures of the SQLite backend (`/readyz`, `/metrics`, graceful shutdown).

use super::*;
use crate::ops::{OpsFigures, OpsStore, WriterFigures};

/// Ticket statuses that are no longer open.
const DONE: &str = "'closed','merged','archived'";

impl OpsStore for SqliteStore {
    fn ping(&self) -> Result<()> {
        self.read(|c| {
            c.query_row("SELECT COUNT(*) FROM meta", [], |r| r.get::<_, i64>(0))?;
            Ok(())
        })
    }

    fn schema_current(&self) -> Result<Option<bool>> {
        self.read(|c| {
            let v: Option<String> = c
                .query_row(
                    "SELECT value FROM meta WHERE key='schema_version'",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(Some(v.as_deref() == Some(SCHEMA_VERSION)))
        })
    }

    fn ops_figures(&self) -> Result<OpsFigures> {
        let (open, lag) = self.read(|c| {
            let open = c
                .prepare_cached(&format!(
                    "SELECT status, COUNT(*) FROM tickets WHERE status NOT IN ({DONE}) GROUP BY status ORDER BY status"
                ))?
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let cursor: i64 = c
                .query_row("SELECT value FROM meta WHERE key='notify_cursor'", [], |r| {
                    r.get::<_, String>(0)
                })
                .optional()?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            // the log is append-only, so the row ids after the cursor are the undelivered events
            // (read from the index's end, not counted row by row)
            let last: i64 =
                c.query_row("SELECT COALESCE(MAX(rowid), 0) FROM events", [], |r| r.get(0))?;
            Ok((open, (last - cursor).max(0) as u64))
        })?;
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
        let mut wal = self.path.as_os_str().to_owned();
        wal.push("-wal");
        let db_bytes = size(&self.path).map(|n| n + size(Path::new(&wal)).unwrap_or(0));
        Ok(OpsFigures {
            open_tickets_by_status: open,
            db_bytes,
            outbox_lag: Some(lag),
        })
    }

    fn writer_figures(&self) -> WriterFigures {
        self.writer.stats().figures()
    }

    fn flush_writes(&self) -> Result<()> {
        // the writer takes jobs in order: once this empty one is committed, so is every earlier one
        self.write(|_| Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figures_of_a_new_database() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open_with(
            dir.path().join("c.db"),
            StoreOptions {
                durable: true,
                keys: KeySource::Beside,
            },
        )
        .unwrap();
        s.ping().unwrap();
        assert_eq!(s.schema_current().unwrap(), Some(true));
        s.set_meta("x", "1").unwrap();
        s.flush_writes().unwrap();
        let w = s.writer_figures();
        assert_eq!(w.queue_depth, 0);
        assert!(w.commit_latency.count >= 2, "{w:?}");
        let cumulative: Vec<u64> = w.commit_latency.buckets.iter().map(|b| b.1).collect();
        assert!(cumulative.windows(2).all(|p| p[0] <= p[1]), "{w:?}");
        assert!(cumulative.last().copied().unwrap_or(0) <= w.commit_latency.count);
        let f = s.ops_figures().unwrap();
        assert!(f.db_bytes.unwrap() > 0);
        assert_eq!(f.outbox_lag, Some(0));
        assert!(f.open_tickets_by_status.is_empty());
    }
}
