//! The callback desk: due queue, the citizen's one-time self-rating link, praise credited.

mod common;
use common::*;
use serde_json::json;

#[test]
fn a_citizen_rates_once_through_the_link_and_praise_is_credited() {
    let s = server_at_clock(&[
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
    // the city's days around the server's clock (23:30 on the last day of a month)
    let today = test_today();
    let (from, to) = (
        today - chrono::Duration::days(1),
        today + chrono::Duration::days(1),
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
    let s = server_at_clock(&[
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
    // the city's days around the server's clock (23:30 on the last day of a month)
    let today = test_today();
    let (from, to) = (
        today - chrono::Duration::days(1),
        today + chrono::Duration::days(1),
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

/// The supervisor re-checks a sampled callback (agree, or disagree with a note), once per round, as
/// an audited record; an unresolved callback waits in the reviewer's queue until it is reopened.
#[test]
fn a_supervisor_records_rechecks_and_unresolved_callbacks_wait_for_review() {
    let s = server_at_clock(&[
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
    let mut ids = vec![];
    for (res, sat) in [("resolved", "satisfied"), ("unresolved", "unsatisfied")] {
        let body = json!({"channel": "phone", "type": "complaint", "category_code": cat, "title": "噪音",
            "text": "夜间施工噪音扰民", "district_code": "110105", "street_code": "110105001",
            "requester": {"name": "孙先生", "phone": "13800005678"}});
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
        for (a, b) in [
            ("sign", json!({})),
            ("respond", json!({})),
            ("result", json!({"text": "已处理"})),
        ] {
            let (st, _, v) = call(
                &s,
                "POST",
                &format!("/api/v1/tickets/{id}/{a}"),
                Some(&h1),
                Some(&b.to_string()),
            );
            assert_eq!(st, 200, "{a}: {v}");
        }
        // one unreachable attempt first: counted on the desk's queue
        let (st, _, v) = call(
            &s,
            "POST",
            &format!("/api/v1/tickets/{id}/callback"),
            Some(&cb),
            Some(r#"{"unreachable": true, "note": "无人接听"}"#),
        );
        assert_eq!(st, 200, "{v}");
        let (_, _, due) = call(&s, "GET", "/api/v1/callbacks/due", Some(&cb), None);
        let item = due["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .expect("still due")
            .clone();
        assert_eq!(item["unreachable_attempts"], 1);
        assert_eq!(item["max_attempts"], 3);
        let (st, _, v) = call(
            &s,
            "POST",
            &format!("/api/v1/tickets/{id}/callback"),
            Some(&cb),
            Some(&json!({"contacted": true, "resolution": res, "satisfaction": sat}).to_string()),
        );
        assert_eq!(st, 200, "{v}");
        ids.push(id);
    }
    // the unresolved one waits for the reviewer; the resolved one does not
    let (st, _, un) = call(&s, "GET", "/api/v1/callbacks/unresolved", Some(&sup), None);
    assert_eq!(st, 200, "{un}");
    let un_ids: Vec<i64> = un["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert!(
        un_ids.contains(&ids[1]) && !un_ids.contains(&ids[0]),
        "{un_ids:?}"
    );
    let (st, _, _) = call(&s, "GET", "/api/v1/callbacks/unresolved", Some(&h1), None);
    assert_eq!(st, 403);

    // the sample carries the callback being re-checked, no re-check yet
    // the city's days around the server's clock (23:30 on the last day of a month)
    let today = test_today();
    let (from, to) = (
        today - chrono::Duration::days(1),
        today + chrono::Duration::days(1),
    );
    let sample_url = format!("/api/v1/callbacks/recheck-sample?from={from}&to={to}&n=50");
    let (st, _, sample) = call(&s, "GET", &sample_url, Some(&sup), None);
    assert_eq!(st, 200, "{sample}");
    let item = sample["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == ids[0])
        .expect("sampled")
        .clone();
    assert_eq!(item["callback"]["resolution"], "resolved");
    assert_eq!(item["callback"]["by"], "cb1");
    assert_eq!(item["callback"]["self_rating"], false);
    assert!(item["recheck"].is_null());
    assert!(
        !sample.to_string().contains("13800005678"),
        "no phone numbers in the sample"
    );

    // bad input: a disagreement needs a note; a verdict must be known; a callback agent may not
    let post = |tok: &str, body: serde_json::Value| {
        call(
            &s,
            "POST",
            "/api/v1/callbacks/rechecks",
            Some(tok),
            Some(&body.to_string()),
        )
    };
    let (st, ct, e) = post(&sup, json!({"ticket_id": ids[0], "verdict": "disagree"}));
    assert_eq!(st, 422, "{e}");
    assert!(ct.contains("problem+json"));
    assert_eq!(e["field"], "note");
    assert!(e["detail_zh"].as_str().unwrap().contains("复核说明"));
    let (st, _, e) = post(&sup, json!({"ticket_id": ids[0], "verdict": "maybe"}));
    assert_eq!((st, e["field"].as_str()), (422, Some("verdict")));
    let (st, _, _) = post(&cb, json!({"ticket_id": ids[0], "verdict": "agree"}));
    assert_eq!(st, 403);
    let (st, _, _) = post(&sup, json!({"ticket_id": 999999, "verdict": "agree"}));
    assert_eq!(st, 404);

    // agree on the first, disagree (with a note) on the second; a second re-check of a round is refused
    let (st, _, r) = post(&sup, json!({"ticket_id": ids[0], "verdict": "agree"}));
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["verdict"], "agree");
    assert_eq!(r["round"], 0);
    assert_eq!(r["user"], "sup1");
    let (st, _, r) = post(
        &sup,
        json!({"ticket_id": ids[1], "verdict": "disagree", "note": "复核电话中市民表示已部分解决"}),
    );
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["verdict_zh"], "复核不一致");
    let (st, _, e) = post(
        &sup,
        json!({"ticket_id": ids[0], "verdict": "disagree", "note": "改判"}),
    );
    assert_eq!(st, 409, "{e}");
    let (st, _, sample) = call(&s, "GET", &sample_url, Some(&sup), None);
    assert_eq!(st, 200);
    let item = sample["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == ids[0])
        .unwrap()
        .clone();
    assert_eq!(item["recheck"]["verdict"], "agree");
    let (st, _, list) = call(
        &s,
        "GET",
        &format!("/api/v1/callbacks/rechecks?from={from}&to={to}"),
        Some(&sup),
        None,
    );
    assert_eq!(st, 200, "{list}");
    assert_eq!(
        (list["agree"].as_u64(), list["disagree"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(list["items"][0]["note"], "复核电话中市民表示已部分解决");

    // the reviewer reopens the unresolved one: it gets new deadlines and leaves the queue
    let (st, _, t) = call(
        &s,
        "POST",
        &format!("/api/v1/tickets/{}/reopen", ids[1]),
        Some(&sup),
        Some(&json!({"reason": "回访未解决，复核属实，重办"}).to_string()),
    );
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["round"], 1);
    let lead = t["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|a| a["role"] == "lead")
        .unwrap()
        .clone();
    assert_eq!(lead["round"], 1);
    let finish =
        chrono::DateTime::parse_from_rfc3339(lead["deadlines"]["finish"].as_str().unwrap())
            .unwrap();
    assert!(
        finish > test_now(),
        "the reopened assignment has a new finish deadline"
    );
    assert_eq!(lead["state"], "dispatched");
    let (_, _, un) = call(&s, "GET", "/api/v1/callbacks/unresolved", Some(&sup), None);
    assert!(!un["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == ids[1]));
}
