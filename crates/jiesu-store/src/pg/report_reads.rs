//! The report inbox's read state, in PostgreSQL (the SQLite twin is `sqlite/report_reads.rs`).

use super::*;
use crate::report_reads::{
    InboxReport, ReportInbox, ReportReadStore, INBOX_COLS, INBOX_FROM, UNREAD,
};
use chrono::{DateTime, Utc};

fn unread_of(c: &mut Conn, user: &str) -> Result<u64> {
    let n = c
        .query_one(
            &format!("SELECT COUNT(*) {INBOX_FROM} WHERE {UNREAD}"),
            &crate::pv![user],
        )?
        .get_i64(0)?;
    Ok(n as u64)
}

impl ReportReadStore for PgStore {
    fn report_inbox(&self, user: &str, offset: u64, limit: u64) -> Result<ReportInbox> {
        self.read(|c| {
            let total = c
                .query_one(&format!("SELECT COUNT(*) {INBOX_FROM}"), &crate::pv![user])?
                .get_i64(0)?;
            let rows = c.query(
                &format!(
                    "SELECT {INBOX_COLS} {INBOX_FROM}
                     ORDER BY r.generated_at DESC, r.id DESC LIMIT ?2 OFFSET ?3"
                ),
                &crate::pv![user, limit as i64, offset as i64],
            )?;
            let mut items = Vec::with_capacity(rows.len());
            for r in &rows {
                let report = super::reports::row(r)?;
                let read_at = r.get_opt_str(8)?.and_then(|s| crate::time::parse(&s));
                items.push(InboxReport {
                    unread: read_at.is_none_or(|t| t < report.generated_at),
                    report,
                    read_at,
                });
            }
            Ok(ReportInbox {
                items,
                total: total as u64,
                unread: unread_of(c, user)?,
            })
        })
    }

    fn report_inbox_unread(&self, user: &str) -> Result<u64> {
        self.read(|c| unread_of(c, user))
    }

    fn mark_report_read(&self, user: &str, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let user = user.to_string();
        self.write(move |c: &mut Conn| {
            let n = c.exec(
                "INSERT INTO report_reads (user_name, report_id, read_at)
                 SELECT ?1, id, ?3 FROM reports WHERE id = ?2
                 ON CONFLICT (user_name, report_id) DO UPDATE SET read_at = excluded.read_at",
                &crate::pv![&user, id, fmt(at)],
            )?;
            Ok(n > 0)
        })
    }

    fn mark_report_inbox_read(&self, user: &str, at: DateTime<Utc>) -> Result<u64> {
        let user = user.to_string();
        self.write(move |c: &mut Conn| {
            c.exec(
                &format!(
                    "INSERT INTO report_reads (user_name, report_id, read_at)
                     SELECT ?1, r.id, ?2 {INBOX_FROM} WHERE {UNREAD}
                     ON CONFLICT (user_name, report_id) DO UPDATE SET read_at = excluded.read_at"
                ),
                &crate::pv![&user, fmt(at)],
            )
        })
    }
}
