//! Partners and their Open311 tokens in SQLite.

use super::*;

fn partner_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PartnerRecord> {
    Ok(PartnerRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        channel: r.get(2)?,
        created_at: r.get(3)?,
    })
}

impl PartnerStore for SqliteStore {
    fn add_partner(
        &self,
        name: &str,
        channel: &str,
        key_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<PartnerRecord> {
        let (n, ch, k) = (name.to_string(), channel.to_string(), key_hash.to_string());
        self.write(move |c| {
            let taken: Option<i64> = c
                .query_row("SELECT id FROM partners WHERE name=?1", params![n], |r| {
                    r.get(0)
                })
                .optional()?;
            if taken.is_some() {
                return Err(StoreError::Conflict(format!(
                    "a partner named '{n}' exists"
                )));
            }
            c.execute(
                "INSERT INTO partners (name, channel, key_hash, created_at) VALUES (?1,?2,?3,?4)",
                params![n, ch, k, fmt(now)],
            )?;
            Ok(PartnerRecord {
                id: c.last_insert_rowid(),
                name: n,
                channel: ch,
                created_at: fmt(now),
            })
        })
    }

    fn partner_by_key(&self, key_hash: &str) -> Result<Option<PartnerRecord>> {
        let k = key_hash.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT id, name, channel, created_at FROM partners WHERE key_hash=?1",
                params![k],
                partner_row,
            )
            .optional()?)
        })
    }

    fn partners(&self) -> Result<Vec<PartnerRecord>> {
        self.read(move |c| {
            let mut s =
                c.prepare("SELECT id, name, channel, created_at FROM partners ORDER BY name")?;
            let rows = s.query_map([], partner_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn save_request_token(
        &self,
        token: &str,
        partner: i64,
        ticket: TicketId,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let t = token.to_string();
        self.write(move |c| {
            let had: Option<String> = c
                .query_row(
                    "SELECT token FROM partner_tokens WHERE partner_id=?1 AND ticket_id=?2",
                    params![partner, ticket],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(had) = had {
                return Ok(had);
            }
            c.execute(
                "INSERT INTO partner_tokens (token, partner_id, ticket_id, created_at) VALUES (?1,?2,?3,?4)",
                params![t, partner, ticket, fmt(now)],
            )?;
            Ok(t)
        })
    }

    fn ticket_of_token(&self, token: &str) -> Result<Option<TicketId>> {
        let t = token.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT ticket_id FROM partner_tokens WHERE token=?1",
                params![t],
                |r| r.get(0),
            )
            .optional()?)
        })
    }
}
