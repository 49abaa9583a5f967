//! Personal data at rest and the tamper-evident log with the real binary: key rotation beside a
//! running server, retention on the server's clock, phone search, and a ticket whose history
//! was edited in the file.

mod common;
use common::*;
use serde_json::json;
use std::process::Command;

const PHONE: &str = "13912345678";

fn users() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    vec![
        ("agent1", "agent", None),
        ("sup1", "supervisor", None),
        ("admin1", "admin", None),
        ("h1", "unit_handler", Some("110105001")),
    ]
}

fn consultation(s: &Server, token: &str, phone: &str) -> i64 {
    let body = json!({"channel": "phone", "type": "consultation", "category_code": first_leaf(s),
        "title": "供暖时间咨询", "text": "请问今年什么时候开始供暖？", "district_code": "110105",
        "street_code": "110105001", "address": "幸福里小区三号楼",
        "requester": {"name": "王秀英", "phone": phone}});
    let (st, _, t) = call(
        s,
        "POST",
        "/api/v1/tickets",
        Some(token),
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{t}");
    t["id"].as_i64().unwrap()
}

fn phone_of(s: &Server, token: &str, id: i64) -> String {
    let (st, _, t) = call(
        s,
        "GET",
        &format!("/api/v1/tickets/{id}"),
        Some(token),
        None,
    );
    assert_eq!(st, 200, "{t}");
    t["requester"]["phone"].as_str().unwrap().to_string()
}

fn db(s: &Server) -> String {
    s.db.clone().to_str().unwrap().to_string()
}

#[test]
fn a_key_rotation_beside_the_running_server_keeps_every_phone_readable() {
    let s = server(&users());
    let agent = login(&s, "agent1");
    let before = consultation(&s, &agent, PHONE);
    let out = ok(&["keys", "rotate", "--db", &db(&s)]);
    assert!(out.contains("re-wrapped 1 data keys"), "{out}");
    // the server follows the new key file without a restart
    let after = consultation(&s, &agent, "13800002222");
    assert_eq!(phone_of(&s, &agent, before), PHONE);
    assert_eq!(phone_of(&s, &agent, after), "13800002222");
    // tickets a server took in before it re-read the file are re-wrapped by a second pass
    ok(&["keys", "rotate", "--no-new-key", "--db", &db(&s)]);
    let out = ok(&["keys", "prune", "--db", &db(&s)]);
    assert!(out.contains("keeps only"), "{out}");
    let status = ok(&["keys", "status", "--db", &db(&s)]);
    assert_eq!(
        status.matches("data keys").count(),
        1,
        "one master key left: {status}"
    );
    let third = consultation(&s, &agent, "13700003333");
    assert_eq!(phone_of(&s, &agent, before), PHONE);
    assert_eq!(phone_of(&s, &agent, third), "13700003333");
    ok(&["verify", "--db", &db(&s)]);
}

#[test]
fn without_its_key_file_the_database_is_refused_in_plain_words_not_given_a_new_key() {
    let s = server(&users());
    let agent = login(&s, "agent1");
    consultation(&s, &agent, PHONE);
    let keys = s.dir.path().join("city.db.keys");
    let moved = s.dir.path().join("moved.keys");
    std::fs::rename(&keys, &moved).unwrap();
    let o = jiesu(&["keys", "status", "--db", &db(&s)]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("JIESU_KEY_FILE") && err.contains("密钥文件"),
        "{err}"
    );
    assert!(!keys.exists(), "no new key file was made");
    let o = Command::new(bin())
        .args(["keys", "status", "--db", &db(&s)])
        .env("JIESU_KEY_FILE", &moved)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn staff_who_see_phones_find_a_callers_tickets_and_every_search_is_audited() {
    let s = server(&users());
    let agent = login(&s, "agent1");
    let a = consultation(&s, &agent, PHONE);
    consultation(&s, &agent, "13800002222");
    let (st, _, page) = call(
        &s,
        "GET",
        "/api/v1/tickets?phone=139-1234-5678",
        Some(&agent),
        None,
    );
    assert_eq!(st, 200, "{page}");
    let ids: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![a]);
    let h1 = login(&s, "h1");
    let (st, ct, v) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets?phone={PHONE}"),
        Some(&h1),
        None,
    );
    assert_eq!(st, 403, "a unit handler may not search by phone: {v}");
    assert!(ct.contains("problem+json"));
    let (st, _, v) = call(&s, "GET", "/api/v1/tickets?phone=139", Some(&agent), None);
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["field"], "phone");
    let store = s.store();
    let audit = jiesu_store::TicketStore::recent_audit(&*store, 100).unwrap();
    let searches: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "phone_search")
        .collect();
    assert_eq!(
        searches.len(),
        1,
        "the one search that ran is audited (refused ones read nothing): {audit:?}"
    );
    assert!(searches
        .iter()
        .all(|e| e.user == "agent1" && e.detail.contains("139****5678")));
    assert!(
        !audit.iter().any(|e| e.detail.contains(PHONE)),
        "the audit names the masked number only"
    );
}

#[test]
fn retention_erases_an_archived_tickets_personal_data_when_the_server_clock_passes_it() {
    let s = server_full(
        |db| {
            ok(&["init", "--db", db.to_str().unwrap()]);
        },
        &users(),
        &["--test-clock", TEST_CLOCK, "--retention-years", "1"],
        &[],
    );
    let (agent, sup) = (login(&s, "agent1"), login(&s, "sup1"));
    let id = consultation(&s, &agent, PHONE);
    let act = |token: &str, action: &str, body: serde_json::Value| {
        let (st, _, v) = call(
            &s,
            "POST",
            &format!("/api/v1/tickets/{id}/{action}"),
            Some(token),
            Some(&body.to_string()),
        );
        assert_eq!(st, 200, "{action}: {v}");
    };
    act(
        &agent,
        "answer",
        json!({"answer": "本市供暖自11月15日开始。"}),
    );
    act(&agent, "close", json!({}));
    act(&sup, "archive", json!({}));
    // sessions end as the clock moves on (absolute lifetime): log in afresh each time
    let advance = |days: i64| {
        let admin = login(&s, "admin1");
        let (st, _, v) = call(
            &s,
            "POST",
            "/api/v1/test-clock",
            Some(&admin),
            Some(&json!({"advance_seconds": days * 86_400}).to_string()),
        );
        assert_eq!(st, 200, "{v}");
    };
    // eleven months on: kept
    for _ in 0..11 {
        advance(30);
    }
    assert_eq!(phone_of(&s, &login(&s, "sup1"), id), PHONE);
    // past a year: erased by the scheduler's retention pass, the ticket stays
    for _ in 0..2 {
        advance(31);
    }
    let sup = login(&s, "sup1");
    let (st, _, t) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}"),
        Some(&sup),
        None,
    );
    assert_eq!(st, 200);
    assert!(t["requester"]["erased_at"].is_string(), "{t}");
    assert_eq!(t["requester"]["phone"], "");
    assert_eq!(t["title"], "供暖时间咨询");
    assert_eq!(t["status"], "archived");
    let (_, _, ev) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}/events"),
        Some(&sup),
        None,
    );
    assert!(ev.to_string().contains("personal_data_erased"), "{ev}");
    assert!(!ev.to_string().contains(PHONE));
    ok(&["verify", "--db", &db(&s)]);
}

#[test]
fn a_ticket_whose_stored_history_was_edited_is_refused_and_verify_names_it() {
    let s = server(&users());
    let agent = login(&s, "agent1");
    let good = consultation(&s, &agent, PHONE);
    let bad = consultation(&s, &agent, PHONE);
    ok(&["verify", "--db", &db(&s)]);
    // an insider edits the title inside the stored 受理 event (the file stays valid SQLite)
    let edit = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"update events set payload=replace(payload,'供暖时间','停水时间') where ticket_id=?\", (int(sys.argv[2]),)); c.commit()",
            &db(&s),
            &bad.to_string(),
        ])
        .status()
        .unwrap();
    assert!(edit.success());
    let (st, ct, v) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{bad}"),
        Some(&agent),
        None,
    );
    assert_eq!(st, 500, "{v}");
    assert!(ct.contains("problem+json"));
    assert!(
        v["type"].as_str().unwrap_or("").contains("log-integrity"),
        "{v}"
    );
    assert!(v.to_string().contains("jiesu verify"), "{v}");
    let (st, _, _) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{good}"),
        Some(&agent),
        None,
    );
    assert_eq!(st, 200, "the untouched ticket is served");
    let o = jiesu(&["verify", "--db", &db(&s)]);
    assert!(!o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("event 1") && out.contains(&format!("id {bad}")),
        "{out}"
    );
}
