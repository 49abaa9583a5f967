//! The ticket actions in one table (操作): wire name, Chinese and English labels, the roles that
//! may take them, the body fields they take and whether they act for a unit. Authorization
//! (`auth::role_may`), refusal messages, the HTTP route `POST /api/v1/tickets/{id}/{action}`, the
//! `GET /api/v1/actions` answer (labels and forms in the UI) and the API document all read it.

use crate::auth::Role;
use crate::ticket::{
    Attitude, DeadlineTier, EmergencyService, EscalationLevel, ExemptReason, RequestType,
    Resolution, ReturnReason, Satisfaction, SpecialHandling, TransferOutcome,
};
use serde::Serialize;

/// The type of a body field, enough to draw a form and document the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Free text.
    Text,
    /// `true` / `false`.
    Bool,
    /// A whole number.
    Integer,
    /// An RFC 3339 instant.
    Time,
    /// One unit code of the org tree.
    Unit,
    /// A list of unit codes.
    Units,
    /// A list of strings (e.g. attachment ids).
    Strings,
    /// One of a fixed set of wire names (see [`FieldSpec::values`]).
    Enum,
    /// A category code of the category tree.
    Category,
    /// A ticket number (or id).
    Ticket,
    /// A list of `{unit_code, role}` (the units of a dispatch).
    Assignments,
}

/// One field of an action's JSON body.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The JSON member name.
    pub name: &'static str,
    /// Its type.
    pub ty: FieldType,
    /// Whether the body must have it.
    pub required: bool,
    /// The wire names an enum field may take (empty otherwise).
    pub values: fn() -> Vec<&'static str>,
}

fn none() -> Vec<&'static str> {
    Vec::new()
}

macro_rules! values_of {
    ($t:ty) => {
        || <$t>::ALL.iter().map(|x| x.as_str()).collect()
    };
}

const fn f(name: &'static str, ty: FieldType, required: bool) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required,
        values: none,
    }
}

const fn e(name: &'static str, required: bool, values: fn() -> Vec<&'static str>) -> FieldSpec {
    FieldSpec {
        name,
        ty: FieldType::Enum,
        required,
        values,
    }
}

use FieldType as T;
use Role::*;

const UNIT_CODE: FieldSpec = f("unit_code", T::Unit, false);

macro_rules! actions {
    ($(
        $(#[$m:meta])*
        $var:ident = $wire:literal / $zh:literal / $en:literal,
        roles [$($role:ident),*], unit $unit:literal, fields [$($field:expr),* $(,)?];
    )+) => {
        /// A ticket action (操作) — every change a caller can ask of an existing ticket.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($(#[$m])* $var),+
        }

        impl Action {
            /// Every action, in table order (the order `allowed_actions` lists them). The last
            /// three are not routed at `POST /tickets/{id}/{action}` (see [`Action::ROUTED`]).
            pub const EVERY: &'static [Action] = &[$(Action::$var),+];
            /// The wire name (as in `POST /api/v1/tickets/{id}/{action}` and refusals).
            pub fn wire(self) -> &'static str {
                match self { $(Action::$var => $wire),+ }
            }
            /// The Chinese label (buttons, toasts, refusal messages).
            pub fn label_zh(self) -> &'static str {
                match self { $(Action::$var => $zh),+ }
            }
            /// The English label.
            pub fn label_en(self) -> &'static str {
                match self { $(Action::$var => $en),+ }
            }
            /// The roles that may take the action (the system actor may take every action).
            pub fn roles(self) -> &'static [Role] {
                match self { $(Action::$var => const { &[$($role),*] }),+ }
            }
            /// Whether the action is a unit's work: it acts for a unit of the caller's scope
            /// (named by `unit_code` or found from the caller's assignments).
            pub fn needs_unit(self) -> bool {
                match self { $(Action::$var => $unit),+ }
            }
            /// The fields of the JSON body.
            pub fn body_fields(self) -> &'static [FieldSpec] {
                match self { $(Action::$var => const { &[$($field),*] }),+ }
            }
        }
    };
}

actions! {
    /// 直接答复 — the agent answers on the spot (no dispatch).
    Answer = "answer" / "直接答复" / "Answer directly",
        roles [Agent, Dispatcher, Supervisor], unit false,
        fields [f("answer", T::Text, true), f("article_id", T::Text, false)];
    /// 特殊处置 — a request handled outside dispatch (legal route, other channel …).
    Special = "special" / "特殊处置" / "Special handling",
        roles [Agent, Dispatcher, Supervisor], unit false,
        fields [e("handling", true, values_of!(SpecialHandling)), f("note", T::Text, true)];
    /// 派单会商 — a consultation before dispatch.
    Consult = "consult" / "派单会商" / "Consult before dispatch",
        roles [Dispatcher, Supervisor], unit false,
        fields [f("note", T::Text, true), f("units", T::Units, false)];
    /// 派单 — dispatch to a lead unit (主办) and co-units (协办).
    Dispatch = "dispatch" / "派单" / "Dispatch",
        roles [Agent, Dispatcher, Supervisor], unit false,
        fields [
            f("assignments", T::Assignments, true),
            e("tier", false, values_of!(DeadlineTier)),
            f("note", T::Text, false),
            f("rule", T::Text, false),
        ];
    /// 签收 — the unit accepts the ticket.
    Sign = "sign" / "签收" / "Sign",
        roles [UnitHandler, UnitManager], unit true, fields [UNIT_CODE];
    /// 暂停计时 — the clock waits for the citizen.
    Pause = "pause" / "暂停计时" / "Pause the clock",
        roles [UnitHandler, UnitManager], unit true,
        fields [UNIT_CODE, f("text", T::Text, true)];
    /// 恢复计时 — the clock runs again.
    Resume = "resume" / "恢复计时" / "Resume the clock",
        roles [UnitHandler, UnitManager], unit true, fields [UNIT_CODE];
    /// 联系诉求人 — the unit has contacted the citizen.
    Respond = "respond" / "已联系诉求人" / "Citizen contacted",
        roles [UnitHandler, UnitManager], unit true,
        fields [UNIT_CODE, f("note", T::Text, false)];
    /// 办理进展 — a progress note (public or internal).
    Note = "note" / "办理进展" / "Progress note",
        roles [Agent, Dispatcher, UnitHandler, UnitManager, CallbackAgent, Supervisor], unit false,
        fields [UNIT_CODE, f("text", T::Text, true), f("public", T::Bool, false)];
    /// 吹哨 — the unit summons others to report in (吹哨报到).
    Whistle = "whistle" / "吹哨" / "Blow the whistle",
        roles [UnitHandler, UnitManager], unit true,
        fields [
            UNIT_CODE,
            f("units", T::Units, true),
            f("reason", T::Text, true),
            f("report_minutes", T::Integer, false),
        ];
    /// 报到 — a summoned unit reports in.
    Report = "report" / "报到" / "Report in",
        roles [UnitHandler, UnitManager], unit true, fields [UNIT_CODE];
    /// 退单 — a unit returns a wrongly dispatched ticket.
    Return = "return" / "申请退单" / "Return",
        roles [UnitHandler, UnitManager], unit true,
        fields [UNIT_CODE, e("reason", true, values_of!(ReturnReason)), f("text", T::Text, true)];
    /// 退单审核 — the centre approves or rejects a return.
    ReviewReturn = "review-return" / "退单审核" / "Review return",
        roles [Dispatcher, Supervisor], unit false,
        fields [UNIT_CODE, f("approve", T::Bool, true), f("note", T::Text, false)];
    /// 申请延期 — a unit asks for more time.
    Extend = "extend" / "申请延期" / "Ask for extension",
        roles [UnitHandler, UnitManager], unit true,
        fields [
            UNIT_CODE,
            f("until", T::Time, false),
            f("days", T::Integer, false),
            f("reason", T::Text, true),
        ];
    /// 延期审核 — the centre approves or rejects an extension.
    ReviewExtension = "review-extension" / "延期审核" / "Review extension",
        roles [Dispatcher, Supervisor], unit false,
        fields [UNIT_CODE, f("approve", T::Bool, true), f("note", T::Text, false)];
    /// 提级 — escalate to a higher level.
    Escalate = "escalate" / "提级" / "Escalate",
        roles [UnitManager, Dispatcher, Supervisor], unit false,
        fields [
            e("level", true, values_of!(EscalationLevel)),
            f("to_unit", T::Unit, false),
            f("reason", T::Text, true),
        ];
    /// 督办催办 — the centre urges a unit on its open assignment.
    Urge = "urge" / "督办催办" / "Urge the unit",
        roles [Dispatcher, Supervisor], unit false,
        fields [UNIT_CODE, f("note", T::Text, true)];
    /// 办结 — the unit submits its result.
    Result = "result" / "提交办结" / "Submit result",
        roles [UnitHandler, UnitManager], unit true,
        fields [UNIT_CODE, f("text", T::Text, true), f("evidence", T::Strings, false)];
    /// 回访 — the centre calls the citizen back.
    Callback = "callback" / "回访" / "Callback",
        roles [CallbackAgent, Supervisor], unit false,
        fields [
            f("unreachable", T::Bool, false),
            f("contacted", T::Bool, false),
            e("resolution", false, values_of!(Resolution)),
            e("satisfaction", false, values_of!(Satisfaction)),
            e("attitude", false, values_of!(Attitude)),
            f("comment", T::Text, false),
            f("note", T::Text, false),
        ];
    /// 重办 — the ticket goes back to its units.
    Reopen = "reopen" / "重办" / "Reopen",
        roles [Dispatcher, Supervisor], unit false, fields [f("reason", T::Text, true)];
    /// 合并 — merge a duplicate into another ticket.
    Merge = "merge" / "合并" / "Merge",
        roles [Agent, Dispatcher, Supervisor], unit false, fields [f("into", T::Ticket, true)];
    /// 撤销合并 — undo a wrong merge.
    Unmerge = "unmerge" / "撤销合并" / "Undo merge",
        roles [Agent, Dispatcher, Supervisor], unit false, fields [f("note", T::Text, false)];
    /// 考核豁免 — exclude from scoring (no reason lifts it).
    Exempt = "exempt" / "考核豁免" / "Exempt from scoring",
        roles [Supervisor], unit false,
        fields [e("reason", false, values_of!(ExemptReason)), f("note", T::Text, true)];
    /// 改类 — correct the request type and category.
    Reclassify = "reclassify" / "改类" / "Reclassify",
        roles [Agent, Dispatcher, Supervisor, Admin], unit false,
        fields [
            f("category_code", T::Category, false),
            e("type", false, values_of!(RequestType)),
            f("reason", T::Text, true),
        ];
    /// 结案 — close the ticket.
    Close = "close" / "结案" / "Close",
        roles [Agent, Dispatcher, CallbackAgent, Supervisor], unit false,
        fields [f("note", T::Text, false)];
    /// 归档 — archive a closed ticket.
    Archive = "archive" / "归档" / "Archive",
        roles [Supervisor, Admin], unit false, fields [];
    /// 转接紧急部门 — transfer the request to 110/119/120/122 (a transfer record: to whom, when,
    /// why, by whom; the risk push marks the numbers).
    Transfer = "transfer" / "转接紧急部门" / "Transfer to an emergency service",
        roles [Agent, Dispatcher, Supervisor], unit false,
        fields [e("to", true, values_of!(EmergencyService)), f("reason", T::Text, true)];
    /// 转接回复 — the emergency service's reply (accepted / declined / handled), entered by an
    /// agent (the 110 linkage partner sends it through the signed partner API).
    TransferReply = "transfer-reply" / "登记转接回复" / "Record the transfer's reply",
        roles [Agent, Dispatcher, Supervisor], unit false,
        fields [
            e("to", true, values_of!(EmergencyService)),
            e("outcome", true, values_of!(TransferOutcome)),
            f("text", T::Text, true),
            f("reference", T::Text, false),
        ];
    /// 并入重复诉求 — the primary side of a merge (written with [`Action::Merge`]).
    AttachDuplicate = "attach-duplicate" / "并入重复诉求" / "Attach a duplicate",
        roles [Agent, Dispatcher, Supervisor], unit false, fields [];
    /// 上传附件 — a file attached to the ticket (`POST /tickets/{id}/attachments`).
    Attach = "attach" / "上传附件" / "Attach a file",
        roles [Agent, Dispatcher, UnitHandler, UnitManager, CallbackAgent, Supervisor], unit false,
        fields [];
    /// 催办提醒 — the scheduler's reminder at a passed threshold (system only).
    Remind = "remind" / "催办提醒" / "Reminder",
        roles [], unit true, fields [];
    /// 删除个人信息 — the retention task erases an archived ticket's personal data once its
    /// retention period has passed (system only).
    ErasePersonalData = "erase-personal-data" / "删除个人信息" / "Erase personal data",
        roles [], unit false, fields [];
}

impl Action {
    /// The actions posted at `POST /api/v1/tickets/{id}/{action}`, in table order.
    pub const ROUTED: &'static [Action] = {
        // the last four are internal: written with another action, or by the system
        let (all, _) = Action::EVERY.split_at(Action::EVERY.len() - 4);
        all
    };
    /// Same as [`Action::ROUTED`]: the actions a caller can ask for by name.
    pub const ALL: &'static [Action] = Action::ROUTED;

    /// The action of a wire name (any action of the table, routed or not).
    pub fn from_wire(s: &str) -> Option<Action> {
        Action::EVERY.iter().copied().find(|a| a.wire() == s)
    }
    /// The routed action of a wire name (`None` for unknown and internal actions).
    pub fn routed(s: &str) -> Option<Action> {
        Action::ROUTED.iter().copied().find(|a| a.wire() == s)
    }
    /// Whether `role` may take the action at all, before looking at the ticket.
    pub fn allows(self, role: Role) -> bool {
        role == Role::System || self.roles().contains(&role)
    }
    /// The wire names of every routed action, comma-separated (for error messages).
    pub fn names() -> String {
        Action::ROUTED
            .iter()
            .map(|a| a.wire())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.wire())
    }
}

/// The table as data (the `GET /api/v1/actions` answer): one entry per routed action.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ActionInfo {
    /// The wire name.
    pub name: &'static str,
    /// The Chinese label.
    pub label_zh: &'static str,
    /// The English label.
    pub label_en: &'static str,
    /// The roles that may take it (wire names).
    pub roles: Vec<&'static str>,
    /// Whether it acts for a unit.
    pub needs_unit: bool,
    /// The body fields.
    pub fields: Vec<FieldInfo>,
}

/// One body field as data.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FieldInfo {
    /// The JSON member name.
    pub name: &'static str,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// Whether it is required.
    pub required: bool,
    /// The values of an enum field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<&'static str>,
}

impl Action {
    /// The action as data.
    pub fn info(self) -> ActionInfo {
        ActionInfo {
            name: self.wire(),
            label_zh: self.label_zh(),
            label_en: self.label_en(),
            roles: self.roles().iter().map(|r| r.as_str()).collect(),
            needs_unit: self.needs_unit(),
            fields: self
                .body_fields()
                .iter()
                .map(|f| FieldInfo {
                    name: f.name,
                    ty: f.ty,
                    required: f.required,
                    values: (f.values)(),
                })
                .collect(),
        }
    }
    /// Every routed action as data, in table order.
    pub fn catalogue() -> Vec<ActionInfo> {
        Action::ROUTED.iter().map(|a| a.info()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_unique_and_round_trip() {
        for a in Action::EVERY {
            assert_eq!(Action::from_wire(a.wire()), Some(*a));
        }
        assert_eq!(Action::ROUTED.len(), 28);
        assert_eq!(Action::routed("remind"), None);
        assert_eq!(Action::routed("urge"), Some(Action::Urge));
    }

    #[test]
    fn every_routed_action_has_labels_and_a_role() {
        for a in Action::ROUTED {
            assert!(!a.label_zh().is_empty() && !a.label_en().is_empty());
            assert!(!a.roles().is_empty(), "{a}");
        }
    }
}
