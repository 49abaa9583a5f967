//! 报告订阅 — report subscriptions: which kinds of report (日通报 / 周汇总 / 月分析) a user (a unit's
//! manager, a leader) subscribes to, optionally with their own webhook, and how far the outbox has
//! delivered to that webhook (a cursor per subscription: at least once).

use crate::Result;
use chrono::{DateTime, Utc};

/// One subscription of one user to one kind of report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSubscription {
    /// The subscriber's user name.
    pub user: String,
    /// `daily`, `weekly` or `monthly`.
    pub kind: String,
    /// The subscriber's own webhook, if any (reports are POSTed there, signed like every webhook).
    pub webhook_url: Option<String>,
    /// The newest report id delivered to the webhook (the outbox's cursor for this subscription);
    /// a new subscription starts at the newest report stored then, so it gets what comes after.
    pub cursor: i64,
    /// When the user subscribed.
    pub since: DateTime<Utc>,
}

/// Where report subscriptions are kept.
pub trait ReportSubscriptionStore: Send + Sync {
    /// The user's subscriptions, by kind.
    fn report_subscriptions(&self, user: &str) -> Result<Vec<ReportSubscription>>;
    /// Replaces the user's subscriptions with `subs` (kind, webhook): a kind kept keeps its cursor
    /// (a changed webhook too), a new one starts at the newest report stored now, a kind left out
    /// is dropped. Returns the subscriptions as stored.
    fn set_report_subscriptions(
        &self,
        user: &str,
        subs: &[(String, Option<String>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<ReportSubscription>>;
    /// Every subscription with a webhook (what the outbox delivers to), by user and kind.
    fn webhook_report_subscriptions(&self) -> Result<Vec<ReportSubscription>>;
    /// Moves one subscription's cursor forward to `cursor` (never back).
    fn advance_report_subscription(&self, user: &str, kind: &str, cursor: i64) -> Result<()>;
}
