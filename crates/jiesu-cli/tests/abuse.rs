//! Abuse limits against the real binary: log-in answers that do not reveal user names, lock-outs
//! on the server's clock, the password policy, tracking codes that cannot be tried out, and
//! per-address limits of the public routes — all 429 with `Retry-After` in both languages.

mod common;
use common::*;
use serde_json::{json, Value};

/// (status, Retry-After, content type, raw body)
fn raw(
    s: &Server,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Option<String>, String, String) {
    let req = ureq::request(method, &format!("{}{}", s.base, path));
    let r = match body {
        Some(b) => req.set("Content-Type", "application/json").send_string(b),
        None => req.call(),
    };
    let resp = match r {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = resp.status();
    let retry = resp.header("retry-after").map(str::to_string);
    let ct = resp.content_type().to_string();
    (status, retry, ct, resp.into_string().unwrap())
}

fn log_in(s: &Server, name: &str, pw: &str) -> (u16, Option<String>, String, String) {
    let body = json!({"username": name, "password": pw}).to_string();
    raw(s, "POST", "/api/v1/session", Some(&body))
}

fn advance(s: &Server, admin: &str, secs: i64) {
    let (st, _, v) = call(
        s,
        "POST",
        "/api/v1/test-clock",
        Some(admin),
        Some(&json!({"advance_seconds": secs}).to_string()),
    );
    assert_eq!(st, 200, "{v}");
}

fn users() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    vec![("agent1", "agent", None), ("admin1", "admin", None)]
}

fn server_with_limits(limits: &[&str]) -> Server {
    let mut extra = vec!["--test-clock", TEST_CLOCK];
    for l in limits {
        extra.extend(["--limit", l]);
    }
    server_full(
        |db| {
            ok(&["init", "--db", db.to_str().unwrap()]);
        },
        &users(),
        &extra,
        &[],
    )
}

#[test]
fn an_unknown_user_and_a_wrong_password_get_byte_identical_answers() {
    let s = server_at_clock(&users());
    let unknown = log_in(&s, "nobody-here", "Whatever-pass-1");
    let wrong = log_in(&s, "agent1", "Whatever-pass-1");
    assert_eq!(unknown.0, 401);
    assert_eq!(unknown, wrong);
    assert_eq!(unknown.2, "application/problem+json");
    let v: Value = serde_json::from_str(&unknown.3).unwrap();
    assert_eq!(v["code"], "bad_credentials");
    assert!(v["detail_zh"]
        .as_str()
        .unwrap()
        .contains("用户名或密码错误"));
}

#[test]
fn five_failures_lock_the_account_for_fifteen_minutes_then_twice_as_long() {
    let s = server_at_clock(&users());
    let admin = login(&s, "admin1");
    for _ in 0..5 {
        assert_eq!(log_in(&s, "agent1", "Wrong-password-1").0, 401);
    }
    // locked: even the right password is refused, with when to come back
    let (st, retry, ct, body) = log_in(&s, "agent1", PW);
    assert_eq!(st, 429, "{body}");
    assert_eq!(ct, "application/problem+json");
    let secs: i64 = retry.expect("Retry-After").parse().unwrap();
    assert!((899..=900).contains(&secs), "{secs}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], "too_many_requests");
    assert!(v["detail"].as_str().unwrap().contains("locked"));
    assert!(v["detail_zh"].as_str().unwrap().contains("锁定"));
    // another account from the same address is not locked
    assert_eq!(log_in(&s, "admin1", PW).0, 200);
    // after the lock-out the right password works again
    advance(&s, &admin, 901);
    assert_eq!(log_in(&s, "agent1", PW).0, 200);
    // the next lock-out lasts twice as long
    for _ in 0..5 {
        assert_eq!(log_in(&s, "agent1", "Wrong-password-1").0, 401);
    }
    let (st, retry, _, _) = log_in(&s, "agent1", PW);
    assert_eq!(st, 429);
    let secs: i64 = retry.unwrap().parse().unwrap();
    assert!((1799..=1800).contains(&secs), "{secs}");
}

#[test]
fn an_unknown_user_name_locks_like_a_known_one() {
    let s = server_at_clock(&users());
    for _ in 0..5 {
        assert_eq!(log_in(&s, "ghost", "Wrong-password-1").0, 401);
    }
    assert_eq!(log_in(&s, "ghost", "Wrong-password-1").0, 429);
}

#[test]
fn failures_from_one_address_lock_the_address_across_accounts() {
    let s = server_with_limits(&["login_address_failures=3", "login_account_failures=100"]);
    for name in ["a1", "a2", "a3"] {
        assert_eq!(log_in(&s, name, "Wrong-password-1").0, 401);
    }
    let (st, retry, _, body) = log_in(&s, "agent1", PW);
    assert_eq!(st, 429, "{body}");
    assert!(retry.is_some());
    assert!(body.contains("address"));
}

#[test]
fn failed_log_ins_and_lock_outs_are_audited() {
    let s = server_at_clock(&users());
    for _ in 0..5 {
        log_in(&s, "agent1", "Wrong-password-1");
    }
    let store = s.store();
    let rows: Vec<(String, String, String)> = jiesu_store::TicketStore::recent_audit(&*store, 100)
        .unwrap()
        .into_iter()
        .map(|e| (e.user, e.action, e.detail))
        .collect();
    let failed = rows
        .iter()
        .filter(|(u, a, _)| u == "agent1" && a == "login_failed")
        .count();
    assert_eq!(failed, 5, "{rows:?}");
    assert!(
        rows.iter()
            .any(|(u, a, d)| u == "agent1" && a == "login_locked" && d.contains("900")),
        "{rows:?}"
    );
}

#[test]
fn new_passwords_must_be_long_and_uncommon_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let dbs = db.to_str().unwrap();
    ok(&["init", "--db", dbs]);
    for (pw, en, zh) in [
        ("Short-1", "at least 10 characters", "至少需要10个字符"),
        ("qwertyuiop123", "most common passwords", "最常见的密码"),
    ] {
        let o = jiesu(&[
            "user",
            "add",
            "--db",
            dbs,
            "--name",
            "u",
            "--role",
            "agent",
            "--password",
            pw,
        ]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(en) && err.contains(zh), "{err}");
    }
    ok(&[
        "user",
        "add",
        "--db",
        dbs,
        "--name",
        "u",
        "--role",
        "agent",
        "--password",
        "demo-12345",
    ]);
}

fn public_body(s: &Server) -> String {
    json!({"type": "complaint", "category_code": first_leaf(s), "title": "噪音扰民",
        "text": "夜间施工噪音扰民，请尽快处理。", "district_code": "110105", "street_code": "110105001",
        "requester": {"name": "王先生", "phone": "13812345678"}})
    .to_string()
}

fn file_public(s: &Server) -> (String, String) {
    let (st, _, v) = call(
        s,
        "POST",
        "/api/v1/public/tickets",
        None,
        Some(&public_body(s)),
    );
    assert_eq!(st, 201, "{v}");
    (
        v["number"].as_str().unwrap().to_string(),
        v["tracking_code"].as_str().unwrap().to_string(),
    )
}

#[test]
fn a_request_is_tracked_with_its_random_code_and_not_with_phone_digits() {
    let s = server_at_clock(&users());
    let (number, code) = file_public(&s);
    assert!(code.len() >= 8, "{code}");
    assert!(
        code.chars()
            .all(|c| "23456789ABCDEFGHJKMNPQRSTUVWXYZ".contains(c)),
        "{code}"
    );
    let (_, other) = file_public(&s);
    assert_ne!(code, other, "each request gets its own code");
    let track = |q: &str| {
        call(
            &s,
            "GET",
            &format!("/api/v1/track/{number}?{q}"),
            None,
            None,
        )
    };
    let (st, _, v) = track(&format!("code={code}"));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["number"], number.as_str());
    // typed in lower case with a dash: still the code
    let typed = format!("{}-{}", &code[..5], &code[5..]).to_lowercase();
    assert_eq!(track(&format!("code={typed}")).0, 200);
    // the phone's last four digits are no longer enough
    let (st, _, v) = track("phone_last4=5678");
    assert_eq!((st, v["field"].as_str()), (422, Some("code")), "{v}");
    let (st, _, v) = track("code=ABCDEFGHJK");
    assert_eq!(st, 404, "{v}");
    assert!(v["detail_zh"].as_str().unwrap().contains("查询码"));
    // the staff view never lists the code
    let agent = login(&s, "agent1");
    let (_, _, list) = call(&s, "GET", "/api/v1/tickets", Some(&agent), None);
    assert!(!list.to_string().contains(&code));
}

#[test]
fn failed_look_ups_of_one_number_are_limited_until_the_window_passes() {
    let s = server_at_clock(&users());
    let admin = login(&s, "admin1");
    let (number, code) = file_public(&s);
    for _ in 0..5 {
        let (st, _, _, _) = raw(
            &s,
            "GET",
            &format!("/api/v1/track/{number}?code=ZZZZZZZZZZ"),
            None,
        );
        assert_eq!(st, 404);
    }
    // now even the right code waits: guesses learn nothing
    let (st, retry, ct, body) = raw(
        &s,
        "GET",
        &format!("/api/v1/track/{number}?code={code}"),
        None,
    );
    assert_eq!(st, 429, "{body}");
    assert_eq!(ct, "application/problem+json");
    assert!(retry.unwrap().parse::<i64>().unwrap() > 3000);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["detail"].as_str().unwrap().contains("try again"));
    assert!(v["detail_zh"].as_str().unwrap().contains("请"));
    advance(&s, &admin, 3601);
    assert_eq!(
        raw(
            &s,
            "GET",
            &format!("/api/v1/track/{number}?code={code}"),
            None
        )
        .0,
        200
    );
}

#[test]
fn failed_look_ups_from_one_address_are_limited_across_numbers() {
    let s = server_with_limits(&["track_address_failures=3", "track_number_failures=100"]);
    let (number, code) = file_public(&s);
    for n in ["20261130-000901", "20261130-000902", "20261130-000903"] {
        assert_eq!(
            raw(
                &s,
                "GET",
                &format!("/api/v1/track/{n}?code=ZZZZZZZZZZ"),
                None
            )
            .0,
            404
        );
    }
    let (st, retry, _, _) = raw(
        &s,
        "GET",
        &format!("/api/v1/track/{number}?code={code}"),
        None,
    );
    assert_eq!(st, 429);
    assert!(retry.is_some());
}

#[test]
fn public_intake_the_virtual_agent_and_rating_links_are_limited_per_address() {
    let s = server_with_limits(&[
        "public_intake_per_hour=2",
        "ask_per_hour=2",
        "rate_per_hour=2",
    ]);
    let admin = login(&s, "admin1");
    file_public(&s);
    file_public(&s);
    let body = public_body(&s);
    let (st, retry, _, text) = raw(&s, "POST", "/api/v1/public/tickets", Some(&body));
    assert_eq!(st, 429, "{text}");
    assert!(retry.is_some());
    let ask = json!({"question": "噪音扰民怎么办"}).to_string();
    for _ in 0..2 {
        assert_ne!(raw(&s, "POST", "/api/v1/public/ask", Some(&ask)).0, 429);
    }
    assert_eq!(raw(&s, "POST", "/api/v1/public/ask", Some(&ask)).0, 429);
    for _ in 0..2 {
        assert_ne!(
            raw(&s, "GET", "/api/v1/public/rate/no-such-token", None).0,
            429
        );
    }
    assert_eq!(
        raw(&s, "GET", "/api/v1/public/rate/no-such-token", None).0,
        429
    );
    // an hour later the address may file again
    advance(&s, &admin, 3600);
    file_public(&s);
}

#[test]
fn open_data_queries_are_limited_per_address_until_the_hour_passes_on_the_server_clock() {
    let s = server_with_limits(&["open_data_per_hour=2"]);
    let admin = login(&s, "admin1");
    let path = "/api/v1/public/analytics/group?by=district";
    for _ in 0..2 {
        let (st, _, _, text) = raw(&s, "GET", path, None);
        assert_eq!(st, 200, "{text}");
    }
    let (st, retry, ct, text) = raw(&s, "GET", path, None);
    assert_eq!(st, 429, "{text}");
    assert!(ct.contains("problem+json"), "{ct}");
    let secs: i64 = retry.expect("Retry-After").parse().unwrap();
    assert!(secs > 3000 && secs <= 3600, "{secs}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["retry_after_seconds"], secs);
    assert!(v["detail"].as_str().unwrap().contains("open-data"), "{v}");
    assert!(v["detail_zh"].as_str().unwrap().contains("开放数据"), "{v}");
    // a refused query was not counted: an hour after the first two the address may query again
    advance(&s, &admin, 3600);
    let (st, _, _, text) = raw(&s, "GET", path, None);
    assert_eq!(st, 200, "{text}");
}

#[test]
fn limits_turned_off_by_zero_do_not_count() {
    let s = server_with_limits(&["public_intake_per_hour=0"]);
    for _ in 0..3 {
        file_public(&s);
    }
}
