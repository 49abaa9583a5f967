//! Properties: scores do not depend on the order of the fact rows; a reopened ticket is counted by
//! the rule of its policy; the fact file gives back the table it was written from; every figure's
//! drill-down lists exactly as many assignments as the figure says.

mod common;
use common::*;
use jiesu_score::policy::{AssistRule, Policy, ReopenRule, ReturnedRule};
use jiesu_score::{drill, score_levels, FactTable, Level, Measure, Month, Scope, ScoreOptions};
use jiesu_store::AssignmentFact;
use proptest::prelude::*;

const UNITS: [&str; 8] = ["S1", "S2", "S3", "D1X", "CD1", "CD2", "SE1", "EC1"];
const CATS: [&str; 5] = ["010101", "030101", "030201", "060101", "060102"];
const TIERS: [&str; 4] = ["2h", "24h", "7d", "15d"];
const EXEMPT: [Option<&str>; 7] = [
    None,
    None,
    None,
    Some("unreasonable"),
    Some("unmanaged_estate"),
    Some("duplicate_merged"),
    Some("emergency_transfer"),
];

#[derive(Debug, Clone)]
struct Ticket {
    cat: usize,
    tier: usize,
    street: usize,
    day: u32,
    callback: u8,
    exempt: usize,
    assignments: Vec<(usize, bool, u8, u32, bool)>, // unit, lead, response (0 on time, 1 late, 2 none), round, returned
}

fn ticket() -> impl Strategy<Value = Ticket> {
    (
        0..CATS.len(),
        0..TIERS.len(),
        0..3usize,
        0..45u32,
        0..12u8,
        0..EXEMPT.len(),
        prop::collection::vec(
            (
                0..UNITS.len(),
                prop::bool::weighted(0.8),
                0..3u8,
                0..3u32,
                prop::bool::weighted(0.1),
            ),
            1..4,
        ),
    )
        .prop_map(
            |(cat, tier, street, day, callback, exempt, assignments)| Ticket {
                cat,
                tier,
                street,
                day,
                callback,
                exempt,
                assignments,
            },
        )
}

fn rows_of(tickets: &[Ticket]) -> Vec<AssignmentFact> {
    let mut rows = vec![];
    for (id, t) in tickets.iter().enumerate() {
        // days 0..45 from 2026-10-20: October and November
        let day = chrono::NaiveDate::from_ymd_opt(2026, 10, 20).unwrap()
            + chrono::Duration::days(t.day as i64);
        let at = format!("{}T03:00:00.000Z", day);
        let (district, street) = [("D1", "S1"), ("D1", "S2"), ("D2", "S3")][t.street];
        for &(u, lead, resp, round, returned) in &t.assignments {
            let mut f = fact(id as i64 + 1, UNITS[u])
                .cat(CATS[t.cat])
                .tier(TIERS[t.tier])
                .at(&at)
                .place(district, street)
                .round(round);
            f.respond_deadline = format!("{}T09:00:00.000Z", day);
            f.responded_at = match resp {
                0 => Some(format!("{}T08:59:59.999Z", day)),
                1 => Some(format!("{}T09:00:00.001Z", day)),
                _ => None,
            };
            if !lead {
                f = f.assist();
            }
            if returned {
                f = f.returned();
            }
            f = match t.callback {
                0 => f.no_callback(),
                1 => f.not_contacted(),
                c => f
                    .res(["resolved", "partly", "unresolved"][c as usize % 3])
                    .sat(["satisfied", "basic", "unsatisfied"][(c as usize / 3) % 3]),
            };
            if let Some(r) = EXEMPT[t.exempt] {
                f = f.exempt(r);
            }
            rows.push(f);
        }
    }
    rows
}

fn weighted_policy() -> Policy {
    let mut p = Policy {
        min_sample: 2,
        ..Policy::default()
    };
    p.category_multipliers.insert("01".into(), 2.0);
    p.category_multipliers.insert("0302".into(), 1.25);
    p.sharing.assist = AssistRule::Count;
    p.sharing.assist_weight = 0.3;
    p
}

fn all_levels(rows: &[AssignmentFact], p: &Policy) -> String {
    let t = FactTable::from_facts(rows).unwrap();
    let cards = score_levels(
        &t,
        Month::parse("2026-11").unwrap(),
        p,
        &org(),
        &Level::ALL,
        &ScoreOptions { base: Some(&t) },
    )
    .unwrap();
    serde_json::to_string(&cards).unwrap()
}

/// A permutation of 0..n from a seed.
fn shuffled<T: Clone>(v: &[T], seed: u64) -> Vec<T> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut out = v.to_vec();
    out.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn scores_do_not_depend_on_the_order_of_the_rows(tickets in prop::collection::vec(ticket(), 1..60), seed in any::<u64>()) {
        let rows = rows_of(&tickets);
        let other = shuffled(&rows, seed);
        for p in [Policy { min_sample: 2, ..Policy::default() }, weighted_policy()] {
            prop_assert_eq!(all_levels(&rows, &p), all_levels(&other, &p));
        }
    }

    #[test]
    fn a_reopened_ticket_is_counted_by_the_rule_of_its_policy(tickets in prop::collection::vec(ticket(), 1..60)) {
        let rows = rows_of(&tickets);
        let t = FactTable::from_facts(&rows).unwrap();
        let nov = Month::parse("2026-11").unwrap();
        for rule in [ReopenRule::FinalRound, ReopenRule::FirstRoundUnresolved, ReopenRule::Exclude] {
            for returned in [ReturnedRule::Count, ReturnedRule::Exclude] {
                let p = Policy { reopened: rule, returned, ..Policy::default() };
                let card = jiesu_score::score(&t, nov, &p, &org(), Level::Street).unwrap();
                for s in ["S1", "S2", "S3"] {
                    // the rule applied row by row, by hand
                    let mine: Vec<&AssignmentFact> = rows.iter().filter(|f| {
                        f.unit_code == s && f.role == "lead" && f.first_dispatched_at.as_deref().unwrap().starts_with("2026-11")
                    }).collect();
                    let excluded = mine.iter().filter(|f| {
                        (returned == ReturnedRule::Exclude && f.state == "returned") || (rule == ReopenRule::Exclude && f.round > 0)
                    }).count() as u32;
                    let kept: Vec<&AssignmentFact> = mine.iter().copied().filter(|f| {
                        !((returned == ReturnedRule::Exclude && f.state == "returned") || (rule == ReopenRule::Exclude && f.round > 0))
                            && f.exempt_reason.is_none()
                    }).collect();
                    let (mut resolved, mut unresolved) = (0u32, 0u32);
                    for f in kept.iter().filter(|f| f.contacted == Some(true)) {
                        let first_failed = rule == ReopenRule::FirstRoundUnresolved && f.round > 0;
                        match f.resolution.as_deref() {
                            _ if first_failed => unresolved += 1,
                            Some("resolved") => resolved += 1,
                            Some("unresolved") => unresolved += 1,
                            _ => {}
                        }
                    }
                    let u = card.unit(s).unwrap();
                    prop_assert_eq!(u.counts.counted, kept.len() as u32);
                    prop_assert_eq!(u.counts.excluded, excluded);
                    prop_assert_eq!(u.counts.resolved, resolved);
                    prop_assert_eq!(u.counts.unresolved, unresolved);
                }
            }
        }
    }

    #[test]
    fn the_fact_file_gives_back_its_table(tickets in prop::collection::vec(ticket(), 0..40)) {
        let rows = rows_of(&tickets);
        let t = FactTable::from_facts(&rows).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.jfacts");
        t.write_file(&path, "fp-1").unwrap();
        let (back, header) = FactTable::read_file(&path, jiesu_score::Columns::full()).unwrap();
        prop_assert_eq!(&header.fingerprint, "fp-1");
        prop_assert_eq!(&back, &t);
        for (i, r) in rows.iter().enumerate() {
            prop_assert_eq!(&back.fact(i), r);
        }
    }

    #[test]
    fn every_figure_drills_down_to_exactly_that_many_assignments(tickets in prop::collection::vec(ticket(), 1..60)) {
        let rows = rows_of(&tickets);
        let t = FactTable::from_facts(&rows).unwrap();
        let nov = Month::parse("2026-11").unwrap();
        let mut p_exclude = Policy { min_sample: 2, reopened: ReopenRule::FirstRoundUnresolved, ..Policy::default() };
        p_exclude.returned = ReturnedRule::Exclude;
        for p in [Policy::default(), weighted_policy(), p_exclude] {
            let cards = score_levels(&t, nov, &p, &org(), &Level::ALL, &ScoreOptions::default()).unwrap();
            for card in &cards {
                // the level's totals: every member's rows
                for m in Measure::ALL {
                    let d = drill(&t, nov, &p, &org(), card.level, None, Scope::Unit, m).unwrap();
                    prop_assert_eq!(d.rows.len() as u32, m.of(&card.totals.counts), "{} totals {}", card.level, m);
                }
                for u in &card.units {
                    for m in Measure::ALL {
                        let d = drill(&t, nov, &p, &org(), card.level, Some(&u.unit_code), Scope::Unit, m).unwrap();
                        prop_assert_eq!(d.figure, m.of(&u.counts), "{} {} {}", card.level, u.unit_code, m);
                        prop_assert_eq!(d.rows.len() as u32, d.figure, "{} {} {}", card.level, u.unit_code, m);
                        // every row is a November assignment of the unit (a district: of a unit within it)
                        for r in &d.rows {
                            prop_assert!(r.fact.first_dispatched_at.as_deref().unwrap().starts_with("2026-11"));
                            if card.level != Level::District {
                                prop_assert_eq!(&r.fact.unit_code, &u.unit_code);
                            }
                        }
                    }
                    if let Some(ind) = &u.industry {
                        for m in &Measure::ALL[..9] {
                            let d = drill(&t, nov, &p, &org(), Level::Department, Some(&u.unit_code), Scope::Industry, *m).unwrap();
                            prop_assert_eq!(d.rows.len() as u32, m.of(&ind.counts), "industry {} {}", u.unit_code, m);
                            prop_assert_eq!(&d.industry_categories, &ind.categories);
                        }
                    }
                }
            }
        }
    }
}
