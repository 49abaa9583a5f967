//! The data platform's facts, in PostgreSQL: one row per ticket with its lead assignment's
//! clocks (the SQLite twin is `sqlite/analytics.rs`).

use super::*;
use crate::analytics::AnalyticsStore;
use chrono::{DateTime, Timelike, Utc};
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

/// One ticket's fact from a row of the query in [`AnalyticsStore::for_each_ticket_fact`].
fn fact(
    r: &postgres::Row,
    kinds: &HashMap<String, UnitKind>,
    zone: &CityZone,
    now: DateTime<Utc>,
) -> Result<TicketFact> {
    let id = r.get_i64(0)?;
    let created = time(&r.get_str(1)?)?;
    let local = zone.local(created);
    let channel = r.get_str(2)?;
    let rtype = r.get_str(3)?;
    let status = r.get_str(9)?;
    let lead_unit = r.get_str(8)?;
    let first_dispatch = r.get_opt_str(17)?;
    let tier = r.get_opt_str(18)?;
    let signed = r.get_opt_str(19)?;
    let responded = r.get_opt_str(20)?;
    let finished = r.get_opt_str(21)?;
    let deadline = r.get_opt_str(22)?;
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
    let respond_deadline = r.get_opt_str(23)?;
    let responded_in_time = matches!((&responded, &respond_deadline), (Some(r), Some(d)) if r <= d);
    let resolution = r.get_opt_str(15)?;
    let satisfaction = r.get_opt_str(16)?;
    Ok(TicketFact {
        ticket_id: id,
        created_date: local.date(),
        created_hour: local.hour() as u8,
        channel: Channel::parse(&channel).ok_or_else(|| bad("channel", &channel))?,
        request_type: RequestType::parse(&rtype).ok_or_else(|| bad("type", &rtype))?,
        category_code: r.get_str(4)?,
        district_code: r.get_str(5)?,
        street_code: r.get_str(6)?,
        community_code: r.get_str(7)?,
        lead_unit_kind: kinds.get(&lead_unit).copied(),
        lead_unit,
        tier: tier
            .as_deref()
            .map(|t| DeadlineTier::parse(t).ok_or_else(|| bad("tier", t)))
            .transpose()?,
        status: Status::parse(&status).ok_or_else(|| bad("status", &status))?,
        dispatched: start.is_some(),
        answered_directly: r.get_bool(12)?,
        enterprise: r.get_bool(11)?,
        overdue,
        returned: r.get_bool(24)?,
        reopened: r.get_i64(13)? > 0,
        responded_in_time,
        contacted: r.get_opt_i64(14)?.map(|v| v != 0),
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
        requester_hash: r.get_opt_blob(10)?,
    })
}

impl AnalyticsStore for PgStore {
    fn analytics_watermark(&self) -> Result<Option<i64>> {
        self.read(|c| {
            c.query_one("SELECT MAX(pos) FROM events", &[])?
                .get_opt_i64(0)
        })
    }

    fn months_changed_since(&self, pos: i64) -> Result<Vec<String>> {
        self.read(move |c| {
            c.query(
                "SELECT DISTINCT substr(t.created_at, 1, 7) FROM events e JOIN tickets t ON t.id = e.ticket_id
                 WHERE e.pos > ?1 ORDER BY 1",
                &crate::pv![pos],
            )?
            .iter()
            .map(|r| r.get_str(0))
            .collect()
        })
    }

    fn created_range(&self) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        self.read(|c| {
            let r = c.query_one("SELECT MIN(created_at), MAX(created_at) FROM tickets", &[])?;
            match (r.get_opt_str(0)?, r.get_opt_str(1)?) {
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
            let kinds: HashMap<String, UnitKind> = c
                .query("SELECT code, kind FROM units", &[])?
                .iter()
                .map(|r| Ok((r.get_str(0)?, r.get_str(1)?)))
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .filter_map(|(c, k)| UnitKind::parse(&k).map(|k| (c, k)))
                .collect();
            // the lead assignment of the latest round (the highest index with role lead)
            c.for_each(
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
                &crate::pv![fmt(from), fmt(to)],
                &mut |r| f(fact(r, &kinds, &zone, now)?),
            )
        })
    }
}
