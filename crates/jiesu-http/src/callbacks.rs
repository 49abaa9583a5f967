//! The callback desk (回访): the queue of tickets due for callback, the citizen's self-rating link
//! (a token instead of a call, no log-in), the supervisor's re-check sample, and praise credited to
//! the praised units.

use crate::auth::{new_token, token_hash, Caller};
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::tickets::load_visible;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::Duration;
use jiesu_domain::auth::Role;
use jiesu_domain::command::{execute, Command};
use jiesu_domain::ticket::{Resolution, Satisfaction};
use jiesu_domain::{ActorRef, CallbackOutcome, Status, TicketState};
use jiesu_store::{TicketQuery, TicketStore};
use serde::Deserialize;
use serde_json::{json, Value};

fn desk(actor: &jiesu_domain::Actor) -> ApiResult<()> {
    if matches!(
        actor.role,
        Role::CallbackAgent | Role::Supervisor | Role::Admin
    ) {
        Ok(())
    } else {
        Err(jiesu_domain::auth::Denied::Role {
            role: actor.role,
            action: "callback".into(),
        }
        .into())
    }
}

/// `GET /api/v1/callbacks/due` — results submitted, then open tickets whose finish deadline passed.
pub async fn due(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    desk(&actor)?;
    let now = st.now();
    let s2 = st.clone();
    let items = tokio::task::spawn_blocking(move || -> jiesu_store::Result<Vec<Value>> {
        let mut out = Vec::new();
        for (q, reason) in [
            (TicketQuery { status: Some("result_submitted".into()), by_deadline: true, page_size: 100, ..Default::default() }, "result_submitted"),
            (TicketQuery { overdue_at: Some(now), by_deadline: true, page_size: 50, ..Default::default() }, "deadline_passed"),
        ] {
            for t in s2.store.list_tickets(&q)?.items {
                let attempts = s2.store.load_ticket(t.id)?.map(|(s, _)| s.unreachable_attempts()).unwrap_or(0);
                out.push(json!({"id": t.id, "number": t.number, "title": t.title, "status": t.status,
                    "status_label": Status::label_zh_of(&t.status), "lead_unit": t.lead_unit,
                    "lead_unit_name": t.lead_unit.as_deref().and_then(|u| s2.org.get(u)).map(|u| u.name.clone()),
                    "finish_deadline": t.finish_deadline, "reason": reason, "unreachable_attempts": attempts,
                    "max_attempts": jiesu_domain::command::MAX_CALLBACK_ATTEMPTS}));
            }
        }
        Ok(out)
    })
    .await??;
    Ok(axum::Json(json!({"items": items})))
}

/// `POST /api/v1/tickets/{id}/rating-link` — a one-time link the citizen can use instead of a call.
pub async fn rating_link(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    desk(&actor)?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let (t, _) = load_visible(&st, &actor, id).await?;
    if t.status != Status::ResultSubmitted {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "illegal_transition",
            "a rating link is for tickets waiting for their callback",
            "仅待回访的工单可发送评价链接",
        ));
    }
    let token = new_token();
    let (s2, th, now, round) = (st.clone(), token_hash(&token), st.now(), t.round);
    let expires = now + Duration::days(7);
    tokio::task::spawn_blocking(move || s2.store.save_rating_token(&th, id, round, now, expires))
        .await??;
    Ok(axum::Json(
        json!({"token": token, "url": format!("/#/rate/{token}"), "expires_at": expires}),
    ))
}

async fn token_ticket(st: &AppState, token: &str) -> ApiResult<(i64, TicketState)> {
    let (s2, th, now) = (st.clone(), token_hash(token), st.now());
    let gone = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "this rating link is unknown, used or expired",
            "评价链接无效、已使用或已过期",
        )
    };
    let found = tokio::task::spawn_blocking(move || -> jiesu_store::Result<_> {
        match s2.store.rating_token(&th, now)? {
            Some((id, round)) => Ok(s2.store.load_ticket(id)?.map(|(t, _)| (id, round, t))),
            None => Ok(None),
        }
    })
    .await??;
    match found {
        Some((id, round, t)) if t.round == round && t.status == Status::ResultSubmitted => {
            Ok((id, t))
        }
        _ => Err(gone()),
    }
}

/// `GET /api/v1/public/rate/{token}` — what the citizen is asked about (no personal data).
pub async fn rate_info(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let (_, t) = token_ticket(&st, &token).await?;
    let units: Vec<String> = t
        .assignments
        .iter()
        .filter(|a| a.round == t.round)
        .filter_map(|a| st.org.get(&a.unit).map(|u| u.name.clone()))
        .collect();
    Ok(axum::Json(
        json!({"number": t.number, "title": t.intake.title, "result_text": t.result_text,
        "units": units, "status_label": t.status.label_zh()}),
    ))
}

#[derive(Deserialize)]
pub struct RateBody {
    contacted: bool,
    resolution: String,
    satisfaction: String,
    #[serde(default)]
    comment: Option<String>,
}

/// `POST /api/v1/public/rate/{token}` — the citizen's own answers become the round's callback.
pub async fn rate(
    State(st): State<AppState>,
    Path(token): Path<String>,
    Json(b): Json<RateBody>,
) -> ApiResult<axum::Json<Value>> {
    let (id, _) = token_ticket(&st, &token).await?;
    let resolution = Resolution::parse(&b.resolution).ok_or_else(|| {
        ApiError::invalid(
            "resolution",
            format!("one of: {}", Resolution::names()),
            "请选择解决情况",
        )
    })?;
    let satisfaction = Satisfaction::parse(&b.satisfaction).ok_or_else(|| {
        ApiError::invalid(
            "satisfaction",
            format!("one of: {}", Satisfaction::names()),
            "请选择满意程度",
        )
    })?;
    let cmd = Command::Callback {
        outcome: CallbackOutcome::Reached {
            contacted: b.contacted,
            resolution,
            satisfaction,
            attitude: None,
            comment: b.comment.map(|c| c.chars().take(2000).collect()),
        },
    };
    let (s2, th, now) = (st.clone(), token_hash(&token), st.now());
    let actor = ActorRef {
        user: "citizen-self-rating".into(),
        role: Role::Citizen,
        unit: None,
    };
    let t = tokio::task::spawn_blocking(move || {
        s2.store.use_rating_token(
            &th,
            id,
            Box::new(move |t: &mut TicketState| Ok(execute(t, &cmd, &actor, now)?)),
            now,
        )
    })
    .await??;
    Ok(axum::Json(
        json!({"number": t.number, "status": t.status.as_str(), "status_label": t.status.label_zh(), "thanks": "感谢您的评价"}),
    ))
}

#[derive(Deserialize)]
pub struct SampleQuery {
    from: String,
    to: String,
    n: Option<u32>,
}

/// `GET /api/v1/callbacks/recheck-sample?from=&to=&n=20` — a reproducible random sample of
/// called-back tickets for the supervisor to re-check.
pub async fn recheck_sample(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<SampleQuery>,
) -> ApiResult<axum::Json<Value>> {
    if !matches!(actor.role, Role::Supervisor | Role::Admin) {
        return Err(jiesu_domain::auth::Denied::Role {
            role: actor.role,
            action: "recheck".into(),
        }
        .into());
    }
    let parse = crate::error::utc_day;
    let (from, to) = (parse("from", &q.from)?, parse("to", &q.to)?);
    let n = q.n.unwrap_or(20).clamp(1, 200) as usize;
    let s2 = st.clone();
    let mut items = tokio::task::spawn_blocking(
        move || -> jiesu_store::Result<Vec<jiesu_store::TicketSummary>> {
            let mut all = Vec::new();
            for status in ["callback_done", "closed"] {
                all.extend(
                    s2.store
                        .list_tickets(&TicketQuery {
                            status: Some(status.into()),
                            from: Some(from),
                            to: Some(to),
                            page_size: 500,
                            ..Default::default()
                        })?
                        .items,
                );
            }
            Ok(all)
        },
    )
    .await??;
    // reproducible: order by a hash of the ticket number, take the first n
    items.sort_by_key(|t| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        t.number.hash(&mut h);
        h.finish()
    });
    items.truncate(n);
    Ok(axum::Json(json!({"items": items})))
}

#[derive(Deserialize)]
pub struct PraiseQuery {
    from: String,
    to: String,
}

/// `GET /api/v1/praise?from=&to=` — praise (表扬) requests credited to the praised units (public).
pub async fn praise(
    State(st): State<AppState>,
    Query(q): Query<PraiseQuery>,
) -> ApiResult<axum::Json<Value>> {
    let parse = crate::error::utc_day;
    let (from, to) = (parse("from", &q.from)?, parse("to", &q.to)?);
    let s2 = st.clone();
    let rows = tokio::task::spawn_blocking(move || s2.store.praise_by_unit(from, to)).await??;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(u, n)| json!({"unit_code": u, "unit_name": st.org.get(&u).map(|x| x.name.clone()), "praise": n}))
        .collect();
    Ok(axum::Json(json!({"items": items})))
}
