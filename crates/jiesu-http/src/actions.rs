//! `POST /api/v1/tickets/{id}/{action}`: turns a request body into a domain command on the current
//! state, authorizes it (one place: `jiesu_domain::auth::authorize`) and lets the domain decide —
//! all inside the write transaction, so what is checked is what is written.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::tickets::{load_visible, view_and_audit};
use crate::AppState;
use axum::extract::{Path, State};
use chrono::{DateTime, Duration, Utc};
use jiesu_domain::auth::{authorize, role_may, Actor};
use jiesu_domain::command::{execute, AssignmentRequest, Command};
use jiesu_domain::ticket::*;
use jiesu_domain::{AssignmentState, CallbackOutcome, DomainError, TicketState};
use jiesu_store::{StoreError, TicketStore};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// Every action a ticket may take, in the order the UI shows them.
pub const ACTIONS: &[&str] = &[
    "answer",
    "special",
    "consult",
    "dispatch",
    "sign",
    "pause",
    "resume",
    "respond",
    "note",
    "whistle",
    "report",
    "return",
    "review-return",
    "extend",
    "review-extension",
    "escalate",
    "urge",
    "result",
    "callback",
    "reopen",
    "merge",
    "unmerge",
    "exempt",
    "reclassify",
    "close",
    "archive",
];

fn body<T: DeserializeOwned>(v: &Value) -> ApiResult<T> {
    serde_json::from_value(v.clone()).map_err(|e| {
        let msg = e.to_string();
        let field = msg.find('`').and_then(|s| {
            msg[s + 1..]
                .find('`')
                .map(|e2| msg[s + 1..s + 1 + e2].to_string())
        });
        let mut err = ApiError::invalid(
            field.as_deref().unwrap_or("body"),
            format!("the body does not match this action: {msg}"),
            format!("请求字段有误：{}", field.clone().unwrap_or_default()),
        );
        err.field = field;
        err
    })
}

fn en<T>(field: &str, v: &str, parse: fn(&str) -> Option<T>, names: String) -> ApiResult<T> {
    parse(v).ok_or_else(|| {
        ApiError::invalid(
            field,
            format!("'{v}' is not one of: {names}"),
            format!("“{v}”不是有效取值（可选：{names}）"),
        )
    })
}

/// The unit the caller acts for on this ticket: for unit roles, their own active assignment (or
/// one of their children's); centre roles name it with `unit_code`.
fn acting_unit(
    st: &AppState,
    actor: &Actor,
    t: &TicketState,
    given: Option<&str>,
    pred: impl Fn(&jiesu_domain::Assignment) -> bool,
) -> ApiResult<String> {
    if let Some(u) = given {
        return Ok(u.to_string());
    }
    if actor.role.is_unit() {
        let mine = actor.unit.as_deref().unwrap_or_default();
        let cands: Vec<&jiesu_domain::Assignment> = t
            .assignments
            .iter()
            .filter(|a| a.state.active() && actor.covers(&a.unit, &st.org) && pred(a))
            .collect();
        if let Some(a) = cands.iter().find(|a| a.unit == mine).or(cands.first()) {
            return Ok(a.unit.clone());
        }
        // no suitable active assignment: report the unit itself so the domain says why
        return Ok(mine.to_string());
    }
    Err(ApiError::invalid(
        "unit_code",
        "name the unit this action is for",
        "请指定单位（unit_code）",
    ))
}

#[derive(Deserialize)]
struct UnitOnly {
    #[serde(default)]
    unit_code: Option<String>,
}
#[derive(Deserialize)]
struct AnswerB {
    answer: String,
    #[serde(default)]
    article_id: Option<String>,
}
#[derive(Deserialize)]
struct SpecialB {
    handling: String,
    note: String,
}
#[derive(Deserialize)]
struct ConsultB {
    note: String,
    #[serde(default)]
    units: Vec<String>,
}
#[derive(Deserialize)]
struct AssignB {
    unit_code: String,
    role: String,
}
#[derive(Deserialize)]
struct DispatchB {
    assignments: Vec<AssignB>,
    #[serde(default)]
    tier: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    rule: Option<String>,
}
#[derive(Deserialize)]
struct RespondB {
    #[serde(default)]
    unit_code: Option<String>,
    #[serde(default)]
    note: Option<String>,
}
#[derive(Deserialize)]
struct NoteB {
    #[serde(default)]
    unit_code: Option<String>,
    text: String,
    #[serde(default)]
    public: bool,
}
#[derive(Deserialize)]
struct WhistleB {
    #[serde(default)]
    unit_code: Option<String>,
    units: Vec<String>,
    reason: String,
    #[serde(default)]
    report_minutes: Option<i64>,
}
#[derive(Deserialize)]
struct ReturnB {
    #[serde(default)]
    unit_code: Option<String>,
    reason: String,
    text: String,
}
#[derive(Deserialize)]
struct ReviewB {
    #[serde(default)]
    unit_code: Option<String>,
    approve: bool,
    #[serde(default)]
    note: Option<String>,
}
#[derive(Deserialize)]
struct ExtendB {
    #[serde(default)]
    unit_code: Option<String>,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    days: Option<i64>,
    reason: String,
}
#[derive(Deserialize)]
struct UrgeB {
    #[serde(default)]
    unit_code: Option<String>,
    note: String,
}
#[derive(Deserialize)]
struct EscalateB {
    level: String,
    #[serde(default)]
    to_unit: Option<String>,
    reason: String,
}
#[derive(Deserialize)]
struct ResultB {
    #[serde(default)]
    unit_code: Option<String>,
    text: String,
    #[serde(default)]
    evidence: Vec<String>,
}
#[derive(Deserialize)]
struct CallbackB {
    #[serde(default)]
    unreachable: bool,
    #[serde(default)]
    contacted: Option<bool>,
    #[serde(default)]
    resolution: Option<String>,
    #[serde(default)]
    satisfaction: Option<String>,
    #[serde(default)]
    attitude: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    note: Option<String>,
}
#[derive(Deserialize)]
struct ReopenB {
    reason: String,
}
#[derive(Deserialize)]
struct ExemptB {
    #[serde(default)]
    reason: Option<String>,
    note: String,
}
#[derive(Deserialize)]
struct CloseB {
    #[serde(default)]
    note: Option<String>,
}

/// The default tier when neither the dispatcher nor the intake sets one.
fn default_tier(t: &TicketState) -> DeadlineTier {
    t.intake.tier.unwrap_or(match t.intake.request_type {
        RequestType::Help => DeadlineTier::H24,
        RequestType::Consultation => DeadlineTier::D7,
        _ => DeadlineTier::D7,
    })
}

fn need(field: &str, v: Option<String>) -> ApiResult<String> {
    v.ok_or_else(|| {
        ApiError::invalid(
            field,
            format!("{field} is required"),
            format!("{field} 为必填项"),
        )
    })
}

/// Builds the command for `action` on the current state.
fn build(
    st: &AppState,
    actor: &Actor,
    action: &str,
    b: &Value,
    t: &TicketState,
    now: DateTime<Utc>,
) -> ApiResult<Command> {
    Ok(match action {
        "answer" => {
            let x: AnswerB = body(b)?;
            Command::Answer {
                answer: x.answer,
                article_id: x.article_id,
            }
        }
        "special" => {
            let x: SpecialB = body(b)?;
            Command::SpecialHandle {
                handling: en(
                    "handling",
                    &x.handling,
                    SpecialHandling::parse,
                    SpecialHandling::names(),
                )?,
                note: x.note,
            }
        }
        "consult" => {
            let x: ConsultB = body(b)?;
            for (i, u) in x.units.iter().enumerate() {
                if st.org.get(u).is_none() {
                    return Err(ApiError::invalid(
                        &format!("units[{i}]"),
                        format!("unknown unit '{u}'"),
                        format!("单位“{u}”不存在"),
                    ));
                }
            }
            Command::Consult {
                note: x.note,
                units: x.units,
            }
        }
        "dispatch" => {
            let x: DispatchB = body(b)?;
            let tier = match x.tier.as_deref() {
                Some(s) => en("tier", s, DeadlineTier::parse, DeadlineTier::names())?,
                None => {
                    // the duty catalogue's tier for this request, else the type's default
                    let cat = crate::routing::current_catalogue(st);
                    let facts = jiesu_routing::RouteFacts::from_intake(&t.intake);
                    cat.router_in(&st.org, st.zone)
                        .quick_lead(&facts, now)
                        .map(|q| q.tier)
                        .unwrap_or_else(|| default_tier(t))
                }
            };
            let mut reqs = Vec::new();
            for (i, a) in x.assignments.iter().enumerate() {
                let field = format!("assignments[{i}].unit_code");
                let unit = st.org.get(&a.unit_code).ok_or_else(|| {
                    ApiError::invalid(
                        &field,
                        format!("unknown unit '{}'", a.unit_code),
                        format!("单位“{}”不存在", a.unit_code),
                    )
                })?;
                if !unit.kind.dispatchable() || !unit.active {
                    return Err(ApiError::invalid(
                        &field,
                        format!(
                            "{} ({}) cannot receive tickets",
                            unit.name,
                            unit.kind.as_str()
                        ),
                        format!("{}不能作为承办单位", unit.name),
                    ));
                }
                let role = en(
                    &format!("assignments[{i}].role"),
                    &a.role,
                    AssignmentRole::parse,
                    AssignmentRole::names(),
                )?;
                reqs.push(AssignmentRequest {
                    unit: a.unit_code.clone(),
                    role,
                    tier,
                    deadlines: st.policy.deadlines(
                        tier,
                        &a.unit_code,
                        &t.intake.category_code,
                        now,
                        &st.calendar,
                        &[],
                    ),
                });
            }
            Command::Dispatch {
                assignments: reqs,
                note: x.note,
                rule: x.rule,
            }
        }
        "sign" => {
            let x: UnitOnly = body(b)?;
            Command::Sign {
                unit: acting_unit(st, actor, t, x.unit_code.as_deref(), |a| {
                    a.state == AssignmentState::Dispatched
                })?,
            }
        }
        "pause" => {
            let x: NoteB = body(b)?;
            Command::Pause {
                unit: acting_unit(st, actor, t, x.unit_code.as_deref(), |a| {
                    a.paused_since.is_none()
                })?,
                reason: x.text,
            }
        }
        "resume" => {
            let x: UnitOnly = body(b)?;
            Command::Resume {
                unit: acting_unit(st, actor, t, x.unit_code.as_deref(), |a| {
                    a.paused_since.is_some()
                })?,
            }
        }
        "respond" => {
            let x: RespondB = body(b)?;
            Command::Respond {
                unit: acting_unit(st, actor, t, x.unit_code.as_deref(), |a| {
                    a.state == AssignmentState::Signed
                })?,
                note: x.note,
            }
        }
        "note" => {
            let x: NoteB = body(b)?;
            let unit = if actor.role.is_unit() {
                let mine = actor.unit.clone().unwrap_or_default();
                x.unit_code
                    .or_else(|| {
                        t.involved_units()
                            .find(|u| actor.covers(u, &st.org))
                            .map(str::to_string)
                    })
                    .or(Some(mine))
            } else {
                x.unit_code
            };
            Command::Note {
                unit,
                text: x.text,
                public: x.public,
            }
        }
        "whistle" => {
            let x: WhistleB = body(b)?;
            for (i, u) in x.units.iter().enumerate() {
                if st.org.get(u).is_none() {
                    return Err(ApiError::invalid(
                        &format!("units[{i}]"),
                        format!("unknown unit '{u}'"),
                        format!("单位“{u}”不存在"),
                    ));
                }
            }
            let mins = x.report_minutes.unwrap_or(30);
            if !(1..=7 * 24 * 60).contains(&mins) {
                return Err(ApiError::invalid(
                    "report_minutes",
                    "must be between 1 minute and 7 days",
                    "须在1分钟至7天之间",
                ));
            }
            Command::Whistle {
                unit: acting_unit(st, actor, t, x.unit_code.as_deref(), |a| {
                    a.state != AssignmentState::Dispatched
                })?,
                summoned: x.units,
                reason: x.reason,
                report_deadline: now + Duration::minutes(mins),
            }
        }
        "report" => {
            let x: UnitOnly = body(b)?;
            let unit = match x.unit_code {
                Some(u) => u,
                None => t
                    .whistles
                    .iter()
                    .flat_map(|w| w.summoned.iter())
                    .find(|u| actor.covers(u, &st.org))
                    .cloned()
                    .or(actor.unit.clone())
                    .ok_or_else(|| {
                        ApiError::invalid("unit_code", "name the unit reporting", "请指定报到单位")
                    })?,
            };
            Command::Report { unit }
        }
        "return" => {
            let x: ReturnB = body(b)?;
            Command::RequestReturn {
                unit: acting_unit(st, actor, t, x.unit_code.as_deref(), |a| {
                    a.pending_return.is_none()
                })?,
                reason: en(
                    "reason",
                    &x.reason,
                    ReturnReason::parse,
                    ReturnReason::names(),
                )?,
                text: x.text,
            }
        }
        "review-return" | "review-extension" => {
            let x: ReviewB = body(b)?;
            let ret = action == "review-return";
            let unit = match x.unit_code {
                Some(u) => u,
                None => t
                    .assignments
                    .iter()
                    .find(|a| {
                        a.state.active()
                            && if ret {
                                a.pending_return.is_some()
                            } else {
                                a.pending_extension.is_some()
                            }
                    })
                    .map(|a| a.unit.clone())
                    .ok_or(DomainError::NoAssignment {
                        unit: "-".into(),
                        action: if ret {
                            "review-return"
                        } else {
                            "review-extension"
                        },
                        needed: if ret {
                            "return-pending"
                        } else {
                            "extension-pending"
                        },
                    })?,
            };
            if ret {
                Command::ReviewReturn {
                    unit,
                    approve: x.approve,
                    note: x.note,
                }
            } else {
                Command::ReviewExtension {
                    unit,
                    approve: x.approve,
                    note: x.note,
                }
            }
        }
        "extend" => {
            let x: ExtendB = body(b)?;
            let unit = acting_unit(st, actor, t, x.unit_code.as_deref(), |a| {
                a.pending_extension.is_none()
            })?;
            let until = match (x.until, x.days) {
                (Some(s), _) => chrono::DateTime::parse_from_rfc3339(&s)
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|_| {
                        ApiError::invalid(
                            "until",
                            format!("'{s}' is not an RFC 3339 time"),
                            "时间格式错误",
                        )
                    })?,
                (None, Some(d)) if (1..=60).contains(&d) => {
                    let cur = t
                        .active_assignment(&unit)
                        .map(|a| a.deadlines.finish)
                        .unwrap_or(now);
                    cur + Duration::days(d)
                }
                _ => {
                    return Err(ApiError::invalid(
                        "until",
                        "give `until` (RFC 3339) or `days` (1 to 60)",
                        "请填写延期至的时间或天数（1至60天）",
                    ))
                }
            };
            Command::RequestExtension {
                unit,
                until,
                reason: x.reason,
            }
        }
        "urge" => {
            let x: UrgeB = body(b)?;
            // Without a unit: the active lead assignment (the one the supervision board counts).
            let unit = match x.unit_code {
                Some(u) => u,
                None => t
                    .assignments
                    .iter()
                    .find(|a| a.state.active() && a.role == AssignmentRole::Lead)
                    .map(|a| a.unit.clone())
                    .ok_or(DomainError::NoAssignment {
                        unit: "-".into(),
                        action: "urge",
                        needed: "active",
                    })?,
            };
            Command::Urge { unit, note: x.note }
        }
        "escalate" => {
            let x: EscalateB = body(b)?;
            if let Some(u) = &x.to_unit {
                if st.org.get(u).is_none() {
                    return Err(ApiError::invalid(
                        "to_unit",
                        format!("unknown unit '{u}'"),
                        format!("单位“{u}”不存在"),
                    ));
                }
            }
            Command::Escalate {
                level: en(
                    "level",
                    &x.level,
                    EscalationLevel::parse,
                    EscalationLevel::names(),
                )?,
                to_unit: x.to_unit,
                reason: x.reason,
            }
        }
        "result" => {
            let x: ResultB = body(b)?;
            Command::SubmitResult {
                unit: acting_unit(st, actor, t, x.unit_code.as_deref(), |a| {
                    a.state == AssignmentState::Responded
                })?,
                text: x.text,
                evidence: x.evidence,
            }
        }
        "callback" => {
            let x: CallbackB = body(b)?;
            let outcome = if x.unreachable {
                CallbackOutcome::Unreachable { note: x.note }
            } else {
                let contacted = x.contacted.ok_or_else(|| {
                    ApiError::invalid(
                        "contacted",
                        "contacted (true/false) is required",
                        "请填写是否联系",
                    )
                })?;
                CallbackOutcome::Reached {
                    contacted,
                    resolution: en(
                        "resolution",
                        &need("resolution", x.resolution)?,
                        Resolution::parse,
                        Resolution::names(),
                    )?,
                    satisfaction: en(
                        "satisfaction",
                        &need("satisfaction", x.satisfaction)?,
                        Satisfaction::parse,
                        Satisfaction::names(),
                    )?,
                    attitude: x
                        .attitude
                        .as_deref()
                        .map(|a| en("attitude", a, Attitude::parse, Attitude::names()))
                        .transpose()?,
                    comment: x.comment,
                }
            };
            Command::Callback { outcome }
        }
        "reopen" => {
            let x: ReopenB = body(b)?;
            let round = t.round;
            let deadlines = t
                .assignments
                .iter()
                .filter(|a| {
                    a.round == round
                        && a.role == AssignmentRole::Lead
                        && a.state == AssignmentState::Finished
                })
                .map(|a| {
                    (
                        a.unit.clone(),
                        st.policy.deadlines(
                            a.tier,
                            &a.unit,
                            &t.intake.category_code,
                            now,
                            &st.calendar,
                            &[],
                        ),
                    )
                })
                .collect();
            Command::Reopen {
                reason: x.reason,
                deadlines,
            }
        }
        "unmerge" => {
            let x: CloseB = body(b)?;
            Command::Unmerge {
                note: x.note.unwrap_or_else(|| "撤销错误合并".into()),
            }
        }
        "exempt" => {
            let x: ExemptB = body(b)?;
            Command::Exempt {
                reason: x
                    .reason
                    .as_deref()
                    .map(|r| en("reason", r, ExemptReason::parse, ExemptReason::names()))
                    .transpose()?,
                note: x.note,
            }
        }
        "close" => {
            let x: CloseB = body(b)?;
            Command::Close { note: x.note }
        }
        "archive" => Command::Archive,
        "reclassify" => crate::classify::reclassify_command(st, b, t)?,
        other => {
            return Err(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "unknown_action",
                format!("unknown action '{other}'; actions: {}", ACTIONS.join(", ")),
                format!("未知操作“{other}”"),
            ))
        }
    })
}

fn probe_body(action: &str) -> Value {
    match action {
        "answer" => json!({"answer": "x"}),
        "special" => json!({"handling": "legal_route", "note": "x"}),
        "consult" => json!({"note": "x"}),
        "dispatch" => json!({"assignments": [], "tier": "7d"}),
        "note" | "pause" => json!({"text": "x"}),
        "whistle" => json!({"units": ["-"], "reason": "x"}),
        "return" => json!({"reason": "other", "text": "x"}),
        "review-return" | "review-extension" => json!({"approve": true}),
        "extend" => json!({"days": 1, "reason": "x"}),
        "escalate" => json!({"level": "district", "reason": "x"}),
        "urge" => json!({"note": "x"}),
        "result" => json!({"text": "x"}),
        "callback" => {
            json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"})
        }
        "reopen" => json!({"reason": "x"}),
        "exempt" => json!({"reason": "unreasonable", "note": "x"}),
        _ => json!({}),
    }
}

/// The actions the caller could take on this ticket now (the UI shows only these).
pub fn allowed_actions(st: &AppState, actor: &Actor, t: &TicketState) -> Vec<&'static str> {
    let now = st.now();
    ACTIONS
        .iter()
        .copied()
        .filter(|a| role_may(actor.role, a))
        .filter(|a| {
            if *a == "merge" {
                return t.status == jiesu_domain::Status::New && t.first_dispatched_at.is_none();
            }
            let cmd = match build(st, actor, a, &probe_body(a), t, now) {
                Ok(c) => c,
                Err(_) => return false,
            };
            if authorize(actor, &cmd, t, &st.org).is_err() {
                return false;
            }
            match jiesu_domain::decide(t, &cmd, now) {
                Ok(_) => true,
                Err(DomainError::Invalid { field, .. }) => field != "callback",
                Err(_) => false,
            }
        })
        .collect()
}

#[derive(Deserialize)]
struct MergeB {
    into: String,
}

pub async fn act(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path((id, action)): Path<(String, String)>,
    Json(b): Json<Value>,
) -> ApiResult<axum::Json<crate::views::TicketView>> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    if !ACTIONS.contains(&action.as_str()) {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "unknown_action",
            format!("unknown action '{action}'; actions: {}", ACTIONS.join(", ")),
            format!("未知操作“{action}”"),
        ));
    }
    // visibility first: a foreign unit gets 404 whatever it asks
    let _ = load_visible(&st, &actor, id).await?;
    crate::auth::require_role(&actor, role_may(actor.role, &action), &action)?;
    let side: Arc<Mutex<Option<ApiError>>> = Arc::new(Mutex::new(None));
    let now = st.now();
    let state = if action == "merge" {
        let x: MergeB = body(&b)?;
        let s2 = st.clone();
        let into = x.into.clone();
        let primary = tokio::task::spawn_blocking(move || s2.store.ticket_id_by_number(&into))
            .await??
            .or_else(|| x.into.parse::<i64>().ok())
            .ok_or_else(|| {
                ApiError::invalid(
                    "into",
                    format!("no ticket numbered '{}'", x.into),
                    format!("工单“{}”不存在", x.into),
                )
            })?;
        let (p, _) = load_visible(&st, &actor, primary).await.map_err(|_| {
            ApiError::invalid(
                "into",
                format!("no ticket numbered '{}'", x.into),
                format!("工单“{}”不存在", x.into),
            )
        })?;
        let dup_number = {
            let s2 = st.clone();
            tokio::task::spawn_blocking(move || s2.store.load_ticket(id))
                .await??
                .map(|(t, _)| t.number)
                .unwrap_or_default()
        };
        let (a1, a2) = (actor.clone(), actor.clone());
        let (o1, o2) = (st.org.clone(), st.org.clone());
        let pnum = p.number.clone();
        let c1: jiesu_store::Change = Box::new(move |t: &mut TicketState| {
            let cmd = Command::Merge {
                primary,
                primary_number: pnum,
            };
            authorize(&a1, &cmd, t, &o1)?;
            Ok(execute(t, &cmd, &a1.to_ref(None), now)?)
        });
        let c2: jiesu_store::Change = Box::new(move |t: &mut TicketState| {
            let cmd = Command::AttachDuplicate {
                duplicate: id,
                duplicate_number: dup_number,
            };
            authorize(&a2, &cmd, t, &o2)?;
            Ok(execute(t, &cmd, &a2.to_ref(None), now)?)
        });
        let s2 = st.clone();
        tokio::task::spawn_blocking(move || s2.store.update_two((id, c1), (primary, c2)))
            .await??
            .0
    } else {
        let (s2, a2, side2, action2) = (st.clone(), actor.clone(), side.clone(), action.clone());
        let change: jiesu_store::Change = Box::new(move |t: &mut TicketState| {
            let cmd = match build(&s2, &a2, &action2, &b, t, now) {
                Ok(c) => c,
                Err(e) => {
                    if let Ok(mut g) = side2.lock() {
                        *g = Some(e);
                    }
                    return Err(StoreError::Conflict("rejected".into()));
                }
            };
            authorize(&a2, &cmd, t, &s2.org)?;
            let acting = cmd.acting_unit().map(str::to_string);
            Ok(execute(t, &cmd, &a2.to_ref(acting.as_deref()), now)?)
        });
        let s3 = st.clone();
        let r = tokio::task::spawn_blocking(move || s3.store.update_ticket(id, change)).await?;
        if let Some(e) = side.lock().ok().and_then(|mut g| g.take()) {
            return Err(e);
        }
        r?.0
    };
    Ok(axum::Json(view_and_audit(&st, &actor, &state).await?))
}
