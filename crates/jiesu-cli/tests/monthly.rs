//! 每月一题 against the real binary: requests about two concrete problems of one category
//! (charging piles, parking) become two labelled candidates whose tickets are exactly the
//! requests behind them; a supervisor adopts a topic with its plan and three lists, progress is
//! counted as the seed does, an edit on a stale version is refused and every version is kept; the
//! outcome counts the rule's tickets by month; a unit sees only the topics it is named in, and
//! neither the candidates nor the edits. The lead unit's manager ticks one task at a time (a new
//! version each, a stale change of the same task refused); a draft rule is previewed before it is
//! adopted; the month's 月分析 carries the topics in its JSON, HTML and xlsx.

mod common;
use common::*;
use serde_json::{json, Value};

const USERS: &[(&str, &str, Option<&str>)] = &[
    ("agent1", "agent", None),
    ("sup1", "supervisor", None),
    ("admin1", "admin", None),
    ("h1", "unit_handler", Some("110105001")),
    ("lead_mgr", "unit_manager", Some("CD003")),
    ("named_mgr", "unit_manager", Some("110105001")),
    ("far_mgr", "unit_manager", Some("110101001")),
];

const DISTRICTS: &[(&str, &str)] = &[
    ("110105", "110105001"),
    ("110108", "110108001"),
    ("110101", "110101001"),
];

fn take_in(s: &Server, token: &str, leaf: &str, i: usize, title: &str, text: &str) -> i64 {
    let (d, st) = DISTRICTS[i % DISTRICTS.len()];
    let body = json!({"channel": "phone", "type": "complaint", "category_code": leaf,
        "title": title, "text": text, "district_code": d, "street_code": st,
        "requester": {"name": "王先生", "phone": format!("138000{:05}", i)}});
    let (code, _, t) = call(
        s,
        "POST",
        "/api/v1/tickets",
        Some(token),
        Some(&body.to_string()),
    );
    assert_eq!(code, 201, "{t}");
    t["id"].as_i64().unwrap()
}

fn topic(theme: &str, units: &[&str], done: usize, open: usize) -> Value {
    let mut tasks = Vec::new();
    for i in 0..done + open {
        tasks.push(json!({"title": format!("任务{i}"), "owner": "CD003",
            "due": "2026-12-31", "status": if i < done { "done" } else { "doing" }}));
    }
    json!({
        "month": "2026-11", "theme": theme,
        "problems": [{"label": "小区充电桩安装难", "rule": {"categories": ["0301"], "keywords": ["充电桩"], "places": []}}],
        "lead_unit": "CD003", "leader": "张副市长",
        "plan": "《小区充电设施建设三年行动方案》：摸排、统筹建设、简化报装。",
        "tasks": tasks,
        "responsibilities": units.iter().map(|u| json!({"unit": u, "duty": "属地协调"})).collect::<Vec<_>>(),
        "policies": [{"title": "关于简化充电桩报装流程的通知", "issued": "2026-11-10", "issuer": "市住房城乡建设委"}]
    })
}

#[test]
fn two_problems_of_a_category_are_mined_adopted_versioned_measured_and_scoped() {
    let s = server_at_clock(USERS);
    let agent = login(&s, "agent1");
    let mut charging = Vec::new();
    let mut parking = Vec::new();
    let places = ["阳光花园", "幸福里小区", "和平里", "望京西园", "天通苑"];
    for i in 0..24 {
        let p = places[i % places.len()];
        charging.push(take_in(
            &s,
            &agent,
            "030101",
            i,
            "小区无法安装充电桩",
            &format!("{p}业主购买了车位，申请安装电动汽车充电桩，物业不同意出具证明，充电桩报装办不下来。"),
        ));
        parking.push(take_in(
            &s,
            &agent,
            "030103",
            i + 1,
            "小区停车位不足",
            &format!("{p}停车位严重不足，车辆乱停乱放占用消防通道，希望规划停车位。"),
        ));
    }
    let sup = login(&s, "sup1");
    let (st, _, v) = call(
        &s,
        "GET",
        "/api/v1/governance/monthly/candidates?month=2026-11&months=12",
        Some(&sup),
        None,
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["months"].as_array().unwrap().len(), 12);
    let cands = v["candidates"].as_array().unwrap();
    let find = |word: &str| {
        cands
            .iter()
            .find(|c| c["label"].as_str().unwrap().contains(word))
            .unwrap_or_else(|| panic!("no candidate labelled with {word}: {v}"))
    };
    let ids = |c: &Value| {
        let mut x: Vec<i64> = c["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_i64().unwrap())
            .collect();
        x.sort_unstable();
        x
    };
    let c = find("充电桩");
    assert_eq!(c["category"], "0301");
    assert_eq!(ids(c), charging, "{c}");
    assert_eq!(c["volume"], 24);
    assert_eq!(c["districts"], 3);
    assert_eq!(c["suggested_rule"]["categories"], json!(["0301"]));
    let p = find("停车");
    assert_eq!(ids(p), parking, "{p}");

    // units see neither candidates nor edits
    let h1 = login(&s, "h1");
    let (st, _, _) = call(
        &s,
        "GET",
        "/api/v1/governance/monthly/candidates",
        Some(&h1),
        None,
    );
    assert_eq!(st, 403);
    let (st, _, _) = call(
        &s,
        "POST",
        "/api/v1/governance/monthly/topics",
        Some(&agent),
        Some(&topic("x", &[], 1, 0).to_string()),
    );
    assert_eq!(st, 403);

    // three of the charging requests are dispatched (派单)
    for id in &charging[..3] {
        let d = json!({"assignments": [{"unit_code": "110105001", "role": "lead"}], "tier": "7d"});
        let (st, _, v) = call(
            &s,
            "POST",
            &format!("/api/v1/tickets/{id}/dispatch"),
            Some(&sup),
            Some(&d.to_string()),
        );
        assert_eq!(st, 200, "{v}");
    }

    // adopt: 2 of 3 tasks done → 66.66 % (cut, as the seed prints it)
    let (st, _, a) = call(
        &s,
        "POST",
        "/api/v1/governance/monthly/topics",
        Some(&sup),
        Some(&topic("小区充电桩", &["110105001"], 2, 1).to_string()),
    );
    assert_eq!(st, 201, "{a}");
    let id = a["id"].as_i64().unwrap();
    assert_eq!(a["version"], 1);
    assert_eq!(
        a["progress"],
        json!({"done": 2, "total": 3, "percent": 66.66})
    );
    assert_eq!(a["lead_unit_name"], "市住房城乡建设委");
    // a second topic the unit is not named in
    let (st, _, b) = call(
        &s,
        "POST",
        "/api/v1/governance/monthly/topics",
        Some(&sup),
        Some(&topic("物业服务", &["110108001"], 0, 1).to_string()),
    );
    assert_eq!(st, 201, "{b}");
    // four problems, an unknown lead unit: refused naming the field
    let mut bad = topic("x", &[], 0, 0);
    bad["problems"] = json!([
        bad["problems"][0],
        bad["problems"][0],
        bad["problems"][0],
        bad["problems"][0]
    ]);
    let (st, _, e) = call(
        &s,
        "POST",
        "/api/v1/governance/monthly/topics",
        Some(&sup),
        Some(&bad.to_string()),
    );
    assert_eq!((st, e["field"].as_str()), (422, Some("problems")), "{e}");
    let mut bad = topic("x", &[], 0, 0);
    bad["lead_unit"] = json!("NOPE");
    let (st, _, e) = call(
        &s,
        "POST",
        "/api/v1/governance/monthly/topics",
        Some(&sup),
        Some(&bad.to_string()),
    );
    assert_eq!((st, e["field"].as_str()), (422, Some("lead_unit")), "{e}");

    // edit on version 1: version 2; a second edit on version 1: 409, nothing written
    let mut t2 = topic("小区电动车充电桩", &["110105001"], 3, 0);
    t2["problems"][0]["rule"]["keywords"] = json!(["充电桩", "充电"]);
    let body = json!({"version": 1, "note": "任务全部完成", "topic": t2});
    let (st, _, r) = call(
        &s,
        "PUT",
        &format!("/api/v1/governance/monthly/topics/{id}"),
        Some(&sup),
        Some(&body.to_string()),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["version"], 2);
    assert_eq!(r["progress"]["percent"], 100.0);
    let (st, _, _) = call(
        &s,
        "PUT",
        &format!("/api/v1/governance/monthly/topics/{id}"),
        Some(&sup),
        Some(&body.to_string()),
    );
    assert_eq!(st, 409);

    let (st, _, one) = call(
        &s,
        "GET",
        &format!("/api/v1/governance/monthly/topics/{id}?month=2026-11"),
        Some(&sup),
        None,
    );
    assert_eq!(st, 200, "{one}");
    let hist = one["history"].as_array().unwrap();
    assert_eq!(hist.len(), 2);
    assert_eq!(hist[0]["rules"][0]["keywords"], json!(["充电桩"]));
    assert_eq!(hist[1]["note"], "任务全部完成");
    assert_eq!(hist[1]["by"], "sup1");
    let o = &one["outcomes"][0]["outcome"];
    assert_eq!(o["month"], "2026-11");
    assert_eq!(
        o["requests"].as_array().unwrap().last(),
        Some(&json!(24)),
        "{o}"
    );
    let mut got: Vec<i64> = o["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, charging);

    // the unit named in the first topic sees it, not the second
    let (st, _, mine) = call(
        &s,
        "GET",
        "/api/v1/governance/monthly/topics",
        Some(&h1),
        None,
    );
    assert_eq!(st, 200, "{mine}");
    let themes: Vec<&str> = mine["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["topic"]["theme"].as_str().unwrap())
        .collect();
    assert_eq!(themes, vec!["小区电动车充电桩"]);
    let (st, _, _) = call(
        &s,
        "GET",
        &format!("/api/v1/governance/monthly/topics/{}", b["id"]),
        Some(&h1),
        None,
    );
    assert_eq!(st, 404);
    let (st, _, all) = call(
        &s,
        "GET",
        "/api/v1/governance/monthly/topics",
        Some(&sup),
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(all["topics"].as_array().unwrap().len(), 2);

    // the month's 月分析 names the topics with their progress and outcome
    let (st, _, r) = call(
        &s,
        "POST",
        "/api/v1/analytics/reports",
        Some(&sup),
        Some(&json!({"kind": "monthly", "period": "2026-11"}).to_string()),
    );
    assert_eq!(st, 201, "{r}");
    let (st, _, html) = call(
        &s,
        "GET",
        &format!("/api/v1/analytics/reports/{}/html", r["id"]),
        Some(&sup),
        None,
    );
    assert_eq!(st, 200);
    let html = html.as_str().unwrap_or_default().to_string();
    assert!(html.contains("每月一题"), "{html}");
    assert!(
        html.contains("「小区电动车充电桩」（市住房城乡建设委牵头，张副市长负责）：任务完成 3 / 3 项（100.00%）；「小区充电桩安装难」派单 3 件"),
        "{html}"
    );
    assert!(html.contains("<caption>每月一题</caption>"), "{html}");
    // the figures in the report's JSON, one row per topic and problem
    let (st, _, b) = call(
        &s,
        "GET",
        &format!("/api/v1/analytics/reports/{}", r["id"]),
        Some(&sup),
        None,
    );
    assert_eq!(st, 200, "{b}");
    let rows = b["topic_rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{b}");
    let row = rows
        .iter()
        .find(|x| x["theme"] == "小区电动车充电桩")
        .unwrap();
    assert_eq!(row["problem"], "小区充电桩安装难");
    assert_eq!(row["lead_unit"], "市住房城乡建设委");
    assert_eq!(
        (
            &row["tasks_done"],
            &row["tasks_total"],
            &row["tasks_percent"]
        ),
        (&json!(3), &json!(3), &json!(100.0))
    );
    assert_eq!(
        (&row["dispatched"], &row["previous"], &row["last_year"]),
        (&json!(3), &json!(0), &json!(0))
    );
    assert_eq!(row["month_over_month"], Value::Null);
    // and as the 每月一题 sheet of the workbook
    let resp = ureq::get(&format!(
        "{}/api/v1/analytics/reports/{}/xlsx",
        s.base, r["id"]
    ))
    .set("Authorization", &format!("Bearer {sup}"))
    .call()
    .unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(
        book.sheet_names().last().map(String::as_str),
        Some("每月一题")
    );
    let sheet = book.worksheet_range("每月一题").unwrap();
    let cells: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(cells.len(), 3, "a header and two rows: {cells:?}");
    assert_eq!(cells[0][0], "题目月份");
    let line = cells
        .iter()
        .find(|r| r[1] == "小区电动车充电桩")
        .expect("the topic's row");
    assert_eq!(
        (line[8].as_str(), line[9].as_str()),
        ("小区充电桩安装难", "3")
    );
}

fn put_task(s: &Server, token: &str, id: i64, n: usize, body: Value) -> (u16, Value) {
    let (st, _, v) = call(
        s,
        "PUT",
        &format!("/api/v1/governance/monthly/topics/{id}/tasks/{n}"),
        Some(token),
        Some(&body.to_string()),
    );
    (st, v)
}

#[test]
fn the_lead_unit_s_manager_ticks_one_task_as_a_new_version_and_a_stale_change_of_it_is_refused() {
    let s = server_at_clock(USERS);
    let sup = login(&s, "sup1");
    // the test clock's city date is 2026-11-30: a task due the 29th and not done is overdue, one
    // due the 30th is not yet
    let mut t = topic("小区充电桩", &["110105001"], 0, 0);
    t["tasks"] = json!([
        {"title": "摸排充电需求", "owner": "CD003", "due": "2026-11-29", "status": "doing"},
        {"title": "统筹建设", "owner": "CD003", "due": "2026-12-31", "status": "todo"},
        {"title": "简化报装", "owner": "CD003", "due": "2026-11-30", "status": "todo"}
    ]);
    let (st, _, a) = call(
        &s,
        "POST",
        "/api/v1/governance/monthly/topics",
        Some(&sup),
        Some(&t.to_string()),
    );
    assert_eq!(st, 201, "{a}");
    let id = a["id"].as_i64().unwrap();
    assert_eq!(a["overdue_task_indexes"], json!([0]));
    assert_eq!(a["overdue_tasks"], 1);
    assert_eq!(
        a["may_update_tasks"], false,
        "a supervisor edits the record, not a task"
    );

    let done = json!({"version": 1, "status": "done", "note": "已摸排 120 个小区"});
    // wrong role: a supervisor, a unit handler of a named unit
    for who in ["sup1", "h1"] {
        let (st, e) = put_task(&s, &login(&s, who), id, 1, done.clone());
        assert_eq!(st, 403, "{who}: {e}");
    }
    // a manager of a unit the topic does not name: as if there were no topic
    let (st, e) = put_task(&s, &login(&s, "far_mgr"), id, 1, done.clone());
    assert_eq!(st, 404, "{e}");
    // a manager of a unit named in the responsibility list, not leading: sees it, may not tick
    let named = login(&s, "named_mgr");
    let (st, _, v) = call(
        &s,
        "GET",
        &format!("/api/v1/governance/monthly/topics/{id}"),
        Some(&named),
        None,
    );
    assert_eq!((st, &v["may_update_tasks"]), (200, &json!(false)), "{v}");
    let (st, e) = put_task(&s, &named, id, 1, done.clone());
    assert_eq!(st, 403, "{e}");

    // the lead unit's manager: version 2, progress and overdue recomputed
    let lead = login(&s, "lead_mgr");
    let (st, _, v) = call(
        &s,
        "GET",
        &format!("/api/v1/governance/monthly/topics/{id}"),
        Some(&lead),
        None,
    );
    assert_eq!((st, &v["may_update_tasks"]), (200, &json!(true)), "{v}");
    let (st, v) = put_task(&s, &lead, id, 1, done.clone());
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["version"], 2);
    assert_eq!(
        v["progress"],
        json!({"done": 1, "total": 3, "percent": 33.33})
    );
    assert_eq!(v["overdue_task_indexes"], json!([]));
    assert_eq!(v["topic"]["tasks"][0]["note"], "已摸排 120 个小区");
    assert_eq!(v["topic"]["tasks"][1]["status"], "todo");

    // the admin, on version 1, changes the same task: it moved on meanwhile → 409, nothing written
    let admin = login(&s, "admin1");
    let (st, e) = put_task(&s, &admin, id, 1, json!({"version": 1, "status": "doing"}));
    assert_eq!((st, e["code"].as_str()), (409, Some("conflict")), "{e}");
    // on version 1 too, another task that has not changed: taken, as version 3
    let (st, v) = put_task(
        &s,
        &admin,
        id,
        2,
        json!({"version": 1, "status": "doing", "note": "选址中"}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["version"], 3);
    assert_eq!(v["topic"]["tasks"][0]["status"], "done", "task 1 kept");
    // no such task, an unknown status, nothing changed
    let (st, _) = put_task(&s, &admin, id, 4, json!({"version": 3, "status": "done"}));
    assert_eq!(st, 404);
    let (st, e) = put_task(
        &s,
        &admin,
        id,
        3,
        json!({"version": 3, "status": "finished"}),
    );
    assert_eq!(st, 422, "{e}");
    let (st, e) = put_task(
        &s,
        &admin,
        id,
        2,
        json!({"version": 3, "status": "doing", "note": "选址中"}),
    );
    assert_eq!((st, e["field"].as_str()), (422, Some("status")), "{e}");

    // every change kept: who, when, what
    let (st, _, one) = call(
        &s,
        "GET",
        &format!("/api/v1/governance/monthly/topics/{id}"),
        Some(&sup),
        None,
    );
    assert_eq!(st, 200, "{one}");
    let hist = one["history"].as_array().unwrap();
    assert_eq!(hist.len(), 3);
    assert_eq!(hist[1]["by"], "lead_mgr");
    assert_eq!(
        hist[1]["note"],
        "任务 1「摸排充电需求」：推进中 → 已完成（已摸排 120 个小区）"
    );
    assert_eq!(hist[1]["at"].as_str().unwrap()[..10], *"2026-11-30");
    assert_eq!(hist[2]["by"], "admin1");
    assert_eq!(
        hist[2]["note"],
        "任务 2「统筹建设」：未开始 → 推进中（选址中）"
    );
    assert_eq!(hist[0]["progress"]["done"], 0);

    // an hour later it is 1 December in the city: a task done then is not in November's report,
    // which shows the topic as it stood when November ended (task 3, due the 30th, overdue then)
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/test-clock",
        Some(&admin),
        Some(&json!({"advance_seconds": 3600}).to_string()),
    );
    assert_eq!(st, 200, "{v}");
    // (an hour idle ends a session: log in again)
    let (lead, sup) = (login(&s, "lead_mgr"), login(&s, "sup1"));
    let (st, v) = put_task(&s, &lead, id, 3, json!({"version": 3, "status": "done"}));
    assert_eq!((st, &v["version"]), (200, &json!(4)), "{v}");
    let report_row = |period: &str| {
        let (st, _, r) = call(
            &s,
            "POST",
            "/api/v1/analytics/reports",
            Some(&sup),
            Some(&json!({"kind": "monthly", "period": period}).to_string()),
        );
        assert_eq!(st, 201, "{r}");
        let (st, _, b) = call(
            &s,
            "GET",
            &format!("/api/v1/analytics/reports/{}", r["id"]),
            Some(&sup),
            None,
        );
        assert_eq!(st, 200, "{b}");
        b["topic_rows"][0].clone()
    };
    let nov = report_row("2026-11");
    assert_eq!(
        (&nov["tasks_done"], &nov["tasks_overdue"]),
        (&json!(1), &json!(1)),
        "{nov}"
    );
    let dec = report_row("2026-12");
    assert_eq!(
        (&dec["tasks_done"], &dec["tasks_overdue"]),
        (&json!(2), &json!(0)),
        "{dec}"
    );
}

#[test]
fn a_draft_rule_is_previewed_by_month_with_masked_sample_titles_and_a_bad_rule_names_its_field() {
    let s = server_at_clock(USERS);
    let agent = login(&s, "agent1");
    let mut charging = Vec::new();
    for i in 0..24 {
        charging.push(take_in(
            &s,
            &agent,
            "030101",
            i,
            "小区无法安装充电桩 王先生 13912345678",
            "业主申请安装电动汽车充电桩，物业不同意。",
        ));
        take_in(
            &s,
            &agent,
            "030103",
            i,
            "小区停车位不足",
            "停车位严重不足，车辆乱停乱放。",
        );
    }
    let sup = login(&s, "sup1");
    let preview = |token: &str, rule: Value| {
        let (st, _, v) = call(
            &s,
            "POST",
            "/api/v1/governance/monthly/rule-preview",
            Some(token),
            Some(&json!({"rule": rule, "month": "2026-11"}).to_string()),
        );
        (st, v)
    };
    let (st, v) = preview(
        &sup,
        json!({"categories": ["0301"], "keywords": ["充电桩"], "places": []}),
    );
    assert_eq!(st, 200, "{v}");
    let months = v["months"].as_array().unwrap();
    assert_eq!(months.len(), 13);
    assert_eq!(
        (&months[0], &months[12]),
        (&json!("2025-11"), &json!("2026-11"))
    );
    assert_eq!(v["requests"][12], 24);
    assert_eq!(v["requests"][11], 0);
    assert_eq!(v["total"], 24);
    let sample = v["sample"].as_array().unwrap();
    assert_eq!(sample.len(), 20, "the newest 20");
    let newest = *charging.last().unwrap();
    assert_eq!(sample[0]["id"], newest);
    for t in sample {
        let title = t["title"].as_str().unwrap();
        assert!(title.contains("充电桩"), "{title}");
        assert!(
            !title.contains("13912345678") && !title.contains("王先生"),
            "no personal data: {title}"
        );
    }
    assert_eq!(
        sample[0]["district"], "东城区",
        "the newest was filed in the third district"
    );
    // without keywords, the whole category: both problems
    let (st, v) = preview(
        &sup,
        json!({"categories": ["0301"], "keywords": [], "places": []}),
    );
    assert_eq!((st, &v["total"]), (200, &json!(48)), "{v}");
    // a place narrows it: one district of the three
    let (st, v) = preview(
        &sup,
        json!({"categories": ["0301"], "keywords": ["充电桩"], "places": ["110108"]}),
    );
    assert_eq!((st, &v["total"]), (200, &json!(8)), "{v}");
    // a bad rule: problem+json naming the field
    for (rule, field) in [
        (
            json!({"categories": ["9999"], "keywords": [], "places": []}),
            "rule.categories",
        ),
        (
            json!({"categories": [], "keywords": [], "places": []}),
            "rule.categories",
        ),
        (
            json!({"categories": ["0301"], "keywords": [], "places": ["NOWHERE"]}),
            "rule.places",
        ),
        (
            json!({"categories": ["0301"], "keywords": [" "], "places": []}),
            "rule.keywords",
        ),
    ] {
        let (st, e) = preview(&sup, rule.clone());
        assert_eq!((st, e["field"].as_str()), (422, Some(field)), "{rule}: {e}");
        assert!(
            e["detail_zh"].as_str().is_some_and(|z| !z.is_empty()),
            "{e}"
        );
    }
    // only those who adopt topics preview their rules
    let (st, _) = preview(
        &login(&s, "h1"),
        json!({"categories": ["0301"], "keywords": [], "places": []}),
    );
    assert_eq!(st, 403);
}
