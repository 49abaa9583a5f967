//! Routing routes: dispatch suggestions with explanations and the duty catalogue (export, import
//! as a draft, one-rule edits, lint, what-if, publish). Supervision is in `supervision.rs`, the
//! unit inbox in `inbox.rs`, the reminder scheduler in `scheduler_task.rs`.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::paging::Paging;
use crate::tickets::load_visible;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use jiesu_domain::capability::Capability;
use jiesu_domain::{AssignmentState, TicketState};
use jiesu_routing::{Catalogue, RouteFacts};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

use crate::auth::require;

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
    require(&actor, Capability::RouteSuggest)?;
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
    require(&actor, Capability::CatalogueView)?;
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

#[derive(Deserialize, schemars::JsonSchema)]
pub struct ExportQuery {
    version: Option<String>,
}

/// `GET /api/v1/catalogue/export.csv[?version=draft]`
pub async fn export_csv(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ExportQuery>,
) -> ApiResult<impl IntoResponse> {
    require(&actor, Capability::CatalogueView)?;
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
    require(&actor, Capability::CatalogueEdit)?;
    // The body may be CSV text or an xlsx workbook (recognised by its zip signature).
    let converted;
    let body: &[u8] = if jiesu_io::xlsx::is_xlsx(&body) {
        converted = jiesu_io::xlsx::xlsx_to_csv(&body).map_err(|e| {
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

/// Filters, order and page of a catalogue's rule list.
#[derive(Deserialize, Default, schemars::JsonSchema)]
pub struct RulesQuery {
    /// Words that must all appear (case-insensitive) in the rule's id, category code or name,
    /// scope text, keywords, note, unit references or the names of the units it names.
    q: Option<String>,
    /// Only rules of this deadline tier (`2h`, `24h`, `7d`, `15d`).
    tier: Option<String>,
    /// Only rules whose lead is of this kind: `street`, `district`, `city` or `enterprise`.
    kind: Option<String>,
    /// `true`: only the rule versions in force today (the city's date).
    in_force: Option<String>,
    /// `catalogue` (the default: the catalogue's order) or `from` (latest start first).
    sort: Option<String>,
    #[schemars(extend("pattern" = "^([1-9][0-9]*)?$"))]
    page: Option<String>,
    #[schemars(extend("pattern" = "^([1-9][0-9]?|[1-4][0-9]{2}|500)?$"))]
    page_size: Option<String>,
}

/// The kind of unit a rule's lead is, as the catalogue page filters it: the request's street,
/// a district unit (the district itself, a department slot, a district unit's code), a city
/// department, or an enterprise (a utility or the e-commerce firm named in the request).
fn lead_kind(st: &AppState, r: &jiesu_routing::Rule) -> &'static str {
    use jiesu_domain::org::UnitKind;
    use jiesu_routing::catalogue::UnitRef;
    let Some(lead) = r
        .assignments
        .iter()
        .find(|a| a.role == jiesu_domain::ticket::AssignmentRole::Lead)
    else {
        return "other";
    };
    match &lead.unit {
        UnitRef::Street => "street",
        UnitRef::District | UnitRef::DistrictDept(_) => "district",
        UnitRef::Ecommerce => "enterprise",
        UnitRef::Unit(code) => match st.org.get(code).map(|u| u.kind) {
            Some(UnitKind::StreetTown | UnitKind::Community) => "street",
            Some(UnitKind::District | UnitKind::DistrictDepartment) => "district",
            Some(UnitKind::CityDepartment | UnitKind::Centre) => "city",
            Some(UnitKind::StateEnterprise | UnitKind::Ecommerce) => "enterprise",
            _ => "other",
        },
    }
}

/// What the rule search looks in, lower-cased: the rule's own columns and the names of the
/// category, the place and the units it names.
fn rule_haystack(st: &AppState, r: &jiesu_routing::Rule) -> String {
    use jiesu_routing::catalogue::UnitRef;
    let (zh, en) = r.scope_text();
    let mut hay = vec![
        r.id.clone(),
        r.category_prefix.clone(),
        zh,
        en,
        r.assignments_field(),
    ];
    if let Some(c) = st.categories.get(&r.category_prefix) {
        hay.push(st.categories.path_label(&c.code));
    }
    if let Some(u) = r.place.code().and_then(|c| st.org.get(c)) {
        hay.push(u.name.clone());
    }
    for a in &r.assignments {
        if let UnitRef::Unit(code) = &a.unit {
            if let Some(u) = st.org.get(code) {
                hay.push(u.name.clone());
            }
        }
    }
    hay.extend(r.keywords.iter().cloned());
    hay.push(r.note.clone());
    hay.join(" ").to_lowercase()
}

/// `GET /api/v1/catalogue/drafts/{version}/rules?q=&tier=&kind=&in_force=&sort=&page=&page_size=`
/// — one page (50 by default) of the rule versions of a draft (`{version}` may be `draft` for the
/// newest one, or `published`), with their columns as the editor shows them; `total` counts the
/// rules that match the filters.
pub async fn draft_rules(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(version): Path<String>,
    Query(q): Query<RulesQuery>,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, Capability::CatalogueView)?;
    let paging = Paging::parse(q.page.as_deref(), q.page_size.as_deref(), 50)?;
    let tier = q.tier.as_deref().filter(|s| !s.is_empty());
    if let Some(t) = tier {
        if jiesu_domain::ticket::DeadlineTier::parse(t).is_none() {
            return Err(ApiError::invalid(
                "tier",
                format!("'{t}' is not a deadline tier (2h, 24h, 7d, 15d)"),
                format!("“{t}”不是有效的办理时限（2h、24h、7d、15d）"),
            ));
        }
    }
    let kind = q.kind.as_deref().filter(|s| !s.is_empty());
    if let Some(k) = kind {
        if !["street", "district", "city", "enterprise"].contains(&k) {
            return Err(ApiError::invalid(
                "kind",
                format!("'{k}' is not one of: street, district, city, enterprise"),
                format!("“{k}”不是有效的主办单位类型（street、district、city、enterprise）"),
            ));
        }
    }
    let in_force = match q.in_force.as_deref().unwrap_or("") {
        "" | "false" => false,
        "true" => true,
        v => {
            return Err(ApiError::invalid(
                "in_force",
                format!("in_force is true or false, not '{v}'"),
                format!("in_force 应为 true 或 false，而不是“{v}”"),
            ))
        }
    };
    let by_start = match q.sort.as_deref().unwrap_or("") {
        "" | "catalogue" => false,
        "from" => true,
        v => {
            return Err(ApiError::invalid(
                "sort",
                format!("'{v}' is not one of: catalogue, from"),
                format!("“{v}”不是有效排序（catalogue、from）"),
            ))
        }
    };
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
    let today = st.today();
    let words: Vec<String> =
        q.q.as_deref()
            .unwrap_or("")
            .to_lowercase()
            .split_whitespace()
            .map(str::to_string)
            .collect();
    let mut matching: Vec<&jiesu_routing::Rule> = cat
        .rules()
        .iter()
        .filter(|r| !in_force || r.active_on(today))
        .filter(|r| tier.is_none_or(|t| r.tier.as_str() == t))
        .filter(|r| kind.is_none_or(|k| lead_kind(&st, r) == k))
        .filter(|r| {
            if words.is_empty() {
                return true;
            }
            let hay = rule_haystack(&st, r);
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .collect();
    if by_start {
        // stable: equal starts keep the catalogue's order
        matching.sort_by_key(|r| std::cmp::Reverse(r.effective_from));
    }
    let total = matching.len() as u64;
    let rules: Vec<Value> = paging
        .slice(matching)
        .into_iter()
        .map(|r| rule_json(&st, r))
        .collect();
    Ok(axum::Json(paging.with_body(
        json!({"version": version, "rules": rules, "catalogue_rules": cat.len()}),
        total,
    )))
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
    require(&actor, Capability::CatalogueEdit)?;
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
    require(&actor, Capability::CatalogueView)?;
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

#[derive(Deserialize, schemars::JsonSchema)]
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

/// `GET /api/v1/catalogue/drafts/{version}/whatif?months=1`
pub async fn whatif(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(version): Path<i64>,
    Query(q): Query<WhatIfQuery>,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, Capability::CatalogueEdit)?;
    let draft = load_draft(&st, version).await?;
    let months = q.months.unwrap_or(1).clamp(1, 24);
    let cur = current_catalogue(&st);
    let s2 = st.clone();
    let rep = tokio::task::spawn_blocking(move || -> jiesu_store::Result<_> {
        let now = s2.now();
        let tickets = s2
            .store
            .lead_tickets(jiesu_routing::whatif_since(now, months), now)?;
        Ok(jiesu_routing::whatif_tickets(
            &cur, &draft, tickets, &s2.org, now, s2.zone,
        ))
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
    require(&actor, Capability::CataloguePublish)?;
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

/// `GET /api/v1/catalogue/export.xlsx` — the published catalogue as an Excel workbook.
pub async fn export_xlsx(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ExportQuery>,
) -> ApiResult<impl IntoResponse> {
    require(&actor, Capability::CatalogueView)?;
    let csv = catalogue_csv(&st, &q).await?;
    let bytes = tokio::task::spawn_blocking(move || jiesu_io::xlsx::csv_to_xlsx(&csv, "派单目录"))
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
