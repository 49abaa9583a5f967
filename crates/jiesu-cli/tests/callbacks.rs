//! The callback desk: due queue, the citizen's one-time self-rating link, praise credited.

mod common;
use common::*;
use serde_json::json;

#[test]
fn a_citizen_rates_once_through_the_link_and_praise_is_credited() {
    let s = server(&[
        ("agent1", "agent", None),
        ("cb1", "callback_agent", None),
        ("h1", "unit_handler", Some("110105001")),
        ("sup1", "supervisor", None),
    ]);
    let (agent, cb, h1, sup) = (
        login(&s, "agent1"),
        login(&s, "cb1"),
        login(&s, "h1"),
        login(&s, "sup1"),
    );
    let cat = first_leaf(&s);
    let body = json!({"channel": "phone", "type": "complaint", "category_code": cat, "title": "路灯",
        "text": "路灯不亮", "district_code": "110105", "street_code": "110105001",
        "requester": {"name": "王女士", "phone": "13700001234"}});
    let (_, _, t) = call(
        &s,
        "POST",
        "/api/v1/tickets",
        Some(&agent),
        Some(&body.to_string()),
    );
    let id = t["id"].as_i64().unwrap();
    call(
        &s,
        "POST",
        &format!("/api/v1/tickets/{id}/dispatch"),
        Some(&agent),
        Some(&json!({"assignments": [{"unit_code": "110105001", "role": "lead"}]}).to_string()),
    );
    let (st, _, _) = call(
        &s,
        "POST",
        &format!("/api/v1/tickets/{id}/rating-link"),
        Some(&cb),
        Some("{}"),
    );
    assert_eq!(st, 409, "no link before the result");
    for (a, b) in [
        ("sign", json!({})),
        ("respond", json!({})),
        ("result", json!({"text": "已修复"})),
    ] {
        call(
            &s,
            "POST",
            &format!("/api/v1/tickets/{id}/{a}"),
            Some(&h1),
            Some(&b.to_string()),
        );
    }
    let (st, _, due) = call(&s, "GET", "/api/v1/callbacks/due", Some(&cb), None);
    assert_eq!(st, 200);
    assert!(due["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == id && x["reason"] == "result_submitted"));
    let (st, _, _) = call(&s, "GET", "/api/v1/callbacks/due", Some(&h1), None);
    assert_eq!(st, 403);
    let (st, _, link) = call(
        &s,
        "POST",
        &format!("/api/v1/tickets/{id}/rating-link"),
        Some(&cb),
        Some("{}"),
    );
    assert_eq!(st, 200, "{link}");
    let token = link["token"].as_str().unwrap();
    let (st, _, info) = call(
        &s,
        "GET",
        &format!("/api/v1/public/rate/{token}"),
        None,
        None,
    );
    assert_eq!(st, 200, "{info}");
    assert!(!info.to_string().contains("13700001234"));
    let rating = json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied", "comment": "很快"}).to_string();
    let (st, _, r) = call(
        &s,
        "POST",
        &format!("/api/v1/public/rate/{token}"),
        None,
        Some(&rating),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["status"], "callback_done");
    let (st, _, _) = call(
        &s,
        "POST",
        &format!("/api/v1/public/rate/{token}"),
        None,
        Some(&rating),
    );
    assert_eq!(st, 404, "a link is used once");
    let (st, _, _) = call(&s, "GET", "/api/v1/public/rate/not-a-token", None, None);
    assert_eq!(st, 404);
    // praise names a unit and is credited to it
    let praise = json!({"channel": "phone", "type": "praise", "category_code": cat, "title": "表扬建外街道",
        "text": "建外街道工作人员处理及时，特此表扬。", "district_code": "110105", "street_code": "110105001",
        "praised_unit": "110105001", "requester": {"name": "赵先生", "phone": "13600001111"}});
    let (st, _, _) = call(
        &s,
        "POST",
        "/api/v1/tickets",
        Some(&agent),
        Some(&praise.to_string()),
    );
    assert_eq!(st, 201);
    let today = chrono::Utc::now();
    let (from, to) = (
        (today - chrono::Duration::days(1)).format("%Y-%m-%d"),
        (today + chrono::Duration::days(1)).format("%Y-%m-%d"),
    );
    let (st, _, p) = call(
        &s,
        "GET",
        &format!("/api/v1/praise?from={from}&to={to}"),
        None,
        None,
    );
    assert_eq!(st, 200, "{p}");
    assert_eq!(p["items"][0]["unit_code"], "110105001");
    assert_eq!(p["items"][0]["praise"], 1);
    let (st, _, sample) = call(
        &s,
        "GET",
        &format!("/api/v1/callbacks/recheck-sample?from={from}&to={to}&n=5"),
        Some(&sup),
        None,
    );
    assert_eq!(st, 200, "{sample}");
    assert!(sample["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == id));
}

#[test]
fn direct_answers_are_counted_per_article_and_as_a_rate() {
    let s = server(&[
        ("agent1", "agent", None),
        ("h1", "unit_handler", Some("110105001")),
    ]);
    let (agent, h1) = (login(&s, "agent1"), login(&s, "h1"));
    let cat = first_leaf(&s);
    let mut ids = vec![];
    for _ in 0..2 {
        let body = json!({"channel": "phone", "type": "consultation", "category_code": cat, "title": "居住证办理",
            "text": "请问居住证怎么办理？", "district_code": "110105", "street_code": "110105001",
            "requester": {"name": "刘女士", "phone": "13500002222"}});
        let (_, _, t) = call(
            &s,
            "POST",
            "/api/v1/tickets",
            Some(&agent),
            Some(&body.to_string()),
        );
        ids.push(t["id"].as_i64().unwrap());
    }
    let (st, _, a) = call(&s, "GET", "/api/v1/kb/articles/KB0056", Some(&agent), None);
    assert_eq!(st, 200, "{a}");
    let (st, _, v) = call(
        &s,
        "POST",
        &format!("/api/v1/tickets/{}/answer", ids[0]),
        Some(&agent),
        Some(&json!({"answer": a["answer"], "article_id": "KB0056"}).to_string()),
    );
    assert_eq!(st, 200, "{v}");
    let today = chrono::Utc::now();
    let (from, to) = (
        (today - chrono::Duration::days(1)).format("%Y-%m-%d"),
        (today + chrono::Duration::days(1)).format("%Y-%m-%d"),
    );
    let (st, _, u) = call(
        &s,
        "GET",
        &format!("/api/v1/kb/usage?from={from}&to={to}"),
        Some(&agent),
        None,
    );
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["created"], 2);
    assert_eq!(u["answered_directly"], 1);
    assert_eq!(u["direct_answer_rate"], 0.5);
    assert_eq!(u["articles"][0]["article_id"], "KB0056");
    let (st, _, _) = call(
        &s,
        "GET",
        &format!("/api/v1/kb/usage?from={from}&to={to}"),
        Some(&h1),
        None,
    );
    assert_eq!(st, 403);
}
