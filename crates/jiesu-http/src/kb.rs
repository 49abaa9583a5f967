//! Knowledge base (知识库) routes: search-as-you-type for agents, the public virtual agent
//! (智能问答) that answers from the knowledge base or hands over to a pre-filled ticket, and
//! duplicate suggestions (possibly the same as #…) for a ticket.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::tickets::load_visible;
use crate::AppState;
use axum::extract::{Path, Query, State};
use chrono::Duration;
use jiesu_kb::{find_duplicates, DupConfig, SearchOptions, TicketLite};
use jiesu_store::TicketQuery;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize, schemars::JsonSchema)]
pub struct SearchQuery {
    q: String,
    k: Option<usize>,
    category: Option<String>,
    unit: Option<String>,
}

/// `GET /api/v1/kb/search?q=…&k=5&category=` — ranked articles with highlighted snippets.
pub async fn search(
    State(st): State<AppState>,
    Caller(actor): Caller,
    q: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<Value>> {
    // who may search first: a role without the knowledge base is refused whatever it asks
    crate::auth::require(&actor, jiesu_domain::capability::Capability::KbRead)?;
    let Query(q) = q.map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            format!("the query parameter q is not valid: {}", e.body_text()),
            "查询参数 q 有误",
        )
        .field("q")
    })?;
    if q.q.chars().count() > 2000 {
        return Err(ApiError::invalid(
            "q",
            "the query is longer than 2,000 characters",
            "查询内容超过2000字",
        ));
    }
    let kb = st.kb.clone();
    // validity (valid_from/valid_to) is checked on the server's day in Beijing
    let day = st.today();
    let hits = tokio::task::spawn_blocking(move || {
        let mut opts = SearchOptions::top(q.k.unwrap_or(5).clamp(1, 50)).on(day);
        opts.category = q.category;
        opts.owner_unit = q.unit;
        kb.read().map(|k| k.search(&q.q, &opts)).unwrap_or_default()
    })
    .await?;
    Ok(axum::Json(json!({"hits": hits})))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct AskBody {
    question: String,
}

/// `POST /api/v1/public/ask` — the virtual agent: an answer with its source, or a ticket draft.
pub async fn ask(
    State(st): State<AppState>,
    addr: crate::limits::ClientAddr,
    crate::json::Json(b): crate::json::Json<AskBody>,
) -> ApiResult<axum::Json<Value>> {
    crate::limits::per_address(
        &st,
        addr,
        "ask",
        st.limiter.limits.ask_per_hour,
        "too many questions from your address",
        "您所在地址提问过于频繁",
    )?;
    let n = b.question.trim().chars().count();
    if n == 0 || n > 2000 {
        return Err(ApiError::invalid(
            "question",
            "ask a question of 1 to 2,000 characters",
            "请输入1至2000字的问题",
        ));
    }
    let kb = st.kb.clone();
    let day = st.today();
    let reply = tokio::task::spawn_blocking(move || {
        kb.read()
            .map(|k| k.answer(&b.question, jiesu_kb::DEFAULT_ANSWER_CONFIDENCE, Some(day)))
            .ok()
    })
    .await?
    .ok_or_else(|| ApiError::internal("knowledge base unavailable"))?;
    // every question is a session with an outcome, stored (the one-shot rate survives restarts)
    let session_id = new_session_id();
    let session = jiesu_store::NewAgentSession {
        id: session_id.clone(),
        asked_at: st.now(),
        answered: reply.answer.is_some(),
        article_id: reply.answer.as_ref().map(|a| a.article_id.clone()),
        confidence: reply
            .answer
            .as_ref()
            .map(|a| a.confidence)
            .or_else(|| reply.suggestions.first().map(|h| h.confidence)),
    };
    let s2 = st.clone();
    tokio::task::spawn_blocking(move || s2.store.record_agent_session(session)).await??;
    let mut v = serde_json::to_value(&reply).unwrap_or(Value::Null);
    v["session_id"] = json!(session_id);
    // an explicit outcome: an answer, or "I don't know" with how to file a request
    match reply.handover_reason {
        None if reply.answer.is_some() => v["outcome"] = json!("answered"),
        reason => {
            v["outcome"] = json!("handover");
            v["handover_reason"] =
                json!(reason.unwrap_or(jiesu_kb::HandoverReason::NoMatch).as_str());
            v["handover_message"] = handover_message(reason);
        }
    }
    if let Some(u) = reply
        .answer
        .as_ref()
        .and_then(|a| st.org.get(&a.owner_unit))
    {
        v["answer"]["owner_unit_name"] = json!(u.name);
    }
    Ok(axum::Json(v))
}

/// What the virtual agent says when it does not know (它不知道): in Chinese and English, why,
/// and how to file a request (the submit page `#/submit`, or the 12345 phone line).
fn handover_message(reason: Option<jiesu_kb::HandoverReason>) -> Value {
    use jiesu_kb::HandoverReason as R;
    let (zh, en) = match reason {
        Some(R::OutOfTown) => (
            "这个问题涉及其他城市的事务，本市知识库无法答复，请向当地12345热线咨询。",
            "This question is about another city's matters; this city's knowledge base cannot answer it. Please ask that city's 12345 hotline.",
        ),
        Some(R::Ambiguous) => (
            "抱歉，我不能确定您问的是哪件事。您可以从下面的相关问题中选择。",
            "Sorry, I can't tell which of these you mean. You can pick one of the related questions below.",
        ),
        _ => (
            "抱歉，这个问题我不知道，知识库里没有可靠的答复。",
            "Sorry, I don't know the answer to this: the knowledge base has no reliable answer.",
        ),
    };
    json!({
        "zh": format!("{zh}如需办理，请提交诉求（已根据您的问题预填），或拨打12345市民服务热线，由工作人员为您处理。"),
        "en": format!("{en} To have it handled, file a request (pre-filled from your question) or call the 12345 citizen service hotline."),
        "submit_url": "#/submit",
        "phone": "12345",
    })
}

/// A random session id (128 bits, hex): the citizen's page keeps it to report a hand-over.
fn new_session_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct StatsQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// `GET /api/v1/kb/stats?from=&to=` — the virtual agent's figures (stored sessions): questions,
/// answered, handed over, tickets filed from them, and the one-shot resolution rate (answered
/// and no ticket followed / asked), for questions asked in `[from, to)` (days; all time without).
pub async fn stats(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<StatsQuery>,
) -> ApiResult<axum::Json<Value>> {
    crate::auth::require(&actor, jiesu_domain::capability::Capability::KbStats)?;
    let day = |f: &str, v: &str| crate::error::city_day(st.zone, f, v);
    let from = q.from.as_deref().map(|d| day("from", d)).transpose()?;
    let to = q.to.as_deref().map(|d| day("to", d)).transpose()?;
    let s2 = st.clone();
    let stats = tokio::task::spawn_blocking(move || s2.store.agent_stats(from, to)).await??;
    let mut v = serde_json::to_value(stats).unwrap_or(Value::Null);
    v["from"] = json!(q.from);
    v["to"] = json!(q.to);
    Ok(axum::Json(v))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct HandoverBody {
    number: String,
}

/// `POST /api/v1/public/ask/{session}/ticket {number}` (public) — the citizen filed request
/// `number` from this virtual-agent session (its hand-over): the session's outcome becomes
/// `ticket_created`. The request must have been filed after the question, within a day.
pub async fn handover_ticket(
    State(st): State<AppState>,
    Path(session): Path<String>,
    crate::json::Json(b): crate::json::Json<HandoverBody>,
) -> ApiResult<axum::Json<Value>> {
    if session.len() != 32 || !session.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::not_found());
    }
    let s2 = st.clone();
    let now = st.now();
    let outcome = tokio::task::spawn_blocking(move || -> jiesu_store::Result<_> {
        let id = s2
            .store
            .ticket_id_by_number(b.number.trim())?
            .ok_or(jiesu_store::StoreError::NotFound)?;
        let (t, _) = s2
            .store
            .load_ticket(id)?
            .ok_or(jiesu_store::StoreError::NotFound)?;
        s2.store
            .link_agent_session_ticket(&session, t.id, t.created_at, now)
    })
    .await??;
    Ok(axum::Json(json!({"outcome": outcome})))
}

/// `GET /api/v1/tickets/{id}/duplicates` — requests about the same problem at the same place in the
/// last 72 hours, with the reasons.
pub async fn duplicates(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    crate::auth::require(&actor, jiesu_domain::capability::Capability::Duplicates)?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let (t, _) = load_visible(&st, &actor, id).await?;
    let me = ticket_lite(&t);
    let (created, street) = (t.created_at, t.intake.place.street_code.clone());
    let q = TicketQuery {
        street: Some(street),
        from: Some(created - Duration::hours(72)),
        to: Some(created + Duration::hours(72)),
        page_size: 200,
        ..Default::default()
    };
    let matches = matches_among(&st, me, q, Some(id)).await?;
    let items: Vec<Value> = matches
        .iter()
        .map(|(m, _)| json!({"id": m.id, "number": m.number, "score": m.score, "text_similarity": m.text_similarity,
                        "reasons_zh": m.reasons_zh(), "reasons_en": m.reasons_en()}))
        .collect();
    Ok(axum::Json(json!({"items": items})))
}

/// What the duplicate engine sees of a ticket.
fn ticket_lite(t: &jiesu_domain::TicketState) -> TicketLite {
    TicketLite {
        id: t.id,
        number: t.number.clone(),
        created_at: t.created_at,
        category_code: t.intake.category_code.clone(),
        street_code: t.intake.place.street_code.clone(),
        community_code: t.intake.place.community_code.clone(),
        address: t.intake.place.address.clone(),
        text: format!("{} {}", t.intake.title, t.intake.text),
    }
}

/// The duplicates of `me` among the tickets `q` lists (but `exclude`), with each match's ticket
/// (the same engine, scoring and thresholds for a stored ticket and for a draft).
async fn matches_among(
    st: &AppState,
    me: TicketLite,
    q: TicketQuery,
    exclude: Option<i64>,
) -> ApiResult<Vec<(jiesu_kb::Match, jiesu_domain::TicketState)>> {
    let s2 = st.clone();
    Ok(tokio::task::spawn_blocking(
        move || -> jiesu_store::Result<Vec<(jiesu_kb::Match, jiesu_domain::TicketState)>> {
            let page = s2.store.list_tickets(&q)?;
            let mut states = Vec::new();
            for item in page.items.iter().filter(|x| Some(x.id) != exclude) {
                if let Some((c, _)) = s2.store.load_ticket(item.id)? {
                    states.push(c);
                }
            }
            let cands: Vec<TicketLite> = states.iter().map(ticket_lite).collect();
            let found = find_duplicates(&me, &cands, &DupConfig::default());
            Ok(found
                .into_iter()
                .filter_map(|m| {
                    let t = states.iter().find(|t| t.id == m.id)?.clone();
                    Some((m, t))
                })
                .collect())
        },
    )
    .await??)
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct DraftBody {
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
    category_code: Option<String>,
    district_code: Option<String>,
    street_code: Option<String>,
    community_code: Option<String>,
    /// Accepted for the intake form's convenience; not used for scoring (the engine compares
    /// text, place, category and time) and never echoed.
    #[allow(dead_code)]
    phone: Option<String>,
}

/// `POST /api/v1/duplicates/candidates` — duplicate candidates for a request being taken in
/// (before the ticket exists): the draft is compared, as if created now, with the tickets of the
/// last 72 hours of its street (of its district when only that is known) by the same engine and
/// thresholds as `GET /tickets/{id}/duplicates`. No personal data in the answer; a text of fewer
/// than 4 characters, or no place, gives an empty list.
pub async fn duplicate_candidates(
    State(st): State<AppState>,
    Caller(actor): Caller,
    crate::json::Json(b): crate::json::Json<DraftBody>,
) -> ApiResult<axum::Json<Value>> {
    crate::auth::require(&actor, jiesu_domain::capability::Capability::Duplicates)?;
    if b.title.chars().count() > 200 || b.text.chars().count() > 4000 {
        return Err(ApiError::invalid(
            if b.title.chars().count() > 200 {
                "title"
            } else {
                "text"
            },
            "title at most 200 and text at most 4,000 characters",
            "标题不超过200字，内容不超过4000字",
        ));
    }
    let nonempty = |o: Option<String>| o.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let (street, district) = (nonempty(b.street_code), nonempty(b.district_code));
    if b.text.trim().chars().count() < 4 || (street.is_none() && district.is_none()) {
        return Ok(axum::Json(json!({"candidates": []})));
    }
    let now = st.now();
    let me = TicketLite {
        id: 0,
        number: String::new(),
        created_at: now,
        category_code: nonempty(b.category_code).unwrap_or_default(),
        street_code: street.clone().unwrap_or_default(),
        community_code: nonempty(b.community_code),
        address: None,
        text: format!("{} {}", b.title.trim(), b.text.trim()),
    };
    let q = TicketQuery {
        district: if street.is_none() { district } else { None },
        street,
        from: Some(now - Duration::hours(72)),
        to: Some(now + Duration::seconds(1)),
        page_size: 200,
        ..Default::default()
    };
    let matches = matches_among(&st, me, q, None).await?;
    let candidates: Vec<Value> = matches
        .iter()
        .map(|(m, t)| {
            json!({
                "id": m.id, "number": m.number, "title": t.intake.title,
                "status": t.status.as_str(), "created_at": t.created_at,
                "score": m.score, "text_similarity": m.text_similarity, "reasons": m.reasons,
            })
        })
        .collect();
    Ok(axum::Json(json!({"candidates": candidates})))
}

/// `GET /api/v1/kb/articles/{id}` — one article's current version (the full answer script).
pub async fn article(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    crate::auth::require(&actor, jiesu_domain::capability::Capability::KbRead)?;
    let a = st
        .kb
        .read()
        .ok()
        .and_then(|k| k.get(&id).cloned())
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "not_found",
                format!("no article {id}"),
                "知识条目不存在",
            )
        })?;
    let owner = st.org.get(&a.owner_unit).map(|u| u.name.clone());
    Ok(axum::Json(json!({
        "id": a.id, "version": a.version, "question": a.question, "answer": a.answer,
        "policy_basis": a.policy_basis, "owner_unit": a.owner_unit, "owner_unit_name": owner,
        "categories": a.categories, "tags": a.tags, "valid_from": a.valid_from, "valid_to": a.valid_to,
        "status": a.status.as_str(),
    })))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct UsageQuery {
    from: String,
    to: String,
}

/// `GET /api/v1/kb/usage?from=YYYY-MM-DD&to=YYYY-MM-DD` — the direct-answer rate and how often each
/// article answered a request (recorded by the `answer` action's `article_id`).
pub async fn usage(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<UsageQuery>,
) -> ApiResult<axum::Json<Value>> {
    crate::auth::require(&actor, jiesu_domain::capability::Capability::KbStats)?;
    let day = |f: &str, v: &str| crate::error::city_day(st.zone, f, v);
    let (from, to) = (day("from", &q.from)?, day("to", &q.to)?);
    let s2 = st.clone();
    let (created, answered, rows) =
        tokio::task::spawn_blocking(move || s2.store.kb_usage(from, to)).await??;
    let kb = st.kb.clone();
    let articles: Vec<Value> = rows
        .into_iter()
        .map(|(id, n)| {
            let question = kb
                .read()
                .ok()
                .and_then(|k| k.get(&id).map(|a| a.question.clone()));
            json!({"article_id": id, "question": question, "answered": n})
        })
        .collect();
    Ok(axum::Json(json!({
        "created": created, "answered_directly": answered,
        "direct_answer_rate": if created > 0 { answered as f64 / created as f64 } else { 0.0 },
        "articles": articles,
    })))
}
