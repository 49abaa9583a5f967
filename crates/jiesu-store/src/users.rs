//! Users and sessions (账号与会话).

use crate::Result;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub unit_code: Option<String>,
    pub active: bool,
}

/// A log-in session (会话) with its user.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: UserRecord,
    pub created_at: DateTime<Utc>,
    /// The absolute end, set at log-in.
    pub expires_at: DateTime<Utc>,
    /// The last recorded use ([`UserStore::touch_session`]; the log-in at first): the idle
    /// timeout counts from here.
    pub last_seen_at: DateTime<Utc>,
}

/// User accounts and log-in sessions (tokens are stored hashed).
pub trait UserStore: Send + Sync {
    /// Adds an account; a taken name is refused with `Invalid`.
    fn add_user(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
        unit: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64>;
    fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>>;
    fn create_session(
        &self,
        user_id: i64,
        token_hash: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()>;
    /// The session of a token and its user, if the session exists (not logged out) and the user
    /// is active. Expiry is the caller's rule: the record carries `expires_at` and `last_seen_at`.
    fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>>;
    /// Records a use of the session at `now` (the idle timeout counts from the last one).
    fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()>;
    /// 退出登录 — deletes the session (log-out); true if there was one.
    fn delete_session(&self, token_hash: &str) -> Result<bool>;
}
