//! Hand-computed fixtures for every formula, each exemption kind, ranking with ties, intervals,
//! case-mix adjustment, the four levels, and each policy switch.

mod common;
use common::*;
use jiesu_score::policy::{AssistRule, MonthClock, Policy, ReopenRule, ReturnedRule};
use jiesu_score::{score, score_with, FactTable, Level, Month, ScoreError, ScoreOptions};
use jiesu_store::AssignmentFact;

fn nov() -> Month {
    Month::parse("2026-11").unwrap()
}

fn table(rows: &[AssignmentFact]) -> FactTable {
    FactTable::from_facts(rows).unwrap()
}

/// The S1 fixture of docs/SCORING.md § Worked example 1.
fn s1_rows() -> Vec<AssignmentFact> {
    vec![
        fact(1, "S1"),
        fact(2, "S1").res("partly").sat("basic"),
        fact(3, "S1").res("unresolved").sat("unsatisfied").late(),
        fact(4, "S1").res("resolved").sat("basic").unresponded(),
        fact(5, "S1")
            .not_contacted()
            .res("unresolved")
            .sat("unsatisfied"),
        fact(6, "S1").no_callback(),
        fact(7, "S1").exempt("unreasonable"),
        fact(8, "S1").exempt("unmanaged_estate"),
        fact(9, "S1").exempt("duplicate_merged"),
        fact(10, "S1").exempt("emergency_transfer"),
        fact(11, "S1").exempt("other_policy"),
        fact(12, "S1").assist(),
        fact(13, "S1").at("2026-10-31T15:59:59.999Z"), // 23:59:59.999 on 31 October in Beijing
        fact(14, "S1").at("2026-11-30T16:00:00.000Z"), // midnight of 1 December in Beijing
    ]
}

#[test]
fn every_formula_on_a_hand_computed_unit() {
    let card = score(
        &table(&s1_rows()),
        nov(),
        &Policy::default(),
        &org(),
        Level::Street,
    )
    .unwrap();
    let s1 = card.unit("S1").unwrap();
    let n = &s1.counts;
    assert_eq!(
        n.counted, 6,
        "tickets 1–6: exempted, assist and other months are not counted"
    );
    assert_eq!(
        n.responded, 4,
        "ticket 3 is 1 ms late, ticket 4 never responded"
    );
    assert_eq!(
        n.valid_callbacks, 4,
        "ticket 5 says not contacted, ticket 6 has no callback"
    );
    assert_eq!((n.resolved, n.partly, n.unresolved), (2, 1, 1));
    assert_eq!((n.satisfied, n.basic, n.unsatisfied), (1, 2, 1));
    assert_eq!(n.exempted, 5);
    assert_close!(s1.response_rate, 4.0 / 6.0);
    assert_close!(s1.resolution_rate, (2.0 + 0.5 * 1.0) / 4.0);
    assert_close!(s1.satisfaction_rate, (1.0 + 0.8 * 2.0) / 4.0);
    assert_close!(
        s1.composite,
        100.0 * (0.2 * 4.0 / 6.0 + 0.4 * 0.625 + 0.4 * 0.65)
    );
    // 6 counted < min_sample 10
    assert_eq!(s1.rank, None);
    assert_eq!(s1.rank_label, "not ranked");
    assert!(s1
        .not_ranked_reason
        .as_deref()
        .unwrap()
        .contains("6 counted < minimum 10"));
    // streets with nothing are listed too, not ranked
    assert_eq!(card.unit("S3").unwrap().counts.counted, 0);
    assert_eq!(card.units.len(), 3);
    // Wilson 95 % of the resolution rate 0.625 on 4 valid callbacks
    let iv = s1.intervals.resolution.unwrap();
    assert!(
        (iv.low - 0.2194).abs() < 1e-4 && (iv.high - 0.9081).abs() < 1e-4,
        "{iv:?}"
    );
}

#[test]
fn each_exemption_kind_is_excluded_and_listed_with_its_reason() {
    let card = score(
        &table(&s1_rows()),
        nov(),
        &Policy::default(),
        &org(),
        Level::Street,
    )
    .unwrap();
    let listed: Vec<(i64, &str, &str)> = card
        .exemptions
        .iter()
        .map(|e| (e.ticket_id, e.reason.as_str(), e.reason_zh.as_str()))
        .collect();
    assert_eq!(
        listed,
        vec![
            (7, "unreasonable", "经核实的不合理诉求"),
            (8, "unmanaged_estate", "失管弃管小区"),
            (9, "duplicate_merged", "重复诉求已合并"),
            (10, "emergency_transfer", "紧急转接"),
            (11, "other_policy", "其他政策豁免"),
        ]
    );
    assert!(card
        .exemptions
        .iter()
        .all(|e| e.scored_unit == "S1" && e.number.starts_with("20261110")));
    // A reason the policy does not honour is counted like any assignment.
    let p = Policy {
        exempt_reasons: vec![jiesu_domain::ticket::ExemptReason::Unreasonable],
        ..Policy::default()
    };
    let card = score(&table(&s1_rows()), nov(), &p, &org(), Level::Street).unwrap();
    let s1 = card.unit("S1").unwrap();
    assert_eq!(s1.counts.exempted, 1);
    assert_eq!(s1.counts.counted, 10);
    assert_eq!(card.exemptions.len(), 1);
}

/// Worked example 2 of docs/SCORING.md: S1 gets the hard cases, S2 the easy ones.
fn case_mix_rows() -> Vec<AssignmentFact> {
    let mut rows = vec![];
    let mut id = 100;
    let mut add =
        |unit: &str, cat: &str, tier: &str, resolved: bool, rows: &mut Vec<AssignmentFact>| {
            id += 1;
            let f = fact(id, unit).cat(cat).tier(tier);
            rows.push(if resolved { f } else { f.res("unresolved") });
        };
    // cell (03, 7d): S1 8 tickets, 4 resolved; S2 2 tickets, none resolved → 4/10 = 0.4
    for i in 0..8 {
        add("S1", "030101", "7d", i < 4, &mut rows);
    }
    for _ in 0..2 {
        add("S2", "030101", "7d", false, &mut rows);
    }
    // cell (06, 24h): S1 2 tickets, both resolved; S2 8 tickets, 7 resolved → 9/10 = 0.9
    for _ in 0..2 {
        add("S1", "060101", "24h", true, &mut rows);
    }
    for i in 0..8 {
        add("S2", "060101", "24h", i < 7, &mut rows);
    }
    rows
}

#[test]
fn case_mix_adjustment_matches_the_worked_example() {
    let card = score(
        &table(&case_mix_rows()),
        nov(),
        &Policy::default(),
        &org(),
        Level::Street,
    )
    .unwrap();
    let (s1, s2) = (card.unit("S1").unwrap(), card.unit("S2").unwrap());
    assert_close!(s1.resolution_rate, 0.6);
    assert_close!(s2.resolution_rate, 0.7);
    assert_close!(card.totals.rates.resolution, 0.65);
    assert_close!(s1.case_mix.resolution.expected, 0.5);
    assert_close!(s1.case_mix.resolution.ratio, 1.2);
    assert_close!(s1.case_mix.resolution.adjusted, 0.78);
    assert_close!(s2.case_mix.resolution.expected, 0.8);
    assert_close!(s2.case_mix.resolution.ratio, 0.875);
    assert_close!(s2.case_mix.resolution.adjusted, 0.56875);
    // satisfaction is 1 everywhere: expected 1, ratio 1
    assert_close!(s1.case_mix.satisfaction.ratio, 1.0);
    // raw: S2 ahead; both have 10 counted = min_sample
    assert_eq!((s2.rank, s1.rank), (Some(1), Some(2)));
    let iv = s1.intervals.resolution.unwrap();
    assert!(
        (iv.low - 0.3127).abs() < 1e-4 && (iv.high - 0.8318).abs() < 1e-4,
        "{iv:?}"
    );
}

#[test]
fn equal_composites_share_a_rank_and_the_next_rank_is_skipped() {
    let mut rows = vec![];
    for i in 0..4 {
        rows.push(fact(i, "S1"));
        rows.push(fact(10 + i, "S2").res(if i == 0 { "partly" } else { "resolved" }));
        rows.push(
            fact(20 + i, "S3")
                .res(if i == 0 { "partly" } else { "resolved" })
                .place("D2", "S3"),
        );
    }
    rows.push(fact(99, "S2").exempt("unreasonable"));
    let p = Policy {
        min_sample: 4,
        ..Policy::default()
    };
    let card = score(&table(&rows), nov(), &p, &org(), Level::Street).unwrap();
    let labels: Vec<(&str, Option<u32>, &str, bool)> = card
        .units
        .iter()
        .map(|u| {
            (
                u.unit_code.as_str(),
                u.rank,
                u.rank_label.as_str(),
                u.rank_tied,
            )
        })
        .collect();
    assert_eq!(
        labels,
        vec![
            ("S1", Some(1), "1", false),
            ("S2", Some(2), "2=", true),
            ("S3", Some(2), "2=", true)
        ]
    );
    // top 10 of three; the bottom list names every unit tied at the cut-off
    assert_eq!(card.top, vec!["S1", "S2", "S3"]);
    let p = Policy {
        min_sample: 5,
        ..Policy::default()
    };
    let card = score(&table(&rows), nov(), &p, &org(), Level::Street).unwrap();
    assert!(
        card.units.iter().all(|u| u.rank.is_none()),
        "4 counted < 5: nobody is ranked first by default"
    );
}

#[test]
fn districts_are_scored_on_every_lead_unit_within_them_and_rank_top3_and_last() {
    let rows = vec![
        fact(1, "S1"),
        fact(2, "S2").res("unresolved"),
        fact(3, "D1X").place("D1", "S2"),
        fact(4, "S3").place("D2", "S3"),
        fact(5, "CD1"),
        fact(6, "SE1"),
        fact(7, "EC1"),
    ];
    let p = Policy {
        min_sample: 1,
        ..Policy::default()
    };
    let card = score(&table(&rows), nov(), &p, &org(), Level::District).unwrap();
    let d1 = card.unit("D1").unwrap();
    assert_eq!(
        d1.counts.counted, 3,
        "S1, S2 and the district department D1X; not CD1/SE1/EC1"
    );
    assert_eq!(d1.counts.resolved, 2);
    assert_eq!(card.unit("D2").unwrap().counts.counted, 1);
    assert_eq!(card.top, vec!["D2", "D1"]);
    assert_eq!(card.bottom, vec!["D1"]);
    // 万人诉求比: D1 has 200 000 residents and 6 located tickets (1, 2, 3, 5, 6, 7 are in D1)
    assert_eq!(d1.observation.requests, 6);
    assert_close!(d1.observation.requests_per_10k, 6.0 * 10_000.0 / 200_000.0);
    assert_eq!(
        card.unit("D2").unwrap().observation.requests_per_10k,
        None,
        "population unknown"
    );
    for (level, code) in [(Level::Department, "CD1"), (Level::Enterprise, "SE1")] {
        let card = score(&table(&rows), nov(), &p, &org(), level).unwrap();
        assert_eq!(
            card.units.len(),
            if level == Level::Department { 2 } else { 1 }
        );
        assert_eq!(card.unit(code).unwrap().counts.counted, 1);
    }
}

#[test]
fn departments_get_industry_rates_from_the_categories_they_lead_most() {
    let rows = vec![
        fact(1, "CD1").cat("060101"),
        fact(2, "CD1").cat("060101"),
        fact(3, "CD1").cat("060102").res("unresolved"),
        fact(4, "S1").cat("060101").res("partly"),
        fact(5, "CD2").cat("030201"),
        fact(6, "S2").cat("030201").res("unresolved"),
        fact(7, "S2").cat("030201").res("unresolved"),
    ];
    let card = score(
        &table(&rows),
        nov(),
        &Policy::default(),
        &org(),
        Level::Department,
    )
    .unwrap();
    let cd1 = card.unit("CD1").unwrap();
    assert_eq!(cd1.counts.counted, 3);
    let ind = cd1.industry.as_ref().unwrap();
    assert_eq!(ind.source, "derived");
    assert_eq!(ind.categories, vec!["060101", "060102"]);
    assert_eq!(
        ind.counts.counted, 4,
        "the industry's tickets whatever the handler (S1's too)"
    );
    assert_close!(ind.rates.resolution, (2.0 + 0.5) / 4.0);
    assert!(
        card.unit("CD2").unwrap().industry.is_none(),
        "S2 leads 030201 most, not CD2"
    );
    // an explicit industry in the policy
    let mut p = Policy::default();
    p.industries.insert("CD2".into(), vec!["0302".into()]);
    let card = score(&table(&rows), nov(), &p, &org(), Level::Department).unwrap();
    let ind = card.unit("CD2").unwrap().industry.clone().unwrap();
    assert_eq!(
        (ind.source.as_str(), ind.counts.counted, ind.counts.resolved),
        ("policy", 3, 1)
    );
}

#[test]
fn category_multipliers_weight_rates_but_not_counts() {
    let rows = vec![fact(1, "S1").cat("010101").res("unresolved"), fact(2, "S1")];
    let mut p = Policy::default();
    p.category_multipliers.insert("01".into(), 2.0);
    let s1 = score(&table(&rows), nov(), &p, &org(), Level::Street)
        .unwrap()
        .units
        .remove(0);
    assert_eq!(s1.counts.counted, 2);
    assert_close!(s1.resolution_rate, 1.0 / 3.0);
    assert_close!(s1.response_rate, 1.0);
    // Kish effective n = (2+1)²/(4+1) = 1.8 drives the interval
    let iv = s1.intervals.resolution.unwrap();
    let want = jiesu_score::stats::wilson(1.0 / 3.0, 1.8, jiesu_score::stats::Z95).unwrap();
    assert!((iv.low - want.low).abs() < 1e-12);
}

#[test]
fn assist_assignments_count_only_when_the_policy_says_so() {
    let rows = vec![fact(1, "S2"), fact(2, "S2").assist().res("unresolved")];
    let s2 = |p: &Policy| {
        score(&table(&rows), nov(), p, &org(), Level::Street)
            .unwrap()
            .unit("S2")
            .unwrap()
            .clone()
    };
    assert_eq!(s2(&Policy::default()).counts.counted, 1);
    let mut p = Policy::default();
    p.sharing.assist = AssistRule::Count;
    p.sharing.assist_weight = 0.5;
    let s = s2(&p);
    assert_eq!(s.counts.counted, 2);
    assert_close!(s.resolution_rate, 1.0 / 1.5);
}

#[test]
fn reopened_tickets_follow_the_policys_rule() {
    let rows = vec![fact(1, "S1").round(1), fact(2, "S1")];
    let s1 = |rule| {
        let p = Policy {
            reopened: rule,
            ..Policy::default()
        };
        score(&table(&rows), nov(), &p, &org(), Level::Street)
            .unwrap()
            .unit("S1")
            .unwrap()
            .clone()
    };
    let f = s1(ReopenRule::FinalRound);
    assert_eq!((f.counts.counted, f.counts.resolved), (2, 2));
    let u = s1(ReopenRule::FirstRoundUnresolved);
    assert_eq!(
        (
            u.counts.counted,
            u.counts.resolved,
            u.counts.unresolved,
            u.counts.satisfied
        ),
        (2, 1, 1, 2)
    );
    let x = s1(ReopenRule::Exclude);
    assert_eq!((x.counts.counted, x.counts.excluded), (1, 1));
}

#[test]
fn returned_assignments_count_by_default_and_can_be_excluded() {
    let rows = vec![fact(1, "S1").returned().unresponded(), fact(1, "S2")];
    let card = score(
        &table(&rows),
        nov(),
        &Policy::default(),
        &org(),
        Level::Street,
    )
    .unwrap();
    assert_eq!(card.unit("S1").unwrap().counts.counted, 1);
    assert_eq!(card.unit("S2").unwrap().counts.counted, 1);
    let p = Policy {
        returned: ReturnedRule::Exclude,
        ..Policy::default()
    };
    let card = score(&table(&rows), nov(), &p, &org(), Level::Street).unwrap();
    assert_eq!(card.unit("S1").unwrap().counts.counted, 0);
    assert_eq!(card.unit("S1").unwrap().counts.excluded, 1);
    // the ticket is still one request located in S1
    assert_eq!(card.unit("S1").unwrap().observation.requests, 1);
}

#[test]
fn type_tier_and_category_scopes_filter_what_counts() {
    let rows = vec![
        fact(1, "S1"),
        fact(2, "S1").kind("consultation"),
        fact(3, "S1").tier("2h"),
        fact(4, "S1").cat("010101"),
    ];
    let counted = |p: Policy| {
        score(&table(&rows), nov(), &p, &org(), Level::Street)
            .unwrap()
            .unit("S1")
            .unwrap()
            .counts
            .counted
    };
    assert_eq!(counted(Policy::default()), 4);
    assert_eq!(
        counted(Policy {
            types: vec![jiesu_domain::ticket::RequestType::Complaint],
            ..Policy::default()
        }),
        3
    );
    assert_eq!(
        counted(Policy {
            tiers: vec![jiesu_domain::ticket::DeadlineTier::H2],
            ..Policy::default()
        }),
        1
    );
    assert_eq!(
        counted(Policy {
            categories: vec!["01".into()],
            ..Policy::default()
        }),
        1
    );
}

#[test]
fn the_month_is_the_city_month_of_the_first_dispatch_unless_the_policy_says_utc() {
    // In Beijing (the default zone): 2026-10-31 15:30 UTC is 23:30 on 31 October, the last hour
    // of the month; 16:30 UTC is 00:30 on 1 November; 2026-11-30 17:00 UTC is 01:00 on 1 December.
    let rows = vec![
        fact(1, "S1").at("2026-10-31T15:30:00.000Z"),
        fact(2, "S1").at("2026-10-31T16:30:00.000Z"),
        fact(3, "S1").at("2026-11-30T17:00:00.000Z"),
    ];
    let count = |p: &Policy, m: &str| {
        score(
            &table(&rows),
            Month::parse(m).unwrap(),
            p,
            &org(),
            Level::Street,
        )
        .unwrap()
        .unit("S1")
        .map_or(0, |u| u.counts.counted)
    };
    let city = Policy::default();
    assert_eq!(city.month_clock, MonthClock::City);
    assert_eq!(
        (
            count(&city, "2026-10"),
            count(&city, "2026-11"),
            count(&city, "2026-12")
        ),
        (1, 1, 1)
    );
    let utc = Policy {
        month_clock: MonthClock::Utc,
        ..Policy::default()
    };
    assert_eq!(
        (
            count(&utc, "2026-10"),
            count(&utc, "2026-11"),
            count(&utc, "2026-12")
        ),
        (2, 1, 0)
    );
    // Another city: in New York the same instants are all on 31 October or 30 November.
    let ny = Policy::default().in_zone(jiesu_domain::CityZone::parse("America/New_York").unwrap());
    assert_eq!(
        (
            count(&ny, "2026-10"),
            count(&ny, "2026-11"),
            count(&ny, "2026-12")
        ),
        (2, 1, 0)
    );
}

#[test]
fn base_period_ratio_needs_the_base_months_facts() {
    let now = vec![
        fact(1, "S2").place("D1", "S2"),
        fact(2, "S2").place("D1", "S2"),
        fact(3, "S2").place("D1", "S2"),
    ];
    let before = vec![
        fact(10, "S2")
            .place("D1", "S2")
            .at("2025-11-05T00:00:00.000Z"),
        fact(11, "S2")
            .place("D1", "S2")
            .at("2025-11-06T00:00:00.000Z"),
    ];
    let card = score(
        &table(&now),
        nov(),
        &Policy::default(),
        &org(),
        Level::Street,
    )
    .unwrap();
    let s2 = card.unit("S2").unwrap();
    assert_eq!(s2.observation.base_period.to_string(), "2025-11");
    assert_eq!(
        s2.observation.base_ratio, None,
        "base period not loaded: not available"
    );
    assert_close!(s2.observation.requests_per_10k, 3.0 * 10_000.0 / 50_000.0);
    let base = table(&before);
    let card = score_with(
        &table(&now),
        nov(),
        &Policy::default(),
        &org(),
        Level::Street,
        &ScoreOptions { base: Some(&base) },
    )
    .unwrap();
    let s2 = card.unit("S2").unwrap();
    assert_eq!(s2.observation.base_requests, Some(2));
    assert_close!(s2.observation.base_ratio, 1.5);
}

#[test]
fn a_policy_that_does_not_govern_the_month_or_facts_that_do_not_cover_it_are_refused() {
    let p = Policy {
        effective_from: Month::parse("2027-01").unwrap(),
        ..Policy::default()
    };
    let e = score(&table(&[fact(1, "S1")]), nov(), &p, &org(), Level::Street).unwrap_err();
    assert!(matches!(e, ScoreError::PolicyPeriod { .. }), "{e}");
    let mut b = jiesu_score::FactTableBuilder::new(
        Month::parse("2026-10").unwrap().start_utc(),
        Month::parse("2026-11").unwrap().start_utc(),
    );
    b.push(&fact(1, "S1").at("2026-10-03T00:00:00.000Z"))
        .unwrap();
    let e = score(
        &b.finish(),
        nov(),
        &Policy::default(),
        &org(),
        Level::Street,
    )
    .unwrap_err();
    assert!(matches!(e, ScoreError::Coverage { .. }), "{e}");
}

/// The drill-down of worked example 1: each figure names exactly its tickets.
#[test]
fn drill_down_names_the_tickets_behind_each_figure_of_worked_example_1() {
    use jiesu_score::{drill, DrillError, Measure, Scope};
    let t = table(&s1_rows());
    let p = Policy::default();
    let tickets = |m: Measure| -> Vec<i64> {
        let d = drill(
            &t,
            nov(),
            &p,
            &org(),
            Level::Street,
            Some("S1"),
            Scope::Unit,
            m,
        )
        .unwrap();
        assert_eq!(d.rows.len() as u32, d.figure, "{m}");
        assert_eq!(d.policy_id, "default");
        d.rows.iter().map(|r| r.fact.ticket_id).collect()
    };
    assert_eq!(tickets(Measure::Counted), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(tickets(Measure::Responded), vec![1, 2, 5, 6]);
    assert_eq!(tickets(Measure::ValidCallbacks), vec![1, 2, 3, 4]);
    assert_eq!(tickets(Measure::Resolved), vec![1, 4]);
    assert_eq!(tickets(Measure::Partly), vec![2]);
    assert_eq!(tickets(Measure::Unresolved), vec![3]);
    assert_eq!(tickets(Measure::Satisfied), vec![1]);
    assert_eq!(tickets(Measure::Basic), vec![2, 4]);
    assert_eq!(tickets(Measure::Exempted), vec![7, 8, 9, 10, 11]);
    assert_eq!(tickets(Measure::Excluded), Vec::<i64>::new());
    // the district holds its streets' rows
    let d = drill(
        &t,
        nov(),
        &p,
        &org(),
        Level::District,
        Some("D1"),
        Scope::Unit,
        Measure::Counted,
    )
    .unwrap();
    assert_eq!(d.rows.len(), 6);
    // the level's totals (no unit): every street's rows
    let d = drill(
        &t,
        nov(),
        &p,
        &org(),
        Level::Street,
        None,
        Scope::Unit,
        Measure::Counted,
    )
    .unwrap();
    assert_eq!((d.rows.len(), d.figure, d.unit_code), (6, 6, None));
    // a street is not a district; industry figures are for city departments
    assert!(matches!(
        drill(
            &t,
            nov(),
            &p,
            &org(),
            Level::District,
            Some("S1"),
            Scope::Unit,
            Measure::Counted
        ),
        Err(DrillError::NotAMember { .. })
    ));
    assert!(matches!(
        drill(
            &t,
            nov(),
            &p,
            &org(),
            Level::Street,
            Some("S1"),
            Scope::Industry,
            Measure::Counted
        ),
        Err(DrillError::NoIndustry { .. })
    ));
    // the reopen rule shows in the counted resolution
    let reopened = vec![fact(1, "S1").round(1)];
    let p2 = Policy {
        reopened: ReopenRule::FirstRoundUnresolved,
        ..Policy::default()
    };
    let d = drill(
        &table(&reopened),
        nov(),
        &p2,
        &org(),
        Level::Street,
        Some("S1"),
        Scope::Unit,
        Measure::Unresolved,
    )
    .unwrap();
    assert_eq!(d.rows.len(), 1);
    assert_eq!(d.rows[0].counted_resolution.as_deref(), Some("unresolved"));
    assert_eq!(d.rows[0].fact.resolution.as_deref(), Some("resolved"));
}
