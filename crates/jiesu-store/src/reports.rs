//! Stored reports (数据报告): the data platform's 日通报 / 周汇总 / 月分析 and the templates a city
//! edits. The figures are opaque JSON here; `jiesu_analytics::bulletin` computes and renders them.

use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};

/// A stored report without its body.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    /// Its id (kept when the period is generated again).
    pub id: i64,
    /// `daily`, `weekly` or `monthly`.
    pub kind: String,
    /// The period's key (`2026-12-06`, `2026-W49`, `2026-11`).
    pub period: String,
    /// First city day covered.
    pub from: NaiveDate,
    /// First city day not covered.
    pub to: NaiveDate,
    /// When it was computed.
    pub generated_at: DateTime<Utc>,
    /// Titles.
    pub title_zh: String,
    /// English title.
    pub title_en: String,
}

/// A report to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    /// `daily`, `weekly` or `monthly`.
    pub kind: String,
    /// The period's key.
    pub period: String,
    /// First city day covered.
    pub from: NaiveDate,
    /// First city day not covered.
    pub to: NaiveDate,
    /// When it was computed.
    pub generated_at: DateTime<Utc>,
    /// Chinese title.
    pub title_zh: String,
    /// English title.
    pub title_en: String,
    /// The figures (JSON).
    pub body: String,
}

/// Where reports and their templates are kept.
pub trait ReportStore: Send + Sync {
    /// Stores a report; a report of the same kind and period is replaced (same id). Returns the id.
    fn save_report(&self, r: NewReport) -> Result<i64>;
    /// Whether a report of this kind and period exists.
    fn has_report(&self, kind: &str, period: &str) -> Result<bool>;
    /// Reports, newest period first, optionally of one kind: a page and the total.
    fn list_reports(
        &self,
        kind: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ReportRow>, u64)>;
    /// One report with its body.
    fn report(&self, id: i64) -> Result<Option<(ReportRow, String)>>;
    /// Reports with an id above `after` (the outbox's cursor), oldest first.
    fn reports_after(&self, after: i64, limit: u32) -> Result<Vec<ReportRow>>;
    /// The template of a kind as stored (JSON), if a city edited it.
    fn report_template(&self, kind: &str) -> Result<Option<String>>;
    /// Stores a template (already checked by the caller).
    fn save_report_template(
        &self,
        kind: &str,
        body: &str,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<()>;
}
