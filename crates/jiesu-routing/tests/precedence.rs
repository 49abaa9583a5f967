//! Catalogue precedence and suggestions, case by case.

mod common;
use common::*;
use jiesu_domain::ticket::{AssignmentRole, DeadlineTier};
use jiesu_routing::catalogue::CandidateStatus;
use jiesu_routing::{Catalogue, PlaceScope, Suggestion, UnitRef};

fn suggest(rules: Vec<jiesu_routing::Rule>, f: &jiesu_routing::RouteFacts) -> Suggestion {
    Catalogue::new(rules).suggest(f, at(), &org())
}

fn lead(s: &Suggestion) -> &str {
    &s.lead().expect("a lead").unit_code
}

#[test]
fn street_rule_beats_district_rule_for_the_same_category() {
    let s = suggest(
        vec![
            rule(
                "A-district",
                "1402",
                district("110108"),
                UnitRef::DistrictDept("D02".into()),
            ),
            rule("B-street", "1402", street("110108010"), UnitRef::Street),
        ],
        &facts("140201"),
    );
    assert_eq!(s.rule_id.as_deref(), Some("B-street"));
    assert_eq!(lead(&s), "110108010");
    assert!(s.conflicts.is_empty());
    assert!(
        s.explanation.zh.contains("地点更具体"),
        "{}",
        s.explanation.zh
    );
    assert!(
        s.explanation.en.contains("more specific place"),
        "{}",
        s.explanation.en
    );
    assert!(
        s.explanation.en.contains("直派") || s.explanation.en.contains("straight to the street")
    );
}

#[test]
fn district_rule_beats_city_wide_rule() {
    let s = suggest(
        vec![
            rule("A", "1402", PlaceScope::Any, unit("CD001")),
            rule(
                "B",
                "1402",
                district("110108"),
                UnitRef::DistrictDept("D02".into()),
            ),
        ],
        &facts("140201"),
    );
    assert_eq!(lead(&s), "110108D02");
    // In another district the district rule does not apply.
    let mut f = facts("140201");
    f.district_code = "110105".into();
    f.street_code = "110105001".into();
    f.community_code = None;
    let s = suggest(
        vec![
            rule("A", "1402", PlaceScope::Any, unit("CD001")),
            rule(
                "B",
                "1402",
                district("110108"),
                UnitRef::DistrictDept("D02".into()),
            ),
        ],
        &f,
    );
    assert_eq!(lead(&s), "CD001");
}

#[test]
fn community_rule_beats_street_rule() {
    let s = suggest(
        vec![
            rule("A", "14", street("110108010"), UnitRef::Street),
            rule(
                "B",
                "14",
                PlaceScope::Community("110108010001".into()),
                unit("CD001"),
            ),
        ],
        &facts("140201"),
    );
    assert_eq!(lead(&s), "CD001");
}

#[test]
fn more_specific_place_beats_longer_category_prefix() {
    // Place is compared before the category: a street-wide rule for "14" beats a city-wide leaf rule.
    let s = suggest(
        vec![
            rule("A-leaf", "140201", PlaceScope::Any, unit("CD001")),
            rule("B-street", "14", street("110108010"), UnitRef::Street),
        ],
        &facts("140201"),
    );
    assert_eq!(s.rule_id.as_deref(), Some("B-street"));
}

#[test]
fn longer_category_prefix_wins() {
    let rules = vec![
        rule("A-any", "", PlaceScope::Any, UnitRef::District),
        rule("B-top", "14", PlaceScope::Any, unit("CD001")),
        rule(
            "C-mid",
            "1402",
            PlaceScope::Any,
            UnitRef::DistrictDept("D02".into()),
        ),
        rule("D-leaf", "140201", PlaceScope::Any, UnitRef::Street),
    ];
    let s = suggest(rules.clone(), &facts("140201"));
    assert_eq!(s.rule_id.as_deref(), Some("D-leaf"));
    assert!(
        s.explanation.en.contains("longer category prefix"),
        "{}",
        s.explanation.en
    );
    let s = suggest(rules.clone(), &facts("140202"));
    assert_eq!(s.rule_id.as_deref(), Some("C-mid"));
    let s = suggest(rules, &facts("020101"));
    assert_eq!(s.rule_id.as_deref(), Some("A-any"));
    assert_eq!(lead(&s), "110108");
}

#[test]
fn keyword_rule_beats_no_keyword_rule() {
    let mut kw = rule("B-kw", "1402", PlaceScope::Any, unit("CD001"));
    kw.keywords = vec!["路灯".into()];
    let rules = vec![rule("A", "1402", PlaceScope::Any, UnitRef::Street), kw];
    let s = suggest(rules.clone(), &facts("140201"));
    assert_eq!(s.rule_id.as_deref(), Some("B-kw"));
    assert!(s.explanation.en.contains("more keyword conditions"));
    let mut f = facts("140201");
    f.title = "灯坏了".into();
    f.text = "门口的灯坏了".into();
    assert_eq!(suggest(rules, &f).rule_id.as_deref(), Some("A"));
}

#[test]
fn keywords_all_must_match_and_alternatives_any() {
    let mut kw = rule("B-kw", "1402", PlaceScope::Any, unit("CD001"));
    kw.keywords = vec!["不亮|损坏".into(), "小区".into()];
    let rules = vec![rule("A", "1402", PlaceScope::Any, UnitRef::Street), kw];
    assert_eq!(
        suggest(rules.clone(), &facts("140201")).rule_id.as_deref(),
        Some("B-kw")
    );
    let mut f = facts("140201");
    f.text = "路灯不亮".into(); // no 小区
    assert_eq!(suggest(rules.clone(), &f).rule_id.as_deref(), Some("A"));
    f.text = "小区路灯损坏".into();
    f.title = String::new();
    assert_eq!(suggest(rules, &f).rule_id.as_deref(), Some("B-kw"));
}

#[test]
fn enterprise_flag_filters_and_beats_unflagged() {
    let mut ent = rule("B-ent", "1402", PlaceScope::Any, unit("CD001"));
    ent.enterprise = Some(true);
    let rules = vec![rule("A", "1402", PlaceScope::Any, UnitRef::Street), ent];
    assert_eq!(
        suggest(rules.clone(), &facts("140201")).rule_id.as_deref(),
        Some("A")
    );
    let mut f = facts("140201");
    f.enterprise = true;
    let s = suggest(rules, &f);
    assert_eq!(s.rule_id.as_deref(), Some("B-ent"));
    assert!(s.explanation.en.contains("enterprise"));
}

#[test]
fn explicit_priority_beats_specificity() {
    let mut forced = rule("Z-forced", "", PlaceScope::Any, unit("CD001"));
    forced.priority = 10;
    let s = suggest(
        vec![
            rule("A", "140201", street("110108010"), UnitRef::Street),
            forced,
        ],
        &facts("140201"),
    );
    assert_eq!(s.rule_id.as_deref(), Some("Z-forced"));
    assert!(s.explanation.en.contains("higher priority"));
}

#[test]
fn tie_is_reported_as_conflict() {
    let mut a = rule("R2", "1402", PlaceScope::Any, unit("CD001"));
    a.keywords = vec!["路灯".into()];
    let mut b = rule(
        "R1",
        "1402",
        PlaceScope::Any,
        UnitRef::DistrictDept("D02".into()),
    );
    b.keywords = vec!["不亮".into()];
    let s = suggest(vec![a.clone(), b.clone()], &facts("140201"));
    // Deterministic tie-break: the smaller rule id.
    assert_eq!(s.rule_id.as_deref(), Some("R1"));
    assert_eq!(s.conflicts.len(), 1);
    assert_eq!(s.conflicts[0].rule_id, "R2");
    assert!(s.explanation.en.contains("conflict"));
    let tie = s
        .explanation
        .considered
        .iter()
        .find(|c| c.rule_id == "R2")
        .unwrap();
    assert_eq!(tie.status, CandidateStatus::Tie);
    // Same result whatever the input order.
    let s2 = suggest(vec![b, a], &facts("140201"));
    assert_eq!(s2, s);
}

#[test]
fn rule_outside_its_effective_dates_is_ignored() {
    let mut old = rule("R", "1402", PlaceScope::Any, unit("CD001"));
    old.effective_to = Some(day(2026, 3, 2));
    let mut new = rule("R", "1402", PlaceScope::Any, UnitRef::Street);
    new.effective_from = day(2026, 3, 2);
    let mut future = rule(
        "F",
        "140201",
        PlaceScope::Any,
        UnitRef::DistrictDept("D02".into()),
    );
    future.effective_from = day(2026, 4, 1);
    let cat = Catalogue::new(vec![old, new, future]);
    assert!(cat.structural_problems().is_empty());
    let o = org();
    // 2026-03-02 00:30 Beijing is 2026-03-01 16:30 UTC: the new version already applies.
    let s = cat.suggest(&facts("140201"), bj(2026, 3, 2, 0, 30), &o);
    assert_eq!(lead(&s), "110108010");
    let s = cat.suggest(&facts("140201"), bj(2026, 3, 1, 23, 59), &o);
    assert_eq!(lead(&s), "CD001");
    let s = cat.suggest(&facts("140201"), bj(2026, 4, 1, 9, 0), &o);
    assert_eq!(s.rule_id.as_deref(), Some("F"));
    let s = cat.suggest(&facts("140201"), bj(2024, 12, 31, 9, 0), &o);
    assert!(s.rule_id.is_none());
}

#[test]
fn slots_resolve_from_the_request_place() {
    let rules = vec![with_assist(
        rule("A", "1402", PlaceScope::Any, UnitRef::Street),
        UnitRef::DistrictDept("D02".into()),
    )];
    let s = suggest(rules.clone(), &facts("140201"));
    assert_eq!(s.assignments.len(), 2);
    assert_eq!(s.assignments[0].unit_code, "110108010");
    assert_eq!(s.assignments[0].unit_name, "学院路街道");
    assert_eq!(s.assignments[0].role, AssignmentRole::Lead);
    assert_eq!(s.assignments[1].unit_code, "110108D02");
    assert_eq!(s.assignments[1].role, AssignmentRole::Assist);
    // The district is taken from the street when missing.
    let mut f = facts("140201");
    f.district_code.clear();
    let s = suggest(rules, &f);
    assert_eq!(s.assignments[1].unit_code, "110108D02");
}

#[test]
fn retired_lead_is_skipped_and_the_next_rule_used() {
    let rules = vec![
        rule("A", "1402", PlaceScope::Any, unit("CD001")),
        rule("B", "140201", PlaceScope::Any, unit("CD099")),
    ];
    let s = suggest(rules, &facts("140201"));
    assert_eq!(s.rule_id.as_deref(), Some("A"));
    let b = s
        .explanation
        .considered
        .iter()
        .find(|c| c.rule_id == "B")
        .unwrap();
    assert_eq!(b.status, CandidateStatus::Skipped);
    assert!(b.reason_en.contains("retired"), "{}", b.reason_en);
    // A retired assist is dropped with a warning, the lead kept.
    let mut f = facts("270101");
    f.district_code = "110105".into();
    f.street_code = "110105001".into();
    let s = suggest(
        vec![with_assist(
            rule("W", "27", PlaceScope::Any, UnitRef::Street),
            UnitRef::DistrictDept("D13".into()),
        )],
        &f,
    );
    assert_eq!(s.assignments.len(), 1);
    assert_eq!(s.warnings.len(), 1);
}

#[test]
fn ecommerce_slot_resolves_the_named_firm_or_falls_back() {
    let rules = vec![
        rule("L020101", "020101", PlaceScope::Any, UnitRef::Ecommerce),
        rule(
            "F0201",
            "0201",
            PlaceScope::Any,
            UnitRef::DistrictDept("D03".into()),
        ),
    ];
    let mut f = facts("020101");
    f.title = "退货纠纷".into();
    f.text = "我在天猫买的衣服，商家拒绝七天无理由退货。".into();
    let s = suggest(rules.clone(), &f);
    assert_eq!(lead(&s), "EC002");
    f.text = "网购的衣服商家拒绝退货。".into();
    let s = suggest(rules, &f);
    assert_eq!(lead(&s), "110108D03");
    assert!(
        s.explanation.zh.contains("未提及电商企业"),
        "{}",
        s.explanation.zh
    );
}

#[test]
fn runner_ups_have_distinct_leads_and_next_after_skips_returned_units() {
    let rules = vec![
        rule("A", "140201", street("110108010"), UnitRef::Street),
        rule(
            "B",
            "140201",
            district("110108"),
            UnitRef::DistrictDept("D02".into()),
        ),
        rule(
            "C",
            "1402",
            district("110108"),
            UnitRef::DistrictDept("D02".into()),
        ),
        rule("D", "14", PlaceScope::Any, unit("CD001")),
        rule("E", "", PlaceScope::Any, UnitRef::Street),
    ];
    let s = suggest(rules, &facts("140201"));
    assert_eq!(lead(&s), "110108010");
    let ru: Vec<&str> = s.runner_ups.iter().map(|r| r.rule_id.as_str()).collect();
    assert_eq!(ru, ["B", "D"]);
    let next = s.next_after(&["110108010"]).unwrap();
    assert_eq!(next.lead().unwrap().unit_code, "110108D02");
    let next = s.next_after(&["110108010", "110108D02"]).unwrap();
    assert_eq!(next.lead().unwrap().unit_code, "CD001");
    assert!(s.next_after(&["110108010", "110108D02", "CD001"]).is_none());
}

#[test]
fn no_rule_gives_an_empty_suggestion_with_an_explanation() {
    let s = suggest(
        vec![rule("A", "02", PlaceScope::Any, unit("CD001"))],
        &facts("140201"),
    );
    assert!(s.assignments.is_empty());
    assert!(s.rule_id.is_none());
    assert!(s.explanation.en.contains("dispatch by hand"));
}

#[test]
fn intake_tier_is_used_when_more_urgent() {
    let mut r = rule("A", "1402", PlaceScope::Any, UnitRef::Street);
    r.tier = DeadlineTier::D7;
    let mut f = facts("140201");
    f.tier = Some(DeadlineTier::H2);
    assert_eq!(suggest(vec![r.clone()], &f).tier, DeadlineTier::H2);
    f.tier = Some(DeadlineTier::D15);
    assert_eq!(suggest(vec![r], &f).tier, DeadlineTier::D7);
}

#[test]
fn suggestion_json_carries_unit_code_role_and_explanation() {
    let s = suggest(
        vec![rule("A", "1402", PlaceScope::Any, UnitRef::Street)],
        &facts("140201"),
    );
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["assignments"][0]["unit_code"], "110108010");
    assert_eq!(v["assignments"][0]["role"], "lead");
    assert_eq!(v["tier"], "7d");
    assert!(v["explanation"]["zh"]
        .as_str()
        .unwrap()
        .contains("命中规则 A"));
    let back: Suggestion = serde_json::from_value(v).unwrap();
    assert_eq!(back, s);
}

#[test]
fn catalogue_serde_round_trips() {
    let cat = Catalogue::new(vec![
        with_assist(
            rule("A", "1402", street("110108010"), UnitRef::Street),
            UnitRef::DistrictDept("D02".into()),
        ),
        rule("B", "", PlaceScope::Any, UnitRef::Ecommerce),
    ]);
    let json = serde_json::to_string(&cat).unwrap();
    let back: Catalogue = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cat);
}
