//! Routing over the API: explained suggestions, catalogue import/lint/what-if/publish, supervision.

mod common;
use common::*;
use serde_json::{json, Value};

fn users() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    vec![
        ("agent1", "agent", None),
        ("disp1", "dispatcher", None),
        ("sup1", "supervisor", None),
        ("h1", "unit_handler", Some("110108010")),
        ("admin1", "admin", None),
    ]
}

#[test]
fn the_dispatcher_gets_an_explained_suggestion_and_the_ticket_shows_its_deadlines() {
    let s = server_at_clock(&users());
    let (agent, disp, h1) = (login(&s, "agent1"), login(&s, "disp1"), login(&s, "h1"));
    let cat = first_leaf(&s);
    let body = json!({"channel": "phone", "type": "complaint", "category_code": cat, "title": "路灯不亮",
        "text": "学院路街道某小区门口路灯连续一周不亮。", "district_code": "110108", "street_code": "110108010",
        "requester": {"name": "李女士", "phone": "13900001111"}});
    let (st, _, t) = call(
        &s,
        "POST",
        "/api/v1/tickets",
        Some(&agent),
        Some(&body.to_string()),
    );
    assert_eq!(st, 201);
    let id = t["id"].as_i64().unwrap();
    let (st, _, r) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}/route"),
        Some(&disp),
        None,
    );
    assert_eq!(st, 200, "{r}");
    assert!(r["rule_id"].is_string(), "{r}");
    assert!(r["explanation"]["zh"]
        .as_str()
        .is_some_and(|x| !x.is_empty()));
    let unit = r["assignments"][0]["unit_code"]
        .as_str()
        .unwrap()
        .to_string();
    // a hard case: pre-dispatch consultation (派单会商), then dispatch
    let (st, _, v) = call(
        &s,
        "POST",
        &format!("/api/v1/tickets/{id}/consult"),
        Some(&disp),
        Some(&json!({"note": "涉及多个部门，先会商", "units": ["110108", unit]}).to_string()),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "consultation");
    assert!(v["allowed_actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "dispatch"));
    let (st, _, _) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}/route"),
        Some(&h1),
        None,
    );
    assert_eq!(st, 403, "units do not route");
    let (st, _, v) = call(
        &s,
        "POST",
        &format!("/api/v1/tickets/{id}/dispatch"),
        Some(&disp),
        Some(
            &json!({"assignments": [{"unit_code": unit, "role": "lead"}], "rule": r["rule_id"]})
                .to_string(),
        ),
    );
    assert_eq!(st, 200, "{v}");
    let d = &v["assignments"][0]["deadlines"];
    assert!(d["sign"].as_str().unwrap() <= d["respond"].as_str().unwrap());
    assert!(d["respond"].as_str().unwrap() <= d["finish"].as_str().unwrap());
    assert_eq!(v["deadlines"][0]["finish"]["state"], "running");
    // waiting for the citizen: the unit pauses its clocks; resuming moves the open deadlines
    {
        let db = s.db.clone();
        ok(&[
            "user",
            "add",
            "--db",
            db.to_str().unwrap(),
            "--name",
            "hx",
            "--role",
            "unit_handler",
            "--unit",
            &unit,
            "--password",
            PW,
        ]);
        let hx = login(&s, "hx");
        let h1 = hx;
        let (st, _, p) = call(
            &s,
            "POST",
            &format!("/api/v1/tickets/{id}/pause"),
            Some(&h1),
            Some(&json!({"text": "与市民约定周末上门"}).to_string()),
        );
        assert_eq!(st, 200, "{p}");
        // two hours pass on the server's test clock (no sleeping)
        let admin = login(&s, "admin1");
        let (st, _, c) = call(
            &s,
            "POST",
            "/api/v1/test-clock",
            Some(&admin),
            Some(&json!({"advance_seconds": 7200}).to_string()),
        );
        assert_eq!(st, 200, "{c}");
        // two idle hours end the handler's session (idle timeout 30 minutes): log in again
        let h1 = login(&s, "hx");
        let (st, _, r2) = call(
            &s,
            "POST",
            &format!("/api/v1/tickets/{id}/resume"),
            Some(&h1),
            Some("{}"),
        );
        assert_eq!(st, 200, "{r2}");
        assert!(
            r2["assignments"][0]["deadlines"]["finish"]
                .as_str()
                .unwrap()
                > d["finish"].as_str().unwrap()
        );
    }
}

#[test]
fn the_test_clock_moves_forward_for_an_administrator_only_and_not_on_the_machine_clock() {
    let s = server_at_clock(&[("admin1", "admin", None), ("sup1", "supervisor", None)]);
    let (admin, sup) = (login(&s, "admin1"), login(&s, "sup1"));
    let mv = |tok: &str, secs: i64| {
        call(
            &s,
            "POST",
            "/api/v1/test-clock",
            Some(tok),
            Some(&json!({ "advance_seconds": secs }).to_string()),
        )
    };
    // ten minutes at a time, inside the sessions' idle timeout
    let (st, _, v) = mv(&admin, 600);
    assert_eq!(st, 200, "{v}");
    let now = chrono::DateTime::parse_from_rfc3339(v["now"].as_str().unwrap()).unwrap();
    assert!(now.with_timezone(&chrono::Utc) >= test_now() + chrono::Duration::minutes(10));
    let (st, _, v) = mv(&sup, 600);
    assert_eq!(st, 403, "{v}");
    let (st, _, v) = mv(&admin, 0);
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["field"], "advance_seconds");
    let (st, _, v) = mv(&admin, -60);
    assert_eq!(st, 422, "the clock never goes back: {v}");
    // a server on the machine's clock has no test clock to move
    let plain = server(&[("admin1", "admin", None)]);
    let t = login(&plain, "admin1");
    let (st, _, _) = call(
        &plain,
        "POST",
        "/api/v1/test-clock",
        Some(&t),
        Some(&json!({"advance_seconds": 60}).to_string()),
    );
    assert_eq!(st, 404);
}

#[test]
fn a_broken_catalogue_is_rejected_with_line_numbers_and_a_good_one_becomes_a_draft_then_published()
{
    let s = server(&users());
    let (disp, sup, h1) = (login(&s, "disp1"), login(&s, "sup1"), login(&s, "h1"));
    let exported = ureq::get(&format!("{}/api/v1/catalogue/export.csv", s.base))
        .set("Authorization", &format!("Bearer {disp}"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(exported.lines().count() > 500);
    let post =
        |tok: &str, body: &str| match ureq::post(&format!("{}/api/v1/catalogue/import", s.base))
            .set("Authorization", &format!("Bearer {tok}"))
            .set("Content-Type", "text/csv")
            .send_string(body)
        {
            Ok(r) => (r.status(), r.into_string().unwrap()),
            Err(ureq::Error::Status(c, r)) => (c, r.into_string().unwrap()),
            Err(e) => panic!("{e}"),
        };
    let mut broken: Vec<String> = exported.lines().map(str::to_string).collect();
    broken[3] = broken[3]
        .replacen(",24h,", ",9d,", 1)
        .replacen(",7d,", ",9d,", 1)
        .replacen(",15d,", ",9d,", 1)
        .replacen(",2h,", ",9d,", 1);
    let (st, body) = post(&disp, &broken.join("\n"));
    assert_eq!(st, 422, "{body}");
    assert!(body.contains("line 4"), "{body}");
    let (st, _) = post(&h1, &exported);
    assert_eq!(st, 403);
    let (_, _, info) = call(&s, "GET", "/api/v1/catalogue", Some(&disp), None);
    assert!(info["draft"].is_null(), "a rejected file changes nothing");
    let (st, body) = post(&disp, &exported);
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let version = v["version"].as_i64().unwrap();
    let (st, _, w) = call(
        &s,
        "GET",
        &format!("/api/v1/catalogue/drafts/{version}/whatif"),
        Some(&disp),
        None,
    );
    assert_eq!(st, 200, "{w}");
    let (st, _, _) = call(
        &s,
        "POST",
        &format!("/api/v1/catalogue/drafts/{version}/publish"),
        Some(&disp),
        Some("{}"),
    );
    assert_eq!(st, 403, "publishing needs a supervisor");
    let (st, _, p) = call(
        &s,
        "POST",
        &format!("/api/v1/catalogue/drafts/{version}/publish"),
        Some(&sup),
        Some("{}"),
    );
    assert_eq!(st, 200, "{p}");
    let (_, _, l) = call(&s, "GET", "/api/v1/catalogue/lint", Some(&disp), None);
    assert_eq!(l["conflicts"].as_array().map(|a| a.len()), Some(0));
}

#[test]
fn the_overdue_board_is_for_supervisors_not_street_handlers() {
    let s = server(&users());
    let (sup, h1) = (login(&s, "sup1"), login(&s, "h1"));
    let (st, _, b) = call(&s, "GET", "/api/v1/supervision/overdue", Some(&sup), None);
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["total"], 0);
    let (st, _, _) = call(&s, "GET", "/api/v1/supervision/overdue", Some(&h1), None);
    assert_eq!(st, 403);
    let (st, _, a) = call(
        &s,
        "GET",
        "/api/v1/supervision/dispatch-accuracy",
        Some(&sup),
        None,
    );
    assert_eq!(st, 200, "{a}");
    assert!(a["by_dispatcher"].is_array() && a["by_rule"].is_array());
    let (st, _, _) = call(
        &s,
        "GET",
        "/api/v1/supervision/dispatch-accuracy",
        Some(&h1),
        None,
    );
    assert_eq!(st, 403);
    let (st, _, i) = call(&s, "GET", "/api/v1/inbox", Some(&h1), None);
    assert_eq!(st, 200, "{i}");
}

#[test]
fn an_xlsx_catalogue_round_trips_and_a_broken_one_is_rejected_with_its_row() {
    let s = server(&users());
    let disp = login(&s, "disp1");
    let get = |path: &str| {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(
            &mut ureq::get(&format!("{}{path}", s.base))
                .set("Authorization", &format!("Bearer {disp}"))
                .call()
                .unwrap()
                .into_reader(),
            &mut buf,
        )
        .unwrap();
        buf
    };
    let xlsx = get("/api/v1/catalogue/export.xlsx");
    assert!(jiesu_io::xlsx::is_xlsx(&xlsx));
    let csv = String::from_utf8(get("/api/v1/catalogue/export.csv")).unwrap();
    let post = |body: &[u8]| match ureq::post(&format!("{}/api/v1/catalogue/import", s.base))
        .set("Authorization", &format!("Bearer {disp}"))
        .set(
            "Content-Type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .send_bytes(body)
    {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(c, r)) => (c, r.into_string().unwrap()),
        Err(e) => panic!("{e}"),
    };
    // A row with an unknown tier, as a spreadsheet: rejected, row 5 named, nothing stored.
    let mut broken: Vec<String> = csv.lines().map(str::to_string).collect();
    for tier in [",24h,", ",7d,", ",15d,", ",2h,"] {
        broken[4] = broken[4].replacen(tier, ",9d,", 1);
    }
    let bad = jiesu_io::xlsx::csv_to_xlsx(&broken.join("\n"), "派单目录").unwrap();
    let (st, body) = post(&bad);
    assert_eq!(st, 422, "{body}");
    assert!(body.contains("line 5"), "{body}");
    let (_, _, info) = call(&s, "GET", "/api/v1/catalogue", Some(&disp), None);
    assert!(
        info["draft"].is_null(),
        "a rejected workbook changes nothing"
    );
    let (st, body) = post(b"PK\x03\x04garbage");
    assert_eq!(st, 422, "{body}");
    assert!(body.contains("xlsx"), "{body}");
    // The exported workbook imports as a draft with every rule.
    let (st, body) = post(&xlsx);
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["rules"].as_u64().unwrap() as usize,
        csv.lines().count() - 1
    );
    let draft = String::from_utf8(get("/api/v1/catalogue/export.csv?version=draft")).unwrap();
    assert_eq!(draft, csv, "the xlsx round trip keeps every field");
}

#[test]
fn a_rule_edited_in_the_browser_becomes_a_draft_checked_like_a_file_row() {
    let s = server(&users());
    let (disp, h1) = (login(&s, "disp1"), login(&s, "h1"));
    let (st, _, published) = call(
        &s,
        "GET",
        "/api/v1/catalogue/drafts/published/rules",
        Some(&disp),
        None,
    );
    assert_eq!(st, 200, "{published}");
    let rules = published["rules"].as_array().unwrap();
    let total = published["total"].as_u64().unwrap() as usize;
    let first = rules[0]["fields"].clone();
    // Change the first rule's tier: a draft appears with the same number of rules.
    let mut changed = first.clone();
    changed["tier"] = json!(if first["tier"] == "2h" { "24h" } else { "2h" });
    let edit = |tok: &str, base: Value, edit: Value| {
        call(
            &s,
            "POST",
            "/api/v1/catalogue/draft/edit",
            Some(tok),
            Some(&json!({"base_version": base, "edit": edit}).to_string()),
        )
    };
    let (st, _, _) = edit(&h1, Value::Null, json!({"op": "upsert", "rule": changed}));
    assert_eq!(st, 403, "a street handler cannot edit the catalogue");
    let (st, _, d1) = edit(&disp, Value::Null, json!({"op": "upsert", "rule": changed}));
    assert_eq!(st, 200, "{d1}");
    let v1 = d1["version"].as_i64().unwrap();
    assert_eq!(d1["rules"].as_u64().unwrap() as usize, total);
    // An edit against the old state (no draft) is refused: somebody else's edit is not undone.
    let (st, _, e) = edit(&disp, Value::Null, json!({"op": "upsert", "rule": changed}));
    assert_eq!(st, 409, "{e}");
    // A bad tier and an unknown category: 422, named by rule and column, the draft unchanged.
    let mut bad = first.clone();
    bad["tier"] = json!("9d");
    bad["category_prefix"] = json!("999999");
    let (st, _, e) = edit(&disp, json!(v1), json!({"op": "upsert", "rule": bad}));
    assert_eq!(st, 422, "{e}");
    let problems = e["problems"].as_array().unwrap();
    assert!(problems.iter().any(|p| p["column"] == "tier"), "{e}");
    assert!(problems.iter().all(|p| p["rule"] == first["id"]), "{e}");
    let (_, _, info) = call(&s, "GET", "/api/v1/catalogue", Some(&disp), None);
    assert_eq!(info["draft"]["version"].as_i64(), Some(v1));
    // A new rule overlapping an existing one (same scope and priority) is refused naming both.
    let mut clash = first.clone();
    clash["id"] = json!("ZZ-CLASH");
    let (st, _, e) = edit(&disp, json!(v1), json!({"op": "upsert", "rule": clash}));
    assert_eq!(st, 422, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("ZZ-CLASH"), "{e}");
    // Removing the rule: the next draft has one rule less, and shows in the draft's rule list.
    let key = json!({"id": first["id"], "effective_from": first["effective_from"]});
    let (st, _, d2) = edit(&disp, json!(v1), json!({"op": "remove", "key": key}));
    assert_eq!(st, 200, "{d2}");
    assert_eq!(d2["rules"].as_u64().unwrap() as usize, total - 1);
    let (st, _, dr) = call(
        &s,
        "GET",
        &format!(
            "/api/v1/catalogue/drafts/draft/rules?q={}",
            first["id"].as_str().unwrap()
        ),
        Some(&disp),
        None,
    );
    assert_eq!(st, 200, "{dr}");
    assert_eq!(dr["version"], d2["version"]);
    assert!(dr["rules"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["id"] != first["id"] || r["effective_from"] != first["effective_from"]));
    // One draft at a time: the earlier one is marked replaced in the history.
    let (_, _, info) = call(&s, "GET", "/api/v1/catalogue", Some(&disp), None);
    let hist = info["history"].as_array().unwrap();
    let old = hist.iter().find(|h| h["version"] == json!(v1)).unwrap();
    assert_eq!(old["status"], "replaced");
}

#[test]
fn a_return_waits_in_the_review_queue_with_its_own_deadline_and_escalations_are_tracked() {
    let s = server(&users());
    let (disp, h1) = (login(&s, "disp1"), login(&s, "h1"));
    let id = complaint_dispatched_to(&s, &disp, "110108", "110108010", "13900002222");
    let act = |tok: &str, action: &str, b: Value| {
        call(
            &s,
            "POST",
            &format!("/api/v1/tickets/{id}/{action}"),
            Some(tok),
            Some(&b.to_string()),
        )
    };
    let (_, _, q) = call(&s, "GET", "/api/v1/supervision/reviews", Some(&disp), None);
    assert_eq!(q["total"], 0, "{q}");
    let (st, _, v) = act(
        &h1,
        "return",
        json!({"reason": "outside_area", "text": "不属于本街道"}),
    );
    assert_eq!(st, 200, "{v}");
    let (st, _, q) = call(&s, "GET", "/api/v1/supervision/reviews", Some(&disp), None);
    assert_eq!(st, 200, "{q}");
    assert_eq!(q["total"], 1, "{q}");
    let item = &q["items"][0];
    assert_eq!(item["kind"], "return");
    assert_eq!(item["unit_code"], "110108010");
    assert_eq!(item["review"]["state"], "running");
    let asked =
        chrono::DateTime::parse_from_rfc3339(item["requested_at"].as_str().unwrap()).unwrap();
    let due =
        chrono::DateTime::parse_from_rfc3339(item["review"]["due"].as_str().unwrap()).unwrap();
    assert_eq!(
        (due - asked).num_minutes(),
        120,
        "the default return review takes 2 hours"
    );
    // the ticket view carries the same review deadline
    let (_, _, tv) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}"),
        Some(&disp),
        None,
    );
    assert_eq!(
        tv["assignments"][0]["return_review_due"],
        item["review"]["due"]
    );
    let (st, _, _) = call(&s, "GET", "/api/v1/supervision/reviews", Some(&h1), None);
    assert_eq!(st, 403, "the queue is the centre's");
    // rejected: back to the unit, out of the queue
    let (st, _, v) = act(
        &disp,
        "review-return",
        json!({"approve": false, "note": "属于本街道"}),
    );
    assert_eq!(st, 200, "{v}");
    let (_, _, q) = call(&s, "GET", "/api/v1/supervision/reviews", Some(&disp), None);
    assert_eq!(q["total"], 0, "{q}");
    // escalated to district coordination: tracked as open, with the lead unit's finish clock
    let (st, _, v) = act(
        &disp,
        "escalate",
        json!({"level": "district", "reason": "多次投诉未解决"}),
    );
    assert_eq!(st, 200, "{v}");
    let (st, _, e) = call(
        &s,
        "GET",
        "/api/v1/supervision/escalations",
        Some(&disp),
        None,
    );
    assert_eq!(st, 200, "{e}");
    assert_eq!(e["total"], 1, "{e}");
    assert_eq!(e["open"], 1);
    assert_eq!(e["items"][0]["escalations"][0]["level"], "district");
    assert_eq!(e["items"][0]["lead"]["unit_code"], "110108010");
    // urged from the board (by ticket here): an event, and an item in the unit's inbox
    let (st, _, r) = call(
        &s,
        "POST",
        "/api/v1/supervision/remind",
        Some(&h1),
        Some(&json!({"tickets": [id], "note": "请尽快办理"}).to_string()),
    );
    assert_eq!(st, 403, "a street handler cannot urge: {r}");
    let (st, _, r) = call(
        &s,
        "POST",
        "/api/v1/supervision/remind",
        Some(&disp),
        Some(&json!({"tickets": [id], "note": " "}).to_string()),
    );
    assert_eq!(st, 422, "a blank note is refused: {r}");
    let (st, _, r) = call(
        &s,
        "POST",
        "/api/v1/supervision/remind",
        Some(&disp),
        Some(&json!({"tickets": [id], "note": "请尽快办理"}).to_string()),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["urged"], 1);
    let (_, _, i) = call(&s, "GET", "/api/v1/inbox", Some(&h1), None);
    let items = i["items"].as_array().unwrap();
    assert!(
        items.iter().any(|x| x["kind"] == "urged"
            && x["note"] == "请尽快办理"
            && x["ticket_id"] == json!(id)),
        "{i}"
    );
    // by unit: only overdue lead assignments are urged (none is overdue yet)
    let (st, _, r) = call(
        &s,
        "POST",
        "/api/v1/supervision/remind",
        Some(&disp),
        Some(&json!({"units": ["110108010"], "note": "请尽快办理"}).to_string()),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["urged"], 0);
}
