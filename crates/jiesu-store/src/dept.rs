//! 部门接口 — what a department (or a district) is given to take its own data: scoped API keys
//! (stored hashed, with their use counted and every read in `audit_log`), webhook subscriptions
//! of its own tickets' events (each with its own delivery cursor), saved custom exports (列、筛选、
//! 周期) and the files they produced. Revoking a partner's Open311 key is here too.

use crate::{AuditEntry, Result};
use chrono::{DateTime, NaiveDate, Utc};

/// A department key as stored (without the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeptKey {
    pub id: i64,
    /// What the admin called it.
    pub name: String,
    /// The unit (department or district) whose tickets and facts it reads, with those below.
    pub unit_code: String,
    /// The role it reads as (`unit_handler` or `unit_manager`): the capability table decides.
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Requests made with it.
    pub uses: i64,
}

impl DeptKey {
    /// The user name its reads are recorded under (`key:<id>`).
    pub fn user_name(&self) -> String {
        format!("key:{}", self.id)
    }
}

/// A webhook subscription of a unit's tickets' events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeptWebhook {
    pub id: i64,
    pub unit_code: String,
    pub url: String,
    /// The HMAC secret its deliveries are signed with.
    pub secret: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The event-log position delivered up to.
    pub cursor: i64,
}

/// A saved custom export (定制导出) of a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedExport {
    pub id: i64,
    pub unit_code: String,
    pub name: String,
    /// Column names, in order.
    pub columns: Vec<String>,
    /// The filters as JSON (field → code).
    pub filters: String,
    /// `csv`, `xlsx` or `parquet`.
    pub format: String,
    /// `daily`, `weekly`, `monthly` or `none`.
    pub schedule: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// A new saved export.
#[derive(Debug, Clone)]
pub struct NewSavedExport {
    pub unit_code: String,
    pub name: String,
    pub columns: Vec<String>,
    pub filters: String,
    pub format: String,
    pub schedule: String,
    pub created_by: String,
}

/// One file a saved export produced (its bytes are read separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRun {
    pub id: i64,
    pub export_id: i64,
    /// `2026-12-06`, `2026-W49`, `2026-11`, or `now-<id>` for a run on demand.
    pub period: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub format: String,
    pub rows: i64,
    pub generated_at: DateTime<Utc>,
}

/// Department keys, webhooks and saved exports.
pub trait DeptStore: Send + Sync {
    /// Adds a key by the hash of its secret.
    fn add_dept_key(
        &self,
        name: &str,
        unit_code: &str,
        role: &str,
        key_hash: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<DeptKey>;
    /// The key whose secret hashes to `key_hash` (revoked ones too: the caller refuses them).
    fn dept_key_by_hash(&self, key_hash: &str) -> Result<Option<DeptKey>>;
    /// Every key, newest first.
    fn dept_keys(&self) -> Result<Vec<DeptKey>>;
    /// Revokes a key (false when there is none or it was revoked already).
    fn revoke_dept_key(&self, id: i64, now: DateTime<Utc>) -> Result<bool>;
    /// Counts one use of a key and records what it read in `audit_log` (user `key:<id>`, action
    /// `api_read`), in one transaction.
    fn record_key_read(&self, id: i64, what: &str, now: DateTime<Utc>) -> Result<()>;
    /// The newest `limit` audited reads of a key, newest first.
    fn key_reads(&self, id: i64, limit: u32) -> Result<Vec<AuditEntry>>;

    /// Revokes a partner's Open311 key: its stored hash is replaced by a marker no key hashes to
    /// (false when there is no such partner or it was revoked already).
    fn revoke_partner(&self, id: i64) -> Result<bool>;
    /// Whether a partner has been revoked.
    fn partner_revoked(&self, id: i64) -> Result<bool>;

    /// Adds a webhook subscription; it starts at `cursor` (the log's position now, so it receives
    /// what happens from now on).
    fn add_dept_webhook(
        &self,
        unit_code: &str,
        url: &str,
        secret: &str,
        cursor: i64,
        now: DateTime<Utc>,
    ) -> Result<DeptWebhook>;
    /// Every subscription, newest first.
    fn dept_webhooks(&self) -> Result<Vec<DeptWebhook>>;
    /// Revokes a subscription (false when there is none or it was revoked already).
    fn revoke_dept_webhook(&self, id: i64, now: DateTime<Utc>) -> Result<bool>;
    /// Moves a subscription's delivery cursor.
    fn set_dept_webhook_cursor(&self, id: i64, cursor: i64) -> Result<()>;

    /// Saves an export definition.
    fn add_saved_export(&self, e: NewSavedExport, now: DateTime<Utc>) -> Result<SavedExport>;
    /// Every saved export, by id.
    fn saved_exports(&self) -> Result<Vec<SavedExport>>;
    /// One saved export.
    fn saved_export(&self, id: i64) -> Result<Option<SavedExport>>;
    /// Deletes a saved export and its files (false when there is none).
    fn delete_saved_export(&self, id: i64) -> Result<bool>;
    /// Stores a file of an export for a period (a period stored already is replaced, keeping its
    /// id). Answers the run's id.
    #[allow(clippy::too_many_arguments)]
    fn save_export_run(
        &self,
        export_id: i64,
        period: &str,
        from: NaiveDate,
        to: NaiveDate,
        format: &str,
        rows: i64,
        content: &[u8],
        now: DateTime<Utc>,
    ) -> Result<i64>;
    /// Whether an export has its file for a period.
    fn has_export_run(&self, export_id: i64, period: &str) -> Result<bool>;
    /// An export's files, newest first.
    fn export_runs(&self, export_id: i64) -> Result<Vec<ExportRun>>;
    /// One file with its bytes.
    fn export_run(&self, id: i64) -> Result<Option<(ExportRun, Vec<u8>)>>;
    /// Files made after run `id`, oldest first (the outbox's delivery of scheduled files).
    fn export_runs_after(&self, id: i64, limit: u32) -> Result<Vec<ExportRun>>;
}
