//! Property test: whatever the sequence of pass times (gaps = downtime, even going backwards) and
//! restarts, every (clock, threshold) is emitted exactly once when it has passed, never before.

use chrono::{DateTime, Duration, TimeZone, Utc};
use jiesu_routing::policy::ClockKind;
use jiesu_routing::scheduler::{
    due_reminders, ClockKey, Emitted, OpenClock, Reminder, Scheduler, Thresholds,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap()
}

fn clocks() -> impl Strategy<Value = Vec<OpenClock>> {
    proptest::collection::vec((0i64..5000, 0i64..5000, 0usize..3, 0u32..2), 1..25).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (s, len, k, epoch))| OpenClock {
                key: ClockKey {
                    ticket: (i / 2) as i64,
                    unit: format!("U{}", i % 2),
                    clock: ClockKind::ALL[k],
                    epoch,
                },
                start: t0() + Duration::minutes(s),
                due: t0() + Duration::minutes(s + len),
            })
            .fold(Vec::<OpenClock>::new(), |mut acc, c| {
                if !acc.iter().any(|x| x.key == c.key) {
                    acc.push(c);
                }
                acc
            })
    })
}

fn thresholds() -> impl Strategy<Value = Thresholds> {
    proptest::collection::vec(
        prop_oneof![
            Just(0.5),
            Just(0.8),
            Just(1.0),
            Just(0.25),
            Just(1.5),
            Just(2.0)
        ],
        1..5,
    )
    .prop_map(|v| Thresholds::new(&v))
}

/// Pass times: minutes from t0, any order; `true` = restart before the pass.
fn passes() -> impl Strategy<Value = Vec<(i64, bool)>> {
    proptest::collection::vec((0i64..16_000, any::<bool>()), 1..30)
}

type Seen = BTreeMap<(ClockKey, u8), DateTime<Utc>>;

/// `prev_max`: the latest pass time before this pass (nothing emitted now may have been due then).
fn record(
    seen: &mut Seen,
    r: &[Reminder],
    now: DateTime<Utc>,
    prev_max: DateTime<Utc>,
) -> Result<(), TestCaseError> {
    for x in r {
        prop_assert!(x.passed_at <= now, "emitted before it passed");
        prop_assert!(x.passed_at > prev_max, "missed at an earlier pass");
        let dup = seen.insert((x.key(), x.threshold_index), now);
        prop_assert!(
            dup.is_none(),
            "emitted twice: {:?} #{}",
            x.key(),
            x.threshold_index
        );
    }
    Ok(())
}

fn expected(cs: &[OpenClock], th: &Thresholds, max_now: DateTime<Utc>) -> BTreeSet<(ClockKey, u8)> {
    let mut out = BTreeSet::new();
    for c in cs {
        for k in 0..th.len() {
            let at = th.instant(k, c.start.timestamp(), c.due.timestamp());
            if at <= max_now.timestamp() {
                out.insert((c.key.clone(), k as u8));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn each_threshold_is_emitted_exactly_once_after_it_passes(
        cs in clocks(),
        th in thresholds(),
        ps in passes(),
    ) {
        // The "store": reminder events persisted with their clock and threshold.
        let mut stored: Vec<(ClockKey, u8)> = Vec::new();
        let mut seen_stateless = Seen::new();
        let mut seen_heap = Seen::new();
        let mut emitted = Emitted::new();
        let mut sched = Scheduler::load(th.clone(), cs.clone(), &Emitted::new());
        let mut max_now = t0() - Duration::days(1);
        for (m, restart) in ps {
            let now = t0() + Duration::minutes(m);
            let prev_max = max_now;
            max_now = max_now.max(now);
            // Stateless pass with the watermarks rebuilt from the store.
            let r = due_reminders(&cs, &emitted, &th, now);
            record(&mut seen_stateless, &r, now, prev_max)?;
            for x in &r {
                emitted.record(x);
            }
            // Heap scheduler; a restart rebuilds it from the stored events.
            if restart {
                let from_store = Emitted::from_events(stored.iter().map(|(k, i)| (k, *i)));
                sched = Scheduler::load(th.clone(), cs.clone(), &from_store);
            }
            let r2 = sched.pass(now);
            record(&mut seen_heap, &r2, now, prev_max)?;
            stored.extend(r2.iter().map(|x| (x.key(), x.threshold_index)));
            // Both emit the same reminders at the same pass.
            let a: BTreeSet<_> = r.iter().map(|x| (x.key(), x.threshold_index)).collect();
            let b: BTreeSet<_> = r2.iter().map(|x| (x.key(), x.threshold_index)).collect();
            prop_assert_eq!(a, b);
        }
        let want = expected(&cs, &th, max_now);
        let got: BTreeSet<_> = seen_stateless.keys().cloned().collect();
        prop_assert_eq!(&got, &want);
        let got: BTreeSet<_> = seen_heap.keys().cloned().collect();
        prop_assert_eq!(&got, &want);
    }
}

#[test]
fn overdue_flag_is_set_from_100_percent() {
    let th = Thresholds::new(&[0.5, 1.0, 2.0]);
    let c = OpenClock {
        key: ClockKey {
            ticket: 1,
            unit: "U".into(),
            clock: ClockKind::Sign,
            epoch: 0,
        },
        start: t0(),
        due: t0() + Duration::hours(1),
    };
    let r = due_reminders(&[c], &Emitted::new(), &th, t0() + Duration::hours(5));
    let flags: Vec<(f64, bool)> = r.iter().map(|x| (x.threshold, x.overdue)).collect();
    assert_eq!(flags, vec![(0.5, false), (1.0, true), (2.0, true)]);
    assert_eq!(r[2].passed_at, t0() + Duration::hours(2));
}

// ---- working-time clocks ------------------------------------------------------------------------

fn bj(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap() - Duration::hours(8)
}

fn passed_in_working_time(
    c: &OpenClock,
    cal: &jiesu_routing::Calendar,
    now: DateTime<Utc>,
) -> Vec<u8> {
    let (m, n) = c.in_working_time(cal, now);
    due_reminders(&[m], &Emitted::new(), &Thresholds::standard(), n)
        .into_iter()
        .map(|r| r.threshold_index)
        .collect()
}

#[test]
fn a_working_time_clock_reminds_at_half_its_working_time_not_on_a_weekend() {
    let cal = jiesu_routing::Calendar::china_2025_2026();
    let start = bj(2026, 3, 2, 9, 0); // Monday
    let due = cal
        .add(start, jiesu_routing::Span::working_days(7), &[])
        .unwrap();
    let c = OpenClock {
        key: ClockKey {
            ticket: 1,
            unit: "U".into(),
            clock: ClockKind::Finish,
            epoch: 0,
        },
        start,
        due,
    };
    // Wall-time half-way falls on the weekend; in working time it is Thursday.
    let wall_mid = start + (due - start) / 2;
    assert!(matches!(
        (wall_mid + Duration::hours(8))
            .format("%a")
            .to_string()
            .as_str(),
        "Sat" | "Sun" | "Fri"
    ));
    assert_eq!(
        passed_in_working_time(&c, &cal, bj(2026, 3, 4, 18, 0)),
        Vec::<u8>::new()
    );
    assert_eq!(
        passed_in_working_time(&c, &cal, bj(2026, 3, 6, 9, 0)),
        vec![0]
    );
    // Nothing more over the weekend (no working time passes)...
    assert_eq!(
        passed_in_working_time(&c, &cal, bj(2026, 3, 8, 23, 0)),
        vec![0]
    );
    // ...and the overdue notice comes exactly at the deadline, not a second before.
    assert_eq!(
        passed_in_working_time(&c, &cal, due - Duration::seconds(1)).len(),
        2
    );
    assert_eq!(passed_in_working_time(&c, &cal, due).len(), 3);
    // Every threshold matches the share of working time actually worked.
    let total = cal.countable_seconds(start, due, jiesu_routing::TimeBasis::Working, &[]);
    for h in (0..24 * 12).step_by(5) {
        let now = start + Duration::hours(h);
        if now >= due {
            break;
        }
        let worked = cal.countable_seconds(start, now, jiesu_routing::TimeBasis::Working, &[]);
        let expect = [500i64, 800, 1000]
            .iter()
            .filter(|p| worked >= (total * **p + 999) / 1000)
            .count();
        assert_eq!(
            passed_in_working_time(&c, &cal, now).len(),
            expect,
            "at +{h} h"
        );
    }
}

proptest! {
    #[test]
    fn the_working_timeline_counts_like_the_calendar(a in 0i64..60 * 24 * 90, len in 0i64..60 * 24 * 40) {
        let cal = jiesu_routing::Calendar::china_2025_2026();
        let origin = bj(2025, 12, 20, 0, 0);
        let (x, y) = (origin + Duration::minutes(a), origin + Duration::minutes(a + len));
        let tl = jiesu_routing::WorkingTimeline::new(
            &cal,
            cal.local_date(origin),
            cal.local_date(origin + Duration::days(140)),
        );
        prop_assert_eq!(
            tl.at(y) - tl.at(x),
            cal.countable_seconds(x, y, jiesu_routing::TimeBasis::Working, &[])
        );
    }
}
