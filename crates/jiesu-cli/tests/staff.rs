//! Staff pages: calibrated classify suggestions with a place suggestion,
//! the overview page's figures scoped for a unit manager, and the route's explanation in words.

mod common;
use common::*;
use serde_json::{json, Value};

#[test]
fn classify_hides_suggestions_below_the_floor_and_reads_the_place_from_the_text() {
    let s = server_with(
        |db| {
            let d = db.to_str().unwrap();
            ok(&[
                "generate",
                "--no-train",
                "--db",
                d,
                "--months",
                "1",
                "--scale",
                "0.001",
                "--seed",
                "3",
            ]);
            ok(&["train", "--db", d]);
        },
        &[("agent1", "agent", None)],
    );
    let agent = login(&s, "agent1");
    let body =
        json!({"text": "建外街道光华里小区楼下饭馆油烟很大，晚上排风扇噪音扰民"}).to_string();
    let mut c = Value::Null;
    for _ in 0..600 {
        let (st, _, v) = call(&s, "POST", "/api/v1/classify", Some(&agent), Some(&body));
        if st != 503 {
            assert_eq!(st, 200, "{v}");
            c = v;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let cat_floor = c["floors"]["category"].as_f64().unwrap();
    let unit_floor = c["floors"]["unit"].as_f64().unwrap();
    assert!(cat_floor > 0.03 && unit_floor > 0.03, "{c}");
    for x in c["category"].as_array().unwrap() {
        assert!(x["confidence"].as_f64().unwrap() >= cat_floor, "{x}");
    }
    // one unit list: each from a rule or the model, a model one never below the floor
    for u in c["unit"].as_array().unwrap() {
        match u["source"].as_str() {
            Some("rule") => {}
            Some("model") => assert!(u["confidence"].as_f64().unwrap() >= unit_floor, "{u}"),
            other => panic!("source {other:?}"),
        }
    }
    // the place: 光华里 of 建外街道 (朝阳区)
    let places = c["place"].as_array().unwrap();
    let first = &places[0];
    assert_eq!(first["street_code"], "110105001", "{c}");
    assert_eq!(first["district_code"], "110105", "{c}");
    assert_eq!(first["community_code"], "110105001027", "{c}");
    assert!(
        first["matched"].as_str().unwrap().contains("光华里"),
        "{first}"
    );
    // a text naming no place suggests none
    let body = json!({"text": "咨询一下居住证怎么办理"}).to_string();
    let (_, _, c) = call(&s, "POST", "/api/v1/classify", Some(&agent), Some(&body));
    assert_eq!(c["place"], json!([]), "{c}");
}

#[test]
fn the_overview_counts_todays_work_and_is_scoped_for_a_unit_manager() {
    let s = server(&[
        ("agent1", "agent", None),
        ("sup", "supervisor", None),
        ("disp", "dispatcher", None),
        ("mgr", "unit_manager", Some("110105001")),
        ("cb", "callback_agent", None),
        ("h1", "unit_handler", Some("110105001")),
    ]);
    let agent = login(&s, "agent1");
    complaint_dispatched_to(&s, &agent, "110105", "110105001", "13800000001");
    complaint_dispatched_to(&s, &agent, "110105", "110105001", "13800000002");
    complaint_dispatched_to(&s, &agent, "110108", "110108001", "13800000003");
    let (st, _, v) = call(&s, "GET", "/api/v1/overview", Some(&login(&s, "sup")), None);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["today"]["intake"], 3, "{v}");
    assert!(
        v["today"]["href"]
            .as_str()
            .unwrap()
            .starts_with("#/tickets?from="),
        "{v}"
    );
    let dispatched = v["open"]["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["status"] == "dispatched")
        .unwrap();
    assert_eq!(dispatched["count"], 3);
    assert_eq!(dispatched["href"], "#/tickets?status=dispatched");
    assert_eq!(v["overdue"]["count"], 0);
    let (st, _, v) = call(&s, "GET", "/api/v1/overview", Some(&login(&s, "mgr")), None);
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["today"]["intake"], 2,
        "the manager sees only their street: {v}"
    );
    assert_eq!(v["scope"], "110105001");
    assert!(
        v["overdue"]["href"]
            .as_str()
            .unwrap()
            .contains("unit=110105001"),
        "{v}"
    );
    let (st, _, _) = call(
        &s,
        "GET",
        "/api/v1/overview",
        Some(&login(&s, "disp")),
        None,
    );
    assert_eq!(st, 200);
    for who in ["cb", "h1", "agent1"] {
        let (st, _, v) = call(&s, "GET", "/api/v1/overview", Some(&login(&s, who)), None);
        assert_eq!(st, 403, "{who}: {v}");
    }
    // the due-soon share is policy, served with the enums
    let (_, _, e) = call(&s, "GET", "/api/v1/enums", None, None);
    assert!(
        (e["deadline_policy"]["due_soon_share"].as_f64().unwrap() - 0.2).abs() < 1e-9,
        "{e}"
    );
}
