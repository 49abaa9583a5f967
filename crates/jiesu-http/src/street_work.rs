//! 治理类街乡镇的工作 — what follows a street's classification: the 未进先治 pre-warning (an alert
//! of level `pre_warning` to the street and its district, inbox and webhook, raised by a pass
//! beside the scheduler for the last complete month), the interview of its leaders (约谈) that
//! the district or the centre files, its problem and project lists with progress, and the
//! monitoring of its volume and rates by day, week and month from the facts (while listed and
//! tracked). Stored through `StreetWorkStore`, every change recorded; checks and series in
//! `jiesu_governance::street_work`.

use crate::auth::{require, Caller};
use crate::error::{ApiError, ApiResult};
use crate::json::Json as JsonBody;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use jiesu_domain::auth::{Actor, Role};
use jiesu_domain::capability::Capability;
use jiesu_domain::org::UnitKind;
use jiesu_governance::street_work::{
    check_interview, check_item, monitor, progress, Grain, Interview, Item, ItemKind, ItemStatus,
    MonitorPoint, Refused,
};
use jiesu_governance::streets::{StreetPolicy, StreetStanding};
use jiesu_score::Month;
use jiesu_store::{AlertFilter, AlertRow, InterviewRow, StreetItemRow};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The alert level of a 未进先治 pre-warning.
pub const PRE_WARNING: &str = "pre_warning";
/// Tickets listed behind a pre-warning at most.
const MAX_TICKETS: usize = 200;

/// What a pre-warning says beyond the alert's columns (its `detail`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PreWarningDetail {
    /// The month whose volume entered the top N, `YYYY-MM`.
    pub month: String,
    /// The street's volume that month (assignments counted).
    pub volume: u32,
    /// Its rank by volume (1 = most).
    pub volume_rank: u32,
    /// Its 三率 rank (1 = best), when ranked.
    pub rank: Option<u32>,
    /// Its 三率 composite, when ranked.
    pub composite: Option<f64>,
    /// The classification's reason (Chinese).
    pub reason: String,
}

/// The last complete city month at `now`.
fn last_complete_month(st: &AppState, now: DateTime<Utc>) -> Month {
    let (y, m) = st.zone.year_month(now);
    Month { year: y, month: m }.plus(-1)
}

/// The classification of `month` under the city's street policies (empty when the month has no counted
/// assignment).
fn standings(st: &AppState, month: Month) -> ApiResult<Vec<StreetStanding>> {
    let history =
        crate::streets::street_history(&*st.store, month).map_err(crate::scores::score_failed)?;
    let key = month.to_string();
    Ok(
        if history.last().map(|h| h.0.as_str()) == Some(key.as_str()) {
            crate::gov_policies::classify_stored(&*st.store, &history)
                .map_err(crate::scores::score_failed)?
                .0
        } else {
            Vec::new()
        },
    )
}

/// The pre-warning pass at `now`: classifies the last complete month once (remembered in
/// `streets_prewarn_month`) and raises a `pre_warning` alert for each street that entered the
/// volume top N without being listed; returns how many were raised. A month's pre-warning of a
/// street is raised once (the alert's cell is the month's first day × street).
pub fn prewarn_pass(st: &AppState, now: DateTime<Utc>) -> ApiResult<usize> {
    if st.store.analytics_watermark()?.is_none() {
        return Ok(0);
    }
    let month = last_complete_month(st, now);
    let key = month.to_string();
    if st.store.meta("streets_prewarn_month")?.as_deref() == Some(key.as_str()) {
        return Ok(0);
    }
    let warned: Vec<StreetStanding> = standings(st, month)?
        .into_iter()
        .filter(|s| s.pre_warning)
        .collect();
    let first = NaiveDate::from_ymd_opt(month.year, month.month, 1).unwrap_or_default();
    let end =
        NaiveDate::from_ymd_opt(month.plus(1).year, month.plus(1).month, 1).unwrap_or_default();
    let codes: Vec<String> = warned.iter().map(|s| s.street.code.clone()).collect();
    let tickets: Vec<Vec<i64>> = st.analytics.with(st, |facts| {
        codes
            .iter()
            .map(|c| street_tickets(facts, c, first, end))
            .collect()
    })?;
    let mut raised = 0;
    for (s, ids) in warned.into_iter().zip(tickets) {
        let detail = PreWarningDetail {
            month: key.clone(),
            volume: s.street.volume,
            volume_rank: s.volume_rank,
            rank: s.street.rank,
            composite: s.street.composite.map(|c| (c * 100.0).round() / 100.0),
            reason: s.reason.clone(),
        };
        let district = st
            .org
            .district_of(&s.street.code)
            .map(|u| u.code.clone())
            .unwrap_or_else(|| s.street.district.clone());
        let row = AlertRow {
            id: 0,
            day: first,
            level: PRE_WARNING.into(),
            place: s.street.code.clone(),
            category: String::new(),
            score: 0.0,
            observed: s.street.volume,
            expected: 0.0,
            window_days: (end - first).num_days() as u32,
            unit: s.street.code.clone(),
            district,
            tickets: ids,
            status: "open".into(),
            created_at: now,
            detail: serde_json::to_string(&detail).ok(),
        };
        if st.store.raise_alert(row)?.is_some() {
            raised += 1;
        }
    }
    st.store.set_meta("streets_prewarn_month", &key)?;
    Ok(raised)
}

/// The tickets created in a street in `[from, to)`, at most `MAX_TICKETS`.
fn street_tickets(
    facts: &jiesu_analytics::TicketFacts,
    street: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<i64> {
    let Some(sid) = facts.places.id(street) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in facts.partitions.values() {
        let Some(m) = p.month else { continue };
        for i in 0..p.len() {
            let d = m.first_day() + Duration::days(i64::from(p.day[i]) - 1);
            if p.street[i] == sid && d >= from && d < to && out.len() < MAX_TICKETS {
                out.push(p.ticket_id[i]);
            }
        }
    }
    out
}

fn refused(r: Refused) -> ApiError {
    ApiError::invalid(r.field, r.en, r.zh)
}

/// The street asked about, if the caller may see it (404 otherwise: no probing of other units).
fn street_in_scope(st: &AppState, actor: &Actor, code: &str) -> ApiResult<(String, String)> {
    let unit = st
        .org
        .get(code)
        .filter(|u| u.kind == UnitKind::StreetTown)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no street or town `{code}` in your scope"),
                format!("街乡镇 `{code}` 不存在或不在本单位范围内"),
            )
        })?;
    if !actor.covers(code, &st.org) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no street or town `{code}` in your scope"),
            format!("街乡镇 `{code}` 不存在或不在本单位范围内"),
        ));
    }
    let district = st
        .org
        .district_of(code)
        .map(|u| u.code.clone())
        .unwrap_or_default();
    Ok((unit.name.clone(), district))
}

/// Whether the caller may file an interview of this street: the centre, or a unit manager of a
/// unit above the street (its district) — never the street itself.
fn may_interview(actor: &Actor, st: &AppState, street: &str) -> bool {
    if !actor.may(Capability::StreetInterview) {
        return false;
    }
    match actor.role {
        Role::UnitManager => actor
            .unit
            .as_deref()
            .is_some_and(|u| u != street && st.org.is_within(street, u)),
        _ => true,
    }
}

/// An interview as answered.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InterviewView {
    pub id: i64,
    /// The day it was held.
    pub held_on: String,
    /// Who attended.
    pub attendees: Vec<String>,
    /// What was found and asked.
    pub findings: String,
    /// The 未进先治 pre-warning it answers.
    pub alert_id: Option<i64>,
    pub filed_by: String,
    pub filed_at: DateTime<Utc>,
}

impl From<InterviewRow> for InterviewView {
    fn from(i: InterviewRow) -> Self {
        InterviewView {
            id: i.id,
            held_on: i.held_on.to_string(),
            attendees: i.attendees,
            findings: i.findings,
            alert_id: i.alert_id,
            filed_by: i.filed_by,
            filed_at: i.filed_at,
        }
    }
}

/// A problem or project as answered.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ItemView {
    pub id: i64,
    /// `problem` (问题) or `project` (项目).
    pub kind: String,
    pub title: String,
    /// Who owns it.
    pub owner: String,
    /// When it is due (YYYY-MM-DD).
    pub due: String,
    /// `open` (未开始), `in_progress` (推进中) or `done` (已完成).
    pub status: String,
    /// The status in Chinese.
    pub status_label: String,
    /// Not done and past its due day.
    pub overdue: bool,
    /// Progress in words.
    pub progress: String,
    /// The version a change must name.
    pub version: i64,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

fn item_view(i: StreetItemRow, today: NaiveDate) -> ItemView {
    let status = ItemStatus::parse(&i.status).unwrap_or(ItemStatus::Open);
    ItemView {
        id: i.id,
        kind: i.kind,
        title: i.title,
        owner: i.owner,
        due: i.due.to_string(),
        status_label: status.label_zh().into(),
        overdue: status != ItemStatus::Done && i.due < today,
        status: status.as_str().into(),
        progress: i.progress,
        version: i.version,
        updated_by: i.updated_by,
        updated_at: i.updated_at,
    }
}

/// A list's progress.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ListProgressView {
    pub total: u32,
    pub done: u32,
    /// Not done and past their due day.
    pub overdue: u32,
    /// done / total (null for an empty list).
    pub done_rate: Option<f64>,
}

/// One period of monitoring.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MonitorView {
    /// The period's first day.
    pub from: String,
    /// Requests created in the street.
    pub volume: u32,
    /// 解决率: resolved among those called back with a resolution.
    pub resolution_rate: Option<f64>,
    /// 满意率: satisfied or basically satisfied among those rated.
    pub satisfaction_rate: Option<f64>,
    /// 响应率: responded in time among the dispatched.
    pub response_rate: Option<f64>,
    /// Called back with a resolution (the resolution rate's base).
    pub rated: u32,
}

fn monitor_view(p: MonitorPoint) -> MonitorView {
    MonitorView {
        from: p.from.to_string(),
        volume: p.volume,
        resolution_rate: p.resolution_rate,
        satisfaction_rate: p.satisfaction_rate,
        response_rate: p.response_rate,
        rated: p.rated,
    }
}

/// A recorded change.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangeView {
    /// `interview` or `item`.
    pub subject: String,
    pub subject_id: i64,
    /// `filed`, `created` or `updated`.
    pub action: String,
    /// The row after the change.
    pub after: serde_json::Value,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// The street's standing in the month classified.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StandingView {
    /// The month classified, `YYYY-MM`.
    pub period: String,
    /// `advanced`, `improved`, `rectify`, `govern` or `ordinary`.
    pub class: String,
    pub class_label: String,
    pub listed: bool,
    pub listed_since: Option<String>,
    /// Months running that met the exit rule, of `exit_months`.
    pub exit_progress: u32,
    pub exit_months: u32,
    /// Left the list and tracked until this month (the policy's `track_months` after exit).
    pub tracked_until: Option<String>,
    pub pre_warning: bool,
    pub volume: u32,
    pub volume_rank: u32,
    pub rank: Option<u32>,
    pub reason: String,
}

/// A street's file.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StreetWorkView {
    pub code: String,
    pub name: String,
    pub district: String,
    pub district_name: String,
    /// Its class in the month asked (default: the last complete month); null when that month
    /// has no scorecard.
    pub standing: Option<StandingView>,
    /// Its 未进先治 pre-warnings (alert ids with their month and status), newest first.
    pub pre_warnings: Vec<PreWarningRef>,
    /// Interviews (约谈), the latest held first.
    pub interviews: Vec<InterviewView>,
    /// 问题清单.
    pub problems: Vec<ItemView>,
    /// 项目清单.
    pub projects: Vec<ItemView>,
    pub problem_progress: ListProgressView,
    pub project_progress: ListProgressView,
    /// The last 30 city days.
    pub daily: Vec<MonitorView>,
    /// The last 12 weeks (from Monday).
    pub weekly: Vec<MonitorView>,
    /// The last 13 months.
    pub monthly: Vec<MonitorView>,
    /// Every change recorded (the newest 100).
    pub changes: Vec<ChangeView>,
    /// The caller may file an interview.
    pub can_interview: bool,
    /// The caller may keep the lists.
    pub can_edit: bool,
}

/// A pre-warning of the street.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PreWarningRef {
    pub alert_id: i64,
    /// The month, `YYYY-MM`.
    pub month: String,
    pub status: String,
    pub volume_rank: Option<u32>,
}

/// `GET /api/v1/governance/street-work/{street}` query.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WorkQuery {
    /// The month to classify, YYYY-MM (default: the last complete month).
    pub period: Option<String>,
}

fn list_progress(items: &[StreetItemRow], today: NaiveDate) -> ListProgressView {
    let v: Vec<(ItemStatus, NaiveDate)> = items
        .iter()
        .map(|i| {
            (
                ItemStatus::parse(&i.status).unwrap_or(ItemStatus::Open),
                i.due,
            )
        })
        .collect();
    let p = progress(&v, today);
    ListProgressView {
        total: p.total,
        done: p.done,
        overdue: p.overdue,
        done_rate: p.done_rate.map(|r| (r * 1000.0).round() / 1000.0),
    }
}

/// `GET /api/v1/governance/street-work/{street}`.
pub async fn get_work(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(street): Path<String>,
    Query(q): Query<WorkQuery>,
) -> ApiResult<Json<StreetWorkView>> {
    require(&actor, Capability::StreetWork)?;
    let (name, district) = street_in_scope(&st, &actor, &street)?;
    let now = st.now();
    let month = match q.period.as_deref().filter(|s| !s.is_empty()) {
        Some(p) => crate::scores::parse_month(p)?,
        None => last_complete_month(&st, now),
    };
    let today = st.zone.date(now);
    let s2 = st.clone();
    let code = street.clone();
    let view = tokio::task::spawn_blocking(move || -> ApiResult<StreetWorkView> {
        let st = s2;
        let policy = crate::gov_policies::street_versions(&*st.store)
            .map(|v| {
                let ps: Vec<StreetPolicy> = v.into_iter().map(|x| x.1).collect();
                jiesu_governance::streets::in_effect(&ps, &month.to_string()).cloned()
            })
            .map_err(crate::scores::score_failed)?
            .unwrap_or_else(StreetPolicy::shipped_default);
        let standing = standings(&st, month)?
            .into_iter()
            .find(|s| s.street.code == code)
            .map(|s| StandingView {
                period: month.to_string(),
                class: serde_json::to_value(s.class)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                class_label: s.class.label_zh().into(),
                listed: s.listed,
                listed_since: s.listed_since,
                exit_progress: s.exit_progress,
                exit_months: policy.exit_months,
                tracked_until: s.tracked_until,
                pre_warning: s.pre_warning,
                volume: s.street.volume,
                volume_rank: s.volume_rank,
                rank: s.street.rank,
                reason: s.reason,
            });
        let (daily, weekly, monthly) = st.analytics.with(&st, |facts| {
            (
                monitor(facts, &code, Grain::Day, today, 30),
                monitor(facts, &code, Grain::Week, today, 12),
                monitor(facts, &code, Grain::Month, today, 13),
            )
        })?;
        let alerts = st
            .store
            .list_alerts(
                &AlertFilter {
                    status: None,
                    units: Some(vec![code.clone()]),
                    from: None,
                },
                0,
                500,
            )?
            .0;
        let pre_warnings = alerts
            .into_iter()
            .filter(|a| a.level == PRE_WARNING && a.place == code)
            .map(|a| {
                let d: Option<PreWarningDetail> = a
                    .detail
                    .as_deref()
                    .and_then(|d| serde_json::from_str(d).ok());
                PreWarningRef {
                    alert_id: a.id,
                    month: format!("{:04}-{:02}", a.day.year(), a.day.month()),
                    status: a.status,
                    volume_rank: d.map(|d| d.volume_rank),
                }
            })
            .collect();
        let items = st.store.street_items(&code)?;
        let (problems, projects): (Vec<_>, Vec<_>) = items
            .into_iter()
            .partition(|i| i.kind == ItemKind::Problem.as_str());
        Ok(StreetWorkView {
            name,
            district_name: st
                .org
                .get(&district)
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            district,
            standing,
            pre_warnings,
            interviews: st
                .store
                .interviews(&code)?
                .into_iter()
                .map(Into::into)
                .collect(),
            problem_progress: list_progress(&problems, today),
            project_progress: list_progress(&projects, today),
            problems: problems.into_iter().map(|i| item_view(i, today)).collect(),
            projects: projects.into_iter().map(|i| item_view(i, today)).collect(),
            daily: daily.into_iter().map(monitor_view).collect(),
            weekly: weekly.into_iter().map(monitor_view).collect(),
            monthly: monthly.into_iter().map(monitor_view).collect(),
            changes: st
                .store
                .street_changes(&code, 100)?
                .into_iter()
                .map(|c| ChangeView {
                    subject: c.subject,
                    subject_id: c.subject_id,
                    action: c.action,
                    after: serde_json::from_str(&c.after).unwrap_or_default(),
                    by: c.by,
                    at: c.at,
                })
                .collect(),
            can_interview: may_interview(&actor, &st, &code),
            can_edit: true,
            code,
        })
    })
    .await??;
    Ok(Json(view))
}

/// An interview's body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InterviewBody {
    /// The day it was held (YYYY-MM-DD), not in the future.
    pub held_on: String,
    /// Who attended (names and posts), 1–30.
    pub attendees: Vec<String>,
    /// What was found and asked of the street (1–5,000 characters).
    pub findings: String,
    /// The 未进先治 pre-warning (alert id) it answers.
    #[serde(default)]
    pub alert_id: Option<i64>,
}

fn parse_day(field: &'static str, s: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::invalid(
            field,
            format!("`{s}` is not a date (YYYY-MM-DD)"),
            format!("`{s}` 不是日期（YYYY-MM-DD）"),
        )
    })
}

/// `POST /api/v1/governance/street-work/{street}/interviews`.
pub async fn file_interview(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(street): Path<String>,
    JsonBody(b): JsonBody<InterviewBody>,
) -> ApiResult<(StatusCode, Json<InterviewView>)> {
    require(&actor, Capability::StreetInterview)?;
    let (_, district) = street_in_scope(&st, &actor, &street)?;
    // the streets one may interview are those strictly below one's unit (a district's streets);
    // the street itself is outside that scope, answered as absent like any other scope
    if !may_interview(&actor, &st, &street) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no street `{street}` below your unit to interview: a street's interview (约谈) is filed by its district or the centre"),
            format!("街乡镇 `{street}` 不在本单位可约谈范围内：约谈记录由所在区或市热线中心填报"),
        ));
    }
    let now = st.now();
    let checked = check_interview(
        &Interview {
            held_on: parse_day("held_on", &b.held_on)?,
            attendees: b.attendees,
            findings: b.findings,
        },
        st.zone.date(now),
    )
    .map_err(refused)?;
    let s2 = st.clone();
    let code = street.clone();
    let by = actor.user.clone();
    let row = tokio::task::spawn_blocking(move || -> ApiResult<InterviewRow> {
        if let Some(a) = b.alert_id {
            let ok = s2
                .store
                .alert(a)?
                .is_some_and(|(a, _)| a.level == PRE_WARNING && a.place == code);
            if !ok {
                return Err(ApiError::invalid(
                    "alert_id",
                    format!("alert {a} is not a pre-warning of this street"),
                    format!("预警 {a} 不是本街道的未进先治预警"),
                ));
            }
        }
        let mut row = InterviewRow {
            id: 0,
            street: code,
            district,
            held_on: checked.held_on,
            attendees: checked.attendees,
            findings: checked.findings,
            alert_id: b.alert_id,
            filed_by: by,
            filed_at: now,
        };
        row.id = s2.store.file_interview(row.clone())?;
        Ok(row)
    })
    .await??;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// A new item's body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItemBody {
    /// `problem` (问题清单) or `project` (项目清单).
    pub kind: String,
    /// What it is (1–200 characters).
    pub title: String,
    /// Who owns it (1–100 characters).
    pub owner: String,
    /// When it is due (YYYY-MM-DD).
    pub due: String,
    /// `open` (default), `in_progress` or `done`.
    #[serde(default)]
    pub status: Option<String>,
    /// Progress in words (at most 2,000 characters).
    #[serde(default)]
    pub progress: String,
}

/// A change of an item: the whole item as it should be, with the version it was read at.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemChangeBody {
    /// The version read (a change made meanwhile answers 409).
    pub version: i64,
    pub title: String,
    pub owner: String,
    /// YYYY-MM-DD.
    pub due: String,
    /// `open`, `in_progress` or `done`.
    pub status: String,
    #[serde(default)]
    pub progress: String,
}

fn parse_status(s: &str) -> ApiResult<ItemStatus> {
    ItemStatus::parse(s).ok_or_else(|| {
        ApiError::invalid(
            "status",
            format!("unknown status `{s}`: open, in_progress or done"),
            format!("未知状态 `{s}`：应为 open、in_progress 或 done"),
        )
    })
}

/// `POST /api/v1/governance/street-work/{street}/items`.
pub async fn add_item(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(street): Path<String>,
    JsonBody(b): JsonBody<NewItemBody>,
) -> ApiResult<(StatusCode, Json<ItemView>)> {
    require(&actor, Capability::StreetWork)?;
    let (_, district) = street_in_scope(&st, &actor, &street)?;
    let kind = ItemKind::parse(&b.kind).ok_or_else(|| {
        ApiError::invalid(
            "kind",
            format!("unknown kind `{}`: problem or project", b.kind),
            format!(
                "未知类别 `{}`：应为 problem（问题）或 project（项目）",
                b.kind
            ),
        )
    })?;
    let checked = check_item(&Item {
        kind,
        title: b.title,
        owner: b.owner,
        due: parse_day("due", &b.due)?,
        status: parse_status(b.status.as_deref().unwrap_or("open"))?,
        progress: b.progress,
    })
    .map_err(refused)?;
    let now = st.now();
    let mut row = StreetItemRow {
        id: 0,
        street,
        district,
        kind: checked.kind.as_str().into(),
        title: checked.title,
        owner: checked.owner,
        due: checked.due,
        status: checked.status.as_str().into(),
        progress: checked.progress,
        version: 1,
        updated_by: actor.user.clone(),
        created_at: now,
        updated_at: now,
    };
    let s2 = st.clone();
    let r2 = row.clone();
    row.id = tokio::task::spawn_blocking(move || s2.store.add_street_item(r2)).await??;
    Ok((StatusCode::CREATED, Json(item_view(row, st.zone.date(now)))))
}

/// `PUT /api/v1/governance/street-work/{street}/items/{id}`.
pub async fn change_item(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path((street, id)): Path<(String, i64)>,
    JsonBody(b): JsonBody<ItemChangeBody>,
) -> ApiResult<Json<ItemView>> {
    require(&actor, Capability::StreetWork)?;
    street_in_scope(&st, &actor, &street)?;
    let s2 = st.clone();
    let old = tokio::task::spawn_blocking(move || s2.store.street_item(id))
        .await??
        .filter(|i| i.street == street)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no item {id} of this street"),
                format!("本街道没有编号为 {id} 的清单事项"),
            )
        })?;
    let checked = check_item(&Item {
        kind: ItemKind::parse(&old.kind).unwrap_or(ItemKind::Problem),
        title: b.title,
        owner: b.owner,
        due: parse_day("due", &b.due)?,
        status: parse_status(&b.status)?,
        progress: b.progress,
    })
    .map_err(refused)?;
    let now = st.now();
    let row = StreetItemRow {
        title: checked.title,
        owner: checked.owner,
        due: checked.due,
        status: checked.status.as_str().into(),
        progress: checked.progress,
        updated_by: actor.user.clone(),
        updated_at: now,
        ..old
    };
    let s2 = st.clone();
    let version = b.version;
    let done =
        tokio::task::spawn_blocking(move || s2.store.update_street_item(row, version)).await??;
    if !done {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "the item changed meanwhile; reload it and try again",
            "该事项已被他人修改，请刷新后重试",
        ));
    }
    let s2 = st.clone();
    let now_row = tokio::task::spawn_blocking(move || s2.store.street_item(id))
        .await??
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(item_view(now_row, st.zone.date(now))))
}
