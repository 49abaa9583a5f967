//! 报告订阅 against the real binary on a test clock: a unit manager subscribes to the daily
//! bulletin with their own webhook and gets each new one there, signed, and only that kind; their
//! inbox shows the subscribed kind; a subscriber whose webhook is down gets the missed report once
//! it answers (the subscription's cursor waits); bad input is named in both languages; a street
//! handler may not subscribe.

mod common;
use common::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

const SECRET: &str = "a-test-secret-of-some-length";

const USERS: &[(&str, &str, Option<&str>)] = &[
    ("agent1", "agent", None),
    ("admin1", "admin", None),
    ("cy", "unit_manager", Some("110105")),
    ("hd", "unit_manager", Some("110108")),
    ("h1", "unit_handler", Some("110105001")),
];

/// Waits (up to a minute: the outbox runs every few seconds) until `pred` holds of what arrived.
fn wait_for(got: &Received, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..600 {
        let bodies: Vec<Value> = got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| serde_json::from_str(b).unwrap())
            .collect();
        if pred(&bodies) {
            return bodies;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!(
        "the webhook did not get what was expected: {:?}",
        got.lock().unwrap()
    );
}

fn put(s: &Server, token: &str, body: Value) -> (u16, Value) {
    let (st, _, v) = call(
        s,
        "PUT",
        "/api/v1/analytics/reports/subscriptions",
        Some(token),
        Some(&body.to_string()),
    );
    (st, v)
}

fn subscribed(v: &Value) -> Vec<(String, Option<String>)> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["subscribed"] == true)
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["webhook_url"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn subscribers_get_new_reports_of_their_kinds_at_their_own_webhook_and_first_in_their_inbox() {
    let (cy_url, cy_got) = receiver();
    // a webhook that is down: a port bound and released
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    // no global --webhook: the signing secret alone runs the outbox for subscribers
    let s = server_full(
        |db| {
            ok(&["init", "--db", db.to_str().unwrap()]);
        },
        USERS,
        &["--test-clock", TEST_CLOCK],
        &[("JIESU_WEBHOOK_SECRET", SECRET)],
    );
    let (cy, hd, h1, admin) = (
        login(&s, "cy"),
        login(&s, "hd"),
        login(&s, "h1"),
        login(&s, "admin1"),
    );

    // every kind listed, none subscribed yet
    let (st, _, v) = call(
        &s,
        "GET",
        "/api/v1/analytics/reports/subscriptions",
        Some(&cy),
        None,
    );
    assert_eq!(st, 200, "{v}");
    let kinds: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["daily", "weekly", "monthly"]);
    assert!(subscribed(&v).is_empty());

    // a street handler may not read reports, so may not subscribe
    let (st, _) = put(&s, &h1, json!({"subscriptions": [{"kind": "daily"}]}));
    assert_eq!(st, 403);

    // bad input is named, in both languages, and nothing is stored
    for (body, field) in [
        (
            json!({"subscriptions": [{"kind": "hourly"}]}),
            "subscriptions[0].kind",
        ),
        (
            json!({"subscriptions": [{"kind": "daily", "webhook_url": "ftp://x/y"}]}),
            "subscriptions[0].webhook_url",
        ),
        (
            json!({"subscriptions": [{"kind": "daily"}, {"kind": "daily"}]}),
            "subscriptions[1].kind",
        ),
    ] {
        let (st, v) = put(&s, &cy, body.clone());
        assert_eq!(st, 422, "{body}: {v}");
        assert_eq!(v["field"], field, "{v}");
        assert!(
            v["detail_zh"].as_str().is_some_and(|z| !z.is_empty()),
            "{v}"
        );
    }

    // cy: the daily bulletin at their own webhook; hd: the monthly analysis at a webhook that is down
    let (st, v) = put(
        &s,
        &cy,
        json!({"subscriptions": [{"kind": "daily", "webhook_url": cy_url}]}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(subscribed(&v), vec![("daily".into(), Some(cy_url.clone()))]);
    let (st, v) = put(
        &s,
        &hd,
        json!({"subscriptions": [{"kind": "monthly", "webhook_url": dead}]}),
    );
    assert_eq!(st, 200, "{v}");

    // tickets on 30 November; past the city's midnight the day's bulletin and November's
    // analysis are made
    let agent = login(&s, "agent1");
    complaint_dispatched_to(&s, &agent, "110105", "110105001", "13812345678");
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/test-clock",
        Some(&admin),
        Some(&json!({"advance_seconds": 3600}).to_string()),
    );
    assert_eq!(st, 200, "{v}");
    let cy = login(&s, "cy");
    let hd = login(&s, "hd");

    let got = wait_for(&cy_got, |b| b.iter().any(|r| r["period"] == "2026-11-30"));
    let mut ids: Vec<i64> = got
        .iter()
        .map(|r| r["report_id"].as_i64().unwrap())
        .collect();
    assert!(
        got.iter()
            .all(|r| r["kind"] == "report" && r["report_kind"] == "daily"),
        "only the subscribed kind: {got:?}"
    );
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "each report once: {got:?}");
    for (sig, body) in cy_got.lock().unwrap().iter() {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        assert_eq!(
            sig,
            &format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
            "signed like every webhook"
        );
    }

    // the inbox shows the subscribed kind only, marked
    let (st, _, inbox) = call(&s, "GET", "/api/v1/inbox", Some(&cy), None);
    assert_eq!(st, 200, "{inbox}");
    let reports = inbox["reports"].as_array().unwrap();
    assert!(!reports.is_empty(), "{inbox}");
    assert!(
        reports
            .iter()
            .all(|r| r["kind"] == "daily" && r["subscribed"] == true),
        "{inbox}"
    );
    // hd subscribes to the monthly analysis: it is in their inbox, marked
    let (_, _, inbox) = call(&s, "GET", "/api/v1/inbox", Some(&hd), None);
    assert!(
        inbox["reports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "monthly" && r["subscribed"] == true),
        "hd subscribes to monthly: {inbox}"
    );

    // hd's webhook was down: the monthly waits at the cursor and arrives once the webhook answers
    let (hd_url, hd_got) = receiver();
    let (st, v) = put(
        &s,
        &hd,
        json!({"subscriptions": [{"kind": "monthly", "webhook_url": hd_url}]}),
    );
    assert_eq!(st, 200, "{v}");
    let got = wait_for(&hd_got, |b| b.iter().any(|r| r["period"] == "2026-11"));
    assert!(got.iter().all(|r| r["report_kind"] == "monthly"), "{got:?}");

    // unsubscribing: back to the newest of every kind in the inbox
    let (st, v) = put(&s, &cy, json!({"subscriptions": []}));
    assert_eq!(st, 200, "{v}");
    assert!(subscribed(&v).is_empty());
    let (_, _, inbox) = call(&s, "GET", "/api/v1/inbox", Some(&cy), None);
    assert!(
        inbox["reports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["subscribed"] == false),
        "{inbox}"
    );
}
