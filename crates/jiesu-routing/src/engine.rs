//! 时限引擎 — the one deadline engine: a city's deadline policy on its working-time calendar in
//! its zone. The server (`AppState`) and the demo generator both build it here, so a generated
//! ticket's clocks are exactly the ones the server would have given it.

use crate::calendar::Calendar;
use crate::policy::DeadlinePolicy;
use chrono::{DateTime, Utc};
use jiesu_domain::event::Deadlines;
use jiesu_domain::ticket::DeadlineTier;
use jiesu_domain::CityZone;

/// A deadline policy and the calendar it counts working time on.
#[derive(Debug, Clone)]
pub struct DeadlineEngine {
    pub policy: DeadlinePolicy,
    pub calendar: Calendar,
}

impl DeadlineEngine {
    /// What a city runs: the shipped Beijing policy ([`DeadlinePolicy::beijing_default`]) on the
    /// national 2025–2026 calendar ([`Calendar::china_2025_2026`]) in the city's zone, with the
    /// zone's offset at `at` (the server's start, or the end of a generated history).
    pub fn city_default(zone: CityZone, at: DateTime<Utc>) -> DeadlineEngine {
        DeadlineEngine {
            policy: DeadlinePolicy::beijing_default(),
            calendar: Calendar::china_2025_2026().in_zone(zone, at),
        }
    }

    /// The three clocks of an assignment of `unit` on a ticket of `category`, dispatched (or
    /// re-dispatched, reopened) at `start` — what the server's dispatch and reopen compute.
    pub fn deadlines(
        &self,
        tier: DeadlineTier,
        unit: &str,
        category: &str,
        start: DateTime<Utc>,
    ) -> Deadlines {
        self.policy
            .deadlines(tier, unit, category, start, &self.calendar, &[])
    }
}

/// The server's deadline source: dispatch and reopen take their clocks from the engine
/// (`jiesu_domain::prepare`).
impl jiesu_domain::DeadlineSource for DeadlineEngine {
    fn deadlines(
        &self,
        tier: DeadlineTier,
        unit: &str,
        category: &str,
        start: DateTime<Utc>,
    ) -> Deadlines {
        DeadlineEngine::deadlines(self, tier, unit, category, start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn working_day_tiers_skip_the_weekend_in_the_city_zone() {
        let zone = CityZone::default();
        // Friday 2026-03-13 16:00 Beijing time
        let start = Utc.with_ymd_and_hms(2026, 3, 13, 8, 0, 0).unwrap();
        let e = DeadlineEngine::city_default(zone, start);
        let d = e.deadlines(DeadlineTier::D7, "S001", "0101", start);
        // seven working days: Mon 16 … Fri 20, Mon 23, Tue 24 → finish on Tuesday 24th
        assert_eq!(zone.date(d.finish).to_string(), "2026-03-24");
        assert!(d.finish - start > chrono::Duration::days(7));
        // the 2-hour tier runs in calendar time
        let h2 = e.deadlines(DeadlineTier::H2, "S001", "0101", start);
        assert_eq!(h2.finish - start, chrono::Duration::hours(2));
    }

    #[test]
    fn overrides_apply_by_unit_and_category() {
        let start = Utc.with_ymd_and_hms(2026, 3, 13, 8, 0, 0).unwrap();
        let e = DeadlineEngine::city_default(CityZone::default(), start);
        let flood = e.deadlines(DeadlineTier::D7, "S001", "270101", start);
        assert_eq!(flood.finish - start, chrono::Duration::hours(1));
        let water = e.deadlines(DeadlineTier::D7, "SE003", "0101", start);
        assert_eq!(water.finish - start, chrono::Duration::hours(12));
    }
}
