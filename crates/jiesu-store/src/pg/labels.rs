//! Labelled examples and intake corrections in PostgreSQL (the twin of `sqlite/labels.rs`).

use super::conn::{Conn, RowExt};
use super::PgStore;
use crate::time::fmt;
use crate::{CorrectionCounts, IntakeCorrection, LabelStore, LabelledExample, Result};
use jiesu_domain::event::EventKind;
use jiesu_domain::TicketId;
use std::collections::{HashMap, HashSet};

impl LabelStore for PgStore {
    /// Records that the agent overrode the classifier at intake. One row per ticket: a second
    /// report for the same ticket is ignored (returns `false`).
    fn record_intake_correction(&self, c: IntakeCorrection) -> Result<bool> {
        self.write(move |conn: &mut Conn| {
            let n = conn.exec(
                "INSERT INTO intake_corrections (ticket_id, at, user_name, suggested_category,
                   suggested_type, category_code, request_type, model_version)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT (ticket_id) DO NOTHING",
                &crate::pv![
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
            for r in c.query(
                "SELECT ticket_id, payload FROM events WHERE kind='created'
                 ORDER BY ticket_id DESC LIMIT ?1",
                &crate::pv![limit],
            )? {
                let id = r.get_i64(0)?;
                if let EventKind::Created { intake, .. } = serde_json::from_str(&r.get_str(1)?)? {
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
            let Some(oldest) = out.last().map(|e| e.ticket_id) else {
                return Ok(out);
            };
            // The last reclassification of each ticket wins (events in log order).
            let mut last: HashMap<TicketId, (String, String)> = HashMap::new();
            for r in c.query(
                "SELECT ticket_id, payload FROM events WHERE kind='reclassified' AND ticket_id >= ?1
                 ORDER BY ticket_id, seq",
                &crate::pv![oldest],
            )? {
                if let EventKind::Reclassified {
                    category_code,
                    request_type,
                    ..
                } = serde_json::from_str(&r.get_str(1)?)?
                {
                    last.insert(
                        r.get_i64(0)?,
                        (category_code, request_type.as_str().to_string()),
                    );
                }
            }
            let corrected: HashSet<TicketId> = c
                .query(
                    "SELECT ticket_id FROM intake_corrections WHERE ticket_id >= ?1",
                    &crate::pv![oldest],
                )?
                .iter()
                .map(|r| r.get_i64(0))
                .collect::<Result<_>>()?;
            let mut leads: HashMap<TicketId, String> = c
                .query(
                    "SELECT id, lead_unit FROM tickets WHERE id >= ?1 AND lead_unit IS NOT NULL",
                    &crate::pv![oldest],
                )?
                .iter()
                .map(|r| Ok((r.get_i64(0)?, r.get_str(1)?)))
                .collect::<Result<_>>()?;
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
            let reclassified = c
                .query_one(
                    "SELECT COUNT(DISTINCT ticket_id) FROM events WHERE kind='reclassified'",
                    &[],
                )?
                .get_i64(0)?;
            let intake = c
                .query_one("SELECT COUNT(*) FROM intake_corrections", &[])?
                .get_i64(0)?;
            Ok(CorrectionCounts {
                reclassified: reclassified as u64,
                intake: intake as u64,
            })
        })
    }

    fn recent_intakes(&self, limit: u32) -> Result<Vec<jiesu_domain::ticket::Intake>> {
        self.read(move |c| {
            let mut out = Vec::new();
            for r in c.query(
                "SELECT payload FROM events WHERE kind='created' ORDER BY ticket_id DESC LIMIT ?1",
                &crate::pv![limit],
            )? {
                if let EventKind::Created { intake, .. } = serde_json::from_str(&r.get_str(0)?)? {
                    out.push(intake);
                }
            }
            Ok(out)
        })
    }
}
