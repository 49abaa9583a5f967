//! Scoring policy as data (考核办法): which tickets count, how, with which weights, for which
//! months. Policies are written in TOML (see `policies/default.toml` and docs/SCORING.md), versioned
//! by period, and validated before use; a policy set with a defect is refused with a report of
//! every defect found.

use crate::month::Month;
use chrono::{DateTime, Utc};
use jiesu_domain::category::CategoryTree;
use jiesu_domain::ticket::{DeadlineTier, ExemptReason, RequestType};
use jiesu_domain::CityZone;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The shipped default policy file (the one the tests pin).
pub const DEFAULT_POLICY_TOML: &str = include_str!("../policies/default.toml");
/// An example set with two versions: Beijing's 2020 (epidemic-only Feb–Apr, epidemic × 2 from May).
pub const EXAMPLE_2020_TOML: &str = include_str!("../policies/beijing-2020.toml");

/// Which clock decides the month a ticket belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MonthClock {
    /// The city's month (本市时间): the month of the first dispatch in the city's time zone (the
    /// database's `time_zone` setting). `beijing`, the name of earlier policy files, means this.
    #[default]
    #[serde(alias = "beijing")]
    City,
    /// The UTC month of the first dispatch (what `first_dispatched_at[:7]` of the export says).
    Utc,
}

/// How assisting units (协办) share a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AssistRule {
    /// Units are scored on their lead (主办) assignments only.
    #[default]
    Ignore,
    /// Assist assignments count for the assisting unit too, each with `assist_weight`.
    Count,
}

/// How a reopened (重办) ticket counts. The fact row carries the final round's response time and
/// callback answers, and the round number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReopenRule {
    /// Counted once, judged on its final round (response and callback of the last round).
    #[default]
    FinalRound,
    /// Counted once; the resolution is taken as "unresolved" whatever the final round says (the
    /// first handling failed); response and satisfaction from the final round.
    FirstRoundUnresolved,
    /// Not counted (shown in the unit's `excluded` figure).
    Exclude,
}

/// How an assignment the unit returned (退单, approved) counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReturnedRule {
    /// Counted like any other lead assignment (the issue's pinned default: "each unit is scored on
    /// its lead assignments").
    #[default]
    Count,
    /// Not counted for the unit that returned it (shown in its `excluded` figure).
    Exclude,
}

/// The base period of 基数诉求比.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BasePeriod {
    /// The same month one year earlier.
    #[default]
    SameMonthLastYear,
    /// The month before.
    PreviousMonth,
    /// A fixed month.
    Fixed(Month),
}

impl BasePeriod {
    /// The base month for a scored month.
    pub fn for_month(self, m: Month) -> Month {
        match self {
            BasePeriod::SameMonthLastYear => m.plus(-12),
            BasePeriod::PreviousMonth => m.plus(-1),
            BasePeriod::Fixed(b) => b,
        }
    }
}

impl Serialize for BasePeriod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            BasePeriod::SameMonthLastYear => s.serialize_str("same_month_last_year"),
            BasePeriod::PreviousMonth => s.serialize_str("previous_month"),
            BasePeriod::Fixed(m) => s.collect_str(m),
        }
    }
}

impl<'de> Deserialize<'de> for BasePeriod {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "same_month_last_year" => Ok(BasePeriod::SameMonthLastYear),
            "previous_month" => Ok(BasePeriod::PreviousMonth),
            other => Month::parse(other).map(BasePeriod::Fixed).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "base_period '{other}': write same_month_last_year, previous_month or a month YYYY-MM"
                ))
            }),
        }
    }
}

/// The partial-credit weights of the formulas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    /// 解决率 = (resolved + w_partly × partly) / valid callbacks.
    pub w_partly: f64,
    /// 满意率 = (satisfied + w_basic × basic) / valid callbacks.
    pub w_basic: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            w_partly: 0.5,
            w_basic: 0.8,
        }
    }
}

/// The composite score's weights (they must add up to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompositeWeights {
    pub response: f64,
    pub resolution: f64,
    pub satisfaction: f64,
}

impl Default for CompositeWeights {
    fn default() -> Self {
        CompositeWeights {
            response: 0.2,
            resolution: 0.4,
            satisfaction: 0.4,
        }
    }
}

/// Lead/assist sharing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sharing {
    pub assist: AssistRule,
    /// The weight of an assist assignment when `assist = "count"` (a lead assignment weighs 1).
    pub assist_weight: f64,
}

impl Default for Sharing {
    fn default() -> Self {
        Sharing {
            assist: AssistRule::Ignore,
            assist_weight: 0.5,
        }
    }
}

/// Observation indicators (观察指标), shown beside the scores and never part of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Observation {
    /// The base period of 基数诉求比.
    pub base_period: BasePeriod,
}

/// One version of the scoring policy, in force for `effective_from ..= effective_to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// A short identifier, unique in its set (printed on every scorecard it produced).
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The first month it governs.
    pub effective_from: Month,
    /// The last month it governs (inclusive); absent = open-ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_to: Option<Month>,
    /// Which clock's month a ticket's first dispatch falls in.
    #[serde(default)]
    pub month_clock: MonthClock,
    /// The city's time zone, for [`MonthClock::City`]: a setting of the city, not of the policy
    /// file; set by [`PolicySet::in_zone`] when a policy is applied to a city's data.
    #[serde(skip)]
    pub zone: CityZone,
    /// Request types that count (empty = all).
    #[serde(default)]
    pub types: Vec<RequestType>,
    /// Deadline tiers that count (empty = all).
    #[serde(default)]
    pub tiers: Vec<DeadlineTier>,
    /// Category codes (any level; a code covers its subtree) that count (empty = all).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Exemption reasons this policy honours: such assignments are excluded from every rate and
    /// listed. An exemption with a reason not listed here is counted like any other assignment.
    #[serde(default = "all_exempt_reasons")]
    pub exempt_reasons: Vec<ExemptReason>,
    #[serde(default)]
    pub sharing: Sharing,
    #[serde(default)]
    pub reopened: ReopenRule,
    #[serde(default)]
    pub returned: ReturnedRule,
    #[serde(default)]
    pub weights: Weights,
    #[serde(default)]
    pub composite: CompositeWeights,
    /// Category code (any level) → weight of its tickets in every rate, e.g. `"01" = 2.0` for
    /// epidemic tickets × 2. The deepest listed ancestor of a ticket's category applies; taken to
    /// six decimals.
    #[serde(default)]
    pub category_multipliers: BTreeMap<String, f64>,
    /// Units with fewer counted assignments are "not ranked".
    #[serde(default = "default_min_sample")]
    pub min_sample: u32,
    /// Explicit industries for 行业三率: city department code → category codes (any level). A
    /// department not listed gets the categories where it is the lead on most tickets.
    #[serde(default)]
    pub industries: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub observation: Observation,
}

fn all_exempt_reasons() -> Vec<ExemptReason> {
    ExemptReason::ALL.to_vec()
}

fn default_min_sample() -> u32 {
    10
}

impl Default for Policy {
    /// The shipped default policy (docs/SCORING.md § Default policy).
    fn default() -> Self {
        Policy {
            id: "default".into(),
            name: "默认考核办法 (shipped default)".into(),
            effective_from: Month {
                year: 2000,
                month: 1,
            },
            effective_to: None,
            month_clock: MonthClock::City,
            zone: CityZone::default(),
            types: vec![],
            tiers: vec![],
            categories: vec![],
            exempt_reasons: all_exempt_reasons(),
            sharing: Sharing::default(),
            reopened: ReopenRule::FinalRound,
            returned: ReturnedRule::Count,
            weights: Weights::default(),
            composite: CompositeWeights::default(),
            category_multipliers: BTreeMap::new(),
            min_sample: default_min_sample(),
            industries: BTreeMap::new(),
            observation: Observation::default(),
        }
    }
}

impl Policy {
    /// Whether the policy governs month `m`.
    pub fn covers(&self, m: Month) -> bool {
        self.effective_from <= m && self.effective_to.is_none_or(|to| m <= to)
    }

    /// The instants `[start, end)` of month `m` under this policy's clock.
    pub fn period_bounds(&self, m: Month) -> (DateTime<Utc>, DateTime<Utc>) {
        match self.month_clock {
            MonthClock::Utc => (m.start_utc(), m.plus(1).start_utc()),
            MonthClock::City => self.zone.month_bounds(m.year, m.month),
        }
    }

    /// The same policy applied in a city's time zone.
    pub fn in_zone(mut self, zone: CityZone) -> Self {
        self.zone = zone;
        self
    }

    /// The multiplier of a category: the deepest listed prefix, else 1.
    pub fn multiplier(&self, category: &str) -> f64 {
        self.category_multipliers
            .iter()
            .filter(|(code, _)| category.starts_with(code.as_str()))
            .max_by_key(|(code, _)| code.len())
            .map(|(_, m)| *m)
            .unwrap_or(1.0)
    }

    /// Whether a category is in the policy's scope.
    pub fn category_included(&self, category: &str) -> bool {
        self.categories.is_empty()
            || self
                .categories
                .iter()
                .any(|c| category.starts_with(c.as_str()))
    }

    /// A short, stable fingerprint of the policy's content (FNV-1a of its canonical JSON), printed
    /// on scorecards so a figure can be traced to the exact rules that produced it.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        let mut h: u64 = 0xcbf29ce484222325;
        for b in json.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        format!("{h:016x}")
    }

    /// "2020-05 … 2020-12" or "2021-01 … open".
    pub fn period_label(&self) -> String {
        match self.effective_to {
            Some(to) => format!("{} … {}", self.effective_from, to),
            None => format!("{} … open", self.effective_from),
        }
    }

    fn check(&self, categories: Option<&CategoryTree>, out: &mut Vec<String>) {
        let who = format!("policy '{}' ({})", self.id, self.period_label());
        if self.id.trim().is_empty() {
            out.push(format!("{who}: id is empty"));
        }
        if let Some(to) = self.effective_to {
            if to < self.effective_from {
                out.push(format!(
                    "{who}: effective_to {to} is before effective_from {}",
                    self.effective_from
                ));
            }
        }
        let mut weight = |name: &str, v: f64, max: Option<f64>| {
            if !v.is_finite() || v < 0.0 {
                out.push(format!("{who}: {name} = {v} is negative or not a number"));
            } else if let Some(max) = max {
                if v > max {
                    out.push(format!("{who}: {name} = {v} is above {max}"));
                }
            }
        };
        weight("weights.w_partly", self.weights.w_partly, Some(1.0));
        weight("weights.w_basic", self.weights.w_basic, Some(1.0));
        weight("composite.response", self.composite.response, Some(1.0));
        weight("composite.resolution", self.composite.resolution, Some(1.0));
        weight(
            "composite.satisfaction",
            self.composite.satisfaction,
            Some(1.0),
        );
        weight("sharing.assist_weight", self.sharing.assist_weight, None);
        let c = &self.composite;
        let sum = c.response + c.resolution + c.satisfaction;
        if sum.is_finite() && (sum - 1.0).abs() > 1e-9 {
            out.push(format!(
                "{who}: composite weights add up to {} ({} + {} + {}), not 1",
                round_for_report(sum),
                c.response,
                c.resolution,
                c.satisfaction
            ));
        }
        for (code, m) in &self.category_multipliers {
            if !m.is_finite() || *m <= 0.0 {
                out.push(format!(
                    "{who}: category_multipliers.\"{code}\" = {m} must be above 0 (to leave a category out, use `categories`)"
                ));
            } else if *m > 1000.0 {
                out.push(format!(
                    "{who}: category_multipliers.\"{code}\" = {m} is above 1000"
                ));
            }
        }
        if let Some(tree) = categories {
            let mut unknown = |field: &str, code: &str| {
                if tree.get(code).is_none() {
                    out.push(format!("{who}: {field}: unknown category code \"{code}\""));
                }
            };
            for code in &self.categories {
                unknown("categories", code);
            }
            for code in self.category_multipliers.keys() {
                unknown("category_multipliers", code);
            }
            for (dept, codes) in &self.industries {
                for code in codes {
                    unknown(&format!("industries.{dept}"), code);
                }
            }
        }
        if self.exempt_reasons.is_empty() {
            // Allowed (no exemptions honoured), but worth nothing to warn about here.
        }
    }
}

fn round_for_report(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

/// A versioned set of policies: at most one in force for any month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySet {
    #[serde(rename = "policy")]
    pub policies: Vec<Policy>,
}

impl Default for PolicySet {
    fn default() -> Self {
        PolicySet {
            policies: vec![Policy::default()],
        }
    }
}

/// Why a policy file was refused: every defect found, one per line.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyError {
    pub problems: Vec<String>,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the scoring policy is refused ({} problem{}):",
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyError {}

impl PolicySet {
    /// Parses a TOML policy file and validates it (category codes against `categories` when
    /// given).
    pub fn from_toml(
        text: &str,
        categories: Option<&CategoryTree>,
    ) -> Result<PolicySet, PolicyError> {
        let set: PolicySet = toml::from_str(text).map_err(|e| PolicyError {
            problems: vec![format!("not a valid policy file: {}", e.to_string().trim())],
        })?;
        set.validate(categories)?;
        Ok(set)
    }

    /// Every policy of the set applied in the city's time zone.
    pub fn in_zone(mut self, zone: CityZone) -> Self {
        for p in &mut self.policies {
            p.zone = zone;
        }
        self
    }

    /// The shipped default set.
    pub fn shipped_default() -> PolicySet {
        PolicySet::from_toml(DEFAULT_POLICY_TOML, None)
            .expect("the shipped default policy is valid")
    }

    /// Checks every rule of docs/SCORING.md § Validation and reports all defects at once.
    pub fn validate(&self, categories: Option<&CategoryTree>) -> Result<(), PolicyError> {
        let mut problems = Vec::new();
        if self.policies.is_empty() {
            problems.push("the file defines no [[policy]]".to_string());
        }
        for p in &self.policies {
            p.check(categories, &mut problems);
        }
        let mut seen = std::collections::BTreeSet::new();
        for p in &self.policies {
            if !seen.insert(p.id.as_str()) {
                problems.push(format!("policy id '{}' is used twice", p.id));
            }
        }
        for (i, a) in self.policies.iter().enumerate() {
            for b in &self.policies[i + 1..] {
                let a_end = a.effective_to.unwrap_or(Month {
                    year: 9999,
                    month: 12,
                });
                let b_end = b.effective_to.unwrap_or(Month {
                    year: 9999,
                    month: 12,
                });
                if a.effective_from <= b_end && b.effective_from <= a_end {
                    let from = a.effective_from.max(b.effective_from);
                    problems.push(format!(
                        "policies '{}' ({}) and '{}' ({}) overlap from {from}: a month must have exactly one policy",
                        a.id,
                        a.period_label(),
                        b.id,
                        b.period_label()
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(PolicyError { problems })
        }
    }

    /// The policy in force for month `m`.
    pub fn for_month(&self, m: Month) -> Result<&Policy, PolicyError> {
        self.policies
            .iter()
            .find(|p| p.covers(m))
            .ok_or_else(|| PolicyError {
                problems: vec![format!(
                    "no policy is in force for {m} (the set covers: {})",
                    self.policies
                        .iter()
                        .map(|p| format!("'{}' {}", p.id, p.period_label()))
                        .collect::<Vec<_>>()
                        .join("; ")
                )],
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_default_file_is_the_default_policy() {
        let set = PolicySet::shipped_default();
        assert_eq!(set.policies.len(), 1);
        assert_eq!(set.policies[0], Policy::default());
    }

    #[test]
    fn multipliers_take_the_deepest_listed_prefix() {
        let mut p = Policy::default();
        p.category_multipliers.insert("01".into(), 2.0);
        p.category_multipliers.insert("0102".into(), 3.0);
        assert_eq!(p.multiplier("010201"), 3.0);
        assert_eq!(p.multiplier("010101"), 2.0);
        assert_eq!(p.multiplier("020101"), 1.0);
    }

    #[test]
    fn the_city_clock_shifts_the_month_by_the_zone_offset() {
        let p = Policy {
            month_clock: MonthClock::City,
            ..Policy::default()
        }
        .in_zone(CityZone::parse("Asia/Shanghai").unwrap());
        let (a, b) = p.period_bounds(Month::parse("2026-11").unwrap());
        assert_eq!(a.to_rfc3339(), "2026-10-31T16:00:00+00:00");
        assert_eq!(b.to_rfc3339(), "2026-11-30T16:00:00+00:00");
        // A city on another continent: New York's November (EDT until 1 November, then EST).
        let ny = p
            .clone()
            .in_zone(CityZone::parse("America/New_York").unwrap());
        let (a, b) = ny.period_bounds(Month::parse("2026-11").unwrap());
        assert_eq!(a.to_rfc3339(), "2026-11-01T04:00:00+00:00");
        assert_eq!(b.to_rfc3339(), "2026-12-01T05:00:00+00:00");
    }

    #[test]
    fn policy_files_that_say_beijing_mean_the_city_clock() {
        let text =
            DEFAULT_POLICY_TOML.replace("month_clock = \"city\"", "month_clock = \"beijing\"");
        let set = PolicySet::from_toml(&text, None).unwrap();
        assert_eq!(set.policies[0].month_clock, MonthClock::City);
    }
}
