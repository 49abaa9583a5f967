//! Drill-down (下钻): the assignments behind one figure of a unit's scorecard line, under the policy
//! that counted them.
//!
//! The rows are chosen by the very code that computes the scorecard: the same level membership
//! (a district holds every unit within it, a street only itself) and the same per-row verdict of
//! the policy (`Context::classify`: in scope, excluded, exempted or counted, with the reopen rule
//! applied to the resolution). So the number of rows of a drill-down is always the figure printed
//! on the scorecard; [`drill`] also returns that figure, read from a scorecard computed in the same
//! call, so that every caller can check it.
//!
//! Without a unit ([`drill`] with `unit_code = None`) the rows are those behind the level's totals
//! (全市同级合计): every row any member of the level counts.

use crate::facts::{codes, decode, FactTable};
use crate::month::Month;
use crate::policy::{MonthClock, Policy};
use crate::score::{
    industries, level_index, score_levels, Context, Counts, Level, Pass, RowClass, ScoreError,
    ScoreOptions,
};
use jiesu_domain::org::{OrgTree, UnitKind};
use jiesu_domain::ticket::Resolution;
use jiesu_store::AssignmentFact;
use serde::{Deserialize, Serialize};

/// A figure of a scorecard line (考核指标) that can be drilled into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// 计入考核 — counted assignments.
    Counted,
    /// 按时响应 — counted and responded no later than the respond deadline.
    Responded,
    /// 有效回访 — counted with a final callback saying `contacted = true`.
    ValidCallbacks,
    /// 已解决 (valid callbacks).
    Resolved,
    /// 部分解决.
    Partly,
    /// 未解决.
    Unresolved,
    /// 满意.
    Satisfied,
    /// 基本满意.
    Basic,
    /// 不满意.
    Unsatisfied,
    /// 考核豁免 — exempted for a reason the policy honours.
    Exempted,
    /// 按办法排除 — left out by the policy's reopen or return rule.
    Excluded,
}

impl Measure {
    pub const ALL: [Measure; 11] = [
        Measure::Counted,
        Measure::Responded,
        Measure::ValidCallbacks,
        Measure::Resolved,
        Measure::Partly,
        Measure::Unresolved,
        Measure::Satisfied,
        Measure::Basic,
        Measure::Unsatisfied,
        Measure::Exempted,
        Measure::Excluded,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Counted => "counted",
            Measure::Responded => "responded",
            Measure::ValidCallbacks => "valid_callbacks",
            Measure::Resolved => "resolved",
            Measure::Partly => "partly",
            Measure::Unresolved => "unresolved",
            Measure::Satisfied => "satisfied",
            Measure::Basic => "basic",
            Measure::Unsatisfied => "unsatisfied",
            Measure::Exempted => "exempted",
            Measure::Excluded => "excluded",
        }
    }
    pub fn parse(s: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.as_str() == s)
    }
    /// Every name, comma-separated (for error messages).
    pub fn names() -> String {
        Measure::ALL.map(|m| m.as_str()).join(", ")
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Measure::Counted => "计入考核",
            Measure::Responded => "按时响应",
            Measure::ValidCallbacks => "有效回访",
            Measure::Resolved => "已解决",
            Measure::Partly => "部分解决",
            Measure::Unresolved => "未解决",
            Measure::Satisfied => "满意",
            Measure::Basic => "基本满意",
            Measure::Unsatisfied => "不满意",
            Measure::Exempted => "考核豁免",
            Measure::Excluded => "按办法排除",
        }
    }
    /// The figure in a line's counts.
    pub fn of(self, c: &Counts) -> u32 {
        match self {
            Measure::Counted => c.counted,
            Measure::Responded => c.responded,
            Measure::ValidCallbacks => c.valid_callbacks,
            Measure::Resolved => c.resolved,
            Measure::Partly => c.partly,
            Measure::Unresolved => c.unresolved,
            Measure::Satisfied => c.satisfied,
            Measure::Basic => c.basic,
            Measure::Unsatisfied => c.unsatisfied,
            Measure::Exempted => c.exempted,
            Measure::Excluded => c.excluded,
        }
    }
    /// Whether a row the policy classed as `class` is behind this figure.
    fn holds(self, class: &RowClass) -> bool {
        let k = match (self, class) {
            (Measure::Exempted, RowClass::Exempted) | (Measure::Excluded, RowClass::Excluded) => {
                return true
            }
            (_, RowClass::Kept(k)) => k,
            _ => return false,
        };
        match self {
            Measure::Counted => true,
            Measure::Responded => k.responded,
            Measure::ValidCallbacks => k.valid,
            Measure::Resolved => k.valid && k.resolution == codes::RESOLVED,
            Measure::Partly => k.valid && k.resolution == codes::PARTLY,
            Measure::Unresolved => k.valid && k.resolution == codes::UNRESOLVED,
            Measure::Satisfied => k.valid && k.satisfaction == codes::SATISFIED,
            Measure::Basic => k.valid && k.satisfaction == codes::BASIC,
            Measure::Unsatisfied => k.valid && k.satisfaction == codes::UNSATISFIED,
            Measure::Exempted | Measure::Excluded => false,
        }
    }
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose figure: the unit's own line, or a city department's 行业三率 (its industry's tickets
/// whatever the handler).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    Unit,
    Industry,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Unit => "unit",
            Scope::Industry => "industry",
        }
    }
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "unit" => Some(Scope::Unit),
            "industry" => Some(Scope::Industry),
            _ => None,
        }
    }
}

/// One assignment behind a figure: the export's row (no personal data) and how the policy read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillRow {
    #[serde(flatten)]
    pub fact: AssignmentFact,
    /// Responded no later than the respond deadline.
    pub responded_in_time: bool,
    /// The resolution as counted (the reopen rule `first_round_unresolved` counts a reopened
    /// ticket as unresolved whatever its final callback says); empty for rows not counted.
    pub counted_resolution: Option<String>,
}

/// The assignments behind one figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drill {
    pub period: Month,
    pub level: Level,
    /// The unit whose line it is; `None` for the level's totals (every unit of the level).
    pub unit_code: Option<String>,
    pub unit_name: Option<String>,
    pub scope: Scope,
    pub measure: Measure,
    pub measure_zh: String,
    pub policy_id: String,
    pub policy_name: String,
    pub policy_fingerprint: String,
    /// The months the policy governs, e.g. `2020-05 … open`.
    pub policy_period: String,
    pub month_clock: MonthClock,
    /// First dispatches in `[from, to)` (RFC 3339 UTC).
    pub from: String,
    pub to: String,
    /// The figure on the scorecard line (computed in the same call); always `rows.len()`.
    pub figure: u32,
    /// The industry's category codes (scope `industry` only).
    pub industry_categories: Vec<String>,
    /// Ordered by first dispatch, then ticket.
    pub rows: Vec<DrillRow>,
}

/// Why a drill-down cannot be given.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DrillError {
    #[error(transparent)]
    Score(#[from] ScoreError),
    #[error("'{unit}' is not a unit of the {level} level")]
    NotAMember { unit: String, level: Level },
    #[error("行业三率 (scope=industry) belongs to one city department, not to the {level} level or its totals")]
    NoIndustry { level: Level },
    #[error(
        "{measure} is not a figure of 行业三率 (exempted and excluded rows are not listed there)"
    )]
    IndustryMeasure { measure: Measure },
}

impl DrillError {
    /// The message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            DrillError::Score(e) => format!("无法计算考核结果：{e}"),
            DrillError::NotAMember { unit, level } => {
                format!("{unit} 不是“{}”层级的考核单位", level.label_zh())
            }
            DrillError::NoIndustry { .. } => "行业三率仅适用于市级部门".into(),
            DrillError::IndustryMeasure { measure } => {
                format!("行业三率没有“{}”这一指标", measure.label_zh())
            }
        }
    }
}

/// The assignments behind `measure` of `unit_code`'s line on the `level` scorecard of `period`
/// (`None`: behind the level's totals).
#[allow(clippy::too_many_arguments)]
pub fn drill(
    facts: &FactTable,
    period: Month,
    policy: &Policy,
    org: &OrgTree,
    level: Level,
    unit_code: Option<&str>,
    scope: Scope,
    measure: Measure,
) -> Result<Drill, DrillError> {
    let target = match unit_code {
        None => None,
        Some(code) => {
            let not_member = || DrillError::NotAMember {
                unit: code.to_string(),
                level,
            };
            let i = org
                .units()
                .iter()
                .position(|u| u.code == code)
                .ok_or_else(not_member)?;
            if org.units()[i].kind != level.kind() {
                return Err(not_member());
            }
            Some(i)
        }
    };
    let unit = target.map(|i| &org.units()[i]);
    if scope == Scope::Industry {
        let Some(target) = target.filter(|_| level == Level::Department) else {
            return Err(DrillError::NoIndustry { level });
        };
        if org.units()[target].kind != UnitKind::CityDepartment {
            return Err(DrillError::NoIndustry { level });
        }
        if matches!(measure, Measure::Exempted | Measure::Excluded) {
            return Err(DrillError::IndustryMeasure { measure });
        }
    }
    // the scorecard itself (checks the policy and the facts' coverage of the period)
    let card = score_levels(
        facts,
        period,
        policy,
        org,
        &[level],
        &ScoreOptions::default(),
    )?
    .remove(0);
    let line = unit_code.and_then(|c| card.unit(c));
    let figure = match scope {
        Scope::Unit if target.is_none() => measure.of(&card.totals.counts),
        Scope::Unit => line.map_or(0, |u| measure.of(&u.counts)),
        Scope::Industry => line
            .and_then(|u| u.industry.as_ref())
            .map_or(0, |i| measure.of(&i.counts)),
    };
    let (start, end) = policy.period_bounds(period);
    let (start_ms, end_ms) = (start.timestamp_millis(), end.timestamp_millis());
    let ctx = Context::new(facts, policy, org);
    let lx = level_index(level);
    // scope industry: the department's industry categories, as the scorecard derives them
    let mut industry_cats: Vec<bool> = vec![];
    let mut industry_categories = vec![];
    if scope == Scope::Industry {
        industry_cats = vec![false; facts.categories.len()];
        let pass = Pass::run(facts, &ctx, start_ms, end_ms);
        let target = target.expect("checked above: industry figures belong to one department");
        if let Some((_, cats)) = industries(facts, &ctx, &pass, org).remove(&target) {
            for c in cats {
                industry_cats[c] = true;
                industry_categories.push(facts.categories.get(c as u32).to_string());
            }
        }
        industry_categories.sort();
    }
    let mut hits: Vec<(usize, Option<u8>)> = vec![];
    for i in 0..facts.len() {
        let fd = facts.first_dispatched_at[i];
        if fd < start_ms || fd >= end_ms {
            continue;
        }
        match scope {
            Scope::Unit => {
                let u = facts.unit[i] as usize;
                if ctx.code_levels[u] & (1 << lx) == 0 {
                    continue;
                }
                let member = match level {
                    Level::District => ctx.code_district[u],
                    _ => ctx.code_org[u],
                };
                // a unit's line: its own rows; the totals: every member's rows
                if member.is_none() || (target.is_some() && member != target) {
                    continue;
                }
            }
            Scope::Industry => {
                if !industry_cats[facts.category[i] as usize] {
                    continue;
                }
            }
        }
        let class = ctx.classify(facts, i);
        if measure.holds(&class) {
            let counted = match &class {
                RowClass::Kept(k) if k.valid => Some(k.resolution),
                _ => None,
            };
            hits.push((i, counted));
        }
    }
    hits.sort_by_key(|&(i, _)| (facts.first_dispatched_at[i], facts.ticket_id[i], i));
    let rows = hits
        .into_iter()
        .map(|(i, counted)| {
            let fact = facts.fact(i);
            let responded_in_time = facts.responded_at[i] != crate::facts::NO_TIME
                && facts.responded_at[i] <= facts.respond_deadline[i];
            DrillRow {
                fact,
                responded_in_time,
                counted_resolution: counted
                    .and_then(|c| decode(Resolution::ALL, c))
                    .map(|r| r.as_str().to_string()),
            }
        })
        .collect();
    Ok(Drill {
        period,
        level,
        unit_code: unit.map(|u| u.code.clone()),
        unit_name: unit.map(|u| u.name.clone()),
        scope,
        measure,
        measure_zh: measure.label_zh().to_string(),
        policy_id: card.policy_id.clone(),
        policy_name: card.policy_name.clone(),
        policy_fingerprint: card.policy_fingerprint.clone(),
        policy_period: policy.period_label(),
        month_clock: policy.month_clock,
        from: card.from.clone(),
        to: card.to.clone(),
        figure,
        industry_categories,
        rows,
    })
}
