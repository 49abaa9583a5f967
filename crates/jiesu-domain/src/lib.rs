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
//! - [`command`] — `decide`: which transitions are legal and which events they produce.
//! - [`auth`] — roles, scopes and personal-data masking in one place.
//! - [`deadline`] — deadline arithmetic.
//! - [`zone`] — the city's time zone: every local day and month boundary.

pub mod auth;
pub mod capability;
pub mod category;
pub mod command;
pub mod deadline;
pub mod error;
pub mod event;
pub mod org;
pub mod state;
pub mod ticket;
pub mod zone;

pub use auth::{Actor, Role};
pub use command::{decide, execute, AssignmentRequest, Command};
pub use error::DomainError;
pub use event::{ActorRef, CallbackOutcome, Deadlines, Event, EventKind, TicketId};
pub use state::{Assignment, AssignmentState, Status, TicketState};
pub use zone::CityZone;
