//! The rows a ticket is stored as — its events and its projection rows — as SQL values, built
//! apart from the statements that write them. Every write goes through these builders (one
//! definition of each row), and a bulk import can build them on its own threads, so the single
//! writer thread only binds and inserts ([`TicketStore::import_encoded`](crate::TicketStore::import_encoded)): at Beijing scale the
//! JSON and timestamp encoding is a fifth of the writer's time.

use crate::time::{fmt, fmt_opt};
use crate::Result;
use jiesu_domain::{CallbackOutcome, Event, TicketId, TicketState};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO events (ticket_id, seq, at, kind, actor, role, unit_code, payload) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)";

pub(crate) const UPSERT_TICKET: &str =
    "INSERT INTO tickets (id, number, created_at, channel, type, category_code, district_code, street_code,
       community_code, status, title, phone_last4, enterprise, lead_unit, first_dispatched_at, finish_deadline,
       closed_at, answered_directly, special, round, cb_contacted, cb_resolution, cb_satisfaction, cb_at,
       merged_into, exempt_reason, version, updated_at)
     VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28)
     ON CONFLICT(id) DO UPDATE SET status=excluded.status, type=excluded.type, category_code=excluded.category_code,
       lead_unit=excluded.lead_unit, first_dispatched_at=excluded.first_dispatched_at,
       finish_deadline=excluded.finish_deadline, closed_at=excluded.closed_at,
       answered_directly=excluded.answered_directly, special=excluded.special, round=excluded.round,
       cb_contacted=excluded.cb_contacted, cb_resolution=excluded.cb_resolution,
       cb_satisfaction=excluded.cb_satisfaction, cb_at=excluded.cb_at, merged_into=excluded.merged_into,
       exempt_reason=excluded.exempt_reason,
       version=excluded.version, updated_at=excluded.updated_at";

pub(crate) const INSERT_ASSIGNMENT: &str =
    "INSERT INTO assignments (ticket_id, idx, unit_code, role, tier, state, round, dispatched_at, sign_deadline,
       respond_deadline, finish_deadline, signed_at, responded_at, finished_at, return_pending,
       extension_pending, dispatched_by, extensions_granted, reminded, paused_since)
       VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)";

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn opt_text(s: Option<impl Into<String>>) -> Value {
    s.map_or(Value::Null, |s| Value::Text(s.into()))
}

fn int(i: impl Into<i64>) -> Value {
    Value::Integer(i.into())
}

/// One `events` row.
pub(crate) fn event_row(id: TicketId, e: &Event) -> Result<[Value; 8]> {
    Ok([
        int(id),
        int(e.seq),
        text(fmt(e.at)),
        text(e.kind.name()),
        text(e.actor.user.as_str()),
        text(e.actor.role.as_str()),
        opt_text(e.actor.unit.as_deref()),
        text(serde_json::to_string(&e.kind)?),
    ])
}

/// The `tickets` row of a ticket's state.
pub(crate) fn ticket_row(st: &TicketState) -> Vec<Value> {
    let i = &st.intake;
    let phone = &i.requester.phone;
    let skip = phone.chars().count().saturating_sub(4);
    let last4: String = phone.chars().skip(skip).collect();
    let lead = st.assignments.iter().rev().find(|a| {
        a.role == jiesu_domain::ticket::AssignmentRole::Lead
            && a.state != jiesu_domain::AssignmentState::Returned
    });
    let cb = st.callbacks.iter().rev().find_map(|c| match &c.outcome {
        CallbackOutcome::Reached {
            contacted,
            resolution,
            satisfaction,
            ..
        } => Some((*contacted, resolution.as_str(), satisfaction.as_str(), c.at)),
        _ => None,
    });
    vec![
        int(st.id),
        text(st.number.as_str()),
        text(fmt(st.created_at)),
        text(i.channel.as_str()),
        text(i.request_type.as_str()),
        text(i.category_code.as_str()),
        text(i.place.district_code.as_str()),
        text(i.place.street_code.as_str()),
        opt_text(i.place.community_code.as_deref()),
        text(st.status.as_str()),
        text(i.title.as_str()),
        text(last4),
        int(i.enterprise),
        opt_text(lead.map(|a| a.unit.as_str())),
        opt_text(fmt_opt(st.first_dispatched_at)),
        opt_text(lead.map(|a| fmt(a.deadlines.finish))),
        opt_text(fmt_opt(st.closed_at)),
        int(st.answer.is_some()),
        opt_text(st.special.map(|s| s.as_str())),
        int(st.round),
        cb.map_or(Value::Null, |c| int(c.0)),
        opt_text(cb.map(|c| c.1)),
        opt_text(cb.map(|c| c.2)),
        opt_text(cb.map(|c| fmt(c.3))),
        st.merged_into.as_ref().map_or(Value::Null, |m| int(m.0)),
        opt_text(st.exempt.as_ref().map(|e| e.0.as_str())),
        int(st.version),
        text(fmt(st.last_event_at)),
    ]
}

/// The `assignments` rows of a ticket's state, in order.
pub(crate) fn assignment_rows(st: &TicketState) -> Result<Vec<[Value; 20]>> {
    st.assignments
        .iter()
        .enumerate()
        .map(|(idx, a)| {
            Ok([
                int(st.id),
                int(idx as i64),
                text(a.unit.as_str()),
                text(a.role.as_str()),
                text(a.tier.as_str()),
                text(a.state.as_str()),
                int(a.round),
                text(fmt(a.dispatched_at)),
                text(fmt(a.deadlines.sign)),
                text(fmt(a.deadlines.respond)),
                text(fmt(a.deadlines.finish)),
                opt_text(fmt_opt(a.signed_at)),
                opt_text(fmt_opt(a.responded_at)),
                opt_text(fmt_opt(a.finished_at)),
                int(a.pending_return.is_some()),
                int(a.pending_extension.is_some()),
                text(a.dispatched_by.as_str()),
                int(a.extensions_granted),
                text(serde_json::to_string(&a.reminders)?),
                opt_text(fmt_opt(a.paused_since)),
            ])
        })
        .collect()
}

/// Writes event rows.
pub(crate) fn insert_event_rows<'a>(
    c: &Connection,
    rows: impl IntoIterator<Item = &'a [Value; 8]>,
) -> Result<()> {
    let mut stmt = c.prepare_cached(INSERT_EVENT)?;
    for r in rows {
        stmt.execute(params_from_iter(r.iter()))?;
    }
    Ok(())
}

/// Writes a ticket's projection rows (replacing its assignments).
pub(crate) fn write_projection_rows(
    c: &Connection,
    id: TicketId,
    ticket: &[Value],
    assignments: &[[Value; 20]],
) -> Result<()> {
    c.prepare_cached(UPSERT_TICKET)?
        .execute(params_from_iter(ticket.iter()))?;
    c.prepare_cached("DELETE FROM assignments WHERE ticket_id=?1")?
        .execute([id])?;
    let mut ins = c.prepare_cached(INSERT_ASSIGNMENT)?;
    for a in assignments {
        ins.execute(params_from_iter(a.iter()))?;
    }
    Ok(())
}

/// One ticket's rows, ready for [`TicketStore::import_encoded`](crate::TicketStore::import_encoded).
#[derive(Debug, Clone)]
pub struct EncodedTicket {
    id: TicketId,
    events: Vec<[Value; 8]>,
    ticket: Vec<Value>,
    assignments: Vec<[Value; 20]>,
}

impl EncodedTicket {
    /// Encodes a complete history (its folded state and its events) on the calling thread.
    pub fn new(st: &TicketState, events: &[Event]) -> Result<Self> {
        Ok(EncodedTicket {
            id: st.id,
            events: events
                .iter()
                .map(|e| event_row(st.id, e))
                .collect::<Result<_>>()?,
            ticket: ticket_row(st),
            assignments: assignment_rows(st)?,
        })
    }
}

impl EncodedTicket {
    /// Writes the rows (on the writer's connection).
    pub(crate) fn insert(&self, c: &Connection) -> Result<()> {
        insert_event_rows(c, &self.events)?;
        write_projection_rows(c, self.id, &self.ticket, &self.assignments)
    }
}
