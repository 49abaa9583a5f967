//! The raw PostgreSQL limit `jiesu bench intake --db postgres://…` compares the server with: the
//! same rows a new ticket writes (its data key, its event, its ticket and assignment rows), written
//! by `clients` connections of this process, each ticket in its own committed transaction, with
//! the server's durability (`synchronous_commit` as configured) — no HTTP, no domain, no group
//! commit. Ids are taken far above the real tickets' so the two never meet.

use super::conn::Conn;
use super::*;
use rusqlite::types::Value;
use std::time::{Duration, Instant};

/// What the limit sustained: tickets written, and each one's latency in milliseconds.
pub struct RawLimit {
    pub tickets: u64,
    pub seconds: f64,
    pub latencies_ms: Vec<f64>,
}

const ID_BASE: i64 = 1_000_000_000_000;

fn one(c: &mut Conn, t: &EncodedTicket, id: i64) -> Result<()> {
    let with_id = |row: &[Value]| -> Vec<Pv> {
        let mut p = pvs(row);
        p[0] = Pv(Value::Integer(id));
        p
    };
    c.batch("BEGIN")?;
    c.exec(
        "INSERT INTO personal_keys (ticket_id, key_id, wrapped) VALUES (?1,?2,?3)",
        &with_id(&t.key),
    )?;
    for e in &t.events {
        let mut p = with_id(e);
        p.push(Pv(Value::Integer(id)));
        c.exec(encode::INSERT_EVENT, &p)?;
    }
    let mut tr = with_id(&t.ticket);
    tr[1] = Pv(Value::Text(format!("L{id}")));
    c.exec(encode::UPSERT_TICKET, &tr)?;
    for a in &t.assignments {
        c.exec(encode::INSERT_ASSIGNMENT, &with_id(a))?;
    }
    c.batch("COMMIT")
}

/// Runs the limit for `seconds` with `clients` connections to `url`, then deletes its rows.
pub fn raw_intake_limit(
    url: &str,
    clients: usize,
    seconds: u64,
    sample: &EncodedTicket,
) -> Result<RawLimit> {
    off_runtime(|| {
        let config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Db(format!("{}: {e}", shown(url))))?;
        let start = Instant::now();
        let deadline = start + Duration::from_secs(seconds);
        let results: Vec<Result<Vec<f64>>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..clients)
                .map(|i| {
                    let config = config.clone();
                    s.spawn(move || -> Result<Vec<f64>> {
                        let mut c = connect(&config)?;
                        let mut lat = Vec::new();
                        let mut n = 0i64;
                        while Instant::now() < deadline {
                            let id = ID_BASE + i as i64 * 1_000_000_000 + n;
                            let t0 = Instant::now();
                            one(&mut c, sample, id)?;
                            lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                            n += 1;
                        }
                        Ok(lat)
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(StoreError::Db("a client panicked".into())))
                })
                .collect()
        });
        let elapsed = start.elapsed().as_secs_f64();
        let mut latencies_ms = Vec::new();
        for r in results {
            latencies_ms.extend(r?);
        }
        let mut c = connect(&config)?;
        for table in ["events", "assignments", "tickets", "personal_keys"] {
            let col = if table == "tickets" {
                "id"
            } else {
                "ticket_id"
            };
            c.exec(
                &format!("DELETE FROM {table} WHERE {col} >= ?1"),
                &crate::pv![ID_BASE],
            )?;
        }
        Ok(RawLimit {
            tickets: latencies_ms.len() as u64,
            seconds: elapsed,
            latencies_ms,
        })
    })
}
