//! Self-rating links in SQLite.

use super::*;

impl RatingStore for SqliteStore {
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
        self.write(move |c| {
            c.execute(
                "INSERT INTO rating_tokens (token_hash, ticket_id, round, created_at, expires_at) VALUES (?1,?2,?3,?4,?5)",
                params![t, ticket, round, fmt(now), fmt(expires)],
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
            Ok(c.query_row(
                "SELECT ticket_id, round FROM rating_tokens WHERE token_hash=?1 AND used_at IS NULL AND expires_at > ?2",
                params![t, fmt(now)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
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
        self.write(move |c| {
            let n = c.execute(
                "UPDATE rating_tokens SET used_at=?2 WHERE token_hash=?1 AND used_at IS NULL",
                params![t, fmt(now)],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(apply_change(c, &keys, ticket, change)?.0)
        })
    }
}
