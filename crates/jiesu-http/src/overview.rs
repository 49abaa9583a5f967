//! The overview (概览) that supervisors, leaders and dispatchers land on: today's intake, open
//! tickets by status, overdue now, pending reviews (returns and extensions), and alerts (tickets
//! overdue by more than [`LONG_OVERDUE_DAYS`] days, open escalations). Every figure carries the
//! `#/tickets` filter that lists it. A unit manager sees their own unit and the units below it.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::State;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use jiesu_domain::auth::Actor;
use jiesu_store::TicketQuery;
use serde_json::{json, Value};

/// An alert is raised for tickets whose lead finish deadline passed more than this many days ago
/// (超期三天以上).
pub const LONG_OVERDUE_DAYS: i64 = 3;

/// The share of a clock's span at whose end a deadline counts as "due soon" (即将到期): the
/// deadline policy's default ([`jiesu_routing::DueSoon`], warn once 80 % of the span has passed,
/// i.e. in the last 20 %). Served in `GET /enums` (`deadline_policy.due_soon_share`) so the UI
/// does not hard-code it; the ticket view's `due_soon` state uses the same fifth.
pub fn due_soon_share() -> f64 {
    match jiesu_routing::DueSoon::default() {
        jiesu_routing::DueSoon::Fraction(f) => (1.0 - f).clamp(0.0, 1.0),
        jiesu_routing::DueSoon::RemainingMinutes(_) => 0.2,
    }
}

/// Statuses counted as open (在办), in the order the page shows them.
const OPEN_STATUSES: [&str; 6] = [
    "new",
    "consultation",
    "dispatched",
    "in_progress",
    "return_review",
    "result_submitted",
];

/// The city-local calendar day of `now` (今日) in the city's zone and its bounds in UTC,
/// `[start, end)` (23 or 25 hours long on a daylight-saving change).
pub fn city_today(
    now: DateTime<Utc>,
    zone: jiesu_domain::CityZone,
) -> (NaiveDate, DateTime<Utc>, DateTime<Utc>) {
    let day = zone.date(now);
    let (start, end) = zone.day_bounds(day);
    (day, start, end)
}

/// The units an actor's overview covers: a unit manager's unit and every unit below it; `None`
/// (the whole city) for the centre's roles (a unit manager is the only unit role with the
/// overview capability).
fn scope(st: &AppState, actor: &Actor) -> ApiResult<Option<Vec<String>>> {
    if !actor.role.is_unit() {
        return Ok(None);
    }
    let unit = actor
        .unit
        .clone()
        .ok_or_else(|| ApiError::invalid("unit", "your account has no unit", "账号未绑定单位"))?;
    let mut out = vec![unit];
    let mut i = 0;
    while i < out.len() {
        let kids: Vec<String> = st.org.children(&out[i]).map(|u| u.code.clone()).collect();
        out.extend(kids);
        i += 1;
    }
    Ok(Some(out))
}

/// `GET /api/v1/overview` (supervisor, admin, dispatcher, unit_manager — scoped) → `{date, scope,
/// today: {intake, href}, open: {total, by_status: [{status, label_zh, count, href}]},
/// overdue: {count, href}, reviews: {returns, extensions, total, href}, alerts: [{code, zh, en,
/// count, href}]}`.
pub async fn overview(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    crate::auth::require(&actor, jiesu_domain::capability::Capability::Overview)?;
    let units = scope(&st, &actor)?;
    let now = st.now();
    let (day, start, end) = city_today(now, st.zone);
    let s2 = st.clone();
    let a2 = actor.clone();
    let unit_param = actor.unit.clone().filter(|_| actor.role.is_unit());
    let v = tokio::task::spawn_blocking(move || -> anyhow::Result<Value> {
        let count = |f: &dyn Fn(&mut TicketQuery)| -> anyhow::Result<u64> {
            let mut q = TicketQuery {
                units: units.clone(),
                page: 1,
                page_size: 1,
                ..Default::default()
            };
            f(&mut q);
            Ok(s2.store.list_tickets(&q)?.total)
        };
        let unit_q = unit_param
            .as_deref()
            .map(|u| format!("&unit={u}"))
            .unwrap_or_default();
        let href = |q: &str| format!("#/tickets?{}{unit_q}", q.trim_start_matches('&'));
        let intake = count(&|q| {
            q.from = Some(start);
            q.to = Some(end);
        })?;
        let mut by_status = Vec::new();
        let mut open_total = 0;
        for s in OPEN_STATUSES {
            let n = count(&|q| q.status = Some(s.to_string()))?;
            open_total += n;
            let label = jiesu_domain::Status::parse(s).map(|x| x.label_zh());
            by_status.push(json!({"status": s, "label_zh": label, "count": n,
                                  "href": href(&format!("status={s}"))}));
        }
        let overdue = count(&|q| q.overdue_at = Some(now))?;
        let long_overdue =
            count(&|q| q.overdue_at = Some(now - Duration::days(LONG_OVERDUE_DAYS)))?;
        let (mut returns, mut extensions) = (0u64, 0u64);
        for id in s2.store.pending_review_tickets()? {
            if let Some((t, _)) = s2.store.load_ticket(id)? {
                if !jiesu_domain::auth::can_view(&a2, &t, &s2.org) {
                    continue;
                }
                for a in t.assignments.iter().filter(|a| a.state.active()) {
                    returns += u64::from(a.pending_return.is_some());
                    extensions += u64::from(a.pending_extension.is_some());
                }
            }
        }
        let mut escalated_open = 0u64;
        for id in s2.store.escalated_tickets(500)? {
            if let Some((t, _)) = s2.store.load_ticket(id)? {
                use jiesu_domain::Status as S;
                let settled = matches!(
                    t.status,
                    S::ResultSubmitted
                        | S::CallbackDone
                        | S::Closed
                        | S::Archived
                        | S::Merged
                        | S::Answered
                        | S::SpecialHandled
                );
                if !settled && jiesu_domain::auth::can_view(&a2, &t, &s2.org) {
                    escalated_open += 1;
                }
            }
        }
        let mut alerts = Vec::new();
        if long_overdue > 0 {
            alerts.push(json!({"code": "long_overdue", "count": long_overdue,
                "zh": format!("{long_overdue} 件超期 {LONG_OVERDUE_DAYS} 天以上"),
                "en": format!("{long_overdue} overdue by more than {LONG_OVERDUE_DAYS} days"),
                "href": href("overdue=true&sort=deadline")}));
        }
        if escalated_open > 0 {
            alerts.push(json!({"code": "escalations", "count": escalated_open,
                "zh": format!("{escalated_open} 件提级办理中"),
                "en": format!("{escalated_open} escalated and still open"),
                "href": "#/supervision?tab=escalations"}));
        }
        if returns + extensions > 0 {
            alerts.push(json!({"code": "reviews", "count": returns + extensions,
                "zh": format!("{} 件退单/延期待审核", returns + extensions),
                "en": format!("{} returns/extensions to review", returns + extensions),
                "href": "#/supervision?tab=reviews"}));
        }
        let today = day.format("%Y-%m-%d").to_string();
        Ok(json!({
            "date": today,
            "scope": unit_param,
            "today": {"intake": intake, "href": href(&format!("from={today}&to={today}"))},
            "open": {"total": open_total, "by_status": by_status},
            "overdue": {"count": overdue, "href": href("overdue=true&sort=deadline")},
            "reviews": {"returns": returns, "extensions": extensions, "total": returns + extensions,
                        "href": "#/supervision?tab=reviews"},
            "alerts": alerts,
            "long_overdue_days": LONG_OVERDUE_DAYS,
        }))
    })
    .await?
    .map_err(ApiError::internal)?;
    Ok(axum::Json(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_is_the_city_day() {
        // 2026-03-01 17:30 UTC is 2026-03-02 01:30 in Beijing
        let now = DateTime::parse_from_rfc3339("2026-03-01T17:30:00Z")
            .map(|t| t.with_timezone(&Utc))
            .ok();
        let Some(now) = now else { panic!("bad time") };
        let (day, start, end) = city_today(now, jiesu_domain::CityZone::default());
        assert_eq!(day.to_string(), "2026-03-02");
        assert_eq!(start.to_rfc3339(), "2026-03-01T16:00:00+00:00");
        assert_eq!(end - start, Duration::days(1));
        // New York on the day clocks go forward (8 March 2026): 23 hours
        let ny = jiesu_domain::CityZone::parse("America/New_York").unwrap();
        let now = DateTime::parse_from_rfc3339("2026-03-08T16:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let (day, start, end) = city_today(now, ny);
        assert_eq!(day.to_string(), "2026-03-08");
        assert_eq!(end - start, Duration::hours(23));
    }
}
