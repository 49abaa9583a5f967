//! Log-in, sessions and the authenticated-caller extractor. Passwords are hashed with argon2; the
//! session token is random and only its SHA-256 is stored.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use jiesu_domain::capability::Capability;
use jiesu_domain::{Actor, Role};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The one permission check of a route that is not a ticket action: 403 problem+json naming
/// the capability (in English and by its Chinese label) unless the caller's role has it in the
/// domain's capability table.
pub fn require(actor: &Actor, cap: Capability) -> ApiResult<()> {
    if actor.may(cap) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("role {} may not use {}", actor.role, cap.as_str()),
            format!("{}无权使用“{}”", actor.role.label_zh(), cap.label_zh()),
        ))
    }
}

/// The early check of a ticket action (before the write): 403 unless the action table
/// ([`jiesu_domain::Action::roles`]) grants the role the action at all. The action is authorized
/// again, with the ticket's scope, by `jiesu_domain::auth::authorize` inside the write.
pub fn require_action(actor: &Actor, action: jiesu_domain::Action) -> ApiResult<()> {
    if action.allows(actor.role) {
        Ok(())
    } else {
        Err(jiesu_domain::auth::Denied::Role {
            role: actor.role,
            action: action.wire().into(),
        }
        .into())
    }
}

/// Hashes a password for storage.
pub fn hash_password(pw: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))
}

pub fn verify_password(pw: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// How long a verified session is trusted from memory before the store is asked again (a
/// log-out, the absolute end and the idle timeout take effect at once regardless).
pub const SESSION_CACHE_SECS: i64 = 30;

/// 会话时限 — how long a log-in lasts: `idle` without a request, `absolute` from the log-in
/// (`jiesu serve --session-idle-minutes`, `--session-hours`).
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session unused this long is refused (30 minutes by default).
    pub idle: chrono::Duration,
    /// A session is refused this long after the log-in, used or not (12 hours by default).
    pub absolute: chrono::Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle: chrono::Duration::minutes(30),
            absolute: chrono::Duration::hours(12),
        }
    }
}

/// A verified session held in memory ([`crate::AppState::sessions`]): its caller, when the store
/// was last asked, the session's absolute end and its last use (seconds since the epoch, moved
/// on every request without a write lock).
#[derive(Clone)]
pub struct CachedSession {
    actor: Actor,
    checked_at: chrono::DateTime<chrono::Utc>,
    expires_at: chrono::DateTime<chrono::Utc>,
    last_used: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl CachedSession {
    fn last_used(&self) -> chrono::DateTime<chrono::Utc> {
        let secs = self.last_used.load(std::sync::atomic::Ordering::Relaxed);
        chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default()
    }
}

/// The token of a request's `Authorization: Bearer …` header, or 401.
fn bearer(headers: &axum::http::HeaderMap) -> ApiResult<String> {
    let h = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(ApiError::unauthorized)?;
    Ok(h.strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))
        .ok_or_else(ApiError::unauthorized)?
        .trim()
        .to_string())
}

/// Whether a session last used at `last_used` and ending at `expires_at` is still good at `now`.
fn alive(
    policy: SessionPolicy,
    now: chrono::DateTime<chrono::Utc>,
    expires_at: chrono::DateTime<chrono::Utc>,
    last_used: chrono::DateTime<chrono::Utc>,
) -> bool {
    now < expires_at && now - last_used < policy.idle
}

/// The authenticated caller of a route.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = bearer(&parts.headers)?;
        let now = state.now();
        if token.starts_with(crate::dept::KEY_PREFIX) {
            return crate::dept::key_caller(parts, state, &token, now).await;
        }
        let th = token_hash(&token);
        let cached = state.sessions.read().ok().and_then(|m| m.get(&th).cloned());
        if let Some(c) = &cached {
            if !alive(state.session_policy, now, c.expires_at, c.last_used()) {
                forget_session(state, &th);
                return Err(ApiError::unauthorized());
            }
            c.last_used
                .store(now.timestamp(), std::sync::atomic::Ordering::Relaxed);
            if (now - c.checked_at).num_seconds() < SESSION_CACHE_SECS {
                return Ok(Caller(c.actor.clone()));
            }
        }
        let st = state.clone();
        let th2 = th.clone();
        let session = tokio::task::spawn_blocking(move || st.store.session(&th2)).await??;
        let Some(session) = session else {
            forget_session(state, &th);
            return Err(ApiError::unauthorized());
        };
        // a cached session's idle time was checked above (its last use is at least the store's)
        let last_used = if cached.is_some() {
            now
        } else {
            session.last_seen_at
        };
        if !alive(state.session_policy, now, session.expires_at, last_used) {
            forget_session(state, &th);
            return Err(ApiError::unauthorized());
        }
        let role = Role::parse(&session.user.role).ok_or_else(ApiError::unauthorized)?;
        let actor = Actor {
            user: session.user.username,
            role,
            unit: session.user.unit_code,
        };
        let st = state.clone();
        let th2 = th.clone();
        tokio::task::spawn_blocking(move || st.store.touch_session(&th2, now)).await??;
        if let Ok(mut m) = state.sessions.write() {
            if m.len() > 100_000 {
                m.clear();
            }
            m.insert(
                th,
                CachedSession {
                    actor: actor.clone(),
                    checked_at: now,
                    expires_at: session.expires_at,
                    last_used: std::sync::Arc::new(std::sync::atomic::AtomicI64::new(
                        now.timestamp(),
                    )),
                },
            );
        }
        Ok(Caller(actor))
    }
}

/// Drops a token from the session cache, so its next request asks the store.
fn forget_session(state: &AppState, token_hash: &str) {
    if let Ok(mut m) = state.sessions.write() {
        m.remove(token_hash);
    }
}

/// `POST /api/v1/session/logout` — 退出登录: the caller's session is deleted and forgotten by
/// the cache, so the token is refused (401) from the next request on. Answers 204.
pub async fn logout(
    axum::extract::State(st): axum::extract::State<AppState>,
    Caller(_): Caller,
    headers: axum::http::HeaderMap,
) -> ApiResult<StatusCode> {
    let th = token_hash(&bearer(&headers)?);
    forget_session(&st, &th);
    let s2 = st.clone();
    let th2 = th.clone();
    tokio::task::spawn_blocking(move || s2.store.delete_session(&th2)).await??;
    // a request that was checking the store meanwhile may have cached it again
    forget_session(&st, &th);
    Ok(StatusCode::NO_CONTENT)
}
