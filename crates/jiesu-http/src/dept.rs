//! 部门接口与导出 — what departments and districts take from Jiesu, and the public's open data:
//!
//! - **Department keys** (`jdk_…`): an admin creates one for a unit with a role (`unit_handler`
//!   or `unit_manager`); the key is shown once and stored hashed. A request with
//!   `Authorization: Bearer jdk_…` becomes a [`Caller`] of that role and unit, so the same
//!   capability table and ticket scope decide what it reads (its unit and those below; personal
//!   data only as that role sees it). Keys read only (any method but GET is refused) except
//!   their own webhook subscriptions, and every request is counted and written to `audit_log`
//!   as `key:<id>` with what was asked.
//! - **Webhooks** of a unit's tickets' events, each signed with its own secret, delivered by the
//!   outbox ([`crate::notify`]) from the subscription's own cursor. The admin manages every
//!   unit's (`/api/v1/admin/webhooks`); a unit manager or a manager-role key manages those of its
//!   own unit and below (`/api/v1/webhooks`, capability `dept-webhooks`; another unit's is 404).
//! - **Saved exports** (定制导出): chosen columns of the ticket facts, filters, a format (CSV,
//!   xlsx, Parquet) and a schedule (daily / weekly / monthly in city time); made by the scheduler
//!   ([`export_pass`]), delivered through the outbox to the unit's webhooks, downloadable now.
//! - **Open data** (开放数据): no personal data, places no finer than the community, no free text,
//!   small groups coarsened then suppressed (`jiesu_analytics::dept_export`); docs/EXPORTS.md.

use crate::auth::{require, token_hash, Caller};
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, request::Parts, Method, StatusCode};
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, Utc};
use jiesu_analytics::dept_export::{
    check_columns, custom_table, open_data_table, ExportTable, OpenDataFigures, Schedule,
    Selection, OPEN_DATA_COLUMNS, OPEN_DATA_K,
};
use jiesu_analytics::export::{Values, COLUMNS};
use jiesu_analytics::TicketFacts;
use jiesu_domain::capability::Capability;
use jiesu_domain::category::CategoryTree;
use jiesu_domain::{Actor, Role};
use jiesu_store::{DeptKey, DeptWebhook, ExportRun, NewSavedExport, SavedExport};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// The prefix of a department key (so a key is recognised in a config file and by the caller).
pub const KEY_PREFIX: &str = "jdk_";

/// A new department key: 32 random bytes in hex after [`KEY_PREFIX`].
pub fn new_key() -> String {
    format!("{KEY_PREFIX}{}", crate::auth::new_token())
}

/// The only writes a department key may make: its own webhook subscriptions (`POST
/// /api/v1/webhooks`, `POST /api/v1/webhooks/{id}/delete`); the capability table still decides.
fn key_may_write(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1/webhooks") else {
        return false;
    };
    rest.is_empty()
        || rest
            .strip_prefix('/')
            .and_then(|r| r.strip_suffix("/delete"))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// Resolves a department key into its caller, refusing unknown and revoked keys (401) and any
/// method but GET (403) outside [`key_may_write`], and records the read (counted, and in `audit_log` with what was asked).
pub(crate) async fn key_caller(
    parts: &Parts,
    st: &AppState,
    token: &str,
    now: DateTime<Utc>,
) -> ApiResult<Caller> {
    let h = token_hash(token);
    let s2 = st.clone();
    let key = tokio::task::spawn_blocking(move || s2.store.dept_key_by_hash(&h))
        .await??
        .filter(|k| k.revoked_at.is_none())
        .ok_or_else(ApiError::unauthorized)?;
    let role = Role::parse(&key.role).ok_or_else(ApiError::unauthorized)?;
    let what = format!(
        "{} {}",
        parts.method,
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    let s2 = st.clone();
    let id = key.id;
    let w2 = what.clone();
    tokio::task::spawn_blocking(move || s2.store.record_key_read(id, &w2, now)).await??;
    if parts.method != Method::GET && !key_may_write(parts.uri.path()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "read_only_key",
            "a department key only reads (GET), besides managing its own webhook subscriptions",
            "部门接口密钥只能读取数据（GET），以及管理本单位的事件订阅",
        ));
    }
    Ok(Caller(Actor {
        user: key.user_name(),
        role,
        unit: Some(key.unit_code),
    }))
}

// ---------------------------------------------------------------- partners (Open311)

/// An Open311 partner as the admin sees it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PartnerView {
    pub id: i64,
    pub name: String,
    /// The channel its requests are filed under.
    pub channel: String,
    pub created_at: String,
    /// Whether its key was revoked.
    pub revoked: bool,
}

/// `POST /api/v1/admin/partners` body.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct NewPartnerBody {
    /// 1 to 100 characters, unique.
    pub name: String,
    /// A channel wire name other than `phone`.
    pub channel: String,
}

/// A key just made: shown once, never again.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NewKeyView {
    pub id: i64,
    /// The secret key (shown once).
    pub key: String,
}

/// `GET /api/v1/admin/partners`.
pub async fn partners(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Vec<PartnerView>>> {
    require(&actor, Capability::ApiKeys)?;
    let s2 = st.clone();
    let out = tokio::task::spawn_blocking(move || -> jiesu_store::Result<Vec<PartnerView>> {
        s2.store
            .partners()?
            .into_iter()
            .map(|p| {
                Ok(PartnerView {
                    revoked: s2.store.partner_revoked(p.id)?,
                    id: p.id,
                    name: p.name,
                    channel: p.channel,
                    created_at: p.created_at,
                })
            })
            .collect()
    })
    .await??;
    Ok(axum::Json(out))
}

/// `POST /api/v1/admin/partners` — a new partner and its Open311 key (shown once).
pub async fn add_partner(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(b): Json<NewPartnerBody>,
) -> ApiResult<(StatusCode, axum::Json<NewKeyView>)> {
    require(&actor, Capability::ApiKeys)?;
    let name = b.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid(
            "name",
            "the name must be 1 to 100 characters",
            "名称须为 1 至 100 个字符",
        ));
    }
    match jiesu_domain::ticket::Channel::parse(&b.channel) {
        None | Some(jiesu_domain::ticket::Channel::Phone) => {
            return Err(ApiError::invalid(
                "channel",
                format!(
                    "'{}' is not a partner channel (one of {}, not phone)",
                    b.channel,
                    jiesu_domain::ticket::Channel::names()
                ),
                format!("“{}”不是合作渠道（电话除外）", b.channel),
            ))
        }
        Some(_) => {}
    }
    let key = crate::open311::new_partner_key();
    let hash = crate::open311::key_hash(&key);
    let now = st.now();
    let s2 = st.clone();
    let p =
        tokio::task::spawn_blocking(move || s2.store.add_partner(&name, &b.channel, &hash, now))
            .await??;
    Ok((
        StatusCode::CREATED,
        axum::Json(NewKeyView { id: p.id, key }),
    ))
}

/// `POST /api/v1/admin/partners/{id}/revoke`.
pub async fn revoke_partner(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    require(&actor, Capability::ApiKeys)?;
    let s2 = st.clone();
    if tokio::task::spawn_blocking(move || s2.store.revoke_partner(id)).await?? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}

/// The default grace period of a rotated partner secret (hours).
pub const DEFAULT_GRACE_HOURS: i64 = 24;

/// `POST /api/v1/admin/partners/{id}/rotate-secret` body.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretBody {
    /// How long the old secret is still accepted, in hours on the server's clock (0 to 168;
    /// default 24). 0 refuses it at once.
    #[serde(default)]
    pub grace_hours: Option<i64>,
}

/// A rotated signing secret: shown once.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RotatedSecretView {
    pub partner_id: i64,
    /// The new HMAC signing secret (shown once).
    pub secret: String,
    /// Requests signed with the old secret are accepted until this instant, refused after.
    pub previous_valid_until: DateTime<Utc>,
}

/// `POST /api/v1/admin/partners/{id}/rotate-secret` — 密钥轮换: a new signing secret from a new
/// salt, the old one accepted for the grace period; a partner without one gets its first; audited.
pub async fn rotate_partner_secret(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    Json(b): Json<RotateSecretBody>,
) -> ApiResult<axum::Json<RotatedSecretView>> {
    require(&actor, Capability::ApiKeys)?;
    let hours = b.grace_hours.unwrap_or(DEFAULT_GRACE_HOURS);
    if !(0..=168).contains(&hours) {
        return Err(ApiError::invalid(
            "grace_hours",
            "the grace period is 0 to 168 hours",
            "宽限期须为 0 至 168 小时",
        ));
    }
    let now = st.now();
    let until = now + chrono::Duration::hours(hours);
    let (s2, user) = (st.clone(), actor.user.clone());
    let secret = tokio::task::spawn_blocking(move || -> jiesu_store::Result<String> {
        // a partner without a signing secret yet (one added in the admin page) gets its first
        let (secret, first) = match s2.store.rotate_partner_secret(id, until, now) {
            Err(jiesu_store::StoreError::NotFound) => {
                (s2.store.new_partner_secret(id, None, now)?, true)
            }
            r => (r?, false),
        };
        if first {
            s2.store.audit(
                &user,
                "partner_secret_issued",
                None,
                &format!("partner {id}: its first signing secret"),
                now,
            )?;
            return Ok(secret);
        }
        s2.store.audit(
            &user,
            "partner_secret_rotated",
            None,
            &format!(
                "partner {id}: old secret accepted until {}",
                until.to_rfc3339()
            ),
            now,
        )?;
        Ok(secret)
    })
    .await?
    .map_err(|e| match e {
        jiesu_store::StoreError::NotFound => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such partner",
            "没有该合作方",
        ),
        e => e.into(),
    })?;
    Ok(axum::Json(RotatedSecretView {
        partner_id: id,
        secret,
        previous_valid_until: until,
    }))
}

// ---------------------------------------------------------------- department keys

/// A department key and its use (never the key itself).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeptKeyView {
    pub id: i64,
    pub name: String,
    /// The unit whose tickets and facts it reads (with those below it).
    pub unit_code: String,
    /// The unit's name.
    pub unit_name: String,
    /// The role it reads as.
    pub role: String,
    /// What it may use (the capability table's row of its role; only reads).
    pub capabilities: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Requests made with it.
    pub uses: i64,
    /// The user name its reads are audited under (`key:<id>`).
    pub audit_user: String,
}

fn key_view(st: &AppState, k: DeptKey) -> DeptKeyView {
    let caps = Role::parse(&k.role)
        .map(Capability::of)
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.as_str().to_string())
        .collect();
    DeptKeyView {
        unit_name: st
            .org
            .get(&k.unit_code)
            .map(|u| u.name.clone())
            .unwrap_or_default(),
        audit_user: k.user_name(),
        capabilities: caps,
        id: k.id,
        name: k.name,
        unit_code: k.unit_code,
        role: k.role,
        created_at: k.created_at,
        created_by: k.created_by,
        revoked_at: k.revoked_at,
        last_used_at: k.last_used_at,
        uses: k.uses,
    }
}

/// `POST /api/v1/admin/dept-keys` body.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct NewDeptKeyBody {
    /// What the key is for (1 to 100 characters).
    pub name: String,
    /// The department's or district's unit code: the key reads this unit and those below it.
    pub unit_code: String,
    /// `unit_handler` (tickets; the requester's phone only on tickets the unit has signed for) or
    /// `unit_manager` (also the analytics API and the unit's saved exports).
    pub role: String,
}

/// `GET /api/v1/admin/dept-keys`.
pub async fn dept_keys(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Vec<DeptKeyView>>> {
    require(&actor, Capability::ApiKeys)?;
    let s2 = st.clone();
    let keys = tokio::task::spawn_blocking(move || s2.store.dept_keys()).await??;
    Ok(axum::Json(
        keys.into_iter().map(|k| key_view(&st, k)).collect(),
    ))
}

fn check_unit(st: &AppState, unit: &str) -> ApiResult<()> {
    if st.org.get(unit).is_none() {
        return Err(ApiError::invalid(
            "unit_code",
            format!("unknown unit '{unit}'"),
            format!("单位“{unit}”不存在"),
        ));
    }
    Ok(())
}

/// `POST /api/v1/admin/dept-keys` — a new key (shown once).
pub async fn add_dept_key(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(b): Json<NewDeptKeyBody>,
) -> ApiResult<(StatusCode, axum::Json<NewKeyView>)> {
    require(&actor, Capability::ApiKeys)?;
    let name = b.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid(
            "name",
            "the name must be 1 to 100 characters",
            "名称须为 1 至 100 个字符",
        ));
    }
    check_unit(&st, &b.unit_code)?;
    if !matches!(
        Role::parse(&b.role),
        Some(Role::UnitHandler | Role::UnitManager)
    ) {
        return Err(ApiError::invalid(
            "role",
            format!(
                "'{}' is not a key role (unit_handler or unit_manager)",
                b.role
            ),
            format!("“{}”不是接口密钥的角色（承办人或单位负责人）", b.role),
        ));
    }
    let key = new_key();
    let hash = token_hash(&key);
    let now = st.now();
    let s2 = st.clone();
    let k = tokio::task::spawn_blocking(move || {
        s2.store
            .add_dept_key(&name, &b.unit_code, &b.role, &hash, &actor.user, now)
    })
    .await??;
    Ok((
        StatusCode::CREATED,
        axum::Json(NewKeyView { id: k.id, key }),
    ))
}

/// `POST /api/v1/admin/dept-keys/{id}/revoke` — refused from the next request on.
pub async fn revoke_dept_key(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    require(&actor, Capability::ApiKeys)?;
    let now = st.now();
    let s2 = st.clone();
    if tokio::task::spawn_blocking(move || s2.store.revoke_dept_key(id, now)).await?? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}

/// One audited read of a key.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KeyReadView {
    pub at: DateTime<Utc>,
    /// `GET /api/v1/tickets?…`
    pub what: String,
}

/// `GET /api/v1/admin/dept-keys/{id}/reads` — the newest 100 audited reads of a key.
pub async fn key_reads(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Vec<KeyReadView>>> {
    require(&actor, Capability::ApiKeys)?;
    let s2 = st.clone();
    let reads = tokio::task::spawn_blocking(move || s2.store.key_reads(id, 100)).await??;
    Ok(axum::Json(
        reads
            .into_iter()
            .map(|r| KeyReadView {
                at: r.at,
                what: r.detail,
            })
            .collect(),
    ))
}

// ---------------------------------------------------------------- webhooks

/// A webhook subscription (its secret is never shown again).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WebhookView {
    pub id: i64,
    /// Events of the tickets of this unit (and those below it) are sent.
    pub unit_code: String,
    pub unit_name: String,
    pub url: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The event-log position delivered up to.
    pub cursor: i64,
}

fn hook_view(st: &AppState, h: DeptWebhook) -> WebhookView {
    WebhookView {
        unit_name: st
            .org
            .get(&h.unit_code)
            .map(|u| u.name.clone())
            .unwrap_or_default(),
        id: h.id,
        unit_code: h.unit_code,
        url: h.url,
        created_at: h.created_at,
        revoked_at: h.revoked_at,
        cursor: h.cursor,
    }
}

/// `POST /api/v1/admin/webhooks` body.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct NewWebhookBody {
    pub unit_code: String,
    /// `http://…` (terminate TLS in a proxy).
    pub url: String,
    /// The HMAC secret (at least 16 characters); one is made when left out.
    pub secret: Option<String>,
}

/// A subscription just made, with its secret (shown once).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NewWebhookView {
    pub id: i64,
    /// Deliveries carry `X-Jiesu-Signature: sha256=<hex HMAC-SHA256 of the body>` under it.
    pub secret: String,
}

/// `GET /api/v1/admin/webhooks`.
pub async fn webhooks(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Vec<WebhookView>>> {
    require(&actor, Capability::ApiKeys)?;
    let s2 = st.clone();
    let hooks = tokio::task::spawn_blocking(move || s2.store.dept_webhooks()).await??;
    Ok(axum::Json(
        hooks.into_iter().map(|h| hook_view(&st, h)).collect(),
    ))
}

/// `POST /api/v1/admin/webhooks` — subscribes a URL to a unit's tickets' events from now on.
pub async fn add_webhook(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(b): Json<NewWebhookBody>,
) -> ApiResult<(StatusCode, axum::Json<NewWebhookView>)> {
    require(&actor, Capability::ApiKeys)?;
    check_unit(&st, &b.unit_code)?;
    let made = subscribe(&st, b.unit_code, b.url, b.secret).await?;
    Ok((StatusCode::CREATED, axum::Json(made)))
}

/// Checks a subscription's URL and secret and stores it from the log's head on.
async fn subscribe(
    st: &AppState,
    unit: String,
    url: String,
    secret: Option<String>,
) -> ApiResult<NewWebhookView> {
    let ok_url = url
        .parse::<hyper::Uri>()
        .ok()
        .is_some_and(|u| u.scheme_str() == Some("http") && u.host().is_some());
    if !ok_url {
        return Err(ApiError::invalid(
            "url",
            format!("'{url}' is not an http:// URL"),
            format!("“{url}”不是 http:// 地址"),
        ));
    }
    let secret = match secret.filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() < 16 => {
            return Err(ApiError::invalid(
                "secret",
                "the secret must have at least 16 characters",
                "密钥至少 16 个字符",
            ))
        }
        Some(s) => s,
        None => crate::auth::new_token(),
    };
    let now = st.now();
    let s2 = st.clone();
    let sec = secret.clone();
    let h = tokio::task::spawn_blocking(move || {
        let head = s2.store.analytics_watermark()?.map_or(0, |p| p + 1);
        s2.store.add_dept_webhook(&unit, &url, &sec, head, now)
    })
    .await??;
    Ok(NewWebhookView { id: h.id, secret })
}

/// `GET /api/v1/webhooks` — the subscriptions of the caller's own unit and those below it (a
/// department key or a unit manager; another unit's are not listed).
pub async fn own_webhooks(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Vec<WebhookView>>> {
    require(&actor, Capability::DeptWebhooks)?;
    let s2 = st.clone();
    let hooks = tokio::task::spawn_blocking(move || s2.store.dept_webhooks()).await??;
    Ok(axum::Json(
        hooks
            .into_iter()
            .filter(|h| covers(&st, &actor, &h.unit_code))
            .map(|h| hook_view(&st, h))
            .collect(),
    ))
}

/// `POST /api/v1/webhooks` body.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct OwnWebhookBody {
    /// The caller's unit or one below it; left out: the caller's own unit.
    #[serde(default)]
    pub unit_code: Option<String>,
    /// `http://…` (terminate TLS in a proxy).
    pub url: String,
    /// The HMAC secret (at least 16 characters); one is made when left out.
    #[serde(default)]
    pub secret: Option<String>,
}

/// `POST /api/v1/webhooks` — the caller subscribes to its own unit's tickets' events (a unit
/// outside its scope answers 404, as if it did not exist).
pub async fn add_own_webhook(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(b): Json<OwnWebhookBody>,
) -> ApiResult<(StatusCode, axum::Json<NewWebhookView>)> {
    require(&actor, Capability::DeptWebhooks)?;
    let unit = match b.unit_code.filter(|u| !u.trim().is_empty()) {
        Some(u) => u.trim().to_string(),
        None => actor
            .unit
            .clone()
            .ok_or_else(|| ApiError::invalid("unit_code", "name the unit", "请填写单位代码"))?,
    };
    if st.org.get(&unit).is_none() || !covers(&st, &actor, &unit) {
        return Err(hook_not_found());
    }
    let made = subscribe(&st, unit.clone(), b.url, b.secret).await?;
    let (s2, now, user) = (st.clone(), st.now(), actor.user.clone());
    let detail = format!("webhook {} of unit {unit}", made.id);
    tokio::task::spawn_blocking(move || {
        s2.store
            .audit(&user, "webhook_subscribe", None, &detail, now)
    })
    .await??;
    Ok((StatusCode::CREATED, axum::Json(made)))
}

fn hook_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such subscription or unit in your scope",
        "本单位范围内没有该订阅或单位",
    )
}

/// `POST /api/v1/webhooks/{id}/delete` — stops one of the caller's own subscriptions; another
/// unit's answers 404.
pub async fn delete_own_webhook(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    require(&actor, Capability::DeptWebhooks)?;
    let s2 = st.clone();
    let hook = tokio::task::spawn_blocking(move || s2.store.dept_webhooks())
        .await??
        .into_iter()
        .find(|h| h.id == id && h.revoked_at.is_none())
        .filter(|h| covers(&st, &actor, &h.unit_code))
        .ok_or_else(hook_not_found)?;
    let (s2, now, user) = (st.clone(), st.now(), actor.user.clone());
    let detail = format!("webhook {} of unit {}", hook.id, hook.unit_code);
    tokio::task::spawn_blocking(move || -> jiesu_store::Result<()> {
        s2.store.revoke_dept_webhook(hook.id, now)?;
        s2.store.audit(&user, "webhook_delete", None, &detail, now)
    })
    .await??;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/admin/webhooks/{id}/revoke`.
pub async fn revoke_webhook(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    require(&actor, Capability::ApiKeys)?;
    let now = st.now();
    let s2 = st.clone();
    if tokio::task::spawn_blocking(move || s2.store.revoke_dept_webhook(id, now)).await?? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}

// ---------------------------------------------------------------- saved exports

/// The filters of a saved export (each a code; left out: all).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct ExportFilters {
    pub channel: Option<String>,
    #[serde(rename = "type")]
    pub ticket_type: Option<String>,
    /// A category code at any level.
    pub category: Option<String>,
    pub district: Option<String>,
    pub street: Option<String>,
}

/// A saved export.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SavedExportView {
    pub id: i64,
    pub unit_code: String,
    pub unit_name: String,
    pub name: String,
    pub columns: Vec<String>,
    /// The filters set (`channel`, `type`, `category`, `district`, `street` → a code).
    pub filters: std::collections::BTreeMap<String, String>,
    /// `csv`, `xlsx` or `parquet`.
    pub format: String,
    /// `daily`, `weekly`, `monthly` or `none`.
    pub schedule: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// Its files, newest first.
    pub runs: Vec<ExportRunView>,
}

/// One file of a saved export.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ExportRunView {
    pub id: i64,
    /// `2026-11`, `2026-W48`, `2026-11-30`, or `now-…` for a run on demand.
    pub period: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub format: String,
    pub rows: i64,
    pub generated_at: DateTime<Utc>,
    /// Where to download it.
    pub file: String,
}

fn run_view(r: ExportRun) -> ExportRunView {
    ExportRunView {
        file: format!("/api/v1/exports/runs/{}/file", r.id),
        id: r.id,
        period: r.period,
        from: r.from,
        to: r.to,
        format: r.format,
        rows: r.rows,
        generated_at: r.generated_at,
    }
}

/// `POST /api/v1/exports` body.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct NewExportBody {
    /// The department's or district's unit (a unit manager: theirs or one below it).
    pub unit_code: String,
    pub name: String,
    /// Columns of `GET /api/v1/exports/columns`, in the order wanted.
    pub columns: Vec<String>,
    #[serde(default)]
    pub filters: ExportFilters,
    /// `csv` (default), `xlsx` or `parquet`.
    pub format: Option<String>,
    /// `daily`, `weekly`, `monthly` or `none` (default).
    pub schedule: Option<String>,
}

/// An export column.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ExportColumnView {
    pub name: String,
    /// `int`, `text`, `bool`, `date` or `float`.
    pub kind: String,
}

/// `GET /api/v1/exports/columns` — the columns a saved export may choose (no personal data).
pub async fn columns(Caller(actor): Caller) -> ApiResult<axum::Json<Vec<ExportColumnView>>> {
    require(&actor, Capability::DeptExports)?;
    use jiesu_analytics::export::Kind;
    Ok(axum::Json(
        COLUMNS
            .iter()
            .map(|(n, k)| ExportColumnView {
                name: n.to_string(),
                kind: match k {
                    Kind::Int => "int",
                    Kind::Text => "text",
                    Kind::Bool => "bool",
                    Kind::Date => "date",
                    Kind::Float => "float",
                }
                .into(),
            })
            .collect(),
    ))
}

/// Whether the caller may see a unit's exports: the centre any, a unit role its own and below.
fn covers(st: &AppState, actor: &Actor, unit: &str) -> bool {
    actor.covers(unit, &st.org)
}

fn export_view(st: &AppState, e: SavedExport, runs: Vec<ExportRun>) -> SavedExportView {
    SavedExportView {
        unit_name: st
            .org
            .get(&e.unit_code)
            .map(|u| u.name.clone())
            .unwrap_or_default(),
        filters: serde_json::from_str::<std::collections::BTreeMap<String, Option<String>>>(
            &e.filters,
        )
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect(),
        id: e.id,
        unit_code: e.unit_code,
        name: e.name,
        columns: e.columns,
        format: e.format,
        schedule: e.schedule,
        created_at: e.created_at,
        created_by: e.created_by,
        runs: runs.into_iter().map(run_view).collect(),
    }
}

/// `GET /api/v1/exports` — the saved exports of the caller's scope, with their files.
pub async fn list_exports(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Vec<SavedExportView>>> {
    require(&actor, Capability::DeptExports)?;
    let s2 = st.clone();
    let out = tokio::task::spawn_blocking(move || -> jiesu_store::Result<Vec<SavedExportView>> {
        let mut out = vec![];
        for e in s2.store.saved_exports()? {
            if covers(&s2, &actor, &e.unit_code) {
                let runs = s2.store.export_runs(e.id)?;
                out.push(export_view(&s2, e, runs));
            }
        }
        Ok(out)
    })
    .await??;
    Ok(axum::Json(out))
}

fn format_of(s: Option<&str>) -> ApiResult<&'static str> {
    match s.unwrap_or("csv") {
        "csv" | "" => Ok("csv"),
        "xlsx" => Ok("xlsx"),
        "parquet" => Ok("parquet"),
        other => Err(ApiError::invalid(
            "format",
            format!("'{other}' is not a format (csv, xlsx or parquet)"),
            format!("“{other}”不是导出格式（csv、xlsx 或 parquet）"),
        )),
    }
}

/// `POST /api/v1/exports` — saves an export definition.
pub async fn create_export(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(b): Json<NewExportBody>,
) -> ApiResult<(StatusCode, axum::Json<SavedExportView>)> {
    require(&actor, Capability::DeptExports)?;
    check_unit(&st, &b.unit_code)?;
    if !covers(&st, &actor, &b.unit_code) {
        return Err(ApiError::not_found());
    }
    let name = b.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid(
            "name",
            "the name must be 1 to 100 characters",
            "名称须为 1 至 100 个字符",
        ));
    }
    let cols = check_columns(&b.columns)
        .map_err(|e| ApiError::invalid("columns", e.to_string(), "所选列无效"))?;
    let format = format_of(b.format.as_deref())?;
    let schedule = Schedule::parse(b.schedule.as_deref().unwrap_or("none")).map_err(|e| {
        ApiError::invalid(
            "schedule",
            e.to_string(),
            "周期须为 daily、weekly、monthly 或 none",
        )
    })?;
    let filters = serde_json::to_string(&b.filters).map_err(ApiError::internal)?;
    let now = st.now();
    let s2 = st.clone();
    let e = tokio::task::spawn_blocking(move || {
        s2.store.add_saved_export(
            NewSavedExport {
                unit_code: b.unit_code,
                name,
                columns: cols.iter().map(|c| c.to_string()).collect(),
                filters,
                format: format.into(),
                schedule: schedule.as_str().into(),
                created_by: actor.user,
            },
            now,
        )
    })
    .await??;
    Ok((StatusCode::CREATED, axum::Json(export_view(&st, e, vec![]))))
}

async fn load_export(st: &AppState, actor: &Actor, id: i64) -> ApiResult<SavedExport> {
    let s2 = st.clone();
    let e = tokio::task::spawn_blocking(move || s2.store.saved_export(id))
        .await??
        .ok_or_else(ApiError::not_found)?;
    if !covers(st, actor, &e.unit_code) {
        return Err(ApiError::not_found());
    }
    Ok(e)
}

/// `POST /api/v1/exports/{id}/delete` — deletes a saved export and its files.
pub async fn delete_export(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    require(&actor, Capability::DeptExports)?;
    load_export(&st, &actor, id).await?;
    let s2 = st.clone();
    tokio::task::spawn_blocking(move || s2.store.delete_saved_export(id)).await??;
    Ok(StatusCode::NO_CONTENT)
}

/// A period asked for (city days; default: the last 30 days up to today included).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct PeriodQuery {
    /// First city day, YYYY-MM-DD.
    pub from: Option<String>,
    /// First city day not included, YYYY-MM-DD.
    pub to: Option<String>,
}

fn period(st: &AppState, q: &PeriodQuery) -> ApiResult<(NaiveDate, NaiveDate)> {
    let today = st.today();
    let parse = |field: &str, s: &Option<String>, dflt: NaiveDate| -> ApiResult<NaiveDate> {
        match s.as_deref().filter(|s| !s.is_empty()) {
            None => Ok(dflt),
            Some(s) => s.parse().map_err(|_| {
                ApiError::invalid(
                    field,
                    format!("'{s}' is not a date (YYYY-MM-DD)"),
                    format!("“{s}”不是有效日期（YYYY-MM-DD）"),
                )
            }),
        }
    };
    let to = parse("to", &q.to, today + chrono::Duration::days(1))?;
    let from = parse("from", &q.from, to - chrono::Duration::days(30))?;
    if from >= to || (to - from).num_days() > 3 * 366 {
        return Err(ApiError::invalid(
            "from",
            "from must be before to, at most three years apart",
            "起始日期须早于截止日期，且相隔不超过三年",
        ));
    }
    Ok((from, to))
}

/// The unit codes of a unit's scope: itself and every unit below it.
fn scope_set(st: &AppState, unit: &str) -> HashSet<String> {
    let mut out = vec![unit.to_string()];
    let mut i = 0;
    while i < out.len() {
        let kids: Vec<String> = st.org.children(&out[i]).map(|u| u.code.clone()).collect();
        out.extend(kids);
        i += 1;
    }
    out.into_iter().collect()
}

/// The file of a saved export over `[from, to)`: its bytes and rows.
pub fn export_file(
    st: &AppState,
    e: &SavedExport,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<(Vec<u8>, usize)> {
    let names: Vec<String> = e.columns.clone();
    let cols = check_columns(&names).map_err(ApiError::internal)?;
    let f: ExportFilters = serde_json::from_str(&e.filters).unwrap_or_default();
    let sel = Selection {
        scope: Some(scope_set(st, &e.unit_code)),
        channel: f.channel,
        ticket_type: f.ticket_type,
        category: f.category,
        district: f.district,
        street: f.street,
    };
    let cache = st.analytics.clone();
    let table = cache.with(st, |facts| {
        let engine = jiesu_analytics::export::engine(facts, &st.categories);
        custom_table(&engine, from, to, &cols, &sel)
    })?;
    let table = table.map_err(|e| ApiError::invalid("from", e.to_string(), e.to_string()))?;
    let rows = table.rows();
    Ok((encode(&table, &e.format, &e.name)?, rows))
}

fn content_type(format: &str) -> &'static str {
    match format {
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "parquet" => "application/vnd.apache.parquet",
        _ => "text/csv; charset=utf-8",
    }
}

fn file_response(bytes: Vec<u8>, format: &str, stem: &str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type(format).to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{stem}.{format}\""),
            ),
        ],
        bytes,
    )
}

/// `GET /api/v1/exports/{id}/download` — the export over a period now (from, to), not stored.
pub async fn download_now(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<impl IntoResponse> {
    require(&actor, Capability::DeptExports)?;
    let e = load_export(&st, &actor, id).await?;
    let (from, to) = period(&st, &q)?;
    let s2 = st.clone();
    let fmt = e.format.clone();
    let (bytes, _) = tokio::task::spawn_blocking(move || export_file(&s2, &e, from, to)).await??;
    Ok(file_response(
        bytes,
        &fmt,
        &format!("export-{id}-{from}-{to}"),
    ))
}

/// `POST /api/v1/exports/{id}/run` — makes and stores the file over a period now (from, to in
/// the query; by default the last 30 days), delivered by the outbox like a scheduled one.
pub async fn run_now(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<(StatusCode, axum::Json<ExportRunView>)> {
    require(&actor, Capability::DeptExports)?;
    let e = load_export(&st, &actor, id).await?;
    let (from, to) = period(&st, &q)?;
    let now = st.now();
    let s2 = st.clone();
    let run = tokio::task::spawn_blocking(move || -> ApiResult<ExportRun> {
        let (bytes, rows) = export_file(&s2, &e, from, to)?;
        let key = format!("now-{}", now.format("%Y%m%dT%H%M%S%.3f"));
        let rid =
            s2.store
                .save_export_run(e.id, &key, from, to, &e.format, rows as i64, &bytes, now)?;
        Ok(s2.store.export_run(rid)?.ok_or_else(ApiError::not_found)?.0)
    })
    .await??;
    Ok((StatusCode::CREATED, axum::Json(run_view(run))))
}

/// `GET /api/v1/exports/runs/{run}/file` — a stored file.
pub async fn run_file(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(run): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    require(&actor, Capability::DeptExports)?;
    let s2 = st.clone();
    let (r, bytes) = tokio::task::spawn_blocking(move || s2.store.export_run(run))
        .await??
        .ok_or_else(ApiError::not_found)?;
    load_export(&st, &actor, r.export_id).await?;
    Ok(file_response(
        bytes,
        &r.format,
        &format!("export-{}-{}", r.export_id, r.period),
    ))
}

/// The scheduler's pass: each scheduled export gets its file for the last complete day, week or
/// month in city time (on the server's clock), once. Answers how many were made.
pub fn export_pass(st: &AppState, now: DateTime<Utc>) -> ApiResult<usize> {
    let mut made = 0;
    for e in st.store.saved_exports()? {
        let Ok(s) = Schedule::parse(&e.schedule) else {
            continue;
        };
        let Some(p) = s.due(now, &st.zone) else {
            continue;
        };
        if st.store.has_export_run(e.id, &p.key)? {
            continue;
        }
        let (bytes, rows) = export_file(st, &e, p.from, p.to)?;
        st.store.save_export_run(
            e.id,
            &p.key,
            p.from,
            p.to,
            &e.format,
            rows as i64,
            &bytes,
            now,
        )?;
        made += 1;
    }
    Ok(made)
}

// ---------------------------------------------------------------- files

fn cell(v: &Values, i: usize) -> String {
    match v {
        Values::Int(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
        Values::Text(v) => v[i].clone().unwrap_or_default(),
        Values::Bool(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
        Values::Float(v) => v[i].map(|x| format!("{x:.4}")).unwrap_or_default(),
        Values::Date(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
    }
}

fn csv_text(t: &ExportTable) -> ApiResult<String> {
    let mut w = csv::Writer::from_writer(vec![]);
    w.write_record(t.columns.iter().map(|(n, _)| *n))
        .map_err(ApiError::internal)?;
    for i in 0..t.rows() {
        w.write_record(t.columns.iter().map(|(_, v)| cell(v, i)))
            .map_err(ApiError::internal)?;
    }
    String::from_utf8(w.into_inner().map_err(ApiError::internal)?).map_err(ApiError::internal)
}

fn parquet_column(v: &Values) -> jiesu_io::ColumnData {
    use jiesu_io::ColumnData;
    match v {
        Values::Int(v) => ColumnData::Int64(v.clone()),
        Values::Text(v) => ColumnData::Utf8(v.clone()),
        Values::Bool(v) => ColumnData::Bool(v.clone()),
        Values::Float(v) => ColumnData::Float64(v.clone()),
        Values::Date(v) => {
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
            ColumnData::Date(
                v.iter()
                    .map(|d| d.map(|d| (d - epoch).num_days() as i32))
                    .collect(),
            )
        }
    }
}

/// A table as a file: `csv` (UTF-8, a header line), `xlsx` (one sheet named `sheet`) or
/// `parquet` (typed columns).
pub fn encode(t: &ExportTable, format: &str, sheet: &str) -> ApiResult<Vec<u8>> {
    match format {
        "xlsx" => {
            let name: String = sheet.chars().take(31).collect();
            jiesu_io::xlsx::csv_to_xlsx(&csv_text(t)?, &name)
                .map_err(|e| ApiError::internal(format!("xlsx: {e}")))
        }
        "parquet" => {
            let cols: Vec<jiesu_io::Column> = t
                .columns
                .iter()
                .map(|(n, v)| jiesu_io::Column::new(*n, parquet_column(v)))
                .collect();
            jiesu_io::write_parquet(vec![], &cols)
                .map_err(|e| ApiError::internal(format!("parquet: {e}")))
        }
        _ => Ok(csv_text(t)?.into_bytes()),
    }
}

// ---------------------------------------------------------------- open data

/// The open-data file over `[from, to)` (`csv` or `parquet`) with what was done to protect the
/// requesters; shared by the public route and `jiesu export open-data`.
pub fn open_data_file(
    facts: &TicketFacts,
    tree: &CategoryTree,
    from: NaiveDate,
    to: NaiveDate,
    format: &str,
) -> ApiResult<(Vec<u8>, OpenDataFigures)> {
    let engine = jiesu_analytics::export::engine(facts, tree);
    let (t, figures) = open_data_table(&engine, from, to, OPEN_DATA_K)
        .map_err(|e| ApiError::invalid("from", e.to_string(), e.to_string()))?;
    debug_assert_eq!(t.columns.len(), OPEN_DATA_COLUMNS.len());
    Ok((encode(&t, format, "open-data")?, figures))
}

/// `GET /api/v1/public/open-data` query.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct OpenDataQuery {
    /// First city day, YYYY-MM-DD (default: 30 days before `to`).
    pub from: Option<String>,
    /// First city day not included (default: tomorrow).
    pub to: Option<String>,
    /// `csv` (default) or `parquet`.
    pub format: Option<String>,
}

/// `GET /api/v1/public/open-data` — the open-data file for anyone.
pub async fn public_open_data(
    State(st): State<AppState>,
    Query(q): Query<OpenDataQuery>,
) -> ApiResult<impl IntoResponse> {
    let format = match q.format.as_deref().unwrap_or("csv") {
        "csv" | "" => "csv",
        "parquet" => "parquet",
        other => {
            return Err(ApiError::invalid(
                "format",
                format!("'{other}' is not an open-data format (csv or parquet)"),
                format!("“{other}”不是开放数据格式（csv 或 parquet）"),
            ))
        }
    };
    let (from, to) = period(
        &st,
        &PeriodQuery {
            from: q.from,
            to: q.to,
        },
    )?;
    let s2 = st.clone();
    let (bytes, _) = tokio::task::spawn_blocking(move || {
        let cache = s2.analytics.clone();
        cache.with(&s2, |facts| {
            open_data_file(facts, &s2.categories, from, to, format)
        })?
    })
    .await??;
    Ok(file_response(
        bytes,
        format,
        &format!("jiesu-open-data-{from}-{to}"),
    ))
}

// ---------------------------------------------------------------- delivery (outbox)

/// Sends each live subscription the webhook events of its unit's tickets after its cursor
/// (signed with its own secret; a failing subscriber waits for the next pass, the others go
/// on). Answers how many deliveries were made.
pub async fn webhook_pass(st: &AppState) -> anyhow::Result<usize> {
    let s2 = st.clone();
    let hooks = tokio::task::spawn_blocking(move || s2.store.dept_webhooks()).await??;
    let mut sent = 0;
    for h in hooks.into_iter().filter(|h| h.revoked_at.is_none()) {
        let s2 = st.clone();
        let cursor = h.cursor;
        let batch =
            tokio::task::spawn_blocking(move || s2.store.events_after(cursor, 500)).await??;
        if batch.is_empty() {
            continue;
        }
        let mut ours: HashMap<i64, bool> = HashMap::new();
        let mut last = h.cursor;
        for (pos, ticket_id, number, e) in &batch {
            let kind = e.kind.name();
            if crate::notify::WEBHOOK_KINDS.contains(&kind) {
                let mine = match ours.get(ticket_id) {
                    Some(m) => *m,
                    None => {
                        let (s2, id, unit) = (st.clone(), *ticket_id, h.unit_code.clone());
                        let m = tokio::task::spawn_blocking(move || {
                            Ok::<_, jiesu_store::StoreError>(s2.store.load_ticket(id)?.is_some_and(
                                |(t, _)| t.involved_units().any(|u| s2.org.is_within(u, &unit)),
                            ))
                        })
                        .await??;
                        ours.insert(*ticket_id, m);
                        m
                    }
                };
                if mine {
                    let body = crate::notify::event_body(*ticket_id, number, e);
                    let bytes = serde_json::to_vec(&body)?;
                    let sig = crate::notify::signature(&h.secret, &bytes);
                    let id = format!("{ticket_id}-{}", e.seq);
                    if let Err(err) = crate::notify::post(&h.url, bytes, &sig, &id).await {
                        tracing::warn!("webhook {} ({}) failed (will retry): {err}", h.id, h.url);
                        break;
                    }
                    sent += 1;
                }
            }
            last = *pos;
        }
        if last != h.cursor {
            let s2 = st.clone();
            let id = h.id;
            tokio::task::spawn_blocking(move || s2.store.set_dept_webhook_cursor(id, last))
                .await??;
        }
    }
    Ok(sent)
}

/// Delivers the alerts raised after the department alert cursor (early warnings, risk pushes,
/// incidents, 未进先治 pre-warnings) to the live webhooks of the alert's unit or of a unit above
/// it (a street's alert reaches the street's and its district's subscriptions), each subscribed
/// before the alert was raised: `jiesu_http::alerts::webhook_body`, signed with the
/// subscription's secret, event id `alert-<id>`. Answers how many alerts were passed.
pub async fn alert_delivery_pass(st: &AppState) -> anyhow::Result<usize> {
    let s2 = st.clone();
    let cursor: i64 = tokio::task::spawn_blocking(move || s2.store.meta("dept_alert_cursor"))
        .await??
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let s2 = st.clone();
    let (batch, hooks) = tokio::task::spawn_blocking(move || {
        Ok::<_, jiesu_store::StoreError>((
            s2.store.alerts_after(cursor, 100)?,
            s2.store.dept_webhooks()?,
        ))
    })
    .await??;
    let n = batch.len();
    for a in batch {
        let id = a.id;
        let targets: Vec<&jiesu_store::DeptWebhook> = hooks
            .iter()
            .filter(|h| {
                h.revoked_at.is_none()
                    && h.created_at <= a.created_at
                    && (st.org.is_within(&a.unit, &h.unit_code) || a.district == h.unit_code)
            })
            .collect();
        if !targets.is_empty() {
            let bytes = serde_json::to_vec(&crate::alerts::webhook_body(st, a))?;
            for h in targets {
                let sig = crate::notify::signature(&h.secret, &bytes);
                crate::notify::post(&h.url, bytes.clone(), &sig, &format!("alert-{id}")).await?;
            }
        }
        let s2 = st.clone();
        tokio::task::spawn_blocking(move || {
            s2.store.set_meta("dept_alert_cursor", &id.to_string())
        })
        .await??;
    }
    Ok(n)
}

/// Announces the export files made after the export cursor to the live webhooks of each
/// export's unit: `{"kind": "export", "export_id", "run_id", "name", "period", "from", "to",
/// "format", "rows", "file"}`, event id `export-<run>`. Answers how many files were announced.
pub async fn export_delivery_pass(st: &AppState) -> anyhow::Result<usize> {
    let s2 = st.clone();
    let cursor: i64 = tokio::task::spawn_blocking(move || s2.store.meta("export_cursor"))
        .await??
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let s2 = st.clone();
    let (runs, hooks, exports) = tokio::task::spawn_blocking(move || {
        Ok::<_, jiesu_store::StoreError>((
            s2.store.export_runs_after(cursor, 100)?,
            s2.store.dept_webhooks()?,
            s2.store.saved_exports()?,
        ))
    })
    .await??;
    let n = runs.len();
    for r in runs {
        if let Some(e) = exports.iter().find(|e| e.id == r.export_id) {
            let body = serde_json::json!({
                "kind": "export", "export_id": e.id, "run_id": r.id, "name": e.name,
                "unit_code": e.unit_code, "period": r.period, "from": r.from, "to": r.to,
                "format": r.format, "rows": r.rows,
                "file": format!("/api/v1/exports/runs/{}/file", r.id),
            });
            let bytes = serde_json::to_vec(&body)?;
            for h in hooks
                .iter()
                .filter(|h| h.revoked_at.is_none() && h.unit_code == e.unit_code)
            {
                let sig = crate::notify::signature(&h.secret, &bytes);
                crate::notify::post(&h.url, bytes.clone(), &sig, &format!("export-{}", r.id))
                    .await?;
            }
        }
        let (s2, id) = (st.clone(), r.id);
        tokio::task::spawn_blocking(move || s2.store.set_meta("export_cursor", &id.to_string()))
            .await??;
    }
    Ok(n)
}
