//! The organisation: every unit a ticket can be dispatched to, as the domain's [`Unit`]s.
//!
//! | kind | count | codes | parent |
//! |---|---|---|---|
//! | `Centre` | 1 | `12345` (北京市民热线服务中心) | — |
//! | `District` | 16 | 6-digit 区划代码 | centre |
//! | `DistrictDepartment` | 16 × 24 | `{district}D{nn}`, e.g. `110105D01` 朝阳区住房城乡建设委 | district |
//! | `StreetTown` | 349 (343 + 6 special zones) | 9-digit | district |
//! | `Community` | 7,535 | 12-digit | street/town |
//! | `CityDepartment` | 65 | `CD001`…`CD065` | centre |
//! | `StateEnterprise` | 49 | `SE001`…`SE049` | centre |
//! | `Ecommerce` | 60 | `EC001`…`EC060` | centre |
//!
//! Departments and firms are our own plausible list (real names where Beijing's report gives
//! them); files under `data/units/`.

use crate::divisions::{divisions, functional_zone};
use crate::{err, read_csv, shipped, DataError};
use jiesu_domain::org::{OrgTree, Unit, UnitKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

const CITY_DEPARTMENTS: &str = include_str!("../data/units/city_departments.csv");
const STATE_ENTERPRISES: &str = include_str!("../data/units/state_enterprises.csv");
const ECOMMERCE: &str = include_str!("../data/units/ecommerce.csv");
const SLOTS: &str = include_str!("../data/units/district_department_slots.csv");

/// The hotline centre's unit code.
pub const CENTRE_CODE: &str = "12345";
/// The hotline centre's name.
pub const CENTRE_NAME: &str = "北京市民热线服务中心";

/// A department slot that exists in every district (`D01` 住房城乡建设委 … `D24` 政务服务局).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentSlot {
    /// `D01` … `D24`.
    pub slot: String,
    /// Name suffix after the district name, e.g. 住房城乡建设委 → 朝阳区住房城乡建设委.
    pub name: String,
    /// The full institutional name pattern (区住房和城乡建设委员会 …).
    pub description: String,
}

/// Details of a city department or firm beyond what [`Unit`] carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organisation {
    /// `CD001`, `SE001`, `EC001` …
    pub code: String,
    /// The short name used in tickets and reports (市交管局, 热力集团, 京东 …) = the unit's name.
    pub name: String,
    /// Full official or trading name.
    pub full_name: String,
    pub kind: UnitKind,
    /// E-commerce firms only: relative popularity, used to pick a firm for `ecommerce:*` leads.
    pub popularity: Option<f64>,
    /// E-commerce firms only: retail, local_services, mobility, travel, logistics, housing, …
    pub sector: Option<String>,
}

#[derive(Deserialize)]
struct OrgRow {
    code: String,
    name: String,
    full_name: String,
}

#[derive(Deserialize)]
struct EcRow {
    code: String,
    name: String,
    full_name: String,
    popularity: f64,
    sector: String,
}

fn parse_orgs(
    file: &'static str,
    text: &str,
    kind: UnitKind,
    prefix: &str,
) -> Result<Vec<Organisation>, DataError> {
    let rows: Vec<OrgRow> = read_csv(file, text)?;
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| {
            check_code(file, i + 2, &r.code, prefix, i + 1)?;
            Ok(Organisation {
                code: r.code,
                name: r.name,
                full_name: r.full_name,
                kind,
                popularity: None,
                sector: None,
            })
        })
        .collect()
}

fn check_code(
    file: &'static str,
    line: usize,
    code: &str,
    prefix: &str,
    n: usize,
) -> Result<(), DataError> {
    let want = format!("{prefix}{n:03}");
    if code != want {
        return Err(err(file, line, format!("code {code}, expected {want}")));
    }
    Ok(())
}

/// Parses the department and firm files.
pub fn parse_organisations() -> Result<Vec<Organisation>, DataError> {
    let mut out = parse_orgs(
        "units/city_departments.csv",
        CITY_DEPARTMENTS,
        UnitKind::CityDepartment,
        "CD",
    )?;
    out.extend(parse_orgs(
        "units/state_enterprises.csv",
        STATE_ENTERPRISES,
        UnitKind::StateEnterprise,
        "SE",
    )?);
    let file = "units/ecommerce.csv";
    let rows: Vec<EcRow> = read_csv(file, ECOMMERCE)?;
    for (i, r) in rows.into_iter().enumerate() {
        check_code(file, i + 2, &r.code, "EC", i + 1)?;
        if !(r.popularity > 0.0 && r.popularity.is_finite()) {
            return Err(err(file, i + 2, "popularity must be positive"));
        }
        out.push(Organisation {
            code: r.code,
            name: r.name,
            full_name: r.full_name,
            kind: UnitKind::Ecommerce,
            popularity: Some(r.popularity),
            sector: Some(r.sector),
        });
    }
    Ok(out)
}

/// Parses the district department slots.
pub fn parse_slots() -> Result<Vec<DepartmentSlot>, DataError> {
    let file = "units/district_department_slots.csv";
    let rows: Vec<DepartmentSlot> = read_csv(file, SLOTS)?;
    for (i, r) in rows.iter().enumerate() {
        let want = format!("D{:02}", i + 1);
        if r.slot != want {
            return Err(err(
                file,
                i + 2,
                format!("slot {}, expected {want}", r.slot),
            ));
        }
    }
    Ok(rows)
}

/// City departments, state firms and e-commerce firms, in code order.
pub fn organisations() -> &'static [Organisation] {
    static O: OnceLock<Vec<Organisation>> = OnceLock::new();
    O.get_or_init(|| shipped(parse_organisations()))
}

/// Details of a city department or firm by code.
pub fn organisation(code: &str) -> Option<&'static Organisation> {
    static IDX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    let idx = IDX.get_or_init(|| {
        organisations()
            .iter()
            .enumerate()
            .map(|(i, o)| (o.code.as_str(), i))
            .collect()
    });
    idx.get(code).map(|&i| &organisations()[i])
}

/// The 60 e-commerce and other firms, in code order.
pub fn ecommerce_firms() -> &'static [Organisation] {
    let all = organisations();
    let start = all
        .iter()
        .position(|o| o.kind == UnitKind::Ecommerce)
        .unwrap_or(all.len());
    &all[start..]
}

/// Picks an e-commerce firm by popularity (for `ecommerce:*` leads): `u` is a uniform number in
/// `[0, 1)` from the caller's random source (values outside are clamped).
pub fn pick_ecommerce(u: f64) -> &'static Organisation {
    static CUM: OnceLock<Vec<f64>> = OnceLock::new();
    let firms = ecommerce_firms();
    let cum = CUM.get_or_init(|| {
        let total: f64 = firms.iter().filter_map(|f| f.popularity).sum();
        let mut acc = 0.0;
        firms
            .iter()
            .map(|f| {
                acc += f.popularity.unwrap_or(0.0) / total;
                acc
            })
            .collect()
    });
    let u = if u.is_finite() {
        u.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let i = cum.partition_point(|&c| c <= u).min(firms.len() - 1);
    &firms[i]
}

/// The 24 department slots every district has.
pub fn district_department_slots() -> &'static [DepartmentSlot] {
    static S: OnceLock<Vec<DepartmentSlot>> = OnceLock::new();
    S.get_or_init(|| shipped(parse_slots()))
}

/// The unit code of a district's department slot: (`110105`, `D01`) → `110105D01`.
pub fn district_department_code(district: &str, slot: &str) -> String {
    format!("{district}{slot}")
}

/// Builds every unit, in this order: centre, districts, district departments, streets/towns,
/// communities, city departments, state firms, e-commerce firms.
pub fn build_units() -> Result<Vec<Unit>, DataError> {
    let div = divisions();
    let slots = parse_slots()?;
    let orgs = parse_organisations()?;
    let total_pop: u64 = div.districts.iter().map(|d| d.population).sum();
    let mut units = Vec::with_capacity(
        1 + div.districts.len() * (1 + slots.len())
            + div.streets.len()
            + div.communities.len()
            + orgs.len(),
    );
    let unit = |code: String, name: String, kind, parent: Option<&str>| Unit {
        code,
        name,
        kind,
        parent: parent.map(str::to_string),
        population: None,
        zone: None,
        active: true,
    };
    units.push(Unit {
        population: Some(total_pop),
        ..unit(
            CENTRE_CODE.into(),
            CENTRE_NAME.into(),
            UnitKind::Centre,
            None,
        )
    });
    for d in &div.districts {
        units.push(Unit {
            population: Some(d.population),
            zone: Some(d.zone),
            ..unit(
                d.code.clone(),
                d.name.clone(),
                UnitKind::District,
                Some(CENTRE_CODE),
            )
        });
    }
    for d in &div.districts {
        for s in &slots {
            units.push(Unit {
                zone: Some(d.zone),
                ..unit(
                    district_department_code(&d.code, &s.slot),
                    format!("{}{}", d.name, s.name),
                    UnitKind::DistrictDepartment,
                    Some(&d.code),
                )
            });
        }
    }
    for s in &div.streets {
        units.push(Unit {
            zone: functional_zone(&s.district_code),
            ..unit(
                s.code.clone(),
                s.name.clone(),
                UnitKind::StreetTown,
                Some(&s.district_code),
            )
        });
    }
    for c in &div.communities {
        units.push(Unit {
            zone: functional_zone(&c.code[..6]),
            ..unit(
                c.code.clone(),
                c.name.clone(),
                UnitKind::Community,
                Some(&c.street_code),
            )
        });
    }
    for o in orgs {
        units.push(unit(o.code, o.name, o.kind, Some(CENTRE_CODE)));
    }
    Ok(units)
}

fn cached_units() -> &'static [Unit] {
    static U: OnceLock<Vec<Unit>> = OnceLock::new();
    U.get_or_init(|| shipped(build_units()))
}

/// Every unit (a fresh copy of the cached list; see [`build_units`] for the order).
pub fn units() -> Vec<Unit> {
    cached_units().to_vec()
}

/// The organisation tree, shared (built once).
pub fn org() -> &'static OrgTree {
    static T: OnceLock<OrgTree> = OnceLock::new();
    T.get_or_init(|| OrgTree::new(cached_units().to_vec()))
}

/// The organisation tree (a fresh copy of the cached one).
pub fn org_tree() -> OrgTree {
    org().clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn counts_per_kind() {
        let t = org();
        let n = |k| t.of_kind(k).count();
        assert_eq!(n(UnitKind::Centre), 1);
        assert_eq!(n(UnitKind::District), 16);
        assert_eq!(n(UnitKind::DistrictDepartment), 16 * 24);
        assert_eq!(n(UnitKind::StreetTown), 349);
        assert_eq!(n(UnitKind::Community), 7535);
        assert_eq!(n(UnitKind::CityDepartment), 65);
        assert_eq!(n(UnitKind::StateEnterprise), 49);
        assert_eq!(n(UnitKind::Ecommerce), 60);
        assert_eq!(n(UnitKind::Other), 0);
        assert_eq!(
            t.of_kind(UnitKind::StreetTown)
                .filter(|u| !crate::is_special_zone(&u.code))
                .count(),
            343
        );
    }

    #[test]
    fn codes_are_unique_and_parents_exist() {
        let us = units();
        let mut seen = HashSet::new();
        for u in &us {
            assert!(seen.insert(u.code.as_str()), "duplicate {}", u.code);
        }
        let t = org();
        for u in &us {
            match &u.parent {
                None => assert_eq!(u.kind, UnitKind::Centre),
                Some(p) => {
                    let parent = t
                        .get(p)
                        .unwrap_or_else(|| panic!("{} has no parent", u.code));
                    let want = match u.kind {
                        UnitKind::District
                        | UnitKind::CityDepartment
                        | UnitKind::StateEnterprise
                        | UnitKind::Ecommerce => UnitKind::Centre,
                        UnitKind::DistrictDepartment | UnitKind::StreetTown => UnitKind::District,
                        UnitKind::Community => UnitKind::StreetTown,
                        k => panic!("unexpected kind {k:?}"),
                    };
                    assert_eq!(parent.kind, want, "{}", u.code);
                }
            }
        }
        // every unit reaches the centre
        for u in &us {
            assert!(t.is_within(&u.code, CENTRE_CODE));
        }
    }

    #[test]
    fn names_codes_and_populations() {
        let t = org();
        assert_eq!(t.get("12345").unwrap().name, CENTRE_NAME);
        assert_eq!(t.get("12345").unwrap().population, Some(21_893_095));
        assert_eq!(t.get("110105D01").unwrap().name, "朝阳区住房城乡建设委");
        assert_eq!(t.get("110108D07").unwrap().name, "海淀区交通支队");
        assert_eq!(t.get("CD001").unwrap().name, "市交管局");
        assert_eq!(t.get("SE001").unwrap().name, "热力集团");
        assert_eq!(t.get("SE002").unwrap().name, "公交集团");
        assert_eq!(t.get("EC001").unwrap().name, "京东");
        assert_eq!(t.get("110105").unwrap().population, Some(3_452_460));
        assert_eq!(
            t.district_of("110105001024").unwrap().code,
            "110105",
            "community → district"
        );
        assert_eq!(
            organisation("CD001").unwrap().full_name,
            "北京市公安局公安交通管理局"
        );
        // every district has all 24 slots
        for d in t.of_kind(UnitKind::District) {
            let deps: Vec<_> = t
                .children(&d.code)
                .filter(|u| u.kind == UnitKind::DistrictDepartment)
                .collect();
            assert_eq!(deps.len(), 24, "{}", d.name);
            assert!(deps.iter().all(|u| u.name.starts_with(&d.name)));
        }
        // names unique among departments and firms
        let names: HashSet<_> = organisations().iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names.len(), organisations().len());
    }

    #[test]
    fn ecommerce_pick_follows_popularity() {
        assert_eq!(ecommerce_firms().len(), 60);
        assert_eq!(pick_ecommerce(0.0).code, "EC001");
        assert_eq!(pick_ecommerce(0.999_999).code, "EC060");
        assert_eq!(pick_ecommerce(7.0).code, "EC060");
        assert_eq!(pick_ecommerce(f64::NAN).code, "EC001");
        let mut counts: HashMap<&str, usize> = HashMap::new();
        let n = 100_000;
        for i in 0..n {
            let u = (i as f64 + 0.5) / n as f64;
            *counts.entry(pick_ecommerce(u).code.as_str()).or_default() += 1;
        }
        let total: f64 = ecommerce_firms().iter().filter_map(|f| f.popularity).sum();
        for f in ecommerce_firms() {
            let want = f.popularity.unwrap() / total;
            let got = counts.get(f.code.as_str()).copied().unwrap_or(0) as f64 / n as f64;
            assert!((want - got).abs() < 0.001, "{} {want} {got}", f.name);
        }
    }
}
