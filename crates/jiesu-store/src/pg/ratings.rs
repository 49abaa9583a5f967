//! Self-rating links in PostgreSQL (the twin of `sqlite/ratings.rs`).

use super::conn::{Conn, RowExt};
use super::{apply_change, PgStore};
use crate::time::fmt;
use crate::{Change, RatingStore, Result, StoreError};
use chrono::{DateTime, Utc};
use jiesu_domain::{TicketId, TicketState};

impl RatingStore for PgStore {
    /// Stores a self-rating link for the ticket's current round.
    fn save_rating_token(
        &self,
        token_hash: &str,
        ticket: TicketId,
        round: u32,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        let t = token_hash.to_string();
        self.write(move |c: &mut Conn| {
            c.exec(
                "INSERT INTO rating_tokens (token_hash, ticket_id, round, created_at, expires_at) VALUES (?1,?2,?3,?4,?5)",
                &crate::pv![t, ticket, round, fmt(now), fmt(expires)],
            )?;
            Ok(())
        })
    }

    /// The ticket and round of a valid, unused, unexpired link.
    fn rating_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(TicketId, u32)>> {
        let t = token_hash.to_string();
        self.read(move |c| {
            c.query_opt(
                "SELECT ticket_id, round FROM rating_tokens WHERE token_hash=?1 AND used_at IS NULL AND expires_at > ?2",
                &crate::pv![t, fmt(now)],
            )?
            .map(|r| Ok((r.get_i64(0)?, r.get_u32(1)?)))
            .transpose()
        })
    }

    /// Records the citizen's rating (run by `change`) and spends the link, in one transaction.
    fn use_rating_token(
        &self,
        token_hash: &str,
        ticket: TicketId,
        change: Change,
        now: DateTime<Utc>,
    ) -> Result<TicketState> {
        let t = token_hash.to_string();
        let keys = self.keys.clone();
        self.write(move |c: &mut Conn| {
            let n = c.exec(
                "UPDATE rating_tokens SET used_at=?2 WHERE token_hash=?1 AND used_at IS NULL",
                &crate::pv![t, fmt(now)],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(apply_change(c, &keys, ticket, change)?.0)
        })
    }
}
