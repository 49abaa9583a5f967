//! Operations (运维): the figures a running server exposes on `/readyz` and `/metrics`, and the
//! one wait a graceful shutdown needs (every queued write committed).
//!
//! Every method has a default, so a backend compiles with `impl OpsStore for X {}` and fills the
//! figures in as it can; a default figure is "unknown" (`None`, empty), never a made-up zero.

use crate::Result;

/// The upper bounds (seconds) of the commit-latency histogram's buckets (`+Inf` is implied).
pub const COMMIT_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A latency histogram as Prometheus reads it: cumulative counts per upper bound.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// (upper bound in seconds, observations ≤ it), ascending; `+Inf` is `count`.
    pub buckets: Vec<(f64, u64)>,
    /// All observations.
    pub count: u64,
    /// Their sum in seconds.
    pub sum_seconds: f64,
}

/// The write path's figures (for SQLite: the single writer thread).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriterFigures {
    /// Write jobs queued and not yet taken by the writer.
    pub queue_depth: u64,
    /// How long each group `COMMIT` took (the fsync included).
    pub commit_latency: Histogram,
    /// Group commits that failed.
    pub commit_failures: u64,
}

/// What `/metrics` reads from the store on each scrape. Nothing personal: counts and sizes only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpsFigures {
    /// Open tickets (not closed, merged or archived) by status wire name.
    pub open_tickets_by_status: Vec<(String, u64)>,
    /// The database's size on disk in bytes (SQLite: the file and its WAL).
    pub db_bytes: Option<u64>,
    /// Event-log positions after the notification cursor (`notify_cursor`): events the outbox has
    /// not delivered yet.
    pub outbox_lag: Option<u64>,
}

/// A store's operational side: reachability, migrations, figures, draining writes.
pub trait OpsStore: Send + Sync {
    /// A trivial read that proves the database answers (readiness).
    fn ping(&self) -> Result<()> {
        Ok(())
    }

    /// Whether the schema is the version this binary expects (migrations done). `Ok(None)` when
    /// the backend cannot tell.
    fn schema_current(&self) -> Result<Option<bool>> {
        Ok(None)
    }

    /// The figures of one scrape.
    fn ops_figures(&self) -> Result<OpsFigures> {
        Ok(OpsFigures::default())
    }

    /// The write path's figures (cheap: no database read).
    fn writer_figures(&self) -> WriterFigures {
        WriterFigures::default()
    }

    /// Waits until every write queued before the call is committed (graceful shutdown).
    fn flush_writes(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend that implements nothing still compiles and reports "unknown", never made-up
    /// figures.
    #[test]
    fn every_method_has_a_default() {
        struct Nothing;
        impl OpsStore for Nothing {}
        let n = Nothing;
        assert!(n.ping().is_ok());
        assert_eq!(n.schema_current().unwrap(), None);
        let f = n.ops_figures().unwrap();
        assert_eq!((f.db_bytes, f.outbox_lag), (None, None));
        assert!(f.open_tickets_by_status.is_empty());
        assert_eq!(n.writer_figures(), WriterFigures::default());
        assert!(n.flush_writes().is_ok());
    }
}
