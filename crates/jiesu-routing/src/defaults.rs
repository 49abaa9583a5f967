//! The demo city's catalogue, built from per-leaf "lead options" (the reference data's
//! `leads.csv`: `street_town`, `district_department:D05`, `city_department:CD012`,
//! `state_enterprise:SE003`, `ecommerce:*`, `ecommerce:EC004`, each with a weight).
//!
//! Rules made (ids in brackets):
//! - a catch-all to the request's district (`R-ANY`, 7 days);
//! - one rule per level-1 (`T01`) and level-2 (`F0101`) category: the family's dominant
//!   non-e-commerce option — the fallback when a leaf rule cannot resolve (e.g. no firm named);
//! - one rule per leaf (`L010101`) with its main option, plus an assisting unit for dual dispatch
//!   (双派) where a street/town and a district department are almost equally likely;
//! - district overrides (`D010103-110109`): in the ecological-conservation districts, leaves that
//!   towns often handle go straight to the town;
//! - keyword rules (`K060201-SE003`): a leaf whose options include a utility or operator goes to
//!   it when the text names it (自来水, 燃气, 地铁 …); flood emergencies (积水/倒灌) at 2 hours;
//! - street rules: in areas run by an authority (北京经济技术开发区 → 经开区管委会) the
//!   street-level work goes to it (`S110115403-140201`), and every seventh street handles
//!   property-management requests itself with the district's housing department assisting
//!   (`P110101001-1101`).

use crate::catalogue::{Catalogue, PlaceScope, Rule, RuleAssignment, UnitRef};
use chrono::NaiveDate;
use jiesu_domain::category::CategoryTree;
use jiesu_domain::org::{FunctionalZone, OrgTree, UnitKind};
use jiesu_domain::ticket::{AssignmentRole, DeadlineTier};
use std::collections::BTreeMap;

/// Per-leaf lead options: (leaf code, [(option, weight)]).
pub type LeadOptions = [(String, Vec<(String, f64)>)];

/// What the demo catalogue is built from (plain data, so this crate does not depend on the
/// reference-data crate).
#[derive(Debug, Clone, Copy)]
pub struct DefaultInputs<'a> {
    /// Per-leaf lead options (`leads.csv`).
    pub lead_options: &'a LeadOptions,
    /// Tier per category code, longest prefix wins (leaf overrides and level-1 defaults);
    /// categories without one get a built-in default.
    pub tiers: &'a [(String, DeadlineTier)],
    /// Streets/towns whose street-level work goes to an authority instead of a street office:
    /// (street code, unit code), e.g. 北京经济技术开发区 (`110115403`) → its management
    /// committee (`CD002`).
    pub street_authorities: &'a [(String, String)],
    /// Every rule is in force from this Beijing date, open-ended.
    pub effective_from: NaiveDate,
}

/// Parses a lead option into a unit reference (`None` for unknown forms).
pub fn option_to_ref(option: &str) -> Option<UnitRef> {
    let (kind, arg) = match option.split_once(':') {
        Some((k, a)) => (k.trim(), a.trim()),
        None => (option.trim(), ""),
    };
    match (kind, arg) {
        ("street_town", _) => Some(UnitRef::Street),
        ("district", _) => Some(UnitRef::District),
        ("district_department", slot) if crate::catalogue::valid_slot(slot) => {
            Some(UnitRef::DistrictDept(slot.into()))
        }
        ("ecommerce", "*") | ("ecommerce", "") => Some(UnitRef::Ecommerce),
        ("city_department" | "state_enterprise" | "ecommerce" | "unit", code)
            if !code.is_empty() =>
        {
            Some(UnitRef::Unit(code.into()))
        }
        _ => None,
    }
}

/// Keywords by which a request names a utility or operator (by unit code of the reference data).
const NAMED_UNITS: &[(&str, &str)] = &[
    ("SE001", "热力集团|热力公司"),
    ("SE002", "公交集团|公交车|公交公司"),
    ("SE003", "自来水"),
    ("SE004", "燃气集团|燃气公司"),
    ("SE005", "供电公司|国网|电力公司"),
    ("SE006", "地铁"),
    ("SE007", "排水集团|排水公司"),
    ("SE008", "中国移动|移动公司"),
    ("SE009", "联通"),
    ("SE010", "电信"),
    ("SE011", "邮政|邮局"),
    ("SE013", "环卫集团"),
    ("SE014", "京港地铁"),
    ("SE015", "歌华|有线电视"),
];

/// Ecological-conservation districts when the org tree carries no zones.
const ECO_DISTRICTS: [&str; 5] = ["110109", "110116", "110117", "110118", "110119"];

fn tier_for(code: &str, tiers: &[(String, DeadlineTier)]) -> DeadlineTier {
    if let Some((_, t)) = tiers
        .iter()
        .filter(|(c, _)| code.starts_with(c.as_str()))
        .max_by_key(|(c, _)| c.len())
    {
        return *t;
    }
    match code.get(..2).unwrap_or("") {
        "27" | "17" | "18" | "01" => DeadlineTier::H24,
        "02" | "04" | "09" | "10" | "24" | "26" => DeadlineTier::D15,
        _ => DeadlineTier::D7,
    }
}

fn rule(id: String, from: NaiveDate, prefix: &str, place: PlaceScope, tier: DeadlineTier) -> Rule {
    Rule {
        id,
        effective_from: from,
        effective_to: None,
        priority: 0,
        category_prefix: prefix.into(),
        place,
        keywords: Vec::new(),
        enterprise: None,
        assignments: Vec::new(),
        tier,
        note: String::new(),
    }
}

fn lead(u: UnitRef) -> RuleAssignment {
    RuleAssignment {
        unit: u,
        role: AssignmentRole::Lead,
    }
}
fn assist(u: UnitRef) -> RuleAssignment {
    RuleAssignment {
        unit: u,
        role: AssignmentRole::Assist,
    }
}

/// Builds the demo catalogue (all rules effective from `effective_from`, open-ended). `tiers`
/// gives a tier per category code (longest prefix wins; leaves and/or level-1 codes); categories
/// without one get a built-in default. Options naming units absent from `org` are skipped.
pub fn default_catalogue(
    org: &OrgTree,
    categories: &CategoryTree,
    input: &DefaultInputs<'_>,
) -> Catalogue {
    let DefaultInputs {
        lead_options,
        tiers,
        street_authorities,
        effective_from: from,
    } = *input;
    // Leaves whose city-wide rule goes to the street, for the street authorities (leaf level
    // only: a street-scoped family rule would beat every city-wide leaf rule).
    let mut street_led: Vec<(String, DeadlineTier)> = Vec::new();
    let slot_exists = |slot: &str| {
        org.of_kind(UnitKind::DistrictDepartment)
            .any(|u| u.code.ends_with(slot))
    };
    let usable = |r: &UnitRef| match r {
        UnitRef::Unit(c) => org
            .get(c)
            .is_some_and(|u| u.active && u.kind.dispatchable()),
        UnitRef::DistrictDept(s) => slot_exists(s),
        _ => true,
    };
    // Options per leaf, parsed, usable, sorted by weight (desc; stable on input order).
    let mut leaves: BTreeMap<&str, Vec<(UnitRef, f64)>> = BTreeMap::new();
    for (leaf, opts) in lead_options {
        if categories.get(leaf).is_none() {
            continue;
        }
        let mut v: Vec<(UnitRef, f64)> = opts
            .iter()
            .filter_map(|(o, w)| option_to_ref(o).map(|r| (r, *w)))
            .filter(|(r, w)| *w > 0.0 && usable(r))
            .collect();
        v.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
        if !v.is_empty() {
            leaves.insert(leaf.as_str(), v);
        }
    }
    let mut rules = Vec::new();

    // Catch-all.
    let mut r = rule("R-ANY".into(), from, "", PlaceScope::Any, DeadlineTier::D7);
    r.assignments.push(lead(UnitRef::District));
    r.note =
        "兜底：无更具体规则时派区级12345分中心统筹 / fallback: the district's sub-centre".into();
    rules.push(r);

    // Family rules (level 1 and 2): the dominant non-e-commerce option, normalised per leaf.
    let mut family: BTreeMap<String, BTreeMap<UnitRef, f64>> = BTreeMap::new();
    for (leaf, opts) in &leaves {
        let total: f64 = opts.iter().map(|o| o.1).sum();
        for c in categories.path(leaf).skip(1) {
            let e = family.entry(c.code.clone()).or_default();
            for (r, w) in opts.iter().filter(|(r, _)| *r != UnitRef::Ecommerce) {
                *e.entry(r.clone()).or_default() += w / total;
            }
        }
    }
    for (code, opts) in &family {
        let best = opts
            .iter()
            .max_by(|a, b| {
                a.1.partial_cmp(b.1)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(b.0.cmp(a.0))
            })
            .map(|(r, _)| r.clone())
            .unwrap_or(UnitRef::DistrictDept("D03".into()));
        let level = categories.get(code).map_or(0, |c| c.level);
        let id = if level == 1 {
            format!("T{code}")
        } else {
            format!("F{code}")
        };
        let mut r = rule(id, from, code, PlaceScope::Any, tier_for(code, tiers));
        r.assignments.push(lead(best));
        r.note = format!(
            "{} 类默认承办 / family default",
            categories.path_label(code)
        );
        rules.push(r);
    }

    // Leaf rules.
    for (leaf, opts) in &leaves {
        let tier = tier_for(leaf, tiers);
        let mut r = rule(format!("L{leaf}"), from, leaf, PlaceScope::Any, tier);
        let (main, w0) = &opts[0];
        if *main == UnitRef::Street {
            street_led.push((leaf.to_string(), tier));
        }
        r.assignments.push(lead(main.clone()));
        if let Some((second, w1)) = opts.get(1) {
            let pair = [main, second];
            let dual = pair.contains(&&UnitRef::Street)
                && pair.iter().any(|x| matches!(x, UnitRef::DistrictDept(_)));
            if dual && *w1 >= 0.8 * w0 {
                r.assignments.push(assist(second.clone()));
                r.note = "双派：街乡与区级部门 / dual dispatch".into();
            }
        }
        if r.note.is_empty() {
            r.note = if *main == UnitRef::Street {
                "直派街乡 / direct to the street".into()
            } else {
                categories.path_label(leaf)
            };
        }
        rules.push(r);
    }

    // District overrides: towns in ecological districts take leaves they often handle.
    let mut eco: Vec<String> = org
        .of_kind(UnitKind::District)
        .filter(|d| d.active && d.zone == Some(FunctionalZone::EcologicalConservation))
        .map(|d| d.code.clone())
        .collect();
    if eco.is_empty() {
        eco = ECO_DISTRICTS
            .iter()
            .filter(|c| org.get(c).is_some_and(|d| d.kind == UnitKind::District))
            .map(|c| c.to_string())
            .collect();
    }
    for (leaf, opts) in &leaves {
        let (main, w0) = &opts[0];
        let street_w = opts.iter().find(|o| o.0 == UnitRef::Street).map(|o| o.1);
        if matches!(main, UnitRef::DistrictDept(_)) && street_w.is_some_and(|w| w >= 0.5 * w0) {
            for d in &eco {
                let mut r = rule(
                    format!("D{leaf}-{d}"),
                    from,
                    leaf,
                    PlaceScope::District(d.clone()),
                    tier_for(leaf, tiers),
                );
                r.assignments.push(lead(UnitRef::Street));
                r.assignments.push(assist(main.clone()));
                r.note =
                    "生态涵养区：乡镇直接承办，区级部门协办 / towns lead in ecological districts"
                        .into();
                rules.push(r);
            }
        }
    }

    // Keyword rules for named utilities and operators.
    // (Only the most likely named unit per leaf: two keyword rules for one leaf would tie.)
    for (leaf, opts) in &leaves {
        let named = opts.iter().skip(1).find_map(|(r0, _)| match r0 {
            UnitRef::Unit(code) => NAMED_UNITS
                .iter()
                .find(|(c, _)| c == code)
                .map(|(_, kw)| (r0, code, kw)),
            _ => None,
        });
        if let Some((r0, code, kw)) = named {
            let mut r = rule(
                format!("K{leaf}-{code}"),
                from,
                leaf,
                PlaceScope::Any,
                tier_for(leaf, tiers),
            );
            r.keywords.push((*kw).into());
            r.assignments.push(lead(r0.clone()));
            r.note = "诉求中点名的企业直接承办 / the named operator handles it".into();
            rules.push(r);
        }
    }
    // Flood emergencies.
    for leaf in ["270101", "270103"] {
        if !leaves.contains_key(leaf) {
            continue;
        }
        let mut r = rule(
            format!("K{leaf}-FLOOD"),
            from,
            leaf,
            PlaceScope::Any,
            DeadlineTier::H2,
        );
        // Two conditions, so it also beats a one-keyword operator rule for the same leaf.
        r.keywords.push("积水|进水|水深".into());
        r.keywords.push("倒灌|被困|淹|没过膝".into());
        r.assignments.push(lead(UnitRef::Street));
        if slot_exists("D13") {
            r.assignments
                .push(assist(UnitRef::DistrictDept("D13".into())));
        }
        r.note = "防汛险情：街乡先期处置，水务局协办，2小时 / flood emergency".into();
        rules.push(r);
    }

    // Street rules: authorities taking the street-level work of their area.
    let mut streets: Vec<_> = org
        .of_kind(UnitKind::StreetTown)
        .filter(|s| s.active)
        .collect();
    streets.sort_by(|a, b| a.code.cmp(&b.code));
    let authority_streets: Vec<&str> = street_authorities.iter().map(|(s, _)| s.as_str()).collect();
    for (street, authority) in street_authorities {
        let ok = org
            .get(street)
            .is_some_and(|u| u.kind == UnitKind::StreetTown)
            && usable(&UnitRef::Unit(authority.clone()));
        if !ok {
            continue;
        }
        let name = org
            .get(authority)
            .map(|u| u.name.clone())
            .unwrap_or_default();
        for (code, tier) in &street_led {
            let mut r = rule(
                format!("S{street}-{code}"),
                from,
                code,
                PlaceScope::Street(street.clone()),
                *tier,
            );
            r.assignments.push(lead(UnitRef::Unit(authority.clone())));
            r.note =
                format!("本区域街乡职责由{name}承办 / the area's authority does the street's work");
            rules.push(r);
        }
    }
    let property: Vec<String> = categories
        .all()
        .iter()
        .filter(|c| {
            c.level == 2
                && categories
                    .top(&c.code)
                    .is_some_and(|t| t.name.contains("物业"))
        })
        .map(|c| c.code.clone())
        .take(1)
        .collect();
    for p in &property {
        for s in streets.iter().step_by(7) {
            if authority_streets.contains(&s.code.as_str()) {
                continue;
            }
            let mut r = rule(
                format!("P{}-{p}", s.code),
                from,
                p,
                PlaceScope::Street(s.code.clone()),
                tier_for(p, tiers),
            );
            r.assignments.push(lead(UnitRef::Street));
            if slot_exists("D01") {
                r.assignments
                    .push(assist(UnitRef::DistrictDept("D01".into())));
            }
            r.note = "街道物业管理联席会统一承办 / the street's property-management board".into();
            rules.push(r);
        }
    }
    Catalogue::new(rules)
}
