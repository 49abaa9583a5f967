//! 数据分析 — the data platform's API: counts and rates grouped by one or two dimensions, time
//! series with month-over-month and year-over-year change, handling-time percentiles, the city
//! problem ledger (城市问题台账) and the tickets behind any figure. Answers come from the cached
//! columnar facts ([`FactsCache`]), brought up to date with the log before each query (only the
//! months with new events are read again). A unit manager sees the places and units under their
//! unit; the centre's roles see the whole city.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Query, State};
use axum::Json;
use chrono::{Datelike, Duration, NaiveDate};
use jiesu_analytics::query::{Dim, Engine, Filter, Measures, Percentiles, Scope};
use jiesu_analytics::{LocalMonth, TicketFacts};
use jiesu_domain::auth::Actor;
use jiesu_domain::capability::Capability;
use jiesu_store::{refresh_facts, FactsState};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Open tickets' overdue flags are read again after this long (they change with time alone).
const STALE_MINUTES: i64 = 10;

/// The facts the analytics routes read, kept in memory and refreshed from the log.
#[derive(Default)]
pub struct FactsCache {
    inner: RwLock<(TicketFacts, FactsState)>,
    /// Serialises refreshes (readers keep reading the old table meanwhile).
    refreshing: std::sync::Mutex<()>,
}

impl FactsCache {
    /// An empty cache (filled on first use).
    pub fn new() -> Self {
        FactsCache {
            inner: RwLock::new((TicketFacts::new(), FactsState::default())),
            refreshing: std::sync::Mutex::new(()),
        }
    }

    /// Brings the facts up to date and runs `f` on them.
    pub fn with<T>(&self, st: &AppState, f: impl FnOnce(&TicketFacts) -> T) -> ApiResult<T> {
        {
            let _one = self.refreshing.lock().unwrap_or_else(|e| e.into_inner());
            let now = st.now();
            // refresh on a copy of the state; the table itself is rebuilt under the write lock
            // only for the months that changed
            let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
            let (facts, state) = &mut *guard;
            // each month read is moved out of the server's heap into a mapped unnamed file
            // beside the database (`fact_spill`): a city's whole history stays readable without
            // living in the server's own memory
            refresh_facts(
                &**st.reads(),
                facts,
                state,
                &st.zone,
                now,
                Duration::minutes(STALE_MINUTES),
                Some(&jiesu_store::fact_spill::dir_for(st.store.path())),
            )?;
        }
        let guard = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let out = f(&guard.0);
        // the pages this query read leave the process (the page cache keeps them for the next)
        guard.0.release();
        Ok(out)
    }
}

/// Query parameters of the analytics routes: the period, the filters (each one code), and what
/// each route takes besides (`by`, `top`, `interval`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct AnalyticsQuery {
    /// First city day counted, YYYY-MM-DD (default: the first day of the month 12 months back).
    pub from: Option<String>,
    /// First city day not counted, YYYY-MM-DD (default: tomorrow).
    pub to: Option<String>,
    /// A district code.
    pub district: Option<String>,
    /// A street/town code.
    pub street: Option<String>,
    /// A category code at any level (its whole subtree).
    pub category: Option<String>,
    /// A channel (wire name).
    pub channel: Option<String>,
    /// A request type (wire name).
    #[serde(rename = "type")]
    pub request_type: Option<String>,
    /// The lead unit's code.
    pub unit: Option<String>,
    /// The lead unit's kind (wire name).
    pub unit_kind: Option<String>,
    /// `group`, `durations`: the dimensions, comma-separated (one or two; `durations`: one).
    pub by: Option<String>,
    /// `group`, `ledger`: keep the first N rows (1–1000); `group` sums the rest into `others`.
    pub top: Option<String>,
    /// `series`: `day`, `week` or `month` (default `month`).
    pub interval: Option<String>,
}

/// A dimension's value with its labels.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DimKey {
    /// The code (wire name, place/unit/category code, `YYYY-MM`, `YYYY-MM-DD`, `true`/`false`).
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
}

/// Which facts an answer counted.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Counted {
    /// First day counted.
    pub from: String,
    /// First day not counted.
    pub to: String,
    /// Tickets counted.
    pub tickets: u64,
    /// Monthly partitions read.
    pub months: usize,
}

/// Counts and rates of one group.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MeasuresView {
    /// Tickets.
    pub count: u64,
    /// Dispatched.
    pub dispatched: u64,
    /// Answered directly.
    pub answered_directly: u64,
    /// Lead late.
    pub overdue: u64,
    /// Still open.
    pub open: u64,
    /// Praise requests.
    pub praise: u64,
    /// 响应率 (0–1; null without a base).
    pub response_rate: Option<f64>,
    /// 解决率.
    pub resolution_rate: Option<f64>,
    /// 满意率.
    pub satisfaction_rate: Option<f64>,
}

impl From<&Measures> for MeasuresView {
    fn from(m: &Measures) -> Self {
        MeasuresView {
            count: m.count,
            dispatched: m.dispatched,
            answered_directly: m.answered_directly,
            overdue: m.overdue,
            open: m.open,
            praise: m.praise,
            response_rate: m.response_rate(),
            resolution_rate: m.resolution_rate(),
            satisfaction_rate: m.satisfaction_rate(),
        }
    }
}

/// One group of `GET /analytics/group`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GroupRow {
    /// One key per dimension.
    pub keys: Vec<DimKey>,
    /// Its figures.
    #[serde(flatten)]
    pub measures: MeasuresView,
    /// Districts: requests per 10,000 residents over the period (2020 census; null elsewhere).
    pub per_10k: Option<f64>,
    /// The UI link to the tickets behind the figure.
    pub drill: String,
}

/// `GET /analytics/group`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GroupView {
    /// What was counted.
    pub counted: Counted,
    /// The dimensions.
    pub by: Vec<String>,
    /// The groups.
    pub rows: Vec<GroupRow>,
    /// The groups past `top`, summed.
    pub others: Option<MeasuresView>,
    /// Everything counted.
    pub total: MeasuresView,
}

/// One point of a series.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SeriesPoint {
    /// `YYYY-MM` (month), or the first day `YYYY-MM-DD` (week: its Monday; day).
    pub period: String,
    /// The first day.
    pub start: String,
    /// Its figures.
    #[serde(flatten)]
    pub measures: MeasuresView,
    /// Change of the count against the previous period (ratio), if it had any.
    pub mom: Option<f64>,
    /// Change against the same period a year earlier (ratio), if it had any.
    pub yoy: Option<f64>,
    /// The UI link to the tickets.
    pub drill: String,
}

/// `GET /analytics/series`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SeriesView {
    /// What was counted.
    pub counted: Counted,
    /// `day`, `week` or `month`.
    pub interval: String,
    /// The points, oldest first (every period of the range, zero where nothing was counted).
    pub points: Vec<SeriesPoint>,
    /// Public holidays (法定节假日) in the range, from the working calendar.
    pub holidays: Vec<String>,
}

/// One row of `GET /analytics/durations`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DurationView {
    /// The group.
    pub keys: Vec<DimKey>,
    /// Dispatched tickets counted.
    pub n: u64,
    /// Hours from dispatch to 签收.
    pub sign: Percentiles,
    /// … to 响应.
    pub respond: Percentiles,
    /// … to 办结.
    pub finish: Percentiles,
}

/// `GET /analytics/durations`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DurationsView {
    /// What was counted.
    pub counted: Counted,
    /// The groups.
    pub rows: Vec<DurationView>,
}

/// One recurring problem of the ledger.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LedgerRow {
    /// The street/town.
    pub street: DimKey,
    /// The category (level 2).
    pub category: DimKey,
    /// Requests in the period.
    pub count: u64,
    /// In the period of the same length just before.
    pub previous: u64,
    /// Change against it (ratio), if it had any.
    pub change: Option<f64>,
    /// Still open.
    pub open: u64,
    /// The UI link to the tickets.
    pub drill: String,
}

/// `GET /analytics/ledger` — 城市问题台账.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LedgerView {
    /// What was counted.
    pub counted: Counted,
    /// Street × category, the biggest first.
    pub rows: Vec<LedgerRow>,
}

/// `GET /analytics/dimensions`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DimensionsView {
    /// Every dimension.
    pub dimensions: Vec<DimView>,
}

/// A dimension.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DimView {
    /// Wire name.
    pub name: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
}

/// `GET /analytics/tickets`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TicketsBehind {
    /// What was counted.
    pub counted: Counted,
    /// The first 200 ticket ids, newest first.
    pub ids: Vec<i64>,
}

/// The period and filters of a request, checked.
struct Asked {
    filter: Filter,
    from: NaiveDate,
    to: NaiveDate,
}

fn day(field: &str, s: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        ApiError::invalid(
            field,
            format!("'{s}' is not a day like 2026-11-01"),
            format!("“{s}”不是日期（例如 2026-11-01）"),
        )
    })
}

fn top(q: &AnalyticsQuery) -> ApiResult<Option<usize>> {
    q.top
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| match s.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(
                "top",
                format!("top must be a whole number from 1 to 1000, got '{s}'"),
                format!("top 须为 1 到 1000 的整数，收到“{s}”"),
            )),
        })
        .transpose()
}

/// The scope of a unit manager: their unit and every unit below it.
fn scope_of(st: &AppState, actor: &Actor) -> Option<Scope> {
    if !actor.role.is_unit() {
        return None;
    }
    let mut out: Vec<String> = actor.unit.clone().into_iter().collect();
    let mut i = 0;
    while i < out.len() {
        let kids: Vec<String> = st.org.children(&out[i]).map(|u| u.code.clone()).collect();
        out.extend(kids);
        i += 1;
    }
    Some(Scope {
        places: out.clone(),
        units: out,
    })
}

fn asked(st: &AppState, actor: &Actor, q: &AnalyticsQuery) -> ApiResult<Asked> {
    let today = st.today();
    let default_from = {
        let m = LocalMonth::of(today);
        LocalMonth {
            year: m.year - 1,
            month: m.month,
        }
        .first_day()
    };
    let from = match q.from.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => day("from", s)?,
        None => default_from,
    };
    let to = match q.to.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => day("to", s)?,
        None => today.succ_opt().unwrap_or(today),
    };
    if from >= to {
        return Err(ApiError::invalid(
            "to",
            format!("the period is empty: from {from} is not before to {to}"),
            format!("时间段为空：起始 {from} 不早于截止 {to}"),
        ));
    }
    if (to - from).num_days() > 366 * 10 {
        return Err(ApiError::invalid(
            "from",
            "a period spans at most ten years",
            "时间段最长十年",
        ));
    }
    let mut eq = Vec::new();
    let pairs = [
        (Dim::District, &q.district),
        (Dim::Street, &q.street),
        (Dim::Category, &q.category),
        (Dim::Channel, &q.channel),
        (Dim::Type, &q.request_type),
        (Dim::Unit, &q.unit),
        (Dim::UnitKind, &q.unit_kind),
    ];
    for (dim, v) in pairs {
        if let Some(v) = v.as_deref().filter(|s| !s.is_empty()) {
            eq.push((dim, v.to_string()));
        }
    }
    Ok(Asked {
        filter: Filter {
            from: Some(from),
            to: Some(to),
            eq,
            scope: scope_of(st, actor),
        },
        from,
        to,
    })
}

fn query_error(e: jiesu_analytics::QueryError) -> ApiError {
    use jiesu_analytics::QueryError as Q;
    match &e {
        Q::UnknownDim(d) => ApiError::invalid(
            "by",
            format!("unknown dimension '{d}'; see GET /api/v1/analytics/dimensions"),
            format!("未知维度“{d}”，可用维度见 GET /api/v1/analytics/dimensions"),
        ),
        Q::UnknownValue { dim, value } => {
            let field = match dim.as_str() {
                "category" | "category_l1" | "category_l2" => "category",
                "type" => "type",
                d => d,
            };
            ApiError::invalid(
                field,
                format!("unknown {dim} '{value}'"),
                format!(
                    "未知的{}“{value}”",
                    Dim::parse(dim).map(|d| d.label_zh()).unwrap_or(dim)
                ),
            )
        }
        Q::GroupArity(n) => ApiError::invalid(
            "by",
            format!("group by one or two dimensions, got {n}"),
            format!("分组维度须为一到两个，收到 {n} 个"),
        ),
        Q::EmptyPeriod { .. } => ApiError::invalid("to", e.to_string(), "时间段为空"),
    }
}

fn dims(s: Option<&str>) -> ApiResult<Vec<Dim>> {
    let s = s.unwrap_or("").trim();
    if s.is_empty() {
        return Err(ApiError::invalid(
            "by",
            "name one or two dimensions to group by, e.g. by=district or by=district,category_l1",
            "请指定一到两个分组维度，例如 by=district 或 by=district,category_l1",
        ));
    }
    s.split(',')
        .map(|d| {
            Dim::parse(d.trim())
                .ok_or_else(|| query_error(jiesu_analytics::QueryError::UnknownDim(d.to_string())))
        })
        .collect()
}

fn lz(l: Option<&str>, code: &str) -> String {
    l.unwrap_or(code).to_string()
}

/// Labels of a dimension's value.
fn label(st: &AppState, engine: &Engine, dim: Dim, code: &str) -> DimKey {
    use jiesu_domain::ticket::*;
    let (zh, en): (String, String) = match dim {
        _ if code.is_empty() => ("（无）".into(), "(none)".into()),
        Dim::CategoryL1 | Dim::CategoryL2 | Dim::Category => {
            let n = engine
                .tree()
                .get(code)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| code.to_string());
            (n.clone(), n)
        }
        Dim::District | Dim::Street | Dim::Community | Dim::Unit => {
            let n = st
                .org
                .get(code)
                .map(|u| u.name.clone())
                .unwrap_or_else(|| code.to_string());
            (n.clone(), n)
        }
        Dim::Channel => (
            lz(Channel::parse(code).map(Channel::label_zh), code),
            code.into(),
        ),
        Dim::Type => (
            lz(RequestType::parse(code).map(RequestType::label_zh), code),
            code.into(),
        ),
        Dim::Tier => (
            lz(DeadlineTier::parse(code).map(DeadlineTier::label_zh), code),
            code.into(),
        ),
        Dim::Status => (
            jiesu_domain::state::Status::label_zh_of(code).into(),
            code.into(),
        ),
        Dim::Resolved => (
            lz(Resolution::parse(code).map(Resolution::label_zh), code),
            code.into(),
        ),
        Dim::Satisfied => (
            lz(Satisfaction::parse(code).map(Satisfaction::label_zh), code),
            code.into(),
        ),
        Dim::UnitKind => (
            jiesu_domain::org::UnitKind::parse(code)
                .map(|k| k.label_zh().to_string())
                .unwrap_or_else(|| code.to_string()),
            code.replace('_', " "),
        ),
        Dim::Domain => (
            jiesu_domain::category::LivelihoodDomain::ALL
                .iter()
                .find(|d| d.as_str() == code)
                .map(|d| d.label_zh().to_string())
                .unwrap_or_else(|| code.to_string()),
            code.replace('_', " "),
        ),
        Dim::Weekday => {
            let i: usize = code.parse().unwrap_or(1);
            let zh = ["一", "二", "三", "四", "五", "六", "日"];
            let en = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            (
                format!("星期{}", zh.get(i - 1).unwrap_or(&"?")),
                en.get(i - 1).unwrap_or(&"?").to_string(),
            )
        }
        Dim::MonthOfYear => (format!("{}月", code.trim_start_matches('0')), code.into()),
        Dim::Hour => (format!("{code}时"), format!("{code}:00")),
        Dim::Contacted
        | Dim::Dispatched
        | Dim::AnsweredDirectly
        | Dim::Enterprise
        | Dim::Overdue
        | Dim::Returned
        | Dim::Reopened => {
            if code == "true" {
                ("是".into(), "yes".into())
            } else {
                ("否".into(), "no".into())
            }
        }
        Dim::Year | Dim::Month | Dim::Week | Dim::Day => (code.into(), code.into()),
    };
    DimKey {
        code: code.to_string(),
        label_zh: zh,
        label_en: en,
    }
}

/// The `#/tickets` link of a filter plus group keys (the ticket list's filters: district,
/// street, category, from, to, status, overdue).
fn drill(a: &Asked, keys: &[(Dim, String)]) -> String {
    let mut q: Vec<(String, String)> = Vec::new();
    let (mut from, mut to) = (a.from, a.to);
    for (dim, v) in a.filter.eq.iter().chain(keys.iter()) {
        let (d, v) = (*dim, v.as_str());
        match d {
            Dim::District => q.push(("district".into(), v.into())),
            Dim::Street => q.push(("street".into(), v.into())),
            // a row's own channel or type replaces the filter's (they are the same or the row
            // would not be there)
            Dim::Channel | Dim::Type => {
                let k = if d == Dim::Channel { "channel" } else { "type" };
                q.retain(|(name, _)| name != k);
                q.push((k.into(), v.into()));
            }
            Dim::Category | Dim::CategoryL1 | Dim::CategoryL2 => {
                q.retain(|(k, _)| k != "category");
                q.push(("category".into(), v.into()));
            }
            Dim::Overdue if v == "true" => q.push(("overdue".into(), "true".into())),
            Dim::Status => q.push(("status".into(), v.into())),
            Dim::Unit => q.push(("unit".into(), v.into())),
            Dim::Day => {
                if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                    from = from.max(d);
                    to = to.min(d.succ_opt().unwrap_or(d));
                }
            }
            Dim::Week => {
                if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                    from = from.max(d);
                    to = to.min(d + Duration::days(7));
                }
            }
            Dim::Month => {
                if let Some(m) = LocalMonth::parse(v) {
                    from = from.max(m.first_day());
                    to = to.min(m.next().first_day());
                }
            }
            Dim::Year => {
                if let Ok(y) = v.parse::<i32>() {
                    if let (Some(a), Some(b)) = (
                        NaiveDate::from_ymd_opt(y, 1, 1),
                        NaiveDate::from_ymd_opt(y + 1, 1, 1),
                    ) {
                        from = from.max(a);
                        to = to.min(b);
                    }
                }
            }
            _ => {}
        }
    }
    q.push(("from".into(), from.to_string()));
    // the ticket list's `to` is inclusive of its day
    q.push(("to".into(), to.pred_opt().unwrap_or(to).to_string()));
    let s: Vec<String> = q
        .into_iter()
        .map(|(k, v)| format!("{k}={}", urlencode(&v)))
        .collect();
    format!("#/tickets?{}", s.join("&"))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn counted(a: &Asked, tickets: u64, months: usize) -> Counted {
    Counted {
        from: a.from.to_string(),
        to: a.to.to_string(),
        tickets,
        months,
    }
}

fn population() -> &'static HashMap<String, u64> {
    static P: std::sync::OnceLock<HashMap<String, u64>> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        jiesu_refdata::divisions::districts()
            .iter()
            .map(|d| (d.code.clone(), d.population))
            .collect()
    })
}

async fn run<T: Send + 'static>(
    st: AppState,
    f: impl FnOnce(&AppState, &TicketFacts) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(move || {
        let cache = st.analytics.clone();
        cache.with(&st, |facts| f(&st, facts))?
    })
    .await?
}

/// `GET /api/v1/analytics/dimensions`.
pub async fn dimensions(Caller(actor): Caller) -> ApiResult<Json<DimensionsView>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    Ok(Json(DimensionsView {
        dimensions: Dim::ALL
            .iter()
            .map(|d| DimView {
                name: d.as_str().into(),
                label_zh: d.label_zh().into(),
                label_en: d.label_en().into(),
            })
            .collect(),
    }))
}

/// `GET /api/v1/analytics/group`.
pub async fn group(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<AnalyticsQuery>,
) -> ApiResult<Json<GroupView>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let by = dims(q.by.as_deref())?;
    let top = top(&q)?;
    let a = asked(&st, &actor, &q)?;
    run(st, move |st, facts| {
        let engine = Engine::new(facts, &st.categories);
        let mut g = engine.group(&by, &a.filter).map_err(query_error)?;
        let others = top.and_then(|n| g.top(n)).map(|m| MeasuresView::from(&m));
        let days = (a.to - a.from).num_days().max(1);
        let rows = g
            .rows
            .iter()
            .map(|r| {
                let keys: Vec<(Dim, String)> =
                    by.iter().copied().zip(r.key.iter().cloned()).collect();
                let per_10k = (by == [Dim::District])
                    .then(|| population().get(&r.key[0]))
                    .flatten()
                    .filter(|p| **p > 0)
                    .map(|p| r.measures.count as f64 * 10_000.0 / *p as f64);
                let _ = days;
                GroupRow {
                    keys: keys
                        .iter()
                        .map(|(d, c)| label(st, &engine, *d, c))
                        .collect(),
                    measures: MeasuresView::from(&r.measures),
                    per_10k,
                    drill: drill(&a, &keys),
                }
            })
            .collect();
        Ok(Json(GroupView {
            counted: counted(&a, g.total.count, g.months),
            by: by.iter().map(|d| d.as_str().to_string()).collect(),
            rows,
            others,
            total: MeasuresView::from(&g.total),
        }))
    })
    .await
}

/// The first day of the period that holds `d`.
fn period_start(interval: Dim, d: NaiveDate) -> NaiveDate {
    match interval {
        Dim::Month => d.with_day(1).unwrap_or(d),
        Dim::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
        _ => d,
    }
}

fn next_period(interval: Dim, d: NaiveDate) -> NaiveDate {
    match interval {
        Dim::Month => LocalMonth::of(d).next().first_day(),
        Dim::Week => d + Duration::days(7),
        _ => d.succ_opt().unwrap_or(d),
    }
}

fn same_period_last_year(interval: Dim, d: NaiveDate) -> NaiveDate {
    match interval {
        // the same ISO week a year earlier: 52 weeks back
        Dim::Week => d - Duration::days(364),
        _ => d
            .with_year(d.year() - 1)
            .unwrap_or_else(|| d - Duration::days(365)),
    }
}

fn change(now: u64, before: Option<u64>) -> Option<f64> {
    before
        .filter(|b| *b > 0)
        .map(|b| now as f64 / b as f64 - 1.0)
}

/// `GET /api/v1/analytics/series`.
pub async fn series(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<AnalyticsQuery>,
) -> ApiResult<Json<SeriesView>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let interval = match q.interval.as_deref().unwrap_or("month") {
        "month" | "" => Dim::Month,
        "week" => Dim::Week,
        "day" => Dim::Day,
        other => {
            return Err(ApiError::invalid(
                "interval",
                format!("interval is day, week or month, got '{other}'"),
                format!("interval 须为 day、week 或 month，收到“{other}”"),
            ))
        }
    };
    let a = asked(&st, &actor, &q)?;
    if interval == Dim::Day && (a.to - a.from).num_days() > 800 {
        return Err(ApiError::invalid(
            "interval",
            "a daily series spans at most 800 days; ask for weeks or months",
            "按日的序列最长 800 天，请按周或按月查询",
        ));
    }
    run(st, move |st, facts| {
        let engine = Engine::new(facts, &st.categories);
        // the year before too, for the year-over-year change
        let first = period_start(interval, a.from);
        let mut wide = a.filter.clone();
        wide.from = Some(same_period_last_year(interval, first).min(first));
        let g = engine.group(&[interval], &wide).map_err(query_error)?;
        let by_key: HashMap<&str, &Measures> = g
            .rows
            .iter()
            .map(|r| (r.key[0].as_str(), &r.measures))
            .collect();
        let key_of = |d: NaiveDate| match interval {
            Dim::Month => LocalMonth::of(d).key(),
            _ => d.to_string(),
        };
        let count_at = |d: NaiveDate| by_key.get(key_of(d).as_str()).map(|m| m.count);
        let mut points = Vec::new();
        let mut d = first;
        let mut total = 0;
        let mut prev: Option<u64> = None;
        while d < a.to {
            let k = key_of(d);
            let m = by_key.get(k.as_str()).copied().copied().unwrap_or_default();
            total += m.count;
            let before = prev
                .or_else(|| count_at(period_start(interval, d - Duration::days(1))).or(Some(0)));
            let keys = [(interval, k.clone())];
            points.push(SeriesPoint {
                period: k,
                start: d.to_string(),
                measures: MeasuresView::from(&m),
                mom: change(m.count, before),
                yoy: change(m.count, count_at(same_period_last_year(interval, d))),
                drill: drill(&a, &keys),
            });
            prev = Some(m.count);
            d = next_period(interval, d);
        }
        let holidays = st
            .deadlines
            .calendar
            .holidays
            .range(a.from..a.to)
            .map(|d| d.to_string())
            .collect();
        Ok(Json(SeriesView {
            counted: counted(&a, total, g.months),
            interval: interval.as_str().to_string(),
            points,
            holidays,
        }))
    })
    .await
}

/// `GET /api/v1/analytics/durations`.
pub async fn durations(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<AnalyticsQuery>,
) -> ApiResult<Json<DurationsView>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let by = dims(q.by.as_deref().or(Some("unit_kind")))?;
    if by.len() != 1 {
        return Err(ApiError::invalid(
            "by",
            "durations are grouped by one dimension",
            "办理时长只能按一个维度分组",
        ));
    }
    let a = asked(&st, &actor, &q)?;
    run(st, move |st, facts| {
        let engine = Engine::new(facts, &st.categories);
        let rows = engine.durations(by[0], &a.filter).map_err(query_error)?;
        let n = rows.iter().map(|r| r.n).sum();
        Ok(Json(DurationsView {
            counted: counted(&a, n, facts.partitions.len()),
            rows: rows
                .into_iter()
                .map(|r| DurationView {
                    keys: vec![label(st, &engine, by[0], &r.key)],
                    n: r.n,
                    sign: r.sign,
                    respond: r.respond,
                    finish: r.finish,
                })
                .collect(),
        }))
    })
    .await
}

/// `GET /api/v1/analytics/ledger` — recurring problems by street × category (level 2).
pub async fn ledger(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<AnalyticsQuery>,
) -> ApiResult<Json<LedgerView>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let top = top(&q)?.unwrap_or(50);
    let a = asked(&st, &actor, &q)?;
    run(st, move |st, facts| {
        let engine = Engine::new(facts, &st.categories);
        let by = [Dim::Street, Dim::CategoryL2];
        let now = engine.group(&by, &a.filter).map_err(query_error)?;
        let span = a.to - a.from;
        let mut before = a.filter.clone();
        before.from = Some(a.from - span);
        before.to = Some(a.from);
        let prev = engine.group(&by, &before).map_err(query_error)?;
        let prev: HashMap<&Vec<String>, u64> = prev
            .rows
            .iter()
            .map(|r| (&r.key, r.measures.count))
            .collect();
        let rows = now
            .rows
            .iter()
            .filter(|r| !r.key[0].is_empty() && !r.key[1].is_empty())
            .take(top)
            .map(|r| {
                let p = prev.get(&r.key).copied().unwrap_or(0);
                let keys = [
                    (Dim::Street, r.key[0].clone()),
                    (Dim::CategoryL2, r.key[1].clone()),
                ];
                LedgerRow {
                    street: label(st, &engine, Dim::Street, &r.key[0]),
                    category: label(st, &engine, Dim::CategoryL2, &r.key[1]),
                    count: r.measures.count,
                    previous: p,
                    change: change(r.measures.count, Some(p)),
                    open: r.measures.open,
                    drill: drill(&a, &keys),
                }
            })
            .collect();
        Ok(Json(LedgerView {
            counted: counted(&a, now.total.count, now.months),
            rows,
        }))
    })
    .await
}

/// `GET /api/v1/analytics/tickets` — the ids of the tickets behind a figure (newest first, 200 at
/// most; the count is exact).
pub async fn tickets(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<AnalyticsQuery>,
) -> ApiResult<Json<TicketsBehind>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let a = asked(&st, &actor, &q)?;
    run(st, move |st, facts| {
        let engine = Engine::new(facts, &st.categories);
        let (ids, n) = engine.ticket_ids(&a.filter, 200).map_err(query_error)?;
        Ok(Json(TicketsBehind {
            counted: counted(&a, n, facts.partitions.len()),
            ids,
        }))
    })
    .await
}

/// Shared with the CLI: the cache, for a caller that has an `AppState`.
pub fn new_cache() -> Arc<FactsCache> {
    Arc::new(FactsCache::new())
}

/// Cells below this count are suppressed in the open-data view (开放数据: small counts could
/// single out a requester); their rates too.
pub const OPEN_DATA_MIN_CELL: u64 = 10;

/// The dimensions the open-data view may group by: time, channel, type, category and place down
/// to the street (never a community, a unit or a ticket's handling flags).
pub const OPEN_DATA_DIMS: &[Dim] = &[
    Dim::Year,
    Dim::Month,
    Dim::MonthOfYear,
    Dim::Channel,
    Dim::Type,
    Dim::CategoryL1,
    Dim::CategoryL2,
    Dim::Domain,
    Dim::District,
    Dim::Street,
];

/// One open-data cell.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OpenDataRow {
    /// One key per dimension.
    pub keys: Vec<DimKey>,
    /// Tickets (null when suppressed).
    pub count: Option<u64>,
    /// Whether the cell is below the threshold and its figures are withheld.
    pub suppressed: bool,
    /// 解决率 (null when suppressed or without callbacks).
    pub resolution_rate: Option<f64>,
    /// 满意率.
    pub satisfaction_rate: Option<f64>,
}

/// `GET /api/v1/public/analytics/group` — the open-data view.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OpenDataView {
    /// What was counted (the total is rounded down to tens).
    pub counted: Counted,
    /// The dimensions.
    pub by: Vec<String>,
    /// The cells.
    pub rows: Vec<OpenDataRow>,
    /// Cells below this count are suppressed.
    pub min_cell: u64,
}

/// `GET /api/v1/public/analytics/group` — counts by one or two of the open dimensions for anyone,
/// with small cells suppressed; only the period and the district, street, category, channel and
/// type filters apply. Limited per client address (`open_data_per_hour`): 429 with `Retry-After`.
pub async fn public_group(
    State(st): State<AppState>,
    addr: crate::limits::ClientAddr,
    Query(mut q): Query<AnalyticsQuery>,
) -> ApiResult<Json<OpenDataView>> {
    crate::limits::per_address(
        &st,
        addr,
        "open_data",
        st.limiter.limits.open_data_per_hour,
        "too many open-data queries from your address",
        "您所在地址查询开放数据过于频繁",
    )?;
    let by = dims(q.by.as_deref())?;
    if let Some(d) = by.iter().find(|d| !OPEN_DATA_DIMS.contains(d)) {
        return Err(ApiError::invalid(
            "by",
            format!(
                "'{}' is not an open-data dimension; use one of {}",
                d.as_str(),
                OPEN_DATA_DIMS
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!("“{}”不属于开放数据维度", d.label_zh()),
        ));
    }
    q.unit = None;
    q.unit_kind = None;
    let anonymous = Actor {
        user: String::new(),
        role: jiesu_domain::Role::Agent,
        unit: None,
    };
    let a = asked(&st, &anonymous, &q)?;
    run(st, move |st, facts| {
        let engine = Engine::new(facts, &st.categories);
        let g = engine.group(&by, &a.filter).map_err(query_error)?;
        let rows = g
            .rows
            .iter()
            .filter(|r| r.key.iter().all(|k| !k.is_empty()))
            .map(|r| {
                let small = r.measures.count < OPEN_DATA_MIN_CELL;
                let base_small = r.measures.valid_callbacks < OPEN_DATA_MIN_CELL;
                OpenDataRow {
                    keys: by
                        .iter()
                        .zip(&r.key)
                        .map(|(d, c)| label(st, &engine, *d, c))
                        .collect(),
                    count: (!small).then_some(r.measures.count),
                    suppressed: small,
                    resolution_rate: (!small && !base_small)
                        .then(|| r.measures.resolution_rate())
                        .flatten(),
                    satisfaction_rate: (!small && !base_small)
                        .then(|| r.measures.satisfaction_rate())
                        .flatten(),
                }
            })
            .collect();
        Ok(Json(OpenDataView {
            counted: counted(&a, g.total.count / 10 * 10, g.months),
            by: by.iter().map(|d| d.as_str().to_string()).collect(),
            rows,
            min_cell: OPEN_DATA_MIN_CELL,
        }))
    })
    .await
}

/// The meta key of the city's own boundaries (GeoJSON), loaded by an admin.
const GEOJSON_KEY: &str = "analytics_geojson";

/// What `PUT /analytics/geojson` stored.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GeoJsonLoaded {
    /// Features kept.
    pub features: usize,
    /// How many are districts and how many streets/towns.
    pub districts: usize,
    /// Streets/towns.
    pub streets: usize,
}

/// Checks a GeoJSON FeatureCollection of the city's districts or streets: every feature a
/// (Multi)Polygon whose `properties.code` is a district or street code of the city. Answers the
/// counts, or the first problems, each naming the feature.
pub fn check_geojson(st: &AppState, v: &serde_json::Value) -> Result<GeoJsonLoaded, Vec<String>> {
    use jiesu_domain::org::UnitKind;
    let mut bad = Vec::new();
    if v["type"] != "FeatureCollection" {
        return Err(vec![
            "the document is not a GeoJSON FeatureCollection (type)".into(),
        ]);
    }
    let Some(features) = v["features"].as_array().filter(|f| !f.is_empty()) else {
        return Err(vec!["the FeatureCollection has no features".into()]);
    };
    let (mut districts, mut streets) = (0, 0);
    for (i, f) in features.iter().enumerate() {
        let geom = f["geometry"]["type"].as_str().unwrap_or("");
        if !matches!(geom, "Polygon" | "MultiPolygon") {
            bad.push(format!(
                "features[{i}].geometry: a Polygon or MultiPolygon is needed, not '{geom}'"
            ));
        }
        let code = f["properties"]["code"]
            .as_str()
            .map(str::to_string)
            .or_else(|| f["properties"]["code"].as_u64().map(|c| c.to_string()));
        match code.as_deref().and_then(|c| st.org.get(c)) {
            Some(u) if u.kind == UnitKind::District => districts += 1,
            Some(u) if u.kind == UnitKind::StreetTown => streets += 1,
            _ => bad.push(format!(
                "features[{i}].properties.code: '{}' is not a district or street code of this city",
                code.unwrap_or_default()
            )),
        }
        if bad.len() >= 10 {
            break;
        }
    }
    if bad.is_empty() {
        Ok(GeoJsonLoaded {
            features: features.len(),
            districts,
            streets,
        })
    } else {
        Err(bad)
    }
}

/// `PUT /api/v1/analytics/geojson` — the city's own district or street boundaries, so the
/// dashboard's map shows them; refused whole (422 naming the features) if any feature lacks a
/// polygon or a code of the city.
pub async fn put_geojson(
    State(st): State<AppState>,
    Caller(actor): Caller,
    body: crate::json::Json<serde_json::Value>,
) -> ApiResult<Json<GeoJsonLoaded>> {
    crate::auth::require(&actor, Capability::ReferenceManage)?;
    let v = body.0;
    let loaded = check_geojson(&st, &v).map_err(|problems| {
        ApiError::invalid(
            "features",
            format!("the GeoJSON is refused: {}", problems.join("; ")),
            format!("边界数据未保存：{}", problems.join("；")),
        )
    })?;
    let s2 = st.clone();
    let text = v.to_string();
    tokio::task::spawn_blocking(move || s2.store.set_meta(GEOJSON_KEY, &text)).await??;
    Ok(Json(loaded))
}

/// `GET /api/v1/analytics/geojson` — the city's boundaries as loaded (404 when none: the
/// dashboard then draws its district grid).
pub async fn get_geojson(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<serde_json::Value>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let s2 = st.clone();
    let text = tokio::task::spawn_blocking(move || s2.store.meta(GEOJSON_KEY))
        .await??
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(serde_json::from_str(&text).map_err(|e| {
        ApiError::internal(format!("stored GeoJSON: {e}"))
    })?))
}
