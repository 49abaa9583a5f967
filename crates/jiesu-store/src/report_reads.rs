//! 报告收件箱 — the report inbox: the stored reports (日通报 / 周汇总 / 月分析) of the kinds a user
//! subscribes to, generated since they subscribed, and which of them that user has opened
//! (已读, kept per user). A report generated again after it was read is unread again.

use crate::reports::ReportRow;
use crate::Result;
use chrono::{DateTime, Utc};

/// One report in a user's inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxReport {
    /// The report (without its body).
    pub report: ReportRow,
    /// When this user last opened it, if ever.
    pub read_at: Option<DateTime<Utc>>,
    /// Not opened since it was (last) generated.
    pub unread: bool,
}

/// A page of a user's report inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportInbox {
    /// Newest generated first.
    pub items: Vec<InboxReport>,
    /// Reports in the inbox in all.
    pub total: u64,
    /// Of them unread.
    pub unread: u64,
}

/// Where each user's read state of reports is kept (the inbox itself is derived from the
/// reports and the user's subscriptions: `ReportSubscriptionStore`).
pub trait ReportReadStore: Send + Sync {
    /// A page of the user's report inbox: the reports of the kinds they subscribe to, generated
    /// at or after their subscription to that kind, newest generated first.
    fn report_inbox(&self, user: &str, offset: u64, limit: u64) -> Result<ReportInbox>;
    /// How many reports of the user's inbox are unread (the badge).
    fn report_inbox_unread(&self, user: &str) -> Result<u64>;
    /// Records that the user opened report `id` at `at`; false when there is no such report.
    fn mark_report_read(&self, user: &str, id: i64, at: DateTime<Utc>) -> Result<bool>;
    /// Marks every unread report of the user's inbox read at `at`; answers how many were.
    fn mark_report_inbox_read(&self, user: &str, at: DateTime<Utc>) -> Result<u64>;
}

/// The inbox of user `?1`: the reports of their subscribed kinds since they subscribed, with
/// their read row (shared by both backends).
pub(crate) const INBOX_FROM: &str = "FROM reports r
  JOIN report_subscriptions s ON s.user_name = ?1 AND s.kind = r.kind AND r.generated_at >= s.since
  LEFT JOIN report_reads rr ON rr.user_name = ?1 AND rr.report_id = r.id";

/// An inbox row is unread when never read or read before it was (last) generated.
pub(crate) const UNREAD: &str = "(rr.read_at IS NULL OR rr.read_at < r.generated_at)";

/// The report columns, prefixed, in `ReportRow` order, then the read time.
pub(crate) const INBOX_COLS: &str = "r.id, r.kind, r.period, r.period_from, r.period_to, \
  r.generated_at, r.title_zh, r.title_en, rr.read_at";
