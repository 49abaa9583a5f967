//! Property tests: working-time arithmetic against a slow minute-by-minute reference, over random
//! calendars (working weekdays, holidays, make-up days, working hours), pauses and extensions.

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc, Weekday,
};
use jiesu_domain::ticket::DeadlineTier;
use jiesu_routing::calendar::{Calendar, Pause, Span, SpanUnit, TimeBasis, WorkPeriod};
use jiesu_routing::policy::{ClockInput, ClockSpans, DeadlinePolicy, Extension, TierSpans};
use proptest::prelude::*;
use std::collections::BTreeSet;

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn base() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
}

/// Unix minute of local midnight of `base()` (offset applied later).
fn base_minute() -> i64 {
    Utc.from_utc_datetime(&base().and_hms_opt(0, 0, 0).unwrap())
        .timestamp()
        / 60
}

fn minute(m: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(m * 60, 0).unwrap()
}

prop_compose! {
    fn calendar()(
        mask in 1u8..128,
        holidays in proptest::collection::btree_set(0i64..60, 0..12),
        makeup in proptest::collection::btree_set(0i64..60, 0..5),
        points in proptest::collection::btree_set(0u32..96, 2..7),
        offset in prop_oneof![Just(480i32), Just(0i32), Just(-300i32)],
    ) -> Calendar {
        let pts: Vec<u32> = points.into_iter().collect();
        let hours = pts
            .chunks_exact(2)
            .map(|p| WorkPeriod {
                start: NaiveTime::from_hms_opt(p[0] / 4, (p[0] % 4) * 15, 0).unwrap(),
                end: NaiveTime::from_hms_opt(p[1] / 4, (p[1] % 4) * 15, 0).unwrap(),
            })
            .collect();
        let d = |i: i64| base() + Duration::days(i);
        let holidays: BTreeSet<NaiveDate> = holidays.iter().map(|i| d(*i)).collect();
        let makeup: BTreeSet<NaiveDate> =
            makeup.iter().map(|i| d(*i)).filter(|x| !holidays.contains(x)).collect();
        Calendar {
            name: "random".into(),
            utc_offset_minutes: offset,
            working_weekdays: (0..7).filter(|i| mask & (1 << i) != 0).map(|i| WEEK[i]).collect(),
            holidays,
            makeup_workdays: makeup,
            hours,
        }
    }
}

fn pauses(start: i64) -> impl Strategy<Value = Vec<(i64, Option<i64>)>> {
    proptest::collection::vec((-1440i64..20 * 1440, 0i64..3 * 1440, 0u8..10), 0..4).prop_map(
        move |v| {
            v.into_iter()
                .map(|(a, len, open)| (start + a, (open != 0).then_some(start + a + len)))
                .collect()
        },
    )
}

/// Whether UTC minute `m` counts (`periods` in local minutes of the day).
fn countable(
    cal: &Calendar,
    periods: &[(i64, i64)],
    basis: TimeBasis,
    pauses: &[(i64, Option<i64>)],
    m: i64,
) -> bool {
    if pauses
        .iter()
        .any(|&(a, b)| a <= m && b.is_none_or(|b| m < b))
    {
        return false;
    }
    if basis == TimeBasis::Calendar {
        return true;
    }
    let local = m + cal.utc_offset_minutes as i64;
    let day = local.div_euclid(1440);
    let mod_ = local.rem_euclid(1440);
    let date = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + Duration::days(day);
    let working_day = cal.makeup_workdays.contains(&date)
        || (!cal.holidays.contains(&date) && cal.working_weekdays.contains(&date.weekday()));
    working_day && periods.iter().any(|&(a, b)| a <= mod_ && mod_ < b)
}

const LIMIT: i64 = 200 * 1440;

/// The earliest minute at which `amount` countable minutes have elapsed since `start`, stepping
/// minute by minute.
fn reference(
    cal: &Calendar,
    basis: TimeBasis,
    pauses: &[(i64, Option<i64>)],
    start: i64,
    amount: i64,
) -> Option<i64> {
    if amount == 0 {
        return Some(start);
    }
    let hm = |t: NaiveTime| t.hour() as i64 * 60 + t.minute() as i64;
    let periods: Vec<(i64, i64)> = cal.hours.iter().map(|p| (hm(p.start), hm(p.end))).collect();
    // Nothing counts once a pause that never ends has begun.
    let stop = pauses
        .iter()
        .filter(|p| p.1.is_none())
        .map(|p| p.0)
        .min()
        .unwrap_or(i64::MAX)
        .min(start + LIMIT);
    let mut count = 0;
    for m in start..stop.max(start) {
        if countable(cal, &periods, basis, pauses, m) {
            count += 1;
            if count == amount {
                return Some(m + 1);
            }
        }
    }
    None
}

fn to_pauses(p: &[(i64, Option<i64>)]) -> Vec<Pause> {
    p.iter().map(|&(a, b)| (minute(a), b.map(minute))).collect()
}

fn amount_for(cal: &Calendar, basis: TimeBasis, raw: i64) -> i64 {
    match basis {
        TimeBasis::Calendar => raw,
        // Keep the reference's stepping bounded on sparse calendars.
        TimeBasis::Working => raw.min(cal.working_seconds_per_day() / 60 * 6),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn working_time_arithmetic_matches_the_reference(
        cal in calendar(),
        start_off in 0i64..30 * 1440,
        raw in 0i64..4000,
        working in any::<bool>(),
        p in pauses(0),
    ) {
        let basis = if working { TimeBasis::Working } else { TimeBasis::Calendar };
        let start = base_minute() + start_off;
        let p: Vec<(i64, Option<i64>)> = p.into_iter().map(|(a, b)| (a + start, b.map(|b| b + start))).collect();
        let amount = amount_for(&cal, basis, raw);
        let fast = cal.add(minute(start), Span::new(amount, SpanUnit::Minutes, basis), &to_pauses(&p));
        let slow = reference(&cal, basis, &p, start, amount);
        match (fast, slow) {
            (Some(f), Some(s)) => {
                prop_assert_eq!(f, minute(s));
                prop_assert_eq!(
                    cal.countable_seconds(minute(start), f, basis, &to_pauses(&p)),
                    amount * 60
                );
            }
            (None, None) => {}
            (Some(f), None) => {
                let open = p.iter().any(|x| x.1.is_none());
                prop_assert!(!open && f >= minute(start + LIMIT), "fast {f} but reference found none");
            }
            (None, Some(s)) => prop_assert!(false, "fast found none, reference {}", minute(s)),
        }
    }

    #[test]
    fn extensions_continue_the_count(
        cal in calendar(),
        start_off in 0i64..30 * 1440,
        raw in 0i64..3000,
        ext in 0i64..1500,
        working in any::<bool>(),
        p in pauses(0),
    ) {
        let basis = if working { TimeBasis::Working } else { TimeBasis::Calendar };
        let start = base_minute() + start_off;
        // Closed pauses only (an open pause is closed at `now` by the policy).
        let p: Vec<(i64, Option<i64>)> = p
            .into_iter()
            .map(|(a, b)| (a + start, Some(b.unwrap_or(a + 60) + start)))
            .collect();
        let amount = amount_for(&cal, basis, raw);
        let ext = amount_for(&cal, basis, ext);
        let span = |n| Span::new(n, SpanUnit::Minutes, basis);
        let spans = ClockSpans { sign: span(0), respond: span(0), finish: span(amount) };
        let policy = DeadlinePolicy {
            version: "t".into(),
            effective_from: base(),
            tiers: TierSpans { h2: spans, h24: spans, d7: spans, d15: spans },
            overrides: vec![],
            review: Default::default(),
        };
        let pz = to_pauses(&p);
        let exts = [Extension::By(span(ext)), Extension::Until(minute(start))];
        let r = policy.clocks(
            &ClockInput {
                tier: DeadlineTier::D7,
                unit: "U",
                category: "01",
                start: minute(start),
                pauses: &pz,
                extensions: &exts,
                now: minute(start),
            },
            &cal,
        );
        if let Some(s) = reference(&cal, basis, &p, start, amount + ext) {
            prop_assert_eq!(r.deadlines.finish, minute(s));
        }
        if let Some(s) = reference(&cal, basis, &p, start, amount) {
            prop_assert_eq!(r.finish_before_extensions, minute(s));
        }
    }

    #[test]
    fn a_deadline_is_never_before_its_start_and_clocks_are_ordered(
        cal in calendar(),
        start_s in 0i64..40 * 86_400,
        nanos in 0u32..1_000_000_000,
        tier in 0usize..4,
        p in pauses(0),
    ) {
        let start = Utc.timestamp_opt(base_minute() * 60 + start_s, nanos).unwrap();
        let p: Vec<Pause> = p
            .into_iter()
            .map(|(a, b)| (start + Duration::minutes(a), b.map(|b| start + Duration::minutes(b))))
            .collect();
        let tier = DeadlineTier::ALL[tier];
        for policy in [DeadlinePolicy::beijing_default(), DeadlinePolicy::calendar_time_default()] {
            let d = policy.deadlines(tier, "SE003", "270101", start, &cal, &p);
            prop_assert!(start <= d.sign && d.sign <= d.respond && d.respond <= d.finish);
            let r = policy.clocks(
                &ClockInput {
                    tier,
                    unit: "X",
                    category: "0602",
                    start,
                    pauses: &p,
                    extensions: &[Extension::Until(start - Duration::days(3))],
                    now: start + Duration::days(2),
                },
                &cal,
            );
            prop_assert!(start <= r.deadlines.sign && r.deadlines.sign <= r.deadlines.respond);
            prop_assert!(r.deadlines.respond <= r.deadlines.finish);
        }
    }

    #[test]
    fn more_time_never_gives_an_earlier_deadline(
        cal in calendar(),
        start_off in 0i64..30 * 1440,
        a in 0i64..2000,
        b in 0i64..2000,
    ) {
        let start = minute(base_minute() + start_off);
        let (lo, hi) = (a.min(b), a.max(b));
        let x = cal.add(start, Span::working_minutes(lo), &[]);
        let y = cal.add(start, Span::working_minutes(hi), &[]);
        if let (Some(x), Some(y)) = (x, y) {
            prop_assert!(x <= y);
            prop_assert!(start <= x);
        }
    }
}
