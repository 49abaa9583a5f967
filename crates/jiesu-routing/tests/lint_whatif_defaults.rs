//! Lint, what-if and the default catalogue.

mod common;
use common::*;
use jiesu_domain::ticket::DeadlineTier;
use jiesu_domain::CityZone;
use jiesu_routing::bench::{synthetic_categories, synthetic_facts, synthetic_org};
use jiesu_routing::{
    default_catalogue, lint, whatif, Catalogue, DefaultInputs, PlaceScope, UnitRef,
};

#[test]
fn lint_finds_gaps_conflicts_and_retired_units() {
    let mut k1 = rule("K1", "1402", PlaceScope::Any, unit("CD001"));
    k1.keywords = vec!["路灯".into()];
    let mut k2 = rule("K2", "1402", PlaceScope::Any, UnitRef::Street);
    k2.keywords = vec!["灯杆".into()];
    let cat = Catalogue::new(vec![
        rule("A", "14", PlaceScope::Any, UnitRef::Street),
        rule("B", "02", PlaceScope::Any, unit("CD099")), // retired
        rule(
            "W",
            "27",
            district("110105"),
            UnitRef::DistrictDept("D13".into()),
        ), // retired slot
        k1,
        k2,
    ]);
    let r = lint(&cat, &org(), &cats(), at(), CityZone::default());
    // Leaves: 140201, 140202, 020101, 270101; active streets: 110108010, 110108011, 110105001.
    assert_eq!(r.gaps.cells, 4 * 3);
    // 020101 nowhere (retired unit), 270101 nowhere (朝阳 slot retired, no rule elsewhere).
    assert_eq!(r.gaps.gaps, 2 * 3, "{r}");
    assert_eq!(r.gaps.by_top_category[0].2, 3);
    assert_eq!(r.conflicts.len(), 1);
    assert_eq!(
        (
            r.conflicts[0].rule_a.as_str(),
            r.conflicts[0].rule_b.as_str()
        ),
        ("K1", "K2")
    );
    let retired: Vec<(&str, &str)> = r
        .retired_units
        .iter()
        .map(|x| (x.rule_id.as_str(), x.unit_code.as_str()))
        .collect();
    assert_eq!(retired, [("B", "CD099"), ("W", "110105D13")]);
    assert!(!r.is_clean());
    let text = r.to_string();
    assert!(text.contains("gaps: 6 of 12"), "{text}");
}

#[test]
fn whatif_on_an_unchanged_catalogue_changes_nothing_and_a_draft_moves_load() {
    let (o, c) = (synthetic_org(), synthetic_categories());
    let current = jiesu_routing::bench::synthetic_catalogue(2000, &o, &c, 3);
    let facts = synthetic_facts(3000, &o, &c, 5);
    let tickets = facts.iter().map(|f| (f.clone(), None));
    let r = whatif(&current, &current, tickets, &o, at(), CityZone::default());
    assert_eq!(r.tickets, 3000);
    assert_eq!(r.changed_lead, 0);
    assert!(r.gainers.is_empty() && r.losers.is_empty());
    // Draft: every street-led rule now goes to the district's D02.
    let draft = Catalogue::new(
        current
            .rules()
            .iter()
            .cloned()
            .map(|mut r| {
                for a in &mut r.assignments {
                    if a.unit == UnitRef::Street {
                        a.unit = UnitRef::DistrictDept("D02".into());
                    }
                }
                r
            })
            .collect(),
    );
    let actual: Vec<Option<String>> = facts
        .iter()
        .map(|f| current.router(&o).quick_lead(f, at()).map(|q| q.lead))
        .collect();
    let r = whatif(
        &current,
        &draft,
        facts.into_iter().zip(actual),
        &o,
        at(),
        CityZone::default(),
    );
    assert!(r.changed_lead > 300, "{r}");
    assert!(r.gainers.iter().all(|g| g.unit_code.ends_with("D02")));
    assert!(!r.losers.is_empty());
    assert!((r.agree_actual_current - 1.0).abs() < 1e-9);
    assert!(r.agree_actual_draft < 1.0);
    let text = r.to_string();
    assert!(text.contains("different lead unit"));
}

/// Lead options like the reference data's, for the synthetic city.
fn options(c: &jiesu_domain::category::CategoryTree) -> Vec<(String, Vec<(String, f64)>)> {
    c.leaves()
        .enumerate()
        .map(|(i, l)| {
            let o = match i % 7 {
                0 => vec![("street_town", 6.0), ("district_department:D02", 5.0)],
                1 => vec![("district_department:D05", 5.0), ("street_town", 3.0)],
                2 => vec![
                    ("city_department:CD012", 4.0),
                    ("state_enterprise:SE003", 2.0),
                ],
                3 => vec![("ecommerce:*", 3.0)],
                4 => vec![("state_enterprise:SE004", 4.0), ("street_town", 1.0)],
                5 => vec![
                    ("district_department:D13", 3.0),
                    ("street_town", 2.5),
                    ("bogus:1", 9.0),
                ],
                _ => vec![("ecommerce:EC004", 3.0), ("district_department:D03", 1.0)],
            };
            (
                l.code.clone(),
                o.into_iter().map(|(a, b)| (a.to_string(), b)).collect(),
            )
        })
        .collect()
}

#[test]
fn default_catalogue_is_large_clean_and_covers_every_street() {
    let (o, c) = (synthetic_org(), synthetic_categories());
    let tiers = vec![
        ("27".to_string(), DeadlineTier::H24),
        ("0101".to_string(), DeadlineTier::H2),
    ];
    let opts = options(&c);
    let authorities = vec![("110115003".to_string(), "CD002".to_string())];
    let cat = default_catalogue(
        &o,
        &c,
        &DefaultInputs {
            lead_options: &opts,
            tiers: &tiers,
            street_authorities: &authorities,
            effective_from: day(2025, 1, 1),
        },
    );
    assert!(cat.len() > 500, "{} rules", cat.len());
    assert!(cat.structural_problems().is_empty());
    let r = lint(&cat, &o, &c, at(), CityZone::default());
    assert!(r.conflicts.is_empty(), "{r}");
    assert_eq!(r.gaps.gaps, 0, "{r}");
    assert!(r.retired_units.is_empty(), "{r}");
    // Exports and imports exactly.
    let csv = cat.to_csv();
    assert!(csv.lines().count() > 500);
    let back = Catalogue::from_csv(csv.as_bytes(), &o, &c).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, cat);
    // Tiers follow the input (longest prefix) and e-commerce leaves fall back without a firm.
    let leaf_0101 = c.leaves().find(|l| l.code.starts_with("0101")).unwrap();
    assert_eq!(
        cat.get(&format!("L{}", leaf_0101.code), day(2026, 1, 1))
            .unwrap()
            .tier,
        DeadlineTier::H2
    );
    let ec_leaf = c.leaves().nth(3).unwrap();
    let mut f = synthetic_facts(1, &o, &c, 1).pop().unwrap();
    f.category_code = ec_leaf.code.clone();
    f.text = "网购商品质量问题".into();
    let s = cat.suggest(&f, at(), &o);
    assert_ne!(
        s.rule_id.as_deref(),
        Some(format!("L{}", ec_leaf.code).as_str()),
        "{}",
        s.explanation.en
    );
    assert!(s.lead().is_some());
    f.text = "在京东买的商品质量问题".into();
    let s = cat.suggest(&f, at(), &o);
    assert_eq!(s.lead().unwrap().unit_code, "EC001");
    // The authority takes the street-level work of its area, not the departments' work.
    let street_leaf = c.leaves().next().unwrap(); // options: street_town first
    f.category_code = street_leaf.code.clone();
    f.street_code = "110115003".into();
    f.district_code = "110115".into();
    f.community_code = None;
    assert_eq!(cat.suggest(&f, at(), &o).lead().unwrap().unit_code, "CD002");
    let dept_leaf = c.leaves().nth(1).unwrap(); // options: district_department:D05 first
    f.category_code = dept_leaf.code.clone();
    assert_eq!(
        cat.suggest(&f, at(), &o).lead().unwrap().unit_code,
        "110115D05"
    );
}
