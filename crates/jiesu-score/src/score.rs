//! The scorecard: 三率, composite, rank, intervals, case-mix adjustment and observation indicators
//! of every unit of a level for one month, computed from a [`FactTable`] under one [`Policy`].
//!
//! One pass over the period's rows fills integer accumulators per unit, per (unit, category L1 ×
//! tier) cell and per category; every figure is then computed from those integers, so the result
//! does not depend on the order of the rows. Weights (category multipliers, assist weight) are
//! fixed-point integers (six decimals) for the same reason.

use crate::facts::{codes, decode, FactTable, NO_TIME};
use crate::month::Month;
use crate::policy::{AssistRule, MonthClock, Policy, ReopenRule, ReturnedRule};
use crate::stats::{wilson, Interval, Z95};
use jiesu_domain::org::{OrgTree, UnitKind};
use jiesu_domain::ticket::{AssignmentRole, DeadlineTier, ExemptReason, RequestType};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Fixed-point scale of weights: 1.0 = 1 000 000.
const SCALE: u64 = 1_000_000;
/// Tier codes 0 (unknown) … 4.
const N_TIERS: usize = 5;
/// Categories per partition of the lead counts (keeps each partition's counters in cache).
const CATS_PER_PART: usize = 32;

/// The level a scorecard ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Streets and towns (街道乡镇), on their own lead assignments.
    Street,
    /// Districts (区), on the lead assignments of every unit within the district (its streets and
    /// towns, its district departments and the district itself).
    District,
    /// City departments (市级部门), on their own lead assignments, plus 行业三率.
    Department,
    /// State-owned enterprises (国有企业), on their own lead assignments.
    Enterprise,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Street,
        Level::District,
        Level::Department,
        Level::Enterprise,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Street => "street",
            Level::District => "district",
            Level::Department => "department",
            Level::Enterprise => "enterprise",
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Street => "街道乡镇",
            Level::District => "区",
            Level::Department => "市级部门",
            Level::Enterprise => "国有企业",
        }
    }
    /// The kind of unit ranked at this level.
    pub fn kind(self) -> UnitKind {
        match self {
            Level::Street => UnitKind::StreetTown,
            Level::District => UnitKind::District,
            Level::Department => UnitKind::CityDepartment,
            Level::Enterprise => UnitKind::StateEnterprise,
        }
    }
    /// How many units the public scorecard names at the top and at the bottom: streets top 10 and
    /// bottom 10, districts top 3 and the last one, departments and firms top 10 and bottom 10.
    pub fn top_bottom(self) -> (usize, usize) {
        match self {
            Level::District => (3, 1),
            _ => (10, 10),
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a scorecard cannot be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScoreError {
    #[error("policy '{id}' governs {label}, not {period}")]
    PolicyPeriod {
        id: String,
        label: String,
        period: Month,
    },
    #[error("the facts loaded cover first dispatches in [{have}), not the whole period [{want})")]
    Coverage { have: String, want: String },
}

/// Counts behind the rates (unweighted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Assignments counted (the denominator of 响应率).
    pub counted: u32,
    /// … responded (contacted the citizen) no later than their respond deadline.
    pub responded: u32,
    /// Valid callbacks (`contacted = true`): the denominator of 解决率 and 满意率.
    pub valid_callbacks: u32,
    pub resolved: u32,
    pub partly: u32,
    pub unresolved: u32,
    pub satisfied: u32,
    pub basic: u32,
    pub unsatisfied: u32,
    /// Assignments exempted under a reason the policy honours (listed in `exemptions`).
    pub exempted: u32,
    /// Assignments left out by the policy's reopen or return rule.
    pub excluded: u32,
}

/// Integer accumulators (counts and fixed-point weights).
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    n: Counts,
    w_counted: u64,
    w_responded: u64,
    w_valid: u64,
    w_resolved: u64,
    w_partly: u64,
    w_satisfied: u64,
    w_basic: u64,
    w2_counted: u128,
    w2_valid: u128,
}

impl Acc {
    fn add(&mut self, o: &Acc) {
        let (a, b) = (&mut self.n, &o.n);
        a.counted += b.counted;
        a.responded += b.responded;
        a.valid_callbacks += b.valid_callbacks;
        a.resolved += b.resolved;
        a.partly += b.partly;
        a.unresolved += b.unresolved;
        a.satisfied += b.satisfied;
        a.basic += b.basic;
        a.unsatisfied += b.unsatisfied;
        a.exempted += b.exempted;
        a.excluded += b.excluded;
        self.w_counted += o.w_counted;
        self.w_responded += o.w_responded;
        self.w_valid += o.w_valid;
        self.w_resolved += o.w_resolved;
        self.w_partly += o.w_partly;
        self.w_satisfied += o.w_satisfied;
        self.w_basic += o.w_basic;
        self.w2_counted += o.w2_counted;
        self.w2_valid += o.w2_valid;
    }
}

/// Weighted sums of one (unit, category L1 × tier) cell.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    w_counted: u64,
    w_responded: u64,
    w_valid: u64,
    w_resolved: u64,
    w_partly: u64,
    w_satisfied: u64,
    w_basic: u64,
}

impl Cell {
    fn add(&mut self, o: &Cell) {
        self.w_counted += o.w_counted;
        self.w_responded += o.w_responded;
        self.w_valid += o.w_valid;
        self.w_resolved += o.w_resolved;
        self.w_partly += o.w_partly;
        self.w_satisfied += o.w_satisfied;
        self.w_basic += o.w_basic;
    }
}

fn ratio(num: f64, den: u64) -> Option<f64> {
    (den > 0).then(|| num / den as f64)
}

/// The three rates of an accumulator under a policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    /// 响应率
    pub response: Option<f64>,
    /// 解决率
    pub resolution: Option<f64>,
    /// 满意率
    pub satisfaction: Option<f64>,
}

impl Rates {
    fn of(a: &Acc, p: &Policy) -> Rates {
        Rates {
            response: ratio(a.w_responded as f64, a.w_counted),
            resolution: ratio(
                a.w_resolved as f64 + p.weights.w_partly * a.w_partly as f64,
                a.w_valid,
            ),
            satisfaction: ratio(
                a.w_satisfied as f64 + p.weights.w_basic * a.w_basic as f64,
                a.w_valid,
            ),
        }
    }
    fn of_cell(c: &Cell, p: &Policy) -> Rates {
        Rates {
            response: ratio(c.w_responded as f64, c.w_counted),
            resolution: ratio(
                c.w_resolved as f64 + p.weights.w_partly * c.w_partly as f64,
                c.w_valid,
            ),
            satisfaction: ratio(
                c.w_satisfied as f64 + p.weights.w_basic * c.w_basic as f64,
                c.w_valid,
            ),
        }
    }
    /// composite = 100 × (Σ weight × rate); `None` if a rate with a positive weight is missing.
    pub fn composite(&self, p: &Policy) -> Option<f64> {
        let c = &p.composite;
        let mut sum = 0.0;
        for (w, r) in [
            (c.response, self.response),
            (c.resolution, self.resolution),
            (c.satisfaction, self.satisfaction),
        ] {
            if w > 0.0 {
                sum += w * r?;
            }
        }
        Some(100.0 * sum)
    }
}

/// A unit's rate against the rate expected from its mix of categories and tiers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseMix {
    /// Σ over the unit's assignments of the peer-wide rate of their (category L1, tier) cell,
    /// divided by their number (weighted as the rate is).
    pub expected: Option<f64>,
    /// observed / expected.
    pub ratio: Option<f64>,
    /// peer-wide rate × observed / expected, clamped to [0, 1].
    pub adjusted: Option<f64>,
}

/// Case-mix figures for the three rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseMixRates {
    pub response: CaseMix,
    pub resolution: CaseMix,
    pub satisfaction: CaseMix,
}

/// 95 % Wilson intervals of the three rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Intervals {
    pub response: Option<Interval>,
    pub resolution: Option<Interval>,
    pub satisfaction: Option<Interval>,
}

/// 万人诉求比 and 基数诉求比 (observation only; never part of the score).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservationFigures {
    /// Dispatched requests of the month: for streets and districts those located in the area
    /// (counted once per ticket, whoever handled them); for departments and firms their lead
    /// assignments.
    pub requests: u32,
    pub population: Option<u64>,
    /// requests per 10 000 residents; `None` = not available (population unknown).
    pub requests_per_10k: Option<f64>,
    pub base_period: Month,
    /// The same measure in the base period; `None` = not available (base period not loaded).
    pub base_requests: Option<u32>,
    /// requests / base_requests; `None` = not available.
    pub base_ratio: Option<f64>,
}

/// 行业三率 of a city department: the tickets of its industry whatever the handler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndustryScore {
    /// "policy" (listed in the policy's `industries`) or "derived" (categories where the
    /// department is the lead on most tickets this month).
    pub source: String,
    /// The industry's category codes (leaves seen this month).
    pub categories: Vec<String>,
    #[serde(flatten)]
    pub counts: Counts,
    #[serde(flatten)]
    pub rates: Rates,
    pub composite: Option<f64>,
}

/// One unit's line of the scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitScore {
    pub unit_code: String,
    pub unit_name: String,
    pub kind: UnitKind,
    pub district_code: Option<String>,
    /// The district's name (所属区), for street and district-department rows.
    pub district_name: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
    pub response_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    /// 0–100.
    pub composite: Option<f64>,
    /// Standard competition rank (1, 2, 2, 4): equal composites share a rank.
    pub rank: Option<u32>,
    /// Whether another unit shares the rank.
    pub rank_tied: bool,
    /// "1", "2=" (tied) or "not ranked".
    pub rank_label: String,
    /// Why the unit is not ranked (English).
    pub not_ranked_reason: Option<String>,
    /// Why the unit is not ranked (不排名原因, Chinese).
    pub not_ranked_reason_zh: Option<String>,
    pub intervals: Intervals,
    pub case_mix: CaseMixRates,
    pub observation: ObservationFigures,
    /// Department level only.
    pub industry: Option<IndustryScore>,
}

/// One exempted assignment, listed with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exemption {
    pub ticket_id: i64,
    /// Empty when the numbers were not loaded.
    pub number: String,
    pub unit_code: String,
    /// The scored unit it counts against (the district at district level).
    pub scored_unit: String,
    pub role: String,
    pub category_code: String,
    pub first_dispatched_at: String,
    pub reason: String,
    pub reason_zh: String,
}

/// The whole peer group's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    #[serde(flatten)]
    pub counts: Counts,
    #[serde(flatten)]
    pub rates: Rates,
    pub composite: Option<f64>,
}

/// A month's scorecard of one level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    pub period: Month,
    pub level: Level,
    pub policy_id: String,
    pub policy_name: String,
    pub policy_fingerprint: String,
    pub month_clock: MonthClock,
    /// First dispatches in `[from, to)` (RFC 3339 UTC).
    pub from: String,
    pub to: String,
    pub min_sample: u32,
    pub totals: Totals,
    /// Ranked units by rank, then the unranked, each group by code.
    pub units: Vec<UnitScore>,
    /// Codes of the top and bottom units (ties at the cut-off included).
    pub top: Vec<String>,
    pub bottom: Vec<String>,
    pub exemptions: Vec<Exemption>,
    pub warnings: Vec<String>,
}

impl Scorecard {
    pub fn unit(&self, code: &str) -> Option<&UnitScore> {
        self.units.iter().find(|u| u.unit_code == code)
    }
}

/// Extra inputs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScoreOptions<'a> {
    /// Facts covering the base period of 基数诉求比 (else it is "not available").
    pub base: Option<&'a FactTable>,
}

/// Scores one level. See [`score_levels`].
pub fn score(
    facts: &FactTable,
    period: Month,
    policy: &Policy,
    org: &OrgTree,
    level: Level,
) -> Result<Scorecard, ScoreError> {
    score_with(facts, period, policy, org, level, &ScoreOptions::default())
}

/// Scores one level with options.
pub fn score_with(
    facts: &FactTable,
    period: Month,
    policy: &Policy,
    org: &OrgTree,
    level: Level,
    opts: &ScoreOptions,
) -> Result<Scorecard, ScoreError> {
    Ok(score_levels(facts, period, policy, org, &[level], opts)?.remove(0))
}

/// Scores several levels from one pass over the facts (the monthly scorecard of all units is
/// `score_levels(.., &Level::ALL, ..)`).
pub fn score_levels(
    facts: &FactTable,
    period: Month,
    policy: &Policy,
    org: &OrgTree,
    levels: &[Level],
    opts: &ScoreOptions,
) -> Result<Vec<Scorecard>, ScoreError> {
    if !policy.covers(period) {
        return Err(ScoreError::PolicyPeriod {
            id: policy.id.clone(),
            label: policy.period_label(),
            period,
        });
    }
    let (start, end) = policy.period_bounds(period);
    let (start_ms, end_ms) = (start.timestamp_millis(), end.timestamp_millis());
    if !facts.covers(start_ms, end_ms) {
        return Err(ScoreError::Coverage {
            have: format!(
                "{}, {}",
                crate::facts::fmt_ms(facts.from_ms),
                crate::facts::fmt_ms(facts.to_ms)
            ),
            want: format!(
                "{}, {}",
                crate::facts::fmt_ms(start_ms),
                crate::facts::fmt_ms(end_ms)
            ),
        });
    }
    let ctx = Context::new(facts, policy, org);
    let pass = Pass::run(facts, &ctx, start_ms, end_ms);
    let base = opts.base.map(|b| {
        let bm = policy.observation.base_period.for_month(period);
        let (bs, be) = policy.period_bounds(bm);
        let (bs, be) = (bs.timestamp_millis(), be.timestamp_millis());
        b.covers(bs, be).then(|| Volumes::of(b, bs, be))
    });
    let exemptions = exemption_list(facts, &pass);
    let mut out = Vec::with_capacity(levels.len());
    for &level in levels {
        out.push(build_level(
            facts,
            &ctx,
            &pass,
            &exemptions,
            org,
            period,
            level,
            base.as_ref().and_then(|b| b.as_ref()),
            (start, end),
        ));
    }
    Ok(out)
}

/// Level membership bits of a unit code.
pub(crate) fn level_index(level: Level) -> usize {
    match level {
        Level::Street => 0,
        Level::District => 1,
        Level::Department => 2,
        Level::Enterprise => 3,
    }
}

/// Fixed-point scale of cell rates in the expected-rate sums (2^32).
const RATE_SCALE: f64 = 4_294_967_296.0;

/// Per-table look-ups derived from the policy and the organisation.
pub(crate) struct Context<'a> {
    policy: &'a Policy,
    org_index: HashMap<&'a str, usize>,
    /// code id → org unit index.
    pub(crate) code_org: Vec<Option<usize>>,
    /// code id → org index of its district.
    pub(crate) code_district: Vec<Option<usize>>,
    /// code id → bit `1 << level_index` for each level it is scored in.
    pub(crate) code_levels: Vec<u8>,
    /// category id → L1 group (numbered in code order).
    cat_l1: Vec<usize>,
    n_l1: usize,
    /// category id → multiplier (fixed point), in scope.
    cat_mult: Vec<u64>,
    cat_ok: Vec<bool>,
    type_ok: [bool; 256],
    tier_ok: [bool; 256],
    honoured: [bool; 256],
    assist_weight: Option<u64>,
    exclude_returned: bool,
}

/// What the policy makes of one row.
pub(crate) enum RowClass {
    /// Not in scope (other period, assist under lead-only, type/tier/category filters).
    Skip,
    /// Left out by the reopen or return rule.
    Excluded,
    /// Exempted under a reason the policy honours.
    Exempted,
    Kept(Kept),
}

/// A counted row.
pub(crate) struct Kept {
    w: u64,
    cell: usize,
    pub(crate) responded: bool,
    pub(crate) valid: bool,
    pub(crate) resolution: u8,
    pub(crate) satisfaction: u8,
}

impl<'a> Context<'a> {
    pub(crate) fn new(facts: &'a FactTable, policy: &'a Policy, org: &'a OrgTree) -> Context<'a> {
        let org_index: HashMap<&str, usize> = org
            .units()
            .iter()
            .enumerate()
            .map(|(i, u)| (u.code.as_str(), i))
            .collect();
        let code_org: Vec<Option<usize>> = facts
            .codes
            .values()
            .iter()
            .map(|c| org_index.get(c.as_str()).copied())
            .collect();
        let code_district: Vec<Option<usize>> = facts
            .codes
            .values()
            .iter()
            .map(|c| {
                org.district_of(c)
                    .and_then(|d| org_index.get(d.code.as_str()).copied())
            })
            .collect();
        let code_levels = code_org
            .iter()
            .zip(&code_district)
            .map(|(o, d)| {
                let mut bits = 0u8;
                if let Some(o) = o {
                    for level in [Level::Street, Level::Department, Level::Enterprise] {
                        if org.units()[*o].kind == level.kind() {
                            bits |= 1 << level_index(level);
                        }
                    }
                }
                if d.is_some() {
                    bits |= 1 << level_index(Level::District);
                }
                bits
            })
            .collect();
        // L1 groups numbered in code order, so that nothing depends on the order rows arrived in
        let l1_of = |c: &'a str| c.get(..2).unwrap_or(c);
        let mut l1s: Vec<&str> = facts.categories.values().iter().map(|c| l1_of(c)).collect();
        l1s.sort_unstable();
        l1s.dedup();
        let l1_ids: HashMap<&str, usize> = l1s.iter().enumerate().map(|(i, c)| (*c, i)).collect();
        let cat_l1 = facts
            .categories
            .values()
            .iter()
            .map(|c| l1_ids[l1_of(c)])
            .collect();
        let cat_mult = facts
            .categories
            .values()
            .iter()
            .map(|c| (policy.multiplier(c) * SCALE as f64).round() as u64)
            .collect();
        let cat_ok = facts
            .categories
            .values()
            .iter()
            .map(|c| policy.category_included(c))
            .collect();
        let mut type_ok = [false; 256];
        let mut tier_ok = [false; 256];
        let mut honoured = [false; 256];
        for (i, t) in RequestType::ALL.iter().enumerate() {
            type_ok[i + 1] = policy.types.is_empty() || policy.types.contains(t);
        }
        type_ok[0] = policy.types.is_empty();
        for (i, t) in DeadlineTier::ALL.iter().enumerate() {
            tier_ok[i + 1] = policy.tiers.is_empty() || policy.tiers.contains(t);
        }
        tier_ok[0] = policy.tiers.is_empty();
        for (i, r) in ExemptReason::ALL.iter().enumerate() {
            honoured[i + 1] = policy.exempt_reasons.contains(r);
        }
        Context {
            policy,
            org_index,
            code_org,
            code_district,
            code_levels,
            cat_l1,
            n_l1: l1_ids.len().max(1),
            cat_mult,
            cat_ok,
            type_ok,
            tier_ok,
            honoured,
            assist_weight: match policy.sharing.assist {
                AssistRule::Ignore => None,
                AssistRule::Count => {
                    Some((policy.sharing.assist_weight * SCALE as f64).round() as u64)
                }
            },
            exclude_returned: policy.returned == ReturnedRule::Exclude,
        }
    }

    fn n_cells(&self) -> usize {
        self.n_l1 * N_TIERS
    }

    /// The policy's verdict on row `i` (already known to lie in the period).
    #[inline]
    pub(crate) fn classify(&self, t: &FactTable, i: usize) -> RowClass {
        let cat = t.category[i] as usize;
        let share = match t.role[i] {
            codes::LEAD => SCALE,
            codes::ASSIST => match self.assist_weight {
                Some(w) => w,
                None => return RowClass::Skip,
            },
            _ => return RowClass::Skip,
        };
        if !self.type_ok[t.request_type[i] as usize]
            || !self.tier_ok[t.tier[i] as usize]
            || !self.cat_ok[cat]
        {
            return RowClass::Skip;
        }
        if self.exclude_returned && t.state[i] == codes::RETURNED {
            return RowClass::Excluded;
        }
        let mut resolution = t.resolution[i];
        if t.round[i] > 0 {
            match self.policy.reopened {
                ReopenRule::FinalRound => {}
                ReopenRule::FirstRoundUnresolved => resolution = codes::UNRESOLVED,
                ReopenRule::Exclude => return RowClass::Excluded,
            }
        }
        if self.honoured[t.exempt[i] as usize] {
            return RowClass::Exempted;
        }
        RowClass::Kept(Kept {
            w: self.cat_mult[cat] * share / SCALE,
            cell: self.cat_l1[cat] * N_TIERS + (t.tier[i] as usize).min(N_TIERS - 1),
            responded: t.responded_at[i] != NO_TIME && t.responded_at[i] <= t.respond_deadline[i],
            valid: t.contacted[i] == codes::CONTACTED_TRUE,
            resolution,
            satisfaction: t.satisfaction[i],
        })
    }
}

/// Requests per area code / per lead unit.
struct Volumes {
    codes: HashMap<String, usize>,
    area: Vec<u32>,
    lead: Vec<u32>,
}

impl Volumes {
    fn of(t: &FactTable, start: i64, end: i64) -> Volumes {
        let n = t.codes.len();
        let (mut area, mut lead) = (vec![0u32; n], vec![0u32; n]);
        for i in 0..t.len() {
            let fd = t.first_dispatched_at[i];
            if fd < start || fd >= end {
                continue;
            }
            if t.ticket_first[i] == 1 {
                area[t.street[i] as usize] += 1;
                if t.district[i] != t.street[i] {
                    area[t.district[i] as usize] += 1;
                }
            }
            if t.role[i] == codes::LEAD {
                lead[t.unit[i] as usize] += 1;
            }
        }
        Volumes {
            codes: t
                .codes
                .values()
                .iter()
                .enumerate()
                .map(|(i, c)| (c.clone(), i))
                .collect(),
            area,
            lead,
        }
    }
    fn get(&self, code: &str, area: bool) -> u32 {
        match self.codes.get(code) {
            Some(&i) if area => self.area[i],
            Some(&i) => self.lead[i],
            None => 0,
        }
    }
}

/// The accumulators of the passes over the period's rows: integers only.
pub(crate) struct Pass {
    /// per code id
    unit: Vec<Acc>,
    /// per category id (行业三率)
    cat: Vec<Acc>,
    /// per level: the peer group's sums per (category L1 × tier) cell
    peer_cells: [Vec<Cell>; 4],
    /// per level, per code id: Σ w × (cell rate in fixed point) for response, resolution,
    /// satisfaction — the numerators of the expected rates
    expected: [Vec<[u128; 3]>; 4],
    /// per category id: the code with the most lead assignments (ties: the lowest code)
    owner: Vec<Option<u32>>,
    area: Vec<u32>,
    lead: Vec<u32>,
    exempted_rows: Vec<u32>,
    unknown_units: u32,
}

impl Pass {
    pub(crate) fn run(t: &FactTable, ctx: &Context, start: i64, end: i64) -> Pass {
        let p = ctx.policy;
        let n_codes = t.codes.len();
        let n_cats = t.categories.len();
        let n_cells = ctx.n_cells();
        let mut s = Pass {
            unit: vec![Acc::default(); n_codes],
            cat: vec![Acc::default(); n_cats],
            peer_cells: std::array::from_fn(|_| vec![Cell::default(); n_cells]),
            expected: std::array::from_fn(|_| vec![[0u128; 3]; n_codes]),
            owner: vec![None; n_cats],
            area: vec![0; n_codes],
            lead: vec![0; n_codes],
            exempted_rows: vec![],
            unknown_units: 0,
        };
        // lead assignments per (category, code), radix-partitioned by category so that each
        // partition's counters stay in cache: (category % 32) · n_codes + code, per category / 32
        let mut lead_keys: Vec<Vec<u32>> = vec![Vec::new(); n_cats.div_ceil(CATS_PER_PART)];
        // pass 1: counts and sums per unit, per category and per peer cell
        for i in 0..t.len() {
            let fd = t.first_dispatched_at[i];
            if fd < start || fd >= end {
                continue;
            }
            let u = t.unit[i] as usize;
            if t.ticket_first[i] == 1 {
                s.area[t.street[i] as usize] += 1;
                if t.district[i] != t.street[i] {
                    s.area[t.district[i] as usize] += 1;
                }
            }
            if t.role[i] == codes::LEAD {
                s.lead[u] += 1;
                let c = t.category[i] as usize;
                lead_keys[c / CATS_PER_PART].push(((c % CATS_PER_PART) * n_codes + u) as u32);
            }
            let k = match ctx.classify(t, i) {
                RowClass::Skip => continue,
                RowClass::Excluded => {
                    s.unit[u].n.excluded += 1;
                    continue;
                }
                RowClass::Exempted => {
                    s.unit[u].n.exempted += 1;
                    s.exempted_rows.push(i as u32);
                    continue;
                }
                RowClass::Kept(k) => k,
            };
            if ctx.code_org[u].is_none() {
                s.unknown_units += 1;
            }
            let w = k.w;
            let mut a = Acc::default();
            a.n.counted = 1;
            a.w_counted = w;
            a.w2_counted = (w as u128) * (w as u128);
            if k.responded {
                a.n.responded = 1;
                a.w_responded = w;
            }
            if k.valid {
                a.n.valid_callbacks = 1;
                a.w_valid = w;
                a.w2_valid = a.w2_counted;
                match k.resolution {
                    codes::RESOLVED => {
                        a.n.resolved = 1;
                        a.w_resolved = w;
                    }
                    codes::PARTLY => {
                        a.n.partly = 1;
                        a.w_partly = w;
                    }
                    codes::UNRESOLVED => a.n.unresolved = 1,
                    _ => {}
                }
                match k.satisfaction {
                    codes::SATISFIED => {
                        a.n.satisfied = 1;
                        a.w_satisfied = w;
                    }
                    codes::BASIC => {
                        a.n.basic = 1;
                        a.w_basic = w;
                    }
                    codes::UNSATISFIED => a.n.unsatisfied = 1,
                    _ => {}
                }
            }
            s.unit[u].add(&a);
            s.cat[t.category[i] as usize].add(&a);
            let bits = ctx.code_levels[u];
            if bits != 0 {
                let c = Cell {
                    w_counted: a.w_counted,
                    w_responded: a.w_responded,
                    w_valid: a.w_valid,
                    w_resolved: a.w_resolved,
                    w_partly: a.w_partly,
                    w_satisfied: a.w_satisfied,
                    w_basic: a.w_basic,
                };
                for (l, cells) in s.peer_cells.iter_mut().enumerate() {
                    if bits & (1 << l) != 0 {
                        cells[k.cell].add(&c);
                    }
                }
            }
        }
        // industry ownership: the plurality lead of every category
        let mut counts = vec![0u32; CATS_PER_PART * n_codes];
        for (part, keys) in lead_keys.iter().enumerate() {
            counts.iter_mut().for_each(|c| *c = 0);
            for &k in keys {
                counts[k as usize] += 1;
            }
            for (j, row) in counts.chunks_exact(n_codes).enumerate() {
                let c = part * CATS_PER_PART + j;
                if c >= n_cats {
                    break;
                }
                let mut best: Option<usize> = None;
                for (u, &n) in row.iter().enumerate() {
                    if n == 0 {
                        continue;
                    }
                    best = match best {
                        None => Some(u),
                        Some(b)
                            if n > row[b]
                                || (n == row[b]
                                    && t.codes.get(u as u32) < t.codes.get(b as u32)) =>
                        {
                            Some(u)
                        }
                        keep => keep,
                    };
                }
                s.owner[c] = best.map(|u| u as u32);
            }
        }
        // the peer groups' cell rates, in fixed point
        let rates: [Vec<[u64; 3]>; 4] = std::array::from_fn(|l| {
            s.peer_cells[l]
                .iter()
                .map(|c| {
                    let r = Rates::of_cell(c, p);
                    [r.response, r.resolution, r.satisfaction]
                        .map(|x| (x.unwrap_or(0.0) * RATE_SCALE).round() as u64)
                })
                .collect()
        });
        // pass 2: Σ over each unit's counted rows of its peer group's rate for the row's cell
        for i in 0..t.len() {
            let fd = t.first_dispatched_at[i];
            if fd < start || fd >= end {
                continue;
            }
            let u = t.unit[i] as usize;
            let bits = ctx.code_levels[u];
            if bits == 0 {
                continue;
            }
            let RowClass::Kept(k) = ctx.classify(t, i) else {
                continue;
            };
            let w = k.w as u128;
            for (l, exp) in s.expected.iter_mut().enumerate() {
                if bits & (1 << l) != 0 {
                    let r = &rates[l][k.cell];
                    let e = &mut exp[u];
                    e[0] += w * r[0] as u128;
                    if k.valid {
                        e[1] += w * r[1] as u128;
                        e[2] += w * r[2] as u128;
                    }
                }
            }
        }
        s
    }
}

/// Every exempted row as listed (built once for all levels).
fn exemption_list(t: &FactTable, pass: &Pass) -> Vec<(usize, Exemption)> {
    pass.exempted_rows
        .iter()
        .map(|&i| {
            let i = i as usize;
            let reason = decode(ExemptReason::ALL, t.exempt[i]);
            (
                t.unit[i] as usize,
                Exemption {
                    ticket_id: t.ticket_id[i],
                    number: t.number.as_ref().map(|n| n[i].clone()).unwrap_or_default(),
                    unit_code: t.codes.get(t.unit[i]).to_string(),
                    scored_unit: String::new(),
                    role: decode(AssignmentRole::ALL, t.role[i])
                        .map_or("", |r| r.as_str())
                        .to_string(),
                    category_code: t.categories.get(t.category[i]).to_string(),
                    first_dispatched_at: crate::facts::fmt_ms(t.first_dispatched_at[i]),
                    reason: reason.map_or("unknown", |r| r.as_str()).to_string(),
                    reason_zh: reason.map_or("未知", |r| r.label_zh()).to_string(),
                },
            )
        })
        .collect()
}

/// A scored member of a level: an org unit with its accumulators.
struct Member {
    org: usize,
    acc: Acc,
    expected: [u128; 3],
}

#[allow(clippy::too_many_arguments)]
fn build_level(
    t: &FactTable,
    ctx: &Context,
    pass: &Pass,
    all_exemptions: &[(usize, Exemption)],
    org: &OrgTree,
    period: Month,
    level: Level,
    base: Option<&Volumes>,
    (start, end): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
) -> Scorecard {
    let policy = ctx.policy;
    let kind = level.kind();
    let lx = level_index(level);
    let units = org.units();
    // members: every unit of the level's kind, in code order
    let mut members: Vec<Member> = units
        .iter()
        .enumerate()
        .filter(|(_, u)| u.kind == kind)
        .map(|(i, _)| Member {
            org: i,
            acc: Acc::default(),
            expected: [0; 3],
        })
        .collect();
    members.sort_by(|a, b| units[a.org].code.cmp(&units[b.org].code));
    let member_of: HashMap<usize, usize> = members
        .iter()
        .enumerate()
        .map(|(m, x)| (x.org, m))
        .collect();
    // code id → member index
    let mut code_member: Vec<Option<usize>> = vec![None; t.codes.len()];
    for (code, slot) in code_member.iter_mut().enumerate() {
        if ctx.code_levels[code] & (1 << lx) == 0 {
            continue;
        }
        let target = match level {
            Level::District => ctx.code_district[code],
            _ => ctx.code_org[code],
        };
        let Some(&m) = target.and_then(|o| member_of.get(&o)) else {
            continue;
        };
        *slot = Some(m);
        let e = &pass.expected[lx][code];
        let m = &mut members[m];
        m.acc.add(&pass.unit[code]);
        for (x, y) in m.expected.iter_mut().zip(e) {
            *x += y;
        }
    }
    let mut peer = Acc::default();
    for m in &members {
        peer.add(&m.acc);
    }
    let peer_rates = Rates::of(&peer, policy);
    let industries = (level == Level::Department).then(|| industries(t, ctx, pass, org));
    let base_month = policy.observation.base_period.for_month(period);
    let mut scores: Vec<UnitScore> = members
        .iter()
        .map(|m| {
            let u = &units[m.org];
            let rates = Rates::of(&m.acc, policy);
            let composite = rates.composite(policy);
            let n_counted = eff_n(m.acc.w_counted, m.acc.w2_counted);
            let n_valid = eff_n(m.acc.w_valid, m.acc.w2_valid);
            let intervals = Intervals {
                response: rates.response.and_then(|p| wilson(p, n_counted, Z95)),
                resolution: rates.resolution.and_then(|p| wilson(p, n_valid, Z95)),
                satisfaction: rates.satisfaction.and_then(|p| wilson(p, n_valid, Z95)),
            };
            let case_mix = case_mix(&m.expected, &m.acc, rates, peer_rates);
            let is_area = matches!(level, Level::Street | Level::District);
            let requests: u32 = match t.codes.lookup(&u.code) {
                Some(id) if is_area => pass.area[id as usize],
                Some(id) => pass.lead[id as usize],
                None => 0,
            };
            let population = u.population.filter(|p| *p > 0);
            let base_requests = base.map(|b| b.get(&u.code, is_area));
            let observation = ObservationFigures {
                requests,
                population,
                requests_per_10k: population.map(|p| requests as f64 * 10_000.0 / p as f64),
                base_period: base_month,
                base_requests,
                base_ratio: base_requests
                    .filter(|b| *b > 0)
                    .map(|b| requests as f64 / b as f64),
            };
            let industry =
                industries
                    .as_ref()
                    .and_then(|ind| ind.get(&m.org))
                    .map(|(source, cats)| {
                        let mut acc = Acc::default();
                        for &c in cats {
                            acc.add(&pass.cat[c]);
                        }
                        let rates = Rates::of(&acc, policy);
                        let mut categories: Vec<String> = cats
                            .iter()
                            .map(|&c| t.categories.get(c as u32).to_string())
                            .collect();
                        categories.sort();
                        IndustryScore {
                            source: source.to_string(),
                            categories,
                            counts: acc.n,
                            rates,
                            composite: rates.composite(policy),
                        }
                    });
            UnitScore {
                unit_code: u.code.clone(),
                unit_name: u.name.clone(),
                kind: u.kind,
                district_code: org.district_of(&u.code).map(|d| d.code.clone()),
                district_name: org.district_of(&u.code).map(|d| d.name.clone()),
                counts: m.acc.n,
                response_rate: rates.response,
                resolution_rate: rates.resolution,
                satisfaction_rate: rates.satisfaction,
                composite,
                rank: None,
                rank_tied: false,
                rank_label: "not ranked".into(),
                not_ranked_reason: None,
                not_ranked_reason_zh: None,
                intervals,
                case_mix,
                observation,
                industry,
            }
        })
        .collect();
    // drop retired units that have nothing this month
    scores.retain(|s| {
        let u = &units[ctx.org_index[s.unit_code.as_str()]];
        u.active
            || s.counts.counted + s.counts.exempted + s.counts.excluded > 0
            || s.observation.requests > 0
    });
    rank(&mut scores, policy);
    let (n_top, n_bottom) = level.top_bottom();
    let (top, bottom) = top_bottom(&scores, n_top, n_bottom);
    let mut exemptions: Vec<Exemption> = all_exemptions
        .iter()
        .filter_map(|(code, e)| {
            let m = code_member[*code]?;
            Some(Exemption {
                scored_unit: units[members[m].org].code.clone(),
                ..e.clone()
            })
        })
        .collect();
    exemptions.sort_by(|a, b| {
        (
            &a.scored_unit,
            a.ticket_id,
            &a.unit_code,
            &a.role,
            &a.reason,
        )
            .cmp(&(
                &b.scored_unit,
                b.ticket_id,
                &b.unit_code,
                &b.role,
                &b.reason,
            ))
    });
    let mut warnings = vec![];
    if pass.unknown_units > 0 {
        warnings.push(format!(
            "{} counted assignments belong to units missing from the organisation tree (they are in no scorecard)",
            pass.unknown_units
        ));
    }
    Scorecard {
        period,
        level,
        policy_id: policy.id.clone(),
        policy_name: policy.name.clone(),
        policy_fingerprint: policy.fingerprint(),
        month_clock: policy.month_clock,
        from: start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        to: end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        min_sample: policy.min_sample,
        totals: Totals {
            counts: peer.n,
            rates: peer_rates,
            composite: peer_rates.composite(policy),
        },
        units: scores,
        top,
        bottom,
        exemptions,
        warnings,
    }
}

/// Kish's effective sample size (Σw)² / Σw² (= n when all weights are equal).
fn eff_n(w: u64, w2: u128) -> f64 {
    if w2 == 0 {
        0.0
    } else {
        (w as f64) * (w as f64) / (w2 as f64)
    }
}

/// observed vs expected: expected = Σ w·(peer rate of the row's cell) / Σ w.
fn case_mix(expected: &[u128; 3], acc: &Acc, observed: Rates, peer: Rates) -> CaseMixRates {
    let one = |k: usize, den: u64, obs: Option<f64>, city: Option<f64>| {
        let expected = (den > 0).then(|| expected[k] as f64 / RATE_SCALE / den as f64);
        let r = match (obs, expected) {
            (Some(o), Some(e)) if e > 0.0 => Some(o / e),
            _ => None,
        };
        CaseMix {
            expected,
            ratio: r,
            adjusted: match (r, city) {
                (Some(r), Some(c)) => Some((c * r).clamp(0.0, 1.0)),
                _ => None,
            },
        }
    };
    CaseMixRates {
        response: one(0, acc.w_counted, observed.response, peer.response),
        resolution: one(1, acc.w_valid, observed.resolution, peer.resolution),
        satisfaction: one(2, acc.w_valid, observed.satisfaction, peer.satisfaction),
    }
}

/// The composite as an integer key: equal at 1e-9 ⇒ tied.
fn rank_key(c: f64) -> i64 {
    (c * 1e9).round() as i64
}

fn rank(scores: &mut [UnitScore], policy: &Policy) {
    for s in scores.iter_mut() {
        if s.counts.counted < policy.min_sample || s.counts.counted == 0 {
            let min = policy.min_sample.max(1);
            s.not_ranked_reason = Some(format!(
                "sample too small: {} counted < minimum {min}",
                s.counts.counted
            ));
            s.not_ranked_reason_zh = Some(format!(
                "样本不足：计入 {} 件，少于最低 {min} 件",
                s.counts.counted
            ));
        } else if s.composite.is_none() {
            s.not_ranked_reason = Some("no composite: no valid callbacks".into());
            s.not_ranked_reason_zh = Some("无有效回访，无法计算综合得分".into());
        }
    }
    scores.sort_by(|a, b| {
        let ka = a
            .not_ranked_reason
            .is_none()
            .then(|| a.composite.map(rank_key))
            .flatten();
        let kb = b
            .not_ranked_reason
            .is_none()
            .then(|| b.composite.map(rank_key))
            .flatten();
        match (ka, kb) {
            (Some(x), Some(y)) => y.cmp(&x).then_with(|| a.unit_code.cmp(&b.unit_code)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.unit_code.cmp(&b.unit_code),
        }
    });
    let ranked = scores
        .iter()
        .take_while(|s| s.not_ranked_reason.is_none())
        .count();
    let mut i = 0;
    while i < ranked {
        let key = rank_key(scores[i].composite.unwrap_or(0.0));
        let mut j = i;
        while j < ranked && rank_key(scores[j].composite.unwrap_or(0.0)) == key {
            j += 1;
        }
        let tied = j - i > 1;
        for s in &mut scores[i..j] {
            s.rank = Some(i as u32 + 1);
            s.rank_tied = tied;
            s.rank_label = format!("{}{}", i + 1, if tied { "=" } else { "" });
        }
        i = j;
    }
}

/// Top `n` and bottom `m` ranked units; every unit tied with the one at the cut-off is included.
fn top_bottom(scores: &[UnitScore], n: usize, m: usize) -> (Vec<String>, Vec<String>) {
    let ranked: Vec<&UnitScore> = scores.iter().filter(|s| s.rank.is_some()).collect();
    if ranked.is_empty() {
        return (vec![], vec![]);
    }
    let top = match ranked.get(n.saturating_sub(1)).or(ranked.last()) {
        Some(cut) if n > 0 => ranked
            .iter()
            .filter(|s| s.rank <= cut.rank)
            .map(|s| s.unit_code.clone())
            .collect(),
        _ => vec![],
    };
    let bottom = if m > 0 {
        let cut = ranked[ranked.len().saturating_sub(m)].rank;
        let mut b: Vec<String> = ranked
            .iter()
            .rev()
            .filter(|s| s.rank >= cut)
            .map(|s| s.unit_code.clone())
            .collect();
        b.dedup();
        b
    } else {
        vec![]
    };
    (top, bottom)
}

/// Each city department's industry: (source, category ids).
pub(crate) fn industries(
    t: &FactTable,
    ctx: &Context,
    pass: &Pass,
    org: &OrgTree,
) -> HashMap<usize, (&'static str, Vec<usize>)> {
    let policy = ctx.policy;
    let units = org.units();
    let mut out: HashMap<usize, (&'static str, Vec<usize>)> = HashMap::new();
    let mut claimed = vec![false; t.categories.len()];
    for (dept, prefixes) in &policy.industries {
        let Some(&o) = ctx.org_index.get(dept.as_str()) else {
            continue;
        };
        let cats: Vec<usize> = (0..t.categories.len())
            .filter(|&c| {
                prefixes
                    .iter()
                    .any(|p| t.categories.get(c as u32).starts_with(p.as_str()))
            })
            .collect();
        for &c in &cats {
            claimed[c] = true;
        }
        out.insert(o, ("policy", cats));
    }
    for (c, claimed) in claimed.iter().enumerate() {
        if *claimed {
            continue;
        }
        let Some(owner) = pass.owner[c].and_then(|u| ctx.code_org[u as usize]) else {
            continue;
        };
        if units[owner].kind != UnitKind::CityDepartment
            || policy.industries.contains_key(&units[owner].code)
        {
            continue;
        }
        out.entry(owner).or_insert(("derived", vec![])).1.push(c);
    }
    out
}
