//! 治理类街乡镇的工作 against the real binary: the 未进先治 pre-warning raised for the last
//! complete month (the street's and the district's inbox, never another district's), the
//! interview filed by the district and refused to the street itself, the project list kept by
//! the street with versions, the monitoring counted from the facts, and every change recorded.

mod common;
use common::*;
use serde_json::{json, Value};

/// 5 October 2026 in Beijing: September is the last complete month of the generated history.
const CLOCK: &str = "2026-10-05T02:00:00Z";

fn get(s: &Server, token: &str, path: &str) -> (u16, Value) {
    let (st, _, v) = call(s, "GET", path, Some(token), None);
    (st, v)
}

fn send(s: &Server, token: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let (st, _, v) = call(s, method, path, Some(token), Some(&body.to_string()));
    (st, v)
}

fn add_user(s: &Server, name: &str, role: &str, unit: &str) {
    ok(&[
        "user",
        "add",
        "--db",
        s.db.to_str().unwrap(),
        "--name",
        name,
        "--role",
        role,
        "--password",
        PW,
        "--unit",
        unit,
    ]);
}

#[test]
fn a_street_entering_the_top_ten_is_pre_warned_interviewed_by_its_district_and_its_lists_are_kept()
{
    let s = server_full(
        |db| {
            ok(&[
                "generate",
                "--no-train",
                "--db",
                db.to_str().unwrap(),
                "--from",
                "2026-07",
                "--to",
                "2026-09",
                "--scale",
                "0.006",
                "--seed",
                "9",
            ]);
        },
        &[("sup1", "supervisor", None), ("admin1", "admin", None)],
        &["--test-clock", CLOCK],
        &[],
    );
    let sup = login(&s, "sup1");
    let admin = login(&s, "admin1");
    // moving the clock runs the passes at once (the scheduler's own pass may have run already:
    // a month is classified once)
    let (st, v) = send(
        &s,
        &admin,
        "POST",
        "/api/v1/test-clock",
        json!({"advance_seconds": 1}),
    );
    assert_eq!(st, 200, "{v}");
    let (st, page) = get(&s, &sup, "/api/v1/alerts?page_size=200");
    assert_eq!(st, 200, "{page}");
    let warned: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["level"] == "pre_warning")
        .collect();
    // the classification of the same month names the same streets
    let (_, cls) = get(&s, &sup, "/api/v1/governance/streets/2026-09");
    let want: Vec<&str> = cls["streets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["pre_warning"] == true)
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(!want.is_empty(), "a first month's top 10 is pre-warned");
    let mut got: Vec<&str> = warned.iter().map(|a| a["unit"].as_str().unwrap()).collect();
    got.sort();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(got, want_sorted);
    for a in &warned {
        assert_eq!(a["place"], a["unit"]);
        assert_eq!(a["pre_warning"]["month"], "2026-09");
        assert!(
            a["pre_warning"]["volume_rank"].as_u64().unwrap() <= 10,
            "{a}"
        );
        assert_eq!(a["day"], "2026-09-01");
        assert!(a["ticket_count"].as_u64().unwrap() > 0, "{a}");
    }
    let alert = warned[0];
    let street = alert["unit"].as_str().unwrap().to_string();
    let district = alert["district"].as_str().unwrap().to_string();
    assert_eq!(alert["drill"], format!("#/streets/work/{street}"));
    assert!(street.starts_with(&district));
    let alert_id = alert["id"].as_i64().unwrap();

    // another clock move raises nothing twice
    send(
        &s,
        &admin,
        "POST",
        "/api/v1/test-clock",
        json!({"advance_seconds": 60}),
    );
    let (_, again) = get(&s, &sup, "/api/v1/alerts?page_size=200");
    assert_eq!(again["total"], page["total"]);

    // the street's and its district's managers; a manager of another district
    let other = if district == "110101" {
        "110102"
    } else {
        "110101"
    };
    add_user(&s, "sm", "unit_manager", &street);
    add_user(&s, "dm", "unit_manager", &district);
    add_user(&s, "om", "unit_manager", other);
    let sm = login(&s, "sm");
    let dm = login(&s, "dm");
    let om = login(&s, "om");
    for t in [&sm, &dm] {
        let (st, inbox) = get(&s, t, "/api/v1/inbox");
        assert_eq!(st, 200);
        assert!(
            inbox["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["id"] == alert_id),
            "{inbox}"
        );
    }
    let (_, inbox) = get(&s, &om, "/api/v1/inbox");
    assert!(!inbox["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["level"] == "pre_warning" && a["unit"] == street.as_str()));
    let path = format!("/api/v1/governance/street-work/{street}");
    let (st, v) = get(&s, &om, &path);
    assert_eq!(st, 404, "{v}");

    // 约谈: the district files it; the street itself may not; a day in the future is refused
    let interview = json!({"held_on": "2026-10-04", "attendees": ["区委副书记", "街道工委书记"],
        "findings": "诉求量进入全市前十，物业管理类诉求集中，限期提出整改方案", "alert_id": alert_id});
    let (st, v) = send(
        &s,
        &sm,
        "POST",
        &format!("{path}/interviews"),
        interview.clone(),
    );
    assert_eq!(st, 404, "{v}");
    assert!(v["detail_zh"].as_str().unwrap().contains("约谈"));
    let mut future = interview.clone();
    future["held_on"] = json!("2026-10-06");
    let (st, v) = send(&s, &dm, "POST", &format!("{path}/interviews"), future);
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["field"], "held_on");
    let foreign = warned.iter().find(|a| a["unit"] != street.as_str());
    if let Some(f) = foreign {
        let mut wrong = interview.clone();
        wrong["alert_id"] = f["id"].clone();
        let (st, v) = send(&s, &dm, "POST", &format!("{path}/interviews"), wrong);
        assert_eq!(st, 422, "{v}");
        assert_eq!(v["field"], "alert_id");
    }
    let (st, iv) = send(&s, &dm, "POST", &format!("{path}/interviews"), interview);
    assert_eq!(st, 201, "{iv}");
    assert_eq!(iv["filed_by"], "dm");
    assert_eq!(iv["attendees"].as_array().unwrap().len(), 2);

    // the project list: the street adds, the district changes with the version read
    let (st, item) = send(
        &s,
        &sm,
        "POST",
        &format!("{path}/items"),
        json!({"kind": "project", "title": "老旧小区物业接管", "owner": "街道城管办 张科长", "due": "2026-12-31"}),
    );
    assert_eq!(st, 201, "{item}");
    assert_eq!(
        (item["status"].clone(), item["version"].clone()),
        (json!("open"), json!(1))
    );
    let (st, v) = send(
        &s,
        &sm,
        "POST",
        &format!("{path}/items"),
        json!({"kind": "plan", "title": "x", "owner": "y", "due": "2026-12-31"}),
    );
    assert_eq!((st, v["field"].clone()), (422, json!("kind")));
    let id = item["id"].as_i64().unwrap();
    let change = json!({"version": 1, "title": "老旧小区物业接管", "owner": "街道城管办 张科长",
        "due": "2026-12-31", "status": "in_progress", "progress": "3 个小区已签约"});
    let (st, v) = send(
        &s,
        &dm,
        "PUT",
        &format!("{path}/items/{id}"),
        change.clone(),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["version"].clone(), v["status_label"].clone()),
        (json!(2), json!("推进中"))
    );
    let (st, v) = send(&s, &sm, "PUT", &format!("{path}/items/{id}"), change);
    assert_eq!(st, 409, "{v}");
    let (st, _) = send(
        &s,
        &om,
        "POST",
        &format!("{path}/items"),
        json!({"kind": "problem", "title": "x", "owner": "y", "due": "2026-12-31"}),
    );
    assert_eq!(st, 404);

    // the file: standing, pre-warning, interview, lists, monitoring, changes
    let (st, w) = get(&s, &sup, &format!("{path}?period=2026-09"));
    assert_eq!(st, 200, "{w}");
    assert_eq!(w["standing"]["pre_warning"], true);
    assert_eq!(w["standing"]["period"], "2026-09");
    assert_eq!(w["pre_warnings"][0]["alert_id"], alert_id);
    assert_eq!(w["interviews"].as_array().unwrap().len(), 1);
    assert_eq!(w["projects"][0]["progress"], "3 个小区已签约");
    assert_eq!(w["project_progress"]["total"], 1);
    assert_eq!(w["project_progress"]["done"], 0);
    assert_eq!(w["problems"].as_array().unwrap().len(), 0);
    assert_eq!(w["can_interview"], true);
    let actions: Vec<(&str, &str)> = w["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["action"].as_str().unwrap(), c["by"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![("updated", "dm"), ("created", "sm"), ("filed", "dm")]
    );
    assert_eq!(w["changes"][0]["after"]["status"], "in_progress");
    assert_eq!(w["daily"].as_array().unwrap().len(), 30);
    assert_eq!(w["weekly"].as_array().unwrap().len(), 12);
    let monthly = w["monthly"].as_array().unwrap();
    assert_eq!(monthly.len(), 13);
    let sept = monthly.iter().find(|m| m["from"] == "2026-09-01").unwrap();
    // the month's volume is the street's tickets created in September
    let (_, list) = get(
        &s,
        &sup,
        &format!("/api/v1/tickets?street={street}&from=2026-09-01&to=2026-10-01&page_size=1"),
    );
    assert_eq!(sept["volume"], list["total"], "{sept} {}", list["total"]);
    assert!(sept["volume"].as_u64().unwrap() > 0);
    // the daily series ends today and sums, over September's days in it, to no more than the month
    let days = w["daily"].as_array().unwrap();
    assert_eq!(days.last().unwrap()["from"], "2026-10-05");
    let in_sept: u64 = days
        .iter()
        .filter(|d| d["from"].as_str().unwrap().starts_with("2026-09"))
        .map(|d| d["volume"].as_u64().unwrap())
        .sum();
    assert!(in_sept <= sept["volume"].as_u64().unwrap());
    // the street's own manager sees the file but may not interview
    let (st, mine) = get(&s, &sm, &path);
    assert_eq!(st, 200);
    assert_eq!(mine["can_interview"], false);
    assert_eq!(mine["standing"]["period"], "2026-09");
}

/// The pre-warning bodies a receiver got for `street` (waiting up to 30 s for the outbox).
fn pre_warnings_of(got: &Received, street: &str, wait: bool) -> Vec<(String, Value)> {
    let pick = || -> Vec<(String, Value)> {
        got.lock()
            .unwrap()
            .iter()
            .filter_map(|(sig, b)| {
                let v: Value = serde_json::from_str(b).ok()?;
                (v["level"] == "pre_warning" && v["unit"] == street).then(|| (sig.clone(), v))
            })
            .collect()
    };
    for _ in 0..if wait { 300 } else { 0 } {
        if !pick().is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    pick()
}

#[test]
fn a_pre_warning_reaches_the_streets_and_the_districts_webhook_subscriptions_through_the_outbox() {
    // 23:00 on 30 September in Beijing: September's pre-warnings come with October
    let s = server_full(
        |db| {
            ok(&[
                "generate",
                "--no-train",
                "--db",
                db.to_str().unwrap(),
                "--from",
                "2026-07",
                "--to",
                "2026-09",
                "--scale",
                "0.006",
                "--seed",
                "9",
            ]);
        },
        &[("sup1", "supervisor", None), ("admin1", "admin", None)],
        &["--test-clock", "2026-09-30T15:00:00Z"],
        &[],
    );
    let sup = login(&s, "sup1");
    let admin = login(&s, "admin1");
    // the street September's classification pre-warns, its district, and a street elsewhere
    let (st, cls) = get(&s, &sup, "/api/v1/governance/streets/2026-09");
    assert_eq!(st, 200, "{cls}");
    let rows = cls["streets"].as_array().unwrap();
    let warned = rows
        .iter()
        .find(|r| r["pre_warning"] == true)
        .expect("a September street is pre-warned");
    let street = warned["code"].as_str().unwrap().to_string();
    let district = warned["district"].as_str().unwrap().to_string();
    let elsewhere = rows
        .iter()
        .find(|r| r["district"] != district.as_str())
        .expect("a street of another district")["code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut hooks = Vec::new();
    for unit in [&street, &district, &elsewhere] {
        let (url, got) = receiver();
        let (st, v) = send(
            &s,
            &admin,
            "POST",
            "/api/v1/admin/webhooks",
            json!({"unit_code": unit, "url": url, "secret": "a-secret-of-sixteen-chars"}),
        );
        assert_eq!(st, 201, "{v}");
        hooks.push(got);
    }
    // October comes: the pass raises September's pre-warnings, the outbox delivers them
    let (st, v) = send(
        &s,
        &admin,
        "POST",
        "/api/v1/test-clock",
        json!({"advance_seconds": 3_600}),
    );
    assert_eq!(st, 200, "{v}");
    for got in &hooks[..2] {
        let seen = pre_warnings_of(got, &street, true);
        assert_eq!(
            seen.len(),
            1,
            "one delivery of the street's pre-warning: {seen:?}"
        );
        let (sig, body) = &seen[0];
        assert!(sig.starts_with("sha256="), "signed: {sig}");
        assert_eq!(body["kind"], "alert");
        assert_eq!(body["district"], district.as_str());
        assert_eq!(body["pre_warning"]["month"], "2026-09");
        assert!(body["pre_warning"]["volume_rank"].as_u64().unwrap() <= 10);
    }
    assert!(
        pre_warnings_of(&hooks[2], &street, false).is_empty(),
        "another district's subscription hears nothing of it"
    );
}
