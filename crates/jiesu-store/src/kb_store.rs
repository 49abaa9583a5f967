//! Knowledge-base articles (知识库), durably: every version of every article with its review
//! state and who did what. The article itself is stored as JSON (its fields belong to
//! `jiesu-kb`, which the store does not depend on); the columns the workflow asks about — id,
//! version, status, author, reviewer — are columns. Rows are upserted by (id, version): a draft
//! is edited in place, a review changes its status; versions are never deleted.

use crate::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One stored article version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KbVersionRow {
    pub id: String,
    pub version: u32,
    /// `draft`, `in_review`, `published` or `retired`.
    pub status: String,
    /// The article (all fields) as JSON.
    pub article: String,
    /// Who wrote (last edited) this version.
    pub author: String,
    pub created_at: String,
    pub updated_at: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    /// The reviewer's note (why it was sent back, or remarks on approval).
    pub review_note: Option<String>,
}

/// Knowledge-base articles and their use.
pub trait KbStore: Send + Sync {
    /// How many article versions are stored.
    fn kb_version_count(&self) -> Result<u64>;
    /// Writes versions in one transaction (insert, or replace the row of the same id and version).
    fn kb_put_versions(&self, rows: Vec<KbVersionRow>) -> Result<()>;
    /// Every stored version, by id then version.
    fn kb_all_versions(&self) -> Result<Vec<KbVersionRow>>;
    /// The versions of one article, oldest first.
    fn kb_versions(&self, id: &str) -> Result<Vec<KbVersionRow>>;
    /// Knowledge-base use in `[from, to)`: (tickets taken in, answered directly, per-article counts).
    #[allow(clippy::type_complexity)]
    fn kb_usage(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(i64, i64, Vec<(String, i64)>)>;
}
