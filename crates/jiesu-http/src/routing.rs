//! Routing and supervision routes: dispatch suggestions with explanations, the duty catalogue
//! (export, import as a draft, lint, what-if, publish), the overdue board, the unit inbox, and the
//! reminder scheduler that runs beside the server.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::tickets::load_visible;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use chrono::{DateTime, Duration, Utc};
use jiesu_domain::auth::{role_may, Actor, Role};
use jiesu_domain::command::{execute, Command};
use jiesu_domain::{ActorRef, AssignmentState, TicketState};
use jiesu_routing::{Catalogue, ClockKey, ClockKind, Emitted, OpenClock, RouteFacts};
use jiesu_store::{StoreError, TicketStore};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

fn require(actor: &Actor, roles: &[Role], what: &str) -> ApiResult<()> {
    crate::auth::require_role(actor, roles.contains(&actor.role), what)
}

const ROUTERS: &[Role] = &[Role::Agent, Role::Dispatcher, Role::Supervisor, Role::Admin];
/// The centre's routing staff: the catalogue, the review queue and dispatch accuracy are theirs.
const CATALOGUE_ADMINS: &[Role] = &[Role::Dispatcher, Role::Supervisor, Role::Admin];

pub fn current_catalogue(st: &AppState) -> Arc<Catalogue> {
    st.catalogue
        .read()
        .map(|c| c.clone())
        .unwrap_or_else(|p| p.into_inner().clone())
}

/// The suggestion for a ticket; units that returned it are skipped (the next suggestion).
pub fn suggest_for(st: &AppState, t: &TicketState, now: DateTime<Utc>) -> Value {
    let cat = current_catalogue(st);
    let s = cat.suggest_in(&RouteFacts::from_intake(&t.intake), now, &st.org, st.zone);
    let returned: Vec<&str> = t
        .assignments
        .iter()
        .filter(|a| a.state == AssignmentState::Returned)
        .map(|a| a.unit.as_str())
        .collect();
    let mut v = serde_json::to_value(&s).unwrap_or(Value::Null);
    let on = st.zone.date(now);
    if let Some(rule) = &s.rule_id {
        v["words"] = words(st, &cat, rule, on, &t.intake.category_code, &s.assignments);
    }
    if !returned.is_empty() {
        v["returned_units"] = json!(returned);
        let next = s.next_after(&returned);
        v["next"] = serde_json::to_value(&next).unwrap_or(Value::Null);
        if let Some(n) = &next {
            v["next"]["words"] = words(
                st,
                &cat,
                &n.rule_id,
                on,
                &t.intake.category_code,
                &n.assignments,
            );
        }
    }
    v["catalogue_rules"] = json!(cat.len());
    v
}

/// The suggestion in words for the dispatcher (派单依据), e.g. `按派单目录：供暖 › 集中供热 → 热力集团`:
/// the category path the rule covers (its prefix; the ticket's own category when the rule covers
/// every category), then the lead unit and the assisting units by name. The rule id stays a
/// secondary detail (`rule_id`). `{zh, en}`.
fn words(
    st: &AppState,
    cat: &jiesu_routing::Catalogue,
    rule_id: &str,
    on: chrono::NaiveDate,
    ticket_category: &str,
    assignments: &[jiesu_routing::SuggestedAssignment],
) -> Value {
    let prefix = cat
        .get(rule_id, on)
        .map(|r| r.category_prefix.clone())
        .filter(|p| st.categories.get(p).is_some())
        .unwrap_or_else(|| ticket_category.to_string());
    let path = st.categories.path_label(&prefix);
    let lead: Vec<&str> = assignments
        .iter()
        .filter(|a| a.role == jiesu_domain::ticket::AssignmentRole::Lead)
        .map(|a| a.unit_name.as_str())
        .collect();
    let assists: Vec<&str> = assignments
        .iter()
        .filter(|a| a.role != jiesu_domain::ticket::AssignmentRole::Lead)
        .map(|a| a.unit_name.as_str())
        .collect();
    let mut zh = format!("按派单目录：{path} → {}", lead.join("、"));
    let mut en = format!("By the duty catalogue: {path} → {}", lead.join(", "));
    if !assists.is_empty() {
        zh.push_str(&format!("（协办：{}）", assists.join("、")));
        en.push_str(&format!(" (assisted by {})", assists.join(", ")));
    }
    json!({"zh": zh, "en": en})
}

/// `GET /api/v1/tickets/{id}/route` — the engine's proposal with its explanation.
pub async fn route(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, ROUTERS, "route")?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let (t, _) = load_visible(&st, &actor, id).await?;
    Ok(axum::Json(suggest_for(&st, &t, st.now())))
}

/// One rule version as the catalogue pages show it (with its editable columns in `fields`).
fn rule_json(st: &AppState, r: &jiesu_routing::Rule) -> Value {
    let (scope_zh, scope_en) = r.scope_text();
    json!({"id": r.id, "category_prefix": r.category_prefix,
           "category": st.categories.get(&r.category_prefix).map(|c| st.categories.path_label(&c.code)),
           "place": r.place.to_field(), "scope_zh": scope_zh, "scope_en": scope_en,
           "keywords": r.keywords, "enterprise": r.enterprise, "priority": r.priority,
           "assignments": r.assignments_field(), "tier": r.tier.as_str(),
           "effective_from": r.effective_from, "effective_to": r.effective_to, "note": r.note,
           "fields": jiesu_routing::edit::RuleFields::of(r)})
}

/// `GET /api/v1/catalogue` — the published version, the newest draft and the history.
pub async fn catalogue_info(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, ROUTERS, "catalogue")?;
    let s2 = st.clone();
    let (hist, draft) = tokio::task::spawn_blocking(move || -> jiesu_store::Result<_> {
        Ok((s2.store.catalogue_history()?, s2.store.catalogue("draft")?))
    })
    .await??;
    let cat = current_catalogue(&st);
    let on = st.today();
    let rules: Vec<Value> = cat
        .active_on(on)
        .take(2000)
        .map(|r| rule_json(&st, r))
        .collect();
    Ok(axum::Json(json!({
        "published_rules": cat.len(),
        "rules": rules,
        "draft": draft.map(|d| json!({"version": d.version, "rules": d.rules, "created_at": d.created_at, "created_by": d.created_by, "note": d.note})),
        "history": hist,
    })))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    version: Option<String>,
}

/// `GET /api/v1/catalogue/export.csv[?version=draft]`
pub async fn export_csv(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ExportQuery>,
) -> ApiResult<impl IntoResponse> {
    require(&actor, ROUTERS, "catalogue")?;
    let csv = catalogue_csv(&st, &q).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"catalogue.csv\"",
            ),
        ],
        csv,
    ))
}

/// The CSV of the catalogue in force, or of the draft with `?version=draft`.
async fn catalogue_csv(st: &AppState, q: &ExportQuery) -> ApiResult<String> {
    Ok(if q.version.as_deref() == Some("draft") {
        let s2 = st.clone();
        tokio::task::spawn_blocking(move || s2.store.catalogue("draft"))
            .await??
            .map(|d| d.csv)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "there is no draft catalogue",
                    "没有草稿目录",
                )
            })?
    } else {
        current_catalogue(st).to_csv()
    })
}

/// `POST /api/v1/catalogue/import` (body: the CSV, or an xlsx workbook) — stored as a draft if it is valid; otherwise a
/// 422 listing every problem with its line, and nothing changes.
pub async fn import_csv(
    State(st): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, CATALOGUE_ADMINS, "catalogue-import")?;
    // The body may be CSV text or an xlsx workbook (recognised by its zip signature).
    let converted;
    let body: &[u8] = if crate::xlsx::is_xlsx(&body) {
        converted = crate::xlsx::xlsx_to_csv(&body).map_err(|e| {
            let mut err = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "catalogue_rejected",
                e.to_string(),
                "派单目录导入被拒绝：无法读取 xlsx 文件，未做任何更改",
            );
            err.field = Some("file".into());
            err
        })?;
        converted.as_bytes()
    } else {
        &body
    };
    let cat = Catalogue::from_csv(body, &st.org, &st.categories).map_err(|r| {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "catalogue_rejected",
            r.to_string(),
            "派单目录导入被拒绝，未做任何更改",
        );
        e.field = Some("csv".into());
        e
    })?;
    let (s2, user, now) = (st.clone(), actor.user.clone(), st.now());
    let csv = cat.to_csv();
    let n = cat.len();
    let version = tokio::task::spawn_blocking(move || {
        s2.store.save_catalogue("draft", &csv, n, &user, None, now)
    })
    .await??;
    let lint = jiesu_routing::lint(&cat, &st.org, &st.categories, st.now(), st.zone);
    Ok(axum::Json(
        json!({"version": version, "status": "draft", "rules": n, "lint": lint}),
    ))
}

/// `GET /api/v1/catalogue/drafts/{version}/rules` — every rule version of a draft (`{version}`
/// may be `draft` for the newest one, or `published`), with its columns as the editor shows them.
pub async fn draft_rules(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(version): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, ROUTERS, "catalogue")?;
    let (cat, version) = match version.as_str() {
        "published" => (current_catalogue(&st), None),
        v => {
            let s2 = st.clone();
            let newest = tokio::task::spawn_blocking(move || s2.store.catalogue("draft"))
                .await??
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        "not_found",
                        "there is no draft catalogue",
                        "没有草稿目录",
                    )
                })?;
            if v != "draft" && v.parse::<i64>().ok() != Some(newest.version) {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("draft {v} is not the current draft (v{})", newest.version),
                    format!("草稿 {v} 不是当前草稿（当前为 v{}）", newest.version),
                ));
            }
            let n = newest.version;
            (Arc::new(load_draft(&st, n).await?), Some(n))
        }
    };
    let rules: Vec<Value> = cat.rules().iter().map(|r| rule_json(&st, r)).collect();
    Ok(axum::Json(json!({"version": version, "rules": rules})))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct EditBody {
    /// The draft version the editor was looking at (`null` when there was none): an edit made
    /// against an older draft is refused rather than silently undoing somebody else's.
    base_version: Option<i64>,
    /// `{op: upsert, rule, replaces?}` or `{op: remove, key}`.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    edit: jiesu_routing::edit::RuleEdit,
}

/// `POST /api/v1/catalogue/draft/edit` — adds, changes or removes one rule version of the draft
/// (a draft copied from the catalogue in force when there is none). The rule is checked like a
/// file row; the result is stored as the new draft version, or refused with every problem named
/// by rule, and nothing changes.
pub async fn edit_draft(
    State(st): State<AppState>,
    Caller(actor): Caller,
    body: Result<axum::Json<EditBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, CATALOGUE_ADMINS, "catalogue-edit")?;
    let axum::Json(body) = body.map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("the edit is not understood: {}", e.body_text()),
            "无法识别的目录修改请求",
        )
        .field("edit")
    })?;
    let s2 = st.clone();
    let newest = tokio::task::spawn_blocking(move || s2.store.catalogue("draft")).await??;
    let current = newest.as_ref().map(|d| d.version);
    if current != body.base_version {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "draft_changed",
            format!(
                "the draft has changed since it was loaded (now {}); reload and edit again",
                current.map_or("none".to_string(), |v| format!("v{v}"))
            ),
            "草稿已被他人修改，请刷新后重新编辑",
        ));
    }
    let base = match current {
        Some(v) => Arc::new(load_draft(&st, v).await?),
        None => current_catalogue(&st),
    };
    let edited = jiesu_routing::edit::apply_edit(&base, &body.edit, &st.org, &st.categories)
        .map_err(|problems| {
            let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
            let mut e = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "catalogue_rejected",
                format!("the rule was not saved: {}", lines.join("; ")),
                format!("规则未保存：{}", lines.join("；")),
            );
            e.field = problems.first().and_then(|p| p.column.clone());
            e.extra = Some(json!({"problems": problems}));
            e
        })?;
    let note = match &body.edit {
        jiesu_routing::edit::RuleEdit::Upsert { rule, .. } => {
            format!("edited rule {}", rule.id.trim())
        }
        jiesu_routing::edit::RuleEdit::Remove { key } => {
            format!("removed rule {} from {}", key.id, key.effective_from)
        }
    };
    let (s2, user, now) = (st.clone(), actor.user.clone(), st.now());
    let csv = edited.to_csv();
    let n = edited.len();
    let version = tokio::task::spawn_blocking(move || {
        s2.store
            .save_catalogue("draft", &csv, n, &user, Some(&note), now)
    })
    .await??;
    let lint = jiesu_routing::lint(&edited, &st.org, &st.categories, st.now(), st.zone);
    Ok(axum::Json(
        json!({"version": version, "status": "draft", "rules": n, "lint": lint}),
    ))
}

/// `GET /api/v1/catalogue/lint` — conflicts, gaps and rules pointing at retired units.
pub async fn lint(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, ROUTERS, "catalogue")?;
    let cat = current_catalogue(&st);
    let st2 = st.clone();
    let rep = tokio::task::spawn_blocking(move || {
        jiesu_routing::lint(&cat, &st2.org, &st2.categories, st2.now(), st2.zone)
    })
    .await?;
    Ok(axum::Json(
        serde_json::to_value(&rep).unwrap_or(Value::Null),
    ))
}

#[derive(Deserialize)]
pub struct WhatIfQuery {
    months: Option<u32>,
}

async fn load_draft(st: &AppState, version: i64) -> ApiResult<Catalogue> {
    let s2 = st.clone();
    let d = tokio::task::spawn_blocking(move || s2.store.catalogue("draft"))
        .await??
        .filter(|d| d.version == version)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no draft catalogue version {version}"),
                "草稿目录不存在",
            )
        })?;
    Catalogue::from_csv(d.csv.as_bytes(), &st.org, &st.categories).map_err(|r| {
        ApiError::new(
            StatusCode::CONFLICT,
            "catalogue_rejected",
            r.to_string(),
            "草稿目录已不再有效",
        )
    })
}

/// Replays the last N months of dispatched tickets under a draft: who gains and loses load.
pub fn whatif_report(
    store: &dyn TicketStore,
    current: &Catalogue,
    draft: &Catalogue,
    org: &jiesu_domain::org::OrgTree,
    now: DateTime<Utc>,
    zone: jiesu_domain::CityZone,
    months: u32,
) -> jiesu_store::Result<jiesu_routing::WhatIfReport> {
    let from = now - Duration::days(30 * months as i64);
    let mut ids = Vec::new();
    store.for_each_fact(from, now, &mut |f| {
        if f.role == "lead" && ids.last() != Some(&f.ticket_id) {
            ids.push(f.ticket_id);
        }
        Ok(())
    })?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some((t, _)) = store.load_ticket(id)? {
            let actual = t
                .assignments
                .iter()
                .find(|a| a.role == jiesu_domain::ticket::AssignmentRole::Lead)
                .map(|a| a.unit.clone());
            items.push((RouteFacts::from_intake(&t.intake), actual));
        }
    }
    Ok(jiesu_routing::whatif(current, draft, items, org, now, zone))
}

/// `GET /api/v1/catalogue/drafts/{version}/whatif?months=1`
pub async fn whatif(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(version): Path<i64>,
    Query(q): Query<WhatIfQuery>,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, CATALOGUE_ADMINS, "catalogue-whatif")?;
    let draft = load_draft(&st, version).await?;
    let months = q.months.unwrap_or(1).clamp(1, 24);
    let cur = current_catalogue(&st);
    let s2 = st.clone();
    let rep = tokio::task::spawn_blocking(move || {
        whatif_report(
            s2.store.as_ref(),
            &cur,
            &draft,
            &s2.org,
            s2.now(),
            s2.zone,
            months,
        )
    })
    .await??;
    let text = rep.to_string();
    let mut v = serde_json::to_value(&rep).unwrap_or(Value::Null);
    v["summary"] = json!(text);
    Ok(axum::Json(v))
}

/// `POST /api/v1/catalogue/drafts/{version}/publish` — the draft becomes the catalogue in force.
pub async fn publish(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(version): Path<i64>,
) -> ApiResult<axum::Json<Value>> {
    require(
        &actor,
        &[Role::Supervisor, Role::Admin],
        "catalogue-publish",
    )?;
    let draft = load_draft(&st, version).await?;
    let s2 = st.clone();
    tokio::task::spawn_blocking(move || s2.store.publish_catalogue(version)).await??;
    let n = draft.len();
    if let Ok(mut c) = st.catalogue.write() {
        *c = Arc::new(draft);
    }
    Ok(axum::Json(
        json!({"version": version, "status": "published", "rules": n}),
    ))
}

fn ageing_bucket(hours: i64) -> &'static str {
    match hours {
        h if h < 24 => "lt_1d",
        h if h < 72 => "d1_3",
        h if h < 168 => "d3_7",
        _ => "gt_7d",
    }
}

/// `GET /api/v1/supervision/overdue` — overdue assignments by unit and by district, with ageing.
pub async fn overdue_board(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    crate::auth::require_role(
        &actor,
        actor.role.is_centre() || actor.role == Role::UnitManager,
        "supervision",
    )?;
    let now = st.now();
    let s2 = st.clone();
    let a2 = actor.clone();
    let rows = tokio::task::spawn_blocking(
        move || -> jiesu_store::Result<Vec<(String, String, String, i64)>> {
            let mut out = Vec::new();
            s2.store.open_assignments(&mut |a| {
                if !a2.covers(&a.unit_code, &s2.org) {
                    return Ok(());
                }
                if let Some(due) = jiesu_store::time::parse(&a.finish_deadline) {
                    if due < now {
                        out.push((
                            a.unit_code,
                            a.district_code,
                            a.role,
                            (now - due).num_hours(),
                        ));
                    }
                }
                Ok(())
            })?;
            Ok(out)
        },
    )
    .await??;
    let mut by_unit: std::collections::BTreeMap<String, (u64, [u64; 4], i64)> = Default::default();
    let mut by_district: std::collections::BTreeMap<String, (u64, [u64; 4])> = Default::default();
    for (unit, district, _role, hours) in &rows {
        let b = match ageing_bucket(*hours) {
            "lt_1d" => 0,
            "d1_3" => 1,
            "d3_7" => 2,
            _ => 3,
        };
        let e = by_unit.entry(unit.clone()).or_default();
        e.0 += 1;
        e.1[b] += 1;
        e.2 = e.2.max(*hours);
        let d = by_district.entry(district.clone()).or_default();
        d.0 += 1;
        d.1[b] += 1;
    }
    let name = |c: &str| st.org.get(c).map(|u| u.name.clone());
    let mut units: Vec<Value> = by_unit
        .iter()
        .map(|(u, (n, b, max))| json!({"unit_code": u, "unit_name": name(u), "kind": st.org.get(u).map(|x| x.kind.as_str()),
                                       "overdue": n, "lt_1d": b[0], "d1_3": b[1], "d3_7": b[2], "gt_7d": b[3], "oldest_hours": max}))
        .collect();
    units.sort_by(|a, b| b["overdue"].as_u64().cmp(&a["overdue"].as_u64()));
    let districts: Vec<Value> = by_district
        .iter()
        .map(|(d, (n, b))| json!({"district_code": d, "district_name": name(d), "overdue": n, "lt_1d": b[0], "d1_3": b[1], "d3_7": b[2], "gt_7d": b[3]}))
        .collect();
    Ok(axum::Json(
        json!({"at": now, "total": rows.len(), "units": units, "districts": districts}),
    ))
}

fn supervision_role(actor: &Actor) -> ApiResult<()> {
    crate::auth::require_role(
        actor,
        actor.role.is_centre() || actor.role == Role::UnitManager,
        "supervision",
    )
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct UrgeBody {
    /// Units whose overdue lead assignments are urged (the board's selected rows).
    #[serde(default)]
    units: Vec<String>,
    /// Or these tickets (their active lead assignment).
    #[serde(default)]
    tickets: Vec<i64>,
    note: String,
}

/// `POST /api/v1/supervision/remind` — 批量催办: urges every overdue lead assignment of the chosen
/// units (or the chosen tickets) at once; each becomes an `urged` event on its ticket and an item
/// in the unit's inbox. Answers how many were urged and which ticket numbers.
pub async fn remind_bulk(
    State(st): State<AppState>,
    Caller(actor): Caller,
    body: Result<axum::Json<UrgeBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<axum::Json<Value>> {
    crate::auth::require_role(&actor, role_may(actor.role, "urge"), "urge")?;
    let axum::Json(b) = body.map_err(|e| {
        ApiError::invalid(
            "body",
            format!("the request is not understood: {}", e.body_text()),
            "请求格式错误",
        )
    })?;
    let note = b.note.trim().to_string();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(ApiError::invalid(
            "note",
            "a note of 1 to 500 characters is required",
            "请填写催办说明（1–500 字）",
        ));
    }
    if b.units.is_empty() && b.tickets.is_empty() {
        return Err(ApiError::invalid(
            "units",
            "choose at least one unit or ticket",
            "请至少选择一个单位或工单",
        ));
    }
    for u in &b.units {
        if st.org.get(u).is_none() {
            return Err(ApiError::invalid(
                "units",
                format!("unknown unit '{u}'"),
                format!("单位“{u}”不存在"),
            ));
        }
    }
    let now = st.now();
    let s2 = st.clone();
    let who = ActorRef {
        user: actor.user.clone(),
        role: actor.role,
        unit: actor.unit.clone(),
    };
    let (urged, skipped) = tokio::task::spawn_blocking(
        move || -> jiesu_store::Result<(Vec<(i64, String)>, usize)> {
            let units: std::collections::HashSet<&str> =
                b.units.iter().map(String::as_str).collect();
            let mut targets: Vec<(i64, String)> = Vec::new();
            if !units.is_empty() {
                s2.store.open_assignments(&mut |a| {
                    let overdue =
                        jiesu_store::time::parse(&a.finish_deadline).is_some_and(|due| due < now);
                    if overdue && a.role == "lead" && units.contains(a.unit_code.as_str()) {
                        targets.push((a.ticket_id, a.unit_code));
                    }
                    Ok(())
                })?;
            }
            for id in &b.tickets {
                if let Some((t, _)) = s2.store.load_ticket(*id)? {
                    if let Some(a) = t.assignments.iter().find(|a| {
                        a.state.active() && a.role == jiesu_domain::ticket::AssignmentRole::Lead
                    }) {
                        targets.push((*id, a.unit.clone()));
                    }
                }
            }
            targets.sort();
            targets.dedup();
            let mut urged = Vec::new();
            let mut skipped = 0;
            for (id, unit) in targets {
                let cmd = Command::Urge {
                    unit: unit.clone(),
                    note: note.clone(),
                };
                let w = who.clone();
                match s2.store.update_ticket(
                    id,
                    Box::new(move |t: &mut TicketState| Ok(execute(t, &cmd, &w, now)?)),
                ) {
                    Ok((t, _)) => urged.push((id, t.number.clone())),
                    Err(StoreError::Domain(_)) => skipped += 1, // finished meanwhile
                    Err(e) => return Err(e),
                }
            }
            Ok((urged, skipped))
        },
    )
    .await??;
    Ok(axum::Json(json!({
        "urged": urged.len(),
        "skipped": skipped,
        "tickets": urged.iter().map(|(id, n)| json!({"id": id, "number": n})).collect::<Vec<_>>(),
    })))
}

fn clock_json(due: DateTime<Utc>, start: DateTime<Utc>, now: DateTime<Utc>) -> Value {
    let state =
        jiesu_routing::clock_state(due, None, now, start, jiesu_routing::DueSoon::default());
    json!({"due": due, "state": state.as_str(), "state_label": state.label_zh()})
}

/// `GET /api/v1/supervision/reviews` — 审核队列: every pending return (退单) and extension (延期)
/// request with the centre's own review deadline (policy `review`), the most urgent first.
pub async fn review_queue(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, CATALOGUE_ADMINS, "review-queue")?;
    let now = st.now();
    let s2 = st.clone();
    let tickets = tokio::task::spawn_blocking(move || -> jiesu_store::Result<Vec<TicketState>> {
        let mut out = Vec::new();
        for id in s2.store.pending_review_tickets()? {
            if let Some((t, _)) = s2.store.load_ticket(id)? {
                out.push(t);
            }
        }
        Ok(out)
    })
    .await??;
    let mut items: Vec<(DateTime<Utc>, Value)> = Vec::new();
    for t in &tickets {
        for a in t.assignments.iter().filter(|a| a.state.active()) {
            let mut push = |kind: jiesu_routing::ReviewKind, at: DateTime<Utc>, detail: Value| {
                let due = st.policy.review_due(kind, at, &st.calendar);
                items.push((
                    due,
                    json!({
                        "ticket_id": t.id, "number": t.number, "title": t.intake.title,
                        "status": t.status.as_str(),
                        "category_path": st.categories.path_label(&t.intake.category_code),
                        "district_name": crate::views::unit_name(&st, &t.intake.place.district_code),
                        "unit_code": a.unit, "unit_name": crate::views::unit_name(&st, &a.unit),
                        "role": a.role.as_str(),
                        "kind": match kind { jiesu_routing::ReviewKind::Return => "return", jiesu_routing::ReviewKind::Extension => "extension" },
                        "requested_at": at, "review": clock_json(due, at, now),
                        "detail": detail,
                    }),
                ));
            };
            if let Some(r) = &a.pending_return {
                push(
                    jiesu_routing::ReviewKind::Return,
                    r.at,
                    json!({"reason": r.reason.as_str(), "reason_label": r.reason.label_zh(), "text": r.text}),
                );
            }
            if let Some(x) = &a.pending_extension {
                push(
                    jiesu_routing::ReviewKind::Extension,
                    x.at,
                    json!({"until": x.until, "reason": x.reason, "finish_due": a.deadlines.finish}),
                );
            }
        }
    }
    items.sort_by_key(|(due, _)| *due);
    let overdue = items.iter().filter(|(d, _)| *d < now).count();
    Ok(axum::Json(json!({
        "at": now, "total": items.len(), "overdue": overdue,
        "policy": {"return_review": st.policy.review.return_review, "extension_review": st.policy.review.extension_review},
        "items": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/supervision/escalations` — 提级响应 tracking: escalated tickets (newest first, at
/// most 500) with each escalation, where the ticket stands now, the lead unit's finish clock and
/// whether the escalated matter is still open.
pub async fn escalations(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    supervision_role(&actor)?;
    let now = st.now();
    let s2 = st.clone();
    let a2 = actor.clone();
    let tickets = tokio::task::spawn_blocking(move || -> jiesu_store::Result<Vec<TicketState>> {
        let mut out = Vec::new();
        for id in s2.store.escalated_tickets(500)? {
            if let Some((t, _)) = s2.store.load_ticket(id)? {
                if jiesu_domain::auth::can_view(&a2, &t, &s2.org) {
                    out.push(t);
                }
            }
        }
        Ok(out)
    })
    .await??;
    use jiesu_domain::Status as S;
    let mut open = 0;
    let items: Vec<Value> = tickets
        .iter()
        .map(|t| {
            let settled = matches!(
                t.status,
                S::ResultSubmitted | S::CallbackDone | S::Closed | S::Archived | S::Merged | S::Answered | S::SpecialHandled
            );
            if !settled {
                open += 1;
            }
            let lead = t
                .assignments
                .iter()
                .rev()
                .find(|a| a.role == jiesu_domain::ticket::AssignmentRole::Lead && a.state != AssignmentState::Returned);
            let last = t.escalations.last().map(|e| e.at);
            json!({
                "ticket_id": t.id, "number": t.number, "title": t.intake.title,
                "status": t.status.as_str(), "status_label": t.status.label_zh(),
                "district_name": crate::views::unit_name(&st, &t.intake.place.district_code),
                "open": !settled,
                "hours_since": last.map(|l| (now - l).num_hours()),
                "lead": lead.map(|a| json!({
                    "unit_code": a.unit, "unit_name": crate::views::unit_name(&st, &a.unit),
                    "state": a.state.as_str(), "state_label": a.state.label_zh(),
                    "finish": if a.state.active() { clock_json(a.deadlines.finish, a.dispatched_at, now) } else { json!({"due": a.deadlines.finish, "done_at": a.finished_at}) },
                })),
                "escalations": t.escalations.iter().map(|e| json!({
                    "level": e.level.as_str(), "level_label": e.level.label_zh(),
                    "to_unit": e.to_unit, "to_unit_name": e.to_unit.as_deref().and_then(|u| crate::views::unit_name(&st, u)),
                    "reason": e.reason, "at": e.at,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(axum::Json(
        json!({"at": now, "total": items.len(), "open": open, "items": items}),
    ))
}

/// `GET /api/v1/inbox` — a unit's reminders and overdue notices, newest first.
pub async fn inbox(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    let units: Vec<String> = match &actor.unit {
        Some(u) => {
            let mut out = vec![u.clone()];
            let mut i = 0;
            while i < out.len() {
                let kids: Vec<String> = st
                    .org
                    .children(&out[i])
                    .filter(|k| k.kind.dispatchable())
                    .map(|k| k.code.clone())
                    .collect();
                out.extend(kids);
                i += 1;
            }
            out
        }
        None => return Ok(axum::Json(json!({"items": []}))),
    };
    let s2 = st.clone();
    let ev = tokio::task::spawn_blocking(move || {
        s2.store.unit_events(&units, &["reminded", "urged"], 100)
    })
    .await??;
    let items: Vec<Value> = ev
        .into_iter()
        .map(|(id, number, e)| {
            let mut v = crate::views::event_view(&st, &e, false);
            v["ticket_id"] = json!(id);
            v["number"] = json!(number);
            v
        })
        .collect();
    Ok(axum::Json(json!({"items": items})))
}

fn clock_kind(s: &str) -> ClockKind {
    match s {
        "sign" => ClockKind::Sign,
        "respond" => ClockKind::Respond,
        _ => ClockKind::Finish,
    }
}

/// One scheduler pass: every threshold passed by an open clock becomes a `reminded` event, exactly
/// once (the domain refuses a reminder already recorded, inside the write transaction, so restarts
/// and overlapping passes cannot duplicate; missed thresholds after downtime are all caught up).
pub fn scheduler_pass(st: &AppState, now: DateTime<Utc>) -> jiesu_store::Result<usize> {
    let mut clocks = Vec::new();
    // Clocks that count working time: their thresholds are fractions of the working time (each
    // seen through `OpenClock::in_working_time`, with its own mapped `now`).
    let mut working: Vec<OpenClock> = Vec::new();
    let mut marks = Vec::new();
    st.store.open_assignments(&mut |a| {
        let start = jiesu_store::time::parse(&a.dispatched_at).unwrap_or(now);
        let tier = jiesu_domain::ticket::DeadlineTier::parse(&a.tier);
        for (clock, due, done) in [
            (
                "sign",
                &a.sign_deadline,
                a.signed_at.is_some() || a.state != "dispatched",
            ),
            (
                "respond",
                &a.respond_deadline,
                a.responded_at.is_some() || a.state == "responded",
            ),
            ("finish", &a.finish_deadline, false),
        ] {
            if done {
                continue;
            }
            let epoch = if clock == "finish" {
                a.extensions_granted
            } else {
                0
            };
            let key = ClockKey {
                ticket: a.ticket_id,
                unit: a.unit_code.clone(),
                clock: clock_kind(clock),
                epoch,
            };
            if let Some((e, n)) = a.reminders.get(clock) {
                if *e == epoch && *n > 0 {
                    marks.push((key.clone(), n - 1));
                }
            }
            if let Some(due) = jiesu_store::time::parse(due) {
                let basis = tier.map(|t| {
                    st.policy
                        .clock_basis(t, &a.unit_code, &a.category_code, clock_kind(clock))
                });
                let c = OpenClock { key, start, due };
                if basis == Some(jiesu_routing::TimeBasis::Working) {
                    working.push(c);
                } else {
                    clocks.push(c);
                }
            }
        }
        Ok(())
    })?;
    let emitted = Emitted::from_events(marks);
    let mut due = jiesu_routing::due_reminders(&clocks, &emitted, &st.thresholds, now);
    if !working.is_empty() {
        // One timeline of working seconds for the whole pass (O(1) per instant).
        let local = |t: DateTime<Utc>| st.calendar.local_date(t);
        let first = working.iter().map(|c| c.start).min().unwrap_or(now);
        let last = working.iter().map(|c| c.due).max().unwrap_or(now).max(now);
        let tl = jiesu_routing::WorkingTimeline::new(&st.calendar, local(first), local(last));
        for c in &working {
            let (m, n) = c.in_working_time_on(&tl, now);
            due.extend(jiesu_routing::due_reminders(
                std::slice::from_ref(&m),
                &emitted,
                &st.thresholds,
                n,
            ));
        }
    }
    let mut written = 0;
    for r in due {
        let cmd = Command::Remind {
            unit: r.unit.clone(),
            clock: r.clock.as_str().to_string(),
            epoch: r.epoch,
            index: r.threshold_index,
            permille: (r.threshold * 1000.0).round() as u32,
            overdue: r.overdue,
        };
        let actor = ActorRef {
            user: "scheduler".into(),
            role: Role::System,
            unit: Some(r.unit.clone()),
        };
        match st.store.update_ticket(
            r.ticket,
            Box::new(move |t: &mut TicketState| Ok(execute(t, &cmd, &actor, now)?)),
        ) {
            Ok(_) => written += 1,
            Err(StoreError::Domain(_)) => {} // already recorded, or the clock was met meanwhile
            Err(e) => return Err(e),
        }
    }
    Ok(written)
}

/// Runs the scheduler every `every` in the background (first pass at start-up: catch-up).
pub fn spawn_scheduler(st: AppState, every: std::time::Duration) {
    tokio::spawn(async move {
        loop {
            let s2 = st.clone();
            match tokio::task::spawn_blocking(move || scheduler_pass(&s2, s2.now())).await {
                Ok(Ok(n)) if n > 0 => tracing::info!("scheduler: {n} reminder events"),
                Ok(Err(e)) => tracing::warn!("scheduler pass failed: {e}"),
                _ => {}
            }
            tokio::time::sleep(every).await;
        }
    });
}

/// `GET /api/v1/supervision/dispatch-accuracy` — overall and by dispatcher, rule, category, unit.
pub async fn dispatch_accuracy(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, CATALOGUE_ADMINS, "dispatch-accuracy")?;
    let s2 = st.clone();
    let mut v = tokio::task::spawn_blocking(move || s2.store.dispatch_accuracy()).await??;
    if let Some(items) = v.get_mut("by_unit").and_then(|x| x.as_array_mut()) {
        for it in items {
            let name = it["key"]
                .as_str()
                .and_then(|k| st.org.get(k))
                .map(|u| u.name.clone());
            it["name"] = json!(name);
        }
    }
    if let Some(items) = v.get_mut("by_category").and_then(|x| x.as_array_mut()) {
        for it in items {
            let name = it["key"]
                .as_str()
                .and_then(|k| st.categories.get(k))
                .map(|c| c.name.clone());
            it["name"] = json!(name);
        }
    }
    Ok(axum::Json(v))
}

/// `GET /api/v1/catalogue/export.xlsx` — the published catalogue as an Excel workbook.
pub async fn export_xlsx(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ExportQuery>,
) -> ApiResult<impl IntoResponse> {
    require(&actor, ROUTERS, "catalogue")?;
    let csv = catalogue_csv(&st, &q).await?;
    let bytes = tokio::task::spawn_blocking(move || crate::xlsx::csv_to_xlsx(&csv, "派单目录"))
        .await?
        .map_err(ApiError::internal)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"catalogue.xlsx\"",
            ),
        ],
        bytes,
    ))
}
