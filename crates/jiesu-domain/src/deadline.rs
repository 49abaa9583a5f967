//! 限时办理 — where deadlines come from. [`DeadlineSource`] is the one deadline interface the domain asks when it prepares a command
//! (dispatch, reopen): the server's source is the routing policy with its working-time calendars
//! (`jiesu_routing::DeadlineEngine`) — the one deadline engine; the domain has none of its own.

use crate::event::Deadlines;
use crate::ticket::DeadlineTier;
use chrono::{DateTime, Utc};

/// Where the three clocks (sign 签收, respond 响应, finish 办结) of a new assignment come from.
pub trait DeadlineSource {
    /// The clocks of an assignment of `unit` for a request of `category` under `tier`,
    /// started at `start`. Never before `start`; sign ≤ respond ≤ finish.
    fn deadlines(
        &self,
        tier: DeadlineTier,
        unit: &str,
        category: &str,
        start: DateTime<Utc>,
    ) -> Deadlines;
}
