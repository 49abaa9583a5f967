//! Statistics over the projections: dispatch accuracy (派单准确率) and the counts behind the
//! demo city's calibration statistics (`jiesu stats --json`, computed in `jiesu-demo`).

use crate::Result;
use serde::{Deserialize, Serialize};

/// Dispatch accuracy of one group (a dispatcher, a rule, a category, a unit kind or a unit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccuracyGroup {
    pub key: String,
    pub dispatches: i64,
    pub returned: i64,
    /// `(dispatches - returned) / dispatches` (0 without dispatches).
    pub accuracy: f64,
}

/// Dispatch accuracy: the share of lead dispatches not returned-and-approved (退单), overall and
/// by dispatcher, duty-catalogue rule (or `manual`), level-1 category, unit kind and unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DispatchAccuracy {
    pub overall: f64,
    pub dispatches: i64,
    pub returned: i64,
    pub by_dispatcher: Vec<AccuracyGroup>,
    pub by_rule: Vec<AccuracyGroup>,
    pub by_category: Vec<AccuracyGroup>,
    pub by_unit_kind: Vec<AccuracyGroup>,
    pub by_unit: Vec<AccuracyGroup>,
}

/// Callback answers of the tickets of one category whose final callback reached the citizen and
/// says the unit contacted them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryCallbacks {
    pub category_code: String,
    pub valid: i64,
    pub resolved: i64,
    pub satisfied: i64,
}

/// The counts behind the calibration statistics. `(key, count)` lists are ordered by key; a
/// missing key (e.g. a unit kind of an unknown unit) is the empty string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DemoCounts {
    pub tickets: i64,
    pub by_channel: Vec<(String, i64)>,
    pub by_type: Vec<(String, i64)>,
    pub by_status: Vec<(String, i64)>,
    /// By category code (all levels as stored).
    pub by_category: Vec<(String, i64)>,
    /// Tickets per Beijing-time month (`YYYY-MM`).
    pub by_month: Vec<(String, i64)>,
    pub answered_directly: i64,
    pub special_handled: i64,
    /// Dispatched at least once.
    pub dispatched: i64,
    pub enterprise: i64,
    /// Reopened (重办) at least once.
    pub reopened: i64,
    /// First dispatches (the lead assignment with the lowest index) by the kind of their unit.
    pub first_dispatch_by_unit_kind: Vec<(String, i64)>,
    /// Dispatched tickets by the name of their district (its code when unknown), ordered by code.
    pub dispatched_by_district: Vec<(String, i64)>,
    pub lead_dispatches: i64,
    pub lead_returned: i64,
    /// Tickets whose final callback reached the citizen.
    pub callbacks_reached: i64,
    /// … and says the unit contacted them (the valid callbacks).
    pub callbacks_valid: i64,
    pub resolved: i64,
    pub partly_resolved: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub callbacks_by_category: Vec<CategoryCallbacks>,
    pub signed: i64,
    pub signed_on_time: i64,
    pub responded: i64,
    pub responded_on_time: i64,
    /// Tickets with an assisting unit (协办).
    pub assisted: i64,
}

/// Statistics read over the projections.
pub trait StatsStore: Send + Sync {
    fn dispatch_accuracy(&self) -> Result<DispatchAccuracy>;
    /// The counts behind `jiesu stats --json`.
    fn demo_counts(&self) -> Result<DemoCounts>;
}
