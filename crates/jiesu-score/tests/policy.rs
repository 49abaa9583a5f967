//! Policy files: validation reports, the shipped files, and versioning by period.

mod common;
use common::*;
use jiesu_domain::category::{Category, CategoryTree};
use jiesu_score::policy::{PolicySet, EXAMPLE_2020_TOML};
use jiesu_score::{score, FactTable, Level, Month};

fn cats() -> CategoryTree {
    let c = |code: &str, level: u8, parent: Option<&str>| Category {
        code: code.into(),
        name: code.into(),
        level,
        parent: parent.map(Into::into),
        domain: None,
        active: true,
    };
    CategoryTree::new(vec![
        c("01", 1, None),
        c("0101", 2, Some("01")),
        c("010101", 3, Some("0101")),
        c("03", 1, None),
        c("0301", 2, Some("03")),
        c("030101", 3, Some("0301")),
    ])
}

fn problems(toml: &str) -> Vec<String> {
    PolicySet::from_toml(toml, Some(&cats()))
        .unwrap_err()
        .problems
}

#[test]
fn the_shipped_files_are_valid() {
    PolicySet::shipped_default();
    let set = PolicySet::from_toml(EXAMPLE_2020_TOML, Some(&cats())).unwrap();
    assert_eq!(set.policies.len(), 4);
    assert_eq!(
        set.for_month(Month::parse("2020-03").unwrap()).unwrap().id,
        "2020-epidemic-only"
    );
    assert_eq!(
        set.for_month(Month::parse("2020-06").unwrap()).unwrap().id,
        "2020-epidemic-x2"
    );
    assert_eq!(
        set.for_month(Month::parse("2024-06").unwrap()).unwrap().id,
        "2021"
    );
}

#[test]
fn composite_weights_that_do_not_add_up_are_refused() {
    let p = problems(
        r#"[[policy]]
id = "x"
effective_from = "2026-01"
[policy.composite]
response = 0.2
resolution = 0.4
satisfaction = 0.3"#,
    );
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].contains("composite weights add up to 0.9") && p[0].contains("not 1"),
        "{p:?}"
    );
}

#[test]
fn negative_weights_are_refused() {
    let p = problems(
        r#"[[policy]]
id = "x"
effective_from = "2026-01"
[policy.weights]
w_partly = -0.5
[policy.composite]
response = -0.2
resolution = 0.6
satisfaction = 0.6
[policy.category_multipliers]
"01" = -2.0"#,
    );
    let all = p.join("\n");
    assert!(all.contains("w_partly = -0.5 is negative"), "{all}");
    assert!(
        all.contains("composite.response = -0.2 is negative"),
        "{all}"
    );
    assert!(
        all.contains("category_multipliers.\"01\" = -2 must be above 0"),
        "{all}"
    );
}

#[test]
fn unknown_category_codes_are_refused() {
    let p = problems(
        r#"[[policy]]
id = "x"
effective_from = "2026-01"
categories = ["01", "99"]
[policy.category_multipliers]
"0399" = 2.0
[policy.industries]
CD001 = ["0301", "77"]"#,
    );
    let all = p.join("\n");
    assert!(
        all.contains("categories: unknown category code \"99\""),
        "{all}"
    );
    assert!(
        all.contains("category_multipliers: unknown category code \"0399\""),
        "{all}"
    );
    assert!(
        all.contains("industries.CD001: unknown category code \"77\""),
        "{all}"
    );
    assert_eq!(p.len(), 3);
    // without a tree, codes are not checked
    assert!(PolicySet::from_toml(
        "[[policy]]\nid = \"x\"\neffective_from = \"2026-01\"\ncategories = [\"99\"]",
        None
    )
    .is_ok());
}

#[test]
fn overlapping_periods_are_refused() {
    let p = problems(
        r#"[[policy]]
id = "a"
effective_from = "2020-01"
effective_to = "2020-06"
[[policy]]
id = "b"
effective_from = "2020-05"
[[policy]]
id = "c"
effective_from = "2021-01""#,
    );
    let all = p.join("\n");
    assert!(
        all.contains(
            "policies 'a' (2020-01 … 2020-06) and 'b' (2020-05 … open) overlap from 2020-05"
        ),
        "{all}"
    );
    assert!(
        all.contains("policies 'b' (2020-05 … open) and 'c' (2021-01 … open) overlap from 2021-01"),
        "{all}"
    );
}

#[test]
fn typos_bad_months_and_reversed_periods_are_reported_clearly() {
    let p = problems("[[policy]]\nid = \"x\"\neffective_from = \"2026-01\"\nmin_sampel = 3");
    assert!(
        p[0].contains("unknown field") && p[0].contains("min_sampel"),
        "{p:?}"
    );
    let p = problems("[[policy]]\nid = \"x\"\neffective_from = \"2026-1\"");
    assert!(p[0].contains("'2026-1' is not a month"), "{p:?}");
    let p = problems(
        "[[policy]]\nid = \"x\"\neffective_from = \"2026-05\"\neffective_to = \"2026-01\"",
    );
    assert!(
        p[0].contains("effective_to 2026-01 is before effective_from 2026-05"),
        "{p:?}"
    );
    let p = problems(
        "[[policy]]\nid = \"x\"\neffective_from = \"2026-01\"\nexempt_reasons = [\"bribery\"]",
    );
    assert!(p[0].contains("bribery"), "{p:?}");
    let p = problems("");
    assert!(p[0].contains("policy"), "{p:?}");
    let e = PolicySet::from_toml(
        "[[policy]]\nid = \"x\"\neffective_from = \"2026-01\"\n[policy.weights]\nw_basic = 1.5",
        None,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("the scoring policy is refused (1 problem):\n  - policy 'x'"),
        "{e}"
    );
    let set = PolicySet::shipped_default();
    assert!(set
        .for_month(Month::parse("1999-12").unwrap())
        .unwrap_err()
        .problems[0]
        .contains("no policy is in force for 1999-12"));
}

/// Two versions: recomputing a past month uses that month's policy and gives the same numbers,
/// whatever versions are added later.
#[test]
fn past_months_keep_their_numbers_under_their_own_policy() {
    let rows = vec![
        // March 2020: one epidemic ticket (unresolved), one housing ticket (resolved)
        fact(1, "S1")
            .cat("010101")
            .res("unresolved")
            .at("2020-03-05T01:00:00.000Z"),
        fact(2, "S1").cat("030101").at("2020-03-06T01:00:00.000Z"),
        // June 2020: the same pair
        fact(3, "S1")
            .cat("010101")
            .res("unresolved")
            .at("2020-06-05T01:00:00.000Z"),
        fact(4, "S1").cat("030101").at("2020-06-06T01:00:00.000Z"),
    ];
    let t = FactTable::from_facts(&rows).unwrap();
    let figures = |set: &PolicySet, m: &str| {
        let m = Month::parse(m).unwrap();
        let card = score(&t, m, set.for_month(m).unwrap(), &org(), Level::Street).unwrap();
        let s1 = card.unit("S1").unwrap().clone();
        (
            card.policy_id.clone(),
            s1.counts.counted,
            s1.resolution_rate.unwrap(),
            card.policy_fingerprint.clone(),
        )
    };
    let v2020 = PolicySet::from_toml(EXAMPLE_2020_TOML, Some(&cats())).unwrap();
    let march = figures(&v2020, "2020-03");
    let june = figures(&v2020, "2020-06");
    assert_eq!(
        (march.0.as_str(), march.1, march.2),
        ("2020-epidemic-only", 1, 0.0),
        "only epidemic tickets counted"
    );
    assert_eq!((june.0.as_str(), june.1), ("2020-epidemic-x2", 2));
    assert!(
        (june.2 - 1.0 / 3.0).abs() < 1e-12,
        "epidemic weighted twice: 1 / (2 + 1)"
    );
    // A later version is added (2021 changes the weights); the 2020 months do not move.
    let later = format!(
        "{}\n",
        EXAMPLE_2020_TOML.replace(
            "[[policy]]\nid = \"2021\"\nname = \"2021年起 常规考核\"\neffective_from = \"2021-01\"",
            "[[policy]]\nid = \"2021\"\nname = \"2021年起 常规考核\"\neffective_from = \"2021-01\"\neffective_to = \"2021-12\"\n\n[[policy]]\nid = \"2022\"\neffective_from = \"2022-01\"\n[policy.composite]\nresponse = 0.1\nresolution = 0.45\nsatisfaction = 0.45"
        )
    );
    let v2022 = PolicySet::from_toml(&later, Some(&cats())).unwrap();
    assert_eq!(v2022.policies.len(), 5);
    assert_eq!(figures(&v2022, "2020-03"), march);
    assert_eq!(figures(&v2022, "2020-06"), june);
}
