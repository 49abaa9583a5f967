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

#[derive(Deserialize)]
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
pub async fn enums() -> Json<Value> {
    Json(json!({
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
        "statuses": list!(Status),
        "assignment_states": list!(AssignmentState),
        "roles": Role::ALL.iter().filter(|r| r.assignable()).map(|v| json!({"value": v.as_str(), "label_zh": v.label_zh(), "label_en": en(v.as_str())})).collect::<Vec<_>>(),
    }))
}
