//! The unit inbox (待办提醒): the reminders and urgings addressed to a unit and the units below it.

use crate::auth::{require, Caller};
use crate::error::ApiResult;
use crate::AppState;
use axum::extract::State;
use serde_json::{json, Value};

/// `GET /api/v1/inbox` — a unit's reminders and overdue notices, newest first.
pub async fn inbox(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, jiesu_domain::capability::Capability::UnitDesk)?;
    let units: Vec<String> = match &actor.unit {
        Some(u) => {
            let mut out = vec![u.clone()];
            let mut i = 0;
            while i < out.len() {
                let kids: Vec<String> = st
                    .org
                    .children(&out[i])
                    .filter(|k| k.kind.dispatchable())
                    .map(|k| k.code.clone())
                    .collect();
                out.extend(kids);
                i += 1;
            }
            out
        }
        None => return Ok(axum::Json(json!({"items": []}))),
    };
    let s2 = st.clone();
    let ev = tokio::task::spawn_blocking(move || {
        s2.store.unit_events(&units, &["reminded", "urged"], 100)
    })
    .await??;
    let items: Vec<Value> = ev
        .into_iter()
        .map(|(id, number, e)| {
            let mut v = crate::views::event_view(&st, &e, false);
            v["ticket_id"] = json!(id);
            v["number"] = json!(number);
            v
        })
        .collect();
    // the newest reports (日通报 / 周汇总 / 月分析) for those who may read them (a unit manager):
    // of the kinds they subscribe to when they subscribe to any (报告订阅), else of every kind
    let reports: Vec<Value> =
        if jiesu_domain::capability::Capability::Analytics.granted_to(actor.role) {
            let (s2, user) = (st.clone(), actor.user.clone());
            let (rows, subscribed) = tokio::task::spawn_blocking(move || {
                let kinds = crate::report_subs::kinds_of(&s2, &user)?;
                if kinds.is_empty() {
                    return Ok((s2.store.list_reports(None, 0, 5)?.0, false));
                }
                let mut rows = Vec::new();
                for k in &kinds {
                    rows.extend(s2.store.list_reports(Some(k), 0, 5)?.0);
                }
                rows.sort_by(|a, b| {
                    (b.from, b.generated_at, b.id).cmp(&(a.from, a.generated_at, a.id))
                });
                rows.truncate(5);
                Ok::<_, jiesu_store::StoreError>((rows, true))
            })
            .await??;
            rows.into_iter()
                .map(|r| {
                    let mut v = serde_json::to_value(crate::reports::ReportItem::from(r))
                        .unwrap_or_default();
                    v["subscribed"] = json!(subscribed);
                    v
                })
                .collect()
        } else {
            Vec::new()
        };
    // the unit's open early-warning alerts (未诉先办)
    let s2 = st.clone();
    let alerts =
        tokio::task::spawn_blocking(move || crate::alerts::open_for(&s2, &actor, 10)).await??;
    Ok(axum::Json(
        json!({"items": items, "reports": reports, "alerts": alerts}),
    ))
}
