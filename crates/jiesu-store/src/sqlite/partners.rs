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

    fn new_partner_secret(
        &self,
        partner: i64,
        serves: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let salt = crate::partners::new_salt();
        let secret = crate::partners::derive_secret(&self.keys.ring(), &salt);
        let serves = serves.map(str::to_string);
        self.write(move |c| {
            let known: Option<i64> = c
                .query_row("SELECT id FROM partners WHERE id=?1", params![partner], |r| {
                    r.get(0)
                })
                .optional()?;
            if known.is_none() {
                return Err(StoreError::NotFound);
            }
            c.execute(
                "INSERT INTO partner_signing (partner_id, salt, serves, created_at) VALUES (?1,?2,?3,?4)
                 ON CONFLICT (partner_id) DO UPDATE SET salt=excluded.salt, serves=excluded.serves, created_at=excluded.created_at",
                params![partner, salt, serves, fmt(now)],
            )?;
            c.execute(
                "DELETE FROM partner_signing_previous WHERE partner_id=?1",
                params![partner],
            )?;
            Ok(())
        })?;
        Ok(secret)
    }

    fn rotate_partner_secret(
        &self,
        partner: i64,
        grace_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let salt = crate::partners::new_salt();
        let secret = crate::partners::derive_secret(&self.keys.ring(), &salt);
        self.write(move |c| {
            let old: Option<String> = c
                .query_row(
                    "SELECT salt FROM partner_signing WHERE partner_id=?1",
                    params![partner],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(old) = old else {
                return Err(StoreError::NotFound);
            };
            c.execute(
                "INSERT INTO partner_signing_previous (partner_id, salt, until) VALUES (?1,?2,?3)
                 ON CONFLICT (partner_id) DO UPDATE SET salt=excluded.salt, until=excluded.until",
                params![partner, old, fmt(grace_until)],
            )?;
            c.execute(
                "UPDATE partner_signing SET salt=?2, created_at=?3 WHERE partner_id=?1",
                params![partner, salt, fmt(now)],
            )?;
            Ok(())
        })?;
        Ok(secret)
    }

    fn partner_signing(&self, key_hash: &str) -> Result<Option<(PartnerRecord, PartnerSigning)>> {
        let k = key_hash.to_string();
        let row = self.read(move |c| {
            Ok(c.query_row(
                "SELECT p.id, p.name, p.channel, p.created_at, s.salt, s.serves, v.salt, v.until
                 FROM partners p JOIN partner_signing s ON s.partner_id = p.id
                 LEFT JOIN partner_signing_previous v ON v.partner_id = p.id WHERE p.key_hash=?1",
                params![k],
                |r| {
                    Ok((
                        partner_row(r)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<String>>(7)?,
                    ))
                },
            )
            .optional()?)
        })?;
        let ring = self.keys.ring();
        row.map(|(p, salt, serves, old, until)| -> Result<_> {
            let secret = crate::partners::derive_secret(&ring, &salt);
            let previous = match (old, until) {
                (Some(old), Some(until)) => Some((
                    crate::partners::derive_secret(&ring, &old),
                    // an unreadable instant is the epoch: the old secret is refused (fails closed)
                    crate::time::parse(&until).unwrap_or_default(),
                )),
                _ => None,
            };
            Ok((
                p,
                PartnerSigning {
                    secret,
                    serves,
                    previous,
                },
            ))
        })
        .transpose()
    }

    fn use_partner_nonce(
        &self,
        partner: i64,
        nonce: &str,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool> {
        let n = nonce.to_string();
        self.write(move |c| {
            c.execute(
                "DELETE FROM partner_nonces WHERE at < ?1",
                params![fmt(forget_before)],
            )?;
            let added = c.execute(
                "INSERT INTO partner_nonces (partner_id, nonce, at) VALUES (?1,?2,?3) ON CONFLICT DO NOTHING",
                params![partner, n, fmt(at)],
            )?;
            Ok(added == 1)
        })
    }
}
