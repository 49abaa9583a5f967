//! 分析查询 — counts and rates grouped by one or two dimensions, with filters, over the columnar
//! facts. The months out of the period are skipped whole; the rows of the others are read column
//! by column in chunks on every core, into dense groups (see `query/fast.rs`); the row-by-row path
//! (a hash map for the largest key spaces) stays as the reference the tests compare with.
//!
//! Rates are ticket-level and use the shipped default scoring policy's partial credits (解决率:
//! resolved + 0.5 × partly; 满意率: satisfied + 0.8 × basic; over the callbacks that reached the
//! requester). The official monthly scorecard (assignment-level, versioned policy) stays in
//! `jiesu-score`; these are for trends and comparisons.

use crate::facts::{flag, FactPartition, LocalMonth, TicketFacts, NO_DURATION};
use chrono::{Datelike, NaiveDate};
use jiesu_domain::category::{CategoryTree, LivelihoodDomain};
use jiesu_domain::org::UnitKind;
use jiesu_domain::state::Status;
use jiesu_domain::ticket::{Channel, DeadlineTier, RequestType, Resolution, Satisfaction};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub(crate) mod cube;
mod fast;

/// Partial credit of 部分解决 in 解决率 (the default policy's `w_partly`).
pub const W_PARTLY: f64 = 0.5;
/// Partial credit of 基本满意 in 满意率 (the default policy's `w_basic`).
pub const W_BASIC: f64 = 0.8;

macro_rules! dims {
    ($($var:ident = $wire:literal / $zh:literal / $en:literal),+ $(,)?) => {
        /// A dimension the facts can be grouped or filtered by.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Dim { $(#[doc = $zh] #[serde(rename = $wire)] $var),+ }
        impl Dim {
            /// Every dimension.
            pub const ALL: &'static [Dim] = &[$(Dim::$var),+];
            /// The wire name.
            pub fn as_str(self) -> &'static str { match self { $(Dim::$var => $wire),+ } }
            /// Parses a wire name.
            pub fn parse(s: &str) -> Option<Dim> { match s { $($wire => Some(Dim::$var),)+ _ => None } }
            /// The Chinese label.
            pub fn label_zh(self) -> &'static str { match self { $(Dim::$var => $zh),+ } }
            /// The English label.
            pub fn label_en(self) -> &'static str { match self { $(Dim::$var => $en),+ } }
        }
    };
}

dims! {
    Year = "year" / "年份" / "year",
    Month = "month" / "月份" / "month",
    Week = "week" / "周" / "week",
    Day = "day" / "日期" / "day",
    Hour = "hour" / "时段" / "hour of day",
    Weekday = "weekday" / "星期" / "day of week",
    MonthOfYear = "month_of_year" / "月（季节性）" / "month of year",
    Channel = "channel" / "渠道" / "channel",
    Type = "type" / "诉求类型" / "request type",
    CategoryL1 = "category_l1" / "一级分类" / "category (level 1)",
    CategoryL2 = "category_l2" / "二级分类" / "category (level 2)",
    Category = "category" / "三级分类" / "category (leaf)",
    Domain = "domain" / "七有五性" / "livelihood domain",
    District = "district" / "区" / "district",
    Street = "street" / "街道乡镇" / "street / town",
    Community = "community" / "社区村" / "community",
    Unit = "unit" / "主办单位" / "lead unit",
    UnitKind = "unit_kind" / "单位类型" / "unit kind",
    Tier = "tier" / "时限" / "deadline tier",
    Status = "status" / "状态" / "status",
    Dispatched = "dispatched" / "是否派单" / "dispatched",
    AnsweredDirectly = "answered_directly" / "直接答复" / "answered directly",
    Enterprise = "enterprise" / "企业诉求" / "enterprise request",
    Overdue = "overdue" / "超期" / "overdue",
    Returned = "returned" / "退单" / "returned",
    Reopened = "reopened" / "重办" / "reopened",
    Contacted = "contacted" / "回访联系上" / "callback reached",
    Resolved = "resolved" / "解决情况" / "resolution",
    Satisfied = "satisfied" / "满意情况" / "satisfaction",
}

impl Dim {
    /// Whether the dimension is a time (sorted by key, not by count).
    pub fn is_time(self) -> bool {
        matches!(
            self,
            Dim::Year
                | Dim::Month
                | Dim::Week
                | Dim::Day
                | Dim::Hour
                | Dim::Weekday
                | Dim::MonthOfYear
        )
    }
}

/// Filters of a query: a period of city days and at most one code per dimension.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// First city day counted.
    pub from: Option<NaiveDate>,
    /// First city day not counted.
    pub to: Option<NaiveDate>,
    /// Dimension = code (for `category`, a code at any level: its subtree).
    pub eq: Vec<(Dim, String)>,
    /// Role scope: only rows whose district, street or lead unit is one of these codes (`None`:
    /// everything).
    pub scope: Option<Scope>,
}

/// What a scoped caller (a unit manager) may see.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    /// Districts and streets whose tickets are visible.
    pub places: Vec<String>,
    /// Lead units whose tickets are visible wherever they are.
    pub units: Vec<String>,
}

/// A query that cannot be answered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// An unknown dimension name.
    #[error("unknown dimension '{0}'")]
    UnknownDim(String),
    /// A filter value that does not exist for its dimension.
    #[error("unknown value '{value}' for dimension '{dim}'")]
    UnknownValue {
        /// The dimension.
        dim: String,
        /// The value.
        value: String,
    },
    /// More than two dimensions to group by, or none.
    #[error("group by one or two dimensions, got {0}")]
    GroupArity(usize),
    /// `from` is not before `to`.
    #[error("the period is empty: from {from} is not before to {to}")]
    EmptyPeriod {
        /// from
        from: NaiveDate,
        /// to
        to: NaiveDate,
    },
}

/// Sums of one group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Measures {
    /// Tickets.
    pub count: u64,
    /// Dispatched to a unit.
    pub dispatched: u64,
    /// Answered directly by the centre.
    pub answered_directly: u64,
    /// Lead assignment late.
    pub overdue: u64,
    /// Returned at least once.
    pub returned: u64,
    /// Reopened at least once.
    pub reopened: u64,
    /// Enterprise requests.
    pub enterprise: u64,
    /// Praise (表扬).
    pub praise: u64,
    /// Still open (在办: not answered, closed, merged or archived, and no result yet).
    pub open: u64,
    /// Dispatched tickets whose lead responded in time.
    pub responded: u64,
    /// Callbacks that reached the requester (the base of 解决率 and 满意率).
    pub valid_callbacks: u64,
    /// 已解决
    pub resolved: u64,
    /// 部分解决
    pub partly: u64,
    /// 满意
    pub satisfied: u64,
    /// 基本满意
    pub basic: u64,
}

impl Measures {
    #[inline]
    fn add_row(&mut self, p: &FactPartition, i: usize) {
        let f = p.flags[i];
        self.count += 1;
        self.dispatched += u64::from(f & flag::DISPATCHED != 0);
        self.answered_directly += u64::from(f & flag::ANSWERED_DIRECTLY != 0);
        self.overdue += u64::from(f & flag::OVERDUE != 0);
        self.returned += u64::from(f & flag::RETURNED != 0);
        self.reopened += u64::from(f & flag::REOPENED != 0);
        self.enterprise += u64::from(f & flag::ENTERPRISE != 0);
        self.responded += u64::from(f & flag::RESPONDED_IN_TIME != 0);
        self.praise += u64::from(p.request_type[i] == PRAISE);
        self.open += u64::from(OPEN_MASK & (1 << p.status[i]) != 0);
        let cb = p.callback[i];
        if cb & 3 == 1 {
            self.valid_callbacks += 1;
            let r = (cb >> 2) & 7;
            self.resolved += u64::from(r == RESOLVED);
            self.partly += u64::from(r == PARTLY);
            let s = (cb >> 5) & 7;
            self.satisfied += u64::from(s == SATISFIED);
            self.basic += u64::from(s == BASIC);
        }
    }

    /// Adds another group's sums.
    pub fn merge(&mut self, o: &Measures) {
        self.count += o.count;
        self.dispatched += o.dispatched;
        self.answered_directly += o.answered_directly;
        self.overdue += o.overdue;
        self.returned += o.returned;
        self.reopened += o.reopened;
        self.enterprise += o.enterprise;
        self.praise += o.praise;
        self.open += o.open;
        self.responded += o.responded;
        self.valid_callbacks += o.valid_callbacks;
        self.resolved += o.resolved;
        self.partly += o.partly;
        self.satisfied += o.satisfied;
        self.basic += o.basic;
    }

    /// 响应率: responded in time / dispatched (`None` without dispatches).
    pub fn response_rate(&self) -> Option<f64> {
        (self.dispatched > 0).then(|| self.responded as f64 / self.dispatched as f64)
    }
    /// 解决率: (resolved + 0.5 × partly) / valid callbacks.
    pub fn resolution_rate(&self) -> Option<f64> {
        (self.valid_callbacks > 0).then(|| {
            (self.resolved as f64 + W_PARTLY * self.partly as f64) / self.valid_callbacks as f64
        })
    }
    /// 满意率: (satisfied + 0.8 × basic) / valid callbacks.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        (self.valid_callbacks > 0).then(|| {
            (self.satisfied as f64 + W_BASIC * self.basic as f64) / self.valid_callbacks as f64
        })
    }
}

/// Histograms from which a group's [`Measures`] follow exactly: rows per flag byte (with the 表扬
/// bit above it), per status and per callback byte. Adding a row is three increments instead of
/// fifteen sums, for passes that sum many rows into few groups.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureHist {
    flags: Vec<u64>,
    status: Vec<u64>,
    callback: Vec<u64>,
}

impl Default for MeasureHist {
    fn default() -> Self {
        MeasureHist {
            flags: vec![0; 512],
            status: vec![0; 256],
            callback: vec![0; 256],
        }
    }
}

impl MeasureHist {
    /// Counts row `i` of `p`.
    #[inline]
    pub fn add_row(&mut self, p: &FactPartition, i: usize) {
        let praise = usize::from(p.request_type[i] == PRAISE);
        self.flags[usize::from(p.flags[i]) | praise << 8] += 1;
        self.status[usize::from(p.status[i])] += 1;
        self.callback[usize::from(p.callback[i])] += 1;
    }

    /// Adds another histogram.
    pub fn merge(&mut self, o: &MeasureHist) {
        for (a, b) in [
            (&mut self.flags, &o.flags),
            (&mut self.status, &o.status),
            (&mut self.callback, &o.callback),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }

    /// The sums [`Measures`] would hold for the same rows.
    pub fn measures(&self) -> Measures {
        let mut m = Measures::default();
        for (i, &n) in self.flags.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let f = (i & 0xff) as u8;
            let on = |bit: u8| if f & bit != 0 { n } else { 0 };
            m.count += n;
            m.dispatched += on(flag::DISPATCHED);
            m.answered_directly += on(flag::ANSWERED_DIRECTLY);
            m.overdue += on(flag::OVERDUE);
            m.returned += on(flag::RETURNED);
            m.reopened += on(flag::REOPENED);
            m.enterprise += on(flag::ENTERPRISE);
            m.responded += on(flag::RESPONDED_IN_TIME);
            if i >> 8 != 0 {
                m.praise += n;
            }
        }
        for (s, &n) in self.status.iter().enumerate() {
            // as `add_row`'s shift: the status's bit in OPEN_MASK (shift amounts wrap at 32)
            if OPEN_MASK & (1u32 << (s & 31)) != 0 {
                m.open += n;
            }
        }
        for (cb, &n) in self.callback.iter().enumerate() {
            if cb & 3 == 1 {
                m.valid_callbacks += n;
                let r = ((cb >> 2) & 7) as u8;
                let s = ((cb >> 5) & 7) as u8;
                if r == RESOLVED {
                    m.resolved += n;
                }
                if r == PARTLY {
                    m.partly += n;
                }
                if s == SATISFIED {
                    m.satisfied += n;
                }
                if s == BASIC {
                    m.basic += n;
                }
            }
        }
        m
    }
}

const fn wire_pos(i: usize) -> u8 {
    i as u8 + 1
}
const PRAISE: u8 = wire_pos(5); // RequestType::ALL[5] = Praise (checked in tests)
const RESOLVED: u8 = wire_pos(0);
const PARTLY: u8 = wire_pos(1);
/// Bits (by `Status::ALL` position + 1) of the open statuses: new, consultation, dispatched,
/// in_progress, return_review, result_submitted (checked in tests).
const OPEN_MASK: u32 = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8);
const SATISFIED: u8 = wire_pos(0);
const BASIC: u8 = wire_pos(1);

/// The category tree seen from the facts' category ids: each id's level-1 and level-2 ancestor
/// (as ids of [`Catalog::levels`]) and its 七有五性 domain.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Codes of level-1 and level-2 categories (id 0 = none).
    pub levels: crate::facts::Dict,
    /// Per fact category id: level-1 id in `levels`.
    pub l1: Vec<u16>,
    /// Per fact category id: level-2 id in `levels`.
    pub l2: Vec<u16>,
    /// Per fact category id: `LivelihoodDomain::ALL` position + 1 (0 none).
    pub domain: Vec<u8>,
}

impl Catalog {
    /// Resolves every category id of `facts` in `tree`.
    pub fn new(facts: &TicketFacts, tree: &CategoryTree) -> Catalog {
        let mut levels = crate::facts::Dict::new();
        let n = facts.categories.len();
        let (mut l1, mut l2, mut domain) = (vec![0; n], vec![0; n], vec![0; n]);
        for id in 1..n {
            let code = facts.categories.code(id as u16);
            let mut dom = None;
            for c in tree.path(code) {
                match c.level {
                    1 => l1[id] = levels.intern(&c.code).unwrap_or(0),
                    2 => l2[id] = levels.intern(&c.code).unwrap_or(0),
                    _ => {}
                }
                if c.domain.is_some() {
                    dom = c.domain;
                }
            }
            domain[id] = dom
                .and_then(|d| LivelihoodDomain::ALL.iter().position(|x| *x == d))
                .map(|p| p as u8 + 1)
                .unwrap_or(0);
        }
        Catalog {
            levels,
            l1,
            l2,
            domain,
        }
    }
}

/// The value of one dimension for one row, as a number (see [`Engine::code`] for its code).
#[inline]
fn key_of(
    dim: Dim,
    facts: &TicketFacts,
    cat: &Catalog,
    p: &FactPartition,
    m: LocalMonth,
    i: usize,
) -> u32 {
    match dim {
        Dim::Year | Dim::Month | Dim::Week | Dim::Day | Dim::Weekday | Dim::MonthOfYear => {
            time_key(dim, m, p.day[i])
        }
        Dim::Hour => u32::from(p.hour[i]),
        Dim::Channel => u32::from(p.channel[i]),
        Dim::Type => u32::from(p.request_type[i]),
        Dim::CategoryL1 => u32::from(cat.l1[usize::from(p.category[i])]),
        Dim::CategoryL2 => u32::from(cat.l2[usize::from(p.category[i])]),
        Dim::Category => u32::from(p.category[i]),
        Dim::Domain => u32::from(cat.domain[usize::from(p.category[i])]),
        Dim::District => u32::from(p.district[i]),
        Dim::Street => u32::from(p.street[i]),
        Dim::Community => u32::from(p.community[i]),
        Dim::Unit => u32::from(p.lead_unit[i]),
        Dim::UnitKind => u32::from(facts.unit_kind[usize::from(p.lead_unit[i])]),
        Dim::Tier => u32::from(p.tier[i]),
        Dim::Status => u32::from(p.status[i]),
        Dim::Dispatched => u32::from(p.flags[i] & flag::DISPATCHED != 0),
        Dim::AnsweredDirectly => u32::from(p.flags[i] & flag::ANSWERED_DIRECTLY != 0),
        Dim::Enterprise => u32::from(p.flags[i] & flag::ENTERPRISE != 0),
        Dim::Overdue => u32::from(p.flags[i] & flag::OVERDUE != 0),
        Dim::Returned => u32::from(p.flags[i] & flag::RETURNED != 0),
        Dim::Reopened => u32::from(p.flags[i] & flag::REOPENED != 0),
        Dim::Contacted => u32::from(p.callback[i] & 3),
        Dim::Resolved => u32::from((p.callback[i] >> 2) & 7),
        Dim::Satisfied => u32::from((p.callback[i] >> 5) & 7),
    }
}

/// The key of `dim` for row `i` of partition `p` (month `m`): what [`Engine::code`] turns into a
/// code.
pub fn key_of_row(
    dim: Dim,
    facts: &TicketFacts,
    cat: &Catalog,
    p: &FactPartition,
    m: LocalMonth,
    i: usize,
) -> u32 {
    key_of(dim, facts, cat, p, m, i)
}

/// The key of a dimension of the calendar (`Year`, `Month`, `Week`, `Day`, `Weekday`,
/// `MonthOfYear`) for day byte `d` of month `m`; 0 for the other dimensions.
fn time_key(dim: Dim, m: LocalMonth, d: u8) -> u32 {
    match dim {
        Dim::Year => m.year as u32,
        Dim::Month => (m.year as u32) * 12 + (m.month - 1),
        Dim::Week => {
            let d = day(m, d);
            let monday = d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()));
            monday.num_days_from_ce() as u32
        }
        Dim::Day => day(m, d).num_days_from_ce() as u32,
        Dim::Weekday => day(m, d).weekday().num_days_from_monday(),
        Dim::MonthOfYear => m.month,
        _ => 0,
    }
}

fn day(m: LocalMonth, d: u8) -> NaiveDate {
    NaiveDate::from_ymd_opt(m.year, m.month, u32::from(d)).unwrap_or_else(|| m.first_day())
}

fn date_of_ce(n: u32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(n as i32).unwrap_or_default()
}

/// How many distinct keys a dimension can have at most (for dense grouping), if small.
fn cardinality(dim: Dim, facts: &TicketFacts, cat: &Catalog) -> Option<usize> {
    Some(match dim {
        Dim::Hour => 24,
        Dim::Weekday => 7,
        Dim::MonthOfYear => 13,
        Dim::Channel => Channel::ALL.len() + 1,
        Dim::Type => RequestType::ALL.len() + 1,
        Dim::CategoryL1 | Dim::CategoryL2 => cat.levels.len(),
        Dim::Category => facts.categories.len(),
        Dim::Domain => LivelihoodDomain::ALL.len() + 1,
        Dim::District | Dim::Street | Dim::Community => facts.places.len(),
        Dim::Unit => facts.units.len(),
        Dim::UnitKind => UnitKind::ALL.len() + 1,
        Dim::Tier => DeadlineTier::ALL.len() + 1,
        Dim::Status => Status::ALL.len() + 1,
        Dim::Contacted => 4,
        Dim::Resolved | Dim::Satisfied => 8,
        Dim::Dispatched
        | Dim::AnsweredDirectly
        | Dim::Enterprise
        | Dim::Overdue
        | Dim::Returned
        | Dim::Reopened => 2,
        Dim::Year | Dim::Month | Dim::Week | Dim::Day => return None,
    })
}

/// A compiled row predicate.
struct Pred {
    from: Option<(LocalMonth, u8)>,
    to: Option<(LocalMonth, u8)>,
    /// (dimension, accepted keys) — a key set for the category subtree, one key otherwise.
    eq: Vec<(Dim, Vec<u32>)>,
    scope: Option<(Vec<bool>, Vec<bool>)>,
}

/// Answers queries over one [`TicketFacts`] with its category tree.
pub struct Engine<'a> {
    /// The facts.
    pub facts: &'a TicketFacts,
    /// The category tree's view of them.
    pub catalog: Catalog,
    tree: &'a CategoryTree,
}

/// One group's key: a code per dimension.
pub type Key = Vec<String>;

impl<'a> Engine<'a> {
    /// An engine over `facts`.
    pub fn new(facts: &'a TicketFacts, tree: &'a CategoryTree) -> Self {
        Engine {
            facts,
            catalog: Catalog::new(facts, tree),
            tree,
        }
    }

    /// The category tree.
    pub fn tree(&self) -> &CategoryTree {
        self.tree
    }

    /// The code of a dimension's key: wire names for enums, codes for places, units and
    /// categories, `YYYY`, `YYYY-MM`, `YYYY-MM-DD` (weeks: their Monday) for times, `true`/`false`
    /// for flags, "" for none.
    pub fn code(&self, dim: Dim, k: u32) -> String {
        fn nth<T: Copy>(all: &[T], k: u32, f: impl Fn(T) -> &'static str) -> String {
            (k as usize)
                .checked_sub(1)
                .and_then(|i| all.get(i))
                .map(|v| f(*v).to_string())
                .unwrap_or_default()
        }
        match dim {
            Dim::Year => format!("{k:04}"),
            Dim::Month => format!("{:04}-{:02}", k / 12, k % 12 + 1),
            Dim::Week | Dim::Day => date_of_ce(k).format("%Y-%m-%d").to_string(),
            Dim::Hour => format!("{k:02}"),
            Dim::Weekday => (k + 1).to_string(),
            Dim::MonthOfYear => format!("{k:02}"),
            Dim::Channel => nth(Channel::ALL, k, Channel::as_str),
            Dim::Type => nth(RequestType::ALL, k, RequestType::as_str),
            Dim::CategoryL1 | Dim::CategoryL2 => self.catalog.levels.code(k as u16).to_string(),
            Dim::Category => self.facts.categories.code(k as u16).to_string(),
            Dim::Domain => nth(&LivelihoodDomain::ALL, k, LivelihoodDomain::as_str),
            Dim::District | Dim::Street | Dim::Community => {
                self.facts.places.code(k as u16).to_string()
            }
            Dim::Unit => self.facts.units.code(k as u16).to_string(),
            Dim::UnitKind => nth(&UnitKind::ALL, k, UnitKind::as_str),
            Dim::Tier => nth(DeadlineTier::ALL, k, DeadlineTier::as_str),
            Dim::Status => nth(Status::ALL, k, Status::as_str),
            Dim::Contacted => match k {
                1 => "true".into(),
                2 => "false".into(),
                _ => String::new(),
            },
            Dim::Resolved => nth(Resolution::ALL, k, Resolution::as_str),
            Dim::Satisfied => nth(Satisfaction::ALL, k, Satisfaction::as_str),
            Dim::Dispatched
            | Dim::AnsweredDirectly
            | Dim::Enterprise
            | Dim::Overdue
            | Dim::Returned
            | Dim::Reopened => (k == 1).to_string(),
        }
    }

    /// The keys a code stands for in a filter (a category code at any level: its leaves).
    fn keys_for(&self, dim: Dim, code: &str) -> Result<Vec<u32>, QueryError> {
        let unknown = || QueryError::UnknownValue {
            dim: dim.as_str().to_string(),
            value: code.to_string(),
        };
        let found: Option<Vec<u32>> = match dim {
            // a level's key is the level code's own id (the row's ancestor at that level)
            Dim::CategoryL1 | Dim::CategoryL2 => {
                if self.tree.get(code).is_none() {
                    return Err(unknown());
                }
                return Ok(self
                    .catalog
                    .levels
                    .id(code)
                    .map(|i| vec![u32::from(i)])
                    .unwrap_or_default());
            }
            Dim::Category => {
                if self.tree.get(code).is_none() {
                    return Err(unknown());
                }
                // leaves of the subtree that occur in the facts
                let ids: Vec<u32> = (1..self.facts.categories.len())
                    .filter(|&id| {
                        let c = self.facts.categories.code(id as u16);
                        self.tree.path(c).any(|a| a.code == code)
                    })
                    .map(|id| id as u32)
                    .collect();
                return Ok(ids);
            }
            Dim::District | Dim::Street | Dim::Community => {
                return Ok(self
                    .facts
                    .places
                    .id(code)
                    .map(|i| vec![u32::from(i)])
                    .unwrap_or_default())
            }
            Dim::Unit => {
                return Ok(self
                    .facts
                    .units
                    .id(code)
                    .map(|i| vec![u32::from(i)])
                    .unwrap_or_default())
            }
            Dim::Year => code.parse::<u32>().ok().map(|y| vec![y]),
            Dim::Month => LocalMonth::parse(code).map(|m| vec![m.year as u32 * 12 + m.month - 1]),
            Dim::Day | Dim::Week => NaiveDate::parse_from_str(code, "%Y-%m-%d")
                .ok()
                .map(|d| vec![d.num_days_from_ce() as u32]),
            _ => {
                let card = cardinality(dim, self.facts, &self.catalog).unwrap_or(0) as u32;
                (0..card)
                    .find(|&k| self.code(dim, k) == code && !code.is_empty())
                    .map(|k| vec![k])
            }
        };
        found.ok_or_else(unknown)
    }

    fn compile(&self, f: &Filter) -> Result<Pred, QueryError> {
        if let (Some(a), Some(b)) = (f.from, f.to) {
            if a >= b {
                return Err(QueryError::EmptyPeriod { from: a, to: b });
            }
        }
        let mut eq = Vec::new();
        for (dim, code) in &f.eq {
            eq.push((*dim, self.keys_for(*dim, code)?));
        }
        let scope = f.scope.as_ref().map(|s| {
            let mut places = vec![false; self.facts.places.len()];
            for c in &s.places {
                if let Some(i) = self.facts.places.id(c) {
                    places[usize::from(i)] = true;
                }
            }
            let mut units = vec![false; self.facts.units.len()];
            for c in &s.units {
                if let Some(i) = self.facts.units.id(c) {
                    units[usize::from(i)] = true;
                }
            }
            (places, units)
        });
        let at = |d: NaiveDate| (LocalMonth::of(d), d.day() as u8);
        Ok(Pred {
            from: f.from.map(at),
            to: f.to.map(at),
            eq,
            scope,
        })
    }

    /// The partitions a predicate may touch, with the row-range check needed inside each.
    fn months<'b>(
        &'b self,
        pred: &'b Pred,
    ) -> impl Iterator<Item = (LocalMonth, &'b FactPartition, u8, u8)> + 'b {
        self.facts.partitions.iter().filter_map(move |(&m, p)| {
            let lo = match pred.from {
                Some((fm, _)) if m < fm => return None,
                Some((fm, fd)) if m == fm => fd,
                _ => 1,
            };
            let hi = match pred.to {
                Some((tm, _)) if m > tm => return None,
                Some((tm, td)) if m == tm => {
                    if td <= 1 {
                        return None;
                    }
                    td - 1
                }
                _ => 31,
            };
            Some((m, p, lo, hi))
        })
    }

    #[inline]
    fn keep(
        &self,
        pred: &Pred,
        p: &FactPartition,
        m: LocalMonth,
        i: usize,
        lo: u8,
        hi: u8,
    ) -> bool {
        let d = p.day[i];
        if d < lo || d > hi {
            return false;
        }
        if let Some((places, units)) = &pred.scope {
            let ok = places[usize::from(p.district[i])]
                || places[usize::from(p.street[i])]
                || units[usize::from(p.lead_unit[i])];
            if !ok {
                return false;
            }
        }
        for (dim, keys) in &pred.eq {
            let k = key_of(*dim, self.facts, &self.catalog, p, m, i);
            if !keys.contains(&k) {
                return false;
            }
        }
        true
    }

    /// Counts and rates grouped by `by` (one or two dimensions): column by column over chunks of
    /// rows, on every core (see `query/fast.rs`); row by row when the key space is too large for
    /// dense groups.
    pub fn group(&self, by: &[Dim], filter: &Filter) -> Result<Grouped, QueryError> {
        self.group_tuned(by, filter, fast::Tuning::default())
    }

    fn group_tuned(
        &self,
        by: &[Dim],
        filter: &Filter,
        tuning: fast::Tuning,
    ) -> Result<Grouped, QueryError> {
        if by.is_empty() || by.len() > 2 {
            return Err(QueryError::GroupArity(by.len()));
        }
        let pred = self.compile(filter)?;
        if let Some(g) = cube::group(self, by, &pred) {
            return Ok(g);
        }
        match fast::group(self, by, &pred, tuning) {
            Some(g) => Ok(g),
            None => Ok(self.group_rows(by, &pred)),
        }
    }

    /// [`Engine::group`] the straightforward way: row by row, each row's keys and measures
    /// computed on their own, one thread (the reference the fast path is tested against, and the
    /// path for key spaces too large for dense groups).
    fn group_rows(&self, by: &[Dim], pred: &Pred) -> Grouped {
        let (a, b) = (by[0], by.get(1).copied());
        let ca = cardinality(a, self.facts, &self.catalog);
        let cb = match b {
            Some(b) => cardinality(b, self.facts, &self.catalog),
            None => Some(1),
        };
        let mut total = Measures::default();
        let mut months = 0;
        let mut groups: Vec<(Vec<u32>, Measures)> = Vec::new();
        match (ca, cb) {
            (Some(na), Some(nb)) if na.saturating_mul(nb) <= 4_000_000 => {
                let mut dense = vec![Measures::default(); na * nb];
                for (m, p, lo, hi) in self.months(pred) {
                    months += 1;
                    for i in 0..p.len() {
                        if !self.keep(pred, p, m, i, lo, hi) {
                            continue;
                        }
                        let ka = key_of(a, self.facts, &self.catalog, p, m, i) as usize;
                        let kb = b
                            .map(|b| key_of(b, self.facts, &self.catalog, p, m, i) as usize)
                            .unwrap_or(0);
                        dense[ka * nb + kb].add_row(p, i);
                    }
                }
                for (idx, ms) in dense.into_iter().enumerate() {
                    if ms.count > 0 {
                        let mut key = vec![(idx / nb) as u32];
                        if b.is_some() {
                            key.push((idx % nb) as u32);
                        }
                        total.merge(&ms);
                        groups.push((key, ms));
                    }
                }
            }
            _ => {
                let mut map: HashMap<(u32, u32), Measures> = HashMap::new();
                for (m, p, lo, hi) in self.months(pred) {
                    months += 1;
                    for i in 0..p.len() {
                        if !self.keep(pred, p, m, i, lo, hi) {
                            continue;
                        }
                        let ka = key_of(a, self.facts, &self.catalog, p, m, i);
                        let kb = b
                            .map(|b| key_of(b, self.facts, &self.catalog, p, m, i))
                            .unwrap_or(0);
                        map.entry((ka, kb)).or_default().add_row(p, i);
                    }
                }
                for ((ka, kb), ms) in map {
                    total.merge(&ms);
                    let key = if b.is_some() { vec![ka, kb] } else { vec![ka] };
                    groups.push((key, ms));
                }
            }
        }
        let mut g = self.grouped(by, groups, months);
        g.total = total;
        g
    }

    /// Groups summed elsewhere (keys as numbers, one per dimension of `by`, as [`key_of_row`]
    /// gives them) answered the way [`Engine::group`] answers: time dimensions sorted by key,
    /// others by count descending then key, keys turned into codes, `total` the sum of all.
    pub fn grouped(
        &self,
        by: &[Dim],
        mut groups: Vec<(Vec<u32>, Measures)>,
        months: usize,
    ) -> Grouped {
        let mut total = Measures::default();
        for (_, ms) in &groups {
            total.merge(ms);
        }
        match by.first() {
            Some(a) if a.is_time() => groups.sort_by(|x, y| x.0.cmp(&y.0)),
            _ => groups.sort_by(|x, y| y.1.count.cmp(&x.1.count).then(x.0.cmp(&y.0))),
        }
        let rows = groups
            .into_iter()
            .map(|(k, ms)| Group {
                key: k.iter().zip(by).map(|(&k, &d)| self.code(d, k)).collect(),
                measures: ms,
            })
            .collect();
        Grouped {
            by: by.to_vec(),
            rows,
            total,
            months,
        }
    }

    /// Handling-time percentiles (hours) of dispatched tickets grouped by one dimension, exact
    /// (nearest rank), on every core: with few groups by histograms and a second scan for the
    /// values of the buckets holding the ranks, with many by gathering the values and selecting.
    pub fn durations(&self, by: Dim, filter: &Filter) -> Result<Vec<DurationRow>, QueryError> {
        let pred = self.compile(filter)?;
        let map = fast::durations(self, by, &pred, fast::Tuning::default());
        Ok(self.duration_rows(by, map))
    }

    /// Sums every partition not yet summed into its cube (预聚合, see `query::cube`) on every
    /// core, so that the first dashboard query after a refresh does not pay for it; the bytes the
    /// cubes hold.
    pub fn warm_cubes(&self) -> usize {
        cube::warm(self)
    }

    /// The rows of [`Engine::durations`] from the ranked times per key.
    fn duration_rows(&self, by: Dim, map: fast::RankedTimes) -> Vec<DurationRow> {
        let hours = |r: &fast::Ranked| Percentiles {
            median_hours: r.median.map(|s| f64::from(s) / 3600.0),
            p90_hours: r.p90.map(|s| f64::from(s) / 3600.0),
        };
        let mut rows: Vec<DurationRow> = map
            .into_iter()
            .map(|(k, [s, r, f])| DurationRow {
                key: self.code(by, k),
                n: s.n.max(r.n).max(f.n),
                sign: hours(&s),
                respond: hours(&r),
                finish: hours(&f),
            })
            .collect();
        rows.sort_by(|a, b| b.n.cmp(&a.n).then(a.key.cmp(&b.key)));
        rows
    }

    /// [`Engine::durations`] row by row, percentiles by sorting (the reference of the tests).
    #[cfg(test)]
    fn durations_rows(&self, by: Dim, filter: &Filter) -> Result<Vec<DurationRow>, QueryError> {
        let pred = self.compile(filter)?;
        let mut map: HashMap<u32, [Vec<u32>; 3]> = HashMap::new();
        for (m, p, lo, hi) in self.months(&pred) {
            for i in 0..p.len() {
                if p.flags[i] & flag::DISPATCHED == 0 || !self.keep(&pred, p, m, i, lo, hi) {
                    continue;
                }
                let k = key_of(by, self.facts, &self.catalog, p, m, i);
                let e = map.entry(k).or_default();
                for (v, col) in
                    e.iter_mut()
                        .zip([&p.secs_to_sign, &p.secs_to_respond, &p.secs_to_finish])
                {
                    if col[i] != NO_DURATION {
                        v.push(col[i]);
                    }
                }
            }
        }
        let sorted = |v: &mut Vec<u32>| {
            v.sort_unstable();
            let n = v.len() as u64;
            let (r50, r90) = fast::ranks(n);
            fast::Ranked {
                n,
                median: (n > 0).then(|| v[r50 as usize - 1]),
                p90: (n > 0).then(|| v[r90 as usize - 1]),
            }
        };
        let ranked = map
            .into_iter()
            .map(|(k, [mut a, mut b, mut c])| (k, [sorted(&mut a), sorted(&mut b), sorted(&mut c)]))
            .collect();
        Ok(self.duration_rows(by, ranked))
    }

    /// The ticket ids behind a filter (drill-down), at most `limit`, newest first.
    pub fn ticket_ids(&self, filter: &Filter, limit: usize) -> Result<(Vec<i64>, u64), QueryError> {
        let pred = self.compile(filter)?;
        let mut ids = Vec::new();
        let mut n = 0u64;
        let months: Vec<_> = self.months(&pred).collect();
        for (m, p, lo, hi) in months.into_iter().rev() {
            for i in (0..p.len()).rev() {
                if self.keep(&pred, p, m, i, lo, hi) {
                    n += 1;
                    if ids.len() < limit {
                        ids.push(p.ticket_id[i]);
                    }
                }
            }
        }
        Ok((ids, n))
    }

    /// Distinct requesters (by the keyed phone hash) in the filter, and how many of them made more
    /// than one request.
    pub fn requesters(&self, filter: &Filter) -> Result<(u64, u64), QueryError> {
        let pred = self.compile(filter)?;
        let mut seen = vec![0u8; self.facts.requester_count as usize + 1];
        for (m, p, lo, hi) in self.months(&pred) {
            for i in 0..p.len() {
                let r = p.requester[i] as usize;
                if r != 0 && self.keep(&pred, p, m, i, lo, hi) {
                    seen[r] = seen[r].saturating_add(1);
                }
            }
        }
        let distinct = seen.iter().filter(|&&c| c > 0).count() as u64;
        let repeat = seen.iter().filter(|&&c| c > 1).count() as u64;
        Ok((distinct, repeat))
    }
}

/// The answer of [`Engine::group`].
#[derive(Debug, Clone, PartialEq)]
pub struct Grouped {
    /// The dimensions grouped by.
    pub by: Vec<Dim>,
    /// Groups, by count descending (time dimensions: by key).
    pub rows: Vec<Group>,
    /// All rows counted.
    pub total: Measures,
    /// Monthly partitions read.
    pub months: usize,
}

impl Grouped {
    /// Keeps the first `n` groups and sums the rest into the returned "others".
    pub fn top(&mut self, n: usize) -> Option<Measures> {
        if self.rows.len() <= n {
            return None;
        }
        let mut others = Measures::default();
        for g in self.rows.drain(n..) {
            others.merge(&g.measures);
        }
        Some(others)
    }
}

/// One group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Codes, one per dimension.
    pub key: Key,
    /// Its sums.
    pub measures: Measures,
}

/// Median and 90th percentile in hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Percentiles {
    /// The median, hours.
    pub median_hours: Option<f64>,
    /// The 90th percentile, hours.
    pub p90_hours: Option<f64>,
}

impl Percentiles {
    /// Nearest-rank percentiles of `secs` (sorted in place).
    pub fn of(secs: &mut [u32]) -> Percentiles {
        if secs.is_empty() {
            return Percentiles::default();
        }
        secs.sort_unstable();
        let at = |q: f64| {
            let rank = ((q * secs.len() as f64).ceil() as usize).clamp(1, secs.len());
            Some(f64::from(secs[rank - 1]) / 3600.0)
        };
        Percentiles {
            median_hours: at(0.5),
            p90_hours: at(0.9),
        }
    }
}

/// One row of [`Engine::durations`].
#[derive(Debug, Clone, PartialEq)]
pub struct DurationRow {
    /// The group's code.
    pub key: String,
    /// Dispatched tickets counted.
    pub n: u64,
    /// To 签收.
    pub sign: Percentiles,
    /// To 响应.
    pub respond: Percentiles,
    /// To 办结.
    pub finish: Percentiles,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_positions_used_in_the_hot_loop_match_the_enums() {
        assert_eq!(
            RequestType::ALL[usize::from(PRAISE - 1)],
            RequestType::Praise
        );
        assert_eq!(
            Resolution::ALL[usize::from(RESOLVED - 1)],
            Resolution::Resolved
        );
        assert_eq!(Resolution::ALL[usize::from(PARTLY - 1)], Resolution::Partly);
        assert_eq!(
            Satisfaction::ALL[usize::from(SATISFIED - 1)],
            Satisfaction::Satisfied
        );
        assert_eq!(
            Satisfaction::ALL[usize::from(BASIC - 1)],
            Satisfaction::Basic
        );
        let open = [
            "new",
            "consultation",
            "dispatched",
            "in_progress",
            "return_review",
            "result_submitted",
        ];
        for (i, st) in Status::ALL.iter().enumerate() {
            let bit = OPEN_MASK & (1 << (i + 1)) != 0;
            assert_eq!(bit, open.contains(&st.as_str()), "{st:?}");
        }
    }

    #[test]
    fn percentiles_are_nearest_rank_in_hours() {
        let mut v = vec![3600, 7200, 10800, 14400];
        let p = Percentiles::of(&mut v);
        assert_eq!(p.median_hours, Some(2.0));
        assert_eq!(p.p90_hours, Some(4.0));
        assert_eq!(Percentiles::of(&mut []), Percentiles::default());
    }

    use crate::facts::TicketFact;
    use jiesu_domain::category::Category;

    /// xorshift64*: deterministic random numbers for the tests.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'t, T>(&mut self, v: &'t [T]) -> &'t T {
            &v[self.below(v.len())]
        }
        fn maybe<T: Copy>(&mut self, v: &[T]) -> Option<T> {
            (self.below(5) != 0).then(|| *self.pick(v))
        }
    }

    fn small_tree() -> CategoryTree {
        let mut cats = Vec::new();
        let cat = |code: String, level: u8, parent: Option<&str>, domain| Category {
            name: format!("类{code}"),
            code,
            level,
            parent: parent.map(str::to_string),
            domain,
            active: true,
        };
        for a in 1..=9 {
            let l1 = format!("{a:02}");
            cats.push(cat(l1.clone(), 1, None, None));
            for b in 1..=5 {
                let l2 = format!("{l1}{b:02}");
                cats.push(cat(l2.clone(), 2, Some(&l1), None));
                for c in 1..=3 {
                    let domain = LivelihoodDomain::ALL.get((a * 5 + b + c) % 15).copied();
                    cats.push(cat(format!("{l2}{c:02}"), 3, Some(&l2), domain));
                }
            }
        }
        CategoryTree::new(cats)
    }

    /// `n` random facts over 2019-11 … 2021-02: every enum value, flag and callback byte, codes
    /// absent, unknown to the tree or inner nodes, 2 districts × 40 streets × 5 communities.
    fn random_facts(n: usize, seed: u64) -> TicketFacts {
        let mut rng = Rng(seed | 1);
        let mut facts = TicketFacts::new();
        let mut cats: Vec<String> = vec!["".into(), "99".into(), "0101".into(), "03".into()];
        for a in 1..=9 {
            for b in 1..=5 {
                for c in 1..=3 {
                    cats.push(format!("{a:02}{b:02}{c:02}"));
                }
            }
        }
        let units: Vec<(String, Option<UnitKind>)> = (0..60)
            .map(|i| {
                if i == 0 {
                    (String::new(), None)
                } else {
                    (
                        format!("U{i:03}"),
                        Some(UnitKind::ALL[i % UnitKind::ALL.len()]),
                    )
                }
            })
            .collect();
        let first = NaiveDate::from_ymd_opt(2019, 11, 1).unwrap();
        let days = (NaiveDate::from_ymd_opt(2021, 3, 1).unwrap() - first).num_days() as usize;
        let mut rows: Vec<TicketFact> = (0..n)
            .map(|i| {
                let d = rng.below(3);
                let s = rng.below(41);
                let c = rng.below(6);
                let district = if d == 0 {
                    String::new()
                } else {
                    format!("11010{d}")
                };
                let street = if d == 0 || s == 0 {
                    String::new()
                } else {
                    format!("{district}{s:03}")
                };
                let community = if street.is_empty() || c == 0 {
                    String::new()
                } else {
                    format!("{street}{c:03}")
                };
                let (unit, kind) = rng.pick(&units).clone();
                TicketFact {
                    ticket_id: i as i64 + 1,
                    created_date: first + chrono::Duration::days(rng.below(days) as i64),
                    created_hour: rng.below(24) as u8,
                    channel: *rng.pick(Channel::ALL),
                    request_type: *rng.pick(RequestType::ALL),
                    category_code: rng.pick(&cats).clone(),
                    district_code: district,
                    street_code: street,
                    community_code: community,
                    lead_unit: unit,
                    lead_unit_kind: kind,
                    tier: rng.maybe(DeadlineTier::ALL),
                    status: *rng.pick(Status::ALL),
                    dispatched: rng.below(2) == 0,
                    answered_directly: rng.below(3) == 0,
                    enterprise: rng.below(4) == 0,
                    overdue: rng.below(3) == 0,
                    returned: rng.below(5) == 0,
                    reopened: rng.below(6) == 0,
                    responded_in_time: rng.below(2) == 0,
                    contacted: rng.maybe(&[true, false, true]),
                    resolution: rng.maybe(Resolution::ALL),
                    satisfaction: rng.maybe(Satisfaction::ALL),
                    // a few common values (ties) and a jitter that puts neighbours in one bucket
                    // of the percentile histograms
                    secs_to_sign: rng
                        .maybe(&[60, 3600, 7200])
                        .map(|s| s + 7 * rng.below(3) as u32),
                    secs_to_respond: rng
                        .maybe(&[600, 36_000])
                        .map(|s| s * (1 + rng.below(2) as u32)),
                    secs_to_finish: rng
                        .maybe(&[86_400, 400_000, 4_000_000_000])
                        .map(|s| s - rng.below(1000) as u32),
                    requester_hash: (rng.below(4) != 0).then(|| vec![rng.below(500) as u8, 7]),
                }
            })
            .collect();
        rows.sort_by_key(|f| f.created_date);
        for f in &rows {
            facts.push(LocalMonth::of(f.created_date), f).unwrap();
        }
        facts
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Filters of every kind the fast path treats differently.
    fn filters() -> Vec<Filter> {
        let eq = |v: &[(Dim, &str)]| Filter {
            eq: v.iter().map(|(d, c)| (*d, c.to_string())).collect(),
            ..Filter::default()
        };
        let period = |a: &str, b: &str| Filter {
            from: Some(d(a)),
            to: Some(d(b)),
            ..Filter::default()
        };
        let mut with_period = eq(&[(Dim::Dispatched, "true"), (Dim::Category, "02")]);
        with_period.from = Some(d("2020-02-29"));
        with_period.to = Some(d("2020-12-01"));
        vec![
            Filter::default(),
            period("2020-03-15", "2021-02-10"),
            period("2020-05-01", "2020-05-02"),
            Filter {
                from: Some(d("2020-12-31")),
                ..Filter::default()
            },
            Filter {
                to: Some(d("2020-01-17")),
                ..Filter::default()
            },
            eq(&[(Dim::District, "110102")]),
            // whole months and place / category filters: answered from the cubes
            period("2020-03-01", "2021-02-01"),
            Filter {
                eq: vec![
                    (Dim::District, "110101".into()),
                    (Dim::CategoryL2, "0302".into()),
                ],
                ..period("2019-12-01", "2020-10-01")
            },
            eq(&[(Dim::Street, "110101007"), (Dim::Overdue, "false")]),
            eq(&[(Dim::Category, "0302")]),
            eq(&[(Dim::CategoryL1, "04")]),
            eq(&[(Dim::Year, "2020"), (Dim::Channel, "phone")]),
            eq(&[(Dim::Month, "2020-07")]),
            eq(&[(Dim::MonthOfYear, "12")]),
            eq(&[(Dim::Day, "2020-02-29")]),
            eq(&[(Dim::Week, "2020-06-15")]),
            eq(&[(Dim::Weekday, "3"), (Dim::Contacted, "true")]),
            eq(&[
                (Dim::UnitKind, UnitKind::ALL[2].as_str()),
                (Dim::Unit, "U011"),
            ]),
            eq(&[
                (Dim::Status, Status::ALL[3].as_str()),
                (Dim::Domain, LivelihoodDomain::ALL[3].as_str()),
            ]),
            eq(&[(Dim::Resolved, Resolution::ALL[1].as_str())]),
            Filter {
                scope: Some(Scope {
                    places: vec!["110101".into(), "110102013".into()],
                    units: vec!["U005".into(), "U017".into()],
                }),
                ..period("2019-12-24", "2020-09-09")
            },
            with_period,
        ]
    }

    /// Cuts of the work: the default (one thread on small facts), tiny tasks on three threads,
    /// and slots instead of direct groups.
    fn tunings() -> Vec<fast::Tuning> {
        let base = fast::Tuning::default();
        vec![
            base,
            fast::Tuning {
                threads: 3,
                task_rows: 97,
                min_parallel_rows: 0,
                ..base
            },
            fast::Tuning {
                threads: 2,
                task_rows: 1000,
                min_parallel_rows: 0,
                direct_max: 64,
            },
        ]
    }

    fn check(e: &Engine, by: &[Dim], f: &Filter) {
        let pred = e.compile(f).unwrap();
        let want = e.group_rows(by, &pred);
        for t in tunings() {
            let got = e.group_tuned(by, f, t).unwrap();
            assert_eq!(got, want, "by {by:?}, filter {f:?}, tuning {t:?}");
        }
    }

    #[test]
    fn whole_month_place_and_category_queries_are_answered_from_the_cubes_as_from_the_rows() {
        let tree = small_tree();
        let facts = random_facts(20_000, 0xc0be);
        let e = Engine::new(&facts, &tree);
        let whole = Filter {
            from: Some(d("2020-01-01")),
            to: Some(d("2021-01-01")),
            ..Filter::default()
        };
        let mut district = whole.clone();
        district.eq = vec![(Dim::District, "110102".into())];
        let cubed: [&[Dim]; 6] = [
            &[Dim::Street, Dim::CategoryL2],
            &[Dim::District],
            &[Dim::MonthOfYear, Dim::CategoryL1],
            &[Dim::Month],
            &[Dim::CategoryL1, Dim::Year],
            &[Dim::CategoryL2, Dim::Street],
        ];
        for by in cubed {
            for f in [&whole, &district, &Filter::default()] {
                let pred = e.compile(f).unwrap();
                let got = cube::group(&e, by, &pred).expect("answered from the cubes");
                assert_eq!(got, e.group_rows(by, &pred), "by {by:?}, filter {f:?}");
            }
        }
        // a period that cuts its last month: whole months from the cubes, the cut one from rows
        let mut half = whole.clone();
        half.to = Some(d("2020-12-15"));
        half.from = Some(d("2020-01-09"));
        let by = [Dim::Street, Dim::CategoryL1];
        let pred = e.compile(&half).unwrap();
        assert_eq!(
            cube::group(&e, &by, &pred).unwrap(),
            e.group_rows(&by, &pred)
        );
        // what the cubes cannot answer goes to the rows
        let mut days = whole.clone();
        days.to = Some(d("2020-01-15"));
        let mut channel = whole.clone();
        channel.eq = vec![(Dim::Channel, "phone".into())];
        for (by, f) in [
            (&[Dim::Street][..], &days),
            (&[Dim::Street], &channel),
            (&[Dim::Channel], &whole),
            (&[Dim::Category], &whole),
            (&[Dim::Domain], &whole),
        ] {
            assert!(
                cube::group(&e, by, &e.compile(f).unwrap()).is_none(),
                "{by:?} {f:?}"
            );
        }
        // a partition that grew is summed again
        let mut grown = facts.clone();
        let before = Engine::new(&grown, &tree).warm_cubes();
        assert!(before > 0);
        let m = LocalMonth::parse("2020-06").unwrap();
        let row = grown.partitions[&m].clone();
        let p = grown.partitions.get_mut(&m).unwrap();
        p.ticket_id.push(1_000_000);
        p.day.push(row.day[0]);
        p.hour.push(row.hour[0]);
        p.channel.push(row.channel[0]);
        p.request_type.push(row.request_type[0]);
        p.category.push(row.category[0]);
        p.street.push(row.street[0]);
        p.district.push(row.district[0]);
        p.community.push(row.community[0]);
        p.lead_unit.push(row.lead_unit[0]);
        p.tier.push(row.tier[0]);
        p.status.push(row.status[0]);
        p.flags.push(row.flags[0]);
        p.callback.push(row.callback[0]);
        p.secs_to_sign.push(row.secs_to_sign[0]);
        p.secs_to_respond.push(row.secs_to_respond[0]);
        p.secs_to_finish.push(row.secs_to_finish[0]);
        p.requester.push(row.requester[0]);
        let e = Engine::new(&grown, &tree);
        let pred = e.compile(&whole).unwrap();
        let by = [Dim::Street, Dim::CategoryL2];
        assert_eq!(
            cube::group(&e, &by, &pred).unwrap(),
            e.group_rows(&by, &pred)
        );
    }

    #[test]
    fn a_level_one_category_filter_keeps_the_rows_of_its_subtree() {
        let tree = small_tree();
        let facts = random_facts(3000, 0xca7);
        let e = Engine::new(&facts, &tree);
        let top = tree.roots().next().expect("a root").code.clone();
        let eq = |d: Dim| Filter {
            eq: vec![(d, top.clone())],
            ..Filter::default()
        };
        let by_level = e.group(&[Dim::Year], &eq(Dim::CategoryL1)).unwrap();
        let by_code = e.group(&[Dim::Year], &eq(Dim::Category)).unwrap();
        assert!(by_level.total.count > 0);
        assert_eq!(by_level.total.count, by_code.total.count);
    }

    #[test]
    fn the_fast_grouping_equals_the_row_by_row_one_for_every_dimension_and_filter() {
        let tree = small_tree();
        let facts = random_facts(6000, 0x5eed);
        let e = Engine::new(&facts, &tree);
        let fs = filters();
        for f in &fs {
            let g = e.group(&[Dim::Year], f).unwrap();
            assert!(
                g.total.count > 0 && g.total.count < 6000 || f.eq.is_empty(),
                "{f:?}"
            );
            for &a in Dim::ALL {
                check(&e, &[a], f);
            }
        }
        // pairs: every dimension first and second, with partners of every kind
        let n = Dim::ALL.len();
        for (i, &a) in Dim::ALL.iter().enumerate() {
            for step in [1, 7, 12, 20] {
                let b = Dim::ALL[(i + step) % n];
                for f in [&fs[0], &fs[1], &fs[6], &fs[9], &fs[18]] {
                    check(&e, &[a, b], f);
                    check(&e, &[b, a], f);
                }
            }
        }
        for by in [
            [Dim::Street, Dim::CategoryL2],
            [Dim::Street, Dim::CategoryL1],
            [Dim::MonthOfYear, Dim::CategoryL1],
            [Dim::Month, Dim::Channel],
            [Dim::Day, Dim::Community],
            [Dim::Community, Dim::Street],
            [Dim::Week, Dim::Unit],
            [Dim::District, Dim::UnitKind],
        ] {
            for f in &fs {
                check(&e, &by, f);
            }
        }
    }

    #[test]
    fn the_fast_durations_equal_the_row_by_row_ones() {
        let tree = small_tree();
        let facts = random_facts(6000, 0xd0);
        let e = Engine::new(&facts, &tree);
        for f in filters() {
            for &by in Dim::ALL {
                let want = e.durations_rows(by, &f).unwrap();
                assert_eq!(
                    e.durations(by, &f).unwrap(),
                    want,
                    "by {by:?}, filter {f:?}"
                );
                let pred = e.compile(&f).unwrap();
                for t in tunings() {
                    let map = fast::durations(&e, by, &pred, t);
                    assert_eq!(e.duration_rows(by, map), want);
                }
            }
        }
        let mut rng = Rng(3);
        for n in 1..60 {
            let v: Vec<u32> = (0..n).map(|_| rng.below(20) as u32 * 900).collect();
            let (mut a, mut b) = (v.clone(), v);
            let r = fast::Ranked::select(&mut a);
            let hours = |s: Option<u32>| s.map(|s| f64::from(s) / 3600.0);
            assert_eq!(
                Percentiles {
                    median_hours: hours(r.median),
                    p90_hours: hours(r.p90)
                },
                Percentiles::of(&mut b),
                "{n}"
            );
        }
    }

    /// Bytes in memory standing in for a mapped file; counts the times its pages were let go.
    struct HeldBytes {
        words: Vec<u64>,
        len: usize,
        released: std::sync::atomic::AtomicUsize,
    }

    impl crate::column::ColumnBytes for HeldBytes {
        fn bytes(&self) -> &[u8] {
            &bytemuck::cast_slice(&self.words)[..self.len]
        }
        fn release(&self) {
            self.released
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn held(p: &FactPartition) -> std::sync::Arc<HeldBytes> {
        let len = p.layout_len();
        let mut words = vec![0u64; len.div_ceil(8)];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
        for (at, b) in p.layout() {
            bytes[at..at + b.len()].copy_from_slice(b);
        }
        std::sync::Arc::new(HeldBytes {
            words,
            len,
            released: Default::default(),
        })
    }

    #[test]
    fn columns_read_in_place_answer_as_their_own_and_let_their_pages_go_month_by_month() {
        let tree = small_tree();
        let facts = random_facts(6000, 0x5ea1);
        let mut shared = facts.clone();
        let mut held_all = Vec::new();
        for p in shared.partitions.values_mut() {
            let h = held(p);
            p.share(h.clone()).unwrap();
            assert_eq!(p.heap_bytes(), 0);
            held_all.push(h);
        }
        assert_eq!(shared, facts, "the same values read in place");
        let (a, b) = (Engine::new(&facts, &tree), Engine::new(&shared, &tree));
        for f in filters() {
            for by in [
                vec![Dim::Month],
                vec![Dim::Street, Dim::CategoryL2],
                vec![Dim::Channel, Dim::Day],
            ] {
                assert_eq!(a.group(&by, &f).unwrap(), b.group(&by, &f).unwrap());
            }
            assert_eq!(
                a.durations(Dim::District, &f).unwrap(),
                b.durations(Dim::District, &f).unwrap()
            );
        }
        let released = || {
            held_all
                .iter()
                .filter(|h| h.released.load(std::sync::atomic::Ordering::Relaxed) > 0)
                .count()
        };
        assert_eq!(
            released(),
            held_all.len(),
            "every month scanned let its pages go"
        );
        // a partition whose bytes differ from its columns is not re-pointed
        let mut p = facts.partitions.values().next().unwrap().clone();
        let mut other = p.clone();
        other.day.to_mut()[0] ^= 1;
        assert!(matches!(
            p.share(held(&other)),
            Err(crate::facts::FactError::Layout(_))
        ));
        assert!(p.heap_bytes() > 0, "still its own columns");
    }

    #[test]
    fn groups_of_many_rows_spill_exactly() {
        let tree = small_tree();
        let facts = random_facts(70_000, 42);
        let e = Engine::new(&facts, &tree);
        for by in [
            &[Dim::Dispatched][..],
            &[Dim::Contacted],
            &[Dim::Year, Dim::Reopened],
        ] {
            check(&e, by, &Filter::default());
        }
        let g = e.group(&[Dim::Enterprise], &Filter::default()).unwrap();
        assert!(g.rows.iter().any(|r| r.measures.count > 30_000));
        assert_eq!(g.total.count, 70_000);
    }

    #[test]
    fn the_lane_tables_count_like_add_row_for_every_byte() {
        // one row per (flags, praise, status, callback) corner, summed both ways
        let tree = small_tree();
        let mut facts = random_facts(10, 1);
        let m = *facts.partitions.keys().next().unwrap();
        let p = facts.partitions.get_mut(&m).unwrap();
        let proto = p.clone();
        let mut rng = Rng(99);
        for i in 0..20_000usize {
            let j = i % proto.len();
            p.ticket_id.push(1_000_000 + i as i64);
            p.day.push(proto.day[j]);
            p.hour.push(proto.hour[j]);
            p.channel.push(proto.channel[j]);
            p.request_type
                .push(if i % 3 == 0 { PRAISE } else { (i % 9) as u8 });
            p.category.push(proto.category[j]);
            p.street.push(proto.street[j]);
            p.district.push(proto.district[j]);
            p.community.push(proto.community[j]);
            p.lead_unit.push(proto.lead_unit[j]);
            p.tier.push(proto.tier[j]);
            p.status.push((i % 31) as u8);
            p.flags.push(rng.next() as u8);
            p.callback.push(rng.next() as u8);
            p.secs_to_sign.push(NO_DURATION);
            p.secs_to_respond.push(NO_DURATION);
            p.secs_to_finish.push(NO_DURATION);
            p.requester.push(0);
        }
        let e = Engine::new(&facts, &tree);
        // (not by status: the row-by-row path's dense groups hold only the statuses that exist)
        for by in [
            &[Dim::Hour][..],
            &[Dim::Hour, Dim::Satisfied],
            &[Dim::Resolved],
        ] {
            check(&e, by, &Filter::default());
        }
    }

    #[test]
    fn every_dimension_name_parses_back() {
        for d in Dim::ALL {
            assert_eq!(Dim::parse(d.as_str()), Some(*d));
        }
        assert_eq!(Dim::parse("phone"), None);
    }
}
