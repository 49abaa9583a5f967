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
    pub user: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// One event in a ticket's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// 1-based position in the ticket's log.
    pub seq: u32,
    pub at: DateTime<Utc>,
    pub actor: ActorRef,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The three clocks of one assignment: sign (签收), respond (响应: contact the citizen), finish (办结).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    pub sign: DateTime<Utc>,
    pub respond: DateTime<Utc>,
    pub finish: DateTime<Utc>,
}

/// One unit's share of a dispatch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAssignment {
    pub unit: String,
    pub role: AssignmentRole,
    pub tier: DeadlineTier,
    pub deadlines: Deadlines,
}

/// What the callback (回访) found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CallbackOutcome {
    /// The citizen was reached and answered the script.
    Reached {
        /// 是否联系 — did the unit contact the citizen? (valid callbacks have `true`)
        contacted: bool,
        resolution: Resolution,
        satisfaction: Satisfaction,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attitude: Option<Attitude>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// 未接通 — one unsuccessful attempt.
    Unreachable {
        #[serde(default, skip_serializing_if = "Option::is_none")]
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
    Created { number: String, intake: Intake },
    /// 直接答复 — a consultation answered on the spot by the agent (from the knowledge base).
    AnsweredDirectly {
        answer: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        article_id: Option<String>,
    },
    /// 特殊处置 — emergency transfer, legal route, explanation or persuasion.
    SpecialHandled {
        handling: SpecialHandling,
        note: String,
    },
    /// 派单会商 — a hard case goes to pre-dispatch consultation with the units named.
    ConsultationOpened { note: String, units: Vec<String> },
    /// 派单 — one or more units, each lead or assist, with their deadlines.
    Dispatched {
        assignments: Vec<NewAssignment>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// The duty-catalogue rule that suggested it, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
    },
    /// 暂停计时 — the unit waits for the citizen (e.g. an appointment); its clocks stop.
    ClockPaused { unit: String, reason: String },
    /// 恢复计时 — the clocks run again; open deadlines move by the paused time (calendar time).
    ClockResumed { unit: String },
    /// 签收 — the unit acknowledges the ticket.
    Signed { unit: String },
    /// 响应 — the unit contacted the citizen.
    Responded {
        unit: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// 办理进展 — a progress note; `public` notes are shown to the citizen (事事有回音).
    NoteAdded {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
        text: String,
        #[serde(default)]
        public: bool,
    },
    /// 吹哨 — a unit summons other units, who must report (报到) by the deadline.
    Whistled {
        unit: String,
        summoned: Vec<String>,
        reason: String,
        report_deadline: DateTime<Utc>,
    },
    /// 报到 — a summoned unit reports in.
    ReportedIn { unit: String },
    /// 退单 — a unit asks to return a wrongly dispatched ticket.
    ReturnRequested {
        unit: String,
        reason: ReturnReason,
        text: String,
    },
    /// 退单审核 — the centre approves (the assignment ends; re-dispatch follows) or rejects.
    ReturnReviewed {
        unit: String,
        approved: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// 延期申请 — a unit asks to move its finish deadline.
    ExtensionRequested {
        unit: String,
        until: DateTime<Utc>,
        reason: String,
    },
    /// 延期审核
    ExtensionReviewed {
        unit: String,
        approved: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// 提级 — escalated to district or city coordination or the industry regulator.
    Escalated {
        level: EscalationLevel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_unit: Option<String>,
        reason: String,
    },
    /// 办结 — the unit submits its result.
    ResultSubmitted {
        unit: String,
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<String>,
    },
    /// 回访 — the centre calls the citizen back.
    CallbackRecorded { outcome: CallbackOutcome },
    /// 重办 — reopened after an unresolved callback; lead assignments get new deadlines.
    Reopened {
        reason: String,
        deadlines: Vec<(String, Deadlines)>,
    },
    /// 合并 — this ticket is a duplicate of `primary`; it is handled in that thread.
    MergedInto {
        primary: TicketId,
        primary_number: String,
    },
    /// A duplicate was merged into this ticket; its requester also gets feedback and a callback.
    DuplicateAttached {
        duplicate: TicketId,
        duplicate_number: String,
    },
    /// 撤销合并 — a false merge is undone.
    Unmerged { note: String },
    /// 考核豁免 — the ticket is excluded from scoring, with the reason (and may be restored).
    Exempted {
        /// `None` lifts a previous exemption.
        reason: Option<ExemptReason>,
        note: String,
    },
    /// 催办提醒 / 超时 — the scheduler reports that a clock passed a threshold (each exactly once
    /// per clock, threshold and epoch; an approved extension starts a new epoch of the finish clock).
    Reminded {
        unit: String,
        /// `sign`, `respond` or `finish`.
        clock: String,
        epoch: u32,
        /// The threshold's position among the configured thresholds (the watermark).
        index: u8,
        /// The threshold in ‰ of the clock's span (500 = half-way, 1000 = due).
        permille: u32,
        overdue: bool,
    },
    /// 督办催办 — the centre urges a unit on its open assignment (e.g. in bulk from the overdue
    /// board); the unit sees it in its inbox. Changes no clock.
    Urged { unit: String, note: String },
    /// 结案
    Closed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// 归档
    Archived {},
    /// 改类 — the type and category were corrected (from → to); a labelled example for training.
    Reclassified {
        from_category: String,
        from_type: RequestType,
        category_code: String,
        request_type: RequestType,
        reason: String,
    },
    /// 附件 — metadata of a stored file (the bytes live on disk).
    AttachmentAdded {
        id: String,
        file_name: String,
        content_type: String,
        size: u64,
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
            EventKind::Reclassified { .. } => "reclassified",
            EventKind::AttachmentAdded { .. } => "attachment_added",
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
            EventKind::Reclassified { .. } => "改类",
            EventKind::AttachmentAdded { .. } => "附件",
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
            | EventKind::Reclassified { .. }
            | EventKind::Exempted { .. }
            | EventKind::Reminded { .. }
            | EventKind::Urged { .. }
            | EventKind::ConsultationOpened { .. }
            | EventKind::Unmerged { .. } => false,
            _ => true,
        }
    }
}
