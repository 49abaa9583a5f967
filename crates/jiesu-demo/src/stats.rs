//! The calibration statistics of a database (`jiesu stats --json`), computed from the counts the
//! store reads over its projections ([`DemoCounts`]) and the category tree.
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
use jiesu_store::{DemoCounts, Store};
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

/// The calibration statistics as one JSON object (see the module docs for definitions).
pub fn stats(store: &dyn Store) -> Result<Value> {
    let DemoCounts {
        tickets: total,
        by_channel: channel,
        by_type: types,
        by_status: status,
        by_category,
        by_month: monthly,
        answered_directly: answered,
        special_handled: special,
        dispatched,
        enterprise,
        reopened,
        first_dispatch_by_unit_kind: by_kind,
        dispatched_by_district: by_district,
        lead_dispatches: leads,
        lead_returned: returned,
        callbacks_reached: reached,
        callbacks_valid: valid,
        resolved,
        partly_resolved: partly,
        satisfied,
        basically_satisfied: basic,
        callbacks_by_category: rates_by_cat,
        signed,
        signed_on_time: sign_on_time,
        responded,
        responded_on_time: respond_on_time,
        assisted,
    } = store.demo_counts()?;

    // level-1 ancestor of every category
    let mut parent: BTreeMap<String, (String, String)> = BTreeMap::new();
    for c in store.categories()? {
        parent.insert(c.code, (c.parent.unwrap_or_default(), c.name));
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
    for r in &rates_by_cat {
        let e = rates.entry(top_name(&r.category_code)).or_default();
        e.0 += r.valid;
        e.1 += r.resolved;
        e.2 += r.satisfied;
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
        "dispatch_accuracy_breakdown": serde_json::to_value(store.dispatch_accuracy()?)?,
        "returned_share_of_lead_dispatches": f(returned, leads),
        "assisted_share_of_dispatched": f(assisted, dispatched),
        "reopened_share_of_dispatched": f(reopened, dispatched),
        "sign_on_time_rate": f(sign_on_time, signed),
        "respond_on_time_rate": f(respond_on_time, responded),
        "status_count": status.into_iter().map(|(k, n)| (k, json!(n))).collect::<Map<String, Value>>(),
        "monthly_volume": monthly.into_iter().map(|(k, n)| (k, json!(n))).collect::<Map<String, Value>>(),
    }))
}
