//! Ticket routes: intake (staff and public), list, detail, events and citizen tracking.

use crate::actions::allowed_actions;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::views::{event_view, public_event, ticket_view};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use jiesu_domain::auth::{can_view, Actor};
use jiesu_domain::intake::ParsedIntake;
use jiesu_domain::intake::{Filer, IntakeContext, IntakeForm};
use jiesu_domain::ticket::Intake;
use jiesu_domain::{ActorRef, Role, TicketId, TicketState};
use jiesu_store::{NewTicket, TicketQuery};
use serde::Deserialize;
use serde_json::{json, Value};

/// Parses the intake form at the edge: the one check of every intake route.
fn parse_intake(st: &AppState, b: IntakeForm, filer: Filer) -> ApiResult<ParsedIntake> {
    let ctx = IntakeContext {
        org: &st.org,
        categories: &st.categories,
        filer,
    };
    Ok(Intake::parse(b, &ctx)?)
}

/// An `Idempotency-Key` with the SHA-256 of the canonical intake JSON (the form as parsed, so
/// key order and spacing of the body do not matter): the same key with another form is refused.
fn idempotency(key: String, form: &IntakeForm) -> jiesu_store::IdempotencyKey {
    use sha2::{Digest, Sha256};
    let canonical = serde_json::to_vec(form).unwrap_or_default();
    jiesu_store::IdempotencyKey {
        key,
        request_hash: hex::encode(Sha256::digest(&canonical)),
    }
}

/// Files a parsed intake: handed to the store's writer without parking a thread, answered after
/// the group commit. Staff and public intake reach the store this one way.
async fn file(
    st: &AppState,
    intake: ParsedIntake,
    actor: ActorRef,
    idempotency_key: Option<jiesu_store::IdempotencyKey>,
) -> ApiResult<jiesu_store::Created> {
    let new = NewTicket {
        intake,
        actor,
        now: st.now(),
        idempotency_key,
        tracking_code: Some(new_tracking_code()),
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    st.store.create_ticket_then(
        new,
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    Ok(rx
        .await
        .map_err(|_| ApiError::internal("the writer stopped"))??)
}

/// Files a parsed intake (see `file`) and then pushes its risk alert and applies the incident
/// rule (`risk::after_intake`); a report joining an incident this server knows, which changes
/// nothing on it, is settled without another hop (`risk::settled`). A failure of the push is logged, never the intake's failure: the ticket is filed
/// and the early-warning pass and the unit's queue still see it. A replayed intake pushes
/// nothing again.
async fn file_and_push(
    st: &AppState,
    intake: ParsedIntake,
    actor: ActorRef,
    idempotency_key: Option<jiesu_store::IdempotencyKey>,
) -> ApiResult<(jiesu_store::Created, crate::risk::Pushed)> {
    let prior = crate::risk::prior(st, &intake);
    let created = file(st, intake, actor, idempotency_key).await?;
    if created.replayed {
        return Ok((created, crate::risk::Pushed::default()));
    }
    if let Some(p) = crate::risk::settled(&created.state, &prior) {
        return Ok((created, p));
    }
    let (s2, t) = (st.clone(), created.state.clone());
    let pushed = match tokio::task::spawn_blocking(move || {
        crate::risk::after_intake(&s2, &t, prior)
    })
    .await
    {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            tracing::warn!("risk push after intake failed: {e:?}");
            crate::risk::Pushed::default()
        }
        Err(e) => {
            tracing::warn!("risk push after intake failed: {e}");
            crate::risk::Pushed::default()
        }
    };
    Ok((created, pushed))
}

/// Parses an intake form and files it under `actor`, with an idempotency key (already
/// namespaced by the caller) hashed with the form: the path of intake routes that do not take
/// JSON (Open311's form-encoded posts).
pub(crate) async fn file_form(
    st: &AppState,
    form: IntakeForm,
    filer: Filer,
    actor: ActorRef,
    key: Option<String>,
) -> ApiResult<jiesu_store::Created> {
    let key = key.map(|k| idempotency(k, &form));
    let intake = parse_intake(st, form, filer)?;
    file(st, intake, actor, key).await
}

/// Files an intake form from a partner's signed request or a grid worker's report: the same
/// idempotency (the key already namespaced by the caller) and the risk mark at intake and the
/// risk push after filing, as the staff and public forms have.
pub(crate) async fn file_marked(
    st: &AppState,
    form: IntakeForm,
    filer: Filer,
    actor: ActorRef,
    key: Option<String>,
) -> ApiResult<(jiesu_store::Created, crate::risk::Pushed)> {
    let key = key.map(|k| idempotency(k, &form));
    let intake = crate::risk::mark(parse_intake(st, form, filer)?)?;
    file_and_push(st, intake, actor, key).await
}

/// The alphabet of tracking codes: digits and capitals without 0/O, 1/I/L (read out on the phone
/// and typed from an SMS without confusion).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// The length of a tracking code: 31^10 ≈ 8·10^14 codes per ticket number.
pub const CODE_LEN: usize = 10;

/// 查询码 — a new random tracking code (the thread's CSPRNG, seeded and reseeded from the
/// operating system: one system call per character was a visible cost of intake).
pub fn new_tracking_code() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// A tracking code as typed by a citizen: spaces and dashes dropped, capitals.
fn normalize_code(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// Compares two codes in time independent of where they differ.
fn same_code(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Loads a ticket the caller may see (404 otherwise, so foreign tickets are not revealed).
pub async fn load_visible(
    st: &AppState,
    actor: &Actor,
    id: TicketId,
) -> ApiResult<(TicketState, Vec<jiesu_domain::Event>)> {
    crate::auth::require(actor, jiesu_domain::capability::Capability::TicketsRead)?;
    let s2 = st.clone();
    let (t, ev) = tokio::task::spawn_blocking(move || s2.store.load_ticket(id))
        .await??
        .ok_or_else(ApiError::not_found)?;
    if !can_view(actor, &t, &st.org) {
        return Err(ApiError::not_found());
    }
    Ok((t, ev))
}

/// Builds the staff view and audits unmasked personal data.
pub async fn view_and_audit(
    st: &AppState,
    actor: &Actor,
    t: &TicketState,
) -> ApiResult<crate::views::TicketView> {
    let allowed = allowed_actions(st, actor, t);
    let (v, personal) = ticket_view(st, actor, t, allowed);
    if personal {
        audit_personal(st, actor, t.id, "ticket view").await?;
    }
    Ok(v)
}

/// Writes the audit row of an unmasked read of a ticket's personal data (`read_personal`, with
/// the route's `what`): every route that shows the requester unmasked calls it.
async fn audit_personal(st: &AppState, actor: &Actor, id: TicketId, what: &str) -> ApiResult<()> {
    let (s2, user, now, what) = (st.clone(), actor.user.clone(), st.now(), what.to_string());
    tokio::task::spawn_blocking(move || {
        s2.store.audit(&user, "read_personal", Some(id), &what, now)
    })
    .await??;
    Ok(())
}

pub async fn create(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Json(b): Json<IntakeForm>,
) -> ApiResult<impl IntoResponse> {
    crate::auth::require(&actor, jiesu_domain::capability::Capability::Intake)?;
    let form = b.clone();
    let intake = crate::risk::mark(parse_intake(&st, b, Filer::Staff)?)?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if key.as_ref().is_some_and(|k| k.len() > 200 || k.is_empty()) {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "must be 1 to 200 characters",
            "长度须为1至200个字符",
        ));
    }
    let key = key.map(|k| idempotency(k, &form));
    let (created, pushed) = file_and_push(&st, intake, actor.to_ref(None), key).await?;
    // Intake answers with the ticket's summary and its Location; the full view (assignments,
    // clocks, allowed actions) is one GET away. Building the full view costs more than the
    // durable write itself, and an agent taking calls needs the number at once.
    let t = &created.state;
    let v = crate::views::CreatedTicket {
        id: t.id,
        number: t.number.clone(),
        status: t.status.as_str(),
        status_label: t.status.label_zh(),
        created_at: t.created_at,
        request_type: t.intake.request_type.as_str(),
        channel: t.intake.channel.as_str(),
        category_code: t.intake.category_code.clone(),
        title: t.intake.title.clone(),
        place: crate::views::CreatedPlace {
            district_code: t.intake.place.district_code.clone(),
            street_code: t.intake.place.street_code.clone(),
        },
        assignments: vec![],
        answer: None,
        replayed: created.replayed,
        href: format!("/api/v1/tickets/{}", t.id),
        tracking_code: created.tracking_code.clone(),
        risk: t.intake.risk.as_ref().map(crate::risk::view),
        risk_alert: pushed.risk_alert,
        incident_alert: pushed.incident_alert,
    };
    let code = if created.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        code,
        [(
            axum::http::header::LOCATION,
            format!("/api/v1/tickets/{}", t.id),
        )],
        axum::Json(v),
    ))
}

/// `POST /api/v1/public/tickets` — a citizen files a request without an account.
pub async fn public_create(
    State(st): State<AppState>,
    addr: crate::limits::ClientAddr,
    headers: HeaderMap,
    Json(b): Json<IntakeForm>,
) -> ApiResult<impl IntoResponse> {
    crate::limits::per_address(
        &st,
        addr,
        "public-intake",
        st.limiter.limits.public_intake_per_hour,
        "too many requests filed from your address",
        "您所在地址提交诉求过于频繁",
    )?;
    let form = b.clone();
    let intake = crate::risk::mark(parse_intake(&st, b, Filer::Public)?)?;
    let actor = ActorRef {
        user: "citizen".into(),
        role: Role::Citizen,
        unit: None,
    };
    // a double click on the public form must not file twice
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map(|k| idempotency(format!("public:{k}"), &form));
    let (created, _) = file_and_push(&st, intake, actor, key).await?;
    // a citizen reporting an emergency is told at once which number to call
    let emergency = created.state.intake.risk.as_ref().map(|r| {
        let numbers = r.transfer_to.join("、");
        json!({
            "transfer_to": r.transfer_to,
            "hint": format!("您反映的情况可能危及安全，请立即拨打 {numbers}"),
            "hint_en": format!("this may be an emergency: call {} now", r.transfer_to.join(" / ")),
        })
    });
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "emergency": emergency,
            "number": created.state.number,
            "tracking_code": created.tracking_code,
            "status": created.state.status.as_str(),
            "status_label": created.state.status.label_zh(),
            "track_hint": "凭工单编号和查询码查询办理进度",
            "track_hint_en": "track the request with its number and tracking code",
        })),
    ))
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
pub struct ListQuery {
    unit: Option<String>,
    mine: Option<bool>,
    status: Option<String>,
    category: Option<String>,
    district: Option<String>,
    street: Option<String>,
    /// 渠道 — one intake channel (`phone`, `web`, …).
    channel: Option<String>,
    /// 诉求类型 — one request type (`complaint`, `suggestion`, …).
    #[serde(rename = "type")]
    request_type: Option<String>,
    from: Option<String>,
    to: Option<String>,
    overdue: Option<bool>,
    sort: Option<String>,
    /// 来电号码 — the requester's phone (digits; looked up through the keyed hash index, audited).
    phone: Option<String>,
    /// Checked by [`crate::paging::Paging`] (a bad value is a 422, not a silent clamp).
    #[schemars(extend("pattern" = "^([1-9][0-9]*)?$"))]
    page: Option<String>,
    #[schemars(extend("pattern" = "^([1-9][0-9]?|[1-4][0-9]{2}|500)?$"))]
    page_size: Option<String>,
}

/// An RFC 3339 instant, or a date (YYYY-MM-DD) taken as the start of that day in the city's zone.
fn parse_time(
    field: &str,
    s: &str,
    zone: jiesu_domain::CityZone,
) -> ApiResult<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(zone.start_of_day(d));
    }
    Err(ApiError::invalid(
        field,
        format!("'{s}' is not a date (YYYY-MM-DD) or an RFC 3339 time"),
        format!("“{s}”不是有效日期（YYYY-MM-DD）或时间"),
    ))
}

/// Expands a unit into its scope: the unit and every unit below it.
fn scope_of(st: &AppState, unit: &str) -> Vec<String> {
    let mut out = vec![unit.to_string()];
    let mut i = 0;
    while i < out.len() {
        let kids: Vec<String> = st.org.children(&out[i]).map(|u| u.code.clone()).collect();
        out.extend(kids);
        i += 1;
    }
    out
}

pub async fn list(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<crate::views::TicketListPage>> {
    crate::auth::require(&actor, jiesu_domain::capability::Capability::TicketsRead)?;
    let mut units: Option<Vec<String>> = None;
    if actor.role.is_unit() {
        let mine = actor.unit.clone().ok_or_else(|| {
            ApiError::invalid("unit", "your account has no unit", "账号未绑定单位")
        })?;
        let target = q.unit.clone().unwrap_or(mine.clone());
        if !st.org.is_within(&target, &mine) {
            return Err(ApiError::not_found());
        }
        units = Some(scope_of(&st, &target));
    } else if let Some(u) = &q.unit {
        if st.org.get(u).is_none() {
            return Err(ApiError::invalid(
                "unit",
                format!("unknown unit '{u}'"),
                format!("单位“{u}”不存在"),
            ));
        }
        units = Some(scope_of(&st, u));
    }
    if let Some(s) = &q.status {
        if jiesu_domain::Status::parse(s).is_none() {
            return Err(ApiError::invalid(
                "status",
                format!("'{s}' is not a status"),
                format!("“{s}”不是有效状态"),
            ));
        }
    }
    if let Some(c) = q.channel.as_deref().filter(|c| !c.is_empty()) {
        if jiesu_domain::ticket::Channel::parse(c).is_none() {
            return Err(ApiError::invalid(
                "channel",
                format!("'{c}' is not a channel"),
                format!("“{c}”不是有效受理渠道"),
            ));
        }
    }
    if let Some(k) = q.request_type.as_deref().filter(|k| !k.is_empty()) {
        if jiesu_domain::ticket::RequestType::parse(k).is_none() {
            return Err(ApiError::invalid(
                "type",
                format!("'{k}' is not a request type"),
                format!("“{k}”不是有效诉求类型"),
            ));
        }
    }
    let paging = crate::paging::Paging::parse(q.page.as_deref(), q.page_size.as_deref(), 20)?;
    // a search by phone is a read of personal data: only those who see phones, and audited
    let phone = match q.phone.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => {
            crate::auth::require(&actor, jiesu_domain::capability::Capability::PhoneSearch)?;
            let digits: String = p.chars().filter(|c| *c != '-' && *c != ' ').collect();
            if digits.len() < 7 || digits.len() > 20 || !digits.chars().all(|c| c.is_ascii_digit())
            {
                return Err(ApiError::invalid(
                    "phone",
                    "give the whole phone number (7 to 20 digits, dashes allowed)",
                    "请输入完整电话号码（7 至 20 位数字，可含连字符）",
                ));
            }
            let (store, user, masked, now) = (
                st.store.clone(),
                actor.user.clone(),
                jiesu_domain::ticket::mask_phone(&digits),
                st.now(),
            );
            tokio::task::spawn_blocking(move || {
                store.audit(&user, "phone_search", None, &format!("phone {masked}"), now)
            })
            .await??;
            Some(digits)
        }
    };
    let tq = TicketQuery {
        active_only: q.mine.unwrap_or(false) && units.is_some(),
        units,
        status: q.status.clone(),
        category_prefix: q.category.clone(),
        district: q.district.clone(),
        street: q.street.clone(),
        channel: q.channel.clone().filter(|c| !c.is_empty()),
        request_type: q.request_type.clone().filter(|k| !k.is_empty()),
        from: q
            .from
            .as_deref()
            .map(|s| parse_time("from", s, st.zone))
            .transpose()?,
        to: q
            .to
            .as_deref()
            .map(|s| parse_time("to", s, st.zone))
            .transpose()?,
        phone: phone.clone(),
        overdue_at: if q.overdue.unwrap_or(false) {
            Some(st.now())
        } else {
            None
        },
        by_deadline: q.sort.as_deref() == Some("deadline"),
        page: paging.page,
        page_size: paging.page_size,
    };
    let s2 = st.clone();
    let page = tokio::task::spawn_blocking(move || s2.store.list_tickets(&tq)).await??;
    let now = st.now();
    Ok(axum::Json(crate::views::TicketListPage {
        at: now,
        items: page
            .items
            .into_iter()
            .map(|t| crate::views::ticket_list_item(&st, t, now))
            .collect(),
        total: page.total,
        page: page.page,
        page_size: page.page_size,
    }))
}

fn parse_id(s: &str) -> ApiResult<TicketId> {
    s.parse::<TicketId>().map_err(|_| ApiError::not_found())
}

pub async fn get_one(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<crate::views::TicketView>> {
    let (t, _) = load_visible(&st, &actor, parse_id(&id)?).await?;
    Ok(axum::Json(view_and_audit(&st, &actor, &t).await?))
}

pub async fn events(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let (t, ev) = load_visible(&st, &actor, parse_id(&id)?).await?;
    let personal = jiesu_domain::auth::can_see_personal(&actor, &t, &st.org);
    if personal {
        audit_personal(&st, &actor, t.id, "event log").await?;
    }
    Ok(axum::Json(Value::Array(
        ev.iter().map(|e| event_view(&st, e, personal)).collect(),
    )))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct TrackQuery {
    code: Option<String>,
}

/// `GET /api/v1/track/{number}?code=…` — the citizen's parcel-style timeline, for the number with
/// its tracking code. Failed look-ups are limited per number and per client address (429 with
/// `Retry-After`), so codes cannot be tried out.
pub async fn track(
    State(st): State<AppState>,
    addr: crate::limits::ClientAddr,
    Path(number): Path<String>,
    Query(q): Query<TrackQuery>,
) -> ApiResult<axum::Json<Value>> {
    let (t, ev) = tracked_ticket(&st, addr, &number, q.code.as_deref(), true).await?;
    let timeline: Vec<Value> = ev.iter().filter_map(|e| public_event(&st, e)).collect();
    Ok(axum::Json(json!({
        "number": t.number,
        "status": t.status.as_str(),
        "status_label": t.status.label_zh(),
        "created_at": t.created_at,
        "type_label": t.intake.request_type.label_zh(),
        "category_path": st.categories.path_label(&t.intake.category_code),
        "title": t.intake.title,
        "timeline": timeline,
    })))
}

/// The ticket of a number and its tracking code, with the failed look-up limits of
/// `GET /api/v1/track/{number}` (shared by every route a citizen reaches with the code). With
/// `replica` the ticket is read from the standby when the server has one (`--replica`), and from
/// the primary when the standby does not have it yet (a ticket filed a moment ago).
pub(crate) async fn tracked_ticket(
    st: &AppState,
    addr: crate::limits::ClientAddr,
    number: &str,
    code: Option<&str>,
    replica: bool,
) -> ApiResult<(TicketState, Vec<jiesu_domain::Event>)> {
    let nf = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no request with this number and tracking code",
            "未找到与该编号和查询码匹配的诉求",
        )
    };
    let code = normalize_code(code.unwrap_or_default());
    if code.is_empty() || code.len() > 32 {
        return Err(ApiError::invalid(
            "code",
            "give the tracking code you received with the number",
            "请输入受理时收到的查询码",
        ));
    }
    let (lim, now) = (&st.limiter, st.now());
    let number = number.trim().to_string();
    let number_key = format!("track-number:{number}");
    let addr_key = addr.key("track-addr");
    let locked = addr_key
        .as_deref()
        .and_then(|k| lim.locked(k, now))
        .or_else(|| lim.locked(&number_key, now));
    if let Some(secs) = locked {
        return Err(crate::limits::too_many(
            secs,
            "too many failed look-ups",
            "查询失败次数过多",
        ));
    }
    let s2 = st.clone();
    let n2 = number.clone();
    let found = tokio::task::spawn_blocking(move || -> jiesu_store::Result<_> {
        let mut stores = vec![s2.store.clone()];
        if replica {
            if let Some(r) = &s2.replica {
                stores.insert(0, r.clone());
            }
        }
        for store in stores {
            let Some(id) = store.ticket_id_by_number(&n2)? else {
                continue;
            };
            let stored = store.tracking_code(id)?;
            if !stored.is_some_and(|c| same_code(&c, &code)) {
                return Ok(None);
            }
            return store.load_ticket(id);
        }
        Ok(None)
    })
    .await??;
    let Some((t, ev)) = found else {
        let l = &lim.limits;
        let w = l.track_window_secs;
        lim.fail(&number_key, now, l.track_number_failures, w, w);
        if let Some(k) = &addr_key {
            lim.fail(k, now, l.track_address_failures, w, w);
        }
        return Err(nf());
    };
    Ok((t, ev))
}
