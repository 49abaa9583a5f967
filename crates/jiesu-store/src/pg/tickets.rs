//! Tickets in PostgreSQL: the event log and its projections (the twin of `sqlite/tickets.rs`).

use super::*;
use crate::time::fmt;
use chrono::{DateTime, Utc};
use postgres::Row;

/// One row of a ticket list (the columns of `sqlite/tickets.rs`'s `summary_row`).
fn summary_row(r: &Row) -> Result<TicketSummary> {
    Ok(TicketSummary {
        id: r.get_i64(0)?,
        number: r.get_str(1)?,
        created_at: r.get_str(2)?,
        channel: r.get_str(3)?,
        request_type: r.get_str(4)?,
        category_code: r.get_str(5)?,
        district_code: r.get_str(6)?,
        street_code: r.get_str(7)?,
        status: r.get_str(8)?,
        title: r.get_str(9)?,
        lead_unit: r.get_opt_str(10)?,
        finish_deadline: r.get_opt_str(11)?,
        next_clock: match (
            r.get_opt_str(12)?,
            r.get_opt_str(13)?,
            r.get_opt_str(14)?,
            r.get_opt_str(15)?,
        ) {
            (Some(clock), Some(due), Some(start), Some(unit_code)) => Some(NextClock {
                clock,
                due,
                start,
                unit_code,
            }),
            _ => None,
        },
        community_code: r.get_opt_str(16)?,
    })
}

/// The units of a JSON array bound at `p`, as a set of text values.
fn json_set(p: &str) -> String {
    format!("(SELECT jsonb_array_elements_text(CAST({p} AS TEXT)::jsonb))")
}

/// The nearest running clock of each ticket's active assignments of the units bound at `units`
/// (see `sqlite/tickets.rs`'s `next_clock_join`: the same query).
fn next_clock_join(units: &str) -> String {
    format!(
        "SELECT c.ticket_id, c.unit_code, c.start, c.clock,
                CASE c.clock WHEN 'sign' THEN c.s WHEN 'respond' THEN c.r ELSE c.f END AS due,
                ROW_NUMBER() OVER (PARTITION BY c.ticket_id
                    ORDER BY CASE c.clock WHEN 'sign' THEN c.s WHEN 'respond' THEN c.r ELSE c.f END, c.idx) AS rn
         FROM (SELECT b.*,
                      CASE WHEN b.s IS NOT NULL AND b.s <= b.f AND (b.r IS NULL OR b.s <= b.r) THEN 'sign'
                           WHEN b.r IS NOT NULL AND b.r <= b.f THEN 'respond'
                           ELSE 'finish' END AS clock
               FROM (SELECT a.ticket_id, a.idx, a.unit_code, a.dispatched_at AS start,
                            CASE WHEN a.signed_at IS NULL THEN a.sign_deadline END AS s,
                            CASE WHEN a.responded_at IS NULL THEN a.respond_deadline END AS r,
                            a.finish_deadline AS f
                     FROM assignments a
                     WHERE a.unit_code IN {}
                       AND a.state IN ('dispatched','signed','responded')) b) c",
        json_set(units)
    )
}

impl TicketStore for PgStore {
    fn create_ticket(&self, new: NewTicket) -> Result<Created> {
        let keys = self.keys.clone();
        self.write(move |c| create_in(c, &keys, new))
    }

    fn create_ticket_then(&self, new: NewTicket, done: Done<Created>) {
        let keys = self.keys.clone();
        self.submit(move |c| create_in(c, &keys, new), done)
    }

    fn update_ticket(&self, id: TicketId, change: Change) -> Result<(TicketState, Vec<Event>)> {
        let keys = self.keys.clone();
        self.write(move |c| apply_change(c, &keys, id, change))
    }

    fn update_two(
        &self,
        a: (TicketId, Change),
        b: (TicketId, Change),
    ) -> Result<(TicketState, TicketState)> {
        let keys = self.keys.clone();
        self.write(move |c| {
            let (sa, _) = apply_change(c, &keys, a.0, a.1)?;
            let (sb, _) = apply_change(c, &keys, b.0, b.1)?;
            Ok((sa, sb))
        })
    }

    fn load_ticket(&self, id: TicketId) -> Result<Option<(TicketState, Vec<Event>)>> {
        self.read(|c| load_in(c, &self.keys, id))
    }

    fn ticket_id_by_number(&self, number: &str) -> Result<Option<TicketId>> {
        self.read(|c| {
            c.query_opt(
                "SELECT id FROM tickets WHERE number=?1",
                &crate::pv![number],
            )?
            .map(|r| r.get_i64(0))
            .transpose()
        })
    }

    fn list_tickets(&self, q: &TicketQuery) -> Result<Page<TicketSummary>> {
        let phone_hash = q.phone.as_deref().map(|p| self.keys.ring().phone_index(p));
        self.read(|c| {
            let mut wh: Vec<String> = vec![];
            let mut args: Vec<Pv> = vec![];
            let mut arg = |v: Value| {
                args.push(Pv(v));
                format!("?{}", args.len())
            };
            let mut next_join = String::new();
            if let Some(units) = &q.units {
                let json = serde_json::to_string(units)?;
                let p = arg(Value::Text(json));
                next_join = next_clock_join(&p);
                let active = if q.active_only {
                    " AND a.state IN ('dispatched','signed','responded')"
                } else {
                    " AND a.state <> 'returned'"
                };
                wh.push(format!(
                    "t.id IN (SELECT a.ticket_id FROM assignments a WHERE a.unit_code IN {}{active})",
                    json_set(&p)
                ));
            }
            if let Some(h) = &phone_hash {
                // no digits: matches nothing
                let p = arg(h.clone().map_or(Value::Null, Value::Blob));
                wh.push(format!("t.phone_hash = {p}"));
            }
            if let Some(s) = &q.status {
                let ps: Vec<String> = s
                    .split(',')
                    .map(|one| arg(Value::Text(one.to_string())))
                    .collect();
                wh.push(format!("t.status IN ({})", ps.join(",")));
            }
            if let Some(s) = &q.category_prefix {
                let ps: Vec<String> = s
                    .split(',')
                    .map(|one| format!("t.category_code LIKE {}", arg(Value::Text(format!("{one}%")))))
                    .collect();
                wh.push(format!("({})", ps.join(" OR ")));
            }
            if let Some(s) = &q.district {
                let p = arg(Value::Text(s.clone()));
                wh.push(format!("t.district_code = {p}"));
            }
            if let Some(s) = &q.street {
                let p = arg(Value::Text(s.clone()));
                wh.push(format!("t.street_code = {p}"));
            }
            if let Some(s) = &q.channel {
                let p = arg(Value::Text(s.clone()));
                wh.push(format!("t.channel = {p}"));
            }
            if let Some(s) = &q.request_type {
                let p = arg(Value::Text(s.clone()));
                wh.push(format!("t.type = {p}"));
            }
            if let Some(t) = q.from {
                let p = arg(Value::Text(fmt(t)));
                wh.push(format!("t.created_at >= {p}"));
            }
            if let Some(t) = q.to {
                let p = arg(Value::Text(fmt(t)));
                wh.push(format!("t.created_at < {p}"));
            }
            if let Some(t) = q.overdue_at {
                let p = arg(Value::Text(fmt(t)));
                wh.push(format!(
                    "t.status IN ('dispatched','in_progress','return_review') AND t.finish_deadline < {p}"
                ));
            }
            let where_sql = if wh.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", wh.join(" AND "))
            };
            let total = c
                .query_one(&format!("SELECT COUNT(*) FROM tickets t {where_sql}"), &args)?
                .get_i64(0)?;
            let size = q.page_size.clamp(1, 500);
            let page = q.page.max(1);
            let (next_cols, next_from) = if next_join.is_empty() {
                (
                    "NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT",
                    String::new(),
                )
            } else {
                (
                    "n.clock, n.due, n.start, n.unit_code",
                    format!("LEFT JOIN ({next_join}) n ON n.ticket_id = t.id AND n.rn = 1"),
                )
            };
            let order = match (q.by_deadline, next_from.is_empty()) {
                (false, _) => "t.id DESC",
                (true, true) => {
                    "CASE WHEN t.finish_deadline IS NULL THEN 1 ELSE 0 END, t.finish_deadline ASC, t.id ASC"
                }
                (true, false) => {
                    "CASE WHEN COALESCE(n.due, t.finish_deadline) IS NULL THEN 1 ELSE 0 END, COALESCE(n.due, t.finish_deadline) ASC, t.id ASC"
                }
            };
            let sql = format!(
                "SELECT t.id, t.number, t.created_at, t.channel, t.type, t.category_code, t.district_code, t.street_code,
                        t.status, t.title, t.lead_unit, t.finish_deadline, {next_cols}, t.community_code
                 FROM tickets t {next_from} {where_sql} ORDER BY {order} LIMIT {size} OFFSET {}",
                (page as u64 - 1) * size as u64
            );
            let items = c
                .query(&sql, &args)?
                .iter()
                .map(summary_row)
                .collect::<Result<Vec<_>>>()?;
            Ok(Page {
                items,
                total: total as u64,
                page,
                page_size: size,
            })
        })
    }

    fn callback_queue(
        &self,
        now: DateTime<Utc>,
        page: u32,
        page_size: u32,
    ) -> Result<Page<TicketSummary>> {
        let now = fmt(now);
        self.read(|c| {
            // results submitted first, then overdue open tickets; the two sets never overlap
            let due = "(t.status = 'result_submitted' OR (t.status IN ('dispatched','in_progress','return_review') AND t.finish_deadline < ?1))";
            let total = c
                .query_one(
                    &format!("SELECT COUNT(*) FROM tickets t WHERE {due}"),
                    &crate::pv![&now],
                )?
                .get_i64(0)?;
            let size = page_size.max(1);
            let page = page.max(1);
            let offset = (page as u64 - 1) * size as u64;
            let sql = format!(
                "SELECT t.id, t.number, t.created_at, t.channel, t.type, t.category_code, t.district_code, t.street_code,
                        t.status, t.title, t.lead_unit, t.finish_deadline, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, t.community_code
                 FROM tickets t WHERE {due}
                 ORDER BY CASE WHEN t.status = 'result_submitted' THEN 0 ELSE 1 END,
                          CASE WHEN t.finish_deadline IS NULL THEN 1 ELSE 0 END, t.finish_deadline ASC, t.id ASC
                 LIMIT {size} OFFSET {offset}"
            );
            let items = c
                .query(&sql, &crate::pv![&now])?
                .iter()
                .map(summary_row)
                .collect::<Result<Vec<_>>>()?;
            Ok(Page {
                items,
                total: total as u64,
                page,
                page_size: size,
            })
        })
    }

    fn ticket_count(&self) -> Result<u64> {
        self.read(|c| {
            Ok(c.query_one("SELECT COUNT(*) FROM tickets", &[])?
                .get_i64(0)? as u64)
        })
    }

    fn import(&self, tickets: Vec<(TicketState, Vec<Event>)>) -> Result<()> {
        let keys = self.keys.clone();
        self.write(move |c| {
            c.next_id = None;
            for (st, events) in &tickets {
                insert_events(c, &keys, st.id, events, crate::chain::GENESIS)?;
                write_projection(c, &keys, st)?;
            }
            Ok(())
        })
    }

    fn encode_ticket(&self, st: &TicketState, events: &[Event]) -> Result<EncodedTicket> {
        EncodedTicket::new(&self.keys, st, events)
    }

    fn import_encoded(&self, batch: Vec<EncodedTicket>) -> Result<Vec<EncodedTicket>> {
        self.write(move |c| {
            bulk_insert(c, &batch)?;
            Ok(batch)
        })
    }

    fn begin_bulk(&self) -> Result<()> {
        self.write(|c| {
            for line in INDEXES.as_str().lines() {
                if let Some(name) = line
                    .strip_prefix("CREATE INDEX IF NOT EXISTS ")
                    .and_then(|s| s.split_whitespace().next())
                {
                    c.batch(&format!("DROP INDEX IF EXISTS {name}"))?;
                }
            }
            Ok(())
        })
    }

    fn end_bulk(&self, _sampled: bool) -> Result<()> {
        // PostgreSQL's ANALYZE samples on its own (default_statistics_target)
        self.write(|c| {
            c.batch(&INDEXES)?;
            c.batch("ANALYZE")?;
            Ok(())
        })
    }

    fn rebuild_projections(&self) -> Result<u64> {
        let keys = self.keys.clone();
        self.write(move |c| {
            let ids: Vec<i64> = c
                .query(
                    "SELECT DISTINCT ticket_id FROM events ORDER BY ticket_id",
                    &[],
                )?
                .iter()
                .map(|r| r.get_i64(0))
                .collect::<Result<_>>()?;
            for id in &ids {
                let (st, _) = load_in(c, &keys, *id)?.ok_or(StoreError::NotFound)?;
                write_projection(c, &keys, &st)?;
            }
            Ok(ids.len() as u64)
        })
    }

    fn open_assignments(&self, f: &mut dyn FnMut(OpenAssignment) -> Result<()>) -> Result<u64> {
        self.read(|c| {
            c.for_each(
                "SELECT a.ticket_id, a.unit_code, a.role, a.state, a.dispatched_at, a.sign_deadline, a.respond_deadline,
                        a.finish_deadline, a.signed_at, a.responded_at, a.extensions_granted, a.reminded, t.district_code,
                        a.tier, t.category_code
                 FROM assignments a JOIN tickets t ON t.id = a.ticket_id
                 WHERE a.state IN ('dispatched','signed','responded') AND a.paused_since IS NULL",
                &[],
                &mut |r| {
                    let reminded = r.get_str(11)?;
                    f(OpenAssignment {
                        ticket_id: r.get_i64(0)?,
                        unit_code: r.get_str(1)?,
                        role: r.get_str(2)?,
                        state: r.get_str(3)?,
                        dispatched_at: r.get_str(4)?,
                        sign_deadline: r.get_str(5)?,
                        respond_deadline: r.get_str(6)?,
                        finish_deadline: r.get_str(7)?,
                        signed_at: r.get_opt_str(8)?,
                        responded_at: r.get_opt_str(9)?,
                        extensions_granted: r.get_u32(10)?,
                        reminders: serde_json::from_str(&reminded).unwrap_or_default(),
                        district_code: r.get_str(12)?,
                        tier: r.get_str(13)?,
                        category_code: r.get_str(14)?,
                    })
                },
            )
        })
    }

    fn unit_events(
        &self,
        units: &[String],
        kinds: &[&str],
        limit: u32,
    ) -> Result<Vec<(TicketId, String, Event)>> {
        let units = serde_json::to_string(units)?;
        let kinds = serde_json::to_string(kinds)?;
        self.read(|c| {
            let rows = c.query(
                &format!(
                    "SELECT e.ticket_id, t.number, e.seq, e.at, e.actor, e.role, e.unit_code, e.payload, e.sealed FROM events e
                     JOIN tickets t ON t.id = e.ticket_id
                     WHERE e.kind IN {kinds}
                       AND (e.unit_code IN {units} OR (e.payload::jsonb ->> 'unit') IN {units})
                     ORDER BY e.at DESC LIMIT ?3",
                    kinds = json_set("?2"),
                    units = json_set("?1")
                ),
                &crate::pv![units, kinds, limit],
            )?;
            rows.iter()
                .map(|r| numbered_event(c, &self.keys, r, 0))
                .collect()
        })
    }

    fn attach(&self, row: AttachmentRow, change: Change) -> Result<TicketState> {
        let keys = self.keys.clone();
        self.write(move |c| {
            let (st, _) = apply_change(c, &keys, row.ticket_id, change)?;
            c.exec(
                "INSERT INTO attachments (id, ticket_id, file_name, content_type, size, stored_path, created_at)
                 VALUES (?1,?2,?3,?4,?5,?6,?7)",
                &crate::pv![
                    &row.id,
                    row.ticket_id,
                    &row.file_name,
                    &row.content_type,
                    row.size as i64,
                    &row.stored_path,
                    &row.created_at
                ],
            )?;
            Ok(st)
        })
    }

    fn attachment(&self, id: &str) -> Result<Option<AttachmentRow>> {
        self.read(|c| {
            c.query_opt(
                "SELECT id, ticket_id, file_name, content_type, size, stored_path, created_at FROM attachments WHERE id=?1",
                &crate::pv![id],
            )?
            .map(|r| {
                Ok(AttachmentRow {
                    id: r.get_str(0)?,
                    ticket_id: r.get_i64(1)?,
                    file_name: r.get_str(2)?,
                    content_type: r.get_str(3)?,
                    size: r.get_i64(4)? as u64,
                    stored_path: r.get_str(5)?,
                    created_at: r.get_str(6)?,
                })
            })
            .transpose()
        })
    }

    fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        self.read(|c| {
            c.query(
                "SELECT at, user_name, action, ticket_id, COALESCE(detail, '') FROM audit_log ORDER BY id DESC LIMIT ?1",
                &crate::pv![limit],
            )?
            .iter()
            .map(|r| {
                let at = r.get_str(0)?;
                Ok(AuditEntry {
                    at: crate::time::parse(&at)
                        .ok_or_else(|| StoreError::Db(format!("audit_log: bad time {at}")))?,
                    user: r.get_str(1)?,
                    action: r.get_str(2)?,
                    ticket: r.get_opt_i64(3)?,
                    detail: r.get_str(4)?,
                })
            })
            .collect()
        })
    }

    fn tracking_code(&self, id: TicketId) -> Result<Option<String>> {
        self.read(|c| tracking_code_in(c, id))
    }

    fn audit(
        &self,
        user: &str,
        action: &str,
        ticket: Option<TicketId>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (u, a, d) = (user.to_string(), action.to_string(), detail.to_string());
        self.write(move |c| {
            c.exec(
                "INSERT INTO audit_log (at, user_name, action, ticket_id, detail) VALUES (?1,?2,?3,?4,?5)",
                &crate::pv![fmt(now), u, a, ticket, d],
            )?;
            Ok(())
        })
    }
}

/// Writes a batch of encoded tickets with `COPY` (the bulk path of `jiesu generate` and imports):
/// data keys, events at the next log positions, tickets and assignments, one COPY per table. The
/// tickets are new (their ids are not in the database yet).
fn bulk_insert(c: &mut Conn, batch: &[EncodedTicket]) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    // imported ids are the caller's: the group's next id is read again
    c.next_id = None;
    let first = match c.next_pos {
        Some(p) => p,
        None => c
            .query_one("SELECT COALESCE(MAX(pos) + 1, 0) FROM events", &[])?
            .get_i64(0)?,
    };
    let keys: Vec<Vec<Value>> = batch.iter().map(|t| t.key.to_vec()).collect();
    c.copy_in("personal_keys (ticket_id, key_id, wrapped)", &keys)?;
    let mut pos = first;
    let mut events = Vec::new();
    for t in batch {
        for e in &t.events {
            let mut row = e.to_vec();
            row.push(Value::Integer(pos));
            pos += 1;
            events.push(row);
        }
    }
    super::ensure_partitions(
        c,
        events.iter().map(|r| match &r[2] {
            Value::Text(s) => s.as_str(),
            _ => "",
        }),
    )?;
    c.copy_in(
        "events (ticket_id, seq, at, kind, actor, role, unit_code, payload, sealed, hash, pos)",
        &events,
    )?;
    c.next_pos = Some(pos);
    let tickets: Vec<Vec<Value>> = batch.iter().map(|t| t.ticket.clone()).collect();
    c.copy_in(
        "tickets (id, number, created_at, channel, type, category_code, district_code, street_code,
           community_code, status, title, phone_hash, enterprise, lead_unit, first_dispatched_at, finish_deadline,
           closed_at, answered_directly, special, round, cb_contacted, cb_resolution, cb_satisfaction, cb_at,
           merged_into, exempt_reason, version, updated_at)",
        &tickets,
    )?;
    let assignments: Vec<Vec<Value>> = batch
        .iter()
        .flat_map(|t| t.assignments.iter().map(|a| a.to_vec()))
        .collect();
    c.copy_in(
        "assignments (ticket_id, idx, unit_code, role, tier, state, round, dispatched_at, sign_deadline,
           respond_deadline, finish_deadline, signed_at, responded_at, finished_at, return_pending,
           extension_pending, dispatched_by, extensions_granted, reminded, paused_since)",
        &assignments,
    )?;
    Ok(())
}
