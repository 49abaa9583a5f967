//! 治理规则 — the city's own governance policies, versioned data like the scoring policies: the
//! 治理类街乡镇 classification (`streets`, `jiesu_governance::streets::StreetPolicy`) and the reply
//! audit's thresholds (`reply-audit`, `jiesu_governance::reply_audit::AuditPolicy`). An admin lists
//! the versions, reads one, submits a new one (TOML or JSON, checked field by field: a bad one
//! answers 400 naming the field) and previews a draft street policy on the latest months without
//! storing it. Version 0 of each kind is the shipped default; a stored version governs from its
//! `effective_from` month (not before the current city month, so a month already classified
//! stays as it was), and a month is classified under the version in effect in it.

use crate::auth::{require, Caller};
use crate::error::{ApiError, ApiResult};
use crate::json::Json as JsonBody;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use jiesu_domain::capability::Capability;
use jiesu_governance::reply_audit::AuditPolicy;
use jiesu_governance::streets::{classify_versions, StreetPolicy, StreetStanding};
use jiesu_score::Month;
use jiesu_store::{GovPolicyRow, Store};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kind of the street classification policies.
pub const STREETS: &str = "streets";
/// The kind of the reply audit's policies.
pub const REPLY_AUDIT: &str = "reply-audit";
/// Months a preview classifies (the latest complete ones).
const PREVIEW_MONTHS: i32 = 3;

fn kind_of(kind: &str) -> ApiResult<&'static str> {
    match kind {
        STREETS => Ok(STREETS),
        REPLY_AUDIT => Ok(REPLY_AUDIT),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no policy kind `{kind}` (streets, reply-audit)"),
            format!("没有这类治理规则：{kind}（streets、reply-audit）"),
        )),
    }
}

/// The street policies in force, version 0 (the shipped default) first, each with its version.
pub fn street_versions(store: &dyn Store) -> anyhow::Result<Vec<(i64, StreetPolicy)>> {
    let mut out = vec![(0, StreetPolicy::shipped_default())];
    for r in store.governance_policies(STREETS)? {
        out.push((r.version, serde_json::from_str(&r.body)?));
    }
    Ok(out)
}

/// The reply audit's policies, version 0 (the shipped default) first, each with its version.
pub fn audit_versions(store: &dyn Store) -> anyhow::Result<Vec<(i64, AuditPolicy)>> {
    let mut out = vec![(0, AuditPolicy::shipped_default())];
    for r in store.governance_policies(REPLY_AUDIT)? {
        out.push((r.version, serde_json::from_str(&r.body)?));
    }
    Ok(out)
}

/// The audit policy in effect in `month` (`YYYY-MM`) and its version.
pub fn audit_policy_for(store: &dyn Store, month: &str) -> anyhow::Result<(i64, AuditPolicy)> {
    let versions = audit_versions(store)?;
    let policies: Vec<AuditPolicy> = versions.iter().map(|v| v.1.clone()).collect();
    let p = AuditPolicy::in_effect(&policies, month)
        .cloned()
        .unwrap_or_else(AuditPolicy::shipped_default);
    let version = versions.iter().rev().find(|v| v.1 == p).map_or(0, |v| v.0);
    Ok((version, p))
}

/// The version of `versions` in effect in `month` (the later of equal policies).
fn street_version_in(versions: &[(i64, StreetPolicy)], month: &str) -> (i64, StreetPolicy) {
    let policies: Vec<StreetPolicy> = versions.iter().map(|v| v.1.clone()).collect();
    let p = jiesu_governance::streets::in_effect(&policies, month)
        .cloned()
        .unwrap_or_else(StreetPolicy::shipped_default);
    let v = versions.iter().rev().find(|v| v.1 == p).map_or(0, |v| v.0);
    (v, p)
}

/// Classifies the last month of `history` under the stored versions (each month under the
/// version in effect in it); answers the standings and the version that governs that month.
pub fn classify_stored(
    store: &dyn Store,
    history: &[(String, Vec<jiesu_governance::streets::StreetMonth>)],
) -> anyhow::Result<(Vec<StreetStanding>, (i64, StreetPolicy))> {
    let versions = street_versions(store)?;
    let policies: Vec<StreetPolicy> = versions.iter().map(|v| v.1.clone()).collect();
    let month = history.last().map(|h| h.0.clone()).unwrap_or_default();
    Ok((
        classify_versions(&policies, history),
        street_version_in(&versions, &month),
    ))
}

/// A new version: the policy as TOML text or as JSON (exactly one).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicySubmission {
    /// The policy as TOML: its fields at the top level (or in one `[policy]` table), e.g.
    /// `id = "streets-2027"`, `effective_from = "2027-01"`, `entry_volume_top = 10` …
    pub toml: Option<String>,
    /// The policy as a JSON object (the same fields).
    pub policy: Option<Value>,
}

/// One version of a policy.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PolicyVersionView {
    /// `streets` or `reply-audit`.
    pub kind: String,
    /// 0 = the shipped default; 1, 2, … as submitted.
    pub version: i64,
    /// The policy's own id.
    pub id: String,
    /// The first month it governs, `YYYY-MM`.
    pub effective_from: String,
    /// Who submitted it (`shipped` for version 0).
    pub author: String,
    /// When (null for version 0).
    pub created_at: Option<String>,
    /// It governs the current city month.
    pub current: bool,
    /// Every field.
    pub policy: Value,
}

/// The versions of one kind.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PolicyVersionList {
    pub kind: String,
    /// The current city month, `YYYY-MM` (a new version may start from it on).
    pub month: String,
    /// Oldest first (version 0 the shipped default).
    pub versions: Vec<PolicyVersionView>,
}

/// A version as (version, id, effective_from, author, created_at, policy JSON).
type VersionRow = (i64, String, String, String, Option<DateTime<Utc>>, Value);

/// Every version of a kind, version 0 first.
fn rows_of(st: &AppState, kind: &'static str) -> ApiResult<Vec<VersionRow>> {
    let shipped = match kind {
        STREETS => serde_json::to_value(StreetPolicy::shipped_default()),
        _ => serde_json::to_value(AuditPolicy::shipped_default()),
    }
    .map_err(ApiError::internal)?;
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let mut out = vec![(
        0,
        s(&shipped, "id"),
        s(&shipped, "effective_from"),
        "shipped".to_string(),
        None,
        shipped,
    )];
    for r in st.store.governance_policies(kind)? {
        let body: Value = serde_json::from_str(&r.body).map_err(ApiError::internal)?;
        out.push((
            r.version,
            r.policy_id,
            r.effective_from,
            r.author,
            Some(r.created_at),
            body,
        ));
    }
    Ok(out)
}

fn this_month(st: &AppState) -> String {
    let (y, m) = st.zone.year_month(st.now());
    format!("{y:04}-{m:02}")
}

fn list_of(st: &AppState, kind: &'static str) -> ApiResult<PolicyVersionList> {
    let rows = rows_of(st, kind)?;
    let month = this_month(st);
    // the current one: the latest effective_from not after this month (the later version of ties)
    let current = rows
        .iter()
        .filter(|r| r.2 <= month)
        .max_by(|a, b| a.2.cmp(&b.2).then(a.0.cmp(&b.0)))
        .map(|r| r.0);
    Ok(PolicyVersionList {
        kind: kind.into(),
        month,
        versions: rows
            .into_iter()
            .map(
                |(version, id, effective_from, author, at, policy)| PolicyVersionView {
                    kind: kind.into(),
                    current: Some(version) == current,
                    version,
                    id,
                    effective_from,
                    author,
                    created_at: at.map(jiesu_store::time::fmt),
                    policy,
                },
            )
            .collect(),
    })
}

/// `GET /api/v1/governance/policies/{kind}`.
pub async fn list(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(kind): Path<String>,
) -> ApiResult<Json<PolicyVersionList>> {
    require(&actor, Capability::GovernancePolicies)?;
    let kind = kind_of(&kind)?;
    Ok(Json(list_of(&st, kind)?))
}

/// `GET /api/v1/governance/policies/{kind}/{version}`.
pub async fn get_one(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path((kind, version)): Path<(String, i64)>,
) -> ApiResult<Json<PolicyVersionView>> {
    require(&actor, Capability::GovernancePolicies)?;
    let kind = kind_of(&kind)?;
    list_of(&st, kind)?
        .versions
        .into_iter()
        .find(|v| v.version == version)
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no version {version} of the {kind} policy"),
                format!("该治理规则没有第 {version} 版"),
            )
        })
}

/// A policy refused (400), naming the field.
fn bad(field: &str, en: impl Into<String>, zh: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_policy", en, zh).field(field)
}

/// The submitted object checked against the shipped default's fields: no unknown field, none
/// missing, each of the right type (text, whole number ≥ 0, number).
fn check_shape(got: &Value, template: &Value) -> ApiResult<()> {
    let (Some(got), Some(template)) = (got.as_object(), template.as_object()) else {
        return Err(bad(
            "policy",
            "the policy must be an object of fields",
            "治理规则应为字段表",
        ));
    };
    if let Some(k) = got.keys().find(|k| !template.contains_key(*k)) {
        return Err(bad(
            k,
            format!("unknown field `{k}`"),
            format!("未知字段 `{k}`"),
        ));
    }
    for (k, t) in template {
        let Some(v) = got.get(k) else {
            return Err(bad(
                k,
                format!("missing field `{k}`"),
                format!("缺少字段 `{k}`"),
            ));
        };
        let fits = if t.is_string() {
            v.is_string()
        } else if t.is_u64() {
            v.as_u64().is_some_and(|n| n <= u64::from(u32::MAX))
        } else {
            v.is_number()
        };
        if !fits {
            let (en, zh) = if t.is_string() {
                ("text", "文本")
            } else if t.is_u64() {
                ("a whole number ≥ 0", "非负整数")
            } else {
                ("a number", "数值")
            };
            return Err(bad(
                k,
                format!("`{k}` must be {en} (got {v})"),
                format!("字段 `{k}` 应为{zh}（收到 {v}）"),
            ));
        }
    }
    Ok(())
}

/// The submitted policy as JSON (from TOML or JSON), its shape checked.
fn submitted(body: PolicySubmission, template: &Value) -> ApiResult<Value> {
    let v = match (body.toml, body.policy) {
        (Some(t), None) => {
            let v: Value = toml::from_str(&t).map_err(|e| {
                let msg = e.message().to_string();
                bad(
                    "toml",
                    format!("the TOML does not parse: {msg}"),
                    format!("TOML 无法解析：{msg}"),
                )
            })?;
            // one `[policy]` table (or a one-element `[[policy]]`) may hold the fields
            match v.get("policy") {
                Some(Value::Object(o)) if v.as_object().is_some_and(|m| m.len() == 1) => {
                    Value::Object(o.clone())
                }
                Some(Value::Array(a))
                    if a.len() == 1 && v.as_object().is_some_and(|m| m.len() == 1) =>
                {
                    a[0].clone()
                }
                _ => v,
            }
        }
        (None, Some(p)) => p,
        _ => {
            return Err(bad(
                "toml",
                "give the policy either as `toml` (text) or as `policy` (JSON), exactly one",
                "请以 `toml`（文本）或 `policy`（JSON）之一提交治理规则",
            ))
        }
    };
    check_shape(&v, template)?;
    Ok(v)
}

/// A checked policy of `kind` from a submission: (id, effective_from, JSON).
fn checked(kind: &'static str, body: PolicySubmission) -> ApiResult<(String, String, Value)> {
    let refused = |(f, en): (String, String)| {
        let zh = format!("治理规则字段 `{f}` 有误：{en}");
        bad(&f, en, zh)
    };
    match kind {
        STREETS => {
            let template = serde_json::to_value(StreetPolicy::shipped_default())
                .map_err(ApiError::internal)?;
            let v = submitted(body, &template)?;
            let p: StreetPolicy = serde_json::from_value(v)
                .map_err(|e| bad("policy", e.to_string(), format!("治理规则有误：{e}")))?;
            p.check().map_err(refused)?;
            let v = serde_json::to_value(&p).map_err(ApiError::internal)?;
            Ok((p.id, p.effective_from, v))
        }
        _ => {
            let template =
                serde_json::to_value(AuditPolicy::shipped_default()).map_err(ApiError::internal)?;
            let v = submitted(body, &template)?;
            let p: AuditPolicy = serde_json::from_value(v)
                .map_err(|e| bad("policy", e.to_string(), format!("审计规则有误：{e}")))?;
            p.check().map_err(refused)?;
            let v = serde_json::to_value(&p).map_err(ApiError::internal)?;
            Ok((p.id, p.effective_from, v))
        }
    }
}

/// `POST /api/v1/governance/policies/{kind}`.
pub async fn submit(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(kind): Path<String>,
    JsonBody(body): JsonBody<PolicySubmission>,
) -> ApiResult<(StatusCode, Json<PolicyVersionView>)> {
    require(&actor, Capability::GovernancePolicies)?;
    let kind = kind_of(&kind)?;
    let (id, effective_from, v) = checked(kind, body)?;
    let month = this_month(&st);
    if effective_from < month {
        return Err(bad(
            "effective_from",
            format!(
                "effective_from {effective_from} is before the current month {month}: a month already classified keeps its policy"
            ),
            format!("生效月份 {effective_from} 早于本月 {month}：已分类的月份不再改变"),
        ));
    }
    let now = st.now();
    let version = st.store.add_governance_policy(GovPolicyRow {
        kind: kind.into(),
        version: 0,
        policy_id: id,
        effective_from,
        body: v.to_string(),
        author: actor.user.clone(),
        created_at: now,
    })?;
    tracing::info!(kind, version, by = %actor.user, "governance policy stored");
    let view = list_of(&st, kind)?
        .versions
        .into_iter()
        .find(|x| x.version == version)
        .ok_or_else(|| ApiError::internal("the stored version is not listed"))?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One street under the policies stored and under the draft.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PreviewRow {
    pub code: String,
    pub name: String,
    pub district: String,
    pub volume: u32,
    pub volume_rank: u32,
    pub rank: Option<u32>,
    /// The class now (`advanced`, `improved`, `rectify`, `govern`, `ordinary`) and in Chinese.
    pub class: String,
    pub class_label: String,
    /// The class under the draft.
    pub draft_class: String,
    pub draft_class_label: String,
    /// On the 治理 list now / under the draft.
    pub listed: bool,
    pub draft_listed: bool,
    /// 未进先治 under the draft.
    pub draft_pre_warning: bool,
    /// The draft's reason (Chinese).
    pub draft_reason: String,
}

/// One month of a preview.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PreviewMonth {
    pub period: String,
    /// Streets whose class or listing the draft changes.
    pub changed: usize,
    /// Streets per class now and under the draft (`class` → count).
    pub classes: std::collections::BTreeMap<String, usize>,
    pub draft_classes: std::collections::BTreeMap<String, usize>,
    /// The streets whose class or listing changes, by volume rank.
    pub rows: Vec<PreviewRow>,
}

/// A draft street policy on the latest complete months, nothing stored.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PreviewView {
    /// The draft, checked.
    pub draft: Value,
    /// The latest complete months, newest first (a month before the draft's `effective_from`
    /// is previewed as if it governed from that month on, to show its effect).
    pub months: Vec<PreviewMonth>,
}

fn class_str(s: &StreetStanding) -> String {
    serde_json::to_value(s.class)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `POST /api/v1/governance/policy-previews/streets`.
pub async fn preview(
    State(st): State<AppState>,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<PolicySubmission>,
) -> ApiResult<Json<PreviewView>> {
    require(&actor, Capability::GovernancePolicies)?;
    let (_, _, v) = checked(STREETS, body)?;
    let draft: StreetPolicy = serde_json::from_value(v.clone()).map_err(ApiError::internal)?;
    let (y, m) = st.zone.year_month(st.now());
    let last = Month { year: y, month: m }.plus(-1);
    let s2 = st.clone();
    let months = tokio::task::spawn_blocking(move || -> ApiResult<Vec<PreviewMonth>> {
        let st = s2;
        let history = crate::streets::street_history(&*st.store, last)
            .map_err(crate::scores::score_failed)?;
        let versions = street_versions(&*st.store).map_err(ApiError::internal)?;
        let stored: Vec<StreetPolicy> = versions.iter().map(|v| v.1.clone()).collect();
        let mut out = Vec::new();
        for back in 0..PREVIEW_MONTHS {
            let key = last.plus(-back).to_string();
            let Some(end) = history.iter().position(|h| h.0 == key) else {
                continue;
            };
            let h = &history[..=end];
            // the draft governs the previewed months (from the oldest previewed one on)
            let mut d = draft.clone();
            let oldest = last.plus(-(PREVIEW_MONTHS - 1)).to_string();
            if d.effective_from > oldest {
                d.effective_from = oldest;
            }
            let mut with_draft = stored.clone();
            with_draft.push(d);
            let now = classify_versions(&stored, h);
            let then = classify_versions(&with_draft, h);
            let mut classes = std::collections::BTreeMap::new();
            let mut draft_classes = std::collections::BTreeMap::new();
            let mut rows = Vec::new();
            for (a, b) in now.iter().zip(then.iter()) {
                *classes.entry(class_str(a)).or_insert(0) += 1;
                *draft_classes.entry(class_str(b)).or_insert(0) += 1;
                if a.class != b.class || a.listed != b.listed {
                    rows.push(PreviewRow {
                        code: a.street.code.clone(),
                        name: a.street.name.clone(),
                        district: a.street.district.clone(),
                        volume: a.street.volume,
                        volume_rank: a.volume_rank,
                        rank: a.street.rank,
                        class: class_str(a),
                        class_label: a.class.label_zh().into(),
                        draft_class: class_str(b),
                        draft_class_label: b.class.label_zh().into(),
                        listed: a.listed,
                        draft_listed: b.listed,
                        draft_pre_warning: b.pre_warning,
                        draft_reason: b.reason.clone(),
                    });
                }
            }
            rows.sort_by_key(|r| r.volume_rank);
            out.push(PreviewMonth {
                period: key,
                changed: rows.len(),
                classes,
                draft_classes,
                rows,
            });
        }
        Ok(out)
    })
    .await??;
    Ok(Json(PreviewView { draft: v, months }))
}
