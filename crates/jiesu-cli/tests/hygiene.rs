//! Sessions and HTTP hygiene against the real binary: log-out and session limits (on the test
//! clock), security headers, problem+json for every error, idempotency keys bound to their
//! request, control characters in intake, and read timeouts of half-sent requests.

mod common;
use common::*;
use serde_json::{json, Value};

fn users() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    vec![("adm", "admin", None), ("agent1", "agent", None)]
}

/// A server on the test clock with the given `serve` flags.
fn server_flags(extra: &[&str]) -> Server {
    let mut args = vec!["--test-clock", TEST_CLOCK];
    args.extend_from_slice(extra);
    server_full(
        |db| {
            ok(&["init", "--db", db.to_str().unwrap()]);
        },
        &users(),
        &args,
        &[],
    )
}

fn advance(s: &Server, admin: &str, seconds: i64) {
    let (st, _, v) = call(
        s,
        "POST",
        "/api/v1/test-clock",
        Some(admin),
        Some(&json!({ "advance_seconds": seconds }).to_string()),
    );
    assert_eq!(st, 200, "{v}");
}

fn me(s: &Server, token: &str) -> u16 {
    call(s, "GET", "/api/v1/me", Some(token), None).0
}

#[test]
fn a_logged_out_token_is_refused_at_once() {
    let s = server(&users());
    let tok = login(&s, "agent1");
    // verified once, so the session is in the server's cache
    assert_eq!(me(&s, &tok), 200);
    let (st, _, v) = call(&s, "POST", "/api/v1/session/logout", Some(&tok), None);
    assert_eq!(st, 204, "{v}");
    let (st, ct, v) = call(&s, "GET", "/api/v1/me", Some(&tok), None);
    assert_eq!(st, 401, "{v}");
    assert_eq!(ct, "application/problem+json");
    // another session of the same user is not touched
    let other = login(&s, "agent1");
    assert_eq!(me(&s, &other), 200);
    let (st, _, _) = call(&s, "POST", "/api/v1/session/logout", Some(&tok), None);
    assert_eq!(st, 401);
}

#[test]
fn a_session_unused_past_the_idle_timeout_is_refused() {
    let s = server_flags(&["--session-idle-minutes", "30"]);
    let adm = login(&s, "adm");
    let tok = login(&s, "agent1");
    assert_eq!(me(&s, &tok), 200);
    // each use restarts the idle clock
    for _ in 0..3 {
        advance(&s, &adm, 25 * 60);
        assert_eq!(me(&s, &adm), 200);
        assert_eq!(me(&s, &tok), 200);
    }
    advance(&s, &adm, 31 * 60);
    assert_eq!(me(&s, &tok), 401);
    // refused for good, even once the cache is asked again
    assert_eq!(me(&s, &tok), 401);
}

#[test]
fn a_session_ends_at_its_absolute_lifetime_even_when_in_use_and_cached() {
    let s = server_flags(&["--session-idle-minutes", "30", "--session-hours", "1"]);
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/session",
        None,
        Some(&json!({"username": "agent1", "password": PW}).to_string()),
    );
    assert_eq!(st, 200);
    assert_eq!(v["expires_in"], 3600);
    let tok = v["token"].as_str().unwrap().to_string();
    let adm = login(&s, "adm");
    advance(&s, &adm, 20 * 60);
    assert_eq!(me(&s, &tok), 200);
    advance(&s, &adm, 20 * 60);
    assert_eq!(me(&s, &tok), 200);
    // 10 s before the end: verified and cached again
    advance(&s, &adm, 20 * 60 - 10);
    assert_eq!(me(&s, &tok), 200);
    // 5 s after the end, well inside the cache's 30 s: refused all the same
    advance(&s, &adm, 15);
    assert_eq!(me(&s, &tok), 401);
}

#[test]
fn every_answer_carries_the_security_headers_and_api_answers_are_not_stored() {
    let s = server(&users());
    for path in ["/api/v1/enums", "/", "/api/v1/nope", "/healthz"] {
        let r = match ureq::get(&format!("{}{path}", s.base)).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{path}: {e}"),
        };
        let csp = r.header("Content-Security-Policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        let script = csp.split(';').find(|d| d.trim().starts_with("script-src"));
        assert_eq!(
            script.map(str::trim),
            Some("script-src 'self'"),
            "{path}: {csp}"
        );
        let style = csp.split(';').find(|d| d.trim().starts_with("style-src "));
        assert_eq!(
            style.map(str::trim),
            Some("style-src 'self'"),
            "{path}: {csp}"
        );
        assert_eq!(
            r.header("X-Content-Type-Options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("Referrer-Policy"), Some("no-referrer"), "{path}");
        assert_eq!(r.header("X-Frame-Options"), Some("DENY"), "{path}");
        if path.starts_with("/api/") {
            assert_eq!(r.header("Cache-Control"), Some("no-store"), "{path}");
        }
    }
}

/// (status, content type, body, Allow) of a raw request.
fn raw(
    s: &Server,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> (u16, String, Value, Option<String>) {
    let mut req = ureq::request(method, &format!("{}{path}", s.base));
    if let Some(ct) = content_type {
        req = req.set("Content-Type", ct);
    }
    let r = match req.send_string(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let allow = r.header("Allow").map(str::to_string);
    let status = r.status();
    let ct = r.content_type().to_string();
    let v: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap_or(Value::Null);
    (status, ct, v, allow)
}

fn assert_problem(v: &Value, status: u16, ct: &str) {
    assert_eq!(ct, "application/problem+json", "{v}");
    assert_eq!(v["status"], status, "{v}");
    assert!(
        v["code"].is_string() && v["detail"].is_string() && v["detail_zh"].is_string(),
        "{v}"
    );
}

#[test]
fn every_api_error_is_problem_json() {
    let s = server(&users());
    // unknown API route: never the UI's page
    let (st, ct, v, _) = raw(&s, "GET", "/api/v1/nope", None, "");
    assert_eq!(st, 404);
    assert_problem(&v, 404, &ct);
    // wrong method: 405 with Allow
    let (st, ct, v, allow) = raw(&s, "DELETE", "/api/v1/enums", None, "");
    assert_eq!(st, 405);
    assert_problem(&v, 405, &ct);
    assert!(allow.unwrap_or_default().contains("GET"));
    // a form posted to a JSON route: 415 naming the header
    let (st, ct, v, _) = raw(
        &s,
        "POST",
        "/api/v1/session",
        Some("application/x-www-form-urlencoded"),
        "username=a&password=b",
    );
    assert_eq!(st, 415);
    assert_problem(&v, 415, &ct);
    assert_eq!(v["field"], "Content-Type");
    // JSON with a charset is JSON
    let (st, _, _, _) = raw(
        &s,
        "POST",
        "/api/v1/session",
        Some("application/json; charset=utf-8"),
        &json!({"username": "agent1", "password": PW}).to_string(),
    );
    assert_eq!(st, 200);
    // a body over the limit (2 MiB): 413. Only a few bytes over it: the server answers once the
    // limit is read and closes, and a client still writing a much larger body would see a broken
    // pipe instead of the answer (the rest must fit in the socket's buffer).
    let big = format!(r#"{{"question":"{}"}}"#, "a".repeat(2 * 1024 * 1024));
    let (st, ct, v, _) = raw(
        &s,
        "POST",
        "/api/v1/public/ask",
        Some("application/json"),
        &big,
    );
    assert_eq!(st, 413);
    assert_problem(&v, 413, &ct);
    // a bad query string: 422 naming the parameter
    let (st, ct, v, _) = raw(&s, "GET", "/api/v1/praise?from=2026-11-01", None, "");
    assert_eq!(st, 422);
    assert_problem(&v, 422, &ct);
    assert_eq!(v["field"], "to");
    let tok = login(&s, "agent1");
    let (st, ct, v) = call(&s, "GET", "/api/v1/tickets?page=abc", Some(&tok), None);
    assert_eq!(st, 422);
    assert_problem(&v, 422, &ct);
    assert_eq!(v["field"], "page");
    // a path parameter that is not a number (axum's own rejection)
    let (st, ct, v) = call(
        &s,
        "GET",
        "/api/v1/catalogue/drafts/abc/whatif",
        Some(&tok),
        None,
    );
    assert_eq!(st, 400, "{v}");
    assert_problem(&v, 400, &ct);
}

fn intake(title: &str) -> Value {
    json!({"channel": "phone", "type": "complaint", "category_code": "", "title": title,
           "text": "小区楼下工地夜里十一点后仍在施工，噪音很大，希望尽快处理。",
           "district_code": "110105", "street_code": "110105001",
           "requester": {"name": "张先生", "phone": "13812345678"}})
}

fn post_keyed(s: &Server, tok: &str, key: &str, body: &Value) -> (u16, Value) {
    let r = ureq::post(&format!("{}/api/v1/tickets", s.base))
        .set("Authorization", &format!("Bearer {tok}"))
        .set("Idempotency-Key", key)
        .set("Content-Type", "application/json")
        .send_string(&body.to_string());
    let r = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    (r.status(), r.into_json().unwrap())
}

#[test]
fn an_idempotency_key_reused_with_another_body_is_refused() {
    let s = server(&users());
    let tok = login(&s, "agent1");
    let cat = first_leaf(&s);
    let mut first = intake("夜间施工噪音扰民");
    first["category_code"] = json!(cat);
    let (st, a) = post_keyed(&s, &tok, "call-0001", &first);
    assert_eq!(st, 201, "{a}");
    // the same request again: the first ticket
    let (st, b) = post_keyed(&s, &tok, "call-0001", &first);
    assert_eq!(st, 200, "{b}");
    assert_eq!(a["id"], b["id"]);
    // the same key for another request: refused, naming the key
    let mut other = first.clone();
    other["title"] = json!("路灯不亮");
    let (st, v) = post_keyed(&s, &tok, "call-0001", &other);
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["field"], "Idempotency-Key");
    let (_, _, l) = call(&s, "GET", "/api/v1/tickets", Some(&tok), None);
    assert_eq!(l["total"], 1);
}

#[test]
fn control_characters_in_intake_text_are_refused_and_carriage_returns_become_line_breaks() {
    let s = server(&users());
    let tok = login(&s, "agent1");
    let cat = first_leaf(&s);
    for (field, bad) in [
        ("text", "噪音\u{0}很大"),
        ("title", "噪音\u{1b}[31m"),
        ("text", "噪音\u{85}很大"),
        ("requester.name", "张\u{7}先生"),
        ("address", "朝阳路\u{7f}1号"),
    ] {
        let mut b = intake("夜间施工噪音扰民");
        b["category_code"] = json!(cat);
        match field {
            "requester.name" => b["requester"]["name"] = json!(bad),
            f => b[f] = json!(bad),
        }
        let (st, ct, v) = call(
            &s,
            "POST",
            "/api/v1/tickets",
            Some(&tok),
            Some(&b.to_string()),
        );
        assert_eq!(st, 422, "{field}: {v}");
        assert_eq!(ct, "application/problem+json");
        assert_eq!(v["field"], field, "{v}");
        assert!(v["detail"].as_str().unwrap().contains("U+"), "{v}");
    }
    let mut b = intake("夜间施工噪音扰民");
    b["category_code"] = json!(cat);
    b["text"] = json!("第一行\r\n第二行\r第三行\n\t第四行");
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/tickets",
        Some(&tok),
        Some(&b.to_string()),
    );
    assert_eq!(st, 201, "{v}");
    let (_, _, t) = call(&s, "GET", v["href"].as_str().unwrap(), Some(&tok), None);
    assert_eq!(t["text"], "第一行\n第二行\n第三行\n\t第四行", "{t}");
}

/// Sends `bytes` and then nothing; true once the server has closed the connection (end of
/// stream or reset), reading for at most about 20 s — ten times the server's timeout of these
/// tests, and under hyper's own 30 s default (a bound, not a measurement).
fn server_hangs_up_after(s: &Server, bytes: &[u8]) -> bool {
    use std::io::{Read, Write};
    let addr = s.base.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(bytes).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(1)))
        .unwrap();
    let mut buf = [0u8; 4096];
    for _ in 0..20 {
        match conn.read(&mut buf) {
            Ok(0) => return true,
            // an answer (e.g. the problem for the broken body) may come first; read on
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn a_half_sent_request_is_disconnected() {
    let s = server_full(
        |db| {
            ok(&["init", "--db", db.to_str().unwrap()]);
        },
        &users(),
        &["--read-timeout-seconds", "2"],
        &[],
    );
    // half a header
    assert!(server_hangs_up_after(
        &s,
        b"POST /api/v1/session HTTP/1.1\r\nHost: jiesu\r\nContent-Type: appl"
    ));
    // a whole header, half the body it announced
    assert!(server_hangs_up_after(
        &s,
        b"POST /api/v1/session HTTP/1.1\r\nHost: jiesu\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"username\":"
    ));
    // a whole request is answered as ever
    assert_eq!(login(&s, "agent1").len(), 64);
}

/// An answer read off a raw connection: status, lower-case headers, body.
struct RawAnswer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl RawAnswer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Reads one answer (with a `Content-Length`) from `conn`; `None` if the connection ends first.
fn read_answer(conn: &mut std::net::TcpStream) -> Option<RawAnswer> {
    use std::io::Read;
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .expect("an answer with Content-Length");
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    Some(RawAnswer {
        status,
        headers,
        body: String::from_utf8_lossy(&body[..len]).to_string(),
    })
}

/// Sends `request` on a new connection and reads the answer.
fn raw_request(s: &Server, request: &[u8]) -> RawAnswer {
    use std::io::Write;
    let mut conn = std::net::TcpStream::connect(s.base.trim_start_matches("http://")).unwrap();
    conn.write_all(request).unwrap();
    read_answer(&mut conn).expect("an answer")
}

/// The problem document of a refused request head: status, type, title, both languages, the
/// security headers.
fn assert_head_problem(a: &RawAnswer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.header("content-type"), Some("application/problem+json"));
    assert_eq!(a.header("connection"), Some("close"));
    assert!(a.header("content-security-policy").is_some());
    let v = a.json();
    assert_eq!(v["status"], status, "{v}");
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(
        v["type"],
        format!("https://jiesu.dev/problems/{code}"),
        "{v}"
    );
    assert!(v["title"].is_string(), "{v}");
    assert!(v["detail"].as_str().unwrap().contains("limit"), "{v}");
    assert!(v["detail_zh"].as_str().unwrap().contains("上限"), "{v}");
}

#[test]
fn an_over_long_uri_is_414_and_over_large_headers_431_both_problem_json() {
    let s = server(&users());
    // a 20 KB request line (the default limit is 8 KiB)
    let long = format!(
        "GET /api/v1/enums?q={} HTTP/1.1\r\nHost: jiesu\r\n\r\n",
        "a".repeat(20_000)
    );
    let a = raw_request(&s, long.as_bytes());
    assert_head_problem(&a, 414, "uri_too_long");
    assert!(a.json()["detail"].as_str().unwrap().contains("8192"));
    // 100 KB of header fields (the default limit is 32 KiB), in 50 fields
    let mut big = String::from("GET /api/v1/enums HTTP/1.1\r\nHost: jiesu\r\n");
    for i in 0..50 {
        big.push_str(&format!("X-Pad-{i}: {}\r\n", "b".repeat(2000)));
    }
    big.push_str("\r\n");
    let a = raw_request(&s, big.as_bytes());
    assert_head_problem(&a, 431, "headers_too_large");
    // a UI path over the limit is refused the same way
    let long_ui = format!("GET /{} HTTP/1.1\r\nHost: jiesu\r\n\r\n", "c".repeat(9000));
    assert_head_problem(&raw_request(&s, long_ui.as_bytes()), 414, "uri_too_long");
    // under the limits: answered as ever
    let fine = format!(
        "GET /api/v1/enums?q={} HTTP/1.1\r\nHost: jiesu\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(4000),
        "b".repeat(20_000)
    );
    assert_eq!(raw_request(&s, fine.as_bytes()).status, 200);
}

#[test]
fn the_head_limits_are_settings() {
    let s = server_full(
        |db| {
            ok(&["init", "--db", db.to_str().unwrap()]);
        },
        &users(),
        &[
            "--limit",
            "uri_max_bytes=2048",
            "--limit",
            "header_max_bytes=4096",
        ],
        &[],
    );
    let uri = format!(
        "GET /api/v1/enums?q={} HTTP/1.1\r\nHost: jiesu\r\n\r\n",
        "a".repeat(3000)
    );
    let a = raw_request(&s, uri.as_bytes());
    assert_head_problem(&a, 414, "uri_too_long");
    assert!(a.json()["detail"].as_str().unwrap().contains("2048"));
    let headers = format!(
        "GET /api/v1/enums HTTP/1.1\r\nHost: jiesu\r\nX-Pad: {}\r\n\r\n",
        "b".repeat(5000)
    );
    assert_head_problem(
        &raw_request(&s, headers.as_bytes()),
        431,
        "headers_too_large",
    );
    let o = jiesu(&["serve", "--db", "x.db", "--limit", "uri_max_bytes=100"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("1024"));
}

const KEEP_ALIVE_GET: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: jiesu\r\n\r\n";

/// A new keep-alive connection whose first request was answered 200. A connection that has just
/// been closed may still be counted for a moment, so a 429 is retried (for at most 30 s: a bound,
/// not a measurement).
fn admitted_connection(s: &Server) -> std::net::TcpStream {
    use std::io::Write;
    let addr = s.base.trim_start_matches("http://");
    for _ in 0..600 {
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        conn.write_all(KEEP_ALIVE_GET).unwrap();
        if let Some(a) = read_answer(&mut conn) {
            if a.status == 200 {
                return conn;
            }
            assert_eq!(a.status, 429, "{}", a.body);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("no connection admitted");
}

#[test]
fn connections_over_the_per_address_limit_are_refused_and_the_others_keep_working() {
    use std::io::Write;
    let s = server_full(
        |db| {
            ok(&["init", "--db", db.to_str().unwrap()]);
        },
        &users(),
        &["--limit", "connections_per_address=3"],
        &[],
    );
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut open: Vec<_> = (0..3).map(|_| admitted_connection(&s)).collect();
    // the fourth: one 429 problem, then closed
    let mut extra = std::net::TcpStream::connect(&addr).unwrap();
    extra.write_all(KEEP_ALIVE_GET).unwrap();
    let a = read_answer(&mut extra).expect("an answer");
    assert_eq!(a.status, 429, "{}", a.body);
    assert_eq!(a.header("content-type"), Some("application/problem+json"));
    assert!(a.header("retry-after").is_some());
    let v = a.json();
    assert_eq!(v["code"], "too_many_connections", "{v}");
    assert!(v["detail"].as_str().unwrap().contains('3'), "{v}");
    assert!(v["detail_zh"].as_str().unwrap().contains("连接"), "{v}");
    let _ = extra.write_all(KEEP_ALIVE_GET);
    assert!(
        read_answer(&mut extra).is_none(),
        "the refused one is closed"
    );
    // the three keep working
    for conn in &mut open {
        conn.write_all(KEEP_ALIVE_GET).unwrap();
        assert_eq!(read_answer(conn).expect("an answer").status, 200);
    }
    // closing two frees two places
    open.truncate(1);
    open.push(admitted_connection(&s));
    open.push(admitted_connection(&s));
    // and the limit holds again
    let mut extra = std::net::TcpStream::connect(&addr).unwrap();
    extra.write_all(KEEP_ALIVE_GET).unwrap();
    assert_eq!(read_answer(&mut extra).expect("an answer").status, 429);
    for conn in &mut open {
        conn.write_all(KEEP_ALIVE_GET).unwrap();
        assert_eq!(read_answer(conn).expect("an answer").status, 200);
    }
}
