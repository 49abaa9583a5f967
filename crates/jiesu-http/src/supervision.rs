//! Supervision routes (督办): the overdue board, bulk urging, the centre's review queue, the
//! escalations list and dispatch accuracy.

use crate::auth::require;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::State;
use chrono::{DateTime, Utc};
use jiesu_domain::auth::authorize;
use jiesu_domain::capability::Capability;
use jiesu_domain::command::{execute, Command};
use jiesu_domain::{ActorRef, AssignmentState, TicketState};
use jiesu_store::StoreError;
use serde::Deserialize;
use serde_json::{json, Value};

fn ageing_bucket(hours: i64) -> &'static str {
    match hours {
        h if h < 24 => "lt_1d",
        h if h < 72 => "d1_3",
        h if h < 168 => "d3_7",
        _ => "gt_7d",
    }
}

/// `GET /api/v1/supervision/overdue` — overdue assignments by unit and by district, with ageing.
pub async fn overdue_board(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, Capability::SupervisionView)?;
    let now = st.now();
    let s2 = st.clone();
    let a2 = actor.clone();
    let rows = tokio::task::spawn_blocking(
        move || -> jiesu_store::Result<Vec<(String, String, String, i64)>> {
            let mut out = Vec::new();
            s2.store.open_assignments(&mut |a| {
                if !a2.covers(&a.unit_code, &s2.org) {
                    return Ok(());
                }
                if let Some(due) = jiesu_store::time::parse(&a.finish_deadline) {
                    if due < now {
                        out.push((
                            a.unit_code,
                            a.district_code,
                            a.role,
                            (now - due).num_hours(),
                        ));
                    }
                }
                Ok(())
            })?;
            Ok(out)
        },
    )
    .await??;
    let mut by_unit: std::collections::BTreeMap<String, (u64, [u64; 4], i64)> = Default::default();
    let mut by_district: std::collections::BTreeMap<String, (u64, [u64; 4])> = Default::default();
    for (unit, district, _role, hours) in &rows {
        let b = match ageing_bucket(*hours) {
            "lt_1d" => 0,
            "d1_3" => 1,
            "d3_7" => 2,
            _ => 3,
        };
        let e = by_unit.entry(unit.clone()).or_default();
        e.0 += 1;
        e.1[b] += 1;
        e.2 = e.2.max(*hours);
        let d = by_district.entry(district.clone()).or_default();
        d.0 += 1;
        d.1[b] += 1;
    }
    let name = |c: &str| st.org.get(c).map(|u| u.name.clone());
    let mut units: Vec<Value> = by_unit
        .iter()
        .map(|(u, (n, b, max))| json!({"unit_code": u, "unit_name": name(u), "kind": st.org.get(u).map(|x| x.kind.as_str()),
                                       "overdue": n, "lt_1d": b[0], "d1_3": b[1], "d3_7": b[2], "gt_7d": b[3], "oldest_hours": max}))
        .collect();
    units.sort_by(|a, b| b["overdue"].as_u64().cmp(&a["overdue"].as_u64()));
    let districts: Vec<Value> = by_district
        .iter()
        .map(|(d, (n, b))| json!({"district_code": d, "district_name": name(d), "overdue": n, "lt_1d": b[0], "d1_3": b[1], "d3_7": b[2], "gt_7d": b[3]}))
        .collect();
    Ok(axum::Json(
        json!({"at": now, "total": rows.len(), "units": units, "districts": districts}),
    ))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct UrgeBody {
    /// Units whose overdue lead assignments are urged (the board's selected rows).
    #[serde(default)]
    units: Vec<String>,
    /// Or these tickets (their active lead assignment).
    #[serde(default)]
    tickets: Vec<i64>,
    note: String,
}

/// `POST /api/v1/supervision/remind` — 批量催办: urges every overdue lead assignment of the chosen
/// units (or the chosen tickets) at once; each becomes an `urged` event on its ticket and an item
/// in the unit's inbox. Answers how many were urged and which ticket numbers.
pub async fn remind_bulk(
    State(st): State<AppState>,
    Caller(actor): Caller,
    body: Result<axum::Json<UrgeBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, Capability::RemindBulk)?;
    let axum::Json(b) = body.map_err(|e| {
        ApiError::invalid(
            "body",
            format!("the request is not understood: {}", e.body_text()),
            "请求格式错误",
        )
    })?;
    let note = b.note.trim().to_string();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(ApiError::invalid(
            "note",
            "a note of 1 to 500 characters is required",
            "请填写催办说明（1–500 字）",
        ));
    }
    if b.units.is_empty() && b.tickets.is_empty() {
        return Err(ApiError::invalid(
            "units",
            "choose at least one unit or ticket",
            "请至少选择一个单位或工单",
        ));
    }
    for u in &b.units {
        if st.org.get(u).is_none() {
            return Err(ApiError::invalid(
                "units",
                format!("unknown unit '{u}'"),
                format!("单位“{u}”不存在"),
            ));
        }
    }
    let now = st.now();
    let s2 = st.clone();
    let who = ActorRef {
        user: actor.user.clone(),
        role: actor.role,
        unit: actor.unit.clone(),
    };
    let by = actor.clone();
    let (urged, skipped) = tokio::task::spawn_blocking(
        move || -> jiesu_store::Result<(Vec<(i64, String)>, usize)> {
            let units: std::collections::HashSet<&str> =
                b.units.iter().map(String::as_str).collect();
            let mut targets: Vec<(i64, String)> = Vec::new();
            if !units.is_empty() {
                s2.store.open_assignments(&mut |a| {
                    let overdue =
                        jiesu_store::time::parse(&a.finish_deadline).is_some_and(|due| due < now);
                    if overdue && a.role == "lead" && units.contains(a.unit_code.as_str()) {
                        targets.push((a.ticket_id, a.unit_code));
                    }
                    Ok(())
                })?;
            }
            for id in &b.tickets {
                if let Some((t, _)) = s2.store.load_ticket(*id)? {
                    if let Some(a) = t.assignments.iter().find(|a| {
                        a.state.active() && a.role == jiesu_domain::ticket::AssignmentRole::Lead
                    }) {
                        targets.push((*id, a.unit.clone()));
                    }
                }
            }
            targets.sort();
            targets.dedup();
            let mut urged = Vec::new();
            let mut skipped = 0;
            for (id, unit) in targets {
                let cmd = Command::Urge {
                    unit: unit.clone(),
                    note: note.clone(),
                };
                let (w, by, org) = (who.clone(), by.clone(), s2.org.clone());
                match s2.store.update_ticket(
                    id,
                    Box::new(move |t: &mut TicketState| {
                        authorize(&by, &cmd, t, &org)?;
                        Ok(execute(t, &cmd, &w, now)?)
                    }),
                ) {
                    Ok((t, _)) => urged.push((id, t.number.clone())),
                    Err(StoreError::Domain(_)) => skipped += 1, // finished meanwhile
                    Err(StoreError::Denied(_)) => skipped += 1, // not the caller's to urge
                    Err(e) => return Err(e),
                }
            }
            Ok((urged, skipped))
        },
    )
    .await??;
    Ok(axum::Json(json!({
        "urged": urged.len(),
        "skipped": skipped,
        "tickets": urged.iter().map(|(id, n)| json!({"id": id, "number": n})).collect::<Vec<_>>(),
    })))
}

fn clock_json(due: DateTime<Utc>, start: DateTime<Utc>, now: DateTime<Utc>) -> Value {
    let state =
        jiesu_routing::clock_state(due, None, now, start, jiesu_routing::DueSoon::default());
    json!({"due": due, "state": state.as_str(), "state_label": state.label_zh()})
}

/// `GET /api/v1/supervision/reviews` — 审核队列: every pending return (退单) and extension (延期)
/// request with the centre's own review deadline (policy `review`), the most urgent first.
pub async fn review_queue(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, Capability::ReviewQueue)?;
    let now = st.now();
    let s2 = st.clone();
    let tickets = tokio::task::spawn_blocking(move || -> jiesu_store::Result<Vec<TicketState>> {
        let mut out = Vec::new();
        for id in s2.store.pending_review_tickets()? {
            if let Some((t, _)) = s2.store.load_ticket(id)? {
                out.push(t);
            }
        }
        Ok(out)
    })
    .await??;
    let mut items: Vec<(DateTime<Utc>, Value)> = Vec::new();
    for t in &tickets {
        for a in t.assignments.iter().filter(|a| a.state.active()) {
            let mut push = |kind: jiesu_routing::ReviewKind, at: DateTime<Utc>, detail: Value| {
                let due = st
                    .deadlines
                    .policy
                    .review_due(kind, at, &st.deadlines.calendar);
                items.push((
                    due,
                    json!({
                        "ticket_id": t.id, "number": t.number, "title": t.intake.title,
                        "status": t.status.as_str(),
                        "category_path": st.categories.path_label(&t.intake.category_code),
                        "district_name": crate::views::unit_name(&st, &t.intake.place.district_code),
                        "unit_code": a.unit, "unit_name": crate::views::unit_name(&st, &a.unit),
                        "role": a.role.as_str(),
                        "kind": match kind { jiesu_routing::ReviewKind::Return => "return", jiesu_routing::ReviewKind::Extension => "extension" },
                        "requested_at": at, "review": clock_json(due, at, now),
                        "detail": detail,
                    }),
                ));
            };
            if let Some(r) = &a.pending_return {
                push(
                    jiesu_routing::ReviewKind::Return,
                    r.at,
                    json!({"reason": r.reason.as_str(), "reason_label": r.reason.label_zh(), "text": r.text}),
                );
            }
            if let Some(x) = &a.pending_extension {
                push(
                    jiesu_routing::ReviewKind::Extension,
                    x.at,
                    json!({"until": x.until, "reason": x.reason, "finish_due": a.deadlines.finish}),
                );
            }
        }
    }
    items.sort_by_key(|(due, _)| *due);
    let overdue = items.iter().filter(|(d, _)| *d < now).count();
    Ok(axum::Json(json!({
        "at": now, "total": items.len(), "overdue": overdue,
        "policy": {"return_review": st.deadlines.policy.review.return_review, "extension_review": st.deadlines.policy.review.extension_review},
        "items": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/supervision/escalations` — 提级响应 tracking: escalated tickets (newest first, at
/// most 500) with each escalation, where the ticket stands now, the lead unit's finish clock and
/// whether the escalated matter is still open.
pub async fn escalations(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, Capability::SupervisionView)?;
    let now = st.now();
    let s2 = st.clone();
    let a2 = actor.clone();
    let tickets = tokio::task::spawn_blocking(move || -> jiesu_store::Result<Vec<TicketState>> {
        let mut out = Vec::new();
        for id in s2.store.escalated_tickets(500)? {
            if let Some((t, _)) = s2.store.load_ticket(id)? {
                if jiesu_domain::auth::can_view(&a2, &t, &s2.org) {
                    out.push(t);
                }
            }
        }
        Ok(out)
    })
    .await??;
    use jiesu_domain::Status as S;
    let mut open = 0;
    let items: Vec<Value> = tickets
        .iter()
        .map(|t| {
            let settled = matches!(
                t.status,
                S::ResultSubmitted | S::CallbackDone | S::Closed | S::Archived | S::Merged | S::Answered | S::SpecialHandled
            );
            if !settled {
                open += 1;
            }
            let lead = t
                .assignments
                .iter()
                .rev()
                .find(|a| a.role == jiesu_domain::ticket::AssignmentRole::Lead && a.state != AssignmentState::Returned);
            let last = t.escalations.last().map(|e| e.at);
            json!({
                "ticket_id": t.id, "number": t.number, "title": t.intake.title,
                "status": t.status.as_str(), "status_label": t.status.label_zh(),
                "district_name": crate::views::unit_name(&st, &t.intake.place.district_code),
                "open": !settled,
                "hours_since": last.map(|l| (now - l).num_hours()),
                "lead": lead.map(|a| json!({
                    "unit_code": a.unit, "unit_name": crate::views::unit_name(&st, &a.unit),
                    "state": a.state.as_str(), "state_label": a.state.label_zh(),
                    "finish": if a.state.active() { clock_json(a.deadlines.finish, a.dispatched_at, now) } else { json!({"due": a.deadlines.finish, "done_at": a.finished_at}) },
                })),
                "escalations": t.escalations.iter().map(|e| json!({
                    "level": e.level.as_str(), "level_label": e.level.label_zh(),
                    "to_unit": e.to_unit, "to_unit_name": e.to_unit.as_deref().and_then(|u| crate::views::unit_name(&st, u)),
                    "reason": e.reason, "at": e.at,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(axum::Json(
        json!({"at": now, "total": items.len(), "open": open, "items": items}),
    ))
}

/// `GET /api/v1/supervision/dispatch-accuracy` — overall and by dispatcher, rule, category, unit.
pub async fn dispatch_accuracy(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    require(&actor, Capability::DispatchAccuracy)?;
    let s2 = st.clone();
    let mut v = serde_json::to_value(
        tokio::task::spawn_blocking(move || s2.store.dispatch_accuracy()).await??,
    )
    .map_err(StoreError::from)?;
    if let Some(items) = v.get_mut("by_unit").and_then(|x| x.as_array_mut()) {
        for it in items {
            let name = it["key"]
                .as_str()
                .and_then(|k| st.org.get(k))
                .map(|u| u.name.clone());
            it["name"] = json!(name);
        }
    }
    if let Some(items) = v.get_mut("by_category").and_then(|x| x.as_array_mut()) {
        for it in items {
            let name = it["key"]
                .as_str()
                .and_then(|k| st.categories.get(k))
                .map(|c| c.name.clone());
            it["name"] = json!(name);
        }
    }
    Ok(axum::Json(v))
}
