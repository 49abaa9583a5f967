//! The ticket's state: a pure, deterministic fold of its events. Nothing here validates commands
//! (that is `command::decide`); `apply` only refuses logs that are structurally impossible.

use crate::error::DomainError;
use crate::event::*;
use crate::ticket::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Generates the status-like enums with wire names and Chinese labels.
macro_rules! status_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $wire:literal / $zh:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $wire)] $var),+ }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The wire name.
            pub fn as_str(self) -> &'static str { match self { $($name::$var => $wire),+ } }
            /// Parses a wire name.
            pub fn parse(s: &str) -> Option<Self> { match s { $($wire => Some($name::$var),)+ _ => None } }
            /// The Chinese label.
            pub fn label_zh(self) -> &'static str { match self { $($name::$var => $zh),+ } }
            /// The Chinese label of a wire name (the wire name itself if unknown).
            pub fn label_zh_of(s: &str) -> &str { Self::parse(s).map(|x| x.label_zh()).unwrap_or(s) }
        }
    };
}

status_enum! {
    /// Where the ticket stands as a whole.
    Status {
        /// 待派单 — taken in, not yet answered or dispatched (or waiting for re-dispatch).
        New = "new" / "待派单",
        /// 已直接答复 — a consultation answered by the agent.
        Answered = "answered" / "已直接答复",
        /// 已特殊处置
        SpecialHandled = "special_handled" / "已特殊处置",
        /// 派单会商 — a hard case under pre-dispatch consultation.
        Consultation = "consultation" / "派单会商中",
        /// 已派单, waiting for the lead unit to sign.
        Dispatched = "dispatched" / "待签收",
        /// 办理中 — the lead unit has signed.
        InProgress = "in_progress" / "办理中",
        /// 退单审核中 — the lead unit asked to return it.
        ReturnReview = "return_review" / "退单审核中",
        /// 已办结, waiting for the callback.
        ResultSubmitted = "result_submitted" / "待回访",
        /// 已回访
        CallbackDone = "callback_done" / "已回访",
        /// 已结案
        Closed = "closed" / "已结案",
        /// 已合并 into another ticket.
        Merged = "merged" / "已合并",
        /// 已归档
        Archived = "archived" / "已归档",
    }
}

status_enum! {
    /// Where one unit's assignment stands.
    AssignmentState {
        /// 待签收
        Dispatched = "dispatched" / "待签收",
        /// 已签收
        Signed = "signed" / "已签收",
        /// 已联系诉求人
        Responded = "responded" / "已响应",
        /// 已办结
        Finished = "finished" / "已办结",
        /// 已退单 (approved)
        Returned = "returned" / "已退单",
    }
}

impl AssignmentState {
    /// Whether the unit still has work to do on it.
    pub fn active(self) -> bool {
        matches!(
            self,
            AssignmentState::Dispatched | AssignmentState::Signed | AssignmentState::Responded
        )
    }
}

/// A pending return request (退单).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PendingReturn {
    /// Why, in words.
    pub reason: ReturnReason,
    /// The text in words.
    pub text: String,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// A pending extension request (延期).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PendingExtension {
    /// The new finish deadline asked for.
    pub until: DateTime<Utc>,
    /// Why, in words.
    pub reason: String,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// One unit's assignment on the ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// The unit (code) concerned.
    pub unit: String,
    /// The role.
    pub role: AssignmentRole,
    /// The deadline tier (时限).
    pub tier: DeadlineTier,
    /// The state.
    pub state: AssignmentState,
    /// When it was dispatched.
    pub dispatched_at: DateTime<Utc>,
    /// The three clocks (sign, respond, finish).
    pub deadlines: Deadlines,
    /// When the unit signed.
    pub signed_at: Option<DateTime<Utc>>,
    /// When the citizen was contacted.
    pub responded_at: Option<DateTime<Utc>>,
    /// When it was finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// A return asked for and not yet reviewed.
    pub pending_return: Option<PendingReturn>,
    /// An extension asked for and not yet reviewed.
    pub pending_extension: Option<PendingExtension>,
    /// The handling round it belongs to (0 first; +1 on each 重办).
    pub round: u32,
    /// How many extensions were granted.
    pub extensions_granted: u32,
    /// Who dispatched it.
    pub dispatched_by: String,
    /// 暂停计时: since when the clocks are paused (waiting for the citizen), if they are.
    #[serde(default)]
    pub paused_since: Option<DateTime<Utc>>,
    /// Total paused time so far, in seconds.
    #[serde(default)]
    pub paused_seconds: i64,
    /// Reminder watermarks: clock → (epoch, thresholds already reported in that epoch).
    #[serde(default)]
    pub reminders: std::collections::BTreeMap<String, (u32, u8)>,
}

impl Assignment {
    /// The epoch of a clock: the finish clock starts a new one with each granted extension.
    pub fn clock_epoch(&self, clock: &str) -> u32 {
        if clock == "finish" {
            self.extensions_granted
        } else {
            0
        }
    }
    /// How many thresholds of `clock` were already reported in its current epoch.
    pub fn reminder_watermark(&self, clock: &str) -> u8 {
        match self.reminders.get(clock) {
            Some((e, n)) if *e == self.clock_epoch(clock) => *n,
            _ => 0,
        }
    }
    /// When the clock was met, if it was.
    pub fn clock_done(&self, clock: &str) -> Option<DateTime<Utc>> {
        match clock {
            "sign" => self.signed_at,
            "respond" => self.responded_at,
            _ => self.finished_at,
        }
    }
}

/// A whistle (吹哨) and who has reported (报到).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Whistle {
    /// Who did it.
    pub by: String,
    /// The units summoned (吹哨).
    pub summoned: Vec<String>,
    /// The units that reported in, and when.
    pub reported: Vec<(String, DateTime<Utc>)>,
    /// Why, in words.
    pub reason: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// When the summoned units must have reported in (报到时限).
    pub report_deadline: DateTime<Utc>,
}

/// A recorded callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CallbackRecord {
    /// The handling round (1, then one more per reopen).
    pub round: u32,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What the callback found.
    pub outcome: CallbackOutcome,
}

/// An escalation (提级).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Escalation {
    /// The escalation level (提级).
    pub level: EscalationLevel,
    /// The unit escalated to, if any.
    pub to_unit: Option<String>,
    /// Why, in words.
    pub reason: String,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// 转接记录 — one transfer to an emergency service and the replies to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TransferRecord {
    /// The service transferred to.
    pub to: EmergencyService,
    /// Why, in words.
    pub reason: String,
    /// When it was transferred.
    pub at: DateTime<Utc>,
    /// Who transferred it (user name).
    pub by: String,
    /// The service's replies, in order.
    pub replies: Vec<TransferReplyRecord>,
}

/// One reply of an emergency service to a transfer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TransferReplyRecord {
    /// Accepted, declined or handled.
    pub outcome: TransferOutcome,
    /// The reply in words.
    pub text: String,
    /// The service's own reference, if given.
    pub reference: Option<String>,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// Who recorded it (an agent, or `partner:NAME` through the signed partner API).
    pub by: String,
}

impl TransferRecord {
    /// Whether the transfer still waits for the service's last word: no reply yet, or only
    /// "accepted" (a declined or handled reply ends it).
    pub fn open(&self) -> bool {
        !self.replies.iter().any(|r| {
            matches!(
                r.outcome,
                TransferOutcome::Declined | TransferOutcome::Handled
            )
        })
    }
}

/// The folded state of one ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketState {
    /// The id.
    pub id: TicketId,
    /// The public ticket number.
    pub number: String,
    /// The request as taken in.
    pub intake: Intake,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
    /// The status.
    pub status: Status,
    /// The units and their roles.
    pub assignments: Vec<Assignment>,
    /// When it was first dispatched.
    pub first_dispatched_at: Option<DateTime<Utc>>,
    /// The answer given.
    pub answer: Option<String>,
    /// The knowledge-base article of the direct answer, if any.
    pub answer_article: Option<String>,
    /// The special handling, if any.
    pub special: Option<SpecialHandling>,
    /// The whistles blown (吹哨), in order.
    pub whistles: Vec<Whistle>,
    /// The escalations, in order.
    pub escalations: Vec<Escalation>,
    /// The callbacks recorded, in order.
    pub callbacks: Vec<CallbackRecord>,
    /// The result submitted.
    pub result_text: Option<String>,
    /// The handling round (1, then one more per reopen).
    pub round: u32,
    /// The ticket this one was merged into (id, number).
    pub merged_into: Option<(TicketId, String)>,
    /// 派单会商: the open pre-dispatch consultation (note, units consulted), closed by dispatch.
    #[serde(default)]
    pub consultation: Option<(String, Vec<String>)>,
    /// Duplicates merged into this ticket (id, number).
    pub duplicates: Vec<(TicketId, String)>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// 考核豁免: the reason and note, while exempted.
    pub exempt: Option<(ExemptReason, String)>,
    /// When the last event happened.
    pub last_event_at: DateTime<Utc>,
    /// The number of events folded.
    pub version: u32,
    /// 删除个人信息 — when the requester's personal data was erased (retention).
    pub personal_data_erased: Option<DateTime<Utc>>,
    /// 转接 — the transfers to emergency services, in order, with their replies.
    #[serde(default)]
    pub transfers: Vec<TransferRecord>,
}

impl TicketState {
    /// Folds a whole log. Deterministic: the same events always give the same state.
    pub fn fold(id: TicketId, events: &[Event]) -> Result<TicketState, DomainError> {
        let mut it = events.iter();
        let first = it
            .next()
            .ok_or_else(|| DomainError::MalformedLog("empty log".into()))?;
        let mut st = TicketState::created(id, first)?;
        for e in it {
            st.apply(e)?;
        }
        Ok(st)
    }

    /// The state right after the creation event.
    pub fn created(id: TicketId, e: &Event) -> Result<TicketState, DomainError> {
        match &e.kind {
            EventKind::Created { number, intake } => Ok(TicketState {
                id,
                number: number.clone(),
                intake: intake.clone(),
                created_at: e.at,
                created_by: e.actor.user.clone(),
                status: Status::New,
                assignments: vec![],
                first_dispatched_at: None,
                answer: None,
                answer_article: None,
                special: None,
                whistles: vec![],
                escalations: vec![],
                callbacks: vec![],
                result_text: None,
                round: 0,
                merged_into: None,
                consultation: None,
                duplicates: vec![],
                closed_at: None,
                exempt: None,
                last_event_at: e.at,
                version: e.seq,
                personal_data_erased: None,
                transfers: vec![],
            }),
            other => Err(DomainError::MalformedLog(format!(
                "first event is {}, not created",
                other.name()
            ))),
        }
    }

    /// 待转接 — the numbers the intake's risk mark names that no transfer has gone to yet
    /// (the risk push's "marked for transfer", still to do).
    pub fn transfers_pending(&self) -> Vec<EmergencyService> {
        let Some(r) = &self.intake.risk else {
            return vec![];
        };
        r.transfer_to
            .iter()
            .filter_map(|n| EmergencyService::parse(n))
            .filter(|s| !self.transfers.iter().any(|t| t.to == *s))
            .collect()
    }

    /// The open transfer to `to`, if any (the last one to it that waits for its last word).
    pub fn open_transfer(&self, to: EmergencyService) -> Option<&TransferRecord> {
        self.transfers.iter().rev().find(|t| t.to == to && t.open())
    }

    /// The assignment of `unit` that is still active (at most one per unit).
    pub fn active_assignment(&self, unit: &str) -> Option<&Assignment> {
        self.assignments
            .iter()
            .find(|a| a.unit == unit && a.state.active())
    }
    fn active_assignment_mut(&mut self, unit: &str) -> Option<&mut Assignment> {
        self.assignments
            .iter_mut()
            .find(|a| a.unit == unit && a.state.active())
    }
    /// The current lead assignment (active, or finished in this round).
    pub fn lead(&self) -> Option<&Assignment> {
        self.assignments
            .iter()
            .rev()
            .find(|a| a.role == AssignmentRole::Lead && a.state != AssignmentState::Returned)
    }
    /// 办结单位 — the unit whose result is being called back: the lead that finished the current
    /// round (never a unit that returned the ticket, 退单).
    pub fn result_unit(&self) -> Option<&Assignment> {
        self.lead()
            .filter(|a| a.state == AssignmentState::Finished && a.round == self.round)
    }
    /// 协办单位 — the assisting units of the current round (not returned).
    pub fn assisting_units(&self) -> impl Iterator<Item = &Assignment> {
        self.assignments.iter().filter(|a| {
            a.role == AssignmentRole::Assist
                && a.state != AssignmentState::Returned
                && a.round == self.round
        })
    }
    /// The callback of the current round that reached the citizen, if any.
    pub fn current_callback(&self) -> Option<&CallbackRecord> {
        self.callbacks
            .iter()
            .rev()
            .find(|c| c.round == self.round && matches!(c.outcome, CallbackOutcome::Reached { .. }))
    }
    /// Unsuccessful callback attempts in the current round.
    pub fn unreachable_attempts(&self) -> usize {
        self.callbacks
            .iter()
            .filter(|c| {
                c.round == self.round && matches!(c.outcome, CallbackOutcome::Unreachable { .. })
            })
            .count()
    }
    /// Units that may see this ticket: assigned (not returned) and summoned units.
    pub fn involved_units(&self) -> impl Iterator<Item = &str> {
        self.assignments
            .iter()
            .filter(|a| a.state != AssignmentState::Returned)
            .map(|a| a.unit.as_str())
            .chain(
                self.whistles
                    .iter()
                    .flat_map(|w| w.summoned.iter().map(String::as_str)),
            )
    }

    fn recompute_status(&mut self) {
        if self.status == Status::Consultation {
            self.status = Status::New;
        }
        if matches!(
            self.status,
            Status::Answered
                | Status::SpecialHandled
                | Status::ResultSubmitted
                | Status::CallbackDone
                | Status::Closed
                | Status::Merged
                | Status::Archived
        ) {
            return;
        }
        let lead = self
            .assignments
            .iter()
            .find(|a| a.role == AssignmentRole::Lead && a.state.active());
        self.status = match lead {
            None if self.consultation.is_some() => Status::Consultation,
            None => Status::New,
            Some(a) if a.pending_return.is_some() => Status::ReturnReview,
            Some(a) if a.state == AssignmentState::Dispatched => Status::Dispatched,
            Some(_) => Status::InProgress,
        };
    }

    /// Applies one event. Refuses only what cannot be folded at all (e.g. a unit acting with no
    /// assignment), so a log written by `decide` always folds.
    pub fn apply(&mut self, e: &Event) -> Result<(), DomainError> {
        let at = e.at;
        let missing = |unit: &str, what: &'static str| {
            DomainError::MalformedLog(format!("{what} by unit {unit} with no active assignment"))
        };
        match &e.kind {
            EventKind::Created { .. } => {
                return Err(DomainError::MalformedLog("second created event".into()))
            }
            EventKind::AnsweredDirectly { answer, article_id } => {
                self.answer = Some(answer.clone());
                self.answer_article = article_id.clone();
                self.status = Status::Answered;
            }
            EventKind::SpecialHandled { handling, .. } => {
                self.special = Some(*handling);
                self.status = Status::SpecialHandled;
            }
            EventKind::ConsultationOpened { note, units } => {
                self.consultation = Some((note.clone(), units.clone()));
            }
            EventKind::Dispatched { assignments, .. } => {
                self.consultation = None;
                if self.first_dispatched_at.is_none() {
                    self.first_dispatched_at = Some(at);
                }
                for n in assignments {
                    self.assignments.push(Assignment {
                        unit: n.unit.clone(),
                        role: n.role,
                        tier: n.tier,
                        state: AssignmentState::Dispatched,
                        dispatched_at: at,
                        deadlines: n.deadlines,
                        signed_at: None,
                        responded_at: None,
                        finished_at: None,
                        pending_return: None,
                        pending_extension: None,
                        round: self.round,
                        extensions_granted: 0,
                        dispatched_by: e.actor.user.clone(),
                        reminders: Default::default(),
                        paused_since: None,
                        paused_seconds: 0,
                    });
                }
            }
            EventKind::ClockPaused { unit, .. } => {
                let a = self
                    .active_assignment_mut(unit)
                    .ok_or_else(|| missing(unit, "paused"))?;
                a.paused_since = Some(at);
            }
            EventKind::ClockResumed { unit } => {
                let a = self
                    .active_assignment_mut(unit)
                    .ok_or_else(|| missing(unit, "resumed"))?;
                if let Some(since) = a.paused_since.take() {
                    let d = at - since;
                    a.paused_seconds += d.num_seconds();
                    if a.signed_at.is_none() {
                        a.deadlines.sign += d;
                    }
                    if a.responded_at.is_none() {
                        a.deadlines.respond += d;
                    }
                    a.deadlines.finish += d;
                }
            }
            EventKind::Signed { unit } => {
                let a = self
                    .active_assignment_mut(unit)
                    .ok_or_else(|| missing(unit, "signed"))?;
                a.state = AssignmentState::Signed;
                a.signed_at.get_or_insert(at);
            }
            EventKind::Responded { unit, .. } => {
                let a = self
                    .active_assignment_mut(unit)
                    .ok_or_else(|| missing(unit, "responded"))?;
                a.state = AssignmentState::Responded;
                a.responded_at.get_or_insert(at);
            }
            EventKind::NoteAdded { .. } | EventKind::AttachmentAdded { .. } => {}
            EventKind::TransferredOut { to, reason } => self.transfers.push(TransferRecord {
                to: *to,
                reason: reason.clone(),
                at,
                by: e.actor.user.clone(),
                replies: vec![],
            }),
            EventKind::TransferReplied {
                to,
                outcome,
                text,
                reference,
            } => {
                let t = self
                    .transfers
                    .iter_mut()
                    .rev()
                    .find(|t| t.to == *to)
                    .ok_or_else(|| {
                        DomainError::MalformedLog(format!("a reply from {to} with no transfer"))
                    })?;
                t.replies.push(TransferReplyRecord {
                    outcome: *outcome,
                    text: text.clone(),
                    reference: reference.clone(),
                    at,
                    by: e.actor.user.clone(),
                });
            }
            EventKind::Whistled {
                unit,
                summoned,
                reason,
                report_deadline,
            } => self.whistles.push(Whistle {
                by: unit.clone(),
                summoned: summoned.clone(),
                reported: vec![],
                reason: reason.clone(),
                at,
                report_deadline: *report_deadline,
            }),
            EventKind::ReportedIn { unit } => {
                if let Some(w) =
                    self.whistles.iter_mut().rev().find(|w| {
                        w.summoned.contains(unit) && !w.reported.iter().any(|r| &r.0 == unit)
                    })
                {
                    w.reported.push((unit.clone(), at));
                }
            }
            EventKind::ReturnRequested { unit, reason, text } => {
                let a = self
                    .active_assignment_mut(unit)
                    .ok_or_else(|| missing(unit, "return requested"))?;
                a.pending_return = Some(PendingReturn {
                    reason: *reason,
                    text: text.clone(),
                    at,
                });
            }
            EventKind::ReturnReviewed { unit, approved, .. } => {
                let a = self
                    .active_assignment_mut(unit)
                    .ok_or_else(|| missing(unit, "return reviewed"))?;
                a.pending_return = None;
                if *approved {
                    a.state = AssignmentState::Returned;
                }
            }
            EventKind::ExtensionRequested {
                unit,
                until,
                reason,
            } => {
                let a = self
                    .active_assignment_mut(unit)
                    .ok_or_else(|| missing(unit, "extension requested"))?;
                a.pending_extension = Some(PendingExtension {
                    until: *until,
                    reason: reason.clone(),
                    at,
                });
            }
            EventKind::ExtensionReviewed { unit, approved, .. } => {
                let a = self
                    .active_assignment_mut(unit)
                    .ok_or_else(|| missing(unit, "extension reviewed"))?;
                if let Some(p) = a.pending_extension.take() {
                    if *approved {
                        a.deadlines.finish = p.until;
                        a.extensions_granted += 1;
                    }
                }
            }
            EventKind::Escalated {
                level,
                to_unit,
                reason,
            } => self.escalations.push(Escalation {
                level: *level,
                to_unit: to_unit.clone(),
                reason: reason.clone(),
                at,
            }),
            EventKind::ResultSubmitted { unit, text, .. } => {
                let a = self
                    .active_assignment_mut(unit)
                    .ok_or_else(|| missing(unit, "result submitted"))?;
                a.state = AssignmentState::Finished;
                a.finished_at = Some(at);
                if a.role == AssignmentRole::Lead {
                    self.result_text = Some(text.clone());
                    self.status = Status::ResultSubmitted;
                }
            }
            EventKind::CallbackRecorded { outcome } => {
                self.callbacks.push(CallbackRecord {
                    round: self.round,
                    at,
                    outcome: outcome.clone(),
                });
                if matches!(outcome, CallbackOutcome::Reached { .. }) {
                    self.status = Status::CallbackDone;
                }
            }
            EventKind::Reopened { deadlines, .. } => {
                self.round += 1;
                self.closed_at = None;
                self.status = Status::New;
                for (unit, d) in deadlines {
                    let round = self.round;
                    let a = self
                        .assignments
                        .iter_mut()
                        .rev()
                        .find(|a| &a.unit == unit && a.state != AssignmentState::Returned)
                        .ok_or_else(|| missing(unit, "reopened"))?;
                    a.state = AssignmentState::Dispatched;
                    a.deadlines = *d;
                    a.dispatched_at = at;
                    a.signed_at = None;
                    a.responded_at = None;
                    a.finished_at = None;
                    a.round = round;
                    a.reminders.clear();
                    a.paused_since = None;
                }
            }
            EventKind::MergedInto {
                primary,
                primary_number,
            } => {
                self.merged_into = Some((*primary, primary_number.clone()));
                self.status = Status::Merged;
            }
            EventKind::DuplicateAttached {
                duplicate,
                duplicate_number,
            } => self.duplicates.push((*duplicate, duplicate_number.clone())),
            EventKind::Unmerged { .. } => {
                self.merged_into = None;
                self.status = Status::New;
            }
            EventKind::Reminded {
                unit,
                clock,
                epoch,
                index,
                ..
            } => {
                let a = self
                    .active_assignment_mut(unit)
                    .ok_or_else(|| missing(unit, "reminded"))?;
                a.reminders.insert(clock.clone(), (*epoch, index + 1));
            }
            EventKind::Exempted { reason, note } => {
                self.exempt = reason.map(|r| (r, note.clone()));
            }
            // 督办催办 changes no clock; the event log and the unit's inbox carry it.
            EventKind::Urged { .. } => {}
            EventKind::Closed { .. } => {
                self.status = Status::Closed;
                self.closed_at = Some(at);
            }
            EventKind::Archived {} => self.status = Status::Archived,
            EventKind::PersonalDataErased { .. } => {
                self.intake.requester.name.clear();
                self.intake.requester.phone.clear();
                self.intake.place.address = None;
                self.personal_data_erased = Some(at);
            }
            EventKind::Reclassified {
                category_code,
                request_type,
                ..
            } => {
                self.intake.category_code = category_code.clone();
                self.intake.request_type = *request_type;
            }
        }
        self.last_event_at = at;
        self.version = e.seq;
        self.recompute_status();
        Ok(())
    }
}
