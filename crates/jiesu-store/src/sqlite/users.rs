//! Users and sessions in SQLite.

use super::*;

fn instant(s: &str) -> Result<DateTime<Utc>> {
    crate::time::parse(s).ok_or_else(|| StoreError::Db(format!("bad instant {s:?} in sessions")))
}

impl UserStore for SqliteStore {
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
        self.write(move |c| {
            let exists: Option<i64> = c
                .query_row("SELECT id FROM users WHERE username=?1", [&u], |r| r.get(0))
                .optional()?;
            if exists.is_some() {
                return Err(StoreError::Invalid {
                    field: "name".into(),
                    message: format!("a user named '{u}' already exists"),
                    message_zh: format!("用户名“{u}”已存在"),
                });
            }
            c.execute(
                "INSERT INTO users (username, password_hash, role, unit_code, created_at, active) VALUES (?1,?2,?3,?4,?5,1)",
                params![u, h, r, unit, fmt(now)],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>> {
        let u = username.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT id, username, password_hash, role, unit_code, active FROM users WHERE username=?1",
                [u],
                user_row,
            )
            .optional()?)
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
        self.write(move |c| {
            c.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES (?1,?2,?3,?4,?3)",
                params![t, user_id, fmt(now), fmt(expires)],
            )?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        let t = token_hash.to_string();
        self.read(move |c| {
            let row = c
                .query_row(
                    "SELECT u.id, u.username, u.password_hash, u.role, u.unit_code, u.active,
                            s.created_at, s.expires_at, COALESCE(s.last_seen_at, s.created_at)
                     FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash=?1 AND u.active = 1",
                    params![t],
                    |r| {
                        Ok((
                            user_row(r)?,
                            r.get::<_, String>(6)?,
                            r.get::<_, String>(7)?,
                            r.get::<_, String>(8)?,
                        ))
                    },
                )
                .optional()?;
            let Some((user, created, expires, seen)) = row else {
                return Ok(None);
            };
            Ok(Some(SessionRecord {
                user,
                created_at: instant(&created)?,
                expires_at: instant(&expires)?,
                last_seen_at: instant(&seen)?,
            }))
        })
    }

    fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        let t = token_hash.to_string();
        self.write(move |c| {
            c.execute(
                "UPDATE sessions SET last_seen_at=?2 WHERE token_hash=?1",
                params![t, fmt(now)],
            )?;
            Ok(())
        })
    }

    fn delete_session(&self, token_hash: &str) -> Result<bool> {
        let t = token_hash.to_string();
        self.write(move |c| Ok(c.execute("DELETE FROM sessions WHERE token_hash=?1", [t])? > 0))
    }
}

fn user_row(r: &rusqlite::Row) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: r.get(0)?,
        username: r.get(1)?,
        password_hash: r.get(2)?,
        role: r.get(3)?,
        unit_code: r.get(4)?,
        active: r.get(5)?,
    })
}
