//! # jiesu-domain
//!
//! The rules of a 12345 hotline (接诉即办) with no IO: no database, no network, no clock. Time is
//! always passed in.
//!
//! - [`org`] — the organisation tree of units.
//! - [`category`] — the three-level category tree and the 七有五性 domains.
//! - [`ticket`] — the vocabulary of a ticket and its intake.
//! - [`event`] — the events of a ticket's log.
//! - [`state`] — the ticket state as a pure fold of its events.
//! - [`action`] — the table of ticket actions: wire names, labels, roles, body fields.
//! - [`prepare`] — a caller's request to a command on the current state; `allowed_actions`.
//! - [`intake`] — the intake form parsed and validated at the edge (`Intake::parse`).
//! - [`command`] — `decide`: which transitions are legal and which events they produce.
//! - [`auth`] — roles, scopes and personal-data masking in one place.
//! - [`deadline`] — deadline arithmetic.
//! - [`zone`] — the city's time zone: every local day and month boundary.

#![warn(missing_docs)]

pub mod action;
pub mod auth;
pub mod capability;
pub mod category;
pub mod command;
pub mod deadline;
pub mod error;
pub mod event;
pub mod intake;
pub mod org;
pub mod prepare;
pub mod state;
pub mod ticket;
pub mod zone;

pub use action::Action;
pub use auth::{Actor, Role};
pub use command::{decide, execute, AssignmentRequest, Command};
pub use deadline::DeadlineSource;
pub use error::DomainError;
pub use event::{ActorRef, CallbackOutcome, Deadlines, Event, EventKind, TicketId};
pub use prepare::{allowed_actions, prepare, ActionRequest, Context};
pub use state::{Assignment, AssignmentState, Status, TicketState};
pub use zone::CityZone;
