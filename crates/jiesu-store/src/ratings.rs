//! Self-rating links (自评价链接): a citizen rates the handling of their ticket through a link
//! sent by SMS; each link is for one round and can be used once.

use crate::{Change, Result};
use chrono::{DateTime, Utc};
use jiesu_domain::{TicketId, TicketState};

/// Rating links (stored hashed).
pub trait RatingStore: Send + Sync {
    /// Stores a self-rating link for the ticket's current round.
    fn save_rating_token(
        &self,
        token_hash: &str,
        ticket: TicketId,
        round: u32,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()>;
    /// The ticket and round of a valid, unused, unexpired link.
    fn rating_token(&self, token_hash: &str, now: DateTime<Utc>)
        -> Result<Option<(TicketId, u32)>>;
    /// Records the citizen's rating (run by `change`) and spends the link, in one transaction;
    /// a link already used is `NotFound`.
    fn use_rating_token(
        &self,
        token_hash: &str,
        ticket: TicketId,
        change: Change,
        now: DateTime<Utc>,
    ) -> Result<TicketState>;
}
