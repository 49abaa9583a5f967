//! Deadline arithmetic (限时办理). Pure: the start time is passed in.
//!
//! This module computes the three clocks of an assignment from its tier in calendar time. Working
//! calendars (holidays, 调休, working hours, pauses) extend it through `DeadlineRules`.

use crate::event::Deadlines;
use crate::ticket::DeadlineTier;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

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
