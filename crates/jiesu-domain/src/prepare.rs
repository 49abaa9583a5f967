//! From a caller's request to a [`Command`]: the typed request bodies (parsed from JSON at the
//! edge), [`prepare`] — which fills in what the caller leaves out (the acting unit, the default
//! tier, the urged unit, the deadlines) from the ticket's current state — and [`allowed_actions`],
//! the actions a caller could take now. Pure: the org tree, the category tree, the time, the
//! deadline source and the duty catalogue's answer are passed in a [`Context`].

use crate::action::Action;
use crate::auth::{authorize, Actor};
use crate::category::CategoryTree;
use crate::command::{decide, AssignmentRequest, Command};
use crate::deadline::DeadlineSource;
use crate::error::parse_wire as wire;
use crate::error::DomainError;
use crate::event::{CallbackOutcome, TicketId};
use crate::org::OrgTree;
use crate::state::{Assignment, AssignmentState, Status, TicketState};
use crate::ticket::*;
use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What [`prepare`] needs besides the request and the ticket: plain data and traits, no IO.
pub struct Context<'a> {
    /// The organisation tree (unit codes, scopes, who can receive tickets).
    pub org: &'a OrgTree,
    /// The category tree (改类 checks the new code).
    pub categories: &'a CategoryTree,
    /// The time of the change.
    pub now: DateTime<Utc>,
    /// The deadlines of a new or reopened assignment.
    pub deadlines: &'a dyn DeadlineSource,
    /// The published duty catalogue's tier (派单目录) for a request, if it names one; a dispatch
    /// without a tier takes it, else the request type's default.
    pub catalogue_tier: &'a dyn Fn(&Intake) -> Option<DeadlineTier>,
    /// For 合并: the ticket named by `into`, resolved by the caller (id, public number).
    pub merge_primary: Option<(TicketId, String)>,
}

/// A unit named (or not) in a body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitBody {
    /// The unit the action is for; found from the caller's assignments when left out.
    #[serde(default)]
    pub unit_code: Option<String>,
}

/// `answer`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerBody {
    /// The answer given to the citizen.
    pub answer: String,
    /// The knowledge-base article it comes from.
    #[serde(default)]
    pub article_id: Option<String>,
}

/// `special`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecialBody {
    /// A [`SpecialHandling`] wire name.
    pub handling: String,
    /// Why.
    pub note: String,
}

/// `consult`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsultBody {
    /// What to settle.
    pub note: String,
    /// The units consulted.
    #[serde(default)]
    pub units: Vec<String>,
}

/// One unit of a dispatch body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignBody {
    /// The unit.
    pub unit_code: String,
    /// An [`AssignmentRole`] wire name (lead / co).
    pub role: String,
}

/// `dispatch`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DispatchBody {
    /// The units.
    pub assignments: Vec<AssignBody>,
    /// A [`DeadlineTier`] wire name; the catalogue's or the type's default when left out.
    #[serde(default)]
    pub tier: Option<String>,
    /// A note.
    #[serde(default)]
    pub note: Option<String>,
    /// The catalogue rule followed.
    #[serde(default)]
    pub rule: Option<String>,
}

/// `respond`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RespondBody {
    /// The acting unit.
    #[serde(default)]
    pub unit_code: Option<String>,
    /// A note.
    #[serde(default)]
    pub note: Option<String>,
}

/// `note` and `pause`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteBody {
    /// The acting unit.
    #[serde(default)]
    pub unit_code: Option<String>,
    /// The text (the reason, for a pause).
    pub text: String,
    /// Shown to the citizen.
    #[serde(default)]
    pub public: bool,
}

/// `whistle`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhistleBody {
    /// The acting unit.
    #[serde(default)]
    pub unit_code: Option<String>,
    /// The units summoned.
    pub units: Vec<String>,
    /// Why.
    pub reason: String,
    /// Minutes to report in (30 when left out; 1 minute to 7 days).
    #[serde(default)]
    pub report_minutes: Option<i64>,
}

/// `return`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnBody {
    /// The acting unit.
    #[serde(default)]
    pub unit_code: Option<String>,
    /// A [`ReturnReason`] wire name.
    pub reason: String,
    /// The explanation.
    pub text: String,
}

/// `review-return` and `review-extension`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewBody {
    /// The unit whose request is reviewed; the one pending when left out.
    #[serde(default)]
    pub unit_code: Option<String>,
    /// Approve or reject.
    pub approve: bool,
    /// A note.
    #[serde(default)]
    pub note: Option<String>,
}

/// `extend`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtendBody {
    /// The acting unit.
    #[serde(default)]
    pub unit_code: Option<String>,
    /// The new finish deadline (RFC 3339) …
    #[serde(default)]
    pub until: Option<String>,
    /// … or days added to the current one (1 to 60).
    #[serde(default)]
    pub days: Option<i64>,
    /// Why.
    pub reason: String,
}

/// `urge`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrgeBody {
    /// The unit urged; the active lead when left out.
    #[serde(default)]
    pub unit_code: Option<String>,
    /// The note to the unit.
    pub note: String,
}

/// `escalate`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalateBody {
    /// An [`EscalationLevel`] wire name.
    pub level: String,
    /// The unit escalated to.
    #[serde(default)]
    pub to_unit: Option<String>,
    /// Why.
    pub reason: String,
}

/// `result`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultBody {
    /// The acting unit.
    #[serde(default)]
    pub unit_code: Option<String>,
    /// What was done.
    pub text: String,
    /// Attachment ids.
    #[serde(default)]
    pub evidence: Vec<String>,
}

/// `callback`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallbackBody {
    /// The citizen could not be reached (未接通).
    #[serde(default)]
    pub unreachable: bool,
    /// Whether the unit contacted the citizen.
    #[serde(default)]
    pub contacted: Option<bool>,
    /// A [`Resolution`] wire name.
    #[serde(default)]
    pub resolution: Option<String>,
    /// A [`Satisfaction`] wire name.
    #[serde(default)]
    pub satisfaction: Option<String>,
    /// An [`Attitude`] wire name.
    #[serde(default)]
    pub attitude: Option<String>,
    /// The citizen's words.
    #[serde(default)]
    pub comment: Option<String>,
    /// A note (for an unreachable attempt).
    #[serde(default)]
    pub note: Option<String>,
}

/// `reopen`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReopenBody {
    /// Why.
    pub reason: String,
}

/// `merge`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeBody {
    /// The number (or id) of the ticket this one is merged into.
    pub into: String,
}

/// `exempt`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExemptBody {
    /// An [`ExemptReason`] wire name; none lifts the exemption.
    #[serde(default)]
    pub reason: Option<String>,
    /// The explanation.
    pub note: String,
}

/// `transfer`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferBody {
    /// An [`EmergencyService`] wire name: 110, 119, 120 or 122.
    pub to: String,
    /// Why the request goes to that service.
    pub reason: String,
}

/// `transfer-reply`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferReplyBody {
    /// The [`EmergencyService`] that replied (110, 119, 120 or 122).
    pub to: String,
    /// A [`TransferOutcome`] wire name: accepted, declined or handled.
    pub outcome: String,
    /// The reply in words.
    pub text: String,
    /// The service's own reference (case number).
    #[serde(default)]
    pub reference: Option<String>,
}

/// `close` and `unmerge`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CloseBody {
    /// A note.
    #[serde(default)]
    pub note: Option<String>,
}

/// `reclassify`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReclassifyBody {
    /// The new category; the current one when left out.
    #[serde(default)]
    pub category_code: Option<String>,
    /// The new [`RequestType`] wire name; the current one when left out.
    #[serde(default, rename = "type")]
    pub request_type: Option<String>,
    /// Why (an empty reason is refused by `decide`).
    #[serde(default)]
    pub reason: String,
}

/// A caller's request for one action, with its typed body.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum ActionRequest {
    Answer(AnswerBody),
    Special(SpecialBody),
    Consult(ConsultBody),
    Dispatch(DispatchBody),
    Sign(UnitBody),
    Pause(NoteBody),
    Resume(UnitBody),
    Respond(RespondBody),
    Note(NoteBody),
    Whistle(WhistleBody),
    Report(UnitBody),
    Return(ReturnBody),
    ReviewReturn(ReviewBody),
    Extend(ExtendBody),
    ReviewExtension(ReviewBody),
    Escalate(EscalateBody),
    Urge(UrgeBody),
    Result(ResultBody),
    Callback(CallbackBody),
    Reopen(ReopenBody),
    Merge(MergeBody),
    Unmerge(CloseBody),
    Exempt(ExemptBody),
    Reclassify(ReclassifyBody),
    Close(CloseBody),
    Archive,
    Transfer(TransferBody),
    TransferReply(TransferReplyBody),
}

fn body<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, DomainError> {
    serde_json::from_value(v).map_err(|e| {
        let msg = e.to_string();
        let field = msg.find('`').and_then(|s| {
            msg[s + 1..]
                .find('`')
                .map(|e2| msg[s + 1..s + 1 + e2].to_string())
        });
        DomainError::invalid(
            field.clone().unwrap_or_else(|| "body".into()),
            format!("the body does not match this action: {msg}"),
            format!("请求字段有误：{}", field.unwrap_or_default()),
        )
    })
}

impl ActionRequest {
    /// Parses the JSON body of `action`. `None` for the actions that are not routed (attach,
    /// attach-duplicate, remind: their commands are built by their own routes).
    pub fn from_json(action: Action, b: serde_json::Value) -> Option<Result<Self, DomainError>> {
        use ActionRequest as R;
        Some(match action {
            Action::Answer => body(b).map(R::Answer),
            Action::Special => body(b).map(R::Special),
            Action::Consult => body(b).map(R::Consult),
            Action::Dispatch => body(b).map(R::Dispatch),
            Action::Sign => body(b).map(R::Sign),
            Action::Pause => body(b).map(R::Pause),
            Action::Resume => body(b).map(R::Resume),
            Action::Respond => body(b).map(R::Respond),
            Action::Note => body(b).map(R::Note),
            Action::Whistle => body(b).map(R::Whistle),
            Action::Report => body(b).map(R::Report),
            Action::Return => body(b).map(R::Return),
            Action::ReviewReturn => body(b).map(R::ReviewReturn),
            Action::Extend => body(b).map(R::Extend),
            Action::ReviewExtension => body(b).map(R::ReviewExtension),
            Action::Escalate => body(b).map(R::Escalate),
            Action::Urge => body(b).map(R::Urge),
            Action::Result => body(b).map(R::Result),
            Action::Callback => body(b).map(R::Callback),
            Action::Reopen => body(b).map(R::Reopen),
            Action::Merge => body(b).map(R::Merge),
            Action::Unmerge => body(b).map(R::Unmerge),
            Action::Exempt => body(b).map(R::Exempt),
            Action::Reclassify => body(b).map(R::Reclassify),
            Action::Close => body(b).map(R::Close),
            Action::Archive => Ok(R::Archive),
            Action::Transfer => body(b).map(R::Transfer),
            Action::TransferReply => body(b).map(R::TransferReply),
            Action::AttachDuplicate
            | Action::Attach
            | Action::Remind
            | Action::ErasePersonalData => return None,
        })
    }

    /// The action asked for.
    pub fn action(&self) -> Action {
        use ActionRequest as R;
        match self {
            R::Answer(_) => Action::Answer,
            R::Special(_) => Action::Special,
            R::Consult(_) => Action::Consult,
            R::Dispatch(_) => Action::Dispatch,
            R::Sign(_) => Action::Sign,
            R::Pause(_) => Action::Pause,
            R::Resume(_) => Action::Resume,
            R::Respond(_) => Action::Respond,
            R::Note(_) => Action::Note,
            R::Whistle(_) => Action::Whistle,
            R::Report(_) => Action::Report,
            R::Return(_) => Action::Return,
            R::ReviewReturn(_) => Action::ReviewReturn,
            R::Extend(_) => Action::Extend,
            R::ReviewExtension(_) => Action::ReviewExtension,
            R::Escalate(_) => Action::Escalate,
            R::Urge(_) => Action::Urge,
            R::Result(_) => Action::Result,
            R::Callback(_) => Action::Callback,
            R::Reopen(_) => Action::Reopen,
            R::Merge(_) => Action::Merge,
            R::Unmerge(_) => Action::Unmerge,
            R::Exempt(_) => Action::Exempt,
            R::Reclassify(_) => Action::Reclassify,
            R::Close(_) => Action::Close,
            R::Archive => Action::Archive,
            R::Transfer(_) => Action::Transfer,
            R::TransferReply(_) => Action::TransferReply,
        }
    }

    /// The same request naming `unit` as `unit_code` (for bodies that take one).
    pub fn with_unit(self, unit: &str) -> Self {
        use ActionRequest as R;
        let u = Some(unit.to_string());
        match self {
            R::Sign(_) => R::Sign(UnitBody { unit_code: u }),
            R::Resume(_) => R::Resume(UnitBody { unit_code: u }),
            R::Report(_) => R::Report(UnitBody { unit_code: u }),
            R::Pause(x) => R::Pause(NoteBody { unit_code: u, ..x }),
            R::Note(x) => R::Note(NoteBody { unit_code: u, ..x }),
            R::Respond(x) => R::Respond(RespondBody { unit_code: u, ..x }),
            R::Whistle(x) => R::Whistle(WhistleBody { unit_code: u, ..x }),
            R::Return(x) => R::Return(ReturnBody { unit_code: u, ..x }),
            R::ReviewReturn(x) => R::ReviewReturn(ReviewBody { unit_code: u, ..x }),
            R::ReviewExtension(x) => R::ReviewExtension(ReviewBody { unit_code: u, ..x }),
            R::Extend(x) => R::Extend(ExtendBody { unit_code: u, ..x }),
            R::Urge(x) => R::Urge(UrgeBody { unit_code: u, ..x }),
            R::Result(x) => R::Result(ResultBody { unit_code: u, ..x }),
            other => other,
        }
    }

    /// The canonical request of `action` that [`allowed_actions`] tries: the smallest body the
    /// action takes, so that what refuses it is the ticket's state, the role or the scope.
    pub fn canonical(action: Action) -> Option<Self> {
        use ActionRequest as R;
        let x = || "x".to_string();
        Some(match action {
            Action::Answer => R::Answer(AnswerBody {
                answer: x(),
                article_id: None,
            }),
            Action::Special => R::Special(SpecialBody {
                handling: "legal_route".into(),
                note: x(),
            }),
            Action::Consult => R::Consult(ConsultBody {
                note: x(),
                units: vec![],
            }),
            Action::Dispatch => R::Dispatch(DispatchBody {
                assignments: vec![],
                tier: Some(DeadlineTier::D7.as_str().into()),
                note: None,
                rule: None,
            }),
            Action::Sign => R::Sign(UnitBody::default()),
            Action::Pause => R::Pause(NoteBody {
                unit_code: None,
                text: x(),
                public: false,
            }),
            Action::Resume => R::Resume(UnitBody::default()),
            Action::Respond => R::Respond(RespondBody::default()),
            Action::Note => R::Note(NoteBody {
                unit_code: None,
                text: x(),
                public: false,
            }),
            Action::Whistle => R::Whistle(WhistleBody {
                unit_code: None,
                units: vec![],
                reason: x(),
                report_minutes: None,
            }),
            Action::Report => R::Report(UnitBody::default()),
            Action::Return => R::Return(ReturnBody {
                unit_code: None,
                reason: "other".into(),
                text: x(),
            }),
            Action::ReviewReturn => R::ReviewReturn(ReviewBody {
                unit_code: None,
                approve: true,
                note: None,
            }),
            Action::Extend => R::Extend(ExtendBody {
                unit_code: None,
                until: None,
                days: Some(1),
                reason: x(),
            }),
            Action::ReviewExtension => R::ReviewExtension(ReviewBody {
                unit_code: None,
                approve: true,
                note: None,
            }),
            Action::Escalate => R::Escalate(EscalateBody {
                level: "district".into(),
                to_unit: None,
                reason: x(),
            }),
            Action::Urge => R::Urge(UrgeBody {
                unit_code: None,
                note: x(),
            }),
            Action::Result => R::Result(ResultBody {
                unit_code: None,
                text: x(),
                evidence: vec![],
            }),
            Action::Callback => R::Callback(CallbackBody {
                contacted: Some(true),
                resolution: Some("resolved".into()),
                satisfaction: Some("satisfied".into()),
                ..Default::default()
            }),
            Action::Reopen => R::Reopen(ReopenBody { reason: x() }),
            Action::Merge => R::Merge(MergeBody { into: x() }),
            Action::Unmerge => R::Unmerge(CloseBody::default()),
            Action::Exempt => R::Exempt(ExemptBody {
                reason: Some("unreasonable".into()),
                note: x(),
            }),
            Action::Reclassify => R::Reclassify(ReclassifyBody {
                category_code: None,
                request_type: None,
                reason: x(),
            }),
            Action::Close => R::Close(CloseBody::default()),
            Action::Archive => R::Archive,
            // the first number the risk mark still waits for, else the police (110)
            Action::Transfer => R::Transfer(TransferBody {
                to: "110".into(),
                reason: x(),
            }),
            Action::TransferReply => R::TransferReply(TransferReplyBody {
                to: "110".into(),
                outcome: "handled".into(),
                text: x(),
                reference: None,
            }),
            Action::AttachDuplicate
            | Action::Attach
            | Action::Remind
            | Action::ErasePersonalData => return None,
        })
    }
}

fn need(field: &str, v: Option<String>) -> Result<String, DomainError> {
    v.ok_or_else(|| {
        DomainError::invalid(
            field,
            format!("{field} is required"),
            format!("{field} 为必填项"),
        )
    })
}

fn known_units(ctx: &Context, field: &str, units: &[String]) -> Result<(), DomainError> {
    for (i, u) in units.iter().enumerate() {
        if ctx.org.get(u).is_none() {
            return Err(DomainError::invalid(
                format!("{field}[{i}]"),
                format!("unknown unit '{u}'"),
                format!("单位“{u}”不存在"),
            ));
        }
    }
    Ok(())
}

/// The default tier when neither the dispatcher, the catalogue nor the intake sets one.
pub fn default_tier(t: &TicketState) -> DeadlineTier {
    t.intake.tier.unwrap_or(match t.intake.request_type {
        RequestType::Help => DeadlineTier::H24,
        _ => DeadlineTier::D7,
    })
}

/// The unit the caller acts for on this ticket: for unit roles, their own active assignment (or
/// one of their children's) that `pred` accepts; centre roles name it with `unit_code`.
fn acting_unit(
    ctx: &Context,
    actor: &Actor,
    t: &TicketState,
    given: Option<String>,
    pred: impl Fn(&Assignment) -> bool,
) -> Result<String, DomainError> {
    if let Some(u) = given {
        return Ok(u);
    }
    if actor.role.is_unit() {
        let mine = actor.unit.as_deref().unwrap_or_default();
        let cands: Vec<&Assignment> = t
            .assignments
            .iter()
            .filter(|a| a.state.active() && actor.covers(&a.unit, ctx.org) && pred(a))
            .collect();
        if let Some(a) = cands.iter().find(|a| a.unit == mine).or(cands.first()) {
            return Ok(a.unit.clone());
        }
        // no suitable active assignment: report the unit itself so the domain says why
        return Ok(mine.to_string());
    }
    Err(DomainError::invalid(
        "unit_code",
        "name the unit this action is for",
        "请指定单位（unit_code）",
    ))
}

/// Turns a request into the command on the ticket's current state: the acting unit, the default
/// tier (the catalogue's, else the type's), the urged unit, the deadlines of new and reopened
/// assignments, the merge target. Checks codes against the org and category trees and parses
/// wire names; what the state allows is `decide`'s business.
pub fn prepare(
    req: ActionRequest,
    actor: &Actor,
    t: &TicketState,
    ctx: &Context,
) -> Result<Command, DomainError> {
    use ActionRequest as R;
    let now = ctx.now;
    Ok(match req {
        R::Answer(x) => Command::Answer {
            answer: x.answer,
            article_id: x.article_id,
        },
        R::Special(x) => Command::SpecialHandle {
            handling: wire(
                "handling",
                &x.handling,
                SpecialHandling::parse,
                SpecialHandling::names(),
            )?,
            note: x.note,
        },
        R::Consult(x) => {
            known_units(ctx, "units", &x.units)?;
            Command::Consult {
                note: x.note,
                units: x.units,
            }
        }
        R::Dispatch(x) => {
            let tier = match x.tier.as_deref() {
                Some(s) => wire("tier", s, DeadlineTier::parse, DeadlineTier::names())?,
                None => (ctx.catalogue_tier)(&t.intake).unwrap_or_else(|| default_tier(t)),
            };
            let mut reqs = Vec::with_capacity(x.assignments.len());
            for (i, a) in x.assignments.iter().enumerate() {
                let field = format!("assignments[{i}].unit_code");
                let unit = ctx.org.get(&a.unit_code).ok_or_else(|| {
                    DomainError::invalid(
                        &field,
                        format!("unknown unit '{}'", a.unit_code),
                        format!("单位“{}”不存在", a.unit_code),
                    )
                })?;
                if !unit.kind.dispatchable() || !unit.active {
                    return Err(DomainError::invalid(
                        &field,
                        format!(
                            "{} ({}) cannot receive tickets",
                            unit.name,
                            unit.kind.as_str()
                        ),
                        format!("{}不能作为承办单位", unit.name),
                    ));
                }
                let role = wire(
                    &format!("assignments[{i}].role"),
                    &a.role,
                    AssignmentRole::parse,
                    AssignmentRole::names(),
                )?;
                reqs.push(AssignmentRequest {
                    unit: a.unit_code.clone(),
                    role,
                    tier,
                    deadlines: ctx.deadlines.deadlines(
                        tier,
                        &a.unit_code,
                        &t.intake.category_code,
                        now,
                    ),
                });
            }
            Command::Dispatch {
                assignments: reqs,
                note: x.note,
                rule: x.rule,
            }
        }
        R::Sign(x) => Command::Sign {
            unit: acting_unit(ctx, actor, t, x.unit_code, |a| {
                a.state == AssignmentState::Dispatched
            })?,
        },
        R::Pause(x) => Command::Pause {
            unit: acting_unit(ctx, actor, t, x.unit_code, |a| a.paused_since.is_none())?,
            reason: x.text,
        },
        R::Resume(x) => Command::Resume {
            unit: acting_unit(ctx, actor, t, x.unit_code, |a| a.paused_since.is_some())?,
        },
        R::Respond(x) => Command::Respond {
            unit: acting_unit(ctx, actor, t, x.unit_code, |a| {
                a.state == AssignmentState::Signed
            })?,
            note: x.note,
        },
        R::Note(x) => {
            let unit = if actor.role.is_unit() {
                let mine = actor.unit.clone().unwrap_or_default();
                x.unit_code
                    .or_else(|| {
                        t.involved_units()
                            .find(|u| actor.covers(u, ctx.org))
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
        R::Whistle(x) => {
            known_units(ctx, "units", &x.units)?;
            let mins = x.report_minutes.unwrap_or(30);
            if !(1..=7 * 24 * 60).contains(&mins) {
                return Err(DomainError::invalid(
                    "report_minutes",
                    "must be between 1 minute and 7 days",
                    "须在1分钟至7天之间",
                ));
            }
            Command::Whistle {
                unit: acting_unit(ctx, actor, t, x.unit_code, |a| {
                    a.state != AssignmentState::Dispatched
                })?,
                summoned: x.units,
                reason: x.reason,
                report_deadline: now + Duration::minutes(mins),
            }
        }
        R::Report(x) => {
            let unit = match x.unit_code {
                Some(u) => u,
                None => t
                    .whistles
                    .iter()
                    .flat_map(|w| w.summoned.iter())
                    .find(|u| actor.covers(u, ctx.org))
                    .cloned()
                    .or(actor.unit.clone())
                    .ok_or_else(|| {
                        DomainError::invalid(
                            "unit_code",
                            "name the unit reporting",
                            "请指定报到单位",
                        )
                    })?,
            };
            Command::Report { unit }
        }
        R::Return(x) => Command::RequestReturn {
            unit: acting_unit(ctx, actor, t, x.unit_code, |a| a.pending_return.is_none())?,
            reason: wire(
                "reason",
                &x.reason,
                ReturnReason::parse,
                ReturnReason::names(),
            )?,
            text: x.text,
        },
        R::ReviewReturn(x) => Command::ReviewReturn {
            unit: pending_unit(t, x.unit_code, Action::ReviewReturn)?,
            approve: x.approve,
            note: x.note,
        },
        R::ReviewExtension(x) => Command::ReviewExtension {
            unit: pending_unit(t, x.unit_code, Action::ReviewExtension)?,
            approve: x.approve,
            note: x.note,
        },
        R::Extend(x) => {
            let unit = acting_unit(ctx, actor, t, x.unit_code, |a| {
                a.pending_extension.is_none()
            })?;
            let until = match (x.until, x.days) {
                (Some(s), _) => DateTime::parse_from_rfc3339(&s)
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|_| {
                        DomainError::invalid(
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
                    return Err(DomainError::invalid(
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
        R::Urge(x) => {
            // without a unit: the active lead assignment (the one the supervision board counts)
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
        R::Escalate(x) => {
            if let Some(u) = &x.to_unit {
                if ctx.org.get(u).is_none() {
                    return Err(DomainError::invalid(
                        "to_unit",
                        format!("unknown unit '{u}'"),
                        format!("单位“{u}”不存在"),
                    ));
                }
            }
            Command::Escalate {
                level: wire(
                    "level",
                    &x.level,
                    EscalationLevel::parse,
                    EscalationLevel::names(),
                )?,
                to_unit: x.to_unit,
                reason: x.reason,
            }
        }
        R::Result(x) => Command::SubmitResult {
            unit: acting_unit(ctx, actor, t, x.unit_code, |a| {
                a.state == AssignmentState::Responded
            })?,
            text: x.text,
            evidence: x.evidence,
        },
        R::Callback(x) => Command::Callback {
            outcome: callback_outcome(x)?,
        },
        R::Reopen(x) => {
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
                    let d = ctx
                        .deadlines
                        .deadlines(a.tier, &a.unit, &t.intake.category_code, now);
                    (a.unit.clone(), d)
                })
                .collect();
            Command::Reopen {
                reason: x.reason,
                deadlines,
            }
        }
        R::Merge(x) => match &ctx.merge_primary {
            Some((primary, number)) => Command::Merge {
                primary: *primary,
                primary_number: number.clone(),
            },
            None => {
                return Err(DomainError::invalid(
                    "into",
                    format!("no ticket numbered '{}'", x.into),
                    format!("工单“{}”不存在", x.into),
                ))
            }
        },
        R::Unmerge(x) => Command::Unmerge {
            note: x.note.unwrap_or_else(|| "撤销错误合并".into()),
        },
        R::Transfer(x) => Command::Transfer {
            to: wire(
                "to",
                &x.to,
                EmergencyService::parse,
                EmergencyService::names(),
            )?,
            reason: x.reason,
        },
        R::TransferReply(x) => Command::TransferReply {
            to: wire(
                "to",
                &x.to,
                EmergencyService::parse,
                EmergencyService::names(),
            )?,
            outcome: wire(
                "outcome",
                &x.outcome,
                TransferOutcome::parse,
                TransferOutcome::names(),
            )?,
            text: x.text,
            reference: x.reference.filter(|r| !r.trim().is_empty()),
        },
        R::Exempt(x) => Command::Exempt {
            reason: x
                .reason
                .as_deref()
                .map(|r| wire("reason", r, ExemptReason::parse, ExemptReason::names()))
                .transpose()?,
            note: x.note,
        },
        R::Reclassify(x) => {
            let category_code = x
                .category_code
                .unwrap_or_else(|| t.intake.category_code.clone());
            if ctx.categories.get(&category_code).is_none() {
                return Err(DomainError::invalid(
                    "category_code",
                    format!("unknown category code '{category_code}'"),
                    format!("分类代码“{category_code}”不存在"),
                ));
            }
            let request_type = match x.request_type.as_deref() {
                None => t.intake.request_type,
                Some(s) => RequestType::parse(s).ok_or_else(|| {
                    DomainError::invalid(
                        "type",
                        format!("'{s}' is not one of: {}", RequestType::names()),
                        format!("“{s}”不是有效的诉求类型（可选：{}）", RequestType::names()),
                    )
                })?,
            };
            Command::Reclassify {
                category_code,
                request_type,
                reason: x.reason,
            }
        }
        R::Close(x) => Command::Close { note: x.note },
        R::Archive => Command::Archive,
    })
}

/// The unit whose return or extension is reviewed: the one named, else the one pending.
fn pending_unit(
    t: &TicketState,
    given: Option<String>,
    action: Action,
) -> Result<String, DomainError> {
    if let Some(u) = given {
        return Ok(u);
    }
    let ret = action == Action::ReviewReturn;
    t.assignments
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
            action: action.wire(),
            needed: if ret {
                "return-pending"
            } else {
                "extension-pending"
            },
        })
}

fn callback_outcome(x: CallbackBody) -> Result<CallbackOutcome, DomainError> {
    if x.unreachable {
        return Ok(CallbackOutcome::Unreachable { note: x.note });
    }
    let contacted = x.contacted.ok_or_else(|| {
        DomainError::invalid(
            "contacted",
            "contacted (true/false) is required",
            "请填写是否联系",
        )
    })?;
    Ok(CallbackOutcome::Reached {
        contacted,
        resolution: wire(
            "resolution",
            &need("resolution", x.resolution)?,
            Resolution::parse,
            Resolution::names(),
        )?,
        satisfaction: wire(
            "satisfaction",
            &need("satisfaction", x.satisfaction)?,
            Satisfaction::parse,
            Satisfaction::names(),
        )?,
        attitude: x
            .attitude
            .as_deref()
            .map(|a| wire("attitude", a, Attitude::parse, Attitude::names()))
            .transpose()?,
        comment: x.comment,
    })
}

/// The command on the primary ticket of a merge (并入重复诉求), written with the duplicate's
/// [`Command::Merge`].
pub fn attach_duplicate(duplicate: TicketId, duplicate_number: String) -> Command {
    Command::AttachDuplicate {
        duplicate,
        duplicate_number,
    }
}

/// Whether the state preconditions of `action` hold for `actor` on `t`: its canonical request
/// (without a unit, then naming each unit the ticket involves; for 考核豁免 also the emergency
/// transfer) is prepared, authorized and decided, and only its body (never the state, the role
/// or the scope) may still be refused — so a form with a valid body is accepted.
fn allowed(action: Action, actor: &Actor, t: &TicketState, ctx: &Context) -> bool {
    if !action.allows(actor.role) {
        return false;
    }
    if action == Action::Merge {
        // the primary is named in the body: the state precondition is the duplicate's
        return t.status == Status::New && t.first_dispatched_at.is_none();
    }
    let Some(req) = ActionRequest::canonical(action) else {
        return false;
    };
    let mut tries = vec![req.clone()];
    if action == Action::Exempt {
        // 紧急转接 may be exempted before any dispatch
        tries.push(ActionRequest::Exempt(ExemptBody {
            reason: Some(ExemptReason::EmergencyTransfer.as_str().into()),
            note: "x".into(),
        }));
    }
    if action == Action::TransferReply {
        // a reply is to an open transfer: try each service one is open to
        tries = t
            .transfers
            .iter()
            .filter(|x| x.open())
            .map(|x| {
                ActionRequest::TransferReply(TransferReplyBody {
                    to: x.to.as_str().into(),
                    outcome: "handled".into(),
                    text: "x".into(),
                    reference: None,
                })
            })
            .collect();
    }
    if action.body_fields().iter().any(|f| f.name == "unit_code") {
        // the unit may be named: any unit the ticket involves
        for u in t.involved_units() {
            tries.push(req.clone().with_unit(u));
        }
    }
    tries
        .into_iter()
        .any(|r| accepted(action, r, actor, t, ctx))
}

fn accepted(
    action: Action,
    req: ActionRequest,
    actor: &Actor,
    t: &TicketState,
    ctx: &Context,
) -> bool {
    let cmd = match prepare(req, actor, t, ctx) {
        Ok(c) => c,
        Err(_) => return false,
    };
    if authorize(actor, &cmd, t, ctx.org).is_err() {
        return false;
    }
    match decide(t, &cmd, ctx.now) {
        Ok(_) => true,
        // the canonical body's own content (no units, the current category …), not the state
        Err(DomainError::Invalid { field, .. }) => body_only(action, &field),
        Err(_) => false,
    }
}

/// Whether a refusal on `field` is about the canonical body only, which a real form fills in
/// (no units yet, the current category). A dispatch of a place-less request stays listed: the
/// refusal tells the agent to fill in the place first.
fn body_only(action: Action, field: &str) -> bool {
    matches!(
        (action, field),
        (Action::Dispatch, "assignments" | "district_code")
            | (Action::Whistle, "units")
            | (Action::Reclassify, "category_code")
            // another service may still be transferred to
            | (Action::Transfer, "to")
    )
}

/// The actions `actor` could take on `t` now, in table order (the UI shows only these).
pub fn allowed_actions(actor: &Actor, t: &TicketState, ctx: &Context) -> Vec<Action> {
    Action::ROUTED
        .iter()
        .copied()
        .filter(|a| allowed(*a, actor, t, ctx))
        .collect()
}
