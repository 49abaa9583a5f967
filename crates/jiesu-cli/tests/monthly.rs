//! 每月一题 against the real binary: requests about two concrete problems of one category
//! (charging piles, parking) become two labelled candidates whose tickets are exactly the
//! requests behind them; a supervisor adopts a topic with its plan and three lists, progress is
//! counted as the seed does, an edit on a stale version is refused and every version is kept; the
//! outcome counts the rule's tickets by month; a unit sees only the topics it is named in, and
//! neither the candidates nor the edits.

mod common;
use common::*;
use serde_json::{json, Value};

const USERS: &[(&str, &str, Option<&str>)] = &[
    ("agent1", "agent", None),
    ("sup1", "supervisor", None),
    ("admin1", "admin", None),
    ("h1", "unit_handler", Some("110105001")),
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
        html.contains("「小区电动车充电桩」（市住房城乡建设委牵头，张副市长负责）：任务完成 3 / 3 项（100.00%）；「小区充电桩安装难」派单 0 件"),
        "{html}"
    );
}
