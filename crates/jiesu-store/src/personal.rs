//! Personal data at rest: the data keys' maintenance (rotation) and retention (see `crypt.rs`).

use crate::Result;
use chrono::{DateTime, Utc};
use jiesu_domain::TicketId;

/// 个人信息 — the personal-data keys and their retention.
pub trait PersonalDataStore: Send + Sync {
    /// Re-wraps up to `limit` data keys not yet under the key file's current master key, in one
    /// short write transaction; returns how many (0 = all are current). A rotation calls it until
    /// it returns 0, so a running server is never blocked for long.
    fn rewrap_data_keys(&self, limit: u32) -> Result<u64>;
    /// How many data keys each master key wraps (`key id`, count), and the current key's id.
    fn data_key_usage(&self) -> Result<(String, Vec<(String, u64)>)>;
    /// Archived tickets that still hold personal data and were closed before `closed_before`,
    /// oldest first, at most `limit` (candidates for the retention task).
    fn retention_candidates(
        &self,
        closed_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TicketId>>;
}
