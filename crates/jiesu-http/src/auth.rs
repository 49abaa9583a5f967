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
