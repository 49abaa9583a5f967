//! Labelled examples for the text classifiers (分类样本).
//!
//! Every ticket is an example: its text (title + request) labelled with its type and category as
//! they stand now — the intake's, or the last 改类 (`reclassified` event) if someone corrected
//! it. An example is a **correction** when a person overrode the machine: the ticket was
//! reclassified, or at intake the agent chose another type or category than the classifier's top
//! suggestion (`intake_corrections`, recorded right after the ticket is created). The trainer
//! (`jiesu train`) reads [`SqliteStore::labelled_examples`] and weighs corrections more.
//!
//! Nothing here is a projection: labels come from the event log, and intake corrections are
//! append-only rows (one per ticket).

use crate::time::fmt;
use crate::{Result, SqliteStore};
use chrono::{DateTime, Utc};
use jiesu_domain::event::EventKind;
use jiesu_domain::TicketId;
use rusqlite::params;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// At intake the agent chose `category_code`/`request_type` while the classifier's top
/// suggestion was `suggested_*` (纠正建议).
#[derive(Debug, Clone)]
pub struct IntakeCorrection {
    pub ticket_id: TicketId,
    pub suggested_category: Option<String>,
    pub suggested_type: Option<String>,
    pub category_code: String,
    pub request_type: String,
    pub model_version: Option<String>,
    pub user: String,
    pub now: DateTime<Utc>,
}

/// One training example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelledExample {
    pub ticket_id: TicketId,
    pub title: String,
    pub text: String,
    pub category_code: String,
    pub request_type: String,
    /// Reclassified (改类) after intake.
    pub reclassified: bool,
    /// The agent overrode the classifier's suggestion at intake.
    pub intake_corrected: bool,
    /// The unit leading the ticket now (主办单位, from the `tickets` projection), if dispatched.
    pub lead_unit: Option<String>,
}

impl LabelledExample {
    /// A person corrected the machine (reclassified, or overrode the intake suggestion).
    pub fn corrected(&self) -> bool {
        self.reclassified || self.intake_corrected
    }
}

/// How many corrections the store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CorrectionCounts {
    /// Tickets reclassified at least once.
    pub reclassified: u64,
    /// Intake suggestions the agent overrode.
    pub intake: u64,
}

impl SqliteStore {
    /// Records that the agent overrode the classifier at intake. One row per ticket: a second
    /// report for the same ticket is ignored (returns `false`).
    pub fn record_intake_correction(&self, c: IntakeCorrection) -> Result<bool> {
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
    pub fn labelled_examples(&self, limit: u32) -> Result<Vec<LabelledExample>> {
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
    pub fn correction_counts(&self) -> Result<CorrectionCounts> {
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
}
