//! 登录防护 — checking a log-in without revealing user names and without letting anyone guess:
//! an unknown user and a wrong password get the same answer after the same work (a dummy argon2
//! verification), failures lock the account and the client address out for a while (doubling),
//! and every failure and lock-out is written to the audit log. Also the password policy of every
//! new password ([`password_policy`]).

use crate::auth::verify_password;
use crate::error::{ApiError, ApiResult};
use crate::limits::{too_many, ClientAddr};
use crate::AppState;
use axum::http::StatusCode;
use jiesu_store::UserRecord;

/// An argon2id hash (the crate's default parameters, those of [`crate::auth::hash_password`]) of
/// a random password nobody knows: verified when the user is unknown or inactive, so such a
/// log-in costs what a wrong password costs.
pub(crate) const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$mLYXr1UDR3a82E/yBaZH8w$XThhMN2jPqjdBaXMvTZnSXhjFuT4hUBxtwpMdNJs2DM";

/// The one answer of a failed log-in, whatever failed.
fn bad_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
        "wrong user name or password",
        "用户名或密码错误",
    )
}

/// The audit log's user column for an attempted name: at most 64 characters, no control
/// characters.
fn attempted(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// Checks a log-in: the active user on the right password, a 401 `bad_credentials` otherwise
/// (the same bytes for an unknown user and a wrong password), a 429 with `Retry-After` while the
/// account or the address is locked out.
pub async fn check(
    st: &AppState,
    addr: ClientAddr,
    username: &str,
    password: &str,
) -> ApiResult<UserRecord> {
    let lim = &st.limiter;
    let now = st.now();
    // the account key is the name as typed, case-folded: an unknown name locks like a known one
    let account = format!("login-user:{}", username.to_lowercase());
    let address = addr.key("login-addr");
    if let Some(secs) = address.as_deref().and_then(|k| lim.locked(k, now)) {
        return Err(too_many(
            secs,
            "too many failed log-ins from your address",
            "您所在地址登录失败次数过多",
        ));
    }
    if let Some(secs) = lim.locked(&account, now) {
        return Err(too_many(
            secs,
            "this account is locked after too many failed log-ins",
            "该账号登录失败次数过多，已暂时锁定",
        ));
    }
    let (s2, name, pw) = (st.clone(), username.to_string(), password.to_string());
    let user = tokio::task::spawn_blocking(move || -> jiesu_store::Result<_> {
        let user = s2.store.user_by_name(&name)?.filter(|u| u.active);
        // the same argon2 work whether or not the user exists
        let hash = user
            .as_ref()
            .map_or(DUMMY_HASH, |u| u.password_hash.as_str());
        let ok = verify_password(&pw, hash);
        Ok(user.filter(|_| ok))
    })
    .await??;
    if let Some(u) = user {
        lim.clear_failures(&account, now);
        return Ok(u);
    }
    let l = &lim.limits;
    let who = attempted(username);
    let ip = addr
        .0
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "-".into());
    let mut audits = vec![("login_failed", format!("address {ip}"))];
    let (window, lock) = (l.login_window_secs, l.login_lock_secs);
    if let Some(secs) = lim.fail(&account, now, l.login_account_failures, window, lock) {
        audits.push((
            "login_locked",
            format!("account locked for {secs} s (address {ip})"),
        ));
    }
    if let Some(k) = &address {
        if let Some(secs) = lim.fail(k, now, l.login_address_failures, window, lock) {
            audits.push(("login_locked", format!("address {ip} locked for {secs} s")));
        }
    }
    let s2 = st.clone();
    tokio::task::spawn_blocking(move || -> jiesu_store::Result<()> {
        for (action, detail) in audits {
            s2.store.audit(&who, action, None, &detail, now)?;
        }
        Ok(())
    })
    .await??;
    Err(bad_credentials())
}

/// The shortest password accepted for a new account.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// The shipped list of common passwords (`data/common-passwords.txt`, with its source).
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// 密码规则 — the policy of a new password: at least [`MIN_PASSWORD_CHARS`] characters and not
/// in the shipped list of common passwords (compared case-insensitively). `Err((english,
/// chinese))` says in plain words what to change.
pub fn password_policy(pw: &str) -> Result<(), (String, String)> {
    if pw.chars().count() < MIN_PASSWORD_CHARS {
        return Err((
            format!("the password is too short: use at least {MIN_PASSWORD_CHARS} characters"),
            format!("密码太短：至少需要{MIN_PASSWORD_CHARS}个字符"),
        ));
    }
    let lower = pw.to_lowercase();
    let common = COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|l| l.to_lowercase() == lower);
    if common {
        return Err((
            "this password is one of the most common passwords and is guessed first; choose another".into(),
            "该密码属于最常见的密码，极易被猜中，请换一个".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHash;

    #[test]
    fn the_dummy_hash_costs_what_a_stored_hash_costs() {
        let dummy = PasswordHash::new(DUMMY_HASH).expect("the dummy hash parses");
        let real = crate::auth::hash_password("Another-pass-2026").unwrap();
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert!(!verify_password("", DUMMY_HASH));
    }

    #[test]
    fn password_policy_refuses_short_and_common_passwords() {
        assert!(password_policy("Short-1").is_err());
        assert!(password_policy("1234567890").is_err());
        assert!(password_policy("QWERTYUIOP123").is_err());
        assert!(password_policy("Password@123").is_err());
        for ok in ["demo-12345", "Pw-123456!", "Test-pass-2024"] {
            assert_eq!(password_policy(ok), Ok(()), "{ok}");
        }
    }
}
