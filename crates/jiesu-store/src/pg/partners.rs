//! Partners and their Open311 tokens in PostgreSQL (the twin of `sqlite/partners.rs`).

use super::conn::{Conn, RowExt};
use super::PgStore;
use crate::time::fmt;
use crate::{PartnerRecord, PartnerSigning, PartnerStore, Result, StoreError};
use chrono::{DateTime, Utc};
use jiesu_domain::TicketId;

fn partner_row(r: &postgres::Row) -> Result<PartnerRecord> {
    Ok(PartnerRecord {
        id: r.get_i64(0)?,
        name: r.get_str(1)?,
        channel: r.get_str(2)?,
        created_at: r.get_str(3)?,
    })
}

impl PartnerStore for PgStore {
    fn add_partner(
        &self,
        name: &str,
        channel: &str,
        key_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<PartnerRecord> {
        let (n, ch, k) = (name.to_string(), channel.to_string(), key_hash.to_string());
        self.write(move |c: &mut Conn| {
            if c
                .query_opt("SELECT id FROM partners WHERE name=?1", &crate::pv![&n])?
                .is_some()
            {
                return Err(StoreError::Conflict(format!("a partner named '{n}' exists")));
            }
            let r = c
                .query_opt(
                    "INSERT INTO partners (name, channel, key_hash, created_at) VALUES (?1,?2,?3,?4) RETURNING id",
                    &crate::pv![&n, &ch, &k, fmt(now)],
                )?
                .ok_or_else(|| StoreError::Db("no partner id returned".into()))?;
            Ok(PartnerRecord {
                id: r.get_i64(0)?,
                name: n,
                channel: ch,
                created_at: fmt(now),
            })
        })
    }

    fn partner_by_key(&self, key_hash: &str) -> Result<Option<PartnerRecord>> {
        let k = key_hash.to_string();
        self.read(move |c| {
            c.query_opt(
                "SELECT id, name, channel, created_at FROM partners WHERE key_hash=?1",
                &crate::pv![k],
            )?
            .map(|r| partner_row(&r))
            .transpose()
        })
    }

    fn partners(&self) -> Result<Vec<PartnerRecord>> {
        self.read(move |c| {
            c.query(
                "SELECT id, name, channel, created_at FROM partners ORDER BY name",
                &crate::pv![],
            )?
            .iter()
            .map(partner_row)
            .collect()
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
        self.write(move |c: &mut Conn| {
            if let Some(r) = c.query_opt(
                "SELECT token FROM partner_tokens WHERE partner_id=?1 AND ticket_id=?2",
                &crate::pv![partner, ticket],
            )? {
                return r.get_str(0);
            }
            c.exec(
                "INSERT INTO partner_tokens (token, partner_id, ticket_id, created_at) VALUES (?1,?2,?3,?4)",
                &crate::pv![&t, partner, ticket, fmt(now)],
            )?;
            Ok(t)
        })
    }

    fn ticket_of_token(&self, token: &str) -> Result<Option<TicketId>> {
        let t = token.to_string();
        self.read(move |c| {
            c.query_opt(
                "SELECT ticket_id FROM partner_tokens WHERE token=?1",
                &crate::pv![t],
            )?
            .map(|r| r.get_i64(0))
            .transpose()
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
        self.write(move |c: &mut Conn| {
            if c
                .query_opt("SELECT id FROM partners WHERE id=?1", &crate::pv![partner])?
                .is_none()
            {
                return Err(StoreError::NotFound);
            }
            c.exec(
                "INSERT INTO partner_signing (partner_id, salt, serves, created_at) VALUES (?1,?2,?3,?4)
                 ON CONFLICT (partner_id) DO UPDATE SET salt=excluded.salt, serves=excluded.serves, created_at=excluded.created_at",
                &crate::pv![partner, &salt, serves, fmt(now)],
            )?;
            c.exec(
                "DELETE FROM partner_signing_previous WHERE partner_id=?1",
                &crate::pv![partner],
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
        self.write(move |c: &mut Conn| {
            let Some(row) = c.query_opt(
                "SELECT salt FROM partner_signing WHERE partner_id=?1 FOR UPDATE",
                &crate::pv![partner],
            )?
            else {
                return Err(StoreError::NotFound);
            };
            let old = row.get_str(0)?;
            c.exec(
                "INSERT INTO partner_signing_previous (partner_id, salt, until) VALUES (?1,?2,?3)
                 ON CONFLICT (partner_id) DO UPDATE SET salt=excluded.salt, until=excluded.until",
                &crate::pv![partner, &old, fmt(grace_until)],
            )?;
            c.exec(
                "UPDATE partner_signing SET salt=?2, created_at=?3 WHERE partner_id=?1",
                &crate::pv![partner, &salt, fmt(now)],
            )?;
            Ok(())
        })?;
        Ok(secret)
    }

    fn partner_signing(&self, key_hash: &str) -> Result<Option<(PartnerRecord, PartnerSigning)>> {
        let k = key_hash.to_string();
        let row = self.read(move |c| {
            c.query_opt(
                "SELECT p.id, p.name, p.channel, p.created_at, s.salt, s.serves, v.salt, v.until
                 FROM partners p JOIN partner_signing s ON s.partner_id = p.id
                 LEFT JOIN partner_signing_previous v ON v.partner_id = p.id WHERE p.key_hash=?1",
                &crate::pv![k],
            )?
            .map(|r| -> Result<_> {
                Ok((
                    partner_row(&r)?,
                    r.get_str(4)?,
                    r.get_opt_str(5)?,
                    r.get_opt_str(6)?,
                    r.get_opt_str(7)?,
                ))
            })
            .transpose()
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
        self.write(move |c: &mut Conn| {
            c.exec(
                "DELETE FROM partner_nonces WHERE at < ?1",
                &crate::pv![fmt(forget_before)],
            )?;
            let added = c.exec(
                "INSERT INTO partner_nonces (partner_id, nonce, at) VALUES (?1,?2,?3) ON CONFLICT DO NOTHING",
                &crate::pv![partner, &n, fmt(at)],
            )?;
            Ok(added == 1)
        })
    }
}
