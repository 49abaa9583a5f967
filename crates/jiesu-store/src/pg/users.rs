//! Users and sessions in PostgreSQL (the twin of `sqlite/users.rs`).

use super::conn::{Conn, RowExt};
use super::PgStore;
use crate::time::fmt;
use crate::{Result, SessionRecord, StoreError, UserRecord, UserStore};
use chrono::{DateTime, Utc};

fn instant(s: &str) -> Result<DateTime<Utc>> {
    crate::time::parse(s).ok_or_else(|| StoreError::Db(format!("bad instant {s:?} in sessions")))
}

fn user_row(r: &postgres::Row) -> Result<UserRecord> {
    Ok(UserRecord {
        id: r.get_i64(0)?,
        username: r.get_str(1)?,
        password_hash: r.get_str(2)?,
        role: r.get_str(3)?,
        unit_code: r.get_opt_str(4)?,
        active: r.get_bool(5)?,
    })
}

impl UserStore for PgStore {
    fn add_user(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
        unit: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let (u, h, r, unit) = (
            username.to_string(),
            password_hash.to_string(),
            role.to_string(),
            unit.map(str::to_string),
        );
        self.write(move |c: &mut Conn| {
            let taken = || StoreError::Invalid {
                field: "name".into(),
                message: format!("a user named '{u}' already exists"),
                message_zh: format!("用户名“{u}”已存在"),
            };
            let exists = c.query_opt("SELECT id FROM users WHERE username=?1", &crate::pv![&u])?;
            if exists.is_some() {
                return Err(taken());
            }
            // the check above keeps identity ids without gaps; ON CONFLICT gives the same answer
            // when another server added the name in between
            c.query_opt(
                "INSERT INTO users (username, password_hash, role, unit_code, created_at, active) VALUES (?1,?2,?3,?4,?5,1)
                 ON CONFLICT (username) DO NOTHING RETURNING id",
                &crate::pv![&u, h, r, unit, fmt(now)],
            )?
            .ok_or_else(taken)?
            .get_i64(0)
        })
    }

    fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>> {
        let u = username.to_string();
        self.read(move |c| {
            c.query_opt(
                "SELECT id, username, password_hash, role, unit_code, active FROM users WHERE username=?1",
                &crate::pv![u],
            )?
            .map(|r| user_row(&r))
            .transpose()
        })
    }

    fn create_session(
        &self,
        user_id: i64,
        token_hash: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        let t = token_hash.to_string();
        self.write(move |c: &mut Conn| {
            c.exec(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES (?1,?2,?3,?4,?3)",
                &crate::pv![t, user_id, fmt(now), fmt(expires)],
            )?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        let t = token_hash.to_string();
        self.read(move |c| {
            let Some(r) = c.query_opt(
                "SELECT u.id, u.username, u.password_hash, u.role, u.unit_code, u.active,
                        s.created_at, s.expires_at, COALESCE(s.last_seen_at, s.created_at)
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash=?1 AND u.active = 1",
                &crate::pv![t],
            )?
            else {
                return Ok(None);
            };
            Ok(Some(SessionRecord {
                user: user_row(&r)?,
                created_at: instant(&r.get_str(6)?)?,
                expires_at: instant(&r.get_str(7)?)?,
                last_seen_at: instant(&r.get_str(8)?)?,
            }))
        })
    }

    fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        let t = token_hash.to_string();
        self.write(move |c: &mut Conn| {
            c.exec(
                "UPDATE sessions SET last_seen_at=?2 WHERE token_hash=?1",
                &crate::pv![t, fmt(now)],
            )?;
            Ok(())
        })
    }

    fn delete_session(&self, token_hash: &str) -> Result<bool> {
        let t = token_hash.to_string();
        self.write(move |c: &mut Conn| {
            Ok(c.exec("DELETE FROM sessions WHERE token_hash=?1", &crate::pv![t])? > 0)
        })
    }
}
