//! Report subscriptions, in PostgreSQL (the SQLite twin is `sqlite/report_subs.rs`).

use super::*;
use crate::report_subs::{ReportSubscription, ReportSubscriptionStore};
use chrono::{DateTime, Utc};

const COLS: &str = "user_name, kind, webhook_url, cursor, since";

fn row(r: &postgres::Row) -> Result<ReportSubscription> {
    Ok(ReportSubscription {
        user: r.get_str(0)?,
        kind: r.get_str(1)?,
        webhook_url: r.get_opt_str(2)?,
        cursor: r.get_i64(3)?,
        since: crate::time::parse(&r.get_str(4)?).unwrap_or_default(),
    })
}

fn of_user(c: &mut Conn, user: &str) -> Result<Vec<ReportSubscription>> {
    c.query(
        &format!("SELECT {COLS} FROM report_subscriptions WHERE user_name = ?1 ORDER BY kind"),
        &crate::pv![user],
    )?
    .iter()
    .map(row)
    .collect()
}

impl ReportSubscriptionStore for PgStore {
    fn report_subscriptions(&self, user: &str) -> Result<Vec<ReportSubscription>> {
        self.read(|c| of_user(c, user))
    }

    fn set_report_subscriptions(
        &self,
        user: &str,
        subs: &[(String, Option<String>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<ReportSubscription>> {
        let (user, subs) = (user.to_string(), subs.to_vec());
        self.write(move |c: &mut Conn| {
            let had = c.query(
                "SELECT kind FROM report_subscriptions WHERE user_name = ?1",
                &crate::pv![&user],
            )?;
            for r in &had {
                let k = r.get_str(0)?;
                if !subs.iter().any(|(s, _)| *s == k) {
                    c.exec(
                        "DELETE FROM report_subscriptions WHERE user_name = ?1 AND kind = ?2",
                        &crate::pv![&user, &k],
                    )?;
                }
            }
            for (kind, url) in &subs {
                c.exec(
                    "INSERT INTO report_subscriptions (user_name, kind, webhook_url, cursor, since)
                     VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(id), 0) FROM reports), ?4)
                     ON CONFLICT (user_name, kind) DO UPDATE SET webhook_url = excluded.webhook_url",
                    &crate::pv![&user, kind, url, fmt(now)],
                )?;
            }
            of_user(c, &user)
        })
    }

    fn webhook_report_subscriptions(&self) -> Result<Vec<ReportSubscription>> {
        self.read(|c| {
            c.query(
                &format!(
                    "SELECT {COLS} FROM report_subscriptions WHERE webhook_url IS NOT NULL
                     ORDER BY user_name, kind"
                ),
                &crate::pv![],
            )?
            .iter()
            .map(row)
            .collect()
        })
    }

    fn advance_report_subscription(&self, user: &str, kind: &str, cursor: i64) -> Result<()> {
        let (user, kind) = (user.to_string(), kind.to_string());
        self.write(move |c: &mut Conn| {
            c.exec(
                "UPDATE report_subscriptions SET cursor = ?3
                 WHERE user_name = ?1 AND kind = ?2 AND cursor < ?3",
                &crate::pv![&user, &kind, cursor],
            )?;
            Ok(())
        })
    }
}
