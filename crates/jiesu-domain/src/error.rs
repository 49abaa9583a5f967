//! Domain errors: precise, bilingual, naming the field or the state that refused the change.

use thiserror::Error;

/// Why the domain refused a command. Every variant names what is wrong in plain words; `zh()` gives
/// the Chinese message shown to users.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// A field is missing, malformed or out of range.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The field concerned.
        field: String,
        /// The message in English.
        message: String,
        /// The message in Chinese.
        message_zh: String,
    },
    /// The command is not allowed in the ticket's current state.
    #[error("cannot {action} a ticket that is {status}")]
    IllegalTransition {
        /// The action (wire name).
        action: &'static str,
        /// The status.
        status: &'static str,
    },
    /// The acting unit has no assignment on this ticket that allows the action.
    #[error("unit {unit} has no {needed} assignment on this ticket for {action}")]
    NoAssignment {
        /// The unit (code) concerned.
        unit: String,
        /// The action (wire name).
        action: &'static str,
        /// The assignment state the action needs.
        needed: &'static str,
    },
    /// The acting unit's assignment is in the wrong state for the action.
    #[error("cannot {action}: the assignment of unit {unit} is {state}")]
    AssignmentState {
        /// The unit (code) concerned.
        unit: String,
        /// The action (wire name).
        action: &'static str,
        /// The state.
        state: &'static str,
    },
    /// The first event of a ticket must be its creation, and creation happens once.
    #[error("event log is malformed: {0}")]
    MalformedLog(String),
}

impl DomainError {
    /// A refusal of a field, in English and Chinese.
    pub fn invalid(
        field: impl Into<String>,
        message: impl Into<String>,
        zh: impl Into<String>,
    ) -> Self {
        DomainError::Invalid {
            field: field.into(),
            message: message.into(),
            message_zh: zh.into(),
        }
    }
    /// A stable machine-readable code for the error kind.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Invalid { .. } => "invalid",
            DomainError::IllegalTransition { .. } => "illegal_transition",
            DomainError::NoAssignment { .. } => "no_assignment",
            DomainError::AssignmentState { .. } => "assignment_state",
            DomainError::MalformedLog(_) => "malformed_log",
        }
    }
    /// The field the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            DomainError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
    /// The message in Chinese.
    pub fn zh(&self) -> String {
        match self {
            DomainError::Invalid {
                message_zh, field, ..
            } => format!("{field}：{message_zh}"),
            DomainError::IllegalTransition { action, status } => format!(
                "工单当前状态为“{}”，不能执行“{}”",
                crate::state::Status::label_zh_of(status),
                crate::command::action_label_zh(action)
            ),
            DomainError::NoAssignment { unit, action, .. } => format!(
                "单位 {unit} 在此工单上没有可执行“{}”的派单",
                crate::command::action_label_zh(action)
            ),
            DomainError::AssignmentState {
                unit,
                action,
                state,
            } => format!(
                "单位 {unit} 的派单状态为“{}”，不能执行“{}”",
                crate::state::AssignmentState::label_zh_of(state),
                crate::command::action_label_zh(action)
            ),
            DomainError::MalformedLog(m) => format!("事件记录损坏：{m}"),
        }
    }
}

/// Parses a wire name of an enumeration (`parse`), or refuses `field` naming the values allowed
/// (`names`), in both languages: the one refusal of an unknown enum value in a body or a form.
pub(crate) fn parse_wire<T>(
    field: &str,
    v: &str,
    parse: fn(&str) -> Option<T>,
    names: String,
) -> Result<T, DomainError> {
    parse(v).ok_or_else(|| {
        DomainError::invalid(
            field,
            format!("'{v}' is not one of: {names}"),
            format!("“{v}”不是有效取值（可选：{names}）"),
        )
    })
}
