//! Catalogue lint: conflicts (equally specific rules that can match the same request), gaps (leaf
//! category × street/town with no rule resolving to an active unit) and rules pointing at
//! retired units.

use crate::catalogue::{Catalogue, PlaceScope, RouteFacts, Rule, UnitRef};
use chrono::{DateTime, NaiveDate, Utc};
use jiesu_domain::category::CategoryTree;
use jiesu_domain::org::{OrgTree, UnitKind};
use jiesu_domain::CityZone;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Two rules in force on the lint date that are equally specific and can match the same request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintConflict {
    pub rule_a: String,
    pub rule_b: String,
    pub reason: String,
}

/// One uncovered (leaf category, street/town) cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub category_code: String,
    pub category_name: String,
    pub street_code: String,
    pub street_name: String,
}

/// Gaps in summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct GapSummary {
    /// Leaf categories × active streets/towns checked.
    pub cells: usize,
    pub gaps: usize,
    /// (level-1 code, name, gaps), most first.
    pub by_top_category: Vec<(String, String, usize)>,
    /// (district code, name, gaps), most first.
    pub by_district: Vec<(String, String, usize)>,
    /// Up to 50 examples.
    pub sample: Vec<Gap>,
}

/// A rule (in force now or later) sending tickets to a retired or missing unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredRef {
    pub rule_id: String,
    pub effective_from: NaiveDate,
    pub unit_ref: String,
    pub unit_code: String,
    pub unit_name: String,
    pub missing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintReport {
    pub on: NaiveDate,
    pub rules_total: usize,
    pub rules_in_force: usize,
    pub conflicts: Vec<LintConflict>,
    pub gaps: GapSummary,
    pub retired_units: Vec<RetiredRef>,
}

impl LintReport {
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty() && self.gaps.gaps == 0 && self.retired_units.is_empty()
    }
}

impl std::fmt::Display for LintReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "派单目录检查 / catalogue lint — {}: {} rules, {} in force",
            self.on, self.rules_total, self.rules_in_force
        )?;
        writeln!(f, "冲突 / conflicts: {}", self.conflicts.len())?;
        for c in self.conflicts.iter().take(20) {
            writeln!(f, "  {} ↔ {}: {}", c.rule_a, c.rule_b, c.reason)?;
        }
        writeln!(
            f,
            "缺口 / gaps: {} of {} leaf-category × street cells have no rule resolving to an active unit",
            self.gaps.gaps, self.gaps.cells
        )?;
        for (code, name, n) in self.gaps.by_top_category.iter().take(10) {
            writeln!(f, "  category {code} {name}: {n}")?;
        }
        for (code, name, n) in self.gaps.by_district.iter().take(10) {
            writeln!(f, "  district {code} {name}: {n}")?;
        }
        for g in self.gaps.sample.iter().take(10) {
            writeln!(
                f,
                "  e.g. {} {} @ {} {}",
                g.category_code, g.category_name, g.street_code, g.street_name
            )?;
        }
        writeln!(
            f,
            "指向已撤销单位 / rules pointing at retired units: {}",
            self.retired_units.len()
        )?;
        for r in self.retired_units.iter().take(20) {
            writeln!(
                f,
                "  {} ({}): {} → {} {}{}",
                r.rule_id,
                r.effective_from,
                r.unit_ref,
                r.unit_code,
                r.unit_name,
                if r.missing {
                    " (missing)"
                } else {
                    " (retired)"
                }
            )?;
        }
        Ok(())
    }
}

/// Whether two keyword lists can both hold for one text (always, since keywords only require
/// presence) — described for the report.
fn conflict_reason(a: &Rule, b: &Rule) -> String {
    if a.scope_key() == b.scope_key() {
        "same scope and priority, overlapping dates (overlap)".into()
    } else {
        format!(
            "equally specific (priority {}, {}, prefix '{}', {} keyword condition(s)); both match a request whose text has {} and {}",
            a.priority,
            a.place.to_field(),
            a.category_prefix,
            a.keywords.len(),
            a.keywords.join("+"),
            b.keywords.join("+")
        )
    }
}

/// Lints the catalogue as in force at `at` (rules in force on its city-local date, or starting later
/// for retired units).
pub fn lint(
    cat: &Catalogue,
    org: &OrgTree,
    categories: &CategoryTree,
    at: DateTime<Utc>,
    zone: CityZone,
) -> LintReport {
    let on = zone.date(at);
    let active: Vec<&Rule> = cat.active_on(on).collect();

    // Conflicts: same rank and same place and prefix, compatible enterprise flag.
    type RankGroup = (i32, PlaceScope, String, usize, Option<bool>);
    let mut groups: BTreeMap<RankGroup, Vec<&Rule>> = BTreeMap::new();
    for r in &active {
        groups
            .entry((
                r.priority,
                r.place.clone(),
                r.category_prefix.clone(),
                r.keywords.len(),
                r.enterprise,
            ))
            .or_default()
            .push(r);
    }
    let mut conflicts = Vec::new();
    for g in groups.values() {
        for (i, a) in g.iter().enumerate() {
            for b in &g[i + 1..] {
                if a.id != b.id {
                    conflicts.push(LintConflict {
                        rule_a: a.id.clone(),
                        rule_b: b.id.clone(),
                        reason: conflict_reason(a, b),
                    });
                }
            }
        }
    }
    for w in cat.rules().windows(2) {
        if w[0].id == w[1].id && w[0].dates_overlap(&w[1]) {
            conflicts.push(LintConflict {
                rule_a: format!("{}@{}", w[0].id, w[0].effective_from),
                rule_b: format!("{}@{}", w[1].id, w[1].effective_from),
                reason: "two versions of one rule overlap in time".into(),
            });
        }
    }

    // Gaps.
    let router = cat.router(org);
    let streets: Vec<_> = org
        .of_kind(UnitKind::StreetTown)
        .filter(|s| s.active)
        .collect();
    let leaves: Vec<_> = categories.leaves().filter(|c| c.active).collect();
    let mut gaps = GapSummary {
        cells: streets.len() * leaves.len(),
        ..Default::default()
    };
    let mut by_top: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_district: BTreeMap<String, usize> = BTreeMap::new();
    let mut facts = RouteFacts::default();
    for leaf in &leaves {
        facts.category_code.clone_from(&leaf.code);
        for s in &streets {
            facts.street_code.clone_from(&s.code);
            facts.district_code = org
                .district_of(&s.code)
                .map(|d| d.code.clone())
                .unwrap_or_default();
            if router.quick_lead_on(&facts, on).is_none() {
                gaps.gaps += 1;
                let top = categories
                    .top(&leaf.code)
                    .map(|t| t.code.clone())
                    .unwrap_or_default();
                *by_top.entry(top).or_default() += 1;
                *by_district.entry(facts.district_code.clone()).or_default() += 1;
                if gaps.sample.len() < 50 {
                    gaps.sample.push(Gap {
                        category_code: leaf.code.clone(),
                        category_name: categories.path_label(&leaf.code),
                        street_code: s.code.clone(),
                        street_name: s.name.clone(),
                    });
                }
            }
        }
    }
    let name_cat = |c: &str| {
        categories
            .get(c)
            .map(|x| x.name.clone())
            .unwrap_or_default()
    };
    let name_org = |c: &str| org.get(c).map(|x| x.name.clone()).unwrap_or_default();
    gaps.by_top_category = by_top
        .into_iter()
        .map(|(c, n)| (c.clone(), name_cat(&c), n))
        .collect();
    gaps.by_top_category
        .sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    gaps.by_district = by_district
        .into_iter()
        .map(|(c, n)| (c.clone(), name_org(&c), n))
        .collect();
    gaps.by_district
        .sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));

    // Retired units.
    let mut retired = Vec::new();
    let districts: Vec<_> = org.of_kind(UnitKind::District).collect();
    for r in cat
        .rules()
        .iter()
        .filter(|r| r.effective_to.is_none_or(|t| t > on))
    {
        let scope_district = r.place.code().and_then(|c| org.district_of(c));
        for a in &r.assignments {
            let mut push = |code: String, missing: bool| {
                retired.push(RetiredRef {
                    rule_id: r.id.clone(),
                    effective_from: r.effective_from,
                    unit_ref: a.unit.to_field(),
                    unit_name: name_org(&code),
                    unit_code: code,
                    missing,
                })
            };
            match &a.unit {
                UnitRef::Unit(c) => match org.get(c) {
                    None => push(c.clone(), true),
                    Some(u) if !u.active => push(c.clone(), false),
                    _ => {}
                },
                UnitRef::DistrictDept(slot) => {
                    let ds: Vec<_> = match scope_district {
                        Some(d) => vec![d],
                        None => districts.iter().copied().filter(|d| d.active).collect(),
                    };
                    for d in ds {
                        match router.district_dept(&d.code, slot) {
                            Some(u) if !u.active => push(u.code.clone(), false),
                            None if scope_district.is_some() => {
                                push(format!("{}{slot}", d.code), true)
                            }
                            _ => {}
                        }
                    }
                }
                UnitRef::Street => {
                    if let PlaceScope::Street(s) | PlaceScope::Community(s) = &r.place {
                        let street = org.ancestors(s).find(|u| u.kind == UnitKind::StreetTown);
                        if let Some(u) = street.filter(|u| !u.active) {
                            push(u.code.clone(), false);
                        }
                    }
                }
                UnitRef::District => {
                    if let Some(d) = scope_district.filter(|d| !d.active) {
                        push(d.code.clone(), false);
                    }
                }
                UnitRef::Ecommerce => {}
            }
        }
    }
    LintReport {
        on,
        rules_total: cat.len(),
        rules_in_force: active.len(),
        conflicts,
        gaps,
        retired_units: retired,
    }
}
