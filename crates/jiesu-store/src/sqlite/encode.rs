//! The rows a ticket is stored as — its events and its projection rows — as SQL values, built
//! apart from the statements that write them. Every write goes through these builders (one
//! definition of each row), and a bulk import can build them on its own threads, so the single
//! writer thread only binds and inserts ([`TicketStore::import_encoded`](crate::TicketStore::import_encoded)): at Beijing scale the
//! JSON and timestamp encoding is a fifth of the writer's time.

use crate::chain::{self, Hash, StoredEvent};
use crate::crypt::{DataKey, Keys};
use crate::time::{fmt, fmt_opt};
use crate::{Result, StoreError};
use jiesu_domain::{CallbackOutcome, Event, EventKind, TicketId, TicketState};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO events (ticket_id, seq, at, kind, actor, role, unit_code, payload, sealed, hash, pos)
     VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)";

pub(crate) const UPSERT_TICKET: &str =
    "INSERT INTO tickets (id, number, created_at, channel, type, category_code, district_code, street_code,
       community_code, status, title, phone_hash, enterprise, lead_unit, first_dispatched_at, finish_deadline,
       closed_at, answered_directly, special, round, cb_contacted, cb_resolution, cb_satisfaction, cb_at,
       merged_into, exempt_reason, version, updated_at)
     VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28)
     ON CONFLICT(id) DO UPDATE SET status=excluded.status, type=excluded.type, category_code=excluded.category_code,
       lead_unit=excluded.lead_unit, first_dispatched_at=excluded.first_dispatched_at,
       finish_deadline=excluded.finish_deadline, closed_at=excluded.closed_at,
       answered_directly=excluded.answered_directly, special=excluded.special, round=excluded.round,
       cb_contacted=excluded.cb_contacted, cb_resolution=excluded.cb_resolution,
       cb_satisfaction=excluded.cb_satisfaction, cb_at=excluded.cb_at, merged_into=excluded.merged_into,
       exempt_reason=excluded.exempt_reason, phone_hash=excluded.phone_hash,
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

/// The personal data of an event, sealed apart from its payload (`events.sealed`): the
/// requester's name and phone and the free-text address of a 受理 event.
#[derive(Serialize, Deserialize)]
struct Personal {
    name: String,
    phone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
}

/// The event's kind with its personal data taken out (blanked), and that data, if it has any.
fn split_personal(kind: &EventKind) -> Option<(EventKind, Personal)> {
    match kind {
        EventKind::Created { number, intake } => {
            let mut blank = intake.clone();
            let personal = Personal {
                name: std::mem::take(&mut blank.requester.name),
                phone: std::mem::take(&mut blank.requester.phone),
                address: blank.place.address.take(),
            };
            Some((
                EventKind::Created {
                    number: number.clone(),
                    intake: blank,
                },
                personal,
            ))
        }
        _ => None,
    }
}

/// Puts opened personal data back into the event's kind.
fn restore_personal(kind: &mut EventKind, p: Personal) {
    if let EventKind::Created { intake, .. } = kind {
        intake.requester.name = p.name;
        intake.requester.phone = p.phone;
        intake.place.address = p.address;
    }
}

/// One `events` row (without its log position, which the writer gives it) and its hash: the
/// payload without personal data, the personal data sealed with the ticket's data key `dek`,
/// the link after `prev` in the ticket's chain.
pub(crate) fn event_row(
    id: TicketId,
    e: &Event,
    prev: &Hash,
    dek: Option<&DataKey>,
) -> Result<([Value; 10], Hash)> {
    let (payload, sealed) = match split_personal(&e.kind) {
        Some((blank, personal)) => {
            let dek = dek.ok_or_else(|| {
                StoreError::Db(format!(
                    "ticket {id}: an event with personal data needs the ticket's data key"
                ))
            })?;
            let plain = serde_json::to_vec(&personal)?;
            (serde_json::to_string(&blank)?, Some(dek.seal(id, &plain)))
        }
        None => (serde_json::to_string(&e.kind)?, None),
    };
    let (at, kind) = (fmt(e.at), e.kind.name());
    let hash = chain::event_hash(
        prev,
        &StoredEvent {
            ticket: id,
            seq: e.seq,
            at: &at,
            kind,
            actor: &e.actor.user,
            role: e.actor.role.as_str(),
            unit: e.actor.unit.as_deref(),
            payload: &payload,
            sealed: sealed.as_deref(),
        },
    );
    Ok((
        [
            int(id),
            int(e.seq),
            text(at),
            text(kind),
            text(e.actor.user.as_str()),
            text(e.actor.role.as_str()),
            opt_text(e.actor.unit.as_deref()),
            text(payload),
            sealed.map_or(Value::Null, Value::Blob),
            Value::Blob(hash.to_vec()),
        ],
        hash,
    ))
}

/// The rows of a run of events of one ticket, chained after `prev`.
pub(crate) fn event_rows(
    id: TicketId,
    events: &[Event],
    mut prev: Hash,
    dek: Option<&DataKey>,
) -> Result<Vec<[Value; 10]>> {
    events
        .iter()
        .map(|e| {
            let (row, h) = event_row(id, e, &prev, dek)?;
            prev = h;
            Ok(row)
        })
        .collect()
}

/// Decodes a stored payload, opening its sealed personal data with `dek` (a ticket whose data
/// key was erased keeps the blanked fields).
pub(crate) fn decode_kind(
    id: TicketId,
    payload: &str,
    sealed: Option<&[u8]>,
    dek: Option<&DataKey>,
) -> Result<EventKind> {
    let mut kind: EventKind = serde_json::from_str(payload)?;
    if let (Some(blob), Some(dek)) = (sealed, dek) {
        let personal: Personal = serde_json::from_slice(&dek.open(id, blob)?)?;
        restore_personal(&mut kind, personal);
    }
    Ok(kind)
}

/// A ticket's data key, unwrapped; `None` once its personal data was erased.
pub(crate) fn data_key_in(c: &Connection, keys: &Keys, id: TicketId) -> Result<Option<DataKey>> {
    let row: Option<(String, Vec<u8>)> = c
        .prepare_cached("SELECT key_id, wrapped FROM personal_keys WHERE ticket_id=?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(kid, w)| keys.unwrap(id, &kid, &w)).transpose()
}

/// A new ticket's data key and its `personal_keys` row.
pub(crate) fn new_data_key(keys: &Keys, id: TicketId) -> (DataKey, [Value; 3]) {
    let (dek, kid, wrapped) = keys.ring().new_data_key(id);
    (dek, [int(id), text(kid), Value::Blob(wrapped)])
}

pub(crate) fn insert_data_key(c: &Connection, row: &[Value; 3]) -> Result<()> {
    c.prepare_cached("INSERT INTO personal_keys (ticket_id, key_id, wrapped) VALUES (?1,?2,?3)")?
        .execute(params_from_iter(row.iter()))?;
    Ok(())
}

/// The `tickets` row of a ticket's state; the phone only as its keyed hash.
pub(crate) fn ticket_row(st: &TicketState, keys: &Keys) -> Vec<Value> {
    let i = &st.intake;
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
        keys.ring()
            .phone_index(&i.requester.phone)
            .map_or(Value::Null, Value::Blob),
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

/// Writes event rows at the next positions of the log.
pub(crate) fn insert_event_rows<'a>(
    c: &Connection,
    rows: impl IntoIterator<Item = &'a [Value; 10]>,
) -> Result<()> {
    let first: i64 = c
        .prepare_cached("SELECT COALESCE(MAX(pos) + 1, 0) FROM events")?
        .query_row([], |r| r.get(0))?;
    let mut stmt = c.prepare_cached(INSERT_EVENT)?;
    for (pos, r) in (first..).zip(rows) {
        stmt.execute(params_from_iter(
            r.iter().chain(std::iter::once(&Value::Integer(pos))),
        ))?;
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
    pub(crate) key: [Value; 3],
    pub(crate) events: Vec<[Value; 10]>,
    pub(crate) ticket: Vec<Value>,
    pub(crate) assignments: Vec<[Value; 20]>,
}

impl EncodedTicket {
    /// Encodes a complete history (its folded state and its events) on the calling thread: a
    /// new data key, the sealed and chained events, the projection.
    pub(crate) fn new(keys: &Keys, st: &TicketState, events: &[Event]) -> Result<Self> {
        let (dek, key) = new_data_key(keys, st.id);
        Ok(EncodedTicket {
            key,
            events: event_rows(st.id, events, chain::GENESIS, Some(&dek))?,
            ticket: ticket_row(st, keys),
            assignments: assignment_rows(st)?,
        })
    }
}

impl EncodedTicket {
    /// Writes the rows of new tickets (on the writer's connection), table by table with
    /// statements of many rows each: at Beijing scale the writer thread is the generator's
    /// bottleneck, and a row of a multi-row `INSERT` costs it about half of a one-row statement
    /// of its own (no statement step, reset and cache look-up per row). The tickets must be new
    /// (their events' keys are unique, so a ticket already stored fails the whole batch).
    pub(crate) fn insert_new(c: &Connection, batch: &[EncodedTicket]) -> Result<()> {
        insert_many(
            c,
            "INSERT INTO personal_keys (ticket_id, key_id, wrapped)",
            3,
            batch.iter().map(|t| &t.key[..]),
        )?;
        let first: i64 = c
            .prepare_cached("SELECT COALESCE(MAX(pos) + 1, 0) FROM events")?
            .query_row([], |r| r.get(0))?;
        // the event rows with their log position appended (bound by reference: the writer
        // thread copies no payload)
        let n = batch.iter().map(|t| t.events.len()).sum::<usize>() as i64;
        let positions: Vec<Value> = (first..first + n).map(Value::Integer).collect();
        insert_many(
            c,
            "INSERT INTO events (ticket_id, seq, at, kind, actor, role, unit_code, payload, sealed, hash, pos)",
            11,
            batch
                .iter()
                .flat_map(|t| t.events.iter())
                .zip(&positions)
                .map(|(r, pos)| r.iter().chain(std::iter::once(pos))),
        )?;
        let cols = batch.first().map_or(0, |t| t.ticket.len());
        insert_many(
            c,
            insert_head(UPSERT_TICKET),
            cols,
            batch.iter().map(|t| &t.ticket[..]),
        )?;
        insert_many(
            c,
            insert_head(INSERT_ASSIGNMENT),
            20,
            batch
                .iter()
                .flat_map(|t| t.assignments.iter().map(|a| &a[..])),
        )
    }
}

/// `INSERT INTO t (…)` of a one-row statement `INSERT INTO t (…) VALUES (…) …`: the head
/// [`insert_many`] repeats the rows after (a new ticket conflicts with nothing, so an upsert's
/// conflict clause is not needed).
fn insert_head(one_row: &str) -> &str {
    one_row
        .split_once("VALUES")
        .map_or(one_row, |(head, _)| head.trim_end())
}

/// Inserts rows of `cols` values each with `head VALUES (…), (…), …`: statements of [`MANY`]
/// rows (prepared once and cached), the rest in one more.
fn insert_many<'a, R: IntoIterator<Item = &'a Value>>(
    c: &Connection,
    head: &str,
    cols: usize,
    rows: impl Iterator<Item = R>,
) -> Result<()> {
    if cols == 0 {
        return Ok(());
    }
    // SQLite binds at most 32,766 values to a statement
    let per = MANY.min(32_766 / cols);
    let sql = |n: usize| {
        let row = format!("({})", vec!["?"; cols].join(","));
        format!("{head} VALUES {}", vec![row; n].join(","))
    };
    let mut pending: Vec<&Value> = Vec::with_capacity(per * cols);
    let mut full = None;
    for r in rows {
        let before = pending.len();
        pending.extend(r);
        if pending.len() - before != cols {
            return Err(StoreError::Db(format!(
                "a row of {} values where {head} takes {cols}",
                pending.len() - before
            )));
        }
        if pending.len() == per * cols {
            let stmt = match &mut full {
                Some(s) => s,
                None => full.insert(c.prepare_cached(&sql(per))?),
            };
            stmt.execute(params_from_iter(pending.drain(..)))?;
        }
    }
    if !pending.is_empty() {
        c.prepare(&sql(pending.len() / cols))?
            .execute(params_from_iter(pending))?;
    }
    Ok(())
}

/// Rows per statement of [`insert_many`].
const MANY: usize = 64;
