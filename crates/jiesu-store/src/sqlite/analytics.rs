//! The data platform's facts, in SQLite: one row per ticket with its lead assignment's clocks.

use super::*;
use crate::analytics::AnalyticsStore;
use chrono::Timelike;
use jiesu_analytics::TicketFact;
use jiesu_domain::org::UnitKind;
use jiesu_domain::state::Status;
use jiesu_domain::ticket::{Channel, DeadlineTier, RequestType, Resolution, Satisfaction};
use std::collections::HashMap;

fn bad(what: &str, v: &str) -> StoreError {
    StoreError::Db(format!("analytics facts: stored {what} '{v}' is unknown"))
}

fn time(s: &str) -> Result<DateTime<Utc>> {
    crate::time::parse(s).ok_or_else(|| bad("time", s))
}

/// Whole seconds from `from` to `to` (0 if before; saturating).
fn secs(from: DateTime<Utc>, to: Option<&str>) -> Result<Option<u32>> {
    to.map(|t| {
        let s = (time(t)? - from).num_seconds().max(0);
        Ok(u32::try_from(s).unwrap_or(u32::MAX - 1))
    })
    .transpose()
}

impl AnalyticsStore for SqliteStore {
    fn analytics_watermark(&self) -> Result<Option<i64>> {
        self.read(|c| Ok(c.query_row("SELECT MAX(pos) FROM events", [], |r| r.get(0))?))
    }

    fn months_changed_since(&self, pos: i64) -> Result<Vec<String>> {
        self.read(move |c| {
            let mut s = c.prepare(
                "SELECT DISTINCT substr(t.created_at, 1, 7) FROM events e JOIN tickets t ON t.id = e.ticket_id
                 WHERE e.pos > ?1",
            )?;
            let r = s
                .query_map(params![pos], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(r)
        })
    }

    fn created_range(&self) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        self.read(|c| {
            let (a, b): (Option<String>, Option<String>) = c.query_row(
                "SELECT MIN(created_at), MAX(created_at) FROM tickets",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            match (a, b) {
                (Some(a), Some(b)) => Ok(Some((time(&a)?, time(&b)?))),
                _ => Ok(None),
            }
        })
    }

    fn for_each_ticket_fact(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        zone: &CityZone,
        now: DateTime<Utc>,
        f: &mut dyn FnMut(TicketFact) -> Result<()>,
    ) -> Result<u64> {
        let zone = *zone;
        self.read(move |c| {
            let kinds: HashMap<String, UnitKind> = {
                let mut s = c.prepare("SELECT code, kind FROM units")?;
                let r = s
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                r.into_iter()
                    .filter_map(|(c, k)| UnitKind::parse(&k).map(|k| (c, k)))
                    .collect()
            };
            // the lead assignment of the latest round (the highest index with role lead)
            let mut s = c.prepare(
                "SELECT t.id, t.created_at, t.channel, t.type, t.category_code, t.district_code, t.street_code,
                        COALESCE(t.community_code, ''), COALESCE(t.lead_unit, ''), t.status, t.phone_hash,
                        t.enterprise, t.answered_directly, t.round, t.cb_contacted, t.cb_resolution,
                        t.cb_satisfaction, t.first_dispatched_at,
                        a.tier, a.signed_at, a.responded_at, a.finished_at, a.finish_deadline, a.respond_deadline,
                        EXISTS (SELECT 1 FROM assignments r WHERE r.ticket_id = t.id AND r.state = 'returned')
                 FROM tickets t
                 LEFT JOIN assignments a ON a.ticket_id = t.id AND a.idx =
                      (SELECT MAX(x.idx) FROM assignments x WHERE x.ticket_id = t.id AND x.role = 'lead')
                 WHERE t.created_at >= ?1 AND t.created_at < ?2
                 ORDER BY t.id",
            )?;
            let mut rows = s.query(params![fmt(from), fmt(to)])?;
            let mut n = 0;
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let created = time(r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?)?;
                let local = zone.local(created);
                let channel: String = r.get(2)?;
                let rtype: String = r.get(3)?;
                let status: String = r.get(9)?;
                let lead_unit: String = r.get(8)?;
                let first_dispatch: Option<String> = r.get(17)?;
                let tier: Option<String> = r.get(18)?;
                let signed: Option<String> = r.get(19)?;
                let responded: Option<String> = r.get(20)?;
                let finished: Option<String> = r.get(21)?;
                let deadline: Option<String> = r.get(22)?;
                let start = first_dispatch.as_deref().map(time).transpose()?;
                let (to_sign, to_respond, to_finish) = match start {
                    Some(s) => (
                        secs(s, signed.as_deref())?,
                        secs(s, responded.as_deref())?,
                        secs(s, finished.as_deref())?,
                    ),
                    None => (None, None, None),
                };
                let overdue = match (&deadline, &finished) {
                    (Some(d), Some(fin)) => fin > d,
                    (Some(d), None) => fmt(now) > *d && start.is_some(),
                    _ => false,
                };
                let respond_deadline: Option<String> = r.get(23)?;
                let responded_in_time = matches!((&responded, &respond_deadline), (Some(r), Some(d)) if r <= d);
                let resolution: Option<String> = r.get(15)?;
                let satisfaction: Option<String> = r.get(16)?;
                f(TicketFact {
                    ticket_id: id,
                    created_date: local.date(),
                    created_hour: local.hour() as u8,
                    channel: Channel::parse(&channel).ok_or_else(|| bad("channel", &channel))?,
                    request_type: RequestType::parse(&rtype).ok_or_else(|| bad("type", &rtype))?,
                    category_code: r.get(4)?,
                    district_code: r.get(5)?,
                    street_code: r.get(6)?,
                    community_code: r.get(7)?,
                    lead_unit_kind: kinds.get(&lead_unit).copied(),
                    lead_unit,
                    tier: tier
                        .as_deref()
                        .map(|t| DeadlineTier::parse(t).ok_or_else(|| bad("tier", t)))
                        .transpose()?,
                    status: Status::parse(&status).ok_or_else(|| bad("status", &status))?,
                    dispatched: start.is_some(),
                    answered_directly: r.get::<_, i64>(12)? != 0,
                    enterprise: r.get::<_, i64>(11)? != 0,
                    overdue,
                    returned: r.get::<_, i64>(24)? != 0,
                    reopened: r.get::<_, i64>(13)? > 0,
                    responded_in_time,
                    contacted: r.get(14)?,
                    resolution: resolution
                        .as_deref()
                        .map(|v| Resolution::parse(v).ok_or_else(|| bad("resolution", v)))
                        .transpose()?,
                    satisfaction: satisfaction
                        .as_deref()
                        .map(|v| Satisfaction::parse(v).ok_or_else(|| bad("satisfaction", v)))
                        .transpose()?,
                    secs_to_sign: to_sign,
                    secs_to_respond: to_respond,
                    secs_to_finish: to_finish,
                    requester_hash: r.get(10)?,
                })?;
                n += 1;
            }
            Ok(n)
        })
    }
}
