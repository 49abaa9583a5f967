//! Report subscriptions, in SQLite (the PostgreSQL twin is `pg/report_subs.rs`).

use super::*;
use crate::report_subs::{ReportSubscription, ReportSubscriptionStore};

const COLS: &str = "user_name, kind, webhook_url, cursor, since";

fn row(r: &rusqlite::Row) -> rusqlite::Result<ReportSubscription> {
    let since: String = r.get(4)?;
    Ok(ReportSubscription {
        user: r.get(0)?,
        kind: r.get(1)?,
        webhook_url: r.get(2)?,
        cursor: r.get(3)?,
        since: crate::time::parse(&since).unwrap_or_default(),
    })
}

impl ReportSubscriptionStore for SqliteStore {
    fn report_subscriptions(&self, user: &str) -> Result<Vec<ReportSubscription>> {
        let user = user.to_string();
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {COLS} FROM report_subscriptions WHERE user_name = ?1 ORDER BY kind"
            ))?;
            let v = s
                .query_map(params![user], row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(v)
        })
    }

    fn set_report_subscriptions(
        &self,
        user: &str,
        subs: &[(String, Option<String>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<ReportSubscription>> {
        let (user, subs) = (user.to_string(), subs.to_vec());
        self.write(move |c| {
            let had: Vec<String> = c
                .prepare("SELECT kind FROM report_subscriptions WHERE user_name = ?1")?
                .query_map(params![user], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for k in had.iter().filter(|k| !subs.iter().any(|(s, _)| s == *k)) {
                c.execute(
                    "DELETE FROM report_subscriptions WHERE user_name = ?1 AND kind = ?2",
                    params![user, k],
                )?;
            }
            for (kind, url) in &subs {
                c.execute(
                    "INSERT INTO report_subscriptions (user_name, kind, webhook_url, cursor, since)
                     VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(id), 0) FROM reports), ?4)
                     ON CONFLICT (user_name, kind) DO UPDATE SET webhook_url = excluded.webhook_url",
                    params![user, kind, url, fmt(now)],
                )?;
            }
            let mut s = c.prepare(&format!(
                "SELECT {COLS} FROM report_subscriptions WHERE user_name = ?1 ORDER BY kind"
            ))?;
            let v = s
                .query_map(params![user], row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(v)
        })
    }

    fn webhook_report_subscriptions(&self) -> Result<Vec<ReportSubscription>> {
        self.read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {COLS} FROM report_subscriptions WHERE webhook_url IS NOT NULL
                 ORDER BY user_name, kind"
            ))?;
            let v = s
                .query_map([], row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(v)
        })
    }

    fn advance_report_subscription(&self, user: &str, kind: &str, cursor: i64) -> Result<()> {
        let (user, kind) = (user.to_string(), kind.to_string());
        self.write(move |c| {
            c.execute(
                "UPDATE report_subscriptions SET cursor = ?3
                 WHERE user_name = ?1 AND kind = ?2 AND cursor < ?3",
                params![user, kind, cursor],
            )?;
            Ok(())
        })
    }
}
