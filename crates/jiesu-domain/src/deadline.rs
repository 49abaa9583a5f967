//! Deadline arithmetic (限时办理). Pure: the start time is passed in.
//!
//! [`DeadlineSource`] is the one deadline interface the domain asks when it prepares a command
//! (dispatch, reopen): the server's source is the routing policy with its working-time calendars
//! (`jiesu_routing::DeadlineEngine`). [`DeadlineRules`] is a thin calendar-time default for the
//! domain's own tests; production code does not use it.

use crate::event::Deadlines;
use crate::ticket::DeadlineTier;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

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

impl DeadlineSource for DeadlineRules {
    fn deadlines(
        &self,
        tier: DeadlineTier,
        _unit: &str,
        _category: &str,
        start: DateTime<Utc>,
    ) -> Deadlines {
        DeadlineRules::deadlines(self, tier, start)
    }
}

/// A calendar-time default (no working hours, no holidays) for the domain's tests.
///
/// Minutes allowed for sign (签收) and respond (响应) per tier; finish is the tier itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadlineRules {
    /// [2h, 24h, 7d, 15d] → minutes to sign.
    pub sign_minutes: [i64; 4],
    /// [2h, 24h, 7d, 15d] → minutes to contact the citizen.
    pub respond_minutes: [i64; 4],
}

impl Default for DeadlineRules {
    /// The shipped default: urgent tickets signed in 15 minutes and answered in 30; the others
    /// signed within 2 hours and the citizen contacted within 24 hours (4 for the 24-hour tier).
    fn default() -> Self {
        DeadlineRules {
            sign_minutes: [15, 60, 120, 120],
            respond_minutes: [30, 240, 24 * 60, 24 * 60],
        }
    }
}

fn idx(t: DeadlineTier) -> usize {
    match t {
        DeadlineTier::H2 => 0,
        DeadlineTier::H24 => 1,
        DeadlineTier::D7 => 2,
        DeadlineTier::D15 => 3,
    }
}

impl DeadlineRules {
    /// The three clocks for an assignment dispatched at `start`. Never before `start`.
    pub fn deadlines(&self, tier: DeadlineTier, start: DateTime<Utc>) -> Deadlines {
        let i = idx(tier);
        let finish = start + Duration::minutes(tier.minutes());
        let respond = (start + Duration::minutes(self.respond_minutes[i].max(0))).min(finish);
        let sign = (start + Duration::minutes(self.sign_minutes[i].max(0))).min(respond);
        Deadlines {
            sign,
            respond,
            finish,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn clocks_are_ordered_and_never_before_start() {
        let start = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
        for t in DeadlineTier::ALL {
            let d = DeadlineRules::default().deadlines(*t, start);
            assert!(start <= d.sign && d.sign <= d.respond && d.respond <= d.finish);
            assert_eq!(d.finish - start, Duration::minutes(t.minutes()));
        }
    }
}
