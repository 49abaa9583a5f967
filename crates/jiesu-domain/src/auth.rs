//! Authorization in one place: which role may do what, which tickets a unit may see, and when
//! personal data is shown unmasked. Every HTTP route passes through these functions.

use crate::command::Command;
use crate::org::OrgTree;
use crate::state::{AssignmentState, TicketState};
use serde::{Deserialize, Serialize};

crate::ticket::wire_enum! {
    /// A user's role. Names as used in the CLI and the API.
    Role {
        /// 受理 — takes requests in, answers consultations, dispatches simple ones.
        Agent = "agent" / "受理员",
        /// 派单 — dispatches, reviews returns and extensions.
        Dispatcher = "dispatcher" / "派单员",
        /// 承办人 — works the tickets of their unit (and its children).
        UnitHandler = "unit_handler" / "承办人",
        /// 单位负责人 — a unit's manager: as handler, plus escalation.
        UnitManager = "unit_manager" / "单位负责人",
        /// 回访 — calls citizens back.
        CallbackAgent = "callback_agent" / "回访员",
        /// 督办 — supervises: sees everything, reviews, reopens, closes.
        Supervisor = "supervisor" / "督办员",
        /// 管理员
        Admin = "admin" / "管理员",
        /// 网格员 — a grid worker: reports problems of their grid from the phone page (网格上报)
        /// and attaches photos to their own reports; sees no other ticket.
        GridWorker = "grid_worker" / "网格员",
        /// 市民 — the public (self-service submission and tracking).
        Citizen = "citizen" / "市民",
        /// 系统 — the scheduler and the demo-city generator.
        System = "system" / "系统",
    }
}

impl Role {
    /// Roles that work at the hotline centre and see every ticket.
    pub fn is_centre(self) -> bool {
        matches!(
            self,
            Role::Agent
                | Role::Dispatcher
                | Role::CallbackAgent
                | Role::Supervisor
                | Role::Admin
                | Role::System
        )
    }
    /// Roles that belong to a unit and are scoped to it.
    pub fn is_unit(self) -> bool {
        matches!(self, Role::UnitHandler | Role::UnitManager)
    }
    /// Roles a user account may have (citizens and the system have none).
    pub fn assignable(self) -> bool {
        !matches!(self, Role::Citizen | Role::System)
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user name.
    pub user: String,
    /// The role.
    pub role: Role,
    /// The unit a unit role belongs to.
    pub unit: Option<String>,
}

impl Actor {
    /// The system actor (scheduler, generator).
    pub fn system() -> Actor {
        Actor {
            user: "system".into(),
            role: Role::System,
            unit: None,
        }
    }
    /// The actor as recorded in an event, acting for `acting_unit` (else their own unit).
    pub fn to_ref(&self, acting_unit: Option<&str>) -> crate::event::ActorRef {
        crate::event::ActorRef {
            user: self.user.clone(),
            role: self.role,
            unit: acting_unit
                .map(str::to_string)
                .or_else(|| self.unit.clone()),
        }
    }
    /// Whether the actor's scope covers `unit` (a unit role covers its unit and its children).
    pub fn covers(&self, unit: &str, org: &OrgTree) -> bool {
        if self.role.is_centre() {
            return true;
        }
        match &self.unit {
            Some(mine) => org.is_within(unit, mine),
            None => false,
        }
    }
}

/// Why an actor may not do something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The role may never do this action.
    #[error("role {role} may not {action}")]
    Role {
        /// The role.
        role: Role,
        /// The action (wire name).
        action: String,
    },
    /// The ticket is outside the actor's units (reported as not found to avoid leaking it).
    #[error("ticket not found")]
    OutOfScope,
}

impl Denied {
    /// The message in Chinese.
    pub fn zh(&self) -> String {
        match self {
            Denied::Role { role, action } => format!(
                "{}无权执行“{}”",
                role.label_zh(),
                crate::command::action_label_zh(action)
            ),
            Denied::OutOfScope => "工单不存在".into(),
        }
    }
}

/// Which roles may perform a command (by its wire name), before looking at the ticket. Ticket
/// actions are looked up in the action table ([`crate::action::Action::roles`]); taking a request
/// in (`create`) is the [`Capability::Intake`] of the capability table, or a citizen filing their
/// own; `read` is [`Capability::TicketsRead`]. Nothing else is allowed.
pub fn role_may(role: Role, action: &str) -> bool {
    use crate::capability::Capability;
    if role == Role::System {
        return true;
    }
    if let Some(a) = crate::action::Action::from_wire(action) {
        return a.allows(role);
    }
    match action {
        "create" => role == Role::Citizen || Capability::Intake.granted_to(role),
        "read" => Capability::TicketsRead.granted_to(role),
        _ => false,
    }
}

/// Whether the actor may see this ticket at all. Units see tickets assigned to them or their
/// children (and those they were summoned to); the centre sees all.
pub fn can_view(actor: &Actor, t: &TicketState, org: &OrgTree) -> bool {
    if actor.role.is_centre() {
        return true;
    }
    if !actor.role.is_unit() {
        return false;
    }
    t.involved_units().any(|u| actor.covers(u, org))
}

/// Whether the actor sees the requester's name and phone unmasked: centre roles do; a unit only
/// while the ticket is theirs and in progress — an assignment in their scope that they have
/// signed for (签收) and not yet finished. A unit that has only been dispatched to may still
/// return a wrongly routed ticket (退单), so it sees the masked phone until it signs.
pub fn can_see_personal(actor: &Actor, t: &TicketState, org: &OrgTree) -> bool {
    if actor.role.is_centre() {
        return true;
    }
    actor.role.is_unit()
        && t.assignments.iter().any(|a| {
            a.state.active() && a.state != AssignmentState::Dispatched && actor.covers(&a.unit, org)
        })
}

/// 网格上报 — whether `t` is a grid report (channel `grid`) that `actor`, a grid worker, filed.
pub fn own_grid_report(actor: &Actor, t: &TicketState) -> bool {
    actor.role == Role::GridWorker
        && t.intake.channel == crate::ticket::Channel::Grid
        && t.created_by == actor.user
}

/// Checks a command against the actor: role, then scope (unit roles act only for units they cover).
pub fn authorize(
    actor: &Actor,
    cmd: &Command,
    t: &TicketState,
    org: &OrgTree,
) -> Result<(), Denied> {
    if actor.role == Role::GridWorker {
        // a grid worker adds photos to their own grid reports, nothing else
        return match cmd {
            Command::Attach { .. } if own_grid_report(actor, t) => Ok(()),
            _ => Err(Denied::OutOfScope),
        };
    }
    if !can_view(actor, t, org) {
        return Err(Denied::OutOfScope);
    }
    if !role_may(actor.role, cmd.action()) {
        return Err(Denied::Role {
            role: actor.role,
            action: cmd.action().into(),
        });
    }
    if actor.role.is_unit() {
        match cmd.acting_unit() {
            Some(u) if actor.covers(u, org) => {}
            Some(_) => return Err(Denied::OutOfScope),
            None => {
                // unit roles may only escalate or write notes without naming a unit
                if !matches!(
                    cmd,
                    Command::Escalate { .. } | Command::Note { .. } | Command::Attach { .. }
                ) {
                    return Err(Denied::Role {
                        role: actor.role,
                        action: cmd.action().into(),
                    });
                }
            }
        }
    }
    Ok(())
}
