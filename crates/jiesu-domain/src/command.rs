//! Commands and `decide`: the only place that says which transitions are legal. `decide` checks a
//! command against the folded state and returns the events to append; it never does IO and takes
//! the time as an argument.

use crate::action::Action;
use crate::error::DomainError;
use crate::event::*;
use crate::state::*;
use crate::ticket::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many unsuccessful callback attempts allow closing without an answer (未接通 N 次).
pub const MAX_CALLBACK_ATTEMPTS: usize = 3;

/// A unit and its role in a dispatch, with the deadlines computed for it (see `deadline`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentRequest {
    /// The unit (code) concerned.
    pub unit: String,
    /// The role.
    pub role: AssignmentRole,
    /// The deadline tier (时限).
    pub tier: DeadlineTier,
    /// The three clocks (sign, respond, finish).
    pub deadlines: Deadlines,
}

/// Everything one can ask of an existing ticket. Unit-scoped commands name the acting unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    /// 直接答复 — answer on the spot.
    Answer {
        /// The answer given.
        answer: String,
        /// The knowledge-base article the answer comes from.
        article_id: Option<String>,
    },
    /// 特殊处置.
    SpecialHandle {
        /// The kind of special handling.
        handling: SpecialHandling,
        /// A note in words.
        note: String,
    },
    /// 派单会商: open a pre-dispatch consultation.
    Consult {
        /// A note in words.
        note: String,
        /// The units concerned.
        units: Vec<String>,
    },
    /// 派单 — units with their roles and deadlines.
    Dispatch {
        /// The units and their roles.
        assignments: Vec<AssignmentRequest>,
        /// A note in words.
        note: Option<String>,
        /// The catalogue rule followed, if any.
        rule: Option<String>,
    },
    /// 暂停计时 (waiting for the citizen).
    Pause {
        /// The unit (code) concerned.
        unit: String,
        /// Why, in words.
        reason: String,
    },
    /// 恢复计时.
    Resume {
        /// The unit (code) concerned.
        unit: String,
    },
    /// 签收.
    Sign {
        /// The unit (code) concerned.
        unit: String,
    },
    /// 联系诉求人 — the unit has contacted the citizen.
    Respond {
        /// The unit (code) concerned.
        unit: String,
        /// A note in words.
        note: Option<String>,
    },
    /// 办理进展 — a progress note, for a unit or the centre.
    Note {
        /// The unit (code) concerned.
        unit: Option<String>,
        /// The text in words.
        text: String,
        /// Shown to the citizen on tracking.
        public: bool,
    },
    /// 吹哨 — summon other units.
    Whistle {
        /// The unit (code) concerned.
        unit: String,
        /// The units summoned (吹哨).
        summoned: Vec<String>,
        /// Why, in words.
        reason: String,
        /// When the summoned units must have reported in (报到时限).
        report_deadline: DateTime<Utc>,
    },
    /// 报到 — a summoned unit reports in.
    Report {
        /// The unit (code) concerned.
        unit: String,
    },
    /// 退单 — a unit returns a wrongly dispatched ticket.
    RequestReturn {
        /// The unit (code) concerned.
        unit: String,
        /// Why, in words.
        reason: ReturnReason,
        /// The text in words.
        text: String,
    },
    /// 退单审核.
    ReviewReturn {
        /// The unit (code) concerned.
        unit: String,
        /// Approve (true) or reject (false).
        approve: bool,
        /// A note in words.
        note: Option<String>,
    },
    /// 申请延期.
    RequestExtension {
        /// The unit (code) concerned.
        unit: String,
        /// The new finish deadline asked for.
        until: DateTime<Utc>,
        /// Why, in words.
        reason: String,
    },
    /// 延期审核.
    ReviewExtension {
        /// The unit (code) concerned.
        unit: String,
        /// Approve (true) or reject (false).
        approve: bool,
        /// A note in words.
        note: Option<String>,
    },
    /// 提级.
    Escalate {
        /// The escalation level (提级).
        level: EscalationLevel,
        /// The unit escalated to, if any.
        to_unit: Option<String>,
        /// Why, in words.
        reason: String,
    },
    /// 办结 — the unit submits its result.
    SubmitResult {
        /// The unit (code) concerned.
        unit: String,
        /// The text in words.
        text: String,
        /// Attachment ids given as evidence.
        evidence: Vec<String>,
    },
    /// 回访 — the callback's outcome.
    Callback {
        /// What the callback found.
        outcome: CallbackOutcome,
    },
    /// 重办 — new deadlines for the round's lead units.
    Reopen {
        /// Why, in words.
        reason: String,
        /// The three clocks (sign, respond, finish).
        deadlines: Vec<(String, Deadlines)>,
    },
    /// 合并 — this ticket into another.
    Merge {
        /// The ticket merged into.
        primary: TicketId,
        /// Its public number.
        primary_number: String,
    },
    /// 并入重复诉求 — the primary side of a merge.
    AttachDuplicate {
        /// The duplicate ticket.
        duplicate: TicketId,
        /// Its public number.
        duplicate_number: String,
    },
    /// 撤销合并.
    Unmerge {
        /// A note in words.
        note: String,
    },
    /// 督办催办 — the centre urges a unit on its open assignment.
    Urge {
        /// The unit (code) concerned.
        unit: String,
        /// A note in words.
        note: String,
    },
    /// 删除个人信息 — the retention task erases the personal data of an archived ticket closed
    /// at least `retention_years` ago (see [`personal_data_expired`]).
    ErasePersonalData {
        /// The retention period (保存期限) that has passed, in years.
        retention_years: u32,
    },
    /// The scheduler reports a passed threshold (see `EventKind::Reminded`).
    Remind {
        /// The unit (code) concerned.
        unit: String,
        /// The clock: sign, respond or finish.
        clock: String,
        /// The clock epoch (a new one after an extension or reopen).
        epoch: u32,
        /// The threshold index of the reminder.
        index: u8,
        /// How far the clock has run, in permille.
        permille: u32,
        /// Whether the clock had already passed.
        overdue: bool,
    },
    /// 考核豁免: exclude from scoring (`reason: None` lifts it).
    Exempt {
        /// Why, in words.
        reason: Option<ExemptReason>,
        /// A note in words.
        note: String,
    },
    /// 结案.
    Close {
        /// A note in words.
        note: Option<String>,
    },
    /// 归档.
    Archive,
    /// 改类 — correct the request type and category (an agent's, dispatcher's or supervisor's
    /// correction; kept in the log, it becomes a labelled example for the classifiers).
    Reclassify {
        /// The category code.
        category_code: String,
        /// The request type (诉求类型).
        request_type: RequestType,
        /// Why, in words.
        reason: String,
    },
    /// 转接 — transfer to an emergency service (110/119/120/122).
    Transfer {
        /// The service.
        to: EmergencyService,
        /// Why, in words.
        reason: String,
    },
    /// 转接回复 — record the service's reply to the open transfer to it.
    TransferReply {
        /// The service that replied.
        to: EmergencyService,
        /// Accepted, declined or handled.
        outcome: TransferOutcome,
        /// The reply in words.
        text: String,
        /// The service's own reference, if given.
        reference: Option<String>,
    },
    /// 上传附件 — a file attached.
    Attach {
        /// The id.
        id: String,
        /// The file name.
        file_name: String,
        /// The MIME type.
        content_type: String,
        /// The size in bytes.
        size: u64,
    },
}

impl Command {
    /// The action's wire name (as in `POST /api/v1/tickets/{id}/{action}`).
    pub fn action(&self) -> &'static str {
        self.kind().wire()
    }
    /// The action of the table this command is.
    pub fn kind(&self) -> Action {
        match self {
            Command::Answer { .. } => Action::Answer,
            Command::SpecialHandle { .. } => Action::Special,
            Command::Consult { .. } => Action::Consult,
            Command::Dispatch { .. } => Action::Dispatch,
            Command::Pause { .. } => Action::Pause,
            Command::Resume { .. } => Action::Resume,
            Command::Sign { .. } => Action::Sign,
            Command::Respond { .. } => Action::Respond,
            Command::Note { .. } => Action::Note,
            Command::Whistle { .. } => Action::Whistle,
            Command::Report { .. } => Action::Report,
            Command::RequestReturn { .. } => Action::Return,
            Command::ReviewReturn { .. } => Action::ReviewReturn,
            Command::RequestExtension { .. } => Action::Extend,
            Command::ReviewExtension { .. } => Action::ReviewExtension,
            Command::Escalate { .. } => Action::Escalate,
            Command::SubmitResult { .. } => Action::Result,
            Command::Callback { .. } => Action::Callback,
            Command::Reopen { .. } => Action::Reopen,
            Command::Merge { .. } => Action::Merge,
            Command::AttachDuplicate { .. } => Action::AttachDuplicate,
            Command::Unmerge { .. } => Action::Unmerge,
            Command::Exempt { .. } => Action::Exempt,
            Command::Remind { .. } => Action::Remind,
            Command::ErasePersonalData { .. } => Action::ErasePersonalData,
            Command::Urge { .. } => Action::Urge,
            Command::Close { .. } => Action::Close,
            Command::Archive => Action::Archive,
            Command::Reclassify { .. } => Action::Reclassify,
            Command::Attach { .. } => Action::Attach,
            Command::Transfer { .. } => Action::Transfer,
            Command::TransferReply { .. } => Action::TransferReply,
        }
    }
    /// The unit the command acts for, when it is a unit's action.
    pub fn acting_unit(&self) -> Option<&str> {
        match self {
            Command::Sign { unit }
            | Command::Pause { unit, .. }
            | Command::Resume { unit }
            | Command::Respond { unit, .. }
            | Command::Whistle { unit, .. }
            | Command::Report { unit }
            | Command::RequestReturn { unit, .. }
            | Command::RequestExtension { unit, .. }
            | Command::SubmitResult { unit, .. } => Some(unit),
            Command::Note { unit, .. } => unit.as_deref(),
            _ => None,
        }
    }
}

/// Chinese label of an action wire name (from the action table; creation is 受理).
pub fn action_label_zh(action: &str) -> &str {
    match Action::from_wire(action) {
        Some(a) => a.label_zh(),
        None if action == "create" => "受理",
        None => action,
    }
}

fn not_blank(field: &str, v: &str, max: usize) -> Result<(), DomainError> {
    if v.trim().is_empty() {
        return Err(DomainError::invalid(field, "must not be empty", "不能为空"));
    }
    max_chars(field, v, max)
}

fn max_chars(field: &str, v: &str, max: usize) -> Result<(), DomainError> {
    let n = v.chars().count();
    if n > max {
        return Err(DomainError::invalid(
            field,
            format!("is {n} characters, the limit is {max}"),
            format!("共 {n} 字，超过上限 {max} 字"),
        ));
    }
    Ok(())
}

/// 控制字符 — the one rule for control characters in an intake's free text (title, text,
/// address, the requester's name): NUL and every other C0 control (U+0000–U+001F), DEL (U+007F)
/// and the C1 controls (U+0080–U+009F) are refused, naming the field and the character's code
/// point; only line feed and tab are allowed. A carriage return never reaches this check:
/// [`crate::intake::Intake::parse`] turns `\r\n` and a lone `\r` into `\n` first.
pub fn no_control_chars(field: &str, v: &str) -> Result<(), DomainError> {
    match v
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        Some(c) => Err(DomainError::invalid(
            field,
            format!(
                "contains the control character U+{:04X}; only line breaks and tabs are allowed",
                c as u32
            ),
            format!("含有控制字符 U+{:04X}，只允许换行和制表符", c as u32),
        )),
        None => Ok(()),
    }
}

/// Validates an intake (the content of a new request). Reference codes (category, place) are
/// checked by the caller against the reference data, which the domain does not own.
pub fn validate_intake(i: &Intake) -> Result<(), DomainError> {
    no_control_chars("title", &i.title)?;
    no_control_chars("text", &i.text)?;
    no_control_chars("requester.name", &i.requester.name)?;
    if let Some(a) = &i.place.address {
        no_control_chars("address", a)?;
    }
    not_blank("title", &i.title, MAX_TITLE_CHARS)?;
    not_blank("text", &i.text, MAX_TEXT_CHARS)?;
    // A consultation answered on the spot needs neither a name nor a place (咨询直接答复); every
    // other request needs both, and a place-less consultation cannot be dispatched.
    let consultation = i.request_type == RequestType::Consultation;
    if consultation {
        max_chars("requester.name", &i.requester.name, 50)?;
    } else {
        not_blank("requester.name", &i.requester.name, 50)?;
    }
    if !valid_phone(&i.requester.phone) {
        return Err(DomainError::invalid(
            "requester.phone",
            format!(
                "'{}' is not a phone number (11-digit mobile or landline with area code)",
                i.requester.phone
            ),
            "不是有效的电话号码（11位手机号或带区号的固定电话）",
        ));
    }
    if i.category_code.trim().is_empty() {
        return Err(DomainError::invalid(
            "category_code",
            "must not be empty",
            "不能为空",
        ));
    }
    if consultation && i.is_placeless() {
        // no place at all: allowed for a consultation (checked again at dispatch)
    } else if i.place.district_code.trim().is_empty() {
        return Err(DomainError::invalid(
            "district_code",
            "must not be empty",
            "不能为空",
        ));
    }
    if i.place.street_code.trim().is_empty() && !(consultation && i.is_placeless()) {
        return Err(DomainError::invalid(
            "street_code",
            "must not be empty",
            "不能为空",
        ));
    }
    if let Some(a) = &i.place.address {
        if a.chars().count() > 300 {
            return Err(DomainError::invalid(
                "address",
                "is longer than 300 characters",
                "超过300字",
            ));
        }
    }
    for (name, v, lo, hi) in [
        ("lat", i.place.lat, -90.0, 90.0),
        ("lng", i.place.lng, -180.0, 180.0),
    ] {
        if let Some(x) = v {
            if !(lo..=hi).contains(&x) || !x.is_finite() {
                return Err(DomainError::invalid(name, "is out of range", "超出范围"));
            }
        }
    }
    Ok(())
}

/// The creation event for a new ticket.
pub fn create(number: String, intake: crate::intake::ParsedIntake) -> EventKind {
    EventKind::Created {
        number,
        intake: intake.into_inner(),
    }
}

fn illegal(action: &'static str, st: &TicketState) -> DomainError {
    DomainError::IllegalTransition {
        action,
        status: st.status.as_str(),
    }
}

fn need_active<'a>(
    st: &'a TicketState,
    unit: &str,
    action: &'static str,
) -> Result<&'a Assignment, DomainError> {
    st.active_assignment(unit)
        .ok_or_else(|| DomainError::NoAssignment {
            unit: unit.to_string(),
            action,
            needed: "active",
        })
}

fn check_deadlines(d: &Deadlines, start: DateTime<Utc>) -> Result<(), DomainError> {
    if d.sign < start || d.respond < start || d.finish < start {
        return Err(DomainError::invalid(
            "deadlines",
            "a deadline lies before its start",
            "时限早于起算时间",
        ));
    }
    if d.respond < d.sign || d.finish < d.respond {
        return Err(DomainError::invalid(
            "deadlines",
            "deadlines are out of order",
            "时限顺序错误",
        ));
    }
    Ok(())
}

/// Decides whether `cmd` may happen to the ticket `st` at `now`, and if so which events record it.
pub fn decide(
    st: &TicketState,
    cmd: &Command,
    now: DateTime<Utc>,
) -> Result<Vec<EventKind>, DomainError> {
    use Status as S;
    let action = cmd.action();
    // a unit's work, and reviews of it, happen only while the ticket is being handled
    let handling = matches!(
        st.status,
        S::New | S::Dispatched | S::InProgress | S::ReturnReview | S::ResultSubmitted
    );
    let unit_work = matches!(
        cmd,
        Command::Sign { .. }
            | Command::Respond { .. }
            | Command::Whistle { .. }
            | Command::Report { .. }
            | Command::RequestReturn { .. }
            | Command::ReviewReturn { .. }
            | Command::RequestExtension { .. }
            | Command::ReviewExtension { .. }
            | Command::SubmitResult { .. }
            | Command::Remind { .. }
            | Command::Pause { .. }
            | Command::Resume { .. }
    );
    if unit_work && !handling {
        return Err(illegal(action, st));
    }
    let ev = match cmd {
        Command::Answer { answer, article_id } => {
            if st.status != S::New || st.first_dispatched_at.is_some() {
                return Err(illegal(action, st));
            }
            not_blank("answer", answer, MAX_TEXT_CHARS)?;
            EventKind::AnsweredDirectly {
                answer: answer.clone(),
                article_id: article_id.clone(),
            }
        }
        Command::SpecialHandle { handling, note } => {
            if st.status != S::New || st.first_dispatched_at.is_some() {
                return Err(illegal(action, st));
            }
            not_blank("note", note, MAX_TEXT_CHARS)?;
            EventKind::SpecialHandled {
                handling: *handling,
                note: note.clone(),
            }
        }
        Command::Consult { note, units } => {
            if st.status != S::New {
                return Err(illegal(action, st));
            }
            not_blank("note", note, 2000)?;
            EventKind::ConsultationOpened {
                note: note.clone(),
                units: units.clone(),
            }
        }
        Command::Dispatch {
            assignments,
            note,
            rule,
        } => {
            if !matches!(
                st.status,
                S::New | S::Consultation | S::Dispatched | S::InProgress
            ) {
                return Err(illegal(action, st));
            }
            if st.intake.is_placeless() {
                return Err(DomainError::invalid(
                    "district_code",
                    "a dispatch needs the place: fill in the district and street first",
                    "派单前请先填写诉求发生地（区、街乡镇）",
                ));
            }
            if assignments.is_empty() {
                return Err(DomainError::invalid(
                    "assignments",
                    "at least one unit is needed",
                    "至少需要一个承办单位",
                ));
            }
            let has_lead = st
                .assignments
                .iter()
                .any(|a| a.role == AssignmentRole::Lead && a.state.active());
            let new_leads = assignments
                .iter()
                .filter(|a| a.role == AssignmentRole::Lead)
                .count();
            if new_leads > 1 || (has_lead && new_leads > 0) {
                return Err(DomainError::invalid(
                    "assignments",
                    "a ticket has exactly one lead unit (主办) at a time",
                    "一张工单同一时间只能有一个主办单位",
                ));
            }
            if !has_lead && new_leads == 0 {
                return Err(DomainError::invalid(
                    "assignments",
                    "the first dispatch needs a lead unit (主办)",
                    "派单需要指定主办单位",
                ));
            }
            for (i, a) in assignments.iter().enumerate() {
                if st.active_assignment(&a.unit).is_some()
                    || assignments[..i].iter().any(|b| b.unit == a.unit)
                {
                    return Err(DomainError::invalid(
                        "assignments",
                        format!("unit {} is already assigned", a.unit),
                        format!("单位 {} 已在承办中", a.unit),
                    ));
                }
                check_deadlines(&a.deadlines, now)?;
            }
            EventKind::Dispatched {
                assignments: assignments
                    .iter()
                    .map(|a| NewAssignment {
                        unit: a.unit.clone(),
                        role: a.role,
                        tier: a.tier,
                        deadlines: a.deadlines,
                    })
                    .collect(),
                note: note.clone(),
                rule: rule.clone(),
            }
        }
        Command::Pause { unit, reason } => {
            let a = need_active(st, unit, action)?;
            if a.paused_since.is_some() {
                return Err(DomainError::AssignmentState {
                    unit: unit.clone(),
                    action,
                    state: "paused",
                });
            }
            not_blank("reason", reason, 1000)?;
            EventKind::ClockPaused {
                unit: unit.clone(),
                reason: reason.clone(),
            }
        }
        Command::Resume { unit } => {
            let a = need_active(st, unit, action)?;
            if a.paused_since.is_none() {
                return Err(DomainError::AssignmentState {
                    unit: unit.clone(),
                    action,
                    state: "running",
                });
            }
            EventKind::ClockResumed { unit: unit.clone() }
        }
        Command::Sign { unit } => {
            let a = need_active(st, unit, action)?;
            if a.state != AssignmentState::Dispatched {
                return Err(DomainError::AssignmentState {
                    unit: unit.clone(),
                    action,
                    state: a.state.as_str(),
                });
            }
            if a.pending_return.is_some() {
                return Err(illegal(action, st));
            }
            EventKind::Signed { unit: unit.clone() }
        }
        Command::Respond { unit, note } => {
            let a = need_active(st, unit, action)?;
            if a.state != AssignmentState::Signed {
                return Err(DomainError::AssignmentState {
                    unit: unit.clone(),
                    action,
                    state: a.state.as_str(),
                });
            }
            EventKind::Responded {
                unit: unit.clone(),
                note: note.clone(),
            }
        }
        Command::Note { unit, text, public } => {
            if matches!(st.status, S::Merged | S::Archived) {
                return Err(illegal(action, st));
            }
            if let Some(u) = unit {
                if !st.involved_units().any(|x| x == u) {
                    return Err(DomainError::NoAssignment {
                        unit: u.clone(),
                        action,
                        needed: "any",
                    });
                }
            }
            not_blank("text", text, MAX_TEXT_CHARS)?;
            EventKind::NoteAdded {
                unit: unit.clone(),
                text: text.clone(),
                public: *public,
            }
        }
        Command::Whistle {
            unit,
            summoned,
            reason,
            report_deadline,
        } => {
            let a = need_active(st, unit, action)?;
            if a.state == AssignmentState::Dispatched {
                return Err(DomainError::AssignmentState {
                    unit: unit.clone(),
                    action,
                    state: a.state.as_str(),
                });
            }
            if summoned.is_empty() || summoned.contains(unit) {
                return Err(DomainError::invalid(
                    "units",
                    "name at least one other unit to summon",
                    "请至少指定一个其他单位",
                ));
            }
            not_blank("reason", reason, 1000)?;
            if *report_deadline <= now {
                return Err(DomainError::invalid(
                    "report_deadline",
                    "must be in the future",
                    "报到时限必须晚于当前时间",
                ));
            }
            EventKind::Whistled {
                unit: unit.clone(),
                summoned: summoned.clone(),
                reason: reason.clone(),
                report_deadline: *report_deadline,
            }
        }
        Command::Report { unit } => {
            let pending = st
                .whistles
                .iter()
                .any(|w| w.summoned.contains(unit) && !w.reported.iter().any(|r| &r.0 == unit));
            if !pending {
                return Err(DomainError::NoAssignment {
                    unit: unit.clone(),
                    action,
                    needed: "summons (吹哨)",
                });
            }
            EventKind::ReportedIn { unit: unit.clone() }
        }
        Command::RequestReturn { unit, reason, text } => {
            let a = need_active(st, unit, action)?;
            if a.state == AssignmentState::Responded || a.pending_return.is_some() {
                return Err(DomainError::AssignmentState {
                    unit: unit.clone(),
                    action,
                    state: if a.pending_return.is_some() {
                        "return_pending"
                    } else {
                        a.state.as_str()
                    },
                });
            }
            not_blank("text", text, 2000)?;
            EventKind::ReturnRequested {
                unit: unit.clone(),
                reason: *reason,
                text: text.clone(),
            }
        }
        Command::ReviewReturn {
            unit,
            approve,
            note,
        } => {
            let a = st
                .active_assignment(unit)
                .filter(|a| a.pending_return.is_some())
                .ok_or_else(|| DomainError::NoAssignment {
                    unit: unit.clone(),
                    action,
                    needed: "return-pending",
                })?;
            let _ = a;
            EventKind::ReturnReviewed {
                unit: unit.clone(),
                approved: *approve,
                note: note.clone(),
            }
        }
        Command::RequestExtension {
            unit,
            until,
            reason,
        } => {
            let a = need_active(st, unit, action)?;
            if a.pending_extension.is_some() {
                return Err(DomainError::AssignmentState {
                    unit: unit.clone(),
                    action,
                    state: "extension_pending",
                });
            }
            if *until <= a.deadlines.finish {
                return Err(DomainError::invalid(
                    "until",
                    "must be later than the current finish deadline",
                    "延期后的时限必须晚于当前办结时限",
                ));
            }
            not_blank("reason", reason, 2000)?;
            EventKind::ExtensionRequested {
                unit: unit.clone(),
                until: *until,
                reason: reason.clone(),
            }
        }
        Command::ReviewExtension {
            unit,
            approve,
            note,
        } => {
            st.active_assignment(unit)
                .filter(|a| a.pending_extension.is_some())
                .ok_or_else(|| DomainError::NoAssignment {
                    unit: unit.clone(),
                    action,
                    needed: "extension-pending",
                })?;
            EventKind::ExtensionReviewed {
                unit: unit.clone(),
                approved: *approve,
                note: note.clone(),
            }
        }
        Command::Escalate {
            level,
            to_unit,
            reason,
        } => {
            if !matches!(
                st.status,
                S::New | S::Dispatched | S::InProgress | S::ReturnReview
            ) {
                return Err(illegal(action, st));
            }
            not_blank("reason", reason, 2000)?;
            EventKind::Escalated {
                level: *level,
                to_unit: to_unit.clone(),
                reason: reason.clone(),
            }
        }
        Command::SubmitResult {
            unit,
            text,
            evidence,
        } => {
            let a = need_active(st, unit, action)?;
            if a.state != AssignmentState::Responded {
                return Err(DomainError::AssignmentState {
                    unit: unit.clone(),
                    action,
                    state: a.state.as_str(),
                });
            }
            if a.pending_return.is_some() {
                return Err(illegal(action, st));
            }
            not_blank("text", text, MAX_TEXT_CHARS)?;
            EventKind::ResultSubmitted {
                unit: unit.clone(),
                text: text.clone(),
                evidence: evidence.clone(),
            }
        }
        Command::Callback { outcome } => {
            let deadline_passed = st
                .lead()
                .is_some_and(|l| l.state.active() && now > l.deadlines.finish);
            let due = st.status == S::ResultSubmitted
                || (matches!(st.status, S::InProgress | S::Dispatched) && deadline_passed);
            if !due {
                return Err(if st.status == S::CallbackDone {
                    DomainError::invalid(
                        "callback",
                        "this round already has a callback",
                        "本轮已完成回访",
                    )
                } else {
                    illegal(action, st)
                });
            }
            if let CallbackOutcome::Reached {
                comment: Some(c), ..
            } = outcome
            {
                if c.chars().count() > 2000 {
                    return Err(DomainError::invalid(
                        "comment",
                        "is longer than 2,000 characters",
                        "超过2000字",
                    ));
                }
            }
            EventKind::CallbackRecorded {
                outcome: outcome.clone(),
            }
        }
        Command::Reopen { reason, deadlines } => {
            if !matches!(st.status, S::CallbackDone | S::Closed | S::ResultSubmitted) {
                return Err(illegal(action, st));
            }
            not_blank("reason", reason, 2000)?;
            if deadlines.is_empty() {
                return Err(DomainError::invalid(
                    "deadlines",
                    "a reopened ticket needs new deadlines for its units",
                    "重办需要为承办单位设定新时限",
                ));
            }
            for (u, d) in deadlines {
                if !st
                    .assignments
                    .iter()
                    .any(|a| &a.unit == u && a.state != AssignmentState::Returned)
                {
                    return Err(DomainError::NoAssignment {
                        unit: u.clone(),
                        action,
                        needed: "previous",
                    });
                }
                check_deadlines(d, now)?;
            }
            EventKind::Reopened {
                reason: reason.clone(),
                deadlines: deadlines.clone(),
            }
        }
        Command::Merge {
            primary,
            primary_number,
        } => {
            if st.status != S::New || st.first_dispatched_at.is_some() || *primary == st.id {
                return Err(illegal(action, st));
            }
            EventKind::MergedInto {
                primary: *primary,
                primary_number: primary_number.clone(),
            }
        }
        Command::AttachDuplicate {
            duplicate,
            duplicate_number,
        } => {
            if matches!(st.status, S::Merged | S::Archived) || *duplicate == st.id {
                return Err(illegal(action, st));
            }
            EventKind::DuplicateAttached {
                duplicate: *duplicate,
                duplicate_number: duplicate_number.clone(),
            }
        }
        Command::Unmerge { note } => {
            if st.status != S::Merged {
                return Err(illegal(action, st));
            }
            EventKind::Unmerged { note: note.clone() }
        }
        Command::Urge { unit, note } => {
            // only a ticket being handled can be urged (not one closed or archived meanwhile)
            if !matches!(st.status, S::Dispatched | S::InProgress | S::ReturnReview) {
                return Err(illegal(action, st));
            }
            need_active(st, unit, action)?;
            not_blank("note", note, 500)?;
            EventKind::Urged {
                unit: unit.clone(),
                note: note.clone(),
            }
        }
        Command::Remind {
            unit,
            clock,
            epoch,
            index,
            permille,
            overdue,
        } => {
            let a = need_active(st, unit, action)?;
            if !matches!(clock.as_str(), "sign" | "respond" | "finish") {
                return Err(DomainError::invalid(
                    "clock",
                    "must be sign, respond or finish",
                    "时限类型错误",
                ));
            }
            if a.clock_done(clock).is_some() {
                return Err(DomainError::AssignmentState {
                    unit: unit.clone(),
                    action,
                    state: "clock_met",
                });
            }
            if *epoch != a.clock_epoch(clock) || *index != a.reminder_watermark(clock) {
                return Err(DomainError::invalid(
                    "index",
                    "this reminder was already recorded (or is out of order)",
                    "该提醒已记录",
                ));
            }
            EventKind::Reminded {
                unit: unit.clone(),
                clock: clock.clone(),
                epoch: *epoch,
                index: *index,
                permille: *permille,
                overdue: *overdue,
            }
        }
        Command::Exempt { reason, note } => {
            if st.first_dispatched_at.is_none() && *reason != Some(ExemptReason::EmergencyTransfer)
            {
                return Err(illegal(action, st));
            }
            if reason.is_none() && st.exempt.is_none() {
                return Err(DomainError::invalid(
                    "reason",
                    "the ticket is not exempted",
                    "该工单未被豁免",
                ));
            }
            not_blank("note", note, 2000)?;
            EventKind::Exempted {
                reason: *reason,
                note: note.clone(),
            }
        }
        Command::Close { note } => {
            let ok = match st.status {
                S::Answered | S::SpecialHandled | S::CallbackDone => true,
                S::ResultSubmitted => st.unreachable_attempts() >= MAX_CALLBACK_ATTEMPTS,
                _ => false,
            };
            if !ok {
                return Err(illegal(action, st));
            }
            EventKind::Closed { note: note.clone() }
        }
        Command::Archive => {
            if !matches!(st.status, S::Closed | S::Merged) {
                return Err(illegal(action, st));
            }
            EventKind::Archived {}
        }
        Command::ErasePersonalData { retention_years } => {
            if !personal_data_expired(st, now, *retention_years) {
                return Err(illegal(action, st));
            }
            EventKind::PersonalDataErased {
                retention_years: *retention_years,
            }
        }
        Command::Reclassify {
            category_code,
            request_type,
            reason,
        } => {
            if matches!(st.status, S::Merged | S::Archived) {
                return Err(illegal(action, st));
            }
            not_blank("category_code", category_code, 32)?;
            not_blank("reason", reason, 500)?;
            if *category_code == st.intake.category_code && *request_type == st.intake.request_type
            {
                return Err(DomainError::invalid(
                    "category_code",
                    "the ticket already has this type and category",
                    "工单已是该类型和分类",
                ));
            }
            EventKind::Reclassified {
                from_category: st.intake.category_code.clone(),
                from_type: st.intake.request_type,
                category_code: category_code.clone(),
                request_type: *request_type,
                reason: reason.clone(),
            }
        }
        Command::Attach {
            id,
            file_name,
            content_type,
            size,
        } => {
            if matches!(st.status, S::Archived) {
                return Err(illegal(action, st));
            }
            EventKind::AttachmentAdded {
                id: id.clone(),
                file_name: file_name.clone(),
                content_type: content_type.clone(),
                size: *size,
            }
        }
        Command::Transfer { to, reason } => {
            if matches!(st.status, S::Merged | S::Archived) {
                return Err(illegal(action, st));
            }
            if st.open_transfer(*to).is_some() {
                return Err(DomainError::invalid(
                    "to",
                    format!("the transfer to {to} still waits for its reply"),
                    format!("转接{to}尚未回复，不能重复转接"),
                ));
            }
            not_blank("reason", reason, 2000)?;
            EventKind::TransferredOut {
                to: *to,
                reason: reason.clone(),
            }
        }
        Command::TransferReply {
            to,
            outcome,
            text,
            reference,
        } => {
            if matches!(st.status, S::Merged | S::Archived) {
                return Err(illegal(action, st));
            }
            let Some(t) = st.open_transfer(*to) else {
                return Err(DomainError::invalid(
                    "to",
                    format!("no transfer to {to} waits for a reply"),
                    format!("没有待{to}回复的转接"),
                ));
            };
            if *outcome == TransferOutcome::Accepted
                && t.replies
                    .iter()
                    .any(|r| r.outcome == TransferOutcome::Accepted)
            {
                return Err(DomainError::invalid(
                    "outcome",
                    format!("{to} has already accepted the transfer"),
                    format!("{to}已接收该转接"),
                ));
            }
            not_blank("text", text, 2000)?;
            if let Some(r) = reference {
                not_blank("reference", r, 100)?;
            }
            EventKind::TransferReplied {
                to: *to,
                outcome: *outcome,
                text: text.clone(),
                reference: reference.clone(),
            }
        }
    };
    Ok(vec![ev])
}

/// Whether an archived ticket's personal data is due for erasure: archived, not yet erased, and
/// closed at least `retention_years` years (calendar years, in UTC) before `now`. A period of 0
/// means "keep" (erasure off).
pub fn personal_data_expired(st: &TicketState, now: DateTime<Utc>, retention_years: u32) -> bool {
    if retention_years == 0 || st.status != Status::Archived || st.personal_data_erased.is_some() {
        return false;
    }
    let Some(closed) = st.closed_at.or(Some(st.last_event_at)) else {
        return false;
    };
    closed
        .checked_add_months(chrono::Months::new(retention_years.saturating_mul(12)))
        .is_some_and(|due| now >= due)
}

/// Decides and applies in one step, returning the new events stamped with sequence numbers.
pub fn execute(
    st: &mut TicketState,
    cmd: &Command,
    actor: &ActorRef,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, DomainError> {
    let kinds = decide(st, cmd, now)?;
    let mut out = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let e = Event {
            seq: st.version + 1,
            at: now,
            actor: actor.clone(),
            kind,
        };
        st.apply(&e)?;
        out.push(e);
    }
    Ok(out)
}
