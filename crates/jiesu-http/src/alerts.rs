//! 未诉先办 预警 — the early-warning pass and the alerts it raises. The pass (every few minutes
//! beside the scheduler, and when a test clock moves) scores every cell (place × category) for
//! yesterday and today with `jiesu_governance`'s detector over the data platform's facts, and
//! raises an alert for each cell-day at or above the policy's threshold, addressed to the
//! responsible unit (the street for street and community cells, the district for district cells,
//! the centre for city-wide ones) and its district. Units acknowledge, handle or dismiss them
//! (`jiesu_governance::alert::transition` decides); every step is stored; webhooks receive new
//! alerts through the outbox; the inbox lists a unit's open ones.

use crate::auth::{require, Caller};
use crate::error::{ApiError, ApiResult};
use crate::json::Json as JsonBody;
use crate::paging::Paging;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use jiesu_domain::auth::{Actor, Role};
use jiesu_domain::capability::Capability;
use jiesu_governance::alert::{
    alarms_on, transition, useful_rate, AlertAction, AlertError, AlertPolicy, AlertStatus,
};
use jiesu_governance::warn::{DayFactors, DayKind, Detector, DetectorParams};
use jiesu_store::{AlertFilter, AlertRow, AlertStep};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How often the pass runs at most (the scheduler ticks every 30 s).
const PASS_EVERY_MINUTES: i64 = 5;
/// Days of history read for a pass: the detector's warm-up and a margin.
const HISTORY_DAYS: i64 = 130;
/// Tickets listed behind one alert at most.
const MAX_TICKETS: usize = 200;

/// The early-warning pass at `now`: raises the alerts of yesterday and today (city days) not yet
/// raised; returns how many. Skipped when it ran less than 5 minutes ago (`force` runs anyway).
pub fn warn_pass(st: &AppState, now: DateTime<Utc>, force: bool) -> ApiResult<usize> {
    if st.store.analytics_watermark()?.is_none() {
        return Ok(0);
    }
    if !force {
        let last = st
            .store
            .meta("warn_last_pass")?
            .and_then(|s| jiesu_store::time::parse(&s));
        if last.is_some_and(|l| now >= l && now - l < Duration::minutes(PASS_EVERY_MINUTES)) {
            return Ok(0);
        }
    }
    let today = st.zone.date(now);
    let from = today - Duration::days(HISTORY_DAYS);
    let to = today + Duration::days(1);
    let tree = st.categories.clone();
    let calendar = st.deadlines.calendar.clone();
    let rows: Vec<AlertRow> = st.analytics.with(st, |facts| {
        let (dates, cells, totals) =
            jiesu_governance::cells::cell_series(facts, &tree, Some(from), Some(to));
        if dates.is_empty() {
            return Vec::new();
        }
        let kinds: Vec<DayKind> = dates.iter().map(|d| DayKind::of(&calendar, *d)).collect();
        let n = dates.len();
        let detector = Detector {
            params: DetectorParams::default(),
            // the day factors from the history before today (today is partial)
            factors: DayFactors::estimate(&totals, &kinds, 0..n - 1),
        };
        let policy = AlertPolicy::default();
        let mut rows = Vec::new();
        for t in [n.saturating_sub(2), n - 1] {
            for c in alarms_on(&cells, &kinds, &detector, &policy, t) {
                let cell = &cells[c.cell];
                let (unit, district) = owner(st, &cell.level, &cell.place);
                let first = dates[t + 1 - c.explained.window_days];
                let ids = jiesu_governance::cells::tickets_of(
                    facts,
                    &tree,
                    cell,
                    first,
                    dates[t] + Duration::days(1),
                    MAX_TICKETS,
                );
                rows.push(AlertRow {
                    id: 0,
                    day: dates[t],
                    level: cell.level.clone(),
                    place: cell.place.clone(),
                    category: cell.category.clone(),
                    score: (c.explained.score * 100.0).round() / 100.0,
                    observed: c.explained.observed,
                    expected: (c.explained.expected * 100.0).round() / 100.0,
                    window_days: c.explained.window_days as u32,
                    unit,
                    district,
                    tickets: ids,
                    status: AlertStatus::Open.as_str().into(),
                    created_at: now,
                    detail: None,
                });
            }
        }
        rows
    })?;
    st.store
        .set_meta("warn_last_pass", &jiesu_store::time::fmt(now))?;
    let mut raised = 0;
    for row in rows {
        if st.store.raise_alert(row)?.is_some() {
            raised += 1;
        }
    }
    Ok(raised)
}

/// The unit responsible for a cell and its district: a street cell's street, a community
/// cell's street (the community's parent), a district cell's district; "" (the centre) for the
/// whole city.
fn owner(st: &AppState, level: &str, place: &str) -> (String, String) {
    if place.is_empty() {
        return (String::new(), String::new());
    }
    let district = st
        .org
        .district_of(place)
        .map(|u| u.code.clone())
        .unwrap_or_default();
    let unit = if level.starts_with("community") {
        st.org
            .get(place)
            .and_then(|u| u.parent.clone())
            .unwrap_or_else(|| place.to_string())
    } else {
        place.to_string()
    };
    (unit, district)
}

/// The units whose alerts an actor sees: `None` for the centre (all), else the actor's unit and
/// the units below it.
fn scope(st: &AppState, actor: &Actor) -> Option<Vec<String>> {
    if matches!(
        actor.role,
        Role::Dispatcher | Role::Supervisor | Role::Admin | Role::System
    ) {
        return None;
    }
    let Some(u) = &actor.unit else {
        return Some(Vec::new());
    };
    let mut out = vec![u.clone()];
    let mut i = 0;
    while i < out.len() {
        let kids: Vec<String> = st.org.children(&out[i]).map(|k| k.code.clone()).collect();
        out.extend(kids);
        i += 1;
    }
    Some(out)
}

fn visible(scope: &Option<Vec<String>>, a: &AlertRow) -> bool {
    match scope {
        None => true,
        Some(units) => units.iter().any(|u| *u == a.unit || *u == a.district),
    }
}

/// An alert as listed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AlertItem {
    /// Its id.
    pub id: i64,
    /// The city day it alarmed on.
    pub day: String,
    /// The cell's level: `city×category`, `city×sub-category`, `district×category`,
    /// `street×category`, `street×sub-category` or `community×category` for a spike; `risk`
    /// for an emergency pushed at intake (风险推送); `incident` for similar reports in one place
    /// within an hour merged into one (突发事件); `pre_warning` for a street whose monthly volume
    /// entered the city's top N without being on the 治理 list (未进先治).
    pub level: String,
    /// The place's code ("" for the whole city) and name.
    pub place: String,
    /// The place's name (全市 for the whole city).
    pub place_name: String,
    /// The category's code.
    pub category: String,
    /// The category's path, top first.
    pub category_name: String,
    /// Requests in the window.
    pub observed: u32,
    /// Requests expected in the window (from the cell's seasonal baseline).
    pub expected: f64,
    /// Days in the window, ending on `day`.
    pub window_days: u32,
    /// The detector's statistic (−log10 of the probability of so many requests on an ordinary day).
    pub score: f64,
    /// The responsible unit's code ("" for the centre) and name.
    pub unit: String,
    /// The responsible unit's name.
    pub unit_name: String,
    /// The district's code.
    pub district: String,
    /// How many tickets are behind it.
    pub ticket_count: usize,
    /// `open` (待处置), `acknowledged` (已知悉), `handled` (已处置) or `dismissed` (不予处置).
    pub status: String,
    /// The status in Chinese.
    pub status_label: String,
    /// The ticket list behind it (`#/tickets?…`).
    pub drill: String,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// A risk push: the ticket, the kind and the numbers to transfer to.
    pub risk: Option<crate::risk::RiskDetail>,
    /// An incident: when its first and latest reports came in.
    pub incident: Option<crate::risk::IncidentDetail>,
    /// A 未进先治 pre-warning (level `pre_warning`): the month, the street's volume and ranks.
    pub pre_warning: Option<crate::street_work::PreWarningDetail>,
}

fn item(st: &AppState, a: AlertRow) -> AlertItem {
    let name = |code: &str| {
        st.org
            .get(code)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let status = AlertStatus::parse(&a.status).unwrap_or(AlertStatus::Open);
    let first = a.day - Duration::days(i64::from(a.window_days.max(1)) - 1);
    let mut q = vec![
        format!("category={}", a.category),
        format!("from={first}"),
        format!("to={}", a.day + Duration::days(1)),
    ];
    let risk: Option<crate::risk::RiskDetail> = (a.level == crate::risk::RISK)
        .then(|| serde_json::from_str(a.detail.as_deref()?).ok())
        .flatten();
    let incident: Option<crate::risk::IncidentDetail> = (a.level == crate::risk::INCIDENT)
        .then(|| serde_json::from_str(a.detail.as_deref()?).ok())
        .flatten();
    let pre_warning: Option<crate::street_work::PreWarningDetail> = (a.level
        == crate::street_work::PRE_WARNING)
        .then(|| serde_json::from_str(a.detail.as_deref()?).ok())
        .flatten();
    let street_code = a.place.clone();
    if a.level == crate::risk::RISK || a.level == crate::risk::INCIDENT {
        q.push(format!("street={}", a.unit));
    } else if a.level.starts_with("district") {
        q.push(format!("district={}", a.place));
    } else if a.level.starts_with("street") {
        q.push(format!("street={}", a.place));
    } else if a.level.starts_with("community") {
        q.push(format!("street={}", a.unit));
    }
    AlertItem {
        id: a.id,
        day: a.day.to_string(),
        place_name: if a.place.is_empty() {
            "全市".into()
        } else {
            name(&a.place)
        },
        unit_name: if a.unit.is_empty() {
            "市热线中心".into()
        } else {
            name(&a.unit)
        },
        category_name: st.categories.path_label(&a.category),
        level: a.level,
        place: a.place,
        category: a.category,
        observed: a.observed,
        expected: a.expected,
        window_days: a.window_days,
        score: a.score,
        unit: a.unit,
        district: a.district,
        ticket_count: a.tickets.len(),
        status: status.as_str().into(),
        status_label: status.label_zh().into(),
        drill: match (&risk, &pre_warning) {
            (Some(r), _) => format!("#/tickets/{}", r.ticket),
            (None, Some(_)) => format!("#/streets/work/{street_code}"),
            _ => format!("#/tickets?{}", q.join("&")),
        },
        created_at: a.created_at,
        risk,
        incident,
        pre_warning,
    }
}

/// `GET /api/v1/alerts` query.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AlertQuery {
    /// Only this status: open, acknowledged, handled, dismissed.
    pub status: Option<String>,
    /// Only alerts from this city day on (YYYY-MM-DD).
    pub from: Option<String>,
    pub page: Option<String>,
    pub page_size: Option<String>,
}

/// A page of alerts with the counts by status and the rate of useful alerts.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AlertPage {
    pub items: Vec<AlertItem>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
    /// Alerts in the caller's scope by status (all statuses, the other filters applied).
    pub counts: Vec<StatusCount>,
    /// 有效预警率 — handled among handled and dismissed (null before any is closed).
    pub useful_rate: Option<f64>,
}

/// A status and how many alerts have it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusCount {
    pub status: String,
    pub label: String,
    pub count: u64,
}

/// `GET /api/v1/alerts`.
pub async fn list(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<AlertQuery>,
) -> ApiResult<Json<AlertPage>> {
    require(&actor, Capability::Alerts)?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            AlertStatus::parse(s)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "status",
                        format!("unknown status `{s}`: open, acknowledged, handled or dismissed"),
                        format!("未知状态 `{s}`：应为 open、acknowledged、handled 或 dismissed"),
                    )
                })?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let from = match q.from.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            ApiError::invalid(
                "from",
                format!("`{s}` is not a date (YYYY-MM-DD)"),
                format!("`{s}` 不是日期（YYYY-MM-DD）"),
            )
        })?),
        None => None,
    };
    let paging = Paging::parse(q.page.as_deref(), q.page_size.as_deref(), 20)?;
    let filter = AlertFilter {
        status,
        units: scope(&st, &actor),
        from,
    };
    let s2 = st.clone();
    let (rows, total, counts) = tokio::task::spawn_blocking(move || -> ApiResult<_> {
        let (rows, total) =
            s2.store
                .list_alerts(&filter, paging.offset() as u64, u64::from(paging.page_size))?;
        let counts = s2.store.alert_counts(&filter)?;
        Ok((rows, total, counts))
    })
    .await??;
    let get = |s: AlertStatus| {
        counts
            .iter()
            .find(|c| c.0 == s.as_str())
            .map(|c| c.1)
            .unwrap_or(0)
    };
    Ok(Json(AlertPage {
        useful_rate: useful_rate(get(AlertStatus::Handled), get(AlertStatus::Dismissed)),
        counts: AlertStatus::ALL
            .into_iter()
            .map(|s| StatusCount {
                status: s.as_str().into(),
                label: s.label_zh().into(),
                count: get(s),
            })
            .collect(),
        items: rows.into_iter().map(|a| item(&st, a)).collect(),
        total,
        page: paging.page,
        page_size: paging.page_size,
    }))
}

/// One alert with its steps and tickets.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub alert: AlertItem,
    /// The tickets behind it (ids; at most 200).
    pub tickets: Vec<i64>,
    /// Every step, oldest first.
    pub steps: Vec<StepView>,
    /// The steps the caller may take now.
    pub actions: Vec<String>,
}

/// A step on an alert.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StepView {
    /// `raised`, `acknowledge`, `handle` or `dismiss`.
    pub action: String,
    /// The status after it.
    pub status: String,
    /// What was done, or why not.
    pub reason: String,
    /// Who.
    pub by: String,
    pub at: DateTime<Utc>,
}

async fn load(st: &AppState, actor: &Actor, id: i64) -> ApiResult<(AlertRow, Vec<AlertStep>)> {
    let s2 = st.clone();
    let found = tokio::task::spawn_blocking(move || s2.store.alert(id)).await??;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such alert in your scope",
            "预警不存在或不在本单位范围内",
        )
    };
    let (a, steps) = found.ok_or_else(not_found)?;
    // an alert outside the caller's scope is answered as absent (no probing of other units)
    if !visible(&scope(st, actor), &a) {
        return Err(not_found());
    }
    Ok((a, steps))
}

fn detail(st: &AppState, a: AlertRow, steps: Vec<AlertStep>) -> AlertDetail {
    let status = AlertStatus::parse(&a.status).unwrap_or(AlertStatus::Open);
    let actions = [
        AlertAction::Acknowledge,
        AlertAction::Handle,
        AlertAction::Dismiss,
    ]
    .into_iter()
    .filter(|act| transition(status, *act, "x").is_ok())
    .map(|act| act.as_str().to_string())
    .collect();
    let tickets = a.tickets.clone();
    AlertDetail {
        alert: item(st, a),
        tickets,
        steps: steps
            .into_iter()
            .map(|s| StepView {
                action: s.action,
                status: s.status,
                reason: s.reason,
                by: s.by,
                at: s.at,
            })
            .collect(),
        actions,
    }
}

/// `GET /api/v1/alerts/{id}`.
pub async fn get_one(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<AlertDetail>> {
    require(&actor, Capability::Alerts)?;
    let (a, steps) = load(&st, &actor, id).await?;
    Ok(Json(detail(&st, a, steps)))
}

/// A step's body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// What was done (handle) or why not (dismiss); optional for acknowledge. At most 2,000
    /// characters.
    #[serde(default)]
    pub reason: String,
}

/// `POST /api/v1/alerts/{id}/{action}` — acknowledge, handle or dismiss.
pub async fn act(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path((id, action)): Path<(i64, String)>,
    JsonBody(b): JsonBody<StepBody>,
) -> ApiResult<Json<AlertDetail>> {
    require(&actor, Capability::Alerts)?;
    let action = AlertAction::parse(&action).ok_or_else(|| {
        ApiError::invalid(
            "action",
            format!("unknown step `{action}`: acknowledge, handle or dismiss"),
            format!("未知操作 `{action}`：应为 acknowledge、handle 或 dismiss"),
        )
    })?;
    let (a, _) = load(&st, &actor, id).await?;
    let from = AlertStatus::parse(&a.status).unwrap_or(AlertStatus::Open);
    let next = transition(from, action, &b.reason).map_err(|e| match e {
        AlertError::ReasonRequired | AlertError::ReasonTooLong => ApiError::invalid(
            "reason",
            e.to_string(),
            match e {
                AlertError::ReasonRequired => "请填写处置情况或不予处置的理由".to_string(),
                _ => "理由不能超过 2000 字".to_string(),
            },
        ),
        _ => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            e.to_string(),
            format!("预警当前为「{}」，不能再执行此操作", from.label_zh()),
        ),
    })?;
    let step = AlertStep {
        alert_id: id,
        action: action.as_str().into(),
        status: next.as_str().into(),
        reason: b.reason.trim().to_string(),
        by: actor.user.clone(),
        at: st.now(),
    };
    let s2 = st.clone();
    let expected = from.as_str().to_string();
    let done =
        tokio::task::spawn_blocking(move || s2.store.record_alert_step(step, &expected)).await??;
    // an incident's status changed: intake reads it again (see `risk::IncidentBoard`)
    st.incidents.forget(id);
    if !done {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "the alert changed meanwhile; reload it and try again",
            "预警已被他人处理，请刷新后重试",
        ));
    }
    let (a, steps) = load(&st, &actor, id).await?;
    Ok(Json(detail(&st, a, steps)))
}

/// The open alerts of an actor's units, newest first (for the inbox).
pub fn open_for(st: &AppState, actor: &Actor, limit: u64) -> ApiResult<Vec<AlertItem>> {
    let filter = AlertFilter {
        status: Some(AlertStatus::Open.as_str().into()),
        units: scope(st, actor),
        from: None,
    };
    Ok(st
        .store
        .list_alerts(&filter, 0, limit)?
        .0
        .into_iter()
        .map(|a| item(st, a))
        .collect())
}

/// What webhooks receive for a new alert (no personal data: counts and codes).
pub fn webhook_body(st: &AppState, a: AlertRow) -> serde_json::Value {
    let i = item(st, a);
    serde_json::json!({
        "kind": "alert", "alert_id": i.id, "day": i.day, "level": i.level, "place": i.place,
        "place_name": i.place_name, "category": i.category, "category_name": i.category_name,
        "observed": i.observed, "expected": i.expected, "window_days": i.window_days,
        "score": i.score, "unit": i.unit, "district": i.district, "tickets": i.ticket_count,
        "link": format!("/#/alerts/{}", i.id),
        "risk": i.risk.as_ref().map(|r| serde_json::json!({
            "ticket": r.ticket, "number": r.number, "kind": r.risk.kind,
            "kind_label": r.risk.kind_label, "transfer_to": r.risk.transfer_to,
        })),
        "pre_warning": i.pre_warning.as_ref().map(|d| serde_json::json!({
            "month": d.month, "volume": d.volume, "volume_rank": d.volume_rank, "rank": d.rank,
        })),
        "incident": i.incident.as_ref().map(|d| serde_json::json!({
            "first_at": d.first_at, "last_at": d.last_at, "window_minutes": d.window_minutes,
        })),
    })
}
