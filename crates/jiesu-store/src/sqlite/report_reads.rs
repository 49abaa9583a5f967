//! The report inbox's read state, in SQLite (the PostgreSQL twin is `pg/report_reads.rs`).

use super::*;
use crate::report_reads::{
    InboxReport, ReportInbox, ReportReadStore, INBOX_COLS, INBOX_FROM, UNREAD,
};

fn unread_of(c: &Connection, user: &str) -> Result<u64> {
    let n: i64 = c.query_row(
        &format!("SELECT COUNT(*) {INBOX_FROM} WHERE {UNREAD}"),
        params![user],
        |x| x.get(0),
    )?;
    Ok(n as u64)
}

impl ReportReadStore for SqliteStore {
    fn report_inbox(&self, user: &str, offset: u64, limit: u64) -> Result<ReportInbox> {
        let user = user.to_string();
        self.read(move |c| {
            let total: i64 = c.query_row(
                &format!("SELECT COUNT(*) {INBOX_FROM}"),
                params![user],
                |x| x.get(0),
            )?;
            let mut s = c.prepare(&format!(
                "SELECT {INBOX_COLS} {INBOX_FROM}
                 ORDER BY r.generated_at DESC, r.id DESC LIMIT ?2 OFFSET ?3"
            ))?;
            let items = s
                .query_map(params![user, limit as i64, offset as i64], |r| {
                    let report = super::reports::row(r)?;
                    let read_at = r
                        .get::<_, Option<String>>(8)?
                        .and_then(|s| crate::time::parse(&s));
                    Ok(InboxReport {
                        unread: read_at.is_none_or(|t| t < report.generated_at),
                        report,
                        read_at,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(ReportInbox {
                items,
                total: total as u64,
                unread: unread_of(c, &user)?,
            })
        })
    }

    fn report_inbox_unread(&self, user: &str) -> Result<u64> {
        self.read(|c| unread_of(c, user))
    }

    fn mark_report_read(&self, user: &str, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let user = user.to_string();
        self.write(move |c| {
            let n = c.execute(
                "INSERT INTO report_reads (user_name, report_id, read_at)
                 SELECT ?1, id, ?3 FROM reports WHERE id = ?2
                 ON CONFLICT (user_name, report_id) DO UPDATE SET read_at = excluded.read_at",
                params![user, id, fmt(at)],
            )?;
            Ok(n > 0)
        })
    }

    fn mark_report_inbox_read(&self, user: &str, at: DateTime<Utc>) -> Result<u64> {
        let user = user.to_string();
        self.write(move |c| {
            let n = c.execute(
                &format!(
                    "INSERT INTO report_reads (user_name, report_id, read_at)
                     SELECT ?1, r.id, ?2 {INBOX_FROM} WHERE {UNREAD}
                     ON CONFLICT (user_name, report_id) DO UPDATE SET read_at = excluded.read_at"
                ),
                params![user, fmt(at)],
            )?;
            Ok(n as u64)
        })
    }
}
