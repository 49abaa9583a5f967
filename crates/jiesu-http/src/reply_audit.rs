//! 办理质量审计 in the server — the results of the requests dispatched in a period, checked by
//! `jiesu_governance::reply_audit` (答非所问, boilerplate, "resolved" contradicted by the
//! callback, filed implausibly fast), with the rates per unit, for the supervisor's page; and the
//! one action that turns a flagged result into supervision (督办): the ticket is reopened (重办)
//! through the domain with the flags as the reason, so the unit handles it again on new
//! deadlines and the event log records why.

use crate::auth::{require, require_action, Caller};
use crate::error::{ApiError, ApiResult};
use crate::json::Json as JsonBody;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{Duration, NaiveDate};
use jiesu_domain::auth::authorize;
use jiesu_domain::capability::Capability;
use jiesu_domain::command::execute;
use jiesu_domain::ticket::AssignmentRole;
use jiesu_domain::{prepare, Action, ActionRequest, CallbackOutcome, TicketState};
use jiesu_governance::audit::Doc;
use jiesu_governance::reply_audit::{audit, per_unit, AuditPolicy, FlagKind, ResultCase};
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
}

/// The audit of a period.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReplyAuditView {
    pub from: String,
    pub to: String,
    /// The thresholds applied.
    pub policy: serde_json::Value,
    /// Results audited.
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

/// `GET /api/v1/audit/replies`.
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
    let (start, end) = (
        st.zone.start_of_day(from),
        st.zone.start_of_day(to + Duration::days(1)),
    );
    let s2 = st.clone();
    let a2 = actor.clone();
    let view = tokio::task::spawn_blocking(move || -> ApiResult<ReplyAuditView> {
        let st = s2;
        let analyzer = jiesu_kb::text::shared_analyzer();
        let tickets = st.store.lead_tickets(start, end)?;
        let mut statuses = Vec::new();
        let mut cases = Vec::new();
        for t in &tickets {
            if let Some(c) = case_of(t, &analyzer) {
                statuses.push(t);
                cases.push(c);
            }
        }
        let policy = AuditPolicy::shipped_default();
        let (flags, _) = audit(&cases, &policy);
        let units = per_unit(&cases, &flags);
        let mut by_kind = [0u32; 4];
        for f in &flags {
            for k in &f.kinds {
                by_kind[*k as usize] += 1;
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
        let mut order: Vec<usize> = (0..flags.len()).collect();
        order.sort_by(|&a, &b| {
            let ra = flags[a].relevance.unwrap_or(f64::MAX);
            let rb = flags[b].relevance.unwrap_or(f64::MAX);
            ra.total_cmp(&rb).then(
                cases[flags[a].index]
                    .ticket
                    .cmp(&cases[flags[b].index].ticket),
            )
        });
        let items = order
            .into_iter()
            .take(MAX_ITEMS)
            .map(|i| {
                let f = &flags[i];
                let c = &cases[f.index];
                let t = statuses[f.index];
                let can_supervise =
                    crate::actions::allowed_actions(&st, &a2, t).contains(&"reopen");
                FlaggedView {
                    ticket: c.ticket,
                    number: t.number.clone(),
                    title: t.intake.title.clone(),
                    unit: c.unit.clone(),
                    unit_name: name(&c.unit),
                    kinds: kind_views(&f.kinds),
                    relevance: f.relevance.map(|r| (r * 1000.0).round() / 1000.0),
                    like_ticket: f.like.map(|l| l.0),
                    like_overlap: f.like.map(|l| (l.1 * 1000.0).round() / 1000.0),
                    minutes: f.minutes,
                    result: c.result.text.chars().take(200).collect(),
                    status: t.status.as_str().into(),
                    can_supervise,
                }
            })
            .collect();
        Ok(ReplyAuditView {
            from: from.to_string(),
            to: to.to_string(),
            policy: serde_json::to_value(&policy).unwrap_or_default(),
            results: cases.len() as u32,
            flagged: flags.len() as u32,
            kinds: kind_views(&FlagKind::ALL),
            units: units
                .into_iter()
                .map(|u| UnitAuditView {
                    unit_name: name(&u.unit),
                    unit: u.unit,
                    results: u.results,
                    flagged: u.flagged,
                    off_topic: u.by_kind[FlagKind::OffTopic as usize],
                    boilerplate: u.by_kind[FlagKind::Boilerplate as usize],
                    contradicted: u.by_kind[FlagKind::Contradicted as usize],
                    too_fast: u.by_kind[FlagKind::TooFast as usize],
                    flagged_rate: (u.flagged_rate * 1000.0).round() / 1000.0,
                })
                .collect(),
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
