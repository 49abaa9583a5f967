//! Tickets in SQLite: the event log and its projections.

use super::*;

/// One row of a ticket list, from the columns `id, number, created_at, channel, type,
/// category_code, district_code, street_code, status, title, lead_unit, finish_deadline` and the
/// unit's next clock `clock, due, start, unit_code` (all four NULL when the list is not a unit's),
/// then `community_code`.
fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TicketSummary> {
    Ok(TicketSummary {
        id: r.get(0)?,
        number: r.get(1)?,
        created_at: r.get(2)?,
        channel: r.get(3)?,
        request_type: r.get(4)?,
        category_code: r.get(5)?,
        district_code: r.get(6)?,
        street_code: r.get(7)?,
        status: r.get(8)?,
        title: r.get(9)?,
        lead_unit: r.get(10)?,
        finish_deadline: r.get(11)?,
        next_clock: match (r.get(12)?, r.get(13)?, r.get(14)?, r.get(15)?) {
            (Some(clock), Some(due), Some(start), Some(unit_code)) => Some(NextClock {
                clock,
                due,
                start,
                unit_code,
            }),
            _ => None,
        },
        community_code: r.get(16)?,
    })
}

/// The nearest running clock of each ticket's active assignments of the units in the JSON array
/// bound at `units` (a placeholder such as `?1`): one row per (ticket, assignment) with `clock`
/// (`sign` until signed, `respond` until responded, else `finish`, whichever running one is due
/// first; instants are fixed-width RFC 3339 text, so text order is time order), `due`, `start`
/// (the dispatch), `unit_code`, and `rn = 1` on the assignment whose clock is due first.
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
                     WHERE a.unit_code IN (SELECT value FROM json_each({units}))
                       AND a.state IN ('dispatched','signed','responded')) b) c"
    )
}

/// Indexes a bulk load keeps: their keys arrive in ascending order (the log position; tickets
/// written day by day), so each insert appends to the index's last page, while building them
/// afterwards would read the whole event log or ticket table once more.
const BULK_KEPT_INDEXES: &[&str] = &[
    "events_pos",
    "tickets_created",
    "tickets_first_dispatch",
    "assignments_dispatched",
];

impl TicketStore for SqliteStore {
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
        let n = number.to_string();
        self.read(move |c| {
            Ok(
                c.query_row("SELECT id FROM tickets WHERE number=?1", [n], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    fn list_tickets(&self, q: &TicketQuery) -> Result<Page<TicketSummary>> {
        let q = q.clone();
        let phone_hash = q.phone.as_deref().map(|p| self.keys.ring().phone_index(p));
        self.read(move |c| {
            let mut wh: Vec<String> = vec![];
            let mut args: Vec<rusqlite::types::Value> = vec![];
            let mut arg = |v: rusqlite::types::Value| {
                args.push(v);
                format!("?{}", args.len())
            };
            // the units' nearest running clock (see `NextClock`), joined when `units` is set
            let mut next_join = String::new();
            if let Some(units) = &q.units {
                let json = serde_json::to_string(units)?;
                let p = arg(json.into());
                next_join = next_clock_join(&p);
                let active = if q.active_only {
                    " AND a.state IN ('dispatched','signed','responded')"
                } else {
                    " AND a.state <> 'returned'"
                };
                wh.push(format!(
                    "t.id IN (SELECT a.ticket_id FROM assignments a WHERE a.unit_code IN (SELECT value FROM json_each({p})){active})"
                ));
            }
            if let Some(h) = &phone_hash {
                // no digits: matches nothing
                let p = arg(h.clone().map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Blob));
                wh.push(format!("t.phone_hash = {p}"));
            }
            if let Some(s) = &q.status {
                let ps: Vec<String> = s.split(',').map(|one| arg(one.to_string().into())).collect();
                wh.push(format!("t.status IN ({})", ps.join(",")));
            }
            if let Some(s) = &q.category_prefix {
                let ps: Vec<String> = s
                    .split(',')
                    .map(|one| format!("t.category_code LIKE {}", arg(format!("{one}%").into())))
                    .collect();
                wh.push(format!("({})", ps.join(" OR ")));
            }
            if let Some(s) = &q.district {
                let p = arg(s.clone().into());
                wh.push(format!("t.district_code = {p}"));
            }
            if let Some(s) = &q.street {
                let p = arg(s.clone().into());
                wh.push(format!("t.street_code = {p}"));
            }
            if let Some(s) = &q.channel {
                let p = arg(s.clone().into());
                wh.push(format!("t.channel = {p}"));
            }
            if let Some(s) = &q.request_type {
                let p = arg(s.clone().into());
                wh.push(format!("t.type = {p}"));
            }
            if let Some(t) = q.from {
                let p = arg(fmt(t).into());
                wh.push(format!("t.created_at >= {p}"));
            }
            if let Some(t) = q.to {
                let p = arg(fmt(t).into());
                wh.push(format!("t.created_at < {p}"));
            }
            if let Some(t) = q.overdue_at {
                let p = arg(fmt(t).into());
                wh.push(format!(
                    "t.status IN ('dispatched','in_progress','return_review') AND t.finish_deadline < {p}"
                ));
            }
            let where_sql = if wh.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", wh.join(" AND "))
            };
            let total: i64 = c.query_row(
                &format!("SELECT COUNT(*) FROM tickets t {where_sql}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let size = q.page_size.clamp(1, 500);
            let page = q.page.max(1);
            let (next_cols, next_from) = if next_join.is_empty() {
                ("NULL, NULL, NULL, NULL", String::new())
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
            let mut s = c.prepare(&sql)?;
            let items = s
                .query_map(rusqlite::params_from_iter(args.iter()), summary_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
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
        self.read(move |c| {
            // results submitted first, then overdue open tickets; the two sets never overlap
            let due = "(t.status = 'result_submitted' OR (t.status IN ('dispatched','in_progress','return_review') AND t.finish_deadline < ?1))";
            let total: i64 = c.query_row(
                &format!("SELECT COUNT(*) FROM tickets t WHERE {due}"),
                [&now],
                |r| r.get(0),
            )?;
            let size = page_size.max(1);
            let page = page.max(1);
            let offset = (page as u64 - 1) * size as u64;
            let sql = format!(
                "SELECT t.id, t.number, t.created_at, t.channel, t.type, t.category_code, t.district_code, t.street_code,
                        t.status, t.title, t.lead_unit, t.finish_deadline, NULL, NULL, NULL, NULL, t.community_code
                 FROM tickets t WHERE {due}
                 ORDER BY CASE WHEN t.status = 'result_submitted' THEN 0 ELSE 1 END,
                          CASE WHEN t.finish_deadline IS NULL THEN 1 ELSE 0 END, t.finish_deadline ASC, t.id ASC
                 LIMIT {size} OFFSET {offset}"
            );
            let mut s = c.prepare(&sql)?;
            let items = s
                .query_map([&now], summary_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
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
            let n: i64 = c.query_row("SELECT COUNT(*) FROM tickets", [], |r| r.get(0))?;
            Ok(n as u64)
        })
    }

    fn import(&self, tickets: Vec<(TicketState, Vec<Event>)>) -> Result<()> {
        let batch = tickets;
        let keys = self.keys.clone();
        self.write(move |c| {
            for (st, events) in &batch {
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
            EncodedTicket::insert_new(c, &batch)?;
            Ok(batch)
        })
    }

    fn begin_bulk(&self) -> Result<()> {
        self.write(|c| {
            for line in INDEXES.lines() {
                if let Some(name) = line
                    .strip_prefix("CREATE INDEX IF NOT EXISTS ")
                    .or_else(|| line.strip_prefix("CREATE UNIQUE INDEX IF NOT EXISTS "))
                    .and_then(|s| s.split_whitespace().next())
                    .filter(|name| !BULK_KEPT_INDEXES.contains(name))
                {
                    c.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
                }
            }
            Ok(())
        })?;
        // A bulk load writes every page once into the file, not first into the WAL and again at
        // the checkpoint: the rollback journal in memory (savepoints still roll back). A crash
        // in the middle can leave the file unusable — bulk loads fill new files (`jiesu
        // generate` refuses an existing city). Read connections keep the WAL open, so they are
        // closed first; if one is in use, the load keeps the WAL (slower, same result).
        self.close_idle_readers();
        let mode = self.alone(|c| {
            Ok(c.query_row("PRAGMA journal_mode=MEMORY", [], |r| r.get::<_, String>(0))?)
        });
        if !matches!(mode.as_deref(), Ok("memory")) {
            tracing::debug!(?mode, "bulk load keeps the write-ahead log");
        }
        Ok(())
    }

    fn end_bulk(&self, sampled: bool) -> Result<()> {
        self.write(move |c| {
            if sampled {
                // ANALYZE on a sample is as good for the planner and does not read all of a
                // Beijing-scale event log; index sorts spill to temporary files, not memory
                c.execute_batch("PRAGMA analysis_limit=1000; PRAGMA temp_store=FILE;")?;
            }
            c.execute_batch(INDEXES)?;
            c.execute_batch("ANALYZE")?;
            if sampled {
                c.execute_batch("PRAGMA temp_store=MEMORY;")?;
            }
            Ok(())
        })?;
        // back to the write-ahead log (every later open asks for it too)
        let mode = self
            .alone(|c| Ok(c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))?));
        if !matches!(mode.as_deref(), Ok("wal")) {
            tracing::warn!(
                ?mode,
                "the database stays out of WAL mode until it is opened again"
            );
        }
        Ok(())
    }

    fn rebuild_projections(&self) -> Result<u64> {
        let keys = self.keys.clone();
        self.write(move |c| {
            let ids: Vec<i64> = c
                .prepare("SELECT DISTINCT ticket_id FROM events ORDER BY ticket_id")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for id in &ids {
                let (st, _) = load_in(c, &keys, *id)?.ok_or(StoreError::NotFound)?;
                write_projection(c, &keys, &st)?;
            }
            Ok(ids.len() as u64)
        })
    }

    fn open_assignments(&self, f: &mut dyn FnMut(OpenAssignment) -> Result<()>) -> Result<u64> {
        self.read(|c| {
            let mut s = c.prepare(
                "SELECT a.ticket_id, a.unit_code, a.role, a.state, a.dispatched_at, a.sign_deadline, a.respond_deadline,
                        a.finish_deadline, a.signed_at, a.responded_at, a.extensions_granted, a.reminded, t.district_code,
                        a.tier, t.category_code
                 FROM assignments a JOIN tickets t ON t.id = a.ticket_id
                 WHERE a.state IN ('dispatched','signed','responded') AND a.paused_since IS NULL",
            )?;
            let mut rows = s.query([])?;
            let mut n = 0;
            while let Some(r) = rows.next()? {
                let reminded: String = r.get(11)?;
                f(OpenAssignment {
                    ticket_id: r.get(0)?,
                    unit_code: r.get(1)?,
                    role: r.get(2)?,
                    state: r.get(3)?,
                    dispatched_at: r.get(4)?,
                    sign_deadline: r.get(5)?,
                    respond_deadline: r.get(6)?,
                    finish_deadline: r.get(7)?,
                    signed_at: r.get(8)?,
                    responded_at: r.get(9)?,
                    extensions_granted: r.get(10)?,
                    reminders: serde_json::from_str(&reminded).unwrap_or_default(),
                    district_code: r.get(12)?,
                    tier: r.get(13)?,
                    category_code: r.get(14)?,
                })?;
                n += 1;
            }
            Ok(n)
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
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT e.ticket_id, t.number, e.seq, e.at, e.actor, e.role, e.unit_code, e.payload, e.sealed FROM events e
                 JOIN tickets t ON t.id = e.ticket_id
                 WHERE e.kind IN (SELECT value FROM json_each(?2))
                   AND (e.unit_code IN (SELECT value FROM json_each(?1))
                        OR json_extract(e.payload, '$.unit') IN (SELECT value FROM json_each(?1)))
                 ORDER BY e.at DESC LIMIT ?3",
            )?;
            let mut rows = s.query(params![units, kinds, limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(numbered_event(c, &self.keys, r, 0)?);
            }
            Ok(out)
        })
    }

    fn attach(&self, row: AttachmentRow, change: Change) -> Result<TicketState> {
        let keys = self.keys.clone();
        self.write(move |c| {
            let (st, _) = apply_change(c, &keys, row.ticket_id, change)?;
            c.prepare_cached(
                "INSERT INTO attachments (id, ticket_id, file_name, content_type, size, stored_path, created_at)
                 VALUES (?1,?2,?3,?4,?5,?6,?7)",
            )?
            .execute(params![row.id, row.ticket_id, row.file_name, row.content_type, row.size as i64, row.stored_path, row.created_at])?;
            Ok(st)
        })
    }

    fn attachment(&self, id: &str) -> Result<Option<AttachmentRow>> {
        let id = id.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT id, ticket_id, file_name, content_type, size, stored_path, created_at FROM attachments WHERE id=?1",
                [id],
                |r| {
                    Ok(AttachmentRow {
                        id: r.get(0)?,
                        ticket_id: r.get(1)?,
                        file_name: r.get(2)?,
                        content_type: r.get(3)?,
                        size: r.get::<_, i64>(4)? as u64,
                        stored_path: r.get(5)?,
                        created_at: r.get(6)?,
                    })
                },
            )
            .optional()?)
        })
    }

    fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        self.read(move |c| {
            let mut q = c.prepare_cached(
                "SELECT at, user_name, action, ticket_id, COALESCE(detail, '') FROM audit_log ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = q.query_map(params![limit], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (at, user, action, ticket, detail) = row?;
                let at = crate::time::parse(&at)
                    .ok_or_else(|| StoreError::Db(format!("audit_log: bad time {at}")))?;
                out.push(AuditEntry {
                    at,
                    user,
                    action,
                    ticket,
                    detail,
                });
            }
            Ok(out)
        })
    }

    fn tracking_code(&self, id: TicketId) -> Result<Option<String>> {
        self.read(move |c| super::tracking_code_in(c, id))
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
            c.prepare_cached("INSERT INTO audit_log (at, user_name, action, ticket_id, detail) VALUES (?1,?2,?3,?4,?5)")?
                .execute(params![fmt(now), u, a, ticket, d])?;
            Ok(())
        })
    }
}
