//! 风险推送 against the real binary: a gas smell at intake is marked for the 119 transfer in the
//! create answer and on the ticket, and pushed at once as a `risk` alert to the ticket's street
//! and district (inbox, steps), which another street's unit cannot see; three water-outage
//! reports in one community within an hour become one `incident` alert with the three tickets,
//! a fourth two hours later does not join it; a harmless request pushes nothing. The detector's
//! precision and recall on the labelled real messages (skips visibly without the shared data).

mod common;
use common::*;
use serde_json::{json, Value};

const USERS: &[(&str, &str, Option<&str>)] = &[
    ("agent1", "agent", None),
    ("admin1", "admin", None),
    ("cy", "unit_manager", Some("110105")),
    ("h1", "unit_handler", Some("110105001")),
    ("h2", "unit_handler", Some("110108001")),
];

fn take_in(s: &Server, token: &str, leaf: &str, title: &str, text: &str) -> Value {
    let body = json!({"channel": "phone", "type": "complaint", "category_code": leaf,
        "title": title, "text": text, "district_code": "110105",
        "street_code": "110105001", "community_code": "110105001024",
        "requester": {"name": "王先生", "phone": "13800002222"}});
    let (st, _, t) = call(
        s,
        "POST",
        "/api/v1/tickets",
        Some(token),
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{t}");
    t
}

fn alerts_of(s: &Server, token: &str, level: &str) -> Vec<Value> {
    let (st, _, v) = call(s, "GET", "/api/v1/alerts", Some(token), None);
    assert_eq!(st, 200, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["level"] == level)
        .cloned()
        .collect()
}

/// Moves the test clock (sessions idle out meanwhile: returns a fresh agent's log-in).
fn advance(s: &Server, seconds: i64) -> String {
    let admin = login(s, "admin1");
    let (st, _, v) = call(
        s,
        "POST",
        "/api/v1/test-clock",
        Some(&admin),
        Some(&json!({ "advance_seconds": seconds }).to_string()),
    );
    assert_eq!(st, 200, "{v}");
    login(s, "agent1")
}

#[test]
fn a_gas_smell_is_marked_for_119_and_pushed_at_once_to_its_street_and_district_only() {
    let s = server_at_clock(USERS);
    let agent = login(&s, "agent1");
    let leaf = first_leaf(&s);
    let t = take_in(
        &s,
        &agent,
        &leaf,
        "楼道煤气味很重",
        "我家楼道里一股很浓的煤气味，敲邻居家门没人应，请赶快派人来看看。",
    );
    assert_eq!(t["risk"]["kind"], "gas", "{t}");
    assert_eq!(t["risk"]["kind_label"], "燃气泄漏");
    assert_eq!(t["risk"]["transfer_to"], json!(["119"]), "{t}");
    assert!(!t["risk"]["signs"].as_array().unwrap().is_empty());
    let alert_id = t["risk_alert"].as_i64().expect("a risk alert at once");
    let id = t["id"].as_i64().unwrap();

    // the ticket carries the mark for good
    let (st, _, v) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{id}"),
        Some(&agent),
        None,
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["risk"]["transfer_to"], json!(["119"]), "{v}");

    // the street's handler has it in the inbox and in the list, addressed to the street and
    // district, with the ticket
    let h1 = login(&s, "h1");
    let (_, _, inbox) = call(&s, "GET", "/api/v1/inbox", Some(&h1), None);
    assert!(
        inbox["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == alert_id),
        "{inbox}"
    );
    let risk = alerts_of(&s, &h1, "risk");
    assert_eq!(risk.len(), 1, "{risk:?}");
    let a = &risk[0];
    assert_eq!(a["unit"], "110105001");
    assert_eq!(a["district"], "110105");
    assert_eq!(a["place"], "110105001024");
    assert_eq!(a["risk"]["ticket"], id);
    assert_eq!(a["risk"]["kind"], "gas");
    assert_eq!(a["risk"]["transfer_to"], json!(["119"]));
    assert_eq!(a["drill"], format!("#/tickets/{id}"));
    let cy = login(&s, "cy");
    assert_eq!(alerts_of(&s, &cy, "risk").len(), 1);

    // another street's unit neither lists nor opens it
    let h2 = login(&s, "h2");
    assert!(alerts_of(&s, &h2, "risk").is_empty());
    let (st, _, _) = call(
        &s,
        "GET",
        &format!("/api/v1/alerts/{alert_id}"),
        Some(&h2),
        None,
    );
    assert_eq!(st, 404);

    // the usual steps work on it
    let (st, _, v) = call(
        &s,
        "POST",
        &format!("/api/v1/alerts/{alert_id}/handle"),
        Some(&h1),
        Some(&json!({"reason": "已联系燃气公司和119到场处置，关阀通风"}).to_string()),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "handled");
    assert_eq!(v["tickets"], json!([id]));

    // a harmless request pushes nothing
    let t = take_in(
        &s,
        &agent,
        &leaf,
        "咨询燃气费",
        "想问一下煤气费怎么在网上缴纳。",
    );
    assert!(t["risk"].is_null(), "{t}");
    assert!(t["risk_alert"].is_null(), "{t}");
    assert_eq!(alerts_of(&s, &h1, "risk").len(), 1);
}

#[test]
fn three_water_outage_reports_in_one_community_within_an_hour_become_one_incident() {
    let s = server_at_clock(USERS);
    let agent = login(&s, "agent1");
    let leaf = first_leaf(&s);
    let text = "小区从早上开始停水，没有任何通知。";
    let t1 = take_in(&s, &agent, &leaf, "小区停水", text);
    assert!(t1["incident_alert"].is_null(), "{t1}");
    let agent = advance(&s, 20 * 60);
    let t2 = take_in(&s, &agent, &leaf, "停水了", text);
    assert!(
        t2["incident_alert"].is_null(),
        "two reports are no incident: {t2}"
    );
    let agent = advance(&s, 25 * 60);
    let t3 = take_in(&s, &agent, &leaf, "家里没水", text);
    let inc = t3["incident_alert"].as_i64().expect("the third opens one");
    assert!(t3["risk"].is_null(), "an outage is no emergency: {t3}");

    let h1 = login(&s, "h1");
    let incidents = alerts_of(&s, &h1, "incident");
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    let a = &incidents[0];
    assert_eq!(a["id"], inc);
    assert_eq!(a["ticket_count"], 3);
    assert_eq!(a["observed"], 3);
    assert_eq!(a["unit"], "110105001");
    assert_eq!(a["place"], "110105001024");
    assert!(a["incident"]["first_at"].is_string(), "{a}");
    let (_, _, detail) = call(&s, "GET", &format!("/api/v1/alerts/{inc}"), Some(&h1), None);
    let ids: Vec<i64> = [&t1, &t2, &t3]
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(detail["tickets"], json!(ids), "{detail}");

    // a fourth within the hour of the last joins it (one alert, updated)
    let agent = advance(&s, 30 * 60);
    let t4 = take_in(&s, &agent, &leaf, "还是没水", text);
    assert_eq!(t4["incident_alert"], inc, "{t4}");
    let h1 = login(&s, "h1");
    let incidents = alerts_of(&s, &h1, "incident");
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0]["ticket_count"], 4);

    // two hours later a report is not merged into it
    let agent = advance(&s, 2 * 3600);
    let t5 = take_in(&s, &agent, &leaf, "又停水了", text);
    assert!(t5["incident_alert"].is_null(), "{t5}");
    let h1 = login(&s, "h1");
    let incidents = alerts_of(&s, &h1, "incident");
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0]["ticket_count"], 4);

    // another street's unit cannot see it
    let h2 = login(&s, "h2");
    let (st, _, _) = call(&s, "GET", &format!("/api/v1/alerts/{inc}"), Some(&h2), None);
    assert_eq!(st, 404);
}

#[test]
fn reports_filed_at_once_all_join_the_incident_and_a_handled_one_takes_no_more() {
    let s = server_at_clock(USERS);
    let agent = login(&s, "agent1");
    let leaf = first_leaf(&s);
    let text = "小区从早上开始停水，没有任何通知。";
    for title in ["小区停水", "停水了", "家里没水"] {
        take_in(&s, &agent, &leaf, title, text);
    }
    let h1 = login(&s, "h1");
    let incidents = alerts_of(&s, &h1, "incident");
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    let inc = incidents[0]["id"].as_i64().unwrap();

    // twelve reports at the same moment: none is lost from the incident's list (each join is
    // decided again on the stored incident by the writer)
    let joined: Vec<Value> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..12)
            .map(|i| {
                let (s, agent, leaf) = (&s, &agent, &leaf);
                sc.spawn(move || take_in(s, agent, leaf, &format!("停水{i}"), text))
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        joined.iter().all(|t| t["incident_alert"] == inc),
        "{joined:?}"
    );
    let (_, _, detail) = call(&s, "GET", &format!("/api/v1/alerts/{inc}"), Some(&h1), None);
    assert_eq!(detail["tickets"].as_array().unwrap().len(), 15, "{detail}");

    // the street handles it: the next report within the hour is not merged into a handled incident
    let (st, _, v) = call(
        &s,
        "POST",
        &format!("/api/v1/alerts/{inc}/handle"),
        Some(&h1),
        Some(&json!({"reason": "已抢修管线，恢复供水"}).to_string()),
    );
    assert_eq!(st, 200, "{v}");
    let t = take_in(&s, &agent, &leaf, "又停水了", text);
    assert_ne!(t["incident_alert"], inc, "{t}");
    let (_, _, detail) = call(&s, "GET", &format!("/api/v1/alerts/{inc}"), Some(&h1), None);
    assert_eq!(detail["tickets"].as_array().unwrap().len(), 15, "{detail}");
}

#[test]
fn a_citizen_reporting_an_emergency_on_the_public_form_is_told_the_number_and_the_street_is_pushed()
{
    let s = server_at_clock(USERS);
    let body = json!({"type": "complaint", "category_code": first_leaf(&s), "title": "小区围墙倒塌",
        "text": "刚才小区东侧围墙倒塌了，砸到了路边的车，还有人被压在下面。",
        "district_code": "110105", "street_code": "110105001",
        "requester": {"name": "钱先生", "phone": "13812340000"}});
    let (st, _, t) = call(
        &s,
        "POST",
        "/api/v1/public/tickets",
        None,
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{t}");
    assert_eq!(t["emergency"]["transfer_to"], json!(["119"]), "{t}");
    assert!(t["emergency"]["hint"].as_str().unwrap().contains("119"));
    let h1 = login(&s, "h1");
    let risk = alerts_of(&s, &h1, "risk");
    assert_eq!(risk.len(), 1, "{risk:?}");
    assert_eq!(risk[0]["risk"]["kind"], "collapse");
    assert_eq!(risk[0]["place"], "110105001", "no community: the street");
    // an ordinary public request: no emergency
    let body = json!({"type": "complaint", "category_code": first_leaf(&s), "title": "夜间噪音",
        "text": "楼下商铺每天半夜装修，吵得睡不着。", "district_code": "110105",
        "street_code": "110105001", "requester": {"name": "钱先生", "phone": "13812340000"}});
    let (st, _, t) = call(
        &s,
        "POST",
        "/api/v1/public/tickets",
        None,
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{t}");
    assert!(t["emergency"].is_null(), "{t}");
}

/// The detector on the labelled real messages: the floors sit a little below what was measured
/// (docs/GOVERNANCE.md, "Risk push"); skips visibly without the shared data.
#[test]
fn the_risk_detector_finds_the_labelled_emergencies_in_real_messages() {
    let files = jiesu_text::data::tipdm_raw_files();
    let mut paths = Vec::new();
    for f in files {
        let Some(p) = jiesu_text::data::shared_test_file(f) else {
            return;
        };
        paths.push(p.to_str().unwrap().to_string());
    }
    let mut args = vec!["risk", "eval"];
    for p in &paths {
        args.push("--messages");
        args.push(p);
    }
    let out = ok(&args);
    let last: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["messages"], 572, "{out}");
    assert_eq!(last["emergencies"], 9, "{out}");
    // every labelled emergency is found (8 of them in development, 1 held out) …
    let recall = last["overall"]["recall"].as_f64().unwrap();
    assert!(recall >= 0.85, "recall {recall}: {out}");
    // … at the price of false pushes: measured 13.3 % of non-emergencies in development
    // (precision 14.5 %) and 18.7 % held out (precision 2.5 %, one emergency)
    let dev = &last["development"];
    let dev_precision = dev["overall"]["precision"].as_f64().unwrap();
    let dev_false = dev["false_alarm_rate"].as_f64().unwrap();
    assert!(
        dev_precision >= 0.12,
        "development precision {dev_precision}: {out}"
    );
    assert!(
        dev_false <= 0.15,
        "development false alarms {dev_false}: {out}"
    );
    let held_false = last["held_out"]["false_alarm_rate"].as_f64().unwrap();
    assert!(
        held_false <= 0.21,
        "held-out false alarms {held_false}: {out}"
    );
}
