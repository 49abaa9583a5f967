//! The city's own governance policies (治理规则) and the reply audit's stored findings.
//!
//! Policies: every version an admin submitted of a kind (`streets` — 治理类街乡镇 classification;
//! `reply_audit` — the reply-quality audit's thresholds), numbered 1, 2, … per kind, each with the
//! policy as JSON, the first month it governs, its author and when it was stored; versions are
//! never changed or removed (a month is classified under the version in effect in it, so the
//! past stays as it was classified).
//!
//! Reply audit (办理质量审计): the nightly pass stores, per city day, how many results were
//! audited (per unit) under which policy version, and one finding per flagged result (its flag
//! kinds, relevance score and details). Storing a day again replaces that day's rows.

use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};

/// One stored version of a governance policy.
#[derive(Debug, Clone, PartialEq)]
pub struct GovPolicyRow {
    /// `streets` or `reply_audit`.
    pub kind: String,
    /// 1, 2, … within the kind (0 before it is stored).
    pub version: i64,
    /// The policy's own id (e.g. `streets-2027`).
    pub policy_id: String,
    /// The first month it governs, `YYYY-MM`.
    pub effective_from: String,
    /// The policy (JSON).
    pub body: String,
    /// Who submitted it.
    pub author: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A city day the reply audit has run over.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditDayRow {
    /// The city day whose results were audited.
    pub day: NaiveDate,
    /// Results audited.
    pub results: i64,
    /// Results audited per unit (unit code, count), by unit code.
    pub unit_results: Vec<(String, i64)>,
    /// The audit policy's id and stored version (0: the shipped default).
    pub policy_id: String,
    pub policy_version: i64,
    /// When the pass ran.
    pub audited_at: DateTime<Utc>,
}

/// A flagged result of an audited day.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditFindingRow {
    /// The city day its result was filed.
    pub day: NaiveDate,
    /// The ticket.
    pub ticket: i64,
    /// The unit that filed the result.
    pub unit: String,
    /// The flag kinds (`off_topic`, `boilerplate`, `contradicted`, `too_fast`).
    pub kinds: Vec<String>,
    /// The relevance score, 0–4 (`None`: too few results to score).
    pub score: Option<f64>,
    /// The rest (boilerplate twin, minutes …), JSON.
    pub detail: String,
    /// The audit policy version applied (0: the shipped default).
    pub policy_version: i64,
}

/// Where governance policies and the reply audit's findings are kept.
pub trait GovernancePolicyStore: Send + Sync {
    /// Stores `p` as the next version of its kind; answers the version.
    fn add_governance_policy(&self, p: GovPolicyRow) -> Result<i64>;
    /// Every stored version of a kind, the oldest first.
    fn governance_policies(&self, kind: &str) -> Result<Vec<GovPolicyRow>>;
    /// Stores the audit of a day with its findings, replacing what was stored for that day.
    fn store_audit_day(&self, day: AuditDayRow, findings: Vec<AuditFindingRow>) -> Result<()>;
    /// The audited days in `[from, to]`, by day.
    fn audit_days(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<AuditDayRow>>;
    /// The findings of the days in `[from, to]`, by day and ticket.
    fn audit_findings(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<AuditFindingRow>>;
}

pub(crate) fn kinds_json(k: &[String]) -> String {
    serde_json::to_string(k).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn units_json(u: &[(String, i64)]) -> String {
    serde_json::to_string(u).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}
