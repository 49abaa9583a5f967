//! The calibrated city model: everything the per-ticket generator draws from, with the
//! calibration already solved (see [`City::calibrate`]). Built once from the reference data
//! (`crate::city`), then shared read-only by the worker threads.

use crate::rng::{Alias, Rng};
use jiesu_domain::category::Category;
use jiesu_domain::org::Unit;
use jiesu_domain::ticket::DeadlineTier;
use std::collections::BTreeMap;

/// Targets from DOMAIN.md §3 (and the issue's §6).
pub mod target {
    /// Requests handled without dispatch (answered directly, special handling, praise).
    pub const NOT_DISPATCHED: f64 = 0.585;
    /// Share of requests that are praise (表扬), answered and credited to a unit.
    pub const PRAISE: f64 = 0.005;
    /// Share of requests given special handling (emergency transfer, legal route …).
    pub const SPECIAL: f64 = 0.010;
    /// Lead unit type of first dispatches: district departments, streets/towns, city departments,
    /// state-owned firms, e-commerce and others.
    pub const UNIT_TYPE: [f64; 5] = [0.378, 0.360, 0.161, 0.074, 0.027];
    /// resolved / contacted callbacks (final round).
    pub const RESOLUTION: f64 = 0.85;
    /// satisfied / contacted callbacks (final round).
    pub const SATISFACTION: f64 = 0.90;
    /// Phone share of intake.
    pub const PHONE: f64 = 0.921;
}

/// Flow probabilities (per dispatched ticket unless said otherwise).
pub mod flow_p {
    /// A return (退单) is requested on the first dispatch.
    pub const RETURN_REQUEST: f64 = 0.10;
    /// … and approved (then re-dispatched to another plausible unit).
    pub const RETURN_APPROVED: f64 = 0.78;
    /// An assisting unit (协办) is added to a first dispatch that is not returned.
    pub const ASSIST: f64 = 0.08;
    /// The sign (签收) is on time.
    pub const SIGN_ON_TIME: f64 = 0.97;
    /// The respond (响应) is on time.
    pub const RESPOND_ON_TIME: f64 = 0.945;
    /// The result (办结) comes before the finish deadline.
    pub const FINISH_ON_TIME: f64 = 0.95;
    /// An extension (延期) is requested; approved with `EXTENSION_APPROVED`.
    pub const EXTENSION: f64 = 0.03;
    pub const EXTENSION_APPROVED: f64 = 0.85;
    /// A street lead blows the whistle (吹哨) to summon district departments.
    pub const WHISTLE: f64 = 0.04;
    /// Escalated (提级).
    pub const ESCALATE: f64 = 0.005;
    /// A public progress note (事事有回音).
    pub const NOTE: f64 = 0.12;
    /// A callback attempt does not reach the citizen (未接通).
    pub const UNREACHABLE: f64 = 0.03;
    /// The citizen says the unit did contact them.
    pub const CONTACTED: f64 = 0.975;
    /// Of the not-resolved, the share answering "partly".
    pub const PARTLY: f64 = 0.45;
    /// An unresolved callback is reopened (重办).
    pub const REOPEN_IF_UNRESOLVED: f64 = 0.25;
    /// Resolution chance in the reopened round.
    pub const REOPEN_RESOLVED: f64 = 0.55;
    /// Satisfied when resolved (before category adjustment).
    pub const SATISFIED_IF_RESOLVED: f64 = 0.97;
    /// Log-odds spread of unit quality (some units resolve more, some less).
    pub const UNIT_SPREAD: f64 = 0.35;
}

/// A street/town and its communities.
#[derive(Debug, Clone)]
pub struct Street {
    pub code: String,
    pub name: String,
    /// (code, short name) of each community/village.
    pub communities: Vec<(String, String)>,
    /// Draws a community (residents' committees weigh more than villages).
    pub community_pick: Alias,
    pub special_zone: bool,
}

/// A district with its streets and department slots.
#[derive(Debug, Clone)]
pub struct District {
    pub code: String,
    pub name: String,
    pub streets: Vec<Street>,
    pub street_pick: Alias,
    /// Department slot (`D01` …) → unit code.
    pub depts: BTreeMap<String, String>,
    /// All department unit codes, in slot order.
    pub dept_codes: Vec<String>,
}

/// Where a leaf category's tickets go (the reference data's lead options).
pub use jiesu_refdata::LeadTarget;

/// Which of the five reported unit types a target counts as
/// (0 district department, 1 street/town, 2 city department, 3 state firm, 4 e-commerce/other).
pub type UnitType = usize;

/// A level-1 category.
#[derive(Debug, Clone)]
pub struct Top {
    pub code: String,
    pub name: String,
    /// Share of all requests (after down-weighting 疫情防控), normalised.
    pub share: f64,
    /// Monthly factors (Jan … Dec), mean about 1.
    pub season: [f64; 12],
    /// Relative frequency in the three functional zones (core, plain, ecological).
    pub zone: [f64; 3],
    /// Draws the place's district for this category — calibrated so that the dispatched volume
    /// by district matches DOMAIN.md §3.
    pub district_pick: Alias,
}

/// A leaf category.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub code: String,
    pub name: String,
    /// The level-2 parent's name.
    pub parent_name: String,
    pub top: usize,
    /// Share of all requests (after down-weighting 疫情防控).
    pub weight: f64,
    pub tier: DeadlineTier,
    pub leads: Vec<LeadTarget>,
    /// The profile's weights of `leads`.
    pub lead_weights: Vec<f64>,
    /// Calibrated sampler over `leads`.
    pub lead_pick: Alias,
    /// Text templates (type, title, text) with `{placeholder}`s.
    pub templates: Vec<Template>,
    /// The profile's figures (leaf override or its level-1 category's).
    pub raw_direct: f64,
    pub raw_resolution: f64,
    pub raw_satisfaction: f64,
    /// Probability that a request (not praise/special) is answered directly — calibrated.
    pub direct: f64,
    /// Log-odds of "resolved" at the first callback — calibrated.
    pub resolution_logit: f64,
    /// Probability of "satisfied" when resolved / when not — calibrated.
    pub satisfied_if_resolved: f64,
    pub satisfied_if_not_resolved: f64,
}

/// A text template of a leaf.
#[derive(Debug, Clone)]
pub struct Template {
    pub request_type: jiesu_domain::ticket::RequestType,
    pub title: String,
    pub text: String,
}

/// Name and address pools.
#[derive(Debug, Clone, Default)]
pub struct Pools {
    pub surnames: Vec<String>,
    pub surname_pick: Option<Alias>,
    pub given: Vec<String>,
    pub roads: Vec<String>,
    pub estates: Vec<String>,
}

/// The model of the city.
#[derive(Debug, Clone)]
pub struct City {
    pub units: Vec<Unit>,
    pub categories: Vec<Category>,
    /// Unit code → index in `units`.
    pub unit_index: BTreeMap<String, usize>,
    pub centre: String,
    pub districts: Vec<District>,
    /// Functional zone of each district (0 core, 1 plain, 2 ecological).
    pub district_zone: Vec<usize>,
    /// Each district's share of dispatched volume (DOMAIN.md §3).
    pub district_share: Vec<f64>,
    /// Draws a district by `district_share` (a caller's home).
    pub district_pick: Alias,
    pub city_depts: Vec<String>,
    pub state_firms: Vec<String>,
    pub ecommerce: Vec<String>,
    pub ecommerce_pick: Alias,
    pub tops: Vec<Top>,
    pub leaves: Vec<Leaf>,
    /// Per Beijing-time month: draws a leaf (share × seasonality × leaf weight).
    pub leaf_by_month: Vec<Alias>,
    pub pools: Pools,
    /// Praise templates: (leaf index, template).
    pub praise: Vec<(usize, Template)>,
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// 7-point Gauss–Hermite-like quadrature of a standard normal (nodes, weights).
const NORMAL_NODES: [(f64, f64); 7] = [
    (-2.6519613568, 0.000_548_268_855_8),
    (-1.6735516288, 0.030_757_123_967_6),
    (-0.8162878829, 0.240_123_178_605_0),
    (0.0, 0.457_142_857_142_9),
    (0.8162878829, 0.240_123_178_605_0),
    (1.6735516288, 0.030_757_123_967_6),
    (2.6519613568, 0.000_548_268_855_8),
];

/// E[sigmoid(x + s·Z)] for standard normal Z.
pub fn mean_sigmoid(x: f64, s: f64) -> f64 {
    NORMAL_NODES
        .iter()
        .map(|(z, w)| w * sigmoid(x + s * z * std::f64::consts::SQRT_2))
        .sum()
}

/// Solves `f(δ) = want` for an increasing `f` by bisection on [-12, 12].
fn solve(want: f64, f: impl Fn(f64) -> f64) -> f64 {
    let (mut lo, mut hi) = (-12.0, 12.0);
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < want {
            lo = mid
        } else {
            hi = mid
        }
    }
    0.5 * (lo + hi)
}

impl City {
    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.unit_index.get(code).map(|&i| &self.units[i])
    }

    /// The reported unit type of a unit code.
    pub fn unit_type(&self, code: &str) -> UnitType {
        use jiesu_domain::org::UnitKind as K;
        match self.unit(code).map(|u| u.kind) {
            Some(K::DistrictDepartment) => 0,
            Some(K::StreetTown) => 1,
            Some(K::CityDepartment) => 2,
            Some(K::StateEnterprise) => 3,
            _ => 4,
        }
    }

    /// The unit type a lead target resolves to.
    pub fn target_type(&self, t: &LeadTarget) -> UnitType {
        match t {
            LeadTarget::DistrictDepartment(_) => 0,
            LeadTarget::StreetTown => 1,
            LeadTarget::CityDepartment(_) => 2,
            LeadTarget::StateEnterprise(_) => 3,
            LeadTarget::AnyEcommerce | LeadTarget::Ecommerce(_) => 4,
        }
    }

    /// Annual volume share of each leaf (normalised).
    pub fn leaf_volume(&self) -> Vec<f64> {
        let total: f64 = self.leaves.iter().map(|l| l.weight).sum::<f64>().max(1e-12);
        self.leaves.iter().map(|l| l.weight / total).collect()
    }

    /// Builds the per-month leaf samplers.
    pub fn build_leaf_samplers(&mut self) {
        let vol = self.leaf_volume();
        self.leaf_by_month = (0..12)
            .map(|m| {
                let w: Vec<f64> = self
                    .leaves
                    .iter()
                    .zip(&vol)
                    .map(|(l, v)| v * self.tops[l.top].season[m])
                    .collect();
                Alias::new(&w)
            })
            .collect();
    }

    /// Solves the calibration so that the expected shares hit the targets:
    /// 1. the direct-answer probabilities (shifted in log-odds) so that praise + special +
    ///    answered directly = 58.5 %;
    /// 2. the lead-option weights (raked by unit type) so that first dispatches split
    ///    37.8 / 36.0 / 16.1 / 7.4 / 2.7 %;
    /// 3. the districts per category (zone profile × raked district weights) so that the
    ///    dispatched volume by district matches §3;
    /// 4. the first-callback resolution (shifted in log-odds, with unit spread and the reopen
    ///    round accounted for) so that final resolved / contacted = 85 %;
    /// 5. satisfaction so that satisfied / contacted = 90 %, keeping each category's profile
    ///    (e.g. 拆迁补偿: resolution 17.6 %, satisfaction about 60 %).
    pub fn calibrate(&mut self) {
        use flow_p::*;
        let vol = self.leaf_volume();
        let total: f64 = vol.iter().sum::<f64>().max(1e-12);
        // 1. direct answers
        let free = 1.0 - target::PRAISE - target::SPECIAL;
        let want_direct = (target::NOT_DISPATCHED - target::PRAISE - target::SPECIAL) / free;
        let raw: Vec<f64> = self.leaves.iter().map(|l| logit(l.raw_direct)).collect();
        let d = solve(want_direct, |d| {
            raw.iter()
                .zip(&vol)
                .map(|(r, v)| v * sigmoid(r + d))
                .sum::<f64>()
                / total
        });
        for (l, r) in self.leaves.iter_mut().zip(&raw) {
            l.direct = sigmoid(r + d);
        }
        // dispatched volume per leaf
        let disp: Vec<f64> = self
            .leaves
            .iter()
            .zip(&vol)
            .map(|(l, v)| v * (1.0 - l.direct))
            .collect();
        let dtotal: f64 = disp.iter().sum::<f64>().max(1e-12);
        // 2. rake lead options by unit type
        let types: Vec<Vec<UnitType>> = self
            .leaves
            .iter()
            .map(|l| l.leads.iter().map(|t| self.target_type(t)).collect())
            .collect();
        let mut mult = [1.0f64; 5];
        let weights = |l: &Leaf, ty: &[UnitType], mult: &[f64; 5]| -> Vec<f64> {
            l.lead_weights
                .iter()
                .zip(ty)
                .map(|(w, t)| w * mult[*t])
                .collect()
        };
        for _ in 0..300 {
            let mut got = [0.0f64; 5];
            for ((l, ty), dv) in self.leaves.iter().zip(&types).zip(&disp) {
                let ws = weights(l, ty, &mult);
                let s: f64 = ws.iter().sum();
                if s <= 0.0 {
                    continue;
                }
                for (w, t) in ws.iter().zip(ty) {
                    got[*t] += dv * w / s;
                }
            }
            let g: f64 = got.iter().sum::<f64>().max(1e-12);
            for k in 0..5 {
                if got[k] > 0.0 {
                    mult[k] *= (target::UNIT_TYPE[k] / (got[k] / g)).powf(0.7);
                }
            }
        }
        for (l, ty) in self.leaves.iter_mut().zip(&types) {
            l.lead_pick = Alias::new(&weights(l, ty, &mult));
        }
        // 3. districts per category
        let mut top_disp = vec![0.0; self.tops.len()];
        for (l, dv) in self.leaves.iter().zip(&disp) {
            top_disp[l.top] += dv;
        }
        let nd = self.districts.len();
        let mut m = vec![1.0f64; nd];
        let cond = |t: &Top, m: &[f64]| -> Vec<f64> {
            (0..nd)
                .map(|i| self.district_share[i] * t.zone[self.district_zone[i]] * m[i])
                .collect()
        };
        for _ in 0..300 {
            let mut got = vec![0.0f64; nd];
            for (t, tv) in self.tops.iter().zip(&top_disp) {
                let w = cond(t, &m);
                let s: f64 = w.iter().sum::<f64>().max(1e-12);
                for i in 0..nd {
                    got[i] += tv * w[i] / s;
                }
            }
            let g: f64 = got.iter().sum::<f64>().max(1e-12);
            for i in 0..nd {
                if got[i] > 0.0 {
                    m[i] *= (self.district_share[i] / (got[i] / g)).powf(0.7);
                }
            }
        }
        let picks: Vec<Alias> = self.tops.iter().map(|t| Alias::new(&cond(t, &m))).collect();
        for (t, p) in self.tops.iter_mut().zip(picks) {
            t.district_pick = p;
        }
        // 4. resolution: final resolved share among contacted callbacks
        let final_resolved = |r: f64| {
            // an unresolved first callback may be reopened; its second callback replaces it
            let unresolved = (1.0 - r) * (1.0 - PARTLY);
            r + unresolved * REOPEN_IF_UNRESOLVED * REOPEN_RESOLVED
        };
        // per leaf: the first-round log-odds whose final share (after reopens) is the profile's
        // figure, so that e.g. 拆迁补偿 stays near 17.6 %; then one shift for the overall 85 %
        let raw_r: Vec<f64> = self
            .leaves
            .iter()
            .map(|l| {
                solve(l.raw_resolution.clamp(0.01, 0.99), |x| {
                    final_resolved(mean_sigmoid(x, UNIT_SPREAD))
                })
            })
            .collect();
        let dr = solve(target::RESOLUTION, |d| {
            raw_r
                .iter()
                .zip(&disp)
                .map(|(x, v)| v * final_resolved(mean_sigmoid(x + d, UNIT_SPREAD)))
                .sum::<f64>()
                / dtotal
        });
        for (l, x) in self.leaves.iter_mut().zip(&raw_r) {
            l.resolution_logit = x + dr;
        }
        // 5. satisfaction given resolution
        let rs: Vec<f64> = self
            .leaves
            .iter()
            .map(|l| final_resolved(mean_sigmoid(l.resolution_logit, UNIT_SPREAD)))
            .collect();
        let sat_of = |want: f64, r: f64| -> (f64, f64) {
            let want = want.clamp(0.0, 1.0);
            let a = SATISFIED_IF_RESOLVED
                .min(want / r.max(1e-6))
                .clamp(0.0, 1.0);
            let b = if r < 1.0 {
                ((want - r * a) / (1.0 - r)).clamp(0.0, 1.0)
            } else {
                0.5
            };
            (a, b)
        };
        let ds = solve(target::SATISFACTION, |s| {
            self.leaves
                .iter()
                .zip(&rs)
                .zip(&disp)
                .map(|((l, r), v)| {
                    let (a, b) = sat_of(l.raw_satisfaction + s, *r);
                    v * (r * a + (1.0 - r) * b)
                })
                .sum::<f64>()
                / dtotal
        });
        let sats: Vec<(f64, f64)> = self
            .leaves
            .iter()
            .zip(&rs)
            .map(|(l, r)| sat_of(l.raw_satisfaction + ds, *r))
            .collect();
        for (l, (a, b)) in self.leaves.iter_mut().zip(sats) {
            l.satisfied_if_resolved = a;
            l.satisfied_if_not_resolved = b;
        }
        self.build_leaf_samplers();
    }

    /// Expected shares implied by the calibrated model (for the record and tests).
    pub fn expected(&self) -> serde_json::Value {
        let vol = self.leaf_volume();
        let total: f64 = vol.iter().sum();
        let mut cat = BTreeMap::new();
        for (l, v) in self.leaves.iter().zip(&vol) {
            *cat.entry(self.tops[l.top].name.clone()).or_insert(0.0) += v / total;
        }
        serde_json::json!({ "category_share": cat })
    }
}

/// A unit's quality trait: a standard-normal draw fixed by the seed and the unit's code.
pub fn unit_quality(seed: u64, code: &str) -> f64 {
    let mut r = Rng::new(seed, crate::rng::purpose::UNIT, crate::rng::hash_str(code));
    r.normal()
}
