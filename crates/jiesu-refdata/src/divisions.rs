//! Beijing's administrative divisions (2023 统计用区划代码) and the 2020 census per district.
//!
//! Source files (copied verbatim from the project's shared data, licenses in
//! `data/divisions/LICENSE-NOTICE.md`): `districts.csv` (16), `streets.csv` (349 = 343 streets
//! and towns + 6 development/special zones), `communities_villages.csv` (7,535),
//! `district_population_census2020.csv` (16).

use crate::{err, read_csv, shipped, DataError};
use jiesu_domain::org::FunctionalZone;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

const DISTRICTS: &str = include_str!("../data/divisions/districts.csv");
const STREETS: &str = include_str!("../data/divisions/streets.csv");
const COMMUNITIES: &str = include_str!("../data/divisions/communities_villages.csv");
const CENSUS: &str = include_str!("../data/divisions/district_population_census2020.csv");

/// What kind of 乡级 unit a street-level division is (from its name suffix and code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreetKind {
    /// 街道 — urban street office.
    Street,
    /// 镇 — town.
    Town,
    /// 地区 — 地区办事处 (a 乡 with a street office).
    Area,
    /// 乡 — township.
    Township,
    /// 开发区/特殊区域 — one of the 6 development or special zones (code digits 7–9 = `4xx`).
    SpecialZone,
}

impl StreetKind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "街道" => StreetKind::Street,
            "镇" => StreetKind::Town,
            "地区" => StreetKind::Area,
            "乡" => StreetKind::Township,
            "开发区/特殊区域" => StreetKind::SpecialZone,
            _ => return None,
        })
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            StreetKind::Street => "街道",
            StreetKind::Town => "镇",
            StreetKind::Area => "地区",
            StreetKind::Township => "乡",
            StreetKind::SpecialZone => "开发区/特殊区域",
        }
    }
    /// Rural-leaning kinds (towns, townships, 地区) — where 农村管理 requests come from.
    pub fn is_rural(self) -> bool {
        matches!(
            self,
            StreetKind::Town | StreetKind::Area | StreetKind::Township
        )
    }
}

/// What kind of village-level unit a community is (NBS rule on code digits 10–12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommunityKind {
    /// 居委会 (`001`–`199`) — urban residents' committee.
    Residents,
    /// 村委会 (`200`–`399`) — village committee.
    Village,
    /// 虚拟/其他 (`4xx`) — e.g. 生活区, 机场工作区社区.
    Other,
}

impl CommunityKind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "居委会" => CommunityKind::Residents,
            "村委会" => CommunityKind::Village,
            "虚拟/其他" => CommunityKind::Other,
            _ => return None,
        })
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            CommunityKind::Residents => "居委会",
            CommunityKind::Village => "村委会",
            CommunityKind::Other => "虚拟/其他",
        }
    }
}

/// One district (区) with its 2020 census figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct District {
    /// 6-digit code, e.g. `110105`.
    pub code: String,
    /// e.g. 朝阳区.
    pub name: String,
    pub zone: FunctionalZone,
    /// 2020 census resident population.
    pub population: u64,
    pub male: u64,
    pub female: u64,
    pub urban: u64,
    pub rural: u64,
    pub family_households: u64,
    pub pct_age_0_14: f64,
    pub pct_age_15_64: f64,
    pub pct_age_65_plus: f64,
}

/// One street, town or special zone (乡级).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Street {
    /// 9-digit code, e.g. `110105001`.
    pub code: String,
    pub name: String,
    pub district_code: String,
    pub kind: StreetKind,
}

impl Street {
    /// One of the 6 development/special zones (weight them low when placing requests).
    pub fn is_special_zone(&self) -> bool {
        self.kind == StreetKind::SpecialZone
    }
}

/// One community or village (村级).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Community {
    /// 12-digit code, e.g. `110101001001`.
    pub code: String,
    /// As published, e.g. 多福巷社区居委会 (see [`short_place_name`]).
    pub name: String,
    pub street_code: String,
    pub kind: CommunityKind,
}

/// All divisions, parsed once.
#[derive(Debug, Clone)]
pub struct Divisions {
    pub districts: Vec<District>,
    pub streets: Vec<Street>,
    pub communities: Vec<Community>,
    street_index: HashMap<String, usize>,
    community_index: HashMap<String, usize>,
}

impl Divisions {
    pub fn district(&self, code: &str) -> Option<&District> {
        self.districts.iter().find(|d| d.code == code)
    }
    pub fn street(&self, code: &str) -> Option<&Street> {
        self.street_index.get(code).map(|&i| &self.streets[i])
    }
    pub fn community(&self, code: &str) -> Option<&Community> {
        self.community_index
            .get(code)
            .map(|&i| &self.communities[i])
    }
    /// The streets/towns (and zones) of a district, in code order.
    pub fn streets_of<'a>(&'a self, district: &'a str) -> impl Iterator<Item = &'a Street> + 'a {
        self.streets
            .iter()
            .filter(move |s| s.district_code == district)
    }
    /// The communities of a street, in code order.
    pub fn communities_of<'a>(
        &'a self,
        street: &'a str,
    ) -> impl Iterator<Item = &'a Community> + 'a {
        self.communities
            .iter()
            .filter(move |c| c.street_code == street)
    }
}

/// Beijing's functional zone of a district code (DOMAIN.md §2); `None` for a non-district code.
pub fn functional_zone(district_code: &str) -> Option<FunctionalZone> {
    Some(match district_code {
        // 中心城区及副中心: 东城 西城 朝阳 丰台 石景山 海淀 + 通州 (副中心)
        "110101" | "110102" | "110105" | "110106" | "110107" | "110108" | "110112" => {
            FunctionalZone::CoreAndSubCentre
        }
        // 平原新城: 房山 顺义 昌平 大兴 (+经开区, inside 大兴)
        "110111" | "110113" | "110114" | "110115" => FunctionalZone::PlainNewTowns,
        // 生态涵养区: 门头沟 怀柔 平谷 密云 延庆
        "110109" | "110116" | "110117" | "110118" | "110119" => {
            FunctionalZone::EcologicalConservation
        }
        _ => return None,
    })
}

/// Whether a street-level code is one of the 6 development/special zones (code digit 7 = `4`):
/// 北京经济技术开发区, 中关村大兴生物医药产业基地, 大兴经济开发区, 大兴国际机场, 北京雁栖经济开发区,
/// 中关村科技园区密云园. They are kept in the tree as `StreetTown` units; the demo generator
/// should weight them low. Codes of any other length are never special zones.
pub fn is_special_zone(code: &str) -> bool {
    code.len() == 9 && code.bytes().all(|b| b.is_ascii_digit()) && code.as_bytes()[6] == b'4'
}

/// The everyday form of a published community or village name, as people say it in a request:
/// `多福巷社区居委会` → `多福巷社区`, `…村民委员会` / `…村委会` → `…村`, `…居民委员会` → `…社区`
/// unless the stem already ends in 社区/村/区. Names without such a suffix are returned unchanged.
pub fn short_place_name(name: &str) -> String {
    for (suffix, repl) in [
        ("社区居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("村民委员会", "村"),
        ("村委会", "村"),
        ("居民委员会", "社区"),
        ("居委会", "社区"),
    ] {
        if let Some(stem) = name.strip_suffix(suffix) {
            if stem.is_empty() {
                return name.to_string();
            }
            if stem.ends_with('村') || stem.ends_with("社区") || stem.ends_with('区') {
                return stem.to_string();
            }
            return format!("{stem}{repl}");
        }
    }
    name.to_string()
}

#[derive(Deserialize)]
struct DistrictRow {
    code: String,
    name: String,
}

#[derive(Deserialize)]
struct CensusRow {
    code: String,
    name: String,
    population: u64,
    male: u64,
    female: u64,
    urban: u64,
    rural: u64,
    family_households: u64,
    #[allow(dead_code)]
    family_household_population: u64,
    pct_age_0_14: f64,
    pct_age_15_64: f64,
    pct_age_65_plus: f64,
}

#[derive(Deserialize)]
struct StreetRow {
    code: String,
    name: String,
    district_code: String,
    #[allow(dead_code)]
    district_name: String,
    kind: String,
    is_special_zone: String,
}

#[derive(Deserialize)]
struct CommunityRow {
    code: String,
    name: String,
    street_code: String,
    #[allow(dead_code)]
    street_name: String,
    #[allow(dead_code)]
    district_code: String,
    #[allow(dead_code)]
    district_name: String,
    kind: String,
}

/// Parses the four division files. Checks codes, parents and the special-zone flag.
pub fn parse() -> Result<Divisions, DataError> {
    let drows: Vec<DistrictRow> = read_csv("divisions/districts.csv", DISTRICTS)?;
    let census: Vec<CensusRow> = read_csv("divisions/district_population_census2020.csv", CENSUS)?;
    let mut districts = Vec::with_capacity(drows.len());
    for (i, d) in drows.into_iter().enumerate() {
        let f = "divisions/districts.csv";
        if d.code.len() != 6 {
            return Err(err(
                f,
                i + 2,
                format!("district code {} is not 6 digits", d.code),
            ));
        }
        let zone = functional_zone(&d.code)
            .ok_or_else(|| err(f, i + 2, format!("no functional zone for {}", d.code)))?;
        let c = census.iter().find(|c| c.code == d.code).ok_or_else(|| {
            err(
                "divisions/district_population_census2020.csv",
                0,
                format!("no census row for {}", d.code),
            )
        })?;
        if c.name != d.name {
            return Err(err(
                "divisions/district_population_census2020.csv",
                0,
                format!(
                    "{} is {} in the census but {} in districts.csv",
                    d.code, c.name, d.name
                ),
            ));
        }
        districts.push(District {
            code: d.code,
            name: d.name,
            zone,
            population: c.population,
            male: c.male,
            female: c.female,
            urban: c.urban,
            rural: c.rural,
            family_households: c.family_households,
            pct_age_0_14: c.pct_age_0_14,
            pct_age_15_64: c.pct_age_15_64,
            pct_age_65_plus: c.pct_age_65_plus,
        });
    }

    let srows: Vec<StreetRow> = read_csv("divisions/streets.csv", STREETS)?;
    let mut streets = Vec::with_capacity(srows.len());
    let mut street_index = HashMap::with_capacity(srows.len());
    for (i, s) in srows.into_iter().enumerate() {
        let f = "divisions/streets.csv";
        let line = i + 2;
        if s.code.len() != 9 || !s.code.starts_with(&s.district_code) {
            return Err(err(f, line, format!("bad street code {}", s.code)));
        }
        if !districts.iter().any(|d| d.code == s.district_code) {
            return Err(err(
                f,
                line,
                format!("unknown district {}", s.district_code),
            ));
        }
        let kind = StreetKind::parse(&s.kind)
            .ok_or_else(|| err(f, line, format!("unknown street kind {}", s.kind)))?;
        let flagged = s.is_special_zone == "True";
        if flagged != is_special_zone(&s.code) || flagged != (kind == StreetKind::SpecialZone) {
            return Err(err(
                f,
                line,
                format!("special-zone flag of {} disagrees", s.code),
            ));
        }
        if street_index.insert(s.code.clone(), streets.len()).is_some() {
            return Err(err(f, line, format!("duplicate street code {}", s.code)));
        }
        streets.push(Street {
            code: s.code,
            name: s.name,
            district_code: s.district_code,
            kind,
        });
    }

    let crows: Vec<CommunityRow> = read_csv("divisions/communities_villages.csv", COMMUNITIES)?;
    let mut communities = Vec::with_capacity(crows.len());
    let mut community_index = HashMap::with_capacity(crows.len());
    for (i, c) in crows.into_iter().enumerate() {
        let f = "divisions/communities_villages.csv";
        let line = i + 2;
        if c.code.len() != 12 || !c.code.starts_with(&c.street_code) {
            return Err(err(f, line, format!("bad community code {}", c.code)));
        }
        if !street_index.contains_key(&c.street_code) {
            return Err(err(f, line, format!("unknown street {}", c.street_code)));
        }
        let kind = CommunityKind::parse(&c.kind)
            .ok_or_else(|| err(f, line, format!("unknown community kind {}", c.kind)))?;
        if community_index
            .insert(c.code.clone(), communities.len())
            .is_some()
        {
            return Err(err(f, line, format!("duplicate community code {}", c.code)));
        }
        communities.push(Community {
            code: c.code,
            name: c.name,
            street_code: c.street_code,
            kind,
        });
    }
    Ok(Divisions {
        districts,
        streets,
        communities,
        street_index,
        community_index,
    })
}

/// All divisions (parsed on first use, then cached).
pub fn divisions() -> &'static Divisions {
    static D: OnceLock<Divisions> = OnceLock::new();
    D.get_or_init(|| shipped(parse()))
}

/// The 16 districts in code order.
pub fn districts() -> &'static [District] {
    &divisions().districts
}

/// The 349 street-level divisions (343 streets/towns + 6 special zones) in code order.
pub fn streets() -> &'static [Street] {
    &divisions().streets
}

/// The 7,535 communities and villages in code order.
pub fn communities() -> &'static [Community] {
    &divisions().communities
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_the_readme() {
        let d = divisions();
        assert_eq!(d.districts.len(), 16);
        assert_eq!(d.streets.len(), 349);
        assert_eq!(d.streets.iter().filter(|s| s.is_special_zone()).count(), 6);
        assert_eq!(
            d.streets.iter().filter(|s| !s.is_special_zone()).count(),
            343
        );
        assert_eq!(d.communities.len(), 7535);
        let by = |k| d.communities.iter().filter(|c| c.kind == k).count();
        assert_eq!(by(CommunityKind::Residents), 3701);
        assert_eq!(by(CommunityKind::Village), 3774);
        assert_eq!(by(CommunityKind::Other), 60);
        let kinds = |k| d.streets.iter().filter(|s| s.kind == k).count();
        assert_eq!(kinds(StreetKind::Street), 165);
        assert_eq!(kinds(StreetKind::Town), 107);
        assert_eq!(kinds(StreetKind::Area), 56);
        assert_eq!(kinds(StreetKind::Township), 15);
    }

    #[test]
    fn census_sums_to_beijing() {
        let total: u64 = districts().iter().map(|d| d.population).sum();
        assert_eq!(total, 21_893_095);
        let chaoyang = divisions().district("110105").unwrap();
        assert_eq!(chaoyang.name, "朝阳区");
        assert_eq!(chaoyang.population, 3_452_460);
    }

    #[test]
    fn functional_zones_follow_domain_md() {
        let count = |z| districts().iter().filter(|d| d.zone == z).count();
        assert_eq!(count(FunctionalZone::CoreAndSubCentre), 7);
        assert_eq!(count(FunctionalZone::PlainNewTowns), 4);
        assert_eq!(count(FunctionalZone::EcologicalConservation), 5);
        assert_eq!(
            functional_zone("110112"),
            Some(FunctionalZone::CoreAndSubCentre)
        );
        assert_eq!(functional_zone("110000"), None);
    }

    #[test]
    fn special_zones() {
        assert!(is_special_zone("110115403"));
        assert!(is_special_zone("110118400"));
        assert!(!is_special_zone("110105001"));
        assert!(!is_special_zone("110115"));
        assert!(!is_special_zone("11011540x"));
        let names: Vec<&str> = streets()
            .iter()
            .filter(|s| s.is_special_zone())
            .map(|s| s.name.as_str())
            .collect();
        assert!(names.contains(&"北京经济技术开发区"));
        assert!(names.contains(&"大兴国际机场"));
    }

    #[test]
    fn every_district_has_streets_and_every_street_has_communities() {
        let d = divisions();
        for dist in &d.districts {
            assert!(d.streets_of(&dist.code).count() >= 9, "{}", dist.name);
        }
        for s in &d.streets {
            assert!(
                d.communities_of(&s.code).count() >= 1,
                "{} has no community",
                s.name
            );
        }
    }

    #[test]
    fn short_names() {
        assert_eq!(short_place_name("多福巷社区居委会"), "多福巷社区");
        assert_eq!(
            short_place_name("南湖东园第一社区居民委员会"),
            "南湖东园第一社区"
        );
        assert_eq!(short_place_name("上庄村委会"), "上庄村");
        assert_eq!(short_place_name("东小口村村民委员会"), "东小口村");
        assert_eq!(short_place_name("和平里居委会"), "和平里社区");
        assert_eq!(short_place_name("机场工作区社区"), "机场工作区社区");
        assert_eq!(short_place_name("居委会"), "居委会");
        // every shipped name shortens to something non-empty and no longer than the original
        for c in communities() {
            let s = short_place_name(&c.name);
            assert!(!s.is_empty() && s.chars().count() <= c.name.chars().count());
        }
    }
}
