//! 数据报告 — 日通报 / 周汇总 / 月分析: generated on the server's clock in city time for the last
//! complete period (the scheduler's [`report_pass`]) and on demand (`POST /analytics/reports`),
//! stored (`ReportStore`), listed, and downloaded as printable HTML or xlsx. Each kind has a
//! template a city edits (sections, their order, list lengths): JSON checked field by field.
//! New reports go out through the outbox (webhooks) and show in the inbox of those who may read
//! analytics.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::paging::Paging;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use chrono::{DateTime, Utc};
use jiesu_analytics::bulletin::{
    bulletin, bulletin_html, bulletin_sheets, Bulletin, BulletinKind, BulletinPeriod, Template,
};
use jiesu_domain::capability::Capability;
use jiesu_store::{NewReport, ReportRow};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A stored report in a list.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReportItem {
    /// Its id.
    pub id: i64,
    /// `daily` (日通报), `weekly` (周汇总) or `monthly` (月分析).
    pub kind: String,
    /// The period: `2026-12-06`, `2026-W49` or `2026-11`.
    pub period: String,
    /// First city day covered.
    pub from: String,
    /// First city day not covered.
    pub to: String,
    /// Chinese title.
    pub title_zh: String,
    /// English title.
    pub title_en: String,
    /// When it was computed.
    pub generated_at: DateTime<Utc>,
    /// Printable HTML.
    pub html: String,
    /// The workbook.
    pub xlsx: String,
}

impl From<ReportRow> for ReportItem {
    fn from(r: ReportRow) -> Self {
        ReportItem {
            html: format!("/api/v1/analytics/reports/{}/html", r.id),
            xlsx: format!("/api/v1/analytics/reports/{}/xlsx", r.id),
            id: r.id,
            kind: r.kind,
            period: r.period,
            from: r.from.to_string(),
            to: r.to.to_string(),
            title_zh: r.title_zh,
            title_en: r.title_en,
            generated_at: r.generated_at,
        }
    }
}

/// A page of reports.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReportPage {
    /// Newest period first.
    pub items: Vec<ReportItem>,
    /// Reports in all.
    pub total: u64,
    /// This page.
    pub page: u32,
    /// Its size.
    pub page_size: u32,
}

/// `GET /analytics/reports` query.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct ReportQuery {
    /// Only this kind: daily, weekly or monthly.
    pub kind: Option<String>,
    /// Page, from 1.
    pub page: Option<String>,
    /// Reports a page (1–500, 20 by default).
    pub page_size: Option<String>,
}

/// `POST /analytics/reports` body.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateBody {
    /// daily, weekly or monthly.
    pub kind: String,
    /// The period (`2026-12-06`, `2026-W49`, `2026-11`); the last complete one when left out.
    pub period: Option<String>,
}

fn kind(field: &str, s: &str) -> ApiResult<BulletinKind> {
    BulletinKind::parse(s).ok_or_else(|| {
        ApiError::invalid(
            field,
            format!("the report kind is daily, weekly or monthly, not '{s}'"),
            format!(
                "报告类型须为 daily（日通报）、weekly（周汇总）或 monthly（月分析），而不是“{s}”"
            ),
        )
    })
}

/// The template in force for a kind: the city's, else the shipped default.
pub fn template(st: &AppState, k: BulletinKind) -> ApiResult<Template> {
    match st.store.report_template(k.as_str())? {
        Some(body) => Template::from_json_for(k, &body).map_err(|e| {
            ApiError::invalid(
                "template",
                format!("the stored template is unusable: {e}"),
                format!("已保存的模板无法使用：{e}"),
            )
        }),
        None => Ok(Template::default_for(k)),
    }
}

/// Computes and stores the report of `period`; returns its id.
pub fn generate(st: &AppState, period: &BulletinPeriod, now: DateTime<Utc>) -> ApiResult<i64> {
    let t = template(st, period.kind)?;
    let names: std::collections::HashMap<String, String> = st
        .org
        .units()
        .iter()
        .map(|u| (u.code.clone(), u.name.clone()))
        .collect();
    let mut b: Bulletin = st
        .analytics
        .with(st, |facts| {
            bulletin(facts, &st.categories, &names, period, &t)
        })?
        .map_err(|e| ApiError::invalid("period", e.to_string(), e.to_string()))?;
    if period.kind == BulletinKind::Monthly {
        (b.monthly_topics, b.topic_rows) = crate::monthly::bulletin_section(st, &period.key)?;
    }
    let id = st.store.save_report(NewReport {
        kind: period.kind.as_str().to_string(),
        period: period.key.clone(),
        from: period.from,
        to: period.to,
        generated_at: now,
        title_zh: b.title_zh.clone(),
        title_en: b.title_en.clone(),
        body: serde_json::to_string(&b).map_err(|e| ApiError::internal(e.to_string()))?,
    })?;
    Ok(id)
}

/// The scheduler's pass: the last complete day, week and month each get their report once (in
/// city time, on the server's clock), when the city has tickets. Answers how many were made.
pub fn report_pass(st: &AppState, now: DateTime<Utc>) -> ApiResult<usize> {
    if st.store.analytics_watermark()?.is_none() {
        return Ok(0);
    }
    let today = st.zone.date(now);
    let mut made = 0;
    for k in [
        BulletinKind::Daily,
        BulletinKind::Weekly,
        BulletinKind::Monthly,
    ] {
        let p = BulletinPeriod::last_complete(k, today);
        if !st.store.has_report(k.as_str(), &p.key)? {
            generate(st, &p, now)?;
            made += 1;
        }
    }
    Ok(made)
}

/// `GET /api/v1/analytics/reports`.
pub async fn list(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Json<ReportPage>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let k = match q.kind.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(kind("kind", s)?),
        None => None,
    };
    let paging = Paging::parse(q.page.as_deref(), q.page_size.as_deref(), 20)?;
    let s2 = st.clone();
    let (rows, total) = tokio::task::spawn_blocking(move || {
        s2.store.list_reports(
            k.map(|k| k.as_str()),
            paging.offset() as u64,
            u64::from(paging.page_size),
        )
    })
    .await??;
    Ok(Json(ReportPage {
        items: rows.into_iter().map(ReportItem::from).collect(),
        total,
        page: paging.page,
        page_size: paging.page_size,
    }))
}

/// `POST /api/v1/analytics/reports` — generate (or regenerate) one now.
pub async fn create(
    State(st): State<AppState>,
    Caller(actor): Caller,
    body: crate::json::Json<GenerateBody>,
) -> ApiResult<(axum::http::StatusCode, Json<ReportItem>)> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let b = body.0;
    let k = kind("kind", &b.kind)?;
    let today = st.today();
    let period = match b.period.as_deref().filter(|s| !s.is_empty()) {
        Some(p) => BulletinPeriod::parse(k, p)
            .map_err(|e| ApiError::invalid("period", e.to_string(), e.to_string()))?,
        None => BulletinPeriod::last_complete(k, today),
    };
    if period.from > today {
        return Err(ApiError::invalid(
            "period",
            format!("the period {} has not begun", period.key),
            format!("时段 {} 尚未开始", period.key),
        ));
    }
    let s2 = st.clone();
    let now = st.now();
    let row = tokio::task::spawn_blocking(move || -> ApiResult<ReportRow> {
        let id = generate(&s2, &period, now)?;
        Ok(s2.store.report(id)?.ok_or_else(ApiError::not_found)?.0)
    })
    .await??;
    Ok((axum::http::StatusCode::CREATED, Json(row.into())))
}

fn load(st: &AppState, id: &str) -> ApiResult<(ReportRow, Bulletin)> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let (row, body) = st.store.report(id)?.ok_or_else(ApiError::not_found)?;
    let b: Bulletin = serde_json::from_str(&body)
        .map_err(|e| ApiError::internal(format!("stored report {id}: {e}")))?;
    Ok((row, b))
}

/// Loads a report the caller is opening, and marks it read for them (报告收件箱).
fn load_opened(st: &AppState, user: &str, id: &str) -> ApiResult<(ReportRow, Bulletin)> {
    let (row, b) = load(st, id)?;
    crate::report_inbox::opened(st, user, row.id)?;
    Ok((row, b))
}

/// `GET /api/v1/analytics/reports/{id}` — the figures as JSON (marks it read for the caller).
pub async fn get_one(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Bulletin>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let (s2, user) = (st.clone(), actor.user.clone());
    let (_, b) = tokio::task::spawn_blocking(move || load_opened(&s2, &user, &id)).await??;
    Ok(Json(b))
}

/// `GET /api/v1/analytics/reports/{id}/html` — printable HTML (charts as SVG; marks it read for
/// the caller).
pub async fn html(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let (s2, user) = (st.clone(), actor.user.clone());
    let (_, b) = tokio::task::spawn_blocking(move || load_opened(&s2, &user, &id)).await??;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // the report styles itself with one inline <style> and runs no script
            (
                header::CONTENT_SECURITY_POLICY,
                crate::hygiene::DOCUMENT_CSP,
            ),
        ],
        bulletin_html(&b),
    ))
}

/// `GET /api/v1/analytics/reports/{id}/xlsx` — the tables as a workbook (marks it read for the
/// caller).
pub async fn xlsx(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let (s2, user) = (st.clone(), actor.user.clone());
    let (row, b) = tokio::task::spawn_blocking(move || load_opened(&s2, &user, &id)).await??;
    let bytes = jiesu_io::xlsx::tables_to_xlsx(&crate::reports::tables(bulletin_sheets(&b)))
        .map_err(|e| ApiError::internal(format!("xlsx: {e}")))?;
    let name = format!(
        "attachment; filename=\"report-{}-{}.xlsx\"",
        row.kind, row.period
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    ))
}

/// Render sheets as `jiesu_io` tables.
pub fn tables(sheets: Vec<jiesu_analytics::render::Sheet>) -> Vec<jiesu_io::xlsx::Table> {
    use jiesu_analytics::render::Cell;
    use jiesu_io::xlsx::{Table, TableCell};
    sheets
        .into_iter()
        .map(|s| Table {
            name: s.name,
            header: s.header,
            rows: s
                .rows
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .map(|c| match c {
                            Cell::Text(t) => TableCell::Text(t),
                            Cell::Int(i) => TableCell::Number(i as f64),
                            Cell::Float(x) => TableCell::Number(x),
                            Cell::Percent(x) => TableCell::Percent(x),
                        })
                        .collect()
                })
                .collect(),
        })
        .collect()
}

/// `GET /api/v1/analytics/report-templates/{kind}` — the template in force.
pub async fn get_template(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(k): Path<String>,
) -> ApiResult<Json<Template>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let k = kind("kind", &k)?;
    let s2 = st.clone();
    Ok(Json(
        tokio::task::spawn_blocking(move || template(&s2, k)).await??,
    ))
}

/// `PUT /api/v1/analytics/report-templates/{kind}` — a city's own template: checked field by field
/// (an unknown field or a value out of range is refused naming it, and nothing is stored).
pub async fn put_template(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(k): Path<String>,
    body: crate::json::Json<serde_json::Value>,
) -> ApiResult<Json<Template>> {
    crate::auth::require(&actor, Capability::ReportTemplates)?;
    let k = kind("kind", &k)?;
    let text = body.0.to_string();
    let t = Template::from_json_for(k, &text).map_err(|e| {
        ApiError::invalid(
            "template",
            format!("the template is refused: {e}"),
            format!("模板未保存：{e}"),
        )
    })?;
    let canonical = serde_json::to_string(&t).map_err(|e| ApiError::internal(e.to_string()))?;
    let s2 = st.clone();
    let now = st.now();
    let by = actor.user.clone();
    tokio::task::spawn_blocking(move || {
        s2.store
            .save_report_template(k.as_str(), &canonical, now, &by)
    })
    .await??;
    Ok(Json(t))
}
