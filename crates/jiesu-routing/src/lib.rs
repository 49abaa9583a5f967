//! # jiesu-routing
//!
//! Routing and deadlines for a 12345 hotline (接诉即办), as pure logic: no files, database,
//! network or clock — time is always passed in.
//!
//! - [`catalogue`] — the versioned duty catalogue (派单目录) and explained suggestions.
//! - [`csvio`] — CSV import (all or nothing, line-numbered report) and export.
//! - [`mod@lint`] — conflicts, gaps and rules pointing at retired units.
//! - [`defaults`] — the demo city's catalogue from per-leaf lead options.
//! - [`mod@whatif`] — replay tickets under a draft catalogue.
//! - [`calendar`] — working calendars (holidays, 调休, working hours) and clock arithmetic.
//! - [`engine`] — the one deadline engine (policy + calendar in the city's zone) server and demo share.
//! - [`policy`] — deadline policies per tier with overrides, pauses, extensions; clock states.
//! - [`scheduler`] — reminders at thresholds, exactly once per clock and threshold.
//! - [`unit_labels`] — lead units as the intake unit model learns them (place-independent labels).
//! - [`mod@bench`] — the `jiesu bench route` figures.

pub mod bench;
pub mod calendar;
pub mod catalogue;
pub mod csvio;
pub mod defaults;
pub mod edit;
pub mod engine;
mod fxhash;
pub mod lint;
pub mod policy;
pub mod scheduler;
pub mod unit_labels;
pub mod whatif;

pub use calendar::{Calendar, Pause, Span, SpanUnit, TimeBasis, WorkPeriod, WorkingTimeline};
pub use catalogue::{
    Alternative, Catalogue, PlaceScope, Rank, RouteFacts, Router, Rule, RuleAssignment,
    SuggestedAssignment, Suggestion, UnitRef,
};
pub use csvio::{ImportProblem, ImportReport};
pub use defaults::{default_catalogue, DefaultInputs, LeadOptions};
pub use engine::DeadlineEngine;
pub use lint::{lint, LintReport};
pub use policy::{
    clock_state, ClockInput, ClockKind, ClockReport, ClockState, DeadlineOverride, DeadlinePolicy,
    DueSoon, Extension, ReviewKind, ReviewSpans,
};
pub use scheduler::{
    due_reminders, reminders_due, ClockKey, Emitted, OpenAssignment, OpenClock, Reminder,
    Scheduler, Thresholds,
};
pub use unit_labels::{resolve_unit_label, unit_label};
pub use whatif::{replay_item, whatif, whatif_since, whatif_tickets, WhatIfReport};
