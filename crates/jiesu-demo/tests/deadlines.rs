//! The demo city's clocks are the server's: every deadline of a generated ticket (first dispatch,
//! re-dispatch after a return, reopen) is what the routing policy on the city's working-time
//! calendar gives for its tier, unit, category and start — across weekends and holidays too.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc, Weekday};
use jiesu_demo::{GenerateOptions, Regenerator};
use jiesu_domain::ticket::DeadlineTier;
use jiesu_domain::{CityZone, Deadlines, EventKind};
use jiesu_routing::{Calendar, DeadlinePolicy};

/// Two months ending 2026-11-20: the Mid-Autumn Festival (Sep 25–27) and National Day
/// (Oct 1–7) fall inside.
fn opts() -> GenerateOptions {
    GenerateOptions {
        months: 2,
        scale: 0.001,
        seed: 11,
        end: Utc.with_ymd_and_hms(2026, 11, 20, 6, 30, 0).unwrap(),
    }
}

#[test]
fn generated_deadlines_are_what_the_server_policy_gives_for_tier_and_start() {
    let o = opts();
    let zone = CityZone::default();
    // built as the server builds them (`AppState::load_with_clock`)
    let policy = DeadlinePolicy::beijing_default();
    let calendar = Calendar::china_2025_2026().in_zone(zone, o.end);
    let regen = Regenerator::new(&o).unwrap();
    let n = regen.tickets() as i64;
    assert!(n > 1000, "{n} tickets");

    let mut checked = 0;
    let mut reopened = 0;
    let mut over_a_weekend = 0;
    let mut over_a_holiday = 0;
    let mut urgent = 0;
    for id in 1..=n {
        let (st, events) = regen.ticket(id).unwrap().expect("ticket in the history");
        let category = &st.intake.category_code;
        for e in &events {
            let clocks: Vec<(&str, DeadlineTier, &Deadlines)> = match &e.kind {
                EventKind::Dispatched { assignments, .. } => assignments
                    .iter()
                    .map(|a| (a.unit.as_str(), a.tier, &a.deadlines))
                    .collect(),
                EventKind::Reopened { deadlines, .. } => {
                    reopened += 1;
                    deadlines
                        .iter()
                        .map(|(unit, d)| {
                            let tier = st
                                .assignments
                                .iter()
                                .find(|a| &a.unit == unit)
                                .expect("reopened unit has an assignment")
                                .tier;
                            (unit.as_str(), tier, d)
                        })
                        .collect()
                }
                _ => continue,
            };
            for (unit, tier, got) in clocks {
                let want = policy.deadlines(tier, unit, category, e.at, &calendar, &[]);
                assert_eq!(
                    *got, want,
                    "ticket {id}: {tier:?} deadlines of {unit} from {}",
                    e.at
                );
                checked += 1;
                match tier {
                    DeadlineTier::H2 => {
                        assert!(got.finish - e.at <= Duration::hours(2));
                        urgent += 1;
                    }
                    DeadlineTier::D7 | DeadlineTier::D15 => {
                        let nominal = Duration::days(if tier == DeadlineTier::D7 { 7 } else { 15 });
                        let start_day = zone.date(e.at);
                        if got.finish - e.at > nominal + Duration::days(2) {
                            over_a_holiday += 1;
                        }
                        if start_day.weekday() == Weekday::Fri && got.finish - e.at > nominal {
                            over_a_weekend += 1;
                        }
                    }
                    DeadlineTier::H24 => {}
                }
            }
        }
    }
    assert!(checked > 500, "{checked} assignments checked");
    assert!(reopened > 0, "no reopened ticket in the sample");
    assert!(urgent > 0, "no 2-hour ticket in the sample");
    assert!(
        over_a_weekend > 0,
        "no working-day clock started on a Friday"
    );
    assert!(
        over_a_holiday > 0,
        "no working-day clock ran over a holiday"
    );
}

#[test]
fn a_dispatch_before_national_day_finishes_after_the_holiday() {
    // the server's engine, as the generator uses it
    let start: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 9, 30, 2, 0, 0).unwrap(); // Wed 10:00
    let engine = jiesu_routing::DeadlineEngine::city_default(CityZone::default(), start);
    let d = engine.deadlines(DeadlineTier::D7, "S001", "0101", start);
    let zone = CityZone::default();
    // working days: Sep 30, then Oct 8 (holiday Oct 1–7), 9, 10 (调休 Saturday), 12, 13, 14
    assert!(zone.date(d.finish) >= chrono::NaiveDate::from_ymd_opt(2026, 10, 12).unwrap());
    assert!(d.finish - start > Duration::days(10));
    // contact within one working day: on the first working day after the holiday
    assert_eq!(zone.date(d.respond).to_string(), "2026-10-08");
}
