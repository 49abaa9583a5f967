//! 合成事实 — Beijing-scale ticket facts drawn at random from a city's distributions, straight into
//! the columnar partitions ([`TicketFacts`]): for benchmarks and load tests of the data platform,
//! where the full demo generator (tickets with their events, through the store) would take hours
//! for three years of a big city.
//!
//! Pure: no IO, no clock, and deterministic — the same options, profile, tree and units give the
//! same facts, whatever the number of threads (each month draws from a generator seeded by the
//! seed and the month alone). The caller hands in the distributions: the CLI fills a
//! [`SynthProfile`] from `jiesu-refdata`'s calibration (category shares, seasonality, direct-answer
//! shares, who leads each leaf, district populations); [`SynthProfile::default`] holds the seed
//! report's city-wide figures only.
//!
//! What is drawn, per ticket: the day (spread evenly over the month, weekends lighter) and hour;
//! the channel (phone, else an online channel, by the year's online share); the leaf category (by
//! share × its month's seasonal multiplier); the district (by population), a street of it and
//! often a community; answered directly or dispatched (by the leaf's direct share); when
//! dispatched, the lead unit (by the leaf's lead options, else by the city's shares of lead unit
//! kinds), the deadline tier, flags, durations and the callback (resolution and satisfaction around
//! the leaf's rates); the requester, from a pool that grows by year and is skewed so that repeat
//! requesters exist.

use crate::facts::{flag, Column, FactError, FactPartition, LocalMonth, TicketFacts, NO_DURATION};
use chrono::Datelike;
use jiesu_domain::category::CategoryTree;
use jiesu_domain::org::UnitKind;
use jiesu_domain::state::Status;
use jiesu_domain::ticket::{Channel, DeadlineTier, RequestType, Resolution, Satisfaction};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

/// What to draw: how many, from when, with which seed.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthOptions {
    /// Seed of every draw.
    pub seed: u64,
    /// Volume multiplier: 1.0 draws the profile's volumes (and scales the requester pool alike).
    pub scale: f64,
    /// The first month.
    pub from: LocalMonth,
    /// How many months from `from`.
    pub months: u32,
    /// Threads drawing months in parallel (0: every core). The facts do not depend on it.
    pub threads: usize,
}

impl Default for SynthOptions {
    /// The seed report's three years, 2019-01 … 2021-12, at full volume.
    fn default() -> Self {
        SynthOptions {
            seed: 12345,
            scale: 1.0,
            from: LocalMonth {
                year: 2019,
                month: 1,
            },
            months: 36,
            threads: 0,
        }
    }
}

/// One calendar year's volume (at scale 1, for twelve months).
#[derive(Debug, Clone, PartialEq)]
pub struct SynthYear {
    /// The year.
    pub year: i32,
    /// Requests in twelve months.
    pub requests: f64,
    /// Share of online channels (the rest by phone).
    pub online_share: f64,
    /// Distinct requesters the year should have (about).
    pub requesters: f64,
}

/// Who leads a dispatched ticket (one option of a leaf).
#[derive(Debug, Clone, PartialEq)]
pub enum SynthLead {
    /// The street/town of the ticket's place.
    StreetTown,
    /// The department of the ticket's district whose code is the district's code followed by this
    /// suffix (a department slot, e.g. `D06`).
    DistrictDepartment(String),
    /// This unit.
    Unit(String),
    /// Any unit of this kind: for district departments one of the ticket's district, otherwise
    /// any, the first in code order the most often.
    AnyOf(UnitKind),
}

/// A leaf category's calibration.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthLeaf {
    /// The leaf's code (in the category tree).
    pub code: String,
    /// Relative volume (the leaves' shares need not sum to 1).
    pub share: f64,
    /// Monthly multipliers, January first.
    pub seasonal: [f64; 12],
    /// Share answered directly (the rest is dispatched).
    pub direct_share: f64,
    /// Callback 解决率 of dispatched tickets (resolved + ½ partly).
    pub resolution: f64,
    /// Callback 满意率 of dispatched tickets (satisfied + 0.8 × basic).
    pub satisfaction: f64,
    /// Deadline tier of dispatched tickets.
    pub tier: DeadlineTier,
    /// Lead options with weights (empty: the city's lead-kind shares).
    pub leads: Vec<(SynthLead, f64)>,
}

/// A unit tickets may be placed at or dispatched to.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthUnit {
    /// Its code (a street/town's or community's code is also the place's code).
    pub code: String,
    /// Its kind.
    pub kind: UnitKind,
    /// The district it belongs to (a district: itself), if any.
    pub district: Option<String>,
    /// Its parent's code (a community's street).
    pub parent: Option<String>,
}

/// The city's distributions.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthProfile {
    /// Volumes by year; a month of a year not listed takes the nearest year's.
    pub years: Vec<SynthYear>,
    /// Monthly volume multipliers, January first (normalised to a mean of 1).
    pub monthly: [f64; 12],
    /// Online channels and their weights among online requests.
    pub online_channels: Vec<(Channel, f64)>,
    /// Lead unit kinds of dispatched tickets, for leaves without lead options.
    pub lead_kinds: Vec<(UnitKind, f64)>,
    /// Direct-answer share, resolution and satisfaction of the tree's leaves when `leaves` is
    /// empty.
    pub direct_share: f64,
    /// See `direct_share`.
    pub resolution: f64,
    /// See `direct_share`.
    pub satisfaction: f64,
    /// Share of 表扬 requests.
    pub praise_share: f64,
    /// Share of enterprise requests.
    pub enterprise_share: f64,
    /// Districts with their weights (population); empty: the district units, equally.
    pub districts: Vec<(String, f64)>,
    /// Leaf calibrations; empty: every leaf of the tree, equally.
    pub leaves: Vec<SynthLeaf>,
    /// Requester pool of a year ÷ the distinct requesters wanted (the draws are skewed towards
    /// the oldest requesters: a pool of 1.3 × gives about the wanted number of distinct ones).
    pub requester_pool: f64,
}

impl Default for SynthProfile {
    /// The city-wide figures of the seed's 专项报告四 (Beijing 2019–2021): 696 万, 1,104 万 and
    /// 1,335 万 requests in 11 months (→ 1,456 万 a year), online 2 %, 7 % and 10.5 %; 58.5 %
    /// answered directly; lead kinds 区级部门 37.8 %, 街乡镇 36.0 %, 市属机构 16.1 %, 国有企业 7.4 %,
    /// 电商 2.7 %; 282, 435 and 562 万 (11 months → 613 万) callers.
    fn default() -> Self {
        SynthProfile {
            years: vec![
                SynthYear {
                    year: 2019,
                    requests: 696.0e4,
                    online_share: 0.02,
                    requesters: 282.0e4,
                },
                SynthYear {
                    year: 2020,
                    requests: 1103.94e4,
                    online_share: 0.07,
                    requesters: 435.0e4,
                },
                SynthYear {
                    year: 2021,
                    requests: 1335.0e4 * 12.0 / 11.0,
                    online_share: 0.105,
                    requesters: 562.0e4 * 12.0 / 11.0,
                },
            ],
            monthly: [
                1.00, 0.83, 0.97, 0.96, 0.97, 0.99, 1.04, 1.03, 1.00, 0.94, 1.19, 1.08,
            ],
            online_channels: vec![
                (Channel::Wechat, 0.75),
                (Channel::App, 0.10),
                (Channel::Web, 0.08),
                (Channel::MessageBoard, 0.04),
                (Channel::Weibo, 0.03),
            ],
            lead_kinds: vec![
                (UnitKind::DistrictDepartment, 0.378),
                (UnitKind::StreetTown, 0.360),
                (UnitKind::CityDepartment, 0.161),
                (UnitKind::StateEnterprise, 0.074),
                (UnitKind::Ecommerce, 0.027),
            ],
            direct_share: 0.585,
            resolution: 0.85,
            satisfaction: 0.90,
            praise_share: 0.002,
            enterprise_share: 0.04,
            districts: Vec::new(),
            leaves: Vec::new(),
            requester_pool: 1.3,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// random draws

/// wyrand: a small, fast generator (one multiply per draw), good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        let mut r = Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }
    #[inline]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.0) * u128::from(self.0 ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) as u64) ^ (t as u64)
    }
    /// True with the probability `thr` / 2^64 (see [`thr`]).
    #[inline]
    fn chance(&mut self, thr: u64) -> bool {
        self.next() < thr
    }
    /// Uniform in (0, 1].
    #[inline]
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Uniform in 0..n.
    #[inline]
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
    /// Exponential with this mean.
    #[inline]
    fn exp(&mut self, mean: f64) -> f64 {
        -self.unit().ln() * mean
    }
}

/// A probability as a threshold on a 64-bit draw.
fn thr(p: f64) -> u64 {
    if p.is_nan() || p <= 0.0 {
        0
    } else if p >= 1.0 {
        u64::MAX
    } else {
        (p * 18_446_744_073_709_551_616.0) as u64
    }
}

/// Walker's alias table: a draw among `n` weighted outcomes in constant time.
#[derive(Debug, Clone)]
struct Alias {
    prob: Vec<u32>,
    alias: Vec<u32>,
}

impl Alias {
    /// Over `weights` (negative or non-finite weights count as 0; all zero: uniform).
    fn new(weights: &[f64]) -> Alias {
        let n = weights.len().max(1);
        let clean: Vec<f64> = weights
            .iter()
            .map(|&w| if w.is_finite() && w > 0.0 { w } else { 0.0 })
            .collect();
        let sum: f64 = clean.iter().sum();
        let mut p: Vec<f64> = if sum > 0.0 {
            clean.iter().map(|w| w * n as f64 / sum).collect()
        } else {
            vec![1.0; n]
        };
        p.resize(n, 0.0);
        let mut prob = vec![u32::MAX; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| p[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            prob[s] = (p[s] * 4_294_967_296.0).min(4_294_967_295.0) as u32;
            alias[s] = l as u32;
            p[l] -= 1.0 - p[s];
            if p[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        Alias { prob, alias }
    }
    #[inline]
    fn sample(&self, r: u64) -> usize {
        let i = (((r >> 32) * self.prob.len() as u64) >> 32) as usize;
        if (r as u32) < self.prob[i] || self.prob[i] == u32::MAX {
            i
        } else {
            self.alias[i] as usize
        }
    }
}

/// Weights falling with rank (a mild Zipf law): the first units are the busiest.
fn zipf(n: usize) -> Vec<f64> {
    (0..n).map(|i| 1.0 / ((i + 1) as f64).powf(0.8)).collect()
}

// ---------------------------------------------------------------------------------------------
// the plan: every distribution resolved to dictionary ids, shared by the month workers

#[derive(Debug, Clone, Copy)]
enum Lead {
    /// The ticket's street (its unit; the district's departments when the street has none).
    Street,
    /// A department slot of the ticket's district.
    Slot(usize),
    /// A fixed unit id.
    Unit(u16),
    /// Any department of the ticket's district.
    DistrictAny,
    /// Any unit of a kind (index into `Plan::pools`).
    Pool(usize),
}

struct CStreet {
    place: u16,
    unit: u16,
    communities: Vec<u16>,
}

struct CDistrict {
    place: u16,
    streets: Vec<CStreet>,
    /// Unit id per slot (0: none).
    slots: Vec<u16>,
    /// The district's departments, and a draw among them.
    depts: Vec<u16>,
    dept_draw: Alias,
}

struct CLeaf {
    category: u16,
    direct: u64,
    resolved: u64,
    partly: u64,
    satisfied: u64,
    basic: u64,
    tier: u8,
    tier_secs: f64,
    /// Cumulative thresholds and options (the last threshold is `u64::MAX`).
    leads: Vec<(u64, Lead)>,
}

struct Plan {
    districts: Vec<CDistrict>,
    district_draw: Alias,
    leaves: Vec<CLeaf>,
    /// Per kind pool: unit ids and a draw among them.
    pools: Vec<(Vec<u16>, Alias)>,
    online: Vec<u8>,
    online_draw: Alias,
    hours: Alias,
    direct_types: (Vec<u8>, Alias),
    dispatched_types: (Vec<u8>, Alias),
    praise: u8,
    praise_thr: u64,
    enterprise_thr: u64,
    status: StatusCodes,
}

struct StatusCodes {
    answered: u8,
    closed: u8,
    callback_done: u8,
    archived: u8,
    dispatched: u8,
    in_progress: u8,
    result_submitted: u8,
}

fn pos<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter()
        .position(|x| x == v)
        .map(|p| p as u8 + 1)
        .unwrap_or(0)
}

/// Hour-of-day profile of a hotline (24 hours, busy from 8 to 20).
const HOURS: [f64; 24] = [
    1.2, 0.7, 0.5, 0.4, 0.4, 0.8, 2.0, 4.5, 7.5, 8.8, 8.9, 8.2, 6.6, 7.2, 7.8, 7.6, 7.0, 6.2, 5.0,
    4.4, 3.8, 3.0, 2.2, 1.6,
];

fn cumulative(options: &[(Lead, f64)]) -> Vec<(u64, Lead)> {
    let total: f64 = options
        .iter()
        .map(|(_, w)| if *w > 0.0 { *w } else { 0.0 })
        .sum();
    let mut acc = 0.0;
    let mut out: Vec<(u64, Lead)> = options
        .iter()
        .filter(|(_, w)| *w > 0.0)
        .map(|(l, w)| {
            acc += w / total;
            (thr(acc), *l)
        })
        .collect();
    if let Some(last) = out.last_mut() {
        last.0 = u64::MAX;
    }
    out
}

/// Builds the dictionaries (codes interned in code order, so dictionary ids sort like codes) and
/// the plan.
fn plan(
    profile: &SynthProfile,
    tree: &CategoryTree,
    units: &[SynthUnit],
) -> Result<(TicketFacts, Plan), FactError> {
    let mut facts = TicketFacts::new();
    let place = |facts: &mut TicketFacts, code: &str, parent: u16| -> Result<u16, FactError> {
        let id = facts
            .places
            .intern(code)
            .ok_or(FactError::TooManyCodes("place"))?;
        if usize::from(id) == facts.place_parent.len() {
            facts.place_parent.push(parent);
        }
        Ok(id)
    };

    // districts, streets, communities
    let mut districts: Vec<(String, f64)> = if profile.districts.is_empty() {
        units
            .iter()
            .filter(|u| u.kind == UnitKind::District)
            .map(|u| (u.code.clone(), 1.0))
            .collect()
    } else {
        profile.districts.clone()
    };
    districts.sort_by(|a, b| a.0.cmp(&b.0));
    districts.dedup_by(|a, b| a.0 == b.0);
    let mut sorted: Vec<&SynthUnit> = units.iter().collect();
    sorted.sort_by(|a, b| a.code.cmp(&b.code));
    let mut cdistricts = Vec::with_capacity(districts.len());
    for (code, _) in &districts {
        cdistricts.push(CDistrict {
            place: place(&mut facts, code, 0)?,
            streets: Vec::new(),
            slots: Vec::new(),
            depts: Vec::new(),
            dept_draw: Alias::new(&[]),
        });
    }
    let district_index: HashMap<&str, usize> = districts
        .iter()
        .enumerate()
        .map(|(i, (c, _))| (c.as_str(), i))
        .collect();
    let mut street_at: HashMap<&str, (usize, usize)> = HashMap::new();
    for u in sorted.iter().filter(|u| u.kind == UnitKind::StreetTown) {
        let Some(&d) = u.district.as_deref().and_then(|d| district_index.get(d)) else {
            continue;
        };
        let p = place(&mut facts, &u.code, cdistricts[d].place)?;
        street_at.insert(u.code.as_str(), (d, cdistricts[d].streets.len()));
        cdistricts[d].streets.push(CStreet {
            place: p,
            unit: 0,
            communities: Vec::new(),
        });
    }
    for u in sorted.iter().filter(|u| u.kind == UnitKind::Community) {
        let Some(&(d, s)) = u.parent.as_deref().and_then(|p| street_at.get(p)) else {
            continue;
        };
        let p = place(&mut facts, &u.code, cdistricts[d].streets[s].place)?;
        cdistricts[d].streets[s].communities.push(p);
    }

    // lead units, in code order
    let leads_kinds = [
        UnitKind::District,
        UnitKind::DistrictDepartment,
        UnitKind::StreetTown,
        UnitKind::CityDepartment,
        UnitKind::StateEnterprise,
        UnitKind::Ecommerce,
        UnitKind::Other,
    ];
    let mut unit_id: HashMap<&str, u16> = HashMap::new();
    for u in sorted.iter().filter(|u| leads_kinds.contains(&u.kind)) {
        let id = facts
            .units
            .intern(&u.code)
            .ok_or(FactError::TooManyCodes("unit"))?;
        if usize::from(id) == facts.unit_kind.len() {
            facts.unit_kind.push(pos(&UnitKind::ALL, &u.kind));
        }
        unit_id.insert(u.code.as_str(), id);
    }
    for (code, &(d, s)) in &street_at {
        cdistricts[d].streets[s].unit = unit_id.get(code).copied().unwrap_or(0);
    }
    // department slots: the suffix of a department's code after its district's
    let mut slot_names: Vec<String> = Vec::new();
    let mut dept_of: Vec<(usize, String, u16)> = Vec::new();
    for u in sorted
        .iter()
        .filter(|u| u.kind == UnitKind::DistrictDepartment)
    {
        let Some(d) = u.district.as_deref() else {
            continue;
        };
        let Some(&di) = district_index.get(d) else {
            continue;
        };
        let slot = u.code.strip_prefix(d).unwrap_or(&u.code).to_string();
        if !slot_names.contains(&slot) {
            slot_names.push(slot.clone());
        }
        dept_of.push((di, slot, unit_id[u.code.as_str()]));
    }
    slot_names.sort();
    for cd in cdistricts.iter_mut() {
        cd.slots = vec![0; slot_names.len()];
    }
    for (di, slot, id) in dept_of {
        let si = slot_names
            .binary_search(&slot)
            .expect("every slot was collected");
        cdistricts[di].slots[si] = id;
        cdistricts[di].depts.push(id);
    }
    for cd in cdistricts.iter_mut() {
        cd.dept_draw = Alias::new(&zipf(cd.depts.len()));
    }

    // pools of units by kind (for "any of a kind")
    let pools: Vec<(Vec<u16>, Alias)> = UnitKind::ALL
        .iter()
        .map(|k| {
            let ids: Vec<u16> = sorted
                .iter()
                .filter(|u| u.kind == *k)
                .filter_map(|u| unit_id.get(u.code.as_str()).copied())
                .collect();
            let draw = Alias::new(&zipf(ids.len()));
            (ids, draw)
        })
        .collect();
    let kind_lead = |k: UnitKind| -> Lead {
        match k {
            UnitKind::StreetTown => Lead::Street,
            UnitKind::DistrictDepartment => Lead::DistrictAny,
            k => Lead::Pool(usize::from(pos(&UnitKind::ALL, &k)) - 1),
        }
    };
    let fallback = cumulative(
        &profile
            .lead_kinds
            .iter()
            .map(|(k, w)| (kind_lead(*k), *w))
            .collect::<Vec<_>>(),
    );

    // leaves, in code order
    let mut leaves: Vec<SynthLeaf> = if profile.leaves.is_empty() {
        tree.leaves()
            .filter(|c| c.active)
            .map(|c| SynthLeaf {
                code: c.code.clone(),
                share: 1.0,
                seasonal: [1.0; 12],
                direct_share: profile.direct_share,
                resolution: profile.resolution,
                satisfaction: profile.satisfaction,
                tier: DeadlineTier::D7,
                leads: Vec::new(),
            })
            .collect()
    } else {
        profile.leaves.clone()
    };
    leaves.sort_by(|a, b| a.code.cmp(&b.code));
    let mut cleaves = Vec::with_capacity(leaves.len());
    for l in &leaves {
        let category = facts
            .categories
            .intern(&l.code)
            .ok_or(FactError::TooManyCodes("category"))?;
        let options: Vec<(Lead, f64)> = l
            .leads
            .iter()
            .map(|(t, w)| {
                let lead = match t {
                    SynthLead::StreetTown => Lead::Street,
                    SynthLead::DistrictDepartment(s) => match slot_names.binary_search(s) {
                        Ok(i) => Lead::Slot(i),
                        Err(_) => Lead::DistrictAny,
                    },
                    SynthLead::Unit(c) => match unit_id.get(c.as_str()) {
                        Some(&id) => Lead::Unit(id),
                        None => Lead::DistrictAny,
                    },
                    SynthLead::AnyOf(k) => kind_lead(*k),
                };
                (lead, *w)
            })
            .collect();
        let leads = if options.iter().any(|(_, w)| *w > 0.0) {
            cumulative(&options)
        } else {
            fallback.clone()
        };
        // 解决率 = resolved + ½ partly with partly at 12 %; 满意率 = satisfied + 0.8 basic, basic 14 %
        let partly = 0.12f64.min(2.0 * l.resolution.clamp(0.0, 1.0));
        let resolved = (l.resolution - 0.5 * partly).clamp(0.0, 1.0 - partly);
        let basic = 0.14f64.min(l.satisfaction.clamp(0.0, 1.0) / 0.8);
        let satisfied = (l.satisfaction - 0.8 * basic).clamp(0.0, 1.0 - basic);
        cleaves.push(CLeaf {
            category,
            direct: thr(l.direct_share),
            resolved: thr(resolved),
            partly: thr(resolved + partly),
            satisfied: thr(satisfied),
            basic: thr(satisfied + basic),
            tier: pos(DeadlineTier::ALL, &l.tier),
            tier_secs: (l.tier.minutes() * 60) as f64,
            leads,
        });
    }

    let types = |v: &[(RequestType, f64)]| {
        (
            v.iter()
                .map(|(t, _)| pos(RequestType::ALL, t))
                .collect::<Vec<u8>>(),
            Alias::new(&v.iter().map(|x| x.1).collect::<Vec<_>>()),
        )
    };
    let online: Vec<(Channel, f64)> = if profile.online_channels.is_empty() {
        vec![(Channel::Wechat, 1.0)]
    } else {
        profile.online_channels.clone()
    };
    let plan = Plan {
        district_draw: Alias::new(&districts.iter().map(|d| d.1).collect::<Vec<_>>()),
        districts: cdistricts,
        leaves: cleaves,
        pools,
        online: online.iter().map(|(c, _)| pos(Channel::ALL, c)).collect(),
        online_draw: Alias::new(&online.iter().map(|c| c.1).collect::<Vec<_>>()),
        hours: Alias::new(&HOURS),
        direct_types: types(&[
            (RequestType::Consultation, 0.90),
            (RequestType::Help, 0.07),
            (RequestType::Suggestion, 0.03),
        ]),
        dispatched_types: types(&[
            (RequestType::Complaint, 0.45),
            (RequestType::Help, 0.30),
            (RequestType::Report, 0.10),
            (RequestType::Consultation, 0.08),
            (RequestType::Suggestion, 0.07),
        ]),
        praise: pos(RequestType::ALL, &RequestType::Praise),
        praise_thr: thr(profile.praise_share),
        enterprise_thr: thr(profile.enterprise_share),
        status: StatusCodes {
            answered: pos(Status::ALL, &Status::Answered),
            closed: pos(Status::ALL, &Status::Closed),
            callback_done: pos(Status::ALL, &Status::CallbackDone),
            archived: pos(Status::ALL, &Status::Archived),
            dispatched: pos(Status::ALL, &Status::Dispatched),
            in_progress: pos(Status::ALL, &Status::InProgress),
            result_submitted: pos(Status::ALL, &Status::ResultSubmitted),
        },
    };
    Ok((facts, plan))
}

// ---------------------------------------------------------------------------------------------
// months

/// What one month draws.
struct MonthSpec {
    month: LocalMonth,
    /// Its position from the first month (the generator's stream).
    index: u64,
    rows: usize,
    first_id: i64,
    online: u64,
    pool: u32,
    /// Leaf draw with the month's seasonality.
    leaves: Alias,
    /// The last month drawn (its last week is partly still open).
    last: bool,
}

fn year_of(profile: &SynthProfile, year: i32) -> Option<&SynthYear> {
    profile
        .years
        .iter()
        .min_by_key(|y| ((y.year - year).abs(), y.year))
}

fn days_in(m: LocalMonth) -> u32 {
    (m.next().first_day() - m.first_day()).num_days() as u32
}

/// Draws one month's partition.
fn draw_month(plan: &Plan, spec: &MonthSpec, seed: u64) -> FactPartition {
    let n = spec.rows;
    let mut p = FactPartition {
        month: Some(spec.month),
        generation: 0,
        ticket_id: Column::with_capacity(n),
        day: Column::with_capacity(n),
        hour: Column::with_capacity(n),
        channel: Column::with_capacity(n),
        request_type: Column::with_capacity(n),
        category: Column::with_capacity(n),
        street: Column::with_capacity(n),
        district: Column::with_capacity(n),
        community: Column::with_capacity(n),
        lead_unit: Column::with_capacity(n),
        tier: Column::with_capacity(n),
        status: Column::with_capacity(n),
        flags: Column::with_capacity(n),
        callback: Column::with_capacity(n),
        secs_to_sign: Column::with_capacity(n),
        secs_to_respond: Column::with_capacity(n),
        secs_to_finish: Column::with_capacity(n),
        requester: Column::with_capacity(n),
        cube: Default::default(),
    };
    let mut rng = Rng::new(seed, spec.index);
    // days: rows spread by weight (weekends at 85 %), in order
    let days = days_in(spec.month);
    let weights: Vec<f64> = (1..=days)
        .map(|d| {
            let wd = (spec.month.first_day() + chrono::Duration::days(i64::from(d - 1)))
                .weekday()
                .num_days_from_monday();
            if wd >= 5 {
                0.85
            } else {
                1.0
            }
        })
        .collect();
    let wsum: f64 = weights.iter().sum();
    let mut ends = Vec::with_capacity(days as usize);
    let mut acc = 0.0;
    for w in &weights {
        acc += w;
        ends.push(((acc / wsum) * n as f64).round() as usize);
    }
    if let Some(e) = ends.last_mut() {
        *e = n;
    }
    let st = &plan.status;
    let resolved_code = pos(Resolution::ALL, &Resolution::Resolved);
    let partly_code = pos(Resolution::ALL, &Resolution::Partly);
    let unresolved_code = pos(Resolution::ALL, &Resolution::Unresolved);
    let satisfied_code = pos(Satisfaction::ALL, &Satisfaction::Satisfied);
    let basic_code = pos(Satisfaction::ALL, &Satisfaction::Basic);
    let unsatisfied_code = pos(Satisfaction::ALL, &Satisfaction::Unsatisfied);
    let (overdue_thr, returned_thr, reopened_thr, responded_thr) =
        (thr(0.04), thr(0.06), thr(0.03), thr(0.96));
    let (contacted_thr, not_reached_thr) = (thr(0.88), thr(0.96));
    let community_thr = thr(0.85);
    let phone_less_thr = thr(0.3);
    let open_from = days.saturating_sub(7);
    let mut day = 1u8;
    for i in 0..n {
        while i >= ends[usize::from(day) - 1] {
            day += 1;
        }
        p.ticket_id.push(spec.first_id + i as i64);
        p.day.push(day);
        p.hour.push(plan.hours.sample(rng.next()) as u8);
        let online = rng.chance(spec.online);
        p.channel.push(if online {
            plan.online[plan.online_draw.sample(rng.next())]
        } else {
            1 // Channel::ALL[0] = Phone (checked in tests)
        });
        let leaf = &plan.leaves[spec.leaves.sample(rng.next())];
        p.category.push(leaf.category);
        let (district, street) = if plan.districts.is_empty() {
            (None, None)
        } else {
            let d = &plan.districts[plan.district_draw.sample(rng.next())];
            let s = (!d.streets.is_empty()).then(|| &d.streets[rng.below(d.streets.len())]);
            (Some(d), s)
        };
        p.district.push(district.map_or(0, |d| d.place));
        p.street.push(street.map_or(0, |s| s.place));
        let community = match street {
            Some(s) if !s.communities.is_empty() && rng.chance(community_thr) => {
                s.communities[rng.below(s.communities.len())]
            }
            _ => 0,
        };
        p.community.push(community);
        let mut flags = 0u8;
        if rng.chance(plan.enterprise_thr) {
            flags |= flag::ENTERPRISE;
        }
        let praise = rng.chance(plan.praise_thr);
        if rng.chance(leaf.direct) {
            flags |= flag::ANSWERED_DIRECTLY;
            let (codes, draw) = &plan.direct_types;
            p.request_type.push(if praise {
                plan.praise
            } else {
                codes[draw.sample(rng.next())]
            });
            p.lead_unit.push(0);
            p.tier.push(0);
            p.status.push(if rng.chance(thr(0.9)) {
                st.closed
            } else {
                st.answered
            });
            p.callback.push(0);
            p.secs_to_sign.push(NO_DURATION);
            p.secs_to_respond.push(NO_DURATION);
            p.secs_to_finish.push(NO_DURATION);
        } else {
            flags |= flag::DISPATCHED;
            let (codes, draw) = &plan.dispatched_types;
            p.request_type.push(if praise {
                plan.praise
            } else {
                codes[draw.sample(rng.next())]
            });
            let r = rng.next();
            let lead = leaf
                .leads
                .iter()
                .find(|(t, _)| r < *t)
                .or(leaf.leads.last())
                .map(|(_, l)| *l);
            p.lead_unit
                .push(lead.map_or(0, |l| pick_unit(plan, l, district, street, &mut rng)));
            p.tier.push(leaf.tier);
            let open = spec.last && u32::from(day) > open_from && rng.chance(thr(0.5));
            let overdue = rng.chance(overdue_thr);
            if overdue {
                flags |= flag::OVERDUE;
            }
            if rng.chance(returned_thr) {
                flags |= flag::RETURNED;
            }
            if !open && rng.chance(reopened_thr) {
                flags |= flag::REOPENED;
            }
            if rng.chance(responded_thr) {
                flags |= flag::RESPONDED_IN_TIME;
            }
            let sign = rng.exp(1800.0).min(leaf.tier_secs * 0.5);
            let respond = sign + rng.exp(4.0 * 3600.0).min(leaf.tier_secs);
            p.secs_to_sign.push(sign as u32);
            p.secs_to_respond.push(respond as u32);
            if open {
                p.status.push(match rng.below(3) {
                    0 => st.dispatched,
                    1 => st.in_progress,
                    _ => st.result_submitted,
                });
                p.callback.push(0);
                p.secs_to_finish.push(NO_DURATION);
            } else {
                let finish = if overdue {
                    leaf.tier_secs * (1.0 + rng.exp(0.3))
                } else {
                    respond + (leaf.tier_secs - respond).max(0.0) * rng.unit() * 0.95
                };
                p.secs_to_finish.push(finish as u32);
                let c = rng.next();
                let callback = if c < contacted_thr {
                    let r = rng.next();
                    let res = if r < leaf.resolved {
                        resolved_code
                    } else if r < leaf.partly {
                        partly_code
                    } else {
                        unresolved_code
                    };
                    let s = rng.next();
                    let sat = if s < leaf.satisfied {
                        satisfied_code
                    } else if s < leaf.basic {
                        basic_code
                    } else {
                        unsatisfied_code
                    };
                    1 | (res << 2) | (sat << 5)
                } else if c < not_reached_thr {
                    2
                } else {
                    0
                };
                p.callback.push(callback);
                p.status.push(match rng.below(20) {
                    0 => st.archived,
                    1..=6 => st.callback_done,
                    _ => st.closed,
                });
            }
        }
        p.flags.push(flags);
        let requester = if !online || !rng.chance(phone_less_thr) {
            let u = rng.unit();
            1 + ((f64::from(spec.pool) * u * u) as u32).min(spec.pool - 1)
        } else {
            0
        };
        p.requester.push(requester);
    }
    p
}

fn pick_unit(
    plan: &Plan,
    lead: Lead,
    district: Option<&CDistrict>,
    street: Option<&CStreet>,
    rng: &mut Rng,
) -> u16 {
    let any_dept = |rng: &mut Rng| -> u16 {
        match district {
            Some(d) if !d.depts.is_empty() => d.depts[d.dept_draw.sample(rng.next())],
            _ => {
                let (ids, draw) = &plan.pools
                    [usize::from(pos(&UnitKind::ALL, &UnitKind::DistrictDepartment)) - 1];
                if ids.is_empty() {
                    0
                } else {
                    ids[draw.sample(rng.next())]
                }
            }
        }
    };
    match lead {
        Lead::Street => match street {
            Some(s) if s.unit != 0 => s.unit,
            _ => any_dept(rng),
        },
        Lead::Slot(i) => match district.map(|d| d.slots[i]) {
            Some(id) if id != 0 => id,
            _ => any_dept(rng),
        },
        Lead::Unit(id) => id,
        Lead::DistrictAny => any_dept(rng),
        Lead::Pool(k) => {
            let (ids, draw) = &plan.pools[k];
            if ids.is_empty() {
                any_dept(rng)
            } else {
                ids[draw.sample(rng.next())]
            }
        }
    }
}

/// Draws the facts of `opts.months` months from `opts.from` (see the module's documentation).
/// Fails only when the tree or the units hold more codes than the facts' dictionaries do.
pub fn synthesize(
    opts: &SynthOptions,
    profile: &SynthProfile,
    tree: &CategoryTree,
    units: &[SynthUnit],
) -> Result<TicketFacts, FactError> {
    synthesize_each(opts, profile, tree, units, &|_| {})
}

/// [`synthesize`], handing each month to `each` on the thread that drew it, as soon as it is
/// drawn (e.g. to move its columns out of memory, as a server does with each month it reads).
pub fn synthesize_each(
    opts: &SynthOptions,
    profile: &SynthProfile,
    tree: &CategoryTree,
    units: &[SynthUnit],
    each: &(dyn Fn(&mut FactPartition) + Sync),
) -> Result<TicketFacts, FactError> {
    let (mut facts, plan) = plan(profile, tree, units)?;
    if plan.leaves.is_empty() || opts.months == 0 || opts.scale.is_nan() || opts.scale <= 0.0 {
        return Ok(facts);
    }
    let mean = profile.monthly.iter().sum::<f64>() / 12.0;
    let monthly = |m: u32| {
        let v = profile.monthly[(m - 1) as usize];
        if mean > 0.0 && v > 0.0 {
            v / mean
        } else {
            1.0
        }
    };
    // every month's volume first: ticket ids run on across months
    let mut specs = Vec::with_capacity(opts.months as usize);
    let mut month = opts.from;
    let mut next_id = 1i64;
    let mut pool_max = 1u32;
    let leaf_share: Vec<f64> = {
        let mut l = profile.leaves.clone();
        l.sort_by(|a, b| a.code.cmp(&b.code));
        l.iter().map(|l| l.share).collect()
    };
    let leaf_seasonal: Vec<[f64; 12]> = {
        let mut l = profile.leaves.clone();
        l.sort_by(|a, b| a.code.cmp(&b.code));
        l.iter().map(|l| l.seasonal).collect()
    };
    for index in 0..opts.months {
        let year = year_of(profile, month.year);
        let requests = year.map_or(0.0, |y| y.requests);
        let rows = (requests / 12.0 * monthly(month.month) * opts.scale).round() as usize;
        let pool = year.map_or(1.0, |y| {
            (y.requesters * profile.requester_pool * opts.scale).round()
        });
        let pool = (pool.clamp(1.0, f64::from(u32::MAX - 1))) as u32;
        pool_max = pool_max.max(pool);
        let weights: Vec<f64> = if leaf_share.is_empty() {
            vec![1.0; plan.leaves.len()]
        } else {
            leaf_share
                .iter()
                .zip(&leaf_seasonal)
                .map(|(s, season)| s * season[(month.month - 1) as usize])
                .collect()
        };
        specs.push(MonthSpec {
            month,
            index: u64::from(index),
            rows,
            first_id: next_id,
            online: thr(year.map_or(0.0, |y| y.online_share)),
            pool,
            leaves: Alias::new(&weights),
            last: index + 1 == opts.months,
        });
        next_id += rows as i64;
        month = month.next();
    }
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        t => t,
    }
    .clamp(1, specs.len());
    let next = AtomicUsize::new(0);
    let drawn: Vec<FactPartition> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(spec) = specs.get(i) else {
                            return mine;
                        };
                        let mut p = draw_month(&plan, spec, opts.seed);
                        each(&mut p);
                        mine.push(p);
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut partitions = BTreeMap::new();
    for p in drawn {
        if let Some(m) = p.month {
            if !p.is_empty() {
                partitions.insert(m, p);
            }
        }
    }
    facts.partitions = partitions;
    facts.requester_count = pool_max;
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{Dim, Engine, Filter};
    use jiesu_domain::category::Category;

    fn tree() -> CategoryTree {
        let mut cats = Vec::new();
        for a in 1..=4 {
            let l1 = format!("{a:02}");
            cats.push(cat(&l1, 1, None));
            for b in 1..=3 {
                let l2 = format!("{l1}{b:02}");
                cats.push(cat(&l2, 2, Some(&l1)));
                for c in 1..=2 {
                    cats.push(cat(&format!("{l2}{c:02}"), 3, Some(&l2)));
                }
            }
        }
        CategoryTree::new(cats)
    }

    fn cat(code: &str, level: u8, parent: Option<&str>) -> Category {
        Category {
            code: code.into(),
            name: format!("类{code}"),
            level,
            parent: parent.map(str::to_string),
            domain: None,
            active: true,
        }
    }

    fn unit(code: &str, kind: UnitKind, district: Option<&str>, parent: Option<&str>) -> SynthUnit {
        SynthUnit {
            code: code.into(),
            kind,
            district: district.map(str::to_string),
            parent: parent.map(str::to_string),
        }
    }

    fn units() -> Vec<SynthUnit> {
        let mut v = Vec::new();
        for d in ["110101", "110105", "110108"] {
            v.push(unit(d, UnitKind::District, Some(d), None));
            for s in 1..=4 {
                let st = format!("{d}{s:03}");
                v.push(unit(&st, UnitKind::StreetTown, Some(d), Some(d)));
                for c in 1..=3 {
                    v.push(unit(
                        &format!("{st}{c:03}"),
                        UnitKind::Community,
                        Some(d),
                        Some(&st),
                    ));
                }
            }
            for slot in 1..=5 {
                v.push(unit(
                    &format!("{d}D{slot:02}"),
                    UnitKind::DistrictDepartment,
                    Some(d),
                    Some(d),
                ));
            }
        }
        for (prefix, kind) in [
            ("CD", UnitKind::CityDepartment),
            ("SE", UnitKind::StateEnterprise),
            ("EC", UnitKind::Ecommerce),
        ] {
            for i in 1..=6 {
                v.push(unit(&format!("{prefix}{i:03}"), kind, None, None));
            }
        }
        v
    }

    fn small(seed: u64, threads: usize) -> TicketFacts {
        let opts = SynthOptions {
            seed,
            scale: 0.004,
            threads,
            ..SynthOptions::default()
        };
        let profile = SynthProfile {
            districts: vec![
                ("110101".into(), 1.0),
                ("110105".into(), 3.0),
                ("110108".into(), 2.0),
            ],
            ..SynthProfile::default()
        };
        synthesize(&opts, &profile, &tree(), &units()).unwrap()
    }

    #[test]
    fn phone_is_the_first_channel() {
        assert_eq!(Channel::ALL[0], Channel::Phone);
    }

    #[test]
    fn the_same_seed_draws_the_same_facts_whatever_the_threads() {
        let a = small(7, 1);
        let b = small(7, 2);
        assert_eq!(a, b);
        let c = small(8, 2);
        assert_eq!(a.len(), c.len(), "volumes do not depend on the seed");
        assert_ne!(a.partitions, c.partitions);
    }

    #[test]
    fn the_drawn_shares_follow_the_profile() {
        let f = small(1, 0);
        let n = f.len() as f64;
        // volume: 36 months, 2019 → 2021 growing about 2.1 ×
        assert_eq!(f.partitions.len(), 36);
        let expected = (696.0e4 + 1103.94e4 + 1335.0e4 * 12.0 / 11.0) * 0.004;
        assert!((n - expected).abs() / expected < 0.01, "{n} vs {expected}");
        let year = |y: i32| -> f64 {
            f.partitions
                .iter()
                .filter(|(m, _)| m.year == y)
                .map(|(_, p)| p.len() as f64)
                .sum()
        };
        assert!((year(2021) / year(2019) - 1456.36 / 696.0).abs() < 0.01);
        // November is the busiest month of 2021, February the quietest
        let month = |m: u32| {
            f.partitions[&LocalMonth {
                year: 2021,
                month: m,
            }]
                .len()
        };
        assert!((1..=12).all(|m| month(11) >= month(m) && month(2) <= month(m)));

        let tree = tree();
        let e = Engine::new(&f, &tree);
        let all = e.group(&[Dim::Channel], &Filter::default()).unwrap();
        let phone = all.rows.iter().find(|r| r.key[0] == "phone").unwrap();
        let phone_share = phone.measures.count as f64 / n;
        // volume-weighted online share: (2 % × 696 + 7 % × 1104 + 10.5 % × 1456) / 3256 ≈ 7.5 %
        assert!((phone_share - 0.925).abs() < 0.01, "{phone_share}");
        let t = all.total;
        assert_eq!(t.dispatched + t.answered_directly, t.count);
        let direct = t.answered_directly as f64 / n;
        assert!((direct - 0.585).abs() < 0.01, "{direct}");
        let res = t.resolution_rate().unwrap();
        let sat = t.satisfaction_rate().unwrap();
        assert!(
            (res - 0.85).abs() < 0.02 && (sat - 0.90).abs() < 0.02,
            "{res} {sat}"
        );

        let mut dispatched = Filter::default();
        dispatched.eq.push((Dim::Dispatched, "true".into()));
        let kinds = e.group(&[Dim::UnitKind], &dispatched).unwrap();
        for (kind, want) in SynthProfile::default().lead_kinds {
            let got = kinds
                .rows
                .iter()
                .find(|r| r.key[0] == kind.as_str())
                .map_or(0, |r| r.measures.count) as f64
                / kinds.total.count as f64;
            assert!((got - want).abs() < 0.01, "{kind:?}: {got} vs {want}");
        }
        // districts by weight 1 : 3 : 2
        let d = e.group(&[Dim::District], &Filter::default()).unwrap();
        let share = |c: &str| {
            d.rows
                .iter()
                .find(|r| r.key[0] == c)
                .unwrap()
                .measures
                .count as f64
                / n
        };
        assert!((share("110105") - 0.5).abs() < 0.01);
        assert!((share("110101") - 1.0 / 6.0).abs() < 0.01);
        // a street's lead is that street
        for p in f.partitions.values().take(3) {
            for i in 0..p.len() {
                let k = f.unit_kind[usize::from(p.lead_unit[i])];
                if k == pos(&UnitKind::ALL, &UnitKind::StreetTown) {
                    assert_eq!(f.units.code(p.lead_unit[i]), f.places.code(p.street[i]));
                }
            }
        }
    }

    #[test]
    fn repeat_requesters_exist_and_some_come_back_every_year() {
        let f = small(3, 0);
        let tree = tree();
        let e = Engine::new(&f, &tree);
        let (distinct, repeat) = e.requesters(&Filter::default()).unwrap();
        assert!(repeat > 0 && repeat < distinct);
        let year = |y: i32| Filter {
            from: chrono::NaiveDate::from_ymd_opt(y, 1, 1),
            to: chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1),
            ..Filter::default()
        };
        let (d2019, _) = e.requesters(&year(2019)).unwrap();
        let (d2021, _) = e.requesters(&year(2021)).unwrap();
        // about 282 万 and 613 万 at scale 1
        let (w2019, w2021) = (282.0e4 * 0.004, 613.0e4 * 0.004);
        assert!(
            (d2019 as f64 / w2019 - 1.0).abs() < 0.15,
            "{d2019} vs {w2019}"
        );
        assert!(
            (d2021 as f64 / w2021 - 1.0).abs() < 0.15,
            "{d2021} vs {w2021}"
        );
    }

    #[test]
    fn leaf_leads_and_slots_resolve_to_the_tickets_district() {
        let profile = SynthProfile {
            leaves: vec![SynthLeaf {
                code: "010101".into(),
                share: 1.0,
                seasonal: [1.0; 12],
                direct_share: 0.0,
                resolution: 0.8,
                satisfaction: 0.9,
                tier: DeadlineTier::D15,
                leads: vec![
                    (SynthLead::DistrictDepartment("D03".into()), 1.0),
                    (SynthLead::Unit("CD002".into()), 1.0),
                ],
            }],
            ..SynthProfile::default()
        };
        let opts = SynthOptions {
            scale: 0.002,
            months: 2,
            ..SynthOptions::default()
        };
        let f = synthesize(&opts, &profile, &tree(), &units()).unwrap();
        assert!(f.len() > 1000);
        let (mut dept, mut cd) = (0, 0);
        for p in f.partitions.values() {
            for i in 0..p.len() {
                let u = f.units.code(p.lead_unit[i]);
                if u == "CD002" {
                    cd += 1;
                } else {
                    assert_eq!(u, format!("{}D03", f.places.code(p.district[i])));
                    dept += 1;
                }
            }
        }
        assert!((dept as f64 / (dept + cd) as f64 - 0.5).abs() < 0.05);
    }

    #[test]
    fn alias_draws_follow_their_weights() {
        let a = Alias::new(&[1.0, 0.0, 3.0]);
        let mut rng = Rng::new(1, 2);
        let mut n = [0usize; 3];
        for _ in 0..40_000 {
            n[a.sample(rng.next())] += 1;
        }
        assert_eq!(n[1], 0);
        assert!((n[2] as f64 / 40_000.0 - 0.75).abs() < 0.02, "{n:?}");
    }
}
