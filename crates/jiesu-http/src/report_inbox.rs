//! 报告收件箱 — the report inbox: every user who may read reports (数据分析: a unit's manager, the
//! centre's dispatchers, supervisors and administrators, through whom leaders read) finds each new
//! report of the kinds they subscribe to (报告订阅) here, newest first, unread until they open it.
//! Read state is per user (`ReportReadStore`); opening a report (its figures, HTML or workbook)
//! marks it read for the caller, and so do the explicit routes below.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::paging::Paging;
use crate::reports::ReportItem;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use jiesu_domain::capability::Capability;
use jiesu_store::InboxReport;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One report in the caller's inbox.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InboxReportItem {
    /// The report, with its HTML and xlsx links.
    #[serde(flatten)]
    pub report: ReportItem,
    /// Not opened by the caller since it was (last) generated (未读).
    pub unread: bool,
    /// When the caller last opened it, if ever.
    pub read_at: Option<DateTime<Utc>>,
}

impl From<InboxReport> for InboxReportItem {
    fn from(r: InboxReport) -> Self {
        InboxReportItem {
            report: r.report.into(),
            unread: r.unread,
            read_at: r.read_at,
        }
    }
}

/// `GET /api/v1/inbox/reports` answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReportInboxPage {
    /// Newest generated first.
    pub items: Vec<InboxReportItem>,
    /// Reports in the inbox in all.
    pub total: u64,
    /// Of them unread.
    pub unread: u64,
    /// The kinds the caller subscribes to (empty: the inbox stays empty until they subscribe).
    pub subscribed: Vec<String>,
    /// This page.
    pub page: u32,
    /// Its size.
    pub page_size: u32,
}

/// `GET /api/v1/inbox/reports` query.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct InboxQuery {
    /// Page, from 1.
    pub page: Option<String>,
    /// Reports a page (1–500, 20 by default).
    pub page_size: Option<String>,
}

/// The unread count (the navigation's badge).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UnreadCount {
    /// Unread reports in the caller's inbox.
    pub unread: u64,
}

/// `POST /api/v1/inbox/reports/read` answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MarkedRead {
    /// How many reports this marked read.
    pub marked: u64,
    /// Unread reports left (0).
    pub unread: u64,
}

fn report_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "report not found",
        "报告不存在",
    )
}

/// `GET /api/v1/inbox/reports` — the caller's report inbox.
pub async fn list(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<InboxQuery>,
) -> ApiResult<Json<ReportInboxPage>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let paging = Paging::parse(q.page.as_deref(), q.page_size.as_deref(), 20)?;
    let (s2, user) = (st.clone(), actor.user.clone());
    let (inbox, subscribed) = tokio::task::spawn_blocking(move || {
        let inbox =
            s2.store
                .report_inbox(&user, paging.offset() as u64, u64::from(paging.page_size))?;
        Ok::<_, jiesu_store::StoreError>((inbox, crate::report_subs::kinds_of(&s2, &user)?))
    })
    .await??;
    Ok(Json(ReportInboxPage {
        items: inbox.items.into_iter().map(Into::into).collect(),
        total: inbox.total,
        unread: inbox.unread,
        subscribed,
        page: paging.page,
        page_size: paging.page_size,
    }))
}

/// `GET /api/v1/inbox/reports/unread` — the caller's unread count.
pub async fn unread(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<UnreadCount>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let (s2, user) = (st.clone(), actor.user.clone());
    let unread = tokio::task::spawn_blocking(move || s2.store.report_inbox_unread(&user)).await??;
    Ok(Json(UnreadCount { unread }))
}

/// `POST /api/v1/inbox/reports/{id}/read` — marks one report read for the caller.
pub async fn read_one(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<UnreadCount>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let id: i64 = id.parse().map_err(|_| report_not_found())?;
    let (s2, user, now) = (st.clone(), actor.user.clone(), st.now());
    let unread = tokio::task::spawn_blocking(move || -> ApiResult<u64> {
        if !s2.store.mark_report_read(&user, id, now)? {
            return Err(report_not_found());
        }
        Ok(s2.store.report_inbox_unread(&user)?)
    })
    .await??;
    Ok(Json(UnreadCount { unread }))
}

/// `POST /api/v1/inbox/reports/read` — marks every report of the caller's inbox read.
pub async fn read_all(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<MarkedRead>> {
    crate::auth::require(&actor, Capability::Analytics)?;
    let (s2, user, now) = (st.clone(), actor.user.clone(), st.now());
    let (marked, unread) = tokio::task::spawn_blocking(move || {
        let marked = s2.store.mark_report_inbox_read(&user, now)?;
        Ok::<_, jiesu_store::StoreError>((marked, s2.store.report_inbox_unread(&user)?))
    })
    .await??;
    Ok(Json(MarkedRead { marked, unread }))
}

/// Records that `user` opened report `id` now (called where a report is read: its figures, HTML
/// and workbook). A report outside their inbox gets a read row too, harmlessly: only inbox rows
/// are ever counted.
pub fn opened(st: &AppState, user: &str, id: i64) -> ApiResult<()> {
    st.store.mark_report_read(user, id, st.now())?;
    Ok(())
}
