//! The calibration statistics of a database (`jiesu stats --json`), computed with SQL over the
//! projections (`tickets`, `assignments`) and the reference tables (`units`, `categories`).
//!
//! Definitions:
//! - `channel_share`, `type_share`, `category_share` (level-1 name): share of all tickets.
//! - `answered_directly_share`: share of all tickets handled without dispatch — answered
//!   directly by the agent (consultations, praise) or given special handling (emergency
//!   transfer, legal route …); `answered_share` and `special_handled_share` split it.
//! - `dispatched_share`: share of all tickets dispatched at least once.
//! - `dispatched_by_unit_type_share`: first dispatches by the kind of their lead unit
//!   (`ecommerce_other` = e-commerce firms and any other kind).
//! - `dispatched_by_district_share`: dispatched tickets by the district of their place.
//! - `resolution_rate` = resolved / valid, `satisfaction_rate` = satisfied / valid, where valid =
//!   tickets whose latest reached callback (the final round's) says the unit contacted the
//!   citizen; `contacted_rate` = valid / reached callbacks.
//! - `dispatch_accuracy`: share of lead dispatches not returned (退单 approved).
//! - `monthly_volume`: tickets per Beijing-time month (`YYYY-MM`).

use anyhow::Result;
use jiesu_store::SqliteStore;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

fn share_map(rows: Vec<(String, i64)>, total: i64) -> Value {
    let mut m = Map::new();
    for (k, n) in rows {
        m.insert(k, json!(round(n as f64 / total.max(1) as f64)));
    }
    Value::Object(m)
}

fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn rows(c: &rusqlite::Connection, sql: &str) -> jiesu_store::Result<Vec<(String, i64)>> {
    let mut s = c.prepare(sql)?;
    let r = s
        .query_map([], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                r.get::<_, i64>(1)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(r)
}

fn one(c: &rusqlite::Connection, sql: &str) -> jiesu_store::Result<i64> {
    Ok(c.query_row(sql, [], |r| r.get::<_, Option<i64>>(0))?
        .unwrap_or(0))
}

/// The calibration statistics as one JSON object (see the module docs for definitions).
pub fn stats(store: &SqliteStore) -> Result<Value> {
    let v = store.read(|c| {
        let total = one(c, "SELECT COUNT(*) FROM tickets")?;
        let channel = rows(c, "SELECT channel, COUNT(*) FROM tickets GROUP BY channel ORDER BY channel")?;
        let types = rows(c, "SELECT type, COUNT(*) FROM tickets GROUP BY type ORDER BY type")?;
        let status = rows(c, "SELECT status, COUNT(*) FROM tickets GROUP BY status ORDER BY status")?;
        let answered = one(c, "SELECT COUNT(*) FROM tickets WHERE answered_directly = 1")?;
        let special = one(c, "SELECT COUNT(*) FROM tickets WHERE special IS NOT NULL")?;
        let dispatched = one(c, "SELECT COUNT(*) FROM tickets WHERE first_dispatched_at IS NOT NULL")?;
        let enterprise = one(c, "SELECT COUNT(*) FROM tickets WHERE enterprise = 1")?;
        let reopened = one(c, "SELECT COUNT(*) FROM tickets WHERE round > 0")?;
        // first dispatch: the lead assignment with the lowest index
        let by_kind = rows(
            c,
            "SELECT u.kind, COUNT(*) FROM
               (SELECT ticket_id, MIN(idx) AS i FROM assignments WHERE role = 'lead' GROUP BY ticket_id) f
               JOIN assignments a ON a.ticket_id = f.ticket_id AND a.idx = f.i
               LEFT JOIN units u ON u.code = a.unit_code
             GROUP BY u.kind ORDER BY u.kind",
        )?;
        let by_district = rows(
            c,
            "SELECT COALESCE(u.name, t.district_code), COUNT(*) FROM tickets t
               LEFT JOIN units u ON u.code = t.district_code
             WHERE t.first_dispatched_at IS NOT NULL GROUP BY t.district_code ORDER BY t.district_code",
        )?;
        let by_category = rows(
            c,
            "SELECT category_code, COUNT(*) FROM tickets GROUP BY category_code ORDER BY category_code",
        )?;
        let categories = rows(c, "SELECT code || char(9) || COALESCE(parent, '') || char(9) || name, level FROM categories")?;
        let leads = one(c, "SELECT COUNT(*) FROM assignments WHERE role = 'lead'")?;
        let returned = one(c, "SELECT COUNT(*) FROM assignments WHERE role = 'lead' AND state = 'returned'")?;
        let reached = one(c, "SELECT COUNT(*) FROM tickets WHERE cb_contacted IS NOT NULL")?;
        let valid = one(c, "SELECT COUNT(*) FROM tickets WHERE cb_contacted = 1")?;
        let resolved = one(c, "SELECT COUNT(*) FROM tickets WHERE cb_contacted = 1 AND cb_resolution = 'resolved'")?;
        let partly = one(c, "SELECT COUNT(*) FROM tickets WHERE cb_contacted = 1 AND cb_resolution = 'partly'")?;
        let satisfied = one(c, "SELECT COUNT(*) FROM tickets WHERE cb_contacted = 1 AND cb_satisfaction = 'satisfied'")?;
        let basic = one(c, "SELECT COUNT(*) FROM tickets WHERE cb_contacted = 1 AND cb_satisfaction = 'basic'")?;
        let rates_by_cat = {
            let mut s = c.prepare(
                "SELECT category_code, COUNT(*),
                        SUM(CASE WHEN cb_resolution = 'resolved' THEN 1 ELSE 0 END),
                        SUM(CASE WHEN cb_satisfaction = 'satisfied' THEN 1 ELSE 0 END)
                 FROM tickets WHERE cb_contacted = 1 GROUP BY category_code ORDER BY category_code",
            )?;
            let r = s
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            r
        };
        let monthly = rows(
            c,
            "SELECT substr(datetime(created_at, '+8 hours'), 1, 7) AS m, COUNT(*) FROM tickets GROUP BY m ORDER BY m",
        )?;
        let sign_on_time = one(
            c,
            "SELECT COUNT(*) FROM assignments WHERE signed_at IS NOT NULL AND signed_at <= sign_deadline",
        )?;
        let signed = one(c, "SELECT COUNT(*) FROM assignments WHERE signed_at IS NOT NULL")?;
        let respond_on_time = one(
            c,
            "SELECT COUNT(*) FROM assignments WHERE responded_at IS NOT NULL AND responded_at <= respond_deadline",
        )?;
        let responded = one(c, "SELECT COUNT(*) FROM assignments WHERE responded_at IS NOT NULL")?;
        let assisted = one(c, "SELECT COUNT(DISTINCT ticket_id) FROM assignments WHERE role = 'assist'")?;

        // level-1 ancestor of every category
        let mut parent: BTreeMap<String, (String, String)> = BTreeMap::new();
        for (row, _) in &categories {
            let mut it = row.split('\t');
            let (code, par, name) = (
                it.next().unwrap_or_default().to_string(),
                it.next().unwrap_or_default().to_string(),
                it.next().unwrap_or_default().to_string(),
            );
            parent.insert(code, (par, name));
        }
        let top_name = |code: &str| -> String {
            let mut cur = code.to_string();
            for _ in 0..8 {
                match parent.get(&cur) {
                    Some((p, name)) if p.is_empty() => return name.clone(),
                    Some((p, _)) => cur = p.clone(),
                    None => break,
                }
            }
            code.to_string()
        };
        let mut cat: BTreeMap<String, i64> = BTreeMap::new();
        for (code, n) in by_category {
            *cat.entry(top_name(&code)).or_default() += n;
        }
        let mut rates: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
        for (code, n, r, s) in &rates_by_cat {
            let e = rates.entry(top_name(code)).or_default();
            e.0 += n;
            e.1 += r;
            e.2 += s;
        }
        let mut kinds: BTreeMap<String, i64> = [
            "district_department",
            "street_town",
            "city_department",
            "state_enterprise",
            "ecommerce_other",
        ]
        .iter()
        .map(|k| (k.to_string(), 0))
        .collect();
        let first_dispatches: i64 = by_kind.iter().map(|x| x.1).sum();
        for (k, n) in by_kind {
            let key = match k.as_str() {
                "district_department" | "street_town" | "city_department" | "state_enterprise" => k,
                _ => "ecommerce_other".to_string(),
            };
            *kinds.entry(key).or_default() += n;
        }
        let f = |a: i64, b: i64| round(a as f64 / b.max(1) as f64);
        Ok(json!({
            "tickets": total,
            "channel_share": share_map(channel, total),
            "type_share": share_map(types, total),
            "answered_directly_share": f(answered + special, total),
            "answered_share": f(answered, total),
            "special_handled_share": f(special, total),
            "dispatched_share": f(dispatched, total),
            "enterprise_share": f(enterprise, total),
            "dispatched_by_unit_type_share": share_map(kinds.into_iter().collect(), first_dispatches),
            "dispatched_by_district_share": share_map(by_district, dispatched),
            "category_share": share_map(cat.into_iter().collect(), total),
            "resolution_rate": f(resolved, valid),
            "partly_resolved_rate": f(partly, valid),
            "satisfaction_rate": f(satisfied, valid),
            "basically_satisfied_rate": f(basic, valid),
            "contacted_rate": f(valid, reached),
            "callbacks_valid": valid,
            "rates_by_category": rates.into_iter().map(|(k, (n, r, s))| (k, json!({
                "valid": n, "resolution_rate": f(r, n), "satisfaction_rate": f(s, n)
            }))).collect::<Map<String, Value>>(),
            "dispatch_accuracy": f(leads - returned, leads),
            "dispatch_accuracy_breakdown": store.dispatch_accuracy()?,
            "returned_share_of_lead_dispatches": f(returned, leads),
            "assisted_share_of_dispatched": f(assisted, dispatched),
            "reopened_share_of_dispatched": f(reopened, dispatched),
            "sign_on_time_rate": f(sign_on_time, signed),
            "respond_on_time_rate": f(respond_on_time, responded),
            "status_count": status.into_iter().map(|(k, n)| (k, json!(n))).collect::<Map<String, Value>>(),
            "monthly_volume": monthly.into_iter().map(|(k, n)| (k, json!(n))).collect::<Map<String, Value>>(),
        }))
    })?;
    Ok(v)
}
