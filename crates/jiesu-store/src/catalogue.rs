//! The duty catalogue's versions (派单目录版本).

use crate::Result;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One version of the duty catalogue (派单目录), stored as its CSV.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogueVersion {
    pub version: i64,
    /// `draft`, `published` or `superseded`.
    pub status: String,
    pub created_at: String,
    pub created_by: String,
    pub note: Option<String>,
    pub rules: usize,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub csv: String,
}

/// Versions of the duty catalogue: drafts (one at a time), the published one, superseded ones.
pub trait CatalogueStore: Send + Sync {
    /// Saves a version with this status; a new draft replaces the previous draft, a new
    /// published version supersedes the previous one.
    fn save_catalogue(
        &self,
        status: &str,
        csv: &str,
        rules: usize,
        user: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64>;
    /// The newest version with this status (`published` or `draft`), with its CSV.
    fn catalogue(&self, status: &str) -> Result<Option<CatalogueVersion>>;
    /// Every version, newest first, without the CSV.
    fn catalogue_history(&self) -> Result<Vec<CatalogueVersion>>;
    /// Publishes a draft (the published one is superseded).
    fn publish_catalogue(&self, version: i64) -> Result<()>;
}
