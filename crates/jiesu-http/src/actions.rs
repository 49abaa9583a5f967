//! `POST /api/v1/tickets/{id}/{action}`: parses the body into the domain's request type and, inside
//! the write transaction on the state being changed, lets the domain prepare the command
//! (`jiesu_domain::prepare`), authorize it (`jiesu_domain::auth::authorize`) and decide — so what
//! is checked is what is written. `GET /api/v1/actions` serves the action table.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::tickets::{load_visible, view_and_audit};
use crate::AppState;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use jiesu_domain::auth::{authorize, Actor};
use jiesu_domain::command::execute;
use jiesu_domain::prepare::attach_duplicate;
use jiesu_domain::ticket::{DeadlineTier, Intake};
use jiesu_domain::{prepare, Action, ActionRequest, Context, TicketId, TicketState};
use jiesu_routing::RouteFacts;
use serde_json::Value;

/// Runs `f` with the domain's context for this server at `now`: the org and category trees, the
/// deadline policy on the working calendar, and the published catalogue's tier (looked up only
/// when a dispatch leaves the tier out).
pub fn with_context<R>(
    st: &AppState,
    now: DateTime<Utc>,
    merge_primary: Option<(TicketId, String)>,
    f: impl FnOnce(&Context) -> R,
) -> R {
    let catalogue_tier = |i: &Intake| -> Option<DeadlineTier> {
        crate::routing::current_catalogue(st)
            .router_in(&st.org, st.zone)
            .quick_lead(&RouteFacts::from_intake(i), now)
            .map(|q| q.tier)
    };
    f(&Context {
        org: &st.org,
        categories: &st.categories,
        now,
        deadlines: &*st.deadlines,
        catalogue_tier: &catalogue_tier,
        merge_primary,
    })
}

/// The actions the caller could take on this ticket now (the UI shows only these).
pub fn allowed_actions(st: &AppState, actor: &Actor, t: &TicketState) -> Vec<&'static str> {
    with_context(st, st.now(), None, |ctx| {
        jiesu_domain::allowed_actions(actor, t, ctx)
            .into_iter()
            .map(Action::wire)
            .collect()
    })
}

/// `GET /api/v1/actions` — the action table: wire names, labels, roles and body fields.
pub async fn list() -> axum::Json<crate::views::ActionList> {
    axum::Json(crate::views::ActionList {
        items: Action::catalogue(),
    })
}

fn unknown(action: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "unknown_action",
        format!("unknown action '{action}'; actions: {}", Action::names()),
        format!("未知操作“{action}”"),
    )
}

/// The ticket a merge names in `into` (a number, or an id), if the caller may see it.
async fn merge_primary(st: &AppState, actor: &Actor, into: &str) -> ApiResult<(TicketId, String)> {
    let missing = || {
        ApiError::invalid(
            "into",
            format!("no ticket numbered '{into}'"),
            format!("工单“{into}”不存在"),
        )
    };
    let (s2, n) = (st.clone(), into.to_string());
    let primary = tokio::task::spawn_blocking(move || s2.store.ticket_id_by_number(&n))
        .await??
        .or_else(|| into.parse::<i64>().ok())
        .ok_or_else(missing)?;
    let (p, _) = load_visible(st, actor, primary)
        .await
        .map_err(|_| missing())?;
    Ok((primary, p.number))
}

/// `POST /api/v1/tickets/{id}/{action}`.
pub async fn act(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path((id, action)): Path<(String, String)>,
    Json(b): Json<Value>,
) -> ApiResult<axum::Json<crate::views::TicketView>> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let action = Action::routed(&action).ok_or_else(|| unknown(&action))?;
    // visibility first: a foreign unit gets 404 whatever it asks
    let (current, _) = load_visible(&st, &actor, id).await?;
    crate::auth::require_action(&actor, action)?;
    // a body is an object of the action's fields (none sent reads as `{}`): an array, a string or
    // `null` is refused, not taken as "no fields"
    if !b.is_object() {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "the body must be a JSON object of the action's fields",
            "请求内容应为 JSON 对象",
        ));
    }
    let req = ActionRequest::from_json(action, b).ok_or_else(|| unknown(action.wire()))??;
    let now = st.now();
    let state = if let ActionRequest::Merge(m) = &req {
        let primary = merge_primary(&st, &actor, &m.into).await?;
        let (pid, dup_number) = (primary.0, current.number.clone());
        let (a1, a2, s1, s2) = (actor.clone(), actor.clone(), st.clone(), st.clone());
        let c1: jiesu_store::Change = Box::new(move |t: &mut TicketState| {
            let cmd = with_context(&s1, now, Some(primary), |ctx| prepare(req, &a1, t, ctx))?;
            authorize(&a1, &cmd, t, &s1.org)?;
            Ok(execute(t, &cmd, &a1.to_ref(None), now)?)
        });
        let c2: jiesu_store::Change = Box::new(move |t: &mut TicketState| {
            let cmd = attach_duplicate(id, dup_number);
            authorize(&a2, &cmd, t, &s2.org)?;
            Ok(execute(t, &cmd, &a2.to_ref(None), now)?)
        });
        let s3 = st.clone();
        tokio::task::spawn_blocking(move || s3.store.update_two((id, c1), (pid, c2)))
            .await??
            .0
    } else {
        let (s2, a2) = (st.clone(), actor.clone());
        let change: jiesu_store::Change = Box::new(move |t: &mut TicketState| {
            let cmd = with_context(&s2, now, None, |ctx| prepare(req, &a2, t, ctx))?;
            authorize(&a2, &cmd, t, &s2.org)?;
            let acting = cmd.acting_unit().map(str::to_string);
            Ok(execute(t, &cmd, &a2.to_ref(acting.as_deref()), now)?)
        });
        let s3 = st.clone();
        tokio::task::spawn_blocking(move || s3.store.update_ticket(id, change))
            .await??
            .0
    };
    Ok(axum::Json(view_and_audit(&st, &actor, &state).await?))
}
