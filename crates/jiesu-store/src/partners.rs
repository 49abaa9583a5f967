//! Partners (合作渠道): organisations that file requests through Open311 with an API key of
//! their own, each with its channel code. Keys are stored hashed (SHA-256), never in plaintext;
//! the tokens an Open311 `POST requests` answers with map to the ticket created. A partner that
//! signs its requests (HMAC-SHA256, docs/CHANNELS.md) has a signing secret: the row holds a random
//! salt, the secret is derived from it with the key file's index key, so a copy of the database
//! alone cannot sign; the nonces of signed requests are kept to refuse replays.

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

/// A partner's signing material: the HMAC secret (hex, the key of HMAC-SHA256 as its ASCII
/// bytes) and the emergency service whose transfers it replies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerSigning {
    pub secret: String,
    /// 110, 119, 120 or 122 (`jiesu_domain::ticket::EmergencyService`), if it answers transfers.
    pub serves: Option<String>,
    /// The secret replaced by the last rotation and the instant until which it is still
    /// accepted (密钥轮换的宽限期); the caller compares with its own clock.
    pub previous: Option<(String, DateTime<Utc>)>,
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
    /// Gives a partner a new signing secret (replacing any it had, a rotated one's previous
    /// secret included: no grace) and the emergency service it answers transfers for; returns the secret, which only this call shows. An unknown
    /// partner is `NotFound`.
    fn new_partner_secret(
        &self,
        partner: i64,
        serves: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String>;
    /// 密钥轮换 — gives a partner that has a signing secret a new one (a new salt) and keeps
    /// the old one as `previous`, accepted until `grace_until`; returns the new secret, which
    /// only this call shows. A partner unknown or without a secret is `NotFound`.
    fn rotate_partner_secret(
        &self,
        partner: i64,
        grace_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<String>;
    /// The partner whose key hashes to `key_hash`, with its signing material (`None` when the
    /// key is unknown or the partner has no signing secret).
    fn partner_signing(&self, key_hash: &str) -> Result<Option<(PartnerRecord, PartnerSigning)>>;
    /// Records the nonce of a signed request at `at`: `false` when the partner used it before
    /// (a replay). Nonces recorded before `forget_before` are dropped first (older requests are
    /// refused by their timestamp anyway).
    fn use_partner_nonce(
        &self,
        partner: i64,
        nonce: &str,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool>;
}

/// The label of the partner secrets' derivation under the key file's index key.
pub(crate) const SECRET_LABEL: &[u8] = b"jiesu/partner-secret/v1";

/// A new random salt (hex).
pub(crate) fn new_salt() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The secret of a salt under a keyring: `ps_` and the hex of HMAC-SHA256(index key, label, salt).
pub(crate) fn derive_secret(ring: &crate::crypt::Keyring, salt: &str) -> String {
    let mac = ring.keyed(SECRET_LABEL, salt.as_bytes());
    format!(
        "ps_{}",
        mac.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}
