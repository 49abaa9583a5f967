//! The virtual agent's sessions are stored: answered / handed over / a request filed from the
//! hand-over, and the one-shot resolution rate per period, the same from another server process.

mod common;
use common::*;
use serde_json::{json, Value};

#[test]
fn virtual_agent_sessions_are_stored_and_the_one_shot_rate_is_durable() {
    let s = server_at_clock(&[
        ("agent1", "agent", None),
        ("h1", "unit_handler", Some("110105001")),
    ]);
    let agent = login(&s, "agent1");
    let ask = |q: &str| {
        let (st, _, v) = call(
            &s,
            "POST",
            "/api/v1/public/ask",
            None,
            Some(&json!({ "question": q }).to_string()),
        );
        assert_eq!(st, 200, "{v}");
        v
    };
    let answered = ask("居住证怎么办理？需要什么材料");
    assert!(answered["answer"].is_object(), "{answered}");
    let sid_a = answered["session_id"].as_str().unwrap().to_string();
    assert_eq!(sid_a.len(), 32);
    let unanswered = ask("zzqxw kkpplm vvbnt");
    assert!(unanswered["answer"].is_null(), "{unanswered}");
    let sid_h = unanswered["session_id"].as_str().unwrap().to_string();
    assert_ne!(sid_a, sid_h);

    // the citizen files a request from the hand-over
    let body = json!({"type": "complaint", "category_code": first_leaf(&s), "title": "夜间噪音",
        "text": "楼下那只橘猫每天半夜在我窗台唱京剧，吵得睡不着。", "district_code": "110105",
        "street_code": "110105001", "requester": {"name": "钱先生", "phone": "13812340000"}});
    let (st, _, t) = call(
        &s,
        "POST",
        "/api/v1/public/tickets",
        None,
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{t}");
    let number = t["number"].as_str().unwrap().to_string();
    let link = |sid: &str, number: &str| {
        call(
            &s,
            "POST",
            &format!("/api/v1/public/ask/{sid}/ticket"),
            None,
            Some(&json!({ "number": number }).to_string()),
        )
    };
    let (st, _, v) = link(&sid_h, &number);
    assert_eq!((st, &v["outcome"]), (200, &json!("ticket_created")), "{v}");
    let (st, _, _) = link(&sid_h, &number);
    assert_eq!(st, 200, "reporting the same request again is harmless");
    let (st, _, _) = link(&sid_h, "20000101000000");
    assert_eq!(st, 404, "unknown request");
    let (st, _, _) = link("not-a-session", &number);
    assert_eq!(st, 404);
    let (st, _, _) = link(&"0".repeat(32), &number);
    assert_eq!(st, 404, "unknown session");

    let expect = json!({"asked": 2, "answered": 1, "handed_over": 1, "ticket_created": 1,
                        "resolved_one_shot": 1, "one_shot_rate": 0.5});
    let figures = |base: &str, q: &str, tok: &str| -> Value {
        let r = ureq::get(&format!("{base}/api/v1/kb/stats{q}"))
            .set("Authorization", &format!("Bearer {tok}"))
            .call()
            .unwrap();
        let mut v: Value = r.into_json().unwrap();
        v.as_object_mut()
            .unwrap()
            .retain(|k, _| expect.get(k).is_some());
        v
    };
    assert_eq!(figures(&s.base, "", &agent), expect);
    let today = test_today();
    let q = format!("?from={}&to={}", today, today + chrono::Duration::days(1));
    assert_eq!(figures(&s.base, &q, &agent), expect);
    let none = figures(&s.base, "?from=2000-01-01&to=2000-02-01", &agent);
    assert_eq!(none["asked"], json!(0));
    let (st, _, _) = call(&s, "GET", "/api/v1/kb/stats", Some(&login(&s, "h1")), None);
    assert_eq!(st, 403);
    let (st, _, _) = call(
        &s,
        "GET",
        "/api/v1/kb/stats?from=yesterday&to=2000-01-01",
        Some(&agent),
        None,
    );
    assert_eq!(st, 422);

    // another server process on the same database reports the same figures (nothing in memory)
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db = s.db.clone();
    let mut other = std::process::Command::new(bin())
        .args([
            "serve",
            "--db",
            db.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
            // the first server's clock, so its sessions are valid here
            "--test-clock",
            TEST_CLOCK,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut got = Value::Null;
    for _ in 0..200 {
        if ureq::get(&format!("{base}/api/openapi.json"))
            .call()
            .is_ok()
        {
            got = figures(&base, "", &agent);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = other.kill();
    let _ = other.wait();
    assert_eq!(got, expect);
}
