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
//! - [`policy`] — deadline policies per tier with overrides, pauses, extensions; clock states.
//! - [`scheduler`] — reminders at thresholds, exactly once per clock and threshold.
//! - [`mod@bench`] — the `jiesu bench route` figures.

pub mod bench;
pub mod calendar;
pub mod catalogue;
pub mod csvio;
pub mod defaults;
pub mod edit;
mod fxhash;
pub mod lint;
pub mod policy;
pub mod scheduler;
pub mod whatif;

pub use calendar::{Calendar, Pause, Span, SpanUnit, TimeBasis, WorkPeriod, WorkingTimeline};
pub use catalogue::{
    Alternative, Catalogue, PlaceScope, Rank, RouteFacts, Router, Rule, RuleAssignment,
    SuggestedAssignment, Suggestion, UnitRef,
};
pub use csvio::{ImportProblem, ImportReport};
pub use defaults::{default_catalogue, DefaultInputs, LeadOptions};
pub use lint::{lint, LintReport};
pub use policy::{
    clock_state, ClockInput, ClockKind, ClockReport, ClockState, DeadlineOverride, DeadlinePolicy,
    DueSoon, Extension, ReviewKind, ReviewSpans, WorkingDeadlines,
};
pub use scheduler::{due_reminders, ClockKey, Emitted, OpenClock, Reminder, Scheduler, Thresholds};
pub use whatif::{whatif, WhatIfReport};
