//! 办理质量审计 against the real binary: results filed by units are flagged 办结过快 (filed within
//! minutes of the dispatch), 假办结 (the result says solved, the callback unresolved), boilerplate
//! (the same letter for different requests) and 答非所问 (a result written for another request);
//! the rates per unit; the supervisor's page only; one flagged result turned into supervision
//! (重办 with the flags as the reason), which the domain refuses twice.

mod common;
use common::*;
use serde_json::{json, Value};

fn act(s: &Server, token: &str, id: i64, action: &str, body: Value) -> (u16, Value) {
    let (st, _, v) = call(
        s,
        "POST",
        &format!("/api/v1/tickets/{id}/{action}"),
        Some(token),
        Some(&body.to_string()),
    );
    (st, v)
}

/// Takes in a complaint at `street` and dispatches it to that street; returns the ticket id.
fn filed(
    s: &Server,
    disp: &str,
    cat: &str,
    street: &str,
    title: &str,
    text: &str,
    n: usize,
) -> i64 {
    let body = json!({"channel": "phone", "type": "complaint", "category_code": cat,
        "title": title, "text": text, "district_code": &street[..6], "street_code": street,
        "requester": {"name": "王先生", "phone": format!("1390000{n:04}")}});
    let (st, _, t) = call(
        s,
        "POST",
        "/api/v1/tickets",
        Some(disp),
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{t}");
    let id = t["id"].as_i64().unwrap();
    let d = json!({"assignments": [{"unit_code": street, "role": "lead"}], "tier": "7d"});
    let (st, v) = act(s, disp, id, "dispatch", d);
    assert_eq!(st, 200, "{v}");
    id
}

fn result(s: &Server, h: &str, id: i64, text: &str) {
    for (a, b) in [
        ("sign", json!({})),
        ("respond", json!({"note": "已电话联系"})),
        ("result", json!({ "text": text })),
    ] {
        let (st, v) = act(s, h, id, a, b);
        assert_eq!(st, 200, "{a}: {v}");
    }
}

const TEMPLATE: &str = "您好，您反映的问题已收悉，已转交相关部门调查处理，感谢您对我们工作的支持。";

/// (title, text, result) of ordinary requests answered to the point.
const ANSWERED: &[(&str, &str, &str)] = &[
    (
        "朝阳路路灯不亮",
        "朝阳路东段路灯连续三天不亮，夜间行人看不清路。",
        "经排查朝阳路东段路灯为线路老化，已更换线路，路灯恢复照明。",
    ),
    (
        "和平里小区供暖不热",
        "和平里小区5号楼供暖温度只有14度，老人受冻。",
        "热力公司检测和平里小区5号楼供暖，已调整阀门，室温达到18度以上。",
    ),
    (
        "建国路井盖缺失",
        "建国路公交站旁井盖缺失，存在安全隐患。",
        "建国路公交站旁缺失井盖已由排水集团补装，并设置警示标志。",
    ),
    (
        "光明街菜市场占道经营",
        "光明街菜市场门口商贩占道经营，堵塞通行。",
        "光明街菜市场占道经营已由城管执法队清理，商户已入室经营。",
    ),
    (
        "东四十条公交站牌损坏",
        "东四十条公交站站牌被撞坏，乘客看不到线路。",
        "东四十条公交站牌已报公交集团，站牌已修复并更新线路信息。",
    ),
    (
        "新华小区楼道堆物",
        "新华小区3号楼楼道堆满杂物，占用消防通道。",
        "新华小区物业已清理3号楼楼道杂物，并张贴禁止堆物告示。",
    ),
    (
        "幸福里电梯故障",
        "幸福里小区2号楼电梯故障一周无人维修。",
        "街道协调物业维修幸福里小区2号楼电梯，电梯已修复并通过检验。",
    ),
    (
        "北苑路积水",
        "北苑路地铁站出口下雨积水严重，无法通行。",
        "北苑路地铁站出口积水点已疏通雨水口，加装排水管道。",
    ),
    (
        "青年路噪音扰民",
        "青年路工地夜间施工噪音扰民，影响休息。",
        "已约谈青年路工地施工单位，夜间停止高噪音作业，并加装隔音屏。",
    ),
    (
        "团结湖公园垃圾",
        "团结湖公园东门垃圾桶满溢无人清运。",
        "团结湖公园东门垃圾已清运，环卫所增加清运频次为每日两次。",
    ),
    (
        "三里屯共享单车乱停",
        "三里屯路口共享单车乱停，挡住盲道。",
        "三里屯路口共享单车已由运营企业清理，并划定停放区域。",
    ),
    (
        "呼家楼小区停车难",
        "呼家楼小区内停车位不足，车辆乱停。",
        "呼家楼街道协调周边单位错时开放停车位，新增车位60个。",
    ),
    (
        "劲松树木遮挡",
        "劲松小区树木枝条遮挡路灯和窗户。",
        "劲松小区遮挡路灯和窗户的树枝已由园林队修剪完毕。",
    ),
    (
        "潘家园下水道堵塞",
        "潘家园小区下水道堵塞，污水外溢。",
        "潘家园小区下水道已由物业疏通，外溢污水已清理消毒。",
    ),
    (
        "双井路面破损",
        "双井桥下路面坑洼，电动车容易摔倒。",
        "双井桥下破损路面已由道路养护中心修补平整。",
    ),
    (
        "垡头小区宽带",
        "垡头小区宽带经常断网，报修无人处理。",
        "运营商已派员检修垡头小区宽带线路，更换老化设备。",
    ),
];

#[test]
fn results_are_flagged_per_unit_and_one_is_turned_into_supervision() {
    let s = server_at_clock(&[
        ("disp1", "dispatcher", None),
        ("sup1", "supervisor", None),
        ("cb1", "callback_agent", None),
        ("admin1", "admin", None),
        ("h1", "unit_handler", Some("110105001")),
        ("h2", "unit_handler", Some("110108010")),
    ]);
    let disp = login(&s, "disp1");
    let admin = login(&s, "admin1");
    let h1 = login(&s, "h1");
    let cat = first_leaf(&s);
    let (a, b) = ("110105001", "110108010");
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    // filed within minutes: 办结过快
    let fast = filed(
        &s,
        &disp,
        &cat,
        a,
        "十里堡路灯不亮",
        "十里堡小区门口路灯不亮。",
        next(),
    );
    result(&s, &h1, fast, "十里堡小区门口路灯已修复。");
    let contradicted = filed(
        &s,
        &disp,
        &cat,
        a,
        "八里庄垃圾未清运",
        "八里庄小区垃圾三天未清运。",
        next(),
    );
    let boiler1 = filed(
        &s,
        &disp,
        &cat,
        a,
        "小关街道噪音",
        "小关街道商铺音响噪音扰民。",
        next(),
    );
    let boiler2 = filed(
        &s,
        &disp,
        &cat,
        a,
        "安贞路面塌陷",
        "安贞西里路面出现塌陷坑。",
        next(),
    );
    let off = filed(
        &s,
        &disp,
        &cat,
        b,
        "中关村停车收费",
        "中关村大街路侧停车乱收费。",
        next(),
    );
    let mut ordinary = Vec::new();
    for (i, (title, text, _)) in ANSWERED.iter().enumerate() {
        let street = if i % 2 == 0 { a } else { b };
        ordinary.push((filed(&s, &disp, &cat, street, title, text, next()), street));
    }
    // a day later the other results
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/test-clock",
        Some(&admin),
        Some(&json!({"advance_seconds": 86_400}).to_string()),
    );
    assert_eq!(st, 200, "{v}");
    // sessions idle out over a day: log in again
    let (cb, admin) = (login(&s, "cb1"), login(&s, "admin1"));
    let (h1, h2) = (login(&s, "h1"), login(&s, "h2"));
    result(
        &s,
        &h1,
        contradicted,
        "八里庄小区垃圾已清运完毕，问题已解决。",
    );
    result(&s, &h1, boiler1, TEMPLATE);
    result(&s, &h1, boiler2, TEMPLATE);
    // a result written for another request
    result(
        &s,
        &h2,
        off,
        "您反映的学校周边交通拥堵问题已转交交警大队，将在上下学时段增派警力。",
    );
    for ((id, street), (_, _, answer)) in ordinary.iter().zip(ANSWERED) {
        result(&s, if *street == a { &h1 } else { &h2 }, *id, answer);
    }
    let (st, v) = act(
        &s,
        &cb,
        contradicted,
        "callback",
        json!({"contacted": true, "resolution": "unresolved", "satisfaction": "unsatisfied"}),
    );
    assert_eq!(st, 200, "{v}");
    let (st, v) = act(
        &s,
        &cb,
        ordinary[0].0,
        "callback",
        json!({"contacted": true, "resolution": "resolved", "satisfaction": "satisfied"}),
    );
    assert_eq!(st, 200, "{v}");

    // the nightly pass (00:30 city time) audits the day's results and stores the findings
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/test-clock",
        Some(&admin),
        Some(&json!({"advance_seconds": 3_600}).to_string()),
    );
    assert_eq!(st, 200, "{v}");
    let (disp, sup, h1, admin) = (
        login(&s, "disp1"),
        login(&s, "sup1"),
        login(&s, "h1"),
        login(&s, "admin1"),
    );

    // only the supervisors' page
    let (st, _, v) = call(&s, "GET", "/api/v1/audit/replies", Some(&h1), None);
    assert_eq!(st, 403, "{v}");
    let (st, _, v) = call(&s, "GET", "/api/v1/audit/replies", Some(&disp), None);
    assert_eq!(st, 403, "{v}");
    let (st, _, v) = call(
        &s,
        "GET",
        "/api/v1/audit/replies?from=2026-13-01",
        Some(&sup),
        None,
    );
    assert_eq!((st, v["field"].clone()), (422, json!("from")));
    let (st, _, audit) = call(&s, "GET", "/api/v1/audit/replies", Some(&sup), None);
    assert_eq!(st, 200, "{audit}");
    assert_eq!(audit["results"], 5 + ANSWERED.len());
    let kinds_of = |id: i64| -> Vec<String> {
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["ticket"] == id)
            .map(|i| {
                i["kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k["kind"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(kinds_of(fast), vec!["too_fast"]);
    assert!(kinds_of(contradicted).contains(&"contradicted".to_string()));
    assert!(kinds_of(boiler1).contains(&"boilerplate".to_string()));
    assert!(kinds_of(boiler2).contains(&"boilerplate".to_string()));
    assert!(kinds_of(off).contains(&"off_topic".to_string()), "{audit}");
    // results answering their request (one called back as resolved) are not flagged
    for (id, _) in &ordinary {
        assert!(kinds_of(*id).is_empty(), "{id}: {:?}", kinds_of(*id));
    }
    let item = |id: i64| {
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["ticket"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(item(fast)["minutes"], 0);
    assert!([boiler1, boiler2].contains(&item(boiler1)["like_ticket"].as_i64().unwrap()));
    assert_eq!(audit["flagged"], 5);
    // per unit: the street of h1 filed 4 flagged results of 4 + its ordinary ones
    let unit = |code: &str| {
        audit["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit"] == code)
            .unwrap()
            .clone()
    };
    let ua = unit(a);
    let ub = unit(b);
    let a_ordinary = ordinary.iter().filter(|o| o.1 == a).count();
    assert_eq!(ua["results"], 4 + a_ordinary);
    assert_eq!(ua["flagged"], 4);
    assert_eq!(
        (
            ua["too_fast"].clone(),
            ua["contradicted"].clone(),
            ua["boilerplate"].clone()
        ),
        (json!(1), json!(1), json!(2))
    );
    assert_eq!(ub["flagged"], 1);
    assert_eq!(ub["off_topic"], 1);
    assert_eq!(audit["units"][0]["unit"], a, "the highest rate first");

    // 督办: the contradicted result goes back to its unit with the flags as the reason
    assert_eq!(item(contradicted)["can_supervise"], true);
    let path = format!("/api/v1/audit/replies/{contradicted}/supervise");
    let (st, _, v) = call(
        &s,
        "POST",
        &path,
        Some(&sup),
        Some(
            &json!({"note": "回访称垃圾仍未清运，请重新核实处理", "kinds": ["nonsense"]})
                .to_string(),
        ),
    );
    assert_eq!((st, v["field"].clone()), (422, json!("kinds")));
    let (st, _, v) = call(
        &s,
        "POST",
        &path,
        Some(&admin),
        Some(&json!({"note": "x"}).to_string()),
    );
    assert_eq!(
        st, 403,
        "the reopen action is the centre's supervisors' and dispatchers': {v}"
    );
    let (st, _, v) = call(
        &s,
        "POST",
        &path,
        Some(&h1),
        Some(&json!({"note": "x"}).to_string()),
    );
    assert_eq!(st, 403, "a unit may not send its own result back: {v}");
    let body = json!({"note": "回访称垃圾仍未清运，请重新核实处理", "kinds": ["contradicted"]})
        .to_string();
    let (st, _, v) = call(&s, "POST", &path, Some(&sup), Some(&body));
    assert_eq!(st, 200, "{v}");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .starts_with("办理质量督办（假办结"),
        "{v}"
    );
    let (_, _, ev) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{contradicted}/events"),
        Some(&sup),
        None,
    );
    let reopened = ev
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "reopened")
        .expect("a reopened event");
    assert_eq!(reopened["reason"], v["reason"]);
    // the unit has it again: the domain refuses a second reopen of a ticket back in handling
    let (st, _, again) = call(&s, "POST", &path, Some(&sup), Some(&body));
    assert_eq!(st, 409, "{again}");
    let (_, _, t) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{contradicted}"),
        Some(&h1),
        None,
    );
    assert_eq!(t["assignments"][0]["state"], "dispatched", "{t}");
    assert!(
        t["allowed_actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "sign"),
        "{t}"
    );
}

fn audit_of(s: &Server, sup: &str) -> Value {
    let (st, _, v) = call(s, "GET", "/api/v1/audit/replies", Some(sup), None);
    assert_eq!(st, 200, "{v}");
    v
}

fn advance(s: &Server, admin: &str, seconds: i64) {
    let (st, _, v) = call(
        s,
        "POST",
        "/api/v1/test-clock",
        Some(admin),
        Some(&json!({ "advance_seconds": seconds }).to_string()),
    );
    assert_eq!(st, 200, "{v}");
}

#[test]
fn the_nightly_audit_stores_yesterdays_results_from_half_past_midnight_and_a_rerun_does_not_duplicate(
) {
    // the clock starts at 23:30 city time on 30 November
    let s = server_at_clock(&[
        ("disp1", "dispatcher", None),
        ("sup1", "supervisor", None),
        ("admin1", "admin", None),
        ("h1", "unit_handler", Some("110105001")),
    ]);
    let (disp, sup, admin, h1) = (
        login(&s, "disp1"),
        login(&s, "sup1"),
        login(&s, "admin1"),
        login(&s, "h1"),
    );
    let cat = first_leaf(&s);
    let street = "110105001";
    // filed 23:30 on the 30th, within minutes of its dispatch: 办结过快, on the 30th
    let late = filed(
        &s,
        &disp,
        &cat,
        street,
        "十里堡路灯不亮",
        "十里堡小区门口路灯不亮。",
        1,
    );
    result(&s, &h1, late, "十里堡小区门口路灯已修复。");
    // (the server's first pass audited the 29th and the days before: not the 30th)
    let v = audit_of(&s, &sup);
    assert_eq!(v["results"], 0, "{v}");
    assert!(v["audited_days"].as_u64().unwrap() > 0, "{v}");

    // 00:20 on 1 December: the pass has not run yet
    advance(&s, &admin, 50 * 60);
    // (sessions idle out: log in again after each move of the clock)
    let (disp, sup, admin, h1) = (
        login(&s, "disp1"),
        login(&s, "sup1"),
        login(&s, "admin1"),
        login(&s, "h1"),
    );
    let v = audit_of(&s, &sup);
    assert_eq!(v["results"], 0, "{v}");
    let audited_before = v["audited_days"].as_u64().unwrap();
    assert!(v["items"].as_array().unwrap().is_empty());
    // a result filed now is the 1st's
    let early = filed(
        &s,
        &disp,
        &cat,
        street,
        "八里庄井盖缺失",
        "八里庄路口井盖缺失。",
        2,
    );
    result(&s, &h1, early, "八里庄路口井盖已补装。");

    // 00:30: the 30th is audited and stored
    advance(&s, &admin, 10 * 60);
    let (disp, sup, admin) = (login(&s, "disp1"), login(&s, "sup1"), login(&s, "admin1"));
    let v = audit_of(&s, &sup);
    assert_eq!(v["audited_days"], audited_before + 1, "the 30th too: {v}");
    assert_eq!(v["results"], 1, "{v}");
    assert_eq!(v["flagged"], 1, "{v}");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["ticket"], late);
    assert_eq!(items[0]["day"], "2026-11-30");
    assert_eq!(items[0]["policy_version"], 0);
    assert!(
        items[0]["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kind"] == "too_fast"),
        "{v}"
    );
    assert_eq!(v["units"][0]["unit"], street);
    assert_eq!(v["units"][0]["results"], 1);

    // auditing the day again replaces it: never twice
    for _ in 0..2 {
        let (st, _, r) = call(
            &s,
            "POST",
            "/api/v1/audit/days/2026-11-30",
            Some(&sup),
            None,
        );
        assert_eq!(st, 200, "{r}");
        assert_eq!(
            (r["results"].as_u64(), r["flagged"].as_u64()),
            (Some(1), Some(1)),
            "{r}"
        );
    }
    let again = audit_of(&s, &sup);
    assert_eq!(again["flagged"], 1);
    assert_eq!(again["items"].as_array().unwrap().len(), 1);
    // today has not ended; another role may not run it
    let (st, _, r) = call(
        &s,
        "POST",
        "/api/v1/audit/days/2026-12-01",
        Some(&sup),
        None,
    );
    assert_eq!((st, r["field"].as_str()), (422, Some("day")), "{r}");
    let (st, _, _) = call(
        &s,
        "POST",
        "/api/v1/audit/days/2026-11-30",
        Some(&disp),
        None,
    );
    assert_eq!(st, 403);

    // a stricter audit policy from December on: the 1st is audited under it, the 30th keeps its version
    let (_, _, a) = call(
        &s,
        "GET",
        "/api/v1/governance/policies/reply-audit",
        Some(&admin),
        None,
    );
    let mut p = a["versions"][0]["policy"].clone();
    p["id"] = json!("reply-audit-2026-12");
    p["effective_from"] = json!("2026-12");
    let (st, _, v) = call(
        &s,
        "POST",
        "/api/v1/governance/policies/reply-audit",
        Some(&admin),
        Some(&json!({ "policy": p }).to_string()),
    );
    assert_eq!(st, 201, "{v}");
    // the next night: the 1st is stored, the 30th re-audited under its own version
    advance(&s, &admin, 86_400);
    let sup = login(&s, "sup1");
    let v = audit_of(&s, &sup);
    assert_eq!(v["results"], 2, "{v}");
    let day_of = |id: i64| -> (String, i64) {
        let i = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["ticket"] == id)
            .expect("flagged");
        (
            i["day"].as_str().unwrap().to_string(),
            i["policy_version"].as_i64().unwrap(),
        )
    };
    assert_eq!(day_of(late), ("2026-11-30".to_string(), 0));
    assert_eq!(day_of(early), ("2026-12-01".to_string(), 1));
    assert_eq!(v["policy_versions"], json!([0, 1]));
}
