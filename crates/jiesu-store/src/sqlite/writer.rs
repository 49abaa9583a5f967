//! The single SQLite writer with group commit.
//!
//! SQLite allows one writer at a time. Every write job goes to one thread that owns the write
//! connection; the thread takes all jobs waiting, runs each in its own savepoint inside one
//! transaction, commits once (one fsync for the group) and only then tells each caller its result.
//! So every accepted request is durable before its caller hears back, and 64 concurrent clients
//! share fsyncs instead of queueing behind each other. Written by hand because no pool crate offers
//! commit grouping with per-job savepoints. A few jobs run between two groups, outside any
//! transaction (`Writer::submit_alone`: a bulk load's change of journal mode).

use rusqlite::Connection;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

/// What a job does inside the shared transaction; it returns the function that delivers its
/// result once the commit outcome is known.
pub type Job = Box<dyn FnOnce(&Connection) -> Completion + Send>;
/// Delivers a job's result: `Ok(())` if the group committed, `Err(msg)` if the commit failed.
pub type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;

/// Work that runs on the write connection between transactions, on its own (a change of
/// journal mode, which SQLite refuses inside a transaction).
pub type AloneJob = Box<dyn FnOnce(&Connection) + Send>;

/// What the writer thread receives.
enum Work {
    /// A job of the next group transaction.
    Tx(Job),
    /// A job run between two group transactions.
    Alone(AloneJob),
}

/// The largest number of jobs committed together.
const MAX_GROUP: usize = 512;

pub struct Writer {
    tx: Option<mpsc::Sender<Work>>,
    handle: Option<std::thread::JoinHandle<()>>,
    stats: Arc<WriterStats>,
}

/// What the writer counts for `/metrics` (lock-free; read by [`WriterStats::figures`]).
#[derive(Default)]
pub struct WriterStats {
    /// Jobs submitted and not yet taken off the queue.
    pub(crate) queued: AtomicU64,
    /// Commits per bucket of [`crate::ops::COMMIT_BUCKETS`] (not cumulative), the last `+Inf`.
    buckets: [AtomicU64; crate::ops::COMMIT_BUCKETS.len() + 1],
    commits: AtomicU64,
    commit_nanos: AtomicU64,
    failures: AtomicU64,
}

impl WriterStats {
    pub(crate) fn commit_took(&self, secs: f64, ok: bool) {
        let i = crate::ops::COMMIT_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(crate::ops::COMMIT_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.commit_nanos
            .fetch_add((secs * 1e9) as u64, Ordering::Relaxed);
        if !ok {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The queue depth and the commit-latency histogram now.
    pub fn figures(&self) -> crate::ops::WriterFigures {
        let mut acc = 0;
        let buckets = crate::ops::COMMIT_BUCKETS
            .iter()
            .zip(&self.buckets)
            .map(|(b, n)| {
                acc += n.load(Ordering::Relaxed);
                (*b, acc)
            })
            .collect();
        crate::ops::WriterFigures {
            queue_depth: self.queued.load(Ordering::Relaxed),
            commit_latency: crate::ops::Histogram {
                buckets,
                count: self.commits.load(Ordering::Relaxed),
                sum_seconds: self.commit_nanos.load(Ordering::Relaxed) as f64 / 1e9,
            },
            commit_failures: self.failures.load(Ordering::Relaxed),
        }
    }
}

impl Writer {
    pub fn start(conn: Connection) -> Writer {
        let (tx, rx) = mpsc::channel::<Work>();
        let stats = Arc::new(WriterStats::default());
        let s2 = stats.clone();
        let handle = std::thread::Builder::new()
            .name("jiesu-writer".into())
            .spawn(move || run(conn, rx, &s2))
            .expect("spawn writer thread");
        Writer {
            tx: Some(tx),
            handle: Some(handle),
            stats,
        }
    }

    /// Queues a job; gives it back if the writer has stopped.
    pub fn submit_or_return(&self, job: Job) -> Result<(), Job> {
        match self.tx.as_ref() {
            Some(t) => {
                self.stats.queued.fetch_add(1, Ordering::Relaxed);
                t.send(Work::Tx(job)).map_err(|e| {
                    self.stats.queued.fetch_sub(1, Ordering::Relaxed);
                    match e.0 {
                        Work::Tx(j) => j,
                        Work::Alone(_) => unreachable!("sent a transaction job"),
                    }
                })
            }
            None => Err(job),
        }
    }

    /// Queues a job to run outside any transaction, after the jobs queued before it have been
    /// committed; `false` if the writer has stopped.
    pub fn submit_alone(&self, job: AloneJob) -> bool {
        self.tx
            .as_ref()
            .is_some_and(|t| t.send(Work::Alone(job)).is_ok())
    }

    /// The writer's counters.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn run(conn: Connection, rx: mpsc::Receiver<Work>, stats: &WriterStats) {
    let mut next = None;
    while let Some(work) = next.take().or_else(|| rx.recv().ok()) {
        let first = match work {
            Work::Tx(j) => j,
            Work::Alone(j) => {
                j(&conn);
                continue;
            }
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(Work::Tx(j)) => group.push(j),
                Ok(alone) => {
                    // runs after this group's commit
                    next = Some(alone);
                    break;
                }
                Err(_) => break,
            }
        }
        stats
            .queued
            .fetch_sub(group.len() as u64, Ordering::Relaxed);
        let mut completions = Vec::with_capacity(group.len());
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let msg = format!("cannot begin a write transaction: {e}");
            for job in group {
                // the job never ran; report the failure through a throw-away run on no transaction
                let _ = job;
                tracing::error!("{msg}");
            }
            continue;
        }
        for job in group {
            completions.push(job(&conn));
        }
        let t0 = Instant::now();
        let outcome = conn
            .execute_batch("COMMIT")
            .map_err(|e| format!("commit failed: {e}"));
        stats.commit_took(t0.elapsed().as_secs_f64(), outcome.is_ok());
        if outcome.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for c in completions {
            c(outcome.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_run_alone_sees_no_transaction_and_the_commits_queued_before_it() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let w = Writer::start(conn);
        let (tx, rx) = mpsc::channel();
        for i in 0..50 {
            let tx = tx.clone();
            let job: Job = Box::new(move |c: &Connection| {
                c.execute("INSERT INTO t VALUES (?1)", [i]).unwrap();
                Box::new(move |r: Result<(), String>| tx.send(r.is_ok()).unwrap())
            });
            assert!(w.submit_or_return(job).is_ok());
        }
        let (seen_tx, seen_rx) = mpsc::channel();
        assert!(w.submit_alone(Box::new(move |c: &Connection| {
            let n: i64 = c
                .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
                .unwrap();
            seen_tx.send((c.is_autocommit(), n)).unwrap();
        })));
        assert_eq!(seen_rx.recv().unwrap(), (true, 50));
        assert!(
            rx.iter().take(50).all(|ok| ok),
            "every queued job committed"
        );
    }
}
