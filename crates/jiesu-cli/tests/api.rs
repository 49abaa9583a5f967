//! The API contract end to end, against the real binary on a real SQLite file.

mod common;
use common::*;
use serde_json::{json, Value};

fn users() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    vec![
        ("agent1", "agent", None),
        ("disp1", "dispatcher", None),
        ("cb1", "callback_agent", None),
        ("sup1", "supervisor", None),
        ("h1", "unit_handler", Some("110105001")),
        ("h2", "unit_handler", Some("110105002")),
        ("mgr", "unit_manager", Some("110105")),
    ]
}

fn ticket_body(cat: &str) -> Value {
    json!({"channel": "phone", "type": "complaint", "category_code": cat, "title": "夜间施工噪音扰民",
           "text": "建外街道某小区楼下工地夜里十一点后仍在施工，噪音很大，希望尽快处理。",
           "district_code": "110105", "street_code": "110105001",
           "requester": {"name": "张先生", "phone": "13812345678"}})
}

fn create(s: &Server, tok: &str, cat: &str) -> Value {
    let (st, _, t) = call(
        s,
        "POST",
        "/api/v1/tickets",
        Some(tok),
        Some(&ticket_body(cat).to_string()),
    );
    assert_eq!(st, 201, "{t}");
    t
}

fn act(s: &Server, tok: &str, id: i64, action: &str, body: Value) -> (u16, String, Value) {
    call(
        s,
        "POST",
        &format!("/api/v1/tickets/{id}/{action}"),
        Some(tok),
        Some(&body.to_string()),
    )
}

#[test]
fn a_request_goes_from_intake_to_callback_and_the_citizen_tracks_it() {
    let s = server(&users());
    let (agent, disp, h1, cb) = (
        login(&s, "agent1"),
        login(&s, "disp1"),
        login(&s, "h1"),
        login(&s, "cb1"),
    );
    let cat = first_leaf(&s);
    let t = create(&s, &agent, &cat);
    let id = t["id"].as_i64().unwrap();
    let number = t["number"].as_str().unwrap().to_string();
    let code = t["tracking_code"].as_str().unwrap().to_string();
    assert_eq!(t["status"], "new");
    let (st, _, v) = act(
        &s,
        &disp,
        id,
        "dispatch",
        json!({"assignments": [{"unit_code": "110105001", "role": "lead"}]}),
    );
    assert_eq!(st, 200, "{v}");
    assert!(v["assignments"][0]["deadlines"]["finish"].is_string());
    assert_eq!(v["status"], "dispatched");
    // the handler's queue has it, sorted by deadline
    let (_, _, q) = call(
        &s,
        "GET",
        "/api/v1/tickets?mine=true&sort=deadline",
        Some(&h1),
        None,
    );
    let item = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .expect("the queue lists the dispatched ticket");
    // not signed yet: the sign clock (签收) is the one running out first
    assert_eq!(item["next_clock"]["clock"], "sign", "{item}");
    assert_eq!(item["next_clock"]["label"], "签收时限");
    assert_eq!(
        item["next_clock"]["due"],
        v["assignments"][0]["deadlines"]["sign"]
    );
    // the clock started at the dispatch (the projection keeps milliseconds)
    let ms = |x: &Value| {
        x.as_str()
            .unwrap_or_default()
            .chars()
            .take(23)
            .collect::<String>()
    };
    assert_eq!(
        ms(&item["next_clock"]["start"]),
        ms(&v["assignments"][0]["dispatched_at"])
    );
    let (_, _, v) = call(&s, "GET", &format!("/api/v1/tickets/{id}"), Some(&h1), None);
    assert_eq!(
        v["allowed_actions"],
        json!(["sign", "pause", "note", "return", "extend"])
    );
    for (a, b) in [
        ("sign", json!({})),
        ("respond", json!({"note": "已电话联系"})),
        ("note", json!({"text": "已约谈施工单位", "public": true})),
        ("result", json!({"text": "已协调施工单位停止夜间施工。"})),
    ] {
        let (st, _, v) = act(&s, &h1, id, a, b);
        assert_eq!(st, 200, "{a}: {v}");
    }
    let (st, ct, v) = act(&s, &h1, id, "sign", json!({}));
    assert_eq!(st, 409, "{v}");
    assert!(ct.contains("problem+json"));
    let (st, _, v) = act(
        &s,
        &cb,
        id,
        "callback",
        json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "callback_done");
    let (st, _, v) = act(
        &s,
        &cb,
        id,
        "callback",
        json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"}),
    );
    assert_eq!(
        st, 422,
        "a second callback in the same round is refused: {v}"
    );
    let (st, _, v) = act(&s, &cb, id, "close", json!({}));
    assert_eq!(st, 200, "{v}");
    let (_, _, ev) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}/events"),
        Some(&disp),
        None,
    );
    let kinds: Vec<&str> = ev
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "dispatched",
            "signed",
            "responded",
            "note_added",
            "result_submitted",
            "callback_recorded",
            "closed"
        ]
    );
    // the citizen's page: public events, no phone, no internal actor names
    let (st, _, tr) = call(
        &s,
        "GET",
        &format!("/api/v1/track/{number}?code={code}"),
        None,
        None,
    );
    assert_eq!(st, 200, "{tr}");
    let body = tr.to_string();
    assert!(!body.contains("13812345678") && !body.contains("张先生") && !body.contains("h1"));
    assert!(body.contains("已约谈施工单位"), "public notes are shown");
    assert!(body.contains("建外街道"));
    let (st, _, _) = call(
        &s,
        "GET",
        &format!("/api/v1/track/{number}?code=2222222222"),
        None,
        None,
    );
    assert_eq!(st, 404);
}

#[test]
fn a_street_cannot_read_or_act_on_another_streets_ticket() {
    let s = server(&users());
    let (agent, disp, h2, mgr) = (
        login(&s, "agent1"),
        login(&s, "disp1"),
        login(&s, "h2"),
        login(&s, "mgr"),
    );
    let id = dispatched_to_jianwai(&s, &agent, &disp);
    let (st, _, _) = call(&s, "GET", &format!("/api/v1/tickets/{id}"), Some(&h2), None);
    assert_eq!(st, 404);
    let (st, _, _) = act(&s, &h2, id, "sign", json!({}));
    assert_eq!(st, 404);
    let (st, _, _) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}/events"),
        Some(&h2),
        None,
    );
    assert_eq!(st, 404);
    let (_, _, l) = call(&s, "GET", "/api/v1/tickets", Some(&h2), None);
    assert_eq!(l["total"], 0);
    let (st, _, _) = call(&s, "GET", "/api/v1/tickets?unit=110105001", Some(&h2), None);
    assert_eq!(st, 404, "a street may not list another street's queue");
    // the district manager covers both streets
    let (st, _, _) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}"),
        Some(&mgr),
        None,
    );
    assert_eq!(st, 200);
}

/// A complaint taken in by `agent` and dispatched by `disp` to 建外街道 (110105001) as lead.
fn dispatched_to_jianwai(s: &Server, agent: &str, disp: &str) -> i64 {
    let cat = first_leaf(s);
    let id = create(s, agent, &cat)["id"].as_i64().unwrap();
    act(
        s,
        disp,
        id,
        "dispatch",
        json!({"assignments": [{"unit_code": "110105001", "role": "lead"}]}),
    );
    id
}

#[test]
fn a_handler_sees_the_phone_only_once_signed_and_while_in_progress() {
    let s = server(&users());
    let (agent, disp, h1) = (login(&s, "agent1"), login(&s, "disp1"), login(&s, "h1"));
    let id = dispatched_to_jianwai(&s, &agent, &disp);
    let (_, _, v) = call(&s, "GET", &format!("/api/v1/tickets/{id}"), Some(&h1), None);
    assert_eq!(
        v["requester"]["phone"], "138****5678",
        "dispatched but not signed: the unit may still return it"
    );
    act(&s, &h1, id, "sign", json!({}));
    let (_, _, v) = call(&s, "GET", &format!("/api/v1/tickets/{id}"), Some(&h1), None);
    assert_eq!(v["requester"]["phone"], "13812345678");
    for (a, b) in [("respond", json!({})), ("result", json!({"text": "办结"}))] {
        act(&s, &h1, id, a, b);
    }
    let (_, _, v) = call(&s, "GET", &format!("/api/v1/tickets/{id}"), Some(&h1), None);
    assert_eq!(v["requester"]["phone"], "138****5678");
    assert_eq!(v["requester"]["masked"], true);
    let (_, _, ev) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}/events"),
        Some(&h1),
        None,
    );
    assert!(
        !ev.to_string().contains("13812345678"),
        "events are masked too"
    );
}

#[test]
fn every_unmasked_read_is_audited_through_the_event_log_too() {
    let s = server(&users());
    let (agent, disp, h1) = (login(&s, "agent1"), login(&s, "disp1"), login(&s, "h1"));
    let id = dispatched_to_jianwai(&s, &agent, &disp);
    let audited = |who: &str, what: &str| {
        let store = s.store();
        jiesu_store::TicketStore::recent_audit(&*store, 1000)
            .unwrap()
            .into_iter()
            .filter(|e| {
                e.user == who
                    && e.action == "read_personal"
                    && e.ticket == Some(id)
                    && e.detail == what
            })
            .count()
    };
    let events = |tok: &str| {
        let (st, _, ev) = call(
            &s,
            "GET",
            &format!("/api/v1/tickets/{id}/events"),
            Some(tok),
            None,
        );
        assert_eq!(st, 200, "{ev}");
        ev.to_string()
    };
    // the street has not signed: its event log is masked and nothing is audited
    assert!(!events(&h1).contains("13812345678"));
    assert_eq!(audited("h1", "event log"), 0);
    // the dispatcher sees the phone in the log: one audit row per read
    assert!(events(&disp).contains("13812345678"));
    assert!(events(&disp).contains("13812345678"));
    assert_eq!(audited("disp1", "event log"), 2);
}

/// A ticket dispatched to 建外街道 (110105001) as lead and returned by its handler: it waits for
/// the centre's review.
fn returned_by_the_first_street(s: &Server, agent: &str, disp: &str, h1: &str) -> i64 {
    let cat = first_leaf(s);
    let id = create(s, agent, &cat)["id"].as_i64().unwrap();
    let (st, _, v) = act(
        s,
        disp,
        id,
        "dispatch",
        json!({"assignments": [{"unit_code": "110105001", "role": "lead"}]}),
    );
    assert_eq!(st, 200, "{v}");
    let (st, _, v) = act(
        s,
        h1,
        id,
        "return",
        json!({"reason": "outside_area", "text": "地址属于相邻街道"}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "return_review");
    id
}

#[test]
fn a_returned_ticket_waits_for_review_and_lands_on_the_next_unit() {
    let s = server(&users());
    let (agent, disp, h1, h2) = (
        login(&s, "agent1"),
        login(&s, "disp1"),
        login(&s, "h1"),
        login(&s, "h2"),
    );
    let id = returned_by_the_first_street(&s, &agent, &disp, &h1);
    let (st, _, _) = act(&s, &h1, id, "review-return", json!({"approve": true}));
    assert_eq!(st, 403, "a unit cannot approve its own return");
    let (st, _, v) = act(&s, &disp, id, "review-return", json!({"approve": true}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "new");
    act(
        &s,
        &disp,
        id,
        "dispatch",
        json!({"assignments": [{"unit_code": "110105002", "role": "lead"}]}),
    );
    let (st, _, _) = call(&s, "GET", &format!("/api/v1/tickets/{id}"), Some(&h2), None);
    assert_eq!(st, 200);
    let (st, _, _) = call(&s, "GET", &format!("/api/v1/tickets/{id}"), Some(&h1), None);
    assert_eq!(st, 404, "the returning street no longer sees it");
}

#[test]
fn the_callback_names_the_unit_that_finished_not_the_one_that_returned() {
    let s = server(&users());
    let (agent, disp, h1, h2, cb) = (
        login(&s, "agent1"),
        login(&s, "disp1"),
        login(&s, "h1"),
        login(&s, "h2"),
        login(&s, "cb1"),
    );
    let id = returned_by_the_first_street(&s, &agent, &disp, &h1);
    let (st, _, v) = act(&s, &disp, id, "review-return", json!({"approve": true}));
    assert_eq!(st, 200, "{v}");
    let (st, _, v) = act(
        &s,
        &disp,
        id,
        "dispatch",
        json!({"assignments": [{"unit_code": "110105002", "role": "lead"},
                               {"unit_code": "110105003", "role": "assist"}]}),
    );
    assert_eq!(st, 200, "{v}");
    for (a, b) in [
        ("sign", json!({})),
        ("respond", json!({"note": "已电话联系"})),
        ("result", json!({"text": "已协调处理。"})),
    ] {
        let (st, _, v) = act(&s, &h2, id, a, b);
        assert_eq!(st, 200, "{a}: {v}");
    }
    let (st, _, t) = call(&s, "GET", &format!("/api/v1/tickets/{id}"), Some(&cb), None);
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["status"], "result_submitted");
    assert_eq!(
        t["result_unit"]["code"], "110105002",
        "the callback is about the unit that finished: {}",
        t["result_unit"]
    );
    assert!(t["result_unit"]["name"].is_string());
    let assisting: Vec<&str> = t["assisting_units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert_eq!(assisting, ["110105003"]);
}

#[test]
fn a_consultation_answered_directly_needs_no_place_and_no_name_but_a_dispatch_does() {
    let s = server(&users());
    let (agent, disp) = (login(&s, "agent1"), login(&s, "disp1"));
    let cat = first_leaf(&s);
    let body = json!({"channel": "phone", "type": "consultation", "category_code": cat,
        "title": "居住证办理需要什么材料", "text": "想问一下办理居住证需要带哪些材料，在哪里办。",
        "requester": {"name": "", "phone": "13812345678"}});
    let (st, _, t) = call(
        &s,
        "POST",
        "/api/v1/tickets",
        Some(&agent),
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{t}");
    let id = t["id"].as_i64().unwrap();
    // it cannot be dispatched without a place, and the refusal names the field
    let (st, _, v) = act(
        &s,
        &disp,
        id,
        "dispatch",
        json!({"assignments": [{"unit_code": "110105001", "role": "lead"}]}),
    );
    assert_eq!(
        (st, v["field"].as_str()),
        (422, Some("district_code")),
        "{v}"
    );
    assert!(v["detail_zh"].as_str().unwrap().contains("请先填写"), "{v}");
    // it is answered on the spot
    let (st, _, v) = act(
        &s,
        &agent,
        id,
        "answer",
        json!({"answer": "请携带身份证、居住登记凭证到居住地派出所办理。"}),
    );
    assert_eq!(st, 200, "{v}");
    // any other type still needs its place and name
    let mut complaint = body.clone();
    complaint["type"] = json!("complaint");
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/tickets",
        Some(&agent),
        Some(&complaint.to_string()),
    );
    assert_eq!(
        (st, v["field"].as_str()),
        (422, Some("district_code")),
        "{v}"
    );
    complaint["district_code"] = json!("110105");
    complaint["street_code"] = json!("110105001");
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/tickets",
        Some(&agent),
        Some(&complaint.to_string()),
    );
    assert_eq!(
        (st, v["field"].as_str()),
        (422, Some("requester.name")),
        "{v}"
    );
    // the public always gives a place
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/public/tickets",
        None,
        Some(&body.to_string()),
    );
    assert_eq!(
        (st, v["field"].as_str()),
        (422, Some("district_code")),
        "{v}"
    );
}

#[test]
fn bad_input_gets_a_problem_naming_what_is_wrong_and_changes_nothing() {
    let s = server(&users());
    let (agent, h1) = (login(&s, "agent1"), login(&s, "h1"));
    let cat = first_leaf(&s);
    let id = create(&s, &agent, &cat)["id"].as_i64().unwrap();
    let good = ticket_body(&cat);
    let mut cases: Vec<(&str, String, u16, Option<&str>)> = vec![
        (
            "malformed JSON",
            r#"{"channel": "phone", "type": "#.into(),
            400,
            None,
        ),
        ("not an object", "[1,2]".into(), 422, None),
    ];
    let mut with = |name: &'static str, k: &str, v: Value, status: u16, field: &'static str| {
        let mut b = good.clone();
        if v.is_null() {
            b.as_object_mut().unwrap().remove(k);
        } else {
            b[k] = v;
        }
        cases.push((name, b.to_string(), status, Some(field)));
    };
    with(
        "unknown category",
        "category_code",
        json!("NO-SUCH-CODE"),
        422,
        "category_code",
    );
    with("missing title", "title", Value::Null, 422, "title");
    with(
        "text over the limit",
        "text",
        json!("长".repeat(4001)),
        422,
        "text",
    );
    with("empty text", "text", json!("   "), 422, "text");
    with(
        "unknown street",
        "street_code",
        json!("110105999"),
        422,
        "street_code",
    );
    with(
        "street of another district",
        "street_code",
        json!("110108001"),
        422,
        "street_code",
    );
    with("bad type", "type", json!("gossip"), 422, "type");
    with("bad channel", "channel", json!("pigeon"), 422, "channel");
    with(
        "bad phone",
        "requester",
        json!({"name": "王", "phone": "12345"}),
        422,
        "requester.phone",
    );
    for (name, body, status, field) in cases {
        let (st, ct, v) = call(&s, "POST", "/api/v1/tickets", Some(&agent), Some(&body));
        assert_eq!(st, status, "{name}: {v}");
        assert!(ct.contains("application/problem+json"), "{name}: {ct}");
        assert!(
            v["detail"].is_string() && v["detail_zh"].is_string(),
            "{name}: {v}"
        );
        if let Some(f) = field {
            assert_eq!(v["field"], f, "{name}: {v}");
        }
    }
    // wrong role, unknown unit, unknown action, no token
    let (st, _, _) = act(
        &s,
        &h1,
        id,
        "dispatch",
        json!({"assignments": [{"unit_code": "110105002", "role": "lead"}]}),
    );
    assert!(st == 403 || st == 404, "a handler must not dispatch: {st}");
    let (st, _, v) = act(
        &s,
        &agent,
        id,
        "dispatch",
        json!({"assignments": [{"unit_code": "NOPE", "role": "lead"}]}),
    );
    assert_eq!(
        (st, v["field"].as_str()),
        (422, Some("assignments[0].unit_code"))
    );
    let (st, _, _) = act(&s, &agent, id, "fly", json!({}));
    assert_eq!(st, 404);
    let (st, _, _) = call(&s, "POST", "/api/v1/tickets", None, Some(&good.to_string()));
    assert_eq!(st, 401);
    // nothing was half-written: still one ticket with one event
    let (_, _, l) = call(&s, "GET", "/api/v1/tickets", Some(&agent), None);
    assert_eq!(l["total"], 1);
    let (_, _, ev) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}/events"),
        Some(&agent),
        None,
    );
    assert_eq!(ev.as_array().unwrap().len(), 1);
}

#[test]
fn the_same_idempotency_key_creates_one_ticket() {
    let s = server(&users());
    let agent = login(&s, "agent1");
    let cat = first_leaf(&s);
    let body = ticket_body(&cat).to_string();
    let post = || {
        ureq::post(&format!("{}/api/v1/tickets", s.base))
            .set("Authorization", &format!("Bearer {agent}"))
            .set("Idempotency-Key", "call-2026-0001")
            .set("Content-Type", "application/json")
            .send_string(&body)
            .unwrap()
    };
    let a = post();
    assert_eq!(a.status(), 201);
    let a: Value = a.into_json().unwrap();
    let b = post();
    assert_eq!(b.status(), 200);
    let b: Value = b.into_json().unwrap();
    assert_eq!(a["id"], b["id"]);
    let (_, _, l) = call(&s, "GET", "/api/v1/tickets", Some(&agent), None);
    assert_eq!(l["total"], 1);
}

#[test]
fn citizens_file_and_track_without_an_account() {
    let s = server(&users());
    let cat = first_leaf(&s);
    let mut b = ticket_body(&cat);
    b.as_object_mut().unwrap().remove("channel");
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/public/tickets",
        None,
        Some(&b.to_string()),
    );
    assert_eq!(st, 201, "{v}");
    let number = v["number"].as_str().unwrap();
    let code = v["tracking_code"].as_str().unwrap();
    let (st, _, tr) = call(
        &s,
        "GET",
        &format!("/api/v1/track/{number}?code={code}"),
        None,
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(tr["status"], "new");
    let (st, _, _) = call(
        &s,
        "GET",
        &format!("/api/v1/track/{number}?code="),
        None,
        None,
    );
    assert_eq!(st, 422);
}

#[test]
fn the_openapi_document_lists_every_route() {
    let s = server(&users());
    let (st, _, doc) = call(&s, "GET", "/api/openapi.json", None, None);
    assert_eq!(st, 200);
    for p in [
        "/api/v1/session",
        "/api/v1/tickets",
        "/api/v1/tickets/{id}",
        "/api/v1/tickets/{id}/dispatch",
        "/api/v1/track/{number}",
    ] {
        assert!(doc["paths"][p].is_object(), "missing {p}");
    }
}

#[test]
fn cli_errors_are_plain_words_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let o = jiesu(&["serve", "--db", db.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not exist"));
    assert!(!db.exists(), "a typo must not create an empty database");
    ok(&["init", "--db", db.to_str().unwrap()]);
    let o = jiesu(&[
        "user",
        "add",
        "--db",
        db.to_str().unwrap(),
        "--name",
        "x",
        "--role",
        "boss",
        "--password",
        PW,
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown role"));
    let o = jiesu(&[
        "user",
        "add",
        "--db",
        db.to_str().unwrap(),
        "--name",
        "x",
        "--role",
        "unit_handler",
        "--password",
        PW,
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--unit"));
    let o = jiesu(&[
        "user",
        "add",
        "--db",
        db.to_str().unwrap(),
        "--name",
        "x",
        "--role",
        "unit_handler",
        "--unit",
        "999",
        "--password",
        PW,
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown unit"));
    let o = jiesu(&["init", "--db", db.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
}

#[test]
fn attachments_are_stored_on_disk_and_only_readable_by_those_who_see_the_ticket() {
    let s = server(&users());
    let (agent, disp, h1, h2) = (
        login(&s, "agent1"),
        login(&s, "disp1"),
        login(&s, "h1"),
        login(&s, "h2"),
    );
    let id = dispatched_to_jianwai(&s, &agent, &disp);
    let photo: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let up = ureq::post(&format!(
        "{}/api/v1/tickets/{id}/attachments?name=现场照片.jpg",
        s.base
    ))
    .set("Authorization", &format!("Bearer {h1}"))
    .set("Content-Type", "image/jpeg")
    .send_bytes(&photo)
    .unwrap();
    assert_eq!(up.status(), 201);
    let meta: Value = up.into_json().unwrap();
    let href = meta["href"].as_str().unwrap().to_string();
    let got = ureq::get(&format!("{}{href}", s.base))
        .set("Authorization", &format!("Bearer {disp}"))
        .call()
        .unwrap();
    assert_eq!(got.content_type(), "image/jpeg");
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut got.into_reader(), &mut bytes).unwrap();
    assert_eq!(bytes, photo);
    let (st, _, _) = call(&s, "GET", &href, Some(&h2), None);
    assert_eq!(st, 404, "another street cannot fetch it");
    let (_, _, ev) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}/events"),
        Some(&disp),
        None,
    );
    assert!(ev
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "attachment_added" && e["file_name"] == "现场照片.jpg"));
    let empty = ureq::post(&format!(
        "{}/api/v1/tickets/{id}/attachments?name=x.txt",
        s.base
    ))
    .set("Authorization", &format!("Bearer {h1}"))
    .send_bytes(&[]);
    assert!(matches!(empty, Err(ureq::Error::Status(422, _))));
}
