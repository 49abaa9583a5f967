//! 季节性预判 — next month's expected volume per district × category with its range, the
//! backtest that measures the method on the last complete month, and the 冬病夏治 list of streets
//! that peaked in a rising category's season last year (`jiesu_governance::foresight` over the
//! data platform's facts).

use crate::auth::{require, Caller};
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Query, State};
use axum::Json;
use jiesu_analytics::LocalMonth;
use jiesu_domain::auth::Role;
use jiesu_domain::capability::Capability;
use jiesu_governance::foresight::{
    backtest, forecast, monthly, next_month, seasonal_hotspots, Backtest,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `GET /api/v1/governance/foresight` query.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ForesightQuery {
    /// The month to foresee, YYYY-MM (default: next month in city time).
    pub month: Option<String>,
    /// Only this district's cells.
    pub district: Option<String>,
}

/// The answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ForesightView {
    /// The month foreseen.
    pub month: String,
    /// The last complete month the forecast stands on.
    pub based_on: String,
    /// The method in one sentence (Chinese).
    pub method: String,
    /// The same method on the last complete month, from the months before it.
    pub backtest: Option<BacktestView>,
    /// District × category, most expected first.
    pub cells: Vec<ForesightCell>,
    /// 冬病夏治: for the categories in season, the streets that peaked last year.
    pub hotspots: Vec<HotspotView>,
}

/// The backtest.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BacktestView {
    pub month: String,
    /// Cells with at least 20 requests that month.
    pub cells: usize,
    /// Median absolute percentage error.
    pub median_ape: f64,
    /// Share of cells inside the 80 % range.
    pub coverage: f64,
}

impl From<Backtest> for BacktestView {
    fn from(b: Backtest) -> Self {
        BacktestView {
            month: b.month,
            cells: b.cells,
            median_ape: b.median_ape,
            coverage: b.coverage,
        }
    }
}

/// One cell's forecast.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ForesightCell {
    pub district: String,
    pub district_name: String,
    pub category: String,
    pub category_name: String,
    /// Requests expected.
    pub expected: f64,
    /// 80 % range.
    pub low: f64,
    pub high: f64,
    /// The same month last year.
    pub last_year: Option<u32>,
    /// The last complete month.
    pub recent: u32,
    /// The category's seasonal index of the month (>1: in season).
    pub season: f64,
}

/// A category in season with the streets that peaked last year.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HotspotView {
    pub category: String,
    pub category_name: String,
    pub season: f64,
    pub streets: Vec<HotspotStreet>,
}

/// A street and its count in the same month last year.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HotspotStreet {
    pub code: String,
    pub name: String,
    pub last_year: u32,
}

/// `GET /api/v1/governance/foresight`.
pub async fn foresight(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ForesightQuery>,
) -> ApiResult<Json<ForesightView>> {
    require(&actor, Capability::Analytics)?;
    let today = st.zone.date(st.now());
    let target = match q.month.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => LocalMonth::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "month",
                format!("'{s}' is not a month (YYYY-MM)"),
                "月份格式应为 YYYY-MM",
            )
        })?,
        None => next_month(today),
    };
    let current = LocalMonth::of(today);
    if target <= current {
        return Err(ApiError::invalid(
            "month",
            format!(
                "{} is not in the future: foresee a month after {}",
                target.key(),
                current.key()
            ),
            format!(
                "{} 不是未来月份，请选择 {} 之后的月份",
                target.key(),
                current.key()
            ),
        ));
    }
    if let Some(d) = q.district.as_deref().filter(|s| !s.is_empty()) {
        if st.org.get(d).is_none() {
            return Err(ApiError::invalid(
                "district",
                format!("unknown district `{d}`"),
                format!("未知的区 `{d}`"),
            ));
        }
    }
    // a unit manager sees their own district's cells
    let scope = match actor.role {
        Role::UnitManager => actor
            .unit
            .as_deref()
            .and_then(|u| st.org.district_of(u))
            .map(|d| d.code.clone())
            .or(Some(String::new())),
        _ => None,
    };
    let district = q.district.clone().filter(|s| !s.is_empty());
    let tree = st.categories.clone();
    let (m, last) = st.analytics.with(&st, |facts| {
        let m = monthly(facts, &tree);
        // the last complete month: the one before the current month
        let last = m.months.iter().rposition(|x| *x < current);
        (m, last)
    })?;
    let name = |code: &str| {
        st.org
            .get(code)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let Some(last) = last else {
        return Ok(Json(ForesightView {
            month: target.key(),
            based_on: String::new(),
            method: METHOD.into(),
            backtest: None,
            cells: Vec::new(),
            hotspots: Vec::new(),
        }));
    };
    let keep = |d: &str| {
        scope.as_deref().is_none_or(|s| s == d) && district.as_deref().is_none_or(|x| x == d)
    };
    let cells = forecast(&m, last, target)
        .into_iter()
        .filter(|c| keep(&c.district))
        .map(|c| ForesightCell {
            district_name: name(&c.district),
            category_name: tree.path_label(&c.category),
            district: c.district,
            category: c.category,
            expected: c.expected,
            low: c.low,
            high: c.high,
            last_year: c.last_year,
            recent: c.recent,
            season: c.season,
        })
        .collect();
    let hotspots = seasonal_hotspots(&m, last, target, 1.15, 50)
        .into_iter()
        .map(|h| HotspotView {
            category_name: tree.path_label(&h.category),
            category: h.category,
            season: h.season,
            streets: h
                .streets
                .into_iter()
                .filter(|(s, _)| st.org.district_of(s).is_some_and(|d| keep(&d.code)))
                .take(10)
                .map(|(s, n)| HotspotStreet {
                    name: name(&s),
                    code: s,
                    last_year: n,
                })
                .collect(),
        })
        .filter(|h| !h.streets.is_empty())
        .collect();
    Ok(Json(ForesightView {
        month: target.key(),
        based_on: m.months[last].key(),
        method: METHOD.into(),
        backtest: backtest(&m, last).map(BacktestView::from),
        cells,
        hotspots,
    }))
}

const METHOD: &str = "预期量 = 近三个完整月的去季节水平 × 该类别该月的季节指数（最近一年该月 ÷ 其所在 12 个月的月均）；区间为 80%（泊松波动加 15% 模型误差）。";
