//! The callback desk (回访): the queue of tickets due for callback, the citizen's self-rating link
//! (a token instead of a call, no log-in), the supervisor's re-check sample, and praise credited to
//! the praised units.

use crate::auth::{new_token, token_hash, Caller};
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::paging::Paging;
use crate::tickets::load_visible;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::Duration;
use jiesu_domain::auth::Role;
use jiesu_domain::command::{execute, Command};
use jiesu_domain::ticket::{Resolution, Satisfaction};
use jiesu_domain::{ActorRef, CallbackOutcome, Status, TicketState};
use jiesu_store::{NewRecheck, RecheckVerdict, TicketQuery};
use serde::Deserialize;
use serde_json::{json, Value};

fn desk(actor: &jiesu_domain::Actor) -> ApiResult<()> {
    crate::auth::require(actor, jiesu_domain::capability::Capability::CallbackDesk)
}

/// The callback queue's paging parameters (`page` from 1, `page_size` 1–500, 50 by default).
#[derive(Deserialize, Default, schemars::JsonSchema)]
pub struct DueQuery {
    #[schemars(extend("pattern" = "^([1-9][0-9]*)?$"))]
    page: Option<String>,
    #[schemars(extend("pattern" = "^([1-9][0-9]?|[1-4][0-9]{2}|500)?$"))]
    page_size: Option<String>,
}

/// `GET /api/v1/callbacks/due?page=&page_size=` — one page of the queue: results submitted, then
/// open tickets whose finish deadline passed, each with its unreachable attempts; `total` counts
/// the whole queue.
pub async fn due(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<DueQuery>,
) -> ApiResult<axum::Json<Value>> {
    desk(&actor)?;
    let paging = Paging::parse(q.page.as_deref(), q.page_size.as_deref(), 50)?;
    let now = st.now();
    let s2 = st.clone();
    let (items, total) = tokio::task::spawn_blocking(move || -> jiesu_store::Result<(Vec<Value>, u64)> {
        let page = s2.store.callback_queue(now, paging.page, paging.page_size)?;
        let mut out = Vec::with_capacity(page.items.len());
        for t in page.items {
            let reason = if t.status == "result_submitted" { "result_submitted" } else { "deadline_passed" };
            let attempts = s2.store.load_ticket(t.id)?.map(|(s, _)| s.unreachable_attempts()).unwrap_or(0);
            out.push(json!({"id": t.id, "number": t.number, "title": t.title, "status": t.status,
                "status_label": Status::label_zh_of(&t.status), "lead_unit": t.lead_unit,
                "lead_unit_name": t.lead_unit.as_deref().and_then(|u| s2.org.get(u)).map(|u| u.name.clone()),
                "finish_deadline": t.finish_deadline, "reason": reason, "unreachable_attempts": attempts,
                "max_attempts": jiesu_domain::command::MAX_CALLBACK_ATTEMPTS}));
        }
        Ok((out, page.total))
    })
    .await??;
    Ok(axum::Json(paging.with_body(json!({"items": items}), total)))
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
    addr: crate::limits::ClientAddr,
    Path(token): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    crate::limits::per_address(
        &st,
        addr,
        "rate",
        st.limiter.limits.rate_per_hour,
        "too many rating-link requests from your address",
        "您所在地址访问评价链接过于频繁",
    )?;
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

#[derive(Deserialize, schemars::JsonSchema)]
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
    addr: crate::limits::ClientAddr,
    Path(token): Path<String>,
    Json(b): Json<RateBody>,
) -> ApiResult<axum::Json<Value>> {
    crate::limits::per_address(
        &st,
        addr,
        "rate",
        st.limiter.limits.rate_per_hour,
        "too many rating-link requests from your address",
        "您所在地址访问评价链接过于频繁",
    )?;
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
    // the one-time link authorizes the callback as the named system actor `self-rating`; the
    // event still names the citizen as the one who rated (the `self_rating` flag reads it)
    let system = jiesu_domain::Actor::system_named("self-rating");
    let actor = ActorRef {
        user: "citizen-self-rating".into(),
        role: Role::Citizen,
        unit: None,
    };
    let t = tokio::task::spawn_blocking(move || {
        let org = s2.org.clone();
        s2.store.use_rating_token(
            &th,
            id,
            Box::new(move |t: &mut TicketState| {
                jiesu_domain::auth::authorize(&system, &cmd, t, &org)?;
                Ok(execute(t, &cmd, &actor, now)?)
            }),
            now,
        )
    })
    .await??;
    Ok(axum::Json(
        json!({"number": t.number, "status": t.status.as_str(), "status_label": t.status.label_zh(), "thanks": "感谢您的评价"}),
    ))
}

#[derive(Deserialize, schemars::JsonSchema)]
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
    crate::auth::require(&actor, jiesu_domain::capability::Capability::Recheck)?;
    let parse = |f: &str, v: &str| crate::error::city_day(st.zone, f, v);
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
    // the first n (in that order) that have an answered callback — tickets closed without one
    // (answered directly, unreachable) have nothing to re-check — each with that callback, who
    // recorded it, and the re-check already recorded for it, if any
    let s2 = st.clone();
    let out = tokio::task::spawn_blocking(move || -> jiesu_store::Result<Vec<Value>> {
        let mut out = Vec::with_capacity(n);
        let mut picked = Vec::with_capacity(n);
        for t in items {
            if picked.len() == n {
                break;
            }
            let Some((state, events)) = s2.store.load_ticket(t.id)? else {
                continue;
            };
            let Some(cb) = answered_callback(&state, &events) else {
                continue;
            };
            picked.push((t, state.round, state.unreachable_attempts(), cb));
        }
        let ids: Vec<i64> = picked.iter().map(|p| p.0.id).collect();
        let rechecks = s2.store.rechecks_of(&ids)?;
        for (t, round, attempts, cb) in picked {
            let mut v = serde_json::to_value(&t)?;
            v["round"] = json!(round);
            v["lead_unit_name"] = json!(t
                .lead_unit
                .as_deref()
                .and_then(|u| s2.org.get(u))
                .map(|u| u.name.clone()));
            v["callback"] = cb.json.clone();
            v["unreachable_attempts"] = json!(attempts);
            v["recheck"] = rechecks
                .iter()
                .find(|r| r.ticket_id == t.id && r.round == cb.round)
                .map_or(Value::Null, |r| json!(r));
            out.push(v);
        }
        Ok(out)
    })
    .await??;
    Ok(axum::Json(
        json!({"items": out, "max_attempts": jiesu_domain::command::MAX_CALLBACK_ATTEMPTS}),
    ))
}

/// The last answered callback of a ticket, with who recorded it.
struct Answered {
    round: u32,
    at: chrono::DateTime<chrono::Utc>,
    json: Value,
}

fn answered_callback(state: &TicketState, events: &[jiesu_domain::Event]) -> Option<Answered> {
    let c = state
        .callbacks
        .iter()
        .rev()
        .find(|c| matches!(c.outcome, CallbackOutcome::Reached { .. }))?;
    let CallbackOutcome::Reached {
        contacted,
        resolution,
        satisfaction,
        attitude,
        comment,
    } = &c.outcome
    else {
        return None;
    };
    let by = events
        .iter()
        .rev()
        .find(|e| e.at == c.at && e.kind.name() == "callback_recorded")
        .map(|e| e.actor.clone());
    Some(Answered {
        round: c.round,
        at: c.at,
        json: json!({
            "round": c.round, "at": c.at, "contacted": contacted,
            "resolution": resolution.as_str(), "resolution_label": resolution.label_zh(),
            "satisfaction": satisfaction.as_str(), "satisfaction_label": satisfaction.label_zh(),
            "attitude": attitude.map(|a| a.as_str()), "comment": comment,
            "by": by.as_ref().map(|a| a.user.clone()),
            "self_rating": by.as_ref().is_some_and(|a| a.role == Role::Citizen),
        }),
    })
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct RecheckBody {
    ticket_id: i64,
    verdict: String,
    #[serde(default)]
    note: Option<String>,
}

fn supervisor(actor: &jiesu_domain::Actor) -> ApiResult<()> {
    crate::auth::require(actor, jiesu_domain::capability::Capability::Recheck)
}

/// `POST /api/v1/callbacks/rechecks` — the supervisor's re-check of a ticket's last answered
/// callback: `agree`, or `disagree` with a note. An audited record (also in `audit_log`), once per
/// handling round.
pub async fn record_recheck(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(b): Json<RecheckBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    supervisor(&actor)?;
    let verdict = RecheckVerdict::parse(&b.verdict).ok_or_else(|| {
        ApiError::invalid(
            "verdict",
            "verdict must be agree or disagree",
            "复核结论应为“一致”（agree）或“不一致”（disagree）",
        )
    })?;
    let note = b
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::invalid(
            "note",
            "the note is longer than 2,000 characters",
            "复核说明超过2000字",
        ));
    }
    if verdict == RecheckVerdict::Disagree && note.is_none() {
        return Err(ApiError::invalid(
            "note",
            "say what the re-check found when you disagree with the callback",
            "复核不一致时请填写复核说明",
        ));
    }
    let (state, events) = load_visible(&st, &actor, b.ticket_id).await?;
    let cb = answered_callback(&state, &events).ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "illegal_transition",
            "this ticket has no answered callback to re-check",
            "该工单尚无可复核的回访记录",
        )
    })?;
    let rec = NewRecheck {
        ticket_id: b.ticket_id,
        round: cb.round,
        callback_at: cb.at,
        verdict,
        note,
        user: actor.user.clone(),
        now: st.now(),
    };
    let s2 = st.clone();
    let r = tokio::task::spawn_blocking(move || s2.store.record_recheck(rec))
        .await?
        .map_err(|e| match e {
            jiesu_store::StoreError::Conflict(m) => ApiError::new(
                StatusCode::CONFLICT,
                "already_rechecked",
                m,
                "该轮回访已复核，不能重复记录",
            ),
            e => e.into(),
        })?;
    Ok((StatusCode::CREATED, axum::Json(json!(r))))
}

/// `GET /api/v1/callbacks/rechecks?from=&to=` — re-checks recorded in `[from, to)` (days, UTC),
/// newest first, with the number agreeing and disagreeing.
pub async fn rechecks(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<PraiseQuery>,
) -> ApiResult<axum::Json<Value>> {
    supervisor(&actor)?;
    let parse = |f: &str, v: &str| crate::error::city_day(st.zone, f, v);
    let (from, to) = (parse("from", &q.from)?, parse("to", &q.to)?);
    let s2 = st.clone();
    let items =
        tokio::task::spawn_blocking(move || s2.store.rechecks_between(from, to, 1000)).await??;
    let agree = items
        .iter()
        .filter(|r| r.verdict == RecheckVerdict::Agree)
        .count();
    Ok(axum::Json(
        json!({"items": items, "agree": agree, "disagree": items.len() - agree}),
    ))
}

/// `GET /api/v1/callbacks/unresolved` — tickets whose callback says 未解决 and that wait for the
/// reviewer: reopen (重办, with new deadlines) or close. Oldest callback first.
pub async fn unresolved(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    crate::auth::require(
        &actor,
        jiesu_domain::capability::Capability::CallbackUnresolved,
    )?;
    let s2 = st.clone();
    let rows = tokio::task::spawn_blocking(move || s2.store.unresolved_callbacks(200)).await??;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let name = r
                .lead_unit
                .as_deref()
                .and_then(|u| st.org.get(u))
                .map(|u| u.name.clone());
            let mut v = json!(r);
            v["lead_unit_name"] = json!(name);
            v
        })
        .collect();
    Ok(axum::Json(json!({"items": items})))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct PraiseQuery {
    from: String,
    to: String,
}

/// `GET /api/v1/praise?from=&to=` — praise (表扬) requests credited to the praised units (public).
pub async fn praise(
    State(st): State<AppState>,
    Query(q): Query<PraiseQuery>,
) -> ApiResult<axum::Json<Value>> {
    let parse = |f: &str, v: &str| crate::error::city_day(st.zone, f, v);
    let (from, to) = (parse("from", &q.from)?, parse("to", &q.to)?);
    let s2 = st.clone();
    let rows = tokio::task::spawn_blocking(move || s2.store.praise_by_unit(from, to)).await??;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(u, n)| json!({"unit_code": u, "unit_name": st.org.get(&u).map(|x| x.name.clone()), "praise": n}))
        .collect();
    Ok(axum::Json(json!({"items": items})))
}
