//! Calibration for the demo-city generator and the duty catalogue.
//!
//! Files (all under `data/`):
//!
//! | file | one row per | what |
//! |---|---|---|
//! | `category_profiles.csv` | level-1 category | three-year volume (→ share), direct-answer share, callback resolution and satisfaction, default deadline tier, 12 monthly multipliers, functional-zone factors |
//! | `categories.csv` (`weight`) | node | relative weight within the parent |
//! | `leaves.csv` | leaf | optional overrides of direct share, resolution, satisfaction and tier |
//! | `leads.csv` | (leaf, option) | who leads a dispatched ticket of the leaf, with weights |
//! | `templates.csv` | template | request type, title and text with placeholders |
//! | `district_profiles.csv` | district | share of district-handled volume and department share |
//! | `overall.csv` | figure | city-wide figures (volume, channels, callback, monthly shape) |
//!
//! How a generator uses them: choose the month's volume from [`Overall`]; choose a level-1
//! category ∝ `share × seasonal[month]` (× `zone_factor` of the place's zone); walk down by
//! weights (or pick a leaf ∝ [`LeafProfile::share`]); answer directly with probability
//! [`LeafProfile::direct_share`], otherwise dispatch to a lead picked from
//! [`LeafProfile::leads`] and resolved with [`LeadTarget::resolve`]; at callback draw resolved /
//! satisfied from [`LeafProfile::resolution`] / [`LeafProfile::satisfaction`].

use crate::categories;
use crate::divisions::{divisions, functional_zone};
use crate::units::{district_department_code, district_department_slots, organisation};
use crate::{err, read_csv, shipped, DataError};
use jiesu_domain::org::{FunctionalZone, UnitKind};
use jiesu_domain::ticket::{DeadlineTier, RequestType};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

const CATEGORY_PROFILES: &str = include_str!("../data/category_profiles.csv");
const LEAVES: &str = include_str!("../data/leaves.csv");
const LEADS: &str = include_str!("../data/leads.csv");
const TEMPLATES: &str = include_str!("../data/templates.csv");
const DISTRICT_PROFILES: &str = include_str!("../data/district_profiles.csv");
const OVERALL: &str = include_str!("../data/overall.csv");

/// The placeholders a template may use. `{district}` 区名, `{street}` 街乡镇名, `{community}` 社区/村
/// (see [`crate::short_place_name`]), `{road}` 道路名, `{estate}` 小区名, `{shop}` 商户名,
/// `{company}` 企业或平台名 (when the lead is a firm, use that firm's name), `{n}` a small integer
/// (2–12), `{time}` a recent time expression (昨天晚上, 今天上午 …).
pub const PLACEHOLDERS: [&str; 9] = [
    "district",
    "street",
    "community",
    "road",
    "estate",
    "shop",
    "company",
    "n",
    "time",
];

/// The unit code that leads tickets placed in the 北京经济技术开发区 special zone: its
/// management committee (经开区管委会), which Beijing's report counts among city organs.
pub const ECONOMIC_ZONE_STREET: &str = "110115403";
/// See [`ECONOMIC_ZONE_STREET`].
pub const ECONOMIC_ZONE_AUTHORITY: &str = "CD002";

/// Calibration of one level-1 category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryProfile {
    /// Level-1 code, `01`…`28`.
    pub code: String,
    pub name: String,
    /// Three-year volume in 万件 (2019-01..2021-11), the report's for the top ten, ours below.
    pub volume_wan: f64,
    /// Share of all requests (volumes normalised; the 28 shares sum to 1).
    pub share: f64,
    /// Monthly multipliers, January first; their mean is 1.
    pub seasonal: [f64; 12],
    /// Default share answered directly by the agent (leaves may override).
    pub direct_share: f64,
    /// Default callback resolution rate of dispatched tickets (leaves may override).
    pub resolution: f64,
    /// Default callback satisfaction rate of dispatched tickets (leaves may override).
    pub satisfaction: f64,
    /// Default deadline tier (leaves may override).
    pub tier: DeadlineTier,
    /// Relative frequency in the three functional zones (core, plain, ecological): multiply the
    /// share by the factor of the request's zone and renormalise within the zone.
    pub zone_factors: [f64; 3],
}

impl CategoryProfile {
    /// The factor for a functional zone (see [`CategoryProfile::zone_factors`]).
    pub fn zone_factor(&self, zone: FunctionalZone) -> f64 {
        self.zone_factors[zone_index(zone)]
    }
    /// The multiplier of a month, 1–12 (out-of-range months give 1).
    pub fn seasonal_factor(&self, month: u32) -> f64 {
        match month {
            1..=12 => self.seasonal[month as usize - 1],
            _ => 1.0,
        }
    }
}

fn zone_index(zone: FunctionalZone) -> usize {
    match zone {
        FunctionalZone::CoreAndSubCentre => 0,
        FunctionalZone::PlainNewTowns => 1,
        FunctionalZone::EcologicalConservation => 2,
    }
}

/// Who leads a dispatched ticket (one option of a leaf).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub enum LeadTarget {
    /// `street_town` — the street/town of the request's place (直派).
    StreetTown,
    /// `district_department:Dnn` — that department slot of the request's district.
    DistrictDepartment(String),
    /// `city_department:CDnnn`.
    CityDepartment(String),
    /// `state_enterprise:SEnnn`.
    StateEnterprise(String),
    /// `ecommerce:*` — any e-commerce firm, picked by popularity
    /// ([`crate::units::pick_ecommerce`]).
    AnyEcommerce,
    /// `ecommerce:ECnnn`.
    Ecommerce(String),
}

impl LeadTarget {
    /// Parses the wire form used in `leads.csv` (see the variants).
    pub fn parse(s: &str) -> Option<Self> {
        let (kind, arg) = match s.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (s, None),
        };
        let code = |prefix: &str, digits: usize| -> Option<String> {
            let a = arg?;
            let rest = a.strip_prefix(prefix)?;
            (rest.len() == digits && rest.bytes().all(|b| b.is_ascii_digit())).then(|| a.into())
        };
        Some(match (kind, arg) {
            ("street_town", None) => LeadTarget::StreetTown,
            ("district_department", Some(_)) => LeadTarget::DistrictDepartment(code("D", 2)?),
            ("city_department", Some(_)) => LeadTarget::CityDepartment(code("CD", 3)?),
            ("state_enterprise", Some(_)) => LeadTarget::StateEnterprise(code("SE", 3)?),
            ("ecommerce", Some("*")) => LeadTarget::AnyEcommerce,
            ("ecommerce", Some(_)) => LeadTarget::Ecommerce(code("EC", 3)?),
            _ => return None,
        })
    }

    /// The kind of unit this option dispatches to.
    pub fn kind(&self) -> UnitKind {
        match self {
            LeadTarget::StreetTown => UnitKind::StreetTown,
            LeadTarget::DistrictDepartment(_) => UnitKind::DistrictDepartment,
            LeadTarget::CityDepartment(_) => UnitKind::CityDepartment,
            LeadTarget::StateEnterprise(_) => UnitKind::StateEnterprise,
            LeadTarget::AnyEcommerce | LeadTarget::Ecommerce(_) => UnitKind::Ecommerce,
        }
    }

    /// The unit code for a request placed at `place` (a 9-digit street or 12-digit community
    /// code; a 6-digit district code is enough for every option but `street_town`).
    /// `street_town` in the 北京经济技术开发区 zone resolves to its management committee
    /// ([`ECONOMIC_ZONE_AUTHORITY`]). `ecommerce:*` returns `None`: pick a firm with
    /// [`crate::units::pick_ecommerce`].
    pub fn resolve(&self, place: &str) -> Option<String> {
        match self {
            LeadTarget::StreetTown => {
                let street = place.get(..9)?;
                if street == ECONOMIC_ZONE_STREET {
                    Some(ECONOMIC_ZONE_AUTHORITY.to_string())
                } else {
                    Some(street.to_string())
                }
            }
            LeadTarget::DistrictDepartment(slot) => {
                Some(district_department_code(place.get(..6)?, slot))
            }
            LeadTarget::CityDepartment(c)
            | LeadTarget::StateEnterprise(c)
            | LeadTarget::Ecommerce(c) => Some(c.clone()),
            LeadTarget::AnyEcommerce => None,
        }
    }
}

impl fmt::Display for LeadTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeadTarget::StreetTown => f.write_str("street_town"),
            LeadTarget::DistrictDepartment(s) => write!(f, "district_department:{s}"),
            LeadTarget::CityDepartment(c) => write!(f, "city_department:{c}"),
            LeadTarget::StateEnterprise(c) => write!(f, "state_enterprise:{c}"),
            LeadTarget::AnyEcommerce => f.write_str("ecommerce:*"),
            LeadTarget::Ecommerce(c) => write!(f, "ecommerce:{c}"),
        }
    }
}

impl From<LeadTarget> for String {
    fn from(t: LeadTarget) -> String {
        t.to_string()
    }
}

/// One lead option of a leaf.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadOption {
    pub target: LeadTarget,
    /// Probability among the leaf's options (they sum to 1).
    pub weight: f64,
}

/// A request template. Fill placeholders with [`Template::render`] or [`fill`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    pub request_type: RequestType,
    pub title: String,
    /// 30–150 characters once filled with typical values.
    pub text: String,
}

impl Template {
    /// (title, text) with every `{placeholder}` replaced by `lookup(name)`; placeholders the
    /// lookup does not know are left as they are.
    pub fn render(&self, mut lookup: impl FnMut(&str) -> Option<String>) -> (String, String) {
        (
            fill(&self.title, &mut lookup),
            fill(&self.text, &mut lookup),
        )
    }
    /// The placeholders used in title and text, in order of appearance (with repeats).
    pub fn placeholders(&self) -> Vec<&str> {
        let mut out = placeholders_in(&self.title);
        out.extend(placeholders_in(&self.text));
        out
    }
}

/// Replaces every `{name}` in `s` by `lookup(name)` (kept verbatim when the lookup gives `None`).
pub fn fill(s: &str, mut lookup: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn placeholders_in(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                out.push(&after[..close]);
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    out
}

/// Calibration of one leaf (effective values: the leaf's override where `leaves.csv` has one,
/// otherwise its level-1 category's default).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeafProfile {
    /// Leaf code, e.g. `020101`.
    pub code: String,
    pub name: String,
    /// Relative weight within its level-2 parent (as in `categories.csv`).
    pub weight: f64,
    /// Share of all requests (level-1 share × normalised level-2 weight × normalised leaf weight).
    pub share: f64,
    pub direct_share: f64,
    pub resolution: f64,
    pub satisfaction: f64,
    pub tier: DeadlineTier,
    /// Lead options, weights summing to 1.
    pub leads: Vec<LeadOption>,
    /// 3–6 templates.
    pub templates: Vec<Template>,
}

impl LeafProfile {
    /// Its level-1 code.
    pub fn top(&self) -> &str {
        &self.code[..2]
    }
    /// This leaf's share of *dispatched* volume in the city's total volume:
    /// `share × (1 − direct_share)`.
    pub fn dispatched_share(&self) -> f64 {
        self.share * (1.0 - self.direct_share)
    }
    /// Picks a lead option: `u` uniform in `[0, 1)` from the caller's random source.
    pub fn pick_lead(&self, u: f64) -> &LeadOption {
        let mut acc = 0.0;
        for o in &self.leads {
            acc += o.weight;
            if u < acc {
                return o;
            }
        }
        self.leads.last().expect("every leaf has a lead option")
    }
}

/// One district's share of district-handled volume (区级部门 + 街乡镇), from the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DistrictProfile {
    pub code: String,
    pub name: String,
    /// Three-year district-handled volume, 万件.
    pub handled_wan: f64,
    /// Share among the 16 districts (sums to 1).
    pub handled_share: f64,
    /// Share of the district's volume led by its departments (the rest by its streets/towns).
    pub department_share: f64,
    /// The report's top five level-1 category names for the district.
    pub top_categories: Vec<String>,
}

/// Requests of one year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearFigures {
    pub year: i32,
    /// Requests received, 万件.
    pub requests_wan: f64,
    /// Months covered (2021: January–November).
    pub months: u32,
    /// Distinct caller numbers, 万.
    pub callers_wan: f64,
    /// Share of web channels.
    pub web_share: f64,
}

/// City-wide figures (`overall.csv`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overall {
    /// 2019-01..2021-11, 万件.
    pub requests_total_wan: f64,
    pub phone_share: f64,
    pub web_share: f64,
    pub dispatched_share: f64,
    pub direct_share: f64,
    pub resolution: f64,
    pub satisfaction: f64,
    /// Beijing's dispatched tickets by lead unit kind (district departments, streets/towns, city
    /// departments, state firms, e-commerce and others).
    pub lead_kind_shares: Vec<(UnitKind, f64)>,
    /// 表扬 calls per month (late 2021).
    pub praise_per_month: f64,
    pub years: Vec<YearFigures>,
    /// Monthly volume multipliers (mean 1), January first: Spring Festival and National Day
    /// dips, November high.
    pub monthly: [f64; 12],
    /// Every figure by key, as in the file.
    pub raw: Vec<(String, f64)>,
}

impl Overall {
    pub fn get(&self, key: &str) -> Option<f64> {
        self.raw.iter().find(|(k, _)| k == key).map(|&(_, v)| v)
    }
}

/// Effective figures of a category node, weighted over its leaves (see [`Profiles::aggregate`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Aggregate {
    /// Share of all requests.
    pub share: f64,
    /// Share of all requests that is dispatched: Σ share × (1 − direct share).
    pub dispatched_share: f64,
    /// Share of the node's requests answered directly.
    pub direct_share: f64,
    /// Resolution rate weighted by dispatched volume.
    pub resolution: f64,
    /// Satisfaction rate weighted by dispatched volume.
    pub satisfaction: f64,
}

/// What the data implies, volume-weighted (the figures the tests hold against Beijing's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// Share of all requests answered directly (Beijing: 58.5 %).
    pub direct_share: f64,
    /// Resolution rate weighted by dispatched volume (≈ 85 %).
    pub resolution: f64,
    /// Satisfaction rate weighted by dispatched volume (≈ 90 %).
    pub satisfaction: f64,
    /// Dispatched volume by lead unit kind, in the order of [`Overall::lead_kind_shares`].
    pub lead_kind_shares: Vec<(UnitKind, f64)>,
}

/// All calibration data, parsed and checked.
#[derive(Debug, Clone)]
pub struct Profiles {
    /// The 28 level-1 profiles in code order.
    pub categories: Vec<CategoryProfile>,
    /// The 350 leaf profiles in code order.
    pub leaves: Vec<LeafProfile>,
    /// The 16 district profiles in code order.
    pub districts: Vec<DistrictProfile>,
    pub overall: Overall,
    weights: HashMap<String, f64>,
    shares: HashMap<String, f64>,
    category_index: HashMap<String, usize>,
    leaf_index: HashMap<String, usize>,
}

/// The lead kinds in report order.
pub const LEAD_KINDS: [UnitKind; 5] = [
    UnitKind::DistrictDepartment,
    UnitKind::StreetTown,
    UnitKind::CityDepartment,
    UnitKind::StateEnterprise,
    UnitKind::Ecommerce,
];

impl Profiles {
    /// The level-1 profile of any category code (its first two digits).
    pub fn category(&self, code: &str) -> Option<&CategoryProfile> {
        self.category_index
            .get(code.get(..2)?)
            .map(|&i| &self.categories[i])
    }
    pub fn leaf(&self, code: &str) -> Option<&LeafProfile> {
        self.leaf_index.get(code).map(|&i| &self.leaves[i])
    }
    /// The leaves under a category code (all leaves for `""`).
    pub fn leaves_under<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a LeafProfile> {
        self.leaves.iter().filter(move |l| l.code.starts_with(code))
    }
    /// Relative weight of any node within its parent (level 1: its volume in 万件).
    pub fn weight(&self, code: &str) -> Option<f64> {
        self.weights.get(code).copied()
    }
    /// Share of all requests of any node (level 1, 2 or leaf).
    pub fn share(&self, code: &str) -> Option<f64> {
        self.shares.get(code).copied()
    }
    pub fn district(&self, code: &str) -> Option<&DistrictProfile> {
        self.districts.iter().find(|d| d.code == code)
    }

    /// Volume-weighted effective figures of any node over its leaves (a level-1 category's
    /// aggregate differs from its defaults where leaves override them). `None` for an unknown
    /// code; `""` aggregates the whole tree.
    pub fn aggregate(&self, code: &str) -> Option<Aggregate> {
        let mut a = Aggregate {
            share: 0.0,
            dispatched_share: 0.0,
            direct_share: 0.0,
            resolution: 0.0,
            satisfaction: 0.0,
        };
        let mut any = false;
        for l in self.leaves_under(code) {
            any = true;
            let d = l.dispatched_share();
            a.share += l.share;
            a.dispatched_share += d;
            a.direct_share += l.share * l.direct_share;
            a.resolution += d * l.resolution;
            a.satisfaction += d * l.satisfaction;
        }
        if !any {
            return None;
        }
        a.direct_share /= a.share;
        if a.dispatched_share > 0.0 {
            a.resolution /= a.dispatched_share;
            a.satisfaction /= a.dispatched_share;
        }
        Some(a)
    }

    /// The volume-weighted figures implied by the data (see [`Calibration`]). Dispatched volume
    /// of a leaf = its share × (1 − its direct share); lead kinds split it by option weights.
    pub fn calibration(&self) -> Calibration {
        let mut direct = 0.0;
        let mut dispatched = 0.0;
        let mut res = 0.0;
        let mut sat = 0.0;
        let mut kinds = [0.0f64; 5];
        for l in &self.leaves {
            direct += l.share * l.direct_share;
            let d = l.dispatched_share();
            dispatched += d;
            res += d * l.resolution;
            sat += d * l.satisfaction;
            for o in &l.leads {
                let k = LEAD_KINDS
                    .iter()
                    .position(|&k| k == o.target.kind())
                    .expect("lead kinds cover every target");
                kinds[k] += d * o.weight;
            }
        }
        Calibration {
            direct_share: direct,
            resolution: res / dispatched,
            satisfaction: sat / dispatched,
            lead_kind_shares: LEAD_KINDS
                .iter()
                .zip(kinds)
                .map(|(&k, v)| (k, v / dispatched))
                .collect(),
        }
    }
}

#[derive(Deserialize)]
struct CategoryProfileRow {
    code: String,
    name: String,
    volume_wan: f64,
    direct_share: f64,
    resolution: f64,
    satisfaction: f64,
    tier: String,
    m01: f64,
    m02: f64,
    m03: f64,
    m04: f64,
    m05: f64,
    m06: f64,
    m07: f64,
    m08: f64,
    m09: f64,
    m10: f64,
    m11: f64,
    m12: f64,
    zone_core: f64,
    zone_plain: f64,
    zone_eco: f64,
}

#[derive(Deserialize)]
struct LeafRow {
    code: String,
    name: String,
    direct_share: Option<f64>,
    resolution: Option<f64>,
    satisfaction: Option<f64>,
    tier: String,
}

#[derive(Deserialize)]
struct LeadRow {
    leaf: String,
    target: String,
    weight: f64,
}

#[derive(Deserialize)]
struct TemplateRow {
    leaf: String,
    request_type: String,
    title: String,
    text: String,
}

#[derive(Deserialize)]
struct DistrictRow {
    code: String,
    name: String,
    handled_wan: f64,
    handled_share: f64,
    department_share: f64,
    top_categories: String,
}

#[derive(Deserialize)]
struct OverallRow {
    key: String,
    value: f64,
    #[allow(dead_code)]
    note: String,
}

fn rate(file: &'static str, line: usize, what: &str, v: f64) -> Result<f64, DataError> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(err(file, line, format!("{what} {v} not in 0..=1")))
    }
}

fn positive(file: &'static str, line: usize, what: &str, v: f64) -> Result<f64, DataError> {
    if v > 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err(err(file, line, format!("{what} {v} must be positive")))
    }
}

fn tier(file: &'static str, line: usize, s: &str) -> Result<DeadlineTier, DataError> {
    DeadlineTier::parse(s).ok_or_else(|| {
        err(
            file,
            line,
            format!("tier {s:?}, expected one of {}", DeadlineTier::names()),
        )
    })
}

/// Parses and cross-checks every calibration file against the category tree and the units.
pub fn parse() -> Result<Profiles, DataError> {
    let tree = categories::parse()?;
    let cat_rows = categories::rows()?;
    let weights: HashMap<String, f64> = cat_rows
        .iter()
        .map(|r| (r.code.clone(), r.weight))
        .collect();
    let by_code: HashMap<&str, &jiesu_domain::category::Category> =
        tree.iter().map(|c| (c.code.as_str(), c)).collect();

    // level-1 profiles
    let f = "category_profiles.csv";
    let rows: Vec<CategoryProfileRow> = read_csv(f, CATEGORY_PROFILES)?;
    let roots: Vec<&str> = tree
        .iter()
        .filter(|c| c.level == 1)
        .map(|c| c.code.as_str())
        .collect();
    if rows.len() != roots.len() {
        return Err(err(
            f,
            0,
            format!("{} rows for {} level-1 categories", rows.len(), roots.len()),
        ));
    }
    let total: f64 = rows.iter().map(|r| r.volume_wan).sum();
    let mut cats = Vec::with_capacity(rows.len());
    for (i, r) in rows.into_iter().enumerate() {
        let line = i + 2;
        if r.code != roots[i] {
            return Err(err(
                f,
                line,
                format!("code {}, expected {}", r.code, roots[i]),
            ));
        }
        if by_code[r.code.as_str()].name != r.name {
            return Err(err(
                f,
                line,
                format!("name {} differs from the tree", r.name),
            ));
        }
        positive(f, line, "volume_wan", r.volume_wan)?;
        if (weights[&r.code] - r.volume_wan).abs() > 1e-9 {
            return Err(err(
                f,
                line,
                "volume_wan differs from categories.csv weight",
            ));
        }
        let raw = [
            r.m01, r.m02, r.m03, r.m04, r.m05, r.m06, r.m07, r.m08, r.m09, r.m10, r.m11, r.m12,
        ];
        for m in raw {
            positive(f, line, "monthly multiplier", m)?;
        }
        let mean = raw.iter().sum::<f64>() / 12.0;
        if (mean - 1.0).abs() > 0.01 {
            return Err(err(
                f,
                line,
                format!("monthly multipliers average {mean}, not 1"),
            ));
        }
        let zones = [r.zone_core, r.zone_plain, r.zone_eco];
        for z in zones {
            positive(f, line, "zone factor", z)?;
        }
        cats.push(CategoryProfile {
            share: r.volume_wan / total,
            code: r.code,
            name: r.name,
            volume_wan: r.volume_wan,
            seasonal: raw.map(|m| m / mean),
            direct_share: rate(f, line, "direct_share", r.direct_share)?,
            resolution: rate(f, line, "resolution", r.resolution)?,
            satisfaction: rate(f, line, "satisfaction", r.satisfaction)?,
            tier: tier(f, line, &r.tier)?,
            zone_factors: zones,
        });
    }
    let category_index: HashMap<String, usize> = cats
        .iter()
        .enumerate()
        .map(|(i, c)| (c.code.clone(), i))
        .collect();

    // absolute shares of every node
    let mut child_sum: HashMap<&str, f64> = HashMap::new();
    for c in &tree {
        if let Some(p) = &c.parent {
            *child_sum.entry(p.as_str()).or_default() += weights[&c.code];
        }
    }
    let mut shares: HashMap<String, f64> = HashMap::with_capacity(tree.len());
    for c in &tree {
        let s = match &c.parent {
            None => cats[category_index[&c.code]].share,
            Some(p) => shares[p] * weights[&c.code] / child_sum[p.as_str()],
        };
        shares.insert(c.code.clone(), s);
    }

    // leaves
    let leaves_in_tree: Vec<&jiesu_domain::category::Category> = tree
        .iter()
        .filter(|c| !child_sum.contains_key(c.code.as_str()))
        .collect();
    let f = "leaves.csv";
    let lrows: Vec<LeafRow> = read_csv(f, LEAVES)?;
    if lrows.len() != leaves_in_tree.len() {
        return Err(err(
            f,
            0,
            format!("{} rows for {} leaves", lrows.len(), leaves_in_tree.len()),
        ));
    }
    let mut leaves = Vec::with_capacity(lrows.len());
    for (i, r) in lrows.into_iter().enumerate() {
        let line = i + 2;
        let c = leaves_in_tree[i];
        if r.code != c.code || r.name != c.name {
            return Err(err(
                f,
                line,
                format!(
                    "{} {} does not match the tree's leaf {} {}",
                    r.code, r.name, c.code, c.name
                ),
            ));
        }
        let cp = &cats[category_index[&r.code[..2]]];
        leaves.push(LeafProfile {
            weight: weights[&r.code],
            share: shares[&r.code],
            direct_share: match r.direct_share {
                Some(v) => rate(f, line, "direct_share", v)?,
                None => cp.direct_share,
            },
            resolution: match r.resolution {
                Some(v) => rate(f, line, "resolution", v)?,
                None => cp.resolution,
            },
            satisfaction: match r.satisfaction {
                Some(v) => rate(f, line, "satisfaction", v)?,
                None => cp.satisfaction,
            },
            tier: if r.tier.is_empty() {
                cp.tier
            } else {
                tier(f, line, &r.tier)?
            },
            code: r.code,
            name: r.name,
            leads: Vec::new(),
            templates: Vec::new(),
        });
    }
    let leaf_index: HashMap<String, usize> = leaves
        .iter()
        .enumerate()
        .map(|(i, l)| (l.code.clone(), i))
        .collect();

    // leads
    let f = "leads.csv";
    let slots: Vec<&str> = district_department_slots()
        .iter()
        .map(|s| s.slot.as_str())
        .collect();
    for (i, r) in read_csv::<LeadRow>(f, LEADS)?.into_iter().enumerate() {
        let line = i + 2;
        let &li = leaf_index
            .get(&r.leaf)
            .ok_or_else(|| err(f, line, format!("{} is not a leaf", r.leaf)))?;
        let target = LeadTarget::parse(&r.target)
            .ok_or_else(|| err(f, line, format!("bad target {}", r.target)))?;
        match &target {
            LeadTarget::DistrictDepartment(s) if !slots.contains(&s.as_str()) => {
                return Err(err(f, line, format!("no district department slot {s}")))
            }
            LeadTarget::CityDepartment(c)
            | LeadTarget::StateEnterprise(c)
            | LeadTarget::Ecommerce(c) => match organisation(c) {
                Some(o) if o.kind == target.kind() => {}
                _ => {
                    return Err(err(
                        f,
                        line,
                        format!("no {} unit {c}", target.kind().as_str()),
                    ))
                }
            },
            _ => {}
        }
        let weight = positive(f, line, "weight", r.weight)?;
        let leaf = &mut leaves[li];
        if leaf.leads.iter().any(|o| o.target == target) {
            return Err(err(
                f,
                line,
                format!("{} listed twice for {}", target, r.leaf),
            ));
        }
        leaf.leads.push(LeadOption { target, weight });
    }

    // templates
    let f = "templates.csv";
    for (i, r) in read_csv::<TemplateRow>(f, TEMPLATES)?
        .into_iter()
        .enumerate()
    {
        let line = i + 2;
        let &li = leaf_index
            .get(&r.leaf)
            .ok_or_else(|| err(f, line, format!("{} is not a leaf", r.leaf)))?;
        let request_type = RequestType::parse(&r.request_type)
            .ok_or_else(|| err(f, line, format!("bad request type {}", r.request_type)))?;
        for s in [&r.title, &r.text] {
            if s.matches('{').count() != s.matches('}').count() {
                return Err(err(f, line, "unbalanced braces"));
            }
            for p in placeholders_in(s) {
                if !PLACEHOLDERS.contains(&p) {
                    return Err(err(f, line, format!("unknown placeholder {{{p}}}")));
                }
            }
        }
        if r.title.is_empty() || r.text.is_empty() {
            return Err(err(f, line, "empty title or text"));
        }
        leaves[li].templates.push(Template {
            request_type,
            title: r.title,
            text: r.text,
        });
    }
    for l in &mut leaves {
        if l.leads.is_empty() {
            return Err(err(
                "leads.csv",
                0,
                format!("leaf {} has no lead option", l.code),
            ));
        }
        if !(3..=6).contains(&l.templates.len()) {
            return Err(err(
                "templates.csv",
                0,
                format!(
                    "leaf {} has {} templates, not 3–6",
                    l.code,
                    l.templates.len()
                ),
            ));
        }
        let sum: f64 = l.leads.iter().map(|o| o.weight).sum();
        for o in &mut l.leads {
            o.weight /= sum;
        }
    }

    // districts
    let f = "district_profiles.csv";
    let drows: Vec<DistrictRow> = read_csv(f, DISTRICT_PROFILES)?;
    let div = divisions();
    if drows.len() != div.districts.len() {
        return Err(err(f, 0, "one row per district expected"));
    }
    let mut districts = Vec::with_capacity(drows.len());
    let root_names: Vec<&str> = cats.iter().map(|c| c.name.as_str()).collect();
    for (i, r) in drows.into_iter().enumerate() {
        let line = i + 2;
        let d = &div.districts[i];
        if r.code != d.code || r.name != d.name {
            return Err(err(
                f,
                line,
                format!(
                    "{} {} is not district {} {}",
                    r.code, r.name, d.code, d.name
                ),
            ));
        }
        let top: Vec<String> = r.top_categories.split(';').map(str::to_string).collect();
        if let Some(bad) = top.iter().find(|t| !root_names.contains(&t.as_str())) {
            return Err(err(f, line, format!("unknown category {bad}")));
        }
        districts.push(DistrictProfile {
            handled_wan: positive(f, line, "handled_wan", r.handled_wan)?,
            handled_share: rate(f, line, "handled_share", r.handled_share)?,
            department_share: rate(f, line, "department_share", r.department_share)?,
            code: r.code,
            name: r.name,
            top_categories: top,
        });
    }
    let sum: f64 = districts.iter().map(|d| d.handled_share).sum();
    if (sum - 1.0).abs() > 0.005 {
        return Err(err(f, 0, format!("handled shares sum to {sum}")));
    }
    for d in &mut districts {
        d.handled_share /= sum;
    }
    debug_assert!(districts.iter().all(|d| functional_zone(&d.code).is_some()));

    let overall = parse_overall()?;
    Ok(Profiles {
        categories: cats,
        leaves,
        districts,
        overall,
        weights,
        shares,
        category_index,
        leaf_index,
    })
}

fn parse_overall() -> Result<Overall, DataError> {
    let f = "overall.csv";
    let rows: Vec<OverallRow> = read_csv(f, OVERALL)?;
    let raw: Vec<(String, f64)> = rows.into_iter().map(|r| (r.key, r.value)).collect();
    let get = |k: &str| -> Result<f64, DataError> {
        raw.iter()
            .find(|(key, _)| key == k)
            .map(|&(_, v)| v)
            .ok_or_else(|| err(f, 0, format!("missing key {k}")))
    };
    let mut monthly = [0.0; 12];
    for (m, slot) in monthly.iter_mut().enumerate() {
        *slot = positive(f, 0, "monthly", get(&format!("month_{:02}", m + 1))?)?;
    }
    let mean = monthly.iter().sum::<f64>() / 12.0;
    if (mean - 1.0).abs() > 0.01 {
        return Err(err(f, 0, format!("monthly multipliers average {mean}")));
    }
    let monthly = monthly.map(|m| m / mean);
    let years = [(2019, 12), (2020, 12), (2021, 11)]
        .into_iter()
        .map(|(y, months)| {
            Ok(YearFigures {
                year: y,
                requests_wan: get(&format!("year_{y}_wan"))?,
                months,
                callers_wan: get(&format!("callers_{y}_wan"))?,
                web_share: get(&format!("web_share_{y}"))?,
            })
        })
        .collect::<Result<Vec<_>, DataError>>()?;
    let lead_kind_shares = vec![
        (
            UnitKind::DistrictDepartment,
            get("lead_share_district_department")?,
        ),
        (UnitKind::StreetTown, get("lead_share_street_town")?),
        (UnitKind::CityDepartment, get("lead_share_city_department")?),
        (
            UnitKind::StateEnterprise,
            get("lead_share_state_enterprise")?,
        ),
        (UnitKind::Ecommerce, get("lead_share_ecommerce")?),
    ];
    Ok(Overall {
        requests_total_wan: get("requests_total_wan")?,
        phone_share: get("phone_share")?,
        web_share: get("web_share")?,
        dispatched_share: get("dispatched_share")?,
        direct_share: get("direct_share")?,
        resolution: get("resolution")?,
        satisfaction: get("satisfaction")?,
        lead_kind_shares,
        praise_per_month: get("praise_per_month")?,
        years,
        monthly,
        raw,
    })
}

/// All calibration data (parsed on first use, then cached).
pub fn profiles() -> &'static Profiles {
    static P: OnceLock<Profiles> = OnceLock::new();
    P.get_or_init(|| shipped(parse()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_targets_round_trip() {
        for s in [
            "street_town",
            "district_department:D03",
            "city_department:CD001",
            "state_enterprise:SE049",
            "ecommerce:*",
            "ecommerce:EC060",
        ] {
            assert_eq!(LeadTarget::parse(s).unwrap().to_string(), s);
        }
        for bad in [
            "street_town:x",
            "district_department",
            "district_department:D3",
            "city_department:SE001",
            "ecommerce:",
            "ecommerce:EC1",
            "centre",
        ] {
            assert!(LeadTarget::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn lead_targets_resolve_against_a_place() {
        let dd = LeadTarget::DistrictDepartment("D03".into());
        assert_eq!(dd.resolve("110105001001").unwrap(), "110105D03");
        assert_eq!(dd.resolve("110105").unwrap(), "110105D03");
        assert_eq!(
            LeadTarget::StreetTown.resolve("110105001001").unwrap(),
            "110105001"
        );
        assert_eq!(LeadTarget::StreetTown.resolve("110105"), None);
        assert_eq!(
            LeadTarget::StreetTown.resolve("110115403001").unwrap(),
            ECONOMIC_ZONE_AUTHORITY
        );
        assert_eq!(LeadTarget::AnyEcommerce.resolve("110105001"), None);
        assert_eq!(
            LeadTarget::CityDepartment("CD004".into())
                .resolve("110105001")
                .unwrap(),
            "CD004"
        );
    }

    #[test]
    fn fill_replaces_known_placeholders_only() {
        let s = fill("{district}{street}的{x}有{n}处{", |k| match k {
            "district" => Some("朝阳区".into()),
            "street" => Some("望京街道".into()),
            "n" => Some("3".into()),
            _ => None,
        });
        assert_eq!(s, "朝阳区望京街道的{x}有3处{");
        assert_eq!(placeholders_in("a{b}c{d}"), vec!["b", "d"]);
    }

    #[test]
    fn aggregates_agree_with_calibration() {
        let p = profiles();
        let all = p.aggregate("").unwrap();
        let cal = p.calibration();
        assert!((all.share - 1.0).abs() < 1e-9);
        assert!((all.direct_share - cal.direct_share).abs() < 1e-12);
        assert!((all.resolution - cal.resolution).abs() < 1e-12);
        let build = p.aggregate("04").unwrap();
        assert!((build.share - p.category("04").unwrap().share).abs() < 1e-12);
        assert!(
            build.resolution < p.category("04").unwrap().resolution,
            "拆迁 pulls it down"
        );
        assert!(p.aggregate("99").is_none());
        let leaf = p.aggregate("020101").unwrap();
        assert!((leaf.direct_share - p.leaf("020101").unwrap().direct_share).abs() < 1e-12);
    }

    #[test]
    fn pick_lead_walks_the_weights() {
        let p = profiles();
        let leaf = p.leaf("020101").unwrap();
        assert_eq!(leaf.pick_lead(0.0).target, leaf.leads[0].target);
        assert_eq!(
            leaf.pick_lead(0.999_999).target,
            leaf.leads.last().unwrap().target
        );
        assert_eq!(
            leaf.pick_lead(2.0).target,
            leaf.leads.last().unwrap().target
        );
    }
}
