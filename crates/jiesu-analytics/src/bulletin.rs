//! 日通报 / 周汇总 / 月分析 — the centre's routine bulletins to leaders and units, computed from the
//! ticket facts with the query [`Engine`]: totals with 环比 (against the previous period) and 同比
//! (against the same period a year earlier), channels and request types, the top level-1
//! categories and the level-2 categories that rose most, hot spots (street × level-2 category with
//! the largest rise), the units' 三率 with the bottom of each ranking, overdue / returned / reopened
//! tickets, praise and notable tickets.
//!
//! A [`Template`] (stored as JSON, edited by the centre) picks the sections, their order, the
//! titles and the list lengths. [`bulletin`] computes a [`Bulletin`] (stored as JSON, rendered
//! again later); [`bulletin_html`] lays it out as a printable, self-contained HTML document and
//! [`bulletin_sheets`] as tables for the spreadsheet writer. Pure: no IO, no clock — the caller
//! passes `today` to [`BulletinPeriod::last_complete`].
//!
//! Rules:
//! - **Periods** are city-local days `[from, to)`: a day (key `2026-12-06`), an ISO week Monday to
//!   Sunday (key `2026-W49`, the ISO week-numbering year) or a calendar month (key `2026-11`). The
//!   previous period is the one just before; the same period last year is the same date, the same
//!   ISO week number (week 52 when the year before has no week 53) or the same month a year earlier
//!   (29 February → 28 February).
//! - **Change** (环比 / 同比) is `(count − base) / base`, absent when the base is 0.
//! - **Top categories** are level-1 categories by count; **risers** are level-2 categories and
//!   **hot spots** street × level-2 category cells, ranked by the absolute rise over the previous
//!   period (ties by code). Only cells that grew count, and a cell that was empty in the previous
//!   period needs at least [`NEW_CELL_MIN`] tickets now (fewer is sparse noise, not a trend).
//!   Tickets without a category in the tree or without a street are left out of these lists.
//! - **Units** (the lead unit of dispatched tickets) are ranked only with at least
//!   [`Template::min_sample`] callbacks that reached the requester in the period. 响应率's base is
//!   the unit's dispatched tickets, 解决率's and 满意率's the reached callbacks; the bottom of each
//!   ranking is the lowest rate first, ties by the larger base (worse over more tickets), then code.
//! - **Overdue**: the facts carry no escalation flag, so the bulletin reports 超期 with 退单
//!   (returned) and 重办 (reopened) beside it; units are listed by their overdue tickets.
//! - **Notable** tickets are the period's reopened or overdue tickets, highest (newest) id first.
//!
//! The formatting and escaping helpers are small copies of `render.rs`'s private ones (`escape`,
//! `thousands`, `amount`, `percent`, `zh_number`, `nice_step`, `text_width`, `Cell::td` and a
//! trimmed `Doc`); the charts are horizontal bars drawn here (category and unit names are long
//! Chinese labels, which `render.rs`'s vertical bars would have to thin out).

use crate::facts::{LocalMonth, TicketFacts};
use crate::query::{Dim, Engine, Filter, Grouped, Measures, QueryError};
use crate::render::{amount, escape, nice_step, text_width, thousands, zh_number};
use crate::render::{Cell, Sheet};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use jiesu_domain::category::CategoryTree;
use jiesu_domain::ticket::{Channel, RequestType};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Appends formatted text to a `String` (writing to a `String` cannot fail).
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

/// A level-2 category or hot-spot cell that was empty in the previous period counts as a rise
/// only from this many tickets on.
pub const NEW_CELL_MIN: u64 = 3;

// ---------------------------------------------------------------------------------------------
// Kinds and periods
// ---------------------------------------------------------------------------------------------

/// Which bulletin: 日通报, 周汇总 or 月分析.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum BulletinKind {
    /// 日通报 — one day.
    #[default]
    Daily,
    /// 周汇总 — one ISO week, Monday to Sunday.
    Weekly,
    /// 月分析 — one calendar month.
    Monthly,
}

impl BulletinKind {
    /// Every kind.
    pub const ALL: [BulletinKind; 3] = [
        BulletinKind::Daily,
        BulletinKind::Weekly,
        BulletinKind::Monthly,
    ];
    /// The wire name: `daily`, `weekly`, `monthly`.
    pub fn as_str(self) -> &'static str {
        match self {
            BulletinKind::Daily => "daily",
            BulletinKind::Weekly => "weekly",
            BulletinKind::Monthly => "monthly",
        }
    }
    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<BulletinKind> {
        BulletinKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// 日通报 / 周汇总 / 月分析
    pub fn label_zh(self) -> &'static str {
        match self {
            BulletinKind::Daily => "日通报",
            BulletinKind::Weekly => "周汇总",
            BulletinKind::Monthly => "月分析",
        }
    }
    /// Daily bulletin / Weekly summary / Monthly analysis
    pub fn label_en(self) -> &'static str {
        match self {
            BulletinKind::Daily => "Daily bulletin",
            BulletinKind::Weekly => "Weekly summary",
            BulletinKind::Monthly => "Monthly analysis",
        }
    }
    /// The title a bulletin gets when its template leaves `title_zh` empty.
    pub fn default_title_zh(self) -> String {
        format!("12345市民服务热线{}", self.label_zh())
    }
    /// The title a bulletin gets when its template leaves `title_en` empty.
    pub fn default_title_en(self) -> String {
        format!("12345 Citizen Hotline {}", self.label_en())
    }
    /// How the key of a period of this kind looks, for error messages.
    fn key_example(self) -> &'static str {
        match self {
            BulletinKind::Daily => "a day like 2026-12-06",
            BulletinKind::Weekly => "an ISO week like 2026-W49",
            BulletinKind::Monthly => "a month like 2026-11",
        }
    }
}

impl std::fmt::Display for BulletinKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for BulletinKind {
    type Err = BulletinError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BulletinKind::parse(s).ok_or_else(|| BulletinError::UnknownKind(s.to_string()))
    }
}

/// The period a bulletin covers: city-local days `from` (included) to `to` (excluded), and its
/// key (`2026-12-06`, `2026-W49`, `2026-11`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BulletinPeriod {
    /// The kind of bulletin.
    pub kind: BulletinKind,
    /// The first day.
    pub from: NaiveDate,
    /// The first day after the period.
    pub to: NaiveDate,
    /// `2026-12-06` (daily), `2026-W49` (weekly, ISO week), `2026-11` (monthly).
    pub key: String,
}

fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_signed(Duration::days(n)).unwrap_or(if n < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

fn monday_of(d: NaiveDate) -> NaiveDate {
    add_days(d, -i64::from(d.weekday().num_days_from_monday()))
}

fn valid_year(y: i32) -> bool {
    (1000..=9999).contains(&y)
}

impl BulletinPeriod {
    /// The period of `kind` that contains `day`.
    pub fn containing(kind: BulletinKind, day: NaiveDate) -> Self {
        match kind {
            BulletinKind::Daily => BulletinPeriod {
                kind,
                from: day,
                to: add_days(day, 1),
                key: day.format("%Y-%m-%d").to_string(),
            },
            BulletinKind::Weekly => {
                let from = monday_of(day);
                let w = from.iso_week();
                BulletinPeriod {
                    kind,
                    from,
                    to: add_days(from, 7),
                    key: format!("{:04}-W{:02}", w.year(), w.week()),
                }
            }
            BulletinKind::Monthly => {
                let m = LocalMonth::of(day);
                BulletinPeriod {
                    kind,
                    from: m.first_day(),
                    to: m.next().first_day(),
                    key: m.key(),
                }
            }
        }
    }

    /// The last period of `kind` that is over on `today` (city-local): yesterday, the last
    /// Monday–Sunday week before today's week, or last month.
    pub fn last_complete(kind: BulletinKind, today: NaiveDate) -> Self {
        let current = BulletinPeriod::containing(kind, today);
        BulletinPeriod::containing(kind, add_days(current.from, -1))
    }

    /// Parses the key of a period of `kind`: `2026-12-06`, `2026-W49` or `2026-11` (years
    /// 1000–9999).
    pub fn parse(kind: BulletinKind, key: &str) -> Result<Self, BulletinError> {
        let bad = || BulletinError::BadKey {
            kind,
            key: key.to_string(),
            expected: kind.key_example(),
        };
        let day = match kind {
            BulletinKind::Daily => NaiveDate::parse_from_str(key, "%Y-%m-%d").ok(),
            BulletinKind::Weekly => key.split_once("-W").and_then(|(y, w)| {
                let (year, week) = (y.parse::<i32>().ok()?, w.parse::<u32>().ok()?);
                NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
            }),
            BulletinKind::Monthly => LocalMonth::parse(key).map(LocalMonth::first_day),
        }
        .ok_or_else(bad)?;
        let p = BulletinPeriod::containing(kind, day);
        // the canonical form only: no signs, no missing zeros, years 1000–9999
        if p.key != key || !valid_year(day.year()) {
            return Err(bad());
        }
        Ok(p)
    }

    /// The period just before.
    pub fn previous(&self) -> Self {
        BulletinPeriod::containing(self.kind, add_days(self.from, -1))
    }

    /// The same period a year earlier: the same date (29 February → 28 February), the same ISO
    /// week number (week 52 when that year has no week 53), the same month.
    pub fn same_last_year(&self) -> Self {
        let day = match self.kind {
            BulletinKind::Daily | BulletinKind::Monthly => {
                let (y, m, d) = (self.from.year() - 1, self.from.month(), self.from.day());
                NaiveDate::from_ymd_opt(y, m, d)
                    .or_else(|| NaiveDate::from_ymd_opt(y, m, d - 1))
                    .unwrap_or_else(|| add_days(self.from, -365))
            }
            BulletinKind::Weekly => {
                let w = self.from.iso_week();
                NaiveDate::from_isoywd_opt(w.year() - 1, w.week(), Weekday::Mon)
                    .or_else(|| NaiveDate::from_isoywd_opt(w.year() - 1, 52, Weekday::Mon))
                    .unwrap_or_else(|| add_days(self.from, -364))
            }
        };
        BulletinPeriod::containing(self.kind, day)
    }

    /// The period in Chinese: `2026年12月6日`, `2026年第49周（11月30日至12月6日）`, `2026年11月`.
    pub fn label_zh(&self) -> String {
        period_zh(self.kind, self.from, self.to)
    }
}

/// See [`BulletinPeriod::label_zh`].
fn period_zh(kind: BulletinKind, from: NaiveDate, to: NaiveDate) -> String {
    let day = |d: NaiveDate| format!("{}年{}月{}日", d.year(), d.month(), d.day());
    match kind {
        BulletinKind::Daily => day(from),
        BulletinKind::Weekly => {
            let last = add_days(to, -1);
            let w = from.iso_week();
            let md = |d: NaiveDate| format!("{}月{}日", d.month(), d.day());
            if from.year() == last.year() && from.year() == w.year() {
                format!(
                    "{}年第{}周（{}至{}）",
                    w.year(),
                    w.week(),
                    md(from),
                    md(last)
                )
            } else {
                format!(
                    "{}年第{}周（{}至{}）",
                    w.year(),
                    w.week(),
                    day(from),
                    day(last)
                )
            }
        }
        BulletinKind::Monthly => format!("{}年{}月", from.year(), from.month()),
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A bulletin, period or template that cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BulletinError {
    /// Not `daily`, `weekly` or `monthly`.
    #[error("unknown bulletin kind '{0}' (use daily, weekly or monthly)")]
    UnknownKind(String),
    /// A period key that does not parse.
    #[error("'{key}' is not a {kind} bulletin period: expected {expected}")]
    BadKey {
        /// The kind asked for.
        kind: BulletinKind,
        /// The key given.
        key: String,
        /// What a key looks like.
        expected: &'static str,
    },
    /// The template is not JSON.
    #[error("the template is not valid JSON: {0}")]
    Json(String),
    /// The template is JSON but not an object.
    #[error("the template must be a JSON object of fields")]
    NotAnObject,
    /// A field the template does not have.
    #[error("unknown template field '{field}' (known fields: {known})")]
    UnknownField {
        /// The field given.
        field: String,
        /// The fields a template has.
        known: String,
    },
    /// A field of the wrong type.
    #[error("template field '{field}' is invalid: {message}")]
    FieldType {
        /// The field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A number outside its range.
    #[error("template field '{field}' must be from {min} to {max}, got {value}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value given.
        value: u64,
        /// The smallest allowed.
        min: u64,
        /// The largest allowed.
        max: u64,
    },
    /// A title that is too long.
    #[error("template field '{field}' is longer than {max} characters")]
    TooLong {
        /// The field.
        field: &'static str,
        /// The most characters allowed.
        max: usize,
    },
    /// A section name that does not exist.
    #[error("unknown section '{name}' in template field 'sections' (known sections: {known})")]
    UnknownSection {
        /// The name given.
        name: String,
        /// The sections there are.
        known: String,
    },
    /// A section named twice.
    #[error("section '{0}' appears more than once in template field 'sections'")]
    DuplicateSection(String),
    /// No section at all.
    #[error("template field 'sections' must name at least one section")]
    NoSections,
    /// The query engine refused (an empty period).
    #[error(transparent)]
    Query(#[from] QueryError),
}

// ---------------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------------

/// One part of a bulletin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// 总体情况 — totals, 环比, 同比, 派单, 三率.
    Totals,
    /// 受理渠道
    Channels,
    /// 诉求类型
    Types,
    /// 主要问题 — the biggest level-1 categories.
    TopCategories,
    /// 上升较快的问题 — level-2 categories with the largest rise.
    Risers,
    /// 热点区域问题 — street × level-2 category with the largest rise.
    HotSpots,
    /// 承办单位三率 — the bottom of each ranking.
    Units,
    /// 超期、退单与重办
    Overdue,
    /// 群众表扬
    Praise,
    /// 重点关注工单
    Notable,
}

impl Section {
    /// Every section, in the default order.
    pub const ALL: [Section; 10] = [
        Section::Totals,
        Section::Channels,
        Section::Types,
        Section::TopCategories,
        Section::Risers,
        Section::HotSpots,
        Section::Units,
        Section::Overdue,
        Section::Praise,
        Section::Notable,
    ];
    /// The wire name (snake_case).
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Totals => "totals",
            Section::Channels => "channels",
            Section::Types => "types",
            Section::TopCategories => "top_categories",
            Section::Risers => "risers",
            Section::HotSpots => "hot_spots",
            Section::Units => "units",
            Section::Overdue => "overdue",
            Section::Praise => "praise",
            Section::Notable => "notable",
        }
    }
    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|x| x.as_str() == s)
    }
    /// The heading in Chinese.
    pub fn label_zh(self) -> &'static str {
        match self {
            Section::Totals => "总体情况",
            Section::Channels => "受理渠道",
            Section::Types => "诉求类型",
            Section::TopCategories => "主要问题",
            Section::Risers => "上升较快的问题",
            Section::HotSpots => "热点区域问题",
            Section::Units => "承办单位三率",
            Section::Overdue => "超期、退单与重办",
            Section::Praise => "群众表扬",
            Section::Notable => "重点关注工单",
        }
    }
    /// The heading in English.
    pub fn label_en(self) -> &'static str {
        match self {
            Section::Totals => "Totals",
            Section::Channels => "Channels",
            Section::Types => "Request types",
            Section::TopCategories => "Top categories",
            Section::Risers => "Biggest risers",
            Section::HotSpots => "Hot spots",
            Section::Units => "Units' three rates",
            Section::Overdue => "Overdue, returned and reopened",
            Section::Praise => "Praise",
            Section::Notable => "Notable tickets",
        }
    }
}

/// What a bulletin shows and how long its lists are. Stored as JSON; every field may be left out
/// (it then takes [`Template::default`]'s value), an unknown field is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Template {
    /// The Chinese title (empty: `12345市民服务热线` + the kind's label), at most 100 characters.
    pub title_zh: String,
    /// The English title (empty: `12345 Citizen Hotline` + the kind's label).
    pub title_en: String,
    /// The sections, in the order shown; at least one, each at most once.
    pub sections: Vec<Section>,
    /// Level-1 categories listed (1–50).
    pub top_n: usize,
    /// Rising level-2 categories listed (1–50).
    pub risers_n: usize,
    /// Hot spots listed (1–50).
    pub hot_spots_n: usize,
    /// Units at the bottom of each 三率 ranking, and units listed by overdue tickets (1–50).
    pub bottom_n: usize,
    /// Units are ranked only with at least this many callbacks that reached the requester
    /// (1–100,000).
    pub min_sample: u64,
    /// Notable tickets listed (0–100; 0: none).
    pub notable_n: usize,
}

/// The fields of a [`Template`], in declaration order.
const TEMPLATE_FIELDS: [&str; 9] = [
    "title_zh",
    "title_en",
    "sections",
    "top_n",
    "risers_n",
    "hot_spots_n",
    "bottom_n",
    "min_sample",
    "notable_n",
];

const MAX_TITLE_CHARS: usize = 100;

impl Default for Template {
    /// Every section, the kind's standard titles, ten top categories, five of every other list,
    /// units ranked from ten callbacks.
    fn default() -> Self {
        Template {
            title_zh: String::new(),
            title_en: String::new(),
            sections: Section::ALL.to_vec(),
            top_n: 10,
            risers_n: 5,
            hot_spots_n: 5,
            bottom_n: 5,
            min_sample: 10,
            notable_n: 10,
        }
    }
}

fn known<T: AsRef<str>>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|s| s.as_ref().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn field_value<T: DeserializeOwned>(field: &str, v: serde_json::Value) -> Result<T, BulletinError> {
    serde_json::from_value(v).map_err(|e| BulletinError::FieldType {
        field: field.to_string(),
        message: e.to_string(),
    })
}

fn sections_value(v: serde_json::Value) -> Result<Vec<Section>, BulletinError> {
    let type_error = |message: &str| BulletinError::FieldType {
        field: "sections".into(),
        message: message.into(),
    };
    let serde_json::Value::Array(items) = v else {
        return Err(type_error("expected a list of section names"));
    };
    items
        .into_iter()
        .map(|item| {
            let serde_json::Value::String(name) = item else {
                return Err(type_error("expected a list of section names"));
            };
            Section::parse(&name).ok_or_else(|| BulletinError::UnknownSection {
                name,
                known: known(Section::ALL.map(Section::as_str)),
            })
        })
        .collect()
}

impl Template {
    /// The standard template of a kind: its titles; the daily bulletin without the units' 三率
    /// (a day's callbacks are too few to rank) and with shorter lists; units ranked from 3
    /// (daily), 10 (weekly) or 30 (monthly) callbacks.
    pub fn default_for(kind: BulletinKind) -> Template {
        let base = Template {
            title_zh: kind.default_title_zh(),
            title_en: kind.default_title_en(),
            ..Template::default()
        };
        match kind {
            BulletinKind::Daily => Template {
                sections: Section::ALL
                    .into_iter()
                    .filter(|s| *s != Section::Units)
                    .collect(),
                top_n: 5,
                risers_n: 5,
                hot_spots_n: 5,
                bottom_n: 5,
                min_sample: 3,
                notable_n: 10,
                ..base
            },
            BulletinKind::Weekly => Template {
                top_n: 10,
                min_sample: 10,
                notable_n: 20,
                ..base
            },
            BulletinKind::Monthly => Template {
                top_n: 10,
                risers_n: 10,
                hot_spots_n: 10,
                bottom_n: 10,
                min_sample: 30,
                notable_n: 20,
                ..base
            },
        }
    }

    /// Reads a template from JSON; a field left out takes [`Template::default`]'s value. Refuses
    /// an unknown field, a value of the wrong type, an unknown or repeated section and a number
    /// out of its range, naming the field.
    pub fn from_json(s: &str) -> Result<Template, BulletinError> {
        Template::from_json_over(Template::default(), s)
    }

    /// [`Template::from_json`], a field left out taking [`Template::default_for`]`(kind)`'s value.
    pub fn from_json_for(kind: BulletinKind, s: &str) -> Result<Template, BulletinError> {
        Template::from_json_over(Template::default_for(kind), s)
    }

    fn from_json_over(mut t: Template, s: &str) -> Result<Template, BulletinError> {
        let v: serde_json::Value =
            serde_json::from_str(s).map_err(|e| BulletinError::Json(e.to_string()))?;
        let serde_json::Value::Object(map) = v else {
            return Err(BulletinError::NotAnObject);
        };
        if let Some(field) = map.keys().find(|k| !TEMPLATE_FIELDS.contains(&k.as_str())) {
            return Err(BulletinError::UnknownField {
                field: field.clone(),
                known: known(TEMPLATE_FIELDS),
            });
        }
        for (k, v) in map {
            match k.as_str() {
                "title_zh" => t.title_zh = field_value(&k, v)?,
                "title_en" => t.title_en = field_value(&k, v)?,
                "sections" => t.sections = sections_value(v)?,
                "top_n" => t.top_n = field_value(&k, v)?,
                "risers_n" => t.risers_n = field_value(&k, v)?,
                "hot_spots_n" => t.hot_spots_n = field_value(&k, v)?,
                "bottom_n" => t.bottom_n = field_value(&k, v)?,
                "min_sample" => t.min_sample = field_value(&k, v)?,
                "notable_n" => t.notable_n = field_value(&k, v)?,
                _ => unreachable!("checked against TEMPLATE_FIELDS"),
            }
        }
        t.validate()?;
        Ok(t)
    }

    /// Checks the ranges: list lengths 1–50 (`notable_n` 0–100), `min_sample` 1–100,000, titles
    /// at most 100 characters, at least one section and none twice.
    pub fn validate(&self) -> Result<(), BulletinError> {
        let range = |field: &'static str, value: u64, min: u64, max: u64| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(BulletinError::OutOfRange {
                    field,
                    value,
                    min,
                    max,
                })
            }
        };
        for (field, title) in [("title_zh", &self.title_zh), ("title_en", &self.title_en)] {
            if title.chars().count() > MAX_TITLE_CHARS {
                return Err(BulletinError::TooLong {
                    field,
                    max: MAX_TITLE_CHARS,
                });
            }
        }
        if self.sections.is_empty() {
            return Err(BulletinError::NoSections);
        }
        for (i, s) in self.sections.iter().enumerate() {
            if self.sections[..i].contains(s) {
                return Err(BulletinError::DuplicateSection(s.as_str().to_string()));
            }
        }
        range("top_n", self.top_n as u64, 1, 50)?;
        range("risers_n", self.risers_n as u64, 1, 50)?;
        range("hot_spots_n", self.hot_spots_n as u64, 1, 50)?;
        range("bottom_n", self.bottom_n as u64, 1, 50)?;
        range("min_sample", self.min_sample, 1, 100_000)?;
        range("notable_n", self.notable_n as u64, 0, 100)?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The bulletin
// ---------------------------------------------------------------------------------------------

/// 总体情况
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Totals {
    /// Requests taken in during the period.
    pub count: u64,
    /// … during the previous period.
    pub previous: u64,
    /// 环比: `(count − previous) / previous` (absent when `previous` is 0).
    pub change: Option<f64>,
    /// … during the same period last year.
    pub last_year: u64,
    /// 同比: `(count − last_year) / last_year` (absent when `last_year` is 0).
    pub yoy: Option<f64>,
    /// 派单
    pub dispatched: u64,
    /// 直接答复
    pub answered_directly: u64,
    /// 响应率 of the period's dispatched tickets.
    pub response_rate: Option<f64>,
    /// 解决率 of the period's callbacks.
    pub resolution_rate: Option<f64>,
    /// 满意率 of the period's callbacks.
    pub satisfaction_rate: Option<f64>,
}

/// A channel's or a request type's part of the total.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Share {
    /// The wire name (`phone`, `complaint`; empty: unknown).
    pub code: String,
    /// The Chinese label.
    pub name: String,
    /// Requests in the period.
    pub count: u64,
    /// Share of the period's requests (0–1).
    pub share: f64,
    /// Requests in the previous period.
    pub previous: u64,
}

/// A category and how it moved against the previous period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Mover {
    /// The category code.
    pub code: String,
    /// Its name (a level-2 category: `一级 › 二级`).
    pub name: String,
    /// Requests in the period.
    pub count: u64,
    /// Requests in the previous period.
    pub previous: u64,
    /// `count − previous`.
    pub rise: i64,
    /// 环比: `rise / previous` (absent when `previous` is 0).
    pub change: Option<f64>,
}

/// A street × level-2 category cell that rose.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct HotSpot {
    /// The street's (town's) code.
    pub street: String,
    /// Its name.
    pub street_name: String,
    /// The street's district code ("" when unknown).
    pub district: String,
    /// Its name.
    pub district_name: String,
    /// The level-2 category's code.
    pub category: String,
    /// Its name (`一级 › 二级`).
    pub category_name: String,
    /// Requests in the period.
    pub count: u64,
    /// Requests in the previous period.
    pub previous: u64,
    /// `count − previous`.
    pub rise: i64,
}

/// A unit's rate in one ranking.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct UnitRate {
    /// The unit's code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// The rate (0–1).
    pub rate: f64,
    /// What the rate is over: dispatched tickets (响应率) or reached callbacks (解决率, 满意率).
    pub base: u64,
}

/// 承办单位三率: the bottom of each ranking.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct UnitsSummary {
    /// Units ranked (with at least `min_sample` reached callbacks).
    pub ranked: u64,
    /// The template's `min_sample`.
    pub min_sample: u64,
    /// Lowest 响应率 first.
    pub bottom_response: Vec<UnitRate>,
    /// Lowest 解决率 first.
    pub bottom_resolution: Vec<UnitRate>,
    /// Lowest 满意率 first.
    pub bottom_satisfaction: Vec<UnitRate>,
}

/// A unit with a count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct UnitCount {
    /// The unit's code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Tickets.
    pub count: u64,
}

/// 超期、退单与重办 (the facts have no escalation flag: returned and reopened stand for it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Overdue {
    /// Tickets of the period whose lead assignment is late.
    pub count: u64,
    /// … returned by a unit at least once (退单).
    pub returned: u64,
    /// … reopened at least once (重办).
    pub reopened: u64,
    /// The lead units with the most overdue tickets (`bottom_n` of them).
    pub by_unit: Vec<UnitCount>,
}

/// A computed bulletin: stored as JSON and rendered again later.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Bulletin {
    /// 日通报 / 周汇总 / 月分析
    pub kind: BulletinKind,
    /// The period's key.
    pub key: String,
    /// The first day.
    pub from: NaiveDate,
    /// The first day after the period.
    pub to: NaiveDate,
    /// The Chinese title.
    pub title_zh: String,
    /// The English title.
    pub title_en: String,
    /// The sections shown, in order (the template's).
    pub sections: Vec<Section>,
    /// 总体情况
    pub totals: Totals,
    /// By channel, most requests first.
    pub channels: Vec<Share>,
    /// By request type, most requests first.
    pub types: Vec<Share>,
    /// The biggest level-1 categories (`top_n`).
    pub top_categories: Vec<Mover>,
    /// The level-2 categories that rose most (`risers_n`).
    pub risers: Vec<Mover>,
    /// The street × level-2 category cells that rose most (`hot_spots_n`).
    pub hot_spots: Vec<HotSpot>,
    /// The units' 三率.
    pub units: UnitsSummary,
    /// Overdue, returned, reopened.
    pub overdue: Overdue,
    /// 表扬 requests.
    pub praise: u64,
    /// Reopened or overdue ticket ids of the period, newest first (`notable_n`).
    pub notable: Vec<i64>,
    /// 每月一题 — one line per adopted topic up to the period (its progress and its problems'
    /// outcome), written by the server from the topics it keeps; empty when there are none.
    pub monthly_topics: Vec<String>,
    /// 每月一题 — the same topics as figures (one row per topic and problem), for the section's
    /// table and the spreadsheet's 每月一题 sheet; empty when there are none.
    pub topic_rows: Vec<TopicRow>,
}

/// 每月一题 in the monthly analysis: one adopted topic's concrete problem in the month reported,
/// written by the server (the governance crate measures it; this crate only shows it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct TopicRow {
    /// The topic's month, YYYY-MM.
    pub topic_month: String,
    /// 主题
    pub theme: String,
    /// The lead department's name.
    pub lead_unit: String,
    /// 责任领导
    pub leader: String,
    /// Tasks done.
    pub tasks_done: u32,
    /// Tasks in the list.
    pub tasks_total: u32,
    /// Percent done, cut to two decimals as the seed prints it (94.52).
    pub tasks_percent: f64,
    /// Tasks past due and not done, on the day the report was made (city date).
    pub tasks_overdue: u32,
    /// The concrete problem.
    pub problem: String,
    /// Its dispatched volume (派单量) in the month.
    pub dispatched: u64,
    /// In the month before.
    pub previous: u64,
    /// In the same month last year.
    pub last_year: u64,
    /// 环比 of the dispatched volume (`None`: nothing to compare with).
    pub month_over_month: Option<f64>,
    /// 同比 of the dispatched volume.
    pub year_over_year: Option<f64>,
    /// 响应率 of the problem's tickets of the month.
    pub response_rate: Option<f64>,
    /// 解决率.
    pub resolution_rate: Option<f64>,
    /// 满意率.
    pub satisfaction_rate: Option<f64>,
}

fn ratio(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}

fn change(count: u64, base: u64) -> Option<f64> {
    (base > 0).then(|| (count as f64 - base as f64) / base as f64)
}

fn rise(count: u64, previous: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX) - i64::try_from(previous).unwrap_or(i64::MAX)
}

/// Whether a cell rose enough to be listed: it grew, and if it was empty before it has at least
/// [`NEW_CELL_MIN`] tickets now.
fn is_rise(count: u64, previous: u64) -> bool {
    count > previous && (previous > 0 || count >= NEW_CELL_MIN)
}

fn period_filter(from: NaiveDate, to: NaiveDate) -> Filter {
    Filter {
        from: Some(from),
        to: Some(to),
        ..Filter::default()
    }
}

fn with_flag(f: &Filter, dim: Dim) -> Filter {
    let mut f = f.clone();
    f.eq.push((dim, "true".into()));
    f
}

/// Counts summed by the key of dimension `i` (empty keys left out).
fn sum_by(g: &Grouped, i: usize) -> HashMap<String, u64> {
    let mut out: HashMap<String, u64> = HashMap::new();
    for r in &g.rows {
        if let Some(k) = r.key.get(i).filter(|k| !k.is_empty()) {
            *out.entry(k.clone()).or_default() += r.measures.count;
        }
    }
    out
}

/// Shares by the key of dimension `i` (0: channel, 1: type) of two `[Channel, Type]` groupings,
/// most requests first, then most previous ones, then by code.
fn shares(cur: &Grouped, prev: &Grouped, i: usize, label: impl Fn(&str) -> String) -> Vec<Share> {
    let mut counts: HashMap<String, (u64, u64)> = HashMap::new();
    for (g, slot) in [(cur, 0), (prev, 1)] {
        for r in &g.rows {
            let e = counts.entry(r.key[i].clone()).or_default();
            if slot == 0 {
                e.0 += r.measures.count;
            } else {
                e.1 += r.measures.count;
            }
        }
    }
    let mut out: Vec<Share> = counts
        .into_iter()
        .map(|(code, (count, previous))| Share {
            name: label(&code),
            share: ratio(count, cur.total.count),
            code,
            count,
            previous,
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.previous.cmp(&a.previous))
            .then(a.code.cmp(&b.code))
    });
    out
}

/// The bottom `n` of the units by `rate` (lowest first, ties: larger base, then code).
fn bottom(
    units: &[(&str, String, Measures)],
    n: usize,
    rate: impl Fn(&Measures) -> Option<f64>,
    base: impl Fn(&Measures) -> u64,
) -> Vec<UnitRate> {
    let mut v: Vec<UnitRate> = units
        .iter()
        .filter_map(|(code, name, m)| {
            Some(UnitRate {
                code: (*code).to_string(),
                name: name.clone(),
                rate: rate(m).filter(|r| r.is_finite())?,
                base: base(m),
            })
        })
        .collect();
    v.sort_by(|a, b| {
        a.rate
            .total_cmp(&b.rate)
            .then(b.base.cmp(&a.base))
            .then(a.code.cmp(&b.code))
    });
    v.truncate(n);
    v
}

/// Computes the bulletin of `period` as `template` asks. `names` maps unit and place codes to
/// their names (a code without a name is shown as the code); category names come from `tree`.
/// Sections the template leaves out are left empty (totals and the overdue counts are always
/// filled: they cost nothing extra).
pub fn bulletin(
    facts: &TicketFacts,
    tree: &CategoryTree,
    names: &HashMap<String, String>,
    period: &BulletinPeriod,
    template: &Template,
) -> Result<Bulletin, BulletinError> {
    template.validate()?;
    let engine = Engine::new(facts, tree);
    let has = |s: Section| template.sections.contains(&s);
    let name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    let l1_name = |code: &str| {
        tree.get(code)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let l2_name = |code: &str| {
        if tree.get(code).is_some() {
            tree.path_label(code)
        } else {
            code.to_string()
        }
    };

    let previous = period.previous();
    let last_year = period.same_last_year();
    let cur = period_filter(period.from, period.to);
    let prev = period_filter(previous.from, previous.to);
    let ly = period_filter(last_year.from, last_year.to);

    // totals, channels and types: one pass per period
    let cur_ct = engine.group(&[Dim::Channel, Dim::Type], &cur)?;
    let prev_ct = engine.group(&[Dim::Channel, Dim::Type], &prev)?;
    let ly_total = engine.group(&[Dim::Channel], &ly)?.total;
    let t = cur_ct.total;
    let totals = Totals {
        count: t.count,
        previous: prev_ct.total.count,
        change: change(t.count, prev_ct.total.count),
        last_year: ly_total.count,
        yoy: change(t.count, ly_total.count),
        dispatched: t.dispatched,
        answered_directly: t.answered_directly,
        response_rate: t.response_rate(),
        resolution_rate: t.resolution_rate(),
        satisfaction_rate: t.satisfaction_rate(),
    };
    let channels = shares(&cur_ct, &prev_ct, 0, |c| match Channel::parse(c) {
        Some(ch) => ch.label_zh().to_string(),
        None => "未知渠道".to_string(),
    });
    let types = shares(&cur_ct, &prev_ct, 1, |c| match RequestType::parse(c) {
        Some(rt) => rt.label_zh().to_string(),
        None => "未知类型".to_string(),
    });

    // categories: level 1 and level 2 from one pass per period
    let (mut top_categories, mut risers) = (Vec::new(), Vec::new());
    if has(Section::TopCategories) || has(Section::Risers) {
        let cur_cat = engine.group(&[Dim::CategoryL1, Dim::CategoryL2], &cur)?;
        let prev_cat = engine.group(&[Dim::CategoryL1, Dim::CategoryL2], &prev)?;
        let (cur_l1, prev_l1) = (sum_by(&cur_cat, 0), sum_by(&prev_cat, 0));
        let mut l1: Vec<(&String, u64)> = cur_l1.iter().map(|(c, n)| (c, *n)).collect();
        l1.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        top_categories = l1
            .into_iter()
            .take(template.top_n)
            .map(|(code, count)| {
                let previous = prev_l1.get(code).copied().unwrap_or(0);
                Mover {
                    code: code.clone(),
                    name: l1_name(code),
                    count,
                    previous,
                    rise: rise(count, previous),
                    change: change(count, previous),
                }
            })
            .collect();
        let (cur_l2, prev_l2) = (sum_by(&cur_cat, 1), sum_by(&prev_cat, 1));
        let mut up: Vec<Mover> = cur_l2
            .iter()
            .filter_map(|(code, &count)| {
                let previous = prev_l2.get(code).copied().unwrap_or(0);
                is_rise(count, previous).then(|| Mover {
                    code: code.clone(),
                    name: l2_name(code),
                    count,
                    previous,
                    rise: rise(count, previous),
                    change: change(count, previous),
                })
            })
            .collect();
        up.sort_by(|a, b| b.rise.cmp(&a.rise).then(a.code.cmp(&b.code)));
        up.truncate(template.risers_n);
        risers = up;
    }

    // hot spots: street × level-2 category
    let mut hot_spots = Vec::new();
    if has(Section::HotSpots) {
        let cells = |f: &Filter| -> Result<HashMap<(String, String), u64>, BulletinError> {
            let g = engine.group(&[Dim::Street, Dim::CategoryL2], f)?;
            Ok(g.rows
                .into_iter()
                .filter(|r| !r.key[0].is_empty() && !r.key[1].is_empty())
                .map(|r| {
                    let mut k = r.key.into_iter();
                    let street = k.next().unwrap_or_default();
                    let cat = k.next().unwrap_or_default();
                    ((street, cat), r.measures.count)
                })
                .collect())
        };
        let (now, before) = (cells(&cur)?, cells(&prev)?);
        let district_of = |street: &str| -> String {
            facts
                .places
                .id(street)
                .and_then(|i| facts.place_parent.get(usize::from(i)))
                .map(|&p| facts.places.code(p).to_string())
                .unwrap_or_default()
        };
        let mut up: Vec<HotSpot> = now
            .iter()
            .filter_map(|((street, cat), &count)| {
                let previous = before
                    .get(&(street.clone(), cat.clone()))
                    .copied()
                    .unwrap_or(0);
                if !is_rise(count, previous) {
                    return None;
                }
                let district = district_of(street);
                Some(HotSpot {
                    street: street.clone(),
                    street_name: name(street),
                    district_name: if district.is_empty() {
                        String::new()
                    } else {
                        name(&district)
                    },
                    district,
                    category: cat.clone(),
                    category_name: l2_name(cat),
                    count,
                    previous,
                    rise: rise(count, previous),
                })
            })
            .collect();
        up.sort_by(|a, b| {
            b.rise
                .cmp(&a.rise)
                .then(a.street.cmp(&b.street))
                .then(a.category.cmp(&b.category))
        });
        up.truncate(template.hot_spots_n);
        hot_spots = up;
    }

    // units' 三率 over the dispatched tickets, by lead unit
    let mut units = UnitsSummary {
        min_sample: template.min_sample,
        ..UnitsSummary::default()
    };
    if has(Section::Units) {
        let g = engine.group(&[Dim::Unit], &with_flag(&cur, Dim::Dispatched))?;
        let ranked: Vec<(&str, String, Measures)> = g
            .rows
            .iter()
            .filter(|r| !r.key[0].is_empty() && r.measures.valid_callbacks >= template.min_sample)
            .map(|r| (r.key[0].as_str(), name(&r.key[0]), r.measures))
            .collect();
        let n = template.bottom_n;
        units.ranked = ranked.len() as u64;
        units.bottom_response = bottom(&ranked, n, Measures::response_rate, |m| m.dispatched);
        units.bottom_resolution =
            bottom(&ranked, n, Measures::resolution_rate, |m| m.valid_callbacks);
        units.bottom_satisfaction = bottom(&ranked, n, Measures::satisfaction_rate, |m| {
            m.valid_callbacks
        });
    }

    let mut overdue = Overdue {
        count: t.overdue,
        returned: t.returned,
        reopened: t.reopened,
        by_unit: Vec::new(),
    };
    if has(Section::Overdue) {
        let g = engine.group(&[Dim::Unit], &with_flag(&cur, Dim::Overdue))?;
        overdue.by_unit = g
            .rows
            .iter()
            .filter(|r| !r.key[0].is_empty())
            .take(template.bottom_n)
            .map(|r| UnitCount {
                code: r.key[0].clone(),
                name: name(&r.key[0]),
                count: r.measures.count,
            })
            .collect();
    }

    let mut notable = Vec::new();
    if has(Section::Notable) && template.notable_n > 0 {
        for dim in [Dim::Reopened, Dim::Overdue] {
            let (ids, _) = engine.ticket_ids(&with_flag(&cur, dim), template.notable_n)?;
            notable.extend(ids);
        }
        notable.sort_unstable_by(|a, b| b.cmp(a));
        notable.dedup();
        notable.truncate(template.notable_n);
    }

    let title = |t: &str, default: String| {
        if t.trim().is_empty() {
            default
        } else {
            t.to_string()
        }
    };
    Ok(Bulletin {
        kind: period.kind,
        key: period.key.clone(),
        from: period.from,
        to: period.to,
        title_zh: title(&template.title_zh, period.kind.default_title_zh()),
        title_en: title(&template.title_en, period.kind.default_title_en()),
        sections: template.sections.clone(),
        totals,
        channels,
        types,
        top_categories,
        risers,
        hot_spots,
        units,
        overdue,
        praise: t.praise,
        notable,
        monthly_topics: Vec::new(),
        topic_rows: Vec::new(),
    })
}

// ---------------------------------------------------------------------------------------------
// Numbers and words (small copies of render.rs's private helpers)
// ---------------------------------------------------------------------------------------------

/// `0.9213` → `92.1%`; `—` when not a number (copied from render.rs).
fn percent(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    let v = (x * 1000.0).round() / 10.0;
    format!("{:.1}%", v + 0.0)
}

fn opt_percent(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), percent)
}

/// A change in words: `增长12.3%`, `下降4.0%`, `持平` (`None` without a value).
fn change_word(x: Option<f64>) -> Option<String> {
    let v = x.filter(|v| v.is_finite())?;
    Some(if v.abs() < 0.0005 {
        "持平".to_string()
    } else if v > 0.0 {
        format!("增长{}", percent(v))
    } else {
        format!("下降{}", percent(-v))
    })
}

/// A change in prose: `环比增长12.3%`, `环比下降4.0%`, `环比持平`; `what` is 环比 or 同比.
fn change_zh(what: &str, x: Option<f64>, base_label: &str, base: u64) -> String {
    match change_word(x) {
        Some(word) => format!("{what}{word}（{base_label}{}）", amount(base, "件")),
        None => format!("{base_label}无受理，不计{what}"),
    }
}

fn count_cell(n: u64) -> Cell {
    Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn opt_percent_cell(x: Option<f64>) -> Cell {
    match x {
        Some(v) if v.is_finite() => Cell::Percent(v),
        _ => Cell::Text(String::new()),
    }
}

fn text_cell(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// A cell as a `<td>` (render.rs's `Cell::td` is private; this is its copy), a positive number
/// with `+` when `signed`.
fn td(c: &Cell, signed: bool) -> String {
    match c {
        Cell::Int(n) if signed && *n > 0 => {
            format!(r#"<td class="num">+{}</td>"#, thousands(n.unsigned_abs()))
        }
        Cell::Percent(x) if signed && x.is_finite() && *x > 0.0 => {
            format!(r#"<td class="num">+{}</td>"#, percent(*x))
        }
        Cell::Text(s) if s.is_empty() => r#"<td class="num">—</td>"#.to_string(),
        Cell::Text(s) => format!("<td>{}</td>", escape(s)),
        Cell::Int(n) if *n < 0 => {
            format!(r#"<td class="num">-{}</td>"#, thousands(n.unsigned_abs()))
        }
        Cell::Int(n) => format!(r#"<td class="num">{}</td>"#, thousands(n.unsigned_abs())),
        Cell::Float(x) if x.is_finite() => format!(r#"<td class="num">{x:.2}</td>"#),
        Cell::Float(_) => r#"<td class="num">—</td>"#.to_string(),
        Cell::Percent(x) => format!(r#"<td class="num">{}</td>"#, percent(*x)),
    }
}

// ---------------------------------------------------------------------------------------------
// Tables (shared by the HTML and the spreadsheet)
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Table {
    caption: String,
    header: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
    /// Columns of changes: a positive value is shown with `+` in the HTML.
    signed: &'static [usize],
}

/// 受理量 against the previous period and the same period last year.
fn volume_table(b: &Bulletin) -> Table {
    let t = &b.totals;
    Table {
        caption: "受理量".into(),
        header: vec!["本期", "上期", "环比", "去年同期", "同比"],
        rows: vec![vec![
            count_cell(t.count),
            count_cell(t.previous),
            opt_percent_cell(t.change),
            count_cell(t.last_year),
            opt_percent_cell(t.yoy),
        ]],
        signed: &[2, 4],
    }
}

/// 派单, 直接答复 and the 三率 of the period.
fn handling_table(b: &Bulletin) -> Table {
    let t = &b.totals;
    Table {
        caption: "派单与三率".into(),
        header: vec!["派单", "直接答复", "响应率", "解决率", "满意率"],
        rows: vec![vec![
            count_cell(t.dispatched),
            count_cell(t.answered_directly),
            opt_percent_cell(t.response_rate),
            opt_percent_cell(t.resolution_rate),
            opt_percent_cell(t.satisfaction_rate),
        ]],
        signed: &[],
    }
}

/// Both totals tables side by side, as one row (the spreadsheet's 总体情况).
fn totals_table(b: &Bulletin) -> Table {
    let (mut a, c) = (volume_table(b), handling_table(b));
    a.caption = "总体情况".into();
    a.header.extend(c.header);
    for (row, more) in a.rows.iter_mut().zip(c.rows) {
        row.extend(more);
    }
    a
}

fn share_table(caption: &str, what: &'static str, items: &[Share]) -> Table {
    Table {
        caption: caption.into(),
        header: vec![what, "受理量", "占比", "上期", "环比"],
        rows: items
            .iter()
            .map(|s| {
                vec![
                    text_cell(&s.name),
                    count_cell(s.count),
                    Cell::Percent(s.share),
                    count_cell(s.previous),
                    opt_percent_cell(change(s.count, s.previous)),
                ]
            })
            .collect(),
        signed: &[4],
    }
}

fn mover_table(caption: &str, items: &[Mover]) -> Table {
    Table {
        caption: caption.into(),
        header: vec!["排名", "编码", "类别", "本期", "上期", "增减", "环比"],
        rows: items
            .iter()
            .enumerate()
            .map(|(i, m)| {
                vec![
                    count_cell(i as u64 + 1),
                    text_cell(&m.code),
                    text_cell(&m.name),
                    count_cell(m.count),
                    count_cell(m.previous),
                    Cell::Int(m.rise),
                    opt_percent_cell(m.change),
                ]
            })
            .collect(),
        signed: &[5, 6],
    }
}

fn hot_spot_table(items: &[HotSpot]) -> Table {
    Table {
        caption: "热点区域问题".into(),
        header: vec![
            "排名",
            "区",
            "街道（乡镇）",
            "问题类别",
            "本期",
            "上期",
            "增加",
        ],
        rows: items
            .iter()
            .enumerate()
            .map(|(i, h)| {
                vec![
                    count_cell(i as u64 + 1),
                    text_cell(&h.district_name),
                    text_cell(&h.street_name),
                    text_cell(&h.category_name),
                    count_cell(h.count),
                    count_cell(h.previous),
                    Cell::Int(h.rise),
                ]
            })
            .collect(),
        signed: &[6],
    }
}

fn unit_rate_table(caption: &str, base: &'static str, items: &[UnitRate]) -> Table {
    Table {
        caption: caption.into(),
        header: vec!["序号", "编码", "单位", "比率", base],
        rows: items
            .iter()
            .enumerate()
            .map(|(i, u)| {
                vec![
                    count_cell(i as u64 + 1),
                    text_cell(&u.code),
                    text_cell(&u.name),
                    Cell::Percent(u.rate),
                    count_cell(u.base),
                ]
            })
            .collect(),
        signed: &[],
    }
}

/// The three bottom lists in one table, with the ranking's name first.
fn units_table(u: &UnitsSummary) -> Table {
    let mut rows = Vec::new();
    for (what, items) in [
        ("响应率", &u.bottom_response),
        ("解决率", &u.bottom_resolution),
        ("满意率", &u.bottom_satisfaction),
    ] {
        for (i, r) in items.iter().enumerate() {
            rows.push(vec![
                text_cell(what),
                count_cell(i as u64 + 1),
                text_cell(&r.code),
                text_cell(&r.name),
                Cell::Percent(r.rate),
                count_cell(r.base),
            ]);
        }
    }
    Table {
        caption: "三率排名靠后的单位".into(),
        header: vec!["指标", "序号", "编码", "单位", "比率", "样本量"],
        rows,
        signed: &[],
    }
}

fn overdue_table(o: &Overdue) -> Table {
    Table {
        caption: "超期工单较多的承办单位".into(),
        header: vec!["序号", "编码", "单位", "超期工单"],
        rows: o
            .by_unit
            .iter()
            .enumerate()
            .map(|(i, u)| {
                vec![
                    count_cell(i as u64 + 1),
                    text_cell(&u.code),
                    text_cell(&u.name),
                    count_cell(u.count),
                ]
            })
            .collect(),
        signed: &[],
    }
}

fn overdue_counts_table(o: &Overdue) -> Table {
    Table {
        caption: "超期、退单与重办".into(),
        header: vec!["指标", "工单数"],
        rows: vec![
            vec![text_cell("超期"), count_cell(o.count)],
            vec![text_cell("退单"), count_cell(o.returned)],
            vec![text_cell("重办"), count_cell(o.reopened)],
        ],
        signed: &[],
    }
}

fn notable_table(ids: &[i64]) -> Table {
    Table {
        caption: "重点关注工单（重办或超期）".into(),
        header: vec!["序号", "工单编号"],
        rows: ids
            .iter()
            .enumerate()
            .map(|(i, id)| vec![count_cell(i as u64 + 1), text_cell(id.to_string())])
            .collect(),
        signed: &[],
    }
}

fn praise_table(b: &Bulletin) -> Table {
    Table {
        caption: "群众表扬".into(),
        header: vec!["指标", "数值"],
        rows: vec![
            vec![text_cell("表扬"), count_cell(b.praise)],
            vec![
                text_cell("占受理量"),
                Cell::Percent(ratio(b.praise, b.totals.count)),
            ],
        ],
        signed: &[],
    }
}

/// 每月一题: one row per topic and problem.
fn topic_table(rows: &[TopicRow]) -> Table {
    Table {
        caption: "每月一题".into(),
        header: vec![
            "题目月份",
            "主题",
            "牵头部门",
            "责任领导",
            "任务完成",
            "任务总数",
            "完成率",
            "逾期任务",
            "具体问题",
            "派单量",
            "上月派单",
            "环比",
            "去年同月派单",
            "同比",
            "响应率",
            "解决率",
            "满意率",
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    text_cell(r.topic_month.clone()),
                    text_cell(r.theme.clone()),
                    text_cell(r.lead_unit.clone()),
                    text_cell(r.leader.clone()),
                    count_cell(u64::from(r.tasks_done)),
                    count_cell(u64::from(r.tasks_total)),
                    Cell::Percent(r.tasks_percent / 100.0),
                    count_cell(u64::from(r.tasks_overdue)),
                    text_cell(r.problem.clone()),
                    count_cell(r.dispatched),
                    count_cell(r.previous),
                    opt_percent_cell(r.month_over_month),
                    count_cell(r.last_year),
                    opt_percent_cell(r.year_over_year),
                    opt_percent_cell(r.response_rate),
                    opt_percent_cell(r.resolution_rate),
                    opt_percent_cell(r.satisfaction_rate),
                ]
            })
            .collect(),
        signed: &[11, 13],
    }
}

fn to_sheet(name: &str, t: Table) -> Sheet {
    Sheet {
        name: name.chars().take(31).collect(),
        header: t.header.iter().map(|h| (*h).to_string()).collect(),
        rows: t.rows,
    }
}

/// The bulletin's tables as [`Sheet`]s, for the sections of the bulletin in its order: 总体情况
/// (one row: 受理量 with 环比 and 同比, 派单, 直接答复, 三率), 受理渠道, 诉求类型, 主要问题, 上升问题,
/// 热点区域, 单位三率 (the three bottom lists, the ranking named in the first column), 超期退单重办
/// and 超期单位 (two sheets), 群众表扬, 重点工单, then 每月一题 when the bulletin has topics. Counts
/// and rises are [`Cell::Int`], shares, rates and changes [`Cell::Percent`]; a missing value is
/// an empty [`Cell::Text`].
pub fn bulletin_sheets(b: &Bulletin) -> Vec<Sheet> {
    let mut sheets: Vec<Sheet> = b
        .sections
        .iter()
        .flat_map(|s| match s {
            Section::Totals => vec![to_sheet("总体情况", totals_table(b))],
            Section::Channels => vec![to_sheet(
                "受理渠道",
                share_table("受理渠道", "渠道", &b.channels),
            )],
            Section::Types => vec![to_sheet(
                "诉求类型",
                share_table("诉求类型", "诉求类型", &b.types),
            )],
            Section::TopCategories => vec![to_sheet(
                "主要问题",
                mover_table("主要问题", &b.top_categories),
            )],
            Section::Risers => vec![to_sheet(
                "上升问题",
                mover_table("上升较快的问题", &b.risers),
            )],
            Section::HotSpots => vec![to_sheet("热点区域", hot_spot_table(&b.hot_spots))],
            Section::Units => vec![to_sheet("单位三率", units_table(&b.units))],
            Section::Overdue => vec![
                to_sheet("超期退单重办", overdue_counts_table(&b.overdue)),
                to_sheet("超期单位", overdue_table(&b.overdue)),
            ],
            Section::Praise => vec![to_sheet("群众表扬", praise_table(b))],
            Section::Notable => vec![to_sheet("重点工单", notable_table(&b.notable))],
        })
        .collect();
    if !b.topic_rows.is_empty() {
        sheets.push(to_sheet("每月一题", topic_table(&b.topic_rows)));
    }
    sheets
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

/// Print styles: A4, a red masthead like the centre's paper bulletins, tables and charts kept
/// whole on a page.
const STYLE: &str = r#"
@page { size: A4; margin: 16mm 16mm 18mm; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; box-sizing: border-box; }
html { color: #222; background: #fff; }
body { margin: 0 auto; max-width: 178mm; padding: 8mm 0 16mm; font-size: 11pt; line-height: 1.75;
  font-family: "Noto Serif CJK SC", "Source Han Serif SC", "Songti SC", "SimSun", serif; }
h1, h2, caption, figcaption, th, .period {
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; }
header.masthead { text-align: center; border-bottom: 2px solid #c0392b; padding-bottom: 3mm; margin-bottom: 5mm; }
header.masthead h1 { font-size: 20pt; line-height: 1.4; color: #c0392b; letter-spacing: 0.08em; margin: 0 0 2mm; }
.period { font-size: 11pt; margin: 0; text-indent: 0; text-align: center; }
h2 { font-size: 14pt; margin: 6mm 0 2mm; break-after: avoid; page-break-after: avoid; }
p { margin: 0.4em 0; text-indent: 2em; text-align: justify; }
p.note { text-indent: 0; font-size: 9pt; color: #555; }
figure { margin: 3mm 0 4mm; text-align: center; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: 10pt; font-weight: bold; margin-top: 1mm; }
svg.chart { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 4mm; font-size: 9.5pt; line-height: 1.45;
  break-inside: avoid; page-break-inside: avoid; }
caption { caption-side: top; font-weight: bold; font-size: 10pt; margin-bottom: 1mm; }
thead { display: table-header-group; }
th, td { border: 1px solid #999; padding: 1mm 2mm; vertical-align: top; }
th { background: #eef2f7; font-weight: bold; text-align: center; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.empty { text-align: center; color: #777; }
footer.colophon { margin-top: 10mm; font-size: 9pt; color: #666; text-align: center; }
@media print { body { max-width: none; padding: 0; } }
"#;

/// A document being written: every method escapes the text it is given.
struct Doc {
    out: String,
}

impl Doc {
    fn tag(&mut self, tag: &str, text: &str) {
        put!(self.out, "<{tag}>{}</{tag}>\n", escape(text));
    }
    fn p(&mut self, text: &str) {
        if !text.is_empty() {
            self.tag("p", text);
        }
    }
    fn note(&mut self, text: &str) {
        put!(self.out, "<p class=\"note\">{}</p>\n", escape(text));
    }
    fn figure(&mut self, caption: &str, svg: &str) {
        put!(
            self.out,
            "<figure>\n{svg}<figcaption>{}</figcaption>\n</figure>\n",
            escape(caption)
        );
    }
    fn table(&mut self, t: &Table) {
        put!(
            self.out,
            "<table>\n<caption>{}</caption>\n<thead><tr>",
            escape(&t.caption)
        );
        for h in &t.header {
            put!(self.out, "<th>{}</th>", escape(h));
        }
        self.out.push_str("</tr></thead>\n<tbody>\n");
        if t.rows.is_empty() {
            put!(
                self.out,
                "<tr><td class=\"empty\" colspan=\"{}\">无数据</td></tr>\n",
                t.header.len().max(1)
            );
        }
        for row in &t.rows {
            self.out.push_str("<tr>");
            for (i, c) in row.iter().enumerate() {
                self.out.push_str(&td(c, t.signed.contains(&i)));
            }
            self.out.push_str("</tr>\n");
        }
        self.out.push_str("</tbody>\n</table>\n");
    }
}

/// The bulletin as one printable, self-contained HTML5 document in Chinese: the red masthead with
/// the title and the period, then the template's sections in its order, numbered 一、二、…; charts
/// are inline SVG, one `<style>` block, no script, no external resource. All text from the
/// bulletin is escaped.
pub fn bulletin_html(b: &Bulletin) -> String {
    let title = if b.title_zh.trim().is_empty() {
        b.kind.default_title_zh()
    } else {
        b.title_zh.clone()
    };
    let period = period_zh(b.kind, b.from, b.to);
    let mut doc = Doc {
        out: String::with_capacity(32 * 1024),
    };
    put!(
        doc.out,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"Jiesu\">\n<title>{}（{}）</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&title),
        escape(&period)
    );
    put!(
        doc.out,
        "<header class=\"masthead\">\n<h1>{}</h1>\n<p class=\"period\">统计期间：{}</p>\n</header>\n",
        escape(&title),
        escape(&period)
    );
    for (i, s) in b.sections.iter().enumerate() {
        put!(
            doc.out,
            "<section class=\"block\" id=\"{}\">\n",
            escape(s.as_str())
        );
        doc.tag("h2", &format!("{}、{}", zh_number(i + 1), s.label_zh()));
        match s {
            Section::Totals => html_totals(&mut doc, b, &period),
            Section::Channels => {
                html_shares(&mut doc, "受理渠道", "渠道", "从受理渠道看", &b.channels)
            }
            Section::Types => {
                html_shares(&mut doc, "诉求类型", "诉求类型", "从诉求类型看", &b.types)
            }
            Section::TopCategories => html_top(&mut doc, b),
            Section::Risers => html_risers(&mut doc, b),
            Section::HotSpots => html_hot_spots(&mut doc, b),
            Section::Units => html_units(&mut doc, b),
            Section::Overdue => html_overdue(&mut doc, b),
            Section::Praise => doc.p(&format!(
                "本期收到群众表扬{}，占受理量的{}。",
                amount(b.praise, "件"),
                percent(ratio(b.praise, b.totals.count))
            )),
            Section::Notable => html_notable(&mut doc, b),
        }
        doc.out.push_str("</section>\n");
    }
    if !b.monthly_topics.is_empty() {
        doc.out
            .push_str("<section class=\"block\" id=\"monthly_topics\">\n");
        doc.tag(
            "h2",
            &format!("{}、每月一题", zh_number(b.sections.len() + 1)),
        );
        for line in &b.monthly_topics {
            doc.p(line);
        }
        if !b.topic_rows.is_empty() {
            doc.table(&topic_table(&b.topic_rows));
        }
        doc.out.push_str("</section>\n");
    }
    doc.out.push_str(
        "<footer class=\"colophon\">本通报由接诉即办平台根据工单数据自动生成。</footer>\n</body>\n</html>\n",
    );
    doc.out
}

fn html_totals(doc: &mut Doc, b: &Bulletin, period: &str) {
    let t = &b.totals;
    doc.p(&format!(
        "{period}，12345热线共受理群众诉求{}，{}，{}。其中派单{}，直接答复{}。派单诉求响应率{}，回访解决率{}，满意率{}。",
        amount(t.count, "件"),
        change_zh("环比", t.change, "上期", t.previous),
        change_zh("同比", t.yoy, "去年同期", t.last_year),
        amount(t.dispatched, "件"),
        amount(t.answered_directly, "件"),
        opt_percent(t.response_rate),
        opt_percent(t.resolution_rate),
        opt_percent(t.satisfaction_rate),
    ));
    doc.table(&volume_table(b));
    doc.table(&handling_table(b));
}

fn html_shares(doc: &mut Doc, caption: &str, what: &'static str, lead: &str, items: &[Share]) {
    let parts: Vec<String> = items
        .iter()
        .filter(|s| s.count > 0)
        .take(3)
        .map(|s| {
            format!(
                "{}{}，占{}",
                s.name,
                amount(s.count, "件"),
                percent(s.share)
            )
        })
        .collect();
    if parts.is_empty() {
        doc.p("本期没有受理数据。");
    } else {
        doc.p(&format!("{lead}，{}。", parts.join("；")));
    }
    let bars: Vec<Bar> = items
        .iter()
        .map(|s| Bar {
            label: s.name.clone(),
            current: s.count,
            previous: Some(s.previous),
        })
        .collect();
    if !bars.is_empty() {
        let chart = format!("各{what}受理量（本期与上期）");
        doc.figure(&chart, &svg_hbars(&chart, &bars));
    }
    doc.table(&share_table(caption, what, items));
}

fn html_top(doc: &mut Doc, b: &Bulletin) {
    if b.top_categories.is_empty() {
        doc.p("本期没有分类数据。");
    } else {
        let parts: Vec<String> = b
            .top_categories
            .iter()
            .map(|m| match change_word(m.change) {
                Some(word) => format!("{}（{}，环比{word}）", m.name, amount(m.count, "件")),
                None => format!("{}（{}）", m.name, amount(m.count, "件")),
            })
            .collect();
        doc.p(&format!("群众反映较多的问题依次为：{}。", parts.join("、")));
    }
    let bars: Vec<Bar> = b
        .top_categories
        .iter()
        .map(|m| Bar {
            label: m.name.clone(),
            current: m.count,
            previous: Some(m.previous),
        })
        .collect();
    if !bars.is_empty() {
        let caption = "主要问题受理量（本期与上期）";
        doc.figure(caption, &svg_hbars(caption, &bars));
    }
    doc.table(&mover_table("主要问题", &b.top_categories));
}

fn rule_note(doc: &mut Doc) {
    doc.note(&format!(
        "注：按较上期增加的件数排序，件数相同按编码排序；上期为零且本期少于{NEW_CELL_MIN}件的不计。"
    ));
}

fn html_risers(doc: &mut Doc, b: &Bulletin) {
    if b.risers.is_empty() {
        doc.p("与上期相比，没有明显上升的问题类别。");
    } else {
        let parts: Vec<String> = b
            .risers
            .iter()
            .take(3)
            .map(|m| {
                format!(
                    "“{}”增加{}（{}件→{}件）",
                    m.name,
                    amount(m.rise.unsigned_abs(), "件"),
                    thousands(m.previous),
                    thousands(m.count)
                )
            })
            .collect();
        doc.p(&format!(
            "与上期相比，上升较快的问题为：{}。",
            parts.join("；")
        ));
    }
    doc.table(&mover_table("上升较快的问题", &b.risers));
    rule_note(doc);
}

fn html_hot_spots(doc: &mut Doc, b: &Bulletin) {
    if b.hot_spots.is_empty() {
        doc.p("与上期相比，没有明显上升的区域问题。");
    } else {
        let parts: Vec<String> = b
            .hot_spots
            .iter()
            .take(3)
            .map(|h| {
                format!(
                    "{}{}“{}”问题{}，较上期增加{}",
                    h.district_name,
                    h.street_name,
                    h.category_name,
                    amount(h.count, "件"),
                    amount(h.rise.unsigned_abs(), "件")
                )
            })
            .collect();
        doc.p(&format!("需关注的热点区域问题：{}。", parts.join("；")));
    }
    doc.table(&hot_spot_table(&b.hot_spots));
    rule_note(doc);
}

fn html_units(doc: &mut Doc, b: &Bulletin) {
    let u = &b.units;
    if u.ranked == 0 {
        doc.p(&format!(
            "本期没有回访有效样本达到{}的承办单位，不作三率排名。",
            amount(u.min_sample, "件")
        ));
        return;
    }
    doc.p(&format!(
        "本期回访有效样本不少于{}的承办单位共{}个，参与三率排名。各项排名靠后的单位如下。",
        amount(u.min_sample, "件"),
        thousands(u.ranked)
    ));
    doc.table(&unit_rate_table(
        "响应率排名靠后的单位",
        "派单量",
        &u.bottom_response,
    ));
    doc.table(&unit_rate_table(
        "解决率排名靠后的单位",
        "回访有效样本",
        &u.bottom_resolution,
    ));
    doc.table(&unit_rate_table(
        "满意率排名靠后的单位",
        "回访有效样本",
        &u.bottom_satisfaction,
    ));
    doc.note("注：排名相同时，样本量大的单位列前。");
}

fn html_overdue(doc: &mut Doc, b: &Bulletin) {
    let o = &b.overdue;
    let mut text = format!(
        "本期受理的工单中，超期{}，退单{}，重办{}。",
        amount(o.count, "件"),
        amount(o.returned, "件"),
        amount(o.reopened, "件")
    );
    if !o.by_unit.is_empty() {
        let parts: Vec<String> = o
            .by_unit
            .iter()
            .take(3)
            .map(|u| format!("{}（{}）", u.name, amount(u.count, "件")))
            .collect();
        put!(text, "超期工单较多的承办单位为{}。", parts.join("、"));
    }
    doc.p(&text);
    doc.table(&overdue_table(o));
}

fn html_notable(doc: &mut Doc, b: &Bulletin) {
    if b.notable.is_empty() {
        doc.p("本期没有重办或超期的工单。");
    } else {
        doc.p(&format!(
            "以下为本期重办或超期的工单（按编号由新到旧，列出{}）。",
            amount(b.notable.len() as u64, "件")
        ));
    }
    doc.table(&notable_table(&b.notable));
}

// ---------------------------------------------------------------------------------------------
// Charts: horizontal bars
// ---------------------------------------------------------------------------------------------

const FONT_PX: f64 = 11.0;
const INK: &str = "#333";
const AXIS_INK: &str = "#888";
const GRID_INK: &str = "#e3e3e3";
const BAR_FILL: &str = "#3b6ea5";
const PREV_FILL: &str = "#b8c9dc";
const CHART_W: f64 = 640.0;

/// One bar (and, when given, the previous period's beside it).
struct Bar {
    label: String,
    current: u64,
    previous: Option<u64>,
}

/// `s` cut with `…` to fit `width` at `px`.
fn clip(s: &str, width: f64, px: f64) -> String {
    if text_width(s, px) <= width {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        if text_width(&out, px) + text_width(&c.to_string(), px) + px > width {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// A horizontal bar chart of counts: a row per bar with its label on the left and its count at
/// the end, the previous period as a lighter bar under each (with a legend), a round-number scale
/// with grid lines, each bar titled for hover. Never NaN: an empty chart says 无数据.
fn svg_hbars(caption: &str, bars: &[Bar]) -> String {
    let with_previous = bars.iter().any(|b| b.previous.is_some());
    let widest = bars
        .iter()
        .map(|b| text_width(&b.label, FONT_PX))
        .fold(0.0, f64::max);
    let label_w = (widest + 10.0).clamp(60.0, 200.0);
    let (left, right) = (label_w, CHART_W - 56.0);
    let top = if with_previous { 24.0 } else { 8.0 };
    let row_h = if with_previous { 26.0 } else { 18.0 };
    let bar_h = if with_previous { 10.0 } else { 12.0 };
    let rows = bars.len().max(1) as f64;
    let bottom = top + rows * row_h;
    let height = bottom + 18.0;
    let max = bars
        .iter()
        .map(|b| b.current.max(b.previous.unwrap_or(0)))
        .max()
        .unwrap_or(0) as f64;
    let step = nice_step(max / 4.0).max(1.0);
    let scale_max = ((max / step).ceil() * step).max(step);
    let x = |v: f64| left + (v / scale_max).clamp(0.0, 1.0) * (right - left);

    let mut out = String::new();
    put!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" aria-label=\"{}\" \
         viewBox=\"0 0 {CHART_W:.0} {height:.0}\" width=\"{CHART_W:.0}\" height=\"{height:.0}\" \
         font-size=\"{FONT_PX}\" font-family=\"sans-serif\">\n",
        escape(caption)
    );
    // grid and scale
    let ticks = ((scale_max / step).round() as usize).min(20);
    for k in 0..=ticks {
        let v = k as f64 * step;
        let gx = x(v);
        put!(
            out,
            "<line x1=\"{gx:.1}\" y1=\"{top:.1}\" x2=\"{gx:.1}\" y2=\"{bottom:.1}\" stroke=\"{GRID_INK}\"/>\
             <text x=\"{gx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{AXIS_INK}\">{}</text>\n",
            bottom + 13.0,
            thousands(v.round() as u64)
        );
    }
    put!(
        out,
        "<line x1=\"{left:.1}\" y1=\"{top:.1}\" x2=\"{left:.1}\" y2=\"{bottom:.1}\" stroke=\"{AXIS_INK}\"/>\n"
    );
    if with_previous {
        put!(
            out,
            "<rect x=\"{left:.1}\" y=\"6\" width=\"14\" height=\"8\" fill=\"{BAR_FILL}\"/>\
             <text x=\"{:.1}\" y=\"14\" fill=\"{INK}\">本期</text>\
             <rect x=\"{:.1}\" y=\"6\" width=\"14\" height=\"8\" fill=\"{PREV_FILL}\"/>\
             <text x=\"{:.1}\" y=\"14\" fill=\"{INK}\">上期</text>\n",
            left + 18.0,
            left + 56.0,
            left + 74.0
        );
    }
    if bars.is_empty() {
        put!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{AXIS_INK}\">无数据</text>\n",
            (left + right) / 2.0,
            top + row_h / 2.0 + 4.0
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let y0 = top + i as f64 * row_h + 3.0;
        put!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{INK}\">{}</text>\n",
            left - 5.0,
            y0 + bar_h - 1.0,
            escape(&clip(&b.label, label_w - 8.0, FONT_PX))
        );
        let mut bar = |y: f64, v: u64, fill: &str, which: &str| {
            let w = x(v as f64) - left;
            put!(
                out,
                "<rect x=\"{left:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bar_h:.1}\" fill=\"{fill}\">\
                 <title>{} {which}：{}</title></rect>\
                 <text x=\"{:.1}\" y=\"{:.1}\" fill=\"{INK}\" font-size=\"10\">{}</text>\n",
                escape(&b.label),
                thousands(v),
                left + w + 4.0,
                y + bar_h - 1.5,
                thousands(v)
            );
        };
        bar(y0, b.current, BAR_FILL, "本期");
        if let Some(p) = b.previous {
            bar(y0 + bar_h + 1.0, p, PREV_FILL, "上期");
        }
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::TicketFact;
    use jiesu_domain::category::Category;
    use jiesu_domain::org::UnitKind;
    use jiesu_domain::state::Status;
    use jiesu_domain::ticket::{DeadlineTier, Resolution, Satisfaction};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn cat(code: &str, name: &str, level: u8, parent: Option<&str>) -> Category {
        Category {
            code: code.into(),
            name: name.into(),
            level,
            parent: parent.map(Into::into),
            domain: None,
            active: true,
        }
    }

    /// 住房 (A) › 物业服务 (A01) › 供暖 (A0101); 交通 (B) › 停车 (B01) › 违停 (B0101).
    fn tree() -> CategoryTree {
        CategoryTree::new(vec![
            cat("A", "住房", 1, None),
            cat("A01", "物业服务", 2, Some("A")),
            cat("A0101", "供暖", 3, Some("A01")),
            cat("B", "交通", 1, None),
            cat("B01", "停车", 2, Some("B")),
            cat("B0101", "违停", 3, Some("B01")),
        ])
    }

    struct F {
        id: i64,
        day: &'static str,
        category: &'static str,
        street: &'static str,
        unit: &'static str,
        satisfied: bool,
    }

    fn fact(f: &F) -> TicketFact {
        TicketFact {
            ticket_id: f.id,
            created_date: d(f.day),
            created_hour: 9,
            channel: Channel::Phone,
            request_type: RequestType::Complaint,
            category_code: f.category.into(),
            district_code: "110105".into(),
            street_code: f.street.into(),
            community_code: String::new(),
            lead_unit: f.unit.into(),
            lead_unit_kind: Some(UnitKind::StreetTown),
            tier: Some(DeadlineTier::ALL[0]),
            status: Status::CallbackDone,
            dispatched: !f.unit.is_empty(),
            answered_directly: f.unit.is_empty(),
            enterprise: false,
            overdue: false,
            returned: false,
            reopened: false,
            responded_in_time: true,
            contacted: Some(true),
            resolution: Some(Resolution::Resolved),
            satisfaction: Some(if f.satisfied {
                Satisfaction::Satisfied
            } else {
                Satisfaction::Unsatisfied
            }),
            secs_to_sign: Some(60),
            secs_to_respond: Some(600),
            secs_to_finish: Some(3600),
            requester_hash: Some(vec![f.id as u8]),
        }
    }

    fn push(facts: &mut TicketFacts, f: TicketFact) {
        facts.push(LocalMonth::of(f.created_date), &f).unwrap();
    }

    fn f(id: i64, day: &'static str, category: &'static str, street: &'static str) -> F {
        F {
            id,
            day,
            category,
            street,
            unit: "U1",
            satisfied: true,
        }
    }

    /// Daily 2026-12-06 against 2026-12-05 and 2025-12-06:
    /// - 2025-12-06: 1 ticket;
    /// - 2026-12-05: 2 tickets (S1 × A0101, S2 × B0101);
    /// - 2026-12-06: 8 tickets: 4 × S1 × A0101 (U1 satisfied, one reopened), 1 × S2 × B0101 by U2
    ///   unsatisfied, unresolved, late and overdue, 2 × S3 × B0101 by U1 (new, under the noise
    ///   floor), 1 praise by WeChat answered directly (no unit, no callback).
    fn sample() -> TicketFacts {
        let mut t = TicketFacts::new();
        push(&mut t, fact(&f(1, "2025-12-06", "A0101", "S1")));
        push(&mut t, fact(&f(10, "2026-12-05", "A0101", "S1")));
        push(&mut t, fact(&f(11, "2026-12-05", "B0101", "S2")));
        for id in 20..24 {
            let mut x = fact(&f(id, "2026-12-06", "A0101", "S1"));
            x.reopened = id == 21;
            push(&mut t, x);
        }
        let mut bad = fact(&F {
            id: 24,
            day: "2026-12-06",
            category: "B0101",
            street: "S2",
            unit: "U2",
            satisfied: false,
        });
        bad.overdue = true;
        bad.returned = true;
        bad.responded_in_time = false;
        bad.resolution = Some(Resolution::Unresolved);
        push(&mut t, bad);
        push(&mut t, fact(&f(25, "2026-12-06", "B0101", "S3")));
        push(&mut t, fact(&f(26, "2026-12-06", "B0101", "S3")));
        let mut praise = fact(&F {
            id: 27,
            day: "2026-12-06",
            category: "A0101",
            street: "S1",
            unit: "",
            satisfied: true,
        });
        praise.request_type = RequestType::Praise;
        praise.channel = Channel::Wechat;
        praise.responded_in_time = false;
        praise.contacted = None;
        praise.resolution = None;
        praise.satisfaction = None;
        push(&mut t, praise);
        t
    }

    fn names() -> HashMap<String, String> {
        [
            ("S1", "<b>三里屯&街道"),
            ("S2", "呼家楼街道"),
            ("U1", "三里屯街道办事处"),
            ("U2", "区城管委"),
            ("110105", "朝阳区"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    }

    fn all_sections(min_sample: u64) -> Template {
        Template {
            min_sample,
            ..Template::default_for(BulletinKind::Weekly)
        }
    }

    fn daily(key: &str) -> BulletinPeriod {
        BulletinPeriod::parse(BulletinKind::Daily, key).unwrap()
    }

    #[test]
    fn daily_periods_step_across_month_and_year_boundaries() {
        let p = BulletinPeriod::last_complete(BulletinKind::Daily, d("2026-12-01"));
        assert_eq!(p.key, "2026-11-30");
        assert_eq!((p.from, p.to), (d("2026-11-30"), d("2026-12-01")));
        assert_eq!(daily("2026-03-01").previous().key, "2026-02-28");
        assert_eq!(daily("2027-01-01").previous().key, "2026-12-31");
        assert_eq!(daily("2024-02-29").same_last_year().key, "2023-02-28");
        assert_eq!(daily("2026-12-06").same_last_year().key, "2025-12-06");
        assert_eq!(daily("2026-12-06").label_zh(), "2026年12月6日");
    }

    #[test]
    fn weekly_periods_are_iso_weeks_across_the_year_boundary() {
        // 2027-01-01 is a Friday: the week of 28 Dec 2026 – 3 Jan 2027 is 2026-W53
        let p = BulletinPeriod::last_complete(BulletinKind::Weekly, d("2027-01-05"));
        assert_eq!(p.key, "2026-W53");
        assert_eq!((p.from, p.to), (d("2026-12-28"), d("2027-01-04")));
        let w1 = BulletinPeriod::parse(BulletinKind::Weekly, "2027-W01").unwrap();
        assert_eq!((w1.from, w1.to), (d("2027-01-04"), d("2027-01-11")));
        assert_eq!(w1.previous(), p);
        assert_eq!(w1.same_last_year().key, "2026-W01");
        assert_eq!(w1.same_last_year().from, d("2025-12-29"));
        // 2025 has no week 53: week 52 stands in
        assert_eq!(p.same_last_year().key, "2025-W52");
        assert_eq!(p.same_last_year().from, d("2025-12-22"));
        // on a Monday the last complete week ends yesterday
        let mon = BulletinPeriod::last_complete(BulletinKind::Weekly, d("2026-12-07"));
        assert_eq!(mon.key, "2026-W49");
        assert_eq!((mon.from, mon.to), (d("2026-11-30"), d("2026-12-07")));
        assert_eq!(p.label_zh(), "2026年第53周（2026年12月28日至2027年1月3日）");
        assert_eq!(mon.label_zh(), "2026年第49周（11月30日至12月6日）");
        assert!(BulletinPeriod::parse(BulletinKind::Weekly, "2027-W53").is_err());
    }

    #[test]
    fn monthly_periods_step_from_january_to_december() {
        let p = BulletinPeriod::last_complete(BulletinKind::Monthly, d("2027-01-15"));
        assert_eq!(p.key, "2026-12");
        assert_eq!((p.from, p.to), (d("2026-12-01"), d("2027-01-01")));
        let jan = BulletinPeriod::parse(BulletinKind::Monthly, "2027-01").unwrap();
        assert_eq!(jan.previous(), p);
        assert_eq!(jan.same_last_year().key, "2026-01");
        assert_eq!(jan.label_zh(), "2027年1月");
    }

    #[test]
    fn bad_period_keys_are_refused_naming_the_key() {
        for (kind, key) in [
            (BulletinKind::Daily, "2026-13-01"),
            (BulletinKind::Daily, "2026-1-05"),
            (BulletinKind::Daily, "2026-W49"),
            (BulletinKind::Weekly, "2026-49"),
            (BulletinKind::Weekly, "2026-W9"),
            (BulletinKind::Weekly, "2026-W00"),
            (BulletinKind::Monthly, "2026-13"),
            (BulletinKind::Monthly, "+2026-11"),
            (BulletinKind::Monthly, "0999-11"),
        ] {
            let e = BulletinPeriod::parse(kind, key).unwrap_err();
            assert!(e.to_string().contains(&format!("'{key}'")), "{e}");
            assert!(e.to_string().contains(kind.as_str()), "{e}");
        }
        assert_eq!(
            "fortnightly"
                .parse::<BulletinKind>()
                .unwrap_err()
                .to_string(),
            "unknown bulletin kind 'fortnightly' (use daily, weekly or monthly)"
        );
        for k in BulletinKind::ALL {
            assert_eq!(k.as_str().parse::<BulletinKind>().unwrap(), k);
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
    }

    #[test]
    fn a_template_with_an_unknown_field_is_refused_naming_it() {
        let e = Template::from_json(r#"{"top_n": 5, "colour": "red"}"#).unwrap_err();
        assert!(matches!(&e, BulletinError::UnknownField { field, .. } if field == "colour"));
        assert!(e.to_string().contains("'colour'"), "{e}");
        // serde alone refuses it too (the template as stored)
        assert!(serde_json::from_str::<Template>(r#"{"colour": 1}"#).is_err());
    }

    #[test]
    fn template_values_out_of_range_or_of_the_wrong_type_name_the_field() {
        let e = Template::from_json(r#"{"top_n": 0}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "template field 'top_n' must be from 1 to 50, got 0"
        );
        let e = Template::from_json(r#"{"bottom_n": 51}"#).unwrap_err();
        assert!(e.to_string().contains("'bottom_n'"), "{e}");
        let e = Template::from_json(r#"{"min_sample": -1}"#).unwrap_err();
        assert!(e.to_string().contains("'min_sample'"), "{e}");
        let e = Template::from_json(r#"{"sections": ["totals", "weather"]}"#).unwrap_err();
        assert!(e.to_string().contains("'weather'"), "{e}");
        let e = Template::from_json(r#"{"sections": ["totals", "totals"]}"#).unwrap_err();
        assert!(e.to_string().contains("'totals'"), "{e}");
        let e = Template::from_json(r#"{"sections": []}"#).unwrap_err();
        assert_eq!(e, BulletinError::NoSections);
        let long = "长".repeat(101);
        let e = Template::from_json(&format!(r#"{{"title_zh": "{long}"}}"#)).unwrap_err();
        assert!(e.to_string().contains("'title_zh'"), "{e}");
        assert_eq!(
            Template::from_json("[]").unwrap_err(),
            BulletinError::NotAnObject
        );
        assert!(matches!(
            Template::from_json("{"),
            Err(BulletinError::Json(_))
        ));
    }

    #[test]
    fn default_templates_round_trip_through_json() {
        for k in BulletinKind::ALL {
            let t = Template::default_for(k);
            t.validate().unwrap();
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(Template::from_json(&json).unwrap(), t, "{k}");
            assert_eq!(serde_json::from_str::<Template>(&json).unwrap(), t, "{k}");
        }
        // left-out fields take the defaults
        assert_eq!(Template::from_json("{}").unwrap(), Template::default());
        let t = Template::from_json_for(BulletinKind::Monthly, r#"{"top_n": 3}"#).unwrap();
        assert_eq!(t.top_n, 3);
        assert_eq!(
            t.min_sample,
            Template::default_for(BulletinKind::Monthly).min_sample
        );
        assert!(serde_json::to_string(&Template::default())
            .unwrap()
            .contains(r#""sections":["totals","channels","types","top_categories","risers","hot_spots","units","overdue","praise","notable"]"#));
    }

    #[test]
    fn a_bulletin_over_two_periods_has_totals_change_a_riser_a_hot_spot_and_the_bottom_unit() {
        let facts = sample();
        let b = bulletin(
            &facts,
            &tree(),
            &names(),
            &daily("2026-12-06"),
            &all_sections(1),
        )
        .unwrap();
        assert_eq!(b.key, "2026-12-06");
        assert_eq!(b.title_zh, "12345市民服务热线周汇总");
        let t = &b.totals;
        assert_eq!((t.count, t.previous, t.last_year), (8, 2, 1));
        assert_eq!(t.change, Some(3.0));
        assert_eq!(t.yoy, Some(7.0));
        assert_eq!((t.dispatched, t.answered_directly), (7, 1));
        assert_eq!(t.response_rate, Some(6.0 / 7.0));
        assert_eq!(b.praise, 1);

        assert_eq!(b.channels[0].code, "phone");
        assert_eq!((b.channels[0].count, b.channels[0].previous), (7, 2));
        assert_eq!(b.channels[1].name, "微信");
        assert_eq!(b.types[0].name, "投诉");

        assert_eq!(b.top_categories[0].code, "A");
        assert_eq!(b.top_categories[0].name, "住房");
        assert_eq!(
            (b.top_categories[0].count, b.top_categories[0].previous),
            (5, 1)
        );
        assert_eq!(b.top_categories[0].change, Some(4.0));

        // A01 rose 1 → 5; B01 rose 1 → 3 (S2 1 → 1, S3 0 → 2)
        assert_eq!(b.risers.len(), 2);
        assert_eq!(b.risers[0].code, "A01");
        assert_eq!(b.risers[0].name, "住房 › 物业服务");
        assert_eq!((b.risers[0].rise, b.risers[0].previous), (4, 1));
        assert_eq!(b.risers[1].code, "B01");

        // S1 × A01 rose by 4; S3 × B01 is new with 2 tickets (noise); S2 × B01 did not rise
        assert_eq!(b.hot_spots.len(), 1);
        let h = &b.hot_spots[0];
        assert_eq!((h.street.as_str(), h.category.as_str()), ("S1", "A01"));
        assert_eq!((h.count, h.previous, h.rise), (5, 1, 4));
        assert_eq!(h.street_name, "<b>三里屯&街道");
        assert_eq!(
            (h.district.as_str(), h.district_name.as_str()),
            ("110105", "朝阳区")
        );

        // U2's only callback was unsatisfied and unresolved, its response late
        assert_eq!(b.units.ranked, 2);
        for list in [
            &b.units.bottom_response,
            &b.units.bottom_resolution,
            &b.units.bottom_satisfaction,
        ] {
            assert_eq!(list[0].code, "U2");
            assert_eq!(list[0].name, "区城管委");
            assert_eq!((list[0].rate, list[0].base), (0.0, 1));
        }

        assert_eq!(
            (b.overdue.count, b.overdue.returned, b.overdue.reopened),
            (1, 1, 1)
        );
        assert_eq!(b.overdue.by_unit[0].code, "U2");
        assert_eq!(b.notable, vec![24, 21]);

        // stored and read back
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<Bulletin>(&json).unwrap(), b);
    }

    #[test]
    fn a_new_cell_counts_as_a_rise_from_three_tickets() {
        let mut facts = sample();
        push(&mut facts, fact(&f(28, "2026-12-06", "B0101", "S3")));
        let b = bulletin(
            &facts,
            &tree(),
            &names(),
            &daily("2026-12-06"),
            &all_sections(1),
        )
        .unwrap();
        assert_eq!(b.hot_spots.len(), 2);
        assert_eq!(b.hot_spots[0].street, "S1");
        assert_eq!(
            (b.hot_spots[1].street.as_str(), b.hot_spots[1].rise),
            ("S3", 3)
        );
        assert!(is_rise(3, 0) && !is_rise(2, 0) && is_rise(2, 1) && !is_rise(1, 1));
    }

    #[test]
    fn units_below_the_minimum_sample_are_not_ranked() {
        let b = bulletin(
            &sample(),
            &tree(),
            &names(),
            &daily("2026-12-06"),
            &all_sections(2),
        )
        .unwrap();
        // U1 has 6 callbacks, U2 one
        assert_eq!(b.units.ranked, 1);
        assert_eq!(b.units.bottom_satisfaction[0].code, "U1");
    }

    #[test]
    fn html_escapes_names_and_has_only_the_templates_sections_in_order() {
        let template = Template {
            title_zh: "朝阳<区>日报 & 通报".into(),
            sections: vec![Section::HotSpots, Section::Totals],
            ..Template::default_for(BulletinKind::Daily)
        };
        let b = bulletin(
            &sample(),
            &tree(),
            &names(),
            &daily("2026-12-06"),
            &template,
        )
        .unwrap();
        let html = bulletin_html(&b);
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"zh-CN\">"));
        assert!(html.contains("&lt;b&gt;三里屯&amp;街道"));
        assert!(!html.contains("<b>三里屯"));
        assert!(html.contains("<h1>朝阳&lt;区&gt;日报 &amp; 通报</h1>"));
        let hot = html.find("id=\"hot_spots\"").unwrap();
        let totals = html.find("id=\"totals\"").unwrap();
        assert!(hot < totals);
        assert!(html.contains("<h2>一、热点区域问题</h2>"));
        assert!(html.contains("<h2>二、总体情况</h2>"));
        for s in Section::ALL {
            if !template.sections.contains(&s) {
                assert!(!html.contains(&format!("id=\"{}\"", s.as_str())), "{s:?}");
            }
        }
        assert!(!html.contains("<script"));
        assert_eq!(html.matches("<style>").count(), 1);
        assert!(html.contains("环比增长300.0%"));

        let sheets = bulletin_sheets(&b);
        let names: Vec<&str> = sheets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["热点区域", "总体情况"]);
        for s in &sheets {
            for r in &s.rows {
                assert_eq!(r.len(), s.header.len(), "{}", s.name);
            }
        }
    }

    #[test]
    fn every_section_renders_with_charts_and_sheets_have_full_rows() {
        let b = bulletin(
            &sample(),
            &tree(),
            &names(),
            &daily("2026-12-06"),
            &all_sections(1),
        )
        .unwrap();
        let html = bulletin_html(&b);
        for (i, s) in Section::ALL.iter().enumerate() {
            assert!(
                html.contains(&format!("<h2>{}、{}</h2>", zh_number(i + 1), s.label_zh())),
                "{s:?}"
            );
        }
        assert!(html.contains("<svg"));
        assert!(html.contains("区城管委"));
        let sheets = bulletin_sheets(&b);
        assert_eq!(
            sheets.len(),
            Section::ALL.len() + 1,
            "overdue has two sheets"
        );
        for s in &sheets {
            assert!(s.name.chars().count() <= 31);
            for r in &s.rows {
                assert_eq!(r.len(), s.header.len(), "{}", s.name);
            }
        }
    }

    #[test]
    fn topic_rows_become_the_last_sheet_and_a_table_in_the_topic_section() {
        let mut b = bulletin(
            &sample(),
            &tree(),
            &names(),
            &daily("2026-12-06"),
            &all_sections(1),
        )
        .unwrap();
        let before = bulletin_sheets(&b).len();
        b.monthly_topics = vec!["2026-11「小区充电桩」".into()];
        b.topic_rows = vec![TopicRow {
            topic_month: "2026-11".into(),
            theme: "小区充电桩".into(),
            problem: "充电桩安装难".into(),
            tasks_done: 570,
            tasks_total: 603,
            tasks_percent: 94.52,
            dispatched: 80,
            previous: 100,
            month_over_month: Some(-0.2),
            ..TopicRow::default()
        }];
        let sheets = bulletin_sheets(&b);
        assert_eq!(sheets.len(), before + 1);
        let s = sheets.last().unwrap();
        assert_eq!(s.name, "每月一题");
        assert_eq!(s.rows.len(), 1);
        assert_eq!(s.rows[0].len(), s.header.len());
        assert!(matches!(s.rows[0][6], Cell::Percent(x) if (x - 0.9452).abs() < 1e-12));
        assert_eq!(s.rows[0][11], Cell::Percent(-0.2));
        let html = bulletin_html(&b);
        let sec = &html[html.find("id=\"monthly_topics\"").unwrap()..];
        assert!(sec.contains("<caption>每月一题</caption>"), "{sec}");
        assert!(sec.contains("充电桩安装难"));
        assert!(sec.contains("94.5%"), "{sec}");
    }

    #[test]
    fn empty_facts_give_a_bulletin_without_nan() {
        let facts = TicketFacts::new();
        for kind in BulletinKind::ALL {
            let period = BulletinPeriod::last_complete(kind, d("2027-01-05"));
            let b = bulletin(
                &facts,
                &CategoryTree::default(),
                &HashMap::new(),
                &period,
                &all_sections(1),
            )
            .unwrap();
            assert_eq!(b.totals.count, 0);
            assert_eq!((b.totals.change, b.totals.yoy), (None, None));
            assert!(b.channels.is_empty() && b.risers.is_empty() && b.notable.is_empty());
            let html = bulletin_html(&b);
            let json = serde_json::to_string(&b).unwrap();
            for text in [&html, &json] {
                assert!(!text.contains("NaN"), "{kind}");
                assert!(!text.contains("inf"), "{kind}");
            }
            assert!(html.contains("无数据"));
            assert!(html.contains("上期无受理，不计环比"));
            for s in bulletin_sheets(&b) {
                for c in s.rows.iter().flatten() {
                    if let Cell::Percent(x) | Cell::Float(x) = c {
                        assert!(x.is_finite(), "{}", s.name);
                    }
                }
            }
        }
    }

    #[test]
    fn an_invalid_template_is_refused_by_bulletin_too() {
        let t = Template {
            top_n: 0,
            ..Template::default()
        };
        let e = bulletin(
            &TicketFacts::new(),
            &CategoryTree::default(),
            &HashMap::new(),
            &daily("2026-12-06"),
            &t,
        )
        .unwrap_err();
        assert!(e.to_string().contains("'top_n'"));
    }

    #[test]
    fn charts_clip_long_labels_and_never_draw_nan() {
        let bars = vec![
            Bar {
                label: "一个非常非常非常非常非常非常非常长的类别名称".into(),
                current: 0,
                previous: Some(0),
            },
            Bar {
                label: "<x>".into(),
                current: 12_345,
                previous: None,
            },
        ];
        let svg = svg_hbars("图", &bars);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert!(svg.contains('…'));
        assert!(svg.contains("&lt;x&gt;"));
        assert!(svg.contains("12,345"));
        assert!(svg_hbars("空", &[]).contains("无数据"));
    }
}
