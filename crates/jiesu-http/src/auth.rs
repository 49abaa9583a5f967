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
use jiesu_domain::{Actor, Role};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 403 naming the action unless `allowed` (a check of the caller's role) holds.
pub fn require_role(actor: &Actor, allowed: bool, action: &str) -> ApiResult<()> {
    if allowed || actor.role == Role::System {
        Ok(())
    } else {
        Err(jiesu_domain::auth::Denied::Role {
            role: actor.role,
            action: action.into(),
        }
        .into())
    }
}

/// Only the centre's staff (agents, dispatchers, callback agents, supervisors, admins).
pub fn centre_only(actor: &Actor, action: &str) -> ApiResult<()> {
    require_role(actor, actor.role.is_centre(), action)
}

/// The centre's staff and the units' staff (no citizens).
pub fn staff_only(actor: &Actor, action: &str) -> ApiResult<()> {
    require_role(
        actor,
        actor.role.is_centre() || actor.role.is_unit(),
        action,
    )
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

/// How long a verified session is trusted from memory before the store is asked again.
pub const SESSION_CACHE_SECS: i64 = 30;

#[derive(Clone)]
pub struct CachedSession {
    actor: Actor,
    checked_at: chrono::DateTime<chrono::Utc>,
}

/// The authenticated caller of a route.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let h = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(ApiError::unauthorized)?;
        let token = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
            .ok_or_else(ApiError::unauthorized)?
            .trim()
            .to_string();
        let now = state.now();
        let th = token_hash(&token);
        if let Some(c) = state.sessions.read().ok().and_then(|m| m.get(&th).cloned()) {
            if (now - c.checked_at).num_seconds() < SESSION_CACHE_SECS {
                return Ok(Caller(c.actor));
            }
        }
        let st = state.clone();
        let user =
            tokio::task::spawn_blocking(move || st.store.session_user(&token_hash(&token), now))
                .await??
                .ok_or_else(ApiError::unauthorized)?;
        let role = Role::parse(&user.role).ok_or_else(ApiError::unauthorized)?;
        let actor = Actor {
            user: user.username,
            role,
            unit: user.unit_code,
        };
        if let Ok(mut m) = state.sessions.write() {
            if m.len() > 100_000 {
                m.clear();
            }
            m.insert(
                th,
                CachedSession {
                    actor: actor.clone(),
                    checked_at: now,
                },
            );
        }
        Ok(Caller(actor))
    }
}
