//! 治理类街乡镇的工作 — what is filed about a pre-warned or listed street: its interviews (约谈),
//! its problem and project lists (问题清单、项目清单) with progress, and every change to them
//! (`street_changes`: what was filed or changed, the whole row after it, who, when).
//! `jiesu_governance::street_work` checks what is filed.

use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};

/// 约谈 — an interview of a street's leaders, stored.
#[derive(Debug, Clone, PartialEq)]
pub struct InterviewRow {
    /// Its id (0 before it is stored).
    pub id: i64,
    /// The street's code.
    pub street: String,
    /// Its district's code.
    pub district: String,
    /// The day it was held.
    pub held_on: NaiveDate,
    /// Who attended.
    pub attendees: Vec<String>,
    /// What was found and asked.
    pub findings: String,
    /// The 未进先治 pre-warning (an alert) it answers, if any.
    pub alert_id: Option<i64>,
    /// Who filed it.
    pub filed_by: String,
    /// When.
    pub filed_at: DateTime<Utc>,
}

/// A problem (问题) or project (项目) of a street's lists, stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StreetItemRow {
    /// Its id (0 before it is stored).
    pub id: i64,
    /// The street's code.
    pub street: String,
    /// Its district's code.
    pub district: String,
    /// `problem` or `project`.
    pub kind: String,
    /// What it is.
    pub title: String,
    /// Who owns it.
    pub owner: String,
    /// When it is due.
    pub due: NaiveDate,
    /// `open`, `in_progress` or `done`.
    pub status: String,
    /// Progress in words.
    pub progress: String,
    /// Changes so far (1 when created); a change names the version it was made on.
    pub version: i64,
    /// Who last changed it.
    pub updated_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// A change recorded on a street's work.
#[derive(Debug, Clone, PartialEq)]
pub struct StreetChange {
    /// The street's code.
    pub street: String,
    /// `interview` or `item`.
    pub subject: String,
    /// The interview's or item's id.
    pub subject_id: i64,
    /// `filed`, `created` or `updated`.
    pub action: String,
    /// The row after the change (JSON).
    pub after: String,
    /// Who.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Where a street's work is kept.
pub trait StreetWorkStore: Send + Sync {
    /// Stores an interview and its `filed` change; answers its id.
    fn file_interview(&self, i: InterviewRow) -> Result<i64>;
    /// The interviews of a street, the latest held first.
    fn interviews(&self, street: &str) -> Result<Vec<InterviewRow>>;
    /// Interviews of the streets of these districts or streets (`None`: all), the latest first.
    fn interviews_of(&self, units: Option<&[String]>, limit: u64) -> Result<Vec<InterviewRow>>;
    /// Stores a new item (version 1) and its `created` change; answers its id.
    fn add_street_item(&self, item: StreetItemRow) -> Result<i64>;
    /// Replaces an item's title, owner, due day, status and progress when it still has version
    /// `expected` (then version + 1, with its `updated` change) and answers `true`; `false`
    /// (nothing changed) when it has another version or does not exist.
    fn update_street_item(&self, item: StreetItemRow, expected: i64) -> Result<bool>;
    /// One item.
    fn street_item(&self, id: i64) -> Result<Option<StreetItemRow>>;
    /// A street's items, by kind, due day, id.
    fn street_items(&self, street: &str) -> Result<Vec<StreetItemRow>>;
    /// A street's recorded changes, newest first.
    fn street_changes(&self, street: &str, limit: u64) -> Result<Vec<StreetChange>>;
}

/// The JSON recorded for an interview.
pub(crate) fn interview_json(i: &InterviewRow) -> String {
    serde_json::json!({"id": i.id, "street": i.street, "district": i.district,
        "held_on": i.held_on.to_string(), "attendees": i.attendees, "findings": i.findings,
        "alert_id": i.alert_id, "filed_by": i.filed_by, "filed_at": crate::time::fmt(i.filed_at)})
    .to_string()
}

/// The JSON recorded for an item.
pub(crate) fn item_json(i: &StreetItemRow) -> String {
    serde_json::json!({"id": i.id, "street": i.street, "kind": i.kind, "title": i.title,
        "owner": i.owner, "due": i.due.to_string(), "status": i.status, "progress": i.progress,
        "version": i.version, "updated_by": i.updated_by, "updated_at": crate::time::fmt(i.updated_at)})
    .to_string()
}
