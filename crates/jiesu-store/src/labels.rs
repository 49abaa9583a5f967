//! Labelled examples for the text classifiers (分类样本).
//!
//! Every ticket is an example: its text (title + request) labelled with its type and category as
//! they stand now — the intake's, or the last 改类 (`reclassified` event) if someone corrected
//! it. An example is a **correction** when a person overrode the machine: the ticket was
//! reclassified, or at intake the agent chose another type or category than the classifier's top
//! suggestion (`intake_corrections`, recorded right after the ticket is created). The trainer
//! (`jiesu train`) reads [`LabelStore::labelled_examples`] and weighs corrections more.
//!
//! Nothing here is a projection: labels come from the event log, and intake corrections are
//! append-only rows (one per ticket).

use crate::Result;
use chrono::{DateTime, Utc};
use jiesu_domain::ticket::Intake;
use jiesu_domain::TicketId;
use serde::Serialize;

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

/// Training labels: examples from the log and the agents' corrections of the classifier.
pub trait LabelStore: Send + Sync {
    /// Records that the agent overrode the classifier at intake. One row per ticket: a second
    /// report for the same ticket is ignored (returns `false`).
    fn record_intake_correction(&self, c: IntakeCorrection) -> Result<bool>;
    /// The newest `limit` tickets as labelled examples (newest first), with their current labels.
    fn labelled_examples(&self, limit: u32) -> Result<Vec<LabelledExample>>;
    /// How many corrections the store holds (all tickets).
    fn correction_counts(&self) -> Result<CorrectionCounts>;
    /// The newest `limit` intakes as labelled examples for training classifiers.
    fn recent_intakes(&self, limit: u32) -> Result<Vec<Intake>>;
}
