//! Labelled examples and intake corrections in SQLite.

use super::SqliteStore;
use crate::time::fmt;
use crate::{CorrectionCounts, IntakeCorrection, LabelStore, LabelledExample, Result};
use jiesu_domain::event::EventKind;
use jiesu_domain::TicketId;
use rusqlite::params;
use std::collections::{HashMap, HashSet};

impl LabelStore for SqliteStore {
    /// Records that the agent overrode the classifier at intake. One row per ticket: a second
    /// report for the same ticket is ignored (returns `false`).
    fn record_intake_correction(&self, c: IntakeCorrection) -> Result<bool> {
        self.write(move |conn| {
            let n = conn.execute(
                "INSERT INTO intake_corrections (ticket_id, at, user_name, suggested_category,
                   suggested_type, category_code, request_type, model_version)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT (ticket_id) DO NOTHING",
                params![
                    c.ticket_id,
                    fmt(c.now),
                    c.user,
                    c.suggested_category,
                    c.suggested_type,
                    c.category_code,
                    c.request_type,
                    c.model_version
                ],
            )?;
            Ok(n == 1)
        })
    }

    /// The newest `limit` tickets as labelled examples (newest first), with their current labels.
    fn labelled_examples(&self, limit: u32) -> Result<Vec<LabelledExample>> {
        self.read(move |c| {
            let mut out = Vec::new();
            {
                let mut s = c.prepare(
                    "SELECT ticket_id, payload FROM events WHERE kind='created'
                     ORDER BY ticket_id DESC LIMIT ?1",
                )?;
                let rows = s.query_map([limit], |r| {
                    Ok((r.get::<_, TicketId>(0)?, r.get::<_, String>(1)?))
                })?;
                for row in rows {
                    let (id, payload) = row?;
                    if let EventKind::Created { intake, .. } = serde_json::from_str(&payload)? {
                        out.push(LabelledExample {
                            ticket_id: id,
                            title: intake.title,
                            text: intake.text,
                            category_code: intake.category_code,
                            request_type: intake.request_type.as_str().to_string(),
                            reclassified: false,
                            intake_corrected: false,
                            lead_unit: None,
                        });
                    }
                }
            }
            let Some(oldest) = out.last().map(|e| e.ticket_id) else {
                return Ok(out);
            };
            // The last reclassification of each ticket wins (events in log order).
            let mut last: HashMap<TicketId, (String, String)> = HashMap::new();
            let mut s = c.prepare(
                "SELECT ticket_id, payload FROM events WHERE kind='reclassified' AND ticket_id >= ?1
                 ORDER BY ticket_id, seq",
            )?;
            let rows = s.query_map([oldest], |r| {
                Ok((r.get::<_, TicketId>(0)?, r.get::<_, String>(1)?))
            })?;
            for row in rows {
                let (id, payload) = row?;
                if let EventKind::Reclassified {
                    category_code,
                    request_type,
                    ..
                } = serde_json::from_str(&payload)?
                {
                    last.insert(id, (category_code, request_type.as_str().to_string()));
                }
            }
            let mut s =
                c.prepare("SELECT ticket_id FROM intake_corrections WHERE ticket_id >= ?1")?;
            let corrected: HashSet<TicketId> = s
                .query_map([oldest], |r| r.get::<_, TicketId>(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut s = c.prepare(
                "SELECT id, lead_unit FROM tickets WHERE id >= ?1 AND lead_unit IS NOT NULL",
            )?;
            let mut leads: HashMap<TicketId, String> = s
                .query_map([oldest], |r| {
                    Ok((r.get::<_, TicketId>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            for e in &mut out {
                e.lead_unit = leads.remove(&e.ticket_id);
                if let Some((cat, typ)) = last.remove(&e.ticket_id) {
                    e.category_code = cat;
                    e.request_type = typ;
                    e.reclassified = true;
                }
                e.intake_corrected = corrected.contains(&e.ticket_id);
            }
            Ok(out)
        })
    }

    /// How many corrections the store holds (all tickets).
    fn correction_counts(&self) -> Result<CorrectionCounts> {
        self.read(|c| {
            let reclassified: i64 = c.query_row(
                "SELECT COUNT(DISTINCT ticket_id) FROM events WHERE kind='reclassified'",
                [],
                |r| r.get(0),
            )?;
            let intake: i64 =
                c.query_row("SELECT COUNT(*) FROM intake_corrections", [], |r| r.get(0))?;
            Ok(CorrectionCounts {
                reclassified: reclassified as u64,
                intake: intake as u64,
            })
        })
    }

    fn recent_intakes(&self, limit: u32) -> Result<Vec<jiesu_domain::ticket::Intake>> {
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT payload FROM events WHERE kind='created' ORDER BY ticket_id DESC LIMIT ?1",
            )?;
            let rows = s.query_map([limit], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for row in rows {
                if let EventKind::Created { intake, .. } = serde_json::from_str(&row?)? {
                    out.push(intake);
                }
            }
            Ok(out)
        })
    }
}
