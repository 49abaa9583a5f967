//! 办理质量审计 in the server — a nightly pass (00:30 city time) audits the results filed the day
//! before with `jiesu_governance::reply_audit` (答非所问, boilerplate, "resolved" contradicted by
//! the callback, filed implausibly fast) under the audit policy version in effect, and stores the
//! findings per day (`GovernancePolicyStore`); the supervisor's page lists the stored findings
//! with the rates per unit; and the
//! one action that turns a flagged result into supervision (督办): the ticket is reopened (重办)
//! through the domain with the flags as the reason, so the unit handles it again on new
//! deadlines and the event log records why.

use crate::auth::{require, require_action, Caller};
use crate::error::{ApiError, ApiResult};
use crate::json::Json as JsonBody;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{Datelike, Duration, NaiveDate};
use jiesu_domain::auth::authorize;
use jiesu_domain::capability::Capability;
use jiesu_domain::command::execute;
use jiesu_domain::ticket::AssignmentRole;
use jiesu_domain::{prepare, Action, ActionRequest, CallbackOutcome, TicketState};
use jiesu_governance::audit::Doc;
use jiesu_governance::reply_audit::{audit, AuditPolicy, FlagKind, ResultCase};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Flagged results listed at most.
const MAX_ITEMS: usize = 200;
/// Days audited by default (ending today).
const DEFAULT_DAYS: i64 = 30;
/// The longest period audited at once.
const MAX_DAYS: i64 = 92;

/// `GET /api/v1/audit/replies` query.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AuditQuery {
    /// First city day (YYYY-MM-DD; default 29 days before `to`).
    pub from: Option<String>,
    /// Last city day, included (YYYY-MM-DD; default today).
    pub to: Option<String>,
}

/// A flag kind and its label.
#[derive(Debug, Serialize, JsonSchema)]
pub struct KindView {
    /// `off_topic` (答非所问), `boilerplate` (模板化答复), `contradicted` (假办结: the result says
    /// solved, the callback unresolved) or `too_fast` (办结过快).
    pub kind: String,
    pub label: String,
    /// How many results have it (in the counts).
    pub count: u32,
}

/// One unit's audit.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UnitAuditView {
    pub unit: String,
    pub unit_name: String,
    /// Results of the period.
    pub results: u32,
    /// Flagged for any reason.
    pub flagged: u32,
    pub off_topic: u32,
    pub boilerplate: u32,
    pub contradicted: u32,
    pub too_fast: u32,
    /// flagged / results.
    pub flagged_rate: f64,
}

/// A flagged result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FlaggedView {
    pub ticket: i64,
    pub number: String,
    pub title: String,
    /// The unit that filed the result and its name.
    pub unit: String,
    pub unit_name: String,
    /// Why (kind and label).
    pub kinds: Vec<KindView>,
    /// The relevance score, 0–4 (null when the period had too few results to score).
    pub relevance: Option<f64>,
    /// Boilerplate: the other request's ticket whose result it nearly equals.
    pub like_ticket: Option<i64>,
    /// Their 5-gram overlap.
    pub like_overlap: Option<f64>,
    /// Minutes from the dispatch to the result.
    pub minutes: i64,
    /// The result as filed (the first 200 characters).
    pub result: String,
    /// The ticket's status now.
    pub status: String,
    /// The ticket may be sent back for handling now (重办).
    pub can_supervise: bool,
    /// The city day its result was filed (the audited day).
    pub day: String,
    /// The audit policy version that flagged it (0: the shipped default).
    pub policy_version: i64,
}

/// The audit of a period.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReplyAuditView {
    pub from: String,
    pub to: String,
    /// The thresholds in effect in the last day's month.
    pub policy: serde_json::Value,
    /// The audit policy versions the stored days were audited under.
    pub policy_versions: Vec<i64>,
    /// Days in the period, and of them audited (the nightly pass audits the previous day at
    /// 00:30 city time; today is not audited yet).
    pub days: u32,
    pub audited_days: u32,
    /// When the newest of those days was audited.
    pub last_audited_at: Option<String>,
    /// Results filed on the audited days.
    pub results: u32,
    /// Results flagged.
    pub flagged: u32,
    /// Results flagged by kind.
    pub kinds: Vec<KindView>,
    /// Per unit, the highest rate first.
    pub units: Vec<UnitAuditView>,
    /// The flagged results (at most 200, the lowest relevance first).
    pub items: Vec<FlaggedView>,
}

fn day(field: &str, s: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    match s.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                ApiError::invalid(
                    field,
                    format!("`{s}` is not a date (YYYY-MM-DD)"),
                    format!("`{s}` 不是日期（YYYY-MM-DD）"),
                )
            }),
    }
}

/// The case of a ticket whose lead filed a result: the request, the result, the lead's dispatch
/// and finish, the callback reached after it.
fn case_of(t: &TicketState, analyzer: &jiesu_text::analyzer::Analyzer) -> Option<ResultCase> {
    let text = t.result_text.as_ref()?;
    let lead = t
        .assignments
        .iter()
        .filter(|a| a.role == AssignmentRole::Lead && a.finished_at.is_some())
        .max_by_key(|a| a.finished_at)?;
    let filed_at = lead.finished_at?;
    let callback = t
        .callbacks
        .iter()
        .filter(|c| c.at >= filed_at)
        .filter_map(|c| match &c.outcome {
            CallbackOutcome::Reached { resolution, .. } => Some(*resolution),
            CallbackOutcome::Unreachable { .. } => None,
        })
        .next_back();
    let request = format!("{}。{}", t.intake.title, t.intake.text);
    Some(ResultCase {
        ticket: t.id,
        unit: lead.unit.clone(),
        request: Doc {
            words: analyzer.tokens(&request),
            text: request,
            title: t.intake.title.clone(),
        },
        result: Doc {
            words: analyzer.tokens(text),
            text: text.clone(),
            title: String::new(),
        },
        dispatched_at: lead.dispatched_at,
        filed_at,
        callback,
    })
}

/// The nightly pass runs from this many minutes after the city's midnight.
pub const AUDIT_AT_MINUTES: i64 = 30;
/// Each night re-audits this many days up to yesterday (a callback reached later turns a
/// result into 假办结; storing a day again replaces it).
pub const REAUDIT_DAYS: i64 = 7;
/// Results dispatched this many days before an audited day give the audit its context (IDF,
/// the similar requests' replies, boilerplate twins): the page's default period.
const CONTEXT_DAYS: i64 = DEFAULT_DAYS;

/// Audits the results filed on `days` (city days) and stores, per day, the results counted per
/// unit and one finding per flagged result (kinds, relevance, details, the policy version), each
/// day under the audit policy in effect in its month; storing a day again replaces it. Answers
/// the findings stored.
pub fn audit_days(
    st: &AppState,
    days: &[NaiveDate],
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<usize> {
    let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) else {
        return Ok(0);
    };
    let start = st.zone.start_of_day(*first - Duration::days(CONTEXT_DAYS));
    let end = st.zone.start_of_day(*last + Duration::days(1));
    let analyzer = jiesu_kb::text::shared_analyzer();
    let cases: Vec<ResultCase> = st
        .store
        .lead_tickets(start, end)?
        .iter()
        .filter_map(|t| case_of(t, &analyzer))
        .filter(|c| c.filed_at < end)
        .collect();
    let mut stored = 0;
    // one audit per policy version in effect over the days
    let mut by_policy: Vec<((i64, AuditPolicy), Vec<NaiveDate>)> = Vec::new();
    for d in days {
        let month = format!("{:04}-{:02}", d.year(), d.month());
        let p = crate::gov_policies::audit_policy_for(&*st.store, &month)
            .map_err(ApiError::internal)?;
        match by_policy.iter_mut().find(|(q, _)| q.0 == p.0) {
            Some((_, ds)) => ds.push(*d),
            None => by_policy.push((p, vec![*d])),
        }
    }
    for ((version, policy), ds) in by_policy {
        let (flags, _) = audit(&cases, &policy);
        for d in ds {
            let (from, to) = (
                st.zone.start_of_day(d),
                st.zone.start_of_day(d + Duration::days(1)),
            );
            let on_day = |c: &ResultCase| c.filed_at >= from && c.filed_at < to;
            let mut units: std::collections::BTreeMap<String, i64> = Default::default();
            for c in cases.iter().filter(|c| on_day(c)) {
                *units.entry(c.unit.clone()).or_default() += 1;
            }
            let findings: Vec<jiesu_store::AuditFindingRow> = flags
                .iter()
                .filter(|f| on_day(&cases[f.index]))
                .map(|f| {
                    let c = &cases[f.index];
                    jiesu_store::AuditFindingRow {
                        day: d,
                        ticket: c.ticket,
                        unit: c.unit.clone(),
                        kinds: f.kinds.iter().map(|k| k.as_str().to_string()).collect(),
                        score: f.relevance.map(|r| (r * 1000.0).round() / 1000.0),
                        detail: serde_json::json!({
                            "minutes": f.minutes,
                            "like_ticket": f.like.map(|l| l.0),
                            "like_overlap": f.like.map(|l| (l.1 * 1000.0).round() / 1000.0),
                            "policy_id": policy.id,
                        })
                        .to_string(),
                        policy_version: version,
                    }
                })
                .collect();
            stored += findings.len();
            st.store.store_audit_day(
                jiesu_store::AuditDayRow {
                    day: d,
                    results: units.values().sum(),
                    unit_results: units.into_iter().collect(),
                    policy_id: policy.id.clone(),
                    policy_version: version,
                    audited_at: now,
                },
                findings,
            )?;
        }
    }
    Ok(stored)
}

/// The nightly pass at `now` (beside the scheduler, and when a test clock moves): once per city
/// day, from 00:30 city time on, audits the previous day's results (and re-audits the days
/// before it: `REAUDIT_DAYS` in all), remembered in the `reply_audit_day` setting. Answers the
/// findings stored.
pub fn audit_pass(st: &AppState, now: chrono::DateTime<chrono::Utc>) -> ApiResult<usize> {
    let today = st.zone.date(now);
    if now < st.zone.start_of_day(today) + Duration::minutes(AUDIT_AT_MINUTES) {
        return Ok(0);
    }
    let yesterday = today - Duration::days(1);
    let key = yesterday.to_string();
    if st.store.meta("reply_audit_day")?.as_deref() == Some(key.as_str()) {
        return Ok(0);
    }
    let days: Vec<NaiveDate> = (0..REAUDIT_DAYS)
        .map(|b| yesterday - Duration::days(b))
        .collect();
    let n = audit_days(st, &days, now)?;
    st.store.set_meta("reply_audit_day", &key)?;
    Ok(n)
}

/// The answer of auditing a day on demand.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditDayView {
    pub day: String,
    /// Results filed that day.
    pub results: i64,
    /// Findings stored (the day's earlier ones replaced).
    pub flagged: usize,
    /// The audit policy's id and version applied.
    pub policy_id: String,
    pub policy_version: i64,
}

/// `POST /api/v1/audit/days/{day}`: audits one city day now (e.g. after a new audit policy),
/// replacing what was stored for it.
pub async fn run_day(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(day_s): Path<String>,
) -> ApiResult<Json<AuditDayView>> {
    require(&actor, Capability::ReplyAudit)?;
    let d = day("day", Some(&day_s))?.ok_or_else(|| {
        ApiError::invalid(
            "day",
            "a day is required (YYYY-MM-DD)",
            "请指定日期（YYYY-MM-DD）",
        )
    })?;
    let now = st.now();
    if d >= st.zone.date(now) {
        return Err(ApiError::invalid(
            "day",
            format!("{d} has not ended yet: only a past day can be audited"),
            format!("{d} 尚未结束，只能审计已过去的日期"),
        ));
    }
    let s2 = st.clone();
    let flagged = tokio::task::spawn_blocking(move || audit_days(&s2, &[d], now)).await??;
    let row = st
        .store
        .audit_days(d, d)?
        .pop()
        .ok_or_else(|| ApiError::internal("the audited day was not stored"))?;
    Ok(Json(AuditDayView {
        day: d.to_string(),
        results: row.results,
        flagged,
        policy_id: row.policy_id,
        policy_version: row.policy_version,
    }))
}

/// `GET /api/v1/audit/replies`: the stored findings of the audited days of the period.
pub async fn replies(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<ReplyAuditView>> {
    require(&actor, Capability::ReplyAudit)?;
    let now = st.now();
    let to = day("to", q.to.as_deref())?.unwrap_or_else(|| st.zone.date(now));
    let from = day("from", q.from.as_deref())?.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to || (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid(
            "from",
            format!("the period must run forwards and last at most {MAX_DAYS} days"),
            format!("审计期间应从前往后且不超过 {MAX_DAYS} 天"),
        ));
    }
    let s2 = st.clone();
    let a2 = actor.clone();
    let view = tokio::task::spawn_blocking(move || -> ApiResult<ReplyAuditView> {
        let st = s2;
        let days = st.store.audit_days(from, to)?;
        let findings = st.store.audit_findings(from, to)?;
        let mut results: std::collections::BTreeMap<String, u32> = Default::default();
        for d in &days {
            for (u, n) in &d.unit_results {
                *results.entry(u.clone()).or_default() += *n as u32;
            }
        }
        let kind_of = |k: &str| FlagKind::ALL.into_iter().find(|x| x.as_str() == k);
        let mut by_kind = [0u32; 4];
        let mut per_unit: std::collections::BTreeMap<String, (u32, [u32; 4])> = Default::default();
        for f in &findings {
            let e = per_unit.entry(f.unit.clone()).or_default();
            e.0 += 1;
            for k in f.kinds.iter().filter_map(|k| kind_of(k)) {
                by_kind[k as usize] += 1;
                e.1[k as usize] += 1;
            }
        }
        let kind_views = |ks: &[FlagKind]| -> Vec<KindView> {
            ks.iter()
                .map(|k| KindView {
                    kind: k.as_str().into(),
                    label: k.label_zh().into(),
                    count: by_kind[*k as usize],
                })
                .collect()
        };
        let name = |u: &str| crate::views::unit_name(&st, u).unwrap_or_else(|| u.to_string());
        let mut units: Vec<UnitAuditView> = results
            .iter()
            .map(|(u, n)| {
                let (flagged, k) = per_unit.get(u).copied().unwrap_or_default();
                UnitAuditView {
                    unit: u.clone(),
                    unit_name: name(u),
                    results: *n,
                    flagged,
                    off_topic: k[FlagKind::OffTopic as usize],
                    boilerplate: k[FlagKind::Boilerplate as usize],
                    contradicted: k[FlagKind::Contradicted as usize],
                    too_fast: k[FlagKind::TooFast as usize],
                    flagged_rate: if *n == 0 {
                        0.0
                    } else {
                        (f64::from(flagged) / f64::from(*n) * 1000.0).round() / 1000.0
                    },
                }
            })
            .collect();
        units.sort_by(|a, b| {
            b.flagged_rate
                .total_cmp(&a.flagged_rate)
                .then(b.flagged.cmp(&a.flagged))
                .then(a.unit.cmp(&b.unit))
        });
        let mut order: Vec<&jiesu_store::AuditFindingRow> = findings.iter().collect();
        order.sort_by(|a, b| {
            a.score
                .unwrap_or(f64::MAX)
                .total_cmp(&b.score.unwrap_or(f64::MAX))
                .then(a.ticket.cmp(&b.ticket))
        });
        let mut items = Vec::new();
        for f in order.into_iter().take(MAX_ITEMS) {
            let Some((t, _)) = st.store.load_ticket(f.ticket)? else {
                continue;
            };
            let detail: serde_json::Value = serde_json::from_str(&f.detail).unwrap_or_default();
            let kinds: Vec<FlagKind> = f.kinds.iter().filter_map(|k| kind_of(k)).collect();
            let can_supervise = crate::actions::allowed_actions(&st, &a2, &t).contains(&"reopen");
            items.push(FlaggedView {
                ticket: f.ticket,
                number: t.number.clone(),
                title: t.intake.title.clone(),
                unit: f.unit.clone(),
                unit_name: name(&f.unit),
                kinds: kind_views(&kinds),
                relevance: f.score,
                like_ticket: detail["like_ticket"].as_i64(),
                like_overlap: detail["like_overlap"].as_f64(),
                minutes: detail["minutes"].as_i64().unwrap_or_default(),
                result: t
                    .result_text
                    .as_deref()
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect(),
                status: t.status.as_str().into(),
                can_supervise,
                day: f.day.to_string(),
                policy_version: f.policy_version,
            });
        }
        let month = format!("{:04}-{:02}", to.year(), to.month());
        let (_, policy) = crate::gov_policies::audit_policy_for(&*st.store, &month)
            .map_err(ApiError::internal)?;
        let mut versions: Vec<i64> = days.iter().map(|d| d.policy_version).collect();
        versions.sort_unstable();
        versions.dedup();
        Ok(ReplyAuditView {
            from: from.to_string(),
            to: to.to_string(),
            policy: serde_json::to_value(&policy).unwrap_or_default(),
            policy_versions: versions,
            days: ((to - from).num_days() + 1) as u32,
            audited_days: days.len() as u32,
            last_audited_at: days
                .iter()
                .map(|d| d.audited_at)
                .max()
                .map(jiesu_store::time::fmt),
            results: results.values().sum(),
            flagged: findings.len() as u32,
            kinds: kind_views(&FlagKind::ALL),
            units,
            items,
        })
    })
    .await??;
    Ok(Json(view))
}

/// The body of turning a flagged result into supervision.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuperviseBody {
    /// What the supervisor found (1–1,800 characters); the reopen's reason starts with
    /// "办理质量督办".
    pub note: String,
    /// The flags seen (off_topic, boilerplate, contradicted, too_fast), named in the reason.
    #[serde(default)]
    pub kinds: Vec<String>,
}

/// What supervising did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SupervisedView {
    pub ticket: i64,
    pub number: String,
    /// The ticket's status now (reopened: back with its units).
    pub status: String,
    /// The reason recorded on the reopen.
    pub reason: String,
}

/// `POST /api/v1/audit/replies/{ticket}/supervise`.
pub async fn supervise(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<SuperviseBody>,
) -> ApiResult<Json<SupervisedView>> {
    // the authority is the reopen's (重办: the centre's dispatchers and supervisors), the same
    // as reopening the ticket directly
    require_action(&actor, Action::Reopen)?;
    crate::tickets::load_visible(&st, &actor, id).await?;
    let note = b.note.trim();
    if note.is_empty() || note.chars().count() > 1800 {
        return Err(ApiError::invalid(
            "note",
            "a note of 1 to 1800 characters is required",
            "请填写督办意见（1–1800 字）",
        ));
    }
    let mut labels = Vec::new();
    for k in &b.kinds {
        let kind = FlagKind::ALL
            .into_iter()
            .find(|x| x.as_str() == k)
            .ok_or_else(|| {
                ApiError::invalid(
                    "kinds",
                    format!("unknown flag `{k}`: off_topic, boilerplate, contradicted or too_fast"),
                    format!("未知问题类型 `{k}`"),
                )
            })?;
        labels.push(kind.label_zh());
    }
    let reason = if labels.is_empty() {
        format!("办理质量督办：{note}")
    } else {
        format!("办理质量督办（{}）：{note}", labels.join("、"))
    };
    let req = ActionRequest::from_json(Action::Reopen, serde_json::json!({ "reason": reason }))
        .ok_or_else(ApiError::not_found)??;
    let now = st.now();
    let (s2, a2) = (st.clone(), actor.clone());
    let change: jiesu_store::Change = Box::new(move |t: &mut TicketState| {
        let cmd = crate::actions::with_context(&s2, now, None, |ctx| prepare(req, &a2, t, ctx))?;
        authorize(&a2, &cmd, t, &s2.org)?;
        Ok(execute(t, &cmd, &a2.to_ref(None), now)?)
    });
    let s3 = st.clone();
    let (t, _) = tokio::task::spawn_blocking(move || s3.store.update_ticket(id, change)).await??;
    Ok(Json(SupervisedView {
        ticket: t.id,
        number: t.number.clone(),
        status: t.status.as_str().into(),
        reason,
    }))
}
