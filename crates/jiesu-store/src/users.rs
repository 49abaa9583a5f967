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
    /// The active user of an unexpired session.
    fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<UserRecord>>;
}
