//! 防滥用限制 — abuse limits: log-in lock-outs, failed tracking look-ups and per-address limits on
//! the public routes (intake, the virtual agent, rating links), all answered 429 with
//! `Retry-After` and a problem+json in both languages.
//!
//! The limiter is a small in-memory sliding-window map written by hand rather than a crate
//! (`governor`, `tower_governor`): those read the machine's clock, and every window here must run
//! on the server's clock ([`AppState::now`]) so that tests move it with `POST /api/v1/test-clock`
//! instead of sleeping; the map is a few dozen lines. It is per process: a restart forgets it,
//! and several servers behind one proxy each count on their own (documented in docs/SECURITY.md).

use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

/// The configured limits (`jiesu serve --limit name=value`, `--trust-proxy`). Every count is per
/// window; a count of 0 turns that limit off.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Off entirely (the in-process benchmarks): nothing is counted.
    pub enabled: bool,
    /// Take the client address from the first `X-Forwarded-For` entry (only behind a proxy that
    /// sets it); otherwise the TCP peer address.
    pub trust_proxy: bool,
    /// Failed log-ins of one account within `login_window_secs` before it is locked.
    pub login_account_failures: u32,
    /// Failed log-ins from one client address within the window before the address is locked.
    pub login_address_failures: u32,
    pub login_window_secs: i64,
    /// The first lock-out; each further lock-out of the same account or address doubles it.
    pub login_lock_secs: i64,
    /// Failed tracking look-ups of one ticket number per `track_window_secs`.
    pub track_number_failures: u32,
    /// Failed tracking look-ups from one client address per `track_window_secs`.
    pub track_address_failures: u32,
    pub track_window_secs: i64,
    /// Public requests filed from one address per hour.
    pub public_intake_per_hour: u32,
    /// Questions to the virtual agent from one address per hour.
    pub ask_per_hour: u32,
    /// Rating-link reads and ratings from one address per hour.
    pub rate_per_hour: u32,
    /// 并发连接 — open connections from one TCP peer address at once (the socket's peer, also
    /// with `--trust-proxy`: a connection is counted before any header is read); the
    /// connection loop (`listener.rs`) answers one more with 429 and closes it.
    pub connections_per_address: u32,
    /// The longest request-target (URI) in bytes; a longer one is answered 414.
    pub uri_max_bytes: u32,
    /// The most bytes of header fields of one request (names, values, `": "` and line ends); more
    /// is answered 431.
    pub header_max_bytes: u32,
    /// Transparency requests (key, checkpoints, consistency proofs) from one address per hour.
    pub transparency_per_hour: u32,
    /// 开放数据 — open-data queries (`GET /public/analytics/group`) from one address per hour:
    /// each groups every ticket of the period, so an anonymous caller may not run them without end.
    pub open_data_per_hour: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            enabled: true,
            trust_proxy: false,
            login_account_failures: 5,
            login_address_failures: 20,
            login_window_secs: 15 * 60,
            login_lock_secs: 15 * 60,
            track_number_failures: 5,
            track_address_failures: 20,
            track_window_secs: 3600,
            public_intake_per_hour: 20,
            ask_per_hour: 120,
            rate_per_hour: 30,
            connections_per_address: 64,
            uri_max_bytes: 8 * 1024,
            header_max_bytes: 32 * 1024,
            transparency_per_hour: 600,
            open_data_per_hour: 120,
        }
    }
}

impl Limits {
    /// No limits at all (the in-process benchmarks).
    pub fn off() -> Self {
        Limits {
            enabled: false,
            ..Limits::default()
        }
    }

    /// The names `--limit` accepts, in the order docs/SECURITY.md lists them.
    pub const NAMES: [&'static str; 15] = [
        "login_account_failures",
        "login_address_failures",
        "login_window_secs",
        "login_lock_secs",
        "track_number_failures",
        "track_address_failures",
        "track_window_secs",
        "public_intake_per_hour",
        "ask_per_hour",
        "rate_per_hour",
        "connections_per_address",
        "uri_max_bytes",
        "header_max_bytes",
        "transparency_per_hour",
        "open_data_per_hour",
    ];

    /// Sets one limit from `name=value` (`jiesu serve --limit`), or says what is wrong.
    pub fn set(&mut self, spec: &str) -> Result<(), String> {
        let (name, value) = spec.split_once('=').ok_or_else(|| {
            format!("--limit {spec:?}: write name=value, e.g. login_account_failures=5")
        })?;
        let n: u32 = value
            .trim()
            .parse()
            .map_err(|_| format!("--limit {spec:?}: the value must be a whole number ≥ 0"))?;
        let secs = || {
            if n == 0 {
                Err(format!(
                    "--limit {spec:?}: a window or lock-out must be at least 1 second"
                ))
            } else {
                Ok(i64::from(n))
            }
        };
        // a size limit cannot be off: hyper refuses a URI over 65,534 bytes on its own, and the
        // header limit sizes the connection's read buffer (`listener.rs`)
        let bytes = |max: u32| {
            if (1024..=max).contains(&n) {
                Ok(n)
            } else {
                Err(format!(
                    "--limit {spec:?}: a size must be 1024 to {max} bytes"
                ))
            }
        };
        match name.trim() {
            "login_account_failures" => self.login_account_failures = n,
            "login_address_failures" => self.login_address_failures = n,
            "login_window_secs" => self.login_window_secs = secs()?,
            "login_lock_secs" => self.login_lock_secs = secs()?,
            "track_number_failures" => self.track_number_failures = n,
            "track_address_failures" => self.track_address_failures = n,
            "track_window_secs" => self.track_window_secs = secs()?,
            "public_intake_per_hour" => self.public_intake_per_hour = n,
            "ask_per_hour" => self.ask_per_hour = n,
            "rate_per_hour" => self.rate_per_hour = n,
            "connections_per_address" => self.connections_per_address = n,
            "uri_max_bytes" => self.uri_max_bytes = bytes(65_534)?,
            "header_max_bytes" => self.header_max_bytes = bytes(1024 * 1024)?,
            "transparency_per_hour" => self.transparency_per_hour = n,
            "open_data_per_hour" => self.open_data_per_hour = n,
            other => {
                return Err(format!(
                    "--limit: unknown limit {other:?}; known: {}",
                    Limits::NAMES.join(", ")
                ))
            }
        }
        Ok(())
    }
}

/// One counted key: recent hits in the window and its lock-out.
#[derive(Default)]
struct Entry {
    hits: VecDeque<DateTime<Utc>>,
    locked_until: Option<DateTime<Utc>>,
    /// Lock-outs so far (each doubles the next); forgotten after a quiet day.
    locks: u32,
    last: Option<DateTime<Utc>>,
}

/// The limits and their counters.
pub struct Limiter {
    pub limits: Limits,
    map: Mutex<HashMap<String, Entry>>,
}

/// How many keys the map holds before idle ones are dropped.
const PRUNE_AT: usize = 100_000;

impl Limiter {
    pub fn new(limits: Limits) -> Limiter {
        Limiter {
            limits,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn with<T>(&self, key: &str, now: DateTime<Utc>, f: impl FnOnce(&mut Entry) -> T) -> T {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= PRUNE_AT {
            map.retain(|_, e| {
                e.locked_until.is_some_and(|t| t > now)
                    || e.last.is_some_and(|t| now - t < Duration::days(1))
            });
        }
        let e = map.entry(key.to_string()).or_default();
        if e.last.is_some_and(|t| now - t >= Duration::days(1)) {
            *e = Entry::default();
        }
        e.last = Some(now);
        f(e)
    }

    /// Seconds until `key`'s lock-out ends, if it is locked.
    pub fn locked(&self, key: &str, now: DateTime<Utc>) -> Option<i64> {
        if !self.limits.enabled {
            return None;
        }
        self.with(key, now, |e| match e.locked_until {
            Some(t) if t > now => Some(secs_until(now, t)),
            _ => None,
        })
    }

    /// Counts a failure of `key`; at `max` failures within `window` the key is locked for `lock`
    /// (doubled for each earlier lock-out of the key, at most 64 times) and the lock's length in
    /// seconds is returned. `max` 0 counts nothing.
    pub fn fail(
        &self,
        key: &str,
        now: DateTime<Utc>,
        max: u32,
        window: i64,
        lock: i64,
    ) -> Option<i64> {
        if !self.limits.enabled || max == 0 {
            return None;
        }
        self.with(key, now, |e| {
            prune(&mut e.hits, now, window);
            e.hits.push_back(now);
            if e.hits.len() < max as usize {
                return None;
            }
            let secs = lock.saturating_mul(1i64 << e.locks.min(6));
            e.locks += 1;
            e.hits.clear();
            e.locked_until = Some(now + Duration::seconds(secs));
            Some(secs)
        })
    }

    /// Forgets `key`'s failures (a successful log-in); earlier lock-outs still double the next.
    pub fn clear_failures(&self, key: &str, now: DateTime<Utc>) {
        if self.limits.enabled {
            self.with(key, now, |e| e.hits.clear());
        }
    }

    /// Counts one request of `key`: `Err(retry_after_secs)` when `max` requests were already
    /// counted within `window` (the refused request is not counted). `max` 0 counts nothing.
    pub fn hit(&self, key: &str, now: DateTime<Utc>, max: u32, window: i64) -> Result<(), i64> {
        if !self.limits.enabled || max == 0 {
            return Ok(());
        }
        self.with(key, now, |e| {
            prune(&mut e.hits, now, window);
            if e.hits.len() >= max as usize {
                let oldest = e.hits.front().copied().unwrap_or(now);
                return Err(secs_until(now, oldest + Duration::seconds(window)));
            }
            e.hits.push_back(now);
            Ok(())
        })
    }
}

fn prune(hits: &mut VecDeque<DateTime<Utc>>, now: DateTime<Utc>, window: i64) {
    while hits
        .front()
        .is_some_and(|t| now - *t >= Duration::seconds(window))
    {
        hits.pop_front();
    }
}

/// Whole seconds from `now` to `t`, at least 1.
fn secs_until(now: DateTime<Utc>, t: DateTime<Utc>) -> i64 {
    let ms = (t - now).num_milliseconds().max(0);
    ((ms + 999) / 1000).max(1)
}

/// The 429 answer: `Retry-After` (seconds) and a problem naming what was limited, in both
/// languages.
pub fn too_many(retry_after: i64, what_en: &str, what_zh: &str) -> ApiError {
    let mins = (retry_after + 59) / 60;
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        format!("{what_en}; try again in {mins} minute(s)"),
        format!("{what_zh}，请{mins}分钟后再试"),
    );
    e.extra = Some(serde_json::json!({ "retry_after_seconds": retry_after }));
    e
}

/// 客户端地址 — the client's address: the TCP peer (axum `ConnectInfo`), or with
/// `--trust-proxy` the first `X-Forwarded-For` entry. `None` when the router runs without
/// connection info (in-process callers), and then no per-address limit applies.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The limiter's key for this address under `scope`, if there is an address.
    pub fn key(&self, scope: &str) -> Option<String> {
        self.0.map(|ip| format!("{scope}:{ip}"))
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        if st.limiter.limits.trust_proxy {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|s| s.trim().parse::<IpAddr>().ok());
            if forwarded.is_some() {
                return Ok(ClientAddr(forwarded));
            }
        }
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Counts one request of a public route from the caller's address against `max` per hour:
/// 429 with `Retry-After` beyond it.
pub fn per_address(
    st: &AppState,
    addr: ClientAddr,
    scope: &str,
    max: u32,
    what_en: &str,
    what_zh: &str,
) -> Result<(), ApiError> {
    match addr.key(scope) {
        Some(k) => st
            .limiter
            .hit(&k, st.now(), max, 3600)
            .map_err(|s| too_many(s, what_en, what_zh)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        "2026-12-01T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn lock_out_doubles_and_ends_on_the_clock() {
        let l = Limiter::new(Limits::default());
        let now = t0();
        for _ in 0..4 {
            assert_eq!(l.fail("u", now, 5, 900, 900), None);
        }
        assert_eq!(l.fail("u", now, 5, 900, 900), Some(900));
        assert_eq!(l.locked("u", now + Duration::seconds(899)), Some(1));
        let later = now + Duration::seconds(900);
        assert_eq!(l.locked("u", later), None);
        for _ in 0..4 {
            assert_eq!(l.fail("u", later, 5, 900, 900), None);
        }
        assert_eq!(l.fail("u", later, 5, 900, 900), Some(1800));
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let l = Limiter::new(Limits::default());
        for i in 0..10 {
            assert_eq!(
                l.fail("u", t0() + Duration::seconds(i * 300), 5, 900, 900),
                None
            );
        }
    }

    #[test]
    fn hits_beyond_the_limit_wait_for_the_oldest_to_leave_the_window() {
        let l = Limiter::new(Limits::default());
        assert!(l.hit("a", t0(), 2, 3600).is_ok());
        assert!(l.hit("a", t0() + Duration::seconds(600), 2, 3600).is_ok());
        assert_eq!(
            l.hit("a", t0() + Duration::seconds(1200), 2, 3600),
            Err(2400)
        );
        assert!(l.hit("a", t0() + Duration::seconds(3600), 2, 3600).is_ok());
    }

    #[test]
    fn limits_off_count_nothing() {
        let l = Limiter::new(Limits::off());
        for _ in 0..100 {
            assert!(l.hit("a", t0(), 1, 3600).is_ok());
            assert_eq!(l.fail("u", t0(), 1, 900, 900), None);
        }
    }

    #[test]
    fn limit_settings_parse_by_name() {
        let mut l = Limits::default();
        l.set("login_account_failures=3").unwrap();
        assert_eq!(l.login_account_failures, 3);
        assert!(l.set("login_window_secs=0").is_err());
        assert!(l.set("nonsense=1").is_err());
        assert!(l.set("ask_per_hour").is_err());
        l.set("connections_per_address=3").unwrap();
        assert_eq!(l.connections_per_address, 3);
        l.set("uri_max_bytes=2048").unwrap();
        assert_eq!(l.uri_max_bytes, 2048);
        l.set("open_data_per_hour=7").unwrap();
        assert_eq!(l.open_data_per_hour, 7);
        assert!(l.set("uri_max_bytes=100000").is_err());
        assert!(l.set("header_max_bytes=0").is_err());
    }
}
