//! Partners (合作渠道): organisations that file requests through Open311 with an API key of
//! their own, each with its channel code. Keys are stored hashed (SHA-256), never in plaintext;
//! the tokens an Open311 `POST requests` answers with map to the ticket created.

use crate::Result;
use chrono::{DateTime, Utc};
use jiesu_domain::TicketId;

/// A partner as stored (without its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRecord {
    pub id: i64,
    pub name: String,
    /// The channel (`jiesu_domain::Channel` wire name) its requests are filed under.
    pub channel: String,
    pub created_at: String,
}

/// Partner API keys and the Open311 tokens of their requests.
pub trait PartnerStore: Send + Sync {
    /// Adds a partner with the hash of its key; a name already used is a `Conflict`.
    fn add_partner(
        &self,
        name: &str,
        channel: &str,
        key_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<PartnerRecord>;
    /// The partner whose key hashes to `key_hash`.
    fn partner_by_key(&self, key_hash: &str) -> Result<Option<PartnerRecord>>;
    /// Every partner, by name.
    fn partners(&self) -> Result<Vec<PartnerRecord>>;
    /// Records the token answered for a partner's request (one per ticket and partner: the
    /// token already recorded is returned when there is one, so a replayed request answers the
    /// same token).
    fn save_request_token(
        &self,
        token: &str,
        partner: i64,
        ticket: TicketId,
        now: DateTime<Utc>,
    ) -> Result<String>;
    /// The ticket of a token.
    fn ticket_of_token(&self, token: &str) -> Result<Option<TicketId>>;
}
