//! Events: the append-only record of everything that happened to a ticket (全程记实).
//! A ticket's state is a pure fold of its events (see `state`).

use crate::auth::Role;
use crate::ticket::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Internal ticket id (storage key). The citizen quotes the public `number` instead.
pub type TicketId = i64;

/// Who did it: the user, their role and the unit they acted for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorRef {
    /// The user name.
    pub user: String,
    /// The role.
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The unit (code) concerned.
    pub unit: Option<String>,
}

/// One event in a ticket's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// 1-based position in the ticket's log.
    pub seq: u32,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: ActorRef,
    #[serde(flatten)]
    /// The kind.
    pub kind: EventKind,
}

/// The three clocks of one assignment: sign (签收), respond (响应: contact the citizen), finish (办结).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Deadlines {
    /// 签收 — when the unit must have signed.
    pub sign: DateTime<Utc>,
    /// 响应 — when the citizen must have been contacted.
    pub respond: DateTime<Utc>,
    /// 办结 — when the result is due.
    pub finish: DateTime<Utc>,
}

/// One unit's share of a dispatch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAssignment {
    /// The unit (code) concerned.
    pub unit: String,
    /// The role.
    pub role: AssignmentRole,
    /// The deadline tier (时限).
    pub tier: DeadlineTier,
    /// The three clocks (sign, respond, finish).
    pub deadlines: Deadlines,
}

/// What the callback (回访) found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CallbackOutcome {
    /// The citizen was reached and answered the script.
    Reached {
        /// 是否联系 — did the unit contact the citizen? (valid callbacks have `true`)
        contacted: bool,
        /// Whether the problem was solved.
        resolution: Resolution,
        /// How satisfied the citizen is.
        satisfaction: Satisfaction,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// The citizen's view of the unit's attitude.
        attitude: Option<Attitude>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// The citizen's words.
        comment: Option<String>,
    },
    /// 未接通 — one unsuccessful attempt.
    Unreachable {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// A note in words.
        note: Option<String>,
    },
}

/// Everything that can happen to a ticket. The wire name is the `kind` field.
// `Created` carries the whole intake; boxing it would only complicate every match for one event
// per ticket.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// 受理 — the request is taken in.
    Created {
        /// The public ticket number.
        number: String,
        /// The request as taken in.
        intake: Intake,
    },
    /// 直接答复 — a consultation answered on the spot by the agent (from the knowledge base).
    AnsweredDirectly {
        /// The answer given.
        answer: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// The knowledge-base article the answer comes from.
        article_id: Option<String>,
    },
    /// 特殊处置 — emergency transfer, legal route, explanation or persuasion.
    SpecialHandled {
        /// The kind of special handling.
        handling: SpecialHandling,
        /// A note in words.
        note: String,
    },
    /// 派单会商 — a hard case goes to pre-dispatch consultation with the units named.
    ConsultationOpened {
        /// A note in words.
        note: String,
        /// The units concerned.
        units: Vec<String>,
    },
    /// 派单 — one or more units, each lead or assist, with their deadlines.
    Dispatched {
        /// The units and their roles.
        assignments: Vec<NewAssignment>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// A note in words.
        note: Option<String>,
        /// The duty-catalogue rule that suggested it, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
    },
    /// 暂停计时 — the unit waits for the citizen (e.g. an appointment); its clocks stop.
    ClockPaused {
        /// The unit (code) concerned.
        unit: String,
        /// Why, in words.
        reason: String,
    },
    /// 恢复计时 — the clocks run again; open deadlines move by the paused time (calendar time).
    ClockResumed {
        /// The unit (code) concerned.
        unit: String,
    },
    /// 签收 — the unit acknowledges the ticket.
    Signed {
        /// The unit (code) concerned.
        unit: String,
    },
    /// 响应 — the unit contacted the citizen.
    Responded {
        /// The unit (code) concerned.
        unit: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// A note in words.
        note: Option<String>,
    },
    /// 办理进展 — a progress note; `public` notes are shown to the citizen (事事有回音).
    NoteAdded {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// The unit (code) concerned.
        unit: Option<String>,
        /// The text in words.
        text: String,
        #[serde(default)]
        /// Shown to the citizen on tracking.
        public: bool,
    },
    /// 吹哨 — a unit summons other units, who must report (报到) by the deadline.
    Whistled {
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
    ReportedIn {
        /// The unit (code) concerned.
        unit: String,
    },
    /// 退单 — a unit asks to return a wrongly dispatched ticket.
    ReturnRequested {
        /// The unit (code) concerned.
        unit: String,
        /// Why, in words.
        reason: ReturnReason,
        /// The text in words.
        text: String,
    },
    /// 退单审核 — the centre approves (the assignment ends; re-dispatch follows) or rejects.
    ReturnReviewed {
        /// The unit (code) concerned.
        unit: String,
        /// Whether it was approved.
        approved: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// A note in words.
        note: Option<String>,
    },
    /// 延期申请 — a unit asks to move its finish deadline.
    ExtensionRequested {
        /// The unit (code) concerned.
        unit: String,
        /// The new finish deadline asked for.
        until: DateTime<Utc>,
        /// Why, in words.
        reason: String,
    },
    /// 延期审核
    ExtensionReviewed {
        /// The unit (code) concerned.
        unit: String,
        /// Whether it was approved.
        approved: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// A note in words.
        note: Option<String>,
    },
    /// 提级 — escalated to district or city coordination or the industry regulator.
    Escalated {
        /// The escalation level (提级).
        level: EscalationLevel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// The unit escalated to, if any.
        to_unit: Option<String>,
        /// Why, in words.
        reason: String,
    },
    /// 办结 — the unit submits its result.
    ResultSubmitted {
        /// The unit (code) concerned.
        unit: String,
        /// The text in words.
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        /// Attachment ids given as evidence.
        evidence: Vec<String>,
    },
    /// 回访 — the centre calls the citizen back.
    CallbackRecorded {
        /// What the callback found.
        outcome: CallbackOutcome,
    },
    /// 重办 — reopened after an unresolved callback; lead assignments get new deadlines.
    Reopened {
        /// Why, in words.
        reason: String,
        /// The three clocks (sign, respond, finish).
        deadlines: Vec<(String, Deadlines)>,
    },
    /// 合并 — this ticket is a duplicate of `primary`; it is handled in that thread.
    MergedInto {
        /// The ticket merged into.
        primary: TicketId,
        /// Its public number.
        primary_number: String,
    },
    /// A duplicate was merged into this ticket; its requester also gets feedback and a callback.
    DuplicateAttached {
        /// The duplicate ticket.
        duplicate: TicketId,
        /// Its public number.
        duplicate_number: String,
    },
    /// 撤销合并 — a false merge is undone.
    Unmerged {
        /// A note in words.
        note: String,
    },
    /// 考核豁免 — the ticket is excluded from scoring, with the reason (and may be restored).
    Exempted {
        /// `None` lifts a previous exemption.
        reason: Option<ExemptReason>,
        /// A note in words.
        note: String,
    },
    /// 催办提醒 / 超时 — the scheduler reports that a clock passed a threshold (each exactly once
    /// per clock, threshold and epoch; an approved extension starts a new epoch of the finish clock).
    Reminded {
        /// The unit (code) concerned.
        unit: String,
        /// `sign`, `respond` or `finish`.
        clock: String,
        /// The clock epoch (a new one after an extension or reopen).
        epoch: u32,
        /// The threshold's position among the configured thresholds (the watermark).
        index: u8,
        /// The threshold in ‰ of the clock's span (500 = half-way, 1000 = due).
        permille: u32,
        /// Whether the clock had already passed.
        overdue: bool,
    },
    /// 督办催办 — the centre urges a unit on its open assignment (e.g. in bulk from the overdue
    /// board); the unit sees it in its inbox. Changes no clock.
    Urged {
        /// The unit (code) concerned.
        unit: String,
        /// A note in words.
        note: String,
    },
    /// 结案
    Closed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// A note in words.
        note: Option<String>,
    },
    /// 归档
    Archived {},
    /// 删除个人信息 — the requester's personal data was erased when the retention period passed;
    /// the ticket and its figures stay.
    PersonalDataErased {
        /// The retention period (保存期限) that had passed, in years.
        retention_years: u32,
    },
    /// 改类 — the type and category were corrected (from → to); a labelled example for training.
    Reclassified {
        /// The category before the change.
        from_category: String,
        /// The request type before the change.
        from_type: RequestType,
        /// The category code.
        category_code: String,
        /// The request type (诉求类型).
        request_type: RequestType,
        /// Why, in words.
        reason: String,
    },
    /// 附件 — metadata of a stored file (the bytes live on disk).
    AttachmentAdded {
        /// The id.
        id: String,
        /// The file name.
        file_name: String,
        /// The MIME type.
        content_type: String,
        /// The size in bytes.
        size: u64,
    },
    /// 转接 — the request was transferred to an emergency service (110/119/120/122); who and
    /// when are the event's actor and time.
    TransferredOut {
        /// The service transferred to.
        to: EmergencyService,
        /// Why, in words.
        reason: String,
    },
    /// 转接回复 — the emergency service's reply to a transfer (from the partner's signed API or
    /// entered by an agent).
    TransferReplied {
        /// The service that replied (its transfer is the last one to it).
        to: EmergencyService,
        /// Accepted, declined or handled.
        outcome: TransferOutcome,
        /// The reply in words.
        text: String,
        /// The service's own reference (its case number), if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
}

impl EventKind {
    /// The wire name of the event kind.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Created { .. } => "created",
            EventKind::AnsweredDirectly { .. } => "answered_directly",
            EventKind::SpecialHandled { .. } => "special_handled",
            EventKind::ConsultationOpened { .. } => "consultation_opened",
            EventKind::Dispatched { .. } => "dispatched",
            EventKind::ClockPaused { .. } => "clock_paused",
            EventKind::ClockResumed { .. } => "clock_resumed",
            EventKind::Signed { .. } => "signed",
            EventKind::Responded { .. } => "responded",
            EventKind::NoteAdded { .. } => "note_added",
            EventKind::Whistled { .. } => "whistled",
            EventKind::ReportedIn { .. } => "reported_in",
            EventKind::ReturnRequested { .. } => "return_requested",
            EventKind::ReturnReviewed { .. } => "return_reviewed",
            EventKind::ExtensionRequested { .. } => "extension_requested",
            EventKind::ExtensionReviewed { .. } => "extension_reviewed",
            EventKind::Escalated { .. } => "escalated",
            EventKind::ResultSubmitted { .. } => "result_submitted",
            EventKind::CallbackRecorded { .. } => "callback_recorded",
            EventKind::Reopened { .. } => "reopened",
            EventKind::MergedInto { .. } => "merged_into",
            EventKind::DuplicateAttached { .. } => "duplicate_attached",
            EventKind::Unmerged { .. } => "unmerged",
            EventKind::Exempted { .. } => "exempted",
            EventKind::Reminded { .. } => "reminded",
            EventKind::Urged { .. } => "urged",
            EventKind::Closed { .. } => "closed",
            EventKind::Archived {} => "archived",
            EventKind::PersonalDataErased { .. } => "personal_data_erased",
            EventKind::Reclassified { .. } => "reclassified",
            EventKind::AttachmentAdded { .. } => "attachment_added",
            EventKind::TransferredOut { .. } => "transferred_out",
            EventKind::TransferReplied { .. } => "transfer_replied",
        }
    }

    /// Chinese label for the timeline.
    pub fn label_zh(&self) -> &'static str {
        match self {
            EventKind::Created { .. } => "受理",
            EventKind::AnsweredDirectly { .. } => "直接答复",
            EventKind::SpecialHandled { .. } => "特殊处置",
            EventKind::ConsultationOpened { .. } => "派单会商",
            EventKind::Dispatched { .. } => "派单",
            EventKind::ClockPaused { .. } => "暂停计时",
            EventKind::ClockResumed { .. } => "恢复计时",
            EventKind::Signed { .. } => "签收",
            EventKind::Responded { .. } => "联系诉求人",
            EventKind::NoteAdded { .. } => "办理进展",
            EventKind::Whistled { .. } => "吹哨",
            EventKind::ReportedIn { .. } => "报到",
            EventKind::ReturnRequested { .. } => "申请退单",
            EventKind::ReturnReviewed { .. } => "退单审核",
            EventKind::ExtensionRequested { .. } => "申请延期",
            EventKind::ExtensionReviewed { .. } => "延期审核",
            EventKind::Escalated { .. } => "提级",
            EventKind::ResultSubmitted { .. } => "办结",
            EventKind::CallbackRecorded { .. } => "回访",
            EventKind::Reopened { .. } => "重办",
            EventKind::MergedInto { .. } => "合并",
            EventKind::DuplicateAttached { .. } => "并入重复诉求",
            EventKind::Unmerged { .. } => "撤销合并",
            EventKind::Exempted { .. } => "考核豁免",
            EventKind::Reminded { overdue: true, .. } => "超时",
            EventKind::Reminded { .. } => "催办提醒",
            EventKind::Urged { .. } => "督办催办",
            EventKind::Closed { .. } => "结案",
            EventKind::Archived {} => "归档",
            EventKind::PersonalDataErased { .. } => "删除个人信息",
            EventKind::Reclassified { .. } => "改类",
            EventKind::AttachmentAdded { .. } => "附件",
            EventKind::TransferredOut { .. } => "转接紧急部门",
            EventKind::TransferReplied { .. } => "转接回复",
        }
    }

    /// Whether the citizen's tracking page shows this event (never internal reasons or notes).
    pub fn public(&self) -> bool {
        match self {
            EventKind::NoteAdded { public, .. } => *public,
            EventKind::ReturnRequested { .. }
            | EventKind::ReturnReviewed { .. }
            | EventKind::ExtensionRequested { .. }
            | EventKind::ExtensionReviewed { .. }
            | EventKind::Whistled { .. }
            | EventKind::ReportedIn { .. }
            | EventKind::Escalated { .. }
            | EventKind::DuplicateAttached { .. }
            | EventKind::AttachmentAdded { .. }
            | EventKind::TransferredOut { .. }
            | EventKind::TransferReplied { .. }
            | EventKind::Reclassified { .. }
            | EventKind::Exempted { .. }
            | EventKind::Reminded { .. }
            | EventKind::PersonalDataErased { .. }
            | EventKind::Urged { .. }
            | EventKind::ConsultationOpened { .. }
            | EventKind::Unmerged { .. } => false,
            _ => true,
        }
    }
}
