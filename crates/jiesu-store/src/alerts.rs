//! Early-warning alerts (预警) and every step taken on them. The store keeps what the server's
//! warning pass raised and what units did; `jiesu_governance::alert` decides each step.

use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};

/// A stored alert.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    /// Its id.
    pub id: i64,
    /// The city day it alarmed on.
    pub day: NaiveDate,
    /// The cell's level (`street×category` …).
    pub level: String,
    /// The place's code ("" for the whole city).
    pub place: String,
    /// The category's code.
    pub category: String,
    /// The detector's statistic.
    pub score: f64,
    /// Requests in the window.
    pub observed: u32,
    /// Requests expected in the window.
    pub expected: f64,
    /// Days in the window (ending on `day`).
    pub window_days: u32,
    /// The unit responsible ("" for the centre).
    pub unit: String,
    /// The district of the place ("" for the whole city).
    pub district: String,
    /// The tickets behind it.
    pub tickets: Vec<i64>,
    /// `open`, `acknowledged`, `handled` or `dismissed`.
    pub status: String,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// What a risk push or an incident says beyond the columns (JSON; `None` for spikes).
    pub detail: Option<String>,
}

/// A step taken on an alert.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertStep {
    /// The alert.
    pub alert_id: i64,
    /// `raised`, `acknowledge`, `handle` or `dismiss`.
    pub action: String,
    /// The status after it.
    pub status: String,
    /// What was done, or why not.
    pub reason: String,
    /// Who (a user name, or `warning` for the pass).
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Which alerts to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Only alerts whose unit or district is one of these (`None`: all).
    pub units: Option<Vec<String>>,
    /// Only from this day on.
    pub from: Option<NaiveDate>,
}

/// Where alerts are kept.
pub trait AlertStore: Send + Sync {
    /// Stores a newly raised alert (status `open`, with its `raised` step) unless the same cell
    /// already alarmed on that day (then an open one takes the new figures and tickets when they
    /// count more requests); returns its id when new. Risk pushes and incidents are always new.
    fn raise_alert(&self, a: AlertRow) -> Result<Option<i64>>;
    /// Alerts matching the filter, newest day first, strongest first: a page and the total.
    fn list_alerts(&self, f: &AlertFilter, offset: u64, limit: u64)
        -> Result<(Vec<AlertRow>, u64)>;
    /// One alert with its steps, oldest first.
    fn alert(&self, id: i64) -> Result<Option<(AlertRow, Vec<AlertStep>)>>;
    /// Records a step: sets the status if the alert still has status `expected` (the caller's
    /// decision was made on it), else returns `false` and changes nothing.
    fn record_alert_step(&self, step: AlertStep, expected: &str) -> Result<bool>;
    /// Alerts by status (for the useful-alert rate), over the same filter.
    fn alert_counts(&self, f: &AlertFilter) -> Result<Vec<(String, u64)>>;
    /// Alerts with an id above `after` (the outbox's cursor), oldest first.
    fn alerts_after(&self, after: i64, limit: u32) -> Result<Vec<AlertRow>>;
    /// The newest alert of a level (`incident`) for a place and category.
    fn latest_alert(&self, level: &str, place: &str, category: &str) -> Result<Option<AlertRow>>;
    /// Amends an alert's tickets, count and detail (an incident that more reports joined):
    /// `amend` is given the alert as stored and returns its new tickets and detail, or `None` to
    /// leave it. It runs on the writer, so two reports joining at once both land (neither reads
    /// the list before the other wrote it). `false` when there is no such alert or nothing
    /// changed.
    fn amend_alert(&self, id: i64, amend: AlertAmend) -> Result<bool>;
}

/// The change [`AlertStore::amend_alert`] makes to an alert, decided on the stored row: its new
/// tickets and detail, or `None` for none.
pub type AlertAmend = Box<dyn FnOnce(&AlertRow) -> Option<(Vec<i64>, Option<String>)> + Send>;
