//! Reference data routes: units, categories and the enumerations the UI needs.

use crate::AppState;
use axum::extract::{Query, State};
use axum::Json;
use jiesu_domain::category::Category;
use jiesu_domain::org::UnitKind;
use jiesu_domain::state::{AssignmentState, Status};
use jiesu_domain::ticket::*;
use jiesu_domain::Role;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize, schemars::JsonSchema)]
pub struct UnitFilter {
    kind: Option<String>,
    parent: Option<String>,
    q: Option<String>,
    dispatchable: Option<bool>,
}

/// `GET /api/v1/units` — public reference data (names and codes of public bodies).
pub async fn units(State(st): State<AppState>, Query(f): Query<UnitFilter>) -> Json<Value> {
    let kind = f.kind.as_deref().and_then(UnitKind::parse);
    let items: Vec<Value> = st
        .org
        .units()
        .iter()
        .filter(|u| kind.is_none_or(|k| u.kind == k))
        .filter(|u| f.parent.as_deref().is_none_or(|p| u.parent.as_deref() == Some(p)))
        .filter(|u| f.q.as_deref().is_none_or(|q| u.name.contains(q) || u.code.starts_with(q)))
        .filter(|u| f.dispatchable.is_none_or(|d| (u.kind.dispatchable() && u.active) == d))
        .map(|u| {
            json!({
                "code": u.code, "name": u.name, "kind": u.kind.as_str(), "kind_label": u.kind.label_zh(),
                "parent": u.parent, "population": u.population,
                "zone": u.zone.map(|z| z.label_zh()), "active": u.active,
                "dispatchable": u.kind.dispatchable() && u.active,
            })
        })
        .collect();
    Json(Value::Array(items))
}

fn cat_node(st: &AppState, c: &Category) -> Value {
    let children: Vec<Value> = st
        .categories
        .children(&c.code)
        .map(|k| cat_node(st, k))
        .collect();
    json!({
        "code": c.code, "name": c.name, "level": c.level,
        "domain": c.domain.map(|d| d.label_zh()), "active": c.active,
        "children": children,
    })
}

/// `GET /api/v1/categories` — the three-level tree.
pub async fn categories(State(st): State<AppState>) -> Json<Value> {
    Json(Value::Array(
        st.categories.roots().map(|c| cat_node(&st, c)).collect(),
    ))
}

fn en(s: &str) -> String {
    let s = s.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => s,
    }
}

macro_rules! list {
    ($t:ty) => {
        <$t>::ALL
            .iter()
            .map(|v| json!({"value": v.as_str(), "label_zh": v.label_zh(), "label_en": en(v.as_str())}))
            .collect::<Vec<_>>()
    };
}

/// `GET /api/v1/enums` — every enumeration on the wire with Chinese and English labels.
pub async fn enums(State(st): State<AppState>) -> Json<Value> {
    Json(json!({
        "time_zone": st.zone.name(),
        "deadline_policy": {"due_soon_share": crate::overview::due_soon_share()},
        "channels": list!(Channel),
        "types": list!(RequestType),
        "tiers": list!(DeadlineTier),
        "roles_in_assignment": list!(AssignmentRole),
        "resolutions": list!(Resolution),
        "satisfactions": list!(Satisfaction),
        "attitudes": list!(Attitude),
        "return_reasons": list!(ReturnReason),
        "special_handlings": list!(SpecialHandling),
        "escalation_levels": list!(EscalationLevel),
        "exempt_reasons": list!(ExemptReason),
        "emergency_services": EmergencyService::ALL.iter().map(|v| json!({"value": v.as_str(), "label_zh": v.label_zh(), "label_en": match v {
            EmergencyService::Police => "110 police",
            EmergencyService::Fire => "119 fire and rescue",
            EmergencyService::Ambulance => "120 ambulance",
            EmergencyService::Traffic => "122 traffic police",
        }})).collect::<Vec<_>>(),
        "transfer_outcomes": list!(TransferOutcome),
        "statuses": list!(Status),
        "assignment_states": list!(AssignmentState),
        "roles": Role::ALL.iter().filter(|r| r.assignable()).map(|v| json!({"value": v.as_str(), "label_zh": v.label_zh(), "label_en": en(v.as_str())})).collect::<Vec<_>>(),
    }))
}

/// Level-1 categories whose topic is over (疫情防控: its knowledge-base articles all expired in
/// 2021): without history they come last, not first, in the empty category search.
const RETIRED_TOPICS: &[&str] = &["01"];

/// The last 30 days in the city's local time, as UTC instants `[from, to)`: from the start of the
/// local day 29 days before today to now. The one place category search computes days.
fn last_30_local_days(
    now: chrono::DateTime<chrono::Utc>,
    zone: jiesu_domain::CityZone,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let first = zone.date(now) - chrono::Duration::days(29);
    (zone.start_of_day(first), now + chrono::Duration::seconds(1))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct CategorySearchQuery {
    q: Option<String>,
    /// How many categories to answer: 1 to 200 (20 when left out or empty).
    #[schemars(extend("pattern" = "^([1-9][0-9]?|1[0-9]{2}|200)?$"))]
    limit: Option<String>,
}

/// How a category's name matched the citizen's words (higher is better).
fn name_match(name: &str, q: &str, expanded: &[String]) -> Option<(u8, String)> {
    if name == q {
        return Some((5, q.to_string()));
    }
    if name.contains(q) {
        return Some((4, q.to_string()));
    }
    // a synonym of the query (or of a word in it)
    if let Some(w) = expanded.iter().skip(1).find(|w| name == w.as_str()) {
        return Some((3, w.clone()));
    }
    if let Some(w) = expanded
        .iter()
        .skip(1)
        .filter(|w| w.chars().count() >= 2)
        .find(|w| name.contains(w.as_str()))
    {
        return Some((2, w.clone()));
    }
    // the query names the category (`小区电梯故障了` ⊃ 电梯故障)
    if name.chars().count() >= 2 && q.contains(name) {
        return Some((2, name.to_string()));
    }
    None
}

/// The query and every synonym of it or of a word in it (`data/synonyms.txt` of the knowledge
/// base), the query first.
fn expand(q: &str) -> Vec<String> {
    let syn = jiesu_kb::text::Synonyms::shipped();
    let mut out = vec![q.to_string()];
    let mut push = |w: &str| {
        if !w.is_empty() && !out.iter().any(|x| x == w) {
            out.push(w.to_string());
        }
    };
    for g in syn.groups() {
        if g.iter()
            .any(|w| w == q || (w.chars().count() >= 2 && q.contains(w.as_str())))
        {
            for w in g {
                push(w);
            }
        }
    }
    let analyzer = jiesu_kb::text::shared_analyzer();
    for t in analyzer.tokens(q) {
        if t.chars().count() >= 2 {
            push(&t);
            if let Some(g) = syn.group_of(&t) {
                for w in syn.words(g) {
                    push(w);
                }
            }
        }
    }
    out
}

/// `GET /api/v1/categories/search?q=噪音&limit=20` — categories whose name holds the citizen's
/// word or a synonym of it (`噪音` finds `社会生活噪声`), leaves first, ranked by match quality
/// then by use in the last 30 days (tickets created, local days); without `q`, the most used
/// leaves of the last 30 days (the tree order when there is no history). Same access as
/// `/categories`.
pub async fn category_search(
    State(st): State<AppState>,
    Query(p): Query<CategorySearchQuery>,
) -> crate::error::ApiResult<Json<Value>> {
    let limit = match p.limit.as_deref().map(str::trim) {
        None | Some("") => 20,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => {
                return Err(crate::error::ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "invalid",
                    format!("limit must be a whole number from 1 to 200, not '{s}'"),
                    format!("limit 应为1至200的整数，而不是“{s}”"),
                )
                .field("limit"))
            }
        },
    };
    let q = p.q.as_deref().map(str::trim).unwrap_or("").to_string();
    if q.chars().count() > 100 {
        return Err(crate::error::ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid",
            "q is longer than 100 characters",
            "查询词超过100字",
        )
        .field("q"));
    }
    let (from, to) = last_30_local_days(st.now(), st.zone);
    let s2 = st.clone();
    let uses: std::collections::HashMap<String, i64> =
        tokio::task::spawn_blocking(move || s2.store.category_use_counts(from, to))
            .await??
            .into_iter()
            .collect();
    let tree = &st.categories;
    let order: std::collections::HashMap<&str, usize> = tree
        .all()
        .iter()
        .enumerate()
        .map(|(i, c)| (c.code.as_str(), i))
        .collect();
    let used = |code: &str| -> i64 {
        // an inner category's use is its leaves'
        uses.iter()
            .filter(|(k, _)| k.starts_with(code))
            .map(|(_, n)| *n)
            .sum()
    };
    let retired = |code: &str| RETIRED_TOPICS.iter().any(|t| code.starts_with(t));
    let item = |c: &Category, matched: Option<&str>, n: i64| {
        json!({
            "code": c.code, "name": c.name, "path": tree.path_label(&c.code), "level": c.level,
            "leaf": tree.is_leaf(&c.code), "matched": matched, "uses_30d": n,
        })
    };
    let (expanded, results): (Vec<String>, Vec<Value>) = if q.is_empty() {
        let mut leaves: Vec<(&Category, i64)> = tree
            .leaves()
            .filter(|c| c.active)
            .map(|c| (c, uses.get(&c.code).copied().unwrap_or(0)))
            .collect();
        leaves.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then(retired(&a.0.code).cmp(&retired(&b.0.code)))
                .then(order[a.0.code.as_str()].cmp(&order[b.0.code.as_str()]))
        });
        let r = leaves
            .into_iter()
            .take(limit)
            .map(|(c, n)| item(c, None, n))
            .collect();
        (Vec::new(), r)
    } else {
        let expanded = expand(&q);
        let mut hits: Vec<(&Category, u8, String, i64)> = tree
            .all()
            .iter()
            .filter(|c| c.active)
            .filter_map(|c| {
                name_match(&c.name, &q, &expanded).map(|(m, w)| (c, m, w, used(&c.code)))
            })
            .collect();
        // a leaf under a matched inner category counts too (`供暖` → 室温不达标 …), below direct
        // matches
        let direct: Vec<String> = hits.iter().map(|h| h.0.code.clone()).collect();
        for c in tree.leaves().filter(|c| c.active) {
            if direct.iter().any(|d| d == &c.code) {
                continue;
            }
            if let Some(h) = hits
                .iter()
                .filter(|h| !tree.is_leaf(&h.0.code) && c.code.starts_with(&h.0.code))
                .max_by_key(|h| h.1)
            {
                let w = h.2.clone();
                hits.push((c, 1, w, uses.get(&c.code).copied().unwrap_or(0)));
            }
        }
        hits.sort_by(|a, b| {
            tree.is_leaf(&b.0.code)
                .cmp(&tree.is_leaf(&a.0.code))
                .then(b.1.cmp(&a.1))
                .then(b.3.cmp(&a.3))
                .then(order[a.0.code.as_str()].cmp(&order[b.0.code.as_str()]))
        });
        let r = hits
            .into_iter()
            .take(limit)
            .map(|(c, _, w, n)| item(c, Some(&w), n))
            .collect();
        (expanded, r)
    };
    Ok(Json(
        json!({"query": q, "expanded": expanded, "results": results}),
    ))
}

#[cfg(test)]
mod tests {
    use super::last_30_local_days;
    use chrono::{TimeZone, Utc};

    #[test]
    fn the_last_30_days_start_at_local_midnight_29_days_before_the_local_today() {
        // 20:10 UTC is 04:10 the next day in Beijing: today is 3 December there
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 20, 10, 0).unwrap();
        let bj = jiesu_domain::CityZone::default();
        let (from, to) = last_30_local_days(now, bj);
        // 4 November 00:00 in Beijing
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 11, 3, 16, 0, 0).unwrap());
        assert!(to > now);
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 15, 59, 0).unwrap();
        let (from, _) = last_30_local_days(now, bj);
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 11, 2, 16, 0, 0).unwrap());
        // in New York 15:59 UTC on 2 December is 10:59 on 2 December: from 3 November, 00:00 EST
        let ny = jiesu_domain::CityZone::parse("America/New_York").unwrap();
        let (from, _) = last_30_local_days(now, ny);
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 11, 3, 5, 0, 0).unwrap());
    }
}
