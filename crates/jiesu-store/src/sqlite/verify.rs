//! `jiesu verify`: the whole event log checked from the database file alone (no key file):
//! every ticket's hash chain, the log positions, and every projection row against the fold of
//! its events.

use super::*;
use crate::chain::{check_ticket, StoredEvent};

/// What [`verify_file`] found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// Events read.
    pub events: u64,
    /// Tickets read.
    pub tickets: u64,
    /// Every problem found, in log order of discovery (the first is the first bad event).
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The most problems listed (the count goes on).
const MAX_LISTED: usize = 50;

/// Checks the database at `path`, opened read-only.
pub fn verify_file(path: &Path) -> Result<VerifyReport> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut report = VerifyReport::default();
    let mut problems = 0usize;
    let mut note = |report: &mut VerifyReport, p: String| {
        problems += 1;
        if report.problems.len() < MAX_LISTED {
            report.problems.push(p);
        }
    };
    let number_of = |id: i64| -> String {
        conn.query_row("SELECT number FROM tickets WHERE id=?1", [id], |r| {
            r.get::<_, String>(0)
        })
        .unwrap_or_else(|_| format!("#{id}"))
    };
    // 1. each ticket's chain, in (ticket, seq) order
    let mut stmt = conn.prepare(
        "SELECT ticket_id, seq, at, kind, actor, role, unit_code, payload, sealed, hash, pos
         FROM events ORDER BY ticket_id, seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut positions: Vec<i64> = Vec::new();
    let mut current: Vec<RawRow> = Vec::new();
    let flush = |report: &mut VerifyReport,
                 rows: &mut Vec<RawRow>,
                 note: &mut dyn FnMut(&mut VerifyReport, String)| {
        if rows.is_empty() {
            return;
        }
        let id = rows[0].ticket;
        report.tickets += 1;
        let checked = check_ticket(id, rows.iter().map(|r| (r.stored(), r.hash.as_deref())));
        match checked {
            Err(b) => {
                let pos = rows
                    .iter()
                    .find(|r| r.seq == b.seq)
                    .and_then(|r| r.pos)
                    .map_or(String::new(), |p| format!(" at log position {p}"));
                let kind = rows
                    .iter()
                    .find(|r| r.seq == b.seq)
                    .map_or(String::new(), |r| format!(" ({})", r.kind));
                note(
                    report,
                    format!(
                        "ticket {} (id {id}) event {}{kind}{pos}: {}",
                        number_of(id),
                        b.seq,
                        b.reason
                    ),
                );
            }
            Ok(_) => check_projection(&conn, id, rows, report, note),
        }
        rows.clear();
    };
    while let Some(r) = rows.next()? {
        let row = RawRow {
            ticket: r.get(0)?,
            seq: r.get(1)?,
            at: r.get(2)?,
            kind: r.get(3)?,
            actor: r.get(4)?,
            role: r.get(5)?,
            unit: r.get(6)?,
            payload: r.get(7)?,
            sealed: r.get(8)?,
            hash: r.get(9)?,
            pos: r.get(10)?,
        };
        report.events += 1;
        match row.pos {
            Some(p) => positions.push(p),
            None => note(
                &mut report,
                format!(
                    "ticket {} event {}: the event has no log position",
                    number_of(row.ticket),
                    row.seq
                ),
            ),
        }
        if current.first().is_some_and(|f| f.ticket != row.ticket) {
            flush(&mut report, &mut current, &mut note);
        }
        current.push(row);
    }
    flush(&mut report, &mut current, &mut note);
    drop(rows);
    // 2. positions 0, 1, 2, … without a gap (a deleted event leaves one)
    positions.sort_unstable();
    let mut expect = 0i64;
    for p in positions {
        if p > expect {
            note(
                &mut report,
                format!(
                    "log positions {expect}–{} are missing: events were deleted",
                    p - 1
                ),
            );
        }
        expect = p + 1;
    }
    // 3. tickets without events (a deleted history)
    let orphans: Vec<String> = conn
        .prepare("SELECT number FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.ticket_id=t.id) LIMIT 10")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for n in orphans {
        note(
            &mut report,
            format!("ticket {n} has no events: its history was deleted"),
        );
    }
    if problems > report.problems.len() {
        let more = problems - report.problems.len();
        report.problems.push(format!("… and {more} more"));
    }
    Ok(report)
}

struct RawRow {
    ticket: i64,
    seq: u32,
    at: String,
    kind: String,
    actor: String,
    role: String,
    unit: Option<String>,
    payload: String,
    sealed: Option<Vec<u8>>,
    hash: Option<Vec<u8>>,
    pos: Option<i64>,
}

impl RawRow {
    fn stored(&self) -> StoredEvent<'_> {
        StoredEvent {
            ticket: self.ticket,
            seq: self.seq,
            at: &self.at,
            kind: &self.kind,
            actor: &self.actor,
            role: &self.role,
            unit: self.unit.as_deref(),
            payload: &self.payload,
            sealed: self.sealed.as_deref(),
        }
    }
}

/// The projection row agrees with the fold of the (chain-checked) events: status and version.
fn check_projection(
    conn: &Connection,
    id: i64,
    rows: &[RawRow],
    report: &mut VerifyReport,
    note: &mut dyn FnMut(&mut VerifyReport, String),
) {
    let events: Result<Vec<Event>> = rows
        .iter()
        .map(|r| {
            let kind = encode::decode_kind(id, &r.payload, None, None)?;
            event_from_row(r.seq, &r.at, r.actor.clone(), &r.role, r.unit.clone(), kind)
        })
        .collect();
    let folded = events.and_then(|ev| Ok(TicketState::fold(id, &ev)?));
    let st = match folded {
        Ok(st) => st,
        Err(e) => {
            return note(
                report,
                format!("ticket id {id}: its events do not fold: {e}"),
            )
        }
    };
    let row: Option<(String, u32)> = conn
        .query_row(
            "SELECT status, version FROM tickets WHERE id=?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .unwrap_or(None);
    match row {
        None => note(
            report,
            format!("ticket {}: no ticket row for its events", st.number),
        ),
        Some((status, version)) if status != st.status.as_str() || version != st.version => note(
            report,
            format!(
                "ticket {}: the ticket row says {status}/v{version} but its events fold to {}/v{}",
                st.number,
                st.status.as_str(),
                st.version
            ),
        ),
        Some(_) => {}
    }
}
