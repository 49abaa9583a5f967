//! 报告收件箱 against the real binary on a test clock: a subscriber finds each newly generated
//! report of their kinds in their report inbox, unread; opening it marks it read and the unread
//! count drops; read state is each user's own (another subscriber's stays unread); a user who
//! subscribes to nothing or to another kind sees none of it; "mark all read"; a report generated
//! again after it was read is unread again; a role that may not read reports gets 403, an
//! unknown report 404 and a bad page 422, as problem+json in both languages.

mod common;
use common::*;
use serde_json::{json, Value};

const USERS: &[(&str, &str, Option<&str>)] = &[
    ("admin1", "admin", None),
    ("lead", "supervisor", None),
    ("lead2", "supervisor", None),
    ("weekly", "dispatcher", None),
    ("nosub", "dispatcher", None),
    ("h1", "unit_handler", Some("110105001")),
];

fn subscribe(s: &Server, token: &str, kind: &str) {
    let (st, _, v) = call(
        s,
        "PUT",
        "/api/v1/analytics/reports/subscriptions",
        Some(token),
        Some(&json!({"subscriptions": [{"kind": kind}]}).to_string()),
    );
    assert_eq!(st, 200, "{v}");
}

/// Generates the daily bulletin of `day` now; its id.
fn daily(s: &Server, token: &str, day: &str) -> i64 {
    let (st, _, v) = call(
        s,
        "POST",
        "/api/v1/analytics/reports",
        Some(token),
        Some(&json!({"kind": "daily", "period": day}).to_string()),
    );
    assert_eq!(st, 201, "{v}");
    v["id"].as_i64().unwrap()
}

fn inbox(s: &Server, token: &str) -> Value {
    let (st, _, v) = call(s, "GET", "/api/v1/inbox/reports", Some(token), None);
    assert_eq!(st, 200, "{v}");
    v
}

fn unread(s: &Server, token: &str) -> i64 {
    let (st, _, v) = call(s, "GET", "/api/v1/inbox/reports/unread", Some(token), None);
    assert_eq!(st, 200, "{v}");
    v["unread"].as_i64().unwrap()
}

fn ids(v: &Value) -> Vec<i64> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

fn item(v: &Value, id: i64) -> Value {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("report {id} not in {v}"))
}

#[test]
fn a_subscriber_sees_a_new_report_unread_reads_it_and_the_count_drops_per_user() {
    let s = server_at_clock(USERS);
    let (lead, lead2, weekly, nosub, h1, admin) = (
        login(&s, "lead"),
        login(&s, "lead2"),
        login(&s, "weekly"),
        login(&s, "nosub"),
        login(&s, "h1"),
        login(&s, "admin1"),
    );

    // a street handler may not read reports: 403, problem+json in both languages
    for (method, path) in [
        ("GET", "/api/v1/inbox/reports"),
        ("GET", "/api/v1/inbox/reports/unread"),
        ("POST", "/api/v1/inbox/reports/read"),
        ("POST", "/api/v1/inbox/reports/1/read"),
    ] {
        let (st, ct, v) = call(&s, method, path, Some(&h1), None);
        assert_eq!(st, 403, "{method} {path}: {v}");
        assert!(ct.starts_with("application/problem+json"), "{ct}");
        assert!(
            v["detail_zh"].as_str().is_some_and(|z| !z.is_empty()),
            "{v}"
        );
    }

    subscribe(&s, &lead, "daily");
    subscribe(&s, &lead2, "daily");
    subscribe(&s, &weekly, "weekly");
    let v = inbox(&s, &lead);
    assert_eq!(
        (v["total"].as_i64(), v["unread"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(v["subscribed"], json!(["daily"]));

    // a new daily bulletin: unread in both subscribers' inboxes, in no one else's
    let first = daily(&s, &admin, "2026-11-29");
    let v = inbox(&s, &lead);
    assert_eq!(ids(&v), [first]);
    let it = item(&v, first);
    assert_eq!(it["unread"], true, "{it}");
    assert_eq!(it["read_at"], Value::Null);
    assert_eq!(it["kind"], "daily");
    assert_eq!(it["period"], "2026-11-29");
    assert_eq!(
        it["html"],
        format!("/api/v1/analytics/reports/{first}/html")
    );
    assert_eq!(v["unread"], 1);
    assert_eq!(unread(&s, &lead), 1);
    assert_eq!(unread(&s, &lead2), 1);
    for other in [&nosub, &weekly] {
        let v = inbox(&s, other);
        assert_eq!(v["total"], 0, "{v}");
        assert_eq!(unread(&s, other), 0);
    }

    // lead opens it (the printable HTML): read for lead, still unread for lead2
    let (st, ct, _) = call(
        &s,
        "GET",
        &format!("/api/v1/analytics/reports/{first}/html"),
        Some(&lead),
        None,
    );
    assert_eq!(st, 200);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert_eq!(unread(&s, &lead), 0);
    let it = item(&inbox(&s, &lead), first);
    assert_eq!(it["unread"], false, "{it}");
    assert!(it["read_at"].is_string(), "{it}");
    assert_eq!(unread(&s, &lead2), 1, "read state is each user's own");
    assert_eq!(item(&inbox(&s, &lead2), first)["unread"], true);

    // a second bulletin: newest first; lead marks it read explicitly, lead2 marks all read
    let second = daily(&s, &admin, "2026-11-30");
    assert_eq!(ids(&inbox(&s, &lead)), [second, first]);
    assert_eq!(unread(&s, &lead), 1);
    assert_eq!(unread(&s, &lead2), 2);
    let (st, _, v) = call(
        &s,
        "POST",
        &format!("/api/v1/inbox/reports/{second}/read"),
        Some(&lead),
        None,
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["unread"], 0);
    let (st, _, v) = call(&s, "POST", "/api/v1/inbox/reports/read", Some(&lead2), None);
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["marked"].as_i64(), v["unread"].as_i64()),
        (Some(2), Some(0))
    );
    assert_eq!(inbox(&s, &lead2)["items"][0]["unread"], false);

    // generated again later: unread again (same id)
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/test-clock",
        Some(&admin),
        Some(&json!({"advance_seconds": 60}).to_string()),
    );
    assert_eq!(st, 200, "{v}");
    let lead = login(&s, "lead");
    assert_eq!(daily(&s, &admin, "2026-11-29"), first);
    assert_eq!(unread(&s, &lead), 1);
    assert_eq!(item(&inbox(&s, &lead), first)["unread"], true);

    // an unknown report is 404 and a bad page 422, each in both languages
    let (st, ct, v) = call(
        &s,
        "POST",
        "/api/v1/inbox/reports/99999/read",
        Some(&lead),
        None,
    );
    assert_eq!(st, 404, "{v}");
    assert!(ct.starts_with("application/problem+json"), "{ct}");
    assert!(
        v["detail_zh"].as_str().is_some_and(|z| z.contains("报告")),
        "{v}"
    );
    let (st, _, v) = call(&s, "GET", "/api/v1/inbox/reports?page=0", Some(&lead), None);
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["field"], "page");
}
